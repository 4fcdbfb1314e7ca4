//! The phone's sync client: blocking (the app calls it from a background thread).
//!
//! `CaseStore::login` registers this device and its Automerge actor with the server.
//! `CaseStore::sync` brings the whole caseload up to date in both directions:
//! 1. `GET /v1/caseload` lists the ids and heads of every case the user may see; cases
//!    whose heads match the local ones are skipped, so an unchanged caseload costs one
//!    request;
//! 2. the rest are synced over one WebSocket (`/v1/sync`, automerge-repo protocol) with
//!    the sync state persisted from the last time, so only what is missing travels;
//! 3. received changes are committed to the store as they arrive; a dropped connection
//!    loses nothing, and the next sync completes.
//!
//! [`CaseStore::sync_with`] takes a [`SyncControl`]: another thread may cancel the sync
//! (it stops between frames, within [`POLL`], keeping every change already committed, so a
//! later sync completes), and it hears the progress ([`SyncProgress`]) as it goes.

use std::collections::{HashMap, HashSet};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use automerge::sync::{Message, State as SyncState, SyncDoc};
use automerge::Automerge;
use serde::{Deserialize, Serialize};
use tungstenite::client::IntoClientRequest;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::WebSocket;

use super::protocol::{DocumentId, Frame, PeerMetadata, MAX_FRAME, SCHEMA_HEADER};
use crate::case::inspect::Count;
use crate::case::{CaseDoc, Role};
use crate::error::{Error, Result};
use crate::ids::CaseId;
use crate::schema::SCHEMA_REVISION;
use crate::store::{CaseStore, UserContext};
use crate::{Refusal, RefusalKind};

/// How this phone names its version to the server (shown to administrators beside the
/// device): the fieldcase core it runs.
const APP_VERSION: &str = concat!("fieldcase ", env!("CARGO_PKG_VERSION"));

/// How long the client waits for the server before giving up on this sync.
const TIMEOUT: Duration = Duration::from_secs(30);

/// How often a sync waiting for the server looks whether it was cancelled.
pub const POLL: Duration = Duration::from_millis(50);

/// How far a sync got: cases whose changes were sent, cases that received changes, cases
/// done, out of the cases that had something to exchange (`total`; unchanged cases are
/// not counted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SyncProgress {
    pub sent: Count,
    pub received: Count,
    pub done: Count,
    pub total: Count,
}

/// Cancels a running sync from another thread, and hears its progress.
#[derive(Default)]
pub struct SyncControl {
    cancelled: AtomicBool,
    #[allow(clippy::type_complexity)]
    progress: Option<Box<dyn Fn(SyncProgress) + Send + Sync>>,
}

impl std::fmt::Debug for SyncControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncControl")
            .field("cancelled", &self.is_cancelled())
            .finish_non_exhaustive()
    }
}

impl SyncControl {
    /// A control that reports progress to `progress` (called on the syncing thread).
    pub fn with_progress(progress: impl Fn(SyncProgress) + Send + Sync + 'static) -> Self {
        SyncControl {
            cancelled: AtomicBool::new(false),
            progress: Some(Box::new(progress)),
        }
    }

    /// Asks the sync to stop: it returns [`Error::Cancelled`] at its next step.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::Cancelled)
        } else {
            Ok(())
        }
    }

    fn report(&self, p: SyncProgress) {
        if let Some(f) = &self.progress {
            f(p);
        }
    }
}

/// What `login` returns: the server's answer to `POST /v1/login`, one definition for
/// both sides (the server sends this type).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record), uniffi(name = "Session"))]
pub struct ServerSession {
    pub token: String,
    pub user_id: String,
    pub device_id: String,
    /// Milliseconds since the Unix epoch.
    pub expires_at: i64,
}

