//! The operator API: sites and their stories, sessions and polls, and poll results. Every
//! request carries `Authorization: Bearer <ADMIN_TOKEN>`. Content lives in D1 (`content`, one
//! row per item); each write upserts its row and rebuilds the site's feed snapshot in KV from
//! one query of the site's unexpired rows, in the same D1 transaction as the write (D1 is
//! strongly consistent: the rebuild sees the write). Sites are rows of `sites` plus their
//! configuration in KV (what the edge reads).

use glimpse_shared::keys::{self, ContentKind};
use glimpse_shared::poll::TextAnswer;
use glimpse_shared::team::Actor;
use glimpse_shared::{
    Answer, ApiError, LiveSession, Millis, Poll, PollKind, Problem, Site, SiteSnapshot, Story,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::core::{Api, unavailable};
use crate::http::{ApiRequest, ApiResponse};
use crate::route::{Method, Route};
use crate::sql::{Row, Sql, Stmt, first, rows};
use crate::store::{KvStore, Put};

/// Largest body an admin endpoint reads.
pub const BODY_MAX: usize = crate::route::ADMIN_BODY_MAX;
/// Most items one admin listing of a kind returns (a site's content is small: authored by
/// hand, deleted `retention_days` after it ends). Also the most sites `GET /v1/admin/sites`
/// lists.
pub const LIST_MAX: i64 = 1000;

pub(crate) async fn handle<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    route: &Route,
    now_ms: Millis,
) -> ApiResponse {
    let actor = match crate::team::authenticate(api, req, now_ms).await {
        Ok(a) => a,
        Err(e) => return ApiResponse::error(&e),
    };
    let read = matches!(req.method, Method::Get | Method::Head);
    let res = match actor.may(route.area(req.method), read, route.site()) {
        Ok(()) => answer(api, req, route, &actor, now_ms).await,
        Err(denied) => Err(ApiError::new(403, "forbidden", denied.to_string())),
    };
    let res = res.unwrap_or_else(|e| ApiResponse::error(&e));
    if !read {
        crate::team::audit(api, &actor, req, route.site(), res.status, now_ms).await;
    }
    res
}

/// The answer of an operators' endpoint `actor` may use.
async fn answer<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    route: &Route,
    actor: &Actor,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    match (route, req.method) {
        (
            Route::AdminLive { .. }
            | Route::AdminLiveQuestion { .. }
            | Route::AdminLiveStatus { .. }
            | Route::AdminLiveEnd { .. }
            | Route::AdminLiveRecap { .. },
            _,
        ) => crate::live::host(api, req, route, now_ms).await,
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
        (Route::AdminContent { site, kind, id }, _) => get_item(api, site, *kind, id).await,
        (Route::PollResults { site, poll }, _) => results(api, site, poll).await,
        (Route::AdminQuestions { site }, _) => crate::questions::list_open(api, req, site).await,
        // A deleted (or never created) site has no roll-ups to list: 404, like its other reads.
        (Route::Rollups { site }, _) => match load_site(api, site).await {
            Ok(_) => crate::rollups::list(api.sql, req, site).await,
            Err(e) => Err(e),
        },
        (Route::Report { site }, _) => match load_site(api, site).await {
            Ok(s) => crate::rollups::report(api.sql, req, &s, now_ms).await,
            Err(e) => Err(e),
        },
        (Route::AdminSites, _) => list_sites(api, actor).await,
        (Route::AdminList { site, kind }, _) => list_items(api, site, *kind).await,
        (Route::RunRollup { site, id }, _) => match load_site(api, site).await {
            Ok(_) => crate::rollups::day(api.sql, site, id)
                .await
                .map(|stats| ApiResponse::json(200, &stats)),
            Err(e) => Err(e),
        },
        (Route::Visitor { site, visitor }, Method::Delete) => {
            crate::privacy::erase(api, site, visitor, now_ms).await
        }
        (Route::Visitor { site, visitor }, _) => {
            crate::privacy::export(api, req, site, visitor).await
        }
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
            crate::questions::reply(api, req, actor, site, id, now_ms).await
        }
        (Route::AdminRebuild { site }, _) => crate::migrate::rebuild(api, req, site, now_ms).await,
        (Route::AdminAvailability { site }, _) => availability(api, req, site, now_ms).await,
        (Route::AdminMediaList { site }, Method::Post) => {
            crate::media::upload(api, req, site, now_ms).await
        }
        (Route::AdminMediaList { site }, _) => crate::media::list(api, req, site).await,
        (Route::AdminMedia { site, id }, Method::Delete) => {
            crate::media::delete(api, site, id).await
        }
        (Route::AdminMedia { site, id }, _) => crate::media::get(api, site, id).await,
        (Route::AdminResolve { site, id }, _) => {
            crate::questions::resolve(api, req, site, id, now_ms).await
        }
        (Route::AdminThread { site, id }, _) => crate::questions::admin_thread(api, site, id).await,
        (Route::AdminThreadPhoto { site, id }, _) => crate::questions::photo(api, site, id).await,
        (Route::AdminMe, _) => Ok(crate::team::me(actor)),
        (Route::AdminOperators, Method::Post) => {
            crate::team::create_operator(api, req, actor, now_ms).await
        }
        (Route::AdminOperators, _) => crate::team::list_operators(api, actor).await,
        (Route::AdminOperator { id }, _) => {
            crate::team::operator(api, req, actor, id, now_ms).await
        }
        (Route::AdminKeys, Method::Post) => crate::team::create_key(api, req, actor, now_ms).await,
        (Route::AdminKeys, _) => crate::team::list_keys(api, actor).await,
        (Route::AdminKey { id }, _) => crate::team::key(api, req, actor, id, now_ms).await,
        (Route::AdminAudit, _) => crate::team::list_audit(api, req, actor).await,
        (Route::AdminWebhooks { site }, _) => {
            crate::webhooks::collection(api, req, actor, site, now_ms).await
        }
        (Route::AdminWebhook { site, id }, _) => crate::webhooks::item(api, req, site, id).await,
        (Route::AdminWebhookTest { site, id }, _) => {
            crate::webhooks::test(api, site, id, now_ms).await
        }
        (Route::AdminWebhookDeliveries { site, id }, _) => {
            crate::webhooks::deliveries(api, req, site, id).await
        }
        (Route::AdminSavedReplies { site }, _) => {
            crate::saved::collection(api, req, actor, site, now_ms).await
        }
        (Route::AdminSavedReply { site, id }, _) => {
            crate::saved::item(api, req, actor, site, id, now_ms).await
        }
        (Route::AdminExport { site }, _) => crate::export::export(api, req, site).await,
        _ => Err(ApiError::not_found("route")),
    }
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

