//! The live Q&A host view: pick a session (the one live now by default), read its room
//! (`GET …/live/{session}`) every [`POLL_MS`] while the page is shown, set the status line and
//! stream link, answer, pin, hide and mark questions done, and end the session. Ending it
//! shows the recap: the story draft's slides (published here with the normal story PUT) and
//! the knowledge-base drafts, edited and published on the knowledge-base page.
//!
//! Polling never wipes what the host is typing: the list is keyed by question id, each
//! question's answer and story inputs live in signals of the page (not in the polled room),
//! and while an answer box has the focus the list keeps its order (a question moving under
//! the caret would lose it); the next look after that puts it in the server's order again.

use std::collections::HashMap;
use std::time::Duration;

use glimpse_shared::live::{
    HostAction, HostStatus, PublicQuestion, PublicRoom, QuestionState, Recap,
};
use glimpse_shared::{LiveSession, Millis, Story};
use leptos::prelude::*;
use serde::Deserialize;
use serde_json::Value;

use crate::api;
use crate::app::{Console, console};
use crate::time::{duration, now, show};

/// How often the host view reads the room, in ms.
pub const POLL_MS: u64 = 2_000;

const HOUR: Millis = 3_600_000;
/// An ended session stays in the picker this long after its end (or while its answers are
/// shown in the widget, if longer).
const RECENT_MS: Millis = 7 * 24 * HOUR;
/// A session starting within this is preferred over one that ended.
const SOON_MS: Millis = HOUR;

/// Where a session stands for the host at some instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Live,
    Upcoming,
    Ended,
}

/// The phase of `s` at `now` (by its times; a host can end a session early).
pub fn phase(s: &LiveSession, now: Millis) -> Phase {
    if now < s.starts_at {
        Phase::Upcoming
    } else if now < s.ends_at {
        Phase::Live
    } else {
        Phase::Ended
    }
}

/// The sessions worth hosting at `now`, best first: live now (latest start first), starting
/// within the hour, ended recently (latest end first), later ones (soonest first). Sessions
/// that ended long ago are left out.
pub fn choices(sessions: &[LiveSession], now: Millis) -> Vec<LiveSession> {
    let rank = |s: &LiveSession| -> (u8, Millis) {
        match phase(s, now) {
            Phase::Live => (0, -s.starts_at),
            Phase::Upcoming if s.starts_at - now <= SOON_MS => (1, s.starts_at),
            Phase::Ended => (2, -s.ends_at),
            Phase::Upcoming => (3, s.starts_at),
        }
    };
    let mut out: Vec<LiveSession> = sessions
        .iter()
        .filter(|s| phase(s, now) != Phase::Ended || now < (s.ends_at + RECENT_MS).max(s.over_at()))
        .cloned()
        .collect();
    out.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.id.cmp(&b.id)));
    out
}

/// The session picked when the page opens: the one live now, else the best of [`choices`].
pub fn default_session(choices: &[LiveSession]) -> Option<String> {
    choices.first().map(|s| s.id.clone())
}

/// How the picker names a session at `now`.
pub fn session_label(s: &LiveSession, now: Millis) -> String {
    let when = match phase(s, now) {
        Phase::Live => "live now".to_string(),
        Phase::Upcoming => format!("starts in {}", duration(s.starts_at - now)),
        Phase::Ended => format!("ended {} ago", duration(now - s.ends_at)),
    };
    format!("{} — {when}", s.title)
}

/// The API's word for a question's state (the `data-state` attribute).
pub fn state_name(state: QuestionState) -> &'static str {
    match state {
        QuestionState::Waiting => "waiting",
        QuestionState::Answered => "answered",
        QuestionState::Hidden => "hidden",
        QuestionState::Done => "done",
    }
}

/// The buttons a question offers, in order: `(action, label, test id)`.
pub fn buttons(q: &PublicQuestion) -> Vec<(HostAction, &'static str, &'static str)> {
    let pin = if q.pinned {
        (HostAction::Unpin, "Unpin", "live-unpin")
    } else {
        (HostAction::Pin, "Pin", "live-pin")
    };
    let hide = (HostAction::Hide, "Hide", "live-hide");
    let restore = (HostAction::Restore, "Restore", "live-restore");
    match q.state {
        QuestionState::Hidden => vec![restore],
        QuestionState::Done => vec![pin, restore, hide],
        QuestionState::Waiting | QuestionState::Answered => {
            vec![pin, hide, (HostAction::Done, "Done", "live-done")]
        }
    }
}

