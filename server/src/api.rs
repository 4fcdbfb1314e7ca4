//! The REST API. `app(state)` builds the router, so tests drive it directly.
//!
//! | route | what |
//! | --- | --- |
//! | `GET /healthz` | liveness |
//! | `GET /readyz` | readiness: the storage answers (its migrations ran when it opened) |
//! | `GET /metrics` | Prometheus counters: `Bearer` the `metrics_token` setting, or an admin's session token; anyone else `404` |
//! | `POST /v1/login` | `{username, password, device_name, actor_id, device_id?}` → `{token, user_id, device_id, expires_at}` |
//! | `POST /v1/logout` | ends the session of the token |
//! | `GET /v1/me` | who the token belongs to (clients check a token before connecting) |
//! | `GET /v1/caseload` | ids and heads of every case the caller may see |
//! | `GET /v1/settings` | the caller's team's deadlines (days after intake, a referral, an approved plan), which phones compute due dates with |
//! | `GET /v1/areas` | the agency's areas `[{code, name}]`, by code: the phone offers them for the client's area (`client/area`, which the server admits only from this list) |
//! | `GET /v1/directory?have=N` | the partner directory: `204` when the phone's version `N` is the stored one, else `{version, updated_at, directory}` (the whole snapshot, at most `directory.max_bytes`) |
//! | `GET /v1/cases/{id}` | the merged case file as JSON |
//! | `POST /v1/cases/erased` | `{ids}` (at most 1,000): which of these cases were erased (of the caller's team), so that a phone removes them without handing anything in → `{erased}` |
//! | `GET /v1/cases/{id}/attachments/{hash}/upload` | how far the upload of a file the case names got (`crate::attachments`) |
//! | `PUT`, `GET /v1/cases/{id}/attachments/{hash}/chunks/{n}` | a chunk of that file, sent in order, or fetched once the server holds it whole |
//! | `POST /v1/cases/{id}/assignment` | `{workers, case_manager?}` (usernames): supervisors and admins assign or transfer a case |
//! | `POST /v1/cases/{id}/departure` | the last changes of a phone whose user left the case's caseload (raw Automerge changes; write-only) |
//! | `GET /v1/admin/audit?case=ID` | who read, printed or was sent which case, on which device (admins) |
//! | `GET`, `POST /v1/admin/teams` | list or add teams (admins) |
//! | `POST /v1/admin/teams/{name}/label` | `{label}`: rename a team (admins); its name stays the key |
//! | `POST /v1/admin/areas` | `{code, name}`: add an area, or rename the one with the code (admins); codes are never removed |
//! | `GET`, `POST /v1/admin/users` | list or add users (admins) |
//! | `POST /v1/admin/users/{username}/disable` | disable a user: sessions end, devices wipe (admins) |
//! | `POST /v1/admin/users/{username}/enable` | enable a disabled user again (admins) |
//! | `GET /v1/admin/users/{username}/devices` | a user's devices: registered, last seen, open sessions (admins; supervisors for their team) |
//! | `POST /v1/admin/devices/{device_id}/revoke` | a lost phone: its sessions end and its next contact wipes it (admins; supervisors for their team) |
//! | `GET /v1/admin/log` | administrative actions, newest first (admins) |
//! | `POST /v1/admin/users/{username}/handover` | `{to: [usernames]}`: a leaver's whole caseload to named colleagues of the team, in turn (admins; supervisors for their team) |
//! | `POST /v1/admin/users/{username}/role` | `{role, team?}`: another role or team; refused while cases are assigned to them (admins) |
//! | `GET /v1/me/devices` | the caller's own devices |
//! | `POST /v1/me/password` | `{current_password, new_password}`: the caller changes their password (every session ends) |
//! | `GET /v1/openapi.json` | the OpenAPI description of these routes |
//!
//! Tokens come as `Authorization: Bearer <token>` (the sync upgrade also takes `?token=`,
//! for WebSocket clients that cannot set headers). Errors are JSON
//! `{"error": code, "message": text}`; a case the caller may not see answers exactly like
//! one that does not exist.
//!
//! The phone's routes (`/v1/login`, `/v1/caseload`, `/v1/sync`, a case's departure) want
//! the case schema revision the app writes in the `fieldcase-schema` header (the sync
//! upgrade also takes `?schema=`); an app that says none, or an earlier one than
//! [`MIN_APP_SCHEMA`] (or the `cases.min_app_schema` setting), gets `426`
//! `{"error": "update_app", "needed": N}` before anything else is looked at.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::db::{self, Session};
use crate::error::{AppError, AppResult, Problem};
use crate::AppState;
use fieldcase_core::error::printable;
use fieldcase_core::{CaseDoc, CaseId, Refusal, RefusalKind};

/// The largest REST request body accepted.
pub const MAX_BODY: usize = 64 * 1024;

