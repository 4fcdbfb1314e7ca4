//! Bad input on the wire: each answered with the documented error and no effect.

use fieldcase_core::sync::protocol::Frame;
use fieldcase_core::CaseId;
use fieldcase_server::Db;
use fieldcase_tests::raw::{joined, next, open};
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
        document_id: CaseId::random().to_string(),
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
            document_id: doc.clone(),
            data: data.clone(),
        };
        s.send(Message::Binary(f.encode().into())).unwrap();
        assert_eq!(
            next(&mut s),
            Some(Frame::DocUnavailable {
                sender_id: "fieldcase-server".into(),
                target_id: "raw".into(),
                document_id: doc
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
        document_id: CaseId::random().to_string(),
        data: vec![0x42, 0x01, 0x02],
    };
    s.send(Message::Binary(f.encode().into())).unwrap();
    assert!(matches!(next(&mut s), Some(Frame::Error { .. })));
}

#[test]
fn an_oversized_message_closes_the_connection() {
    let server = TestServer::start();
    let mut s = joined(&server, &token(&server));
    let huge = vec![0u8; fieldcase_core::sync::protocol::MAX_FRAME + 1024];
    let _ = s.send(Message::Binary(huge.into()));
    assert!(next(&mut s).is_none(), "the server drops the connection");
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
                document_id: victim.clone(),
                data,
            }
            .encode()
        }
    };
    let real = frame_of(message.clone());
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
                tcp.set_read_timeout(Some(std::time::Duration::from_millis(200)))
                    .unwrap();
            }
            s.send(Message::Binary(bytes.into())).unwrap();
            // Whatever comes back is a frame we understand, until the server goes quiet
            // or closes.
            for _ in 0..4 {
                match s.read() {
                    Ok(Message::Binary(b)) => {
                        prop_assert!(Frame::decode(&b).is_ok());
                    }
                    Ok(_) => {}
                    Err(_) => break,
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

/// Pushes `doc` as `document_id` over a raw connection; the server's error (its message
/// and the document it names), if refused.
fn push(
    server: &TestServer,
    token: &str,
    doc: &mut fieldcase_core::CaseDoc,
    document_id: &str,
) -> Option<(String, Option<String>)> {
    let mut s = joined(server, token);
    let mut state = automerge::sync::State::new();
    let sync = |data: Vec<u8>| Frame::Sync {
        sender_id: "raw".into(),
        target_id: String::new(),
        document_id: document_id.to_string(),
        data,
    };
    let first = doc.generate_sync_message(&mut state).unwrap();
    s.send(Message::Binary(sync(first.encode()).encode().into()))
        .unwrap();
    for _ in 0..10 {
        match next(&mut s) {
            Some(Frame::Sync { data, .. }) => {
                doc.receive_sync_message(
                    &mut state,
                    automerge::sync::Message::decode(&data).unwrap(),
                )
                .unwrap();
                match doc.generate_sync_message(&mut state) {
                    Some(m) => s
                        .send(Message::Binary(sync(m.encode()).encode().into()))
                        .unwrap(),
                    None => return None,
                }
            }
            Some(Frame::Error {
                message,
                document_id,
                ..
            }) => return Some((message, document_id)),
            _ => return None,
        }
    }
    None
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
    let refused = push(&server, &anna_token, &mut onto_colleague, &id.to_string()).map(|e| e.0);
    assert!(
        refused
            .as_deref()
            .is_some_and(|m| m.contains("may record only itself")),
        "{refused:?}"
    );
    let mut as_colleague = forge(anna.actor_id().to_hex_string(), &malee_user);
    let refused = push(&server, &anna_token, &mut as_colleague, &id.to_string()).map(|e| e.0);
    assert!(
        refused
            .as_deref()
            .is_some_and(|m| m.contains("another user")),
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
