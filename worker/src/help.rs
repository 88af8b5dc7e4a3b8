//! The help centre: the knowledge base as plain HTML pages that need no JavaScript, in the
//! site's theme and in each of its languages.
//!
//! - `/kb/{site}`: the entries public now, grouped by the site's topics (their labels in the
//!   page's language), each linking to its own page; searchable with an ordinary GET form.
//! - `/kb/{site}/{stories|questions}/{id}`: one entry, at a URL that stays the same while it
//!   exists (the story's or question's id), with a canonical link, a description, schema.org
//!   `Article` data as JSON-LD and, for a story's entry, its story's pictures with their alt
//!   text and "Did this help?".
//! - `POST /kb/{site}/stories/{id}/feedback`: that question's answer from a plain HTML form,
//!   sent to the ingestion queue as the widget's `helpful` / `not_helpful` events are (so
//!   the queue consumer counts it in the story's popularity and daily counters), then a
//!   303 back to the page, which thanks the visitor.
//!
//! Every page lists the site's contact channels. Everything authored is escaped text, never
//! HTML; pictures are shown only from https URLs or paths on this origin. Each page is one
//! D1 query (after the site's snapshot) and is cached at the edge like the search
//! ([`crate::core::edge_cache_key`]); the form's POST never is.

use glimpse_shared::events::{Event, EventKind, StoredBatch};
use glimpse_shared::kb::{KbEntry, KbSource, search_with};
use glimpse_shared::site::{Channel, ChannelKind, Site, ThemeMode, text_on};
use glimpse_shared::time::utc_date;
use glimpse_shared::validate::{is_https_url, is_root_relative_path, media_url};
use glimpse_shared::{ApiError, Millis, SiteSnapshot};
use serde_json::json;

use crate::core::{Api, fresh_id, unavailable};
use crate::http::{ApiRequest, ApiResponse, percent_decode};
use crate::queue::Message;
use crate::store::KvStore;

/// Most results the index shows.
const PAGE_RESULTS: usize = 200;

/// How long browsers and the edge may keep a page: an unpublished or erased entry leaves
/// within seconds, as from the search.
const CACHE_CONTROL: &str = "public, max-age=10";

/// Most characters of a page's description (and of an index entry's excerpt).
const DESCRIPTION_MAX: usize = 160;

/// The pages' own words, in the built-in languages (English otherwise): a table of their
/// own, so the edge's upload does not carry the widget's every string (`i18n::Lang::t`). The
/// same words as the widget's (a test checks).
struct PageWords {
    all: &'static str,
    search: &'static str,
    none: &'static str,
    did_it_help: &'static str,
    yes: &'static str,
    no: &'static str,
    thanks: &'static str,
    sorry: &'static str,
    contact: &'static str,
}

impl PageWords {
    fn of(lang: &str) -> Self {
        use glimpse_shared::i18n::Lang;
        match Lang::builtin(lang) {
            Some(Lang::Es) => Self {
                all: "Todos los artículos",
                search: "Buscar ayuda",
                none: "No hay artículos",
                did_it_help: "¿Te ha ayudado?",
                yes: "Sí",
                no: "No",
                thanks: "¡Gracias por tu respuesta!",
                sorry: "Lo sentimos. Nuestro equipo puede ayudarte:",
                contact: "Contáctanos",
            },
            Some(Lang::Nb) => Self {
                all: "Alle hjelpeartikler",
                search: "Søk i hjelp",
                none: "Fant ingen artikler",
                did_it_help: "Hjalp dette?",
                yes: "Ja",
                no: "Nei",
                thanks: "Takk for svaret!",
                sorry: "Beklager. Teamet vårt kan hjelpe deg:",
                contact: "Kontakt oss",
            },
            _ => Self {
                all: "All help articles",
                search: "Search help",
                none: "No articles found",
                did_it_help: "Did this help?",
                yes: "Yes",
                no: "No",
                thanks: "Thanks for your answer!",
                sorry: "Sorry about that. Our team can help:",
                contact: "Contact us",
            },
        }
    }
}

