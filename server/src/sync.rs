//! `GET /v1/sync`: the WebSocket where phones (and any automerge-repo client) sync cases,
//! speaking the automerge-repo network protocol (see `docs/sync-protocol.md`). The cases
//! themselves are the hub's (`crate::hub`); every change passes `crate::admission`.
//!
//! Per connection: the authenticated session (checked at the upgrade), the peer id from
//! `join`, and one Automerge `sync::State` per case. Per case: one lock around the hot
//! document, and the connections syncing it, which are told when it changes.
//!
//! What arrives is applied to a clone first. Changes are refused, with an `error` frame
//! naming the case and nothing stored, when an actor is not registered to the sending
//! device, when the result breaks the schema, when the document is not the case it was
//! sent as (its inner id differs), when a worker's change needs a supervisor,
//! or when a new case does not belong to the sender; the frame's `code` is the refusal's
//! kind ([`fieldcase_core::RefusalKind`]). A case the caller may not see is
//! answered `doc-unavailable`, exactly as a case that does not exist. Accepted changes are
//! committed to disk before the reply that acknowledges them is sent.

use std::collections::HashMap;
use std::sync::Arc;

use automerge::sync::{Message as SyncMessage, State as SyncState, SyncDoc};
use automerge::Automerge;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use fieldcase_core::error::printable;
use fieldcase_core::sync::protocol::{
    DocumentId, Frame, PeerMetadata, MAX_FRAME, PROTOCOL_VERSION,
};
use fieldcase_core::{CaseId, Refusal, RefusalKind};
use tokio::sync::mpsc;

use crate::admission::{check, foreign_actor, held_back_are_own};
use crate::api::{AppSchema, Auth};
use crate::db::{AuditRead, Session};
use crate::error::AppError;
use crate::hub::{guard, refused_unread, Attempt, Hot, Hub, Write};
use crate::AppState;

/// The server's peer id on the wire.
pub const SERVER_PEER: &str = "fieldcase-server";

/// What a client is told when a frame is over [`MAX_FRAME`].
pub const OVERSIZED: &str = "message over the size limit of 16 MiB; nothing of it was read";

/// What a client is told when its changes could not be checked or stored (a storage
/// failure, logged): nothing of them was kept, and they are not refused.
const NOT_STORED: &str = "the server could not store the changes; nothing was kept";

/// What a client is told when its changes could not be checked (a storage failure).
const NOT_CHECKED: &str = "the server could not check the changes; nothing was kept";

/// Why a sync message's changes were not applied to a case.
enum NotApplied {
    /// The caller lost the case meanwhile: answered as a case that does not exist.
    Unavailable,
    /// Refused by a rule.
    Refused(Refusal),
    /// Not checked or not stored (the storage failed, or the case kept changing).
    Failed(AppError),
}

impl From<AppError> for NotApplied {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Refused { refusal, .. } => NotApplied::Refused(refusal),
            other => NotApplied::Failed(other),
        }
    }
}

/// A sync message's changes to a case ([`Connection::apply`]).
struct SyncWrite<'a> {
    state: &'a AppState,
    session: &'a Session,
    id: CaseId,
    /// The connection's sync state of the case before the message.
    synced: &'a SyncState,
    message: &'a SyncMessage,
    /// The read of the case to record with the write (the connection's first sync of it).
    read: Option<AuditRead>,
}

