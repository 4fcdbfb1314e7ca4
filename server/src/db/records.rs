//! What the server notes beside the cases, with its rules once for every storage: the audit
//! trail of every read of a case (who, on which device, what, when; ids only), each entry
//! chained to the one before by a hash so that a changed or removed entry is found
//! ([`verify_audit`]), and the log of administrative actions (newest first, ids only), a device's one departure from a case (claimed once, given back when its changes
//! could not be stored), when a user's assignment to a case ended, and the login
//! throttles (a count in a window that starts at its first event; a window past is counted
//! as none, and one long past is forgotten).
//!
//! Each storage only reads and writes rows ([`RecordRows`]) and fails with a
//! [`StorageError`].

use super::accounts::StorageError;
use super::cases::case_id_of;
use super::{AdminEntry, AuditEntry};
use fieldcase_core::CaseId;

/// A throttle's window: how many events it holds and when it started (ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub count: i64,
    pub start: i64,
}

/// How a throttle's window changes, given what is stored (`None`: nothing); `None` back
/// leaves the row as it is. Runs while the storage holds the key's row.
pub type WindowChange = Box<dyn FnOnce(Option<Window>) -> Option<Window> + Send>;

/// An audit row: when, who, on which device, the case's key, what.
pub type AuditRow = (i64, String, String, Vec<u8>, String);

/// An audit row as the chain holds it, in the order written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainRow {
    /// Its place in the order entries were written.
    pub id: i64,
    pub at: i64,
    pub user_id: String,
    pub device: String,
    pub case: Vec<u8>,
    pub action: String,
    /// Its link ([`audit_link`]); `None` for entries written before the chain began.
    pub hash: Option<Vec<u8>>,
}

/// Audit entries alike but for their case, to be linked in order (one call's, waiting to be
/// written with others in one transaction: a read recorded by every case synced must not
/// wait for its own flush to disk behind every other's).
#[derive(Debug, Clone)]
pub(crate) struct AuditEntries {
    pub at: i64,
    pub user_id: String,
    pub device: String,
    pub cases: Vec<Vec<u8>>,
    pub action: String,
}

impl AuditEntries {
    pub(crate) fn new(at: i64, user_id: &str, device: &str, cases: &[&[u8]], action: &str) -> Self {
        AuditEntries {
            at,
            user_id: user_id.to_string(),
            device: device.to_string(),
            cases: cases.iter().map(|c| c.to_vec()).collect(),
            action: action.to_string(),
        }
    }
}

/// The link of an audit entry: SHA-256 over a label, the link before it (empty for the
/// first) and each of its fields, length-prefixed so no two entries read alike.
pub fn audit_link(
    prev: &[u8],
    at: i64,
    user_id: &str,
    device: &str,
    case: &[u8],
    action: &str,
) -> Vec<u8> {
    let mut h = ring::digest::Context::new(&ring::digest::SHA256);
    h.update(b"fieldcase audit v1");
    for field in [
        prev,
        &at.to_be_bytes()[..],
        user_id.as_bytes(),
        device.as_bytes(),
        case,
        action.as_bytes(),
    ] {
        h.update(&u64::try_from(field.len()).unwrap_or(u64::MAX).to_be_bytes());
        h.update(field);
    }
    h.finish().as_ref().to_vec()
}

/// What [`verify_audit`] found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditCheck {
    /// Entries read.
    pub entries: u64,
    /// Entries written before the chain began (by an earlier version): not covered.
    pub before_chain: u64,
    /// The first entry that does not follow from the one before: changed, or the one
    /// before it removed (its place in the written order and its time).
    pub broken: Option<(i64, i64)>,
}

/// How many audit rows [`verify_audit`] reads at a time.
const VERIFY_PAGE: i64 = 10_000;

