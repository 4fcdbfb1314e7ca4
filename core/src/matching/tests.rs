use super::MatchBand::{Likely, Possible};
use super::MatchReason::*;
use super::*;

fn person(name: &str) -> Person {
    Person {
        name: name.into(),
        ..Default::default()
    }
}

fn born(name: &str, dob: &str) -> Person {
    Person {
        date_of_birth: Some(dob.into()),
        ..person(name)
    }
}

fn cmp(a: &Person, b: &Person) -> Option<(MatchBand, i32, Vec<MatchReason>)> {
    let r = compare(&Prepared::of(a), &Prepared::of(b)).map(|a| (a.band, a.score, a.reasons));
    // The comparison is symmetric.
    let back = compare(&Prepared::of(b), &Prepared::of(a)).map(|a| (a.band, a.score));
    assert_eq!(r.as_ref().map(|r| (r.0, r.1)), back);
    r
}

#[test]
fn vietnamese_without_diacritics_is_the_same_name() {
    let r = cmp(
        &born("Nguyễn Thị Lan", "1990-05-01"),
        &born("Nguyen Thi Lan", "1990-05-01"),
    );
    assert_eq!(
        r,
        Some((
            Likely,
            90,
            vec![
                SameName {
                    transliterated: false
                },
                SameDateOfBirth
            ]
        ))
    );
}

#[test]
fn cyrillic_and_latin_name_alone_is_possible_and_with_a_date_likely() {
    // Namesakes are common: a name alone is worth a look, not more.
    let r = cmp(&person("Фёдорова Анна"), &person("Fedorova Anna"));
    assert_eq!(
        r,
        Some((
            Possible,
            60,
            vec![SameName {
                transliterated: true
            }]
        ))
    );
    let r = cmp(
        &born("Фёдорова Анна", "1988-03-01"),
        &born("Fedorova Anna", "1988-03-01"),
    );
    assert_eq!(r.map(|r| (r.0, r.1)), Some((Likely, 90)));
}

#[test]
fn a_shared_family_name_is_not_a_match() {
    assert_eq!(
        cmp(
            &born("Фёдорова Анна", "1988-03-01"),
            &born("Фёдорова Мария", "1988-03-01")
        ),
        None
    );
    assert_eq!(
        cmp(
            &born("Nguyễn Thị Lan", "1990-05-01"),
            &born("Nguyễn Thị Lam", "1990-05-01")
        ),
        None,
        "a three-letter given name allows no edit"
    );
    assert_eq!(
        cmp(&person("Nguyễn Văn Minh"), &person("Nguyễn Thị Lan")),
        None
    );
}

#[test]
fn twins_sharing_a_phone_and_parents_are_at_most_possible() {
    let twin = |name: &str| Person {
        phones: vec!["+84 912 345 678".into()],
        household: vec!["Trần Thị Hoa".into(), "Nguyễn Văn Nam".into()],
        ..born(name, "2012-04-04")
    };
    assert_eq!(
        cmp(&twin("Nguyễn Văn Minh"), &twin("Nguyễn Thị Mai")),
        Some((
            Possible,
            80,
            vec![
                SameDateOfBirth,
                SamePhone,
                SharedHouseholdMembers { count: 2 }
            ]
        ))
    );
    // Siblings born apart: the dates contradict.
    let mut older = twin("Nguyễn Thị Mai");
    older.date_of_birth = Some("2009-10-10".into());
    assert_eq!(cmp(&twin("Nguyễn Văn Minh"), &older), None);
}

