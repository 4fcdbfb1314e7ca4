//! Bad input on the wire: each answered with the documented error and no effect.

use fieldcase_core::sync::protocol::Frame;
use fieldcase_core::CaseId;
use fieldcase_server::Db;
use fieldcase_tests::raw::{joined, next, open, push};
use fieldcase_tests::TestServer;
use tungstenite::Message;

fn token(server: &TestServer) -> String {
    server.phone("anna").1
}

#[test]
fn a_wrong_token_is_refused_at_the_upgrade() {
    let server = TestServer::start();
    match open(&server, &"f".repeat(64)) {
        Err(tungstenite::Error::Http(r)) => assert_eq!(r.status().as_u16(), 401),
        other => panic!("expected 401, got {other:?}"),
    }
}

#[test]
fn malformed_cbor_and_text_frames_get_an_error_then_close() {
    let server = TestServer::start();
    let t = token(&server);
    for bad in [
        Message::Binary(vec![0xff, 0x00, 0x13].into()),
        Message::Text("{\"type\":\"join\"}".into()),
    ] {
        let mut s = open(&server, &t).unwrap();
        s.send(bad).unwrap();
        assert!(matches!(next(&mut s), Some(Frame::Error { .. })));
        assert!(next(&mut s).is_none(), "then the server closes");
    }
}

#[test]
fn sync_before_join_is_refused() {
    let server = TestServer::start();
    let mut s = open(&server, &token(&server)).unwrap();
    let f = Frame::Request {
        sender_id: "raw".into(),
        target_id: String::new(),
        document_id: CaseId::random().to_string().into(),
        data: vec![0x42, 0x00],
    };
    s.send(Message::Binary(f.encode().into())).unwrap();
    assert!(matches!(next(&mut s), Some(Frame::Error { message, .. }) if message.contains("join")));
}

#[test]
fn unknown_and_malformed_document_ids_are_unavailable() {
    let server = TestServer::start();
    let mut s = joined(&server, &token(&server));
    let empty = automerge::Automerge::new();
    let mut st = automerge::sync::State::new();
    let data = automerge::sync::SyncDoc::generate_sync_message(&empty, &mut st)
        .unwrap()
        .encode();
    for doc in [CaseId::random().to_string(), "not-a-document".to_string()] {
        let f = Frame::Request {
            sender_id: "raw".into(),
            target_id: String::new(),
            document_id: doc.clone().into(),
            data: data.clone(),
        };
        s.send(Message::Binary(f.encode().into())).unwrap();
        assert_eq!(
            next(&mut s),
            Some(Frame::DocUnavailable {
                sender_id: "fieldcase-server".into(),
                target_id: "raw".into(),
                document_id: doc.into()
            })
        );
    }
    assert!(server.db.cases().unwrap().is_empty());
}

#[test]
fn a_truncated_sync_message_is_an_error() {
    let server = TestServer::start();
    let mut s = joined(&server, &token(&server));
    let f = Frame::Sync {
        sender_id: "raw".into(),
        target_id: String::new(),
        document_id: CaseId::random().to_string().into(),
        data: vec![0x42, 0x01, 0x02],
    };
    s.send(Message::Binary(f.encode().into())).unwrap();
    assert!(matches!(next(&mut s), Some(Frame::Error { .. })));
}

