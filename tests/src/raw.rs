//! A bare WebSocket client speaking frames by hand, for tests of what a misbehaving or
//! foreign client sends.

use fieldcase_core::sync::protocol::Frame;
use tungstenite::client::IntoClientRequest;
use tungstenite::Message;

use crate::TestServer;

/// A client WebSocket to the server.
pub type Socket = tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>;

/// Opens `/v1/sync` with a token.
pub fn open(server: &TestServer, token: &str) -> Result<Socket, tungstenite::Error> {
    let url = server.url.replace("http://", "ws://") + "/v1/sync";
    let mut req = url.into_client_request().expect("request");
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    tungstenite::connect(req).map(|(s, _)| s)
}

/// Opens `/v1/sync` and joins as peer `raw`.
pub fn joined(server: &TestServer, token: &str) -> Socket {
    let mut s = open(server, token).expect("connect");
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
