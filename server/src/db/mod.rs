//! The server's storage. [`Db`] is the one storage interface the rest of the server uses,
//! with two implementations: [`sqlite::SqliteDb`] on an embedded SQLite file (zero set-up,
//! one server process), and [`postgres::PostgresDb`] on a PostgreSQL database that several
//! server instances share (behind a load balancer). [`open`] picks one from the `--db`
//! setting: a `postgres://` or `postgresql://` URL, or else a SQLite file path.
//!
//! The rules are written once, over rows (the storage split, issue 14): what is allowed,
//! what conflicts and what the API answers is decided in [`accounts`] (teams, users,
//! passwords, sessions, devices and their actors), [`cases`] (the compare-and-swap case
//! write, a case's document, heads, access facts and time marks), [`users`] (roles and
//! teams, disabling and enabling, a user's devices, revoking one, its status) and
//! [`records`] (audit trail, admin log, departures, assignment ends, login throttles).
//! Each storage implements their rows traits ([`accounts::AccountRows`],
//! [`cases::CaseTx`] and [`cases::CaseRows`], [`users::UserRows`],
//! [`records::RecordRows`]), failing with [`accounts::StorageError`], which becomes the
//! API's error in one place; the [`Db`] methods that apply a rule are written once
//! (`rules_over_rows!`) and expanded in each storage's `impl Db`.
//!
//! What is stored of a case is sealed in [`cases`] with the case's data key, wrapped by the
//! master key ([`keys`]: the key steps at startup and rotation, over [`keys::KeyTx`]).
//!
//! Still each storage's own, with no rule to share: the transaction a case write runs in
//! (SQLite's group commit, PostgreSQL's row lock and its count of writers),
//! [`Db::external_version`], migrations, and single-row reads and writes that decide
//! nothing (users listed, a user or device by id, an actor's device, console languages).

pub mod accounts;
pub mod areas;
pub mod attachments;
pub mod cases;
pub mod directory;
pub mod erasure;
pub mod keys;
pub mod links;
pub mod matches;
pub mod pg_statements;
pub mod postgres;
pub mod records;
pub mod sqlite;
pub mod users;

use serde::{Deserialize, Serialize};

use crate::error::AppResult;
use fieldcase_core::{CaseId, Role};

