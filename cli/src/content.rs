//! Content as files: a site directory (`site.toml`, `stories/*.toml`, `sessions/*.toml`,
//! `polls/*.toml`; any of them may be YAML instead: `.yaml` or `.yml`) read into the shared
//! types and validated with the same code the worker uses. Every problem of every file is
//! collected before anything is sent — syntax, unknown keys (with the nearest known one),
//! types, the shared `validate()`, and the site's own rules across files (topics, unique ids)
//! — each placed at its file, line and column ([`crate::diagnostics`]).

use std::path::{Path, PathBuf};

use glimpse_shared::{LiveSession, Millis, Poll, Problem, Site, Story};
use serde::de::DeserializeOwned;

use crate::diagnostics::{Report, Spans, join_key};

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

impl SiteContent {
    /// `site "demo": 3 stories, 1 sessions, 2 polls`.
    pub fn summary(&self) -> String {
        format!(
            "site {:?}: {} stories, {} sessions, {} polls",
            self.site.id,
            self.stories.len(),
            self.sessions.len(),
            self.polls.len()
        )
    }
}

/// The kinds of content file, each with the keys it may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Site,
    Story,
    Session,
    Poll,
}

impl Kind {
    /// The keys a table at `path` may hold (`path` with its list indices as `[]`), or `None`
    /// where the file's kind has no table (nothing is checked there).
    pub fn keys(self, path: &str) -> Option<&'static [&'static str]> {
        Some(match (self, path) {
            (Kind::Site, "") => &[
                "id",
                "name",
                "origins",
                "theme",
                "language",
                "timezone",
                "channels",
                "topics",
                "retention_days",
                "languages",
            ],
            (Kind::Site, "theme") => &["accent", "mode"],
            (Kind::Site, "channels[]") => &["kind", "label", "value", "topics"],
            (Kind::Site, "topics[]") => &["id", "label", "simple", "hours", "translations"],
            (Kind::Site, "topics[].hours[]") => &["days", "from", "to"],
            (Kind::Story, "") => &[
                "id",
                "title",
                "topic",
                "slides",
                "publish_at",
                "expires_at",
                "targeting",
                "translations",
                "publish_in_hours",
                "expires_in_hours",
            ],
            (Kind::Story, "slides[]") => &["text", "media", "duration_ms", "cta"],
            (Kind::Story, "slides[].media") => &["kind", "url", "alt"],
            (Kind::Story, "slides[].cta") => &["label", "url"],
            (Kind::Session, "") => &[
                "id",
                "title",
                "topic",
                "host",
                "starts_at",
                "ends_at",
                "join_url",
                "announce_from",
                "starts_in_hours",
                "ends_in_hours",
                "announce_in_hours",
                "targeting",
                "translations",
            ],
            (Kind::Poll, "") => &[
                "id",
                "question",
                "kind",
                "publish_at",
                "expires_at",
                "show_results",
                "targeting",
                "translations",
                "publish_in_hours",
                "expires_in_hours",
            ],
            (Kind::Poll, "kind") => &["type", "options", "max_chars"],
            (_, "targeting") => &[
                "pages",
                "exclude_pages",
                "labels",
                "exclude_labels",
                "delay_seconds",
                "frequency",
                "devices",
            ],
            (_, "targeting.frequency") => &["times", "per_hours"],
            (Kind::Story, "translations.*") => &["title", "slides", "source"],
            (Kind::Story, "translations.*.slides[]") => &["text", "alt", "cta_label"],
            (Kind::Poll, "translations.*") => &["question", "options", "source"],
            (Kind::Session, "translations.*") => &["title", "source"],
            _ => return None,
        })
    }
}

/// Reads and validates a content directory; every problem rendered as plain text.
pub fn load_dir(dir: &Path, now_ms: Millis) -> Result<SiteContent> {
    read_dir(dir, now_ms).map_err(|r| r.to_string())
}

