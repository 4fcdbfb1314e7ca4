//! Duplicate detection: is the person at intake already a client, under a name written in
//! another script or another way? (issue 19)
//!
//! A [`Person`] is prepared once ([`Prepared::of`]: names into Latin keys, see
//! [`translit`]; dates, phones and sex normalised) and compared with prepared people:
//!
//! - **names**: every form (the name, the Latin name a worker entered) against every form;
//!   tokens are paired whatever their order, each pair within an edit allowance that grows
//!   with the length of the key (Damerau-Levenshtein on the keys, see `distance`); a name
//!   may lack one part the other has (a middle name); Persian script is compared with a
//!   Latin name by consonants, since it writes no short vowels; a name written as one word
//!   is also compared with the other written as several;
//! - **date of birth**: the same; within [`DOB_WINDOW_YEARS`] when either is approximate
//!   (or only a year); nearly the same when one digit differs or day and month are swapped;
//!   otherwise a contradiction;
//! - **sex**: female against male is a contradiction;
//! - **phones**: digits only, the last [`PHONE_DIGITS_COMPARED`] compared (so a country
//!   code, a trunk `0` or spaces do not matter);
//! - **household**: members named the same in both.
//!
//! Each finding adds or takes points ([`points`]); a score reaching [`LIKELY_AT`] is a
//! [`MatchBand::Likely`] match, one reaching [`POSSIBLE_AT`] a [`MatchBand::Possible`] one.
//! Without a similar name a match is at most possible. The reasons are codes with numbers
//! ([`MatchReason`]), never text holding client data: the app words them.
//!
//! Bounded: names are cut to [`translit::MAX_NAME_CHARS`] characters and
//! [`translit::MAX_TOKENS`] words; at most [`MAX_PHONES`] phones and [`MAX_HOUSEHOLD`]
//! household members of a person are used; [`find`] compares at most [`MAX_COMPARED`]
//! people and returns at most [`MAX_MATCHES`].
//!
//! Where it runs: on the phone, [`crate::CaseStore::possible_matches`] over the cases on
//! the device (each [`crate::store::CaseSummary`] carries its client's [`Prepared`]): a
//! scan, [`find`], a few milliseconds among 5,000 cases. At the server, when a case
//! arrives (`server/src/matching.rs`), among every client of the agency: there the
//! [`Index`] draws the candidates (blocking: people sharing words of the name within the
//! matcher's allowance, a whole name or a phone, see [`index`]) and only they are
//! compared; it answers exactly what [`find`] over every indexed person would.

mod distance;
pub mod index;
pub mod translit;

use serde::{Deserialize, Serialize};

pub use index::Index;
use translit::{tokens, Token};

/// A score at or above this is a likely match.
pub const LIKELY_AT: i32 = 70;
/// A score at or above this (and below [`LIKELY_AT`]) is a possible match.
pub const POSSIBLE_AT: i32 = 40;
/// Approximate dates of birth this many years apart (or fewer) may be the same person's.
pub const DOB_WINDOW_YEARS: u32 = 2;
/// The most phone numbers of one person compared.
pub const MAX_PHONES: usize = 8;
/// The most household members of one person compared.
pub const MAX_HOUSEHOLD: usize = 12;
/// A phone number with fewer digits is not compared.
pub const MIN_PHONE_DIGITS: usize = 7;
/// The trailing digits of a phone number compared (a country code and trunk prefix vary).
pub const PHONE_DIGITS_COMPARED: usize = 9;
/// The most people one check compares; the rest are not looked at.
pub const MAX_COMPARED: usize = 200_000;
/// The most matches one check returns (the best first).
pub const MAX_MATCHES: usize = 20;

