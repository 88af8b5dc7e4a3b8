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
    /// An email address for a follow-up by email, if the visitor wants one. Only with
    /// `email_consent: true`: the widget states beside the field that the team uses it only
    /// to answer this question, and that it is erased with the conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default)]
    pub email_consent: bool,
}

/// Whether `s` looks like an email address a reply can go to: one `@`, a non-empty local
/// part without spaces or control characters, a domain with a dot, at most 254 bytes.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    s.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && s.chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && c != '<' && c != '>')
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
    /// An address the visitor left for follow-up by email, with consent (see
    /// [`NewQuestion::email`]); erased with them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A reply from the team.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub text: String,
    /// A story that answers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub story: Option<String>,
    #[serde(default)]
    pub at: Millis,
    /// The replying operator's display name, set by the server (the `ADMIN_TOKEN`'s replies
    /// have none: the widget then says the team replied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// A picture sent with the reply: a media library file's address
    /// (`/v1/sites/{site}/media/{id}`) or an https URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo: Option<String>,
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
    /// The address the visitor left for a follow-up by email, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The visitor's follow-up messages in the same thread, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub followups: Vec<FollowUp>,
}

/// A visitor's follow-up message in their thread (`POST …/questions/{id}/messages`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    pub text: String,
    /// Server time it arrived, ms (set by the server).
    #[serde(default)]
    pub at: Millis,
}

impl FollowUp {
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Problems::default();
        p.text("text", &self.text, NewQuestion::MESSAGE_MAX);
        p.into_vec()
    }
}

/// The localStorage key of how many replies the visitor has read in each thread (a JSON
/// object: thread id → count), which the launcher's unread badge compares with
/// `POST /v1/sites/{site}/threads`.
pub fn read_key(site: &str) -> String {
    format!("glimpse:{site}:read")
}

/// Threads with replies the visitor has not read: `statuses` are (thread id, replies now)
/// from the API, `read(id)` how many of that thread's replies the visitor has read.
pub fn unread_threads(statuses: &[(String, u32)], read: impl Fn(&str) -> u32) -> usize {
    statuses.iter().filter(|(id, n)| *n > read(id)).count()
}

/// Whether `s` can go into the threads request as it is: a thread id or token
/// (`[A-Za-z0-9_-]`, 1-128 bytes), so the widget's first chunk writes that JSON by hand.
pub fn is_plain_token(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Upper bounds, in minutes, of the first-reply-time buckets: each question's first reply
/// adds one to its bucket's `daily` counter (metric [`FIRST_REPLY_METRIC`], key the bound),
/// so the expected reply time is computed from a handful of counters, never by reading
/// questions. The last bucket also holds everything slower.
pub const REPLY_BUCKETS_MIN: [u32; 10] = [5, 15, 30, 60, 120, 240, 480, 1_440, 2_880, 10_080];
/// The `daily` metric of first-reply times.
pub const FIRST_REPLY_METRIC: &str = "first_reply";
/// Fewest first replies in the window for an expected reply time to be shown.
pub const REPLY_SAMPLE_MIN: i64 = 3;
/// Days of first replies the expected reply time is the median of.
pub const REPLY_WINDOW_DAYS: i64 = 7;

/// The bucket bound (minutes) a first reply `elapsed_ms` after the question falls in.
pub fn reply_bucket(elapsed_ms: Millis) -> u32 {
    let minutes = (elapsed_ms.max(0) + 59_999) / 60_000;
    REPLY_BUCKETS_MIN
        .iter()
        .copied()
        .find(|b| i64::from(*b) >= minutes)
        .unwrap_or(REPLY_BUCKETS_MIN[REPLY_BUCKETS_MIN.len() - 1])
}

/// The median first-reply time as a bucket bound (minutes) from `(bound, count)` pairs (any
/// order, bounds repeated across days), or `None` with fewer than [`REPLY_SAMPLE_MIN`]
/// replies. The median is the bound of the bucket holding the middle reply: "within 2 h"
/// means at least half were answered within 2 h.
pub fn median_reply_minutes(counts: &[(u32, i64)]) -> Option<u32> {
    let total: i64 = counts.iter().map(|(_, n)| (*n).max(0)).sum();
    if total < REPLY_SAMPLE_MIN {
        return None;
    }
    let mut seen = 0;
    for bound in REPLY_BUCKETS_MIN {
        seen += counts
            .iter()
            .filter(|(b, _)| *b == bound)
            .map(|(_, n)| (*n).max(0))
            .sum::<i64>();
        if seen * 2 >= total {
            return Some(bound);
        }
    }
    Some(REPLY_BUCKETS_MIN[REPLY_BUCKETS_MIN.len() - 1])
}

/// A reply the team saved to insert into answers (`/v1/admin/sites/{site}/saved-replies`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedReply {
    pub id: String,
    /// What the picker shows, e.g. "Password reset".
    pub title: String,
    /// The text inserted into the reply box (plain text, line breaks kept).
    pub text: String,
    /// Last change, unix ms.
    pub updated_at: Millis,
    /// The operator id that made the last change.
    pub updated_by: String,
}

