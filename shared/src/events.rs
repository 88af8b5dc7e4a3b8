//! What the widget reports so operators can see what works: views, completions, CTA clicks,
//! "didn't help", escalations and banner joins. Sent in batches, stored as one KV write each.

use serde::{Deserialize, Serialize};

use crate::Millis;
use crate::ids::is_slug;
use crate::site::ChannelKind;
use crate::validate::{Problem, Problems};

/// `POST /v1/sites/{site}/events`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventBatch {
    /// Client-made idempotency token: resending a batch stores it once.
    pub id: String,
    pub visitor: String,
    pub events: Vec<Event>,
}

/// One thing a visitor did. `at` is the visitor's clock, kept only for ordering within a batch;
/// the server's receive time is what counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    #[serde(flatten)]
    pub kind: EventKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    StoryView {
        story: String,
    },
    SlideView {
        story: String,
        slide: u16,
    },
    StoryComplete {
        story: String,
    },
    CtaClick {
        story: String,
        slide: u16,
    },
    /// The visitor said the story solved their problem ("Did this help?" → yes).
    Helpful {
        story: String,
    },
    /// The visitor said the story did not solve their problem.
    NotHelpful {
        story: String,
    },
    /// The visitor went to a traditional channel.
    Escalation {
        channel: ChannelKind,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        topic: Option<String>,
    },
    BannerJoin {
        session: String,
    },
}

/// A batch as stored: what arrived, with the server's receive time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredBatch {
    pub visitor: String,
    pub received_at: Millis,
    pub events: Vec<Event>,
}

impl EventBatch {
    pub const EVENTS_MAX: usize = 50;

    /// Every problem with this batch, or none.
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Problems::default();
        p.token("id", &self.id);
        p.token("visitor", &self.visitor);
        if self.events.is_empty() || self.events.len() > Self::EVENTS_MAX {
            p.push("events", "must hold 1-50 events");
        }
        for (i, e) in self.events.iter().enumerate() {
            let slug = |p: &mut Problems, f: &str, v: &str| {
                if !is_slug(v) {
                    p.push(format!("events[{i}].{f}"), "must be a slug");
                }
            };
            match &e.kind {
                EventKind::StoryView { story }
                | EventKind::StoryComplete { story }
                | EventKind::Helpful { story }
                | EventKind::NotHelpful { story }
                | EventKind::SlideView { story, .. }
                | EventKind::CtaClick { story, .. } => slug(&mut p, "story", story),
                EventKind::Escalation { topic, .. } => {
                    if let Some(t) = topic {
                        slug(&mut p, "topic", t);
                    }
                }
                EventKind::BannerJoin { session } => slug(&mut p, "session", session),
            }
        }
        p.into_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_json_shape_and_validation() {
        let b: EventBatch = serde_json::from_str(
            r#"{"id":"batch-0123456789ab","visitor":"visitor-0123456789",
                "events":[{"kind":"slide_view","story":"reset","slide":2,"at":5},
                          {"kind":"escalation","channel":"email"},
                          {"kind":"banner_join","session":"Bad Id"}]}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            b.events[0].kind,
            EventKind::SlideView {
                story: "reset".into(),
                slide: 2
            }
        );
        assert_eq!(b.events[0].at, Some(5));
        let fields: Vec<_> = b.validate().into_iter().map(|p| p.field).collect();
        assert_eq!(fields, ["events[2].session"]);
    }

    #[test]
    fn batch_size_is_bounded() {
        let e = Event {
            kind: EventKind::StoryView { story: "a".into() },
            at: None,
        };
        let mut b = EventBatch {
            id: "b".repeat(16),
            visitor: "v".repeat(16),
            events: vec![e; 51],
        };
        assert_eq!(b.validate()[0].field, "events");
        b.events.truncate(50);
        assert_eq!(b.validate(), vec![]);
        b.events.clear();
        assert_eq!(b.validate()[0].field, "events");
    }
}
