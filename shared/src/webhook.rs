//! Webhooks: what a site's receivers subscribe to, what each delivery carries, when a failed
//! delivery is tried again, and the Slack-compatible text. Pure; the worker signs, queues
//! and sends.
//!
//! A delivery is `POST <url>` with the JSON body of an [`Envelope`] (or, for Slack-format
//! hooks, `{"text": …}`), and the headers `Glimpse-Event`, `Glimpse-Delivery` (the event id,
//! the same on every attempt: receivers deduplicate by it) and
//! `Glimpse-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.

use serde::{Deserialize, Serialize};

use crate::Millis;
use crate::validate::{Problem, Problems};

/// What a webhook can be told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum EventType {
    /// A visitor asked a question (it reached the inbox).
    #[serde(rename = "question.created")]
    QuestionCreated,
    /// An operator replied to a question.
    #[serde(rename = "question.replied")]
    QuestionReplied,
    /// An operator resolved a question.
    #[serde(rename = "question.resolved")]
    QuestionResolved,
    /// A CSAT (rating) answer of 1 or 2 stars.
    #[serde(rename = "csat.low")]
    CsatLow,
    /// A published story expires within the next 24 hours.
    #[serde(rename = "story.expiring")]
    StoryExpiring,
    /// "Send test" in the console: sent only to the hook it was asked for.
    #[serde(rename = "test")]
    Test,
}

impl EventType {
    /// The events a hook can subscribe to.
    pub const SUBSCRIBABLE: [EventType; 5] = [
        EventType::QuestionCreated,
        EventType::QuestionReplied,
        EventType::QuestionResolved,
        EventType::CsatLow,
        EventType::StoryExpiring,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::QuestionCreated => "question.created",
            EventType::QuestionReplied => "question.replied",
            EventType::QuestionResolved => "question.resolved",
            EventType::CsatLow => "csat.low",
            EventType::StoryExpiring => "story.expiring",
            EventType::Test => "test",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            EventType::QuestionCreated => "New question",
            EventType::QuestionReplied => "Reply sent",
            EventType::QuestionResolved => "Question resolved",
            EventType::CsatLow => "Low CSAT (1–2 stars)",
            EventType::StoryExpiring => "Story expiring within 24 h",
            EventType::Test => "Test",
        }
    }
}

/// How a delivery's body is shaped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// The [`Envelope`] as JSON.
    #[default]
    Json,
    /// `{"text": "…"}`: what Slack's (and Mattermost's, Discord's `/slack`) incoming
    /// webhooks take.
    Slack,
}

/// A site's webhook as the owners' API shows it (the secret only when it is made).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub events: Vec<EventType>,
    #[serde(default)]
    pub format: Format,
    pub created_at: Millis,
    pub created_by: String,
}

/// What an owner sends to add or change a webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewWebhook {
    pub url: String,
    pub events: Vec<EventType>,
    #[serde(default)]
    pub format: Format,
}

/// Whether `url` is a loopback `http://` address (`127.0.0.1`, `localhost`, `[::1]`), which
/// local runs accept for receivers on the same machine.
pub fn is_loopback_http(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = match host.rsplit_once(':') {
        Some((h, port)) if !h.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
}

impl NewWebhook {
    /// Most bytes of a receiver's URL.
    pub const URL_MAX: usize = 2_048;

    /// Every problem; `loopback` also accepts `http://` loopback receivers (local runs only).
    pub fn validate(&self, loopback: bool) -> Vec<Problem> {
        let mut p = Problems::default();
        if self.url.len() > Self::URL_MAX {
            p.push("url", format!("at most {} bytes", Self::URL_MAX));
        } else if !(crate::validate::is_https_url(&self.url)
            || (loopback && is_loopback_http(&self.url)))
        {
            p.push("url", "must be an https URL");
        }
        if self.events.is_empty() {
            p.push("events", "subscribe to at least one event");
        }
        for (i, e) in self.events.iter().enumerate() {
            if !EventType::SUBSCRIBABLE.contains(e) {
                p.push(
                    format!("events[{i}]"),
                    "not an event a webhook can subscribe to",
                );
            } else if self.events[..i].contains(e) {
                p.push(format!("events[{i}]"), "listed twice");
            }
        }
        p.into_vec()
    }
}

/// One event as a receiver gets it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// The event's id: the same on every attempt (`Glimpse-Delivery`).
    pub id: String,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub site: String,
    /// When it happened, unix ms.
    pub created_at: Millis,
    /// What it is about (see the README's webhook section for each type's fields).
    pub data: serde_json::Value,
}

/// Attempts a delivery gets at most (the first and five retries).
pub const MAX_ATTEMPTS: u32 = 6;

