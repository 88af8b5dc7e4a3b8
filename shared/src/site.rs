//! A company that embeds Glimpse: who may call the API, how the widget looks, and where
//! visitors go when a matter needs a traditional channel.

use serde::{Deserialize, Serialize};

use crate::validate::{Problem, Problems};

/// A site's configuration, as the operator authors it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    /// Slug used in URLs, KV keys and the embed snippet's `data-site`.
    pub id: String,
    /// Display name shown to visitors.
    pub name: String,
    /// Exact origins (`https://shop.example`) allowed to call the public API from a browser.
    #[serde(default)]
    pub origins: Vec<String>,
    #[serde(default)]
    pub theme: Theme,
    /// Default language of the content, a BCP 47 tag (`en`, `pt-BR`): what it is written in.
    #[serde(default = "Site::default_language")]
    pub language: String,
    /// Other languages content is translated into (`["es", "nb"]`); visitors read the first
    /// of their languages offered here, else `language` ([`crate::translate`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    /// IANA time zone the operators schedule in (`Europe/Berlin`); times in JSON stay UTC.
    #[serde(default = "Site::default_timezone")]
    pub timezone: String,
    /// Traditional channels (email, phone, ticket), always one tap away in the widget.
    #[serde(default)]
    pub channels: Vec<Channel>,
    /// Topics content is filed under, and whether each is simple enough for this channel.
    #[serde(default)]
    pub topics: Vec<Topic>,
    /// How long responses, events and expired content are kept.
    #[serde(default = "Site::default_retention_days")]
    pub retention_days: u32,
}

/// The widget's look.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Theme {
    /// `#rrggbb`
    pub accent: String,
    #[serde(default)]
    pub mode: ThemeMode,
}

impl Default for Theme {
    fn default() -> Self {
        Self {
            accent: "#5b4dff".into(),
            mode: ThemeMode::Auto,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThemeMode {
    Light,
    Dark,
    /// Follows the visitor's `prefers-color-scheme`.
    #[default]
    Auto,
}

/// A traditional support channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    pub kind: ChannelKind,
    /// What the visitor sees (`Email support`).
    pub label: String,
    /// An email address, a phone number (`+49 30 1234567`) or an https ticket form URL.
    pub value: String,
    /// Topic ids this channel serves; empty means every topic.
    #[serde(default)]
    pub topics: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    Email,
    Phone,
    Ticket,
}

/// A topic content is filed under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topic {
    pub id: String,
    pub label: String,
    /// Simple enough to handle in Glimpse; complex or confidential topics are routed to a
    /// traditional channel.
    #[serde(default = "yes")]
    pub simple: bool,
    /// When live help for this topic is staffed, weekly, in the site's time zone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hours: Vec<Opening>,
    /// The label in the site's other languages (`{"es": "Tu cuenta"}`).
    #[serde(
        default,
        skip_serializing_if = "crate::translate::Translations::is_empty"
    )]
    pub translations: crate::translate::Translations<String>,
}

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    /// Monday = 0 … Sunday = 6.
    pub fn index(self) -> u32 {
        self as u32
    }
}

/// Open from `from` to `to` (local `HH:MM`, `to` may be `24:00`) on each of `days`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opening {
    pub days: Vec<Day>,
    pub from: String,
    pub to: String,
}

/// Minutes since midnight of `HH:MM` (`24:00` allowed).
pub fn parse_hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    let two_digits = |x: &str| x.len() == 2 && x.bytes().all(|c| c.is_ascii_digit());
    if !two_digits(h) || !two_digits(m) {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

impl Opening {
    /// `(from, to)` in minutes since local midnight, when valid.
    pub fn minutes(&self) -> Option<(u32, u32)> {
        let (from, to) = (parse_hhmm(&self.from)?, parse_hhmm(&self.to)?);
        (from < to).then_some((from, to))
    }
}

/// Whether live help for a topic is open now, and until / from when (UTC ms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Availability {
    pub topic: String,
    pub open: bool,
    /// When open: when it closes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<crate::Millis>,
    /// When closed: the next opening within a week, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_open: Option<crate::Millis>,
}

fn yes() -> bool {
    true
}

impl Site {
    pub const RETENTION_MAX_DAYS: u32 = 3_650;
    pub const CHANNELS_MAX: usize = 10;
    pub const TOPICS_MAX: usize = 50;
    pub const ORIGINS_MAX: usize = 20;

    fn default_language() -> String {
        "en".into()
    }

    fn default_timezone() -> String {
        "UTC".into()
    }

