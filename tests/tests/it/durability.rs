//! Durability: the server process is killed with SIGKILL in the middle of a large sync and
//! restarted on the same SQLite file; every change the phone saw acknowledged is there,
//! and the phone's next sync completes with nothing lost.
//!
//! The server runs in a child process: this test binary re-executed with
//! `FIELDCASE_TEST_SERVER_DB` set, serving on a free loopback port it prints.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use automerge::sync::State as SyncState;
use automerge::ReadDoc;
use fieldcase_core::{CaseDoc, CaseStore, NewCase, Role};
use fieldcase_server::{app, AppState, Config, Db, SqliteDb};
use fieldcase_tests::{ITERATIONS, PASSWORD};

const ENV: &str = "FIELDCASE_TEST_SERVER_DB";

/// In the child: serve the given database until killed (at most 60 s).
#[test]
fn server_child() {
    let Ok(path) = std::env::var(ENV) else { return };
    let db = Arc::new(SqliteDb::open(&path).unwrap());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("port {}", listener.local_addr().unwrap().port());
        let state = AppState::new(
            db as Arc<dyn Db>,
            Config {
                password_iterations: ITERATIONS,
                ..Config::default()
            },
        );
        let serve = axum::serve(listener, app(state));
        let _ = tokio::time::timeout(Duration::from_secs(60), serve).await;
    });
}

struct Child_ {
    child: Child,
    url: String,
}

fn spawn(db: &std::path::Path) -> Child_ {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "durability::server_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ENV, db)
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

#[test]
fn sigkill_during_a_large_sync_loses_nothing_acknowledged() {
    if std::env::var(ENV).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("server.sqlite");
    {
        let db = SqliteDb::open(&db_path).unwrap();
        db.add_team("north").unwrap();
        db.add_user(
            "anna",
            "Anna",
            Role::Worker,
            Some("north"),
            PASSWORD,
            ITERATIONS,
        )
        .unwrap();
    }
    let phone = CaseStore::open(dir.path().join("phone.sqlite"), &[1u8; 32]).unwrap();
    let mut server = spawn(&db_path);
    let token = phone
        .login(&server.url, "anna", PASSWORD, "phone")
        .unwrap()
        .token;
    let peer_of = |url: &str| format!("server:{url}");

    // Kill when this many of the round's 120 new cases are stored: genuinely mid-sync.
    for (round, kill_at) in [1usize, 40, 90].into_iter().enumerate() {
        let before = SqliteDb::open(&db_path).unwrap().cases().unwrap().len();
        // A large offline session: many new cases with notes.
        for i in 0..120 {
            let mut n = NewCase {
                team: "north".into(),
                ..Default::default()
            };
            n.client.name = Some(format!("Олександр Коваленко {round}-{i}"));
            n.client.notes = Some("Потребує житла та роботи. ".repeat(20));
            phone.create_case(n).unwrap();
        }
        let url = server.url.clone();
        let t = token.clone();
        let sync = std::thread::spawn({
            let phone_path = dir.path().join("phone.sqlite");
            move || {
                let p = CaseStore::open(phone_path, &[1u8; 32]).unwrap();
                p.sync(&url, &t).map(|_| ())
            }
        });
        let watcher = SqliteDb::open(&db_path).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while watcher.cases().unwrap().len() < before + kill_at
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(2));
        }
        drop(watcher);
        server.child.kill().unwrap(); // SIGKILL
        server.child.wait().unwrap();
        let _ = sync.join().unwrap(); // an error is expected when the kill came first

        // Every change the phone holds as acknowledged (its persisted shared heads with the
        // server) is in the server's file.
        let db = SqliteDb::open(&db_path).unwrap();
        let reopened = CaseStore::open(dir.path().join("phone.sqlite"), &[1u8; 32]).unwrap();
        let mut acknowledged = 0;
        for id in reopened.case_ids() {
            let Some(bytes) = reopened
                .load_sync_state(&id, &peer_of(&server.url))
                .unwrap()
            else {
                continue;
            };
            let state = SyncState::decode(&bytes).unwrap();
            if state.shared_heads.is_empty() {
                continue;
            }
            let stored = db
                .case_document(&id)
                .unwrap()
                .expect("an acknowledged case is stored");
            let doc = CaseDoc::load(&stored).expect("stored documents load");
            for h in &state.shared_heads {
                assert!(
                    doc.automerge().get_change_by_hash(h).is_some(),
                    "round {round}: acknowledged change lost"
                );
            }
            acknowledged += 1;
        }
        drop((db, reopened));

        // Restart; the next sync completes and both sides hold the same cases.
        server = spawn(&db_path);
        let phone2 = CaseStore::open(dir.path().join("phone.sqlite"), &[1u8; 32]).unwrap();
        let report = phone2.sync(&server.url, &token).unwrap();
        assert!(report.errors.is_empty(), "round {round}: {report:?}");
        let db = SqliteDb::open(&db_path).unwrap();
        let on_server = db.cases().unwrap();
        assert_eq!(on_server.len(), phone2.case_ids().len(), "round {round}");
        for (access, heads) in on_server {
            let mine = phone2.with_doc(&access.id, |d| Ok(d.heads())).unwrap();
            assert_eq!(
                heads, mine,
                "round {round}: the server holds the phone's latest"
            );
        }
        eprintln!("round {round}: killed with {kill_at}+ of 120 new cases stored; {acknowledged} cases acknowledged");
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}
