//! The live rooms' Cloudflare shell (operators' worker, wasm32): the `LiveRoom` Durable
//! Object class (binding `LIVE`, one object per site and session, named
//! [`glimpse_shared::live::room_name`]) and the worker's [`Rooms`] port to it. The object's
//! logic is [`RoomHost`]'s; here it gets storage, WebSockets and the clock.
//!
//! Internal requests (never reachable from outside: only this worker holds the binding):
//! - `POST https://room/op`, body a [`RoomOp`] → 200 [`RoomReply`] JSON (503 on a storage
//!   failure);
//! - `GET https://room/socket` with `Upgrade: websocket` and the session id in
//!   [`SESSION_HEADER`] → 101: the viewer's socket, accepted with the hibernation API (the
//!   object may be evicted between messages; sockets stay open), sent the room's state
//!   first. `"ping"` is answered `"pong"` by the runtime without waking the object.

use glimpse_shared::Millis;
use glimpse_shared::live::{QUESTIONS_MAX, ServerMessage};
use worker::js_sys::{self, Object, Reflect};
use worker::wasm_bindgen::JsValue;
use worker::{
    Date, DurableObject, Env, ListOptions, Method, Request, RequestInit, Response, Result, State,
    WebSocket, WebSocketIncomingMessage, WebSocketPair, durable_object,
};

use crate::live::{RoomHost, RoomOp, RoomReply, RoomStorage, Rooms};
use crate::sql::LocalFuture;
use crate::store::StoreError;

/// The Durable Object namespace binding (wrangler.operators.toml).
pub const LIVE_BINDING: &str = "LIVE";
/// The header naming the session on a socket request.
pub const SESSION_HEADER: &str = "glimpse-session";

fn now_ms() -> Millis {
    Millis::try_from(Date::now().as_millis()).unwrap_or(Millis::MAX)
}

fn store_error(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

/// The object's transactional storage as the room's port: JSON strings by key.
struct ObjectStorage(worker::Storage);

impl RoomStorage for ObjectStorage {
    fn get<'a>(
        &'a self,
        key: &'a str,
    ) -> LocalFuture<'a, std::result::Result<Option<String>, StoreError>> {
        Box::pin(async move { self.0.get::<String>(key).await.map_err(store_error) })
    }

    fn list<'a>(
        &'a self,
        prefix: &'a str,
    ) -> LocalFuture<'a, std::result::Result<Vec<(String, String)>, StoreError>> {
        Box::pin(async move {
            let map = self
                .0
                .list_with_options(ListOptions::new().prefix(prefix).limit(QUESTIONS_MAX))
                .await
                .map_err(store_error)?;
            let mut out = Vec::new();
            for entry in map.entries() {
                let Ok(pair) = entry else { continue };
                let pair = js_sys::Array::from(&pair);
                if let (Some(k), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
                    out.push((k, v));
                }
            }
            Ok(out)
        })
    }

    fn put_all<'a>(
        &'a self,
        entries: &'a [(String, String)],
    ) -> LocalFuture<'a, std::result::Result<(), StoreError>> {
        Box::pin(async move {
            let object = Object::new();
            for (k, v) in entries {
                Reflect::set(&object, &JsValue::from_str(k), &JsValue::from_str(v))
                    .map_err(|_| StoreError("a room entry could not be set".into()))?;
            }
            self.0.put_multiple_raw(object).await.map_err(store_error)
        })
    }
}

/// One live session's room. Its storage is deleted by an alarm at the session's purge time
/// (set once per wake, when a visitor's command names it), like the session's content.
#[durable_object]
pub struct LiveRoom {
    state: State,
    host: RoomHost,
    purge_set: std::cell::Cell<bool>,
}

impl LiveRoom {
    /// Sends `text` to every open socket (a closing one's failure is ignored).
    fn broadcast(&self, text: &str) {
        for ws in self.state.get_websockets() {
            let _ = ws.send_with_str(text);
        }
    }

    async fn socket(&self, req: &Request) -> Result<Response> {
        let session = req.headers().get(SESSION_HEADER)?.unwrap_or_default();
        let upgrade = req.headers().get("upgrade")?.unwrap_or_default();
        if !upgrade.eq_ignore_ascii_case("websocket") {
            return Response::error("expected a WebSocket upgrade", 426);
        }
        let pair = WebSocketPair::new()?;
        self.state.accept_web_socket(&pair.server);
        let storage = ObjectStorage(self.state.storage());
        let sockets = self.state.get_websockets().len();
        let view = RoomOp::View {
            session,
            host: false,
            poller: None,
        };
        match self.host.run(&storage, view, sockets, now_ms()).await {
            Ok(RoomReply::Room { room }) => {
                pair.server.send(&ServerMessage::State { room })?;
            }
            // The viewer reconnects (or polls) and reads the room again.
            _ => {
                let _ = pair
                    .server
                    .close(Some(1011), Some("the room is unavailable"));
            }
        }
        Response::from_websocket(pair.client)
    }
}