/// Seconds to wait before attempt `attempt + 1` after attempt `attempt` (1-based) failed, or
/// `None` when it was the last: 10 s, 1 min, 5 min, 30 min, 2 h — about 2.6 h in all.
pub fn retry_delay_s(attempt: u32) -> Option<u32> {
    const DELAYS: [u32; 5] = [10, 60, 300, 1_800, 7_200];
    if attempt >= MAX_ATTEMPTS {
        return None;
    }
    attempt
        .checked_sub(1)
        .and_then(|i| DELAYS.get(i as usize).copied())
}

/// Whether a receiver's answer counts as delivered (any 2xx).
pub fn delivered(status: u16) -> bool {
    (200..300).contains(&status)
}

/// Text cut to `max` characters, with an ellipsis when cut.
fn cut(s: &str, max: usize) -> String {
    let mut out: String = s.chars().take(max).collect();
    if s.chars().count() > max {
        out.push('…');
    }
    out
}

/// Slack's mrkdwn treats `&`, `<` and `>` as control characters: escaped as it asks.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The `{"text": …}` body of a Slack-format hook for `event` of site `site_name`.
pub fn slack_text(site_name: &str, event: &Envelope) -> String {
    let d = &event.data;
    let s = |k: &str| slack_escape(d[k].as_str().unwrap_or(""));
    let site = slack_escape(site_name);
    match event.kind {
        EventType::QuestionCreated => format!(
            "New question on {site} ({}): “{}”",
            s("topic"),
            slack_escape(&cut(d["message"].as_str().unwrap_or(""), 300))
        ),
        EventType::QuestionReplied => format!(
            "{} replied on {site}: “{}”",
            if s("author").is_empty() {
                "The team".to_string()
            } else {
                s("author")
            },
            slack_escape(&cut(d["text"].as_str().unwrap_or(""), 300))
        ),
        EventType::QuestionResolved => format!(
            "Question {} resolved on {site} as {}",
            s("question"),
            s("category")
        ),
        EventType::CsatLow => format!(
            "Low CSAT on {site}: {} of 5 stars on poll {}",
            d["stars"].as_u64().unwrap_or(0),
            s("poll")
        ),
        EventType::StoryExpiring => format!("The story “{}” on {site} expires soon", s("title")),
        EventType::Test => format!("Glimpse webhook test for {site}: it works."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_then_stop() {
        let delays: Vec<Option<u32>> = (1..=7).map(retry_delay_s).collect();
        assert_eq!(
            delays,
            [
                Some(10),
                Some(60),
                Some(300),
                Some(1_800),
                Some(7_200),
                None,
                None
            ]
        );
        assert_eq!(retry_delay_s(0), None);
        assert!(delivered(204) && !delivered(301) && !delivered(500));
    }

    #[test]
    fn receivers_are_https_or_local_loopback() {
        let hook = |url: &str| NewWebhook {
            url: url.into(),
            events: vec![EventType::QuestionCreated],
            format: Format::Json,
        };
        assert!(
            hook("https://hooks.example/glimpse")
                .validate(false)
                .is_empty()
        );
        assert_eq!(hook("http://hooks.example/x").validate(false).len(), 1);
        assert_eq!(hook("http://127.0.0.1:9000/x").validate(false).len(), 1);
        assert!(hook("http://127.0.0.1:9000/x").validate(true).is_empty());
        assert!(hook("http://localhost/x").validate(true).is_empty());
        assert!(hook("http://[::1]:80/").validate(true).is_empty());
        assert_eq!(
            hook("http://127.0.0.1.evil.example/").validate(true).len(),
            1
        );
        assert_eq!(
            hook("http://localhost@evil.example/").validate(true).len(),
            1
        );
        let twice = NewWebhook {
            events: vec![EventType::CsatLow, EventType::CsatLow, EventType::Test],
            ..hook("https://hooks.example/")
        };
        let fields: Vec<String> = twice.validate(false).into_iter().map(|p| p.field).collect();
        assert_eq!(fields, ["events[1]", "events[2]"]);
    }

    #[test]
    fn event_types_travel_by_their_dotted_names() {
        let v: Vec<EventType> =
            serde_json::from_str(r#"["question.created","csat.low","story.expiring"]"#)
                .unwrap_or_default();
        assert_eq!(
            v,
            [
                EventType::QuestionCreated,
                EventType::CsatLow,
                EventType::StoryExpiring
            ]
        );
        for e in EventType::SUBSCRIBABLE {
            assert_eq!(
                serde_json::to_string(&e).ok(),
                Some(format!("\"{}\"", e.as_str()))
            );
        }
    }

    #[test]
    fn slack_text_is_escaped_and_short() {
        let e = Envelope {
            id: "e1".into(),
            kind: EventType::QuestionCreated,
            site: "demo".into(),
            created_at: 0,
            data: serde_json::json!({"topic": "orders", "message": format!("<@channel> & {}", "x".repeat(400))}),
        };
        let t = slack_text("Demo <Coffee>", &e);
        assert!(
            t.starts_with(
                "New question on Demo &lt;Coffee&gt; (orders): “&lt;@channel&gt; &amp; x"
            ),
            "{t}"
        );
        assert!(t.ends_with("…”"), "{t}");
    }
}
