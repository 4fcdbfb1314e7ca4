//! The case-write service: hot cases (in memory while connections sync them), writes with
//! compare-and-swap and retry ([`Hub::write`], the one path every write takes), the
//! server's own edits for the console and REST ([`Hub::edit`]), and the last changes of a
//! departing phone ([`Hub::departure`]). The WebSocket connection is `crate::sync`; the
//! admission check every candidate passes is `crate::admission`.
//!
//! Cases in memory are a cache with a bound (issue 20). A case is *in use* while a write or
//! a sync message works on it ([`Hub::get`] hands out a [`Held`]) and while a live sync
//! connection syncs it (it is among the case's subscribers); a case in use is never dropped.
//! A case nobody uses stays in memory, least recently used first out, while at most
//! [`Config::max_cached_cases`](crate::Config::max_cached_cases) such idle cases are
//! (`cases.max_cached`); past it the oldest is dropped (it is on disk: nothing is
//! acknowledged before it is stored) and loaded again, decrypted with its data key, at its
//! next use. Memory at rest thus grows with the cases of the connected phones, not with the
//! cases stored. [`Counters`] are its metrics.
//!
//! A case dropped for the bound leaves its outline behind (the case file without narrative
//! texts and its disagreements, a few kilobytes where the document takes twenty or more),
//! at most [`Config::max_kept_outlines`](crate::Config::max_kept_outlines) of them
//! (`cases.max_outlines`), least recently kept first out: loaded again with the same heads,
//! the case's next write reads the case before from it instead of walking the document
//! (`fieldcase_core::Outline`).
//!
//! A write applies to a clone of the hot document, is checked, and is stored only if the
//! stored heads are still those it grew from (another process, the admin CLI or another
//! server instance, may have written meanwhile); otherwise the hot document is reloaded
//! and the write made again on it, at most [`WRITE_ATTEMPTS`] times. Nothing is
//! acknowledged before it is stored.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use automerge::{ActorId, Automerge, ChangeHash, ReadDoc};
use fieldcase_core::{Author, CaseDoc, CaseId, RefusalKind};
use tokio::sync::mpsc;

use crate::admission::{check, Admitted, Pending};
use crate::db::{AuditRead, CaseAccess, CaseWrite, Session, Stored, TimeMark, User};
use crate::error::AppError;
use crate::matching::AfterCommit;
use crate::AppState;

/// How many times a write is made again on a case another writer stored meanwhile.
pub const WRITE_ATTEMPTS: usize = 5;

/// What a writer is told when the case kept changing under [`WRITE_ATTEMPTS`] attempts.
pub const KEPT_CHANGING: &str = "the case kept changing while the changes were stored; try again";

/// What one attempt at a write made of the hot document ([`Hub::write`]).
pub(crate) enum Attempt<T> {
    /// Nothing to store: the write is done.
    Done(T),
    /// A checked candidate: stored (when it adds changes) and made the hot document; the
    /// write is then done with `then`.
    Candidate {
        doc: Box<Automerge>,
        admitted: Box<Admitted>,
        then: T,
    },
}

/// One write of a case, made again by [`Hub::write`] on the stored document after another
/// writer got there first.
pub(crate) trait Write: Send {
    type Out: Send;
    type Err: From<AppError> + Send;
    /// A candidate made from the hot document and checked, or the write's end.
    fn attempt(
        &mut self,
        hot: &Hot,
    ) -> impl std::future::Future<Output = Result<Attempt<Self::Out>, Self::Err>> + Send;
    /// A read of the case to record in the audit trail with the write, in its
    /// transaction ([`crate::db::Db::store_case_read`]); emptied once it is recorded.
    fn read(&mut self) -> Option<&mut Option<AuditRead>> {
        None
    }
}

