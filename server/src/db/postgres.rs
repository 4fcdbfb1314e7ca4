//! [`Db`] on PostgreSQL, for several server instances sharing one database (behind a load
//! balancer). Versioned migrations in the table `fieldcase_schema`, applied under an
//! advisory lock so that instances starting together migrate once.
//!
//! The client is the synchronous `postgres` crate. It drives its connection on a tokio
//! runtime of its own and panics when called from a thread that is running async tasks, so
//! every statement runs on threads this storage owns (one per pooled connection): the
//! caller hands over a job and waits for its answer. Any caller works that way, the
//! server's `spawn_blocking` threads, the CLI and async handlers alike (the latter wait as
//! they would for a SQLite write).
//!
//! Several instances: a case write takes the case's row lock (`SELECT ... FOR UPDATE`)
//! before comparing heads, so compare-and-swap holds across instances; a new case is
//! inserted only if nobody inserted it meanwhile. A login throttle's key is held by an
//! advisory transaction lock while its window changes, so events on several instances
//! are each counted. Every case write also counts itself under
//! this instance's writer id (`case_writers`); [`Db::external_version`] is the sum of the
//! other writers' counts, so it moves exactly when another process wrote a case.
//!
//! The data keys (wrapped by the master key), the key check and the tombstones are kept
//! in a second database, the keys database (`postgres.keys_url`, ADR 0007), so that a dump
//! of the data database holds no key: a new case's key is stored there before the case, an
//! erasure deletes it there before the case's rows, and at the start the two are joined
//! ([`PostgresDb::connect_apart`]). Each pooled worker holds a connection to each.
//!
//! Connections are made without TLS (a database on the same host or a private network);
//! a URL that asks for `sslmode=require` is refused by the client.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, RwLock};

use automerge::ChangeHash;
use postgres::NoTls;

use super::pg_statements::{Pg, PgTx};

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

/// Connections (and worker threads) per server instance.
const POOL_SIZE: usize = 4;

/// Held (per transaction) while migrating: one instance migrates, the others wait.
const MIGRATION_LOCK: i64 = 0x6669_656c_6463_6173; // "fieldcas"

const MIGRATIONS: &[&str] = &[
    // 1: accounts, devices, sessions, case documents (snapshot plus changes), audit,
    // per-user settings: the schema of the SQLite storage's migrations 1 to 4.
    "CREATE TABLE teams (
        id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name       TEXT NOT NULL UNIQUE,
        created_at BIGINT NOT NULL
    );
    CREATE TABLE users (
        id            TEXT PRIMARY KEY,
        username      TEXT NOT NULL UNIQUE,
        display_name  TEXT NOT NULL,
        role          TEXT NOT NULL CHECK (role IN ('worker', 'supervisor', 'admin')),
        team_id       BIGINT REFERENCES teams(id),
        pw_hash       BYTEA NOT NULL,
        pw_salt       BYTEA NOT NULL,
        pw_iterations BIGINT NOT NULL,
        disabled      BOOLEAN NOT NULL DEFAULT false,
        created_at    BIGINT NOT NULL
    );
    CREATE TABLE devices (
        id         TEXT PRIMARY KEY,
        user_id    TEXT NOT NULL REFERENCES users(id),
        name       TEXT NOT NULL,
        disabled   BOOLEAN NOT NULL DEFAULT false,
        created_at BIGINT NOT NULL
    );
    CREATE INDEX devices_by_user ON devices(user_id);
    CREATE TABLE actors (
        actor         TEXT PRIMARY KEY,
        device_id     TEXT NOT NULL REFERENCES devices(id),
        registered_at BIGINT NOT NULL
    );
    CREATE TABLE sessions (
        token_hash BYTEA PRIMARY KEY,
        user_id    TEXT NOT NULL REFERENCES users(id),
        device_id  TEXT NOT NULL REFERENCES devices(id),
        created_at BIGINT NOT NULL,
        last_used  BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        revoked    BOOLEAN NOT NULL DEFAULT false
    );
    CREATE INDEX sessions_by_user ON sessions(user_id);
    CREATE TABLE cases (
        id         BYTEA PRIMARY KEY,
        team       TEXT NOT NULL,
        restricted BOOLEAN NOT NULL,
        document   BYTEA NOT NULL,
        heads      BYTEA NOT NULL,
        updated_at BIGINT NOT NULL
    );
    CREATE TABLE case_assignments (
        case_id  BYTEA NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        user_id  TEXT NOT NULL,
        position INTEGER NOT NULL,
        PRIMARY KEY (case_id, user_id)
    );
    CREATE TABLE case_changes (
        case_id BYTEA NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        seq     BIGINT NOT NULL,
        bytes   BYTEA NOT NULL,
        PRIMARY KEY (case_id, seq)
    );
    CREATE TABLE case_writers (
        writer     TEXT PRIMARY KEY,
        writes     BIGINT NOT NULL,
        started_at BIGINT NOT NULL
    );
    CREATE TABLE audit (
        id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at      BIGINT NOT NULL,
        user_id TEXT NOT NULL,
        case_id BYTEA NOT NULL,
        action  TEXT NOT NULL
    );
    CREATE INDEX audit_by_case ON audit(case_id, at);
    CREATE TABLE user_settings (
        user_id  TEXT PRIMARY KEY REFERENCES users(id),
        language TEXT NOT NULL
    );",
    // 2: departures, changes whose own time is far from their receipt, login throttles
    // (the SQLite storage's migration 5).
    "CREATE TABLE departures (
        case_id   BYTEA NOT NULL,
        device_id TEXT NOT NULL,
        at        BIGINT NOT NULL,
        changes   BIGINT NOT NULL,
        PRIMARY KEY (case_id, device_id)
    );
    CREATE TABLE change_times (
        case_id  BYTEA NOT NULL,
        change   BYTEA NOT NULL,
        claimed  BIGINT NOT NULL,
        received BIGINT NOT NULL,
        PRIMARY KEY (case_id, change)
    );
    CREATE TABLE throttles (
        key          TEXT PRIMARY KEY,
        count        BIGINT NOT NULL,
        window_start BIGINT NOT NULL
    );
    CREATE INDEX throttles_by_start ON throttles(window_start);
    CREATE TABLE assignment_ends (
        case_id BYTEA NOT NULL,
        user_id TEXT NOT NULL,
        at      BIGINT NOT NULL,
        PRIMARY KEY (case_id, user_id)
    );",
    // 3: administrative actions (the SQLite storage's migration 6).
    "CREATE TABLE admin_log (
        id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at     BIGINT NOT NULL,
        by     TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL
    );",
    // 5: what a renamed team is called now (its name stays the key).
    "ALTER TABLE teams ADD COLUMN label TEXT;",
    // 6: what each device said of its unsynced work at its last sync.
    "ALTER TABLE devices ADD COLUMN unsynced_cases BIGINT;
     ALTER TABLE devices ADD COLUMN unsynced_done BOOLEAN;
     ALTER TABLE devices ADD COLUMN unsynced_at BIGINT;
     ALTER TABLE devices ADD COLUMN app_version TEXT;",
    // Schema version 6, encryption at rest (issue 18; the SQLite storage's migration 9): each case's data
    // key, wrapped by the master key, and the check that tells whether a master key is
    // this database's.
    "ALTER TABLE cases ADD COLUMN data_key BYTEA;
     CREATE TABLE key_check (
        id     INTEGER PRIMARY KEY CHECK (id = 1),
        sealed BYTEA NOT NULL
     );",
    // Schema version 7, the partner directory (issue 16; the SQLite storage's migration
    // 10): one versioned snapshot, sealed under a data key of its own (`db::directory`).
    "CREATE TABLE directory (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        version    BIGINT NOT NULL,
        data_key   BYTEA NOT NULL,
        data       BYTEA NOT NULL,
        updated_at BIGINT NOT NULL,
        updated_by TEXT NOT NULL
     );",
    // Schema version 8, every read on the record (issue 18; the SQLite storage's migration
    // 11): the device of each audit entry, and its link in the chain (NULL for entries
    // written before).
    "ALTER TABLE audit ADD COLUMN device TEXT NOT NULL DEFAULT '';
     ALTER TABLE audit ADD COLUMN hash BYTEA;",
    // Schema version 9, links through which a partner answers one referral (issue 16, ADR
    // 0006; the SQLite storage's migration 12).
    "CREATE TABLE referral_links (
        id           TEXT PRIMARY KEY,
        token_hash   BYTEA NOT NULL UNIQUE,
        case_id      BYTEA NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        referral_id  TEXT NOT NULL,
        partner_user TEXT NOT NULL REFERENCES users(id),
        language     TEXT NOT NULL,
        created_by   TEXT NOT NULL,
        created_at   BIGINT NOT NULL,
        expires_at   BIGINT NOT NULL,
        revoked_at   BIGINT,
        revoked_by   TEXT
     );
     CREATE INDEX referral_links_case ON referral_links (case_id);",
    // Schema version 10, the caseload from indexes (issue 20; the SQLite storage's
    // migration 13): cases by team, assignments by user.
    "CREATE INDEX IF NOT EXISTS cases_by_team ON cases (team);
     CREATE INDEX IF NOT EXISTS case_assignments_by_user ON case_assignments (user_id);",
    // Schema version 11, attachments (issue 17; the SQLite storage's migration 14).
    "CREATE TABLE attachments (
        case_id    BYTEA NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        file       BYTEA NOT NULL,
        size       BIGINT NOT NULL,
        media_type TEXT NOT NULL,
        received   BIGINT NOT NULL,
        complete   BOOLEAN NOT NULL,
        created_at BIGINT NOT NULL,
        created_by TEXT NOT NULL,
        PRIMARY KEY (case_id, file)
     );
     CREATE TABLE attachment_chunks (
        case_id BYTEA NOT NULL,
        file    BYTEA NOT NULL,
        seq     BIGINT NOT NULL,
        data    BYTEA NOT NULL,
        PRIMARY KEY (case_id, file, seq),
        FOREIGN KEY (case_id, file) REFERENCES attachments (case_id, file) ON DELETE CASCADE
     );",
    // Schema version 12, erasure by destroying a case's data key (issue 18, ADR 0007; the
    // SQLite storage's migration 15): what stays of an erased case, no content, and
    // supervisors' requests for an erasure.
    "CREATE TABLE erased_cases (
        id        BYTEA PRIMARY KEY,
        team      TEXT NOT NULL,
        erased_at BIGINT NOT NULL,
        erased_by TEXT NOT NULL,
        reason    TEXT NOT NULL
     );
     CREATE TABLE erasure_requests (
        id           TEXT PRIMARY KEY,
        case_id      BYTEA NOT NULL,
        team         TEXT NOT NULL,
        requested_by TEXT NOT NULL,
        requested_at BIGINT NOT NULL,
        reason       TEXT NOT NULL,
        decided_by   TEXT,
        decided_at   BIGINT,
        decision     TEXT CHECK (decision IN ('erased', 'refused'))
     );
     CREATE UNIQUE INDEX erasure_requests_open ON erasure_requests (case_id)
        WHERE decision IS NULL;",
    // Schema version 13, possible duplicates across the agency (issue 19, `db::matches`;
    // the SQLite storage's migration 16).
    "CREATE TABLE case_matches (
        id         TEXT NOT NULL UNIQUE,
        case_a     BYTEA NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        case_b     BYTEA NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        score      BIGINT NOT NULL,
        band       TEXT NOT NULL,
        reasons    TEXT NOT NULL,
        status     TEXT NOT NULL,
        found_for  BYTEA NOT NULL,
        found_at   BIGINT NOT NULL,
        decided_by TEXT,
        decided_at BIGINT,
        PRIMARY KEY (case_a, case_b)
     );
     CREATE INDEX case_matches_b ON case_matches (case_b);
     CREATE INDEX case_matches_open ON case_matches (status, found_at);",
    // Schema version 14: the time zone a user chose for the console (issue 21; the SQLite
    // storage's migration 17).
    "CREATE TABLE user_time_zones (
        user_id   TEXT PRIMARY KEY REFERENCES users(id),
        time_zone TEXT NOT NULL
     );",
    // Schema version 15: an admin's decision to keep a closed case past its team's
    // retention (issue 18; the SQLite storage's migration 18).
    "CREATE TABLE retention_holds (
        case_id BYTEA PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
        until   BIGINT NOT NULL,
        by      TEXT NOT NULL,
        reason  TEXT NOT NULL,
        at      BIGINT NOT NULL
     );",
    // Schema version 16: what the retention needs of a case, beside it (issue 18; the
    // SQLite storage's migration 19): whether it is closed and when its closure in force
    // was approved, written by every case write. NULL: written before this step;
    // `cases::fill_derived` opens each such case once, at the start after it.
    "ALTER TABLE cases ADD COLUMN closed BOOLEAN;
     ALTER TABLE cases ADD COLUMN closed_at BIGINT;
     CREATE INDEX cases_closed ON cases (closed_at) WHERE closed;",
    // Schema version 17: the data keys kept in the keys database (ADR 0007), apart from
    // this database's dumps. The mark says they were moved there (`move_keys`, at the
    // first start after this step): from then on `cases.data_key` stays empty.
    "CREATE TABLE keys_moved (
        id       INTEGER PRIMARY KEY CHECK (id = 1),
        moved_at BIGINT NOT NULL
     );",
    // Schema version 18: links between cases (issue 19; the SQLite storage's migration
    // 20): the cases each case links to, so that a linked case finds who links to it.
    // Cases stored before are read once at the next start (`cases::fill_derived`).
    "CREATE TABLE case_links (
        case_id BYTEA NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        linked  BYTEA NOT NULL,
        PRIMARY KEY (case_id, linked)
     );
     CREATE INDEX case_links_to ON case_links (linked);
     CREATE TABLE case_links_unfilled (id INTEGER PRIMARY KEY CHECK (id = 1));
     INSERT INTO case_links_unfilled (id) SELECT 1 WHERE EXISTS (SELECT 1 FROM cases);",
    // Schema version 19: the cases written since a time (issue 19; the SQLite storage's
    // migration 21): the duplicate check's look at what other instances stored.
    "CREATE INDEX IF NOT EXISTS cases_by_update ON cases (updated_at);",
    // Schema version 20: what the duplicate check keeps of each case (issue 20; the SQLite
    // storage's migration 22), sealed with the case's data key. Cases stored before are
    // read once at the next start (`cases::fill_derived`).
    "CREATE TABLE case_match_facts (
        case_id BYTEA PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
        facts   BYTEA NOT NULL
     );
     CREATE TABLE case_match_facts_unfilled (id INTEGER PRIMARY KEY CHECK (id = 1));
     INSERT INTO case_match_facts_unfilled (id) SELECT 1 WHERE EXISTS (SELECT 1 FROM cases);",
    // Schema version 21: the agency's areas (issue 21; the SQLite storage's migration 23):
    // a case's client holds the code.
    "CREATE TABLE areas (
        code       TEXT PRIMARY KEY,
        name       TEXT NOT NULL,
        updated_at BIGINT NOT NULL
     );",
    // Schema version 22: what the console's lists keep of each case (issue 20; the SQLite
    // storage's migration 24), sealed with the case's data key. Cases stored before are
    // read once at the next start (`cases::fill_derived`).
    "CREATE TABLE case_list_facts (
        case_id BYTEA PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
        facts   BYTEA NOT NULL
     );
     CREATE TABLE case_list_facts_unfilled (id INTEGER PRIMARY KEY CHECK (id = 1));
     INSERT INTO case_list_facts_unfilled (id) SELECT 1 WHERE EXISTS (SELECT 1 FROM cases);",
    // Schema version 23: what is kept beside each case in one record in the case's own row
    // (issue 20; the SQLite storage's migration 26), not in two tables. The records were
    // sealed apart: cases stored before are read once at the next start
    // (`cases::fill_derived`).
    "ALTER TABLE cases ADD COLUMN facts BYTEA;
     DROP TABLE case_match_facts;
     DROP TABLE case_match_facts_unfilled;
     DROP TABLE case_list_facts;
     DROP TABLE case_list_facts_unfilled;
     CREATE TABLE case_facts_unfilled (id INTEGER PRIMARY KEY CHECK (id = 1));
     INSERT INTO case_facts_unfilled (id) SELECT 1 WHERE EXISTS (SELECT 1 FROM cases);",
];

