//! The phone's sync client against a real server (issue 14): the phone runs the server's
//! admission rules on its own changes before it offers them; a server that does not know
//! a newer app's schema revision refuses its changes as `newer_schema`, and the phone
//! offers them again once the server says it knows it; a login cancelled while its
//! answer is on the way signs nobody in.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use automerge::{ReadDoc, ROOT};
use fieldcase_core::case::{ReferralInput, ReferralStatus, VisitInput};
use fieldcase_core::schema::SCHEMA_REVISION;
use fieldcase_core::sync::protocol::{Frame, SCHEMA_HEADER};
use fieldcase_core::sync::SyncControl;
use fieldcase_core::{CaseDoc, CaseId, CaseStore, Error, NewCase, Refusal, RefusalKind};
use fieldcase_server::Db;
use fieldcase_tests::proxy::CutProxy;
use fieldcase_tests::raw::{exchange_on, joined_as, sign_in};
use fieldcase_tests::{TestServer, PASSWORD};

fn new_case(name: &str) -> NewCase {
    let mut n = NewCase {
        team: "north".into(),
        ..Default::default()
    };
    n.client.name = Some(name.into());
    n
}

fn visit(note: &str) -> VisitInput {
    VisitInput {
        date: Some("2026-12-01".into()),
        kind: Some("home".into()),
        note: Some(note.into()),
        ..Default::default()
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Waits for `what` (bounded: a test that never sees it fails, it does not hang).
fn wait_until(what: &str, f: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !f() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A change the typed edits never make, written into the phone's own store with the
/// phone's own actor (as a tampered app would): the latest visit "recorded by" the
/// supervisor.
fn forge_recorded_by(phone: &CaseStore, id: &CaseId, someone_else: &str) {
    let mut doc = CaseDoc::load(&phone.export_case(id).unwrap()).unwrap();
    doc.set_actor(phone.actor_id());
    let visits = doc.automerge().get(ROOT, "visits").unwrap().unwrap().1;
    let n = doc.automerge().length(&visits);
    let item = doc.automerge().get(&visits, n - 1).unwrap().unwrap().1;
    let mut tx = doc.automerge_mut().transaction();
    tx.put(&item, "recorded_by", someone_else).unwrap();
    tx.commit();
    phone.import_case(&doc.automerge().save()).unwrap();
}

#[test]
fn a_phone_holds_back_its_own_change_that_the_server_would_refuse_and_never_sends_it() {
    let server = TestServer::start();
    let (phone, token, _dir) = server.phone("anna");
    assert_eq!(
        phone.user().unwrap().team.as_deref(),
        Some("north"),
        "the login keeps the user's team"
    );
    let id = phone.create_case(new_case("Bùi Thị Mai")).unwrap();
    phone
        .update(&id, |c, a, now| {
            c.add_visit(a, now, visit("Gia đình ổn định."))
        })
        .unwrap();
    let r = phone.sync(&server.url, &token).unwrap();
    assert!(r.errors.is_empty(), "{r:?}");
    let on_server = server.db.case_document(&id).unwrap().unwrap();

    phone
        .update(&id, |c, a, now| {
            c.add_visit(a, now, visit("Lần thăm thứ hai."))
        })
        .unwrap();
    let malee = server.db.user_by_username("malee").unwrap().unwrap();
    forge_recorded_by(&phone, &id, &malee.id);
    let refused_before = server.state.metrics.changes_refused.load(Ordering::SeqCst);

    let r = phone.sync(&server.url, &token).unwrap();
    assert_eq!(r.errors.len(), 1, "{r:?}");
    assert_eq!(r.errors[0].refusal, Some(RefusalKind::Attribution), "{r:?}");
    assert!(r.errors[0].reason.contains("another user"), "{r:?}");
    assert_eq!(r.sent, 0, "{r:?}");
    // Judged on the phone: the server neither received nor refused anything.
    assert_eq!(
        server.state.metrics.changes_refused.load(Ordering::SeqCst),
        refused_before
    );
    assert_eq!(server.db.case_document(&id).unwrap().unwrap(), on_server);
    // Held back with the same typed refusal the server would give; nothing lost here.
    let held = phone.refused_cases();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].0, id);
    assert_eq!(held[0].1.kind, RefusalKind::Attribution);
    assert_eq!(phone.get_case(&id).unwrap().visits.len(), 2);
    let r = phone.sync(&server.url, &token).unwrap();
    assert_eq!(r.held_back, 1, "{r:?}");

    // The phone's own rules never hold back what the server takes: another case of hers
    // with ordinary edits goes through in the same sync.
    let other = phone.create_case(new_case("Trần Văn Nam")).unwrap();
    let r = phone.sync(&server.url, &token).unwrap();
    assert!(r.errors.is_empty(), "{r:?}");
    assert!(server.db.case_document(&other).unwrap().is_some());
}

#[test]
fn a_newer_apps_codes_are_refused_as_newer_schema_and_this_versions_junk_as_invalid() {
    let server = TestServer::start();
    let anna = sign_in(&server, "anna", "raw");
    let (token, actor, author) = (anna.token, anna.actor, anna.author);
    let id = CaseId::random();
    let mut doc = CaseDoc::create(
        id,
        actor.clone(),
        &author,
        new_case("Фёдорова Анна"),
        now_ms(),
    )
    .unwrap();
    doc.add_referral(
        &author,
        now_ms(),
        ReferralInput {
            organisation: Some("Housing NGO".into()),
            shares_information: Some(false),
            status: Some(ReferralStatus::Sent),
            ..Default::default()
        },
    )
    .unwrap();
    // A status the next revision might add.
    {
        let referrals = doc.automerge().get(ROOT, "referrals").unwrap().unwrap().1;
        let first = doc.automerge().get(&referrals, 0).unwrap().unwrap().1;
        let mut tx = doc.automerge_mut().transaction();
        tx.put(&first, "status", "waitlisted").unwrap();
        tx.commit();
    }
    let refusal_of = |schema: u32, doc: &mut CaseDoc| {
        let mut s = joined_as(&server, &token, schema);
        match exchange_on(&mut s, doc, &id.to_string()) {
            Some(Frame::Error { message, code, .. }) => {
                (message, code.as_deref().map(RefusalKind::from_code))
            }
            other => panic!("not refused: {other:?}"),
        }
    };
    let (message, kind) = refusal_of(SCHEMA_REVISION + 1, &mut doc.clone());
    assert_eq!(kind, Some(RefusalKind::NewerSchema), "{message}");
    assert!(message.contains("until the server is updated"), "{message}");
    let (message, kind) = refusal_of(SCHEMA_REVISION, &mut doc);
    assert_eq!(kind, Some(RefusalKind::InvalidDocument), "{message}");
    assert!(
        server.db.case_document(&id).unwrap().is_none(),
        "nothing kept"
    );

    // The phone's routes say which revision the server knows.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let res = agent
        .get(&format!("{}/v1/caseload", server.url))
        .header("authorization", &format!("Bearer {token}"))
        .header(SCHEMA_HEADER, &(SCHEMA_REVISION + 1).to_string())
        .call()
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        res.headers().get(SCHEMA_HEADER).unwrap().to_str().unwrap(),
        SCHEMA_REVISION.to_string()
    );
}

