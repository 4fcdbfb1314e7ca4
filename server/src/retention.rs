//! Retention of closed cases (issue 18): each team's setting says how long a closed case is
//! kept (days after its closure was approved) and what happens past it: it is erased
//! (`db::erasure`, by `retention`), or listed for a decision (an admin erases it with
//! `case erase`, or reopens it).
//!
//! The settings are `[retention]` (every team) and `[team_retention.<team>]` (one team's
//! own) in the configuration file; a team with neither keeps closed cases for ever.
//! [`review`] finds what is due; [`run`] erases what is due for erasure (at most
//! `max_erasures_per_pass` in one pass: the rest waits for the next); the server runs it
//! every `interval_minutes` ([`task`], which stops with the server), and the command line
//! runs it on demand (`case retention [--apply]`). Reading a case to learn its closure is
//! the server's own, not a person's: it is not on the audit trail.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use fieldcase_core::{CaseDoc, CaseId, Stage};
use serde::{Deserialize, Serialize};

use crate::db::erasure::Tombstone;
use crate::db::Db;
use crate::error::AppResult;
use crate::AppState;

/// Who erases a case past its retention (the tombstone's `erased_by`, the log's author).
pub const RETENTION_AUTHOR: &str = "retention";

/// The longest retention a setting may give, in days (a hundred years).
pub const MAX_DAYS: u32 = 36_500;

/// What happens to a closed case past its team's retention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Erased by the retention task.
    Erase,
    /// Listed for a decision (admins and supervisors see it in the console's report).
    List,
}

impl Action {
    pub fn code(self) -> &'static str {
        match self {
            Action::Erase => "erase",
            Action::List => "list",
        }
    }
}

/// One team's retention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Days after the closure's approval.
    pub closed_days: u32,
    pub action: Action,
}

/// The retention settings (`Config::retention`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Every team's, unless a team has its own; `None`: kept for ever.
    pub default: Option<Policy>,
    /// One team's own, by team name.
    pub teams: BTreeMap<String, Policy>,
    /// How often the server looks.
    pub interval: Duration,
    /// The most cases one pass erases; the rest wait for the next pass.
    pub max_erasures_per_pass: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            default: None,
            teams: BTreeMap::new(),
            interval: Duration::from_secs(3600),
            max_erasures_per_pass: 500,
        }
    }
}

impl Settings {
    /// A team's retention, if it has one.
    pub fn policy_of(&self, team: &str) -> Option<Policy> {
        self.teams.get(team).copied().or(self.default)
    }

    pub(crate) fn any(&self) -> bool {
        self.default.is_some() || !self.teams.is_empty()
    }
}

/// A closed case past its team's retention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub case_id: CaseId,
    pub team: String,
    /// When its closure was approved (ms).
    pub closed_at: i64,
    /// When its retention ended (ms).
    pub due_at: i64,
    pub action: Action,
}

/// What one pass found and did.
#[derive(Debug, Default, Clone)]
pub struct Pass {
    /// Erased now.
    pub erased: Vec<Tombstone>,
    /// Past retention, to be erased at a later pass (over the bound of this one, or not
    /// applied: `case retention` without `--apply`).
    pub to_erase: Vec<Due>,
    /// Past retention, waiting for a decision.
    pub listed: Vec<Due>,
}

/// When a case's closure in force was approved (ms), if the case is closed.
fn closed_at(bytes: &[u8]) -> Option<i64> {
    let (file, _) = CaseDoc::load(bytes).ok()?.outline().ok()?;
    if file.stage != Stage::Closed {
        return None;
    }
    crate::db::closed_at(&file)
}

const DAY_MS: i64 = 86_400_000;

