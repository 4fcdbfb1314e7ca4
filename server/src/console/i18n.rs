//! The console's six languages: Fluent messages (`server/locales/*.ftl`), numbers and dates.
//!
//! Messages come from one Fluent bundle per language, compiled into the binary. A message
//! missing from a translation falls back to English, and a message missing from English
//! shows its id (a test checks that every language has every English message).
//!
//! Numbers and dates are formatted here, not by a full CLDR library: what the console shows
//! is whole numbers (counts) and calendar dates, and for those the rules are small. Per
//! language: the digits (Persian uses Extended Arabic-Indic digits ۰–۹), the group
//! separator, the date order and month names, and for Thai the Buddhist era (2026 is
//! 2569), for Persian the Solar Hijri calendar (22 November 2026 is ۱ آذر ۱۴۰۵). Every
//! number handed to a Fluent message goes through the same formatter, so a translation
//! cannot forget it. Times are shown in the reader's time zone (their own, else their
//! team's, else the agency's: [`crate::settings`]), with its abbreviation or offset.

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

/// A language of the console.
#[derive(Debug)]
pub struct Locale {
    /// BCP 47 code (also the `lang` attribute).
    pub code: &'static str,
    /// The language's name in itself, for the switcher.
    pub name: &'static str,
    pub rtl: bool,
    zero: char,
    group: &'static str,
    source: &'static str,
    /// The reader's time zone: instants are shown in it.
    tz: chrono_tz::Tz,
}

/// Every language, English first (the fallback).
pub static LOCALES: [Locale; 6] = [
    Locale {
        code: "en",
        name: "English",
        rtl: false,
        zero: '0',
        group: ",",
        source: include_str!("../../locales/en.ftl"),
        tz: chrono_tz::Tz::UTC,
    },
    Locale {
        code: "th",
        name: "ไทย",
        rtl: false,
        zero: '0',
        group: ",",
        source: include_str!("../../locales/th.ftl"),
        tz: chrono_tz::Tz::UTC,
    },
    Locale {
        code: "fa",
        name: "فارسی",
        rtl: true,
        zero: '۰',
        group: "٬",
        source: include_str!("../../locales/fa.ftl"),
        tz: chrono_tz::Tz::UTC,
    },
    Locale {
        code: "ru",
        name: "Русский",
        rtl: false,
        zero: '0',
        group: "\u{a0}",
        source: include_str!("../../locales/ru.ftl"),
        tz: chrono_tz::Tz::UTC,
    },
    Locale {
        code: "uk",
        name: "Українська",
        rtl: false,
        zero: '0',
        group: "\u{a0}",
        source: include_str!("../../locales/uk.ftl"),
        tz: chrono_tz::Tz::UTC,
    },
    Locale {
        code: "vi",
        name: "Tiếng Việt",
        rtl: false,
        zero: '0',
        group: ".",
        source: include_str!("../../locales/vi.ftl"),
        tz: chrono_tz::Tz::UTC,
    },
];

const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const MONTHS_TH: [&str; 12] = [
    "ม.ค.",
    "ก.พ.",
    "มี.ค.",
    "เม.ย.",
    "พ.ค.",
    "มิ.ย.",
    "ก.ค.",
    "ส.ค.",
    "ก.ย.",
    "ต.ค.",
    "พ.ย.",
    "ธ.ค.",
];
/// The months of the Solar Hijri calendar, in which Persian dates are shown.
const MONTHS_FA: [&str; 12] = [
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
];

/// Whether a Solar Hijri year has 366 days, by the 33-year arithmetic cycle (leap years
/// at 1, 5, 9, 13, 17, 22, 26 and 30 of each cycle). It agrees with the astronomical
/// calendar Iran uses for the years this software will see (checked against Nowruz dates
/// in the tests); far from them it may differ by a day.
fn hijri_leap(year: i64) -> bool {
    matches!(year.rem_euclid(33), 1 | 5 | 9 | 13 | 17 | 22 | 26 | 30)
}

