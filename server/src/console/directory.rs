//! The partner directory in the console (issue 16): everyone signed in lists and searches
//! it (the phones' search: names in any script, life domain, area, language, age) and reads
//! a service's page; an admin changes a service's status and phone numbers there (the
//! version seen is sent back: an edit over a newer directory is refused; every edit is in
//! the admin log). Imports and exports are the command line's
//! (`fieldcase-server directory import|export`).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use fieldcase_core::directory::{DirectoryFilter, ServiceStatus};
use fieldcase_core::schema::LIFE_DOMAINS;
use fieldcase_core::Role;
use maud::html;
use serde::Deserialize;

use super::view::{self, csrf, url_part, Nav};
use super::{back, blocking, ConsoleUser, Posted};
use crate::error::{AppError, Problem};
use crate::AppState;

/// The most services the list shows.
const SHOWN: usize = 200;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Search {
    #[serde(default)]
    q: String,
    #[serde(default)]
    domain: String,
    #[serde(default)]
    area: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    age: String,
    #[serde(default)]
    inactive: Option<String>,
}

fn status_key(s: ServiceStatus) -> String {
    format!("service-status-{}", s.code().replace(' ', "-"))
}

pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    u: ConsoleUser,
    Query(q): Query<Search>,
) -> Response {
    let result = async {
        let l = u.locale;
        let nonempty = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
        let age = match nonempty(&q.age) {
            None => None,
            Some(a) => Some(a.parse::<u32>().map_err(|_| {
                AppError::invalid(Problem::AgeInvalid, "the age is a whole number of years")
                    .with("max", AGE_MAX.to_string())
            })?),
        };
        let filter = DirectoryFilter {
            query: nonempty(&q.q),
            domain: nonempty(&q.domain),
            area: nonempty(&q.area),
            language: nonempty(&q.language).map(|s| s.to_lowercase()),
            age,
            include_inactive: Some(q.inactive.is_some()),
            display_language: Some(l.code.to_owned()),
            limit: Some(SHOWN),
            ..DirectoryFilter::default()
        };
        let db = state.db.clone();
        let st = state.clone();
        let (version, hits) = blocking(move || {
            let (version, index) = st.directory.get(db.as_ref())?;
            let hits = index
                .search(&filter)
                .map_err(AppError::from)?;
            Ok((version, hits))
        })
        .await?;
        let body = html! {
            h1 { (l.t("directory")) }
            form.filters method="get" action="/console/directory" role="search" {
                label { (l.t("directory-search")) input name="q" type="search" value=(q.q) maxlength="256"; }
                label { (l.t("directory-domain")) select name="domain" {
                    option value="" { (l.t("all")) }
                    @for d in LIFE_DOMAINS {
                        option value=(d) selected[q.domain == *d] { (l.t(&format!("domain-{d}"))) }
                    }
                } }
                label { (l.t("directory-area")) input name="area" value=(q.area) maxlength="256"; }
                label { (l.t("language")) input name="language" value=(q.language) maxlength="3" size="3"; }
                label { (l.t("directory-age")) input name="age" type="number" min="0" max="150" value=(q.age); }
                label { input name="inactive" type="checkbox" value="1" checked[q.inactive.is_some()]; (l.t("directory-include-inactive")) }
                button type="submit" { (l.t("apply")) }
            }
            @if version == 0 {
                p #directory-empty { (l.t("directory-empty")) }
            } @else if hits.is_empty() {
                p #directory-none { (l.t("directory-none")) }
            } @else {
                div.scroll tabindex="0" { table #directory-services {
                    thead { tr {
                        th { (l.t("directory-service")) } th { (l.t("directory-organization")) }
                        th { (l.t("directory-status")) } th { (l.t("directory-domain")) }
                        th { (l.t("directory-area")) } th { (l.t("phone")) }
                    } }
                    tbody { @for h in &hits { tr {
                        td { a href=(format!("/console/directory/{}", url_part(&h.service_id))) { bdi { (h.name) } } }
                        td { bdi { (h.organization_name) } }
                        td { (l.t(&status_key(h.status))) }
                        td { @for (i, d) in h.domains.iter().enumerate() { @if i > 0 { ", " } (l.t(&format!("domain-{d}"))) } }
                        td { @for (i, a) in h.areas.iter().enumerate() { @if i > 0 { ", " } bdi { (a) } } }
                        td { @for (i, p) in h.phones.iter().enumerate() { @if i > 0 { ", " } bdi dir="ltr" { (p) } } }
                    } } }
                } }
            }
        };
        Ok::<_, AppError>(view::layout(&u, &l.t("directory"), Nav::Directory, "/console/directory", body))
    }
    .await;
    match result {
        Ok(p) => p.into_response(),
        Err(e) => u.error(e),
    }
}

