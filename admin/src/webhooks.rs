//! The webhooks page (owners): the chosen site's receivers, a form to add one (its signing
//! secret shown once, with a copy button), "Send test", deleting, and each receiver's
//! delivery log (every attempt, its answer, and when it is tried again).
//!
//! Which attempt still waits for a retry, and how a log row reads, are plain functions
//! ([`lines`]), tested natively.

use std::time::Duration;

use glimpse_shared::Millis;
use glimpse_shared::webhook::{EventType, Format, MAX_ATTEMPTS, NewWebhook, Webhook, delivered};
use leptos::prelude::*;
use serde::Deserialize;

use crate::api::{self, Failure};
use crate::app::console;
use crate::time::{now, show};

/// One attempt in a hook's delivery log (`GET …/webhooks/{id}/deliveries`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Delivery {
    /// The event's type (`question.created`, …, `test`).
    pub event: String,
    /// The event's id: the same on every attempt.
    pub event_id: String,
    /// 1 to [`MAX_ATTEMPTS`].
    pub attempt: u32,
    pub at: Millis,
    /// The receiver's HTTP status; 0 when it did not answer.
    pub status: u16,
    #[serde(default)]
    pub error: Option<String>,
    /// When it will be tried again, if it will.
    #[serde(default)]
    pub retry_at: Option<Millis>,
}

/// A page of the delivery log, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Deliveries {
    pub deliveries: Vec<Delivery>,
    /// The `before` of the next (older) page.
    #[serde(default)]
    pub next: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Hooks {
    webhooks: Vec<Webhook>,
}

/// A hook just made, with its secret (shown this once).
#[derive(Debug, Deserialize)]
struct Created {
    #[serde(flatten)]
    hook: Webhook,
    secret: String,
}

/// What comes of a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Delivered (or nothing more will happen).
    Nothing,
    /// Tried again at this time.
    At(Millis),
    /// Its time has come: the queue is about to try again.
    Due,
    /// A later attempt of the same event is in the log.
    Retried,
    /// The last attempt failed: the event is dropped.
    GaveUp,
}

/// One row of the log as the table shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub delivery: Delivery,
    /// Whether the receiver took it (any 2xx).
    pub ok: bool,
    /// The status as a person reads it: `204`, or `no answer`.
    pub status: String,
    pub retry: Retry,
}

/// A receiver's status as the log shows it.
pub fn status_text(status: u16) -> String {
    if status == 0 {
        "no answer".into()
    } else {
        status.to_string()
    }
}

/// The log's rows at `now_ms`: each attempt with what comes of it, knowing the other
/// attempts of its event that the log shows.
pub fn lines(log: &[Delivery], now_ms: Millis) -> Vec<Line> {
    log.iter()
        .map(|d| {
            let ok = delivered(d.status);
            let later = log
                .iter()
                .any(|o| o.event_id == d.event_id && o.attempt > d.attempt);
            let retry = match (ok, d.retry_at) {
                (true, _) => Retry::Nothing,
                (false, _) if later => Retry::Retried,
                (false, Some(at)) if at > now_ms => Retry::At(at),
                (false, Some(_)) => Retry::Due,
                (false, None) if d.attempt >= MAX_ATTEMPTS => Retry::GaveUp,
                (false, None) => Retry::Nothing,
            };
            Line {
                delivery: d.clone(),
                ok,
                status: status_text(d.status),
                retry,
            }
        })
        .collect()
}

/// The events ticked, in the order the form lists them, each once.
pub fn chosen_events(ticked: &[EventType]) -> Vec<EventType> {
    EventType::SUBSCRIBABLE
        .into_iter()
        .filter(|e| ticked.contains(e))
        .collect()
}

/// A format's value in the form (and the API).
pub fn format_value(f: Format) -> &'static str {
    match f {
        Format::Json => "json",
        Format::Slack => "slack",
    }
}

/// The format a form value names (JSON unless `slack`).
pub fn format_of(value: &str) -> Format {
    if value == "slack" {
        Format::Slack
    } else {
        Format::Json
    }
}

/// A hook's event types as the list shows them.
fn event_label(e: EventType) -> &'static str {
    e.label()
}

