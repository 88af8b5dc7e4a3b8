//! The Cloudflare Workers shell: converts the runtime's `Request` into the core's [`ApiRequest`],
//! wraps Workers KV as a [`KvStore`], reads configuration from the environment and converts
//! the answer back. No decisions live here.

use std::cell::OnceCell;

use glimpse_shared::Millis;
#[cfg(feature = "operators")]
use worker::MessageBatch;
use worker::js_sys::{Reflect, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys::{self, ReadableStreamDefaultReader};
use worker::{
    Cache, Context, D1Database, D1PreparedStatement, Date, Env, Response, Result, event,
    kv::KvStore as WorkersKv,
};

use crate::core::{Api, handle};
use crate::hours::CachedOffsets;
use crate::http::{ApiRequest, ApiResponse};
use crate::limit::{Limits, RateLimiter};
use crate::memo::SnapshotMemo;
use crate::queue::{Message, Queue};
use crate::route::Method;
use crate::sql::{LocalFuture, Param, Row, Sql, Stmt};
use crate::store::{
    Cached, KvStore, ListPage, Listed, Put, ReadCache, SNAPSHOT_TTL_MS, StoreError,
};
use crate::zones::IntlZones;

/// The KV namespace binding name in wrangler.toml.
const KV_BINDING: &str = "GLIMPSE";
/// The R2 bucket binding of the media library (wrangler.operators.toml).
#[cfg(feature = "operators")]
const MEDIA_BINDING: &str = "MEDIA";
/// The D1 database binding name in wrangler.toml.
const D1_BINDING: &str = "DB";
/// The ingestion queue's producer binding name in wrangler.toml.
const QUEUE_BINDING: &str = "INGEST";
/// The webhook deliveries' queue producer (wrangler.operators.toml): slow receivers never
/// hold up ingestion, which has its own queue.
const WEBHOOKS_BINDING: &str = "WEBHOOKS";

/// Workers KV rejects expirations less than 60 s ahead.
const KV_MIN_TTL_S: u64 = 60;

thread_local! {
    /// The isolate's rate limiter: it lives as long as the isolate serves requests.
    static LIMITER: OnceCell<&'static RateLimiter> = const { OnceCell::new() };
    /// Failed admin authentications per client, in the isolate.
    static AUTH_FAILURES: OnceCell<&'static crate::door::AuthThrottle> = const { OnceCell::new() };
    /// The `LOCAL_DRAIN_MAX_BYTES` var, once read ([`local_drain_max`]).
    static LOCAL_DRAIN: OnceCell<Option<usize>> = const { OnceCell::new() };
    /// Whether an unusable `ADMIN_TOKEN` was already logged by this isolate.
    static TOKEN_LOGGED: OnceCell<()> = const { OnceCell::new() };
    /// The isolate's recently read snapshots.
    static SNAPSHOTS: OnceCell<&'static ReadCache> = const { OnceCell::new() };
    /// The isolate's parsed snapshots and serialised feeds.
    static MEMO: OnceCell<&'static SnapshotMemo> = const { OnceCell::new() };
    /// The isolate's time zone offsets, from the runtime's ICU.
    static ZONES: OnceCell<&'static CachedOffsets<IntlZones>> = const { OnceCell::new() };
}

fn memo() -> &'static SnapshotMemo {
    MEMO.with(|cell| *cell.get_or_init(|| Box::leak(Box::default())))
}

fn zones() -> &'static CachedOffsets<IntlZones> {
    ZONES.with(|cell| *cell.get_or_init(|| Box::leak(Box::default())))
}

fn snapshots() -> &'static ReadCache {
    SNAPSHOTS.with(|cell| *cell.get_or_init(|| Box::leak(Box::default())))
}

/// Workers KV as a [`KvStore`]; the binding is looked up on first use (a feed answered from
/// the isolate's copy of the snapshot never touches it).
struct EdgeKv<'a> {
    kv: Lazy<'a, WorkersKv>,
    now_ms: Millis,
}

