//! Content in several languages. A site has one source language (`Site::language`) and may
//! offer others (`Site::languages`); each story, poll, live session and topic may carry a
//! translation per offered language. Visitors read their language's words where a
//! translation has them and the source's everywhere else ([`Story::localized`] and the
//! others), so a half-finished translation never hides a step. Each translation may record
//! the fingerprint of the source it was made from (`source`): when the source's words change,
//! the lint says the translation is older than its source ([`lint`]).
//!
//! JSON of a story's translations: `{"es": {"title": "…", "slides": [{"text": "…", "alt":
//! "…", "cta_label": "…"}], "source": "1a2b3c4d"}}`.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::validate::{Problem, Problems};
use crate::{LiveSession, Media, Poll, PollKind, Site, Story, Topic};

/// Translations by language tag (`es`, `nb`, `pt-BR`) of some `T`, kept as the JSON object
/// they are written as and read into `T` only where a language is used
/// ([`Translations::pick`]). The edge passes them from the snapshot to the feed untouched,
/// so its upload carries no code to read them (a typed map cost the visitors' worker
/// ≈ 50 KB of wasm). JSON: `{"es": {…}, "nb": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translations<T> {
    map: serde_json::Map<String, serde_json::Value>,
    of: PhantomData<fn() -> T>,
}

impl<T> Default for Translations<T> {
    fn default() -> Self {
        Self {
            map: serde_json::Map::new(),
            of: PhantomData,
        }
    }
}

impl<T> Serialize for Translations<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.map.serialize(s)
    }
}

impl<'de, T> Deserialize<'de> for Translations<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self {
            map: serde_json::Map::deserialize(d)?,
            of: PhantomData,
        })
    }
}

impl<T> Translations<T> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn clear(&mut self) {
        self.map.clear();
    }

    /// The languages, in tag order.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.map.keys()
    }

    /// The language of `map` a visitor reading `lang` gets: the exact tag, else one with
    /// the same primary subtag (`es-MX` reads `es`; `no` and `nn` read `nb`).
    fn key_for(&self, lang: &str) -> Option<&String> {
        if let Some((k, _)) = self.map.get_key_value(lang) {
            return Some(k);
        }
        let want = primary(lang);
        self.map.keys().find(|k| primary(k) == want)
    }
}

impl<T: DeserializeOwned> Translations<T> {
    /// The translation into exactly `lang`, if there is one (and it reads as a `T`).
    pub fn get(&self, lang: &str) -> Option<T> {
        T::deserialize(self.map.get(lang)?).ok()
    }

    /// The translation a visitor reading `lang` gets ([`Translations::key_for`]).
    pub fn pick(&self, lang: &str) -> Option<T> {
        T::deserialize(self.map.get(self.key_for(lang)?)?).ok()
    }

    /// Every translation read as a `T`, or why it does not read as one.
    pub fn entries(&self) -> Vec<(&String, Result<T, String>)> {
        self.map
            .iter()
            .map(|(k, v)| (k, T::deserialize(v).map_err(|e| e.to_string())))
            .collect()
    }
}

impl<T: Serialize> Translations<T> {
    /// Sets the translation into `lang`.
    pub fn insert(&mut self, lang: impl Into<String>, t: &T) {
        if let Ok(v) = serde_json::to_value(t) {
            self.map.insert(lang.into(), v);
        }
    }
}

impl<T: Serialize + DeserializeOwned + Default> Translations<T> {
    /// Changes the translation into `lang` (a new, empty one if there is none).
    pub fn update(&mut self, lang: &str, f: impl FnOnce(&mut T)) {
        let mut t = self.get(lang).unwrap_or_default();
        f(&mut t);
        self.insert(lang, &t);
    }
}

impl<T: Serialize> FromIterator<(String, T)> for Translations<T> {
    fn from_iter<I: IntoIterator<Item = (String, T)>>(items: I) -> Self {
        let mut out = Self::default();
        for (k, t) in items {
            out.insert(k, &t);
        }
        out
    }
}

