//! The rules on users and their devices, once for every storage: a worker or supervisor
//! belongs to a known team and an admin to none, a disabled user's sessions end and their
//! devices are told to wipe, an enabled user signs in anew, a revoked device's sessions
//! end, a device's listing leaves out the device the server writes under, and what a phone
//! said of its unsynced work is kept whole or not at all.
//!
//! Each storage only reads and writes rows ([`UserRows`], beside its
//! [`AccountRows`]) and fails with a [`StorageError`]; what is allowed, and what the API
//! answers, is decided here.

use super::accounts::{AccountRows, StorageError};
use super::{Device, DeviceInfo, Unsynced, User, SERVER_DEVICE_NAME};
use crate::error::{AppError, AppResult, Problem};
use fieldcase_core::Role;

/// What a storage did with a user's new role and team.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleTeamUpdate {
    Updated,
    /// The team named is not one the storage holds (nothing changed).
    NoSuchTeam,
    /// There is no user of that name.
    NoSuchUser,
}

/// A device's row with what the storage counts of its sessions.
#[derive(Debug, Clone)]
pub struct DeviceRow {
    pub device: Device,
    /// When one of its sessions was last used.
    pub last_seen: Option<i64>,
    /// Its sessions neither revoked nor expired at the time asked.
    pub open_sessions: i64,
    /// What it said of its unsynced work: cases, done, when (each may be missing).
    pub unsynced: (Option<i64>, Option<bool>, Option<i64>),
    pub app_version: Option<String>,
}

/// The rows the user and device rules read and write; each storage implements them.
pub trait UserRows: AccountRows {
    /// Gives `username` the role and team (by name; `None`: none), unless the team is
    /// unknown or the user is.
    fn update_role_team(
        &self,
        username: &str,
        role: Role,
        team: Option<&str>,
    ) -> Result<RoleTeamUpdate, StorageError>;
    /// Marks `username`, and every device of theirs, disabled and ends their sessions, in
    /// one transaction; `false` when there is no such user.
    fn disable_user_rows(&self, username: &str) -> Result<bool, StorageError>;
    /// Marks `username` enabled; `false` when there is no such user.
    fn enable_user_row(&self, username: &str) -> Result<bool, StorageError>;
    /// Every device of `user_id`, oldest first, its sessions counted as open at `now`.
    fn device_rows(&self, user_id: &str, now: i64) -> Result<Vec<DeviceRow>, StorageError>;
    /// Marks a device disabled and ends its sessions, in one transaction; `false` when
    /// there is no such device.
    fn revoke_device_rows(&self, device_id: &str) -> Result<bool, StorageError>;
    /// Keeps a device's unsynced work (cases, done, when) and, when given, its app version.
    fn update_status(
        &self,
        device_id: &str,
        unsynced: (i64, bool, i64),
        app_version: Option<&str>,
    ) -> Result<(), StorageError>;
}

/// Gives a user another role and team: workers and supervisors belong to a known team,
/// admins to none (a team given with the admin role is dropped).
pub fn set_role_team(
    rows: &dyn UserRows,
    username: &str,
    role: Role,
    team: Option<&str>,
) -> AppResult<User> {
    if role != Role::Admin && team.is_none() {
        return Err(super::check::team_needed());
    }
    let team = team.filter(|_| role != Role::Admin);
    match rows.update_role_team(username, role, team)? {
        RoleTeamUpdate::Updated => rows.user_row(username)?.ok_or(AppError::NotFound),
        RoleTeamUpdate::NoSuchTeam => Err(super::check::no_such_team(team.unwrap_or_default())),
        RoleTeamUpdate::NoSuchUser => Err(AppError::NotFound),
    }
}

/// Disables a user: their sessions end and their devices are told to wipe.
pub fn disable_user(rows: &dyn UserRows, username: &str) -> AppResult<()> {
    found(rows.disable_user_rows(username)?)
}

/// Enables a user again (their devices stay revoked).
pub fn enable_user(rows: &dyn UserRows, username: &str) -> AppResult<()> {
    if username.starts_with(super::links::PARTNER_PREFIX) {
        return Err(AppError::invalid(
            Problem::PartnerLinkNotAccount,
            "a partner's link has no account to enable",
        ));
    }
    found(rows.enable_user_row(username)?)
}

/// Revokes a device: its sessions end, its next contact is told to wipe.
pub fn revoke_device(rows: &dyn UserRows, device_id: &str) -> AppResult<()> {
    found(rows.revoke_device_rows(device_id)?)
}

/// A user's devices (not the one the server writes under for them), oldest first.
pub fn devices_of(rows: &dyn UserRows, user_id: &str, now: i64) -> AppResult<Vec<DeviceInfo>> {
    Ok(rows
        .device_rows(user_id, now)?
        .into_iter()
        .filter(|d| d.device.name != SERVER_DEVICE_NAME)
        .map(|d| DeviceInfo {
            unsynced: match d.unsynced {
                (Some(cases), Some(done), Some(at)) => Some(Unsynced {
                    cases: u32::try_from(cases).unwrap_or(u32::MAX),
                    done,
                    at,
                }),
                _ => None,
            },
            device: d.device,
            last_seen: d.last_seen,
            open_sessions: usize::try_from(d.open_sessions).unwrap_or(0),
            app_version: d.app_version,
        })
        .collect())
}

/// Keeps what a device said of its unsynced work; a version not given leaves the last.
pub fn record_status(
    rows: &dyn UserRows,
    device_id: &str,
    unsynced: Unsynced,
    app_version: Option<&str>,
) -> AppResult<()> {
    let Unsynced { cases, done, at } = unsynced;
    Ok(rows.update_status(device_id, (i64::from(cases), done, at), app_version)?)
}

fn found(found: bool) -> AppResult<()> {
    if found {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}
