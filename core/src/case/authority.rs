//! Which changes need a supervisor. The typed API already refuses these actions to workers
//! on the phone; the server checks the merged result again, since a phone can run any code.

use crate::case::model::{ApprovalStatus, CaseFile, ClosureStatus};
use crate::case::Role;

/// The first authority rule that `after` breaks relative to `before` for a user with
/// `role`, if any. The reason is ours (no client data).
pub fn violation(before: &CaseFile, after: &CaseFile, role: Role) -> Option<&'static str> {
    if role.has_authority() {
        return None;
    }
    if before.team != after.team {
        return Some("only a supervisor moves a case to another team");
    }
    if before.assigned != after.assigned || before.case_manager != after.case_manager {
        return Some("only a supervisor assigns a case");
    }
    if before.sensitivity.as_deref() == Some("restricted")
        && after.sensitivity.as_deref() != Some("restricted")
    {
        return Some("only a supervisor lifts a restriction");
    }
    let decided = |s: Option<ApprovalStatus>| {
        matches!(s, Some(ApprovalStatus::Approved | ApprovalStatus::Returned))
    };
    if before.plan.approval != after.plan.approval && decided(after.plan.approval.status) {
        return Some("only a supervisor approves or returns a plan");
    }
    for c in &after.closures {
        let was = before.closures.iter().find(|b| b.id == c.id);
        let decided_now = matches!(
            c.status,
            Some(ClosureStatus::Approved | ClosureStatus::Returned)
        ) && was.is_none_or(|b| b.status != c.status);
        if decided_now {
            return Some("only a supervisor approves or returns a closure");
        }
    }
    if after.stage == crate::case::Stage::Closed
        && before.stage != crate::case::Stage::Closed
        && after.current_closure().is_none()
    {
        return Some("a case is closed only by an approved closure");
    }
    None
}

/// Whether a case a user sends for the first time may be created by them: it belongs to
/// their team and (for a worker) is assigned to them.
pub fn may_create(
    file: &CaseFile,
    user_id: &str,
    team: Option<&str>,
    role: Role,
) -> Result<(), &'static str> {
    if file.team.as_deref() != team && role != Role::Admin {
        return Err("a new case must belong to the sender's team");
    }
    if role == Role::Worker && !file.assigned.iter().any(|u| u == user_id) {
        return Err("a new case must be assigned to the worker who opens it");
    }
    Ok(())
}