/// A case that could not be synced, and why (the reason is the server's or ours; it never
/// contains client data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CaseSyncError {
    pub case_id: String,
    pub reason: String,
    /// When the server refused the case's changes: the kind of rule they broke (the case
    /// is held back from later syncs, see `CaseStore::refused_cases`).
    #[serde(default)]
    pub refusal: Option<RefusalKind>,
}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SyncReport {
    /// Cases whose local changes were sent.
    pub sent: Count,
    /// Cases that received changes from the server.
    pub received: Count,
    /// Cases new on this device.
    pub new_cases: Count,
    /// Conflicts that appeared in the synced cases (a supervisor resolves them).
    pub new_conflicts: Count,
    /// Cases already up to date (skipped by comparing heads).
    pub unchanged: Count,
    /// Cases left out because the server refused them earlier (see `CaseStore::refused_cases`).
    pub held_back: Count,
    /// Cases removed from this device because its user no longer sees them (transferred
    /// or unassigned), after the server received every change made here.
    pub removed: Count,
    pub errors: Vec<CaseSyncError>,
    /// Every case this sync changed on this device (received changes, new, removed), so
    /// that what shows them can refresh.
    #[serde(default)]
    pub changed: Vec<String>,
    /// Whether this sync brought a new partner directory.
    #[serde(default)]
    pub directory_updated: bool,
    /// The version of the partner directory held after this sync (0: none).
    #[serde(default)]
    pub directory_version: i64,
}

/// One case of a caseload, as `GET /v1/caseload` answers: its id and current heads (hex).
/// One definition for both sides (the server sends this type).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseloadEntry {
    pub id: String,
    pub heads: Vec<String>,
}

#[derive(Deserialize)]
struct Me {
    user_id: String,
    name: String,
    role: Role,
}

fn base(server_url: &str) -> String {
    server_url.trim_end_matches('/').to_string()
}

fn net(e: impl std::fmt::Display) -> Error {
    Error::Network(e.to_string())
}

/// The server's "update the app" answer: the revision it needs, from its body.
fn update_app(body: &str) -> Error {
    let needed = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("needed")?.as_u64())
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(SCHEMA_REVISION + 1);
    Error::UpdateApp {
        needed,
        this: SCHEMA_REVISION,
    }
}

fn status_error(status: u16) -> Error {
    match status {
        401 => Error::Unauthorized("the server refused the credentials or token".into()),
        429 => Error::Unauthorized("too many attempts; try again later".into()),
        s => Error::Network(format!("the server answered {s}")),
    }
}

/// Certificate authorities trusted for the server's TLS certificate instead of the public
/// web's (an agency's own server with its own authority).
#[derive(Clone)]
pub(crate) struct TlsRoots {
    http: ureq::tls::TlsConfig,
    websocket: std::sync::Arc<rustls::ClientConfig>,
}

impl std::fmt::Debug for TlsRoots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsRoots").finish_non_exhaustive()
    }
}

impl TlsRoots {
    fn from_pem(pem: &str) -> Result<Self> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::CertificateDer;
        let bad = |why: &str| Error::invalid("trusted_roots", why);
        let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|_| bad("not PEM certificates"))?;
        if certs.is_empty() {
            return Err(bad("no certificate found"));
        }
        let mut store = rustls::RootCertStore::empty();
        for c in &certs {
            store
                .add(c.clone())
                .map_err(|_| bad("a certificate cannot be a trust anchor"))?;
        }
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let websocket = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|_| bad("no TLS version available"))?
            .with_root_certificates(store)
            .with_no_client_auth();
        let http_roots: Vec<ureq::tls::Certificate<'static>> = certs
            .iter()
            .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
            .collect();
        let http = ureq::tls::TlsConfig::builder()
            .root_certs(ureq::tls::RootCerts::new_with_certs(&http_roots))
            .build();
        Ok(TlsRoots {
            http,
            websocket: std::sync::Arc::new(websocket),
        })
    }
}

