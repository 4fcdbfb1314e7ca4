//! Blocking for the duplicate check: which people are worth comparing with a new one, so
//! that a check at the server compares a few hundred people, not every client of the
//! agency (issue 19: under 50 ms among 100,000).
//!
//! [`Index`] holds prepared people by key and three inverted lists from which it draws the
//! candidates of a check, then compares only those with [`super::compare`]:
//!
//! - **words**: every distinct word of every name form (its transliterated key, see
//!   [`super::translit`]) with the people whose names hold it. A check looks up, for each
//!   word of the new name, the indexed words that pair with it under the matcher's own
//!   rule (the same edit allowance, consonants between Persian script and Latin; the
//!   vocabulary is read, not hashed, so a typo anywhere in a word is no obstacle, but only
//!   the words whose length is within the allowance of the word's own: kept by length,
//!   a look-up reads about a fifth of them). A
//!   person becomes a candidate when every word of one of the new name's forms found a
//!   partner in them, or every word but one when they have a name of one word fewer (a
//!   part missing: the matcher allows one);
//! - **whole names**: each form's words joined into one, for a name written as one word on
//!   one side ("محمدعلی", "Mohammad Ali"), compared the same way;
//! - **phones**: the last [`PHONE_KEY_DIGITS`] digits of each normalised phone.
//!
//! These are necessary conditions of the matcher: two people [`super::compare`] finds a
//! similar name or a shared phone in are always candidates of each other, so a check
//! answers exactly what comparing with every indexed person would ([`super::find`]), in
//! both bands (a test holds the two together on a generated set). Dates of birth, sex and
//! household are left to the comparison: none of them makes a match without a name or a
//! phone.
//!
//! Updates and removals keep the lists exact: [`Index::insert`] of a key already held
//! replaces its person, [`Index::remove`] takes the key out of every list (an erased case
//! leaves nothing of its client in memory); a word no one holds any more is dropped.
//!
//! Memory: beside the prepared people, 4 bytes per word, whole name and phone of each
//! person in the lists, a byte for the lengths of their name forms, and one entry per
//! distinct word or whole name (shared by everyone who holds it, listed by its lengths:
//! 16 bytes more); `match_eval` measures
//! it per person (158 bytes beside 460 for the prepared person, on its generated set).

use std::collections::HashMap;
use std::hash::Hash;

use super::translit::{Token, MAX_TOKENS};
use super::{
    allowance, best_first, compare, joined, skeleton_allowance, token_pair_masked, Assessment,
    Prepared, JOINED_MIN_CHARS,
};

/// The trailing digits of a phone the lists are keyed on: the matcher's phones are the
/// last digits of a number, at least [`super::MIN_PHONE_DIGITS`], and two are the same
/// when one ends with the other, so two such phones share their last seven digits.
pub const PHONE_KEY_DIGITS: usize = super::MIN_PHONE_DIGITS;

/// A word (or a whole name) and the people holding it.
#[derive(Debug)]
struct Word {
    token: Token,
    mask: u32,
    skeleton_mask: u32,
    slots: Vec<u32>,
    /// Where it is in its key length's list, and in its skeleton length's (when it has
    /// consonants).
    at_key: u32,
    at_skeleton: u32,
}

/// A word in a length's list: its letter set and where it is.
#[derive(Debug, Clone, Copy)]
struct Entry {
    mask: u32,
    id: u32,
}

/// Distinct words and the people holding each, with lists by length: two words pair only
/// when their lengths differ by no more than the edits allowed between them (the
/// distance itself answers "too far" on that ground), so a look-up reads the lists of
/// the few lengths that can pair, not the whole vocabulary.
#[derive(Debug, Default)]
struct Vocabulary {
    ids: HashMap<Token, u32>,
    /// By id; `None` once no one holds the word (its id is used again for the next new
    /// one).
    words: Vec<Option<Word>>,
    free: Vec<u32>,
    /// Per script (`arabic` or not) and length of the key (bytes): the words compared
    /// with a word of the same script.
    by_key: [Vec<Vec<Entry>>; 2],
    /// Per script and length of the consonant skeleton: the words compared with a word
    /// of the other script. Words with no consonants pair with none there.
    by_skeleton: [Vec<Vec<Entry>>; 2],
}

