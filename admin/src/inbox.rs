//! The questions inbox: open questions newest first; one thread at a time with the visitor's
//! photo, the replies so far, a reply box, "resolve with a category" (which closes the
//! question and publishes nothing) and, on its own, "publish an answer to the knowledge base".

use glimpse_shared::question::{QuestionSummary, Thread};
use leptos::prelude::*;
use serde::Deserialize;
use serde_json::json;

use crate::api;
use crate::app::{console, topic_options};
use crate::time::{duration, now, show};

#[derive(Debug, Deserialize)]
struct Open {
    questions: Vec<QuestionSummary>,
    /// The `before` of the next (older) page, if any.
    #[serde(default)]
    next: Option<String>,
}

/// The inbox page.
#[component]
pub fn QuestionsPage() -> impl IntoView {
    let c = console();
    let open = RwSignal::new(None::<Vec<QuestionSummary>>);
    let error = RwSignal::new(None::<String>);
    let selected = RwSignal::new(None::<String>);
    let next = RwSignal::new(None::<String>);
    let reload = move || {
        let path = c.path("/questions");
        leptos::task::spawn_local(async move {
            match api::get::<Open>(&path).await {
                Ok(o) => {
                    next.set(o.next);
                    open.set(Some(o.questions));
                }
                Err(f) => error.set(Some(c.fail(&f))),
            }
        });
    };
    reload();
    // The inbox comes 100 at a time, newest first; older pages are appended on demand.
    let more = move |_| {
        let Some(before) = next.get_untracked() else {
            return;
        };
        let path = c.path(&format!(
            "/questions?before={}",
            String::from(js_sys::encode_uri_component(&before))
        ));
        leptos::task::spawn_local(async move {
            match api::get::<Open>(&path).await {
                Ok(o) => {
                    next.set(o.next);
                    open.update(|qs| qs.get_or_insert_with(Vec::new).extend(o.questions));
                }
                Err(f) => error.set(Some(c.fail(&f))),
            }
        });
    };
    let topic_label = move |id: &str| {
        c.topics()
            .into_iter()
            .find(|(t, _)| t == id)
            .map_or_else(|| id.to_string(), |(_, l)| l)
    };
    let list = move || {
        let now = now();
        open.get().map(|qs| {
            if qs.is_empty() {
                return view! { <p class="sub" data-testid="inbox-empty">"No open questions. Nice."</p> }.into_any();
            }
            qs.into_iter()
                .map(|q| {
                    let id = q.id.clone();
                    let id2 = q.id.clone();
                    view! {
                        <li>
                            <button
                                class="question"
                                data-testid=format!("question-{}", q.id)
                                class:current=move || selected.get().as_deref() == Some(id.as_str())
                                on:click=move |_| selected.set(Some(id2.clone()))
                            >
                                <span class="badge">{topic_label(&q.topic)}</span>
                                " "{q.preview}
                                <span class="sub">{format!(" · waiting {}", duration(now - q.created_at))}</span>
                            </button>
                        </li>
                    }
                })
                .collect_view()
                .into_any()
        })
    };
    view! {
        <div class="bar"><h1>"Questions"</h1><button on:click=move |_| reload()>"Refresh"</button></div>
        <Show when=move || error.get().is_some()><p class="error">{move || error.get()}</p></Show>
        <div class="inbox">
            <div>
                <ul class="questions" data-testid="inbox">{list}</ul>
                <Show when=move || next.get().is_some()>
                    <button data-testid="inbox-more" on:click=more>"Show older questions"</button>
                </Show>
            </div>
            {move || selected.get().map(|id| view! {
                <ThreadView id=id on_resolved=Callback::new(move |()| reload())
                    on_close=Callback::new(move |()| selected.set(None))/>
            })}
        </div>
    }
}