/// `s` as HTML text or a double- or single-quoted attribute value.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// `value` as the text of a `<script type="application/ld+json">`: `<`, `>` and `&` as JSON
/// escapes, so no authored text can close the element (`</script>`) or open a comment.
fn json_in_script(value: &serde_json::Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// The first [`DESCRIPTION_MAX`] characters of `text` with its whitespace collapsed and its
/// lines (a story's steps) run on as sentences, cut at a word with `…` when longer.
fn description(text: &str) -> String {
    let sentences: Vec<String> = text
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .map(|l| {
            if l.ends_with(['.', '!', '?', ':', ';', '…', '。', '！', '？']) {
                l
            } else {
                format!("{l}.")
            }
        })
        .collect();
    let flat = sentences.join(" ");
    if flat.chars().count() <= DESCRIPTION_MAX {
        return flat;
    }
    let cut: String = flat.chars().take(DESCRIPTION_MAX - 1).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > DESCRIPTION_MAX / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end())
}

/// `?lang={lang}` for a language other than the site's own (its pages' URLs in it).
fn lang_query(site: &Site, lang: &str) -> String {
    if lang == site.language {
        String::new()
    } else {
        format!("?lang={lang}")
    }
}

/// The path of entry `entry_id`'s page (`story-{id}` → `/kb/{site}/stories/{id}`), if its
/// source id can be one.
fn entry_path(site: &str, entry_id: &str) -> Option<String> {
    let (source, id) = if let Some(id) = entry_id.strip_prefix("story-") {
        (KbSource::Story, id)
    } else {
        (KbSource::Question, entry_id.strip_prefix("question-")?)
    };
    glimpse_shared::ids::is_slug(id).then(|| format!("/kb/{site}/{}/{id}", source.plural()))
}

/// The `mailto:`, `tel:` or https link of a channel, if its value makes a safe one.
fn channel_href(c: &Channel) -> Option<String> {
    let v = c.value.trim();
    match c.kind {
        ChannelKind::Email => (v.contains('@')
            && !v.contains(['?', '&', '#', '%', '<', '>', '"', '\'', '\\', ','])
            && v.bytes().all(|b| b.is_ascii_graphic()))
        .then(|| format!("mailto:{v}")),
        ChannelKind::Phone => {
            let dial: String = v
                .chars()
                .filter(|ch| ch.is_ascii_digit() || *ch == '+')
                .collect();
            (dial.chars().filter(char::is_ascii_digit).count() >= 5).then(|| format!("tel:{dial}"))
        }
        ChannelKind::Ticket => is_https_url(v).then(|| v.to_string()),
    }
}

/// "Contact us": the channels as links (email and phone with their address or number
/// shown), or nothing when none makes a link.
fn contact(channels: &[&Channel], words: &PageWords) -> String {
    let items: Vec<String> = channels
        .iter()
        .filter_map(|c| {
            let href = channel_href(c)?;
            let shown = match c.kind {
                ChannelKind::Ticket => String::new(),
                _ => format!(" <span class=\"muted\">{}</span>", escape(c.value.trim())),
            };
            Some(format!(
                "<li><a href=\"{}\">{}</a>{shown}</li>",
                escape(&href),
                escape(&c.label)
            ))
        })
        .collect();
    if items.is_empty() {
        return String::new();
    }
    format!(
        "<section class=\"box\" id=\"contact\" aria-labelledby=\"contact-title\" data-testid=\"kb-contact\">\
         <h2 id=\"contact-title\">{}</h2><ul class=\"plain\">{}</ul></section>",
        words.contact,
        items.join("")
    )
}

