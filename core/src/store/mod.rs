//! The store on the phone: one SQLite file per device, every byte of case content sealed.
//!
//! - Each case is a compacted snapshot plus the changes made since, each row sealed with
//!   AES-256-GCM under the case's own random data key. Data keys are stored wrapped by a
//!   key derived (HKDF) from the 32-byte device key the app passes in (from the platform
//!   keystore). Purging a case destroys its wrapped key (crypto-shredding) with
//!   `secure_delete` on.
//! - Opening with another key fails with [`Error::WrongKey`] before anything is written.
//! - Every edit is committed in one SQLite transaction (WAL, `synchronous=FULL`) before the
//!   call returns: a crash loses no edit that returned.
//! - The caseload index lives in memory, built at open from sealed summaries, so listing
//!   and searching never touch disk and nothing searchable is stored in the clear.
//!
//! [`CaseStore`] is `Send + Sync`: one mutex guards the connection and caches, which suits
//! a phone (one user, calls from background threads).

pub mod areas;
mod attachments;
pub use attachments::{AttachmentState, PendingUpload, DEFAULT_CACHE_BYTES};
mod directory;
mod index;
mod migrations;
mod refused;
mod salvage;
mod user;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use automerge::{ActorId, ChangeHash};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

pub use index::{overdue, select, AgendaItem, AgendaKind, CaseFilter, CaseSummary, Kept, SortBy};
pub use refused::RefusedCase;
pub use salvage::{Salvage, SalvagedCase};
pub use user::UserContext;

use crate::case::inspect::{self, Conflict, FieldChange};
use crate::case::{Author, CaseDoc, CaseFile, NewCase};
use crate::crypto::{self, Key, RecordKind};
use crate::error::{Error, Result};
use crate::ids::{heads_blob, heads_of, random_bytes, CaseId};
use crate::matching::{self, Person, PossibleMatch, Prepared};
use crate::schema;

/// After this many change rows a case is compacted into a new snapshot.
const COMPACT_AFTER: usize = 64;
/// How many decoded case documents stay in memory.
const CACHE_CAPACITY: usize = 64;
const KEY_CHECK: &[u8] = b"fieldcase key check v1";

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The encrypted case store on a device.
#[derive(Debug)]
pub struct CaseStore {
    inner: Mutex<Inner>,
    /// The certificate authorities the sync client trusts instead of the public web's,
    /// when set (see `CaseStore::set_trusted_roots`).
    pub(crate) tls_roots: Mutex<Option<crate::sync::TlsRoots>>,
}

struct Inner {
    conn: Connection,
    wrap: Key,
    meta: Key,
    device_id: String,
    actor: ActorId,
    user: Option<UserContext>,
    /// The team's deadlines, as the server last sent them (defaults until then).
    deadlines: crate::deadlines::Deadlines,
    /// The version of the partner directory held (0: none).
    directory_version: i64,
    /// The partner directory, indexed at its first search (`store::directory`).
    directory: Option<std::sync::Arc<crate::directory::DirectoryIndex>>,
    keys: HashMap<CaseId, Key>,
    index: HashMap<CaseId, CaseSummary>,
    /// Current heads of every case (for sync: unchanged cases are skipped by comparing them).
    heads: HashMap<CaseId, Vec<ChangeHash>>,
    /// Cases the server refused, with the reason: held back from sync until retried.
    refused: HashMap<CaseId, RefusedCase>,
    cache: HashMap<CaseId, Cached>,
    tick: u64,
    /// The last time stamp handed out: changes on this device get strictly increasing
    /// times, so "most recently changed" is never a tie.
    last_stamp: i64,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("cases", &self.index.len())
            .finish_non_exhaustive()
    }
}

struct Cached {
    doc: CaseDoc,
    pending_changes: usize,
    used: u64,
}

fn corrupt_if_not_db(e: rusqlite::Error) -> Error {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) | Some(rusqlite::ErrorCode::DatabaseCorrupt) => {
            Error::Corrupt("the store file is not a readable database".into())
        }
        _ => Error::Sqlite(e),
    }
}