/// The rows of the server's records; each storage implements them.
pub trait RecordRows {
    /// Appends an audit entry, linked ([`audit_link`]) to the last entry of the chain, in
    /// one transaction that holds the chain against every other writer (other server
    /// instances too).
    /// Several entries alike but for their case (a list, a report's rows) go in one
    /// transaction, each linked to the one before.
    fn insert_audit(
        &self,
        at: i64,
        user_id: &str,
        device: &str,
        cases: &[&[u8]],
        action: &str,
    ) -> Result<(), StorageError>;
    /// The latest audit rows (at, user, device, case key, action), of one case or of all,
    /// newest first (ties: the later written first).
    fn audit_rows(&self, case: Option<&[u8]>, limit: i64) -> Result<Vec<AuditRow>, StorageError>;
    /// Audit rows in the order written, from after `after` (a row's id), at most `limit`.
    fn audit_chain_rows(&self, after: i64, limit: i64) -> Result<Vec<ChainRow>, StorageError>;
    fn insert_admin_entry(&self, entry: &AdminEntry) -> Result<(), StorageError>;
    /// The latest administrative actions, newest first (ties: the later written first).
    fn admin_rows(&self, limit: i64) -> Result<Vec<AdminEntry>, StorageError>;
    /// Whether a departure of `device` from the case is stored.
    fn departure_row(&self, case: &[u8], device: &str) -> Result<bool, StorageError>;
    /// Stores the departure unless one is stored (by anyone): whether this one was.
    fn insert_departure(
        &self,
        case: &[u8],
        device: &str,
        changes: i64,
        at: i64,
    ) -> Result<bool, StorageError>;
    fn delete_departure(&self, case: &[u8], device: &str) -> Result<(), StorageError>;
    /// When the assignment of `user_id` to the case last ended, if that is noted.
    fn assignment_end_row(&self, case: &[u8], user_id: &str) -> Result<Option<i64>, StorageError>;
    /// The stored window of `key`.
    fn throttle_row(&self, key: &str) -> Result<Option<Window>, StorageError>;
    /// Forgets the windows (of any key) that started before `forget_before`, then, in one
    /// transaction that holds `key` against every other writer (other server instances
    /// too), stores what `change` makes of the key's window; answers what is stored after.
    fn change_throttle(
        &self,
        key: &str,
        forget_before: Option<i64>,
        change: WindowChange,
    ) -> Result<Option<Window>, StorageError>;
    fn delete_throttle(&self, key: &str) -> Result<(), StorageError>;
}

/// Records that `user_id`, on `device`, read or was sent a case (`action` says how).
pub fn audit(
    rows: &dyn RecordRows,
    user_id: &str,
    device: &str,
    case: &CaseId,
    action: &str,
    now: i64,
) -> Result<(), StorageError> {
    rows.insert_audit(now, user_id, device, &[&case.as_bytes()[..]], action)
}

/// Records that `user_id`, on `device`, read each of `cases` at once (a list, the rows of a
/// report): one entry per case, written together.
pub fn audit_cases(
    rows: &dyn RecordRows,
    user_id: &str,
    device: &str,
    cases: &[CaseId],
    action: &str,
    now: i64,
) -> Result<(), StorageError> {
    if cases.is_empty() {
        return Ok(());
    }
    let keys: Vec<&[u8]> = cases.iter().map(|c| &c.as_bytes()[..]).collect();
    rows.insert_audit(now, user_id, device, &keys, action)
}

/// The latest audit entries, newest first (a row whose key is not a case id is passed
/// over).
pub fn audit_trail(
    rows: &dyn RecordRows,
    case: Option<&CaseId>,
    limit: usize,
) -> Result<Vec<AuditEntry>, StorageError> {
    let key = case.map(|c| c.as_bytes().to_vec());
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    Ok(rows
        .audit_rows(key.as_deref(), limit)?
        .into_iter()
        .filter_map(|(at, user_id, device, case, action)| {
            Some(AuditEntry {
                at,
                user_id,
                device,
                case_id: case_id_of(&case)?.to_string(),
                action,
            })
        })
        .collect())
}

/// Reads the whole audit trail in the order written and checks that each entry follows
/// from the one before. Entries before the chain began (written by an earlier version)
/// are counted, not checked; once the chain began, an entry without its link is broken.
/// Removing the newest entries leaves a chain that still holds: an operator compares the
/// count with an earlier check's.
pub fn verify_audit(rows: &dyn RecordRows) -> Result<AuditCheck, StorageError> {
    let mut check = AuditCheck {
        entries: 0,
        before_chain: 0,
        broken: None,
    };
    let mut prev: Option<Vec<u8>> = None;
    let mut after = 0;
    loop {
        let page = rows.audit_chain_rows(after, VERIFY_PAGE)?;
        let Some(last) = page.last() else {
            return Ok(check);
        };
        after = last.id;
        for r in page {
            check.entries += 1;
            match (&r.hash, &prev) {
                (None, None) => check.before_chain += 1,
                (None, Some(_)) => {
                    check.broken = Some((r.id, r.at));
                    return Ok(check);
                }
                (Some(hash), _) => {
                    let p = prev.as_deref().unwrap_or_default();
                    if audit_link(p, r.at, &r.user_id, &r.device, &r.case, &r.action) != *hash {
                        check.broken = Some((r.id, r.at));
                        return Ok(check);
                    }
                    prev = Some(hash.clone());
                }
            }
        }
    }
}

