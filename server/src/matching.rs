//! The agency-wide duplicate check (issue 19): when a new case arrives (by sync, REST or
//! the console: every write is stored through [`crate::hub::Hub`]), its client is compared
//! with the clients of the cases the server holds by the core's matcher
//! ([`fieldcase_core::matching`], the same one phones run), and the pairs found are stored
//! ([`crate::db::matches`]) for the API (`GET /v1/cases/{id}/matches`) and the console's
//! duplicates page.
//!
//! The check is bounded: it reads no case from storage. [`MatchIndex`] holds, per case,
//! its access facts, its client's name and the client made ready for comparison
//! ([`Prepared`]), built once from the stored cases (the first check, or at startup) and
//! kept current by every write the hub stores; at most `matching.max_indexed` cases
//! ([`crate::Config::matching_max_indexed`]; past it a case is left out of the index and
//! counted in `fieldcase_match_index_full_total`). One check compares the new client only
//! with the candidates the core's blocking draws ([`matching::Index`]: people sharing a
//! word of the name within the matcher's allowance, a whole name or a phone), which
//! answers what comparing with every indexed client would; `match_eval` (core's example)
//! times it among 100,000 clients.
//!
//! The index lives in this process's memory. A case written by another writer (another
//! server instance on the same PostgreSQL database, the admin command line) reaches it at
//! this process's next check after the storage says another writer wrote
//! ([`Db::external_version`]): [`MatchIndex::catch_up`] reads again the cases written
//! since the last look ([`Db::cases_written_since`], with [`OTHER_WRITERS_LOOKBACK_MS`]
//! for clocks apart), forgets those erased, and checks the ones new to it, so that two
//! like cases arriving at two instances are paired by whichever looks later.

use std::sync::{Arc, Mutex};

use automerge::Automerge;
use fieldcase_core::matching::{self, Prepared};
use fieldcase_core::{CaseDoc, CaseId};

use crate::db::matches::MatchRow;
use crate::db::{CaseAccess, Db, MatchFacts};
use crate::error::AppResult;

/// One case as the check knows it: what comparing needs, nothing shown. Who may see the
/// case and its client's name are read from storage for the few cases a check finds
/// ([`shown`]), so the index of every case stays small (issue 20) and never answers with
/// access facts older than the storage's.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: CaseId,
    pub person: Prepared,
    /// Whether the case is closed as a duplicate of another (its client's file goes on
    /// there): it is no longer a candidate, so a third case like both is proposed with the
    /// case that goes on only.
    pub closed_as_duplicate: bool,
}

impl Entry {
    /// The entry of a case document: from the match facts its write computed
    /// ([`CaseAccess::matching`]), else from its outline (no text is read).
    pub fn of(access: &CaseAccess, doc: &Automerge) -> AppResult<Entry> {
        if let Some(f) = &access.matching {
            return Ok(Entry::from_facts(access.id, f));
        }
        let (file, _) = CaseDoc::outline_of(doc)?;
        Ok(Entry::from_facts(access.id, &MatchFacts::of(&file)))
    }

    /// The entry of a case from its match facts (stored beside it, or just computed).
    pub fn from_facts(id: CaseId, facts: &MatchFacts) -> Entry {
        Entry {
            id,
            person: Prepared::of(&facts.client),
            closed_as_duplicate: facts.closed_as_duplicate,
        }
    }
}

/// A stored case's match facts: those kept beside it when stored and of this version, else
/// taken from its document (opened and read: a case stored by an earlier version, or by
/// another instance of one). `None` when the case is gone.
fn stored_facts(
    db: &dyn Db,
    id: &CaseId,
    kept: Option<MatchFacts>,
) -> AppResult<Option<MatchFacts>> {
    if kept.is_some() {
        return Ok(kept);
    }
    let Some(bytes) = db.case_document(id)? else {
        return Ok(None);
    };
    let doc =
        Automerge::load(&bytes).map_err(|e| crate::error::AppError::Internal(e.to_string()))?;
    let (file, _) = CaseDoc::outline_of(&doc)?;
    Ok(Some(MatchFacts::of(&file)))
}

/// The client's name of a case a page or an answer shows among possible duplicates, read
/// from storage (its match facts, else its document). `None` when the case is gone. Whether
/// the reader may see it is the caller's to check, from the access facts it read.
pub fn client_name(db: &dyn Db, id: &CaseId) -> AppResult<Option<String>> {
    let facts = stored_facts(db, id, db.match_facts_of(id)?)?;
    Ok(facts.map(|f| f.client.name))
}

