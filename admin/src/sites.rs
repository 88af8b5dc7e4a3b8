//! Deleting the chosen site: everything stored under it goes. The operator must type the
//! site's id to confirm; the console repeats `DELETE /v1/admin/sites/{site}` while the API
//! answers 202 (more keys remain) until it answers 204.

use leptos::prelude::*;
use serde_json::Value;

use crate::api;
use crate::app::console;

/// Most requests one deletion makes (each deletes up to 900 keys).
const ROUNDS_MAX: usize = 200;

thread_local! {
    /// The outcome of a finished deletion: the page is rebuilt for the next site, so the new
    /// component shows it.
    static DONE: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

#[component]
pub fn DeleteSite() -> impl IntoView {
    let c = console();
    let typed = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let message = RwSignal::new(DONE.with(|d| d.borrow_mut().take()));
    let matches = move || {
        let site = c.site.get();
        !site.is_empty() && typed.with(|t| t.trim() == site)
    };
    let delete = move |_| {
        let site = c.site.get_untracked();
        if busy.get_untracked() || typed.get_untracked().trim() != site {
            return;
        }
        busy.set(true);
        message.set(Some(format!("Deleting {site}…")));
        leptos::task::spawn_local(async move {
            let path = api::site_path(&site, "");
            let mut deleted = 0;
            let mut done = false;
            for _ in 0..ROUNDS_MAX {
                match api::call::<Value>("DELETE", &path, None::<&()>).await {
                    Ok(Value::Null) => {
                        done = true;
                        break;
                    }
                    Ok(v) => {
                        deleted += v["deleted"].as_u64().unwrap_or(0);
                        message.set(Some(format!("Deleting {site}… {deleted} entries so far")));
                    }
                    Err(f) => {
                        message.set(Some(c.fail(&f)));
                        break;
                    }
                }
            }
            busy.set(false);
            if done {
                typed.set(String::new());
                let done = format!("Site {site} and everything stored under it were deleted.");
                message.set(Some(done.clone()));
                DONE.with(|d| *d.borrow_mut() = Some(done));
                let rest: Vec<_> = c
                    .sites
                    .get_untracked()
                    .into_iter()
                    .filter(|s| s.id != site)
                    .collect();
                let next = rest.first().map(|s| s.id.clone()).unwrap_or_default();
                c.sites.set(rest);
                c.site.set(next);
            }
        });
    };
    view! {
        <section class="danger-zone" data-testid="delete-site" aria-labelledby="delete-site-title">
            <h2 id="delete-site-title">"Delete this site"</h2>
            <p class="sub">
                "Deletes the site's configuration, stories, sessions, polls, votes, events, questions, photos, replies, knowledge base and reports for good. Visitors see the site gone at once. Type the site id "
                <code>{move || c.site.get()}</code>
                " to confirm."
            </p>
            <div class="row">
                <label class="field grow">
                    <span>"Site id"</span>
                    <input type="text" data-testid="delete-site-id" autocomplete="off" bind:value=typed/>
                </label>
                <button
                    class="danger"
                    data-testid="delete-site-confirm"
                    disabled=move || !matches() || busy.get()
                    on:click=delete
                >
                    "Delete site"
                </button>
            </div>
            <Show when=move || message.get().is_some()>
                <p role="status" data-testid="delete-site-message">{move || message.get()}</p>
            </Show>
        </section>
    }
}
