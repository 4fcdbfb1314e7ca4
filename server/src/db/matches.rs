//! Possible duplicates across the agency (issue 19): the pairs of cases whose clients the
//! core matcher ([`fieldcase_core::matching`]) found may be one person, written once over
//! the rows each storage reads and writes ([`MatchRows`]).
//!
//! A pair is stored once, its two case ids in byte order, with the score, band and
//! reasons (codes and numbers, never client data) of the check that found it, and what a
//! supervisor decided: `open` until one confirms the same person (one case closed as a
//! duplicate of the other) or dismisses it. A pair is never inserted again once stored, so
//! a dismissed match is never proposed again.

use fieldcase_core::matching::{MatchBand, MatchReason, MatchStatus};
use fieldcase_core::CaseId;

use super::accounts::StorageError;
use crate::error::{AppError, AppResult};

/// The most matches of one case read back (the matcher stores at most
/// [`fieldcase_core::matching::MAX_MATCHES`] per check; a case may be found again by later
/// checks of other cases).
pub const MAX_MATCHES_PER_CASE: usize = 100;

/// A pair as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchRow {
    /// The pair's own id (random): what the console's forms name, so that a page never
    /// holds the id of a case its reader may not see.
    pub id: String,
    /// The lower of the two ids (by bytes).
    pub a: CaseId,
    pub b: CaseId,
    pub score: u32,
    pub band: MatchBand,
    pub reasons: Vec<MatchReason>,
    pub status: MatchStatus,
    /// The case whose arrival found the pair.
    pub found_for: CaseId,
    pub found_at: i64,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
}

impl MatchRow {
    /// A new open pair, its ids put in order.
    pub fn found(
        new: CaseId,
        existing: CaseId,
        score: u32,
        band: MatchBand,
        reasons: Vec<MatchReason>,
        now: i64,
    ) -> Self {
        let (a, b) = ordered(new, existing);
        MatchRow {
            id: crate::auth::new_id("m-"),
            a,
            b,
            score,
            band,
            reasons,
            status: MatchStatus::Open,
            found_for: new,
            found_at: now,
            decided_by: None,
            decided_at: None,
        }
    }

    /// The other case of the pair, seen from `id`.
    pub fn other(&self, id: &CaseId) -> CaseId {
        if &self.a == id {
            self.b
        } else {
            self.a
        }
    }

    /// The band as stored.
    pub fn band_code(&self) -> &'static str {
        match self.band {
            MatchBand::Likely => "likely",
            MatchBand::Possible => "possible",
        }
    }

    /// The reasons as stored (JSON of their codes and numbers).
    pub fn reasons_json(&self) -> String {
        serde_json::to_string(&self.reasons).unwrap_or_else(|_| "[]".into())
    }
}

/// Two ids in byte order.
pub fn ordered(x: CaseId, y: CaseId) -> (CaseId, CaseId) {
    if x.as_bytes() <= y.as_bytes() {
        (x, y)
    } else {
        (y, x)
    }
}

/// A row's stored columns read back: the texts checked.
#[derive(Debug)]
pub struct StoredColumns {
    pub id: String,
    pub a: Vec<u8>,
    pub b: Vec<u8>,
    pub score: i64,
    pub band: String,
    pub reasons: String,
    pub status: String,
    pub found_for: Vec<u8>,
    pub found_at: i64,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
}

/// The columns every storage selects, in [`StoredColumns`] order.
pub const MATCH_COLUMNS: &str =
    "id, case_a, case_b, score, band, reasons, status, found_for, found_at, decided_by, decided_at";

fn id(bytes: &[u8]) -> Result<CaseId, StorageError> {
    <[u8; 16]>::try_from(bytes)
        .map(CaseId::from_bytes)
        .map_err(|_| StorageError::Corrupt("a stored match's case id is not 16 bytes".into()))
}

impl StoredColumns {
    pub fn row(self) -> Result<MatchRow, StorageError> {
        let bad = |what: &str| StorageError::Corrupt(format!("a stored match's {what}"));
        Ok(MatchRow {
            id: self.id,
            a: id(&self.a)?,
            b: id(&self.b)?,
            score: u32::try_from(self.score).map_err(|_| bad("score"))?,
            band: match self.band.as_str() {
                "likely" => MatchBand::Likely,
                "possible" => MatchBand::Possible,
                _ => return Err(bad("band")),
            },
            reasons: serde_json::from_str(&self.reasons).map_err(|_| bad("reasons"))?,
            status: MatchStatus::from_code(&self.status).ok_or_else(|| bad("status"))?,
            found_for: id(&self.found_for)?,
            found_at: self.found_at,
            decided_by: self.decided_by,
            decided_at: self.decided_at,
        })
    }
}

/// The rows each storage keeps.
pub trait MatchRows {
    /// Inserts the pair unless it is stored already (whatever its status); `true` when it
    /// was new.
    fn insert_match_row(&self, row: &MatchRow) -> Result<bool, StorageError>;
    /// The pairs holding `case`, best first, at most `limit`.
    fn match_rows_of_case(&self, case: &[u8], limit: usize) -> Result<Vec<MatchRow>, StorageError>;
    /// The open pairs, newest first, at most `limit`.
    fn open_match_rows(&self, limit: usize) -> Result<Vec<MatchRow>, StorageError>;
    /// Sets an open pair's status; `false` when there is no such open pair.
    fn decide_match_row(
        &self,
        a: &[u8],
        b: &[u8],
        status: &str,
        by: &str,
        now: i64,
    ) -> Result<bool, StorageError>;
}

/// Stores the pairs a check found; answers how many were new.
pub fn record<R: MatchRows>(rows: &R, found: &[MatchRow]) -> AppResult<usize> {
    let mut new = 0;
    for r in found {
        if r.a == r.b {
            return Err(AppError::Internal("a case matched with itself".into()));
        }
        if rows.insert_match_row(r)? {
            new += 1;
        }
    }
    Ok(new)
}

/// A supervisor's decision on an open pair: `Confirmed` or `Dismissed`.
pub fn decide<R: MatchRows>(
    rows: &R,
    x: &CaseId,
    y: &CaseId,
    status: MatchStatus,
    by: &str,
    now: i64,
) -> AppResult<bool> {
    if status == MatchStatus::Open {
        return Err(AppError::BadRequest(
            "a match is confirmed or dismissed".into(),
        ));
    }
    let (a, b) = ordered(*x, *y);
    Ok(rows.decide_match_row(a.as_bytes(), b.as_bytes(), status.code(), by, now)?)
}
