//! Approved plans stay approved (seed 004 step 3: the plan goes to the commune People's
//! Committee). Approving fixes that version of the plan in `plan/versions`: what was
//! approved (its problems and activities), by whom and when, and an outside authority's
//! decision where one decided. The plan that is worked on (`plan/problems`) goes on: a
//! later change to what it says, made online or merged from an offline phone, is a draft
//! of the next version, which needs approval again, while the approved version stays in
//! force and intact. Progress (the status of a problem or an activity) is work on the plan,
//! not a change of it.

use serde::Serialize;
use serde_json::{json, Value as Json};

use super::{
    insert_entry_with, require_authority, rfc3339, to_map, write_at, ApprovalStatus, Author,
    CaseDoc, CaseFile, PlanDecisionInput, PlanVersion,
};
use crate::error::{Error, Result};

/// Where the plan stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PlanStatus {
    /// The approved version in force, if any.
    pub approved_version: Option<u32>,
    /// The plan was approved before versions were kept (an earlier app): what was
    /// approved is in the case's history, not in a version.
    pub approved_unversioned: bool,
    /// The plan as worked on says something the approved version does not (or nothing was
    /// approved yet and it has problems): a draft that needs approval.
    pub draft: bool,
    /// The latest request for approval and its decision.
    pub approval: ApprovalStatus,
}

impl PlanStatus {
    /// Whether the plan as it stands is the approved version, approved for this cycle
    /// (after a review asks for a new plan, even an unchanged one is approved again).
    pub fn is_in_force(&self) -> bool {
        self.approved_version.is_some() && !self.draft && self.approval == ApprovalStatus::Approved
    }
}

/// One difference between the approved version and the draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PlanChange {
    pub kind: PlanChangeKind,
    /// `plan/problems/<id>` or `plan/problems/<id>/activities/<id>`.
    pub path: String,
    /// The field that changed (for [`PlanChangeKind::Changed`]).
    pub field: Option<String>,
    /// The value in the approved version, and in the draft (JSON).
    pub before: Option<String>,
    pub after: Option<String>,
}

/// What kind of difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum PlanChangeKind {
    Added,
    Removed,
    Changed,
}

/// The fields of a problem and of an activity that say what the plan is (not how far it
/// got).
const PROBLEM_FIELDS: &[&str] = &[
    "priority",
    "domain",
    "description",
    "need",
    "goal",
    "target_date",
];
const ACTIVITY_FIELDS: &[&str] = &[
    "description",
    "responsible",
    "resources",
    "due_date",
    "frequency",
];

impl CaseFile {
    /// What the plan says, as the JSON a version keeps: its unretracted problems, in order,
    /// each with what it says and its unretracted activities. Progress is left out.
    pub fn plan_content(&self) -> Json {
        let pick = |v: Json, fields: &[&str]| -> serde_json::Map<String, Json> {
            let mut out = serde_json::Map::new();
            if let Json::Object(m) = v {
                for f in fields {
                    match m.get(*f) {
                        None | Some(Json::Null) => {}
                        Some(Json::String(s)) if s.is_empty() => {}
                        Some(x) => {
                            out.insert((*f).into(), x.clone());
                        }
                    }
                }
            }
            out
        };
        let problems: Vec<Json> = self
            .plan
            .problems
            .iter()
            .filter(|p| p.retracted.is_none())
            .map(|p| {
                let mut m = pick(serde_json::to_value(p).unwrap_or_default(), PROBLEM_FIELDS);
                let activities: Vec<Json> = p
                    .activities
                    .iter()
                    .filter(|a| a.retracted.is_none())
                    .map(|a| {
                        let mut am =
                            pick(serde_json::to_value(a).unwrap_or_default(), ACTIVITY_FIELDS);
                        am.insert("id".into(), json!(a.id));
                        Json::Object(am)
                    })
                    .collect();
                m.insert("id".into(), json!(p.id));
                m.insert("activities".into(), Json::Array(activities));
                Json::Object(m)
            })
            .collect();
        json!({ "problems": problems })
    }

    /// The approved version in force: the last one.
    pub fn approved_plan(&self) -> Option<&PlanVersion> {
        self.plan.versions.iter().max_by_key(|v| v.number)
    }

