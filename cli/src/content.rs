//! Content as files: a site directory (`site.toml`, `stories/*.toml`, `sessions/*.toml`,
//! `polls/*.toml`) read into the shared types and validated with the same code the worker
//! uses.

use std::path::Path;

use glimpse_shared::{LiveSession, Millis, Poll, Problem, Site, Story};
use serde::de::DeserializeOwned;

/// Errors are messages a person can act on.
pub type Result<T = ()> = std::result::Result<T, String>;

const HOUR_MS: f64 = 3_600_000.0;

/// A site and its content as read from a directory.
#[derive(Debug, Clone)]
pub struct SiteContent {
    pub site: Site,
    pub stories: Vec<Story>,
    pub sessions: Vec<LiveSession>,
    pub polls: Vec<Poll>,
}

/// Reads and validates a content directory. Times may be absolute (`publish_at`,
/// `expires_at`, `starts_at`, `ends_at`, `announce_from` in unix ms) or relative to `now_ms`
/// (`publish_in_hours`, `expires_in_hours`, `starts_in_hours`, `ends_in_hours`,
/// `announce_in_hours`); a story or poll without `publish_at` is published at `now_ms`.
pub fn load_dir(dir: &Path, now_ms: Millis) -> Result<SiteContent> {
    let site_path = dir.join("site.toml");
    let site: Site = read_toml(&site_path, now_ms)?;
    check(&site_path, site.validate())?;
    Ok(SiteContent {
        stories: load_items(&dir.join("stories"), now_ms, Story::validate)?,
        sessions: load_items(&dir.join("sessions"), now_ms, LiveSession::validate)?,
        polls: load_items(&dir.join("polls"), now_ms, Poll::validate)?,
        site,
    })
}

fn check(path: &Path, problems: Vec<Problem>) -> Result {
    if problems.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = problems
        .iter()
        .map(|p| format!("{}: {}", p.field, p.message))
        .collect();
    Err(format!("{}: {}", path.display(), list.join("; ")))
}

fn load_items<T: DeserializeOwned>(
    dir: &Path,
    now_ms: Millis,
    validate: fn(&T) -> Vec<Problem>,
) -> Result<Vec<T>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let item: T = read_toml(&path, now_ms)?;
        check(&path, validate(&item))?;
        out.push(item);
    }
    Ok(out)
}

fn read_toml<T: DeserializeOwned>(path: &Path, now_ms: Millis) -> Result<T> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("read {}: {e}", path.display()))?;
    let mut value: toml::Table =
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    resolve_relative_times(&mut value, now_ms);
    value
        .try_into()
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Replaces `*_in_hours` keys with absolute unix-ms times.
fn resolve_relative_times(table: &mut toml::Table, now_ms: Millis) {
    for (relative, absolute) in [
        ("publish_in_hours", "publish_at"),
        ("expires_in_hours", "expires_at"),
        ("starts_in_hours", "starts_at"),
        ("ends_in_hours", "ends_at"),
        ("announce_in_hours", "announce_from"),
    ] {
        let hours = table.remove(relative).and_then(|v| match v {
            toml::Value::Integer(h) => Some(h as f64),
            toml::Value::Float(h) => Some(h),
            _ => None,
        });
        if let Some(h) = hours {
            let at = now_ms + (h * HOUR_MS) as i64;
            table.insert(absolute.into(), toml::Value::Integer(at));
        }
    }
    let publishable = table.contains_key("slides") || table.contains_key("question");
    if publishable && !table.contains_key("publish_at") {
        table.insert("publish_at".into(), toml::Value::Integer(now_ms));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Millis = 1_700_000_000_000;

    #[test]
    fn relative_times_resolve_against_now() {
        let mut t: toml::Table = toml::from_str(
            "slides = []\npublish_in_hours = -1\nexpires_in_hours = 1.5\nannounce_in_hours = 0",
        )
        .unwrap_or_default();
        resolve_relative_times(&mut t, NOW);
        assert_eq!(t["publish_at"].as_integer(), Some(NOW - 3_600_000));
        assert_eq!(t["expires_at"].as_integer(), Some(NOW + 5_400_000));
        assert_eq!(t["announce_from"].as_integer(), Some(NOW));
        let mut poll: toml::Table = toml::from_str("question = 'q'").unwrap_or_default();
        resolve_relative_times(&mut poll, NOW);
        assert_eq!(poll["publish_at"].as_integer(), Some(NOW));
    }

    #[test]
    fn problems_name_the_file_and_field() {
        let dir = std::env::temp_dir().join(format!("glimpse-cli-test-{}", std::process::id()));
        let _ = std::fs::create_dir_all(dir.join("stories"));
        let _ = std::fs::write(dir.join("site.toml"), "id = 'demo'\nname = 'Demo'\n");
        let _ = std::fs::write(
            dir.join("stories/bad.toml"),
            "id = 'Bad'\ntitle = 't'\ntopic = 'x'\nexpires_in_hours = 1\n[[slides]]\ntext = 'hi'\n",
        );
        let err = load_dir(&dir, NOW).err().unwrap_or_default();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(err.contains("bad.toml") && err.contains("id:"), "{err}");
    }
}
