//! Polls and CSAT: answer once per visitor per poll, delivered through the offline outbox
//! with a fresh idempotency id, then the results if the poll shows them.

use std::time::Duration;

use glimpse_shared::i18n::Text;
use glimpse_shared::outbox::{Outbox, Outcome};
use glimpse_shared::{Answer, Poll, PollKind, PollResponse, PollResults};
use leptos::prelude::*;

use crate::app::ctx;
use crate::browser;
use crate::config::Config;

/// The page-wide localStorage key of undelivered answers ([`glimpse_shared::outbox::Outbox`]).
pub const OUTBOX_KEY: &str = "glimpse:outbox";

fn answers_key(site: &str) -> String {
    format!("glimpse:{site}:answers")
}

/// Tries to deliver every due answer in the outbox, and settles each by the API's answer.
pub fn flush_outbox(api_base: String) {
    let outbox: Outbox = browser::load_json(OUTBOX_KEY).unwrap_or_default();
    let due = outbox.due(browser::local_ms());
    if due.is_empty() {
        return;
    }
    leptos::task::spawn_local(async move {
        for p in due {
            let url = format!("{api_base}/v1/sites/{}/polls/{}/responses", p.site, p.poll);
            let status = crate::api::post_json(&url, &p.response, false).await.ok();
            let outcome = Outcome::of_status(status);
            // Re-read: other instances may have changed the outbox meanwhile.
            let mut outbox: Outbox = browser::load_json(OUTBOX_KEY).unwrap_or_default();
            outbox.settle(&p.response.id, outcome, browser::local_ms());
            browser::save_json(OUTBOX_KEY, &outbox);
            browser::emit(
                "poll_delivery",
                &browser::object(&[
                    ("site", p.site.as_str().into()),
                    ("poll", p.poll.as_str().into()),
                    ("status", status.map_or(0, u32::from).into()),
                ]),
                false,
            );
        }
    });
}

/// Retries the outbox every few seconds and as soon as the browser is back online.
pub fn start_outbox(config: &Config) {
    let api = config.api.clone();
    flush_outbox(api.clone());
    let online_api = api.clone();
    let listener = window_event_listener(leptos::ev::online, move |_| {
        flush_outbox(online_api.clone())
    });
    std::mem::forget(listener);
    let _ = set_interval_with_handle(move || flush_outbox(api.clone()), Duration::from_secs(3));
}

/// How long after an accepted vote the results are fetched: the worker's queue applies
/// votes to the tally in batches that wait at most 1 s (wrangler.toml `max_batch_timeout`).
const RESULTS_AFTER_VOTE: Duration = Duration::from_millis(1_500);

