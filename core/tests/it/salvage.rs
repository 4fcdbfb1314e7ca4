//! A damaged phone store: truncated or with bytes overwritten. Opening it is a clear error
//! (never a panic), and the cases that can still be read are rescued, whole and intact.

use std::collections::HashMap;

use fieldcase_core::store::UserContext;
use fieldcase_core::{CaseDoc, CaseId, CaseStore, Error, NewCase, Role};

use crate::fixtures::*;

const KEY: [u8; 32] = [11u8; 32];

/// A closed store of 40 cases with notes in five scripts, and each case's name and visits.
fn damaged_candidate(dir: &tempfile::TempDir) -> HashMap<CaseId, (String, usize)> {
    let store = CaseStore::open(dir.path().join("phone.sqlite"), &KEY).unwrap();
    store
        .sign_in(UserContext {
            user_id: "u-1".into(),
            name: "Worker".into(),
            role: Role::Worker,
            team: None,
            device_id: "phone-1".into(),
        })
        .unwrap();
    let mut cases = HashMap::new();
    for i in 0..40 {
        let name = format!("{} {i}", NAMES[i % NAMES.len()]);
        let mut n = NewCase {
            team: "north".into(),
            ..Default::default()
        };
        n.client.name = Some(name.clone());
        n.client.notes = Some(NOTES[i % NOTES.len()].repeat(8));
        let id = store.create_case(n).unwrap();
        for k in 0..i % 3 {
            store
                .update(&id, |c, a, now| {
                    c.add_visit(a, now, visit(&format!("{} {k}", NOTES[k % NOTES.len()])))
                })
                .unwrap();
        }
        cases.insert(id, (name, i % 3));
    }
    drop(store);
    cases
}

fn check_rescued(
    rescued: &fieldcase_core::store::Salvage,
    cases: &HashMap<CaseId, (String, usize)>,
) -> usize {
    let mut whole = 0;
    for case in &rescued.cases {
        let doc = CaseDoc::load(&case.document).expect("a rescued document loads");
        let file = doc.read().unwrap();
        let (name, visits) = &cases[&case.id];
        assert_eq!(file.client.name.as_deref(), Some(name.as_str()));
        if case.changes_lost == 0 {
            assert_eq!(file.visits.len(), *visits, "{}", case.id);
            whole += 1;
        }
    }
    whole
}

#[test]
fn a_truncated_store_fails_to_open_clearly_and_its_readable_cases_are_rescued() {
    for keep in [0.95, 0.7, 0.4, 0.1] {
        let dir = tempfile::tempdir().unwrap();
        let cases = damaged_candidate(&dir);
        let path = dir.path().join("phone.sqlite");
        let len = std::fs::metadata(&path).unwrap().len();
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len((len as f64 * keep) as u64).unwrap();
        drop(f);
        let before = std::fs::read(&path).unwrap();
        match CaseStore::open(&path, &KEY) {
            Err(Error::Corrupt(_)) => {}
            Err(e) => panic!("kept {keep}: expected a clear corrupt-store error, got {e}"),
            Ok(_) => panic!("kept {keep}: a truncated store must not open"),
        }
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "kept {keep}: a refused open writes nothing"
        );
        let rescued = CaseStore::salvage(&path, &KEY);
        match rescued {
            Ok(r) => {
                let whole = check_rescued(&r, &cases);
                eprintln!(
                    "kept {keep}: {} cases rescued ({whole} whole), {} lost, listing incomplete: {}",
                    r.cases.len(),
                    r.lost.len(),
                    r.listing_incomplete
                );
                // Most cases live in the part of the file that is left. (Where SQLite puts
                // the case list's pages moves with the documents' size: since schema
                // revision 3 a file cut to 40 % keeps two rows of it, so the slack is 0.4.)
                assert!(
                    r.cases.len() as f64 >= (cases.len() as f64 * (keep - 0.4)).floor(),
                    "kept {keep}: only {} rescued",
                    r.cases.len()
                );
                // Rescued cases go into a fresh store as they are.
                let fresh = tempfile::tempdir().unwrap();
                let store = CaseStore::open(fresh.path().join("new.sqlite"), &KEY).unwrap();
                for c in &r.cases {
                    assert_eq!(store.import_case(&c.document).unwrap(), c.id);
                }
            }
            Err(e) => {
                eprintln!("kept {keep}: rescue refused: {e}");
                assert!(keep < 0.5, "kept {keep}: the rescue must find cases");
                assert!(matches!(e, Error::Corrupt(_)), "{keep}: {e}")
            }
        }
        // The rescue never writes to the damaged file (a copy is read).
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }
}

#[test]
fn overwritten_pages_lose_only_the_cases_on_them() {
    let dir = tempfile::tempdir().unwrap();
    let cases = damaged_candidate(&dir);
    let path = dir.path().join("phone.sqlite");
    let mut bytes = std::fs::read(&path).unwrap();
    let page = 4096;
    let pages = bytes.len() / page;
    // Scribble over two pages in the middle of the file.
    for p in [pages / 2, pages / 2 + 3] {
        for b in &mut bytes[p * page + 100..p * page + 900] {
            *b = 0xA5;
        }
    }
    std::fs::write(&path, &bytes).unwrap();
    let store = CaseStore::open(&path, &KEY);
    let mut unreadable = 0;
    if let Ok(store) = &store {
        for id in cases.keys() {
            if store.get_case(id).is_err() {
                unreadable += 1;
            }
        }
    }
    let r = CaseStore::salvage(&path, &KEY).unwrap();
    let whole = check_rescued(&r, &cases);
    eprintln!(
        "open: {}; {unreadable} unreadable after open; {} rescued ({whole} whole), {} lost",
        store
            .as_ref()
            .map_or_else(|e| e.to_string(), |_| "ok".into()),
        r.cases.len(),
        r.lost.len()
    );
    assert!(
        r.cases.len() >= cases.len() / 2,
        "most cases survive two bad pages"
    );
}

#[test]
fn a_rescue_with_the_wrong_key_says_so_and_a_non_store_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    damaged_candidate(&dir);
    let path = dir.path().join("phone.sqlite");
    assert!(matches!(
        CaseStore::salvage(&path, &[12u8; 32]),
        Err(Error::WrongKey)
    ));
    let other = dir.path().join("other.sqlite");
    std::fs::write(&other, b"not a store ".repeat(500)).unwrap();
    assert!(matches!(
        CaseStore::salvage(&other, &KEY),
        Err(Error::Corrupt(_))
    ));
    assert!(matches!(
        CaseStore::salvage(dir.path().join("missing.sqlite"), &KEY),
        Err(Error::Corrupt(_))
    ));
}