/// Hot documents and who is syncing them.
pub struct Hub {
    docs: Arc<Mutex<Docs>>,
    pub(crate) next_conn: std::sync::atomic::AtomicU64,
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

impl Default for Hub {
    fn default() -> Self {
        Hub::new(DEFAULT_MAX_CACHED, DEFAULT_MAX_OUTLINES, Arc::default())
    }
}

/// A [`Hot::checked`] no external count equals: the document is compared with the stored
/// one at its next [`Hub::freshen`].
const UNCHECKED: u64 = u64::MAX;

/// The default of `cases.max_cached`: idle cases kept in memory (a small case takes about
/// 20 KB there, so about 20 MB; a case with a long history more).
pub const DEFAULT_MAX_CACHED: usize = 1000;

/// The default of `cases.max_outlines`: outlines kept of cases dropped from memory (a small
/// case's about 3 KB, so about 30 MB; measured: 1,792 bytes of struct and 1,252 on the
/// heap for a small case, 15,092 on the heap with 40 visits).
pub const DEFAULT_MAX_OUTLINES: usize = 10_000;

/// The cache's metrics, shared with [`crate::Metrics`].
#[derive(Debug, Default)]
pub struct Counters {
    /// Cases in memory: in use, and idle ones kept.
    pub in_memory: AtomicU64,
    /// Idle cases kept (at most `cases.max_cached`).
    pub cached: AtomicU64,
    /// The estimated bytes of the cases in memory ([`estimated_bytes`]).
    pub bytes: AtomicU64,
    /// Idle cases dropped from memory for the bound.
    pub evictions: AtomicU64,
    /// Cases loaded (decrypted and read) from storage into memory.
    pub loads: AtomicU64,
    /// Outlines kept of cases dropped from memory (at most `cases.max_outlines`).
    pub outlines: AtomicU64,
    /// Their estimated bytes ([`outline_bytes`]).
    pub outline_bytes: AtomicU64,
    /// Cases loaded with their outline kept ([`Outlines`]): not walked again.
    pub outline_hits: AtomicU64,
    /// New cases not looked up in storage again ([`Hub::get_known`]).
    pub lookups_spared: AtomicU64,
}

impl Counters {
    /// The Prometheus lines of the cache.
    pub(crate) fn render(&self, out: &mut String) {
        for (name, kind, help, v) in [
            (
                "cases_in_memory",
                "gauge",
                "Case documents in memory: in use (a write, a live sync) and idle ones kept.",
                &self.in_memory,
            ),
            (
                "cases_cached",
                "gauge",
                "Idle case documents kept in memory (at most cases.max_cached).",
                &self.cached,
            ),
            (
                "cases_in_memory_bytes",
                "gauge",
                "Estimated bytes of the case documents in memory (from their operations and changes).",
                &self.bytes,
            ),
            (
                "case_evictions_total",
                "counter",
                "Idle case documents dropped from memory for cases.max_cached.",
                &self.evictions,
            ),
            (
                "case_loads_total",
                "counter",
                "Case documents loaded from storage into memory.",
                &self.loads,
            ),
            (
                "case_outlines_kept",
                "gauge",
                "Outlines kept of case documents dropped from memory (at most cases.max_outlines).",
                &self.outlines,
            ),
            (
                "case_outlines_bytes",
                "gauge",
                "Estimated bytes of the outlines kept of case documents dropped from memory (from the entries they hold).",
                &self.outline_bytes,
            ),
            (
                "case_outline_hits_total",
                "counter",
                "Case documents loaded whose outline was kept (not read again from the document).",
                &self.outline_hits,
            ),
            (
                "case_lookups_spared_total",
                "counter",
                "Changes to a new case not looked up in storage again (the connection found no such case just before).",
                &self.lookups_spared,
            ),
        ] {
            out.push_str(&format!(
                "# HELP fieldcase_{name} {help}\n# TYPE fieldcase_{name} {kind}\nfieldcase_{name} {}\n",
                v.load(Relaxed)
            ));
        }
    }
}

/// What a case document takes in memory, estimated from what it holds. Automerge 0.12
/// keeps a document's operations in compressed columns: measured (the resident memory of
/// thousands of documents loaded from storage, 2026-12-03), a new small case (42
/// operations, one change) takes about 19.6 KB, one with 40 visits (3,072 operations, 41
/// changes) about 95 KB: a fixed 18 KB, about 20 bytes an operation and 400 a change.
pub fn estimated_bytes(doc: &Automerge) -> u64 {
    let s = doc.stats();
    ESTIMATE_BASE + s.num_ops * ESTIMATE_PER_OP + s.num_changes * ESTIMATE_PER_CHANGE
}

const ESTIMATE_BASE: u64 = 18 * 1024;
const ESTIMATE_PER_OP: u64 = 20;
const ESTIMATE_PER_CHANGE: u64 = 400;

/// The cases in memory: a slot each, and the idle ones by the time they went idle.
struct Docs {
    slots: HashMap<CaseId, Slot>,
    /// Idle slots, oldest first, by the tick they went idle at.
    idle: BTreeMap<u64, CaseId>,
    tick: u64,
    bytes: u64,
    max_cached: usize,
    counters: Arc<Counters>,
    /// The outlines of cases dropped for the bound.
    outlines: Outlines,
}

/// The outlines of cases dropped from memory, each with the heads it is of, least recently
/// kept first out past `max`.
struct Outlines {
    /// Each case's: its tick in `order`, its estimated bytes, its heads and the outline.
    by_case: HashMap<CaseId, (u64, u64, Vec<ChangeHash>, fieldcase_core::Outline)>,
    order: BTreeMap<u64, CaseId>,
    tick: u64,
    max: usize,
    /// The estimated bytes of those kept ([`outline_bytes`]).
    bytes: u64,
}

/// What an outline takes in memory, estimated from the entries its file holds. Measured
/// (its struct and its heap, 2026-12-05): a new small case's about 3 KB, one with 40
/// visits about 17 KB: a fixed 3 KB and about 350 bytes an entry.
fn outline_bytes(o: &fieldcase_core::Outline) -> u64 {
    let f = &o.file;
    let entries = f.actors.len()
        + f.client.contacts.len()
        + f.client.household.len()
        + f.consents.len()
        + f.assessments.len()
        + f.plan.problems.len()
        + f.plan.versions.len()
        + f.referrals.len()
        + f.visits.len()
        + f.appointments.len()
        + f.reviews.len()
        + f.closures.len()
        + f.attachments.len()
        + f.supervision.len();
    OUTLINE_BASE + OUTLINE_PER_ENTRY * entries as u64
}

const OUTLINE_BASE: u64 = 3 * 1024;
const OUTLINE_PER_ENTRY: u64 = 350;

impl Outlines {
    fn new(max: usize) -> Self {
        Outlines {
            by_case: HashMap::new(),
            order: BTreeMap::new(),
            tick: 0,
            max,
            bytes: 0,
        }
    }

