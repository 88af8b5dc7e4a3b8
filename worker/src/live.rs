//! Live Q&A rooms: the API of a running session (visitors ask and upvote, the host answers)
//! and the logic of the one Durable Object that coordinates each session.
//!
//! The decisions are [`glimpse_shared::live::Room::apply`]'s. Here:
//! - [`RoomHost`] is the Durable Object's own logic, pure over the [`RoomStorage`] port (the
//!   object's transactional storage at the edge, [`MemoryRoomStorage`] in tests): it loads
//!   the room once per wake (the meta key and at most [`live::QUESTIONS_MAX`] question keys),
//!   decides a vote's "first" with one read of its key, applies, and stores what changed in
//!   one write — so a restarted or evicted object loses nothing.
//! - [`Rooms`] is the worker's port to the rooms: the edge calls the object named
//!   [`live::room_name`] with a [`RoomOp`] (JSON) and gets a [`RoomReply`]; tests use
//!   [`MemoryRooms`], which runs the same [`RoomHost`] in memory.
//! - [`visitor`] and [`host`] are the HTTP handlers: the session is looked up (visitors: in
//!   the site's snapshot, as the feed lists it; the host: in D1), the body validated and
//!   guarded, then one room call. Questions and counted votes are also sent to the ingestion
//!   queue as facts ([`Message::LiveQuestion`], [`Message::LiveVote`]) and land in D1 like
//!   every other response (erased and exported with their visitor).
//!
//! WebSockets are the edge's: a viewer's upgrade request goes to its room object, which
//! accepts it with the hibernation API, sends `{"type":"state",…}` first and every
//! [`Delta`] after; a `"ping"` is answered `"pong"` without waking it.

use std::cell::RefCell;
use std::collections::HashMap;

use glimpse_shared::keys::ContentKind;
use glimpse_shared::live::{
    self, Command, Delta, HostAction, HostStatus, Meta, NewLiveQuestion, NewLiveVote,
    PublicQuestion, PublicRoom, Recap, Room, StoredQuestion,
};
use glimpse_shared::{ApiError, LiveSession, Millis, SiteSnapshot};
use serde::{Deserialize, Serialize};

use crate::core::{Api, unavailable};
use crate::http::{ApiRequest, ApiResponse};
use crate::queue::Message;
use crate::route::{Method, Route};
use crate::sql::{LocalFuture, Sql, Stmt, rows};
use crate::store::{KvStore, StoreError};

/// What the worker asks of a room (the body of its internal request to the object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum RoomOp {
    /// The whole room as a viewer (`host: false`) or the host sees it; `poller`: the
    /// visitor id of a polling viewer, counted as watching for [`live::POLL_WATCH_MS`].
    View {
        session: String,
        host: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        poller: Option<String>,
    },
    /// Applies `command` to a session that ends at `ends_at` (unix ms). A vote's `first` is
    /// decided by the room (one read of the vote's key), whatever the worker sent.
    /// `purge_at` (unix ms; visitors' commands carry it): when the room's storage is deleted —
    /// the session's content purge time (its answers' end plus the site's retention).
    Apply {
        ends_at: Millis,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        purge_at: Option<Millis>,
        command: Command,
    },
    /// Every question and field, for the recap.
    Dump,
}

/// A room's answer to a [`RoomOp`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum RoomReply {
    Room {
        room: PublicRoom,
    },
    /// The command was applied (`delta`: what was broadcast), or was a repeat that changed
    /// nothing (`delta: None`: a visitor's second vote). `question`: the question it was
    /// about, as the host sees it.
    Applied {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        delta: Option<Delta>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        question: Option<PublicQuestion>,
        meta: Meta,
    },
    /// Nothing changed; the client's 4xx.
    Refused {
        status: u16,
        error: String,
        message: String,
    },
    Dump {
        room: Room,
    },
}

impl RoomReply {
    fn refused(r: &live::Refusal) -> Self {
        let (status, error, message) = r.http();
        RoomReply::Refused {
            status,
            error: error.into(),
            message: message.into(),
        }
    }
}

