//! Glimpse's build, dev and test steps, shared by `cargo xtask` and the e2e harness.
//! Nothing here needs more than cargo, node/npm and apt: every tool comes from a registry.

pub mod before;
pub mod build;
pub mod cache;
pub mod content;
pub mod contract;
pub mod imports;
pub mod keep;
pub mod local;
pub mod media;
pub mod run;
pub mod size;
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

/// The wall clock in unix milliseconds (when seeding publishes, when a stamp was written).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Errors of xtask steps: a message saying what failed and what to do.
pub type Result<T = ()> = std::result::Result<T, String>;

/// A random token from the OS (`[0-9a-f]`, 2 × `bytes` long), for admin tokens and ids.
pub fn random_token(bytes: usize) -> Result<String> {
    use std::io::Read;
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| format!("read /dev/urandom: {e}"))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// The admin token `wrangler dev` uses locally, from `worker/.dev.vars` (git-ignored),
/// created with a random value (48 hex characters) the first time, and replaced if it is
/// shorter than the 32 characters the worker requires. The file also gets the vars every
/// local run needs ([`wrangler::LOCAL_VARS`]) if it lacks them.
pub fn local_admin_token() -> Result<String> {
    let path = at("worker/.dev.vars");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
            .map(|v| v.trim().trim_matches('"').to_string())
    };
    // None yet, or one shorter than the worker accepts (32 characters): a new one.
    let kept = value("ADMIN_TOKEN").filter(|t| t.len() >= 32);
    let missing: Vec<&(&str, &str)> = wrangler::LOCAL_VARS
        .iter()
        .filter(|(name, _)| value(name).is_none())
        .collect();
    if let Some(token) = &kept
        && missing.is_empty()
    {
        return Ok(token.clone());
    }
    let token = match kept {
        Some(token) => token,
        None => random_token(24)?,
    };
    let mut text: String = text
        .lines()
        .filter(|l| !l.starts_with("ADMIN_TOKEN="))
        .map(|l| format!("{l}\n"))
        .collect();
    for (name, value) in missing {
        text.push_str(&format!("{name}=\"{value}\"\n"));
    }
    text.push_str(&format!("ADMIN_TOKEN=\"{token}\"\n"));
    std::fs::write(&path, text).map_err(|e| format!("write {}: {e}", path.display()))?;
    Ok(token)
}
