//! The case rules, once for every storage: a case write is a compare-and-swap on the
//! stored heads (nothing is written when they are not the expected ones), a whole document
//! replaces the snapshot and the changes appended since, changes are appended after it, a
//! new case is inserted only if nobody inserted it meanwhile, and who leaves a case is
//! noted with the server's time (a departing phone's deadline). A stored case reads back
//! as its snapshot followed by its changes; its assignees keep their order, once each.
//!
//! Every snapshot and change is stored packed (`fieldcase_core::packing`: DEFLATE with a
//! dictionary of the case schema's words, a small case in less than half its bytes) and
//! sealed with the case's data key, which is stored beside the case wrapped by the master
//! key ([`super::keys`]): a new case gets a fresh data key in the write that inserts it,
//! and every storage holds only ciphertext. Records stored before packing read as they are.
//!
//! Beside the document, each case's row keeps what the duplicate check and the console's
//! lists read of it ([`super::MatchFacts`], [`super::ListFacts`]) in one record, packed
//! and sealed with the same data key ([`Kind::Facts`]): every write states them anew, so
//! that neither reads a document to build its index or a list.
//!
//! Each storage only reads and writes rows: [`CaseTx`] inside the one transaction of a
//! write (which the storage opens, commits or rolls back), [`CaseRows`] for the reads.
//! Both fail with [`StorageError`].

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;

use automerge::ChangeHash;

use super::accounts::StorageError;
use super::keys::{self, Key, Kind};
use super::{heads_blob, heads_of, CaseAccess, CaseWrite, Stored, TimeMark};
use fieldcase_core::{packing, CaseId};

/// The most bytes one stored record (a snapshot, or changes appended) may unpack to. Not a
/// setting: every record is one this server packed and sealed (AES-GCM authenticates it),
/// and [`packing::pack`] keeps what is longer than its header can say (4 GiB) unpacked; it
/// bounds what a damaged record could ask for.
pub const MAX_UNPACKED_BYTES: usize = u32::MAX as usize;

/// The most bytes a case's kept facts may unpack to: a bound on what a damaged record
/// could ask for (a case's facts are a few hundred bytes; a record over it is not opened,
/// logged, and the document is read instead).
pub const MAX_FACTS_BYTES: usize = 1 << 20;

/// A case write, owned: a storage may queue it (SQLite's group commit) or hand it to
/// another thread (PostgreSQL's pool).
#[derive(Debug, Clone)]
pub struct Write {
    pub access: CaseAccess,
    /// A whole document (`true`) or changes to append.
    pub snapshot: bool,
    pub bytes: Vec<u8>,
    pub heads: Vec<ChangeHash>,
    /// The heads the writer read; `None` for an unconditional write.
    pub expected: Option<Vec<ChangeHash>>,
    pub now: i64,
}

impl Write {
    pub fn new(
        access: &CaseAccess,
        write: CaseWrite<'_>,
        heads: &[ChangeHash],
        expected: Option<&[ChangeHash]>,
        now: i64,
    ) -> Self {
        let (snapshot, bytes) = match write {
            CaseWrite::Snapshot(b) => (true, b),
            CaseWrite::Changes(b) => (false, b),
        };
        Write {
            access: access.clone(),
            snapshot,
            bytes: bytes.to_vec(),
            heads: heads.to_vec(),
            expected: expected.map(<[_]>::to_vec),
            now,
        }
    }
}

/// A stored case's row as a write finds it.
#[derive(Debug, Clone)]
pub struct Current {
    /// Its heads as stored (the hashes one after another).
    pub heads: Vec<u8>,
    /// The size of its snapshot (as stored, sealed).
    pub snapshot_bytes: usize,
    /// Its data key, wrapped by the master key (`None`: stored in the clear by an earlier
    /// version, which the startup step [`keys::prepare`] leaves none of).
    pub data_key: Option<Vec<u8>>,
    /// What is kept beside it (sealed, [`Kind::Facts`]), if anything.
    pub facts: Option<Vec<u8>>,
}

/// A case's row as written: its key, access facts, heads and time.
#[derive(Debug, Clone, Copy)]
pub struct CaseRow<'a> {
    pub id: &'a [u8],
    pub team: &'a str,
    pub restricted: bool,
    pub heads: &'a [u8],
    pub now: i64,
    /// Its data key wrapped by the master key: written by [`CaseTx::insert_case`] (a case
    /// keeps its data key for life); empty otherwise.
    pub data_key: &'a [u8],
    /// Whether it is closed and when its closure in force was approved
    /// ([`CaseAccess::closed`]): columns every write sets, which the retention reads.
    pub closed: bool,
    pub closed_at: Option<i64>,
    /// What is kept beside it (sealed, [`Kind::Facts`]); `None` keeps nothing (the
    /// duplicate check and the lists read its document).
    pub facts: Option<&'a [u8]>,
}

/// A case's wrapped data key, its snapshot and the change chunks appended since, in order
/// (all sealed).
pub type DocumentRows = (Option<Vec<u8>>, Vec<u8>, Vec<Vec<u8>>);
/// A case's key, team, whether it is restricted, its heads as stored, whether it is closed
/// and when its closure was approved.
pub type CaseListRow = (Vec<u8>, String, bool, Vec<u8>, bool, Option<i64>);
/// A case's team, whether it is restricted, its assignees in order, whether it is closed
/// and when its closure was approved.
pub type AccessRow = (String, bool, Vec<String>, bool, Option<i64>);
/// A closed case's key, team and when its closure was approved.
pub type ClosedRow = (Vec<u8>, String, i64);
/// A case's key and one user assigned to it.
pub type AssignmentRow = (Vec<u8>, String);

