//! The live Q&A panel (its own chunk, `live`, fetched when a visitor joins a running
//! session or opens an ended one's answers from its banner).
//!
//! The panel reads the room (`GET …/live/{session}`), then follows it over a WebSocket on
//! the same path: the server's first frame is the whole room, then one [`Delta`] per change,
//! applied with [`Replica::merge`] (a gap in the versions reads the whole room again). When
//! the browser has no WebSocket, or sockets keep failing (a proxy that blocks them), it polls
//! the room every [`POLL_EVERY_MS`] instead. Closing the panel closes the socket and stops
//! every timer.
//!
//! What decides something here — URLs, when to give up on sockets, which questions show,
//! whether the session is over, who may upvote — is a pure function, tested natively; the
//! component and [`Link`] only wire them to the browser. Questions and answers are visitors'
//! and operators' words: rendered as text, never as HTML.

/// Unicode case for the sensitive-data guard: the browser's own tables in the widget;
/// Rust's in host builds (clippy, native tests).
#[cfg(target_arch = "wasm32")]
use glimpse_shared::text::JsText as PageText;
#[cfg(not(target_arch = "wasm32"))]
use glimpse_shared::text::StdText as PageText;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use glimpse_shared::i18n::{Lang, LiveText, Text};
use glimpse_shared::live::{
    Delta, Merge, NewLiveQuestion, NewLiveVote, POLL_EVERY_MS, PublicQuestion, PublicRoom,
    QUESTION_MAX_CHARS, QUESTIONS_MAX, QuestionState, Replica, ServerMessage, order,
};
use glimpse_shared::{LiveSession, Millis, guard};
use js_sys::{Function, Reflect};
use leptos::prelude::*;
use serde::Deserialize;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::KeyboardEvent;

use crate::app::ctx;
use crate::browser;

crate::chunk! {
    /// The live Q&A panel for `session` (its own chunk). `ended`: opened from the session's
    /// "ended" banner, showing its answers only.
    pub fn live_panel(session: LiveSession, ended: bool, on_close: Callback<()>) -> AnyView;
        chunk live, preload preload_live, body live_panel_body;
    {
        view! { <LivePanel session=session ended=ended on_close=on_close/> }.into_any()
    }
}

/// Socket failures in a row after which the panel polls instead.
pub const SOCKET_FAILURES_MAX: u32 = 2;
/// A socket open at least this long was working: its close starts the count again (ms).
pub const SOCKET_STABLE_MS: f64 = 30_000.0;
/// A socket not open after this long is given up on (ms).
pub const SOCKET_OPEN_TIMEOUT_MS: u64 = 10_000;
/// How often an open socket says "ping" (proxies close idle connections).
pub const PING_EVERY_MS: u64 = 30_000;

/// How the panel follows the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    WebSocket,
    Polling,
}

impl Transport {
    /// The panel's `data-transport`.
    pub fn attr(self) -> &'static str {
        match self {
            Transport::WebSocket => "websocket",
            Transport::Polling => "polling",
        }
    }
}

/// What to do after the socket closed without the panel closing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterClose {
    /// Open a new socket after this many ms.
    Reconnect { after_ms: u64 },
    /// Sockets do not work here: poll.
    Poll,
}

/// The socket closed: `failures` closes in a row so far, `open_for_ms` how long it was open
/// (`None`: it never opened). The failures in a row now, and what to do.
pub fn after_close(failures: u32, open_for_ms: Option<f64>) -> (u32, AfterClose) {
    let failures = match open_for_ms {
        Some(ms) if ms >= SOCKET_STABLE_MS => 1,
        _ => failures.saturating_add(1),
    };
    if failures >= SOCKET_FAILURES_MAX {
        (failures, AfterClose::Poll)
    } else {
        (
            failures,
            AfterClose::Reconnect {
                after_ms: 1_000 * u64::from(failures),
            },
        )
    }
}

/// The room's URL: `{api}/v1/sites/{site}/live/{session}`.
pub fn room_url(api: &str, site: &str, session: &str) -> String {
    format!("{api}/v1/sites/{site}/live/{session}")
}

/// The WebSocket URL of an http(s) URL (http → ws, https → wss); `None` for anything else.
pub fn socket_url(url: &str) -> Option<String> {
    if let Some(rest) = url.strip_prefix("https://") {
        Some(format!("wss://{rest}"))
    } else {
        url.strip_prefix("http://")
            .map(|rest| format!("ws://{rest}"))
    }
}

/// What a poll reads: the room, counting this visitor as watching.
pub fn poll_url(room_url: &str, visitor: &str) -> String {
    format!("{room_url}?visitor={visitor}")
}

/// Where this browser keeps the ids of its own questions in a session.
pub fn mine_key(site: &str, session: &str) -> String {
    format!("glimpse:{site}:live:{session}:mine")
}

/// Where this browser keeps the ids of the questions it upvoted in a session.
pub fn voted_key(site: &str, session: &str) -> String {
    format!("glimpse:{site}:live:{session}:voted")
}

