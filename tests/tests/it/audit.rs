//! Every read on the record (issue 18): sync deliveries, REST reads, console pages,
//! history and prints are recorded for every case, restricted or not, with the user and
//! the device; the trail is chained by hashes, `fieldcase-server audit --verify` checks
//! it, and a changed or removed entry is found.

use std::process::Command;

use fieldcase_core::NewCase;
use fieldcase_server::Db;
use fieldcase_tests::console::Console;
use fieldcase_tests::pg::server_binary;
use fieldcase_tests::{new_case, visit, TestServer, PASSWORD};

fn verify(path: &std::path::Path) -> (bool, String) {
    let out = Command::new(server_binary())
        .args(["--db", path.to_str().unwrap(), "audit", "--verify"])
        .env_remove("FIELDCASE_MASTER_KEY")
        .env_remove("FIELDCASE_MASTER_KEY_FILE")
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

#[test]
fn every_read_of_every_case_is_on_a_chained_trail_that_finds_a_changed_entry() {
    let server = TestServer::start();
    let (phone, token, _p) = server.phone("anna");
    let mut new = NewCase {
        team: "north".into(),
        ..Default::default()
    };
    new.client.name = Some("Фёдорова Анна".into());
    let id = phone.create_case(new).unwrap();
    phone.sync(&server.url, &token).unwrap();
    // The supervisor's phone receives it: a delivery.
    let (bao, bao_token, _b) = server.phone("malee");
    let r = bao.sync(&server.url, &bao_token).unwrap();
    assert_eq!(r.new_cases, 1, "{r:?}");
    let bao_device = bao.device_id();

    // The supervisor reads it in the console, its history, and prints it; the API reads it.
    let mut c = Console::sign_in(&server.url, "malee", PASSWORD);
    assert_eq!(c.get(&format!("/console/cases/{id}")).0, 200);
    assert_eq!(
        c.get(&format!("/console/cases/{id}/history?path=client/name"))
            .0,
        200
    );
    assert_eq!(c.get(&format!("/console/cases/{id}/print/file")).0, 200);
    let (status, _) = server.rest("GET", &format!("/v1/cases/{id}"), Some(&token), None);
    assert_eq!(status, 200);

    let trail = server.db.audit_trail(Some(&id), 100).unwrap();
    let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
    for expected in [
        "sync",
        "read (console)",
        "history (console)",
        "printed file (console)",
        "read (api)",
    ] {
        assert!(actions.contains(&expected), "{expected} not in {actions:?}");
    }
    // Not a restricted case, and still on the record, with the device it went to.
    assert!(!server.db.case_access(&id).unwrap().unwrap().restricted);
    let bao_user = server.db.user_by_username("malee").unwrap().unwrap();
    assert!(
        trail
            .iter()
            .any(|e| e.user_id == bao_user.id && e.action == "sync" && e.device == bao_device),
        "{trail:?}"
    );
    // Supervisors see who viewed the case on its record; workers do not.
    let (_, record) = c.get(&format!("/console/cases/{id}"));
    assert!(record.contains("Who viewed this case"), "{record}");
    assert!(record.contains("printed file (console)") && record.contains(&bao_device));
    let mut anna = Console::sign_in(&server.url, "anna", PASSWORD);
    let (status, record) = anna.get(&format!("/console/cases/{id}"));
    assert_eq!(status, 200);
    assert!(!record.contains("Who viewed this case"));
    let check = server.db.verify_audit().unwrap();
    assert_eq!(check.broken, None);
    assert!(check.entries >= 6, "{check:?}");

    // The command says the trail is intact; one changed entry, and it is broken there.
    let path = server.dir.path().join("server.sqlite");
    let (ok, said) = verify(&path);
    assert!(ok && said.contains("audit trail intact"), "{said}");
    let conn = rusqlite::Connection::open(&path).unwrap();
    let (second, who): (i64, String) = conn
        .query_row(
            "SELECT id, user_id FROM audit ORDER BY id LIMIT 1 OFFSET 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    conn.execute(
        "UPDATE audit SET user_id = 'u-nobody' WHERE id = ?1",
        [second],
    )
    .unwrap();
    let (ok, said) = verify(&path);
    assert!(!ok, "{said}");
    assert!(
        said.contains(&format!("broken at entry {second}")),
        "{said}"
    );
    // Put back as it was, it holds again; the entry removed, the one after it is broken.
    conn.execute(
        "UPDATE audit SET user_id = ?2 WHERE id = ?1",
        rusqlite::params![second, who],
    )
    .unwrap();
    let (ok, said) = verify(&path);
    assert!(ok, "{said}");
    conn.execute("DELETE FROM audit WHERE id = ?1", [second])
        .unwrap();
    let third: i64 = conn
        .query_row("SELECT MIN(id) FROM audit WHERE id > ?1", [second], |r| {
            r.get(0)
        })
        .unwrap();
    let (ok, said) = verify(&path);
    assert!(!ok, "{said}");
    assert!(said.contains(&format!("broken at entry {third}")), "{said}");
}

/// How many sync reads of case `id` by `username` the audit trail holds.
fn sync_reads(server: &TestServer, id: &fieldcase_core::CaseId, username: &str) -> usize {
    let user = server.db.user_by_username(username).unwrap().unwrap();
    server
        .db
        .audit_trail(Some(id), 100)
        .unwrap()
        .into_iter()
        .filter(|e| e.user_id == user.id && e.action == "sync")
        .count()
}

/// A phone's first sync of a case on a connection that brings changes records the read with
/// their write (SQLite: in its transaction), once: neither twice nor not at all.
#[test]
fn a_sync_bringing_changes_records_its_read_once() {
    let server = TestServer::start();
    let (phone, token, _p) = server.phone("anna");
    let id = new_case(&phone, "Lê Thị Hồng");
    phone.sync(&server.url, &token).unwrap();
    let reads = || sync_reads(&server, &id, "anna");
    // Made on the phone: nothing of another's to read, and nothing recorded.
    assert_eq!(reads(), 0);
    visit(&phone, &id, "Thăm nhà: gia đình ổn định.");
    phone.sync(&server.url, &token).unwrap();
    assert_eq!(reads(), 1, "the read recorded with the visit's write");
    let stored = server.db.case_document(&id).unwrap().unwrap();
    assert_eq!(
        automerge::Automerge::load(&stored).unwrap().get_heads(),
        phone.heads(&id).unwrap(),
        "the visit is stored"
    );
    // Nothing new on either side: nothing asked of the case, nothing recorded.
    phone.sync(&server.url, &token).unwrap();
    assert_eq!(reads(), 1);
    assert_eq!(server.db.verify_audit().unwrap().broken, None);
}

/// A write refused on what storage answers (an area code the server's list lacks, asked
/// on the thread that would store it) stores nothing, marks nothing and records no read.
#[test]
fn a_write_refused_on_storages_answer_stores_nothing_and_records_no_read() {
    let server = TestServer::start();
    let (phone, token, _p) = server.phone("anna");
    let id = new_case(&phone, "Lê Văn An");
    server.synced(&phone, &token);
    let reads = || sync_reads(&server, &id, "anna");
    let stored = || {
        automerge::Automerge::load(&server.db.case_document(&id).unwrap().unwrap())
            .unwrap()
            .get_heads()
    };
    let before = stored();
    phone
        .update(&id, |c, me, now| {
            c.set_field(me, now, "client/area", &serde_json::json!("99999"))
        })
        .unwrap();
    let report = phone.sync(&server.url, &token).unwrap();
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert_eq!(
        report.errors[0].refusal,
        Some(fieldcase_core::RefusalKind::InvalidDocument)
    );
    assert_eq!(stored(), before, "nothing of the refused write stored");
    assert_eq!(reads(), 0, "no read recorded for a refused write");
    assert!(server.db.time_marks(&id).unwrap().is_empty());
    assert_eq!(server.db.verify_audit().unwrap().broken, None);
}

/// A read that cannot be recorded shows nothing: while the server's audit trail refuses
/// entries (a trigger on its file), a supervisor's phone whose sync would deliver a
/// worker's new visit gets an error for that case and not the visit; once the trail
/// records again, the next sync delivers it and records the read.
#[test]
fn a_read_that_cannot_be_recorded_delivers_nothing() {
    let server = TestServer::start();
    let (anna, anna_token, _a) = server.phone("anna");
    let (malee, malee_token, _m) = server.phone("malee");
    let id = new_case(&anna, "Олена Коваленко");
    server.synced(&anna, &anna_token);
    server.synced(&malee, &malee_token);
    assert_eq!(malee.heads(&id).unwrap(), anna.heads(&id).unwrap());
    let seen = malee.heads(&id).unwrap();
    visit(&anna, &id, "Відвідування вдома: дитина в школі.");
    server.synced(&anna, &anna_token);
    let reads = || sync_reads(&server, &id, "malee");
    let before = reads();

    let file = rusqlite::Connection::open(server.dir.path().join("server.sqlite")).unwrap();
    file.execute_batch(
        "CREATE TRIGGER refuse_reads BEFORE INSERT ON audit
         BEGIN SELECT RAISE(ABORT, 'the trail refuses entries'); END;",
    )
    .unwrap();
    let report = malee.sync(&server.url, &malee_token).unwrap();
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert_eq!(report.errors[0].case_id, id.to_string());
    assert_eq!(
        malee.heads(&id).unwrap(),
        seen,
        "nothing delivered unrecorded"
    );
    assert_eq!(reads(), before);

    file.execute_batch("DROP TRIGGER refuse_reads").unwrap();
    let report = malee.sync(&server.url, &malee_token).unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(malee.heads(&id).unwrap(), anna.heads(&id).unwrap());
    assert_eq!(reads(), before + 1);
    assert_eq!(server.db.verify_audit().unwrap().broken, None);
}

#[test]
fn a_restricted_cases_name_shows_as_initials_until_the_viewer_chooses_and_that_is_recorded() {
    let server = TestServer::start();
    let (phone, token, _p) = server.phone("anna");
    let mut new = NewCase {
        team: "north".into(),
        restricted: true,
        ..Default::default()
    };
    new.client.name = Some("زهرا احمدی".into());
    new.client.name_latin = Some("Zahra Ahmadi".into());
    let id = phone.create_case(new).unwrap();
    phone.sync(&server.url, &token).unwrap();
    let mut c = Console::sign_in(&server.url, "anna", PASSWORD);
    let (_, dashboard) = c.get("/console");
    assert!(dashboard.contains("ز. ا."), "initials listed");
    assert!(!dashboard.contains("زهرا") && !dashboard.contains("Zahra"));
    let (status, record) = c.get(&format!("/console/cases/{id}"));
    assert_eq!(status, 200);
    assert!(
        !record.contains("زهرا") && !record.contains("Zahra"),
        "{record}"
    );
    assert!(record.contains("?show=name"));
    let shown = |s: &TestServer| {
        s.db.audit_trail(Some(&id), 100)
            .unwrap()
            .iter()
            .filter(|e| e.action == "name shown (console)")
            .count()
    };
    assert_eq!(shown(&server), 0);
    let (status, record) = c.get(&format!("/console/cases/{id}?show=name"));
    assert_eq!(status, 200);
    assert!(record.contains("زهرا احمدی") && record.contains("Zahra Ahmadi"));
    assert_eq!(shown(&server), 1, "the choice is on the record");
    // The history of the name field shows the name: that too is a choice on the record.
    let (status, history) = c.get(&format!("/console/cases/{id}/history?path=client/name"));
    assert_eq!(status, 200);
    assert!(history.contains("زهرا احمدی"));
    assert_eq!(shown(&server), 2);
}

/// Lists (issue 18): every case a list shows is on its record, a restricted one at every
/// view, any other once a day per user; a CSV report that names cases records each one it
/// names at every download; a report of counts names none and records none.
#[test]
fn lists_record_every_case_once_a_day_and_a_csv_records_each_case_it_names() {
    let server = TestServer::start();
    let accounts =
        fieldcase_server::demo::seed(server.db.as_ref(), fieldcase_tests::ITERATIONS).unwrap();
    let sup = accounts
        .iter()
        .find(|a| a.username == "supervisor")
        .unwrap();
    let sup_id = server
        .db
        .user_by_username("supervisor")
        .unwrap()
        .unwrap()
        .id;
    let cases = server.db.cases().unwrap();
    assert!(cases.iter().any(|(a, _)| a.restricted) && cases.iter().any(|(a, _)| !a.restricted));
    let mut c = Console::sign_in(&server.url, "supervisor", &sup.password);
    for _ in 0..3 {
        assert_eq!(c.get("/console").0, 200);
    }
    let count = |action: &str, id: &fieldcase_core::CaseId| {
        server
            .db
            .audit_trail(Some(id), 100_000)
            .unwrap()
            .iter()
            .filter(|e| e.user_id == sup_id && e.action == action)
            .count()
    };
    for (a, _) in &cases {
        let want = if a.restricted { 3 } else { 1 };
        assert_eq!(
            count("listed (console)", &a.id),
            want,
            "case {} (restricted {})",
            a.id,
            a.restricted
        );
    }

    // The closed cases' report names cases: each one it names is recorded, per download.
    let (status, body) = c.get("/console/reports/closed.csv");
    assert_eq!(status, 200);
    let named: Vec<_> = cases
        .iter()
        .filter(|(a, _)| body.contains(&a.id.to_string()))
        .map(|(a, _)| a.id)
        .collect();
    assert!(!named.is_empty(), "{body}");
    assert_eq!(c.get("/console/reports/closed.csv").0, 200);
    for (a, _) in &cases {
        let want = if named.contains(&a.id) { 2 } else { 0 };
        assert_eq!(count("csv closed (console)", &a.id), want, "case {}", a.id);
    }
    // Counts name no case: nothing is recorded of the download itself.
    assert_eq!(c.get("/console/reports/needs.csv").0, 200);
    let trail = server.db.audit_trail(None, 100_000).unwrap();
    assert!(!trail.iter().any(|e| e.action.starts_with("csv needs")));
    // And the chain still holds, batch entries included.
    let check = server.db.verify_audit().unwrap();
    assert!(check.broken.is_none(), "{check:?}");
}