#[test]
fn name_order_and_one_letter() {
    assert_eq!(
        cmp(
            &born("Lan Nguyen Thi", "1990-05-01"),
            &born("Nguyễn Thị Lan", "1990-05-01")
        ),
        Some((
            Likely,
            90,
            vec![
                SameName {
                    transliterated: false
                },
                NameOrderSwapped,
                SameDateOfBirth
            ]
        ))
    );
    let typo = born("Fedorva Anna", "1988-03-01");
    assert_eq!(
        cmp(&typo, &born("Фёдорова Анна", "1988-03-01")),
        Some((
            Likely,
            85,
            vec![
                NameDiffers {
                    letters: 1,
                    transliterated: true
                },
                SameDateOfBirth
            ]
        ))
    );
    assert_eq!(
        cmp(&person("Fedorva Anna"), &person("Фёдорова Анна")),
        Some((
            Possible,
            55,
            vec![NameDiffers {
                letters: 1,
                transliterated: true
            }]
        ))
    );
}

#[test]
fn a_missing_middle_name() {
    assert_eq!(
        cmp(
            &born("Nguyen Lan", "1990-05-01"),
            &born("Nguyễn Thị Lan", "1990-05-01")
        ),
        Some((
            Likely,
            75,
            vec![
                SameName {
                    transliterated: false
                },
                NamePartMissing { parts: 1 },
                SameDateOfBirth
            ]
        ))
    );
}

#[test]
fn dates_of_birth() {
    let approx = Person {
        birth_date_approximate: true,
        ..born("Fedorova Anna", "1988-01-01")
    };
    assert_eq!(
        cmp(&approx, &born("Фёдорова Анна", "1989-06-12")),
        Some((
            Likely,
            75,
            vec![
                SameName {
                    transliterated: true
                },
                DateOfBirthWithinWindow { years: 1 }
            ]
        ))
    );
    assert_eq!(
        cmp(&approx, &approx).map(|r| r.2),
        Some(vec![
            SameName {
                transliterated: false
            },
            DateOfBirthWithinWindow { years: 0 }
        ]),
        "two estimates written alike are still estimates"
    );
    assert_eq!(
        cmp(&approx, &born("Фёдорова Анна", "1995-06-12")),
        None,
        "seven years apart"
    );
    assert_eq!(
        cmp(
            &born("Fedorova Anna", "1979"),
            &born("Фёдорова Анна", "1979-06-12")
        )
        .map(|r| r.2),
        Some(vec![
            SameName {
                transliterated: true
            },
            DateOfBirthWithinWindow { years: 0 }
        ]),
        "a year alone is approximate"
    );
    // Two exact dates that differ: the same name is then another person.
    assert_eq!(
        cmp(
            &born("Nguyen Thi Lan", "1990-05-01"),
            &born("Nguyễn Thị Lan", "1972-11-20")
        ),
        None
    );
    assert_eq!(
        cmp(
            &born("Nguyen Thi Lan", "1990-05-01"),
            &born("Nguyễn Thị Lan", "1990-01-05")
        ),
        Some((
            Likely,
            70,
            vec![
                SameName {
                    transliterated: false
                },
                DateOfBirthNearlySame
            ]
        ))
    );
}

#[test]
fn sex_contradicts() {
    let f = Person {
        gender: Some("female".into()),
        ..born("Nguyen Thi Lan", "1990-05-01")
    };
    let m = Person {
        gender: Some("male".into()),
        ..born("Nguyễn Thị Lan", "1990-05-01")
    };
    assert_eq!(
        cmp(&f, &m),
        Some((
            Possible,
            50,
            vec![
                SameName {
                    transliterated: false
                },
                SameDateOfBirth,
                GenderDiffers
            ]
        ))
    );
    let other = Person {
        gender: Some("undisclosed".into()),
        ..m.clone()
    };
    assert_eq!(cmp(&f, &other).map(|r| r.0), Some(Likely));
}