/// What an agent or owner sends to add or change a saved reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSavedReply {
    pub title: String,
    pub text: String,
}

impl NewSavedReply {
    /// Most characters of a title.
    pub const TITLE_MAX: usize = 80;
    /// Most saved replies a site keeps.
    pub const PER_SITE_MAX: usize = 200;

    /// Every problem: a title of 1-80 characters, a text a reply could carry (1-2000).
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Problems::default();
        p.text("title", &self.title, Self::TITLE_MAX);
        if self.title.contains('\n') {
            p.push("title", "one line");
        }
        p.text("text", &self.text, Reply::TEXT_MAX);
        p.into_vec()
    }
}

/// One entry of a thread's conversation after the question, in time order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Turn<'a> {
    Visitor(&'a FollowUp),
    Team(&'a Reply),
}

impl Thread {
    /// The replies and follow-ups merged by time (the team's first when both are at the
    /// same ms).
    pub fn turns(&self) -> Vec<Turn<'_>> {
        let mut out: Vec<(Millis, u8, Turn<'_>)> = self
            .replies
            .iter()
            .map(|r| (r.at, 0, Turn::Team(r)))
            .chain(self.followups.iter().map(|f| (f.at, 1, Turn::Visitor(f))))
            .collect();
        out.sort_by_key(|(at, order, _)| (*at, *order));
        out.into_iter().map(|(_, _, t)| t).collect()
    }
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
        if let Some(email) = &self.email {
            if !is_email(email) {
                p.push("email", "an email address like name@example.com");
            } else if !self.email_consent {
                p.push(
                    "email_consent",
                    "must be true: the visitor agreed to be answered at this address",
                );
            }
        }
        p.into_vec()
    }
}

impl Reply {
    /// Most characters of a reply's text.
    pub const TEXT_MAX: usize = 2_000;

    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Problems::default();
        p.text("text", &self.text, Self::TEXT_MAX);
        if let Some(s) = &self.story {
            p.slug("story", s);
        }
        if let Some(photo) = &self.photo {
            p.media("photo", photo);
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
            email: None,
            email_consent: false,
        };
        assert_eq!(q.validate(), vec![]);
        let bad = NewQuestion {
            visitor: "v".into(),
            topic: "Orders".into(),
            message: "x".repeat(501),
            email: None,
            email_consent: false,
        };
        let fields: Vec<_> = bad.validate().into_iter().map(|p| p.field).collect();
        assert_eq!(fields, ["visitor", "topic", "message"]);
        let with = |email: &str, consent| NewQuestion {
            email: Some(email.into()),
            email_consent: consent,
            ..q.clone()
        };
        assert_eq!(with("ana@shop.example", true).validate(), vec![]);
        let field = |n: NewQuestion| {
            n.validate()
                .into_iter()
                .map(|p| p.field)
                .collect::<Vec<_>>()
        };
        assert_eq!(field(with("ana@shop.example", false)), ["email_consent"]);
        for bad in [
            "ana",
            "ana@shop",
            "@shop.example",
            "a b@shop.example",
            "a@b@c.example",
            "a@.example",
            "a@x..example",
            "<a@x.example>",
        ] {
            assert_eq!(field(with(bad, true)), ["email"], "{bad}");
        }
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

    #[test]
    fn first_replies_fall_in_their_bucket() {
        assert_eq!(reply_bucket(0), 5);
        assert_eq!(reply_bucket(5 * 60_000), 5);
        assert_eq!(reply_bucket(5 * 60_000 + 1), 15);
        assert_eq!(reply_bucket(90 * 60_000), 120);
        assert_eq!(reply_bucket(30 * 86_400_000), 10_080);
        assert_eq!(reply_bucket(-5), 5, "clock skew counts as instant");
    }

    #[test]
    fn the_expected_reply_time_is_the_median_bucket() {
        assert_eq!(median_reply_minutes(&[]), None);
        assert_eq!(median_reply_minutes(&[(60, 2)]), None, "too few to say");
        assert_eq!(median_reply_minutes(&[(60, 3)]), Some(60));
        // Days repeat bounds: 2+1 fast, 1+1 slow → the middle of 5 is fast.
        assert_eq!(
            median_reply_minutes(&[(15, 2), (1_440, 1), (15, 1), (1_440, 1)]),
            Some(15)
        );
        assert_eq!(
            median_reply_minutes(&[(5, 1), (120, 1), (480, 2)]),
            Some(120)
        );
        assert_eq!(
            median_reply_minutes(&[(7, 5)]),
            Some(10_080),
            "unknown bounds: slowest"
        );
    }

    #[test]
    fn threads_with_more_replies_than_read_are_unread() {
        let statuses = vec![
            ("a".to_string(), 2),
            ("b".to_string(), 1),
            ("c".to_string(), 0),
        ];
        assert_eq!(unread_threads(&statuses, |_| 0), 2);
        assert_eq!(
            unread_threads(&statuses, |id| if id == "a" { 2 } else { 0 }),
            1
        );
        assert_eq!(unread_threads(&statuses, |_| 5), 0);
        assert!(is_plain_token("q-12_ab") && !is_plain_token("a\"b") && !is_plain_token(""));
    }
}
