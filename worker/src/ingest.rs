//! Ingestion of votes and event batches into D1 (exact tallies, per-day counters).
//! Filled in by the ingest work of issue 15.

use glimpse_shared::Millis;

use crate::queue::Message;
use crate::sql::{Sql, Stmt};
use crate::store::StoreError;

/// The writes that apply the vote and event messages among `messages` (reads D1 first).
pub async fn plan(
    _sql: &dyn Sql,
    _messages: &[&Message],
    _now_ms: Millis,
) -> Result<Vec<Stmt>, StoreError> {
    Ok(Vec::new())
}