#[test]
fn persian_by_consonants_and_letter_forms() {
    assert_eq!(
        cmp(
            &born("محمد حسینی", "1985-02-03"),
            &born("Mohammad Hosseini", "1985-02-03")
        ),
        Some((Likely, 85, vec![SameNameConsonants, SameDateOfBirth]))
    );
    assert_eq!(
        cmp(
            &born("علي رضايي", "1985-02-03"),
            &born("علی رضایی", "1985-02-03")
        ),
        Some((
            Likely,
            90,
            vec![
                SameName {
                    transliterated: false
                },
                SameDateOfBirth
            ]
        ))
    );
    // Written as one word.
    assert_eq!(
        cmp(
            &born("محمدعلی کریمی", "1985-02-03"),
            &born("محمد علی کریمی", "1985-02-03")
        )
        .map(|r| r.0),
        Some(Likely)
    );
    assert_eq!(
        cmp(
            &born("فاطمه موسوی", "1985-02-03"),
            &born("زهرا موسوی", "1985-02-03")
        ),
        None,
        "sisters"
    );
}

#[test]
fn thai_against_the_latin_name_a_worker_entered() {
    let existing = Person {
        name_latin: Some("Somchai Jaidee".into()),
        ..born("Somchai Jaidee", "1979-09-09")
    };
    assert_eq!(
        cmp(&born("สมชาย ใจดี", "1979-09-09"), &existing),
        Some((
            Likely,
            90,
            vec![
                SameName {
                    transliterated: true
                },
                SameDateOfBirth
            ]
        ))
    );
    assert_eq!(
        cmp(
            &born("สมชาย ใจดี", "1979-09-09"),
            &born("สมศรี ใจดี", "1979-09-09")
        ),
        None
    );
}

#[test]
fn phones_with_and_without_country_code() {
    let a = Person {
        phones: vec!["+380 50 123 4567".into()],
        ..person("Fedorva Anna")
    };
    let b = Person {
        phones: vec!["050-123-45-67".into(), "12".into()],
        ..person("Фёдорова Анна")
    };
    assert_eq!(
        cmp(&a, &b),
        Some((
            Likely,
            85,
            vec![
                NameDiffers {
                    letters: 1,
                    transliterated: true
                },
                SamePhone
            ]
        ))
    );
    let c = Person {
        phones: vec!["۰۵۰۱۲۳۴۵۶۷".into()],
        ..person("Someone Else")
    };
    assert_eq!(cmp(&a, &c), None, "a phone alone is not enough");
}

#[test]
fn find_orders_and_bounds() {
    let people: Vec<(String, Prepared)> = [
        ("c", born("Fedorva Anna", "1988-03-01")),
        ("a", born("Фёдорова Анна", "1988-03-01")),
        ("b", born("Fedorova Anna", "1988-03-01")),
        ("d", born("Фёдорова Мария", "1988-03-01")),
    ]
    .into_iter()
    .map(|(k, p)| (k.to_string(), Prepared::of(&p)))
    .collect();
    let found = find(
        &Prepared::of(&born("Фёдорова Анна", "1988-03-01")),
        people.iter().map(|(k, p)| (k, p)),
    );
    let ids: Vec<(&str, i32)> = found.iter().map(|(k, a)| (k.as_str(), a.score)).collect();
    assert_eq!(ids, [("a", 90), ("b", 90), ("c", 85)]);
    assert!(find(
        &Prepared::of(&person("")),
        people.iter().map(|(k, p)| (k, p))
    )
    .is_empty());
    let many: Vec<(usize, Prepared)> = (0..MAX_MATCHES + 5)
        .map(|i| (i, Prepared::of(&person("Fedorova Anna"))))
        .collect();
    let found = find(
        &Prepared::of(&person("Фёдорова Анна")),
        many.iter().map(|(k, p)| (k, p)),
    );
    assert_eq!(found.len(), MAX_MATCHES);
}

#[test]
fn prepared_survives_serialisation() {
    let p = Prepared::of(&Person {
        phones: vec!["+84 912 345 678".into()],
        household: vec!["Trần Thị Hoa".into()],
        gender: Some("female".into()),
        birth_date_approximate: true,
        ..born("Nguyễn Thị Lan", "1990")
    });
    let json = serde_json::to_string(&p).unwrap();
    assert_eq!(serde_json::from_str::<Prepared>(&json).unwrap(), p);
}
