//! Widget events for operators (batched to `POST /v1/sites/{site}/events`) and for the host
//! page (`glimpse:<name>` CustomEvents, optional `dataLayer`).

use std::cell::RefCell;

use glimpse_shared::{Event, EventBatch, EventKind};
use wasm_bindgen::JsValue;

use crate::browser;
use crate::config::Config;

/// Events not yet sent: (events URL, visitor, event).
type Queue = Vec<(String, String, Event)>;

thread_local! {
    static QUEUE: RefCell<Queue> = const { RefCell::new(Vec::new()) };
}

/// The host-page event name for an event kind.
fn host_name(kind: &EventKind) -> &'static str {
    match kind {
        EventKind::StoryView { .. } => "story_view",
        EventKind::SlideView { .. } => "slide_view",
        EventKind::StoryComplete { .. } => "story_complete",
        EventKind::CtaClick { .. } => "cta_click",
        EventKind::Helpful { .. } => "helpful",
        EventKind::NotHelpful { .. } => "not_helpful",
        EventKind::Escalation { .. } => "escalation",
        EventKind::BannerJoin { .. } => "banner_join",
    }
}

/// Records an event: queued for the API, and announced to the host page at once.
pub fn track(config: &Config, visitor: &str, kind: EventKind) {
    let detail = match serde_json::to_value(&kind) {
        Ok(v) => {
            let v = browser::js_of_json(&v);
            let _ = js_sys::Reflect::set(
                &v,
                &JsValue::from_str("site"),
                &JsValue::from_str(&config.site),
            );
            v
        }
        Err(_) => browser::object(&[("site", JsValue::from_str(&config.site))]),
    };
    browser::emit(host_name(&kind), &detail, config.datalayer);
    let event = Event {
        kind,
        at: Some(browser::local_ms()),
    };
    QUEUE.with(|q| {
        q.borrow_mut()
            .push((config.site_url("events"), visitor.to_string(), event))
    });
}

/// Sends everything queued, in batches of at most 50 per site and visitor.
pub fn flush(keepalive: bool) {
    let queued = QUEUE.with(|q| std::mem::take(&mut *q.borrow_mut()));
    let mut batches: Vec<(String, EventBatch)> = Vec::new();
    for (url, visitor, event) in queued {
        match batches.iter_mut().find(|(u, b)| {
            *u == url && b.visitor == visitor && b.events.len() < EventBatch::EVENTS_MAX
        }) {
            Some((_, b)) => b.events.push(event),
            None => batches.push((
                url,
                EventBatch {
                    id: browser::random_token(),
                    visitor,
                    events: vec![event],
                },
            )),
        }
    }
    for (url, batch) in batches {
        leptos::task::spawn_local(async move {
            // Analytics are best effort: a lost batch is not worth retrying forever.
            let _ = crate::api::post_json(&url, &batch, keepalive).await;
        });
    }
}