    /// Keeps the outline of a case (the one kept before replaced), dropping the oldest
    /// past the bound.
    fn keep(&mut self, id: CaseId, heads: Vec<ChangeHash>, outline: fieldcase_core::Outline) {
        if self.max == 0 {
            return;
        }
        self.take(&id);
        self.tick += 1;
        let bytes = outline_bytes(&outline);
        self.bytes += bytes;
        self.order.insert(self.tick, id);
        self.by_case.insert(id, (self.tick, bytes, heads, outline));
        while self.by_case.len() > self.max {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            if let Some((_, b, _, _)) = self.by_case.remove(&oldest) {
                self.bytes = self.bytes.saturating_sub(b);
            }
        }
    }

    /// The outline kept of a case, taken out.
    fn take(&mut self, id: &CaseId) -> Option<(Vec<ChangeHash>, fieldcase_core::Outline)> {
        let (tick, bytes, heads, outline) = self.by_case.remove(id)?;
        self.order.remove(&tick);
        self.bytes = self.bytes.saturating_sub(bytes);
        Some((heads, outline))
    }
}

struct Slot {
    hot: Arc<tokio::sync::Mutex<Hot>>,
    /// The [`Held`]s of it out now (writes and sync messages under way).
    users: usize,
    /// Its tick in [`Docs::idle`] while it is idle.
    idle: Option<u64>,
    /// Its estimated bytes ([`estimated_bytes`]), when it was loaded or last went idle.
    bytes: u64,
}

impl Docs {
    /// Publishes the gauges.
    fn publish(&self) {
        let c = &self.counters;
        c.in_memory.store(self.slots.len() as u64, Relaxed);
        c.cached.store(self.idle.len() as u64, Relaxed);
        c.bytes.store(self.bytes, Relaxed);
        c.outlines
            .store(self.outlines.by_case.len() as u64, Relaxed);
        c.outline_bytes.store(self.outlines.bytes, Relaxed);
    }

    fn remove(&mut self, id: &CaseId) -> Option<Slot> {
        let slot = self.slots.remove(id)?;
        if let Some(t) = slot.idle {
            self.idle.remove(&t);
        }
        self.bytes = self.bytes.saturating_sub(slot.bytes);
        Some(slot)
    }

    /// A case nobody holds: idle (kept, and the oldest idle ones past the bound dropped)
    /// when no connection syncs it; dropped at once when it is no stored case (an unknown
    /// id, a refused new case).
    fn settle(&mut self, id: &CaseId) {
        let Some(slot) = self.slots.get_mut(id) else {
            return;
        };
        if slot.users > 0 {
            return;
        }
        // A lock held, or subscribers: in use by a connection (it settles it again when it
        // leaves).
        let state = slot.hot.try_lock().ok().map(|g| {
            (
                g.subscribers.is_empty(),
                g.access.is_some(),
                estimated_bytes(&g.doc),
            )
        });
        match state {
            Some((true, false, _)) => {
                self.remove(id);
            }
            Some((true, true, bytes)) => {
                if let Some(t) = slot.idle.take() {
                    self.idle.remove(&t);
                }
                self.tick += 1;
                slot.idle = Some(self.tick);
                self.idle.insert(self.tick, *id);
                self.bytes = self.bytes.saturating_sub(slot.bytes) + bytes;
                slot.bytes = bytes;
                self.evict();
            }
            _ => {}
        }
        self.publish();
    }

    /// Drops the oldest idle cases past the bound. A case found in use meanwhile (a
    /// connection's reference to it) is no longer idle; whoever uses it settles it again.
    fn evict(&mut self) {
        while self.idle.len() > self.max_cached {
            let Some((_, id)) = self.idle.pop_first() else {
                break;
            };
            let Some(slot) = self.slots.get_mut(&id) else {
                continue;
            };
            slot.idle = None;
            if slot.users > 0 || Arc::strong_count(&slot.hot) > 1 {
                continue;
            }
            let Ok(mut hot) = slot.hot.try_lock() else {
                continue;
            };
            if !hot.subscribers.is_empty() {
                continue;
            }
            // Its outline stays behind, if it is of the document as stored.
            let kept = hot
                .outline
                .take()
                .filter(|(heads, _)| *heads == hot.stored && *heads == hot.doc.get_heads());
            drop(hot);
            self.remove(&id);
            self.counters.evictions.fetch_add(1, Relaxed);
            if let Some((heads, outline)) = kept {
                self.outlines.keep(id, heads, outline);
            }
        }
    }
}

/// A case in use ([`Hub::get`]): while it is held the case stays in memory; when the last
/// one goes, the case settles (idle and kept, or dropped: see the module's doc).
pub(crate) struct Held {
    hot: Arc<tokio::sync::Mutex<Hot>>,
    id: CaseId,
    docs: Arc<Mutex<Docs>>,
}

impl std::ops::Deref for Held {
    type Target = tokio::sync::Mutex<Hot>;
    fn deref(&self) -> &Self::Target {
        &self.hot
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut docs = self.docs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = docs.slots.get_mut(&self.id) {
            if Arc::ptr_eq(&slot.hot, &self.hot) {
                slot.users = slot.users.saturating_sub(1);
                docs.settle(&self.id);
            }
        }
    }
}

#[derive(Default)]
struct External {
    version: i64,
    count: u64,
    read: bool,
}

/// A case held in memory while connections sync it.
pub(crate) struct Hot {
    pub(crate) doc: Automerge,
    pub(crate) access: Option<CaseAccess>,
    /// The heads of the stored document (what `doc` was loaded or last stored as).
    stored: Vec<ChangeHash>,
    /// The hub's external-write count when `doc` was last known to match the storage.
    checked: u64,
    /// Connections syncing this case: told its id when it changes.
    pub(crate) subscribers: HashMap<u64, mpsc::UnboundedSender<CaseId>>,
    /// The outline of `doc` as the last admitted write found it, with the heads it is of:
    /// the next write's check reads the case before from it instead of from `doc`. Used
    /// only while `doc` still has those heads (a reload or a merge leaves it unused).
    outline: Option<(Vec<ChangeHash>, fieldcase_core::Outline)>,
}

impl Hot {
    /// The hub's external-write count when the document was last known to match the
    /// storage ([`UNCHECKED`] when it is to be compared at its next use).
    pub(crate) fn checked(&self) -> u64 {
        self.checked
    }

