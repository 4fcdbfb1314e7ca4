//! A partner organisation answers a referral through a link, without an account (issue
//! 16, `docs/adr/0006-*`).
//!
//! | route | what |
//! | --- | --- |
//! | `POST /console/cases/{id}/referrals/{rid}/link` | a supervisor, or a worker assigned to the case, makes a link for one referral in the partner's language; the page shows it once |
//! | `POST /v1/cases/{id}/referrals/{rid}/links` | the same from a phone (`api.rs`): `{"language"}` → `{"id", "path", "expires_at"}` |
//! | `POST /console/cases/{id}/links/{link}/revoke` | a supervisor, or who made it, revokes it |
//! | `GET /p/{token}` | the partner's page: what the referral letter shows, and the answers the loop allows next |
//! | `POST /p/{token}` | the partner's answer, written into the case as the partner's own change (admission as every write), synced to the worker's phone |
//!
//! An unknown, expired or revoked link gets one and the same page. Each link answers at
//! most `partner.requests_per_hour` requests an hour (429 beyond, metric
//! `partner_limited_total`). Every view and answer is on the audit trail as the partner's
//! user, device `link`. The client's name and languages are shown only while the referral
//! shares the client's information under a consent that is still given.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use fieldcase_core::case::{CaseFile, Referral, ReferralStatus};
use fieldcase_core::CaseDoc;
use maud::{html, Markup, DOCTYPE};
use serde::Deserialize;

use super::i18n::{Locale, LOCALES};
use super::{blocking, now_ms, ConsoleUser, Posted};
use crate::db::links::{NewLink, ReferralLink};
use crate::error::{AppError, AppResult, Problem};
use crate::{AppState, Metrics};

/// The links whose requests are counted at once; beyond it, counts of earlier hours are
/// dropped first, and a new link is refused until some are (a bound on memory).
pub const TRACKED_LINKS: usize = 10_000;

const HOUR_MS: i64 = 3_600_000;

/// Requests per link in the current hour.
#[derive(Debug, Default)]
pub struct LinkLimiter {
    counts: Mutex<HashMap<String, (i64, u32)>>,
}

