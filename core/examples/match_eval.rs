//! The evaluation of duplicate detection (issue 19): how many true duplicates the matcher
//! finds, and how often a "likely" match is right, per language, on a generated set; and
//! how long one check takes.
//!
//! ```text
//! cargo run --release -p fieldcase-core --example match_eval
//! ```
//!
//! The set is generated deterministically (a fixed seed, our own small PRNG: the figures
//! do not move with a dependency's version). 2,000 people are registered, 400 in each of
//! Thai, Persian, Russian, Ukrainian and Vietnamese, from name lists of each language,
//! with a date of birth (a fifth of them approximate: a year, written `YYYY-01-01`), a sex, often a phone and
//! household members; a fifth of them are relatives of another (the same family name,
//! household and often phone). Then 2,000 people come to intake:
//!
//! - 1,000 are registered people again, written another way, with one to three of:
//!   a typo in a word of four letters or more, diacritics or `ё`/`ї` left out, the name
//!   written in Latin letters (each language's usual ways; Thai and Persian as people
//!   spell their names), the Latin name entered beside the native one, the words in
//!   another order, Arabic instead of Persian letter forms, an approximate date of birth
//!   (the year, give or take one), a nearly-right date (day and month swapped), no date,
//!   the phone written with or without the country code, or missing;
//! - 1,000 are new: relatives of registered people (same family name, household, phone),
//!   namesakes (the same name, another date of birth) and unrelated people.
//!
//! Reported per language, twice: recall (true duplicates found as likely; as likely or
//! possible) and precision of the likely band (likely matches that are the person), first
//! comparing each intake with every registered person (`matching::find`, the scan), then
//! through the blocked index the server runs (`matching::Index`), with how many of the
//! 2,000 answers differ between the two (none should: the index compares only its
//! candidates, and its candidates are a superset of what the matcher can match).
//!
//! Then one check is timed against 5,000 people: by the matcher alone (prepared people
//! with phones and households), and through `CaseStore::possible_matches` on a store of
//! 5,000 cases opened at intake (name, date of birth, sex), 200 checks each; and the
//! server's check (`fieldcase-server`'s `matching::MatchIndex::check`: the same
//! `matching::Index` of prepared clients by case, the new case left out) against 100,000
//! clients, 200 checks, with the scan it replaced run beside it on every fourth check (its
//! time, and whether the answers are the same). The heap the index holds per client is
//! measured (this binary counts its allocations), beside the prepared clients alone.
//! Figures with their dates are in `docs/benchmarks.md`.
//!
//! Figures (release build, a development machine of 2 cores shared with two other builds,
//! not a phone), 2026-12-03:
//!
//! ```text
//! language      dups  recall likely recall l.+poss.   likely  precision likely
//! Thai           201          0.950           0.980      202             0.946
//! Persian        189          0.968           1.000      198             0.924
//! Russian        211          0.976           1.000      208             0.990
//! Ukrainian      184          0.973           1.000      181             0.989
//! Vietnamese     215          0.967           0.991      211             0.986
//! all           1000          0.967           0.994     1000             0.967
//! (the same with the scan and with the index: 0 of 2000 answers differ)
//! one check, server, blocked index, 100,000 clients: median 0.64 ms, p95 5.22 ms,
//!   p99 10.39 ms, max 52.8 ms (140 candidates on average, 3,280 at most; the scan it
//!   replaced, on the same machine at the same time: median 186 ms, p95 257 ms)
//! the index: 619 bytes per client, 158 of them the blocking's lists and slots
//! ```
//!
//! Most misses are a typo in a Thai or Persian word that moves its key by more than one
//! letter, two typos in one name, or a name with nothing else agreeing (no date: a
//! possible match by design); most wrong likely matches are namesakes with approximate
//! dates a year or two apart. The set is ours, so it measures the matcher against the
//! variations we thought of; real intakes will differ. `MATCH_EVAL_MISSES=1` prints each
//! miss and each wrong likely match.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use fieldcase_core::case::ClientInput;
use fieldcase_core::matching::{find, Assessment, Index, MatchBand, Person, Prepared};
use fieldcase_core::store::UserContext;
use fieldcase_core::{CaseStore, NewCase, Role};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Counts the heap, to measure what the server's index holds per client.
#[global_allocator]
static HEAP: peak_alloc::PeakAlloc = peak_alloc::PeakAlloc;

/// SplitMix64: deterministic, good enough to draw test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Lang {
    Thai,
    Persian,
    Russian,
    Ukrainian,
    Vietnamese,
}

const LANGS: [Lang; 5] = [
    Lang::Thai,
    Lang::Persian,
    Lang::Russian,
    Lang::Ukrainian,
    Lang::Vietnamese,
];