/// The schema of the keys database (`postgres.keys_url`, ADR 0007), versioned in its table
/// `fieldcase_keys_schema`: the key check of the master key, every case's data key wrapped
/// by it, and the tombstones of erased cases (which tell a dump restored from before an
/// erasure what to erase). Nothing else: no content, no names.
const KEYS_MIGRATIONS: &[&str] = &[
    // 1: the keyring.
    "CREATE TABLE key_check (
        id     INTEGER PRIMARY KEY CHECK (id = 1),
        sealed BYTEA NOT NULL
     );
     CREATE TABLE data_keys (
        id       BYTEA PRIMARY KEY,
        data_key BYTEA NOT NULL
     );
     CREATE TABLE erased_cases (
        id        BYTEA PRIMARY KEY,
        team      TEXT NOT NULL,
        erased_at BIGINT NOT NULL,
        erased_by TEXT NOT NULL,
        reason    TEXT NOT NULL
     );",
];

impl From<postgres::Error> for AppError {
    fn from(e: postgres::Error) -> Self {
        AppError::Internal(format!("database: {}", detail(&e)))
    }
}

/// An error with its causes ("error connecting to server: Connection refused").
fn detail(e: &postgres::Error) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(&format!(": {s}"));
        source = s.source();
    }
    out
}

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// One pooled connection to the data database and one to the keys database, each made
/// again when it broke.
struct Connection {
    config: postgres::Config,
    client: Option<Pg>,
    keys_config: postgres::Config,
    keys_client: Option<Pg>,
}

/// A client of `config` in `slot`, connected again if it broke.
fn connected<'a>(
    slot: &'a mut Option<Pg>,
    config: &postgres::Config,
    what: &str,
) -> AppResult<&'a mut Pg> {
    if slot.as_ref().is_none_or(Pg::is_closed) {
        *slot = None;
        let client = config.connect(NoTls).map_err(|e| {
            let mut why = detail(&e);
            // Never the password, should the client's error repeat it.
            if let Some(p) = config.get_password().filter(|p| p.len() >= 3) {
                why = why.replace(&*String::from_utf8_lossy(p), "***");
            }
            AppError::Internal(format!("cannot connect to PostgreSQL{what}: {why}"))
        })?;
        *slot = Some(Pg::new(client));
    }
    slot.as_mut()
        .ok_or_else(|| AppError::Internal("no connection".into()))
}

impl Connection {
    fn client(&mut self) -> AppResult<&mut Pg> {
        connected(&mut self.client, &self.config, "")
    }

    /// The connection to the keys database ([`PostgresDb`]'s keyring).
    fn keys(&mut self) -> AppResult<&mut Pg> {
        connected(
            &mut self.keys_client,
            &self.keys_config,
            " (the keys database, postgres.keys_url)",
        )
    }

    /// Both connections: the data database's and the keys database's.
    fn both(&mut self) -> AppResult<(&mut Pg, &mut Pg)> {
        connected(
            &mut self.keys_client,
            &self.keys_config,
            " (the keys database, postgres.keys_url)",
        )?;
        connected(&mut self.client, &self.config, "")?;
        match (self.client.as_mut(), self.keys_client.as_mut()) {
            (Some(data), Some(keys)) => Ok((data, keys)),
            _ => Err(AppError::Internal("no connection".into())),
        }
    }
}

/// The server's PostgreSQL storage.
pub struct PostgresDb {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    /// Jobs handed over and not yet answered.
    busy: Arc<AtomicUsize>,
    workers: Vec<std::thread::JoinHandle<()>>,
    /// Whom this process's case writes are counted under (see [`Db::external_version`]).
    writer: String,
    /// Wraps the cases' data keys ([`keys`]); read again after a rotation.
    master: RwLock<Arc<Key>>,
    /// Where the master key comes from.
    source: KeySource,
    /// Sealing and opening, counted.
    meter: Arc<keys::Meter>,
    /// Audit entries waiting for the next audit transaction ([`RecordRows::insert_audit`]).
    audits: AuditQueue,
}

/// Audit entries of this process waiting to be written, and the one writer of them at a
/// time: entries recorded at once share one transaction, one hold of the chain's end (an
/// advisory lock every instance takes) and one flush to disk, instead of each waiting for
/// every other's.
#[derive(Default)]
struct AuditQueue {
    waiting: Mutex<Vec<Arc<PendingAudit>>>,
    writing: Mutex<()>,
}

struct PendingAudit {
    entries: AuditEntries,
    /// Once written: `Ok`, or the failure of the transaction that held it.
    outcome: Mutex<Option<Result<(), String>>>,
}

impl std::fmt::Debug for PostgresDb {
    // Never the URL: it may hold a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresDb")
            .field("writer", &self.writer)
            .finish_non_exhaustive()
    }
}

impl Drop for PostgresDb {
    fn drop(&mut self) {
        // Closing the queue ends the workers once they finish what they hold.
        self.jobs.lock().unwrap_or_else(|p| p.into_inner()).take();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

/// The key of the team named, `None` when there is no such team (`Some(None)`: no team
/// named).
fn team_key(c: &mut Pg, team: Option<&str>) -> Result<Option<Option<i64>>, postgres::Error> {
    match team {
        Some(t) => c
            .query_opt("SELECT id FROM teams WHERE name = $1", &[&t])?
            .map(|r| r.try_get(0).map(Some))
            .transpose(),
        None => Ok(Some(None)),
    }
}

fn role_of(s: &str) -> Role {
    Role::from_code(s).unwrap_or(Role::Worker)
}

const USER_COLUMNS: &str = "u.id, u.username, u.display_name, u.role, t.name, u.disabled";

/// A user from the first six columns of a row ([`USER_COLUMNS`]).
fn user_row(r: &postgres::Row) -> AppResult<User> {
    Ok(User {
        id: r.try_get(0)?,
        username: r.try_get(1)?,
        display_name: r.try_get(2)?,
        role: role_of(r.try_get(3)?),
        team: r.try_get(4)?,
        disabled: r.try_get(5)?,
    })
}

impl PostgresDb {
    /// Connects to the database at `url` (`postgres://user:password@host:port/dbname`, or
    /// any form the `postgres` crate accepts) and brings its schema up to date, with the
    /// master key in `fieldcase.key` in the current directory (created on first start).
    pub fn connect(url: &str) -> AppResult<Self> {
        Self::connect_with(url, &KeySource::default_for_postgres())
    }

    /// Connects, brings the schema up to date, checks the master key from `source` and seals
    /// what an earlier version stored in the clear ([`keys::prepare`]), with the data keys
    /// in the default keys database ([`PostgresDb::connect_apart`]).
    pub fn connect_with(url: &str, source: &KeySource) -> AppResult<Self> {
        Self::connect_apart(url, None, source)
    }

    /// Connects to the data database at `url` and to the keys database at `keys_url`
    /// (`postgres.keys_url`; `None`: the data database's name with `_keys`, on the same
    /// server, created when absent), brings both schemas up to date, checks the master key,
    /// moves the data keys of a database that still holds them into the keys database
    /// (once), and erases what the keys database says was erased (a dump restored from
    /// before an erasure). ADR 0007.
    pub fn connect_apart(url: &str, keys_url: Option<&str>, source: &KeySource) -> AppResult<Self> {
        let config: postgres::Config = url.parse().map_err(|e| {
            AppError::BadRequest(super::redact(url, &format!("not a PostgreSQL URL: {e}")))
        })?;
        let (keys_config, default_keys) = match keys_url {
            Some(k) => (
                k.parse::<postgres::Config>().map_err(|e| {
                    AppError::BadRequest(super::redact(
                        k,
                        &format!("postgres.keys_url is not a PostgreSQL URL: {e}"),
                    ))
                })?,
                None,
            ),
            None => {
                let name = default_keys_database(&config);
                let mut k = config.clone();
                k.dbname(&name);
                (k, Some(name))
            }
        };
        if keys_config.get_hosts() == config.get_hosts()
            && keys_config.get_ports() == config.get_ports()
            && keys_config.get_dbname() == config.get_dbname()
        {
            return Err(AppError::BadRequest(
                "postgres.keys_url names the data database itself: the data keys must be kept \
                 in another database (ADR 0007)"
                    .into(),
            ));
        }
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let busy = Arc::new(AtomicUsize::new(0));
        let workers = (0..POOL_SIZE)
            .map(|i| {
                let rx = rx.clone();
                let busy = busy.clone();
                let mut conn = Connection {
                    config: config.clone(),
                    client: None,
                    keys_config: keys_config.clone(),
                    keys_client: None,
                };
                std::thread::Builder::new()
                    .name(format!("fieldcase-pg-{i}"))
                    .spawn(move || loop {
                        let job = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                        let Ok(job) = job else { break };
                        // A job that panics answers nobody (its caller sees an error); the
                        // worker and its connection go on.
                        let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut conn)));
                        busy.fetch_sub(1, Ordering::SeqCst);
                    })
                    .map_err(|e| AppError::Internal(format!("cannot start a thread: {e}")))
            })
            .collect::<AppResult<Vec<_>>>()?;
        let mut db = PostgresDb {
            jobs: Mutex::new(Some(tx)),
            busy,
            workers,
            writer: auth::new_id("w-"),
            // Replaced below, once the key is checked against the database.
            master: RwLock::new(Arc::new(Key::from_bytes(&[0; keys::KEY_BYTES]))),
            source: source.clone(),
            meter: Arc::default(),
            audits: AuditQueue::default(),
        };
        db.run(migrate)?;
        if let Some(name) = default_keys {
            db.run(move |c| create_database(c, &name))?;
        }
        db.run_keys(migrate_keys)?;
        let source = source.clone();
        let (master, sealed, moved) = db.run_both(move |data, keyring| {
            let mut tx = data.transaction()?;
            // Instances starting together seal what is in the clear, and move the keys, once.
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
            if tx.query_opt("SELECT 1 FROM keys_moved", &[])?.is_some() {
                let mut ktx = keyring.transaction()?;
                if ktx
                    .query_opt("SELECT 1 FROM key_check WHERE id = 1", &[])?
                    .is_none()
                {
                    return Err(AppError::Internal(
                        "the keys database holds no keys, and this database's keys were moved \
                         to one: give the keys database it was served with (postgres.keys_url); \
                         without it the cases cannot be read"
                            .into(),
                    ));
                }
                let prepared = keys::prepare(
                    &mut ApartKeyTx {
                        data: &mut tx,
                        keys: &mut ktx,
                    },
                    &source,
                )
                .map_err(AppError::Internal)?;
                ktx.commit()?;
                tx.commit()?;
                return Ok((prepared.master, 0, 0));
            }
            // A database that still holds its keys (an earlier version, or a new one):
            // the key steps as before, then every key to the keys database, then none here.
            let prepared =
                keys::prepare(&mut KeyTxRows(&mut tx), &source).map_err(AppError::Internal)?;
            let moved = move_keys(&mut tx, keyring, &prepared.master)?;
            tx.commit()?;
            if prepared.sealed > 0 || moved > 0 {
                // The rows in the clear, and the keys moved out, are dead now; their space
                // is reclaimed.
                data.batch_execute("VACUUM cases, case_changes")?;
            }
            Ok((prepared.master, prepared.sealed, moved))
        })?;
        if sealed > 0 {
            tracing::info!(cases = sealed, "sealed cases stored in the clear");
        }
        if moved > 0 {
            tracing::info!(
                keys = moved,
                "moved the data keys to the keys database (ADR 0007)"
            );
        }
        db.master = RwLock::new(Arc::new(master));
        let erased = db.run_both(join_erasures)?;
        if erased > 0 {
            tracing::warn!(
                cases = erased,
                "erased cases the keys database says were erased (a dump from before their erasure)"
            );
        }
        let filled = cases::fill_derived(&db)?;
        if filled > 0 {
            tracing::info!(
                cases = filled,
                "noted the closure and links of cases stored before"
            );
        }
        Ok(db)
    }

    /// Rewraps every case's data key under `new` (the documents stay sealed as they are);
    /// answers how many. The data database's part (the directory's key) is written first,
    /// then the keys database's (every case's key and the key check): a rotation
    /// interrupted between them is completed by running it again with the same new key
    /// (`key rotate` reuses `<file>.new`). This storage's key is the old one after it:
    /// connect again with the new key.
    pub fn rotate_master_key(&self, new: Key) -> AppResult<usize> {
        let old = CaseRows::master_key(self);
        self.run_both(move |data, keyring| {
            let mut tx = data.transaction()?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
            let mut ktx = keyring.transaction()?;
            let n = keys::rotate(
                &mut ApartKeyTx {
                    data: &mut tx,
                    keys: &mut ktx,
                },
                &old,
                &new,
            )
            .map_err(AppError::Internal)?;
            tx.commit()?;
            ktx.commit()?;
            Ok(n)
        })
    }

    /// Runs `f` on a pooled connection to the keys database and waits for its answer.
    fn run_keys<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Pg) -> AppResult<T> + Send + 'static,
    {
        self.run_job(move |conn| conn.keys().and_then(f))
    }

    /// Runs `f` on a pooled pair of connections (the data database's, the keys
    /// database's) and waits for its answer.
    fn run_both<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Pg, &mut Pg) -> AppResult<T> + Send + 'static,
    {
        self.run_job(move |conn| conn.both().and_then(|(data, keys)| f(data, keys)))
    }

    /// Runs `f` on a pooled connection (on a thread of the pool) and waits for its answer.
    fn run<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Pg) -> AppResult<T> + Send + 'static,
    {
        self.run_job(move |conn| conn.client().and_then(f))
    }

    /// Runs `f` on a pooled pair of connections (on a thread of the pool) and waits for its
    /// answer.
    fn run_job<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> AppResult<T> + Send + 'static,
    {
        let (answer, answered) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |conn: &mut Connection| {
            let _ = answer.send(f(conn));
        });
        {
            let jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
            let jobs = jobs
                .as_ref()
                .ok_or_else(|| AppError::Internal("the storage is closed".into()))?;
            self.busy.fetch_add(1, Ordering::SeqCst);
            if jobs.send(job).is_err() {
                self.busy.fetch_sub(1, Ordering::SeqCst);
                return Err(AppError::Internal("the storage is closed".into()));
            }
        }
        answered
            .recv()
            .map_err(|_| AppError::Internal("a database job failed".into()))?
    }

    /// The user named `username`.
    fn user_named(client: &mut Pg, username: &str) -> AppResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u LEFT JOIN teams t ON t.id = u.team_id WHERE u.username = $1");
        client
            .query_opt(&sql, &[&username])?
            .map(|r| user_row(&r))
            .transpose()
    }
}

