//! The caseload on a big server (issue 20, S7's first part): `--cases` cases over
//! `--teams` teams on a SQLite file, a worker assigned to `--mine` of them, and
//! `GET /v1/caseload` over loopback for that worker, and for the team's supervisor.
//!
//! ```sh
//! cargo run --release -p fieldcase-tests --bin fieldcase-caseload-bench -- [--cases 100000] [--teams 100] [--mine 50] [--calls 200]
//! ```
//!
//! Prints the p50 and p99 of the route, and beside them the storage's read through its
//! indexes (`Db::visible_cases`) against a scan of every case filtered by the access rule
//! (`Db::cases`, what the route did before). Target (the issue's): the worker's caseload
//! p99 under 20 ms with 100,000 cases. Bounded in count; stops by itself.

use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use fieldcase_core::CaseId;
use fieldcase_server::db::{CaseAccess, CaseWrite};
use fieldcase_server::Db;
use fieldcase_tests::release::{arg, percentile};
use fieldcase_tests::TestServer;

fn timed(calls: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..calls)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

fn main() {
    let cases = arg("--cases", 100_000);
    let teams = arg("--teams", 100).max(1);
    let mine = arg("--mine", 50).min(cases);
    let calls = arg("--calls", 200).max(1);
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let server = TestServer::start();
    let db = server.db.clone();
    let anna = db.user_by_username("anna").unwrap().unwrap();
    let malee = db.user_by_username("malee").unwrap().unwrap();
    for t in 0..teams {
        let _ = db.add_team(&format!("t{t}"));
    }
    // One small document for every case (what is stored of it does not change the read).
    let mut doc = automerge::Automerge::new();
    doc.transact::<_, _, automerge::AutomergeError>(|tx| {
        tx.put(automerge::ROOT, "schema", "fieldcase/case/1")?;
        Ok(())
    })
    .unwrap();
    let heads = doc.get_heads();
    let bytes = doc.save();
    let t = Instant::now();
    for i in 0..cases {
        // Anna's cases are north's; the others spread over the teams, each with a worker.
        let (team, assigned) = if i < mine {
            ("north".to_string(), vec![anna.id.clone()])
        } else {
            (format!("t{}", i % teams), vec![format!("u-w{}", i % 2000)])
        };
        let access = CaseAccess {
            id: CaseId::random(),
            team,
            restricted: i % 10 == 0,
            assigned,
        };
        db.store_case(&access, CaseWrite::Snapshot(&bytes), &heads, Some(&[]), 1)
            .unwrap();
    }
    println!(
        "fieldcase-caseload-bench: {cases} cases over {teams} teams stored in {:?} ({profile} build)",
        t.elapsed()
    );
    let token = |user: &str| {
        let (store, token, dir) = server.phone(user);
        drop(store);
        (token, dir)
    };
    let (anna_token, _a) = token("anna");
    let (malee_token, _m) = token("malee");
    for (who, tok, expect) in [
        ("worker with her cases", &anna_token, mine),
        ("supervisor of north", &malee_token, mine),
    ] {
        let (status, v) = server.rest("GET", "/v1/caseload", Some(tok), None);
        assert_eq!(status, 200);
        assert_eq!(v.as_array().map(Vec::len), Some(expect), "{who}");
        let (p50, p99) = timed(calls, || {
            let (status, _) = server.rest("GET", "/v1/caseload", Some(tok), None);
            assert_eq!(status, 200);
        });
        println!("GET /v1/caseload, {who} ({expect} cases): p50 {p50:?}, p99 {p99:?}");
    }
    for (who, user) in [("worker", &anna), ("supervisor", &malee)] {
        let (p50, p99) = timed(calls, || {
            assert_eq!(db.visible_cases(user).unwrap().len(), mine);
        });
        let scans = calls.min(20);
        let (s50, s99) = timed(scans, || {
            let n = db
                .cases()
                .unwrap()
                .iter()
                .filter(|(a, _)| a.visible_to(user))
                .count();
            assert_eq!(n, mine);
        });
        println!(
            "storage, {who}: through the indexes p50 {p50:?}, p99 {p99:?}; scanning every case p50 {s50:?}, p99 {s99:?} ({scans} calls)"
        );
    }
}
