//! S7 of issue 20: a big server. `--cases` cases over `--teams` teams and `--users` users
//! stored on a SQLite file through the storage's own write; then, against the release
//! `fieldcase-server` on 127.0.0.1 (build it first):
//! - a day's syncing: `--phones` workers (one per team) fetch their caseloads (about
//!   `cases / users` cases each), each records a visit in every case and `--new` new cases
//!   offline, and all sync at once (what puts cases through the server's memory);
//! - `GET /v1/caseload` for a worker with `--mine` cases, and for her supervisor;
//! - the console's dashboard for that supervisor (a team of about `cases / teams` cases):
//!   the first view (every case read and summarised) and the views after it;
//! - the server's memory at rest (VmRSS once the phones are gone), with the cases it holds
//!   in memory and their estimated bytes (`/metrics`);
//! - the restart: the server stopped (SIGTERM) and started again on the same file, timed
//!   until it answers `GET /healthz`, and its first caseload answer.
//!
//! ```sh
//! cargo build --release -p fieldcase-server -p fieldcase-tests --bin fieldcase-server --bin fieldcase-caseload-bench
//! target/release/fieldcase-caseload-bench [--cases 100000] [--teams 100] [--users 2000] [--mine 50] [--phones 100] [--new 1] [--calls 200] [--max-cached 1000] [--max-indexed 200000] [--stored DIR]
//! ```
//!
//! `--stored DIR` keeps the stored file in DIR and copies it from there in later runs with
//! the same `--cases`, `--teams`, `--users` and `--mine`.
//!
//! Targets (the issue's): the worker's caseload p99 under 20 ms, the dashboard under
//! 200 ms, memory at rest under 300 MB. Bounded in count; stops by itself.

use std::path::Path;
use std::time::{Duration, Instant};

use fieldcase_core::case::VisitInput;
use fieldcase_core::{Author, CaseDoc, CaseId, CaseStore, NewCase, Role};
use fieldcase_server::db::{CaseAccess, CaseWrite};
use fieldcase_server::{Db, SqliteDb};
use fieldcase_tests::console::Console;
use fieldcase_tests::release::{arg, get, percentile, ReleaseServer};

const PASSWORD: &str = "caseload bench password";

const NAMES: [&str; 5] = [
    "สมศรี ใจดี",
    "زهرا احمدی",
    "Фёдорова Анна",
    "Олександр Коваленко",
    "Nguyễn Thị Lan",
];

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

fn mib(kib: u64) -> String {
    format!("{:.0} MiB", kib as f64 / 1024.0)
}

/// The people of the agency: per team a supervisor `s<t>` and workers `w<t>-<k>`.
struct Agency {
    teams: usize,
    per_team: usize,
}

impl Agency {
    fn team(&self, t: usize) -> String {
        format!("t{t}")
    }
    fn supervisor(&self, t: usize) -> String {
        format!("s{t}")
    }
    fn worker(&self, t: usize, k: usize) -> String {
        format!("w{t}-{k}")
    }
    /// Case `i`: the measured worker (`w0-0`) holds the first `mine`; the others spread
    /// over every team's other workers. One in ten is restricted.
    fn case(&self, i: usize, mine: usize) -> (usize, usize, bool) {
        if i < mine {
            return (0, 0, i.is_multiple_of(10));
        }
        let j = i - mine;
        let others = (self.per_team - 2).max(1);
        (
            self.teams_of(j),
            1 + (j / self.teams) % others,
            i.is_multiple_of(10),
        )
    }
    fn teams_of(&self, j: usize) -> usize {
        j % self.teams
    }
}

fn phone(dir: &Path, url: &str, user: &str) -> (CaseStore, String) {
    let store = CaseStore::open(dir.join(format!("{user}.sqlite")), &[7u8; 32]).unwrap();
    let token = store
        .login(url, user, PASSWORD, "bench phone")
        .unwrap()
        .token;
    (store, token)
}

/// Every phone's sync at once, a thread each: the phones back, each sync's time (sorted),
/// the cases sent and received, and the errors.
fn at_once(
    fleet: Vec<(CaseStore, String)>,
    url: &str,
) -> (Vec<(CaseStore, String)>, Vec<Duration>, usize, usize, usize) {
    let handles: Vec<_> = fleet
        .into_iter()
        .map(|(store, token)| {
            let url = url.to_string();
            std::thread::spawn(move || {
                let t = Instant::now();
                let r = store.sync(&url, &token);
                (store, token, t.elapsed(), r.map_err(|e| e.to_string()))
            })
        })
        .collect();
    let (mut back, mut times) = (Vec::new(), Vec::new());
    let (mut sent, mut received, mut errors) = (0, 0, 0);
    for h in handles {
        let (store, token, d, r) = h.join().expect("a phone's thread");
        match r {
            Ok(r) => {
                sent += r.sent;
                received += r.new_cases;
                errors += r.errors.len();
            }
            Err(e) => {
                errors += 1;
                eprintln!("a phone failed: {e}");
            }
        }
        times.push(d);
        back.push((store, token));
    }
    times.sort();
    (back, times, sent, received, errors)
}

