//! The supervisor console at `/console`: server-rendered HTML (maud), no JavaScript, in six
//! languages ([`i18n`]).
//!
//! | route | page or action |
//! | --- | --- |
//! | `GET /console` | caseload dashboard: per worker, stage, risk; overdue reviews, emergencies, conflicts, recent activity; filters and search |
//! | `GET`, `POST /console/login`, `POST /console/logout` | cookie session with the same accounts as the phones |
//! | `POST /console/language` | the user's language |
//! | `POST /console/account/time-zone` | the user's own time zone, or their team's |
//! | `GET /console/cases/{id}` | the merged case record: every section, who last changed each field, conflicts with a form to choose, visit timeline |
//! | `GET /console/cases/{id}/history?path=` | every change of one field |
//! | `POST /console/cases/{id}/resolve` | choose one value of a conflicting field |
//! | `POST /console/cases/{id}/plan` | approve or return the plan |
//! | `POST /console/cases/{id}/closures/{closure}` | approve or return a closure request |
//! | `POST /console/cases/{id}/assignment` | assign or transfer to workers of the team |
//! | `POST /console/cases/{id}/supervision` | record a case conference, a review of the handling of the case or a disagreement (supervisors, admins) |
//! | `GET /console/cases/{id}/print/{form}`, `GET /console/cases/{id}/export.json` | printed forms, letters and the whole file; the case as JSON for a client's own record (supervisors, admins); audited |
//! | `POST /console/cases/{id}/referrals/{rid}/link`, `POST /console/cases/{id}/links/{link}/revoke`, `GET`, `POST /p/{token}` | a partner's link for one referral, and the partner's page (`partner.rs`) |
//! | `GET /console/approvals` | plans and closures waiting for a decision |
//! | `GET /console/duplicates` | possible duplicates across the agency (issue 19) |
//! | `POST /console/duplicates/dismiss` | a pair is not the same person, never proposed again |
//! | `POST /console/retention/{id}/keep`, `POST /console/retention/{id}/erase` | an admin's decision on a case listed past its retention: keep it N more days, or erase it now (admin log, tombstone) |
//! | `POST /console/duplicates/confirm` | the same person: one case closed as a duplicate of the other (supervisors who see both) |
//! | `GET /console/directory?q&domain&area&language&age&inactive`, `GET`, `POST /console/directory/{id}` | the partner directory for everyone signed in: search, a service's page; admins edit a service (admin log) |
//! | `GET /console/reports?from&to`, `GET /console/reports/{name}.csv`, `GET /console/reports/period.xlsx?from&to` | a period's cases opened and closed per month, clients by gender, age band and stage, referral outcomes, time to closure (SVG charts with their tables; XLSX); service gaps, unmet needs, caseload statistics, closed cases, referral outcomes per organisation and service; CSV |
//! | `GET /console/admin`, `POST /console/admin/...` | users, teams and areas (admins): add a team, add a user, set a password, disable a user, add or rename an area; the audit trail of restricted cases |
//! | `POST /console/cases/{id}/area` | set or clear the client's area, one of the agency's areas (supervisors, admins; the server's admission checks the code) |
//!
//! Access is the server's one rule ([`crate::db::CaseAccess::visible_to`]): a case the user
//! may not see is the same 404 page as a case that does not exist. Every write goes through
//! [`crate::hub::Hub::edit`] as the signed-in user, so phones syncing the case get it.
//!
//! Security: the session cookie holds a session token of the same kind the phones get
//! (`HttpOnly`, `SameSite=Lax`, `Secure` when served over TLS, path `/console`); every
//! state-changing form carries a CSRF token derived from the session token, checked by the
//! [`Posted`] extractor before a handler runs; the login form uses a double-submit token;
//! every response carries a strict CSP (no scripts at all), `nosniff`, `frame-ancestors
//! 'none'`, `Referrer-Policy: no-referrer` and `Cache-Control: no-store`; maud escapes
//! everything interpolated.

pub mod i18n;

mod account;
mod admin;
mod approvals;
mod attachments;
mod dashboard;
mod data;
mod directory;
mod duplicates;
mod erasure;
pub mod partner;
mod people;
mod period;
mod print;
mod record;
mod reports;
mod roster;
pub(crate) mod view;

pub use data::{Cache, Listed};

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::db::Session;
use crate::error::{AppError, Problem};
use crate::AppState;
use i18n::Locale;

/// The session cookie.
const SESSION_COOKIE: &str = "fc_session";
/// The login form's double-submit cookie.
const LOGIN_COOKIE: &str = "fc_login";