/// The rows of one case write, inside the one transaction the storage holds for it.
pub trait CaseTx {
    /// The case's row, locked until the transaction ends (other writers wait), if any.
    fn current(&mut self, id: &[u8]) -> Result<Option<Current>, StorageError>;
    /// Appends `bytes` (sealed) after the case's changes and updates its row; answers how many
    /// change chunks follow the snapshot now, and their size.
    fn append_changes(
        &mut self,
        row: CaseRow<'_>,
        bytes: &[u8],
    ) -> Result<(usize, usize), StorageError>;
    /// Replaces an existing case's snapshot (and row), dropping its appended changes.
    fn replace_snapshot(&mut self, row: CaseRow<'_>, bytes: &[u8]) -> Result<(), StorageError>;
    /// Inserts a new case; `false` when a case of that id exists (inserted meanwhile).
    fn insert_case(&mut self, row: CaseRow<'_>, bytes: &[u8]) -> Result<bool, StorageError>;
    /// Who is assigned to the case now, in order.
    fn assigned(&mut self, id: &[u8]) -> Result<Vec<String>, StorageError>;
    /// Notes that `users` left the case at `now` (replacing an earlier note).
    fn end_assignments(&mut self, id: &[u8], users: &[&str], now: i64) -> Result<(), StorageError>;
    /// Forgets that `users` left the case (they are assigned again).
    fn clear_assignment_ends(&mut self, id: &[u8], users: &[&str]) -> Result<(), StorageError>;
    /// Replaces who is assigned, in this order (no user twice).
    fn replace_assignments(&mut self, id: &[u8], users: &[&str]) -> Result<(), StorageError>;
    /// Replaces the cases the case links to (keys, each once).
    fn replace_links(&mut self, id: &[u8], links: &[&[u8]]) -> Result<(), StorageError>;
    /// The database's key check ([`keys`]), held until the transaction ends so that no
    /// rotation of the master key runs meanwhile.
    fn key_check(&mut self) -> Result<Option<Vec<u8>>, StorageError>;
    /// Whether the case was erased ([`super::erasure`]): its id is never a case again.
    fn erased(&mut self, id: &[u8]) -> Result<bool, StorageError>;
    /// A new case's data key, `wrapped` by `master`, stored before the case where the
    /// storage keeps its keys apart from the case rows (PostgreSQL's keys database,
    /// ADR 0007); answers the key stored for the case, which is another writer's when one
    /// stored a key for it first. Where the key is stored with the case
    /// ([`CaseTx::insert_case`]), it is `wrapped` itself.
    fn claim_data_key(
        &mut self,
        master: &Key,
        id: &[u8],
        wrapped: &[u8],
    ) -> Result<Vec<u8>, StorageError> {
        let _ = (master, id);
        Ok(wrapped.to_vec())
    }
}

/// What a storage reads of cases; each read is one consistent view.
pub trait CaseRows {
    /// The master key that wraps the data keys of this storage's cases.
    fn master_key(&self) -> std::sync::Arc<Key>;
    /// What this storage counts of sealing and opening.
    fn meter(&self) -> std::sync::Arc<keys::Meter>;
    /// The closed cases whose closure was approved at or before `closed_before`, oldest
    /// closure first (through an index on the closure columns).
    fn closed_case_rows(&self, closed_before: i64) -> Result<Vec<ClosedRow>, StorageError>;
    /// The keys of the cases whose closure columns were never written (stored before they
    /// existed): [`fill_derived`] reads them once.
    fn unfilled_closure_keys(&self) -> Result<Vec<Vec<u8>>, StorageError>;
    /// Writes a case's closure columns if they are still unwritten (a case write meanwhile
    /// wrote them from a newer document).
    fn fill_closure_row(
        &self,
        id: &[u8],
        closed: bool,
        closed_at: Option<i64>,
    ) -> Result<(), StorageError>;
    /// Reads the master key again after a rotation ([`keys::reload`]).
    fn reload_master_key(&self) -> Result<(), StorageError>;
    /// A case's wrapped data key, its snapshot and the change chunks appended since, in
    /// order.
    fn document_rows(&self, id: &[u8]) -> Result<Option<DocumentRows>, StorageError>;
    /// A case's stored heads.
    fn heads_row(&self, id: &[u8]) -> Result<Option<Vec<u8>>, StorageError>;
    /// A case's team, whether it is restricted, and its assignees in order.
    fn access_row(&self, id: &[u8]) -> Result<Option<AccessRow>, StorageError>;
    /// Every case (key, team, restricted, heads) by key, and every assignment (case key,
    /// user) in each case's order.
    fn all_case_rows(&self) -> Result<(Vec<CaseListRow>, Vec<AssignmentRow>), StorageError>;
    /// The keys of the cases `user_id` is assigned to, in key order.
    fn assigned_case_keys(&self, user_id: &str) -> Result<Vec<Vec<u8>>, StorageError>;
    /// The rows of the cases a query narrows to by who may see them, through the indexes
    /// on assignees and teams: those `user_id` is assigned to, those of `team` (when
    /// given), and every unrestricted case (when `unrestricted`); with their assignments
    /// (in order). Its cost follows the caller's caseload, not the database.
    fn visible_case_rows(
        &self,
        user_id: &str,
        team: Option<&str>,
        unrestricted: bool,
    ) -> Result<(Vec<CaseListRow>, Vec<AssignmentRow>), StorageError>;
    /// Inserts marks, each (case, change) once, in one transaction.
    fn insert_time_marks(&self, id: &[u8], marks: &[TimeMark]) -> Result<(), StorageError>;
    /// A case's marks: (change hash, claimed, received).
    fn time_mark_rows(&self, id: &[u8]) -> Result<Vec<(Vec<u8>, i64, i64)>, StorageError>;
    /// The keys of the cases that link to the case `id`, in key order.
    fn linking_case_keys(&self, id: &[u8]) -> Result<Vec<Vec<u8>>, StorageError>;
    /// The keys of the cases written at or after `since_ms` (`updated_at`), oldest first.
    fn written_since_keys(&self, since_ms: i64) -> Result<Vec<(Vec<u8>, i64)>, StorageError>;
    /// Whether the cases stored before links were kept are still to be read
    /// ([`fill_derived`]).
    fn links_unfilled(&self) -> Result<bool, StorageError>;
    /// Stores the links of cases stored before links were kept, each (case, linked) once,
    /// and notes that they are filled, in one transaction.
    fn fill_link_rows(&self, rows: &[(Vec<u8>, Vec<Vec<u8>>)]) -> Result<(), StorageError>;
    /// Every case's kept facts (sealed) with its wrapped data key, by key; cases with
    /// none stored are left out.
    fn fact_rows(&self) -> Result<Vec<FactRow>, StorageError>;
    /// One case's kept facts (sealed) with its wrapped data key; `None` when there is no
    /// such case, no facts when none are stored.
    fn fact_row(&self, id: &[u8]) -> Result<Option<FactRow>, StorageError>;
    /// The keys of the cases with no facts stored, while the storage is marked as holding
    /// cases stored before they were kept (none once [`CaseRows::facts_filled`] cleared the
    /// mark): [`fill_derived`] reads them once.
    fn unfilled_fact_keys(&self) -> Result<Vec<Vec<u8>>, StorageError>;
    /// Clears the mark: the facts of the cases stored before were filled.
    fn facts_filled(&self) -> Result<(), StorageError>;
    /// Writes cases' kept facts (key, sealed) where none are stored still (a write
    /// meanwhile wrote them from a newer document), in one transaction.
    fn fill_fact_rows(&self, rows: &[(Vec<u8>, Vec<u8>)]) -> Result<(), StorageError>;
    /// A case's wrapped data key (`None`: no such case, or erased).
    fn data_key_row(&self, id: &[u8]) -> Result<Option<Vec<u8>>, StorageError>;
    /// The kept facts of the cases `ids` (those that exist; in one consistent view), each
    /// with its heads and wrapped data key, and the latest receipt of its changes marked as
    /// far off ([`super::TimeMark`]).
    fn list_fact_rows(&self, ids: &[Vec<u8>]) -> Result<Vec<ListFactRow>, StorageError>;
}

/// A case's key, its heads as stored, its wrapped data key, its kept facts (sealed; `None`
/// when none are stored) and the latest receipt of its changes marked as far off.
pub type ListFactRow = (
    Vec<u8>,
    Vec<u8>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Option<i64>,
);

/// A case's key, its wrapped data key and its kept facts (sealed; `None` when none are
/// stored).
pub type FactRow = (Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>);

/// What is kept beside a case, in one record in its row: what the duplicate check compares
/// and what the console's lists show. Either may be missing (a write that did not state
/// it, facts of another version): its reader opens the document then. A write borrows
/// its facts; a read owns them.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct Kept<'a> {
    #[serde(rename = "m", default, skip_serializing_if = "Option::is_none")]
    matching: Option<Cow<'a, super::MatchFacts>>,
    #[serde(rename = "l", default, skip_serializing_if = "Option::is_none")]
    listing: Option<Cow<'a, super::ListFacts>>,
}

/// The record kept beside a case, before it is packed and sealed (JSON); also what the
/// facts' dictionary is made of (`cargo run -p fieldcase-server --example facts_dictionary`).
pub fn kept_json(
    matching: Option<&super::MatchFacts>,
    listing: Option<&super::ListFacts>,
) -> Vec<u8> {
    let kept = Kept {
        matching: matching.map(Cow::Borrowed),
        listing: listing.map(Cow::Borrowed),
    };
    // Strings, numbers and lists only: serializing cannot fail.
    serde_json::to_vec(&kept).unwrap_or_default()
}

/// Packs (with the facts' own dictionary, [`packing::Dictionary::Facts`]) and seals a
/// case's kept facts with its data key; `None` when there is nothing to keep.
fn seal_kept(
    meter: &keys::Meter,
    key: &Key,
    id: &[u8],
    matching: Option<&super::MatchFacts>,
    listing: Option<&super::ListFacts>,
) -> Option<Vec<u8>> {
    if matching.is_none() && listing.is_none() {
        return None;
    }
    let plain = kept_json(matching, listing);
    Some(meter.seal(
        key,
        Kind::Facts,
        id,
        &packing::pack_with(packing::Dictionary::Facts, &plain),
    ))
}

/// Opens a case's kept facts, sealed by [`seal_kept`].
fn open_kept(
    meter: &keys::Meter,
    key: &Key,
    id: &[u8],
    sealed: &[u8],
) -> Result<Kept<'static>, StorageError> {
    let packed = meter.open(key, Kind::Facts, id, sealed)?;
    let plain = packing::unpack(&packed, MAX_FACTS_BYTES)
        .map_err(|e| StorageError::Corrupt(format!("kept facts: {e}")))?;
    serde_json::from_slice(&plain).map_err(|e| StorageError::Corrupt(format!("kept facts: {e}")))
}