impl AsRef<Prepared> for Entry {
    fn as_ref(&self) -> &Prepared {
        &self.person
    }
}

/// The cases of the server made ready for the check; `None` until built. Cloned handles
/// share one index.
#[derive(Default, Clone)]
pub struct MatchIndex(
    Arc<Mutex<Option<matching::Index<CaseId, Entry>>>>,
    /// Held while the index is built: one build at a time (others asking for it wait, rather
    /// than each reading every case again).
    Arc<Mutex<()>>,
    /// Writes that came before the index was built, checked by the build when it ends (a
    /// write never waits for the build: on a large server it reads every case).
    Arc<Mutex<Vec<Deferred>>>,
    /// Pairs those deferred checks found, not yet counted in the metrics.
    Arc<std::sync::atomic::AtomicU64>,
    /// What the index last saw of other writers ([`MatchIndex::catch_up`]).
    Arc<Mutex<Seen>>,
);

/// How far back, before the last look, the index reads the cases other writers wrote: their
/// clocks (which stamp `updated_at`) may run behind this one's by as much.
pub const OTHER_WRITERS_LOOKBACK_MS: i64 = 60_000;

/// The storage's [`Db::external_version`] at the index's last look at other writers, and
/// the time (this server's clock) of that look; cases read again since, for the metrics.
#[derive(Debug, Default)]
struct Seen {
    external: Option<i64>,
    since_ms: i64,
    read_again: u64,
    /// The cases written within the look-back window whose write the index has taken in,
    /// with that write's time as stored (`updated_at`): this server's own writes and what
    /// a look read. A look reads again only a case whose stored time differs (another
    /// writer wrote it since), so that two instances writing at once do not each read the
    /// other's last minute of cases at every check. Pruned to the window at each look.
    taken: std::collections::HashMap<CaseId, i64>,
}

/// A write's check waiting for the index to be built.
struct Deferred {
    entry: Entry,
    new_case: bool,
    now: i64,
}

impl std::fmt::Debug for MatchIndex {
    // Counts only: never a client's name.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MatchIndex")
            .field("cases", &self.len())
            .finish()
    }
}

/// What one check found.
#[derive(Debug, Clone, Default)]
pub struct Checked {
    /// The pairs found (stored, unless a pair was stored before).
    pub found: Vec<MatchRow>,
    /// How many were new to storage.
    pub new: usize,
    /// Cases left out of the index for `matching.max_indexed`.
    pub left_out: usize,
}

impl MatchIndex {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<matching::Index<CaseId, Entry>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the index is built.
    pub fn is_built(&self) -> bool {
        self.lock().is_some()
    }

