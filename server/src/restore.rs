//! Operating a SQLite database: the lock a serving process holds on it, `restore` of a
//! backup (checked before it takes the database's place), and `check` of a database.
//!
//! A server serving a SQLite file holds a shared advisory lock on `<file>.lock` for as long
//! as it runs; `restore` takes it exclusively, so it refuses while any server runs on the
//! file. (Administration commands work beside a running server and take no lock.)

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::db::keys::KeySource;
use crate::db::sqlite::SqliteDb;
use crate::db::Db;

/// The lock file beside a database file.
pub fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Held by a serving process: the shared lock on the database's lock file.
#[derive(Debug)]
pub struct ServingLock(#[allow(dead_code)] File);

/// Takes the shared lock a serving process holds (several servers may share it; `restore`
/// may not take it while they do).
pub fn serving(db: &Path) -> Result<ServingLock, String> {
    let path = lock_path(db);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("cannot open the lock file {}: {e}", path.display()))?;
    file.lock_shared()
        .map_err(|e| format!("cannot lock {}: {e}", path.display()))?;
    Ok(ServingLock(file))
}

/// What a check found: problems in words, and facts worth saying.
#[derive(Debug, Default)]
pub struct Report {
    pub problems: Vec<String>,
    pub facts: Vec<String>,
}

/// Checks a SQLite database file without changing it: that it is a SQLite database, that
/// SQLite's integrity check passes, that its schema is one this server knows, and that
/// every stored case loads and is valid (read from a scratch copy, with the master key from
/// `keys`: a database sealed under another key does not check).
pub fn check_file(path: &Path, keys: &KeySource) -> Report {
    let mut r = Report::default();
    if !path.is_file() {
        r.problems.push(format!("{} is not a file", path.display()));
        return r;
    }
    let conn = match Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY) {
        Ok(c) => c,
        Err(e) => {
            r.problems.push(format!(
                "{} does not open as a database: {e}",
                path.display()
            ));
            return r;
        }
    };
    match conn.query_row("PRAGMA integrity_check", [], |row| row.get::<_, String>(0)) {
        Ok(s) if s == "ok" => r.facts.push("SQLite integrity check: ok".into()),
        Ok(s) => r.problems.push(format!("SQLite integrity check: {s}")),
        Err(e) => {
            r.problems
                .push(format!("{} is not a SQLite database: {e}", path.display()));
            return r;
        }
    }
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap_or(-1);
    let known = SqliteDb::SCHEMA_VERSION;
    if version < 1 || version > known {
        r.problems.push(format!(
            "schema version {version}: this server knows versions 1 to {known}"
        ));
        return r;
    }
    r.facts.push(format!("schema version {version} of {known}"));
    let has_cases: Option<String> = conn
        .query_row(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'cases'",
            [],
            |row| row.get(0),
        )
        .optional()
        .unwrap_or(None);
    if has_cases.is_none() {
        r.problems
            .push("no table of cases: not a fieldcase database".into());
        return r;
    }
    let users: i64 = conn
        .query_row("SELECT count(*) FROM users", [], |row| row.get(0))
        .unwrap_or(0);
    r.facts.push(format!("{users} users"));
    if crate::db::sqlite::keys_apart(&conn).unwrap_or(false) {
        let cases: i64 = conn
            .query_row("SELECT count(*) FROM cases", [], |row| row.get(0))
            .unwrap_or(0);
        r.facts.push(format!(
            "a backup of {cases} cases whose data keys are kept apart (docs/adr/0007): its \
             cases are read and checked when `restore` joins their keys to it"
        ));
        return r;
    }
    drop(conn);
    // The cases, read as the server reads them, from a copy (opening brings an older schema
    // up to date and sets the journal mode: the file checked stays as it was).
    let scratch = match tempfile_dir() {
        Ok(d) => d,
        Err(e) => {
            r.problems.push(format!("no room for a scratch copy: {e}"));
            return r;
        }
    };
    let copy = scratch.join("check.sqlite");
    if let Err(e) = std::fs::copy(path, &copy) {
        r.problems.push(format!("cannot copy it to check it: {e}"));
        return r;
    }
    if version < known {
        r.facts.push(format!(
            "the server brings it up to schema version {known} when it opens it"
        ));
    }
    match SqliteDb::open_with(&copy, keys) {
        Ok(db) => check_cases(&db, &mut r),
        Err(crate::AppError::Internal(why)) => r.problems.push(format!("it does not open: {why}")),
        Err(e) => r.problems.push(format!("it does not open: {e}")),
    }
    let _ = std::fs::remove_dir_all(&scratch);
    r
}

/// Reads every stored case as the server reads it: each must load and be valid.
pub fn check_cases(db: &dyn Db, r: &mut Report) {
    let cases = match db.cases() {
        Ok(c) => c,
        Err(e) => {
            r.problems.push(format!("the cases cannot be listed: {e}"));
            return;
        }
    };
    let mut bad = 0;
    for (access, _) in &cases {
        let ok = db
            .case_document(&access.id)
            .ok()
            .flatten()
            .and_then(|b| automerge::Automerge::load(&b).ok())
            .is_some_and(|d| fieldcase_core::schema::validate(&d).is_ok());
        if !ok {
            bad += 1;
            r.problems
                .push(format!("case {} does not load or is not valid", access.id));
        }
    }
    r.facts.push(format!(
        "{} cases, {} load and are valid",
        cases.len(),
        cases.len() - bad
    ));
}

