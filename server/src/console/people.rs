//! People, for supervisors (their team) and admins (everyone): who has how many open cases
//! and which phones, and on one person's page the daily events of an agency: revoking a
//! lost phone, handing a leaver's caseload over to colleagues the console proposes, and
//! (admins) a new role or team.
//!
//! Every action here is the same function the REST API and the command line call
//! (`crate::admin`), with the same refusals, and is written to the administrative log.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use fieldcase_core::Role;
use fluent_bundle::FluentValue;
use maud::html;

use super::view::{self, csrf, Nav};
use super::{back, blocking, ConsoleUser, Posted};
use crate::db::{DeviceInfo, User};
use crate::error::AppError;
use crate::AppState;

/// Whether `by` looks after `person`: admins everyone, supervisors the people of their team.
/// Anyone else is answered as if the person did not exist.
fn manages(by: &User, person: &User) -> bool {
    match by.role {
        Role::Admin => true,
        Role::Supervisor => person.team.is_some() && person.team == by.team,
        Role::Worker => false,
    }
}

/// A colleague who could take cases, with their open cases now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Colleague {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub open: usize,
}

/// Whom the console proposes for `cases` cases: the colleagues whose caseload is at most
/// the average of the colleagues' caseloads (the lightest one at least), so that a
/// hand-over evens the team out instead of loading whoever is first in the list.
pub(crate) fn proposed(colleagues: &[Colleague], cases: usize) -> Vec<String> {
    if colleagues.is_empty() || cases == 0 {
        return Vec::new();
    }
    let total: usize = colleagues.iter().map(|c| c.open).sum();
    // open <= total / n, without rounding: open * n <= total.
    let n = colleagues.len();
    let mut out: Vec<&Colleague> = colleagues.iter().filter(|c| c.open * n <= total).collect();
    if out.is_empty() {
        out = colleagues
            .iter()
            .min_by_key(|c| c.open)
            .into_iter()
            .collect();
    }
    out.sort_by(|a, b| (a.open, &a.username).cmp(&(b.open, &b.username)));
    out.into_iter().map(|c| c.username.clone()).collect()
}

/// The people `by` looks after, each with their open cases and devices.
type Roster = (Vec<(User, usize, Vec<DeviceInfo>)>, super::data::Teams);

fn roster(db: &dyn crate::Db, by: &User, now: i64) -> Result<Roster, AppError> {
    let mut out = Vec::new();
    for person in db.users()? {
        if person.is_partner() || !manages(by, &person) {
            continue;
        }
        let open = db.cases_of(&person.id)?.len();
        let devices = db.devices_of(&person.id, now)?;
        out.push((person, open, devices));
    }
    out.sort_by(|a, b| (&a.0.team, &a.0.username).cmp(&(&b.0.team, &b.0.username)));
    Ok((out, super::data::Teams::of(&db.teams()?)))
}

