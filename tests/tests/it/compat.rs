//! Compatibility (issue 15): server databases written by commit 047b1d0 (SQLite, and a
//! PostgreSQL dump; `tests/fixtures/v047b1d0`, see the README there) upgrade when today's
//! server opens them, and lose nothing: teams, users and their passwords, devices,
//! sessions, every case with its heads. The phone of that version then syncs its unsynced
//! changes, and new phones get every case as it was. Each test works on a copy.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use fieldcase_core::{CaseDoc, CaseId, CaseStore};
use fieldcase_server::{AppState, Config, Db};
use fieldcase_tests::pg::PgCluster;
use serde_json::{json, Value};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/v047b1d0");

/// The phone store's device key (the fixture README's).
const PHONE_KEY: [u8; 32] = *b"fieldcase-fixture-v047b1d0-key!!";

/// One run of the generator: `""` (the SQLite server) or `"postgres"`.
struct Fixture {
    dir: String,
    /// What the phone holds (`expected.json`).
    phone: Value,
    /// What the server database held (`server-expected.json`).
    server: Value,
}

impl Fixture {
    fn load(sub: &str) -> Self {
        let dir = format!("{FIXTURES}/{sub}");
        let read = |name: &str| -> Value {
            serde_json::from_str(&std::fs::read_to_string(format!("{dir}/{name}")).unwrap())
                .unwrap()
        };
        Fixture {
            phone: read("expected.json"),
            server: read("server-expected.json"),
            dir,
        }
    }