/// Whether `s` is a `#rrggbb` colour (anything else is never put into the style sheet).
fn is_hex_colour(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// The pages' style sheet in the site's theme: its accent for buttons, rules and link
/// underlines (text stays the page's colour, so any accent reads), light, dark or the
/// visitor's choice as the widget follows it.
fn style(site: &Site) -> String {
    const LIGHT: &str =
        "--bg:#ffffff;--fg:#1b1820;--muted:#57525f;--line:#dcd8e2;--box:#f5f3f8;color-scheme:light";
    const DARK: &str =
        "--bg:#15131a;--fg:#ece9f1;--muted:#b4afbd;--line:#3a3642;--box:#201d27;color-scheme:dark";
    let accent = if is_hex_colour(&site.theme.accent) {
        site.theme.accent.as_str()
    } else {
        "#5b4dff"
    };
    let modes = match site.theme.mode {
        ThemeMode::Light => format!(":root{{{LIGHT}}}"),
        ThemeMode::Dark => format!(":root{{{DARK}}}"),
        ThemeMode::Auto => {
            format!(":root{{{LIGHT}}}@media (prefers-color-scheme:dark){{:root{{{DARK}}}}}")
        }
    };
    format!(
        "{modes}:root{{--accent:{accent};--on-accent:{on}}}\
         body{{margin:0;background:var(--bg);color:var(--fg);font-family:system-ui,sans-serif;line-height:1.5}}\
         main{{max-width:760px;margin:0 auto;padding:24px}}\
         h1{{margin:8px 0 16px;padding-bottom:8px;border-bottom:4px solid var(--accent)}}\
         h2{{margin-top:32px;border-bottom:1px solid var(--line)}}\
         a{{color:inherit;text-decoration-color:var(--accent);text-decoration-thickness:2px;text-underline-offset:3px}}\
         article{{margin:16px 0}}p{{white-space:pre-line;margin:4px 0}}.muted{{color:var(--muted)}}\
         img{{display:block;max-width:100%;height:auto;margin:16px 0;border:1px solid var(--line);border-radius:12px}}\
         input{{font:inherit;padding:6px 8px;border:1px solid var(--muted);border-radius:6px;background:var(--bg);color:var(--fg)}}\
         button{{font:inherit;background:var(--accent);color:var(--on-accent);border:0;border-radius:8px;padding:6px 20px;margin:4px 8px 4px 0;cursor:pointer}}\
         a:focus-visible,button:focus-visible,input:focus-visible{{outline:3px solid var(--accent);outline-offset:2px}}\
         .box{{background:var(--box);border-radius:12px;padding:4px 16px 12px;margin-top:32px}}\
         .box h2{{border:0;margin-top:12px}}.plain{{list-style:none;padding:0}}.plain li{{margin:6px 0}}",
        on = text_on(accent),
    )
}

/// The links to this page in the site's other languages (`?lang=` on the same path), or
/// nothing for a site in one language.
fn language_links(site: &Site, lang: &str) -> String {
    if site.languages.is_empty() {
        return String::new();
    }
    let links: Vec<String> = std::iter::once(&site.language)
        .chain(&site.languages)
        .filter(|l| **l != lang)
        .map(|l| {
            format!(
                "<a href=\"?lang={0}\" hreflang=\"{0}\" lang=\"{0}\">{0}</a>",
                escape(l)
            )
        })
        .collect();
    format!(
        "<nav aria-label=\"Languages\"><p>{}</p></nav>",
        links.join(" · ")
    )
}

/// The `<head>` links of a page at `path` (on `origin`) read in `lang`: its canonical URL
/// and the same page in each of the site's languages.
fn head_links(origin: &str, path: &str, site: &Site, lang: &str) -> String {
    let url = |l: &str| escape(&format!("{origin}{path}{}", lang_query(site, l)));
    let mut out = format!("<link rel=\"canonical\" href=\"{}\">", url(lang));
    if !site.languages.is_empty() {
        for l in std::iter::once(&site.language).chain(&site.languages) {
            out.push_str(&format!(
                "<link rel=\"alternate\" hreflang=\"{}\" href=\"{}\">",
                escape(l),
                url(l)
            ));
        }
    }
    out
}

/// A page's HTML: the document around `head` (after the title) and `main`'s content.
fn document(site: &Site, lang: &str, title: &str, head: &str, main: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title>{head}<style>{style}</style></head><body><main>{main}</main></body></html>",
        lang = escape(lang),
        title = escape(title),
        style = style(site),
    )
}

