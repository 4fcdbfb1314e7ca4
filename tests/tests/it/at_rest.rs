//! Encryption at rest (issue 18): what the server stores of a case is ciphertext, on
//! SQLite (the file, its WAL, a `backup` copy) and on PostgreSQL (a `pg_dump`); no stored
//! blob loads as an Automerge document without the key; a database of an earlier version
//! is sealed when opened; the master key is checked, and rotated without touching the
//! sealed data.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use fieldcase_core::case::VisitInput;
use fieldcase_core::{CaseDoc, CaseId, CaseStore, NewCase, Role};
use fieldcase_server::db::keys::KeySource;
use fieldcase_server::{AppState, Config, Db, PostgresDb, SqliteDb};
use fieldcase_tests::pg::{server_binary, PgCluster};
use fieldcase_tests::{TestServer, ITERATIONS, PASSWORD};

/// A client's name and a visit note in each of the five scripts.
const CLIENTS: [(&str, &str); 5] = [
    ("สมศรี ใจดีมาก", "คุณยายดูแลหลานสองคนที่บ้านหลังเล็ก"),
    (
        "مریم احمدی‌نژاد",
        "مادربزرگ از دو نوه در خانه کوچک مراقبت می‌کند",
    ),
    (
        "Ирина Соколова",
        "Бабушка заботится о двух внуках в маленьком доме",
    ),
    (
        "Оксана Коваленко",
        "Бабуся доглядає двох онуків у маленькій хаті",
    ),
    (
        "Nguyễn Thị Lan Anh",
        "Bà ngoại chăm sóc hai cháu trong căn nhà nhỏ",
    ),
];

/// What must never be found in the clear: every name and note.
fn secrets() -> Vec<&'static str> {
    CLIENTS.iter().flat_map(|(n, v)| [*n, *v]).collect()
}

/// Anna records the five cases on her phone and syncs them, then adds a visit to each and
/// syncs again (the server stores snapshots and appended changes).
fn record_and_sync(url: &str, phone: &CaseStore, token: &str) -> Vec<CaseId> {
    let mut ids = Vec::new();
    for (name, _) in CLIENTS {
        let mut new = NewCase {
            team: "north".into(),
            ..Default::default()
        };
        new.client.name = Some(name.into());
        ids.push(phone.create_case(new).unwrap());
    }
    let r = phone.sync(url, token).unwrap();
    assert_eq!((r.sent, r.errors.len()), (5, 0), "{r:?}");
    for (id, (_, note)) in ids.iter().zip(CLIENTS) {
        phone
            .update(id, |c, me, now| {
                c.add_visit(
                    me,
                    now,
                    VisitInput {
                        date: Some("2026-11-21".into()),
                        kind: Some("home".into()),
                        note: Some(note.into()),
                        ..Default::default()
                    },
                )
            })
            .unwrap();
    }
    let r = phone.sync(url, token).unwrap();
    assert!(r.errors.is_empty(), "{r:?}");
    ids
}

/// The server reads every case back with its key, as the phone wrote it.
fn readable_with_the_key(db: &dyn Db, ids: &[CaseId]) {
    for (id, (name, note)) in ids.iter().zip(CLIENTS) {
        let bytes = db.case_document(id).unwrap().unwrap();
        let case = CaseDoc::load(&bytes).unwrap().read().unwrap();
        assert_eq!(case.client.name.as_deref(), Some(name));
        assert_eq!(case.visits.len(), 1);
        assert_eq!(case.visits[0].note, note);
    }
}

fn contains(bytes: &[u8], s: &str) -> bool {
    bytes.windows(s.len()).any(|w| w == s.as_bytes())
}

/// Fails if any secret is in `bytes` (named `what`); answers how many bytes were scanned.
fn scan(what: &str, bytes: &[u8]) -> usize {
    for s in secrets() {
        assert!(!contains(bytes, s), "{what} holds {s:?} in the clear");
    }
    bytes.len()
}

fn scan_file(path: &Path) -> usize {
    let bytes = std::fs::read(path).unwrap_or_default();
    scan(&path.display().to_string(), &bytes)
}