/// Adds `id` to a remembered list, keeping the newest [`QUESTIONS_MAX`].
pub fn remember(ids: &mut Vec<String>, id: &str) {
    if !ids.iter().any(|i| i == id) {
        ids.push(id.to_string());
    }
    let len = ids.len();
    if len > QUESTIONS_MAX {
        ids.drain(..len - QUESTIONS_MAX);
    }
}

/// Takes a whole room read from the server: it replaces the replica when newer; one of the
/// same version only brings the count of people watching (the replica may hold the
/// visitor's own question or vote ahead of its delta).
pub fn adopt(replica: &mut Option<Replica>, room: PublicRoom) {
    match replica {
        Some(r) if room.version < r.room.version => {}
        Some(r) if room.version == r.room.version => r.room.watching = room.watching,
        _ => *replica = Some(Replica { room }),
    }
}

/// The visitor's question, as the API answered it, shown before its delta arrives.
pub fn add_question(replica: &mut Replica, question: PublicQuestion) {
    if !replica.room.questions.iter().any(|q| q.id == question.id) {
        replica.room.questions.push(question);
        order(&mut replica.room.questions);
    }
}

/// A question's count of votes, as the API answered an upvote.
pub fn set_votes(replica: &mut Replica, id: &str, votes: u32) {
    if let Some(q) = replica.room.questions.iter_mut().find(|q| q.id == id) {
        q.votes = votes;
        order(&mut replica.room.questions);
    }
}

/// Whether the session is over: opened from its "ended" banner, ended by the host, or past
/// its end.
pub fn is_over(
    opened_ended: bool,
    ended_at: Option<Millis>,
    ends_at: Millis,
    now_ms: Millis,
) -> bool {
    opened_ended || ended_at.is_some() || now_ms >= ends_at
}

/// The questions the panel lists, in the room's order: while live, every one but hidden
/// ones (the visitor's own stay, with their state); once over, the answered ones.
pub fn shown(replica: &Replica, mine: &[String], over: bool) -> Vec<PublicQuestion> {
    if over {
        replica.answered().cloned().collect()
    } else {
        replica.visible(mine).cloned().collect()
    }
}

/// Whether the visitor may upvote `q`: not their own, not voted from this browser, not
/// hidden, and the session still running.
pub fn can_vote(q: &PublicQuestion, mine: bool, voted: bool, over: bool) -> bool {
    !over && !mine && !voted && q.state != QuestionState::Hidden
}

/// A question's `data-state`.
pub fn state_attr(state: QuestionState) -> &'static str {
    match state {
        QuestionState::Waiting => "waiting",
        QuestionState::Answered => "answered",
        QuestionState::Done => "done",
        QuestionState::Hidden => "hidden",
    }
}

/// The label of a question's state, shown on the visitor's own questions (and on those
/// answered out loud).
pub fn state_text(state: QuestionState) -> LiveText {
    match state {
        QuestionState::Waiting => LiveText::Waiting,
        QuestionState::Answered => LiveText::Answered,
        QuestionState::Done => LiveText::Done,
        QuestionState::Hidden => LiveText::HiddenMine,
    }
}

/// The stream link: the host's (https), else the session's join link (https).
pub fn stream_link(
    stream_url: Option<&str>,
    join_url: &str,
    is_https: impl Fn(&str) -> bool,
) -> Option<String> {
    stream_url
        .filter(|u| is_https(u))
        .or_else(|| Some(join_url).filter(|u| is_https(u)))
        .map(str::to_string)
}

/// `201` to an asked question.
#[derive(Debug, Deserialize)]
struct Asked {
    id: String,
    question: PublicQuestion,
}

/// `200` to an upvote.
#[derive(Debug, Deserialize)]
struct Voted {
    votes: u32,
}

/// What reading the room gave.
enum Read {
    Room(PublicRoom),
    /// 404: the feed does not list the session (any more).
    Missing,
    Failed,
}

async fn read_room(url: &str) -> Read {
    match crate::api::get_text(url).await {
        Ok((200, text)) => serde_json::from_str(&text).map_or(Read::Failed, Read::Room),
        Ok((404, _)) => Read::Missing,
        _ => Read::Failed,
    }
}

/// What the connection updates.
#[derive(Clone, Copy)]
struct Sink {
    replica: RwSignal<Option<Replica>>,
    transport: RwSignal<Transport>,
    unavailable: RwSignal<bool>,
}

/// One WebSocket and the handlers it calls.
struct Socket {
    ws: JsValue,
    opened_at: Option<f64>,
    /// Kept alive while the socket may call them.
    _handlers: Vec<Closure<dyn FnMut(JsValue)>>,
}

impl Socket {
    /// No more calls into the handlers, which may then be dropped.
    fn detach(&self) {
        for name in ["onopen", "onmessage", "onclose", "onerror"] {
            let _ = Reflect::set(&self.ws, &JsValue::from_str(name), &JsValue::NULL);
        }
    }
}

