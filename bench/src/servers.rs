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
    /// fieldcase-server on PostgreSQL, one instance.
    FieldcasePg,
    /// Two fieldcase-server instances on one PostgreSQL database, the clients split
    /// between them (lane or phone `i` on instance `i % 2`).
    FieldcasePg2,
    Js,
    Samod,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Fieldcase => "fieldcase-server (SQLite)",
            Kind::FieldcasePg => "fieldcase-server (PostgreSQL)",
            Kind::FieldcasePg2 => "2 × fieldcase-server (one PostgreSQL)",
            Kind::Js => "automerge-repo JS server (NodeFS)",
            Kind::Samod => "samod 0.16 (filesystem)",
        }
    }

    /// fieldcase-server, on either storage.
    pub(crate) fn is_fieldcase(self) -> bool {
        matches!(
            self,
            Kind::Fieldcase | Kind::FieldcasePg | Kind::FieldcasePg2
        )
    }

    /// fieldcase-server on PostgreSQL.
    pub(crate) fn is_postgres(self) -> bool {
        matches!(self, Kind::FieldcasePg | Kind::FieldcasePg2)
    }

    /// Server processes it runs.
    fn instances(self) -> usize {
        if self == Kind::FieldcasePg2 {
            2
        } else {
            1
        }
    }
}

/// One running server process.
#[derive(Debug)]
struct Instance {
    child: Child,
    port: u16,
}

/// A running server: one process, or several on one database.
#[derive(Debug)]
pub(crate) struct Server {
    pub(crate) kind: Kind,
    instances: Vec<Instance>,
    /// The database server's main process (PostgreSQL's postmaster), whose CPU time
    /// counts as the server's.
    database: Option<u32>,
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
    /// Starts `kind` on `storage` (the SQLite file, the PostgreSQL URL, or the server's
    /// folder); fieldcase's master key is `master_key` (hex). Several instances start one
    /// after the other, each on its own port.
    pub(crate) fn start(kind: Kind, storage: &Path, core: &str, master_key: &str) -> Server {
        let instances = (0..kind.instances())
            .map(|_| Instance::start(kind, storage, core, master_key))
            .collect();
        Server {
            kind,
            instances,
            database: None,
        }
    }

    /// Counts the CPU time of the database server `pid` (and its processes) as the
    /// server's.
    pub(crate) fn counting(mut self, pid: Option<u32>) -> Server {
        self.database = pid;
        self
    }

    /// The first instance's HTTP address.
    pub(crate) fn http(&self) -> String {
        format!("http://127.0.0.1:{}", self.instances[0].port)
    }

    /// The sync URL of the instance that client `lane` uses (`lane % instances`).
    pub(crate) fn ws(&self, lane: usize) -> String {
        let port = self.instances[lane % self.instances.len()].port;
        if self.kind.is_fieldcase() {
            format!(
                "ws://127.0.0.1:{port}/v1/sync?schema={}",
                fieldcase_core::schema::SCHEMA_REVISION
            )
        } else {
            format!("ws://127.0.0.1:{port}")
        }
    }

    /// Every instance's HTTP address.
    pub(crate) fn all_http(&self) -> Vec<String> {
        self.instances
            .iter()
            .map(|i| format!("http://127.0.0.1:{}", i.port))
            .collect()
    }

    /// Peak resident memory since each process started, summed, MiB.
    pub(crate) fn peak_mib(&self) -> f64 {
        self.instances
            .iter()
            .map(|i| i.status_kib("VmHWM:") as f64 / 1024.0)
            .sum()
    }

    /// Resident memory now, summed over the instances, MiB.
    pub(crate) fn rss_mib(&self) -> f64 {
        self.instances
            .iter()
            .map(|i| i.status_kib("VmRSS:") as f64 / 1024.0)
            .sum()
    }

    /// CPU time the server has used so far (user and system, every instance), seconds;
    /// with PostgreSQL's processes (its postmaster, the backends it reaped and those
    /// running).
    pub(crate) fn cpu_seconds(&self) -> f64 {
        let db = self.database.map_or(0.0, |pid| {
            let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
                .unwrap_or_default();
            cpu_of(pid, true)
                + children
                    .split_whitespace()
                    .filter_map(|c| c.parse().ok())
                    .map(|c| cpu_of(c, false))
                    .sum::<f64>()
        });
        self.instances
            .iter()
            .map(Instance::cpu_seconds)
            .sum::<f64>()
            + db
    }

    /// The time fieldcase's storage has spent sealing and opening cases so far
    /// (`fieldcase_case_seal_seconds_total` plus `fieldcase_case_open_seconds_total` at
    /// `/metrics`, every instance), seconds; `None` for the other servers, which do not
    /// encrypt.
    pub(crate) fn sealing_seconds(&self) -> Option<f64> {
        if !self.kind.is_fieldcase() {
            return None;
        }
        self.all_http().iter().map(|h| sealing_seconds(h)).sum()
    }

    /// Stops every instance as an operator would (SIGTERM) and waits.
    pub(crate) fn stop(self) {
        for i in self.instances {
            i.stop();
        }
    }
}

/// fieldcase's sealing and opening time so far at `http`'s `/metrics`, seconds.
fn sealing_seconds(http: &str) -> Option<f64> {
    let text = ureq::get(&format!("{http}/metrics"))
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
    Some(value("fieldcase_case_seal_seconds_total")? + value("fieldcase_case_open_seconds_total")?)
}

impl Instance {
    fn start(kind: Kind, storage: &Path, core: &str, master_key: &str) -> Instance {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut cmd = match kind {
            Kind::Fieldcase | Kind::FieldcasePg | Kind::FieldcasePg2 => {
                let exe = std::env::current_exe().expect("own path");
                let bin = exe.with_file_name("fieldcase-server");
                assert!(bin.exists(), "build fieldcase-server in the same profile");
                let mut c = pinned(core, &bin);
                c.args(["--db", storage.to_str().expect("utf-8 path")])
                    .args(["serve", "--listen", &listen])
                    .env("FIELDCASE_PASSWORD_ITERATIONS", "1000")
                    .env("FIELDCASE_METRICS_TOKEN", METRICS_TOKEN)
                    .env("FIELDCASE_MASTER_KEY", master_key)
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
        Instance { child, port }
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

    /// CPU time the process has used so far (user and system), seconds.
    fn cpu_seconds(&self) -> f64 {
        cpu_of(self.pid(), false)
    }

    /// Stops it as an operator would (SIGTERM) and waits.
    fn stop(mut self) {
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
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU time process `pid` has used (user and system), seconds; with `reaped`, also that
/// of its children it has waited for.
fn cpu_of(pid: u32, reaped: bool) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces): utime is the 14th field of
    // the line, stime the 15th, cutime and cstime the 16th and 17th, in clock ticks (100
    // per second on Linux).
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let own = ticks(11) + ticks(12);
    let children = if reaped { ticks(13) + ticks(14) } else { 0 };
    (own + children) as f64 / 100.0
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