/// Adds an entry to the list of a length (made when first needed); answers where it is.
fn list(lists: &mut Vec<Vec<Entry>>, len: usize, entry: Entry) -> u32 {
    if lists.len() <= len {
        lists.resize_with(len + 1, Vec::new);
    }
    lists[len].push(entry);
    (lists[len].len() - 1) as u32
}

/// Takes the entry at `at` out of the list of a length; the entry moved into its place
/// learns where it is now (no list is searched: a write re-indexes its client).
fn unlist(
    lists: &mut [Vec<Entry>],
    len: usize,
    at: u32,
    words: &mut [Option<Word>],
    skeleton: bool,
) {
    let Some(list) = lists.get_mut(len) else {
        return;
    };
    if (at as usize) < list.len() {
        list.swap_remove(at as usize);
    }
    if let Some(moved) = list.get(at as usize) {
        if let Some(w) = words[moved.id as usize].as_mut() {
            if skeleton {
                w.at_skeleton = at;
            } else {
                w.at_key = at;
            }
        }
    }
}

impl Vocabulary {
    /// Adds a person's word. A person's words are added together, so a word they hold
    /// twice is already last in its list.
    fn add(&mut self, token: &Token, slot: u32) {
        let id = match self.ids.get(token) {
            Some(&id) => id,
            None => {
                let id = match self.free.pop() {
                    Some(id) => id,
                    None => {
                        self.words.push(None);
                        (self.words.len() - 1) as u32
                    }
                };
                let (mask, skeleton_mask) = (token.mask(), token.skeleton_mask());
                let script = usize::from(token.arabic);
                let at_key = list(
                    &mut self.by_key[script],
                    token.key.len(),
                    Entry { mask, id },
                );
                let at_skeleton = if token.skeleton.is_empty() {
                    u32::MAX
                } else {
                    let entry = Entry {
                        mask: skeleton_mask,
                        id,
                    };
                    list(&mut self.by_skeleton[script], token.skeleton.len(), entry)
                };
                self.words[id as usize] = Some(Word {
                    token: token.clone(),
                    mask,
                    skeleton_mask,
                    slots: Vec::new(),
                    at_key,
                    at_skeleton,
                });
                self.ids.insert(token.clone(), id);
                id
            }
        };
        if let Some(word) = self.words[id as usize].as_mut() {
            if word.slots.last() != Some(&slot) {
                word.slots.push(slot);
            }
        }
    }

    /// Takes a person out of a word's list; a word no one holds goes (nothing of it stays
    /// in memory: an erased case's client leaves no word behind).
    fn remove(&mut self, token: &Token, slot: u32) {
        let Some(&id) = self.ids.get(token) else {
            return;
        };
        let Some(word) = self.words[id as usize].as_mut() else {
            return;
        };
        if let Some(at) = word.slots.iter().position(|&s| s == slot) {
            word.slots.swap_remove(at);
        }
        if word.slots.is_empty() {
            let (at_key, at_skeleton) = (word.at_key, word.at_skeleton);
            self.words[id as usize] = None;
            self.ids.remove(token);
            let script = usize::from(token.arabic);
            let words = &mut self.words;
            unlist(
                &mut self.by_key[script],
                token.key.len(),
                at_key,
                words,
                false,
            );
            if !token.skeleton.is_empty() {
                let len = token.skeleton.len();
                unlist(&mut self.by_skeleton[script], len, at_skeleton, words, true);
            }
            self.free.push(id);
        }
    }

    /// Calls `hit` with the people holding a word that pairs with `token`: the words of
    /// its script whose keys are near enough in length, and those of the other script
    /// whose skeletons are; each is then judged by the matcher's own rule.
    fn partners(&self, token: &Token, mut hit: impl FnMut(&[u32])) {
        let (mask, skeleton_mask) = (token.mask(), token.skeleton_mask());
        let script = usize::from(token.arabic);
        let mut judge =
            |lists: &[Vec<Entry>], len: usize, own: u32, most: &dyn Fn(usize) -> usize| {
                for other in len.saturating_sub(2)..=len + 2 {
                    let allow = most(other);
                    if len.abs_diff(other) > allow {
                        continue;
                    }
                    for e in lists.get(other).into_iter().flatten() {
                        if (e.mask ^ own).count_ones() as usize > 2 * allow {
                            continue;
                        }
                        let Some(w) = &self.words[e.id as usize] else {
                            continue;
                        };
                        if token_pair_masked(
                            token,
                            mask,
                            skeleton_mask,
                            &w.token,
                            w.mask,
                            w.skeleton_mask,
                        )
                        .is_some()
                        {
                            hit(&w.slots);
                        }
                    }
                }
            };
        let key = token.key.len();
        judge(&self.by_key[script], key, mask, &|other| {
            allowance(key.max(other))
        });
        let skeleton = token.skeleton.len();
        if skeleton > 0 {
            judge(
                &self.by_skeleton[1 - script],
                skeleton,
                skeleton_mask,
                &|other| skeleton_allowance(skeleton.min(other)),
            );
        }
    }

