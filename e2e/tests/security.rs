//! The security suite: each attack from issue 14's adversarial review, replayed against the
//! real runtime (`wrangler dev` with local storage), asserting the safe answer. One module per
//! kind of attack:
//! - `privacy`: visitor text never becomes public without an operator's act; scheduled
//!   content stays secret until it goes live.
//! - `cost`: no anonymous request costs more than it should (bodies, results, rate limits).
//! - `door`: the operators' door (authentication, tokens, headers, validation, site deletion).
//! - `contract`: the HTTP contract (unknown methods).

#[path = "security/contract.rs"]
mod contract;
#[path = "security/cost.rs"]
mod cost;
#[path = "security/door.rs"]
mod door;
#[path = "security/privacy.rs"]
mod privacy;
