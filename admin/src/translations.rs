//! Translations side by side: for the language picked, every translatable field of the
//! draft with the source's words on the left and the translation on the right. Editing a
//! field (or "Mark as up to date") records the fingerprint of the source it was made from,
//! so the lint can say when the source changes later ([`glimpse_shared::translate`]).

use glimpse_shared::translate::SlideText;
use glimpse_shared::{LiveSession, Media, Poll, PollKind, Site, Story};
use leptos::prelude::*;

/// An item whose words can be translated.
pub trait Translated: Clone + Send + Sync + 'static {
    /// `(key, label, source words)` of every translatable field, in form order.
    fn fields(&self) -> Vec<(String, String, String)>;
    /// The translation of field `key` into `lang` ("" when there is none).
    fn get(&self, lang: &str, key: &str) -> String;
    /// Sets the translation of field `key` into `lang`, creating the translation if needed.
    fn set(&mut self, lang: &str, key: &str, value: String);
    /// The fingerprint the translation into `lang` records: `None` without a translation,
    /// `Some(None)` for one that records none.
    fn recorded(&self, lang: &str) -> Option<Option<String>>;
    /// Records the source's current fingerprint on the translation into `lang`.
    fn stamp(&mut self, lang: &str);
    /// The source's current fingerprint.
    fn current(&self) -> String;
}

/// `slides[3].text` → `(3, "text")`.
fn slide_key(key: &str) -> Option<(usize, &str)> {
    let rest = key.strip_prefix("slides[")?;
    let (i, field) = rest.split_once("].")?;
    Some((i.parse().ok()?, field))
}