    /// The outline of `doc`, if the last admitted write left it for these heads.
    pub(crate) fn outline(&self) -> Option<&fieldcase_core::Outline> {
        self.outline
            .as_ref()
            .filter(|(heads, _)| *heads == self.doc.get_heads())
            .map(|(_, file)| file)
    }
}

/// Checks Automerge bytes from a client against the server's limits before anything
/// reads them ([`fieldcase_core::limits`]); a refusal is counted and logged (our text).
pub(crate) fn guard(
    state: &AppState,
    check: impl FnOnce(&fieldcase_core::limits::Limits) -> Result<(), fieldcase_core::limits::Refused>,
) -> Result<(), fieldcase_core::limits::Refused> {
    check(&state.config.input_limits).inspect_err(|e| {
        crate::Metrics::inc(&state.metrics.input_refused);
        tracing::warn!(refused = %e, "client data refused unread");
    })
}

/// What a client is told when [`guard`] refuses its bytes.
pub(crate) fn refused_unread(e: &fieldcase_core::limits::Refused) -> String {
    format!("refused unread: {e}; nothing was stored")
}

/// A device's second hand-in of the last changes to a case.
fn already_handed_in() -> AppError {
    AppError::Refused {
        refusal: fieldcase_core::Refusal::new(
            RefusalKind::Departure,
            "this device has already handed in its last changes to this case",
        ),
        conflict: true,
    }
}

fn blocking_error(e: tokio::task::JoinError) -> AppError {
    AppError::Internal(e.to_string())
}

impl Hub {
    /// A hub keeping at most `max_cached` idle cases in memory and the outlines of at most
    /// `max_outlines` cases dropped from it, counting in `counters`.
    pub fn new(max_cached: usize, max_outlines: usize, counters: Arc<Counters>) -> Self {
        Hub {
            docs: Arc::new(Mutex::new(Docs {
                slots: HashMap::new(),
                idle: BTreeMap::new(),
                tick: 0,
                bytes: 0,
                max_cached,
                counters,
                outlines: Outlines::new(max_outlines),
            })),
            next_conn: Default::default(),
            external: Default::default(),
            writers: Default::default(),
        }
    }

    fn docs(&self) -> std::sync::MutexGuard<'_, Docs> {
        self.docs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many cases are in memory: in use (being written, synced by a live connection)
    /// and idle ones kept (at most `cases.max_cached`).
    pub fn cases_in_memory(&self) -> usize {
        self.docs().slots.len()
    }

    /// How many of the cases in memory are in use (a write or sync message under way, or a
    /// live connection syncing them); the rest are idle, kept up to the bound.
    pub fn cases_in_use(&self) -> usize {
        let docs = self.docs();
        docs.slots.len() - docs.idle.len()
    }

    /// Whether a case is in memory.
    pub fn in_memory(&self, id: &CaseId) -> bool {
        self.docs().slots.contains_key(id)
    }