impl Write for SyncWrite<'_> {
    type Out = SyncState;
    type Err = NotApplied;

    fn read(&mut self) -> Option<&mut Option<AuditRead>> {
        Some(&mut self.read)
    }

    async fn attempt(&mut self, hot: &Hot) -> Result<Attempt<SyncState>, NotApplied> {
        let (state, user, device) = (self.state, &self.session.user, &self.session.device_id);
        // Reloaded after another writer (an assignment) got there first: the caller may
        // have lost the case meanwhile.
        if hot.access.as_ref().is_some_and(|a| !a.visible_to(user)) {
            return Err(NotApplied::Unavailable);
        }
        let mut doc = hot.doc.clone();
        let mut st = self.synced.clone();
        if doc
            .receive_sync_message(&mut st, self.message.clone())
            .is_err()
        {
            return Err(NotApplied::Refused(unapplicable()));
        }
        if !held_back_are_own(state, &doc, self.message, device).await {
            return Err(NotApplied::Refused(foreign_actor()));
        }
        let admitted = check(
            state,
            user,
            device,
            &hot.doc,
            hot.outline(),
            hot.access.as_ref(),
            self.id,
            &doc,
        )
        .await?;
        Ok(Attempt::Candidate {
            doc: Box::new(doc),
            admitted: Box::new(admitted),
            then: st,
        })
    }
}

/// Whether a reply delivers anything of a case (changes; not only heads and what is
/// asked for).
fn delivers(reply: &Option<SyncMessage>) -> bool {
    reply.as_ref().is_some_and(|m| !m.changes.is_empty())
}

/// The refusal of changes Automerge could not apply.
fn unapplicable() -> Refusal {
    Refusal::new(
        RefusalKind::Unapplicable,
        "the changes could not be applied",
    )
}

/// While the server stops, a sync connection closes once its client sent nothing for this
/// long (a phone mid-sync answers within milliseconds).
const DRAIN_QUIET: std::time::Duration = std::time::Duration::from_millis(500);

/// The upgrade: the token is checked here, before any frame.
pub async fn endpoint(
    State(state): State<Arc<AppState>>,
    Auth(session, _): Auth,
    axum::Extension(app): axum::Extension<AppSchema>,
    ws: WebSocketUpgrade,
) -> Response {
    ws.max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
        // Every open connection holds its read buffer: 16 KiB, not the default 128 KiB,
        // keeps thousands of idle phones cheap (fieldcase-soak); big messages still grow it.
        .read_buffer_size(16 * 1024)
        .write_buffer_size(16 * 1024)
        .on_upgrade(move |socket| async move {
            let mut conn = Connection::new(state, session, app);
            conn.run(socket).await;
        })
}

struct Connection {
    state: Arc<AppState>,
    session: Session,
    /// The schema revision the app writes: refusals are told as it should hear them.
    app: AppSchema,
    id: u64,
    peer: Option<String>,
    states: HashMap<CaseId, SyncState>,
    /// Cases whose delivery on this connection is already in the audit trail.
    audited: std::collections::HashSet<CaseId>,
    /// The case this connection last found in no storage, and the hub's external-write
    /// count then: a phone pushing a new case first sends its heads alone (answered as for
    /// an unknown id), then its changes, which need not look in storage again
    /// ([`crate::hub::Hub::get_known`]). One case only: nothing a client sends grows it.
    last_absent: Option<(CaseId, u64)>,
    tx: mpsc::UnboundedSender<CaseId>,
    rx: mpsc::UnboundedReceiver<CaseId>,
}

enum Flow {
    Continue,
    Close,
}

impl Connection {
    fn new(state: Arc<AppState>, session: Session, app: AppSchema) -> Self {
        let id = state
            .hub
            .next_conn
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (tx, rx) = mpsc::unbounded_channel();
        Connection {
            state,
            session,
            app,
            id,
            peer: None,
            states: HashMap::new(),
            audited: Default::default(),
            last_absent: None,
            tx,
            rx,
        }
    }