/// A fresh private folder under the system's temporary folder.
fn tempfile_dir() -> std::io::Result<PathBuf> {
    let mut bytes = [0u8; 8];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| std::io::Error::other("no random source"))?;
    let dir = std::env::temp_dir().join(format!("fieldcase-check-{}", hex::encode(bytes)));
    std::fs::create_dir(&dir)?;
    Ok(dir)
}

/// Puts a checked backup in place of the database at `db`: refuses while a server runs on
/// it, or if the backup does not check; the database it replaces is kept beside it
/// (`<file>.before-restore-<time>`), with its write-ahead log. Every session of the
/// restored database ends: users sign in again. The backup must open with the master key
/// from `keys` (the database's). Returns the kept path.
///
/// A backup holds no data keys (ADR 0007): they are joined to it from `keyring` (a file
/// `key export` wrote), or else from the database it replaces. Cases erased since the
/// backup was taken (a tombstone there) are erased in it too, and stay erased; a backup
/// of an earlier version, which holds its keys, gets the erasures too.
pub fn restore(
    db: &Path,
    backup: &Path,
    keys: &KeySource,
    keyring: Option<&Path>,
) -> Result<Option<PathBuf>, String> {
    let report = check_file(backup, keys);
    if !report.problems.is_empty() {
        return Err(format!(
            "{} is not a backup this server can restore: {}",
            backup.display(),
            report.problems.join("; ")
        ));
    }
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lock_path(db))
        .map_err(|e| format!("cannot open the lock file: {e}"))?;
    if lock.try_lock().is_err() {
        return Err(format!(
            "a server is running on {}; stop it before restoring",
            db.display()
        ));
    }
    // The copy goes in under a temporary name first, so that the database is never half
    // written; the keys are joined to it there, and it is checked whole.
    let incoming = db.with_extension("restoring");
    let _ = std::fs::remove_file(&incoming);
    std::fs::copy(backup, &incoming).map_err(|e| format!("cannot copy the backup: {e}"))?;
    if let Err(e) = join_keys(db, &incoming, keys, keyring) {
        for suffix in ["", "-journal", "-wal", "-shm"] {
            let mut name = incoming.clone().into_os_string();
            name.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(name));
        }
        return Err(format!(
            "{} is not a backup this server can restore: {e}",
            backup.display()
        ));
    }
    let side = |base: &Path, suffix: &str| {
        let mut name = base.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    let kept = if db.exists() {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let kept = side(db, &format!(".before-restore-{stamp}"));
        // The database is set aside with its write-ahead log, whole: nothing of it lost.
        for suffix in ["-wal", "-shm"] {
            if side(db, suffix).exists() {
                std::fs::rename(side(db, suffix), side(&kept, suffix))
                    .map_err(|e| format!("cannot set the database's {suffix} file aside: {e}"))?;
            }
        }
        std::fs::rename(db, &kept).map_err(|e| format!("cannot set the database aside: {e}"))?;
        Some(kept)
    } else {
        None
    };
    std::fs::rename(&incoming, db).map_err(|e| format!("cannot put the backup in place: {e}"))?;
    // The backup's sessions are old: every one ends (a phone revoked since the backup must
    // not come back), and everyone signs in again.
    let conn =
        Connection::open(db).map_err(|e| format!("cannot open the restored database: {e}"))?;
    conn.execute("UPDATE sessions SET revoked = 1", [])
        .map_err(|e| format!("cannot end the restored database's sessions: {e}"))?;
    drop(conn);
    drop(lock);
    Ok(kept)
}

/// Joins the data keys (and the erasures since) to the backup copy at `incoming`, then
/// checks it whole: every case opens with the master key and is valid.
fn join_keys(
    db: &Path,
    incoming: &Path,
    keys: &KeySource,
    keyring: Option<&Path>,
) -> Result<(), String> {
    let conn = Connection::open(incoming).map_err(|e| e.to_string())?;
    let apart = crate::db::sqlite::keys_apart(&conn).map_err(|e| e.to_string())?;
    drop(conn);
    let source = match keyring {
        Some(k) => Some(k.to_path_buf()),
        None if db.is_file() => Some(db.to_path_buf()),
        None => None,
    };
    let ring = match &source {
        Some(path) => Some(crate::db::sqlite::Keyring::read(path)?),
        None if apart => {
            return Err(
                "its data keys are kept apart: give the keyring (`--keys FILE`, written by \
                 `key export`), or restore it over the database it was taken from"
                    .into(),
            )
        }
        None => None,
    };
    if !apart {
        // A backup of an earlier version: brought up to date (it holds its keys).
        SqliteDb::open_with(incoming, keys).map_err(|e| match e {
            crate::AppError::Internal(why) => format!("it does not open: {why}"),
            other => format!("it does not open: {other}"),
        })?;
    }
    if let Some(ring) = ring {
        let mut conn = Connection::open(incoming).map_err(|e| e.to_string())?;
        conn.pragma_update(None, "secure_delete", "ON")
            .map_err(|e| e.to_string())?;
        let joined = ring.join_to(&mut conn, !apart)?;
        if joined.erased > 0 {
            tracing::info!(
                cases = joined.erased,
                "cases erased since the backup was taken: erased in it too"
            );
        }
        // What was deleted leaves no free pages behind.
        conn.execute_batch("VACUUM").map_err(|e| e.to_string())?;
    }
    let report = check_file(incoming, keys);
    if !report.problems.is_empty() {
        return Err(report.problems.join("; "));
    }
    Ok(())
}
