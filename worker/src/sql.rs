//! The SQL port: what the API core asks of Cloudflare D1. The edge implements [`Sql`] over a
//! D1 binding, native tests and tools over real SQLite ([`crate::sqlite::Sqlite`], bundled
//! by rusqlite), so every query and migration runs the same SQL in both.
//!
//! Conventions, so the same statement works on D1 and SQLite:
//! - parameters are positional (`?1`, `?2`, … or `?`), at most [`PARAMS_MAX`] per statement
//!   (D1's limit); many rows go in as one JSON text parameter read with `json_each(?)`;
//! - integers are `i64` milliseconds or counts (D1 hands numbers to JavaScript as doubles,
//!   exact up to 2^53);
//! - rows come back as JSON objects keyed by column name and are decoded with serde
//!   ([`rows`]), so a column's name is its field's name.

use std::borrow::Cow;
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::store::StoreError;

/// Bound parameters D1 allows in one statement.
pub const PARAMS_MAX: usize = 100;

/// A future that need not be `Send` (Workers are single-threaded).
pub type LocalFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// One bound parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl From<i64> for Param {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}

impl From<u32> for Param {
    fn from(v: u32) -> Self {
        Self::Int(i64::from(v))
    }
}

impl From<f64> for Param {
    fn from(v: f64) -> Self {
        Self::Real(v)
    }
}

impl From<&str> for Param {
    fn from(v: &str) -> Self {
        Self::Text(v.to_string())
    }
}

impl From<String> for Param {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}

impl From<&String> for Param {
    fn from(v: &String) -> Self {
        Self::Text(v.clone())
    }
}

impl<T: Into<Param>> From<Option<T>> for Param {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}

/// One SQL statement and its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    pub sql: Cow<'static, str>,
    pub params: Vec<Param>,
}

impl Stmt {
    pub fn new(sql: impl Into<Cow<'static, str>>) -> Self {
        Self {
            sql: sql.into(),
            params: Vec::new(),
        }
    }

    /// Binds the next positional parameter.
    #[must_use]
    pub fn bind(mut self, v: impl Into<Param>) -> Self {
        self.params.push(v.into());
        self
    }

    /// Binds `rows` as one JSON text parameter, for `json_each(?)`.
    #[must_use]
    pub fn bind_json<T: serde::Serialize + ?Sized>(self, rows: &T) -> Self {
        let text = serde_json::to_string(rows).unwrap_or_else(|_| "[]".into());
        self.bind(text)
    }
}

/// A row as a JSON object, column name → value (`null`, integer, real or text).
pub type Row = Map<String, Value>;

/// SQL storage with D1 semantics. Implementations are object-safe so the API core holds a
/// `&dyn Sql` without a type parameter.
pub trait Sql {
    /// Runs one statement and returns its rows (none for writes without `RETURNING`).
    fn query<'a>(&'a self, stmt: &'a Stmt) -> LocalFuture<'a, Result<Vec<Row>, StoreError>>;
    /// Runs `stmts` in order as one transaction: all of them happen or none does
    /// (D1's `batch`). Returns each statement's rows.
    fn batch<'a>(&'a self, stmts: &'a [Stmt])
    -> LocalFuture<'a, Result<Vec<Vec<Row>>, StoreError>>;
}

/// Runs `stmt` and decodes each row as `T` (fields named like the columns). A row that does
/// not decode is a storage error: the schema and the code disagree.
pub async fn rows<T: DeserializeOwned>(sql: &dyn Sql, stmt: Stmt) -> Result<Vec<T>, StoreError> {
    let rows = sql.query(&stmt).await?;
    decode(rows)
}

/// [`rows`], at most the first.
pub async fn first<T: DeserializeOwned>(
    sql: &dyn Sql,
    stmt: Stmt,
) -> Result<Option<T>, StoreError> {
    Ok(rows(sql, stmt).await?.into_iter().next())
}

/// Decodes rows as `T`.
pub fn decode<T: DeserializeOwned>(rows: Vec<Row>) -> Result<Vec<T>, StoreError> {
    rows.into_iter()
        .map(|r| {
            crate::json::from_value(Value::Object(r))
                .map_err(|e| StoreError(format!("unexpected row: {e}")))
        })
        .collect()
}