    fn default_retention_days() -> u32 {
        90
    }

    /// How long after `at_ms` data about this site is kept.
    pub fn retain_until(&self, at_ms: crate::Millis) -> crate::Millis {
        at_ms.saturating_add(i64::from(self.retention_days) * 86_400_000)
    }

    /// The topic with this id.
    pub fn topic(&self, id: &str) -> Option<&Topic> {
        self.topics.iter().find(|t| t.id == id)
    }

    /// Every problem with this site, or none.
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Problems::default();
        p.slug("id", &self.id);
        p.text("name", &self.name, 80);
        if self.origins.len() > Self::ORIGINS_MAX {
            p.push("origins", "at most 20 origins");
        }
        for (i, o) in self.origins.iter().enumerate() {
            if !is_origin(o) {
                p.push(
                    format!("origins[{i}]"),
                    "must be an exact origin like https://shop.example (no path)",
                );
            }
        }
        if !is_hex_colour(&self.theme.accent) {
            p.push("theme.accent", "must be a colour like #5b4dff");
        }
        if !is_language_tag(&self.language) {
            p.push("language", "must be a BCP 47 language tag like en or pt-BR");
        }
        if self.languages.len() > crate::translate::LANGUAGES_MAX {
            p.push("languages", "at most 20 other languages");
        }
        for (i, l) in self.languages.iter().enumerate() {
            if !is_language_tag(l) {
                p.push(
                    format!("languages[{i}]"),
                    "must be a BCP 47 language tag like es or pt-BR",
                );
            } else if *l == self.language || self.languages[..i].contains(l) {
                p.push(
                    format!("languages[{i}]"),
                    "listed twice (the site's own language is `language`)",
                );
            }
        }
        if !is_timezone_name(&self.timezone) {
            p.push(
                "timezone",
                "must be an IANA time zone name like Europe/Berlin or UTC",
            );
        }
        if !(1..=Self::RETENTION_MAX_DAYS).contains(&self.retention_days) {
            p.push("retention_days", "must be 1-3650 days");
        }
        if self.topics.len() > Self::TOPICS_MAX {
            p.push("topics", "at most 50 topics");
        }
        for (i, t) in self.topics.iter().enumerate() {
            p.slug(format!("topics[{i}].id"), &t.id);
            p.text(format!("topics[{i}].label"), &t.label, 60);
            for (lang, label) in t.translations.entries() {
                let field = format!("topics[{i}].translations.{lang}");
                match label {
                    _ if !self.languages.contains(lang) => {
                        p.push(field, "not one of the site's languages");
                    }
                    Ok(label) => p.text(field, &label, 60),
                    Err(e) => p.push(field, e),
                }
            }
            if self.topics[..i].iter().any(|o| o.id == t.id) {
                p.push(format!("topics[{i}].id"), "duplicate topic id");
            }
            for (j, o) in t.hours.iter().enumerate() {
                if o.days.is_empty() {
                    p.push(
                        format!("topics[{i}].hours[{j}].days"),
                        "name at least one day",
                    );
                }
                if o.minutes().is_none() {
                    p.push(
                        format!("topics[{i}].hours[{j}]"),
                        "from and to must be HH:MM with from before to (to may be 24:00)",
                    );
                }
            }
        }
        if self.channels.len() > Self::CHANNELS_MAX {
            p.push("channels", "at most 10 channels");
        }
        for (i, c) in self.channels.iter().enumerate() {
            let at = |f: &str| format!("channels[{i}].{f}");
            p.text(at("label"), &c.label, 60);
            p.no_bidi(at("label"), &c.label);
            p.no_bidi(at("value"), &c.value);
            if c.kind == ChannelKind::Email && has_mail_headers(&c.value) {
                p.push(
                    at("value"),
                    "must be a plain address: no ?query (cc, bcc or other headers), # or %",
                );
                continue;
            }
            let ok = match c.kind {
                ChannelKind::Email => is_email(&c.value),
                ChannelKind::Phone => is_phone(&c.value),
                ChannelKind::Ticket => crate::validate::is_https_url(&c.value),
            };
            if !ok {
                p.push(
                    at("value"),
                    match c.kind {
                        ChannelKind::Email => "must be an email address",
                        ChannelKind::Phone => "must be a phone number like +49 30 1234567",
                        ChannelKind::Ticket => "must be an https URL",
                    },
                );
            }
            for (j, t) in c.topics.iter().enumerate() {
                if self.topic(t).is_none() {
                    p.push(format!("channels[{i}].topics[{j}]"), "unknown topic");
                }
            }
        }
        p.into_vec()
    }

    /// Whether content ending at `ends_at_ms` would be kept (retention added) past what
    /// storage accepts; the problem names `field`. Saturating: never overflows.
    pub fn storage_problem(&self, field: &str, ends_at_ms: crate::Millis) -> Option<Problem> {
        let kept = self.retain_until(ends_at_ms);
        (kept > crate::validate::STORAGE_EXPIRY_MAX_MS).then(|| {
            let latest = crate::validate::STORAGE_EXPIRY_MAX_MS
                - i64::from(self.retention_days) * 86_400_000;
            Problem::new(
                field,
                format!(
                    "with the site's retention of {} days this would be kept past 2038-01-19T03:14:07Z, the latest expiry storage accepts: end it at or before {latest} ms",
                    self.retention_days
                ),
            )
        })
    }

    /// Authoring advice that does not block saving.
    pub fn lint(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        for (i, c) in self.channels.iter().enumerate() {
            if c.kind == ChannelKind::Ticket
                && let Some(w) =
                    crate::validate::lookalike_warning(format!("channels[{i}].value"), &c.value)
            {
                out.push(w);
            }
        }
        if self.channels.is_empty() {
            out.push(Problem::new(
                "channels",
                "no traditional channel: visitors with complex or confidential matters have nowhere to go",
            ));
        }
        if self.origins.is_empty() {
            out.push(Problem::new(
                "origins",
                "no allowed origins: browsers on your pages cannot reach the API",
            ));
        }
        for (i, t) in self.topics.iter().enumerate() {
            if !t.simple && self.channels_for(&t.id).next().is_none() {
                out.push(Problem::new(
                    format!("topics[{i}]"),
                    "complex topic with no channel that serves it",
                ));
            }
        }
        out
    }

    /// The channels that serve `topic` (those listing it, or listing no topic at all).
    pub fn channels_for<'a>(&'a self, topic: &'a str) -> impl Iterator<Item = &'a Channel> + 'a {
        channels_for(&self.channels, topic)
    }
}

