//! fieldcase-server: accounts, access rules and case storage for fieldcase, served with
//! axum/tokio.
//!
//! This crate owns who may see what (users, teams, roles, devices, sessions) and the
//! server's copy of every case document. It depends on `fieldcase-core` for the case model
//! and its validation. Layers: [`db`] (the storage trait, on SQLite or PostgreSQL),
//! [`auth`] (passwords and tokens), [`api`] (the REST routes), [`demo`] (the demo
//! caseload), [`sync`] (the `/v1/sync` WebSocket speaking the automerge-repo protocol).
//! [`console`] (the supervisor console at `/console`, server-rendered HTML).

/// Now, in milliseconds since 1970 (the server's clock).
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub mod admin;
pub mod admission;
pub mod api;
pub mod attachments;
pub mod auth;
pub mod console;
pub mod db;
pub mod demo;
pub mod directory;
pub mod error;
pub mod hub;
pub mod listen;
pub mod matching;
pub mod restore;
pub mod retention;
pub mod settings;
pub mod sync;

use std::sync::Arc;

pub use api::app;
pub use db::{postgres::PostgresDb, sqlite::SqliteDb, Db};
pub use error::{AppError, AppResult};

/// Server settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// PBKDF2 iterations for new password hashes (stored per user; raised on login).
    pub password_iterations: u32,
    pub sessions: db::SessionPolicy,
    /// Failed logins for one username within `login_window_ms` after which each further
    /// attempt on it waits (doubling, up to `login_max_delay_ms`) before its password is
    /// checked. The right password still signs in: a stranger cannot lock a worker out.
    pub login_max_failures: u32,
    pub login_window_ms: i64,
    /// The longest wait a login attempt is made to take.
    pub login_max_delay_ms: i64,
    /// Failed logins from one client address (an IPv6 /64 counts as one) within
    /// `login_window_ms` after which every attempt from it waits `login_max_delay_ms`
    /// before its password is checked (never refused: an office behind one address must
    /// not be locked out by a stranger sharing it).
    pub login_max_failures_per_address: u32,
    /// Reverse proxies whose `X-Forwarded-For` names the client (their own address is
    /// not the client's).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Passwords checked at once (each costs PBKDF2's rounds of CPU); more wait.
    pub login_max_concurrent: usize,
    /// How long after a user loses a case their phones may still hand in its last changes
    /// ([`hub::Hub::departure`]).
    pub departure_days: u32,
    /// How long a phone may be offline: changes whose own time is older than this when
    /// they arrive are marked (their receipt shows as their time), never refused.
    pub offline_days: u32,
    /// The earliest case schema revision an app may write to log in and sync
    /// ([`api::MIN_APP_SCHEMA`] at least; raised to make older apps update first).
    pub min_app_schema: u32,
    /// The deadlines of every team ([`fieldcase_core::deadlines`]), and the teams that have
    /// their own, by name. Phones get their team's when they sync (`GET /v1/settings`).
    pub deadlines: fieldcase_core::deadlines::Deadlines,
    pub team_deadlines: std::collections::BTreeMap<String, fieldcase_core::deadlines::Deadlines>,
    /// The cases one sync connection may sync (one sync state each); more are refused
    /// with an error frame.
    pub sync_max_cases_per_connection: usize,
    /// Whether the server is reached over TLS (its own, or a reverse proxy's): cookies are
    /// then marked Secure.
    pub tls: bool,
    /// Bounds on Automerge bytes from clients, checked before Automerge reads them
    /// (`max_inflated_bytes` in the configuration file).
    pub input_limits: fieldcase_core::limits::Limits,
    /// Connection limits and timeouts ([`listen`]).
    pub limits: listen::Limits,
    /// The bearer token that reads `/metrics` (a monitoring system's). When `None`, only
    /// an admin's session token reads it; anyone else gets `404`.
    pub metrics_token: Option<String>,
    /// The largest partner directory stored and sent to phones, as JSON, in bytes
    /// (`directory.max_bytes`).
    pub directory_max_bytes: usize,
    /// The largest file of a directory package an import reads, in bytes
    /// (`directory.max_import_bytes`).
    pub directory_max_import_bytes: u64,
    /// How long a partner's link opens, in days (`partner.link_days`).
    pub partner_link_days: u32,
    /// The most cases the duplicate check holds in memory (`matching.max_indexed`); a case
    /// past it is not compared ([`matching`]).
    pub matching_max_indexed: usize,
    /// The most cases linking to one case that its related cases read
    /// (`matching.max_related`; [`matching::related`]): a worker who links many cases to
    /// one makes its answer no longer than this.
    pub matching_max_related: usize,
    /// Views and answers of one partner link in an hour (`partner.requests_per_hour`).
    pub partner_requests_per_hour: u32,
    /// How long closed cases are kept, per team, and the task that applies it
    /// (`[retention]`, `[team_retention.<team>]`; [`retention`]).
    pub retention: retention::Settings,
    /// The largest attachment stored, in bytes (`attachments.max_bytes`; at most
    /// `fieldcase_core::attachment::MAX_BYTES`).
    pub attachment_max_bytes: u64,
    /// The console's time zone for every team (`[time_zones] default`; UTC when unset),
    /// and the teams that have their own, by name; a user may choose their own.
    pub time_zone: chrono_tz::Tz,
    pub team_time_zones: std::collections::BTreeMap<String, chrono_tz::Tz>,
    /// The idle cases kept in memory (`cases.max_cached`): cases no write and no live
    /// sync connection uses; past it the least recently used is dropped and loaded from
    /// storage again at its next use ([`hub`]).
    pub max_cached_cases: usize,
    /// The outlines kept of cases dropped from memory (`cases.max_outlines`), read instead
    /// of the document at such a case's next write ([`hub`]).
    pub max_kept_outlines: usize,
    /// The case summaries the console keeps in memory (`console.max_summaries`).
    pub console_max_summaries: usize,
    /// The most areas the server keeps and the longest name of one (`areas.max`,
    /// `areas.max_name_chars`; [`db::areas`]).
    pub areas: db::areas::AreaLimits,
}