    /// Keeps a write's check for the build when the index is not built yet (`None`), else
    /// gives the entry back to be checked now. Decided under the index's lock, which the
    /// build takes to install the index and take what waits: nothing is left behind.
    fn defer(&self, entry: Entry, new_case: bool, now: i64) -> Option<Entry> {
        let g = self.lock();
        if g.is_some() {
            return Some(entry);
        }
        self.2
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Deferred {
                entry,
                new_case,
                now,
            });
        None
    }

    /// Holds off any build of the index while the guard lives (a build waits for it): for
    /// tests and tools that show a write does not wait for the build.
    #[doc(hidden)]
    pub fn hold_build(&self) -> std::sync::MutexGuard<'_, ()> {
        self.1.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.4.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Cases read again because another writer wrote them, since the start (a counter).
    pub fn read_again(&self) -> u64 {
        self.seen().read_again
    }

    /// Brings the index up to what other writers stored since its last look, when the
    /// storage says another writer wrote (see the module documentation): cases written
    /// since are read again, erased ones forgotten, and a case new to the index is checked
    /// against the others, its pairs stored (counted with the deferred checks' pairs).
    /// Nothing before the index is built (the build reads everything), nor when the
    /// storage is busy (the next check looks). Answers how many cases it read again.
    /// Blocking.
    pub fn catch_up(&self, db: &dyn Db, max: usize, now: i64) -> AppResult<usize> {
        let mut seen = self.seen();
        if self.lock().is_none() {
            return Ok(0);
        }
        let Some(version) = db.external_version()? else {
            return Ok(0);
        };
        if seen.external == Some(version) {
            return Ok(0);
        }
        let since = seen.since_ms - OTHER_WRITERS_LOOKBACK_MS;
        // Noted before reading: a write landing meanwhile moves the version again.
        seen.external = Some(version);
        seen.since_ms = now;
        for t in db.erased_cases()?.iter().filter(|t| t.erased_at >= since) {
            self.forget(&t.case_id);
        }
        seen.taken.retain(|_, at| *at >= since);
        let mut read = 0;
        for (id, at) in db.cases_written_since(since)? {
            if seen.taken.get(&id) == Some(&at) {
                continue;
            }
            seen.taken.insert(id, at);
            if db.case_access(&id)?.is_none() {
                self.forget(&id);
                continue;
            }
            let entry = match db
                .match_facts_of(&id)
                .and_then(|kept| stored_facts(db, &id, kept))
            {
                Ok(Some(f)) => Entry::from_facts(id, &f),
                Ok(None) => continue,
                Err(e) => {
                    tracing::error!(case = %id, error = %e, "a stored case could not be indexed for matching");
                    continue;
                }
            };
            read += 1;
            if self.get(&id).is_none() && !entry.closed_as_duplicate {
                let found = self.check(&entry, now);
                let new = db.record_matches(&found)?;
                self.3
                    .fetch_add(new as u64, std::sync::atomic::Ordering::Relaxed);
            }
            self.put(entry, max);
        }
        seen.read_again += read as u64;
        Ok(read)
    }

    /// Notes that the index took in this server's write of case `id`, stored at `at`
    /// (`updated_at`): a look at other writers does not read it again.
    fn taken(&self, id: CaseId, at: i64) {
        self.seen().taken.insert(id, at);
    }

    /// Pairs found by deferred checks since the last call (for the metrics).
    pub fn take_found_later(&self) -> u64 {
        self.3.swap(0, std::sync::atomic::Ordering::Relaxed)
    }

    /// How many cases are indexed (0 before it is built).
    pub fn len(&self) -> usize {
        self.lock().as_ref().map_or(0, |m| m.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops a case from the index (an erased case: nothing of it stays in memory).
    pub fn forget(&self, id: &CaseId) {
        if let Some(m) = self.lock().as_mut() {
            m.remove(id);
        }
    }

    /// An indexed case's entry.
    pub fn get(&self, id: &CaseId) -> Option<Entry> {
        self.lock().as_ref().and_then(|m| m.get(id).cloned())
    }

    /// Builds the index from the stored cases unless it is built (blocking: it reads and
    /// opens every case once). Answers how many cases were left out for `max`.
    pub fn build(&self, db: &dyn Db, max: usize) -> AppResult<usize> {
        // Taken first, even when the index is built: a build installs the index before it
        // checks the writes deferred to it, and whoever asks for the index (a page, an
        // answer) waits for those checks too. Uncontended once built.
        let _building = self.1.lock().unwrap_or_else(|p| p.into_inner());
        if self.lock().is_some() {
            return Ok(0);
        }
        // What other writers wrote from here on is read again at the first look after.
        let started = (db.external_version()?, now_ms());
        let mut map = matching::Index::new();
        let mut left_out = 0;
        // What every write stored beside its case: no document is opened but those of
        // cases stored before the facts were kept (or by another version).
        let mut facts: std::collections::HashMap<CaseId, MatchFacts> =
            db.match_facts()?.into_iter().collect();
        let mut opened = 0usize;
        for (access, _) in db.cases()? {
            if map.len() >= max {
                left_out += 1;
                continue;
            }
            let id = access.id;
            let kept = facts.remove(&id);
            opened += usize::from(kept.is_none());
            match stored_facts(db, &id, kept) {
                Ok(None) => {}
                Ok(Some(f)) if f.closed_as_duplicate => {}
                Ok(Some(f)) => {
                    map.insert(id, Entry::from_facts(id, &f));
                }
                // One unreadable case must not stop the check for the others; it is logged.
                Err(e) => {
                    tracing::error!(case = %id, error = %e, "a stored case could not be indexed for matching")
                }
            }
        }
        if opened > 0 {
            tracing::info!(
                opened,
                "cases read from their documents for the duplicate check (no match facts stored beside them)"
            );
        }
        let deferred = {
            let mut g = self.lock();
            if g.is_none() {
                *g = Some(map);
            }
            std::mem::take(&mut *self.2.lock().unwrap_or_else(|p| p.into_inner()))
        };
        {
            let mut seen = self.seen();
            seen.external = started.0;
            seen.since_ms = started.1;
        }
        // The writes that came meanwhile, in their order: each brings its case up to date
        // (the build may have read it before the write) and a new case is checked.
        for d in deferred {
            if d.new_case && !d.entry.closed_as_duplicate {
                let found = self.check(&d.entry, d.now);
                let new = db.record_matches(&found)?;
                self.3
                    .fetch_add(new as u64, std::sync::atomic::Ordering::Relaxed);
            }
            let id = d.entry.id;
            if !self.put(d.entry, max) {
                left_out += 1;
            }
            self.taken(id, d.now);
        }
        Ok(left_out)
    }

    /// Replaces a case's entry (after a write); `false` when the index is full and the
    /// case was not in it. Before the index is built, nothing is kept (the build reads
    /// the stored case).
    pub fn put(&self, entry: Entry, max: usize) -> bool {
        let mut g = self.lock();
        let Some(map) = g.as_mut() else {
            return true;
        };
        if entry.closed_as_duplicate {
            map.remove(&entry.id);
            return true;
        }
        if map.len() >= max && !map.contains_key(&entry.id) {
            return false;
        }
        map.insert(entry.id, entry);
        true
    }

    /// The pairs a new case forms with the indexed cases (itself left out), best first, at
    /// most [`matching::MAX_MATCHES`]; nothing when the client has no name or phone. Only
    /// the blocking's candidates are compared (see the module documentation).
    pub fn check(&self, entry: &Entry, now: i64) -> Vec<MatchRow> {
        let g = self.lock();
        let Some(map) = g.as_ref() else {
            return Vec::new();
        };
        let id = entry.id;
        map.find(&entry.person, Some(&id))
            .into_iter()
            .map(|(other, a)| {
                MatchRow::found(id, other, a.score.max(0) as u32, a.band, a.reasons, now)
            })
            .collect()
    }
}

/// After a write was stored: the index is brought up to date with the case, and a case new
/// to the server is checked against the others; the pairs found are stored. Blocking (the
/// first call builds the index).
pub fn after_write(
    index: &MatchIndex,
    db: &dyn Db,
    max: usize,
    entry: Entry,
    new_case: bool,
    now: i64,
) -> AppResult<Checked> {
    let mut out = Checked {
        left_out: index.build(db, max)?,
        ..Checked::default()
    };
    // This write is taken in here: the look at other writers does not read it.
    index.taken(entry.id, now);
    index.catch_up(db, max, now)?;
    if new_case && !entry.closed_as_duplicate {
        out.found = index.check(&entry, now);
        out.new = db.record_matches(&out.found)?;
    }
    if !index.put(entry, max) {
        out.left_out += 1;
    }
    Ok(out)
}

/// A write's update of the duplicate check, made ready before the write is stored
/// ([`AfterCommit::of`]) and run on the blocking thread that stored it, once it is stored
/// ([`AfterCommit::run`]): no trip of its own to a blocking thread. Its counts go to the
/// metrics ([`AfterCommit::tell`]). A failure is logged, never the write's: the change is
/// stored, and the case is checked again by nothing (the console's duplicates page then
/// lacks its pairs). Before the index is built the write does not wait: its check is
/// deferred to the build.
pub(crate) struct AfterCommit {
    index: MatchIndex,
    max: usize,
    entry: Entry,
    new_case: bool,
    now: i64,
}

/// What [`AfterCommit::run`] did.
pub(crate) enum AfterRun {
    /// The index is not built yet: the check waits for the build, which the caller starts.
    Deferred,
    Checked(AppResult<Checked>),
}

impl AfterCommit {
    /// `None` when the candidate's facts could not be read (logged).
    pub(crate) fn of(
        state: &crate::AppState,
        access: &CaseAccess,
        doc: &Automerge,
        new_case: bool,
        written_at: i64,
    ) -> Option<Self> {
        match Entry::of(access, doc) {
            Ok(entry) => Some(AfterCommit {
                index: state.matches.clone(),
                max: state.config.matching_max_indexed,
                entry,
                new_case,
                now: written_at,
            }),
            Err(e) => {
                tracing::error!(case = %access.id, error = %e, "a stored case could not be made ready for matching");
                None
            }
        }
    }

    /// Blocking; only once the write is stored (an entry of a write that was not stored
    /// would put facts no case holds in the index). A panic in the check is caught: it is
    /// the check's failure, never the stored write's.
    pub(crate) fn run(self, db: &dyn Db) -> AfterRun {
        let id = self.entry.id;
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            match self.index.defer(self.entry, self.new_case, self.now) {
                None => AfterRun::Deferred,
                Some(entry) => AfterRun::Checked(after_write(
                    &self.index,
                    db,
                    self.max,
                    entry,
                    self.new_case,
                    self.now,
                )),
            }
        }))
        .unwrap_or_else(|_| {
            AfterRun::Checked(Err(crate::error::AppError::Internal(format!(
                "the duplicate check of case {id} stopped"
            ))))
        })
    }

    /// Counts and logs what [`Self::run`] did for the case `id`; starts the index's build
    /// in the background when the check was deferred to it (one at a time; a second one
    /// finds it built).
    pub(crate) fn tell(state: &crate::AppState, id: CaseId, new_case: bool, ran: AfterRun) {
        use std::sync::atomic::Ordering::Relaxed;
        let m = &state.metrics;
        // A check made, or waiting for the build (as before: a failed one is not counted).
        if new_case && !matches!(ran, AfterRun::Checked(Err(_))) {
            crate::Metrics::inc(&m.match_checks);
        }
        match ran {
            AfterRun::Deferred => {
                let (index, db, max) = (
                    state.matches.clone(),
                    state.db.clone(),
                    state.config.matching_max_indexed,
                );
                tokio::task::spawn_blocking(move || match index.build(db.as_ref(), max) {
                    Ok(left_out) => {
                        if left_out > 0 {
                            tracing::warn!(
                                left_out,
                                "cases left out of the duplicate check (matching.max_indexed)"
                            );
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "the duplicate check's index could not be built")
                    }
                });
            }
            AfterRun::Checked(Ok(c)) => {
                m.matches_found.fetch_add(c.new as u64, Relaxed);
                m.match_index_full.fetch_add(c.left_out as u64, Relaxed);
                if c.new > 0 {
                    tracing::info!(case = %id, new = c.new, "possible duplicates found");
                }
            }
            AfterRun::Checked(Err(e)) => {
                tracing::error!(case = %id, error = %e, "the duplicate check failed")
            }
        }
    }
}

