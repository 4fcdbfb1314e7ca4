//! Erasure and retention in the console (issue 18, ADR 0007): a supervisor asks, on a
//! case's record and with a reason, for the case to be erased; an admin sees the requests
//! waiting and erases the case for good or refuses; both are in the administrative log.
//! The page also reports what was erased, when, by whom and why, and the closed cases past
//! their team's retention (to be erased by the server, or waiting for a decision): admins
//! see every team's, supervisors their own team's, read only.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use fieldcase_core::{CaseId, Role};
use maud::html;
use serde::Deserialize;

use super::view::{self, csrf, Nav};
use super::{back, blocking, ConsoleUser, Posted};
use crate::error::{AppError, Problem};
use crate::AppState;

/// `GET /console/erasure`: requests, erased cases and retention (admins and supervisors).
pub(crate) async fn page(State(state): State<Arc<AppState>>, u: ConsoleUser) -> Response {
    let result = async {
        let user = u.user().clone();
        if !user.role.has_authority() {
            return Err(AppError::NotFound);
        }
        let db = state.db.clone();
        let settings = state.config.retention.clone();
        let now = super::now_ms();
        let (requests, erased, due, teams) = blocking(move || {
            Ok((
                db.erasure_requests(false)?,
                db.erased_cases()?,
                crate::retention::review(db.as_ref(), &settings, now)?,
                db.teams()?,
            ))
        })
        .await?;
        let people = super::data::People::load(&state).await?;
        let team_names = super::data::Teams::of(&teams);
        // A supervisor sees their own team's only.
        let mine = |team: &str| user.role == Role::Admin || user.team.as_deref() == Some(team);
        let requests: Vec<_> = requests.into_iter().filter(|r| mine(&r.team)).collect();
        let erased: Vec<_> = erased.into_iter().filter(|t| mine(&t.team)).collect();
        let due: Vec<_> = due.into_iter().filter(|d| mine(&d.team)).collect();
        let admin = user.role == Role::Admin;
        let l = u.locale;
        let by = |id: &str| match id {
            crate::admin::CLI_AUTHOR_ID => l.t("erasure-by-cli"),
            crate::retention::RETENTION_AUTHOR => l.t("erasure-by-retention"),
            other => people.name(other),
        };
        let body = html! {
            h1 { (l.t("erasure-title")) }
            p.muted { (l.t("erasure-explain")) }
            section.card #requests {
                h2 { (l.t("erasure-requests")) }
                @if requests.is_empty() {
                    p { (l.t("erasure-none-waiting")) }
                } @else {
                    div.scroll tabindex="0" { table {
                        thead { tr {
                            th { (l.t("erasure-case")) } th { (l.t("team")) } th { (l.t("erasure-requested-by")) }
                            th { (l.t("f-when")) } th { (l.t("erasure-reason")) } th { (l.t("erasure-decision")) }
                        } }
                        tbody { @for r in &requests {
                            tr {
                                td { code { (r.case_id) } }
                                td { bdi { (team_names.shown(&r.team)) } }
                                td { bdi { (by(&r.requested_by)) } }
                                td { (l.millis(r.requested_at)) }
                                td { bdi { (r.reason) } }
                                td {
                                    @match (&r.decision, r.decided_by.as_deref()) {
                                        (Some(d), Some(who)) => {
                                            (l.t(&format!("erasure-decision-{d}"))) " · " bdi { (by(who)) }
                                            @if let Some(at) = r.decided_at { " · " (l.millis(at)) }
                                        }
                                        _ if admin => {
                                            form.inline method="post" action=(format!("/console/erasure/{}", view::url_part(&r.id))) {
                                                (csrf(&u))
                                                input type="hidden" name="decision" value="erase";
                                                button type="submit" { (l.t("erasure-erase")) }
                                            }
                                            " "
                                            form.inline method="post" action=(format!("/console/erasure/{}", view::url_part(&r.id))) {
                                                (csrf(&u))
                                                input type="hidden" name="decision" value="refuse";
                                                button.secondary type="submit" { (l.t("erasure-refuse")) }
                                            }
                                        }
                                        _ => { (l.t("erasure-waiting")) }
                                    }
                                }
                            }
                        } }
                    } }
                }
            }
            section.card #erased {
                h2 { (l.t("erasure-erased")) }
                @if erased.is_empty() {
                    p { (l.t("erasure-erased-none")) }
                } @else {
                    div.scroll tabindex="0" { table {
                        thead { tr {
                            th { (l.t("erasure-case")) } th { (l.t("team")) } th { (l.t("f-when")) }
                            th { (l.t("erasure-erased-by")) } th { (l.t("erasure-reason")) }
                        } }
                        tbody { @for t in &erased {
                            tr {
                                td { code { (t.case_id) } }
                                td { bdi { (team_names.shown(&t.team)) } }
                                td { (l.millis(t.erased_at)) }
                                td { bdi { (by(&t.erased_by)) } }
                                td { bdi { (t.reason) } }
                            }
                        } }
                    } }
                }
            }
            section.card #retention {
                h2 { (l.t("erasure-retention")) }
                @if due.is_empty() {
                    p { (l.t("erasure-retention-none")) }
                } @else {
                    div.scroll tabindex="0" { table {
                        thead { tr {
                            th { (l.t("erasure-case")) } th { (l.t("team")) } th { (l.t("erasure-closed-on")) }
                            th { (l.t("erasure-due")) } th { (l.t("erasure-decision")) }
                        } }
                        tbody { @for d in &due {
                            tr {
                                td { a href=(format!("/console/cases/{}", d.case_id)) { code { (d.case_id) } } }
                                td { bdi { (team_names.shown(&d.team)) } }
                                td { (l.millis(d.closed_at)) }
                                td { (l.millis(d.due_at)) }
                                td {
                                    (l.t(&format!("erasure-action-{}", d.action.code())))
                                    @if admin && d.action == crate::retention::Action::List {
                                        // The decision the setting asks for: keep it a while
                                        // longer, or erase it now; both with a reason.
                                        form.decision method="post" action=(format!("/console/retention/{}/keep", d.case_id)) {
                                            (csrf(&u))
                                            label { (l.t("retention-keep-days")) " " input type="number" name="days" min="1" max="3650" value="365" required; }
                                            label { (l.t("erasure-reason")) " " input name="reason" required maxlength="500"; }
                                            button.secondary type="submit" { (l.t("retention-keep")) }
                                        }
                                        form.decision method="post" action=(format!("/console/retention/{}/erase", d.case_id)) {
                                            (csrf(&u))
                                            label { (l.t("erasure-reason")) " " input name="reason" required maxlength="500"; }
                                            button type="submit" { (l.t("retention-erase-now")) }
                                        }
                                    }
                                }
                            }
                        } }
                    } }
                }
            }
        };
        Ok::<_, AppError>(view::layout(&u, &l.t("erasure-title"), Nav::None, "/console/erasure", body))
    }
    .await;
    match result {
        Ok(p) => p.into_response(),
        Err(e) => u.error(e),
    }
}

