//! A throwaway PostgreSQL cluster for tests: `initdb` in a temporary folder, the server on
//! 127.0.0.1 on a free port, stopped (and the folder removed) when dropped, also when the
//! test panics.
//!
//! The binaries come from `FIELDCASE_PG_BIN` if set, else the newest
//! `/usr/lib/postgresql/*/bin` (Debian's `postgresql` package, which `scripts/test.sh`
//! installs), else `pg_config --bindir`. Without them the test fails, saying so. PostgreSQL
//! refuses to run as root: as root (CI, containers) the cluster runs as the `postgres` user
//! through `runuser`, in a folder that user owns.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The database user of the test cluster (trusted on loopback: no password).
const USER: &str = "fieldcase";

/// A running PostgreSQL cluster.
#[derive(Debug)]
pub struct PgCluster {
    pub port: u16,
    bin: PathBuf,
    data: PathBuf,
    /// Whom the cluster runs as, when the tests run as root.
    run_as: Option<String>,
    running: bool,
    dir: tempfile::TempDir,
}

/// Where the PostgreSQL server binaries are.
fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("FIELDCASE_PG_BIN") {
        let dir = PathBuf::from(dir);
        assert!(
            dir.join("initdb").exists() && dir.join("pg_ctl").exists(),
            "FIELDCASE_PG_BIN is {}, which has no initdb and pg_ctl",
            dir.display()
        );
        return dir;
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
    if let Some((_, bin)) = versions.pop() {
        return bin;
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() {
            return dir;
        }
    }
    panic!(
        "PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin or \
         by pg_config: install them (Debian: apt-get install postgresql; scripts/test.sh does) \
         or set FIELDCASE_PG_BIN to their folder"
    );
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl PgCluster {
    /// Creates and starts a cluster (about a second).
    pub fn start() -> Self {
        let bin = bin_dir();
        let dir = tempfile::Builder::new()
            .prefix("fieldcase-pg")
            .tempdir()
            .expect("temp dir");
        let run_as = is_root().then(|| "postgres".to_string());
        if let Some(user) = &run_as {
            let status = Command::new("chown")
                .arg(format!("{user}:"))
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(status.success(), "cannot give the cluster folder to {user}");
        }
        let mut cluster = PgCluster {
            port: 0,
            data: dir.path().join("data"),
            bin,
            run_as,
            running: false,
            dir,
        };
        let out = cluster
            .command("initdb")
            .args(["-A", "trust", "-U", USER, "-E", "UTF8", "--no-sync", "-D"])
            .arg(&cluster.data)
            .output()
            .expect("initdb runs");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The port is free when picked; another process may take it before the server
        // binds, so try a few.
        for _ in 0..5 {
            cluster.port = free_port();
            let options = format!(
                "-h 127.0.0.1 -p {} -k {} -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
                cluster.port,
                cluster.dir.path().display()
            );
            let status = cluster
                .command("pg_ctl")
                .args(["-w", "-t", "60", "-o", &options, "-l"])
                .arg(cluster.dir.path().join("server.log"))
                .arg("-D")
                .arg(&cluster.data)
                .arg("start")
                .stdout(Stdio::null())
                .status()
                .expect("pg_ctl runs");
            if status.success() {
                cluster.running = true;
                return cluster;
            }
        }
        let log =
            std::fs::read_to_string(cluster.dir.path().join("server.log")).unwrap_or_default();
        panic!("the PostgreSQL test cluster did not start:\n{log}");
    }

    /// A command of the cluster's binaries, run as the cluster's user.
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

    /// The URL of database `name` on this cluster.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/{name}", self.port)
    }

    /// Creates an empty database and returns its URL.
    pub fn database(&self, name: &str) -> String {
        let out = self
            .command("createdb")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                USER,
                name,
            ])
            .output()
            .expect("createdb runs");
        assert!(
            out.status.success(),
            "createdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.url(name)
    }

    /// A client program of the cluster's binaries (`psql`, `pg_dump`...), connecting to it
    /// over TCP as the test user (no `runuser` needed).
    pub fn client(&self, program: &str) -> Command {
        let mut c = Command::new(self.bin.join(program));
        c.args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", USER]);
        c
    }

    /// The cluster's folder.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if self.running {
            // Immediate: nothing of a test cluster needs to survive.
            let _ = self
                .command("pg_ctl")
                .args(["-w", "-m", "immediate", "-D"])
                .arg(&self.data)
                .arg("stop")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// The `fieldcase-server` binary, built now if it is missing or out of date (the tests of
/// this crate start it as a separate process). Built with both packages selected, as
/// `cargo nextest run -p fieldcase-server -p fieldcase-tests` builds it: the same features,
/// so neither build undoes the other's.
pub fn server_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    // target/<profile>/deps/<test> → target/<profile>/fieldcase-server
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test runs from a cargo target folder")
        .to_path_buf();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build.args([
        "build",
        "--quiet",
        "-p",
        "fieldcase-server",
        "-p",
        "fieldcase-tests",
        "--bin",
        "fieldcase-server",
    ]);
    match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => {}
        Some(profile) => {
            build.args(["--profile", profile]);
        }
    }
    // Not the variables cargo sets for this test: build scripts that watch them (ring's
    // watches CARGO_MANIFEST_DIR) would rebuild, and then the next test build again.
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if key.starts_with("CARGO_PKG_")
            || key.starts_with("CARGO_BIN_")
            || [
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_CRATE_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
                "CARGO_RUSTC_CURRENT_DIR",
                "OUT_DIR",
            ]
            .contains(&key)
        {
            build.env_remove(key);
        }
    }
    let status = build.status().expect("cargo runs");
    assert!(status.success(), "cannot build fieldcase-server");
    let bin = profile_dir.join("fieldcase-server");
    assert!(bin.exists(), "no server binary at {}", bin.display());
    bin
}