/// A case `user` may see; one they may not see is [`crate::error::AppError::NotFound`], as
/// one that does not exist.
fn visible_case(db: &dyn Db, user: &crate::db::User, id: CaseId) -> AppResult<CaseAccess> {
    let access = db
        .case_access(&id)?
        .ok_or(crate::error::AppError::NotFound)?;
    if !access.visible_to(user) {
        return Err(crate::error::AppError::NotFound);
    }
    Ok(access)
}

/// What each team is called now (its label once renamed, else its name), by name.
fn team_shown(db: &dyn Db) -> AppResult<impl Fn(&str) -> String> {
    let teams = db.teams()?;
    Ok(move |name: &str| {
        teams
            .iter()
            .find(|t| t.name == name)
            .map_or_else(|| name.to_string(), |t| t.shown().to_string())
    })
}

/// The matches of a case the user may see (`GET /v1/cases/{id}/matches`): a pair whose
/// other case the user may see comes with its client's name, score and reasons; one the
/// user may not see (another team's, a restricted case, a case of the team not assigned to
/// a worker) only as the team it is in, once per team, with no name, id or reason.
/// Dismissed pairs are left out. A case the user may not see is
/// [`crate::error::AppError::NotFound`], as one that does not exist. A restricted case's
/// client named is audited. Blocking.
pub fn answer(
    index: &MatchIndex,
    db: &dyn Db,
    max: usize,
    user: &crate::db::User,
    device: &str,
    id: CaseId,
) -> AppResult<matching::AgencyMatches> {
    use matching::{AgencyMatch, AgencyMatches, MatchElsewhere, MatchStatus};
    visible_case(db, user, id)?;
    index.build(db, max)?;
    index.catch_up(db, max, now_ms())?;
    let team = team_shown(db)?;
    let mut out = AgencyMatches {
        case_id: id.to_string(),
        ..AgencyMatches::default()
    };
    let mut elsewhere = std::collections::BTreeSet::new();
    for row in db.matches_of(&id)? {
        if row.status == MatchStatus::Dismissed {
            continue;
        }
        let other = row.other(&id);
        let Some(other_access) = db.case_access(&other)? else {
            continue;
        };
        if !other_access.visible_to(user) {
            elsewhere.insert(team(&other_access.team));
            continue;
        }
        // Named only once seen to be visible: nothing of a hidden case is read.
        let Some(name) = client_name(db, &other)? else {
            continue;
        };
        if other_access.restricted {
            db.audit(
                &user.id,
                device,
                &other,
                "named as a possible match",
                now_ms(),
            )?;
        }
        out.matches.push(AgencyMatch {
            case_id: other.to_string(),
            client_name: name,
            band: row.band,
            score: row.score,
            reasons: row.reasons,
            status: row.status,
        });
    }
    out.elsewhere = elsewhere
        .into_iter()
        .map(|team| MatchElsewhere { team })
        .collect();
    Ok(out)
}

