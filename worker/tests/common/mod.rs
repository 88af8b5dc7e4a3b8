//! A test harness over the pure API core: in-memory (or fault-injecting) KV, a limiter and
//! an admin token, with helpers that read like the HTTP calls they stand for.
#![allow(dead_code)]

use glimpse_worker::consumer::{Ports, consume};
use glimpse_worker::core::{Api, handle};
use glimpse_worker::door::AuthThrottle;
use glimpse_worker::http::{ApiRequest, ApiResponse};
use glimpse_worker::limit::{Limit, RateLimiter};
use glimpse_worker::queue::{CountingQueue, MemoryQueue, Message};
use glimpse_worker::route::Method;
use glimpse_worker::sql::{Budget, CountingKv, CountingSql, Counts, Sql};
use glimpse_worker::sqlite::Sqlite;
use glimpse_worker::store::KvStore;
use serde_json::{Value, json};

pub const TOKEN: &str = "test-admin-token-0123456789abcdefghij";
pub const ORIGIN: &str = "https://shop.example";
pub const HOUR: i64 = 3_600_000;
/// A fixed "now" for tests: 2026-11-22T00:00:00Z.
pub const T0: i64 = 1_795_305_600_000;

pub struct H<S> {
    pub kv: S,
    pub limiter: RateLimiter,
    pub auth_failures: AuthThrottle,
    pub token: Option<&'static str>,
    /// Whether a CSPRNG is available (`false`: `random` yields `None`).
    pub csprng: bool,
    /// D1, as real SQLite with every migration applied.
    pub sql: Sqlite,
    /// The ingestion queue; [`H::drain`] delivers it to the consumer.
    pub queue: MemoryQueue,
    /// Storage operations of the last request or consumer invocation.
    pub counts: Counts,
    /// Every request and consumer invocation must stay within it (Cloudflare's limits).
    pub budget: Budget,
    /// Parsed snapshots and serialised feeds, kept across requests like an isolate's.
    pub memo: glimpse_worker::memo::SnapshotMemo,
    /// R2: the media library's files.
    pub blobs: glimpse_worker::media::MemoryBlobs,
    /// Webhook receivers: what was POSTed, and the answers they give.
    pub deliver: glimpse_worker::webhooks::MemoryDeliver,
    /// Live sessions' rooms (the Durable Objects), in memory.
    pub rooms: glimpse_worker::live::MemoryRooms,
}

impl<S: KvStore> H<S> {
    pub fn with(kv: S) -> Self {
        Self {
            kv,
            limiter: RateLimiter::new(Limit::per_minute(0)),
            // Tests of refusals send many wrong tokens from one address; the throttle's own
            // tests (tests/door.rs) use the real limit.
            auth_failures: AuthThrottle::new(100_000, 60_000),
            token: Some(TOKEN),
            csprng: true,
            sql: Sqlite::memory().unwrap_or_else(|e| panic!("{e}")),
            queue: MemoryQueue::new(),
            counts: Counts::default(),
            budget: Budget::CLOUDFLARE,
            memo: glimpse_worker::memo::SnapshotMemo::default(),
            blobs: glimpse_worker::media::MemoryBlobs::default(),
            deliver: glimpse_worker::webhooks::MemoryDeliver::default(),
            rooms: glimpse_worker::live::MemoryRooms::default(),
        }
    }

    /// Fails the test if the last invocation used more storage than Cloudflare allows.
    fn check_budget(&self, what: &str) {
        if let Some(over) = self.counts.over(&self.budget) {
            panic!("{what}: {over}");
        }
    }

    /// This invocation's storage: KV, D1 and the queue, each counted (counts reset).
    fn counted(&self) -> (CountingKv<'_, &S>, CountingSql<'_>, CountingQueue<'_>) {
        self.counts.reset();
        (
            CountingKv {
                inner: &self.kv,
                counts: &self.counts,
            },
            CountingSql {
                inner: &self.sql,
                counts: &self.counts,
            },
            CountingQueue {
                inner: &self.queue,
                counts: &self.counts,
            },
        )
    }

    /// Delivers `messages` to the consumer as one batch, within the budget.
    pub fn consume(&self, messages: &[Message], now: i64) -> Result<(), String> {
        let (store, sql, queue) = self.counted();
        let ports = Ports {
            store: &store,
            sql: &sql,
            queue: &queue,
            blobs: &self.blobs,
            deliver: &self.deliver,
        };
        let res = pollster::block_on(consume(&ports, messages, now)).map_err(|e| e.to_string());
        self.check_budget("queue consumer");
        res
    }

    /// Delivers every waiting message (including what consuming sends) in batches of 100,
    /// as Cloudflare Queues would; panics on a consumer failure.
    pub fn drain(&self, now: i64) {
        loop {
            let batch = self.queue.take(100);
            if batch.is_empty() {
                return;
            }
            if let Err(e) = self.consume(&batch, now) {
                panic!("consumer failed: {e}");
            }
        }
    }

    /// The D1 database, for assertions.
    pub fn db(&self) -> &dyn Sql {
        &self.sql
    }

