//! Glimpse's edge API. [`core::handle`] is the whole request→response logic, pure over a
//! [`store::KvStore`] and an explicit `now_ms`, tested natively. `edge` (wasm32 only) is the
//! thin Cloudflare Workers shell: it converts requests and responses and wraps Workers KV.

// Without `operators` (the visitors' worker) the operators' handlers, the queue consumer and
// the cron are not entry points: their code is compiled but unused, and the linker drops it.
#![cfg_attr(not(feature = "operators"), allow(dead_code, unused_imports))]

pub mod admin;
pub mod alerts;
pub mod consumer;
pub mod core;
pub mod door;
pub mod export;
pub mod help;
pub mod hours;
pub mod http;
pub mod ingest;
pub mod json;
pub mod kb;
pub mod limit;
pub mod live;
pub mod media;
pub mod memo;
pub mod migrate;
pub mod privacy;
pub mod public;
pub mod questions;
pub mod queue;
pub mod retention;
pub mod rollups;
pub mod route;
pub mod saved;
pub mod sites;
pub mod sql;
#[cfg(not(target_arch = "wasm32"))]
pub mod sqlite;
pub mod store;
pub mod team;
pub mod webhooks;

/// Unicode lower case and word boundaries for search and the sensitive-data guard: the
/// runtime's own (ICU) at the edge, so Rust's tables are not uploaded; Rust's natively.
#[cfg(target_arch = "wasm32")]
pub(crate) const TEXT: glimpse_shared::text::JsText = glimpse_shared::text::JsText;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) const TEXT: glimpse_shared::text::StdText = glimpse_shared::text::StdText;

/// Logs a line for the operators (the runtime's console at the edge: `wrangler tail`,
/// Workers Logs; standard error natively).
pub(crate) fn log(line: &str) {
    #[cfg(target_arch = "wasm32")]
    worker::console_error!("glimpse: {line}");
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("glimpse: {line}");
}

#[cfg(target_arch = "wasm32")]
mod edge;
#[cfg(all(target_arch = "wasm32", feature = "operators"))]
mod room;
#[cfg(target_arch = "wasm32")]
mod zones;