/// Applies the migrations not yet applied, in one transaction under the migration lock.
fn migrate(client: &mut Pg) -> AppResult<()> {
    migrate_in(client, "fieldcase_schema", MIGRATIONS, "the database")
}

/// Applies the keys database's migrations not yet applied ([`KEYS_MIGRATIONS`]).
fn migrate_keys(client: &mut Pg) -> AppResult<()> {
    migrate_in(
        client,
        "fieldcase_keys_schema",
        KEYS_MIGRATIONS,
        "the keys database",
    )
}

/// Applies `steps` not yet applied, as counted in the table `table`, in one transaction
/// under the migration lock.
fn migrate_in(client: &mut Pg, table: &str, steps: &[&str], what: &str) -> AppResult<()> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    // Not the notice that the table below exists, at every start.
    tx.batch_execute("SET LOCAL client_min_messages = warning")?;
    tx.batch_execute(&format!(
        "CREATE TABLE IF NOT EXISTS {table} (version INTEGER NOT NULL)"
    ))?;
    let version: i32 = match tx.query_opt(&format!("SELECT version FROM {table}"), &[])? {
        Some(r) => r.try_get(0)?,
        None => {
            tx.execute(&format!("INSERT INTO {table} (version) VALUES (0)"), &[])?;
            0
        }
    };
    if version as usize > steps.len() {
        return Err(AppError::Internal(format!(
            "{what} has schema {version}; this server knows {}",
            steps.len()
        )));
    }
    for (i, step) in steps.iter().enumerate().skip(version as usize) {
        tx.batch_execute(step)?;
        tx.execute(
            &format!("UPDATE {table} SET version = $1"),
            &[&(i as i32 + 1)],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// The default keys database of a data database: its name (or, without one, its user's)
/// with `_keys`, on the same server.
fn default_keys_database(config: &postgres::Config) -> String {
    let base = config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or("fieldcase");
    format!("{base}_keys")
}

/// Creates the database `name` on the server `client` is connected to, if it does not
/// exist (two instances starting together: the second finds it).
fn create_database(client: &mut Pg, name: &str) -> AppResult<()> {
    if client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])?
        .is_some()
    {
        return Ok(());
    }
    let quoted = format!("\"{}\"", name.replace('"', "\"\""));
    match client.batch_execute(&format!("CREATE DATABASE {quoted}")) {
        Ok(()) => {
            tracing::info!(database = name, "created the keys database (ADR 0007)");
            Ok(())
        }
        Err(e)
            if e.code() == Some(&postgres::error::SqlState::DUPLICATE_DATABASE)
                || e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION) =>
        {
            Ok(())
        }
        Err(e) => Err(AppError::Internal(format!(
            "cannot create the keys database {name} ({}): create it, or set postgres.keys_url \
             to one (ADR 0007)",
            detail(&e)
        ))),
    }
}

/// Moves every data key of a database that still holds them into the keys database, with
/// the key check and the tombstones, then empties `cases.data_key` and marks the database
/// (`keys_moved`), inside the data database's transaction `tx` (committed by the caller).
/// The keys database's part commits first: a start interrupted between the two moves
/// them again (the same keys, idempotent). Answers how many keys were moved.
fn move_keys(tx: &mut PgTx<'_>, keyring: &mut Pg, master: &Key) -> AppResult<usize> {
    let check: Option<Vec<u8>> = tx
        .query_opt("SELECT sealed FROM key_check WHERE id = 1", &[])?
        .map(|r| r.try_get(0))
        .transpose()?;
    let rows = tx.query(
        "SELECT id, data_key FROM cases WHERE data_key IS NOT NULL ORDER BY id",
        &[],
    )?;
    let tombstones = tx.query(
        "SELECT id, team, erased_at, erased_by, reason FROM erased_cases",
        &[],
    )?;
    let mut k = keyring.transaction()?;
    let theirs: Option<Vec<u8>> = k
        .query_opt("SELECT sealed FROM key_check WHERE id = 1 FOR UPDATE", &[])?
        .map(|r| r.try_get(0))
        .transpose()?;
    match (theirs, check) {
        (Some(theirs), _) if !keys::checks(master, &theirs) => {
            return Err(AppError::Internal(
                "the keys database (postgres.keys_url) is under another master key: it is \
                 another database's keyring"
                    .into(),
            ))
        }
        (None, Some(check)) => {
            k.execute(
                "INSERT INTO key_check (id, sealed) VALUES (1, $1)",
                &[&check],
            )?;
        }
        _ => {}
    }
    for r in &rows {
        let (id, key): (Vec<u8>, Vec<u8>) = (r.try_get(0)?, r.try_get(1)?);
        // The key the case was sealed with is the data database's; never one the keys
        // database says was erased (a dump of an earlier version restored).
        k.execute(
            "INSERT INTO data_keys (id, data_key)
             SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM erased_cases WHERE id = $1)
             ON CONFLICT (id) DO UPDATE SET data_key = excluded.data_key",
            &[&id, &key],
        )?;
    }
    for t in &tombstones {
        let id: Vec<u8> = t.try_get(0)?;
        k.execute(
            "INSERT INTO erased_cases (id, team, erased_at, erased_by, reason)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
            &[
                &id,
                &t.try_get::<_, String>(1)?,
                &t.try_get::<_, i64>(2)?,
                &t.try_get::<_, String>(3)?,
                &t.try_get::<_, String>(4)?,
            ],
        )?;
        k.execute("DELETE FROM data_keys WHERE id = $1", &[&id])?;
    }
    k.commit()?;
    tx.execute(
        "UPDATE cases SET data_key = NULL WHERE data_key IS NOT NULL",
        &[],
    )?;
    tx.execute(
        "INSERT INTO keys_moved (id, moved_at) VALUES (1, $1)",
        &[&chrono::Utc::now().timestamp_millis()],
    )?;
    Ok(rows.len())
}

/// Deletes every row of case `key` but the audit trail's, and writes its tombstone (if it
/// has none), inside `tx`.
fn erase_in(
    tx: &mut PgTx<'_>,
    key: &[u8],
    team: &str,
    at: i64,
    by: &str,
    reason: &str,
) -> Result<(), postgres::Error> {
    for table in CASE_TABLES {
        tx.execute(&format!("DELETE FROM {table} WHERE case_id = $1"), &[&key])?;
    }
    tx.execute("DELETE FROM cases WHERE id = $1", &[&key])?;
    tx.execute(
        "INSERT INTO erased_cases (id, team, erased_at, erased_by, reason)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
        &[&key, &team, &at, &by, &reason],
    )?;
    Ok(())
}

/// At the start: joins the data database and the keys database on what was erased. A
/// tombstone of the data database destroys its key in the keys database too (a keys
/// database restored from before the erasure); a case of the data database whose key the
/// keys database no longer holds, with a tombstone there, is erased here too (a dump
/// restored from before its erasure). A case with neither key nor tombstone stops the
/// start, nothing changed: the keys database is older than this database, or another's.
/// Answers how many cases were erased.
fn join_erasures(data: &mut Pg, keyring: &mut Pg) -> AppResult<usize> {
    let ours = data.query(
        "SELECT id, team, erased_at, erased_by, reason FROM erased_cases",
        &[],
    )?;
    // The cases first, their keys after: a case inserted meanwhile had its key stored
    // before it.
    let cases: Vec<Vec<u8>> = data
        .query("SELECT id FROM cases", &[])?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    let keyed: std::collections::HashSet<Vec<u8>> = keyring
        .query("SELECT id FROM data_keys", &[])?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    let mut theirs: std::collections::HashMap<Vec<u8>, (String, i64, String, String)> = keyring
        .query(
            "SELECT id, team, erased_at, erased_by, reason FROM erased_cases",
            &[],
        )?
        .iter()
        .map(|r| {
            Ok((
                r.try_get(0)?,
                (r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?),
            ))
        })
        .collect::<Result<_, postgres::Error>>()?;
    let missing: Vec<&Vec<u8>> = cases.iter().filter(|id| !keyed.contains(*id)).collect();
    let lost = missing
        .iter()
        .filter(|id| !theirs.contains_key(**id))
        .count();
    if lost > 0 {
        return Err(AppError::Internal(format!(
            "{lost} cases of this database have no data key in the keys database and were not \
             erased: the keys database (postgres.keys_url) is older than this database, or \
             another's; nothing was changed"
        )));
    }
    let mut k = keyring.transaction()?;
    for t in &ours {
        let id: Vec<u8> = t.try_get(0)?;
        if keyed.contains(&id) || !theirs.contains_key(&id) {
            k.execute("DELETE FROM data_keys WHERE id = $1", &[&id])?;
            k.execute(
                "INSERT INTO erased_cases (id, team, erased_at, erased_by, reason)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
                &[
                    &id,
                    &t.try_get::<_, String>(1)?,
                    &t.try_get::<_, i64>(2)?,
                    &t.try_get::<_, String>(3)?,
                    &t.try_get::<_, String>(4)?,
                ],
            )?;
        }
    }
    k.commit()?;
    let mut tx = data.transaction()?;
    for id in &missing {
        if let Some((team, at, by, reason)) = theirs.remove(*id) {
            erase_in(&mut tx, id, &team, at, &by, &reason)?;
        }
    }
    // Every other erasure the keys database knows, so that the case is refused here too
    // and phones that hold it learn it (a dump from before the case was even stored).
    for (id, (team, at, by, reason)) in &theirs {
        tx.execute(
            "INSERT INTO erased_cases (id, team, erased_at, erased_by, reason)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
            &[id, team, at, by, reason],
        )?;
    }
    tx.commit()?;
    if !missing.is_empty() {
        data.batch_execute("VACUUM cases, case_changes")?;
    }
    Ok(missing.len())
}

impl From<postgres::Error> for StorageError {
    fn from(e: postgres::Error) -> Self {
        StorageError::Unavailable(format!("database: {}", detail(&e)))
    }
}

