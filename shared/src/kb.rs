//! The knowledge base: permanent, categorised, searchable articles. A story becomes an entry
//! when it is saved (public once the story goes live); a visitor's question becomes one only
//! when an operator writes an answer and publishes it ([`answer_entry`]) — resolving a question
//! publishes nothing. Every entry can be edited and unpublished. Searching is a pure ranking of
//! relevance plus popularity over the entries public at `now_ms`.

use serde::{Deserialize, Serialize};

use crate::Millis;
use crate::validate::{Problem, Problems};

/// Where an entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KbSource {
    Story,
    Question,
}

impl KbSource {
    /// The path segment of its admin endpoint (`/v1/admin/sites/{site}/kb/{plural}/{id}`).
    pub fn plural(self) -> &'static str {
        match self {
            KbSource::Story => "stories",
            KbSource::Question => "questions",
        }
    }

    /// The entry id made from a story or question id: `story-{id}` or `question-{id}`.
    pub fn entry_id(self, source_id: &str) -> String {
        match self {
            KbSource::Story => format!("story-{source_id}"),
            KbSource::Question => format!("question-{source_id}"),
        }
    }
}

/// One knowledge-base entry as stored (operators see all of it; visitors only [`KbArticle`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KbEntry {
    /// `story-{id}` or `question-{id}` ([`KbSource::entry_id`]).
    pub id: String,
    pub source: KbSource,
    /// The story or question id it was made from.
    #[serde(default)]
    pub source_id: String,
    /// The visitor whose question it answers (question entries only). Never shown to visitors;
    /// erasing that visitor removes the entry, and their export lists it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor: Option<String>,
    pub topic: String,
    pub title: String,
    /// The steps (story slides) or the operator's answer, as plain text.
    pub body: String,
    /// Unix ms from which visitors can read it: the story's `publish_at`, or when an operator
    /// published the answer. Entries stored before this field was named keep `created_at`.
    #[serde(alias = "created_at")]
    pub published_at: Millis,
    /// Unix ms of the last change (0: never changed since it was made).
    #[serde(default)]
    pub updated_at: Millis,
    /// `false` once an operator unpublished it: kept (for the console and for erasure) but
    /// never shown to visitors, and a later save of its story does not publish it again.
    #[serde(default = "yes")]
    pub published: bool,
    /// An operator wrote or edited its title and body: later saves of its story keep them.
    /// A question entry without it (made automatically by versions before 0.14, verbatim
    /// from the visitor's message) is never public.
    #[serde(default)]
    pub edited: bool,
    /// Times visitors viewed it.
    #[serde(default)]
    pub views: u32,
    /// "Did this help?" yes votes.
    #[serde(default)]
    pub helped: u32,
    /// A story saved again for a later `publish_at` after its entry went public: its new
    /// topic, title and text, which replace the public ones only from `from` (until then
    /// visitors keep reading what was live).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<KbRevision>,
    /// Its title and text in the site's other languages: a story's entry takes its story's
    /// translations; an entry an operator wrote or edited has none (its words are theirs).
    #[serde(
        default,
        skip_serializing_if = "crate::translate::Translations::is_empty"
    )]
    pub translations: crate::translate::Translations<KbText>,
    /// The pictures of its story's slides, in slide order (story entries only; entries
    /// stored before this field existed have none until their story is saved again).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pictures: Vec<KbPicture>,
}

/// A picture of a story's slide as its entry's page shows it: an https URL or a path on
/// the Glimpse origin (the story's validation), with its alt text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KbPicture {
    pub url: String,
    pub alt: String,
    /// The alt text in the site's other languages (`{"es": "…"}`), from the story's
    /// translations.
    #[serde(
        default,
        skip_serializing_if = "crate::translate::Translations::is_empty"
    )]
    pub translations: crate::translate::Translations<String>,
}