/// The methods of [`Db`] that are rules over rows ([`accounts`], [`cases`], [`users`],
/// [`records`]): the same in every storage, written once here and expanded into each
/// storage's `impl Db` (which writes only what is its own: the case write's transaction,
/// sessions, languages, devices by id).
macro_rules! rules_over_rows {
    () => {
        fn add_team(&self, name: &str) -> $crate::AppResult<$crate::db::Team> {
            $crate::db::accounts::add_team(self, name)
        }

        fn teams(&self) -> $crate::AppResult<Vec<$crate::db::Team>> {
            Ok($crate::db::accounts::AccountRows::team_rows(self)?)
        }

        fn rename_team(&self, name: &str, label: &str) -> $crate::AppResult<$crate::db::Team> {
            $crate::db::accounts::rename_team(self, name, label)
        }

        fn areas(&self) -> $crate::AppResult<Vec<$crate::db::areas::Area>> {
            Ok($crate::db::areas::AreaRows::area_rows(self)?)
        }

        fn put_area(
            &self,
            code: &str,
            name: &str,
            limits: $crate::db::areas::AreaLimits,
        ) -> $crate::AppResult<($crate::db::areas::Area, $crate::db::areas::AreaWrite)> {
            $crate::db::areas::put_area(self, code, name, limits, $crate::now_ms())
        }

        fn add_user(
            &self,
            username: &str,
            display_name: &str,
            role: fieldcase_core::Role,
            team: Option<&str>,
            password: &str,
            iterations: u32,
        ) -> $crate::AppResult<$crate::db::User> {
            $crate::db::accounts::add_user(
                self,
                username,
                display_name,
                role,
                team,
                password,
                iterations,
            )
        }

        fn set_password(
            &self,
            username: &str,
            password: &str,
            iterations: u32,
        ) -> $crate::AppResult<()> {
            $crate::db::accounts::set_password(self, username, password, iterations)
        }

        fn user_by_username(&self, username: &str) -> $crate::AppResult<Option<$crate::db::User>> {
            Ok($crate::db::accounts::AccountRows::user_row(self, username)?)
        }

        fn check_password(
            &self,
            username: &str,
            password: &str,
            iterations: u32,
        ) -> $crate::AppResult<Option<$crate::db::User>> {
            $crate::db::accounts::check_password(self, username, password, iterations)
        }

        fn register_device(
            &self,
            user: &$crate::db::User,
            device_id: Option<&str>,
            device_name: &str,
            actor: &str,
        ) -> $crate::AppResult<String> {
            $crate::db::accounts::register_device(self, user, device_id, device_name, actor)
        }

        fn session(
            &self,
            token: &str,
            policy: $crate::db::SessionPolicy,
            now: i64,
        ) -> $crate::AppResult<Option<$crate::db::Session>> {
            $crate::db::accounts::session(self, token, policy, now)
        }

        fn create_session(
            &self,
            user: &$crate::db::User,
            device_id: &str,
            policy: $crate::db::SessionPolicy,
            now: i64,
        ) -> $crate::AppResult<(String, i64)> {
            $crate::db::accounts::create_session(self, user, device_id, policy, now)
        }

        fn token_disabled(&self, token: &str) -> $crate::AppResult<bool> {
            $crate::db::accounts::token_disabled(self, token)
        }

        fn revoke_session(&self, token: &str) -> $crate::AppResult<()> {
            $crate::db::accounts::revoke_session(self, token)
        }

        fn server_device(&self, user: &$crate::db::User, actor: &str) -> $crate::AppResult<String> {
            $crate::db::accounts::server_device(self, user, actor)
        }

        fn disable_user(&self, username: &str) -> $crate::AppResult<()> {
            $crate::db::users::disable_user(self, username)
        }

        fn enable_user(&self, username: &str) -> $crate::AppResult<()> {
            $crate::db::users::enable_user(self, username)
        }

        fn set_role_team(
            &self,
            username: &str,
            role: fieldcase_core::Role,
            team: Option<&str>,
        ) -> $crate::AppResult<$crate::db::User> {
            $crate::db::users::set_role_team(self, username, role, team)
        }

        fn devices_of(
            &self,
            user_id: &str,
            now: i64,
        ) -> $crate::AppResult<Vec<$crate::db::DeviceInfo>> {
            $crate::db::users::devices_of(self, user_id, now)
        }

        fn revoke_device(&self, device_id: &str) -> $crate::AppResult<()> {
            $crate::db::users::revoke_device(self, device_id)
        }

        fn record_status(
            &self,
            device_id: &str,
            unsynced: $crate::db::Unsynced,
            app_version: Option<&str>,
        ) -> $crate::AppResult<()> {
            $crate::db::users::record_status(self, device_id, unsynced, app_version)
        }

        fn case_document(&self, id: &fieldcase_core::CaseId) -> $crate::AppResult<Option<Vec<u8>>> {
            Ok($crate::db::cases::document(self, id)?)
        }

        fn case_heads(
            &self,
            id: &fieldcase_core::CaseId,
        ) -> $crate::AppResult<Option<Vec<automerge::ChangeHash>>> {
            Ok($crate::db::cases::heads(self, id)?)
        }

        fn case_access(
            &self,
            id: &fieldcase_core::CaseId,
        ) -> $crate::AppResult<Option<$crate::db::CaseAccess>> {
            Ok($crate::db::cases::access(self, id)?)
        }

        fn cases(
            &self,
        ) -> $crate::AppResult<Vec<($crate::db::CaseAccess, Vec<automerge::ChangeHash>)>> {
            Ok($crate::db::cases::all(self)?)
        }

        fn closed_cases(
            &self,
            closed_before: i64,
        ) -> $crate::AppResult<Vec<$crate::db::ClosedCase>> {
            Ok($crate::db::cases::closed(self, closed_before)?)
        }

        fn sealing(&self) -> std::sync::Arc<$crate::db::keys::Meter> {
            $crate::db::cases::CaseRows::meter(self)
        }

        fn visible_cases(
            &self,
            user: &$crate::db::User,
        ) -> $crate::AppResult<Vec<($crate::db::CaseAccess, Vec<automerge::ChangeHash>)>> {
            Ok($crate::db::cases::visible_to(self, user)?)
        }

        fn cases_of(&self, user_id: &str) -> $crate::AppResult<Vec<fieldcase_core::CaseId>> {
            Ok($crate::db::cases::of_user(self, user_id)?)
        }

        fn linked_from(
            &self,
            id: &fieldcase_core::CaseId,
        ) -> $crate::AppResult<Vec<fieldcase_core::CaseId>> {
            Ok($crate::db::cases::linking(self, id)?)
        }

        fn cases_written_since(
            &self,
            since_ms: i64,
        ) -> $crate::AppResult<Vec<(fieldcase_core::CaseId, i64)>> {
            Ok($crate::db::cases::written_since(self, since_ms)?)
        }

        fn match_facts(
            &self,
        ) -> $crate::AppResult<Vec<(fieldcase_core::CaseId, $crate::db::MatchFacts)>> {
            Ok($crate::db::cases::match_facts(self)?)
        }

        fn match_facts_of(
            &self,
            id: &fieldcase_core::CaseId,
        ) -> $crate::AppResult<Option<$crate::db::MatchFacts>> {
            Ok($crate::db::cases::match_facts_of(self, id)?)
        }

        fn list_facts(
            &self,
            ids: &[fieldcase_core::CaseId],
        ) -> $crate::AppResult<Vec<$crate::db::Listing>> {
            Ok($crate::db::cases::list_facts(self, ids)?)
        }

        fn mark_times(
            &self,
            case: &fieldcase_core::CaseId,
            marks: &[$crate::db::TimeMark],
        ) -> $crate::AppResult<()> {
            Ok($crate::db::cases::mark_times(self, case, marks)?)
        }

        fn time_marks(
            &self,
            case: &fieldcase_core::CaseId,
        ) -> $crate::AppResult<Vec<$crate::db::TimeMark>> {
            Ok($crate::db::cases::time_marks(self, case)?)
        }

        fn audit(
            &self,
            user_id: &str,
            device: &str,
            case: &fieldcase_core::CaseId,
            action: &str,
            now: i64,
        ) -> $crate::AppResult<()> {
            Ok($crate::db::records::audit(
                self, user_id, device, case, action, now,
            )?)
        }

        fn audit_cases(
            &self,
            user_id: &str,
            device: &str,
            cases: &[fieldcase_core::CaseId],
            action: &str,
            now: i64,
        ) -> $crate::AppResult<()> {
            Ok($crate::db::records::audit_cases(
                self, user_id, device, cases, action, now,
            )?)
        }

        fn verify_audit(&self) -> $crate::AppResult<$crate::db::records::AuditCheck> {
            Ok($crate::db::records::verify_audit(self)?)
        }

        fn audit_trail(
            &self,
            case: Option<&fieldcase_core::CaseId>,
            limit: usize,
        ) -> $crate::AppResult<Vec<$crate::db::AuditEntry>> {
            Ok($crate::db::records::audit_trail(self, case, limit)?)
        }

        fn directory(&self) -> $crate::AppResult<Option<$crate::db::directory::StoredDirectory>> {
            $crate::db::directory::directory(self)
        }

        fn directory_version(&self) -> $crate::AppResult<i64> {
            Ok($crate::db::directory::DirectoryRows::directory_version_row(
                self,
            )?)
        }

        fn put_directory(
            &self,
            directory: &fieldcase_core::directory::Directory,
            expected: i64,
            by: &str,
            now: i64,
            max_bytes: usize,
        ) -> $crate::AppResult<i64> {
            $crate::db::directory::put_directory(self, directory, expected, by, now, max_bytes)
        }

        fn create_referral_link(
            &self,
            new: &$crate::db::links::NewLink<'_>,
        ) -> $crate::AppResult<($crate::db::links::ReferralLink, String)> {
            $crate::db::links::create_link(self, new)
        }

        fn open_referral_link(
            &self,
            token: &str,
            now: i64,
        ) -> $crate::AppResult<Option<$crate::db::links::ReferralLink>> {
            $crate::db::links::open_link(self, token, now)
        }

        fn referral_links(
            &self,
            case: &fieldcase_core::CaseId,
        ) -> $crate::AppResult<Vec<$crate::db::links::ReferralLink>> {
            Ok($crate::db::links::LinkRows::link_rows_of_case(
                self,
                case.as_bytes(),
            )?)
        }

        fn attachment_upload_status(
            &self,
            case: &fieldcase_core::CaseId,
            reference: &$crate::db::attachments::Reference,
        ) -> $crate::AppResult<$crate::db::attachments::UploadStatus> {
            $crate::db::attachments::upload_status(self, case, reference)
        }

        fn put_attachment_chunk(
            &self,
            case: &fieldcase_core::CaseId,
            reference: &$crate::db::attachments::Reference,
            seq: i64,
            bytes: &[u8],
            max: u64,
            by: &str,
            now: i64,
        ) -> $crate::AppResult<
            Result<$crate::db::attachments::UploadStatus, $crate::db::attachments::Refused>,
        > {
            $crate::db::attachments::put_chunk(self, case, reference, seq, bytes, max, by, now)
        }

        fn attachment_chunk(
            &self,
            case: &fieldcase_core::CaseId,
            hash: &str,
            seq: i64,
        ) -> $crate::AppResult<Option<Vec<u8>>> {
            $crate::db::attachments::read_chunk(self, case, hash, seq)
        }

        fn stored_attachment(
            &self,
            case: &fieldcase_core::CaseId,
            hash: &str,
        ) -> $crate::AppResult<Option<$crate::db::attachments::FileRow>> {
            $crate::db::attachments::stored_file(self, case, hash)
        }

        fn record_matches(
            &self,
            found: &[$crate::db::matches::MatchRow],
        ) -> $crate::AppResult<usize> {
            $crate::db::matches::record(self, found)
        }

        fn matches_of(
            &self,
            case: &fieldcase_core::CaseId,
        ) -> $crate::AppResult<Vec<$crate::db::matches::MatchRow>> {
            Ok($crate::db::matches::MatchRows::match_rows_of_case(
                self,
                case.as_bytes(),
                $crate::db::matches::MAX_MATCHES_PER_CASE,
            )?)
        }

        fn open_matches(
            &self,
            limit: usize,
        ) -> $crate::AppResult<Vec<$crate::db::matches::MatchRow>> {
            Ok($crate::db::matches::MatchRows::open_match_rows(
                self, limit,
            )?)
        }

        fn decide_match(
            &self,
            x: &fieldcase_core::CaseId,
            y: &fieldcase_core::CaseId,
            status: fieldcase_core::matching::MatchStatus,
            by: &str,
            now: i64,
        ) -> $crate::AppResult<bool> {
            $crate::db::matches::decide(self, x, y, status, by, now)
        }

        fn revoke_referral_link(&self, id: &str, by: &str, now: i64) -> $crate::AppResult<bool> {
            Ok($crate::db::links::LinkRows::revoke_link_row(
                self, id, by, now,
            )?)
        }

        fn log_admin(&self, entry: &$crate::db::AdminEntry) -> $crate::AppResult<()> {
            Ok($crate::db::records::RecordRows::insert_admin_entry(
                self, entry,
            )?)
        }

        fn admin_log(&self, limit: usize) -> $crate::AppResult<Vec<$crate::db::AdminEntry>> {
            Ok($crate::db::records::admin_log(self, limit)?)
        }

        fn departed(&self, case: &fieldcase_core::CaseId, device: &str) -> $crate::AppResult<bool> {
            Ok($crate::db::records::departed(self, case, device)?)
        }

        fn record_departure(
            &self,
            case: &fieldcase_core::CaseId,
            device: &str,
            changes: usize,
            now: i64,
        ) -> $crate::AppResult<bool> {
            Ok($crate::db::records::record_departure(
                self, case, device, changes, now,
            )?)
        }

        fn forget_departure(
            &self,
            case: &fieldcase_core::CaseId,
            device: &str,
        ) -> $crate::AppResult<()> {
            Ok($crate::db::records::forget_departure(self, case, device)?)
        }

        fn assignment_ended(
            &self,
            case: &fieldcase_core::CaseId,
            user_id: &str,
        ) -> $crate::AppResult<Option<i64>> {
            Ok($crate::db::records::assignment_ended(self, case, user_id)?)
        }

        fn throttle_hit(&self, key: &str, now: i64, window_ms: i64) -> $crate::AppResult<u32> {
            Ok($crate::db::records::throttle_hit(
                self, key, now, window_ms,
            )?)
        }

        fn throttle_count(&self, key: &str, now: i64, window_ms: i64) -> $crate::AppResult<u32> {
            Ok($crate::db::records::throttle_count(
                self, key, now, window_ms,
            )?)
        }

        fn throttle_clear(&self, key: &str) -> $crate::AppResult<()> {
            Ok($crate::db::records::throttle_clear(self, key)?)
        }

        fn throttle_forgive(&self, key: &str) -> $crate::AppResult<()> {
            Ok($crate::db::records::throttle_forgive(self, key)?)
        }

        fn erase_case(
            &self,
            id: &fieldcase_core::CaseId,
            by: &str,
            reason: &str,
            now: i64,
        ) -> $crate::AppResult<$crate::db::erasure::Tombstone> {
            $crate::db::erasure::erase(self, id, by, reason, now)
        }

        fn erased_case(
            &self,
            id: &fieldcase_core::CaseId,
        ) -> $crate::AppResult<Option<$crate::db::erasure::Tombstone>> {
            Ok($crate::db::erasure::ErasureRows::tombstone_row(
                self,
                &id.as_bytes()[..],
            )?)
        }

        fn erased_cases(&self) -> $crate::AppResult<Vec<$crate::db::erasure::Tombstone>> {
            Ok($crate::db::erasure::ErasureRows::tombstone_rows(self)?)
        }

        fn keep_past_retention(
            &self,
            hold: &$crate::db::erasure::RetentionHold,
        ) -> $crate::AppResult<()> {
            let hold = $crate::db::erasure::RetentionHold {
                reason: $crate::db::erasure::reason(&hold.reason)?.to_string(),
                ..hold.clone()
            };
            Ok($crate::db::erasure::ErasureRows::hold_row(self, &hold)?)
        }

        fn retention_holds(&self) -> $crate::AppResult<Vec<$crate::db::erasure::RetentionHold>> {
            Ok($crate::db::erasure::ErasureRows::hold_rows(self)?)
        }

        fn request_erasure(
            &self,
            id: &fieldcase_core::CaseId,
            team: &str,
            by: &str,
            reason: &str,
            now: i64,
        ) -> $crate::AppResult<$crate::db::erasure::ErasureRequest> {
            $crate::db::erasure::request(self, id, team, by, reason, now)
        }

        fn erasure_requests(
            &self,
            open_only: bool,
        ) -> $crate::AppResult<Vec<$crate::db::erasure::ErasureRequest>> {
            Ok($crate::db::erasure::ErasureRows::request_rows(
                self, open_only,
            )?)
        }

        fn decide_erasure_request(
            &self,
            id: &str,
            by: &str,
            decision: &str,
            now: i64,
        ) -> $crate::AppResult<Option<$crate::db::erasure::ErasureRequest>> {
            Ok($crate::db::erasure::ErasureRows::decide_request_row(
                self, id, by, decision, now,
            )?)
        }
    };
}
pub(crate) use rules_over_rows;

