//! The sync WebSocket (`/v1/sync`): connecting with the token and the app's schema
//! revision, sending frames, and reads that wake every [`POLL`] to look for a cancellation.

use std::net::TcpStream;
use std::time::Instant;

use tungstenite::client::IntoClientRequest;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::WebSocket;

use super::control::SyncControl;
use super::http::{net, status_error, update_app, TlsRoots};
use super::protocol::{Frame, MAX_FRAME, SCHEMA_HEADER};
use super::{POLL, TIMEOUT};
use crate::error::{Error, Result};
use crate::schema::SCHEMA_REVISION;

pub(super) struct Socket(WebSocket<MaybeTlsStream<TcpStream>>);

/// How many signals in a row a send survives before it fails.
const MAX_INTERRUPTIONS: usize = 16;

impl Socket {
    /// Opens `/v1/sync` on the server at `base` (`http://` or `https://`).
    pub(super) fn connect(base: &str, token: &str, roots: Option<TlsRoots>) -> Result<Self> {
        let ws_url = if let Some(rest) = base.strip_prefix("https://") {
            format!("wss://{rest}/v1/sync")
        } else if let Some(rest) = base.strip_prefix("http://") {
            format!("ws://{rest}/v1/sync")
        } else {
            return Err(Error::Network(
                "the server address must start with http:// or https://".into(),
            ));
        };
        let mut request = ws_url.into_client_request().map_err(net)?;
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {token}")
                .parse()
                .map_err(|_| Error::Unauthorized("the token is not valid".into()))?,
        );
        request.headers_mut().insert(
            SCHEMA_HEADER,
            tungstenite::http::HeaderValue::from(SCHEMA_REVISION),
        );
        let config = tungstenite::protocol::WebSocketConfig::default()
            .max_message_size(Some(MAX_FRAME))
            .max_frame_size(Some(MAX_FRAME));
        let refused = |e: tungstenite::Error| match e {
            tungstenite::Error::Http(r) => match r.status().as_u16() {
                403 => Error::Unauthorized("this device was disabled".into()),
                426 => update_app(
                    r.body()
                        .as_deref()
                        .map(String::from_utf8_lossy)
                        .unwrap_or_default()
                        .as_ref(),
                ),
                s => status_error(s),
            },
            other => net(other),
        };
        let socket = match roots {
            None => {
                tungstenite::client::connect_with_config(request, Some(config), 3)
                    .map_err(refused)?
                    .0
            }
            Some(roots) => {
                let uri = request.uri();
                let host = uri.host().unwrap_or_default().trim_matches(['[', ']']);
                let port = uri.port_u16().unwrap_or(443);
                let tcp = TcpStream::connect((host, port)).map_err(net)?;
                tcp.set_read_timeout(Some(TIMEOUT)).map_err(net)?;
                let connector = tungstenite::Connector::Rustls(roots.websocket);
                tungstenite::client_tls_with_config(request, tcp, Some(config), Some(connector))
                    .map_err(|e| match e {
                        tungstenite::HandshakeError::Failure(e) => refused(e),
                        tungstenite::HandshakeError::Interrupted(_) => {
                            Error::Network("the connection was interrupted".into())
                        }
                    })?
                    .0
            }
        };
        let tcp = match socket.get_ref() {
            MaybeTlsStream::Plain(s) => Some(s),
            MaybeTlsStream::Rustls(s) => Some(s.get_ref()),
            _ => None,
        };
        // Reads wake every POLL to look for a cancellation ([`Socket::read`] keeps the
        // deadline).
        if let Some(tcp) = tcp {
            tcp.set_read_timeout(Some(POLL)).map_err(net)?;
        }
        Ok(Socket(socket))
    }

    pub(super) fn send(&mut self, frame: &Frame) -> Result<()> {
        let mut sent = self
            .0
            .send(tungstenite::Message::Binary(frame.encode().into()));
        // Interrupted by a signal: the frame is queued; writing out the queue goes on.
        for _ in 0..MAX_INTERRUPTIONS {
            match sent {
                Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::Interrupted => {
                    sent = self.0.flush();
                }
                _ => break,
            }
        }
        sent.map_err(net)
    }

    /// The next frame; [`Error::Cancelled`] as soon as `control` is cancelled, a network
    /// error when nothing came before `deadline`.
    pub(super) fn read(&mut self, control: &SyncControl, deadline: Instant) -> Result<Frame> {
        loop {
            control.check()?;
            let message = match self.0.read() {
                Ok(m) => m,
                // A signal interrupting the wait (the phone's process may get them) is
                // no failure: read again.
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock
                            | std::io::ErrorKind::TimedOut
                            | std::io::ErrorKind::Interrupted
                    ) =>
                {
                    if Instant::now() > deadline {
                        return Err(Error::Network("the server did not answer in time".into()));
                    }
                    continue;
                }
                Err(e) => return Err(net(e)),
            };
            match message {
                tungstenite::Message::Binary(b) => {
                    return Frame::decode(&b)
                        .map_err(|_| Error::Network("the server sent a malformed frame".into()))
                }
                tungstenite::Message::Close(_) => {
                    return Err(Error::Network("the server closed the connection".into()))
                }
                _ => continue,
            }
        }
    }

    /// Closes the connection (best effort: the sync is done whether or not it arrives).
    pub(super) fn close(&mut self) {
        let _ = self.0.close(None);
        let _ = self.0.flush();
    }
}