/// A story's words in another language; an empty field shows the source's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoryText {
    #[serde(default)]
    pub title: String,
    /// Per slide, in the story's order; slides past the end show the source's words.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slides: Vec<SlideText>,
    /// The source's [`Story::fingerprint`] when this was translated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A slide's words in another language.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlideText {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// The picture's or video's alt text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub alt: String,
    /// The call to action's label (its link stays the source's).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cta_label: String,
}

/// A poll's words in another language.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollText {
    #[serde(default)]
    pub question: String,
    /// A choice poll's options, in the source's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// The source's [`Poll::fingerprint`] when this was translated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A live session's words in another language.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionText {
    #[serde(default)]
    pub title: String,
    /// The source's [`LiveSession::fingerprint`] when this was translated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A tag's primary language subtag, lower-cased; Norwegian (`no`, `nn`) reads Bokmål (`nb`),
/// the written standard most Norwegians read.
fn primary(tag: &str) -> String {
    let p = tag
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if p == "no" || p == "nn" {
        "nb".to_string()
    } else {
        p
    }
}

/// The language content is shown in to a visitor who prefers `preferred` (a `data-lang`,
/// then the browser's languages, best first), on a site written in `source` that also
/// offers `offered`: the first preference the site has (exact tag, or the same primary
/// subtag), else `source`.
pub fn content_language<'a>(
    preferred: impl IntoIterator<Item = &'a str>,
    source: &str,
    offered: &[String],
) -> String {
    let all: Vec<&str> = std::iter::once(source)
        .chain(offered.iter().map(String::as_str))
        .collect();
    for want in preferred {
        let exact = all.iter().find(|l| l.eq_ignore_ascii_case(want));
        let same = || all.iter().find(|l| primary(l) == primary(want));
        if let Some(found) = exact.or_else(same) {
            return (*found).to_string();
        }
    }
    source.to_string()
}

/// A short fingerprint of some words (8 hex digits of FNV-1a): what a translation records
/// as its `source`.
pub fn fingerprint<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut bytes = Vec::new();
    for p in parts {
        bytes.extend_from_slice(p.as_bytes());
        bytes.push(0x1f);
    }
    format!("{:08x}", crate::hash::fnv1a64(&bytes) as u32)
}

fn or<'a>(translated: &'a str, source: &'a str) -> &'a str {
    if translated.trim().is_empty() {
        source
    } else {
        translated
    }
}

impl Story {
    /// The words a translation covers: title, then each slide's text, alt text and CTA label.
    pub fn fingerprint(&self) -> String {
        let mut parts = vec![self.title.as_str()];
        for s in &self.slides {
            parts.push(&s.text);
            parts.push(match &s.media {
                Some(Media::Image { alt, .. }) => alt,
                Some(Media::Video { alt, .. }) => alt.as_deref().unwrap_or(""),
                None => "",
            });
            parts.push(s.cta.as_ref().map_or("", |c| c.label.as_str()));
        }
        fingerprint(parts)
    }

    /// The story as a visitor reading `lang` sees it: translated words where the translation
    /// has them, the source's elsewhere; no translations attached.
    pub fn localized(&self, lang: &str) -> Story {
        let mut out = self.clone();
        out.translations.clear();
        let Some(t) = self.translations.pick(lang) else {
            return out;
        };
        out.title = or(&t.title, &self.title).to_string();
        for (slide, text) in out.slides.iter_mut().zip(&t.slides) {
            slide.text = or(&text.text, &slide.text).to_string();
            match &mut slide.media {
                Some(Media::Image { alt, .. }) => *alt = or(&text.alt, alt).to_string(),
                Some(Media::Video { alt: Some(alt), .. }) => {
                    *alt = or(&text.alt, alt).to_string();
                }
                _ => {}
            }
            if let Some(cta) = &mut slide.cta {
                cta.label = or(&text.cta_label, &cta.label).to_string();
            }
        }
        out
    }
}

impl Poll {
    /// The words a translation covers: the question and a choice poll's options.
    pub fn fingerprint(&self) -> String {
        let mut parts = vec![self.question.as_str()];
        if let PollKind::Choice { options } = &self.kind {
            parts.extend(options.iter().map(String::as_str));
        }
        fingerprint(parts)
    }