#[derive(Deserialize)]
pub(crate) struct Ask {
    reason: String,
}

/// `POST /console/cases/{id}/erasure-request`: a supervisor of the case's team asks for
/// its erasure, with a reason. Anyone else, and a case they may not see, get what a case
/// that does not exist gets.
pub(crate) async fn ask(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    posted: Posted<Ask>,
) -> Response {
    let Posted { user: u, form } = posted;
    let result = async {
        let id: CaseId = id.parse().map_err(|_| AppError::NotFound)?;
        let user = u.user().clone();
        let db = state.db.clone();
        let r = blocking(move || {
            let access = db.case_access(&id)?.ok_or(AppError::NotFound)?;
            if !access.visible_to(&user) {
                return Err(AppError::NotFound);
            }
            if user.role != Role::Supervisor || user.team.as_deref() != Some(&access.team) {
                return Err(AppError::Forbidden);
            }
            db.request_erasure(&id, &access.team, &user.id, &form.reason, super::now_ms())
        })
        .await?;
        tracing::info!(case = %id, by = %u.user().id, "erasure requested (console)");
        crate::api::log_admin(
            &state,
            &u.user().id,
            "request erasure",
            &r.case_id.to_string(),
        )
        .await?;
        Ok::<_, AppError>(id)
    }
    .await;
    match result {
        Ok(id) => back(None, &format!("/console/cases/{id}")),
        Err(e) => u.error(e),
    }
}

#[derive(Deserialize)]
pub(crate) struct Decide {
    decision: String,
}