/// A Gregorian date in the Solar Hijri calendar: (year, month 1..=12, day), counted from
/// 1 Farvardin 1403 = 20 March 2024.
fn solar_hijri(y: i64, m: usize, d: u32) -> Option<(i64, usize, i64)> {
    let date = chrono::NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m as u32, d)?;
    let anchor = chrono::NaiveDate::from_ymd_opt(2024, 3, 20)?;
    let mut days = (date - anchor).num_days();
    let mut year = 1403;
    if days.abs() > 200 * 366 {
        return None;
    }
    while days < 0 {
        year -= 1;
        days += if hijri_leap(year) { 366 } else { 365 };
    }
    loop {
        let len = if hijri_leap(year) { 366 } else { 365 };
        if days < len {
            break;
        }
        days -= len;
        year += 1;
    }
    // Six months of 31 days, five of 30, and Esfand of 29 or 30.
    let (month, day) = if days < 186 {
        (days / 31, days % 31)
    } else {
        (6 + (days - 186) / 30, (days - 186) % 30)
    };
    Some((year, month as usize + 1, day + 1))
}

type Bundle = FluentBundle<FluentResource>;

fn bundles() -> &'static [Bundle] {
    static B: OnceLock<Vec<Bundle>> = OnceLock::new();
    B.get_or_init(|| {
        LOCALES
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let lang = l.code.parse().expect("a valid language code");
                let mut b = FluentBundle::new_concurrent(vec![lang]);
                // The HTML around a placeable isolates it where needed (`<bdi>`); Fluent's
                // own isolation marks would end up inside attributes and CSV cells.
                b.set_use_isolating(false);
                b.set_formatter(Some(FORMATTERS[i]));
                let res = FluentResource::try_new(l.source.to_string())
                    .unwrap_or_else(|(_, e)| panic!("{}.ftl does not parse: {e:?}", l.code));
                b.add_resource(res)
                    .unwrap_or_else(|e| panic!("{}.ftl has duplicate messages: {e:?}", l.code));
                b
            })
            .collect()
    })
}

type Formatter = fn(&FluentValue, &intl_memoizer::concurrent::IntlLangMemoizer) -> Option<String>;

fn format_for<const L: usize>(
    v: &FluentValue,
    _: &intl_memoizer::concurrent::IntlLangMemoizer,
) -> Option<String> {
    match v {
        FluentValue::Number(n) => Some(LOCALES[L].number(n.value as i64)),
        _ => None,
    }
}

const FORMATTERS: [Formatter; 6] = [
    format_for::<0>,
    format_for::<1>,
    format_for::<2>,
    format_for::<3>,
    format_for::<4>,
    format_for::<5>,
];