/// An opened storage of either kind.
#[derive(Debug)]
pub enum AnyDb {
    Sqlite(sqlite::SqliteDb),
    Postgres(postgres::PostgresDb),
}

impl AnyDb {
    /// The storage as the trait the server uses.
    pub fn into_dyn(self) -> std::sync::Arc<dyn Db> {
        match self {
            AnyDb::Sqlite(d) => std::sync::Arc::new(d),
            AnyDb::Postgres(d) => std::sync::Arc::new(d),
        }
    }

    /// Rewraps every case's data key under `new` (see
    /// [`sqlite::SqliteDb::rotate_master_key`]); answers how many.
    pub fn rotate_master_key(&self, new: keys::Key) -> AppResult<usize> {
        match self {
            AnyDb::Sqlite(d) => d.rotate_master_key(new),
            AnyDb::Postgres(d) => d.rotate_master_key(new),
        }
    }

    pub fn as_dyn(&self) -> &dyn Db {
        match self {
            AnyDb::Sqlite(d) => d,
            AnyDb::Postgres(d) => d,
        }
    }
}

/// Runs `f` on the storage off the async threads (`spawn_blocking`): storage calls wait
/// for the disk (SQLite) or the network (PostgreSQL), and an async worker must not.
pub(crate) async fn blocking<T, F>(db: &std::sync::Arc<dyn Db>, f: F) -> AppResult<T>
where
    T: Send + 'static,
    F: FnOnce(&dyn Db) -> AppResult<T> + Send + 'static,
{
    let db = db.clone();
    tokio::task::spawn_blocking(move || f(db.as_ref()))
        .await
        .map_err(|e| crate::error::AppError::Internal(e.to_string()))?
}

/// A read of a case to record in the audit trail ([`Db::audit`]) with a write
/// ([`Db::store_case_read`]).
#[derive(Debug, Clone)]
pub struct AuditRead {
    pub user_id: String,
    pub device: String,
    pub case: CaseId,
    /// What the entry says was done ("sync").
    pub action: &'static str,
    pub at: i64,
}

/// Whether a `--db` setting names a PostgreSQL database rather than a SQLite file.
pub fn is_postgres_url(spec: &str) -> bool {
    spec.starts_with("postgres://") || spec.starts_with("postgresql://")
}

/// Opens the storage a `--db` setting names: a `postgres://` / `postgresql://` URL, or a
/// SQLite file path. Brings its schema up to date either way. The master key is in the
/// default key file ([`default_key_source`]).
pub fn open(spec: &std::path::Path) -> AppResult<AnyDb> {
    open_with(spec, &default_key_source(spec))
}

/// Opens the storage a `--db` setting names with the master key from `keys`.
pub fn open_with(spec: &std::path::Path, keys: &keys::KeySource) -> AppResult<AnyDb> {
    open_apart(spec, keys, None)
}

/// Opens the storage a `--db` setting names with the master key from `keys` and, for
/// PostgreSQL, the data keys in the keys database at `keys_url` (`postgres.keys_url`;
/// `None`: its default, [`postgres::PostgresDb::connect_apart`]).
pub fn open_apart(
    spec: &std::path::Path,
    keys: &keys::KeySource,
    keys_url: Option<&str>,
) -> AppResult<AnyDb> {
    match spec.to_str().filter(|s| is_postgres_url(s)) {
        Some(url) => Ok(AnyDb::Postgres(postgres::PostgresDb::connect_apart(
            url, keys_url, keys,
        )?)),
        None => Ok(AnyDb::Sqlite(sqlite::SqliteDb::open_with(spec, keys)?)),
    }
}

/// Where the master key is when no setting says: beside a SQLite file (`<file>.key`), or
/// `fieldcase.key` in the current directory for PostgreSQL.
pub fn default_key_source(spec: &std::path::Path) -> keys::KeySource {
    if spec.to_str().is_some_and(is_postgres_url) {
        keys::KeySource::default_for_postgres()
    } else {
        keys::KeySource::beside(spec)
    }
}

/// A `--db` setting fit to be printed or logged: a URL loses its password, however it is
/// written (in the user information, even with `/`, `?` or `@` in it, or as a
/// `password=` parameter), and so does a `key=value` form.
pub fn describe(spec: &str) -> String {
    if !is_postgres_url(spec) {
        return redact(spec, spec);
    }
    let (scheme, rest) = spec.split_once("://").unwrap_or(("postgres", spec));
    // The user information ends at the last `@`: a password may hold `/`, `?` or `@`.
    let shown = match rest.rfind('@') {
        Some(at) => {
            let user = rest[..at].split(':').next().unwrap_or("");
            format!("{scheme}://{user}@{}", &rest[at + 1..])
        }
        None => spec.to_string(),
    };
    redact(spec, &shown)
}

/// `text` (an error message, a description) with every password the `--db` setting `spec`
/// holds replaced by `***`. Passwords of fewer than 3 characters are not searched for.
pub fn redact(spec: &str, text: &str) -> String {
    let mut out = text.to_string();
    for secret in secrets(spec) {
        out = out.replace(&secret, "***");
    }
    out
}

/// The passwords a `--db` setting may hold, however written, longest first.
fn secrets(spec: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    // As the PostgreSQL client reads it.
    if let Ok(c) = spec.parse::<::postgres::Config>() {
        if let Some(p) = c.get_password() {
            found.push(String::from_utf8_lossy(p).into_owned());
        }
    }
    // The user information by hand: up to the last `@`, the password after the first `:`
    // (and each piece of it up to an `@`, in case the last `@` belongs to a parameter).
    if let Some((_, rest)) = spec.split_once("://") {
        if let Some(at) = rest.rfind('@') {
            if let Some((_, password)) = rest[..at].split_once(':') {
                found.push(password.to_string());
                let mut end = 0;
                while let Some(i) = password[end..].find('@') {
                    end += i;
                    found.push(password[..end].to_string());
                    end += 1;
                }
            }
        }
    }
    // `password=VALUE` in a query string or a `key=value` form (quoted or not).
    let lower = spec.to_ascii_lowercase();
    for (i, _) in lower.match_indices("password=") {
        let value = &spec[i + "password=".len()..];
        let value = match value.strip_prefix('\'') {
            Some(quoted) => &quoted[..quoted.find('\'').unwrap_or(quoted.len())],
            None => &value[..value.find(['&', ' ', '\t']).unwrap_or(value.len())],
        };
        found.push(value.to_string());
    }
    let decoded: Vec<String> = found.iter().filter_map(|s| percent_decoded(s)).collect();
    found.extend(decoded);
    found.retain(|s| s.chars().count() >= 3);
    found.sort_by_key(|s| std::cmp::Reverse(s.len()));
    found.dedup();
    found
}

