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

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fieldcase_core::case::VisitInput;
use fieldcase_core::{CaseId, CaseStore, NewCase, Role};
use fieldcase_server::{Db, SqliteDb};

const PASSWORD: &str = "load test password";

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }
}

fn start_server(db: &std::path::Path) -> Server {
    let exe = std::env::current_exe().expect("own path");
    let bin = exe.with_file_name("fieldcase-server");
    assert!(
        bin.exists(),
        "build the server first: cargo build --release -p fieldcase-server"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(bin)
        .args([
            "--db",
            db.to_str().unwrap(),
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env("FIELDCASE_PASSWORD_ITERATIONS", "1000")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("server starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Server {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

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

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
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
    let server = start_server(&db_path);
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
    let url = server.url.clone();
    let start = Instant::now();
    let handles: Vec<_> = fleet
        .into_iter()
        .map(|(s, t)| {
            let url = url.clone();
            std::thread::spawn(move || {
                let t0 = Instant::now();
                let r = s.sync(&url, &t);
                (
                    t0.elapsed(),
                    r.map(|r| (r.sent, r.errors.len()))
                        .map_err(|e| e.to_string()),
                )
            })
        })
        .collect();
    let mut times = Vec::new();
    let (mut merged, mut errors) = (0usize, 0usize);
    for h in handles {
        let (d, r) = h.join().unwrap();
        times.push(d);
        match r {
            Ok((sent, errs)) => {
                merged += sent;
                errors += errs;
            }
            Err(e) => {
                errors += 1;
                eprintln!("a phone failed: {e}");
            }
        }
    }
    let total = start.elapsed();
    times.sort();
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
