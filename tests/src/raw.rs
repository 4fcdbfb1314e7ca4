//! A bare WebSocket client speaking frames by hand, for tests of what a misbehaving or
//! foreign client sends.

use fieldcase_core::sync::protocol::Frame;
use tungstenite::client::IntoClientRequest;
use tungstenite::Message;

use crate::TestServer;

/// A client WebSocket to the server.
pub type Socket = tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>;

/// Opens `/v1/sync` with a token, as an app of this version.
pub fn open(server: &TestServer, token: &str) -> Result<Socket, tungstenite::Error> {
    open_as(server, token, fieldcase_core::schema::SCHEMA_REVISION)
}

/// Opens `/v1/sync` with a token, as an app that writes case schema revision `schema`.
pub fn open_as(
    server: &TestServer,
    token: &str,
    schema: u32,
) -> Result<Socket, tungstenite::Error> {
    let url = server.url.replace("http://", "ws://") + "/v1/sync";
    let mut req = url.into_client_request().expect("request");
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    req.headers_mut()
        .insert(fieldcase_core::sync::protocol::SCHEMA_HEADER, schema.into());
    tungstenite::connect(req).map(|(s, _)| s)
}

/// Opens `/v1/sync` and joins as peer `raw`.
pub fn joined(server: &TestServer, token: &str) -> Socket {
    joined_as(server, token, fieldcase_core::schema::SCHEMA_REVISION)
}

/// [`joined`], as an app that writes case schema revision `schema`.
pub fn joined_as(server: &TestServer, token: &str, schema: u32) -> Socket {
    let mut s = open_as(server, token, schema).expect("connect");
    let join = Frame::Join {
        sender_id: "raw".into(),
        metadata: Default::default(),
        versions: None,
    };
    s.send(Message::Binary(join.encode().into())).expect("send");
    assert!(matches!(next(&mut s), Some(Frame::Peer { .. })));
    s
}

/// The next frame from the server; `None` once the connection is closed.
pub fn next(s: &mut Socket) -> Option<Frame> {
    loop {
        match s.read() {
            Ok(Message::Binary(b)) => return Some(Frame::decode(&b).expect("a frame")),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

/// Pushes `doc` as `document_id` over a raw connection; the server's error (its message
/// and the document it names), if refused.
pub fn push(
    server: &TestServer,
    token: &str,
    doc: &mut fieldcase_core::CaseDoc,
    document_id: &str,
) -> Option<(String, Option<String>)> {
    match exchange(server, token, doc, document_id) {
        Some(Frame::Error {
            message,
            document_id,
            ..
        }) => Some((message, document_id.map(|d| d.to_string()))),
        _ => None,
    }
}

/// Like [`push`]: the server's refusal, if refused: its message and its kind (the error
/// frame's `code`; `None` when the frame carries none).
pub fn push_refused(
    server: &TestServer,
    token: &str,
    doc: &mut fieldcase_core::CaseDoc,
    document_id: &str,
) -> Option<(String, Option<fieldcase_core::RefusalKind>)> {
    match exchange(server, token, doc, document_id) {
        Some(Frame::Error { message, code, .. }) => Some((
            message,
            code.as_deref().map(fieldcase_core::RefusalKind::from_code),
        )),
        _ => None,
    }
}

/// Syncs `doc` as `document_id` over a raw connection until there is nothing more to
/// say; the frame that ended the exchange when it was not a sync message (an error or
/// doc-unavailable), else `None`.
pub fn exchange(
    server: &TestServer,
    token: &str,
    doc: &mut fieldcase_core::CaseDoc,
    document_id: &str,
) -> Option<Frame> {
    let mut s = joined(server, token);
    exchange_on(&mut s, doc, document_id)
}

/// [`exchange`] over a connection already joined.
pub fn exchange_on(
    s: &mut Socket,
    doc: &mut fieldcase_core::CaseDoc,
    document_id: &str,
) -> Option<Frame> {
    let mut state = automerge::sync::State::new();
    let first = doc.generate_sync_message(&mut state).unwrap();
    s.send(sync_frame(document_id, first.encode())).unwrap();
    for _ in 0..10 {
        match next(s) {
            Some(Frame::Sync { data, .. }) => {
                doc.receive_sync_message(
                    &mut state,
                    automerge::sync::Message::decode(&data).unwrap(),
                )
                .unwrap();
                match doc.generate_sync_message(&mut state) {
                    Some(m) => s.send(sync_frame(document_id, m.encode())).unwrap(),
                    None => return None,
                }
            }
            other => return other,
        }
    }
    None
}

/// A sync frame of encoded sync message `data` about `document_id`, as a raw client
/// sends it.
pub fn sync_frame(document_id: &str, data: Vec<u8>) -> Message {
    Message::Binary(
        Frame::Sync {
            sender_id: "raw".into(),
            target_id: String::new(),
            document_id: document_id.into(),
            data,
        }
        .encode()
        .into(),
    )
}

/// A new case `id` of team `north` for a client named `name`, made by `d` (not sent).
pub fn case_doc(d: &Device, id: fieldcase_core::CaseId, name: &str) -> fieldcase_core::CaseDoc {
    let mut n = fieldcase_core::NewCase {
        team: "north".into(),
        ..Default::default()
    };
    n.client.name = Some(name.into());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a time after 1970")
        .as_millis() as i64;
    fieldcase_core::CaseDoc::create(id, d.actor.clone(), &d.author, n, now).expect("a case")
}

/// A device signed in over REST with an actor of the test's choosing (a client that
/// writes its own Automerge changes, as a tampered app would).
#[derive(Debug)]
pub struct Device {
    pub token: String,
    pub actor: automerge::ActorId,
    pub author: fieldcase_core::Author,
}

/// Signs `user` in over REST as a new device named `device_name`.
pub fn sign_in(server: &TestServer, user: &str, device_name: &str) -> Device {
    use fieldcase_server::Db;
    let actor = automerge::ActorId::random();
    let (status, v) = server.rest(
        "POST",
        "/v1/login",
        None,
        Some(
            serde_json::json!({"username": user, "password": crate::PASSWORD,
            "device_name": device_name, "actor_id": actor.to_hex_string()}),
        ),
    );
    assert_eq!(status, 200, "{v}");
    let u = server.db.user_by_username(user).unwrap().unwrap();
    let device_id = v["device_id"].as_str().unwrap();
    Device {
        token: v["token"].as_str().unwrap().to_string(),
        author: fieldcase_core::Author::new(&u.id, user, u.role, device_id),
        actor,
    }
}
