//! "Search help": the permanent knowledge base (expired stories and resolved questions
//! included), searched as the visitor types.

use std::time::Duration;

use glimpse_shared::i18n::Text;
use glimpse_shared::kb::KbHit;
use leptos::prelude::*;

use crate::app::ctx;

#[derive(Debug, Clone, serde::Deserialize)]
struct Results {
    results: Vec<KbHit>,
}

/// The search box and its results.
#[component]
pub fn Search() -> impl IntoView {
    let ctx = ctx();
    let lang = ctx.lang;
    let config = ctx.config.clone();
    let lang_param = if ctx.content.is_empty() {
        String::new()
    } else {
        format!(
            "&lang={}",
            String::from(js_sys::encode_uri_component(&ctx.content))
        )
    };
    let query = RwSignal::new(String::new());
    let results = RwSignal::new(None::<Vec<KbHit>>);
    let open = RwSignal::new(None::<String>);
    let generation = StoredValue::new(0u32);
    let on_input = move |ev: leptos::ev::Event| {
        let q = event_target_value(&ev);
        query.set(q.clone());
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        if q.trim().is_empty() {
            results.set(None);
            return;
        }
        // Results in the visitor's language (the site answers in its own without `lang`).
        let url = format!(
            "{}?q={}{}",
            config.site_url("kb"),
            String::from(js_sys::encode_uri_component(&q)),
            lang_param
        );
        // Debounced: only the last keystroke within 250 ms searches.
        set_timeout(
            move || {
                if generation.get_value() != mine {
                    return;
                }
                leptos::task::spawn_local(async move {
                    if let Ok(r) = crate::api::get_json_auth::<Results>(&url, None).await
                        && generation.get_value() == mine
                    {
                        results.set(Some(r.results));
                    }
                });
            },
            Duration::from_millis(250),
        );
    };
    // "No results" is a status beside the list, not inside it: a <ul> holds only <li>s
    // (axe: list).
    let none_found = move || {
        results
            .with(|r| r.as_ref().is_some_and(Vec::is_empty))
            .then(|| {
                view! { <p class="sub" role="status">{lang.t(Text::NoResults)}</p> }
            })
    };
    let items = move || {
        results.get().map(|hits| {
            hits.into_iter()
                .map(|h| {
                    let id = h.entry.id.clone();
                    let id2 = id.clone();
                    view! {
                        <li>
                            <button
                                class="kb-title"
                                data-testid="glimpse-kb-result"
                                aria-expanded=move || (open.get().as_deref() == Some(id.as_str())).to_string()
                                on:click=move |_| open.update(|o| *o = if o.as_deref() == Some(id2.as_str()) { None } else { Some(id2.clone()) })
                            >
                                {h.entry.title.clone()}
                            </button>
                            <Show when={
                                let id = h.entry.id.clone();
                                move || open.get().as_deref() == Some(id.as_str())
                            }>
                                <p class="kb-body">{h.entry.body.clone()}</p>
                            </Show>
                        </li>
                    }
                })
                .collect_view()
        })
    };
    let page = if ctx.content.is_empty() {
        format!("{}/kb/{}", ctx.config.api, ctx.config.site)
    } else {
        format!(
            "{}/kb/{}?lang={}",
            ctx.config.api,
            ctx.config.site,
            String::from(js_sys::encode_uri_component(&ctx.content))
        )
    };
    view! {
        <section class="search" aria-label=lang.t(Text::SearchHelp)>
            <input
                type="search"
                data-testid="glimpse-kb-search"
                placeholder=lang.t(Text::SearchHelp)
                aria-label=lang.t(Text::SearchHelp)
                prop:value=move || query.get()
                on:input=on_input
            />
            <ul class="kb-results" aria-live="polite">{items}</ul>
            {none_found}
            <a class="sub" href=page target="_blank" rel="noopener">{lang.t(Text::AllArticles)}</a>
        </section>
    }
}
