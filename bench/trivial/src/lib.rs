//! The baseline Glimpse's worker is measured against: a workers-rs handler with the same
//! platform setup as Glimpse's (the same `[assets]` block and routing in wrangler.toml, the
//! same kinds of bindings, and a second worker in the session that consumes the queue, as
//! Glimpse's operators' worker does; wrangler.operators.toml) that does only what the
//! platform must do, so the difference is what Glimpse's routing, reads, JSON and decisions
//! cost on top of the runtime itself. Both workers are built from this crate.
//!
//! - `POST /v1/write`: reads the body, makes exactly one KV put and one queue send with it,
//!   answers 202 — the baseline of Glimpse's write paths (a vote, an event batch).
//! - anything else: `ok` — the baseline of the feed and `/health` (measured at the same
//!   paths, so both go through the same `run_worker_first` routing).

#[cfg(target_arch = "wasm32")]
use worker::{Context, Date, Env, MessageBatch, Method, Request, Response, Result, event};

/// The KV namespace and queue producer bindings in wrangler.toml (Glimpse's names).
#[cfg(target_arch = "wasm32")]
const KV_BINDING: &str = "GLIMPSE";
#[cfg(target_arch = "wasm32")]
const QUEUE_BINDING: &str = "INGEST";

#[cfg(target_arch = "wasm32")]
#[event(fetch)]
async fn fetch(mut req: Request, env: Env, _ctx: Context) -> Result<Response> {
    if req.method() == Method::Post && req.path() == "/v1/write" {
        use std::sync::atomic::{AtomicU64, Ordering};
        static WRITES: AtomicU64 = AtomicU64::new(0);
        let body = req.text().await?;
        let n = WRITES.fetch_add(1, Ordering::Relaxed);
        let key = format!("bench:{}:{n}", Date::now().as_millis());
        env.kv(KV_BINDING)?
            .put(&key, body.as_str())?
            .expiration_ttl(86_400)
            .execute()
            .await?;
        env.queue(QUEUE_BINDING)?.send_batch(vec![body]).await?;
        return Ok(Response::empty()?.with_status(202));
    }
    Response::ok("ok")
}

/// The queue's consumer: accepts every batch (the platform delivers it, as it does
/// Glimpse's; applying messages is Glimpse's own work, not the baseline's).
#[cfg(target_arch = "wasm32")]
#[event(queue)]
async fn queue(_batch: MessageBatch<String>, _env: Env, _ctx: Context) -> Result<()> {
    Ok(())
}