/// The console's routes (merged into [`crate::api::app`]).
pub fn routes(state: &Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/console", get(dashboard::page))
        .route("/console/", get(|| async { Redirect::to("/console") }))
        .route("/console/login", get(login_page).post(login))
        .route("/console/logout", post(logout))
        .route("/console/language", post(language))
        .route("/console/account/time-zone", post(time_zone))
        .route("/console/static/console.css", get(css))
        .route("/console/static/print.css", get(print::css))
        .route("/console/cases/{id}/print/{form}", get(print::page))
        .route("/console/cases/{id}/export.json", get(print::export_json))
        .route("/console/cases/{id}", get(record::page))
        .route("/console/cases/{id}/history", get(record::history))
        .route(
            "/console/cases/{id}/attachments/{entry}",
            get(attachments::file),
        )
        .route("/console/cases/{id}/resolve", post(record::resolve))
        .route("/console/cases/{id}/plan", post(approvals::decide_plan))
        .route(
            "/console/cases/{id}/plan/versions/{version}/decision",
            post(approvals::record_plan_decision),
        )
        .route(
            "/console/cases/{id}/closures/{closure}",
            post(approvals::decide_closure),
        )
        .route("/console/cases/{id}/assignment", post(record::assign))
        .route("/console/cases/{id}/area", post(record::set_area))
        .route(
            "/console/cases/{id}/supervision",
            post(record::add_supervision),
        )
        .route(
            "/console/cases/{id}/referrals/{rid}/link",
            post(partner::make),
        )
        .route(
            "/console/cases/{id}/links/{link}/revoke",
            post(partner::revoke),
        )
        .route("/p/{token}", get(partner::page).post(partner::answer))
        .route("/console/erasure", get(erasure::page))
        .route("/console/erasure/{request}", post(erasure::decide))
        .route("/console/cases/{id}/erasure-request", post(erasure::ask))
        .route("/console/retention/{id}/keep", post(erasure::keep))
        .route("/console/retention/{id}/erase", post(erasure::erase_now))
        .route("/console/approvals", get(approvals::page))
        .route("/console/duplicates", get(duplicates::page))
        .route("/console/duplicates/dismiss", post(duplicates::dismiss))
        .route("/console/duplicates/confirm", post(duplicates::confirm))
        .route("/console/reports", get(reports::page))
        .route("/console/reports/period.xlsx", get(period::xlsx))
        .route("/console/reports/{name}", get(reports::csv))
        .route("/console/directory", get(directory::list))
        .route(
            "/console/directory/{id}",
            get(directory::service).post(directory::edit),
        )
        .route("/console/account", get(account::page))
        .route("/console/account/password", post(account::password))
        .route("/console/people", get(people::list))
        .route("/console/people/{username}", get(people::page))
        .route(
            "/console/people/{username}/devices/{device}/revoke",
            post(people::revoke_device),
        )
        .route(
            "/console/people/{username}/handover",
            post(people::hand_over),
        )
        .route("/console/people/{username}/move", post(people::move_user))
        .route("/console/admin", get(admin::page))
        .route("/console/admin/teams", post(admin::add_team))
        .route("/console/admin/areas", post(admin::put_area))
        .route(
            "/console/admin/teams/{name}/label",
            post(admin::rename_team),
        )
        .route("/console/admin/users", post(admin::add_user))
        .route(
            "/console/admin/users/{username}/disable",
            post(admin::disable_user),
        )
        .route(
            "/console/admin/users/{username}/enable",
            post(admin::enable_user),
        )
        .route(
            "/console/admin/devices/{device_id}/revoke",
            post(admin::revoke_device),
        )
        .route(
            "/console/admin/users/{username}/password",
            post(admin::set_password),
        )
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security_headers,
        ))
}

/// The content security policy: our stylesheet, our forms, nothing else (no scripts).
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                       frame-ancestors 'none'; base-uri 'none'";

async fn security_headers(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if state.config.tls {
        // Served over TLS by this server itself: browsers keep to HTTPS for a year.
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    res
}

async fn css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("console.css"),
    )
        .into_response()
}

use crate::now_ms;

/// Runs storage work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Whether the request came over TLS (directly, or through a proxy that says so).
fn is_tls(state: &AppState, headers: &HeaderMap) -> bool {
    state.config.tls
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

fn set_cookie(name: &str, value: &str, max_age_s: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/console; HttpOnly; SameSite=Lax; Max-Age={max_age_s}{secure}"
    ))
    .expect("a cookie of token characters")
}

