//! The SQLite storage under concurrent writers: group commit keeps every write's own
//! compare-and-swap, and everything acknowledged is there after reopening the file.

use std::sync::Arc;

use automerge::transaction::Transactable;
use automerge::{Automerge, ChangeHash, ReadDoc};
use fieldcase_core::CaseId;
use fieldcase_server::db::{CaseAccess, CaseWrite, Stored};
use fieldcase_server::{Db, SqliteDb};

fn access(id: CaseId) -> CaseAccess {
    CaseAccess {
        id,
        team: "north".into(),
        restricted: false,
        assigned: vec!["u-1".into()],
        links: Vec::new(),
        closed: false,
        closed_at: None,
        matching: None,
        listing: None,
    }
}

#[test]
fn concurrent_writers_are_committed_together_and_each_keeps_its_compare_and_swap() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.sqlite");
    let db = Arc::new(SqliteDb::open(&path).unwrap());
    // One shared case everyone appends to (compare-and-swap with retries), and one case
    // per writer.
    let shared = CaseId::random();
    let mut first = Automerge::new();
    first
        .transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(automerge::ROOT, "n", 0)?;
            Ok(())
        })
        .unwrap();
    db.put_case(&access(shared), &first.save(), &first.get_heads(), 0)
        .unwrap();

    let writers = 8;
    let rounds = 25;
    let handles: Vec<_> = (0..writers)
        .map(|w| {
            let db = db.clone();
            std::thread::spawn(move || {
                let own = CaseId::random();
                let mut mine = Automerge::new();
                let mut stale = 0;
                for r in 0..rounds {
                    // Its own case: a change appended each round, never stale.
                    let before = mine.get_heads();
                    mine.transact::<_, _, automerge::AutomergeError>(|tx| {
                        tx.put(automerge::ROOT, format!("r{r}"), r as i64)?;
                        Ok(())
                    })
                    .unwrap();
                    let write = if r == 0 {
                        (true, mine.save())
                    } else {
                        (false, mine.save_after(&before))
                    };
                    let expected = (r > 0).then_some(before.clone());
                    let got = store(&db, own, &write, &mine.get_heads(), expected.as_deref());
                    assert!(matches!(got, Stored::Written { .. }), "{got:?}");
                    // The shared case: read, change, write back if nobody got there first.
                    loop {
                        let bytes = db.case_document(&shared).unwrap().unwrap();
                        let mut doc = Automerge::load(&bytes).unwrap();
                        let heads = doc.get_heads();
                        doc.transact::<_, _, automerge::AutomergeError>(|tx| {
                            tx.put(automerge::ROOT, format!("w{w}r{r}"), 1)?;
                            Ok(())
                        })
                        .unwrap();
                        let changes = doc.save_after(&heads);
                        match store(
                            &db,
                            shared,
                            &(false, changes),
                            &doc.get_heads(),
                            Some(&heads),
                        ) {
                            Stored::Written { .. } => break,
                            Stored::Stale => stale += 1,
                        }
                    }
                }
                (own, mine.get_heads(), stale)
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let stale: usize = results.iter().map(|r| r.2).sum();
    eprintln!("compare-and-swap retries on the shared case: {stale}");

    // Reopened from the file: every acknowledged write is there.
    drop(db);
    let db = SqliteDb::open(&path).unwrap();
    for (own, heads, _) in &results {
        let doc = Automerge::load(&db.case_document(own).unwrap().unwrap()).unwrap();
        assert_eq!(&doc.get_heads(), heads);
        assert_eq!(doc.keys(automerge::ROOT).count(), rounds);
    }
    let doc = Automerge::load(&db.case_document(&shared).unwrap().unwrap()).unwrap();
    assert_eq!(
        doc.keys(automerge::ROOT).count(),
        1 + writers * rounds,
        "no write to the shared case was lost or applied twice"
    );
    assert_eq!(db.case_heads(&shared).unwrap().unwrap(), doc.get_heads());
}

fn store(
    db: &SqliteDb,
    id: CaseId,
    (snapshot, bytes): &(bool, Vec<u8>),
    heads: &[ChangeHash],
    expected: Option<&[ChangeHash]>,
) -> Stored {
    let write = if *snapshot {
        CaseWrite::Snapshot(bytes)
    } else {
        CaseWrite::Changes(bytes)
    };
    db.store_case(&access(id), write, heads, expected, 0)
        .unwrap()
}
