//! fieldcase-bindings: the fieldcase core for Android and iOS apps (and Python), through
//! uniffi proc-macros. A thin layer: every call forwards to [`fieldcase_core::CaseStore`].
//!
//! The records and enums an app sees are the core's own (`fieldcase-core` with its
//! `uniffi` feature derives them, in the `fieldcase_core` namespace): a field added in
//! the core reaches Kotlin, Swift and Python, or the build fails. This crate defines only
//! what must differ: [`FieldcaseError`] (one variant per kind of core error, converted in
//! one exhaustive `match`), [`CaseSummary`] (the index entry without its search key),
//! [`RefusedCase`] (with its case id), the sync state, and the observers.
//!
//! Calls that wait (opening a store, login, sync, logout, salvage) are `async`: Kotlin
//! `suspend`, Swift `async`, Python coroutines, run on a blocking thread pool (tokio's);
//! cancelling a sync stops it between frames and keeps what it received. Quick reads and
//! typed edits stay synchronous. One [`CaseStore`] may be shared by several threads.
//!
//! Observers are traits the app implements: [`SyncObserver`] hears the sync state and
//! progress, [`CaseObserver`] which cases changed, by an edit here or by a sync.
//!
//! Text positions in [`CaseStore::edit_text`] count Unicode scalar values (Python `str`
//! indices; Swift `unicodeScalars`); [`CaseStore::edit_text_utf16`] takes UTF-16 code
//! units, as Kotlin strings, Android text fields and `NSString` count them.

use std::sync::{Arc, Mutex, PoisonError};

use fieldcase_core as core;
use fieldcase_core::case::{
    ActivityInput, ActivityStatus, AgreementInput, AppointmentInput, AppointmentStatus,
    AssessmentInput, AttachmentInput, CaseFile, ClientInput, ClosureInput, ConsentInput,
    ContactInput, FollowUpInput, HouseholdMemberInput, IntakeInput, NewCase, ProblemInput,
    ReferralInput, ReferralLinkInput, ReferralStatus, ReviewInput, SupervisionInput, VisitInput,
};
use fieldcase_core::matching::PossibleMatch;
use fieldcase_core::store::{AgendaItem, CaseFilter};
use fieldcase_core::sync::{SyncControl, SyncProgress, SyncReport};
use fieldcase_core::{Conflict, FieldChange, RefusalKind, Stage};

uniffi::setup_scaffolding!();

/// Everything a call can fail with: one variant per kind of failure the core knows. The
/// text is ours: ids, field paths and reasons, never client data.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum FieldcaseError {
    /// The key is not the key the store was created with.
    #[error("the store cannot be opened with this key")]
    WrongKey,
    /// The store file is damaged or was altered (`salvage` may rescue cases).
    #[error("the store is corrupt: {reason}")]
    Corrupt { reason: String },
    /// A case document could not be read or changed (damaged bytes, an impossible edit).
    #[error("document: {reason}")]
    Document { reason: String },
    /// No such case or entry.
    #[error("not found: {what}")]
    NotFound { what: String },
    /// The input breaks the case schema or a rule of the case file.
    #[error("invalid input at `{path}`: {reason}")]
    InvalidInput { path: String, reason: String },
    /// A stage change the workflow does not allow.
    #[error("cannot move the case from {from} to {to}: {reason}")]
    InvalidTransition {
        from: Stage,
        to: Stage,
        reason: String,
    },
    /// The user's role does not allow this, or the server refused the credentials.
    #[error("not allowed: {reason}")]
    Unauthorized { reason: String },
    /// No user is signed in on this store, so an edit cannot be attributed (log in first).
    #[error("no user is signed in on this store")]
    NotSignedIn,
    /// The server could not be reached or the connection failed; try again later.
    #[error("network: {reason}")]
    Network { reason: String },
    /// The server disabled this user or device; its cases were removed from the device.
    #[error("this device was disabled; its cases were removed")]
    Wiped,
    /// The server needs a newer app (it accepts case schema revision `needed` or later;
    /// this app writes `this`): update the app. Nothing was sent; changes stay here.
    #[error("update the app: the server needs schema revision {needed}, this app writes {this}")]
    UpdateApp { needed: u32, this: u32 },
    /// The store was written by a newer version of the app (schema `found`, this app
    /// knows `known`): update the app.
    #[error("the store is from a newer app (schema {found}, this app knows {known})")]
    VersionConflict { found: i64, known: i64 },
    /// The device's storage failed (full, unavailable).
    #[error("storage: {reason}")]
    Storage { reason: String },
    /// The call was cancelled; what a sync received before is kept.
    #[error("cancelled")]
    Cancelled,
    /// A bug: please report it.
    #[error("internal error: {reason}")]
    Internal { reason: String },
}

impl From<core::Error> for FieldcaseError {
    fn from(e: core::Error) -> Self {
        use core::Error as E;
        let text = e.to_string();
        // Exhaustive: a new kind of core error must be given its variant here.
        match e {
            E::WrongKey => FieldcaseError::WrongKey,
            E::Corrupt(reason) => FieldcaseError::Corrupt { reason },
            E::Automerge(_) => FieldcaseError::Document { reason: text },
            E::NotFound(what) => FieldcaseError::NotFound { what },
            E::InvalidInput { path, reason } => FieldcaseError::InvalidInput { path, reason },
            E::InvalidTransition { from, to, reason } => {
                FieldcaseError::InvalidTransition { from, to, reason }
            }
            E::Unauthorized(reason) => FieldcaseError::Unauthorized { reason },
            E::NoUser => FieldcaseError::NotSignedIn,
            E::Network(reason) => FieldcaseError::Network { reason },
            E::Wiped => FieldcaseError::Wiped,
            E::UpdateApp { needed, this } => FieldcaseError::UpdateApp { needed, this },
            E::NewerStore { found, known } => FieldcaseError::VersionConflict { found, known },
            E::Sqlite(_) => FieldcaseError::Storage { reason: text },
            E::Cancelled => FieldcaseError::Cancelled,
            E::Encoding(reason) => FieldcaseError::Internal { reason },
        }
    }
}

