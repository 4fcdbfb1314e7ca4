//! Erasure by destroying a case's data key (issue 18, `docs/adr/0007-*`): `case erase`
//! through the binary while the server runs; the case answers as unknown on every route;
//! phones that held it remove it at their next sync without handing anything in; a push
//! of it again is refused with its kind (`erased`) and stores nothing; a backup taken
//! before the erasure no longer opens it once restored, while the other cases do.

use std::path::Path;
use std::process::Command;

use fieldcase_core::{CaseDoc, CaseId, RefusalKind};
use fieldcase_server::db::keys::KeySource;
use fieldcase_server::{Db, SqliteDb};
use fieldcase_tests::pg::server_binary;
use fieldcase_tests::raw::push_refused;
use fieldcase_tests::{new_case, visit, TestServer};

const ERASED_NAME: &str = "Олена Гнатюк-Шевчишин";
const KEPT_NAME: &str = "Nguyễn Thị Hồng Nhung";

/// The binary on the test server's database: (success, stdout and stderr).
fn cli(db: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(server_binary())
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("FIELDCASE_MASTER_KEY")
        .env_remove("FIELDCASE_MASTER_KEY_FILE")
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// How many rows of each table that holds a case's rows name `id`, in the SQLite file.
fn rows_of(db: &Path, id: &CaseId) -> Vec<(&'static str, i64)> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let key = &id.as_bytes()[..];
    let mut out = vec![(
        "cases",
        conn.query_row("SELECT count(*) FROM cases WHERE id = ?1", [key], |r| {
            r.get(0)
        })
        .unwrap(),
    )];
    for table in [
        "case_changes",
        "case_assignments",
        "departures",
        "change_times",
        "assignment_ends",
        "referral_links",
    ] {
        let n = conn
            .query_row(
                &format!("SELECT count(*) FROM {table} WHERE case_id = ?1"),
                [key],
                |r| r.get(0),
            )
            .unwrap();
        out.push((table, n));
    }
    out
}

/// `POST /v1/cases/{id}/departure` with raw Automerge bytes: (status, JSON answer).
fn departure(
    server: &TestServer,
    token: &str,
    id: &CaseId,
    bytes: &[u8],
) -> (u16, serde_json::Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut res = agent
        .post(&format!("{}/v1/cases/{id}/departure", server.url))
        .header("content-type", "application/octet-stream")
        .header("authorization", &format!("Bearer {token}"))
        .header(
            fieldcase_core::sync::protocol::SCHEMA_HEADER,
            &fieldcase_core::schema::SCHEMA_REVISION.to_string(),
        )
        .send(bytes)
        .unwrap();
    let status = res.status().as_u16();
    let text = res.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or_default())
}