/// The panel's connection to its room: the socket or the poll, and their timers.
struct Link {
    /// False once the panel closed: nothing starts any more.
    alive: bool,
    room: String,
    visitor: String,
    sink: Sink,
    socket: Option<Socket>,
    /// Closed sockets' handlers (one may be running its `onclose`), dropped at the next
    /// connection.
    spent: Vec<Socket>,
    failures: u32,
    ping: Option<IntervalHandle>,
    poll: Option<IntervalHandle>,
    /// A reconnection's delay, or a connecting socket's deadline.
    wait: Option<TimeoutHandle>,
    polling: bool,
    refetching: bool,
    refetch_again: bool,
}

type Shared = Rc<RefCell<Link>>;

/// Calls `target[method](arg?)`, without letting anything it throws reach the page.
fn call(target: &JsValue, method: &str, arg: Option<&JsValue>) -> Result<JsValue, JsValue> {
    let f: Function = Reflect::get(target, &JsValue::from_str(method))?.dyn_into()?;
    match arg {
        Some(a) => f.call1(target, a),
        None => f.call0(target),
    }
}

fn start(link: &Shared) {
    let link = link.clone();
    leptos::task::spawn_local(async move {
        let (url, sink) = {
            let l = link.borrow();
            (l.room.clone(), l.sink)
        };
        match read_room(&url).await {
            Read::Room(room) => sink.replica.update(|r| adopt(r, room)),
            Read::Missing => {
                sink.unavailable.set(true);
                return;
            }
            // The socket's first frame or the poll brings it.
            Read::Failed => {}
        }
        if link.borrow().alive {
            connect(&link);
        }
    });
}

/// Opens a socket, or polls when the browser cannot.
fn connect(link: &Shared) {
    if !link.borrow().alive {
        return;
    }
    link.borrow_mut().spent.clear();
    match open_socket(link) {
        Ok(socket) => {
            let sink = {
                let mut l = link.borrow_mut();
                l.socket = Some(socket);
                l.sink
            };
            sink.transport.set(Transport::WebSocket);
            // A socket still connecting after the deadline is closed, which counts as a
            // failure (`onclose`).
            let weak = Rc::downgrade(link);
            let deadline = set_timeout_with_handle(
                move || {
                    if let Some(link) = weak.upgrade()
                        && let Some(s) = &link.borrow().socket
                        && s.opened_at.is_none()
                    {
                        let _ = call(&s.ws, "close", None);
                    }
                },
                Duration::from_millis(SOCKET_OPEN_TIMEOUT_MS),
            )
            .ok();
            link.borrow_mut().wait = deadline;
        }
        Err(_) => start_polling(link),
    }
}

fn open_socket(link: &Shared) -> Result<Socket, JsValue> {
    let url = socket_url(&link.borrow().room).ok_or("not an http(s) URL")?;
    let window = web_sys::window().ok_or("no window")?;
    let ctor = Reflect::get(&window, &JsValue::from_str("WebSocket"))?;
    if !ctor.is_function() {
        return Err("no WebSocket".into());
    }
    let ctor: Function = ctor.unchecked_into();
    let ws = Reflect::construct(&ctor, &js_sys::Array::of1(&JsValue::from_str(&url)))?;
    let weak = Rc::downgrade(link);
    let on_open = {
        let weak = weak.clone();
        Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| {
            if let Some(link) = weak.upgrade() {
                opened(&link);
            }
        })
    };
    let on_message = {
        let weak = weak.clone();
        Closure::<dyn FnMut(JsValue)>::new(move |ev: JsValue| {
            let Some(link) = weak.upgrade() else { return };
            let text = Reflect::get(&ev, &JsValue::from_str("data"))
                .ok()
                .and_then(|d| d.as_string());
            if let Some(text) = text {
                message(&link, &text);
            }
        })
    };
    let on_close = Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| {
        if let Some(link) = weak.upgrade() {
            closed(&link);
        }
    });
    // An error is followed by a close, which decides.
    let on_error = Closure::<dyn FnMut(JsValue)>::new(|_: JsValue| {});
    let set = [
        ("onopen", &on_open),
        ("onmessage", &on_message),
        ("onclose", &on_close),
        ("onerror", &on_error),
    ]
    .into_iter()
    .all(|(name, f)| Reflect::set(&ws, &JsValue::from_str(name), f.as_ref()).unwrap_or(false));
    let socket = Socket {
        ws,
        opened_at: None,
        _handlers: vec![on_open, on_message, on_close, on_error],
    };
    if !set {
        // A socket the panel cannot follow is closed before its handlers go.
        socket.detach();
        let _ = call(&socket.ws, "close", None);
        return Err("cannot follow the socket".into());
    }
    Ok(socket)
}

fn opened(link: &Shared) {
    let mut l = link.borrow_mut();
    if let Some(wait) = l.wait.take() {
        wait.clear();
    }
    let Some(socket) = l.socket.as_mut() else {
        return;
    };
    socket.opened_at = Some(js_sys::Date::now());
    let ws = socket.ws.clone();
    if let Some(old) = l.ping.take() {
        old.clear();
    }
    l.ping = set_interval_with_handle(
        move || {
            let _ = call(&ws, "send", Some(&JsValue::from_str("ping")));
        },
        Duration::from_millis(PING_EVERY_MS),
    )
    .ok();
}