/// The kinds of [`FieldcaseError`], without their details (what a [`SyncState`] carries).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ErrorKind {
    WrongKey,
    Corrupt,
    Document,
    NotFound,
    InvalidInput,
    InvalidTransition,
    Unauthorized,
    NotSignedIn,
    Network,
    Wiped,
    UpdateApp,
    VersionConflict,
    Storage,
    Cancelled,
    Internal,
}

impl FieldcaseError {
    fn kind(&self) -> ErrorKind {
        match self {
            FieldcaseError::WrongKey => ErrorKind::WrongKey,
            FieldcaseError::Corrupt { .. } => ErrorKind::Corrupt,
            FieldcaseError::Document { .. } => ErrorKind::Document,
            FieldcaseError::NotFound { .. } => ErrorKind::NotFound,
            FieldcaseError::InvalidInput { .. } => ErrorKind::InvalidInput,
            FieldcaseError::InvalidTransition { .. } => ErrorKind::InvalidTransition,
            FieldcaseError::Unauthorized { .. } => ErrorKind::Unauthorized,
            FieldcaseError::NotSignedIn => ErrorKind::NotSignedIn,
            FieldcaseError::Network { .. } => ErrorKind::Network,
            FieldcaseError::Wiped => ErrorKind::Wiped,
            FieldcaseError::UpdateApp { .. } => ErrorKind::UpdateApp,
            FieldcaseError::VersionConflict { .. } => ErrorKind::VersionConflict,
            FieldcaseError::Storage { .. } => ErrorKind::Storage,
            FieldcaseError::Cancelled => ErrorKind::Cancelled,
            FieldcaseError::Internal { .. } => ErrorKind::Internal,
        }
    }
}

type Result<T> = std::result::Result<T, FieldcaseError>;

fn case_id(id: &str) -> Result<core::CaseId> {
    id.parse().map_err(|_| FieldcaseError::NotFound {
        what: "case (malformed id)".into(),
    })
}

/// Runs blocking core work on tokio's blocking pool (never on the caller's thread).
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| FieldcaseError::Internal {
            reason: format!("a background task failed: {e}"),
        })?
}

/// What the caseload list shows of a case (the core's index entry, without its search key).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CaseSummary {
    pub id: String,
    pub client_name: String,
    pub client_name_latin: Option<String>,
    pub stage: Stage,
    /// The kind of case, which decides its assessment.
    pub case_kind: Option<core::case::CaseKind>,
    /// The conclusion of the latest risk judgement (child protection).
    pub finding: Option<core::case::Finding>,
    /// An earlier risk code that meant no conclusion: the case needs a new one.
    pub earlier_level: Option<core::case::RiskLevel>,
    /// The next step of the latest judgement, while it is not done.
    pub next_step: Option<core::case::NextStep>,
    /// An emergency flagged and its safety not yet secured.
    pub emergency: bool,
    /// A closure request waits for a supervisor.
    pub closure_requested: bool,
    pub priority: Option<String>,
    pub restricted: bool,
    pub team: Option<String>,
    pub case_manager: Option<String>,
    pub assigned: Vec<String>,
    pub next_review: Option<String>,
    /// When the case last changed on this device (ms since the epoch).
    pub last_change: i64,
    /// Fields holding concurrent values that someone should resolve.
    pub conflicts: u64,
    /// Upcoming appointments and open activities and follow-ups.
    pub agenda: Vec<AgendaItem>,
}

impl From<core::store::CaseSummary> for CaseSummary {
    fn from(s: core::store::CaseSummary) -> Self {
        // Every public field, by name: one added to the core must be added here.
        let core::store::CaseSummary {
            id,
            client_name,
            client_name_latin,
            stage,
            case_kind,
            finding,
            earlier_level,
            next_step,
            emergency,
            closure_requested,
            priority,
            restricted,
            team,
            case_manager,
            assigned,
            next_review,
            last_change,
            conflicts,
            agenda,
            ..
        } = s;
        CaseSummary {
            id,
            client_name,
            client_name_latin,
            stage,
            case_kind,
            finding,
            earlier_level,
            next_step,
            emergency,
            closure_requested,
            priority,
            restricted,
            team,
            case_manager,
            assigned,
            next_review,
            last_change,
            conflicts: conflicts as u64,
            agenda,
        }
    }
}

fn summaries(list: Vec<core::store::CaseSummary>) -> Vec<CaseSummary> {
    list.into_iter().map(CaseSummary::from).collect()
}

/// A case the server refused, held back from syncs until it is repaired.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RefusedCase {
    pub case_id: String,
    /// The kind of rule its changes broke (branch on this, never on `reason`).
    pub kind: RefusalKind,
    /// The server's words, for people.
    pub reason: String,
    /// When (ms since the epoch).
    pub at: i64,
}

impl RefusedCase {
    fn new(id: core::CaseId, r: core::store::RefusedCase) -> Self {
        let core::store::RefusedCase { kind, reason, at } = r;
        RefusedCase {
            case_id: id.to_string(),
            kind,
            reason,
            at,
        }
    }
}

/// Where a sync stands, as a [`SyncObserver`] hears it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum SyncState {
    /// Not syncing (after a sync that completed or was cancelled).
    Idle,
    /// Syncing: cases sent, received and done, out of the cases to exchange.
    Running { progress: SyncProgress },
    /// The server could not be reached; the cases stay here and sync later.
    Offline { reason: String },
    /// The sync failed for another reason (its kind says how to react).
    Failed { kind: ErrorKind, reason: String },
}

/// Hears the sync state and progress (implemented by the app; called on a background
/// thread, so post to the main thread before touching views).
#[uniffi::export(with_foreign)]
pub trait SyncObserver: Send + Sync {
    fn on_sync_state(&self, state: SyncState);
}