    /// Where the plan stands: the version in force, and whether a draft differs from it.
    pub fn plan_status(&self) -> PlanStatus {
        let approval = self.plan.approval.status.unwrap_or(ApprovalStatus::None);
        let approved = self.approved_plan();
        let unversioned = approved.is_none() && approval == ApprovalStatus::Approved;
        let has_problems = self.plan.problems.iter().any(|p| p.retracted.is_none());
        let draft = match approved {
            Some(v) => version_content(v) != Some(self.plan_content()),
            None => has_problems && !unversioned,
        };
        PlanStatus {
            approved_version: approved.and_then(|v| v.number).map(|n| n as u32),
            approved_unversioned: unversioned,
            draft,
            approval,
        }
    }

    /// What the draft changes in the approved version, problem by problem and activity by
    /// activity (empty when nothing was approved yet, or nothing changed).
    pub fn plan_changes(&self) -> Vec<PlanChange> {
        let Some(before) = self.approved_plan().and_then(version_content) else {
            return Vec::new();
        };
        let after = self.plan_content();
        let mut out = Vec::new();
        let items = |c: &Json, key: &str| -> Vec<Json> {
            c.get(key)
                .and_then(Json::as_array)
                .cloned()
                .unwrap_or_default()
        };
        diff_lists(
            &items(&before, "problems"),
            &items(&after, "problems"),
            "plan/problems",
            &mut out,
            &|b, a, path, out| {
                diff_fields(b, a, PROBLEM_FIELDS, path, out);
                diff_lists(
                    &items(b, "activities"),
                    &items(a, "activities"),
                    &format!("{path}/activities"),
                    out,
                    &|b, a, path, out| diff_fields(b, a, ACTIVITY_FIELDS, path, out),
                );
            },
        );
        out
    }
}

/// The content a version keeps, read back.
fn version_content(v: &PlanVersion) -> Option<Json> {
    serde_json::from_str(v.content.as_deref()?).ok()
}

type Inner<'a> = dyn Fn(&Json, &Json, &str, &mut Vec<PlanChange>) + 'a;

fn diff_lists(
    before: &[Json],
    after: &[Json],
    list: &str,
    out: &mut Vec<PlanChange>,
    inner: &Inner<'_>,
) {
    let id = |v: &Json| v.get("id").and_then(Json::as_str).unwrap_or("").to_string();
    for b in before {
        let path = format!("{list}/{}", id(b));
        match after.iter().find(|a| id(a) == id(b)) {
            Some(a) => inner(b, a, &path, out),
            None => out.push(PlanChange {
                kind: PlanChangeKind::Removed,
                path,
                field: None,
                before: Some(b.to_string()),
                after: None,
            }),
        }
    }
    for a in after
        .iter()
        .filter(|a| !before.iter().any(|b| id(b) == id(a)))
    {
        out.push(PlanChange {
            kind: PlanChangeKind::Added,
            path: format!("{list}/{}", id(a)),
            field: None,
            before: None,
            after: Some(a.to_string()),
        });
    }
}

fn diff_fields(
    before: &Json,
    after: &Json,
    fields: &[&str],
    path: &str,
    out: &mut Vec<PlanChange>,
) {
    for f in fields {
        let (b, a) = (before.get(*f), after.get(*f));
        if b != a {
            out.push(PlanChange {
                kind: PlanChangeKind::Changed,
                path: path.to_string(),
                field: Some((*f).to_string()),
                before: b.map(Json::to_string),
                after: a.map(Json::to_string),
            });
        }
    }
}

/// A plan is asked for, approved or returned only when it has a problem.
fn require_problems(file: &CaseFile) -> Result<()> {
    if file.plan.problems.iter().all(|p| p.retracted.is_some()) {
        return Err(Error::invalid(
            "plan/problems",
            "a plan needs at least one problem",
        ));
    }
    Ok(())
}

/// The longest plan a version keeps, in bytes of its JSON (a field's own bound).
const MAX_CONTENT: usize = crate::schema::MAX_STR;

impl CaseDoc {
    /// Asks a supervisor to approve the plan as it stands (may be recorded offline): the
    /// first version, or a draft that changes the approved one.
    pub fn request_plan_approval(&mut self, a: &Author, now: i64) -> Result<()> {
        let file = self.read()?;
        require_problems(&file)?;
        if file.plan_status().is_in_force() {
            return Err(Error::invalid(
                "plan/problems",
                "this plan is the approved version: nothing new to approve",
            ));
        }
        let value = to_map(&json!({
            "status": "requested", "requested_at": rfc3339(now), "requested_by": a.user_id,
        }));
        self.update_map(
            a,
            now,
            "request plan approval",
            "plan/approval",
            value,
            true,
        )
    }

