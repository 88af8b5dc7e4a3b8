//! Routing: method + path → what to do. Pure and table-driven: [`ROUTES`] is the single list
//! of endpoints, which the OpenAPI test compares with `worker/openapi.json`.

use glimpse_shared::ApiError;
use glimpse_shared::ids::is_slug;
use glimpse_shared::keys::ContentKind;
use glimpse_shared::team::Area;

/// HTTP methods the API distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Delete,
    Options,
    Other,
}

impl Method {
    pub fn parse(s: &str) -> Self {
        match s.to_ascii_uppercase().as_str() {
            "GET" => Self::Get,
            "HEAD" => Self::Head,
            "POST" => Self::Post,
            "PUT" => Self::Put,
            "DELETE" => Self::Delete,
            "OPTIONS" => Self::Options,
            _ => Self::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Head => "HEAD",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Delete => "DELETE",
            Self::Options => "OPTIONS",
            Self::Other => "OTHER",
        }
    }
}

use Method::{Delete, Get, Head, Options, Post, Put};

/// Every endpoint: path template (`{name}` segments are slugs) and the methods it answers.
/// HEAD is answered wherever GET is; OPTIONS marks the public endpoints browsers preflight.
pub const ROUTES: &[(&str, &[Method])] = &[
    ("/", &[Get, Head]),
    ("/health", &[Get, Head]),
    ("/v1/sites/{site}/feed", &[Get, Head, Options]),
    ("/v1/sites/{site}/polls/{poll}/responses", &[Post, Options]),
    (
        "/v1/sites/{site}/polls/{poll}/results",
        &[Get, Head, Options],
    ),
    ("/v1/sites/{site}/events", &[Post, Options]),
    ("/v1/sites/{site}/kb", &[Get, Head, Options]),
    ("/kb/{site}", &[Get, Head]),
    ("/kb/{site}/stories/{id}", &[Get, Head]),
    ("/kb/{site}/questions/{id}", &[Get, Head]),
    ("/kb/{site}/stories/{id}/feedback", &[Post]),
    ("/v1/sites/{site}/questions", &[Post, Options]),
    (
        "/v1/sites/{site}/questions/{id}",
        &[Get, Head, Delete, Options],
    ),
    (
        "/v1/sites/{site}/questions/{id}/photo",
        &[Get, Head, Put, Options],
    ),
    ("/v1/sites/{site}/media/{id}", &[Get, Head, Options]),
    ("/v1/sites/{site}/questions/{id}/messages", &[Post, Options]),
    ("/v1/sites/{site}/threads", &[Post, Options]),
    ("/v1/admin/sites", &[Get, Head]),
    ("/v1/admin/sites/{site}", &[Get, Head, Put, Delete]),
    ("/v1/admin/sites/{site}/stories", &[Get, Head]),
    ("/v1/admin/sites/{site}/sessions", &[Get, Head]),
    ("/v1/admin/sites/{site}/polls", &[Get, Head]),
    (
        "/v1/admin/sites/{site}/stories/{id}",
        &[Get, Head, Put, Delete],
    ),
    (
        "/v1/admin/sites/{site}/sessions/{id}",
        &[Get, Head, Put, Delete],
    ),
    (
        "/v1/admin/sites/{site}/polls/{id}",
        &[Get, Head, Put, Delete],
    ),
    ("/v1/admin/sites/{site}/polls/{poll}/results", &[Get, Head]),
    ("/v1/admin/sites/{site}/questions", &[Get, Head]),
    ("/v1/admin/sites/{site}/kb/recount", &[Post]),
    ("/v1/admin/sites/{site}/kb", &[Get, Head]),
    (
        "/v1/admin/sites/{site}/kb/stories/{id}",
        &[Get, Head, Put, Delete],
    ),
    (
        "/v1/admin/sites/{site}/kb/questions/{id}",
        &[Get, Head, Put, Delete],
    ),
    ("/v1/admin/sites/{site}/rollups", &[Get, Head]),
    ("/v1/admin/sites/{site}/report", &[Get, Head]),
    ("/v1/admin/sites/{site}/rollups/{id}", &[Post]),
    (
        "/v1/admin/sites/{site}/visitors/{visitor}",
        &[Get, Head, Delete],
    ),
    ("/v1/admin/sites/{site}/questions/{id}/replies", &[Post]),
    ("/v1/admin/sites/{site}/questions/{id}/resolve", &[Post]),
    ("/v1/admin/sites/{site}/rebuild", &[Post]),
    ("/v1/admin/sites/{site}/availability", &[Get, Head]),
    ("/v1/admin/sites/{site}/media", &[Get, Head, Post]),
    ("/v1/admin/sites/{site}/media/{id}", &[Get, Head, Delete]),
    ("/v1/admin/sites/{site}/questions/{id}", &[Get, Head]),
    ("/v1/admin/sites/{site}/questions/{id}/photo", &[Get, Head]),
    ("/v1/admin/me", &[Get, Head]),
    ("/v1/admin/operators", &[Get, Head, Post]),
    ("/v1/admin/operators/{id}", &[Get, Head, Put, Delete]),
    ("/v1/admin/keys", &[Get, Head, Post]),
    ("/v1/admin/keys/{id}", &[Get, Head, Delete]),
    ("/v1/admin/audit", &[Get, Head]),
    ("/v1/admin/sites/{site}/webhooks", &[Get, Head, Post]),
    (
        "/v1/admin/sites/{site}/webhooks/{id}",
        &[Get, Head, Put, Delete],
    ),
    ("/v1/admin/sites/{site}/webhooks/{id}/test", &[Post]),
    (
        "/v1/admin/sites/{site}/webhooks/{id}/deliveries",
        &[Get, Head],
    ),
    ("/v1/admin/sites/{site}/saved-replies", &[Get, Head, Post]),
    (
        "/v1/admin/sites/{site}/saved-replies/{id}",
        &[Get, Head, Put, Delete],
    ),
    ("/v1/admin/sites/{site}/export", &[Get, Head]),
    ("/v1/sites/{site}/live/{session}", &[Get, Head, Options]),
    (
        "/v1/sites/{site}/live/{session}/questions",
        &[Post, Options],
    ),
    (
        "/v1/sites/{site}/live/{session}/questions/{id}/votes",
        &[Post, Options],
    ),
    ("/v1/admin/sites/{site}/live/{session}", &[Get, Head]),
    (
        "/v1/admin/sites/{site}/live/{session}/questions/{id}",
        &[Post],
    ),
    ("/v1/admin/sites/{site}/live/{session}/status", &[Put]),
    ("/v1/admin/sites/{site}/live/{session}/end", &[Post]),
    ("/v1/admin/sites/{site}/live/{session}/recap", &[Get, Head]),
];