/// A message over the limit is refused from its header, before its payload is read: the
/// client gets our error frame and a close frame with code 1009 (message too big) and the
/// same reason; the server serves others as before.
#[test]
fn an_oversized_message_is_refused_clearly_from_its_header() {
    use std::io::Write;
    use tungstenite::protocol::frame::coding::CloseCode;

    let server = TestServer::start();
    let mut s = joined(&server, &token(&server));
    // A masked binary frame whose header announces MAX_FRAME + 1 bytes; only its first
    // bytes follow (a real client would still be sending the rest).
    let size = (fieldcase_core::sync::protocol::MAX_FRAME + 1) as u64;
    let mut raw = vec![0x82, 0x80 | 127];
    raw.extend_from_slice(&size.to_be_bytes());
    raw.extend_from_slice(&[0x11, 0x22, 0x33, 0x44]);
    raw.extend_from_slice(&[0u8; 1024]);
    match s.get_mut() {
        tungstenite::stream::MaybeTlsStream::Plain(tcp) => tcp.write_all(&raw).unwrap(),
        _ => unreachable!("the test server is plain HTTP"),
    }
    let mut error = None;
    let close = loop {
        match s.read() {
            Ok(Message::Binary(b)) => error = Some(Frame::decode(&b).expect("a frame")),
            Ok(Message::Close(c)) => break c,
            Ok(_) => continue,
            Err(e) => panic!("expected an error frame and a close, got {e:?}"),
        }
    };
    match error {
        Some(Frame::Error { message, .. }) => {
            assert_eq!(message, fieldcase_server::sync::OVERSIZED)
        }
        other => panic!("expected our error frame, got {other:?}"),
    }
    let close = close.expect("a close frame with a code");
    assert_eq!(close.code, CloseCode::Size);
    assert_eq!(close.reason.as_str(), fieldcase_server::sync::OVERSIZED);
    let metrics = server.metrics();
    assert!(
        metrics.contains("fieldcase_sync_frames_oversized_total 1"),
        "{metrics}"
    );
    // And it still serves others.
    let _s2 = joined(&server, &token(&server));
}

/// A document pushed under one id whose content names another case (here another team's)
/// is refused: it must not overwrite that case, nor be stored anywhere.
#[test]
fn a_document_whose_inner_id_differs_from_its_document_id_is_refused() {
    use fieldcase_core::{Author, CaseDoc, NewCase, Role};

    let server = TestServer::start();
    let (sam, sam_token, _s) = server.phone("sam");
    let mut n = NewCase {
        team: "south".into(),
        ..Default::default()
    };
    n.client.name = Some("Смирнов Игорь".into());
    let victim = sam.create_case(n).unwrap();
    sam.sync(&server.url, &sam_token).unwrap();
    let before = server.db.case_document(&victim).unwrap().unwrap();

    // Anna, of another team, builds a valid case whose inner id is Sam's case, written with
    // her registered actor, and pushes it under a fresh document id.
    let (anna, anna_token, _a) = server.phone("anna");
    let me = anna.user().unwrap();
    let author = Author::new(&me.user_id, "anna", Role::Worker, &me.device_id);
    let mut n = NewCase {
        team: "north".into(),
        ..Default::default()
    };
    n.client.name = Some("overwrite".into());
    let mut forged =
        CaseDoc::create(victim, anna.actor_id(), &author, n, 1_795_000_000_000).unwrap();
    let pushed_as = CaseId::random().to_string();

    let refused = push(&server, &anna_token, &mut forged, &pushed_as);
    assert_eq!(
        refused.map(|(_, about)| about),
        Some(Some(pushed_as.clone())),
        "the server must refuse the mismatched document, naming it"
    );
    let (refused, kind) = refused_as(&server, &anna_token, &mut forged, &pushed_as);
    assert_eq!(
        kind,
        Some(fieldcase_core::RefusalKind::WrongCase),
        "{refused:?}"
    );
    assert_eq!(
        server.db.case_document(&victim).unwrap().unwrap(),
        before,
        "the other team's case is untouched"
    );
    assert!(
        server
            .db
            .case_document(&pushed_as.parse().unwrap())
            .unwrap()
            .is_none(),
        "nothing stored"
    );
}

