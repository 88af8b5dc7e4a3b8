//! The Cloudflare Workers shell: converts `worker::Request` into the core's [`ApiRequest`],
//! wraps Workers KV as a [`KvStore`], and converts the answer back. No decisions live here.

use glimpse_shared::Millis;
use worker::{Context, Date, Env, Request, Response, Result, event, kv::KvStore as WorkersKv};

use crate::core::{ApiRequest, handle};
use crate::route::Method;
use crate::store::{KvStore, StoreError};

/// The KV namespace binding name in wrangler.toml.
const KV_BINDING: &str = "GLIMPSE";

/// Workers KV rejects expirations less than 60 s ahead.
const KV_MIN_TTL_S: u64 = 60;

struct EdgeKv {
    kv: WorkersKv,
    now_ms: Millis,
}

impl KvStore for EdgeKv {
    async fn get(&self, key: &str) -> std::result::Result<Option<String>, StoreError> {
        self.kv
            .get(key)
            .text()
            .await
            .map_err(|e| StoreError(e.to_string()))
    }

    async fn put(
        &self,
        key: &str,
        value: &str,
        expires_at_ms: Option<Millis>,
    ) -> std::result::Result<(), StoreError> {
        let mut put = self
            .kv
            .put(key, value)
            .map_err(|e| StoreError(e.to_string()))?;
        if let Some(at) = expires_at_ms {
            let now_s = u64::try_from(self.now_ms / 1000).unwrap_or(0);
            let at_s = u64::try_from(at / 1000).unwrap_or(0);
            put = put.expiration(at_s.max(now_s + KV_MIN_TTL_S));
        }
        put.execute().await.map_err(|e| StoreError(e.to_string()))
    }
}

#[event(fetch)]
async fn fetch(mut req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let now_ms = Millis::try_from(Date::now().as_millis()).unwrap_or(Millis::MAX);
    let method = Method::parse(req.method().as_ref());
    let body = match method {
        Method::Post | Method::Put => req.bytes().await.unwrap_or_default(),
        _ => Vec::new(),
    };
    let url = req.url()?;
    let api_req = ApiRequest {
        method,
        origin: url.origin().ascii_serialization(),
        path: req.path(),
        headers: req
            .headers()
            .entries()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect(),
        body,
    };
    let store = EdgeKv {
        kv: env.kv(KV_BINDING)?,
        now_ms,
    };
    let res = handle(&store, &api_req, now_ms).await;
    let mut out = Response::from_bytes(res.body.into_bytes())?.with_status(res.status);
    let headers = out.headers_mut();
    for (name, value) in &res.headers {
        headers.set(name, value)?;
    }
    Ok(out)
}