/// An HTML answer, cached like the search.
fn html(body: String) -> ApiResponse {
    let mut res = ApiResponse::empty(200)
        .with_header("content-type", "text/html; charset=utf-8")
        .with_header("cache-control", CACHE_CONTROL);
    res.body = body;
    res
}

/// `GET /kb/{site}?q=&lang=`: the help centre's index in one of the site's languages (links
/// switch between them): the entries public now (or those matching `q`), grouped by topic
/// in the site's order with the topics' labels in that language, each linking to its page;
/// then the site's channels. All of it sits in one `main` landmark, the search form a named
/// `search` landmark (axe-core checks it in e2e/tests/a11y.rs).
pub async fn index<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    snapshot: &SiteSnapshot,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let site = &snapshot.site;
    let q: String = req
        .query_param("q")
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect();
    let lang = crate::kb::language(req, site)?;
    let words = PageWords::of(&lang);
    let entries = crate::kb::candidates(api.sql, &site.id, &q, None, now_ms).await?;
    let hits = search_with(
        &crate::kb::localized(&entries, &lang, now_ms),
        &q,
        None,
        PAGE_RESULTS,
        now_ms,
        &crate::TEXT,
    );
    let heading = format!("{} — Help", site.name);
    let mut main = format!(
        "<h1>{name}</h1>\
         <form method=\"get\" role=\"search\" aria-label=\"{all}\"><label>{search} <input type=\"search\" name=\"q\" value=\"{qv}\"></label> \
         {keep}<button type=\"submit\">{search}</button></form>{languages}",
        name = escape(&heading),
        qv = escape(&q),
        all = words.all,
        search = words.search,
        keep = if lang == site.language {
            String::new()
        } else {
            format!(
                "<input type=\"hidden\" name=\"lang\" value=\"{}\">",
                escape(&lang)
            )
        },
        languages = language_links(site, &lang),
    );
    if hits.is_empty() {
        main.push_str(&format!("<p>{}</p>", words.none));
    }
    // The site's topics in its order, then any other topic an entry is filed under.
    let mut topics: Vec<&str> = site.topics.iter().map(|t| t.id.as_str()).collect();
    for h in &hits {
        if !topics.contains(&h.entry.topic.as_str()) {
            topics.push(&h.entry.topic);
        }
    }
    let suffix = lang_query(site, &lang);
    for t in topics {
        let in_topic: Vec<_> = hits.iter().filter(|h| h.entry.topic == t).collect();
        if in_topic.is_empty() {
            continue;
        }
        let label = site
            .topic(t)
            .map_or_else(|| t.to_string(), |x| x.label_in(&lang));
        main.push_str(&format!(
            "<section id=\"topic-{}\"><h2>{}</h2>",
            escape(t),
            escape(&label)
        ));
        for h in in_topic {
            let title = escape(&h.entry.title);
            let linked = match entry_path(&site.id, &h.entry.id) {
                Some(path) => format!("<a href=\"{}{suffix}\">{title}</a>", escape(&path)),
                None => title,
            };
            main.push_str(&format!(
                "<article id=\"{}\"><h3>{linked}</h3><p class=\"muted\">{}</p></article>",
                escape(&h.entry.id),
                escape(&description(&h.entry.body)),
            ));
        }
        main.push_str("</section>");
    }
    let channels: Vec<&Channel> = site.channels.iter().collect();
    main.push_str(&contact(&channels, &words));
    let head = format!(
        "<meta name=\"description\" content=\"{}\">{}",
        escape(&format!("{heading}: {}", words.all)),
        head_links(&req.origin, &format!("/kb/{}", site.id), site, &lang)
    );
    Ok(html(document(site, &lang, &heading, &head, &main)))
}