/// A name in its script with the Latin spellings people use (empty: generated).
type Named = (&'static str, &'static [&'static str]);

const THAI_FAMILY: &[Named] = &[
    ("ใจดี", &["Jaidee", "Chaidi", "Jaidi"]),
    ("ศรีสุข", &["Srisuk", "Sisuk", "Srisook"]),
    ("แสงทอง", &["Saengthong", "Sangthong", "Saengtong"]),
    ("บุญมา", &["Boonma", "Bunma"]),
    ("ทองดี", &["Thongdee", "Thongdi", "Tongdee"]),
    ("มีสุข", &["Meesuk", "Misuk", "Meesook"]),
    ("รุ่งเรือง", &["Rungruang", "Rungrueang", "Roongruang"]),
    ("สมบูรณ์", &["Somboon", "Sombun", "Somboon"]),
    ("จันทร์ดี", &["Chandee", "Jandee", "Chandi"]),
    ("วงศ์ไทย", &["Wongthai", "Wongtai", "Vongthai"]),
    ("ประเสริฐ", &["Prasert", "Prasoet", "Prasertt"]),
    ("สุขสวัสดิ์", &["Suksawat", "Suksawad", "Sooksawat"]),
    ("พรหมมา", &["Promma", "Phromma", "Prommah"]),
    ("ศรีวงศ์", &["Sriwong", "Siwong", "Srivong"]),
    ("แก้วมณี", &["Kaewmanee", "Kaeomani", "Kaewmani"]),
    ("ปัญญาดี", &["Panyadee", "Panyadi", "Punyadee"]),
];
const THAI_FEMALE: &[Named] = &[
    ("สมศรี", &["Somsri", "Somsi", "Somsree"]),
    ("มาลี", &["Malee", "Mali", "Malie"]),
    ("สุดา", &["Suda", "Sudah"]),
    ("นภา", &["Napha", "Napa", "Naphaa"]),
    ("วันดี", &["Wandee", "Wandi", "Vandee"]),
    ("สายใจ", &["Saijai", "Saichai", "Sayjai"]),
    ("พรทิพย์", &["Porntip", "Phonthip", "Pornthip"]),
    ("ศิริพร", &["Siriporn", "Siriphon", "Siriporn"]),
    ("กาญจนา", &["Kanchana", "Kanjana", "Karnchana"]),
    ("รัตนา", &["Rattana", "Ratana", "Rattanah"]),
    ("อรุณี", &["Arunee", "Aruni", "Arunie"]),
    ("จันทร์เพ็ญ", &["Chanpen", "Janpen", "Chanphen"]),
];
const THAI_MALE: &[Named] = &[
    ("สมชาย", &["Somchai", "Somchay", "Somchaai"]),
    ("บุญมี", &["Boonmee", "Bunmi", "Boonmi"]),
    ("วิชัย", &["Wichai", "Vichai", "Wichay"]),
    ("ประยุทธ", &["Prayut", "Prayuth", "Prayoot"]),
    ("สุนทร", &["Sunthon", "Soonthorn", "Sunthorn"]),
    ("ปรีชา", &["Preecha", "Pricha", "Preechah"]),
    ("อนุชา", &["Anucha", "Anuchaa", "Anuja"]),
    ("ชัยวัฒน์", &["Chaiwat", "Chaiwath", "Chaiwatt"]),
    ("สมพงษ์", &["Sompong", "Somphong", "Sompongs"]),
    ("ทองคำ", &["Thongkham", "Tongkham", "Thongkam"]),
    ("กมล", &["Kamon", "Kamol", "Kamonn"]),
    ("อำนาจ", &["Amnat", "Amnaj", "Umnat"]),
];

const PERSIAN_FAMILY: &[Named] = &[
    ("محمدی", &["Mohammadi", "Mohamadi", "Muhammadi"]),
    ("حسینی", &["Hosseini", "Hoseini", "Husseini"]),
    ("رضایی", &["Rezaei", "Rezaie", "Rezayi"]),
    ("موسوی", &["Mousavi", "Musavi", "Moosavi"]),
    ("احمدی", &["Ahmadi", "Ahmady"]),
    ("کریمی", &["Karimi", "Karimy"]),
    ("جعفری", &["Jafari", "Jaafari", "Ja'fari"]),
    ("رحیمی", &["Rahimi", "Raheemi"]),
    ("هاشمی", &["Hashemi", "Hashimi"]),
    ("صادقی", &["Sadeghi", "Sadeqi", "Sadeqhi"]),
    ("کاظمی", &["Kazemi", "Kazimi"]),
    ("قاسمی", &["Ghasemi", "Qasemi", "Ghassemi"]),
    ("عباسی", &["Abbasi", "Abasi"]),
    ("نوری", &["Nouri", "Noori", "Nuri"]),
    ("یوسفی", &["Yousefi", "Yusefi", "Yousofi"]),
    ("اکبری", &["Akbari", "Akbary"]),
];
const PERSIAN_FEMALE: &[Named] = &[
    ("فاطمه", &["Fatemeh", "Fatima", "Fatemah"]),
    ("زهرا", &["Zahra", "Zahraa"]),
    ("مریم", &["Maryam", "Mariam"]),
    ("زینب", &["Zeinab", "Zainab", "Zeynab"]),
    ("نرگس", &["Narges", "Nargis"]),
    ("لیلا", &["Leila", "Layla", "Leyla"]),
    ("مینا", &["Mina", "Meena"]),
    ("شیرین", &["Shirin", "Shireen"]),
    ("سمیه", &["Somayeh", "Sumaya", "Somaye"]),
    ("معصومه", &["Masoumeh", "Masoomeh", "Masumeh"]),
    ("طاهره", &["Tahereh", "Tahere"]),
    ("خدیجه", &["Khadijeh", "Khadija", "Khadijah"]),
];
const PERSIAN_MALE: &[Named] = &[
    ("محمد", &["Mohammad", "Mohammed", "Muhammad", "Mohamad"]),
    ("علی", &["Ali"]),
    ("حسین", &["Hossein", "Hussein", "Hosein"]),
    ("رضا", &["Reza", "Rezaa"]),
    ("مهدی", &["Mehdi", "Mahdi"]),
    ("امیر", &["Amir", "Ameer"]),
    ("حسن", &["Hassan", "Hasan"]),
    ("جواد", &["Javad", "Jawad"]),
    ("داوود", &["Davood", "Davoud", "Dawood"]),
    ("عباس", &["Abbas", "Abas"]),
    ("مصطفی", &["Mostafa", "Mustafa"]),
    ("غلام", &["Gholam", "Ghulam", "Qolam"]),
];

const RU_FAMILY_M: &[&str] = &[
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Соколов",
    "Лебедев",
    "Козлов",
    "Новиков",
    "Морозов",
    "Петров",
    "Волков",
    "Соловьёв",
    "Васильев",
    "Зайцев",
    "Павлов",
    "Семёнов",
    "Голубев",
    "Виноградов",
    "Богданов",
    "Воробьёв",
    "Фёдоров",
    "Михайлов",
    "Беляев",
    "Тарасов",
];
const RU_FEMALE: &[&str] = &[
    "Анна",
    "Мария",
    "Ольга",
    "Юлия",
    "Наталья",
    "Елена",
    "Ирина",
    "Татьяна",
    "Светлана",
    "Екатерина",
    "Людмила",
    "Галина",
    "Валентина",
    "Ксения",
    "Дарья",
    "Алёна",
];
const RU_MALE: &[&str] = &[
    "Александр",
    "Сергей",
    "Дмитрий",
    "Андрей",
    "Алексей",
    "Максим",
    "Иван",
    "Михаил",
    "Николай",
    "Юрий",
    "Владимир",
    "Пётр",
    "Евгений",
    "Артём",
    "Григорий",
    "Виктор",
];
const RU_PATRONYMIC: &[&str] = &[
    "Иванов",
    "Петров",
    "Сергеев",
    "Николаев",
    "Александров",
    "Михайлов",
    "Владимиров",
];

const UK_FAMILY: &[&str] = &[
    "Шевченко",
    "Коваленко",
    "Бондаренко",
    "Ткаченко",
    "Кравченко",
    "Олійник",
    "Мельник",
    "Бойко",
    "Ковальчук",
    "Лисенко",
    "Савченко",
    "Руденко",
    "Марченко",
    "Петренко",
    "Гончаренко",
    "Кушнір",
    "Литвиненко",
    "Поліщук",
    "Гнатюк",
    "Яковенко",
    "Ігнатенко",
    "Єременко",
    "Грищенко",
    "Швець",
];
const UK_FEMALE: &[&str] = &[
    "Олена",
    "Ірина",
    "Тетяна",
    "Оксана",
    "Наталія",
    "Марія",
    "Ганна",
    "Юлія",
    "Катерина",
    "Світлана",
    "Людмила",
    "Галина",
    "Євгенія",
    "Вікторія",
    "Ольга",
    "Христина",
];
const UK_MALE: &[&str] = &[
    "Олександр",
    "Андрій",
    "Дмитро",
    "Іван",
    "Михайло",
    "Микола",
    "Віктор",
    "Юрій",
    "Петро",
    "Володимир",
    "Сергій",
    "Богдан",
    "Тарас",
    "Василь",
    "Олег",
    "Євген",
];

const VI_FAMILY: &[&str] = &[
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
    "Hồ", "Ngô", "Dương", "Lý",
];
const VI_MIDDLE_F: &[&str] = &["Thị", "Ngọc", "Thu", "Thanh", "Kim", "Minh"];
const VI_MIDDLE_M: &[&str] = &["Văn", "Hữu", "Đức", "Minh", "Quang", "Thành"];
const VI_FEMALE: &[&str] = &[
    "Lan", "Hoa", "Mai", "Hương", "Linh", "Thảo", "Trang", "Phương", "Hạnh", "Yến", "Nhung",
    "Quỳnh", "Thủy", "Bích", "Đào", "Hằng", "Ngân", "Tuyết",
];
const VI_MALE: &[&str] = &[
    "Hùng", "Dũng", "Tuấn", "Huy", "Khánh", "Long", "Nam", "Hải", "Cường", "Thắng", "Phúc", "Quân",
    "Bình", "Trung", "Sơn", "Đạt",
];

/// One registered person, with what the generator knows of their name.
#[derive(Debug, Clone)]
struct Gen {
    lang: Lang,
    female: bool,
    /// Words in the native script, in the usual order.
    words: Vec<String>,
    /// The Latin spellings of each word (Thai, Persian; empty for others).
    latin: Vec<Vec<String>>,
    dob: (i32, u32, u32),
    approximate: bool,
    phone: Option<String>,
    household: Vec<String>,
    family: usize,
}

fn pick_named(r: &mut Rng, list: &[Named]) -> (String, Vec<String>) {
    let (n, l) = r.pick(list);
    (n.to_string(), l.iter().map(|s| s.to_string()).collect())
}

/// A Russian or Ukrainian family name for a woman.
fn feminine(lang: Lang, family: &str) -> String {
    if lang == Lang::Russian
        && (family.ends_with("ов")
            || family.ends_with("ёв")
            || family.ends_with("ев")
            || family.ends_with("ин"))
    {
        format!("{family}а")
    } else {
        family.to_string()
    }
}

/// A family name (an index into the language's list) and its spellings.
fn family_name(lang: Lang, i: usize) -> (String, Vec<String>) {
    let named = |l: &[Named]| {
        let (n, s) = l[i % l.len()];
        (n.to_string(), s.iter().map(|x| x.to_string()).collect())
    };
    match lang {
        Lang::Thai => named(THAI_FAMILY),
        Lang::Persian => named(PERSIAN_FAMILY),
        Lang::Russian => (RU_FAMILY_M[i % RU_FAMILY_M.len()].to_string(), vec![]),
        Lang::Ukrainian => (UK_FAMILY[i % UK_FAMILY.len()].to_string(), vec![]),
        Lang::Vietnamese => (VI_FAMILY[i % VI_FAMILY.len()].to_string(), vec![]),
    }
}

fn family_count(lang: Lang) -> usize {
    match lang {
        Lang::Thai => THAI_FAMILY.len(),
        Lang::Persian => PERSIAN_FAMILY.len(),
        Lang::Russian => RU_FAMILY_M.len(),
        Lang::Ukrainian => UK_FAMILY.len(),
        Lang::Vietnamese => VI_FAMILY.len(),
    }
}

fn phone_number(r: &mut Rng, lang: Lang) -> String {
    let cc = match lang {
        Lang::Thai => "66",
        Lang::Persian => "98",
        Lang::Russian => "7",
        Lang::Ukrainian => "380",
        Lang::Vietnamese => "84",
    };
    let mut n = String::new();
    for _ in 0..9 {
        n.push(char::from(b'0' + r.below(10) as u8));
    }
    if r.chance(50) {
        format!("+{cc} {} {} {}", &n[..2], &n[2..5], &n[5..])
    } else {
        format!("0{}-{}-{}", &n[..2], &n[2..5], &n[5..])
    }
}

/// A new person of a language; `family` chooses the family name.
fn person(r: &mut Rng, lang: Lang, family: usize) -> Gen {
    let female = r.chance(55);
    let (fam, fam_latin) = family_name(lang, family);
    let (words, latin) = match lang {
        Lang::Thai | Lang::Persian => {
            let list = match (lang, female) {
                (Lang::Thai, true) => THAI_FEMALE,
                (Lang::Thai, false) => THAI_MALE,
                (_, true) => PERSIAN_FEMALE,
                (_, false) => PERSIAN_MALE,
            };
            let (given, given_latin) = pick_named(r, list);
            (vec![given, fam], vec![given_latin, fam_latin])
        }
        Lang::Russian => {
            let given = r.pick(if female { RU_FEMALE } else { RU_MALE }).to_string();
            let fam = if female { feminine(lang, &fam) } else { fam };
            let mut w = vec![fam, given];
            if r.chance(40) {
                let p = r.pick(RU_PATRONYMIC);
                w.push(format!("{p}{}", if female { "на" } else { "ич" }));
            }
            (w, vec![])
        }
        Lang::Ukrainian => {
            let given = r.pick(if female { UK_FEMALE } else { UK_MALE }).to_string();
            (vec![fam, given], vec![])
        }
        Lang::Vietnamese => {
            let middle = r
                .pick(if female { VI_MIDDLE_F } else { VI_MIDDLE_M })
                .to_string();
            let given = r.pick(if female { VI_FEMALE } else { VI_MALE }).to_string();
            (vec![fam, middle, given], vec![])
        }
    };
    let approximate = r.chance(20);
    let year = 1945 + r.below(76) as i32;
    let dob = if approximate {
        (year, 1, 1)
    } else {
        (year, 1 + r.below(12) as u32, 1 + r.below(28) as u32)
    };
    let phone = r.chance(60).then(|| phone_number(r, lang));
    let mut household = Vec::new();
    if r.chance(50) {
        for _ in 0..1 + r.below(3) {
            let member = person_name_only(r, lang, family);
            household.push(member);
        }
    }
    Gen {
        lang,
        female,
        words,
        latin,
        dob,
        approximate,
        phone,
        household,
        family,
    }
}

/// A household member's name (the same family).
fn person_name_only(r: &mut Rng, lang: Lang, family: usize) -> String {
    let (fam, _) = family_name(lang, family);
    let female = r.chance(50);
    let given = match lang {
        Lang::Thai => r
            .pick(if female { THAI_FEMALE } else { THAI_MALE })
            .0
            .to_string(),
        Lang::Persian => r
            .pick(if female { PERSIAN_FEMALE } else { PERSIAN_MALE })
            .0
            .to_string(),
        Lang::Russian => r.pick(RU_MALE).to_string(),
        Lang::Ukrainian => r.pick(UK_FEMALE).to_string(),
        Lang::Vietnamese => format!("{} {}", r.pick(VI_MIDDLE_F), r.pick(VI_FEMALE)),
    };
    match lang {
        Lang::Thai | Lang::Persian => format!("{given} {fam}"),
        _ => format!("{fam} {given}"),
    }
}

/// A relative of `p`: the same family name and household, often the same phone.
fn relative(r: &mut Rng, p: &Gen) -> Gen {
    let mut q = person(r, p.lang, p.family);
    q.household = p.household.clone();
    if r.chance(50) {
        q.phone = p.phone.clone();
    }
    q
}

fn strip_diacritics(s: &str) -> String {
    s.nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| match c {
            'đ' => 'd',
            'Đ' => 'D',
            c => c,
        })
        .collect()
}

/// Cyrillic in Latin letters by one of the schemes people use (0: passports, 1:
/// informal English, 2: loose).
fn cyrillic_latin(word: &str, ukrainian: bool, scheme: usize) -> String {
    let mut out = String::new();
    for (i, c) in word.chars().enumerate() {
        let upper = c.is_uppercase();
        let lc = c.to_lowercase().next().unwrap_or(c);
        let first = i == 0;
        let s: String = match (lc, scheme) {
            ('а', _) => "a".into(),
            ('б', _) => "b".into(),
            ('в', _) => "v".into(),
            ('г', 0) if ukrainian => "h".into(),
            ('г', 2) if ukrainian => "h".into(),
            ('г', _) | ('ґ', _) => "g".into(),
            ('д', _) => "d".into(),
            ('е', 1) if first => "ye".into(),
            ('е', _) => "e".into(),
            ('ё', 1) => "yo".into(),
            ('ё', _) => "e".into(),
            ('є', 0) if !first => "ie".into(),
            ('є', _) => "ye".into(),
            ('ж', 2) => "j".into(),
            ('ж', _) => "zh".into(),
            ('з', _) => "z".into(),
            ('и', _) if ukrainian => "y".into(),
            ('и', _) => "i".into(),
            ('і', _) => "i".into(),
            ('ї', 0) if !first => "i".into(),
            ('ї', _) => "yi".into(),
            ('й', 0) if !first => "i".into(),
            ('й', _) => "y".into(),
            ('к', _) => "k".into(),
            ('л', _) => "l".into(),
            ('м', _) => "m".into(),
            ('н', _) => "n".into(),
            ('о', _) => "o".into(),
            ('п', _) => "p".into(),
            ('р', _) => "r".into(),
            ('с', _) => "s".into(),
            ('т', _) => "t".into(),
            ('у', _) => "u".into(),
            ('ф', _) => "f".into(),
            ('х', 2) => "h".into(),
            ('х', _) => "kh".into(),
            ('ц', _) => "ts".into(),
            ('ч', _) => "ch".into(),
            ('ш', _) => "sh".into(),
            ('щ', 1) => "sch".into(),
            ('щ', _) => "shch".into(),
            ('ъ', _) | ('ь', _) | ('\'', _) => "".into(),
            ('ы', _) => "y".into(),
            ('э', _) => "e".into(),
            ('ю', 0) if !first => "iu".into(),
            ('ю', _) => "yu".into(),
            ('я', 0) if !first => "ia".into(),
            ('я', _) => "ya".into(),
            (c, _) => c.to_string(),
        };
        if upper {
            let mut cs = s.chars();
            if let Some(f) = cs.next() {
                out.extend(f.to_uppercase());
                out.push_str(cs.as_str());
            }
        } else {
            out.push_str(&s);
        }
    }
    out
}

/// One typo in a word: a letter replaced by a neighbour of the same script, dropped,
/// doubled, or two letters swapped.
fn typo(r: &mut Rng, word: &str) -> String {
    let mut c: Vec<char> = word.chars().collect();
    if c.len() < 4 {
        return word.to_string();
    }
    let i = 1 + r.below(c.len() - 1);
    match r.below(4) {
        0 => {
            let base = c[i] as u32;
            let shifted = if r.chance(50) { base + 1 } else { base - 1 };
            if let Some(n) = char::from_u32(shifted).filter(|n| n.is_alphabetic()) {
                c[i] = n;
            } else {
                c.remove(i);
            }
        }
        1 => {
            c.remove(i);
        }
        2 => {
            let x = c[i];
            c.insert(i, x);
        }
        _ => c.swap(i - 1, i),
    }
    c.into_iter().collect()
}

fn arabic_forms(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| match c {
            'ی' => 'ي',
            'ک' => 'ك',
            'ه' if chars.get(i + 1).is_none_or(|n| *n == ' ') => 'ة',
            c => c,
        })
        .collect()
}

