//! The storage port. The API core only sees [`KvStore`]; the edge implements it over Workers
//! KV and tests use [`MemoryKv`]. Semantics follow Workers KV: last write wins, entries may
//! carry an absolute expiration, reads of expired entries return nothing.

use std::cell::RefCell;
use std::collections::BTreeMap;

use glimpse_shared::Millis;

/// A storage failure. The API answers these with 503 + Retry-After; they are never the
/// client's fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "store error: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

/// Key-value storage with Workers KV semantics. Futures are not `Send`: Workers are
/// single-threaded.
#[allow(async_fn_in_trait)]
pub trait KvStore {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError>;
    /// Stores `value`; with `expires_at_ms`, the entry disappears at that instant.
    async fn put(
        &self,
        key: &str,
        value: &str,
        expires_at_ms: Option<Millis>,
    ) -> Result<(), StoreError>;
}

/// In-memory [`KvStore`] for native tests and tools. Expiry is judged against a clock the
/// test sets, never the system clock.
#[derive(Debug, Default)]
pub struct MemoryKv {
    entries: RefCell<BTreeMap<String, (String, Option<Millis>)>>,
    now_ms: RefCell<Millis>,
}

impl MemoryKv {
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the store's clock, which decides what has expired.
    pub fn set_now(&self, now_ms: Millis) {
        *self.now_ms.borrow_mut() = now_ms;
    }
}

impl KvStore for MemoryKv {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let now = *self.now_ms.borrow();
        Ok(self
            .entries
            .borrow()
            .get(key)
            .filter(|(_, exp)| exp.is_none_or(|e| now < e))
            .map(|(v, _)| v.clone()))
    }

    async fn put(
        &self,
        key: &str,
        value: &str,
        expires_at_ms: Option<Millis>,
    ) -> Result<(), StoreError> {
        self.entries
            .borrow_mut()
            .insert(key.to_string(), (value.to_string(), expires_at_ms));
        Ok(())
    }
}
