//! The operator API: sites and their stories, sessions and polls, and poll results. Every
//! request carries `Authorization: Bearer <ADMIN_TOKEN>`. Each write stores one key per item
//! and then rebuilds the site's feed snapshot from those keys.

use glimpse_shared::keys::{self, ContentKind};
use glimpse_shared::poll::TextAnswer;
use glimpse_shared::{
    Answer, ApiError, LiveSession, Millis, Poll, PollKind, Problem, Site, SiteSnapshot, Story,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::core::{Api, unavailable};
use crate::http::{ApiRequest, ApiResponse};
use crate::route::{Method, Route};
use crate::sql::{Sql, Stmt, rows};
use crate::store::{KvStore, Put, list_all, read_all};

/// Largest body an admin endpoint reads.
pub const BODY_MAX: usize = crate::route::ADMIN_BODY_MAX;
/// Most listing pages read for one rebuild or tally (1000 keys each).
const LIST_PAGES_MAX: usize = 500;

pub(crate) async fn handle<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    route: &Route,
    now_ms: Millis,
) -> ApiResponse {
    if let Err(e) = door_check(api, req, now_ms) {
        return ApiResponse::error(&e);
    }
    let res = match (route, req.method) {
        (Route::AdminSite { site }, Method::Put) => put_site(api, req, site, now_ms).await,
        (Route::AdminSite { site }, Method::Delete) => {
            crate::sites::delete(api, site, now_ms).await
        }
        (Route::AdminSite { site }, _) => get_raw(api, &keys::site(site), "site").await,
        (Route::AdminContent { site, kind, id }, Method::Put) => {
            put_content(api, req, site, *kind, id, now_ms).await
        }
        (Route::AdminContent { site, kind, id }, Method::Delete) => {
            delete_content(api, site, *kind, id, now_ms).await
        }
        (Route::AdminContent { site, kind, id }, _) => {
            get_raw(api, &keys::content(site, *kind, id), kind.singular()).await
        }
        (Route::PollResults { site, poll }, _) => results(api, site, poll).await,
        (Route::AdminQuestions { site }, _) => crate::questions::list_open(api, req, site).await,
        (Route::Rollups { site }, _) => crate::rollups::list(api.sql, req, site).await,
        (Route::Report { site }, _) => match load_site(api, site).await {
            Ok(s) => crate::rollups::report(api.sql, req, &s, now_ms).await,
            Err(e) => Err(e),
        },
        (Route::AdminSites, _) => list_sites(api).await,
        (Route::AdminList { site, kind }, _) => list_items(api, site, *kind).await,
        (Route::RunRollup { site, id }, _) => match load_site(api, site).await {
            Ok(_) => crate::rollups::day(api.sql, site, id)
                .await
                .map(|stats| ApiResponse::json(200, &stats)),
            Err(e) => Err(e),
        },
        (Route::Visitor { site, visitor }, Method::Delete) => {
            crate::privacy::erase(api, site, visitor).await
        }
        (Route::Visitor { site, visitor }, _) => crate::privacy::export(api, site, visitor).await,
        (Route::KbRecount { site }, _) => match load_site(api, site).await {
            Ok(_) => crate::kb::popularity(api, site).await,
            Err(e) => Err(e),
        },
        (Route::KbEntries { site }, _) => crate::kb::admin_list(api, req, site, now_ms).await,
        (Route::KbEntry { site, source, id }, Method::Put) => {
            crate::kb::admin_put(api, req, site, *source, id, now_ms).await
        }
        (Route::KbEntry { site, source, id }, Method::Delete) => {
            crate::kb::admin_delete(api, site, *source, id).await
        }
        (Route::KbEntry { site, source, id }, _) => {
            crate::kb::admin_get(api, site, *source, id, now_ms).await
        }
        (Route::AdminReply { site, id }, _) => {
            crate::questions::reply(api, req, site, id, now_ms).await
        }
        (Route::AdminResolve { site, id }, _) => {
            crate::questions::resolve(api, req, site, id, now_ms).await
        }
        _ => Err(ApiError::not_found("route")),
    };
    res.unwrap_or_else(|e| ApiResponse::error(&e))
}