/// The most cases linking to one case its related cases read, unless `matching.max_related`
/// says otherwise (a household rarely links more than a dozen).
pub const MAX_RELATED: usize = 200;

/// The cases related to case `id` (issue 19), both ways: those its household points to and
/// the one it continues in when closed as a duplicate, and those whose household points to
/// it or that were closed as its duplicates ([`Db::linked_from`]). A related case the user
/// may see comes with its client's name (initials for a restricted one); one the user may
/// not see only as its team, once per team. Only links in force count: a retracted member,
/// a closure reopened. A case the user may not see is
/// [`crate::error::AppError::NotFound`], as one that does not exist. At most `max` cases
/// linking to it are read; answers how many more were left out. Blocking.
pub fn related(
    db: &dyn Db,
    user: &crate::db::User,
    id: CaseId,
    max: usize,
) -> AppResult<(matching::RelatedCases, usize)> {
    use crate::error::AppError;
    use matching::{MatchElsewhere, RelatedCase, RelatedCases, Relation};
    visible_case(db, user, id)?;
    let outline = |cid: &CaseId| -> AppResult<Option<fieldcase_core::CaseFile>> {
        let Some(bytes) = db.case_document(cid)? else {
            return Ok(None);
        };
        let doc = Automerge::load(&bytes)
            .map_err(|e| AppError::Internal(format!("stored case unreadable: {e}")))?;
        Ok(Some(CaseDoc::outline_of(&doc)?.0))
    };
    let file = outline(&id)?.ok_or(AppError::NotFound)?;
    let this = id.to_string();
    // (the related case, how, the household's relation code)
    let mut found: Vec<(CaseId, Relation, Option<String>)> = Vec::new();
    for m in file
        .client
        .household
        .iter()
        .filter(|m| m.retracted.is_none())
    {
        if let Some(c) = m.case_id.as_deref().and_then(|c| c.parse::<CaseId>().ok()) {
            found.push((c, Relation::ListedHere, m.case_relation.clone()));
        }
    }
    if let Some(c) = file.continues_in().and_then(|c| c.parse::<CaseId>().ok()) {
        found.push((c, Relation::ContinuesIn, None));
    }
    let mut files = std::collections::HashMap::new();
    let linking = db.linked_from(&id)?;
    let left_out = linking.len().saturating_sub(max);
    for other in linking.into_iter().take(max) {
        let Some(f) = outline(&other)? else { continue };
        for m in f.client.household.iter().filter(|m| m.retracted.is_none()) {
            if m.case_id.as_deref() == Some(this.as_str()) {
                found.push((other, Relation::ListsThisClient, m.case_relation.clone()));
            }
        }
        if f.continues_in() == Some(this.as_str()) {
            found.push((other, Relation::DuplicateHere, None));
        }
        files.insert(other, f);
    }
    let shown = team_shown(db)?;
    let mut out = RelatedCases {
        case_id: this.clone(),
        ..RelatedCases::default()
    };
    let mut elsewhere = std::collections::BTreeSet::new();
    for (other, relation, case_relation) in found {
        if other == id {
            continue;
        }
        let Some(other_access) = db.case_access(&other)? else {
            continue;
        };
        if !other_access.visible_to(user) {
            elsewhere.insert(shown(&other_access.team));
            continue;
        }
        let name = match files.get(&other) {
            Some(f) => f.client.name.clone(),
            None => outline(&other)?.and_then(|f| f.client.name),
        }
        .unwrap_or_default();
        out.related.push(RelatedCase {
            case_id: other.to_string(),
            client_name: if other_access.restricted {
                crate::console::view::initials(&name)
            } else {
                name
            },
            restricted: other_access.restricted,
            relation,
            case_relation,
        });
    }
    out.related
        .sort_by(|a, b| (a.relation, &a.client_name).cmp(&(b.relation, &b.client_name)));
    out.elsewhere = elsewhere
        .into_iter()
        .map(|team| MatchElsewhere { team })
        .collect();
    Ok((out, left_out))
}

