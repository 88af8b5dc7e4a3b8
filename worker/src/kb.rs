//! The permanent knowledge base, in D1's `kb` table with an FTS5 index (`kb_fts`, kept by
//! triggers). Entries are written when a story is saved (public once it goes live) and when
//! an operator publishes an answer to a question — never when a question is resolved.
//! Operators list (a page at a time), edit, unpublish and delete every entry. Visitors get
//! only the entries public at the request's time, as articles without source ids or visitor
//! ids: a search takes at most [`CANDIDATES`] candidates from the full-text index (or the
//! newest public entries for an empty query) in one query, with their popularity (the
//! `popularity` table, counted by the queue consumer), and ranks them with the pure
//! [`search`]. Its pages for people, which need no JavaScript, are [`crate::help`]'s.

use glimpse_shared::kb::{
    KbDraft, KbEntry, KbListed, KbSource, answer_entry, edit_entry, search_with, story_entry,
    words_with,
};
use glimpse_shared::{ApiError, Millis, SiteSnapshot, Story};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::core::{Api, unavailable};
use crate::http::{ApiRequest, ApiResponse};
use crate::questions::Page;
use crate::sql::{Sql, Stmt, rows};
use crate::store::KvStore;

/// Largest body of an operator's KB write.
const BODY_MAX: usize = 16 * 1024;

/// Most candidates one search reads from D1 before ranking them.
pub const CANDIDATES: usize = 100;

/// Most query words sent to the full-text index (the ranking still checks every word).
const TERMS_MAX: usize = 16;

/// Entries an admin listing page holds unless `limit` says otherwise, and at most.
pub const ADMIN_PAGE: usize = 100;
pub const ADMIN_PAGE_MAX: usize = 500;

/// Most entries of one visitor an export or erasure reads at once.
pub const OF_VISITOR_MAX: i64 = 1_000;

/// An entry's row with the popularity of its story (if any).
#[derive(Deserialize)]
struct EntryRow {
    entry: String,
    #[serde(default)]
    views: Option<i64>,
    #[serde(default)]
    helped: Option<i64>,
}

impl EntryRow {
    /// The entry with its counted popularity; `None` if the stored JSON is unreadable.
    fn entry(self) -> Option<KbEntry> {
        let mut e: KbEntry = crate::json::from_str(&self.entry).ok()?;
        let count = |n: Option<i64>| u32::try_from(n.unwrap_or(0).max(0)).unwrap_or(u32::MAX);
        if self.views.is_some() || self.helped.is_some() {
            e.views = count(self.views);
            e.helped = count(self.helped);
        }
        Some(e)
    }
}

/// The `popularity` row of a story's entry (`story-{id}` ↔ story `id`), for a LEFT JOIN on
/// `kb k`.
const POPULARITY_JOIN: &str = "LEFT JOIN popularity p ON p.site = k.site \
     AND substr(k.id, 1, 6) = 'story-' AND p.story = substr(k.id, 7)";

/// One entry as stored (one query by primary key).
pub(crate) async fn load_entry(
    sql: &dyn Sql,
    site: &str,
    id: &str,
) -> Result<Option<KbEntry>, ApiError> {
    let found: Vec<EntryRow> = rows(
        sql,
        Stmt::new(format!(
            "SELECT k.entry, p.views, p.helped FROM kb k {POPULARITY_JOIN} \
             WHERE k.site = ?1 AND k.id = ?2"
        ))
        .bind(site)
        .bind(id),
    )
    .await
    .map_err(unavailable)?;
    Ok(found.into_iter().next().and_then(EntryRow::entry))
}

/// Keeps story `story`'s entry in step with it (see [`story_entry`]): one read, one write.
pub async fn save_story(
    sql: &dyn Sql,
    site: &str,
    story: &Story,
    now_ms: Millis,
) -> Result<(), ApiError> {
    let id = KbSource::Story.entry_id(&story.id);
    let existing = load_entry(sql, site, &id).await?;
    let entry = story_entry(story, existing.as_ref(), now_ms);
    write(sql, site, &[(&id, Some(&entry))]).await
}

/// A `kb` row as written (a `json_each` row).
#[derive(Serialize)]
struct KbRow<'a> {
    id: &'a str,
    visitor: Option<&'a str>,
    topic: &'a str,
    title: String,
    body: String,
    entry: String,
    updated_at: Millis,
    public_from: Option<Millis>,
}