impl CaseStore {
    /// Opens (or creates) the store at `path` with the device key.
    pub fn open(path: impl AsRef<Path>, key: &[u8; 32]) -> Result<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(path, flags)?;
        let wrap = Key::derive(key, "case-key-wrapping");
        let meta = Key::derive(key, "store-meta");
        let existing = migrations::version(&conn).map_err(|e| match e {
            Error::Sqlite(e) => corrupt_if_not_db(e),
            e => e,
        })?;
        if existing > 0 {
            // Check the key before changing anything in an existing file.
            let check: Option<Vec<u8>> = conn
                .query_row("SELECT value FROM meta WHERE name = 'key_check'", [], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(corrupt_if_not_db)?;
            let check = match check {
                Some(c) => c,
                None => {
                    let cases: i64 =
                        conn.query_row("SELECT count(*) FROM cases", [], |r| r.get(0))?;
                    if cases > 0 {
                        return Err(Error::Corrupt("the store has no key check".into()));
                    }
                    // Creation was interrupted before its first rows: finish it below.
                    Vec::new()
                }
            };
            if !check.is_empty() {
                match meta.open(RecordKind::KeyCheck, b"", &check) {
                    Ok(p) if p == KEY_CHECK => {}
                    _ => return Err(Error::WrongKey),
                }
            }
            // A damaged file (truncated, pages overwritten) is refused before anything is
            // written to it: the app can then rescue its readable cases from it.
            let verdict: String = conn
                .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
                .map_err(corrupt_if_not_db)?;
            if verdict != "ok" {
                return Err(Error::Corrupt(
                    "the store file is damaged; CaseStore::salvage can rescue its readable cases"
                        .into(),
                ));
            }
        }
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(corrupt_if_not_db)?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "secure_delete", "ON")?;
        migrations::migrate(&mut conn)?;
        let has_check: bool = conn.query_row(
            "SELECT count(*) FROM meta WHERE name = 'key_check'",
            [],
            |r| r.get::<_, i64>(0),
        )? > 0;
        if !has_check {
            let mut actor = [0u8; 16];
            random_bytes(&mut actor);
            let mut device = [0u8; 8];
            random_bytes(&mut device);
            let device_id: String = device.iter().map(|b| format!("{b:02x}")).collect();
            let tx = conn.transaction()?;
            put_meta(
                &tx,
                "key_check",
                &meta.seal(RecordKind::KeyCheck, b"", KEY_CHECK),
            )?;
            put_meta(&tx, "actor", &meta.seal(RecordKind::Meta, b"actor", &actor))?;
            put_meta(
                &tx,
                "device_id",
                &meta.seal(RecordKind::Meta, b"device_id", device_id.as_bytes()),
            )?;
            tx.commit()?;
        }
        let actor = ActorId::from(
            get_meta(&conn, &meta, "actor")?.ok_or_else(|| Error::Corrupt("no actor".into()))?,
        );
        let device_id = String::from_utf8(get_meta(&conn, &meta, "device_id")?.unwrap_or_default())
            .map_err(|_| Error::Corrupt("device id".into()))?;
        // The team's deadlines from the last sync; unreadable or absent: the defaults.
        let deadlines = get_meta(&conn, &meta, "deadlines")?
            .and_then(|d| serde_json::from_slice(&d).ok())
            .unwrap_or_default();
        let directory_version = directory::stored_version(&conn, &meta)?;
        let user = match get_meta(&conn, &meta, "user")? {
            Some(bytes) => Some(serde_json::from_slice(&bytes)?),
            None => None,
        };
        let mut inner = Inner {
            conn,
            wrap,
            meta,
            device_id,
            actor,
            user,
            deadlines,
            directory_version,
            directory: None,
            keys: HashMap::new(),
            index: HashMap::new(),
            heads: HashMap::new(),
            refused: HashMap::new(),
            cache: HashMap::new(),
            tick: 0,
            last_stamp: 0,
        };
        inner.load_index()?;
        inner.last_stamp = inner
            .index
            .values()
            .map(|s| s.last_change)
            .max()
            .unwrap_or(0);
        Ok(CaseStore {
            tls_roots: Mutex::new(None),
            inner: Mutex::new(inner),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves the data on disk consistent (every write
        // is one SQLite transaction); the in-memory caches are rebuilt from it.
        self.inner.lock().unwrap_or_else(|poisoned| {
            let mut g = poisoned.into_inner();
            g.cache.clear();
            self.inner.clear_poison();
            g
        })
    }

    fn author(g: &Inner) -> Result<Author> {
        let u = g.user.as_ref().ok_or(Error::NoUser)?;
        Ok(Author {
            user_id: u.user_id.clone(),
            name: u.name.clone(),
            role: u.role,
            device_id: u.device_id.clone(),
        })
    }

    /// Opens a new case on this device (an intake during a home visit works offline).
    pub fn create_case(&self, new: NewCase) -> Result<CaseId> {
        // The client's area is one of the agency's areas this phone holds.
        self.check_area(new.client.area.as_deref())?;
        let mut g = self.lock();
        let author = Self::author(&g)?;
        let id = CaseId::random();
        let now = g.stamp();
        let doc = CaseDoc::create(id, g.actor.clone(), &author, new, now)?;
        g.insert_new(id, doc, now)?;
        Ok(id)
    }

    /// Applies an edit to a case and persists it before returning. The closure gets the
    /// document, the signed-in author and the time; if it fails, nothing is written.
    ///
    /// ```no_run
    /// # use fieldcase_core::{CaseStore, CaseId, case::VisitInput};
    /// # fn f(store: &CaseStore, id: CaseId) -> fieldcase_core::Result<()> {
    /// let visit = store.update(&id, |case, me, now| case.add_visit(me, now, VisitInput {
    ///     note: Some("Bà ngoại chăm sóc hai cháu.".into()),
    ///     ..Default::default()
    /// }))?;
    /// # Ok(()) }
    /// ```
    pub fn update<T>(
        &self,
        id: &CaseId,
        f: impl FnOnce(&mut CaseDoc, &Author, i64) -> Result<T>,
    ) -> Result<T> {
        let author = Self::author(&self.lock())?;
        self.update_raw(id, |doc| f(doc, &author, now_ms()))
    }

    /// Applies a change to a case and persists it; `update` and the sync client both go
    /// through here. If the change fails, the cached copy is dropped: earlier edits of a
    /// failed closure were not persisted, and the next edit must not build on a change
    /// that is on no row.
    pub(crate) fn update_raw<T>(
        &self,
        id: &CaseId,
        f: impl FnOnce(&mut CaseDoc) -> Result<T>,
    ) -> Result<T> {
        let mut g = self.lock();
        let now = g.stamp();
        g.ensure_loaded(id)?;
        let heads = g.cache[id].doc.heads();
        let cached = g.cache.get_mut(id).expect("loaded");
        match f(&mut cached.doc) {
            Ok(out) => {
                g.persist_since(id, &heads, now)?;
                Ok(out)
            }
            Err(e) => {
                g.cache.remove(id);
                Err(e)
            }
        }
    }

    /// The whole case file, typed.
    pub fn get_case(&self, id: &CaseId) -> Result<CaseFile> {
        self.with_doc(id, |d| d.read())
    }

    /// The whole case file as JSON.
    pub fn case_json(&self, id: &CaseId) -> Result<String> {
        self.with_doc(id, |d| Ok(d.to_json().to_string()))
    }

    /// Fields holding concurrent values, with who set each and when.
    pub fn conflicts(&self, id: &CaseId) -> Result<Vec<Conflict>> {
        self.with_doc(id, |d| Ok(inspect::conflicts(d)))
    }

    /// Who changed a field when, and to what.
    pub fn history(&self, id: &CaseId, path: &str) -> Result<Vec<FieldChange>> {
        self.with_doc(id, |d| inspect::history(d, path))
    }

    /// Runs `f` on a case's document (read only).
    pub fn with_doc<T>(&self, id: &CaseId, f: impl FnOnce(&CaseDoc) -> Result<T>) -> Result<T> {
        let mut g = self.lock();
        g.ensure_loaded(id)?;
        f(&g.cache[id].doc)
    }

    /// The saved bytes of a case's whole document (for sync or export).
    pub fn export_case(&self, id: &CaseId) -> Result<Vec<u8>> {
        self.with_doc(id, |d| Ok(d.automerge().save()))
    }

    /// Merges a case document received from elsewhere (another device, a file): a new case
    /// is added, a known one merged. The result must satisfy the schema, or nothing is kept.
    pub fn import_case(&self, bytes: &[u8]) -> Result<CaseId> {
        crate::limits::Limits::default()
            .check_chunks(bytes)
            .map_err(|r| Error::invalid("document", r.to_string()))?;
        let incoming = CaseDoc::load(bytes)?;
        // Codes from a newer app are kept (the server decides what a case may hold).
        schema::validate_from_newer(incoming.automerge())
            .map_err(|v| Error::invalid(v.path, v.reason))?;
        let id = incoming.id()?;
        let mut g = self.lock();
        let now = g.stamp();
        if !g.index.contains_key(&id) {
            let mut doc = incoming;
            doc.set_actor(g.actor.clone());
            g.insert_new(id, doc, now)?;
            return Ok(id);
        }
        g.ensure_loaded(&id)?;
        let heads = g.cache[&id].doc.heads();
        let mut merged = g.cache[&id].doc.clone();
        let mut incoming = incoming;
        merged.merge(&mut incoming)?;
        schema::validate_from_newer(merged.automerge())
            .map_err(|v| Error::invalid(v.path, v.reason))?;
        g.cache.get_mut(&id).expect("loaded").doc = merged;
        g.persist_since(&id, &heads, now)?;
        Ok(id)
    }

    /// Cases matching a filter.
    pub fn list_cases(&self, filter: &CaseFilter) -> Vec<CaseSummary> {
        index::select(self.lock().index.values(), filter)
    }

    /// Cases whose client or household name matches `query` in any script, most recently
    /// changed first.
    pub fn search(&self, query: &str) -> Vec<CaseSummary> {
        let filter = CaseFilter {
            query: Some(query.to_string()),
            ..Default::default()
        };
        index::select(self.lock().index.values(), &filter)
    }

    /// The cases on this device whose client may be the person a new case is about to be
    /// opened for, best first (issue 19): the app shows likely matches before the case is
    /// saved, and the worker may open the existing case instead. Offline: the index holds
    /// each client's comparison keys (sealed with the summary). See [`crate::matching`]
    /// for what is compared and the limits.
    pub fn possible_matches(&self, new: &NewCase) -> Vec<PossibleMatch> {
        self.possible_matches_of(&Person::of_new_case(new))
    }

    /// [`CaseStore::possible_matches`] for any person (with phones and household).
    pub fn possible_matches_of(&self, person: &Person) -> Vec<PossibleMatch> {
        let candidate = Prepared::of(person);
        let g = self.lock();
        matching::find(&candidate, g.index.iter().map(|(id, s)| (id, &s.person)))
            .into_iter()
            .map(|(id, a)| PossibleMatch {
                client_name: g.index[&id].client_name.clone(),
                case_id: id.to_string(),
                band: a.band,
                score: a.score.max(0) as u32,
                reasons: a.reasons,
            })
            .collect()
    }

    /// The worker's agenda across cases, up to and including day `to` (`YYYY-MM-DD`),
    /// with overdue items first.
    pub fn agenda(&self, to: &str) -> Vec<AgendaItem> {
        let g = self.lock();
        index::agenda(g.index.values(), to, &g.deadlines)
    }

    /// The team's deadlines this phone computes due dates with (the server's, as of the
    /// last sync; the defaults before one).
    pub fn deadlines(&self) -> crate::deadlines::Deadlines {
        self.lock().deadlines
    }

    /// Keeps the team's deadlines the server sent (sealed like the rest of the store).
    pub fn set_deadlines(&self, deadlines: crate::deadlines::Deadlines) -> Result<()> {
        deadlines
            .check()
            .map_err(|reason| Error::invalid("deadlines", reason))?;
        let mut g = self.lock();
        let sealed = g.meta.seal(
            RecordKind::Meta,
            b"deadlines",
            &serde_json::to_vec(&deadlines)?,
        );
        put_meta(&g.conn, "deadlines", &sealed)?;
        g.deadlines = deadlines;
        Ok(())
    }

    /// What is overdue on day `today` (`YYYY-MM-DD`) across cases, most overdue first:
    /// computed on the phone from the case files, without the network.
    pub fn overdue(&self, today: &str) -> Vec<AgendaItem> {
        let g = self.lock();
        index::overdue(g.index.values(), today, &g.deadlines)
    }

    /// The summary of one case.
    pub fn summary(&self, id: &CaseId) -> Result<CaseSummary> {
        self.lock()
            .index
            .get(id)
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("case {id}")))
    }

