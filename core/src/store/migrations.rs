//! The store's SQLite schema, as numbered migrations applied in order, one transaction per
//! step, tracked by `PRAGMA user_version`. Never edit a released step: add a new one.
//!
//! What the file holds: opaque case ids (16 random bytes), timestamps, and ciphertext. No
//! name, note or any other case content is ever stored in the clear, and no index on
//! content exists on disk (the caseload index is rebuilt in memory at open from sealed
//! summaries).

use rusqlite::Connection;

use crate::error::{Error, Result};

/// Each step, in order; step `n` brings `user_version` from `n` to `n + 1`.
const STEPS: &[&str] = &[
    // 1: the first layout.
    "CREATE TABLE meta (
        name  TEXT PRIMARY KEY,
        value BLOB NOT NULL
    ) STRICT;
    CREATE TABLE cases (
        id          BLOB PRIMARY KEY,   -- 16 opaque bytes
        wrapped_key BLOB NOT NULL,      -- the case's data key, sealed by the device key
        summary     BLOB NOT NULL,      -- sealed index entry
        created_at  INTEGER NOT NULL,   -- ms since the epoch
        updated_at  INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE snapshots (
        case_id  BLOB PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
        data     BLOB NOT NULL,         -- sealed compacted document
        saved_at INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE changes (
        seq      INTEGER PRIMARY KEY AUTOINCREMENT,
        case_id  BLOB NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        data     BLOB NOT NULL,         -- sealed changes since the snapshot
        saved_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX changes_by_case ON changes(case_id, seq);
    CREATE TABLE sync_states (
        case_id BLOB NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        peer    TEXT NOT NULL,
        data    BLOB NOT NULL,          -- sealed automerge sync::State
        PRIMARY KEY (case_id, peer)
    ) STRICT;",
    // 2: the heads of each case, sealed, so a sync can compare them without loading
    // documents. NULL for rows written before; filled in at the next open.
    "ALTER TABLE cases ADD COLUMN heads BLOB;",
    // 3: why the server refused a case's changes (sealed); NULL when it syncs normally.
    "ALTER TABLE cases ADD COLUMN refused BLOB;",
    // 4: attachments (issue 17): a row per file of a case, what it is sealed (its hash,
    // size and media type: a hash in the clear would let anyone holding a known file
    // confirm it is here), its state and when it was last opened; its bytes in sealed
    // chunks. Both go with their case.
    "CREATE TABLE attachments (
        id       INTEGER PRIMARY KEY,
        case_id  BLOB NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        file     BLOB NOT NULL,         -- sealed {hash, size, media_type}
        state    INTEGER NOT NULL,      -- 0 to upload, 1 uploaded, 2 downloading, 3 downloaded
        stored   INTEGER NOT NULL,      -- bytes held (the chunks' plain size)
        used_at  INTEGER NOT NULL       -- ms since the epoch: added, fetched or opened
    ) STRICT;
    CREATE INDEX attachments_by_case ON attachments(case_id);
    CREATE TABLE attachment_chunks (
        attachment INTEGER NOT NULL REFERENCES attachments(id) ON DELETE CASCADE,
        seq        INTEGER NOT NULL,
        data       BLOB NOT NULL,       -- sealed with the case's key
        PRIMARY KEY (attachment, seq)
    ) STRICT;",
];

/// The schema version this code writes.
pub(crate) const CURRENT: i64 = STEPS.len() as i64;

pub(crate) fn version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Brings the database up to [`CURRENT`]; refuses a database from a newer app.
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    let found = version(conn)?;
    if found > CURRENT {
        return Err(Error::NewerStore {
            found,
            known: CURRENT,
        });
    }
    for (i, step) in STEPS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}