/// The webhooks page.
#[component]
pub fn WebhooksPage() -> impl IntoView {
    let c = console();
    let hooks = RwSignal::new(None::<Vec<Webhook>>);
    let error = RwSignal::new(None::<String>);
    let secret = RwSignal::new(None::<(String, String)>);
    // Bumped by "Refresh": every log is read again too.
    let refresh = RwSignal::new(0_u32);
    let load = move || {
        let path = c.path("/webhooks");
        leptos::task::spawn_local(async move {
            match api::get::<Hooks>(&path).await {
                Ok(h) => {
                    error.set(None);
                    hooks.set(Some(h.webhooks));
                }
                Err(f) => error.set(Some(c.explain(&f))),
            }
        });
    };
    load();

    // A new hook.
    let url = RwSignal::new(String::new());
    let ticked = RwSignal::new(Vec::<EventType>::new());
    let format = RwSignal::new(Format::Json);
    let failure = RwSignal::new(None::<Failure>);
    let busy = RwSignal::new(false);
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let body = NewWebhook {
            url: url.get_untracked().trim().to_string(),
            events: chosen_events(&ticked.get_untracked()),
            format: format.get_untracked(),
        };
        let path = c.path("/webhooks");
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::call::<Created>("POST", &path, Some(&body)).await {
                Ok(made) => {
                    failure.set(None);
                    secret.set(Some((made.hook.url.clone(), made.secret)));
                    hooks.update(|h| h.get_or_insert_with(Vec::new).push(made.hook));
                    url.set(String::new());
                    ticked.set(Vec::new());
                    format.set(Format::Json);
                }
                Err(f) => {
                    let _ = c.fail(&f);
                    failure.set(Some(f));
                }
            }
            busy.set(false);
        });
    };
    let invalid = move |field: &'static str| {
        move || {
            failure
                .with(|f| f.as_ref().is_some_and(|f| f.names(field)))
                .then_some("true")
        }
    };
    let on_deleted = Callback::new(move |id: String| {
        hooks.update(|h| {
            if let Some(h) = h {
                h.retain(|x| x.id != id);
            }
        });
    });
    let event_boxes = EventType::SUBSCRIBABLE
        .into_iter()
        .map(|e| {
            view! {
                <label class="check">
                    <input
                        type="checkbox"
                        data-testid=format!("webhook-event-{}", e.as_str())
                        prop:checked=move || ticked.with(|t| t.contains(&e))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            ticked.update(|t| {
                                t.retain(|x| *x != e);
                                if on {
                                    t.push(e);
                                }
                            });
                        }
                    />
                    " "{event_label(e)}" "<code class="sub">{e.as_str()}</code>
                </label>
            }
        })
        .collect_view();
    let items = move || hooks.get().unwrap_or_default();
    view! {
        <div class="bar">
            <h1>"Webhooks"</h1>
            <button data-testid="webhooks-refresh" on:click=move |_| {
                load();
                refresh.update(|n| *n = n.wrapping_add(1));
            }>"Refresh"</button>
        </div>
        <p class="sub">
            "Tell another system (a helpdesk, Slack, your own service) when something happens on this site. "
            "Each delivery is a POST signed with the webhook's secret: "
            <code>"Glimpse-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of \"t.body\">"</code>
            "; an answer other than 2xx, or none within 10 s, is tried again after 10 s, 1 min, 5 min, 30 min and 2 h."
        </p>
        <Show when=move || error.get().is_some()>
            <p class="error" role="alert" data-testid="webhooks-error">{move || error.get()}</p>
        </Show>
        <SecretOnce secret=secret/>
        <section data-testid="webhooks" aria-labelledby="webhooks-title">
            <h2 id="webhooks-title">"This site's webhooks"</h2>
            <Show when=move || hooks.with(|h| h.as_ref().is_some_and(Vec::is_empty))>
                <p class="sub" data-testid="webhooks-empty">"No webhooks yet."</p>
            </Show>
            <ul class="hooks">
                <For
                    each=items
                    key=|h: &Webhook| h.id.clone()
                    children=move |hook: Webhook| view! { <HookCard hook=hook refresh=refresh.read_only() on_deleted=on_deleted/> }
                />
            </ul>
        </section>
        <section class="panel" aria-labelledby="add-webhook-title">
            <h2 id="add-webhook-title">"Add a webhook"</h2>
            <form on:submit=add novalidate data-testid="add-webhook-form">
                <label class="field">
                    <span>"Receiver URL (https)"</span>
                    <input type="url" data-testid="webhook-url" placeholder="https://hooks.example.com/glimpse"
                        bind:value=url aria-invalid=invalid("url")/>
                </label>
                <fieldset class="field events">
                    <legend>"Events"</legend>
                    {event_boxes}
                </fieldset>
                <label class="field">
                    <span>"Format"</span>
                    <select data-testid="webhook-format" aria-invalid=invalid("format")
                        prop:value=move || format_value(format.get())
                        on:change=move |ev| format.set(format_of(&event_target_value(&ev)))>
                        <option value="json">"JSON: the signed event"</option>
                        <option value="slack">"Slack: a message for an incoming webhook"</option>
                    </select>
                </label>
                <Show when=move || failure.get().is_some()>
                    <div class="error" role="alert" data-testid="webhook-error">
                        <p>{move || failure.get().map(|f| f.message)}</p>
                        <ul>
                            {move || failure.get().map(|f| if f.problems.len() > 1 {
                                f.problems.into_iter().map(|p| view! { <li><code>{p.field}</code>" "{p.message}</li> }).collect_view().into_any()
                            } else {
                                ().into_any()
                            })}
                        </ul>
                    </div>
                </Show>
                <button class="primary" type="submit" data-testid="add-webhook"
                    disabled=move || busy.get() || url.with(|u| u.trim().is_empty()) || ticked.with(Vec::is_empty)>
                    "Add webhook"
                </button>
            </form>
        </section>
    }
}