/// `s` with its `%XX` escapes decoded, when it has any.
fn percent_decoded(s: &str) -> Option<String> {
    if !s.contains('%') {
        return None;
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).and_then(|b| hex(*b)),
            bytes.get(i + 2).and_then(|b| hex(*b)),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// The checks both storages make before writing (the same answers from either).
pub(crate) mod check {
    use crate::error::{AppError, AppResult, Problem};
    use fieldcase_core::Role;

    /// The longest team name, in bytes.
    pub(crate) const TEAM_NAME_MAX: usize = 100;
    /// The longest username, in bytes.
    pub(crate) const USERNAME_MAX: usize = 64;
    /// The longest device name, in characters.
    pub(crate) const DEVICE_NAME_MAX: usize = 100;

    /// Workers and supervisors belong to a team (admins to none).
    pub(crate) fn team_needed() -> AppError {
        AppError::invalid(
            Problem::TeamNeeded,
            "workers and supervisors belong to a team",
        )
    }

    /// A team that does not exist (its name as given, at most [`TEAM_NAME_MAX`] characters).
    pub(crate) fn no_such_team(team: &str) -> AppError {
        let team: String = team.trim().chars().take(TEAM_NAME_MAX).collect();
        AppError::invalid(Problem::NoSuchTeam, "no such team").with("team", team)
    }

    /// A team name, trimmed.
    pub(crate) fn team_name(name: &str) -> AppResult<&str> {
        let name = name.trim();
        if name.is_empty() || name.len() > TEAM_NAME_MAX {
            return Err(AppError::invalid(
                Problem::TeamNameInvalid,
                format!("a team name has 1 to {TEAM_NAME_MAX} characters"),
            )
            .with("max", TEAM_NAME_MAX.to_string()));
        }
        Ok(name)
    }

    /// A new user's username (trimmed), password and team.
    pub(crate) fn new_user<'a>(
        username: &'a str,
        role: Role,
        team: Option<&str>,
        password: &str,
    ) -> AppResult<&'a str> {
        let username = username.trim();
        let valid = !username.is_empty()
            && username.len() <= USERNAME_MAX
            && username
                .chars()
                .all(|c| c.is_alphanumeric() || "._-@".contains(c));
        if !valid {
            return Err(AppError::invalid(
                Problem::UsernameInvalid,
                format!(
                    "a username has 1 to {USERNAME_MAX} letters, digits, dots, dashes, \
                     underscores or @"
                ),
            )
            .with("max", USERNAME_MAX.to_string()));
        }
        if username.starts_with(super::links::PARTNER_PREFIX) {
            return Err(AppError::invalid(
                Problem::UsernameReserved,
                "usernames starting with partner- are the partners' links'",
            )
            .with("prefix", super::links::PARTNER_PREFIX));
        }
        self::password(password, &[username])?;
        if role != Role::Admin && team.is_none() {
            return Err(team_needed());
        }
        Ok(username)
    }

    /// The shortest password accepted, in characters.
    pub(crate) const PASSWORD_MIN_CHARS: usize = 12;
    /// The longest, in characters.
    pub(crate) const PASSWORD_MAX_CHARS: usize = 1024;
    /// How many characters a password must have that are not part of a common password,
    /// a context word, a repetition or a run (see [`password`]).
    const PASSWORD_MIN_SURPRISES: usize = 8;

    /// Words that make a password easy to guess wherever they appear (after undoing the
    /// usual letter-for-symbol swaps: `p@ssw0rd` is `password`): the most common passwords
    /// of breach corpora that are words, our own name, and keyboard columns.
    const COMMON: &[&str] = &[
        "password",
        "passwort",
        "motdepasse",
        "contrasena",
        "parola",
        "qwerty",
        "azerty",
        "qwertz",
        "letmein",
        "welcome",
        "admin",
        "administrator",
        "changeme",
        "iloveyou",
        "monkey",
        "dragon",
        "football",
        "baseball",
        "soccer",
        "hockey",
        "sunshine",
        "princess",
        "master",
        "secret",
        "shadow",
        "superman",
        "batman",
        "trustnoi",
        "starwars",
        "whatever",
        "freedom",
        "computer",
        "internet",
        "login",
        "access",
        "default",
        "guest",
        "root",
        "user",
        "temp",
        "summer",
        "winter",
        "spring",
        "autumn",
        "michael",
        "jennifer",
        "jordan",
        "charlie",
        "hello",
        "lovely",
        "flower",
        "abc",
        "qaz",
        "wsx",
        "edc",
        "rfv",
        "tgb",
        "yhn",
        "ujm",
        "zaq",
        "xsw",
        "fieldcase",
        "field",
        "case",
    ];

    /// The keyboard's rows: neighbours on a row make a run like `qwerty` or `asdf`.
    const ROWS: &[&str] = &[
        "`1234567890-=",
        "qwertyuiop[]\\",
        "asdfghjkl;'",
        "zxcvbnm,./",
    ];

    fn unleet(c: char) -> char {
        match c {
            '0' => 'o',
            '1' | '!' | '|' => 'i',
            '3' => 'e',
            '4' | '@' => 'a',
            '5' | '$' => 's',
            '7' | '+' => 't',
            '8' => 'b',
            other => other,
        }
    }

    /// Whether `b` follows `a` as in a run: the same, the next or previous letter or digit,
    /// or a neighbour on a keyboard row.
    fn in_run(a: char, b: char) -> bool {
        if a == b || (a as i64 - b as i64).abs() == 1 {
            return true;
        }
        ROWS.iter().any(|row| {
            let row: Vec<char> = row.chars().collect();
            row.windows(2)
                .any(|w| (w[0] == a && w[1] == b) || (w[0] == b && w[1] == a))
        })
    }

    /// The one password policy (NIST SP 800-63B): at least [`PASSWORD_MIN_CHARS`]
    /// characters, at most [`PASSWORD_MAX_CHARS`], and not easy to guess. A password is
    /// easy to guess when, once its common passwords and words ([`COMMON`]), the `context`
    /// words (the username, the display name) and its repeated pieces are taken out and its
    /// runs (`aaaa`, `1234`, `qwerty`) counted once, fewer than [`PASSWORD_MIN_SURPRISES`]
    /// characters are left. Every way of setting a password goes through this: the admin
    /// API, the console, the CLI, the demo seeding.
    pub(crate) fn password(password: &str, context: &[&str]) -> AppResult<()> {
        let n = password.chars().count();
        if n < PASSWORD_MIN_CHARS {
            return Err(AppError::invalid(
                Problem::PasswordTooShort,
                format!("a password has at least {PASSWORD_MIN_CHARS} characters"),
            )
            .with("min", PASSWORD_MIN_CHARS.to_string()));
        }
        if n > PASSWORD_MAX_CHARS {
            return Err(AppError::invalid(
                Problem::PasswordTooLong,
                format!("a password has at most {PASSWORD_MAX_CHARS} characters"),
            )
            .with("max", PASSWORD_MAX_CHARS.to_string()));
        }
        let low: Vec<char> = password.to_lowercase().chars().collect();
        let leet: Vec<char> = low.iter().map(|&c| unleet(c)).collect();
        let mut taken = vec![false; low.len()];
        let context = context.iter().flat_map(|c| c.split_whitespace());
        let words = COMMON
            .iter()
            .map(|w| w.to_string())
            .chain(context.map(str::to_lowercase))
            .filter(|w| w.chars().count() >= 3);
        for word in words {
            let w: Vec<char> = word.chars().collect();
            let wl: Vec<char> = w.iter().map(|&c| unleet(c)).collect();
            for i in 0..low.len().saturating_sub(w.len() - 1) {
                let end = i + w.len();
                if low[i..end] == w[..] || leet[i..end] == wl[..] {
                    taken[i..end].iter_mut().for_each(|t| *t = true);
                }
            }
        }
        let left: Vec<char> = low
            .iter()
            .zip(&taken)
            .filter(|(_, t)| !**t)
            .map(|(c, _)| *c)
            .collect();
        let mut surprises = 0;
        for i in 0..left.len() {
            let run = i > 0 && in_run(left[i - 1], left[i]);
            // A piece of three seen before: a repetition (`abcabc`).
            let repeated = i >= 2 && (0..i - 2).any(|j| left[j..j + 3] == left[i - 2..=i]);
            if !run && !repeated {
                surprises += 1;
            }
        }
        if surprises < PASSWORD_MIN_SURPRISES {
            return Err(AppError::invalid(
                Problem::PasswordTooEasy,
                "this password is too easy to guess (a common password, a repeated or \
                 sequential pattern, or the user's name): choose a longer phrase of \
                 unrelated words",
            ));
        }
        Ok(())
    }

    /// The longest password a change of password reads, in bytes (the current one and the
    /// new, before anything is hashed).
    pub(crate) const PASSWORD_CHANGE_MAX_BYTES: usize = 1024;

    /// A change of password with a password longer than [`PASSWORD_CHANGE_MAX_BYTES`].
    pub(crate) fn password_change_too_long() -> AppError {
        AppError::invalid(
            Problem::PasswordTooLong,
            "a password has at most 1,024 bytes",
        )
        .with("max", PASSWORD_CHANGE_MAX_BYTES.to_string())
    }

    /// A change of password whose current password is not the user's.
    pub(crate) fn current_password_wrong() -> AppError {
        AppError::invalid(
            Problem::CurrentPasswordWrong,
            "the current password is not right",
        )
    }

    /// An actor id and a device name (trimmed).
    pub(crate) fn device<'a>(actor: &str, device_name: &'a str) -> AppResult<&'a str> {
        let valid_actor = (2..=64).contains(&actor.len())
            && actor.len().is_multiple_of(2)
            && actor
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase());
        if !valid_actor {
            return Err(AppError::BadRequest(
                "actor_id must be 1 to 32 bytes in lower-case hex".into(),
            ));
        }
        let name = device_name.trim();
        if name.is_empty() || name.chars().count() > DEVICE_NAME_MAX {
            return Err(AppError::invalid(
                Problem::DeviceNameInvalid,
                format!("device_name has 1 to {DEVICE_NAME_MAX} characters"),
            )
            .with("max", DEVICE_NAME_MAX.to_string()));
        }
        Ok(name)
    }
}