impl Config {
    /// The time zone of `team` (its own, or every team's).
    pub fn time_zone_of(&self, team: Option<&str>) -> chrono_tz::Tz {
        team.and_then(|t| self.team_time_zones.get(t).copied())
            .unwrap_or(self.time_zone)
    }

    /// The deadlines of `team` (its own, or every team's).
    pub fn deadlines_of(&self, team: Option<&str>) -> fieldcase_core::deadlines::Deadlines {
        team.and_then(|t| self.team_deadlines.get(t).copied())
            .unwrap_or(self.deadlines)
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            password_iterations: auth::DEFAULT_ITERATIONS,
            sessions: db::SessionPolicy::default(),
            login_max_failures: 5,
            login_window_ms: 15 * 60 * 1000,
            login_max_delay_ms: 30_000,
            login_max_failures_per_address: 30,
            trusted_proxies: Vec::new(),
            login_max_concurrent: 4,
            departure_days: 30,
            offline_days: 90,
            min_app_schema: api::MIN_APP_SCHEMA,
            deadlines: Default::default(),
            team_deadlines: Default::default(),
            time_zone: chrono_tz::Tz::UTC,
            team_time_zones: Default::default(),
            sync_max_cases_per_connection: 20_000,
            tls: false,
            matching_max_indexed: fieldcase_core::matching::MAX_COMPARED,
            matching_max_related: matching::MAX_RELATED,
            input_limits: fieldcase_core::limits::Limits::default(),
            limits: listen::Limits::default(),
            metrics_token: None,
            directory_max_bytes: DIRECTORY_MAX_BYTES,
            directory_max_import_bytes: fieldcase_core::directory::hsds::MAX_FILE_BYTES,
            partner_link_days: 30,
            partner_requests_per_hour: 60,
            retention: retention::Settings::default(),
            attachment_max_bytes: fieldcase_core::attachment::MAX_BYTES,
            max_cached_cases: hub::DEFAULT_MAX_CACHED,
            max_kept_outlines: hub::DEFAULT_MAX_OUTLINES,
            console_max_summaries: CONSOLE_MAX_SUMMARIES,
            areas: db::areas::AreaLimits::default(),
        }
    }
}