    fn password(&self, username: &str) -> String {
        let accounts = self.phone["accounts"].as_array().unwrap();
        let demo = self.phone["demo_accounts"].as_array().unwrap();
        accounts
            .iter()
            .chain(demo)
            .find(|a| a["username"] == username)
            .unwrap_or_else(|| panic!("no password for {username}"))["password"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

/// A current server on 127.0.0.1 over an already opened database, stopped when dropped.
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
        // The default configuration: the fixture's passwords have the default rounds.
        let state = AppState::new(db, Config::default());
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

fn hex_heads(heads: &[automerge::ChangeHash]) -> Vec<String> {
    let mut h: Vec<String> = heads.iter().map(|h| h.to_string()).collect();
    h.sort();
    h
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The upgraded database holds what the old one held.
fn check_contents(db: &dyn Db, fx: &Fixture) {
    let teams: BTreeSet<String> = db.teams().unwrap().into_iter().map(|t| t.name).collect();
    let old_teams: BTreeSet<String> = fx.server["teams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    assert_eq!(teams, old_teams, "teams");

    let users = db.users().unwrap();
    let now: Vec<Value> = {
        let mut v: Vec<Value> = users
            .iter()
            .map(|u| {
                json!({
                    "username": u.username, "id": u.id, "display_name": u.display_name,
                    "role": u.role.code(), "team": u.team, "disabled": u.disabled,
                })
            })
            .collect();
        v.sort_by_key(|u| u["username"].as_str().unwrap().to_string());
        v
    };
    assert_eq!(json!(now), fx.server["users"], "users");
    let username: BTreeMap<&str, &str> = users
        .iter()
        .map(|u| (u.id.as_str(), u.username.as_str()))
        .collect();

    // Every case, its access facts and heads; every stored document loads, has those
    // heads, and reads with today's model.
    let mut cases: Vec<Value> = db
        .cases()
        .unwrap()
        .into_iter()
        .map(|(access, heads)| {
            let mut assigned: Vec<&str> = access
                .assigned
                .iter()
                .map(|u| username.get(u.as_str()).copied().unwrap_or(u))
                .collect();
            assigned.sort();
            json!({
                "id": access.id.to_string(), "team": access.team, "restricted": access.restricted,
                "assigned": assigned, "heads": hex_heads(&heads),
            })
        })
        .collect();
    cases.sort_by_key(|c| c["id"].as_str().unwrap().to_string());
    let mut old: Vec<Value> = fx.server["cases"].as_array().unwrap().clone();
    old.sort_by_key(|c| c["id"].as_str().unwrap().to_string());
    assert_eq!(
        cases.len(),
        21,
        "twelve demo cases and nine of Anna's phone"
    );
    assert_eq!(cases, old, "cases");
    for c in &old {
        let id: CaseId = c["id"].as_str().unwrap().parse().unwrap();
        let bytes = db.case_document(&id).unwrap().expect("the document");
        let doc = CaseDoc::load(&bytes).unwrap_or_else(|e| panic!("{id} does not load: {e}"));
        assert_eq!(
            json!(hex_heads(&doc.heads())),
            c["heads"],
            "{id}: document heads"
        );
        let file = doc
            .read()
            .unwrap_or_else(|e| panic!("{id} does not read: {e}"));
        assert_eq!(file.id, id.to_string());
    }

    // Devices, by user.
    let mut devices: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for d in fx.server["devices"].as_array().unwrap() {
        devices
            .entry(d["username"].as_str().unwrap().into())
            .or_default()
            .insert(d["id"].as_str().unwrap().into());
    }
    assert_eq!(devices.len(), 6, "anna, bao, malee and three demo users");
    for (user, ids) in &devices {
        let u = users.iter().find(|u| &u.username == user).unwrap();
        let now: BTreeSet<String> = db
            .devices_of(&u.id, now_ms())
            .unwrap()
            .into_iter()
            .map(|d| d.device.id)
            .collect();
        assert_eq!(&now, ids, "{user}'s devices");
    }
}

/// Logs in on a new phone; the store, its token and folder.
fn new_phone(
    url: &str,
    user: &str,
    password: &str,
) -> fieldcase_core::Result<(CaseStore, String, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let store = CaseStore::open(dir.path().join("phone.sqlite"), &[5u8; 32]).unwrap();
    let token = store
        .login(url, user, password, &format!("{user}'s new phone"))?
        .token;
    Ok((store, token, dir))
}

/// Against the upgraded database, served: the old passwords sign in, the old phone syncs
/// its unsynced changes and loses nothing, new phones get the cases as they were.
fn check_serving(db: Arc<dyn Db>, fx: &Fixture) {
    let server = Served::start(db.clone());
    let url = server.url.clone();
    let user_id = |name: &str| -> String {
        db.user_by_username(name)
            .unwrap()
            .unwrap_or_else(|| panic!("{name}"))
            .id
    };

    // Everyone signs in with the password set by 047b1d0; the disabled user does not.
    for account in [
        "bao",
        "malee",
        "sam",
        "ops",
        "supervisor",
        "worker2",
        "admin",
    ] {
        let (phone, _, _dir) = new_phone(&url, account, &fx.password(account))
            .unwrap_or_else(|e| panic!("{account} cannot sign in: {e}"));
        assert_eq!(phone.user().unwrap().user_id, user_id(account));
    }
    assert!(
        new_phone(&url, "anna", "not anna's password").is_err(),
        "a wrong password is refused"
    );
    assert!(
        new_phone(&url, "olga", "olga fixture password 047b1d0").is_err(),
        "a user disabled before the upgrade stays disabled"
    );

    // Anna's phone of 047b1d0 signs in again on its device and syncs.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phone.sqlite");
    std::fs::copy(format!("{}/phone.sqlite", fx.dir), &path).unwrap();
    let phone = CaseStore::open(&path, &PHONE_KEY).unwrap();
    let session = phone
        .login(&url, "anna", &fx.password("anna"), "Anna's phone")
        .unwrap();
    let device = fx.phone["phone"]["device_id"].as_str().unwrap();
    assert_eq!(session.device_id, device, "the same device");
    let report = phone.sync(&url, &session.token).unwrap();
    assert!(report.errors.is_empty(), "{report:?}");
    assert_eq!(report.held_back, 0, "{report:?}");
    assert_eq!(
        report.sent, 3,
        "the visit, the address and the new case: {report:?}"
    );
    assert_eq!(report.new_cases, 0, "{report:?}");
    assert_eq!(report.removed, 0, "{report:?}");
    let anna_devices = db.devices_of(&user_id("anna"), now_ms()).unwrap();
    assert_eq!(anna_devices.len(), 1, "no new device for the old phone");

    let cases = fx.phone["cases"].as_object().unwrap();
    assert_eq!(phone.case_ids().len(), cases.len());
    for (name, c) in cases {
        let id: CaseId = c["id"].as_str().unwrap().parse().unwrap();
        let on_phone = phone.get_case(&id).unwrap();
        assert_eq!(
            json!(hex_heads(&phone.heads(&id).unwrap())),
            c["phone_heads"],
            "{name}: the phone's heads are those of 047b1d0"
        );
        let server_heads = db.case_heads(&id).unwrap().expect("on the server");
        assert_eq!(
            server_heads,
            phone.heads(&id).unwrap(),
            "{name}: server and phone"
        );
        let on_server = CaseDoc::load(&db.case_document(&id).unwrap().unwrap())
            .unwrap()
            .read()
            .unwrap();
        assert_eq!(
            on_server, on_phone,
            "{name}: the server reads the phone's case"
        );
        assert!(phone.conflicts(&id).unwrap().is_empty(), "{name}");
    }
    let unsynced = &fx.phone["phone"]["unsynced"];
    let visits: CaseId = cases["visits"]["id"].as_str().unwrap().parse().unwrap();
    let notes: Vec<String> = CaseDoc::load(&db.case_document(&visits).unwrap().unwrap())
        .unwrap()
        .read()
        .unwrap()
        .visits
        .into_iter()
        .map(|v| v.note)
        .collect();
    let mut want: Vec<&str> = fx.phone["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["note"].as_str().unwrap())
        .collect();
    want.push(unsynced["visit_note"].as_str().unwrap());
    assert_eq!(
        notes, want,
        "the five scripts and the unsynced visit, on the server"
    );

    // The supervisor's new phone gets all of Anna's cases, as Anna's phone has them.
    let (malee, token, _m) = new_phone(&url, "malee", &fx.password("malee")).unwrap();
    let report = malee.sync(&url, &token).unwrap();
    assert!(report.errors.is_empty(), "{report:?}");
    let mut north: Vec<String> = malee.case_ids().iter().map(|i| i.to_string()).collect();
    north.sort();
    let mut anna: Vec<String> = cases
        .values()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    anna.sort();
    assert_eq!(north, anna, "team north's cases");
    for id in malee.case_ids() {
        assert_eq!(malee.get_case(&id).unwrap(), phone.get_case(&id).unwrap());
        assert_eq!(malee.heads(&id).unwrap(), phone.heads(&id).unwrap());
    }

    // A demo worker's new phone gets their demo cases with the heads 047b1d0 stored.
    let (worker1, token, _w) = new_phone(&url, "worker1", &fx.password("worker1")).unwrap();
    let report = worker1.sync(&url, &token).unwrap();
    assert!(report.errors.is_empty(), "{report:?}");
    let theirs: BTreeMap<String, Value> = fx.server["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["assigned"]
                .as_array()
                .unwrap()
                .contains(&json!("worker1"))
        })
        .map(|c| (c["id"].as_str().unwrap().to_string(), c["heads"].clone()))
        .collect();
    assert!(theirs.len() >= 5, "{theirs:?}");
    let got: BTreeMap<String, Value> = worker1
        .case_ids()
        .iter()
        .map(|id| {
            (
                id.to_string(),
                json!(hex_heads(&worker1.heads(id).unwrap())),
            )
        })
        .collect();
    assert_eq!(got, theirs, "worker1's demo cases, unchanged");
    drop(server);
}

fn sqlite_tables(path: &std::path::Path) -> BTreeSet<String> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap();
    stmt.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn sqlite_one(path: &std::path::Path, sql: &str) -> i64 {
    rusqlite::Connection::open(path)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_sqlite_server_database_of_047b1d0_upgrades_and_loses_nothing() {
    let fx = Fixture::load("");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.sqlite");
    std::fs::copy(format!("{FIXTURES}/server.sqlite"), &path).unwrap();
    assert_eq!(
        sqlite_one(&path, "PRAGMA user_version"),
        fx.server["schema_version"].as_i64().unwrap()
    );
    let fresh = dir.path().join("fresh.sqlite");
    drop(fieldcase_server::SqliteDb::open(&fresh).unwrap());

    let db: Arc<dyn Db> = fieldcase_server::db::open(&path).unwrap().into_dyn();
    // Every migration ran: the schema a new database gets, and nothing of the old lost.
    assert_eq!(
        sqlite_one(&path, "PRAGMA user_version"),
        fieldcase_server::SqliteDb::SCHEMA_VERSION
    );
    assert_eq!(
        sqlite_one(&fresh, "PRAGMA user_version"),
        fieldcase_server::SqliteDb::SCHEMA_VERSION
    );
    assert!(
        sqlite_one(&path, "PRAGMA user_version") > fx.server["schema_version"].as_i64().unwrap(),
        "migrated"
    );
    assert_eq!(
        sqlite_tables(&path),
        sqlite_tables(&fresh),
        "the same tables"
    );
    for (table, count) in fx.server["tables"].as_object().unwrap() {
        assert!(
            sqlite_one(&path, &format!("SELECT count(*) FROM {table}")) >= count.as_i64().unwrap(),
            "{table} kept its rows"
        );
    }
    assert_eq!(
        sqlite_one(&path, "SELECT count(*) FROM sessions"),
        fx.server["sessions"].as_array().unwrap().len() as i64
    );
    check_contents(db.as_ref(), &fx);
    check_serving(db, &fx);
}

/// Runs SQL on a database of the cluster with psql; the rows, tab-separated.
fn psql(pg: &PgCluster, db: &str, sql: &str) -> String {
    let out = pg
        .client("psql")
        .args(["-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", sql])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn pg_tables(pg: &PgCluster, db: &str) -> BTreeSet<String> {
    psql(
        pg,
        db,
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
    )
    .lines()
    .map(String::from)
    .collect()
}

#[test]
fn a_postgres_server_database_of_047b1d0_upgrades_and_loses_nothing() {
    let fx = Fixture::load("postgres");
    let pg = PgCluster::start();
    let url = pg.database("old");
    // pg_dump's \restrict lines are left out: psql before 2025-08 does not know them.
    let dump: String = std::fs::read_to_string(format!("{FIXTURES}/postgres/server.sql"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
        .map(|l| format!("{l}\n"))
        .collect();
    let sql = pg.path().join("restore.sql");
    std::fs::write(&sql, dump).unwrap();
    let out = pg
        .client("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "old", "-f"])
        .arg(&sql)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "restore: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let version = |db: &str| -> i64 {
        psql(&pg, db, "SELECT version FROM fieldcase_schema")
            .parse()
            .unwrap()
    };
    assert_eq!(
        version("old"),
        fx.server["schema_version"].as_i64().unwrap()
    );
    let fresh = pg.database("fresh");
    drop(fieldcase_server::PostgresDb::connect(&fresh).unwrap());

    let db: Arc<dyn Db> = fieldcase_server::db::open(std::path::Path::new(&url))
        .unwrap()
        .into_dyn();
    assert_eq!(version("old"), version("fresh"), "every migration ran");
    assert!(version("old") > 1);
    assert_eq!(
        pg_tables(&pg, "old"),
        pg_tables(&pg, "fresh"),
        "the same tables"
    );
    for (table, count) in fx.server["tables"].as_object().unwrap() {
        let now: i64 = psql(&pg, "old", &format!("SELECT count(*) FROM {table}"))
            .parse()
            .unwrap();
        assert!(now >= count.as_i64().unwrap(), "{table} kept its rows");
    }
    assert_eq!(
        psql(&pg, "old", "SELECT count(*) FROM sessions"),
        fx.server["sessions"].as_array().unwrap().len().to_string()
    );
    check_contents(db.as_ref(), &fx);
    check_serving(db, &fx);
}

/// The two runs' records agree with each other: every case of the phone but the one
/// created offline is on the server.
#[test]
fn the_fixtures_name_the_same_cases_on_phone_and_server() {
    for sub in ["", "postgres"] {
        let fx = Fixture::load(sub);
        let on_server: BTreeSet<&str> = fx.server["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        for (name, c) in fx.phone["cases"].as_object().unwrap() {
            let id = c["id"].as_str().unwrap();
            assert!(id.parse::<CaseId>().is_ok());
            assert_eq!(
                on_server.contains(id),
                name != "offline_new",
                "{sub} {name}"
            );
        }
    }
}

/// Issue 15's compatibility, through a real server: Anna's phone of 047b1d0 and Malee's new
/// phone hold the same cases of schema revision 1; offline, each makes an edit that needs a
/// container revision 2 added (the safety plan, an approved plan version), on the same
/// cases. After both sync, no field is in conflict on the server or on either phone, both
/// edits are there, and the upgrade was made once (the same change on both phones).
#[test]
fn two_phones_upgrading_the_same_047b1d0_cases_offline_merge_without_a_conflict() {
    use fieldcase_core::case::{PlanDecisionInput, SafetyInput};
    let fx = Fixture::load("");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.sqlite");
    std::fs::copy(format!("{FIXTURES}/server.sqlite"), &path).unwrap();
    let db: Arc<dyn Db> = fieldcase_server::db::open(&path).unwrap().into_dyn();
    let server = Served::start(db.clone());
    let url = server.url.clone();

    let phone_path = dir.path().join("phone.sqlite");
    std::fs::copy(format!("{}/phone.sqlite", fx.dir), &phone_path).unwrap();
    let anna = CaseStore::open(&phone_path, &PHONE_KEY).unwrap();
    let anna_token = anna
        .login(&url, "anna", &fx.password("anna"), "Anna's phone")
        .unwrap()
        .token;
    assert!(anna.sync(&url, &anna_token).unwrap().errors.is_empty());
    let (malee, malee_token, _m) = new_phone(&url, "malee", &fx.password("malee")).unwrap();
    assert!(malee.sync(&url, &malee_token).unwrap().errors.is_empty());

    let case = |name: &str| -> CaseId {
        fx.phone["cases"][name]["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let (emergency, plan) = (case("intake_emergency"), case("plan_approved"));
    let before: BTreeMap<CaseId, Vec<automerge::ChangeHash>> = [emergency, plan]
        .into_iter()
        .map(|id| (id, db.case_heads(&id).unwrap().unwrap()))
        .collect();
    for id in [emergency, plan] {
        let doc = CaseDoc::load(&db.case_document(&id).unwrap().unwrap()).unwrap();
        assert!(
            fieldcase_core::schema::get_obj(doc.automerge(), &automerge::ROOT, "safety").is_none(),
            "revision 1 on the server"
        );
    }

    // Offline, both phones.
    let safety = |warning: Option<&str>, places: Option<&str>| SafetyInput {
        warning_signs: warning.map(Into::into),
        safe_places: places.map(Into::into),
        ..Default::default()
    };
    for id in [emergency, plan] {
        anna.update(&id, |c, me, now| {
            c.record_safety(me, now, safety(Some("เขาดื่มเหล้าทุกคืน"), None))
        })
        .unwrap();
    }
    malee
        .update(&emergency, |c, me, now| {
            c.record_safety(me, now, safety(None, Some("บ้านป้าที่หมู่บ้านถัดไป")))
        })
        .unwrap();
    malee
        .update(&plan, |c, me, now| {
            c.approve_plan_version(
                me,
                now,
                PlanDecisionInput {
                    comment: Some("Погоджено".into()),
                    ..Default::default()
                },
            )
        })
        .unwrap();

    for (phone, token) in [
        (&anna, &anna_token),
        (&malee, &malee_token),
        (&anna, &anna_token),
    ] {
        let report = phone.sync(&url, token).unwrap();
        assert!(report.errors.is_empty(), "{report:?}");
        assert_eq!(report.held_back, 0, "{report:?}");
    }

    for id in [emergency, plan] {
        let on_server = CaseDoc::load(&db.case_document(&id).unwrap().unwrap()).unwrap();
        assert_eq!(on_server.heads(), anna.heads(&id).unwrap(), "{id}");
        assert_eq!(on_server.heads(), malee.heads(&id).unwrap(), "{id}");
        assert!(
            fieldcase_core::case::inspect::conflicts(&on_server).is_empty(),
            "{id}: {:?}",
            fieldcase_core::case::inspect::conflicts(&on_server)
        );
        assert!(anna.conflicts(&id).unwrap().is_empty(), "{id}");
        assert!(malee.conflicts(&id).unwrap().is_empty(), "{id}");
        let upgrades: Vec<automerge::Change> = on_server
            .automerge()
            .get_changes(&before[&id])
            .into_iter()
            .filter(|c| fieldcase_core::case::upgrade::is_upgrade(on_server.automerge(), c))
            .collect();
        // One upgrade per revision after the first that added containers (revision 5
        // added a scalar only), each made alike on both phones.
        assert_eq!(
            upgrades.len(),
            (2..=fieldcase_core::schema::SCHEMA_REVISION)
                .filter(|r| !fieldcase_core::case::upgrade::added_containers(*r).is_empty())
                .count(),
            "{id}: one upgrade per revision, made on both phones"
        );
        let file = on_server.read().unwrap();
        assert_eq!(
            file.safety.warning_signs.as_deref(),
            Some("เขาดื่มเหล้าทุกคืน"),
            "{id}: Anna's edit"
        );
        assert_eq!(file, anna.get_case(&id).unwrap());
        assert_eq!(file, malee.get_case(&id).unwrap());
    }
    let file = |id: &CaseId| CaseDoc::load(&db.case_document(id).unwrap().unwrap()).unwrap();
    assert_eq!(
        file(&emergency)
            .read()
            .unwrap()
            .safety
            .safe_places
            .as_deref(),
        Some("บ้านป้าที่หมู่บ้านถัดไป"),
        "Malee's edit"
    );
    let plan_file = file(&plan).read().unwrap();
    assert_eq!(plan_file.plan.versions.len(), 1, "Malee's approval");
    assert_eq!(
        plan_file.plan.versions[0].comment.as_deref(),
        Some("Погоджено")
    );
    drop(server);
}

/// Schema 25 moved a case's assignees into a table without rowids: their order, which
/// was the rowid's, becomes an explicit position, and no assignee is lost or moved.
#[test]
fn assignees_stored_before_schema_25_keep_their_order() {
    use fieldcase_server::db::{CaseAccess, CaseWrite};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.sqlite");
    let cases = [
        (CaseId::random(), vec!["u-2", "u-1", "u-3"]),
        (CaseId::random(), vec!["u-9"]),
        (CaseId::random(), vec!["u-5", "u-4"]),
    ];
    {
        let db = fieldcase_server::SqliteDb::open(&path).unwrap();
        for (id, assigned) in &cases {
            let mut doc = automerge::AutoCommit::new();
            automerge::transaction::Transactable::put(&mut doc, automerge::ROOT, "a", 1).unwrap();
            let access = CaseAccess {
                id: *id,
                team: "north".into(),
                restricted: false,
                assigned: assigned.iter().map(|s| s.to_string()).collect(),
                links: Vec::new(),
                closed: false,
                closed_at: None,
                matching: None,
                listing: None,
            };
            db.store_case(
                &access,
                CaseWrite::Snapshot(&doc.save()),
                &doc.get_heads(),
                None,
                1,
            )
            .unwrap();
        }
    }
    // The table as schema 24 had it, filled case by case interleaved (rowid order is not
    // key order), and the version set back.
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "DROP TABLE case_assignments;
             CREATE TABLE case_assignments (
                case_id BLOB NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
                user_id TEXT NOT NULL,
                PRIMARY KEY (case_id, user_id)
             ) STRICT;
             CREATE INDEX case_assignments_by_user ON case_assignments (user_id);
             ALTER TABLE cases DROP COLUMN facts;
             DROP TABLE case_facts_unfilled;
             CREATE TABLE case_match_facts (
                case_id BLOB PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
                facts   BLOB NOT NULL
             ) STRICT, WITHOUT ROWID;
             CREATE TABLE case_match_facts_unfilled (id INTEGER PRIMARY KEY) STRICT;
             CREATE TABLE case_list_facts (
                case_id BLOB PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
                facts   BLOB NOT NULL
             ) STRICT, WITHOUT ROWID;
             CREATE TABLE case_list_facts_unfilled (id INTEGER PRIMARY KEY) STRICT;
             PRAGMA user_version = 24;",
        )
        .unwrap();
        for i in 0..3 {
            for (id, assigned) in cases.iter().rev() {
                if let Some(u) = assigned.get(i) {
                    conn.execute(
                        "INSERT INTO case_assignments (case_id, user_id) VALUES (?1, ?2)",
                        rusqlite::params![&id.as_bytes()[..], u],
                    )
                    .unwrap();
                }
            }
        }
    }
    let db = fieldcase_server::SqliteDb::open(&path).unwrap();
    assert_eq!(
        sqlite_one(&path, "PRAGMA user_version"),
        fieldcase_server::SqliteDb::SCHEMA_VERSION
    );
    for (id, assigned) in &cases {
        assert_eq!(&db.case_access(id).unwrap().unwrap().assigned, assigned);
    }
    let listed = db.cases().unwrap();
    for (id, assigned) in &cases {
        let (access, _) = listed.iter().find(|(a, _)| a.id == *id).unwrap();
        assert_eq!(&access.assigned, assigned);
    }
}
