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
            // The export comes a page at a time: follow `next` and join the pages.
            let mut all: Option<Value> = None;
            let mut next: Option<String> = None;
            for _ in 0..200 {
                let url = match &next {
                    Some(c) => format!("{p}?cursor={c}"),
                    None => p.clone(),
                };
                match api::get::<Value>(&url).await {
                    Ok(mut v) => {
                        next = v["next"].as_str().map(String::from);
                        if let Some(obj) = v.as_object_mut() {
                            obj.remove("next");
                        }
                        match all.as_mut() {
                            None => all = Some(v),
                            Some(acc) => {
                                for k in [
                                    "votes",
                                    "responses",
                                    "event_batches",
                                    "questions",
                                    "knowledge_base",
                                    "seen",
                                ] {
                                    if let (Some(a), Some(b)) =
                                        (acc[k].as_array_mut(), v[k].as_array())
                                    {
                                        a.extend(b.iter().cloned());
                                    }
                                }
                            }
                        }
                        if next.is_none() {
                            break;
                        }
                    }
                    Err(f) => {
                        message.set(Some(c.fail(&f)));
                        return;
                    }
                }
            }
            message.set(None);
            export.set(all);
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
            // Erasure goes in bounded steps: repeat while the answer says more remains.
            let mut total = [0u64; 5];
            let keys = [
                "votes",
                "responses",
                "event_batches",
                "questions",
                "knowledge_base",
            ];
            for _ in 0..200 {
                match api::call::<Value>("DELETE", &p, None::<&()>).await {
                    Ok(v) => {
                        for (t, k) in total.iter_mut().zip(keys) {
                            *t += v["erased"][k].as_u64().unwrap_or(0);
                        }
                        if v["remaining"] != true {
                            break;
                        }
                    }
                    Err(f) => {
                        message.set(Some(c.fail(&f)));
                        return;
                    }
                }
            }
            export.set(None);
            message.set(Some(format!(
                "Erased: {} votes, {} poll responses, {} event batches, {} questions, {} knowledge-base answers.",
                total[0], total[1], total[2], total[3], total[4]
            )));
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