/// Largest body of a public JSON write (poll response, event batch, question).
pub const PUBLIC_BODY_MAX: usize = 8 * 1024;
/// Largest body of an operator write (site settings, a story with its slides…).
pub const ADMIN_BODY_MAX: usize = 256 * 1024;

/// A recognised endpoint with its validated path parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// The demo company page that embeds the widget (served at `/`).
    DemoPage,
    Health,
    Feed {
        site: String,
    },
    /// Knowledge-base search (JSON).
    Kb {
        site: String,
    },
    /// The knowledge base as a plain HTML page.
    KbPage {
        site: String,
    },
    /// One knowledge-base entry as a plain HTML page, by the story or question it was made
    /// from (`/kb/{site}/{stories|questions}/{id}`).
    KbEntryPage {
        site: String,
        source: glimpse_shared::kb::KbSource,
        id: String,
    },
    /// "Did this help?" about story `id`'s entry, sent by the page's HTML form.
    KbFeedback {
        site: String,
        id: String,
    },
    /// A visitor asks a question.
    Ask {
        site: String,
    },
    /// A visitor's thread (bearer: the thread token).
    Thread {
        site: String,
        id: String,
    },
    /// A visitor's follow-up message in their thread (bearer: the thread token).
    FollowUp {
        site: String,
        id: String,
    },
    /// The reply counts of the visitor's own threads (tokens in the body), for the
    /// launcher's unread badge.
    ThreadStatus {
        site: String,
    },
    /// A question's photo: uploaded by the visitor, read by them or operators.
    Photo {
        site: String,
        id: String,
    },
    /// Operators: export (GET) or erase (DELETE) everything stored for a visitor.
    Visitor {
        site: String,
        visitor: String,
    },
    /// Operators: every stored item of a kind (expired ones too, until retention ends).
    AdminList {
        site: String,
        kind: ContentKind,
    },
    /// Operators: every site's id.
    AdminSites,
    /// Operators: stored daily summaries.
    Rollups {
        site: String,
    },
    /// Operators: the effectiveness report of a period (optionally one topic).
    Report {
        site: String,
    },
    /// Operators: roll up one day now (`id` is the `YYYY-MM-DD` day).
    RunRollup {
        site: String,
        id: String,
    },
    /// Operators: recount knowledge-base popularity now.
    KbRecount {
        site: String,
    },
    /// Operators: every knowledge-base entry with its status.
    KbEntries {
        site: String,
    },
    /// Operators: one knowledge-base entry, by the story or question it was made from: read,
    /// publish or edit (PUT), delete.
    KbEntry {
        site: String,
        source: glimpse_shared::kb::KbSource,
        id: String,
    },
    /// Operators: open questions.
    AdminQuestions {
        site: String,
    },
    /// Operators: reply to a question.
    AdminReply {
        site: String,
        id: String,
    },
    /// Operators: resolve a question with a category.
    AdminResolve {
        site: String,
        id: String,
    },
    /// Visitors' view of a poll's results, for polls that show them.
    PublicResults {
        site: String,
        poll: String,
    },
    PollResponses {
        site: String,
        poll: String,
    },
    Events {
        site: String,
    },
    AdminSite {
        site: String,
    },
    AdminContent {
        site: String,
        kind: ContentKind,
        id: String,
    },
    PollResults {
        site: String,
        poll: String,
    },
    /// Operators: one step of bringing a site's data from versions before 0.15 (KV only)
    /// into D1.
    AdminRebuild {
        site: String,
    },
    /// A media library item's bytes (public; Range requests).
    Media {
        site: String,
        id: String,
    },
    /// Operators: the media library (GET lists it, POST uploads a file).
    AdminMediaList {
        site: String,
    },
    /// Operators: one media library item (GET: it and what uses it; DELETE).
    AdminMedia {
        site: String,
        id: String,
    },
    /// Operators: live-help availability at a chosen instant (`?at=` unix ms), as the feed
    /// would show it then.
    AdminAvailability {
        site: String,
    },
    /// Operators: a whole thread (question, photo flag, replies, resolution).
    AdminThread {
        site: String,
        id: String,
    },
    /// Operators: a question's photo.
    AdminThreadPhoto {
        site: String,
        id: String,
    },
    /// Operators: who the token belongs to.
    AdminMe,
    /// Owners: the team's operators (GET lists, POST creates one with a token).
    AdminOperators,
    /// Owners: one operator (GET, PUT name/role/sites, DELETE revokes).
    AdminOperator {
        id: String,
    },
    /// Owners: read-only API keys (GET lists, POST creates one).
    AdminKeys,
    /// Owners: one API key (GET, DELETE revokes).
    AdminKey {
        id: String,
    },
    /// Owners: the audit log of operators' writes.
    AdminAudit,
    /// Owners: a site's webhooks (GET lists, POST adds one).
    AdminWebhooks {
        site: String,
    },
    /// Owners: one webhook (GET, PUT, DELETE).
    AdminWebhook {
        site: String,
        id: String,
    },
    /// Owners: queue a test delivery to one webhook.
    AdminWebhookTest {
        site: String,
        id: String,
    },
    /// Owners: one webhook's delivery log.
    AdminWebhookDeliveries {
        site: String,
        id: String,
    },
    /// Agents: the site's saved replies (GET lists, POST adds one).
    AdminSavedReplies {
        site: String,
    },
    /// Agents: one saved reply (GET, PUT, DELETE).
    AdminSavedReply {
        site: String,
        id: String,
    },
    /// Reports: raw records as NDJSON or CSV, a page at a time.
    AdminExport {
        site: String,
    },
    /// A live session's room: read (a viewer's state, a poller's read) or, with `Upgrade:
    /// websocket`, joined as a WebSocket viewer ([`crate::live`]).
    LiveRoom {
        site: String,
        session: String,
    },
    /// A visitor asks in a live session.
    LiveAsk {
        site: String,
        session: String,
    },
    /// A visitor upvotes a live question (once each).
    LiveVote {
        site: String,
        session: String,
        question: String,
    },
    /// The host: the room with hidden questions' text and the count watching.
    AdminLive {
        site: String,
        session: String,
    },
    /// The host answers, pins, unpins, hides, restores or marks done a question.
    AdminLiveQuestion {
        site: String,
        session: String,
        question: String,
    },
    /// The host's status line and stream link.
    AdminLiveStatus {
        site: String,
        session: String,
    },
    /// The host ends the session: its recap story draft and knowledge-base drafts.
    AdminLiveEnd {
        site: String,
        session: String,
    },
    /// The recap of a session (after its end).
    AdminLiveRecap {
        site: String,
        session: String,
    },
}

