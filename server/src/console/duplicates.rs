//! Possible duplicates across the agency (issue 19): the open pairs the duplicate check
//! found ([`crate::matching`]), for the supervisors of both cases' teams. A case the
//! supervisor may see is named and linked; a case they may not see is shown only as "a
//! case in team X; ask its supervisor" (no name, no id). The reasons are in words. A
//! supervisor who sees either case may dismiss the pair: it is recorded with who and when,
//! and never proposed again. A supervisor who sees both may confirm the same person: one
//! case is closed as a duplicate pointing to the other, which goes on (both keep their
//! history), and the pair is recorded as confirmed.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use fieldcase_core::matching::{MatchBand, MatchReason, MatchStatus};
use fieldcase_core::CaseId;
use fluent_bundle::FluentValue;
use maud::{html, Markup};
use serde::Deserialize;

use super::data::People;
use super::i18n::Locale;
use super::view::{self, csrf, Nav};
use super::{back, blocking, ConsoleUser, Posted};
use crate::db::CaseAccess;
use crate::error::AppError;
use crate::AppState;

/// The most open pairs the page reads (newest first).
pub(crate) const MAX_LISTED: usize = 500;

/// A reason in words, in the user's language.
pub(crate) fn reason(l: &Locale, r: &MatchReason) -> String {
    let n = |v: u32| FluentValue::from(v as i64);
    let via = |t: bool| if t { "yes" } else { "no" };
    match r {
        MatchReason::SameName { transliterated } => l.ta(
            "match-same-name",
            &[("transliterated", via(*transliterated).into())],
        ),
        MatchReason::SameNameConsonants => l.t("match-same-consonants"),
        MatchReason::NameDiffers {
            letters,
            transliterated,
        } => l.ta(
            "match-name-differs",
            &[
                ("letters", n(*letters)),
                ("transliterated", via(*transliterated).into()),
            ],
        ),
        MatchReason::NameOrderSwapped => l.t("match-order-swapped"),
        MatchReason::NamePartMissing { parts } => {
            l.ta("match-part-missing", &[("parts", n(*parts))])
        }
        MatchReason::SameDateOfBirth => l.t("match-same-dob"),
        MatchReason::DateOfBirthWithinWindow { years } => {
            l.ta("match-dob-window", &[("years", n(*years))])
        }
        MatchReason::DateOfBirthNearlySame => l.t("match-dob-nearly"),
        MatchReason::DateOfBirthDiffers => l.t("match-dob-differs"),
        MatchReason::GenderDiffers => l.t("match-gender-differs"),
        MatchReason::SamePhone => l.t("match-same-phone"),
        MatchReason::SharedHouseholdMembers { count } => {
            l.ta("match-household", &[("count", n(*count))])
        }
    }
}

/// The reasons joined in words.
pub(crate) fn reasons(l: &Locale, rs: &[MatchReason]) -> String {
    rs.iter()
        .map(|r| reason(l, r))
        .collect::<Vec<_>>()
        .join("; ")
}

/// One side of a pair as the page shows it.
struct Side {
    id: CaseId,
    access: CaseAccess,
    name: String,
}

pub(crate) async fn page(State(state): State<Arc<AppState>>, u: ConsoleUser) -> Response {
    let result = async {
        if !u.user().role.has_authority() {
            return Err(AppError::Forbidden);
        }
        let (index, max) = (state.matches.clone(), state.config.matching_max_indexed);
        let db = state.db.clone();
        let user = u.user().clone();
        let device = u.session.device_id.clone();
        let pairs = blocking(move || {
            index.build(db.as_ref(), max)?;
            index.catch_up(db.as_ref(), max, super::now_ms())?;
            // A side the user may not see is named by nothing but its team.
            let side = |id: CaseId| -> crate::error::AppResult<Option<Side>> {
                let Some(access) = db.case_access(&id)? else {
                    return Ok(None);
                };
                if !access.visible_to(&user) {
                    return Ok(Some(Side { id, access, name: String::new() }));
                }
                Ok(crate::matching::client_name(db.as_ref(), &id)?
                    .map(|name| Side { id, access, name }))
            };
            let mut out = Vec::new();
            for row in db.open_matches(MAX_LISTED)? {
                let (Some(a), Some(b)) = (side(row.a)?, side(row.b)?) else {
                    continue;
                };
                if !a.access.visible_to(&user) && !b.access.visible_to(&user) {
                    continue;
                }
                for s in [&a, &b] {
                    if s.access.restricted && s.access.visible_to(&user) {
                        db.audit(&user.id, &device, &s.id, "listed as a possible match (console)", super::now_ms())?;
                    }
                }
                out.push((row, a, b));
            }
            Ok(out)
        })
        .await?;
        let people = People::load(&state).await?;
        let l = u.locale;
        let here = "/console/duplicates";
        let side = |s: &Side| -> Markup {
            html! {
                @if s.access.visible_to(u.user()) {
                    a href=(format!("/console/cases/{}", s.id)) { bdi { (view::listed_name(&s.name, s.access.restricted)) } }
                } @else {
                    span.muted { (l.ta("match-elsewhere", &[("team", people.team(&s.access.team).into())])) }
                }
            }
        };
        let body = html! {
            h1 { (l.t("duplicates-title")) }
            p.muted { (l.t("duplicates-intro")) }
            section.card #duplicates {
                h2 { (l.t("duplicates-open")) " " span.count { (l.number(pairs.len() as i64)) } }
                @if pairs.is_empty() { p.muted { (l.t("none")) } }
                @for (row, a, b) in &pairs {
                    article.entry.match {
                        h3 {
                            (side(a)) " ↔ " (side(b))
                            " " span.badge { (l.t(match row.band { MatchBand::Likely => "match-likely", MatchBand::Possible => "match-possible" })) }
                        }
                        p { (l.t("match-reasons")) ": " (reasons(l, &row.reasons)) }
                        p.by { (l.t("match-found")) " " time datetime=(fieldcase_core::case::rfc3339(row.found_at)) { (l.datetime(&fieldcase_core::case::rfc3339(row.found_at))) } }
                        form.decision method="post" action="/console/duplicates/dismiss" {
                            (csrf(&u))
                            @let seen = if a.access.visible_to(u.user()) { a.id } else { b.id };
                            input type="hidden" name="case" value=(seen.to_string());
                            input type="hidden" name="pair" value=(row.id);
                            div.buttons { button.secondary type="submit" { (l.t("match-dismiss")) } }
                        }
                        @if a.access.visible_to(u.user()) && b.access.visible_to(u.user()) {
                            // Same person: one file is closed as a duplicate of the other, which
                            // goes on; both keep their history.
                            @for (keep, close) in [(a, b), (b, a)] {
                                form.decision method="post" action="/console/duplicates/confirm" {
                                    (csrf(&u))
                                    input type="hidden" name="case" value=(close.id.to_string());
                                    input type="hidden" name="pair" value=(row.id);
                                    div.buttons { button type="submit" {
                                        (l.ta("match-confirm", &[
                                            ("keep", view::listed_name(&keep.name, keep.access.restricted).into()),
                                            ("close", view::listed_name(&close.name, close.access.restricted).into()),
                                        ]))
                                    } }
                                }
                            }
                        } @else {
                            p.muted { (l.t("match-confirm-both")) }
                        }
                    }
                }
            }
        };
        Ok(view::layout(&u, &l.t("duplicates-title"), Nav::Approvals, here, body))
    }
    .await;
    match result {
        Ok(p) => p.into_response(),
        Err(e) => u.error(e),
    }
}

