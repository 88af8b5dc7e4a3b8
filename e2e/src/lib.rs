//! Glimpse's end-to-end harness: the real worker in `wrangler dev` (workerd + local KV),
//! seeded with real content, and the real widget on the demo page in headless Chromium,
//! driven over the Chrome DevTools Protocol ([`cdp`]).
//!
//! The tests in `tests/` are `#[ignore]`d so that `cargo test --workspace` stays native and
//! fast; `cargo xtask test` builds the assets and runs them with `--ignored`.

pub mod axe;
pub mod bench;
pub mod cdp;
pub mod live_load;
pub mod stack;

/// Errors in the harness are messages saying what went wrong.
pub type Result<T = ()> = std::result::Result<T, String>;