fn message(link: &Shared, text: &str) {
    // "pong", or anything else that is not a message of the room.
    let Ok(msg) = serde_json::from_str::<ServerMessage>(text) else {
        return;
    };
    let sink = link.borrow().sink;
    match msg {
        ServerMessage::State { room } => sink.replica.update(|r| adopt(r, room)),
        ServerMessage::Delta(delta) => delta_arrived(link, sink, &delta),
    }
}

fn delta_arrived(link: &Shared, sink: Sink, delta: &Delta) {
    let mut gap = false;
    sink.replica.maybe_update(|r| match r {
        Some(r) => match r.merge(delta) {
            Merge::Applied => true,
            Merge::Stale => false,
            Merge::Gap => {
                gap = true;
                false
            }
        },
        None => {
            gap = true;
            false
        }
    });
    if gap {
        refetch(link);
    }
}

/// Reads the whole room again after a missed change; one read at a time, and one more if
/// another change was missed meanwhile.
fn refetch(link: &Shared) {
    {
        let mut l = link.borrow_mut();
        if l.refetching {
            l.refetch_again = true;
            return;
        }
        l.refetching = true;
        l.refetch_again = false;
    }
    let link = link.clone();
    leptos::task::spawn_local(async move {
        loop {
            let (url, sink) = {
                let l = link.borrow();
                (l.room.clone(), l.sink)
            };
            if let Read::Room(room) = read_room(&url).await
                && link.borrow().alive
            {
                sink.replica.update(|r| adopt(r, room));
            }
            let mut l = link.borrow_mut();
            if l.alive && l.refetch_again {
                l.refetch_again = false;
                continue;
            }
            l.refetching = false;
            break;
        }
    });
}

fn closed(link: &Shared) {
    let next = {
        let mut l = link.borrow_mut();
        if let Some(ping) = l.ping.take() {
            ping.clear();
        }
        if let Some(wait) = l.wait.take() {
            wait.clear();
        }
        let Some(socket) = l.socket.take() else {
            return;
        };
        socket.detach();
        let open_for = socket.opened_at.map(|at| js_sys::Date::now() - at);
        l.spent.push(socket);
        if !l.alive {
            return;
        }
        let (failures, next) = after_close(l.failures, open_for);
        l.failures = failures;
        next
    };
    match next {
        AfterClose::Reconnect { after_ms } => {
            let weak = Rc::downgrade(link);
            let wait = set_timeout_with_handle(
                move || {
                    if let Some(link) = weak.upgrade() {
                        connect(&link);
                    }
                },
                Duration::from_millis(after_ms),
            )
            .ok();
            link.borrow_mut().wait = wait;
        }
        AfterClose::Poll => start_polling(link),
    }
}

fn start_polling(link: &Shared) {
    let sink = {
        let l = link.borrow();
        if !l.alive || l.poll.is_some() {
            return;
        }
        l.sink
    };
    sink.transport.set(Transport::Polling);
    poll_once(link);
    let weak = Rc::downgrade(link);
    let handle = set_interval_with_handle(
        move || {
            // A hidden tab is not watching.
            if let Some(link) = weak.upgrade()
                && browser::page_visible()
            {
                poll_once(&link);
            }
        },
        Duration::from_millis(u64::from(POLL_EVERY_MS)),
    )
    .ok();
    link.borrow_mut().poll = handle;
}

fn poll_once(link: &Shared) {
    let (url, sink) = {
        let mut l = link.borrow_mut();
        if !l.alive || l.polling {
            return;
        }
        l.polling = true;
        (poll_url(&l.room, &l.visitor), l.sink)
    };
    let link = link.clone();
    leptos::task::spawn_local(async move {
        let read = read_room(&url).await;
        let mut l = link.borrow_mut();
        l.polling = false;
        if !l.alive {
            return;
        }
        match read {
            Read::Room(room) => {
                drop(l);
                sink.replica.update(|r| adopt(r, room));
            }
            Read::Missing => {
                if let Some(poll) = l.poll.take() {
                    poll.clear();
                }
                drop(l);
                sink.unavailable.set(true);
            }
            Read::Failed => {}
        }
    });
}

/// Closes the socket and stops every timer (the panel closed).
fn shut(link: &Shared) {
    let mut l = link.borrow_mut();
    l.alive = false;
    for handle in [l.ping.take(), l.poll.take()].into_iter().flatten() {
        handle.clear();
    }
    if let Some(wait) = l.wait.take() {
        wait.clear();
    }
    if let Some(socket) = l.socket.take() {
        socket.detach();
        let _ = call(&socket.ws, "close", None);
        l.spent.push(socket);
    }
}

/// One row of the list.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    q: PublicQuestion,
    mine: bool,
    voted: bool,
    /// The session is over: no upvotes.
    over: bool,
}

