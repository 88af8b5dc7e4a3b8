//! The knowledge base: every entry (stories' and published answers) with its status; each can
//! be edited, unpublished, published again or deleted. Also the form that publishes an answer
//! to a question, which states plainly that it becomes public and asks the operator to confirm.

use glimpse_shared::kb::{KbDraft, KbListed, KbSource, KbStatus, KbText};
use leptos::prelude::*;
use serde::Deserialize;

use crate::api;
use crate::app::{console, topic_options};
use crate::time::show;

#[derive(Debug, Deserialize)]
struct List {
    entries: Vec<KbListed>,
    /// The `before` of the next page, if any.
    #[serde(default)]
    next: Option<String>,
}

/// `/v1/admin/sites/{site}/kb/{stories|questions}/{id}` for an entry.
fn entry_path(source: KbSource, source_id: &str) -> String {
    console().path(&format!("/kb/{}/{source_id}", source.plural()))
}

/// Where visitors read the knowledge base.
pub fn public_page(site: &str) -> String {
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    format!("{origin}/kb/{site}")
}

fn status_badge(status: KbStatus) -> impl IntoView {
    let (class, label) = match status {
        KbStatus::Public => ("badge live", "Public"),
        KbStatus::Scheduled => ("badge scheduled", "Public when its story goes live"),
        KbStatus::Unpublished => ("badge over", "Unpublished"),
        KbStatus::NeedsReview => ("badge warn", "Hidden: needs review"),
    };
    view! { <span class=class data-testid="kb-status">{label}</span> }
}

/// The knowledge-base page.
#[component]
pub fn KbPage() -> impl IntoView {
    let c = console();
    let entries = RwSignal::new(None::<Vec<KbListed>>);
    let error = RwSignal::new(None::<String>);
    let editing = RwSignal::new(None::<KbListed>);
    let next = RwSignal::new(None::<String>);
    let reload = move || {
        let path = c.path("/kb");
        leptos::task::spawn_local(async move {
            match api::get::<List>(&path).await {
                Ok(l) => {
                    error.set(None);
                    next.set(l.next);
                    entries.set(Some(l.entries));
                }
                Err(f) => error.set(Some(c.fail(&f))),
            }
        });
    };
    reload();
    // Entries come a page at a time, most recently changed first.
    let more = move |_| {
        let Some(before) = next.get_untracked() else {
            return;
        };
        let path = c.path(&format!(
            "/kb?before={}",
            String::from(js_sys::encode_uri_component(&before))
        ));
        leptos::task::spawn_local(async move {
            match api::get::<List>(&path).await {
                Ok(l) => {
                    next.set(l.next);
                    entries.update(|e| e.get_or_insert_with(Vec::new).extend(l.entries));
                }
                Err(f) => error.set(Some(c.fail(&f))),
            }
        });
    };
    let list = move || {
        entries.get().map(|list| {
            if list.is_empty() {
                return view! { <p class="sub" data-testid="kb-empty">"Nothing yet. Stories join when they are saved; answers when you publish them from a question."</p> }.into_any();
            }
            list.into_iter()
                .map(|l| {
                    let source = match l.entry.source {
                        KbSource::Story => format!("From story {}", l.entry.source_id),
                        KbSource::Question => "Answer to a visitor's question".to_string(),
                    };
                    let item = l.clone();
                    view! {
                        <li class="kb-entry" data-testid=format!("kb-{}", l.entry.id)>
                            <div class="grow">
                                <strong>{l.entry.title.clone()}</strong>" "{status_badge(l.status)}
                                <p class="sub">{format!("{source} · topic {} · {} {}", l.entry.topic,
                                    if l.status == KbStatus::Scheduled { "public from" } else { "since" },
                                    show(l.entry.published_at))}</p>
                                {l.entry.next.as_ref().map(|n| view! {
                                    <p class="sub" data-testid="kb-next">{format!(
                                        "Its story was saved again: \u{201c}{}\u{201d} replaces this from {}",
                                        n.title, show(n.from))}</p>
                                })}
                            </div>
                            <button data-testid="kb-edit" on:click=move |_| editing.set(Some(item.clone()))>"Edit"</button>
                        </li>
                    }
                })
                .collect_view()
                .into_any()
        })
    };
    let site = c.site.get_untracked();
    view! {
        <div class="bar"><h1>"Knowledge base"</h1><button on:click=move |_| reload()>"Refresh"</button></div>
        <p class="sub">"Public articles: anyone can search them in the widget and read them at "
            <a href=public_page(&site) target="_blank" rel="noopener">{public_page(&site)}</a>
            ". Stories join when they go live and stay after they expire; a visitor's question joins only when you publish an answer you wrote."</p>
        <Show when=move || error.get().is_some()><p class="error" role="alert">{move || error.get()}</p></Show>
        <ul class="kb-entries" data-testid="kb-entries">{list}</ul>
        <Show when=move || next.get().is_some()>
            <button data-testid="kb-more" on:click=more>"Show more"</button>
        </Show>
        {move || editing.get().map(|l| view! {
            <EntryEditor listed=l on_done=Callback::new(move |()| { editing.set(None); reload(); })/>
        })}
    }
}

