//! The account rules, once for every storage: teams, users and passwords are checked on the
//! way in, a password is checked (and rehashed when the work factor was raised), a session
//! opens with an absolute expiry, ends when idle or at that expiry and its idle timer moves
//! when it is used, a session of a disabled user or device is told to wipe, and an
//! Automerge actor is bound once to one device of its user (the server's own device
//! included). Each storage only reads and writes rows ([`AccountRows`]) and fails with a
//! [`StorageError`]; what is allowed, and what the API answers, is decided here.
//!
//! This is one part of the storage split (issue 14), whose layout [`super`] describes: the
//! other rules are in [`super::cases`], [`super::users`] and [`super::records`].

use super::{check, Session, SessionPolicy, Team, User};
use crate::auth::{self, PasswordHash};
use crate::error::{AppError, AppResult, Problem};
use fieldcase_core::Role;

/// Why a storage could not do what it was asked. Turned into the API's error in one place
/// (`From<StorageError> for AppError`); the details of `Unavailable` and `Corrupt` are
/// logged, never sent.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A uniqueness the storage keeps was about to break.
    #[error("{0}")]
    Conflict(String),
    /// No such row.
    #[error("not found")]
    NotFound,
    /// The storage could not be reached or failed (disk, network, lock).
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// A stored row could not be read as what it should hold.
    #[error("stored data unreadable: {0}")]
    Corrupt(String),
    /// A case's data key, or the database's key check, does not open with the master key
    /// this storage holds: the key was rotated meanwhile (the storage reads it again and
    /// tries once more) or the data is damaged.
    #[error("the master key does not open a case's data key (rotated meanwhile, or damaged)")]
    Rekeyed,
    /// A write to a case that was erased (its tombstone keeps the id).
    #[error("this case was erased; it is not kept again")]
    Erased,
}

impl From<StorageError> for AppError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Conflict(m) => AppError::Conflict(m),
            StorageError::NotFound => AppError::NotFound,
            StorageError::Erased => super::erasure::refusal().into(),
            e @ (StorageError::Unavailable(_)
            | StorageError::Corrupt(_)
            | StorageError::Rekeyed) => AppError::Internal(e.to_string()),
        }
    }
}

impl From<rusqlite::Error> for StorageError {
    fn from(e: rusqlite::Error) -> Self {
        match e {
            rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::InvalidColumnType(..)
            | rusqlite::Error::IntegralValueOutOfRange(..) => StorageError::Corrupt(e.to_string()),
            e => StorageError::Unavailable(format!("database: {e}")),
        }
    }
}

impl From<AppError> for StorageError {
    /// The storages' own plumbing (the PostgreSQL connection pool) answers in the API's
    /// errors; for the rows it is one of ours.
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound => StorageError::NotFound,
            AppError::Conflict(m) => StorageError::Conflict(m),
            other => StorageError::Unavailable(other.to_string()),
        }
    }
}

/// A user's stored password, and whether the user is disabled.
#[derive(Debug, Clone)]
pub struct PasswordRow {
    pub hash: PasswordHash,
    pub disabled: bool,
}

/// A session as stored, with its user and whether its device is disabled.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub user: User,
    pub device_id: String,
    pub expires_at: i64,
    pub last_used: i64,
    pub revoked: bool,
    pub device_disabled: bool,
}

/// What a storage found when asked to register a device and bind an actor to it, in one
/// transaction that it commits only for [`Registration::Registered`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registration {
    /// The device (new, or the user's own) with the actor bound to it.
    Registered(String),
    /// The device named is not one of the user's.
    UnknownDevice,
    /// The device named is the user's, and disabled.
    DisabledDevice,
    /// The actor is bound to another device.
    ActorElsewhere,
}

/// A new user's row.
#[derive(Debug, Clone)]
pub struct NewUserRow<'a> {
    pub id: &'a str,
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub team: Option<&'a str>,
    pub hash: &'a PasswordHash,
    pub now: i64,
}

/// What a storage did with a new user's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserInsert {
    Inserted(User),
    /// The team named is not one the storage holds.
    NoSuchTeam,
    /// The username is another user's.
    Taken,
}

