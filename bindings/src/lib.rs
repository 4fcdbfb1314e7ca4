//! fieldcase-bindings: the fieldcase core for Android and iOS apps (and Python), through
//! uniffi proc-macros. A thin layer: every call forwards to [`fieldcase_core::CaseStore`];
//! the records in [`types`] mirror the core's, field for field, and convert through serde.
//!
//! Calls block (apps call from a background thread); one [`CaseStore`] may be shared by
//! several threads. Errors cross as one [`FieldcaseError`], whose variants differ where an
//! app reacts differently; their text never holds client data.
//!
//! Text positions in [`CaseStore::edit_text`] count Unicode scalar values (Python `str`
//! indices; Swift `unicodeScalars`); [`CaseStore::edit_text_utf16`] takes UTF-16 code
//! units, as Kotlin strings, Android text fields and `NSString` count them.

use std::sync::Arc;

use fieldcase_core as core;
use serde::de::DeserializeOwned;
use serde::Serialize;

pub mod types;

pub use types::*;

uniffi::setup_scaffolding!();

/// Everything a call can fail with. The text is ours: ids, field paths and reasons, never
/// client data.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum FieldcaseError {
    /// The key is not the key the store was created with.
    #[error("the store cannot be opened with this key")]
    WrongKey,
    /// The store file is damaged or was altered (`CaseStore.salvage` may rescue cases).
    #[error("the store is corrupt: {reason}")]
    Corrupt { reason: String },
    /// No such case or entry.
    #[error("not found: {what}")]
    NotFound { what: String },
    /// The input breaks the case schema or a rule of the case file.
    #[error("invalid input at `{path}`: {reason}")]
    InvalidInput { path: String, reason: String },
    /// A stage change the workflow does not allow.
    #[error("cannot move the case from {from:?} to {to:?}: {reason}")]
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
    /// The store was written by a newer version of the app (schema `found`, this app
    /// knows `known`): update the app.
    #[error("the store is from a newer app (schema {found}, this app knows {known})")]
    VersionConflict { found: i64, known: i64 },
    /// The device's storage failed (full, unavailable).
    #[error("storage: {reason}")]
    Storage { reason: String },
    /// A bug: please report it.
    #[error("internal error: {reason}")]
    Internal { reason: String },
}

impl From<core::Error> for FieldcaseError {
    fn from(e: core::Error) -> Self {
        use core::Error as E;
        let text = e.to_string();
        match e {
            E::WrongKey => FieldcaseError::WrongKey,
            E::Corrupt(reason) => FieldcaseError::Corrupt { reason },
            E::Automerge(_) => FieldcaseError::Corrupt { reason: text },
            E::NotFound(what) => FieldcaseError::NotFound { what },
            E::InvalidInput { path, reason } => FieldcaseError::InvalidInput { path, reason },
            E::InvalidTransition { from, to, reason } => FieldcaseError::InvalidTransition {
                from: convert(&from).unwrap_or_default(),
                to: convert(&to).unwrap_or_default(),
                reason,
            },
            E::Unauthorized(reason) => FieldcaseError::Unauthorized { reason },
            E::NoUser => FieldcaseError::NotSignedIn,
            E::Network(reason) => FieldcaseError::Network { reason },
            E::Wiped => FieldcaseError::Wiped,
            E::NewerStore { found, known } => FieldcaseError::VersionConflict { found, known },
            E::Sqlite(_) => FieldcaseError::Storage { reason: text },
            _ => FieldcaseError::Internal { reason: text },
        }
    }
}

type Result<T> = std::result::Result<T, FieldcaseError>;

/// Converts between a core type and its mirror (same field names, same serde shape).
fn convert<A: Serialize, B: DeserializeOwned>(a: &A) -> Result<B> {
    serde_json::to_value(a)
        .and_then(serde_json::from_value)
        .map_err(|e| FieldcaseError::Internal {
            reason: format!("a record did not convert: {e}"),
        })
}

fn case_id(id: &str) -> Result<core::CaseId> {
    id.parse().map_err(|_| FieldcaseError::NotFound {
        what: "case (malformed id)".into(),
    })
}

/// JSON values cross as JSON text.
pub(crate) mod json_text {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(crate) fn serialize<S: Serializer>(text: &str, s: S) -> Result<S::Ok, S::Error> {
        serde_json::from_str::<serde_json::Value>(text)
            .map_err(serde::ser::Error::custom)?
            .serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        Ok(serde_json::Value::deserialize(d)?.to_string())
    }
}

/// Optional JSON values cross as optional JSON text.
pub(crate) mod json_text_opt {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(crate) fn serialize<S: Serializer>(text: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
        text.as_deref()
            .map(serde_json::from_str::<serde_json::Value>)
            .transpose()
            .map_err(serde::ser::Error::custom)?
            .serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(Option::<serde_json::Value>::deserialize(d)?.map(|v| v.to_string()))
    }
}