fn store_error(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

impl KvStore for EdgeKv<'_> {
    async fn get(&self, key: &str) -> std::result::Result<Option<String>, StoreError> {
        self.kv.get()?.get(key).text().await.map_err(store_error)
    }

    async fn put(&self, key: &str, value: &str, opts: Put) -> std::result::Result<(), StoreError> {
        let mut put = self.kv.get()?.put(key, value).map_err(store_error)?;
        if let Some(at) = opts.expires_at_ms {
            let now_s = u64::try_from(self.now_ms / 1000).unwrap_or(0);
            let at_s = u64::try_from(at / 1000).unwrap_or(0);
            // KV refuses expirations past i32::MAX s; validation keeps content below it
            // (400 naming the field), this only guards what it cannot see.
            let max_s = u64::try_from(glimpse_shared::validate::STORAGE_EXPIRY_MAX_MS / 1000)
                .unwrap_or(u64::MAX);
            put = put.expiration(at_s.max(now_s + KV_MIN_TTL_S).min(max_s));
        }
        if let Some(meta) = opts.metadata {
            put = put.metadata(meta).map_err(store_error)?;
        }
        put.execute().await.map_err(store_error)
    }

    async fn delete(&self, key: &str) -> std::result::Result<(), StoreError> {
        self.kv.get()?.delete(key).await.map_err(store_error)
    }

    async fn list(
        &self,
        prefix: &str,
        cursor: Option<String>,
    ) -> std::result::Result<ListPage, StoreError> {
        let mut list = self.kv.get()?.list().prefix(prefix.to_string());
        if let Some(c) = cursor {
            list = list.cursor(c);
        }
        let page = list.execute().await.map_err(store_error)?;
        Ok(ListPage {
            keys: page
                .keys
                .into_iter()
                .map(|k| Listed {
                    name: k.name,
                    metadata: k.metadata,
                })
                .collect(),
            cursor: if page.list_complete {
                None
            } else {
                page.cursor
            },
        })
    }
}

/// A binding looked up in `env` on first use, so requests that never touch it (the feed, the
/// knowledge-base page from the edge cache…) do not pay for the lookup; a missing binding is
/// a storage failure (503), not a crash.
struct Lazy<'a, T> {
    env: &'a Env,
    name: &'static str,
    get: fn(&Env, &str) -> Result<T>,
    cell: OnceCell<T>,
}

impl<'a, T> Lazy<'a, T> {
    fn new(env: &'a Env, name: &'static str, get: fn(&Env, &str) -> Result<T>) -> Self {
        Self {
            env,
            name,
            get,
            cell: OnceCell::new(),
        }
    }

    fn get(&self) -> std::result::Result<&T, StoreError> {
        if let Some(v) = self.cell.get() {
            return Ok(v);
        }
        let v = (self.get)(self.env, self.name).map_err(store_error)?;
        Ok(self.cell.get_or_init(|| v))
    }
}

/// D1 as an [`Sql`].
struct EdgeD1<'a>(Lazy<'a, D1Database>);

impl<'a> EdgeD1<'a> {
    fn new(env: &'a Env) -> Self {
        Self(Lazy::new(env, D1_BINDING, |env, name| env.d1(name)))
    }

    fn prepare(&self, stmt: &Stmt) -> std::result::Result<D1PreparedStatement, StoreError> {
        let params: Vec<JsValue> = stmt
            .params
            .iter()
            .map(|p| match p {
                Param::Null => JsValue::NULL,
                // Milliseconds and counts: exact as doubles below 2^53.
                #[allow(clippy::cast_precision_loss)]
                Param::Int(i) => JsValue::from_f64(*i as f64),
                Param::Real(r) => JsValue::from_f64(*r),
                Param::Text(t) => JsValue::from_str(t),
            })
            .collect();
        self.0
            .get()?
            .prepare(stmt.sql.to_string())
            .bind(&params)
            .map_err(store_error)
    }
}

/// A D1 result's rows as JSON objects.
fn d1_rows(result: &worker::D1Result) -> std::result::Result<Vec<Row>, StoreError> {
    let values: Vec<serde_json::Value> = result.results().map_err(store_error)?;
    Ok(values
        .into_iter()
        .filter_map(|v| match v {
            serde_json::Value::Object(o) => Some(o),
            _ => None,
        })
        .collect())
}

impl Sql for EdgeD1<'_> {
    fn query<'a>(
        &'a self,
        stmt: &'a Stmt,
    ) -> LocalFuture<'a, std::result::Result<Vec<Row>, StoreError>> {
        Box::pin(async move {
            let result = self.prepare(stmt)?.all().await.map_err(store_error)?;
            d1_rows(&result)
        })
    }

    fn batch<'a>(
        &'a self,
        stmts: &'a [Stmt],
    ) -> LocalFuture<'a, std::result::Result<Vec<Vec<Row>>, StoreError>> {
        Box::pin(async move {
            let prepared = stmts
                .iter()
                .map(|s| self.prepare(s))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let results = self.0.get()?.batch(prepared).await.map_err(store_error)?;
            results.iter().map(d1_rows).collect()
        })
    }
}

/// The queue producers as a [`Queue`]: each message is sent as its JSON text, webhook
/// deliveries to their own queue, everything else to the ingestion queue.
struct EdgeQueue<'a> {
    ingest: Lazy<'a, worker::Queue>,
    webhooks: Lazy<'a, worker::Queue>,
}

