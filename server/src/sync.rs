//! `GET /v1/sync`: the WebSocket where phones (and any automerge-repo client) sync cases,
//! speaking the automerge-repo network protocol (see `docs/sync-protocol.md`).
//!
//! Per connection: the authenticated session (checked at the upgrade), the peer id from
//! `join`, and one Automerge `sync::State` per case. Per case: one lock around the hot
//! document, and the connections syncing it, which are told when it changes.
//!
//! What arrives is applied to a clone first. Changes are refused, with an `error` frame
//! naming the case and nothing stored, when an actor is not registered to the sending
//! device, when the result breaks the schema, when the document is not the case it was
//! sent as (its inner id differs), when a worker's change needs a supervisor,
//! or when a new case does not belong to the sender. A case the caller may not see is
//! answered `doc-unavailable`, exactly as a case that does not exist. Accepted changes are
//! committed to disk before the reply that acknowledges them is sent.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use automerge::sync::{Message as SyncMessage, State as SyncState, SyncDoc};
use automerge::{ActorId, Automerge, ChangeHash, ReadDoc};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use fieldcase_core::error::printable;
use fieldcase_core::sync::protocol::{self, Frame, PeerMetadata, MAX_FRAME, PROTOCOL_VERSION};
use fieldcase_core::{schema, Author, CaseDoc, CaseId};
use tokio::sync::mpsc;

use crate::api::Auth;
use crate::db::{CaseAccess, CaseWrite, Session, Stored, TimeMark, User};
use crate::error::AppError;
use crate::AppState;
use fieldcase_core::case::authority;

/// The server's peer id on the wire.
pub const SERVER_PEER: &str = "fieldcase-server";

/// What a client is told when a frame is over [`MAX_FRAME`].
pub const OVERSIZED: &str = "message over the size limit of 16 MiB; nothing of it was read";

/// While the server stops, a sync connection closes once its client sent nothing for this
/// long (a phone mid-sync answers within milliseconds).
const DRAIN_QUIET: std::time::Duration = std::time::Duration::from_millis(500);

/// Hot documents and who is syncing them.
#[derive(Default)]
pub struct Hub {
    docs: Mutex<HashMap<CaseId, Arc<tokio::sync::Mutex<Hot>>>>,
    next_conn: std::sync::atomic::AtomicU64,
    /// The storage's [`Db::external_version`] last seen, and a count of the times it moved:
    /// a hot document checked at an older count is compared with the stored one.
    external: Mutex<External>,
    /// The actor and device under which the server writes for each user (console, API).
    writers: Mutex<HashMap<String, (ActorId, String)>>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub").finish_non_exhaustive()
    }
}

#[derive(Default)]
struct External {
    version: i64,
    count: u64,
    read: bool,
}

/// A case held in memory while connections sync it.
struct Hot {
    doc: Automerge,
    access: Option<CaseAccess>,
    /// The heads of the stored document (what `doc` was loaded or last stored as).
    stored: Vec<ChangeHash>,
    /// The hub's external-write count when `doc` was last known to match the storage.
    checked: u64,
    /// Connections syncing this case: told its id when it changes.
    subscribers: HashMap<u64, mpsc::UnboundedSender<CaseId>>,
}

/// Checks Automerge bytes from a client against the server's limits before anything
/// reads them ([`fieldcase_core::limits`]); a refusal is counted and logged (our text).
fn guard(
    state: &AppState,
    check: impl FnOnce(&fieldcase_core::limits::Limits) -> Result<(), fieldcase_core::limits::Refused>,
) -> Result<(), fieldcase_core::limits::Refused> {
    check(&state.config.input_limits).inspect_err(|e| {
        crate::Metrics::inc(&state.metrics.input_refused);
        tracing::warn!(refused = %e, "client data refused unread");
    })
}

/// What a client is told when [`guard`] refuses its bytes.
fn refused_unread(e: &fieldcase_core::limits::Refused) -> String {
    format!("refused unread: {e}; nothing was stored")
}

fn blocking_error(e: tokio::task::JoinError) -> AppError {
    AppError::Internal(e.to_string())
}