    /// The current heads of a case, from the index (no document is loaded).
    pub fn heads(&self, id: &CaseId) -> Result<Vec<ChangeHash>> {
        self.lock()
            .heads
            .get(id)
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("case {id}")))
    }

    /// Ids of every case on this device.
    pub fn case_ids(&self) -> Vec<CaseId> {
        let mut ids: Vec<CaseId> = self.lock().index.keys().copied().collect();
        ids.sort();
        ids
    }

    /// Removes a case from this device for good: rows deleted and its key destroyed.
    pub fn purge_case(&self, id: &CaseId) -> Result<()> {
        let mut g = self.lock();
        let n = g.conn.execute(
            "DELETE FROM cases WHERE id = ?1",
            params![&id.as_bytes()[..]],
        )?;
        if n == 0 {
            return Err(Error::NotFound(format!("case {id}")));
        }
        // secure_delete zeroes pages when they reach the main file: move them there now,
        // so the wrapped key and ciphertext do not linger in the WAL.
        g.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        g.keys.remove(id);
        g.index.remove(id);
        g.heads.remove(id);
        g.refused.remove(id);
        g.cache.remove(id);
        Ok(())
    }

    /// Saves an Automerge sync state for a case and a peer (sealed).
    pub fn save_sync_state(&self, id: &CaseId, peer: &str, state: &[u8]) -> Result<()> {
        let g = self.lock();
        let key = g
            .keys
            .get(id)
            .ok_or_else(|| Error::NotFound(format!("case {id}")))?;
        let sealed = key.seal(RecordKind::SyncState, &sync_context(id, peer), state);
        g.conn.execute(
            "INSERT INTO sync_states (case_id, peer, data) VALUES (?1, ?2, ?3)
             ON CONFLICT (case_id, peer) DO UPDATE SET data = excluded.data",
            params![&id.as_bytes()[..], peer, sealed],
        )?;
        Ok(())
    }

    /// The saved sync state of a case with a peer, if any.
    pub fn load_sync_state(&self, id: &CaseId, peer: &str) -> Result<Option<Vec<u8>>> {
        let g = self.lock();
        let key = g
            .keys
            .get(id)
            .ok_or_else(|| Error::NotFound(format!("case {id}")))?;
        let sealed: Option<Vec<u8>> = g
            .conn
            .query_row(
                "SELECT data FROM sync_states WHERE case_id = ?1 AND peer = ?2",
                params![&id.as_bytes()[..], peer],
                |r| r.get(0),
            )
            .optional()?;
        sealed
            .map(|s| key.open(RecordKind::SyncState, &sync_context(id, peer), &s))
            .transpose()
    }

    /// Writes a compact snapshot of every case and drops their change rows.
    pub fn compact_all(&self) -> Result<()> {
        let mut g = self.lock();
        for id in g.index.keys().copied().collect::<Vec<_>>() {
            g.ensure_loaded(&id)?;
            g.compact(&id, now_ms())?;
        }
        Ok(())
    }
}