impl<'a> EdgeQueue<'a> {
    fn new(env: &'a Env) -> Self {
        Self {
            ingest: Lazy::new(env, QUEUE_BINDING, |env, name| env.queue(name)),
            webhooks: Lazy::new(env, WEBHOOKS_BINDING, |env, name| env.queue(name)),
        }
    }

    fn for_message(&self, m: &Message) -> std::result::Result<&worker::Queue, StoreError> {
        match m {
            Message::Webhook { .. } => self.webhooks.get(),
            _ => self.ingest.get(),
        }
    }
}

impl Queue for EdgeQueue<'_> {
    fn send<'a>(
        &'a self,
        messages: &'a [Message],
    ) -> LocalFuture<'a, std::result::Result<(), StoreError>> {
        Box::pin(async move {
            let (hooks, ingest): (Vec<&Message>, Vec<&Message>) = messages
                .iter()
                .partition(|m| matches!(m, Message::Webhook { .. }));
            for (queue, part) in [(&self.webhooks, hooks), (&self.ingest, ingest)] {
                if part.is_empty() {
                    continue;
                }
                let bodies = part
                    .iter()
                    .map(serde_json::to_string)
                    .collect::<std::result::Result<Vec<String>, _>>()
                    .map_err(store_error)?;
                queue.get()?.send_batch(bodies).await.map_err(store_error)?;
            }
            Ok(())
        })
    }

    fn send_delayed<'a>(
        &'a self,
        message: &'a Message,
        delay_s: u32,
    ) -> LocalFuture<'a, std::result::Result<(), StoreError>> {
        Box::pin(async move {
            let body = serde_json::to_string(message).map_err(store_error)?;
            let sent = worker::MessageBuilder::new(body)
                .delay_seconds(delay_s.min(43_200))
                .build();
            self.for_message(message)?
                .send(sent)
                .await
                .map_err(store_error)
        })
    }
}

/// Webhook receivers reached with the runtime's `fetch`, cut off after
/// [`crate::webhooks::TIMEOUT_MS`].
#[cfg(feature = "operators")]
struct EdgeDeliver;

#[cfg(feature = "operators")]
impl crate::webhooks::Deliver for EdgeDeliver {
    fn post<'a>(
        &'a self,
        url: &'a str,
        headers: &'a [(String, String)],
        body: &'a str,
    ) -> LocalFuture<'a, std::result::Result<(u16, String), String>> {
        Box::pin(async move {
            let js = |e: JsValue| {
                e.as_string()
                    .or_else(|| {
                        Reflect::get(&e, &JsValue::from_str("message"))
                            .ok()
                            .and_then(|m| m.as_string())
                    })
                    .unwrap_or_else(|| "no answer".into())
            };
            let sent = web_sys::Headers::new().map_err(js)?;
            for (name, value) in headers {
                sent.set(name, value).map_err(js)?;
            }
            let init = web_sys::RequestInit::new();
            init.set_method("POST");
            init.set_headers_headers(&sent);
            init.set_body(&JsValue::from_str(body));
            init.set_redirect(web_sys::RequestRedirect::Manual);
            let signal = web_sys::AbortSignal::timeout_with_u32(crate::webhooks::TIMEOUT_MS);
            init.set_signal(Some(&signal));
            let scope: web_sys::WorkerGlobalScope = worker::js_sys::global().unchecked_into();
            let answer = JsFuture::from(scope.fetch_with_str_and_init(url, &init))
                .await
                .map_err(|e| {
                    if signal.aborted() {
                        format!("no answer within {} s", crate::webhooks::TIMEOUT_MS / 1000)
                    } else {
                        js(e)
                    }
                })?;
            let answer: web_sys::Response = answer.dyn_into().map_err(js)?;
            let status = answer.status();
            // The start of the answer is enough for the log; a receiver that streams forever
            // is cut off by the same signal.
            let text = match answer.text() {
                Ok(p) => JsFuture::from(p)
                    .await
                    .ok()
                    .and_then(|t| t.as_string())
                    .unwrap_or_default(),
                Err(_) => String::new(),
            };
            Ok((status, text.chars().take(300).collect()))
        })
    }
}

/// 26 characters of `[a-z0-9]` (≈ 134 bits) from the Web Crypto CSPRNG, without modulo bias
/// ([`crate::door::id_from_bytes`]); `None` if `crypto.getRandomValues` is unavailable or
/// fails: callers answer 503 rather than make a predictable id.
fn random_id() -> Option<String> {
    use worker::js_sys::{Function, Reflect, Uint8Array, global};
    use worker::wasm_bindgen::{JsCast, JsValue};
    let crypto = Reflect::get(&global(), &JsValue::from_str("crypto")).ok()?;
    let fill = Reflect::get(&crypto, &JsValue::from_str("getRandomValues"))
        .ok()?
        .dyn_into::<Function>()
        .ok()?;
    // 64 bytes hold 26 usable ones unless the CSPRNG is absurdly unlucky; draw again then.
    for _ in 0..4 {
        let bytes = Uint8Array::new_with_length(64);
        fill.call1(&crypto, &bytes).ok()?;
        let mut out = vec![0u8; 64];
        bytes.copy_to(&mut out);
        if let Some(id) = crate::door::id_from_bytes(&out) {
            return Some(id);
        }
    }
    None
}

