//! The knowledge base: every story and every resolved question becomes a permanent entry,
//! filed by topic, searchable with a pure ranking of relevance plus popularity.

use serde::{Deserialize, Serialize};

use crate::Millis;

/// Where an entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KbSource {
    Story,
    Question,
}

/// One permanent knowledge-base entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KbEntry {
    /// `story-{id}` or `question-{id}`.
    pub id: String,
    pub source: KbSource,
    pub topic: String,
    pub title: String,
    /// The steps (story slides) or the question and its answers, as plain text.
    pub body: String,
    pub created_at: Millis,
    /// Times visitors viewed it.
    #[serde(default)]
    pub views: u32,
    /// "Did this help?" yes votes.
    #[serde(default)]
    pub helped: u32,
}

/// A search hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KbHit {
    pub entry: KbEntry,
    pub score: f64,
}

/// Views and "helped" votes per knowledge-base entry id, each visitor counted once per story.
pub type Popularity = std::collections::BTreeMap<String, (u32, u32)>;

/// Counts popularity from stored event batches: distinct visitors who viewed each story and
/// who said it helped.
pub fn popularity<'a>(
    batches: impl IntoIterator<Item = &'a crate::events::StoredBatch>,
) -> Popularity {
    use crate::events::EventKind;
    let mut seen: std::collections::BTreeSet<(u8, String, String)> =
        std::collections::BTreeSet::new();
    let mut out = Popularity::new();
    for b in batches {
        for e in &b.events {
            let (kind, story) = match &e.kind {
                EventKind::StoryView { story } => (0u8, story),
                EventKind::Helpful { story } => (1u8, story),
                _ => continue,
            };
            if seen.insert((kind, story.clone(), b.visitor.clone())) {
                let entry = out.entry(format!("story-{story}")).or_default();
                if kind == 0 {
                    entry.0 += 1;
                } else {
                    entry.1 += 1;
                }
            }
        }
    }
    out
}

/// Applies counted popularity to entries.
pub fn with_popularity(mut entries: Vec<KbEntry>, pop: &Popularity) -> Vec<KbEntry> {
    for e in &mut entries {
        if let Some((views, helped)) = pop.get(&e.id) {
            e.views = *views;
            e.helped = *helped;
        }
    }
    entries
}

/// Lowercased words of `text`, with common Latin accents folded (`contraseña` → `contrasena`).
pub fn words(text: &str) -> Vec<String> {
    let fold = |c: char| match c {
        'á' | 'à' | 'â' | 'ä' | 'å' => 'a',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'í' | 'ì' | 'î' | 'ï' => 'i',
        'ó' | 'ò' | 'ô' | 'ö' | 'ø' => 'o',
        'ú' | 'ù' | 'û' | 'ü' => 'u',
        'ñ' => 'n',
        'ç' => 'c',
        'æ' => 'a',
        c => c,
    };
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().map(fold).collect())
        .collect()
}

/// Whether `word` matches `term`: equal, or a prefix of at least 3 characters
/// ("pass" finds "password"), or the same stem ("orders" finds "order").
fn matches(word: &str, term: &str) -> bool {
    word == term
        || (term.chars().count() >= 3 && word.starts_with(term))
        || (word.chars().count() >= 4 && term.starts_with(word) && term.len() - word.len() <= 2)
}