/// The Latin form of a word of `g`'s name.
fn latin_word(r: &mut Rng, g: &Gen, i: usize) -> String {
    match g.lang {
        Lang::Thai | Lang::Persian => r.pick(&g.latin[i]).clone(),
        Lang::Vietnamese => strip_diacritics(&g.words[i]),
        Lang::Russian | Lang::Ukrainian => {
            let scheme = r.below(3);
            cyrillic_latin(&g.words[i], g.lang == Lang::Ukrainian, scheme)
        }
    }
}

fn latin_name(r: &mut Rng, g: &Gen) -> Vec<String> {
    (0..g.words.len()).map(|i| latin_word(r, g, i)).collect()
}

fn to_person(g: &Gen) -> Person {
    Person {
        name: g.words.join(" "),
        name_latin: None,
        date_of_birth: Some(if g.approximate {
            format!("{}-01-01", g.dob.0)
        } else {
            format!("{:04}-{:02}-{:02}", g.dob.0, g.dob.1, g.dob.2)
        }),
        birth_date_approximate: g.approximate,
        gender: Some(if g.female { "female" } else { "male" }.into()),
        phones: g.phone.iter().cloned().collect(),
        household: g.household.clone(),
    }
}

/// `g` at intake again, written another way (one to three variations).
fn duplicate(r: &mut Rng, g: &Gen) -> Person {
    let mut p = to_person(g);
    let mut words = g.words.clone();
    let n = 1 + r.below(3);
    let mut latin_only = false;
    for _ in 0..n {
        match r.below(10) {
            0 => {
                // A typo in a word of four letters or more.
                let long: Vec<usize> = (0..words.len())
                    .filter(|&i| words[i].chars().count() >= 4)
                    .collect();
                if !long.is_empty() {
                    let i = *r.pick(&long);
                    words[i] = typo(r, &words[i]);
                }
            }
            1 => {
                words = words
                    .iter()
                    .map(|w| match g.lang {
                        Lang::Vietnamese => strip_diacritics(w),
                        Lang::Russian => w.replace('ё', "е").replace('Ё', "Е"),
                        Lang::Ukrainian => w.replace('ї', "і"),
                        _ => w.clone(),
                    })
                    .collect();
            }
            2 => {
                words = latin_name(r, g);
                latin_only = true;
            }
            3 => {
                let latin = latin_name(r, g);
                p.name_latin = Some(latin.join(" "));
            }
            4 => {
                words.rotate_left(1);
            }
            5 if g.lang == Lang::Persian && !latin_only => {
                words = words.iter().map(|w| arabic_forms(w)).collect();
            }
            5 | 6 => {
                let y = g.dob.0 + r.below(3) as i32 - 1;
                p.date_of_birth = Some(format!("{y}-01-01"));
                p.birth_date_approximate = true;
            }
            7 => {
                if !g.approximate && g.dob.2 <= 12 {
                    p.date_of_birth = Some(format!("{:04}-{:02}-{:02}", g.dob.0, g.dob.2, g.dob.1));
                }
            }
            8 => {
                if r.chance(50) {
                    p.date_of_birth = None;
                } else {
                    p.phones.clear();
                }
            }
            _ => {
                p.household.clear();
                if let Some(ph) = &g.phone {
                    p.phones = vec![phone_other_format(ph)];
                }
            }
        }
    }
    p.name = words.join(" ");
    p
}

