//! The soak: idle sync WebSockets and slow half-open HTTP connections held against a
//! release server on loopback while phones sync; `/healthz` timed throughout, the server's
//! memory sampled (see `fieldcase_tests::soak`).
//!
//! ```sh
//! cargo build --release -p fieldcase-server -p fieldcase-tests
//! ulimit -n 8192   # the client holds a socket per connection; so does the server
//! target/release/fieldcase-soak [--websockets 2000] [--slow 500] [--phones 20] \
//!     [--cases 20] [--rounds 3] [--seconds 60] [--max-rss-mib 256]
//! ```
//!
//! Prints a table, and exits with 1 when a phone failed, a WebSocket could not be opened
//! or did not stay open, `/healthz` failed or took over 1 s, or the server's resident
//! memory went over `--max-rss-mib`. Bounded in count and time: it stops by itself after
//! `--seconds` (or when the phones finish, if later).

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fieldcase_core::Role;
use fieldcase_server::{Db, SqliteDb};
use fieldcase_tests::soak::{self, Params};

const PASSWORD: &str = "soak test password";

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn main() {
    let params = Params {
        websockets: arg("--websockets", 2000),
        slow: arg("--slow", 500),
        phones: arg("--phones", 20),
        phone_prefix: "phone".into(),
        idle_user: "idle".into(),
        password: PASSWORD.into(),
        cases: arg("--cases", 20),
        rounds: arg("--rounds", 3),
        team: "soak".into(),
        hold: Duration::from_secs(arg("--seconds", 60) as u64),
        server_pid: 0,
    };
    let max_rss_mib = arg("--max-rss-mib", 256) as u64;
    let need = (params.websockets + params.slow + params.phones * 4 + 64) as u64;
    if let Some(limit) = soak::open_files_limit() {
        if limit < need {
            eprintln!("fieldcase-soak: open files limited to {limit}, {need} needed: run `ulimit -n {}` first", need.next_power_of_two());
            std::process::exit(2);
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("server.sqlite");
    {
        let db = SqliteDb::open(&db_path).expect("database");
        db.add_team("soak").expect("team");
        db.add_user("idle", "Idle", Role::Worker, Some("soak"), PASSWORD, 1000)
            .expect("user");
        for i in 0..params.phones {
            db.add_user(
                &format!("phone{i}"),
                "Phone",
                Role::Worker,
                Some("soak"),
                PASSWORD,
                1000,
            )
            .expect("user");
        }
    }
    let bin = std::env::current_exe()
        .expect("own path")
        .with_file_name("fieldcase-server");
    assert!(
        bin.exists(),
        "build the server first: cargo build --release -p fieldcase-server"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let server = Server(
        Command::new(bin)
            .args(["--db", db_path.to_str().expect("path"), "serve", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .env("FIELDCASE_PASSWORD_ITERATIONS", "1000")
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("server starts"),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let url = format!("http://127.0.0.1:{port}");
    let params = Params {
        server_pid: server.0.id(),
        ..params
    };
    println!(
        "fieldcase-soak: server {url}: {} WebSockets, {} slow connections, {} phones x {} cases x {} rounds, {} s",
        params.websockets, params.slow, params.phones, params.cases, params.rounds, params.hold.as_secs()
    );
    let report = soak::run(&url, &params);
    print!("{}", report.table(&params));
    for e in &report.phone_errors {
        eprintln!("phone error: {e}");
    }
    let mut failed = Vec::new();
    if report.phones_done != params.phones {
        failed.push("not every phone finished");
    }
    if report.websockets_opened != params.websockets || report.websockets_held != params.websockets
    {
        failed.push("WebSockets were refused or closed");
    }
    if report.healthz_failed > 0 {
        failed.push("/healthz failed or took over 1 s");
    }
    if report.rss_max_kib > max_rss_mib * 1024 {
        failed.push("server memory over the bound");
    }
    if failed.is_empty() {
        println!("PASS (memory bound {max_rss_mib} MiB)");
    } else {
        println!("FAIL: {}", failed.join("; "));
        std::process::exit(1);
    }
}