/// The channels among `channels` that serve `topic` (listing it, or listing no topic).
pub fn channels_for<'a>(
    channels: &'a [Channel],
    topic: &'a str,
) -> impl Iterator<Item = &'a Channel> + 'a {
    channels
        .iter()
        .filter(move |c| c.topics.is_empty() || c.topics.iter().any(|t| t == topic))
}

/// `https://host[:port]` or `http://host[:port]`, nothing after.
pub fn is_origin(o: &str) -> bool {
    let Some((scheme, host)) = o.split_once("://") else {
        return false;
    };
    matches!(scheme, "https" | "http")
        && !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b':' | b'[' | b']'))
}

fn is_hex_colour(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s.bytes().skip(1).all(|c| c.is_ascii_hexdigit())
}

/// Whether `s` is a BCP 47 language tag as Glimpse accepts them: a 2-3 letter lower-case
/// primary subtag, then subtags of 2-8 letters or digits (`en`, `pt-BR`), at most 35 bytes.
pub fn is_language_tag(s: &str) -> bool {
    let mut parts = s.split('-');
    let primary = parts.next().unwrap_or("");
    (2..=3).contains(&primary.len())
        && primary.bytes().all(|c| c.is_ascii_lowercase())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|c| c.is_ascii_alphanumeric()))
        && s.len() <= 35
}

fn is_timezone_name(s: &str) -> bool {
    s == "UTC"
        || (s.len() <= 64
            && s.contains('/')
            && s.split('/').all(|part| {
                part.starts_with(|c: char| c.is_ascii_uppercase())
                    && part
                        .bytes()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'+'))
            }))
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && s.len() <= 254
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && s.bytes()
            .all(|c| c.is_ascii_graphic() && !matches!(c, b'<' | b'>' | b'"' | b'\\' | b','))
        && !domain.contains('@')
}

/// Whether an email channel carries a query or escapes a `mailto:` link would turn into
/// headers (`?cc=`, `?bcc=`, `&bcc=`, `%3Fbcc%3D`, in any case): any `?`, `&`, `#` or `%`.
fn has_mail_headers(s: &str) -> bool {
    s.contains(['?', '&', '#', '%'])
}

