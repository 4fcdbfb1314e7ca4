//! Cases in memory are a bounded cache (issue 20, `fieldcase_server::hub`): with no sync
//! connection live, at most `cases.max_cached` idle cases stay in memory; a case dropped
//! from memory comes back from storage whole; a case a live connection syncs stays in
//! memory, and that connection still hears of its changes; the metrics count it.

use std::time::{Duration, Instant};

use fieldcase_core::sync::protocol::Frame;
use fieldcase_core::{CaseDoc, CaseId};
use fieldcase_server::{Config, Db};
use fieldcase_tests::raw::{case_doc, exchange_on, joined, next, sign_in, sync_frame};
use fieldcase_tests::{new_case, visit, TestServer};

/// A counter or gauge of `/metrics`.
fn metric(server: &TestServer, name: &str) -> u64 {
    let text = server.metrics();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("{name} in /metrics"))
        .trim()
        .parse()
        .expect("a number")
}

/// Waits (at most 20 s) until no sync connection is open and no case is in use: every
/// connection has left, and what remains in memory are idle cases.
fn settled(server: &TestServer) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let open = server
            .state
            .metrics
            .sync_connections_open
            .load(std::sync::atomic::Ordering::Relaxed);
        if open == 0 && server.state.hub.cases_in_use() == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "connections still open ({open}) or cases in use ({})",
            server.state.hub.cases_in_use()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn bounded(server: &TestServer, max: usize) {
    settled(server);
    let n = server.state.hub.cases_in_memory();
    assert!(n <= max, "{n} cases in memory, over the bound of {max}");
    assert_eq!(
        metric(server, "fieldcase_cases_in_memory"),
        n as u64,
        "the gauge says what is in memory"
    );
}

#[test]
fn idle_cases_stay_within_the_bound_and_evicted_cases_come_back_whole() {
    let server = TestServer::start_with(Config {
        max_cached_cases: 5,
        ..Config::default()
    });
    let (phone, token, _dir) = server.phone("anna");
    let names = [
        "สมศรี ใจดี",
        "زهرا احمدی",
        "Фёдорова Анна",
        "Олександр Коваленко",
        "Nguyễn Thị Lan",
    ];
    let ids: Vec<CaseId> = (0..50)
        .map(|i| new_case(&phone, &format!("{} {i}", names[i % names.len()])))
        .collect();
    server.synced(&phone, &token);
    bounded(&server, 5);
    let evicted = metric(&server, "fieldcase_case_evictions_total");
    assert!(
        evicted >= 45,
        "50 cases written, 5 kept: {evicted} evictions"
    );
    assert!(metric(&server, "fieldcase_cases_in_memory_bytes") > 0);

    // Every case is edited on the phone, and ten of them by the supervisor on the server
    // (an assignment, through the hub's own edit): most were dropped from memory, so both
    // writes start from a case loaded again from storage.
    for (i, id) in ids.iter().enumerate() {
        visit(
            &phone,
            id,
            &format!("Thăm hộ gia đình {i}: trẻ em cần hỗ trợ học tập."),
        );
    }
    let loads_before = metric(&server, "fieldcase_case_loads_total");
    let (_malee, malee_token, _m) = server.phone("malee");
    for id in &ids[..10] {
        let (status, answer) = server.rest(
            "POST",
            &format!("/v1/cases/{id}/assignment"),
            Some(&malee_token),
            Some(serde_json::json!({"workers": ["anna", "bao"]})),
        );
        assert_eq!(status, 200, "{answer}");
    }
    bounded(&server, 5);
    server.synced(&phone, &token);
    // Both sides' changes met: the phone's once more, to take the server's last answer.
    server.synced(&phone, &token);
    bounded(&server, 5);
    assert!(
        metric(&server, "fieldcase_case_loads_total") >= loads_before + 45,
        "evicted cases are loaded from storage again"
    );

    // Nothing lost: the server's stored case and the phone's are the same, and hold both
    // the visit and (for ten of them) the assignment.
    for (i, id) in ids.iter().enumerate() {
        let stored = CaseDoc::load(&server.db.case_document(id).unwrap().unwrap()).unwrap();
        assert_eq!(
            stored.heads(),
            phone.heads(id).unwrap(),
            "case {i}: same heads"
        );
        let file = stored.read().unwrap();
        assert_eq!(file.visits.len(), 1, "case {i}: the phone's visit");
        assert_eq!(
            file.assigned.len(),
            if i < 10 { 2 } else { 1 },
            "case {i}: the supervisor's assignment"
        );
        assert_eq!(
            phone.get_case(id).unwrap(),
            file,
            "case {i}: same on the phone"
        );
    }
    let evictions = metric(&server, "fieldcase_case_evictions_total");
    assert!(evictions > evicted, "the second round evicted too");
}