/// The picture URLs of `entry` that may be shown: https, or a path on this origin.
fn shown_pictures(entry: &KbEntry) -> impl Iterator<Item = &glimpse_shared::kb::KbPicture> {
    entry
        .pictures
        .iter()
        .filter(|p| is_https_url(&p.url) || is_root_relative_path(&p.url))
}

/// `GET /kb/{site}/{stories|questions}/{id}?lang=&voted=`: one entry public now, read in one
/// of the site's languages, at the URL it keeps (404 while it is not public: scheduled,
/// unpublished, never there). Its `<head>` has a canonical link, a description from its
/// text and schema.org `Article` data as JSON-LD; a story's entry shows its story's
/// pictures (`<img alt loading=lazy>`) and asks "Did this help?" with a form
/// ([`feedback`]), thanking the visitor when the answer brought them back (`voted=yes|no`).
/// The channels that serve its topic (all, if none does) close the page.
pub async fn entry<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    snapshot: &SiteSnapshot,
    source: KbSource,
    id: &str,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let site = &snapshot.site;
    let lang = crate::kb::language(req, site)?;
    let words = PageWords::of(&lang);
    let e = crate::kb::load_entry(api.sql, &site.id, &source.entry_id(id))
        .await?
        .map(|e| e.as_of(now_ms).into_owned())
        .filter(|e| e.is_public(now_ms))
        .ok_or_else(|| ApiError::not_found("knowledge-base entry"))?
        .localized(&lang);
    let path = format!("/kb/{}/{}/{id}", site.id, source.plural());
    let index = format!("/kb/{}{}", site.id, lang_query(site, &lang));
    let canonical = format!("{}{path}{}", req.origin, lang_query(site, &lang));
    let summary = description(if e.body.trim().is_empty() {
        &e.title
    } else {
        &e.body
    });
    let topic = site
        .topic(&e.topic)
        .map_or_else(|| e.topic.clone(), |t| t.label_in(&lang));
    let heading = format!("{} — Help", site.name);

    let mut ld = json!({
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": e.title.chars().take(110).collect::<String>(),
        "description": summary,
        "articleBody": e.body,
        "inLanguage": lang,
        "url": canonical,
        "mainEntityOfPage": canonical,
        "datePublished": utc_date(e.published_at),
        "publisher": {"@type": "Organization", "name": site.name},
        "author": {"@type": "Organization", "name": site.name},
    });
    if e.updated_at > e.published_at {
        ld["dateModified"] = json!(utc_date(e.updated_at));
    }
    let images: Vec<String> = shown_pictures(&e)
        .filter_map(|p| media_url(&req.origin, &p.url))
        .collect();
    if !images.is_empty() {
        ld["image"] = json!(images);
    }
    let head = format!(
        "<meta name=\"description\" content=\"{}\">{}\
         <script type=\"application/ld+json\">{}</script>",
        escape(&summary),
        head_links(&req.origin, &path, site, &lang),
        json_in_script(&ld),
    );

    let mut main = format!(
        "<nav aria-label=\"Breadcrumb\"><p><a href=\"{index}\">{home}</a> › \
         <a href=\"{index}#topic-{tid}\">{topic}</a></p></nav>{languages}\
         <article data-testid=\"kb-entry\"><h1>{title}</h1>",
        index = escape(&index),
        home = escape(&heading),
        tid = escape(&e.topic),
        topic = escape(&topic),
        languages = language_links(site, &lang),
        title = escape(&e.title),
    );
    for line in e.body.lines().filter(|l| !l.trim().is_empty()) {
        main.push_str(&format!("<p>{}</p>", escape(line)));
    }
    for p in shown_pictures(&e) {
        main.push_str(&format!(
            "<img src=\"{}\" alt=\"{}\" loading=\"lazy\" decoding=\"async\">",
            escape(&p.url),
            escape(&p.alt)
        ));
    }
    main.push_str("</article>");
    if source == KbSource::Story {
        main.push_str(&format!(
            "<section class=\"box\" id=\"feedback\" aria-labelledby=\"feedback-title\"><h2 id=\"feedback-title\">{}</h2>",
            words.did_it_help
        ));
        match req.query_param("voted").as_deref() {
            Some(answer @ ("yes" | "no")) => {
                main.push_str(&format!(
                    "<p role=\"status\" data-testid=\"kb-thanks\">{}</p>",
                    words.thanks
                ));
                if answer == "no" {
                    main.push_str(&format!(
                        "<p>{} <a href=\"#contact\">{}</a></p>",
                        words.sorry, words.contact
                    ));
                }
            }
            _ => main.push_str(&format!(
                "<form method=\"post\" action=\"{action}\">{keep}\
                 <button type=\"submit\" name=\"helped\" value=\"yes\">{yes}</button>\
                 <button type=\"submit\" name=\"helped\" value=\"no\">{no}</button></form>",
                action = escape(&format!("{path}/feedback")),
                keep = if lang == site.language {
                    String::new()
                } else {
                    format!(
                        "<input type=\"hidden\" name=\"lang\" value=\"{}\">",
                        escape(&lang)
                    )
                },
                yes = words.yes,
                no = words.no,
            )),
        }
        main.push_str("</section>");
    }
    let mut channels: Vec<&Channel> = site.channels_for(&e.topic).collect();
    if channels.is_empty() {
        channels = site.channels.iter().collect();
    }
    main.push_str(&contact(&channels, &words));
    let title = format!("{} — {}", e.title, site.name);
    Ok(html(document(site, &lang, &title, &head, &main)))
}