/// Heads as stored: the 32-byte hashes one after another.
pub(crate) fn heads_blob(heads: &[automerge::ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|h| h.0).collect()
}

/// Heads from their stored form.
pub(crate) fn heads_of(blob: &[u8]) -> Vec<automerge::ChangeHash> {
    blob.chunks_exact(32)
        .filter_map(|c| automerge::ChangeHash::try_from(c).ok())
        .collect()
}

/// A team of workers and their supervisors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub id: i64,
    /// The team's name: its key in users, cases and case documents, never changed.
    pub name: String,
    /// What people call the team now, when it was renamed (`rename_team`); shown instead
    /// of the name.
    #[serde(default)]
    pub label: Option<String>,
}

impl Team {
    /// What the console and the command line show: the label, else the name.
    pub fn shown(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.name)
    }
}

/// A user account (never carries the password hash out of the storage layer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub team: Option<String>,
    pub disabled: bool,
}

impl User {
    /// Whether this is the login-less user of a partner answering through a link
    /// ([`links`]): left out of the lists of people and accounts.
    pub fn is_partner(&self) -> bool {
        self.username.starts_with(links::PARTNER_PREFIX)
    }
}

/// A signed-in session, resolved from a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: User,
    pub device_id: String,
    pub expires_at: i64,
}

/// What the server knows about a case to decide who may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseAccess {
    pub id: CaseId,
    pub team: String,
    pub restricted: bool,
    pub assigned: Vec<String>,
    /// The cases this case links to (its household members' own cases, the case a
    /// duplicate continues in; issue 19): written with the case, so that a linked case
    /// finds who links to it ([`Db::linked_from`]). Reads of access facts leave it empty:
    /// every write computes it from the document ([`CaseAccess::of`]).
    pub links: Vec<CaseId>,
    /// Whether the case is closed (its stage), and when the closure in force was approved
    /// (ms; `None` when open, or closed without an approved closure): what the retention
    /// reads (`crate::retention`), kept in columns beside the case by every case write so
    /// that no case is opened to learn it.
    pub closed: bool,
    pub closed_at: Option<i64>,
    /// What the duplicate check keeps of the case's client ([`MatchFacts`]): written with
    /// the case, sealed with its data key, so that the check's index is built from these
    /// rather than by opening every document. Reads of access facts leave it `None`, and a
    /// write with `None` leaves the stored facts as they are; every write through the hub
    /// computes it from the document ([`CaseAccess::of`]).
    pub matching: Option<MatchFacts>,
    /// What the console's lists keep of the case ([`ListFacts`]): written with the case,
    /// sealed with its data key, so that the dashboard's first view opens no document.
    /// Reads of access facts leave it `None`; a write with `None` deletes the stored ones
    /// (the lists then open the document: never a summary of another version of the case).
    pub listing: Option<ListFacts>,
}

/// The version of [`ListFacts`] this code writes: raise it when what they hold or how
/// they are taken from a document changes (the core's summary has its own,
/// `fieldcase_core::store::Kept`). Facts of another version are not used: the lists open
/// the document instead, and the case's next write stores them anew.
pub const LIST_FACTS_VERSION: u32 = 1;

/// What the console's lists keep of a case (issue 20: the dashboard's first view after a
/// start, a supervisor's thousand cases, without opening a document): its summary as the
/// phone's caseload list has it ([`fieldcase_core::store::Kept`]) and two times. Stored
/// beside the case, sealed with the case's data key (erased with it), filled once for
/// cases stored before ([`cases::fill_derived`]); about 200 bytes for a small case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListFacts {
    #[serde(rename = "v")]
    pub version: u32,
    #[serde(rename = "s")]
    pub summary: fieldcase_core::store::Kept,
    /// The latest time of the document's heads (ms, as the changes claim it): when the case
    /// last changed, before the lists cap it at their now.
    #[serde(rename = "h")]
    pub heads_at: i64,
    /// The latest time any change of the document claims (ms), when later than
    /// `heads_at`: with the receipts of the changes marked as far off, the latest a change
    /// of the case can be listed at in the recent activity (which opens only the documents
    /// that can be among its latest).
    #[serde(rename = "t", default, skip_serializing_if = "Option::is_none")]
    pub latest_claim: Option<i64>,
}

impl ListFacts {
    /// The facts of a document, from its outline (`file`, with `conflicts` fields holding
    /// concurrent values).
    pub fn of(
        file: &fieldcase_core::CaseFile,
        conflicts: usize,
        doc: &automerge::Automerge,
    ) -> Self {
        Self::with_latest(file, conflicts, doc, latest_claim(doc))
    }

    /// [`ListFacts::of`] with the latest time a change of `doc` claims already known
    /// (`latest`): a write knows it from the facts before it and its own changes, without
    /// reading every change of the case's history again.
    pub fn with_latest(
        file: &fieldcase_core::CaseFile,
        conflicts: usize,
        doc: &automerge::Automerge,
        latest: i64,
    ) -> Self {
        let heads_at = doc
            .get_heads()
            .iter()
            .filter_map(|h| doc.get_change_meta_by_hash(h))
            .map(|c| c.timestamp.saturating_mul(1000))
            .max()
            .unwrap_or(0);
        let summary = fieldcase_core::store::CaseSummary::of_outline(
            file.clone(),
            conflicts,
            fieldcase_core::CaseDoc::restricted_in(doc),
            heads_at,
        );
        ListFacts {
            version: LIST_FACTS_VERSION,
            summary: summary.kept(),
            heads_at,
            latest_claim: (latest > heads_at).then_some(latest),
        }
    }

    /// The latest time a change of the case claims (ms).
    pub fn latest_claim(&self) -> i64 {
        self.latest_claim.unwrap_or(self.heads_at)
    }
}

/// A case as the console's lists read it beside the case ([`Db::list_facts`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub id: CaseId,
    /// The case's heads, read with the facts (the facts are of these heads).
    pub heads: Vec<automerge::ChangeHash>,
    /// `None`: none stored, not opened, or of another version.
    pub facts: Option<ListFacts>,
    /// The latest receipt of the case's changes marked as far off ([`TimeMark`]), if any.
    pub marked_receipt: Option<i64>,
}

/// The latest time any change of `doc` claims (ms; 0 for none).
pub fn latest_claim(doc: &automerge::Automerge) -> i64 {
    doc.get_changes_meta(&[])
        .iter()
        .map(|c| c.timestamp.saturating_mul(1000))
        .max()
        .unwrap_or(0)
}

/// The version of [`MatchFacts`] this code writes: raise it when what they hold or how
/// they are taken from a document changes. Facts of an older version are not used: the
/// duplicate check opens the case's document instead, and the case's next write stores
/// them anew.
pub const MATCH_FACTS_VERSION: u32 = 1;

/// What the duplicate check keeps of a case (issue 20): its client as the matcher compares
/// people (the name shown to those who may see the case is its `name`), and whether the
/// case is closed as a duplicate of another. Stored beside the case, sealed with the
/// case's data key (erased with it), a few dozen bytes for a small case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchFacts {
    #[serde(rename = "v")]
    pub version: u32,
    #[serde(rename = "c")]
    pub client: fieldcase_core::matching::Person,
    #[serde(rename = "x", default, skip_serializing_if = "std::ops::Not::not")]
    pub closed_as_duplicate: bool,
}

impl MatchFacts {
    /// The facts of a case file's outline.
    pub fn of(file: &fieldcase_core::CaseFile) -> Self {
        MatchFacts {
            version: MATCH_FACTS_VERSION,
            client: fieldcase_core::matching::Person::of_client(&file.client),
            closed_as_duplicate: file.continues_in().is_some(),
        }
    }
}

impl CaseAccess {
    /// The access facts a case document states, from its outline `file` (with `conflicts`
    /// fields holding concurrent values): the one way they are read from a document
    /// (admission, the command line, seeding).
    pub fn of(
        id: CaseId,
        file: &fieldcase_core::CaseFile,
        conflicts: usize,
        doc: &automerge::Automerge,
    ) -> Self {
        Self::of_write(id, file, conflicts, doc, None, &[])
    }

    /// [`CaseAccess::of`] for a write of `changes` onto a document whose facts were
    /// `prior`: the latest time a change claims is the later of the prior facts' and the new
    /// changes' own (reading the whole history at every write made a case of a hundred
    /// thousand keystrokes cost as many reads at each of its writes). Without prior list
    /// facts, the whole history is read.
    pub fn of_write(
        id: CaseId,
        file: &fieldcase_core::CaseFile,
        conflicts: usize,
        doc: &automerge::Automerge,
        prior: Option<&CaseAccess>,
        changes: &[automerge::Change],
    ) -> Self {
        let latest = match prior.and_then(|p| p.listing.as_ref()) {
            Some(l) => changes
                .iter()
                .map(|c| c.timestamp().saturating_mul(1000))
                .fold(l.latest_claim(), i64::max),
            None => latest_claim(doc),
        };
        let closed = file.stage == fieldcase_core::Stage::Closed;
        CaseAccess {
            id,
            team: file.team.clone().unwrap_or_default(),
            restricted: fieldcase_core::CaseDoc::restricted_in(doc),
            assigned: file.assigned.clone(),
            links: file
                .linked_cases()
                .into_iter()
                .filter_map(|l| l.parse::<CaseId>().ok())
                .filter(|l| *l != id)
                .collect(),
            closed,
            closed_at: closed.then(|| closed_at(file)).flatten(),
            matching: Some(MatchFacts::of(file)),
            listing: Some(ListFacts::with_latest(file, conflicts, doc, latest)),
        }
    }

