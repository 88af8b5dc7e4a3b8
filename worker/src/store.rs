//! The storage port. The API core only sees [`KvStore`]; the edge implements it over Workers
//! KV, tests use [`MemoryKv`] and [`FaultyKv`]. Semantics follow Workers KV: last write wins,
//! entries may carry an absolute expiration and up to 1024 bytes of JSON metadata returned
//! by listings, reads and listings of expired entries return nothing.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use glimpse_shared::Millis;
use serde_json::Value;

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

/// How to write an entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Put {
    /// The entry disappears at this instant.
    pub expires_at_ms: Option<Millis>,
    /// Returned with the key by [`KvStore::list`] (≤ 1024 bytes serialized).
    pub metadata: Option<Value>,
}

impl Put {
    pub fn expiring(at_ms: Millis) -> Self {
        Self {
            expires_at_ms: Some(at_ms),
            metadata: None,
        }
    }
}

/// One key from a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub name: String,
    pub metadata: Option<Value>,
}

/// One page of a listing; `cursor` is `Some` when more pages follow.
#[derive(Debug, Clone, PartialEq)]
pub struct ListPage {
    pub keys: Vec<Listed>,
    pub cursor: Option<String>,
}

/// Workers KV's metadata limit.
pub const METADATA_MAX_BYTES: usize = 1024;
/// Keys per listing page, as in Workers KV.
pub const LIST_PAGE: usize = 1000;

/// Key-value storage with Workers KV semantics. Futures are not `Send`: Workers are
/// single-threaded.
#[allow(async_fn_in_trait)]
pub trait KvStore {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError>;
    /// [`KvStore::get`] as a shared string: a store that keeps values in memory
    /// ([`Cached`]) hands out the same one until it reads the key again, so a caller can tell
    /// an unchanged value by its pointer without comparing it.
    async fn get_shared(&self, key: &str) -> Result<Option<Rc<str>>, StoreError> {
        Ok(self.get(key).await?.map(Rc::from))
    }
    async fn put(&self, key: &str, value: &str, opts: Put) -> Result<(), StoreError>;
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// Keys starting with `prefix`, in key order, a page at a time.
    async fn list(&self, prefix: &str, cursor: Option<String>) -> Result<ListPage, StoreError>;
}