/// Reads and validates a content directory. Times may be absolute (`publish_at`,
/// `expires_at`, `starts_at`, `ends_at`, `announce_from` in unix ms) or relative to `now_ms`
/// (`publish_in_hours`, `expires_in_hours`, `starts_in_hours`, `ends_in_hours`,
/// `announce_in_hours`); a story or poll without `publish_at` is published at `now_ms`.
/// Errors: every problem found in any file ([`Report`]), none of the content.
pub fn read_dir(dir: &Path, now_ms: Millis) -> std::result::Result<SiteContent, Report> {
    let mut report = Report::default();
    let candidates: Vec<_> = ["site.toml", "site.yaml", "site.yml"]
        .into_iter()
        .map(|n| dir.join(n))
        .filter(|p| p.is_file())
        .collect();
    let site = match candidates.as_slice() {
        [one] => read_item::<Site>(&mut report, one, now_ms, Kind::Site, Site::validate),
        [] => {
            report.push(dir, "", 0..0, "no site.toml or site.yaml here", None);
            None
        }
        _ => {
            report.push(
                dir,
                "",
                0..0,
                "more than one of site.toml, site.yaml, site.yml",
                Some("keep one".into()),
            );
            None
        }
    };
    let stories = read_items(
        &mut report,
        &dir.join("stories"),
        now_ms,
        Kind::Story,
        Story::validate,
    );
    let sessions = read_items(
        &mut report,
        &dir.join("sessions"),
        now_ms,
        Kind::Session,
        LiveSession::validate,
    );
    let polls = read_items(
        &mut report,
        &dir.join("polls"),
        now_ms,
        Kind::Poll,
        Poll::validate,
    );
    if let Some((site, _)) = &site {
        site_rules(
            &mut report,
            site,
            stories.iter().map(|(s, f)| (&s.topic, f)),
        );
        site_rules(
            &mut report,
            site,
            sessions.iter().map(|(s, f)| (&s.topic, f)),
        );
        let langs = stories
            .iter()
            .map(|(s, f)| (s.translations.keys().collect::<Vec<_>>(), f))
            .chain(
                sessions
                    .iter()
                    .map(|(s, f)| (s.translations.keys().collect(), f)),
            )
            .chain(
                polls
                    .iter()
                    .map(|(p, f)| (p.translations.keys().collect(), f)),
            );
        language_rules(&mut report, site, langs);
    }
    unique_ids(
        &mut report,
        "story",
        stories.iter().map(|(s, f)| (&s.id, f)),
    );
    unique_ids(
        &mut report,
        "session",
        sessions.iter().map(|(s, f)| (&s.id, f)),
    );
    unique_ids(&mut report, "poll", polls.iter().map(|(p, f)| (&p.id, f)));
    match site {
        Some((site, _)) if report.is_empty() => Ok(SiteContent {
            site,
            stories: stories.into_iter().map(|(s, _)| s).collect(),
            sessions: sessions.into_iter().map(|(s, _)| s).collect(),
            polls: polls.into_iter().map(|(p, _)| p).collect(),
        }),
        _ => Err(report),
    }
}

/// A file that was read: its path and where its fields are written.
struct File {
    path: PathBuf,
    spans: Spans,
}

/// The site's topics are the only ones its stories and sessions may name (when it has any).
fn site_rules<'a>(
    report: &mut Report,
    site: &Site,
    items: impl Iterator<Item = (&'a String, &'a File)>,
) {
    if site.topics.is_empty() {
        return;
    }
    let known: Vec<&str> = site.topics.iter().map(|t| t.id.as_str()).collect();
    for (topic, file) in items {
        if site.topic(topic).is_none() {
            report.push(
                &file.path,
                "topic",
                file.spans.value("topic"),
                format!("`{topic}` is not one of the site's topics"),
                Some(suggest(topic, &known)),
            );
        }
    }
}