/// `POST /console/erasure/{request}`: an admin erases the case of an open request for good
/// (`decision=erase`) or refuses the request (`decision=refuse`).
pub(crate) async fn decide(
    State(state): State<Arc<AppState>>,
    Path(rid): Path<String>,
    posted: Posted<Decide>,
) -> Response {
    let Posted { user: u, form } = posted;
    let result = async {
        if u.user().role != Role::Admin {
            return Err(AppError::Forbidden);
        }
        let erase = match form.decision.as_str() {
            "erase" => true,
            "refuse" => false,
            _ => {
                return Err(AppError::invalid(
                    Problem::FormUnreadable,
                    "the decision is erase or refuse",
                ))
            }
        };
        let db = state.db.clone();
        let wanted = rid.clone();
        let request = blocking(move || {
            Ok(db
                .erasure_requests(true)?
                .into_iter()
                .find(|r| r.id == wanted))
        })
        .await?
        .ok_or(AppError::NotFound)?;
        let admin = u.user().id.clone();
        if erase {
            match crate::admin::erase_in_server(&state, request.case_id, &admin, &request.reason)
                .await
            {
                // Erased meanwhile (the command line, another admin): decided all the same.
                Ok(_)
                | Err(
                    AppError::Conflict(_)
                    | AppError::Invalid {
                        problem: Problem::ErasedAlready,
                        ..
                    },
                ) => {}
                Err(e) => return Err(e),
            }
        }
        let decision = if erase { "erased" } else { "refused" };
        let db = state.db.clone();
        let by = admin.clone();
        let now = super::now_ms();
        blocking(move || db.decide_erasure_request(&rid, &by, decision, now)).await?;
        if !erase {
            crate::api::log_admin(
                &state,
                &admin,
                "refuse erasure",
                &request.case_id.to_string(),
            )
            .await?;
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => back(None, "/console/erasure"),
        Err(e) => u.error(e),
    }
}

#[derive(Deserialize)]
pub(crate) struct Keep {
    days: u32,
    reason: String,
}

#[derive(Deserialize)]
pub(crate) struct EraseNow {
    reason: String,
}

/// The case, if it is past its team's retention and listed for a decision now (what the
/// two decisions below may act on: nothing else).
async fn listed(state: &Arc<AppState>, id: CaseId) -> Result<crate::retention::Due, AppError> {
    let db = state.db.clone();
    let settings = state.config.retention.clone();
    let now = super::now_ms();
    let due = blocking(move || crate::retention::review(db.as_ref(), &settings, now)).await?;
    due.into_iter()
        .find(|d| d.case_id == id && d.action == crate::retention::Action::List)
        .ok_or(AppError::NotFound)
}

/// `POST /console/retention/{case}/keep`: an admin keeps a case listed past its retention
/// for `days` more days (1 to 3,650), with a reason; it is listed again after them.
pub(crate) async fn keep(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    posted: Posted<Keep>,
) -> Response {
    let Posted { user: u, form } = posted;
    let result = async {
        if u.user().role != Role::Admin {
            return Err(AppError::Forbidden);
        }
        if !(1..=3650).contains(&form.days) {
            return Err(
                AppError::invalid(Problem::RetentionDaysInvalid, "keep it 1 to 3,650 days")
                    .with("min", "1")
                    .with("max", "3650"),
            );
        }
        let id: CaseId = id.parse().map_err(|_| AppError::NotFound)?;
        listed(&state, id).await?;
        let now = super::now_ms();
        let hold = crate::db::erasure::RetentionHold {
            case_id: id,
            until: now + i64::from(form.days) * 86_400_000,
            by: u.user().id.clone(),
            reason: form.reason,
            at: now,
        };
        let db = state.db.clone();
        blocking(move || db.keep_past_retention(&hold)).await?;
        crate::api::log_admin(&state, &u.user().id, "keep past retention", &id.to_string()).await?;
        tracing::info!(case = %id, by = %u.user().id, days = form.days, "kept past retention (console)");
        Ok(())
    }
    .await;
    match result {
        Ok(()) => back(None, "/console/erasure"),
        Err(e) => u.error(e),
    }
}

/// `POST /console/retention/{case}/erase`: an admin erases a case listed past its retention
/// now, with a reason (the tombstone says it).
pub(crate) async fn erase_now(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    posted: Posted<EraseNow>,
) -> Response {
    let Posted { user: u, form } = posted;
    let result = async {
        if u.user().role != Role::Admin {
            return Err(AppError::Forbidden);
        }
        let id: CaseId = id.parse().map_err(|_| AppError::NotFound)?;
        // Room for the retention's own words before it, within the tombstone's bound.
        let reason: String = crate::db::erasure::reason(&form.reason)?
            .chars()
            .take(crate::db::erasure::REASON_MAX_CHARS - 60)
            .collect();
        let d = listed(&state, id).await?;
        let reason = format!(
            "retention: closed on {}, kept {} days: {reason}",
            &fieldcase_core::case::rfc3339(d.closed_at)[..10],
            (d.due_at - d.closed_at) / 86_400_000
        );
        crate::admin::erase_in_server(&state, id, &u.user().id, &reason).await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => back(None, "/console/erasure"),
        Err(e) => u.error(e),
    }
}
