//! The approvals queue: plans and closure requests waiting for a supervisor, and the
//! decision forms (approve, or return with a comment). A plan that changes an approved
//! version shows what it changes; approving fixes a new version, with an outside
//! authority's decision where one decided. A closure request shows whether the client or
//! family was told. A decision is a change written through the hub as the supervisor, so it
//! syncs to the phones like any other.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use fieldcase_core::case::{
    ApprovalStatus, CaseFile, ClosureStatus, PlanChangeKind, PlanDecisionInput,
};
use maud::{html, Markup};
use serde::Deserialize;

use super::data::{self, People};
use super::view::{self, count, csrf, risk_badge, stage_badge, Nav};
use super::{back, ConsoleUser, Posted};
use crate::error::{AppError, Problem};
use crate::AppState;

/// The form that approves or returns a plan, with the outside authority's decision.
pub(crate) fn plan_form(u: &ConsoleUser, case_id: &str, next: &str) -> Markup {
    decision_form(u, &format!("/console/cases/{case_id}/plan"), next, "plan")
}

/// What a draft changes in the approved version, in words: each problem or activity added,
/// removed, or a field of it changed (before → after).
pub(crate) fn plan_changes(u: &ConsoleUser, f: &CaseFile) -> Markup {
    let l = u.locale;
    let status = f.plan_status();
    let changes = f.plan_changes();
    let shown = |json: &Option<String>| -> String {
        let v: serde_json::Value = json
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default();
        match &v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Object(m) => ["goal", "description", "need"]
                .iter()
                .find_map(|k| m.get(*k).and_then(|x| x.as_str()))
                .unwrap_or_default()
                .to_string(),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        }
    };
    html! {
        @if let (Some(n), true) = (status.approved_version, status.draft) {
            div.draft {
                p { strong { (l.ta("plan-draft-of", &[("version", (n as i64).into())])) } }
                @if changes.is_empty() { p.muted { (l.t("none")) } }
                ul.changes { @for c in &changes {
                    li {
                        @match c.kind {
                            PlanChangeKind::Added => { span.badge { (l.t("change-added")) } " " bdi { (shown(&c.after)) } }
                            PlanChangeKind::Removed => { span.badge { (l.t("change-removed")) } " " del { bdi { (shown(&c.before)) } } }
                            PlanChangeKind::Changed => {
                                @let field = c.field.as_deref().unwrap_or("");
                                (l.t(&format!("f-{}", field.replace('_', "-")))) ": "
                                del { bdi { (shown(&c.before)) } } " → " ins { bdi { (shown(&c.after)) } }
                            }
                        }
                    }
                } }
            }
        }
    }
}

/// The form that approves or returns a closure request.
pub(crate) fn closure_form(u: &ConsoleUser, case_id: &str, closure: &str, next: &str) -> Markup {
    decision_form(
        u,
        &format!("/console/cases/{case_id}/closures/{closure}"),
        next,
        "closure",
    )
}

/// The fields of an outside authority's decision on a plan.
fn authority_fields(u: &ConsoleUser) -> Markup {
    let l = u.locale;
    html! {
        fieldset.authority {
            legend { (l.t("authority-decision")) }
            label { (l.t("f-authority")) input type="text" name="authority" maxlength=(MAX_AUTHORITY); }
            label { (l.t("f-decision-number")) input type="text" name="decision_number" maxlength=(MAX_DECISION_NUMBER); }
            label { (l.t("f-decision-date")) input type="date" name="decision_date"; }
        }
    }
}

/// The longest authority name and decision number the console takes, in characters.
const MAX_AUTHORITY: usize = 200;
const MAX_DECISION_NUMBER: usize = 100;
/// The longest comment of a decision, in characters.
const COMMENT_MAX_CHARS: usize = 2000;

/// An outside authority's decision as posted, checked: bounded, empty fields left out.
fn authority_decision(
    comment: Option<String>,
    authority: &str,
    decision_number: &str,
    decision_date: &str,
) -> Result<PlanDecisionInput, AppError> {
    if authority.chars().count() > MAX_AUTHORITY
        || decision_number.chars().count() > MAX_DECISION_NUMBER
    {
        return Err(AppError::invalid(
            Problem::AuthorityTooLong,
            "the authority or its decision number is too long",
        ));
    }
    let given = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
    Ok(PlanDecisionInput {
        comment,
        authority: given(authority),
        decision_number: given(decision_number),
        decision_date: given(decision_date),
    })
}