/// What each finding is worth.
pub mod points {
    /// The same name (two or more words), all words equal after transliteration. Alone
    /// it is a possible match: namesakes are common; a date of birth, a phone or a
    /// household member makes it likely.
    pub const SAME_NAME: i32 = 60;
    /// The same one-word name.
    pub const SAME_SINGLE_NAME: i32 = 40;
    /// The same consonants (Persian script against a Latin name): the most that can
    /// agree between them, worth as much as a one-letter difference.
    pub const SAME_CONSONANTS: i32 = 55;
    /// A name one letter (after transliteration) from the other; each further letter
    /// takes [`PER_FURTHER_LETTER`].
    pub const NAME_ONE_LETTER: i32 = 55;
    pub const PER_FURTHER_LETTER: i32 = 5;
    /// One name has a part the other lacks (the rest matching); each letter of
    /// difference takes [`PER_FURTHER_LETTER`].
    pub const NAME_PART_MISSING: i32 = 45;
    pub const SAME_DOB: i32 = 30;
    /// Approximate dates at most a year apart; each further year takes
    /// [`DOB_PER_YEAR`].
    pub const DOB_IN_WINDOW: i32 = 15;
    pub const DOB_PER_YEAR: i32 = 5;
    /// Exact dates one digit apart, or with day and month swapped (a slip of the pen).
    pub const DOB_NEARLY: i32 = 10;
    pub const DOB_DIFFERS: i32 = -40;
    pub const GENDER_DIFFERS: i32 = -40;
    pub const SAME_PHONE: i32 = 30;
    /// Per household member named in both, up to [`MAX_HOUSEHOLD_POINTS`].
    pub const HOUSEHOLD_MEMBER: i32 = 10;
    pub const MAX_HOUSEHOLD_POINTS: i32 = 20;
}

/// How sure a match is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum MatchBand {
    /// Worth a look: some findings agree.
    Possible,
    /// Probably the same person: the worker should open the existing case first.
    Likely,
}

/// Why two people may be one: a code and its numbers, worded by the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum MatchReason {
    /// The same name; `transliterated` when one is written in another script.
    SameName {
        transliterated: bool,
    },
    /// A Persian-script name and a Latin one with the same consonants.
    SameNameConsonants,
    /// The names differ by `letters` letters (after transliteration when `transliterated`).
    NameDiffers {
        letters: u32,
        transliterated: bool,
    },
    /// The same words in another order (family name first or last).
    NameOrderSwapped,
    /// One name has `parts` words the other lacks (a middle name, a second family name).
    NamePartMissing {
        parts: u32,
    },
    SameDateOfBirth,
    /// Dates of birth `years` apart, at least one of them approximate.
    DateOfBirthWithinWindow {
        years: u32,
    },
    /// Dates of birth differing by one digit, or with day and month swapped.
    DateOfBirthNearlySame,
    /// Exact dates of birth that differ (counts against the match).
    DateOfBirthDiffers,
    /// Female and male (counts against the match).
    GenderDiffers,
    SamePhone,
    /// `count` household members with the same name in both.
    SharedHouseholdMembers {
        count: u32,
    },
}

impl Person {
    /// The person a new case is opened for (a new case has no phones or household yet).
    pub fn of_new_case(new: &crate::case::NewCase) -> Self {
        let c = &new.client;
        Person {
            name: c.name.clone().unwrap_or_default(),
            name_latin: c.name_latin.clone(),
            date_of_birth: c.date_of_birth.clone(),
            birth_date_approximate: c.birth_date_approximate.unwrap_or(false),
            gender: c.gender.clone(),
            phones: Vec::new(),
            household: Vec::new(),
        }
    }
}

impl Person {
    /// An existing case's client: the names, date of birth and sex, the phone and
    /// messenger contacts and the household members' names (retracted entries left out).
    pub fn of_client(c: &crate::case::model::Client) -> Self {
        Person {
            name: c.name.clone().unwrap_or_default(),
            name_latin: c.name_latin.clone(),
            date_of_birth: c.date_of_birth.clone(),
            birth_date_approximate: c.birth_date_approximate.unwrap_or(false),
            gender: c.gender.clone(),
            phones: c
                .contacts
                .iter()
                .filter(|c| c.retracted.is_none())
                .filter(|c| matches!(c.kind.as_deref(), Some("phone" | "messenger") | None))
                .filter_map(|c| c.value.clone())
                .collect(),
            household: c
                .household
                .iter()
                .filter(|m| m.retracted.is_none())
                .filter_map(|m| m.name.clone())
                .collect(),
        }
    }
}

