//! The cron's per-site work (retention of D1 rows). Filled in by issue 15's privacy work.

use glimpse_shared::Millis;

use crate::consumer::Ports;
use crate::store::{KvStore, StoreError};

/// One site's periodic work, bounded per invocation.
pub async fn tick<S: KvStore>(
    _ports: &Ports<'_, S>,
    _site: &str,
    _now_ms: Millis,
) -> Result<(), StoreError> {
    Ok(())
}