/// Fails if any blob loads as an Automerge document; answers how many there were.
fn none_loads(what: &str, blobs: &[Vec<u8>]) -> usize {
    for b in blobs {
        assert!(
            automerge::Automerge::load(b).is_err(),
            "a blob of {what} loads as an Automerge document without the key"
        );
    }
    blobs.len()
}

/// The stored blobs of a SQLite database: every snapshot and change.
fn sqlite_blobs(path: &Path) -> Vec<Vec<u8>> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut stmt = conn
        .prepare("SELECT document FROM cases UNION ALL SELECT bytes FROM case_changes")
        .unwrap();
    let rows = stmt.query_map([], |r| r.get(0)).unwrap();
    rows.collect::<Result<_, _>>().unwrap()
}

#[test]
fn sqlite_file_wal_and_backup_hold_no_client_data_in_the_clear() {
    let server = TestServer::start();
    let (phone, token, _p) = server.phone("anna");
    let ids = record_and_sync(&server.url, &phone, &token);
    readable_with_the_key(server.db.as_ref(), &ids);
    // The documents, opened, hold every secret as it is written: the scan would see them
    // if they were stored in the clear.
    let plain: Vec<u8> = ids
        .iter()
        .flat_map(|id| server.db.case_document(id).unwrap().unwrap())
        .collect();
    for s in secrets() {
        assert!(
            contains(&plain, s),
            "{s:?} is not in the documents as written"
        );
    }

    let db_path = server.dir.path().join("server.sqlite");
    let backup = server.dir.path().join("backup.sqlite");
    server.db.backup_to(&backup).unwrap();
    let mut scanned = 0;
    for path in [
        db_path.clone(),
        server.dir.path().join("server.sqlite-wal"),
        backup.clone(),
    ] {
        scanned += scan_file(&path);
    }
    assert!(scanned > 0);
    let blobs = none_loads("the database", &sqlite_blobs(&db_path));
    assert!(
        blobs >= 10,
        "{blobs} blobs: five snapshots and five changes at least"
    );
    none_loads("the backup", &sqlite_blobs(&backup));
}

