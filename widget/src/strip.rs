//! Stories inside the page, not only in the corner: every `<div data-glimpse-stories>` (or an
//! element given to `Glimpse('mount', {el})`) gets a strip of the stories this page view
//! shows — each a round cover with its title, ringed in the site's accent until seen — in
//! a shadow root of its own, so the host's styles and the strip's cannot meet. A story opens
//! in the same player as the launcher's. This is the `strip` chunk: fetched only on pages
//! with a strip, after the feed has loaded.
//!
//! `data-glimpse-stories="SITE"` (or `data-site="SITE"` beside it) names the site when a
//! page embeds several; without one, the first site mounted on the page fills it.
//! `Glimpse('mount', {el, site?})` sets that attribute on `el` (the page's DOM is the one
//! list of hosts).

use glimpse_shared::i18n::Text;
use glimpse_shared::{Media, Story};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{Document, Element, HtmlElement, ShadowRoot};

use crate::shell::{self, Command, Instance};

/// The strip's stylesheet (inside each host's shadow root).
const STRIP_CSS: &str = include_str!("strip.css");

crate::chunk! {
    /// Fills every strip host of instance `id` with the stories its page view shows now.
    pub fn render(id: usize) -> ();
        chunk strip, preload preload_strip, body render_body;
    {
        if let Some(inst) = shell::get(id) {
            render_all(&inst);
        }
    }
}

/// Whether the page has a strip host (a `[data-glimpse-stories]` element; `Glimpse('mount',
/// {el})` gives its element that attribute).
pub fn wanted() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector("[data-glimpse-stories]").ok().flatten())
        .is_some()
}

/// The site a host asks for, if it names one.
fn site_of(el: &Element) -> Option<String> {
    el.get_attribute("data-glimpse-stories")
        .filter(|s| !s.trim().is_empty())
        .or_else(|| el.get_attribute("data-site"))
        .map(|s| s.trim().to_string())
}

/// The hosts instance `inst` fills: those naming its site, and those naming none when it is
/// the first site mounted on the page.
fn hosts(inst: &Instance, document: &Document) -> Vec<HtmlElement> {
    let first = shell::all().first().map(|i| i.id) == Some(inst.id);
    let ours = |site: Option<&str>| site.map_or(first, |s| s == inst.config.site);
    let mut out: Vec<HtmlElement> = Vec::new();
    if let Ok(list) = document.query_selector_all("[data-glimpse-stories]") {
        for node in (0..list.length()).filter_map(|i| list.item(i)) {
            if let Ok(el) = node.dyn_into::<HtmlElement>()
                && ours(site_of(&el).as_deref())
            {
                out.push(el);
            }
        }
    }
    out
}

/// The picture that stands for a story: its first slide's picture, else its first video's
/// poster (URLs the widget loads), if any.
fn cover(api: &str, story: &Story) -> Option<String> {
    story.slides.iter().find_map(|s| match &s.media {
        Some(Media::Image { url, .. }) => crate::browser::media_url(api, url),
        Some(Media::Video {
            poster: Some(p), ..
        }) => crate::browser::media_url(api, p),
        _ => None,
    })
}

fn render_all(inst: &Instance) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let hosts = hosts(inst, &document);
    if hosts.is_empty() {
        return;
    }
    let Some(text) = shell::feed_text(inst) else {
        return;
    };
    let Ok(feed) = crate::api::decode_feed(&inst.config.feed_url(), &text) else {
        return;
    };
    let feed = match shell::content_language(inst) {
        Some(lang) => feed.localized(&lang),
        None => feed,
    };
    let shown = shell::visible(inst).map(|v| v.stories).unwrap_or_default();
    let seen = shell::seen_ids(&inst.config.site);
    let stories: Vec<&Story> = feed
        .stories
        .iter()
        .filter(|s| shown.contains(&s.id))
        .collect();
    let accent = feed.site.theme.accent.clone();
    for host in hosts {
        if let Err(e) = fill(inst, &document, &host, &stories, &seen, &accent) {
            crate::warn(&format!("story strip: {e:?}"));
        }
    }
}

