//! `CaseStore::sync`: the whole caseload brought up to date in both directions.
//!
//! 1. **Plan**: `GET /v1/caseload` lists the ids and heads of every case the user may see;
//!    cases whose heads match the local ones are skipped, so an unchanged caseload costs
//!    one request. `GET /v1/settings` brings the team's deadlines. Cases that left the
//!    caseload hand in what the server lacks (`departure`).
//! 2. **Offer**: the rest are synced over one WebSocket (`/v1/sync`, automerge-repo
//!    protocol) with the sync state persisted from the last time, so only what is missing
//!    travels. Before a case's own changes are offered, the phone runs the server's
//!    admission rules on them (`case::admission::admit_own`): a change the server would
//!    refuse is held back here, with the same typed refusal, and never sent.
//! 3. **Exchange**: frames until every case is done; received changes are committed to the
//!    store as they arrive, so a dropped connection loses nothing and the next sync
//!    completes.
//! 4. **Finish**: cases new to the phone are validated before they join the store; sync
//!    states are saved; the report counts what happened.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use automerge::sync::{Message, State as SyncState, SyncDoc};
use automerge::{Automerge, Change, ChangeHash};

use super::control::{CaseSyncError, SyncControl, SyncProgress, SyncReport};
use super::http::{base, call, request, CaseloadEntry};
use super::protocol::{DocumentId, Frame, PeerMetadata};
use super::socket::Socket;
use super::{APP_VERSION, TIMEOUT};
use crate::case::admission::{self, Prior, Writer};
use crate::case::CaseDoc;
use crate::error::{Error, Result};
use crate::ids::CaseId;
use crate::schema::SCHEMA_REVISION;
use crate::store::CaseStore;
use crate::{Refusal, RefusalKind};

/// The name a server's sync states are kept under in the store.
pub(super) fn peer_name(base: &str) -> String {
    format!("server:{base}")
}

/// What the plan found: the cases to exchange, and what the report already says.
struct Plan {
    /// Cases whose heads differ from the server's (or that one side lacks), sorted.
    work: Vec<CaseId>,
    /// Cases this store holds.
    local: HashSet<CaseId>,
    /// Cases held back after a refusal.
    held_back: usize,
    report: SyncReport,
}