#[test]
fn an_erased_case_is_unknown_everywhere_and_phones_drop_it_without_handing_anything_in() {
    let server = TestServer::start();
    let db_path = server.dir.path().join("server.sqlite");
    let (anna, anna_token, _a) = server.phone("anna");
    let erased = new_case(&anna, ERASED_NAME);
    let kept = new_case(&anna, KEPT_NAME);
    let r = anna.sync(&server.url, &anna_token).unwrap();
    assert_eq!((r.sent, r.errors.len()), (2, 0), "{r:?}");
    // The supervisor's phone holds both too.
    let (malee, malee_token, _m) = server.phone("malee");
    assert_eq!(malee.sync(&server.url, &malee_token).unwrap().new_cases, 2);
    // Anna writes a visit offline: a change the server never gets.
    visit(&anna, &erased, "a note that must go nowhere");
    let before = CaseDoc::load(&server.db.case_document(&erased).unwrap().unwrap()).unwrap();
    assert!(rows_of(&db_path, &erased).iter().any(|(_, n)| *n > 0));

    // Refused, nothing changed: no reason, an id that is no case.
    let (ok, out) = cli(
        &db_path,
        &["case", "erase", &erased.to_string(), "--reason", " "],
    );
    assert!(
        !ok && out.contains("a reason has 1 to 500 characters"),
        "{out}"
    );
    let (ok, out) = cli(
        &db_path,
        &[
            "case",
            "erase",
            &CaseId::random().to_string(),
            "--reason",
            "asked",
        ],
    );
    assert!(!ok && out.contains("no such case"), "{out}");
    assert!(server.db.case_document(&erased).unwrap().is_some());

    // Erased by the command line while the server runs.
    let (ok, out) = cli(
        &db_path,
        &[
            "case",
            "erase",
            &erased.to_string(),
            "--reason",
            "the client asked to be forgotten (request 2026/17)",
        ],
    );
    assert!(ok, "{out}");
    assert!(out.contains("erased") && out.contains("north"), "{out}");
    let (ok, out) = cli(
        &db_path,
        &["case", "erase", &erased.to_string(), "--reason", "again"],
    );
    assert!(!ok && out.contains("erased already"), "{out}");
    let (ok, out) = cli(&db_path, &["case", "erased"]);
    assert!(ok && out.contains(&erased.to_string()) && out.contains("request 2026/17"));
    assert!(!out.contains(&kept.to_string()), "{out}");
    assert!(
        rows_of(&db_path, &erased).iter().all(|(_, n)| *n == 0),
        "{:?}",
        rows_of(&db_path, &erased)
    );
    let log = server.db.admin_log(10).unwrap();
    assert!(log
        .iter()
        .any(|e| e.action == "erase case" && e.target == erased.to_string()));

    // Unknown on every route: REST, the caseload.
    let (status, _) = server.rest(
        "GET",
        &format!("/v1/cases/{erased}"),
        Some(&malee_token),
        None,
    );
    assert_eq!(status, 404);
    let (status, caseload) = server.rest("GET", "/v1/caseload", Some(&malee_token), None);
    assert_eq!(status, 200);
    let caseload = caseload.to_string();
    assert!(!caseload.contains(&erased.to_string()) && caseload.contains(&kept.to_string()));
    // Who may hear that it was erased: its team; another team's worker hears nothing.
    let ids = serde_json::json!({ "ids": [erased.to_string(), kept.to_string(), "nonsense"] });
    let (status, answer) = server.rest(
        "POST",
        "/v1/cases/erased",
        Some(&malee_token),
        Some(ids.clone()),
    );
    assert_eq!(
        (status, answer["erased"].clone()),
        (200, serde_json::json!([erased.to_string()]))
    );
    let (_sam, sam_token, _sd) = server.phone("sam");
    let (status, answer) = server.rest("POST", "/v1/cases/erased", Some(&sam_token), Some(ids));
    assert_eq!(
        (status, answer["erased"].clone()),
        (200, serde_json::json!([]))
    );

    // The phones drop it at their next sync, Anna's without handing in her visit.
    let r = anna.sync(&server.url, &anna_token).unwrap();
    assert!(r.errors.is_empty(), "{r:?}");
    assert_eq!(r.removed, 1, "{r:?}");
    assert!(!anna.case_ids().contains(&erased));
    assert!(anna.case_ids().contains(&kept));
    assert!(!server.db.departed(&erased, &anna.device_id()).unwrap());
    assert!(server.db.case_document(&erased).unwrap().is_none());
    let r = malee.sync(&server.url, &malee_token).unwrap();
    assert_eq!((r.removed, r.errors.len()), (1, 0), "{r:?}");
    assert_eq!(malee.case_ids(), vec![kept]);
    // A hand-in of the visit (as an earlier app would make it) is refused with its kind.
    let (status, answer) = departure(&server, &anna_token, &erased, &before.automerge().save());
    assert_eq!(
        (status, answer["code"].as_str()),
        (400, Some("erased")),
        "{answer}"
    );
    let (_sam2, sam_token2, _s2) = server.phone("sam");
    let (status, _) = departure(&server, &sam_token2, &erased, &before.automerge().save());
    assert_eq!(status, 404, "another team hears nothing of it");

    // A phone (or any client) pushing it again is refused with its kind; nothing stored.
    let mut again = before;
    let refused = push_refused(&server, &anna_token, &mut again, &erased.to_string());
    let (message, kind) = refused.expect("refused");
    assert_eq!(kind, Some(RefusalKind::Erased), "{message}");
    assert!(message.contains("erased"), "{message}");
    assert!(server.db.case_document(&erased).unwrap().is_none());
    assert!(rows_of(&db_path, &erased).iter().all(|(_, n)| *n == 0));

    // The audit trail keeps its entries (ids only) and still verifies.
    assert!(!server.db.audit_trail(Some(&erased), 10).unwrap().is_empty());
    let (ok, out) = cli(&db_path, &["audit", "--verify"]);
    assert!(ok, "{out}");
}