    /// The access facts of a stored, valid document.
    pub fn read(id: CaseId, doc: &automerge::Automerge) -> AppResult<Self> {
        let (file, conflicts) = fieldcase_core::CaseDoc::outline_of(doc)?;
        Ok(Self::of(id, &file, conflicts, doc))
    }

    /// The access rules: a worker sees the cases assigned to them; a supervisor the cases
    /// of their team; an admin every case that is not restricted. A restricted case is seen
    /// only by its assigned workers and its team's supervisors (do no harm: least access).
    pub fn visible_to(&self, user: &User) -> bool {
        if user.disabled {
            return false;
        }
        let assigned = self.assigned.iter().any(|u| u == &user.id);
        match user.role {
            Role::Worker => assigned,
            Role::Supervisor => assigned || user.team.as_deref() == Some(self.team.as_str()),
            Role::Admin => assigned || !self.restricted,
        }
    }
}

/// A closed case as the retention sees it, from the columns beside the case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedCase {
    pub id: CaseId,
    pub team: String,
    /// When its closure in force was approved (ms).
    pub closed_at: i64,
}

/// When the closure in force of a case file was approved (ms), if it has one.
pub fn closed_at(file: &fieldcase_core::CaseFile) -> Option<i64> {
    let at = file.current_closure()?.decided_at.as_deref()?;
    chrono::DateTime::parse_from_rfc3339(at)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// Session lifetimes, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// A session unused this long expires.
    pub idle_ms: i64,
    /// A session expires this long after login, used or not.
    pub absolute_ms: i64,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy {
            idle_ms: 7 * 24 * 3600 * 1000,
            absolute_ms: 30 * 24 * 3600 * 1000,
        }
    }
}