fn sync_context(id: &CaseId, peer: &str) -> Vec<u8> {
    let mut c = id.as_bytes().to_vec();
    c.extend_from_slice(peer.as_bytes());
    c
}

pub(crate) fn put_meta(conn: &Connection, name: &str, value: &[u8]) -> Result<()> {
    conn.execute(
        "INSERT INTO meta (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        params![name, value],
    )?;
    Ok(())
}

pub(crate) fn get_meta(conn: &Connection, key: &Key, name: &str) -> Result<Option<Vec<u8>>> {
    let sealed: Option<Vec<u8>> = conn
        .query_row("SELECT value FROM meta WHERE name = ?1", [name], |r| {
            r.get(0)
        })
        .optional()?;
    sealed
        .map(|s| key.open(RecordKind::Meta, name.as_bytes(), &s))
        .transpose()
}

impl Inner {
    /// Now, in milliseconds, strictly after every stamp this store handed out before.
    fn stamp(&mut self) -> i64 {
        let now = now_ms().max(self.last_stamp + 1);
        self.last_stamp = now;
        now
    }

    fn load_index(&mut self) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, wrapped_key, summary, updated_at, heads, refused FROM cases")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<Vec<u8>>>(4)?,
                r.get::<_, Option<Vec<u8>>>(5)?,
            ))
        })?;
        let mut missing_heads = Vec::new();
        let mut stale_summaries = Vec::new();
        for row in rows {
            let (id, wrapped, summary, updated_at, heads, refused) = row?;
            let id_arr: [u8; 16] = id
                .try_into()
                .map_err(|_| Error::Corrupt("case id".into()))?;
            let id = CaseId::from_bytes(id_arr);
            let key = crypto::unwrap_case_key(&self.wrap, id.as_bytes(), &wrapped)?;
            let plain = key.open(RecordKind::Summary, id.as_bytes(), &summary)?;
            // A summary built by an older version is rebuilt from the document below.
            let mut summary: CaseSummary = match serde_json::from_slice(&plain) {
                Ok(s) if CaseSummary::is_current(&s) => s,
                _ => {
                    stale_summaries.push((id, updated_at));
                    CaseSummary::placeholder(id, updated_at)
                }
            };
            // Edits outside the index update only this timestamp, not the sealed summary.
            summary.last_change = updated_at;
            match heads {
                Some(sealed) => {
                    let plain = key.open(RecordKind::Heads, id.as_bytes(), &sealed)?;
                    self.heads.insert(id, heads_of(&plain));
                }
                None => missing_heads.push(id),
            }
            if let Some(sealed) = refused {
                let plain = key.open(RecordKind::Refused, id.as_bytes(), &sealed)?;
                self.refused.insert(id, serde_json::from_slice(&plain)?);
            }
            self.keys.insert(id, key);
            self.index.insert(id, summary);
        }
        drop(stmt);
        // Summaries from an older version: rebuilt once from their documents and stored.
        for (id, updated_at) in stale_summaries {
            self.ensure_loaded(&id)?;
            let summary = CaseSummary::of(&self.cache[&id].doc, updated_at)?;
            let sealed = self.keys[&id].seal(
                RecordKind::Summary,
                id.as_bytes(),
                &serde_json::to_vec(&summary)?,
            );
            self.conn.execute(
                "UPDATE cases SET summary = ?2 WHERE id = ?1",
                params![&id.as_bytes()[..], sealed],
            )?;
            self.index.insert(id, summary);
        }
        // Rows from before schema 2: compute their heads once and store them.
        for id in missing_heads {
            self.ensure_loaded(&id)?;
            let heads = self.cache[&id].doc.heads();
            let sealed = self.keys[&id].seal(RecordKind::Heads, id.as_bytes(), &heads_blob(&heads));
            self.conn.execute(
                "UPDATE cases SET heads = ?2 WHERE id = ?1",
                params![&id.as_bytes()[..], sealed],
            )?;
            self.heads.insert(id, heads);
        }
        Ok(())
    }

    fn insert_new(&mut self, id: CaseId, doc: CaseDoc, now: i64) -> Result<()> {
        let data_key = crypto::new_data_key();
        let wrapped = crypto::wrap_case_key(&self.wrap, id.as_bytes(), &data_key);
        let key = Key::from_bytes(&data_key);
        let summary = CaseSummary::of(&doc, now)?;
        let snapshot = key.seal(RecordKind::Snapshot, id.as_bytes(), &doc.automerge().save());
        let sealed_summary = key.seal(
            RecordKind::Summary,
            id.as_bytes(),
            &serde_json::to_vec(&summary)?,
        );
        let heads = doc.heads();
        let sealed_heads = key.seal(RecordKind::Heads, id.as_bytes(), &heads_blob(&heads));
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO cases (id, wrapped_key, summary, created_at, updated_at, heads) VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
            params![&id.as_bytes()[..], wrapped, sealed_summary, now, sealed_heads],
        )?;
        tx.execute(
            "INSERT INTO snapshots (case_id, data, saved_at) VALUES (?1, ?2, ?3)",
            params![&id.as_bytes()[..], snapshot, now],
        )?;
        tx.commit()?;
        self.keys.insert(id, key);
        self.index.insert(id, summary);
        self.heads.insert(id, heads);
        self.tick += 1;
        self.cache.insert(
            id,
            Cached {
                doc,
                pending_changes: 0,
                used: self.tick,
            },
        );
        self.evict();
        Ok(())
    }

    /// Loads a case's document into the cache if it is not there.
    fn ensure_loaded(&mut self, id: &CaseId) -> Result<()> {
        self.tick += 1;
        if let Some(c) = self.cache.get_mut(id) {
            c.used = self.tick;
            return Ok(());
        }
        let key = self
            .keys
            .get(id)
            .ok_or_else(|| Error::NotFound(format!("case {id}")))?;
        let snapshot: Vec<u8> = self
            .conn
            .query_row(
                "SELECT data FROM snapshots WHERE case_id = ?1",
                params![&id.as_bytes()[..]],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| Error::Corrupt(format!("case {id} has no snapshot")))?;
        // Our own rows are authenticated by AES-GCM, so Automerge's re-check of the stored
        // heads adds nothing here (documents from elsewhere are always fully verified).
        let options =
            automerge::LoadOptions::new().verification_mode(automerge::VerificationMode::DontCheck);
        let plain = key.open(RecordKind::Snapshot, id.as_bytes(), &snapshot)?;
        let mut doc = automerge::Automerge::load_with_options(&plain, options)?;
        let mut stmt = self
            .conn
            .prepare_cached("SELECT data FROM changes WHERE case_id = ?1 ORDER BY seq")?;
        let mut pending = 0;
        let rows = stmt.query_map(params![&id.as_bytes()[..]], |r| r.get::<_, Vec<u8>>(0))?;
        // Apply all changes since the snapshot in one call: far cheaper than one per row.
        let mut since_snapshot = Vec::new();
        for row in rows {
            since_snapshot.extend(key.open(RecordKind::Change, id.as_bytes(), &row?)?);
            pending += 1;
        }
        drop(stmt);
        if !since_snapshot.is_empty() {
            doc.load_incremental(&since_snapshot)?;
        }
        let mut doc = CaseDoc::from_loaded(doc);
        doc.set_actor(self.actor.clone());
        self.cache.insert(
            *id,
            Cached {
                doc,
                pending_changes: pending,
                used: self.tick,
            },
        );
        self.evict();
        Ok(())
    }

    /// Persists what changed in a cached case since `heads`, with its new summary, in one
    /// transaction. If that fails, the cached copy is dropped so memory matches disk.
    fn persist_since(
        &mut self,
        id: &CaseId,
        heads: &[automerge::ChangeHash],
        now: i64,
    ) -> Result<()> {
        let result = self.try_persist(id, heads, now);
        if result.is_err() {
            self.cache.remove(id);
        }
        result
    }

    fn try_persist(
        &mut self,
        id: &CaseId,
        heads: &[automerge::ChangeHash],
        now: i64,
    ) -> Result<()> {
        let cached = self.cache.get_mut(id).expect("cached");
        if cached.doc.heads() == heads {
            return Ok(());
        }
        let bytes = cached.doc.automerge().save_after(heads);
        // Rebuild the index entry only when the edit may have changed it.
        let had_conflicts = self.index.get(id).is_some_and(|s| s.conflicts > 0);
        let summary = match cached.doc.take_index_dirty() || had_conflicts {
            true => Some(CaseSummary::of(&cached.doc, now)?),
            false => None,
        };
        let new_heads = cached.doc.heads();
        let key = &self.keys[id];
        let sealed_change = key.seal(RecordKind::Change, id.as_bytes(), &bytes);
        let sealed_heads = key.seal(RecordKind::Heads, id.as_bytes(), &heads_blob(&new_heads));
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO changes (case_id, data, saved_at) VALUES (?1, ?2, ?3)",
            params![&id.as_bytes()[..], sealed_change, now],
        )?;
        if let Some(summary) = &summary {
            let sealed = key.seal(
                RecordKind::Summary,
                id.as_bytes(),
                &serde_json::to_vec(summary)?,
            );
            tx.execute(
                "UPDATE cases SET summary = ?2, updated_at = ?3, heads = ?4 WHERE id = ?1",
                params![&id.as_bytes()[..], sealed, now, sealed_heads],
            )?;
        } else {
            tx.execute(
                "UPDATE cases SET updated_at = ?2, heads = ?3 WHERE id = ?1",
                params![&id.as_bytes()[..], now, sealed_heads],
            )?;
        }
        tx.commit()?;
        self.heads.insert(*id, new_heads);
        match summary {
            Some(summary) => {
                self.index.insert(*id, summary);
            }
            None => {
                if let Some(s) = self.index.get_mut(id) {
                    s.last_change = now;
                }
            }
        }
        let cached = self.cache.get_mut(id).expect("cached");
        cached.pending_changes += 1;
        if cached.pending_changes >= COMPACT_AFTER {
            // The edit is committed; a failed compaction is retried after a later edit.
            if let Err(e) = self.compact(id, now) {
                tracing::warn!(error = %e, "compaction failed; will retry");
            }
        }
        Ok(())
    }

    /// Replaces a case's snapshot and change rows with one compacted snapshot.
    fn compact(&mut self, id: &CaseId, now: i64) -> Result<()> {
        let cached = &self.cache[id];
        let key = &self.keys[id];
        let snapshot = key.seal(
            RecordKind::Snapshot,
            id.as_bytes(),
            &cached.doc.automerge().save(),
        );
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE snapshots SET data = ?2, saved_at = ?3 WHERE case_id = ?1",
            params![&id.as_bytes()[..], snapshot, now],
        )?;
        tx.execute(
            "DELETE FROM changes WHERE case_id = ?1",
            params![&id.as_bytes()[..]],
        )?;
        tx.commit()?;
        self.cache.get_mut(id).expect("cached").pending_changes = 0;
        Ok(())
    }

    fn evict(&mut self) {
        while self.cache.len() > CACHE_CAPACITY {
            let oldest = self
                .cache
                .iter()
                .min_by_key(|(_, c)| c.used)
                .map(|(id, _)| *id);
            match oldest {
                Some(id) => {
                    self.cache.remove(&id);
                }
                None => break,
            }
        }
    }
}
