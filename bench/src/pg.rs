//! A PostgreSQL cluster of the run's own for the `fieldcase-pg` servers: `initdb` in the
//! run's temporary folder, the server on 127.0.0.1 on a free port, stopped when dropped.
//! Unlike the test cluster (tests/src/pg.rs) it keeps PostgreSQL's durable defaults
//! (`fsync`, `synchronous_commit`, `full_page_writes` on), as fieldcase's SQLite storage
//! commits with `synchronous=FULL`: both pay for durability alike.
//!
//! The binaries are Debian's (`apt-get install postgresql`, /usr/lib/postgresql/*/bin) or
//! `FIELDCASE_PG_BIN`'s. As root the cluster runs as the `postgres` user (`runuser`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The database user (trusted on loopback).
const USER: &str = "fieldcase";

#[derive(Debug)]
pub(crate) struct Cluster {
    pub(crate) port: u16,
    bin: PathBuf,
    data: PathBuf,
    run_as: Option<String>,
    version: String,
}

/// Where the server binaries are, if anywhere.
pub(crate) fn bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("FIELDCASE_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, b)| b)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl Cluster {
    /// Creates and starts a cluster in `dir` (which it may hand to the `postgres` user).
    pub(crate) fn start(dir: &Path) -> Cluster {
        let bin = bin_dir().expect(
            "PostgreSQL's server binaries (initdb, pg_ctl): apt-get install postgresql, or set \
             FIELDCASE_PG_BIN",
        );
        std::fs::create_dir_all(dir).expect("cluster folder");
        let run_as = is_root().then(|| "postgres".to_string());
        if let Some(user) = &run_as {
            let ok = Command::new("chown")
                .arg("-R")
                .arg(format!("{user}:"))
                .arg(dir)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "cannot give the cluster folder to {user}");
            // The user must be able to reach the folder (the run's temporary folder is
            // the bench's own, mode 0700).
            if let Some(parent) = dir.parent() {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o711));
            }
        }
        let version = Command::new(bin.join("postgres"))
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        let mut c = Cluster {
            port: 0,
            data: dir.join("data"),
            bin,
            run_as,
            version,
        };
        let out = c
            .command("initdb")
            .args(["-A", "trust", "-U", USER, "-E", "UTF8", "-D"])
            .arg(&c.data)
            .output()
            .expect("initdb runs");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for _ in 0..5 {
            c.port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            // Loopback only, no Unix socket outside the folder; a pool of 4 connections
            // per instance and the keys database's as many fit in the default 100.
            let options = format!("-h 127.0.0.1 -p {} -k {}", c.port, dir.display());
            // On the server's core, as SQLite's work is in the server's process.
            let mut start = Command::new("taskset");
            start.args(["-c", crate::SERVER_CORE]);
            if let Some(user) = &c.run_as {
                start.args(["runuser", "-u", user, "--"]);
            }
            start.arg(c.bin.join("pg_ctl"));
            let taskset = Command::new("taskset")
                .arg("-V")
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            let status = if taskset { start } else { c.command("pg_ctl") }
                .args(["-w", "-t", "60", "-o", &options, "-l"])
                .arg(dir.join("server.log"))
                .arg("-D")
                .arg(&c.data)
                .arg("start")
                .stdout(Stdio::null())
                .status()
                .expect("pg_ctl runs");
            if status.success() {
                return c;
            }
        }
        panic!(
            "PostgreSQL did not start: {}",
            std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
        );
    }

    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(program);
                c
            }
            None => Command::new(program),
        }
    }

    /// The postmaster's process id.
    pub(crate) fn postmaster_pid(&self) -> u32 {
        std::fs::read_to_string(self.data.join("postmaster.pid"))
            .ok()
            .and_then(|s| s.lines().next()?.trim().parse().ok())
            .unwrap_or(0)
    }

    /// The URL of database `name`.
    pub(crate) fn url(&self, name: &str) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/{name}", self.port)
    }

    /// Bytes in database `name` and its keys database (`name_keys`): every table's
    /// `pg_total_relation_size` (heap, indexes, TOAST), the table of cases', and the keys
    /// database's tables'.
    pub(crate) fn space(&self, name: &str) -> (u64, u64, u64) {
        let all = "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c \
                   JOIN pg_namespace n ON n.oid = c.relnamespace \
                   WHERE c.relkind = 'r' AND n.nspname = 'public'";
        let num = |db: &str, sql: &str| {
            self.query(db, sql)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        // Written to disk, so that the sizes are those of the files.
        let _ = self.query(name, "CHECKPOINT");
        (
            num(name, all),
            num(name, "SELECT pg_total_relation_size('cases')"),
            num(&format!("{name}_keys"), all),
        )
    }

    /// `postgres --version`.
    pub(crate) fn version(&self) -> &str {
        &self.version
    }

    /// The URL of database `name` (created when absent).
    pub(crate) fn database(&self, name: &str) -> String {
        let _ = Command::new(self.bin.join("createdb"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", USER])
            .arg(name)
            .stderr(Stdio::null())
            .status();
        self.url(name)
    }

    /// One value `sql` answers in database `name` (psql, unaligned), if it answers.
    pub(crate) fn query(&self, name: &str, sql: &str) -> Option<String> {
        let out = Command::new(self.bin.join("psql"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", USER])
            .args(["-X", "-A", "-t", "-d", name, "-c", sql])
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["-w", "-m", "fast", "-D"])
            .arg(&self.data)
            .arg("stop")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