use crate::now_ms;

#[cfg(test)]
mod tests {
    use super::*;
    use fieldcase_core::matching::Person;

    fn entry(name: &str, dob: &str) -> Entry {
        Entry {
            id: CaseId::random(),
            person: Prepared::of(&Person {
                name: name.into(),
                date_of_birth: Some(dob.into()),
                ..Person::default()
            }),
            closed_as_duplicate: false,
        }
    }

    fn found(index: &MatchIndex, e: &Entry) -> Vec<CaseId> {
        index.check(e, 0).iter().map(|r| r.other(&e.id)).collect()
    }

    #[test]
    fn the_check_follows_updates_and_erasure() {
        let index = MatchIndex::default();
        *index.lock() = Some(matching::Index::new());
        let anna = entry("Фёдорова Анна", "1988-03-01");
        let lan = entry("Nguyễn Thị Lan", "1990-05-01");
        assert!(index.put(anna.clone(), 10));
        assert!(index.put(lan.clone(), 10));
        let new = entry("Fedorova Anna", "1988-03-01");
        assert_eq!(found(&index, &new), [anna.id]);
        assert!(
            found(&index, &anna).is_empty(),
            "a case is not its own match"
        );

        // The client renamed: found under the new name only.
        let mut renamed = anna.clone();
        renamed.person = Prepared::of(&Person {
            name: "Nguyen Thi Lan".into(),
            date_of_birth: Some("1990-05-01".into()),
            ..Person::default()
        });
        assert!(index.put(renamed, 10));
        assert_eq!(index.len(), 2);
        assert!(found(&index, &new).is_empty());
        let mut both = found(&index, &entry("Nguyen Thi Lan", "1990-05-01"));
        both.sort();
        let mut expected = vec![anna.id, lan.id];
        expected.sort();
        assert_eq!(both, expected);

        // Erased: nothing of it is found any more.
        index.forget(&anna.id);
        assert_eq!(index.len(), 1);
        assert!(index.get(&anna.id).is_none());
        assert_eq!(
            found(&index, &entry("Nguyen Thi Lan", "1990-05-01")),
            [lan.id]
        );
    }