impl KbPicture {
    /// The pictures of `story`'s slides — each image, and each video's poster (with the
    /// video's alt text; none: a decorative picture) — with their alt text in each language
    /// the story is translated into. A video without a poster has no picture.
    pub fn of_story(story: &crate::Story) -> Vec<KbPicture> {
        let localized: Vec<(&String, crate::Story)> = story
            .translations
            .keys()
            .map(|lang| (lang, story.localized(lang)))
            .collect();
        let image = |m: Option<&crate::Media>| match m {
            Some(crate::Media::Image { url, alt, .. }) => Some((url.clone(), alt.clone())),
            Some(crate::Media::Video {
                poster: Some(poster),
                alt,
                ..
            }) => Some((poster.clone(), alt.clone().unwrap_or_default())),
            _ => None,
        };
        story
            .slides
            .iter()
            .enumerate()
            .filter_map(|(i, slide)| {
                let (url, alt) = image(slide.media.as_ref())?;
                let translations = localized
                    .iter()
                    .filter_map(|(lang, l)| {
                        let (_, a) = image(l.slides.get(i)?.media.as_ref())?;
                        (a != alt).then(|| ((*lang).clone(), a))
                    })
                    .collect();
                Some(KbPicture {
                    url,
                    alt,
                    translations,
                })
            })
            .collect()
    }
}

/// An entry's title and text in another language.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KbText {
    pub title: String,
    pub body: String,
}

/// Content an entry takes from a later time (see [`KbEntry::next`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KbRevision {
    pub topic: String,
    pub title: String,
    pub body: String,
    /// Unix ms from which it is the entry's content.
    pub from: Millis,
    /// Its title and text in the site's other languages, from then on.
    #[serde(
        default,
        skip_serializing_if = "crate::translate::Translations::is_empty"
    )]
    pub translations: crate::translate::Translations<KbText>,
    /// Its story's pictures from then on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pictures: Vec<KbPicture>,
}

fn yes() -> bool {
    true
}

/// Where an entry stands, for operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KbStatus {
    /// Visitors can read and search it.
    Public,
    /// Public from `published_at` (its story is scheduled).
    Scheduled,
    /// An operator unpublished it.
    Unpublished,
    /// Made verbatim from a visitor's question by an older version: hidden until an operator
    /// edits and publishes it.
    NeedsReview,
}

impl KbEntry {
    /// Where the entry stands at `now_ms`.
    pub fn status(&self, now_ms: Millis) -> KbStatus {
        if !self.published {
            KbStatus::Unpublished
        } else if self.source == KbSource::Question && !self.edited {
            KbStatus::NeedsReview
        } else if self.published_at > now_ms {
            KbStatus::Scheduled
        } else {
            KbStatus::Public
        }
    }

    /// The entry as it reads at `now_ms`: a due [`KbEntry::next`] applied (a copy only then;
    /// searches read every entry, so the usual case borrows).
    pub fn as_of(&self, now_ms: Millis) -> std::borrow::Cow<'_, KbEntry> {
        match &self.next {
            Some(n) if n.from <= now_ms => std::borrow::Cow::Owned(KbEntry {
                topic: n.topic.clone(),
                title: n.title.clone(),
                body: n.body.clone(),
                translations: n.translations.clone(),
                pictures: n.pictures.clone(),
                next: None,
                ..self.clone()
            }),
            _ => std::borrow::Cow::Borrowed(self),
        }
    }

    /// The entry as a visitor reading `lang` sees it: its translation's title and text where
    /// it has one, else the source's (pictures' alt text likewise); no translations attached.
    pub fn localized(&self, lang: &str) -> KbEntry {
        let mut out = self.clone();
        out.translations.clear();
        for p in &mut out.pictures {
            if let Some(alt) = p.translations.pick(lang).filter(|a| !a.trim().is_empty()) {
                p.alt = alt;
            }
            p.translations.clear();
        }
        if let Some(t) = self.translations.pick(lang) {
            if !t.title.trim().is_empty() {
                out.title = t.title.clone();
            }
            if !t.body.trim().is_empty() {
                out.body = t.body.clone();
            }
        }
        out
    }

    /// Every title and text it has, in every language and revision: what the full-text
    /// index holds, so a search in any of the site's languages finds it.
    pub fn indexed_text(&self) -> (String, String) {
        let mut texts = vec![(self.title.clone(), self.body.clone())];
        let translated = |t: &crate::translate::Translations<KbText>| {
            t.entries()
                .into_iter()
                .filter_map(|(_, t)| t.ok().map(|t| (t.title, t.body)))
                .collect::<Vec<_>>()
        };
        texts.extend(translated(&self.translations));
        if let Some(n) = &self.next {
            texts.push((n.title.clone(), n.body.clone()));
            texts.extend(translated(&n.translations));
        }
        let (titles, bodies): (Vec<String>, Vec<String>) = texts.into_iter().unzip();
        (titles.join("\n"), bodies.join("\n"))
    }

    /// Whether visitors may read it at `now_ms`.
    pub fn is_public(&self, now_ms: Millis) -> bool {
        self.status(now_ms) == KbStatus::Public
    }

    /// What visitors see of it: no source ids, no visitor.
    pub fn article(&self) -> KbArticle {
        KbArticle {
            id: self.id.clone(),
            topic: self.topic.clone(),
            title: self.title.clone(),
            body: self.body.clone(),
            published_at: self.published_at,
            views: self.views,
            helped: self.helped,
        }
    }
}