/// Where a change to cases came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ChangeOrigin {
    /// An edit on this device (a typed edit, a new or imported case).
    Local,
    /// A sync: changes received, cases new on this device, cases removed from it.
    Sync,
}

/// Hears which cases changed (implemented by the app, e.g. to refresh the caseload list;
/// called on the thread that made the change, or a background thread for a sync).
#[uniffi::export(with_foreign)]
pub trait CaseObserver: Send + Sync {
    fn on_cases_changed(&self, case_ids: Vec<String>, origin: ChangeOrigin);
}

/// The observers of one store.
#[derive(Default)]
struct Observers {
    next: u64,
    sync: Vec<(u64, Arc<dyn SyncObserver>)>,
    cases: Vec<(u64, Arc<dyn CaseObserver>)>,
}

impl std::fmt::Debug for Observers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observers")
            .field("sync", &self.sync.len())
            .field("cases", &self.cases.len())
            .finish()
    }
}

/// Observers shared with the background work of a call (which may outlive the call).
#[derive(Debug, Clone, Default)]
struct Hub(Arc<Mutex<Observers>>);

impl Hub {
    fn lock(&self) -> std::sync::MutexGuard<'_, Observers> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    // Observers are called outside the lock: one may add or remove observers, or call
    // the store, from its callback.
    fn sync_state(&self, state: SyncState) {
        let list: Vec<_> = self.lock().sync.iter().map(|(_, o)| o.clone()).collect();
        for o in list {
            o.on_sync_state(state.clone());
        }
    }

    fn cases_changed(&self, ids: Vec<String>, origin: ChangeOrigin) {
        if ids.is_empty() {
            return;
        }
        let list: Vec<_> = self.lock().cases.iter().map(|(_, o)| o.clone()).collect();
        for o in list {
            o.on_cases_changed(ids.clone(), origin);
        }
    }
}

/// Sets its control's cancel flag when dropped: a sync or login future dropped by the app
/// (a cancelled coroutine or task) stops the call it started.
struct CancelOnDrop(Arc<SyncControl>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// A case rescued from a damaged store (see [`salvage`]).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SalvagedCase {
    pub case_id: String,
    /// The whole Automerge document: import it with `CaseStore.import_case`.
    pub document: Vec<u8>,
    /// Edits after the last snapshot that could not be read.
    pub changes_lost: u64,
}

/// Rescues the readable cases of a damaged store file (never writes to it).
#[uniffi::export(async_runtime = "tokio")]
pub async fn salvage(path: String, key: Vec<u8>) -> Result<Vec<SalvagedCase>> {
    let key = key32(&key)?;
    let found = blocking(move || Ok(core::CaseStore::salvage(path, &key)?)).await?;
    Ok(found
        .cases
        .into_iter()
        .map(|c| SalvagedCase {
            case_id: c.id.to_string(),
            document: c.document,
            changes_lost: c.changes_lost as u64,
        })
        .collect())
}

/// Opens (or creates) the store at `path` with the 32-byte device key (keep it in the
/// platform keystore). Opening reads and decrypts the caseload index.
#[uniffi::export(async_runtime = "tokio")]
pub async fn open_store(path: String, key: Vec<u8>) -> Result<Arc<CaseStore>> {
    let key = key32(&key)?;
    let inner = blocking(move || Ok(core::CaseStore::open(path, &key)?)).await?;
    Ok(Arc::new(CaseStore {
        inner: Arc::new(inner),
        hub: Hub::default(),
    }))
}

fn key32(key: &[u8]) -> Result<[u8; 32]> {
    key.try_into().map_err(|_| FieldcaseError::InvalidInput {
        path: "key".into(),
        reason: "the device key has 32 bytes".into(),
    })
}

/// The encrypted case store on the phone (open it with [`open_store`]).
#[derive(Debug, uniffi::Object)]
pub struct CaseStore {
    inner: Arc<core::CaseStore>,
    hub: Hub,
}