impl Route {
    /// The site the request is about, if any.
    pub fn site(&self) -> Option<&str> {
        match self {
            Route::DemoPage
            | Route::Health
            | Route::AdminSites
            | Route::AdminMe
            | Route::AdminOperators
            | Route::AdminOperator { .. }
            | Route::AdminKeys
            | Route::AdminKey { .. }
            | Route::AdminAudit => None,
            Route::Feed { site }
            | Route::PollResponses { site, .. }
            | Route::PublicResults { site, .. }
            | Route::Ask { site }
            | Route::Kb { site }
            | Route::KbPage { site }
            | Route::KbEntryPage { site, .. }
            | Route::KbFeedback { site, .. }
            | Route::Thread { site, .. }
            | Route::FollowUp { site, .. }
            | Route::ThreadStatus { site }
            | Route::Photo { site, .. }
            | Route::AdminQuestions { site }
            | Route::KbRecount { site }
            | Route::KbEntries { site }
            | Route::KbEntry { site, .. }
            | Route::Rollups { site }
            | Route::Report { site }
            | Route::AdminList { site, .. }
            | Route::RunRollup { site, .. }
            | Route::Visitor { site, .. }
            | Route::AdminReply { site, .. }
            | Route::AdminResolve { site, .. }
            | Route::Events { site }
            | Route::AdminSite { site }
            | Route::AdminContent { site, .. }
            | Route::PollResults { site, .. }
            | Route::AdminRebuild { site }
            | Route::AdminAvailability { site }
            | Route::Media { site, .. }
            | Route::AdminMediaList { site }
            | Route::AdminMedia { site, .. }
            | Route::AdminThread { site, .. }
            | Route::AdminThreadPhoto { site, .. }
            | Route::AdminWebhooks { site }
            | Route::AdminWebhook { site, .. }
            | Route::AdminWebhookTest { site, .. }
            | Route::AdminWebhookDeliveries { site, .. }
            | Route::AdminSavedReplies { site }
            | Route::AdminSavedReply { site, .. }
            | Route::AdminExport { site }
            | Route::LiveRoom { site, .. }
            | Route::LiveAsk { site, .. }
            | Route::LiveVote { site, .. }
            | Route::AdminLive { site, .. }
            | Route::AdminLiveQuestion { site, .. }
            | Route::AdminLiveStatus { site, .. }
            | Route::AdminLiveEnd { site, .. }
            | Route::AdminLiveRecap { site, .. } => Some(site),
        }
    }

