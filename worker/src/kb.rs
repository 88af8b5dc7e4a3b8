//! The permanent knowledge base. Entries are written when a story is saved (public once it
//! goes live) and when an operator publishes an answer to a question — never when a question
//! is resolved. Operators list, edit, unpublish and delete every entry. An index of all
//! entries is rebuilt on every KB write (one read per search); visitors get only the entries
//! public at the request's time, as articles without source ids or visitor ids. Also the
//! search endpoint and a plain HTML page per site that needs no JavaScript.

use glimpse_shared::events::StoredBatch;
use glimpse_shared::kb::{
    KbDraft, KbEntry, KbListed, KbSource, Popularity, answer_entry, edit_entry, popularity, search,
    story_entry, with_popularity,
};
use glimpse_shared::{ApiError, Millis, SiteSnapshot, Story, keys};
use serde_json::json;

use crate::core::{Api, unavailable};
use crate::http::{ApiRequest, ApiResponse};
use crate::store::{KvStore, Put, list_all};

/// Largest body of an operator's KB write.
const BODY_MAX: usize = 16 * 1024;

/// One entry as stored.
async fn load_entry<S: KvStore>(
    store: &S,
    site: &str,
    id: &str,
) -> Result<Option<KbEntry>, ApiError> {
    Ok(store
        .get(&keys::kb_entry(site, id))
        .await
        .map_err(unavailable)?
        .and_then(|raw| serde_json::from_str(&raw).ok()))
}

/// Keeps story `story`'s entry in step with it (see [`story_entry`]): two reads, two writes
/// plus the index rebuild.
pub async fn save_story<S: KvStore>(
    store: &S,
    site: &str,
    story: &Story,
    now_ms: Millis,
) -> Result<(), ApiError> {
    let id = KbSource::Story.entry_id(&story.id);
    let existing = load_entry(store, site, &id).await?;
    let entry = story_entry(story, existing.as_ref(), now_ms);
    write(store, site, &[(&id, Some(&entry))]).await
}

/// Writes (`Some`) or removes (`None`) each entry, then rebuilds the index with those changes
/// applied explicitly (a listing may lag a write).
pub async fn write<S: KvStore>(
    store: &S,
    site: &str,
    changes: &[(&str, Option<&KbEntry>)],
) -> Result<(), ApiError> {
    for (id, entry) in changes {
        let key = keys::kb_entry(site, id);
        match entry {
            Some(e) => {
                let json = serde_json::to_string(e)
                    .map_err(|_| ApiError::new(500, "internal", "entry could not be encoded"))?;
                store
                    .put(&key, &json, Put::default())
                    .await
                    .map_err(unavailable)?;
            }
            None => store.delete(&key).await.map_err(unavailable)?,
        }
    }
    let prefix = keys::kb_prefix(site);
    let mut all: Vec<KbEntry> = Vec::new();
    for k in list_all(store, &prefix, 20).await.map_err(unavailable)? {
        let id = k.name.strip_prefix(&prefix).unwrap_or("");
        if changes.iter().any(|(changed, _)| *changed == id) {
            continue;
        }
        if let Some(raw) = store.get(&k.name).await.map_err(unavailable)?
            && let Ok(e) = serde_json::from_str(&raw)
        {
            all.push(e);
        }
    }
    all.extend(changes.iter().filter_map(|(_, e)| e.cloned()));
    let json = serde_json::to_string(&all)
        .map_err(|_| ApiError::new(500, "internal", "index could not be encoded"))?;
    store
        .put(&keys::kb_index(site), &json, Put::default())
        .await
        .map_err(unavailable)
}

/// The entries made from visitor `visitor`'s questions (one read: the index).
pub async fn of_visitor<S: KvStore>(
    store: &S,
    site: &str,
    visitor: &str,
) -> Result<Vec<KbEntry>, ApiError> {
    Ok(stored_index(store, site)
        .await?
        .into_iter()
        .filter(|e| e.visitor.as_deref() == Some(visitor))
        .collect())
}

/// `GET /v1/admin/sites/{site}/kb`: every entry (unpublished and scheduled ones too), most
/// recently changed first, with its status.
pub async fn admin_list<S: KvStore>(
    api: &Api<'_, S>,
    site: &str,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    crate::admin::load_site_pub(api, site).await?;
    let mut entries = index(api.store, site).await?;
    entries.sort_by_key(|e| std::cmp::Reverse(e.updated_at.max(e.published_at)));
    let list: Vec<KbListed> = entries
        .into_iter()
        .map(|e| KbListed::at(e, now_ms))
        .collect();
    Ok(
        ApiResponse::json(200, &json!({ "entries": list }))
            .with_header("cache-control", "no-store"),
    )
}