/// The order the list shows: the server's (`fresh`), or while the host types in a question's
/// answer (`hold`), the order shown before (`shown`) with questions gone left out and new ones
/// added at the end.
pub fn display_order(shown: Option<&[String]>, fresh: &[String], hold: bool) -> Vec<String> {
    match shown {
        Some(shown) if hold => {
            let mut out: Vec<String> = shown
                .iter()
                .filter(|id| fresh.contains(id))
                .cloned()
                .collect();
            out.extend(fresh.iter().filter(|id| !shown.contains(id)).cloned());
            out
        }
        _ => fresh.to_vec(),
    }
}

/// The room with `q` (as the API answered an action) in place of its old self, in order.
pub fn with_question(room: &mut PublicRoom, q: PublicQuestion) {
    match room.questions.iter_mut().find(|x| x.id == q.id) {
        Some(old) => *old = q,
        None => room.questions.push(q),
    }
    glimpse_shared::live::order(&mut room.questions);
}

/// What ending a session (`POST …/end`) or reading its recap (`GET …/recap`) answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct RecapAnswer {
    #[serde(default)]
    pub ended_at: Option<Millis>,
    #[serde(default)]
    pub recap: Option<Recap>,
    /// The knowledge-base drafts' entry ids.
    #[serde(default)]
    pub kb: Vec<String>,
}

impl RecapAnswer {
    /// Each knowledge-base draft: its entry id and, when the recap has it, its title.
    pub fn kb_rows(&self) -> Vec<(String, Option<String>)> {
        self.kb
            .iter()
            .map(|id| {
                let title = self.recap.as_ref().and_then(|r| {
                    r.kb.iter()
                        .find(|(qid, _)| {
                            let source = glimpse_shared::live::kb_source_id(qid);
                            *id == source || id.ends_with(&format!("-{source}"))
                        })
                        .map(|(_, d)| d.title.clone())
                });
                (id.clone(), title)
            })
            .collect()
    }
}

/// A question's action: its id, the action, and what to call with the outcome (an error
/// message to show, or nothing).
type Act = Callback<(String, HostAction, Callback<Result<(), String>>)>;

/// The inputs of one question's answer, kept by the page across polls.
#[derive(Debug, Clone, Copy)]
struct AnswerDraft {
    text: RwSignal<String>,
    story: RwSignal<String>,
}

fn live_path(c: &Console, session: &str, rest: &str) -> String {
    c.path(&format!("/live/{session}{rest}"))
}

/// The live Q&A page.
#[component]
pub fn LivePage() -> impl IntoView {
    let c = console();
    let sessions = RwSignal::new(None::<Vec<LiveSession>>);
    let chosen = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let load = move || {
        let path = c.path("/sessions");
        leptos::task::spawn_local(async move {
            #[derive(Deserialize)]
            struct List {
                #[serde(default)]
                sessions: Vec<Value>,
            }
            match api::get::<List>(&path).await {
                Ok(l) => {
                    let all: Vec<LiveSession> = l
                        .sessions
                        .into_iter()
                        .filter_map(|v| serde_json::from_value(v).ok())
                        .collect();
                    let list = choices(&all, now());
                    let keep = chosen
                        .try_get_untracked()
                        .flatten()
                        .filter(|id| list.iter().any(|s| &s.id == id));
                    let _ = error.try_set(None);
                    let pick = default_session(&list);
                    // The list first: the host view looks its session up in it.
                    let _ = sessions.try_set(Some(list));
                    if keep.is_none() {
                        let _ = chosen.try_set(pick);
                    }
                }
                Err(f) => {
                    let _ = error.try_set(Some(c.fail(&f)));
                }
            }
        });
    };
    load();
    let options = move || {
        let now = now();
        sessions
            .get()
            .unwrap_or_default()
            .into_iter()
            .map(|s| {
                let picked = chosen.with_untracked(|c| c.as_deref() == Some(s.id.as_str()));
                view! { <option value=s.id.clone() selected=picked>{session_label(&s, now)}</option> }
            })
            .collect_view()
    };
    // The host view is made again only when another session is chosen.
    let host = move || {
        let id = chosen.get()?;
        let session = sessions.with_untracked(|l| {
            l.as_ref()
                .and_then(|l| l.iter().find(|s| s.id == id).cloned())
        })?;
        Some(untrack(move || view! { <HostView session=session/> }))
    };
    view! {
        <div class="bar">
            <h1>"Live Q&A"</h1>
            <label class="field">
                <span>"Session"</span>
                <select
                    data-testid="live-session-select"
                    prop:value=move || chosen.get().unwrap_or_default()
                    on:change=move |ev| chosen.set(Some(event_target_value(&ev)))
                >
                    {options}
                </select>
            </label>
            <button on:click=move |_| load()>"Refresh"</button>
        </div>
        <Show when=move || error.get().is_some()><p class="error" role="alert">{move || error.get()}</p></Show>
        <Show when=move || sessions.with(|s| s.as_ref().is_some_and(Vec::is_empty))>
            <p class="sub" data-testid="live-none">"No live session is running, coming up or recently over. Schedule one on the Live sessions page."</p>
        </Show>
        {host}
    }
}