/// The default of `console.max_summaries`: the case summaries the console keeps in memory
/// (a small case's takes about 7 KB: its typed record, list entry and latest changes;
/// `fieldcase-caseload-bench`).
pub const CONSOLE_MAX_SUMMARIES: usize = 20_000;

/// The longest a partner's link may open, in days.
pub const PARTNER_MAX_LINK_DAYS: u32 = 90;

/// The default of `directory.max_bytes`: 10,000 services in five scripts are about
/// 12 MB of JSON.
pub const DIRECTORY_MAX_BYTES: usize = 32 * 1024 * 1024;

/// Counters exported at `/metrics` (Prometheus text format).
#[derive(Debug, Default)]
pub struct Metrics {
    pub logins_ok: std::sync::atomic::AtomicU64,
    pub logins_failed: std::sync::atomic::AtomicU64,
    pub sync_connections_open: std::sync::atomic::AtomicI64,
    pub sync_connections_total: std::sync::atomic::AtomicU64,
    pub sync_frames_in: std::sync::atomic::AtomicU64,
    pub sync_frames_oversized: std::sync::atomic::AtomicU64,
    pub changes_accepted: std::sync::atomic::AtomicU64,
    pub changes_refused: std::sync::atomic::AtomicU64,
    pub docs_unavailable: std::sync::atomic::AtomicU64,
    /// The accept loop's counters ([`listen`]).
    pub listen: listen::Counters,
    pub sync_cases_over_limit: std::sync::atomic::AtomicU64,
    pub logins_delayed: std::sync::atomic::AtomicU64,
    pub logins_slowed_address: std::sync::atomic::AtomicU64,
    /// Sync messages and departures refused by the input guard (`fieldcase_core::limits`).
    pub input_refused: std::sync::atomic::AtomicU64,
    /// Logins and syncs refused because the app writes an earlier case schema.
    pub update_app: std::sync::atomic::AtomicU64,
    /// Directory snapshots sent to phones, and answers that the phone's is current.
    /// New cases checked for duplicates across the agency ([`matching`]), the pairs found
    /// new, and cases left out of the check's index for `matching.max_indexed`.
    pub match_checks: std::sync::atomic::AtomicU64,
    pub matches_found: std::sync::atomic::AtomicU64,
    pub match_index_full: std::sync::atomic::AtomicU64,
    /// Cases the duplicate check read again after another writer wrote them.
    pub match_read_again: std::sync::atomic::AtomicU64,
    /// Cases linking to a case left out of its related cases for `matching.max_related`.
    pub related_left_out: std::sync::atomic::AtomicU64,
    /// Area writes refused (a code or name not ours, `areas.max` reached), and case writes
    /// refused for naming an area code the server's list lacks.
    pub areas_refused: std::sync::atomic::AtomicU64,
    pub case_area_refused: std::sync::atomic::AtomicU64,
    pub directory_sent: std::sync::atomic::AtomicU64,
    pub directory_current: std::sync::atomic::AtomicU64,
    /// Directory writes (imports, edits) refused: its check, `directory.max_bytes`, a
    /// package's file over `directory.max_import_bytes`.
    pub directory_refused: std::sync::atomic::AtomicU64,
    /// Partner link requests answered 429 (`partner.requests_per_hour`).
    pub partner_limited: std::sync::atomic::AtomicU64,
    /// Answers partners recorded through a link.
    pub partner_answers: std::sync::atomic::AtomicU64,
    /// Cases erased by this server (the console, the retention task).
    pub cases_erased: std::sync::atomic::AtomicU64,
    /// Passes of the retention task, and closed cases it found past their team's
    /// retention and listed for a decision.
    pub retention_runs: std::sync::atomic::AtomicU64,
    pub retention_listed: std::sync::atomic::AtomicU64,
    /// Attachment bytes received in chunks, and sent.
    pub attachment_bytes_in: std::sync::atomic::AtomicU64,
    pub attachment_bytes_out: std::sync::atomic::AtomicU64,
    /// Attachments stored whole (checked against their hash).
    pub attachments_stored: std::sync::atomic::AtomicU64,
    /// Attachment chunks refused (`attachments.max_bytes`, out of order, wrong length, a
    /// file not its hash or not its media type).
    pub attachments_refused: std::sync::atomic::AtomicU64,
    /// The cases in memory ([`hub`]): how many, their estimated bytes, evictions, loads.
    pub hub: Arc<hub::Counters>,
    /// Case summaries the console keeps in memory (`console.max_summaries`).
    pub console_summaries: std::sync::atomic::AtomicU64,
    /// Case documents the dashboard read: of cases with no list facts kept beside them (or
    /// of another version), and of those whose changes its recent activity may show.
    pub console_documents_read: std::sync::atomic::AtomicU64,
    /// The storage's sealing and opening ([`db::keys::Meter`]): case documents opened, and
    /// the time spent in AES-GCM.
    pub sealing: Arc<db::keys::Meter>,
}