/// The fields of an `application/x-www-form-urlencoded` body, percent-decoded (`+` is a
/// space); 415 for any other body.
fn form_fields(req: &ApiRequest) -> Result<Vec<(String, String)>, ApiError> {
    let is_form = req.get_header("content-type").is_some_and(|ct| {
        ct.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    });
    if !is_form {
        return Err(ApiError::new(
            415,
            "unsupported_media_type",
            "send the form as content-type: application/x-www-form-urlencoded",
        ));
    }
    let body = String::from_utf8_lossy(&req.body);
    Ok(body
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect())
}

/// `POST /kb/{site}/stories/{id}/feedback` with the form `helped=yes|no` (and the page's
/// `lang`): one queue message carrying a `helpful` or `not_helpful` event about story `id`,
/// as the widget sends them, which the queue consumer counts — a "yes" in the story's
/// popularity and both in the day's counters. The page has no visitor id, so each answer is
/// its own anonymous visitor (`kb-page-…`, known to nobody: nothing to export or erase, no
/// KV record); the answers are rate limited per address ([`crate::limit::keys_for`]). Then
/// `303` to the entry's page with `voted=` (its thanks) in the same language. 400 for a
/// missing or other answer or a malformed `lang`, 404 unless the entry is public, 415 for a
/// body that is not a form.
pub async fn feedback<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    snapshot: &SiteSnapshot,
    story: &str,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let site = &snapshot.site;
    let fields = form_fields(req)?;
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let helped = match field("helped").as_deref() {
        Some("yes") => true,
        Some("no") => false,
        _ => {
            return Err(
                ApiError::new(400, "invalid", "helped must be yes or no").with_field("helped")
            );
        }
    };
    let lang = crate::kb::language_of(field("lang"), site)?;
    let public = crate::kb::load_entry(api.sql, &site.id, &KbSource::Story.entry_id(story))
        .await?
        .is_some_and(|e| e.as_of(now_ms).is_public(now_ms));
    if !public {
        return Err(ApiError::not_found("knowledge-base entry"));
    }
    let visitor = format!("kb-page-{}", fresh_id(api)?);
    let kind = if helped {
        EventKind::Helpful {
            story: story.to_string(),
        }
    } else {
        EventKind::NotHelpful {
            story: story.to_string(),
        }
    };
    api.queue
        .send(&[Message::Events {
            site: site.id.clone(),
            id: visitor.clone(),
            batch: StoredBatch {
                visitor,
                received_at: now_ms,
                events: vec![Event { kind, at: None }],
            },
        }])
        .await
        .map_err(unavailable)?;
    let lang_part = match lang_query(site, &lang) {
        q if q.is_empty() => String::new(),
        q => format!("{}&", &q[1..]),
    };
    let location = format!(
        "/kb/{}/stories/{story}?{lang_part}voted={}#feedback",
        site.id,
        if helped { "yes" } else { "no" }
    );
    Ok(ApiResponse::empty(303)
        .with_header("location", &location)
        .with_header("cache-control", "no-store"))
}