/// The rows the account rules read and write; each storage implements them.
pub trait AccountRows {
    /// Inserts a team; `None` when one of that name exists.
    fn insert_team(&self, name: &str, now: i64) -> Result<Option<Team>, StorageError>;
    /// Sets a team's label; `false` when there is no team of that name.
    fn update_team_label(&self, name: &str, label: &str) -> Result<bool, StorageError>;
    /// Every team.
    fn team_rows(&self) -> Result<Vec<Team>, StorageError>;
    /// Inserts a user, unless the username is taken or the team unknown.
    fn insert_user(&self, row: &NewUserRow<'_>) -> Result<UserInsert, StorageError>;
    /// Replaces the password hash of `username` and ends every session of the user, in one
    /// transaction; `false` when there is no such user.
    fn replace_password_ending_sessions(
        &self,
        username: &str,
        hash: &PasswordHash,
    ) -> Result<bool, StorageError>;
    /// The stored password of `username`, if there is such a user.
    fn password_row(&self, username: &str) -> Result<Option<PasswordRow>, StorageError>;
    /// Replaces the password hash of `username` (nothing else changes: sessions stay).
    fn replace_password_hash(
        &self,
        username: &str,
        hash: &PasswordHash,
    ) -> Result<(), StorageError>;
    /// The user named `username`.
    fn user_row(&self, username: &str) -> Result<Option<User>, StorageError>;
    /// The session whose token hashes to `token_hash`.
    fn session_row(&self, token_hash: &[u8]) -> Result<Option<SessionRow>, StorageError>;
    /// Notes that a session was used at `now`.
    fn touch_session(&self, token_hash: &[u8], now: i64) -> Result<(), StorageError>;
    /// Stores a new session, last used at `now`.
    fn insert_session(
        &self,
        token_hash: &[u8],
        user_id: &str,
        device_id: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StorageError>;
    /// Marks the session whose token hashes to `token_hash` revoked (if there is one).
    fn revoke_session_row(&self, token_hash: &[u8]) -> Result<(), StorageError>;
    /// The oldest device of `user_id` named `name` that is not disabled.
    fn device_named(&self, user_id: &str, name: &str) -> Result<Option<String>, StorageError>;
    /// Registers `device` of `user_id` (a new one, named `name`, when `None`) and binds
    /// `actor` to it if it is bound to none, in one transaction, committed only when the
    /// answer is [`Registration::Registered`].
    fn register_rows(
        &self,
        user_id: &str,
        device: Option<&str>,
        name: &str,
        actor: &str,
        now: i64,
    ) -> Result<Registration, StorageError>;
}

/// Renames a team: the label trimmed, not empty, at most 100 characters, and not the name
/// or label of another team (people must tell teams apart). Setting the label to the
/// team's own name goes back to it.
pub fn rename_team(rows: &dyn AccountRows, name: &str, label: &str) -> AppResult<Team> {
    let label = check::team_name(label)?;
    let teams = rows.team_rows()?;
    let team = teams
        .iter()
        .find(|t| t.name == name)
        .ok_or(AppError::NotFound)?;
    if teams
        .iter()
        .any(|t| t.id != team.id && (t.name == label || t.label.as_deref() == Some(label)))
    {
        return Err(AppError::invalid(
            Problem::TeamNameTaken,
            "another team has this name or label",
        )
        .with("team", label));
    }
    if !rows.update_team_label(name, label)? {
        return Err(AppError::NotFound);
    }
    Ok(Team {
        id: team.id,
        name: team.name.clone(),
        label: (label != team.name).then(|| label.to_string()),
    })
}

/// Adds a team: its name trimmed, not empty, not taken.
pub fn add_team(rows: &dyn AccountRows, name: &str) -> AppResult<Team> {
    let name = check::team_name(name)?;
    rows.insert_team(name, auth_now())?.ok_or_else(|| {
        AppError::invalid(Problem::TeamNameTaken, "a team with this name exists").with("team", name)
    })
}

/// Adds a user after the checks of a new account (a username of our characters, a role
/// with a team when it needs one, a password the policy accepts); the display name is the
/// username when empty.
pub fn add_user(
    rows: &dyn AccountRows,
    username: &str,
    display_name: &str,
    role: Role,
    team: Option<&str>,
    password: &str,
    iterations: u32,
) -> AppResult<User> {
    let username = check::new_user(username, role, team, password)?;
    let hash = auth::hash_password(password, iterations);
    let id = auth::new_id("u-");
    let display_name = match display_name.trim() {
        "" => username,
        name => name,
    };
    let row = NewUserRow {
        id: &id,
        username,
        display_name,
        role,
        team,
        hash: &hash,
        now: auth_now(),
    };
    match rows.insert_user(&row)? {
        UserInsert::Inserted(user) => Ok(user),
        UserInsert::NoSuchTeam => Err(check::no_such_team(team.unwrap_or_default())),
        UserInsert::Taken => Err(AppError::invalid(
            Problem::UsernameTaken,
            "this username is taken",
        )
        .with("username", username)),
    }
}

/// Sets a user's password (the policy checks it, with the username as context); every
/// session of the user ends.
pub fn set_password(
    rows: &dyn AccountRows,
    username: &str,
    password: &str,
    iterations: u32,
) -> AppResult<()> {
    if username.starts_with(super::links::PARTNER_PREFIX) {
        return Err(AppError::invalid(
            Problem::PartnerLinkNotAccount,
            "a partner's link has no account: it signs in with no password",
        ));
    }
    check::password(password, &[username])?;
    let hash = auth::hash_password(password, iterations);
    if !rows.replace_password_ending_sessions(username, &hash)? {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// The user whose password this is, if it is and the user is active. An unknown user costs
/// the same time as a wrong password. A password hashed at a lower work factor than
/// `iterations` is hashed again now that it is known.
pub fn check_password(
    rows: &dyn AccountRows,
    username: &str,
    password: &str,
    iterations: u32,
) -> AppResult<Option<User>> {
    // The hashing runs on the caller's thread, never holding a connection.
    let Some(stored) = rows.password_row(username)? else {
        auth::dummy_verify(password, iterations);
        return Ok(None);
    };
    if !auth::verify_password(password, &stored.hash) || stored.disabled {
        return Ok(None);
    }
    if stored.hash.iterations < iterations {
        // Raise the work factor now that we know the password.
        rows.replace_password_hash(username, &auth::hash_password(password, iterations))?;
    }
    Ok(rows.user_row(username)?)
}

/// The session of `token`, if it is open at `now`: not revoked, its user and device
/// active, used within the idle time, before its absolute expiry. Its idle timer moves at
/// most once a minute or a tenth of the idle time (a write per request would cost an
/// fsync each), and a failure to move it (a full disk) does not fail the request.
pub fn session(
    rows: &dyn AccountRows,
    token: &str,
    policy: SessionPolicy,
    now: i64,
) -> AppResult<Option<Session>> {
    if token.len() != 64 {
        return Ok(None);
    }
    let hash = auth::token_hash(token);
    let Some(s) = rows.session_row(&hash)? else {
        return Ok(None);
    };
    if s.revoked
        || s.device_disabled
        || s.user.disabled
        || now >= s.expires_at
        || now - s.last_used >= policy.idle_ms
    {
        return Ok(None);
    }
    if now - s.last_used >= (policy.idle_ms / 10).clamp(1, 60_000) {
        if let Err(e) = rows.touch_session(&hash, now) {
            tracing::warn!(error = %e, "could not note a session's use");
        }
    }
    Ok(Some(Session {
        user: s.user,
        device_id: s.device_id,
        expires_at: s.expires_at,
    }))
}

/// Registers the device a user signs in on (a new one when `device_id` is `None`) and
/// binds the Automerge actor it writes with, once: an actor bound to another device is a
/// conflict, a device that is not the user's is unknown, a disabled one must wipe.
pub fn register_device(
    rows: &dyn AccountRows,
    user: &User,
    device_id: Option<&str>,
    device_name: &str,
    actor: &str,
) -> AppResult<String> {
    let name = super::check::device(actor, device_name)?;
    match rows.register_rows(&user.id, device_id, name, actor, auth_now())? {
        Registration::Registered(device) => Ok(device),
        Registration::UnknownDevice => {
            Err(AppError::invalid(Problem::NoSuchDevice, "unknown device"))
        }
        Registration::DisabledDevice => Err(AppError::Disabled),
        Registration::ActorElsewhere => Err(AppError::invalid(
            Problem::ActorElsewhere,
            "this actor id is registered to another device",
        )),
    }
}

/// Opens a session of `user` on `device_id` at `now`: a new random token (only its hash is
/// stored) that expires after the policy's absolute time.
pub fn create_session(
    rows: &dyn AccountRows,
    user: &User,
    device_id: &str,
    policy: SessionPolicy,
    now: i64,
) -> AppResult<(String, i64)> {
    let (token, hash) = auth::new_token();
    let expires_at = now + policy.absolute_ms;
    rows.insert_session(&hash, &user.id, device_id, now, expires_at)?;
    Ok((token, expires_at))
}

/// Whether `token` is a session of a disabled user or device (the answer is: wipe), open
/// or not.
pub fn token_disabled(rows: &dyn AccountRows, token: &str) -> AppResult<bool> {
    Ok(rows
        .session_row(&auth::token_hash(token))?
        .is_some_and(|s| s.user.disabled || s.device_disabled))
}

/// Ends the session of `token` (a sign-out); an unknown token is no error.
pub fn revoke_session(rows: &dyn AccountRows, token: &str) -> AppResult<()> {
    Ok(rows.revoke_session_row(&auth::token_hash(token))?)
}

/// The device the server writes under for `user` (its oldest enabled one of that name, or
/// a new one), with `actor` bound to it.
pub fn server_device(rows: &dyn AccountRows, user: &User, actor: &str) -> AppResult<String> {
    let existing = rows.device_named(&user.id, super::SERVER_DEVICE_NAME)?;
    register_device(
        rows,
        user,
        existing.as_deref(),
        super::SERVER_DEVICE_NAME,
        actor,
    )
}

fn auth_now() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    //! The rules on rows kept in memory: what they decide does not depend on a storage
    //! (both storages run them in `tests/tests/it/storage_contract.rs`).

    use std::cell::RefCell;

    use super::*;
    use fieldcase_core::Role;

    #[derive(Default)]
    struct Rows {
        password: RefCell<Option<PasswordRow>>,
        session: RefCell<Option<SessionRow>>,
        touched: RefCell<Vec<i64>>,
        touch_fails: bool,
        registration: Option<Registration>,
    }

    fn anna() -> User {
        User {
            id: "u-anna".into(),
            username: "anna".into(),
            display_name: "Anna".into(),
            role: Role::Worker,
            team: Some("north".into()),
            disabled: false,
        }
    }

    impl AccountRows for Rows {
        fn insert_team(&self, _: &str, _: i64) -> Result<Option<Team>, StorageError> {
            Err(StorageError::Unavailable("not used by these tests".into()))
        }
        fn update_team_label(&self, _: &str, _: &str) -> Result<bool, StorageError> {
            Err(StorageError::Unavailable("not used by these tests".into()))
        }
        fn team_rows(&self) -> Result<Vec<Team>, StorageError> {
            Err(StorageError::Unavailable("not used by these tests".into()))
        }
        fn insert_user(&self, _: &NewUserRow<'_>) -> Result<UserInsert, StorageError> {
            Err(StorageError::Unavailable("not used by these tests".into()))
        }
        fn replace_password_ending_sessions(
            &self,
            _: &str,
            _: &PasswordHash,
        ) -> Result<bool, StorageError> {
            Err(StorageError::Unavailable("not used by these tests".into()))
        }
        fn password_row(&self, _: &str) -> Result<Option<PasswordRow>, StorageError> {
            Ok(self.password.borrow().clone())
        }
        fn replace_password_hash(&self, _: &str, hash: &PasswordHash) -> Result<(), StorageError> {
            if let Some(row) = self.password.borrow_mut().as_mut() {
                row.hash = hash.clone();
            }
            Ok(())
        }
        fn user_row(&self, _: &str) -> Result<Option<User>, StorageError> {
            Ok(Some(anna()))
        }
        fn session_row(&self, _: &[u8]) -> Result<Option<SessionRow>, StorageError> {
            Ok(self.session.borrow().clone())
        }
        fn touch_session(&self, _: &[u8], now: i64) -> Result<(), StorageError> {
            if self.touch_fails {
                return Err(StorageError::Unavailable("disk full".into()));
            }
            self.touched.borrow_mut().push(now);
            Ok(())
        }
        fn register_rows(
            &self,
            _: &str,
            _: Option<&str>,
            _: &str,
            _: &str,
            _: i64,
        ) -> Result<Registration, StorageError> {
            Ok(self.registration.clone().expect("a registration"))
        }
        fn insert_session(
            &self,
            _: &[u8],
            _: &str,
            _: &str,
            _: i64,
            _: i64,
        ) -> Result<(), StorageError> {
            Err(StorageError::Unavailable("not used by these tests".into()))
        }
        fn revoke_session_row(&self, _: &[u8]) -> Result<(), StorageError> {
            Err(StorageError::Unavailable("not used by these tests".into()))
        }
        fn device_named(&self, _: &str, _: &str) -> Result<Option<String>, StorageError> {
            Err(StorageError::Unavailable("not used by these tests".into()))
        }
    }

    #[test]
    fn a_password_is_rehashed_only_when_the_work_factor_was_raised() {
        let rows = Rows {
            password: RefCell::new(Some(PasswordRow {
                hash: auth::hash_password("a long passphrase", 1_000),
                disabled: false,
            })),
            ..Rows::default()
        };
        assert!(check_password(&rows, "anna", "a long passphrase", 1_000)
            .unwrap()
            .is_some());
        assert_eq!(
            rows.password.borrow().as_ref().unwrap().hash.iterations,
            1_000
        );
        assert!(check_password(&rows, "anna", "wrong", 2_000)
            .unwrap()
            .is_none());
        assert_eq!(
            rows.password.borrow().as_ref().unwrap().hash.iterations,
            1_000,
            "a wrong password changes nothing"
        );
        assert!(check_password(&rows, "anna", "a long passphrase", 2_000)
            .unwrap()
            .is_some());
        assert_eq!(
            rows.password.borrow().as_ref().unwrap().hash.iterations,
            2_000
        );
        rows.password.borrow_mut().as_mut().unwrap().disabled = true;
        assert!(check_password(&rows, "anna", "a long passphrase", 2_000)
            .unwrap()
            .is_none());
    }

    #[test]
    fn a_session_is_touched_sparingly_and_a_failed_touch_fails_nothing() {
        let policy = SessionPolicy {
            idle_ms: 1_000,
            absolute_ms: 10_000,
        };
        let row = SessionRow {
            user: anna(),
            device_id: "d-1".into(),
            expires_at: 10_000,
            last_used: 0,
            revoked: false,
            device_disabled: false,
        };
        let token = "0".repeat(64);
        let rows = Rows {
            session: RefCell::new(Some(row.clone())),
            ..Rows::default()
        };
        assert!(session(&rows, &token, policy, 50).unwrap().is_some());
        assert!(
            rows.touched.borrow().is_empty(),
            "used within a tenth of the idle time"
        );
        assert!(session(&rows, &token, policy, 500).unwrap().is_some());
        assert_eq!(*rows.touched.borrow(), [500]);
        assert!(
            session(&rows, &token, policy, 1_000).unwrap().is_none(),
            "idle"
        );
        assert!(session(&rows, "short", policy, 1).unwrap().is_none());
        let failing = Rows {
            session: RefCell::new(Some(row)),
            touch_fails: true,
            ..Rows::default()
        };
        assert!(session(&failing, &token, policy, 500).unwrap().is_some());
    }

    #[test]
    fn what_a_storage_finds_at_registration_is_answered_by_the_rules() {
        for (found, answer) in [
            (
                Registration::Registered("d-1".into()),
                Ok("d-1".to_string()),
            ),
            (Registration::UnknownDevice, Err("bad_request")),
            (Registration::DisabledDevice, Err("wipe")),
            (Registration::ActorElsewhere, Err("conflict")),
        ] {
            let rows = Rows {
                registration: Some(found.clone()),
                ..Rows::default()
            };
            let got =
                register_device(&rows, &anna(), None, "phone", "aa11").map_err(|e| e.code().1);
            assert_eq!(got, answer, "{found:?}");
        }
    }
}