impl CaseStore {
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
        // A case linking to another case made on this phone offline may have reached the
        // server before that case did, and been refused for the link: once the other new
        // cases are there, its changes are offered once more.
        if report.sent > 0
            && report
                .errors
                .iter()
                .any(|e| e.refusal == Some(RefusalKind::Link))
        {
            control.check()?;
            let again = self.sync_cases(server_url, token, control)?;
            report
                .errors
                .retain(|e| e.refusal != Some(RefusalKind::Link));
            report.merge_second_pass(again);
        }
        // Files attached here, once the cases that name them are at the server.
        control.check()?;
        report.attachments_uploaded =
            self.upload_attachments(server_url, token, control, &mut report.errors)?;
        // The partner directory, after the cases: only when the server holds a newer one.
        control.check()?;
        report.directory_updated = self.fetch_directory(&base(server_url), token)?;
        report.directory_version = self.directory_version();
        // The agency's areas, which the client's area is chosen from.
        control.check()?;
        self.fetch_areas(&base(server_url), token)?;
        Ok(report)
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
        let plan = self.plan_sync(&base, token, control)?;
        control.report(SyncProgress {
            total: plan.work.len(),
            ..Default::default()
        });
        if plan.work.is_empty() {
            return Ok(plan.report);
        }
        control.check()?;
        let mut exchange = Exchange::open(self, &base, token, control, plan)?;
        exchange.offer()?;
        if let Err(e) = exchange.run() {
            // Save what we have; the next sync resumes from there.
            exchange.save_states();
            exchange.socket.close();
            return Err(e);
        }
        Ok(exchange.finish())
    }

    /// Step 1: which cases to exchange.
    fn plan_sync(&self, base: &str, token: &str, control: &SyncControl) -> Result<Plan> {
        let answer = request(self, &format!("{base}/v1/caseload"), Some(token), None)?;
        let caseload: Vec<CaseloadEntry> = answer.json()?;
        // The team's deadlines: due dates are computed on the phone, offline, with them.
        let deadlines: crate::deadlines::Deadlines =
            call(self, &format!("{base}/v1/settings"), Some(token), None)?;
        self.set_deadlines(deadlines)?;
        // Changes a server refused because it did not know this app's schema revision
        // yet go again once it says it does.
        if answer.server_schema.is_some_and(|s| s >= SCHEMA_REVISION) {
            self.retry_refused_of(RefusalKind::NewerSchema)?;
        }
        // A link refused may name a case that has reached the server since (made on this
        // phone too, or by a colleague): offered again, refused again at worst.
        self.retry_refused_of(RefusalKind::Link)?;
        let mut report = SyncReport::default();
        let local: HashSet<CaseId> = self.case_ids().into_iter().collect();
        let server_heads: HashMap<CaseId, Vec<String>> = caseload
            .into_iter()
            .filter_map(|e| Some((e.id.parse::<CaseId>().ok()?, e.heads)))
            .collect();
        let held_back: HashSet<CaseId> =
            self.refused_cases().into_iter().map(|(id, _)| id).collect();
        report.held_back = held_back.len();
        control.check()?;
        let departed =
            self.leave_cases(base, token, &local, &server_heads, &mut report, control)?;
        let mut all: Vec<CaseId> = local
            .iter()
            .chain(server_heads.keys())
            .filter(|id| !held_back.contains(id) && !departed.contains(id))
            .copied()
            .collect();
        all.sort();
        all.dedup();
        let mut work = Vec::new();
        for id in all {
            let same = match (server_heads.get(&id), local.contains(&id)) {
                // From the index: no document is loaded for an unchanged case.
                (Some(theirs), true) => {
                    let mut mine: Vec<String> =
                        self.heads(&id)?.iter().map(|h| h.to_string()).collect();
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
                work.push(id);
            }
        }
        Ok(Plan {
            work,
            local,
            held_back: held_back.len(),
            report,
        })
    }

    /// Why the server would refuse this phone's own changes to `id` since `shared` (the
    /// heads both sides had at the last exchange), by the admission rules that need no
    /// server records; `None` when they pass or when the phone cannot judge them: changes
    /// of other authors among them (a sync state lost in a crash) or a user signed in
    /// before the store kept the user's team.
    fn refusal_of_own_changes(
        &self,
        id: &CaseId,
        shared: &[ChangeHash],
    ) -> Result<Option<Refusal>> {
        let Some(user) = self.user() else {
            return Ok(None);
        };
        let Some(team) = user.team.as_deref() else {
            return Ok(None);
        };
        let me = self.actor_id();
        self.with_doc(id, |d| {
            let doc = d.automerge();
            let changes: Vec<Change> = doc.get_changes(shared);
            // A schema upgrade is every replica's alike (`case::upgrade`): not another's.
            let others = changes.iter().any(|c| {
                c.actor_id() != &me && !crate::case::upgrade::is_upgrade_actor(c.actor_id())
            });
            if changes.is_empty() || others {
                return Ok(None);
            }
            let before = if shared.is_empty() {
                Automerge::new()
            } else {
                match doc.fork_at(shared) {
                    Ok(b) => b,
                    Err(_) => return Ok(None),
                }
            };
            let was = if shared.is_empty() {
                None
            } else {
                crate::case::Outline::of(&before).ok()
            };
            let prior = was.as_ref().map(|o| Prior {
                team: o.file.team.as_deref().unwrap_or_default(),
                assigned: &o.file.assigned,
                outline: Some(o),
            });
            let writer = Writer {
                user_id: &user.user_id,
                role: user.role,
                team: Some(team),
            };
            Ok(admission::admit_own(writer, &before, prior, *id, doc, &changes).err())
        })
    }

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

/// Steps 2 to 4 over one connection.
struct Exchange<'a> {
    store: &'a CaseStore,
    control: &'a SyncControl,
    socket: Socket,
    /// This phone's name in frames.
    me: String,
    /// The server's name for the saved sync states.
    peer: String,
    plan: Plan,
    states: HashMap<CaseId, SyncState>,
    /// Cases new to this phone, received into a document of their own until validated.
    scratch: HashMap<CaseId, Automerge>,
    /// Cases not done yet.
    pending: HashSet<CaseId>,
    /// Cases whose changes were sent, and cases that received changes.
    sent: HashSet<CaseId>,
    received: HashSet<CaseId>,
    /// Cases refused (by the server, or here before sending).
    refused: HashSet<CaseId>,
    conflicts_before: HashMap<CaseId, usize>,
}

