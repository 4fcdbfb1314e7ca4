//! The writer that `tests/tests/it/crash.rs` kills: it opens the phone store at the path
//! given, creates one case and adds visits to it, printing `case <id>` and then
//! `ack <visit id>` after each `update` returns. Bounded: 5,000 edits or 20 s.
//!
//! ```sh
//! fieldcase-crash-writer PATH
//! ```

use std::time::{Duration, Instant};

use fieldcase_core::case::VisitInput;
use fieldcase_core::store::UserContext;
use fieldcase_core::{CaseStore, NewCase, Role};

/// The store key the test reopens the file with.
const KEY: [u8; 32] = [5u8; 32];

fn main() -> Result<(), fieldcase_core::Error> {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: fieldcase-crash-writer PATH");
        std::process::exit(2);
    };
    let store = CaseStore::open(&path, &KEY)?;
    store.sign_in(UserContext {
        user_id: "u1".into(),
        name: "W".into(),
        role: Role::Worker,
        team: None,
        device_id: "d1".into(),
    })?;
    let id = store.create_case(NewCase {
        team: "t".into(),
        ..Default::default()
    })?;
    println!("case {id}");
    let start = Instant::now();
    for i in 0..5000 {
        if start.elapsed() > Duration::from_secs(20) {
            break;
        }
        let visit = store.update(&id, |c, me, now| {
            c.add_visit(
                me,
                now,
                VisitInput {
                    date: Some("2026-11-21".into()),
                    kind: Some("home".into()),
                    note: Some(format!("visit {i}")),
                    ..Default::default()
                },
            )
        })?;
        println!("ack {visit}");
    }
    Ok(())
}