/// Every key under `prefix`, following cursors, at most `max_pages` pages.
pub async fn list_all<S: KvStore>(
    store: &S,
    prefix: &str,
    max_pages: usize,
) -> Result<Vec<Listed>, StoreError> {
    let mut out = Vec::new();
    let mut cursor = None;
    for _ in 0..max_pages {
        let page = store.list(prefix, cursor).await?;
        out.extend(page.keys);
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    Ok(out)
}

#[derive(Debug, Clone)]
struct Entry {
    value: String,
    expires_at_ms: Option<Millis>,
    metadata: Option<Value>,
}

/// In-memory [`KvStore`] for native tests and tools. Expiry is judged against a clock the
/// test sets, never the system clock.
#[derive(Debug, Default)]
pub struct MemoryKv {
    entries: RefCell<BTreeMap<String, Entry>>,
    now_ms: Cell<Millis>,
    page_size: Cell<Option<usize>>,
}

impl MemoryKv {
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the store's clock, which decides what has expired.
    pub fn set_now(&self, now_ms: Millis) {
        self.now_ms.set(now_ms);
    }

    /// Makes listings page after `n` keys (KV pages after 1000), to exercise cursors.
    pub fn set_page_size(&self, n: usize) {
        self.page_size.set(Some(n.max(1)));
    }

    /// Live keys, for tests that check what was (not) written.
    pub fn keys(&self) -> Vec<String> {
        let now = self.now_ms.get();
        self.entries
            .borrow()
            .iter()
            .filter(|(_, e)| e.expires_at_ms.is_none_or(|x| now < x))
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Every live entry: `(key, value, expires_at_ms, metadata)`, in key order. Tools use
    /// it to lay out content exactly as the API would have stored it.
    pub fn dump(&self) -> Vec<(String, String, Option<Millis>, Option<Value>)> {
        let now = self.now_ms.get();
        self.entries
            .borrow()
            .iter()
            .filter(|(_, e)| e.expires_at_ms.is_none_or(|x| now < x))
            .map(|(k, e)| {
                (
                    k.clone(),
                    e.value.clone(),
                    e.expires_at_ms,
                    e.metadata.clone(),
                )
            })
            .collect()
    }

    /// The expiration of a live key.
    pub fn expiration(&self, key: &str) -> Option<Millis> {
        self.entries.borrow().get(key).and_then(|e| e.expires_at_ms)
    }
}

impl KvStore for MemoryKv {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let now = self.now_ms.get();
        Ok(self
            .entries
            .borrow()
            .get(key)
            .filter(|e| e.expires_at_ms.is_none_or(|x| now < x))
            .map(|e| e.value.clone()))
    }

    async fn put(&self, key: &str, value: &str, opts: Put) -> Result<(), StoreError> {
        if key.is_empty() || key.len() > 512 {
            return Err(StoreError(format!("invalid key length {}", key.len())));
        }
        if let Some(m) = &opts.metadata {
            let len = serde_json::to_string(m)
                .map(|s| s.len())
                .unwrap_or(usize::MAX);
            if len > METADATA_MAX_BYTES {
                return Err(StoreError(format!("metadata of {len} bytes is over 1024")));
            }
        }
        self.entries.borrow_mut().insert(
            key.to_string(),
            Entry {
                value: value.to_string(),
                expires_at_ms: opts.expires_at_ms,
                metadata: opts.metadata,
            },
        );
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.entries.borrow_mut().remove(key);
        Ok(())
    }

    async fn list(&self, prefix: &str, cursor: Option<String>) -> Result<ListPage, StoreError> {
        let now = self.now_ms.get();
        let page = self.page_size.get().unwrap_or(LIST_PAGE);
        let entries = self.entries.borrow();
        let mut keys: Vec<Listed> = entries
            .range(cursor.unwrap_or_else(|| prefix.to_string())..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .filter(|(_, e)| e.expires_at_ms.is_none_or(|x| now < x))
            .take(page + 1)
            .map(|(k, e)| Listed {
                name: k.clone(),
                metadata: e.metadata.clone(),
            })
            .collect();
        let cursor = if keys.len() > page {
            keys.pop().map(|k| k.name)
        } else {
            None
        };
        Ok(ListPage { keys, cursor })
    }
}

/// How an injected failure behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// KV answered 429 (too many writes to one key, or account limits).
    RateLimited,
    /// KV answered 5xx.
    ServerError,
    /// The operation timed out before it happened.
    Timeout,
    /// The write happened, but the answer was lost (a timeout after commit): the worst case
    /// for idempotency.
    AppliedThenTimeout,
}

/// A [`MemoryKv`] that fails chosen operations, to prove the API degrades to 503 and never
/// records anything twice or loses it. Operations are numbered from 0 in call order.
#[derive(Debug, Default)]
pub struct FaultyKv {
    pub inner: MemoryKv,
    ops: Cell<usize>,
    faults: RefCell<BTreeMap<usize, Fault>>,
    fail_all: Cell<Option<Fault>>,
}

impl FaultyKv {
    pub fn new(inner: MemoryKv) -> Self {
        Self {
            inner,
            ..Self::default()
        }
    }

    /// Fails the `n`th operation from now on (0 = the next one).
    pub fn fail_op(&self, n: usize, fault: Fault) {
        self.faults.borrow_mut().insert(self.ops.get() + n, fault);
    }

    /// Fails every operation until [`FaultyKv::heal`].
    pub fn fail_all(&self, fault: Fault) {
        self.fail_all.set(Some(fault));
    }

    pub fn heal(&self) {
        self.fail_all.set(None);
        self.faults.borrow_mut().clear();
    }

    /// Operations attempted so far.
    pub fn ops(&self) -> usize {
        self.ops.get()
    }

    fn next_fault(&self) -> Option<Fault> {
        let n = self.ops.get();
        self.ops.set(n + 1);
        self.fail_all
            .get()
            .or_else(|| self.faults.borrow_mut().remove(&n))
    }

    fn error(fault: Fault) -> StoreError {
        StoreError(
            match fault {
                Fault::RateLimited => "KV 429 Too Many Requests",
                Fault::ServerError => "KV 500 Internal Server Error",
                Fault::Timeout | Fault::AppliedThenTimeout => "KV operation timed out",
            }
            .into(),
        )
    }
}

impl KvStore for FaultyKv {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        match self.next_fault() {
            Some(f) => Err(Self::error(f)),
            None => self.inner.get(key).await,
        }
    }

    async fn put(&self, key: &str, value: &str, opts: Put) -> Result<(), StoreError> {
        match self.next_fault() {
            Some(Fault::AppliedThenTimeout) => {
                self.inner.put(key, value, opts).await?;
                Err(Self::error(Fault::AppliedThenTimeout))
            }
            Some(f) => Err(Self::error(f)),
            None => self.inner.put(key, value, opts).await,
        }
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        match self.next_fault() {
            Some(Fault::AppliedThenTimeout) => {
                self.inner.delete(key).await?;
                Err(Self::error(Fault::AppliedThenTimeout))
            }
            Some(f) => Err(Self::error(f)),
            None => self.inner.delete(key).await,
        }
    }

    async fn list(&self, prefix: &str, cursor: Option<String>) -> Result<ListPage, StoreError> {
        match self.next_fault() {
            Some(f) => Err(Self::error(f)),
            None => self.inner.list(prefix, cursor).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pollster::block_on;

    fn cached<'a>(
        inner: &'a FaultyKv,
        cache: &'a ReadCache,
        now_ms: Millis,
    ) -> Cached<'a, &'a FaultyKv> {
        Cached {
            inner,
            cache,
            now_ms,
            ttl_ms: 5_000,
            cacheable: |k| k.ends_with("/snapshot"),
        }
    }

    #[test]
    fn hot_keys_are_read_once_per_ttl_and_writes_show_at_once() {
        let kv = FaultyKv::new(MemoryKv::new());
        let cache = ReadCache::default();
        let ok = |r: Result<(), StoreError>| r.unwrap_or_else(|e| panic!("{e}"));
        ok(block_on(kv.put("site/a/snapshot", "v1", Put::default())));
        ok(block_on(kv.put("site/a/config", "c", Put::default())));
        let start = kv.ops();
        for t in [0, 1_000, 4_999] {
            let s = cached(&kv, &cache, t);
            assert_eq!(block_on(s.get("site/a/snapshot")), Ok(Some("v1".into())));
        }
        assert_eq!(kv.ops() - start, 1, "one KV read within the TTL");
        // Other keys always go to KV.
        let s = cached(&kv, &cache, 4_999);
        assert_eq!(block_on(s.get("site/a/config")), Ok(Some("c".into())));
        assert_eq!(kv.ops() - start, 2);
        // Another isolate's write is seen once the TTL is over.
        ok(block_on(kv.put("site/a/snapshot", "v2", Put::default())));
        let later = cached(&kv, &cache, 4_999);
        assert_eq!(
            block_on(later.get("site/a/snapshot")),
            Ok(Some("v1".into()))
        );
        let later = cached(&kv, &cache, 5_000);
        assert_eq!(
            block_on(later.get("site/a/snapshot")),
            Ok(Some("v2".into()))
        );
        // This isolate's own writes and deletes are seen at once, without a read.
        ok(block_on(later.put("site/a/snapshot", "v3", Put::default())));
        let before = kv.ops();
        assert_eq!(
            block_on(later.get("site/a/snapshot")),
            Ok(Some("v3".into()))
        );
        assert_eq!(kv.ops(), before);
        ok(block_on(later.delete("site/a/snapshot")));
        assert_eq!(block_on(later.get("site/a/snapshot")), Ok(None));
        // A failed write forgets the cached value: the next read asks KV.
        ok(block_on(kv.put("site/a/snapshot", "v4", Put::default())));
        kv.fail_op(0, Fault::Timeout);
        assert!(block_on(later.put("site/a/snapshot", "v5", Put::default())).is_err());
        assert_eq!(
            block_on(later.get("site/a/snapshot")),
            Ok(Some("v4".into()))
        );
    }

    /// Within the TTL every read hands out the same shared string (the feed's memo tells an
    /// unchanged snapshot by its pointer, without comparing it); a read after it, a new one.
    #[test]
    fn hot_values_are_shared_not_copied() {
        let kv = FaultyKv::new(MemoryKv::new());
        let cache = ReadCache::default();
        block_on(kv.put("site/a/snapshot", "v1", Put::default())).unwrap_or_else(|e| panic!("{e}"));
        let read = |t| {
            block_on(cached(&kv, &cache, t).get_shared("site/a/snapshot"))
                .ok()
                .flatten()
                .unwrap_or_else(|| panic!("no value at {t}"))
        };
        let (a, b) = (read(0), read(4_999));
        assert!(Rc::ptr_eq(&a, &b));
        let c = read(5_000);
        assert_eq!(*c, *a);
        assert!(!Rc::ptr_eq(&a, &c), "read again after the TTL");
    }

    #[test]
    fn expiry_follows_the_store_clock() {
        let kv = MemoryKv::new();
        block_on(kv.put("a", "1", Put::expiring(100))).unwrap_or_else(|e| panic!("{e}"));
        kv.set_now(99);
        assert_eq!(block_on(kv.get("a")), Ok(Some("1".into())));
        kv.set_now(100);
        assert_eq!(block_on(kv.get("a")), Ok(None));
        assert!(kv.keys().is_empty());
    }

    #[test]
    fn listing_pages_by_prefix_with_metadata() {
        let kv = MemoryKv::new();
        kv.set_page_size(2);
        for k in ["p/a", "p/b", "p/c", "q/a", "o/z"] {
            let opts = Put {
                expires_at_ms: None,
                metadata: Some(serde_json::json!({ "k": k })),
            };
            block_on(kv.put(k, "v", opts)).unwrap_or_else(|e| panic!("{e}"));
        }
        let all = block_on(list_all(&kv, "p/", 10)).unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<_> = all.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["p/a", "p/b", "p/c"]);
        assert_eq!(all[2].metadata, Some(serde_json::json!({"k": "p/c"})));
        let first = block_on(list_all(&kv, "p/", 1)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(first.len(), 2);
    }

    #[test]
    fn metadata_over_1024_bytes_is_refused() {
        let kv = MemoryKv::new();
        let opts = Put {
            expires_at_ms: None,
            metadata: Some(Value::String("x".repeat(1100))),
        };
        assert!(block_on(kv.put("k", "v", opts)).is_err());
        assert!(kv.keys().is_empty());
    }

    #[test]
    fn faults_hit_the_chosen_operation() {
        let kv = FaultyKv::new(MemoryKv::new());
        kv.fail_op(1, Fault::AppliedThenTimeout);
        assert!(block_on(kv.put("a", "1", Put::default())).is_ok());
        assert!(block_on(kv.put("b", "2", Put::default())).is_err());
        assert_eq!(block_on(kv.get("b")), Ok(Some("2".into())));
        kv.fail_all(Fault::ServerError);
        assert!(block_on(kv.get("a")).is_err());
        kv.heal();
        assert_eq!(block_on(kv.get("a")), Ok(Some("1".into())));
        assert_eq!(kv.ops(), 5);
    }
}

impl<S: KvStore> KvStore for &S {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        (**self).get(key).await
    }

    async fn put(&self, key: &str, value: &str, opts: Put) -> Result<(), StoreError> {
        (**self).put(key, value, opts).await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        (**self).delete(key).await
    }

    async fn list(&self, prefix: &str, cursor: Option<String>) -> Result<ListPage, StoreError> {
        (**self).list(prefix, cursor).await
    }
}