    pub fn call(&self, req: ApiRequest, now: i64) -> ApiResponse {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let random = || {
            let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.csprng.then(|| format!("id{n:024}"))
        };
        let (store, sql, queue) = self.counted();
        let api = Api {
            store: &store,
            admin_token: self.token,
            limiter: &self.limiter,
            auth_failures: &self.auth_failures,
            random: &random,
            sql: &sql,
            queue: &queue,
            zones: &glimpse_worker::hours::TzDatabase,
            memo: &self.memo,
            local: true,
            blobs: &self.blobs,
            rooms: &self.rooms,
        };
        let what = format!("{} {}", req.method.as_str(), req.path);
        let res = pollster::block_on(handle(&api, &req, now));
        self.check_budget(&what);
        res
    }

    pub fn admin(&self, method: Method, path: &str, body: Option<Value>, now: i64) -> ApiResponse {
        let mut req =
            ApiRequest::new(method, path).header("authorization", &format!("Bearer {TOKEN}"));
        if let Some(b) = body {
            req = req.json(b.to_string());
        }
        self.call(req, now)
    }

    pub fn put(&self, path: &str, body: Value, now: i64) -> ApiResponse {
        self.admin(Method::Put, path, Some(body), now)
    }

    pub fn feed(&self, now: i64) -> Value {
        let res = self.call(ApiRequest::new(Method::Get, "/v1/sites/demo/feed"), now);
        assert_eq!(res.status, 200, "{}", res.body);
        body(&res)
    }

    pub fn vote(
        &self,
        poll: &str,
        id: &str,
        visitor: &str,
        answer: Value,
        now: i64,
    ) -> ApiResponse {
        self.call(
            ApiRequest::new(
                Method::Post,
                &format!("/v1/sites/demo/polls/{poll}/responses"),
            )
            .header("origin", ORIGIN)
            .json(json!({"id": id, "visitor": visitor, "answer": answer}).to_string()),
            now,
        )
    }

    pub fn results(&self, poll: &str, now: i64) -> Value {
        let res = self.admin(
            Method::Get,
            &format!("/v1/admin/sites/demo/polls/{poll}/results"),
            None,
            now,
        );
        assert_eq!(res.status, 200, "{}", res.body);
        body(&res)
    }

    /// The demo site with a story, a session and three polls (choice, rating, text), all
    /// published at T0.
    pub fn seed(&self) {
        for (path, value) in [
            ("/v1/admin/sites/demo", site()),
            (
                "/v1/admin/sites/demo/stories/reset",
                story("reset", T0, T0 + 48 * HOUR),
            ),
            (
                "/v1/admin/sites/demo/sessions/qa",
                session("qa", T0, T0 + HOUR, T0 + 2 * HOUR),
            ),
            (
                "/v1/admin/sites/demo/polls/helpful",
                poll(
                    "helpful",
                    json!({"type":"choice","options":["Yes","No","Partly"]}),
                ),
            ),
            (
                "/v1/admin/sites/demo/polls/csat",
                poll("csat", json!({"type":"rating"})),
            ),
            (
                "/v1/admin/sites/demo/polls/ideas",
                poll("ideas", json!({"type":"text"})),
            ),
        ] {
            let res = self.put(path, value, T0);
            assert!(
                res.status == 201 || res.status == 200,
                "{path}: {} {}",
                res.status,
                res.body
            );
        }
    }
}

pub fn body(res: &ApiResponse) -> Value {
    serde_json::from_str(&res.body).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", res.body))
}

pub fn code(res: &ApiResponse) -> String {
    body(res)["error"]["code"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

pub fn field(res: &ApiResponse) -> String {
    body(res)["error"]["field"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

pub fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x["id"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

pub fn site() -> Value {
    json!({
        "id": "demo",
        "name": "Demo Coffee",
        "origins": [ORIGIN],
        "theme": {"accent": "#aa3300", "mode": "light"},
        "language": "en",
        "timezone": "Europe/Berlin",
        "channels": [{"kind": "email", "label": "Email us", "value": "help@shop.example"}],
        "topics": [{"id": "orders", "label": "Orders"}, {"id": "billing", "label": "Billing", "simple": false}],
        "retention_days": 30
    })
}

pub fn story(id: &str, publish_at: i64, expires_at: i64) -> Value {
    json!({
        "id": id, "title": format!("How to {id}"), "topic": "orders",
        "slides": [{"text": "Open Settings", "duration_ms": 5000},
                   {"text": "Tap Reset", "duration_ms": 5000,
                    "cta": {"label": "Open", "url": "https://shop.example/reset"}}],
        "publish_at": publish_at, "expires_at": expires_at
    })
}

pub fn session(id: &str, announce_from: i64, starts_at: i64, ends_at: i64) -> Value {
    json!({
        "id": id, "title": "Live Q&A: billing", "topic": "billing", "host": "Ana",
        "announce_from": announce_from, "starts_at": starts_at, "ends_at": ends_at,
        "join_url": "https://meet.example/qa"
    })
}

pub fn poll(id: &str, kind: Value) -> Value {
    json!({
        "id": id, "question": "Did this help?", "kind": kind,
        "publish_at": T0, "expires_at": T0 + 24 * HOUR, "show_results": true
    })
}

/// A visitor or response token.
pub fn tok(prefix: &str, n: usize) -> String {
    format!("{prefix}-{n:016}")
}
