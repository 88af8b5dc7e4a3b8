//! Authoring: stories, live sessions and polls. Each page lists what is stored (scheduled,
//! live or over) and edits one item at a time. The shared `validate()` and `lint()` run on
//! every keystroke, so problems and advice show while typing; publishing is one PUT.

use glimpse_shared::ids::slugify;
use glimpse_shared::{Cta, LiveSession, Media, Millis, Poll, PollKind, Problem, Slide, Story};
use leptos::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::api;
use crate::app::{Console, console, preview};
use crate::time::{from_local_input, now, show, to_local_input};

const MINUTE: Millis = 60_000;
const HOUR: Millis = 60 * MINUTE;

/// Where an item stands at `now`.
fn status(from: Millis, until: Millis, now: Millis) -> &'static str {
    if now < from {
        "scheduled"
    } else if now < until {
        "live"
    } else {
        "over"
    }
}

/// Loads every stored item of a kind (`stories`, `sessions`, `polls`).
fn load_list<T: DeserializeOwned + Send + Sync + 'static>(
    c: Console,
    plural: &'static str,
    items: RwSignal<Option<Vec<T>>>,
    error: RwSignal<Option<String>>,
) {
    let path = c.path(&format!("/{plural}"));
    leptos::task::spawn_local(async move {
        match api::get::<Value>(&path).await {
            Ok(v) => {
                let list = v[plural]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| serde_json::from_value(x.clone()).ok())
                            .collect()
                    })
                    .unwrap_or_default();
                items.set(Some(list));
            }
            Err(f) => error.set(Some(c.fail(&f))),
        }
    });
}

/// The validation problems (which block publishing) and lint advice of a draft.
#[component]
fn Checks(checks: Memo<(Vec<Problem>, Vec<Problem>)>) -> impl IntoView {
    let item = |class: &'static str, testid: &'static str, p: Problem| {
        let field = p.field.clone();
        view! {
            <li class=class data-testid=testid data-field=field>
                <code>{p.field}</code>" "{p.message}
            </li>
        }
    };
    view! {
        <section class="checks" aria-live="polite">
            <Show
                when=move || checks.with(|(e, w)| !e.is_empty() || !w.is_empty())
                fallback=|| view! { <p class="ok" data-testid="lint-clean">"Ready to publish: no problems, no warnings."</p> }
            >
                <ul>
                    {move || {
                        let (errors, warnings) = checks.get();
                        errors
                            .into_iter()
                            .map(|p| item("problem", "lint-problem", p))
                            .chain(warnings.into_iter().map(|p| item("warning", "lint-warning", p)))
                            .collect_view()
                    }}
                </ul>
            </Show>
        </section>
    }
}

/// What happened to the last publish.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Idle,
    Busy,
    Failed(String, Vec<Problem>),
}

/// PUTs `item` to `…/{plural}/{id}`; on success calls `done` with the server's warnings.
fn publish<T: Serialize + 'static>(
    c: Console,
    plural: &'static str,
    id: String,
    item: T,
    outcome: RwSignal<Outcome>,
    done: Callback<Vec<Problem>>,
) {
    let path = c.path(&format!("/{plural}/{id}"));
    outcome.set(Outcome::Busy);
    leptos::task::spawn_local(async move {
        match api::call::<Value>("PUT", &path, Some(&item)).await {
            Ok(v) => {
                outcome.set(Outcome::Idle);
                done.run(serde_json::from_value(v["warnings"].clone()).unwrap_or_default());
            }
            Err(f) => {
                let msg = c.fail(&f);
                outcome.set(Outcome::Failed(msg, f.problems));
            }
        }
    });
}

#[component]
fn PublishBar(
    outcome: RwSignal<Outcome>,
    blocked: Signal<bool>,
    on_publish: Callback<()>,
    on_cancel: Callback<()>,
    #[prop(optional)] extra: Option<AnyView>,
) -> impl IntoView {
    view! {
        <div class="actions">
            {extra}
            <button
                class="primary"
                data-testid="publish"
                disabled=move || blocked.get() || outcome.get() == Outcome::Busy
                on:click=move |_| on_publish.run(())
            >
                "Publish"
            </button>
            <button class="link" data-testid="cancel" on:click=move |_| on_cancel.run(())>"Cancel"</button>
        </div>
        {move || match outcome.get() {
            Outcome::Failed(msg, problems) => view! {
                <div class="error" role="alert" data-testid="publish-error">
                    <p>{msg}</p>
                    <ul>
                        {problems.into_iter().map(|p| view! { <li><code>{p.field}</code>" "{p.message}</li> }).collect_view()}
                    </ul>
                </div>
            }.into_any(),
            _ => ().into_any(),
        }}
    }
}