impl CaseStore {
    /// Runs a typed edit of one case, then tells the case observers.
    fn edit<T>(
        &self,
        case_id: &str,
        f: impl FnOnce(&mut core::CaseDoc, &core::Author, i64) -> core::Result<T>,
    ) -> Result<T> {
        let id = self::case_id(case_id)?;
        let out = self.inner.update(&id, f)?;
        self.hub
            .cases_changed(vec![id.to_string()], ChangeOrigin::Local);
        Ok(out)
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl CaseStore {
    /// This device's id (the server's, once signed in).
    pub fn device_id(&self) -> String {
        self.inner.device_id()
    }

    /// Trusts these certificate authorities (PEM) for the server, instead of the public
    /// web's (an agency's own server).
    pub fn set_trusted_roots(&self, pem: String) -> Result<()> {
        Ok(self.inner.set_trusted_roots(&pem)?)
    }

    /// Signs in on the server and registers this device and its actor. Cancelling the
    /// call (a cancelled coroutine or task) before the user is signed in here leaves the
    /// store as it was and ends the session the server may have opened; a request
    /// already on its way is not cut, so that happens when it returns (within the
    /// client's timeout).
    pub async fn login(
        &self,
        server_url: String,
        username: String,
        password: String,
        device_name: String,
    ) -> Result<core::sync::ServerSession> {
        let control = Arc::new(SyncControl::default());
        let _cancel_when_dropped = CancelOnDrop(control.clone());
        let inner = self.inner.clone();
        blocking(move || {
            Ok(inner.login_with(&server_url, &username, &password, &device_name, &control)?)
        })
        .await
    }

    /// Asks the server for a link through which the partner organisation answers a
    /// referral without an account, its page in `language` (en, fa, ru, th, uk, vi); send
    /// the link's `url` to the partner by a safe channel. Needs the network, and the
    /// referral synced to the server.
    pub async fn make_partner_link(
        &self,
        server_url: String,
        token: String,
        case_id: String,
        referral_id: String,
        language: String,
    ) -> Result<core::sync::PartnerLink> {
        let inner = self.inner.clone();
        blocking(move || {
            let id = self::case_id(&case_id)?;
            Ok(inner.make_partner_link(&server_url, &token, &id, &referral_id, &language)?)
        })
        .await
    }

    /// Fetches the bytes of an attachment from the server when they are not on this phone
    /// (resuming a download that was cut off); answers where they are now.
    pub async fn fetch_attachment(
        &self,
        server_url: String,
        token: String,
        case_id: String,
        attachment_id: String,
    ) -> Result<core::store::AttachmentState> {
        let inner = self.inner.clone();
        blocking(move || {
            let id = self::case_id(&case_id)?;
            Ok(inner.fetch_attachment(&server_url, &token, &id, &attachment_id)?)
        })
        .await
    }

    /// Fetches every attachment of a case not on this phone (before a visit without
    /// network); answers how many were fetched.
    pub async fn fetch_attachments_of(
        &self,
        server_url: String,
        token: String,
        case_id: String,
    ) -> Result<u64> {
        let inner = self.inner.clone();
        blocking(move || {
            let id = self::case_id(&case_id)?;
            Ok(inner.fetch_attachments_of(&server_url, &token, &id)? as u64)
        })
        .await
    }

    /// Attaches the file at `path` (a photo the camera wrote, a PDF) to a case, offline:
    /// read in chunks, recognised by its bytes, sealed; uploaded at the next sync.
    pub async fn attach_file(
        &self,
        case_id: String,
        path: String,
        input: AttachmentInput,
    ) -> Result<core::case::Attachment> {
        let inner = self.inner.clone();
        let hub = self.hub.clone();
        blocking(move || {
            let id = self::case_id(&case_id)?;
            let added = inner.attach_file(&id, &path, input)?;
            hub.cases_changed(vec![id.to_string()], ChangeOrigin::Local);
            Ok(added)
        })
        .await
    }

    /// The server's possible duplicates of a case across the agency (issue 19): named only
    /// where the user may see the other case; elsewhere, only the team whose supervisor to
    /// ask. Needs the network, and the case synced to the server.
    pub async fn agency_matches(
        &self,
        server_url: String,
        token: String,
        case_id: String,
    ) -> Result<core::matching::AgencyMatches> {
        let inner = self.inner.clone();
        blocking(move || {
            let id = self::case_id(&case_id)?;
            Ok(inner.agency_matches(&server_url, &token, &id)?)
        })
        .await
    }

    /// The cases related to a case, both ways (issue 19): the household members' own cases,
    /// the cases whose household lists this client, duplicates; named only where the user
    /// may see the other case (initials for a restricted one), elsewhere only the team to
    /// ask. Needs the network, and the case synced to the server.
    pub async fn related_cases(
        &self,
        server_url: String,
        token: String,
        case_id: String,
    ) -> Result<core::matching::RelatedCases> {
        let inner = self.inner.clone();
        blocking(move || {
            let id = self::case_id(&case_id)?;
            Ok(inner.related_cases(&server_url, &token, &id)?)
        })
        .await
    }

    /// Ends the session on the server and signs out here.
    pub async fn logout(&self, server_url: String, token: String) -> Result<()> {
        let inner = self.inner.clone();
        blocking(move || Ok(inner.logout(&server_url, &token)?)).await
    }

    /// Brings the whole caseload up to date in both directions. Sync observers hear the
    /// progress and the outcome, case observers the cases it changed. Cancelling the call
    /// stops the sync between frames; what it received is kept, and the next sync
    /// completes.
    pub async fn sync(&self, server_url: String, token: String) -> Result<SyncReport> {
        let hub = self.hub.clone();
        let progress_hub = hub.clone();
        let control = Arc::new(SyncControl::with_progress(move |progress| {
            progress_hub.sync_state(SyncState::Running { progress })
        }));
        let _cancel_when_dropped = CancelOnDrop(control.clone());
        let inner = self.inner.clone();
        hub.sync_state(SyncState::Running {
            progress: SyncProgress::default(),
        });
        // The outcome is told from the blocking side, so a cancelled call still ends in
        // `Idle` and still names the cases that changed before it stopped.
        blocking(move || {
            let result = inner.sync_with(&server_url, &token, &control);
            match &result {
                Ok(report) => {
                    hub.sync_state(SyncState::Idle);
                    hub.cases_changed(report.changed.clone(), ChangeOrigin::Sync);
                }
                Err(core::Error::Cancelled) => hub.sync_state(SyncState::Idle),
                Err(core::Error::Network(reason)) => hub.sync_state(SyncState::Offline {
                    reason: reason.clone(),
                }),
                Err(_) => {}
            }
            result.map_err(|e| {
                let e = FieldcaseError::from(e);
                if !matches!(
                    e,
                    FieldcaseError::Cancelled | FieldcaseError::Network { .. }
                ) {
                    hub.sync_state(SyncState::Failed {
                        kind: e.kind(),
                        reason: e.to_string(),
                    });
                }
                e
            })
        })
        .await
    }

    /// Cases the server refused, held back from syncs until they are repaired.
    pub fn refused_cases(&self) -> Vec<RefusedCase> {
        self.inner
            .refused_cases()
            .into_iter()
            .map(|(id, r)| RefusedCase::new(id, r))
            .collect()
    }

    /// Starts telling `observer` the sync state and progress; returns its id for
    /// [`CaseStore::remove_observer`].
    pub fn add_sync_observer(&self, observer: Arc<dyn SyncObserver>) -> u64 {
        let mut o = self.hub.lock();
        o.next += 1;
        let id = o.next;
        o.sync.push((id, observer));
        id
    }

    /// Starts telling `observer` which cases changed; returns its id for
    /// [`CaseStore::remove_observer`].
    pub fn add_case_observer(&self, observer: Arc<dyn CaseObserver>) -> u64 {
        let mut o = self.hub.lock();
        o.next += 1;
        let id = o.next;
        o.cases.push((id, observer));
        id
    }

    /// Stops telling an observer; false when there was none with this id.
    pub fn remove_observer(&self, id: u64) -> bool {
        let mut o = self.hub.lock();
        let before = o.sync.len() + o.cases.len();
        o.sync.retain(|(i, _)| *i != id);
        o.cases.retain(|(i, _)| *i != id);
        before != o.sync.len() + o.cases.len()
    }

    /// Opens a case (intake during a home visit); returns its id.
    pub fn create_case(&self, new_case: NewCase) -> Result<String> {
        let id = self.inner.create_case(new_case)?.to_string();
        self.hub
            .cases_changed(vec![id.clone()], ChangeOrigin::Local);
        Ok(id)
    }

    /// The whole case file, typed.
    pub fn get_case(&self, case_id: String) -> Result<CaseFile> {
        Ok(self.inner.get_case(&self::case_id(&case_id)?)?)
    }

    /// The whole case file as JSON (schema `fieldcase/case/1`).
    pub fn case_json(&self, case_id: String) -> Result<String> {
        Ok(self.inner.case_json(&self::case_id(&case_id)?)?)
    }

    /// The caseload, filtered and sorted.
    pub fn list_cases(&self, filter: CaseFilter) -> Result<Vec<CaseSummary>> {
        Ok(summaries(self.inner.list_cases(&filter)))
    }

    /// What is due between two days inclusive (`YYYY-MM-DD`) across the caseload, soonest
    /// first: appointments, activities, visit follow-ups, reviews and the investigations a
    /// risk conclusion asked for. Computed on the phone, without the network.
    pub fn agenda(&self, from: String, to: String) -> Vec<AgendaItem> {
        self.inner
            .agenda(&to)
            .into_iter()
            .filter(|i| i.when.get(..10).unwrap_or(&i.when) >= from.as_str())
            .collect()
    }

    /// The team's deadlines the phone computes due dates with (as of the last sync).
    pub fn deadlines(&self) -> core::deadlines::Deadlines {
        self.inner.deadlines()
    }

    /// What is overdue on `today` (`YYYY-MM-DD`) across the caseload, most overdue first,
    /// computed on the phone without the network (the team's deadlines included).
    pub fn overdue(&self, today: String) -> Vec<AgendaItem> {
        self.inner.overdue(&today)
    }

    /// Cases whose client name matches, in any of our users' scripts.
    pub fn search(&self, query: String) -> Result<Vec<CaseSummary>> {
        Ok(summaries(self.inner.search(&query)))
    }

    /// The partner directory's services matching `filter`, offline: names in any script
    /// and language (the folding of client names), life domain, area, language, age,
    /// gender, status; at most `filter.limit` (50 by default, 500 at most).
    pub fn directory_search(
        &self,
        filter: core::directory::DirectoryFilter,
    ) -> Result<Vec<core::directory::DirectoryHit>> {
        Ok(self.inner.directory_search(&filter)?)
    }

    /// Everything about one service of the directory (its organisation, locations, terms
    /// and life domains), offline; `NotFound` for an id the directory does not hold.
    pub fn directory_entry(&self, service_id: String) -> Result<core::directory::ServiceEntry> {
        Ok(self.inner.directory_entry(&service_id)?)
    }

    /// The version of the partner directory this phone holds (0 before the first sync
    /// that brought one). Syncs replace it; the phone never edits it.
    pub fn directory_version(&self) -> i64 {
        self.inner.directory_version()
    }

    /// Before a new case is saved: the cases on this phone whose client may be the same
    /// person (a name in another script or spelling, the same date of birth...), best
    /// first, with the band and the reasons as codes for the app to word. Offline.
    pub fn possible_matches(&self, new_case: NewCase) -> Vec<PossibleMatch> {
        self.inner.possible_matches(&new_case)
    }

    /// Every field holding concurrent values, with each value's author.
    pub fn conflicts(&self, case_id: String) -> Result<Vec<Conflict>> {
        Ok(self.inner.conflicts(&self::case_id(&case_id)?)?)
    }

    /// Who changed a field when, and to what.
    pub fn history(&self, case_id: String, path: String) -> Result<Vec<FieldChange>> {
        Ok(self.inner.history(&self::case_id(&case_id)?, &path)?)
    }

    /// A case as Automerge bytes (to hand to another store or the server).
    pub fn export_case(&self, case_id: String) -> Result<Vec<u8>> {
        Ok(self.inner.export_case(&self::case_id(&case_id)?)?)
    }

    /// Adds a case from Automerge bytes (checked against the schema); returns its id.
    pub fn import_case(&self, document: Vec<u8>) -> Result<String> {
        let id = self.inner.import_case(&document)?.to_string();
        self.hub
            .cases_changed(vec![id.clone()], ChangeOrigin::Local);
        Ok(id)
    }

    /// Updates the client's identity and situation. The client's area (`area`) is the code
    /// of one of the agency's areas this phone holds ([`Self::areas`]); another is
    /// `InvalidInput`.
    pub fn update_client(&self, case_id: String, input: ClientInput) -> Result<()> {
        self.inner.check_area(input.area.as_deref())?;
        self.edit(&case_id, |d, a, now| d.update_client(a, now, input))
    }

    /// The agency's areas (communes, districts) as of the last sync, by code: what the
    /// client's area is chosen from (empty before the first sync).
    pub fn areas(&self) -> Result<Vec<core::store::areas::Area>> {
        Ok(self.inner.areas()?)
    }

    /// Adds a contact of the client (with whether it is safe to use); returns its id.
    pub fn add_contact(&self, case_id: String, input: ContactInput) -> Result<String> {
        self.edit(&case_id, |d, a, now| d.add_contact(a, now, input))
    }

    /// Adds a member of the client's household; returns its id.
    pub fn add_household_member(
        &self,
        case_id: String,
        input: HouseholdMemberInput,
    ) -> Result<String> {
        self.edit(&case_id, |d, a, now| d.add_household_member(a, now, input))
    }

    /// Links the case to another (issue 19): a household member's own case when
    /// `member_id` names one, or else a new household entry for a related case; `relation`
    /// is `sibling`, `parent`, `child`, `relative` or `household`. The link holds only the
    /// other case's id; the server accepts it only when the user may see that case. Returns
    /// the member's id.
    pub fn link_case(
        &self,
        case_id: String,
        member_id: Option<String>,
        linked_case_id: String,
        relation: String,
    ) -> Result<String> {
        self.edit(&case_id, |d, a, now| {
            d.link_case(a, now, member_id.as_deref(), &linked_case_id, &relation)
        })
    }

    /// Records the intake.
    pub fn record_intake(&self, case_id: String, input: IntakeInput) -> Result<()> {
        self.edit(&case_id, |d, a, now| d.record_intake(a, now, input))
    }

    /// Records the safety of a person at risk: the alleged perpetrator and the safety plan.
    pub fn record_safety(&self, case_id: String, input: core::case::SafetyInput) -> Result<()> {
        self.edit(&case_id, |d, a, now| d.record_safety(a, now, input))
    }

    /// The ways to reach the client that may be used without danger (a contact marked
    /// unsafe is never offered, nor one whose safety nobody recorded when an alleged
    /// perpetrator is on record): what reminders may use.
    pub fn reachable_contacts(&self, case_id: String) -> Result<Vec<core::case::Contact>> {
        Ok(self
            .get_case(case_id)?
            .reachable_contacts()
            .into_iter()
            .cloned()
            .collect())
    }

    /// Records a consent; returns its id.
    pub fn record_consent(&self, case_id: String, input: ConsentInput) -> Result<String> {
        self.edit(&case_id, |d, a, now| d.record_consent(a, now, input))
    }

    /// Records that a consent was withdrawn (`date` is `YYYY-MM-DD`); the consent stays in
    /// the file, marked.
    pub fn withdraw_consent(
        &self,
        case_id: String,
        consent_id: String,
        date: String,
        reason: String,
    ) -> Result<()> {
        self.edit(&case_id, |d, a, now| {
            d.withdraw_consent(a, now, &consent_id, &date, &reason)
        })
    }

    /// Adds an assessment over the life domains, with its risk; returns its id.
    pub fn add_assessment(&self, case_id: String, input: AssessmentInput) -> Result<String> {
        self.edit(&case_id, |d, a, now| d.add_assessment(a, now, input))
    }

    /// Adds a problem to the plan, with its need and goal; returns its id.
    pub fn add_problem(&self, case_id: String, input: ProblemInput) -> Result<String> {
        self.edit(&case_id, |d, a, now| d.add_problem(a, now, input))
    }

    /// Updates a problem of the plan (its need, goal, target date, status, priority).
    pub fn update_problem(
        &self,
        case_id: String,
        problem_id: String,
        input: ProblemInput,
    ) -> Result<()> {
        self.edit(&case_id, |d, a, now| {
            d.update_problem(a, now, &problem_id, input)
        })
    }

    /// Adds an activity towards a problem's goal; returns its id.
    pub fn add_activity(
        &self,
        case_id: String,
        problem_id: String,
        input: ActivityInput,
    ) -> Result<String> {
        self.edit(&case_id, |d, a, now| {
            d.add_activity(a, now, &problem_id, input)
        })
    }

    /// Sets the status of an activity of the plan.
    pub fn set_activity_status(
        &self,
        case_id: String,
        problem_id: String,
        activity_id: String,
        status: ActivityStatus,
    ) -> Result<()> {
        self.edit(&case_id, |d, a, now| {
            d.set_activity_status(a, now, &problem_id, &activity_id, status)
        })
    }

    /// Records the family's agreement to the plan.
    pub fn record_family_agreement(&self, case_id: String, input: AgreementInput) -> Result<()> {
        self.edit(&case_id, |d, a, now| {
            d.record_family_agreement(a, now, input)
        })
    }

    /// Sets the date of the plan's next review (`YYYY-MM-DD`).
    pub fn set_next_review(&self, case_id: String, date: String) -> Result<()> {
        self.edit(&case_id, |d, a, now| d.set_next_review(a, now, &date))
    }

    /// Asks a supervisor to approve the plan.
    pub fn request_plan_approval(&self, case_id: String) -> Result<()> {
        self.edit(&case_id, |d, a, now| d.request_plan_approval(a, now))
    }

    /// Approves the plan as it stands (supervisors): it is fixed as the next version.
    pub fn approve_plan(&self, case_id: String, comment: String) -> Result<()> {
        self.edit(&case_id, |d, a, now| d.approve_plan(a, now, &comment))
    }

    /// Approves the plan as it stands (supervisors), with an outside authority's decision
    /// (its name, decision number and date) where one decided.
    pub fn approve_plan_version(
        &self,
        case_id: String,
        input: core::case::PlanDecisionInput,
    ) -> Result<()> {
        self.edit(&case_id, |d, a, now| d.approve_plan_version(a, now, input))
    }

    /// Records an outside authority's decision that came after a version was approved
    /// (supervisors): each of its fields once.
    pub fn record_plan_decision(
        &self,
        case_id: String,
        version_id: String,
        input: core::case::PlanDecisionInput,
    ) -> Result<()> {
        self.edit(&case_id, |d, a, now| {
            d.record_plan_decision(a, now, &version_id, input)
        })
    }

    /// Where the plan stands: the approved version in force, and whether a draft changes it.
    pub fn plan_status(&self, case_id: String) -> Result<core::case::PlanStatus> {
        Ok(self.get_case(case_id)?.plan_status())
    }

    /// What the draft changes in the approved version.
    pub fn plan_changes(&self, case_id: String) -> Result<Vec<core::case::PlanChange>> {
        Ok(self.get_case(case_id)?.plan_changes())
    }

    /// Returns the plan to the worker with a comment (supervisors).
    pub fn return_plan(&self, case_id: String, comment: String) -> Result<()> {
        self.edit(&case_id, |d, a, now| d.return_plan(a, now, &comment))
    }

    /// Adds a referral to a partner organisation, in free text or naming the partner
    /// directory's service (whose names are written in); returns its id. One that shares
    /// the client's information (unless `shares_information` is false) needs
    /// `consent_id`: a consent to referral or information sharing, given, not withdrawn.
    pub fn add_referral(&self, case_id: String, input: ReferralInput) -> Result<String> {
        let input = self.inner.referral_from_directory(input)?;
        self.edit(&case_id, |d, a, now| d.add_referral(a, now, input))
    }

    /// Links a referral (one written in free text) to the partner directory's service; the
    /// names the worker wrote stay. A service the phone's directory lacks is `InvalidInput`.
    pub fn link_referral(
        &self,
        case_id: String,
        referral_id: String,
        input: ReferralLinkInput,
    ) -> Result<()> {
        let input = self.inner.referral_link_from_directory(input)?;
        self.edit(&case_id, |d, a, now| {
            d.link_referral(a, now, &referral_id, input)
        })
    }

    /// Records the next step of a referral's loop: received, accepted, declined (by the
    /// organisation, with its reason; or by the client), unavailable, service started,
    /// delivered (with its outcome); a step the loop lacks is `InvalidInput`.
    pub fn set_referral_status(
        &self,
        case_id: String,
        referral_id: String,
        status: ReferralStatus,
        reason: Option<String>,
        outcome: Option<String>,
    ) -> Result<()> {
        self.edit(&case_id, |d, a, now| {
            d.set_referral_status(
                a,
                now,
                &referral_id,
                status,
                reason.as_deref(),
                outcome.as_deref(),
            )
        })
    }

    /// Records a home visit (or call, meeting); returns its id.
    pub fn add_visit(&self, case_id: String, input: VisitInput) -> Result<String> {
        self.edit(&case_id, |d, a, now| d.add_visit(a, now, input))
    }

    /// Adds a follow-up to a visit (what was agreed, by whom, by when); returns its id.
    pub fn add_follow_up(
        &self,
        case_id: String,
        visit_id: String,
        input: FollowUpInput,
    ) -> Result<String> {
        self.edit(&case_id, |d, a, now| {
            d.add_follow_up(a, now, &visit_id, input)
        })
    }

    /// Adds an appointment; returns its id.
    pub fn add_appointment(&self, case_id: String, input: AppointmentInput) -> Result<String> {
        self.edit(&case_id, |d, a, now| d.add_appointment(a, now, input))
    }

    /// Records whether an appointment was kept, missed or rescheduled.
    pub fn set_appointment_status(
        &self,
        case_id: String,
        appointment_id: String,
        status: AppointmentStatus,
    ) -> Result<()> {
        self.edit(&case_id, |d, a, now| {
            d.set_appointment_status(a, now, &appointment_id, status)
        })
    }

    /// Records a review; returns its id.
    pub fn add_review(&self, case_id: String, input: ReviewInput) -> Result<String> {
        self.edit(&case_id, |d, a, now| d.add_review(a, now, input))
    }

    /// Asks to close the case, at any open stage (a supervisor approves); returns the
    /// closure's id.
    pub fn request_closure(&self, case_id: String, input: ClosureInput) -> Result<String> {
        self.edit(&case_id, |d, a, now| d.request_closure(a, now, input))
    }

    /// Records that, when and how the client or family was told the case closes (or why
    /// not), on a closure request waiting for a supervisor.
    pub fn record_informed(
        &self,
        case_id: String,
        closure_id: String,
        input: core::case::InformedInput,
    ) -> Result<()> {
        self.edit(&case_id, |d, a, now| {
            d.record_informed(a, now, &closure_id, input)
        })
    }

    /// Ends the intake with a decision: accepted (on to assessment), screened out (with
    /// the reason) or referred elsewhere (to an organisation); the last two ask for the case
    /// to be closed, and the closure request's id is returned.
    pub fn decide_intake(
        &self,
        case_id: String,
        input: core::case::IntakeDecisionInput,
    ) -> Result<Option<String>> {
        self.edit(&case_id, |d, a, now| d.decide_intake(a, now, input))
    }

    /// Records that immediate safety measures are in place (what they are, when, by whom):
    /// the emergency clears from dashboards, and the case may move on from intake.
    pub fn secure_safety(&self, case_id: String, measures: String) -> Result<()> {
        self.edit(&case_id, |d, a, now| d.secure_safety(a, now, &measures))
    }

    /// Records that the next step of a risk judgement (`assessments/<id>` or
    /// `reviews/<id>`) was done on `date` (`YYYY-MM-DD`).
    pub fn complete_next_step(
        &self,
        case_id: String,
        judgement_path: String,
        date: String,
    ) -> Result<()> {
        self.edit(&case_id, |d, a, now| {
            d.complete_next_step(a, now, &judgement_path, &date)
        })
    }

    /// Closes the case as a duplicate of case `of` (supervisors): the same client's other
    /// case goes on; both keep their history. Returns the closure's id.
    pub fn close_as_duplicate(
        &self,
        case_id: String,
        of: String,
        comment: String,
    ) -> Result<String> {
        let of: fieldcase_core::CaseId = of.parse()?;
        self.edit(&case_id, |d, a, now| {
            d.close_as_duplicate(a, now, &of, &comment)
        })
    }

    /// Records supervision on the record: a case conference, a review of the handling of
    /// the case (a supervisor's, or the worker's own), or a disagreement between
    /// professionals; returns its id.
    pub fn add_supervision(&self, case_id: String, input: SupervisionInput) -> Result<String> {
        self.edit(&case_id, |d, a, now| d.add_supervision(a, now, input))
    }

    /// Approves a request to close the case (supervisors): the case is closed.
    pub fn approve_closure(
        &self,
        case_id: String,
        closure_id: String,
        comment: String,
    ) -> Result<()> {
        self.edit(&case_id, |d, a, now| {
            d.approve_closure(a, now, &closure_id, &comment)
        })
    }

    /// Returns a request to close the case to the worker with a comment (supervisors).
    pub fn return_closure(
        &self,
        case_id: String,
        closure_id: String,
        comment: String,
    ) -> Result<()> {
        self.edit(&case_id, |d, a, now| {
            d.return_closure(a, now, &closure_id, &comment)
        })
    }

    /// Reopens a closed case; earlier closures stay in the file.
    pub fn reopen(&self, case_id: String, reason: String) -> Result<()> {
        self.edit(&case_id, |d, a, now| d.reopen(a, now, &reason))
    }

    /// Moves the case to another stage of the workflow.
    pub fn change_stage(&self, case_id: String, to: Stage) -> Result<()> {
        self.edit(&case_id, |d, a, now| d.change_stage(a, now, to))
    }

    /// Assigns the case to these workers (user ids), and optionally names its case manager
    /// (supervisors; the phones of workers who lose it hand in their last changes).
    pub fn assign(
        &self,
        case_id: String,
        workers: Vec<String>,
        case_manager: Option<String>,
    ) -> Result<()> {
        self.edit(&case_id, |d, a, now| {
            d.assign(a, now, &workers, case_manager.as_deref())
        })
    }

    /// Restricts the case to its assigned workers and supervisor, or lifts the
    /// restriction (lifting it needs a supervisor).
    pub fn set_restricted(&self, case_id: String, restricted: bool) -> Result<()> {
        self.edit(&case_id, |d, a, now| d.set_restricted(a, now, restricted))
    }

    /// Attaches bytes held in memory (a signature drawn on the screen, a small photo) to a
    /// case, offline, as [`CaseStore::attach_file`] does.
    pub fn attach_bytes(
        &self,
        case_id: String,
        bytes: Vec<u8>,
        input: AttachmentInput,
    ) -> Result<core::case::Attachment> {
        let id = self::case_id(&case_id)?;
        let added = self.inner.attach(&id, &bytes[..], input)?;
        self.hub
            .cases_changed(vec![id.to_string()], ChangeOrigin::Local);
        Ok(added)
    }

    /// Where the bytes of an attachment are: to upload, uploaded, downloaded, or only at
    /// the server.
    pub fn attachment_state(
        &self,
        case_id: String,
        attachment_id: String,
    ) -> Result<core::store::AttachmentState> {
        Ok(self
            .inner
            .attachment_state(&self::case_id(&case_id)?, &attachment_id)?)
    }

    /// The bytes of an attachment on this phone (fetch it first when it is not), checked
    /// against its hash.
    pub fn attachment_bytes(&self, case_id: String, attachment_id: String) -> Result<Vec<u8>> {
        Ok(self
            .inner
            .attachment_bytes(&self::case_id(&case_id)?, &attachment_id)?)
    }

    /// Writes an attachment on this phone to the file at `path` (to open it in a viewer);
    /// the app deletes that file when done.
    pub fn save_attachment_to(
        &self,
        case_id: String,
        attachment_id: String,
        path: String,
    ) -> Result<()> {
        let id = self::case_id(&case_id)?;
        let mut file = std::fs::File::create(&path).map_err(|e| core::Error::InvalidInput {
            path: "attachments".into(),
            reason: format!("the file could not be created ({})", e.kind()),
        })?;
        Ok(self
            .inner
            .write_attachment(&id, &attachment_id, &mut file)?)
    }

    /// How many bytes of uploaded and downloaded attachments this device keeps (files still
    /// to upload are never dropped); what is past it is dropped, least recently opened
    /// first, and fetched again when opened.
    pub fn set_attachment_cache_limit(&self, bytes: u64) -> Result<()> {
        Ok(self.inner.set_attachment_cache_limit(bytes)?)
    }

    /// Retracts an entry (`visits/<id>`...): it stays in the file, marked, with the reason.
    pub fn retract(&self, case_id: String, entry_path: String, reason: String) -> Result<()> {
        self.edit(&case_id, |d, a, now| {
            d.retract(a, now, &entry_path, &reason)
        })
    }

    /// Edits a narrative field: deletes `delete_count` characters at `position` and inserts
    /// `insert` (positions in Unicode scalar values).
    pub fn edit_text(
        &self,
        case_id: String,
        path: String,
        position: u64,
        delete_count: u64,
        insert: String,
    ) -> Result<()> {
        self.edit(&case_id, |d, a, now| {
            d.edit_text(
                a,
                now,
                &path,
                position as usize,
                delete_count as usize,
                &insert,
            )
        })
    }

    /// [`CaseStore::edit_text`] with positions in UTF-16 code units, as a Kotlin `String`
    /// or an Android `EditText` selection (and Swift's `NSRange`) count them; a position
    /// inside a character (between the halves of an emoji) is refused as invalid input.
    pub fn edit_text_utf16(
        &self,
        case_id: String,
        path: String,
        position: u64,
        delete_count: u64,
        insert: String,
    ) -> Result<()> {
        self.edit(&case_id, |d, a, now| {
            d.edit_text_utf16(
                a,
                now,
                &path,
                position as usize,
                delete_count as usize,
                &insert,
            )
        })
    }

    /// Sets any field of the schema to a JSON value, validated against the schema (for
    /// forms generated from the schema).
    pub fn set_field(&self, case_id: String, path: String, json_value: String) -> Result<()> {
        let value: serde_json::Value =
            serde_json::from_str(&json_value).map_err(|_| FieldcaseError::InvalidInput {
                path: path.clone(),
                reason: "the value is not JSON".into(),
            })?;
        if path == "client/area" {
            self.inner.check_area(value.as_str())?;
        }
        self.edit(&case_id, |d, a, now| d.set_field(a, now, &path, &value))
    }
}