fn decision_form(u: &ConsoleUser, action: &str, next: &str, what: &str) -> Markup {
    let l = u.locale;
    html! {
        form.decision method="post" action=(action) {
            (csrf(u))
            input type="hidden" name="next" value=(next);
            label { (l.t("comment")) textarea name="comment" rows="2" maxlength="2000" {} }
            @if what == "plan" { (authority_fields(u)) }
            div.buttons {
                button type="submit" name="decision" value="approve" data-what=(what) { (l.t("approve")) }
                button.secondary type="submit" name="decision" value="return" { (l.t("return")) }
            }
        }
    }
}

pub(crate) async fn page(State(state): State<Arc<AppState>>, u: ConsoleUser) -> Response {
    let result = async {
        if !u.user().role.has_authority() {
            return Err(AppError::Forbidden);
        }
        let cases = data::visible_cases(&state, u.user()).await?;
        let people = People::load(&state).await?;
        let l = u.locale;
        let plans: Vec<&data::Summary> = cases
            .iter()
            .map(|c| c.as_ref())
            .filter(|c| c.file.plan.approval.status == Some(ApprovalStatus::Requested))
            .collect();
        let closures: Vec<(&data::Summary, &fieldcase_core::case::Closure)> = cases
            .iter()
            .map(|c| c.as_ref())
            .flat_map(|c| {
                c.file
                    .closures
                    .iter()
                    .filter(|x| x.status == Some(ClosureStatus::Requested) && x.retracted.is_none())
                    .map(move |x| (c, x))
            })
            .collect();
        let here = "/console/approvals";
        let head = |c: &data::Summary| {
            html! {
                h3 {
                    a href=(format!("/console/cases/{}", c.access.id)) { bdi { (super::view::listed_name(c.file.client.name.as_deref().unwrap_or_default(), c.access.restricted)) } }
                    " " (stage_badge(l, c.file.stage)) " " (risk_badge(l, &c.summary))
                }
            }
        };
        let body = html! {
            h1 { (l.t("approvals-title")) }
            p { a href="/console/duplicates" { (l.t("duplicates-title")) } }
            section.card #plans {
                h2 { (l.t("plans-waiting")) " " span.count { (l.number(plans.len() as i64)) } }
                @if plans.is_empty() { p.muted { (l.t("none")) } }
                @for c in &plans {
                    article.entry {
                        (head(c))
                        @let ap = &c.file.plan.approval;
                        p.by {
                            (l.t("requested-by")) " " bdi { (ap.requested_by.as_deref().map(|x| people.name(x)).unwrap_or_default()) }
                            @if let Some(at) = &ap.requested_at { " · " time datetime=(at) { (l.datetime(at)) } }
                        }
                        ol { @for p in c.file.plan.problems.iter().filter(|p| p.retracted.is_none()) {
                            li { (l.code("domain", p.domain.as_deref().unwrap_or(""))) ": " bdi { (p.goal.clone().unwrap_or_else(|| p.description.clone())) }
                                " · " (count(l, "activities-count", p.activities.iter().filter(|a| a.retracted.is_none()).count())) }
                        } }
                        @if let Some(d) = &c.file.plan.next_review { p { (l.t("next-review")) ": " (l.date(d)) } }
                        (plan_changes(&u, &c.file))
                        (plan_form(&u, &c.access.id.to_string(), here))
                    }
                }
            }
            section.card #closures {
                h2 { (l.t("closures-waiting")) " " span.count { (l.number(closures.len() as i64)) } }
                @if closures.is_empty() { p.muted { (l.t("none")) } }
                @for (c, x) in &closures {
                    article.entry {
                        (head(c))
                        p { (l.t("f-reason")) ": " (l.code("closure-reason", x.reason.as_deref().unwrap_or(""))) }
                        @if let Some(st) = x.stage_at_request { p { (l.t("f-stage-at-request")) ": " (stage_badge(l, st)) } }
                        p { (l.t("f-outcome")) ": " span.note { (x.outcome) } }
                        @match (x.informed, x.informing_recorded()) {
                            (Some(true), true) => p {
                                (l.t("f-informed")) ": " (l.date(x.informed_on.as_deref().unwrap_or("")))
                                " · " (l.code("informed-how", x.informed_how.map(|h| h.code()).unwrap_or("")))
                            },
                            (Some(false), true) => p {
                                (l.t("not-told")) ": " span.note { bdi { (x.informed_note.clone().unwrap_or_default()) } }
                            },
                            _ => p.warning { (l.t("not-yet-told")) },
                        }
                        p.by { (l.t("requested-by")) " " bdi { (x.recorded_by.as_deref().map(|r| people.name(r)).unwrap_or_default()) } }
                        (closure_form(&u, &c.access.id.to_string(), &x.id, here))
                    }
                }
            }
        };
        Ok(view::layout(&u, &l.t("approvals-title"), Nav::Approvals, here, body))
    }
    .await;
    match result {
        Ok(p) => p.into_response(),
        Err(e) => u.error(e),
    }
}