/// An entry with where it stands, as the admin API answers it
/// (`GET /v1/admin/sites/{site}/kb`, `…/kb/{stories|questions}/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KbListed {
    #[serde(flatten)]
    pub entry: KbEntry,
    pub status: KbStatus,
}

impl KbListed {
    pub fn at(entry: KbEntry, now_ms: Millis) -> Self {
        Self {
            status: entry.status(now_ms),
            entry,
        }
    }
}

/// A public knowledge-base article (`GET /v1/sites/{site}/kb`, `/kb/{site}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KbArticle {
    pub id: String,
    pub topic: String,
    pub title: String,
    pub body: String,
    /// Unix ms it became public.
    pub published_at: Millis,
    pub views: u32,
    pub helped: u32,
}

/// A search hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KbHit {
    pub entry: KbArticle,
    pub score: f64,
}

/// What an operator writes: `PUT /v1/admin/sites/{site}/kb/{stories|questions}/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KbDraft {
    /// A topic slug of the site.
    pub topic: String,
    /// 1–120 characters.
    pub title: String,
    /// The answer as plain text, 1–5,000 characters.
    pub body: String,
    /// `false` unpublishes (the entry is kept, hidden from visitors). Default `true`.
    #[serde(default = "yes")]
    pub published: bool,
    /// The title and text in the site's other languages (`{"es": {"title", "body"}}`),
    /// public like the source's; a language left out reads the source's words.
    #[serde(
        default,
        skip_serializing_if = "crate::translate::Translations::is_empty"
    )]
    pub translations: crate::translate::Translations<KbText>,
}

impl KbDraft {
    pub const TITLE_MAX: usize = 120;
    pub const BODY_MAX: usize = 5_000;

    /// Field problems; a draft that mentions a payment card, IBAN or password is refused, as
    /// it would be public.
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Problems::default();
        p.slug("topic", &self.topic);
        p.text("title", &self.title, Self::TITLE_MAX);
        p.text("body", &self.body, Self::BODY_MAX);
        let mut translated = Vec::new();
        crate::translate::check_map(&mut p, &self.translations, |p, at, t: &KbText| {
            p.optional_text(format!("{at}.title"), &t.title, Self::TITLE_MAX);
            p.optional_text(format!("{at}.body"), &t.body, Self::BODY_MAX);
            translated.push((format!("{at}.title"), t.title.clone()));
            translated.push((format!("{at}.body"), t.body.clone()));
        });
        let mut out = p.into_vec();
        let source = [
            ("title".to_string(), self.title.clone()),
            ("body".to_string(), self.body.clone()),
        ];
        for (field, text) in source.iter().chain(&translated) {
            if let Some(kind) = crate::guard::scan(text).first()
                && !out.iter().any(|x| x.field == *field)
            {
                out.push(Problem::new(
                    field.clone(),
                    format!(
                        "seems to contain {}: the knowledge base is public",
                        kind.describe()
                    ),
                ));
            }
        }
        out
    }
}