/// Opens a case's kept facts with the case's wrapped data key; `None` (logged) when they
/// do not open or read: the caller opens the document instead.
fn open_row(
    master: &Key,
    meter: &keys::Meter,
    key_id: &[u8],
    wrapped: Option<&[u8]>,
    sealed: &[u8],
) -> Option<Kept<'static>> {
    let opened = meter
        .opening(|| data_key(master, key_id, wrapped))
        .and_then(|k| open_kept(meter, &k, key_id, sealed));
    match opened {
        Ok(kept) => Some(kept),
        Err(e) => {
            let id = case_id_of(key_id)
                .map(|i| i.to_string())
                .unwrap_or_default();
            tracing::warn!(case = %id, error = %e, "what is kept beside a case does not open; its document is read instead");
            None
        }
    }
}

/// The list facts of the cases `ids` that exist, each with its heads as stored with them
/// and the latest receipt of its changes marked as far off; facts that do not open (logged)
/// or are of another version ([`super::LIST_FACTS_VERSION`]) are `None`: the caller opens
/// the document.
pub fn list_facts(
    rows: &dyn CaseRows,
    ids: &[CaseId],
) -> Result<Vec<super::Listing>, StorageError> {
    let keys: Vec<Vec<u8>> = ids.iter().map(|i| i.as_bytes().to_vec()).collect();
    let found = rows.list_fact_rows(&keys)?;
    let meter = rows.meter();
    with_master_key(rows, |master| {
        Ok(found
            .iter()
            .filter_map(|(key, heads, wrapped, sealed, marked)| {
                let id = case_id_of(key)?;
                let facts = sealed
                    .as_deref()
                    .and_then(|sealed| open_row(&master, &meter, key, wrapped.as_deref(), sealed))
                    .and_then(|kept| kept.listing)
                    .map(Cow::into_owned)
                    .filter(|f| f.version == super::LIST_FACTS_VERSION);
                Some(super::Listing {
                    id,
                    heads: heads_of(heads),
                    facts,
                    marked_receipt: *marked,
                })
            })
            .collect())
    })
}