/// Arbitrary and mutated frames from a signed-in client, on live connections: the server
/// never panics or hangs, answers each with an error, a sync message or silence, keeps
/// the case as it was, and lets go of every connection.
#[test]
fn fuzzed_frames_leave_the_server_up_and_the_case_untouched() {
    use automerge::sync::{State as SyncState, SyncDoc};
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    let server = TestServer::start();
    let (anna, anna_token, _a) = server.phone("anna");
    let mut new = fieldcase_core::NewCase {
        team: "north".into(),
        ..Default::default()
    };
    new.client.name = Some("Trần Văn Minh".into());
    let victim = anna.create_case(new).unwrap();
    anna.sync(&server.url, &anna_token).unwrap();
    let before = server.db.case_document(&victim).unwrap().unwrap();
    // A real sync message for the case, and its frame, to mutate.
    let message = {
        let doc = fieldcase_core::CaseDoc::load(&before).unwrap();
        doc.automerge()
            .clone()
            .generate_sync_message(&mut SyncState::new())
            .unwrap()
            .encode()
    };
    let frame_of = {
        let victim = victim.to_string();
        move |data: Vec<u8>| {
            Frame::Sync {
                sender_id: "raw".into(),
                target_id: String::new(),
                document_id: victim.clone().into(),
                data,
            }
            .encode()
        }
    };
    let real = frame_of(message.clone());
    let empty_request = automerge::Automerge::new()
        .generate_sync_message(&mut SyncState::new())
        .unwrap()
        .encode();
    let frames = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..2048),
        (
            proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..10),
            any::<prop::sample::Index>()
        )
            .prop_map(move |(flips, cut)| {
                let mut b = real.clone();
                for (at, v) in flips {
                    let i = at.index(b.len());
                    b[i] ^= v | 1;
                }
                let keep = cut.index(b.len() + 1).max(b.len() / 2);
                b.truncate(keep);
                b
            }),
        // A well-formed frame whose sync message is mutated: the server decodes it and
        // must refuse it as a message.
        proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6).prop_map(
            move |flips| {
                let mut m = message.clone();
                for (at, v) in flips {
                    let i = at.index(m.len());
                    m[i] ^= v | 1;
                }
                frame_of(m)
            }
        ),
    ];
    let mut runner = TestRunner::new(Config {
        cases: 120,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&frames, |bytes| {
            let mut s = joined(&server, &anna_token);
            if let tungstenite::stream::MaybeTlsStream::Plain(tcp) = s.get_ref() {
                // Only a guard against a hang: the probe below is always answered.
                tcp.set_read_timeout(Some(std::time::Duration::from_secs(30)))
                    .unwrap();
            }
            s.send(Message::Binary(bytes.into())).unwrap();
            // Then a probe: a request for a case that does not exist, which the server
            // answers `doc-unavailable` in turn. Every frame before that answer is one we
            // understand; or the server closed the connection (after an error frame).
            let probe = CaseId::random();
            let _ = s.send(Message::Binary(
                Frame::Request {
                    sender_id: "raw".into(),
                    target_id: String::new(),
                    document_id: probe.into(),
                    data: empty_request.clone(),
                }
                .encode()
                .into(),
            ));
            loop {
                match s.read() {
                    Ok(Message::Binary(b)) => {
                        let frame = Frame::decode(&b);
                        prop_assert!(frame.is_ok());
                        if matches!(&frame, Ok(Frame::DocUnavailable { document_id, .. }) if document_id.case() == Some(probe)) {
                            break;
                        }
                    }
                    Ok(Message::Close(_)) => break,
                    Ok(_) => {}
                    Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => break,
                    Err(tungstenite::Error::Io(e))
                        if e.kind() != std::io::ErrorKind::WouldBlock
                            && e.kind() != std::io::ErrorKind::TimedOut =>
                    {
                        break
                    }
                    Err(tungstenite::Error::Protocol(_)) => break,
                    Err(e) => prop_assert!(false, "the server went silent: {e}"),
                }
            }
            Ok(())
        })
        .unwrap();
    // Up, the case untouched, no connection left behind.
    let (status, _) = server.rest("GET", "/healthz", None, None);
    assert_eq!(status, 200);
    assert_eq!(server.db.case_document(&victim).unwrap().unwrap(), before);
    let open = &server.state.metrics.sync_connections_open;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while open.load(std::sync::atomic::Ordering::Relaxed) > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "connections left open"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(anna
        .sync(&server.url, &anna_token)
        .unwrap()
        .errors
        .is_empty());
}