/// The Durable Object's storage as [`RoomHost`] uses it: JSON strings by key.
pub trait RoomStorage {
    fn get<'a>(&'a self, key: &'a str) -> LocalFuture<'a, Result<Option<String>, StoreError>>;
    /// Every entry whose key starts with `prefix` (at most [`live::QUESTIONS_MAX`] for the
    /// question prefix), in key order.
    fn list<'a>(
        &'a self,
        prefix: &'a str,
    ) -> LocalFuture<'a, Result<Vec<(String, String)>, StoreError>>;
    /// Writes every entry at once (atomically at the edge: one `put` of up to 128 keys).
    fn put_all<'a>(
        &'a self,
        entries: &'a [(String, String)],
    ) -> LocalFuture<'a, Result<(), StoreError>>;
}

/// Storage in memory, counting operations (tests, [`MemoryRooms`]).
#[derive(Debug, Default)]
pub struct MemoryRoomStorage {
    pub entries: RefCell<std::collections::BTreeMap<String, String>>,
    /// Reads, lists and writes so far.
    pub ops: std::cell::Cell<u32>,
}

impl RoomStorage for MemoryRoomStorage {
    fn get<'a>(&'a self, key: &'a str) -> LocalFuture<'a, Result<Option<String>, StoreError>> {
        self.ops.set(self.ops.get() + 1);
        let v = self.entries.borrow().get(key).cloned();
        Box::pin(async move { Ok(v) })
    }

    fn list<'a>(
        &'a self,
        prefix: &'a str,
    ) -> LocalFuture<'a, Result<Vec<(String, String)>, StoreError>> {
        self.ops.set(self.ops.get() + 1);
        let v = self
            .entries
            .borrow()
            .range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Box::pin(async move { Ok(v) })
    }

    fn put_all<'a>(
        &'a self,
        entries: &'a [(String, String)],
    ) -> LocalFuture<'a, Result<(), StoreError>> {
        self.ops.set(self.ops.get() + 1);
        let mut map = self.entries.borrow_mut();
        for (k, v) in entries {
            map.insert(k.clone(), v.clone());
        }
        Box::pin(async move { Ok(()) })
    }
}

/// The prefix of question keys ([`live::question_key`]).
const QUESTION_PREFIX: &str = "q/";

/// A room object's logic: the room as loaded (once per wake) and the polling viewers seen
/// lately. One per Durable Object instance; requests to one object never run in parallel
/// with its storage calls (the runtime's input gates), and no borrow is held across one.
#[derive(Debug, Default)]
pub struct RoomHost {
    room: RefCell<Option<Room>>,
    /// Polling viewers' visitor ids and when each last read (pruned on every view; as many
    /// as poll in [`live::POLL_WATCH_MS`]).
    pollers: RefCell<HashMap<String, Millis>>,
}

impl RoomHost {
    /// Loads the room from `storage` unless it is in memory: two storage calls.
    async fn load(&self, storage: &dyn RoomStorage) -> Result<(), StoreError> {
        if self.room.borrow().is_some() {
            return Ok(());
        }
        let meta: Meta = match storage.get(live::META_KEY).await? {
            Some(raw) => serde_json::from_str(&raw).map_err(|e| StoreError(e.to_string()))?,
            None => Meta::default(),
        };
        let mut questions: Vec<StoredQuestion> = storage
            .list(QUESTION_PREFIX)
            .await?
            .into_iter()
            .filter_map(|(_, raw)| serde_json::from_str(&raw).ok())
            .collect();
        questions.sort_by(|a, b| a.asked_at.cmp(&b.asked_at).then(a.id.cmp(&b.id)));
        let mut slot = self.room.borrow_mut();
        if slot.is_none() {
            *slot = Some(Room { meta, questions });
        }
        Ok(())
    }

    /// People watching at `now_ms`: `sockets` open WebSockets plus the pollers seen in the
    /// last [`live::POLL_WATCH_MS`] (`poller` counted as seen now).
    pub fn watching(&self, sockets: usize, poller: Option<&str>, now_ms: Millis) -> u32 {
        let mut pollers = self.pollers.borrow_mut();
        if let Some(p) = poller {
            pollers.insert(p.to_string(), now_ms);
        }
        pollers.retain(|_, seen| now_ms - *seen < live::POLL_WATCH_MS);
        u32::try_from(sockets + pollers.len()).unwrap_or(u32::MAX)
    }