#[test]
fn cases_held_for_a_newer_schema_go_again_once_the_server_knows_it_and_others_stay() {
    let server = TestServer::start();
    let (phone, token, _dir) = server.phone("anna");
    let waiting = phone.create_case(new_case("Nguyễn Thị Lan")).unwrap();
    let broken = phone.create_case(new_case("Фёдорова Анна")).unwrap();
    // As an earlier sync against a server of an earlier revision left them.
    phone
        .mark_refused(
            &waiting,
            &Refusal::new(RefusalKind::NewerSchema, "the server was behind"),
        )
        .unwrap();
    phone
        .mark_refused(
            &broken,
            &Refusal::new(RefusalKind::InvalidDocument, "invalid"),
        )
        .unwrap();
    // This server knows this app's revision: the first goes, the second stays held.
    let r = phone.sync(&server.url, &token).unwrap();
    assert!(r.errors.is_empty(), "{r:?}");
    assert_eq!(r.held_back, 1, "{r:?}");
    assert!(server.db.case_document(&waiting).unwrap().is_some());
    assert!(server.db.case_document(&broken).unwrap().is_none());
    let held = phone.refused_cases();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].0, broken);
}

/// A fresh store that has never signed in.
fn fresh_store() -> (Arc<CaseStore>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = CaseStore::open(dir.path().join("phone.sqlite"), &[9; 32]).unwrap();
    (Arc::new(store), dir)
}

#[test]
fn a_login_cancelled_while_its_answer_is_on_the_way_signs_nobody_in() {
    let server = TestServer::start();
    let proxy = CutProxy::start(server.url.trim_start_matches("http://").parse().unwrap());
    let (store, _dir) = fresh_store();
    let control = Arc::new(SyncControl::default());
    proxy.hold_answers(true);
    let login = {
        let (store, control, url) = (store.clone(), control.clone(), proxy.url());
        std::thread::spawn(move || {
            store.login_with(&url, "anna", PASSWORD, "Anna's phone", &control)
        })
    };
    // The server signed her in; its answer waits in the proxy.
    wait_until("the server signs anna in", || {
        server.state.metrics.logins_ok.load(Ordering::SeqCst) == 1
    });
    control.cancel();
    proxy.hold_answers(false);
    let result = login.join().unwrap();
    assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
    assert!(store.user().is_none(), "nobody is signed in on the phone");
    // The session the server opened was ended.
    let anna = server.db.user_by_username("anna").unwrap().unwrap();
    let devices = server.db.devices_of(&anna.id, now_ms()).unwrap();
    assert_eq!(devices.len(), 1, "{devices:?}");
    assert_eq!(devices[0].open_sessions, 0, "{devices:?}");

    // A login cancelled before it starts sends nothing; the next one signs in.
    let cancelled = SyncControl::default();
    cancelled.cancel();
    let result = store.login_with(&server.url, "anna", PASSWORD, "Anna's phone", &cancelled);
    assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
    assert_eq!(server.state.metrics.logins_ok.load(Ordering::SeqCst), 1);
    store
        .login(&server.url, "anna", PASSWORD, "Anna's phone")
        .unwrap();
    assert_eq!(store.user().unwrap().user_id, anna.id);
}