fn phone_other_format(p: &str) -> String {
    let digits: String = p.chars().filter(char::is_ascii_digit).collect();
    format!("0{}", &digits[digits.len() - 9..])
}

#[derive(Default, Debug)]
struct Tally {
    duplicates: usize,
    found_likely: usize,
    found_any: usize,
    likely: usize,
    likely_right: usize,
}

fn main() {
    let mut r = Rng(0x0019_D0D0_CA5E_F11E);
    const PER_LANG: usize = 400;
    let mut registered: Vec<Gen> = Vec::new();
    for &lang in &LANGS {
        let start = registered.len();
        for i in 0..PER_LANG {
            let g = if i > 0 && r.chance(20) {
                let of = registered[start + r.below(i)].clone();
                relative(&mut r, &of)
            } else {
                let fam = r.below(family_count(lang));
                person(&mut r, lang, fam)
            };
            registered.push(g);
        }
    }
    let prepared: Vec<(usize, Prepared)> = registered
        .iter()
        .enumerate()
        .map(|(i, g)| (i, Prepared::of(&to_person(g))))
        .collect();

    // Intake: 1,000 duplicates and 1,000 new people.
    let mut queries: Vec<(Lang, Person, Option<usize>)> = Vec::new();
    for _ in 0..1000 {
        let i = r.below(registered.len());
        queries.push((
            registered[i].lang,
            duplicate(&mut r, &registered[i]),
            Some(i),
        ));
    }
    for _ in 0..1000 {
        let g = &registered[r.below(registered.len())];
        let p = match r.below(3) {
            0 => to_person(&relative(&mut r, g)),
            1 => {
                // A namesake: the same name, born another year.
                let mut q = person(&mut r, g.lang, g.family);
                q.words = g.words.clone();
                q.latin = g.latin.clone();
                q.female = g.female;
                q.dob.0 = g.dob.0 + 3 + r.below(20) as i32;
                to_person(&q)
            }
            _ => {
                let fam = r.below(family_count(g.lang));
                to_person(&person(&mut r, g.lang, fam))
            }
        };
        queries.push((g.lang, p, None));
    }

    // Each query answered twice: by comparing with every registered person (the scan the
    // server ran before blocking) and through the blocked index the server now runs.
    let index: Index<usize> = prepared.iter().cloned().collect();
    let mut scan_tally: HashMap<Lang, Tally> = HashMap::new();
    let mut tally: HashMap<Lang, Tally> = HashMap::new();
    let mut misses: Vec<(Lang, String, String)> = Vec::new();
    let (mut differ, mut candidates) = (0, 0);
    for (lang, q, truth) in &queries {
        let q_prepared = Prepared::of(q);
        let scanned = find(&q_prepared, prepared.iter().map(|(k, p)| (k, p)));
        let found = index.find(&q_prepared, None);
        candidates += index.candidates(&q_prepared).len();
        if !same_answer(&scanned, &found) {
            differ += 1;
        }
        tally_of(scan_tally.entry(*lang).or_default(), &scanned, *truth);
        let t = tally.entry(*lang).or_default();
        tally_of(t, &found, *truth);
        if std::env::var_os("MATCH_EVAL_MISSES").is_none() {
            continue;
        }
        for (k, a) in &found {
            // A registered relative who is the same person as the truth cannot exist:
            // each registered person is one person.
            if a.band == MatchBand::Likely && Some(*k) != *truth {
                println!(
                    "wrong {lang:?}: {:?} | {:?} {:?}",
                    to_person(&registered[*k]),
                    q,
                    a.reasons
                );
            }
        }
        if let Some(i) = truth {
            let hit = found.iter().find(|(k, _)| k == i);
            if hit.is_none_or(|(_, a)| a.band != MatchBand::Likely) {
                misses.push((*lang, to_person(&registered[*i]).name, q.name.clone()));
            }
        }
    }
    for (lang, a, b) in &misses {
        println!("missed {lang:?}: {a} | {b}");
    }
    table(
        "every registered person compared (the scan before blocking)",
        &scan_tally,
    );
    table(
        "blocked index (matching::Index, as the server runs)",
        &tally,
    );
    println!(
        "blocked against scanned: {differ} of {} answers differ; {:.1} candidates compared per check among 2,000",
        queries.len(),
        candidates as f64 / queries.len() as f64
    );

    // One check against 5,000 people.
    let mut big: Vec<(usize, Prepared)> = Vec::new();
    for i in 0..5000 {
        let lang = LANGS[i % LANGS.len()];
        let fam = r.below(family_count(lang));
        big.push((i, Prepared::of(&to_person(&person(&mut r, lang, fam)))));
    }
    let mut times: Vec<Duration> = Vec::new();
    let mut found = 0;
    for (_, q, _) in queries.iter().step_by(10) {
        let start = Instant::now();
        let q = Prepared::of(q);
        found += find(&q, big.iter().map(|(k, p)| (k, p))).len();
        times.push(start.elapsed());
    }
    report("matcher, 5,000 prepared people", &mut times, found);

    // The server's check (`fieldcase-server`'s `matching::MatchIndex::check`): the blocked
    // index of 100,000 prepared clients by case, the new case left out. The scan it
    // replaces (every client compared) runs beside it on every fourth check, so that both
    // answers are held together and the time saved is measured on the same machine.
    let before = HEAP.current_usage();
    let mut agency: HashMap<u64, Prepared> = HashMap::new();
    for i in 0..100_000u64 {
        let lang = LANGS[i as usize % LANGS.len()];
        let fam = r.below(family_count(lang));
        let g = if i > 0 && r.chance(20) {
            let p = person(&mut r, lang, fam);
            relative(&mut r, &p)
        } else {
            person(&mut r, lang, fam)
        };
        agency.insert(i, Prepared::of(&to_person(&g)));
    }
    let map_bytes = HEAP.current_usage().saturating_sub(before);
    let before = HEAP.current_usage();
    let built = Instant::now();
    let blocked: Index<u64> = agency.iter().map(|(k, p)| (*k, p.clone())).collect();
    let built = built.elapsed();
    let index_bytes = HEAP.current_usage().saturating_sub(before);
    // The same clients alone (cloned as the index's are, so their capacities are alike):
    // what the index holds beyond them is the blocking's cost.
    let before = HEAP.current_usage();
    let alone: Vec<(u64, Prepared)> = agency.iter().map(|(k, p)| (*k, p.clone())).collect();
    let alone_bytes = HEAP.current_usage().saturating_sub(before);
    drop(alone);
    let (words, names) = blocked.vocabulary();
    println!(
        "server index of {} clients built in {:.2} s: {} bytes per client, of which {} are the prepared clients and {} the blocking (lists, slots); {} per client in the map by case the scan ran over; {words} distinct words, {names} whole names",
        blocked.len(),
        built.as_secs_f64(),
        index_bytes / blocked.len(),
        alone_bytes / blocked.len(),
        index_bytes.saturating_sub(alone_bytes) / blocked.len(),
        map_bytes / agency.len(),
    );
    let mut times: Vec<Duration> = Vec::new();
    let mut scan_times: Vec<Duration> = Vec::new();
    let (mut found, mut scan_found, mut compared, mut most) = (0, 0, 0, 0);
    let (mut scanned_checks, mut differ) = (0, 0);
    for (n, (_, q, _)) in queries.iter().step_by(10).enumerate() {
        let itself = n as u64;
        let start = Instant::now();
        let q = Prepared::of(q);
        let answer = blocked.find(&q, Some(&itself));
        times.push(start.elapsed());
        found += answer.len();
        let drawn = blocked.candidates(&q).len();
        compared += drawn;
        most = most.max(drawn);
        if n % 4 == 0 {
            let start = Instant::now();
            let q_again = Prepared::of(&queries[n * 10].1);
            let scanned = find(&q_again, agency.iter().filter(|(k, _)| **k != itself));
            scan_times.push(start.elapsed());
            scan_found += scanned.len();
            scanned_checks += 1;
            if !same_answer(&scanned, &answer) {
                differ += 1;
            }
        }
    }
    println!(
        "({:.0} candidates compared per check on average, {most} at most; {differ} of {scanned_checks} answers differ from the scan)",
        compared as f64 / times.len() as f64
    );
    report(
        "server, blocked index (matching::Index), 100,000 prepared clients",
        &mut times,
        found,
    );
    report(
        "server, scan of every client (before blocking), 100,000 prepared clients",
        &mut scan_times,
        scan_found,
    );

    // The same check when nearly every word is new: 100,000 clients named by two random
    // words of six letters of one script (as fieldcase-bench names its cases), so that the
    // blocking's vocabulary is as large as it gets; a check reads only the words of the
    // lengths that can pair with its own.
    let scripts: Vec<Vec<char>> = [
        "абвгдежзиклмнопрстуфхцчшщэюя",
        "กขคงจฉชซญดตถทธนบปผพฟมยรลวศสหอ",
        "ابپتجچحخدرزژسشعغفقکگلمنوهی",
        "abcdeghiklmnopqrstuvxy",
        "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя",
    ]
    .iter()
    .map(|s| s.chars().collect())
    .collect();
    let mut random_name = |i: usize| {
        let letters = &scripts[i % scripts.len()];
        let mut word = || -> String { (0..6).map(|_| letters[r.below(letters.len())]).collect() };
        let first = word();
        format!("{first} {}", word())
    };
    let distinct: Index<u64> = (0..100_000u64)
        .map(|i| {
            let name = random_name(i as usize);
            let p = Person {
                name,
                ..Person::default()
            };
            (i, Prepared::of(&p))
        })
        .collect();
    let newcomers: Vec<Prepared> = (0..200)
        .map(|i| {
            Prepared::of(&Person {
                name: random_name(i),
                ..Person::default()
            })
        })
        .collect();
    let mut times: Vec<Duration> = Vec::new();
    let (mut found, mut compared) = (0, 0);
    for q in &newcomers {
        let start = Instant::now();
        found += distinct.find(q, None).len();
        times.push(start.elapsed());
        compared += distinct.candidates(q).len();
    }
    let (words, _) = distinct.vocabulary();
    report(
        &format!(
            "server, blocked index, 100,000 clients of random names ({words} distinct words, {} candidates compared per check)",
            compared / newcomers.len()
        ),
        &mut times,
        found,
    );

    // The same through the phone's store: 5,000 cases opened at intake (name, date of
    // birth, sex), then CaseStore::possible_matches for a new case.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = CaseStore::open(dir.path().join("phone.sqlite"), &[7u8; 32]).expect("store");
    store
        .sign_in(UserContext {
            user_id: "u-eval".into(),
            name: "Eval".into(),
            role: Role::Worker,
            team: None,
            device_id: "eval".into(),
        })
        .expect("sign in");
    let filled = Instant::now();
    for i in 0..5000 {
        let lang = LANGS[i % LANGS.len()];
        let fam = r.below(family_count(lang));
        store
            .create_case(new_case(&to_person(&person(&mut r, lang, fam))))
            .expect("create");
    }
    println!(
        "(5,000 cases written in {:.1} s)",
        filled.elapsed().as_secs_f64()
    );
    let mut times: Vec<Duration> = Vec::new();
    let mut found = 0;
    for (_, q, _) in queries.iter().step_by(10) {
        let new = new_case(q);
        let start = Instant::now();
        found += store.possible_matches(&new).len();
        times.push(start.elapsed());
    }
    report(
        "CaseStore::possible_matches, 5,000 cases",
        &mut times,
        found,
    );
}

