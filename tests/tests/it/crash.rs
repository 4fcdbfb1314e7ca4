//! A crash mid-write loses no edit that returned: a child process
//! (`fieldcase-crash-writer`, `tests/src/bin/`) writes edits to a phone store and reports
//! each one after `update` returns; it is killed with SIGKILL at a chosen moment (after
//! 20, 57 and 94 acknowledged edits); every reported edit must be in the store when it is
//! reopened.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use fieldcase_core::CaseStore;

/// The key `fieldcase-crash-writer` opens the store with.
const KEY: [u8; 32] = [5u8; 32];

#[test]
fn sigkill_mid_write_loses_no_acknowledged_edit() {
    for round in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("crash.sqlite");
        let mut child = Command::new(env!("CARGO_BIN_EXE_fieldcase-crash-writer"))
            .arg(&db)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut case = None;
        let mut acked = Vec::new();
        let target = 20 + round * 37;
        while let Some(Ok(line)) = lines.next() {
            if let Some((_, id)) = line.split_once("case ") {
                case = Some(id.parse::<fieldcase_core::CaseId>().unwrap());
            } else if let Some(v) = line.strip_prefix("ack ") {
                acked.push(v.to_string());
                if acked.len() >= target {
                    break;
                }
            }
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        assert!(
            acked.len() >= target,
            "the child wrote only {} edits",
            acked.len()
        );
        let store = CaseStore::open(&db, &KEY).unwrap();
        let file = store.get_case(&case.unwrap()).unwrap();
        let present: Vec<&str> = file.visits.iter().map(|v| v.id.as_str()).collect();
        for v in &acked {
            assert!(
                present.contains(&v.as_str()),
                "round {round}: acknowledged visit {v} lost"
            );
        }
    }
}
