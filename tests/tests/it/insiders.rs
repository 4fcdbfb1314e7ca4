//! A signed-in account acting in bad faith (a lost or coerced phone, a colleague who wants a
//! case they should not have): the server holds against it as it holds against strangers.
//! Each test names the finding of the attack it answers (issue 13).

use automerge::sync::SyncDoc;
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, ReadDoc, ROOT};
use fieldcase_core::case::VisitInput;
use fieldcase_core::sync::protocol::Frame;
use fieldcase_core::{Author, CaseDoc, CaseId, NewCase, RefusalKind};
use fieldcase_server::{Config, Db};
use fieldcase_tests::console::Console;
use fieldcase_tests::raw::{
    exchange, joined, next, push, push_refused, sign_in, sync_frame, Device,
};
use fieldcase_tests::{TestServer, PASSWORD};
use serde_json::json;
use tungstenite::Message;

/// Pushes `doc`: the refusal's message and kind, if refused.
fn refused_as(
    server: &TestServer,
    token: &str,
    doc: &mut CaseDoc,
    document_id: &str,
) -> (Option<String>, Option<RefusalKind>) {
    match push_refused(server, token, doc, document_id) {
        Some((message, kind)) => (Some(message), kind),
        None => (None, None),
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A case of `team` opened on `d` and pushed to the server.
fn opened(server: &TestServer, d: &Device, team: &str, name: &str) -> CaseId {
    let id = CaseId::random();
    let mut n = NewCase {
        team: team.into(),
        ..Default::default()
    };
    n.client.name = Some(name.into());
    let mut doc = CaseDoc::create(id, d.actor.clone(), &d.author, n, now_ms()).unwrap();
    assert_eq!(push(server, &d.token, &mut doc, &id.to_string()), None);
    id
}

/// The server's copy of a case, to be edited as `d`.
fn copy_for(server: &TestServer, id: &CaseId, d: &Device) -> CaseDoc {
    let mut doc = CaseDoc::load(&server.db.case_document(id).unwrap().unwrap()).unwrap();
    doc.set_actor(d.actor.clone());
    doc
}

/// Writes `value` under `key` of the case's last visit, in a change of its own (a
/// tampered app rewriting what the app recorded).
fn rewrite_last_visit(doc: &mut CaseDoc, key: &str, value: &str) {
    let visits = doc.automerge().get(ROOT, "visits").unwrap().unwrap().1;
    let n = doc.automerge().length(&visits);
    let item = doc.automerge().get(&visits, n - 1).unwrap().unwrap().1;
    let mut tx = doc.automerge_mut().transaction();
    tx.put(&item, key, value).unwrap();
    tx.commit();
}

/// Posts raw bytes as a departure.
fn depart(server: &TestServer, id: &CaseId, token: &str, body: &[u8]) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut res = agent
        .post(&format!("{}/v1/cases/{id}/departure", server.url))
        .header("authorization", &format!("Bearer {token}"))
        .header(
            fieldcase_core::sync::protocol::SCHEMA_HEADER,
            &fieldcase_core::schema::SCHEMA_REVISION.to_string(),
        )
        .header("content-type", "application/octet-stream")
        .send(body)
        .unwrap();
    (
        res.status().as_u16(),
        res.body_mut().read_to_string().unwrap(),
    )
}

fn assign(server: &TestServer, supervisor: &Device, id: &CaseId, workers: &[&str]) {
    let (status, v) = server.rest(
        "POST",
        &format!("/v1/cases/{id}/assignment"),
        Some(&supervisor.token),
        Some(json!({ "workers": workers })),
    );
    assert_eq!(status, 200, "{v}");
}

fn address(server: &TestServer, id: &CaseId) -> Option<String> {
    CaseDoc::load(&server.db.case_document(id).unwrap().unwrap())
        .unwrap()
        .read()
        .unwrap()
        .client
        .address
}

/// Finding 2: a worker removed from a case hands in the changes of the device that held it,
/// once; a second hand-in, and hand-ins from devices registered after the removal, are
/// refused and change nothing.
#[test]
fn a_removed_worker_hands_in_once_and_only_from_a_device_that_held_the_case() {
    let server = TestServer::start();
    let phone = sign_in(&server, "anna", "anna's phone");
    let malee = sign_in(&server, "malee", "malee's phone");
    let id = opened(&server, &phone, "north", "Олена Коваленко");
    let held = copy_for(&server, &id, &phone);
    let held_heads = held.heads();
    std::thread::sleep(std::time::Duration::from_millis(20));
    assign(&server, &malee, &id, &["bao"]);

    // A hand-in that rewrites who opened the case is refused by the admission check, with
    // its kind, and uses up nothing.
    let mut forged = held.clone();
    {
        let mut tx = forged.automerge_mut().transaction();
        tx.put(ROOT, "created_by", "u-someone-else").unwrap();
        tx.commit();
    }
    let (status, body) = depart(
        &server,
        &id,
        &phone.token,
        &forged.automerge().save_after(&held_heads),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("changes refused"), "{body}");
    assert!(body.contains(r#""code":"attribution""#), "{body}");

    // Offline on the old copy: the honest hand-in is taken, once.
    let mut doc = held.clone();
    doc.set_field(&phone.author, now_ms(), "client/address", &json!("Київ"))
        .unwrap();
    let honest = doc.automerge().save_after(&held_heads);
    assert_eq!(
        depart(&server, &id, &phone.token, &honest),
        (200, r#"{"accepted":1}"#.into())
    );
    assert_eq!(address(&server, &id).as_deref(), Some("Київ"));
    // Asked again after a lost answer: nothing new, nothing refused.
    assert_eq!(
        depart(&server, &id, &phone.token, &honest),
        (200, r#"{"accepted":0}"#.into())
    );
    let stored = server.db.case_document(&id).unwrap();

    // A second hand-in from the same device, built on its first.
    let mut again = doc.clone();
    again
        .set_field(
            &phone.author,
            now_ms(),
            "client/address",
            &json!("forged 1"),
        )
        .unwrap();
    let (status, body) = depart(
        &server,
        &id,
        &phone.token,
        &again.automerge().save_after(&doc.heads()),
    );
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("already handed in"), "{body}");
    assert!(body.contains(r#""code":"departure""#), "{body}");

    // Devices registered after the removal never held the case: answered as for a case
    // that does not exist. (Change times are whole seconds: these come a second later.)
    std::thread::sleep(std::time::Duration::from_millis(1_100));
    for name in ["new phone", "another new phone"] {
        let later = sign_in(&server, "anna", name);
        let mut forged = held.clone();
        forged.set_actor(later.actor.clone());
        forged
            .set_field(
                &later.author,
                now_ms(),
                "client/address",
                &json!("forged 2"),
            )
            .unwrap();
        let (status, body) = depart(
            &server,
            &id,
            &later.token,
            &forged.automerge().save_after(&held_heads),
        );
        assert_eq!(status, 404, "{name}: {body}");
    }
    assert_eq!(
        server.db.case_document(&id).unwrap(),
        stored,
        "nothing of the refused hand-ins was kept"
    );
}

/// Finding 2: the hand-in has a deadline (`departure_days` after the user lost the case).
#[test]
fn a_hand_in_after_the_deadline_is_refused() {
    let server = TestServer::start_with(Config {
        departure_days: 0,
        ..Config::default()
    });
    let phone = sign_in(&server, "anna", "anna's phone");
    let malee = sign_in(&server, "malee", "malee's phone");
    let id = opened(&server, &phone, "north", "Trần Văn Nam");
    let held = copy_for(&server, &id, &phone);
    std::thread::sleep(std::time::Duration::from_millis(20));
    assign(&server, &malee, &id, &["bao"]);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let mut doc = held.clone();
    doc.set_field(&phone.author, now_ms(), "client/address", &json!("Huế"))
        .unwrap();
    let (status, body) = depart(
        &server,
        &id,
        &phone.token,
        &doc.automerge().save_after(&held.heads()),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("within 0 days"), "{body}");
    assert!(body.contains(r#""code":"departure""#), "{body}");
    assert_eq!(address(&server, &id), None);
}

/// Finding 8: a case the caller may not see answers exactly as one that does not exist,
/// on the departure route and on the sync socket.
#[test]
fn hidden_and_missing_cases_answer_alike() {
    let server = TestServer::start();
    let sam = sign_in(&server, "sam", "sam's phone");
    let hidden = opened(&server, &sam, "south", "Кузнецова Мария");
    let missing = CaseId::random();
    let anna = sign_in(&server, "anna", "anna's phone");

    // Departures: an empty body, bytes that are not changes, and real changes.
    let mut own = CaseDoc::create(
        CaseId::random(),
        anna.actor.clone(),
        &anna.author,
        NewCase {
            team: "north".into(),
            ..Default::default()
        },
        now_ms(),
    )
    .unwrap();
    own.set_field(&anna.author, now_ms(), "priority", &json!("high"))
        .unwrap();
    for body in [
        Vec::new(),
        b"not automerge".to_vec(),
        own.automerge().save(),
    ] {
        let h = depart(&server, &hidden, &anna.token, &body);
        let m = depart(&server, &missing, &anna.token, &body);
        assert_eq!(h, m, "departure answers differ");
        assert_eq!(h.0, 404);
    }

    // Sync: a request, a sync without changes, and changes (breaking the schema; then
    // valid, but not the case they are sent as).
    let answer =
        |id: &CaseId, doc: &mut CaseDoc| exchange(&server, &anna.token, doc, &id.to_string());
    let mut bad = own.clone();
    {
        let mut tx = bad.automerge_mut().transaction();
        tx.put(ROOT, "x", "unknown field").unwrap();
        tx.commit();
    }
    for doc in [&bad, &own] {
        let strip = |f: Option<Frame>| match f {
            Some(Frame::Error { message, .. }) => format!("error: {message}"),
            Some(Frame::DocUnavailable { .. }) => "unavailable".into(),
            other => format!("{other:?}"),
        };
        let h = strip(answer(&hidden, &mut doc.clone()));
        let m = strip(answer(&missing, &mut doc.clone()));
        assert_eq!(h, m);
        assert!(h.starts_with("error: changes refused"), "{h}");
    }
    let mut s = joined(&server, &anna.token);
    for id in [hidden, missing] {
        let request = Frame::Request {
            sender_id: "raw".into(),
            target_id: String::new(),
            document_id: id.to_string().into(),
            data: automerge::Automerge::new()
                .generate_sync_message(&mut automerge::sync::State::new())
                .unwrap()
                .encode(),
        };
        s.send(Message::Binary(request.encode().into())).unwrap();
        assert!(
            matches!(next(&mut s), Some(Frame::DocUnavailable { document_id, .. }) if document_id.to_string() == id.to_string())
        );
    }
    assert!(server.db.case_document(&missing).unwrap().is_none());
}

/// Finding 7: sync frames for unknown ids cost the server nothing it keeps; a connection
/// syncs at most its limit of cases.
#[test]
fn unknown_ids_leave_nothing_behind_and_a_connection_holds_a_bounded_number_of_cases() {
    let server = TestServer::start_with(Config {
        sync_max_cases_per_connection: 3,
        ..Config::default()
    });
    let anna = sign_in(&server, "anna", "anna's phone");
    let mut s = joined(&server, &anna.token);
    let empty = automerge::Automerge::new()
        .generate_sync_message(&mut automerge::sync::State::new())
        .unwrap()
        .encode();
    for _ in 0..2_000 {
        let frame = Frame::Sync {
            sender_id: "raw".into(),
            target_id: String::new(),
            document_id: CaseId::random().to_string().into(),
            data: empty.clone(),
        };
        s.send(Message::Binary(frame.encode().into())).unwrap();
        assert!(matches!(next(&mut s), Some(Frame::Sync { .. })));
    }
    assert_eq!(server.state.hub.cases_in_memory(), 0, "nothing kept");

    // Four of her cases on one connection: the fourth is refused with an error frame.
    let ids: Vec<CaseId> = (0..4)
        .map(|i| opened(&server, &anna, "north", &format!("Nguyễn Văn {i}")))
        .collect();
    let mut s = joined(&server, &anna.token);
    let mut answers = Vec::new();
    for id in &ids {
        let frame = Frame::Sync {
            sender_id: "raw".into(),
            target_id: String::new(),
            document_id: id.to_string().into(),
            data: empty.clone(),
        };
        s.send(Message::Binary(frame.encode().into())).unwrap();
        answers.push(next(&mut s));
    }
    assert!(answers[..3]
        .iter()
        .all(|a| matches!(a, Some(Frame::Sync { .. }))));
    // Not a refusal of the case (its kind would hold it back on the phone): no code.
    assert!(
        matches!(&answers[3], Some(Frame::Error { message, code: None, .. }) if message.contains("too many cases")),
        "{:?}",
        answers[3]
    );
    assert_eq!(
        server
            .state
            .metrics
            .sync_cases_over_limit
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
}

/// Finding 4: over sync as over REST, a case is assigned only to active workers and
/// supervisors of its team; a restricted case copied under a new id is refused.
#[test]
fn team_boundaries_hold_over_sync() {
    let server = TestServer::start();
    let anna = sign_in(&server, "anna", "anna's phone");
    let malee = sign_in(&server, "malee", "malee's phone");
    let sam_id = server.db.user_by_username("sam").unwrap().unwrap().id;
    let anna_id = anna.author.user_id.clone();
    let id = opened(&server, &anna, "north", "Lê Thị Hoa");
    let before = server.db.case_document(&id).unwrap();

    // (a) The supervisor's phone adds a worker of another team.
    let mut doc = copy_for(&server, &id, &malee);
    doc.assign(
        &malee.author,
        now_ms(),
        &[anna_id.clone(), sam_id.clone()],
        None,
    )
    .unwrap();
    let (refused, kind) = refused_as(&server, &malee.token, &mut doc, &id.to_string());
    assert!(
        refused
            .as_deref()
            .is_some_and(|m| m.contains("active workers and supervisors of its team")),
        "{refused:?}"
    );
    assert_eq!(kind, Some(RefusalKind::Assignment), "{refused:?}");
    assert_eq!(server.db.case_document(&id).unwrap(), before);

    // (b) A new case assigned to its worker and to another team's worker.
    let mut n = NewCase {
        team: "north".into(),
        ..Default::default()
    };
    n.client.name = Some("Lê Thị Hoa".into());
    let copy_id = CaseId::random();
    let mut doc = CaseDoc::create(copy_id, anna.actor.clone(), &anna.author, n, now_ms()).unwrap();
    {
        let mut tx = doc.automerge_mut().transaction();
        let assigned = tx.get(ROOT, "assigned").unwrap().unwrap().1;
        let at = tx.length(&assigned);
        tx.insert(&assigned, at, sam_id.as_str()).unwrap();
        tx.commit();
    }
    let (refused, kind) = refused_as(&server, &anna.token, &mut doc, &copy_id.to_string());
    assert!(
        refused
            .as_deref()
            .is_some_and(|m| m.contains("active workers and supervisors of its team")),
        "{refused:?}"
    );
    assert_eq!(kind, Some(RefusalKind::Assignment), "{refused:?}");
}

/// Finding 4 (b): a case copied under a new id (to take it out of a restriction or a team)
/// is refused: made of the worker's own changes, because a case's id is set once; holding
/// the supervisor's restriction, because those changes are not the sender's.
#[test]
fn a_case_copied_under_a_new_id_is_refused() {
    let server = TestServer::start();
    let anna = sign_in(&server, "anna", "anna's phone");
    let malee = sign_in(&server, "malee", "malee's phone");
    let id = opened(&server, &anna, "north", "Phạm Minh Châu");
    let copy_id = CaseId::random();
    let mut copy = copy_for(&server, &id, &anna);
    {
        let mut tx = copy.automerge_mut().transaction();
        tx.put(ROOT, "id", copy_id.to_string()).unwrap();
        tx.commit();
    }
    let (refused, kind) = refused_as(&server, &anna.token, &mut copy, &copy_id.to_string());
    assert!(
        refused
            .as_deref()
            .is_some_and(|m| m.contains("id is set once")),
        "{refused:?}"
    );
    assert_eq!(kind, Some(RefusalKind::WrongCase), "{refused:?}");
    assert!(server.db.case_document(&copy_id).unwrap().is_none());

    let mut doc = copy_for(&server, &id, &malee);
    doc.set_restricted(&malee.author, now_ms(), true).unwrap();
    assert_eq!(push(&server, &malee.token, &mut doc, &id.to_string()), None);
    let copy_id = CaseId::random();
    let mut copy = copy_for(&server, &id, &anna);
    {
        let mut tx = copy.automerge_mut().transaction();
        tx.put(ROOT, "id", copy_id.to_string()).unwrap();
        tx.put(ROOT, "sensitivity", "normal").unwrap();
        tx.commit();
    }
    let (refused, kind) = refused_as(&server, &anna.token, &mut copy, &copy_id.to_string());
    assert!(refused.is_some(), "the copy was taken");
    assert!(kind.is_some(), "a refusal carries its kind");
    assert!(server.db.case_document(&copy_id).unwrap().is_none());
}

/// Finding 3: a worker's change may not name another user as the author of an entry, nor
/// give an entry a time other than its own; names, devices and far-off times a document
/// gives itself never reach the console as fact.
#[test]
fn forged_authors_are_refused_and_forged_names_and_times_never_shown() {
    let server = TestServer::start();
    let anna = sign_in(&server, "anna", "Anna's Samsung");
    let malee = sign_in(&server, "malee", "malee's phone");
    let malee_id = malee.author.user_id.clone();
    let id = opened(&server, &anna, "north", "Bùi Thị Mai");
    let before = server.db.case_document(&id).unwrap();
    let visit = VisitInput {
        date: Some("2026-11-30".into()),
        kind: Some("home".into()),
        note: Some("Gia đình ổn định.".into()),
        ..Default::default()
    };

    // A visit recorded "by" the supervisor.
    let mut doc = copy_for(&server, &id, &anna);
    let entry = doc
        .add_visit(&anna.author, now_ms(), visit.clone())
        .unwrap();
    rewrite_last_visit(&mut doc, "recorded_by", &malee_id);
    let _ = entry;
    let (refused, kind) = refused_as(&server, &anna.token, &mut doc, &id.to_string());
    assert!(
        refused
            .as_deref()
            .is_some_and(|m| m.contains("another user")),
        "{refused:?}"
    );
    assert_eq!(kind, Some(RefusalKind::Attribution), "{refused:?}");

    // A visit whose recorded time is not its change's.
    let mut doc = copy_for(&server, &id, &anna);
    doc.add_visit(&anna.author, now_ms(), visit.clone())
        .unwrap();
    rewrite_last_visit(&mut doc, "recorded_at", "2020-01-01T09:00:00Z");
    let (refused, kind) = refused_as(&server, &anna.token, &mut doc, &id.to_string());
    assert!(
        refused
            .as_deref()
            .is_some_and(|m| m.contains("time other than their own")),
        "{refused:?}"
    );
    assert_eq!(kind, Some(RefusalKind::Attribution), "{refused:?}");
    assert_eq!(
        server.db.case_document(&id).unwrap(),
        before,
        "nothing kept"
    );

    // A change of hers labelled "approve plan", however spelt (the console shows a change's
    // label as what it did).
    let forge = |doc: &mut CaseDoc, message: &str, time: i64| {
        let actor_hex = anna.actor.to_hex_string();
        doc.automerge_mut()
            .transact_with::<_, _, automerge::AutomergeError, _>(
                |_| {
                    CommitOptions::default()
                        .with_message(message.to_string())
                        .with_time(time)
                },
                |tx| {
                    let actors = tx.get(ROOT, "actors")?.unwrap().1;
                    let entry = tx.get(&actors, actor_hex.as_str())?.unwrap().1;
                    tx.put(&entry, "name", "Supervisor Malee")?;
                    tx.put(&entry, "device_id", "d-supervisor-phone")?;
                    let client = tx.get(ROOT, "client")?.unwrap().1;
                    tx.put(&client, "address", "Sóc Trăng")?;
                    Ok(())
                },
            )
            .unwrap();
    };
    for label in ["approve plan", "Approve-Plan", "stage review -> closed"] {
        let mut doc = copy_for(&server, &id, &anna);
        forge(&mut doc, label, now_ms() / 1000);
        let (refused, kind) = refused_as(&server, &anna.token, &mut doc, &id.to_string());
        assert!(
            refused
                .as_deref()
                .is_some_and(|m| m.contains("needs a supervisor")),
            "{label}: {refused:?}"
        );
        assert_eq!(kind, Some(RefusalKind::NeedsAuthority), "{refused:?}");
    }

    // Stamps are written once: the case's "opened at" rewritten with her own name and the
    // change's own time is still refused.
    let mut doc = copy_for(&server, &id, &anna);
    let own = now_ms() / 1000;
    let stamp = fieldcase_core::case::rfc3339(own * 1000 + 30_000);
    doc.automerge_mut()
        .transact_with::<_, _, automerge::AutomergeError, _>(
            |_| CommitOptions::default().with_time(own),
            |tx| {
                tx.put(ROOT, "created_at", stamp.as_str())?;
                tx.put(ROOT, "created_by", anna.author.user_id.as_str())?;
                Ok(())
            },
        )
        .unwrap();
    let (refused, kind) = refused_as(&server, &anna.token, &mut doc, &id.to_string());
    assert!(
        refused
            .as_deref()
            .is_some_and(|m| m.contains("rewrite who made an entry")),
        "{refused:?}"
    );
    assert_eq!(kind, Some(RefusalKind::Attribution), "{refused:?}");
    assert_eq!(
        server.db.case_document(&id).unwrap(),
        before,
        "nothing kept"
    );

    // Her own actor entry renamed "Supervisor Malee" on the supervisor's device, in a change
    // dated 2020: kept (it is her change), but the console names her and her device as the
    // server registered them, and shows when it arrived.
    let mut doc = copy_for(&server, &id, &anna);
    let forged_time = 1_577_836_800; // 2020-01-01
    forge(&mut doc, "set client/address", forged_time);
    assert_eq!(push(&server, &anna.token, &mut doc, &id.to_string()), None);
    let marks = server.db.time_marks(&id).unwrap();
    assert_eq!(marks.len(), 1, "the far-off time is marked");
    assert_eq!(marks[0].claimed, forged_time * 1000);
    assert!((marks[0].received - now_ms()).abs() < 60_000);
    // A change dated now, then one built on it dated an hour before it: within the days a
    // phone stays offline, but earlier than the change it builds on: marked as well.
    let mut doc = copy_for(&server, &id, &anna);
    let now_s = now_ms() / 1000;
    for (address, time) in [("12 Lê Lợi", now_s), ("14 Lê Lợi", now_s - 3600)] {
        doc.automerge_mut()
            .transact_with::<_, _, automerge::AutomergeError, _>(
                |_| {
                    CommitOptions::default()
                        .with_message("set client/address".to_string())
                        .with_time(time)
                },
                |tx| {
                    let client = tx.get(ROOT, "client")?.unwrap().1;
                    tx.put(&client, "address", address)?;
                    Ok(())
                },
            )
            .unwrap();
    }
    assert_eq!(push(&server, &anna.token, &mut doc, &id.to_string()), None);
    let marks = server.db.time_marks(&id).unwrap();
    assert_eq!(marks.len(), 2, "{marks:?}");
    assert!(
        marks.iter().any(|m| m.claimed == (now_s - 3600) * 1000),
        "{marks:?}"
    );

    let mut console = Console::sign_in(&server.url, "malee", PASSWORD);
    let (status, page) = console.get(&format!("/console/cases/{id}"));
    assert_eq!(status, 200);
    let (status, history) = console.get(&format!(
        "/console/cases/{id}/history?path=client%2Faddress"
    ));
    assert_eq!(status, 200);
    for shown in [&page, &history] {
        assert!(!shown.contains("Supervisor Malee"), "a forged name shown");
        assert!(
            !shown.contains("d-supervisor-phone"),
            "a forged device shown"
        );
        assert!(shown.contains("time-claimed"), "the far-off time is marked");
    }
    assert!(history.contains("Anna&#39;s Samsung") || history.contains("Anna's Samsung"));
    // The receipt (this year), not 2020, is the change's time.
    let year = &fieldcase_core::case::rfc3339(now_ms())[..4];
    assert!(history.contains(year), "the receipt's year is shown");
}

/// Changes whose dependencies the server lacks wait in the case's document until they
/// arrive: under the sender's own actor that is the sync protocol at work (the server asks
/// for what is missing); under a colleague's actor it is refused on arrival, so no one
/// leaves changes waiting in a colleague's name.
#[test]
fn changes_left_waiting_under_a_colleagues_actor_are_refused() {
    let server = TestServer::start();
    let anna = sign_in(&server, "anna", "anna's phone");
    let bao = sign_in(&server, "bao", "bao's phone");
    let id = opened(&server, &anna, "north", "Võ Thị Sáu");
    let stored = server.db.case_document(&id).unwrap();
    let waiting_as = |actor: &ActorId, author: &Author| {
        let mut doc = copy_for(&server, &id, &anna);
        doc.set_actor(actor.clone());
        let base = doc.heads();
        for (k, v) in [("client/address", "Hà Nội"), ("client/address", "Huế")] {
            doc.set_field(author, now_ms(), k, &json!(v)).unwrap();
        }
        let changes = doc.automerge().get_changes(&base);
        assert_eq!(changes.len(), 2);
        // Only the second: the first, which it builds on, is left out.
        automerge::sync::Message {
            heads: doc.heads(),
            need: Vec::new(),
            have: Vec::new(),
            changes: vec![changes[1].raw_bytes().to_vec()].into(),
            flags: None,
            version: automerge::sync::MessageVersion::V1,
        }
        .encode()
    };
    let send = |data: Vec<u8>| {
        let mut s = joined(&server, &anna.token);
        let frame = Frame::Sync {
            sender_id: "raw".into(),
            target_id: String::new(),
            document_id: id.to_string().into(),
            data,
        };
        s.send(Message::Binary(frame.encode().into())).unwrap();
        next(&mut s)
    };
    let answer = send(waiting_as(&bao.actor, &bao.author));
    assert!(
        matches!(&answer, Some(Frame::Error { message, code: Some(code), .. })
            if message.contains("not registered to this device") && code == "foreign_actor"),
        "{answer:?}"
    );
    // Her own: answered with a sync message that asks for what is missing.
    let answer = send(waiting_as(&anna.actor, &anna.author));
    assert!(matches!(answer, Some(Frame::Sync { .. })), "{answer:?}");
    assert_eq!(
        server.db.case_document(&id).unwrap(),
        stored,
        "nothing stored"
    );
}

/// Issue 15: the case process holds on what arrives by sync, not only on the phone's typed
/// edits. Raw Automerge changes (no typed edit) that move the stage along a step the
/// workflow lacks, move an emergency on from intake before its safety is secured, record a
/// conclusion about abuse on a case that is not child protection, or approve a closure
/// before the family is told, are refused with the kind `process`, and the server's case
/// is unchanged. Meanwhile two real phones' valid offline edits that merge into a state
/// neither saw (one moves the intake on, the other flags an emergency) are both admitted:
/// each change is judged on the case as its writer saw it.
#[test]
fn the_case_process_holds_against_raw_changes() {
    use fieldcase_core::case::{ClosureInput, IntakeInput};
    use fieldcase_core::{schema, Stage};
    let server = TestServer::start();
    let anna = sign_in(&server, "anna", "Anna's raw phone");
    let malee = sign_in(&server, "malee", "Malee's raw tablet");
    let id = opened(&server, &anna, "north", "Phạm Thị Mai");
    let stored = |server: &TestServer| server.db.case_document(&id).unwrap().unwrap();
    let refused = |doc: &mut CaseDoc, token: &str, why: &str| {
        let before = stored(&server);
        let (message, kind) = refused_as(&server, token, doc, &id.to_string());
        assert_eq!(kind, Some(RefusalKind::Process), "{message:?}");
        assert!(
            message.as_deref().unwrap_or("").contains(why),
            "{message:?}"
        );
        assert_eq!(stored(&server), before, "nothing stored");
    };
    let raw = |d: &Device, f: &dyn Fn(&mut automerge::transaction::Transaction<'_>, &CaseDoc)| {
        let mut doc = copy_for(&server, &id, d);
        let view = doc.clone();
        let mut tx = doc.automerge_mut().transaction();
        f(&mut tx, &view);
        tx.commit();
        doc
    };

    // A step the workflow does not have.
    let mut doc = raw(&anna, &|tx, _| tx.put(ROOT, "stage", "review").unwrap());
    refused(&mut doc, &anna.token, "no such step");
    // A conclusion about abuse on a case of no kind (not child protection).
    let mut doc = raw(&anna, &|tx, c| {
        let intake = schema::get_obj(c.automerge(), &ROOT, "intake").unwrap();
        tx.put(&intake, "preliminary_finding", "evidence_of_abuse")
            .unwrap()
    });
    refused(&mut doc, &anna.token, "child-protection");
    // An emergency moved on before its safety is secured.
    let mut flagged = copy_for(&server, &id, &anna);
    flagged
        .record_intake(
            &anna.author,
            now_ms(),
            IntakeInput {
                emergency: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        push(&server, &anna.token, &mut flagged, &id.to_string()),
        None
    );
    let mut doc = raw(&anna, &|tx, _| tx.put(ROOT, "stage", "assessment").unwrap());
    refused(&mut doc, &anna.token, "emergency");
    // A closure approved, by a supervisor, before the family is told.
    let mut asked = copy_for(&server, &id, &anna);
    let closure = asked
        .request_closure(
            &anna.author,
            now_ms(),
            ClosureInput {
                reason: Some("moved_away".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        push(&server, &anna.token, &mut asked, &id.to_string()),
        None
    );
    let mut doc = raw(&malee, &|tx, c| {
        let list = schema::get_obj(c.automerge(), &ROOT, "closures").unwrap();
        let (_, entry) = schema::find_entry(c.automerge(), &list, &closure).unwrap();
        tx.put(&entry, "status", "approved").unwrap();
        tx.put(ROOT, "stage", "closed").unwrap();
    });
    refused(&mut doc, &malee.token, "was told");
    let file = CaseDoc::load(&stored(&server)).unwrap().read().unwrap();
    assert_eq!(file.stage, Stage::Intake);
    assert!(file.intake.preliminary_finding.is_none());

    // Two real phones: Anna accepts an intake offline and moves it on; Bảo, meanwhile,
    // flags it as an emergency and syncs first. Both are admitted.
    let (shared, (anna_phone, anna_token, _a), (bao_phone, bao_token, _b)) =
        server.shared_case("Trần Văn Hùng");
    anna_phone
        .update(&shared, |c, me, now| {
            c.change_stage(me, now, Stage::Assessment)
        })
        .unwrap();
    bao_phone
        .update(&shared, |c, me, now| {
            c.record_intake(
                me,
                now,
                IntakeInput {
                    emergency: Some(true),
                    ..Default::default()
                },
            )
        })
        .unwrap();
    for (phone, token) in [(&bao_phone, &bao_token), (&anna_phone, &anna_token)] {
        let report = phone.sync(&server.url, token).unwrap();
        assert!(report.errors.is_empty(), "{report:?}");
    }
    let merged = CaseDoc::load(&server.db.case_document(&shared).unwrap().unwrap())
        .unwrap()
        .read()
        .unwrap();
    assert_eq!(merged.stage, Stage::Assessment, "Anna's step");
    assert!(merged.emergency_open(), "Bảo's flag");
}

/// Issue 16 through a real server: a raw phone's referral that shares the client's
/// information without a consent, or a status the loop does not reach, is refused with the
/// kind `process` and nothing is stored; the same referral under a consent, and its next
/// step, are admitted, and the steps reach another device with who made them.
#[test]
fn a_referral_without_consent_or_off_its_loop_is_refused_by_the_server() {
    use fieldcase_core::case::{ConsentInput, ReferralInput, ReferralStatus};
    use fieldcase_core::schema;
    let server = TestServer::start();
    let anna = sign_in(&server, "anna", "Anna's raw phone");
    let id = opened(&server, &anna, "north", "Коваленко Олена");
    let stored = |server: &TestServer| server.db.case_document(&id).unwrap().unwrap();
    let refused = |doc: &mut CaseDoc, why: &str| {
        let before = stored(&server);
        let (message, kind) = refused_as(&server, &anna.token, doc, &id.to_string());
        assert_eq!(kind, Some(RefusalKind::Process), "{message:?}");
        assert!(
            message.as_deref().unwrap_or("").contains(why),
            "{message:?}"
        );
        assert_eq!(stored(&server), before, "nothing stored");
    };
    // A referral written raw, sharing the client's information, with no consent.
    let mut doc = copy_for(&server, &id, &anna);
    {
        let view = doc.clone();
        let mut tx = doc.automerge_mut().transaction();
        let list = schema::get_obj(view.automerge(), &ROOT, "referrals").unwrap();
        let m = tx.insert_object(&list, 0, automerge::ObjType::Map).unwrap();
        tx.put(&m, "id", "raw-referral").unwrap();
        tx.put(&m, "organisation", "Центр правової допомоги")
            .unwrap();
        tx.put(&m, "status", "sent").unwrap();
        tx.put(&m, "shares_information", true).unwrap();
        tx.commit();
    }
    refused(&mut doc, "consent");

    // Under a consent, through the typed edits: admitted.
    let mut doc = copy_for(&server, &id, &anna);
    let consent = doc
        .record_consent(
            &anna.author,
            now_ms(),
            ConsentInput {
                topic: Some("referral".into()),
                granted: Some(true),
                date: Some("2026-11-20".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let referral = doc
        .add_referral(
            &anna.author,
            now_ms(),
            ReferralInput {
                organisation: Some("Центр правової допомоги".into()),
                consent_id: Some(consent),
                ..Default::default()
            },
        )
        .unwrap();
    doc.set_referral_status(
        &anna.author,
        now_ms(),
        &referral,
        ReferralStatus::Unavailable,
        None,
        None,
    )
    .unwrap();
    assert_eq!(push(&server, &anna.token, &mut doc, &id.to_string()), None);

    // An ended loop revived, raw.
    let mut doc = copy_for(&server, &id, &anna);
    {
        let view = doc.clone();
        let mut tx = doc.automerge_mut().transaction();
        let list = schema::get_obj(view.automerge(), &ROOT, "referrals").unwrap();
        let (_, entry) = schema::find_entry(view.automerge(), &list, &referral).unwrap();
        tx.put(&entry, "status", "accepted").unwrap();
        tx.commit();
    }
    refused(&mut doc, "moves forward");

    let file = CaseDoc::load(&stored(&server)).unwrap().read().unwrap();
    assert_eq!(file.referrals.len(), 1);
    let r = &file.referrals[0];
    assert_eq!(r.status, Some(ReferralStatus::Unavailable));
    let steps: Vec<_> = r
        .steps
        .iter()
        .map(|s| {
            (
                s.status,
                s.recorded_by.as_deref() == Some(anna.author.user_id.as_str()),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            (Some(ReferralStatus::Sent), true),
            (Some(ReferralStatus::Unavailable), true)
        ]
    );
}

/// Changes a sender left held back (sent before the change they depend on) do not stay
/// with the case once that sender's write is refused: another user's change that supplies
/// the dependency is stored alone, not refused for the held-back change of someone else.
#[test]
fn changes_held_back_by_a_refused_writer_do_not_ride_on_the_next_write() {
    let server = TestServer::start();
    let anna = sign_in(&server, "anna", "Anna's Samsung");
    let malee = sign_in(&server, "malee", "malee's phone");
    let id = opened(&server, &anna, "north", "Bùi Thị Mai");
    let visit = |note: &str| VisitInput {
        date: Some("2026-11-30".into()),
        kind: Some("home".into()),
        note: Some(note.into()),
        ..Default::default()
    };
    let frame = |m: automerge::sync::Message| sync_frame(&id.to_string(), m.encode());
    let changes = |heads, bytes: Vec<Vec<u8>>| automerge::sync::Message {
        heads,
        need: Vec::new(),
        have: Vec::new(),
        changes: bytes.into(),
        flags: None,
        version: automerge::sync::MessageVersion::V1,
    };

    // The supervisor's visit, not sent yet; Anna's change on top of it.
    let mut malee_doc = copy_for(&server, &id, &malee);
    malee_doc
        .add_visit(&malee.author, now_ms(), visit("Malee đã đến thăm."))
        .unwrap();
    let mut anna_doc = copy_for(&server, &id, &anna);
    anna_doc.merge(&mut malee_doc.clone()).unwrap();
    let on_malee = anna_doc.heads();
    anna_doc
        .add_visit(&anna.author, now_ms(), visit("Anna's visit"))
        .unwrap();
    let held = anna_doc.automerge().get_changes(&on_malee);
    assert_eq!(held.len(), 1);

    // Anna sends her change alone (held back: the supervisor's is missing), then a forged
    // one.
    let mut s = joined(&server, &anna.token);
    s.send(frame(changes(
        anna_doc.heads(),
        vec![held[0].raw_bytes().to_vec()],
    )))
    .unwrap();
    assert!(
        matches!(next(&mut s), Some(Frame::Sync { .. })),
        "held back, not refused"
    );
    let mut forged = copy_for(&server, &id, &anna);
    let stored = forged.heads();
    forged
        .add_visit(&anna.author, now_ms(), visit("forged"))
        .unwrap();
    rewrite_last_visit(&mut forged, "recorded_by", &malee.author.user_id);
    let bytes = forged
        .automerge()
        .get_changes(&stored)
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    s.send(frame(changes(forged.heads(), bytes))).unwrap();
    // (Refused as forged, or as not applicable: under the same number as the held-back
    // change, Automerge takes it for a second change of one number.)
    match next(&mut s) {
        Some(Frame::Error { code, .. }) => assert!(matches!(
            code.as_deref().map(RefusalKind::from_code),
            Some(RefusalKind::Attribution | RefusalKind::Unapplicable)
        )),
        other => panic!("the forged change is refused, got {other:?}"),
    }
    drop(s);

    // The supervisor sends her visit: stored alone, Anna's held-back change not with it.
    assert_eq!(
        push(&server, &malee.token, &mut malee_doc, &id.to_string()),
        None
    );
    let stored = CaseDoc::load(&server.db.case_document(&id).unwrap().unwrap()).unwrap();
    assert_eq!(stored.heads(), malee_doc.heads());
    assert!(stored
        .automerge()
        .get_change_meta_by_hash(&held[0].hash())
        .is_none());
}