    /// Answers `op` at `now_ms` with `sockets` WebSockets open. `Err`: storage failed
    /// (nothing was applied; the caller answers 503).
    pub async fn run(
        &self,
        storage: &dyn RoomStorage,
        op: RoomOp,
        sockets: usize,
        now_ms: Millis,
    ) -> Result<RoomReply, StoreError> {
        self.load(storage).await?;
        match op {
            RoomOp::View {
                session,
                host,
                poller,
            } => {
                let watching = self.watching(sockets, poller.as_deref(), now_ms);
                let room = self.room.borrow();
                let room = room.as_ref().map_or_else(
                    || Room::default().view(&session, host, watching),
                    |r| r.view(&session, host, watching),
                );
                Ok(RoomReply::Room { room })
            }
            RoomOp::Dump => Ok(RoomReply::Dump {
                room: self.room.borrow().clone().unwrap_or_default(),
            }),
            RoomOp::Apply {
                ends_at, command, ..
            } => {
                let command = match command {
                    Command::Vote {
                        question, visitor, ..
                    } => {
                        let first = storage
                            .get(&live::vote_key(&question, &visitor))
                            .await?
                            .is_none();
                        Command::Vote {
                            question,
                            visitor,
                            first,
                        }
                    }
                    other => other,
                };
                self.apply(storage, command, ends_at, now_ms).await
            }
        }
    }

    async fn apply(
        &self,
        storage: &dyn RoomStorage,
        command: Command,
        ends_at: Millis,
        now_ms: Millis,
    ) -> Result<RoomReply, StoreError> {
        let repeat_vote = match &command {
            Command::Vote {
                question,
                first: false,
                ..
            } => Some(question.clone()),
            _ => None,
        };
        // Applied to a copy: what is kept in memory is what storage holds.
        let Some(mut next) = self.room.borrow().clone() else {
            return Err(StoreError("the room is not loaded".into()));
        };
        let applied = match next.apply(command, ends_at, now_ms) {
            Ok(a) => a,
            Err(live::Refusal::Duplicate) if repeat_vote.is_some() => {
                let question = repeat_vote
                    .and_then(|id| next.questions.iter().find(|q| q.id == id).cloned())
                    .map(|q| q.public(true));
                return Ok(RoomReply::Applied {
                    delta: None,
                    question,
                    meta: next.meta.clone(),
                });
            }
            Err(r) => return Ok(RoomReply::refused(&r)),
        };
        fn encode<T: Serialize>(v: &T) -> Result<String, StoreError> {
            serde_json::to_string(v).map_err(|e| StoreError(e.to_string()))
        }
        let mut writes = vec![(live::META_KEY.to_string(), encode(&applied.meta)?)];
        if let Some(q) = &applied.question {
            writes.push((live::question_key(&q.id), encode(q)?));
        }
        if let Some(k) = &applied.vote_key {
            writes.push((k.clone(), "1".to_string()));
        }
        storage.put_all(&writes).await?;
        *self.room.borrow_mut() = Some(next);
        Ok(RoomReply::Applied {
            delta: Some(applied.delta),
            question: applied.question.map(|q| q.public(true)),
            meta: applied.meta,
        })
    }
}

/// The worker's port to the rooms. Object-safe, so the API core holds a `&dyn Rooms`.
pub trait Rooms {
    /// Sends `op` to the room named `room` ([`live::room_name`]). `Err`: the room could not
    /// be reached or failed (503).
    fn call<'a>(
        &'a self,
        room: &'a str,
        op: &'a RoomOp,
        now_ms: Millis,
    ) -> LocalFuture<'a, Result<RoomReply, StoreError>>;
}

/// Rooms in memory (tests and offline tools): each a [`RoomHost`] over a
/// [`MemoryRoomStorage`]. [`MemoryRooms::restart`] drops what the objects hold in memory, as
/// an eviction or a redeploy does; their storage stays.
#[derive(Debug, Default)]
pub struct MemoryRooms {
    rooms: RefCell<HashMap<String, std::rc::Rc<(MemoryRoomStorage, RoomHost)>>>,
    /// Every delta broadcast, by room, in order (what WebSocket viewers would receive).
    pub broadcast: RefCell<Vec<(String, Delta)>>,
}