impl Row {
    /// A row is rebuilt when anything it shows changes.
    fn key(&self) -> (String, u32, QuestionState, bool, Option<Millis>, [bool; 3]) {
        (
            self.q.id.clone(),
            self.q.votes,
            self.q.state,
            self.q.pinned,
            self.q.answer.as_ref().map(|a| a.at),
            [self.mine, self.voted, self.over],
        )
    }
}

/// Opens the story an answer links to in the viewer, through the instance's commands.
fn open_story(site: &str, story: String) {
    if let Some(inst) = crate::shell::all()
        .into_iter()
        .find(|i| i.config.site == site)
    {
        crate::shell::run(inst.id, crate::shell::Command::Open(Some(story)));
    }
}

/// The live Q&A panel: the host's status and stream, the questions by votes with their
/// answers, upvotes, and the ask form; once over, the answered questions only.
#[component]
pub fn LivePanel(
    /// The session, from the feed.
    session: LiveSession,
    /// Opened from the session's "ended" banner.
    ended: bool,
    /// Closes the panel (the close button, Escape).
    on_close: Callback<()>,
) -> impl IntoView {
    let ctx = ctx();
    let lang: Lang = ctx.lang;
    let live = move |t: LiveText| lang.live(t);
    let site = ctx.config.site.clone();
    let room = room_url(&ctx.config.api, &site, &session.id);
    let mine_key = mine_key(&site, &session.id);
    let voted_key = voted_key(&site, &session.id);
    let mine = RwSignal::new(browser::load_json::<Vec<String>>(&mine_key).unwrap_or_default());
    let voted = RwSignal::new(browser::load_json::<Vec<String>>(&voted_key).unwrap_or_default());
    let sink = Sink {
        replica: RwSignal::new(None),
        transport: RwSignal::new(Transport::WebSocket),
        unavailable: RwSignal::new(false),
    };
    let replica = sink.replica;

    // Over by the clock too: the session's end needs no message from the host.
    let ends_at = session.ends_at;
    let end_reached = RwSignal::new(());
    let to_end = ends_at - browser::now_ms();
    if to_end > 0
        && to_end < i64::from(i32::MAX)
        && let Ok(handle) = set_timeout_with_handle(
            move || end_reached.set(()),
            // A little after, so the clock read then is past the end.
            Duration::from_millis(to_end.unsigned_abs() + 50),
        )
    {
        on_cleanup(move || handle.clear());
    }
    let over = Memo::new(move |_| {
        end_reached.track();
        let ended_at = replica.with(|r| r.as_ref().and_then(|r| r.room.ended_at));
        is_over(ended, ended_at, ends_at, browser::now_ms())
    });

    let link: Shared = Rc::new(RefCell::new(Link {
        alive: true,
        room: room.clone(),
        visitor: ctx.visitor.clone(),
        sink,
        socket: None,
        spent: Vec::new(),
        failures: 0,
        ping: None,
        poll: None,
        wait: None,
        polling: false,
        refetching: false,
        refetch_again: false,
    }));
    start(&link);
    let guard = send_wrapper::SendWrapper::new(link);
    on_cleanup(move || shut(&guard));

    let panel = NodeRef::<leptos::html::Section>::new();
    Effect::new(move |_| {
        if let Some(el) = panel.get() {
            let _ = el.focus();
        }
    });
    let on_key = move |ev: KeyboardEvent| {
        if ev.key() == "Escape" {
            ev.stop_propagation();
            on_close.run(());
        }
    };

    let join_url = session.join_url.clone();
    let stream = move || {
        replica.with(|r| {
            stream_link(
                r.as_ref().and_then(|r| r.room.stream_url.as_deref()),
                &join_url,
                browser::is_https_url,
            )
        })
    };
    let rows = Memo::new(move |_| {
        let over = over.get();
        mine.with(|mine| {
            voted.with(|voted| {
                replica.with(|r| {
                    r.as_ref()
                        .map(|r| {
                            shown(r, mine, over)
                                .into_iter()
                                .map(|q| Row {
                                    mine: mine.contains(&q.id),
                                    voted: voted.contains(&q.id),
                                    over,
                                    q,
                                })
                                .collect::<Vec<_>>()
                        })
                        .unwrap_or_default()
                })
            })
        })
    });

    // Upvotes: one at a time per question; the count is the API's answer.
    let voting = RwSignal::new(Vec::<String>::new());
    let vote = {
        let room = room.clone();
        let visitor = ctx.visitor.clone();
        move |id: String| {
            if voting.with_untracked(|v| v.contains(&id)) {
                return;
            }
            voting.update(|v| v.push(id.clone()));
            let url = format!("{room}/questions/{id}/votes");
            let body = NewLiveVote {
                visitor: visitor.clone(),
            };
            let voted_key = voted_key.clone();
            leptos::task::spawn_local(async move {
                if let Ok((200, text)) = crate::api::post_json_text(&url, &body).await {
                    if let Ok(reply) = serde_json::from_str::<Voted>(&text) {
                        replica.update(|r| {
                            if let Some(r) = r {
                                set_votes(r, &id, reply.votes);
                            }
                        });
                    }
                    // Counted now or before: this browser has voted.
                    voted.update(|v| remember(v, &id));
                    browser::save_json(&voted_key, &voted.get_untracked());
                }
                voting.update(|v| v.retain(|x| *x != id));
            });
        }
    };

    let host = session.host.clone();
    let row_site = site.clone();
    let row = move |row: Row| {
        let Row {
            q,
            mine,
            voted,
            over,
        } = row;
        let id = q.id.clone();
        let state = q.state;
        let hidden = state == QuestionState::Hidden;
        let may_vote = can_vote(&q, mine, voted, over);
        let vote = vote.clone();
        let vote_id = id.clone();
        let click_id = id.clone();
        let badge = (mine || state == QuestionState::Done)
            .then(|| live(state_text(state)))
            .filter(|_| !hidden);
        let answer = q.answer.map(|a| {
            let story = a.story.map(|story| {
                let site = row_site.clone();
                view! {
                    <button class="link" type="button" data-testid="glimpse-live-answer-story" on:click=move |_| open_story(&site, story.clone())>
                        {live(LiveText::OpenStory)}
                    </button>
                }
            });
            view! {
                <div class="live-answer" data-testid="glimpse-live-answer">
                    <strong>{host.clone()}</strong>
                    " "
                    <span>{a.text}</span>
                    {story}
                </div>
            }
        });
        let text = if hidden {
            live(LiveText::HiddenMine).to_string()
        } else {
            q.text
        };
        view! {
            <li
                class="live-q"
                class:mine=mine
                class:pinned=q.pinned
                class:hidden=hidden
                data-testid="glimpse-live-question"
                data-id=id
                data-state=state_attr(state)
                data-mine=if mine { "true" } else { "false" }
                data-pinned=if q.pinned { "true" } else { "false" }
            >
                <div class="live-q-row">
                    <p class="live-q-text" data-testid="glimpse-live-question-text">{text}</p>
                    <div class="live-vote">
                        {(!over).then(|| view! {
                            <button
                                class="live-upvote"
                                type="button"
                                data-testid="glimpse-live-upvote"
                                aria-label=live(LiveText::Upvote)
                                aria-pressed=if voted { "true" } else { "false" }
                                disabled=move || !may_vote || voting.with(|v| v.contains(&vote_id))
                                on:click=move |_| vote(click_id.clone())
                            >
                                <span aria-hidden="true">"▲"</span>
                            </button>
                        })}
                        <span class="live-votes" data-testid="glimpse-live-votes">{q.votes}</span>
                        <span class="sr-only">{live(LiveText::Votes)}</span>
                    </div>
                </div>
                <p class="live-tags">
                    {q.pinned.then(|| view! { <span class="live-tag">{live(LiveText::Pinned)}</span> })}
                    {mine.then(|| view! { <span class="live-tag">{live(LiveText::Mine)}</span> })}
                    {badge.map(|b| view! { <span class="live-tag" data-testid="glimpse-live-question-state">{b}</span> })}
                </p>
                {answer}
            </li>
        }
    };

    // Asking.
    let text = RwSignal::new(String::new());
    let sending = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let sensitive = Memo::new(move |_| !guard::scan_with(&text.get(), &PageText).is_empty());
    let submit = {
        let room = room.clone();
        let visitor = ctx.visitor.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let body = NewLiveQuestion {
                visitor: visitor.clone(),
                text: text.get_untracked().trim().to_string(),
            };
            if sending.get_untracked() || body.text.is_empty() {
                return;
            }
            sending.set(true);
            error.set(None);
            let url = format!("{room}/questions");
            let mine_key = mine_key.clone();
            leptos::task::spawn_local(async move {
                match crate::api::post_json_text(&url, &body).await {
                    Ok((201, answer)) => {
                        if let Ok(asked) = serde_json::from_str::<Asked>(&answer) {
                            mine.update(|m| remember(m, &asked.id));
                            browser::save_json(&mine_key, &mine.get_untracked());
                            replica.update(|r| {
                                if let Some(r) = r {
                                    add_question(r, asked.question);
                                }
                            });
                        }
                        text.set(String::new());
                    }
                    Ok((_, answer)) => error.set(Some(crate::api::error_message(
                        &answer,
                        lang.live(LiveText::SendFailed),
                    ))),
                    Err(_) => error.set(Some(lang.live(LiveText::SendFailed).to_string())),
                }
                sending.set(false);
            });
        }
    };
    let ask = move || {
        (!over.get()).then(|| {
            view! {
                <form class="live-ask" on:submit=submit.clone()>
                    <textarea
                        data-testid="glimpse-live-ask-input"
                        maxlength=QUESTION_MAX_CHARS.to_string()
                        rows="2"
                        aria-label=lang.t(Text::AskQuestion)
                        aria-describedby="glimpse-live-note"
                        placeholder=lang.t(Text::AskQuestion)
                        prop:value=move || text.get()
                        on:input=move |ev| text.set(event_target_value(&ev))
                    ></textarea>
                    <p class="sub" id="glimpse-live-note" data-testid="glimpse-live-ask-note">
                        {live(LiveText::PublicNote)}
                    </p>
                    <Show when=move || sensitive.get()>
                        <p class="warning" role="alert" data-testid="glimpse-live-ask-sensitive">
                            {live(LiveText::Sensitive)}
                        </p>
                    </Show>
                    <button
                        class="pill"
                        type="submit"
                        data-testid="glimpse-live-ask-send"
                        disabled=move || sending.get() || text.with(|t| t.trim().is_empty())
                    >
                        {lang.t(Text::Send)}
                    </button>
                    <Show when=move || error.with(Option::is_some)>
                        <p class="warning" role="alert" data-testid="glimpse-live-ask-error">
                            {move || error.get()}
                        </p>
                    </Show>
                </form>
            }
        })
    };

    let empty = move || {
        let loaded = replica.with(Option::is_some);
        if sink.unavailable.get() {
            Some(live(LiveText::Unavailable))
        } else if !loaded {
            Some(live(LiveText::Loading))
        } else if rows.with(Vec::is_empty) {
            Some(if over.get() {
                live(LiveText::NoAnswers)
            } else {
                live(LiveText::NoQuestions)
            })
        } else {
            None
        }
        .map(|t| view! { <p class="sub live-empty" data-testid="glimpse-live-empty">{t}</p> })
    };
    let status = move || {
        replica.with(|r| {
            r.as_ref()
                .map(|r| r.room.status.clone())
                .unwrap_or_default()
        })
    };
    let watching = move || {
        replica
            .with(|r| r.as_ref().map(|r| r.room.watching))
            .map(|n| {
                view! {
                    <span class="live-watching" data-testid="glimpse-live-watching">
                        {format!("{n} {}", live(LiveText::Watching))}
                    </span>
                }
            })
    };
    let title = live(LiveText::Title);
    view! {
        <section
            class="tray live-panel"
            role="dialog"
            aria-label=format!("{title}: {}", session.title)
            tabindex="-1"
            data-testid="glimpse-live-panel"
            data-transport=move || sink.transport.get().attr()
            data-state=move || if over.get() { "ended" } else { "live" }
            node_ref=panel
            on:keydown=on_key
        >
            <div class="tray-head">
                <span class="dot" class:on=move || !over.get() aria-hidden="true"></span>
                <div class="live-title">
                    <h2>{session.title.clone()}</h2>
                    <span class="sub">{title} " · " {session.host.clone()}</span>
                </div>
                <button
                    class="icon"
                    type="button"
                    aria-label=lang.t(Text::Close)
                    data-testid="glimpse-live-close"
                    on:click=move |_| on_close.run(())
                >
                    "×"
                </button>
            </div>
            <Show when=move || over.get()>
                <p class="live-ended" role="status" data-testid="glimpse-live-ended">{live(LiveText::Ended)}</p>
            </Show>
            <p class="live-status" role="status" data-testid="glimpse-live-status">{status}</p>
            <div class="live-meta">
                {move || stream().map(|href| view! {
                    <a
                        class="channel"
                        href=href
                        target="_blank"
                        rel="noopener noreferrer"
                        data-testid="glimpse-live-stream"
                    >
                        {live(LiveText::Stream)}
                    </a>
                })}
                {watching}
            </div>
            {empty}
            <ul class="live-questions">
                <For each=move || rows.get() key=Row::key children=row.clone()/>
            </ul>
            {ask}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use glimpse_shared::live::LiveAnswer;

    fn q(id: &str, votes: u32, state: QuestionState) -> PublicQuestion {
        PublicQuestion {
            id: id.into(),
            text: if state == QuestionState::Hidden {
                String::new()
            } else {
                format!("question {id}")
            },
            asked_at: 1,
            votes,
            state,
            pinned: false,
            answer: (state == QuestionState::Answered).then(|| LiveAnswer {
                text: "yes".into(),
                story: None,
                at: 2,
            }),
        }
    }

    fn room(version: u64, questions: Vec<PublicQuestion>) -> PublicRoom {
        PublicRoom {
            session: "s".into(),
            version,
            status: String::new(),
            stream_url: None,
            ended_at: None,
            questions,
            watching: 1,
        }
    }

    #[test]
    fn urls_follow_the_api_base() {
        let room = room_url("http://127.0.0.1:8787", "demo", "ask-us");
        assert_eq!(room, "http://127.0.0.1:8787/v1/sites/demo/live/ask-us");
        assert_eq!(
            socket_url(&room).as_deref(),
            Some("ws://127.0.0.1:8787/v1/sites/demo/live/ask-us")
        );
        assert_eq!(
            socket_url("https://glimpse.example/v1/sites/demo/live/x").as_deref(),
            Some("wss://glimpse.example/v1/sites/demo/live/x")
        );
        assert_eq!(socket_url("ftp://x"), None);
        assert_eq!(
            poll_url(&room, "abc_DEF-123"),
            format!("{room}?visitor=abc_DEF-123")
        );
        assert_eq!(mine_key("demo", "ask-us"), "glimpse:demo:live:ask-us:mine");
        assert_ne!(voted_key("demo", "ask-us"), mine_key("demo", "ask-us"));
    }

    #[test]
    fn sockets_that_keep_failing_give_way_to_polling() {
        // Never opened: one retry, then polling.
        let (f, next) = after_close(0, None);
        assert_eq!((f, next), (1, AfterClose::Reconnect { after_ms: 1_000 }));
        assert_eq!(after_close(f, None), (2, AfterClose::Poll));
        // Opened, dropped at once: still a failure.
        assert_eq!(after_close(1, Some(200.0)), (2, AfterClose::Poll));
        // A socket that worked for a while (a worker restart) reconnects, again and again.
        assert_eq!(
            after_close(1, Some(SOCKET_STABLE_MS)),
            (1, AfterClose::Reconnect { after_ms: 1_000 })
        );
        assert_eq!(Transport::Polling.attr(), "polling");
        assert_eq!(Transport::WebSocket.attr(), "websocket");
    }

    #[test]
    fn a_whole_room_replaces_an_older_replica_only() {
        let mut replica = None;
        adopt(
            &mut replica,
            room(3, vec![q("a", 0, QuestionState::Waiting)]),
        );
        assert_eq!(replica.as_ref().map(|r| r.room.version), Some(3));
        // The visitor's own question ahead of its delta survives a read of the same version.
        if let Some(r) = replica.as_mut() {
            add_question(r, q("b", 0, QuestionState::Waiting));
            add_question(r, q("b", 0, QuestionState::Waiting));
            set_votes(r, "b", 4);
        }
        let mut same = room(3, vec![q("a", 0, QuestionState::Waiting)]);
        same.watching = 9;
        adopt(&mut replica, same);
        let r = replica.clone().unwrap_or_else(|| panic!("a replica"));
        assert_eq!(r.room.watching, 9);
        assert_eq!(
            r.room
                .questions
                .iter()
                .map(|q| q.id.as_str())
                .collect::<Vec<_>>(),
            ["b", "a"],
            "sorted by votes"
        );
        adopt(&mut replica, room(2, vec![]));
        assert_eq!(replica.as_ref().map(|r| r.room.questions.len()), Some(2));
        adopt(&mut replica, room(4, vec![]));
        assert_eq!(replica.as_ref().map(|r| r.room.questions.len()), Some(0));
    }

    #[test]
    fn hidden_questions_show_to_their_asker_and_over_shows_answers_only() {
        let replica = Replica {
            room: room(
                5,
                vec![
                    q("a", 3, QuestionState::Answered),
                    q("b", 2, QuestionState::Waiting),
                    q("c", 0, QuestionState::Hidden),
                    q("d", 0, QuestionState::Hidden),
                ],
            ),
        };
        let ids = |qs: Vec<PublicQuestion>| qs.into_iter().map(|q| q.id).collect::<Vec<_>>();
        let mine = vec!["c".to_string()];
        assert_eq!(ids(shown(&replica, &mine, false)), ["a", "b", "c"]);
        assert_eq!(ids(shown(&replica, &[], false)), ["a", "b"]);
        assert_eq!(ids(shown(&replica, &mine, true)), ["a"]);
        assert!(is_over(true, None, 100, 0));
        assert!(is_over(false, Some(5), 100, 0));
        assert!(is_over(false, None, 100, 100));
        assert!(!is_over(false, None, 100, 99));
    }

    #[test]
    fn one_upvote_per_question_never_on_ones_own() {
        let waiting = q("a", 0, QuestionState::Waiting);
        assert!(can_vote(&waiting, false, false, false));
        assert!(!can_vote(&waiting, true, false, false));
        assert!(!can_vote(&waiting, false, true, false));
        assert!(!can_vote(&waiting, false, false, true));
        assert!(!can_vote(
            &q("h", 0, QuestionState::Hidden),
            false,
            false,
            false
        ));
        let mut ids = Vec::new();
        for i in 0..QUESTIONS_MAX + 3 {
            remember(&mut ids, &format!("q{i}"));
        }
        remember(&mut ids, "q10");
        assert_eq!(ids.len(), QUESTIONS_MAX);
        assert_eq!(ids.first().map(String::as_str), Some("q3"));
        assert_eq!(state_attr(QuestionState::Done), "done");
        assert_eq!(state_text(QuestionState::Hidden), LiveText::HiddenMine);
    }

    #[test]
    fn the_stream_link_is_https_only() {
        let https = |u: &str| u.starts_with("https://");
        assert_eq!(
            stream_link(Some("https://s.example/live"), "https://j.example", https).as_deref(),
            Some("https://s.example/live")
        );
        assert_eq!(
            stream_link(None, "https://j.example", https).as_deref(),
            Some("https://j.example")
        );
        assert_eq!(
            stream_link(Some("javascript:alert(1)"), "http://j.example", https),
            None
        );
    }
}