/// `options[2]` → 2.
fn option_key(key: &str) -> Option<usize> {
    key.strip_prefix("options[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// `recorded`, `stamp` and `current` of a type whose `translations` texts carry `source`
/// and which has `fingerprint()` (stories, polls, sessions: the same three bodies).
macro_rules! source_stamps {
    () => {
        fn recorded(&self, lang: &str) -> Option<Option<String>> {
            self.translations.get(lang).map(|t| t.source)
        }

        fn stamp(&mut self, lang: &str) {
            let now = self.fingerprint();
            self.translations.update(lang, |t| t.source = Some(now));
        }

        fn current(&self) -> String {
            self.fingerprint()
        }
    };
}

impl Translated for Story {
    fn fields(&self) -> Vec<(String, String, String)> {
        let mut out = vec![("title".into(), "Title".into(), self.title.clone())];
        for (i, s) in self.slides.iter().enumerate() {
            let n = i + 1;
            out.push((
                format!("slides[{i}].text"),
                format!("Slide {n}"),
                s.text.clone(),
            ));
            let alt = match &s.media {
                Some(Media::Image { alt, .. }) => Some(alt.clone()),
                Some(Media::Video { alt, .. }) => alt.clone(),
                None => None,
            };
            if let Some(alt) = alt {
                out.push((
                    format!("slides[{i}].alt"),
                    format!("Slide {n}: alt text"),
                    alt,
                ));
            }
            if let Some(cta) = &s.cta {
                out.push((
                    format!("slides[{i}].cta_label"),
                    format!("Slide {n}: button"),
                    cta.label.clone(),
                ));
            }
        }
        out
    }

    fn get(&self, lang: &str, key: &str) -> String {
        let Some(t) = self.translations.get(lang) else {
            return String::new();
        };
        if key == "title" {
            return t.title;
        }
        let Some((i, field)) = slide_key(key) else {
            return String::new();
        };
        t.slides.get(i).map_or_else(String::new, |s| match field {
            "text" => s.text.clone(),
            "alt" => s.alt.clone(),
            _ => s.cta_label.clone(),
        })
    }

    fn set(&mut self, lang: &str, key: &str, value: String) {
        let slides = self.slides.len();
        self.translations.update(lang, |t| {
            if key == "title" {
                t.title = value;
                return;
            }
            if let Some((i, field)) = slide_key(key)
                && i < slides
            {
                if t.slides.len() <= i {
                    t.slides.resize(i + 1, SlideText::default());
                }
                let s = &mut t.slides[i];
                match field {
                    "text" => s.text = value,
                    "alt" => s.alt = value,
                    _ => s.cta_label = value,
                }
            }
        });
    }

    source_stamps!();
}

impl Translated for Poll {
    fn fields(&self) -> Vec<(String, String, String)> {
        let mut out = vec![("question".into(), "Question".into(), self.question.clone())];
        if let PollKind::Choice { options } = &self.kind {
            for (i, o) in options.iter().enumerate() {
                out.push((
                    format!("options[{i}]"),
                    format!("Option {}", i + 1),
                    o.clone(),
                ));
            }
        }
        out
    }

    fn get(&self, lang: &str, key: &str) -> String {
        let Some(t) = self.translations.get(lang) else {
            return String::new();
        };
        match option_key(key) {
            Some(i) => t.options.get(i).cloned().unwrap_or_default(),
            None => t.question,
        }
    }

    fn set(&mut self, lang: &str, key: &str, value: String) {
        let options = match &self.kind {
            PollKind::Choice { options } => options.len(),
            _ => 0,
        };
        self.translations.update(lang, |t| match option_key(key) {
            Some(i) if i < options => {
                if t.options.len() <= i {
                    t.options.resize(i + 1, String::new());
                }
                t.options[i] = value;
            }
            Some(_) => {}
            None => t.question = value,
        });
    }

    source_stamps!();
}

impl Translated for LiveSession {
    fn fields(&self) -> Vec<(String, String, String)> {
        vec![("title".into(), "Title".into(), self.title.clone())]
    }

    fn get(&self, lang: &str, _key: &str) -> String {
        self.translations
            .get(lang)
            .map(|t| t.title)
            .unwrap_or_default()
    }

    fn set(&mut self, lang: &str, _key: &str, value: String) {
        self.translations.update(lang, |t| t.title = value);
    }

    source_stamps!();
}

/// The draft's translations, one language at a time, side by side with the source.
#[component]
pub fn TranslationsEditor<T: Translated>(
    item: RwSignal<T>,
    site: Signal<Option<Site>>,
    one: &'static str,
) -> impl IntoView {
    let languages = Memo::new(move |_| {
        site.with(|s| s.as_ref().map(|s| s.languages.clone()).unwrap_or_default())
    });
    let source_lang = Memo::new(move |_| {
        site.with(|s| {
            s.as_ref()
                .map_or_else(|| "en".to_string(), |s| s.language.clone())
        })
    });
    let lang = RwSignal::new(String::new());
    Effect::new(move |_| {
        let all = languages.get();
        if !all.contains(&lang.get_untracked()) {
            lang.set(all.first().cloned().unwrap_or_default());
        }
    });
    let state = move || {
        let l = lang.get();
        item.with(|x| match x.recorded(&l) {
            None => ("missing", "not started: visitors reading it see the source"),
            Some(Some(s)) if s != x.current() => {
                ("stale", "older than its source: the source changed since")
            }
            Some(_) => ("current", "up to date"),
        })
    };
    let rows = move || {
        let l = lang.get();
        item.with(|x| x.fields())
            .into_iter()
            .map(|(key, label, source)| {
                let long = key.ends_with(".text");
                let testid = format!("{one}-tr-{key}");
                let k = key.clone();
                let value = move || item.with(|x| x.get(&lang.get(), &k));
                let k = key.clone();
                let l2 = l.clone();
                let on_change = move |ev: leptos::ev::Event| {
                    let v = event_target_value(&ev);
                    item.update(|x| {
                        x.set(&l2, &k, v);
                        x.stamp(&l2);
                    });
                };
                // Named for screen readers: the field and the language ("Slide 2 (es)").
                let name = format!("{label} ({l})");
                let input = if long {
                    view! { <textarea rows="2" aria-label=name data-testid=testid prop:value=value on:change=on_change></textarea> }.into_any()
                } else {
                    view! { <input type="text" aria-label=name data-testid=testid prop:value=value on:change=on_change/> }.into_any()
                };
                view! {
                    <tr>
                        <th scope="row">{label}</th>
                        <td class="source">{source}</td>
                        <td>{input}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    let options = move || {
        languages
            .get()
            .into_iter()
            .map(|l| view! { <option value=l.clone()>{l.clone()}</option> })
            .collect_view()
    };
    view! {
        <fieldset class="translations" data-testid=format!("{one}-translations")>
            <legend>"Translations"</legend>
            <Show
                when=move || !languages.with(Vec::is_empty)
                fallback=move || view! {
                    <p class="hint">
                        {move || format!("This site is only in {}. Add other languages to the site (its `languages`) to translate.", source_lang.get())}
                    </p>
                }
            >
                <div class="row">
                    <label class="field">
                        <span>"Language"</span>
                        <select
                            data-testid=format!("{one}-tr-lang")
                            prop:value=move || lang.get()
                            on:change=move |ev| lang.set(event_target_value(&ev))
                        >
                            {options}
                        </select>
                    </label>
                    <span class=move || format!("badge {}", state().0) data-testid=format!("{one}-tr-state")>
                        {move || state().1}
                    </span>
                    <button
                        data-testid=format!("{one}-tr-stamp")
                        on:click=move |_| {
                            let l = lang.get_untracked();
                            item.update(|x| x.stamp(&l));
                        }
                    >
                        "Mark as up to date"
                    </button>
                </div>
                <table class="side-by-side">
                    <thead>
                        <tr>
                            <th>"Field"</th>
                            <th>{move || source_lang.get()}</th>
                            <th>{move || lang.get()}</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </Show>
        </fieldset>
    }
}