impl LinkLimiter {
    /// Counts a request of `link` at `now`; `false` when it is over `per_hour`.
    pub fn allow(&self, link: &str, now: i64, per_hour: u32) -> bool {
        let hour = now.div_euclid(HOUR_MS);
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if counts.len() >= TRACKED_LINKS && !counts.contains_key(link) {
            counts.retain(|_, (h, _)| *h == hour);
            if counts.len() >= TRACKED_LINKS {
                return false;
            }
        }
        let entry = counts.entry(link.to_string()).or_insert((hour, 0));
        if entry.0 != hour {
            *entry = (hour, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        entry.1 <= per_hour
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct LinkForm {
    #[serde(default)]
    language: String,
}

/// Makes a link for `rid` of `case_id` as `user` on `device` (storage work: run it off the
/// async threads): the user sees the case and is a supervisor or admin, or assigned to it;
/// the referral is live and its loop open; the language is one of ours. Audited. The one
/// path of the console and the phone API (`POST /v1/cases/{id}/referrals/{rid}/links`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn create_for(
    db: &dyn crate::Db,
    link_days: u32,
    user: &crate::db::User,
    device: &str,
    case_id: fieldcase_core::CaseId,
    rid: &str,
    language: &str,
    action: &str,
) -> AppResult<(ReferralLink, String)> {
    let access = db.case_access(&case_id)?.ok_or(AppError::NotFound)?;
    if !access.visible_to(user) {
        return Err(AppError::NotFound);
    }
    if !user.role.has_authority() && !access.assigned.iter().any(|u| u == &user.id) {
        return Err(AppError::Forbidden);
    }
    let bytes = db.case_document(&case_id)?.ok_or(AppError::NotFound)?;
    let file = CaseDoc::load(&bytes)?.read()?;
    let referral = live_referral(&file, rid)?;
    if referral.status.is_some_and(|s| s.is_final()) {
        return Err(AppError::invalid(
            Problem::ReferralEnded,
            "this referral's loop has ended: make a new referral",
        ));
    }
    let language = LOCALES
        .iter()
        .find(|l| l.code == language)
        .ok_or_else(|| AppError::invalid(Problem::NoSuchLanguage, "choose the partner's language"))?
        .code;
    let now = now_ms();
    let made = db.create_referral_link(&NewLink {
        case_id,
        referral_id: rid,
        team: &access.team,
        organisation: referral.organisation.as_deref().unwrap_or_default(),
        language,
        created_by: &user.id,
        now,
        expires_at: now + i64::from(link_days) * 86_400_000,
    })?;
    db.audit(&user.id, device, &case_id, action, now)?;
    Ok(made)
}

/// Makes a link for one referral and shows it once.
pub(crate) async fn make(
    State(state): State<Arc<AppState>>,
    Path((id, rid)): Path<(String, String)>,
    headers: HeaderMap,
    posted: Posted<LinkForm>,
) -> Response {
    let Posted { user, form } = posted;
    let result = async {
        let case_id: fieldcase_core::CaseId = id.parse().map_err(|_| AppError::NotFound)?;
        let (st, me, device, rid2) = (
            state.clone(),
            user.user().clone(),
            user.session.device_id.clone(),
            rid.clone(),
        );
        let (link, token) = blocking(move || {
            create_for(
                st.db.as_ref(),
                st.config.partner_link_days,
                &me,
                &device,
                case_id,
                &rid2,
                &form.language,
                "partner link made (console)",
            )
        })
        .await?;
        let scheme = if state.config.tls { "https" } else { "http" };
        let host = headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| h.bytes().all(|b| b.is_ascii_graphic()))
            .unwrap_or("localhost");
        let url = format!("{scheme}://{host}/p/{token}");
        let l = user.locale;
        let back = format!("/console/cases/{id}#referrals");
        let body = html! {
            h1 { (l.t("link-made")) }
            p { (l.t("link-made-explain")) }
            p.link-url { code { (url) } }
            p.muted { (l.t("link-expires")) " " time datetime=(rfc3339(link.expires_at)) { (l.datetime(&rfc3339(link.expires_at))) } }
            p { a href=(back) { "← " (l.t("section-referrals")) } }
        };
        Ok(super::view::layout(&user, &l.t("link-made"), super::view::Nav::Dashboard, &back, body))
    }
    .await;
    match result {
        Ok(p) => p.into_response(),
        Err(e) => user.error(e),
    }
}

/// Revokes a link: a supervisor, or who made it.
pub(crate) async fn revoke(
    State(state): State<Arc<AppState>>,
    Path((id, link)): Path<(String, String)>,
    posted: Posted<Vec<(String, String)>>,
) -> Response {
    let Posted { user, .. } = posted;
    let result = async {
        let case = super::data::one_case(&state, &user, &id, "read (console)").await?;
        let (db, case_id) = (state.db.clone(), case.access.id);
        let me = user.user().clone();
        let device = user.session.device_id.clone();
        blocking(move || {
            let found = db
                .referral_links(&case_id)?
                .into_iter()
                .find(|l| l.id == link)
                .ok_or(AppError::NotFound)?;
            if !me.role.has_authority() && found.created_by != me.id {
                return Err(AppError::Forbidden);
            }
            let now = now_ms();
            if !db.revoke_referral_link(&found.id, &me.id, now)? {
                return Err(AppError::invalid(
                    Problem::LinkRevokedAlready,
                    "this link was revoked already",
                ));
            }
            db.audit(
                &me.id,
                &device,
                &case_id,
                "partner link revoked (console)",
                now,
            )
        })
        .await
    }
    .await;
    match result {
        Ok(()) => Redirect::to(&format!("/console/cases/{id}#referrals")).into_response(),
        Err(e) => user.error(e),
    }
}

/// The links of a case's referrals on its record page (newest first), with a form to
/// make one for a referral still open.
pub(crate) fn section(
    l: &Locale,
    u: &ConsoleUser,
    case_id: &str,
    referral: &Referral,
    links: &[ReferralLink],
    now: i64,
) -> Markup {
    let open = !referral.status.is_some_and(|s| s.is_final()) && referral.retracted.is_none();
    let mine: Vec<&ReferralLink> = links
        .iter()
        .filter(|k| k.referral_id == referral.id)
        .collect();
    html! {
        @if referral.retracted.is_none() {
            // In the partner's language when a link named it (the newest), else the reader's.
            @let lang = mine.first().map_or(l.code, |k| k.language.as_str());
            p.print { a href=(format!("/console/cases/{case_id}/print/referral-letter?referral={}&lang={lang}", super::view::url_part(&referral.id))) { (l.t("letter-referral-title")) } }
        }
        @if !mine.is_empty() {
            h3 { (l.t("section-links")) }
            ul.links { @for k in &mine {
                li {
                    (language_name(&k.language)) " · "
                    @if k.revoked_at.is_some() { (l.t("link-revoked")) }
                    @else if !k.is_open(now) { (l.t("link-expired")) }
                    @else {
                        (l.t("link-expires")) " " time datetime=(rfc3339(k.expires_at)) { (l.datetime(&rfc3339(k.expires_at))) }
                        " "
                        form.inline method="post" action=(format!("/console/cases/{case_id}/links/{}/revoke", k.id)) {
                            input type="hidden" name="csrf" value=(u.csrf);
                            button type="submit" { (l.t("link-revoke")) }
                        }
                    }
                }
            } }
        }
        @if open {
            form.inline method="post" action=(format!("/console/cases/{case_id}/referrals/{}/link", referral.id)) {
                input type="hidden" name="csrf" value=(u.csrf);
                label { (l.t("link-language")) " "
                    select name="language" {
                        @for x in &LOCALES { option value=(x.code) selected[x.code == l.code] { (x.name) } }
                    }
                }
                " " button type="submit" { (l.t("link-make")) }
            }
        }
    }
}

/// A language's name in itself when it is one of ours, else its code.
pub(crate) fn language_name(code: &str) -> String {
    LOCALES
        .iter()
        .find(|l| l.code == code)
        .map_or_else(|| code.to_string(), |l| l.name.to_string())
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn live_referral(file: &CaseFile, rid: &str) -> AppResult<Referral> {
    file.referrals
        .iter()
        .find(|r| r.id == rid && r.retracted.is_none())
        .cloned()
        .ok_or(AppError::NotFound)
}

/// What a partner's request found: the link, the case as stored, the referral.
struct Opened {
    link: ReferralLink,
    file: CaseFile,
    referral: Referral,
}

/// The open link of `token` and its referral; `None` (one answer for unknown, expired,
/// revoked, or a referral no longer in the case); 429 over the hour's requests.
async fn open(state: &Arc<AppState>, token: &str) -> Result<Option<Opened>, Response> {
    let now = now_ms();
    let db = state.db.clone();
    let t = token.to_string();
    let found = blocking(move || db.open_referral_link(&t, now))
        .await
        .map_err(|e| partner_error(&LOCALES[0], e))?;
    let Some(link) = found else {
        return Ok(None);
    };
    // Counted before the case is read: requests over the hour's cost a lookup only.
    if !state
        .partner_requests
        .allow(&link.id, now, state.config.partner_requests_per_hour)
    {
        Metrics::inc(&state.metrics.partner_limited);
        let l = Locale::get(&link.language);
        return Err((
            StatusCode::TOO_MANY_REQUESTS,
            shell(
                l,
                &l.t("partner-title"),
                html! { p.error role="alert" { (l.t("partner-too-many")) } },
            ),
        )
            .into_response());
    }
    let (db, case_id) = (state.db.clone(), link.case_id);
    let file = blocking(move || match db.case_document(&case_id)? {
        Some(bytes) => Ok(Some(CaseDoc::load(&bytes)?.read()?)),
        None => Ok(None),
    })
    .await
    .map_err(|e| partner_error(Locale::get(&link.language), e))?;
    let Some(file) = file else {
        return Ok(None);
    };
    let Ok(referral) = live_referral(&file, &link.referral_id) else {
        return Ok(None);
    };
    Ok(Some(Opened {
        link,
        file,
        referral,
    }))
}

fn partner_error(l: &Locale, e: AppError) -> Response {
    if let AppError::Internal(detail) = &e {
        tracing::error!(detail = %fieldcase_core::error::printable(detail), "partner page: internal error");
    }
    let (status, _) = e.code();
    (
        status,
        shell(
            l,
            &l.t("partner-title"),
            html! { p.error role="alert" { (l.t("partner-failed")) } },
        ),
    )
        .into_response()
}

/// The one page of an unknown, expired or revoked link.
fn invalid() -> Response {
    let l = &LOCALES[0];
    (
        StatusCode::NOT_FOUND,
        shell(
            l,
            &l.t("partner-title"),
            html! { p { (l.t("partner-invalid")) } },
        ),
    )
        .into_response()
}

/// A page of the partner's, in its language, with the console's stylesheet.
fn shell(l: &Locale, title: &str, body: Markup) -> super::view::Page {
    super::view::Page(html! {
        (DOCTYPE)
        html lang=(l.code) dir=(l.dir()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (title) " · fieldcase" }
                link rel="stylesheet" href="/console/static/console.css";
            }
            body.partner { main { h1 { (title) } (body) } }
        }
    })
}

/// The steps a partner may record next, from where the loop is.
fn next_steps(from: ReferralStatus) -> Vec<ReferralStatus> {
    use ReferralStatus::*;
    [
        Received,
        Accepted,
        DeclinedByOrganisation,
        ServiceStarted,
        Delivered,
        Unavailable,
    ]
    .into_iter()
    .filter(|s| from.can_move_to(*s))
    .collect()
}

/// Whether the referral still shares the client's information under a consent given and
/// not withdrawn.
fn shares(file: &CaseFile, r: &Referral) -> bool {
    r.shares_information == Some(true) && r.consent_problem(&file.consents).is_none()
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct PageQuery {
    #[serde(default)]
    done: Option<String>,
}

/// The partner's page.
pub(crate) async fn page(
    State(state): State<Arc<AppState>>,
    Path(token): Path<String>,
    axum::extract::Query(q): axum::extract::Query<PageQuery>,
) -> Response {
    let opened = match open(&state, &token).await {
        Ok(Some(o)) => o,
        Ok(None) => return invalid(),
        Err(r) => return r,
    };
    let Opened {
        link,
        file,
        referral: r,
    } = opened;
    let l = Locale::get(&link.language);
    let (db, who, case_id) = (state.db.clone(), link.partner_user.clone(), link.case_id);
    let people = match super::data::People::load(&state).await {
        Ok(p) => p,
        Err(e) => return partner_error(l, e),
    };
    if let Err(e) =
        blocking(move || db.audit(&who, "link", &case_id, "partner view", now_ms())).await
    {
        return partner_error(l, e);
    }
    let from = r.status.unwrap_or(ReferralStatus::Sent);
    let steps = next_steps(from);
    let by = people.name(&link.created_by);
    let body = html! {
        @if q.done.is_some() { p.ok role="status" { (l.t("partner-answered")) } }
        p { (l.t("partner-intro")) }
        dl.summary-grid {
            div { dt { (l.t("f-date")) } dd { @if let Some(d) = &r.date { time datetime=(d) { (l.date(d)) } } } }
            div { dt { (l.t("f-organisation")) } dd { bdi { (r.organisation.clone().unwrap_or_default()) } } }
            div { dt { (l.t("f-service")) } dd { bdi { (r.service.clone().unwrap_or_default()) } } }
            div { dt { (l.t("domain")) } dd { @if let Some(d) = &r.domain { (l.code("domain", d)) } } }
            div { dt { (l.t("f-reason")) } dd { bdi { (r.reason.clone().unwrap_or_default()) } } }
            div { dt { (l.t("partner-from")) } dd { bdi { (by) } } }
            div { dt { (l.t("f-status")) } dd { (l.code("referral", from.code())) } }
            @if shares(&file, &r) {
                div { dt { (l.t("partner-client")) } dd { bdi { (file.client.name.clone().unwrap_or_default()) } } }
                div { dt { (l.t("f-languages")) } dd { (file.client.languages.iter().map(|c| language_name(c)).collect::<Vec<_>>().join(", ")) } }
            }
        }
        @if !shares(&file, &r) { p.muted { (l.t("partner-not-shared")) } }
        @if steps.is_empty() {
            p { (l.t("partner-ended")) }
        } @else {
            h2 { (l.t("partner-answer")) }
            form method="post" action=(format!("/p/{token}")) {
                fieldset {
                    legend { (l.t("f-status")) }
                    @for (i, s) in steps.iter().enumerate() {
                        label { input type="radio" name="status" value=(s.code()) required checked[i == 0]; " " (l.code("referral", s.code())) }
                    }
                }
                label { (l.t("partner-reason")) textarea name="reason" maxlength="2000" dir="auto" {} }
                label { (l.t("f-feedback")) textarea name="feedback" maxlength="4000" dir="auto" {} }
                button type="submit" { (l.t("partner-send")) }
            }
        }
    };
    shell(l, &l.t("partner-title"), body).into_response()
}

#[derive(Debug, Deserialize)]
pub(crate) struct AnswerForm {
    status: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    feedback: String,
}

/// The longest reason and feedback a partner writes, in characters.
pub const ANSWER_MAX_CHARS: usize = 4000;

/// The partner's answer, as the partner's own change of the case.
pub(crate) async fn answer(
    State(state): State<Arc<AppState>>,
    Path(token): Path<String>,
    form: Result<Form<AnswerForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let opened = match open(&state, &token).await {
        Ok(Some(o)) => o,
        Ok(None) => return invalid(),
        Err(r) => return r,
    };
    let l = Locale::get(&opened.link.language);
    let result = async {
        let Form(form) = form.map_err(|_| {
            AppError::invalid(crate::error::Problem::FormUnreadable, "unreadable form")
        })?;
        let status = ReferralStatus::from_code(&form.status)
            .filter(|s| {
                next_steps(opened.referral.status.unwrap_or(ReferralStatus::Sent)).contains(s)
            })
            .ok_or_else(|| {
                AppError::invalid(
                    Problem::AnswerNotNow,
                    "this answer is not one the referral can take now",
                )
            })?;
        if form.reason.chars().count() > ANSWER_MAX_CHARS
            || form.feedback.chars().count() > ANSWER_MAX_CHARS
        {
            return Err(AppError::invalid(
                Problem::AnswerTooLong,
                "the answer is longer than the page takes",
            )
            .with("max", ANSWER_MAX_CHARS.to_string()));
        }
        let (db, who) = (state.db.clone(), opened.link.partner_user.clone());
        let partner = blocking(move || db.user_by_id(&who)?.ok_or(AppError::NotFound)).await?;
        let rid = opened.link.referral_id.clone();
        let (reason, feedback) = (
            form.reason.trim().to_string(),
            form.feedback.trim().to_string(),
        );
        state
            .hub
            .edit_by_link(
                &state,
                opened.link.case_id,
                &partner,
                move |doc, author, now| {
                    doc.record_partner_answer(
                        author,
                        now,
                        &rid,
                        status,
                        Some(reason.as_str()).filter(|r| !r.is_empty()),
                        Some(feedback.as_str()).filter(|f| !f.is_empty()),
                    )
                },
            )
            .await?;
        Metrics::inc(&state.metrics.partner_answers);
        let (db, who, case_id) = (state.db.clone(), partner.id.clone(), opened.link.case_id);
        blocking(move || db.audit(&who, "link", &case_id, "partner answer", now_ms())).await?;
        Ok::<_, AppError>(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to(&format!("/p/{token}?done=1")).into_response(),
        // The partner's answer refused: why in the partner's language where the problem
        // has a code, our English words in small print.
        Err(e) if e.is_bad_input() => {
            let said = match &e {
                AppError::Invalid { problem, args, .. } => {
                    Some(super::view::problem_said(l, *problem, args))
                }
                _ => None,
            };
            let why = e.to_string();
            (
                e.code().0,
                shell(
                    l,
                    &l.t("partner-title"),
                    html! {
                        p.error role="alert" { (l.t("partner-refused")) }
                        @if let Some(said) = said { p.error { (said) } }
                        p.muted lang="en" dir="ltr" { (why) }
                    },
                ),
            )
                .into_response()
        }
        Err(e) => partner_error(l, e),
    }
}
