//! A crash mid-write loses no edit that returned: a child process writes edits and reports
//! each one after `update` returns; it is killed with SIGKILL at a random moment; every
//! reported edit must be in the store when it is reopened.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fieldcase_core::store::UserContext;
use fieldcase_core::{CaseStore, NewCase, Role};

const KEY: [u8; 32] = [5u8; 32];
const ENV: &str = "FIELDCASE_CRASH_CHILD_DB";

/// In the child: write visits until killed (bounded: 20 s or 5,000 edits).
#[test]
fn crash_child_writer() {
    let Ok(path) = std::env::var(ENV) else { return };
    let store = CaseStore::open(&path, &KEY).unwrap();
    store
        .sign_in(UserContext {
            user_id: "u1".into(),
            name: "W".into(),
            role: Role::Worker,
            device_id: "d1".into(),
        })
        .unwrap();
    let id = store
        .create_case(NewCase {
            team: "t".into(),
            ..Default::default()
        })
        .unwrap();
    println!("case {id}");
    let start = Instant::now();
    for i in 0..5000 {
        if start.elapsed() > Duration::from_secs(20) {
            break;
        }
        let vid = store
            .update(&id, |c, me, now| {
                c.add_visit(me, now, crate::fixtures::visit(&format!("visit {i}")))
            })
            .unwrap();
        println!("ack {vid}");
    }
}

#[test]
fn sigkill_mid_write_loses_no_acknowledged_edit() {
    if std::env::var(ENV).is_ok() {
        return;
    }
    for round in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("crash.sqlite");
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "crash::crash_child_writer",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(ENV, &db)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut case = None;
        let mut acked = Vec::new();
        let target = 20 + round * 37;
        while let Some(Ok(line)) = lines.next() {
            // libtest prints "test <name> ... " before the child's first line.
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