/// The rows of one case write, inside its transaction.
/// The rows of one case write: the data database's transaction, and the keys database's
/// connection (its data keys).
struct CaseTxRows<'a, 'b>(&'a mut PgTx<'b>, &'a mut Pg);

/// Case `id`'s wrapped data key in the keys database: `Err(Erased)` when it has none and
/// a tombstone (erased meanwhile), `Ok(None)` when it has neither.
fn key_of(keyring: &mut Pg, id: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
    if let Some(r) = keyring.query_opt("SELECT data_key FROM data_keys WHERE id = $1", &[&id])? {
        return Ok(Some(r.try_get(0)?));
    }
    if keyring
        .query_opt("SELECT 1 FROM erased_cases WHERE id = $1", &[&id])?
        .is_some()
    {
        return Err(StorageError::Erased);
    }
    Ok(None)
}

impl CaseTx for CaseTxRows<'_, '_> {
    fn current(&mut self, id: &[u8]) -> Result<Option<Current>, StorageError> {
        // The row lock makes compare-and-swap hold across server instances.
        let row = self.0.query_opt(
            "SELECT heads, octet_length(document), facts FROM cases WHERE id = $1 FOR UPDATE",
            &[&id],
        )?;
        Ok(match row {
            Some(r) => Some(Current {
                heads: r.try_get(0)?,
                snapshot_bytes: r.try_get::<_, i32>(1)? as usize,
                data_key: key_of(self.1, id)?,
                facts: r.try_get(2)?,
            }),
            None => None,
        })
    }

    fn claim_data_key(
        &mut self,
        master: &Key,
        id: &[u8],
        wrapped: &[u8],
    ) -> Result<Vec<u8>, StorageError> {
        // Stored (committed) before the case: a crash leaves at worst a key without a case.
        // Under the key check, shared: a rotation (which takes it for update) waits, or
        // ran first and this key would be under the old master (tried again).
        let mut k = self.1.transaction()?;
        let check: Option<Vec<u8>> = k
            .query_opt("SELECT sealed FROM key_check WHERE id = 1 FOR SHARE", &[])?
            .map(|r| r.try_get(0))
            .transpose()?;
        if check.is_some_and(|c| !keys::checks(master, &c)) {
            return Err(StorageError::Rekeyed);
        }
        // Erased, as the keys database knows (a data database restored from before).
        if k.query_opt("SELECT 1 FROM erased_cases WHERE id = $1", &[&id])?
            .is_some()
        {
            return Err(StorageError::Erased);
        }
        k.execute(
            "INSERT INTO data_keys (id, data_key) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
            &[&id, &wrapped],
        )?;
        // Another writer's key for the same new case (or one left by an attempt that did
        // not commit its case) is the case's key.
        let stored: Vec<u8> = k
            .query_one("SELECT data_key FROM data_keys WHERE id = $1", &[&id])?
            .try_get(0)?;
        k.commit()?;
        Ok(stored)
    }

    fn append_changes(
        &mut self,
        row: CaseRow<'_>,
        bytes: &[u8],
    ) -> Result<(usize, usize), StorageError> {
        let tx = &mut *self.0;
        tx.execute(
            "INSERT INTO case_changes (case_id, seq, bytes)
             VALUES ($1, (SELECT coalesce(max(seq), 0) + 1 FROM case_changes WHERE case_id = $1), $2)",
            &[&row.id, &bytes],
        )?;
        tx.execute(
            "UPDATE cases SET team = $2, restricted = $3, heads = $4, updated_at = $5,
                closed = $6, closed_at = $7, facts = $8 WHERE id = $1",
            &[
                &row.id,
                &row.team,
                &row.restricted,
                &row.heads,
                &row.now,
                &row.closed,
                &row.closed_at,
                &row.facts,
            ],
        )?;
        let r = tx.query_one(
            "SELECT count(*), coalesce(sum(octet_length(bytes)), 0)::BIGINT FROM case_changes WHERE case_id = $1",
            &[&row.id],
        )?;
        Ok((
            r.try_get::<_, i64>(0)? as usize,
            r.try_get::<_, i64>(1)? as usize,
        ))
    }

    fn replace_snapshot(&mut self, row: CaseRow<'_>, bytes: &[u8]) -> Result<(), StorageError> {
        self.0.execute(
            "UPDATE cases SET team = $2, restricted = $3, document = $4, heads = $5, updated_at = $6,
                closed = $7, closed_at = $8, facts = $9 WHERE id = $1",
            &[
                &row.id,
                &row.team,
                &row.restricted,
                &bytes,
                &row.heads,
                &row.now,
                &row.closed,
                &row.closed_at,
                &row.facts,
            ],
        )?;
        self.0
            .execute("DELETE FROM case_changes WHERE case_id = $1", &[&row.id])?;
        Ok(())
    }

    fn erased(&mut self, id: &[u8]) -> Result<bool, StorageError> {
        Ok(self
            .0
            .query_opt("SELECT 1 FROM erased_cases WHERE id = $1", &[&id])?
            .is_some())
    }

    fn insert_case(&mut self, row: CaseRow<'_>, bytes: &[u8]) -> Result<bool, StorageError> {
        let n = self.0.execute(
            // The data key is in the keys database ([`CaseTx::claim_data_key`]), not here.
            "INSERT INTO cases (id, team, restricted, document, heads, updated_at,
                closed, closed_at, facts)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
            &[
                &row.id,
                &row.team,
                &row.restricted,
                &bytes,
                &row.heads,
                &row.now,
                &row.closed,
                &row.closed_at,
                &row.facts,
            ],
        )?;
        Ok(n > 0)
    }

    fn assigned(&mut self, id: &[u8]) -> Result<Vec<String>, StorageError> {
        self.0
            .query(
                "SELECT user_id FROM case_assignments WHERE case_id = $1 ORDER BY position",
                &[&id],
            )?
            .iter()
            .map(|r| Ok(r.try_get(0)?))
            .collect()
    }

    fn end_assignments(&mut self, id: &[u8], users: &[&str], now: i64) -> Result<(), StorageError> {
        self.0.execute(
            "INSERT INTO assignment_ends (case_id, user_id, at) SELECT $1::BYTEA, u, $2::BIGINT FROM unnest($3::TEXT[]) u
             ON CONFLICT (case_id, user_id) DO UPDATE SET at = excluded.at",
            &[&id, &now, &users],
        )?;
        Ok(())
    }

    fn clear_assignment_ends(&mut self, id: &[u8], users: &[&str]) -> Result<(), StorageError> {
        self.0.execute(
            "DELETE FROM assignment_ends WHERE case_id = $1 AND user_id = ANY($2)",
            &[&id, &users],
        )?;
        Ok(())
    }

    fn key_check(&mut self) -> Result<Option<Vec<u8>>, StorageError> {
        // The keys database's; checked again, locked, when the key is stored.
        Ok(self
            .1
            .query_opt("SELECT sealed FROM key_check WHERE id = 1", &[])?
            .map(|r| r.try_get(0))
            .transpose()?)
    }

    fn replace_assignments(&mut self, id: &[u8], users: &[&str]) -> Result<(), StorageError> {
        self.0
            .execute("DELETE FROM case_assignments WHERE case_id = $1", &[&id])?;
        for (i, u) in users.iter().enumerate() {
            self.0.execute(
                "INSERT INTO case_assignments (case_id, user_id, position) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
                &[&id, u, &(i as i32)],
            )?;
        }
        Ok(())
    }

    fn replace_links(&mut self, id: &[u8], links: &[&[u8]]) -> Result<(), StorageError> {
        self.0
            .execute("DELETE FROM case_links WHERE case_id = $1", &[&id])?;
        if !links.is_empty() {
            self.0.execute(
                "INSERT INTO case_links (case_id, linked) SELECT $1, l FROM unnest($2::bytea[]) AS l
                 ON CONFLICT DO NOTHING",
                &[&id, &links],
            )?;
        }
        Ok(())
    }
}

impl PostgresDb {
    /// One attempt at a case write, in its own transaction, with the case's row lock.
    fn store_once(
        &self,
        write: Arc<cases::Write>,
        master: Arc<Key>,
    ) -> Result<Stored, StorageError> {
        let writer = self.writer.clone();
        let meter = self.meter.clone();
        let now = write.now;
        self.run_both(move |c, keyring| {
            let mut tx = c.transaction()?;
            // An error of the rules rolls the transaction back (dropped) and is answered
            // as it is (a rotated key is tried again).
            let stored =
                match cases::store(&mut CaseTxRows(&mut tx, keyring), &master, &meter, &write) {
                    Ok(s) => s,
                    Err(e) => return Ok(Err(e)),
                };
            if stored == Stored::Stale {
                return Ok(Ok(stored));
            }
            tx.execute(
                "INSERT INTO case_writers (writer, writes, started_at) VALUES ($1, 1, $2)
                 ON CONFLICT (writer) DO UPDATE SET writes = case_writers.writes + 1",
                &[&writer, &now],
            )?;
            tx.commit()?;
            Ok(Ok(stored))
        })
        .map_err(StorageError::from)?
    }
}

impl Db for PostgresDb {
    super::rules_over_rows!();

    fn users(&self) -> AppResult<Vec<User>> {
        self.run(|c| {
            let sql = format!("SELECT {USER_COLUMNS} FROM users u LEFT JOIN teams t ON t.id = u.team_id ORDER BY u.username");
            c.query(&sql, &[])?.iter().map(user_row).collect()
        })
    }

    fn actor_device(&self, actor: &str) -> AppResult<Option<String>> {
        let actor = actor.to_string();
        self.run(move |c| {
            Ok(
                c.query_opt("SELECT device_id FROM actors WHERE actor = $1", &[&actor])?
                    .map(|r| r.try_get(0))
                    .transpose()?,
            )
        })
    }

    fn store_case(
        &self,
        access: &CaseAccess,
        write: CaseWrite<'_>,
        heads: &[ChangeHash],
        expected: Option<&[ChangeHash]>,
        now: i64,
    ) -> AppResult<Stored> {
        let write = Arc::new(cases::Write::new(access, write, heads, expected, now));
        // A rotation of the master key meanwhile: read it again and write once more.
        Ok(cases::with_master_key(self, |master| {
            self.store_once(write.clone(), master)
        })?)
    }

    /// The number of case writes by other processes (other server instances, the CLI):
    /// it moves exactly when one of them wrote a case. `None` while every connection is
    /// busy (the hub asks again at its next message).
    fn external_version(&self) -> AppResult<Option<i64>> {
        if self.busy.load(Ordering::SeqCst) >= POOL_SIZE {
            return Ok(None);
        }
        let writer = self.writer.clone();
        self.run(move |c| {
            Ok(Some(
                c.query_one(
                    "SELECT coalesce(sum(writes), 0)::BIGINT FROM case_writers WHERE writer <> $1",
                    &[&writer],
                )?
                .try_get(0)?,
            ))
        })
    }

    fn user_language(&self, user_id: &str) -> AppResult<Option<String>> {
        let user_id = user_id.to_string();
        self.run(move |c| {
            Ok(c.query_opt(
                "SELECT language FROM user_settings WHERE user_id = $1",
                &[&user_id],
            )?
            .map(|r| r.try_get(0))
            .transpose()?)
        })
    }

    fn user_time_zone(&self, user_id: &str) -> AppResult<Option<String>> {
        let user_id = user_id.to_string();
        self.run(move |c| {
            Ok(c.query_opt(
                "SELECT time_zone FROM user_time_zones WHERE user_id = $1",
                &[&user_id],
            )?
            .map(|r| r.try_get(0))
            .transpose()?)
        })
    }

    fn set_user_time_zone(&self, user_id: &str, time_zone: Option<&str>) -> AppResult<()> {
        let (user_id, tz) = (user_id.to_string(), time_zone.map(str::to_string));
        self.run(move |c| {
            match tz {
                Some(tz) => c.execute(
                    "INSERT INTO user_time_zones (user_id, time_zone) VALUES ($1, $2)
                     ON CONFLICT (user_id) DO UPDATE SET time_zone = excluded.time_zone",
                    &[&user_id, &tz],
                )?,
                None => c.execute(
                    "DELETE FROM user_time_zones WHERE user_id = $1",
                    &[&user_id],
                )?,
            };
            Ok(())
        })
    }

    fn set_user_language(&self, user_id: &str, language: &str) -> AppResult<()> {
        let (user_id, language) = (user_id.to_string(), language.to_string());
        self.run(move |c| {
            c.execute(
                "INSERT INTO user_settings (user_id, language) VALUES ($1, $2)
                 ON CONFLICT (user_id) DO UPDATE SET language = excluded.language",
                &[&user_id, &language],
            )?;
            Ok(())
        })
    }

    fn user_by_id(&self, id: &str) -> AppResult<Option<User>> {
        let id = id.to_string();
        self.run(move |c| {
            let sql = format!("SELECT {USER_COLUMNS} FROM users u LEFT JOIN teams t ON t.id = u.team_id WHERE u.id = $1");
            c.query_opt(&sql, &[&id])?.map(|r| user_row(&r)).transpose()
        })
    }

    fn device(&self, id: &str) -> AppResult<Option<Device>> {
        let id = id.to_string();
        self.run(move |c| {
            c.query_opt(
                "SELECT id, user_id, name, created_at, disabled FROM devices WHERE id = $1",
                &[&id],
            )?
            .map(|r| device_row(&r))
            .transpose()
        })
    }

    fn actor_owner(&self, actor: &str) -> AppResult<Option<Device>> {
        let actor = actor.to_string();
        self.run(move |c| {
            c.query_opt(
                "SELECT d.id, d.user_id, d.name, d.created_at, d.disabled
                 FROM actors a JOIN devices d ON d.id = a.device_id WHERE a.actor = $1",
                &[&actor],
            )?
            .map(|r| device_row(&r))
            .transpose()
        })
    }
}

fn device_row(r: &postgres::Row) -> AppResult<Device> {
    Ok(Device {
        id: r.try_get(0)?,
        user_id: r.try_get(1)?,
        name: r.try_get(2)?,
        created_at: r.try_get(3)?,
        disabled: r.try_get(4)?,
    })
}

/// A case's row as listed ([`CaseListRow`]).
fn list_row(r: &postgres::Row) -> Result<CaseListRow, postgres::Error> {
    Ok((
        r.try_get(0)?,
        r.try_get(1)?,
        r.try_get(2)?,
        r.try_get(3)?,
        r.try_get(4)?,
        r.try_get(5)?,
    ))
}

/// A read-only transaction on one snapshot of the database (several reads that must agree).
fn read_view(c: &mut Pg) -> Result<PgTx<'_>, postgres::Error> {
    c.read_view()
}