/// The door of every admin request: a client over its failed-authentication budget gets 429
/// with `Retry-After` (even with the right token, so guessing cannot go on); otherwise the
/// bearer token is checked and a failure is counted against the client (IPv6 per /64).
pub(crate) fn door_check<S>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    now_ms: Millis,
) -> Result<(), ApiError> {
    let client = crate::door::client_key(req.client_ip());
    api.auth_failures
        .check(&client, now_ms)
        .map_err(crate::door::throttled)?;
    authorize(api.admin_token, req.get_header("authorization")).inspect_err(|_| {
        api.auth_failures.fail(&client, now_ms);
    })
}

/// Checks the bearer token in constant time. Without a usable token (configured, at least
/// [`crate::door::ADMIN_TOKEN_MIN`] characters) nobody is let in. Every refusal has the same
/// text, so it never tells whether the admin API is configured.
pub fn authorize(expected: Option<&str>, header: Option<&str>) -> Result<(), ApiError> {
    let refused = || ApiError::unauthorized(crate::door::UNAUTHORIZED);
    let Some(expected) = crate::door::usable_admin_token(expected) else {
        return Err(refused());
    };
    let given = header
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    match given {
        Some(token) if constant_time_eq(token.as_bytes(), expected.as_bytes()) => Ok(()),
        _ => Err(refused()),
    }
}

/// Compares without an early exit, so timing does not reveal how much of a guess was right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

/// `GET /v1/admin/sites`: every site's id and name, for the console's site picker.
async fn list_sites<S: KvStore>(api: &Api<'_, S>) -> Result<ApiResponse, ApiError> {
    let mut sites = Vec::new();
    for k in list_all(api.store, "sites/", LIST_PAGES_MAX)
        .await
        .map_err(unavailable)?
    {
        let id = k.name.strip_prefix("sites/").unwrap_or("");
        if let Some(raw) = api.store.get(&keys::site(id)).await.map_err(unavailable)?
            && let Ok(site) = serde_json::from_str::<Site>(&raw)
        {
            sites.push(serde_json::json!({ "id": site.id, "name": site.name }));
        }
    }
    Ok(
        ApiResponse::json(200, &serde_json::json!({ "sites": sites }))
            .with_header("cache-control", "no-store"),
    )
}

/// A stored JSON value returned as is.
async fn get_raw<S: KvStore>(
    api: &Api<'_, S>,
    key: &str,
    what: &str,
) -> Result<ApiResponse, ApiError> {
    match api.store.get(key).await.map_err(unavailable)? {
        Some(raw) => Ok(ApiResponse::json_text(200, raw).with_header("cache-control", "no-store")),
        None => Err(ApiError::not_found(what)),
    }
}

/// `GET /v1/admin/sites/{site}/{stories|sessions|polls}`: every stored item of that kind,
/// by id (expired items too, until their retention ends).
async fn list_items<S: KvStore>(
    api: &Api<'_, S>,
    site_id: &str,
    kind: ContentKind,
) -> Result<ApiResponse, ApiError> {
    load_site(api, site_id).await?;
    let items: Vec<serde_json::Value> = read_all(
        api.store,
        &keys::content_prefix(site_id, kind),
        LIST_PAGES_MAX,
    )
    .await
    .map_err(unavailable)?;
    Ok(ApiResponse::json(
        200,
        &serde_json::json!({ kind.plural(): items }),
    ))
}

/// What a PUT answers: the stored item and the authoring lint's warnings.
#[derive(Debug, Serialize)]
struct Saved<'a, T> {
    item: &'a T,
    warnings: Vec<Problem>,
}

fn check_id(path_id: &str, body_id: &str) -> Result<(), ApiError> {
    if path_id == body_id {
        Ok(())
    } else {
        Err(ApiError::new(
            400,
            "id_mismatch",
            "the id in the body must equal the id in the path",
        )
        .with_field("id"))
    }
}

