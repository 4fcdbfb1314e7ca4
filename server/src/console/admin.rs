//! Users, teams and areas, for admins: the lists, and forms to add a team, add a user and
//! disable a user (their sessions end and their phones wipe at next contact), add or rename
//! an area (the agency's communes or districts, which cases count by).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use fieldcase_core::Role;
use maud::html;
use serde::Deserialize;

use super::view::{self, csrf, Nav};
use super::{back, blocking, ConsoleUser, Posted};
use crate::error::{AppError, Problem};
use crate::AppState;

/// A role that is not one of ours (the form offers only those).
pub(crate) fn no_such_role() -> AppError {
    AppError::invalid(Problem::NoSuchRole, "unknown role")
}

fn require_admin(u: &ConsoleUser) -> Result<(), AppError> {
    if u.user().role == Role::Admin {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

pub(crate) async fn page(State(state): State<Arc<AppState>>, u: ConsoleUser) -> Response {
    let result = async {
        require_admin(&u)?;
        let db = state.db.clone();
        let now = super::now_ms();
        let (teams, mut users, trail, log, devices, areas) = blocking(move || {
            let users: Vec<_> = db.users()?.into_iter().filter(|u| !u.is_partner()).collect();
            let mut devices = std::collections::HashMap::new();
            for u in &users {
                devices.insert(u.id.clone(), db.devices_of(&u.id, now)?);
            }
            Ok((
                db.teams()?,
                users,
                db.audit_trail(None, 50)?,
                db.admin_log(50)?,
                devices,
                db.areas()?,
            ))
        })
        .await?;
        let names: std::collections::HashMap<String, String> = users
            .iter()
            .map(|x| (x.id.clone(), x.display_name.clone()))
            .collect();
        users.sort_by(|a, b| (&a.team, &a.username).cmp(&(&b.team, &b.username)));
        let team_names = super::data::Teams::of(&teams);
        let l = u.locale;
        let body = html! {
            h1 { (l.t("admin-title")) }
            p { a href="/console/erasure" { (l.t("erasure-link")) } }
            section.card {
                h2 { (l.t("teams")) }
                ul { @for t in &teams {
                    li {
                        bdi { (t.shown()) }
                        @if t.label.is_some() { " " small.muted { "(" (l.t("team-key")) " " code { (t.name) } ")" } }
                        " "
                        form.inline method="post" action=(format!("/console/admin/teams/{}/label", view::url_part(&t.name))) {
                            (csrf(&u))
                            label { span.sr { (l.t("team-new-label")) }
                                input name="label" required maxlength="100" value=(t.shown()) aria-label=(l.t("team-new-label"));
                            }
                            button.secondary type="submit" { (l.t("team-rename")) }
                        }
                    }
                } }
                form.inline method="post" action="/console/admin/teams" {
                    (csrf(&u))
                    label { (l.t("team-name")) input name="name" required maxlength="64"; }
                    button type="submit" { (l.t("add-team")) }
                }
            }
            section.card #areas {
                h2 { (l.t("areas")) }
                p.muted { (l.t("areas-intro")) }
                @if areas.is_empty() { p.muted { (l.t("areas-none")) } }
                @else {
                    div.scroll tabindex="0" { table {
                        thead { tr { th scope="col" { (l.t("area-code")) } th scope="col" { (l.t("area-name")) } } }
                        tbody { @for a in &areas {
                            tr { td { code { (a.code) } } td { bdi { (a.name) } } }
                        } }
                    } }
                }
                form.inline method="post" action="/console/admin/areas" {
                    (csrf(&u))
                    label { (l.t("area-code")) " " input name="code" required maxlength=(fieldcase_core::schema::AREA_CODE_MAX) pattern=r"[A-Za-z0-9._\-]+"; }
                    " "
                    label { (l.t("area-name")) " " input name="name" required maxlength=(state.config.areas.max_name_chars); }
                    " "
                    button type="submit" { (l.t("add-area")) }
                }
            }
            section.card {
                h2 { (l.t("users")) }
                div.scroll tabindex="0" { table {
                    thead { tr { th { (l.t("username")) } th { (l.t("f-name")) } th { (l.t("role")) } th { (l.t("team")) } th {} } }
                    tbody { @for usr in &users {
                        tr.retracted[usr.disabled] {
                            td { a href=(format!("/console/people/{}", view::url_part(&usr.username))) { (usr.username) } }
                            td { bdi { (usr.display_name) } }
                            td { (l.t(&format!("role-{}", usr.role.code()))) }
                            td { bdi { (usr.team.as_deref().map(|t| team_names.shown(t)).unwrap_or_default()) } }
                            td {
                                @if usr.disabled {
                                    (l.t("disabled")) " "
                                    form.inline method="post" action=(format!("/console/admin/users/{}/enable", view::url_part(&usr.username))) {
                                        (csrf(&u))
                                        button.secondary type="submit" { (l.t("enable")) }
                                    }
                                }
                                @else {
                                    form.inline method="post" action=(format!("/console/admin/users/{}/password", view::url_part(&usr.username))) {
                                        (csrf(&u))
                                        label { span.sr { (l.t("new-password")) }
                                            input name="password" type="password" required minlength="12" autocomplete="new-password" placeholder=(l.t("new-password"));
                                        }
                                        button.secondary type="submit" { (l.t("set-password")) }
                                    }
                                    @if usr.id != u.user().id {
                                        " "
                                        form.inline method="post" action=(format!("/console/admin/users/{}/disable", view::url_part(&usr.username))) {
                                            (csrf(&u))
                                            button.secondary type="submit" { (l.t("disable")) }
                                        }
                                    }
                                }
                            }
                        }
                    } }
                } }
                h3 { (l.t("add-user")) }
                form.grid-form method="post" action="/console/admin/users" {
                    (csrf(&u))
                    label { (l.t("username")) input name="username" required maxlength="64" autocomplete="off"; }
                    label { (l.t("f-name")) input name="display_name" maxlength="128"; }
                    label { (l.t("role"))
                        select name="role" { @for r in [Role::Worker, Role::Supervisor, Role::Admin] { option value=(r.code()) { (l.t(&format!("role-{}", r.code()))) } } }
                    }
                    label { (l.t("team"))
                        select name="team" { option value="" { "—" } @for t in &teams { option value=(t.name) { (t.shown()) } } }
                    }
                    label { (l.t("password")) input name="password" type="password" required minlength="12" autocomplete="new-password"; }
                    button type="submit" { (l.t("add-user")) }
                }
            }
            section.card #devices {
                h2 { (l.t("devices")) }
                p.muted { (l.t("devices-explain")) }
                div.scroll tabindex="0" { table {
                    thead { tr { th { (l.t("username")) } th { (l.t("device")) } th { (l.t("registered")) } th { (l.t("last-seen")) } th { (l.t("unsynced-col")) } th {} } }
                    tbody { @for usr in &users { @for d in devices.get(&usr.id).map(Vec::as_slice).unwrap_or_default() {
                        tr.retracted[d.device.disabled] {
                            td { (usr.username) }
                            td { bdi { (d.device.name) } " " small.muted { code { (d.device.id) } @if let Some(v) = &d.app_version { " · " bdi { (v) } } } }
                            td { (l.millis(d.device.created_at)) }
                            td { @if let Some(t) = d.last_seen { (l.millis(t)) } @else { "—" } }
                            td { (view::unsynced(l, d.unsynced.as_ref())) }
                            td {
                                @if d.device.disabled { (l.t("revoked")) }
                                @else {
                                    form.inline method="post" action=(format!("/console/admin/devices/{}/revoke", view::url_part(&d.device.id))) {
                                        (csrf(&u))
                                        button.secondary type="submit" { (l.t("revoke")) }
                                    }
                                }
                            }
                        }
                    } } }
                } }
            }
            section.card #admin-log {
                h2 { (l.t("admin-log")) }
                @if log.is_empty() { p.muted { (l.t("none")) } }
                @else {
                    div.scroll tabindex="0" { table {
                        thead { tr { th { (l.t("f-when")) } th { (l.t("who")) } th { (l.t("action")) } th { (l.t("admin-target")) } } }
                        tbody { @for e in &log {
                            tr {
                                td { (l.millis(e.at)) }
                                td { bdi { (names.get(&e.by).cloned().unwrap_or_else(|| e.by.clone())) } }
                                td { code { (e.action) } }
                                td { bdi { (e.target) } }
                            }
                        } }
                    } }
                }
            }
            section.card #audit {
                h2 { (l.t("audit-trail")) }
                p.muted { (l.t("audit-explain")) }
                @if trail.is_empty() { p.muted { (l.t("none")) } }
                @else {
                    div.scroll tabindex="0" { table {
                        thead { tr { th { (l.t("f-when")) } th { (l.t("who")) } th { (l.t("col-case")) } th { (l.t("action")) } } }
                        tbody { @for e in &trail {
                            tr {
                                td { (l.millis(e.at)) }
                                td { bdi { (names.get(&e.user_id).cloned().unwrap_or_else(|| e.user_id.clone())) } }
                                td { code { (e.case_id) } }
                                td { code { (e.action) } }
                            }
                        } }
                    } }
                }
            }
        };
        Ok::<_, AppError>(view::layout(&u, &l.t("admin-title"), Nav::Admin, "/console/admin", body))
    }
    .await;
    match result {
        Ok(p) => p.into_response(),
        Err(e) => u.error(e),
    }
}