    /// The poll as a visitor reading `lang` sees it (see [`Story::localized`]).
    pub fn localized(&self, lang: &str) -> Poll {
        let mut out = self.clone();
        out.translations.clear();
        let Some(t) = self.translations.pick(lang) else {
            return out;
        };
        out.question = or(&t.question, &self.question).to_string();
        if let PollKind::Choice { options } = &mut out.kind {
            for (o, text) in options.iter_mut().zip(&t.options) {
                *o = or(text, o).to_string();
            }
        }
        out
    }
}

impl LiveSession {
    /// The words a translation covers: the title.
    pub fn fingerprint(&self) -> String {
        fingerprint([self.title.as_str()])
    }

    /// The session as a visitor reading `lang` sees it (see [`Story::localized`]).
    pub fn localized(&self, lang: &str) -> LiveSession {
        let mut out = self.clone();
        out.translations.clear();
        if let Some(t) = self.translations.pick(lang) {
            out.title = or(&t.title, &self.title).to_string();
        }
        out
    }
}

impl Topic {
    /// The topic's label for a visitor reading `lang`.
    pub fn label_in(&self, lang: &str) -> String {
        self.translations.pick(lang).map_or_else(
            || self.label.clone(),
            |l: String| or(&l, &self.label).to_string(),
        )
    }
}

impl crate::Feed {
    /// The feed as a visitor reading `lang` sees it: every story, poll and session and the
    /// topics' labels in `lang` where translated, the source's words elsewhere; no
    /// translations attached.
    pub fn localized(&self, lang: &str) -> crate::Feed {
        let mut out = self.clone();
        out.stories = self.stories.iter().map(|s| s.localized(lang)).collect();
        out.polls = self.polls.iter().map(|p| p.localized(lang)).collect();
        out.sessions = self.sessions.iter().map(|s| s.localized(lang)).collect();
        for t in &mut out.site.topics {
            t.label = t.label_in(lang);
            t.translations.clear();
        }
        out
    }
}

/// Checks a translations map: keys are language tags, at most [`LANGUAGES_MAX`] of them,
/// each translation reads as a `T`; `check` checks each one's fields under
/// `translations.{lang}`.
pub(crate) fn check_map<T: DeserializeOwned>(
    p: &mut Problems,
    map: &Translations<T>,
    mut check: impl FnMut(&mut Problems, &str, &T),
) {
    if map.len() > LANGUAGES_MAX {
        p.push("translations", format!("at most {LANGUAGES_MAX} languages"));
    }
    for (lang, t) in map.entries() {
        if !crate::site::is_language_tag(lang) {
            p.push(
                format!("translations.{lang}"),
                "must be a BCP 47 language tag like es or pt-BR",
            );
            continue;
        }
        match t {
            Ok(t) => check(p, &format!("translations.{lang}"), &t),
            Err(e) => p.push(format!("translations.{lang}"), e),
        }
    }
}

/// Most languages a site offers besides its own, and most translations an item carries.
pub const LANGUAGES_MAX: usize = 20;

/// Translation advice for an item on `site`: every language the site offers without a
/// translation (visitors reading it get the source's words), every translation made from
/// an older version of the source, and every field left untranslated.
pub fn lint<T: DeserializeOwned>(
    site: &Site,
    translations: &Translations<T>,
    current: &str,
    source_of: impl Fn(&T) -> Option<&String>,
    untranslated: impl Fn(&T) -> Vec<String>,
) -> Vec<Problem> {
    let mut out = Vec::new();
    for lang in &site.languages {
        let field = format!("translations.{lang}");
        match translations.get(lang) {
            None => out.push(Problem::new(
                field,
                format!(
                    "no {lang} translation: visitors reading {lang} see the {} text",
                    site.language
                ),
            )),
            Some(t) => {
                if source_of(&t).is_some_and(|s| s != current) {
                    out.push(Problem::new(
                        field.clone(),
                        "older than its source: the words changed since it was translated",
                    ));
                }
                for f in untranslated(&t) {
                    out.push(Problem::new(
                        format!("{field}.{f}"),
                        format!(
                            "not translated: {lang} visitors see the {} words",
                            site.language
                        ),
                    ));
                }
            }
        }
    }
    out
}