/// A case's match facts from its row, if they open and are of this version
/// ([`super::MATCH_FACTS_VERSION`]); `None` (logged when they do not open): the caller
/// opens the document instead.
fn open_facts(
    master: &Key,
    meter: &keys::Meter,
    row: &FactRow,
) -> Option<(CaseId, super::MatchFacts)> {
    let (key_id, wrapped, sealed) = row;
    let id = case_id_of(key_id)?;
    open_row(
        master,
        meter,
        key_id,
        wrapped.as_deref(),
        sealed.as_deref()?,
    )?
    .matching
    .map(Cow::into_owned)
    .filter(|f| f.version == super::MATCH_FACTS_VERSION)
    .map(|f| (id, f))
}

/// Every case's match facts that open and are of this version, by case id (the duplicate
/// check's index is built from these; a case left out is read from its document).
pub fn match_facts(rows: &dyn CaseRows) -> Result<Vec<(CaseId, super::MatchFacts)>, StorageError> {
    let all = rows.fact_rows()?;
    let meter = rows.meter();
    with_master_key(rows, |master| {
        Ok(all
            .iter()
            .filter_map(|r| open_facts(&master, &meter, r))
            .collect())
    })
}

/// One case's match facts, if stored, opened and of this version.
pub fn match_facts_of(
    rows: &dyn CaseRows,
    id: &CaseId,
) -> Result<Option<super::MatchFacts>, StorageError> {
    let Some(row) = rows.fact_row(&id.as_bytes()[..])? else {
        return Ok(None);
    };
    let meter = rows.meter();
    with_master_key(rows, |master| {
        Ok(open_facts(&master, &meter, &row).map(|(_, f)| f))
    })
}

/// The cases written at or after `since_ms` by the writers' clocks, oldest first, each with
/// the time of its last write.
pub fn written_since(
    rows: &dyn CaseRows,
    since_ms: i64,
) -> Result<Vec<(CaseId, i64)>, StorageError> {
    Ok(rows
        .written_since_keys(since_ms)?
        .iter()
        .filter_map(|(k, at)| Some((case_id_of(k)?, *at)))
        .collect())
}

/// The cases that link to `id` (their household names its client, or they were closed as
/// its duplicates), in id order; whether the caller may see each is the caller's to check.
pub fn linking(rows: &dyn CaseRows, id: &CaseId) -> Result<Vec<CaseId>, StorageError> {
    Ok(rows
        .linking_case_keys(&id.as_bytes()[..])?
        .iter()
        .filter_map(|k| case_id_of(k))
        .collect())
}

