//! [`Sql`] over real SQLite (rusqlite, bundled: the same engine family D1 runs, with FTS5 and
//! JSON), for native tests, offline seeding and tools. Host only.
//!
//! A database starts with every migration of `worker/migrations/` applied, in order, as
//! `wrangler d1 migrations apply` would. It can record the writes it runs as plain SQL
//! ([`Sqlite::record`]) so content published offline through the API core can be replayed
//! into a local D1 with `wrangler d1 execute --file`, and it can fail a chosen statement
//! (inside a transaction: the whole batch rolls back) to prove consumers are idempotent.

use std::cell::{Cell, RefCell};

use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{Connection, params_from_iter};
use serde_json::Value;

use crate::sql::{LocalFuture, PARAMS_MAX, Param, Row, Sql, Stmt};
use crate::store::StoreError;

/// The migrations in `worker/migrations/`, in the order wrangler applies them (by name).
/// A test checks this list against the directory.
pub const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init.sql", include_str!("../migrations/0001_init.sql")),
    (
        "0002_ingest.sql",
        include_str!("../migrations/0002_ingest.sql"),
    ),
    (
        "0003_responses.sql",
        include_str!("../migrations/0003_responses.sql"),
    ),
    (
        "0004_media.sql",
        include_str!("../migrations/0004_media.sql"),
    ),
    ("0005_team.sql", include_str!("../migrations/0005_team.sql")),
    ("0006_live.sql", include_str!("../migrations/0006_live.sql")),
];

/// A SQLite database with Glimpse's schema.
pub struct Sqlite {
    conn: RefCell<Connection>,
    record: RefCell<Option<Vec<String>>>,
    statements: Cell<usize>,
    fail_at: Cell<Option<usize>>,
}

impl std::fmt::Debug for Sqlite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sqlite").finish_non_exhaustive()
    }
}

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError(format!("sqlite: {e}"))
}

impl Sqlite {
    /// A fresh in-memory database with every migration applied.
    pub fn memory() -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory().map_err(err)?;
        for (name, sql) in MIGRATIONS {
            conn.execute_batch(sql)
                .map_err(|e| StoreError(format!("migration {name}: {e}")))?;
        }
        Ok(Self {
            conn: RefCell::new(conn),
            record: RefCell::new(None),
            statements: Cell::new(0),
            fail_at: Cell::new(None),
        })
    }

    /// Starts recording every write as literal SQL (see [`Sqlite::recorded`]).
    pub fn record(&self) {
        *self.record.borrow_mut() = Some(Vec::new());
    }

    /// The writes recorded since [`Sqlite::record`], as one SQL script (statements end with
    /// `;` and a newline), ready for `wrangler d1 execute --file`.
    pub fn recorded(&self) -> String {
        self.record
            .borrow()
            .as_ref()
            .map(|v| v.iter().map(|s| format!("{s};\n")).collect())
            .unwrap_or_default()
    }

    /// Fails the `n`th statement from now (0 = the next); inside a batch, everything the
    /// batch did so far is rolled back, as D1 does.
    pub fn fail_statement(&self, n: usize) {
        self.fail_at.set(Some(self.statements.get() + n));
    }

    /// Runs raw SQL (several statements) outside the API, for tests and tools.
    pub fn execute_script(&self, sql: &str) -> Result<(), StoreError> {
        self.conn.borrow().execute_batch(sql).map_err(err)
    }

    /// Runs `sql` (several statements) in one transaction on the SQLite file at `path`, for
    /// tools that write a local D1's file directly while no runtime has it open.
    pub fn execute_file(path: &std::path::Path, sql: &str) -> Result<(), StoreError> {
        let mut conn = Connection::open(path).map_err(err)?;
        let tx = conn.transaction().map_err(err)?;
        tx.execute_batch(sql).map_err(err)?;
        tx.commit().map_err(err)
    }

    fn tick(&self) -> Result<(), StoreError> {
        let n = self.statements.get();
        self.statements.set(n + 1);
        if self.fail_at.get() == Some(n) {
            self.fail_at.set(None);
            return Err(StoreError("D1_ERROR: injected failure".into()));
        }
        Ok(())
    }

    fn run(&self, conn: &Connection, stmt: &Stmt) -> Result<Vec<Row>, StoreError> {
        self.tick()?;
        if stmt.params.len() > PARAMS_MAX {
            return Err(StoreError(format!(
                "{} parameters, D1 allows {PARAMS_MAX}",
                stmt.params.len()
            )));
        }
        let mut prepared = conn.prepare_cached(&stmt.sql).map_err(err)?;
        let readonly = prepared.readonly();
        let names: Vec<String> = prepared
            .column_names()
            .into_iter()
            .map(String::from)
            .collect();
        let params = stmt.params.iter().map(|p| match p {
            Param::Null => SqlValue::Null,
            Param::Int(i) => SqlValue::Integer(*i),
            Param::Real(r) => SqlValue::Real(*r),
            Param::Text(t) => SqlValue::Text(t.clone()),
        });
        let mut out = Vec::new();
        let mut rows = prepared.query(params_from_iter(params)).map_err(err)?;
        while let Some(row) = rows.next().map_err(err)? {
            let mut obj = Row::new();
            for (i, name) in names.iter().enumerate() {
                let v = match row.get_ref(i).map_err(err)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(n) => Value::from(n),
                    ValueRef::Real(r) => Value::from(r),
                    ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(_) => return Err(StoreError("blobs are not used".into())),
                };
                obj.insert(name.clone(), v);
            }
            out.push(obj);
        }
        if !readonly && let Some(log) = self.record.borrow_mut().as_mut() {
            log.push(literal(stmt));
        }
        Ok(out)
    }
}

