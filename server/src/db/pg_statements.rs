//! A PostgreSQL connection that prepares each statement once ([`Pg`], and [`PgTx`] for its
//! transactions): the `postgres` client's `query("...")` prepares the text anew at every
//! call, one round trip to the database (and one parse and plan there) before the
//! statement runs. Kept by their text, the statements are run by name from the second call
//! on: one round trip a statement. The methods have the client's names and arguments, so
//! the storage's statements read as they did.
//!
//! A named statement lives as long as its connection (PostgreSQL does not drop it when a
//! transaction rolls back); a connection made again starts with none. One the database no
//! longer knows (a pooler between, `DISCARD ALL`) or whose table changed its columns under
//! it ("cached plan must not change result type") fails once and is prepared again at its
//! next call.
//!
//! PostgreSQL plans a named statement with its values five times, then may keep a generic
//! plan when it costs no more (`plan_cache_mode`): no statement of the server has a plan
//! that depends much on its values (the closed cases are read with a literal `closed`,
//! which the partial index `cases_closed` needs).

use std::collections::HashMap;

use postgres::types::ToSql;
use postgres::{Client, GenericClient, Row, Statement};

/// The most statements one connection keeps; past it they are all prepared anew. The
/// server runs about two hundred different statements (some built with a table's name),
/// so this is only a bound.
pub const MAX_STATEMENTS: usize = 1024;

/// A connection's prepared statements, by their text.
#[derive(Default)]
struct Statements(HashMap<String, Statement>);

impl Statements {
    /// Forgets `sql` when `e` says the database no longer has it as it was prepared.
    fn forget_if_stale(&mut self, sql: &str, e: &postgres::Error) {
        use postgres::error::SqlState;
        let stale = e.code().is_some_and(|c| {
            *c == SqlState::INVALID_SQL_STATEMENT_NAME || *c == SqlState::FEATURE_NOT_SUPPORTED
        });
        if stale {
            self.0.remove(sql);
        }
    }

    /// Runs `sql` on `c` as the statement prepared at its first use (forgotten when the
    /// database no longer has it as it was prepared).
    fn run<C: GenericClient, T>(
        &mut self,
        c: &mut C,
        sql: &str,
        run: impl FnOnce(&mut C, &Statement) -> Result<T, postgres::Error>,
    ) -> Result<T, postgres::Error> {
        let s = self.get(c, sql)?;
        run(c, &s).inspect_err(|e| self.forget_if_stale(sql, e))
    }

    /// The statement `sql`, prepared on `c` at its first use.
    fn get(&mut self, c: &mut impl GenericClient, sql: &str) -> Result<Statement, postgres::Error> {
        if let Some(s) = self.0.get(sql) {
            return Ok(s.clone());
        }
        let s = c.prepare(sql)?;
        if self.0.len() >= MAX_STATEMENTS {
            self.0.clear();
        }
        self.0.insert(sql.to_string(), s.clone());
        Ok(s)
    }
}

/// Statements run through [`Statements`], with the `postgres` client's names.
macro_rules! prepared_once {
    () => {
        pub fn query(
            &mut self,
            sql: &str,
            params: &[&(dyn ToSql + Sync)],
        ) -> Result<Vec<Row>, postgres::Error> {
            self.statements
                .run(&mut self.inner, sql, |c, s| c.query(s, params))
        }

        pub fn query_one(
            &mut self,
            sql: &str,
            params: &[&(dyn ToSql + Sync)],
        ) -> Result<Row, postgres::Error> {
            self.statements
                .run(&mut self.inner, sql, |c, s| c.query_one(s, params))
        }

        pub fn query_opt(
            &mut self,
            sql: &str,
            params: &[&(dyn ToSql + Sync)],
        ) -> Result<Option<Row>, postgres::Error> {
            self.statements
                .run(&mut self.inner, sql, |c, s| c.query_opt(s, params))
        }

        pub fn execute(
            &mut self,
            sql: &str,
            params: &[&(dyn ToSql + Sync)],
        ) -> Result<u64, postgres::Error> {
            self.statements
                .run(&mut self.inner, sql, |c, s| c.execute(s, params))
        }

        /// Statements without parameters, sent as they are (nothing prepared).
        pub fn batch_execute(&mut self, sql: &str) -> Result<(), postgres::Error> {
            self.inner.batch_execute(sql)
        }
    };
}

/// A connection to one database, with the statements prepared on it.
pub struct Pg {
    inner: Client,
    statements: Statements,
}

impl Pg {
    pub fn new(client: Client) -> Self {
        Pg {
            inner: client,
            statements: Statements::default(),
        }
    }

    /// A connection to `url` (without TLS, as the storage's).
    pub fn connect(url: &str) -> Result<Self, postgres::Error> {
        Ok(Pg::new(Client::connect(url, postgres::NoTls)?))
    }

    prepared_once!();

    /// A transaction on the same statements.
    pub fn transaction(&mut self) -> Result<PgTx<'_>, postgres::Error> {
        Ok(PgTx {
            inner: self.inner.transaction()?,
            statements: &mut self.statements,
        })
    }

    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// A read-only transaction on one snapshot of the database.
    pub fn read_view(&mut self) -> Result<PgTx<'_>, postgres::Error> {
        Ok(PgTx {
            inner: self
                .inner
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?,
            statements: &mut self.statements,
        })
    }
}

/// A transaction of a [`Pg`], on its statements.
pub struct PgTx<'a> {
    inner: postgres::Transaction<'a>,
    statements: &'a mut Statements,
}

impl PgTx<'_> {
    prepared_once!();

    pub fn commit(self) -> Result<(), postgres::Error> {
        self.inner.commit()
    }
}

impl std::fmt::Debug for Pg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pg")
            .field("statements", &self.statements.0.len())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for PgTx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgTx")
            .field("statements", &self.statements.0.len())
            .finish_non_exhaustive()
    }
}