/// `GET /v1/admin/sites/{site}/kb/{stories|questions}/{id}`.
pub async fn admin_get<S: KvStore>(
    api: &Api<'_, S>,
    site: &str,
    source: KbSource,
    id: &str,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let entry = load_entry(api.store, site, &source.entry_id(id))
        .await?
        .ok_or_else(|| ApiError::not_found("knowledge-base entry"))?;
    Ok(ApiResponse::json(200, &KbListed::at(entry, now_ms))
        .with_header("cache-control", "no-store"))
}

/// `PUT /v1/admin/sites/{site}/kb/{stories|questions}/{id}` with a [`KbDraft`]:
/// - `questions/{id}`: publishes (201) or edits (200) the operator's answer to question `id`.
///   Only the draft is published, never the visitor's message; the entry remembers the
///   visitor so erasing them removes it. 404 if neither the question nor its entry exists.
/// - `stories/{id}`: edits the story's entry (200; 404 if the story has none).
///
/// `published: false` unpublishes. 400 for an invalid draft or a topic the site lacks.
pub async fn admin_put<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    site_id: &str,
    source: KbSource,
    id: &str,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let draft = req.read_valid(BODY_MAX, "knowledge-base entry", KbDraft::validate)?;
    let site = crate::admin::load_site_pub(api, site_id).await?;
    if !site.topics.is_empty() && site.topic(&draft.topic).is_none() {
        return Err(
            ApiError::new(400, "invalid", "not one of the site's topics").with_field("topic"),
        );
    }
    let entry_id = source.entry_id(id);
    let existing = load_entry(api.store, site_id, &entry_id).await?;
    let entry = match (source, &existing) {
        (KbSource::Story, Some(old)) => edit_entry(old, &draft, now_ms),
        (KbSource::Story, None) => return Err(ApiError::not_found("knowledge-base entry")),
        (KbSource::Question, Some(old)) if old.visitor.is_some() => {
            answer_entry(id, old.visitor.as_deref(), &draft, Some(old), now_ms)
        }
        // Entries of versions before 0.14 did not record the visitor: take it from the
        // question while it is stored.
        (KbSource::Question, Some(old)) => {
            let q = crate::questions::find(api, site_id, id).await?;
            let visitor = q.as_ref().map(|q| q.visitor.as_str());
            answer_entry(id, visitor, &draft, Some(old), now_ms)
        }
        (KbSource::Question, None) => {
            let q = crate::questions::find(api, site_id, id)
                .await?
                .ok_or_else(|| ApiError::not_found("question"))?;
            answer_entry(id, Some(&q.visitor), &draft, None, now_ms)
        }
    };
    write(api.store, site_id, &[(&entry_id, Some(&entry))]).await?;
    Ok(ApiResponse::json(
        if existing.is_some() { 200 } else { 201 },
        &KbListed::at(entry, now_ms),
    ))
}

/// `DELETE /v1/admin/sites/{site}/kb/{stories|questions}/{id}` → 204, also when it was
/// already gone. A story's entry is made again if the story is saved again (unpublish it to
/// keep it out).
pub async fn admin_delete<S: KvStore>(
    api: &Api<'_, S>,
    site_id: &str,
    source: KbSource,
    id: &str,
) -> Result<ApiResponse, ApiError> {
    crate::admin::load_site_pub(api, site_id).await?;
    write(api.store, site_id, &[(&source.entry_id(id), None)]).await?;
    Ok(ApiResponse::empty(204))
}

/// Every stored entry, as indexed (one read).
async fn stored_index<S: KvStore>(store: &S, site: &str) -> Result<Vec<KbEntry>, ApiError> {
    Ok(store
        .get(&keys::kb_index(site))
        .await
        .map_err(unavailable)?
        .and_then(|raw| serde_json::from_str(&raw).ok())
        .unwrap_or_default())
}

/// The index with the latest counted popularity applied (two reads).
async fn index<S: KvStore>(store: &S, site: &str) -> Result<Vec<KbEntry>, ApiError> {
    let entries = stored_index(store, site).await?;
    let pop: Popularity = store
        .get(&keys::kb_popularity(site))
        .await
        .map_err(unavailable)?
        .and_then(|raw| serde_json::from_str(&raw).ok())
        .unwrap_or_default();
    Ok(with_popularity(entries, &pop))
}

/// Most event batches read per recount (Workers allow about a thousand KV operations per
/// invocation).
const RECOUNT_BATCHES_MAX: usize = 900;