#[derive(Deserialize)]
pub(crate) struct Decision {
    decision: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    next: Option<String>,
    /// The outside authority's decision on a plan, where one decided.
    #[serde(default)]
    authority: String,
    #[serde(default)]
    decision_number: String,
    #[serde(default)]
    decision_date: String,
}

impl Decision {
    fn approve(&self) -> Result<bool, AppError> {
        match self.decision.as_str() {
            "approve" => Ok(true),
            "return" if self.comment.trim().is_empty() => Err(AppError::invalid(
                Problem::ReturnNeedsComment,
                "returning needs a comment for the worker",
            )),
            "return" => Ok(false),
            _ => Err(AppError::invalid(
                Problem::FormUnreadable,
                "approve or return?",
            )),
        }
    }
}

async fn decide(
    state: &Arc<AppState>,
    u: &ConsoleUser,
    id: &str,
    d: &Decision,
    closure: Option<String>,
) -> Result<(), AppError> {
    if !u.user().role.has_authority() {
        data::one_case(state, u, id, "read (console)").await?;
        return Err(AppError::Forbidden);
    }
    let approve = d.approve()?;
    if d.comment.chars().count() > COMMENT_MAX_CHARS {
        return Err(
            AppError::invalid(Problem::CommentTooLong, "the comment is too long")
                .with("max", COMMENT_MAX_CHARS.to_string()),
        );
    }
    let plan_decision = authority_decision(
        Some(d.comment.trim().to_string()),
        &d.authority,
        &d.decision_number,
        &d.decision_date,
    )?;
    let case_id = id.parse().map_err(|_| AppError::NotFound)?;
    let comment = d.comment.trim().to_string();
    state
        .hub
        .edit(state, case_id, u.user(), move |doc, author, now| {
            match (&closure, approve) {
                (None, true) => doc.approve_plan_version(author, now, plan_decision.clone()),
                (None, false) => doc.return_plan(author, now, &comment),
                (Some(c), true) => doc.approve_closure(author, now, c, &comment),
                (Some(c), false) => doc.return_closure(author, now, c, &comment),
            }
        })
        .await?;
    tracing::info!(case = %id, by = %u.user().id, approve, "decision (console)");
    Ok(())
}

pub(crate) async fn decide_plan(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    posted: Posted<Decision>,
) -> Response {
    let Posted { user, form } = posted;
    match decide(&state, &user, &id, &form, None).await {
        Ok(()) => back(form.next.as_deref(), &format!("/console/cases/{id}#plan")),
        Err(e) => user.error(e),
    }
}

/// An outside authority's decision that came after a version was approved.
#[derive(Deserialize)]
pub(crate) struct LaterDecision {
    #[serde(default)]
    authority: String,
    #[serde(default)]
    decision_number: String,
    #[serde(default)]
    decision_date: String,
}

/// The form that adds an outside authority's later decision to an approved version.
pub(crate) fn later_decision_form(u: &ConsoleUser, case_id: &str, version: &str) -> Markup {
    let l = u.locale;
    html! {
        form.later-decision method="post" action=(format!("/console/cases/{case_id}/plan/versions/{version}/decision")) {
            (csrf(u))
            (authority_fields(u))
            div.buttons { button type="submit" { (l.t("record-decision")) } }
        }
    }
}

pub(crate) async fn record_plan_decision(
    State(state): State<Arc<AppState>>,
    Path((id, version)): Path<(String, String)>,
    posted: Posted<LaterDecision>,
) -> Response {
    let Posted { user, form } = posted;
    let result = async {
        data::writable_case(&state, &user, &id).await?;
        let input = authority_decision(
            None,
            &form.authority,
            &form.decision_number,
            &form.decision_date,
        )?;
        let case_id = id.parse().map_err(|_| AppError::NotFound)?;
        state
            .hub
            .edit(&state, case_id, user.user(), move |doc, author, now| {
                doc.record_plan_decision(author, now, &version, input.clone())
            })
            .await
    }
    .await;
    match result {
        Ok(()) => back(None, &format!("/console/cases/{id}#plan")),
        Err(e) => user.error(e),
    }
}

pub(crate) async fn decide_closure(
    State(state): State<Arc<AppState>>,
    Path((id, closure)): Path<(String, String)>,
    posted: Posted<Decision>,
) -> Response {
    let Posted { user, form } = posted;
    match decide(&state, &user, &id, &form, Some(closure)).await {
        Ok(()) => back(
            form.next.as_deref(),
            &format!("/console/cases/{id}#closures"),
        ),
        Err(e) => user.error(e),
    }
}