    /// A supervisor approves the plan as it stands; implementation may start. The version
    /// is fixed as approved.
    pub fn approve_plan(&mut self, a: &Author, now: i64, comment: &str) -> Result<()> {
        self.approve_plan_version(
            a,
            now,
            PlanDecisionInput {
                comment: Some(comment.to_string()),
                ..Default::default()
            },
        )
    }

    /// A supervisor approves the plan as it stands, with an outside authority's decision
    /// where one decided: a new version is fixed (what was approved, by whom, when).
    pub fn approve_plan_version(
        &mut self,
        a: &Author,
        now: i64,
        input: PlanDecisionInput,
    ) -> Result<()> {
        require_authority(a, "deciding on a plan")?;
        let file = self.read()?;
        require_problems(&file)?;
        if file.plan_status().is_in_force() {
            return Err(Error::invalid(
                "plan/problems",
                "this plan is the approved version already",
            ));
        }
        let content = file.plan_content().to_string();
        if content.len() > MAX_CONTENT {
            return Err(Error::invalid(
                "plan/versions",
                "the plan is too long to fix as one version: split it",
            ));
        }
        let number = file
            .plan
            .versions
            .iter()
            .filter_map(|v| v.number)
            .max()
            .unwrap_or(0)
            + 1;
        let comment = input.comment.clone().unwrap_or_default();
        let decision = to_map(&json!({
            "status": "approved", "decided_at": rfc3339(now), "decided_by": a.user_id,
            "comment": comment,
        }));
        let mut version = to_map(&json!({
            "number": number, "content": content, "decided_at": rfc3339(now),
            "decided_by": a.user_id, "comment": comment,
        }));
        for (k, v) in [
            ("authority", &input.authority),
            ("decision_number", &input.decision_number),
            ("decision_date", &input.decision_date),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.trim().is_empty()) {
                version.insert(k.into(), json!(v));
            }
        }
        self.edit(a, now, "approve plan", |tx| {
            write_at(tx, "plan/approval", &decision, true)?;
            insert_entry_with(tx, a, now, "plan/versions", version, true)?;
            Ok(())
        })
    }

    /// A supervisor records an outside authority's decision on an approved version that
    /// came after the approval (the commune People's Committee decides later): the
    /// authority, its decision number and date, each written once; nothing else of the
    /// version changes.
    pub fn record_plan_decision(
        &mut self,
        a: &Author,
        now: i64,
        version_id: &str,
        input: PlanDecisionInput,
    ) -> Result<()> {
        require_authority(a, "recording an authority's decision on a plan")?;
        let file = self.read()?;
        let v = file
            .plan
            .versions
            .iter()
            .find(|v| v.id == version_id)
            .ok_or_else(|| Error::NotFound(format!("plan/versions/{version_id}")))?;
        let mut fields = serde_json::Map::new();
        for (k, new, old) in [
            ("authority", &input.authority, &v.authority),
            (
                "decision_number",
                &input.decision_number,
                &v.decision_number,
            ),
            ("decision_date", &input.decision_date, &v.decision_date),
        ] {
            let Some(new) = new.as_deref().filter(|s| !s.trim().is_empty()) else {
                continue;
            };
            if old.is_some() {
                return Err(Error::invalid(
                    format!("plan/versions/{version_id}/{k}"),
                    "already recorded: an approved version is not changed",
                ));
            }
            fields.insert(k.into(), json!(new));
        }
        if fields.is_empty() {
            return Err(Error::invalid(
                format!("plan/versions/{version_id}"),
                "give the authority, its decision number or its date",
            ));
        }
        let path = format!("plan/versions/{version_id}");
        self.edit(a, now, "record plan decision", |tx| {
            write_at(tx, &path, &fields, true)
        })
    }

    /// A supervisor returns the plan to the worker with a comment; an approved version
    /// stays in force.
    pub fn return_plan(&mut self, a: &Author, now: i64, comment: &str) -> Result<()> {
        require_authority(a, "deciding on a plan")?;
        let file = self.read()?;
        require_problems(&file)?;
        let value = to_map(&json!({
            "status": "returned", "decided_at": rfc3339(now), "decided_by": a.user_id,
            "comment": comment,
        }));
        self.update_map(a, now, "return plan", "plan/approval", value, true)
    }
}
