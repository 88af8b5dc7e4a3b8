//! Content as files: a site directory (`site.toml`, `stories/*.toml`, `sessions/*.toml`,
//! `polls/*.toml`; any of them may be YAML instead: `.yaml` or `.yml`) read into the shared
//! types and validated with the same code the worker uses.

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
    let candidates: Vec<_> = ["site.toml", "site.yaml", "site.yml"]
        .into_iter()
        .map(|n| dir.join(n))
        .filter(|p| p.is_file())
        .collect();
    let site_path = match candidates.as_slice() {
        [one] => one.clone(),
        [] => return Err(format!("{}: no site.toml or site.yaml", dir.display())),
        _ => {
            return Err(format!(
                "{}: more than one of site.toml, site.yaml, site.yml",
                dir.display()
            ));
        }
    };
    let site: Site = read_item(&site_path, now_ms)?;
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
        .filter(|p| {
            p.extension()
                .is_some_and(|x| x == "toml" || x == "yaml" || x == "yml")
        })
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let item: T = read_item(&path, now_ms)?;
        check(&path, validate(&item))?;
        out.push(item);
    }
    Ok(out)
}

/// Reads one TOML or YAML file (by extension) into `T`, resolving relative times.
fn read_item<T: DeserializeOwned>(path: &Path, now_ms: Millis) -> Result<T> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("read {}: {e}", path.display()))?;
    let yaml = path.extension().is_some_and(|x| x == "yaml" || x == "yml");
    let mut value = parse(&text, yaml).map_err(|e| format!("{}: {e}", path.display()))?;
    resolve_relative_times(&mut value, now_ms);
    serde_json::from_value(serde_json::Value::Object(value))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// A TOML or YAML document whose top level is a table / mapping.
fn parse(text: &str, yaml: bool) -> Result<Map> {
    let value: serde_json::Value = if yaml {
        serde_saphyr::from_str(text).map_err(|e| e.to_string())?
    } else {
        let table: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        serde_json::to_value(table).map_err(|e| e.to_string())?
    };
    match value {
        serde_json::Value::Object(map) => Ok(map),
        _ => Err("the top level must be a table of keys".into()),
    }
}

type Map = serde_json::Map<String, serde_json::Value>;

/// Replaces `*_in_hours` keys with absolute unix-ms times.
fn resolve_relative_times(table: &mut Map, now_ms: Millis) {
    for (relative, absolute) in [
        ("publish_in_hours", "publish_at"),
        ("expires_in_hours", "expires_at"),
        ("starts_in_hours", "starts_at"),
        ("ends_in_hours", "ends_at"),
        ("announce_in_hours", "announce_from"),
    ] {
        if let Some(h) = table.remove(relative).and_then(|v| v.as_f64()) {
            let at = now_ms + (h * HOUR_MS) as i64;
            table.insert(absolute.into(), at.into());
        }
    }
    let publishable = table.contains_key("slides") || table.contains_key("question");
    if publishable && !table.contains_key("publish_at") {
        table.insert("publish_at".into(), now_ms.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Millis = 1_700_000_000_000;

    #[test]
    fn relative_times_resolve_against_now() {
        let mut t = parse(
            "slides = []\npublish_in_hours = -1\nexpires_in_hours = 1.5\nannounce_in_hours = 0",
            false,
        )
        .unwrap_or_default();
        resolve_relative_times(&mut t, NOW);
        assert_eq!(t["publish_at"].as_i64(), Some(NOW - 3_600_000));
        assert_eq!(t["expires_at"].as_i64(), Some(NOW + 5_400_000));
        assert_eq!(t["announce_from"].as_i64(), Some(NOW));
        let mut poll = parse("question: q", true).unwrap_or_default();
        resolve_relative_times(&mut poll, NOW);
        assert_eq!(poll["publish_at"].as_i64(), Some(NOW));
    }

    #[test]
    fn yaml_and_toml_read_the_same() {
        let dir = std::env::temp_dir().join(format!("glimpse-cli-yaml-{}", std::process::id()));
        let _ = std::fs::create_dir_all(dir.join("stories"));
        let _ = std::fs::write(
            dir.join("site.yaml"),
            "id: demo\nname: Demo\norigins: [\"https://shop.example\"]\ntopics:\n  - id: orders\n    label: Orders\n",
        );
        let _ = std::fs::write(
            dir.join("stories/a.toml"),
            "id = 'a'\ntitle = 'Track it'\ntopic = 'orders'\nexpires_in_hours = 2\n[[slides]]\ntext = 'Open Orders'\n[slides.cta]\nlabel = 'Go'\nurl = 'https://shop.example/o'\n",
        );
        let _ = std::fs::write(
            dir.join("stories/b.yml"),
            "id: b\ntitle: Track it\ntopic: orders\nexpires_in_hours: 2\nslides:\n  - text: Open Orders\n    cta: {label: Go, url: \"https://shop.example/o\"}\n",
        );
        let loaded = load_dir(&dir, NOW);
        let _ = std::fs::remove_dir_all(&dir);
        let c = loaded.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.site.topics[0].id, "orders");
        assert_eq!(c.stories.len(), 2);
        let (mut a, b) = (c.stories[0].clone(), c.stories[1].clone());
        a.id = "b".into();
        assert_eq!(a, b, "the same story in TOML and YAML");
        assert_eq!(b.expires_at, NOW + 2 * 3_600_000);
    }

    #[test]
    fn malformed_yaml_is_refused() {
        let err = parse("id: [unclosed", true).err().unwrap_or_default();
        assert!(!err.is_empty());
        assert!(
            parse("- a list", true).is_err(),
            "top level must be a mapping"
        );
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