#[test]
fn a_case_a_live_connection_syncs_is_not_evicted_and_its_changes_still_reach_it() {
    let server = TestServer::start_with(Config {
        max_cached_cases: 2,
        ..Config::default()
    });
    let anna = sign_in(&server, "anna", "anna's raw phone");
    let new_doc = |name: &str| {
        let id = CaseId::random();
        (id, case_doc(&anna, id, name))
    };
    // A live connection syncs one case, and stays open.
    let mut live = joined(&server, &anna.token);
    if let tungstenite::stream::MaybeTlsStream::Plain(t) = live.get_ref() {
        t.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    }
    let (kept, mut kept_doc) = new_doc("Олександр Коваленко");
    assert!(exchange_on(&mut live, &mut kept_doc, &kept.to_string()).is_none());
    // Twenty more cases through other connections, each closed after its exchange.
    for i in 0..20 {
        let (id, mut doc) = new_doc(&format!("Nguyễn Văn {i}"));
        let mut s = joined(&server, &anna.token);
        assert!(exchange_on(&mut s, &mut doc, &id.to_string()).is_none());
        drop(s);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.state.hub.cases_in_memory() > 3 {
        assert!(Instant::now() < deadline, "the closed connections left");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        server.state.hub.in_memory(&kept),
        "the live connection's case stays"
    );
    assert!(metric(&server, "fieldcase_case_evictions_total") >= 18);

    // Its changes reach the live connection: the supervisor assigns Bảo, and the server
    // tells the connection, from the same document in memory.
    let (_malee, malee_token, _m) = server.phone("malee");
    let (status, answer) = server.rest(
        "POST",
        &format!("/v1/cases/{kept}/assignment"),
        Some(&malee_token),
        Some(serde_json::json!({"workers": ["anna", "bao"]})),
    );
    assert_eq!(status, 200, "{answer}");
    match next(&mut live) {
        Some(Frame::Sync {
            document_id, data, ..
        }) => {
            assert_eq!(document_id.to_string(), kept.to_string());
            let m = automerge::sync::Message::decode(&data).unwrap();
            assert!(!m.changes.is_empty(), "the assignment is sent");
        }
        other => panic!("expected the assignment, got {other:?}"),
    }
    assert!(server.state.hub.in_memory(&kept));
    // Once the connection is gone, the case is idle like any other, within the bound.
    drop(live);
    bounded(&server, 2);
}

/// A case dropped from memory leaves its outline (`cases.max_outlines`): loaded again with
/// the heads the outline is of, its next write reads the case before from it; one another
/// writer changed on the storage meanwhile is read from its document, and what the lists
/// show of it is the other writer's change with this one's.
#[test]
fn a_case_dropped_from_memory_leaves_its_outline_and_a_stale_one_is_never_read() {
    use fieldcase_core::case::ClientInput;
    use fieldcase_server::db::CaseWrite;

    let server = TestServer::start_with(Config {
        max_cached_cases: 2,
        max_kept_outlines: 10,
        ..Config::default()
    });
    let (phone, token, _dir) = server.phone("anna");
    let ids: Vec<CaseId> = (0..12)
        .map(|i| new_case(&phone, &format!("Nguyễn Văn {i}")))
        .collect();
    server.synced(&phone, &token);
    bounded(&server, 2);
    assert_eq!(
        metric(&server, "fieldcase_case_outlines_kept"),
        10,
        "twelve cases written, two kept in memory: the outlines of ten dropped, at most ten"
    );
    assert_eq!(metric(&server, "fieldcase_case_outline_hits_total"), 0);

    // Another writer on the storage (under the hub, as the admin CLI or another instance)
    // renames the client of a dropped case: the outline kept of it is of the heads before.
    let other = ids
        .iter()
        .copied()
        .find(|id| !server.state.hub.in_memory(id))
        .expect("a dropped case");
    let stored = server.db.case_document(&other).unwrap().unwrap();
    let mut doc = CaseDoc::load(&stored).unwrap();
    let before = doc.heads();
    doc.set_actor(automerge::ActorId::random());
    let elsewhere = fieldcase_core::Author::new(
        "u-anna",
        "Anna",
        fieldcase_core::Role::Worker,
        "d-elsewhere",
    );
    doc.update_client(
        &elsewhere,
        fieldcase_server::now_ms(),
        ClientInput {
            name: Some("Trần Thị Hoa".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let access = server.db.case_access(&other).unwrap().unwrap();
    server
        .db
        .store_case(
            &access,
            CaseWrite::Changes(&doc.automerge().save_after(&before)),
            &doc.heads(),
            Some(&before),
            fieldcase_server::now_ms(),
        )
        .unwrap();

    // Every case gets a visit on the phone: the ten dropped are loaded again, nine with
    // their outline as it was kept.
    for (i, id) in ids.iter().enumerate() {
        visit(&phone, id, &format!("Thăm hộ gia đình {i}"));
    }
    server.synced(&phone, &token);
    bounded(&server, 2);
    // (Whether the other writer's case was read from its outline is what the names
    // below tell: this counts only that kept outlines were read.)
    let hits = metric(&server, "fieldcase_case_outline_hits_total");
    assert!(
        (9..=11).contains(&hits),
        "the dropped cases loaded with their kept outline: {hits}"
    );
    assert!(metric(&server, "fieldcase_case_outlines_kept") <= 10);

    // What the lists show follows each case's document: the other writer's name with the
    // phone's visit; the others their own name.
    let listed = server.db.list_facts(&ids).unwrap();
    for l in listed {
        let i = ids.iter().position(|id| *id == l.id).unwrap();
        let summary = l
            .facts
            .expect("facts kept")
            .summary
            .summary(l.id.to_string(), "north", &[], false, 0)
            .expect("this version's summary");
        let name = if l.id == other {
            "Trần Thị Hoa".to_string()
        } else {
            format!("Nguyễn Văn {i}")
        };
        assert_eq!(summary.client_name, name, "case {i}");
        let file = CaseDoc::load(&server.db.case_document(&l.id).unwrap().unwrap())
            .unwrap()
            .read()
            .unwrap();
        assert_eq!(
            (file.client.name.as_deref(), file.visits.len()),
            (Some(name.as_str()), 1)
        );
    }

    // An erased case leaves nothing of it in memory: its kept outline goes with it.
    let erased = ids
        .iter()
        .copied()
        .find(|id| !server.state.hub.in_memory(id) && *id != other)
        .expect("a dropped case");
    let (kept, bytes) = (
        metric(&server, "fieldcase_case_outlines_kept"),
        metric(&server, "fieldcase_case_outlines_bytes"),
    );
    assert!(
        kept > 0 && bytes >= 3 * 1024 * kept,
        "{kept} outlines, {bytes} bytes"
    );
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(fieldcase_server::admin::erase_in_server(
            &server.state,
            erased,
            "u-admin",
            "asked by the client",
        ))
        .unwrap();
    assert_eq!(metric(&server, "fieldcase_case_outlines_kept"), kept - 1);
    assert!(metric(&server, "fieldcase_case_outlines_bytes") < bytes);
}

/// A phone pushing a new case sends its heads alone first (answered as for an unknown
/// id), then its changes, which the server does not look up in storage again: unless the
/// case was made meanwhile. Here another device makes it between the two messages and the
/// hub drops it from memory (`cases.max_cached` 0): the first phone's changes find it at
/// their store, nothing of the other device's case is lost, and the first phone's are
/// checked on it as on any case that exists.
#[test]
fn a_case_made_elsewhere_between_a_pushs_two_messages_is_kept() {
    let server = TestServer::start_with(Config {
        max_cached_cases: 0,
        ..Config::default()
    });
    let first = sign_in(&server, "anna", "anna's first phone");
    let second = sign_in(&server, "anna", "anna's second phone");
    let id = CaseId::random();
    let mut mine = case_doc(&first, id, "Олександр Коваленко");
    let mut theirs = case_doc(&second, id, "Nguyễn Thị Lan");
    let sync = |data: Vec<u8>| sync_frame(&id.to_string(), data);

    // The first phone's heads alone: the server knows no such case.
    let mut s = joined(&server, &first.token);
    let mut state = automerge::sync::State::new();
    let hello = mine.generate_sync_message(&mut state).unwrap();
    assert!(
        hello.changes.is_empty(),
        "a first message carries heads only"
    );
    s.send(sync(hello.encode())).unwrap();
    let Some(Frame::Sync { data, .. }) = next(&mut s) else {
        panic!("the server answers as for an unknown case");
    };
    mine.receive_sync_message(&mut state, automerge::sync::Message::decode(&data).unwrap())
        .unwrap();

    // Meanwhile the second phone makes the case; it leaves memory once that one is gone.
    assert!(exchange_on(
        &mut joined(&server, &second.token),
        &mut theirs,
        &id.to_string()
    )
    .is_none());
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.state.hub.in_memory(&id) {
        assert!(Instant::now() < deadline, "the case left memory");
        std::thread::sleep(Duration::from_millis(20));
    }
    let stored = server
        .db
        .case_heads(&id)
        .unwrap()
        .expect("the second phone's case");
    assert_eq!(stored, theirs.heads());

    // The first phone's changes, not looked up in storage (the connection found no case
    // just before): checked on the case as it is (the same answer the server gives a
    // second creation of a case it holds), and the second phone's case whole.
    let spared = metric(&server, "fieldcase_case_lookups_spared_total");
    let push = mine.generate_sync_message(&mut state).unwrap();
    assert!(!push.changes.is_empty());
    s.send(sync(push.encode())).unwrap();
    let answer = next(&mut s).expect("an answer");
    assert_eq!(
        metric(&server, "fieldcase_case_lookups_spared_total"),
        spared + 1,
        "the changes started from an empty document"
    );
    let stored = CaseDoc::load(&server.db.case_document(&id).unwrap().unwrap()).unwrap();
    for h in theirs.heads() {
        assert!(
            stored.automerge().get_change_meta_by_hash(&h).is_some(),
            "the second phone's case is kept (answer {answer:?})"
        );
    }
    let file = stored.read().unwrap();
    match answer {
        Frame::Error { .. } => {
            assert_eq!(stored.heads(), theirs.heads(), "a refusal stores nothing");
            assert_eq!(file.client.name.as_deref(), Some("Nguyễn Thị Lan"));
        }
        Frame::Sync { .. } => {
            for h in mine.heads() {
                assert!(
                    stored.automerge().get_change_meta_by_hash(&h).is_some(),
                    "both kept"
                );
            }
        }
        other => panic!("unexpected {other:?}"),
    }
}