    /// The largest request body this endpoint reads, in bytes, decided before reading any of
    /// it: a larger `Content-Length` is refused with 413 at once and a streamed body is cut
    /// off as soon as it passes this. Public JSON writes take 8 KiB, a question's photo 1 MiB
    /// ([`ImageType::MAX_BYTES`](glimpse_shared::question::ImageType::MAX_BYTES)), operator
    /// writes 256 KiB; endpoints that take no body read none (0).
    pub fn body_limit(&self, method: Method) -> usize {
        if !matches!(method, Method::Post | Method::Put) {
            return 0;
        }
        match self {
            Route::Photo { .. } => glimpse_shared::question::ImageType::MAX_BYTES,
            Route::AdminMediaList { .. } => glimpse_shared::media::UPLOAD_MAX_BYTES,
            Route::PollResponses { .. }
            | Route::Events { .. }
            | Route::Ask { .. }
            | Route::FollowUp { .. }
            | Route::ThreadStatus { .. }
            | Route::KbFeedback { .. }
            | Route::LiveAsk { .. }
            | Route::LiveVote { .. } => PUBLIC_BODY_MAX,
            r if r.is_admin() => ADMIN_BODY_MAX,
            _ => 0,
        }
    }

    /// Whether the operators' token is accepted here: every operator endpoint, and a
    /// question's thread and photo (an operator may read them like the visitor). The edge
    /// reads the `ADMIN_TOKEN` secret only for these.
    pub fn accepts_admin_token(&self) -> bool {
        self.is_admin() || matches!(self, Route::Thread { .. } | Route::Photo { .. })
    }

    /// Whether this is an operator endpoint (bearer token required).
    pub fn is_admin(&self) -> bool {
        matches!(
            self,
            Route::AdminSite { .. }
                | Route::AdminContent { .. }
                | Route::PollResults { .. }
                | Route::AdminQuestions { .. }
                | Route::KbRecount { .. }
                | Route::KbEntries { .. }
                | Route::KbEntry { .. }
                | Route::Rollups { .. }
                | Route::Report { .. }
                | Route::AdminSites
                | Route::AdminList { .. }
                | Route::RunRollup { .. }
                | Route::Visitor { .. }
                | Route::AdminReply { .. }
                | Route::AdminResolve { .. }
                | Route::AdminRebuild { .. }
                | Route::AdminAvailability { .. }
                | Route::AdminMediaList { .. }
                | Route::AdminMedia { .. }
                | Route::AdminThread { .. }
                | Route::AdminThreadPhoto { .. }
                | Route::AdminMe
                | Route::AdminOperators
                | Route::AdminOperator { .. }
                | Route::AdminKeys
                | Route::AdminKey { .. }
                | Route::AdminAudit
                | Route::AdminWebhooks { .. }
                | Route::AdminWebhook { .. }
                | Route::AdminWebhookTest { .. }
                | Route::AdminWebhookDeliveries { .. }
                | Route::AdminSavedReplies { .. }
                | Route::AdminSavedReply { .. }
                | Route::AdminExport { .. }
                | Route::AdminLive { .. }
                | Route::AdminLiveQuestion { .. }
                | Route::AdminLiveStatus { .. }
                | Route::AdminLiveEnd { .. }
                | Route::AdminLiveRecap { .. }
        )
    }