/// Stores a write under compare-and-swap (see [`super::Db::store_case`]), inside the
/// storage's transaction: on [`Stored::Stale`] nothing was written. What is written is
/// sealed with the case's data key (a new case's is made here and wrapped by `master`).
pub fn store(
    tx: &mut dyn CaseTx,
    master: &Key,
    meter: &keys::Meter,
    w: &Write,
) -> Result<Stored, StorageError> {
    let access = &w.access;
    let id = &access.id.as_bytes()[..];
    let heads = heads_blob(&w.heads);
    let row = CaseRow {
        id,
        team: &access.team,
        restricted: access.restricted,
        heads: &heads,
        now: w.now,
        data_key: &[],
        closed: access.closed,
        closed_at: access.closed_at.filter(|_| access.closed),
        facts: None,
    };
    // A new case's data key, made once even if the insert is tried again.
    let mut fresh: Option<(Key, Vec<u8>)> = None;
    // What is kept beside the case, sealed with its data key once it is known: the write's
    // own facts; a write that states no match facts keeps those stored (its list facts
    // are the write's: none leaves the lists to read the document).
    let kept_of = |key: &Key, stored: Option<&[u8]>| {
        let kept_before;
        let matching = match &access.matching {
            Some(m) => Some(m),
            None => {
                kept_before = stored
                    .and_then(|s| open_kept(meter, key, id, s).ok())
                    .and_then(|k| k.matching);
                kept_before.as_deref()
            }
        };
        seal_kept(meter, key, id, matching, access.listing.as_ref())
    };
    // What is sealed: the bytes packed (`fieldcase_core::packing`), whole document or
    // changes alike.
    let packed = packing::pack(&w.bytes);
    let mut sealed_len;
    // A new case found inserted by another writer is looked at again, once it is there.
    let mut attempts = 0;
    let stored = loop {
        attempts += 1;
        let current = tx.current(id)?;
        if let Some(expected) = &w.expected {
            let now_heads = current
                .as_ref()
                .map(|c| heads_of(&c.heads))
                .unwrap_or_default();
            if &now_heads != expected {
                return Ok(Stored::Stale);
            }
        }
        match current {
            Some(c) => {
                let key = meter.opening(|| data_key(master, id, c.data_key.as_deref()))?;
                let kept = kept_of(&key, c.facts.as_deref());
                let row = CaseRow {
                    facts: kept.as_deref(),
                    ..row
                };
                if !w.snapshot {
                    let sealed = meter.seal(&key, Kind::Change, id, &packed);
                    let (pending_changes, pending_bytes) = tx.append_changes(row, &sealed)?;
                    break Stored::Written {
                        pending_changes,
                        pending_bytes,
                        snapshot_bytes: c.snapshot_bytes,
                    };
                }
                // A whole document replaces the snapshot.
                let sealed = meter.seal(&key, Kind::Snapshot, id, &packed);
                sealed_len = sealed.len();
                tx.replace_snapshot(row, &sealed)?;
            }
            // The first changes of a new case become its snapshot.
            None => {
                // An erased case is not made again, by any path.
                if tx.erased(id)? {
                    return Err(StorageError::Erased);
                }
                // A new data key is wrapped only under the database's current master key
                // (a rotation may have run since this storage read its key).
                if tx.key_check()?.is_some_and(|c| !keys::checks(master, &c)) {
                    return Err(StorageError::Rekeyed);
                }
                let (key, wrapped) =
                    fresh.get_or_insert_with(|| meter.sealing(|| keys::new_data_key(master, id)));
                let claimed = tx.claim_data_key(master, id, wrapped)?;
                let theirs;
                let key = if &claimed == wrapped {
                    &*key
                } else {
                    theirs = meter.opening(|| keys::unwrap_data_key(master, id, &claimed))?;
                    &theirs
                };
                let sealed = meter.seal(key, Kind::Snapshot, id, &packed);
                sealed_len = sealed.len();
                let kept = kept_of(key, None);
                let row = CaseRow {
                    data_key: &claimed,
                    facts: kept.as_deref(),
                    ..row
                };
                if tx.insert_case(row, &sealed)? {
                    // Inserted.
                } else if w.expected.is_some() {
                    // Inserted meanwhile: a conditional write expected no case and is
                    // stale; an unconditional one replaces what is there.
                    return Ok(Stored::Stale);
                } else if attempts < 3 {
                    continue;
                } else {
                    return Err(StorageError::Unavailable(
                        "a case came and went while it was written".into(),
                    ));
                }
            }
        }
        break Stored::Written {
            pending_changes: 0,
            pending_bytes: 0,
            snapshot_bytes: sealed_len,
        };
    };
    // Who leaves the case, and when by the server's clock (a departing phone's deadline).
    let mut after: Vec<&str> = Vec::with_capacity(access.assigned.len());
    for u in &access.assigned {
        if !after.contains(&u.as_str()) {
            after.push(u);
        }
    }
    let before = tx.assigned(id)?;
    let left: Vec<&str> = before
        .iter()
        .map(String::as_str)
        .filter(|u| !after.contains(u))
        .collect();
    let joined: Vec<&str> = after
        .iter()
        .copied()
        .filter(|u| !before.iter().any(|b| b == u))
        .collect();
    if !left.is_empty() {
        tx.end_assignments(id, &left, w.now)?;
    }
    if !joined.is_empty() {
        tx.clear_assignment_ends(id, &joined)?;
    }
    // Most writes leave the assignees as they were: nothing to rewrite then.
    if before.len() != after.len() || before.iter().zip(&after).any(|(b, a)| b != a) {
        tx.replace_assignments(id, &after)?;
    }
    let mut links: Vec<&[u8]> = access.links.iter().map(|l| &l.as_bytes()[..]).collect();
    links.sort_unstable();
    links.dedup();
    tx.replace_links(id, &links)?;
    Ok(stored)
}

/// A case's data key from its wrapped form.
fn data_key(master: &Key, id: &[u8], wrapped: Option<&[u8]>) -> Result<Key, StorageError> {
    let wrapped = wrapped.ok_or_else(|| {
        StorageError::Corrupt("a case stored in the clear, with no data key".into())
    })?;
    keys::unwrap_data_key(master, id, wrapped)
}

/// Runs `f` with the storage's master key; when the key was rotated meanwhile
/// ([`StorageError::Rekeyed`]), reads the key again and runs `f` once more. A server goes
/// on serving through a rotation (`key rotate`).
pub fn with_master_key<T>(
    rows: &dyn CaseRows,
    f: impl Fn(std::sync::Arc<Key>) -> Result<T, StorageError>,
) -> Result<T, StorageError> {
    match f(rows.master_key()) {
        Err(StorageError::Rekeyed) => {
            rows.reload_master_key()?;
            f(rows.master_key())
        }
        other => other,
    }
}