impl<'a> Exchange<'a> {
    /// Connects, joins, and tells the server how many cases may hold changes it lacks.
    fn open(
        store: &'a CaseStore,
        base: &str,
        token: &str,
        control: &'a SyncControl,
        plan: Plan,
    ) -> Result<Self> {
        let conflicts_before = plan
            .work
            .iter()
            .filter_map(|id| store.summary(id).ok().map(|s| (*id, s.conflicts)))
            .collect();
        let mut socket = Socket::connect(base, token, store.tls_roots())?;
        let me = format!("phone-{}", store.device_id());
        socket.send(&Frame::Join {
            sender_id: me.clone(),
            metadata: PeerMetadata::default(),
            versions: None,
        })?;
        match socket.read(control, Instant::now() + TIMEOUT)? {
            Frame::Peer { .. } => {}
            Frame::Error { message, .. } => {
                return Err(Error::Network(format!("the server refused: {message}")))
            }
            _ => return Err(Error::Network("unexpected answer to join".into())),
        }
        // An administrator sees, for a device, how many cases may hold changes the
        // server lacks: those to exchange, and those held back after a refusal.
        let offered = plan
            .work
            .iter()
            .filter(|id| plan.local.contains(id))
            .count()
            + plan.held_back;
        socket.send(&status(&me, offered, false))?;
        Ok(Exchange {
            store,
            control,
            socket,
            me,
            peer: peer_name(base),
            plan,
            states: HashMap::new(),
            scratch: HashMap::new(),
            pending: HashSet::new(),
            sent: HashSet::new(),
            received: HashSet::new(),
            refused: HashSet::new(),
            conflicts_before,
        })
    }

    /// Step 2: the first message of every case; local cases sync through the store, new
    /// ones into a scratch document.
    fn offer(&mut self) -> Result<()> {
        let work = self.plan.work.clone();
        for id in work {
            let mut state = match self.store.load_sync_state(&id, &self.peer) {
                Ok(Some(b)) => SyncState::decode(&b).unwrap_or_default(),
                _ => SyncState::new(),
            };
            let local = self.plan.local.contains(&id);
            if local {
                if let Some(refusal) = self
                    .store
                    .refusal_of_own_changes(&id, &state.shared_heads)?
                {
                    self.refuse(id, refusal, true)?;
                    continue;
                }
            }
            let message = if local {
                self.store
                    .with_doc(&id, |d| Ok(d.generate_sync_message(&mut state)))?
            } else {
                self.scratch
                    .entry(id)
                    .or_default()
                    .generate_sync_message(&mut state)
            };
            self.states.insert(id, state);
            if let Some(m) = message {
                if !m.changes.is_empty() {
                    self.sent.insert(id);
                }
                let (sender_id, target_id) = (self.me.clone(), String::new());
                let (document_id, data) = (DocumentId::from(id), m.encode());
                self.socket.send(&if local {
                    Frame::Sync {
                        sender_id,
                        target_id,
                        document_id,
                        data,
                    }
                } else {
                    Frame::Request {
                        sender_id,
                        target_id,
                        document_id,
                        data,
                    }
                })?;
                self.pending.insert(id);
            }
        }
        if !self.sent.is_empty() {
            self.progress();
        }
        Ok(())
    }