fn equal_ct(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The CSRF token of a session: derived from its secret token, so it needs no storage and
/// ends with the session.
fn csrf_token(session_token: &str) -> String {
    let d = ring::digest::digest(
        &ring::digest::SHA256,
        format!("fieldcase console csrf\n{session_token}").as_bytes(),
    );
    hex::encode(d.as_ref())
}

/// The signed-in console user: their session, language and CSRF token.
#[derive(Clone)]
pub struct ConsoleUser {
    pub session: Session,
    token: String,
    pub csrf: String,
    pub locale: &'static Locale,
}

impl std::fmt::Debug for ConsoleUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleUser")
            .field("user", &self.session.user.id)
            .finish_non_exhaustive()
    }
}

impl ConsoleUser {
    pub fn user(&self) -> &crate::db::User {
        &self.session.user
    }

    /// An error as an HTML page in the user's language.
    pub fn error(&self, e: AppError) -> Response {
        view::error_page(self.locale, Some(self), e)
    }
}

/// Not signed in: to the login page (for a page), or a plain 401 (for a form post).
#[derive(Debug)]
pub struct NotSignedIn(bool);

impl IntoResponse for NotSignedIn {
    fn into_response(self) -> Response {
        if self.0 {
            Redirect::to("/console/login").into_response()
        } else {
            view::error_page(&i18n::LOCALES[0], None, AppError::Unauthenticated)
        }
    }
}

impl FromRequestParts<Arc<AppState>> for ConsoleUser {
    type Rejection = NotSignedIn;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let is_get = parts.method == axum::http::Method::GET;
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE).map(str::to_string) else {
            return Err(NotSignedIn(is_get));
        };
        let db = state.db.clone();
        let policy = state.config.sessions;
        let t = token.clone();
        let found = blocking(move || {
            let Some(s) = db.session(&t, policy, now_ms())? else {
                return Ok(None);
            };
            let lang = db.user_language(&s.user.id)?;
            let zone = db.user_time_zone(&s.user.id)?;
            Ok(Some((s, lang, zone)))
        })
        .await;
        match found {
            Ok(Some((session, lang, zone))) => {
                // Their own zone, else their team's, else the agency's.
                let tz = zone
                    .and_then(|z| z.parse().ok())
                    .unwrap_or_else(|| state.config.time_zone_of(session.user.team.as_deref()));
                Ok(ConsoleUser {
                    session,
                    csrf: csrf_token(&token),
                    token,
                    locale: Locale::get(lang.as_deref().unwrap_or("en")).in_zone(tz),
                })
            }
            Ok(None) => Err(NotSignedIn(is_get)),
            Err(e) => {
                tracing::error!(error = %e, "console session lookup failed");
                Err(NotSignedIn(is_get))
            }
        }
    }
}

/// A form post by a signed-in user whose CSRF token matched; `T` is the rest of the form.
/// Every state-changing console route takes this, so none can forget the check.
#[derive(Debug)]
pub struct Posted<T> {
    pub user: ConsoleUser,
    pub form: T,
}

/// Why a form post was refused (a page in the user's language).
#[derive(Debug)]
pub struct Refused(Response);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        self.0
    }
}

impl<T: DeserializeOwned> FromRequest<Arc<AppState>> for Posted<T> {
    type Rejection = Refused;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let user = ConsoleUser::from_request_parts(&mut parts, state)
            .await
            .map_err(|e| Refused(e.into_response()))?;
        let req = Request::from_parts(parts, body);
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| {
                Refused(user.error(AppError::invalid(
                    Problem::FormTooLarge,
                    "the form is larger than the server accepts",
                )))
            })?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).map_err(|_| {
            Refused(user.error(AppError::invalid(
                Problem::FormUnreadable,
                "unreadable form",
            )))
        })?;
        let sent = pairs
            .iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        if !equal_ct(sent.as_bytes(), user.csrf.as_bytes()) {
            tracing::warn!(user = %user.session.user.id, "console form without a valid CSRF token");
            return Err(Refused(user.error(AppError::Forbidden)));
        }
        let form = serde_urlencoded::from_bytes(&bytes).map_err(|_| {
            Refused(user.error(AppError::invalid(
                Problem::FormUnreadable,
                "the form is missing a field or has a wrong value",
            )))
        })?;
        Ok(Posted { user, form })
    }
}

/// Where to go after a form: a console path only (no open redirect), in visible ASCII
/// (nothing that could end or split the `Location` header).
fn back(next: Option<&str>, default: &str) -> Response {
    let to = next
        .filter(|n| {
            n.starts_with("/console")
                && !n.contains("//")
                && !n.contains('\\')
                && n.bytes().all(|b| (0x21..0x7f).contains(&b))
        })
        .unwrap_or(default);
    Redirect::to(to).into_response()
}

