//! [`Db`] on an embedded SQLite file: WAL, `synchronous=FULL`, foreign keys, versioned
//! migrations in `PRAGMA user_version`.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use automerge::ChangeHash;
use rusqlite::{params, Connection, OptionalExtension};

use super::accounts::{
    AccountRows, NewUserRow, PasswordRow, Registration, SessionRow, StorageError, UserInsert,
};
use super::cases::{
    self, AccessRow, AssignmentRow, CaseListRow, CaseRow, CaseRows, CaseTx, ClosedRow, Current,
    DocumentRows, FactRow, ListFactRow,
};
use super::keys::{self, CaseBlobs, DataKeyRow, Key, KeySource, KeyTx};
use super::records::{AuditEntries, AuditRow, ChainRow, RecordRows, Window, WindowChange};
use super::users::{DeviceRow, RoleTeamUpdate, UserRows};
use super::{AdminEntry, CaseAccess, CaseWrite, Db, Device, Stored, Team, TimeMark, User};
use crate::auth::{self, PasswordHash};
use crate::error::{AppError, AppResult};
use fieldcase_core::Role;

const MIGRATIONS: &[&str] = &[
    // 1: accounts, devices, sessions, case documents.
    "CREATE TABLE teams (
        id         INTEGER PRIMARY KEY,
        name       TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE users (
        id            TEXT PRIMARY KEY,
        username      TEXT NOT NULL UNIQUE,
        display_name  TEXT NOT NULL,
        role          TEXT NOT NULL CHECK (role IN ('worker', 'supervisor', 'admin')),
        team_id       INTEGER REFERENCES teams(id),
        pw_hash       BLOB NOT NULL,
        pw_salt       BLOB NOT NULL,
        pw_iterations INTEGER NOT NULL,
        disabled      INTEGER NOT NULL DEFAULT 0,
        created_at    INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE devices (
        id         TEXT PRIMARY KEY,
        user_id    TEXT NOT NULL REFERENCES users(id),
        name       TEXT NOT NULL,
        disabled   INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE actors (
        actor         TEXT PRIMARY KEY,
        device_id     TEXT NOT NULL REFERENCES devices(id),
        registered_at INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE sessions (
        token_hash BLOB PRIMARY KEY,
        user_id    TEXT NOT NULL REFERENCES users(id),
        device_id  TEXT NOT NULL REFERENCES devices(id),
        created_at INTEGER NOT NULL,
        last_used  INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        revoked    INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    CREATE TABLE cases (
        id         BLOB PRIMARY KEY,
        team       TEXT NOT NULL,
        restricted INTEGER NOT NULL,
        document   BLOB NOT NULL,
        heads      BLOB NOT NULL,
        updated_at INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE case_assignments (
        case_id BLOB NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        user_id TEXT NOT NULL,
        PRIMARY KEY (case_id, user_id)
    ) STRICT;",
    // 2: a case is its snapshot (`cases.document`) plus the changes accepted since, in order;
    // the hub folds them into a new snapshot now and then.
    "CREATE TABLE case_changes (
        case_id BLOB NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        seq     INTEGER NOT NULL,
        bytes   BLOB NOT NULL,
        PRIMARY KEY (case_id, seq)
    ) STRICT;",
    // 3: who read or synced a restricted case, when (ids only).
    "CREATE TABLE audit (
        id      INTEGER PRIMARY KEY,
        at      INTEGER NOT NULL,
        user_id TEXT NOT NULL,
        case_id BLOB NOT NULL,
        action  TEXT NOT NULL
    ) STRICT;
    CREATE INDEX audit_by_case ON audit(case_id, at);",
    // 4: per-user settings of the console (its language).
    "CREATE TABLE user_settings (
        user_id  TEXT PRIMARY KEY REFERENCES users(id),
        language TEXT NOT NULL
    ) STRICT;",
    // 5: departures (a device hands in its last changes to a case once), changes whose own
    // time is far from their receipt, and login throttles shared by every instance.
    "CREATE TABLE departures (
        case_id   BLOB NOT NULL,
        device_id TEXT NOT NULL,
        at        INTEGER NOT NULL,
        changes   INTEGER NOT NULL,
        PRIMARY KEY (case_id, device_id)
    ) STRICT;
    CREATE TABLE change_times (
        case_id  BLOB NOT NULL,
        change   BLOB NOT NULL,
        claimed  INTEGER NOT NULL,
        received INTEGER NOT NULL,
        PRIMARY KEY (case_id, change)
    ) STRICT;
    CREATE TABLE throttles (
        key          TEXT PRIMARY KEY,
        count        INTEGER NOT NULL,
        window_start INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX throttles_by_start ON throttles(window_start);
    CREATE TABLE assignment_ends (
        case_id BLOB NOT NULL,
        user_id TEXT NOT NULL,
        at      INTEGER NOT NULL,
        PRIMARY KEY (case_id, user_id)
    ) STRICT;",
    // 6: administrative actions (who, what, on what, when).
    "CREATE TABLE admin_log (
        id     INTEGER PRIMARY KEY,
        at     INTEGER NOT NULL,
        by     TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL
    ) STRICT;",
    // 7: what a renamed team is called now (its name stays the key).
    "ALTER TABLE teams ADD COLUMN label TEXT;",
    // 8: what each device said of its unsynced work at its last sync.
    "ALTER TABLE devices ADD COLUMN unsynced_cases INTEGER;
     ALTER TABLE devices ADD COLUMN unsynced_done INTEGER;
     ALTER TABLE devices ADD COLUMN unsynced_at INTEGER;
     ALTER TABLE devices ADD COLUMN app_version TEXT;",
    // 9: encryption at rest (issue 18): each case's data key, wrapped by the master key
    // (NULL for a case an earlier version stored in the clear, until the startup step
    // seals it), and the check that tells whether a master key is this database's.
    "ALTER TABLE cases ADD COLUMN data_key BLOB;
     CREATE TABLE key_check (
        id     INTEGER PRIMARY KEY CHECK (id = 1),
        sealed BLOB NOT NULL
     ) STRICT;",
    // 10: the partner directory (issue 16): one versioned snapshot, sealed under a data
    // key of its own (`db::directory`).
    "CREATE TABLE directory (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        version    INTEGER NOT NULL,
        data_key   BLOB NOT NULL,
        data       BLOB NOT NULL,
        updated_at INTEGER NOT NULL,
        updated_by TEXT NOT NULL
     ) STRICT;",
    // 11: every read on the record (issue 18): the device of each audit entry, and its
    // link in the chain (`records::audit_link`; NULL for entries written before).
    "ALTER TABLE audit ADD COLUMN device TEXT NOT NULL DEFAULT '';
     ALTER TABLE audit ADD COLUMN hash BLOB;",
    // 12: links through which a partner answers one referral (issue 16, ADR 0006): the
    // token's SHA-256 only, the partner's login-less user, expiry and revocation.
    "CREATE TABLE referral_links (
        id           TEXT PRIMARY KEY,
        token_hash   BLOB NOT NULL UNIQUE,
        case_id      BLOB NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        referral_id  TEXT NOT NULL,
        partner_user TEXT NOT NULL REFERENCES users(id),
        language     TEXT NOT NULL,
        created_by   TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        expires_at   INTEGER NOT NULL,
        revoked_at   INTEGER,
        revoked_by   TEXT
     ) STRICT;
     CREATE INDEX referral_links_case ON referral_links (case_id);",
    // 13: the caseload from indexes (issue 20): cases by team, assignments by user.
    "CREATE INDEX IF NOT EXISTS cases_by_team ON cases (team);
     CREATE INDEX IF NOT EXISTS case_assignments_by_user ON case_assignments (user_id);",
    // 14: attachments (issue 17): a row per file of a case (keyed by the SHA-256 of the
    // case id and the file's hash), and its bytes in chunks sealed with the case's key.
    "CREATE TABLE attachments (
        case_id    BLOB NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        file       BLOB NOT NULL,
        size       INTEGER NOT NULL,
        media_type TEXT NOT NULL,
        received   INTEGER NOT NULL,
        complete   INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        PRIMARY KEY (case_id, file)
     ) STRICT;
     CREATE TABLE attachment_chunks (
        case_id BLOB NOT NULL,
        file    BLOB NOT NULL,
        seq     INTEGER NOT NULL,
        data    BLOB NOT NULL,
        PRIMARY KEY (case_id, file, seq),
        FOREIGN KEY (case_id, file) REFERENCES attachments (case_id, file) ON DELETE CASCADE
     ) STRICT;",
    // 15: erasure by destroying a case's data key (issue 18, ADR 0007): what stays of an
    // erased case (no content), supervisors' requests for an erasure, and the mark of a backup whose data keys are kept apart
    // (`SqliteDb::backup_to`; a database with the mark opens only through `restore`).
    "CREATE TABLE erased_cases (
        id        BLOB PRIMARY KEY,
        team      TEXT NOT NULL,
        erased_at INTEGER NOT NULL,
        erased_by TEXT NOT NULL,
        reason    TEXT NOT NULL
     ) STRICT;
     CREATE TABLE keys_apart (
        id       INTEGER PRIMARY KEY CHECK (id = 1),
        taken_at INTEGER NOT NULL
     ) STRICT;
     CREATE TABLE erasure_requests (
        id           TEXT PRIMARY KEY,
        case_id      BLOB NOT NULL,
        team         TEXT NOT NULL,
        requested_by TEXT NOT NULL,
        requested_at INTEGER NOT NULL,
        reason       TEXT NOT NULL,
        decided_by   TEXT,
        decided_at   INTEGER,
        decision     TEXT CHECK (decision IN ('erased', 'refused'))
     ) STRICT;
     CREATE UNIQUE INDEX erasure_requests_open ON erasure_requests (case_id)
        WHERE decision IS NULL;",
    // 16: possible duplicates across the agency (issue 19, `db::matches`): a pair of
    // case ids in byte order, the check's score, band and reasons (codes), and the
    // supervisor's decision.
    "CREATE TABLE case_matches (
        id         TEXT NOT NULL UNIQUE,
        case_a     BLOB NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        case_b     BLOB NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        score      INTEGER NOT NULL,
        band       TEXT NOT NULL,
        reasons    TEXT NOT NULL,
        status     TEXT NOT NULL,
        found_for  BLOB NOT NULL,
        found_at   INTEGER NOT NULL,
        decided_by TEXT,
        decided_at INTEGER,
        PRIMARY KEY (case_a, case_b)
     ) STRICT;
     CREATE INDEX case_matches_b ON case_matches (case_b);
     CREATE INDEX case_matches_open ON case_matches (status, found_at);",
    // 17: the time zone a user chose for the console (issue 21); none: their team's.
    "CREATE TABLE user_time_zones (
        user_id   TEXT PRIMARY KEY REFERENCES users(id),
        time_zone TEXT NOT NULL
     ) STRICT;",
    // 18: an admin's decision to keep a closed case past its team's retention (issue 18).
    "CREATE TABLE retention_holds (
        case_id BLOB PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
        until   INTEGER NOT NULL,
        by      TEXT NOT NULL,
        reason  TEXT NOT NULL,
        at      INTEGER NOT NULL
     ) STRICT;",
    // 19: what the retention needs of a case, beside it (issue 18): whether it is closed
    // and when its closure in force was approved, written by every case write, so that
    // the retention finds its candidates without opening every case. NULL: written before
    // this step; `cases::fill_derived` opens each such case once, at the start after it.
    "ALTER TABLE cases ADD COLUMN closed INTEGER;
     ALTER TABLE cases ADD COLUMN closed_at INTEGER;
     CREATE INDEX cases_closed ON cases (closed_at) WHERE closed = 1;",
    // 20: links between cases (issue 19): the cases each case links to (household
    // members' own cases, the case a duplicate continues in), so that a linked case finds
    // who links to it. Cases stored before are read once at the next start
    // (`cases::fill_derived`, marked by `case_links_unfilled`).
    "CREATE TABLE case_links (
        case_id BLOB NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        linked  BLOB NOT NULL,
        PRIMARY KEY (case_id, linked)
     ) STRICT, WITHOUT ROWID;
     CREATE INDEX case_links_to ON case_links (linked);
     CREATE TABLE case_links_unfilled (id INTEGER PRIMARY KEY CHECK (id = 1)) STRICT;
     INSERT INTO case_links_unfilled (id) SELECT 1 WHERE EXISTS (SELECT 1 FROM cases);",
    // 21: the cases written since a time (issue 19): the duplicate check's look at what
    // other writers (the command line) stored.
    "CREATE INDEX IF NOT EXISTS cases_by_update ON cases (updated_at);",
    // 22: what the duplicate check keeps of each case (issue 20), sealed with the case's
    // data key, so that its index is built without opening every document. Cases stored
    // before are read once at the next start (`cases::fill_derived`).
    "CREATE TABLE case_match_facts (
        case_id BLOB PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
        facts   BLOB NOT NULL
     ) STRICT, WITHOUT ROWID;
     CREATE TABLE case_match_facts_unfilled (id INTEGER PRIMARY KEY CHECK (id = 1)) STRICT;
     INSERT INTO case_match_facts_unfilled (id) SELECT 1 WHERE EXISTS (SELECT 1 FROM cases);",
    // 23: the agency's areas (issue 21, counts by area): a case's client holds the code.
    "CREATE TABLE areas (
        code       TEXT PRIMARY KEY,
        name       TEXT NOT NULL,
        updated_at INTEGER NOT NULL
     ) STRICT, WITHOUT ROWID;",
    // 24: what the console's lists keep of each case (issue 20: the dashboard's first
    // view), sealed with the case's data key, so that a list is built without opening
    // every document. Cases stored before are read once at the next start
    // (`cases::fill_derived`).
    "CREATE TABLE case_list_facts (
        case_id BLOB PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
        facts   BLOB NOT NULL
     ) STRICT, WITHOUT ROWID;
     CREATE TABLE case_list_facts_unfilled (id INTEGER PRIMARY KEY CHECK (id = 1)) STRICT;
     INSERT INTO case_list_facts_unfilled (id) SELECT 1 WHERE EXISTS (SELECT 1 FROM cases);",
    // 25: a case's assignees in a table without rowids (issue 20: 1 KB a case), their
    // order an explicit position (it was the rowid's): the rows are the primary key's
    // index itself, not a table and an index holding the same (about 45 bytes a case).
    "CREATE TABLE case_assignments_ordered (
        case_id  BLOB NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        user_id  TEXT NOT NULL,
        PRIMARY KEY (case_id, position)
     ) STRICT, WITHOUT ROWID;
     INSERT INTO case_assignments_ordered (case_id, position, user_id)
        SELECT case_id, row_number() OVER (PARTITION BY case_id ORDER BY rowid) - 1, user_id
        FROM case_assignments;
     DROP TABLE case_assignments;
     ALTER TABLE case_assignments_ordered RENAME TO case_assignments;
     CREATE INDEX case_assignments_by_user ON case_assignments (user_id);",
    // 26: what is kept beside each case (the duplicate check's facts, migration 22, and the
    // console lists', migration 24) in one record in the case's own row (issue 20: 1 KB a
    // case): two tables, each row with its key, its own seal and its page's slack, cost
    // about 365 bytes a small case. The records were sealed apart and cannot be joined
    // here: cases stored before are read once at the next start (`cases::fill_derived`).
    "ALTER TABLE cases ADD COLUMN facts BLOB;
     DROP TABLE case_match_facts;
     DROP TABLE case_match_facts_unfilled;
     DROP TABLE case_list_facts;
     DROP TABLE case_list_facts_unfilled;
     CREATE TABLE case_facts_unfilled (id INTEGER PRIMARY KEY CHECK (id = 1)) STRICT;
     INSERT INTO case_facts_unfilled (id) SELECT 1 WHERE EXISTS (SELECT 1 FROM cases);",
];

