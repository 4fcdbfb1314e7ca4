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
    use automerge::sync::State;
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

    let mut s = joined(&server, &anna_token);
    let mut state = State::new();
    let first = forged.generate_sync_message(&mut state).unwrap();
    let sync = |data: Vec<u8>| Frame::Sync {
        sender_id: "raw".into(),
        target_id: String::new(),
        document_id: pushed_as.clone(),
        data,
    };
    s.send(Message::Binary(sync(first.encode()).encode().into()))
        .unwrap();
    let mut refused = false;
    for _ in 0..10 {
        match next(&mut s) {
            Some(Frame::Sync { data, .. }) => {
                forged
                    .receive_sync_message(
                        &mut state,
                        automerge::sync::Message::decode(&data).unwrap(),
                    )
                    .unwrap();
                match forged.generate_sync_message(&mut state) {
                    Some(m) => s
                        .send(Message::Binary(sync(m.encode()).encode().into()))
                        .unwrap(),
                    None => break,
                }
            }
            Some(Frame::Error { document_id, .. }) => {
                assert_eq!(document_id.as_deref(), Some(pushed_as.as_str()));
                refused = true;
                break;
            }
            _ => break,
        }
    }
    assert!(refused, "the server must refuse the mismatched document");
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
