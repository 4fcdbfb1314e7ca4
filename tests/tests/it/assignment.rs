//! Assignment and transfer: through the REST API and the admin command line's code path
//! (a second connection to the database, as the CLI process has), and what the phones do
//! when a case comes into or leaves their caseload.

use automerge::sync::{State as SyncState, SyncDoc};
use automerge::Automerge;
use fieldcase_core::case::VisitInput;
use fieldcase_core::sync::protocol::Frame;
use fieldcase_core::{CaseDoc, CaseId, CaseStore, NewCase};
use fieldcase_server::{Db, SqliteDb};
use fieldcase_tests::raw::{joined, next};
use fieldcase_tests::TestServer;
use serde_json::json;
use tungstenite::Message;

fn visit(note: &str) -> VisitInput {
    VisitInput {
        date: Some("2026-11-22".into()),
        kind: Some("home".into()),
        note: Some(note.into()),
        ..Default::default()
    }
}

/// Anna opens a case on her phone and syncs it.
fn synced_case(server: &TestServer) -> (CaseStore, String, tempfile::TempDir, CaseId) {
    let (anna, token, dir) = server.phone("anna");
    let mut new = NewCase {
        team: "north".into(),
        ..Default::default()
    };
    new.client.name = Some("Олена Коваленко".into());
    let id = anna.create_case(new).unwrap();
    assert_eq!(anna.sync(&server.url, &token).unwrap().sent, 1);
    (anna, token, dir, id)
}

fn server_doc(server: &TestServer, id: &CaseId) -> CaseDoc {
    CaseDoc::load(&server.db.case_document(id).unwrap().unwrap()).unwrap()
}

#[test]
fn a_transfer_moves_the_case_to_the_new_phone_and_the_old_one_hands_in_its_last_changes() {
    let server = TestServer::start();
    let (anna, anna_token, _a, id) = synced_case(&server);
    let (bao, bao_token, _b) = server.phone("bao");
    assert_eq!(bao.sync(&server.url, &bao_token).unwrap().new_cases, 0);
    let path = format!("/v1/cases/{id}/assignment");

    // Only a supervisor of the case's team assigns; others learn nothing.
    let (_sam, sam_token, _s) = server.phone("sam");
    let body = json!({"workers": ["bao"]});
    let (status, _) = server.rest("POST", &path, Some(&anna_token), Some(body.clone()));
    assert_eq!(status, 403, "a worker does not assign");
    let (status, v) = server.rest("POST", &path, Some(&sam_token), Some(body.clone()));
    assert_eq!((status, v["error"].as_str()), (404, Some("not_found")));
    let (_malee, malee_token, _m) = server.phone("malee");
    // A refusal by the assignment rule carries its kind; malformed input its problem.
    for (bad, why, code) in [
        (json!({"workers": []}), "nobody", Some("assignment")),
        (
            json!({"workers": ["sam"]}),
            "another team's worker",
            Some("assignment"),
        ),
        (
            json!({"workers": ["nobody"]}),
            "an unknown user",
            Some("assignment"),
        ),
        (
            json!({"workers": "bao"}),
            "not a list",
            Some("body_not_json"),
        ),
        (
            json!({"workers": ["bao"], "extra": 1}),
            "an unknown field",
            Some("body_not_json"),
        ),
    ] {
        let (status, v) = server.rest("POST", &path, Some(&malee_token), Some(bad));
        assert_eq!(status, 400, "{why}: {v}");
        assert_eq!(v["error"], "bad_request");
        assert_eq!(v["code"].as_str(), code, "{why}: {v}");
    }
    let unknown = format!("/v1/cases/{}/assignment", CaseId::random());
    let (status, _) = server.rest("POST", &unknown, Some(&malee_token), Some(body.clone()));
    assert_eq!(status, 404);
    let before = server.db.case_document(&id).unwrap();
    assert_eq!(
        server.db.case_document(&id).unwrap(),
        before,
        "refusals store nothing"
    );

    // Anna records a visit offline while her supervisor transfers the case to Bảo.
    anna.update(&id, |c, me, now| {
        c.add_visit(me, now, visit("Đã gặp gia đình."))
    })
    .unwrap();
    let (status, v) = server.rest("POST", &path, Some(&malee_token), Some(body));
    assert_eq!(status, 200, "{v}");
    let bao_id = server.db.user_by_username("bao").unwrap().unwrap().id;
    assert_eq!(v["assigned"], json!([bao_id]));

    // Anna's phone hands in the visit, then drops the case.
    let r = anna.sync(&server.url, &anna_token).unwrap();
    assert_eq!((r.removed, r.sent, r.errors.len()), (1, 1, 0), "{r:?}");
    assert!(anna.case_ids().is_empty());
    let file = server_doc(&server, &id).read().unwrap();
    assert_eq!(file.visits.len(), 1, "the last visit reached the server");
    assert_eq!(file.assigned, vec![bao_id.clone()]);

    // Bảo's phone receives the case with Anna's visit.
    let r = bao.sync(&server.url, &bao_token).unwrap();
    assert_eq!(r.new_cases, 1, "{r:?}");
    assert_eq!(bao.get_case(&id).unwrap().visits.len(), 1);
    // A second sync of Anna's phone has nothing to do.
    let r = anna.sync(&server.url, &anna_token).unwrap();
    assert_eq!((r.removed, r.sent, r.new_cases), (0, 0, 0), "{r:?}");
}