impl Story {
    /// [`lint`] for this story on `site`.
    pub fn lint_translations(&self, site: &Site) -> Vec<Problem> {
        lint(
            site,
            &self.translations,
            &self.fingerprint(),
            |t| t.source.as_ref(),
            |t| {
                let mut missing = Vec::new();
                if t.title.trim().is_empty() {
                    missing.push("title".to_string());
                }
                for (i, s) in self.slides.iter().enumerate() {
                    let text = t.slides.get(i);
                    if text.is_none_or(|x| x.text.trim().is_empty()) {
                        missing.push(format!("slides[{i}].text"));
                    }
                    let has_alt = matches!(&s.media, Some(Media::Image { .. }))
                        || matches!(&s.media, Some(Media::Video { alt: Some(_), .. }));
                    if has_alt && text.is_none_or(|x| x.alt.trim().is_empty()) {
                        missing.push(format!("slides[{i}].alt"));
                    }
                    if s.cta.is_some() && text.is_none_or(|x| x.cta_label.trim().is_empty()) {
                        missing.push(format!("slides[{i}].cta_label"));
                    }
                }
                missing
            },
        )
    }
}

impl Poll {
    /// [`lint`] for this poll on `site`.
    pub fn lint_translations(&self, site: &Site) -> Vec<Problem> {
        let options = match &self.kind {
            PollKind::Choice { options } => options.len(),
            _ => 0,
        };
        lint(
            site,
            &self.translations,
            &self.fingerprint(),
            |t| t.source.as_ref(),
            |t| {
                let mut missing = Vec::new();
                if t.question.trim().is_empty() {
                    missing.push("question".to_string());
                }
                for i in 0..options {
                    if t.options.get(i).is_none_or(|o| o.trim().is_empty()) {
                        missing.push(format!("options[{i}]"));
                    }
                }
                missing
            },
        )
    }
}

impl LiveSession {
    /// [`lint`] for this session on `site`.
    pub fn lint_translations(&self, site: &Site) -> Vec<Problem> {
        lint(
            site,
            &self.translations,
            &self.fingerprint(),
            |t| t.source.as_ref(),
            |t| {
                if t.title.trim().is_empty() {
                    vec!["title".to_string()]
                } else {
                    Vec::new()
                }
            },
        )
    }
}