/// Everything the server stores.
pub trait Db: Send + Sync + 'static {
    fn add_team(&self, name: &str) -> AppResult<Team>;
    fn teams(&self) -> AppResult<Vec<Team>>;
    /// Renames a team: `label` is shown from now on; its name, the key that users, cases
    /// and the case documents on phones hold, stays (nothing is rewritten, nothing to
    /// sync). See `accounts::rename_team` for the rules.
    fn rename_team(&self, name: &str, label: &str) -> AppResult<Team>;
    /// The agency's areas, by code ([`areas`]).
    fn areas(&self) -> AppResult<Vec<areas::Area>>;
    /// Adds an area, or renames the one with the code (its code, the key cases hold, stays);
    /// checked against `limits` ([`areas::put_area`]).
    fn put_area(
        &self,
        code: &str,
        name: &str,
        limits: areas::AreaLimits,
    ) -> AppResult<(areas::Area, areas::AreaWrite)>;
    /// Adds a user; the password is hashed with `iterations` PBKDF2 rounds.
    fn add_user(
        &self,
        username: &str,
        display_name: &str,
        role: Role,
        team: Option<&str>,
        password: &str,
        iterations: u32,
    ) -> AppResult<User>;
    fn users(&self) -> AppResult<Vec<User>>;
    /// Sets a new password (and ends the user's sessions).
    fn set_password(&self, username: &str, password: &str, iterations: u32) -> AppResult<()>;
    fn user_by_username(&self, username: &str) -> AppResult<Option<User>>;
    /// Disables a user: their sessions end and their devices are told to wipe.
    fn disable_user(&self, username: &str) -> AppResult<()>;
    /// Checks a password; `None` for unknown users, disabled users and wrong passwords
    /// alike (the time spent is the same).
    fn check_password(
        &self,
        username: &str,
        password: &str,
        iterations: u32,
    ) -> AppResult<Option<User>>;
    /// Registers (or re-registers) a device and the Automerge actor it writes with.
    fn register_device(
        &self,
        user: &User,
        device_id: Option<&str>,
        device_name: &str,
        actor: &str,
    ) -> AppResult<String>;
    /// Which device an actor is registered to.
    fn actor_device(&self, actor: &str) -> AppResult<Option<String>>;
    fn create_session(
        &self,
        user: &User,
        device_id: &str,
        policy: SessionPolicy,
        now: i64,
    ) -> AppResult<(String, i64)>;
    /// The session of a token, if valid now (touches its idle timer).
    fn session(&self, token: &str, policy: SessionPolicy, now: i64) -> AppResult<Option<Session>>;
    /// Whether a token belongs to a disabled user or device (answer: wipe).
    fn token_disabled(&self, token: &str) -> AppResult<bool>;
    fn revoke_session(&self, token: &str) -> AppResult<()>;
    /// Stores a whole case document (new or replacing), with its access facts,
    /// unconditionally (seeding, imports).
    fn put_case(
        &self,
        access: &CaseAccess,
        document: &[u8],
        heads: &[automerge::ChangeHash],
        now: i64,
    ) -> AppResult<()> {
        self.store_case(access, CaseWrite::Snapshot(document), heads, None, now)
            .map(|_| ())
    }
    /// Stores a case's new snapshot or appends changes to it, with its access facts, in
    /// one transaction. With `expected`, only if the stored heads are still those
    /// (compare-and-swap): [`Stored::Stale`] when another writer (the CLI, another server
    /// instance) got there first; the caller reloads, merges and tries again.
    fn store_case(
        &self,
        access: &CaseAccess,
        write: CaseWrite<'_>,
        heads: &[automerge::ChangeHash],
        expected: Option<&[automerge::ChangeHash]>,
        now: i64,
    ) -> AppResult<Stored>;
    /// [`Db::store_case`], with a read of the case recorded in the audit trail first (as
    /// [`Db::audit`] would): a phone's first sync of a case on a connection, when it brings
    /// changes. Where the storage can, both are in one transaction (SQLite's group commit:
    /// one flush, not two): a write that fails takes its read back with it. Else one after
    /// the other, the read first (PostgreSQL): a write that then fails leaves its read
    /// recorded, a read that showed nothing (the trail may say more than was shown, never
    /// less; recorded after the write, a failed record would have answered "not stored"
    /// for a stored write). When this returns `Ok`, the read is recorded, whether the write
    /// was stored or [`Stored::Stale`].
    fn store_case_read(
        &self,
        access: &CaseAccess,
        write: CaseWrite<'_>,
        heads: &[automerge::ChangeHash],
        expected: Option<&[automerge::ChangeHash]>,
        now: i64,
        read: &AuditRead,
    ) -> AppResult<Stored> {
        self.audit(
            &read.user_id,
            &read.device,
            &read.case,
            read.action,
            read.at,
        )?;
        self.store_case(access, write, heads, expected, now)
    }
    /// The stored document: its snapshot followed by the changes appended since.
    fn case_document(&self, id: &CaseId) -> AppResult<Option<Vec<u8>>>;
    /// The heads of the stored document.
    fn case_heads(&self, id: &CaseId) -> AppResult<Option<Vec<automerge::ChangeHash>>>;
    fn case_access(&self, id: &CaseId) -> AppResult<Option<CaseAccess>>;
    /// Every case with its access facts and heads.
    fn cases(&self) -> AppResult<Vec<(CaseAccess, Vec<automerge::ChangeHash>)>>;
    /// The closed cases whose closure in force was approved at or before `closed_before`
    /// (ms), oldest closure first, read from the columns every case write keeps (no case is
    /// opened): what the retention looks at.
    fn closed_cases(&self, closed_before: i64) -> AppResult<Vec<ClosedCase>>;
    /// What this storage counts of its sealing and opening: case documents opened, and
    /// the time spent in AES-GCM ([`keys::Meter`], exported at `/metrics`).
    fn sealing(&self) -> std::sync::Arc<keys::Meter>;
    /// The cases `user` may see, with their access facts and heads, read through the
    /// indexes on assignees and teams (issue 20: the cost follows the caller's caseload).
    fn visible_cases(
        &self,
        user: &User,
    ) -> AppResult<Vec<(CaseAccess, Vec<automerge::ChangeHash>)>>;
    /// A number that changes when another process has written to the storage since the
    /// last call (the hub then checks its documents in memory against it); `None` when the
    /// storage is busy right now (the caller asks again later rather than wait).
    fn external_version(&self) -> AppResult<Option<i64>>;
    /// The console language a user chose (a code such as `fa`), if any.
    fn user_language(&self, user_id: &str) -> AppResult<Option<String>>;
    fn set_user_language(&self, user_id: &str, language: &str) -> AppResult<()>;
    /// The console time zone a user chose (an IANA name), if any; none: their team's.
    fn user_time_zone(&self, user_id: &str) -> AppResult<Option<String>>;
    fn set_user_time_zone(&self, user_id: &str, time_zone: Option<&str>) -> AppResult<()>;
    /// The device under which the server itself writes for `user` (console, admin API),
    /// with `actor` registered to it.
    fn server_device(&self, user: &User, actor: &str) -> AppResult<String>;
    /// Records that `user_id`, on `device`, read or was sent a case (ids only), chained to
    /// the entry before.
    fn audit(
        &self,
        user_id: &str,
        device: &str,
        case: &CaseId,
        action: &str,
        now: i64,
    ) -> AppResult<()>;
    /// Records reads of several cases at once (a list, a report's rows): one entry per
    /// case, chained, written in one transaction.
    fn audit_cases(
        &self,
        user_id: &str,
        device: &str,
        cases: &[CaseId],
        action: &str,
        now: i64,
    ) -> AppResult<()>;
    /// Checks the whole audit trail's chain.
    fn verify_audit(&self) -> AppResult<records::AuditCheck>;
    /// The latest audit entries, newest first, of one case or of all.
    fn audit_trail(&self, case: Option<&CaseId>, limit: usize) -> AppResult<Vec<AuditEntry>>;
    /// A user by id.
    fn user_by_id(&self, id: &str) -> AppResult<Option<User>>;
    /// A device as the server registered it.
    fn device(&self, id: &str) -> AppResult<Option<Device>>;
    /// The device an Automerge actor (hex) is registered to.
    fn actor_owner(&self, actor: &str) -> AppResult<Option<Device>>;
    /// Stores the possible duplicates a check found (a pair already stored, whatever its
    /// status, is left as it is); answers how many were new.
    fn record_matches(&self, found: &[matches::MatchRow]) -> AppResult<usize>;
    /// The stored pairs holding a case, best first, at most
    /// [`matches::MAX_MATCHES_PER_CASE`].
    fn matches_of(&self, case: &CaseId) -> AppResult<Vec<matches::MatchRow>>;
    /// The open pairs, newest first, at most `limit`.
    fn open_matches(&self, limit: usize) -> AppResult<Vec<matches::MatchRow>>;
    /// Confirms or dismisses an open pair; `false` when it is not an open pair.
    fn decide_match(
        &self,
        x: &CaseId,
        y: &CaseId,
        status: fieldcase_core::matching::MatchStatus,
        by: &str,
        now: i64,
    ) -> AppResult<bool>;
    /// Whether `device` already handed in its last changes to `case` (a departure).
    fn departed(&self, case: &CaseId, device: &str) -> AppResult<bool>;
    /// Claims the one departure of `device` from `case`: `false` when it was claimed
    /// already (by this or another server instance).
    fn record_departure(
        &self,
        case: &CaseId,
        device: &str,
        changes: usize,
        now: i64,
    ) -> AppResult<bool>;
    /// When `user_id` was last unassigned from `case` (by the server's clock), if they are
    /// not assigned now.
    fn assignment_ended(&self, case: &CaseId, user_id: &str) -> AppResult<Option<i64>>;
    /// Takes back a claim whose changes could not be stored.
    fn forget_departure(&self, case: &CaseId, device: &str) -> AppResult<()>;
    /// Records changes whose own time is far from the time the server received them.
    fn mark_times(&self, case: &CaseId, marks: &[TimeMark]) -> AppResult<()>;
    /// The changes of a case whose own time is far from their receipt.
    fn time_marks(&self, case: &CaseId) -> AppResult<Vec<TimeMark>>;
    /// Counts one more event under `key` (a login failure for an account or an address)
    /// within a window of `window_ms` that starts at the first event; returns the count.
    /// Shared by every server instance on the storage.
    fn throttle_hit(&self, key: &str, now: i64, window_ms: i64) -> AppResult<u32>;
    /// The events under `key` within its window (0 once the window has passed).
    fn throttle_count(&self, key: &str, now: i64, window_ms: i64) -> AppResult<u32>;
    /// Forgets the events under `key` (a successful login).
    fn throttle_clear(&self, key: &str) -> AppResult<()>;
    /// Takes back one event under `key` (an attempt that turned out to be a success).
    fn throttle_forgive(&self, key: &str) -> AppResult<()>;
    /// A user's devices, with when each was last used and its open sessions.
    fn devices_of(&self, user_id: &str, now: i64) -> AppResult<Vec<DeviceInfo>>;
    /// Revokes a device (a lost phone): its sessions end, and its next contact is answered
    /// with a wipe instruction. The user's other devices carry on.
    fn revoke_device(&self, device_id: &str) -> AppResult<()>;
    /// Keeps what a device said of its unsynced work and its app version (the latest
    /// replaces the last; a version not given leaves the last one).
    fn record_status(
        &self,
        device_id: &str,
        unsynced: Unsynced,
        app_version: Option<&str>,
    ) -> AppResult<()>;
    /// Enables a disabled user again (their old devices stay revoked: they sign in anew).
    fn enable_user(&self, username: &str) -> AppResult<()>;
    /// The partner directory as stored (opened), if one was stored.
    fn directory(&self) -> AppResult<Option<directory::StoredDirectory>>;
    /// The stored directory's version (0 when none), without opening it.
    fn directory_version(&self) -> AppResult<i64>;
    /// Stores a directory as the version after `expected` (0: the first) when it passes
    /// its check and is at most `max_bytes` as JSON; answers the new version, or a
    /// conflict when another write came first ([`directory::put_directory`]).
    fn put_directory(
        &self,
        directory: &fieldcase_core::directory::Directory,
        expected: i64,
        by: &str,
        now: i64,
        max_bytes: usize,
    ) -> AppResult<i64>;
    /// Makes a link through which a partner answers one referral, and the partner's
    /// login-less user; answers the link and its token, shown once ([`links::create_link`]).
    fn create_referral_link(
        &self,
        new: &links::NewLink<'_>,
    ) -> AppResult<(links::ReferralLink, String)>;
    /// The link `token` opens at `now`: `None` when unknown, expired or revoked alike.
    fn open_referral_link(&self, token: &str, now: i64) -> AppResult<Option<links::ReferralLink>>;
    /// Every link made for a case's referrals, newest first.
    fn referral_links(&self, case: &CaseId) -> AppResult<Vec<links::ReferralLink>>;
    /// Revokes a link; `false` when there is no such link, or it was revoked already.
    fn revoke_referral_link(&self, id: &str, by: &str, now: i64) -> AppResult<bool>;
    /// How the upload of the file a case's reference names stands (`db::attachments`).
    fn attachment_upload_status(
        &self,
        case: &CaseId,
        reference: &attachments::Reference,
    ) -> AppResult<attachments::UploadStatus>;
    /// Stores chunk `seq` of an upload (at most `max` bytes in all), completing the file at
    /// its last chunk once it checks; a refusal says why.
    #[allow(clippy::too_many_arguments)]
    fn put_attachment_chunk(
        &self,
        case: &CaseId,
        reference: &attachments::Reference,
        seq: i64,
        bytes: &[u8],
        max: u64,
        by: &str,
        now: i64,
    ) -> AppResult<Result<attachments::UploadStatus, attachments::Refused>>;
    /// Chunk `seq` of a file the server holds whole.
    fn attachment_chunk(&self, case: &CaseId, hash: &str, seq: i64) -> AppResult<Option<Vec<u8>>>;
    /// A file the server holds whole: its size and media type.
    fn stored_attachment(
        &self,
        case: &CaseId,
        hash: &str,
    ) -> AppResult<Option<attachments::FileRow>>;
    /// Records an administrative action (who, what, on what, when).
    fn log_admin(&self, entry: &AdminEntry) -> AppResult<()>;
    /// The latest administrative actions, newest first.
    fn admin_log(&self, limit: usize) -> AppResult<Vec<AdminEntry>>;
    /// Gives a user another role or team (admins have none). The caller has made sure
    /// their cases were handed over first ([`crate::admin::move_user`]).
    fn set_role_team(&self, username: &str, role: Role, team: Option<&str>) -> AppResult<User>;
    /// The cases a user is assigned to (from the access index), by case id: a hand-over
    /// deals them out in this order, the same on every storage.
    fn cases_of(&self, user_id: &str) -> AppResult<Vec<CaseId>>;
    /// The cases that link to `id` (issue 19: their household names its client as a
    /// member, or they were closed as its duplicates), in id order, whoever may see them.
    fn linked_from(&self, id: &CaseId) -> AppResult<Vec<CaseId>>;
    /// The cases written at or after `since_ms` (by the writers' clocks: `updated_at`),
    /// through the index on it; for the duplicate check's look at other writers.
    /// Each with the time of its last write (`updated_at`).
    fn cases_written_since(&self, since_ms: i64) -> AppResult<Vec<(CaseId, i64)>>;
    /// What the duplicate check keeps of every case ([`MatchFacts`], stored with each
    /// write), opened, by case id: its index is built from these without opening the
    /// documents. A case whose facts are missing, do not open or are of another version is
    /// left out (the caller reads its document).
    fn match_facts(&self) -> AppResult<Vec<(CaseId, MatchFacts)>>;
    /// One case's match facts, as [`Db::match_facts`] reads them.
    fn match_facts_of(&self, id: &CaseId) -> AppResult<Option<MatchFacts>>;
    /// What the console's lists keep of the cases `ids` ([`ListFacts`], stored with each
    /// write), opened, with the heads they were stored with: the dashboard's first view is
    /// built from these without opening the documents. A case that does not exist is left
    /// out; one whose facts are missing, do not open or are of another version has `None`
    /// (the caller reads its document).
    fn list_facts(&self, ids: &[CaseId]) -> AppResult<Vec<Listing>>;
    /// Erases a case by destroying its data key and deleting what is stored of it; a
    /// tombstone (id, team, when, by whom, why) stays ([`erasure::erase`]). `NotFound` for
    /// no such case, a conflict for one erased already, a bad request for a bad reason.
    fn erase_case(
        &self,
        id: &CaseId,
        by: &str,
        reason: &str,
        now: i64,
    ) -> AppResult<erasure::Tombstone>;
    /// The tombstone of an erased case.
    fn erased_case(&self, id: &CaseId) -> AppResult<Option<erasure::Tombstone>>;
    /// Every tombstone, the latest first.
    fn erased_cases(&self) -> AppResult<Vec<erasure::Tombstone>>;
    /// An admin's decision to keep a closed case past its retention until a day, with a
    /// reason (1 to [`erasure::REASON_MAX_CHARS`] characters, one line); replaces an earlier one.
    fn keep_past_retention(&self, hold: &erasure::RetentionHold) -> AppResult<()>;
    /// Every decision to keep, the latest until first.
    fn retention_holds(&self) -> AppResult<Vec<erasure::RetentionHold>>;
    /// A supervisor asks for a case's erasure, with a reason (`erasure::request`).
    fn request_erasure(
        &self,
        id: &CaseId,
        team: &str,
        by: &str,
        reason: &str,
        now: i64,
    ) -> AppResult<erasure::ErasureRequest>;
    /// Every request for an erasure (or the open ones), the latest first.
    fn erasure_requests(&self, open_only: bool) -> AppResult<Vec<erasure::ErasureRequest>>;
    /// An admin's decision on an open request (`erased` or `refused`); `None` when there
    /// is no such open request.
    fn decide_erasure_request(
        &self,
        id: &str,
        by: &str,
        decision: &str,
        now: i64,
    ) -> AppResult<Option<erasure::ErasureRequest>>;
}