#[test]
fn changes_that_misattribute_their_author_are_refused() {
    use automerge::transaction::Transactable;
    use automerge::{ObjType, ReadDoc, ROOT};
    use fieldcase_core::{CaseDoc, NewCase};
    use serde_json::json;

    let server = TestServer::start();
    let (anna, anna_token, _a) = server.phone("anna");
    let mut n = NewCase {
        team: "north".into(),
        ..Default::default()
    };
    n.client.name = Some("Phạm Thị Lan".into());
    let id = anna.create_case(n).unwrap();
    anna.sync(&server.url, &anna_token).unwrap();
    // The supervisor edits it: her actor is recorded in the case.
    let (malee, malee_token, _m) = server.phone("malee");
    malee.sync(&server.url, &malee_token).unwrap();
    malee
        .update(&id, |c, a, now| {
            c.set_field(a, now, "priority", &json!("high"))
        })
        .unwrap();
    malee.sync(&server.url, &malee_token).unwrap();
    let malee_user = server.db.user_by_username("malee").unwrap().unwrap().id;
    let before = server.db.case_document(&id).unwrap().unwrap();

    // Anna's registered actor writes (1) an entry under Malee's actor, (2) her own entry
    // naming Malee as its user: each with a real note, so the push has content.
    let forge = |key: String, user: &str| {
        let mut doc = CaseDoc::load(&before).unwrap();
        doc.set_actor(anna.actor_id());
        let am = doc.automerge_mut();
        let mut tx = am.transaction();
        let actors = tx.get(ROOT, "actors").unwrap().unwrap().1;
        let entry = tx.put_object(&actors, &key, ObjType::Map).unwrap();
        tx.put(&entry, "user_id", user).unwrap();
        tx.put(&entry, "device_id", "d-0").unwrap();
        tx.put(&entry, "name", "malee").unwrap();
        let client = tx.get(ROOT, "client").unwrap().unwrap().1;
        tx.put(&client, "address", "written in someone else's name")
            .unwrap();
        tx.commit();
        doc
    };
    let mut onto_colleague = forge(malee.actor_id().to_hex_string(), &malee_user);
    let (refused, kind) = refused_as(&server, &anna_token, &mut onto_colleague, &id.to_string());
    assert!(
        refused
            .as_deref()
            .is_some_and(|m| m.contains("may record only itself")),
        "{refused:?}"
    );
    assert_eq!(
        kind,
        Some(fieldcase_core::RefusalKind::ForeignActor),
        "{refused:?}"
    );
    let mut as_colleague = forge(anna.actor_id().to_hex_string(), &malee_user);
    let (refused, kind) = refused_as(&server, &anna_token, &mut as_colleague, &id.to_string());
    assert!(
        refused
            .as_deref()
            .is_some_and(|m| m.contains("another user")),
        "{refused:?}"
    );
    assert_eq!(
        kind,
        Some(fieldcase_core::RefusalKind::Attribution),
        "{refused:?}"
    );
    assert_eq!(
        server.db.case_document(&id).unwrap().unwrap(),
        before,
        "nothing stored"
    );
    // An honest edit through the same path is taken (the refusals were about authorship).
    let mut honest = CaseDoc::load(&before).unwrap();
    honest.set_actor(anna.actor_id());
    let me = anna.user().unwrap();
    let author = fieldcase_core::Author::new(
        &me.user_id,
        "anna",
        fieldcase_core::Role::Worker,
        &me.device_id,
    );
    honest
        .set_field(&author, 1_795_000_000_000, "client/address", &json!("Huế"))
        .unwrap();
    assert_eq!(
        push(&server, &anna_token, &mut honest, &id.to_string()),
        None
    );
    assert_ne!(server.db.case_document(&id).unwrap().unwrap(), before);
}

/// A signed-in phone pushes a change written under an actor that the server registered,
/// but to another device (here the supervisor's phone, whose changes carry authority):
/// refused as unregistered to the sender, and the server's copy is unchanged.
#[test]
fn a_change_under_another_devices_registered_actor_is_refused() {
    use fieldcase_core::{Author, CaseDoc, Role};
    use serde_json::json;

    let server = TestServer::start();
    let (anna, anna_token, _a) = server.phone("anna");
    let id = synced_case(&server, &anna, &anna_token, "north", "Ngô Văn Tài");
    // Malee's phone logs in: its actor is registered, to her device.
    let (malee, _malee_token, _m) = server.phone("malee");
    let before = server.db.case_document(&id).unwrap().unwrap();

    let malee_user = malee.user().unwrap();
    let as_malee = Author::new(
        &malee_user.user_id,
        "malee",
        Role::Supervisor,
        &malee_user.device_id,
    );
    let mut forged = CaseDoc::load(&before).unwrap();
    forged.set_actor(malee.actor_id());
    forged
        .set_field(&as_malee, 1_795_000_000_000, "priority", &json!("high"))
        .unwrap();
    let refused = push(&server, &anna_token, &mut forged, &id.to_string());
    assert!(
        refused
            .as_ref()
            .is_some_and(|(m, about)| m.contains("not registered to this device")
                && about.as_deref() == Some(id.to_string().as_str())),
        "{refused:?}"
    );
    let (refused, kind) = refused_as(&server, &anna_token, &mut forged, &id.to_string());
    assert_eq!(
        kind,
        Some(fieldcase_core::RefusalKind::ForeignActor),
        "{refused:?}"
    );
    assert_eq!(
        server.db.case_document(&id).unwrap().unwrap(),
        before,
        "nothing stored"
    );
}