async fn put_site<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    site_id: &str,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let site: Site = req.read_json(BODY_MAX)?;
    check_id(site_id, &site.id)?;
    let mut problems = site.validate();
    if site.timezone.parse::<chrono_tz::Tz>().is_err()
        && !problems.iter().any(|p| p.field == "timezone")
    {
        problems.push(Problem::new(
            "timezone",
            "not a time zone in the IANA database",
        ));
    }
    if !problems.is_empty() {
        return Err(ApiError::invalid("site", problems));
    }
    let key = keys::site(site_id);
    let existed = api.store.get(&key).await.map_err(unavailable)?.is_some();
    let json = to_json(&site)?;
    api.store
        .put(&key, &json, Put::default())
        .await
        .map_err(unavailable)?;
    api.store
        .put(&keys::site_registry(site_id), "", Put::default())
        .await
        .map_err(unavailable)?;
    rebuild_snapshot(api.store, &site, None, now_ms).await?;
    Ok(ApiResponse::json(
        if existed { 200 } else { 201 },
        &Saved {
            warnings: site.lint(),
            item: &site,
        },
    ))
}

/// One authored item of any kind.
enum Item {
    Story(Story),
    Session(LiveSession),
    Poll(Poll),
}

impl Item {
    fn parse(kind: ContentKind, req: &ApiRequest) -> Result<Self, ApiError> {
        fn read<T: DeserializeOwned>(req: &ApiRequest) -> Result<T, ApiError> {
            req.read_json(BODY_MAX)
        }
        Ok(match kind {
            ContentKind::Story => Item::Story(read(req)?),
            ContentKind::Session => Item::Session(read(req)?),
            ContentKind::Poll => Item::Poll(read(req)?),
        })
    }

    fn from_stored(kind: ContentKind, raw: &str) -> Option<Self> {
        match kind {
            ContentKind::Story => serde_json::from_str(raw).ok().map(Item::Story),
            ContentKind::Session => serde_json::from_str(raw).ok().map(Item::Session),
            ContentKind::Poll => serde_json::from_str(raw).ok().map(Item::Poll),
        }
    }

    fn id(&self) -> &str {
        match self {
            Item::Story(s) => &s.id,
            Item::Session(s) => &s.id,
            Item::Poll(p) => &p.id,
        }
    }

    /// When visitors stop seeing it.
    fn ends_at(&self) -> Millis {
        match self {
            Item::Story(s) => s.expires_at,
            Item::Session(s) => s.ends_at,
            Item::Poll(p) => p.expires_at,
        }
    }

    fn validate(&self) -> Vec<Problem> {
        match self {
            Item::Story(s) => s.validate(),
            Item::Session(s) => s.validate(),
            Item::Poll(p) => p.validate(),
        }
    }

    fn lint(&self, site: &Site, now_ms: Millis) -> Vec<Problem> {
        let (mut out, topic) = match self {
            Item::Story(s) => (s.lint(), Some(&s.topic)),
            Item::Session(s) => (s.lint(), Some(&s.topic)),
            Item::Poll(p) => (p.lint(), None),
        };
        if let Some(topic) = topic
            && !site.topics.is_empty()
            && site.topic(topic).is_none()
        {
            out.push(Problem::new("topic", "not one of the site's topics"));
        }
        if self.ends_at() <= now_ms {
            out.push(Problem::new(
                "expires_at",
                "already over: visitors will not see it",
            ));
        }
        out
    }

    fn to_json(&self) -> Result<String, ApiError> {
        match self {
            Item::Story(s) => to_json(s),
            Item::Session(s) => to_json(s),
            Item::Poll(p) => to_json(p),
        }
    }
}

fn to_json<T: Serialize>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value)
        .map_err(|_| ApiError::new(500, "internal", "value could not be encoded"))
}

/// The site's stored configuration, or 404 (for other operator modules).
pub(crate) async fn load_site_pub<S: KvStore>(
    api: &Api<'_, S>,
    site_id: &str,
) -> Result<Site, ApiError> {
    load_site(api, site_id).await
}

/// The site's stored configuration, or 404.
async fn load_site<S: KvStore>(api: &Api<'_, S>, site_id: &str) -> Result<Site, ApiError> {
    let raw = api
        .store
        .get(&keys::site(site_id))
        .await
        .map_err(unavailable)?
        .ok_or_else(|| ApiError::not_found("site"))?;
    serde_json::from_str(&raw)
        .map_err(|_| ApiError::new(500, "internal", "stored site data is unreadable"))
}

