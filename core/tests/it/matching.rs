//! Duplicate detection on the phone (issue 19): before a new case is saved, the cases on
//! the device whose client may be the same person, found offline from the index, also
//! after the store is reopened.

use fieldcase_core::case::{ClientInput, ContactInput, HouseholdMemberInput};
use fieldcase_core::matching::{MatchBand, MatchReason, Person};
use fieldcase_core::store::UserContext;
use fieldcase_core::{CaseStore, NewCase, Role};

const KEY: [u8; 32] = [19u8; 32];

fn open(dir: &tempfile::TempDir) -> CaseStore {
    let s = CaseStore::open(dir.path().join("phone.sqlite"), &KEY).unwrap();
    if s.user().is_none() {
        s.sign_in(UserContext {
            user_id: "u-anna".into(),
            name: "Anna".into(),
            role: Role::Worker,
            team: None,
            device_id: "phone-1".into(),
        })
        .unwrap();
    }
    s
}

fn new_case(name: &str, dob: Option<&str>) -> NewCase {
    NewCase {
        team: "team-north".into(),
        client: ClientInput {
            name: Some(name.into()),
            date_of_birth: dob.map(Into::into),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn ids(store: &CaseStore, new: &NewCase) -> Vec<(String, MatchBand)> {
    store
        .possible_matches(new)
        .into_iter()
        .map(|m| (m.client_name, m.band))
        .collect()
}

#[test]
fn intake_finds_the_client_written_in_another_script_offline() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let lan = store
        .create_case(new_case("Nguyễn Thị Lan", Some("1990-05-01")))
        .unwrap();
    let anna = store
        .create_case(new_case("Фёдорова Анна", Some("1988-03-01")))
        .unwrap();
    store
        .create_case(new_case("Фёдорова Мария", Some("1988-03-01")))
        .unwrap();
    store
        .update(&anna, |c, a, now| {
            c.add_contact(
                a,
                now,
                ContactInput {
                    kind: Some("phone".into()),
                    value: Some("+380 50 123 4567".into()),
                    ..Default::default()
                },
            )?;
            c.add_household_member(
                a,
                now,
                HouseholdMemberInput {
                    name: Some("Марко".into()),
                    ..Default::default()
                },
            )
        })
        .unwrap();

    let found = store.possible_matches(&new_case("Nguyen Thi Lan", Some("1990-05-01")));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].case_id, lan.to_string());
    assert_eq!(found[0].client_name, "Nguyễn Thị Lan");
    assert_eq!(found[0].band, MatchBand::Likely);
    assert_eq!(
        found[0].reasons,
        [
            MatchReason::SameName {
                transliterated: false
            },
            MatchReason::SameDateOfBirth
        ]
    );
    // The sister shares the family name and the date: she is not proposed.
    assert_eq!(
        ids(&store, &new_case("Fedorova Anna", Some("1988-03-01"))),
        [("Фёдорова Анна".to_string(), MatchBand::Likely)]
    );
    assert!(ids(&store, &new_case("Tran Van Hung", Some("1990-05-01"))).is_empty());

    // Reopened: the keys come back from the sealed summaries.
    drop(store);
    let store = open(&dir);
    assert_eq!(
        ids(&store, &new_case("Fedorova Anna", None)),
        [("Фёдорова Анна".to_string(), MatchBand::Possible)]
    );
    // Phones and household members of the existing case count.
    let found = store.possible_matches_of(&Person {
        name: "Fedorova Anna".into(),
        phones: vec!["050 123 45 67".into()],
        household: vec!["Marko".into()],
        ..Default::default()
    });
    assert_eq!(found[0].case_id, anna.to_string());
    assert_eq!(found[0].band, MatchBand::Likely);
    assert_eq!(
        found[0].reasons,
        [
            MatchReason::SameName {
                transliterated: true
            },
            MatchReason::SamePhone,
            MatchReason::SharedHouseholdMembers { count: 1 }
        ]
    );
    // A purged case is no longer proposed.
    store.purge_case(&anna).unwrap();
    assert!(ids(&store, &new_case("Fedorova Anna", Some("1988-03-01"))).is_empty());
}