    /// Step 3: frames until every case is done, or the server stays silent for
    /// [`TIMEOUT`] (the cases left are reported, and the next sync resumes them). A busy
    /// server answering case after case (a hundred phones pushing their day at once) is
    /// waited for as long as answers keep coming; the user can cancel.
    fn run(&mut self) -> Result<()> {
        let mut deadline = Instant::now() + TIMEOUT;
        while !self.pending.is_empty() {
            if Instant::now() > deadline {
                for id in self.pending.drain() {
                    self.plan.report.errors.push(CaseSyncError {
                        case_id: id.to_string(),
                        reason: "the server did not answer in time".into(),
                        refusal: None,
                    });
                }
                break;
            }
            let frame = self.socket.read(self.control, deadline)?;
            deadline = Instant::now() + TIMEOUT;
            let counts = (self.pending.len(), self.sent.len(), self.received.len());
            match frame {
                Frame::Sync {
                    document_id, data, ..
                } => self.on_sync(document_id, &data)?,
                Frame::DocUnavailable { document_id, .. } => {
                    if let Some(id) = document_id.case() {
                        if self.pending.remove(&id) {
                            self.refused.insert(id);
                            self.plan.report.errors.push(CaseSyncError {
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
                        self.pending.remove(&id);
                        match code.as_deref().map(RefusalKind::from_code) {
                            // A refusal of changes carries its kind; the case is held
                            // back from later syncs (the same refused change would only
                            // be offered again).
                            Some(kind) => {
                                let local = self.plan.local.contains(&id);
                                self.refuse(id, Refusal::new(kind, message), local)?;
                            }
                            // Other errors about a case (a server fault) are not held
                            // against it.
                            None => {
                                self.refused.insert(id);
                                self.plan.report.errors.push(CaseSyncError {
                                    case_id: document_id.to_string(),
                                    reason: message,
                                    refusal: None,
                                });
                            }
                        }
                    }
                }
                Frame::Error { message, .. } => {
                    return Err(Error::Network(format!(
                        "the server closed the sync: {message}"
                    )))
                }
                _ => {}
            }
            if counts != (self.pending.len(), self.sent.len(), self.received.len()) {
                self.progress();
            }
        }
        Ok(())
    }

    /// A sync message from the server: applied (to the store, or to a new case's scratch
    /// document), answered when there is something to answer.
    fn on_sync(&mut self, document_id: DocumentId, data: &[u8]) -> Result<()> {
        let Some(id) = document_id.case().filter(|i| self.states.contains_key(i)) else {
            return Ok(());
        };
        // Checked before Automerge reads it: a server (or whoever answers in its name)
        // must not make the phone inflate gigabytes.
        let message = match Message::decode(data) {
            Ok(m) => crate::limits::Limits::default()
                .check_message(&m)
                .map(|()| m)
                .map_err(|r| {
                    Error::Network(format!("a sync message from the server was refused: {r}"))
                })?,
            Err(_) => {
                return Err(Error::Network(
                    "a sync message from the server was malformed".into(),
                ))
            }
        };
        if !message.changes.is_empty() {
            self.received.insert(id);
        }
        let state = self.states.get_mut(&id).expect("checked");
        let (reply, mut ours) = if let Some(doc) = self.scratch.get_mut(&id) {
            doc.receive_sync_message(state, message)?;
            (doc.generate_sync_message(state), doc.get_heads())
        } else {
            self.store.sync_receive(&id, state, message)?;
            self.store
                .with_doc(&id, |d| Ok((d.generate_sync_message(state), d.heads())))?
        };
        // In sync when the server's last heads are ours and we send no changes: the
        // server has nothing to answer, so this case is done.
        let mut theirs = state.their_heads.clone().unwrap_or_default();
        theirs.sort();
        ours.sort();
        let in_sync = theirs == ours;
        match reply {
            Some(m) => {
                let carries_changes = !m.changes.is_empty();
                if carries_changes {
                    self.sent.insert(id);
                }
                self.socket.send(&Frame::Sync {
                    sender_id: self.me.clone(),
                    target_id: String::new(),
                    document_id,
                    data: m.encode(),
                })?;
                if in_sync && !carries_changes {
                    self.pending.remove(&id);
                }
            }
            None => {
                self.pending.remove(&id);
            }
        }
        Ok(())
    }

    /// A case whose changes were refused, here or by the server: reported with the
    /// refusal's kind, and (when it is a case of this store) held back from later syncs.
    fn refuse(&mut self, id: CaseId, refusal: Refusal, hold_back: bool) -> Result<()> {
        self.refused.insert(id);
        if refusal.kind == RefusalKind::Erased {
            // Erased on the server: nothing is held back to be offered again, and nothing
            // of it stays here.
            if hold_back {
                self.store.purge_case(&id)?;
                self.plan.report.removed += 1;
                self.plan.report.changed.push(id.to_string());
            }
            return Ok(());
        }
        if hold_back {
            self.store.mark_refused(&id, &refusal)?;
        }
        self.plan.report.errors.push(CaseSyncError {
            case_id: DocumentId::from(id).to_string(),
            reason: refusal.message,
            refusal: Some(refusal.kind),
        });
        Ok(())
    }

    fn progress(&self) {
        self.control.report(SyncProgress {
            sent: self.sent.len(),
            received: self.received.len(),
            done: self.plan.work.len() - self.pending.len(),
            total: self.plan.work.len(),
        });
    }

    /// How many local cases still hold changes the server has not acknowledged: held
    /// back, refused now, or not brought to the server's heads (the exchange ran out).
    fn unsynced(&self) -> usize {
        let not_acknowledged = |id: &&CaseId| {
            self.refused.contains(id)
                || self.pending.contains(id)
                || match (self.states.get(id), self.store.heads(id)) {
                    (Some(state), Ok(heads)) => {
                        !heads.iter().all(|h| state.shared_heads.contains(h))
                    }
                    _ => true,
                }
        };
        self.plan.held_back
            + self
                .plan
                .work
                .iter()
                .filter(|id| self.plan.local.contains(id))
                .filter(not_acknowledged)
                .count()
    }

    /// Step 4: the final status, new cases validated into the store, states saved, the
    /// report.
    fn finish(mut self) -> SyncReport {
        // Best effort: the sync itself is done whether or not this arrives.
        let _ = self.socket.send(&status(&self.me, self.unsynced(), true));
        self.socket.close();
        self.import_new_cases();
        self.save_states();
        let mut report = std::mem::take(&mut self.plan.report);
        report.sent += self
            .sent
            .iter()
            .filter(|id| !self.refused.contains(id))
            .count();
        report.received = self.received.len();
        let mut changed: Vec<String> = self
            .received
            .iter()
            .filter(|id| !self.scratch.contains_key(id))
            .map(|id| id.to_string())
            .collect();
        changed.sort();
        report.changed.extend(changed);
        for id in &self.plan.work {
            if let Ok(s) = self.store.summary(id) {
                let before = self.conflicts_before.get(id).copied().unwrap_or(0);
                report.new_conflicts += s.conflicts.saturating_sub(before);
            }
        }
        report
    }

    /// New cases are validated before they join the store.
    fn import_new_cases(&mut self) {
        let report = &mut self.plan.report;
        for (id, doc) in &self.scratch {
            if doc.get_heads().is_empty() || self.refused.contains(id) {
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
            match self.store.import_case(&doc.save()) {
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
    }

    fn save_states(&self) {
        for (id, state) in &self.states {
            if self.scratch.contains_key(id) && self.store.summary(id).is_err() {
                continue; // not imported: nothing to attach the state to
            }
            if let Err(e) = self.store.save_sync_state(id, &self.peer, &state.encode()) {
                tracing::warn!(error = %e, "could not save a sync state");
            }
        }
    }
}

/// The status frame: how many cases may hold changes the server lacks, and whether the
/// sync is done.
fn status(me: &str, unsynced: usize, done: bool) -> Frame {
    Frame::Status {
        sender_id: me.to_string(),
        unsynced_cases: u32::try_from(unsynced).unwrap_or(u32::MAX),
        done,
        app_version: Some(APP_VERSION.into()),
    }
}