/// `GET /v1/admin/sites`: every site's id and name (at most [`LIST_MAX`], by id), for the
/// console's site picker. One D1 query.
async fn list_sites<S: KvStore>(api: &Api<'_, S>, actor: &Actor) -> Result<ApiResponse, ApiError> {
    #[derive(serde::Deserialize, Serialize)]
    struct Listed {
        id: String,
        name: String,
    }
    let sites: Vec<Listed> = rows(
        api.sql,
        Stmt::new("SELECT site AS id, name FROM sites ORDER BY site LIMIT ?1").bind(LIST_MAX),
    )
    .await
    .map_err(unavailable)?;
    // An operator of some sites sees those.
    let sites: Vec<Listed> = sites
        .into_iter()
        .filter(|s| actor.has_site(&s.id))
        .collect();
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

#[derive(serde::Deserialize)]
struct BodyRow {
    body: String,
}

/// The stored JSON of one content item (`None`: no such row). One D1 query.
pub(crate) async fn item_json(
    sql: &dyn Sql,
    site: &str,
    kind: ContentKind,
    id: &str,
) -> Result<Option<String>, ApiError> {
    let row: Option<BodyRow> = first(
        sql,
        Stmt::new("SELECT body FROM content WHERE site = ?1 AND kind = ?2 AND id = ?3")
            .bind(site)
            .bind(kind.singular())
            .bind(id),
    )
    .await
    .map_err(unavailable)?;
    Ok(row.map(|r| r.body))
}

/// `GET /v1/admin/sites/{site}/{kind}/{id}`: the item as stored, until its retention ends.
async fn get_item<S: KvStore>(
    api: &Api<'_, S>,
    site: &str,
    kind: ContentKind,
    id: &str,
) -> Result<ApiResponse, ApiError> {
    match item_json(api.sql, site, kind, id).await? {
        Some(raw) => Ok(ApiResponse::json_text(200, raw).with_header("cache-control", "no-store")),
        None => Err(ApiError::not_found(kind.singular())),
    }
}

/// `GET /v1/admin/sites/{site}/{stories|sessions|polls}`: the stored items of that kind, by
/// id (expired items too, until their retention ends), at most [`LIST_MAX`]. One KV read
/// (the site must exist) and one D1 query.
async fn list_items<S: KvStore>(
    api: &Api<'_, S>,
    site_id: &str,
    kind: ContentKind,
) -> Result<ApiResponse, ApiError> {
    load_site(api, site_id).await?;
    let stored: Vec<BodyRow> = rows(
        api.sql,
        Stmt::new("SELECT body FROM content WHERE site = ?1 AND kind = ?2 ORDER BY id LIMIT ?3")
            .bind(site_id)
            .bind(kind.singular())
            .bind(LIST_MAX),
    )
    .await
    .map_err(unavailable)?;
    let items: Vec<serde_json::Value> = stored
        .iter()
        .filter_map(|r| crate::json::from_str(&r.body).ok())
        .collect();
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
    if api.zones.offset_ms(&site.timezone, now_ms).is_none()
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
    let upsert = Stmt::new(
        "INSERT INTO sites (site, name, updated_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (site) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at",
    )
    .bind(site_id)
    .bind(&site.name)
    .bind(now_ms);
    // A changed retention moves every item's purge time (a site's content is small).
    let purge = Stmt::new("UPDATE content SET purge_at = over_at + ?2 WHERE site = ?1")
        .bind(site_id)
        .bind(site.retain_until(0));
    let mut out = api
        .sql
        .batch(&[upsert, purge, live_content(site_id, now_ms)])
        .await
        .map_err(unavailable)?;
    let live = out.pop().unwrap_or_default();
    write_snapshot(api.store, &site, live, now_ms).await?;
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
            ContentKind::Story => crate::json::from_str(raw).ok().map(Item::Story),
            ContentKind::Session => crate::json::from_str(raw).ok().map(Item::Session),
            ContentKind::Poll => crate::json::from_str(raw).ok().map(Item::Poll),
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
            Item::Session(s) => s.over_at(),
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

    /// Translations into languages `site` does not offer (nobody would read them).
    fn unoffered(&self, site: &Site) -> Vec<Problem> {
        match self {
            Item::Story(s) => glimpse_shared::translate::unoffered(site, s.translations.keys()),
            Item::Session(s) => glimpse_shared::translate::unoffered(site, s.translations.keys()),
            Item::Poll(p) => glimpse_shared::translate::unoffered(site, p.translations.keys()),
        }
    }

    fn lint(&self, site: &Site, now_ms: Millis) -> Vec<Problem> {
        let (mut out, topic) = match self {
            Item::Story(s) => (s.lint(), Some(&s.topic)),
            Item::Session(s) => (s.lint(), Some(&s.topic)),
            Item::Poll(p) => (p.lint(), None),
        };
        out.extend(match self {
            Item::Story(s) => s.lint_translations(site),
            Item::Session(s) => s.lint_translations(site),
            Item::Poll(p) => p.lint_translations(site),
        });
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

/// When a stored item of `kind` ends (`expires_at` or `ends_at`), or `None` if `raw` is not
/// one.
pub(crate) fn stored_ends_at(kind: ContentKind, raw: &str) -> Option<Millis> {
    Item::from_stored(kind, raw).map(|i| i.ends_at())
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

/// `GET /v1/admin/sites/{site}/availability?at=MS`: live help per topic at the instant `at`
/// (unix ms; now without it) as the feed would show it then, from the site's opening hours in
/// its time zone (the runtime's tz data at the edge) and its live sessions, so an operator can
/// check their hours around a DST change or a holiday. 400 naming `at` if it is not an integer.
async fn availability<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    site_id: &str,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let at = match req.query_param("at") {
        None => now_ms,
        Some(v) => v.trim().parse::<Millis>().map_err(|_| {
            ApiError::new(400, "invalid", "at must be a time in unix milliseconds").with_field("at")
        })?,
    };
    let snapshot = crate::core::load_snapshot(api, site_id).await?;
    let availability =
        crate::hours::availability(&snapshot.site, &snapshot.sessions, api.zones, at);
    Ok(ApiResponse::json(
        200,
        &serde_json::json!({
            "at": at,
            "timezone": snapshot.site.timezone,
            "availability": availability,
        }),
    )
    .with_header("cache-control", "no-store"))
}

/// The site's stored configuration, or 404.
async fn load_site<S: KvStore>(api: &Api<'_, S>, site_id: &str) -> Result<Site, ApiError> {
    let raw = api
        .store
        .get(&keys::site(site_id))
        .await
        .map_err(unavailable)?
        .ok_or_else(|| ApiError::not_found("site"))?;
    crate::json::from_str(&raw)
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
    let unoffered = item.unoffered(&site);
    if !unoffered.is_empty() {
        return Err(ApiError::invalid(kind.singular(), unoffered));
    }
    let json = item.to_json()?;
    let exists = Stmt::new("SELECT 1 AS n FROM content WHERE site = ?1 AND kind = ?2 AND id = ?3")
        .bind(site_id)
        .bind(kind.singular())
        .bind(id);
    let upsert = Stmt::new(
        "INSERT INTO content (site, kind, id, body, over_at, purge_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (site, kind, id) DO UPDATE SET \
         body = excluded.body, over_at = excluded.over_at, purge_at = excluded.purge_at",
    )
    .bind(site_id)
    .bind(kind.singular())
    .bind(id)
    .bind(&json)
    .bind(item.ends_at())
    .bind(site.retain_until(item.ends_at()));
    let mut out = api
        .sql
        .batch(&[exists, upsert, live_content(site_id, now_ms)])
        .await
        .map_err(unavailable)?;
    let live = out.pop().unwrap_or_default();
    let existed = out.first().is_some_and(|r| !r.is_empty());
    write_snapshot(api.store, &site, live, now_ms).await?;
    if let Item::Story(story) = &item {
        // Nothing useful is lost when the story expires: it stays in the knowledge base
        // (public once the story goes live).
        crate::kb::save_story(api.sql, site_id, story, now_ms).await?;
    }
    let warnings = item.lint(&site, now_ms);
    let value: serde_json::Value = crate::json::from_str(&json).unwrap_or_default();
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
    let delete = Stmt::new("DELETE FROM content WHERE site = ?1 AND kind = ?2 AND id = ?3")
        .bind(site_id)
        .bind(kind.singular())
        .bind(id);
    let mut out = api
        .sql
        .batch(&[delete, live_content(site_id, now_ms)])
        .await
        .map_err(unavailable)?;
    write_snapshot(api.store, &site, out.pop().unwrap_or_default(), now_ms).await?;
    if kind == ContentKind::Story {
        let entry = glimpse_shared::kb::KbSource::Story.entry_id(id);
        crate::kb::write(api.sql, site_id, &[(&entry, None)]).await?;
    }
    Ok(ApiResponse::empty(204))
}

/// The one query a snapshot is built from: the site's content that is not over yet.
/// Its last row may be the site's expected reply time (kind `reply_minutes`, the minutes as
/// `body`: the `sites` column the hourly tick keeps), so the snapshot stays one query.
pub fn live_content(site: &str, now_ms: Millis) -> Stmt {
    Stmt::new(
        "SELECT kind, id, body FROM content WHERE site = ?1 AND over_at > ?2 \
         UNION ALL SELECT 'reply_minutes', '', CAST(reply_minutes AS TEXT) FROM sites \
         WHERE site = ?1 AND reply_minutes IS NOT NULL \
         ORDER BY 1, 2",
    )
    .bind(site)
    .bind(now_ms)
}

/// Rebuilds the site's feed snapshot from D1: one query, one KV write.
pub async fn rebuild_snapshot<S: KvStore>(
    store: &S,
    sql: &dyn Sql,
    site: &Site,
    now_ms: Millis,
) -> Result<(), ApiError> {
    let live = sql
        .query(&live_content(&site.id, now_ms))
        .await
        .map_err(unavailable)?;
    write_snapshot(store, site, live, now_ms).await
}

/// Writes the snapshot made of `live` (rows of [`live_content`]); unreadable rows are skipped.
async fn write_snapshot<S: KvStore>(
    store: &S,
    site: &Site,
    live: Vec<Row>,
    now_ms: Millis,
) -> Result<(), ApiError> {
    #[derive(serde::Deserialize)]
    struct Live {
        kind: String,
        body: String,
    }
    let mut stories = Vec::new();
    let mut sessions = Vec::new();
    let mut polls = Vec::new();
    let mut reply_minutes = None;
    for row in crate::sql::decode::<Live>(live).map_err(unavailable)? {
        if row.kind == "reply_minutes" {
            reply_minutes = row.body.parse().ok();
            continue;
        }
        let Some(kind) = ContentKind::ALL
            .into_iter()
            .find(|k| k.singular() == row.kind)
        else {
            continue;
        };
        match Item::from_stored(kind, &row.body) {
            Some(Item::Story(s)) => stories.push(s),
            Some(Item::Session(s)) => sessions.push(s),
            Some(Item::Poll(p)) => polls.push(p),
            None => {}
        }
    }
    let mut snapshot = SiteSnapshot::new(site.clone(), stories, sessions, polls, now_ms);
    snapshot.reply_minutes = reply_minutes;
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

/// A poll as stored (its D1 `content` row).
async fn stored_poll<S: KvStore>(
    api: &Api<'_, S>,
    site_id: &str,
    poll_id: &str,
) -> Result<Option<Poll>, ApiError> {
    item_json(api.sql, site_id, ContentKind::Poll, poll_id)
        .await?
        .map(|raw| {
            crate::json::from_str(&raw)
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
            .filter_map(|r| match crate::json::from_str(&r.value) {
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