/// One session's room, as its host sees and runs it.
#[component]
fn HostView(session: LiveSession) -> impl IntoView {
    let c = console();
    let id = StoredValue::new(session.id.clone());
    let room = RwSignal::new(None::<PublicRoom>);
    let error = RwSignal::new(None::<String>);
    // Counts the actions that changed the room here: a look sent before one is not shown.
    let epoch = RwSignal::new(0_u64);
    let looking = RwSignal::new(false);
    // The question whose answer inputs have the focus: the list holds its order meanwhile.
    let typing = RwSignal::new(None::<String>);
    let page = Owner::current();
    let drafts = StoredValue::new(HashMap::<String, AnswerDraft>::new());
    let status = RwSignal::new(String::new());
    let stream = RwSignal::new(String::new());
    let status_filled = RwSignal::new(false);
    let recap = RwSignal::new(None::<RecapAnswer>);
    let recap_asked = RwSignal::new(false);
    let stories = RwSignal::new(Vec::<String>::new());

    let look = move || {
        if looking.try_get_untracked().unwrap_or(true) {
            return;
        }
        looking.set(true);
        let sent = epoch.get_untracked();
        let path = live_path(&c, &id.get_value(), "");
        leptos::task::spawn_local(async move {
            let got = api::get::<PublicRoom>(&path).await;
            let _ = looking.try_set(false);
            match got {
                Ok(r) => {
                    if epoch.try_get_untracked() != Some(sent) {
                        return;
                    }
                    if !status_filled.get_untracked() {
                        status_filled.set(true);
                        status.set(r.status.clone());
                        stream.set(r.stream_url.clone().unwrap_or_default());
                    }
                    let _ = error.try_set(None);
                    let _ = room.try_set(Some(r));
                }
                Err(f) => {
                    let _ = error.try_set(Some(c.explain(&f)));
                }
            }
        });
    };
    look();
    match set_interval_with_handle(look, Duration::from_millis(POLL_MS)) {
        Ok(handle) => on_cleanup(move || handle.clear()),
        Err(e) => {
            web_sys::console::warn_2(&"Glimpse console: the live view is not live".into(), &e)
        }
    }
    // The site's stories, offered for an answer's link.
    {
        let path = c.path("/stories");
        leptos::task::spawn_local(async move {
            if let Ok(v) = api::get::<Value>(&path).await {
                let ids = v["stories"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|s| s["id"].as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                let _ = stories.try_set(ids);
            }
        });
    }
    // Once over (ended here, elsewhere or earlier), the recap.
    Effect::new(move |_| {
        let ended = room.with(|r| r.as_ref().is_some_and(|r| r.ended_at.is_some()));
        if !ended || recap_asked.get_untracked() || recap.with_untracked(Option::is_some) {
            return;
        }
        recap_asked.set(true);
        let path = live_path(&c, &id.get_value(), "/recap");
        leptos::task::spawn_local(async move {
            match api::get::<RecapAnswer>(&path).await {
                Ok(r) => {
                    let _ = recap.try_set(Some(r));
                }
                Err(f) => {
                    let _ = error.try_set(Some(c.explain(&f)));
                }
            }
        });
    });

    // A question's action; the answered question replaces its old self at once.
    let act = Callback::new(
        move |(qid, action, done): (String, HostAction, Callback<Result<(), String>>)| {
            let path = live_path(&c, &id.get_value(), &format!("/questions/{qid}"));
            leptos::task::spawn_local(async move {
                #[derive(Deserialize)]
                struct Acted {
                    question: PublicQuestion,
                }
                match api::call::<Acted>("POST", &path, Some(&action)).await {
                    Ok(a) => {
                        let _ = epoch.try_update(|e| *e += 1);
                        let _ = room.try_update(|r| {
                            if let Some(r) = r {
                                with_question(r, a.question);
                            }
                        });
                        done.run(Ok(()));
                    }
                    Err(f) => done.run(Err(c.explain(&f))),
                }
            });
        },
    );

    let draft_for = move |q: &PublicQuestion| -> AnswerDraft {
        if let Some(d) = drafts.with_value(|m| m.get(&q.id).copied()) {
            return d;
        }
        let answer = q.answer.clone();
        let make = move || AnswerDraft {
            text: RwSignal::new(answer.as_ref().map(|a| a.text.clone()).unwrap_or_default()),
            story: RwSignal::new(answer.and_then(|a| a.story).unwrap_or_default()),
        };
        // Owned by the page, so a question's inputs outlive its row being made again.
        let d = match &page {
            Some(o) => o.with(make),
            None => make(),
        };
        drafts.update_value(|m| {
            m.insert(q.id.clone(), d);
        });
        d
    };

    let order = Memo::new(move |shown: Option<&Vec<String>>| {
        let fresh: Vec<String> = room.with(|r| {
            r.as_ref()
                .map(|r| r.questions.iter().map(|q| q.id.clone()).collect())
                .unwrap_or_default()
        });
        let hold = typing.with_untracked(Option::is_some);
        display_order(shown.map(Vec::as_slice), &fresh, hold)
    });

    let row = move |qid: String| {
        let q = Memo::new({
            let qid = qid.clone();
            move |_| {
                room.with(|r| {
                    r.as_ref()
                        .and_then(|r| r.questions.iter().find(|x| x.id == qid).cloned())
                })
            }
        });
        let Some(first) = q.get_untracked() else {
            return ().into_any();
        };
        let draft = draft_for(&first);
        view! { <QuestionRow q=q draft=draft typing=typing act=act/> }.into_any()
    };

    // The status line and stream link.
    let status_error = RwSignal::new(None::<api::Failure>);
    let status_saved = RwSignal::new(false);
    let status_busy = RwSignal::new(false);
    let save_status = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let url = stream.get_untracked().trim().to_string();
        let body = HostStatus {
            status: status.get_untracked().trim().to_string(),
            stream_url: (!url.is_empty()).then_some(url),
        };
        if let Some(p) = body.validate().into_iter().next() {
            status_error.set(Some(api::Failure {
                status: 400,
                message: format!("{}: {}", p.field, p.message),
                field: Some(p.field.clone()),
                problems: vec![p],
            }));
            return;
        }
        status_busy.set(true);
        status_saved.set(false);
        let path = live_path(&c, &id.get_value(), "/status");
        leptos::task::spawn_local(async move {
            match api::call::<Value>("PUT", &path, Some(&body)).await {
                Ok(_) => {
                    let _ = status_error.try_set(None);
                    let _ = status_saved.try_set(true);
                    let _ = room.try_update(|r| {
                        if let Some(r) = r {
                            r.status = body.status;
                            r.stream_url = body.stream_url;
                        }
                    });
                }
                Err(f) => {
                    let _ = c.fail(&f);
                    let _ = status_error.try_set(Some(f));
                }
            }
            let _ = status_busy.try_set(false);
        });
    };
    let invalid = move |field: &str| {
        status_error.with(|e| e.as_ref().is_some_and(|e| e.names(field)).then_some("true"))
    };

    // Ending: a second click confirms.
    let armed = RwSignal::new(false);
    let ending = RwSignal::new(false);
    let end = move |_| {
        if !armed.get_untracked() {
            armed.set(true);
            return;
        }
        armed.set(false);
        ending.set(true);
        let path = live_path(&c, &id.get_value(), "/end");
        leptos::task::spawn_local(async move {
            match api::call::<RecapAnswer>("POST", &path, None::<&()>).await {
                Ok(r) => {
                    let ended_at = r.ended_at.unwrap_or_else(now);
                    let _ = recap_asked.try_set(true);
                    let _ = recap.try_set(Some(r));
                    let _ = epoch.try_update(|e| *e += 1);
                    let _ = room.try_update(|room| {
                        if let Some(room) = room {
                            room.ended_at.get_or_insert(ended_at);
                        }
                    });
                }
                Err(f) => {
                    let _ = error.try_set(Some(c.explain(&f)));
                }
            }
            let _ = ending.try_set(false);
            look();
        });
    };
    let ended_at = move || room.with(|r| r.as_ref().and_then(|r| r.ended_at));
    let poll_s = POLL_MS / 1000;
    let title = session.title.clone();
    let times = format!(
        "Hosted by {} · {} to {}",
        session.host,
        show(session.starts_at),
        show(session.ends_at)
    );
    view! {
        <section class="panel live-host" data-testid="live-host" data-session=session.id.clone()>
            <div class="bar">
                <h2>{title}</h2>
                <span class="sub">
                    <strong data-testid="live-watching">{move || room.with(|r| r.as_ref().map_or(0, |r| r.watching))}</strong>
                    " watching"
                </span>
                <span class="sub live" title=format!("The room is read every {poll_s} seconds while this page is open")>
                    {format!("Live · every {poll_s} s")}
                </span>
                {move || ended_at().map(|at| view! {
                    <span class="badge over" data-testid="live-ended">{format!("Ended {}", show(at))}</span>
                })}
            </div>
            <p class="sub">{times}</p>
            <Show when=move || error.get().is_some()><p class="error" role="alert">{move || error.get()}</p></Show>
            <form class="row live-status" on:submit=save_status aria-label="Status line and stream link">
                <label class="field grow">
                    <span>"Status line (shown to everyone watching)"</span>
                    <input type="text" maxlength="140" data-testid="live-status-input"
                        placeholder="e.g. Starting in 2 minutes"
                        aria-invalid=move || invalid("status")
                        bind:value=status/>
                </label>
                <label class="field grow">
                    <span>"Stream link (https, optional)"</span>
                    <input type="url" data-testid="live-stream-input"
                        placeholder="https://…"
                        aria-invalid=move || invalid("stream_url")
                        bind:value=stream/>
                </label>
                <button type="submit" class="primary" data-testid="live-status-save" disabled=move || status_busy.get()>"Save status"</button>
            </form>
            <Show when=move || status_error.get().is_some()>
                <p class="error" role="alert">{move || status_error.get().map(|f| f.detail())}</p>
            </Show>
            <Show when=move || status_saved.get()><p class="sub" role="status">"Status saved."</p></Show>
        </section>
        <Show when=move || room.with(|r| r.as_ref().is_some_and(|r| r.questions.is_empty()))>
            <p class="sub" data-testid="live-empty">"No questions yet."</p>
        </Show>
        <datalist id="live-stories">
            {move || stories.get().into_iter().map(|s| view! { <option value=s/> }).collect_view()}
        </datalist>
        <ul class="live-questions" data-testid="live-questions" aria-label="Questions: pinned first, then by votes">
            <For each=move || order.get() key=|id: &String| id.clone() children=row/>
        </ul>
        <div class="actions">
            <Show when=move || ended_at().is_none()>
                <button class="danger" data-testid="live-end" disabled=move || ending.get() on:click=end>
                    {move || if armed.get() { "Really end it? Visitors can no longer ask or vote" } else { "End the session" }}
                </button>
                <Show when=move || armed.get()>
                    <button class="link" on:click=move |_| armed.set(false)>"Cancel"</button>
                </Show>
            </Show>
        </div>
        {move || recap.get().map(|r| view! { <RecapView answer=r/> })}
    }
}