    async fn run(&mut self, mut socket: WebSocket) {
        tracing::info!(user = %self.session.user.id, conn = self.id, "sync connection");
        let m = &self.state.metrics;
        crate::Metrics::inc(&m.sync_connections_total);
        m.sync_connections_open
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut stopping = self.state.shutdown_signal();
        let mut draining = *stopping.borrow();
        loop {
            // While the server stops, a connection lives on until its client is quiet.
            let quiet = tokio::time::sleep(DRAIN_QUIET);
            let flow = tokio::select! {
                _ = stopping.changed(), if !draining => {
                    draining = true;
                    Flow::Continue
                }
                _ = quiet, if draining => Flow::Close,
                // A client silent for this long is gone (crate::listen).
                _ = tokio::time::sleep(self.state.config.limits.sync_idle_timeout) => {
                    crate::Metrics::inc(&self.state.metrics.listen.sync_idle_closed);
                    Flow::Close
                }
                msg = socket.recv() => match msg {
                    Some(Ok(Message::Binary(bytes))) => self.on_frame(&mut socket, &bytes).await,
                    Some(Ok(Message::Ping(p))) => {
                        let _ = socket.send(Message::Pong(p)).await;
                        Flow::Continue
                    }
                    Some(Ok(Message::Text(_))) => {
                        self.send_error(&mut socket, "frames must be binary CBOR", None).await;
                        Flow::Close
                    }
                    Some(Ok(_)) => Flow::Continue,
                    Some(Err(e)) => {
                        self.unreadable(&mut socket, &e).await;
                        Flow::Close
                    }
                    None => Flow::Close,
                },
                Some(id) = self.rx.recv() => self.on_changed(&mut socket, id).await,
            };
            if matches!(flow, Flow::Close) {
                break;
            }
        }
        self.leave().await;
        self.state
            .metrics
            .sync_connections_open
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        // Ignored when a close frame already went out (an oversized message).
        let _ = socket.send(Message::Close(None)).await;
    }

    /// The WebSocket layer could not read the next message. Over the size limit (refused
    /// from its header, before its payload is read), the client is told so in an `error`
    /// frame and in the close frame (1009). Anything else is a connection that broke (a
    /// phone losing its network, a client closing without the handshake): closed quietly.
    async fn unreadable(&self, socket: &mut WebSocket, e: &axum::Error) {
        use axum::extract::ws::{close_code, CloseFrame};
        // The WebSocket layer's own wording for its size limit ("Message too long: ...",
        // "Frame too long"; tests/tests/it/wire.rs pins it).
        let text = e.to_string().to_ascii_lowercase();
        if !(text.contains("too long") || text.contains("too big")) {
            tracing::debug!(user = %self.session.user.id, conn = self.id, error = %e, "sync connection broke");
            return;
        }
        crate::Metrics::inc(&self.state.metrics.sync_frames_oversized);
        tracing::warn!(user = %self.session.user.id, conn = self.id, "sync message over the size limit; connection closed");
        self.send_error(socket, OVERSIZED, None).await;
        let close = CloseFrame {
            code: close_code::SIZE,
            reason: OVERSIZED.into(),
        };
        let _ = socket.send(Message::Close(Some(close))).await;
    }

    async fn leave(&mut self) {
        let ids: Vec<CaseId> = self.states.keys().copied().collect();
        for id in ids {
            let hot = self.state.hub.hot(&id);
            if let Some(hot) = hot {
                hot.lock().await.subscribers.remove(&self.id);
            }
            self.state.hub.release(&id);
        }
    }

    fn target(&self) -> String {
        self.peer.clone().unwrap_or_default()
    }

    async fn send(&self, socket: &mut WebSocket, frame: Frame) -> bool {
        socket
            .send(Message::Binary(frame.encode().into()))
            .await
            .is_ok()
    }

    /// Sends a sync message for a case, if there is one.
    async fn send_sync(
        &self,
        socket: &mut WebSocket,
        document_id: DocumentId,
        message: Option<SyncMessage>,
    ) -> Flow {
        let Some(m) = message else {
            return Flow::Continue;
        };
        let frame = Frame::Sync {
            sender_id: SERVER_PEER.into(),
            target_id: self.target(),
            document_id,
            data: m.encode(),
        };
        if self.send(socket, frame).await {
            Flow::Continue
        } else {
            Flow::Close
        }
    }

