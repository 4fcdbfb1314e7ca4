//! Cancelling a sync or a login from another thread, hearing a sync's progress, and what a
//! sync did.

use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};

use crate::case::inspect::Count;
use crate::error::{Error, Result};
use crate::RefusalKind;

/// How far a sync got: cases whose changes were sent, cases that received changes, cases
/// done, out of the cases that had something to exchange (`total`; unchanged cases are
/// not counted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SyncProgress {
    pub sent: Count,
    pub received: Count,
    pub done: Count,
    pub total: Count,
}

/// Cancels a running sync (or login) from another thread, and hears a sync's progress.
#[derive(Default)]
pub struct SyncControl {
    cancelled: AtomicBool,
    #[allow(clippy::type_complexity)]
    progress: Option<Box<dyn Fn(SyncProgress) + Send + Sync>>,
}

impl std::fmt::Debug for SyncControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncControl")
            .field("cancelled", &self.is_cancelled())
            .finish_non_exhaustive()
    }
}

impl SyncControl {
    /// A control that reports progress to `progress` (called on the syncing thread).
    pub fn with_progress(progress: impl Fn(SyncProgress) + Send + Sync + 'static) -> Self {
        SyncControl {
            cancelled: AtomicBool::new(false),
            progress: Some(Box::new(progress)),
        }
    }

    /// Asks the sync (or login) to stop: it returns [`Error::Cancelled`] at its next step.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    pub(crate) fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::Cancelled)
        } else {
            Ok(())
        }
    }

    pub(crate) fn report(&self, p: SyncProgress) {
        if let Some(f) = &self.progress {
            f(p);
        }
    }
}

/// A case that could not be synced, and why (the reason is the server's or ours; it never
/// contains client data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CaseSyncError {
    pub case_id: String,
    pub reason: String,
    /// When the changes were refused (by the server, or by this phone's own admission
    /// check before sending them): the kind of rule they broke (the case is held back from
    /// later syncs, see `CaseStore::refused_cases`).
    #[serde(default)]
    pub refusal: Option<RefusalKind>,
}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SyncReport {
    /// Cases whose local changes were sent.
    pub sent: Count,
    /// Cases that received changes from the server.
    pub received: Count,
    /// Cases new on this device.
    pub new_cases: Count,
    /// Conflicts that appeared in the synced cases (a supervisor resolves them).
    pub new_conflicts: Count,
    /// Cases already up to date (skipped by comparing heads).
    pub unchanged: Count,
    /// Cases left out because they were refused earlier (see `CaseStore::refused_cases`).
    pub held_back: Count,
    /// Cases removed from this device because its user no longer sees them (transferred
    /// or unassigned), after the server received every change made here.
    pub removed: Count,
    pub errors: Vec<CaseSyncError>,
    /// Every case this sync changed on this device (received changes, new, removed), so
    /// that what shows them can refresh.
    #[serde(default)]
    pub changed: Vec<String>,
    /// Whether this sync brought a new partner directory.
    #[serde(default)]
    pub directory_updated: bool,
    /// The version of the partner directory held after this sync (0: none).
    #[serde(default)]
    pub directory_version: i64,
    /// Files attached on this phone that the server now holds whole.
    #[serde(default)]
    pub attachments_uploaded: Count,
}

impl SyncReport {
    /// Adds what a second pass of the same sync did (cases offered again once the other
    /// new cases were at the server): its counts of work done and its errors; what is
    /// unchanged or held back is as the second pass found it.
    pub(crate) fn merge_second_pass(&mut self, again: SyncReport) {
        self.sent += again.sent;
        self.received += again.received;
        self.new_cases += again.new_cases;
        self.new_conflicts += again.new_conflicts;
        self.removed += again.removed;
        self.held_back = again.held_back;
        self.errors.extend(again.errors);
        for c in again.changed {
            if !self.changed.contains(&c) {
                self.changed.push(c);
            }
        }
    }
}