fn main() {
    let cases = arg("--cases", 100_000);
    let teams = arg("--teams", 100).max(1);
    let users = arg("--users", 2_000).max(teams * 3);
    let mine = arg("--mine", 50).min(cases);
    let phones = arg("--phones", 100).clamp(1, teams * (users / teams).saturating_sub(2).max(1));
    let new = arg("--new", 1);
    let calls = arg("--calls", 200).max(1);
    let max_cached = arg("--max-cached", 1000);
    let max_indexed = arg("--max-indexed", 200_000);
    let agency = Agency {
        teams,
        per_team: users / teams,
    };
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("server.sqlite");
    let config = dir.path().join("fieldcase.toml");
    std::fs::write(
        &config,
        format!("[cases]\nmax_cached = {max_cached}\n[matching]\nmax_indexed = {max_indexed}\n"),
    )
    .unwrap();

    // The agency, and its cases, through the storage's own write; or a copy of the file
    // an earlier run with the same figures kept (`--stored DIR`: storing 100,000 cases one
    // write at a time takes minutes).
    let t = Instant::now();
    let direct = cases;
    let stored = std::env::args()
        .skip_while(|a| a != "--stored")
        .nth(1)
        .map(std::path::PathBuf::from);
    let figures = format!("{cases} {teams} {users} {mine} 5\n");
    let kept = stored
        .as_ref()
        .filter(|d| std::fs::read_to_string(d.join("figures")).is_ok_and(|f| f == figures));
    if let Some(d) = kept {
        for f in ["server.sqlite", "server.sqlite.key"] {
            std::fs::copy(d.join(f), dir.path().join(f)).unwrap();
        }
    } else {
        let db = SqliteDb::open(&db_path).unwrap();
        let mut ids = Vec::new();
        for t in 0..teams {
            db.add_team(&agency.team(t)).unwrap();
            let s = db
                .add_user(
                    &agency.supervisor(t),
                    &format!("Supervisor {t}"),
                    Role::Supervisor,
                    Some(&agency.team(t)),
                    PASSWORD,
                    1000,
                )
                .unwrap();
            let mut ws = Vec::new();
            for k in 0..agency.per_team - 1 {
                let w = db
                    .add_user(
                        &agency.worker(t, k),
                        &format!("{} {k}", NAMES[k % NAMES.len()]),
                        Role::Worker,
                        Some(&agency.team(t)),
                        PASSWORD,
                        1000,
                    )
                    .unwrap();
                ws.push(w.id);
            }
            ids.push((s.id, ws));
        }
        for i in 0..direct {
            let (t, k, restricted) = agency.case(i, mine);
            let worker = &ids[t].1[k];
            let author = Author::new(worker, "bench", Role::Worker, "bench-device");
            let id = CaseId::random();
            let mut new = NewCase {
                team: agency.team(t),
                restricted,
                ..Default::default()
            };
            new.client.name = Some(format!("{} {i}", NAMES[i % NAMES.len()]));
            let doc = CaseDoc::create(
                id,
                automerge::ActorId::random(),
                &author,
                new,
                fieldcase_server::now_ms(),
            )
            .unwrap();
            // As a write through the server states them (with the duplicate check's
            // facts), the worker assigned.
            let access = CaseAccess {
                assigned: vec![worker.clone()],
                ..CaseAccess::read(id, doc.automerge()).unwrap()
            };
            let heads = doc.heads();
            db.store_case(
                &access,
                CaseWrite::Snapshot(&doc.automerge().save_nocompress()),
                &heads,
                Some(&[]),
                1,
            )
            .unwrap();
        }
        drop(db);
        if let Some(d) = &stored {
            std::fs::create_dir_all(d).unwrap();
            for f in ["server.sqlite", "server.sqlite.key"] {
                std::fs::copy(dir.path().join(f), d.join(f)).unwrap();
            }
            std::fs::write(d.join("figures"), &figures).unwrap();
        }
    }
    println!(
        "fieldcase-caseload-bench: {cases} cases over {teams} teams and {} users ({profile} build); {direct} {} in {:?}",
        teams * agency.per_team,
        if kept.is_some() { "copied from --stored" } else { "stored directly" },
        t.elapsed()
    );

    let server = ReleaseServer::start_with(&db_path, Some(&config));
    let fresh = server.rss_kib();
    println!(
        "server started on {} in {:?}, {} resident",
        server.url,
        server.started_in,
        mib(fresh)
    );

    // A day's syncing: one worker of each team (but the measured one's) fetches her
    // caseload, records a visit in every case and opens new cases offline, and syncs.
    let t = Instant::now();
    let fleet: Vec<_> = (0..phones)
        .map(|p| {
            phone(
                dir.path(),
                &server.url,
                &agency.worker(p % teams, 1 + p / teams),
            )
        })
        .collect();
    let (fleet, times, _, fetched, errors) = at_once(fleet, &server.url);
    println!(
        "{phones} phones fetched {fetched} cases at once in {:?}; sync p50 {:?}, p99 {:?}; errors {errors}",
        t.elapsed(),
        percentile(&times, 0.5),
        percentile(&times, 0.99)
    );
    for (p, (store, _)) in fleet.iter().enumerate() {
        for id in store.case_ids() {
            store
                .update(&id, |c, me, now| {
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
        for i in 0..new {
            let mut c = NewCase {
                team: agency.team(p % teams),
                ..Default::default()
            };
            c.client.name = Some(format!("{} n{p}-{i}", NAMES[(p + i) % NAMES.len()]));
            store.create_case(c).unwrap();
        }
    }
    let t = Instant::now();
    let (fleet, times, sent, _, errors) = at_once(fleet, &server.url);
    println!(
        "{phones} phones pushed {sent} changed and new cases at once in {:?}; sync p50 {:?}, p99 {:?}; errors {errors}",
        t.elapsed(),
        percentile(&times, 0.5),
        percentile(&times, 0.99)
    );
    drop(fleet);
    let after_push = server.rss_kib();

    // The caseload: the worker with her cases, and her supervisor.
    let (_w, worker_token) = phone(dir.path(), &server.url, &agency.worker(0, 0));
    let (_s, sup_token) = phone(dir.path(), &server.url, &agency.supervisor(0));
    let caseload = |url: &str, token: &str| {
        let (status, body) = get(&format!("{url}/v1/caseload"), Some(token));
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<serde_json::Value>(&body)
            .unwrap()
            .as_array()
            .map_or(0, Vec::len)
    };
    let team_cases = caseload(&server.url, &sup_token);
    for (who, token, expect) in [
        ("worker", &worker_token, mine),
        ("her supervisor", &sup_token, team_cases),
    ] {
        assert_eq!(caseload(&server.url, token), expect, "{who}");
        let (p50, p99) = timed(calls, || {
            caseload(&server.url, token);
        });
        println!("GET /v1/caseload, {who} ({expect} cases): p50 {p50:?}, p99 {p99:?}");
    }

    // The console's dashboard for the supervisor: the first view, then the next ones.
    let mut console = Console::sign_in(&server.url, &agency.supervisor(0), PASSWORD);
    let before_dashboard = server.rss_kib();
    let t = Instant::now();
    let (status, _) = console.get("/console");
    assert_eq!(status, 200);
    let first = t.elapsed();
    let after_dashboard = server.rss_kib();
    let views = calls.min(50);
    let (p50, p99) = timed(views, || {
        assert_eq!(console.get("/console").0, 200);
    });
    println!(
        "console dashboard, supervisor of {team_cases} cases: first view {first:?}; then p50 {p50:?}, p99 {p99:?} ({views} views)"
    );

    // Memory at rest: the phones are gone, and the server has closed their connections
    // (it finishes what they sent first: at most ten minutes are waited).
    let t = Instant::now();
    while server.metric("fieldcase_sync_connections") > 0 && t.elapsed() < Duration::from_secs(600)
    {
        std::thread::sleep(Duration::from_millis(200));
    }
    println!(
        "the server closed the phones' connections {:?} after the dashboard",
        t.elapsed()
    );
    // An allocator gives freed pages back over seconds: the lowest of 15 s, once a second.
    let rest = (0..15)
        .map(|_| {
            std::thread::sleep(Duration::from_secs(1));
            server.rss_kib()
        })
        .min()
        .unwrap_or_default();
    println!(
        "server memory at rest: {} (VmRSS; peak {}); fresh {}, after the push {}, the dashboard's first view added {}",
        mib(rest),
        mib(server.peak_rss_kib()),
        mib(fresh),
        mib(after_push),
        mib(after_dashboard.saturating_sub(before_dashboard)),
    );
    println!(
        "cases in memory {} (idle kept {}, bound {max_cached}), estimated {}; loads {}, evictions {}",
        server.metric("fieldcase_cases_in_memory"),
        server.metric("fieldcase_cases_cached"),
        mib(server.metric("fieldcase_cases_in_memory_bytes") / 1024),
        server.metric("fieldcase_case_loads_total"),
        server.metric("fieldcase_case_evictions_total"),
    );

    // The restart on the same file.
    let stopped = server.stop();
    let server = ReleaseServer::start_with(&db_path, Some(&config));
    let t = Instant::now();
    let n = caseload(&server.url, &worker_token);
    let first_caseload = t.elapsed();
    assert_eq!(n, mine);
    println!(
        "restart: stopped in {stopped:?}; started again and answering in {:?}; first caseload {first_caseload:?}; {} resident",
        server.started_in,
        mib(server.rss_kib())
    );
}
