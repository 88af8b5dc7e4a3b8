//! Glimpse's build, dev and test steps, shared by `cargo xtask` and the e2e harness.
//! Nothing here needs more than cargo, node/npm and apt: every tool comes from a registry.

pub mod build;
pub mod content;
pub mod run;
pub mod tools;
pub mod wrangler;

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Shorthand for a path under the workspace root.
pub fn at(rel: &str) -> PathBuf {
    root().join(rel)
}

/// Errors of xtask steps: a message saying what failed and what to do.
pub type Result<T = ()> = std::result::Result<T, String>;
