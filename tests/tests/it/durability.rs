//! Durability: the server process is killed with SIGKILL at random moments while phones
//! sync, and restarted on the same SQLite file, twenty times; every change a phone saw
//! acknowledged is there, every phone's next sync completes, nothing is lost or doubled.
//!
//! The server runs in a child process, `fieldcase-test-server` (`tests/src/bin/`), serving
//! the file on a free loopback port it prints.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use automerge::sync::State as SyncState;
use automerge::ReadDoc;
use fieldcase_core::case::VisitInput;
use fieldcase_core::{CaseDoc, CaseId, CaseStore, NewCase, Role};
use fieldcase_server::{Db, SqliteDb};
use fieldcase_tests::{ITERATIONS, PASSWORD};

struct Child_ {
    child: Child,
    url: String,
}

fn spawn(db: &std::path::Path) -> Child_ {
    spawn_limited(db, None)
}

/// The child server, optionally with its files limited to `max_file` bytes (RLIMIT_FSIZE,
/// SIGXFSZ ignored, so a write past it fails as on a full disk; raised again with
/// `prlimit --pid`).
fn spawn_limited(db: &std::path::Path, max_file: Option<u64>) -> Child_ {
    let exe = env!("CARGO_BIN_EXE_fieldcase-test-server");
    let mut command = match max_file {
        None => Command::new(exe),
        Some(bytes) => {
            let mut c = Command::new("sh");
            c.arg("-c")
                .arg(format!(
                    "trap '' XFSZ; exec prlimit --fsize={bytes}:unlimited -- \"$0\" \"$@\""
                ))
                .arg(exe);
            c
        }
    };
    let mut child = command
        .arg(db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let port = loop {
        let line = lines
            .next()
            .expect("the child server printed its port")
            .unwrap();
        if let Some((_, p)) = line.split_once("port ") {
            break p.trim().to_string();
        }
    };
    Child_ {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

/// A small deterministic generator (xorshift), so a failing round can be replayed with
/// `FIELDCASE_FAULT_SEED`.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const ROUNDS: usize = 20;

/// Six phones (four workers, one of them with a second device, and their supervisor) sync
/// at once, each with new cases and new visits on existing ones; the server is SIGKILLed
/// at a random moment, then restarted on the same file. Twenty rounds. Each round: every change a phone holds as acknowledged is
/// in the server's file, stored documents load, every phone's next sync completes, and in
/// the end every visit is there exactly once.
#[test]
fn sigkill_at_random_moments_of_concurrent_syncs_loses_and_duplicates_nothing() {
    let seed = std::env::var("FIELDCASE_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x0005_eedf_1e1d_ca5e_u64);
    eprintln!("FIELDCASE_FAULT_SEED={seed}");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("server.sqlite");
    {
        let db = SqliteDb::open(&db_path).unwrap();
        db.add_team("north").unwrap();
        for (u, role) in [
            ("anna", Role::Worker),
            ("bao", Role::Worker),
            ("chi", Role::Worker),
            ("dung", Role::Worker),
            ("malee", Role::Supervisor),
        ] {
            db.add_user(u, u, role, Some("north"), PASSWORD, ITERATIONS)
                .unwrap();
        }
    }
    let mut server = spawn(&db_path);
    let devices = [
        ("anna", "phone"),
        ("anna", "tablet"),
        ("bao", "phone"),
        ("chi", "phone"),
        ("dung", "phone"),
        ("malee", "phone"),
    ];
    let phones: Vec<(String, Arc<CaseStore>, String)> = devices
        .iter()
        .enumerate()
        .map(|(i, (u, device))| {
            let p = CaseStore::open(
                dir.path().join(format!("{u}-{device}.sqlite")),
                &[i as u8 + 1; 32],
            )
            .unwrap();
            let token = p.login(&server.url, u, PASSWORD, device).unwrap().token;
            (u.to_string(), Arc::new(p), token)
        })
        .collect();
    // Every visit ever recorded, by case: its note is unique.
    let mut expected: std::collections::HashMap<CaseId, Vec<String>> = Default::default();
    let mut kills_mid_sync = 0;
    let mut kills_after_first_store = 0;

    for round in 0..ROUNDS {
        // Offline work on every phone.
        for (p, (user, phone, _)) in phones.iter().enumerate() {
            if user != "malee" {
                for i in 0..6 {
                    let mut n = NewCase {
                        team: "north".into(),
                        ..Default::default()
                    };
                    n.client.name = Some(format!("Олександр Коваленко {round}-{p}-{i}"));
                    n.client.notes = Some("Потребує житла та роботи. ".repeat(10));
                    let id = phone.create_case(n).unwrap();
                    expected.insert(id, Vec::new());
                }
            }
            let mine = phone.case_ids();
            for k in 0..if mine.is_empty() { 0 } else { 8 } {
                let id = mine[rng.below(mine.len() as u64) as usize];
                let note = format!("{round}/{p}/{k} Đã thăm gia đình.");
                phone
                    .update(&id, |c, me, now| {
                        c.add_visit(
                            me,
                            now,
                            VisitInput {
                                date: Some("2026-11-22".into()),
                                kind: Some("home".into()),
                                note: Some(note.clone()),
                                ..Default::default()
                            },
                        )
                    })
                    .unwrap();
                expected.get_mut(&id).unwrap().push(note);
            }
        }
        // All sync at once; the server dies at a random moment.
        let before = server_changes(&db_path);
        let syncs: Vec<_> = phones
            .iter()
            .map(|(_, phone, token)| {
                let (phone, token, url) = (phone.clone(), token.clone(), server.url.clone());
                std::thread::spawn(move || phone.sync(&url, &token).map(|_| ()))
            })
            .collect();
        // Where the kill lands: every third round as soon as the server has stored a
        // first change of this round (so mid-sync by construction), every third round at
        // once (before or while the phones connect), the others at a random moment.
        match round % 3 {
            0 => {
                let deadline = Instant::now() + Duration::from_secs(30);
                while server_changes(&db_path) <= before {
                    assert!(
                        Instant::now() < deadline,
                        "round {round}: the server stored nothing"
                    );
                    std::thread::sleep(Duration::from_millis(1));
                }
                kills_after_first_store += 1;
            }
            1 => {}
            _ => std::thread::sleep(Duration::from_millis(rng.below(250))),
        }
        server.child.kill().unwrap(); // SIGKILL
        server.child.wait().unwrap();
        let failed = syncs
            .into_iter()
            .map(|s| s.join().unwrap())
            .filter(Result::is_err)
            .count();
        let stored_now = server_changes(&db_path);
        if failed > 0 && stored_now > before {
            kills_mid_sync += 1;
        }

        // What each phone holds as acknowledged is in the file, and every document loads.
        let db = SqliteDb::open(&db_path).unwrap();
        for (user, phone, _) in &phones {
            for id in phone.case_ids() {
                let Some(bytes) = phone
                    .load_sync_state(&id, &format!("server:{}", server.url))
                    .unwrap()
                else {
                    continue;
                };
                let state = SyncState::decode(&bytes).unwrap();
                if state.shared_heads.is_empty() {
                    continue;
                }
                let stored = db.case_document(&id).unwrap().unwrap_or_else(|| {
                    panic!("round {round}: {user}'s acknowledged case is stored")
                });
                let doc = CaseDoc::load(&stored).expect("stored documents load");
                for h in &state.shared_heads {
                    assert!(
                        doc.automerge().get_change_by_hash(h).is_some(),
                        "round {round}: a change {user} saw acknowledged is lost"
                    );
                }
            }
        }
        drop(db);

        // Restart; every phone's next sync completes.
        let old_peer = format!("server:{}", server.url);
        server = spawn(&db_path);
        for (user, phone, token) in &phones {
            let report = phone.sync(&server.url, token).unwrap();
            assert!(
                report.errors.is_empty(),
                "round {round}, {user}: {report:?}"
            );
        }
        let _ = old_peer;
    }
    // A last pass so every phone has what the others sent after it synced.
    for (_, phone, token) in &phones {
        assert!(phone.sync(&server.url, token).unwrap().errors.is_empty());
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    // Every visit exactly once, on the server and on every phone holding the case.
    let db = SqliteDb::open(&db_path).unwrap();
    assert_eq!(db.cases().unwrap().len(), expected.len());
    for (id, notes) in &expected {
        let doc = CaseDoc::load(&db.case_document(id).unwrap().unwrap()).unwrap();
        let mut want = notes.clone();
        want.sort();
        let mut got: Vec<String> = doc
            .read()
            .unwrap()
            .visits
            .into_iter()
            .map(|v| v.note)
            .collect();
        got.sort();
        assert_eq!(got, want, "{id}");
        for (_, phone, _) in &phones {
            if let Ok(heads) = phone.heads(id) {
                let mut mine = heads;
                mine.sort();
                let mut theirs = doc.heads();
                theirs.sort();
                assert_eq!(mine, theirs, "{id}");
            }
        }
    }
    eprintln!(
        "{ROUNDS} rounds, {kills_after_first_store} killed right after a first store, \
         {kills_mid_sync} with syncs cut after something was stored"
    );
    assert_eq!(kills_after_first_store, ROUNDS.div_ceil(3));
}

/// When the server last stored anything (the latest `updated_at` of its cases).
fn server_changes(db: &std::path::Path) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("SELECT coalesce(max(updated_at), 0) FROM cases", [], |r| {
        r.get(0)
    })
    .unwrap()
}

/// The server's disk fills up mid-sync (its files may not grow): it refuses the writes
/// with a clear error, stays up, keeps what it acknowledged, and takes everything once
/// there is room again.
#[test]
fn a_full_disk_refuses_writes_clearly_and_recovers_when_space_returns() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("server.sqlite");
    {
        let db = SqliteDb::open(&db_path).unwrap();
        db.add_team("north").unwrap();
        db.add_user(
            "anna",
            "anna",
            Role::Worker,
            Some("north"),
            PASSWORD,
            ITERATIONS,
        )
        .unwrap();
    }
    let size = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len());
    let limit = size(&db_path) + 160 * 1024;
    let mut server = spawn_limited(&db_path, Some(limit));
    let phone = CaseStore::open(dir.path().join("phone.sqlite"), &[3; 32]).unwrap();
    let token = phone
        .login(&server.url, "anna", PASSWORD, "phone")
        .unwrap()
        .token;
    for i in 0..60 {
        let mut n = NewCase {
            team: "north".into(),
            ..Default::default()
        };
        n.client.name = Some(format!("Fatemeh {i}"));
        // Notes that do not compress away: every case needs its own room.
        n.client.notes = Some(
            (0..3_000)
                .map(|k| char::from_u32(0x0600 + ((i * 7919 + k * 104_729) % 200) as u32).unwrap())
                .collect(),
        );
        phone.create_case(n).unwrap();
    }
    let report = phone.sync(&server.url, &token);
    let errors = match &report {
        Ok(r) => r.errors.clone(),
        Err(e) => panic!("the sync itself should finish, case by case: {e}"),
    };
    assert!(!errors.is_empty(), "the disk filled up: {report:?}");
    for e in &errors {
        assert!(
            e.reason.contains("could not store"),
            "a clear reason: {}",
            e.reason
        );
    }
    // What was acknowledged is stored; what was refused is not half there.
    let db = SqliteDb::open(&db_path).unwrap();
    let stored = db.cases().unwrap();
    assert!(stored.len() < 60, "{} cases stored", stored.len());
    let refused: Vec<String> = errors.iter().map(|e| e.case_id.clone()).collect();
    for id in phone.case_ids() {
        let on_server = db.case_document(&id).unwrap();
        if refused.contains(&id.to_string()) {
            assert!(on_server.is_none(), "a refused new case is not stored");
        } else {
            let doc = CaseDoc::load(&on_server.expect("an acknowledged case is stored")).unwrap();
            assert_eq!(doc.heads(), phone.heads(&id).unwrap());
        }
    }
    drop(db);
    // The server is up and answers.
    let mut conn = std::net::TcpStream::connect(server.url.trim_start_matches("http://")).unwrap();
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server stays up"
    );
    let again = phone.sync(&server.url, &token).unwrap();
    assert!(!again.errors.is_empty(), "still full: {again:?}");

    // Room again: the next sync stores everything, and nothing is doubled.
    let status = Command::new("prlimit")
        .args([
            "--pid",
            &server.child.id().to_string(),
            "--fsize=unlimited:unlimited",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let report = phone.sync(&server.url, &token).unwrap();
    assert!(report.errors.is_empty(), "{report:?}");
    let db = SqliteDb::open(&db_path).unwrap();
    let cases = db.cases().unwrap();
    assert_eq!(cases.len(), 60);
    for (access, heads) in cases {
        let doc = CaseDoc::load(&db.case_document(&access.id).unwrap().unwrap()).unwrap();
        assert_eq!(doc.heads(), heads);
        let mut mine = phone.heads(&access.id).unwrap();
        mine.sort();
        let mut theirs = heads.clone();
        theirs.sort();
        assert_eq!(mine, theirs);
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}