#[cfg(test)]
mod tests {
    use glimpse_shared::i18n::{Lang, Text};

    #[test]
    fn the_pages_words_are_the_widgets() {
        for lang in [Lang::En, Lang::Es, Lang::Nb] {
            let w = super::PageWords::of(lang.tag());
            assert_eq!(w.all, lang.t(Text::AllArticles));
            assert_eq!(w.search, lang.t(Text::SearchHelp));
            assert_eq!(w.none, lang.t(Text::NoResults));
            assert_eq!(w.did_it_help, lang.t(Text::DidThisHelp));
            assert_eq!(w.yes, lang.t(Text::Yes));
            assert_eq!(w.no, lang.t(Text::No));
            assert_eq!(w.thanks, lang.t(Text::Thanks));
            assert_eq!(w.sorry, lang.t(Text::SorryContact));
            assert_eq!(w.contact, lang.t(Text::ContactUs));
        }
    }

    #[test]
    fn descriptions_are_short_flat_and_cut_at_a_word() {
        assert_eq!(
            super::description("Open  Settings.\nTap Reset\n\n"),
            "Open Settings. Tap Reset."
        );
        let long = "word ".repeat(100);
        let d = super::description(&long);
        assert!(d.chars().count() <= super::DESCRIPTION_MAX, "{d}");
        assert!(d.ends_with("word…"), "{d}");
        let one = "x".repeat(500);
        assert_eq!(
            super::description(&one).chars().count(),
            super::DESCRIPTION_MAX
        );
    }

    #[test]
    fn json_ld_cannot_close_its_script() {
        let v = serde_json::json!({"headline": "</script><script>alert(1)</script> & <!--"});
        let text = super::json_in_script(&v);
        assert!(
            !text.contains('<') && !text.contains('>') && !text.contains('&'),
            "{text}"
        );
        let back: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(back, v);
    }

    #[test]
    fn channels_make_only_safe_links() {
        use glimpse_shared::site::{Channel, ChannelKind};
        let c = |kind, value: &str| Channel {
            kind,
            label: "x".into(),
            value: value.into(),
            topics: vec![],
        };
        let href = |kind, v: &str| super::channel_href(&c(kind, v));
        assert_eq!(
            href(ChannelKind::Email, "help@shop.example").as_deref(),
            Some("mailto:help@shop.example")
        );
        assert_eq!(
            href(ChannelKind::Email, "help@shop.example?bcc=x@evil"),
            None
        );
        assert_eq!(
            href(ChannelKind::Phone, "+44 20 7946 0000").as_deref(),
            Some("tel:+442079460000")
        );
        assert_eq!(href(ChannelKind::Phone, "call us"), None);
        assert_eq!(
            href(ChannelKind::Ticket, "https://shop.example/t").as_deref(),
            Some("https://shop.example/t")
        );
        assert_eq!(href(ChannelKind::Ticket, "javascript:alert(1)"), None);
        assert_eq!(href(ChannelKind::Ticket, "http://shop.example/t"), None);
    }
}