/// Content is translated only into languages the site offers (`languages` in site.toml):
/// a translation nobody would read is refused, at its key.
fn language_rules<'a>(
    report: &mut Report,
    site: &Site,
    items: impl Iterator<Item = (Vec<&'a String>, &'a File)>,
) {
    for (langs, file) in items {
        for p in glimpse_shared::translate::unoffered(site, langs) {
            report.push(
                &file.path,
                &p.field,
                file.spans.locate(&p.field),
                p.message,
                None,
            );
        }
    }
}

/// Two files with the same id would overwrite each other: the second is refused.
fn unique_ids<'a>(
    report: &mut Report,
    what: &str,
    items: impl Iterator<Item = (&'a String, &'a File)>,
) {
    let mut seen: Vec<(&String, &Path)> = Vec::new();
    for (id, file) in items {
        if let Some((_, first)) = seen.iter().find(|(s, _)| *s == id) {
            report.push(
                &file.path,
                "id",
                file.spans.value("id"),
                format!("another {what} has the id `{id}`"),
                Some(format!("{} has it too; ids must differ", first.display())),
            );
        } else {
            seen.push((id, &file.path));
        }
    }
}

/// "did you mean `x`?" for the known word nearest `word`, else the list of known words.
fn suggest(word: &str, known: &[&str]) -> String {
    let nearest = known
        .iter()
        .map(|k| (strsim::jaro_winkler(word, k), *k))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match nearest {
        Some((_, k)) => format!("did you mean `{k}`?"),
        None => format!("expected one of: {}", known.join(", ")),
    }
}

fn read_items<T: DeserializeOwned>(
    report: &mut Report,
    dir: &Path,
    now_ms: Millis,
    kind: Kind,
    validate: fn(&T) -> Vec<Problem>,
) -> Vec<(T, File)> {
    if !dir.is_dir() {
        return Vec::new();
    }
    let mut paths: Vec<_> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension()
                    .is_some_and(|x| x == "toml" || x == "yaml" || x == "yml")
            })
            .collect(),
        Err(e) => {
            report.push(dir, "", 0..0, format!("cannot read the folder: {e}"), None);
            return Vec::new();
        }
    };
    paths.sort();
    paths
        .iter()
        .filter_map(|path| read_item(report, path, now_ms, kind, validate))
        .collect()
}

/// Reads one TOML or YAML file (by extension) into `T`, resolving relative times; every
/// problem in it goes to `report`; `None` when it could not be read as a `T` at all.
fn read_item<T: DeserializeOwned>(
    report: &mut Report,
    path: &Path,
    now_ms: Millis,
    kind: Kind,
    validate: fn(&T) -> Vec<Problem>,
) -> Option<(T, File)> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            report.push(path, "", 0..0, format!("cannot read the file: {e}"), None);
            return None;
        }
    };
    report.source(path, &text);
    let yaml = path.extension().is_some_and(|x| x == "yaml" || x == "yml");
    let mut value = match parse(&text, yaml) {
        Ok(v) => v,
        Err((message, span)) => {
            report.push(path, "", span, message, None);
            return None;
        }
    };
    let spans = if yaml {
        Spans::yaml(&text)
    } else {
        Spans::toml(&text)
    };
    let (renamed, not_numbers) = resolve_relative_times(&mut value, now_ms);
    for relative in &not_numbers {
        report.push(
            path,
            relative,
            spans.value(relative),
            "must be a number of hours (negative for the past)",
            None,
        );
    }
    // Problems with a time given relatively point at the relative key.
    let locate = |field: &str| {
        let written = renamed
            .iter()
            .find(|(absolute, _)| field == *absolute || field.starts_with(&format!("{absolute}.")))
            .map_or(field.to_string(), |(_, relative)| relative.to_string());
        spans.value(&written)
    };
    let value = serde_json::Value::Object(value);
    unknown_keys(report, path, &spans, kind, "", "", &value);
    let item: T = match serde_path_to_error::deserialize(&value) {
        Ok(item) => item,
        Err(e) => {
            let field = field_of(e.path());
            let message = e.inner().to_string();
            // A relative time that was not a number is already reported; its absolute
            // time's absence follows from it.
            let follows = not_numbers.iter().any(|relative| {
                renamed_from(relative).is_some_and(|a| message == format!("missing field `{a}`"))
            });
            if !follows {
                report.push(path, &field, locate(&field), message, None);
            }
            return None;
        }
    };
    for problem in validate(&item) {
        report.push(
            path,
            &problem.field,
            locate(&problem.field),
            problem.message,
            None,
        );
    }
    // Returned even with problems: the site's rules across files are checked on it too.
    let file = File {
        path: path.to_path_buf(),
        spans,
    };
    Some((item, file))
}

