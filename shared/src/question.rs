//! Ask a question: a visitor's short message (and optional photo) on a topic, the team's
//! replies, and its resolution. One KV key per question, per reply and per resolution, so
//! nothing is ever read, modified and written back.

use serde::{Deserialize, Serialize};

use crate::Millis;
use crate::validate::{Problem, Problems};

/// The `daily` counter of questions asked (D1, per site and UTC day; key: the topic).
pub const DAILY_METRIC: &str = "questions";

/// `POST /v1/sites/{site}/questions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewQuestion {
    pub visitor: String,
    pub topic: String,
    pub message: String,
}

/// The answer to creating a question: its id and the visitor's secret for the thread, and
/// when the thread expires with the site's retention (the widget keeps the token that long;
/// 0 in entries a browser stored before expiries were given).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Created {
    pub id: String,
    pub token: String,
    #[serde(default)]
    pub expires_at: Millis,
}

/// The threads a browser keeps (id, token, expiry) without those that expired by `now_ms`.
/// Entries without an expiry (stored by older widgets) stay until the server says the thread
/// is gone (404).
pub fn unexpired(threads: Vec<Created>, now_ms: Millis) -> Vec<Created> {
    threads
        .into_iter()
        .filter(|t| t.expires_at == 0 || t.expires_at > now_ms)
        .collect()
}

/// A question as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub id: String,
    pub topic: String,
    pub message: String,
    pub visitor: String,
    /// The SHA-256 of the visitor's secret for this thread (`sha256:` + hex; questions
    /// stored before tokens were hashed hold the plain token). Never exported: empty there,
    /// and then left out of the JSON.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub token: String,
    pub created_at: Millis,
}

/// A reply from the team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub text: String,
    /// A story that answers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub story: Option<String>,
    #[serde(default)]
    pub at: Millis,
}

/// How a question was closed: the category files it in the knowledge base.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    pub category: String,
    #[serde(default)]
    pub at: Millis,
}

/// What the visitor (with the token) and operators see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thread {
    pub id: String,
    pub topic: String,
    pub message: String,
    pub created_at: Millis,
    pub photo: bool,
    pub replies: Vec<Reply>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved: Option<Resolution>,
}

/// An open question in the operators' list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionSummary {
    pub id: String,
    pub topic: String,
    pub preview: String,
    pub created_at: Millis,
}

/// The image types a photo may have, recognised by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageType {
    Jpeg,
    Png,
    Webp,
}

impl ImageType {
    pub const MAX_BYTES: usize = 1024 * 1024;

    pub fn from_mime(mime: &str) -> Option<Self> {
        match mime
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
            .as_str()
        {
            "image/jpeg" => Some(Self::Jpeg),
            "image/png" => Some(Self::Png),
            "image/webp" => Some(Self::Webp),
            _ => None,
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
        }
    }

    /// Whether `bytes` really are this type (magic numbers), whatever the client claims.
    pub fn matches(self, bytes: &[u8]) -> bool {
        match self {
            Self::Jpeg => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
            Self::Png => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            Self::Webp => bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP",
        }
    }
}

impl NewQuestion {
    pub const MESSAGE_MAX: usize = 500;

    /// Every problem with the request itself (the topic is checked against the site).
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Problems::default();
        p.token("visitor", &self.visitor);
        p.slug("topic", &self.topic);
        p.text("message", &self.message, Self::MESSAGE_MAX);
        p.into_vec()
    }
}

impl Reply {
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Problems::default();
        p.text("text", &self.text, 2_000);
        if let Some(s) = &self.story {
            p.slug("story", s);
        }
        p.into_vec()
    }
}

impl Resolution {
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Problems::default();
        p.slug("category", &self.category);
        p.into_vec()
    }
}

/// The first line of a message, cut to at most 100 characters.
pub fn preview(message: &str) -> String {
    let line = message.lines().next().unwrap_or("");
    let mut out: String = line.chars().take(100).collect();
    if line.chars().count() > 100 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_thread_tokens_expire_with_retention() {
        let t = |id: &str, expires_at| Created {
            id: id.into(),
            token: "t".into(),
            expires_at,
        };
        let kept = unexpired(
            vec![t("old", 1_000), t("legacy", 0), t("live", 5_000)],
            1_000,
        );
        let ids: Vec<&str> = kept.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["legacy", "live"]);
        // Stored by an older widget: no expiry field at all.
        let legacy: Created =
            serde_json::from_str(r#"{"id":"a","token":"b"}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(legacy.expires_at, 0);
    }

    #[test]
    fn questions_are_validated() {
        let q = NewQuestion {
            visitor: "v".repeat(16),
            topic: "orders".into(),
            message: "Where is my parcel?".into(),
        };
        assert_eq!(q.validate(), vec![]);
        let bad = NewQuestion {
            visitor: "v".into(),
            topic: "Orders".into(),
            message: "x".repeat(501),
        };
        let fields: Vec<_> = bad.validate().into_iter().map(|p| p.field).collect();
        assert_eq!(fields, ["visitor", "topic", "message"]);
    }

    #[test]
    fn images_are_recognised_by_their_bytes() {
        assert_eq!(ImageType::from_mime("image/PNG"), Some(ImageType::Png));
        assert_eq!(ImageType::from_mime("image/gif"), None);
        assert!(ImageType::Jpeg.matches(&[0xFF, 0xD8, 0xFF, 0xE0]));
        assert!(!ImageType::Jpeg.matches(b"\x89PNG\r\n\x1a\n"));
        assert!(ImageType::Png.matches(b"\x89PNG\r\n\x1a\n...."));
        assert!(ImageType::Webp.matches(b"RIFF\0\0\0\0WEBPVP8 "));
        assert!(!ImageType::Webp.matches(b"RIFF\0\0\0\0AVI "));
    }

    #[test]
    fn previews() {
        assert_eq!(preview("Hello\nsecond line"), "Hello");
        assert_eq!(preview(&"x".repeat(120)).chars().count(), 101);
    }
}