/// Every closed case past its team's retention at `now`, the longest due first; a case an
/// admin decided to keep is left out until the day it was kept to.
///
/// The candidates come from the closure columns every case write keeps beside the case
/// ([`Db::closed_cases`]): only the cases closed longer ago than the shortest retention
/// are read, and of those only the ones past their own team's retention are opened, to
/// confirm their closure from the record itself before anything is listed or erased (the
/// document is what the columns were written from). Counted in
/// `fieldcase_case_documents_opened_total`.
pub fn review(db: &dyn Db, settings: &Settings, now: i64) -> AppResult<Vec<Due>> {
    let mut due = Vec::new();
    let Some(shortest) = settings
        .default
        .iter()
        .chain(settings.teams.values())
        .map(|p| p.closed_days)
        .min()
    else {
        return Ok(due);
    };
    // Cases an admin decided to keep, until when.
    let kept: std::collections::HashMap<CaseId, i64> = db
        .retention_holds()?
        .into_iter()
        .map(|h| (h.case_id, h.until))
        .collect();
    for case in db.closed_cases(now - i64::from(shortest) * DAY_MS)? {
        let Some(policy) = settings.policy_of(&case.team) else {
            continue;
        };
        let days = i64::from(policy.closed_days) * DAY_MS;
        if case.closed_at + days > now || kept.get(&case.id).is_some_and(|until| *until > now) {
            continue;
        }
        // A candidate: confirmed from the record (erased meanwhile: gone).
        let Some(bytes) = db.case_document(&case.id)? else {
            continue;
        };
        let Some(closed_at) = closed_at(&bytes) else {
            tracing::warn!(case = %case.id, "a case noted closed is not closed in its record; left alone");
            continue;
        };
        if closed_at != case.closed_at {
            tracing::warn!(case = %case.id, "a case's closure date differs from its record's; the record's counts");
        }
        let due_at = closed_at + days;
        if due_at <= now {
            due.push(Due {
                case_id: case.id,
                team: case.team,
                closed_at,
                due_at,
                action: policy.action,
            });
        }
    }
    due.sort_by_key(|d| (d.due_at, d.case_id));
    Ok(due)
}

/// One pass: what is due, and (with `apply`) erases what is due for erasure, at most
/// `settings.max_erasures_per_pass`. A case that cannot be erased (changed meanwhile,
/// erased by someone else) is left for the next pass.
pub fn run(db: &dyn Db, settings: &Settings, now: i64, apply: bool) -> AppResult<Pass> {
    let mut pass = Pass::default();
    for d in review(db, settings, now)? {
        match d.action {
            Action::List => pass.listed.push(d),
            Action::Erase if apply && pass.erased.len() < settings.max_erasures_per_pass => {
                let reason = format!(
                    "retention: closed on {}, kept {} days",
                    &fieldcase_core::case::rfc3339(d.closed_at)[..10],
                    (d.due_at - d.closed_at) / 86_400_000
                );
                match crate::admin::erase_case(db, &d.case_id, RETENTION_AUTHOR, &reason) {
                    Ok(t) => pass.erased.push(t),
                    Err(e) => {
                        tracing::warn!(case = %d.case_id, error = %e, "retention could not erase a case");
                        pass.to_erase.push(d);
                    }
                }
            }
            Action::Erase => pass.to_erase.push(d),
        }
    }
    Ok(pass)
}

/// The server's retention task: a pass every `interval`, the first one interval after the
/// start; stops when the server stops. Counted in `fieldcase_retention_runs_total`,
/// `fieldcase_cases_erased_total` and `fieldcase_retention_listed`.
pub(crate) async fn task(state: Arc<AppState>, mut stopping: tokio::sync::watch::Receiver<bool>) {
    let settings = state.config.retention.clone();
    if !settings.any() {
        return;
    }
    loop {
        tokio::select! {
            _ = tokio::time::sleep(settings.interval) => {}
            _ = stopping.wait_for(|s| *s) => return,
        }
        let db = state.db.clone();
        let s = settings.clone();
        let now = chrono::Utc::now().timestamp_millis();
        let pass = crate::db::blocking(&db, move |db| run(db, &s, now, true)).await;
        crate::Metrics::inc(&state.metrics.retention_runs);
        match pass {
            Ok(pass) => {
                for t in &pass.erased {
                    state.hub.forget(&t.case_id).await;
                    state.console.forget(&t.case_id);
                    state.matches.forget(&t.case_id);
                    crate::Metrics::inc(&state.metrics.cases_erased);
                }
                state.metrics.retention_listed.store(
                    pass.listed.len() as u64,
                    std::sync::atomic::Ordering::Relaxed,
                );
                if !pass.erased.is_empty() || !pass.listed.is_empty() {
                    tracing::info!(
                        erased = pass.erased.len(),
                        waiting = pass.to_erase.len(),
                        listed = pass.listed.len(),
                        "retention pass"
                    );
                }
            }
            Err(e) => tracing::error!(error = %e, "retention pass failed"),
        }
    }
}