/// The entry a saved story becomes, given its current entry (if any) at `now_ms`:
/// - new: title and slide texts, public from the story's `publish_at`;
/// - an operator's edits (title, body, topic) and unpublishing are kept;
/// - once public it stays dated when it went public; until then it follows `publish_at`.
pub fn story_entry(story: &crate::Story, existing: Option<&KbEntry>, now_ms: Millis) -> KbEntry {
    let generated = KbEntry {
        id: KbSource::Story.entry_id(&story.id),
        source: KbSource::Story,
        source_id: story.id.clone(),
        visitor: None,
        topic: story.topic.clone(),
        title: story.title.clone(),
        body: story
            .slides
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        published_at: story.publish_at,
        updated_at: 0,
        published: true,
        edited: false,
        views: 0,
        helped: 0,
        next: None,
        translations: story
            .translations
            .keys()
            .map(|lang| {
                let l = story.localized(lang);
                let body = l.slides.iter().map(|s| s.text.as_str()).collect::<Vec<_>>();
                (
                    lang.clone(),
                    KbText {
                        title: l.title.clone(),
                        body: body.join("\n"),
                    },
                )
            })
            .collect(),
        pictures: KbPicture::of_story(story),
    };
    let Some(old) = existing else {
        return generated;
    };
    let old = old.as_of(now_ms).into_owned();
    let was_public = old.published_at <= now_ms;
    let rescheduled = was_public && story.publish_at > now_ms;
    if old.edited {
        // The operator's words stay; only the date follows the story until it went public,
        // and its pictures follow it (a live entry keeps the ones it shows while its story
        // waits for a later publish_at: they may show what is not public yet).
        return KbEntry {
            published_at: if was_public {
                old.published_at
            } else {
                story.publish_at
            },
            updated_at: now_ms,
            pictures: if rescheduled {
                old.pictures.clone()
            } else {
                generated.pictures
            },
            ..old
        };
    }
    if rescheduled {
        // Live before, rescheduled now: visitors keep what was live until the new version is.
        return KbEntry {
            updated_at: now_ms,
            next: Some(KbRevision {
                topic: generated.topic,
                title: generated.title,
                body: generated.body,
                from: story.publish_at,
                translations: generated.translations,
                pictures: generated.pictures,
            }),
            ..old
        };
    }
    KbEntry {
        published_at: if was_public {
            old.published_at
        } else {
            story.publish_at
        },
        updated_at: now_ms,
        published: old.published,
        views: old.views,
        helped: old.helped,
        ..generated
    }
}

/// The entry an operator publishes (or edits) from question `question_id` asked by `visitor`:
/// only the operator's own title and answer, never the visitor's message.
pub fn answer_entry(
    question_id: &str,
    visitor: Option<&str>,
    draft: &KbDraft,
    existing: Option<&KbEntry>,
    now_ms: Millis,
) -> KbEntry {
    KbEntry {
        id: KbSource::Question.entry_id(question_id),
        source: KbSource::Question,
        source_id: question_id.to_string(),
        visitor: visitor.map(str::to_string),
        topic: draft.topic.clone(),
        title: draft.title.trim().to_string(),
        body: draft.body.trim().to_string(),
        // Republishing a legacy or unpublished entry dates it now; editing a public one keeps
        // its date.
        published_at: match existing {
            Some(e) if e.is_public(now_ms) => e.published_at,
            _ => now_ms,
        },
        updated_at: if existing.is_some() { now_ms } else { 0 },
        published: draft.published,
        edited: true,
        views: existing.map_or(0, |e| e.views),
        helped: existing.map_or(0, |e| e.helped),
        next: None,
        translations: draft.translations.clone(),
        pictures: Vec::new(),
    }
}

/// An operator's edit of any entry (stories too): title, body, topic and published state.
pub fn edit_entry(existing: &KbEntry, draft: &KbDraft, now_ms: Millis) -> KbEntry {
    let republished = draft.published && !existing.published;
    KbEntry {
        topic: draft.topic.clone(),
        title: draft.title.trim().to_string(),
        body: draft.body.trim().to_string(),
        published_at: if republished && existing.published_at <= now_ms {
            now_ms
        } else {
            existing.published_at
        },
        updated_at: now_ms,
        published: draft.published,
        edited: true,
        next: None,
        // The operator's words replace the story's, and their translations the story's.
        translations: draft.translations.clone(),
        ..existing.clone()
    }
}

/// A prefilled answer for publishing question entries: the team's replies, oldest first, one
/// paragraph each — never the visitor's message.
pub fn prefill_answer(replies: &[crate::question::Reply]) -> String {
    replies
        .iter()
        .map(|r| r.text.trim())
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
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
    words_with(text, &crate::text::StdText)
}