impl Metrics {
    pub fn inc(counter: &std::sync::atomic::AtomicU64) {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// The Prometheus text exposition of every counter.
    pub fn render(&self) -> String {
        use std::sync::atomic::Ordering::Relaxed;
        let mut out = String::new();
        let mut line = |name: &str, kind: &str, help: &str, v: String| {
            out.push_str(&format!("# HELP fieldcase_{name} {help}\n# TYPE fieldcase_{name} {kind}\nfieldcase_{name} {v}\n"));
        };
        line(
            "logins_total",
            "counter",
            "Successful logins.",
            self.logins_ok.load(Relaxed).to_string(),
        );
        line(
            "login_failures_total",
            "counter",
            "Failed logins.",
            self.logins_failed.load(Relaxed).to_string(),
        );
        line(
            "sync_connections",
            "gauge",
            "Open sync connections.",
            self.sync_connections_open.load(Relaxed).to_string(),
        );
        line(
            "sync_connections_total",
            "counter",
            "Sync connections accepted.",
            self.sync_connections_total.load(Relaxed).to_string(),
        );
        line(
            "sync_frames_total",
            "counter",
            "Protocol frames received.",
            self.sync_frames_in.load(Relaxed).to_string(),
        );
        line(
            "sync_frames_oversized_total",
            "counter",
            "WebSocket messages refused for their size (the connection closes).",
            self.sync_frames_oversized.load(Relaxed).to_string(),
        );
        line(
            "changes_accepted_total",
            "counter",
            "Sync messages whose changes were stored.",
            self.changes_accepted.load(Relaxed).to_string(),
        );
        line(
            "changes_refused_total",
            "counter",
            "Sync messages whose changes were refused.",
            self.changes_refused.load(Relaxed).to_string(),
        );
        line(
            "update_app_total",
            "counter",
            "Logins and syncs refused because the app writes an earlier case schema revision.",
            self.update_app.load(Relaxed).to_string(),
        );
        line(
            "doc_unavailable_total",
            "counter",
            "Answers of doc-unavailable.",
            self.docs_unavailable.load(Relaxed).to_string(),
        );
        line(
            "sync_cases_over_limit_total",
            "counter",
            "Cases refused because their sync connection held its limit of cases.",
            self.sync_cases_over_limit.load(Relaxed).to_string(),
        );
        line(
            "logins_delayed_total",
            "counter",
            "Login attempts made to wait after repeated failures for their username.",
            self.logins_delayed.load(Relaxed).to_string(),
        );
        line(
            "logins_slowed_address_total",
            "counter",
            "Login attempts made to wait after repeated failures from their client address.",
            self.logins_slowed_address.load(Relaxed).to_string(),
        );
        line(
            "input_refused_total",
            "counter",
            "Sync messages and departures refused unread: compressed data inflating past the limit, malformed chunks, bloom filters out of bounds.",
            self.input_refused.load(Relaxed).to_string(),
        );
        line(
            "directory_sent_total",
            "counter",
            "Partner directory snapshots sent to phones.",
            self.directory_sent.load(Relaxed).to_string(),
        );
        line(
            "directory_current_total",
            "counter",
            "Directory fetches answered that the phone's snapshot is current.",
            self.directory_current.load(Relaxed).to_string(),
        );
        line(
            "directory_refused_total",
            "counter",
            "Directory imports and edits refused (its check, directory.max_bytes, directory.max_import_bytes).",
            self.directory_refused.load(Relaxed).to_string(),
        );
        line(
            "partner_limited_total",
            "counter",
            "Partner link requests refused for partner.requests_per_hour.",
            self.partner_limited.load(Relaxed).to_string(),
        );
        line(
            "partner_answers_total",
            "counter",
            "Answers partners recorded through a link.",
            self.partner_answers.load(Relaxed).to_string(),
        );
        line(
            "cases_erased_total",
            "counter",
            "Cases erased by this server (their data keys destroyed): the console and the retention task.",
            self.cases_erased.load(Relaxed).to_string(),
        );
        line(
            "retention_runs_total",
            "counter",
            "Passes of the retention task (retention.interval_minutes).",
            self.retention_runs.load(Relaxed).to_string(),
        );
        line(
            "retention_listed",
            "gauge",
            "Closed cases past their team's retention awaiting a decision, at the last pass.",
            self.retention_listed.load(Relaxed).to_string(),
        );
        line(
            "attachment_bytes_received_total",
            "counter",
            "Attachment bytes received in chunks.",
            self.attachment_bytes_in.load(Relaxed).to_string(),
        );
        line(
            "attachment_bytes_sent_total",
            "counter",
            "Attachment bytes sent in chunks.",
            self.attachment_bytes_out.load(Relaxed).to_string(),
        );
        line(
            "attachments_stored_total",
            "counter",
            "Attachments stored whole, checked against their hash.",
            self.attachments_stored.load(Relaxed).to_string(),
        );
        line(
            "attachments_refused_total",
            "counter",
            "Attachment chunks refused (attachments.max_bytes, order, length, hash, media type).",
            self.attachments_refused.load(Relaxed).to_string(),
        );
        line(
            "match_checks_total",
            "counter",
            "New cases checked for possible duplicates across the agency.",
            self.match_checks.load(Relaxed).to_string(),
        );
        line(
            "matches_found_total",
            "counter",
            "Possible duplicates found and stored.",
            self.matches_found.load(Relaxed).to_string(),
        );
        line(
            "match_index_read_again_total",
            "counter",
            "Cases the duplicate check read again because another writer (an instance, the command line) wrote them.",
            self.match_read_again.load(Relaxed).to_string(),
        );
        line(
            "related_left_out_total",
            "counter",
            "Cases linking to a case left out of its related cases for matching.max_related.",
            self.related_left_out.load(Relaxed).to_string(),
        );
        line(
            "areas_refused_total",
            "counter",
            "Area writes refused: a code or name not accepted, or areas.max reached.",
            self.areas_refused.load(Relaxed).to_string(),
        );
        line(
            "case_area_refused_total",
            "counter",
            "Case writes refused for an area code the server's list of areas lacks.",
            self.case_area_refused.load(Relaxed).to_string(),
        );
        line(
            "match_index_full_total",
            "counter",
            "Cases left out of the duplicate check for matching.max_indexed.",
            self.match_index_full.load(Relaxed).to_string(),
        );
        line(
            "console_summaries",
            "gauge",
            "Case summaries the console keeps in memory (at most console.max_summaries).",
            self.console_summaries.load(Relaxed).to_string(),
        );
        line(
            "console_documents_read_total",
            "counter",
            "Case documents the dashboard read: cases with no list facts kept beside them, and those its recent activity may show.",
            self.console_documents_read.load(Relaxed).to_string(),
        );
        self.listen.render(&mut out);
        self.hub.render(&mut out);
        self.sealing.render(&mut out);
        out
    }
}

/// How long a stopping server lets sync connections finish.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// Serves the API on `listener` until `signal` completes, then stops gracefully: no new
/// connections; HTTP requests under way complete; every sync connection finishes what its
/// client is doing (it closes once the client has been quiet for a moment), within
/// [`SHUTDOWN_GRACE`]. Connections are held to the limits of `state.config.limits`
/// ([`listen`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    signal: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = app(state.clone());
    listen::run(listener, None, state, router, signal).await
}