/// A stored document, opened: its snapshot followed by the changes appended since
/// (Automerge loads them as one document).
pub fn document(rows: &dyn CaseRows, id: &CaseId) -> Result<Option<Vec<u8>>, StorageError> {
    let key_id = &id.as_bytes()[..];
    let Some((wrapped, snapshot, chunks)) = rows.document_rows(key_id)? else {
        return Ok(None);
    };
    let meter = rows.meter();
    meter.documents_opened.fetch_add(1, Relaxed);
    let key = with_master_key(rows, |master| {
        meter.opening(|| data_key(&master, key_id, wrapped.as_deref()))
    })?;
    let unpacked = |record: Vec<u8>| -> Result<Vec<u8>, StorageError> {
        match packing::unpack(&record, MAX_UNPACKED_BYTES) {
            Ok(Cow::Borrowed(_)) => Ok(record),
            Ok(Cow::Owned(bytes)) => Ok(bytes),
            Err(e) => Err(StorageError::Corrupt(e.to_string())),
        }
    };
    let mut bytes = unpacked(meter.open(&key, Kind::Snapshot, key_id, &snapshot)?)?;
    for chunk in chunks {
        bytes.extend_from_slice(&unpacked(meter.open(
            &key,
            Kind::Change,
            key_id,
            &chunk,
        )?)?);
    }
    Ok(Some(bytes))
}

/// The closed cases whose closure was approved at or before `closed_before`, from the
/// columns beside them (nothing is opened).
pub fn closed(
    rows: &dyn CaseRows,
    closed_before: i64,
) -> Result<Vec<super::ClosedCase>, StorageError> {
    Ok(rows
        .closed_case_rows(closed_before)?
        .into_iter()
        .filter_map(|(key, team, closed_at)| {
            Some(super::ClosedCase {
                id: case_id_of(&key)?,
                team,
                closed_at,
            })
        })
        .collect())
}

/// Writes what is kept beside the cases stored before it was (a database of an earlier
/// version), opening each such case once, at the first start after the upgrade: the
/// closure columns (the SQLite storage's migration 19, PostgreSQL's schema version 16),
/// the links between cases (migration 20, schema version 18), and what is kept beside
/// each case for the duplicate check and the console's lists (migration 26, schema
/// version 23, which dropped the tables migrations 22 and 24 kept them in). Idempotent: a case whose
/// columns a write filled meanwhile is left as that write left it; one interrupted start
/// fills the rest at the next. A case that cannot be read is logged: its closure is taken
/// as open (never the retention's to erase), it keeps no links until its next write; never
/// a reason not to start. Answers how many cases it opened.
pub fn fill_derived(rows: &dyn CaseRows) -> Result<usize, StorageError> {
    let closures: std::collections::BTreeSet<Vec<u8>> =
        rows.unfilled_closure_keys()?.into_iter().collect();
    let facts: std::collections::BTreeSet<Vec<u8>> =
        rows.unfilled_fact_keys()?.into_iter().collect();
    let links_unfilled = rows.links_unfilled()?;
    let keys: Vec<Vec<u8>> = if links_unfilled {
        rows.all_case_rows()?.0.into_iter().map(|r| r.0).collect()
    } else {
        closures.union(&facts).cloned().collect()
    };
    if !keys.is_empty() {
        tracing::info!(
            cases = keys.len(),
            "reading cases stored by an earlier version once, for what is kept beside them"
        );
    }
    let meter = rows.meter();
    let mut links = Vec::new();
    // The facts are written a thousand cases to a transaction (one commit each: 100,000
    // cases stored before take minutes at one commit a case).
    let mut kept: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for key in &keys {
        if kept.len() >= 1000 {
            rows.fill_fact_rows(&kept)?;
            kept.clear();
        }
        let Some(id) = case_id_of(key) else { continue };
        // Erased meanwhile: nothing to fill.
        let Some(bytes) = document(rows, &id)? else {
            continue;
        };
        let read = automerge::Automerge::load(&bytes)
            .map_err(|e| e.to_string())
            .and_then(|doc| {
                let (file, conflicts) =
                    fieldcase_core::CaseDoc::outline_of(&doc).map_err(|e| e.to_string())?;
                Ok((file, conflicts, doc))
            });
        let (file, conflicts, doc) = match read {
            Ok(r) => r,
            Err(e) => {
                // Not a case file this server reads: never the retention's to erase.
                tracing::warn!(case = %id, error = %e, "a stored case does not read; its closure is taken as open and its links left out");
                if closures.contains(key) {
                    rows.fill_closure_row(key, false, None)?;
                }
                continue;
            }
        };
        if closures.contains(key) {
            let closed = file.stage == fieldcase_core::Stage::Closed;
            rows.fill_closure_row(
                key,
                closed,
                closed.then(|| super::closed_at(&file)).flatten(),
            )?;
        }
        if facts.contains(key) {
            if let Some(wrapped) = rows.data_key_row(key)? {
                let matching = super::MatchFacts::of(&file);
                let listing = super::ListFacts::of(&file, conflicts, &doc);
                let sealed = with_master_key(rows, |master| {
                    let k = meter.opening(|| data_key(&master, key, Some(&wrapped)))?;
                    Ok(seal_kept(&meter, &k, key, Some(&matching), Some(&listing)))
                })?;
                kept.extend(sealed.map(|s| (key.clone(), s)));
            }
        }
        if links_unfilled {
            let l = CaseAccess::of(id, &file, conflicts, &doc).links;
            if !l.is_empty() {
                links.push((
                    key.clone(),
                    l.iter().map(|c| c.as_bytes().to_vec()).collect(),
                ));
            }
        }
    }
    rows.fill_fact_rows(&kept)?;
    if links_unfilled {
        rows.fill_link_rows(&links)?;
    }
    // Read once: a case that did not read keeps none (the duplicate check reads its
    // document), and a normal start finds the mark gone and reads nothing.
    rows.facts_filled()?;
    Ok(keys.len())
}

