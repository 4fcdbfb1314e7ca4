//! Load generator for fieldcase-server, over loopback, with real phone stores.
//!
//! ```sh
//! cargo build --release -p fieldcase-server -p fieldcase-tests
//! target/release/fieldcase-load [--phones 100] [--cases-per-phone 50] [--big 500]
//! ```
//!
//! Starts `fieldcase-server` (the release binary beside this one) on 127.0.0.1 with a fresh
//! SQLite file, then measures:
//! 1. one phone with `--big` cases syncing after editing 50 of them offline;
//! 2. the same phone syncing an unchanged caseload (one request);
//! 3. `--phones` phones, each editing `--cases-per-phone` cases offline, syncing at once:
//!    cases merged per second, p50/p99 sync time, errors, and the server's peak memory.
//!
//! Everything is bounded in count and time and stops by itself.

use std::time::Instant;

use fieldcase_core::case::VisitInput;
use fieldcase_core::{CaseId, CaseStore, NewCase, Role};
use fieldcase_server::{Db, SqliteDb};
use fieldcase_tests::release::{arg, percentile, sync_at_once, ReleaseServer};

const PASSWORD: &str = "load test password";

fn phone(dir: &std::path::Path, url: &str, user: &str) -> (CaseStore, String) {
    let store = CaseStore::open(dir.join(format!("{user}.sqlite")), &[9u8; 32]).unwrap();
    let token = store
        .login(url, user, PASSWORD, "load phone")
        .unwrap()
        .token;
    (store, token)
}

fn new_cases(store: &CaseStore, n: usize) -> Vec<CaseId> {
    let names = [
        "สมศรี ใจดี",
        "زهرا احمدی",
        "Фёдорова Анна",
        "Олександр Коваленко",
        "Nguyễn Thị Lan",
    ];
    (0..n)
        .map(|i| {
            let mut c = NewCase {
                team: "load".into(),
                ..Default::default()
            };
            c.client.name = Some(format!("{} {i}", names[i % names.len()]));
            store.create_case(c).unwrap()
        })
        .collect()
}

fn edit(store: &CaseStore, ids: &[CaseId], n: usize) {
    for id in ids.iter().take(n) {
        store
            .update(id, |c, me, now| {
                c.add_visit(
                    me,
                    now,
                    VisitInput {
                        note: Some("Thăm hộ gia đình: trẻ em cần hỗ trợ học tập.".into()),
                        ..Default::default()
                    },
                )
                .map(|_| ())
            })
            .unwrap();
    }
}

fn main() {
    let phones = arg("--phones", 100);
    let per_phone = arg("--cases-per-phone", 50);
    let big = arg("--big", 500);
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("server.sqlite");
    {
        let db = SqliteDb::open(&db_path).unwrap();
        db.add_team("load").unwrap();
        db.add_user(
            "big",
            "Big caseload",
            Role::Worker,
            Some("load"),
            PASSWORD,
            1000,
        )
        .unwrap();
        for p in 0..phones {
            db.add_user(
                &format!("w{p}"),
                "Load worker",
                Role::Worker,
                Some("load"),
                PASSWORD,
                1000,
            )
            .unwrap();
        }
    }
    let server = ReleaseServer::start(&db_path);
    println!(
        "fieldcase-load: server {} ({} phones x {} cases, one phone with {} cases)",
        server.url, phones, per_phone, big
    );

    // 1 and 2: one phone with a big caseload.
    let (store, token) = phone(dir.path(), &server.url, "big");
    let ids = new_cases(&store, big);
    let t = Instant::now();
    let r = store.sync(&server.url, &token).unwrap();
    println!(
        "initial push of {big} new cases: {:?} (sent {}, errors {})",
        t.elapsed(),
        r.sent,
        r.errors.len()
    );
    edit(&store, &ids, 50);
    let t = Instant::now();
    let r = store.sync(&server.url, &token).unwrap();
    println!(
        "S-a {big} cases, 50 changed offline: sync {:?} (sent {}, unchanged {}, errors {})",
        t.elapsed(),
        r.sent,
        r.unchanged,
        r.errors.len()
    );
    let mut unchanged = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let r = store.sync(&server.url, &token).unwrap();
        unchanged.push(t.elapsed());
        assert_eq!(r.unchanged, big);
    }
    unchanged.sort();
    println!(
        "S-b {big} cases unchanged: sync p50 {:?}, max {:?} (one request each)",
        percentile(&unchanged, 0.5),
        unchanged.last().unwrap()
    );

    // 3: many phones at once.
    let mut fleet = Vec::new();
    for p in 0..phones {
        let (s, t) = phone(dir.path(), &server.url, &format!("w{p}"));
        let ids = new_cases(&s, per_phone);
        let r = s.sync(&server.url, &t).unwrap();
        assert!(r.errors.is_empty());
        edit(&s, &ids, per_phone);
        fleet.push((s, t));
    }
    let start = Instant::now();
    let (times, merged, errors) = sync_at_once(fleet, &server.url, |r| r.sent);
    let total = start.elapsed();
    println!(
        "S-c {phones} phones x {per_phone} changed cases at once: {merged} cases merged in {total:?} = {:.0} cases/s; sync p50 {:?}, p99 {:?}; errors {errors}",
        merged as f64 / total.as_secs_f64(),
        percentile(&times, 0.5),
        percentile(&times, 0.99)
    );
    println!(
        "server peak memory (VmHWM): {} MiB",
        server.peak_rss_kib() / 1024
    );
}