fn agent(roots: Option<&TlsRoots>) -> ureq::Agent {
    let mut config = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(false);
    if let Some(r) = roots {
        config = config.tls_config(r.http.clone());
    }
    config.build().into()
}

/// A JSON GET or POST; 403 `wipe` becomes [`Error::Wiped`] after purging every case.
fn call<T: serde::de::DeserializeOwned>(
    store: &CaseStore,
    url: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> Result<T> {
    let body = body.map(|b| ("application/json", b.to_string().into_bytes()));
    let text = request(store, url, token, body)?;
    serde_json::from_str(&text)
        .map_err(|_| Error::Network("the server's answer was not understood".into()))
}

/// A GET, or a POST of `(content type, bytes)`; the answer's text when it is 200.
fn request(
    store: &CaseStore,
    url: &str,
    token: Option<&str>,
    body: Option<(&str, Vec<u8>)>,
) -> Result<String> {
    let agent = agent(store.tls_roots().as_ref());
    let mut response = match body {
        Some((content_type, bytes)) => {
            let mut req = agent
                .post(url)
                .header("content-type", content_type)
                .header(SCHEMA_HEADER, &SCHEMA_REVISION.to_string());
            if let Some(t) = token {
                req = req.header("authorization", &format!("Bearer {t}"));
            }
            req.send(&bytes[..]).map_err(net)?
        }
        None => {
            let mut req = agent
                .get(url)
                .header(SCHEMA_HEADER, &SCHEMA_REVISION.to_string());
            if let Some(t) = token {
                req = req.header("authorization", &format!("Bearer {t}"));
            }
            req.call().map_err(net)?
        }
    };
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().map_err(net)?;
    answer(store, status, &text)?;
    Ok(text)
}

/// What an answer other than `200` means: a wipe (the device was disabled), an app to
/// update, or an error of its status.
fn answer(store: &CaseStore, status: u16, text: &str) -> Result<()> {
    if status == 403 && text.contains("\"wipe\"") {
        for id in store.case_ids() {
            store.purge_case(&id)?;
        }
        store.sign_out()?;
        return Err(Error::Wiped);
    }
    if status == 426 {
        return Err(update_app(text));
    }
    if status != 200 {
        return Err(status_error(status));
    }
    Ok(())
}

/// The largest partner directory a phone reads, in bytes (the server's
/// `directory.max_bytes` is below it by default).
pub(crate) const MAX_DIRECTORY_BYTES: u64 = 64 * 1024 * 1024;

impl CaseStore {
    /// Trusts these certificate authorities (PEM, one or more) for the server's TLS
    /// certificate, instead of the public web's: for an agency whose server has a
    /// certificate from its own authority. Holds until the store is closed.
    pub fn set_trusted_roots(&self, pem: &str) -> Result<()> {
        let roots = TlsRoots::from_pem(pem)?;
        *self.tls_roots.lock().unwrap_or_else(|p| p.into_inner()) = Some(roots);
        Ok(())
    }

    fn tls_roots(&self) -> Option<TlsRoots> {
        self.tls_roots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Signs in on the server: registers this device and the actor it writes with, and
    /// signs the user in on this store. Returns the session (keep the token in the
    /// platform keystore).
    pub fn login(
        &self,
        server_url: &str,
        username: &str,
        password: &str,
        device_name: &str,
    ) -> Result<ServerSession> {
        let base = base(server_url);
        let known_device = self
            .user()
            .map(|u| u.device_id)
            .filter(|d| d.starts_with("d-"));
        let login = |actor: String, device: Option<String>| -> Result<ServerSession> {
            let mut body = serde_json::json!({
                "username": username, "password": password, "device_name": device_name, "actor_id": actor,
            });
            if let Some(d) = device {
                body["device_id"] = serde_json::json!(d);
            }
            call(self, &format!("{base}/v1/login"), None, Some(body))
        };
        let mut session = login(self.actor_id().to_hex_string(), known_device.clone())?;
        let me: Me = call(self, &format!("{base}/v1/me"), Some(&session.token), None)?;
        let before = self.actor_id();
        self.sign_in(UserContext {
            user_id: me.user_id,
            name: me.name,
            role: me.role,
            device_id: session.device_id.clone(),
        })?;
        if self.actor_id() != before {
            // Another user on this device writes with a new actor: register that one too.
            session = login(
                self.actor_id().to_hex_string(),
                Some(session.device_id.clone()),
            )?;
        }
        // A fresh login registers this device's actor anew: cases refused for an unknown
        // actor may sync now, so they are tried again.
        self.retry_all_refused()?;
        Ok(session)
    }

    /// Ends the session on the server and signs the user out of this store.
    pub fn logout(&self, server_url: &str, token: &str) -> Result<()> {
        let _: serde_json::Value = call(
            self,
            &format!("{}/v1/logout", base(server_url)),
            Some(token),
            Some(serde_json::json!({})),
        )?;
        self.sign_out()
    }

    /// Brings every case of the user's caseload up to date in both directions.
    pub fn sync(&self, server_url: &str, token: &str) -> Result<SyncReport> {
        self.sync_with(server_url, token, &SyncControl::default())
    }

    /// [`CaseStore::sync`], cancellable through `control`, which also hears the progress.
    /// A cancelled sync returns [`Error::Cancelled`]; what it received is kept.
    pub fn sync_with(
        &self,
        server_url: &str,
        token: &str,
        control: &SyncControl,
    ) -> Result<SyncReport> {
        let mut report = self.sync_cases(server_url, token, control)?;
        // The partner directory, after the cases: only when the server holds a newer one.
        control.check()?;
        report.directory_updated = self.fetch_directory(&base(server_url), token)?;
        report.directory_version = self.directory_version();
        Ok(report)
    }

    /// Fetches the partner directory when the server's is not the one held (`GET
    /// /v1/directory?have=N`: `204` when it is), at most
    /// [`MAX_DIRECTORY_BYTES`]; answers whether a new one was kept.
    fn fetch_directory(&self, base: &str, token: &str) -> Result<bool> {
        #[derive(serde::Deserialize)]
        struct Snapshot {
            version: i64,
            directory: crate::directory::Directory,
        }
        let url = format!("{base}/v1/directory?have={}", self.directory_version());
        let agent = agent(self.tls_roots().as_ref());
        let mut response = agent
            .get(&url)
            .header(SCHEMA_HEADER, &SCHEMA_REVISION.to_string())
            .header("authorization", &format!("Bearer {token}"))
            .call()
            .map_err(net)?;
        let status = response.status().as_u16();
        if status == 204 {
            return Ok(false);
        }
        let bytes = response
            .body_mut()
            .with_config()
            .limit(MAX_DIRECTORY_BYTES)
            .read_to_vec()
            .map_err(net)?;
        if status != 200 {
            answer(self, status, &String::from_utf8_lossy(&bytes))?;
        }
        let snapshot: Snapshot = serde_json::from_slice(&bytes)
            .map_err(|_| Error::Network("the server's directory was not understood".into()))?;
        self.set_directory(snapshot.version, snapshot.directory)?;
        Ok(true)
    }

    /// The cases' part of [`CaseStore::sync_with`].
    fn sync_cases(
        &self,
        server_url: &str,
        token: &str,
        control: &SyncControl,
    ) -> Result<SyncReport> {
        control.check()?;
        let base = base(server_url);
        let caseload: Vec<CaseloadEntry> =
            call(self, &format!("{base}/v1/caseload"), Some(token), None)?;
        // The team's deadlines: due dates are computed on the phone, offline, with them.
        let deadlines: crate::deadlines::Deadlines =
            call(self, &format!("{base}/v1/settings"), Some(token), None)?;
        self.set_deadlines(deadlines)?;
        let mut report = SyncReport::default();
        let peer = format!("server:{base}");
        let local: HashSet<CaseId> = self.case_ids().into_iter().collect();
        let mut server_heads: HashMap<CaseId, Vec<String>> = HashMap::new();
        for e in caseload {
            if let Ok(id) = e.id.parse::<CaseId>() {
                server_heads.insert(id, e.heads);
            }
        }
        let held_back: HashSet<CaseId> =
            self.refused_cases().into_iter().map(|(id, _)| id).collect();
        report.held_back = held_back.len();
        control.check()?;
        let departed =
            self.leave_cases(&base, token, &local, &server_heads, &mut report, control)?;
        let mut all: Vec<CaseId> = local
            .iter()
            .chain(server_heads.keys())
            .filter(|id| !held_back.contains(id) && !departed.contains(id))
            .copied()
            .collect();
        all.sort();
        all.dedup();
        let mut work: Vec<CaseId> = Vec::new();
        for id in &all {
            let same = match (server_heads.get(id), local.contains(id)) {
                (Some(theirs), true) => {
                    // From the index: no document is loaded for an unchanged case.
                    let mut mine: Vec<String> =
                        self.heads(id)?.iter().map(|h| h.to_string()).collect();
                    let mut theirs = theirs.clone();
                    mine.sort();
                    theirs.sort();
                    mine == theirs
                }
                _ => false,
            };
            if same {
                report.unchanged += 1;
            } else {
                work.push(*id);
            }
        }
        let total = work.len();
        control.report(SyncProgress {
            total,
            ..Default::default()
        });
        if work.is_empty() {
            return Ok(report);
        }
        control.check()?;
        let conflicts_before: HashMap<CaseId, usize> = work
            .iter()
            .filter_map(|id| self.summary(id).ok().map(|s| (*id, s.conflicts)))
            .collect();
        let mut socket = connect(&base, token, self.tls_roots())?;
        let me = format!("phone-{}", self.device_id());
        send(
            &mut socket,
            &Frame::Join {
                sender_id: me.clone(),
                metadata: PeerMetadata::default(),
                versions: None,
            },
        )?;
        match read(&mut socket, control, Instant::now() + TIMEOUT)? {
            Frame::Peer { .. } => {}
            Frame::Error { message, .. } => {
                return Err(Error::Network(format!("the server refused: {message}")))
            }
            _ => return Err(Error::Network("unexpected answer to join".into())),
        }
        // Tell the server how many cases may hold changes it lacks (those to exchange, and
        // those held back after a refusal), so an administrator can see it for a device.
        let offered = work.iter().filter(|id| local.contains(id)).count() + held_back.len();
        send(
            &mut socket,
            &Frame::Status {
                sender_id: me.clone(),
                unsynced_cases: u32::try_from(offered).unwrap_or(u32::MAX),
                done: false,
                app_version: Some(APP_VERSION.into()),
            },
        )?;

        // Local cases sync through the store; new ones into a scratch document first.
        let mut states: HashMap<CaseId, SyncState> = HashMap::new();
        let mut scratch: HashMap<CaseId, Automerge> = HashMap::new();
        let mut pending: HashSet<CaseId> = HashSet::new();
        let mut sent_changes: HashSet<CaseId> = HashSet::new();
        let mut received: HashSet<CaseId> = HashSet::new();
        for id in &work {
            let mut state = match self.load_sync_state(id, &peer) {
                Ok(Some(b)) => SyncState::decode(&b).unwrap_or_default(),
                _ => SyncState::new(),
            };
            let (message, request) = if local.contains(id) {
                (
                    self.with_doc(id, |d| Ok(d.generate_sync_message(&mut state)))?,
                    false,
                )
            } else {
                let doc = scratch.entry(*id).or_default();
                (doc.generate_sync_message(&mut state), true)
            };
            states.insert(*id, state);
            if let Some(m) = message {
                if !m.changes.is_empty() {
                    sent_changes.insert(*id);
                }
                let (document_id, data) = (DocumentId::from(*id), m.encode());
                let f = if request {
                    Frame::Request {
                        sender_id: me.clone(),
                        target_id: String::new(),
                        document_id,
                        data,
                    }
                } else {
                    Frame::Sync {
                        sender_id: me.clone(),
                        target_id: String::new(),
                        document_id,
                        data,
                    }
                };
                send(&mut socket, &f)?;
                pending.insert(*id);
            }
        }

        let deadline = Instant::now() + TIMEOUT;
        let mut refused: HashSet<CaseId> = HashSet::new();
        let progress =
            |pending: &HashSet<CaseId>, sent: &HashSet<CaseId>, received: &HashSet<CaseId>| {
                control.report(SyncProgress {
                    sent: sent.len(),
                    received: received.len(),
                    done: total - pending.len(),
                    total,
                })
            };
        if !sent_changes.is_empty() {
            progress(&pending, &sent_changes, &received);
        }
        while !pending.is_empty() {
            if Instant::now() > deadline {
                for id in pending.drain() {
                    report.errors.push(CaseSyncError {
                        case_id: id.to_string(),
                        reason: "the server did not answer in time".into(),
                        refusal: None,
                    });
                }
                break;
            }
            let frame = match read(&mut socket, control, deadline) {
                Ok(f) => f,
                Err(e) => {
                    // Save what we have; the next sync resumes from there.
                    self.save_states(&states, &peer, &scratch);
                    let _ = socket.close(None);
                    let _ = socket.flush();
                    return Err(e);
                }
            };
            let counts = (pending.len(), sent_changes.len(), received.len());
            match frame {
                Frame::Sync {
                    document_id, data, ..
                } => {
                    let Some(id) = document_id.case().filter(|i| states.contains_key(i)) else {
                        continue;
                    };
                    // Checked before Automerge reads it: a server (or whoever answers in
                    // its name) must not make the phone inflate gigabytes.
                    let message = match Message::decode(&data) {
                        Ok(m) => crate::limits::Limits::default()
                            .check_message(&m)
                            .map(|()| m)
                            .map_err(|r| {
                                Error::Network(format!(
                                    "a sync message from the server was refused: {r}"
                                ))
                            })?,
                        Err(_) => {
                            return Err(Error::Network(
                                "a sync message from the server was malformed".into(),
                            ))
                        }
                    };
                    if !message.changes.is_empty() {
                        received.insert(id);
                    }
                    let state = states.get_mut(&id).expect("checked");
                    let (reply, mut ours) = if let Some(doc) = scratch.get_mut(&id) {
                        doc.receive_sync_message(state, message)?;
                        (doc.generate_sync_message(state), doc.get_heads())
                    } else {
                        self.sync_receive(&id, state, message)?;
                        self.with_doc(&id, |d| Ok((d.generate_sync_message(state), d.heads())))?
                    };
                    // In sync when the server's last heads are ours and we send no changes:
                    // the server has nothing to answer, so this case is done.
                    let mut theirs = state.their_heads.clone().unwrap_or_default();
                    theirs.sort();
                    ours.sort();
                    let in_sync = theirs == ours;
                    match reply {
                        Some(m) => {
                            let carries_changes = !m.changes.is_empty();
                            if carries_changes {
                                sent_changes.insert(id);
                            }
                            send(
                                &mut socket,
                                &Frame::Sync {
                                    sender_id: me.clone(),
                                    target_id: String::new(),
                                    document_id,
                                    data: m.encode(),
                                },
                            )?;
                            if in_sync && !carries_changes {
                                pending.remove(&id);
                            }
                        }
                        None => {
                            pending.remove(&id);
                        }
                    }
                }
                Frame::DocUnavailable { document_id, .. } => {
                    if let Some(id) = document_id.case() {
                        if pending.remove(&id) {
                            refused.insert(id);
                            report.errors.push(CaseSyncError {
                                case_id: document_id.to_string(),
                                reason: "the server does not hold this case for you".into(),
                                refusal: None,
                            });
                        }
                    }
                }
                Frame::Error {
                    message,
                    document_id: Some(document_id),
                    code,
                    ..
                } => {
                    if let Some(id) = document_id.case() {
                        pending.remove(&id);
                        refused.insert(id);
                        // Held back from later syncs: the same refused change would only be
                        // offered again.
                        // A refusal of changes carries its kind; other errors about a case
                        // (a server fault) are not held against it.
                        let kind = code.as_deref().map(RefusalKind::from_code);
                        if let (true, Some(kind)) = (local.contains(&id), kind) {
                            let refusal = Refusal::new(kind, &message);
                            self.mark_refused(&id, &refusal)?;
                        }
                        report.errors.push(CaseSyncError {
                            case_id: document_id.to_string(),
                            reason: message,
                            refusal: kind,
                        });
                    }
                }
                Frame::Error { message, .. } => {
                    return Err(Error::Network(format!(
                        "the server closed the sync: {message}"
                    )))
                }
                _ => {}
            }
            if counts != (pending.len(), sent_changes.len(), received.len()) {
                progress(&pending, &sent_changes, &received);
            }
        }
        // How many cases still hold changes the server has not acknowledged: held back,
        // refused now, or not brought to the server's heads (the exchange ran out).
        let unsynced = held_back.len()
            + work
                .iter()
                .filter(|id| local.contains(id))
                .filter(|id| {
                    refused.contains(id)
                        || pending.contains(id)
                        || match (states.get(id), self.heads(id)) {
                            (Some(state), Ok(heads)) => {
                                !heads.iter().all(|h| state.shared_heads.contains(h))
                            }
                            _ => true,
                        }
                })
                .count();
        // Best effort: the sync itself is done whether or not this arrives.
        let _ = send(
            &mut socket,
            &Frame::Status {
                sender_id: me.clone(),
                unsynced_cases: u32::try_from(unsynced).unwrap_or(u32::MAX),
                done: true,
                app_version: Some(APP_VERSION.into()),
            },
        );
        let _ = socket.close(None);
        let _ = socket.flush();

        // New cases are validated before they join the store.
        for (id, doc) in &scratch {
            if doc.get_heads().is_empty() || refused.contains(id) {
                continue;
            }
            // It must be the case that was asked for, never one filed under another id.
            let inner = CaseDoc::outline_of(doc)
                .map(|(f, _)| f.id)
                .unwrap_or_default();
            if inner != id.to_string() {
                report.errors.push(CaseSyncError {
                    case_id: id.to_string(),
                    reason: "the case from the server is not the case asked for".into(),
                    refusal: None,
                });
                continue;
            }
            match self.import_case(&doc.save()) {
                Ok(_) => {
                    report.new_cases += 1;
                    report.changed.push(id.to_string());
                }
                Err(e) => report.errors.push(CaseSyncError {
                    case_id: id.to_string(),
                    reason: format!("the case from the server was refused: {e}"),
                    refusal: None,
                }),
            }
        }
        self.save_states(&states, &peer, &scratch);
        report.sent = sent_changes
            .iter()
            .filter(|id| !refused.contains(id))
            .count();
        report.received = received.len();
        let mut changed: Vec<String> = received
            .iter()
            .filter(|id| !scratch.contains_key(id))
            .map(|id| id.to_string())
            .collect();
        changed.sort();
        report.changed.extend(changed);
        for id in &work {
            if let Ok(s) = self.summary(id) {
                let before = conflicts_before.get(id).copied().unwrap_or(0);
                report.new_conflicts += s.conflicts.saturating_sub(before);
            }
        }
        Ok(report)
    }

    /// Cases this device synced before that are no longer in the user's caseload (the
    /// case was transferred or its worker unassigned): the changes made here that the
    /// server lacks are handed in (`/v1/cases/{id}/departure`), then the case is removed
    /// from this device. A case whose changes the server does not take stays, with an
    /// error in the report: nothing is dropped unsent. Returns the cases dealt with.
    fn leave_cases(
        &self,
        base: &str,
        token: &str,
        local: &HashSet<CaseId>,
        server_heads: &HashMap<CaseId, Vec<String>>,
        report: &mut SyncReport,
        control: &SyncControl,
    ) -> Result<HashSet<CaseId>> {
        let peer = &format!("server:{base}");
        let mut dealt = HashSet::new();
        for id in local.iter().filter(|id| !server_heads.contains_key(id)) {
            control.check()?;
            let shared = match self.load_sync_state(id, peer) {
                Ok(Some(b)) => SyncState::decode(&b)
                    .map(|s| s.shared_heads)
                    .unwrap_or_default(),
                _ => Vec::new(),
            };
            if shared.is_empty() {
                continue; // never synced: a new case, offered through the sync below
            }
            dealt.insert(*id);
            let (mine, changes) =
                self.with_doc(id, |d| Ok((d.heads(), d.automerge().save_after(&shared))))?;
            if !mine.iter().all(|h| shared.contains(h)) {
                let url = format!("{base}/v1/cases/{id}/departure");
                let body = Some(("application/octet-stream", changes));
                match request(self, &url, Some(token), body) {
                    Ok(_) => report.sent += 1,
                    Err(e @ Error::Wiped) => return Err(e),
                    Err(e) => {
                        report.errors.push(CaseSyncError {
                            case_id: id.to_string(),
                            reason: format!(
                                "no longer in your caseload; its unsent changes stay on this device ({e})"
                            ),
                            refusal: None,
                        });
                        continue;
                    }
                }
            }
            self.purge_case(id)?;
            report.removed += 1;
            report.changed.push(id.to_string());
        }
        Ok(dealt)
    }

    fn save_states(
        &self,
        states: &HashMap<CaseId, SyncState>,
        peer: &str,
        scratch: &HashMap<CaseId, Automerge>,
    ) {
        for (id, state) in states {
            if scratch.contains_key(id) && self.summary(id).is_err() {
                continue; // not imported: nothing to attach the state to
            }
            if let Err(e) = self.save_sync_state(id, peer, &state.encode()) {
                tracing::warn!(error = %e, "could not save a sync state");
            }
        }
    }
}

fn connect(
    base: &str,
    token: &str,
    roots: Option<TlsRoots>,
) -> Result<WebSocket<MaybeTlsStream<TcpStream>>> {
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
    // Reads wake every POLL to look for a cancellation ([`read`] keeps the deadline).
    if let Some(tcp) = tcp {
        tcp.set_read_timeout(Some(POLL)).map_err(net)?;
    }
    Ok(socket)
}

fn send(socket: &mut WebSocket<MaybeTlsStream<TcpStream>>, frame: &Frame) -> Result<()> {
    socket
        .send(tungstenite::Message::Binary(frame.encode().into()))
        .map_err(net)
}

/// The next frame; [`Error::Cancelled`] as soon as `control` is cancelled, a network
/// error when nothing came before `deadline`.
fn read(
    socket: &mut WebSocket<MaybeTlsStream<TcpStream>>,
    control: &SyncControl,
    deadline: Instant,
) -> Result<Frame> {
    loop {
        control.check()?;
        let message = match socket.read() {
            Ok(m) => m,
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
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

impl CaseStore {
    /// Applies a sync message from the server to a local case and commits it.
    pub(crate) fn sync_receive(
        &self,
        id: &CaseId,
        state: &mut SyncState,
        message: Message,
    ) -> Result<()> {
        self.update_raw(id, |doc: &mut CaseDoc| {
            doc.receive_sync_message(state, message)
        })
    }
}