    fn len(&self) -> usize {
        self.ids.len()
    }
}

/// People prepared for comparison, by key, with the lists a check draws its candidates
/// from (see the module documentation). `V` is what is kept per person: a [`Prepared`]
/// or a caller's entry holding one.
#[derive(Debug)]
pub struct Index<K, V = Prepared> {
    entries: Vec<Option<(K, V)>>,
    /// Per slot, the word counts of the person's forms (bit `m` for `m` words).
    lengths: Vec<u8>,
    free: Vec<u32>,
    slot_of: HashMap<K, u32>,
    words: Vocabulary,
    names: Vocabulary,
    phones: HashMap<u32, Vec<u32>>,
}

impl<K, V> Default for Index<K, V> {
    fn default() -> Self {
        Index {
            entries: Vec::new(),
            lengths: Vec::new(),
            free: Vec::new(),
            slot_of: HashMap::new(),
            words: Vocabulary::default(),
            names: Vocabulary::default(),
            phones: HashMap::new(),
        }
    }
}

/// Whether a person in whom `found` words of a form of `n` words found a partner may
/// have a similar name, `lengths` being the person's forms' word counts (bit `m` for a
/// form of `m` words). The matcher pairs every word of the shorter form, and a form of
/// one word only with another of one word: all `n` words must find a partner, or all but
/// one when the person has a form of `n - 1` words (at least two) that may lack it.
fn enough_words(found: u32, n: usize, lengths: u8) -> bool {
    let n = n as u32;
    found >= n || (n >= 3 && found + 1 >= n && lengths & (1 << (n - 1)) != 0)
}

/// The key of a phone in the lists.
fn phone_key(p: &str) -> Option<u32> {
    p.get(p.len().checked_sub(PHONE_KEY_DIGITS)?..)?
        .parse()
        .ok()
}

/// A form's words joined, when long enough to be compared that way.
fn whole_name(form: &[Token]) -> Option<Token> {
    Some(joined(form)).filter(|t| t.key.len() >= JOINED_MIN_CHARS)
}

impl<K: Clone + Eq + Hash + Ord, V: AsRef<Prepared>> Index<K, V> {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many people are indexed.
    pub fn len(&self) -> usize {
        self.slot_of.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slot_of.is_empty()
    }

    pub fn contains_key(&self, key: &K) -> bool {
        self.slot_of.contains_key(key)
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        let slot = *self.slot_of.get(key)?;
        self.entries[slot as usize].as_ref().map(|(_, v)| v)
    }