    /// The hot document of a case, if it is in memory.
    pub(crate) fn hot(&self, id: &CaseId) -> Option<Arc<tokio::sync::Mutex<Hot>>> {
        self.docs().slots.get(id).map(|s| s.hot.clone())
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

    /// A case in use: from memory, else loaded from storage. It stays in memory while the
    /// [`Held`] lives.
    pub(crate) async fn get(&self, state: &AppState, id: CaseId) -> Result<Held, AppError> {
        self.get_known(state, id, None).await
    }

    /// [`Hub::get`], for a case the caller found in no storage when the hub's external-write
    /// count was `absent_at` (when `Some`): while the count has not moved, a new, empty
    /// document without a look in storage (a case in memory is that one all the same:
    /// another connection is making it). What guarantees that no stored case is written
    /// over is the store's compare-and-swap, not the count (which stays as it was while
    /// the storage is busy, and does not move for a case another connection of this hub
    /// made and the hub dropped since): a write that expects no case finds one, the case
    /// is loaded and the write made again on it, with every check (one the writer may not
    /// see is refused as such; an erased id is refused at the store).
    pub(crate) async fn get_known(
        &self,
        state: &AppState,
        id: CaseId,
        absent_at: Option<u64>,
    ) -> Result<Held, AppError> {
        if let Some(h) = self.take(id, None) {
            return Ok(h);
        }
        let count = self.external_count(state)?;
        let (doc, access) = if absent_at == Some(count) {
            self.docs().counters.lookups_spared.fetch_add(1, Relaxed);
            (Automerge::new(), None)
        } else {
            Self::load(state, id).await?
        };
        let stored = doc.get_heads();
        // The outline kept when the case was dropped, if the document is still as it was
        // (taken out whatever is found: a case no longer stored, erased through another
        // instance, leaves nothing behind here either).
        let outline = {
            let mut docs = self.docs();
            let kept = docs.outlines.take(&id);
            if access.is_some() {
                docs.counters.loads.fetch_add(1, Relaxed);
            }
            let outline = kept.filter(|(heads, _)| access.is_some() && *heads == stored);
            if outline.is_some() {
                docs.counters.outline_hits.fetch_add(1, Relaxed);
            }
            outline
        };
        let bytes = estimated_bytes(&doc);
        let hot = Hot {
            stored,
            doc,
            access,
            checked: count,
            subscribers: HashMap::new(),
            outline,
        };
        Ok(self.take(id, Some((hot, bytes))).expect("a slot was made"))
    }

    /// Takes a case in use: its slot if it is in memory (no longer idle), else one made of
    /// `loaded`.
    fn take(&self, id: CaseId, loaded: Option<(Hot, u64)>) -> Option<Held> {
        let mut docs = self.docs();
        let docs = &mut *docs;
        let slot = match docs.slots.entry(id) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                let (hot, bytes) = loaded?;
                docs.bytes += bytes;
                v.insert(Slot {
                    hot: Arc::new(tokio::sync::Mutex::new(hot)),
                    users: 0,
                    idle: None,
                    bytes,
                })
            }
        };
        slot.users += 1;
        if let Some(t) = slot.idle.take() {
            docs.idle.remove(&t);
            // Kept while idle: compared with the stored heads at its next use
            // ([`Hub::freshen`]), since a write that did not pass through this hub on the
            // storage's own connection moves no external count.
            if let Ok(mut hot) = slot.hot.try_lock() {
                hot.checked = UNCHECKED;
            }
        }
        let held = Held {
            hot: slot.hot.clone(),
            id,
            docs: self.docs.clone(),
        };
        docs.publish();
        Some(held)
    }