async fn put_content<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    site_id: &str,
    kind: ContentKind,
    id: &str,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let item = Item::parse(kind, req)?;
    check_id(id, item.id())?;
    let problems = item.validate();
    if !problems.is_empty() {
        return Err(ApiError::invalid(kind.singular(), problems));
    }
    let site = load_site(api, site_id).await?;
    let end_field = if kind == ContentKind::Session {
        "ends_at"
    } else {
        "expires_at"
    };
    if let Some(p) = site.storage_problem(end_field, item.ends_at()) {
        return Err(ApiError::invalid(kind.singular(), vec![p]));
    }
    let key = keys::content(site_id, kind, id);
    let existed = api.store.get(&key).await.map_err(unavailable)?.is_some();
    let json = item.to_json()?;
    api.store
        .put(
            &key,
            &json,
            Put::expiring(site.retain_until(item.ends_at())),
        )
        .await
        .map_err(unavailable)?;
    rebuild_snapshot(api.store, &site, Some((kind, id, Some(&json))), now_ms).await?;
    if let Item::Story(story) = &item {
        // Nothing useful is lost when the story expires: it stays in the knowledge base
        // (public once the story goes live).
        crate::kb::save_story(api.sql, site_id, story, now_ms).await?;
    }
    let warnings = item.lint(&site, now_ms);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
    Ok(ApiResponse::json(
        if existed { 200 } else { 201 },
        &Saved {
            item: &value,
            warnings,
        },
    ))
}

async fn delete_content<S: KvStore>(
    api: &Api<'_, S>,
    site_id: &str,
    kind: ContentKind,
    id: &str,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let site = load_site(api, site_id).await?;
    api.store
        .delete(&keys::content(site_id, kind, id))
        .await
        .map_err(unavailable)?;
    rebuild_snapshot(api.store, &site, Some((kind, id, None)), now_ms).await?;
    if kind == ContentKind::Story {
        let entry = glimpse_shared::kb::KbSource::Story.entry_id(id);
        crate::kb::write(api.sql, site_id, &[(&entry, None)]).await?;
    }
    Ok(ApiResponse::empty(204))
}

/// Rebuilds the site's feed snapshot from its content keys. `change` is the item this
/// request just wrote (`Some(json)`) or deleted (`None`): it is applied explicitly because a
/// KV listing may not show a write for up to a minute.
pub async fn rebuild_snapshot<S: KvStore>(
    store: &S,
    site: &Site,
    change: Option<(ContentKind, &str, Option<&str>)>,
    now_ms: Millis,
) -> Result<(), ApiError> {
    let mut stories = Vec::new();
    let mut sessions = Vec::new();
    let mut polls = Vec::new();
    for kind in ContentKind::ALL {
        let prefix = keys::content_prefix(&site.id, kind);
        let listed = list_all(store, &prefix, LIST_PAGES_MAX)
            .await
            .map_err(unavailable)?;
        let mut raws = Vec::new();
        for key in listed {
            let id = key.name.strip_prefix(&prefix).unwrap_or("");
            if change.is_some_and(|(k, changed, _)| k == kind && changed == id) {
                continue;
            }
            if let Some(raw) = store.get(&key.name).await.map_err(unavailable)? {
                raws.push(raw);
            }
        }
        if let Some((k, _, Some(json))) = change
            && k == kind
        {
            raws.push(json.to_string());
        }
        for raw in raws {
            match Item::from_stored(kind, &raw) {
                Some(Item::Story(s)) => stories.push(s),
                Some(Item::Session(s)) => sessions.push(s),
                Some(Item::Poll(p)) => polls.push(p),
                None => {}
            }
        }
    }
    let snapshot = SiteSnapshot::new(site.clone(), stories, sessions, polls, now_ms);
    store
        .put(
            &keys::snapshot(&site.id),
            &to_json(&snapshot)?,
            Put::default(),
        )
        .await
        .map_err(unavailable)
}

/// `GET …/polls/{poll}/results`: exact counts from D1's `tallies` and the newest text
/// answers from `votes` (as far as the queue has delivered them: typically within a second).
async fn results<S: KvStore>(
    api: &Api<'_, S>,
    site_id: &str,
    poll_id: &str,
) -> Result<ApiResponse, ApiError> {
    let poll = stored_poll(api, site_id, poll_id)
        .await?
        .ok_or_else(|| ApiError::not_found("poll"))?;
    Ok(ApiResponse::json(
        200,
        &tally(api.sql, site_id, &poll).await?,
    ))
}

#[derive(serde::Deserialize)]
struct Body {
    body: String,
}