/// The admin token if it is usable; otherwise `None`, logged once per isolate (the 401 that
/// clients get never says why).
fn admin_token(env: &Env) -> Option<String> {
    let token = env.secret("ADMIN_TOKEN").ok().map(|s| s.to_string());
    if let Some(problem) = crate::door::admin_token_problem(token.as_deref()) {
        TOKEN_LOGGED.with(|logged| {
            if logged.get().is_none() {
                let _ = logged.set(());
                worker::console_error!("glimpse: {problem}");
            }
        });
        return None;
    }
    token
}

/// The `LOCAL_DRAIN_MAX_BYTES` var: how much more of an unread body to read and discard
/// before answering, beyond [`ApiRequest::DRAIN_MAX`], while the client keeps sending it
/// ([`drain_while_sent`]). Unset when deployed (the rest is
/// cancelled: reading it would only cost CPU time). `wrangler dev`'s proxy cannot reuse its
/// connection to the worker after a cancelled body (cloudflare/workers-sdk#15709, #15203;
/// fixed in wranglers that need Node 22): the next non-GET request through it gets the
/// proxy's own 503 "Your worker restarted mid-request". So every local run sets it (xtask
/// writes it into the `.dev.vars` of `cargo xtask dev` and of every test server). Read once
/// per isolate, and only when a body goes past `DRAIN_MAX`.
fn local_drain_max(env: &Env) -> Option<usize> {
    LOCAL_DRAIN.with(|cell| {
        *cell.get_or_init(|| {
            env.var("LOCAL_DRAIN_MAX_BYTES")
                .ok()
                .and_then(|v| v.to_string().trim().parse().ok())
                .filter(|n: &usize| *n > 0)
        })
    })
}

/// Failed authentications allowed per client per minute: the `AUTH_FAILURES_PER_MINUTE` var
/// (default 10; "0" turns the throttle off, for contract test runs only).
fn auth_failures(env: &Env) -> &'static crate::door::AuthThrottle {
    AUTH_FAILURES.with(|cell| {
        *cell.get_or_init(|| {
            let max = env
                .var("AUTH_FAILURES_PER_MINUTE")
                .ok()
                .and_then(|v| v.to_string().trim().parse().ok())
                .unwrap_or(crate::door::AuthThrottle::DEFAULT_PER_MINUTE);
            Box::leak(Box::new(crate::door::AuthThrottle::new(max, 60_000)))
        })
    })
}

/// The limits from the `RATE_LIMIT_PER_MINUTE` (per visitor; 0 turns limiting off) and
/// `RATE_LIMIT_PER_ADDRESS_PER_MINUTE` vars.
fn limiter(env: &Env) -> &'static RateLimiter {
    let var = |name: &str, default: u32| {
        env.var(name)
            .ok()
            .and_then(|v| v.to_string().trim().parse().ok())
            .unwrap_or(default)
    };
    LIMITER.with(|cell| {
        *cell.get_or_init(|| {
            let limits = Limits::per_minute(
                var("RATE_LIMIT_PER_MINUTE", Limits::VISITOR_PER_MINUTE),
                var(
                    "RATE_LIMIT_PER_ADDRESS_PER_MINUTE",
                    Limits::ADDRESS_PER_MINUTE,
                ),
            );
            Box::leak(Box::new(RateLimiter::with_limits(limits)))
        })
    })
}

/// Hourly (wrangler.toml `[triggers]`): one message starts the fan-out over every site
/// ([`crate::consumer`]); this invocation does nothing else, whatever the number of sites.
// In the visitors' worker (wrangler.toml `[triggers]`): its one queue send is all the cron
// does; the operators' worker consumes the fan-out.
#[event(scheduled)]
async fn scheduled(_event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    let now_ms = Millis::try_from(Date::now().as_millis()).unwrap_or(Millis::MAX);
    let start = [Message::Fanout {
        after: None,
        now_ms,
    }];
    if let Err(e) = EdgeQueue::new(&env).send(&start).await {
        worker::console_error!("glimpse: cron fan-out not sent: {e}");
    }
}