    /// Brings a hot document up to date with the storage if another process (the admin
    /// CLI, another server instance) wrote since it was last checked.
    pub(crate) async fn freshen(
        &self,
        state: &AppState,
        hot: &mut Hot,
        id: CaseId,
    ) -> Result<(), AppError> {
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
    /// changes into a new snapshot when they have grown. First, on the same blocking
    /// thread, what the check still asks of storage (`pending`: a refusal there is the
    /// write's refusal, nothing stored or marked and no read recorded), then the time
    /// marks.
    #[allow(clippy::too_many_arguments)]
    async fn store(
        state: &AppState,
        hot: &Hot,
        id: CaseId,
        doc: &Automerge,
        access: &CaseAccess,
        (pending, marks): (Pending, Vec<TimeMark>),
        now: i64,
        read: Option<&mut Option<AuditRead>>,
    ) -> Result<bool, AppError> {
        let new_case = hot.access.is_none();
        let reading = read.as_deref().cloned().flatten();
        let matching = AfterCommit::of(state, access, doc, new_case, now);
        // Uncompressed: storage packs it with a dictionary (`fieldcase_core::packing`),
        // which finds a small case's field names only in uncompressed columns.
        let (bytes, snapshot) = if hot.access.is_none() {
            (doc.save_nocompress(), true)
        } else {
            (doc.save_after(&hot.stored), false)
        };
        let heads = doc.get_heads();
        let expected = hot.stored.clone();
        let db = state.db.clone();
        let a = access.clone();
        let h = heads.clone();
        // One trip to a blocking thread: what the check asks of storage, the marks, the
        // write, and the duplicate check's update once stored.
        let done = tokio::task::spawn_blocking(move || {
            if let Some(denial) = pending.answer(db.as_ref())? {
                return Ok(Err(denial));
            }
            // The marks go first: a change is never stored without its mark (a mark of a
            // change that then is not stored names nothing and is never shown).
            if !marks.is_empty() {
                db.mark_times(&id, &marks)?;
            }
            let write = if snapshot {
                CaseWrite::Snapshot(&bytes)
            } else {
                CaseWrite::Changes(&bytes)
            };
            let stored = match &reading {
                Some(r) => db.store_case_read(&a, write, &h, Some(&expected), now, r)?,
                None => db.store_case(&a, write, &h, Some(&expected), now)?,
            };
            let matched = match (&stored, matching) {
                (Stored::Written { .. }, Some(m)) => Some(m.run(db.as_ref())),
                _ => None,
            };
            Ok::<_, AppError>(Ok((stored, matched)))
        })
        .await
        .map_err(blocking_error)??;
        // Refused: nothing stored, the read not recorded (it stays for the reply).
        let (stored, matched) = done.map_err(|d| d.into_error(state))?;
        // Recorded, stored or stale alike.
        if let Some(slot) = read {
            *slot = None;
        }
        if stored == Stored::Stale {
            return Ok(false);
        }
        if let Some(ran) = matched {
            AfterCommit::tell(state, id, new_case, ran);
        }
        if stored.wants_compaction() {
            let bytes = doc.save_nocompress();
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
        read: Option<&mut Option<AuditRead>>,
    ) -> Result<bool, AppError> {
        let Admitted {
            access,
            marks,
            outline,
            pending,
        } = admitted;
        let marked = marks.len();
        // The write's time, as stored beside the case (`updated_at`).
        let now = chrono::Utc::now().timestamp_millis();
        if !Self::store(state, hot, id, &doc, &access, (pending, marks), now, read).await? {
            Self::reload(state, hot, id).await?;
            return Ok(false);
        }
        if marked > 0 {
            tracing::info!(case = %id, count = marked, "changes whose own time is far from their receipt");
        }
        crate::Metrics::inc(&state.metrics.changes_accepted);
        for (conn, tx) in &hot.subscribers {
            if Some(*conn) != except {
                let _ = tx.send(id);
            }
        }
        hot.stored = doc.get_heads();
        hot.outline = Some((hot.stored.clone(), outline));
        hot.doc = doc;
        hot.access = Some(access);
        Ok(true)
    }

    /// The one write-with-retry path. `write` makes a candidate from the hot document
    /// (checked, [`check`]); the candidate is stored if the stored heads are still those it
    /// grew from, then made the hot document, and the connections syncing the case (but
    /// `except`) are told. When another writer got there first the hot document is
    /// reloaded and `write` makes a candidate again from it, at most [`WRITE_ATTEMPTS`] times. A
    /// candidate that adds nothing to store (its changes wait for a dependency) becomes the
    /// hot document without a write.
    pub(crate) async fn write<W: Write>(
        state: &AppState,
        hot: &mut Hot,
        id: CaseId,
        except: Option<u64>,
        write: &mut W,
    ) -> Result<W::Out, W::Err> {
        for _ in 0..WRITE_ATTEMPTS {
            let attempt = write.attempt(hot).await;
            let (doc, mut admitted, then) = match attempt {
                Ok(Attempt::Done(out)) => return Ok(out),
                Ok(Attempt::Candidate {
                    doc,
                    admitted,
                    then,
                }) => (*doc, *admitted, then),
                Err(e) => {
                    Self::drop_held_back(state, hot, id).await;
                    return Err(e);
                }
            };
            if doc.get_heads() == hot.doc.get_heads() {
                // Nothing to store: the check's questions to storage answered apart.
                if let Err(e) = admitted.settle(state).await {
                    Self::drop_held_back(state, hot, id).await;
                    return Err(e.into());
                }
                hot.outline = Some((doc.get_heads(), admitted.outline));
                hot.doc = doc;
                hot.access = Some(admitted.access);
                return Ok(then);
            }
            match Self::commit(state, hot, id, doc, admitted, except, write.read()).await {
                Ok(true) => return Ok(then),
                Ok(false) => {}
                Err(e) => {
                    Self::drop_held_back(state, hot, id).await;
                    return Err(e.into());
                }
            }
        }
        Err(AppError::Conflict(KEPT_CHANGING.into()).into())
    }

    /// After a refused or failed write: changes Automerge held back in the hot document for
    /// a dependency it lacked (kept there so that the sender's next message can complete
    /// them) are dropped with the document read again from storage. Kept, they would be
    /// applied in whoever's write brings their dependency next, and an actor's other
    /// change under the same number would no longer apply ("could not be applied").
    async fn drop_held_back(state: &AppState, hot: &mut Hot, id: CaseId) {
        if hot.doc.get_missing_deps(&[]).is_empty() {
            return;
        }
        if let Err(e) = Self::reload(state, hot, id).await {
            tracing::warn!(case = %id, error = %e, "could not read a case again after a refused write");
        }
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
        f: F,
    ) -> Result<T, AppError>
    where
        F: FnMut(&mut CaseDoc, &Author, i64) -> fieldcase_core::Result<T> + Send,
        T: Send,
    {
        self.edit_as(state, id, user, true, f).await
    }

    /// A partner's answer through a link (`docs/adr/0006-*`): like [`Self::edit`], but
    /// the partner's login-less user sees no case; the link the caller opened is what lets
    /// it write, and `f` writes only the link's referral. The same admission checks apply.
    pub async fn edit_by_link<T, F>(
        &self,
        state: &AppState,
        id: CaseId,
        partner: &User,
        f: F,
    ) -> Result<T, AppError>
    where
        F: FnMut(&mut CaseDoc, &Author, i64) -> fieldcase_core::Result<T> + Send,
        T: Send,
    {
        self.edit_as(state, id, partner, false, f).await
    }

    async fn edit_as<T, F>(
        &self,
        state: &AppState,
        id: CaseId,
        user: &User,
        must_see: bool,
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
            let mut write = EditWrite {
                state,
                user,
                must_see,
                actor: &actor,
                device: &device,
                id,
                f: &mut f,
            };
            Self::write(state, &mut hot, id, None, &mut write).await
        }
        .await;
        drop(hot);
        drop(hot_ref);
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
            e => AppError::refused(RefusalKind::Limit, refused_unread(&e)),
        })?;
        let user = &session.user;
        let device_id = session.device_id.clone();
        let (device, departed, erased) = crate::db::blocking(&state.db, move |db| {
            Ok((
                db.device(&device_id)?,
                db.departed(&id, &device_id)?,
                db.erased_case(&id)?,
            ))
        })
        .await?;
        let device = device.ok_or(AppError::NotFound)?;
        // An erased case of the sender's team: there is nothing to hand in to, and the
        // phone is told so (it removes the case); to anyone else, a case never known.
        if let Some(t) = erased {
            let told = user.role == fieldcase_core::Role::Admin
                || user.team.as_deref() == Some(t.team.as_str());
            return Err(if told {
                crate::db::erasure::refusal().into()
            } else {
                AppError::NotFound
            });
        }
        let hot_ref = self.get(state, id).await?;
        let mut hot = hot_ref.lock().await;
        let result = async {
            self.freshen(state, &mut hot, id).await?;
            if hot.access.is_none() {
                return Err(AppError::NotFound);
            }
            let mut write = DepartureWrite {
                state,
                session,
                device: &device,
                departed,
                changes,
                id,
                claimed: false,
            };
            let written = Self::write(state, &mut hot, id, None, &mut write).await;
            match written {
                Ok(count) => {
                    if count > 0 {
                        tracing::info!(case = %id, user = %user.id, count, "last changes of a departing phone");
                    }
                    Ok(count)
                }
                Err(e) => {
                    if write.claimed {
                        self.forget_departure(state, id, &session.device_id).await;
                    }
                    Err(e)
                }
            }
        }
        .await;
        drop(hot);
        drop(hot_ref);
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