#[component]
fn ThreadView(id: String, on_resolved: Callback<()>, on_close: Callback<()>) -> impl IntoView {
    let c = console();
    let site = c.site.get_untracked();
    let thread = RwSignal::new(None::<Thread>);
    let photo = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let reply = RwSignal::new(String::new());
    let category = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let publishing = RwSignal::new(false);
    let thread_path = format!("/v1/admin/sites/{site}/questions/{id}");
    let load = {
        let thread_path = thread_path.clone();
        move || {
            let path = thread_path.clone();
            leptos::task::spawn_local(async move {
                match api::get::<Thread>(&path).await {
                    Ok(t) => {
                        if category.get_untracked().is_empty() {
                            category.set(t.topic.clone());
                        }
                        let has_photo = t.photo;
                        thread.set(Some(t));
                        if has_photo {
                            match api::object_url(&format!("{path}/photo")).await {
                                Ok(url) => photo.set(Some(url)),
                                Err(f) => error.set(Some(c.fail(&f))),
                            }
                        }
                    }
                    Err(f) => error.set(Some(c.fail(&f))),
                }
            });
        }
    };
    load();
    on_cleanup(move || {
        if let Some(url) = photo.get_untracked() {
            let _ = web_sys::Url::revoke_object_url(&url);
        }
    });
    let id_reply = id.clone();
    let load_after_reply = load.clone();
    let send_reply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = reply.get_untracked();
        if text.trim().is_empty() {
            return;
        }
        busy.set(true);
        let path = c.path(&format!("/questions/{id_reply}/replies"));
        let load = load_after_reply.clone();
        leptos::task::spawn_local(async move {
            match api::call::<serde_json::Value>("POST", &path, Some(&json!({ "text": text })))
                .await
            {
                Ok(_) => {
                    reply.set(String::new());
                    load();
                }
                Err(f) => error.set(Some(c.fail(&f))),
            }
            busy.set(false);
        });
    };
    let id_resolve = id.clone();
    let load_after_resolve = load.clone();
    let resolve = move |_| {
        busy.set(true);
        let path = c.path(&format!("/questions/{id_resolve}/resolve"));
        let body = json!({ "category": category.get_untracked() });
        let load = load_after_resolve.clone();
        leptos::task::spawn_local(async move {
            match api::call::<serde_json::Value>("POST", &path, Some(&body)).await {
                Ok(_) => {
                    load();
                    on_resolved.run(());
                }
                Err(f) => error.set(Some(c.fail(&f))),
            }
            busy.set(false);
        });
    };
    let id_publish = id.clone();
    view! {
        <section class="thread" data-testid="thread">
            <div class="bar"><h2>"Question"</h2><button data-testid="close-thread" on:click=move |_| on_close.run(())>"Close"</button></div>
            <Show when=move || error.get().is_some()><p class="error" role="alert">{move || error.get()}</p></Show>
            {move || thread.get().map(|t| view! {
                <p class="sub">{format!("Asked {} · topic {}", show(t.created_at), t.topic)}</p>
                <blockquote data-testid="thread-message">{t.message}</blockquote>
                {move || photo.get().map(|src| view! { <img class="photo" data-testid="thread-photo" src=src alt="Photo sent with the question"/> })}
                <ol class="replies">
                    {t.replies.into_iter().map(|r| view! {
                        <li data-testid="thread-reply"><span class="sub">{show(r.at)}{r.author.map(|a| format!(" · {a}"))}</span>" "{r.text}</li>
                    }).collect_view()}
                </ol>
            })}
            <form on:submit=send_reply>
                <label class="field">
                    <span>"Reply (the visitor sees it in the widget)"</span>
                    <textarea rows="3" data-testid="reply-text" bind:value=reply></textarea>
                </label>
                <button class="primary" type="submit" data-testid="send-reply"
                    disabled=move || busy.get() || reply.with(|r| r.trim().is_empty())>"Send reply"</button>
            </form>
            {move || match thread.get().and_then(|t| t.resolved) {
                Some(r) => view! {
                    <p role="status" data-testid="resolved">{format!("Resolved {} · category {}", show(r.at), r.category)}</p>
                }.into_any(),
                None => view! {
                    <div class="row">
                        <label class="field">
                            <span>"Category"</span>
                            <select data-testid="resolve-category" prop:value=move || category.get()
                                on:change=move |ev| category.set(event_target_value(&ev))>{topic_options(c)}</select>
                        </label>
                        <button data-testid="resolve" disabled=move || busy.get() on:click=resolve.clone()>"Resolve"</button>
                        <span class="sub">"Resolving closes the question; it publishes nothing."</span>
                    </div>
                }.into_any(),
            }}
            {move || {
                let id = id_publish.clone();
                if publishing.get() {
                    thread.get().map(|t| view! {
                        <crate::kb::PublishAnswer id=id
                            prefill=glimpse_shared::kb::prefill_answer(&t.replies)
                            topic=t.resolved.map_or(t.topic, |r| r.category)/>
                    }.into_any())
                } else {
                    Some(view! {
                        <button data-testid="publish-open" on:click=move |_| publishing.set(true)>
                            "Publish an answer to the knowledge base…"</button>
                    }.into_any())
                }
            }}
        </section>
    }
}