/// The latest administrative actions, newest first.
pub fn admin_log(rows: &dyn RecordRows, limit: usize) -> Result<Vec<AdminEntry>, StorageError> {
    rows.admin_rows(i64::try_from(limit).unwrap_or(i64::MAX))
}

/// Whether `device` handed in its last changes to the case.
pub fn departed(rows: &dyn RecordRows, case: &CaseId, device: &str) -> Result<bool, StorageError> {
    rows.departure_row(&case.as_bytes()[..], device)
}

/// Claims the one departure of `device` from the case: `false` when it was claimed.
pub fn record_departure(
    rows: &dyn RecordRows,
    case: &CaseId,
    device: &str,
    changes: usize,
    now: i64,
) -> Result<bool, StorageError> {
    let changes = i64::try_from(changes).unwrap_or(i64::MAX);
    rows.insert_departure(&case.as_bytes()[..], device, changes, now)
}

/// Gives back a claimed departure.
pub fn forget_departure(
    rows: &dyn RecordRows,
    case: &CaseId,
    device: &str,
) -> Result<(), StorageError> {
    rows.delete_departure(&case.as_bytes()[..], device)
}

/// When `user_id` was last unassigned from the case, if they are not assigned now.
pub fn assignment_ended(
    rows: &dyn RecordRows,
    case: &CaseId,
    user_id: &str,
) -> Result<Option<i64>, StorageError> {
    rows.assignment_end_row(&case.as_bytes()[..], user_id)
}

/// The events a window holds at `now`: none once it has passed.
pub fn counted(window: Option<Window>, now: i64, window_ms: i64) -> u32 {
    match window {
        Some(w) if now - w.start < window_ms => u32::try_from(w.count).unwrap_or(u32::MAX),
        _ => 0,
    }
}

/// A window with one more event at `now`: a new window when there is none or it passed.
pub fn hit(window: Option<Window>, now: i64, window_ms: i64) -> Window {
    match window {
        Some(w) if now - w.start < window_ms => Window {
            count: w.count + 1,
            start: w.start,
        },
        _ => Window {
            count: 1,
            start: now,
        },
    }
}

/// Counts one more event under `key` within its window (windows that started two windows
/// ago or earlier, of any key, are forgotten); returns the count.
pub fn throttle_hit(
    rows: &dyn RecordRows,
    key: &str,
    now: i64,
    window_ms: i64,
) -> Result<u32, StorageError> {
    let change: WindowChange = Box::new(move |w| Some(hit(w, now, window_ms)));
    let stored = rows.change_throttle(key, Some(now - 2 * window_ms), change)?;
    Ok(stored.map_or(0, |w| u32::try_from(w.count).unwrap_or(u32::MAX)))
}

/// The events under `key` within its window.
pub fn throttle_count(
    rows: &dyn RecordRows,
    key: &str,
    now: i64,
    window_ms: i64,
) -> Result<u32, StorageError> {
    Ok(counted(rows.throttle_row(key)?, now, window_ms))
}

/// Takes back one event under `key` (never below none; no window is started).
pub fn throttle_forgive(rows: &dyn RecordRows, key: &str) -> Result<(), StorageError> {
    let change: WindowChange = Box::new(|w| {
        w.map(|w| Window {
            count: (w.count - 1).max(0),
            start: w.start,
        })
    });
    rows.change_throttle(key, None, change).map(|_| ())
}

/// Forgets the events under `key`.
pub fn throttle_clear(rows: &dyn RecordRows, key: &str) -> Result<(), StorageError> {
    rows.delete_throttle(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_counts_from_its_first_event_and_passes() {
        let w = hit(None, 1_000, 100);
        assert_eq!(
            w,
            Window {
                count: 1,
                start: 1_000
            }
        );
        let w = hit(Some(w), 1_099, 100);
        assert_eq!(
            w,
            Window {
                count: 2,
                start: 1_000
            }
        );
        assert_eq!(counted(Some(w), 1_099, 100), 2);
        assert_eq!(counted(Some(w), 1_100, 100), 0, "passed");
        assert_eq!(
            hit(Some(w), 1_100, 100),
            Window {
                count: 1,
                start: 1_100
            }
        );
        assert_eq!(counted(None, 0, 100), 0);
    }
}