/// Changes that leave the document outside the schema, pushed over sync by a registered
/// actor: refused with the path and reason, nothing stored.
#[test]
fn changes_that_break_the_schema_are_refused_over_sync() {
    use automerge::transaction::Transactable;
    use automerge::{ReadDoc, ROOT};
    use fieldcase_core::CaseDoc;

    let server = TestServer::start();
    let (anna, anna_token, _a) = server.phone("anna");
    let id = synced_case(&server, &anna, &anna_token, "north", "Шевченко Оксана");
    let before = server.db.case_document(&id).unwrap().unwrap();

    type Breakage = fn(&mut automerge::transaction::Transaction<'_>);
    let breakages: [(&str, Breakage); 3] = [
        ("priority", |tx| {
            tx.put(ROOT, "priority", "whenever").unwrap();
        }),
        ("client/name", |tx| {
            let client = tx.get(ROOT, "client").unwrap().unwrap().1;
            tx.put(&client, "name", 42_i64).unwrap();
        }),
        ("nonsense", |tx| {
            tx.put(ROOT, "nonsense", "a key the schema does not know")
                .unwrap();
        }),
    ];
    for (path, break_it) in breakages {
        let mut doc = CaseDoc::load(&before).unwrap();
        doc.set_actor(anna.actor_id());
        let mut tx = doc.automerge_mut().transaction();
        break_it(&mut tx);
        tx.commit();
        let (refused, kind) = refused_as(&server, &anna_token, &mut doc, &id.to_string());
        assert!(
            refused
                .as_deref()
                .is_some_and(|m| m.contains("invalid input at") && m.contains(path)),
            "{path}: {refused:?}"
        );
        assert_eq!(
            kind,
            Some(fieldcase_core::RefusalKind::InvalidDocument),
            "{refused:?}"
        );
        assert_eq!(
            server.db.case_document(&id).unwrap().unwrap(),
            before,
            "{path}: nothing stored"
        );
    }
}

/// Another team's existing case: a worker who pushes changes to it is answered exactly as
/// for a case that does not exist (the same refusal of the same changes), and the case is
/// unchanged.
#[test]
fn changes_pushed_to_another_teams_case_are_answered_as_for_a_missing_case_and_not_stored() {
    use fieldcase_core::{Author, CaseDoc, Role};
    use serde_json::json;

    let server = TestServer::start();
    let (sam, sam_token, _s) = server.phone("sam");
    let victim = synced_case(&server, &sam, &sam_token, "south", "Кузнецова Мария");
    let before = server.db.case_document(&victim).unwrap().unwrap();

    let (anna, anna_token, _a) = server.phone("anna");
    let me = anna.user().unwrap();
    let author = Author::new(&me.user_id, "anna", Role::Worker, &me.device_id);
    let mut doc = CaseDoc::load(&before).unwrap();
    doc.set_actor(anna.actor_id());
    doc.set_field(
        &author,
        1_795_000_000_000,
        "client/address",
        &json!("Đà Nẵng"),
    )
    .unwrap();
    let missing = CaseId::random();
    let hidden = push(&server, &anna_token, &mut doc.clone(), &victim.to_string());
    let absent = push(&server, &anna_token, &mut doc, &missing.to_string());
    assert!(hidden.is_some(), "refused");
    assert_eq!(
        hidden.map(|e| e.0),
        absent.map(|e| e.0),
        "answered as for a case that does not exist"
    );
    assert_eq!(
        server.db.case_document(&victim).unwrap().unwrap(),
        before,
        "the other team's case is unchanged"
    );
    assert!(server.db.case_document(&missing).unwrap().is_none());
}

/// A case first made on a phone is accepted only from a worker of its team who is
/// assigned to it; otherwise refused, and nothing is stored.
#[test]
fn a_new_case_for_another_team_or_not_assigned_to_its_sender_is_refused() {
    use automerge::transaction::Transactable;
    use automerge::{ReadDoc, ROOT};
    use fieldcase_core::{Author, CaseDoc, NewCase, Role};

    let server = TestServer::start();
    let (anna, anna_token, _a) = server.phone("anna");
    let me = anna.user().unwrap();
    let author = Author::new(&me.user_id, "anna", Role::Worker, &me.device_id);
    let bao = server.db.user_by_username("bao").unwrap().unwrap().id;

    let new = |team: &str, manager: Option<String>| {
        let mut n = NewCase {
            team: team.into(),
            case_manager: manager,
            ..Default::default()
        };
        n.client.name = Some("Bùi Thị Mai".into());
        let id = CaseId::random();
        let doc = CaseDoc::create(id, anna.actor_id(), &author, n, 1_795_000_000_000).unwrap();
        (id, doc)
    };

    // For the south team.
    let (id, mut doc) = new("south", None);
    let (refused, kind) = refused_as(&server, &anna_token, &mut doc, &id.to_string());
    assert!(
        refused
            .as_deref()
            .is_some_and(|m| m.contains("must belong to the sender's team")),
        "{refused:?}"
    );
    assert_eq!(kind, Some(fieldcase_core::RefusalKind::Team), "{refused:?}");
    assert!(server.db.case_document(&id).unwrap().is_none());

    // For her team, but assigned to Bảo alone (Anna removed herself).
    let (id, mut doc) = new("north", Some(bao.clone()));
    {
        let mut tx = doc.automerge_mut().transaction();
        let assigned = tx.get(ROOT, "assigned").unwrap().unwrap().1;
        let anna_at = (0..tx.length(&assigned))
            .find(|i| {
                tx.get(&assigned, *i)
                    .unwrap()
                    .and_then(|(v, _)| v.into_scalar().ok())
                    .and_then(|s| s.into_string().ok())
                    .as_deref()
                    == Some(me.user_id.as_str())
            })
            .expect("the creating worker is assigned");
        tx.delete(&assigned, anna_at).unwrap();
        tx.commit();
    }
    let (refused, kind) = refused_as(&server, &anna_token, &mut doc, &id.to_string());
    assert!(
        refused
            .as_deref()
            .is_some_and(|m| m.contains("must be assigned to the worker who opens it")),
        "{refused:?}"
    );
    assert_eq!(
        kind,
        Some(fieldcase_core::RefusalKind::Assignment),
        "{refused:?}"
    );
    assert!(server.db.case_document(&id).unwrap().is_none());

    // The same case with Anna assigned is taken: the refusals were about ownership.
    let (id, mut doc) = new("north", Some(bao));
    assert_eq!(push(&server, &anna_token, &mut doc, &id.to_string()), None);
    assert!(server.db.case_document(&id).unwrap().is_some());
}

/// A case of `team` made on `phone` and synced: its id.
fn synced_case(
    server: &TestServer,
    phone: &fieldcase_core::CaseStore,
    token: &str,
    team: &str,
    name: &str,
) -> CaseId {
    let mut n = fieldcase_core::NewCase {
        team: team.into(),
        ..Default::default()
    };
    n.client.name = Some(name.into());
    let id = phone.create_case(n).unwrap();
    phone.sync(&server.url, token).unwrap();
    id
}

/// Pushes `doc`: the refusal's message and kind (the error frame's `code`), if refused.
fn refused_as(
    server: &TestServer,
    token: &str,
    doc: &mut fieldcase_core::CaseDoc,
    document_id: &str,
) -> (Option<String>, Option<fieldcase_core::RefusalKind>) {
    match fieldcase_tests::raw::push_refused(server, token, doc, document_id) {
        Some((message, kind)) => (Some(message), kind),
        None => (None, None),
    }
}
