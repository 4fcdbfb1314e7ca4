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

/// The action fields (written by the core only) that name the user who made an entry or a
/// decision: a change may write only its own user's id into them.
pub const AUTHOR_FIELDS: &[&str] = &[
    "created_by",
    "recorded_by",
    "requested_by",
    "decided_by",
    "reopened_by",
];

/// The action fields that hold the time of an entry or a decision: the core writes the
/// time of the change itself into them.
pub const TIME_FIELDS: &[&str] = &[
    "created_at",
    "recorded_at",
    "requested_at",
    "decided_at",
    "reopened_at",
];

/// How far an action's recorded time may lie from the time of the change that writes it
/// (the core writes both from one clock reading).
pub const STAMP_TOLERANCE_MS: i64 = 60_000;

/// The first rule that the operations of `changes` (all made by `user_id`) break in the
/// fields that say who did something and when, if any: an author field (or a retraction's
/// `by`) naming another user, or a time field (or a retraction's `at`) that is not the
/// change's own time. The reason is ours (no client data).
pub fn stamp_violation(
    doc: &automerge::Automerge,
    changes: &[automerge::Change],
    user_id: &str,
) -> Option<&'static str> {
    use automerge::legacy::{Key, OpType};
    use automerge::{ReadDoc, ScalarValue};
    // `by` and `at` are stamps inside a retraction only (elsewhere a family member's name
    // and an appointment's time).
    let in_retraction = |obj: &automerge::legacy::ObjectId| {
        doc.import(&obj.to_string())
            .ok()
            .and_then(|(id, _)| doc.parents(id).ok()?.next())
            .is_some_and(|p| matches!(p.prop, automerge::Prop::Map(k) if k == "retracted"))
    };
    for change in changes {
        let own_ms = change.timestamp().saturating_mul(1000);
        for op in change.decode().operations {
            let (Key::Map(key), OpType::Put(value)) = (&op.key, &op.action) else {
                continue;
            };
            let key = key.as_str();
            let retraction = (key == "by" || key == "at") && in_retraction(&op.obj);
            if AUTHOR_FIELDS.contains(&key) || (key == "by" && retraction) {
                if !matches!(value, ScalarValue::Str(s) if s.as_str() == user_id) {
                    return Some("these changes record another user as the author of an entry");
                }
            } else if TIME_FIELDS.contains(&key) || (key == "at" && retraction) {
                let at = match value {
                    ScalarValue::Str(s) => chrono::DateTime::parse_from_rfc3339(s)
                        .ok()
                        .map(|t| t.timestamp_millis()),
                    _ => None,
                };
                if at.is_none_or(|at| (at - own_ms).abs() > STAMP_TOLERANCE_MS + 999) {
                    return Some("these changes record a time other than their own");
                }
            }
        }
    }
    None
}

/// For a case arriving for the first time: the first rule its own history breaks that a
/// change to an existing case could not break either. Its id is set once, when it is
/// opened (a copy of another case under a new id is refused), and a worker does not lift
/// a restriction on the way.
pub fn new_case_history_violation(
    changes: &[automerge::Change],
    role: Role,
) -> Option<&'static str> {
    use automerge::legacy::{Key, ObjectId, OpType};
    use automerge::ScalarValue;
    let mut ids = 0;
    let mut restricted = false;
    for change in changes {
        for op in change.decode().operations {
            if op.obj != ObjectId::Root {
                continue;
            }
            let Key::Map(key) = &op.key else { continue };
            match (key.as_str(), &op.action) {
                ("id", OpType::Put(_) | OpType::Delete) => ids += 1,
                ("sensitivity", OpType::Put(ScalarValue::Str(s))) => {
                    if s.as_str() == "restricted" {
                        restricted = true;
                    } else if restricted && !role.has_authority() {
                        return Some("only a supervisor lifts a restriction");
                    }
                }
                ("sensitivity", OpType::Delete) if restricted && !role.has_authority() => {
                    return Some("only a supervisor lifts a restriction");
                }
                _ => {}
            }
        }
    }
    if ids > 1 {
        return Some("a case's id is set once, when it is opened");
    }
    None
}

/// The change messages of the typed edits that need a supervisor: the console shows a
/// change's message as what it did, so a worker's change may not carry one of them.
pub const AUTHORITY_MESSAGES: &[&str] = &[
    "approve plan",
    "return plan",
    "approve closure",
    "return closure",
    "assign",
];

/// Whether `changes` made by a user with `role` carry a message that names an action
/// needing a supervisor.
pub fn claims_authority(changes: &[automerge::Change], role: Role) -> bool {
    !role.has_authority()
        && changes
            .iter()
            .any(|c| c.message().is_some_and(|m| AUTHORITY_MESSAGES.contains(&m)))
}