/// Serves the API over TLS on `listener` until `signal` completes, then stops as
/// [`serve`] does. HTTP/1.1 only (the WebSocket upgrade of `/v1/sync` needs it).
pub async fn serve_tls(
    listener: std::net::TcpListener,
    state: Arc<AppState>,
    tls: Arc<rustls::ServerConfig>,
    signal: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let router = app(state.clone());
    listen::run(listener, Some(acceptor), state, router, signal).await
}

/// The TLS settings of a certificate chain and its private key, both PEM files. The error
/// says which file and what is wrong.
pub fn tls_config(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<Arc<rustls::ServerConfig>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("cannot read the TLS certificate {}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!("no certificate in {}", cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("cannot read the TLS private key {}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("the TLS certificate and key do not fit together: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Shared state of the running server.
pub struct AppState {
    pub db: Arc<dyn Db>,
    pub config: Config,
    pub hub: hub::Hub,
    pub metrics: Metrics,
    /// The console's summaries of cases, by heads.
    pub console: console::Cache,
    /// Which cases each user was shown in a list today (the audit trail records an
    /// unrestricted case's listing once a day per user).
    pub listed: console::Listed,
    /// The partner directory indexed, by version (the console's search).
    pub directory: directory::IndexCache,
    /// Requests per partner link in the current hour ([`Config::partner_requests_per_hour`]).
    pub partner_requests: console::partner::LinkLimiter,
    /// The cases made ready for the duplicate check ([`matching`]).
    pub matches: matching::MatchIndex,
    /// Passwords being hashed at once ([`Config::login_max_concurrent`]).
    login_slots: tokio::sync::Semaphore,
    /// Set when the server stops: sync connections finish what their client is doing,
    /// then close.
    shutdown: tokio::sync::watch::Sender<bool>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(db: Arc<dyn Db>, config: Config) -> Arc<Self> {
        let login_slots = tokio::sync::Semaphore::new(config.login_max_concurrent.max(1));
        let metrics = Metrics {
            sealing: db.sealing(),
            ..Metrics::default()
        };
        Arc::new(AppState {
            db,
            hub: hub::Hub::new(
                config.max_cached_cases,
                config.max_kept_outlines,
                metrics.hub.clone(),
            ),
            config,
            metrics,
            console: console::Cache::default(),
            listed: console::Listed::default(),
            directory: directory::IndexCache::default(),
            partner_requests: console::partner::LinkLimiter::default(),
            matches: matching::MatchIndex::default(),
            login_slots,
            shutdown: tokio::sync::watch::Sender::new(false),
        })
    }

    /// Tells sync connections the server is stopping.
    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    /// Whether the server has begun to stop (it takes no new connection).
    pub fn is_shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Whether (and when) the server is stopping.
    pub(crate) fn shutdown_signal(&self) -> tokio::sync::watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Waits until no sync connection is open, at most `limit`. Whether they all closed.
    pub async fn connections_closed(&self, limit: std::time::Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let open = self
                .metrics
                .sync_connections_open
                .load(std::sync::atomic::Ordering::Relaxed);
            if open <= 0 {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                tracing::warn!(open, "stopping with sync connections still open");
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Checks a login (REST and console alike), throttled so that guessing is slow and a
    /// stranger cannot lock a worker out:
    /// - every attempt on a username counts before its password is checked (guesses sent
    ///   at once cannot pass together); past [`Config::login_max_failures`], each attempt
    ///   waits, one second doubling up to [`Config::login_max_delay_ms`], and then its
    ///   password is checked: the right password still signs in, and clears the count;
    /// - every attempt from a client address (an IPv6 /64 as one) counts while it is
    ///   checked, and stays counted if it fails; past
    ///   [`Config::login_max_failures_per_address`], every attempt from it waits the longest
    ///   wait first (slowed, never refused);
    /// - at most [`Config::login_max_concurrent`] passwords are hashed at once.
    ///
    /// The counts live in the storage, so every instance on one database shares them.
    pub(crate) async fn check_login(
        &self,
        username: &str,
        password: &str,
        addr: Option<std::net::IpAddr>,
    ) -> AppResult<Login> {
        let now = chrono::Utc::now().timestamp_millis();
        let window = self.config.login_window_ms;
        let addr_key = addr.map(|a| format!("address:{}", address_key(a)));
        let user_key = format!("username:{username}");
        let (akey, ukey) = (addr_key.clone(), user_key.clone());
        let (from_address, attempts) = db::blocking(&self.db, move |db| {
            let a = match &akey {
                Some(k) => db.throttle_hit(k, now, window)?,
                None => 0,
            };
            Ok((a, db.throttle_hit(&ukey, now, window)?))
        })
        .await?;
        let mut wait = 0;
        if from_address > self.config.login_max_failures_per_address {
            Metrics::inc(&self.metrics.logins_slowed_address);
            wait = self.config.login_max_delay_ms;
        }
        if attempts > self.config.login_max_failures {
            let over = (attempts - self.config.login_max_failures - 1).min(20);
            Metrics::inc(&self.metrics.logins_delayed);
            wait = wait.max((1000i64 << over).min(self.config.login_max_delay_ms));
        }
        if wait > 0 {
            tracing::info!(
                wait_ms = wait,
                "login attempt delayed after repeated failures"
            );
            tokio::time::sleep(std::time::Duration::from_millis(wait.max(0) as u64)).await;
        }
        let _slot = self
            .login_slots
            .acquire()
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let (name, pass, iterations) = (
            username.to_string(),
            password.to_string(),
            self.config.password_iterations,
        );
        let user = db::blocking(&self.db, move |db| {
            let user = db.check_password(&name, &pass, iterations)?;
            if user.is_some() {
                db.throttle_clear(&user_key)?;
                if let Some(k) = &addr_key {
                    db.throttle_forgive(k)?;
                }
            }
            Ok(user)
        })
        .await?;
        Ok(match user {
            Some(u) => {
                Metrics::inc(&self.metrics.logins_ok);
                Login::Ok(u)
            }
            None => {
                Metrics::inc(&self.metrics.logins_failed);
                Login::Wrong
            }
        })
    }

    /// The client's address for a request the listener got from `peer`: the last address
    /// of `X-Forwarded-For` when `peer` is a trusted proxy ([`Config::trusted_proxies`]).
    pub(crate) fn client_address(
        &self,
        peer: Option<std::net::IpAddr>,
        forwarded: Option<&str>,
    ) -> Option<std::net::IpAddr> {
        let peer = peer?;
        if !self.config.trusted_proxies.contains(&peer) {
            return Some(peer);
        }
        forwarded
            .and_then(|f| f.rsplit(',').next())
            .and_then(|a| a.trim().parse().ok())
            .or(Some(peer))
    }
}

/// An address as the login throttle counts it: an IPv6 address by its /64 (one household
/// or one customer of a provider), an IPv4 address as it is.
fn address_key(a: std::net::IpAddr) -> String {
    match a {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// The outcome of [`AppState::check_login`].
#[derive(Debug)]
pub(crate) enum Login {
    Ok(db::User),
    /// Unknown user, disabled user or wrong password (told apart by no one).
    Wrong,
}
