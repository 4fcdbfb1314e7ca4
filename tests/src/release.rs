//! What the load binaries share: the release `fieldcase-server` started beside them on a
//! fresh SQLite file on 127.0.0.1 (killed when dropped), its peak memory, arguments and
//! percentiles.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The bearer token that reads a release server's `/metrics` ([`ReleaseServer::metrics`]).
pub const METRICS_TOKEN: &str = "load generator metrics token";

/// A `fieldcase-server` process on 127.0.0.1.
#[derive(Debug)]
pub struct ReleaseServer {
    child: Child,
    pub url: String,
    /// How long it took from the start of the process until it answered `GET /healthz`.
    pub started_in: Duration,
}

impl Drop for ReleaseServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ReleaseServer {
    /// Starts the `fieldcase-server` binary beside the running one (build it first:
    /// `cargo build --release -p fieldcase-server`) on `db`, with quick password hashing.
    pub fn start(db: &std::path::Path) -> Self {
        Self::start_with(db, None)
    }

    /// [`ReleaseServer::start`] with a configuration file (`--config`).
    pub fn start_with(db: &std::path::Path, config: Option<&std::path::Path>) -> Self {
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
        let mut command = Command::new(bin);
        if let Some(c) = config {
            command.args(["--config", c.to_str().unwrap()]);
        }
        let t0 = Instant::now();
        let child = command
            .args([
                "--db",
                db.to_str().unwrap(),
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .env("FIELDCASE_PASSWORD_ITERATIONS", "1000")
            .env("FIELDCASE_METRICS_TOKEN", METRICS_TOKEN)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("server starts");
        let deadline = Instant::now() + Duration::from_secs(120);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "server did not start");
            std::thread::sleep(Duration::from_millis(5));
        }
        let url = format!("http://127.0.0.1:{port}");
        while get(&format!("{url}/healthz"), None).0 != 200 {
            assert!(Instant::now() < deadline, "server did not answer");
            std::thread::sleep(Duration::from_millis(5));
        }
        ReleaseServer {
            child,
            url,
            started_in: t0.elapsed(),
        }
    }

    /// Stops the server as an operator does (SIGTERM: it finishes what is under way), and
    /// waits for it: how long that took.
    pub fn stop(mut self) -> Duration {
        let t0 = Instant::now();
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if !sent {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        t0.elapsed()
    }

    /// A line of the server's `/proc/PID/status` (e.g. `VmRSS`), in KiB.
    fn status_kib(&self, key: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find(|l| l.strip_prefix(key).is_some_and(|r| r.starts_with(':')))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// The server's resident memory now (VmRSS), in KiB.
    pub fn rss_kib(&self) -> u64 {
        self.status_kib("VmRSS")
    }

    /// A figure of the server's `/metrics` (0 when absent).
    pub fn metric(&self, name: &str) -> u64 {
        let (_, text) = get(&format!("{}/metrics", self.url), Some(METRICS_TOKEN));
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }

    /// The server's peak resident memory so far (VmHWM), in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        self.status_kib("VmHWM")
    }
}

/// A GET over loopback with an optional bearer token: its status and body (status 0 when
/// nothing answered).
pub fn get(url: &str, token: Option<&str>) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut req = agent.get(url).header(
        fieldcase_core::sync::protocol::SCHEMA_HEADER,
        fieldcase_core::schema::SCHEMA_REVISION.to_string(),
    );
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    match req.call() {
        Ok(mut res) => (
            res.status().as_u16(),
            res.body_mut().read_to_string().unwrap_or_default(),
        ),
        Err(_) => (0, String::new()),
    }
}

/// The number after `name` on the command line, or `default`.
pub fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The `p` percentile (0 to 1) of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Each phone's sync at once, one thread each: every phone's time, and what it counted
/// (`pick`: the report's figure and its errors; a failed sync is one error, printed). The
/// times come sorted.
pub fn sync_at_once(
    fleet: Vec<(fieldcase_core::CaseStore, String)>,
    url: &str,
    pick: fn(&fieldcase_core::sync::SyncReport) -> usize,
) -> (Vec<Duration>, usize, usize) {
    let handles: Vec<_> = fleet
        .into_iter()
        .map(|(s, tok)| {
            let url = url.to_string();
            std::thread::spawn(move || {
                let t0 = Instant::now();
                let r = s.sync(&url, &tok);
                (
                    t0.elapsed(),
                    r.map(|r| (pick(&r), r.errors.len()))
                        .map_err(|e| e.to_string()),
                )
            })
        })
        .collect();
    let mut times = Vec::new();
    let (mut counted, mut errors) = (0usize, 0usize);
    for h in handles {
        let (d, r) = h.join().expect("a phone's thread");
        times.push(d);
        match r {
            Ok((n, errs)) => {
                counted += n;
                errors += errs;
            }
            Err(e) => {
                errors += 1;
                eprintln!("a phone failed: {e}");
            }
        }
    }
    times.sort();
    (times, counted, errors)
}