fn new_case(p: &Person) -> NewCase {
    NewCase {
        team: "north".into(),
        client: ClientInput {
            name: Some(p.name.clone()),
            name_latin: p.name_latin.clone(),
            date_of_birth: p.date_of_birth.clone(),
            birth_date_approximate: Some(p.birth_date_approximate),
            gender: p.gender.clone(),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn report(what: &str, times: &mut [Duration], found: usize) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "one check, {what} ({} checks, {found} matches): median {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        times.len(),
        ms(times[times.len() / 2]),
        ms(times[times.len() * 95 / 100]),
        ms(times[times.len() * 99 / 100]),
        ms(times[times.len() - 1]),
    );
}

/// Whether two answers name the same people with the same scores and bands, in order.
fn same_answer<K: PartialEq>(a: &[(K, Assessment)], b: &[(K, Assessment)]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|((k1, a1), (k2, a2))| k1 == k2 && a1 == a2)
}

/// Counts one answer: likely matches and whether they are the person, and whether the
/// true duplicate (if any) was found.
fn tally_of(t: &mut Tally, found: &[(usize, Assessment)], truth: Option<usize>) {
    for (k, a) in found {
        if a.band == MatchBand::Likely {
            t.likely += 1;
            if Some(*k) == truth {
                t.likely_right += 1;
            }
        }
    }
    if let Some(i) = truth {
        t.duplicates += 1;
        let hit = found.iter().find(|(k, _)| *k == i);
        if hit.is_some_and(|(_, a)| a.band == MatchBand::Likely) {
            t.found_likely += 1;
        }
        if hit.is_some() {
            t.found_any += 1;
        }
    }
}

/// Recall and precision per language.
fn table(what: &str, tally: &HashMap<Lang, Tally>) {
    println!("{what}:");
    println!(
        "{:<11} {:>6} {:>14} {:>15} {:>8} {:>17}",
        "language", "dups", "recall likely", "recall l.+poss.", "likely", "precision likely"
    );
    let mut all = Tally::default();
    for lang in LANGS {
        let t = &tally[&lang];
        row(&format!("{lang:?}"), t);
        all.duplicates += t.duplicates;
        all.found_likely += t.found_likely;
        all.found_any += t.found_any;
        all.likely += t.likely;
        all.likely_right += t.likely_right;
    }
    row("all", &all);
}

fn row(name: &str, t: &Tally) {
    let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    println!(
        "{:<11} {:>6} {:>14.3} {:>15.3} {:>8} {:>17.3}",
        name,
        t.duplicates,
        ratio(t.found_likely, t.duplicates),
        ratio(t.found_any, t.duplicates),
        t.likely,
        ratio(t.likely_right, t.likely),
    );
}