impl<'a> KbRow<'a> {
    fn of(id: &'a str, e: &'a KbEntry) -> Result<Self, ApiError> {
        // Popularity lives in its own table; the entry's JSON keeps none.
        let stored = KbEntry {
            views: 0,
            helped: 0,
            ..e.clone()
        };
        let entry = serde_json::to_string(&stored)
            .map_err(|_| ApiError::new(500, "internal", "entry could not be encoded"))?;
        // Indexed: the text public now and, for a revision waiting, the text public from
        // its date, in every language; the ranking decides which is public at query time
        // and reads the visitor's language.
        let (title, body) = e.indexed_text();
        let listed = e.published && (e.source == KbSource::Story || e.edited);
        Ok(Self {
            id,
            visitor: e.visitor.as_deref(),
            topic: &e.topic,
            title,
            body,
            entry,
            updated_at: e.updated_at.max(e.published_at),
            public_from: listed.then_some(e.published_at),
        })
    }
}

/// Writes (`Some`) or removes (`None`) each entry of `site` in one D1 transaction (at most
/// two statements, however many entries); the full-text index follows by trigger.
pub async fn write(
    sql: &dyn Sql,
    site: &str,
    changes: &[(&str, Option<&KbEntry>)],
) -> Result<(), ApiError> {
    let mut upserts = Vec::new();
    let mut removals = Vec::new();
    for (id, entry) in changes {
        match entry {
            Some(e) => upserts.push(KbRow::of(id, e)?),
            None => removals.push(*id),
        }
    }
    let mut stmts = Vec::new();
    if !removals.is_empty() {
        stmts.push(
            Stmt::new("DELETE FROM kb WHERE site = ?1 AND id IN (SELECT value FROM json_each(?2))")
                .bind(site)
                .bind_json(&removals),
        );
    }
    if !upserts.is_empty() {
        stmts.push(
            Stmt::new(
                "INSERT INTO kb (site, id, visitor, topic, title, body, entry, updated_at, public_from) \
                 SELECT ?1, json_extract(value, '$.id'), json_extract(value, '$.visitor'), \
                 json_extract(value, '$.topic'), json_extract(value, '$.title'), \
                 json_extract(value, '$.body'), json_extract(value, '$.entry'), \
                 json_extract(value, '$.updated_at'), json_extract(value, '$.public_from') \
                 FROM json_each(?2) WHERE true \
                 ON CONFLICT (site, id) DO UPDATE SET visitor = excluded.visitor, \
                 topic = excluded.topic, title = excluded.title, body = excluded.body, \
                 entry = excluded.entry, updated_at = excluded.updated_at, \
                 public_from = excluded.public_from",
            )
            .bind(site)
            .bind_json(&upserts),
        );
    }
    if stmts.is_empty() {
        return Ok(());
    }
    sql.batch(&stmts).await.map_err(unavailable)?;
    Ok(())
}

/// The entries made from visitor `visitor`'s questions (one indexed query, at most
/// [`OF_VISITOR_MAX`]).
pub async fn of_visitor(
    sql: &dyn Sql,
    site: &str,
    visitor: &str,
) -> Result<Vec<KbEntry>, ApiError> {
    let found: Vec<EntryRow> = rows(
        sql,
        Stmt::new(format!(
            "SELECT k.entry, p.views, p.helped FROM kb k {POPULARITY_JOIN} \
             WHERE k.site = ?1 AND k.visitor = ?2 ORDER BY k.id LIMIT ?3"
        ))
        .bind(site)
        .bind(visitor)
        .bind(OF_VISITOR_MAX),
    )
    .await
    .map_err(unavailable)?;
    Ok(found.into_iter().filter_map(EntryRow::entry).collect())
}

#[derive(Deserialize)]
struct ListedRow {
    entry: String,
    #[serde(default)]
    views: Option<i64>,
    #[serde(default)]
    helped: Option<i64>,
    updated_at: Millis,
    id: String,
}

