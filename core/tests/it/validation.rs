//! Validation of a case's new changes ([`schema::validate_changes`]): the sections the changes
//! write in are checked, at any depth; what it admits is what checking the whole document
//! admits, for a case that was valid before.

use automerge::transaction::Transactable;
use automerge::{Automerge, ObjId, ObjType, ReadDoc, Value, ROOT};
use fieldcase_core::{schema, Outline};
use proptest::prelude::*;

use crate::fixtures::*;

/// A valid case with nested sections: a client, an intake, visits (entries of a list).
fn case() -> Automerge {
    let w = worker(1);
    let mut c = new_case(&w, "Phạm Thị Hoa");
    c.add_visit(&w, T0 + 1_000, visit("Thăm hộ gia đình"))
        .unwrap();
    c.add_visit(&w, T0 + 2_000, visit("Відвідування вдома"))
        .unwrap();
    c.automerge().clone()
}

/// Every map of the document with its keys, the case's own first.
fn maps(doc: &Automerge) -> Vec<(ObjId, Vec<String>)> {
    fn walk(doc: &Automerge, obj: ObjId, out: &mut Vec<(ObjId, Vec<String>)>) {
        match doc.object_type(&obj) {
            Ok(ObjType::Map) => {
                let keys: Vec<String> = doc.keys(&obj).collect();
                for k in &keys {
                    if let Ok(Some((Value::Object(_), child))) = doc.get(&obj, k.as_str()) {
                        walk(doc, child, out);
                    }
                }
                out.push((obj, keys));
            }
            Ok(ObjType::List) => {
                for i in 0..doc.length(&obj) {
                    if let Ok(Some((Value::Object(_), child))) = doc.get(&obj, i) {
                        walk(doc, child, out);
                    }
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(doc, ROOT, &mut out);
    out.reverse();
    out
}

/// One raw edit, as a phone that does not follow the app could write it.
#[derive(Debug, Clone)]
enum Edit {
    UnknownField(usize),
    Number(usize, usize),
    Text(usize, usize),
    Remove(usize, usize),
    EmptyMap(usize, usize),
    EmptyList(usize, usize),
}

fn apply(doc: &mut Automerge, edit: &Edit) {
    let maps = maps(doc);
    let pick = |i: usize| &maps[i % maps.len()];
    let key = |(_, keys): &(ObjId, Vec<String>), j: usize| {
        keys.get(j % keys.len().max(1))
            .cloned()
            .unwrap_or_else(|| "note".into())
    };
    doc.transact::<_, _, automerge::AutomergeError>(|tx| {
        match edit {
            Edit::UnknownField(i) => tx.put(&pick(*i).0, "zz_unknown", "x")?,
            Edit::Number(i, j) => tx.put(&pick(*i).0, key(pick(*i), *j), 7_i64)?,
            Edit::Text(i, j) => tx.put(&pick(*i).0, key(pick(*i), *j), "2026-11-22")?,
            Edit::Remove(i, j) => tx.delete(&pick(*i).0, key(pick(*i), *j))?,
            Edit::EmptyMap(i, j) => {
                tx.put_object(&pick(*i).0, key(pick(*i), *j), ObjType::Map)?;
            }
            Edit::EmptyList(i, j) => {
                tx.put_object(&pick(*i).0, key(pick(*i), *j), ObjType::List)?;
            }
        }
        Ok(())
    })
    .unwrap();
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<usize>().prop_map(Edit::UnknownField),
        (any::<usize>(), any::<usize>()).prop_map(|(i, j)| Edit::Number(i, j)),
        (any::<usize>(), any::<usize>()).prop_map(|(i, j)| Edit::Text(i, j)),
        (any::<usize>(), any::<usize>()).prop_map(|(i, j)| Edit::Remove(i, j)),
        (any::<usize>(), any::<usize>()).prop_map(|(i, j)| Edit::EmptyMap(i, j)),
        (any::<usize>(), any::<usize>()).prop_map(|(i, j)| Edit::EmptyList(i, j)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// For a case valid before, checking the sections its new changes write in admits
    /// exactly what checking the whole document admits, edits valid and invalid alike, in
    /// any section and at any depth.
    #[test]
    fn checking_the_changed_sections_admits_what_checking_the_whole_case_admits(
        edits in proptest::collection::vec(edit(), 1..4)
    ) {
        let before = case();
        prop_assert!(schema::validate(&before).is_ok());
        let mut after = before.clone();
        for e in &edits {
            apply(&mut after, e);
        }
        let changes = after.get_changes(&before.get_heads());
        let whole = schema::validate(&after).map_err(|v| v.path);
        let changed = schema::validate_changes(&after, &changes).map_err(|v| v.path);
        prop_assert_eq!(whole, changed);
    }
}

/// `doc` with `mine` applied, merged with a fork of it (another phone) with `theirs`.
fn merged(doc: &Automerge, mine: &[Edit], theirs: &[Edit]) -> Automerge {
    let mut other = doc.fork();
    let mut out = doc.clone();
    for e in mine {
        apply(&mut out, e);
    }
    for e in theirs {
        apply(&mut other, e);
    }
    out.merge(&mut other).unwrap();
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The outline after a write, grown from the outline before by reading again only the
    /// sections the write's changes reach (`Outline::grown`, what the admission does), is
    /// the outline read from the whole document: the case file and where its
    /// disagreements sit, with concurrent edits merged before and in the write.
    #[test]
    fn the_outline_grown_from_the_changed_sections_is_the_outline_read_whole(
        earlier_mine in proptest::collection::vec(edit(), 0..3),
        earlier_theirs in proptest::collection::vec(edit(), 0..3),
        mine in proptest::collection::vec(edit(), 1..4),
        theirs in proptest::collection::vec(edit(), 0..3),
    ) {
        // Before: the case with two phones' concurrent edits merged (disagreements in it).
        let base = case();
        let before = merged(&base, &earlier_mine, &earlier_theirs);
        // After: this phone's edits and, concurrent with them, another's.
        let after = merged(&before, &mine, &theirs);
        let Ok(was) = Outline::of(&before) else {
            // An outline that does not read (a raw edit of a wrong type) is never kept.
            return Ok(());
        };
        let changes = after.get_changes(&before.get_heads());
        let Some(sections) = schema::changed_sections(&after, &changes) else {
            return Ok(());
        };
        let whole = Outline::of(&after).map_err(|e| e.to_string());
        let grown = was.grown(&after, &sections).map_err(|e| e.to_string());
        prop_assert_eq!(whole.is_ok(), grown.is_ok(), "{:?} / {:?}", whole, grown);
        if let (Ok(whole), Ok(grown)) = (whole, grown) {
            prop_assert_eq!(whole.conflicts(), grown.conflicts());
            prop_assert_eq!(whole, grown);
        }
    }
}

/// Concurrent values set under a section the write does not reach stay counted; those the
/// write settles are no longer.
#[test]
fn disagreements_outside_the_changed_sections_are_kept_and_settled_ones_dropped() {
    let base = case();
    let put = |doc: &mut Automerge, section: &str, key: &str, value: &str| {
        let obj = match doc.get(ROOT, section).unwrap() {
            Some((Value::Object(_), id)) => id,
            other => panic!("{other:?}"),
        };
        doc.transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(&obj, key, value)?;
            Ok(())
        })
        .unwrap();
    };
    let mut before = base.clone();
    let mut other = base.fork();
    put(&mut before, "client", "address", "Quận 1");
    put(&mut other, "client", "address", "Quận 3");
    put(&mut before, "intake", "date", "2026-11-19");
    put(&mut other, "intake", "date", "2026-11-18");
    before.merge(&mut other).unwrap();
    let was = Outline::of(&before).unwrap();
    assert_eq!(was.conflicts(), 2);
    // The write settles the intake's date and leaves the client's address.
    let mut after = before.clone();
    put(&mut after, "intake", "date", "2026-11-21");
    let changes = after.get_changes(&before.get_heads());
    let sections = schema::changed_sections(&after, &changes).unwrap();
    assert_eq!(sections.iter().collect::<Vec<_>>(), ["intake"]);
    let grown = was.grown(&after, &sections).unwrap();
    assert_eq!(grown.conflicts(), 1);
    assert_eq!(grown.file.intake.date.as_deref(), Some("2026-11-21"));
    assert_eq!(grown, Outline::of(&after).unwrap());
}

/// An unknown field deep in an entry of a list is found; the sections no change wrote in
/// are not walked (a section that fails the schema today, written under an earlier
/// version, does not stop an edit of another: the whole document's check names it).
#[test]
fn a_change_deep_in_one_section_is_checked_there_and_other_sections_are_not_walked() {
    let before = case();
    let visit = maps(&before)
        .into_iter()
        .find(|(_, keys)| keys.iter().any(|k| k == "note"))
        .expect("a visit")
        .0;
    let mut after = before.clone();
    after
        .transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(&visit, "zz_unknown", "x")?;
            Ok(())
        })
        .unwrap();
    let changes = after.get_changes(&before.get_heads());
    let refused = schema::validate_changes(&after, &changes).unwrap_err();
    assert!(refused.path.ends_with("zz_unknown"), "{refused:?}");
    assert_eq!(refused.reason, "unknown field");

    // The client's section made invalid outside any check; then one edit in the intake.
    let mut odd = before.clone();
    let client = match odd.get(ROOT, "client").unwrap() {
        Some((Value::Object(_), id)) => id,
        other => panic!("{other:?}"),
    };
    odd.transact::<_, _, automerge::AutomergeError>(|tx| {
        tx.put(&client, "zz_unknown", "x")?;
        Ok(())
    })
    .unwrap();
    let intake = match odd.get(ROOT, "intake").unwrap() {
        Some((Value::Object(_), id)) => id,
        other => panic!("{other:?}"),
    };
    let mut edited = odd.clone();
    edited
        .transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(&intake, "date", "2026-11-19")?;
            Ok(())
        })
        .unwrap();
    let changes = edited.get_changes(&odd.get_heads());
    let checked = schema::validate_changes(&edited, &changes);
    assert!(checked.is_ok(), "{checked:?}");
    assert!(schema::validate(&edited).is_err());
}
