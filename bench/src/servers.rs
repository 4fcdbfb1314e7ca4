//! The servers under test, started one at a time on 127.0.0.1, pinned to one core with
//! `taskset` when it is there, and measured from `/proc`.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Which server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Fieldcase,
    Js,
    Samod,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Fieldcase => "fieldcase-server (SQLite)",
            Kind::Js => "automerge-repo JS server (NodeFS)",
            Kind::Samod => "samod 0.16 (filesystem)",
        }
    }
}

/// A running server.
#[derive(Debug)]
pub(crate) struct Server {
    pub(crate) kind: Kind,
    child: Child,
    pub(crate) port: u16,
    pub(crate) storage: PathBuf,
}

/// The bearer token fieldcase's `/metrics` answers in the bench.
const METRICS_TOKEN: &str = "fieldcase-bench-metrics-token";

/// Where the repository's files are (the binary runs from target/release).
pub(crate) fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The command, on core `core` when `taskset` exists.
fn pinned(core: &str, program: &Path) -> Command {
    if Command::new("taskset")
        .arg("-V")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
    {
        let mut c = Command::new("taskset");
        c.args(["-c", core]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

impl Server {
    /// Starts `kind` on `storage` (the SQLite file, or the JS server's folder).
    pub(crate) fn start(kind: Kind, storage: &Path, core: &str) -> Server {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut cmd = match kind {
            Kind::Fieldcase => {
                let exe = std::env::current_exe().expect("own path");
                let bin = exe.with_file_name("fieldcase-server");
                assert!(bin.exists(), "build fieldcase-server in the same profile");
                let mut c = pinned(core, &bin);
                c.args(["--db", storage.to_str().expect("utf-8 path")])
                    .args(["serve", "--listen", &listen])
                    .env("FIELDCASE_PASSWORD_ITERATIONS", "1000")
                    .env("FIELDCASE_METRICS_TOKEN", METRICS_TOKEN)
                    .env("RUST_LOG", "warn");
                c
            }
            Kind::Js => {
                let mut c = pinned(core, Path::new("node"));
                c.arg(repo_root().join("bench/js-server/server.mjs"))
                    .arg(port.to_string())
                    .arg(storage)
                    .env("NODE_OPTIONS", "--max-old-space-size=8192");
                c
            }
            Kind::Samod => {
                let bin =
                    repo_root().join("bench/samod-server/target/release/fieldcase-bench-samod");
                assert!(
                    bin.exists(),
                    "build bench/samod-server first (bench/run.sh does)"
                );
                let mut c = pinned(core, &bin);
                c.arg(port.to_string()).arg(storage).env("RUST_LOG", "warn");
                c
            }
        };
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the server starts");
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "{} did not start", kind.name());
            std::thread::sleep(Duration::from_millis(50));
        }
        Server {
            kind,
            child,
            port,
            storage: storage.to_path_buf(),
        }
    }

    pub(crate) fn http(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub(crate) fn ws(&self) -> String {
        match self.kind {
            Kind::Fieldcase => format!(
                "ws://127.0.0.1:{}/v1/sync?schema={}",
                self.port,
                fieldcase_core::schema::SCHEMA_REVISION
            ),
            Kind::Js | Kind::Samod => format!("ws://127.0.0.1:{}", self.port),
        }
    }

    /// The server process (under `taskset`, its child).
    fn pid(&self) -> u32 {
        let me = self.child.id();
        let children =
            std::fs::read_to_string(format!("/proc/{me}/task/{me}/children")).unwrap_or_default();
        children
            .split_whitespace()
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(me)
    }

    fn status_kib(&self, field: &str) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .unwrap_or_default()
            .lines()
            .find(|l| l.starts_with(field))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// Peak resident memory since the process started, MiB.
    pub(crate) fn peak_mib(&self) -> f64 {
        self.status_kib("VmHWM:") as f64 / 1024.0
    }

    /// CPU time the server has used so far (user and system), seconds.
    pub(crate) fn cpu_seconds(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
        // Fields after the command name (which may hold spaces): utime is the 14th field
        // of the line, stime the 15th, in clock ticks (100 per second on Linux).
        let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0)
        };
        (ticks(11) + ticks(12)) as f64 / 100.0
    }

    /// The time fieldcase's storage has spent sealing and opening cases so far
    /// (`fieldcase_case_seal_seconds_total` plus `fieldcase_case_open_seconds_total` at
    /// `/metrics`), seconds; `None` for the other servers, which do not encrypt.
    pub(crate) fn sealing_seconds(&self) -> Option<f64> {
        if self.kind != Kind::Fieldcase {
            return None;
        }
        let text = ureq::get(&format!("{}/metrics", self.http()))
            .header("authorization", &format!("Bearer {METRICS_TOKEN}"))
            .call()
            .ok()?
            .body_mut()
            .read_to_string()
            .ok()?;
        let value = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<f64>().ok())
        };
        Some(
            value("fieldcase_case_seal_seconds_total")?
                + value("fieldcase_case_open_seconds_total")?,
        )
    }

    /// Resident memory now, MiB.
    pub(crate) fn rss_mib(&self) -> f64 {
        self.status_kib("VmRSS:") as f64 / 1024.0
    }

    /// Stops it as an operator would (SIGTERM) and waits.
    pub(crate) fn stop(mut self) {
        let pid = self.pid();
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Bytes of storage on disk (the SQLite file and its WAL, or the folder).
    pub(crate) fn disk_bytes(&self) -> u64 {
        disk_bytes(&self.storage)
            + disk_bytes(&PathBuf::from(format!("{}-wal", self.storage.display())))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Allocated bytes of a file or a folder tree (what `du` counts).
pub(crate) fn disk_bytes(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if meta.is_dir() {
        std::fs::read_dir(path)
            .map(|rd| rd.flatten().map(|e| disk_bytes(&e.path())).sum())
            .unwrap_or(0)
    } else {
        meta.blocks() * 512
    }
}