    /// Which part of the operators' API this is, for [`glimpse_shared::team::Role::may`]
    /// (with `method`: some endpoints read for more roles than they write for). Public
    /// endpoints are [`Area::SiteRead`]; they are never checked against a role.
    pub fn area(&self, method: Method) -> Area {
        let read = matches!(method, Method::Get | Method::Head);
        match self {
            Route::AdminMe => Area::Identity,
            Route::AdminSites | Route::AdminAvailability { .. } => Area::SiteRead,
            Route::AdminSite { .. } if read => Area::SiteRead,
            Route::AdminQuestions { .. }
            | Route::AdminReply { .. }
            | Route::AdminResolve { .. }
            | Route::AdminThread { .. }
            | Route::AdminThreadPhoto { .. }
            | Route::AdminSavedReplies { .. }
            | Route::AdminSavedReply { .. } => Area::Inbox,
            // Reading the knowledge base, answering from a question, and the photos of
            // replies (uploads to the library): agents and editors.
            Route::KbEntries { .. }
            | Route::KbEntry {
                source: glimpse_shared::kb::KbSource::Question,
                ..
            }
            | Route::AdminMediaList { .. }
            // Hosting a live session: answering visitors, like the knowledge base's answers.
            | Route::AdminLive { .. }
            | Route::AdminLiveQuestion { .. }
            | Route::AdminLiveStatus { .. }
            | Route::AdminLiveEnd { .. }
            | Route::AdminLiveRecap { .. } => Area::Answers,
            Route::KbEntry { .. } | Route::AdminMedia { .. } if read => Area::Answers,
            Route::AdminContent { .. }
            | Route::AdminList { .. }
            | Route::KbRecount { .. }
            | Route::KbEntry { .. }
            | Route::AdminMedia { .. } => Area::Content,
            Route::PollResults { .. }
            | Route::Rollups { .. }
            | Route::Report { .. }
            | Route::RunRollup { .. }
            | Route::AdminExport { .. } => Area::Reports,
            Route::AdminSite { .. }
            | Route::Visitor { .. }
            | Route::AdminRebuild { .. }
            | Route::AdminOperators
            | Route::AdminOperator { .. }
            | Route::AdminKeys
            | Route::AdminKey { .. }
            | Route::AdminAudit
            | Route::AdminWebhooks { .. }
            | Route::AdminWebhook { .. }
            | Route::AdminWebhookTest { .. }
            | Route::AdminWebhookDeliveries { .. } => Area::Owner,
            _ => Area::SiteRead,
        }
    }
}

/// Matches a template against a path; the parameter values in order, or `None`.
fn matches<'p>(template: &str, path: &'p str) -> Option<Vec<(&'static str, &'p str)>> {
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    if t.len() != p.len() {
        return None;
    }
    let mut params = Vec::new();
    for (ts, ps) in t.iter().zip(&p) {
        if let Some(name) = ts.strip_prefix('{').and_then(|n| n.strip_suffix('}')) {
            params.push((param_name(name), *ps));
        } else if ts != ps {
            return None;
        }
    }
    Some(params)
}

fn param_name(name: &str) -> &'static str {
    match name {
        "site" => "site",
        "poll" => "poll",
        "visitor" => "visitor",
        "session" => "session",
        _ => "id",
    }
}

/// The last segment of a template (`stories` of `/v1/admin/sites/{site}/stories`).
fn other_plural(template: &str) -> &str {
    template.rsplit('/').next().unwrap_or("")
}

/// The template `path` matches and the methods it allows.
pub fn find(path: &str) -> Option<(&'static str, &'static [Method])> {
    ROUTES
        .iter()
        .find(|(t, _)| matches(t, path).is_some())
        .map(|(t, m)| (*t, *m))
}

