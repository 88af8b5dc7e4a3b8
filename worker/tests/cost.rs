//! What an anonymous request costs, counted in KV operations: oversized bodies are refused
//! before anything is stored, public results are one snapshot read and one D1 query
//! whatever the number of votes, and knowledge-base floods are answered from the isolate's
//! memory. Writes are limited per visitor and per address (see `limit.rs` for the model).

#![allow(clippy::panic)] // test helpers outside #[test] fns report failures by panicking

mod common;

use std::cell::Cell;

use common::*;
use glimpse_worker::core::{Api, edge_cache_key, handle};
use glimpse_worker::http::{ApiRequest, ApiResponse};
use glimpse_worker::limit::{Limits, RateLimiter};
use glimpse_worker::route::Method;
use glimpse_worker::store::{Cached, KvStore, ListPage, MemoryKv, Put, ReadCache, StoreError};
use serde_json::json;

/// A store that counts what reaches it.
#[derive(Debug, Default)]
struct Counting {
    inner: MemoryKv,
    gets: Cell<usize>,
    puts: Cell<usize>,
    lists: Cell<usize>,
}

impl Counting {
    fn reset(&self) {
        self.gets.set(0);
        self.puts.set(0);
        self.lists.set(0);
    }

    fn counts(&self) -> (usize, usize, usize) {
        (self.gets.get(), self.puts.get(), self.lists.get())
    }
}

impl KvStore for Counting {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.gets.set(self.gets.get() + 1);
        self.inner.get(key).await
    }
    async fn put(&self, key: &str, value: &str, opts: Put) -> Result<(), StoreError> {
        self.puts.set(self.puts.get() + 1);
        self.inner.put(key, value, opts).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.puts.set(self.puts.get() + 1);
        self.inner.delete(key).await
    }
    async fn list(&self, prefix: &str, cursor: Option<String>) -> Result<ListPage, StoreError> {
        self.lists.set(self.lists.get() + 1);
        self.inner.list(prefix, cursor).await
    }
}

fn seeded() -> H<Counting> {
    let h = H::with(Counting::default());
    h.kv.inner.set_now(T0);
    h.seed();
    h.kv.reset();
    h
}

fn public_results(h: &H<Counting>, now: i64) -> ApiResponse {
    h.call(
        ApiRequest::new(Method::Get, "/v1/sites/demo/polls/helpful/results")
            .header("origin", ORIGIN),
        now,
    )
}

#[test]
fn a_body_declared_too_large_is_refused_before_anything_is_read_or_written() {
    let h = seeded();
    for (method, path, limit) in [
        (Method::Post, "/v1/sites/demo/events", 8 * 1024),
        (Method::Post, "/v1/sites/demo/questions", 8 * 1024),
        (
            Method::Post,
            "/v1/sites/demo/polls/helpful/responses",
            8 * 1024,
        ),
        (
            Method::Put,
            "/v1/sites/demo/questions/q1/photo",
            1024 * 1024,
        ),
    ] {
        // The edge reads nothing of such a body: the core sees only the declaration.
        let req = ApiRequest::new(method, path)
            .header("origin", ORIGIN)
            .header("content-type", "application/json")
            .header("content-length", "20971520");
        assert_eq!(req.body_to_read(limit), 0);
        let res = h.call(req, T0 + 1_000);
        assert_eq!(res.status, 413, "{path}: {}", res.body);
        assert_eq!(code(&res), "payload_too_large");
        assert_eq!(
            body(&res)["error"]["message"],
            format!("request body is over {limit} bytes")
        );
        // CORS still answers the site's page, so the widget can read the refusal.
        assert_eq!(res.get_header("access-control-allow-origin"), Some(ORIGIN));
    }
    // One snapshot read per request (the edge keeps it in memory), nothing else.
    assert_eq!(h.kv.counts(), (4, 0, 0));

    // Operators' writes: refused before authentication, with no storage at all.
    h.kv.reset();
    let res = h.call(
        ApiRequest::new(Method::Put, "/v1/admin/sites/demo/stories/huge")
            .header("content-length", "20971520"),
        T0,
    );
    assert_eq!((res.status, code(&res)), (413, "payload_too_large".into()));
    assert_eq!(h.kv.counts(), (0, 0, 0));

    // A streamed body the edge stopped reading one byte past the limit.
    let res = h.call(
        ApiRequest::new(Method::Post, "/v1/sites/demo/events")
            .header("origin", ORIGIN)
            .json(vec![b' '; 8 * 1024 + 1]),
        T0,
    );
    assert_eq!(res.status, 413);
    // Exactly at the limit it is read (and judged on its content).
    let res = h.call(
        ApiRequest::new(Method::Post, "/v1/sites/demo/events")
            .header("origin", ORIGIN)
            .json(vec![b' '; 8 * 1024]),
        T0,
    );
    assert_eq!(res.status, 400, "{}", res.body);
}

