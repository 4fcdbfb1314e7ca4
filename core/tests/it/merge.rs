//! Merge semantics of DESIGN.md: what two phones editing apart get back.

use fieldcase_core::case::ClientInput;
use fieldcase_core::{conflicts, history, last_change};
use serde_json::json;

use crate::fixtures::*;

#[test]
fn same_scalar_set_concurrently_is_a_conflict_with_both_authors() {
    let (a, b) = (worker(1), worker(2));
    let mut one = new_case(&a, NAMES[4]);
    let mut two = replica(&one);
    one.set_field(&a, T0 + 1000, "client/address", &json!("Hà Nội"))
        .unwrap();
    two.set_field(&b, T0 + 2000, "client/address", &json!("Hải Phòng"))
        .unwrap();
    one.merge(&mut two).unwrap();
    two.merge(&mut one).unwrap();

    let c1 = conflicts(&one);
    assert_eq!(
        c1,
        conflicts(&two),
        "both replicas report the same conflict"
    );
    assert_eq!(c1.len(), 1, "{c1:?}");
    let c = &c1[0];
    assert_eq!(c.path, "client/address");
    let mut vals: Vec<_> = c
        .values
        .iter()
        .map(|v| (v.value.clone(), v.by.user_id.clone().unwrap()))
        .collect();
    vals.sort_by_key(|v| v.1.clone());
    assert_eq!(
        vals,
        vec![
            (json!("Hà Nội"), "u-worker-1".to_string()),
            (json!("Hải Phòng"), "u-worker-2".to_string())
        ]
    );
    assert_eq!(c.values.iter().filter(|v| v.winner).count(), 1);
    let shown = one.read().unwrap().client.address.unwrap();
    let winner = c.values.iter().find(|v| v.winner).unwrap();
    assert_eq!(
        json!(shown),
        winner.value,
        "the winner is what the case shows"
    );
    assert_eq!(
        c.values
            .iter()
            .find(|v| v.by.user_id.as_deref() == Some("u-worker-2"))
            .unwrap()
            .by
            .at,
        fieldcase_core::case::rfc3339(T0 + 2000)
    );

    // Resolving is a normal edit: the supervisor picks one, the conflict is gone everywhere.
    let s = supervisor();
    one.set_field(&s, T0 + 3000, "client/address", &json!("Hải Phòng"))
        .unwrap();
    two.merge(&mut one).unwrap();
    assert!(conflicts(&two).is_empty());
    assert_eq!(
        two.read().unwrap().client.address.as_deref(),
        Some("Hải Phòng")
    );
    let h = history(&two, "client/address").unwrap();
    assert_eq!(h.len(), 3, "{h:?}");
    assert_eq!(h.last().unwrap().by.user_id.as_deref(), Some("u-super"));
}

#[test]
fn the_same_value_set_twice_is_not_a_conflict() {
    let (a, b) = (worker(1), worker(2));
    let mut one = new_case(&a, NAMES[0]);
    let mut two = replica(&one);
    one.set_field(&a, T0, "client/gender", &json!("female"))
        .unwrap();
    two.set_field(&b, T0, "client/gender", &json!("female"))
        .unwrap();
    one.merge(&mut two).unwrap();
    assert!(conflicts(&one).is_empty());
}

#[test]
fn different_fields_and_new_entries_are_all_kept() {
    let (a, b) = (worker(1), worker(2));
    let mut one = new_case(&a, NAMES[1]);
    let mut two = replica(&one);
    one.update_client(
        &a,
        T0,
        ClientInput {
            address: Some("تهران".into()),
            ..Default::default()
        },
    )
    .unwrap();
    two.update_client(
        &b,
        T0,
        ClientInput {
            languages: Some(vec!["fa".into()]),
            ..Default::default()
        },
    )
    .unwrap();
    let v1 = one.add_visit(&a, T0, visit(NOTES[1])).unwrap();
    let v2 = two.add_visit(&b, T0, visit(NOTES[2])).unwrap();
    one.merge(&mut two).unwrap();
    let f = one.read().unwrap();
    assert_eq!(f.client.address.as_deref(), Some("تهران"));
    assert_eq!(f.client.languages, vec!["fa"]);
    let ids: Vec<_> = f.visits.iter().map(|v| v.id.clone()).collect();
    assert!(ids.contains(&v1) && ids.contains(&v2));
    assert!(conflicts(&one).is_empty(), "{:?}", conflicts(&one));
}