/// Builds the router.
pub fn app(state: Arc<AppState>) -> Router {
    // Before anything else on the phone's doors (login, the caseload a sync starts from,
    // the sync socket, a departure: credentials included), an app of an earlier case
    // schema revision is told to update.
    let gate = || axum::middleware::from_fn_with_state(state.clone(), app_schema_gate);
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .route("/v1/login", post(login).layer(gate()))
        .route("/v1/logout", post(logout))
        .route("/v1/me", get(me))
        .route("/v1/caseload", get(caseload).layer(gate()))
        .route("/v1/settings", get(settings).layer(gate()))
        .route("/v1/cases/{id}/matches", get(case_matches))
        .route("/v1/cases/{id}/related", get(case_related))
        .route("/v1/areas", get(areas).layer(gate()))
        .route("/v1/directory", get(directory).layer(gate()))
        .route("/v1/cases/erased", post(erased).layer(gate()))
        .route("/v1/cases/{id}", get(case))
        .route("/v1/cases/{id}/assignment", post(assign))
        .route(
            "/v1/cases/{id}/attachments/{hash}/upload",
            get(crate::attachments::upload_status).layer(gate()),
        )
        .route(
            "/v1/cases/{id}/attachments/{hash}/chunks/{n}",
            get(crate::attachments::get_chunk)
                .put(crate::attachments::put_chunk)
                .layer(DefaultBodyLimit::max(
                    fieldcase_core::attachment::CHUNK_BYTES,
                ))
                .layer(gate()),
        )
        .route("/v1/cases/{id}/referrals/{rid}/links", post(partner_link))
        .route(
            "/v1/cases/{id}/departure",
            post(departure)
                .layer(DefaultBodyLimit::max(
                    fieldcase_core::sync::protocol::MAX_FRAME,
                ))
                .layer(gate()),
        )
        .route("/v1/admin/audit", get(admin_audit))
        .route("/v1/admin/teams", get(admin_teams).post(admin_add_team))
        .route("/v1/admin/teams/{name}/label", post(admin_rename_team))
        .route("/v1/admin/areas", post(admin_put_area))
        .route("/v1/admin/users", get(admin_users).post(admin_add_user))
        .route(
            "/v1/admin/users/{username}/disable",
            post(admin_disable_user),
        )
        .route("/v1/admin/users/{username}/enable", post(admin_enable_user))
        .route(
            "/v1/admin/users/{username}/devices",
            get(admin_user_devices),
        )
        .route(
            "/v1/admin/devices/{device_id}/revoke",
            post(admin_revoke_device),
        )
        .route("/v1/admin/log", get(admin_log))
        .route("/v1/admin/users/{username}/handover", post(admin_hand_over))
        .route("/v1/admin/users/{username}/role", post(admin_move_user))
        .route("/v1/me/devices", get(my_devices))
        .route("/v1/me/password", post(my_password))
        .route("/v1/sync", get(crate::sync::endpoint).layer(gate()))
        .route("/v1/openapi.json", get(openapi))
        .merge(crate::console::routes(&state))
        .fallback(|| async { AppError::NotFound })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// Readiness, apart from liveness: the storage answers a query (503 when it does not).
/// Its migrations ran when it was opened, before the server started listening.
async fn ready(State(state): State<Arc<AppState>>) -> axum::response::Response {
    use axum::response::IntoResponse;
    match db::blocking(&state.db, |db| db.teams().map(|_| ())).await {
        Ok(()) => "ready".into_response(),
        Err(e) => {
            tracing::error!(error = %e, "not ready: the storage does not answer");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"error": "not_ready", "message": "the storage does not answer"})),
            )
                .into_response()
        }
    }
}

/// The OpenAPI description of this API (`server/api/openapi.json`).
pub const OPENAPI: &str = include_str!("../api/openapi.json");

async fn openapi() -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI,
    )
}

use crate::now_ms;

/// A JSON body whose rejections use our error format (and never echo the input).
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(JsonBody(v)),
            Err(rejection) => Err(match rejection.status().as_u16() {
                413 => AppError::invalid(
                    Problem::BodyTooLarge,
                    format!("the body is larger than {MAX_BODY} bytes"),
                )
                .with("max_bytes", MAX_BODY.to_string()),
                415 => AppError::invalid(
                    Problem::BodyNotJsonType,
                    "send the body as application/json",
                ),
                _ => AppError::invalid(
                    Problem::BodyNotJson,
                    "the body is not valid JSON of the expected shape",
                ),
            }),
        }
    }
}

/// The caller's session, from `Authorization: Bearer <token>` (or, on the sync upgrade
/// only, `?token=`), and the token.
pub struct Auth(pub Session, pub String);

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is a secret: never in logs.
        f.debug_tuple("Auth")
            .field(&self.0.user.id)
            .field(&"<token>")
            .finish()
    }
}

impl FromRequestParts<Arc<AppState>> for Auth {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)
            .or_else(|| sync_query_token(parts))
            .ok_or(AppError::Unauthenticated)?;
        let db = state.db.clone();
        let policy = state.config.sessions;
        let t = token.clone();
        let session = tokio::task::spawn_blocking(move || -> AppResult<_> {
            match db.session(&t, policy, now_ms())? {
                Some(s) => Ok(Ok(s)),
                None if db.token_disabled(&t)? => Ok(Err(AppError::Disabled)),
                None => Ok(Err(AppError::Unauthenticated)),
            }
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))???;
        Ok(Auth(session, token))
    }
}

