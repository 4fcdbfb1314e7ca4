//! The client's area (schema revision 5): the code of one of the agency's areas, a scalar
//! that a case written before revision 5 simply lacks (no upgrade change), checked for its
//! shape by the core and for its existence by the server.

use fieldcase_core::case::upgrade;
use fieldcase_core::case::ClientInput;
use fieldcase_core::schema::{self, AREA_CODE_MAX, SCHEMA_REVISION};
use fieldcase_core::Error;
use serde_json::json;

use crate::fixtures::*;
use crate::process_admission::admit_as;

#[test]
fn revision_five_adds_only_a_scalar_so_no_upgrade_change_is_made() {
    assert_eq!(SCHEMA_REVISION, 5);
    assert!(upgrade::added_containers(5).is_empty());
    let w = worker(1);
    // A case as a revision-4 phone wrote it: no area.
    let case = new_case(&w, NAMES[4]);
    assert_eq!(case.read().unwrap().client.area, None);
    let mut edited = replica(&case);
    edited
        .update_client(
            &w,
            T0 + 10,
            ClientInput {
                area: Some("00001".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let changes = edited.automerge().get_changes(&case.heads());
    assert_eq!(changes.len(), 1, "the edit alone, no upgrade change");
    assert!(!upgrade::is_upgrade_actor(changes[0].actor_id()));
    assert_eq!(edited.read().unwrap().client.area.as_deref(), Some("00001"));
    schema::validate(edited.automerge()).unwrap();
    admit_as(&w, &case, &edited).unwrap();
}

#[test]
fn an_area_code_is_a_short_code_and_two_phones_setting_it_conflict() {
    let w = worker(1);
    let s = supervisor();
    let mut case = new_case(&w, NAMES[0]);
    for bad in [
        json!(""),
        json!("Xã Tân Phú"),
        json!("a/b"),
        json!("x".repeat(AREA_CODE_MAX + 1)),
        json!(7),
    ] {
        let e = case
            .set_field(&w, T0 + 1, "client/area", &bad)
            .expect_err("refused");
        assert!(matches!(e, Error::InvalidInput { .. }), "{bad}: {e}");
    }
    assert_eq!(case.read().unwrap().client.area, None);
    let mut office = replica(&case);
    case.set_field(&w, T0 + 2, "client/area", &json!("TH-100101"))
        .unwrap();
    office
        .set_field(&s, T0 + 3, "client/area", &json!("TH-100102"))
        .unwrap();
    case.merge(&mut office).unwrap();
    // Concurrent areas are a conflict for people to resolve, like any short field.
    assert!(fieldcase_core::conflicts(&case)
        .iter()
        .any(|c| c.path == "client/area"));
    // Cleared with null.
    case.set_field(&w, T0 + 4, "client/area", &json!(null))
        .unwrap();
    assert_eq!(case.read().unwrap().client.area, None);
}