/// `GET /v1/admin/sites/{site}/kb?limit=&before=`: every entry (unpublished and scheduled
/// ones too) with its status, most recently changed first, a page at a time (`next`: the
/// `before` of the page after it, or `null`). One indexed query.
pub async fn admin_list<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    site: &str,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let page = Page::from_query(req, ADMIN_PAGE, ADMIN_PAGE_MAX)?;
    crate::admin::load_site_pub(api, site).await?;
    let mut found: Vec<ListedRow> = rows(
        api.sql,
        Stmt::new(format!(
            "SELECT k.entry, p.views, p.helped, k.updated_at, k.id FROM kb k {POPULARITY_JOIN} \
             WHERE k.site = ?1 AND (k.updated_at, k.id) < (?2, ?3) \
             ORDER BY k.updated_at DESC, k.id DESC LIMIT ?4"
        ))
        .bind(site)
        .bind(page.before.0)
        .bind(page.before.1.as_str())
        .bind(page.sql_limit()),
    )
    .await
    .map_err(unavailable)?;
    let next = page.cut(&mut found, |r| format!("{}:{}", r.updated_at, r.id));
    let list: Vec<KbListed> = found
        .into_iter()
        .filter_map(|r| {
            EntryRow {
                entry: r.entry,
                views: r.views,
                helped: r.helped,
            }
            .entry()
        })
        .map(|e| KbListed::at(e, now_ms))
        .collect();
    Ok(
        ApiResponse::json(200, &json!({ "entries": list, "next": next }))
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
    let entry = load_entry(api.sql, site, &source.entry_id(id))
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
    let unoffered = glimpse_shared::translate::unoffered(&site, draft.translations.keys());
    if !unoffered.is_empty() {
        return Err(ApiError::invalid("knowledge-base entry", unoffered));
    }
    let entry_id = source.entry_id(id);
    let existing = load_entry(api.sql, site_id, &entry_id).await?;
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
    write(api.sql, site_id, &[(&entry_id, Some(&entry))]).await?;
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
    write(api.sql, site_id, &[(&source.entry_id(id), None)]).await?;
    Ok(ApiResponse::empty(204))
}

#[derive(Deserialize)]
struct PopularityRow {
    id: String,
    views: i64,
    helped: i64,
}

/// `POST /v1/admin/sites/{site}/kb/recount`: the views and "helped" votes per entry id as
/// counted now. Popularity is counted continuously by the queue consumer (each visitor once
/// a day per story), so nothing is recounted; kept for clients of earlier versions. Only
/// story entries that exist are listed (at most [`ADMIN_PAGE_MAX`] * 4).
pub async fn popularity<S: KvStore>(api: &Api<'_, S>, site: &str) -> Result<ApiResponse, ApiError> {
    crate::admin::load_site_pub(api, site).await?;
    let found: Vec<PopularityRow> = rows(
        api.sql,
        Stmt::new(
            "SELECT k.id, p.views, p.helped FROM popularity p \
             JOIN kb k ON k.site = p.site AND k.id = 'story-' || p.story \
             WHERE p.site = ?1 ORDER BY p.story LIMIT ?2",
        )
        .bind(site)
        .bind(i64::try_from(ADMIN_PAGE_MAX * 4).unwrap_or(2_000)),
    )
    .await
    .map_err(unavailable)?;
    let map: std::collections::BTreeMap<String, (i64, i64)> = found
        .into_iter()
        .map(|r| (r.id, (r.views, r.helped)))
        .collect();
    Ok(ApiResponse::json(200, &map).with_header("cache-control", "no-store"))
}

/// Whether `c` is a combining mark (the full-text tokenizer drops those: a word of marks
/// alone would match nothing).
fn is_mark(c: char) -> bool {
    matches!(c, '\u{300}'..='\u{36F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}' | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}')
}

/// The FTS5 query for `query` within `site`: each word a quoted string (prefix query from 3
/// characters, as the ranking's prefixes), all required, in the title or body only. Words
/// are letters and digits only ([`words_with`]) and quotes are doubled anyway, so no input is FTS5
/// syntax. `None` when the query has no words (then the newest entries are listed).
pub fn fts_query(site: &str, query: &str) -> Option<String> {
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut terms: Vec<String> = Vec::new();
    for w in words_with(query, &crate::TEXT) {
        if !w.chars().any(|c| c.is_alphanumeric() && !is_mark(c)) {
            continue;
        }
        let t = if w.chars().count() >= 3 {
            format!("{}*", quote(&w))
        } else {
            quote(&w)
        };
        if !terms.contains(&t) {
            terms.push(t);
        }
        if terms.len() == TERMS_MAX {
            break;
        }
    }
    if terms.is_empty() {
        return None;
    }
    Some(format!(
        "site : {} AND {{title body}} : ({})",
        quote(site),
        terms.join(" AND ")
    ))
}