impl CaseRows for PostgresDb {
    fn master_key(&self) -> Arc<Key> {
        self.master
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn reload_master_key(&self) -> Result<(), StorageError> {
        // The keys database's check: the one its keys are under.
        let check: Option<Vec<u8>> = self.run_keys(|c| {
            Ok(
                c.query_opt("SELECT sealed FROM key_check WHERE id = 1", &[])?
                    .map(|r| r.try_get(0))
                    .transpose()?,
            )
        })?;
        let key = keys::reload(&self.source, check.as_deref())?;
        *self.master.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(key);
        Ok(())
    }

    fn document_rows(&self, id: &[u8]) -> Result<Option<DocumentRows>, StorageError> {
        let key = id.to_vec();
        let rows = self.run_both(move |c, keyring| {
            // One snapshot of the database for both reads (a write between them would
            // otherwise pair an old snapshot with changes that no longer follow it).
            let mut tx = read_view(c)?;
            let Some(r) = tx.query_opt("SELECT document FROM cases WHERE id = $1", &[&key])? else {
                return Ok(None);
            };
            let snapshot: Vec<u8> = r.try_get(0)?;
            let changes = tx
                .query(
                    "SELECT bytes FROM case_changes WHERE case_id = $1 ORDER BY seq",
                    &[&key],
                )?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?;
            tx.commit()?;
            // The key after the rows: a case found has its key stored already.
            Ok(Some((key_of(keyring, &key), snapshot, changes)))
        })?;
        match rows {
            Some((Err(StorageError::Erased), _, _)) => Ok(None),
            Some((data_key, snapshot, changes)) => Ok(Some((data_key?, snapshot, changes))),
            None => Ok(None),
        }
    }

    fn heads_row(&self, id: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        let key = id.to_vec();
        Ok(self.run(move |c| {
            Ok(
                c.query_opt("SELECT heads FROM cases WHERE id = $1", &[&key])?
                    .map(|r| r.try_get(0))
                    .transpose()?,
            )
        })?)
    }

    fn access_row(&self, id: &[u8]) -> Result<Option<AccessRow>, StorageError> {
        let key = id.to_vec();
        Ok(self.run(move |c| {
            let mut tx = read_view(c)?;
            let Some(r) = tx.query_opt(
                "SELECT team, restricted, coalesce(closed, false), closed_at FROM cases WHERE id = $1",
                &[&key],
            )?
            else {
                return Ok(None);
            };
            let assigned = tx
                .query(
                    "SELECT user_id FROM case_assignments WHERE case_id = $1 ORDER BY position",
                    &[&key],
                )?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<Vec<String>, _>>()?;
            tx.commit()?;
            Ok(Some((
                r.try_get(0)?,
                r.try_get(1)?,
                assigned,
                r.try_get(2)?,
                r.try_get(3)?,
            )))
        })?)
    }

    fn meter(&self) -> Arc<keys::Meter> {
        self.meter.clone()
    }

    fn closed_case_rows(&self, closed_before: i64) -> Result<Vec<ClosedRow>, StorageError> {
        Ok(self.run(move |c| {
            Ok(c.query(
                "SELECT id, team, closed_at FROM cases
                 WHERE closed AND closed_at <= $1 ORDER BY closed_at, id",
                &[&closed_before],
            )?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect::<Result<_, postgres::Error>>()?)
        })?)
    }

    fn unfilled_closure_keys(&self) -> Result<Vec<Vec<u8>>, StorageError> {
        Ok(self.run(|c| {
            Ok(
                c.query("SELECT id FROM cases WHERE closed IS NULL ORDER BY id", &[])?
                    .iter()
                    .map(|r| r.try_get(0))
                    .collect::<Result<_, _>>()?,
            )
        })?)
    }

    fn fill_closure_row(
        &self,
        id: &[u8],
        closed: bool,
        closed_at: Option<i64>,
    ) -> Result<(), StorageError> {
        let key = id.to_vec();
        Ok(self.run(move |c| {
            c.execute(
                "UPDATE cases SET closed = $2, closed_at = $3 WHERE id = $1 AND closed IS NULL",
                &[&key, &closed, &closed_at],
            )?;
            Ok(())
        })?)
    }

    fn all_case_rows(&self) -> Result<(Vec<CaseListRow>, Vec<AssignmentRow>), StorageError> {
        Ok(self.run(|c| {
            let mut tx = read_view(c)?;
            let assigned = tx
                .query(
                    "SELECT case_id, user_id FROM case_assignments ORDER BY case_id, position",
                    &[],
                )?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<Result<_, postgres::Error>>()?;
            let cases = tx
                .query(
                    "SELECT id, team, restricted, heads, coalesce(closed, false), closed_at
                     FROM cases ORDER BY id",
                    &[],
                )?
                .iter()
                .map(list_row)
                .collect::<Result<_, postgres::Error>>()?;
            tx.commit()?;
            Ok((cases, assigned))
        })?)
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
        let mut parts = vec![
            "SELECT case_id FROM case_assignments WHERE user_id = $1 AND $2::text IS NOT NULL",
        ];
        if team.is_some() {
            parts.push("SELECT id FROM cases WHERE team = $2");
        }
        if unrestricted {
            parts.push("SELECT id FROM cases WHERE NOT restricted");
        }
        let visible = format!("WITH v(id) AS ({})", parts.join(" UNION "));
        let (user_id, team) = (user_id.to_string(), team.unwrap_or("").to_string());
        Ok(self.run(move |c| {
            let mut tx = read_view(c)?;
            let cases = tx
                .query(
                    &format!(
                        "{visible} SELECT c.id, c.team, c.restricted, c.heads,
                         coalesce(c.closed, false), c.closed_at
                         FROM cases c JOIN v ON v.id = c.id ORDER BY c.id"
                    ),
                    &[&user_id, &team],
                )?
                .iter()
                .map(list_row)
                .collect::<Result<_, postgres::Error>>()?;
            let assigned = tx
                .query(
                    &format!(
                        "{visible} SELECT a.case_id, a.user_id FROM case_assignments a
                         JOIN v ON v.id = a.case_id ORDER BY a.case_id, a.position"
                    ),
                    &[&user_id, &team],
                )?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<Result<_, postgres::Error>>()?;
            tx.commit()?;
            Ok((cases, assigned))
        })?)
    }

    fn assigned_case_keys(&self, user_id: &str) -> Result<Vec<Vec<u8>>, StorageError> {
        let user_id = user_id.to_string();
        Ok(self.run(move |c| {
            Ok(c.query(
                "SELECT case_id FROM case_assignments WHERE user_id = $1 ORDER BY case_id",
                &[&user_id],
            )?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?)
        })?)
    }

    fn insert_time_marks(&self, id: &[u8], marks: &[TimeMark]) -> Result<(), StorageError> {
        let key = id.to_vec();
        let marks = marks.to_vec();
        Ok(self.run(move |c| {
            let mut tx = c.transaction()?;
            for m in &marks {
                tx.execute(
                    "INSERT INTO change_times (case_id, change, claimed, received) VALUES ($1, $2, $3, $4)
                     ON CONFLICT DO NOTHING",
                    &[&key, &&m.change.0[..], &m.claimed, &m.received],
                )?;
            }
            tx.commit()?;
            Ok(())
        })?)
    }

    fn time_mark_rows(&self, id: &[u8]) -> Result<Vec<(Vec<u8>, i64, i64)>, StorageError> {
        let key = id.to_vec();
        Ok(self.run(move |c| {
            Ok(c.query(
                "SELECT change, claimed, received FROM change_times WHERE case_id = $1",
                &[&key],
            )?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect::<Result<_, postgres::Error>>()?)
        })?)
    }

    fn linking_case_keys(&self, id: &[u8]) -> Result<Vec<Vec<u8>>, StorageError> {
        let key = id.to_vec();
        Ok(self.run(move |c| {
            Ok(c.query(
                "SELECT case_id FROM case_links WHERE linked = $1 ORDER BY case_id",
                &[&key],
            )?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, postgres::Error>>()?)
        })?)
    }

    fn written_since_keys(&self, since_ms: i64) -> Result<Vec<(Vec<u8>, i64)>, StorageError> {
        Ok(self.run(move |c| {
            Ok(c.query(
                "SELECT id, updated_at FROM cases WHERE updated_at >= $1 ORDER BY updated_at, id",
                &[&since_ms],
            )?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, postgres::Error>>()?)
        })?)
    }

    fn fact_rows(&self) -> Result<Vec<FactRow>, StorageError> {
        Ok(self.run_both(|c, keyring| {
            let facts = c.query(
                "SELECT id, facts FROM cases WHERE facts IS NOT NULL ORDER BY id",
                &[],
            )?;
            // Every data key at once, rather than one round trip per case.
            let mut keys: std::collections::HashMap<Vec<u8>, Vec<u8>> = keyring
                .query("SELECT id, data_key FROM data_keys", &[])?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<Result<_, postgres::Error>>()?;
            Ok(facts
                .iter()
                .map(|r| {
                    let id: Vec<u8> = r.try_get(0)?;
                    let key = keys.remove(&id);
                    Ok((id, key, r.try_get(1)?))
                })
                .collect::<Result<_, postgres::Error>>()?)
        })?)
    }

    fn fact_row(&self, id: &[u8]) -> Result<Option<FactRow>, StorageError> {
        let id = id.to_vec();
        let row = self.run_both(move |c, keyring| {
            let Some(r) = c.query_opt("SELECT facts FROM cases WHERE id = $1", &[&id])? else {
                return Ok(None);
            };
            let facts: Option<Vec<u8>> = r.try_get(0)?;
            Ok(Some((key_of(keyring, &id), id, facts)))
        })?;
        match row {
            Some((Err(StorageError::Erased), _, _)) | None => Ok(None),
            Some((key, id, facts)) => Ok(Some((id, key?, facts))),
        }
    }

    fn unfilled_fact_keys(&self) -> Result<Vec<Vec<u8>>, StorageError> {
        Ok(self.run(|c| {
            if c.query_opt("SELECT 1 FROM case_facts_unfilled", &[])?
                .is_none()
            {
                return Ok(Vec::new());
            }
            Ok(
                c.query("SELECT id FROM cases WHERE facts IS NULL ORDER BY id", &[])?
                    .iter()
                    .map(|r| r.try_get(0))
                    .collect::<Result<_, _>>()?,
            )
        })?)
    }

    fn fill_fact_rows(&self, rows: &[(Vec<u8>, Vec<u8>)]) -> Result<(), StorageError> {
        if rows.is_empty() {
            return Ok(());
        }
        let rows = rows.to_vec();
        Ok(self.run(move |c| {
            let mut tx = c.transaction()?;
            for (key, sealed) in &rows {
                tx.execute(
                    "UPDATE cases SET facts = $2 WHERE id = $1 AND facts IS NULL",
                    &[key, sealed],
                )?;
            }
            tx.commit()?;
            Ok(())
        })?)
    }

    fn facts_filled(&self) -> Result<(), StorageError> {
        Ok(self.run(|c| {
            c.execute("DELETE FROM case_facts_unfilled", &[])?;
            Ok(())
        })?)
    }

    fn list_fact_rows(&self, ids: &[Vec<u8>]) -> Result<Vec<ListFactRow>, StorageError> {
        let ids = ids.to_vec();
        Ok(self.run_both(move |c, keyring| {
            // One statement: one consistent view of every case.
            let rows = c.query(
                "SELECT c.id, c.heads, c.facts,
                        (SELECT max(m.received) FROM change_times m WHERE m.case_id = c.id)
                 FROM cases c WHERE c.id = ANY($1) ORDER BY c.id",
                &[&ids],
            )?;
            // Their data keys at once, rather than one round trip per case.
            let mut keys: std::collections::HashMap<Vec<u8>, Vec<u8>> = keyring
                .query(
                    "SELECT id, data_key FROM data_keys WHERE id = ANY($1)",
                    &[&ids],
                )?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<Result<_, postgres::Error>>()?;
            Ok(rows
                .iter()
                .map(|r| {
                    let id: Vec<u8> = r.try_get(0)?;
                    let key = keys.remove(&id);
                    Ok((id, r.try_get(1)?, key, r.try_get(2)?, r.try_get(3)?))
                })
                .collect::<Result<_, postgres::Error>>()?)
        })?)
    }

    fn data_key_row(&self, id: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        let id = id.to_vec();
        match self.run_both(move |_, keyring| Ok(key_of(keyring, &id)))? {
            Err(StorageError::Erased) => Ok(None),
            other => other,
        }
    }

    fn links_unfilled(&self) -> Result<bool, StorageError> {
        Ok(self.run(|c| {
            Ok(c.query_opt("SELECT 1 FROM case_links_unfilled", &[])?
                .is_some())
        })?)
    }

    fn fill_link_rows(&self, rows: &[(Vec<u8>, Vec<Vec<u8>>)]) -> Result<(), StorageError> {
        let rows = rows.to_vec();
        Ok(self.run(move |c| {
            let mut tx = c.transaction()?;
            for (case, links) in &rows {
                tx.execute(
                    "INSERT INTO case_links (case_id, linked)
                     SELECT $1, l FROM unnest($2::bytea[]) AS l
                     WHERE EXISTS (SELECT 1 FROM cases WHERE id = $1) ON CONFLICT DO NOTHING",
                    &[case, links],
                )?;
            }
            tx.execute("DELETE FROM case_links_unfilled", &[])?;
            tx.commit()?;
            Ok(())
        })?)
    }
}

/// The rows of the key steps once the data keys are in the keys database: its
/// transaction (case keys, key check) and the data database's (the directory's key, its
/// copy of the key check).
struct ApartKeyTx<'a, 'b, 'c> {
    data: &'a mut PgTx<'b>,
    keys: &'a mut PgTx<'c>,
}

impl KeyTx for ApartKeyTx<'_, '_, '_> {
    fn key_check(&mut self) -> Result<Option<Vec<u8>>, StorageError> {
        // For update: a case write storing a new key waits, and it for that write.
        Ok(self
            .keys
            .query_opt("SELECT sealed FROM key_check WHERE id = 1 FOR UPDATE", &[])?
            .map(|r| r.try_get(0))
            .transpose()?)
    }

    fn set_key_check(&mut self, sealed: &[u8]) -> Result<(), StorageError> {
        let sql = "INSERT INTO key_check (id, sealed) VALUES (1, $1)
                   ON CONFLICT (id) DO UPDATE SET sealed = excluded.sealed";
        self.keys.execute(sql, &[&sealed])?;
        self.data.execute(sql, &[&sealed])?;
        Ok(())
    }

    fn cases_in_the_clear(&mut self) -> Result<Vec<Vec<u8>>, StorageError> {
        // Sealed before the keys were moved ([`move_keys`] runs after [`keys::prepare`]).
        Ok(Vec::new())
    }

    fn case_blobs(&mut self, _: &[u8]) -> Result<CaseBlobs, StorageError> {
        Err(StorageError::Corrupt(
            "no case is stored in the clear once the keys are apart".into(),
        ))
    }

    fn replace_blobs(
        &mut self,
        _: &[u8],
        _: &[u8],
        _: &[u8],
        _: &[(i64, Vec<u8>)],
    ) -> Result<(), StorageError> {
        Err(StorageError::Corrupt(
            "no case is stored in the clear once the keys are apart".into(),
        ))
    }

    fn data_keys(&mut self) -> Result<Vec<DataKeyRow>, StorageError> {
        let mut keys: Vec<DataKeyRow> = self
            .keys
            .query("SELECT id, data_key FROM data_keys ORDER BY id", &[])?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, StorageError>>()?;
        if let Some(row) = self.data.query_opt(
            "SELECT data_key FROM directory WHERE id = 1 FOR UPDATE",
            &[],
        )? {
            keys.push((super::directory::KEY_ID.to_vec(), row.try_get(0)?));
        }
        Ok(keys)
    }

    fn set_data_key(&mut self, id: &[u8], data_key: &[u8]) -> Result<(), StorageError> {
        if id == super::directory::KEY_ID {
            self.data.execute(
                "UPDATE directory SET data_key = $1 WHERE id = 1",
                &[&data_key],
            )?;
        } else {
            self.keys.execute(
                "UPDATE data_keys SET data_key = $2 WHERE id = $1",
                &[&id, &data_key],
            )?;
        }
        Ok(())
    }
}

/// The rows of the key steps, inside a transaction.
struct KeyTxRows<'a, 'b>(&'a mut PgTx<'b>);

impl KeyTx for KeyTxRows<'_, '_> {
    fn key_check(&mut self) -> Result<Option<Vec<u8>>, StorageError> {
        // For update: a rotation waits for the case writes that insert a case, and they
        // for it.
        Ok(self
            .0
            .query_opt("SELECT sealed FROM key_check WHERE id = 1 FOR UPDATE", &[])?
            .map(|r| r.try_get(0))
            .transpose()?)
    }

    fn set_key_check(&mut self, sealed: &[u8]) -> Result<(), StorageError> {
        self.0.execute(
            "INSERT INTO key_check (id, sealed) VALUES (1, $1)
             ON CONFLICT (id) DO UPDATE SET sealed = excluded.sealed",
            &[&sealed],
        )?;
        Ok(())
    }

    fn cases_in_the_clear(&mut self) -> Result<Vec<Vec<u8>>, StorageError> {
        self.0
            .query(
                "SELECT id FROM cases WHERE data_key IS NULL ORDER BY id",
                &[],
            )?
            .iter()
            .map(|r| Ok(r.try_get(0)?))
            .collect()
    }

    fn case_blobs(&mut self, id: &[u8]) -> Result<CaseBlobs, StorageError> {
        let snapshot = self
            .0
            .query_one("SELECT document FROM cases WHERE id = $1", &[&id])?
            .try_get(0)?;
        let changes = self
            .0
            .query(
                "SELECT seq, bytes FROM case_changes WHERE case_id = $1 ORDER BY seq",
                &[&id],
            )?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, StorageError>>()?;
        Ok((snapshot, changes))
    }

    fn replace_blobs(
        &mut self,
        id: &[u8],
        data_key: &[u8],
        snapshot: &[u8],
        changes: &[(i64, Vec<u8>)],
    ) -> Result<(), StorageError> {
        self.0.execute(
            "UPDATE cases SET data_key = $2, document = $3 WHERE id = $1",
            &[&id, &data_key, &snapshot],
        )?;
        for (seq, bytes) in changes {
            self.0.execute(
                "UPDATE case_changes SET bytes = $3 WHERE case_id = $1 AND seq = $2",
                &[&id, seq, bytes],
            )?;
        }
        Ok(())
    }

    fn data_keys(&mut self) -> Result<Vec<DataKeyRow>, StorageError> {
        let mut keys: Vec<DataKeyRow> = self
            .0
            .query(
                "SELECT id, data_key FROM cases WHERE data_key IS NOT NULL ORDER BY id",
                &[],
            )?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, StorageError>>()?;
        // The directory's data key too (`db::directory::KEY_ID`).
        if let Some(row) = self.0.query_opt(
            "SELECT data_key FROM directory WHERE id = 1 FOR UPDATE",
            &[],
        )? {
            keys.push((super::directory::KEY_ID.to_vec(), row.try_get(0)?));
        }
        Ok(keys)
    }