/// A pair, named by its own id and the case of it the supervisor sees (the form never holds
/// the id of the other case).
#[derive(Deserialize)]
pub(crate) struct Pair {
    case: String,
    pair: String,
}

/// Dismisses an open pair: not the same person, never proposed again. The supervisor must
/// see the case named; a pair they may not act on answers as one that does not exist.
pub(crate) async fn dismiss(State(state): State<Arc<AppState>>, posted: Posted<Pair>) -> Response {
    let Posted { user, form } = posted;
    let result =
        async {
            if !user.user().role.has_authority() {
                return Err(AppError::Forbidden);
            }
            let case: CaseId = form.case.parse().map_err(|_| AppError::NotFound)?;
            let db = state.db.clone();
            let who = user.user().clone();
            blocking(move || {
            if !db.case_access(&case)?.is_some_and(|x| x.visible_to(&who)) {
                return Err(AppError::NotFound);
            }
            let row = db
                .matches_of(&case)?
                .into_iter()
                .find(|r| r.id == form.pair)
                .ok_or(AppError::NotFound)?;
            if !db.decide_match(&row.a, &row.b, MatchStatus::Dismissed, &who.id, super::now_ms())? {
                return Err(AppError::NotFound);
            }
            tracing::info!(pair = %row.id, by = %who.id, "possible duplicate dismissed (console)");
            Ok(())
        })
        .await
        }
        .await;
    match result {
        Ok(()) => back(None, "/console/duplicates"),
        Err(e) => user.error(e),
    }
}

/// Confirms an open pair as the same person: `case` (which the supervisor must see, as the
/// other) is closed as a duplicate of the other, through the hub and its rules, then the
/// pair is recorded as confirmed. A pair they may not act on answers as one that does not
/// exist.
pub(crate) async fn confirm(State(state): State<Arc<AppState>>, posted: Posted<Pair>) -> Response {
    let Posted { user, form } = posted;
    let result = async {
        if !user.user().role.has_authority() {
            return Err(AppError::Forbidden);
        }
        let close: CaseId = form.case.parse().map_err(|_| AppError::NotFound)?;
        let db = state.db.clone();
        let who = user.user().clone();
        let pair = form.pair.clone();
        let row = blocking(move || {
            let sees = |c: &CaseId| -> crate::error::AppResult<bool> {
                Ok(db.case_access(c)?.is_some_and(|x| x.visible_to(&who)))
            };
            let row = db
                .matches_of(&close)?
                .into_iter()
                .find(|r| r.id == pair && r.status == MatchStatus::Open)
                .ok_or(AppError::NotFound)?;
            if !sees(&close)? || !sees(&row.other(&close))? {
                return Err(AppError::NotFound);
            }
            Ok(row)
        })
        .await?;
        let keep = row.other(&close);
        state
            .hub
            .edit(&state, close, user.user(), move |doc, author, now| {
                doc.close_as_duplicate(author, now, &keep, "")
            })
            .await?;
        let db = state.db.clone();
        let by = user.user().id.clone();
        blocking(move || {
            db.decide_match(&row.a, &row.b, MatchStatus::Confirmed, &by, super::now_ms())
        })
        .await?;
        tracing::info!(case = %close, by = %user.user().id, "closed as a duplicate (console)");
        Ok(())
    }
    .await;
    match result {
        Ok(()) => back(None, "/console/duplicates"),
        Err(e) => user.error(e),
    }
}