/// The strip's list in `host`, made (shadow root, styles, one click listener) the first
/// time; `None` if the host already has another shadow root.
fn list_of(
    inst: &Instance,
    document: &Document,
    host: &HtmlElement,
) -> Result<Option<Element>, wasm_bindgen::JsValue> {
    let root: ShadowRoot = match host.shadow_root() {
        Some(root) => {
            return root.query_selector("ul[data-glimpse-strip]");
        }
        None => host.attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))?,
    };
    let style = document.create_element("style")?;
    if let Some(n) = inst.config.nonce.as_deref() {
        style.set_attribute("nonce", n)?;
    }
    style.set_text_content(Some(STRIP_CSS));
    root.append_child(&style)?;
    let list = document.create_element("ul")?;
    list.set_attribute("data-glimpse-strip", "")?;
    list.set_attribute("data-testid", "glimpse-strip")?;
    list.set_attribute("aria-label", inst.lang.get().t(Text::HelpStories))?;
    root.append_child(&list)?;
    // One listener per strip for all its buttons (they are replaced on every render).
    let id = inst.id;
    let open = Closure::<dyn Fn(web_sys::Event)>::new(move |ev: web_sys::Event| {
        let story = ev
            .target()
            .and_then(|t| t.dyn_into::<Element>().ok())
            .and_then(|t| t.closest("button[data-story]").ok().flatten())
            .and_then(|b| b.get_attribute("data-story"));
        if let Some(story) = story {
            shell::run(id, Command::Open(Some(story)));
        }
    });
    list.add_event_listener_with_callback("click", open.as_ref().unchecked_ref())?;
    // Lives as long as the page: one per strip host.
    open.forget();
    Ok(Some(list))
}

fn fill(
    inst: &Instance,
    document: &Document,
    host: &HtmlElement,
    stories: &[&Story],
    seen: &[String],
    accent: &str,
) -> Result<(), wasm_bindgen::JsValue> {
    let Some(list) = list_of(inst, document, host)? else {
        crate::warn("a [data-glimpse-stories] element already has a shadow root; left alone");
        return Ok(());
    };
    host.style().set_property("--glimpse-accent", accent)?;
    list.replace_children_with_node_0();
    for story in stories {
        let item = document.create_element("li")?;
        let button = document.create_element("button")?;
        button.set_attribute("type", "button")?;
        button.set_attribute("data-story", &story.id)?;
        button.set_attribute("data-testid", &format!("glimpse-strip-{}", story.id))?;
        if seen.contains(&story.id) {
            button.set_attribute("class", "seen")?;
        }
        let ring = document.create_element("span")?;
        ring.set_attribute("class", "ring")?;
        match cover(&inst.config.api, story) {
            Some(url) => {
                let img = document.create_element("img")?;
                img.set_attribute("src", &url)?;
                // The title below says what it is.
                img.set_attribute("alt", "")?;
                img.set_attribute("loading", "lazy")?;
                img.set_attribute("decoding", "async")?;
                ring.append_child(&img)?;
            }
            None => {
                let letter = document.create_element("span")?;
                letter.set_attribute("class", "letter")?;
                letter.set_attribute("aria-hidden", "true")?;
                letter.set_text_content(Some(
                    &story
                        .title
                        .chars()
                        .next()
                        .map(|c| c.to_uppercase().to_string())
                        .unwrap_or_default(),
                ));
                ring.append_child(&letter)?;
            }
        }
        let title = document.create_element("span")?;
        title.set_attribute("class", "title")?;
        // Authored text: always text, never markup.
        title.set_text_content(Some(&story.title));
        button.append_child(&ring)?;
        button.append_child(&title)?;
        item.append_child(&button)?;
        list.append_child(&item)?;
    }
    Ok(())
}