    fn set_data_key(&mut self, id: &[u8], data_key: &[u8]) -> Result<(), StorageError> {
        if id == super::directory::KEY_ID {
            self.0.execute(
                "UPDATE directory SET data_key = $1 WHERE id = 1",
                &[&data_key],
            )?;
            return Ok(());
        }
        self.0.execute(
            "UPDATE cases SET data_key = $2 WHERE id = $1",
            &[&id, &data_key],
        )?;
        Ok(())
    }
}

impl UserRows for PostgresDb {
    fn update_role_team(
        &self,
        username: &str,
        role: Role,
        team: Option<&str>,
    ) -> Result<RoleTeamUpdate, StorageError> {
        let (username, team) = (username.to_string(), team.map(str::to_string));
        Ok(self.run(move |c| {
            let Some(team_id) = team_key(c, team.as_deref())? else {
                return Ok(RoleTeamUpdate::NoSuchTeam);
            };
            let n = c.execute(
                "UPDATE users SET role = $2, team_id = $3 WHERE username = $1",
                &[&username, &role.code(), &team_id],
            )?;
            Ok(if n == 0 {
                RoleTeamUpdate::NoSuchUser
            } else {
                RoleTeamUpdate::Updated
            })
        })?)
    }

    fn disable_user_rows(&self, username: &str) -> Result<bool, StorageError> {
        let username = username.to_string();
        Ok(self.run(move |c| {
            let mut tx = c.transaction()?;
            let Some(r) = tx.query_opt("SELECT id FROM users WHERE username = $1", &[&username])?
            else {
                return Ok(false);
            };
            let id: String = r.try_get(0)?;
            tx.execute("UPDATE users SET disabled = true WHERE id = $1", &[&id])?;
            tx.execute(
                "UPDATE devices SET disabled = true WHERE user_id = $1",
                &[&id],
            )?;
            tx.execute(
                "UPDATE sessions SET revoked = true WHERE user_id = $1",
                &[&id],
            )?;
            tx.commit()?;
            Ok(true)
        })?)
    }

    fn enable_user_row(&self, username: &str) -> Result<bool, StorageError> {
        let username = username.to_string();
        Ok(self.run(move |c| {
            Ok(c.execute(
                "UPDATE users SET disabled = false WHERE username = $1",
                &[&username],
            )? > 0)
        })?)
    }

    fn device_rows(&self, user_id: &str, now: i64) -> Result<Vec<DeviceRow>, StorageError> {
        let user_id = user_id.to_string();
        Ok(self.run(move |c| {
            let rows = c.query(
                "SELECT d.id, d.user_id, d.name, d.created_at, d.disabled,
                        (SELECT max(last_used) FROM sessions s WHERE s.device_id = d.id),
                        (SELECT count(*) FROM sessions s WHERE s.device_id = d.id
                           AND NOT s.revoked AND s.expires_at > $2),
                        d.unsynced_cases, d.unsynced_done, d.unsynced_at, d.app_version
                 FROM devices d WHERE d.user_id = $1 ORDER BY d.created_at",
                &[&user_id, &now],
            )?;
            rows.iter()
                .map(|r| {
                    Ok(DeviceRow {
                        device: device_row(r)?,
                        last_seen: r.try_get(5)?,
                        open_sessions: r.try_get(6)?,
                        unsynced: (r.try_get(7)?, r.try_get(8)?, r.try_get(9)?),
                        app_version: r.try_get(10)?,
                    })
                })
                .collect()
        })?)
    }

    fn revoke_device_rows(&self, device_id: &str) -> Result<bool, StorageError> {
        let device_id = device_id.to_string();
        Ok(self.run(move |c| {
            let mut tx = c.transaction()?;
            if tx.execute(
                "UPDATE devices SET disabled = true WHERE id = $1",
                &[&device_id],
            )? == 0
            {
                return Ok(false);
            }
            tx.execute(
                "UPDATE sessions SET revoked = true WHERE device_id = $1",
                &[&device_id],
            )?;
            tx.commit()?;
            Ok(true)
        })?)
    }

    fn update_status(
        &self,
        device_id: &str,
        (cases, done, at): (i64, bool, i64),
        app_version: Option<&str>,
    ) -> Result<(), StorageError> {
        let device_id = device_id.to_string();
        let app_version = app_version.map(str::to_string);
        Ok(self.run(move |c| {
            c.execute(
                "UPDATE devices SET unsynced_cases = $2, unsynced_done = $3, unsynced_at = $4,
                        app_version = coalesce($5, app_version)
                 WHERE id = $1",
                &[&device_id, &cases, &done, &at, &app_version],
            )?;
            Ok(())
        })?)
    }
}

/// The advisory lock that holds the end of the audit chain while an entry is appended.
const AUDIT_LOCK: i64 = 0x0061_7564_6974; // "audit"

/// The class of the advisory locks that hold a throttle's key (the second key is the hash
/// of its name).
const THROTTLE_LOCK: i32 = 0x7468; // "th"

fn window_of(r: &postgres::Row) -> Result<Window, postgres::Error> {
    Ok(Window {
        count: r.try_get(0)?,
        start: r.try_get(1)?,
    })
}

const LINK_COLUMNS: &str = "id, case_id, referral_id, partner_user, language, created_by, \
     created_at, expires_at, revoked_at, revoked_by";

fn link_of(r: &postgres::Row) -> AppResult<super::links::ReferralLink> {
    let case: Vec<u8> = r.try_get(1)?;
    let case = <[u8; 16]>::try_from(case.as_slice())
        .map_err(|_| AppError::Internal("a stored link's case id is not 16 bytes".into()))?;
    Ok(super::links::ReferralLink {
        id: r.try_get(0)?,
        case_id: fieldcase_core::CaseId::from_bytes(case),
        referral_id: r.try_get(2)?,
        partner_user: r.try_get(3)?,
        language: r.try_get(4)?,
        created_by: r.try_get(5)?,
        created_at: r.try_get(6)?,
        expires_at: r.try_get(7)?,
        revoked_at: r.try_get(8)?,
        revoked_by: r.try_get(9)?,
    })
}

impl super::attachments::AttachmentRows for PostgresDb {
    fn wrapped_key_row(&self, case: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        let case = case.to_vec();
        Ok(self.run_keys(move |c| {
            Ok(
                c.query_opt("SELECT data_key FROM data_keys WHERE id = $1", &[&case])?
                    .map(|r| r.try_get::<_, Vec<u8>>(0))
                    .transpose()?,
            )
        })?)
    }

    fn file_row(
        &self,
        case: &[u8],
        file: &[u8],
    ) -> Result<Option<super::attachments::FileRow>, StorageError> {
        let (case, file) = (case.to_vec(), file.to_vec());
        Ok(self.run(move |c| {
            c.query_opt(
                "SELECT size, media_type, received, complete, created_at, created_by
                 FROM attachments WHERE case_id = $1 AND file = $2",
                &[&case, &file],
            )?
            .map(|r| {
                Ok(super::attachments::FileRow {
                    size: r.try_get(0)?,
                    media_type: r.try_get(1)?,
                    received: r.try_get(2)?,
                    complete: r.try_get(3)?,
                    created_at: r.try_get(4)?,
                    created_by: r.try_get(5)?,
                })
            })
            .transpose()
        })?)
    }

    fn insert_file_row(
        &self,
        case: &[u8],
        file: &[u8],
        row: &super::attachments::FileRow,
    ) -> Result<(), StorageError> {
        let (case, file, row) = (case.to_vec(), file.to_vec(), row.clone());
        Ok(self.run(move |c| {
            c.execute(
                "INSERT INTO attachments (case_id, file, size, media_type, received, complete,
                    created_at, created_by)
                 VALUES ($1, $2, $3, $4, 0, false, $5, $6) ON CONFLICT DO NOTHING",
                &[
                    &case,
                    &file,
                    &row.size,
                    &row.media_type,
                    &row.created_at,
                    &row.created_by,
                ],
            )?;
            Ok(())
        })?)
    }

    fn put_chunk_row(
        &self,
        case: &[u8],
        file: &[u8],
        seq: i64,
        sealed: &[u8],
    ) -> Result<(), StorageError> {
        let (case, file, sealed) = (case.to_vec(), file.to_vec(), sealed.to_vec());
        Ok(self.run(move |c| {
            let mut tx = c.transaction()?;
            let counted = tx.execute(
                "UPDATE attachments SET received = received + 1
                 WHERE case_id = $1 AND file = $2 AND received = $3",
                &[&case, &file, &seq],
            )?;
            if counted == 1 {
                tx.execute(
                    "INSERT INTO attachment_chunks (case_id, file, seq, data)
                     VALUES ($1, $2, $3, $4)",
                    &[&case, &file, &seq, &sealed],
                )?;
            }
            tx.commit()?;
            Ok(())
        })?)
    }

    fn chunk_row(
        &self,
        case: &[u8],
        file: &[u8],
        seq: i64,
    ) -> Result<Option<Vec<u8>>, StorageError> {
        let (case, file) = (case.to_vec(), file.to_vec());
        Ok(self.run(move |c| {
            c.query_opt(
                "SELECT data FROM attachment_chunks WHERE case_id = $1 AND file = $2 AND seq = $3",
                &[&case, &file, &seq],
            )?
            .map(|r| r.try_get(0))
            .transpose()
            .map_err(Into::into)
        })?)
    }

    fn complete_file_row(&self, case: &[u8], file: &[u8]) -> Result<(), StorageError> {
        let (case, file) = (case.to_vec(), file.to_vec());
        Ok(self.run(move |c| {
            c.execute(
                "UPDATE attachments SET complete = true WHERE case_id = $1 AND file = $2",
                &[&case, &file],
            )?;
            Ok(())
        })?)
    }

    fn delete_file_rows(&self, case: &[u8], file: &[u8]) -> Result<(), StorageError> {
        let (case, file) = (case.to_vec(), file.to_vec());
        Ok(self.run(move |c| {
            c.execute(
                "DELETE FROM attachments WHERE case_id = $1 AND file = $2",
                &[&case, &file],
            )?;
            Ok(())
        })?)
    }
}

fn match_of(r: &postgres::Row) -> AppResult<super::matches::StoredColumns> {
    Ok(super::matches::StoredColumns {
        id: r.try_get(0)?,
        a: r.try_get(1)?,
        b: r.try_get(2)?,
        score: r.try_get(3)?,
        band: r.try_get(4)?,
        reasons: r.try_get(5)?,
        status: r.try_get(6)?,
        found_for: r.try_get(7)?,
        found_at: r.try_get(8)?,
        decided_by: r.try_get(9)?,
        decided_at: r.try_get(10)?,
    })
}

impl super::matches::MatchRows for PostgresDb {
    fn insert_match_row(&self, m: &super::matches::MatchRow) -> Result<bool, StorageError> {
        let m = m.clone();
        Ok(self.run(move |c| {
            let n = c.execute(
                "INSERT INTO case_matches (case_a, case_b, score, band, reasons, status,
                    found_for, found_at, id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (case_a, case_b) DO NOTHING",
                &[
                    &m.a.as_bytes().as_slice(),
                    &m.b.as_bytes().as_slice(),
                    &(m.score as i64),
                    &m.band_code(),
                    &m.reasons_json(),
                    &m.status.code(),
                    &m.found_for.as_bytes().as_slice(),
                    &m.found_at,
                    &m.id,
                ],
            )?;
            Ok(n == 1)
        })?)
    }

    fn match_rows_of_case(
        &self,
        case: &[u8],
        limit: usize,
    ) -> Result<Vec<super::matches::MatchRow>, StorageError> {
        let case = case.to_vec();
        let stored = self.run(move |c| {
            c.query(
                &format!(
                    "SELECT {} FROM case_matches WHERE case_a = $1 OR case_b = $1
                     ORDER BY score DESC, found_at, case_a, case_b LIMIT $2",
                    super::matches::MATCH_COLUMNS
                ),
                &[&case, &(limit as i64)],
            )?
            .iter()
            .map(match_of)
            .collect::<AppResult<Vec<_>>>()
        })?;
        stored.into_iter().map(|r| r.row()).collect()
    }

    fn open_match_rows(&self, limit: usize) -> Result<Vec<super::matches::MatchRow>, StorageError> {
        let stored = self.run(move |c| {
            c.query(
                &format!(
                    "SELECT {} FROM case_matches WHERE status = 'open'
                     ORDER BY found_at DESC, case_a, case_b LIMIT $1",
                    super::matches::MATCH_COLUMNS
                ),
                &[&(limit as i64)],
            )?
            .iter()
            .map(match_of)
            .collect::<AppResult<Vec<_>>>()
        })?;
        stored.into_iter().map(|r| r.row()).collect()
    }

    fn decide_match_row(
        &self,
        a: &[u8],
        b: &[u8],
        status: &str,
        by: &str,
        now: i64,
    ) -> Result<bool, StorageError> {
        let (a, b, status, by) = (a.to_vec(), b.to_vec(), status.to_string(), by.to_string());
        Ok(self.run(move |c| {
            let n = c.execute(
                "UPDATE case_matches SET status = $3, decided_by = $4, decided_at = $5
                 WHERE case_a = $1 AND case_b = $2 AND status = 'open'",
                &[&a, &b, &status, &by, &now],
            )?;
            Ok(n == 1)
        })?)
    }
}

impl super::links::LinkRows for PostgresDb {
    fn insert_link_row(
        &self,
        l: &super::links::ReferralLink,
        token_hash: &[u8],
    ) -> Result<(), StorageError> {
        let (l, hash) = (l.clone(), token_hash.to_vec());
        Ok(self.run(move |c| {
            c.execute(
                "INSERT INTO referral_links (id, token_hash, case_id, referral_id, partner_user,
                    language, created_by, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[
                    &l.id,
                    &hash,
                    &l.case_id.as_bytes().as_slice(),
                    &l.referral_id,
                    &l.partner_user,
                    &l.language,
                    &l.created_by,
                    &l.created_at,
                    &l.expires_at,
                ],
            )?;
            Ok(())
        })?)
    }