/// Ranks `entries` for `query` (and optionally only `topic`). Every query word must match
/// the title or body; title matches weigh three times body matches; popularity (views,
/// helped votes) adds a gentle logarithmic boost. An empty query lists the topic's entries,
/// most popular and newest first.
pub fn search(entries: &[KbEntry], query: &str, topic: Option<&str>, limit: usize) -> Vec<KbHit> {
    let terms = words(query);
    let mut hits: Vec<KbHit> = entries
        .iter()
        .filter(|e| topic.is_none_or(|t| e.topic == t))
        .filter_map(|e| {
            let title = words(&e.title);
            let body = words(&e.body);
            let mut relevance = 0.0;
            for term in &terms {
                let t = title.iter().filter(|w| matches(w, term)).count() as f64;
                let b = body.iter().filter(|w| matches(w, term)).count() as f64;
                if t + b == 0.0 {
                    return None;
                }
                relevance += 3.0 * t + b.min(5.0);
            }
            let popularity =
                (1.0 + f64::from(e.views)).ln() * 0.5 + (1.0 + f64::from(e.helped)).ln();
            Some(KbHit {
                score: relevance + popularity,
                entry: e.clone(),
            })
        })
        .collect();
    hits.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| b.entry.created_at.cmp(&a.entry.created_at))
            .then_with(|| a.entry.id.cmp(&b.entry.id))
    });
    hits.truncate(limit);
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, topic: &str, title: &str, body: &str, views: u32, helped: u32) -> KbEntry {
        KbEntry {
            id: id.into(),
            source: KbSource::Story,
            topic: topic.into(),
            title: title.into(),
            body: body.into(),
            created_at: 0,
            views,
            helped,
        }
    }

    fn corpus() -> Vec<KbEntry> {
        vec![
            entry(
                "story-reset",
                "account",
                "Reset your password",
                "Open Settings. Tap Reset password. Check your email.",
                10,
                2,
            ),
            entry(
                "story-track",
                "orders",
                "Where is my order?",
                "Every order gets a tracking link by email.",
                50,
                9,
            ),
            entry(
                "question-late",
                "orders",
                "My order is late",
                "It has been 8 days. Answer: we chased the courier.",
                0,
                0,
            ),
            entry(
                "story-refund",
                "billing",
                "Refunds",
                "Refunds reach your card in 5 days.",
                5,
                1,
            ),
            entry(
                "story-es",
                "account",
                "Cambiar la contraseña",
                "Abre Ajustes y toca Contraseña.",
                1,
                0,
            ),
        ]
    }

    fn ids(hits: &[KbHit]) -> Vec<&str> {
        hits.iter().map(|h| h.entry.id.as_str()).collect()
    }

    #[test]
    fn title_matches_outrank_body_matches() {
        let hits = search(&corpus(), "password", None, 10);
        assert_eq!(ids(&hits), ["story-reset"]);
        let hits = search(&corpus(), "order", None, 10);
        assert_eq!(ids(&hits), ["story-track", "question-late"]);
    }

    #[test]
    fn every_word_must_match() {
        assert_eq!(
            ids(&search(&corpus(), "order late", None, 10)),
            ["question-late"]
        );
        assert!(search(&corpus(), "order unicorn", None, 10).is_empty());
    }

    #[test]
    fn prefixes_stems_and_accents() {
        assert_eq!(ids(&search(&corpus(), "pass", None, 10)), ["story-reset"]);
        assert_eq!(
            ids(&search(&corpus(), "orders", None, 10)),
            ["story-track", "question-late"]
        );
        assert_eq!(
            ids(&search(&corpus(), "contrasena", None, 10)),
            ["story-es"]
        );
        assert_eq!(
            ids(&search(&corpus(), "CONTRASEÑA", None, 10)),
            ["story-es"]
        );
    }

    #[test]
    fn popularity_counts_each_visitor_once() {
        use crate::events::{Event, EventKind, StoredBatch};
        let batch = |visitor: &str, kinds: Vec<EventKind>| StoredBatch {
            visitor: visitor.into(),
            received_at: 0,
            events: kinds
                .into_iter()
                .map(|kind| Event { kind, at: None })
                .collect(),
        };
        let view = |s: &str| EventKind::StoryView { story: s.into() };
        let helped = |s: &str| EventKind::Helpful { story: s.into() };
        let batches = [
            batch("a", vec![view("reset"), view("reset"), helped("reset")]),
            batch("a", vec![view("reset")]),
            batch(
                "b",
                vec![
                    view("reset"),
                    view("track"),
                    EventKind::NotHelpful {
                        story: "track".into(),
                    },
                ],
            ),
        ];
        let pop = popularity(&batches);
        assert_eq!(pop.get("story-reset"), Some(&(2, 1)));
        assert_eq!(pop.get("story-track"), Some(&(1, 0)));
        let ranked = with_popularity(corpus(), &pop);
        assert_eq!(ranked[0].views, 2);
    }

    #[test]
    fn popularity_breaks_ties_and_topic_filters() {
        let mut c = corpus();
        c.push(entry(
            "story-track-2",
            "orders",
            "Where is my order?",
            "Every order gets a tracking link by email.",
            0,
            0,
        ));
        let hits = search(&c, "where", None, 10);
        assert_eq!(ids(&hits), ["story-track", "story-track-2"]);
        let hits = search(&c, "", Some("account"), 10);
        assert_eq!(ids(&hits), ["story-reset", "story-es"]);
        assert_eq!(search(&c, "", None, 2).len(), 2);
        assert!(search(&c, "refund", Some("orders"), 10).is_empty());
    }
}