    #[test]
    fn a_full_index_keeps_its_cases_current_but_takes_no_new_one() {
        let index = MatchIndex::default();
        *index.lock() = Some(matching::Index::new());
        let anna = entry("Фёдорова Анна", "1988-03-01");
        assert!(index.put(anna.clone(), 1));
        assert!(!index.put(entry("Nguyễn Thị Lan", "1990-05-01"), 1));
        assert!(index.put(anna.clone(), 1), "an indexed case is updated");
        assert_eq!(index.len(), 1);
        assert!(found(&index, &entry("Nguyen Thi Lan", "1990-05-01")).is_empty());
    }

    #[test]
    fn a_case_closed_as_a_duplicate_is_no_longer_proposed_and_comes_back_when_reopened() {
        let index = MatchIndex::default();
        *index.lock() = Some(matching::Index::new());
        let kept = entry("Фёдорова Анна", "1988-03-01");
        let closed = entry("Fedorova Anna", "1988-03-01");
        assert!(index.put(kept.clone(), 10));
        assert!(index.put(closed.clone(), 10));
        let third = entry("Fyodorova Anna", "1988-03-01");
        assert_eq!(found(&index, &third).len(), 2);

        let mut now_closed = closed.clone();
        now_closed.closed_as_duplicate = true;
        assert!(index.put(now_closed, 10));
        assert_eq!(found(&index, &third), [kept.id]);
        assert!(index.get(&closed.id).is_none());

        // Reopened (the closure no longer in force): a candidate again.
        assert!(index.put(closed.clone(), 10));
        assert_eq!(found(&index, &third).len(), 2);
    }
}