impl MemoryRooms {
    /// Forgets every object's memory (not its storage).
    pub fn restart(&self) {
        let mut rooms = self.rooms.borrow_mut();
        let kept: Vec<(String, std::rc::Rc<(MemoryRoomStorage, RoomHost)>)> = rooms
            .drain()
            .map(|(k, v)| {
                let storage = MemoryRoomStorage {
                    entries: RefCell::new(v.0.entries.borrow().clone()),
                    ops: std::cell::Cell::new(0),
                };
                (k, std::rc::Rc::new((storage, RoomHost::default())))
            })
            .collect();
        rooms.extend(kept);
    }

    /// Storage operations room `room` has made since it was created or restarted.
    pub fn storage_ops(&self, room: &str) -> u32 {
        self.rooms.borrow().get(room).map_or(0, |r| r.0.ops.get())
    }
}

impl Rooms for MemoryRooms {
    fn call<'a>(
        &'a self,
        room: &'a str,
        op: &'a RoomOp,
        now_ms: Millis,
    ) -> LocalFuture<'a, Result<RoomReply, StoreError>> {
        let entry = self
            .rooms
            .borrow_mut()
            .entry(room.to_string())
            .or_default()
            .clone();
        Box::pin(async move {
            // The op crosses a process boundary at the edge: so it does here.
            let op: RoomOp = serde_json::from_str(
                &serde_json::to_string(op).map_err(|e| StoreError(e.to_string()))?,
            )
            .map_err(|e| StoreError(e.to_string()))?;
            let reply = entry.1.run(&entry.0, op, 0, now_ms).await?;
            if let RoomReply::Applied { delta: Some(d), .. } = &reply {
                self.broadcast
                    .borrow_mut()
                    .push((room.to_string(), d.clone()));
            }
            Ok(reply)
        })
    }
}

/// No rooms (the visitors' worker, whose live paths go to the operators' worker): 503.
pub struct NoRooms;

impl Rooms for NoRooms {
    fn call<'a>(
        &'a self,
        _room: &'a str,
        _op: &'a RoomOp,
        _now_ms: Millis,
    ) -> LocalFuture<'a, Result<RoomReply, StoreError>> {
        Box::pin(async { Err(StoreError("no live rooms here".into())) })
    }
}

/// The room's reply as the API's answer: `ok` for what it was asked, or the refusal's 4xx.
fn refused_or<T>(reply: RoomReply, ok: impl FnOnce(RoomReply) -> Option<T>) -> Result<T, ApiError> {
    match reply {
        RoomReply::Refused {
            status,
            error,
            message,
        } => Err(ApiError::new(status, &error, message)),
        other => ok(other).ok_or_else(|| {
            ApiError::new(503, "unavailable", "the live room answered unexpectedly")
        }),
    }
}

async fn call<S>(
    api: &Api<'_, S>,
    room: &str,
    op: &RoomOp,
    now_ms: Millis,
) -> Result<RoomReply, ApiError> {
    api.rooms.call(room, op, now_ms).await.map_err(|e| {
        crate::log(&format!("live room {room}: {e}"));
        let mut err = ApiError::new(
            503,
            "unavailable",
            "the live session is unavailable; retry shortly",
        );
        err.retry_after = Some(2);
        err
    })
}

/// The session `id` as the site's feed lists it now, or 404.
pub fn listed_session<'s>(
    snapshot: &'s SiteSnapshot,
    id: &str,
    now_ms: Millis,
) -> Result<&'s LiveSession, ApiError> {
    snapshot
        .sessions
        .iter()
        .find(|s| s.id == id && s.is_listed(now_ms))
        .ok_or_else(|| ApiError::not_found("session"))
}

/// The question id and count a vote answers: `200 {votes, counted}`.
#[derive(Debug, Serialize)]
struct Voted {
    votes: u32,
    counted: bool,
}

/// `201 {id, question}`.
#[derive(Debug, Serialize)]
struct Asked<'a> {
    id: &'a str,
    question: &'a PublicQuestion,
}