#[derive(Deserialize)]
pub(crate) struct NewTeam {
    name: String,
}

pub(crate) async fn add_team(
    State(state): State<Arc<AppState>>,
    posted: Posted<NewTeam>,
) -> Response {
    let Posted { user, form } = posted;
    admin_form(&user, async {
        let name = form.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 64 {
            return Err(AppError::invalid(
                Problem::TeamNameInvalid,
                "a team needs a name of up to 64 characters",
            )
            .with("max", "64"));
        }
        let db = state.db.clone();
        let target = name.clone();
        blocking(move || db.add_team(&name)).await?;
        tracing::info!(by = %user.user().id, "team added (console)");
        crate::api::log_admin(&state, &user.user().id, "add team", &target).await?;
        Ok(())
    })
    .await
}

#[derive(Deserialize)]
pub(crate) struct NewArea {
    code: String,
    name: String,
}

/// Adds an area, or renames the one with the code (admins).
pub(crate) async fn put_area(
    State(state): State<Arc<AppState>>,
    posted: Posted<NewArea>,
) -> Response {
    let Posted { user, form } = posted;
    admin_form(&user, async {
        crate::api::put_area(&state, &user.user().id, form.code, form.name).await?;
        Ok(())
    })
    .await
}

#[derive(Deserialize)]
pub(crate) struct TeamLabel {
    label: String,
}