    /// Forgets an erased case: its document in memory is emptied (for whoever still holds
    /// it) and dropped; the next look finds no case, then its tombstone.
    pub(crate) async fn forget(&self, id: &CaseId) {
        let hot = {
            let mut docs = self.docs();
            let slot = docs.remove(id);
            // Its outline kept, if it was dropped from memory before: nothing of an erased
            // case stays in memory.
            docs.outlines.take(id);
            docs.publish();
            slot.map(|s| s.hot)
        };
        if let Some(hot) = hot {
            let mut hot = hot.lock().await;
            hot.doc = Automerge::new();
            hot.stored = Vec::new();
            hot.access = None;
            hot.outline = None;
        }
    }

    /// A case a connection stopped syncing: idle (kept up to the bound, see the module's
    /// doc) unless someone else still uses it.
    pub(crate) fn release(&self, id: &CaseId) {
        self.docs().settle(id);
    }
}

/// A change made on the server on behalf of a user ([`Hub::edit`]).
struct EditWrite<'a, F> {
    state: &'a AppState,
    user: &'a User,
    /// Whether the user must see the case (all but a partner's link).
    must_see: bool,
    actor: &'a ActorId,
    device: &'a str,
    id: CaseId,
    f: &'a mut F,
}

impl<T, F> Write for EditWrite<'_, F>
where
    F: FnMut(&mut CaseDoc, &Author, i64) -> fieldcase_core::Result<T> + Send,
    T: Send,
{
    type Out = T;
    type Err = AppError;

    async fn attempt(&mut self, hot: &Hot) -> Result<Attempt<T>, AppError> {
        let user = self.user;
        if self.must_see && !hot.access.as_ref().is_some_and(|a| a.visible_to(user)) {
            return Err(AppError::NotFound);
        }
        let mut doc = CaseDoc::from_automerge(hot.doc.clone())?;
        doc.set_actor(self.actor.clone());
        let author = Author::new(&user.id, &user.display_name, user.role, self.device);
        let now = chrono::Utc::now().timestamp_millis();
        let out = (self.f)(&mut doc, &author, now)?;
        let after = doc.automerge();
        if after.get_heads() == hot.doc.get_heads() {
            return Ok(Attempt::Done(out));
        }
        let admitted = check(
            self.state,
            user,
            self.device,
            &hot.doc,
            hot.outline(),
            hot.access.as_ref(),
            self.id,
            after,
        )
        .await?;
        Ok(Attempt::Candidate {
            doc: Box::new(after.clone()),
            admitted: Box::new(admitted),
            then: out,
        })
    }
}

/// The last changes of a departing phone ([`Hub::departure`]).
struct DepartureWrite<'a> {
    state: &'a AppState,
    session: &'a Session,
    device: &'a crate::db::Device,
    /// Whether the device had handed in its changes before this request.
    departed: bool,
    changes: &'a [u8],
    id: CaseId,
    /// Whether this request claimed the device's one departure.
    claimed: bool,
}