    fn link_row_by_hash(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<super::links::ReferralLink>, StorageError> {
        let hash = token_hash.to_vec();
        Ok(self.run(move |c| {
            c.query_opt(
                &format!("SELECT {LINK_COLUMNS} FROM referral_links WHERE token_hash = $1"),
                &[&hash],
            )?
            .map(|r| link_of(&r))
            .transpose()
        })?)
    }

    fn link_rows_of_case(
        &self,
        case: &[u8],
    ) -> Result<Vec<super::links::ReferralLink>, StorageError> {
        let case = case.to_vec();
        Ok(self.run(move |c| {
            c.query(
                &format!(
                    "SELECT {LINK_COLUMNS} FROM referral_links WHERE case_id = $1
                     ORDER BY created_at DESC, id"
                ),
                &[&case],
            )?
            .iter()
            .map(link_of)
            .collect()
        })?)
    }

    fn revoke_link_row(&self, id: &str, by: &str, now: i64) -> Result<bool, StorageError> {
        let (id, by) = (id.to_string(), by.to_string());
        Ok(self.run(move |c| {
            let n = c.execute(
                "UPDATE referral_links SET revoked_at = $3, revoked_by = $2
                 WHERE id = $1 AND revoked_at IS NULL",
                &[&id, &by, &now],
            )?;
            Ok(n == 1)
        })?)
    }
}

impl super::directory::DirectoryRows for PostgresDb {
    fn directory_row(&self) -> Result<Option<super::directory::DirectoryRow>, StorageError> {
        Ok(self.run(move |c| {
            c.query_opt(
                "SELECT version, data_key, data, updated_at, updated_by FROM directory WHERE id = 1",
                &[],
            )?
            .map(|r| {
                Ok(super::directory::DirectoryRow {
                    version: r.try_get(0)?,
                    data_key: r.try_get(1)?,
                    data: r.try_get(2)?,
                    updated_at: r.try_get(3)?,
                    updated_by: r.try_get(4)?,
                })
            })
            .transpose()
        })?)
    }

    fn directory_version_row(&self) -> Result<i64, StorageError> {
        Ok(self.run(move |c| {
            Ok(
                c.query_opt("SELECT version FROM directory WHERE id = 1", &[])?
                    .map(|r| r.try_get(0))
                    .transpose()?
                    .unwrap_or(0),
            )
        })?)
    }

    fn replace_directory_row(
        &self,
        expected: i64,
        row: &super::directory::DirectoryRow,
    ) -> Result<bool, StorageError> {
        let row = row.clone();
        Ok(self.run(move |c| {
            let mut tx = c.transaction()?;
            // The row locked (or the table, for the first version): one writer at a time.
            tx.batch_execute("LOCK TABLE directory IN SHARE ROW EXCLUSIVE MODE")?;
            let stored: i64 = tx
                .query_opt("SELECT version FROM directory WHERE id = 1", &[])?
                .map(|r| r.try_get(0))
                .transpose()?
                .unwrap_or(0);
            if stored != expected {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO directory (id, version, data_key, data, updated_at, updated_by)
                 VALUES (1, $1, $2, $3, $4, $5)
                 ON CONFLICT (id) DO UPDATE SET version = excluded.version,
                    data_key = excluded.data_key, data = excluded.data,
                    updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                &[
                    &row.version,
                    &row.data_key,
                    &row.data,
                    &row.updated_at,
                    &row.updated_by,
                ],
            )?;
            tx.commit()?;
            Ok(true)
        })?)
    }
}

/// The tables that hold a case's rows besides `cases` itself, by its key (`case_id`):
/// everything an erasure deletes (the audit trail keeps its entries, ids only).
const CASE_TABLES: &[&str] = &[
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

fn tombstone_of(r: &postgres::Row) -> Result<super::erasure::Tombstone, StorageError> {
    let key: Vec<u8> = r.try_get(0)?;
    Ok(super::erasure::Tombstone {
        case_id: super::erasure::case_id(&key)?,
        team: r.try_get(1)?,
        erased_at: r.try_get(2)?,
        erased_by: r.try_get(3)?,
        reason: r.try_get(4)?,
    })
}

const REQUEST_COLUMNS: &str =
    "id, case_id, team, requested_by, requested_at, reason, decided_by, decided_at, decision";

fn request_of(r: &postgres::Row) -> Result<super::erasure::ErasureRequest, StorageError> {
    let key: Vec<u8> = r.try_get(1)?;
    Ok(super::erasure::ErasureRequest {
        id: r.try_get(0)?,
        case_id: super::erasure::case_id(&key)?,
        team: r.try_get(2)?,
        requested_by: r.try_get(3)?,
        requested_at: r.try_get(4)?,
        reason: r.try_get(5)?,
        decided_by: r.try_get(6)?,
        decided_at: r.try_get(7)?,
        decision: r.try_get(8)?,
    })
}

impl super::erasure::ErasureRows for PostgresDb {
    fn insert_request_row(&self, r: &super::erasure::ErasureRequest) -> Result<bool, StorageError> {
        let r = r.clone();
        let n = self
            .run(move |c| {
                Ok(c.execute(
                    "INSERT INTO erasure_requests
                        (id, case_id, team, requested_by, requested_at, reason)
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                    &[
                        &r.id,
                        &&r.case_id.as_bytes()[..],
                        &r.team,
                        &r.requested_by,
                        &r.requested_at,
                        &r.reason,
                    ],
                )?)
            })
            .map_err(|e| StorageError::Unavailable(e.to_string()))?;
        Ok(n == 1)
    }

    fn request_rows(
        &self,
        open_only: bool,
    ) -> Result<Vec<super::erasure::ErasureRequest>, StorageError> {
        let rows = self
            .run(move |c| {
                Ok(c.query(
                    &format!(
                        "SELECT {REQUEST_COLUMNS} FROM erasure_requests
                         WHERE NOT $1 OR decision IS NULL ORDER BY requested_at DESC, id"
                    ),
                    &[&open_only],
                )?)
            })
            .map_err(|e| StorageError::Unavailable(e.to_string()))?;
        rows.iter().map(request_of).collect()
    }

    fn decide_request_row(
        &self,
        id: &str,
        by: &str,
        decision: &str,
        now: i64,
    ) -> Result<Option<super::erasure::ErasureRequest>, StorageError> {
        let (id, by, decision) = (id.to_string(), by.to_string(), decision.to_string());
        let row = self
            .run(move |c| {
                Ok(c.query_opt(
                    &format!(
                        "UPDATE erasure_requests SET decided_by = $2, decided_at = $3, decision = $4
                         WHERE id = $1 AND decision IS NULL RETURNING {REQUEST_COLUMNS}"
                    ),
                    &[&id, &by, &now, &decision],
                )?)
            })
            .map_err(|e| StorageError::Unavailable(e.to_string()))?;
        row.as_ref().map(request_of).transpose()
    }

    fn erase_rows(
        &self,
        id: &[u8],
        by: &str,
        reason: &str,
        now: i64,
    ) -> Result<Option<super::erasure::Tombstone>, StorageError> {
        let (key, by_, reason_) = (id.to_vec(), by.to_string(), reason.to_string());
        let writer = self.writer.clone();
        let team = self
            .run_both(move |c, keyring| {
                let Some(row) = c.query_opt("SELECT team FROM cases WHERE id = $1", &[&key])?
                else {
                    return Ok(None);
                };
                let team: String = row.try_get(0)?;
                // The key first, in the keys database with a tombstone there: from its
                // commit on, no copy of the case opens (the dumps of the data database
                // hold no key); a crash before the rows below go leaves them to the next
                // start ([`join_erasures`]).
                let mut k = keyring.transaction()?;
                k.execute("DELETE FROM data_keys WHERE id = $1", &[&key])?;
                k.execute(
                    "INSERT INTO erased_cases (id, team, erased_at, erased_by, reason)
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
                    &[&key, &team, &now, &by_, &reason_],
                )?;
                k.commit()?;
                let mut tx = c.transaction()?;
                // The case's row lock: a write under way finishes first, and one after
                // finds no case, then its tombstone.
                if tx
                    .query_opt("SELECT 1 FROM cases WHERE id = $1 FOR UPDATE", &[&key])?
                    .is_none()
                {
                    return Ok(None);
                }
                erase_in(&mut tx, &key, &team, now, &by_, &reason_)?;
                // Other instances see a case write (their cases in memory are checked).
                tx.execute(
                    "INSERT INTO case_writers (writer, writes, started_at) VALUES ($1, 1, $2)
                     ON CONFLICT (writer) DO UPDATE SET writes = case_writers.writes + 1",
                    &[&writer, &now],
                )?;
                tx.commit()?;
                Ok(Some(team))
            })
            .map_err(|e| StorageError::Unavailable(e.to_string()))?;
        Ok(match team {
            Some(team) => Some(super::erasure::Tombstone {
                case_id: super::erasure::case_id(id)?,
                team,
                erased_at: now,
                erased_by: by.to_string(),
                reason: reason.to_string(),
            }),
            None => None,
        })
    }

    fn tombstone_row(&self, id: &[u8]) -> Result<Option<super::erasure::Tombstone>, StorageError> {
        let key = id.to_vec();
        let row = self
            .run(move |c| {
                Ok(c.query_opt(
                    "SELECT id, team, erased_at, erased_by, reason FROM erased_cases WHERE id = $1",
                    &[&key],
                )?)
            })
            .map_err(|e| StorageError::Unavailable(e.to_string()))?;
        row.as_ref().map(tombstone_of).transpose()
    }

    fn hold_row(&self, h: &super::erasure::RetentionHold) -> Result<(), StorageError> {
        let (key, until, by, reason, at) = (
            h.case_id.as_bytes().to_vec(),
            h.until,
            h.by.clone(),
            h.reason.clone(),
            h.at,
        );
        self.run(move |c| {
            c.execute(
                "INSERT INTO retention_holds (case_id, until, by, reason, at) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (case_id) DO UPDATE SET until = excluded.until, by = excluded.by,
                    reason = excluded.reason, at = excluded.at",
                &[&key, &until, &by, &reason, &at],
            )?;
            Ok(())
        })
        .map_err(|e| StorageError::Unavailable(e.to_string()))
    }

    fn hold_rows(&self) -> Result<Vec<super::erasure::RetentionHold>, StorageError> {
        let rows = self
            .run(|c| {
                Ok(c.query(
                    "SELECT case_id, until, by, reason, at FROM retention_holds ORDER BY until DESC, case_id",
                    &[],
                )?)
            })
            .map_err(|e| StorageError::Unavailable(e.to_string()))?;
        rows.iter()
            .map(|r| {
                let key: Vec<u8> = r.try_get(0)?;
                Ok(super::erasure::RetentionHold {
                    case_id: super::erasure::case_id(&key)?,
                    until: r.try_get(1)?,
                    by: r.try_get(2)?,
                    reason: r.try_get(3)?,
                    at: r.try_get(4)?,
                })
            })
            .collect()
    }

    fn tombstone_rows(&self) -> Result<Vec<super::erasure::Tombstone>, StorageError> {
        let rows = self
            .run(|c| {
                Ok(c.query(
                    "SELECT id, team, erased_at, erased_by, reason FROM erased_cases
                     ORDER BY erased_at DESC, id",
                    &[],
                )?)
            })
            .map_err(|e| StorageError::Unavailable(e.to_string()))?;
        rows.iter().map(tombstone_of).collect()
    }
}

impl RecordRows for PostgresDb {
    fn insert_audit(
        &self,
        at: i64,
        user_id: &str,
        device: &str,
        cases: &[&[u8]],
        action: &str,
    ) -> Result<(), StorageError> {
        let mine = Arc::new(PendingAudit {
            entries: AuditEntries::new(at, user_id, device, cases, action),
            outcome: Mutex::new(None),
        });
        let q = &self.audits;
        q.waiting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(mine.clone());
        let _writer = q.writing.lock().unwrap_or_else(|p| p.into_inner());
        let done = |p: &PendingAudit| p.outcome.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(outcome) = done(&mine) {
            // The writer before wrote these entries with its own.
            return outcome.map_err(StorageError::Unavailable);
        }
        let batch = std::mem::take(&mut *q.waiting.lock().unwrap_or_else(|p| p.into_inner()));
        let written = batch.clone();
        let result = self
            .run(move |c| {
                let mut tx = c.transaction()?;
                // The chain's end is held against every other instance until the commit.
                tx.execute("SELECT pg_advisory_xact_lock($1)", &[&AUDIT_LOCK])?;
                let mut prev: Vec<u8> = tx
                    .query_opt(
                        "SELECT hash FROM audit WHERE hash IS NOT NULL ORDER BY id DESC LIMIT 1",
                        &[],
                    )?
                    .map(|r| r.try_get(0))
                    .transpose()?
                    .unwrap_or_default();
                for p in &written {
                    let a = &p.entries;
                    for key in &a.cases {
                        let hash = super::records::audit_link(
                            &prev, a.at, &a.user_id, &a.device, key, &a.action,
                        );
                        let stored: &[u8] = &hash;
                        tx.execute(
                            "INSERT INTO audit (at, user_id, device, case_id, action, hash)
                         VALUES ($1, $2, $3, $4, $5, $6)",
                            &[&a.at, &a.user_id, &a.device, key, &a.action, &stored],
                        )?;
                        prev = hash;
                    }
                }
                tx.commit()?;
                Ok(())
            })
            .map_err(|e| e.to_string());
        for p in &batch {
            *p.outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(result.clone());
        }
        done(&mine)
            .unwrap_or_else(|| Err("an audit entry was lost".into()))
            .map_err(StorageError::Unavailable)
    }

    fn audit_rows(&self, case: Option<&[u8]>, limit: i64) -> Result<Vec<AuditRow>, StorageError> {
        let key = case.map(<[u8]>::to_vec);
        Ok(self.run(move |c| {
            c.query(
                "SELECT at, user_id, device, case_id, action FROM audit
                 WHERE $1::BYTEA IS NULL OR case_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
                &[&key, &limit],
            )?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get(0)?,
                    r.try_get(1)?,
                    r.try_get(2)?,
                    r.try_get(3)?,
                    r.try_get(4)?,
                ))
            })
            .collect()
        })?)
    }

    fn audit_chain_rows(&self, after: i64, limit: i64) -> Result<Vec<ChainRow>, StorageError> {
        Ok(self.run(move |c| {
            c.query(
                "SELECT id, at, user_id, device, case_id, action, hash FROM audit
                 WHERE id > $1 ORDER BY id LIMIT $2",
                &[&after, &limit],
            )?
            .iter()
            .map(|r| {
                Ok(ChainRow {
                    id: r.try_get(0)?,
                    at: r.try_get(1)?,
                    user_id: r.try_get(2)?,
                    device: r.try_get(3)?,
                    case: r.try_get(4)?,
                    action: r.try_get(5)?,
                    hash: r.try_get(6)?,
                })
            })
            .collect()
        })?)
    }

    fn insert_admin_entry(&self, e: &AdminEntry) -> Result<(), StorageError> {
        let e = e.clone();
        Ok(self.run(move |c| {
            c.execute(
                "INSERT INTO admin_log (at, by, action, target) VALUES ($1, $2, $3, $4)",
                &[&e.at, &e.by, &e.action, &e.target],
            )?;
            Ok(())
        })?)
    }

    fn admin_rows(&self, limit: i64) -> Result<Vec<AdminEntry>, StorageError> {
        Ok(self.run(move |c| {
            c.query(
                "SELECT at, by, action, target FROM admin_log ORDER BY at DESC, id DESC LIMIT $1",
                &[&limit],
            )?
            .iter()
            .map(|r| {
                Ok(AdminEntry {
                    at: r.try_get(0)?,
                    by: r.try_get(1)?,
                    action: r.try_get(2)?,
                    target: r.try_get(3)?,
                })
            })
            .collect()
        })?)
    }

    fn departure_row(&self, case: &[u8], device: &str) -> Result<bool, StorageError> {
        let (key, device) = (case.to_vec(), device.to_string());
        Ok(self.run(move |c| {
            Ok(c.query_opt(
                "SELECT 1 FROM departures WHERE case_id = $1 AND device_id = $2",
                &[&key, &device],
            )?
            .is_some())
        })?)
    }

    fn insert_departure(
        &self,
        case: &[u8],
        device: &str,
        changes: i64,
        at: i64,
    ) -> Result<bool, StorageError> {
        let (key, device) = (case.to_vec(), device.to_string());
        Ok(self.run(move |c| {
            let n = c.execute(
                "INSERT INTO departures (case_id, device_id, at, changes) VALUES ($1, $2, $3, $4)
                 ON CONFLICT DO NOTHING",
                &[&key, &device, &at, &changes],
            )?;
            Ok(n == 1)
        })?)
    }

    fn delete_departure(&self, case: &[u8], device: &str) -> Result<(), StorageError> {
        let (key, device) = (case.to_vec(), device.to_string());
        Ok(self.run(move |c| {
            c.execute(
                "DELETE FROM departures WHERE case_id = $1 AND device_id = $2",
                &[&key, &device],
            )?;
            Ok(())
        })?)
    }

    fn assignment_end_row(&self, case: &[u8], user_id: &str) -> Result<Option<i64>, StorageError> {
        let (key, user) = (case.to_vec(), user_id.to_string());
        Ok(self.run(move |c| {
            Ok(c.query_opt(
                "SELECT at FROM assignment_ends WHERE case_id = $1 AND user_id = $2",
                &[&key, &user],
            )?
            .map(|r| r.try_get(0))
            .transpose()?)
        })?)
    }

    fn throttle_row(&self, key: &str) -> Result<Option<Window>, StorageError> {
        let key = key.to_string();
        Ok(self.run(move |c| {
            Ok(c.query_opt(
                "SELECT count, window_start FROM throttles WHERE key = $1",
                &[&key],
            )?
            .map(|r| window_of(&r))
            .transpose()?)
        })?)
    }

    fn change_throttle(
        &self,
        key: &str,
        forget_before: Option<i64>,
        change: WindowChange,
    ) -> Result<Option<Window>, StorageError> {
        let key = key.to_string();
        Ok(self.run(move |c| {
            if let Some(before) = forget_before {
                // On its own, before the key is held: a transaction holding these rows
                // while it waits for a key could deadlock with another one.
                c.execute("DELETE FROM throttles WHERE window_start < $1", &[&before])?;
            }
            let mut tx = c.transaction()?;
            // The key is held even while it has no row (two first events count two).
            tx.execute(
                "SELECT pg_advisory_xact_lock($1, hashtext($2))",
                &[&THROTTLE_LOCK, &key],
            )?;
            let current = tx
                .query_opt(
                    "SELECT count, window_start FROM throttles WHERE key = $1",
                    &[&key],
                )?
                .map(|r| window_of(&r))
                .transpose()?;
            let next = change(current);
            if let Some(w) = next {
                tx.execute(
                    "INSERT INTO throttles (key, count, window_start) VALUES ($1, $2, $3)
                     ON CONFLICT (key) DO UPDATE SET count = excluded.count,
                       window_start = excluded.window_start",
                    &[&key, &w.count, &w.start],
                )?;
            }
            tx.commit()?;
            Ok(next.or(current))
        })?)
    }

    fn delete_throttle(&self, key: &str) -> Result<(), StorageError> {
        let key = key.to_string();
        Ok(self.run(move |c| {
            c.execute("DELETE FROM throttles WHERE key = $1", &[&key])?;
            Ok(())
        })?)
    }
}

