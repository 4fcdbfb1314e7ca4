//! Every command of the `fieldcase-server` binary on PostgreSQL, through the binary itself
//! (`server/tests/it/admin.rs` runs them on SQLite): teams, users, devices, cases, the
//! administrative log, the audit trail, `check`, `serve` and `serve --demo` with their
//! settings from the environment; `backup` and `restore`, which are SQLite's, refuse
//! clearly. Unknown users and devices are clear refusals that change nothing.

use std::io::BufRead;
use std::path::Path;
use std::process::{Command, Stdio};

use fieldcase_core::{CaseStore, NewCase};
use fieldcase_tests::pg::{server_binary, PgCluster};
use fieldcase_tests::{ITERATIONS, PASSWORD};

/// Runs the binary on `db`: whether it succeeded, its output and its errors.
fn run(bin: &Path, db: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(bin)
        .args(args)
        .env("FIELDCASE_DB", db)
        .env("FIELDCASE_PASSWORD", PASSWORD)
        .env("FIELDCASE_PASSWORD_ITERATIONS", ITERATIONS.to_string())
        .env("RUST_LOG", "error")
        .output()
        .expect("the binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(bin: &Path, db: &str, args: &[&str]) -> String {
    let (success, out, err) = run(bin, db, args);
    assert!(success, "{args:?}: {err}");
    out
}

fn refused(bin: &Path, db: &str, args: &[&str], expect: &str) {
    let (success, _, err) = run(bin, db, args);
    assert!(!success, "{args:?} must be refused");
    assert!(err.contains(expect), "{args:?}: {err}");
}

/// A server process from the binary on `db`, its address from `FIELDCASE_LISTEN`; the
/// lines it printed before it listened, and its address.
struct Serving {
    child: std::process::Child,
    addr: String,
    printed: Vec<String>,
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(bin: &Path, db: &str, extra: &[&str]) -> Serving {
    let mut child = Command::new(bin)
        .arg("serve")
        .args(extra)
        .env("FIELDCASE_DB", db)
        .env("FIELDCASE_LISTEN", "127.0.0.1:0")
        .env("FIELDCASE_PASSWORD_ITERATIONS", ITERATIONS.to_string())
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .spawn()
        .expect("the server starts");
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let addr = loop {
        let line = lines
            .next()
            .expect("the server says where it listens")
            .unwrap();
        if let Some(rest) = line.strip_prefix("Listening on http://") {
            break rest.split_whitespace().next().unwrap().to_string();
        }
        printed.push(line);
    };
    Serving {
        child,
        addr,
        printed,
    }
}

#[test]
fn every_command_of_the_binary_works_on_postgresql() {
    let pg = PgCluster::start();
    let db = pg.database("agency");
    let bin = server_binary();

    // Teams and users.
    ok(&bin, &db, &["team", "add", "north"]);
    ok(&bin, &db, &["team", "add", "south"]);
    let teams = ok(&bin, &db, &["team", "list"]);
    assert!(
        teams.contains("north") && teams.contains("south"),
        "{teams}"
    );
    ok(&bin, &db, &["team", "rename", "south", "Південна команда"]);
    assert!(ok(&bin, &db, &["team", "list"]).contains("south\tПівденна команда"));
    refused(
        &bin,
        &db,
        &["team", "rename", "west", "West"],
        "no team west",
    );
    refused(
        &bin,
        &db,
        &["team", "rename", "north", "south"],
        "another team",
    );
    for (user, role, team) in [
        ("anna", "worker", Some("north")),
        ("bao", "worker", Some("north")),
        ("root", "admin", None),
    ] {
        let mut args = vec!["user", "add", user, "--role", role];
        if let Some(t) = team {
            args.extend(["--team", t]);
        }
        ok(&bin, &db, &args);
    }
    refused(
        &bin,
        &db,
        &["user", "add", "lone", "--role", "worker"],
        "team",
    );
    let users = ok(&bin, &db, &["user", "list"]);
    assert!(
        users.contains("anna") && users.contains("bao") && !users.contains("lone"),
        "{users}"
    );

    // The server, from the environment: a phone signs in, records a case, syncs.
    let server = serve(&bin, &db, &[]);
    let url = format!("http://{}", server.addr);
    let dir = tempfile::tempdir().unwrap();
    let phone = CaseStore::open(dir.path().join("anna.sqlite"), &[7; 32]).unwrap();
    let token = phone
        .login(&url, "anna", PASSWORD, "Anna's Nokia")
        .unwrap()
        .token;
    let mut new = NewCase {
        team: "north".into(),
        ..Default::default()
    };
    new.client.name = Some("Фёдорова Анна".into());
    let id = phone.create_case(new).unwrap();
    assert!(phone.sync(&url, &token).unwrap().errors.is_empty());

    // Cases: listed, assigned to Bảo as well while the server runs.
    assert!(ok(&bin, &db, &["case", "list"]).contains(&id.to_string()));
    ok(
        &bin,
        &db,
        &["case", "assign", &id.to_string(), "anna", "bao"],
    );
    assert!(ok(&bin, &db, &["case", "list"]).contains("anna,bao"));
    refused(
        &bin,
        &db,
        &["case", "assign", &id.to_string(), "nobody"],
        "not an active worker or supervisor",
    );

    // Anna's phone is lost: her devices, the phone revoked; its next contact wipes it.
    let devices = ok(&bin, &db, &["user", "devices", "anna"]);
    assert!(
        devices.contains("Anna's Nokia") && !devices.contains("revoked"),
        "{devices}"
    );
    let device = phone.user().unwrap().device_id;
    assert!(ok(&bin, &db, &["device", "revoke", &device]).contains("revoked"));
    assert!(matches!(
        phone.sync(&url, &token),
        Err(fieldcase_core::Error::Wiped)
    ));
    assert!(ok(&bin, &db, &["user", "devices", "anna"]).contains("revoked"));
    refused(
        &bin,
        &db,
        &["device", "revoke", "d-nothing"],
        "no device d-nothing",
    );
    refused(&bin, &db, &["user", "devices", "nobody"], "no user nobody");

    // Bảo leaves and comes back.
    ok(&bin, &db, &["user", "disable", "bao"]);
    refused(&bin, &db, &["user", "disable", "nobody"], "no user nobody");
    ok(&bin, &db, &["user", "enable", "bao"]);
    refused(&bin, &db, &["user", "enable", "nobody"], "no user nobody");
    drop(server);

    // The log names every action of the command line; the audit trail answers.
    let log = ok(&bin, &db, &["log"]);
    let actions: Vec<&str> = log
        .lines()
        .map(|l| l.split_whitespace().nth(2).unwrap_or(""))
        .collect();
    for action in ["enable", "disable", "revoke", "assign", "add", "rename"] {
        assert!(actions.contains(&action), "{action}: {log}");
    }
    ok(&bin, &db, &["audit"]);

    // `check` on PostgreSQL says it is fine; a database that cannot be reached is a
    // failure in words.
    let checked = ok(&bin, &db, &["check"]);
    assert!(checked.contains("everything checks"), "{checked}");
    let unreachable = "postgres://nobody@127.0.0.1:1/none";
    let (success, _, err) = run(&bin, unreachable, &["check"]);
    assert!(!success && !err.is_empty(), "{err}");

    // Backups and restores are SQLite's; on PostgreSQL they refuse and say what to use.
    let copy = dir.path().join("copy.sqlite");
    refused(&bin, &db, &["backup", copy.to_str().unwrap()], "pg_dump");
    assert!(!copy.exists());
    refused(
        &bin,
        &db,
        &["restore", copy.to_str().unwrap()],
        "PostgreSQL",
    );

    // `serve --demo` on a new database prints passwords that sign in.
    let demo_db = pg.database("demo");
    let demo = serve(&bin, &demo_db, &["--demo"]);
    let (user, password) = demo
        .printed
        .iter()
        .find_map(
            |line| match line.split_whitespace().collect::<Vec<_>>()[..] {
                [user, _role, "password", pw] if user.starts_with("worker") => {
                    Some((user.to_string(), pw.to_string()))
                }
                _ => None,
            },
        )
        .expect("a worker's password is printed");
    let demo_url = format!("http://{}", demo.addr);
    let demo_phone = CaseStore::open(dir.path().join("demo.sqlite"), &[8; 32]).unwrap();
    let token = demo_phone
        .login(&demo_url, &user, &password, "demo phone")
        .unwrap()
        .token;
    let report = demo_phone.sync(&demo_url, &token).unwrap();
    assert!(
        report.errors.is_empty() && !demo_phone.case_ids().is_empty(),
        "{report:?}"
    );
}