impl Write for DepartureWrite<'_> {
    type Out = usize;
    type Err = AppError;

    async fn attempt(&mut self, hot: &Hot) -> Result<Attempt<usize>, AppError> {
        let (state, session, device, departed, changes, id) = (
            self.state,
            self.session,
            self.device,
            self.departed,
            self.changes,
            self.id,
        );
        let user = &session.user;
        let mut doc = hot.doc.clone();
        let before = hot.doc.get_heads();
        doc.load_incremental(changes)
            .map_err(|_| AppError::NotFound)?;
        let doc = without_queue(&hot.doc, doc).map_err(|_| AppError::NotFound)?;
        let new = doc.get_changes(&before);
        if new.is_empty() {
            // A phone asking again after a lost answer: its hand-in is stored.
            return if departed {
                Ok(Attempt::Done(0))
            } else {
                Err(AppError::NotFound)
            };
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
                .and_then(|then| CaseAccess::read(id, &then).ok())
                .is_some_and(|a| a.visible_to(user));
        if !was_visible {
            return Err(AppError::NotFound);
        }
        // A schema upgrade among them is every replica's alike, and no device's.
        let actors = fieldcase_core::case::admission::writers_actors(&doc, &new);
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
        let is_claimed = self.claimed;
        if departed && !is_claimed {
            return Err(already_handed_in());
        }
        let window = i64::from(state.config.departure_days) * 24 * 3600 * 1000;
        if now.saturating_sub(lost_at) > window {
            return Err(AppError::refused(
                RefusalKind::Departure,
                format!(
                    "the last changes to a case are accepted within {} days of leaving it",
                    state.config.departure_days
                ),
            ));
        }
        let count = new.len();
        let refused = |e: AppError| match e {
            AppError::Refused { refusal, conflict } => AppError::Refused {
                refusal: fieldcase_core::Refusal::new(
                    refusal.kind,
                    format!("changes refused: {}", refusal.message),
                ),
                conflict,
            },
            other => other,
        };
        let mut admitted = check(
            state,
            user,
            &session.device_id,
            &hot.doc,
            hot.outline(),
            hot.access.as_ref(),
            id,
            &doc,
        )
        .await
        .map_err(refused)?;
        // Every refusal known before the departure is claimed: its questions to storage
        // answered now, not with the write.
        admitted.settle(state).await.map_err(refused)?;
        // The one departure of this device is claimed before anything is stored
        // (two hand-ins at once, even on two instances, cannot both pass), and
        // given back if the changes are not stored.
        if !is_claimed {
            let (db, d) = (state.db.clone(), session.device_id.clone());
            let first =
                tokio::task::spawn_blocking(move || db.record_departure(&id, &d, count, now))
                    .await
                    .map_err(blocking_error)??;
            if !first {
                return Err(already_handed_in());
            }
            self.claimed = true;
        }
        Ok(Attempt::Candidate {
            doc: Box::new(doc),
            admitted: Box::new(admitted),
            then: count,
        })
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use fieldcase_core::{Author, NewCase, Role};

    fn outline(visits: usize) -> (Vec<ChangeHash>, fieldcase_core::Outline) {
        let author = Author::new("u-anna", "Anna", Role::Worker, "d-1");
        let mut n = NewCase {
            team: "north".into(),
            ..Default::default()
        };
        n.client.name = Some("Nguyễn Thị Lan".into());
        let mut doc = CaseDoc::create(
            CaseId::random(),
            ActorId::random(),
            &author,
            n,
            1_700_000_000_000,
        )
        .unwrap();
        for i in 0..visits {
            doc.add_visit(&author, 1_700_000_000_000 + i as i64, Default::default())
                .unwrap();
        }
        let o = fieldcase_core::Outline::of(doc.automerge()).unwrap();
        (doc.heads(), o)
    }

    /// At most `max` outlines, the least recently kept dropped first; their bytes follow
    /// what is kept; none at all with a bound of 0.
    #[test]
    fn outlines_stay_within_their_bound_and_count_their_bytes() {
        let mut kept = Outlines::new(3);
        let ids: Vec<CaseId> = (0..5).map(|_| CaseId::random()).collect();
        for (i, id) in ids.iter().enumerate() {
            let (heads, o) = outline(if i == 4 { 40 } else { 0 });
            kept.keep(*id, heads, o);
        }
        assert_eq!(kept.by_case.len(), 3);
        assert_eq!(kept.order.len(), 3);
        assert!(kept.take(&ids[0]).is_none() && kept.take(&ids[1]).is_none());
        let small = OUTLINE_BASE + OUTLINE_PER_ENTRY; // the creator among the actors
        assert_eq!(kept.bytes, 2 * small + small + 40 * OUTLINE_PER_ENTRY);
        assert!(kept.take(&ids[4]).is_some());
        assert_eq!(kept.bytes, 2 * small);
        // Kept again: replaced, not counted twice.
        let (heads, o) = outline(0);
        kept.keep(ids[2], heads, o);
        assert_eq!((kept.by_case.len(), kept.bytes), (2, 2 * small));

        let mut none = Outlines::new(0);
        let (heads, o) = outline(0);
        none.keep(ids[0], heads, o);
        assert!(none.by_case.is_empty() && none.take(&ids[0]).is_none());
        assert_eq!(none.bytes, 0);
    }
}