impl super::areas::AreaRows for PostgresDb {
    fn area_rows(&self) -> Result<Vec<super::areas::Area>, StorageError> {
        Ok(self.run(move |c| {
            c.query("SELECT code, name FROM areas ORDER BY code", &[])?
                .iter()
                .map(|r| {
                    Ok(super::areas::Area {
                        code: r.try_get(0)?,
                        name: r.try_get(1)?,
                    })
                })
                .collect()
        })?)
    }

    fn put_area_row(
        &self,
        area: &super::areas::Area,
        max: usize,
        now: i64,
    ) -> Result<super::areas::AreaWrite, StorageError> {
        use super::areas::AreaWrite;
        let area = area.clone();
        Ok(self.run(move |c| {
            let mut tx = c.transaction()?;
            // One writer at a time, so that two instances adding at once stay within max.
            tx.batch_execute("LOCK TABLE areas IN SHARE ROW EXCLUSIVE MODE")?;
            let renamed = tx.execute(
                "UPDATE areas SET name = $2, updated_at = $3 WHERE code = $1",
                &[&area.code, &area.name, &now],
            )?;
            if renamed > 0 {
                tx.commit()?;
                return Ok(AreaWrite::Renamed);
            }
            let count: i64 = tx
                .query_one("SELECT count(*) FROM areas", &[])?
                .try_get(0)?;
            if count as usize >= max {
                return Ok(AreaWrite::Full);
            }
            tx.execute(
                "INSERT INTO areas (code, name, updated_at) VALUES ($1, $2, $3)",
                &[&area.code, &area.name, &now],
            )?;
            tx.commit()?;
            Ok(AreaWrite::Added)
        })?)
    }
}

impl AccountRows for PostgresDb {
    fn insert_team(&self, name: &str, now: i64) -> Result<Option<Team>, StorageError> {
        let name = name.to_string();
        Ok(self.run(move |c| {
            let row = c.query_opt(
                "INSERT INTO teams (name, created_at) VALUES ($1, $2)
                 ON CONFLICT (name) DO NOTHING RETURNING id",
                &[&name, &now],
            )?;
            Ok(match row {
                Some(r) => Some(Team {
                    id: r.try_get(0)?,
                    name,
                    label: None,
                }),
                None => None,
            })
        })?)
    }

    fn update_team_label(&self, name: &str, label: &str) -> Result<bool, StorageError> {
        let (name, label) = (name.to_string(), label.to_string());
        Ok(self.run(move |c| {
            Ok(c.execute(
                "UPDATE teams SET label = CASE WHEN $2 = name THEN NULL ELSE $2 END WHERE name = $1",
                &[&name, &label],
            )? > 0)
        })?)
    }

    fn team_rows(&self) -> Result<Vec<Team>, StorageError> {
        Ok(self.run(|c| {
            c.query("SELECT id, name, label FROM teams ORDER BY name", &[])?
                .iter()
                .map(|r| {
                    Ok(Team {
                        id: r.try_get(0)?,
                        name: r.try_get(1)?,
                        label: r.try_get(2)?,
                    })
                })
                .collect()
        })?)
    }

    fn insert_user(&self, row: &NewUserRow<'_>) -> Result<UserInsert, StorageError> {
        let (id, username, display, role, team, hash, now) = (
            row.id.to_string(),
            row.username.to_string(),
            row.display_name.to_string(),
            row.role.code(),
            row.team.map(str::to_string),
            row.hash.clone(),
            row.now,
        );
        Ok(self.run(move |c| {
            let Some(team_id) = team_key(c, team.as_deref())? else {
                return Ok(UserInsert::NoSuchTeam);
            };
            let n = c.execute(
                "INSERT INTO users (id, username, display_name, role, team_id, pw_hash, pw_salt, pw_iterations, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (username) DO NOTHING",
                &[
                    &id,
                    &username,
                    &display,
                    &role,
                    &team_id,
                    &hash.hash,
                    &hash.salt,
                    &i64::from(hash.iterations),
                    &now,
                ],
            )?;
            if n == 0 {
                return Ok(UserInsert::Taken);
            }
            Ok(match Self::user_named(c, &username)? {
                Some(user) => UserInsert::Inserted(user),
                None => return Err(AppError::Internal("user vanished".into())),
            })
        })?)
    }

    fn replace_password_ending_sessions(
        &self,
        username: &str,
        h: &PasswordHash,
    ) -> Result<bool, StorageError> {
        let (username, h) = (username.to_string(), h.clone());
        Ok(self.run(move |c| {
            let mut tx = c.transaction()?;
            let n = tx.execute(
                "UPDATE users SET pw_hash = $2, pw_salt = $3, pw_iterations = $4 WHERE username = $1",
                &[&username, &h.hash, &h.salt, &i64::from(h.iterations)],
            )?;
            if n == 0 {
                return Ok(false);
            }
            tx.execute(
                "UPDATE sessions SET revoked = true WHERE user_id = (SELECT id FROM users WHERE username = $1)",
                &[&username],
            )?;
            tx.commit()?;
            Ok(true)
        })?)
    }

    fn password_row(&self, username: &str) -> Result<Option<PasswordRow>, StorageError> {
        let name = username.to_string();
        Ok(self.run(move |c| {
            c.query_opt(
                "SELECT pw_hash, pw_salt, pw_iterations, disabled FROM users WHERE username = $1",
                &[&name],
            )?
            .map(|r| {
                let iterations: i64 = r.try_get(2)?;
                Ok(PasswordRow {
                    hash: PasswordHash {
                        hash: r.try_get(0)?,
                        salt: r.try_get(1)?,
                        iterations: u32::try_from(iterations).unwrap_or(0),
                    },
                    disabled: r.try_get::<_, bool>(3)?,
                })
            })
            .transpose()
        })?)
    }

    fn replace_password_hash(&self, username: &str, h: &PasswordHash) -> Result<(), StorageError> {
        let (name, h) = (username.to_string(), h.clone());
        Ok(self.run(move |c| {
            c.execute(
                "UPDATE users SET pw_hash = $2, pw_salt = $3, pw_iterations = $4 WHERE username = $1",
                &[&name, &h.hash, &h.salt, &i64::from(h.iterations)],
            )?;
            Ok(())
        })?)
    }

    fn user_row(&self, username: &str) -> Result<Option<User>, StorageError> {
        let username = username.to_string();
        Ok(self.run(move |c| Self::user_named(c, &username))?)
    }

    fn session_row(&self, token_hash: &[u8]) -> Result<Option<SessionRow>, StorageError> {
        let hash = token_hash.to_vec();
        Ok(self.run(move |c| {
            let sql = format!(
                "SELECT {USER_COLUMNS}, s.device_id, s.expires_at, s.last_used, s.revoked, d.disabled
                 FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN teams t ON t.id = u.team_id
                 JOIN devices d ON d.id = s.device_id WHERE s.token_hash = $1"
            );
            let Some(r) = c.query_opt(&sql, &[&hash])? else {
                return Ok(None);
            };
            Ok(Some(SessionRow {
                user: user_row(&r)?,
                device_id: r.try_get(6)?,
                expires_at: r.try_get(7)?,
                last_used: r.try_get(8)?,
                revoked: r.try_get(9)?,
                device_disabled: r.try_get(10)?,
            }))
        })?)
    }

    fn touch_session(&self, token_hash: &[u8], now: i64) -> Result<(), StorageError> {
        let hash = token_hash.to_vec();
        Ok(self.run(move |c| {
            c.execute(
                "UPDATE sessions SET last_used = $2 WHERE token_hash = $1",
                &[&hash, &now],
            )?;
            Ok(())
        })?)
    }

    fn register_rows(
        &self,
        user_id: &str,
        device: Option<&str>,
        name: &str,
        actor: &str,
        now: i64,
    ) -> Result<Registration, StorageError> {
        let (user_id, device_id, name, actor) = (
            user_id.to_string(),
            device.map(str::to_string),
            name.to_string(),
            actor.to_string(),
        );
        Ok(self.run(move |c| {
            let mut tx = c.transaction()?;
            let device = match device_id {
                Some(d) => {
                    let row = tx.query_opt("SELECT user_id, disabled FROM devices WHERE id = $1", &[&d])?;
                    let row = row
                        .map(|r| Ok::<_, postgres::Error>((r.try_get::<_, String>(0)?, r.try_get::<_, bool>(1)?)))
                        .transpose()?;
                    match row {
                        Some((owner, false)) if owner == user_id => d,
                        Some((owner, true)) if owner == user_id => return Ok(Registration::DisabledDevice),
                        _ => return Ok(Registration::UnknownDevice),
                    }
                }
                None => {
                    let id = auth::new_id("d-");
                    tx.execute(
                        "INSERT INTO devices (id, user_id, name, created_at) VALUES ($1, $2, $3, $4)",
                        &[&id, &user_id, &name, &now],
                    )?;
                    id
                }
            };
            // Bound once, to one device: a concurrent registration of the same actor
            // finds the row the other inserted.
            tx.execute(
                "INSERT INTO actors (actor, device_id, registered_at) VALUES ($1, $2, $3)
                 ON CONFLICT (actor) DO NOTHING",
                &[&actor, &device, &now],
            )?;
            let bound: String = tx
                .query_one("SELECT device_id FROM actors WHERE actor = $1", &[&actor])?
                .try_get(0)?;
            if bound != device {
                return Ok(Registration::ActorElsewhere);
            }
            tx.commit()?;
            Ok(Registration::Registered(device))
        })?)
    }

    fn insert_session(
        &self,
        token_hash: &[u8],
        user_id: &str,
        device_id: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StorageError> {
        let (hash, user_id, device_id) = (
            token_hash.to_vec(),
            user_id.to_string(),
            device_id.to_string(),
        );
        Ok(self.run(move |c| {
            c.execute(
                "INSERT INTO sessions (token_hash, user_id, device_id, created_at, last_used, expires_at)
                 VALUES ($1, $2, $3, $4, $4, $5)",
                &[&hash, &user_id, &device_id, &now, &expires_at],
            )?;
            Ok(())
        })?)
    }

    fn revoke_session_row(&self, token_hash: &[u8]) -> Result<(), StorageError> {
        let hash = token_hash.to_vec();
        Ok(self.run(move |c| {
            c.execute(
                "UPDATE sessions SET revoked = true WHERE token_hash = $1",
                &[&hash],
            )?;
            Ok(())
        })?)
    }

    fn device_named(&self, user_id: &str, name: &str) -> Result<Option<String>, StorageError> {
        let (user_id, name) = (user_id.to_string(), name.to_string());
        Ok(self.run(move |c| {
            Ok(c.query_opt(
                "SELECT id FROM devices WHERE user_id = $1 AND name = $2 AND NOT disabled
                 ORDER BY created_at LIMIT 1",
                &[&user_id, &name],
            )?
            .map(|r| r.try_get(0))
            .transpose()?)
        })?)
    }
}