impl DurableObject for LiveRoom {
    fn new(state: State, _env: Env) -> Self {
        if let Ok(pair) = worker::worker_sys::WebSocketRequestResponsePair::new("ping", "pong") {
            state.set_websocket_auto_response(&pair);
        }
        Self {
            state,
            host: RoomHost::default(),
            purge_set: std::cell::Cell::new(false),
        }
    }

    /// The session's content is purged: so is the room (its sockets are closed).
    async fn alarm(&self) -> Result<Response> {
        for ws in self.state.get_websockets() {
            let _ = ws.close(Some(1000), Some("the session is over"));
        }
        self.state.storage().delete_all().await?;
        Response::ok("purged")
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        if req.path() == "/socket" {
            return self.socket(&req).await;
        }
        let op: RoomOp = match req.text().await.map(|t| serde_json::from_str(&t)) {
            Ok(Ok(op)) => op,
            _ => return Response::error("not a room operation", 400),
        };
        let storage = ObjectStorage(self.state.storage());
        let sockets = self.state.get_websockets().len();
        let now = now_ms();
        if let RoomOp::Apply {
            purge_at: Some(at), ..
        } = &op
            && !self.purge_set.get()
        {
            let delay = (*at - now).max(0);
            if storage.0.set_alarm(delay).await.is_ok() {
                self.purge_set.set(true);
            }
        }
        match self.host.run(&storage, op, sockets, now).await {
            Ok(reply) => {
                if let RoomReply::Applied {
                    delta: Some(delta), ..
                } = &reply
                    && let Ok(text) = serde_json::to_string(&ServerMessage::Delta(delta.clone()))
                {
                    self.broadcast(&text);
                }
                Response::from_json(&reply)
            }
            Err(e) => Response::error(format!("the room's storage failed: {e}"), 503),
        }
    }

    async fn websocket_message(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> Result<()> {
        // Pings are answered by the runtime; anything else a viewer sends is ignored.
        if let WebSocketIncomingMessage::String(text) = message
            && text == "ping"
        {
            let _ = ws.send_with_str("pong");
        }
        Ok(())
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        _code: usize,
        _reason: String,
        _was_clean: bool,
    ) -> Result<()> {
        let _ = ws.close(Some(1000), Some("bye"));
        Ok(())
    }

    async fn websocket_error(&self, _ws: WebSocket, _error: worker::Error) -> Result<()> {
        Ok(())
    }
}

/// The worker's port to the rooms: one internal request to the named object per call.
pub struct EdgeRooms<'e> {
    pub env: &'e Env,
}

impl EdgeRooms<'_> {
    fn stub(&self, room: &str) -> Result<worker::Stub> {
        self.env
            .durable_object(LIVE_BINDING)?
            .id_from_name(room)?
            .get_stub()
    }

    /// Hands a viewer's WebSocket upgrade to room `room`, for session `session`.
    pub async fn socket(&self, room: &str, session: &str) -> Result<Response> {
        let headers = worker::Headers::new();
        headers.set("upgrade", "websocket")?;
        headers.set(SESSION_HEADER, session)?;
        let mut init = RequestInit::new();
        init.with_headers(headers);
        let req = Request::new_with_init("https://room/socket", &init)?;
        self.stub(room)?.fetch_with_request(req).await
    }
}

impl Rooms for EdgeRooms<'_> {
    fn call<'a>(
        &'a self,
        room: &'a str,
        op: &'a RoomOp,
        _now_ms: Millis,
    ) -> LocalFuture<'a, std::result::Result<RoomReply, StoreError>> {
        Box::pin(async move {
            let body = serde_json::to_string(op).map_err(store_error)?;
            let mut init = RequestInit::new();
            init.with_method(Method::Post)
                .with_body(Some(JsValue::from_str(&body)));
            let req = Request::new_with_init("https://room/op", &init).map_err(store_error)?;
            let mut res = self
                .stub(room)
                .map_err(store_error)?
                .fetch_with_request(req)
                .await
                .map_err(store_error)?;
            let text = res.text().await.map_err(store_error)?;
            if res.status_code() != 200 {
                return Err(StoreError(format!(
                    "room {room}: {} {text}",
                    res.status_code()
                )));
            }
            serde_json::from_str(&text).map_err(store_error)
        })
    }
}