/// The secret of the hook just made, shown once with a copy button.
#[component]
fn SecretOnce(
    /// The hook's URL and its secret.
    secret: RwSignal<Option<(String, String)>>,
) -> impl IntoView {
    move || {
        secret.get().map(|(url, value)| {
            let copied = RwSignal::new(None::<String>);
            let shown = value.clone();
            let copy = move |_| {
                let value = value.clone();
                leptos::task::spawn_local(async move {
                    copied.set(Some(match api::copy(&value).await {
                        Ok(()) => "Copied.".into(),
                        Err(e) => e,
                    }));
                });
            };
            view! {
                <div class="notice" role="status" data-testid="webhook-secret-box">
                    <p>{format!("The signing secret for {url} — shown this once: copy it into the receiver now, to check each delivery's Glimpse-Signature.")}</p>
                    <code data-testid="webhook-secret">{shown}</code>
                    " "<button type="button" data-testid="webhook-secret-copy" on:click=copy>"Copy"</button>
                    " "<button type="button" class="link" data-testid="webhook-secret-done" on:click=move |_| secret.set(None)>"Done"</button>
                    " "<span class="sub">{move || copied.get()}</span>
                </div>
            }
        })
    }
}

/// One webhook: what it gets, "Send test", delete, and its delivery log.
#[component]
fn HookCard(
    hook: Webhook,
    /// Bumped by the page's "Refresh".
    refresh: ReadSignal<u32>,
    /// Called with the hook's id once it is deleted.
    on_deleted: Callback<String>,
) -> impl IntoView {
    let c = console();
    let id = StoredValue::new(hook.id.clone());
    let note = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let confirming = RwSignal::new(false);
    let busy = RwSignal::new(false);
    // Bumped to read the log again (after a test).
    let bump = RwSignal::new(0_u32);
    let send_test = move |_| {
        let Some(id) = id.try_get_value() else {
            return;
        };
        let path = c.path(&format!("/webhooks/{id}/test"));
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::call::<serde_json::Value>("POST", &path, None::<&()>).await {
                Ok(_) => {
                    error.set(None);
                    note.set(Some(
                        "Test event queued: its delivery shows in the log below within seconds."
                            .into(),
                    ));
                    // The queue delivers it shortly: look twice.
                    for wait in [3, 10] {
                        set_timeout(
                            move || bump.update(|n| *n = n.wrapping_add(1)),
                            Duration::from_secs(wait),
                        );
                    }
                }
                Err(f) => error.set(Some(c.explain(&f))),
            }
            busy.set(false);
        });
    };
    let delete = move |_| {
        let Some(id) = id.try_get_value() else {
            return;
        };
        let path = c.path(&format!("/webhooks/{id}"));
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::call::<serde_json::Value>("DELETE", &path, None::<&()>).await {
                Ok(_) => on_deleted.run(id),
                Err(f) => {
                    error.set(Some(c.explain(&f)));
                    confirming.set(false);
                    busy.set(false);
                }
            }
        });
    };
    let Webhook {
        id: hid,
        url,
        events,
        format,
        created_at,
        ..
    } = hook;
    let events = events
        .iter()
        .map(|e| view! { <li class="badge" title=e.as_str()>{event_label(*e)}</li> })
        .collect_view();
    let format = match format {
        Format::Json => "JSON",
        Format::Slack => "Slack",
    };
    view! {
        <li class="hook panel" data-testid=format!("webhook-{hid}")>
            <div class="bar">
                <h3 class="url"><code>{url}</code></h3>
                <span class="badge">{format}</span>
            </div>
            <ul class="events" aria-label="Events">{events}</ul>
            <p class="sub">{format!("Added {}", show(created_at))}</p>
            <div class="row">
                <button type="button" data-testid=format!("webhook-test-{hid}") disabled=move || busy.get()
                    on:click=send_test>"Send test"</button>
                <Show
                    when=move || confirming.get()
                    fallback=move || view! {
                        <button type="button" class="link danger" data-testid=format!("webhook-delete-{}", id.try_get_value().unwrap_or_default())
                            on:click=move |_| confirming.set(true)>"Delete…"</button>
                    }
                >
                    <span role="group" aria-label="Delete this webhook?">
                        <span class="danger">"Delete it and its delivery log? "</span>
                        <button type="button" class="danger" disabled=move || busy.get()
                            data-testid=format!("webhook-delete-confirm-{}", id.try_get_value().unwrap_or_default())
                            on:click=delete>"Delete"</button>
                        " "<button type="button" class="link" on:click=move |_| confirming.set(false)>"Keep"</button>
                    </span>
                </Show>
            </div>
            <Show when=move || note.get().is_some()>
                <p class="sub" role="status" data-testid="webhook-note">{move || note.get()}</p>
            </Show>
            <Show when=move || error.get().is_some()>
                <p class="error" role="alert">{move || error.get()}</p>
            </Show>
            <DeliveryLog hook=hid.clone() refresh=refresh bump=bump.read_only()/>
        </li>
    }
}