/// Operations counted per invocation, for [`Budget`].
#[derive(Debug, Default)]
pub struct Counts {
    /// KV reads, writes, deletes and listings.
    pub kv: Cell<usize>,
    /// D1 round trips: each `query` and each `batch` call.
    pub d1_calls: Cell<usize>,
    /// Statements D1 runs (a batch counts each of its statements).
    pub d1_statements: Cell<usize>,
    /// Queue messages sent.
    pub queue_messages: Cell<usize>,
    /// Queue send calls (a batch send is one).
    pub queue_calls: Cell<usize>,
}

impl Counts {
    pub fn reset(&self) {
        for c in [
            &self.kv,
            &self.d1_calls,
            &self.d1_statements,
            &self.queue_messages,
            &self.queue_calls,
        ] {
            c.set(0);
        }
    }

    fn add(c: &Cell<usize>, n: usize) {
        c.set(c.get().saturating_add(n));
    }

    /// Every storage operation of the invocation: KV operations, D1 calls and queue sends.
    pub fn total(&self) -> usize {
        self.kv.get() + self.d1_calls.get() + self.queue_calls.get()
    }

    /// The first of Cloudflare's per-invocation limits these counts break, if any.
    pub fn over(&self, budget: &Budget) -> Option<String> {
        let checks = [
            ("KV operations", self.kv.get(), budget.kv),
            ("D1 queries", self.d1_statements.get(), budget.d1_statements),
            ("D1 calls", self.d1_calls.get(), budget.d1_calls),
            ("queue sends", self.queue_calls.get(), budget.queue_calls),
        ];
        checks
            .into_iter()
            .find(|(_, n, max)| n > max)
            .map(|(what, n, max)| format!("{what}: {n} in one invocation, over {max}"))
    }
}

/// Cloudflare's per-invocation limits that storage use must stay under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Workers KV: 1,000 operations per invocation.
    pub kv: usize,
    /// D1: 1,000 queries per invocation on Workers Paid (50 on Free); Glimpse keeps to
    /// the Free plan's 50.
    pub d1_statements: usize,
    /// Subrequests to D1 (each `query` or `batch`): 50 on Free.
    pub d1_calls: usize,
    /// Queue sends are subrequests too: 50 on Free.
    pub queue_calls: usize,
}

impl Budget {
    /// Cloudflare's limits for one invocation (Free plan where they differ).
    pub const CLOUDFLARE: Self = Self {
        kv: 1_000,
        d1_statements: 50,
        d1_calls: 50,
        queue_calls: 50,
    };
}

/// An [`Sql`] that counts what passes through it.
pub struct CountingSql<'a> {
    pub inner: &'a dyn Sql,
    pub counts: &'a Counts,
}

impl Sql for CountingSql<'_> {
    fn query<'a>(&'a self, stmt: &'a Stmt) -> LocalFuture<'a, Result<Vec<Row>, StoreError>> {
        Counts::add(&self.counts.d1_calls, 1);
        Counts::add(&self.counts.d1_statements, 1);
        self.inner.query(stmt)
    }

    fn batch<'a>(
        &'a self,
        stmts: &'a [Stmt],
    ) -> LocalFuture<'a, Result<Vec<Vec<Row>>, StoreError>> {
        Counts::add(&self.counts.d1_calls, 1);
        Counts::add(&self.counts.d1_statements, stmts.len());
        self.inner.batch(stmts)
    }
}

/// A [`crate::store::KvStore`] that counts what passes through it.
pub struct CountingKv<'a, S> {
    pub inner: S,
    pub counts: &'a Counts,
}

impl<S: crate::store::KvStore> crate::store::KvStore for CountingKv<'_, S> {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        Counts::add(&self.counts.kv, 1);
        self.inner.get(key).await
    }

    async fn put(&self, key: &str, value: &str, opts: crate::store::Put) -> Result<(), StoreError> {
        Counts::add(&self.counts.kv, 1);
        self.inner.put(key, value, opts).await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        Counts::add(&self.counts.kv, 1);
        self.inner.delete(key).await
    }

    async fn list(
        &self,
        prefix: &str,
        cursor: Option<String>,
    ) -> Result<crate::store::ListPage, StoreError> {
        Counts::add(&self.counts.kv, 1);
        self.inner.list(prefix, cursor).await
    }
}

/// Whether the last statement of a batch's results (a `SELECT COUNT(*) AS n …` that looks
/// for the row an `INSERT … SELECT … WHERE <limit>` may have added) found it: the capped
/// insert happened.
pub fn inserted(results: &[Vec<Row>]) -> bool {
    results
        .last()
        .and_then(|r| r.first())
        .and_then(|r| r.get("n"))
        .and_then(serde_json::Value::as_i64)
        == Some(1)
}
