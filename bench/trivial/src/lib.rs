//! The baseline Glimpse's worker is measured against: a workers-rs handler that answers
//! every request with a constant, so the difference is what Glimpse's routing, KV reads and
//! JSON cost on top of the runtime itself.

#[cfg(target_arch = "wasm32")]
use worker::{Context, Env, Request, Response, Result, event};

#[cfg(target_arch = "wasm32")]
#[event(fetch)]
async fn fetch(_req: Request, _env: Env, _ctx: Context) -> Result<Response> {
    Response::ok("ok")
}