/// The ingestion queue's consumer: decodes the batch and applies it
/// ([`crate::consumer::consume`]); on a storage failure the whole batch is retried (nothing
/// of it was written). A message that is not a [`Message`] is dropped (logged): retrying it
/// could never succeed.
#[cfg(feature = "operators")]
#[event(queue)]
async fn queue(batch: MessageBatch<String>, env: Env, _ctx: Context) -> Result<()> {
    let now_ms = Millis::try_from(Date::now().as_millis()).unwrap_or(Millis::MAX);
    let mut messages = Vec::new();
    for raw in batch.raw_iter() {
        match raw
            .body()
            .as_string()
            .and_then(|text| crate::json::from_str::<Message>(&text).ok())
        {
            Some(m) => messages.push(m),
            None => worker::console_error!("glimpse: dropped an unreadable queue message"),
        }
    }
    let store = EdgeKv {
        kv: Lazy::new(&env, KV_BINDING, |env, name| env.kv(name)),
        now_ms,
    };
    let sql = EdgeD1::new(&env);
    let producer = EdgeQueue::new(&env);
    let blobs = EdgeR2 { env: &env };
    let ports = crate::consumer::Ports {
        store: &store,
        sql: &sql,
        queue: &producer,
        blobs: &blobs,
        deliver: &EdgeDeliver,
    };
    match crate::consumer::consume(&ports, &messages, now_ms).await {
        Ok(()) => batch.ack_all(),
        Err(e) => {
            worker::console_error!("glimpse: queue batch of {} retried: {e}", messages.len());
            batch.retry_all();
        }
    }
    Ok(())
}

/// The request body's reader, if it has a body that can be read.
fn body_reader(req: &web_sys::Request) -> Option<ReadableStreamDefaultReader> {
    req.body()?
        .get_reader()
        .dyn_into::<ReadableStreamDefaultReader>()
        .ok()
}

/// The next chunk of a body: `None` at its end or on an error.
async fn next_chunk(reader: &ReadableStreamDefaultReader) -> Option<Uint8Array> {
    let step = JsFuture::from(reader.read()).await.ok()?;
    let done = Reflect::get(&step, &JsValue::from_str("done"))
        .ok()
        .and_then(|d| d.as_bool())
        .unwrap_or(true);
    if done {
        return None;
    }
    Reflect::get(&step, &JsValue::from_str("value"))
        .ok()?
        .dyn_into::<Uint8Array>()
        .ok()
}

/// Reads at most `max` bytes of the body as it streams in, then stops: a body over the
/// route's limit is never read whole (the core answers 413 from the one byte too many).
/// Returns the reader when the body goes on, for [`cancel_rest`].
async fn read_body(
    req: &web_sys::Request,
    max: usize,
) -> (Vec<u8>, Option<ReadableStreamDefaultReader>) {
    let mut body = Vec::new();
    let Some(reader) = body_reader(req) else {
        return (body, None);
    };
    while body.len() < max {
        let Some(chunk) = next_chunk(&reader).await else {
            reader.release_lock();
            return (body, None);
        };
        let room = max - body.len();
        let take = u32::try_from(room).unwrap_or(u32::MAX).min(chunk.length());
        let start = body.len();
        body.resize(start + take as usize, 0);
        chunk.subarray(0, take).copy_to(&mut body[start..]);
    }
    (body, Some(reader))
}

/// Reads and discards the rest of a body, at most `budget` bytes: `true` if it ended within
/// them (the connection stays reusable), `false` if it goes on (the caller cancels it).
async fn drain(reader: &ReadableStreamDefaultReader, budget: usize) -> bool {
    if budget == 0 {
        return false;
    }
    let mut seen = 0usize;
    while seen <= budget {
        match next_chunk(reader).await {
            Some(chunk) => seen = seen.saturating_add(chunk.length() as usize),
            None => return true,
        }
    }
    false
}

/// How long [`drain_while_sent`] waits for the next chunk, in ms: a client that stops
/// sending (waiting for the answer first, as curl does for large bodies with `Expect:
/// 100-continue`, or trickling its body) is answered after this instead of being waited for.
const LOCAL_DRAIN_IDLE_MS: u64 = 150;

/// [`drain`] for local runs ([`local_drain_max`]): reads and discards at most `budget`
/// bytes while they keep coming; `true` if the body ended, `false` if it goes on past
/// `budget` or no chunk came within [`LOCAL_DRAIN_IDLE_MS`] (the caller cancels it).
async fn drain_while_sent(reader: &ReadableStreamDefaultReader, budget: usize) -> bool {
    use std::future::Future;
    use std::task::Poll;
    let mut seen = 0usize;
    while seen <= budget {
        let mut read = Box::pin(next_chunk(reader));
        let mut idle = Box::pin(worker::Delay::from(std::time::Duration::from_millis(
            LOCAL_DRAIN_IDLE_MS,
        )));
        let step = std::future::poll_fn(|cx| {
            if let Poll::Ready(chunk) = read.as_mut().poll(cx) {
                return Poll::Ready(Some(chunk));
            }
            if idle.as_mut().poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            Poll::Pending
        })
        .await;
        match step {
            Some(Some(chunk)) => seen = seen.saturating_add(chunk.length() as usize),
            Some(None) => return true,
            // The client is waiting: its pending read ends when the caller cancels the body.
            None => return false,
        }
    }
    false
}

