//! The approvals queue: plans and closure requests waiting for a supervisor, and the
//! decision forms (approve, or return with a comment). A decision is a change written
//! through the hub as the supervisor, so it syncs to the phones like any other.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use fieldcase_core::case::{ApprovalStatus, ClosureStatus};
use maud::{html, Markup};
use serde::Deserialize;

use super::data::{self, People};
use super::view::{self, count, csrf, risk_badge, stage_badge, Nav};
use super::{back, ConsoleUser, Posted};
use crate::error::AppError;
use crate::AppState;

/// The form that approves or returns a plan.
pub(crate) fn plan_form(u: &ConsoleUser, case_id: &str, next: &str) -> Markup {
    decision_form(u, &format!("/console/cases/{case_id}/plan"), next, "plan")
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

fn decision_form(u: &ConsoleUser, action: &str, next: &str, what: &str) -> Markup {
    let l = u.locale;
    html! {
        form.decision method="post" action=(action) {
            (csrf(u))
            input type="hidden" name="next" value=(next);
            label { (l.t("comment")) textarea name="comment" rows="2" maxlength="2000" {} }
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
                    a href=(format!("/console/cases/{}", c.access.id)) { bdi { (c.file.client.name.clone().unwrap_or_default()) } }
                    " " (stage_badge(l, c.file.stage)) " " (risk_badge(l, &c.summary))
                }
            }
        };
        let body = html! {
            h1 { (l.t("approvals-title")) }
            section.card #plans {
                h2 { (l.t("plans-waiting")) " " span.count { (l.number(plans.len() as i64)) } }
                @if plans.is_empty() { p.muted { (l.t("none")) } }
                @for c in &plans {
                    article.entry {
                        (head(c))
                        @let ap = &c.file.plan.approval;
                        p.by {
                            (l.t("requested-by")) " " bdi { (ap.requested_by.as_deref().map(|x| people.name(x)).unwrap_or_default()) }
                            @if let Some(at) = &ap.requested_at { " · " (l.datetime(at)) }
                        }
                        ol { @for p in c.file.plan.problems.iter().filter(|p| p.retracted.is_none()) {
                            li { (l.code("domain", p.domain.as_deref().unwrap_or(""))) ": " bdi { (p.goal.clone().unwrap_or_else(|| p.description.clone())) }
                                " · " (count(l, "activities-count", p.activities.iter().filter(|a| a.retracted.is_none()).count())) }
                        } }
                        @if let Some(d) = &c.file.plan.next_review { p { (l.t("next-review")) ": " (l.date(d)) } }
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
                        p { (l.t("f-outcome")) ": " span.note { (x.outcome) } }
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
}

impl Decision {
    fn approve(&self) -> Result<bool, AppError> {
        match self.decision.as_str() {
            "approve" => Ok(true),
            "return" if self.comment.trim().is_empty() => Err(AppError::BadRequest(
                "returning needs a comment for the worker".into(),
            )),
            "return" => Ok(false),
            _ => Err(AppError::BadRequest("approve or return?".into())),
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
        data::one_case(state, u.user(), id).await?;
        return Err(AppError::Forbidden);
    }
    let approve = d.approve()?;
    if d.comment.chars().count() > 2000 {
        return Err(AppError::BadRequest("the comment is too long".into()));
    }
    let case_id = id.parse().map_err(|_| AppError::NotFound)?;
    let comment = d.comment.trim().to_string();
    state
        .hub
        .edit(state, case_id, u.user(), move |doc, author, now| {
            match (&closure, approve) {
                (None, true) => doc.approve_plan(author, now, &comment),
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