/// [`words`] with lower case and word boundaries from `text_ops` (the edge passes the
/// runtime's).
pub fn words_with(text: &str, text_ops: &impl crate::text::UnicodeText) -> Vec<String> {
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
    text_ops
        .words(text)
        .into_iter()
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

/// Ranks the entries public at `now_ms` ([`KbEntry::is_public`]) for `query` (and optionally
/// only `topic`), as visitors' [`KbArticle`]s. Every query word must match
/// the title or body; title matches weigh three times body matches; popularity (views,
/// helped votes) adds a gentle logarithmic boost. An empty query lists the topic's entries,
/// most popular and newest first.
pub fn search(
    entries: &[KbEntry],
    query: &str,
    topic: Option<&str>,
    limit: usize,
    now_ms: Millis,
) -> Vec<KbHit> {
    search_with(entries, query, topic, limit, now_ms, &crate::text::StdText)
}

/// [`search`] with words from `text_ops` (the edge passes the runtime's).
pub fn search_with(
    entries: &[KbEntry],
    query: &str,
    topic: Option<&str>,
    limit: usize,
    now_ms: Millis,
    text_ops: &impl crate::text::UnicodeText,
) -> Vec<KbHit> {
    let words = |text: &str| words_with(text, text_ops);
    let terms = words(query);
    let mut hits: Vec<KbHit> = entries
        .iter()
        .map(|e| e.as_of(now_ms))
        .filter(|e| e.is_public(now_ms))
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
                entry: e.article(),
            })
        })
        .collect();
    // A total order (ids are unique): stability buys nothing, and the unstable sort is less
    // code at the edge.
    hits.sort_unstable_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| b.entry.published_at.cmp(&a.entry.published_at))
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
            translations: Default::default(),
            id: id.into(),
            source: if id.starts_with("question-") {
                KbSource::Question
            } else {
                KbSource::Story
            },
            source_id: id.into(),
            visitor: None,
            topic: topic.into(),
            title: title.into(),
            body: body.into(),
            published_at: 0,
            updated_at: 0,
            published: true,
            edited: id.starts_with("question-"),
            views,
            helped,
            next: None,
            pictures: Vec::new(),
        }
    }

    const NOW: Millis = 1_000;

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
    fn a_storys_entry_carries_its_translations_and_edits_drop_them() {
        let mut story = crate::story::tests::story("reset", 0, 10_000);
        story.title = "Reset your password".into();
        story.translations.insert(
            "es",
            &crate::translate::StoryText {
                title: "Restablece tu contraseña".into(),
                slides: vec![crate::translate::SlideText {
                    text: "Abre Ajustes".into(),
                    ..Default::default()
                }],
                source: None,
            },
        );
        let e = story_entry(&story, None, 0);
        let es = e.localized("es-ES");
        assert_eq!(es.title, "Restablece tu contraseña");
        assert!(es.body.starts_with("Abre Ajustes"), "{}", es.body);
        assert!(es.translations.is_empty());
        assert_eq!(e.localized("nb").title, "Reset your password");
        let (titles, bodies) = e.indexed_text();
        assert!(
            titles.contains("Restablece") && titles.contains("Reset"),
            "{titles}"
        );
        assert!(bodies.contains("Abre Ajustes"), "{bodies}");
        // Rescheduled after going live: the new words and their translations wait.
        let mut later = story.clone();
        later.publish_at = 5_000;
        later
            .translations
            .update("es", |t| t.title = "Nueva contraseña".into());
        let e2 = story_entry(&later, Some(&e), 1_000);
        assert_eq!(e2.localized("es").title, "Restablece tu contraseña");
        assert_eq!(e2.as_of(5_000).localized("es").title, "Nueva contraseña");
        assert!(e2.indexed_text().0.contains("Nueva contraseña"));
        let draft = KbDraft {
            translations: Default::default(),
            topic: "account".into(),
            title: "Password help".into(),
            body: "Ask us.".into(),
            published: true,
        };
        let edited = edit_entry(&e, &draft, 2_000);
        assert!(edited.translations.is_empty());
        assert_eq!(edited.localized("es").title, "Password help");
    }

    #[test]
    fn a_storys_entry_carries_its_pictures_with_their_alt_text_in_each_language() {
        let story = |publish_at: Millis, first: &str| -> crate::Story {
            serde_json::from_value(serde_json::json!({
                "id": "reset", "title": "Reset your password", "topic": "account",
                "slides": [
                    {"text": "Open Settings", "media": {"kind": "image", "url": first, "alt": "The settings screen"}},
                    {"text": "Watch", "media": {"kind": "video", "url": "/media/demo/tap.webm", "alt": "A tap"}},
                    {"text": "Watch again", "media": {"kind": "video", "url": "/media/demo/tap.webm", "alt": "A second tap", "poster": "/media/demo/tap.webp"}},
                    {"text": "Tap Reset", "media": {"kind": "image", "url": "/media/demo/2.webp", "alt": "The reset button"}},
                    {"text": "Done"}
                ],
                "publish_at": publish_at, "expires_at": publish_at + 86_400_000,
                "translations": {"es": {"title": "Restablecer", "slides": [
                    {"alt": "La pantalla de ajustes"}, {"alt": "Un toque"}, {"alt": "Otro toque"}, {}
                ]}}
            }))
            .expect("a valid story")
        };
        let e = story_entry(&story(0, "https://cdn.example/1.webp"), None, NOW);
        let alts = |e: &KbEntry| e.pictures.iter().map(|p| p.alt.clone()).collect::<Vec<_>>();
        assert_eq!(
            e.pictures
                .iter()
                .map(|p| p.url.as_str())
                .collect::<Vec<_>>(),
            [
                "https://cdn.example/1.webp",
                "/media/demo/tap.webp",
                "/media/demo/2.webp"
            ]
        );
        // Images, and a video's poster with the video's alt text; a video without one has none.
        assert_eq!(
            alts(&e),
            ["The settings screen", "A second tap", "The reset button"]
        );
        // Spanish reads its alt text where it has one, the source's elsewhere.
        let es = e.localized("es-ES");
        assert_eq!(
            alts(&es),
            ["La pantalla de ajustes", "Otro toque", "The reset button"]
        );
        assert!(es.pictures.iter().all(|p| p.translations.is_empty()));
        // Stored before pictures existed: none, and it still reads.
        let old: KbEntry = serde_json::from_value(serde_json::json!({
            "id": "story-a", "source": "story", "topic": "orders", "title": "Track",
            "body": "Open orders", "published_at": 5
        }))
        .expect("an entry without pictures");
        assert!(old.pictures.is_empty());
        assert!(
            !serde_json::to_string(&old)
                .expect("json")
                .contains("pictures")
        );
        // An operator's words keep the story's pictures, and later saves bring its new ones.
        let edited = edit_entry(&e, &draft("Password help", "Ask us."), NOW + 1);
        assert_eq!(edited.pictures, e.pictures);
        let saved = story_entry(
            &story(0, "https://cdn.example/new.webp"),
            Some(&edited),
            NOW + 2,
        );
        assert_eq!(saved.pictures[0].url, "https://cdn.example/new.webp");
        assert_eq!(saved.title, "Password help");
        // Rescheduled after going live: the new pictures wait for the new publish_at.
        let later = story_entry(
            &story(NOW + 500, "https://cdn.example/secret.webp"),
            Some(&e),
            NOW + 3,
        );
        assert_eq!(later.pictures, e.pictures);
        assert_eq!(
            later.as_of(NOW + 500).pictures[0].url,
            "https://cdn.example/secret.webp"
        );
        let later = story_entry(
            &story(NOW + 500, "https://cdn.example/secret.webp"),
            Some(&saved),
            NOW + 3,
        );
        assert_eq!(later.pictures[0].url, "https://cdn.example/new.webp");
        // Answers to questions have none.
        let answer = answer_entry("q1", None, &draft("a", "b"), None, NOW);
        assert!(answer.pictures.is_empty());
    }

    #[test]
    fn title_matches_outrank_body_matches() {
        let hits = search(&corpus(), "password", None, 10, NOW);
        assert_eq!(ids(&hits), ["story-reset"]);
        let hits = search(&corpus(), "order", None, 10, NOW);
        assert_eq!(ids(&hits), ["story-track", "question-late"]);
    }

    #[test]
    fn every_word_must_match() {
        assert_eq!(
            ids(&search(&corpus(), "order late", None, 10, NOW)),
            ["question-late"]
        );
        assert!(search(&corpus(), "order unicorn", None, 10, NOW).is_empty());
    }

    #[test]
    fn prefixes_stems_and_accents() {
        assert_eq!(
            ids(&search(&corpus(), "pass", None, 10, NOW)),
            ["story-reset"]
        );
        assert_eq!(
            ids(&search(&corpus(), "orders", None, 10, NOW)),
            ["story-track", "question-late"]
        );
        assert_eq!(
            ids(&search(&corpus(), "contrasena", None, 10, NOW)),
            ["story-es"]
        );
        assert_eq!(
            ids(&search(&corpus(), "CONTRASEÑA", None, 10, NOW)),
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
        let hits = search(&c, "where", None, 10, NOW);
        assert_eq!(ids(&hits), ["story-track", "story-track-2"]);
        let hits = search(&c, "", Some("account"), 10, NOW);
        assert_eq!(ids(&hits), ["story-reset", "story-es"]);
        assert_eq!(search(&c, "", None, 2, NOW).len(), 2);
        assert!(search(&c, "refund", Some("orders"), 10, NOW).is_empty());
    }
    fn story(publish_at: Millis) -> crate::Story {
        serde_json::from_value(serde_json::json!({
            "id": "reset", "title": "Reset your password", "topic": "account",
            "slides": [{"text": "Open Settings", "duration_ms": 5000},
                       {"text": "Tap Reset password", "duration_ms": 5000}],
            "publish_at": publish_at, "expires_at": publish_at + 86_400_000
        }))
        .expect("a valid story")
    }

    fn draft(title: &str, body: &str) -> KbDraft {
        KbDraft {
            translations: Default::default(),
            topic: "orders".into(),
            title: title.into(),
            body: body.into(),
            published: true,
        }
    }

    #[test]
    fn a_scheduled_story_is_secret_until_it_goes_live() {
        let week = 7 * 86_400_000;
        let e = story_entry(&story(NOW + week), None, NOW);
        assert_eq!(e.id, "story-reset");
        assert_eq!(e.body, "Open Settings\nTap Reset password");
        assert_eq!(e.status(NOW), KbStatus::Scheduled);
        assert!(search(std::slice::from_ref(&e), "password", None, 10, NOW).is_empty());
        assert!(search(std::slice::from_ref(&e), "", None, 10, NOW).is_empty());
        // Once live it is found, and stays found after the story expires.
        let later = NOW + week + 2 * 86_400_000;
        assert_eq!(
            ids(&search(&[e], "password", None, 10, later)),
            ["story-reset"]
        );
    }

    #[test]
    fn saving_a_story_again_keeps_operator_edits_and_unpublishing() {
        let first = story_entry(&story(NOW - 10), None, NOW);
        assert!(first.is_public(NOW));
        let edited = edit_entry(
            &first,
            &KbDraft {
                translations: Default::default(),
                topic: "account".into(),
                title: "Forgot your password?".into(),
                body: "Use the reset link.".into(),
                published: true,
            },
            NOW + 1,
        );
        let resaved = story_entry(&story(NOW + 50), Some(&edited), NOW + 2);
        assert_eq!(resaved.title, "Forgot your password?");
        assert_eq!(resaved.body, "Use the reset link.");
        // It was public: rescheduling the story does not hide it again.
        assert_eq!(resaved.published_at, NOW - 10);
        let hidden = edit_entry(
            &resaved,
            &KbDraft {
                published: false,
                ..draft("x", "y")
            },
            NOW + 3,
        );
        assert_eq!(hidden.status(NOW + 3), KbStatus::Unpublished);
        let resaved = story_entry(&story(NOW - 10), Some(&hidden), NOW + 4);
        assert!(
            !resaved.published,
            "a save does not publish an unpublished entry"
        );
        // Never public before: a new publish_at moves it.
        let scheduled = story_entry(&story(NOW + 100), None, NOW);
        assert_eq!(
            story_entry(&story(NOW + 500), Some(&scheduled), NOW).published_at,
            NOW + 500
        );
    }

    #[test]
    fn an_answer_holds_only_what_the_operator_wrote() {
        let d = draft("Late deliveries", "We chase the courier within a day.");
        let e = answer_entry("q1", Some("visitor-0123456789ab"), &d, None, NOW);
        assert_eq!(e.id, "question-q1");
        assert_eq!(e.visitor.as_deref(), Some("visitor-0123456789ab"));
        assert!(e.is_public(NOW));
        let public = serde_json::to_value(e.article()).expect("json");
        assert!(public.get("visitor").is_none() && public.get("source_id").is_none());
        // Editing keeps its date and counts; unpublishing hides it.
        let again = answer_entry(
            "q1",
            Some("visitor-0123456789ab"),
            &draft("Late", "Soon."),
            Some(&e),
            NOW + 5,
        );
        assert_eq!((again.published_at, again.updated_at), (NOW, NOW + 5));
        let off = answer_entry(
            "q1",
            Some("visitor-0123456789ab"),
            &KbDraft {
                published: false,
                ..d
            },
            Some(&again),
            NOW + 6,
        );
        assert!(!off.is_public(NOW + 6));
    }

    #[test]
    fn question_entries_from_older_versions_are_not_public() {
        // 0.13 stored the visitor's words verbatim when a question was resolved.
        let legacy: KbEntry = serde_json::from_value(serde_json::json!({
            "id": "question-q9", "source": "question", "topic": "orders",
            "title": "My name is Jane Roe, order 4711 never arrived",
            "body": "My name is Jane Roe, 12 Main Street, order 4711 never arrived\nSorry!",
            "created_at": 5, "views": 0, "helped": 0
        }))
        .expect("a 0.13 entry");
        assert_eq!(legacy.published_at, 5);
        assert_eq!(legacy.status(NOW), KbStatus::NeedsReview);
        assert!(search(&[legacy], "jane", None, 10, NOW).is_empty());
        // 0.13 story entries stay public.
        let story: KbEntry = serde_json::from_value(serde_json::json!({
            "id": "story-a", "source": "story", "topic": "orders", "title": "Track",
            "body": "Open orders", "created_at": 5
        }))
        .expect("a 0.13 story entry");
        assert!(story.is_public(NOW));
    }

    #[test]
    fn drafts_are_validated_and_prefilled_from_replies_only() {
        assert!(
            draft("Late deliveries", "We chase the courier.")
                .validate()
                .is_empty()
        );
        let fields = |d: KbDraft| {
            d.validate()
                .into_iter()
                .map(|p| p.field)
                .collect::<Vec<_>>()
        };
        assert_eq!(fields(draft("", "x")), ["title"]);
        assert_eq!(fields(draft(&"t".repeat(121), "x")), ["title"]);
        assert_eq!(
            fields(draft("Card", "Use 4111 1111 1111 1111 to pay")),
            ["body"]
        );
        assert_eq!(
            fields(KbDraft {
                topic: "Not A Slug".into(),
                ..draft("a", "b")
            }),
            ["topic"]
        );
        let reply = |t: &str| crate::question::Reply {
            text: t.into(),
            ..Default::default()
        };
        assert_eq!(
            prefill_answer(&[
                reply("We chased it. "),
                reply("  "),
                reply("It arrives Monday.")
            ]),
            "We chased it.\n\nIt arrives Monday."
        );
    }
    #[test]
    fn a_live_story_saved_again_for_later_keeps_its_live_words_until_then() {
        let live = story_entry(&story(NOW - 10), None, NOW);
        let mut secret = story(NOW + 500);
        secret.title = "Prices rise 40 percent".into();
        let saved = story_entry(&secret, Some(&live), NOW);
        // Until the new publish_at visitors read what was live; the new words are nowhere.
        assert!(search(std::slice::from_ref(&saved), "prices", None, 10, NOW).is_empty());
        assert_eq!(
            ids(&search(
                std::slice::from_ref(&saved),
                "reset",
                None,
                10,
                NOW + 499
            )),
            ["story-reset"]
        );
        assert_eq!(saved.status(NOW), KbStatus::Public);
        // From then on, the new version.
        let hits = search(std::slice::from_ref(&saved), "prices", None, 10, NOW + 500);
        assert_eq!(hits[0].entry.title, "Prices rise 40 percent");
        // Saved again once it is live, the revision becomes the content.
        let later = story_entry(&secret, Some(&saved), NOW + 600);
        assert_eq!(
            (later.title.as_str(), later.next.is_none()),
            ("Prices rise 40 percent", true)
        );
    }
}
