//! One automerge-repo client connection (WebSocket, CBOR frames), the same for every
//! server: join, then push or fetch documents one at a time, counting bytes both ways.

use std::net::TcpStream;
use std::time::Duration;

use automerge::sync::{Message as SyncMessage, State, SyncDoc};
use automerge::{Automerge, ChangeHash};
use fieldcase_core::sync::protocol::{Frame, PeerMetadata};
use tungstenite::client::IntoClientRequest;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// How long one document may take before the run reports it as failed.
const PATIENCE: Duration = Duration::from_secs(20);

/// A joined connection.
#[derive(Debug)]
pub(crate) struct Conn {
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    me: String,
    server: String,
    pub(crate) bytes_out: u64,
    pub(crate) bytes_in: u64,
}

impl Conn {
    /// Connects to `url` (`ws://…/path`), with a bearer token when the server wants one,
    /// and joins as `peer` plus a random suffix: like a JS `Repo`, every connection is a
    /// new peer (a server may keep sync state per peer id, and stay silent to a peer it
    /// believes up to date).
    pub(crate) fn open(url: &str, token: Option<&str>, peer: &str) -> Result<Conn, String> {
        let peer = &format!(
            "{peer}-{}",
            &automerge::ActorId::random().to_hex_string()[..12]
        );
        let mut req = url.into_client_request().map_err(|e| e.to_string())?;
        if let Some(t) = token {
            req.headers_mut().insert(
                "authorization",
                format!("Bearer {t}").parse().map_err(|_| "bad token")?,
            );
        }
        let (ws, _) = tungstenite::client::connect_with_config(
            req,
            Some(
                tungstenite::protocol::WebSocketConfig::default()
                    .max_message_size(Some(256 << 20))
                    .max_frame_size(Some(256 << 20)),
            ),
            3,
        )
        .map_err(|e| format!("connect {url}: {e}"))?;
        if let MaybeTlsStream::Plain(s) = ws.get_ref() {
            s.set_read_timeout(Some(PATIENCE))
                .map_err(|e| e.to_string())?;
            s.set_nodelay(true).map_err(|e| e.to_string())?;
        }
        let mut conn = Conn {
            ws,
            me: peer.to_string(),
            server: String::new(),
            bytes_out: 0,
            bytes_in: 0,
        };
        conn.send(Frame::Join {
            sender_id: peer.to_string(),
            metadata: PeerMetadata {
                storage_id: None,
                is_ephemeral: true,
            },
            versions: Some(vec!["1".into()]),
        })?;
        match conn.recv()? {
            Frame::Peer { sender_id, .. } => conn.server = sender_id,
            other => return Err(format!("expected peer, got {other:?}")),
        }
        Ok(conn)
    }

    /// Ends the connection as the protocol would: a WebSocket close, without waiting for
    /// the server's (nothing is timed after it).
    pub(crate) fn close(mut self) {
        let _ = self.ws.close(None);
        let _ = self.ws.flush();
    }

    fn send(&mut self, frame: Frame) -> Result<(), String> {
        let bytes = frame.encode();
        self.bytes_out += bytes.len() as u64;
        self.ws
            .send(Message::Binary(bytes.into()))
            .map_err(|e| format!("send: {e}"))
    }

    fn recv(&mut self) -> Result<Frame, String> {
        self.recv_before(std::time::Instant::now() + PATIENCE)
    }

    /// The next frame, unless `deadline` passes first. Pings and frames of other kinds
    /// do not extend it: a server that only keeps the connection alive never answers.
    fn recv_before(&mut self, deadline: std::time::Instant) -> Result<Frame, String> {
        loop {
            if std::time::Instant::now() > deadline {
                return Err(format!("no answer within {PATIENCE:?}"));
            }
            match self.ws.read().map_err(|e| format!("read: {e}"))? {
                Message::Binary(b) => {
                    self.bytes_in += b.len() as u64;
                    let frame = Frame::decode(&b).map_err(|e| e.to_string())?;
                    if !matches!(frame, Frame::Other { .. }) {
                        return Ok(frame);
                    }
                }
                Message::Close(_) => return Err("the server closed the connection".into()),
                _ => continue,
            }
        }
    }

    fn sync_frame(&self, document_id: &str, message: SyncMessage, request: bool) -> Frame {
        let (sender_id, target_id, document_id, data) = (
            self.me.clone(),
            self.server.clone(),
            document_id.into(),
            message.encode(),
        );
        if request {
            Frame::Request {
                sender_id,
                target_id,
                document_id,
                data,
            }
        } else {
            Frame::Sync {
                sender_id,
                target_id,
                document_id,
                data,
            }
        }
    }

    /// Syncs `doc` with the server until both hold the same heads: `want` when given (a
    /// fetch), else the document's own (a push). `request` asks for a document the client
    /// does not have.
    pub(crate) fn sync(
        &mut self,
        document_id: &str,
        doc: &mut Automerge,
        state: &mut State,
        want: Option<&[ChangeHash]>,
        request: bool,
    ) -> Result<(), String> {
        let target = |doc: &Automerge| -> Vec<ChangeHash> {
            let mut h = want.map(<[_]>::to_vec).unwrap_or_else(|| doc.get_heads());
            h.sort();
            h
        };
        let done = |doc: &Automerge, state: &State| {
            let goal = target(doc);
            let mut mine = doc.get_heads();
            mine.sort();
            let mut theirs = state.their_heads.clone().unwrap_or_default();
            theirs.sort();
            mine == goal && theirs == goal
        };
        let first = doc
            .generate_sync_message(state)
            .ok_or("nothing to send for a document")?;
        self.send(self.sync_frame(document_id, first, request))?;
        // A server may keep talking about other documents and never answer this one: the
        // read timeout alone would then never fire.
        let deadline = std::time::Instant::now() + PATIENCE;
        loop {
            if std::time::Instant::now() > deadline {
                return Err(format!("{document_id}: no answer within {PATIENCE:?}"));
            }
            match self
                .recv_before(deadline)
                .map_err(|e| format!("{document_id}: {e}"))?
            {
                Frame::Sync {
                    document_id: d,
                    data,
                    ..
                } if d.to_string() == document_id => {
                    let msg = SyncMessage::decode(&data).map_err(|e| e.to_string())?;
                    doc.receive_sync_message(state, msg)
                        .map_err(|e| e.to_string())?;
                    if let Some(next) = doc.generate_sync_message(state) {
                        self.send(self.sync_frame(document_id, next, false))?;
                    }
                    if done(doc, state) {
                        return Ok(());
                    }
                }
                Frame::DocUnavailable { document_id: d, .. } if d.to_string() == document_id => {
                    return Err(format!("{document_id} unavailable"))
                }
                Frame::Error { message, .. } => return Err(format!("server error: {message}")),
                _ => continue, // news of another document
            }
        }
    }
}
