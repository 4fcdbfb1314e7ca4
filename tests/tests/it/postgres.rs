//! The PostgreSQL storage: two storages on one database (compare-and-swap and the external
//! version across them), and two real server processes on one database with phones syncing
//! to either. The storage contract, the same on SQLite and PostgreSQL, is
//! `storage_contract`.
//!
//! Each test starts a throwaway PostgreSQL cluster ([`PgCluster`]); without the PostgreSQL
//! binaries they fail, saying so.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use automerge::Automerge;
use fieldcase_core::case::VisitInput;
use fieldcase_core::{CaseDoc, CaseId, CaseStore, NewCase};
use fieldcase_server::db::{CaseWrite, Stored};
use fieldcase_server::{Db, PostgresDb};
use fieldcase_tests::pg::{server_binary, PgCluster};
use fieldcase_tests::{ITERATIONS, PASSWORD};
use serde_json::json;

use crate::storage_contract::{access, grow, keys};

#[test]
fn two_storages_on_one_database_see_each_others_writes_and_keep_compare_and_swap() {
    let pg = PgCluster::start();
    let url = pg.database("shared");
    let a = Arc::new(PostgresDb::connect(&url).unwrap());
    let b = Arc::new(PostgresDb::connect(&url).unwrap());
    let version = |db: &PostgresDb| loop {
        if let Some(v) = db.external_version().unwrap() {
            return v;
        }
    };

    // The external version moves when the other one writes, not for one's own writes.
    let id = CaseId::random();
    let mut doc = Automerge::new();
    let (_, h1) = grow(&mut doc, "a");
    let (va, vb) = (version(&a), version(&b));
    let at_h1 = doc.save();
    a.put_case(&access(id, &["u-1"]), &at_h1, &h1, 1).unwrap();
    assert_eq!(version(&a), va, "a's own write");
    let vb1 = version(&b);
    assert_ne!(vb1, vb, "b sees a's write");
    let (c2, h2) = grow(&mut doc, "b");
    let got = b
        .store_case(
            &access(id, &["u-1"]),
            CaseWrite::Changes(&c2),
            &h2,
            Some(&h1),
            2,
        )
        .unwrap();
    assert!(matches!(got, Stored::Written { .. }), "{got:?}");
    assert_eq!(version(&b), vb1, "b's own write");
    assert_ne!(version(&a), va, "a sees b's write");
    assert_eq!(keys(&a.case_document(&id).unwrap().unwrap()), ["a", "b"]);

    // A writer on the other storage that grew from the old heads is stale.
    let mut behind = Automerge::load(&at_h1).unwrap();
    let (c3, h3) = grow(&mut behind, "x");
    assert_eq!(
        a.store_case(
            &access(id, &["u-1"]),
            CaseWrite::Changes(&c3),
            &h3,
            Some(&h1),
            3
        )
        .unwrap(),
        Stored::Stale
    );

    // New cases created on both at once: exactly one of each pair is written.
    let ids: Vec<CaseId> = (0..20).map(|_| CaseId::random()).collect();
    let racers: Vec<_> = [a.clone(), b.clone()]
        .into_iter()
        .enumerate()
        .map(|(n, db)| {
            let ids = ids.clone();
            std::thread::spawn(move || {
                ids.iter()
                    .map(|id| {
                        let mut d = Automerge::new();
                        let (_, h) = grow(&mut d, &format!("by{n}"));
                        db.store_case(
                            &access(*id, &["u-1"]),
                            CaseWrite::Snapshot(&d.save()),
                            &h,
                            Some(&[]),
                            4,
                        )
                        .unwrap()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let outcomes: Vec<Vec<Stored>> = racers.into_iter().map(|r| r.join().unwrap()).collect();
    for (i, id) in ids.iter().enumerate() {
        let written = outcomes.iter().filter(|o| o[i] != Stored::Stale).count();
        assert_eq!(
            written, 1,
            "case {i}: {:?} {:?}",
            outcomes[0][i], outcomes[1][i]
        );
        assert_eq!(keys(&a.case_document(id).unwrap().unwrap()).len(), 1);
    }

    // Writers on both storages append to one case, each retrying when stale: every write
    // is there.
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let db = if w % 2 == 0 { a.clone() } else { b.clone() };
            std::thread::spawn(move || {
                for r in 0..10 {
                    loop {
                        let bytes = db.case_document(&id).unwrap().unwrap();
                        let mut d = Automerge::load(&bytes).unwrap();
                        let heads = d.get_heads();
                        let (changes, new_heads) = grow(&mut d, &format!("w{w}r{r}"));
                        let got = db
                            .store_case(
                                &access(id, &["u-1"]),
                                CaseWrite::Changes(&changes),
                                &new_heads,
                                Some(&heads),
                                5,
                            )
                            .unwrap();
                        if got != Stored::Stale {
                            break;
                        }
                    }
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let bytes = b.case_document(&id).unwrap().unwrap();
    let all = keys(&bytes);
    assert_eq!(all.len(), 2 + 4 * 10, "{all:?}");
    // The stored heads are the document's: no write slipped past another's compare.
    assert_eq!(
        b.case_heads(&id).unwrap().unwrap(),
        Automerge::load(&bytes).unwrap().get_heads()
    );
}

/// A `fieldcase-server` process, killed when dropped.
struct Instance {
    url: String,
    child: Child,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn cli(bin: &std::path::Path, db: &str, args: &[&str]) -> String {
    let out = Command::new(bin)
        .args(["--db", db])
        .args(args)
        .env("FIELDCASE_PASSWORD", PASSWORD)
        .env("FIELDCASE_PASSWORD_ITERATIONS", ITERATIONS.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const METRICS_TOKEN: &str = "postgres tests' metrics token";

/// A counter an instance exports at `/metrics` (0 when absent).
fn metric(instance: &Instance, name: &str) -> u64 {
    let (_, text) =
        fieldcase_tests::release::get(&format!("{}/metrics", instance.url), Some(METRICS_TOKEN));
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

fn serve(bin: &std::path::Path, db: &str) -> Instance {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let child = Command::new(bin)
        .args(["serve", "--listen", &listen])
        .env("FIELDCASE_DB", db)
        .env("FIELDCASE_PASSWORD_ITERATIONS", ITERATIONS.to_string())
        .env("FIELDCASE_METRICS_TOKEN", METRICS_TOKEN)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut instance = Instance {
        url: format!("http://{listen}"),
        child,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if std::net::TcpStream::connect(&listen).is_ok() {
            return instance;
        }
        if let Some(status) = instance.child.try_wait().unwrap() {
            panic!("the server stopped: {status}");
        }
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn phone(url: &str, user: &str) -> (CaseStore, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = CaseStore::open(dir.path().join("phone.sqlite"), &[user.len() as u8; 32]).unwrap();
    let token = store
        .login(url, user, PASSWORD, &format!("{user}'s phone"))
        .unwrap()
        .token;
    (store, token, dir)
}

fn case_on(url: &str, token: &str, id: &CaseId) -> serde_json::Value {
    let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
    let text = agent
        .get(format!("{url}/v1/cases/{id}"))
        .header("authorization", format!("Bearer {token}"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A sync connection to `url` that has asked for case `id` and stays open (the server
/// keeps the case in memory while a connection syncs it).
fn watch(url: &str, token: &str, id: &CaseId) -> fieldcase_tests::raw::Socket {
    use fieldcase_core::sync::protocol::Frame;
    use tungstenite::client::IntoClientRequest;
    use tungstenite::Message;
    let mut req = format!("{}/v1/sync", url.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    req.headers_mut().insert(
        fieldcase_core::sync::protocol::SCHEMA_HEADER,
        fieldcase_core::schema::SCHEMA_REVISION.into(),
    );
    let (mut s, _) = tungstenite::connect(req).unwrap();
    let join = Frame::Join {
        sender_id: "watcher".into(),
        metadata: Default::default(),
        versions: None,
    };
    s.send(Message::Binary(join.encode().into())).unwrap();
    assert!(matches!(
        fieldcase_tests::raw::next(&mut s),
        Some(Frame::Peer { .. })
    ));
    let empty = Automerge::new();
    let data =
        automerge::sync::SyncDoc::generate_sync_message(&empty, &mut automerge::sync::State::new())
            .unwrap()
            .encode();
    let request = Frame::Request {
        sender_id: "watcher".into(),
        target_id: String::new(),
        document_id: id.to_string().into(),
        data,
    };
    s.send(Message::Binary(request.encode().into())).unwrap();
    assert!(matches!(
        fieldcase_tests::raw::next(&mut s),
        Some(Frame::Sync { .. })
    ));
    s
}

fn visit(note: &str) -> VisitInput {
    VisitInput {
        date: Some("2026-11-21".into()),
        kind: Some("home".into()),
        note: Some(note.into()),
        ..Default::default()
    }
}

#[test]
fn two_server_instances_on_one_database_merge_what_phones_send_to_either() {
    let pg = PgCluster::start();
    let db = pg.database("fieldcase");
    let bin = server_binary();
    // The administration commands work on PostgreSQL as on SQLite.
    cli(&bin, &db, &["team", "add", "north"]);
    for user in ["anna", "bao"] {
        cli(
            &bin,
            &db,
            &["user", "add", user, "--role", "worker", "--team", "north"],
        );
    }
    assert!(cli(&bin, &db, &["user", "list"]).contains("bao"));
    let one = serve(&bin, &db);
    let two = serve(&bin, &db);

    // Anna records a case and syncs it to instance 1.
    let (anna, anna_token, _a) = phone(&one.url, "anna");
    let mut new = NewCase {
        team: "north".into(),
        ..Default::default()
    };
    new.client.name = Some("Nguyễn Thị Lan".into());
    let id = anna.create_case(new).unwrap();
    let r = anna.sync(&one.url, &anna_token).unwrap();
    assert_eq!((r.sent, r.errors.len()), (1, 0), "{r:?}");
    // An administrator assigns Bảo as well, from the command line (a third writer).
    cli(
        &bin,
        &db,
        &["case", "assign", &id.to_string(), "anna", "bao"],
    );
    assert!(cli(&bin, &db, &["case", "list"]).contains("anna,bao"));

    // Bảo's phone syncs with instance 2 and gets the case.
    let (bao, bao_token, _b) = phone(&two.url, "bao");
    let r = bao.sync(&two.url, &bao_token).unwrap();
    assert_eq!((r.new_cases, r.errors.len()), (1, 0), "{r:?}");

    // A connection that keeps the case in instance 1's memory meanwhile: the instance
    // must notice the other instance's writes (external_version), not just load anew.
    let _watching = watch(&one.url, &anna_token, &id);

    // Anna edits and syncs to instance 1; Bảo, offline, edits the same case, then syncs
    // to instance 2.
    anna.update(&id, |c, me, now| {
        c.set_field(me, now, "client/address", &json!("Huế"))?;
        c.add_visit(me, now, visit("Bà ngoại chăm sóc hai cháu."))
    })
    .unwrap();
    bao.update(&id, |c, me, now| {
        c.set_field(me, now, "priority", &json!("high"))?;
        c.add_visit(me, now, visit("Gọi cho giáo viên chủ nhiệm."))
    })
    .unwrap();
    let ra = anna.sync(&one.url, &anna_token).unwrap();
    let rb = bao.sync(&two.url, &bao_token).unwrap();
    assert!(
        ra.errors.is_empty() && rb.errors.is_empty(),
        "{ra:?} {rb:?}"
    );
    assert_eq!(
        rb.received, 1,
        "instance 2 has Anna's edit from instance 1: {rb:?}"
    );

    // Both sync again, each with its own instance.
    let ra = anna.sync(&one.url, &anna_token).unwrap();
    let rb = bao.sync(&two.url, &bao_token).unwrap();
    assert!(
        ra.errors.is_empty() && rb.errors.is_empty(),
        "{ra:?} {rb:?}"
    );
    assert_eq!(
        ra.received, 1,
        "instance 1 has Bảo's edit from instance 2: {ra:?}"
    );

    let a = anna.get_case(&id).unwrap();
    let b = bao.get_case(&id).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.client.address.as_deref(), Some("Huế"));
    assert_eq!(a.priority.as_deref(), Some("high"));
    assert_eq!(a.visits.len(), 2);
    assert_eq!(a.assigned.len(), 2);
    let stored = PostgresDb::connect(&db).unwrap();
    let on_db = CaseDoc::load(&stored.case_document(&id).unwrap().unwrap())
        .unwrap()
        .read()
        .unwrap();
    assert_eq!(a, on_db);
    // Each instance serves the same document as the phones hold.
    let json_a: serde_json::Value = serde_json::from_str(&anna.case_json(&id).unwrap()).unwrap();
    assert_eq!(case_on(&one.url, &anna_token, &id), json_a);
    assert_eq!(case_on(&two.url, &bao_token, &id), json_a);
    // Nothing left to exchange on either side.
    let ra = anna.sync(&one.url, &anna_token).unwrap();
    let rb = bao.sync(&two.url, &bao_token).unwrap();
    assert_eq!(
        (ra.sent, ra.received, rb.sent, rb.received),
        (0, 0, 0, 0),
        "{ra:?} {rb:?}"
    );
}

/// Issue 19 on several instances: a case stored through one instance joins the duplicate
/// check of another whose index was built before it, so the same woman entered through
/// each is paired (the second instance reads again what the first wrote).
#[test]
fn a_case_written_through_another_instance_joins_its_duplicate_check() {
    let pg = PgCluster::start();
    let db = pg.database("fieldcase");
    let bin = server_binary();
    cli(&bin, &db, &["team", "add", "north"]);
    for user in ["anna", "bao"] {
        cli(
            &bin,
            &db,
            &["user", "add", user, "--role", "worker", "--team", "north"],
        );
    }
    let one = serve(&bin, &db);
    let two = serve(&bin, &db);
    let new = |name: &str, born: &str| {
        let mut n = NewCase {
            team: "north".into(),
            ..Default::default()
        };
        n.client.name = Some(name.into());
        n.client.date_of_birth = Some(born.into());
        n.client.gender = Some("female".into());
        n
    };

    // Bảo's first case through instance two; asking for its matches waits for two's index.
    let (bao, bao_token, _b) = phone(&two.url, "bao");
    let first = bao.create_case(new("Trần Thị Hồng", "1975-06-01")).unwrap();
    assert!(bao.sync(&two.url, &bao_token).unwrap().errors.is_empty());
    let found = bao.agency_matches(&two.url, &bao_token, &first).unwrap();
    assert!(found.matches.is_empty() && found.elsewhere.is_empty());

    // Anna's case through instance one, after two's index was built.
    let (anna, anna_token, _a) = phone(&one.url, "anna");
    anna.create_case(new("Фёдорова Анна", "1988-03-01"))
        .unwrap();
    assert!(anna.sync(&one.url, &anna_token).unwrap().errors.is_empty());

    // Bảo enters the same woman through instance two: the pair is found there (he is not
    // assigned Anna's case: only its team is said).
    let again = bao.create_case(new("Fedorova Anna", "1988-03-01")).unwrap();
    assert!(bao.sync(&two.url, &bao_token).unwrap().errors.is_empty());
    let found = bao.agency_matches(&two.url, &bao_token, &again).unwrap();
    assert_eq!(
        found
            .elsewhere
            .iter()
            .map(|e| e.team.as_str())
            .collect::<Vec<_>>(),
        ["north"],
        "{found:?}"
    );
    // Two read Anna's case when it looked at what one wrote: once.
    let read_again = || metric(&two, "fieldcase_match_index_read_again_total");
    assert_eq!(read_again(), 1);

    // Anna's next case through one: two's next look reads it alone, not again what it took
    // in before (Anna's first case, its own two) though all were written within its
    // look-back minute.
    anna.create_case(new("Nguyễn Thị Lan", "1990-05-01"))
        .unwrap();
    assert!(anna.sync(&one.url, &anna_token).unwrap().errors.is_empty());
    bao.create_case(new("Nguyen Thi Lan", "1990-05-01"))
        .unwrap();
    assert!(bao.sync(&two.url, &bao_token).unwrap().errors.is_empty());
    assert_eq!(read_again(), 2);
}

/// A statement the storage runs again is prepared once on its connection and run by name
/// (`fieldcase_server::db::pg_statements`): kept in the session after it ran, after a
/// transaction that used it rolled back, and used again with other values.
#[test]
fn a_statement_run_again_is_prepared_once_on_its_connection() {
    use fieldcase_server::db::pg_statements::Pg;

    let pg = PgCluster::start();
    let mut c = Pg::connect(&pg.database("statements")).unwrap();
    let kept = |c: &mut Pg, sql: &str| -> i64 {
        c.query_one(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement = $1",
            &[&sql],
        )
        .unwrap()
        .get(0)
    };
    let sum = "SELECT $1::INT + 1";
    for i in 0..5 {
        let v: i32 = c.query_one(sum, &[&i]).unwrap().get(0);
        assert_eq!(v, i + 1);
    }
    assert_eq!(kept(&mut c, sum), 1, "prepared once and kept");

    let named = "SELECT $1::TEXT || '!'";
    {
        let mut tx = c.transaction().unwrap();
        let v: String = tx.query_one(named, &[&"a"]).unwrap().get(0);
        assert_eq!(v, "a!");
        // Dropped: rolled back.
    }
    let v: String = c.query_one(named, &[&"b"]).unwrap().get(0);
    assert_eq!(
        v, "b!",
        "the statement prepared in a rolled-back transaction runs"
    );
    assert_eq!(kept(&mut c, named), 1);
    // A failed statement in a transaction: the transaction is rolled back, the
    // connection's statements stay.
    {
        let mut tx = c.transaction().unwrap();
        assert!(tx.query_one("SELECT 1 / $1::INT", &[&0i32]).is_err());
    }
    let v: i32 = c.query_one(sum, &[&41i32]).unwrap().get(0);
    assert_eq!(v, 42);
    assert_eq!(kept(&mut c, sum), 1);
    // Statements the database no longer has (`DISCARD ALL`, as a pooler between may do):
    // the next call fails, and the one after prepares it again.
    c.batch_execute("DISCARD ALL").unwrap();
    assert!(c.query_one(sum, &[&1i32]).is_err());
    let v: i32 = c.query_one(sum, &[&1i32]).unwrap().get(0);
    assert_eq!(v, 2);
    // (The count's own statement was discarded too: its first call fails the same way.)
    let count = "SELECT count(*) FROM pg_prepared_statements WHERE statement = $1";
    assert!(c.query_one(count, &[&sum]).is_err());
    assert_eq!(kept(&mut c, sum), 1);
}