/// A poll as stored: its D1 `content` row, or its KV key for content written before D1
/// held content.
async fn stored_poll<S: KvStore>(
    api: &Api<'_, S>,
    site_id: &str,
    poll_id: &str,
) -> Result<Option<Poll>, ApiError> {
    let row: Option<Body> = crate::sql::first(
        api.sql,
        Stmt::new("SELECT body FROM content WHERE site = ?1 AND kind = 'poll' AND id = ?2")
            .bind(site_id)
            .bind(poll_id),
    )
    .await
    .map_err(unavailable)?;
    let raw = match row {
        Some(r) => Some(r.body),
        None => api
            .store
            .get(&keys::content(site_id, ContentKind::Poll, poll_id))
            .await
            .map_err(unavailable)?,
    };
    raw.map(|raw| {
        serde_json::from_str(&raw)
            .map_err(|_| ApiError::new(500, "internal", "stored poll is unreadable"))
    })
    .transpose()
}

#[derive(serde::Deserialize)]
struct TallyRow {
    answer: String,
    n: i64,
}

#[derive(serde::Deserialize)]
struct TextRow {
    value: String,
    at: Millis,
}

/// A poll's exact results: its D1 tally (one query) and, for text polls, the newest
/// [`glimpse_shared::PollResults::TEXTS_MAX`] answers (one more, indexed).
pub async fn tally(
    sql: &dyn Sql,
    site_id: &str,
    poll: &Poll,
) -> Result<glimpse_shared::PollResults, ApiError> {
    let counts: Vec<TallyRow> = rows(
        sql,
        Stmt::new("SELECT answer, n FROM tallies WHERE site = ?1 AND poll = ?2")
            .bind(site_id)
            .bind(poll.id.as_str()),
    )
    .await
    .map_err(unavailable)?;
    let mut texts = Vec::new();
    if matches!(poll.kind, PollKind::Text { .. }) {
        let found: Vec<TextRow> = rows(
            sql,
            Stmt::new(
                "SELECT value, at FROM votes WHERE site = ?1 AND poll = ?2 AND answer = 'text' \
                 ORDER BY at DESC LIMIT ?3",
            )
            .bind(site_id)
            .bind(poll.id.as_str())
            .bind(i64::try_from(glimpse_shared::PollResults::TEXTS_MAX).unwrap_or(200)),
        )
        .await
        .map_err(unavailable)?;
        texts = found
            .into_iter()
            .filter_map(|r| match serde_json::from_str(&r.value) {
                Ok(Answer::Text(text)) => Some(TextAnswer { text, at: r.at }),
                _ => None,
            })
            .collect();
    }
    Ok(poll.results_from_counts(
        counts
            .iter()
            .map(|r| (r.answer.as_str(), u64::try_from(r.n).unwrap_or(0))),
        texts,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens() {
        const T: &str = "s3cret-token-value-0123456789abcdef";
        let ok = |h: &str| authorize(Some(T), Some(h)).is_ok();
        assert!(ok(&format!("Bearer {T}")));
        assert!(ok(&format!("bearer {T}")));
        assert!(!ok("Bearer s3cret-token-value-0123456789abcdeF"));
        assert!(!ok(&format!("Bearer {T}-and-more")));
        assert!(!ok(&format!("Basic {T}")));
        assert!(!ok(T));
        assert!(authorize(Some(T), None).is_err());
        assert!(authorize(None, Some("Bearer ")).is_err());
        assert!(authorize(Some(""), Some("Bearer ")).is_err());
        // A short token is configuration error: even sending it exactly is refused.
        let short = "short-token-0123456789";
        assert!(authorize(Some(short), Some(&format!("Bearer {short}"))).is_err());
        // The same words whether admin is unconfigured, too short, or the token wrong.
        let texts: Vec<String> = [
            authorize(None, Some("Bearer x")),
            authorize(Some(short), Some("Bearer x")),
            authorize(Some(T), Some("Bearer x")),
            authorize(Some(T), None),
        ]
        .into_iter()
        .map(|r| {
            r.err()
                .map(|e| format!("{} {} {}", e.status, e.code, e.message))
                .unwrap_or_default()
        })
        .collect();
        assert!(texts.iter().all(|t| t == &texts[0]), "{texts:?}");
        assert!(!texts[0].contains("ADMIN_TOKEN") && !texts[0].contains("disabled"));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