/// `stmt` with its parameters written in as SQL literals.
fn literal(stmt: &Stmt) -> String {
    let lit = |p: &Param| match p {
        Param::Null => "NULL".to_string(),
        Param::Int(i) => i.to_string(),
        Param::Real(r) => format!("{r:?}"),
        Param::Text(t) => format!("'{}'", t.replace('\'', "''")),
    };
    // Parameters are `?NNN` or bare `?` (numbered in order); string literals in the SQL
    // itself never contain `?`.
    let mut out = String::new();
    let mut next = 0usize;
    let mut chars = stmt.sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '?' {
            out.push(c);
            continue;
        }
        let mut digits = String::new();
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            digits.push(*d);
            chars.next();
        }
        let index = match digits.parse::<usize>() {
            Ok(n) => n.saturating_sub(1),
            Err(_) => next,
        };
        next = index + 1;
        out.push_str(&stmt.params.get(index).map_or("NULL".into(), lit));
    }
    out
}

impl Sql for Sqlite {
    fn query<'a>(&'a self, stmt: &'a Stmt) -> LocalFuture<'a, Result<Vec<Row>, StoreError>> {
        Box::pin(async move {
            let conn = self.conn.borrow();
            self.run(&conn, stmt)
        })
    }

    fn batch<'a>(
        &'a self,
        stmts: &'a [Stmt],
    ) -> LocalFuture<'a, Result<Vec<Vec<Row>>, StoreError>> {
        Box::pin(async move {
            let mut conn = self.conn.borrow_mut();
            let tx = conn.transaction().map_err(err)?;
            let mark = self.record.borrow().as_ref().map(Vec::len);
            let mut out = Vec::with_capacity(stmts.len());
            for s in stmts {
                match self.run(&tx, s) {
                    Ok(rows) => out.push(rows),
                    Err(e) => {
                        // Dropping `tx` rolls back; so does the record of it.
                        if let (Some(m), Some(log)) = (mark, self.record.borrow_mut().as_mut()) {
                            log.truncate(m);
                        }
                        return Err(e);
                    }
                }
            }
            tx.commit().map_err(err)?;
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pollster::block_on;

    #[test]
    fn migrations_listed_are_the_directory() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{e}"))
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        names.sort();
        let listed: Vec<&str> = MIGRATIONS.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, listed);
    }

    #[test]
    fn batches_are_transactions_and_records_replay() {
        let db = Sqlite::memory().unwrap_or_else(|e| panic!("{e}"));
        db.record();
        let put = |site: &str, at: i64| {
            Stmt::new("INSERT INTO sites (site, updated_at) VALUES (?1, ?2)")
                .bind(site)
                .bind(at)
        };
        block_on(db.batch(&[put("a", 1), put("o'b", 2)])).unwrap_or_else(|e| panic!("{e}"));
        db.fail_statement(1);
        assert!(block_on(db.batch(&[put("c", 3), put("d", 4)])).is_err());
        let rows = block_on(db.query(&Stmt::new("SELECT site FROM sites ORDER BY site")))
            .unwrap_or_else(|e| panic!("{e}"));
        let sites: Vec<&str> = rows.iter().filter_map(|r| r["site"].as_str()).collect();
        assert_eq!(sites, ["a", "o'b"], "the failed batch left nothing");
        let script = db.recorded();
        assert_eq!(
            script,
            "INSERT INTO sites (site, updated_at) VALUES ('a', 1);\n\
             INSERT INTO sites (site, updated_at) VALUES ('o''b', 2);\n"
        );
        let copy = Sqlite::memory().unwrap_or_else(|e| panic!("{e}"));
        copy.execute_script(&script)
            .unwrap_or_else(|e| panic!("{e}"));
        let rows = block_on(copy.query(&Stmt::new("SELECT count(*) AS n FROM sites")))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rows[0]["n"], 2);
    }

    #[test]
    fn too_many_parameters_are_refused_like_d1() {
        let db = Sqlite::memory().unwrap_or_else(|e| panic!("{e}"));
        let mut s = Stmt::new(format!("SELECT {}", vec!["?"; 101].join(",")));
        for i in 0..101 {
            s = s.bind(i64::from(i));
        }
        assert!(block_on(db.query(&s)).is_err());
    }
}