/// A person to compare: from a new case at intake, or an existing case's client. Its
/// serialized form (short names, empty fields left out) is what the server keeps beside
/// each case for its duplicate check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    #[serde(rename = "n", default)]
    pub name: String,
    #[serde(rename = "l", default, skip_serializing_if = "Option::is_none")]
    pub name_latin: Option<String>,
    /// `YYYY-MM-DD`, `YYYY-MM` or `YYYY`.
    #[serde(rename = "d", default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<String>,
    #[serde(rename = "a", default, skip_serializing_if = "std::ops::Not::not")]
    pub birth_date_approximate: bool,
    /// A code of [`crate::schema::GENDERS`].
    #[serde(rename = "g", default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    #[serde(rename = "p", default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<String>,
    /// The names of household members.
    #[serde(rename = "h", default, skip_serializing_if = "Vec::is_empty")]
    pub household: Vec<String>,
}

/// A date of birth: month and day 0 when not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Dob(i32, u8, u8);

/// A person made ready for comparison (kept in the caseload index, sealed with it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prepared {
    #[serde(rename = "f", default)]
    forms: Vec<Vec<Token>>,
    #[serde(rename = "d", default, skip_serializing_if = "Option::is_none")]
    dob: Option<Dob>,
    #[serde(rename = "a", default, skip_serializing_if = "std::ops::Not::not")]
    approximate: bool,
    #[serde(rename = "g", default, skip_serializing_if = "Option::is_none")]
    gender: Option<char>,
    #[serde(rename = "p", default, skip_serializing_if = "Vec::is_empty")]
    phones: Vec<String>,
    #[serde(rename = "h", default, skip_serializing_if = "Vec::is_empty")]
    household: Vec<Vec<Token>>,
}

/// A case whose client may be the person at intake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PossibleMatch {
    pub case_id: String,
    pub client_name: String,
    pub band: MatchBand,
    /// 0 to 100: the sum of the findings' points (see [`points`]).
    pub score: u32,
    pub reasons: Vec<MatchReason>,
}

/// The outcome of comparing two people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub score: i32,
    pub band: MatchBand,
    pub reasons: Vec<MatchReason>,
}

impl Prepared {
    /// Prepares a person (see the module documentation for the limits).
    pub fn of(p: &Person) -> Self {
        let mut forms = vec![tokens(&p.name)];
        if let Some(l) = p.name_latin.as_deref() {
            forms.push(tokens(l));
        }
        forms.retain(|f| !f.is_empty());
        forms.dedup();
        let mut phones: Vec<String> = p
            .phones
            .iter()
            .take(MAX_PHONES)
            .filter_map(|n| phone(n))
            .collect();
        phones.sort();
        phones.dedup();
        Prepared {
            forms,
            dob: p.date_of_birth.as_deref().and_then(parse_dob),
            approximate: p.birth_date_approximate,
            gender: match p.gender.as_deref() {
                Some("female") => Some('f'),
                Some("male") => Some('m'),
                _ => None,
            },
            phones,
            household: p
                .household
                .iter()
                .take(MAX_HOUSEHOLD)
                .map(|n| tokens(n))
                .filter(|t| !t.is_empty())
                .collect(),
        }
    }

    /// Whether there is anything to compare (a name or a phone).
    pub fn is_empty(&self) -> bool {
        self.forms.is_empty() && self.phones.is_empty()
    }
}