/// Renames a team (its label; the name stays the key): admins.
pub(crate) async fn rename_team(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    posted: Posted<TeamLabel>,
) -> Response {
    let Posted { user, form } = posted;
    admin_form(&user, async {
        let db = state.db.clone();
        let team = blocking(move || db.rename_team(&name, &form.label)).await?;
        tracing::info!(by = %user.user().id, "team renamed (console)");
        let target = format!("{} → {}", team.name, team.shown());
        crate::api::log_admin(&state, &user.user().id, "rename team", &target).await
    })
    .await
}

#[derive(Deserialize)]
pub(crate) struct NewUser {
    username: String,
    #[serde(default)]
    display_name: String,
    role: String,
    #[serde(default)]
    team: String,
    password: String,
}

pub(crate) async fn add_user(
    State(state): State<Arc<AppState>>,
    posted: Posted<NewUser>,
) -> Response {
    let Posted { user, form } = posted;
    admin_form(&user, async {
        let role = Role::from_code(&form.role).ok_or_else(no_such_role)?;
        let username = form.username.trim().to_string();
        if username.is_empty() || username.len() > crate::db::check::USERNAME_MAX {
            return Err(AppError::invalid(
                Problem::UsernameInvalid,
                "a username of 1 to 64 bytes is needed",
            )
            .with("max", crate::db::check::USERNAME_MAX.to_string()));
        }
        crate::db::check::password(&form.password, &[&username, &form.display_name])?;
        let team = (!form.team.is_empty()).then(|| form.team.clone());
        if role != Role::Admin && team.is_none() {
            return Err(crate::db::check::team_needed());
        }
        let db = state.db.clone();
        let iterations = state.config.password_iterations;
        let display = form.display_name.trim().to_string();
        let password = form.password.clone();
        let added = blocking(move || {
            db.add_user(
                &username,
                &display,
                role,
                team.as_deref(),
                &password,
                iterations,
            )
        })
        .await?;
        tracing::info!(user = %added.id, by = %user.user().id, "user added (console)");
        crate::api::log_admin(&state, &user.user().id, "add user", &added.username).await?;
        Ok(())
    })
    .await
}