/// The absolute time a relative key stands for (`expires_in_hours` → `expires_at`).
fn renamed_from(relative: &str) -> Option<&'static str> {
    RELATIVE_TIMES
        .iter()
        .find(|(r, _)| *r == relative)
        .map(|(_, absolute)| *absolute)
}

/// Each relative time key and the absolute one it becomes.
const RELATIVE_TIMES: [(&str, &str); 5] = [
    ("publish_in_hours", "publish_at"),
    ("expires_in_hours", "expires_at"),
    ("starts_in_hours", "starts_at"),
    ("ends_in_hours", "ends_at"),
    ("announce_in_hours", "announce_from"),
];

/// Every key of `value` (at field path `field`, `shape` with list indices as `[]`) that the
/// kind does not know, with the nearest known key.
fn unknown_keys(
    report: &mut Report,
    path: &Path,
    spans: &Spans,
    kind: Kind,
    field: &str,
    shape: &str,
    value: &serde_json::Value,
) {
    match value {
        serde_json::Value::Object(map) => {
            let known = kind.keys(shape);
            for (key, inner) in map {
                let at = join_key(field, key);
                match known {
                    Some(known) if !known.contains(&key.as_str()) => {
                        report.push(
                            path,
                            &at,
                            spans.locate(&at),
                            format!("unknown key `{key}`"),
                            Some(suggest(key, known)),
                        );
                    }
                    _ => unknown_keys(report, path, spans, kind, &at, &shape_of(shape, key), inner),
                }
            }
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let at = format!("{field}[{i}]");
                unknown_keys(report, path, spans, kind, &at, &format!("{shape}[]"), item);
            }
        }
        _ => {}
    }
}

/// The shape of `key` inside `shape`: a language's translation (`translations.es`) is
/// `translations.*`, whatever the language.
fn shape_of(shape: &str, key: &str) -> String {
    if shape == "translations" || shape.ends_with(".translations") {
        join_key(shape, "*")
    } else {
        join_key(shape, key)
    }
}

/// A serde path as a field path (`slides[0].text`).
fn field_of(path: &serde_path_to_error::Path) -> String {
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            serde_path_to_error::Segment::Map { key } => out = join_key(&out, key),
            serde_path_to_error::Segment::Enum { variant } => out = join_key(&out, variant),
            serde_path_to_error::Segment::Unknown => {}
        }
    }
    out
}

/// A TOML or YAML document whose top level is a table / mapping; errors: the message and
/// where in the text.
fn parse(text: &str, yaml: bool) -> std::result::Result<Map, (String, std::ops::Range<usize>)> {
    let value: serde_json::Value = if yaml {
        serde_saphyr::from_str(text).map_err(|e| {
            let at = e.location().map_or(0, |l| {
                crate::diagnostics::offset_of(
                    text,
                    usize::try_from(l.line()).unwrap_or(1),
                    usize::try_from(l.column()).unwrap_or(1),
                )
            });
            (e.without_snippet().to_string(), at..at)
        })?
    } else {
        let table: toml::Table = toml::from_str(text)
            .map_err(|e| (e.message().to_string(), e.span().unwrap_or(0..0)))?;
        serde_json::to_value(table).map_err(|e| (e.to_string(), 0..0))?
    };
    match value {
        serde_json::Value::Object(map) => Ok(map),
        _ => Err(("the top level must be a table of keys".into(), 0..0)),
    }
}

type Map = serde_json::Map<String, serde_json::Value>;