/// What the server stores of a small case is packed before it is sealed
/// (`fieldcase_core::packing`): each synced case's snapshot, sealed, is less than half of
/// what Automerge's own `save` makes of it (the seal's version, nonce and tag aside: 29
/// bytes), and reads back whole.
#[test]
fn a_small_case_is_stored_packed_and_reads_back_whole() {
    let server = TestServer::start();
    let (phone, token, _p) = server.phone("anna");
    let ids = record_and_sync(&server.url, &phone, &token);
    readable_with_the_key(server.db.as_ref(), &ids);
    let conn = rusqlite::Connection::open_with_flags(
        server.dir.path().join("server.sqlite"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    for id in &ids {
        // The sealed snapshot, and what is kept beside it (the duplicate check's facts and
        // the lists'): one record in its row, packed with the facts' dictionary and sealed.
        let (sealed, kept): (Vec<u8>, Vec<u8>) = conn
            .query_row(
                "SELECT document, facts FROM cases WHERE id = ?1",
                [&id.as_bytes()[..]],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        // The snapshot is the case as first synced (the visit came later, appended).
        let stored = CaseDoc::load(&server.db.case_document(id).unwrap().unwrap()).unwrap();
        let first = stored.automerge().get_changes(&[])[0].hash();
        let created = stored.automerge().fork_at(&[first]).unwrap();
        let saved = created.save().len();
        assert!(
            (sealed.len() - 29) * 2 < saved,
            "a small case is stored in {} bytes sealed: Automerge saves it in {saved}",
            sealed.len()
        );
        let matching = server.db.match_facts_of(id).unwrap().unwrap();
        let listing = server.db.list_facts(&[*id]).unwrap()[0]
            .facts
            .clone()
            .unwrap();
        let json = serde_json::to_vec(&matching).unwrap().len()
            + serde_json::to_vec(&listing).unwrap().len();
        assert!(
            (kept.len() - 29) * 2 < json,
            "the facts are kept in {} bytes sealed: {json} as JSON",
            kept.len()
        );
    }
}

/// A damaged record of what is kept beside a case (bytes that do not open under its data
/// key) is passed over, never an error: the duplicate check and the lists read the case's
/// document instead, the case itself reads whole, and the case's next write keeps its facts
/// again.
#[test]
fn damaged_facts_beside_a_case_are_passed_over_for_its_document() {
    let server = TestServer::start();
    let (phone, token, _p) = server.phone("anna");
    let ids = record_and_sync(&server.url, &phone, &token);
    let id = ids[0];
    let listed = |db: &dyn Db| db.list_facts(&[id]).unwrap()[0].facts.clone();
    assert!(server.db.match_facts_of(&id).unwrap().is_some());
    assert!(listed(server.db.as_ref()).is_some());
    let conn = rusqlite::Connection::open(server.dir.path().join("server.sqlite")).unwrap();
    let sealed: Vec<u8> = conn
        .query_row(
            "SELECT facts FROM cases WHERE id = ?1",
            [&id.as_bytes()[..]],
            |r| r.get(0),
        )
        .unwrap();
    // The same length, every byte flipped: the seal does not open.
    let damaged: Vec<u8> = sealed.iter().map(|b| !b).collect();
    conn.execute(
        "UPDATE cases SET facts = ?2 WHERE id = ?1",
        rusqlite::params![&id.as_bytes()[..], damaged],
    )
    .unwrap();
    assert_eq!(server.db.match_facts_of(&id).unwrap(), None);
    assert_eq!(listed(server.db.as_ref()), None);
    // The other cases' facts still open; the damaged case is left out of them.
    let all = server.db.match_facts().unwrap();
    assert_eq!(all.len(), ids.len() - 1);
    assert!(all.iter().all(|(c, _)| *c != id));
    // The case itself reads whole, and its next write keeps its facts again.
    let bytes = server.db.case_document(&id).unwrap().unwrap();
    let doc = automerge::Automerge::load(&bytes).unwrap();
    let access = fieldcase_server::db::CaseAccess::read(id, &doc).unwrap();
    server
        .db
        .put_case(&access, &doc.save(), &doc.get_heads(), 1)
        .unwrap();
    assert_eq!(server.db.match_facts_of(&id).unwrap(), access.matching);
    assert_eq!(listed(server.db.as_ref()), access.listing);
}

/// A current server on 127.0.0.1 over an opened storage, stopped when dropped.
struct Served {
    url: String,
    runtime: Option<tokio::runtime::Runtime>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Served {
    fn start(db: Arc<dyn Db>) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let config = Config {
            password_iterations: ITERATIONS,
            ..Config::default()
        };
        let state = AppState::new(db, config);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let listener = {
            let _guard = runtime.enter();
            listener.set_nonblocking(true).unwrap();
            tokio::net::TcpListener::from_std(listener).unwrap()
        };
        runtime.spawn(fieldcase_server::serve(listener, state, async {
            let _ = stopped.await;
        }));
        Served {
            url,
            runtime: Some(runtime),
            stop: Some(stop),
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(std::time::Duration::from_secs(2));
        }
    }
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok())
        .collect()
}

/// A `pg_dump` writes `bytea` in hexadecimal (`\x...`): every such value, decoded.
fn dumped_bytea(dump: &str) -> Vec<Vec<u8>> {
    dump.split(|c: char| c.is_whitespace())
        .filter_map(|t| t.strip_prefix("\\\\x"))
        .map(unhex)
        .collect()
}

#[test]
fn a_pg_dump_holds_no_client_data_in_the_clear_and_the_key_rotates() {
    let pg = PgCluster::start();
    let url = pg.database("atrest");
    let dir = tempfile::tempdir().unwrap();
    let key = KeySource::File(dir.path().join("master.key"));
    let db = Arc::new(PostgresDb::connect_with(&url, &key).unwrap());
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
    let served = Served::start(db.clone());
    let (phone, token, _p) = phone(&served.url, "anna");
    let ids = record_and_sync(&served.url, &phone, &token);
    readable_with_the_key(db.as_ref(), &ids);
    drop(served);

    let out = pg.client("pg_dump").arg("atrest").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    scan("the pg_dump", &out.stdout);
    let dump = String::from_utf8(out.stdout).unwrap();
    let values = dumped_bytea(&dump);
    assert!(
        values.len() >= 10,
        "{} bytea values in the dump",
        values.len()
    );
    for v in &values {
        scan("a bytea value of the pg_dump", v);
    }
    none_loads("the pg_dump", &values);

    // Rotation: every data key rewrapped, the sealed documents untouched.
    let blobs = |c: &str| psql(&pg, "atrest", c);
    let keys = |c: &str| psql(&pg, "atrest_keys", c);
    let documents = "SELECT encode(document, 'hex') FROM cases ORDER BY id";
    let data_keys = "SELECT encode(data_key, 'hex') FROM data_keys ORDER BY id";
    let (docs_before, keys_before) = (blobs(documents), keys(data_keys));
    let new_key = dir.path().join("new.key");
    let new = fieldcase_server::db::keys::create_key_file(&new_key).unwrap();
    assert_eq!(db.rotate_master_key(new).unwrap(), 5);
    drop(db);
    assert_eq!(
        blobs(documents),
        docs_before,
        "the documents are not re-encrypted"
    );
    assert_ne!(keys(data_keys), keys_before);
    let e = PostgresDb::connect_with(&url, &key).unwrap_err();
    assert!(detail(e).contains("not the key"));
    let db = PostgresDb::connect_with(&url, &KeySource::File(new_key)).unwrap();
    readable_with_the_key(&db, &ids);
}

/// What `psql` answers to `sql` on database `db`, one row a line.
fn psql(pg: &PgCluster, db: &str, sql: &str) -> String {
    let out = pg
        .client("psql")
        .args(["-At", "-d", db, "-c", sql])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// PostgreSQL keeps the data keys in a keys database of their own (ADR 0007): a `pg_dump`
/// of the data database holds none of them, and a dump taken before an erasure, restored
/// into a fresh database and served with today's keys database, no longer holds the erased
/// case while every other case reads. Served with a keys database that does not hold its
/// keys, the restored dump does not start.
#[test]
fn a_pg_dump_holds_no_data_key_and_one_from_before_an_erasure_no_longer_opens_the_case() {
    let pg = PgCluster::start();
    let url = pg.database("agency");
    let keys_url = pg.url("agency_keys");
    let dir = tempfile::tempdir().unwrap();
    let key = KeySource::File(dir.path().join("master.key"));
    // The keys database by default: the data database's name with `_keys`, created.
    let db = Arc::new(PostgresDb::connect_with(&url, &key).unwrap());
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
    let served = Served::start(db.clone());
    let (phone, token, _p) = phone(&served.url, "anna");
    let ids = record_and_sync(&served.url, &phone, &token);
    drop(served);
    readable_with_the_key(db.as_ref(), &ids);

    let wrapped: Vec<String> = psql(
        &pg,
        "agency_keys",
        "SELECT encode(data_key, 'hex') FROM data_keys",
    )
    .lines()
    .map(str::to_string)
    .collect();
    assert_eq!(
        wrapped.len(),
        ids.len(),
        "every case's key is in the keys database"
    );
    assert_eq!(
        psql(
            &pg,
            "agency",
            "SELECT count(*) FROM cases WHERE data_key IS NOT NULL"
        )
        .trim(),
        "0"
    );
    let out = pg.client("pg_dump").arg("agency").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dump = String::from_utf8(out.stdout).unwrap();
    for w in &wrapped {
        assert!(!dump.contains(w.as_str()), "the dump holds a data key");
    }
    assert!(dumped_bytea(&dump).len() >= 10);
    let dump_file = dir.path().join("agency.sql");
    std::fs::write(&dump_file, &dump).unwrap();

    // The erasure after the dump.
    let erased = ids[1];
    db.erase_case(&erased, "u-admin", "the client asked (request 17)", 100)
        .unwrap();
    assert!(db.case_document(&erased).unwrap().is_none());
    // A case stored after the dump, and erased: the dump never held it.
    let later = CaseId::random();
    let later_access = fieldcase_server::db::CaseAccess {
        id: later,
        team: "north".into(),
        restricted: false,
        assigned: Vec::new(),
        closed: false,
        closed_at: None,
        links: Vec::new(),
        matching: None,
        listing: None,
    };
    let mut doc = automerge::AutoCommit::new();
    automerge::transaction::Transactable::put(&mut doc, automerge::ROOT, "a", 1).unwrap();
    let heads = doc.get_heads();
    db.put_case(&later_access, &doc.save(), &heads, 101)
        .unwrap();
    db.erase_case(&later, "u-admin", "the client asked (request 18)", 102)
        .unwrap();
    drop(db);

    // The dump restored into a fresh database, served with today's keys database.
    let restored = pg.database("restored");
    let out = pg
        .client("psql")
        .args(["-q", "-v", "ON_ERROR_STOP=1", "-d", "restored", "-f"])
        .arg(&dump_file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        psql(&pg, "restored", "SELECT count(*) FROM cases").trim(),
        ids.len().to_string(),
        "the dump holds the erased case's sealed rows"
    );
    let db = PostgresDb::connect_apart(&restored, Some(&keys_url), &key).unwrap();
    assert!(db.case_document(&erased).unwrap().is_none());
    assert!(db.case_access(&erased).unwrap().is_none());
    let t = db.erased_case(&erased).unwrap().unwrap();
    assert_eq!(t.reason, "the client asked (request 17)");
    // The erasure of a case the dump never held is known too: never stored again.
    assert!(db.erased_case(&later).unwrap().is_some());
    assert!(db
        .put_case(&later_access, &doc.save(), &heads, 103)
        .is_err());
    assert!(db.case_document(&later).unwrap().is_none());
    let kept: Vec<CaseId> = ids.iter().copied().filter(|i| *i != erased).collect();
    let names: Vec<_> = ids
        .iter()
        .zip(CLIENTS)
        .filter(|(i, _)| **i != erased)
        .collect();
    for (id, (name, _)) in &names {
        let case = CaseDoc::load(&db.case_document(id).unwrap().unwrap())
            .unwrap()
            .read()
            .unwrap();
        assert_eq!(case.client.name.as_deref(), Some(*name));
    }
    assert_eq!(db.cases().unwrap().len(), kept.len());
    assert_eq!(
        psql(&pg, "restored", "SELECT count(*) FROM cases").trim(),
        kept.len().to_string(),
        "its rows are gone from the restored database"
    );
    drop(db);

    // The same dump with a keys database that never held its keys: refused, nothing changed.
    let again = pg.database("again");
    let out = pg
        .client("psql")
        .args(["-q", "-v", "ON_ERROR_STOP=1", "-d", "again", "-f"])
        .arg(&dump_file)
        .output()
        .unwrap();
    assert!(out.status.success());
    let e = PostgresDb::connect_apart(&again, Some(&pg.database("empty_keys")), &key).unwrap_err();
    assert!(detail(e).contains("holds no keys"));
    assert_eq!(
        psql(&pg, "again", "SELECT count(*) FROM cases").trim(),
        ids.len().to_string()
    );
    // Nor with the data database itself as its keys database.
    let e = PostgresDb::connect_apart(&again, Some(&again), &key).unwrap_err();
    assert!(e.to_string().contains("data database itself"), "{e}");
}

/// A PostgreSQL database of the version before the keys database (its data keys in
/// `cases.data_key`, schema 16) has them moved out at its first start, once: the keys
/// database holds them, the data database none, every case reads, and a second start
/// changes nothing.
#[test]
fn an_earlier_postgres_database_has_its_keys_moved_out_once() {
    let pg = PgCluster::start();
    let url = pg.database("earlier");
    let dir = tempfile::tempdir().unwrap();
    let key = KeySource::File(dir.path().join("master.key"));
    let db = Arc::new(PostgresDb::connect_with(&url, &key).unwrap());
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
    let served = Served::start(db.clone());
    let (phone, token, _p) = phone(&served.url, "anna");
    let ids = record_and_sync(&served.url, &phone, &token);
    drop(served);
    drop(db);
    // As the earlier version left it: the keys in the cases, no mark, schema 16.
    let pairs = psql(
        &pg,
        "earlier_keys",
        "SELECT encode(id, 'hex') || ' ' || encode(data_key, 'hex') FROM data_keys",
    );
    for line in pairs.lines() {
        let (id, k) = line.split_once(' ').unwrap();
        psql(
            &pg,
            "earlier",
            &format!(
                "UPDATE cases SET data_key = decode('{k}', 'hex') WHERE id = decode('{id}', 'hex')"
            ),
        );
    }
    psql(
        &pg,
        "earlier",
        "ALTER TABLE cases DROP COLUMN facts; DROP TABLE case_facts_unfilled; DROP TABLE areas; DROP TABLE case_links_unfilled; DROP TABLE case_links; \
         DELETE FROM keys_moved; DROP TABLE keys_moved; UPDATE fieldcase_schema SET version = 16",
    );
    // And the closure columns as schema 16 found them (NULL): filled at the start too.
    psql(
        &pg,
        "earlier",
        "UPDATE cases SET closed = NULL, closed_at = NULL",
    );
    let moved_to = pg.url("earlier_keyring");
    pg.database("earlier_keyring");
    let db = PostgresDb::connect_apart(&url, Some(&moved_to), &key).unwrap();
    readable_with_the_key(&db, &ids);
    assert_eq!(
        psql(
            &pg,
            "earlier",
            "SELECT count(*) FROM cases WHERE data_key IS NOT NULL"
        )
        .trim(),
        "0"
    );
    assert_eq!(
        psql(
            &pg,
            "earlier",
            "SELECT count(*) FROM cases WHERE closed IS NULL"
        )
        .trim(),
        "0",
        "every case's closure noted"
    );
    assert_eq!(
        db.sealing()
            .documents_opened
            .load(std::sync::atomic::Ordering::Relaxed),
        ids.len() as u64 * 2,
        "each case opened once to note its closure, and once read above"
    );
    assert!(
        db.closed_cases(i64::MAX).unwrap().is_empty(),
        "none is closed"
    );
    let keyring = psql(
        &pg,
        "earlier_keyring",
        "SELECT encode(id, 'hex') || ' ' || encode(data_key, 'hex') FROM data_keys ORDER BY id",
    );
    let mut expected: Vec<&str> = pairs.lines().collect();
    expected.sort();
    assert_eq!(keyring.lines().collect::<Vec<_>>(), expected);
    drop(db);
    let db = PostgresDb::connect_apart(&url, Some(&moved_to), &key).unwrap();
    readable_with_the_key(&db, &ids);
    assert_eq!(
        psql(
            &pg,
            "earlier_keyring",
            "SELECT encode(id, 'hex') || ' ' || encode(data_key, 'hex') FROM data_keys ORDER BY id"
        ),
        keyring
    );
}

fn detail(e: fieldcase_server::AppError) -> String {
    match e {
        fieldcase_server::AppError::Internal(d) => d,
        other => other.to_string(),
    }
}

fn phone(url: &str, user: &str) -> (CaseStore, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = CaseStore::open(dir.path().join("phone.sqlite"), &[7; 32]).unwrap();
    let token = store.login(url, user, PASSWORD, "phone").unwrap().token;
    (store, token, dir)
}

/// The 047b1d0 fixture (its cases stored in the clear) is sealed when opened: every case
/// still reads, no blob loads without the key, and the key it made is owner-only.
#[test]
fn a_database_of_an_earlier_version_is_sealed_when_opened_and_its_key_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.sqlite");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/v047b1d0/server.sqlite"
        ),
        &path,
    )
    .unwrap();
    let before = sqlite_blobs(&path);
    assert!(
        before.iter().any(|b| automerge::Automerge::load(b).is_ok()),
        "the fixture is in the clear"
    );
    let db = SqliteDb::open(&path).unwrap();
    let cases = db.cases().unwrap();
    assert!(!cases.is_empty());
    for (access, _) in &cases {
        let bytes = db.case_document(&access.id).unwrap().unwrap();
        CaseDoc::load(&bytes).unwrap();
    }
    drop(db);
    let after = sqlite_blobs(&path);
    assert_eq!(after.len(), before.len());
    none_loads("the upgraded fixture", &after);
    let key_file = dir.path().join("server.sqlite.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the key file is owner-only");
    }
    // Another key is refused, and so is a missing key file (never made anew).
    let e = SqliteDb::open_with(&path, &KeySource::Hex("ab".repeat(32))).unwrap_err();
    assert!(detail(e).contains("not the key this database is sealed with"));
    let moved = dir.path().join("elsewhere.key");
    std::fs::rename(&key_file, &moved).unwrap();
    let e = detail(SqliteDb::open(&path).unwrap_err());
    assert!(e.contains("does not exist"), "{e}");
    assert!(!key_file.exists());
    let db = SqliteDb::open_with(&path, &KeySource::File(moved)).unwrap();
    assert_eq!(db.cases().unwrap().len(), cases.len());
}