impl Hub {
    /// How many cases are in memory (the hot documents of cases being synced or edited).
    pub fn cases_in_memory(&self) -> usize {
        self.docs.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// The hot document of a case, if it is in memory.
    fn hot(&self, id: &CaseId) -> Option<Arc<tokio::sync::Mutex<Hot>>> {
        self.docs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    /// The external-write count. The storage is asked only when it is idle (the question
    /// costs microseconds, but must not wait behind a commit); a busy storage is asked at
    /// the next message.
    fn external_count(&self, state: &AppState) -> Result<u64, AppError> {
        let mut e = self.external.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(version) = state.db.external_version()? {
            if e.read && e.version != version {
                e.count += 1;
            }
            e.version = version;
            e.read = true;
        }
        Ok(e.count)
    }

    /// A case's document, loaded from storage.
    async fn load(
        state: &AppState,
        id: CaseId,
    ) -> Result<(Automerge, Option<CaseAccess>), AppError> {
        let db = state.db.clone();
        let (access, bytes) = tokio::task::spawn_blocking(move || -> Result<_, AppError> {
            Ok((db.case_access(&id)?, db.case_document(&id)?))
        })
        .await
        .map_err(blocking_error)??;
        let doc = match bytes {
            Some(b) => Automerge::load(&b)
                .map_err(|e| AppError::Internal(format!("stored case unreadable: {e}")))?,
            None => Automerge::new(),
        };
        Ok((doc, access))
    }

    async fn get(
        &self,
        state: &AppState,
        id: CaseId,
    ) -> Result<Arc<tokio::sync::Mutex<Hot>>, AppError> {
        if let Some(h) = self.hot(&id) {
            return Ok(h);
        }
        let count = self.external_count(state)?;
        let (doc, access) = Self::load(state, id).await?;
        let hot = Arc::new(tokio::sync::Mutex::new(Hot {
            stored: doc.get_heads(),
            doc,
            access,
            checked: count,
            subscribers: HashMap::new(),
        }));
        let mut docs = self.docs.lock().unwrap_or_else(|p| p.into_inner());
        Ok(docs.entry(id).or_insert(hot).clone())
    }

    /// Brings a hot document up to date with the storage if another process (the admin
    /// CLI, another server instance) wrote since it was last checked.
    async fn freshen(&self, state: &AppState, hot: &mut Hot, id: CaseId) -> Result<(), AppError> {
        let count = self.external_count(state)?;
        if hot.checked == count {
            return Ok(());
        }
        let db = state.db.clone();
        let heads = tokio::task::spawn_blocking(move || db.case_heads(&id))
            .await
            .map_err(blocking_error)??
            .unwrap_or_default();
        if heads != hot.stored {
            Self::reload(state, hot, id).await?;
        }
        hot.checked = count;
        Ok(())
    }

    /// Replaces a hot document by the stored one (which holds everything the hot one had:
    /// nothing is acknowledged before it is stored).
    async fn reload(state: &AppState, hot: &mut Hot, id: CaseId) -> Result<(), AppError> {
        let (doc, access) = Self::load(state, id).await?;
        hot.stored = doc.get_heads();
        hot.doc = doc;
        hot.access = access;
        Ok(())
    }

    /// Stores a checked candidate document of a hot case: the changes since the stored
    /// heads are appended, if those are still the stored heads. `Ok(false)` when another
    /// writer got there first; the caller reloads and tries again. Folds the appended
    /// changes into a new snapshot when they have grown.
    async fn store(
        state: &AppState,
        hot: &Hot,
        id: CaseId,
        doc: &Automerge,
        access: &CaseAccess,
    ) -> Result<bool, AppError> {
        let (bytes, snapshot) = if hot.access.is_none() {
            (doc.save(), true)
        } else {
            (doc.save_after(&hot.stored), false)
        };
        let heads = doc.get_heads();
        let expected = hot.stored.clone();
        let db = state.db.clone();
        let a = access.clone();
        let h = heads.clone();
        let now = chrono::Utc::now().timestamp_millis();
        let stored = tokio::task::spawn_blocking(move || {
            let write = if snapshot {
                CaseWrite::Snapshot(&bytes)
            } else {
                CaseWrite::Changes(&bytes)
            };
            db.store_case(&a, write, &h, Some(&expected), now)
        })
        .await
        .map_err(blocking_error)??;
        if stored == Stored::Stale {
            return Ok(false);
        }
        if stored.wants_compaction() {
            let bytes = doc.save();
            let db = state.db.clone();
            let a = access.clone();
            let folded = tokio::task::spawn_blocking(move || {
                db.store_case(&a, CaseWrite::Snapshot(&bytes), &heads, Some(&heads), now)
            })
            .await
            .map_err(blocking_error)?;
            // The changes are stored either way; a failed fold is retried next time.
            if let Err(e) = folded {
                tracing::warn!(case = %id, error = %e, "could not fold changes into a snapshot");
            }
        }
        Ok(true)
    }

    /// Stores a checked candidate, makes it the hot document and tells the connections
    /// syncing the case (but `except`). `Ok(false)` when another writer got there first:
    /// the hot document was reloaded from storage and the caller tries again.
    async fn commit(
        state: &AppState,
        hot: &mut Hot,
        id: CaseId,
        doc: Automerge,
        admitted: Admitted,
        except: Option<u64>,
    ) -> Result<bool, AppError> {
        let Admitted { access, marks } = admitted;
        // The marks go first: a change is never stored without its mark (a mark of a
        // change that then is not stored names nothing and is never shown).
        if !marks.is_empty() {
            tracing::info!(case = %id, count = marks.len(), "changes whose own time is far from their receipt");
            let db = state.db.clone();
            tokio::task::spawn_blocking(move || db.mark_times(&id, &marks))
                .await
                .map_err(blocking_error)??;
        }
        if !Self::store(state, hot, id, &doc, &access).await? {
            Self::reload(state, hot, id).await?;
            return Ok(false);
        }
        crate::Metrics::inc(&state.metrics.changes_accepted);
        for (conn, tx) in &hot.subscribers {
            if Some(*conn) != except {
                let _ = tx.send(id);
            }
        }
        hot.stored = doc.get_heads();
        hot.doc = doc;
        hot.access = Some(access);
        Ok(true)
    }

    /// The actor and device under which the server writes for `user`.
    async fn writer(&self, state: &AppState, user: &User) -> Result<(ActorId, String), AppError> {
        if let Some(w) = self
            .writers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&user.id)
        {
            return Ok(w.clone());
        }
        let actor = ActorId::random();
        let db = state.db.clone();
        let u = user.clone();
        let hex = actor.to_hex_string();
        let device = tokio::task::spawn_blocking(move || db.server_device(&u, &hex))
            .await
            .map_err(blocking_error)??;
        let mut w = self.writers.lock().unwrap_or_else(|p| p.into_inner());
        Ok(w.entry(user.id.clone()).or_insert((actor, device)).clone())
    }

    /// A change made on the server on behalf of `user` (the console, the admin API): `f`
    /// edits the case as that user, the result passes the same checks as a phone's
    /// changes, is stored before this returns, and phones syncing the case are told. A
    /// case the user may not see is [`AppError::NotFound`], as one that does not exist.
    /// If another process wrote the case meanwhile, `f` runs again on the merged document.
    pub async fn edit<T, F>(
        &self,
        state: &AppState,
        id: CaseId,
        user: &User,
        mut f: F,
    ) -> Result<T, AppError>
    where
        F: FnMut(&mut CaseDoc, &Author, i64) -> fieldcase_core::Result<T> + Send,
        T: Send,
    {
        let (actor, device) = self.writer(state, user).await?;
        let hot_ref = self.get(state, id).await?;
        let mut hot = hot_ref.lock().await;
        let result = async {
            self.freshen(state, &mut hot, id).await?;
            for _ in 0..5 {
                if !hot.access.as_ref().is_some_and(|a| a.visible_to(user)) {
                    return Err(AppError::NotFound);
                }
                let mut doc = CaseDoc::from_automerge(hot.doc.clone())?;
                doc.set_actor(actor.clone());
                let author = Author::new(&user.id, &user.display_name, user.role, &device);
                let now = chrono::Utc::now().timestamp_millis();
                let out = f(&mut doc, &author, now)?;
                let after = doc.automerge();
                if after.get_heads() == hot.doc.get_heads() {
                    return Ok(out);
                }
                let admitted = check(
                    state,
                    user,
                    &device,
                    &hot.doc,
                    hot.access.as_ref(),
                    id,
                    after,
                )
                .await
                .map_err(AppError::BadRequest)?;
                if Self::commit(state, &mut hot, id, after.clone(), admitted, None).await? {
                    return Ok(out);
                }
            }
            Err(AppError::Conflict(
                "the case kept changing while it was edited; try again".into(),
            ))
        }
        .await;
        drop(hot);
        self.release(&id);
        result
    }

    /// The last changes of a phone leaving a case's caseload (the case was transferred or
    /// its worker unassigned while the phone was offline). Write-only: nothing of the case
    /// is answered. A departure is a one-time hand-in, from the device that made them, of
    /// changes built on a state of the case its user could see, by a device registered
    /// before the user lost the case, within [`crate::Config::departure_days`] of that;
    /// then the same checks as synced changes. Until the changes show that the device held
    /// the case, every refusal is [`AppError::NotFound`], as for a case that does not exist.
    /// Returns the number of changes that were new to the server.
    pub async fn departure(
        &self,
        state: &AppState,
        id: CaseId,
        session: &Session,
        changes: &[u8],
    ) -> Result<usize, AppError> {
        // Before any lookup. Bytes that are not Automerge chunks get the answer of changes
        // that could not be read (as for a case that does not exist); a bomb, our refusal.
        guard(state, |l| l.check_chunks(changes)).map_err(|e| match e {
            fieldcase_core::limits::Refused::Malformed(_) => AppError::NotFound,
            e => AppError::BadRequest(refused_unread(&e)),
        })?;
        let user = &session.user;
        let device_id = session.device_id.clone();
        let (device, departed) = crate::db::blocking(&state.db, move |db| {
            Ok((db.device(&device_id)?, db.departed(&id, &device_id)?))
        })
        .await?;
        let device = device.ok_or(AppError::NotFound)?;
        let hot_ref = self.get(state, id).await?;
        let mut hot = hot_ref.lock().await;
        let result = async {
            self.freshen(state, &mut hot, id).await?;
            if hot.access.is_none() {
                return Err(AppError::NotFound);
            }
            let mut claimed = false;
            for _ in 0..5 {
                let mut doc = hot.doc.clone();
                let before = hot.doc.get_heads();
                doc.load_incremental(changes)
                    .map_err(|_| AppError::NotFound)?;
                let doc = without_queue(&hot.doc, doc).map_err(|_| AppError::NotFound)?;
                let new = doc.get_changes(&before);
                if new.is_empty() {
                    // A phone asking again after a lost answer: its hand-in is stored.
                    return if departed { Ok(0) } else { Err(AppError::NotFound) };
                }
                // The state the phone's changes were made on: their dependencies the
                // server already holds.
                let mut base: Vec<ChangeHash> = new
                    .iter()
                    .flat_map(|c| c.deps().iter().copied())
                    .filter(|h| hot.doc.get_change_by_hash(h).is_some())
                    .collect();
                base.sort();
                base.dedup();
                let was_visible = !base.is_empty()
                    && hot
                        .doc
                        .fork_at(&base)
                        .ok()
                        .and_then(|then| crate::admin::access_of(id, &then).ok())
                        .is_some_and(|a| a.visible_to(user));
                if !was_visible {
                    return Err(AppError::NotFound);
                }
                let mut actors: Vec<String> =
                    new.iter().map(|c| c.actor_id().to_hex_string()).collect();
                actors.sort();
                actors.dedup();
                let (db, dev) = (state.db.clone(), device.id.clone());
                let own = tokio::task::spawn_blocking(move || -> Result<bool, AppError> {
                    for a in &actors {
                        if db.actor_owner(a)?.map(|d| d.id).as_ref() != Some(&dev) {
                            return Ok(false);
                        }
                    }
                    Ok(true)
                });
                let device_ok = own.await.map_err(blocking_error)??;
                if !device_ok {
                    return Err(AppError::NotFound);
                }
                // When the user lost the case: when the server unassigned them; else (a
                // restriction, a change of team, or a case from before this was recorded)
                // the earliest of the changes the phone had not seen (their receipt where
                // their own time is far from it).
                let (db, u) = (state.db.clone(), user.id.clone());
                let (ended, marks) = tokio::task::spawn_blocking(move || {
                    Ok::<_, AppError>((db.assignment_ended(&id, &u)?, db.time_marks(&id)?))
                })
                .await
                .map_err(blocking_error)??;
                let received: HashMap<ChangeHash, i64> =
                    marks.iter().map(|m| (m.change, m.received)).collect();
                let now = chrono::Utc::now().timestamp_millis();
                let lost_at = hot
                    .doc
                    .get_changes(&base)
                    .iter()
                    .map(|c| {
                        received
                            .get(&c.hash())
                            .copied()
                            .unwrap_or_else(|| c.timestamp().saturating_mul(1000))
                    })
                    .min()
                    .unwrap_or(now);
                let lost_at = ended.unwrap_or(lost_at);
                // A device registered after that never held the case (change times are
                // whole seconds).
                if device.created_at > lost_at.saturating_add(999) {
                    return Err(AppError::NotFound);
                }
                if departed && !claimed {
                    return Err(AppError::Conflict(
                        "this device has already handed in its last changes to this case".into(),
                    ));
                }
                let window = i64::from(state.config.departure_days) * 24 * 3600 * 1000;
                if now.saturating_sub(lost_at) > window {
                    return Err(AppError::BadRequest(format!(
                        "the last changes to a case are accepted within {} days of leaving it",
                        state.config.departure_days
                    )));
                }
                let count = new.len();
                let admitted = check(
                    state,
                    user,
                    &session.device_id,
                    &hot.doc,
                    hot.access.as_ref(),
                    id,
                    &doc,
                )
                .await
                .map_err(|reason| AppError::BadRequest(format!("changes refused: {reason}")))?;
                // The one departure of this device is claimed before anything is stored
                // (two hand-ins at once, even on two instances, cannot both pass), and
                // given back if the changes are not stored.
                if !claimed {
                    let (db, d) = (state.db.clone(), session.device_id.clone());
                    let first = tokio::task::spawn_blocking(move || {
                        db.record_departure(&id, &d, count, now)
                    })
                    .await
                    .map_err(blocking_error)??;
                    if !first {
                        return Err(AppError::Conflict(
                            "this device has already handed in its last changes to this case"
                                .into(),
                        ));
                    }
                    claimed = true;
                }
                match Self::commit(state, &mut hot, id, doc, admitted, None).await {
                    Ok(true) => {
                        tracing::info!(case = %id, user = %user.id, count, "last changes of a departing phone");
                        return Ok(count);
                    }
                    Ok(false) => continue,
                    Err(e) => {
                        self.forget_departure(state, id, &session.device_id).await;
                        return Err(e);
                    }
                }
            }
            if claimed {
                self.forget_departure(state, id, &session.device_id).await;
            }
            Err(AppError::Conflict(
                "the case kept changing while the changes were stored; try again".into(),
            ))
        }
        .await;
        drop(hot);
        self.release(&id);
        result
    }

    /// Gives back the departure claim of a device whose changes were not stored.
    async fn forget_departure(&self, state: &AppState, id: CaseId, device: &str) {
        let (db, d) = (state.db.clone(), device.to_string());
        let done = tokio::task::spawn_blocking(move || db.forget_departure(&id, &d)).await;
        if !matches!(done, Ok(Ok(()))) {
            tracing::error!(case = %id, "could not give back a departure claim");
        }
    }

    /// Drops hot documents nobody syncs (they are on disk).
    fn release(&self, id: &CaseId) {
        let mut docs = self.docs.lock().unwrap_or_else(|p| p.into_inner());
        let idle = docs
            .get(id)
            .is_some_and(|h| h.try_lock().is_ok_and(|g| g.subscribers.is_empty()));
        if idle {
            docs.remove(id);
        }
    }
}

/// The upgrade: the token is checked here, before any frame.
pub async fn endpoint(
    State(state): State<Arc<AppState>>,
    Auth(session, _): Auth,
    ws: WebSocketUpgrade,
) -> Response {
    ws.max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
        // Every open connection holds its read buffer: 16 KiB, not the default 128 KiB,
        // keeps thousands of idle phones cheap (fieldcase-soak); big messages still grow it.
        .read_buffer_size(16 * 1024)
        .write_buffer_size(16 * 1024)
        .on_upgrade(move |socket| async move {
            let mut conn = Connection::new(state, session);
            conn.run(socket).await;
        })
}

struct Connection {
    state: Arc<AppState>,
    session: Session,
    id: u64,
    peer: Option<String>,
    states: HashMap<CaseId, SyncState>,
    /// Restricted cases whose delivery on this connection is already in the audit trail.
    audited: std::collections::HashSet<CaseId>,
    tx: mpsc::UnboundedSender<CaseId>,
    rx: mpsc::UnboundedReceiver<CaseId>,
}

enum Flow {
    Continue,
    Close,
}

impl Connection {
    fn new(state: Arc<AppState>, session: Session) -> Self {
        let id = state
            .hub
            .next_conn
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (tx, rx) = mpsc::unbounded_channel();
        Connection {
            state,
            session,
            id,
            peer: None,
            states: HashMap::new(),
            audited: Default::default(),
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
        document_id: String,
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

    async fn send_error(&self, socket: &mut WebSocket, message: &str, document_id: Option<String>) {
        self.send_error_of(socket, message, document_id, None).await
    }

    /// An error frame; a refusal carries its kind's code.
    async fn send_error_of(
        &self,
        socket: &mut WebSocket,
        message: &str,
        document_id: Option<String>,
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
            _ => Flow::Continue,
        }
    }

    async fn unavailable(&self, socket: &mut WebSocket, document_id: String) -> Flow {
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
        document_id: String,
        data: Vec<u8>,
        request: bool,
    ) -> Flow {
        let Some(id) = protocol::case_id(&document_id) else {
            // A malformed id is not a case anyone may see.
            return self.unavailable(socket, document_id).await;
        };
        let message = match SyncMessage::decode(&data) {
            Ok(m) => m,
            Err(_) => {
                self.send_error(socket, "malformed sync message", Some(document_id))
                    .await;
                return Flow::Close;
            }
        };
        if let Err(e) = guard(&self.state, |l| l.check_message(&message)) {
            self.send_error(socket, &refused_unread(&e), Some(document_id))
                .await;
            return Flow::Close;
        }
        let hot = match self.state.hub.get(&self.state, id).await {
            Ok(h) => h,
            Err(e) => {
                tracing::error!(error = %e, "loading a case");
                self.send_error(
                    socket,
                    "the server could not load this case",
                    Some(document_id),
                )
                .await;
                return Flow::Continue;
            }
        };
        let mut hot = hot.lock().await;
        if let Err(e) = self.state.hub.freshen(&self.state, &mut hot, id).await {
            tracing::error!(error = %e, "reloading a case");
            self.send_error(
                socket,
                "the server could not load this case",
                Some(document_id),
            )
            .await;
            return Flow::Continue;
        }
        let user = &self.session.user;
        match hot
            .access
            .as_ref()
            .map(|a| (a.visible_to(user), a.restricted))
        {
            // A restricted case is audited once per connection (a sync is several
            // messages), before anything of it is delivered.
            Some((true, true)) if !self.audited.contains(&id) => {
                tracing::info!(case = %id, user = %user.id, "restricted case synced");
                let db = self.state.db.clone();
                let user_id = user.id.clone();
                let now = chrono::Utc::now().timestamp_millis();
                let done =
                    tokio::task::spawn_blocking(move || db.audit(&user_id, &id, "sync", now)).await;
                if !matches!(done, Ok(Ok(()))) {
                    drop(hot);
                    self.send_error(
                        socket,
                        "the server could not record this access; try again",
                        Some(document_id),
                    )
                    .await;
                    return Flow::Continue;
                }
                self.audited.insert(id);
            }
            Some((true, _)) => {}
            // A case the caller may not see is answered exactly as one that does not exist,
            // from an empty document that nothing keeps. A new case (changes for an unknown
            // id) goes on below, to be checked and kept.
            Some((false, _)) => {
                drop(hot);
                self.state.hub.release(&id);
                return self.absent(socket, id, document_id, message, request).await;
            }
            None if request || message.changes.is_empty() => {
                drop(hot);
                self.state.hub.release(&id);
                return self.absent(socket, id, document_id, message, request).await;
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
            self.state.hub.release(&id);
            crate::Metrics::inc(&self.state.metrics.sync_cases_over_limit);
            tracing::warn!(user = %user.id, conn = self.id, "sync connection over its case limit");
            self.send_error(
                socket,
                "too many cases on one connection; sync the rest on a new connection",
                Some(document_id),
            )
            .await;
            return Flow::Continue;
        }
        // Taken out of the map while it is worked on; put back on every path.
        let mut sync_state = self.states.remove(&id).unwrap_or_default();
        let flow = self
            .apply(socket, &mut hot, id, &document_id, message, &mut sync_state)
            .await;
        self.states.insert(id, sync_state);
        let Some(flow) = flow else {
            if hot.access.is_none() {
                drop(hot);
                self.states.remove(&id);
                self.state.hub.release(&id);
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
        self.send_sync(socket, document_id, reply).await
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
        document_id: String,
        message: SyncMessage,
        request: bool,
    ) -> Flow {
        if request {
            return self.unavailable(socket, document_id).await;
        }
        let empty = Automerge::new();
        let mut doc = empty.clone();
        let mut state = SyncState::new();
        let pushed = !message.changes.is_empty();
        if doc.receive_sync_message(&mut state, message).is_err() {
            if pushed {
                return self
                    .refuse(socket, id, &document_id, "the changes could not be applied")
                    .await;
            }
            return self.unavailable(socket, document_id).await;
        }
        if pushed {
            let user = &self.session.user;
            let device = &self.session.device_id;
            if let Err(reason) = check(&self.state, user, device, &empty, None, id, &doc).await {
                return self.refuse(socket, id, &document_id, &reason).await;
            }
            tracing::warn!(case = %id, user = %user.id, "a new case under the id of a case its sender may not see; nothing kept");
        }
        let reply = doc.generate_sync_message(&mut state);
        self.send_sync(socket, document_id, reply).await
    }

    /// Tells the client its changes to a case were refused, and why (our words).
    async fn refuse(
        &self,
        socket: &mut WebSocket,
        id: CaseId,
        document_id: &str,
        reason: &str,
    ) -> Flow {
        tracing::warn!(case = %id, user = %self.session.user.id, reason = %printable(reason), "changes refused");
        crate::Metrics::inc(&self.state.metrics.changes_refused);
        // The kinds are typed in the admission check's rework (issue 14); until then every
        // refusal of changes is of kind `other`.
        self.send_error_of(
            socket,
            &format!("changes refused: {reason}"),
            Some(document_id.into()),
            Some(fieldcase_core::RefusalKind::Other),
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
        document_id: &str,
        message: SyncMessage,
        sync_state: &mut SyncState,
    ) -> Option<Flow> {
        let user = &self.session.user;
        if message.changes.is_empty() {
            if hot.doc.receive_sync_message(sync_state, message).is_err() {
                self.send_error(socket, "sync message refused", Some(document_id.into()))
                    .await;
                return None;
            }
            return Some(Flow::Continue);
        }
        // Applied to a copy, checked, stored, and only then made the hot document. If
        // another process stored the case meanwhile, the message is applied again to the
        // stored document.
        for _ in 0..5 {
            // Reloaded after another writer (an assignment) got there first: the caller
            // may have lost the case meanwhile.
            if hot.access.as_ref().is_some_and(|a| !a.visible_to(user)) {
                self.unavailable(socket, document_id.to_string()).await;
                return None;
            }
            let mut doc = hot.doc.clone();
            let mut st = sync_state.clone();
            let before = hot.doc.get_heads();
            let outcome = match doc.receive_sync_message(&mut st, message.clone()) {
                Ok(())
                    if !held_back_are_own(&self.state, &doc, &message, &self.session.device_id)
                        .await =>
                {
                    Err("an actor of these changes is not registered to this device".to_string())
                }
                Ok(()) => {
                    check(
                        &self.state,
                        user,
                        &self.session.device_id,
                        &hot.doc,
                        hot.access.as_ref(),
                        id,
                        &doc,
                    )
                    .await
                }
                Err(_) => Err("the changes could not be applied".to_string()),
            };
            // Changes Automerge holds back for a dependency it lacks stay with the case's
            // document: the sync protocol then asks this sender for what is missing (a
            // phone whose server died mid-sync resends in that order). They are checked
            // when they apply.
            let admitted = match outcome {
                Ok(admitted) => admitted,
                Err(reason) => {
                    self.refuse(socket, id, document_id, &reason).await;
                    return None;
                }
            };
            if doc.get_heads() != before {
                match Hub::commit(&self.state, hot, id, doc, admitted, Some(self.id)).await {
                    Ok(true) => {
                        *sync_state = st;
                        return Some(Flow::Continue);
                    }
                    Ok(false) => continue,
                    Err(e) => {
                        tracing::error!(case = %id, error = %e, "could not store accepted changes");
                        self.send_error(
                            socket,
                            "the server could not store the changes; nothing was kept",
                            Some(document_id.into()),
                        )
                        .await;
                        return None;
                    }
                }
            }
            hot.doc = doc;
            hot.access = Some(admitted.access);
            *sync_state = st;
            return Some(Flow::Continue);
        }
        self.send_error(
            socket,
            "the case kept changing while the changes were stored; nothing was kept",
            Some(document_id.into()),
        )
        .await;
        None
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
        self.send_sync(socket, id.to_string(), reply).await
    }
}

/// What [`check`] admits: the access facts of the candidate, and the changes whose own
/// time is far from now (their receipt).
pub(crate) struct Admitted {
    pub(crate) access: CaseAccess,
    pub(crate) marks: Vec<TimeMark>,
}

/// Checks a candidate document written by `user` on `device` against the document it grew
/// from (`before`, with its access facts `prior`; `None` for a case new to the server):
/// actors, schema, its id, authority, who and when its stamps name, assignees, ownership of
/// a new case. The one place every write path (sync, departure, console, REST) goes
/// through. The reason for a refusal is ours (no client data).
pub(crate) async fn check(
    state: &AppState,
    user: &User,
    device: &str,
    before: &Automerge,
    prior: Option<&CaseAccess>,
    id: CaseId,
    after: &Automerge,
) -> Result<Admitted, String> {
    let before_heads = before.get_heads();
    let new_changes = after.get_changes(&before_heads);
    let mut actors: Vec<String> = new_changes
        .iter()
        .map(|c| c.actor_id().to_hex_string())
        .collect();
    actors.sort();
    actors.dedup();
    let writers = actors.clone();
    let db = state.db.clone();
    let device = device.to_string();
    let bound = tokio::task::spawn_blocking(move || -> Result<bool, AppError> {
        for a in &actors {
            if db.actor_device(a)?.as_deref() != Some(device.as_str()) {
                return Ok(false);
            }
        }
        Ok(true)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    if !bound {
        return Err("an actor of these changes is not registered to this device".into());
    }
    schema::validate(after).map_err(|v| format!("invalid input at `{}`: {}", v.path, v.reason))?;
    // Attribution: an actor records only itself, and only as the signed-in user; the
    // stamps of its entries and decisions name that user and the change's own time.
    let records = fieldcase_core::case::inspect::actor_records(after);
    for w in &writers {
        if fieldcase_core::case::inspect::writes_foreign_actor_entry(after, w) {
            return Err("an actor may record only itself in `actors`".into());
        }
        if records.get(w).is_some_and(|r| r.user_id != user.id) {
            return Err("these changes record their author as another user".into());
        }
    }
    if let Some(reason) = authority::stamp_violation(before, after, &new_changes, &user.id) {
        return Err(reason.into());
    }
    if authority::claims_authority(&new_changes, user.role) {
        return Err("these changes are labelled as an action that needs a supervisor".into());
    }
    let (file, _) = CaseDoc::outline_of(after).map_err(|e| e.to_string())?;
    // The document must be the case it was sent as: its inner id decides where the
    // server stores it and who may see it.
    if file.id != id.to_string() {
        return Err("the document is not the case it was sent as".into());
    }
    let team = file.team.clone().unwrap_or_default();
    // Who must be an active worker or supervisor of the case's team: everyone newly
    // assigned, and everyone when the case is new or changes team.
    let mut newcomers: Vec<String> = match prior {
        Some(p) if p.team == team => file
            .assigned
            .iter()
            .filter(|u| !p.assigned.contains(u))
            .cloned()
            .collect(),
        _ => file.assigned.clone(),
    };
    match prior {
        Some(_) => {
            // The stored document was validated when it was accepted.
            let (was, _) = CaseDoc::outline_of(before).map_err(|e| e.to_string())?;
            if let Some(reason) = authority::violation(&was, &file, user.role) {
                return Err(reason.into());
            }
            if was.case_manager != file.case_manager || was.team != file.team {
                newcomers.extend(file.case_manager.clone());
            }
        }
        None => {
            authority::may_create(&file, &user.id, user.team.as_deref(), user.role)
                .map_err(str::to_string)?;
            if let Some(reason) = authority::new_case_history_violation(&new_changes, user.role) {
                return Err(reason.into());
            }
            newcomers.extend(file.case_manager.clone());
        }
    }
    if file.assigned.is_empty() && prior.is_none_or(|p| !p.assigned.is_empty()) {
        return Err("a case needs at least one assigned worker".into());
    }
    if prior.is_none_or(|p| p.team != team) {
        let db = state.db.clone();
        let t = team.clone();
        let exists = tokio::task::spawn_blocking(move || {
            db.teams().map(|all| all.iter().any(|x| x.name == t))
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
        if !exists {
            return Err("a case belongs to a team that exists".into());
        }
    }
    newcomers.sort();
    newcomers.dedup();
    if !newcomers.is_empty() {
        let db = state.db.clone();
        let t = team.clone();
        let members = tokio::task::spawn_blocking(move || -> Result<bool, AppError> {
            for u in &newcomers {
                match db.user_by_id(u)? {
                    Some(u)
                        if !u.disabled
                            && u.role != fieldcase_core::Role::Admin
                            && u.team.as_deref() == Some(t.as_str()) => {}
                    _ => return Ok(false),
                }
            }
            Ok(true)
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
        if !members {
            return Err(
                "a case is assigned only to active workers and supervisors of its team".into(),
            );
        }
    }
    let marks = time_marks(state, after, &new_changes);
    Ok(Admitted {
        access: CaseAccess {
            id,
            team,
            restricted: CaseDoc::restricted_in(after),
            assigned: file.assigned.clone(),
        },
        marks,
    })
}

/// The changes whose own time (the device's clock, which nothing checks) cannot be the
/// time they were made: later than their receipt now, earlier than their receipt by more
/// than a phone stays offline ([`crate::Config::offline_days`]), or earlier than a change
/// they build on. The console shows the receipt for these, with the claim beside it.
fn time_marks(state: &AppState, doc: &Automerge, changes: &[automerge::Change]) -> Vec<TimeMark> {
    let now = chrono::Utc::now().timestamp_millis();
    let oldest = now - i64::from(state.config.offline_days) * 24 * 3600 * 1000;
    changes
        .iter()
        .filter_map(|c| {
            let claimed = c.timestamp().saturating_mul(1000);
            let after_deps = c
                .deps()
                .iter()
                .filter_map(|d| doc.get_change_by_hash(d))
                // A dependency's own time counts no later than now: one change dated in
                // the future must not mark every honest change built on it.
                .map(|d| d.timestamp().saturating_mul(1000).min(now))
                .max()
                .unwrap_or(i64::MIN);
            let off = claimed > now + CLOCK_SKEW_MS
                || claimed < oldest
                || claimed.saturating_add(CLOCK_SKEW_MS) < after_deps;
            off.then(|| TimeMark {
                change: c.hash(),
                claimed,
                received: now,
            })
        })
        .collect()
}

/// Whether the changes of `message` that Automerge holds back in `doc` for a dependency it
/// lacks (they wait, unchecked, until it arrives) are all of actors registered to `device`:
/// no one leaves changes waiting under a colleague's actor, where they could take the
/// colleague's next sequence number. Free when nothing is held back (the usual case).
async fn held_back_are_own(
    state: &AppState,
    doc: &Automerge,
    message: &SyncMessage,
    device: &str,
) -> bool {
    if doc.get_missing_deps(&[]).is_empty() {
        return true;
    }
    let mut actors: Vec<String> = message
        .changes
        .iter()
        .filter_map(|chunk| automerge::Change::from_bytes(chunk.to_vec()).ok())
        .filter(|c| doc.get_change_by_hash(&c.hash()).is_none())
        .map(|c| c.actor_id().to_hex_string())
        .collect();
    actors.sort();
    actors.dedup();
    let (db, device) = (state.db.clone(), device.to_string());
    tokio::task::spawn_blocking(move || {
        actors
            .iter()
            .all(|a| db.actor_device(a).ok().flatten().as_deref() == Some(device.as_str()))
    })
    .await
    .unwrap_or(false)
}

/// A candidate document without the changes Automerge holds back for dependencies it lacks
/// (a departure's body may carry such changes; they were not checked, and must not wait in
/// the shared document, where they could take a colleague's next sequence number): the
/// document it grew from plus the candidate's applied changes. A departure is one request,
/// so nothing asks for the missing part later.
fn without_queue(from: &Automerge, candidate: Automerge) -> Result<Automerge, String> {
    if candidate.get_missing_deps(&[]).is_empty() {
        return Ok(candidate);
    }
    let mut clean = from.clone();
    clean
        .apply_changes(candidate.get_changes(&from.get_heads()))
        .map_err(|_| "the changes could not be applied".to_string())?;
    Ok(clean)
}

/// How far a device's clock may run from the server's before its changes' times are
/// marked: phones set their own clocks.
pub const CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;