fn require_authority(u: &ConsoleUser) -> Result<(), AppError> {
    if u.user().role.has_authority() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// `GET /console/people`: the list.
pub(crate) async fn list(State(state): State<Arc<AppState>>, u: ConsoleUser) -> Response {
    let result = async {
        require_authority(&u)?;
        let db = state.db.clone();
        let by = u.user().clone();
        let now = super::now_ms();
        let (people, teams) = blocking(move || roster(db.as_ref(), &by, now)).await?;
        let l = u.locale;
        let body = html! {
            h1 { (l.t("people-title")) }
            p.muted { (l.t("people-explain")) }
            section.card {
                div.scroll tabindex="0" { table {
                    thead { tr {
                        th { (l.t("f-name")) } th { (l.t("username")) } th { (l.t("role")) } th { (l.t("team")) }
                        th { (l.t("open-cases")) } th { (l.t("devices")) }
                    } }
                    tbody { @for (p, open, devices) in &people {
                        tr.retracted[p.disabled] {
                            td { a href=(format!("/console/people/{}", view::url_part(&p.username))) { bdi { (p.display_name) } } }
                            td { (p.username) }
                            td { (l.t(&format!("role-{}", p.role.code()))) @if p.disabled { " · " (l.t("disabled")) } }
                            td { bdi { (p.team.as_deref().map(|t| teams.shown(t)).unwrap_or_default()) } }
                            td.num { (l.number(*open as i64)) }
                            td.num { (l.number(devices.iter().filter(|d| !d.device.disabled).count() as i64)) }
                        }
                    } }
                } }
            }
        };
        Ok::<_, AppError>(view::layout(
            &u,
            &l.t("people-title"),
            Nav::People,
            "/console/people",
            body,
        ))
    }
    .await;
    match result {
        Ok(p) => p.into_response(),
        Err(e) => u.error(e),
    }
}

/// What one person's page shows.
struct Person {
    person: User,
    open: usize,
    devices: Vec<DeviceInfo>,
    colleagues: Vec<Colleague>,
    teams: Vec<crate::db::Team>,
}

fn person_of(db: &dyn crate::Db, by: &User, username: &str, now: i64) -> Result<Person, AppError> {
    let person = db
        .user_by_username(username)?
        .filter(|p| manages(by, p))
        .ok_or(AppError::NotFound)?;
    let open = db.cases_of(&person.id)?.len();
    let devices = db.devices_of(&person.id, now)?;
    let mut colleagues = Vec::new();
    if let Some(team) = &person.team {
        for c in db.users()? {
            if c.id != person.id
                && !c.disabled
                && !c.is_partner()
                && c.role != Role::Admin
                && c.team.as_deref() == Some(team)
            {
                let open = db.cases_of(&c.id)?.len();
                colleagues.push(Colleague {
                    username: c.username,
                    display_name: c.display_name,
                    role: c.role,
                    open,
                });
            }
        }
    }
    colleagues.sort_by(|a, b| (a.open, &a.username).cmp(&(b.open, &b.username)));
    let teams = db.teams()?;
    Ok(Person {
        person,
        open,
        devices,
        colleagues,
        teams,
    })
}

/// `GET /console/people/{username}`: one person.
pub(crate) async fn page(
    State(state): State<Arc<AppState>>,
    Path(username): Path<String>,
    u: ConsoleUser,
) -> Response {
    let result = async {
        require_authority(&u)?;
        let db = state.db.clone();
        let by = u.user().clone();
        let now = super::now_ms();
        let p = blocking(move || person_of(db.as_ref(), &by, &username, now)).await?;
        Ok::<_, AppError>(render(&u, &p))
    }
    .await;
    match result {
        Ok(p) => p.into_response(),
        Err(e) => u.error(e),
    }
}

fn render(u: &ConsoleUser, p: &Person) -> view::Page {
    let l = u.locale;
    let who = &p.person;
    let base = format!("/console/people/{}", view::url_part(&who.username));
    let proposal = proposed(&p.colleagues, p.open);
    // Each proposed colleague's caseload after the hand-over (cases go round in turn).
    let after: HashMap<&str, usize> = proposal
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let now = p
                .colleagues
                .iter()
                .find(|c| &c.username == name)
                .map_or(0, |c| c.open);
            let share = p.open / proposal.len() + usize::from(i < p.open % proposal.len());
            (name.as_str(), now + share)
        })
        .collect();
    let name_arg = || [("name", FluentValue::from(who.display_name.clone()))];
    let body = html! {
        h1 { bdi { (who.display_name) } }
        p.muted {
            bdi { (who.username) } " · " (l.t(&format!("role-{}", who.role.code())))
            @if let Some(t) = &who.team { " · " (l.t("team")) " " bdi { (super::data::Teams::of(&p.teams).shown(t)) } }
            @if who.disabled { " · " (l.t("disabled")) }
        }
        section.card #devices {
            h2 { (l.t("devices")) }
            p.muted { (l.t("devices-explain")) }
            @if p.devices.is_empty() { p.muted { (l.t("none")) } }
            @else {
                div.scroll tabindex="0" { table {
                    thead { tr { th { (l.t("phone")) } th { (l.t("registered")) } th { (l.t("last-seen")) } th { (l.t("open-sessions")) } th { (l.t("unsynced-col")) } th {} } }
                    tbody { @for d in &p.devices {
                        tr.retracted[d.device.disabled] {
                            td { bdi { (d.device.name) } " " small.muted { code { (d.device.id) } @if let Some(v) = &d.app_version { " · " bdi { (v) } } } }
                            td { (l.millis(d.device.created_at)) }
                            td { @if let Some(t) = d.last_seen { (l.millis(t)) } @else { "—" } }
                            td.num { (l.number(d.open_sessions as i64)) }
                            td { (view::unsynced(l, d.unsynced.as_ref())) }
                            td {
                                @if d.device.disabled { (l.t("revoked")) }
                                @else {
                                    form.inline method="post" action=(format!("{base}/devices/{}/revoke", view::url_part(&d.device.id))) {
                                        (csrf(u))
                                        button.secondary type="submit" { (l.t("revoke")) }
                                    }
                                }
                            }
                        }
                    } }
                } }
            }
        }
        @if who.team.is_some() {
            section.card #handover {
                h2 { (l.t("handover-title")) }
                p { (count_cases(l, p.open)) }
                @if p.open == 0 {
                    p.muted { (l.t("handover-nothing")) }
                } @else if p.colleagues.is_empty() {
                    p.muted { (l.t("handover-no-colleagues")) }
                } @else {
                    p.muted { (l.ta("handover-explain", &name_arg())) }
                    form method="post" action=(format!("{base}/handover")) {
                        (csrf(u))
                        fieldset {
                            legend { (l.t("handover-to")) " " small.muted { (l.t("handover-proposed")) } }
                            @for c in &p.colleagues {
                                label.check {
                                    input type="checkbox" name="to" value=(c.username) checked[proposal.contains(&c.username)];
                                    " " bdi { (c.display_name) } " (" (l.t(&format!("role-{}", c.role.code()))) ") "
                                    small.muted {
                                        (l.ta("caseload-now", &[("count", FluentValue::from(c.open))]))
                                        @if let Some(n) = after.get(c.username.as_str()) {
                                            " → " (l.ta("caseload-after", &[("count", FluentValue::from(*n))]))
                                        }
                                    }
                                }
                            }
                        }
                        button type="submit" { (l.t("hand-over")) }
                    }
                }
            }
        }
        @if u.user().role == Role::Admin {
            section.card #move {
                h2 { (l.t("move-title")) }
                p.muted { (l.t("move-explain")) }
                form.grid-form method="post" action=(format!("{base}/move")) {
                    (csrf(u))
                    label { (l.t("role"))
                        select name="role" { @for r in [Role::Worker, Role::Supervisor, Role::Admin] {
                            option value=(r.code()) selected[r == who.role] { (l.t(&format!("role-{}", r.code()))) }
                        } }
                    }
                    label { (l.t("team"))
                        select name="team" {
                            option value="" selected[who.team.is_none()] { "—" }
                            @for t in &p.teams { option value=(t.name) selected[who.team.as_deref() == Some(t.name.as_str())] { (t.shown()) } }
                        }
                    }
                    button type="submit" { (l.t("move-save")) }
                }
            }
        }
    };
    view::layout(u, &who.display_name, Nav::People, &base, body)
}

