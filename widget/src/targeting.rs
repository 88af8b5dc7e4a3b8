//! Targeting in the widget: which of the feed's stories, polls and sessions this page view
//! shows ([`glimpse_shared::targeting`], pure and tested natively), and what this visitor
//! was shown for frequency caps. Its own wasm chunk, fetched only when the feed has
//! targeting rules: a feed without any shows everything, and its visitors never download
//! the URL patterns' code ([`crate::shell`] decides that much itself).

use std::cell::RefCell;
use std::rc::Rc;

use glimpse_shared::feed::{FeedSummary, Targeted, Visible};
use glimpse_shared::targeting::{Device, Frequency, Page, ShownLog, Targeting};
use wasm_bindgen::JsValue;

use crate::browser;
use crate::shell::{self, Instance};

/// What the `targeting` chunk is asked to do.
#[derive(Debug)]
pub enum Job {
    /// Decide what instance `id`'s page view shows now.
    Decide(usize),
    /// Record that item `id` was shown on `site`'s widget (once per page view).
    Record { site: String, id: String },
}

crate::chunk! {
    /// Runs `job` in the `targeting` chunk (fetched the first time): what the page view
    /// shows for [`Job::Decide`] (`None` before the feed has loaded), `None` for
    /// [`Job::Record`].
    pub fn run(job: Job) -> Option<Visible>;
        chunk targeting, preload preload_targeting, body run_body;
    {
        match job {
            Job::Decide(id) => decide(id),
            Job::Record { site, id } => {
                record(&site, &id);
                None
            }
        }
    }
}

thread_local! {
    /// Feeds (by their text) with their items' targeting read: one per site on the page.
    static RULES: RefCell<Vec<(Rc<str>, Rc<FeedSummary>)>> = const { RefCell::new(Vec::new()) };
}

/// The instance's feed summary with every item's targeting, read once per feed.
fn rules(inst: &Instance) -> Option<Rc<FeedSummary>> {
    let text = shell::feed_text(inst)?;
    if let Some(hit) = RULES.with(|r| {
        r.borrow()
            .iter()
            .find(|(t, _)| Rc::ptr_eq(t, &text))
            .map(|(_, s)| s.clone())
    }) {
        return Some(hit);
    }
    let json = crate::pristine::json_parse(&text)?;
    let mut summary = shell::summary(inst)?;
    let read = |list: &str| -> Vec<Targeted> {
        let Some(array) = shell::field(&json, list) else {
            return Vec::new();
        };
        (0..shell::length(&array) as u32)
            .filter_map(|i| {
                let item = js_sys::Reflect::get_u32(&array, i).ok()?;
                Some(Targeted {
                    id: shell::field(&item, "id")?.as_string()?,
                    targeting: shell::field(&item, "targeting")
                        .map(|t| targeting_of(&t))
                        .unwrap_or_default(),
                })
            })
            .collect()
    };
    summary.stories = read("stories");
    summary.polls = read("polls");
    summary.sessions = read("sessions");
    let summary = Rc::new(summary);
    RULES.with(|r| {
        let mut r = r.borrow_mut();
        r.retain(|(t, _)| {
            shell::all()
                .iter()
                .any(|i| shell::feed_text(i).is_some_and(|f| Rc::ptr_eq(&f, t)))
        });
        r.push((text, summary.clone()));
    });
    Some(summary)
}

/// A feed item's `targeting` object, read field by field (what is malformed is left out:
/// the worker validated it).
fn targeting_of(t: &JsValue) -> Targeting {
    let list = |key: &str| -> Vec<String> {
        shell::field(t, key).map_or_else(Vec::new, |a| shell::strings(&a, None).collect())
    };
    let number = |of: &JsValue, key: &str| shell::field(of, key).and_then(|n| n.as_f64());
    Targeting {
        pages: list("pages"),
        exclude_pages: list("exclude_pages"),
        labels: list("labels"),
        exclude_labels: list("exclude_labels"),
        delay_seconds: number(t, "delay_seconds").map_or(0, |n| n as u32),
        frequency: shell::field(t, "frequency").and_then(|f| {
            Some(Frequency {
                times: number(&f, "times")? as u32,
                per_hours: number(&f, "per_hours").map(|n| n as u32),
            })
        }),
        devices: list("devices")
            .iter()
            .filter_map(|d| Device::parse(d))
            .collect(),
    }
}

/// This browser's device class, decided once per page.
fn device() -> Device {
    thread_local! {
        static DEVICE: std::cell::OnceCell<Device> = const { std::cell::OnceCell::new() };
    }
    DEVICE.with(|d| {
        *d.get_or_init(|| {
            let Some(w) = web_sys::window() else {
                return Device::Desktop;
            };
            let coarse = w
                .match_media("(pointer: coarse)")
                .ok()
                .flatten()
                .is_some_and(|m| m.matches());
            let short = w.screen().ok().map_or(1_024.0, |s| {
                let (a, b) = (s.width().unwrap_or(1_024), s.height().unwrap_or(768));
                f64::from(a.min(b))
            });
            Device::classify(short, coarse)
        })
    })
}

/// What instance `id`'s page view shows now.
fn decide(id: usize) -> Option<Visible> {
    let inst = shell::get(id)?;
    let summary = rules(&inst)?;
    let location = web_sys::window()?.location();
    let (origin, path, query) = (
        location.origin().unwrap_or_default(),
        location.pathname().unwrap_or_default(),
        location.search().unwrap_or_default(),
    );
    let (labels, since) = shell::page_view(&inst);
    let log = ShownLog::parse(&browser::load(&shown_key(&inst.config.site)).unwrap_or_default());
    let page = Page {
        origin: &origin,
        path: &path,
        query: &query,
        labels: &labels,
        device: device(),
        since,
    };
    Some(summary.visible(&page, |id| log.of(id), browser::now_ms()))
}

/// The localStorage key of what this visitor was shown on `site` ([`ShownLog`]).
fn shown_key(site: &str) -> String {
    format!("glimpse:{site}:shown")
}

/// Records that item `id` was shown on `site`'s widget, once per page view, if its
/// targeting caps how often.
fn record(site: &str, id: &str) {
    let Some(inst) = shell::all().into_iter().find(|i| i.config.site == site) else {
        return;
    };
    let Some(summary) = rules(&inst) else {
        return;
    };
    let Some(targeting) = summary.item(id).map(|t| &t.targeting) else {
        return;
    };
    if targeting.frequency.is_none() {
        return;
    }
    let (_, since) = shell::page_view(&inst);
    let key = shown_key(site);
    let mut log = ShownLog::parse(&browser::load(&key).unwrap_or_default());
    if log.of(id).iter().any(|&t| t >= since) {
        return;
    }
    if log.record(id, browser::now_ms(), targeting) {
        browser::save(&key, &log.encode());
    }
}