async fn login_page(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let locale = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Locale::negotiate)
        .unwrap_or(&i18n::LOCALES[0]);
    login_form(locale, is_tls(&state, &headers), None)
}

fn login_form(locale: &'static Locale, secure: bool, error: Option<&str>) -> Response {
    let (nonce, _) = crate::auth::new_token();
    let mut res = view::login_page(locale, &nonce, error).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(LOGIN_COOKIE, &nonce, 3600, secure),
    );
    res
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    login_token: String,
}

async fn login(
    State(state): State<Arc<AppState>>,
    crate::api::ClientAddr(addr): crate::api::ClientAddr,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let locale = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Locale::negotiate)
        .unwrap_or(&i18n::LOCALES[0]);
    let secure = is_tls(&state, &headers);
    let Ok(form) = serde_urlencoded::from_bytes::<LoginForm>(&body) else {
        return login_form(locale, secure, Some("login-error-form"));
    };
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or("");
    if expected.is_empty() || !equal_ct(expected.as_bytes(), form.login_token.as_bytes()) {
        return login_form(locale, secure, Some("login-error-expired"));
    }
    let now = now_ms();
    if form.username.len() > 64 || form.password.len() > 1024 {
        return login_form(locale, secure, Some("login-error-wrong"));
    }
    let user = match state
        .check_login(&form.username, &form.password, addr)
        .await
    {
        Ok(crate::Login::Ok(user)) => user,
        Ok(crate::Login::Wrong) => return login_form(locale, secure, Some("login-error-wrong")),
        Err(e) => return view::error_page(locale, None, e),
    };
    let st = state.clone();
    let result = blocking(move || {
        let db = &st.db;
        // The session is bound to the server's own device for this user (the one the
        // console's edits are attributed to), not to a phone.
        let actor = automerge::ActorId::random().to_hex_string();
        let device = db.server_device(&user, &actor)?;
        let (token, expires_at) = db.create_session(&user, &device, st.config.sessions, now)?;
        tracing::info!(user = %user.id, "console login");
        Ok(Some((token, expires_at)))
    })
    .await;
    match result {
        Ok(Some((token, expires_at))) => {
            let mut res = Redirect::to("/console").into_response();
            let max_age = ((expires_at - now) / 1000).max(0);
            res.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(SESSION_COOKIE, &token, max_age, secure),
            );
            res.headers_mut()
                .append(header::SET_COOKIE, set_cookie(LOGIN_COOKIE, "", 0, secure));
            res
        }
        Ok(None) => login_form(locale, secure, Some("login-error-wrong")),
        Err(e) => view::error_page(locale, None, e),
    }
}

#[derive(Deserialize)]
struct Empty {}

async fn logout(State(state): State<Arc<AppState>>, posted: Posted<Empty>) -> Response {
    let token = posted.user.token.clone();
    let db = state.db.clone();
    if let Err(e) = blocking(move || db.revoke_session(&token)).await {
        return posted.user.error(e);
    }
    let mut res = Redirect::to("/console/login").into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", 0, state.config.tls),
    );
    res
}

#[derive(Deserialize)]
struct TimeZoneForm {
    /// An IANA name, or empty for the team's.
    time_zone: String,
}

/// The user's own time zone for the console's times, or none (their team's).
async fn time_zone(State(state): State<Arc<AppState>>, posted: Posted<TimeZoneForm>) -> Response {
    let Posted { user, form } = posted;
    let chosen = match form.time_zone.as_str() {
        "" => None,
        name => match name.parse::<chrono_tz::Tz>() {
            Ok(tz) => Some(tz.name()),
            Err(_) => {
                return user.error(AppError::invalid(
                    Problem::NoSuchTimeZone,
                    "no such time zone",
                ))
            }
        },
    };
    let db = state.db.clone();
    let id = user.user().id.clone();
    if let Err(e) = blocking(move || db.set_user_time_zone(&id, chosen)).await {
        return user.error(e);
    }
    back(None, "/console/account")
}

#[derive(Deserialize)]
struct LanguageForm {
    lang: String,
    #[serde(default)]
    next: Option<String>,
}

async fn language(State(state): State<Arc<AppState>>, posted: Posted<LanguageForm>) -> Response {
    let Posted { user, form } = posted;
    let Some(locale) = i18n::LOCALES.iter().find(|l| l.code == form.lang) else {
        return user.error(AppError::invalid(
            Problem::NoSuchLanguage,
            "no such language",
        ));
    };
    let db = state.db.clone();
    let id = user.user().id.clone();
    let code = locale.code;
    if let Err(e) = blocking(move || db.set_user_language(&id, code)).await {
        return user.error(e);
    }
    back(form.next.as_deref(), "/console")
}