/// Matches `path` (without query string) and `method` to a [`Route`], or the error to answer.
pub fn route(method: Method, path: &str) -> Result<Route, ApiError> {
    let Some((template, params)) = ROUTES
        .iter()
        .find_map(|(t, _)| matches(t, path).map(|p| (*t, p)))
    else {
        return Err(ApiError::not_found("route"));
    };
    for (name, value) in &params {
        if *name == "visitor" {
            if !glimpse_shared::ids::is_token(value) {
                return Err(ApiError::new(
                    400,
                    "invalid_id",
                    "visitor in the path must match [A-Za-z0-9_-]{16,64}",
                )
                .with_field("visitor"));
            }
        } else if !is_slug(value) {
            return Err(ApiError::new(
                400,
                "invalid_id",
                format!("{name} in the path must match [a-z0-9][a-z0-9-]{{0,62}}"),
            )
            .with_field(*name));
        }
    }
    let allowed = find(path).map(|(_, m)| m).unwrap_or(&[]);
    if !allowed.contains(&method) {
        return Err(ApiError::method_not_allowed());
    }
    let p = |i: usize| {
        params
            .get(i)
            .map(|(_, v)| (*v).to_string())
            .unwrap_or_default()
    };
    let kind = |plural: &str| ContentKind::from_plural(plural);
    Ok(match template {
        "/" => Route::DemoPage,
        "/health" => Route::Health,
        "/v1/sites/{site}/feed" => Route::Feed { site: p(0) },
        "/v1/sites/{site}/polls/{poll}/responses" => Route::PollResponses {
            site: p(0),
            poll: p(1),
        },
        "/v1/sites/{site}/polls/{poll}/results" => Route::PublicResults {
            site: p(0),
            poll: p(1),
        },
        "/v1/sites/{site}/events" => Route::Events { site: p(0) },
        "/v1/sites/{site}/questions" => Route::Ask { site: p(0) },
        "/v1/sites/{site}/kb" => Route::Kb { site: p(0) },
        "/kb/{site}" => Route::KbPage { site: p(0) },
        "/kb/{site}/stories/{id}" => Route::KbEntryPage {
            site: p(0),
            source: glimpse_shared::kb::KbSource::Story,
            id: p(1),
        },
        "/kb/{site}/questions/{id}" => Route::KbEntryPage {
            site: p(0),
            source: glimpse_shared::kb::KbSource::Question,
            id: p(1),
        },
        "/kb/{site}/stories/{id}/feedback" => Route::KbFeedback {
            site: p(0),
            id: p(1),
        },
        "/v1/sites/{site}/questions/{id}" => Route::Thread {
            site: p(0),
            id: p(1),
        },
        "/v1/sites/{site}/questions/{id}/messages" => Route::FollowUp {
            site: p(0),
            id: p(1),
        },
        "/v1/sites/{site}/threads" => Route::ThreadStatus { site: p(0) },
        "/v1/sites/{site}/questions/{id}/photo" => Route::Photo {
            site: p(0),
            id: p(1),
        },
        "/v1/sites/{site}/media/{id}" => Route::Media {
            site: p(0),
            id: p(1),
        },
        "/v1/admin/sites/{site}/media" => Route::AdminMediaList { site: p(0) },
        "/v1/admin/sites/{site}/media/{id}" => Route::AdminMedia {
            site: p(0),
            id: p(1),
        },
        "/v1/admin/sites/{site}/questions" => Route::AdminQuestions { site: p(0) },
        "/v1/admin/sites/{site}/kb/recount" => Route::KbRecount { site: p(0) },
        "/v1/admin/sites/{site}/kb" => Route::KbEntries { site: p(0) },
        "/v1/admin/sites/{site}/kb/stories/{id}" => Route::KbEntry {
            site: p(0),
            source: glimpse_shared::kb::KbSource::Story,
            id: p(1),
        },
        "/v1/admin/sites/{site}/kb/questions/{id}" => Route::KbEntry {
            site: p(0),
            source: glimpse_shared::kb::KbSource::Question,
            id: p(1),
        },
        "/v1/admin/sites/{site}/rollups" => Route::Rollups { site: p(0) },
        "/v1/admin/sites/{site}/report" => Route::Report { site: p(0) },
        "/v1/admin/sites" => Route::AdminSites,
        "/v1/admin/sites/{site}/stories"
        | "/v1/admin/sites/{site}/sessions"
        | "/v1/admin/sites/{site}/polls" => match kind(other_plural(template)) {
            Some(kind) => Route::AdminList { site: p(0), kind },
            None => return Err(ApiError::not_found("route")),
        },
        "/v1/admin/sites/{site}/rollups/{id}" => Route::RunRollup {
            site: p(0),
            id: p(1),
        },
        "/v1/admin/sites/{site}/visitors/{visitor}" => Route::Visitor {
            site: p(0),
            visitor: p(1),
        },
        "/v1/admin/sites/{site}/questions/{id}/replies" => Route::AdminReply {
            site: p(0),
            id: p(1),
        },
        "/v1/admin/sites/{site}/questions/{id}/resolve" => Route::AdminResolve {
            site: p(0),
            id: p(1),
        },
        "/v1/admin/sites/{site}/questions/{id}" => Route::AdminThread {
            site: p(0),
            id: p(1),
        },
        "/v1/admin/sites/{site}/questions/{id}/photo" => Route::AdminThreadPhoto {
            site: p(0),
            id: p(1),
        },
        "/v1/admin/me" => Route::AdminMe,
        "/v1/admin/operators" => Route::AdminOperators,
        "/v1/admin/operators/{id}" => Route::AdminOperator { id: p(0) },
        "/v1/admin/keys" => Route::AdminKeys,
        "/v1/admin/keys/{id}" => Route::AdminKey { id: p(0) },
        "/v1/admin/audit" => Route::AdminAudit,
        "/v1/admin/sites/{site}/webhooks" => Route::AdminWebhooks { site: p(0) },
        "/v1/admin/sites/{site}/webhooks/{id}" => Route::AdminWebhook {
            site: p(0),
            id: p(1),
        },
        "/v1/admin/sites/{site}/webhooks/{id}/test" => Route::AdminWebhookTest {
            site: p(0),
            id: p(1),
        },
        "/v1/admin/sites/{site}/webhooks/{id}/deliveries" => Route::AdminWebhookDeliveries {
            site: p(0),
            id: p(1),
        },
        "/v1/admin/sites/{site}/saved-replies" => Route::AdminSavedReplies { site: p(0) },
        "/v1/admin/sites/{site}/saved-replies/{id}" => Route::AdminSavedReply {
            site: p(0),
            id: p(1),
        },
        "/v1/admin/sites/{site}/export" => Route::AdminExport { site: p(0) },
        "/v1/sites/{site}/live/{session}" => Route::LiveRoom {
            site: p(0),
            session: p(1),
        },
        "/v1/sites/{site}/live/{session}/questions" => Route::LiveAsk {
            site: p(0),
            session: p(1),
        },
        "/v1/sites/{site}/live/{session}/questions/{id}/votes" => Route::LiveVote {
            site: p(0),
            session: p(1),
            question: p(2),
        },
        "/v1/admin/sites/{site}/live/{session}" => Route::AdminLive {
            site: p(0),
            session: p(1),
        },
        "/v1/admin/sites/{site}/live/{session}/questions/{id}" => Route::AdminLiveQuestion {
            site: p(0),
            session: p(1),
            question: p(2),
        },
        "/v1/admin/sites/{site}/live/{session}/status" => Route::AdminLiveStatus {
            site: p(0),
            session: p(1),
        },
        "/v1/admin/sites/{site}/live/{session}/end" => Route::AdminLiveEnd {
            site: p(0),
            session: p(1),
        },
        "/v1/admin/sites/{site}/live/{session}/recap" => Route::AdminLiveRecap {
            site: p(0),
            session: p(1),
        },
        "/v1/admin/sites/{site}" => Route::AdminSite { site: p(0) },
        "/v1/admin/sites/{site}/rebuild" => Route::AdminRebuild { site: p(0) },
        "/v1/admin/sites/{site}/availability" => Route::AdminAvailability { site: p(0) },
        "/v1/admin/sites/{site}/polls/{poll}/results" => Route::PollResults {
            site: p(0),
            poll: p(1),
        },
        other => {
            let plural = other.split('/').nth(5).unwrap_or("");
            match kind(plural) {
                Some(kind) => Route::AdminContent {
                    site: p(0),
                    kind,
                    id: p(1),
                },
                None => return Err(ApiError::not_found("route")),
            }
        }
    })
}