/// Edits one entry: topic, title, body; publish/unpublish; delete (confirmed).
#[component]
fn EntryEditor(listed: KbListed, on_done: Callback<()>) -> impl IntoView {
    let c = console();
    let e = listed.entry;
    let path = entry_path(e.source, &e.source_id);
    let topic = RwSignal::new(e.topic.clone());
    let title = RwSignal::new(e.title.clone());
    let body = RwSignal::new(e.body.clone());
    let translations = RwSignal::new(e.translations.clone());
    let published = e.published && listed.status != KbStatus::NeedsReview;
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let armed = RwSignal::new(false);
    let save = {
        let path = path.clone();
        move |publish: bool| {
            let draft = KbDraft {
                topic: topic.get_untracked(),
                title: title.get_untracked(),
                body: body.get_untracked(),
                published: publish,
                translations: translations.get_untracked(),
            };
            let problems = draft.validate();
            if let Some(p) = problems.first() {
                error.set(Some(format!("{}: {}", p.field, p.message)));
                return;
            }
            busy.set(true);
            let path = path.clone();
            leptos::task::spawn_local(async move {
                match api::call::<serde_json::Value>("PUT", &path, Some(&draft)).await {
                    Ok(_) => on_done.run(()),
                    Err(f) => error.set(Some(c.fail(&f))),
                }
                busy.set(false);
            });
        }
    };
    let save2 = save.clone();
    let delete = move |_| {
        if !armed.get_untracked() {
            armed.set(true);
            return;
        }
        let path = path.clone();
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::call::<serde_json::Value>("DELETE", &path, None::<&()>).await {
                Ok(_) => on_done.run(()),
                Err(f) => error.set(Some(c.fail(&f))),
            }
            busy.set(false);
        });
    };
    let topics = topic_options(c);
    // The title and text in each of the site's other languages, beside the source's.
    let languages = c
        .config
        .with_untracked(|s| s.as_ref().map(|s| s.languages.clone()))
        .unwrap_or_default();
    let translated = languages
        .into_iter()
        .map(|lang| {
            let read = move |lang: &str, body_field: bool| {
                translations.with(|t| {
                    t.get(lang)
                        .map(|x: KbText| if body_field { x.body } else { x.title })
                        .unwrap_or_default()
                })
            };
            let write = move |lang: &str, body_field: bool, v: String| {
                translations.update(|t| {
                    t.update(lang, |x: &mut KbText| {
                        if body_field {
                            x.body = v;
                        } else {
                            x.title = v;
                        }
                    })
                })
            };
            let (l1, l2, l3, l4) = (lang.clone(), lang.clone(), lang.clone(), lang.clone());
            view! {
                <fieldset class="translations" data-testid=format!("kb-tr-{lang}")>
                    <legend>{format!("In {lang}")}</legend>
                    <table class="side-by-side"><tbody>
                        <tr>
                            <th scope="row">"Title"</th>
                            <td class="source">{move || title.get()}</td>
                            <td><input type="text" maxlength="120" aria-label=format!("Title ({lang})")
                                data-testid=format!("kb-tr-{lang}-title")
                                prop:value=move || read(&l1, false)
                                on:change=move |ev| write(&l2, false, event_target_value(&ev))/></td>
                        </tr>
                        <tr>
                            <th scope="row">"Text"</th>
                            <td class="source">{move || body.get()}</td>
                            <td><textarea rows="5" maxlength="5000" aria-label=format!("Text ({lang})")
                                data-testid=format!("kb-tr-{lang}-body")
                                prop:value=move || read(&l3, true)
                                on:change=move |ev| write(&l4, true, event_target_value(&ev))></textarea></td>
                        </tr>
                    </tbody></table>
                </fieldset>
            }
        })
        .collect_view();
    view! {
        <section class="thread" data-testid="kb-editor" aria-label="Edit entry">
            <h2>"Edit entry"</h2>
            {(listed.status == KbStatus::NeedsReview).then(|| view! {
                <p class="note warn" role="note" data-testid="kb-needs-review">
                    "An older version made this entry automatically from a visitor's own message, so it is hidden. Rewrite the title and text in your own words — nothing private — before you publish it."
                </p>
            })}
            {(e.source == KbSource::Question).then(|| view! {
                <p class="note" role="note">"Published, this answer is public: anyone can search and read it."</p>
            })}
            <p class="note" role="note">"Visitors see the title and text exactly as written here, as plain text."</p>
            <label class="field"><span>"Topic"</span>
                <select data-testid="kb-topic" prop:value=move || topic.get()
                    on:change=move |ev| topic.set(event_target_value(&ev))>{topics}</select></label>
            <label class="field"><span>"Title"</span>
                <input type="text" maxlength="120" data-testid="kb-title" bind:value=title/></label>
            <label class="field"><span>"Text"</span>
                <textarea rows="8" maxlength="5000" data-testid="kb-body" bind:value=body></textarea></label>
            {translated}
            <Show when=move || error.get().is_some()><p class="error" role="alert">{move || error.get()}</p></Show>
            <div class="row">
                <button class="primary" data-testid="kb-save" disabled=move || busy.get()
                    on:click={ let save = save.clone(); move |_| save(published) }>
                    {if published { "Save" } else { "Save (stays unpublished)" }}</button>
                {if published {
                    view! { <button data-testid="kb-unpublish" disabled=move || busy.get() on:click=move |_| save2(false)>"Unpublish"</button> }.into_any()
                } else {
                    view! { <button data-testid="kb-publish" disabled=move || busy.get() on:click=move |_| save2(true)>"Publish"</button> }.into_any()
                }}
                <button class="danger" data-testid="kb-delete" disabled=move || busy.get() on:click=delete>
                    {move || if armed.get() { "Really delete it?" } else { "Delete" }}</button>
                <button on:click=move |_| on_done.run(())>"Cancel"</button>
            </div>
        </section>
    }
}