/// The token of `Authorization: Bearer <token>`.
fn bearer(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string())
}

/// The token of `/v1/sync?token=<token>`, for WebSocket clients that cannot set headers
/// (browsers, and the JavaScript automerge-repo adapter, which takes only a URL). Accepted
/// on the sync upgrade only: a URL can end up in a proxy's log, so every other route wants
/// the header. The server itself never logs request URIs.
fn sync_query_token(parts: &Parts) -> Option<String> {
    if parts.uri.path() != "/v1/sync" {
        return None;
    }
    parts.uri.query()?.split('&').find_map(|pair| {
        let token = pair.strip_prefix("token=")?;
        // Tokens are hex: anything that would need percent-decoding is not one.
        (!token.is_empty() && token.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| token.to_string())
    })
}

/// The earliest revision of the case schema an app may write to sync with this server:
/// this version's own ([`fieldcase_core::schema::SCHEMA_REVISION`]). An app of an earlier
/// revision closes cases only at review, ranks risk on a scale, and approves plans without
/// keeping the version, so it is told to update before it writes anything. An app of
/// revision 4 would take a case holding the client's area (revision 5) for a broken one
/// (an unknown field), so it too updates first.
pub const MIN_APP_SCHEMA: u32 = fieldcase_core::schema::SCHEMA_REVISION;

/// The middleware of [`require_app_schema`] on the phone's routes: `/v1/login`,
/// `/v1/caseload`, `/v1/sync` and a case's departure.
async fn app_schema_gate(
    State(state): State<Arc<AppState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    use fieldcase_core::sync::protocol::SCHEMA_HEADER;
    let mut request = request;
    match require_app_schema(&state, request.headers(), request.uri()) {
        Ok(revision) => {
            request.extensions_mut().insert(AppSchema(revision));
            let mut response = next.run(request).await;
            // The revision this server knows: a phone of a newer one offers again what
            // was refused as `newer_schema` once the server says it knows it.
            response.headers_mut().insert(
                SCHEMA_HEADER,
                axum::http::HeaderValue::from(fieldcase_core::schema::SCHEMA_REVISION),
            );
            response
        }
        Err(e) => e.into_response(),
    }
}

/// The case schema revision the app on the other end writes (its `fieldcase-schema`),
/// set on the phone's routes by [`app_schema_gate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppSchema(pub u32);

impl AppSchema {
    /// A refusal as this app should hear it: a document that does not follow this
    /// server's schema, from an app of a newer revision, is most likely that revision's
    /// (new fields or codes), so the phone keeps it until the server is updated
    /// ([`RefusalKind::NewerSchema`]) rather than holding it back as broken.
    pub fn refusal(self, refusal: Refusal) -> Refusal {
        let ours = fieldcase_core::schema::SCHEMA_REVISION;
        if refusal.kind == RefusalKind::InvalidDocument && self.0 > ours {
            Refusal::new(
                RefusalKind::NewerSchema,
                format!(
                    "this server knows case schema revision {ours} and the app writes {}; \
                     the changes wait on the phone until the server is updated ({})",
                    self.0, refusal.message
                ),
            )
        } else {
            refusal
        }
    }
}

/// Refuses an app that does not say it writes [`MIN_APP_SCHEMA`] or later, in the
/// `fieldcase-schema` header (or, on the sync upgrade only, `schema=` in the query for
/// WebSocket clients that cannot set headers). Apps before revision 2 send neither.
pub(crate) fn require_app_schema(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    uri: &axum::http::Uri,
) -> AppResult<u32> {
    use fieldcase_core::sync::protocol::SCHEMA_HEADER;
    let from_header = headers
        .get(SCHEMA_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let from_query = || {
        (uri.path() == "/v1/sync")
            .then(|| uri.query())
            .flatten()?
            .split('&')
            .find_map(|p| p.strip_prefix("schema=").map(str::to_string))
    };
    let revision = from_header
        .or_else(from_query)
        .and_then(|v| v.trim().parse::<u32>().ok())
        .unwrap_or(1);
    let needed = state.config.min_app_schema.max(MIN_APP_SCHEMA);
    if revision < needed {
        crate::Metrics::inc(&state.metrics.update_app);
        tracing::info!(
            revision,
            "an app of an earlier schema revision was told to update"
        );
        return Err(AppError::UpdateApp { needed });
    }
    Ok(revision)
}

#[derive(Debug, Deserialize)]
struct LoginRequest {
    username: String,
    password: String,
    device_name: String,
    actor_id: String,
    #[serde(default)]
    device_id: Option<String>,
}

/// The answer to a successful login (the phone reads the same type).
pub use fieldcase_core::sync::ServerSession as LoginResponse;

async fn login(
    State(state): State<Arc<AppState>>,
    ClientAddr(addr): ClientAddr,
    JsonBody(req): JsonBody<LoginRequest>,
) -> AppResult<Json<LoginResponse>> {
    let now = now_ms();
    if req.username.len() > 64 || req.password.len() > 1024 {
        return Err(AppError::Unauthenticated);
    }
    let user = match state
        .check_login(&req.username, &req.password, addr)
        .await?
    {
        crate::Login::Ok(user) => user,
        crate::Login::Wrong => return Err(AppError::Unauthenticated),
    };
    let st = state.clone();
    tokio::task::spawn_blocking(move || {
        let db = &st.db;
        let device_id = db.register_device(
            &user,
            req.device_id.as_deref(),
            &req.device_name,
            &req.actor_id,
        )?;
        let (token, expires_at) = db.create_session(&user, &device_id, st.config.sessions, now)?;
        tracing::info!(user = %printable(&user.id), device = %printable(&device_id), "login");
        Ok(Json(LoginResponse {
            token,
            user_id: user.id,
            device_id,
            expires_at,
        }))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
}

/// The client's address: as the listener saw it, or from `X-Forwarded-For` when the
/// listener's peer is a trusted proxy (absent when the router is driven without a
/// listener, as route tests do).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<std::net::IpAddr>);

impl FromRequestParts<Arc<AppState>> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        let forwarded = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|h| h.to_str().ok());
        Ok(ClientAddr(state.client_address(peer, forwarded)))
    }
}