    /// Every person, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.entries.iter().flatten().map(|(k, v)| (k, v))
    }

    /// How many distinct words and whole names the lists hold (for the benchmark).
    pub fn vocabulary(&self) -> (usize, usize) {
        (self.words.len(), self.names.len())
    }

    /// Indexes a person under `key`, replacing (and answering) the one held before.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        let old = self.remove(&key);
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.entries.push(None);
                self.lengths.push(0);
                (self.entries.len() - 1) as u32
            }
        };
        let p = value.as_ref();
        self.lengths[slot as usize] = p
            .forms
            .iter()
            .fold(0, |m, f| m | 1u8.checked_shl(f.len() as u32).unwrap_or(0));
        for form in &p.forms {
            for t in form {
                self.words.add(t, slot);
            }
            if let Some(name) = whole_name(form) {
                self.names.add(&name, slot);
            }
        }
        for key in p.phones.iter().filter_map(|p| phone_key(p)) {
            let list = self.phones.entry(key).or_default();
            if list.last() != Some(&slot) {
                list.push(slot);
            }
        }
        self.slot_of.insert(key.clone(), slot);
        self.entries[slot as usize] = Some((key, value));
        old
    }

    /// Takes a person out of the index and every list.
    pub fn remove(&mut self, key: &K) -> Option<V> {
        let slot = self.slot_of.remove(key)?;
        let (_, value) = self.entries[slot as usize].take()?;
        let p = value.as_ref();
        for form in &p.forms {
            for t in form {
                self.words.remove(t, slot);
            }
            if let Some(name) = whole_name(form) {
                self.names.remove(&name, slot);
            }
        }
        for key in p.phones.iter().filter_map(|p| phone_key(p)) {
            if let Some(list) = self.phones.get_mut(&key) {
                list.retain(|&s| s != slot);
                if list.is_empty() {
                    self.phones.remove(&key);
                }
            }
        }
        self.free.push(slot);
        Some(value)
    }

    /// The slots of the people worth comparing with `candidate`, each once.
    fn candidate_slots(&self, candidate: &Prepared) -> Vec<u32> {
        let n = self.entries.len();
        // Per person, the words of the form at hand that found a partner in them.
        let mut found = vec![0u8; n];
        let mut chosen = vec![false; n];
        let mut touched: Vec<u32> = Vec::new();
        let mut out: Vec<u32> = Vec::new();
        let mut choose = |s: u32, out: &mut Vec<u32>| {
            if !std::mem::replace(&mut chosen[s as usize], true) {
                out.push(s);
            }
        };
        for form in &candidate.forms {
            debug_assert!(form.len() <= MAX_TOKENS && MAX_TOKENS < 8);
            for (i, t) in form.iter().enumerate() {
                self.words.partners(t, |slots| {
                    for &s in slots {
                        let f = &mut found[s as usize];
                        if *f == 0 {
                            touched.push(s);
                        }
                        *f |= 1 << i;
                    }
                });
            }
            for s in touched.drain(..) {
                let lengths = self.lengths[s as usize];
                if enough_words(found[s as usize].count_ones(), form.len(), lengths) {
                    choose(s, &mut out);
                }
                found[s as usize] = 0;
            }
            if let Some(name) = whole_name(form) {
                self.names.partners(&name, |slots| {
                    for &s in slots {
                        choose(s, &mut out);
                    }
                });
            }
        }
        for key in candidate.phones.iter().filter_map(|p| phone_key(p)) {
            for &s in self.phones.get(&key).into_iter().flatten() {
                choose(s, &mut out);
            }
        }
        out
    }

    /// The keys of the people worth comparing with `candidate` (a superset of those
    /// [`super::compare`] matches), in no particular order.
    pub fn candidates(&self, candidate: &Prepared) -> Vec<&K> {
        self.candidate_slots(candidate)
            .into_iter()
            .filter_map(|s| self.entries[s as usize].as_ref().map(|(k, _)| k))
            .collect()
    }

    /// The indexed people who may be `candidate` (`skip` left out), best first, at most
    /// [`super::MAX_MATCHES`]: what [`super::find`] answers over every indexed person.
    pub fn find(&self, candidate: &Prepared, skip: Option<&K>) -> Vec<(K, Assessment)> {
        if candidate.is_empty() {
            return Vec::new();
        }
        let found = self
            .candidate_slots(candidate)
            .into_iter()
            .filter_map(|s| self.entries[s as usize].as_ref())
            .filter(|(k, _)| Some(k) != skip)
            .filter_map(|(k, v)| compare(candidate, v.as_ref()).map(|a| (k.clone(), a)))
            .collect();
        best_first(found)
    }
}

impl AsRef<Prepared> for Prepared {
    fn as_ref(&self) -> &Prepared {
        self
    }
}

impl<K: Clone + Eq + Hash + Ord, V: AsRef<Prepared>> FromIterator<(K, V)> for Index<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut index = Index::default();
        for (k, v) in iter {
            index.insert(k, v);
        }
        index
    }
}

#[cfg(test)]
mod tests {
    use super::super::{find, MatchBand, Person};
    use super::*;

    fn born(name: &str, dob: &str) -> Person {
        Person {
            name: name.into(),
            date_of_birth: Some(dob.into()),
            ..Person::default()
        }
    }

    /// People who are nobody's variant, to block against.
    fn others() -> Vec<Person> {
        [
            "Фёдорова Мария",
            "Иваненко Олег",
            "Trần Văn Minh",
            "Lê Thị Mai",
            "มาลี ศรีสุข",
            "زهرا موسوی",
            "Petrov Ivan",
            "Somsri Boonma",
        ]
        .iter()
        .map(|n| born(n, "1980-01-01"))
        .collect()
    }