/// The page size of a new database file. A small case's row (its sealed document, about
/// 900 bytes, its data key and heads: about 1,050 bytes) fits three times in SQLite's
/// default 4,096-byte page, leaving a quarter of the table empty; seven fit in 8,192
/// bytes (a tenth empty). Larger pages fill better still but write more to the WAL for
/// each small change (docs/benchmarks.md: where a small case's bytes go).
pub const PAGE_SIZE: i64 = 8192;

/// How many prepared statements the connection keeps (a few kilobytes each).
const STATEMENT_CACHE: usize = 256;

/// The server's SQLite storage.
#[derive(Debug)]
pub struct SqliteDb {
    conn: Mutex<Connection>,
    /// Case writes waiting for the next group commit (see [`SqliteDb::store_case`]).
    queue: Mutex<Vec<Arc<Pending>>>,
    /// Wraps the cases' data keys ([`keys`]); read again after a rotation.
    master: RwLock<Arc<Key>>,
    /// Where the master key comes from.
    source: KeySource,
    /// Sealing and opening, counted.
    meter: Arc<keys::Meter>,
}

impl std::fmt::Debug for Pending {
    // Ids and sizes only: never a case's content.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.job {
            Job::Case(w, read) => f
                .debug_struct("Pending")
                .field("case", &w.access.id)
                .field("bytes", &w.bytes.len())
                .field("read", &read.is_some())
                .finish_non_exhaustive(),
            Job::Audit(a) => f
                .debug_struct("Pending")
                .field("audit", &a.cases.len())
                .finish_non_exhaustive(),
        }
    }
}

/// A write waiting in the queue of the next group commit, and its outcome once committed.
struct Pending {
    job: Job,
    /// A case write's outcome; an audit job's is `None` once written.
    outcome: Mutex<Option<Result<Option<Stored>, StorageError>>>,
}

/// What a group commit writes: a case, or entries of the audit trail (a read recorded
/// before anything of it is shown: one transaction and one flush to disk for each read
/// made every case synced wait its turn behind every other's flush).
enum Job {
    /// A case write, with a read of it to record first, rolled back with it.
    Case(Arc<cases::Write>, Option<AuditEntries>),
    Audit(AuditEntries),
}

/// Appends audit entries to the chain, inside the group's transaction (which holds the
/// write lock: the chain's end is held against other processes on the file too).
fn append_audit(conn: &Connection, a: &AuditEntries) -> Result<(), StorageError> {
    let mut prev: Vec<u8> = conn
        .one(
            "SELECT hash FROM audit WHERE hash IS NOT NULL ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or_default();
    for case in &a.cases {
        let hash = super::records::audit_link(&prev, a.at, &a.user_id, &a.device, case, &a.action);
        conn.run(
            "INSERT INTO audit (at, user_id, device, case_id, action, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![a.at, a.user_id, a.device, case, a.action, hash],
        )?;
        prev = hash;
    }
    Ok(())
}

/// Statements through the connection's prepared-statement cache: the server runs the same
/// few statements for every case it stores, and parsing them anew each time was a
/// measurable part of a case's cost (`bash bench/run.sh`, profiled with `perf`).
trait Cached {
    fn run<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
    fn one<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>;
}

impl Cached for Connection {
    fn run<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn one<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

fn device_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Device> {
    Ok(Device {
        id: r.get(0)?,
        user_id: r.get(1)?,
        name: r.get(2)?,
        created_at: r.get(3)?,
        disabled: r.get::<_, i64>(4)? != 0,
    })
}

/// The key of the team named, `None` when there is no such team (`Some(None)`: no team
/// named).
fn team_key(conn: &Connection, team: Option<&str>) -> rusqlite::Result<Option<Option<i64>>> {
    match team {
        Some(t) => conn
            .one("SELECT id FROM teams WHERE name = ?1", [t], |r| r.get(0))
            .optional()
            .map(|id| id.map(Some)),
        None => Ok(Some(None)),
    }
}

fn role_of(s: &str) -> Role {
    Role::from_code(s).unwrap_or(Role::Worker)
}

/// Commits `batch` in one transaction, each write in its own savepoint when there are
/// several (a failing write fails alone); a group of one needs none.
fn commit_batch(
    conn: &mut Connection,
    master: &Key,
    meter: &keys::Meter,
    batch: &[Arc<Pending>],
) -> Vec<Result<Option<Stored>, StorageError>> {
    let run = |conn: &mut Connection| -> AppResult<Vec<Result<Option<Stored>, StorageError>>> {
        let mut tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let job = |conn: &Connection, p: &Pending| match &p.job {
            Job::Case(w, read) => read
                .as_ref()
                .map_or(Ok(()), |a| append_audit(conn, a))
                .and_then(|()| cases::store(&mut CaseTxRows(conn), master, meter, w))
                .map(Some),
            Job::Audit(a) => append_audit(conn, a).map(|()| None),
        };
        // A group of one (the usual group: the server is busy checking, so writes seldom
        // queue) needs no savepoint: a failed write rolls the transaction back whole.
        if let [p] = batch {
            let done = job(&tx, p);
            if done.is_ok() {
                tx.commit()?;
            }
            return Ok(vec![done]);
        }
        let mut outcomes = Vec::with_capacity(batch.len());
        for p in batch {
            let sp = tx.savepoint()?;
            let done = job(&sp, p);
            match done {
                Ok(stored) => {
                    sp.commit()?;
                    outcomes.push(Ok(stored));
                }
                // Dropping the savepoint rolls this write back; the others stay.
                Err(e) => outcomes.push(Err(e)),
            }
        }
        tx.commit()?;
        Ok(outcomes)
    };
    match run(conn) {
        Ok(outcomes) => outcomes,
        Err(e) => {
            let message = e.to_string();
            batch
                .iter()
                .map(|_| Err(StorageError::Unavailable(message.clone())))
                .collect()
        }
    }
}

/// The cases whose row keeps no facts, while `case_facts_unfilled` (the migration's "to
/// be filled" mark) is there; none once it is cleared.
fn unfilled_keys(conn: &Connection) -> Result<Vec<Vec<u8>>, StorageError> {
    let marked = conn
        .one("SELECT 1 FROM case_facts_unfilled", [], |_| Ok(()))
        .optional()?
        .is_some();
    if !marked {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare("SELECT id FROM cases WHERE facts IS NULL ORDER BY id")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A case's row as listed ([`CaseListRow`]).
fn list_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CaseListRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get::<_, i64>(2)? != 0,
        r.get(3)?,
        r.get::<_, i64>(4)? != 0,
        r.get(5)?,
    ))
}

/// A case's team, restriction and closure, written only when one of them changed: a
/// column set, even to its own value, rewrites its index entries (`cases_by_team`,
/// `cases_closed`), two pages more to the log at every write of a visit.
fn update_placing(tx: &Connection, row: &CaseRow<'_>) -> Result<(), StorageError> {
    tx.run(
        "UPDATE cases SET team = ?2, restricted = ?3, closed = ?4, closed_at = ?5
         WHERE id = ?1 AND (team IS NOT ?2 OR restricted IS NOT ?3 OR closed IS NOT ?4
             OR closed_at IS NOT ?5)",
        params![
            row.id,
            row.team,
            row.restricted as i64,
            row.closed as i64,
            row.closed_at
        ],
    )?;
    Ok(())
}

/// The rows of one case write, inside the group's transaction (in its savepoint).
struct CaseTxRows<'a>(&'a Connection);