fn count_cases(l: &super::i18n::Locale, n: usize) -> String {
    view::count(l, "open-cases-count", n)
}

/// `POST /console/people/{username}/devices/{id}/revoke`: a lost phone (the person's
/// supervisor or an admin).
pub(crate) async fn revoke_device(
    State(state): State<Arc<AppState>>,
    Path((username, device_id)): Path<(String, String)>,
    posted: Posted<Vec<(String, String)>>,
) -> Response {
    let Posted { user, .. } = posted;
    let here = format!("/console/people/{}", view::url_part(&username));
    let result = async {
        require_authority(&user)?;
        let db = state.db.clone();
        let by = user.user().clone();
        let target = device_id.clone();
        blocking(move || {
            let person = db
                .user_by_username(&username)?
                .filter(|p| manages(&by, p))
                .ok_or(AppError::NotFound)?;
            let device = db
                .device(&device_id)?
                .filter(|d| d.user_id == person.id)
                .ok_or(AppError::NotFound)?;
            crate::admin::revoke_device(db.as_ref(), &device.id).map(|_| ())
        })
        .await?;
        tracing::info!(by = %user.user().id, device = %fieldcase_core::error::printable(&target), "device revoked (console)");
        crate::api::log_admin(&state, &user.user().id, "revoke device", &target).await
    }
    .await;
    match result {
        Ok(()) => back(Some(&format!("{here}#devices")), "/console/people"),
        Err(e) => user.error(e),
    }
}