/// A device with what the server knows of its use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    #[serde(flatten)]
    pub device: Device,
    /// When one of its sessions was last used (ms), if ever.
    pub last_seen: Option<i64>,
    /// Sessions that are neither revoked nor expired.
    pub open_sessions: usize,
    /// What the phone said of its unsynced work at its last sync, if it ever did.
    #[serde(default)]
    pub unsynced: Option<Unsynced>,
    /// The app version the phone named at its last sync.
    #[serde(default)]
    pub app_version: Option<String>,
}

/// How many of a phone's cases held changes the server had not acknowledged, as the phone
/// said at its last sync: when the sync began (`done: false`: those it had to offer, so
/// "up to"; the sync did not say it ended) or when it ended (`done: true`: exact).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unsynced {
    pub cases: u32,
    pub done: bool,
    /// When the server heard it (ms since the epoch).
    pub at: i64,
}

/// One administrative action: user, role, team, device and case management.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminEntry {
    pub at: i64,
    /// Who did it (a user id, or `admin-cli` for the command line).
    pub by: String,
    /// What was done (`disable user`, `revoke device`, ...).
    pub action: String,
    /// What it was done to (a username, a device id, a case id, a team name).
    pub target: String,
}

/// A device as the server registered it: the server's record, which is what the console
/// shows (never the names a document gives itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub id: String,
    pub user_id: String,
    pub name: String,
    /// When it was registered (ms since the epoch).
    pub created_at: i64,
    pub disabled: bool,
}

/// A change whose own timestamp (set by the device that made it) is far from when the
/// server received it: the console shows the receipt as its time, and the claim beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeMark {
    pub change: automerge::ChangeHash,
    /// The change's own time (ms).
    pub claimed: i64,
    /// When the server received it (ms).
    pub received: i64,
}

/// One read or sync of a restricted case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: i64,
    pub user_id: String,
    /// The device (a phone's id, or the server's device of a console or API user).
    #[serde(default)]
    pub device: String,
    pub case_id: String,
    pub action: String,
}

/// The name of the device the server writes under on a user's behalf.
pub const SERVER_DEVICE_NAME: &str = "fieldcase-server";

/// What [`Db::store_case`] writes.
#[derive(Debug, Clone, Copy)]
pub enum CaseWrite<'a> {
    /// A whole document (`Automerge::save`): replaces the snapshot and pending changes.
    Snapshot(&'a [u8]),
    /// Changes since the stored heads (`Automerge::save_after`), appended.
    Changes(&'a [u8]),
}

/// What [`Db::store_case`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Written {
        /// Change chunks stored after the snapshot, and their size; the snapshot's size
        /// (sizes as stored: packed and sealed).
        pending_changes: usize,
        pending_bytes: usize,
        snapshot_bytes: usize,
    },
    /// Nothing written: the stored heads were not the expected ones.
    Stale,
}

impl Stored {
    /// Whether the pending changes should be folded into a new snapshot.
    pub fn wants_compaction(&self) -> bool {
        matches!(*self, Stored::Written { pending_changes, pending_bytes, snapshot_bytes }
            if pending_changes >= 64 || pending_bytes > snapshot_bytes.max(4096))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_are_told_apart_and_printed_without_their_password() {
        assert!(is_postgres_url("postgres://u@h/db"));
        assert!(is_postgres_url("postgresql://u@h/db"));
        assert!(!is_postgres_url("fieldcase.sqlite"));
        assert!(!is_postgres_url("./postgres://x"));
        for (spec, shown) in [
            (
                "postgres://anna:s3cr%40t@db:5432/fc?sslmode=disable",
                "postgres://anna@db:5432/fc?sslmode=disable",
            ),
            ("postgresql://anna:p@ss@db/fc", "postgresql://anna@db/fc"),
            ("postgres://u:pa/ss@h/db", "postgres://u@h/db"),
            ("postgres://u:p?ss@h/db", "postgres://u@h/db"),
            (
                "postgres://u@h/db?password=secret&sslmode=disable",
                "postgres://u@h/db?password=***&sslmode=disable",
            ),
            (
                "postgres://u:secret@h/db?application_name=a@b",
                "postgres://u@b",
            ),
            (
                "host=h user=u password=secret dbname=db",
                "host=h user=u password=*** dbname=db",
            ),
            (
                "host=h password='se cret' dbname=db",
                "host=h password='***' dbname=db",
            ),
            ("postgres://anna@db/fc", "postgres://anna@db/fc"),
            ("postgres://db/fc", "postgres://db/fc"),
            (
                "/var/lib/fieldcase/x:y@z.sqlite",
                "/var/lib/fieldcase/x:y@z.sqlite",
            ),
        ] {
            assert_eq!(describe(spec), shown);
        }
    }

    #[test]
    fn one_password_policy_refuses_short_common_and_trivial_passwords() {
        let refused = [
            "aaaaaaaaaa",
            "1234567890",
            "aaaaaaaaaaaa",
            "123456789012",
            "1234567890123456",
            "abcdefghijklmnop",
            "qwertyuiopasdfgh",
            "1qaz2wsx3edc4rfv",
            "password1234",
            "P@ssw0rd2024!",
            "passwordpassword",
            "iloveyou1234",
            "abcabcabcabcabc",
            "a1b2a1b2a1b2a1b2",
            "welcome12345",
            "fieldcase2026!",
            "anna.petrenko1",
            "short",
        ];
        for pw in refused {
            assert!(
                check::password(pw, &["anna.petrenko", "Anna Petrenko"]).is_err(),
                "{pw} was accepted"
            );
        }
        let accepted = [
            "a long test password",
            "correct horse battery",
            "load test password",
            "soak test password",
            "Kh7#mQ2v!pL9",
            "tôi thích ăn phở bò",
            "กินข้าวหรือยังครับ",
            "мама мыла раму вчера",
        ];
        for pw in accepted {
            assert!(check::password(pw, &["anna"]).is_ok(), "{pw} was refused");
        }
        // Demo passwords are always accepted.
        for _ in 0..200 {
            let (t, _) = crate::auth::new_token();
            assert!(check::password(&format!("demo-{}", &t[..16]), &["worker1"]).is_ok());
        }
        let e = check::password("1234567890", &[]).unwrap_err().to_string();
        assert!(e.contains("at least 12 characters"), "{e}");
        let e = check::password("password1234", &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("too easy to guess"), "{e}");
    }

    #[test]
    fn error_texts_lose_every_form_of_the_password() {
        for (spec, secret) in [
            ("postgres://u:pa/ss@h/db", "pa/ss"),
            ("postgres://u:p?ss@h/db", "p?ss"),
            ("postgres://u:s3cr%40t@h/db", "s3cr@t"),
            (
                "postgres://u@h/db?password=secret&sslmode=disable",
                "secret",
            ),
            ("postgresql://u:p@ss@h/db", "p@ss"),
            ("host=h user=u password=secret", "secret"),
        ] {
            let text = format!("cannot connect to {secret} as u: password {secret} refused");
            let shown = redact(spec, &text);
            assert!(!shown.contains(secret), "{spec}: {shown}");
            assert!(shown.contains("as u"), "{shown}");
            assert!(!describe(spec).contains(secret), "{spec}");
        }
    }
}