#[derive(Deserialize)]
pub(crate) struct NewPassword {
    password: String,
}

/// Sets a user's password (an admin resets a forgotten one): their sessions end.
pub(crate) async fn set_password(
    State(state): State<Arc<AppState>>,
    Path(username): Path<String>,
    posted: Posted<NewPassword>,
) -> Response {
    let Posted { user, form } = posted;
    admin_form(&user, async {
        crate::db::check::password(&form.password, &[&username])?;
        let db = state.db.clone();
        let iterations = state.config.password_iterations;
        let target = username.clone();
        blocking(move || match db.user_by_username(&username)? {
            Some(_) => db.set_password(&username, &form.password, iterations),
            None => Err(AppError::NotFound),
        })
        .await?;
        tracing::info!(by = %user.user().id, "password set (console)");
        crate::api::log_admin(&state, &user.user().id, "set password", &target).await?;
        Ok(())
    })
    .await
}

#[derive(Deserialize)]
pub(crate) struct Nothing {}

pub(crate) async fn disable_user(
    State(state): State<Arc<AppState>>,
    Path(username): Path<String>,
    posted: Posted<Nothing>,
) -> Response {
    let Posted { user, .. } = posted;
    admin_form(&user, async {
        if username == user.user().username {
            return Err(AppError::invalid(
                Problem::DisableSelf,
                "an admin cannot disable themselves",
            ));
        }
        let db = state.db.clone();
        let target = username.clone();
        blocking(move || db.disable_user(&username)).await?;
        tracing::info!(by = %user.user().id, "user disabled (console)");
        crate::api::log_admin(&state, &user.user().id, "disable user", &target).await
    })
    .await
}

/// An admin's form on the admin page: refused to anyone else (and nothing of `action`
/// runs); back to the admin page when done.
async fn admin_form(
    user: &ConsoleUser,
    action: impl std::future::Future<Output = Result<(), AppError>>,
) -> Response {
    let result = match require_admin(user) {
        Ok(()) => action.await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => back(None, "/console/admin"),
        Err(e) => user.error(e),
    }
}

/// Enables a disabled user again (they sign in anew; their old devices stay revoked).
pub(crate) async fn enable_user(
    State(state): State<Arc<AppState>>,
    Path(username): Path<String>,
    posted: Posted<Nothing>,
) -> Response {
    let Posted { user, .. } = posted;
    admin_form(&user, async {
        let db = state.db.clone();
        let target = username.clone();
        blocking(move || db.enable_user(&username)).await?;
        tracing::info!(by = %user.user().id, "user enabled (console)");
        crate::api::log_admin(&state, &user.user().id, "enable user", &target).await
    })
    .await
}

/// Revokes a device (a lost phone): its sessions end, and its next contact wipes it.
pub(crate) async fn revoke_device(
    State(state): State<Arc<AppState>>,
    Path(device_id): Path<String>,
    posted: Posted<Nothing>,
) -> Response {
    let Posted { user, .. } = posted;
    admin_form(&user, async {
        let db = state.db.clone();
        let target = device_id.clone();
        blocking(move || crate::admin::revoke_device(db.as_ref(), &device_id)).await?;
        tracing::info!(by = %user.user().id, device = %target, "device revoked (console)");
        crate::api::log_admin(&state, &user.user().id, "revoke device", &target).await
    })
    .await
}