#[test]
fn a_backup_taken_before_an_erasure_no_longer_opens_the_erased_case() {
    let server = TestServer::start();
    let dir = server.dir.path();
    let db_path = dir.join("server.sqlite");
    let key = KeySource::beside(&db_path);
    let (anna, token, _a) = server.phone("anna");
    let erased = new_case(&anna, ERASED_NAME);
    let kept = new_case(&anna, KEPT_NAME);
    assert!(anna.sync(&server.url, &token).unwrap().errors.is_empty());

    // Before the erasure: a backup, and a keyring copy.
    let backup = dir.join("monday.sqlite");
    server.db.backup_to(&backup).unwrap();
    let ring_before = dir.join("keyring-monday.sqlite");
    assert_eq!(server.db.export_keyring(&ring_before).unwrap(), 2);
    // The backup holds no data key, and does not open as a database.
    let conn = rusqlite::Connection::open(&backup).unwrap();
    let keys: i64 = conn
        .query_row(
            "SELECT count(*) FROM cases WHERE data_key IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let cases: i64 = conn
        .query_row("SELECT count(*) FROM cases", [], |r| r.get(0))
        .unwrap();
    assert_eq!((keys, cases), (0, 2));
    drop(conn);
    let e = SqliteDb::open_with(&backup, &key).unwrap_err().to_string();
    assert!(e.contains("internal") || e.contains("kept apart"), "{e}");

    let (ok, out) = cli(
        &db_path,
        &[
            "case",
            "erase",
            &erased.to_string(),
            "--reason",
            "court order 17/2026",
        ],
    );
    assert!(ok, "{out}");
    let ring_after = dir.join("keyring.sqlite");
    let (ok, out) = cli(&db_path, &["key", "export", ring_after.to_str().unwrap()]);
    assert!(ok && out.contains("1 data keys"), "{out}");

    // Restored with the keys of the database it was taken from, and with the keyring
    // written after the erasure: the erased case is gone (its tombstone stays), the other
    // case reads as it was.
    for (n, keyring) in [(1, &db_path), (2, &ring_after)] {
        let target = dir.join(format!("restored-{n}.sqlite"));
        fieldcase_server::restore::restore(&target, &backup, &key, Some(keyring)).unwrap();
        let restored = SqliteDb::open_with(&target, &key).unwrap();
        assert_eq!(restored.case_document(&erased).unwrap(), None);
        assert_eq!(restored.case_access(&erased).unwrap(), None);
        let t = restored
            .erased_case(&erased)
            .unwrap()
            .expect("its tombstone");
        assert_eq!(t.reason, "court order 17/2026");
        let case = CaseDoc::load(&restored.case_document(&kept).unwrap().unwrap())
            .unwrap()
            .read()
            .unwrap();
        assert_eq!(case.client.name.as_deref(), Some(KEPT_NAME));
        drop(restored);
        // Nothing of the erased case's name, and no key for it, is in the restored file.
        let bytes = std::fs::read(&target).unwrap();
        assert!(!bytes
            .windows(ERASED_NAME.len())
            .any(|w| w == ERASED_NAME.as_bytes()));
        let conn = rusqlite::Connection::open(&target).unwrap();
        let left: i64 = conn
            .query_row(
                "SELECT count(*) FROM cases WHERE id = ?1",
                [&erased.as_bytes()[..]],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(left, 0);
    }

    // Through the binary: `check` says what the backup is; `restore --keys` puts it in place
    // with the keyring written after the erasure.
    let key_file = format!("{}.key", db_path.display());
    let (ok, out) = cli(&backup, &["--master-key-file", &key_file, "check"]);
    assert!(ok && out.contains("data keys are kept apart"), "{out}");
    let target = dir.join("restored-cli.sqlite");
    let (ok, out) = cli(
        &target,
        &[
            "--master-key-file",
            &key_file,
            "restore",
            backup.to_str().unwrap(),
            "--keys",
            ring_after.to_str().unwrap(),
        ],
    );
    assert!(ok, "{out}");
    let restored = SqliteDb::open_with(&target, &key).unwrap();
    assert!(restored.case_document(&erased).unwrap().is_none());
    assert!(restored.case_document(&kept).unwrap().is_some());
    drop(restored);

    // Without keys the backup is refused, and nothing is put in place.
    let nowhere = dir.join("restored-none.sqlite");
    let e = fieldcase_server::restore::restore(&nowhere, &backup, &key, None).unwrap_err();
    assert!(e.contains("kept apart"), "{e}");
    assert!(!nowhere.exists());

    // What remains, as the ADR says: a keyring copy taken before the erasure still opens
    // the case. It is replaced, never kept: here it is the operator's old copy.
    let target = dir.join("restored-old-ring.sqlite");
    fieldcase_server::restore::restore(&target, &backup, &key, Some(&ring_before)).unwrap();
    let restored = SqliteDb::open_with(&target, &key).unwrap();
    assert!(restored.case_document(&erased).unwrap().is_some());
}

/// The closed cases of `db` and when each closure in force was approved (ms), read from
/// the documents as a person would: stage closed, the approved closure's decision time.
fn closed_cases(db: &dyn Db) -> Vec<(CaseId, i64)> {
    let mut out = Vec::new();
    for (access, _) in db.cases().unwrap() {
        let file = CaseDoc::load(&db.case_document(&access.id).unwrap().unwrap())
            .unwrap()
            .read()
            .unwrap();
        if file.stage == fieldcase_core::Stage::Closed {
            let at = file.current_closure().unwrap().decided_at.clone().unwrap();
            let at = chrono::DateTime::parse_from_rfc3339(&at).unwrap();
            out.push((access.id, at.timestamp_millis()));
        }
    }
    out
}

const DAY: i64 = 86_400_000;

#[test]
fn the_servers_retention_task_erases_closed_cases_past_their_teams_retention() {
    use fieldcase_server::retention::{self, Action, Policy, Settings};
    let mut teams = std::collections::BTreeMap::new();
    teams.insert(
        "demo-team".to_string(),
        Policy {
            closed_days: 10,
            action: Action::Erase,
        },
    );
    let settings = Settings {
        default: None,
        teams,
        interval: std::time::Duration::from_millis(300),
        max_erasures_per_pass: 1,
    };
    let mut server = TestServer::start_with(fieldcase_server::Config {
        retention: settings.clone(),
        ..Default::default()
    });
    let db: &dyn Db = server.db.as_ref();
    // How many demo cases are past a retention of 10 days, learnt on a copy of the demo
    // of its own (the server's task starts erasing as soon as they are seeded).
    let past_count = {
        let scratch = tempfile::tempdir().unwrap();
        let copy = SqliteDb::open(scratch.path().join("demo.sqlite")).unwrap();
        fieldcase_server::demo::seed(&copy, fieldcase_tests::ITERATIONS).unwrap();
        let now = chrono::Utc::now().timestamp_millis();
        closed_cases(&copy)
            .iter()
            .filter(|(_, at)| at + 10 * DAY <= now)
            .count()
    };
    assert!(past_count > 0, "the demo has cases closed weeks ago");
    // (The demo seeds cases only into a database without any.)
    fieldcase_server::demo::seed(db, fieldcase_tests::ITERATIONS).unwrap();
    // North's cases (no retention set) stay whatever their state.
    let (anna, token, _a) = server.phone("anna");
    let north = new_case(&anna, KEPT_NAME);
    assert!(anna.sync(&server.url, &token).unwrap().errors.is_empty());
    let all_before = db.cases().unwrap().len() + db.erased_cases().unwrap().len();

    // One erasure a pass: the task goes on until every case past retention is erased.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while db.erased_cases().unwrap().len() < past_count {
        assert!(
            std::time::Instant::now() < deadline,
            "the task did not erase them"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_millis(700));
    let tombstones = db.erased_cases().unwrap();
    assert_eq!(
        tombstones.len(),
        past_count,
        "no more than those past retention"
    );
    for t in &tombstones {
        assert_eq!(t.erased_by, retention::RETENTION_AUTHOR);
        assert!(
            t.reason.starts_with("retention: closed on "),
            "{}",
            t.reason
        );
        assert_eq!(t.team, "demo-team");
        assert!(db.case_document(&t.case_id).unwrap().is_none());
    }
    // What stays: every case closed within its retention, and every open one.
    let now = chrono::Utc::now().timestamp_millis();
    assert!(closed_cases(db).iter().all(|(_, at)| at + 10 * DAY > now));
    assert_eq!(db.cases().unwrap().len(), all_before - past_count);
    assert!(db.case_document(&north).unwrap().is_some());
    let metrics = server.metrics();
    assert!(
        metrics.contains(&format!("fieldcase_cases_erased_total {past_count}")),
        "{metrics}"
    );
    let runs: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("fieldcase_retention_runs_total "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(runs >= past_count as u64, "{runs}");
    // What the storage opened and the time it spent sealing, named at /metrics.
    for name in [
        "fieldcase_case_documents_opened_total ",
        "fieldcase_case_seals_total ",
        "fieldcase_case_seal_seconds_total ",
        "fieldcase_case_opens_total ",
        "fieldcase_case_open_seconds_total ",
    ] {
        let v: f64 = metrics
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("{name} at /metrics"))
            .parse()
            .unwrap();
        assert!(v > 0.0, "{name}{v}");
    }
    // The task stops with the server.
    server.stop_gracefully();
}

#[test]
fn case_retention_lists_what_awaits_a_decision_and_erases_only_with_apply() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.sqlite");
    {
        let db = SqliteDb::open(&path).unwrap();
        fieldcase_server::demo::seed(&db, fieldcase_tests::ITERATIONS).unwrap();
    }
    let db = SqliteDb::open(&path).unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let past = closed_cases(&db)
        .iter()
        .filter(|(_, at)| at + 10 * DAY <= now)
        .count();
    let cases = db.cases().unwrap().len();
    drop(db);
    assert!(past > 0);
    let config = |text: &str| {
        let p = dir.path().join("fieldcase.toml");
        std::fs::write(&p, text).unwrap();
        p
    };
    let run = |conf: &Path, apply: bool| {
        let mut args = vec!["--config", conf.to_str().unwrap(), "case", "retention"];
        if apply {
            args.push("--apply");
        }
        cli(&path, &args)
    };

    // Mistakes are named, and nothing runs.
    for (bad, named) in [
        (
            "[team_retention.demo-team]\nclosed_days = 0\n",
            "team_retention.demo-team.closed_days",
        ),
        (
            "[retention]\naction = \"erase\"\n",
            "retention.action needs retention.closed_days",
        ),
        (
            "[team_retention.demo-team]\naction = \"erase\"\n",
            "team_retention.demo-team.closed_days is needed",
        ),
        (
            "[retention]\nclosed_days = 10\naction = \"shred\"\n",
            "action",
        ),
    ] {
        let (ok, out) = run(&config(bad), true);
        assert!(!ok && out.contains(named), "{bad}: {out}");
    }
    assert_eq!(SqliteDb::open(&path).unwrap().cases().unwrap().len(), cases);

    // Listed for a decision: never erased, --apply or not.
    let listed = config("[team_retention.demo-team]\nclosed_days = 10\n");
    for apply in [false, true] {
        let (ok, out) = run(&listed, apply);
        assert!(ok, "{out}");
        assert_eq!(
            out.lines().filter(|l| l.starts_with("decide")).count(),
            past,
            "{out}"
        );
        assert!(out.contains("0 erased"), "{out}");
    }
    // To be erased: shown without --apply, erased with it.
    let erase = config("[retention]\nclosed_days = 10\naction = \"erase\"\n");
    let (ok, out) = run(&erase, false);
    assert!(
        ok && out.contains(&format!("0 erased, {past} to erase")),
        "{out}"
    );
    assert_eq!(SqliteDb::open(&path).unwrap().cases().unwrap().len(), cases);
    let (ok, out) = run(&erase, true);
    assert!(
        ok && out.contains(&format!("{past} erased, 0 to erase")),
        "{out}"
    );
    let db = SqliteDb::open(&path).unwrap();
    assert_eq!(db.cases().unwrap().len(), cases - past);
    assert_eq!(db.erased_cases().unwrap().len(), past);
    // A longer retention finds nothing more.
    let (ok, out) = run(
        &config("[retention]\nclosed_days = 3650\naction = \"erase\"\n"),
        true,
    );
    assert!(ok && out.contains("0 erased, 0 to erase"), "{out}");
}

/// The console (issue 18): a supervisor asks on the case's record, with a reason; a
/// worker cannot; an admin sees what waits, refuses one request and erases on another;
/// every step is in the administrative log; the erased case is gone from the console
/// and its tombstone is on the erasure page.
#[test]
fn a_supervisor_asks_on_the_record_and_an_admin_erases_or_refuses_in_the_console() {
    use fieldcase_tests::console::{hidden, Console};
    let server = TestServer::start();
    server
        .db
        .add_user(
            "root",
            "Root",
            fieldcase_core::Role::Admin,
            None,
            fieldcase_tests::PASSWORD,
            fieldcase_tests::ITERATIONS,
        )
        .unwrap();
    let (anna, token, _a) = server.phone("anna");
    let id = new_case(&anna, ERASED_NAME);
    assert!(anna.sync(&server.url, &token).unwrap().errors.is_empty());
    let record = format!("/console/cases/{id}");
    let ask = format!("/console/cases/{id}/erasure-request");

    // A worker has no such form, and a post of it is refused: nothing asked.
    let mut worker = Console::sign_in(&server.url, "anna", fieldcase_tests::PASSWORD);
    let (status, page) = worker.get(&record);
    assert_eq!(status, 200);
    assert!(!page.contains("erasure-request"));
    let csrf = hidden(&page, "csrf");
    let status = worker.post(&ask, &[("csrf", &csrf), ("reason", "the client asked")]);
    assert!(status == 403 || status == 404, "{status}");
    assert_eq!(worker.get("/console/erasure").0, 404);
    assert!(server.db.erasure_requests(false).unwrap().is_empty());

    // The supervisor asks; a reason is required; a second request waits behind the first.
    let mut malee = Console::sign_in(&server.url, "malee", fieldcase_tests::PASSWORD);
    let (_, page) = malee.get(&record);
    assert!(
        page.contains("erasure-request"),
        "the form is on the record"
    );
    let csrf = hidden(&page, "csrf");
    assert_eq!(malee.post(&ask, &[("csrf", &csrf), ("reason", "  ")]), 400);
    assert!(server.db.erasure_requests(false).unwrap().is_empty());
    let first = malee.post(
        &ask,
        &[("csrf", &csrf), ("reason", "a mistake: not our client")],
    );
    assert_eq!(first, 303);
    assert_eq!(
        malee.post(&ask, &[("csrf", &csrf), ("reason", "again")]),
        409
    );
    let (status, page) = malee.get("/console/erasure");
    assert_eq!(status, 200);
    assert!(page.contains("a mistake: not our client") && !page.contains("Erase for good"));

    // The admin refuses it; the supervisor asks again; the admin erases.
    let mut root = Console::sign_in(&server.url, "root", fieldcase_tests::PASSWORD);
    let (_, page) = root.get("/console/erasure");
    assert!(page.contains("Erase for good") && page.contains(&id.to_string()));
    let csrf_root = hidden(&page, "csrf");
    let waiting = server.db.erasure_requests(true).unwrap();
    assert_eq!(waiting.len(), 1);
    // Only an admin decides.
    assert_eq!(
        malee.post(
            &format!("/console/erasure/{}", waiting[0].id),
            &[("csrf", &csrf), ("decision", "erase")]
        ),
        403
    );
    assert_eq!(
        root.post(
            &format!("/console/erasure/{}", waiting[0].id),
            &[("csrf", &csrf_root), ("decision", "shred")]
        ),
        400
    );
    assert_eq!(
        root.post(
            &format!("/console/erasure/{}", waiting[0].id),
            &[("csrf", &csrf_root), ("decision", "refuse")]
        ),
        303
    );
    assert!(
        server.db.case_document(&id).unwrap().is_some(),
        "refused: kept"
    );
    assert_eq!(
        malee.post(&ask, &[("csrf", &csrf), ("reason", "court order 3/2026")]),
        303
    );
    let waiting = server.db.erasure_requests(true).unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(
        root.post(
            &format!("/console/erasure/{}", waiting[0].id),
            &[("csrf", &csrf_root), ("decision", "erase")]
        ),
        303
    );
    let root_id = server.db.user_by_username("root").unwrap().unwrap().id;
    let t = server.db.erased_case(&id).unwrap().expect("erased");
    assert_eq!(
        (t.erased_by.as_str(), t.reason.as_str()),
        (root_id.as_str(), "court order 3/2026")
    );
    assert!(server.db.case_document(&id).unwrap().is_none());
    assert_eq!(malee.get(&record).0, 404);
    let (_, page) = malee.get("/console");
    assert!(!page.contains(&id.to_string()) && !page.contains(ERASED_NAME));
    let (_, page) = root.get("/console/erasure");
    assert!(page.contains("court order 3/2026") && page.contains("Root"));
    let decided: Vec<_> = server
        .db
        .erasure_requests(false)
        .unwrap()
        .into_iter()
        .map(|r| r.decision.unwrap_or_default())
        .collect();
    assert_eq!(decided, ["erased", "refused"]);
    let actions: Vec<String> = server
        .db
        .admin_log(20)
        .unwrap()
        .into_iter()
        .filter(|e| e.target == id.to_string())
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            "erase case",
            "request erasure",
            "refuse erasure",
            "request erasure"
        ]
    );
    // Anna's phone drops it at its next sync.
    let r = anna.sync(&server.url, &token).unwrap();
    assert_eq!((r.removed, r.errors.len()), (1, 0), "{r:?}");
}