/// Deletes `…/{plural}/{id}` after a second click.
#[component]
fn DeleteButton(plural: &'static str, id: String, on_done: Callback<()>) -> impl IntoView {
    let c = console();
    let armed = RwSignal::new(false);
    let id2 = id.clone();
    let click = move |_| {
        if !armed.get_untracked() {
            armed.set(true);
            return;
        }
        let path = c.path(&format!("/{plural}/{id2}"));
        leptos::task::spawn_local(async move {
            match api::call::<Value>("DELETE", &path, None::<&()>).await {
                Ok(_) => on_done.run(()),
                Err(f) => {
                    let msg = c.fail(&f);
                    c.notice.set(Some(msg));
                }
            }
        });
    };
    view! {
        <button class="link danger" data-testid=format!("delete-{id}") on:click=click>
            {move || if armed.get() { "Really delete?" } else { "Delete" }}
        </button>
    }
}

/// A labelled text input bound to a getter and a setter.
fn text_field(
    label: &'static str,
    testid: &'static str,
    get: impl Fn() -> String + Send + Sync + 'static,
    set: impl Fn(String) + 'static,
) -> impl IntoView {
    view! {
        <label class="field">
            <span>{label}</span>
            <input
                type="text"
                data-testid=testid
                prop:value=get
                on:input=move |ev| set(event_target_value(&ev))
            />
        </label>
    }
}

/// A labelled `datetime-local` input (the operator's time zone) for an instant.
fn time_field(
    label: &'static str,
    testid: &'static str,
    get: impl Fn() -> Millis + Send + Sync + 'static,
    set: impl Fn(Millis) + 'static,
) -> impl IntoView {
    view! {
        <label class="field">
            <span>{label}</span>
            <input
                type="datetime-local"
                data-testid=testid
                prop:value=move || to_local_input(get())
                on:change=move |ev| {
                    if let Some(ms) = from_local_input(&event_target_value(&ev)) {
                        set(ms);
                    }
                }
            />
        </label>
    }
}

/// The site's topics as `<option>`s.
fn topic_options() -> impl IntoView {
    console()
        .topics()
        .into_iter()
        .map(|(id, label)| view! { <option value=id.clone()>{format!("{label} ({id})")}</option> })
        .collect_view()
}

/// A page's flash message after publishing.
#[component]
fn Published(saved: RwSignal<Option<(String, Vec<Problem>)>>) -> impl IntoView {
    move || {
        saved.get().map(|(id, warnings)| {
            view! {
                <div class="saved" role="status" data-testid="published">
                    <p>{format!("Published {id}.")}</p>
                    <ul>
                        {warnings.into_iter().map(|p| view! { <li class="warning"><code>{p.field}</code>" "{p.message}</li> }).collect_view()}
                    </ul>
                </div>
            }
        })
    }
}

// ---------------------------------------------------------------------------------------
// Stories

fn new_story(topic: Option<String>) -> Story {
    let start = (now() / MINUTE) * MINUTE;
    Story {
        id: String::new(),
        title: String::new(),
        topic: topic.unwrap_or_default(),
        slides: vec![blank_slide()],
        publish_at: start,
        expires_at: start + 48 * HOUR,
    }
}

fn blank_slide() -> Slide {
    Slide {
        text: String::new(),
        media: None,
        duration_ms: Slide::DEFAULT_DURATION_MS,
        cta: None,
    }
}