#[test]
fn public_results_are_one_snapshot_read_and_one_query_whatever_the_votes() {
    let h = seeded();
    for i in 0..250 {
        let res = h.vote(
            "helpful",
            &tok("r", i),
            &tok("v", i),
            json!({"choice": i % 3}),
            T0,
        );
        assert_eq!(res.status, 202);
    }
    // Until the queue is delivered, nothing of it counts yet (eventually consistent).
    assert_eq!(body(&public_results(&h, T0 + 500))["total"], 0);
    h.drain(T0 + 1_000);
    h.kv.reset();
    let first = public_results(&h, T0 + 1_000);
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.get_header("cache-control"), Some("public, max-age=5"));
    let r = body(&first);
    assert_eq!(
        (r["total"].clone(), r["counts"].clone()),
        (json!(250), json!([84, 83, 83]))
    );
    assert_eq!(
        (r["computed_at"].clone(), r["complete"].clone()),
        (json!(T0 + 1_000), json!(true))
    );
    // The snapshot read and one D1 query; never a listing, never a write.
    assert_eq!(h.kv.counts(), (1, 0, 0));
    assert_eq!(
        (h.counts.d1_calls.get(), h.counts.d1_statements.get()),
        (1, 1)
    );
    // Operators get the same exact counts.
    assert_eq!(
        h.results("helpful", T0 + 2_000)["counts"],
        json!([84, 83, 83])
    );
}

#[test]
fn knowledge_base_floods_cost_no_kv_read_each() {
    let h = seeded();
    let cache = ReadCache::default();
    let limiter = RateLimiter::with_limits(Limits::default());
    let random = || Some("unused".to_string());
    let auth_failures = glimpse_worker::door::AuthThrottle::new(10, 60_000);
    let memo = glimpse_worker::memo::SnapshotMemo::default();
    // As the edge wires it: each request a fresh `Cached` over the isolate's `ReadCache`.
    let call = |req: ApiRequest, now: i64| {
        let store = Cached {
            inner: &h.kv,
            cache: &cache,
            now_ms: now,
            ttl_ms: 2_000,
            cacheable: glimpse_shared::keys::is_snapshot,
        };
        let api = Api {
            store: &store,
            admin_token: None,
            limiter: &limiter,
            auth_failures: &auth_failures,
            random: &random,
            sql: &h.sql,
            queue: &h.queue,
            zones: &glimpse_worker::hours::TzDatabase,
            memo: &memo,
            local: true,
            blobs: &h.blobs,
            rooms: &h.rooms,
        };
        pollster::block_on(handle(&api, &req, now))
    };
    // A flood of different searches and pages (no edge cache can help: every URL differs).
    for i in 0..200 {
        let path = if i % 2 == 0 {
            format!("/v1/sites/demo/kb?q=word{i}")
        } else {
            format!("/kb/demo?q=word{i}")
        };
        let res = call(ApiRequest::new(Method::Get, &path), T0 + 100 + i);
        assert_eq!(res.status, 200, "{path}: {}", res.body);
    }
    // The snapshot is read once for 200 requests within 2 s; entries and popularity are one
    // D1 query per search (tests/kb.rs).
    assert_eq!(h.kv.counts(), (1, 0, 0));
}

#[test]
fn only_anonymous_gets_of_shared_answers_go_through_the_edge_cache() {
    let get = |path: &str| ApiRequest::new(Method::Get, path).header("origin", ORIGIN);
    assert_eq!(
        edge_cache_key(&get("/v1/sites/demo/polls/helpful/results")).as_deref(),
        Some(
            "http://127.0.0.1:8787/v1/sites/demo/polls/helpful/results?glimpse-cors=https%3A%2F%2Fshop.example"
        )
    );
    assert_eq!(
        edge_cache_key(&get("/kb/demo?q=reset")).as_deref(),
        Some("http://127.0.0.1:8787/kb/demo?q=reset&glimpse-cors=https%3A%2F%2Fshop.example")
    );
    assert!(edge_cache_key(&ApiRequest::new(Method::Get, "/v1/sites/demo/kb")).is_some());
    for req in [
        get("/v1/sites/demo/feed"),
        get("/v1/sites/demo/questions/q1"),
        get("/v1/sites/demo/questions/q1/photo"),
        get("/v1/admin/sites/demo/polls/helpful/results"),
        get("/kb/demo").header("authorization", "Bearer x"),
        ApiRequest::new(Method::Head, "/kb/demo"),
        ApiRequest::new(Method::Post, "/v1/sites/demo/events"),
        get("/nothing"),
    ] {
        assert_eq!(
            edge_cache_key(&req),
            None,
            "{} {}",
            req.method.as_str(),
            req.path
        );
    }
}