fn is_phone(s: &str) -> bool {
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    (5..=20).contains(&digits)
        && s.bytes().enumerate().all(|(i, c)| {
            c.is_ascii_digit() || matches!(c, b' ' | b'-' | b'(' | b')') || (c == b'+' && i == 0)
        })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn site() -> Site {
        Site {
            languages: Default::default(),
            id: "demo".into(),
            name: "Demo".into(),
            origins: vec!["https://shop.example".into()],
            theme: Theme::default(),
            language: "en".into(),
            timezone: "Europe/Berlin".into(),
            channels: vec![Channel {
                kind: ChannelKind::Email,
                label: "Email us".into(),
                value: "help@shop.example".into(),
                topics: vec![],
            }],
            topics: vec![Topic {
                translations: Default::default(),
                id: "billing".into(),
                label: "Billing".into(),
                simple: false,
                hours: vec![],
            }],
            retention_days: 30,
        }
    }

    fn fields(problems: Vec<Problem>) -> Vec<String> {
        problems.into_iter().map(|p| p.field).collect()
    }

    #[test]
    fn a_good_site_has_no_problems_or_warnings() {
        assert_eq!(site().validate(), vec![]);
        assert_eq!(site().lint(), vec![]);
    }

    #[test]
    fn channels_refuse_bidi_controls_and_mail_headers() {
        let email = |value: &str| {
            let mut s = site();
            s.channels[0].value = value.into();
            fields(s.validate())
        };
        assert!(email("help@shop.example").is_empty());
        for bad in [
            "help@shop.example?cc=thief@evil.example",
            "help@shop.example?BCC=thief@evil.example",
            "help@shop.example?subject=hi&bcc=thief@evil.example",
            "help@shop.example%3Fbcc%3Dthief%40evil.example",
            "help@shop.example%3fcc=x",
            "help@shop.example#x",
        ] {
            assert_eq!(email(bad), ["channels[0].value"], "{bad}");
        }
        let mut s = site();
        s.channels[0].label = "Email \u{202E}su liame".into();
        s.channels.push(Channel {
            kind: ChannelKind::Ticket,
            label: "Tickets".into(),
            value: "https://help.example/\u{2066}new".into(),
            topics: vec![],
        });
        s.channels.push(Channel {
            kind: ChannelKind::Phone,
            label: "Call".into(),
            value: "+49 30 \u{200F}1234567".into(),
            topics: vec![],
        });
        let f = fields(s.validate());
        assert!(f.contains(&"channels[0].label".to_string()), "{f:?}");
        assert!(f.contains(&"channels[1].value".to_string()), "{f:?}");
        assert!(f.contains(&"channels[2].value".to_string()), "{f:?}");
    }

    #[test]
    fn look_alike_ticket_hosts_are_named_in_punycode() {
        let mut s = site();
        s.channels.push(Channel {
            kind: ChannelKind::Ticket,
            label: "Tickets".into(),
            value: "https://sh\u{043E}p.example/new".into(),
            topics: vec![],
        });
        assert_eq!(s.validate(), vec![]);
        let lint = s.lint();
        assert_eq!(fields(lint.clone()), ["channels[1].value"]);
        assert!(lint[0].message.contains("xn--"), "{lint:?}");
    }

    #[test]
    fn retention_past_what_storage_accepts_names_the_field() {
        let s = site();
        assert_eq!(s.storage_problem("expires_at", 1_800_000_000_000), None);
        let p = s.storage_problem("expires_at", crate::validate::STORAGE_EXPIRY_MAX_MS);
        assert!(p.is_some_and(|p| p.field == "expires_at" && p.message.contains("30 days")));
        // Saturating, never overflowing.
        assert!(s.storage_problem("ends_at", crate::Millis::MAX).is_some());
        assert_eq!(s.retain_until(crate::Millis::MAX), crate::Millis::MAX);
    }

    #[test]
    fn minimal_json_gets_defaults() {
        let s: Site =
            serde_json::from_str(r#"{"id":"a","name":"A"}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.language, "en");
        assert_eq!(s.timezone, "UTC");
        assert_eq!(s.retention_days, 90);
        assert_eq!(s.theme.mode, ThemeMode::Auto);
        assert_eq!(s.validate(), vec![]);
        assert_eq!(fields(s.lint()), ["channels", "origins"]);
    }

    #[test]
    fn site_origins_must_be_exact() {
        let mut s = site();
        s.origins = vec![
            "https://shop.example".into(),
            "http://127.0.0.1:8787".into(),
            "https://shop.example/".into(),
            "shop.example".into(),
            "https://a b".into(),
        ];
        assert_eq!(
            fields(s.validate()),
            ["origins[2]", "origins[3]", "origins[4]"]
        );
    }

    #[test]
    fn every_problem_is_reported() {
        let mut s = site();
        s.theme.accent = "red".into();
        s.language = "english".into();
        s.timezone = "Berlin time".into();
        s.retention_days = 0;
        s.channels = vec![
            Channel {
                kind: ChannelKind::Phone,
                label: "Call".into(),
                value: "call us".into(),
                topics: vec!["nope".into()],
            },
            Channel {
                kind: ChannelKind::Ticket,
                label: "".into(),
                value: "http://tickets.example".into(),
                topics: vec![],
            },
        ];
        s.topics.push(s.topics[0].clone());
        assert_eq!(
            fields(s.validate()),
            [
                "theme.accent",
                "language",
                "timezone",
                "retention_days",
                "topics[1].id",
                "channels[0].value",
                "channels[0].topics[0]",
                "channels[1].label",
                "channels[1].value",
            ]
        );
    }

    #[test]
    fn channel_values() {
        assert!(is_email("help@shop.example"));
        assert!(!is_email("help@shop"));
        assert!(!is_email("a b@shop.example"));
        assert!(is_phone("+49 30 1234567"));
        assert!(is_phone("(030) 123-4567"));
        assert!(!is_phone("49+30 1234567"));
        assert!(!is_phone("123"));
        assert!(is_timezone_name("America/Argentina/Buenos_Aires"));
        assert!(is_timezone_name("Etc/GMT+5"));
        assert!(!is_timezone_name("europe/berlin"));
        assert!(is_language_tag("pt-BR"));
        assert!(!is_language_tag("PT"));
    }

    #[test]
    fn complex_topics_need_a_channel() {
        let mut s = site();
        s.channels[0].topics = vec!["billing".into()];
        s.topics.push(Topic {
            translations: Default::default(),
            id: "privacy".into(),
            label: "Privacy".into(),
            simple: false,
            hours: vec![],
        });
        assert_eq!(fields(s.lint()), ["topics[1]"]);
        assert_eq!(s.channels_for("billing").count(), 1);
        assert_eq!(s.channels_for("privacy").count(), 0);
    }

    #[test]
    fn opening_hours_are_validated() {
        assert_eq!(parse_hhmm("09:30"), Some(570));
        assert_eq!(parse_hhmm("24:00"), Some(1440));
        assert_eq!(parse_hhmm("24:01"), None);
        assert_eq!(parse_hhmm("9:30"), None);
        assert_eq!(parse_hhmm("+9:30"), None);
        assert_eq!(parse_hhmm("09:+3"), None);
        let mut s = site();
        s.topics[0].hours = vec![
            Opening {
                days: vec![Day::Mon],
                from: "09:00".into(),
                to: "17:00".into(),
            },
            Opening {
                days: vec![],
                from: "17:00".into(),
                to: "09:00".into(),
            },
        ];
        assert_eq!(
            fields(s.validate()),
            ["topics[0].hours[1].days", "topics[0].hours[1]"]
        );
    }

    #[test]
    fn retention() {
        assert_eq!(site().retain_until(0), 30 * 86_400_000);
    }
}

/// The text colour (`#ffffff` or `#14121a`) with the higher WCAG contrast on `background`
/// (`#rrggbb`); dark text when the colour cannot be read.
pub fn text_on(background: &str) -> &'static str {
    let channel = |i: usize| {
        background
            .get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .map(|v| {
                let c = f64::from(v) / 255.0;
                if c <= 0.039_28 {
                    c / 12.92
                } else {
                    ((c + 0.055) / 1.055).powf(2.4)
                }
            })
    };
    match (channel(1), channel(3), channel(5)) {
        (Some(r), Some(g), Some(b)) if background.len() == 7 => {
            let l = 0.2126 * r + 0.7152 * g + 0.0722 * b;
            // Contrast with white vs with #14121a (luminance ≈ 0.0066).
            let white = 1.05 / (l + 0.05);
            let dark = (l + 0.05) / 0.0566;
            if white >= dark { "#ffffff" } else { "#14121a" }
        }
        _ => "#14121a",
    }
}

#[cfg(test)]
mod contrast_tests {
    use super::text_on;

    #[test]
    fn readable_text_on_any_accent() {
        assert_eq!(text_on("#5b4dff"), "#ffffff");
        assert_eq!(text_on("#8a4b2a"), "#ffffff");
        assert_eq!(text_on("#ffd400"), "#14121a");
        assert_eq!(text_on("#ffffff"), "#14121a");
        assert_eq!(text_on("nope"), "#14121a");
    }
}