/// What `login` returns.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Session {
    pub token: String,
    pub user_id: String,
    pub device_id: String,
    /// Milliseconds since the Unix epoch.
    pub expires_at: i64,
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
#[uniffi::export]
pub fn salvage(path: String, key: Vec<u8>) -> Result<Vec<SalvagedCase>> {
    let key = key32(&key)?;
    let found = core::CaseStore::salvage(path, &key)?;
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

fn key32(key: &[u8]) -> Result<[u8; 32]> {
    key.try_into().map_err(|_| FieldcaseError::InvalidInput {
        path: "key".into(),
        reason: "the device key has 32 bytes".into(),
    })
}

/// The encrypted case store on the phone.
#[derive(Debug, uniffi::Object)]
pub struct CaseStore {
    inner: core::CaseStore,
}

impl CaseStore {
    /// Runs a typed edit of one case and converts its answer.
    fn edit<T>(
        &self,
        case_id: &str,
        f: impl FnOnce(&mut core::CaseDoc, &core::Author, i64) -> core::Result<T>,
    ) -> Result<T> {
        Ok(self.inner.update(&self::case_id(case_id)?, f)?)
    }
}

#[uniffi::export]
impl CaseStore {
    /// Opens (or creates) the store at `path` with the 32-byte device key (keep it in the
    /// platform keystore).
    #[uniffi::constructor]
    pub fn open(path: String, key: Vec<u8>) -> Result<Arc<Self>> {
        let key = key32(&key)?;
        Ok(Arc::new(CaseStore {
            inner: core::CaseStore::open(path, &key)?,
        }))
    }

    /// This device's id (the server's, once signed in).
    pub fn device_id(&self) -> String {
        self.inner.device_id()
    }

    /// Trusts these certificate authorities (PEM) for the server, instead of the public
    /// web's (an agency's own server).
    pub fn set_trusted_roots(&self, pem: String) -> Result<()> {
        Ok(self.inner.set_trusted_roots(&pem)?)
    }

    /// Signs in on the server and registers this device and its actor.
    pub fn login(
        &self,
        server_url: String,
        username: String,
        password: String,
        device_name: String,
    ) -> Result<Session> {
        let s = self
            .inner
            .login(&server_url, &username, &password, &device_name)?;
        Ok(Session {
            token: s.token,
            user_id: s.user_id,
            device_id: s.device_id,
            expires_at: s.expires_at,
        })
    }

    /// Ends the session on the server and signs out here.
    pub fn logout(&self, server_url: String, token: String) -> Result<()> {
        Ok(self.inner.logout(&server_url, &token)?)
    }

    /// Brings the whole caseload up to date in both directions.
    pub fn sync(&self, server_url: String, token: String) -> Result<SyncReport> {
        convert(&self.inner.sync(&server_url, &token)?)
    }

    /// Opens a case (intake during a home visit); returns its id.
    pub fn create_case(&self, new_case: NewCase) -> Result<String> {
        Ok(self.inner.create_case(convert(&new_case)?)?.to_string())
    }

    /// The whole case file, typed.
    pub fn get_case(&self, case_id: String) -> Result<CaseFile> {
        convert(&self.inner.get_case(&self::case_id(&case_id)?)?)
    }

    /// The whole case file as JSON (schema `fieldcase/case/1`).
    pub fn case_json(&self, case_id: String) -> Result<String> {
        Ok(self.inner.case_json(&self::case_id(&case_id)?)?)
    }

    /// The caseload, filtered and sorted.
    pub fn list_cases(&self, filter: CaseFilter) -> Result<Vec<CaseSummary>> {
        convert(&self.inner.list_cases(&convert(&filter)?))
    }

    /// Cases whose client name matches, in any of our users' scripts.
    pub fn search(&self, query: String) -> Result<Vec<CaseSummary>> {
        convert(&self.inner.search(&query))
    }

    /// Every field holding concurrent values, with each value's author.
    pub fn conflicts(&self, case_id: String) -> Result<Vec<Conflict>> {
        convert(&self.inner.conflicts(&self::case_id(&case_id)?)?)
    }

    /// Who changed a field when, and to what.
    pub fn history(&self, case_id: String, path: String) -> Result<Vec<FieldChange>> {
        convert(&self.inner.history(&self::case_id(&case_id)?, &path)?)
    }

    /// A case as Automerge bytes (to hand to another store or the server).
    pub fn export_case(&self, case_id: String) -> Result<Vec<u8>> {
        Ok(self.inner.export_case(&self::case_id(&case_id)?)?)
    }

    /// Adds a case from Automerge bytes (checked against the schema); returns its id.
    pub fn import_case(&self, document: Vec<u8>) -> Result<String> {
        Ok(self.inner.import_case(&document)?.to_string())
    }

    /// Updates the client's identity and situation.
    pub fn update_client(&self, case_id: String, input: ClientInput) -> Result<()> {
        let input = convert(&input)?;
        self.edit(&case_id, |d, a, now| d.update_client(a, now, input))
    }

    /// Adds a contact of the client (with whether it is safe to use); returns its id.
    pub fn add_contact(&self, case_id: String, input: ContactInput) -> Result<String> {
        let input = convert(&input)?;
        self.edit(&case_id, |d, a, now| d.add_contact(a, now, input))
    }

    /// Adds a member of the client's household; returns its id.
    pub fn add_household_member(
        &self,
        case_id: String,
        input: HouseholdMemberInput,
    ) -> Result<String> {
        let input = convert(&input)?;
        self.edit(&case_id, |d, a, now| d.add_household_member(a, now, input))
    }

    /// Records the intake.
    pub fn record_intake(&self, case_id: String, input: IntakeInput) -> Result<()> {
        let input = convert(&input)?;
        self.edit(&case_id, |d, a, now| d.record_intake(a, now, input))
    }

    /// Records a consent; returns its id.
    pub fn record_consent(&self, case_id: String, input: ConsentInput) -> Result<String> {
        let input = convert(&input)?;
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
        let input = convert(&input)?;
        self.edit(&case_id, |d, a, now| d.add_assessment(a, now, input))
    }

    /// Adds a problem to the plan, with its need and goal; returns its id.
    pub fn add_problem(&self, case_id: String, input: ProblemInput) -> Result<String> {
        let input = convert(&input)?;
        self.edit(&case_id, |d, a, now| d.add_problem(a, now, input))
    }

    /// Updates a problem of the plan (its need, goal, target date, status, priority).
    pub fn update_problem(
        &self,
        case_id: String,
        problem_id: String,
        input: ProblemInput,
    ) -> Result<()> {
        let input = convert(&input)?;
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
        let input = convert(&input)?;
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
        let status = convert(&status)?;
        self.edit(&case_id, |d, a, now| {
            d.set_activity_status(a, now, &problem_id, &activity_id, status)
        })
    }

    /// Records the family's agreement to the plan.
    pub fn record_family_agreement(&self, case_id: String, input: AgreementInput) -> Result<()> {
        let input = convert(&input)?;
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

    /// Approves the plan (supervisors).
    pub fn approve_plan(&self, case_id: String, comment: String) -> Result<()> {
        self.edit(&case_id, |d, a, now| d.approve_plan(a, now, &comment))
    }

    /// Returns the plan to the worker with a comment (supervisors).
    pub fn return_plan(&self, case_id: String, comment: String) -> Result<()> {
        self.edit(&case_id, |d, a, now| d.return_plan(a, now, &comment))
    }

    /// Adds a referral to a partner organisation; returns its id.
    pub fn add_referral(&self, case_id: String, input: ReferralInput) -> Result<String> {
        let input = convert(&input)?;
        self.edit(&case_id, |d, a, now| d.add_referral(a, now, input))
    }

    /// Records what became of a referral: accepted, declined (with the partner's reason),
    /// completed (with its outcome).
    pub fn set_referral_status(
        &self,
        case_id: String,
        referral_id: String,
        status: ReferralStatus,
        reason: Option<String>,
        outcome: Option<String>,
    ) -> Result<()> {
        let status = convert(&status)?;
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
        let input = convert(&input)?;
        self.edit(&case_id, |d, a, now| d.add_visit(a, now, input))
    }

    /// Adds a follow-up to a visit (what was agreed, by whom, by when); returns its id.
    pub fn add_follow_up(
        &self,
        case_id: String,
        visit_id: String,
        input: FollowUpInput,
    ) -> Result<String> {
        let input = convert(&input)?;
        self.edit(&case_id, |d, a, now| {
            d.add_follow_up(a, now, &visit_id, input)
        })
    }

    /// Adds an appointment; returns its id.
    pub fn add_appointment(&self, case_id: String, input: AppointmentInput) -> Result<String> {
        let input = convert(&input)?;
        self.edit(&case_id, |d, a, now| d.add_appointment(a, now, input))
    }

    /// Records whether an appointment was kept, missed or rescheduled.
    pub fn set_appointment_status(
        &self,
        case_id: String,
        appointment_id: String,
        status: AppointmentStatus,
    ) -> Result<()> {
        let status = convert(&status)?;
        self.edit(&case_id, |d, a, now| {
            d.set_appointment_status(a, now, &appointment_id, status)
        })
    }

    /// Records a review; returns its id.
    pub fn add_review(&self, case_id: String, input: ReviewInput) -> Result<String> {
        let input = convert(&input)?;
        self.edit(&case_id, |d, a, now| d.add_review(a, now, input))
    }

    /// Asks to close the case (a supervisor approves); returns the closure's id.
    pub fn request_closure(&self, case_id: String, input: ClosureInput) -> Result<String> {
        let input = convert(&input)?;
        self.edit(&case_id, |d, a, now| d.request_closure(a, now, input))
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
        let to = convert(&to)?;
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
        self.edit(&case_id, |d, a, now| d.set_field(a, now, &path, &value))
    }
}