/// Cancels the rest of a body the worker will not read and that is too big to drain (more
/// than [`ApiRequest::DRAIN_MAX`], or [`local_drain_max`] under `wrangler dev`): the answer
/// goes out at once and nothing more is received. Draining small bodies keeps ordinary
/// mistakes (a body on a GET, a 405) from costing the client its connection.
async fn cancel_rest(reader: ReadableStreamDefaultReader) {
    let _ = JsFuture::from(reader.cancel()).await;
    reader.release_lock();
}

/// How long the isolate limiter holds a key the Rate Limiting binding refused (the binding
/// does not say when its window ends; its period is 60 s).
const BINDING_REFUSAL_MS: Millis = 10_000;

/// Asks Cloudflare's Rate Limiting bindings (`VISITOR_LIMITER`, `ADDRESS_LIMITER` in
/// wrangler.toml) about `keys`, address first, and tells the isolate's limiter about a
/// refusal. Without the bindings, or if one fails, the isolate's own count decides alone.
async fn ask_bindings(env: &Env, limiter: &RateLimiter, keys: &crate::limit::Keys, now_ms: Millis) {
    for (tier, key) in keys {
        let Ok(binding) = env.rate_limiter(tier.binding()) else {
            continue;
        };
        if let Ok(outcome) = binding.limit(key.clone()).await
            && !outcome.success
        {
            limiter.refuse(*tier, key, now_ms, BINDING_REFUSAL_MS);
            return;
        }
    }
}

/// The service binding to the operators' worker (wrangler.toml `[[services]]`).
#[cfg(not(feature = "operators"))]
const OPERATORS_BINDING: &str = "OPERATORS";

/// Hands an operators' request, untouched (its body unread), to the operators' worker
/// through its service binding; 503 if the binding is missing or the call fails.
#[cfg(not(feature = "operators"))]
async fn to_operators(req: web_sys::Request, env: &Env) -> Result<web_sys::Response> {
    let forwarded = match env.service(OPERATORS_BINDING) {
        Ok(operators) => operators.fetch_request(worker::Request::from(req)).await,
        Err(e) => Err(e),
    };
    match forwarded {
        Ok(res) => Ok(res.into()),
        Err(e) => {
            worker::console_error!("glimpse: the operators' worker did not answer: {e}");
            let mut err = glimpse_shared::ApiError::new(
                503,
                "unavailable",
                "the operators' API is unavailable; retry shortly",
            );
            err.retry_after = Some(5);
            to_runtime(&ApiResponse::error(&err), &[])
        }
    }
}

/// The media library's R2 bucket ([`MEDIA_BINDING`]) as the core's [`crate::media::Blobs`].
#[cfg(feature = "operators")]
struct EdgeR2<'e> {
    env: &'e Env,
}

#[cfg(feature = "operators")]
impl EdgeR2<'_> {
    fn bucket(&self) -> std::result::Result<worker::Bucket, StoreError> {
        self.env
            .bucket(MEDIA_BINDING)
            .map_err(|e| StoreError(format!("R2 binding {MEDIA_BINDING}: {e}")))
    }
}

#[cfg(feature = "operators")]
impl crate::media::Blobs for EdgeR2<'_> {
    fn head<'a>(
        &'a self,
        key: &'a str,
    ) -> LocalFuture<'a, std::result::Result<Option<crate::media::BlobMeta>, StoreError>> {
        Box::pin(async move {
            let object = self
                .bucket()?
                .head(key)
                .await
                .map_err(|e| StoreError(e.to_string()))?;
            Ok(object.map(|o| crate::media::BlobMeta {
                size: o.size(),
                content_type: o
                    .http_metadata()
                    .content_type
                    .unwrap_or_else(|| "application/octet-stream".into()),
            }))
        })
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        bytes: &'a [u8],
        content_type: &'a str,
    ) -> LocalFuture<'a, std::result::Result<(), StoreError>> {
        Box::pin(async move {
            self.bucket()?
                .put(key, worker::Data::Bytes(bytes.to_vec()))
                .http_metadata(worker::HttpMetadata {
                    content_type: Some(content_type.to_string()),
                    cache_control: Some(crate::media::IMMUTABLE.to_string()),
                    ..Default::default()
                })
                .execute()
                .await
                .map(|_| ())
                .map_err(|e| StoreError(e.to_string()))
        })
    }

    fn delete<'a>(
        &'a self,
        keys: &'a [String],
    ) -> LocalFuture<'a, std::result::Result<(), StoreError>> {
        Box::pin(async move {
            if keys.is_empty() {
                return Ok(());
            }
            self.bucket()?
                .delete_multiple(keys.to_vec())
                .await
                .map_err(|e| StoreError(e.to_string()))
        })
    }
}