/// Publishing an answer to question `id`: the operator writes the title and answer (prefilled
/// from the team's replies, never the visitor's message), reads that it becomes public and
/// confirms before anything is sent.
#[component]
pub fn PublishAnswer(id: String, prefill: String, topic: String) -> impl IntoView {
    let c = console();
    let title = RwSignal::new(String::new());
    let body = RwSignal::new(prefill);
    let topic = RwSignal::new(topic);
    let understood = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let path = entry_path(KbSource::Question, &id);
    let publish = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let draft = KbDraft {
            topic: topic.get_untracked(),
            title: title.get_untracked(),
            body: body.get_untracked(),
            published: true,
            // Translations come once it is published, in the entry's editor.
            translations: Default::default(),
        };
        if let Some(p) = draft.validate().first() {
            error.set(Some(format!("{}: {}", p.field, p.message)));
            return;
        }
        if !understood.get_untracked() {
            return;
        }
        busy.set(true);
        let path = path.clone();
        leptos::task::spawn_local(async move {
            match api::call::<serde_json::Value>("PUT", &path, Some(&draft)).await {
                Ok(_) => {
                    error.set(None);
                    done.set(true);
                }
                Err(f) => error.set(Some(c.fail(&f))),
            }
            busy.set(false);
        });
    };
    let site = c.site.get_untracked();
    let topics = topic_options(c);
    view! {
        <form class="publish" data-testid="publish-form" on:submit=publish aria-label="Publish an answer to the knowledge base">
            <h3>"Publish an answer to the knowledge base"</h3>
            <p class="note warn" role="note" data-testid="publish-warning">
                "This becomes public: anyone can search it in the widget and read it at "{public_page(&site)}
                ". Write it for everyone — no names, addresses, order numbers or anything the visitor told you. The visitor's message is never published."
            </p>
            <label class="field"><span>"Topic"</span>
                <select data-testid="publish-topic" prop:value=move || topic.get()
                    on:change=move |ev| topic.set(event_target_value(&ev))>{topics}</select></label>
            <label class="field"><span>"Title"</span>
                <input type="text" maxlength="120" data-testid="publish-title" placeholder="e.g. My parcel from abroad is late" bind:value=title/></label>
            <label class="field"><span>"Answer (prefilled from your team's replies)"</span>
                <textarea rows="6" maxlength="5000" data-testid="publish-body" bind:value=body></textarea></label>
            <label class="check">
                <input type="checkbox" data-testid="publish-confirm" bind:checked=understood/>
                " I understand this answer will be public"
            </label>
            <Show when=move || error.get().is_some()><p class="error" role="alert">{move || error.get()}</p></Show>
            <Show when=move || done.get()><p role="status" data-testid="publish-done">"Published to the knowledge base."</p></Show>
            <button class="primary" type="submit" data-testid="publish"
                disabled=move || busy.get() || !understood.get() || title.with(|t| t.trim().is_empty()) || body.with(|b| b.trim().is_empty())>
                "Publish"</button>
        </form>
    }
}