/// The visitors' live endpoints (after the public shell's CORS, origin and rate checks):
/// the room (`GET`, also a poller's read with `?visitor=`), asking and upvoting.
pub(crate) async fn visitor<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    route: &Route,
    snapshot: &SiteSnapshot,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let site = snapshot.site.id.as_str();
    match route {
        Route::LiveRoom { session, .. } => {
            let session = listed_session(snapshot, session, now_ms)?;
            let poller = match req.query_param("visitor") {
                Some(v) if glimpse_shared::ids::is_token(&v) => Some(v),
                Some(_) => {
                    return Err(ApiError::new(
                        400,
                        "invalid",
                        "visitor must match [A-Za-z0-9_-]{16,64}",
                    )
                    .with_field("visitor"));
                }
                None => None,
            };
            let op = RoomOp::View {
                session: session.id.clone(),
                host: false,
                poller,
            };
            let reply = call(api, &live::room_name(site, &session.id), &op, now_ms).await?;
            let room = refused_or(reply, |r| match r {
                RoomReply::Room { room } => Some(room),
                _ => None,
            })?;
            Ok(ApiResponse::json(200, &room).with_header("cache-control", "no-store"))
        }
        Route::LiveAsk { session, .. } => {
            let session = listed_session(snapshot, session, now_ms)?;
            let body = req.read_valid(
                crate::route::PUBLIC_BODY_MAX,
                "question",
                NewLiveQuestion::validate,
            )?;
            started(session, now_ms)?;
            crate::questions::refuse_sensitive(
                &body.text,
                "text",
                "question",
                "everyone in the session sees questions",
            )?;
            let id = crate::core::fresh_id(api)?;
            let op = RoomOp::Apply {
                ends_at: session.ends_at,
                purge_at: Some(snapshot.site.retain_until(session.over_at())),
                command: Command::Ask {
                    id: id.clone(),
                    visitor: body.visitor.clone(),
                    text: body.text,
                },
            };
            let reply = call(api, &live::room_name(site, &session.id), &op, now_ms).await?;
            let question = refused_or(reply, |r| match r {
                RoomReply::Applied { question, .. } => question,
                _ => None,
            })?;
            fact(
                api,
                Message::LiveQuestion {
                    site: site.to_string(),
                    session: session.id.clone(),
                    id: id.clone(),
                    visitor: body.visitor,
                    text: question.text.clone(),
                    at: now_ms,
                },
            )
            .await;
            Ok(ApiResponse::json(
                201,
                &Asked {
                    id: &id,
                    question: &question,
                },
            ))
        }
        Route::LiveVote {
            session, question, ..
        } => {
            let session = listed_session(snapshot, session, now_ms)?;
            let body =
                req.read_valid(crate::route::PUBLIC_BODY_MAX, "vote", NewLiveVote::validate)?;
            started(session, now_ms)?;
            let op = RoomOp::Apply {
                ends_at: session.ends_at,
                purge_at: Some(snapshot.site.retain_until(session.over_at())),
                command: Command::Vote {
                    question: question.clone(),
                    visitor: body.visitor.clone(),
                    first: true,
                },
            };
            let reply = call(api, &live::room_name(site, &session.id), &op, now_ms).await?;
            let (counted, votes) = refused_or(reply, |r| match r {
                RoomReply::Applied {
                    delta, question, ..
                } => question.map(|q| (delta.is_some(), q.votes)),
                _ => None,
            })?;
            if counted {
                fact(
                    api,
                    Message::LiveVote {
                        site: site.to_string(),
                        session: session.id.clone(),
                        question: question.clone(),
                        visitor: body.visitor,
                        at: now_ms,
                    },
                )
                .await;
            }
            Ok(ApiResponse::json(200, &Voted { votes, counted }))
        }
        _ => Err(ApiError::not_found("route")),
    }
}

/// 409 before the session starts (the panel opens when it is live).
fn started(session: &LiveSession, now_ms: Millis) -> Result<(), ApiError> {
    if now_ms < session.starts_at {
        return Err(ApiError::new(
            409,
            "not_started",
            "the session has not started yet",
        ));
    }
    Ok(())
}

/// Sends a fact to the ingestion queue. Best effort: the room has it already (what viewers
/// see), and a lost fact costs only a D1 record; it is logged.
async fn fact<S>(api: &Api<'_, S>, message: Message) {
    if let Err(e) = api.queue.send(std::slice::from_ref(&message)).await {
        crate::log(&format!("a live fact was not queued: {e}"));
    }
}