async fn logout(
    State(state): State<Arc<AppState>>,
    Auth(_, token): Auth,
) -> AppResult<Json<Value>> {
    db::blocking(&state.db, move |db| db.revoke_session(&token)).await?;
    Ok(Json(json!({ "ok": true })))
}

async fn me(Auth(session, _): Auth) -> Json<Value> {
    let u = session.user;
    Json(json!({
        "user_id": u.id, "username": u.username, "name": u.display_name, "role": u.role,
        "team": u.team, "device_id": session.device_id, "expires_at": session.expires_at,
    }))
}

/// One case of a caseload: its id and current heads (hex); the phone reads the same type.
pub use fieldcase_core::sync::CaseloadEntry;

/// The caller's team's deadlines: the phone computes due and overdue steps with them,
/// offline.
async fn settings(
    State(state): State<Arc<AppState>>,
    Auth(session, _): Auth,
) -> Json<fieldcase_core::deadlines::Deadlines> {
    Json(state.config.deadlines_of(session.user.team.as_deref()))
}

/// The agency's areas, for phones (anyone signed in): the client's area is one of them.
async fn areas(
    State(state): State<Arc<AppState>>,
    Auth(_session, _): Auth,
) -> AppResult<Json<Vec<crate::db::areas::Area>>> {
    Ok(Json(db::blocking(&state.db, |db| db.areas()).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewArea {
    code: String,
    name: String,
}

/// Adds an area or renames one (admins): the console's form and the command line do the
/// same ([`crate::db::areas`]).
async fn admin_put_area(
    State(state): State<Arc<AppState>>,
    Auth(session, _): Auth,
    JsonBody(req): JsonBody<NewArea>,
) -> AppResult<Json<crate::db::areas::Area>> {
    require_admin(&session)?;
    let area = put_area(&state, &session.user.id, req.code, req.name).await?;
    Ok(Json(area))
}

/// Adds or renames an area for `by` (an admin), counting a refusal
/// (`fieldcase_areas_refused_total`) and writing the admin log.
pub(crate) async fn put_area(
    state: &Arc<AppState>,
    by: &str,
    code: String,
    name: String,
) -> AppResult<crate::db::areas::Area> {
    let limits = state.config.areas;
    let written = db::blocking(&state.db, move |db| db.put_area(&code, &name, limits)).await;
    let (area, how) = match written {
        Ok(w) => w,
        Err(e) => {
            if matches!(e, AppError::Invalid { .. }) {
                state
                    .metrics
                    .areas_refused
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            return Err(e);
        }
    };
    let action = match how {
        crate::db::areas::AreaWrite::Renamed => "rename area",
        _ => "add area",
    };
    tracing::info!(area = %area.code, by = %by, "{action}");
    log_admin(state, by, action, &format!("{} {}", area.code, area.name)).await?;
    Ok(area)
}

/// What `GET /v1/directory` is asked.
#[derive(Debug, Deserialize)]
struct DirectoryQuery {
    /// The version the phone holds (0 or absent: none).
    #[serde(default)]
    have: i64,
}

/// The partner directory for a phone (anyone signed in): nothing new (`204`) when the
/// phone holds the stored version, else the whole snapshot. The phone never writes it.
async fn directory(
    State(state): State<Arc<AppState>>,
    Auth(_session, _): Auth,
    axum::extract::Query(q): axum::extract::Query<DirectoryQuery>,
) -> AppResult<axum::response::Response> {
    use axum::http::{header, StatusCode};
    use axum::response::IntoResponse;
    let have = q.have;
    let stored = db::blocking(&state.db, move |db| {
        if db.directory_version()? == have {
            return Ok(None);
        }
        db.directory()
    })
    .await?;
    let Some(stored) = stored else {
        crate::Metrics::inc(&state.metrics.directory_current);
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    crate::Metrics::inc(&state.metrics.directory_sent);
    let mut body = format!(
        "{{\"version\":{},\"updated_at\":{},\"directory\":",
        stored.version, stored.updated_at
    )
    .into_bytes();
    body.extend_from_slice(&stored.json);
    body.push(b'}');
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

async fn caseload(
    State(state): State<Arc<AppState>>,
    Auth(session, _): Auth,
) -> AppResult<Json<Vec<CaseloadEntry>>> {
    let user = session.user.clone();
    let cases = db::blocking(&state.db, move |db| db.visible_cases(&user)).await?;
    let out = cases
        .into_iter()
        .map(|(access, heads)| CaseloadEntry {
            id: access.id.to_string(),
            heads: heads.iter().map(|h| h.to_string()).collect(),
        })
        .collect();
    Ok(Json(out))
}

/// The most ids one `POST /v1/cases/erased` asks about.
pub const ERASED_MAX_IDS: usize = 1000;

/// The ids a phone asks about (`POST /v1/cases/erased`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ErasedRequest {
    ids: Vec<String>,
}

/// `POST /v1/cases/erased` `{ids}`: which of these cases (held by the phone, gone from its
/// caseload) were erased, so that the phone removes them without handing anything in.
/// Only tombstones of the caller's team are told (an admin's: every team's); any other id
/// is answered as one never known.
async fn erased(
    State(state): State<Arc<AppState>>,
    Auth(session, _): Auth,
    JsonBody(req): JsonBody<ErasedRequest>,
) -> AppResult<Json<fieldcase_core::sync::ErasedAnswer>> {
    if req.ids.len() > ERASED_MAX_IDS {
        return Err(AppError::BadRequest(format!(
            "ask about at most {ERASED_MAX_IDS} cases at once"
        )));
    }
    let ids: Vec<CaseId> = req.ids.iter().filter_map(|i| i.parse().ok()).collect();
    let user = session.user.clone();
    let erased = db::blocking(&state.db, move |db| {
        let mut out = Vec::new();
        for id in ids {
            if let Some(t) = db.erased_case(&id)? {
                if user.role == fieldcase_core::Role::Admin
                    || user.team.as_deref() == Some(t.team.as_str())
                {
                    out.push(id.to_string());
                }
            }
        }
        Ok(out)
    })
    .await?;
    Ok(Json(fieldcase_core::sync::ErasedAnswer { erased }))
}

async fn case(
    State(state): State<Arc<AppState>>,
    Auth(session, _): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let id: CaseId = id.parse().map_err(|_| AppError::NotFound)?;
    let user = session.user.clone();
    let device = session.device_id.clone();
    let bytes = db::blocking(&state.db, move |db| {
        let access = db.case_access(&id)?.ok_or(AppError::NotFound)?;
        if !access.visible_to(&user) {
            return Err(AppError::NotFound);
        }
        if access.restricted {
            tracing::info!(case = %id, user = %user.id, "restricted case read");
        }
        db.audit(&user.id, &device, &id, "read (api)", now_ms())?;
        db.case_document(&id)?.ok_or(AppError::NotFound)
    })
    .await?;
    let doc = CaseDoc::load(&bytes)?;
    Ok(Json(doc.to_json()))
}

/// `GET /v1/cases/{id}/matches`: the possible duplicates the server found in the agency
/// when the case arrived ([`crate::matching::answer`]: named only where the caller may see
/// the other case; elsewhere, the team to ask).
async fn case_matches(
    State(state): State<Arc<AppState>>,
    Auth(session, _): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<fieldcase_core::matching::AgencyMatches>> {
    let id: CaseId = id.parse().map_err(|_| AppError::NotFound)?;
    let (index, max) = (state.matches.clone(), state.config.matching_max_indexed);
    let answer = db::blocking(&state.db, move |db| {
        crate::matching::answer(&index, db, max, &session.user, &session.device_id, id)
    })
    .await?;
    Ok(Json(answer))
}

/// `GET /v1/cases/{id}/related`: the cases related to this one, both ways (household
/// members' own cases, duplicates; [`crate::matching::related`]: named only where the
/// caller may see the other case; elsewhere, the team to ask).
async fn case_related(
    State(state): State<Arc<AppState>>,
    Auth(session, _): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<fieldcase_core::matching::RelatedCases>> {
    let id: CaseId = id.parse().map_err(|_| AppError::NotFound)?;
    let max = state.config.matching_max_related;
    let (answer, left_out) = db::blocking(&state.db, move |db| {
        crate::matching::related(db, &session.user, id, max)
    })
    .await?;
    state
        .metrics
        .related_left_out
        .fetch_add(left_out as u64, std::sync::atomic::Ordering::Relaxed);
    Ok(Json(answer))
}

/// A partner's link for one referral (`docs/adr/0006-*`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PartnerLinkRequest {
    language: String,
}

/// `POST /v1/cases/{id}/referrals/{rid}/links`: a link through which the partner answers
/// the referral, for a phone that is online; the same rules as the console's
/// (`console::partner::create_for`). Answers the link's path, shown once.
async fn partner_link(
    State(state): State<Arc<AppState>>,
    Auth(session, _): Auth,
    Path((id, rid)): Path<(String, String)>,
    JsonBody(req): JsonBody<PartnerLinkRequest>,
) -> AppResult<(axum::http::StatusCode, Json<Value>)> {
    let id: CaseId = id.parse().map_err(|_| AppError::NotFound)?;
    let st = state.clone();
    let (link, token) = db::blocking(&state.db, move |db| {
        crate::console::partner::create_for(
            db,
            st.config.partner_link_days,
            &session.user,
            &session.device_id,
            id,
            &rid,
            &req.language,
            "partner link made (api)",
        )
    })
    .await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(serde_json::json!({
            "id": link.id,
            "path": format!("/p/{token}"),
            "expires_at": link.expires_at,
        })),
    ))
}

/// Who a case is assigned to: usernames of workers (or supervisors) of the case's team.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignmentRequest {
    workers: Vec<String>,
    #[serde(default)]
    case_manager: Option<String>,
}

/// `POST /v1/cases/{id}/assignment`: a supervisor of the case's team (or an admin) assigns
/// or transfers it. The change goes through the hub like any other: phones syncing the
/// case see it at once, and the phones of workers gained or lost get or drop the case at
/// their next sync.
async fn assign(
    State(state): State<Arc<AppState>>,
    Auth(session, _): Auth,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<AssignmentRequest>,
) -> AppResult<Json<Value>> {
    let id: CaseId = id.parse().map_err(|_| AppError::NotFound)?;
    let ids = crate::admin::assign_via_hub(
        &state,
        id,
        &session.user,
        &req.workers,
        req.case_manager.as_deref(),
    )
    .await?;
    Ok(Json(json!({ "id": id.to_string(), "assigned": ids })))
}

/// `/metrics`, for the `metrics_token` of the settings or an admin's session token;
/// anyone else finds nothing here.
async fn metrics(State(state): State<Arc<AppState>>, req: Request) -> AppResult<String> {
    let (mut parts, _) = req.into_parts();
    let given = bearer(&parts).ok_or(AppError::NotFound)?;
    // Pairs the duplicate check found for writes deferred to its build.
    state.metrics.matches_found.fetch_add(
        state.matches.take_found_later(),
        std::sync::atomic::Ordering::Relaxed,
    );
    state.metrics.match_read_again.store(
        state.matches.read_again(),
        std::sync::atomic::Ordering::Relaxed,
    );
    if let Some(token) = &state.config.metrics_token {
        // Compared as digests: the time taken says nothing of the token.
        let digest = |t: &str| ring::digest::digest(&ring::digest::SHA256, t.as_bytes());
        let (a, b) = (digest(token), digest(&given));
        if a.as_ref()
            .iter()
            .zip(b.as_ref())
            .fold(0, |d, (x, y)| d | (x ^ y))
            == 0
        {
            return Ok(state.metrics.render());
        }
    }
    match Auth::from_request_parts(&mut parts, &state).await {
        Ok(Auth(session, _)) if require_admin(&session).is_ok() => Ok(state.metrics.render()),
        _ => Err(AppError::NotFound),
    }
}

fn require_admin(session: &Session) -> AppResult<()> {
    if session.user.role == fieldcase_core::Role::Admin && !session.user.disabled {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

async fn admin_teams(
    State(state): State<Arc<AppState>>,
    Auth(session, _): Auth,
) -> AppResult<Json<Vec<crate::db::Team>>> {
    require_admin(&session)?;
    Ok(Json(db::blocking(&state.db, |db| db.teams()).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTeam {
    name: String,
}

async fn admin_add_team(
    State(state): State<Arc<AppState>>,
    Auth(session, _): Auth,
    JsonBody(req): JsonBody<NewTeam>,
) -> AppResult<Json<crate::db::Team>> {
    require_admin(&session)?;
    let team = db::blocking(&state.db, move |db| db.add_team(&req.name)).await?;
    tracing::info!(team = %printable(&team.name), by = %session.user.id, "team added");
    log_admin(&state, &session.user.id, "add team", &team.name).await?;
    Ok(Json(team))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TeamLabel {
    label: String,
}

async fn admin_rename_team(
    State(state): State<Arc<AppState>>,
    Auth(session, _): Auth,
    Path(name): Path<String>,
    JsonBody(req): JsonBody<TeamLabel>,
) -> AppResult<Json<crate::db::Team>> {
    require_admin(&session)?;
    let team = db::blocking(&state.db, move |db| db.rename_team(&name, &req.label)).await?;
    tracing::info!(team = %printable(&team.name), by = %session.user.id, "team renamed");
    let target = format!("{} → {}", team.name, team.shown());
    log_admin(&state, &session.user.id, "rename team", &target).await?;
    Ok(Json(team))
}

async fn admin_users(
    State(state): State<Arc<AppState>>,
    Auth(session, _): Auth,
) -> AppResult<Json<Vec<crate::db::User>>> {
    require_admin(&session)?;
    let users = db::blocking(&state.db, |db| db.users()).await?;
    Ok(Json(
        users.into_iter().filter(|u| !u.is_partner()).collect(),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    username: String,
    #[serde(default)]
    display_name: String,
    role: fieldcase_core::Role,
    #[serde(default)]
    team: Option<String>,
    password: String,
}

async fn admin_add_user(
    State(state): State<Arc<AppState>>,
    Auth(session, _): Auth,
    JsonBody(req): JsonBody<NewUser>,
) -> AppResult<Json<crate::db::User>> {
    require_admin(&session)?;
    let iterations = state.config.password_iterations;
    let user = db::blocking(&state.db, move |db| {
        db.add_user(
            &req.username,
            &req.display_name,
            req.role,
            req.team.as_deref(),
            &req.password,
            iterations,
        )
    })
    .await?;
    tracing::info!(user = %user.id, by = %session.user.id, "user added");
    log_admin(&state, &session.user.id, "add user", &user.username).await?;
    Ok(Json(user))
}

async fn admin_disable_user(
    State(state): State<Arc<AppState>>,
    Auth(session, _): Auth,
    Path(username): Path<String>,
) -> AppResult<Json<Value>> {
    require_admin(&session)?;
    if username == session.user.username {
        return Err(AppError::invalid(
            Problem::DisableSelf,
            "an admin cannot disable themselves",
        ));
    }
    let target = username.clone();
    db::blocking(&state.db, move |db| db.disable_user(&username)).await?;
    tracing::info!(by = %session.user.id, "user disabled");
    log_admin(&state, &session.user.id, "disable user", &target).await?;
    Ok(Json(json!({ "ok": true })))
}

/// Records an administrative action in the log admins read (`GET /v1/admin/log`).
pub(crate) async fn log_admin(
    state: &AppState,
    by: &str,
    action: &str,
    target: &str,
) -> AppResult<()> {
    let entry = db::AdminEntry {
        at: now_ms(),
        by: by.to_string(),
        action: action.to_string(),
        target: target.to_string(),
    };
    db::blocking(&state.db, move |db| db.log_admin(&entry)).await
}

async fn admin_enable_user(
    State(state): State<Arc<AppState>>,
    Auth(session, _): Auth,
    Path(username): Path<String>,
) -> AppResult<Json<Value>> {
    require_admin(&session)?;
    let target = username.clone();
    db::blocking(&state.db, move |db| db.enable_user(&username)).await?;
    tracing::info!(by = %session.user.id, "user enabled");
    log_admin(&state, &session.user.id, "enable user", &target).await?;
    Ok(Json(json!({ "ok": true })))
}

/// Whether `session` may manage the devices of `owner`: an admin, or a supervisor of the
/// owner's team. Anyone else learns nothing (answered as for an unknown user).
fn may_manage(session: &Session, owner: &crate::db::User) -> bool {
    use fieldcase_core::Role;
    match session.user.role {
        Role::Admin => true,
        Role::Supervisor => owner.team.is_some() && owner.team == session.user.team,
        Role::Worker => false,
    }
}

async fn admin_user_devices(
    State(state): State<Arc<AppState>>,
    Auth(session, _): Auth,
    Path(username): Path<String>,
) -> AppResult<Json<Vec<crate::db::DeviceInfo>>> {
    let devices = db::blocking(&state.db, move |db| {
        let owner = db.user_by_username(&username)?.ok_or(AppError::NotFound)?;
        if !may_manage(&session, &owner) {
            return Err(AppError::NotFound);
        }
        db.devices_of(&owner.id, now_ms())
    })
    .await?;
    Ok(Json(devices))
}

async fn admin_revoke_device(
    State(state): State<Arc<AppState>>,
    Auth(session, _): Auth,
    Path(device_id): Path<String>,
) -> AppResult<Json<Value>> {
    let who = session.clone();
    let target = device_id.clone();
    db::blocking(&state.db, move |db| {
        let device = db.device(&device_id)?.ok_or(AppError::NotFound)?;
        let owner = db.user_by_id(&device.user_id)?.ok_or(AppError::NotFound)?;
        if !may_manage(&who, &owner) {
            return Err(AppError::NotFound);
        }
        crate::admin::revoke_device(db, &device.id).map(|_| ())
    })
    .await?;
    tracing::info!(by = %session.user.id, device = %printable(&target), "device revoked");
    log_admin(&state, &session.user.id, "revoke device", &target).await?;
    Ok(Json(json!({ "ok": true })))
}

#[derive(Debug, Deserialize)]
struct LogQuery {
    limit: Option<usize>,
}

async fn admin_log(
    State(state): State<Arc<AppState>>,
    Auth(session, _): Auth,
    axum::extract::Query(q): axum::extract::Query<LogQuery>,
) -> AppResult<Json<Vec<crate::db::AdminEntry>>> {
    require_admin(&session)?;
    let limit = q.limit.unwrap_or(100).min(10_000);
    Ok(Json(
        db::blocking(&state.db, move |db| db.admin_log(limit)).await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HandOver {
    to: Vec<String>,
}

async fn admin_hand_over(
    State(state): State<Arc<AppState>>,
    Auth(session, _): Auth,
    Path(username): Path<String>,
    JsonBody(req): JsonBody<HandOver>,
) -> AppResult<Json<Value>> {
    if req.to.len() > 1000 {
        return Err(
            AppError::invalid(Problem::HandoverTooMany, "at most 1,000 colleagues")
                .with("max", "1000"),
        );
    }
    let n = crate::admin::hand_over(&state, &session.user, &username, &req.to).await?;
    Ok(Json(json!({ "handed_over": n })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleChange {
    role: fieldcase_core::Role,
    #[serde(default)]
    team: Option<String>,
}

async fn admin_move_user(
    State(state): State<Arc<AppState>>,
    Auth(session, _): Auth,
    Path(username): Path<String>,
    JsonBody(req): JsonBody<RoleChange>,
) -> AppResult<Json<crate::db::User>> {
    require_admin(&session)?;
    let target = username.clone();
    let user = db::blocking(&state.db, move |db| {
        crate::admin::move_user(db, &username, req.role, req.team.as_deref())
    })
    .await?;
    log_admin(
        &state,
        &session.user.id,
        &format!(
            "set role {} team {}",
            user.role.code(),
            user.team.as_deref().unwrap_or("-")
        ),
        &target,
    )
    .await?;
    Ok(Json(user))
}

async fn my_devices(
    State(state): State<Arc<AppState>>,
    Auth(session, _): Auth,
) -> AppResult<Json<Vec<crate::db::DeviceInfo>>> {
    let id = session.user.id.clone();
    Ok(Json(
        db::blocking(&state.db, move |db| db.devices_of(&id, now_ms())).await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// The caller changes their own password: the current one is checked (throttled like a
/// login), the new one must meet the policy; every session ends, this one included.
async fn my_password(
    State(state): State<Arc<AppState>>,
    ClientAddr(addr): ClientAddr,
    Auth(session, _): Auth,
    JsonBody(req): JsonBody<PasswordChange>,
) -> AppResult<Json<Value>> {
    let username = session.user.username.clone();
    const MAX: usize = crate::db::check::PASSWORD_CHANGE_MAX_BYTES;
    if req.current_password.len() > MAX || req.new_password.len() > MAX {
        return Err(crate::db::check::password_change_too_long());
    }
    match state
        .check_login(&username, &req.current_password, addr)
        .await?
    {
        crate::Login::Ok(u) if u.id == session.user.id => {}
        _ => return Err(crate::db::check::current_password_wrong()),
    }
    let iterations = state.config.password_iterations;
    db::blocking(&state.db, move |db| {
        db.set_password(&username, &req.new_password, iterations)
    })
    .await?;
    tracing::info!(user = %session.user.id, "password changed by its user");
    Ok(Json(json!({ "ok": true })))
}

/// `POST /v1/cases/{id}/departure`: a phone whose user no longer sees a case (transferred
/// while the phone was offline) hands in the changes it made before; then it drops the
/// case. The body is raw Automerge changes; nothing of the case is answered.
async fn departure(
    State(state): State<Arc<AppState>>,
    Auth(session, _): Auth,
    Path(id): Path<String>,
    axum::Extension(app): axum::Extension<AppSchema>,
    body: axum::body::Bytes,
) -> AppResult<Json<Value>> {
    let id: CaseId = id.parse().map_err(|_| AppError::NotFound)?;
    let accepted = state
        .hub
        .departure(&state, id, &session, &body)
        .await
        .map_err(|e| match e {
            AppError::Refused { refusal, conflict } => AppError::Refused {
                refusal: app.refusal(refusal),
                conflict,
            },
            e => e,
        })?;
    Ok(Json(json!({ "accepted": accepted })))
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    case: Option<String>,
    limit: Option<usize>,
}

/// `GET /v1/admin/audit`: reads and syncs of restricted cases, newest first (admins).
async fn admin_audit(
    State(state): State<Arc<AppState>>,
    Auth(session, _): Auth,
    axum::extract::Query(q): axum::extract::Query<AuditQuery>,
) -> AppResult<Json<Vec<crate::db::AuditEntry>>> {
    require_admin(&session)?;
    let case = match &q.case {
        Some(c) => Some(c.parse::<CaseId>().map_err(|_| AppError::NotFound)?),
        None => None,
    };
    let limit = q.limit.unwrap_or(100).min(10_000);
    Ok(Json(
        db::blocking(&state.db, move |db| db.audit_trail(case.as_ref(), limit)).await?,
    ))
}
