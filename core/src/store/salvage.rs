//! Rescue from a damaged store file (truncated by a dying battery, a bad flash sector):
//! every case whose rows can still be read and authenticated is recovered as an Automerge
//! document, ready for [`CaseStore::import_case`] into a new store or to be sent to the
//! server. The damaged file is never written: the rescue reads a copy.

use std::path::Path;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::{CaseStore, KEY_CHECK};
use crate::crypto::{self, Key, RecordKind};
use crate::error::{Error, Result};
use crate::ids::CaseId;

/// One recovered case.
#[derive(Debug, Clone)]
pub struct SalvagedCase {
    pub id: CaseId,
    /// The whole document (`Automerge::save`): what could be read of it.
    pub document: Vec<u8>,
    /// Change rows after the snapshot that could not be read (their edits are missing).
    pub changes_lost: usize,
}

/// What a rescue found.
#[derive(Debug, Clone, Default)]
pub struct Salvage {
    pub cases: Vec<SalvagedCase>,
    /// Cases known to the file whose snapshot or key could not be read.
    pub lost: Vec<CaseId>,
    /// Whether the list of cases itself was cut short (more may have been lost).
    pub listing_incomplete: bool,
}

impl CaseStore {
    /// Recovers what can be read from a damaged store file with the device key (see the
    /// module notes). Fails only if nothing of the file can be read, or with
    /// [`Error::WrongKey`] when the file's key check is readable and does not match.
    pub fn salvage(path: impl AsRef<Path>, key: &[u8; 32]) -> Result<Salvage> {
        let path = path.as_ref();
        let scratch = tempfile_dir(path)?;
        let copy = scratch.join("store.sqlite");
        std::fs::copy(path, &copy)
            .map_err(|e| Error::Corrupt(format!("the store file cannot be read: {e}")))?;
        for suffix in ["-wal", "-shm"] {
            let side = path.with_file_name(format!(
                "{}{suffix}",
                path.file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
            ));
            if side.exists() {
                let _ = std::fs::copy(&side, scratch.join(format!("store.sqlite{suffix}")));
            }
        }
        let result = salvage_copy(&copy, key);
        let _ = std::fs::remove_dir_all(&scratch);
        result
    }
}

/// A private folder beside the system's temporary files for the copy.
fn tempfile_dir(original: &Path) -> Result<std::path::PathBuf> {
    let mut name = [0u8; 8];
    crate::ids::random_bytes(&mut name);
    let hex: String = name.iter().map(|b| format!("{b:02x}")).collect();
    let dir = std::env::temp_dir().join(format!("fieldcase-salvage-{hex}"));
    std::fs::create_dir(&dir).map_err(|e| {
        Error::Corrupt(format!(
            "no room to copy {} for the rescue: {e}",
            original.display()
        ))
    })?;
    Ok(dir)
}

fn salvage_copy(path: &Path, key: &[u8; 32]) -> Result<Salvage> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| Error::Corrupt(format!("the store file cannot be opened: {e}")))?;
    // A truncated file is smaller than its header says; SQLite reads what is there only
    // with this set. Nothing is written through this connection.
    let _ = conn.pragma_update(None, "writable_schema", "ON");
    let wrap = Key::derive(key, "case-key-wrapping");
    let meta = Key::derive(key, "store-meta");
    // The key check decides only when the cases cannot: its own page may be the damaged one.
    let check: Option<Vec<u8>> = conn
        .query_row("SELECT value FROM meta WHERE name = 'key_check'", [], |r| {
            r.get(0)
        })
        .optional()
        .ok()
        .flatten();
    let key_matches = check.map(|c| {
        meta.open(RecordKind::KeyCheck, b"", &c)
            .is_ok_and(|p| p == KEY_CHECK)
    });
    let mut out = Salvage::default();
    // The case list, one row at a time by rowid: a damaged page loses the rows on it,
    // not the rows after it (a scan would stop at the first bad page).
    let mut ids: Vec<(CaseId, Vec<u8>)> = Vec::new();
    let last: Option<i64> = conn
        .query_row("SELECT max(rowid) FROM cases", [], |r| r.get(0))
        .ok()
        .flatten();
    let mut unreadable_rows = 0;
    // Probing goes on past the largest rowid until a long run of rows is not found or
    // not readable (purged cases leave gaps): a damaged last page can make the largest
    // rowid read as too small (even 0) while rows before it are whole.
    let (mut rowid, mut misses, mut beyond_last) = (1i64, 0, false);
    while (last.is_some_and(|l| rowid <= l) || misses < 512) && rowid < 10_000_000 {
        let row = conn
            .query_row(
                "SELECT id, wrapped_key FROM cases WHERE rowid = ?1",
                [rowid],
                |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?)),
            )
            .optional();
        match row {
            Ok(Some((id, wrapped))) => {
                misses = 0;
                beyond_last |= last.is_some_and(|l| rowid > l);
                if let Ok(arr) = <[u8; 16]>::try_from(id.as_slice()) {
                    ids.push((CaseId::from_bytes(arr), wrapped));
                }
            }
            Ok(None) => misses += 1,
            Err(_) => {
                misses += 1;
                unreadable_rows += 1;
            }
        }
        rowid += 1;
    }
    out.listing_incomplete = unreadable_rows > 0 || last.is_none() || beyond_last;
    if ids.is_empty() && unreadable_rows > 0 {
        return Err(Error::Corrupt(
            "the store file is too damaged to list its cases".into(),
        ));
    }
    for (id, wrapped) in ids {
        match salvage_case(&conn, &wrap, id, &wrapped) {
            Ok(case) => out.cases.push(case),
            Err(_) => out.lost.push(id),
        }
    }
    if out.cases.is_empty() && key_matches == Some(false) {
        return Err(Error::WrongKey);
    }
    Ok(out)
}

fn salvage_case(conn: &Connection, wrap: &Key, id: CaseId, wrapped: &[u8]) -> Result<SalvagedCase> {
    let key = crypto::unwrap_case_key(wrap, id.as_bytes(), wrapped)?;
    // By the primary key, or, if its index is damaged, by scanning the table.
    let by = |sql: &str| {
        conn.query_row(sql, params![&id.as_bytes()[..]], |r| r.get::<_, Vec<u8>>(0))
            .optional()
    };
    let snapshot = match by("SELECT data FROM snapshots WHERE case_id = ?1") {
        Ok(Some(s)) => s,
        _ => by("SELECT data FROM snapshots WHERE +case_id = ?1")?
            .ok_or_else(|| Error::Corrupt("no snapshot".into()))?,
    };
    let plain = key.open(RecordKind::Snapshot, id.as_bytes(), &snapshot)?;
    let mut doc = automerge::Automerge::load(&plain)?;
    let mut changes_lost = 0;
    let rows: rusqlite::Result<Vec<Vec<u8>>> = (|| {
        let mut stmt = conn.prepare("SELECT data FROM changes WHERE case_id = ?1 ORDER BY seq")?;
        let rows = stmt.query_map(params![&id.as_bytes()[..]], |r| r.get(0))?;
        rows.collect()
    })();
    match rows {
        Ok(rows) => {
            for row in rows {
                let applied = key
                    .open(RecordKind::Change, id.as_bytes(), &row)
                    .ok()
                    .and_then(|c| doc.load_incremental(&c).ok());
                if applied.is_none() {
                    changes_lost += 1;
                }
            }
        }
        Err(_) => changes_lost += 1,
    }
    Ok(SalvagedCase {
        id,
        document: doc.save(),
        changes_lost,
    })
}