/// The trailing digits of a phone number, in any of our users' digits; `None` when too
/// short to compare.
fn phone(n: &str) -> Option<String> {
    let digits: Vec<char> = n
        .chars()
        .filter_map(|c| {
            let v = match c {
                '0'..='9' => c as u32 - '0' as u32,
                '\u{0660}'..='\u{0669}' => c as u32 - 0x0660,
                '\u{06F0}'..='\u{06F9}' => c as u32 - 0x06F0,
                '\u{0E50}'..='\u{0E59}' => c as u32 - 0x0E50,
                _ => return None,
            };
            char::from_digit(v, 10)
        })
        .collect();
    if digits.len() < MIN_PHONE_DIGITS {
        return None;
    }
    Some(
        digits[digits.len().saturating_sub(PHONE_DIGITS_COMPARED)..]
            .iter()
            .collect(),
    )
}

fn same_phone(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    long.ends_with(short)
}

fn parse_dob(s: &str) -> Option<Dob> {
    let mut parts = s.trim().get(..10.min(s.trim().len()))?.split('-');
    let y: i32 = parts.next()?.parse().ok()?;
    let m: u8 = parts.next().map_or(Some(0), |m| m.parse().ok())?;
    let d: u8 = parts.next().map_or(Some(0), |d| d.parse().ok())?;
    ((1850..=2200).contains(&y) && m <= 12 && d <= 31).then_some(Dob(y, m, d))
}

/// How two names compare (lower is closer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NameCmp {
    missing: u32,
    consonants: bool,
    edits: u32,
    swapped: bool,
    transliterated: bool,
    words: usize,
}

impl NameCmp {
    fn rank(&self) -> (u32, bool, u32, bool) {
        (self.missing, self.consonants, self.edits, self.swapped)
    }

    fn points(&self) -> i32 {
        use points::*;
        if self.missing > 0 {
            NAME_PART_MISSING - PER_FURTHER_LETTER * self.edits as i32
        } else if self.edits == 0 && self.consonants {
            SAME_CONSONANTS
        } else if self.edits == 0 && self.words >= 2 {
            SAME_NAME
        } else if self.edits == 0 {
            SAME_SINGLE_NAME
        } else {
            NAME_ONE_LETTER - PER_FURTHER_LETTER * (self.edits as i32 - 1)
        }
    }

    fn reasons(&self, out: &mut Vec<MatchReason>) {
        if self.edits == 0 && self.consonants {
            out.push(MatchReason::SameNameConsonants);
        } else if self.edits == 0 {
            out.push(MatchReason::SameName {
                transliterated: self.transliterated,
            });
        } else {
            out.push(MatchReason::NameDiffers {
                letters: self.edits,
                transliterated: self.transliterated,
            });
        }
        if self.swapped {
            out.push(MatchReason::NameOrderSwapped);
        }
        if self.missing > 0 {
            out.push(MatchReason::NamePartMissing {
                parts: self.missing,
            });
        }
    }
}