/// A stored case's heads.
pub fn heads(rows: &dyn CaseRows, id: &CaseId) -> Result<Option<Vec<ChangeHash>>, StorageError> {
    Ok(rows.heads_row(&id.as_bytes()[..])?.map(|h| heads_of(&h)))
}

/// A stored case's access facts.
pub fn access(rows: &dyn CaseRows, id: &CaseId) -> Result<Option<CaseAccess>, StorageError> {
    Ok(rows.access_row(&id.as_bytes()[..])?.map(
        |(team, restricted, assigned, closed, closed_at)| CaseAccess {
            id: *id,
            team,
            restricted,
            assigned,
            closed,
            closed_at,
            links: Vec::new(),
            matching: None,
            listing: None,
        },
    ))
}

/// Every case with its access facts and heads, by id (a key that is not a case id is
/// passed over).
pub fn all(rows: &dyn CaseRows) -> Result<Vec<(CaseAccess, Vec<ChangeHash>)>, StorageError> {
    let (cases, assignments) = rows.all_case_rows()?;
    Ok(listed(cases, assignments))
}

/// The cases `user` may see, with their access facts and heads, by id: the storage's
/// indexes narrow the rows to those the user's role may reach (assigned; the team's for a
/// supervisor; the unrestricted for an admin), then [`CaseAccess::visible_to`] decides,
/// the one rule of who sees a case.
pub fn visible_to(
    rows: &dyn CaseRows,
    user: &super::User,
) -> Result<Vec<(CaseAccess, Vec<ChangeHash>)>, StorageError> {
    use fieldcase_core::Role;
    if user.disabled {
        return Ok(Vec::new());
    }
    let team = match user.role {
        Role::Supervisor => user.team.as_deref(),
        _ => None,
    };
    let (cases, assignments) = rows.visible_case_rows(&user.id, team, user.role == Role::Admin)?;
    Ok(listed(cases, assignments)
        .into_iter()
        .filter(|(access, _)| access.visible_to(user))
        .collect())
}

/// Case rows and assignment rows as access facts and heads.
fn listed(
    cases: Vec<CaseListRow>,
    assignments: Vec<AssignmentRow>,
) -> Vec<(CaseAccess, Vec<ChangeHash>)> {
    let mut assigned: HashMap<Vec<u8>, Vec<String>> = HashMap::new();
    for (case, user) in assignments {
        assigned.entry(case).or_default().push(user);
    }
    cases
        .into_iter()
        .filter_map(|(key, team, restricted, heads, closed, closed_at)| {
            let id = case_id_of(&key)?;
            let access = CaseAccess {
                id,
                team,
                restricted,
                assigned: assigned.remove(&key).unwrap_or_default(),
                links: Vec::new(),
                closed,
                closed_at,
                matching: None,
                listing: None,
            };
            Some((access, heads_of(&heads)))
        })
        .collect()
}

/// The cases a user is assigned to, by id.
pub fn of_user(rows: &dyn CaseRows, user_id: &str) -> Result<Vec<CaseId>, StorageError> {
    Ok(rows
        .assigned_case_keys(user_id)?
        .iter()
        .filter_map(|k| case_id_of(k))
        .collect())
}

/// Notes changes whose own time is far from their receipt (each change once).
pub fn mark_times(
    rows: &dyn CaseRows,
    id: &CaseId,
    marks: &[TimeMark],
) -> Result<(), StorageError> {
    if marks.is_empty() {
        return Ok(());
    }
    rows.insert_time_marks(&id.as_bytes()[..], marks)
}

/// A case's changes whose own time is far from their receipt.
pub fn time_marks(rows: &dyn CaseRows, id: &CaseId) -> Result<Vec<TimeMark>, StorageError> {
    Ok(rows
        .time_mark_rows(&id.as_bytes()[..])?
        .into_iter()
        .filter_map(|(change, claimed, received)| {
            Some(TimeMark {
                change: ChangeHash::try_from(change.as_slice()).ok()?,
                claimed,
                received,
            })
        })
        .collect())
}

/// A case id from its stored key, if it is one.
pub fn case_id_of(key: &[u8]) -> Option<CaseId> {
    <[u8; 16]>::try_from(key).ok().map(CaseId::from_bytes)
}

#[cfg(test)]
mod tests {
    //! The write rule on rows kept in memory, where a race can be staged: another writer
    //! inserts the case between the look and the insert (both storages run the rest in
    //! `tests/tests/it/storage_contract.rs`).

    use super::*;

    /// One case's rows; `race` makes the next insert find a case inserted meanwhile.
    #[derive(Default)]
    struct Rows {
        case: Option<(Vec<u8>, Vec<u8>)>,
        race: Option<(Vec<u8>, Vec<u8>)>,
        /// The case's wrapped data key.
        key: Option<Vec<u8>>,
        assigned: Vec<String>,
        ends: Vec<(String, i64)>,
        calls: Vec<&'static str>,
    }