/// One question: its text, votes and answer, the answer form and its buttons.
#[component]
fn QuestionRow(
    q: Memo<Option<PublicQuestion>>,
    draft: AnswerDraft,
    typing: RwSignal<Option<String>>,
    act: Act,
) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let qid = StoredValue::new(
        q.with_untracked(|q| q.as_ref().map(|q| q.id.clone()))
            .unwrap_or_default(),
    );
    let run = move |action: HostAction| {
        if let Some(p) = action.validate().into_iter().next() {
            error.set(Some(format!("{}: {}", p.field, p.message)));
            return;
        }
        busy.set(true);
        let done = Callback::new(move |r: Result<(), String>| {
            let _ = busy.try_set(false);
            let _ = error.try_set(r.err());
        });
        act.run((qid.get_value(), action, done));
    };
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let story = draft.story.get_untracked().trim().to_string();
        run(HostAction::Answer {
            text: draft.text.get_untracked().trim().to_string(),
            story: (!story.is_empty()).then_some(story),
        });
    };
    let field = move |f: fn(&PublicQuestion) -> String| {
        move || q.with(|q| q.as_ref().map(f).unwrap_or_default())
    };
    let state = move || q.with(|q| q.as_ref().map(|q| q.state));
    let focus = move |_| typing.set(Some(qid.get_value()));
    let blur = move |_| typing.set(None);
    view! {
        <li
            class="live-question"
            class:pinned=move || q.with(|q| q.as_ref().is_some_and(|q| q.pinned))
            data-testid="live-question"
            data-id=qid.get_value()
            data-state=move || state().map(state_name)
            data-pinned=move || q.with(|q| q.as_ref().is_some_and(|q| q.pinned)).to_string()
        >
            <div class="live-head">
                <span class="live-votes" aria-label="votes">
                    <strong data-testid="live-votes">{field(|q| q.votes.to_string())}</strong>
                    <span class="sub">" votes"</span>
                </span>
                <p class="live-text" data-testid="live-question-text">{field(|q| q.text.clone())}</p>
                {move || q.with(|q| q.as_ref().map(|q| {
                    let (class, label) = match q.state {
                        QuestionState::Waiting => ("badge scheduled", "Waiting"),
                        QuestionState::Answered => ("badge live", "Answered"),
                        QuestionState::Done => ("badge over", "Done"),
                        QuestionState::Hidden => ("badge warn", "Hidden"),
                    };
                    view! {
                        {q.pinned.then(|| view! { <span class="badge new">"Pinned"</span> })}
                        " "<span class=class>{label}</span>
                        <span class="sub">{format!(" · asked {}", show(q.asked_at))}</span>
                    }
                }))}
            </div>
            {move || q.with(|q| q.as_ref().and_then(|q| q.answer.clone())).map(|a| view! {
                <blockquote class="live-answer" data-testid="live-answer">
                    <span class="text">{a.text}</span>
                    {a.story.map(|s| view! { <span class="sub">" · story "<code>{s}</code></span> })}
                </blockquote>
            })}
            <form class="row live-answer-form" on:submit=send aria-label="Answer">
                <label class="field grow">
                    <span>{move || if q.with(|q| q.as_ref().is_some_and(|q| q.answer.is_some())) { "Change the answer" } else { "Answer (everyone watching sees it)" }}</span>
                    <textarea rows="2" maxlength="1000" data-testid="live-answer-input"
                        prop:value=move || draft.text.get()
                        on:input=move |ev| draft.text.set(event_target_value(&ev))
                        on:focus=focus on:blur=blur></textarea>
                </label>
                <label class="field">
                    <span>"Story id (optional)"</span>
                    <input type="text" data-testid="live-answer-story" list="live-stories"
                        prop:value=move || draft.story.get()
                        on:input=move |ev| draft.story.set(event_target_value(&ev))
                        on:focus=focus on:blur=blur/>
                </label>
                <button type="submit" class="primary" data-testid="live-answer-send"
                    disabled=move || busy.get() || draft.text.with(|t| t.trim().is_empty())>
                    "Send answer"</button>
            </form>
            <div class="row live-buttons">
                {move || q.with(|q| q.as_ref().map(buttons).unwrap_or_default())
                    .into_iter()
                    .map(|(action, label, testid)| view! {
                        <button data-testid=testid disabled=move || busy.get()
                            on:click=move |_| run(action.clone())>{label}</button>
                    })
                    .collect_view()}
            </div>
            <Show when=move || error.get().is_some()><p class="error" role="alert">{move || error.get()}</p></Show>
        </li>
    }
}