    async fn send_error(
        &self,
        socket: &mut WebSocket,
        message: &str,
        document_id: Option<DocumentId>,
    ) {
        self.send_error_of(socket, message, document_id, None).await
    }

    /// An error frame; a refusal carries its kind's code.
    async fn send_error_of(
        &self,
        socket: &mut WebSocket,
        message: &str,
        document_id: Option<DocumentId>,
        code: Option<fieldcase_core::RefusalKind>,
    ) {
        let frame = Frame::Error {
            sender_id: SERVER_PEER.into(),
            target_id: self.target(),
            message: message.into(),
            document_id,
            code: code.map(|k| k.code().to_string()),
        };
        self.send(socket, frame).await;
    }

    async fn on_frame(&mut self, socket: &mut WebSocket, bytes: &[u8]) -> Flow {
        crate::Metrics::inc(&self.state.metrics.sync_frames_in);
        let frame = match Frame::decode(bytes) {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(conn = self.id, "malformed frame");
                self.send_error(socket, &e.to_string(), None).await;
                return Flow::Close;
            }
        };
        match frame {
            Frame::Join {
                sender_id,
                versions,
                ..
            } => {
                if self.peer.is_some() {
                    self.send_error(socket, "unexpected second join", None)
                        .await;
                    return Flow::Close;
                }
                self.peer = Some(sender_id);
                if versions.is_some_and(|v| !v.iter().any(|x| x == PROTOCOL_VERSION)) {
                    self.send_error(socket, "unsupported protocol version", None)
                        .await;
                    return Flow::Close;
                }
                let peer = Frame::Peer {
                    sender_id: SERVER_PEER.into(),
                    target_id: self.target(),
                    metadata: PeerMetadata {
                        storage_id: None,
                        is_ephemeral: true,
                    },
                    version: PROTOCOL_VERSION.into(),
                };
                if self.send(socket, peer).await {
                    Flow::Continue
                } else {
                    Flow::Close
                }
            }
            _ if self.peer.is_none() => {
                self.send_error(socket, "expected a join message first", None)
                    .await;
                Flow::Close
            }
            Frame::Request {
                document_id, data, ..
            } => self.on_sync(socket, document_id, data, true).await,
            Frame::Sync {
                document_id, data, ..
            } => self.on_sync(socket, document_id, data, false).await,
            Frame::Status {
                unsynced_cases,
                done,
                app_version,
                ..
            } => {
                // What the phone says of its own unsynced work: kept for its device, for
                // administrators (a lost phone). A claim about itself, bounded (u32),
                // replacing the last; a storage failure is logged, the sync goes on.
                let db = self.state.db.clone();
                let device = self.session.device_id.clone();
                let unsynced = crate::db::Unsynced {
                    cases: unsynced_cases,
                    done,
                    at: chrono::Utc::now().timestamp_millis(),
                };
                let stored = tokio::task::spawn_blocking(move || {
                    db.record_status(&device, unsynced, app_version.as_deref())
                })
                .await;
                if !matches!(stored, Ok(Ok(()))) {
                    tracing::warn!(conn = self.id, "could not keep a device's unsynced count");
                }
                Flow::Continue
            }
            _ => Flow::Continue,
        }
    }

    async fn unavailable(&self, socket: &mut WebSocket, document_id: DocumentId) -> Flow {
        crate::Metrics::inc(&self.state.metrics.docs_unavailable);
        let frame = Frame::DocUnavailable {
            sender_id: SERVER_PEER.into(),
            target_id: self.target(),
            document_id,
        };
        if self.send(socket, frame).await {
            Flow::Continue
        } else {
            Flow::Close
        }
    }

    async fn on_sync(
        &mut self,
        socket: &mut WebSocket,
        document_id: DocumentId,
        data: Vec<u8>,
        request: bool,
    ) -> Flow {
        let Some(id) = document_id.case() else {
            // An id that names no case is not a case anyone may see.
            return self.unavailable(socket, document_id).await;
        };
        let message = match SyncMessage::decode(&data) {
            Ok(m) => m,
            Err(_) => {
                self.send_error(socket, "malformed sync message", Some(id.into()))
                    .await;
                return Flow::Close;
            }
        };
        if let Err(e) = guard(&self.state, |l| l.check_message(&message)) {
            self.send_error_of(
                socket,
                &refused_unread(&e),
                Some(id.into()),
                Some(RefusalKind::Limit),
            )
            .await;
            return Flow::Close;
        }
        // Held until this message is answered: the case stays in memory meanwhile, and
        // settles (idle or dropped, `crate::hub`) when it is let go.
        let absent_at = self
            .last_absent
            .take()
            .filter(|(case, _)| *case == id)
            .map(|(_, at)| at);
        let held = match self.state.hub.get_known(&self.state, id, absent_at).await {
            Ok(h) => h,
            Err(e) => {
                tracing::error!(error = %e, "loading a case");
                self.send_error(
                    socket,
                    "the server could not load this case",
                    Some(id.into()),
                )
                .await;
                return Flow::Continue;
            }
        };
        let mut hot = held.lock().await;
        if let Err(e) = self.state.hub.freshen(&self.state, &mut hot, id).await {
            tracing::error!(error = %e, "reloading a case");
            self.send_error(
                socket,
                "the server could not load this case",
                Some(id.into()),
            )
            .await;
            return Flow::Continue;
        }
        let user = &self.session.user;
        // A read still to record before anything of the case is delivered.
        let mut to_read = None;
        match hot
            .access
            .as_ref()
            .map(|a| (a.visible_to(user), a.restricted))
        {
            // Every case is audited once per connection (a sync is several messages)
            // when anything of it moves: before the first reply that delivers changes of
            // it, or with the first write of the phone's changes (in its transaction). A
            // sync in which neither side has anything new delivers nothing of the case
            // (heads only) and records nothing.
            Some((true, restricted)) if !self.audited.contains(&id) => {
                if restricted {
                    tracing::info!(case = %id, user = %user.id, "restricted case synced");
                }
                to_read = Some(self.read_of(id));
            }
            Some((true, _)) => {}
            // A case the caller may not see is answered exactly as one that does not exist,
            // from an empty document that nothing keeps. A new case (changes for an unknown
            // id) goes on below, to be checked and kept.
            Some((false, _)) => {
                drop(hot);
                drop(held);
                return self.absent(socket, id, message, request).await;
            }
            None if request || message.changes.is_empty() => {
                if hot.doc.get_heads().is_empty() {
                    self.last_absent = Some((id, hot.checked()));
                }
                drop(hot);
                drop(held);
                return self.absent(socket, id, message, request).await;
            }
            None => {}
        }
        // What one connection may hold is bounded: one sync state per case it syncs. (A
        // new case is not counted here, so that its refusals read as for any unknown id.)
        if hot.access.is_some()
            && !self.states.contains_key(&id)
            && self.states.len() >= self.state.config.sync_max_cases_per_connection
        {
            drop(hot);
            drop(held);
            crate::Metrics::inc(&self.state.metrics.sync_cases_over_limit);
            tracing::warn!(user = %user.id, conn = self.id, "sync connection over its case limit");
            self.send_error(
                socket,
                "too many cases on one connection; sync the rest on a new connection",
                Some(id.into()),
            )
            .await;
            return Flow::Continue;
        }
        // Taken out of the map while it is worked on; put back on every path.
        let mut sync_state = self.states.remove(&id).unwrap_or_default();
        let reading = to_read.is_some();
        let flow = self
            .apply(socket, &mut hot, id, message, &mut sync_state, &mut to_read)
            .await;
        self.states.insert(id, sync_state);
        if reading && to_read.is_none() {
            self.audited.insert(id);
        }
        let Some(flow) = flow else {
            if hot.access.is_none() {
                drop(hot);
                self.states.remove(&id);
            }
            return Flow::Continue;
        };
        if matches!(flow, Flow::Close) {
            return flow;
        }
        hot.subscribers.insert(self.id, self.tx.clone());
        let reply = hot
            .doc
            .generate_sync_message(self.states.get_mut(&id).expect("inserted"));
        drop(hot);
        // A reply delivering changes of a case whose read no write recorded: recorded
        // first. (Also for a case that was new when the message came: its write may have
        // found another writer's changes, which the reply then carries.)
        if delivers(&reply) && !self.audited.contains(&id) {
            let read = to_read.take().unwrap_or_else(|| self.read_of(id));
            if !self.record_or_forget(socket, read).await {
                return Flow::Continue;
            }
        }
        self.send_sync(socket, id.into(), reply).await
    }

    /// Records a read before a delivery; `false` when it could not be recorded: the
    /// client is told, nothing is delivered, and the connection's sync state of the case
    /// starts again (the reply that is not sent counted its changes as sent). The state
    /// stays listed: leaving the connection unsubscribes it from the case through it.
    async fn record_or_forget(&mut self, socket: &mut WebSocket, read: AuditRead) -> bool {
        let id = read.case;
        let db = self.state.db.clone();
        let done = tokio::task::spawn_blocking(move || {
            db.audit(
                &read.user_id,
                &read.device,
                &read.case,
                read.action,
                read.at,
            )
        })
        .await;
        if matches!(done, Ok(Ok(()))) {
            self.audited.insert(id);
            return true;
        }
        self.states.insert(id, SyncState::new());
        self.send_error(
            socket,
            "the server could not record this access; try again",
            Some(id.into()),
        )
        .await;
        false
    }

    /// A read of the case by this connection's user and device, now.
    fn read_of(&self, id: CaseId) -> AuditRead {
        AuditRead {
            user_id: self.session.user.id.clone(),
            device: self.session.device_id.clone(),
            case: id,
            action: "sync",
            at: chrono::Utc::now().timestamp_millis(),
        }
    }

    /// A case the caller may not see, or one that does not exist: a request is answered
    /// `doc-unavailable`; a sync message without changes is answered from an empty document
    /// that nothing keeps (memory per unknown id: none). Changes pushed to a case the caller
    /// may not see get the checks of a new case against that empty document, so they are
    /// refused with the same reason as for an unknown id; changes that would pass (a new
    /// case under the id of a case hidden from its sender: ids are random 128-bit values) are
    /// answered as if kept, and nothing is kept.
    async fn absent(
        &mut self,
        socket: &mut WebSocket,
        id: CaseId,
        message: SyncMessage,
        request: bool,
    ) -> Flow {
        if request {
            return self.unavailable(socket, id.into()).await;
        }
        let empty = Automerge::new();
        let mut doc = empty.clone();
        let mut state = SyncState::new();
        let pushed = !message.changes.is_empty();
        if doc.receive_sync_message(&mut state, message).is_err() {
            if pushed {
                return self.refuse(socket, id, &unapplicable()).await;
            }
            return self.unavailable(socket, id.into()).await;
        }
        if pushed {
            let user = &self.session.user;
            let device = &self.session.device_id;
            let checked = match check(&self.state, user, device, &empty, None, None, id, &doc).await
            {
                // Nothing is stored: what the check asks of storage is answered apart.
                Ok(mut admitted) => admitted.settle(&self.state).await,
                Err(e) => Err(e),
            };
            match checked {
                Ok(()) => {}
                Err(AppError::Refused { refusal, .. }) => {
                    return self.refuse(socket, id, &refusal).await;
                }
                Err(e) => {
                    tracing::error!(case = %id, error = %e, "could not check changes");
                    self.send_error(socket, NOT_CHECKED, Some(id.into())).await;
                    return Flow::Continue;
                }
            }
            tracing::warn!(case = %id, user = %user.id, "a new case under the id of a case its sender may not see; nothing kept");
        }
        let reply = doc.generate_sync_message(&mut state);
        self.send_sync(socket, id.into(), reply).await
    }

    /// Tells the client its changes to a case were refused, why (our words) and the
    /// refusal's kind (the frame's `code`).
    async fn refuse(&self, socket: &mut WebSocket, id: CaseId, refusal: &Refusal) -> Flow {
        let refusal = &self.app.refusal(refusal.clone());
        tracing::warn!(case = %id, user = %self.session.user.id, kind = %refusal.kind, reason = %printable(&refusal.message), "changes refused");
        crate::Metrics::inc(&self.state.metrics.changes_refused);
        self.send_error_of(
            socket,
            &format!("changes refused: {}", refusal.message),
            Some(id.into()),
            Some(refusal.kind),
        )
        .await;
        Flow::Continue
    }

    /// Applies a message to a case. `None` when it was refused (the client was told why).
    async fn apply(
        &self,
        socket: &mut WebSocket,
        hot: &mut Hot,
        id: CaseId,
        message: SyncMessage,
        sync_state: &mut SyncState,
        read: &mut Option<AuditRead>,
    ) -> Option<Flow> {
        if message.changes.is_empty() {
            if hot.doc.receive_sync_message(sync_state, message).is_err() {
                self.send_error(socket, "sync message refused", Some(id.into()))
                    .await;
                return None;
            }
            return Some(Flow::Continue);
        }
        // Applied to a copy, checked, stored, and only then made the hot document. If
        // another process stored the case meanwhile, the message is applied again to the
        // stored document. Changes Automerge holds back for a dependency it lacks stay
        // with the case's document: the sync protocol then asks this sender for what is
        // missing (a phone whose server died mid-sync resends in that order). They are
        // checked when they apply.
        let mut write = SyncWrite {
            state: &self.state,
            session: &self.session,
            id,
            synced: sync_state,
            message: &message,
            read: read.take(),
        };
        let written = Hub::write(&self.state, hot, id, Some(self.id), &mut write).await;
        *read = write.read.take();
        match written {
            Ok(st) => {
                *sync_state = st;
                Some(Flow::Continue)
            }
            Err(NotApplied::Unavailable) => {
                self.unavailable(socket, id.into()).await;
                None
            }
            Err(NotApplied::Refused(refusal)) => {
                self.refuse(socket, id, &refusal).await;
                None
            }
            Err(NotApplied::Failed(AppError::Conflict(_))) => {
                self.send_error(
                    socket,
                    "the case kept changing while the changes were stored; nothing was kept",
                    Some(id.into()),
                )
                .await;
                None
            }
            Err(NotApplied::Failed(e)) => {
                tracing::error!(case = %id, error = %e, "could not check or store changes");
                self.send_error(socket, NOT_STORED, Some(id.into())).await;
                None
            }
        }
    }

    async fn on_changed(&mut self, socket: &mut WebSocket, id: CaseId) -> Flow {
        let hot = self.state.hub.hot(&id);
        let Some(hot) = hot else {
            return Flow::Continue;
        };
        let hot = hot.lock().await;
        if !hot
            .access
            .as_ref()
            .is_some_and(|a| a.visible_to(&self.session.user))
        {
            return Flow::Continue;
        }
        let Some(state) = self.states.get_mut(&id) else {
            return Flow::Continue;
        };
        let reply = hot.doc.generate_sync_message(state);
        drop(hot);
        // The first delivery of the case on this connection is recorded first.
        if delivers(&reply)
            && !self.audited.contains(&id)
            && !self.record_or_forget(socket, self.read_of(id)).await
        {
            return Flow::Continue;
        }
        self.send_sync(socket, id.into(), reply).await
    }
}