/// The session `id` of `site` as stored (the host's endpoints work after it left the feed).
async fn stored_session(sql: &dyn Sql, site: &str, id: &str) -> Result<LiveSession, ApiError> {
    let raw = crate::admin::item_json(sql, site, ContentKind::Session, id)
        .await?
        .ok_or_else(|| ApiError::not_found("session"))?;
    serde_json::from_str(&raw)
        .map_err(|_| ApiError::new(503, "unavailable", "the session could not be read"))
}

/// `{ended_at, recap, kb}`: the end's and the recap's answer.
#[derive(Debug, Serialize)]
struct RecapBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    ended_at: Option<Millis>,
    recap: Option<Recap>,
    /// The knowledge-base entries drafted from it (unpublished until an operator publishes).
    kb: Vec<String>,
}

/// The host's endpoints (after the operators' authentication and `Area::Answers`).
pub(crate) async fn host<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    route: &Route,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let (site, id) = match route {
        Route::AdminLive { site, session }
        | Route::AdminLiveQuestion { site, session, .. }
        | Route::AdminLiveStatus { site, session }
        | Route::AdminLiveEnd { site, session }
        | Route::AdminLiveRecap { site, session } => (site, session),
        _ => return Err(ApiError::not_found("route")),
    };
    let session = stored_session(api.sql, site, id).await?;
    let room = live::room_name(site, &session.id);
    let apply = |command| RoomOp::Apply {
        ends_at: session.ends_at,
        purge_at: None,
        command,
    };
    let no_store = |res: ApiResponse| res.with_header("cache-control", "no-store");
    match (route, req.method) {
        (Route::AdminLive { .. }, _) => {
            let op = RoomOp::View {
                session: session.id.clone(),
                host: true,
                poller: None,
            };
            let room = refused_or(call(api, &room, &op, now_ms).await?, |r| match r {
                RoomReply::Room { room } => Some(room),
                _ => None,
            })?;
            Ok(no_store(ApiResponse::json(200, &room)))
        }
        (Route::AdminLiveQuestion { question, .. }, _) => {
            let action: HostAction =
                req.read_valid(crate::route::ADMIN_BODY_MAX, "action", HostAction::validate)?;
            let op = apply(Command::Host {
                question: question.clone(),
                action,
            });
            let question = refused_or(call(api, &room, &op, now_ms).await?, |r| match r {
                RoomReply::Applied { question, .. } => question,
                _ => None,
            })?;
            Ok(ApiResponse::json(
                200,
                &serde_json::json!({ "question": question }),
            ))
        }
        (Route::AdminLiveStatus { .. }, _) => {
            let status: HostStatus =
                req.read_valid(crate::route::ADMIN_BODY_MAX, "status", HostStatus::validate)?;
            let meta = refused_or(
                call(api, &room, &apply(Command::Status(status)), now_ms).await?,
                |r| match r {
                    RoomReply::Applied { meta, .. } => Some(meta),
                    _ => None,
                },
            )?;
            // The room's version after the change: the broadcast frame carries the same.
            Ok(ApiResponse::json(
                200,
                &serde_json::json!({
                    "status": meta.status,
                    "stream_url": meta.stream_url,
                    "version": meta.version,
                }),
            ))
        }
        (Route::AdminLiveEnd { .. }, _) => {
            // Ending twice is not an error: the second answers with the same recap.
            match call(api, &room, &apply(Command::End), now_ms).await? {
                RoomReply::Refused { status: 409, .. } | RoomReply::Applied { .. } => {}
                other => {
                    refused_or(other, |_| Some(()))?;
                }
            }
            let body = recap(api, &room, site, &session, now_ms, true).await?;
            Ok(no_store(ApiResponse::json(200, &body)))
        }
        (Route::AdminLiveRecap { .. }, _) => {
            let body = recap(api, &room, site, &session, now_ms, false).await?;
            Ok(no_store(ApiResponse::json(200, &body)))
        }
        _ => Err(ApiError::not_found("route")),
    }
}