/// The visitors' worker has no bucket: the media paths are the operators' worker's.
#[cfg(not(feature = "operators"))]
struct NoBlobs;

#[cfg(not(feature = "operators"))]
impl crate::media::Blobs for NoBlobs {
    fn head<'a>(
        &'a self,
        _: &'a str,
    ) -> LocalFuture<'a, std::result::Result<Option<crate::media::BlobMeta>, StoreError>> {
        Box::pin(async { Err(StoreError("no media bucket here".into())) })
    }

    fn put<'a>(
        &'a self,
        _: &'a str,
        _: &'a [u8],
        _: &'a str,
    ) -> LocalFuture<'a, std::result::Result<(), StoreError>> {
        Box::pin(async { Err(StoreError("no media bucket here".into())) })
    }

    fn delete<'a>(
        &'a self,
        _: &'a [String],
    ) -> LocalFuture<'a, std::result::Result<(), StoreError>> {
        Box::pin(async { Err(StoreError("no media bucket here".into())) })
    }
}

/// The core's answer with `slice` of an R2 object as its body, streamed by the runtime from
/// R2 to the client (never through the worker's memory); 503 if R2 fails or the object went
/// away between the core's `head` and this read.
#[cfg(feature = "operators")]
async fn stream_blob(
    env: &Env,
    res: &ApiResponse,
    slice: &crate::http::BlobSlice,
) -> Result<web_sys::Response> {
    let body = match env.bucket(MEDIA_BINDING) {
        Ok(bucket) => bucket
            .get(slice.key.as_str())
            .range(worker::Range::OffsetWithLength {
                offset: slice.offset,
                length: slice.length,
            })
            .execute()
            .await
            .ok()
            .flatten()
            .and_then(|o| o.body().and_then(|b| b.response_body().ok())),
        Err(_) => None,
    };
    let Some(worker::ResponseBody::Stream(stream)) = body else {
        return to_runtime(
            &ApiResponse::error(&glimpse_shared::ApiError::unavailable()),
            &[],
        );
    };
    let headers = web_sys::Headers::new()?;
    for (name, value) in &res.headers {
        headers.set(name, value)?;
    }
    let init = web_sys::ResponseInit::new();
    init.set_status(res.status);
    init.set_headers(&headers);
    Ok(web_sys::Response::new_with_opt_readable_stream_and_init(
        Some(&stream),
        &init,
    )?)
}

/// The runtime's `Response` for the core's answer, with `extra` headers after its own: the
/// headers, status and body handed over directly (no `worker::Response` in between, whose
/// conversion would copy the body into a new array and build the init object again).
fn to_runtime(res: &ApiResponse, extra: &[(&str, &str)]) -> Result<web_sys::Response> {
    let headers = web_sys::Headers::new()?;
    for (name, value) in &res.headers {
        headers.set(name, value)?;
    }
    for (name, value) in extra {
        headers.set(name, value)?;
    }
    let init = web_sys::ResponseInit::new();
    init.set_status(res.status);
    init.set_headers(&headers);
    let out = match &res.binary {
        Some(bytes) => web_sys::Response::new_with_opt_buffer_source_and_init(
            Some(&Uint8Array::from(bytes.as_slice())),
            &init,
        ),
        None if res.body.is_empty() => web_sys::Response::new_with_opt_str_and_init(None, &init),
        None => web_sys::Response::new_with_opt_str_and_init(Some(&res.body), &init),
    };
    Ok(out?)
}

