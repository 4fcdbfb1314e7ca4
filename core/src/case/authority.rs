//! Which changes need a supervisor. The typed API already refuses these actions to workers
//! on the phone; the server checks the merged result again, since a phone can run any code.

use crate::case::model::{ApprovalStatus, CaseFile, ClosureStatus, Sensitivity, SupervisionKind};
use crate::case::Role;
use crate::refusal::{Refusal, RefusalKind};

fn needs_authority(message: &str) -> Option<Refusal> {
    Some(Refusal::new(RefusalKind::NeedsAuthority, message))
}

/// The first authority rule that `after` breaks relative to `before` for a user with
/// `role`, if any (of kind [`RefusalKind::NeedsAuthority`]). The reason is ours (no client
/// data).
pub fn violation(before: &CaseFile, after: &CaseFile, role: Role) -> Option<Refusal> {
    // An approved version of the plan is what was approved: nobody changes or removes it.
    // Only an outside authority's decision that came later may be added, once, by a
    // supervisor.
    for b in &before.plan.versions {
        let Some(a) = after.plan.versions.iter().find(|v| v.id == b.id) else {
            return needs_authority("an approved version of the plan is never removed");
        };
        let added_once = |was: &Option<String>, now: &Option<String>| {
            was == now || (was.is_none() && role.has_authority())
        };
        let rest_same = crate::case::PlanVersion {
            authority: None,
            decision_number: None,
            decision_date: None,
            ..a.clone()
        } == crate::case::PlanVersion {
            authority: None,
            decision_number: None,
            decision_date: None,
            ..b.clone()
        };
        if !(rest_same
            && added_once(&b.authority, &a.authority)
            && added_once(&b.decision_number, &a.decision_number)
            && added_once(&b.decision_date, &a.decision_date))
        {
            return needs_authority("an approved version of the plan is never changed");
        }
    }
    if role.has_authority() {
        return None;
    }
    if let Some(refusal) = review_violation(&before.supervision, &after.supervision, role) {
        return Some(refusal);
    }
    if after.plan.versions.len() != before.plan.versions.len() {
        return needs_authority("only a supervisor approves a plan");
    }
    if before.team != after.team {
        return needs_authority("only a supervisor moves a case to another team");
    }
    if before.assigned != after.assigned || before.case_manager != after.case_manager {
        return needs_authority("only a supervisor assigns a case");
    }
    let restricts = |s: Option<Sensitivity>| s.is_some_and(Sensitivity::restricts);
    if restricts(before.sensitivity) && !restricts(after.sensitivity) {
        return needs_authority("only a supervisor lifts a restriction");
    }
    let decided = |s: Option<ApprovalStatus>| {
        matches!(s, Some(ApprovalStatus::Approved | ApprovalStatus::Returned))
    };
    if before.plan.approval != after.plan.approval && decided(after.plan.approval.status) {
        return needs_authority("only a supervisor approves or returns a plan");
    }
    for c in &after.closures {
        let was = before.closures.iter().find(|b| b.id == c.id);
        let decided_now = matches!(
            c.status,
            Some(ClosureStatus::Approved | ClosureStatus::Returned)
        ) && was.is_none_or(|b| b.status != c.status);
        if decided_now {
            return needs_authority("only a supervisor approves or returns a closure");
        }
        // A decision, once made, is the supervisor's words: unchanged by anyone else.
        if let Some(b) = was.filter(|b| {
            matches!(
                b.status,
                Some(ClosureStatus::Approved | ClosureStatus::Returned)
            )
        }) {
            if (&b.status, &b.decided_at, &b.decided_by, &b.comment)
                != (&c.status, &c.decided_at, &c.decided_by, &c.comment)
            {
                return needs_authority("only a supervisor changes a closure's decision");
            }
        }
    }
    if after.stage == crate::case::Stage::Closed
        && before.stage != crate::case::Stage::Closed
        && after.current_closure().is_none()
    {
        return needs_authority("a case is closed only by an approved closure");
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
) -> Result<(), Refusal> {
    if file.team.as_deref() != team && role != Role::Admin {
        return Err(Refusal::new(
            RefusalKind::Team,
            "a new case must belong to the sender's team",
        ));
    }
    if role == Role::Worker && !file.assigned.iter().any(|u| u == user_id) {
        return Err(Refusal::new(
            RefusalKind::Assignment,
            "a new case must be assigned to the worker who opens it",
        ));
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
    "safety_secured_by",
];

/// The action fields that hold the time of an entry or a decision: the core writes the
/// time of the change itself into them.
pub const TIME_FIELDS: &[&str] = &[
    "created_at",
    "recorded_at",
    "requested_at",
    "decided_at",
    "reopened_at",
    "safety_secured_at",
];

/// How far an action's recorded time may lie from the time of the change that writes it
/// (the core writes both from one clock reading).
pub const STAMP_TOLERANCE_MS: i64 = 60_000;

/// The first rule that the operations of `changes` (all made by `user_id`, turning
/// `before` into `doc`) break in the fields that say who did something and when, if any:
/// an author field (or a retraction's `by`) naming another user; a time field (or a
/// retraction's `at`) that is not the change's own time; or a stamp that `before` already
/// held (an entry's id, who recorded or opened or reopened it and when, its retraction)
/// rewritten or deleted: stamps are written once. A plan's approval is the exception: it
/// is requested and decided again after it is returned, by the rules of [`violation`].
/// The reason is ours (no client data); the kind is [`RefusalKind::Attribution`].
pub fn stamp_violation(
    before: &automerge::Automerge,
    doc: &automerge::Automerge,
    changes: &[automerge::Change],
    user_id: &str,
) -> Option<Refusal> {
    let attribution = |m: &str| Some(Refusal::new(RefusalKind::Attribution, m));
    use automerge::legacy::{Key, ObjectId, OpType};
    use automerge::{ReadDoc, ScalarValue, ROOT};
    // The key under which an object sits in `doc`, looked up once per object (a change
    // writes many operations into few objects).
    let mut parents: std::collections::HashMap<ObjectId, Option<String>> =
        std::collections::HashMap::new();
    let mut parent_key = |obj: &ObjectId| -> Option<String> {
        parents
            .entry(obj.clone())
            .or_insert_with(|| {
                let (id, _) = doc.import(&obj.to_string()).ok()?;
                match doc.parents(id).ok()?.next()?.prop {
                    automerge::Prop::Map(k) => Some(k),
                    automerge::Prop::Seq(_) => None,
                }
            })
            .clone()
    };
    // Whether `before` held `key` on the object `obj`.
    let held = |obj: &ObjectId, key: &str| -> bool {
        let id = match obj {
            ObjectId::Root => ROOT,
            other => match before.import(&other.to_string()) {
                Ok((id, _)) => id,
                Err(_) => return false,
            },
        };
        before.get(&id, key).ok().flatten().is_some()
    };
    for change in changes {
        let own_ms = change.timestamp().saturating_mul(1000);
        for op in &super::decoded::ops(change).operations {
            let Key::Map(key) = &op.key else { continue };
            let key = key.as_str();
            let parent = if key == "by"
                || key == "at"
                || key.starts_with("requested_")
                || key.starts_with("decided_")
                || !matches!(op.obj, ObjectId::Root)
            {
                parent_key(&op.obj)
            } else {
                None
            };
            let retraction = parent.as_deref() == Some("retracted");
            let approval = parent.as_deref() == Some("approval");
            let stamp = AUTHOR_FIELDS.contains(&key)
                || TIME_FIELDS.contains(&key)
                || key == "id"
                || key == "retracted"
                || retraction;
            // A plan's approval is requested and decided again; an intake is decided again
            // after a reopening, and safety secured again after a new emergency.
            let intake = parent.as_deref() == Some("intake");
            let renewable = (approval
                && (key.starts_with("requested_") || key.starts_with("decided_")))
                || (intake && (key.starts_with("decided_") || key.starts_with("safety_secured_")));
            if stamp && !renewable && held(&op.obj, key) {
                return attribution("these changes rewrite who made an entry or when");
            }
            let OpType::Put(value) = &op.action else {
                continue;
            };
            if AUTHOR_FIELDS.contains(&key) || (key == "by" && retraction) {
                if !matches!(value, ScalarValue::Str(s) if s.as_str() == user_id) {
                    return attribution(
                        "these changes record another user as the author of an entry",
                    );
                }
            } else if TIME_FIELDS.contains(&key) || (key == "at" && retraction) {
                let at = match value {
                    ScalarValue::Str(s) => chrono::DateTime::parse_from_rfc3339(s)
                        .ok()
                        .map(|t| t.timestamp_millis()),
                    _ => None,
                };
                if at.is_none_or(|at| at.abs_diff(own_ms) > (STAMP_TOLERANCE_MS + 999) as u64) {
                    return attribution("these changes record a time other than their own");
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
pub fn new_case_history_violation(changes: &[automerge::Change], role: Role) -> Option<Refusal> {
    use automerge::legacy::{Key, ObjectId, OpType};
    use automerge::ScalarValue;
    let mut ids = 0;
    let mut restricted = false;
    for change in changes {
        for op in &super::decoded::ops(change).operations {
            if op.obj != ObjectId::Root {
                continue;
            }
            let Key::Map(key) = &op.key else { continue };
            match (key.as_str(), &op.action) {
                ("id", OpType::Put(_) | OpType::Delete) => ids += 1,
                ("sensitivity", OpType::Put(ScalarValue::Str(s))) => {
                    if Sensitivity::parse(s).restricts() {
                        restricted = true;
                    } else if restricted && !role.has_authority() {
                        return needs_authority("only a supervisor lifts a restriction");
                    }
                }
                ("sensitivity", OpType::Delete) if restricted && !role.has_authority() => {
                    return needs_authority("only a supervisor lifts a restriction");
                }
                _ => {}
            }
        }
    }
    if ids > 1 {
        return Some(Refusal::new(
            RefusalKind::WrongCase,
            "a case's id is set once, when it is opened",
        ));
    }
    None
}

/// A supervisor's review of the handling of the case is the supervisor's words: a worker
/// neither writes one nor changes one, in a new case or a known one (their own is a
/// `self_review`).
pub fn review_violation(
    before: &[crate::case::Supervision],
    after: &[crate::case::Supervision],
    role: Role,
) -> Option<Refusal> {
    if role.has_authority() {
        return None;
    }
    let review = |s: &crate::case::Supervision| s.kind == Some(SupervisionKind::SupervisorReview);
    for s in after {
        let was = before.iter().find(|b| b.id == s.id);
        if (review(s) || was.is_some_and(review)) && was != Some(s) {
            return needs_authority("only a supervisor writes a supervisor's review");
        }
    }
    None
}

/// The change messages of the typed edits that need a supervisor: the console shows a
/// change's message as what it did, so a worker's change may not carry one of them.
pub const AUTHORITY_MESSAGES: &[&str] = &[
    "approve plan",
    "record plan decision",
    "return plan",
    "approve closure",
    "close as duplicate",
    "return closure",
    "assign",
];

/// Whether `changes` made by a user with `role` carry a message that names an action
/// needing a supervisor, however it is spelt (case, dashes, underscores, spaces), or a
/// move of the stage to `closed`.
pub fn claims_authority(changes: &[automerge::Change], role: Role) -> bool {
    !role.has_authority()
        && changes.iter().any(|c| {
            c.message().is_some_and(|m| {
                let m = normalised(m);
                AUTHORITY_MESSAGES.contains(&m.as_str())
                    || (m.starts_with("stage") && m.ends_with("closed"))
            })
        })
}

/// A change message as words: lower case, dashes and underscores as spaces, one space
/// between words.
fn normalised(m: &str) -> String {
    m.to_lowercase()
        .replace(['-', '_'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