impl Locale {
    /// The locale for a code; English for anything else.
    pub fn get(code: &str) -> &'static Locale {
        LOCALES
            .iter()
            .find(|l| l.code == code)
            .unwrap_or(&LOCALES[0])
    }

    /// The best of our languages for an `Accept-Language` header (English if none fits).
    pub fn negotiate(accept: &str) -> &'static Locale {
        let mut best: Option<(f32, &'static Locale)> = None;
        for part in accept.split(',') {
            let mut it = part.trim().split(';');
            let tag = it.next().unwrap_or("").trim();
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("").to_ascii_lowercase();
            if let Some(l) = LOCALES.iter().find(|l| l.code == primary) {
                if best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, l));
                }
            }
        }
        best.map(|(_, l)| l).unwrap_or(&LOCALES[0])
    }

    /// This language for a reader in time zone `tz`. One value per language and zone is
    /// made, once, and kept (at most the six languages times the zones of the IANA
    /// database), so pages keep handing `&'static Locale` around.
    pub fn in_zone(&'static self, tz: chrono_tz::Tz) -> &'static Locale {
        use std::collections::HashMap;
        use std::sync::Mutex;
        if tz == self.tz {
            return self;
        }
        static MADE: OnceLock<Mutex<HashMap<(usize, chrono_tz::Tz), &'static Locale>>> =
            OnceLock::new();
        let mut made = MADE
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        made.entry((self.index(), tz)).or_insert_with(|| {
            Box::leak(Box::new(Locale {
                code: self.code,
                name: self.name,
                rtl: self.rtl,
                zero: self.zero,
                group: self.group,
                source: self.source,
                tz,
            }))
        })
    }

    /// The reader's time zone.
    pub fn time_zone(&self) -> chrono_tz::Tz {
        self.tz
    }

    /// Today in the reader's time zone, `YYYY-MM-DD`: what is due or overdue, ages and a
    /// report's default period count from it.
    pub fn today(&self) -> String {
        chrono::Utc::now()
            .with_timezone(&self.tz)
            .format("%Y-%m-%d")
            .to_string()
    }

    fn index(&self) -> usize {
        LOCALES
            .iter()
            .position(|l| l.code == self.code)
            .unwrap_or(0)
    }

    pub fn dir(&self) -> &'static str {
        if self.rtl {
            "rtl"
        } else {
            "ltr"
        }
    }

    /// A message without arguments.
    pub fn t(&self, id: &str) -> String {
        self.ta(id, &[])
    }

    /// A message with arguments; numbers are formatted for the language.
    pub fn ta(&self, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        let mut fa = FluentArgs::new();
        for (k, v) in args {
            fa.set(*k, v.clone());
        }
        let all = bundles();
        for b in [&all[self.index()], &all[0]] {
            if let Some(pattern) = b.get_message(id).and_then(|m| m.value()) {
                let mut errors = Vec::new();
                let out = b.format_pattern(pattern, Some(&fa), &mut errors);
                return out.into_owned();
            }
        }
        id.to_string()
    }

    /// Whether the console has a message `id` (in English, which has every message).
    pub fn has(&self, id: &str) -> bool {
        bundles()[0].has_message(id)
    }

    /// A message for a stored code (`stage-intake`), or the code itself when there is none.
    pub fn code(&self, prefix: &str, code: &str) -> String {
        let id = format!("{prefix}-{code}");
        if bundles()[0].has_message(&id) {
            self.t(&id)
        } else {
            code.to_string()
        }
    }

    /// Digits of the language for an ASCII string (other characters unchanged).
    pub fn digits(&self, s: &str) -> String {
        if self.zero == '0' {
            return s.to_string();
        }
        s.chars()
            .map(|c| match c.to_digit(10) {
                Some(d) if c.is_ascii_digit() => char::from_u32(self.zero as u32 + d).unwrap_or(c),
                _ => c,
            })
            .collect()
    }

    /// A whole number with the language's digits and group separator.
    pub fn number(&self, n: i64) -> String {
        let s = n.unsigned_abs().to_string();
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push_str(self.group);
            }
            out.push(c);
        }
        let out = if n < 0 { format!("-{out}") } else { out };
        self.digits(&out)
    }

    /// A calendar date (`YYYY-MM-DD`; of an RFC 3339 instant, its day in the reader's time
    /// zone) in the language's usual form; anything else is shown as it is.
    pub fn date(&self, iso: &str) -> String {
        let local = self.local(iso).map(|t| t.format("%Y-%m-%d").to_string());
        let iso = local.as_deref().unwrap_or(iso);
        let parsed = iso.get(..10).and_then(|d| {
            let y: i64 = d.get(0..4)?.parse().ok()?;
            let m: usize = d.get(5..7)?.parse().ok()?;
            let day: u32 = d.get(8..10)?.parse().ok()?;
            (d.as_bytes()[4] == b'-' && (1..=12).contains(&m)).then_some((y, m, day))
        });
        let Some((y, m, d)) = parsed else {
            return iso.to_string();
        };
        let s = match self.code {
            "th" => format!("{d} {} {}", MONTHS_TH[m - 1], y + 543),
            "fa" => match solar_hijri(y, m, d) {
                Some((hy, hm, hd)) => format!("{hd} {} {hy}", MONTHS_FA[hm - 1]),
                None => format!("{y}-{m:02}-{d:02}"),
            },
            "ru" | "uk" => format!("{d:02}.{m:02}.{y}"),
            "vi" => format!("{d:02}/{m:02}/{y}"),
            _ => format!("{d} {} {y}", MONTHS_EN[m - 1]),
        };
        self.digits(&s)
    }

    /// A month of the Gregorian calendar (`YYYY-MM`), as reports count by it: its name and
    /// year (the Buddhist era in Thai); in Persian, whose calendar's months do not line up
    /// with it, the day it starts in the Solar Hijri calendar.
    pub fn month(&self, ym: &str) -> String {
        let parsed = ym.get(..7).and_then(|d| {
            let y: i64 = d.get(0..4)?.parse().ok()?;
            let m: usize = d.get(5..7)?.parse().ok()?;
            (d.as_bytes()[4] == b'-' && (1..=12).contains(&m)).then_some((y, m))
        });
        let Some((y, m)) = parsed else {
            return ym.to_string();
        };
        let s = match self.code {
            "th" => format!("{} {}", MONTHS_TH[m - 1], y + 543),
            "fa" => return self.date(&format!("{y:04}-{m:02}-01")),
            "ru" | "uk" | "vi" => format!("{m:02}.{y}"),
            _ => format!("{} {y}", MONTHS_EN[m - 1]),
        };
        self.digits(&s)
    }

    /// An RFC 3339 instant in the reader's time zone (`None` for anything else, such as a
    /// calendar date).
    fn local(&self, rfc3339: &str) -> Option<chrono::DateTime<chrono_tz::Tz>> {
        if rfc3339.len() <= 10 {
            return None;
        }
        chrono::DateTime::parse_from_rfc3339(rfc3339)
            .ok()
            .map(|t| t.with_timezone(&self.tz))
    }

    /// An instant (RFC 3339): its date and its time of day in the reader's time zone, with
    /// the zone's abbreviation (or its offset where the zone has none: `+07`).
    pub fn datetime(&self, rfc3339: &str) -> String {
        match self.local(rfc3339) {
            Some(t) => format!(
                "{} {} {}",
                self.date(rfc3339),
                self.digits(&t.format("%H:%M").to_string()),
                t.format("%Z")
            ),
            None => self.date(rfc3339),
        }
    }

    /// An instant in milliseconds since the epoch.
    pub fn millis(&self, ms: i64) -> String {
        self.datetime(&fieldcase_core::case::rfc3339(ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_dates_follow_the_language() {
        assert_eq!(Locale::get("fa").number(1234567), "۱٬۲۳۴٬۵۶۷");
        assert_eq!(Locale::get("en").number(-1234), "-1,234");
        assert_eq!(Locale::get("vi").number(12345), "12.345");
        assert_eq!(Locale::get("en").date("2026-11-22"), "22 Nov 2026");
        assert_eq!(Locale::get("en").month("2026-11"), "Nov 2026");
        assert_eq!(Locale::get("th").month("2026-11"), "พ.ย. 2569");
        assert_eq!(Locale::get("fa").month("2026-11"), "۱۰ آبان ۱۴۰۵");
        assert_eq!(Locale::get("uk").month("2026-01"), "01.2026");
        assert_eq!(Locale::get("en").month("later"), "later");
        assert_eq!(Locale::get("th").date("2026-11-22"), "22 พ.ย. 2569");
        assert_eq!(Locale::get("fa").date("2026-11-22"), "۱ آذر ۱۴۰۵");
        assert_eq!(Locale::get("ru").date("2026-01-05T10:00:00Z"), "05.01.2026");
        assert_eq!(
            Locale::get("fa").datetime("2026-11-22T09:05:00Z"),
            "۱ آذر ۱۴۰۵ ۰۹:۰۵ UTC"
        );
        assert_eq!(Locale::get("en").date("soon"), "soon");
    }

    #[test]
    fn instants_are_shown_in_the_readers_time_zone() {
        use chrono_tz::Tz;
        let bangkok = Locale::get("th").in_zone(Tz::Asia__Bangkok);
        // Late evening in UTC is the next morning in Bangkok: the day moves too.
        assert_eq!(
            bangkok.datetime("2026-11-22T20:05:00Z"),
            "23 พ.ย. 2569 03:05 +07"
        );
        assert_eq!(bangkok.date("2026-11-22T20:05:00Z"), "23 พ.ย. 2569");
        // A calendar date is a day, in no zone.
        assert_eq!(bangkok.date("2026-11-22"), "22 พ.ย. 2569");
        let tehran = Locale::get("fa").in_zone(Tz::Asia__Tehran);
        assert_eq!(
            tehran.datetime("2026-11-22T09:05:00Z"),
            "۱ آذر ۱۴۰۵ ۱۲:۳۵ +0330"
        );
        assert_eq!(
            Locale::get("uk")
                .in_zone(Tz::Europe__Kyiv)
                .datetime("2026-07-01T09:05:00Z"),
            "01.07.2026 12:05 EEST"
        );
        assert_eq!(
            Locale::get("ru")
                .in_zone(Tz::Europe__Moscow)
                .datetime("2026-01-05T22:30:00Z"),
            "06.01.2026 01:30 MSK"
        );
        // One value per language and zone, and the language is kept.
        assert!(std::ptr::eq(
            bangkok,
            Locale::get("th").in_zone(Tz::Asia__Bangkok)
        ));
        assert_eq!(
            bangkok.t("nav-dashboard"),
            Locale::get("th").t("nav-dashboard")
        );
        assert!(std::ptr::eq(
            Locale::get("th").in_zone(Tz::UTC),
            Locale::get("th")
        ));
    }

    #[test]
    fn today_is_the_readers_day() {
        use chrono_tz::Tz;
        // Twenty-five hours apart: their days always differ, whatever the time now.
        let day = |tz: Tz| {
            let d = Locale::get("en").in_zone(tz).today();
            chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").unwrap()
        };
        let (east, west) = (day(Tz::Pacific__Kiritimati), day(Tz::Pacific__Pago_Pago));
        assert!((1..=2).contains(&(east - west).num_days()), "{east} {west}");
    }

    /// Every problem has its message in every language, and each message says every
    /// argument the code is given (in each plural form it has) and no other: the API's
    /// answers name the same arguments for apps to say.
    #[test]
    fn every_problem_is_said_in_every_language_with_its_arguments() {
        let all = bundles();
        let mut codes = std::collections::HashSet::new();
        for p in crate::error::Problem::ALL {
            assert!(codes.insert(p.code()), "{} twice", p.code());
            let id = format!("problem-{}", p.code().replace('_', "-"));
            // Numbers of every plural form (one, few, many) that appear nowhere else.
            for base in [21_i64, 22, 25, 1000] {
                let values: Vec<i64> = (0..p.args().len() as i64)
                    .map(|j| base + 100_000 * (j + 1))
                    .collect();
                let mut args = FluentArgs::new();
                for (name, v) in p.args().iter().zip(&values) {
                    args.set(*name, FluentValue::from(*v));
                }
                let mut english = String::new();
                for (i, l) in LOCALES.iter().enumerate() {
                    let pattern = all[i]
                        .get_message(&id)
                        .and_then(|m| m.value())
                        .unwrap_or_else(|| panic!("{} has no {id}", l.code));
                    let mut errors = Vec::new();
                    let said = all[i].format_pattern(pattern, Some(&args), &mut errors);
                    assert!(errors.is_empty(), "{} {id}: {errors:?}", l.code);
                    for (name, v) in p.args().iter().zip(&values) {
                        assert!(
                            said.contains(&l.number(*v)),
                            "{} {id} does not say ${name}: {said}",
                            l.code
                        );
                    }
                    if i == 0 {
                        english = said.into_owned();
                    } else {
                        assert_ne!(said, english, "{} {id} is English", l.code);
                    }
                }
            }
        }
    }

    #[test]
    fn persian_dates_are_solar_hijri() {
        // Nowruz (1 Farvardin) of recent and coming years, and the days around it.
        for (g, h) in [
            ((2020, 3, 20), (1399, 1, 1)),
            ((2021, 3, 21), (1400, 1, 1)),
            ((2023, 3, 21), (1402, 1, 1)),
            ((2024, 3, 20), (1403, 1, 1)),
            ((2025, 3, 20), (1403, 12, 30)),
            ((2025, 3, 21), (1404, 1, 1)),
            ((2026, 3, 21), (1405, 1, 1)),
            ((2026, 9, 23), (1405, 7, 1)),
            ((2026, 11, 22), (1405, 9, 1)),
            ((2027, 3, 21), (1406, 1, 1)),
            ((2028, 3, 20), (1407, 1, 1)),
            ((2029, 3, 20), (1408, 1, 1)),
            ((2030, 3, 20), (1408, 12, 30)),
            ((1979, 2, 11), (1357, 11, 22)),
        ] {
            assert_eq!(solar_hijri(g.0, g.1, g.2), Some(h), "{g:?}");
        }
        assert_eq!(solar_hijri(2026, 2, 30), None);
    }

    #[test]
    fn fluent_numbers_use_the_formatter() {
        let fa = Locale::get("fa");
        let s = fa.ta("cases-count", &[("count", FluentValue::from(1200))]);
        assert!(s.contains("۱٬۲۰۰"), "{s}");
    }

    #[test]
    fn every_language_has_every_english_message() {
        let ids: Vec<&str> = LOCALES[0]
            .source
            .lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_lowercase()))
            .filter_map(|l| l.split_once(" =").map(|(id, _)| id))
            .collect();
        assert!(ids.len() > 50);
        let all = bundles();
        for (i, l) in LOCALES.iter().enumerate() {
            let missing: Vec<&&str> = ids.iter().filter(|id| !all[i].has_message(id)).collect();
            assert!(missing.is_empty(), "{} lacks {missing:?}", l.code);
        }
    }

    #[test]
    fn translations_are_translated() {
        for l in &LOCALES[1..] {
            let same = [
                "nav-dashboard",
                "sign-in",
                "approve",
                "stage-planning",
                "domain-housing",
            ]
            .iter()
            .filter(|id| l.t(id) == LOCALES[0].t(id))
            .count();
            assert_eq!(same, 0, "{} repeats English", l.code);
        }
        assert_eq!(Locale::get("fa").t("nav-dashboard"), "بار کاری");
        assert_eq!(
            Locale::get("ru").ta("cases-count", &[("count", FluentValue::from(3))]),
            "3 случая"
        );
        assert_eq!(
            Locale::get("uk").ta("cases-count", &[("count", FluentValue::from(11))]),
            "11 випадків"
        );
    }

    #[test]
    fn change_messages_are_translated() {
        use crate::console::view::action;
        let fa = Locale::get("fa");
        assert_eq!(action(fa, "approve plan"), "برنامه را تأیید کرد");
        assert_eq!(
            action(fa, "stage planning -> implementation"),
            "مرحله را تغییر داد: برنامه‌ریزی → اجرا"
        );
        assert_eq!(action(Locale::get("en"), "add visits"), "added: Visits");
        assert_eq!(
            action(Locale::get("ru"), "set client/address"),
            "установил(а) client/address"
        );
        // A label the core does not write is the device's own words, quoted as such, even
        // when it looks like one of the core's.
        assert_eq!(
            action(Locale::get("vi"), "something new"),
            "đã sửa “something new”"
        );
        assert_eq!(
            action(Locale::get("en"), "approve-plan"),
            "edited “approve-plan”"
        );
        assert_eq!(action(Locale::get("en"), ""), "");
    }

    #[test]
    fn negotiation_picks_the_best_supported_language() {
        assert_eq!(Locale::negotiate("fa-IR,fa;q=0.9,en;q=0.5").code, "fa");
        assert_eq!(Locale::negotiate("de-DE,uk;q=0.8,ru;q=0.9").code, "ru");
        assert_eq!(Locale::negotiate("de").code, "en");
    }
}
