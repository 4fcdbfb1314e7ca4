//! The home-visit story of issue 3, end to end.

use fieldcase_core::case::{IntakeInput, VisitInput};
use fieldcase_core::{CaseDoc, NewCase};
use fieldcase_server::Db;
use fieldcase_tests::TestServer;
use serde_json::json;

fn visit(note: &str) -> VisitInput {
    VisitInput {
        date: Some("2026-11-21".into()),
        kind: Some("home".into()),
        note: Some(note.into()),
        ..Default::default()
    }
}

#[test]
fn two_workers_edit_one_case_apart_and_the_server_merges_everything() {
    let server = TestServer::start();
    let (anna, anna_token, _a) = server.phone("anna");

    // Anna records an intake offline during a home visit.
    let mut new = NewCase {
        team: "north".into(),
        ..Default::default()
    };
    new.client.name = Some("Nguyễn Thị Lan".into());
    new.intake = Some(IntakeInput {
        reason: Some("Trẻ nghỉ học nhiều ngày.".into()),
        ..Default::default()
    });
    let id = anna.create_case(new).unwrap();
    let r = anna.sync(&server.url, &anna_token).unwrap();
    assert_eq!((r.sent, r.errors.len()), (1, 0), "{r:?}");
    assert_eq!(server.db.cases().unwrap().len(), 1);

    // The supervisor assigns Bảo as well, through the REST API (the console does the same).
    let (_malee, malee_token, _m) = server.phone("malee");
    let anna_id = anna.user().unwrap().user_id;
    let bao_id = server.db.user_by_username("bao").unwrap().unwrap().id;
    let (status, answer) = server.rest(
        "POST",
        &format!("/v1/cases/{id}/assignment"),
        Some(&malee_token),
        Some(json!({"workers": ["anna", "bao"]})),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["assigned"], json!([anna_id, bao_id]));

    let (bao, bao_token, _b) = server.phone("bao");
    assert_eq!(bao.sync(&server.url, &bao_token).unwrap().new_cases, 1);
    assert_eq!(anna.sync(&server.url, &anna_token).unwrap().received, 1);
    assert_eq!(
        anna.get_case(&id).unwrap().assigned,
        vec![anna_id.clone(), bao_id.clone()]
    );

    // Both go offline and edit the same case.
    anna.update(&id, |c, me, now| {
        c.set_field(me, now, "client/address", &json!("Huế"))?;
        c.set_field(me, now, "client/gender", &json!("female"))?;
        let len = c.read()?.intake.reason.chars().count();
        c.edit_text(me, now, "intake/reason", len, 0, " Mẹ đi làm xa.")?;
        c.add_visit(me, now, visit("Bà ngoại chăm sóc hai cháu."))
    })
    .unwrap();
    bao.update(&id, |c, me, now| {
        c.set_field(me, now, "priority", &json!("high"))?;
        c.set_field(me, now, "client/gender", &json!("undisclosed"))?;
        c.edit_text(me, now, "intake/reason", 0, 0, "[Khẩn] ")?;
        c.add_visit(me, now, visit("Gọi cho giáo viên chủ nhiệm."))
    })
    .unwrap();

    // Back at the office.
    let ra = anna.sync(&server.url, &anna_token).unwrap();
    let rb = bao.sync(&server.url, &bao_token).unwrap();
    let ra2 = anna.sync(&server.url, &anna_token).unwrap();
    assert!(
        ra.errors.is_empty() && rb.errors.is_empty() && ra2.errors.is_empty(),
        "{ra:?} {rb:?} {ra2:?}"
    );
    assert_eq!(
        rb.new_conflicts, 1,
        "Bảo's phone sees the gender conflict arrive: {rb:?}"
    );
    assert_eq!(ra2.received, 1);

    let a = anna.get_case(&id).unwrap();
    let b = bao.get_case(&id).unwrap();
    let on_server = CaseDoc::load(&server.db.case_document(&id).unwrap().unwrap())
        .unwrap()
        .read()
        .unwrap();
    assert_eq!(a, b);
    assert_eq!(a, on_server);
    assert_eq!(a.client.address.as_deref(), Some("Huế"));
    assert_eq!(a.priority.as_deref(), Some("high"));
    assert_eq!(
        a.intake.reason,
        "[Khẩn] Trẻ nghỉ học nhiều ngày. Mẹ đi làm xa."
    );
    assert_eq!(a.visits.len(), 2);

    let conflicts = anna.conflicts(&id).unwrap();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(conflicts[0].path, "client/gender");
    let mut authors: Vec<_> = conflicts[0]
        .values
        .iter()
        .map(|v| v.by.user_id.clone().unwrap())
        .collect();
    authors.sort();
    let mut expected = vec![anna_id, bao_id];
    expected.sort();
    assert_eq!(authors, expected);

    // An unchanged caseload costs one request and syncs nothing.
    let r = anna.sync(&server.url, &anna_token).unwrap();
    assert_eq!((r.unchanged, r.sent, r.received), (1, 0, 0), "{r:?}");
}

#[test]
fn a_phone_syncs_the_demo_caseload_and_sees_its_conflict() {
    let server = TestServer::start();
    let accounts =
        fieldcase_server::demo::seed(server.db.as_ref(), fieldcase_tests::ITERATIONS).unwrap();
    let pw = |u: &str| {
        accounts
            .iter()
            .find(|a| a.username == u)
            .unwrap()
            .password
            .clone()
    };
    let dir = tempfile::tempdir().unwrap();
    let phone = fieldcase_core::CaseStore::open(dir.path().join("p.sqlite"), &[3u8; 32]).unwrap();
    let token = phone
        .login(&server.url, "worker1", &pw("worker1"), "demo phone")
        .unwrap()
        .token;
    let r = phone.sync(&server.url, &token).unwrap();
    let w1 = server.db.user_by_username("worker1").unwrap().unwrap().id;
    let expected = server
        .db
        .cases()
        .unwrap()
        .iter()
        .filter(|(a, _)| a.assigned.contains(&w1))
        .count();
    assert!(r.errors.is_empty(), "{r:?}");
    assert_eq!(r.new_cases, expected);
    assert_eq!(phone.case_ids().len(), expected);
    let with_conflict = phone.list_cases(&fieldcase_core::store::CaseFilter {
        with_conflicts: Some(true),
        ..Default::default()
    });
    assert_eq!(
        with_conflict.len(),
        1,
        "the demo's address disagreement arrives on the phone"
    );
    assert_eq!(phone.search("федорова").len(), 1, "Cyrillic, ё typed as е");
    assert_eq!(
        phone.search("nguyen thi lan").len(),
        1,
        "Vietnamese without diacritics"
    );
}