/// `key rotate` rewraps every data key under a new key file and keeps the old one; the
/// sealed documents stay byte for byte; the server goes on serving (reading the new key
/// when its own no longer opens a case); the old key no longer opens the database.
#[test]
fn key_rotate_rewraps_every_data_key_and_leaves_the_documents_while_the_server_serves() {
    let mut server = TestServer::start();
    let (phone, token, _p) = server.phone("anna");
    let mut ids = record_and_sync(&server.url, &phone, &token);
    let path = server.dir.path().join("server.sqlite");
    let key_file = server.dir.path().join("server.sqlite.key");
    let old_key = std::fs::read_to_string(&key_file).unwrap();
    let wrapped = |path: &Path| -> Vec<Vec<u8>> {
        let conn = rusqlite::Connection::open(path).unwrap();
        let mut stmt = conn
            .prepare("SELECT data_key FROM cases ORDER BY id")
            .unwrap();
        let rows = stmt.query_map([], |r| r.get(0)).unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    };
    let (blobs_before, keys_before) = (sqlite_blobs(&path), wrapped(&path));

    let out = Command::new(server_binary())
        .args(["--db", path.to_str().unwrap(), "key", "rotate"])
        .env_remove("FIELDCASE_MASTER_KEY")
        .env_remove("FIELDCASE_MASTER_KEY_FILE")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("5 data keys rewrapped"), "{said}");

    assert_eq!(sqlite_blobs(&path), blobs_before, "not re-encrypted");
    let keys_after = wrapped(&path);
    assert_eq!(keys_after.len(), 5);
    assert!(keys_after.iter().zip(&keys_before).all(|(a, b)| a != b));
    let new_key = std::fs::read_to_string(&key_file).unwrap();
    assert_ne!(new_key, old_key);
    let kept: Vec<_> = std::fs::read_dir(server.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("server.sqlite.key.before-rotate-")
        })
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(std::fs::read_to_string(kept[0].path()).unwrap(), old_key);

    // The server, started with the old key, goes on: a phone's edits to the cases (their
    // data keys now wrapped by the new key) and a new case (whose data key must be
    // wrapped by the new key) are stored, and another phone gets every case.
    for id in &ids {
        phone
            .update(id, |c, me, now| {
                c.set_field(me, now, "priority", &serde_json::json!("high"))
            })
            .unwrap();
    }
    let mut new = NewCase {
        team: "north".into(),
        ..Default::default()
    };
    new.client.name = Some("Тарас Шевченко".into());
    new.priority = Some("high".into());
    let sixth = phone.create_case(new).unwrap();
    let r = phone.sync(&server.url, &token).unwrap();
    assert!(r.errors.is_empty() && r.sent >= 6, "{r:?}");
    let (bao, bao_token, _b) = server.phone("malee");
    let r = bao.sync(&server.url, &bao_token).unwrap();
    assert_eq!((r.new_cases, r.errors.len()), (6, 0), "{r:?}");
    server.stop_gracefully();

    let e = SqliteDb::open_with(&path, &KeySource::Hex(old_key.trim().into())).unwrap_err();
    assert!(detail(e).contains("not the key"));
    let db = SqliteDb::open(&path).unwrap();
    readable_with_the_key(&db, &ids[..5]);
    ids.push(sixth);
    for id in &ids {
        let case = CaseDoc::load(&db.case_document(id).unwrap().unwrap())
            .unwrap()
            .read()
            .unwrap();
        assert_eq!(case.priority.as_deref(), Some("high"), "{id}");
    }
}