/// Stories: the list, or one story in the editor.
#[component]
pub fn StoriesPage() -> impl IntoView {
    let c = console();
    let items = RwSignal::new(None::<Vec<Story>>);
    let error = RwSignal::new(None::<String>);
    let editing = RwSignal::new(None::<(Story, bool)>);
    let saved = RwSignal::new(None::<(String, Vec<Problem>)>);
    let reload = move || load_list(c, "stories", items, error);
    reload();
    let close = Callback::new(move |()| {
        editing.set(None);
        reload();
    });
    let list = move || {
        let now = now();
        items.get().map(|mut list| {
            list.sort_by_key(|s| std::cmp::Reverse(s.publish_at));
            let rows = list
                .into_iter()
                .map(|s| {
                    let st = status(s.publish_at, s.expires_at, now);
                    let edit = s.clone();
                    view! {
                        <tr data-testid=format!("story-{}", s.id) data-status=st>
                            <td><code>{s.id.clone()}</code></td>
                            <td>{s.title.clone()}</td>
                            <td>{s.topic.clone()}</td>
                            <td>{s.slides.len()}</td>
                            <td>{show(s.publish_at)}</td>
                            <td>{show(s.expires_at)}</td>
                            <td><span class=format!("badge {st}")>{st}</span></td>
                            <td>
                                <button class="link" on:click=move |_| editing.set(Some((edit.clone(), false)))>"Edit"</button>
                                <DeleteButton plural="stories" id=s.id.clone() on_done=Callback::new(move |()| reload())/>
                            </td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <table class="list">
                    <thead><tr><th>"Id"</th><th>"Title"</th><th>"Topic"</th><th>"Slides"</th><th>"Publish"</th><th>"Expires"</th><th>"Status"</th><th></th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            }
        })
    };
    view! {
        {move || match editing.get() {
            Some((story, is_new)) => view! {
                <StoryEditor story=story is_new=is_new on_close=close saved=saved/>
            }.into_any(),
            None => view! {
                <div class="bar">
                    <h1>"Stories"</h1>
                    <button
                        class="primary"
                        data-testid="new-story"
                        on:click=move |_| {
                            saved.set(None);
                            editing.set(Some((new_story(c.topics().first().map(|t| t.0.clone())), true)));
                        }
                    >
                        "New story"
                    </button>
                </div>
                <Published saved=saved/>
                <Show when=move || error.get().is_some()>
                    <p class="error">{move || error.get()}</p>
                </Show>
                {list}
            }.into_any(),
        }}
    }
}

#[component]
fn StoryEditor(
    story: Story,
    is_new: bool,
    on_close: Callback<()>,
    saved: RwSignal<Option<(String, Vec<Problem>)>>,
) -> impl IntoView {
    let c = console();
    let draft = RwSignal::new(story);
    let id_touched = RwSignal::new(!is_new);
    let checks = Memo::new(move |_| draft.with(|s| (s.validate(), s.lint())));
    let blocked = Signal::derive(move || checks.with(|(e, _)| !e.is_empty()));
    let outcome = RwSignal::new(Outcome::Idle);
    let preview_error = RwSignal::new(None::<String>);
    let count = Memo::new(move |_| draft.with(|s| s.slides.len()));
    let slides = move || {
        (0..count.get())
            .map(|i| view! { <SlideEditor draft=draft i=i/> })
            .collect_view()
    };
    let on_publish = Callback::new(move |()| {
        let story = draft.get_untracked();
        let id = story.id.clone();
        let done = Callback::new(move |warnings: Vec<Problem>| {
            saved.set(Some((draft.with_untracked(|s| s.id.clone()), warnings)));
            on_close.run(());
        });
        publish(c, "stories", id, story, outcome, done);
    });
    let on_preview = move |_| {
        let site = c.site.get_untracked();
        preview_error.set(draft.with_untracked(|s| preview(&site, s)).err());
    };
    let extra = view! {
        <button
            data-testid="preview"
            disabled=move || blocked.get()
            title="Shows this draft in the real player, as visitors will see it (nothing is tracked)"
            on:click=on_preview
        >
            "Preview in the player"
        </button>
    }
    .into_any();
    view! {
        <div class="bar">
            <h1>{if is_new { "New story" } else { "Edit story" }}</h1>
        </div>
        <div class="editor" data-testid="story-editor">
            <div class="form">
                {text_field("Title", "story-title", move || draft.with(|s| s.title.clone()), move |v| {
                    draft.update(|s| {
                        if !id_touched.get_untracked() {
                            s.id = slugify(&v);
                        }
                        s.title = v;
                    })
                })}
                <label class="field">
                    <span>"Id (in URLs; cannot change later)"</span>
                    <input
                        type="text"
                        data-testid="story-id"
                        disabled=!is_new
                        prop:value=move || draft.with(|s| s.id.clone())
                        on:input=move |ev| {
                            id_touched.set(true);
                            draft.update(|s| s.id = event_target_value(&ev));
                        }
                    />
                </label>
                <label class="field">
                    <span>"Topic"</span>
                    <select
                        data-testid="story-topic"
                        prop:value=move || draft.with(|s| s.topic.clone())
                        on:change=move |ev| draft.update(|s| s.topic = event_target_value(&ev))
                    >
                        {topic_options()}
                    </select>
                </label>
                <div class="row">
                    {time_field("Publish at", "story-publish", move || draft.with(|s| s.publish_at), move |v| draft.update(|s| s.publish_at = v))}
                    {time_field("Expires at", "story-expires", move || draft.with(|s| s.expires_at), move |v| draft.update(|s| s.expires_at = v))}
                </div>
                <ol class="slides">{slides}</ol>
                <button
                    data-testid="add-slide"
                    disabled=move || { count.get() >= Story::SLIDES_MAX }
                    on:click=move |_| draft.update(|s| s.slides.push(blank_slide()))
                >
                    "Add slide"
                </button>
            </div>
            <aside>
                <h2>"Checks"</h2>
                <Checks checks=checks/>
                <Show when=move || preview_error.get().is_some()>
                    <p class="error">{move || preview_error.get()}</p>
                </Show>
            </aside>
        </div>
        <PublishBar outcome=outcome blocked=blocked on_publish=on_publish on_cancel=on_close extra=extra/>
    }
}

#[component]
fn SlideEditor(draft: RwSignal<Story>, i: usize) -> impl IntoView {
    let slide = move || draft.with(|s| s.slides.get(i).cloned().unwrap_or_else(blank_slide));
    let update = move |f: &dyn Fn(&mut Slide)| {
        draft.update(|s| {
            if let Some(x) = s.slides.get_mut(i) {
                f(x);
            }
        })
    };
    let media_kind = move || match slide().media {
        None => "none",
        Some(Media::Image { .. }) => "image",
        Some(Media::Video { .. }) => "video",
    };
    let media_url = move || match slide().media {
        Some(Media::Image { url, .. } | Media::Video { url, .. }) => url,
        None => String::new(),
    };
    let media_alt = move || match slide().media {
        Some(Media::Image { alt, .. }) => alt,
        Some(Media::Video { alt, .. }) => alt.unwrap_or_default(),
        None => String::new(),
    };
    let set_media = move |kind: &str, url: String, alt: String| {
        update(&|s: &mut Slide| {
            s.media = match kind {
                "image" => Some(Media::Image {
                    url: url.clone(),
                    alt: alt.clone(),
                }),
                "video" => Some(Media::Video {
                    url: url.clone(),
                    alt: (!alt.is_empty()).then(|| alt.clone()),
                }),
                _ => None,
            }
        })
    };
    let cta = move || slide().cta;
    let set_cta = move |label: String, url: String| {
        update(&|s: &mut Slide| {
            s.cta = (!label.is_empty() || !url.is_empty()).then(|| Cta {
                label: label.clone(),
                url: url.clone(),
            })
        })
    };
    let chars = move || slide().text.chars().count();
    let count = move || draft.with(|s| s.slides.len());
    view! {
        <li class="slide" data-testid=format!("slide-{i}")>
            <div class="slide-head">
                <strong>{format!("Slide {}", i + 1)}</strong>
                <span class="sub" class:over=move || { chars() > Story::TEXT_LINT }>
                    {move || format!("{} / {} characters", chars(), Story::TEXT_LINT)}
                </span>
                <button class="link" disabled=move || i == 0 on:click=move |_| draft.update(|s| s.slides.swap(i, i - 1))>"Up"</button>
                <button class="link" disabled=move || { i + 1 >= count() } on:click=move |_| draft.update(|s| s.slides.swap(i, i + 1))>"Down"</button>
                <button class="link danger" disabled=move || { count() <= 1 } on:click=move |_| draft.update(|s| { s.slides.remove(i); })>"Remove"</button>
            </div>
            <label class="field">
                <span>"Text"</span>
                <textarea
                    rows="3"
                    data-testid=format!("slide-{i}-text")
                    prop:value=move || slide().text
                    on:input=move |ev| { let v = event_target_value(&ev); update(&|s: &mut Slide| s.text = v.clone()) }
                ></textarea>
            </label>
            <div class="row">
                <label class="field">
                    <span>"Media"</span>
                    <select
                        data-testid=format!("slide-{i}-media-kind")
                        prop:value=media_kind
                        on:change=move |ev| set_media(&event_target_value(&ev), media_url(), media_alt())
                    >
                        <option value="none">"None"</option>
                        <option value="image">"Image"</option>
                        <option value="video">"Video"</option>
                    </select>
                </label>
                <label class="field grow">
                    <span>"Media URL (https)"</span>
                    <input
                        type="url"
                        data-testid=format!("slide-{i}-media-url")
                        disabled=move || media_kind() == "none"
                        prop:value=media_url
                        on:input=move |ev| set_media(media_kind(), event_target_value(&ev), media_alt())
                    />
                </label>
            </div>
            <label class="field">
                <span>"Alt text (what the picture shows)"</span>
                <input
                    type="text"
                    data-testid=format!("slide-{i}-media-alt")
                    disabled=move || media_kind() == "none"
                    prop:value=media_alt
                    on:input=move |ev| set_media(media_kind(), media_url(), event_target_value(&ev))
                />
            </label>
            <div class="row">
                <label class="field">
                    <span>"Seconds on screen"</span>
                    <input
                        type="number"
                        min="1"
                        max="60"
                        step="0.5"
                        data-testid=format!("slide-{i}-duration")
                        prop:value=move || format!("{}", f64::from(slide().duration_ms) / 1000.0)
                        on:input=move |ev| {
                            if let Ok(s) = event_target_value(&ev).parse::<f64>() {
                                let ms = (s * 1000.0).round().clamp(0.0, f64::from(u32::MAX)) as u32;
                                update(&|x: &mut Slide| x.duration_ms = ms);
                            }
                        }
                    />
                </label>
                <label class="field">
                    <span>"Button label"</span>
                    <input
                        type="text"
                        data-testid=format!("slide-{i}-cta-label")
                        prop:value=move || cta().map(|c| c.label).unwrap_or_default()
                        on:input=move |ev| set_cta(event_target_value(&ev), cta().map(|c| c.url).unwrap_or_default())
                    />
                </label>
                <label class="field grow">
                    <span>"Button link (https)"</span>
                    <input
                        type="url"
                        data-testid=format!("slide-{i}-cta-url")
                        prop:value=move || cta().map(|c| c.url).unwrap_or_default()
                        on:input=move |ev| set_cta(cta().map(|c| c.label).unwrap_or_default(), event_target_value(&ev))
                    />
                </label>
            </div>
        </li>
    }
}

// ---------------------------------------------------------------------------------------
// Live sessions

fn new_session(topic: Option<String>) -> LiveSession {
    let start = (now() / HOUR + 24) * HOUR;
    LiveSession {
        id: String::new(),
        title: String::new(),
        topic: topic.unwrap_or_default(),
        host: String::new(),
        starts_at: start,
        ends_at: start + HOUR,
        join_url: String::new(),
        announce_from: start - 24 * HOUR,
    }
}

/// Live sessions: the list, or one session in the editor.
#[component]
pub fn SessionsPage() -> impl IntoView {
    let c = console();
    let items = RwSignal::new(None::<Vec<LiveSession>>);
    let error = RwSignal::new(None::<String>);
    let editing = RwSignal::new(None::<(LiveSession, bool)>);
    let saved = RwSignal::new(None::<(String, Vec<Problem>)>);
    let reload = move || load_list(c, "sessions", items, error);
    reload();
    let close = Callback::new(move |()| {
        editing.set(None);
        reload();
    });
    let list = move || {
        let now = now();
        items.get().map(|mut list| {
            list.sort_by_key(|s| std::cmp::Reverse(s.starts_at));
            let rows = list
                .into_iter()
                .map(|s| {
                    let st = if now < s.announce_from {
                        "scheduled"
                    } else if now < s.starts_at {
                        "counting down"
                    } else {
                        status(s.starts_at, s.ends_at, now)
                    };
                    let edit = s.clone();
                    view! {
                        <tr data-testid=format!("session-{}", s.id)>
                            <td><code>{s.id.clone()}</code></td>
                            <td>{s.title.clone()}</td>
                            <td>{s.host.clone()}</td>
                            <td>{show(s.announce_from)}</td>
                            <td>{show(s.starts_at)}</td>
                            <td>{show(s.ends_at)}</td>
                            <td><span class="badge">{st}</span></td>
                            <td>
                                <button class="link" on:click=move |_| editing.set(Some((edit.clone(), false)))>"Edit"</button>
                                <DeleteButton plural="sessions" id=s.id.clone() on_done=Callback::new(move |()| reload())/>
                            </td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <table class="list">
                    <thead><tr><th>"Id"</th><th>"Title"</th><th>"Host"</th><th>"Announced"</th><th>"Starts"</th><th>"Ends"</th><th>"Status"</th><th></th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            }
        })
    };
    view! {
        {move || match editing.get() {
            Some((session, is_new)) => view! { <SessionEditor session=session is_new=is_new on_close=close saved=saved/> }.into_any(),
            None => view! {
                <div class="bar">
                    <h1>"Live sessions"</h1>
                    <button class="primary" data-testid="new-session" on:click=move |_| {
                        saved.set(None);
                        editing.set(Some((new_session(c.topics().first().map(|t| t.0.clone())), true)));
                    }>"New session"</button>
                </div>
                <Published saved=saved/>
                <Show when=move || error.get().is_some()><p class="error">{move || error.get()}</p></Show>
                {list}
            }.into_any(),
        }}
    }
}

#[component]
fn SessionEditor(
    session: LiveSession,
    is_new: bool,
    on_close: Callback<()>,
    saved: RwSignal<Option<(String, Vec<Problem>)>>,
) -> impl IntoView {
    let c = console();
    let draft = RwSignal::new(session);
    let id_touched = RwSignal::new(!is_new);
    let checks = Memo::new(move |_| draft.with(|s| (s.validate(), s.lint())));
    let blocked = Signal::derive(move || checks.with(|(e, _)| !e.is_empty()));
    let outcome = RwSignal::new(Outcome::Idle);
    let on_publish = Callback::new(move |()| {
        let item = draft.get_untracked();
        let done = Callback::new(move |w: Vec<Problem>| {
            saved.set(Some((draft.with_untracked(|s| s.id.clone()), w)));
            on_close.run(());
        });
        publish(c, "sessions", item.id.clone(), item, outcome, done);
    });
    view! {
        <div class="bar"><h1>{if is_new { "New live session" } else { "Edit live session" }}</h1></div>
        <div class="editor" data-testid="session-editor">
            <div class="form">
                {text_field("Title", "session-title", move || draft.with(|s| s.title.clone()), move |v| draft.update(|s| {
                    if !id_touched.get_untracked() { s.id = slugify(&v); }
                    s.title = v;
                }))}
                <label class="field">
                    <span>"Id (cannot change later)"</span>
                    <input type="text" data-testid="session-id" disabled=!is_new
                        prop:value=move || draft.with(|s| s.id.clone())
                        on:input=move |ev| { id_touched.set(true); draft.update(|s| s.id = event_target_value(&ev)); }/>
                </label>
                <label class="field">
                    <span>"Topic"</span>
                    <select data-testid="session-topic" prop:value=move || draft.with(|s| s.topic.clone())
                        on:change=move |ev| draft.update(|s| s.topic = event_target_value(&ev))>
                        {topic_options()}
                    </select>
                </label>
                {text_field("Host (shown on the banner)", "session-host", move || draft.with(|s| s.host.clone()), move |v| draft.update(|s| s.host = v))}
                {text_field("Join link (https)", "session-join", move || draft.with(|s| s.join_url.clone()), move |v| draft.update(|s| s.join_url = v))}
                <div class="row">
                    {time_field("Announce from", "session-announce", move || draft.with(|s| s.announce_from), move |v| draft.update(|s| s.announce_from = v))}
                    {time_field("Starts at", "session-starts", move || draft.with(|s| s.starts_at), move |v| draft.update(|s| s.starts_at = v))}
                    {time_field("Ends at", "session-ends", move || draft.with(|s| s.ends_at), move |v| draft.update(|s| s.ends_at = v))}
                </div>
            </div>
            <aside><h2>"Checks"</h2><Checks checks=checks/></aside>
        </div>
        <PublishBar outcome=outcome blocked=blocked on_publish=on_publish on_cancel=on_close/>
    }
}

// ---------------------------------------------------------------------------------------
// Polls

fn new_poll() -> Poll {
    let start = (now() / MINUTE) * MINUTE;
    Poll {
        id: String::new(),
        question: String::new(),
        kind: PollKind::Rating,
        publish_at: start,
        expires_at: start + 7 * 24 * HOUR,
        show_results: false,
    }
}

fn kind_name(k: &PollKind) -> &'static str {
    match k {
        PollKind::Choice { .. } => "choice",
        PollKind::Rating => "rating",
        PollKind::Text { .. } => "text",
    }
}

/// Polls: the list, or one poll in the editor.
#[component]
pub fn PollsPage() -> impl IntoView {
    let c = console();
    let items = RwSignal::new(None::<Vec<Poll>>);
    let error = RwSignal::new(None::<String>);
    let editing = RwSignal::new(None::<(Poll, bool)>);
    let saved = RwSignal::new(None::<(String, Vec<Problem>)>);
    let reload = move || load_list(c, "polls", items, error);
    reload();
    let close = Callback::new(move |()| {
        editing.set(None);
        reload();
    });
    let list = move || {
        let now = now();
        items.get().map(|mut list| {
            list.sort_by_key(|p| std::cmp::Reverse(p.publish_at));
            let rows = list
                .into_iter()
                .map(|p| {
                    let st = status(p.publish_at, p.expires_at, now);
                    let edit = p.clone();
                    view! {
                        <tr data-testid=format!("poll-{}", p.id)>
                            <td><code>{p.id.clone()}</code></td>
                            <td>{p.question.clone()}</td>
                            <td>{kind_name(&p.kind)}</td>
                            <td>{show(p.publish_at)}</td>
                            <td>{show(p.expires_at)}</td>
                            <td><span class=format!("badge {st}")>{st}</span></td>
                            <td>
                                <button class="link" on:click=move |_| editing.set(Some((edit.clone(), false)))>"Edit"</button>
                                <DeleteButton plural="polls" id=p.id.clone() on_done=Callback::new(move |()| reload())/>
                            </td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <table class="list">
                    <thead><tr><th>"Id"</th><th>"Question"</th><th>"Kind"</th><th>"Publish"</th><th>"Expires"</th><th>"Status"</th><th></th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            }
        })
    };
    view! {
        {move || match editing.get() {
            Some((poll, is_new)) => view! { <PollEditor poll=poll is_new=is_new on_close=close saved=saved/> }.into_any(),
            None => view! {
                <div class="bar">
                    <h1>"Polls"</h1>
                    <button class="primary" data-testid="new-poll" on:click=move |_| {
                        saved.set(None);
                        editing.set(Some((new_poll(), true)));
                    }>"New poll"</button>
                </div>
                <Published saved=saved/>
                <Show when=move || error.get().is_some()><p class="error">{move || error.get()}</p></Show>
                {list}
            }.into_any(),
        }}
    }
}

#[component]
fn PollEditor(
    poll: Poll,
    is_new: bool,
    on_close: Callback<()>,
    saved: RwSignal<Option<(String, Vec<Problem>)>>,
) -> impl IntoView {
    let c = console();
    let draft = RwSignal::new(poll);
    let id_touched = RwSignal::new(!is_new);
    let checks = Memo::new(move |_| draft.with(|p| (p.validate(), p.lint())));
    let blocked = Signal::derive(move || checks.with(|(e, _)| !e.is_empty()));
    let outcome = RwSignal::new(Outcome::Idle);
    // The options as typed, one per line (kept apart so blank lines survive while typing).
    let options_text = RwSignal::new(match &draft.get_untracked().kind {
        PollKind::Choice { options } => options.join("\n"),
        _ => String::new(),
    });
    let max_chars = RwSignal::new(match &draft.get_untracked().kind {
        PollKind::Text { max_chars } => *max_chars,
        _ => PollKind::TEXT_MAX,
    });
    let set_kind = move |k: &str| {
        let kind = match k {
            "choice" => PollKind::Choice {
                options: options_text
                    .get_untracked()
                    .lines()
                    .map(|l| l.trim().to_string())
                    .filter(|l| !l.is_empty())
                    .collect(),
            },
            "text" => PollKind::Text {
                max_chars: max_chars.get_untracked(),
            },
            _ => PollKind::Rating,
        };
        draft.update(|p| p.kind = kind);
    };
    let kind = move || draft.with(|p| kind_name(&p.kind));
    let on_publish = Callback::new(move |()| {
        let item = draft.get_untracked();
        let done = Callback::new(move |w: Vec<Problem>| {
            saved.set(Some((draft.with_untracked(|p| p.id.clone()), w)));
            on_close.run(());
        });
        publish(c, "polls", item.id.clone(), item, outcome, done);
    });
    view! {
        <div class="bar"><h1>{if is_new { "New poll" } else { "Edit poll" }}</h1></div>
        <div class="editor" data-testid="poll-editor">
            <div class="form">
                {text_field("Question", "poll-question", move || draft.with(|p| p.question.clone()), move |v| draft.update(|p| {
                    if !id_touched.get_untracked() { p.id = slugify(&v); }
                    p.question = v;
                }))}
                <label class="field">
                    <span>"Id (cannot change later)"</span>
                    <input type="text" data-testid="poll-id" disabled=!is_new
                        prop:value=move || draft.with(|p| p.id.clone())
                        on:input=move |ev| { id_touched.set(true); draft.update(|p| p.id = event_target_value(&ev)); }/>
                </label>
                <label class="field">
                    <span>"Kind"</span>
                    <select data-testid="poll-kind" prop:value=kind on:change=move |ev| set_kind(&event_target_value(&ev))>
                        <option value="rating">"Rating (1-5 stars, counts as CSAT)"</option>
                        <option value="choice">"Choice (2-6 options)"</option>
                        <option value="text">"Short text"</option>
                    </select>
                </label>
                <Show when=move || kind() == "choice">
                    <label class="field">
                        <span>"Options, one per line"</span>
                        <textarea rows="5" data-testid="poll-options"
                            prop:value=move || options_text.get()
                            on:input=move |ev| { options_text.set(event_target_value(&ev)); set_kind("choice"); }></textarea>
                    </label>
                </Show>
                <Show when=move || kind() == "text">
                    <label class="field">
                        <span>"Longest answer (characters)"</span>
                        <input type="number" min="1" max="200" data-testid="poll-max-chars"
                            prop:value=move || max_chars.get().to_string()
                            on:input=move |ev| {
                                if let Ok(n) = event_target_value(&ev).parse::<u16>() { max_chars.set(n); set_kind("text"); }
                            }/>
                    </label>
                </Show>
                <div class="row">
                    {time_field("Publish at", "poll-publish", move || draft.with(|p| p.publish_at), move |v| draft.update(|p| p.publish_at = v))}
                    {time_field("Expires at", "poll-expires", move || draft.with(|p| p.expires_at), move |v| draft.update(|p| p.expires_at = v))}
                </div>
                <label class="check">
                    <input type="checkbox" data-testid="poll-show-results"
                        prop:checked=move || draft.with(|p| p.show_results)
                        on:change=move |ev| draft.update(|p| p.show_results = event_target_checked(&ev))/>
                    " Show visitors the results after they answer"
                </label>
            </div>
            <aside><h2>"Checks"</h2><Checks checks=checks/></aside>
        </div>
        <PublishBar outcome=outcome blocked=blocked on_publish=on_publish on_cancel=on_close/>
    }
}
