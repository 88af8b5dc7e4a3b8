//! The Cloudflare Workers shell: converts `worker::Request` into the core's [`ApiRequest`],
//! wraps Workers KV as a [`KvStore`], reads configuration from the environment and converts
//! the answer back. No decisions live here.

use std::cell::OnceCell;

use glimpse_shared::Millis;
use worker::{Context, Date, Env, Request, Response, Result, event, kv::KvStore as WorkersKv};

use crate::core::{Api, handle};
use crate::http::ApiRequest;
use crate::limit::{Limit, RateLimiter};
use crate::route::Method;
use crate::store::{Cached, KvStore, ListPage, Listed, Put, ReadCache, StoreError};

/// The KV namespace binding name in wrangler.toml.
const KV_BINDING: &str = "GLIMPSE";

/// Workers KV rejects expirations less than 60 s ahead.
const KV_MIN_TTL_S: u64 = 60;

/// How long an isolate answers from its in-memory copy of a site's snapshot before reading
/// KV again (its own writes replace the copy at once). See [`ReadCache`].
const SNAPSHOT_TTL_MS: Millis = 2_000;

thread_local! {
    /// The isolate's rate limiter: it lives as long as the isolate serves requests.
    static LIMITER: OnceCell<&'static RateLimiter> = const { OnceCell::new() };
    /// Failed admin authentications per client, in the isolate.
    static AUTH_FAILURES: OnceCell<&'static crate::door::AuthThrottle> = const { OnceCell::new() };
    /// Whether an unusable `ADMIN_TOKEN` was already logged by this isolate.
    static TOKEN_LOGGED: OnceCell<()> = const { OnceCell::new() };
    /// The isolate's recently read snapshots.
    static SNAPSHOTS: OnceCell<&'static ReadCache> = const { OnceCell::new() };
}

fn snapshots() -> &'static ReadCache {
    SNAPSHOTS.with(|cell| *cell.get_or_init(|| Box::leak(Box::default())))
}

struct EdgeKv {
    kv: WorkersKv,
    now_ms: Millis,
}

fn store_error(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

impl KvStore for EdgeKv {
    async fn get(&self, key: &str) -> std::result::Result<Option<String>, StoreError> {
        self.kv.get(key).text().await.map_err(store_error)
    }

    async fn put(&self, key: &str, value: &str, opts: Put) -> std::result::Result<(), StoreError> {
        let mut put = self.kv.put(key, value).map_err(store_error)?;
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
        self.kv.delete(key).await.map_err(store_error)
    }

    async fn list(
        &self,
        prefix: &str,
        cursor: Option<String>,
    ) -> std::result::Result<ListPage, StoreError> {
        let mut list = self.kv.list().prefix(prefix.to_string());
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

/// The rate limit from the `RATE_LIMIT_PER_MINUTE` var (0 disables it).
fn limiter(env: &Env) -> &'static RateLimiter {
    LIMITER.with(|cell| {
        *cell.get_or_init(|| {
            let per_minute = env
                .var("RATE_LIMIT_PER_MINUTE")
                .ok()
                .and_then(|v| v.to_string().trim().parse().ok())
                .unwrap_or(Limit::DEFAULT_PER_MINUTE);
            Box::leak(Box::new(RateLimiter::new(Limit::per_minute(per_minute))))
        })
    })
}

/// Hourly (wrangler.toml `[triggers]`): recount knowledge-base popularity and roll up today
/// and yesterday for every site.
#[event(scheduled)]
async fn scheduled(_event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    let Ok(kv) = env.kv(KV_BINDING) else {
        return;
    };
    let now_ms = Millis::try_from(Date::now().as_millis()).unwrap_or(Millis::MAX);
    let store = EdgeKv { kv, now_ms };
    let Ok(sites) = crate::store::list_all(&store, "sites/", 10).await else {
        return;
    };
    for s in sites {
        if let Some(site) = s.name.strip_prefix("sites/") {
            let _ = crate::kb::recount(&store, site).await;
            for day in [now_ms - 86_400_000, now_ms] {
                let _ =
                    crate::rollups::run(&store, site, &glimpse_shared::time::utc_date(day)).await;
            }
        }
    }
}

#[event(fetch)]
async fn fetch(mut req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let now_ms = Millis::try_from(Date::now().as_millis()).unwrap_or(Millis::MAX);
    // The raw method string: workers-rs' `req.method()` turns methods it does not know
    // (QUERY, PATCH, PROPFIND…) into GET, which would answer them as reads instead of 405.
    let method = Method::parse(&req.inner().method());
    let body = match method {
        Method::Post | Method::Put => req.bytes().await.unwrap_or_default(),
        _ => Vec::new(),
    };
    let url = req.url()?;
    let api_req = ApiRequest {
        method,
        origin: url.origin().ascii_serialization(),
        path: req.path(),
        query: url.query().unwrap_or("").to_string(),
        headers: req
            .headers()
            .entries()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect(),
        body,
    };
    let store = Cached {
        inner: EdgeKv {
            kv: env.kv(KV_BINDING)?,
            now_ms,
        },
        cache: snapshots(),
        now_ms,
        ttl_ms: SNAPSHOT_TTL_MS,
        cacheable: glimpse_shared::keys::is_snapshot,
    };
    let token = admin_token(&env);
    let api = Api {
        store: &store,
        admin_token: token.as_deref(),
        limiter: limiter(&env),
        auth_failures: auth_failures(&env),
        random: &random_id,
    };
    let res = handle(&api, &api_req, now_ms).await;
    let mut out = match res.binary {
        Some(bytes) => Response::from_bytes(bytes)?,
        None if res.body.is_empty() => Response::empty()?,
        None => Response::from_bytes(res.body.into_bytes())?,
    }
    .with_status(res.status);
    let headers = out.headers_mut();
    for (name, value) in &res.headers {
        headers.set(name, value)?;
    }
    Ok(out)
}