/// Recounts views and "helped" votes from the newest event batches into `kbpop` (a derived
/// value, written whole; nothing is incremented). Run hourly by the scheduled handler and on
/// demand by operators.
pub async fn recount<S: KvStore>(store: &S, site: &str) -> Result<Popularity, ApiError> {
    let mut listed = list_all(store, &keys::events_prefix(site, None), 50)
        .await
        .map_err(unavailable)?;
    // Keys sort by day: the newest batches are last.
    let skip = listed.len().saturating_sub(RECOUNT_BATCHES_MAX);
    listed.drain(..skip);
    let mut batches: Vec<StoredBatch> = Vec::with_capacity(listed.len());
    for k in listed {
        if let Some(raw) = store.get(&k.name).await.map_err(unavailable)?
            && let Ok(b) = serde_json::from_str(&raw)
        {
            batches.push(b);
        }
    }
    // Only entries that exist are counted: event batches are anonymous, and story ids in them
    // are whatever a client sent, so counting every id would let anyone grow this value
    // (and the cost of every search that reads it) without bound.
    let known: std::collections::BTreeSet<String> = stored_index(store, site)
        .await?
        .into_iter()
        .map(|e| e.id)
        .collect();
    let mut pop = popularity(&batches);
    pop.retain(|id, _| known.contains(id));
    let json = serde_json::to_string(&pop)
        .map_err(|_| ApiError::new(500, "internal", "popularity could not be encoded"))?;
    store
        .put(&keys::kb_popularity(site), &json, Put::default())
        .await
        .map_err(unavailable)?;
    Ok(pop)
}

/// `GET /v1/sites/{site}/kb?q=&topic=` → ranked results among the entries public now.
/// `max-age=10`, like the feed: an unpublished or erased entry leaves browsers and the edge
/// cache within seconds.
pub async fn search_json<S: KvStore>(
    store: &S,
    req: &ApiRequest,
    snapshot: &SiteSnapshot,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let q = req.query_param("q").unwrap_or_default();
    if q.chars().count() > 200 {
        return Err(ApiError::new(400, "invalid", "q is at most 200 characters").with_field("q"));
    }
    let topic = req.query_param("topic").filter(|t| !t.is_empty());
    if let Some(t) = &topic
        && !glimpse_shared::ids::is_slug(t)
    {
        return Err(ApiError::new(400, "invalid", "topic must be a slug").with_field("topic"));
    }
    let entries = index(store, &snapshot.site.id).await?;
    let hits = search(&entries, &q, topic.as_deref(), 20, now_ms);
    Ok(
        ApiResponse::json(200, &json!({ "query": q, "results": hits }))
            .with_header("cache-control", "public, max-age=10"),
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// `GET /kb/{site}`: the knowledge base as a plain, permanent HTML page, searchable with an
/// ordinary form. Everything authored is escaped. All of it sits in one `main` landmark, with
/// the form as a named `search` landmark (axe-core checks it in e2e/tests/a11y.rs).
pub async fn page<S: KvStore>(
    store: &S,
    req: &ApiRequest,
    snapshot: &SiteSnapshot,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let site = &snapshot.site;
    let q = req.query_param("q").unwrap_or_default();
    let q: String = q.chars().take(200).collect();
    let entries = index(store, &site.id).await?;
    let hits = search(&entries, &q, None, 200, now_ms);
    let mut html = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{name} — Help</title><style>body{{font-family:system-ui,sans-serif;max-width:760px;margin:0 auto;padding:24px;line-height:1.5;color:#1b1820}}\
         h2{{margin-top:32px;border-bottom:1px solid #ddd}}article{{margin:16px 0}}p{{white-space:pre-line;margin:4px 0}}</style></head>\
         <body><main><h1>{name} — Help</h1>\
         <form method=\"get\" role=\"search\" aria-label=\"Help articles\"><label>Search <input type=\"search\" name=\"q\" value=\"{qv}\"></label> \
         <button type=\"submit\">Search</button></form>",
        lang = escape(&site.language),
        name = escape(&site.name),
        qv = escape(&q),
    );
    if hits.is_empty() {
        html.push_str("<p>No articles found.</p>");
    }
    let mut topics: Vec<&str> = hits.iter().map(|h| h.entry.topic.as_str()).collect();
    topics.dedup();
    let mut seen_topics: Vec<&str> = Vec::new();
    for t in topics {
        if seen_topics.contains(&t) {
            continue;
        }
        seen_topics.push(t);
        let label = site.topic(t).map(|x| x.label.as_str()).unwrap_or(t);
        html.push_str(&format!("<section><h2>{}</h2>", escape(label)));
        for h in hits.iter().filter(|h| h.entry.topic == t) {
            html.push_str(&format!(
                "<article id=\"{}\"><h3>{}</h3><p>{}</p></article>",
                escape(&h.entry.id),
                escape(&h.entry.title),
                escape(&h.entry.body)
            ));
        }
        html.push_str("</section>");
    }
    html.push_str("</main></body></html>");
    Ok(ApiResponse {
        status: 200,
        headers: vec![
            ("content-type".into(), "text/html; charset=utf-8".into()),
            ("cache-control".into(), "public, max-age=10".into()),
        ],
        body: html,
        binary: None,
    })
}