/// The `(absolute, relative)` key pairs replaced by [`resolve_relative_times`], and the
/// relative keys whose value was not a number (removed).
type Resolved = (Vec<(&'static str, &'static str)>, Vec<&'static str>);

/// Replaces `*_in_hours` keys with absolute unix-ms times.
fn resolve_relative_times(table: &mut Map, now_ms: Millis) -> Resolved {
    let (mut renamed, mut not_numbers) = (Vec::new(), Vec::new());
    for (relative, absolute) in RELATIVE_TIMES {
        match table.remove(relative).map(|v| v.as_f64()) {
            Some(Some(h)) => {
                let at = now_ms + (h * HOUR_MS) as i64;
                table.insert(absolute.into(), at.into());
                renamed.push((absolute, relative));
            }
            Some(None) => not_numbers.push(relative),
            None => {}
        }
    }
    let publishable = table.contains_key("slides") || table.contains_key("question");
    if publishable && !table.contains_key("publish_at") {
        table.insert("publish_at".into(), now_ms.into());
    }
    (renamed, not_numbers)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Millis = 1_700_000_000_000;

    /// Every key path of `v` with list indices as `[]`, each with the path of its table.
    fn key_paths(v: &serde_json::Value, shape: &str, out: &mut Vec<(String, String)>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, inner) in map {
                    out.push((shape.to_string(), k.clone()));
                    key_paths(inner, &shape_of(shape, k), out);
                }
            }
            serde_json::Value::Array(items) => {
                for item in items {
                    key_paths(item, &format!("{shape}[]"), out);
                }
            }
            _ => {}
        }
    }

    /// `Kind::keys` is what the shared types read: every key of a fully filled-in value of
    /// each (struct literals: a field added to a type fails to compile here until it is
    /// added) is known, and every known key is one of them or a relative time.
    #[test]
    fn the_known_keys_are_the_types_keys() {
        use glimpse_shared::site::{Day, Opening};
        use glimpse_shared::{
            Channel, ChannelKind, Cta, Media, PollKind, Slide, Theme, ThemeMode, Topic,
        };
        let site = Site {
            languages: vec!["es".into()],
            id: "s".into(),
            name: "S".into(),
            origins: vec!["https://s.example".into()],
            theme: Theme {
                accent: "#000000".into(),
                mode: ThemeMode::Dark,
            },
            language: "en".into(),
            timezone: "UTC".into(),
            channels: vec![Channel {
                kind: ChannelKind::Email,
                label: "Mail".into(),
                value: "a@s.example".into(),
                topics: vec!["t".into()],
            }],
            topics: vec![Topic {
                translations: [("es".to_string(), "T es".to_string())]
                    .into_iter()
                    .collect(),
                id: "t".into(),
                label: "T".into(),
                simple: true,
                hours: vec![Opening {
                    days: vec![Day::Mon],
                    from: "09:00".into(),
                    to: "17:00".into(),
                }],
            }],
            retention_days: 30,
        };
        let slide = |media| Slide {
            text: "x".into(),
            media: Some(media),
            duration_ms: 5_000,
            cta: Some(Cta {
                label: "Go".into(),
                url: "https://s.example".into(),
            }),
        };
        let targeting = glimpse_shared::targeting::Targeting {
            pages: vec!["/a".into()],
            exclude_pages: vec!["/b".into()],
            labels: vec!["l".into()],
            exclude_labels: vec!["m".into()],
            delay_seconds: 1,
            frequency: Some(glimpse_shared::targeting::Frequency {
                times: 1,
                per_hours: Some(1),
            }),
            devices: vec![glimpse_shared::targeting::Device::Mobile],
        };
        let story = Story {
            translations: [(
                "es".to_string(),
                glimpse_shared::translate::StoryText {
                    title: "A es".into(),
                    slides: vec![glimpse_shared::translate::SlideText {
                        text: "x".into(),
                        alt: "alt".into(),
                        cta_label: "Ir".into(),
                    }],
                    source: Some("00000000".into()),
                },
            )]
            .into_iter()
            .collect(),
            targeting: targeting.clone(),
            id: "a".into(),
            title: "A".into(),
            topic: "t".into(),
            slides: vec![
                slide(Media::Image {
                    url: "/m.webp".into(),
                    alt: "alt".into(),
                }),
                slide(Media::Video {
                    url: "/m.webm".into(),
                    alt: Some("alt".into()),
                    poster: None,
                    captions: None,
                }),
            ],
            publish_at: 1,
            expires_at: 2,
        };
        let session = LiveSession {
            translations: [(
                "es".to_string(),
                glimpse_shared::translate::SessionText {
                    title: "L es".into(),
                    source: Some("00000000".into()),
                },
            )]
            .into_iter()
            .collect(),
            targeting: targeting.clone(),
            id: "l".into(),
            title: "L".into(),
            topic: "t".into(),
            host: "H".into(),
            starts_at: 1,
            ends_at: 2,
            join_url: "https://s.example/live".into(),
            announce_from: 0,
            answers_until: None,
        };
        let poll = |kind| Poll {
            translations: [(
                "es".to_string(),
                glimpse_shared::translate::PollText {
                    question: "¿Q?".into(),
                    options: vec!["a".into()],
                    source: Some("00000000".into()),
                },
            )]
            .into_iter()
            .collect(),
            targeting: targeting.clone(),
            id: "p".into(),
            question: "Q?".into(),
            kind,
            publish_at: 1,
            expires_at: 2,
            show_results: true,
        };
        let polls = [
            poll(PollKind::Choice {
                options: vec!["a".into(), "b".into()],
            }),
            poll(PollKind::Rating),
            poll(PollKind::Text { max_chars: 100 }),
        ];
        let mut cases = vec![
            (Kind::Site, serde_json::to_value(&site)),
            (Kind::Story, serde_json::to_value(&story)),
            (Kind::Session, serde_json::to_value(&session)),
        ];
        cases.extend(polls.iter().map(|p| (Kind::Poll, serde_json::to_value(p))));
        let mut written: Vec<(Kind, String, String)> = Vec::new();
        for (kind, value) in cases {
            let mut paths = Vec::new();
            key_paths(&value.unwrap_or_default(), "", &mut paths);
            for (table, key) in paths {
                // A translations map's keys are languages: any tag (the site rules check them).
                if table == "translations" || table.ends_with(".translations") {
                    continue;
                }
                let known = kind
                    .keys(&table)
                    .unwrap_or_else(|| panic!("{kind:?} has no table {table:?}"));
                assert!(
                    known.contains(&key.as_str()),
                    "{kind:?} {table:?} lacks {key:?}"
                );
                written.push((kind, table, key));
            }
        }
        for (kind, table) in [
            (Kind::Site, ""),
            (Kind::Site, "theme"),
            (Kind::Site, "channels[]"),
            (Kind::Site, "topics[]"),
            (Kind::Site, "topics[].hours[]"),
            (Kind::Story, ""),
            (Kind::Story, "slides[]"),
            (Kind::Story, "slides[].media"),
            (Kind::Story, "slides[].cta"),
            (Kind::Session, ""),
            (Kind::Poll, ""),
            (Kind::Poll, "kind"),
            (Kind::Story, "translations.*"),
            (Kind::Story, "translations.*.slides[]"),
            (Kind::Poll, "translations.*"),
            (Kind::Session, "translations.*"),
            (Kind::Story, "targeting"),
            (Kind::Story, "targeting.frequency"),
        ] {
            for key in kind.keys(table).unwrap_or_default() {
                let relative = key.ends_with("_in_hours");
                let seen = written
                    .iter()
                    .any(|(k, t, w)| *k == kind && t == table && w == key);
                assert!(
                    seen || relative,
                    "{kind:?} {table:?} lists {key:?}, which no type has"
                );
            }
        }
    }

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
        let (err, _) = parse("id: [unclosed", true).err().unwrap_or_default();
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