/// Edits allowed between two keys of this length (the longer).
fn allowance(len: usize) -> usize {
    match len {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// Edits allowed between two consonant skeletons of this length.
fn skeleton_allowance(len: usize) -> usize {
    match len {
        0..=2 => 0,
        3..=5 => 1,
        _ => 2,
    }
}

/// Compares two strings of keys within an allowance; the letter sets rule most pairs out
/// before any distance is computed (an edit changes at most two letters of the set).
fn close(a: &str, b: &str, mask_a: u32, mask_b: u32, allow: usize) -> Option<u32> {
    if (mask_a ^ mask_b).count_ones() as usize > 2 * allow {
        return None;
    }
    distance::within(a, b, allow).map(|d| d as u32)
}

/// Two tokens: their edits, and whether they were compared by consonants only.
fn token_pair(x: &Token, y: &Token) -> Option<(u32, bool)> {
    token_pair_masked(
        x,
        x.mask(),
        x.skeleton_mask(),
        y,
        y.mask(),
        y.skeleton_mask(),
    )
}

/// [`token_pair`] with the tokens' letter sets already known (the blocking index keeps
/// them per word).
fn token_pair_masked(
    x: &Token,
    x_mask: u32,
    x_skeleton_mask: u32,
    y: &Token,
    y_mask: u32,
    y_skeleton_mask: u32,
) -> Option<(u32, bool)> {
    if x.arabic != y.arabic {
        let len = x.skeleton.len().min(y.skeleton.len());
        if len == 0 {
            return None;
        }
        let allow = skeleton_allowance(len);
        close(
            &x.skeleton,
            &y.skeleton,
            x_skeleton_mask,
            y_skeleton_mask,
            allow,
        )
        .map(|d| (d, true))
    } else {
        let allow = allowance(x.key.len().max(y.key.len()));
        close(&x.key, &y.key, x_mask, y_mask, allow).map(|d| (d, false))
    }
}

/// A name written as one word is compared with another written as several when both,
/// joined, have at least this many letters.
const JOINED_MIN_CHARS: usize = 6;

/// A form's words joined into one ("محمدعلی" against "Mohammad Ali").
fn joined(f: &[Token]) -> Token {
    Token {
        key: f.iter().map(|t| t.key.as_str()).collect(),
        skeleton: f.iter().map(|t| t.skeleton.as_str()).collect(),
        arabic: f.iter().any(|t| t.arabic),
        non_latin: f.iter().any(|t| t.non_latin),
    }
}

/// Compares two forms of names, word order aside.
fn compare_forms(a: &[Token], b: &[Token]) -> Option<NameCmp> {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let transliterated = short.iter().any(|t| t.non_latin) != long.iter().any(|t| t.non_latin);
    let words = short.len();
    // At most one word missing, and a one-word name does not match part of a longer one.
    let comparable =
        !short.is_empty() && long.len() - short.len() <= 1 && (short.len() > 1 || long.len() == 1);
    let paired = if comparable {
        pair_tokens(short, long)
    } else {
        None
    };
    if let Some((edits, consonants, swapped)) = paired {
        return Some(NameCmp {
            missing: (long.len() - short.len()) as u32,
            consonants,
            edits,
            swapped,
            transliterated,
            words,
        });
    }
    // Written as one word on one side ("محمدعلی", "Mohammad Ali").
    if a.len() != b.len() {
        let (x, y) = (joined(a), joined(b));
        if x.key.len().min(y.key.len()) >= JOINED_MIN_CHARS {
            if let Some((edits, consonants)) = token_pair(&x, &y) {
                return Some(NameCmp {
                    missing: 0,
                    consonants,
                    edits,
                    swapped: false,
                    transliterated,
                    words: 2,
                });
            }
        }
    }
    None
}

/// Pairs every token of `short` with one of `long`, closest pairs first. Returns the
/// total edits, whether any pair was compared by consonants, and whether the order
/// differs; `None` if a token of `short` has no partner within its allowance.
fn pair_tokens(short: &[Token], long: &[Token]) -> Option<(u32, bool, bool)> {
    let mut cand: Vec<(u32, usize, usize, bool)> = Vec::with_capacity(short.len() * long.len());
    for (i, x) in short.iter().enumerate() {
        let mut any = false;
        for (j, y) in long.iter().enumerate() {
            if let Some((d, c)) = token_pair(x, y) {
                cand.push((d, i, j, c));
                any = true;
            }
        }
        if !any {
            return None;
        }
    }
    cand.sort_unstable_by_key(|&(d, i, j, _)| (d, i.abs_diff(j), i, j));
    let mut partner = [usize::MAX; translit::MAX_TOKENS];
    let mut used = [false; translit::MAX_TOKENS];
    let (mut edits, mut consonants) = (0, false);
    for (d, i, j, c) in cand {
        if partner[i] == usize::MAX && !used[j] {
            partner[i] = j;
            used[j] = true;
            edits += d;
            consonants |= c;
        }
    }
    let partner = &partner[..short.len()];
    if partner.contains(&usize::MAX) {
        return None;
    }
    let swapped = partner.windows(2).any(|w| w[0] > w[1]);
    Some((edits, consonants, swapped))
}

/// The closest comparison of any form of one name with any form of the other.
fn compare_names(a: &[Vec<Token>], b: &[Vec<Token>]) -> Option<NameCmp> {
    let mut best: Option<NameCmp> = None;
    for x in a {
        for y in b {
            if let Some(c) = compare_forms(x, y) {
                if best.is_none_or(|b| c.rank() < b.rank()) {
                    best = Some(c);
                }
            }
        }
    }
    best
}

fn compare_dob(a: &Prepared, b: &Prepared) -> Option<(i32, MatchReason)> {
    let (x, y) = (a.dob?, b.dob?);
    let partial = x.1 == 0 || x.2 == 0 || y.1 == 0 || y.2 == 0;
    // Two estimates written the same way ("1988-01-01") are still estimates.
    if a.approximate || b.approximate || partial {
        let years = x.0.abs_diff(y.0);
        return Some(if years <= DOB_WINDOW_YEARS {
            (
                points::DOB_IN_WINDOW - points::DOB_PER_YEAR * years.saturating_sub(1) as i32,
                MatchReason::DateOfBirthWithinWindow { years },
            )
        } else {
            (points::DOB_DIFFERS, MatchReason::DateOfBirthDiffers)
        });
    }
    if x == y {
        return Some((points::SAME_DOB, MatchReason::SameDateOfBirth));
    }
    let digits = |d: Dob| format!("{:04}{:02}{:02}", d.0, d.1, d.2);
    let differing = digits(x)
        .bytes()
        .zip(digits(y).bytes())
        .filter(|(p, q)| p != q)
        .count();
    let swapped = x.0 == y.0 && x.1 == y.2 && x.2 == y.1;
    Some(if differing == 1 || swapped {
        (points::DOB_NEARLY, MatchReason::DateOfBirthNearlySame)
    } else {
        (points::DOB_DIFFERS, MatchReason::DateOfBirthDiffers)
    })
}

/// Compares two people; `None` when they do not reach [`POSSIBLE_AT`].
pub fn compare(a: &Prepared, b: &Prepared) -> Option<Assessment> {
    let mut reasons = Vec::new();
    let mut score = 0;
    let name = compare_names(&a.forms, &b.forms);
    if let Some(n) = &name {
        score += n.points();
        n.reasons(&mut reasons);
    }
    let phone = a
        .phones
        .iter()
        .any(|p| b.phones.iter().any(|q| same_phone(p, q)));
    // Without a similar name or a shared phone, nothing else makes a match.
    if name.is_none() && !phone {
        return None;
    }
    if let Some((p, r)) = compare_dob(a, b) {
        score += p;
        reasons.push(r);
    }
    if let (Some(x), Some(y)) = (a.gender, b.gender) {
        if x != y {
            score += points::GENDER_DIFFERS;
            reasons.push(MatchReason::GenderDiffers);
        }
    }
    if phone {
        score += points::SAME_PHONE;
        reasons.push(MatchReason::SamePhone);
    }
    let shared = a
        .household
        .iter()
        .filter(|m| {
            b.household.iter().any(|n| {
                compare_forms(m, n).is_some_and(|c| c.missing == 0 && !c.consonants && c.edits <= 1)
            })
        })
        .count() as u32;
    if shared > 0 {
        score += (points::HOUSEHOLD_MEMBER * shared as i32).min(points::MAX_HOUSEHOLD_POINTS);
        reasons.push(MatchReason::SharedHouseholdMembers { count: shared });
    }
    let band = if score >= LIKELY_AT && name.is_some() {
        MatchBand::Likely
    } else if score >= POSSIBLE_AT {
        MatchBand::Possible
    } else {
        return None;
    };
    Some(Assessment {
        score: score.min(100),
        band,
        reasons,
    })
}

/// The people among `existing` who may be `candidate`, best first (by score, then id),
/// at most [`MAX_MATCHES`], after comparing at most [`MAX_COMPARED`].
pub fn find<'a, K: Ord + Clone + 'a>(
    candidate: &Prepared,
    existing: impl IntoIterator<Item = (&'a K, &'a Prepared)>,
) -> Vec<(K, Assessment)> {
    if candidate.is_empty() {
        return Vec::new();
    }
    let found = existing
        .into_iter()
        .take(MAX_COMPARED)
        .filter_map(|(k, p)| compare(candidate, p).map(|a| (k.clone(), a)))
        .collect();
    best_first(found)
}

/// Matches best first (by score, then key), at most [`MAX_MATCHES`].
fn best_first<K: Ord>(mut found: Vec<(K, Assessment)>) -> Vec<(K, Assessment)> {
    found.sort_by(|(k1, a1), (k2, a2)| a2.score.cmp(&a1.score).then_with(|| k1.cmp(k2)));
    found.truncate(MAX_MATCHES);
    found
}

/// What the server decided about a possible match between two of its cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum MatchStatus {
    /// Found, not yet looked at by a supervisor.
    Open,
    /// The same person: one case was closed as a duplicate of the other.
    Confirmed,
    /// Not the same person: never proposed again for this pair.
    Dismissed,
}

impl MatchStatus {
    /// The code stored and sent.
    pub fn code(self) -> &'static str {
        match self {
            MatchStatus::Open => "open",
            MatchStatus::Confirmed => "confirmed",
            MatchStatus::Dismissed => "dismissed",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "open" => Some(MatchStatus::Open),
            "confirmed" => Some(MatchStatus::Confirmed),
            "dismissed" => Some(MatchStatus::Dismissed),
            _ => None,
        }
    }
}