/// One poll: its question, the answer controls, then thanks and results.
#[component]
pub fn PollCard(poll: Poll) -> impl IntoView {
    let ctx = ctx();
    let lang = ctx.lang;
    let config = ctx.config.clone();
    let key = answers_key(&config.site);
    let earlier = browser::load_json::<Vec<(String, Answer)>>(&key)
        .unwrap_or_default()
        .into_iter()
        .find(|(id, _)| *id == poll.id)
        .map(|(_, a)| a);
    let answered = RwSignal::new(earlier);
    let queued = RwSignal::new(false);
    let results = RwSignal::new(None::<PollResults>);
    let poll = StoredValue::new(poll);
    let results_url = poll.with_value(|p| config.site_url(&format!("polls/{}/results", p.id)));
    let show_results = poll.with_value(|p| p.show_results);
    let load_results = move || {
        if show_results {
            let url = results_url.clone();
            leptos::task::spawn_local(async move {
                if let Ok(r) = crate::api::fetch_results(&url).await {
                    results.set(Some(r));
                }
            });
        }
    };
    if answered.get_untracked().is_some() {
        load_results();
    }
    let visitor = ctx.visitor.clone();
    let submit = {
        let load_results = load_results.clone();
        move |answer: Answer| {
            let poll_id = poll.with_value(|p| p.id.clone());
            let response = PollResponse {
                id: browser::random_token(),
                visitor: visitor.clone(),
                answer: answer.clone(),
            };
            let mut saved: Vec<(String, Answer)> = browser::load_json(&key).unwrap_or_default();
            saved.retain(|(id, _)| *id != poll_id);
            saved.push((poll_id.clone(), answer.clone()));
            browser::save_json(&key, &saved);
            answered.set(Some(answer));
            let mut outbox: Outbox = browser::load_json(OUTBOX_KEY).unwrap_or_default();
            outbox.push(
                &config.site,
                &poll_id,
                response.clone(),
                browser::local_ms(),
            );
            browser::save_json(OUTBOX_KEY, &outbox);
            browser::emit(
                "vote",
                &browser::object(&[
                    ("site", config.site.as_str().into()),
                    ("poll", poll_id.as_str().into()),
                ]),
                config.datalayer,
            );
            let url = config.site_url(&format!("polls/{poll_id}/responses"));
            let load_results = load_results.clone();
            leptos::task::spawn_local(async move {
                let status = crate::api::post_json(&url, &response, false).await.ok();
                let outcome = Outcome::of_status(status);
                let mut outbox: Outbox = browser::load_json(OUTBOX_KEY).unwrap_or_default();
                outbox.settle(&response.id, outcome, browser::local_ms());
                browser::save_json(OUTBOX_KEY, &outbox);
                queued.set(outcome == Outcome::Retry);
                if outcome == Outcome::Accepted {
                    // Votes reach the tally through the ingestion queue (about a second):
                    // ask once it has had time to count this one.
                    set_timeout(load_results, RESULTS_AFTER_VOTE);
                }
            });
        }
    };
    let controls = move || {
        let submit = submit.clone();
        let kind = poll.with_value(|p| p.kind.clone());
        match kind {
            PollKind::Choice { options } => options
                .into_iter()
                .enumerate()
                .map(|(i, label)| {
                    let submit = submit.clone();
                    view! {
                        <button class="pill option" data-testid="glimpse-poll-option" on:click=move |_| submit(Answer::Choice(u8::try_from(i).unwrap_or(0)))>
                            {label}
                        </button>
                    }
                })
                .collect_view()
                .into_any(),
            PollKind::Rating => (1u8..=5)
                .map(|r| {
                    let submit = submit.clone();
                    view! {
                        <button
                            class="face"
                            data-testid="glimpse-poll-rating"
                            aria-label=format!("{r} / 5")
                            on:click=move |_| submit(Answer::Rating(r))
                        >
                            {r} "★"
                        </button>
                    }
                })
                .collect_view()
                .into_any(),
            PollKind::Text { max_chars } => {
                let text = RwSignal::new(String::new());
                view! {
                    <form class="text-answer" on:submit=move |ev| {
                        ev.prevent_default();
                        let t = text.get_untracked();
                        if !t.trim().is_empty() {
                            submit(Answer::Text(t));
                        }
                    }>
                        <input
                            type="text"
                            maxlength=max_chars.to_string()
                            aria-label=poll.with_value(|p| p.question.clone())
                            data-testid="glimpse-poll-text"
                            on:input=move |ev| text.set(event_target_value(&ev))
                        />
                        <button class="pill" type="submit">{lang.t(Text::Send)}</button>
                    </form>
                }
                .into_any()
            }
        }
    };
    let result_rows = move || {
        results.get().map(|r| {
            let labels: Vec<String> = poll.with_value(|p| match &p.kind {
                PollKind::Choice { options } => options.clone(),
                PollKind::Rating => (1..=5).map(|s| format!("{s} ★")).collect(),
                PollKind::Text { .. } => Vec::new(),
            });
            let total = r.total.max(1);
            let rows = labels
                .into_iter()
                .zip(r.counts.iter().copied())
                .map(|(label, count)| {
                    let pct = count * 100 / total;
                    view! {
                        <li>
                            <span class="label">{label}</span>
                            <span class="meter"><span style:width=format!("{pct}%")></span></span>
                            <span class="pct">{format!("{pct}%")}</span>
                        </li>
                    }
                })
                .collect_view();
            view! {
                <div class="results" data-testid="glimpse-poll-results">
                    <p>{lang.t(Text::Results)} " (" {r.total} ")"</p>
                    <ul>{rows}</ul>
                </div>
            }
        })
    };
    let question = poll.with_value(|p| p.question.clone());
    let poll_id = poll.with_value(|p| p.id.clone());
    view! {
        <section class="poll" data-testid="glimpse-poll" data-poll=poll_id aria-label=question.clone()>
            <p class="question">{question.clone()}</p>
            <Show when=move || answered.get().is_none() fallback=move || view! {
                <p role="status" data-testid="glimpse-poll-thanks">
                    {move || if queued.get() { lang.t(Text::Queued) } else { lang.t(Text::Thanks) }}
                </p>
                {result_rows}
            }>
                <div class="answers">{controls.clone()}</div>
            </Show>
        </section>
    }
}