/// How long an isolate answers from its in-memory copy of a site's snapshot (every public
/// request reads it) before reading KV again. Its own writes replace the copy at once, but a
/// write made elsewhere (the operators' worker, another isolate) is seen by the visitors'
/// worker at most this much later (plus KV's own propagation between locations). See
/// [`ReadCache`] and `keys::is_snapshot`.
pub const SNAPSHOT_TTL_MS: Millis = 2_000;

/// Values an isolate read recently, shared by its requests. Workers KV is eventually
/// consistent (a write may take up to a minute to reach other locations) and the feed is
/// served with `max-age=10`, so keeping a hot key in memory for a few seconds changes what
/// visitors can observe by at most that much, and saves a KV read on almost every request.
/// When a value was read and the value (`None`: the key was absent), shared with callers.
type Held = (Millis, Option<Rc<str>>);

#[derive(Debug, Default)]
pub struct ReadCache {
    entries: RefCell<BTreeMap<String, Held>>,
}

impl ReadCache {
    /// Most keys kept; beyond it the cache starts over (it only ever holds hot keys).
    pub const MAX_ENTRIES: usize = 256;

    fn get(&self, key: &str, now_ms: Millis, ttl_ms: Millis) -> Option<Option<Rc<str>>> {
        self.entries
            .borrow()
            .get(key)
            .filter(|(at, _)| (0..ttl_ms).contains(&(now_ms - at)))
            .map(|(_, v)| v.clone())
    }

