//! Privacy: everything stored for one visitor id, exported as JSON or erased.

use leptos::prelude::*;
use serde_json::Value;

use crate::api;
use crate::app::console;

#[component]
pub fn PrivacyPage() -> impl IntoView {
    let c = console();
    let visitor = RwSignal::new(String::new());
    let export = RwSignal::new(None::<Value>);
    let message = RwSignal::new(None::<String>);
    let armed = RwSignal::new(false);
    let valid = move || visitor.with(|v| glimpse_shared::ids::is_token(v.trim()));
    let path = move || c.path(&format!("/visitors/{}", visitor.get_untracked().trim()));
    let do_export = move |_| {
        let p = path();
        armed.set(false);
        leptos::task::spawn_local(async move {
            match api::get::<Value>(&p).await {
                Ok(v) => {
                    message.set(None);
                    export.set(Some(v));
                }
                Err(f) => message.set(Some(c.fail(&f))),
            }
        });
    };
    let download = move |_| {
        if let Some(v) = export.get_untracked() {
            let text = serde_json::to_string_pretty(&v).unwrap_or_default();
            api::download(
                &format!(
                    "glimpse-{}-visitor-{}.json",
                    c.site.get_untracked(),
                    visitor.get_untracked().trim()
                ),
                "application/json",
                &text,
            );
        }
    };
    let erase = move |_| {
        if !armed.get_untracked() {
            armed.set(true);
            return;
        }
        armed.set(false);
        let p = path();
        leptos::task::spawn_local(async move {
            match api::call::<Value>("DELETE", &p, None::<&()>).await {
                Ok(v) => {
                    export.set(None);
                    let n = |k: &str| v["erased"][k].as_u64().unwrap_or(0);
                    message.set(Some(format!(
                        "Erased: {} votes, {} event batches, {} questions, {} knowledge-base answers.",
                        n("votes"),
                        n("event_batches"),
                        n("questions"),
                        n("knowledge_base")
                    )));
                }
                Err(f) => message.set(Some(c.fail(&f))),
            }
        });
    };
    let retention = move || {
        c.config
            .with(|s| s.as_ref().map(|s| s.retention_days))
            .map(|d| format!("Responses, events and questions of this site are deleted automatically {d} days after they were made."))
    };
    view! {
        <div class="bar"><h1>"Privacy"</h1></div>
        <p class="sub">"Glimpse sets no cookies. A visitor is only a random id their browser made and keeps in localStorage (glimpse:visitor). Paste one here to export or erase everything stored for it."</p>
        <p class="sub" data-testid="retention">{retention}</p>
        <p class="sub" data-testid="kb-privacy">"The knowledge base is public and permanent. It holds the stories you published (from when they go live) and the answers your team wrote and published from questions — never a visitor's own message. An answer made from a visitor's question remembers that visitor, privately: their export lists it and erasing them removes it."</p>
        <div class="row">
            <label class="field grow">
                <span>"Visitor id"</span>
                <input type="text" data-testid="visitor-id" bind:value=visitor/>
            </label>
            <button data-testid="export" disabled=move || !valid() on:click=do_export>"Export"</button>
            <button class="danger" data-testid="erase" disabled=move || !valid() on:click=erase>
                {move || if armed.get() { "Really erase everything?" } else { "Erase" }}
            </button>
        </div>
        <Show when=move || message.get().is_some()><p role="status" data-testid="privacy-message">{move || message.get()}</p></Show>
        {move || export.get().map(|v| view! {
            <div class="bar"><h2>"Export"</h2><button data-testid="download-export" on:click=download>"Download JSON"</button></div>
            <pre class="json" data-testid="export-json" tabindex="0" role="region" aria-label="Exported data">{serde_json::to_string_pretty(&v).unwrap_or_default()}</pre>
        })}
        <crate::sites::DeleteSite/>
    }
}