/// The room's recap; with `draft`, its knowledge-base drafts are stored as unpublished
/// entries (those not already there: an operator's edits are kept). One room call, and at
/// most two D1 statements.
async fn recap<S: KvStore>(
    api: &Api<'_, S>,
    room: &str,
    site: &str,
    session: &LiveSession,
    now_ms: Millis,
    draft: bool,
) -> Result<RecapBody, ApiError> {
    let dumped = refused_or(call(api, room, &RoomOp::Dump, now_ms).await?, |r| match r {
        RoomReply::Dump { room } => Some(room),
        _ => None,
    })?;
    let ended_at = dumped
        .meta
        .ended_at
        .or((now_ms >= session.ends_at).then_some(session.ends_at));
    let recap = dumped.recap(session, now_ms);
    let entry_ids: Vec<String> = recap
        .as_ref()
        .map(|r| {
            r.kb.iter()
                .map(|(q, _)| {
                    glimpse_shared::kb::KbSource::Question.entry_id(&live::kb_source_id(q))
                })
                .collect()
        })
        .unwrap_or_default();
    if draft
        && let Some(r) = &recap
        && !r.kb.is_empty()
    {
        #[derive(Deserialize)]
        struct IdRow {
            id: String,
        }
        let existing: Vec<IdRow> = rows(
            api.sql,
            Stmt::new(
                "SELECT id FROM kb WHERE site = ?1 AND id IN (SELECT value FROM json_each(?2))",
            )
            .bind(site)
            .bind_json(&entry_ids),
        )
        .await
        .map_err(unavailable)?;
        let entries: Vec<(String, glimpse_shared::kb::KbEntry)> =
            r.kb.iter()
                .map(|(q, d)| {
                    let source = live::kb_source_id(q);
                    let entry = glimpse_shared::kb::answer_entry(&source, None, d, None, now_ms);
                    (entry.id.clone(), entry)
                })
                .filter(|(id, _)| !existing.iter().any(|e| &e.id == id))
                .collect();
        if !entries.is_empty() {
            let changes: Vec<(&str, Option<&glimpse_shared::kb::KbEntry>)> = entries
                .iter()
                .map(|(id, e)| (id.as_str(), Some(e)))
                .collect();
            crate::kb::write(api.sql, site, &changes).await?;
        }
    }
    Ok(RecapBody {
        ended_at,
        recap,
        kb: entry_ids,
    })
}

/// The D1 statements recording the live facts among `messages` (the consumer's batch).
/// Idempotent: a redelivered fact is ignored by its primary key.
pub fn plan_facts(messages: &[&Message]) -> Vec<Stmt> {
    let mut out = Vec::new();
    for m in messages {
        match m {
            Message::LiveQuestion {
                site,
                session,
                id,
                visitor,
                text,
                at,
            } => out.push(
                Stmt::new(
                    "INSERT OR IGNORE INTO live_questions (site, session, id, visitor, text, at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .bind(site.as_str())
                .bind(session.as_str())
                .bind(id.as_str())
                .bind(visitor.as_str())
                .bind(text.as_str())
                .bind(*at),
            ),
            Message::LiveVote {
                site,
                session,
                question,
                visitor,
                at,
            } => out.push(
                Stmt::new(
                    "INSERT OR IGNORE INTO live_votes (site, session, question, visitor, at) \
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .bind(site.as_str())
                .bind(session.as_str())
                .bind(question.as_str())
                .bind(visitor.as_str())
                .bind(*at),
            ),
            _ => {}
        }
    }
    out
}

/// Whether `method` on `route` is a live room's WebSocket upgrade (`GET` of the room with
/// `Upgrade: websocket`): the edge hands it to the room object.
pub fn is_upgrade(route: &Route, req: &ApiRequest) -> bool {
    matches!(route, Route::LiveRoom { .. })
        && req.method == Method::Get
        && req
            .get_header("upgrade")
            .is_some_and(|u| u.eq_ignore_ascii_case("websocket"))
}

/// A viewer's WebSocket upgrade: the room and session it joins — the session as the site's
/// feed lists it now, and, when the browser names its page's origin, one the site allows (or
/// the worker's own pages) — or the error to answer instead. One snapshot read.
pub async fn socket_room<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    route: &Route,
    now_ms: Millis,
) -> Result<(String, String), ApiError> {
    let Route::LiveRoom { site, session } = route else {
        return Err(ApiError::not_found("route"));
    };
    let snapshot = crate::core::load_snapshot(api, site).await?;
    if let Some(origin) = req.get_header("origin")
        && origin != req.origin
        && !snapshot.allows_origin(origin)
    {
        return Err(ApiError::forbidden_origin());
    }
    let session = listed_session(&snapshot, session, now_ms)?;
    Ok((live::room_name(site, &session.id), session.id.clone()))
}
