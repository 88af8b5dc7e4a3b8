//! The widget's place on the host page: one element appended to `<body>` carrying an open
//! shadow root. All markup and CSS live inside it, so host styles cannot reach in and ours
//! cannot leak out. Also the command API (`Glimpse('open' | 'close', …)`) for every instance.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{HtmlElement, ShadowRootInit, ShadowRootMode};

use crate::Config;
use crate::shell::{self, Command};

/// The first chunk's stylesheet (theme, frame, launcher), scoped by the shadow root.
/// Compacted by `build.rs` (`css.rs`).
pub const CSS: &str = include_str!(concat!(env!("OUT_DIR"), "/launcher.css"));

/// The app's stylesheet, added by the app's chunk ([`add_app_styles`]).
pub const APP_CSS: &str = include_str!(concat!(env!("OUT_DIR"), "/widget.css"));

/// Adds the app's stylesheet to the shadow root holding `root`, after the first chunk's
/// (same nonce), unless it is already there.
pub fn add_app_styles(root: &web_sys::Element, nonce: Option<&str>) -> Result<(), JsValue> {
    let shadow = root
        .get_root_node()
        .dyn_into::<web_sys::ShadowRoot>()
        .map_err(|_| JsValue::from_str("not in a shadow root"))?;
    if shadow.query_selector("style[data-app]")?.is_some() {
        return Ok(());
    }
    let document = root
        .owner_document()
        .ok_or_else(|| JsValue::from_str("no document"))?;
    let style = document.create_element("style")?;
    style.set_attribute("data-app", "")?;
    if let Some(n) = nonce {
        style.set_attribute("nonce", n)?;
    }
    style.set_text_content(Some(APP_CSS));
    // After the first stylesheet, before the content: the cascade order of one file.
    let first = shadow.query_selector("style")?;
    let next = first.and_then(|s| s.next_sibling());
    shadow.insert_before(&style, next.as_ref())?;
    Ok(())
}

/// Creates `<glimpse-widget data-site=…>` with its shadow root, shows the launcher once the
/// feed is in, and leaves the rest to the app's lazy chunk ([`crate::shell`]).
/// One instance per site: a second mount of a site already on the page does nothing, so
/// does one while another copy of the bundle (another loader URL) shows that site. Before
/// `<body>` exists (a snippet in `<head>` on a slow page) it waits for `DOMContentLoaded`.
pub fn mount(config: Config) -> Result<(), JsValue> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsValue::from_str("no document"))?;
    if is_mounted(&document, &config.site) {
        return Ok(());
    }
    if document.body().is_none() {
        let state = js_sys::Reflect::get(&document, &JsValue::from_str("readyState"))
            .ok()
            .and_then(|s| s.as_string());
        if state.as_deref() != Some("loading") {
            return Err(JsValue::from_str("the page has no <body>"));
        }
        let later = wasm_bindgen::closure::Closure::once_into_js(move || {
            if let Err(e) = mount(config) {
                crate::warn(&format!("could not mount: {e:?}"));
            }
        });
        let once = web_sys::AddEventListenerOptions::new();
        once.set_once(true);
        return document.add_event_listener_with_callback_and_add_event_listener_options(
            "DOMContentLoaded",
            later.unchecked_ref(),
            &once,
        );
    }
    let (host, container) = create_shadow_container(&config.site, config.nonce.as_deref())?;
    crate::viewport::follow(&container);
    let inst = shell::attach(config, &container)?;
    keep_attached(host);
    wasm_bindgen_futures::spawn_local(shell::load_feed(inst));
    Ok(())
}

/// Whether this site's widget is already on the page, from this bundle or another copy.
fn is_mounted(document: &web_sys::Document, site: &str) -> bool {
    shell::all().iter().any(|x| x.config.site == site) || {
        let all = document.get_elements_by_tag_name("glimpse-widget");
        (0..all.length())
            .filter_map(|i| all.item(i))
            .any(|el| el.get_attribute("data-site").as_deref() == Some(site))
    }
}

/// Single-page apps may replace `<body>`'s children on navigation; put the widget back (and
/// back on the top layer, which removal left). A page script that hid every popover gets
/// it shown again too.
fn keep_attached(host: web_sys::Element) {
    crate::browser::every(1_000, move || {
        if !host.is_connected()
            && let Some(body) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.body())
        {
            let _ = body.append_child(&host);
        }
        show_on_top(&host);
    });
}

/// The host element's own box, set inline with `!important` (through CSSOM, which a
/// strict CSP allows): a zero-size, transparent, fixed anchor at the viewport's corner, so
/// it never takes part in the page's layout (a flex or grid `<body>` with a gap, `:last-child`
/// margins) and the user agent's popover box (centred, bordered, padded, `overflow: auto`)
/// never shows. Everything visible is `position: fixed` inside the shadow root.
const HOST_STYLE: &[(&str, &str)] = &[
    ("display", "block"),
    ("position", "fixed"),
    ("top", "0"),
    ("left", "0"),
    ("right", "auto"),
    ("bottom", "auto"),
    ("width", "0"),
    ("height", "0"),
    ("min-width", "0"),
    ("min-height", "0"),
    ("max-width", "none"),
    ("max-height", "none"),
    ("margin", "0"),
    ("padding", "0"),
    ("border", "0 none"),
    ("outline", "none"),
    ("background", "transparent"),
    ("box-shadow", "none"),
    ("overflow", "visible"),
    ("z-index", "2147483647"),
    ("transform", "none"),
    ("translate", "none"),
    ("rotate", "none"),
    ("scale", "none"),
    ("filter", "none"),
    ("backdrop-filter", "none"),
    ("clip-path", "none"),
    ("mask", "none"),
    ("contain", "none"),
    ("opacity", "1"),
    ("visibility", "visible"),
    ("pointer-events", "auto"),
    ("transition", "none"),
    ("animation", "none"),
    ("color-scheme", "normal"),
];