/// A case of the agency whose client may be the same person, one the asking user may
/// see: named (`GET /v1/cases/{id}/matches`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct AgencyMatch {
    pub case_id: String,
    pub client_name: String,
    pub band: MatchBand,
    pub score: u32,
    pub reasons: Vec<MatchReason>,
    pub status: MatchStatus,
}

/// A possible match in a case the asking user may not see (another team's, a restricted
/// one): only the team it is in, whose supervisor to ask. No name, no case id, no reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct MatchElsewhere {
    /// What the team is called.
    pub team: String,
}

/// The server's answer about one case: the possible matches it found in the agency when
/// the case arrived (dismissed ones left out).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct AgencyMatches {
    pub case_id: String,
    pub matches: Vec<AgencyMatch>,
    /// One entry per team holding a match the user may not see.
    pub elsewhere: Vec<MatchElsewhere>,
}

/// How a related case is related to the case asked about (issue 19: links between cases,
/// both ways).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// This case's household lists its client, pointing to the member's own case.
    ListedHere,
    /// Its household lists this case's client, pointing to this case.
    ListsThisClient,
    /// This case was closed as a duplicate of it: the client's file goes on there.
    ContinuesIn,
    /// It was closed as a duplicate of this case: the client's file goes on here.
    DuplicateHere,
}

impl Relation {
    pub fn code(self) -> &'static str {
        match self {
            Relation::ListedHere => "listed_here",
            Relation::ListsThisClient => "lists_this_client",
            Relation::ContinuesIn => "continues_in",
            Relation::DuplicateHere => "duplicate_here",
        }
    }
}

/// A case related to the one asked about that the asking user may see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RelatedCase {
    pub case_id: String,
    /// Its client's name; initials only for a restricted case (do no harm: the name is
    /// shown on that case's own record, where showing it is on the record).
    pub client_name: String,
    pub restricted: bool,
    pub relation: Relation,
    /// For a household link: how the member's client is related to the client of the case
    /// that lists them (a code of [`crate::schema::CASE_RELATIONS`]), as the worker wrote
    /// it.
    pub case_relation: Option<String>,
}

/// The server's answer about the cases related to one case (`GET /v1/cases/{id}/related`):
/// those the user may see, named; those the user may not see only as the team to ask, once
/// per team.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RelatedCases {
    pub case_id: String,
    pub related: Vec<RelatedCase>,
    pub elsewhere: Vec<MatchElsewhere>,
}

#[cfg(test)]
mod tests;