#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, _ctx: Context) -> Result<web_sys::Response> {
    // The runtime's own request, not `worker::Request`: converting to it reads the method,
    // URL, headers and `cf` object on every request whether or not they are used.
    let now_ms = Millis::try_from(Date::now().as_millis()).unwrap_or(Millis::MAX);
    // The raw method string: workers-rs' `Method` turns methods it does not know (QUERY,
    // PATCH, PROPFIND…) into GET, which would answer them as reads instead of 405.
    let method = Method::parse(&req.method());
    // The runtime's URL is already parsed and serialised: split it, do not parse it again.
    let mut api_req = ApiRequest::from_url(method, &req.url());
    #[cfg(not(feature = "operators"))]
    if crate::route::is_operators_path(&api_req.path) {
        return to_operators(req, &env).await;
    }
    let route = crate::route::route(method, &api_req.path).ok();
    let headers = req.headers();
    for name in crate::http::headers_read(route.as_ref()) {
        if let Ok(Some(value)) = headers.get(name) {
            api_req.headers.push(((*name).to_string(), value));
        }
    }
    // The body limit is the route's, decided before a byte is read.
    let limit = route.as_ref().map_or(0, |r| r.body_limit(method));
    let to_read = api_req.body_to_read(limit);
    let rest = if to_read > 0 {
        let (body, rest) = read_body(&req, to_read).await;
        api_req.body = body;
        rest
    } else {
        body_reader(&req)
    };
    let mut unread = false;
    if let Some(reader) = rest {
        let budget = if api_req.may_drain() {
            ApiRequest::DRAIN_MAX.saturating_sub(api_req.body.len())
        } else {
            0
        };
        unread = !drain(&reader, budget).await;
        // Locally, wrangler dev's proxy cannot survive a cancelled body: read the rest too,
        // as long as the client keeps sending it.
        if unread && let Some(local) = local_drain_max(&env) {
            unread = !drain_while_sent(&reader, local).await;
        }
        if unread {
            cancel_rest(reader).await;
        } else {
            reader.release_lock();
        }
    }
    let cache_key = crate::core::edge_cache_key(&api_req);
    if let Some(key) = &cache_key
        && let Ok(Some(hit)) = Cache::default().get(key.as_str(), false).await
    {
        return Ok(hit.into());
    }
    let limiter = limiter(&env);
    if limiter.enabled()
        && let Some(keys) = route
            .as_ref()
            .and_then(|r| crate::limit::keys_for(r, &api_req))
    {
        ask_bindings(&env, limiter, &keys, now_ms).await;
    }
    let store = Cached {
        inner: EdgeKv {
            kv: Lazy::new(&env, KV_BINDING, |env, name| env.kv(name)),
            now_ms,
        },
        cache: snapshots(),
        now_ms,
        ttl_ms: SNAPSHOT_TTL_MS,
        cacheable: glimpse_shared::keys::is_snapshot,
    };
    // The secret is read only for the requests that may present it.
    let token = route
        .as_ref()
        .filter(|r| r.accepts_admin_token())
        .and_then(|_| admin_token(&env));
    let sql = EdgeD1::new(&env);
    let producer = EdgeQueue::new(&env);
    #[cfg(feature = "operators")]
    let blobs = EdgeR2 { env: &env };
    #[cfg(not(feature = "operators"))]
    let blobs = NoBlobs;
    #[cfg(feature = "operators")]
    let rooms = crate::room::EdgeRooms { env: &env };
    #[cfg(not(feature = "operators"))]
    let rooms = crate::live::NoRooms;
    let api = Api {
        store: &store,
        admin_token: token.as_deref(),
        limiter,
        auth_failures: auth_failures(&env),
        random: &random_id,
        sql: &sql,
        queue: &producer,
        zones: zones(),
        memo: memo(),
        blobs: &blobs,
        rooms: &rooms,
        // Local runs (`cargo xtask dev`/`test` set LOCAL_DRAIN_MAX_BYTES) accept loopback
        // webhook receivers; a deploy never does.
        local: local_drain_max(&env).is_some(),
    };
    // A live viewer's WebSocket goes to its room's Durable Object.
    #[cfg(feature = "operators")]
    if let Some(r) = &route
        && crate::live::is_upgrade(r, &api_req)
    {
        let refused = match crate::live::socket_room(&api, &api_req, r, now_ms).await {
            Ok((room, session)) => match rooms.socket(&room, &session).await {
                Ok(res) => return Ok(res.into()),
                Err(e) => {
                    worker::console_error!("glimpse: live room {room} refused a socket: {e}");
                    glimpse_shared::ApiError::new(
                        503,
                        "unavailable",
                        "the live session is unavailable; retry shortly",
                    )
                }
            },
            Err(e) => e,
        };
        return to_runtime(&ApiResponse::error(&refused), &[]);
    }
    let res = handle(&api, &api_req, now_ms).await;
    #[cfg(feature = "operators")]
    if let Some(slice) = &res.blob {
        return stream_blob(&env, &res, slice).await;
    }
    // The body was not read to its end: this connection cannot carry another request.
    let close: &[(&str, &str)] = if unread {
        &[("connection", "close")]
    } else {
        &[]
    };
    let out = to_runtime(&res, close)?;
    if let Some(key) = cache_key
        && res.status == 200
    {
        // The key already names the origin (browsers still get `Vary: Origin`);
        // `glimpse-cache` marks answers served from here.
        let copy = to_runtime(&res, &[("glimpse-cache", "hit")])?;
        let _ = Cache::default()
            .put(key.as_str(), Response::from(copy))
            .await;
    }
    Ok(out)
}