fn style_host(host: &web_sys::Element) {
    if let Some(el) = host.dyn_ref::<HtmlElement>() {
        let style = el.style();
        for (name, value) in HOST_STYLE {
            let _ = style.set_property_with_priority(name, value, "important");
        }
    }
}

/// Whether the browser has the Popover API (`showPopover`), which puts an element on the
/// top layer: above every z-index, and out of reach of any ancestor's transform, filter,
/// containment or overflow.
fn has_popover(host: &web_sys::Element) -> bool {
    js_sys::Reflect::get(host, &JsValue::from_str("showPopover")).is_ok_and(|f| f.is_function())
}

/// Shows the connected host on the top layer, unless it is already there. Without the
/// Popover API the host stays a fixed element with the largest z-index.
fn show_on_top(host: &web_sys::Element) {
    if !host.is_connected() || !has_popover(host) {
        return;
    }
    if host.matches(":popover-open").unwrap_or(true) {
        return;
    }
    if let Ok(show) = js_sys::Reflect::get(host, &JsValue::from_str("showPopover"))
        && let Ok(show) = show.dyn_into::<js_sys::Function>()
    {
        // Throws only if the element cannot be shown (disconnected, a modal dialog's
        // state); the next check tries again.
        let _ = show.call0(host);
    }
}

/// `Glimpse('page', {labels})` (a new page view: targeting is decided again, delays count
/// from now; `labels`, an array or a comma-separated string, replace the page's labels),
/// `Glimpse('mount', {el, site?})` (a story strip in `el`, [`crate::strip`]),
/// `Glimpse('open')`, `Glimpse('open', {story: id})`, `Glimpse('close')`, and for operators
/// `Glimpse('preview', {story: {…}})` (a whole story, validated, shown in the real player
/// without tracking); `{site}` in the argument limits the command to one instance.
/// Commands given before the app's chunk has loaded run, in order, once it has.
pub fn command(name: &str, arg: &JsValue) {
    let get = |k: &str| {
        js_sys::Reflect::get(arg, &JsValue::from_str(k))
            .ok()
            .and_then(|v| v.as_string())
    };
    let command = match name {
        "page" => {
            shell::new_page_view(get("site").as_deref(), page_labels(arg));
            return;
        }
        "mount" => {
            // `Glimpse('mount', {el, site?})`: a story strip in that element.
            match js_sys::Reflect::get(arg, &JsValue::from_str("el"))
                .ok()
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
            {
                Some(el) => {
                    let _ = el.set_attribute(
                        "data-glimpse-stories",
                        get("site").as_deref().unwrap_or(""),
                    );
                    for inst in shell::all() {
                        shell::refresh_strips(&inst);
                    }
                }
                None => crate::warn("mount needs {el: an HTML element}"),
            }
            return;
        }
        "open" => Command::Open(get("story")),
        "close" => Command::Close,
        "preview" => Command::Preview(arg.clone()),
        other => {
            crate::warn(&format!("unknown command \"{other}\""));
            return;
        }
    };
    let only_site = get("site");
    for inst in shell::all()
        .iter()
        .filter(|i| only_site.as_deref().is_none_or(|s| s == i.config.site))
    {
        shell::run(inst.id, command.clone());
    }
}

/// The `labels` of a `Glimpse('page', {labels})` argument: an array of labels or a string
/// of them separated by commas or spaces (what is not a label is dropped); `None` without.
fn page_labels(arg: &JsValue) -> Option<Vec<String>> {
    let labels = js_sys::Reflect::get(arg, &JsValue::from_str("labels")).ok()?;
    if let Some(text) = labels.as_string() {
        return Some(glimpse_shared::targeting::parse_labels(&text));
    }
    // `Array.isArray`, not `instanceof`: an array from another realm (a frame) counts too.
    if !js_sys::Array::is_array(&labels) {
        return None;
    }
    let array: js_sys::Array = labels.unchecked_into();
    Some(
        array
            .iter()
            .filter_map(|l| l.as_string())
            .filter(|l| glimpse_shared::targeting::is_label(l))
            .take(50)
            .collect(),
    )
}

/// Builds the host element, its shadow root with the stylesheet, and returns the host and
/// the element the app renders into.
pub fn create_shadow_container(
    site: &str,
    nonce: Option<&str>,
) -> Result<(web_sys::Element, HtmlElement), JsValue> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsValue::from_str("no document"))?;
    let body = document
        .body()
        .ok_or_else(|| JsValue::from_str("no body"))?;
    let host = document.create_element("glimpse-widget")?;
    host.set_attribute("data-site", site)?;
    style_host(&host);
    if has_popover(&host) {
        host.set_attribute("popover", "manual")?;
    }
    let shadow = host.attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open))?;
    let style = document.create_element("style")?;
    if let Some(n) = nonce {
        style.set_attribute("nonce", n)?;
    }
    style.set_text_content(Some(CSS));
    shadow.append_child(&style)?;
    let container: HtmlElement = document.create_element("div")?.dyn_into()?;
    container.set_class_name("glimpse");
    shadow.append_child(&container)?;
    body.append_child(&host)?;
    show_on_top(&host);
    Ok((host, container))
}
