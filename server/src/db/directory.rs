//! The partner directory in storage (issue 16), written once over the rows each storage
//! reads and writes ([`DirectoryRows`]).
//!
//! The directory is one versioned snapshot: the whole [`Directory`] as JSON, sealed like a
//! case (AES-256-GCM under a data key of its own, wrapped by the master key; a new data
//! key with each version), its version (1, 2, ... each write adds one), when and by whom
//! it was written. A write names the version it replaces (compare-and-swap): two admins
//! editing at once, or an import racing an edit, cannot lose each other's work. Every
//! write passes [`Directory::check`] first.
//!
//! A master-key rotation rewraps the directory's data key with the cases' (its key id is
//! [`KEY_ID`], which no 16-byte case id can be).

use fieldcase_core::directory::Directory;

use super::accounts::StorageError;
use super::cases::{with_master_key, CaseRows};
use super::keys::{new_data_key, unwrap_data_key, Kind};
use crate::error::{AppError, AppResult, Problem};

/// The key id (and sealing context) of the directory's data key.
pub const KEY_ID: &[u8] = b"directory";

/// The directory's row as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryRow {
    pub version: i64,
    /// The data key, wrapped by the master key.
    pub data_key: Vec<u8>,
    /// The directory as JSON, sealed by the data key.
    pub data: Vec<u8>,
    pub updated_at: i64,
    /// The user id of who wrote it (an admin, or `cli` for the command line).
    pub updated_by: String,
}

/// The rows each storage keeps.
pub trait DirectoryRows {
    fn directory_row(&self) -> Result<Option<DirectoryRow>, StorageError>;
    /// The stored version (0 when none is stored), without reading the data.
    fn directory_version_row(&self) -> Result<i64, StorageError>;
    /// Stores `row` if the stored version is still `expected` (0: none stored yet);
    /// `false` when another write came first.
    fn replace_directory_row(
        &self,
        expected: i64,
        row: &DirectoryRow,
    ) -> Result<bool, StorageError>;
}

/// The stored directory, opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDirectory {
    pub version: i64,
    /// The directory as JSON (what the phone route sends as it is).
    pub json: Vec<u8>,
    pub updated_at: i64,
    pub updated_by: String,
}

impl StoredDirectory {
    /// The directory itself.
    pub fn directory(&self) -> AppResult<Directory> {
        serde_json::from_slice(&self.json)
            .map_err(|e| AppError::Internal(format!("the stored directory does not read: {e}")))
    }
}

fn context(version: i64) -> Vec<u8> {
    let mut c = KEY_ID.to_vec();
    c.extend_from_slice(&version.to_be_bytes());
    c
}

/// The stored directory, if any.
pub fn directory<R: DirectoryRows + CaseRows>(rows: &R) -> AppResult<Option<StoredDirectory>> {
    let Some(row) = rows.directory_row()? else {
        return Ok(None);
    };
    let key = with_master_key(rows, |master| {
        unwrap_data_key(&master, KEY_ID, &row.data_key)
    })?;
    let json = key.open(Kind::Directory, &context(row.version), &row.data)?;
    Ok(Some(StoredDirectory {
        version: row.version,
        json,
        updated_at: row.updated_at,
        updated_by: row.updated_by,
    }))
}

/// The directory changed since it was read (409).
pub(crate) fn directory_changed() -> AppError {
    AppError::invalid(
        Problem::DirectoryChanged,
        "the directory changed meanwhile: read it again and apply the change again",
    )
}

/// Stores `directory` as the version after `expected` (0: the first), when it passes
/// the check and is at most `max_bytes` as JSON. Answers the new version;
/// [`Problem::DirectoryChanged`] when another write came first (read again, apply again).
pub fn put_directory<R: DirectoryRows + CaseRows>(
    rows: &R,
    directory: &Directory,
    expected: i64,
    by: &str,
    now: i64,
    max_bytes: usize,
) -> AppResult<i64> {
    let mut directory = directory.clone();
    directory.normalize();
    let problems = directory.check();
    if let Some(first) = problems.first() {
        return Err(AppError::invalid(
            Problem::DirectoryInvalid,
            format!(
                "the directory was not stored: {first}{}",
                if problems.len() > 1 {
                    format!(" (and {} more)", problems.len() - 1)
                } else {
                    String::new()
                }
            ),
        )
        .with("count", problems.len().to_string()));
    }
    let json = serde_json::to_vec(&directory)
        .map_err(|e| AppError::Internal(format!("the directory does not serialise: {e}")))?;
    if json.len() > max_bytes {
        return Err(AppError::invalid(
            Problem::DirectoryTooLarge,
            format!(
                "the directory is {} bytes, more than directory.max_bytes ({max_bytes})",
                json.len()
            ),
        )
        .with("max_bytes", max_bytes.to_string()));
    }
    let version = expected + 1;
    let stored = with_master_key(rows, |master| {
        let (key, wrapped) = new_data_key(&master, KEY_ID);
        let row = DirectoryRow {
            version,
            data_key: wrapped,
            data: key.seal(Kind::Directory, &context(version), &json),
            updated_at: now,
            updated_by: by.to_owned(),
        };
        rows.replace_directory_row(expected, &row)
    })?;
    if !stored {
        return Err(directory_changed());
    }
    Ok(version)
}