/// Translations into languages `site` does not offer (a problem: nobody would read them),
/// for the item's `translations` keys.
pub fn unoffered<'a>(site: &Site, langs: impl IntoIterator<Item = &'a String>) -> Vec<Problem> {
    langs
        .into_iter()
        .filter(|l| !site.languages.contains(l))
        .map(|l| {
            Problem::new(
                format!("translations.{l}"),
                if site.languages.is_empty() {
                    format!("the site offers no other language than {}; add {l} to its languages", site.language)
                } else {
                    format!(
                        "the site does not offer {l} (it offers {}); add it to the site's languages",
                        site.languages.join(", ")
                    )
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Cta, Slide};

    fn story() -> Story {
        Story {
            id: "s".into(),
            title: "Reset your password".into(),
            topic: "account".into(),
            slides: vec![
                Slide {
                    text: "Tap Forgot password".into(),
                    media: Some(Media::Image {
                        url: "/m.webp".into(),
                        alt: "A sign-in screen".into(),
                    }),
                    duration_ms: 5_000,
                    cta: None,
                },
                Slide {
                    text: "Choose a new one".into(),
                    media: None,
                    duration_ms: 5_000,
                    cta: Some(Cta {
                        label: "Sign in".into(),
                        url: "https://x.example/signin".into(),
                    }),
                },
            ],
            publish_at: 0,
            expires_at: 10,
            targeting: Default::default(),
            translations: Translations::new(),
        }
    }

    fn site(languages: &[&str]) -> Site {
        Site {
            languages: languages.iter().map(|l| l.to_string()).collect(),
            ..crate::site::tests::site()
        }
    }

    #[test]
    fn visitors_read_their_language_with_the_source_where_it_is_missing() {
        let mut s = story();
        s.translations.insert(
            "es",
            &StoryText {
                title: "Restablece tu contraseña".into(),
                slides: vec![SlideText {
                    text: "Toca «¿Olvidaste la contraseña?»".into(),
                    alt: "Una pantalla de inicio de sesión".into(),
                    cta_label: String::new(),
                }],
                source: None,
            },
        );
        let es = s.localized("es-MX");
        assert_eq!(es.title, "Restablece tu contraseña");
        assert_eq!(es.slides[0].text, "Toca «¿Olvidaste la contraseña?»");
        assert_eq!(
            es.slides[0].media,
            Some(Media::Image {
                url: "/m.webp".into(),
                alt: "Una pantalla de inicio de sesión".into()
            })
        );
        assert_eq!(es.slides[1].text, "Choose a new one", "the source fills in");
        assert_eq!(
            es.slides[1].cta.as_ref().map(|c| c.label.as_str()),
            Some("Sign in")
        );
        assert!(es.translations.is_empty());
        let en = s.localized("en");
        assert_eq!(en.title, "Reset your password");
        assert!(en.translations.is_empty());
    }

    #[test]
    fn the_content_language_is_the_first_preference_the_site_offers() {
        let offered = vec!["es".to_string(), "nb".to_string()];
        assert_eq!(content_language(["es-MX", "en"], "en", &offered), "es");
        assert_eq!(content_language(["no"], "en", &offered), "nb");
        assert_eq!(content_language(["de", "nb-NO"], "en", &offered), "nb");
        assert_eq!(content_language(["de", "fr"], "en", &offered), "en");
        assert_eq!(content_language(["en-GB"], "en", &offered), "en");
        assert_eq!(content_language([], "en", &offered), "en");
        let regional = vec!["pt-BR".to_string()];
        assert_eq!(content_language(["pt-BR"], "en", &regional), "pt-BR");
        assert_eq!(content_language(["pt"], "en", &regional), "pt-BR");
    }

    #[test]
    fn the_lint_names_missing_stale_and_untranslated_parts() {
        let mut s = story();
        let offering = site(&["es", "nb"]);
        s.translations.insert(
            "es",
            &StoryText {
                title: "Restablece tu contraseña".into(),
                slides: vec![
                    SlideText {
                        text: "Toca".into(),
                        alt: "Pantalla".into(),
                        cta_label: String::new(),
                    },
                    SlideText {
                        text: "Elige una nueva".into(),
                        alt: String::new(),
                        cta_label: "Iniciar sesión".into(),
                    },
                ],
                source: Some(s.fingerprint()),
            },
        );
        let fields = |s: &Story| {
            s.lint_translations(&offering)
                .into_iter()
                .map(|p| p.field)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            fields(&s),
            ["translations.nb"],
            "es is complete and current"
        );
        s.slides[1].text = "Choose a new, long password".into();
        assert_eq!(fields(&s), ["translations.es", "translations.nb"]);
        let now = s.fingerprint();
        s.translations.update("es", |es| {
            es.source = Some(now);
            es.slides.pop();
        });
        assert_eq!(
            fields(&s),
            [
                "translations.es.slides[1].text",
                "translations.es.slides[1].cta_label",
                "translations.nb"
            ]
        );
        assert!(story().lint_translations(&site(&[])).is_empty());
    }

    #[test]
    fn fingerprints_follow_the_words_only() {
        let s = story();
        let mut moved = s.clone();
        moved.publish_at = 5;
        moved.slides[0].duration_ms = 9_000;
        assert_eq!(s.fingerprint(), moved.fingerprint());
        moved.slides[0].text.push('!');
        assert_ne!(s.fingerprint(), moved.fingerprint());
        assert_eq!(s.fingerprint().len(), 8);
    }

    #[test]
    fn translations_into_languages_the_site_lacks_are_named() {
        let offering = site(&["es"]);
        let p = unoffered(&offering, &["es".to_string(), "de".to_string()]);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].field, "translations.de");
    }
}