#[test]
fn a_phone_that_never_had_the_case_cannot_hand_in_changes_to_it() {
    let server = TestServer::start();
    let (anna, _anna_token, _a, id) = synced_case(&server);
    // Bảo (same team, never assigned) and Sam (another team) got hold of the bytes.
    for user in ["bao", "sam"] {
        let (phone, token, _d) = server.phone(user);
        phone.import_case(&anna.export_case(&id).unwrap()).unwrap();
        let before = phone.heads(&id).unwrap();
        phone
            .update(&id, |c, me, now| c.add_visit(me, now, visit("forged")))
            .unwrap();
        let changes = phone
            .with_doc(&id, |d| Ok(d.automerge().save_after(&before)))
            .unwrap();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let res = agent
            .post(format!("{}/v1/cases/{id}/departure", server.url))
            .header("authorization", format!("Bearer {token}"))
            .header(
                fieldcase_core::sync::protocol::SCHEMA_HEADER,
                &fieldcase_core::schema::SCHEMA_REVISION.to_string(),
            )
            .send(&changes[..])
            .unwrap();
        assert_eq!(res.status().as_u16(), 404, "{user}");
    }
    assert!(server_doc(&server, &id).read().unwrap().visits.is_empty());
}

#[test]
fn an_assignment_by_another_process_while_the_case_is_hot_is_seen_and_kept() {
    let server = TestServer::start();
    let (anna, anna_token, _a, id) = synced_case(&server);

    // The supervisor's raw client keeps the case hot in the server's memory.
    let (_malee, malee_token, _m) = server.phone("malee");
    let mut hold = joined(&server, &malee_token);
    let msg = Automerge::new()
        .generate_sync_message(&mut SyncState::new())
        .unwrap();
    let request = Frame::Request {
        sender_id: "raw".into(),
        target_id: String::new(),
        document_id: id.to_string().into(),
        data: msg.encode(),
    };
    hold.send(Message::Binary(request.encode().into())).unwrap();
    assert!(matches!(next(&mut hold), Some(Frame::Sync { .. })));

    // The admin command line assigns Bảo on its own connection to the same file.
    let cli = SqliteDb::open(server.dir.path().join("server.sqlite")).unwrap();
    let access = fieldcase_server::admin::assign_case(
        &cli,
        id,
        &["anna".to_string(), "bao".to_string()],
        None,
    )
    .unwrap();
    assert_eq!(access.assigned.len(), 2);

    // Bảo gets the case although the server held the older document in memory.
    let (bao, bao_token, _b) = server.phone("bao");
    let r = bao.sync(&server.url, &bao_token).unwrap();
    assert_eq!((r.new_cases, r.errors.len()), (1, 0), "{r:?}");
    // Anna's next change builds on it; nothing of either is lost.
    anna.update(&id, |c, me, now| {
        c.add_visit(me, now, visit("after the CLI"))
    })
    .unwrap();
    let r = anna.sync(&server.url, &anna_token).unwrap();
    assert_eq!((r.sent, r.errors.len()), (1, 0), "{r:?}");
    let file = server_doc(&server, &id).read().unwrap();
    assert_eq!(file.assigned.len(), 2);
    assert_eq!(file.visits.len(), 1);
    // Stale writes are refused by the storage itself: an append on old heads stores nothing.
    let stale = server.db.store_case(
        &access,
        fieldcase_server::db::CaseWrite::Changes(&[]),
        &[],
        Some(&[]),
        0,
    );
    assert_eq!(stale.unwrap(), fieldcase_server::db::Stored::Stale);
    drop(hold);
}
