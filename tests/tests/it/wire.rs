//! Bad input on the wire: each answered with the documented error and no effect.

use fieldcase_core::sync::protocol::Frame;
use fieldcase_core::CaseId;
use fieldcase_server::Db;
use fieldcase_tests::TestServer;
use tungstenite::client::IntoClientRequest;
use tungstenite::Message;

type Socket = tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>;

fn open(server: &TestServer, token: &str) -> Result<Socket, tungstenite::Error> {
    let url = server.url.replace("http://", "ws://") + "/v1/sync";
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    tungstenite::connect(req).map(|(s, _)| s)
}

fn joined(server: &TestServer, token: &str) -> Socket {
    let mut s = open(server, token).unwrap();
    let join = Frame::Join {
        sender_id: "raw".into(),
        metadata: Default::default(),
        versions: None,
    };
    s.send(Message::Binary(join.encode().into())).unwrap();
    assert!(matches!(next(&mut s), Some(Frame::Peer { .. })));
    s
}

fn next(s: &mut Socket) -> Option<Frame> {
    loop {
        match s.read() {
            Ok(Message::Binary(b)) => return Some(Frame::decode(&b).unwrap()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

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