/// Whether the operators' worker answers `path`: its API (`/v1/admin` and below), and the
/// knowledge base's reads (`/v1/sites/{site}/kb`, `/kb/{site}`, its entries' pages
/// `/kb/{site}/{stories|questions}/{id}`: one D1 query each, off the feed's hot path, with
/// the knowledge base's search, pages and translations code, which the visitors' worker
/// then does not upload) and its pages' "Did this help?" form
/// (`/kb/{site}/stories/{id}/feedback`, which sends to the ingestion queue like the
/// widget's events), live Q&A rooms ([`is_live_path`]), and a visitor's questions and
/// threads (asking, the thread, follow-ups, photos, the unread check: with their guard,
/// thread tokens and operators' tokens, off the feed's path). The visitors' worker hands
/// them over unread.
pub fn is_operators_path(path: &str) -> bool {
    path.strip_prefix("/v1/admin")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        || matches!(
            find(path).map(|(template, _)| template),
            Some(
                "/kb/{site}/stories/{id}"
                    | "/kb/{site}/questions/{id}"
                    | "/kb/{site}/stories/{id}/feedback"
            )
        )
        || matches!(
            find(path).map(|(template, _)| template),
            Some("/v1/sites/{site}/kb" | "/kb/{site}" | "/v1/sites/{site}/media/{id}")
        )
        || is_live_path(path)
        || matches!(
            find(path).map(|(template, _)| template),
            Some(
                "/v1/sites/{site}/questions"
                    | "/v1/sites/{site}/questions/{id}"
                    | "/v1/sites/{site}/questions/{id}/messages"
                    | "/v1/sites/{site}/questions/{id}/photo"
                    | "/v1/sites/{site}/threads"
            )
        )
}