#[test]
fn an_admin_keeps_a_listed_case_for_a_while_or_erases_it_now() {
    use fieldcase_server::retention::{self, Action, Policy, Settings};
    use fieldcase_tests::console::{hidden, Console};
    let mut teams = std::collections::BTreeMap::new();
    teams.insert(
        "demo-team".to_string(),
        Policy {
            closed_days: 10,
            action: Action::List,
        },
    );
    let settings = Settings {
        default: None,
        teams,
        interval: std::time::Duration::from_secs(3600),
        max_erasures_per_pass: 10,
    };
    let server = TestServer::start_with(fieldcase_server::Config {
        retention: settings.clone(),
        ..Default::default()
    });
    let db: &dyn Db = server.db.as_ref();
    fieldcase_server::demo::seed(db, fieldcase_tests::ITERATIONS).unwrap();
    server
        .db
        .add_user(
            "root",
            "Root",
            fieldcase_core::Role::Admin,
            None,
            fieldcase_tests::PASSWORD,
            fieldcase_tests::ITERATIONS,
        )
        .unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let listed = retention::review(db, &settings, now).unwrap();
    assert!(
        listed.len() >= 2,
        "the demo has cases closed weeks ago: {listed:?}"
    );
    let (kept, erased) = (listed[0].case_id, listed[1].case_id);
    let (anna, token, _a) = server.phone("anna");
    let open = new_case(&anna, KEPT_NAME);
    assert!(anna.sync(&server.url, &token).unwrap().errors.is_empty());

    let mut root = Console::sign_in(&server.url, "root", fieldcase_tests::PASSWORD);
    let (status, page) = root.get("/console/erasure");
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!("/console/retention/{kept}/keep")),
        "{page}"
    );
    let csrf = hidden(&page, "csrf");
    let keep = format!("/console/retention/{kept}/keep");
    // A reason is needed, and a number of days in bounds: nothing kept otherwise.
    assert_eq!(
        root.post(&keep, &[("csrf", &csrf), ("days", "30"), ("reason", " ")]),
        400
    );
    assert_eq!(
        root.post(
            &keep,
            &[("csrf", &csrf), ("days", "0"), ("reason", "court")]
        ),
        400
    );
    assert!(db.retention_holds().unwrap().is_empty());
    assert_eq!(
        root.post(
            &keep,
            &[
                ("csrf", &csrf),
                ("days", "30"),
                ("reason", "court case pending")
            ]
        ),
        303
    );
    let still = retention::review(db, &settings, now).unwrap();
    assert!(
        !still.iter().any(|d| d.case_id == kept),
        "kept: no longer listed"
    );
    // Listed again once the days have passed.
    let later = retention::review(db, &settings, now + 31 * DAY).unwrap();
    assert!(later.iter().any(|d| d.case_id == kept));

    // Erase now: the tombstone says why; an open case is not the retention's to erase.
    let erase = |c: &CaseId| format!("/console/retention/{c}/erase");
    assert_eq!(
        root.post(&erase(&open), &[("csrf", &csrf), ("reason", "tidy up")]),
        404
    );
    assert!(db.erased_case(&open).unwrap().is_none());
    assert_eq!(
        root.post(
            &erase(&erased),
            &[("csrf", &csrf), ("reason", "the family asked")]
        ),
        303
    );
    let t = db.erased_case(&erased).unwrap().expect("erased");
    assert!(
        t.reason.starts_with("retention: closed on ") && t.reason.ends_with(": the family asked"),
        "{}",
        t.reason
    );
    // Only an admin decides.
    server
        .db
        .add_user(
            "sup",
            "Sup",
            fieldcase_core::Role::Supervisor,
            Some("demo-team"),
            fieldcase_tests::PASSWORD,
            fieldcase_tests::ITERATIONS,
        )
        .unwrap();
    let mut sup = Console::sign_in(&server.url, "sup", fieldcase_tests::PASSWORD);
    let (_, page) = sup.get("/console/erasure");
    assert!(
        !page.contains("/console/retention/"),
        "no decision forms for a supervisor"
    );
    let sup_csrf = hidden(&page, "csrf");
    assert_eq!(
        sup.post(
            &erase(&listed[2.min(listed.len() - 1)].case_id),
            &[("csrf", &sup_csrf), ("reason", "x")]
        ),
        403
    );
}