/// At most [`CANDIDATES`] entries of `site` that may be public at `now_ms` for `query`
/// (and `topic`), with their popularity: the full-text index's best matches (title words
/// weigh three times body words), or the newest public entries for a query without words.
/// One D1 query.
pub(crate) async fn candidates(
    sql: &dyn Sql,
    site: &str,
    query: &str,
    topic: Option<&str>,
    now_ms: Millis,
) -> Result<Vec<KbEntry>, ApiError> {
    const TOPIC: &str =
        "(?4 IS NULL OR k.topic = ?4 OR json_extract(k.entry, '$.next.topic') = ?4)";
    let limit = i64::try_from(CANDIDATES).unwrap_or(100);
    let stmt = match fts_query(site, query) {
        Some(matching) => Stmt::new(format!(
            "SELECT k.entry, p.views, p.helped FROM kb_fts JOIN kb k ON k.rowid = kb_fts.rowid \
             {POPULARITY_JOIN} \
             WHERE kb_fts MATCH ?1 AND k.site = ?2 AND k.public_from <= ?3 AND {TOPIC} \
             ORDER BY bm25(kb_fts, 0.0, 3.0, 1.0) LIMIT ?5"
        ))
        .bind(matching),
        None => Stmt::new(format!(
            "SELECT k.entry, p.views, p.helped FROM kb k {POPULARITY_JOIN} \
             WHERE ?1 IS NULL AND k.site = ?2 AND k.public_from <= ?3 AND {TOPIC} \
             ORDER BY k.public_from DESC LIMIT ?5"
        ))
        .bind(None::<String>),
    };
    let found: Vec<EntryRow> = rows(sql, stmt.bind(site).bind(now_ms).bind(topic).bind(limit))
        .await
        .map_err(unavailable)?;
    Ok(found.into_iter().filter_map(EntryRow::entry).collect())
}

/// The language a KB request reads (`lang`): one of the site's, by the same rule as the
/// widget's ([`glimpse_shared::translate::content_language`]); the site's own without one.
/// 400 for a value that is not a language tag.
pub(crate) fn language(req: &ApiRequest, site: &glimpse_shared::Site) -> Result<String, ApiError> {
    language_of(req.query_param("lang"), site)
}

/// [`language`] of a `lang` value from anywhere (a query, a form field).
pub(crate) fn language_of(
    lang: Option<String>,
    site: &glimpse_shared::Site,
) -> Result<String, ApiError> {
    match lang.filter(|l| !l.is_empty()) {
        None => Ok(site.language.clone()),
        Some(l) if glimpse_shared::site::is_language_tag(&l) => {
            Ok(glimpse_shared::translate::content_language(
                [l.as_str()],
                &site.language,
                &site.languages,
            ))
        }
        Some(_) => Err(ApiError::new(
            400,
            "invalid",
            "lang must be a language tag like es or pt-BR",
        )
        .with_field("lang")),
    }
}

/// The entries as read in `lang` at `now_ms` (a due revision applied).
pub(crate) fn localized(entries: &[KbEntry], lang: &str, now_ms: Millis) -> Vec<KbEntry> {
    entries
        .iter()
        .map(|e| e.as_of(now_ms).localized(lang))
        .collect()
}

/// `GET /v1/sites/{site}/kb?q=&topic=&lang=` → ranked results among the entries public now,
/// in `lang` (one of the site's languages; its own by default), whatever language `q` is in.
/// `max-age=10`, like the feed: an unpublished or erased entry leaves browsers and the edge
/// cache within seconds. One D1 query (after the snapshot's KV read).
pub async fn search_json<S: KvStore>(
    api: &Api<'_, S>,
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
    let lang = language(req, &snapshot.site)?;
    let entries = candidates(api.sql, &snapshot.site.id, &q, topic.as_deref(), now_ms).await?;
    let hits = search_with(
        &localized(&entries, &lang, now_ms),
        &q,
        topic.as_deref(),
        20,
        now_ms,
        &crate::TEXT,
    );
    Ok(
        ApiResponse::json(200, &json!({ "query": q, "results": hits }))
            .with_header("cache-control", "public, max-age=10"),
    )
}