#[test]
fn writes_are_limited_per_visitor_and_thread_reads_per_thread() {
    let mut h = seeded();
    h.limiter = RateLimiter::with_limits(Limits::default());
    let batch = |ip: &str, visitor: &str, n: usize| {
        h.call(
            ApiRequest::new(Method::Post, "/v1/sites/demo/events")
                .header("origin", ORIGIN)
                .header("cf-connecting-ip", ip)
                .json(
                    json!({"id": tok("b", n), "visitor": visitor,
                        "events": [{"kind": "story_view", "story": "reset"}]})
                    .to_string(),
                ),
            T0 + 1_000,
        )
    };
    for n in 0..30 {
        assert_eq!(batch("2001:db8::1", &tok("v", 1), n).status, 202);
    }
    // The same visitor from elsewhere in its /64 is the same client.
    let res = batch("2001:db8::ffff", &tok("v", 1), 30);
    assert_eq!((res.status, code(&res)), (429, "rate_limited".into()));
    assert_eq!(res.get_header("retry-after"), Some("59"));
    assert_eq!(res.get_header("access-control-allow-origin"), Some(ORIGIN));
    // Another visitor on that address is not.
    assert_eq!(batch("2001:db8::1", &tok("v", 2), 31).status, 202);

    // Thread reads: a visitor polls every 5 s; 30 a minute per thread is the ceiling.
    let ask = h.call(
        ApiRequest::new(Method::Post, "/v1/sites/demo/questions")
            .header("origin", ORIGIN)
            .header("cf-connecting-ip", "203.0.113.9")
            .json(
                json!({"visitor": tok("v", 3), "topic": "orders",
                    "message": "Where is my parcel?"})
                .to_string(),
            ),
        T0 + 1_000,
    );
    assert_eq!(ask.status, 201, "{}", ask.body);
    let created = body(&ask);
    let path = format!(
        "/v1/sites/demo/questions/{}",
        created["id"].as_str().unwrap_or("")
    );
    let read = |token: &str| {
        h.call(
            ApiRequest::new(Method::Get, &path)
                .header("cf-connecting-ip", "203.0.113.9")
                .header("authorization", &format!("Bearer {token}")),
            T0 + 2_000,
        )
        .status
    };
    let token = created["token"].as_str().unwrap_or("").to_string();
    for _ in 0..29 {
        assert_eq!(read(&token), 200);
    }
    // Guessing tokens counts the same.
    assert_eq!(read("wrong-token-0000000000"), 401);
    assert_eq!(read(&token), 429);
}

#[test]
fn a_vote_and_an_event_batch_are_one_kv_put_and_one_queue_send() {
    let h = seeded();
    // Beyond the site's snapshot (one read here; the edge's isolate usually holds it), a
    // vote reads nothing: one put of its response record and one message, whether it is new,
    // a retry, or a replay of a replaced answer (the consumer tells them apart in D1).
    for (i, (response, answer)) in [("a", 0), ("a", 0), ("b", 2), ("a", 0)]
        .into_iter()
        .enumerate()
    {
        h.kv.reset();
        let res = h.vote(
            "helpful",
            &tok(response, 1),
            &tok("v", 1),
            json!({ "choice": answer }),
            T0 + i as i64,
        );
        assert_eq!(res.status, 202, "{}", res.body);
        assert_eq!(h.kv.counts(), (1, 1, 0), "vote {i}");
        assert_eq!(h.queue.len(), 1, "vote {i}");
        h.drain(T0 + i as i64);
    }
    assert_eq!(h.results("helpful", T0)["counts"], json!([0, 0, 1]));
    h.kv.reset();
    let res = h.call(
        ApiRequest::new(Method::Post, "/v1/sites/demo/events")
            .header("origin", ORIGIN)
            .json(
                json!({"id": tok("b", 1), "visitor": tok("v", 1),
                       "events": [{"kind": "story_view", "story": "reset"}]})
                .to_string(),
            ),
        T0,
    );
    assert_eq!(res.status, 202, "{}", res.body);
    assert_eq!(h.kv.counts(), (1, 1, 0));
    assert_eq!(h.queue.len(), 1);
}