#[test]
fn the_same_note_edited_on_two_phones_merges_character_by_character() {
    let (a, b) = (worker(1), worker(2));
    let mut one = new_case(&a, NAMES[2]);
    let vid = one
        .add_visit(&a, T0, visit("Семья получила помощь."))
        .unwrap();
    let mut two = replica(&one);
    let path = format!("visits/{vid}/note");
    one.edit_text(&a, T0, &path, 0, 0, "Утром: ").unwrap();
    let len = "Семья получила помощь.".chars().count();
    two.edit_text(&b, T0, &path, len, 0, " Ребёнок в школе.")
        .unwrap();
    one.merge(&mut two).unwrap();
    two.merge(&mut one).unwrap();
    let note = one.read().unwrap().visits[0].note.clone();
    assert_eq!(note, "Утром: Семья получила помощь. Ребёнок в школе.");
    assert_eq!(two.read().unwrap().visits[0].note, note);
    let h = history(&one, &path).unwrap();
    assert_eq!(h.len(), 3, "created, then one edit per phone: {h:?}");
    assert!(h
        .iter()
        .any(|c| c.by.user_id.as_deref() == Some("u-worker-2")
            && c.inserted == " Ребёнок в школе.".chars().count()));
}

/// The byline of a field names whoever last changed it: for a note, its last editor
/// (a deletion counts), not whoever wrote it first; for a scalar, who set the value shown.
#[test]
fn the_last_change_of_a_note_is_its_last_edit() {
    let (a, b) = (worker(1), worker(2));
    let mut one = new_case(&a, NAMES[1]);
    let vid = one
        .add_visit(&a, T0, visit("خانواده در خانه بودند."))
        .unwrap();
    let path = format!("visits/{vid}/note");
    let by = |doc: &fieldcase_core::CaseDoc, p: &str| {
        let l = last_change(doc, p).unwrap();
        (l.user_id.unwrap(), l.at)
    };
    assert_eq!(
        by(&one, &path),
        ("u-worker-1".into(), fieldcase_core::case::rfc3339(T0))
    );
    let mut two = replica(&one);
    two.edit_text(&b, T0 + 5000, &path, 0, 0, "صبح: ").unwrap();
    one.merge(&mut two).unwrap();
    assert_eq!(
        by(&one, &path),
        (
            "u-worker-2".into(),
            fieldcase_core::case::rfc3339(T0 + 5000)
        ),
        "the colleague's edit is the last change of the note"
    );
    // A deletion alone is a change too.
    one.edit_text(&a, T0 + 9000, &path, 0, 5, "").unwrap();
    assert_eq!(
        by(&one, &path),
        (
            "u-worker-1".into(),
            fieldcase_core::case::rfc3339(T0 + 9000)
        )
    );
    // Fields beside it keep their own bylines.
    two.set_field(&b, T0 + 7000, "client/address", &json!("تهران"))
        .unwrap();
    one.merge(&mut two).unwrap();
    assert_eq!(by(&one, "client/address").0, "u-worker-2");
    assert_eq!(by(&one, &path).0, "u-worker-1");
}

#[test]
fn a_form_that_rewrites_a_text_merges_too() {
    // Forms often submit the whole text: update_text diffs it, so both sides survive.
    let (a, b) = (worker(1), worker(2));
    let mut one = new_case(&a, NAMES[3]);
    let mut two = replica(&one);
    one.update_client(
        &a,
        T0,
        ClientInput {
            notes: Some("Мати працює.".into()),
            ..Default::default()
        },
    )
    .unwrap();
    two.merge(&mut one).unwrap();
    one.update_client(
        &a,
        T0,
        ClientInput {
            notes: Some("Мати працює вночі.".into()),
            ..Default::default()
        },
    )
    .unwrap();
    two.update_client(
        &b,
        T0,
        ClientInput {
            notes: Some("Мати працює. Батько відсутній.".into()),
            ..Default::default()
        },
    )
    .unwrap();
    one.merge(&mut two).unwrap();
    assert_eq!(
        one.read().unwrap().client.notes,
        "Мати працює вночі. Батько відсутній."
    );
}

