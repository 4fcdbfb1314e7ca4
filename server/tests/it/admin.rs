//! Administration: the admin REST API and the `fieldcase-server` command line on the same
//! database file.

use std::process::Command;

use axum::http::StatusCode;
use fieldcase_core::{Author, CaseDoc, CaseId, NewCase, Role};
use fieldcase_server::db::CaseAccess;
use fieldcase_server::Db;
use serde_json::json;

use crate::{Server, ITER};

const PW: &str = "correct horse battery";

fn setup() -> Server {
    let s = Server::new();
    s.db.add_team("north").unwrap();
    s.db.add_user("root", "Root", Role::Admin, None, PW, ITER)
        .unwrap();
    s.db.add_user("malee", "Malee", Role::Supervisor, Some("north"), PW, ITER)
        .unwrap();
    s
}

#[tokio::test]
async fn admins_manage_teams_and_users_and_nobody_else_does() {
    let s = setup();
    let root = s.login("root", PW).await;
    let malee = s.login("malee", PW).await;
    for (method, path, body) in [
        ("GET", "/v1/admin/teams", None),
        ("POST", "/v1/admin/teams", Some(json!({"name": "south"}))),
        ("GET", "/v1/admin/users", None),
        ("POST", "/v1/admin/users/root/disable", None),
    ] {
        let (st, v) = s.call(method, path, Some(&malee), body.clone()).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{method} {path}: {v}");
        let (st, _) = s.call(method, path, None, body).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{method} {path}");
    }
    let (st, v) = s
        .call(
            "POST",
            "/v1/admin/teams",
            Some(&root),
            Some(json!({"name": "south"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["name"], "south");
    let (st, v) = s.call("GET", "/v1/admin/teams", Some(&root), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v.as_array().unwrap().len(), 2);
    let new_user = json!({"username": "sam", "role": "worker", "team": "south", "password": "a fine long password"});
    let (st, v) = s
        .call(
            "POST",
            "/v1/admin/users",
            Some(&root),
            Some(new_user.clone()),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        (v["username"].as_str(), v["role"].as_str()),
        (Some("sam"), Some("worker"))
    );
    let (st, v) = s.call("GET", "/v1/admin/users", Some(&root), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v.as_array().unwrap().len(), 3);
    let text = v.to_string();
    assert!(
        !text.contains("pw_") && !text.contains("hash") && !text.contains("salt"),
        "{text}"
    );
    // Bad input: a clear error, nothing added.
    for bad in [
        json!({"username": "sam", "role": "worker", "team": "south", "password": "a fine long password"}),
        json!({"username": "x", "role": "chief", "password": "a fine long password"}),
        json!({"username": "y", "role": "worker", "team": "nowhere", "password": "a fine long password"}),
        json!({"username": "z", "role": "worker", "team": "south"}),
    ] {
        let (st, v) = s
            .call("POST", "/v1/admin/users", Some(&root), Some(bad))
            .await;
        assert!(st.is_client_error(), "{v}");
    }
    assert_eq!(s.db.users().unwrap().len(), 3);
    // Disabling ends the user's sessions; an admin cannot lock themselves out.
    let sam = s.login("sam", "a fine long password").await;
    let (st, _) = s
        .call("POST", "/v1/admin/users/sam/disable", Some(&root), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = s.call("GET", "/v1/me", Some(&sam), None).await;
    assert_ne!(st, StatusCode::OK);
    let (st, _) = s
        .call("POST", "/v1/admin/users/root/disable", Some(&root), None)
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}

/// Stores a new case of team north assigned to `worker`, as a phone would have sent it.
fn put_case(db: &fieldcase_server::SqliteDb, worker: &fieldcase_server::db::User) -> CaseId {
    let author = Author::new(&worker.id, &worker.display_name, Role::Worker, "d-phone");
    let new = NewCase {
        team: "north".into(),
        ..Default::default()
    };
    let id = CaseId::random();
    let doc = CaseDoc::create(id, automerge::ActorId::random(), &author, new, 1).unwrap();
    let access = CaseAccess {
        id,
        team: "north".into(),
        restricted: false,
        assigned: vec![worker.id.clone()],
        links: Vec::new(),
        closed: false,
        closed_at: None,
        matching: None,
        listing: None,
    };
    db.put_case(&access, &doc.automerge().save(), &doc.heads(), 1)
        .unwrap();
    id
}

fn cli(db: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_fieldcase-server"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env("FIELDCASE_PASSWORD", "a fine long password")
        .env("FIELDCASE_PASSWORD_ITERATIONS", "1000")
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn the_command_line_adds_people_and_assigns_cases() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.sqlite");
    for args in [
        &["team", "add", "north"][..],
        &["user", "add", "anna", "--role", "worker", "--team", "north"],
        &["user", "add", "bao", "--role", "worker", "--team", "north"],
        &[
            "user",
            "add",
            "malee",
            "--role",
            "supervisor",
            "--team",
            "north",
        ],
    ] {
        let (ok, _, err) = cli(&path, args);
        assert!(ok, "{args:?}: {err}");
    }
    // The team renamed: listed with its new name, its key kept.
    let (ok, _, err) = cli(&path, &["team", "rename", "north", "Команда Північ"]);
    assert!(ok, "{err}");
    let (_, out, _) = cli(&path, &["team", "list"]);
    assert_eq!(out.trim(), "north\tКоманда Північ");
    let (ok, _, err) = cli(&path, &["team", "rename", "west", "West"]);
    assert!(!ok && err.contains("no team west"), "{err}");
    // A case opened by Anna, as her phone would have sent it.
    let db = fieldcase_server::SqliteDb::open(&path).unwrap();
    let anna = db.user_by_username("anna").unwrap().unwrap();
    let bao = db.user_by_username("bao").unwrap().unwrap();
    let id = put_case(&db, &anna);

    let (ok, out, err) = cli(&path, &["case", "assign", &id.to_string(), "bao", "anna"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("assigned to bao, anna") || out.contains("assigned to anna, bao"),
        "{out}"
    );
    let stored = CaseDoc::load(&db.case_document(&id).unwrap().unwrap()).unwrap();
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let both = sorted(vec![bao.id.clone(), anna.id.clone()]);
    assert_eq!(sorted(stored.read().unwrap().assigned), both);
    assert_eq!(sorted(db.case_access(&id).unwrap().unwrap().assigned), both);
    // The change is attributed to the command line in the field's history.
    let history = fieldcase_core::case::inspect::history(&stored, "assigned").unwrap();
    assert!(
        history
            .iter()
            .any(|h| h.by.user_id.as_deref() == Some(fieldcase_server::admin::CLI_AUTHOR_ID)),
        "{history:?}"
    );
    let (ok, out, _) = cli(&path, &["case", "list"]);
    assert!(ok);
    assert!(
        out.contains(&id.to_string()) && out.contains("bao") && out.contains("anna"),
        "{out}"
    );

    // Bad input: a clear error, nothing changed.
    let heads = db.case_heads(&id).unwrap();
    for (args, expect) in [
        (vec!["case", "assign", "not-a-case", "bao"], "no such case"),
        (
            vec!["case", "assign", &CaseId::random().to_string(), "bao"],
            "no such case",
        ),
        (
            vec!["case", "assign", &id.to_string(), "nobody"],
            "not an active worker",
        ),
        (
            vec!["case", "assign", &id.to_string(), "malee", "ghost"],
            "user 2 of the list",
        ),
    ] {
        let (ok, _, err) = cli(&path, &args.iter().map(|s| &**s).collect::<Vec<_>>());
        assert!(!ok, "{args:?}");
        assert!(err.contains(expect), "{args:?}: {err}");
    }
    let (ok, _, err) = cli(&path, &["case", "assign", &id.to_string()]);
    assert!(!ok && err.contains("USERNAMES"), "{err}");
    assert_eq!(db.case_heads(&id).unwrap(), heads);
}

#[test]
fn serve_follows_its_configuration_file_and_stops_cleanly_on_sigterm() {
    use std::io::{BufRead, Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("from-config.sqlite");
    let config = dir.path().join("fieldcase.toml");
    std::fs::write(
        &config,
        format!(
            "db = {:?}\nlisten = \"127.0.0.1:0\"\nlog_format = \"json\"\n[login]\nmax_failures = 2\n",
            db.to_str().unwrap()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_fieldcase-server"))
        .args(["serve", "--config"])
        .arg(&config)
        .env_remove("FIELDCASE_DB")
        .env_remove("FIELDCASE_LISTEN")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("the server printed its address")
            .unwrap();
        if let Some(rest) = line.strip_prefix("Listening on http://") {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    let mut conn = std::net::TcpStream::connect(&addr).unwrap();
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 200") && answer.ends_with("ok"),
        "{answer}"
    );
    assert!(db.exists(), "the database is where the file says");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not stop"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit:?}");
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    assert!(
        logs.lines()
            .any(|l| l.starts_with('{') && l.contains("\"stopped\"")),
        "{logs}"
    );

    // A flag wins over the file.
    let other = dir.path().join("from-flag.sqlite");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_fieldcase-server"))
            .arg("--config")
            .arg(&config)
            .args(args)
            .env_remove("FIELDCASE_DB")
            .output()
            .unwrap()
    };
    assert!(
        run(&["--db", other.to_str().unwrap(), "team", "add", "flagged"])
            .status
            .success()
    );
    let from_file = String::from_utf8(run(&["team", "list"]).stdout).unwrap();
    assert!(!from_file.contains("flagged"), "{from_file}");
    let from_flag =
        String::from_utf8(run(&["--db", other.to_str().unwrap(), "team", "list"]).stdout).unwrap();
    assert!(from_flag.contains("flagged"), "{from_flag}");

    // A mistake in the file is named, and nothing starts.
    std::fs::write(&config, "listen = \"127.0.0.1:0\"\nmax_failure = 3\n").unwrap();
    let out = run(&["serve"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("max_failure") && err.contains("fieldcase.toml"),
        "{err}"
    );
}

#[test]
fn backup_copies_a_database_that_is_being_written_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.sqlite");
    let db = fieldcase_server::SqliteDb::open(&path).unwrap();
    db.add_team("north").unwrap();
    db.add_user("anna", "Anna", Role::Worker, Some("north"), PW, ITER)
        .unwrap();
    let anna = db.user_by_username("anna").unwrap().unwrap();
    let put = |db: &fieldcase_server::SqliteDb| {
        put_case(db, &anna);
    };
    for _ in 0..50 {
        put(&db);
    }
    // Another writer goes on while the backup runs.
    let stop = std::sync::atomic::AtomicBool::new(false);
    let writer = std::thread::scope(|s| {
        let h = s.spawn(|| {
            let db = fieldcase_server::SqliteDb::open(&path).unwrap();
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && n < 2_000 {
                put(&db);
                n += 1;
            }
            n
        });
        let copy = dir.path().join("copy.sqlite");
        let (ok, out, err) = cli(&path, &["backup", copy.to_str().unwrap()]);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(ok, "{err}");
        assert!(out.contains("checked"), "{out}");
        // A backup is sealed under the database's master key, in the key file beside it,
        // and holds no data keys (ADR 0007): it does not open as a database; restored, with
        // the keys of the database it was taken from, every case loads.
        let key = fieldcase_server::db::keys::KeySource::beside(&path);
        let e = fieldcase_server::SqliteDb::open_with(&copy, &key).unwrap_err();
        assert!(format!("{e:?}").contains("kept apart"), "{e:?}");
        let target = dir.path().join("restored.sqlite");
        fieldcase_server::restore::restore(&target, &copy, &key, Some(&path)).unwrap();
        let restored = fieldcase_server::SqliteDb::open_with(&target, &key).unwrap();
        let n = restored.cases().unwrap().len();
        assert!(n >= 50, "{n}");
        for (access, _) in restored.cases().unwrap() {
            let bytes = restored.case_document(&access.id).unwrap().unwrap();
            CaseDoc::load(&bytes).unwrap();
        }
        assert_eq!(restored.users().unwrap().len(), 1);
        // A second backup to the same file is refused and leaves it as it was.
        let before = std::fs::read(&copy).unwrap();
        let (ok, _, err) = cli(&path, &["backup", copy.to_str().unwrap()]);
        assert!(!ok && err.contains("never overwrites"), "{err}");
        assert_eq!(std::fs::read(&copy).unwrap(), before);
        h.join().unwrap()
    });
    assert!(writer > 0);
}

#[test]
fn a_failed_postgres_connection_prints_no_password() {
    // Nothing listens on port 1: the connection fails, and the error is printed.
    for (url, secret) in [
        ("postgres://anna:pa/ss99@127.0.0.1:1/fc", "pa/ss99"),
        ("postgres://anna:p?ss99@127.0.0.1:1/fc", "p?ss99"),
        ("postgres://anna:s3cr%40t@127.0.0.1:1/fc", "s3cr@t"),
        (
            "postgres://anna@127.0.0.1:1/fc?password=secret99&sslmode=disable",
            "secret99",
        ),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_fieldcase-server"))
            .args(["--db", url, "user", "list"])
            .output()
            .unwrap();
        assert!(!out.status.success());
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(printed.contains("cannot open the database"), "{printed}");
        assert!(!printed.contains(secret), "{url}: {printed}");
        assert!(!printed.contains("s3cr%40t"), "{printed}");
    }
}

#[tokio::test]
async fn the_admin_api_and_the_cli_refuse_weak_passwords() {
    let s = setup();
    let root = s.login("root", PW).await;
    for weak in [
        "aaaaaaaaaa",
        "1234567890",
        "aaaaaaaaaaaa",
        "123456789012",
        "password1234",
        "qwertyuiop12",
        "sam.worker2024",
    ] {
        let (st, v) = s
            .call(
                "POST",
                "/v1/admin/users",
                Some(&root),
                Some(json!({"username": "sam.worker", "role": "admin", "password": weak})),
            )
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{weak}: {v}");
        let message = v["message"].as_str().unwrap();
        assert!(
            message.contains("at least 12") || message.contains("too easy to guess"),
            "{message}"
        );
    }
    assert!(s.db.user_by_username("sam.worker").unwrap().is_none());
    // Resetting a password holds to the same policy, and so does changing one's own.
    assert!(s.db.set_password("root", "password1234", ITER).is_err());
    let (st, v) = s
        .call(
            "POST",
            "/v1/me/password",
            Some(&root),
            Some(json!({"current_password": PW, "new_password": "root12345678"})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["message"].as_str().unwrap().contains("too easy to guess"));
    // And so does the CLI.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.sqlite");
    let cli = |password: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_fieldcase-server"))
            .args([
                "--db",
                db.to_str().unwrap(),
                "user",
                "add",
                "boss",
                "--role",
                "admin",
            ])
            .env("FIELDCASE_PASSWORD", password)
            .env("FIELDCASE_PASSWORD_ITERATIONS", "1000")
            .output()
            .unwrap()
    };
    let out = cli("1234567890ab");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("too easy to guess"));
    assert!(cli("violet harbour lantern").status.success());
}

/// A lost phone from the command line: the user's devices, one revoked, the user disabled
/// and enabled again, and every action in the administrative log. Unknown users and
/// devices are clear refusals.
#[test]
fn the_command_line_revokes_a_lost_phone_and_logs_what_it_does() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.sqlite");
    for args in [
        &["team", "add", "north"][..],
        &["user", "add", "anna", "--role", "worker", "--team", "north"],
    ] {
        let (ok, _, err) = cli(&path, args);
        assert!(ok, "{args:?}: {err}");
    }
    let db = fieldcase_server::SqliteDb::open(&path).unwrap();
    let anna = db.user_by_username("anna").unwrap().unwrap();
    let lost = db
        .register_device(&anna, None, "Anna's Nokia", &"ab".repeat(16))
        .unwrap();
    let kept = db
        .register_device(&anna, None, "Anna's tablet", &"cd".repeat(16))
        .unwrap();
    let (ok, out, err) = cli(&path, &["user", "devices", "anna"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("Anna's Nokia") && out.contains("Anna's tablet"),
        "{out}"
    );
    assert!(!out.contains("revoked"), "{out}");
    let (ok, out, err) = cli(&path, &["device", "revoke", &lost]);
    assert!(ok, "{err}");
    assert!(out.contains("revoked"), "{out}");
    assert!(db.device(&lost).unwrap().unwrap().disabled);
    assert!(!db.device(&kept).unwrap().unwrap().disabled);
    let (_, out, _) = cli(&path, &["user", "devices", "anna"]);
    assert_eq!(out.matches("revoked").count(), 1, "{out}");
    for (args, expect) in [
        (vec!["device", "revoke", "d-nothing"], "no device d-nothing"),
        (vec!["user", "devices", "nobody"], "no user nobody"),
        (vec!["user", "enable", "nobody"], "no user nobody"),
    ] {
        let (ok, _, err) = cli(&path, &args);
        assert!(!ok, "{args:?}");
        assert!(err.contains(expect), "{args:?}: {err}");
    }
    let (ok, _, err) = cli(&path, &["user", "disable", "anna"]);
    assert!(ok, "{err}");
    assert!(db.user_by_username("anna").unwrap().unwrap().disabled);
    let (ok, _, err) = cli(&path, &["user", "enable", "anna"]);
    assert!(ok, "{err}");
    assert!(!db.user_by_username("anna").unwrap().unwrap().disabled);
    let (ok, out, err) = cli(&path, &["log"]);
    assert!(ok, "{err}");
    let actions: Vec<&str> = out
        .lines()
        .map(|l| l.split_whitespace().nth(2).unwrap_or(""))
        .collect();
    assert_eq!(
        actions,
        ["enable", "disable", "revoke", "add", "add"],
        "{out}"
    );
    assert!(
        out.contains(fieldcase_server::admin::CLI_AUTHOR_ID),
        "{out}"
    );
}

/// `restore` puts a checked backup in place and keeps what it replaced; it refuses a file
/// that is not a backup and refuses while a server runs on the database, changing nothing.
/// `check` says in words what is right and what is wrong. Through the binary.
#[test]
fn restore_checks_the_backup_and_refuses_while_a_server_runs_and_check_says_what_is_wrong() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.sqlite");
    let backup = dir.path().join("monday.sqlite");
    for args in [
        &["team", "add", "north"][..],
        &["user", "add", "anna", "--role", "worker", "--team", "north"],
        &["backup", backup.to_str().unwrap()],
        &["user", "add", "late", "--role", "worker", "--team", "north"],
    ] {
        let (ok, _, err) = cli(&path, args);
        assert!(ok, "{args:?}: {err}");
    }
    let (ok, out, err) = cli(&path, &["check"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("everything checks") && out.contains("2 users"),
        "{out}"
    );

    // Not a backup: refused, nothing changed.
    let junk = dir.path().join("junk.sqlite");
    std::fs::write(&junk, b"this is not a database at all, only words").unwrap();
    let (ok, _, err) = cli(&path, &["restore", junk.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        err.contains("is not a backup this server can restore"),
        "{err}"
    );
    let (ok, _, err) = cli(&path, &["check", "--db", junk.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        err.contains("not a SQLite database") || err.contains("does not open"),
        "{err}"
    );
    let (ok, out, _) = cli(&path, &["user", "list"]);
    assert!(ok && out.contains("late"), "{out}");

    // A server running on the database: refused.
    let mut server = Command::new(env!("CARGO_BIN_EXE_fieldcase-server"))
        .arg("--db")
        .arg(&path)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(server.stdout.take().unwrap()).lines();
    while !lines.next().unwrap().unwrap().starts_with("Listening on") {}
    let (ok, _, err) = cli(&path, &["restore", backup.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("a server is running"), "{err}");
    server.kill().unwrap();
    server.wait().unwrap();

    // Stopped: the backup takes the database's place; the old one is kept beside it.
    let (ok, out, err) = cli(&path, &["restore", backup.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("kept as"), "{out}");
    let (ok, out, _) = cli(&path, &["user", "list"]);
    assert!(ok && out.contains("anna") && !out.contains("late"), "{out}");
    let kept: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.contains(".before-restore-") && !name.ends_with("-wal") && !name.ends_with("-shm")
        })
        .collect();
    assert_eq!(kept.len(), 1);
    let key = fieldcase_server::db::keys::KeySource::beside(&path);
    let old = fieldcase_server::SqliteDb::open_with(kept[0].path(), &key).unwrap();
    assert!(
        old.user_by_username("late").unwrap().is_some(),
        "nothing lost"
    );
}

/// `serve --demo` through the binary, its database and address from the environment
/// (`FIELDCASE_DB`, `FIELDCASE_LISTEN`): it prints working passwords, a printed account
/// signs in and sees its demo caseload, and SIGTERM stops it.
#[test]
fn serve_demo_from_the_environment_prints_passwords_that_sign_in() {
    use std::io::{BufRead, Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite");
    let mut child = Command::new(env!("CARGO_BIN_EXE_fieldcase-server"))
        .args(["serve", "--demo"])
        .env("FIELDCASE_DB", &db)
        .env("FIELDCASE_LISTEN", "127.0.0.1:0")
        .env("FIELDCASE_PASSWORD_ITERATIONS", "1000")
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut accounts = Vec::new();
    let addr = loop {
        let line = lines.next().expect("the server's output").unwrap();
        let words: Vec<&str> = line.split_whitespace().collect();
        if let [user, _role, "password", pw] = words[..] {
            accounts.push((user.to_string(), pw.to_string()));
        }
        if let Some(rest) = line.strip_prefix("Listening on http://") {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    assert!(db.exists(), "the database is where FIELDCASE_DB says");
    let (user, pw) = accounts
        .iter()
        .find(|(u, _)| u.starts_with("worker"))
        .expect("a worker's password is printed")
        .clone();
    let http = |request: String| {
        let mut conn = std::net::TcpStream::connect(&addr).unwrap();
        conn.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        conn.read_to_string(&mut answer).unwrap();
        answer
    };
    let body = serde_json::json!({"username": user, "password": pw, "device_name": "test",
        "actor_id": automerge::ActorId::random().to_hex_string()})
    .to_string();
    let answer = http(format!(
        "POST /v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nFieldcase-Schema: {}\r\nConnection: close\r\n\r\n{body}",
        body.len(),
        fieldcase_core::schema::SCHEMA_REVISION
    ));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let json: serde_json::Value =
        serde_json::from_str(&answer[answer.find("\r\n\r\n").unwrap() + 4..]).unwrap();
    let token = json["token"].as_str().unwrap();
    let answer = http(format!(
        "GET /v1/caseload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nFieldcase-Schema: {}\r\nConnection: close\r\n\r\n",
        fieldcase_core::schema::SCHEMA_REVISION
    ));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let caseload: serde_json::Value =
        serde_json::from_str(&answer[answer.find("\r\n\r\n").unwrap() + 4..]).unwrap();
    assert!(!caseload.as_array().unwrap().is_empty(), "{caseload}");
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
}