/// Whether `path` is a live room's visitors' endpoint (`/v1/sites/{site}/live/…`): the
/// operators' worker holds the rooms' Durable Object binding, so the visitors' worker hands
/// these over (WebSocket upgrades included) unread.
pub fn is_live_path(path: &str) -> bool {
    matches!(
        find(path).map(|(template, _)| template),
        Some(
            "/v1/sites/{site}/live/{session}"
                | "/v1/sites/{site}/live/{session}/questions"
                | "/v1/sites/{site}/live/{session}/questions/{id}/votes"
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(route(Get, "/"), Ok(Route::DemoPage));
        assert_eq!(route(Get, "/health"), Ok(Route::Health));
        assert_eq!(
            route(Get, "/v1/sites/demo/feed"),
            Ok(Route::Feed {
                site: "demo".into()
            })
        );
        assert_eq!(
            route(Post, "/v1/sites/demo/polls/csat/responses"),
            Ok(Route::PollResponses {
                site: "demo".into(),
                poll: "csat".into()
            })
        );
        assert_eq!(
            route(Options, "/v1/sites/demo/events"),
            Ok(Route::Events {
                site: "demo".into()
            })
        );
        for kind in ContentKind::ALL {
            assert_eq!(
                route(
                    Delete,
                    &format!("/v1/admin/sites/demo/{}/x-1", kind.plural())
                ),
                Ok(Route::AdminContent {
                    site: "demo".into(),
                    kind,
                    id: "x-1".into()
                })
            );
        }
        assert_eq!(
            route(Get, "/v1/admin/sites/demo/polls/csat/results"),
            Ok(Route::PollResults {
                site: "demo".into(),
                poll: "csat".into()
            })
        );
        assert!(route(Put, "/v1/admin/sites/demo").is_ok_and(|r| r.is_admin()));
    }

    #[test]
    fn the_operators_worker_gets_exactly_the_admin_routes() {
        for (template, methods) in ROUTES {
            // One value every parameter accepts (slugs and visitor ids alike).
            let path = template
                .split('/')
                .map(|seg| {
                    if seg.starts_with('{') {
                        "abcdefghijklmnop"
                    } else {
                        seg
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            for m in *methods {
                let Ok(r) = route(*m, &path) else {
                    panic!("{path} does not route");
                };
                let kb_read = matches!(
                    r,
                    Route::Kb { .. }
                        | Route::KbPage { .. }
                        | Route::KbEntryPage { .. }
                        | Route::KbFeedback { .. }
                        | Route::Media { .. }
                        | Route::LiveRoom { .. }
                        | Route::LiveAsk { .. }
                        | Route::LiveVote { .. }
                        | Route::Ask { .. }
                        | Route::Thread { .. }
                        | Route::FollowUp { .. }
                        | Route::ThreadStatus { .. }
                        | Route::Photo { .. }
                );
                assert_eq!(r.is_admin() || kb_read, is_operators_path(&path), "{path}");
            }
        }
        assert!(is_operators_path("/v1/sites/demo/kb"));
        assert!(is_operators_path("/kb/demo"));
        assert!(!is_operators_path("/kb/demo/x"));
        assert!(is_operators_path("/kb/demo/stories/reset"));
        assert!(is_operators_path("/kb/demo/questions/q1"));
        assert!(is_operators_path("/kb/demo/stories/reset/feedback"));
        assert!(!is_operators_path("/kb/demo/questions/q1/feedback"));
        assert!(is_operators_path("/v1/admin"));
        assert!(is_operators_path("/v1/admin/nothing-here"));
        assert!(!is_operators_path("/v1/administrators"));
        assert!(!is_operators_path("/v1/sites/admin/feed"));
    }

    #[test]
    fn body_limits_are_decided_by_the_route() {
        let limit = |m, p| route(m, p).map(|r| r.body_limit(m));
        assert_eq!(
            limit(Post, "/v1/sites/demo/polls/p/responses"),
            Ok(8 * 1024)
        );
        assert_eq!(limit(Post, "/v1/sites/demo/events"), Ok(8 * 1024));
        assert_eq!(limit(Post, "/v1/sites/demo/questions"), Ok(8 * 1024));
        assert_eq!(
            limit(Put, "/v1/sites/demo/questions/q1/photo"),
            Ok(1024 * 1024)
        );
        assert_eq!(limit(Get, "/v1/sites/demo/questions/q1/photo"), Ok(0));
        assert_eq!(limit(Put, "/v1/admin/sites/demo/stories/s"), Ok(256 * 1024));
        assert_eq!(limit(Put, "/v1/admin/sites/demo"), Ok(256 * 1024));
        assert_eq!(
            limit(Post, "/v1/admin/sites/demo/questions/q/replies"),
            Ok(256 * 1024)
        );
        assert_eq!(limit(Get, "/v1/sites/demo/feed"), Ok(0));
        assert_eq!(limit(Options, "/v1/sites/demo/events"), Ok(0));
    }

    #[test]
    fn refusals() {
        let status = |m, p| route(m, p).err().map(|e| e.status);
        assert_eq!(status(Post, "/v1/sites/demo/feed"), Some(405));
        assert_eq!(status(Get, "/v1/sites/demo/events"), Some(405));
        assert_eq!(
            status(Put, "/v1/admin/sites/demo/polls/p/results"),
            Some(405)
        );
        assert_eq!(status(Get, "/v1/sites/De%2Fmo/feed"), Some(400));
        assert_eq!(status(Get, "/v1/sites/../feed"), Some(400));
        assert_eq!(
            status(Get, "/v1/admin/sites/demo/stories/Bad_Id"),
            Some(400)
        );
        assert_eq!(status(Get, "/v1/sites/demo/feed/x"), Some(404));
        assert_eq!(status(Get, "/v1/admin/sites/demo/widgets/x"), Some(404));
        assert_eq!(status(Get, "/nothing"), Some(404));
        assert_eq!(status(Post, "/"), Some(405));
        assert_eq!(status(Get, "//health"), Some(404));
        assert_eq!(
            route(Get, "/v1/sites/demo/polls/NO/responses")
                .err()
                .and_then(|e| e.field),
            Some("poll".into())
        );
    }
}