/// The recap once a session is over: the story draft's slides and the KB drafts.
#[component]
fn RecapView(answer: RecapAnswer) -> impl IntoView {
    let c = console();
    let kb = answer.kb_rows();
    let Some(recap) = answer.recap else {
        return view! {
            <section class="panel live-recap" data-testid="live-recap">
                <h2>"Recap"</h2>
                <p class="sub">"Nothing was answered, so there is no recap to publish."</p>
            </section>
        }
        .into_any();
    };
    let story: Story = recap.story;
    let error = RwSignal::new(None::<String>);
    let published = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let publish = {
        let story = story.clone();
        move |_| {
            let story = story.clone();
            if let Some(p) = story.validate().into_iter().next() {
                error.set(Some(format!("{}: {}", p.field, p.message)));
                return;
            }
            busy.set(true);
            let path = c.path(&format!("/stories/{}", story.id));
            leptos::task::spawn_local(async move {
                match api::call::<Value>("PUT", &path, Some(&story)).await {
                    Ok(_) => {
                        let _ = error.try_set(None);
                        let _ = published.try_set(true);
                    }
                    Err(f) => {
                        let _ = error.try_set(Some(c.explain(&f)));
                    }
                }
                let _ = busy.try_set(false);
            });
        }
    };
    let slides = story
        .slides
        .iter()
        .map(|s| view! { <li class="slide"><p class="text">{s.text.clone()}</p></li> })
        .collect_view();
    let span = format!(
        "Publishing shows it to visitors from {} until {}.",
        show(story.publish_at.max(now())),
        show(story.expires_at)
    );
    let kb_list = kb
        .into_iter()
        .map(|(id, title)| {
            let label = title.unwrap_or_else(|| id.clone());
            let data_id = id.clone();
            view! {
                <li data-id=data_id>
                    <a href="#/kb">{label}</a>" "<code class="sub">{id}</code>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="panel live-recap" data-testid="live-recap" data-story=story.id.clone()>
            <h2>"Recap story draft: " {story.title.clone()}</h2>
            <p class="sub">{span}" You can edit it on the Stories page afterwards ("<code>{story.id.clone()}</code>")."</p>
            <ol class="slides">{slides}</ol>
            <Show when=move || error.get().is_some()><p class="error" role="alert">{move || error.get()}</p></Show>
            <Show when=move || published.get()>
                <p role="status" data-testid="live-recap-published">"Published. "<a href="#/stories">"Open the stories"</a></p>
            </Show>
            <button class="primary" data-testid="live-recap-publish"
                disabled=move || busy.get() || published.get() on:click=publish>"Publish the recap story"</button>
            <h3>"Knowledge-base drafts"</h3>
            <p class="sub">"Unpublished until you publish them: edit and publish each on the "<a href="#/kb">"Knowledge base"</a>" page."</p>
            <ul class="live-recap-kb" data-testid="live-recap-kb">{kb_list}</ul>
        </section>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use glimpse_shared::kb::KbDraft;

    use super::*;

    fn session(id: &str, starts_at: Millis, ends_at: Millis) -> LiveSession {
        LiveSession {
            id: id.into(),
            title: format!("Session {id}"),
            topic: "orders".into(),
            host: "Ana".into(),
            starts_at,
            ends_at,
            join_url: "https://example.com/live".into(),
            announce_from: starts_at - HOUR,
            answers_until: None,
            targeting: Default::default(),
            translations: Default::default(),
        }
    }

    fn q(id: &str, state: QuestionState, pinned: bool) -> PublicQuestion {
        PublicQuestion {
            id: id.into(),
            text: format!("question {id}"),
            asked_at: 1,
            votes: 0,
            state,
            pinned,
            answer: None,
        }
    }

    fn ids(list: &[LiveSession]) -> Vec<&str> {
        list.iter().map(|s| s.id.as_str()).collect()
    }

    #[test]
    fn the_session_live_now_comes_first_and_is_picked() {
        let now = 1_000 * HOUR;
        let all = vec![
            session("old", 10 * HOUR, 11 * HOUR),
            session("ended", now - 3 * HOUR, now - 2 * HOUR),
            session("later", now + 5 * HOUR, now + 6 * HOUR),
            session("live", now - HOUR, now + HOUR),
            session("soon", now + HOUR / 2, now + 2 * HOUR),
        ];
        let list = choices(&all, now);
        assert_eq!(ids(&list), ["live", "soon", "ended", "later"]);
        assert_eq!(default_session(&list).as_deref(), Some("live"));
        // Without a live one: the one starting soon, then the one just over.
        let list = choices(&all[..3], now);
        assert_eq!(ids(&list), ["ended", "later"]);
        assert_eq!(default_session(&list).as_deref(), Some("ended"));
        assert_eq!(default_session(&[]), None);
    }

    #[test]
    fn an_ended_session_stays_while_its_answers_are_shown() {
        let now = 1_000 * HOUR;
        let mut s = session("s", now - 10 * 24 * HOUR, now - 9 * 24 * HOUR);
        assert!(choices(std::slice::from_ref(&s), now).is_empty());
        s.answers_until = Some(now + HOUR);
        assert_eq!(ids(&choices(&[s], now)), ["s"]);
    }

    #[test]
    fn labels_say_where_a_session_stands() {
        let now = 100 * HOUR;
        assert_eq!(
            session_label(&session("a", now - HOUR, now + HOUR), now),
            "Session a — live now"
        );
        assert_eq!(
            session_label(&session("a", now + 2 * HOUR, now + 3 * HOUR), now),
            "Session a — starts in 2.0 h"
        );
        assert_eq!(
            session_label(&session("a", now - 2 * HOUR, now - 60_000), now),
            "Session a — ended 60 s ago"
        );
    }

    #[test]
    fn buttons_follow_the_state() {
        let tids =
            |q: &PublicQuestion| -> Vec<&str> { buttons(q).into_iter().map(|b| b.2).collect() };
        assert_eq!(
            tids(&q("a", QuestionState::Waiting, false)),
            ["live-pin", "live-hide", "live-done"]
        );
        assert_eq!(
            tids(&q("a", QuestionState::Answered, true)),
            ["live-unpin", "live-hide", "live-done"]
        );
        assert_eq!(
            tids(&q("a", QuestionState::Done, false)),
            ["live-pin", "live-restore", "live-hide"]
        );
        assert_eq!(
            tids(&q("a", QuestionState::Hidden, false)),
            ["live-restore"]
        );
        assert_eq!(
            buttons(&q("a", QuestionState::Waiting, true))[0].0,
            HostAction::Unpin
        );
        assert_eq!(state_name(QuestionState::Done), "done");
    }

    #[test]
    fn the_order_holds_while_the_host_types() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let shown = v(&["a", "b", "c"]);
        let fresh = v(&["c", "d", "a"]);
        assert_eq!(display_order(Some(&shown), &fresh, false), fresh);
        assert_eq!(
            display_order(Some(&shown), &fresh, true),
            v(&["a", "c", "d"])
        );
        assert_eq!(display_order(None, &fresh, true), fresh);
    }

    #[test]
    fn an_acted_on_question_takes_its_place() {
        let mut room = PublicRoom {
            session: "s".into(),
            version: 3,
            status: String::new(),
            stream_url: None,
            ended_at: None,
            questions: vec![
                q("a", QuestionState::Waiting, false),
                q("b", QuestionState::Waiting, false),
            ],
            watching: 2,
        };
        with_question(&mut room, q("b", QuestionState::Waiting, true));
        let order: Vec<&str> = room.questions.iter().map(|q| q.id.as_str()).collect();
        assert_eq!(order, ["b", "a"]);
        with_question(&mut room, q("b", QuestionState::Hidden, false));
        let order: Vec<&str> = room.questions.iter().map(|q| q.id.as_str()).collect();
        assert_eq!(order, ["a", "b"]);
    }

    #[test]
    fn recap_answers_list_the_kb_drafts_with_their_titles() {
        let json = r#"{"ended_at":5,"recap":null,"kb":["question-live-q1"]}"#;
        let a: RecapAnswer = serde_json::from_str(json).unwrap();
        assert_eq!(a.kb_rows(), [("question-live-q1".to_string(), None)]);
        let draft = KbDraft {
            topic: "orders".into(),
            title: "Where is my parcel?".into(),
            body: "On its way.".into(),
            published: false,
            translations: Default::default(),
        };
        let story: Story = serde_json::from_value(serde_json::json!({
            "id": "s-recap", "title": "S: the answers", "topic": "orders",
            "slides": [{"text": "Q: a\n\nA: b"}], "publish_at": 5, "expires_at": 10
        }))
        .unwrap();
        let a = RecapAnswer {
            ended_at: None,
            recap: Some(Recap {
                story,
                kb: vec![("q1".into(), draft)],
            }),
            kb: vec!["question-live-q1".into(), "question-live-q2".into()],
        };
        assert_eq!(
            a.kb_rows(),
            [
                (
                    "question-live-q1".to_string(),
                    Some("Where is my parcel?".to_string())
                ),
                ("question-live-q2".to_string(), None)
            ]
        );
        let b: RecapAnswer = serde_json::from_str(r#"{"recap":null,"kb":[]}"#).unwrap();
        assert_eq!(b, RecapAnswer::default());
    }
}