/// A hook's delivery log, newest first, 50 at a time.
#[component]
fn DeliveryLog(
    /// The hook's id.
    hook: String,
    /// Bumped by the page's "Refresh".
    refresh: ReadSignal<u32>,
    /// Bumped by the card (after a test).
    bump: ReadSignal<u32>,
) -> impl IntoView {
    let c = console();
    let id = StoredValue::new(hook.clone());
    let log = RwSignal::new(None::<Vec<Delivery>>);
    let next = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let load = move |before: Option<String>| {
        let Some(id) = id.try_get_value() else {
            return;
        };
        let mut path = c.path(&format!("/webhooks/{id}/deliveries"));
        if let Some(b) = &before {
            path.push_str(&format!(
                "?before={}",
                String::from(js_sys::encode_uri_component(b))
            ));
        }
        leptos::task::spawn_local(async move {
            match api::get::<Deliveries>(&path).await {
                Ok(page) => {
                    error.set(None);
                    next.set(page.next);
                    if before.is_some() {
                        log.update(|l| l.get_or_insert_with(Vec::new).extend(page.deliveries));
                    } else {
                        log.set(Some(page.deliveries));
                    }
                }
                Err(f) => error.set(Some(c.explain(&f))),
            }
        });
    };
    Effect::new(move |_| {
        refresh.track();
        bump.track();
        load(None);
    });
    let retry_text = |r: Retry, attempt: u32| match r {
        Retry::Nothing => "—".to_string(),
        Retry::At(at) => format!("attempt {} at {}", attempt + 1, show(at)),
        Retry::Due => format!("attempt {} due now", attempt + 1),
        Retry::Retried => "tried again (above)".to_string(),
        Retry::GaveUp => format!("gave up after {MAX_ATTEMPTS} attempts"),
    };
    let rows = move || {
        log.with(|l| lines(l.as_deref().unwrap_or_default(), now()))
            .into_iter()
            .map(|line| {
                let d = line.delivery;
                view! {
                    <tr data-testid="delivery-row" class:failed=!line.ok>
                        <td>{show(d.at)}</td>
                        <td><code>{d.event}</code></td>
                        <td>{format!("{} of {MAX_ATTEMPTS}", d.attempt)}</td>
                        <td><span class="badge" class:ok=line.ok class:bad=!line.ok data-testid="delivery-status">{line.status}</span></td>
                        <td class="error-text">{d.error.unwrap_or_default()}</td>
                        <td>{retry_text(line.retry, d.attempt)}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <div class="delivery-log" data-testid=format!("webhook-log-{hook}")>
            <div class="bar">
                <h4>"Delivery log"</h4>
                <button type="button" data-testid=format!("webhook-log-refresh-{hook}") on:click=move |_| load(None)>"Refresh"</button>
            </div>
            <Show when=move || error.get().is_some()>
                <p class="error" role="alert">{move || error.get()}</p>
            </Show>
            <Show
                when=move || log.with(|l| l.as_ref().is_some_and(|l| !l.is_empty()))
                fallback=move || view! {
                    <p class="sub">{move || if log.with(Option::is_some) { "Nothing delivered yet: try “Send test”." } else { "Loading…" }}</p>
                }
            >
                <div class="scroll">
                    <table class="list deliveries">
                        <thead><tr>
                            <th scope="col">"When"</th><th scope="col">"Event"</th><th scope="col">"Attempt"</th>
                            <th scope="col">"Status"</th><th scope="col">"Error"</th><th scope="col">"Next retry"</th>
                        </tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            </Show>
            <Show when=move || next.get().is_some()>
                <button type="button" data-testid=format!("webhook-log-more-{}", id.try_get_value().unwrap_or_default())
                    on:click=move |_| load(next.get_untracked())>"Show older attempts"</button>
            </Show>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(event_id: &str, attempt: u32, status: u16, retry_at: Option<Millis>) -> Delivery {
        Delivery {
            event: "question.created".into(),
            event_id: event_id.into(),
            attempt,
            at: 1_000 * Millis::from(attempt),
            status,
            error: (!delivered(status)).then(|| "answered 500".into()),
            retry_at,
        }
    }

    #[test]
    fn each_attempt_says_what_comes_of_it() {
        let log = vec![
            // Newest first, as the API lists them.
            d("e2", 1, 0, Some(50_000)),
            d("e1", 3, 204, None),
            d("e1", 2, 500, Some(9_000)),
            d("e1", 1, 500, Some(2_000)),
            d("e3", MAX_ATTEMPTS, 503, None),
            d("e4", 1, 500, Some(20_000)),
        ];
        let got: Vec<(bool, String, Retry)> = lines(&log, 30_000)
            .into_iter()
            .map(|l| (l.ok, l.status, l.retry))
            .collect();
        assert_eq!(
            got,
            [
                (false, "no answer".to_string(), Retry::At(50_000)),
                (true, "204".to_string(), Retry::Nothing),
                (false, "500".to_string(), Retry::Retried),
                (false, "500".to_string(), Retry::Retried),
                (false, "503".to_string(), Retry::GaveUp),
                (false, "500".to_string(), Retry::Due),
            ]
        );
    }

    #[test]
    fn log_pages_decode_with_or_without_a_next_page() {
        let page: Deliveries = serde_json::from_str(
            r#"{"deliveries":[{"event":"test","event_id":"e","attempt":1,"at":5,"status":0,"error":"timeout","retry_at":10005}],"next":"42"}"#,
        )
        .unwrap_or_default();
        assert_eq!(page.next.as_deref(), Some("42"));
        assert_eq!(page.deliveries.len(), 1);
        assert_eq!(page.deliveries[0].error.as_deref(), Some("timeout"));
        let last: Deliveries =
            serde_json::from_str(r#"{"deliveries":[],"next":null}"#).unwrap_or_default();
        assert_eq!(last, Deliveries::default());
    }

    #[test]
    fn the_form_sends_events_in_its_own_order_once() {
        let picked = [
            EventType::StoryExpiring,
            EventType::QuestionCreated,
            EventType::StoryExpiring,
        ];
        assert_eq!(
            chosen_events(&picked),
            [EventType::QuestionCreated, EventType::StoryExpiring]
        );
        assert!(chosen_events(&[EventType::Test]).is_empty());
        assert_eq!(format_of(format_value(Format::Slack)), Format::Slack);
        assert_eq!(format_of("anything"), Format::Json);
    }

    #[test]
    fn a_new_hook_answer_carries_its_secret() {
        let made: Option<Created> = serde_json::from_str(
            r#"{"id":"h1","url":"https://x.example/h","events":["question.created"],"format":"slack","created_at":1,"created_by":"op","secret":"whsec_abc"}"#,
        )
        .ok();
        let made = made.map(|m| (m.hook.id, m.hook.format, m.secret));
        assert_eq!(made, Some(("h1".into(), Format::Slack, "whsec_abc".into())));
    }
}