/// The retention review reads its candidates from the closure columns beside the cases
/// and opens only those past their team's retention (to confirm the closure from the
/// record), not every case: `fieldcase_case_documents_opened_total` counts every case
/// the storage opened. The columns agree with the records, and a database of the version
/// before them (SQLite migration 18) gets them filled once when opened.
#[test]
fn the_retention_review_opens_only_its_candidates() {
    use fieldcase_server::retention::{self, Action, Policy, Settings};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.sqlite");
    let db = SqliteDb::open(&path).unwrap();
    fieldcase_server::demo::seed(&db, fieldcase_tests::ITERATIONS).unwrap();
    let columns = |db: &dyn Db| -> Vec<(CaseId, i64)> {
        let mut c: Vec<_> = db
            .closed_cases(i64::MAX)
            .unwrap()
            .into_iter()
            .map(|c| (c.id, c.closed_at))
            .collect();
        c.sort();
        c
    };
    let now = chrono::Utc::now().timestamp_millis();
    let mut records = closed_cases(&db);
    records.sort();
    assert_eq!(
        columns(&db),
        records,
        "the columns say what the records say"
    );
    let cases = db.cases().unwrap().len();
    // A retention that the oldest closure is past and the latest is not.
    let latest = records.iter().map(|(_, at)| *at).max().unwrap();
    let days = ((now - latest) / DAY + 1) as u32;
    let due = records
        .iter()
        .filter(|(_, at)| at + i64::from(days) * DAY <= now)
        .count();
    assert!(
        due > 0 && due < records.len() && records.len() < cases,
        "{due} of {} closed of {cases}",
        records.len()
    );

    let settings = Settings {
        default: Some(Policy {
            closed_days: days,
            action: Action::List,
        }),
        ..Settings::default()
    };
    let opened = |db: &dyn Db| {
        db.sealing()
            .documents_opened
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    let before = opened(&db);
    let found = retention::review(&db, &settings, now).unwrap();
    assert_eq!(found.len(), due);
    assert_eq!(
        opened(&db) - before,
        due as u64,
        "only the cases past retention are opened"
    );
    // A retention longer than any closure opens nothing.
    let long = Settings {
        default: Some(Policy {
            closed_days: 3650,
            action: Action::Erase,
        }),
        ..Settings::default()
    };
    let before = opened(&db);
    assert!(retention::run(&db, &long, now, true)
        .unwrap()
        .erased
        .is_empty());
    assert_eq!(opened(&db), before);

    // A case past retention reopened: open in the columns, no candidate any more.
    let reopened = found[0].case_id;
    let mut doc = CaseDoc::load(&db.case_document(&reopened).unwrap().unwrap()).unwrap();
    let supervisor = fieldcase_core::case::Author::new(
        "u-sup",
        "Supervisor",
        fieldcase_core::Role::Supervisor,
        "d-sup",
    );
    doc.reopen(&supervisor, now, "the family asked for help again")
        .unwrap();
    let access = fieldcase_server::db::CaseAccess::read(reopened, doc.automerge()).unwrap();
    assert!(!access.closed && access.closed_at.is_none());
    db.put_case(&access, &doc.automerge().save(), &doc.heads(), now)
        .unwrap();
    assert!(!columns(&db).iter().any(|(id, _)| *id == reopened));
    let mut records = closed_cases(&db);
    records.sort();
    assert_eq!(columns(&db), records);
    let before = opened(&db);
    let found = retention::review(&db, &settings, now).unwrap();
    assert_eq!(found.len(), due - 1);
    assert_eq!(opened(&db) - before, due as u64 - 1);
    drop(db);

    // The database as the version before the columns left it: filled once at the open.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "ALTER TABLE cases DROP COLUMN facts;
         DROP TABLE case_facts_unfilled;
         DROP TABLE areas;
         DROP TABLE case_links_unfilled;
         DROP TABLE case_links;
         DROP INDEX cases_closed;
         ALTER TABLE cases DROP COLUMN closed;
         ALTER TABLE cases DROP COLUMN closed_at;
         CREATE TABLE case_assignments_rowid (
            case_id BLOB NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            user_id TEXT NOT NULL,
            PRIMARY KEY (case_id, user_id)
         ) STRICT;
         INSERT INTO case_assignments_rowid (case_id, user_id)
            SELECT case_id, user_id FROM case_assignments ORDER BY case_id, position;
         DROP TABLE case_assignments;
         ALTER TABLE case_assignments_rowid RENAME TO case_assignments;
         CREATE INDEX case_assignments_by_user ON case_assignments (user_id);
         PRAGMA user_version = 18;",
    )
    .unwrap();
    drop(conn);
    let db = SqliteDb::open(&path).unwrap();
    assert_eq!(opened(&db), cases as u64, "each case opened once");
    assert_eq!(columns(&db), records);
    let before = opened(&db);
    assert_eq!(retention::review(&db, &settings, now).unwrap(), found);
    assert_eq!(opened(&db) - before, found.len() as u64);
    drop(db);
    // And not again at the next open.
    let db = SqliteDb::open(&path).unwrap();
    assert_eq!(opened(&db), 0);
}
