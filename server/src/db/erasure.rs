//! Erasure by destroying a case's data key (crypto-shredding, issue 18,
//! `docs/adr/0007-*`), written once over the rows each storage reads and writes
//! ([`ErasureRows`]).
//!
//! Erasing a case deletes, in one transaction, its wrapped data key and every row that
//! holds its content or facts about it: the sealed snapshot and changes, who is assigned,
//! departures, time marks, the ends of assignments and the partners' links. What stays is
//! a tombstone: the case id, its team, when, by whom and why; no content. The audit trail
//! and the administrative log keep their entries, which hold ids only.
//!
//! A tombstone keeps the id from being used again: the admission check refuses a new case
//! under it ([`fieldcase_core::RefusalKind::Erased`]), and so does the case write itself
//! ([`super::cases::store`]), whichever path the write comes by. Everywhere else an erased
//! case answers as one that never existed; phones that held it learn it at their next
//! sync (`POST /v1/cases/erased`) and remove it without handing anything in.

use fieldcase_core::CaseId;

use super::accounts::StorageError;
use crate::error::{AppError, AppResult, Problem};

/// The longest reason an erasure (or a request for one) may give, in characters.
pub const REASON_MAX_CHARS: usize = 500;

/// What stays of an erased case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tombstone {
    pub case_id: CaseId,
    /// The team the case belonged to (who may hear that it was erased).
    pub team: String,
    /// When (ms since the epoch).
    pub erased_at: i64,
    /// Who erased it (a user id, `admin-cli` for the command line, `retention` for the
    /// retention task).
    pub erased_by: String,
    /// Why, in the words of whoever erased it.
    pub reason: String,
}

/// A supervisor's request that a case be erased, and an admin's decision on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasureRequest {
    pub id: String,
    pub case_id: CaseId,
    pub team: String,
    pub requested_by: String,
    pub requested_at: i64,
    pub reason: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    /// `erased` or `refused`; `None` while it waits.
    pub decision: Option<String>,
}

/// An admin's decision to keep a closed case past its team's retention, until a day, with
/// a reason (issue 18: "listed for a decision"); the retention leaves it alone until then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionHold {
    pub case_id: CaseId,
    /// Kept until then (ms); listed or erased again after it.
    pub until: i64,
    pub by: String,
    pub reason: String,
    pub at: i64,
}

/// The rows each storage keeps.
pub trait ErasureRows {
    /// Keeps a case past its retention (replacing an earlier decision).
    fn hold_row(&self, hold: &RetentionHold) -> Result<(), StorageError>;
    /// Every decision to keep, the latest until first.
    fn hold_rows(&self) -> Result<Vec<RetentionHold>, StorageError>;
    /// Stores a new request; `false` when the case has an open request already.
    fn insert_request_row(&self, r: &ErasureRequest) -> Result<bool, StorageError>;
    /// Every request (or the open ones), the latest first.
    fn request_rows(&self, open_only: bool) -> Result<Vec<ErasureRequest>, StorageError>;
    /// Decides an open request (`erased` or `refused`); `None` when there is no such open
    /// request.
    fn decide_request_row(
        &self,
        id: &str,
        by: &str,
        decision: &str,
        now: i64,
    ) -> Result<Option<ErasureRequest>, StorageError>;
    /// In one transaction: deletes the case's row (its wrapped data key and sealed
    /// snapshot), its changes and every row about it but the audit trail's, and writes
    /// its tombstone. `None` when there is no such case (nothing written).
    fn erase_rows(
        &self,
        id: &[u8],
        by: &str,
        reason: &str,
        now: i64,
    ) -> Result<Option<Tombstone>, StorageError>;
    /// The tombstone of a case, if it was erased.
    fn tombstone_row(&self, id: &[u8]) -> Result<Option<Tombstone>, StorageError>;
    /// Every tombstone, the latest first.
    fn tombstone_rows(&self) -> Result<Vec<Tombstone>, StorageError>;
}

/// A reason, trimmed: 1 to [`REASON_MAX_CHARS`] characters, no control characters.
pub fn reason(text: &str) -> AppResult<&str> {
    let text = text.trim();
    let invalid = |message: String| {
        AppError::invalid(Problem::ReasonInvalid, message).with("max", REASON_MAX_CHARS.to_string())
    };
    if text.is_empty() || text.chars().count() > REASON_MAX_CHARS {
        return Err(invalid(format!(
            "a reason has 1 to {REASON_MAX_CHARS} characters"
        )));
    }
    if text.chars().any(char::is_control) {
        return Err(invalid(
            "a reason is one line of text, without control characters".into(),
        ));
    }
    Ok(text)
}

/// Erases a case ([`ErasureRows::erase_rows`]) after checking the reason: `NotFound` for a
/// case that does not exist, a conflict for one erased already.
pub fn erase(
    rows: &dyn ErasureRows,
    id: &CaseId,
    by: &str,
    why: &str,
    now: i64,
) -> AppResult<Tombstone> {
    let why = reason(why)?;
    let key = &id.as_bytes()[..];
    if let Some(t) = rows.tombstone_row(key)? {
        return Err(AppError::invalid(
            Problem::ErasedAlready,
            format!(
                "case {id} was erased already, at {}",
                fieldcase_core::case::rfc3339(t.erased_at)
            ),
        ));
    }
    rows.erase_rows(key, by, why, now)?
        .ok_or(AppError::NotFound)
}

/// The refusal of a write to an erased case.
pub fn refusal() -> fieldcase_core::Refusal {
    fieldcase_core::Refusal::new(
        fieldcase_core::RefusalKind::Erased,
        "this case was erased on the server; it is not kept again, and a phone removes it",
    )
}

/// The case id of a stored key.
pub(crate) fn case_id(key: &[u8]) -> Result<CaseId, StorageError> {
    super::cases::case_id_of(key)
        .ok_or_else(|| StorageError::Corrupt("a tombstone's case id".into()))
}

/// Records a supervisor's request that case `id` (of `team`) be erased: a conflict when
/// one waits already.
pub fn request(
    rows: &dyn ErasureRows,
    id: &CaseId,
    team: &str,
    by: &str,
    why: &str,
    now: i64,
) -> AppResult<ErasureRequest> {
    let r = ErasureRequest {
        id: crate::auth::new_id("er-"),
        case_id: *id,
        team: team.to_string(),
        requested_by: by.to_string(),
        requested_at: now,
        reason: reason(why)?.to_string(),
        decided_by: None,
        decided_at: None,
        decision: None,
    };
    if !rows.insert_request_row(&r)? {
        return Err(AppError::invalid(
            Problem::ErasureAskedAlready,
            "an erasure of this case was asked for already and waits for an admin",
        ));
    }
    Ok(r)
}