/// `POST /console/people/{username}/handover`: the whole open caseload to the colleagues
/// ticked, in turn (`crate::admin::hand_over`, which logs it).
pub(crate) async fn hand_over(
    State(state): State<Arc<AppState>>,
    Path(username): Path<String>,
    posted: Posted<Vec<(String, String)>>,
) -> Response {
    let Posted { user, form } = posted;
    let to: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "to")
        .map(|(_, v)| v.clone())
        .collect();
    let here = format!("/console/people/{}", view::url_part(&username));
    let result = async {
        require_authority(&user)?;
        if to.is_empty() {
            return Err(AppError::invalid(
                crate::error::Problem::HandoverNoColleague,
                "tick at least one colleague to hand the cases to",
            ));
        }
        crate::admin::hand_over(&state, user.user(), &username, &to).await
    }
    .await;
    match result {
        Ok(_) => back(Some(&format!("{here}#handover")), "/console/people"),
        Err(e) => user.error(e),
    }
}

/// `POST /console/people/{username}/move`: a new role or team (admins;
/// `crate::admin::move_user`, which refuses while cases are assigned to a worker who
/// changes team, and the last active admin's demotion).
pub(crate) async fn move_user(
    State(state): State<Arc<AppState>>,
    Path(username): Path<String>,
    posted: Posted<Vec<(String, String)>>,
) -> Response {
    let Posted { user, form } = posted;
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let (role, team) = (field("role"), field("team"));
    let here = format!("/console/people/{}", view::url_part(&username));
    let result = async {
        if user.user().role != Role::Admin {
            return Err(AppError::Forbidden);
        }
        let role = Role::from_code(&role).ok_or_else(super::admin::no_such_role)?;
        let team = (!team.is_empty()).then_some(team);
        if role != Role::Admin && team.is_none() {
            return Err(crate::db::check::team_needed());
        }
        let db = state.db.clone();
        let target = username.clone();
        let moved = blocking(move || {
            if let Some(t) = &team {
                if !db.teams()?.iter().any(|x| &x.name == t) {
                    return Err(crate::db::check::no_such_team(t));
                }
            }
            crate::admin::move_user(db.as_ref(), &username, role, team.as_deref())
        })
        .await?;
        tracing::info!(by = %user.user().id, user = %moved.id, "role or team changed (console)");
        let what = format!(
            "{target}: {} {}",
            moved.role.code(),
            moved.team.as_deref().unwrap_or("-")
        );
        crate::api::log_admin(&state, &user.user().id, "set role and team", &what).await
    }
    .await;
    match result {
        Ok(()) => back(Some(&format!("{here}#move")), "/console/people"),
        Err(e) => user.error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(name: &str, open: usize) -> Colleague {
        Colleague {
            username: name.into(),
            display_name: name.into(),
            role: Role::Worker,
            open,
        }
    }

    #[test]
    fn the_lightest_caseloads_are_proposed() {
        let team = [c("a", 12), c("b", 3), c("c", 5), c("d", 20)];
        // Average 10: b (3) and c (5), lightest first.
        assert_eq!(proposed(&team, 8), vec!["b", "c"]);
        // Equal caseloads: everyone.
        assert_eq!(proposed(&[c("x", 4), c("y", 4)], 3), vec!["x", "y"]);
        // Nothing to hand over, or no one to take it: no proposal.
        assert!(proposed(&team, 0).is_empty());
        assert!(proposed(&[], 5).is_empty());
        // One colleague: that one.
        assert_eq!(proposed(&[c("solo", 40)], 2), vec!["solo"]);
    }
}