    #[test]
    fn variants_are_candidates_of_each_other() {
        let pairs: &[(&str, &str)] = &[
            ("Фёдорова Анна", "Fedorova Anna"),
            ("Nguyễn Thị Lan", "Nguyen Thi Lan"),
            // Arabic and Persian letter forms (ي/ی, ك/ک).
            ("علي كريمي", "علی کریمی"),
            ("محمد حسینی", "Mohammad Hosseini"),
            ("สมชาย ใจดี", "Somchai Jaidee"),
            ("Lan Nguyen Thi", "Nguyễn Thị Lan"),
            // One letter off, also the first letter, and in both words.
            ("Fedorva Anna", "Фёдорова Анна"),
            ("Gedorova Anna", "Fedorova Anna"),
            ("Fedorvoa Annna", "Фёдорова Анна"),
            // A middle name missing; written as one word.
            ("Nguyen Lan", "Nguyễn Thị Lan"),
            ("محمدعلی کریمی", "محمد علی کریمی"),
        ];
        for (a, b) in pairs {
            for (x, y) in [(a, b), (b, a)] {
                let mut index: Index<usize> = others()
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (i + 1, Prepared::of(p)))
                    .collect();
                index.insert(0, Prepared::of(&born(x, "1980-01-01")));
                let query = Prepared::of(&born(y, "1980-01-01"));
                assert!(
                    index.candidates(&query).contains(&&0),
                    "{y} does not draw {x}"
                );
                assert_eq!(
                    index.find(&query, None).first().map(|(k, a)| (*k, a.band)),
                    Some((0, MatchBand::Likely)),
                    "{y} against {x}"
                );
            }
        }
    }

    #[test]
    fn blocking_leaves_out_a_shared_family_name_and_finds_a_shared_phone() {
        let index: Index<usize> = others()
            .iter()
            .enumerate()
            .map(|(i, p)| (i, Prepared::of(p)))
            .collect();
        let query = Prepared::of(&born("Fedorova Anna", "1980-01-01"));
        assert!(
            index.candidates(&query).is_empty(),
            "only a family name in common"
        );
        let phone = |name: &str, number: &str| Person {
            phones: vec![number.into()],
            ..born(name, "1980-01-01")
        };
        let mut index = index;
        index.insert(9, Prepared::of(&phone("Someone Else", "+380 50 123 4567")));
        let query = Prepared::of(&phone("Fedorova Anna", "050-123-45-67"));
        assert_eq!(index.candidates(&query), [&9]);
    }

    /// SplitMix64, to draw people.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) % n as u64) as usize
        }
        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len())]
        }
    }

    const GIVEN: &[&str] = &[
        "Анна",
        "Anna",
        "Мария",
        "Mariia",
        "Олег",
        "Oleh",
        "Юлия",
        "Yuliya",
        "Lan",
        "Minh",
        "Mai",
        "Thị",
        "Thi",
        "Văn",
        "สมชาย",
        "Somchai",
        "มาลี",
        "Malee",
        "محمد",
        "Mohammad",
        "علی",
        "علي",
        "Ali",
        "فاطمه",
        "فاطمة",
        "Fatemeh",
        "زهرا",
        "Zahra",
    ];
    const FAMILY: &[&str] = &[
        "Фёдорова",
        "Федорова",
        "Fedorova",
        "Иваненко",
        "Ivanenko",
        "Шевченко",
        "Shevchenko",
        "Nguyễn",
        "Nguyen",
        "Trần",
        "Tran",
        "ใจดี",
        "Jaidee",
        "ศรีสุข",
        "Srisuk",
        "حسینی",
        "Hosseini",
        "رضایی",
        "رضايي",
        "Rezaei",
        "کریمی",
        "كريمي",
        "Karimi",
    ];

    /// A word with one slip: a letter replaced, dropped, doubled or swapped.
    fn slip(r: &mut Rng, word: &str) -> String {
        let mut c: Vec<char> = word.chars().collect();
        let i = r.below(c.len());
        match r.below(4) {
            0 => c[i] = c[r.below(c.len())],
            1 if c.len() > 2 => {
                c.remove(i);
            }
            2 => c.insert(i, c[i]),
            _ if i + 1 < c.len() => c.swap(i, i + 1),
            _ => {}
        }
        c.into_iter().collect()
    }

    /// A drawn person: two or three words from a few lists shared by everyone (so that
    /// many share words), slips, another order, words joined, a Latin name, a phone from a
    /// small pool, dates in a short span, sometimes approximate.
    fn draw(r: &mut Rng) -> Person {
        let mut words: Vec<String> = vec![r.pick(FAMILY).into(), r.pick(GIVEN).into()];
        if r.below(3) == 0 {
            words.push(r.pick(GIVEN).into());
        }
        for w in &mut words {
            if r.below(4) == 0 {
                *w = slip(r, w);
            }
        }
        if r.below(4) == 0 {
            words.rotate_left(1);
        }
        let mut name = words.join(" ");
        if r.below(10) == 0 {
            name = words.concat();
        }
        let year = 1980 + r.below(4);
        Person {
            name,
            name_latin: (r.below(5) == 0).then(|| format!("{} {}", r.pick(FAMILY), r.pick(GIVEN))),
            date_of_birth: (r.below(8) != 0)
                .then(|| format!("{year}-{:02}-{:02}", 1 + r.below(2), 1 + r.below(3))),
            birth_date_approximate: r.below(5) == 0,
            gender: Some(["female", "male"][r.below(2)].into()),
            phones: (r.below(3) == 0)
                .then(|| format!("+38 050 {:07}", r.below(40)))
                .into_iter()
                .collect(),
            household: (r.below(4) == 0)
                .then(|| r.pick(GIVEN).to_string())
                .into_iter()
                .collect(),
        }
    }

    fn same_as_the_scan(
        index: &Index<usize>,
        people: &HashMap<usize, Prepared>,
        queries: &[Prepared],
    ) -> usize {
        let mut likely = 0;
        for q in queries {
            let scanned = find(q, people.iter());
            assert_eq!(index.find(q, None), scanned);
            likely += scanned
                .iter()
                .filter(|(_, a)| a.band == MatchBand::Likely)
                .count();
        }
        likely
    }

    #[test]
    fn the_index_answers_what_the_scan_answers_through_updates_and_removals() {
        let mut r = Rng(19);
        let mut people: HashMap<usize, Prepared> = HashMap::new();
        for k in 0..600 {
            people.insert(k, Prepared::of(&draw(&mut r)));
        }
        let mut index: Index<usize> = people.iter().map(|(k, p)| (*k, p.clone())).collect();
        assert_eq!(index.len(), people.len());
        let queries: Vec<Prepared> = (0..150).map(|_| Prepared::of(&draw(&mut r))).collect();
        let likely = same_as_the_scan(&index, &people, &queries);
        assert!(likely >= 50, "too few likely matches ({likely}) to compare");

        // Updates (a client renamed) and removals (erasure), then new people in the
        // slots set free.
        for k in 0..300 {
            if k % 2 == 0 {
                people.remove(&k);
                assert!(index.remove(&k).is_some());
            } else {
                let p = Prepared::of(&draw(&mut r));
                people.insert(k, p.clone());
                assert!(index.insert(k, p).is_some());
            }
        }
        for k in 600..700 {
            let p = Prepared::of(&draw(&mut r));
            people.insert(k, p.clone());
            assert!(index.insert(k, p).is_none());
        }
        assert_eq!(index.len(), people.len());
        same_as_the_scan(&index, &people, &queries);
        // Every word held is listed once by each of its lengths, where it says it is.
        for v in [&index.words, &index.names] {
            let held = v.words.iter().flatten().count();
            assert_eq!(held, v.ids.len());
            for (lists, skeleton) in [(&v.by_key, false), (&v.by_skeleton, true)] {
                for e in lists.iter().flatten().flatten() {
                    let w = v.words[e.id as usize]
                        .as_ref()
                        .expect("a listed word is held");
                    let list = if skeleton {
                        &lists[usize::from(w.token.arabic)][w.token.skeleton.len()]
                    } else {
                        &lists[usize::from(w.token.arabic)][w.token.key.len()]
                    };
                    let at = if skeleton { w.at_skeleton } else { w.at_key };
                    assert_eq!(list[at as usize].id, e.id);
                }
            }
        }

        // Everyone removed: nothing stays in the lists.
        for k in people.keys() {
            index.remove(k);
        }
        assert!(index.is_empty());
        assert_eq!(index.vocabulary(), (0, 0));
        for v in [&index.words, &index.names] {
            let listed = v.by_key.iter().chain(&v.by_skeleton).flatten();
            assert_eq!(listed.map(Vec::len).sum::<usize>(), 0);
        }
        assert!(index.phones.is_empty());
    }
}
