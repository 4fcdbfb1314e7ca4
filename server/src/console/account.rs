//! One's own account, for everyone signed in: the devices (phones, and this console) with
//! when each was last used, one's own time zone for the console's times (or the team's),
//! and a form to change one's own password (every session ends).

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use super::view::{self, csrf, Nav};
use super::{back, blocking, ConsoleUser, Posted};
use crate::error::AppError;
use crate::AppState;

pub(crate) async fn page(State(state): State<Arc<AppState>>, u: ConsoleUser) -> Response {
    let result = async {
        let db = state.db.clone();
        let id = u.user().id.clone();
        let now = super::now_ms();
        let (devices, own) = blocking(move || Ok((db.devices_of(&id, now)?, db.user_time_zone(&id)?))).await?;
        let own: Option<chrono_tz::Tz> = own.and_then(|z| z.parse().ok());
        let team_zone = state.config.time_zone_of(u.user().team.as_deref());
        let l = u.locale;
        let body = html! {
            h1 { (l.t("account")) }
            section.card #my-devices {
                h2 { (l.t("devices")) }
                div.scroll tabindex="0" { table {
                    thead { tr { th { (l.t("device")) } th { (l.t("registered")) } th { (l.t("last-seen")) } th {} } }
                    tbody { @for d in &devices {
                        tr.retracted[d.device.disabled] {
                            td { bdi { (d.device.name) } }
                            td { (l.millis(d.device.created_at)) }
                            td { @if let Some(t) = d.last_seen { (l.millis(t)) } @else { "—" } }
                            td { @if d.device.disabled { (l.t("revoked")) } }
                        }
                    } }
                } }
            }
            section.card #my-time-zone {
                h2 { (l.t("time-zone")) }
                p.muted { (l.ta("time-zone-now", &[("zone", l.time_zone().name().into())])) }
                form.grid-form method="post" action="/console/account/time-zone" {
                    (csrf(&u))
                    label { (l.t("time-zone"))
                        select name="time_zone" {
                            option value="" selected[own.is_none()] {
                                (l.ta("time-zone-team", &[("zone", team_zone.name().into())]))
                            }
                            @for tz in chrono_tz::TZ_VARIANTS.iter() {
                                option value=(tz.name()) selected[own == Some(*tz)] { (tz.name()) }
                            }
                        }
                    }
                    button type="submit" { (l.t("save")) }
                }
            }
            section.card #my-password {
                h2 { (l.t("change-password")) }
                form.grid-form method="post" action="/console/account/password" {
                    (csrf(&u))
                    label { (l.t("current-password")) input name="current_password" type="password" required autocomplete="current-password"; }
                    label { (l.t("new-password")) input name="new_password" type="password" required minlength="12" autocomplete="new-password"; }
                    button type="submit" { (l.t("change-password")) }
                }
            }
        };
        Ok::<_, AppError>(view::layout(&u, &l.t("account"), Nav::None, "/console/account", body))
    }
    .await;
    match result {
        Ok(p) => p.into_response(),
        Err(e) => u.error(e),
    }
}

#[derive(Deserialize)]
pub(crate) struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// Changes one's own password: the current one is checked (throttled like a sign-in), the
/// new one meets the policy; every session ends, this one too, so the console signs in anew.
pub(crate) async fn password(
    State(state): State<Arc<AppState>>,
    crate::api::ClientAddr(addr): crate::api::ClientAddr,
    posted: Posted<PasswordChange>,
) -> Response {
    let Posted { user, form } = posted;
    let result = async {
        const MAX: usize = crate::db::check::PASSWORD_CHANGE_MAX_BYTES;
        if form.current_password.len() > MAX || form.new_password.len() > MAX {
            return Err(crate::db::check::password_change_too_long());
        }
        let username = user.user().username.clone();
        match state
            .check_login(&username, &form.current_password, addr)
            .await?
        {
            crate::Login::Ok(u) if u.id == user.user().id => {}
            _ => return Err(crate::db::check::current_password_wrong()),
        }
        let db = state.db.clone();
        let iterations = state.config.password_iterations;
        blocking(move || db.set_password(&username, &form.new_password, iterations)).await?;
        tracing::info!(user = %user.user().id, "password changed by its user (console)");
        Ok(())
    }
    .await;
    match result {
        Ok(()) => back(None, "/console/login"),
        Err(e) => user.error(e),
    }
}