impl CaseTx for CaseTxRows<'_> {
    fn current(&mut self, id: &[u8]) -> Result<Option<Current>, StorageError> {
        // The group's transaction is IMMEDIATE: it holds the write lock already.
        Ok(self
            .0
            .one(
                "SELECT heads, length(document), data_key, facts FROM cases WHERE id = ?1",
                [id],
                |r| {
                    Ok(Current {
                        heads: r.get(0)?,
                        snapshot_bytes: r.get::<_, i64>(1)? as usize,
                        data_key: r.get(2)?,
                        facts: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    fn append_changes(
        &mut self,
        row: CaseRow<'_>,
        bytes: &[u8],
    ) -> Result<(usize, usize), StorageError> {
        let tx = self.0;
        tx.run(
            "INSERT INTO case_changes (case_id, seq, bytes)
             VALUES (?1, (SELECT coalesce(max(seq), 0) + 1 FROM case_changes WHERE case_id = ?1), ?2)",
            params![row.id, bytes],
        )?;
        tx.run(
            "UPDATE cases SET heads = ?2, updated_at = ?3, facts = ?4 WHERE id = ?1",
            params![row.id, row.heads, row.now, row.facts],
        )?;
        update_placing(tx, &row)?;
        let (count, size): (i64, i64) = tx.one(
            "SELECT count(*), coalesce(sum(length(bytes)), 0) FROM case_changes WHERE case_id = ?1",
            [row.id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok((count as usize, size as usize))
    }

    fn replace_snapshot(&mut self, row: CaseRow<'_>, bytes: &[u8]) -> Result<(), StorageError> {
        self.0.run(
            "UPDATE cases SET document = ?2, heads = ?3, updated_at = ?4, facts = ?5 WHERE id = ?1",
            params![row.id, bytes, row.heads, row.now, row.facts],
        )?;
        update_placing(self.0, &row)?;
        self.0
            .run("DELETE FROM case_changes WHERE case_id = ?1", [row.id])?;
        Ok(())
    }

    fn insert_case(&mut self, row: CaseRow<'_>, bytes: &[u8]) -> Result<bool, StorageError> {
        let n = self.0.run(
            "INSERT INTO cases (id, team, restricted, document, heads, updated_at, data_key,
                closed, closed_at, facts)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (id) DO NOTHING",
            params![
                row.id,
                row.team,
                row.restricted as i64,
                bytes,
                row.heads,
                row.now,
                row.data_key,
                row.closed as i64,
                row.closed_at,
                row.facts
            ],
        )?;
        Ok(n > 0)
    }

    fn assigned(&mut self, id: &[u8]) -> Result<Vec<String>, StorageError> {
        let mut stmt = self.0.prepare_cached(
            "SELECT user_id FROM case_assignments WHERE case_id = ?1 ORDER BY position",
        )?;
        let rows = stmt.query_map([id], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn end_assignments(&mut self, id: &[u8], users: &[&str], now: i64) -> Result<(), StorageError> {
        for u in users {
            self.0.run(
                "INSERT INTO assignment_ends (case_id, user_id, at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (case_id, user_id) DO UPDATE SET at = excluded.at",
                params![id, u, now],
            )?;
        }
        Ok(())
    }

    fn clear_assignment_ends(&mut self, id: &[u8], users: &[&str]) -> Result<(), StorageError> {
        for u in users {
            self.0.run(
                "DELETE FROM assignment_ends WHERE case_id = ?1 AND user_id = ?2",
                params![id, u],
            )?;
        }
        Ok(())
    }

    fn key_check(&mut self) -> Result<Option<Vec<u8>>, StorageError> {
        // The group's transaction holds the write lock: no rotation runs meanwhile.
        Ok(self
            .0
            .one("SELECT sealed FROM key_check WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?)
    }

    fn erased(&mut self, id: &[u8]) -> Result<bool, StorageError> {
        Ok(self
            .0
            .one("SELECT 1 FROM erased_cases WHERE id = ?1", [id], |_| Ok(()))
            .optional()?
            .is_some())
    }

    fn replace_assignments(&mut self, id: &[u8], users: &[&str]) -> Result<(), StorageError> {
        self.0
            .run("DELETE FROM case_assignments WHERE case_id = ?1", [id])?;
        for (position, u) in users.iter().enumerate() {
            self.0.run(
                "INSERT INTO case_assignments (case_id, position, user_id) VALUES (?1, ?2, ?3)",
                params![id, position as i64, u],
            )?;
        }
        Ok(())
    }

    fn replace_links(&mut self, id: &[u8], links: &[&[u8]]) -> Result<(), StorageError> {
        self.0
            .run("DELETE FROM case_links WHERE case_id = ?1", [id])?;
        for l in links {
            self.0.run(
                "INSERT INTO case_links (case_id, linked) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![id, l],
            )?;
        }
        Ok(())
    }
}

impl SqliteDb {
    /// The schema version this server brings a database to (`PRAGMA user_version`).
    pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

    /// Opens (or creates) the database file and brings its schema up to date, with the
    /// master key in the key file beside it (`<file>.key`, created on first start).
    pub fn open(path: impl AsRef<Path>) -> AppResult<Self> {
        let path = path.as_ref();
        Self::open_with(path, &KeySource::beside(path))
    }

    /// Opens (or creates) the database file, brings its schema up to date, checks the
    /// master key from `source` and seals what an earlier version stored in the clear
    /// ([`keys::prepare`]).
    pub fn open_with(path: impl AsRef<Path>, source: &KeySource) -> AppResult<Self> {
        let mut conn = Connection::open(path)?;
        // A new file gets pages of PAGE_SIZE bytes (set before its first table and before
        // WAL, which fixes it); an existing one keeps its own (`VACUUM` outside WAL mode
        // converts one: docs/benchmarks.md).
        let pages: i64 = conn.one("PRAGMA page_count", [], |r| r.get(0))?;
        if pages == 0 {
            conn.pragma_update(None, "page_size", PAGE_SIZE)?;
        }
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // Every statement the server runs stays prepared (about 150 call sites; at 64 the
        // least recently used were parsed again at each turn: a view of a thousand cases
        // pushed out the statements each case write runs).
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        // A statement's plan made once, whatever values are bound: without this, SQLite
        // planned a join (a user with their team, a session with its user) and a case's
        // assignments again at every call with a new value (the planner may look at bound
        // values; no plan here depends on them), about 3 % of the server's work for a
        // write (`sqlite3Reprepare` in a profile of bench/run.sh's S1 and S3). A statement
        // meant for a partial index writes its condition out (`CLOSED_CASES`): a bound
        // value never satisfies one now.
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )?;
        if keys_apart(&conn)? {
            return Err(AppError::Internal(
                "this is a backup whose data keys are kept apart (docs/adr/0007): put it in \
                 place with `fieldcase-server restore`, which joins the keys to it"
                    .into(),
            ));
        }
        let version: i64 = conn.one("PRAGMA user_version", [], |r| r.get(0))?;
        if version > MIGRATIONS.len() as i64 {
            return Err(AppError::Internal(format!(
                "the database has schema {version}; this server knows {}",
                MIGRATIONS.len()
            )));
        }
        for (i, step) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = conn.transaction()?;
            tx.execute_batch(step)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
            tx.commit()?;
        }
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let prepared = keys::prepare(&mut KeyTxRows(&tx), source).map_err(AppError::Internal)?;
        tx.commit()?;
        if prepared.sealed > 0 {
            // What was in the clear must not stay behind on free pages or in the WAL.
            conn.execute_batch("VACUUM")?;
            conn.one("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            tracing::info!(cases = prepared.sealed, "sealed cases stored in the clear");
        }
        let db = SqliteDb {
            conn: Mutex::new(conn),
            queue: Mutex::new(Vec::new()),
            master: RwLock::new(Arc::new(prepared.master)),
            source: source.clone(),
            meter: Arc::default(),
        };
        let filled = cases::fill_derived(&db)?;
        if filled > 0 {
            tracing::info!(
                cases = filled,
                "noted the closure and links of cases stored before"
            );
        }
        Ok(db)
    }

    /// Rewraps every case's data key under `new` in one transaction (the documents stay
    /// sealed as they are); answers how many. This storage's key is the old one after it:
    /// open the database again with the new key.
    pub fn rotate_master_key(&self, new: Key) -> AppResult<usize> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let n = keys::rotate(&mut KeyTxRows(&tx), &CaseRows::master_key(self), &new)
            .map_err(AppError::Internal)?;
        tx.commit()?;
        // The old wrapped keys must not stay behind in the WAL.
        conn.one("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(n)
    }

    /// Writes a consistent copy of the database to `path` (the SQLite online backup: the
    /// server may go on serving and writing meanwhile), without the cases' data keys, then
    /// checks the copy. Refuses to overwrite a file. Returns the number of cases in the
    /// copy.
    ///
    /// The data keys are kept apart from backups (ADR 0007): erasing a case destroys its
    /// key, and a backup taken before must not still hold it. The copy is taken first
    /// beside the database (which holds the keys anyway), its keys are removed there and
    /// the mark `keys_apart` set, and only then is it written to `path` (`VACUUM INTO`, a
    /// fresh file with no free pages). `restore` joins the keys back, from the database
    /// or from a keyring copy (`key export`).
    pub fn backup_to(&self, path: &Path) -> AppResult<usize> {
        if path.exists() {
            return Err(AppError::BadRequest(format!(
                "{} exists; a backup never overwrites a file",
                path.display()
            )));
        }
        let scratch = {
            let conn = self.lock();
            let live = conn
                .path()
                .filter(|p| !p.is_empty())
                .map(std::path::PathBuf::from)
                .ok_or_else(|| AppError::Internal("the database has no file".into()))?;
            let mut name = live.into_os_string();
            name.push(format!(
                ".backup-{}",
                hex::encode(crate::auth::random::<8>())
            ));
            let scratch = std::path::PathBuf::from(name);
            conn.backup(
                rusqlite::MAIN_DB,
                &scratch,
                None::<fn(rusqlite::backup::Progress)>,
            )
            .map_err(|e| AppError::Internal(format!("backup to {}: {e}", path.display())))?;
            scratch
        };
        let written = (|| -> AppResult<()> {
            let copy = Connection::open(&scratch)?;
            copy.pragma_update(None, "journal_mode", "DELETE")?;
            copy.pragma_update(None, "secure_delete", "ON")?;
            copy.execute_batch("UPDATE cases SET data_key = NULL")?;
            copy.execute(
                "INSERT INTO keys_apart (id, taken_at) VALUES (1, ?1)
                 ON CONFLICT (id) DO UPDATE SET taken_at = excluded.taken_at",
                [chrono::Utc::now().timestamp_millis()],
            )?;
            let target = path
                .to_str()
                .ok_or_else(|| AppError::BadRequest("the backup's path is not UTF-8".into()))?;
            copy.execute("VACUUM INTO ?1", [target])?;
            Ok(())
        })();
        for suffix in ["", "-journal", "-wal", "-shm"] {
            let mut name = scratch.clone().into_os_string();
            name.push(suffix);
            let _ = std::fs::remove_file(std::path::PathBuf::from(name));
        }
        written.map_err(|e| match e {
            AppError::Internal(d) => {
                AppError::Internal(format!("backup to {}: {d}", path.display()))
            }
            other => other,
        })?;
        let copy = Connection::open(path)?;
        let check: String = copy.one("PRAGMA integrity_check", [], |r| r.get(0))?;
        if check != "ok" {
            return Err(AppError::Internal(format!(
                "the copy at {} does not check: {check}",
                path.display()
            )));
        }
        let cases: i64 = copy.one("SELECT count(*) FROM cases", [], |r| r.get(0))?;
        Ok(cases as usize)
    }

    /// Writes the keyring (ADR 0007) to `path`: every case's wrapped data key, the
    /// tombstones of erased cases and the key check, in a small SQLite file of its own that
    /// replaces the one at `path` (a keyring copy is replaced, never kept beside older
    /// ones: an older copy still opens the cases erased since). Returns how many keys.
    pub fn export_keyring(&self, path: &Path) -> AppResult<usize> {
        let (keys, tombstones, check) = {
            let mut conn = self.lock();
            let tx = conn.transaction()?;
            let keys: Vec<(Vec<u8>, Vec<u8>)> = {
                let mut stmt = tx.prepare(
                    "SELECT id, data_key FROM cases WHERE data_key IS NOT NULL ORDER BY id",
                )?;
                let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect::<Result<_, _>>()?
            };
            let tombstones: Vec<(Vec<u8>, super::erasure::Tombstone)> = {
                let mut stmt = tx.prepare(
                    "SELECT id, team, erased_at, erased_by, reason FROM erased_cases ORDER BY id",
                )?;
                let rows = stmt.query_map([], tombstone_of)?;
                rows.collect::<Result<_, _>>()?
            };
            let check: Option<Vec<u8>> = tx
                .one("SELECT sealed FROM key_check WHERE id = 1", [], |r| {
                    r.get(0)
                })
                .optional()?;
            tx.commit()?;
            (keys, tombstones, check)
        };
        let mut partial = path.as_os_str().to_owned();
        partial.push(".partial");
        let partial = std::path::PathBuf::from(partial);
        let _ = std::fs::remove_file(&partial);
        let written = (|| -> AppResult<()> {
            let mut out = Connection::open(&partial)?;
            out.execute_batch(KEYRING_SCHEMA)?;
            let tx = out.transaction()?;
            tx.execute(
                "INSERT INTO keyring (id, exported_at, key_check) VALUES (1, ?1, ?2)",
                params![chrono::Utc::now().timestamp_millis(), check],
            )?;
            for (id, key) in &keys {
                tx.execute(
                    "INSERT INTO data_keys (id, data_key) VALUES (?1, ?2)",
                    params![id, key],
                )?;
            }
            for (id, t) in &tombstones {
                tx.execute(
                    "INSERT INTO erased_cases (id, team, erased_at, erased_by, reason)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![id, t.team, t.erased_at, t.erased_by, t.reason],
                )?;
            }
            tx.commit()?;
            drop(out);
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&partial, std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| AppError::Internal(format!("keyring permissions: {e}")))?;
            }
            std::fs::rename(&partial, path).map_err(|e| {
                AppError::Internal(format!("cannot put the keyring at {}: {e}", path.display()))
            })
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&partial);
        }
        written?;
        Ok(keys.len())
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
        Ok(User {
            id: r.get(0)?,
            username: r.get(1)?,
            display_name: r.get(2)?,
            role: role_of(&r.get::<_, String>(3)?),
            team: r.get(4)?,
            disabled: r.get::<_, i64>(5)? != 0,
        })
    }
}

/// A user's columns ([`SqliteDb::user_row`]), joined from `users u` and `teams t`: a
/// macro, so that the statements naming them are constants (built with `format!` at every
/// call, the prepared-statement cache hashed a fresh string each time).
macro_rules! user_columns {
    () => {
        "u.id, u.username, u.display_name, u.role, t.name, u.disabled"
    };
}

/// The users with their team, from `users u` and `teams t`.
macro_rules! users_with_team {
    () => {
        concat!(
            "SELECT ",
            user_columns!(),
            " FROM users u LEFT JOIN teams t ON t.id = u.team_id"
        )
    };
}

/// The closed cases, oldest closure first. `closed = 1` is written out: the partial index
/// `cases_closed` serves only a statement whose condition implies its own, and with plans
/// made once whatever is bound (`SQLITE_DBCONFIG_ENABLE_QPSG`) a bound value never does.
const CLOSED_CASES: &str = "SELECT id, team, closed_at FROM cases
     WHERE closed = 1 AND closed_at <= ?1 ORDER BY closed_at, id";

const USER_BY_ID: &str = concat!(users_with_team!(), " WHERE u.id = ?1");
const USER_BY_NAME: &str = concat!(users_with_team!(), " WHERE u.username = ?1");
const SESSION_ROW: &str = concat!(
    "SELECT ",
    user_columns!(),
    ", s.device_id, s.expires_at, s.last_used, s.revoked, d.disabled
     FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN teams t ON t.id = u.team_id
     JOIN devices d ON d.id = s.device_id WHERE s.token_hash = ?1"
);

impl SqliteDb {
    /// Queues a write and waits until a group commit holding it is durable (see
    /// [`Db::store_case`] below).
    /// A case write through the group commit, with a read of the case recorded first in
    /// the same savepoint (rolled back together).
    fn store_case_with(
        &self,
        access: &CaseAccess,
        write: CaseWrite<'_>,
        heads: &[ChangeHash],
        expected: Option<&[ChangeHash]>,
        now: i64,
        read: Option<AuditEntries>,
    ) -> AppResult<Stored> {
        let write = Arc::new(cases::Write::new(access, write, heads, expected, now));
        // A rotation of the master key meanwhile: read it again and write once more.
        Ok(cases::with_master_key(self, |_| {
            self.commit(Job::Case(write.clone(), read.clone()))?
                .ok_or_else(|| StorageError::Unavailable("a case write had no outcome".into()))
        })?)
    }

    fn commit(&self, job: Job) -> Result<Option<Stored>, StorageError> {
        let mine = Arc::new(Pending {
            job,
            outcome: Mutex::new(None),
        });
        self.queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(mine.clone());
        let mut conn = self.lock();
        let done = |p: &Pending| p.outcome.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(outcome) = done(&mine) {
            // The writer before took this write into its transaction.
            return outcome;
        }
        let batch = std::mem::take(&mut *self.queue.lock().unwrap_or_else(|p| p.into_inner()));
        let master = CaseRows::master_key(self);
        let outcomes = commit_batch(&mut conn, &master, &self.meter, &batch);
        for (p, o) in batch.iter().zip(outcomes) {
            *p.outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(o);
        }
        drop(conn);
        done(&mine).unwrap_or_else(|| Err(StorageError::Unavailable("a write was lost".into())))
    }
}

impl Db for SqliteDb {
    super::rules_over_rows!();

    fn users(&self) -> AppResult<Vec<User>> {
        let conn = self.lock();
        let mut stmt = conn.prepare(concat!(users_with_team!(), " ORDER BY u.username"))?;
        let rows = stmt.query_map([], Self::user_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn actor_device(&self, actor: &str) -> AppResult<Option<String>> {
        let conn = self.lock();
        Ok(conn
            .one(
                "SELECT device_id FROM actors WHERE actor = ?1",
                [actor],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Group commit: concurrent writers queue their writes; whoever holds the connection
    /// next commits every queued write in one transaction (one `fsync` for all), each in a
    /// savepoint of its own so that one failing write fails alone (a group of one needs
    /// none: it fails whole). A write is answered only
    /// once the transaction holding it is durable; if the commit fails, every write in it
    /// fails and nothing of them is kept.
    fn store_case(
        &self,
        access: &CaseAccess,
        write: CaseWrite<'_>,
        heads: &[ChangeHash],
        expected: Option<&[ChangeHash]>,
        now: i64,
    ) -> AppResult<Stored> {
        self.store_case_with(access, write, heads, expected, now, None)
    }

    fn store_case_read(
        &self,
        access: &CaseAccess,
        write: CaseWrite<'_>,
        heads: &[ChangeHash],
        expected: Option<&[ChangeHash]>,
        now: i64,
        read: &super::AuditRead,
    ) -> AppResult<Stored> {
        let entry = AuditEntries::new(
            read.at,
            &read.user_id,
            &read.device,
            &[&read.case.as_bytes()[..]],
            read.action,
        );
        self.store_case_with(access, write, heads, expected, now, Some(entry))
    }

    fn external_version(&self) -> AppResult<Option<i64>> {
        let conn = match self.conn.try_lock() {
            Ok(c) => c,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return Ok(None),
        };
        Ok(Some(conn.one("PRAGMA data_version", [], |r| r.get(0))?))
    }

    fn user_by_id(&self, id: &str) -> AppResult<Option<User>> {
        let conn = self.lock();
        Ok(conn.one(USER_BY_ID, [id], Self::user_row).optional()?)
    }

    fn device(&self, id: &str) -> AppResult<Option<Device>> {
        Ok(self
            .lock()
            .one(
                "SELECT id, user_id, name, created_at, disabled FROM devices WHERE id = ?1",
                [id],
                device_row,
            )
            .optional()?)
    }

    fn actor_owner(&self, actor: &str) -> AppResult<Option<Device>> {
        Ok(self
            .lock()
            .one(
                "SELECT d.id, d.user_id, d.name, d.created_at, d.disabled
                 FROM actors a JOIN devices d ON d.id = a.device_id WHERE a.actor = ?1",
                [actor],
                device_row,
            )
            .optional()?)
    }

    fn user_language(&self, user_id: &str) -> AppResult<Option<String>> {
        Ok(self
            .lock()
            .one(
                "SELECT language FROM user_settings WHERE user_id = ?1",
                [user_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn user_time_zone(&self, user_id: &str) -> AppResult<Option<String>> {
        Ok(self
            .lock()
            .one(
                "SELECT time_zone FROM user_time_zones WHERE user_id = ?1",
                [user_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn set_user_time_zone(&self, user_id: &str, time_zone: Option<&str>) -> AppResult<()> {
        match time_zone {
            Some(tz) => self.lock().run(
                "INSERT INTO user_time_zones (user_id, time_zone) VALUES (?1, ?2)
                 ON CONFLICT (user_id) DO UPDATE SET time_zone = excluded.time_zone",
                params![user_id, tz],
            )?,
            None => self.lock().run(
                "DELETE FROM user_time_zones WHERE user_id = ?1",
                params![user_id],
            )?,
        };
        Ok(())
    }

    fn set_user_language(&self, user_id: &str, language: &str) -> AppResult<()> {
        self.lock().run(
            "INSERT INTO user_settings (user_id, language) VALUES (?1, ?2)
             ON CONFLICT (user_id) DO UPDATE SET language = excluded.language",
            params![user_id, language],
        )?;
        Ok(())
    }
}

impl CaseRows for SqliteDb {
    fn master_key(&self) -> Arc<Key> {
        self.master
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn reload_master_key(&self) -> Result<(), StorageError> {
        let check: Option<Vec<u8>> = self
            .lock()
            .one("SELECT sealed FROM key_check WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?;
        let key = keys::reload(&self.source, check.as_deref())?;
        *self.master.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(key);
        Ok(())
    }

    fn document_rows(&self, id: &[u8]) -> Result<Option<DocumentRows>, StorageError> {
        let conn = self.lock();
        let row: Option<(Option<Vec<u8>>, Vec<u8>)> = conn
            .one(
                "SELECT data_key, document FROM cases WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((data_key, snapshot)) = row else {
            return Ok(None);
        };
        let mut stmt =
            conn.prepare_cached("SELECT bytes FROM case_changes WHERE case_id = ?1 ORDER BY seq")?;
        let changes = stmt.query_map([id], |r| r.get(0))?;
        Ok(Some((
            data_key,
            snapshot,
            changes.collect::<Result<_, _>>()?,
        )))
    }

    fn heads_row(&self, id: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self
            .lock()
            .one("SELECT heads FROM cases WHERE id = ?1", [id], |r| r.get(0))
            .optional()?)
    }

    fn access_row(&self, id: &[u8]) -> Result<Option<AccessRow>, StorageError> {
        let conn = self.lock();
        let row: Option<(String, i64, bool, Option<i64>)> = conn
            .one(
                "SELECT team, restricted, coalesce(closed, 0), closed_at FROM cases WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? != 0, r.get(3)?)),
            )
            .optional()?;
        let Some((team, restricted, closed, closed_at)) = row else {
            return Ok(None);
        };
        let mut stmt = conn.prepare_cached(
            "SELECT user_id FROM case_assignments WHERE case_id = ?1 ORDER BY position",
        )?;
        let assigned = stmt.query_map([id], |r| r.get(0))?;
        Ok(Some((
            team,
            restricted != 0,
            assigned.collect::<Result<_, _>>()?,
            closed,
            closed_at,
        )))
    }

    fn meter(&self) -> Arc<keys::Meter> {
        self.meter.clone()
    }

    fn closed_case_rows(&self, closed_before: i64) -> Result<Vec<ClosedRow>, StorageError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(CLOSED_CASES)?;
        let rows = stmt.query_map([closed_before], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn unfilled_closure_keys(&self) -> Result<Vec<Vec<u8>>, StorageError> {
        let conn = self.lock();
        let mut stmt = conn.prepare("SELECT id FROM cases WHERE closed IS NULL ORDER BY id")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn fill_closure_row(
        &self,
        id: &[u8],
        closed: bool,
        closed_at: Option<i64>,
    ) -> Result<(), StorageError> {
        self.lock().run(
            "UPDATE cases SET closed = ?2, closed_at = ?3 WHERE id = ?1 AND closed IS NULL",
            params![id, closed as i64, closed_at],
        )?;
        Ok(())
    }

    fn all_case_rows(&self) -> Result<(Vec<CaseListRow>, Vec<AssignmentRow>), StorageError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare("SELECT case_id, user_id FROM case_assignments ORDER BY case_id, position")?;
        let assigned = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let mut stmt = conn.prepare(
            "SELECT id, team, restricted, heads, coalesce(closed, 0), closed_at FROM cases ORDER BY id",
        )?;
        let cases = stmt.query_map([], list_row)?.collect::<Result<_, _>>()?;
        Ok((cases, assigned))
    }

    fn visible_case_rows(
        &self,
        user_id: &str,
        team: Option<&str>,
        unrestricted: bool,
    ) -> Result<(Vec<CaseListRow>, Vec<AssignmentRow>), StorageError> {
        // Each part of the union reads an index (assignees, teams) or, for an admin, the
        // unrestricted cases; a part the role has no use for is left out of the query.
        // (Every query names both parameters, whichever parts it has.)
        let mut parts =
            vec!["SELECT case_id FROM case_assignments WHERE user_id = ?1 AND ?2 IS NOT NULL"];
        if team.is_some() {
            parts.push("SELECT id FROM cases WHERE team = ?2");
        }
        if unrestricted {
            parts.push("SELECT id FROM cases WHERE restricted = 0");
        }
        let visible = format!("WITH v(id) AS ({})", parts.join(" UNION "));
        let conn = self.lock();
        let args = params![user_id, team.unwrap_or("")];
        let mut stmt = conn.prepare_cached(&format!(
            "{visible} SELECT c.id, c.team, c.restricted, c.heads, coalesce(c.closed, 0), c.closed_at
             FROM cases c JOIN v ON v.id = c.id ORDER BY c.id"
        ))?;
        let cases = stmt.query_map(args, list_row)?.collect::<Result<_, _>>()?;
        let mut stmt = conn.prepare_cached(&format!(
            "{visible} SELECT a.case_id, a.user_id FROM case_assignments a
             JOIN v ON v.id = a.case_id ORDER BY a.case_id, a.position"
        ))?;
        let assigned = stmt
            .query_map(args, |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok((cases, assigned))
    }

    fn assigned_case_keys(&self, user_id: &str) -> Result<Vec<Vec<u8>>, StorageError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT case_id FROM case_assignments WHERE user_id = ?1 ORDER BY case_id",
        )?;
        let rows = stmt.query_map([user_id], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn insert_time_marks(&self, id: &[u8], marks: &[TimeMark]) -> Result<(), StorageError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        for m in marks {
            tx.run(
                "INSERT INTO change_times (case_id, change, claimed, received) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT DO NOTHING",
                params![id, &m.change.0[..], m.claimed, m.received],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn time_mark_rows(&self, id: &[u8]) -> Result<Vec<(Vec<u8>, i64, i64)>, StorageError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT change, claimed, received FROM change_times WHERE case_id = ?1",
        )?;
        let rows = stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn linking_case_keys(&self, id: &[u8]) -> Result<Vec<Vec<u8>>, StorageError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached("SELECT case_id FROM case_links WHERE linked = ?1 ORDER BY case_id")?;
        let rows = stmt.query_map([id], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn written_since_keys(&self, since_ms: i64) -> Result<Vec<(Vec<u8>, i64)>, StorageError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT id, updated_at FROM cases WHERE updated_at >= ?1 ORDER BY updated_at, id",
        )?;
        let rows = stmt.query_map([since_ms], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn fact_rows(&self) -> Result<Vec<FactRow>, StorageError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare("SELECT id, data_key, facts FROM cases WHERE facts IS NOT NULL ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn fact_row(&self, id: &[u8]) -> Result<Option<FactRow>, StorageError> {
        Ok(self
            .lock()
            .one(
                "SELECT id, data_key, facts FROM cases WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?)
    }

    fn unfilled_fact_keys(&self) -> Result<Vec<Vec<u8>>, StorageError> {
        unfilled_keys(&self.lock())
    }

    fn fill_fact_rows(&self, rows: &[(Vec<u8>, Vec<u8>)]) -> Result<(), StorageError> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for (id, sealed) in rows {
            tx.run(
                "UPDATE cases SET facts = ?2 WHERE id = ?1 AND facts IS NULL",
                params![id, sealed],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn facts_filled(&self) -> Result<(), StorageError> {
        self.lock().run("DELETE FROM case_facts_unfilled", [])?;
        Ok(())
    }

    fn list_fact_rows(&self, ids: &[Vec<u8>]) -> Result<Vec<ListFactRow>, StorageError> {
        let mut conn = self.lock();
        // One read transaction: one consistent view of every case.
        let tx = conn.transaction()?;
        let mut out = Vec::with_capacity(ids.len());
        {
            let mut stmt = tx.prepare_cached(
                "SELECT c.id, c.heads, c.data_key, c.facts,
                        (SELECT max(m.received) FROM change_times m WHERE m.case_id = c.id)
                 FROM cases c WHERE c.id = ?1",
            )?;
            for id in ids {
                let row = stmt
                    .query_row([id], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                    })
                    .optional()?;
                out.extend(row);
            }
        }
        tx.commit()?;
        Ok(out)
    }

    fn data_key_row(&self, id: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self
            .lock()
            .one("SELECT data_key FROM cases WHERE id = ?1", [id], |r| {
                r.get::<_, Option<Vec<u8>>>(0)
            })
            .optional()?
            .flatten())
    }

    fn links_unfilled(&self) -> Result<bool, StorageError> {
        Ok(self
            .lock()
            .one("SELECT 1 FROM case_links_unfilled", [], |_| Ok(()))
            .optional()?
            .is_some())
    }

    fn fill_link_rows(&self, rows: &[(Vec<u8>, Vec<Vec<u8>>)]) -> Result<(), StorageError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for (case, links) in rows {
            for l in links {
                tx.run(
                    "INSERT INTO case_links (case_id, linked) SELECT ?1, ?2
                     WHERE EXISTS (SELECT 1 FROM cases WHERE id = ?1) ON CONFLICT DO NOTHING",
                    params![case, l],
                )?;
            }
        }
        tx.run("DELETE FROM case_links_unfilled", [])?;
        tx.commit()?;
        Ok(())
    }
}

/// The rows of the key steps, inside a transaction.
struct KeyTxRows<'a>(&'a Connection);

impl KeyTx for KeyTxRows<'_> {
    fn key_check(&mut self) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self
            .0
            .one("SELECT sealed FROM key_check WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?)
    }

    fn set_key_check(&mut self, sealed: &[u8]) -> Result<(), StorageError> {
        self.0.run(
            "INSERT INTO key_check (id, sealed) VALUES (1, ?1)
             ON CONFLICT (id) DO UPDATE SET sealed = excluded.sealed",
            [sealed],
        )?;
        Ok(())
    }

    fn cases_in_the_clear(&mut self) -> Result<Vec<Vec<u8>>, StorageError> {
        let mut stmt = self
            .0
            .prepare("SELECT id FROM cases WHERE data_key IS NULL ORDER BY id")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn case_blobs(&mut self, id: &[u8]) -> Result<CaseBlobs, StorageError> {
        let snapshot = self
            .0
            .one("SELECT document FROM cases WHERE id = ?1", [id], |r| {
                r.get(0)
            })?;
        let mut stmt = self
            .0
            .prepare("SELECT seq, bytes FROM case_changes WHERE case_id = ?1 ORDER BY seq")?;
        let changes = stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok((snapshot, changes.collect::<Result<_, _>>()?))
    }

    fn replace_blobs(
        &mut self,
        id: &[u8],
        data_key: &[u8],
        snapshot: &[u8],
        changes: &[(i64, Vec<u8>)],
    ) -> Result<(), StorageError> {
        self.0.run(
            "UPDATE cases SET data_key = ?2, document = ?3 WHERE id = ?1",
            params![id, data_key, snapshot],
        )?;
        for (seq, bytes) in changes {
            self.0.run(
                "UPDATE case_changes SET bytes = ?3 WHERE case_id = ?1 AND seq = ?2",
                params![id, seq, bytes],
            )?;
        }
        Ok(())
    }

    fn data_keys(&mut self) -> Result<Vec<DataKeyRow>, StorageError> {
        let mut stmt = self
            .0
            .prepare("SELECT id, data_key FROM cases WHERE data_key IS NOT NULL ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let mut keys: Vec<DataKeyRow> = rows.collect::<Result<_, _>>()?;
        // The directory's data key too (`db::directory::KEY_ID`).
        let directory: Option<Vec<u8>> = self
            .0
            .one("SELECT data_key FROM directory WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?;
        keys.extend(directory.map(|k| (super::directory::KEY_ID.to_vec(), k)));
        Ok(keys)
    }

    fn set_data_key(&mut self, id: &[u8], data_key: &[u8]) -> Result<(), StorageError> {
        if id == super::directory::KEY_ID {
            self.0.run(
                "UPDATE directory SET data_key = ?1 WHERE id = 1",
                [data_key],
            )?;
            return Ok(());
        }
        self.0.run(
            "UPDATE cases SET data_key = ?2 WHERE id = ?1",
            params![id, data_key],
        )?;
        Ok(())
    }
}

/// The tables that hold a case's rows besides `cases` itself, by its key (`case_id`):
/// everything an erasure deletes (the audit trail keeps its entries, ids only).
pub(crate) const CASE_TABLES: &[&str] = &[
    "case_changes",
    "case_assignments",
    "departures",
    "change_times",
    "assignment_ends",
    "referral_links",
    // Attachments (issue 17): their chunks first, then their rows.
    "attachment_chunks",
    "attachments",
    // An admin's decision to keep it past its retention.
    "retention_holds",
    // The cases it links to (the links to it belong to the linking cases).
    "case_links",
];

fn tombstone_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Vec<u8>, super::erasure::Tombstone)> {
    let key: Vec<u8> = r.get(0)?;
    let case_id = super::cases::case_id_of(&key).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Blob, "case id".into())
    })?;
    Ok((
        key,
        super::erasure::Tombstone {
            case_id,
            team: r.get(1)?,
            erased_at: r.get(2)?,
            erased_by: r.get(3)?,
            reason: r.get(4)?,
        },
    ))
}

/// The tables of a keyring file (`SqliteDb::export_keyring`).
pub(crate) const KEYRING_SCHEMA: &str = "CREATE TABLE keyring (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        exported_at INTEGER NOT NULL,
        key_check   BLOB
     ) STRICT;
     CREATE TABLE data_keys (
        id       BLOB PRIMARY KEY,
        data_key BLOB NOT NULL
     ) STRICT;
     CREATE TABLE erased_cases (
        id        BLOB PRIMARY KEY,
        team      TEXT NOT NULL,
        erased_at INTEGER NOT NULL,
        erased_by TEXT NOT NULL,
        reason    TEXT NOT NULL
     ) STRICT;";

/// The data keys and tombstones a restore joins to a backup: from a database (its cases'
/// keys) or from a keyring file (`export_keyring`).
#[derive(Debug, Default)]
pub struct Keyring {
    pub keys: std::collections::HashMap<Vec<u8>, Vec<u8>>,
    /// (case key, team, erased at, by, reason).
    pub tombstones: Vec<(Vec<u8>, String, i64, String, String)>,
}

impl Keyring {
    /// Reads the keys of the database or keyring file at `path` (read only).
    pub fn read(path: &Path) -> Result<Self, String> {
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| format!("{} does not open: {e}", path.display()))?;
        let has = |table: &str| -> bool {
            conn.query_row(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [table],
                |_| Ok(()),
            )
            .optional()
            .ok()
            .flatten()
            .is_some()
        };
        let keys_sql = if has("data_keys") {
            "SELECT id, data_key FROM data_keys"
        } else if has("cases") {
            "SELECT id, data_key FROM cases WHERE data_key IS NOT NULL"
        } else {
            return Err(format!(
                "{} is neither a fieldcase database nor a keyring",
                path.display()
            ));
        };
        let read = || -> rusqlite::Result<Self> {
            let mut out = Keyring::default();
            let mut stmt = conn.prepare(keys_sql)?;
            for row in stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))? {
                let (id, key) = row?;
                out.keys.insert(id, key);
            }
            if has("erased_cases") {
                let mut stmt = conn
                    .prepare("SELECT id, team, erased_at, erased_by, reason FROM erased_cases")?;
                for row in stmt.query_map([], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })? {
                    out.tombstones.push(row?);
                }
            }
            Ok(out)
        };
        read().map_err(|e| format!("cannot read the keys of {}: {e}", path.display()))
    }

    /// Joins these keys to the backup copy open in `conn` (in one transaction): each case
    /// gets its data key; a case erased since is erased in the copy too (its rows deleted,
    /// its tombstone written), and every tombstone is kept; the mark `keys_apart` goes.
    /// Fails, changing nothing, when a case of the copy has neither a key nor a tombstone
    /// here (a keyring older than the backup), naming how many.
    ///
    /// A backup of an earlier version holds its keys (`keys_inside`): only the erasures
    /// are applied to it.
    pub fn join_to(&self, conn: &mut Connection, keys_inside: bool) -> Result<JoinReport, String> {
        let run = |conn: &mut Connection| -> Result<JoinReport, StorageError> {
            let tx = conn.transaction()?;
            let ids: Vec<Vec<u8>> = {
                let mut stmt = tx.prepare("SELECT id FROM cases ORDER BY id")?;
                let rows = stmt.query_map([], |r| r.get(0))?;
                rows.collect::<Result<_, _>>()?
            };
            let mut report = JoinReport::default();
            for id in &ids {
                if let Some(t) = self.tombstones.iter().find(|t| &t.0 == id) {
                    erase_in(&tx, id, &t.3, &t.4, t.2)?;
                    report.erased += 1;
                } else if keys_inside {
                    report.keyed += 1;
                } else if let Some(key) = self.keys.get(id) {
                    tx.run(
                        "UPDATE cases SET data_key = ?2 WHERE id = ?1",
                        params![id, key],
                    )?;
                    report.keyed += 1;
                } else {
                    report.missing += 1;
                }
            }
            for (id, team, at, by, reason) in &self.tombstones {
                tx.run(
                    "INSERT INTO erased_cases (id, team, erased_at, erased_by, reason)
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO NOTHING",
                    params![id, team, at, by, reason],
                )?;
            }
            tx.execute("DELETE FROM keys_apart", [])?;
            if report.missing == 0 {
                tx.commit()?;
            }
            Ok(report)
        };
        let report = run(conn).map_err(|e| e.to_string())?;
        if report.missing > 0 {
            return Err(format!(
                "{} cases of the backup have no data key in the keys given (a keyring copy \
                 older than the backup?): nothing was restored",
                report.missing
            ));
        }
        Ok(report)
    }
}

/// What [`Keyring::join_to`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct JoinReport {
    /// Cases given their data key.
    pub keyed: usize,
    /// Cases of the backup erased since it was taken, erased in it too.
    pub erased: usize,
    /// Cases with neither (the join fails).
    pub missing: usize,
}

/// Whether the database is a backup whose data keys are kept apart (`backup_to`).
pub fn keys_apart(conn: &Connection) -> rusqlite::Result<bool> {
    let table: Option<String> = conn
        .query_row(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'keys_apart'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if table.is_none() {
        return Ok(false);
    }
    conn.query_row("SELECT count(*) FROM keys_apart", [], |r| {
        r.get::<_, i64>(0)
    })
    .map(|n| n > 0)
}

/// Deletes a case's rows and writes its tombstone, inside `tx`; `None` when there is no
/// such case.
pub(crate) fn erase_in(
    tx: &Connection,
    id: &[u8],
    by: &str,
    reason: &str,
    now: i64,
) -> Result<Option<super::erasure::Tombstone>, StorageError> {
    let team: Option<String> = tx
        .one("SELECT team FROM cases WHERE id = ?1", [id], |r| r.get(0))
        .optional()?;
    let Some(team) = team else {
        return Ok(None);
    };
    for table in CASE_TABLES {
        tx.execute(&format!("DELETE FROM {table} WHERE case_id = ?1"), [id])?;
    }
    tx.run("DELETE FROM cases WHERE id = ?1", [id])?;
    tx.run(
        "INSERT INTO erased_cases (id, team, erased_at, erased_by, reason)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, team, now, by, reason],
    )?;
    Ok(Some(super::erasure::Tombstone {
        case_id: super::erasure::case_id(id)?,
        team,
        erased_at: now,
        erased_by: by.to_string(),
        reason: reason.to_string(),
    }))
}

const REQUEST_COLUMNS: &str =
    "id, case_id, team, requested_by, requested_at, reason, decided_by, decided_at, decision";

fn request_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<super::erasure::ErasureRequest> {
    let key: Vec<u8> = r.get(1)?;
    let case_id = super::cases::case_id_of(&key).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Blob, "case id".into())
    })?;
    Ok(super::erasure::ErasureRequest {
        id: r.get(0)?,
        case_id,
        team: r.get(2)?,
        requested_by: r.get(3)?,
        requested_at: r.get(4)?,
        reason: r.get(5)?,
        decided_by: r.get(6)?,
        decided_at: r.get(7)?,
        decision: r.get(8)?,
    })
}

impl super::erasure::ErasureRows for SqliteDb {
    fn insert_request_row(&self, r: &super::erasure::ErasureRequest) -> Result<bool, StorageError> {
        let n = self.lock().run(
            "INSERT INTO erasure_requests (id, case_id, team, requested_by, requested_at, reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
            params![
                r.id,
                &r.case_id.as_bytes()[..],
                r.team,
                r.requested_by,
                r.requested_at,
                r.reason
            ],
        )?;
        Ok(n == 1)
    }

    fn request_rows(
        &self,
        open_only: bool,
    ) -> Result<Vec<super::erasure::ErasureRequest>, StorageError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {REQUEST_COLUMNS} FROM erasure_requests
             WHERE ?1 = 0 OR decision IS NULL ORDER BY requested_at DESC, id"
        ))?;
        let rows = stmt.query_map([open_only as i64], request_of)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn decide_request_row(
        &self,
        id: &str,
        by: &str,
        decision: &str,
        now: i64,
    ) -> Result<Option<super::erasure::ErasureRequest>, StorageError> {
        let conn = self.lock();
        let n = conn.run(
            "UPDATE erasure_requests SET decided_by = ?2, decided_at = ?3, decision = ?4
             WHERE id = ?1 AND decision IS NULL",
            params![id, by, now, decision],
        )?;
        if n == 0 {
            return Ok(None);
        }
        Ok(conn
            .one(
                &format!("SELECT {REQUEST_COLUMNS} FROM erasure_requests WHERE id = ?1"),
                [id],
                request_of,
            )
            .optional()?)
    }

    fn erase_rows(
        &self,
        id: &[u8],
        by: &str,
        reason: &str,
        now: i64,
    ) -> Result<Option<super::erasure::Tombstone>, StorageError> {
        let mut conn = self.lock();
        // What is deleted is overwritten with zeros on its pages, not only unlinked.
        conn.pragma_update(None, "secure_delete", "ON")?;
        let erased = (|| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let erased = erase_in(&tx, id, by, reason, now)?;
            tx.commit()?;
            Ok::<_, StorageError>(erased)
        })();
        conn.pragma_update(None, "secure_delete", "OFF")?;
        let erased = erased?;
        if erased.is_some() {
            // The pages as they were (the sealed content, the wrapped key) must not stay
            // behind in the write-ahead log: copied back and the log emptied (while no
            // reader holds it; otherwise at the next checkpoint).
            let _ = conn.one("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        }
        Ok(erased)
    }

    fn tombstone_row(&self, id: &[u8]) -> Result<Option<super::erasure::Tombstone>, StorageError> {
        Ok(self
            .lock()
            .one(
                "SELECT id, team, erased_at, erased_by, reason FROM erased_cases WHERE id = ?1",
                [id],
                tombstone_of,
            )
            .optional()?
            .map(|(_, t)| t))
    }

    fn hold_row(&self, h: &super::erasure::RetentionHold) -> Result<(), StorageError> {
        self.lock().run(
            "INSERT INTO retention_holds (case_id, until, by, reason, at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (case_id) DO UPDATE SET until = excluded.until, by = excluded.by,
                reason = excluded.reason, at = excluded.at",
            params![&h.case_id.as_bytes()[..], h.until, h.by, h.reason, h.at],
        )?;
        Ok(())
    }

    fn hold_rows(&self) -> Result<Vec<super::erasure::RetentionHold>, StorageError> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT case_id, until, by, reason, at FROM retention_holds ORDER BY until DESC, case_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (key, until, by, reason, at) = row?;
            out.push(super::erasure::RetentionHold {
                case_id: super::erasure::case_id(&key)?,
                until,
                by,
                reason,
                at,
            });
        }
        Ok(out)
    }

    fn tombstone_rows(&self) -> Result<Vec<super::erasure::Tombstone>, StorageError> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT id, team, erased_at, erased_by, reason FROM erased_cases
             ORDER BY erased_at DESC, id",
        )?;
        let rows = stmt.query_map([], tombstone_of)?;
        Ok(rows.map(|r| r.map(|(_, t)| t)).collect::<Result<_, _>>()?)
    }
}

impl super::directory::DirectoryRows for SqliteDb {
    fn directory_row(&self) -> Result<Option<super::directory::DirectoryRow>, StorageError> {
        Ok(self
            .lock()
            .one(
                "SELECT version, data_key, data, updated_at, updated_by FROM directory WHERE id = 1",
                [],
                |r| {
                    Ok(super::directory::DirectoryRow {
                        version: r.get(0)?,
                        data_key: r.get(1)?,
                        data: r.get(2)?,
                        updated_at: r.get(3)?,
                        updated_by: r.get(4)?,
                    })
                },
            )
            .optional()?)
    }

    fn directory_version_row(&self) -> Result<i64, StorageError> {
        Ok(self
            .lock()
            .one("SELECT version FROM directory WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?
            .unwrap_or(0))
    }

    fn replace_directory_row(
        &self,
        expected: i64,
        row: &super::directory::DirectoryRow,
    ) -> Result<bool, StorageError> {
        let conn = self.lock();
        // One statement: inserts the first version, or replaces exactly the expected one.
        let n = conn.run(
            "INSERT INTO directory (id, version, data_key, data, updated_at, updated_by)
             SELECT 1, ?1, ?2, ?3, ?4, ?5
             WHERE ?6 = coalesce((SELECT version FROM directory WHERE id = 1), 0)
             ON CONFLICT (id) DO UPDATE SET version = excluded.version,
                data_key = excluded.data_key, data = excluded.data,
                updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            params![
                row.version,
                row.data_key,
                row.data,
                row.updated_at,
                row.updated_by,
                expected
            ],
        )?;
        Ok(n == 1)
    }
}

const LINK_COLUMNS: &str = "id, case_id, referral_id, partner_user, language, created_by, \
     created_at, expires_at, revoked_at, revoked_by";

fn link_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<super::links::ReferralLink> {
    let case: Vec<u8> = r.get(1)?;
    let case = <[u8; 16]>::try_from(case.as_slice()).map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Blob, "case id".into())
    })?;
    Ok(super::links::ReferralLink {
        id: r.get(0)?,
        case_id: fieldcase_core::CaseId::from_bytes(case),
        referral_id: r.get(2)?,
        partner_user: r.get(3)?,
        language: r.get(4)?,
        created_by: r.get(5)?,
        created_at: r.get(6)?,
        expires_at: r.get(7)?,
        revoked_at: r.get(8)?,
        revoked_by: r.get(9)?,
    })
}

impl super::attachments::AttachmentRows for SqliteDb {
    fn wrapped_key_row(&self, case: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self
            .lock()
            .one("SELECT data_key FROM cases WHERE id = ?1", [case], |r| {
                r.get::<_, Option<Vec<u8>>>(0)
            })
            .optional()?
            .flatten())
    }

    fn file_row(
        &self,
        case: &[u8],
        file: &[u8],
    ) -> Result<Option<super::attachments::FileRow>, StorageError> {
        Ok(self
            .lock()
            .one(
                "SELECT size, media_type, received, complete, created_at, created_by
                 FROM attachments WHERE case_id = ?1 AND file = ?2",
                params![case, file],
                |r| {
                    Ok(super::attachments::FileRow {
                        size: r.get(0)?,
                        media_type: r.get(1)?,
                        received: r.get(2)?,
                        complete: r.get::<_, i64>(3)? != 0,
                        created_at: r.get(4)?,
                        created_by: r.get(5)?,
                    })
                },
            )
            .optional()?)
    }

    fn insert_file_row(
        &self,
        case: &[u8],
        file: &[u8],
        row: &super::attachments::FileRow,
    ) -> Result<(), StorageError> {
        self.lock().run(
            "INSERT INTO attachments (case_id, file, size, media_type, received, complete,
                created_at, created_by)
             VALUES (?1, ?2, ?3, ?4, 0, 0, ?5, ?6) ON CONFLICT DO NOTHING",
            params![
                case,
                file,
                row.size,
                row.media_type,
                row.created_at,
                row.created_by
            ],
        )?;
        Ok(())
    }

    fn put_chunk_row(
        &self,
        case: &[u8],
        file: &[u8],
        seq: i64,
        sealed: &[u8],
    ) -> Result<(), StorageError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let counted = tx.execute(
            "UPDATE attachments SET received = received + 1
             WHERE case_id = ?1 AND file = ?2 AND received = ?3",
            params![case, file, seq],
        )?;
        if counted == 1 {
            tx.execute(
                "INSERT INTO attachment_chunks (case_id, file, seq, data) VALUES (?1, ?2, ?3, ?4)",
                params![case, file, seq, sealed],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn chunk_row(
        &self,
        case: &[u8],
        file: &[u8],
        seq: i64,
    ) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self
            .lock()
            .one(
                "SELECT data FROM attachment_chunks WHERE case_id = ?1 AND file = ?2 AND seq = ?3",
                params![case, file, seq],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn complete_file_row(&self, case: &[u8], file: &[u8]) -> Result<(), StorageError> {
        self.lock().run(
            "UPDATE attachments SET complete = 1 WHERE case_id = ?1 AND file = ?2",
            params![case, file],
        )?;
        Ok(())
    }

    fn delete_file_rows(&self, case: &[u8], file: &[u8]) -> Result<(), StorageError> {
        self.lock().run(
            "DELETE FROM attachments WHERE case_id = ?1 AND file = ?2",
            params![case, file],
        )?;
        Ok(())
    }
}

fn match_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<super::matches::StoredColumns> {
    Ok(super::matches::StoredColumns {
        id: r.get(0)?,
        a: r.get(1)?,
        b: r.get(2)?,
        score: r.get(3)?,
        band: r.get(4)?,
        reasons: r.get(5)?,
        status: r.get(6)?,
        found_for: r.get(7)?,
        found_at: r.get(8)?,
        decided_by: r.get(9)?,
        decided_at: r.get(10)?,
    })
}

impl super::matches::MatchRows for SqliteDb {
    fn insert_match_row(&self, m: &super::matches::MatchRow) -> Result<bool, StorageError> {
        let n = self.lock().run(
            "INSERT INTO case_matches (case_a, case_b, score, band, reasons, status, found_for,
                found_at, id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (case_a, case_b) DO NOTHING",
            params![
                m.a.as_bytes().as_slice(),
                m.b.as_bytes().as_slice(),
                m.score,
                m.band_code(),
                m.reasons_json(),
                m.status.code(),
                m.found_for.as_bytes().as_slice(),
                m.found_at,
                m.id
            ],
        )?;
        Ok(n == 1)
    }

    fn match_rows_of_case(
        &self,
        case: &[u8],
        limit: usize,
    ) -> Result<Vec<super::matches::MatchRow>, StorageError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {} FROM case_matches WHERE case_a = ?1 OR case_b = ?1
             ORDER BY score DESC, found_at, case_a, case_b LIMIT ?2",
            super::matches::MATCH_COLUMNS
        ))?;
        let rows = stmt
            .query_map(params![case, limit as i64], match_of)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(|r| r.row()).collect()
    }

    fn open_match_rows(&self, limit: usize) -> Result<Vec<super::matches::MatchRow>, StorageError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {} FROM case_matches WHERE status = 'open'
             ORDER BY found_at DESC, case_a, case_b LIMIT ?1",
            super::matches::MATCH_COLUMNS
        ))?;
        let rows = stmt
            .query_map(params![limit as i64], match_of)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(|r| r.row()).collect()
    }

    fn decide_match_row(
        &self,
        a: &[u8],
        b: &[u8],
        status: &str,
        by: &str,
        now: i64,
    ) -> Result<bool, StorageError> {
        let n = self.lock().run(
            "UPDATE case_matches SET status = ?3, decided_by = ?4, decided_at = ?5
             WHERE case_a = ?1 AND case_b = ?2 AND status = 'open'",
            params![a, b, status, by, now],
        )?;
        Ok(n == 1)
    }
}

impl super::links::LinkRows for SqliteDb {
    fn insert_link_row(
        &self,
        l: &super::links::ReferralLink,
        token_hash: &[u8],
    ) -> Result<(), StorageError> {
        self.lock().run(
            "INSERT INTO referral_links (id, token_hash, case_id, referral_id, partner_user,
                language, created_by, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                l.id,
                token_hash,
                l.case_id.as_bytes().as_slice(),
                l.referral_id,
                l.partner_user,
                l.language,
                l.created_by,
                l.created_at,
                l.expires_at
            ],
        )?;
        Ok(())
    }

    fn link_row_by_hash(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<super::links::ReferralLink>, StorageError> {
        Ok(self
            .lock()
            .one(
                &format!("SELECT {LINK_COLUMNS} FROM referral_links WHERE token_hash = ?1"),
                [token_hash],
                link_of,
            )
            .optional()?)
    }

    fn link_rows_of_case(
        &self,
        case: &[u8],
    ) -> Result<Vec<super::links::ReferralLink>, StorageError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {LINK_COLUMNS} FROM referral_links WHERE case_id = ?1
             ORDER BY created_at DESC, id"
        ))?;
        let rows = stmt.query_map([case], link_of)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn revoke_link_row(&self, id: &str, by: &str, now: i64) -> Result<bool, StorageError> {
        let n = self.lock().run(
            "UPDATE referral_links SET revoked_at = ?3, revoked_by = ?2
             WHERE id = ?1 AND revoked_at IS NULL",
            params![id, by, now],
        )?;
        Ok(n == 1)
    }
}

impl UserRows for SqliteDb {
    fn update_role_team(
        &self,
        username: &str,
        role: Role,
        team: Option<&str>,
    ) -> Result<RoleTeamUpdate, StorageError> {
        let conn = self.lock();
        let Some(team_id) = team_key(&conn, team)? else {
            return Ok(RoleTeamUpdate::NoSuchTeam);
        };
        let n = conn.run(
            "UPDATE users SET role = ?2, team_id = ?3 WHERE username = ?1",
            params![username, role.code(), team_id],
        )?;
        Ok(if n == 0 {
            RoleTeamUpdate::NoSuchUser
        } else {
            RoleTeamUpdate::Updated
        })
    }

    fn disable_user_rows(&self, username: &str) -> Result<bool, StorageError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let id: Option<String> = tx
            .one(
                "SELECT id FROM users WHERE username = ?1",
                [username],
                |r| r.get(0),
            )
            .optional()?;
        let Some(id) = id else {
            return Ok(false);
        };
        tx.run("UPDATE users SET disabled = 1 WHERE id = ?1", [&id])?;
        tx.run("UPDATE devices SET disabled = 1 WHERE user_id = ?1", [&id])?;
        tx.run("UPDATE sessions SET revoked = 1 WHERE user_id = ?1", [&id])?;
        tx.commit()?;
        Ok(true)
    }

    fn enable_user_row(&self, username: &str) -> Result<bool, StorageError> {
        let n = self.lock().run(
            "UPDATE users SET disabled = 0 WHERE username = ?1",
            [username],
        )?;
        Ok(n > 0)
    }

    fn device_rows(&self, user_id: &str, now: i64) -> Result<Vec<DeviceRow>, StorageError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT d.id, d.user_id, d.name, d.created_at, d.disabled,
                    (SELECT max(last_used) FROM sessions s WHERE s.device_id = d.id),
                    (SELECT count(*) FROM sessions s WHERE s.device_id = d.id
                       AND s.revoked = 0 AND s.expires_at > ?2),
                    d.unsynced_cases, d.unsynced_done, d.unsynced_at, d.app_version
             FROM devices d WHERE d.user_id = ?1 ORDER BY d.created_at",
        )?;
        let rows = stmt.query_map(params![user_id, now], |r| {
            Ok(DeviceRow {
                device: device_row(r)?,
                last_seen: r.get(5)?,
                open_sessions: r.get(6)?,
                unsynced: (
                    r.get(7)?,
                    r.get::<_, Option<i64>>(8)?.map(|d| d != 0),
                    r.get(9)?,
                ),
                app_version: r.get(10)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn revoke_device_rows(&self, device_id: &str) -> Result<bool, StorageError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        if tx.run("UPDATE devices SET disabled = 1 WHERE id = ?1", [device_id])? == 0 {
            return Ok(false);
        }
        tx.run(
            "UPDATE sessions SET revoked = 1 WHERE device_id = ?1",
            [device_id],
        )?;
        tx.commit()?;
        Ok(true)
    }

    fn update_status(
        &self,
        device_id: &str,
        (cases, done, at): (i64, bool, i64),
        app_version: Option<&str>,
    ) -> Result<(), StorageError> {
        self.lock().run(
            "UPDATE devices SET unsynced_cases = ?2, unsynced_done = ?3, unsynced_at = ?4,
                    app_version = coalesce(?5, app_version)
             WHERE id = ?1",
            params![device_id, cases, i64::from(done), at, app_version],
        )?;
        Ok(())
    }
}

impl RecordRows for SqliteDb {
    fn insert_audit(
        &self,
        at: i64,
        user_id: &str,
        device: &str,
        cases: &[&[u8]],
        action: &str,
    ) -> Result<(), StorageError> {
        // Through the group commit: the entries are durable when this returns, and reads
        // recorded at once share one flush to disk.
        self.commit(Job::Audit(AuditEntries::new(
            at, user_id, device, cases, action,
        )))
        .map(|_| ())
    }

    fn audit_rows(&self, case: Option<&[u8]>, limit: i64) -> Result<Vec<AuditRow>, StorageError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT at, user_id, device, case_id, action FROM audit
             WHERE ?1 IS NULL OR case_id = ?1 ORDER BY at DESC, id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![case, limit], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn audit_chain_rows(&self, after: i64, limit: i64) -> Result<Vec<ChainRow>, StorageError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT id, at, user_id, device, case_id, action, hash FROM audit
             WHERE id > ?1 ORDER BY id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![after, limit], |r| {
            Ok(ChainRow {
                id: r.get(0)?,
                at: r.get(1)?,
                user_id: r.get(2)?,
                device: r.get(3)?,
                case: r.get(4)?,
                action: r.get(5)?,
                hash: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn insert_admin_entry(&self, e: &AdminEntry) -> Result<(), StorageError> {
        self.lock().run(
            "INSERT INTO admin_log (at, by, action, target) VALUES (?1, ?2, ?3, ?4)",
            params![e.at, e.by, e.action, e.target],
        )?;
        Ok(())
    }

    fn admin_rows(&self, limit: i64) -> Result<Vec<AdminEntry>, StorageError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT at, by, action, target FROM admin_log ORDER BY at DESC, id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |r| {
            Ok(AdminEntry {
                at: r.get(0)?,
                by: r.get(1)?,
                action: r.get(2)?,
                target: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn departure_row(&self, case: &[u8], device: &str) -> Result<bool, StorageError> {
        Ok(self
            .lock()
            .one(
                "SELECT 1 FROM departures WHERE case_id = ?1 AND device_id = ?2",
                params![case, device],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    fn insert_departure(
        &self,
        case: &[u8],
        device: &str,
        changes: i64,
        at: i64,
    ) -> Result<bool, StorageError> {
        let n = self.lock().run(
            "INSERT INTO departures (case_id, device_id, at, changes) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT DO NOTHING",
            params![case, device, at, changes],
        )?;
        Ok(n == 1)
    }

    fn delete_departure(&self, case: &[u8], device: &str) -> Result<(), StorageError> {
        self.lock().run(
            "DELETE FROM departures WHERE case_id = ?1 AND device_id = ?2",
            params![case, device],
        )?;
        Ok(())
    }

    fn assignment_end_row(&self, case: &[u8], user_id: &str) -> Result<Option<i64>, StorageError> {
        Ok(self
            .lock()
            .one(
                "SELECT at FROM assignment_ends WHERE case_id = ?1 AND user_id = ?2",
                params![case, user_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn throttle_row(&self, key: &str) -> Result<Option<Window>, StorageError> {
        Ok(self
            .lock()
            .one(
                "SELECT count, window_start FROM throttles WHERE key = ?1",
                [key],
                |r| {
                    Ok(Window {
                        count: r.get(0)?,
                        start: r.get(1)?,
                    })
                },
            )
            .optional()?)
    }

    fn change_throttle(
        &self,
        key: &str,
        forget_before: Option<i64>,
        change: WindowChange,
    ) -> Result<Option<Window>, StorageError> {
        let mut conn = self.lock();
        // IMMEDIATE: the write lock from the start (another process, the CLI, waits).
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if let Some(before) = forget_before {
            // Windows long past are forgotten (the table holds one row per key).
            tx.run("DELETE FROM throttles WHERE window_start < ?1", [before])?;
        }
        let current = tx
            .one(
                "SELECT count, window_start FROM throttles WHERE key = ?1",
                [key],
                |r| {
                    Ok(Window {
                        count: r.get(0)?,
                        start: r.get(1)?,
                    })
                },
            )
            .optional()?;
        let next = change(current);
        if let Some(w) = next {
            tx.run(
                "INSERT INTO throttles (key, count, window_start) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key) DO UPDATE SET count = excluded.count,
                   window_start = excluded.window_start",
                params![key, w.count, w.start],
            )?;
        }
        tx.commit()?;
        Ok(next.or(current))
    }

    fn delete_throttle(&self, key: &str) -> Result<(), StorageError> {
        self.lock()
            .run("DELETE FROM throttles WHERE key = ?1", [key])?;
        Ok(())
    }
}

impl super::areas::AreaRows for SqliteDb {
    fn area_rows(&self) -> Result<Vec<super::areas::Area>, StorageError> {
        let conn = self.lock();
        let mut stmt = conn.prepare("SELECT code, name FROM areas ORDER BY code")?;
        let rows = stmt.query_map([], |r| {
            Ok(super::areas::Area {
                code: r.get(0)?,
                name: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn put_area_row(
        &self,
        area: &super::areas::Area,
        max: usize,
        now: i64,
    ) -> Result<super::areas::AreaWrite, StorageError> {
        use super::areas::AreaWrite;
        let conn = self.lock();
        let tx = conn.unchecked_transaction()?;
        let renamed = tx.run(
            "UPDATE areas SET name = ?2, updated_at = ?3 WHERE code = ?1",
            params![area.code, area.name, now],
        )?;
        if renamed > 0 {
            tx.commit()?;
            return Ok(AreaWrite::Renamed);
        }
        let count: i64 = tx.one("SELECT count(*) FROM areas", [], |r| r.get(0))?;
        if count as usize >= max {
            return Ok(AreaWrite::Full);
        }
        tx.run(
            "INSERT INTO areas (code, name, updated_at) VALUES (?1, ?2, ?3)",
            params![area.code, area.name, now],
        )?;
        tx.commit()?;
        Ok(AreaWrite::Added)
    }
}

impl AccountRows for SqliteDb {
    fn insert_team(&self, name: &str, now: i64) -> Result<Option<Team>, StorageError> {
        let conn = self.lock();
        let n = conn.run(
            "INSERT INTO teams (name, created_at) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
            params![name, now],
        )?;
        Ok((n > 0).then(|| Team {
            id: conn.last_insert_rowid(),
            name: name.to_string(),
            label: None,
        }))
    }

    fn update_team_label(&self, name: &str, label: &str) -> Result<bool, StorageError> {
        let conn = self.lock();
        let n = conn.run(
            "UPDATE teams SET label = CASE WHEN ?2 = name THEN NULL ELSE ?2 END WHERE name = ?1",
            params![name, label],
        )?;
        Ok(n > 0)
    }

    fn team_rows(&self) -> Result<Vec<Team>, StorageError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached("SELECT id, name, label FROM teams ORDER BY name")?;
        let rows = stmt.query_map([], |r| {
            Ok(Team {
                id: r.get(0)?,
                name: r.get(1)?,
                label: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn insert_user(&self, row: &NewUserRow<'_>) -> Result<UserInsert, StorageError> {
        let conn = self.lock();
        let Some(team_id) = team_key(&conn, row.team)? else {
            return Ok(UserInsert::NoSuchTeam);
        };
        let n = conn.run(
            "INSERT INTO users (id, username, display_name, role, team_id, pw_hash, pw_salt, pw_iterations, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (username) DO NOTHING",
            params![
                row.id,
                row.username,
                row.display_name,
                row.role.code(),
                team_id,
                row.hash.hash,
                row.hash.salt,
                row.hash.iterations,
                row.now
            ],
        )?;
        if n == 0 {
            return Ok(UserInsert::Taken);
        }
        let user = conn.one(USER_BY_NAME, [row.username], Self::user_row)?;
        Ok(UserInsert::Inserted(user))
    }

    fn replace_password_ending_sessions(
        &self,
        username: &str,
        h: &PasswordHash,
    ) -> Result<bool, StorageError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let n = tx.run(
            "UPDATE users SET pw_hash = ?2, pw_salt = ?3, pw_iterations = ?4 WHERE username = ?1",
            params![username, h.hash, h.salt, h.iterations],
        )?;
        if n == 0 {
            return Ok(false);
        }
        tx.run(
            "UPDATE sessions SET revoked = 1 WHERE user_id = (SELECT id FROM users WHERE username = ?1)",
            [username],
        )?;
        tx.commit()?;
        Ok(true)
    }

    fn password_row(&self, username: &str) -> Result<Option<PasswordRow>, StorageError> {
        let conn = self.lock();
        Ok(conn
            .one(
                "SELECT pw_hash, pw_salt, pw_iterations, disabled FROM users WHERE username = ?1",
                [username],
                |r| {
                    Ok(PasswordRow {
                        hash: PasswordHash {
                            hash: r.get(0)?,
                            salt: r.get(1)?,
                            iterations: r.get(2)?,
                        },
                        disabled: r.get::<_, i64>(3)? != 0,
                    })
                },
            )
            .optional()?)
    }

    fn replace_password_hash(&self, username: &str, h: &PasswordHash) -> Result<(), StorageError> {
        self.lock().run(
            "UPDATE users SET pw_hash = ?2, pw_salt = ?3, pw_iterations = ?4 WHERE username = ?1",
            params![username, h.hash, h.salt, h.iterations],
        )?;
        Ok(())
    }

    fn user_row(&self, username: &str) -> Result<Option<User>, StorageError> {
        let conn = self.lock();
        Ok(conn
            .one(USER_BY_NAME, [username], Self::user_row)
            .optional()?)
    }

    fn session_row(&self, token_hash: &[u8]) -> Result<Option<SessionRow>, StorageError> {
        let conn = self.lock();
        Ok(conn
            .one(SESSION_ROW, [token_hash], |r| {
                Ok(SessionRow {
                    user: Self::user_row(r)?,
                    device_id: r.get(6)?,
                    expires_at: r.get(7)?,
                    last_used: r.get(8)?,
                    revoked: r.get::<_, i64>(9)? != 0,
                    device_disabled: r.get::<_, i64>(10)? != 0,
                })
            })
            .optional()?)
    }

    fn touch_session(&self, token_hash: &[u8], now: i64) -> Result<(), StorageError> {
        self.lock().run(
            "UPDATE sessions SET last_used = ?2 WHERE token_hash = ?1",
            params![token_hash, now],
        )?;
        Ok(())
    }

    fn register_rows(
        &self,
        user_id: &str,
        device: Option<&str>,
        name: &str,
        actor: &str,
        now: i64,
    ) -> Result<Registration, StorageError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let device = match device {
            Some(d) => {
                let row: Option<(String, i64)> = tx
                    .one(
                        "SELECT user_id, disabled FROM devices WHERE id = ?1",
                        [d],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?;
                match row {
                    Some((owner, 0)) if owner == user_id => d.to_string(),
                    Some((owner, _)) if owner == user_id => {
                        return Ok(Registration::DisabledDevice)
                    }
                    _ => return Ok(Registration::UnknownDevice),
                }
            }
            None => {
                let id = auth::new_id("d-");
                tx.run(
                    "INSERT INTO devices (id, user_id, name, created_at) VALUES (?1, ?2, ?3, ?4)",
                    params![id, user_id, name, now],
                )?;
                id
            }
        };
        let bound: Option<String> = tx
            .one(
                "SELECT device_id FROM actors WHERE actor = ?1",
                [actor],
                |r| r.get(0),
            )
            .optional()?;
        match bound {
            Some(d) if d != device => return Ok(Registration::ActorElsewhere),
            Some(_) => {}
            None => {
                tx.run(
                    "INSERT INTO actors (actor, device_id, registered_at) VALUES (?1, ?2, ?3)",
                    params![actor, device, now],
                )?;
            }
        }
        tx.commit()?;
        Ok(Registration::Registered(device))
    }

    fn insert_session(
        &self,
        token_hash: &[u8],
        user_id: &str,
        device_id: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StorageError> {
        self.lock().run(
            "INSERT INTO sessions (token_hash, user_id, device_id, created_at, last_used, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
            params![token_hash, user_id, device_id, now, expires_at],
        )?;
        Ok(())
    }

    fn revoke_session_row(&self, token_hash: &[u8]) -> Result<(), StorageError> {
        self.lock().run(
            "UPDATE sessions SET revoked = 1 WHERE token_hash = ?1",
            [token_hash],
        )?;
        Ok(())
    }

    fn device_named(&self, user_id: &str, name: &str) -> Result<Option<String>, StorageError> {
        Ok(self
            .lock()
            .one(
                "SELECT id FROM devices WHERE user_id = ?1 AND name = ?2 AND disabled = 0
                 ORDER BY created_at LIMIT 1",
                params![user_id, name],
                |r| r.get(0),
            )
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A statement run again with another value is not planned again (the plan kept
    /// whatever is bound: `SQLITE_DBCONFIG_ENABLE_QPSG`); the answers follow the values.
    #[test]
    fn a_statement_bound_to_new_values_is_not_planned_again() {
        let dir = tempfile::tempdir().unwrap();
        let db = SqliteDb::open(dir.path().join("s.sqlite")).unwrap();
        {
            let conn = db.lock();
            conn.execute_batch(
                "INSERT INTO teams (id, name, created_at) VALUES (1, 'north', 0), (2, 'south', 0);
                 INSERT INTO users (id, username, display_name, role, team_id, pw_hash, pw_salt,
                                    pw_iterations, created_at)
                 VALUES ('u-anna', 'anna', 'Anna', 'worker', 1, x'00', x'00', 1, 0),
                        ('u-boris', 'boris', 'Boris', 'supervisor', 2, x'00', x'00', 1, 0);",
            )
            .unwrap();
        }
        for _ in 0..3 {
            for (id, team) in [("u-anna", "north"), ("u-boris", "south")] {
                let user = db.user_by_id(id).unwrap().unwrap();
                assert_eq!((user.id.as_str(), user.team.as_deref()), (id, Some(team)));
            }
        }
        assert!(db.user_by_id("u-nobody").unwrap().is_none());
        let conn = db.lock();
        let stmt = conn.prepare_cached(USER_BY_ID).unwrap();
        assert_eq!(stmt.get_status(rusqlite::StatementStatus::Run), 7);
        assert_eq!(
            stmt.get_status(rusqlite::StatementStatus::RePrepare),
            0,
            "planned again for a new value"
        );
    }

    /// The closed cases are read through their partial index with plans made once.
    #[test]
    fn the_closed_cases_are_read_through_their_partial_index() {
        let dir = tempfile::tempdir().unwrap();
        let db = SqliteDb::open(dir.path().join("s.sqlite")).unwrap();
        let conn = db.lock();
        let plan: Vec<String> = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {CLOSED_CASES}"))
            .unwrap()
            .query_map([0], |r| r.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(plan.iter().any(|p| p.contains("cases_closed")), "{plan:?}");
    }
}