    fn set(&self, key: &str, now_ms: Millis, value: Option<Rc<str>>) {
        let mut entries = self.entries.borrow_mut();
        if entries.len() >= Self::MAX_ENTRIES && !entries.contains_key(key) {
            entries.clear();
        }
        entries.insert(key.to_string(), (now_ms, value));
    }
}

/// A store that answers reads of the keys `cacheable` selects from a [`ReadCache`] for up to
/// `ttl_ms`; writes and deletes through it update the cache, so an isolate always sees its
/// own writes at once.
pub struct Cached<'a, S> {
    pub inner: S,
    pub cache: &'a ReadCache,
    pub now_ms: Millis,
    pub ttl_ms: Millis,
    pub cacheable: fn(&str) -> bool,
}

impl<S: KvStore> KvStore for Cached<'_, S> {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        if !(self.cacheable)(key) {
            return self.inner.get(key).await;
        }
        Ok(self.get_shared(key).await?.map(|v| v.to_string()))
    }

    async fn get_shared(&self, key: &str) -> Result<Option<Rc<str>>, StoreError> {
        if !(self.cacheable)(key) {
            return self.inner.get_shared(key).await;
        }
        if let Some(hit) = self.cache.get(key, self.now_ms, self.ttl_ms) {
            return Ok(hit);
        }
        let value: Option<Rc<str>> = self.inner.get(key).await?.map(Rc::from);
        self.cache.set(key, self.now_ms, value.clone());
        Ok(value)
    }

    async fn put(&self, key: &str, value: &str, opts: Put) -> Result<(), StoreError> {
        let res = self.inner.put(key, value, opts).await;
        if (self.cacheable)(key) {
            // After a failed write the stored value is unknown: read it again next time.
            self.cache.set(key, self.now_ms - self.ttl_ms, None);
            if res.is_ok() {
                self.cache.set(key, self.now_ms, Some(Rc::from(value)));
            }
        }
        res
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let res = self.inner.delete(key).await;
        if (self.cacheable)(key) {
            self.cache.set(key, self.now_ms - self.ttl_ms, None);
            if res.is_ok() {
                self.cache.set(key, self.now_ms, None);
            }
        }
        res
    }

    async fn list(&self, prefix: &str, cursor: Option<String>) -> Result<ListPage, StoreError> {
        self.inner.list(prefix, cursor).await
    }
}