#[test]
fn two_retractions_of_one_entry_are_a_reported_conflict_not_a_hidden_one() {
    // Both phones create a `retracted` map at the same key: one hides the other, so the
    // supervisor must see both.
    let (a, b) = (worker(1), worker(2));
    let mut one = new_case(&a, NAMES[0]);
    let v = one.add_visit(&a, T0, visit(NOTES[0])).unwrap();
    let mut two = replica(&one);
    one.retract(&a, T0, &format!("visits/{v}"), "wrong family")
        .unwrap();
    two.retract(&b, T0, &format!("visits/{v}"), "duplicate")
        .unwrap();
    one.merge(&mut two).unwrap();
    let c = conflicts(&one);
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(c[0].path, format!("visits/{v}/retracted"));
}

#[test]
fn a_restriction_set_concurrently_with_lifting_it_keeps_the_case_restricted() {
    let (a, s) = (worker(1), supervisor());
    let mut one = new_case(&a, NAMES[1]);
    let mut two = replica(&one);
    // Phone A restricts the case; meanwhile on B it is restricted and then lifted.
    one.set_restricted(&a, T0, true).unwrap();
    two.set_restricted(&a, T0, true).unwrap();
    two.set_restricted(&s, T0 + 1, false).unwrap();
    assert!(!two.is_restricted());
    one.merge(&mut two).unwrap();
    assert_eq!(conflicts(&one).len(), 1, "{:?}", conflicts(&one));
    assert!(
        one.is_restricted(),
        "do no harm: a disagreement keeps the restriction"
    );
}

/// Another device files an entry under a colleague's actor (concurrently, and later over
/// it): the colleague's changes are never attributed to the name it wrote.
#[test]
fn attribution_trusts_only_what_an_actor_recorded_of_itself() {
    use automerge::transaction::Transactable;
    use automerge::{ObjType, ReadDoc, ROOT};

    let (a, b) = (worker(1), worker(2));
    let mut one = new_case(&a, NAMES[2]);
    let a_actor = one.automerge().get_actor().to_hex_string();
    one.set_field(&a, T0 + 1000, "client/address", &json!("Київ"))
        .unwrap();
    let mut two = replica(&one);
    // Worker 2 takes part normally (its own entry), then forges worker 1's.
    two.set_field(&b, T0 + 2000, "priority", &json!("high"))
        .unwrap();
    let forge = |doc: &mut automerge::Automerge, who: &str| {
        let mut tx = doc.transaction();
        let actors = match tx.get(ROOT, "actors").unwrap() {
            Some((_, id)) => id,
            None => panic!("no actors map"),
        };
        let entry = tx.put_object(&actors, &a_actor, ObjType::Map).unwrap();
        tx.put(&entry, "user_id", who).unwrap();
        tx.put(&entry, "device_id", "phone-x").unwrap();
        tx.put(&entry, "name", "Mallory").unwrap();
        tx.commit();
    };
    forge(two.automerge_mut(), "u-mallory");
    let b_actor = two.automerge().get_actor().to_hex_string();
    assert!(fieldcase_core::case::inspect::writes_foreign_actor_entry(
        two.automerge(),
        &b_actor
    ));
    assert!(!fieldcase_core::case::inspect::writes_foreign_actor_entry(
        one.automerge(),
        &a_actor
    ));

    // Causally after worker 1's own entry: worker 1 is no longer attributed at all.
    let by = |doc: &fieldcase_core::CaseDoc| {
        history(doc, "client/address").unwrap()[0]
            .by
            .user_id
            .clone()
    };
    assert_eq!(by(&two), None);
    assert!(!two.read().unwrap().actors.contains_key(&a_actor));
    // Worker 2's own entry still counts.
    assert_eq!(two.read().unwrap().actors[&b_actor].user_id, "u-worker-2");

    // Concurrently with worker 1 recording itself anew (its phone got a new device id):
    // both entries are current, and only worker 1's own counts.
    let mut three = replica(&one);
    forge(three.automerge_mut(), "u-mallory");
    let a_again = fieldcase_core::Author::new(
        "u-worker-1",
        "Worker 1",
        fieldcase_core::Role::Worker,
        "phone-1b",
    );
    one.set_field(&a_again, T0 + 3000, "client/address", &json!("Львів"))
        .unwrap();
    one.merge(&mut three).unwrap();
    let actors = one.automerge().get(ROOT, "actors").unwrap().unwrap().1;
    assert_eq!(one.automerge().get_all(&actors, &a_actor).unwrap().len(), 2);
    assert_eq!(by(&one).as_deref(), Some("u-worker-1"));
    assert_eq!(one.read().unwrap().actors[&a_actor].device_id, "phone-1b");
}