    impl CaseTx for Rows {
        fn current(&mut self, _: &[u8]) -> Result<Option<Current>, StorageError> {
            self.calls.push("current");
            Ok(self.case.as_ref().map(|(doc, heads)| Current {
                heads: heads.clone(),
                snapshot_bytes: doc.len(),
                data_key: self.key.clone(),
                facts: None,
            }))
        }
        fn append_changes(
            &mut self,
            _: CaseRow<'_>,
            _: &[u8],
        ) -> Result<(usize, usize), StorageError> {
            self.calls.push("append");
            Ok((1, 1))
        }
        fn replace_snapshot(&mut self, row: CaseRow<'_>, bytes: &[u8]) -> Result<(), StorageError> {
            self.calls.push("replace");
            self.case = Some((bytes.to_vec(), row.heads.to_vec()));
            Ok(())
        }
        fn insert_case(&mut self, row: CaseRow<'_>, bytes: &[u8]) -> Result<bool, StorageError> {
            self.calls.push("insert");
            if let Some(theirs) = self.race.take() {
                self.case = Some(theirs);
                self.key = Some(keys::new_data_key(&master(), row.id).1);
                return Ok(false);
            }
            self.case = Some((bytes.to_vec(), row.heads.to_vec()));
            self.key = Some(row.data_key.to_vec());
            Ok(true)
        }
        fn assigned(&mut self, _: &[u8]) -> Result<Vec<String>, StorageError> {
            Ok(self.assigned.clone())
        }
        fn end_assignments(
            &mut self,
            _: &[u8],
            users: &[&str],
            now: i64,
        ) -> Result<(), StorageError> {
            self.ends.extend(users.iter().map(|u| (u.to_string(), now)));
            Ok(())
        }
        fn clear_assignment_ends(&mut self, _: &[u8], users: &[&str]) -> Result<(), StorageError> {
            self.ends.retain(|(u, _)| !users.contains(&u.as_str()));
            Ok(())
        }
        fn replace_assignments(&mut self, _: &[u8], users: &[&str]) -> Result<(), StorageError> {
            self.assigned = users.iter().map(|u| u.to_string()).collect();
            Ok(())
        }
        fn replace_links(&mut self, _: &[u8], _: &[&[u8]]) -> Result<(), StorageError> {
            Ok(())
        }
        fn erased(&mut self, _: &[u8]) -> Result<bool, StorageError> {
            Ok(false)
        }

        fn key_check(&mut self) -> Result<Option<Vec<u8>>, StorageError> {
            Ok(None)
        }
    }

    fn master() -> Key {
        Key::from_bytes(&[9; 32])
    }

    /// The stored snapshot, opened with the stored case's data key.
    fn opened(rows: &Rows) -> Vec<u8> {
        let (sealed, _) = rows.case.as_ref().unwrap();
        let id = [7; 16];
        let key = keys::unwrap_data_key(&master(), &id, rows.key.as_ref().unwrap()).unwrap();
        let opened = key.open(Kind::Snapshot, &id, sealed).unwrap();
        packing::unpack(&opened, MAX_UNPACKED_BYTES)
            .unwrap()
            .into_owned()
    }

    fn write(assigned: &[&str], expected: Option<&[ChangeHash]>) -> Write {
        let access = CaseAccess {
            id: CaseId::from_bytes([7; 16]),
            team: "north".into(),
            restricted: false,
            assigned: assigned.iter().map(|s| s.to_string()).collect(),
            links: Vec::new(),
            closed: false,
            closed_at: None,
            matching: None,
            listing: None,
        };
        let heads = [ChangeHash([1; 32])];
        Write::new(&access, CaseWrite::Snapshot(b"mine"), &heads, expected, 40)
    }

    #[test]
    fn a_case_inserted_meanwhile_makes_a_conditional_write_stale_and_is_replaced_otherwise() {
        let theirs = (b"theirs".to_vec(), vec![2; 32]);
        let mut rows = Rows {
            race: Some(theirs.clone()),
            ..Rows::default()
        };
        assert_eq!(
            store(
                &mut rows,
                &master(),
                &keys::Meter::default(),
                &write(&["u-1"], Some(&[]))
            )
            .unwrap(),
            Stored::Stale
        );
        assert_eq!(rows.case, Some(theirs.clone()), "theirs stays");
        assert!(
            rows.assigned.is_empty(),
            "nothing of a stale write is written"
        );

        let mut rows = Rows {
            race: Some(theirs),
            ..Rows::default()
        };
        let got = store(
            &mut rows,
            &master(),
            &keys::Meter::default(),
            &write(&["u-1"], None),
        )
        .unwrap();
        assert_eq!(
            got,
            Stored::Written {
                pending_changes: 0,
                pending_bytes: 0,
                // "mine" as stored: marked as kept as it is (1), sealed (29).
                snapshot_bytes: 34
            }
        );
        assert_eq!(rows.calls, ["current", "insert", "current", "replace"]);
        assert_eq!(rows.case.as_ref().unwrap().1, vec![1; 32]);
        assert_eq!(opened(&rows), b"mine", "stored sealed with the case's key");
        assert!(!rows
            .case
            .as_ref()
            .unwrap()
            .0
            .windows(4)
            .any(|w| w == b"mine"));
    }

    #[test]
    fn who_leaves_a_case_is_noted_once_and_forgotten_on_return() {
        let mut rows = Rows {
            case: Some((b"doc".to_vec(), vec![1; 32])),
            key: Some(keys::new_data_key(&master(), &[7; 16]).1),
            assigned: vec!["u-1".into(), "u-2".into()],
            ..Rows::default()
        };
        store(
            &mut rows,
            &master(),
            &keys::Meter::default(),
            &write(&["u-3", "u-2", "u-3"], None),
        )
        .unwrap();
        assert_eq!(rows.assigned, ["u-3", "u-2"], "in order, once each");
        assert_eq!(rows.ends, [("u-1".to_string(), 40)]);
        store(
            &mut rows,
            &master(),
            &keys::Meter::default(),
            &write(&["u-1"], None),
        )
        .unwrap();
        let mut ends = rows.ends.clone();
        ends.sort();
        assert_eq!(ends, [("u-2".to_string(), 40), ("u-3".to_string(), 40)]);
    }
}