pub(crate) async fn service(
    State(state): State<Arc<AppState>>,
    u: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let l = u.locale;
        let db = state.db.clone();
        let st = state.clone();
        let (version, entry) = blocking(move || {
            let (version, index) = st.directory.get(db.as_ref())?;
            Ok((version, index.entry(&id).ok_or(AppError::NotFound)?))
        })
        .await?;
        let s = &entry.service;
        let here = format!("/console/directory/{}", url_part(&s.id));
        let local = |default: &str, names: &[fieldcase_core::directory::LocalName]| {
            names
                .iter()
                .find(|n| n.language == l.code)
                .map_or_else(|| default.to_owned(), |n| n.name.clone())
        };
        let e = &s.eligibility;
        let body = html! {
            h1 { bdi { (local(&s.name, &s.names)) } }
            section.card #service-summary {
                dl {
                    dt { (l.t("directory-organization")) } dd { bdi { (local(&entry.organization.name, &entry.organization.names)) } }
                    dt { (l.t("directory-status")) } dd #service-status { (l.t(&status_key(s.status))) }
                    dt { (l.t("directory-domain")) } dd { @for (i, d) in entry.domains.iter().enumerate() { @if i > 0 { ", " } (l.t(&format!("domain-{d}"))) } }
                    @if let Some(d) = &s.description { dt { (l.t("directory-description")) } dd { bdi { (d) } } }
                    dt { (l.t("directory-age")) } dd { (e.minimum_age.map(|a| a.to_string()).unwrap_or_default()) "–" (e.maximum_age.map(|a| a.to_string()).unwrap_or_default()) }
                    @if !e.genders.is_empty() { dt { (l.t("directory-genders")) } dd { @for (i, g) in e.genders.iter().enumerate() { @if i > 0 { ", " } (l.t(&format!("gender-{g}"))) } } }
                    @if !e.areas.is_empty() { dt { (l.t("directory-area")) } dd { @for (i, a) in e.areas.iter().enumerate() { @if i > 0 { ", " } bdi { (a) } } } }
                    @if let Some(d) = &e.description { dt { (l.t("directory-eligibility")) } dd { bdi { (d) } } }
                    dt { (l.t("language")) } dd { @for (i, lang) in s.languages.iter().enumerate() { @if i > 0 { ", " } (lang.code) } }
                    dt { (l.t("phone")) } dd #service-phones { @for (i, p) in s.phones.iter().enumerate() { @if i > 0 { ", " } bdi dir="ltr" { (p.number) } } }
                    @for c in &s.contacts {
                        dt { (l.t("directory-contact")) } dd { bdi { (c.name.clone().unwrap_or_default()) } @if let Some(t) = &c.title { " · " bdi { (t) } } }
                    }
                }
            }
            @for loc in &entry.locations {
                section.card {
                    h2 { bdi { (loc.name.clone().unwrap_or_else(|| l.t("directory-location"))) } }
                    @for a in &loc.addresses {
                        p { bdi { (a.address_1) @if let Some(a2) = &a.address_2 { ", " (a2) } ", " (a.city) ", " (a.state_province) " " (a.postal_code) " " (a.country) } }
                    }
                    @for p in &loc.phones { p { bdi dir="ltr" { (p.number) } } }
                }
            }
            @if u.user().role == Role::Admin {
                section.card #edit-service {
                    h2 { (l.t("directory-edit")) }
                    form.grid-form method="post" action=(here) {
                        (csrf(&u))
                        input type="hidden" name="version" value=(version);
                        label { (l.t("directory-status")) select name="status" {
                            @for st in ServiceStatus::ALL {
                                option value=(st.code()) selected[*st == s.status] { (l.t(&status_key(*st))) }
                            }
                        } }
                        label { (l.t("directory-phones")) textarea name="phones" rows="3" dir="ltr" {
                            @for p in &s.phones { (p.number) "\n" }
                        } }
                        label { (l.t("directory-name")) input name="name" value=(s.name) required dir="auto"; }
                        label { (l.t("directory-description")) textarea name="description" rows="3" dir="auto" { (s.description.clone().unwrap_or_default()) } }
                        label { (l.t("directory-min-age")) input name="minimum_age" inputmode="numeric" value=[s.eligibility.minimum_age]; }
                        label { (l.t("directory-max-age")) input name="maximum_age" inputmode="numeric" value=[s.eligibility.maximum_age]; }
                        label { (l.t("directory-genders")) input name="genders" dir="ltr" value=(s.eligibility.genders.join(", ")); }
                        label { (l.t("directory-areas")) textarea name="areas" rows="2" dir="auto" {
                            @for a in &s.eligibility.areas { (a) "\n" }
                        } }
                        label { (l.t("directory-eligibility")) textarea name="eligibility" rows="2" dir="auto" { (s.eligibility.description.clone().unwrap_or_default()) } }
                        label { (l.t("directory-languages")) input name="languages" dir="ltr" value=(s.languages.iter().map(|x| x.code.as_str()).collect::<Vec<_>>().join(", ")); }
                        button type="submit" { (l.t("directory-save")) }
                    }
                }
            }
        };
        Ok::<_, AppError>(view::layout(&u, &local(&s.name, &s.names), Nav::Directory, &here, body))
    }
    .await;
    match result {
        Ok(p) => p.into_response(),
        Err(e) => u.error(e),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct ServiceForm {
    version: i64,
    status: String,
    #[serde(default)]
    phones: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    minimum_age: String,
    #[serde(default)]
    maximum_age: String,
    /// Gender codes, separated by commas or spaces.
    #[serde(default)]
    genders: String,
    /// One area a line.
    #[serde(default)]
    areas: String,
    #[serde(default)]
    eligibility: String,
    /// ISO 639 codes, separated by commas or spaces.
    #[serde(default)]
    languages: String,
}

/// The most bytes of one field of the service form (the directory's check bounds each
/// value again).
const FORM_FIELD_MAX_BYTES: usize = 8192;
/// The longest list of phone numbers of a service, in bytes.
const PHONES_MAX_BYTES: usize = 4096;
/// The oldest age a search or a service's eligibility takes, in years.
const AGE_MAX: u32 = 150;

/// An age in years, or none when empty.
fn age(s: &str, what: &str) -> Result<Option<u32>, AppError> {
    match s.trim() {
        "" => Ok(None),
        n => n
            .parse::<u32>()
            .ok()
            .filter(|a| *a <= AGE_MAX)
            .map(Some)
            .ok_or_else(|| {
                AppError::invalid(
                    Problem::AgeInvalid,
                    format!("{what}: an age in years, 0 to {AGE_MAX}"),
                )
                .with("max", AGE_MAX.to_string())
            }),
    }
}

fn codes(s: &str) -> Vec<String> {
    s.split(|c: char| c == ',' || c.is_whitespace())
        .map(|c| c.trim().to_lowercase())
        .filter(|c| !c.is_empty())
        .collect()
}

/// An admin's edit of a service's status and phones.
pub(crate) async fn edit(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    posted: Posted<ServiceForm>,
) -> Response {
    let Posted { user, form } = posted;
    let result = async {
        if user.user().role != Role::Admin {
            return Err(AppError::Forbidden);
        }
        let status = ServiceStatus::from_code(&form.status).ok_or_else(|| {
            AppError::invalid(Problem::FormUnreadable, "not a status of a service")
        })?;
        if form.phones.len() > PHONES_MAX_BYTES {
            return Err(AppError::invalid(
                Problem::FieldTooLong,
                "the phone numbers are longer than 4,096 bytes",
            )
            .with("max_bytes", PHONES_MAX_BYTES.to_string()));
        }
        let fields = [
            &form.name,
            &form.description,
            &form.genders,
            &form.areas,
            &form.eligibility,
            &form.languages,
        ];
        if fields.iter().any(|f| f.len() > FORM_FIELD_MAX_BYTES) {
            return Err(AppError::invalid(
                Problem::FieldTooLong,
                "a field is longer than 8,192 bytes",
            )
            .with("max_bytes", FORM_FIELD_MAX_BYTES.to_string()));
        }
        if form.name.trim().is_empty() {
            return Err(AppError::invalid(
                Problem::ServiceNeedsName,
                "a service has a name",
            ));
        }
        let edit = crate::directory::ServiceEdit {
            status,
            phones: form.phones.lines().map(str::to_owned).collect(),
            name: form.name.clone(),
            description: Some(form.description.clone()),
            minimum_age: age(&form.minimum_age, "minimum age")?,
            maximum_age: age(&form.maximum_age, "maximum age")?,
            genders: codes(&form.genders),
            areas: form
                .areas
                .lines()
                .map(|a| a.trim().to_owned())
                .filter(|a| !a.is_empty())
                .collect(),
            eligibility: Some(form.eligibility.clone()),
            languages: codes(&form.languages),
        };
        let st = state.clone();
        let by = user.user().id.clone();
        let service = id.clone();
        blocking(move || {
            crate::directory::edit_service(
                st.db.as_ref(),
                &st.config,
                Some(&st.metrics),
                &service,
                form.version,
                &edit,
                &by,
            )
        })
        .await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => back(
            Some(&format!("/console/directory/{}", url_part(&id))),
            "/console/directory",
        ),
        Err(e) => user.error(e),
    }
}
