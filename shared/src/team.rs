//! The team: operators with roles, read-only API keys, and who may use which part of the
//! operators' API on which site. Pure: the worker decides with [`Actor::may`], the console
//! reads the same rules to show only what a role can do.
//!
//! - **Owner**: everything — site settings, operators, API keys, webhooks, the audit log,
//!   visitors' data. The `ADMIN_TOKEN` secret is the bootstrap owner.
//! - **Editor**: content (stories, sessions, polls, knowledge base, media) and reports.
//! - **Agent**: the inbox (questions, threads, replies, resolutions, saved replies) and
//!   answers published from questions.
//! - **Reader** (API keys only): read-only reports and exports of the key's sites.

use serde::{Deserialize, Serialize};

use crate::Millis;
use crate::ids::is_slug;
use crate::validate::{Problem, Problems};

/// An operator's role (API keys are [`Role::Reader`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Editor,
    Agent,
    /// Read-only API keys: reports and exports, `GET` only.
    Reader,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Editor => "editor",
            Role::Agent => "agent",
            Role::Reader => "reader",
        }
    }

    /// Whether this role may use an endpoint of `area` (with a read-only method when
    /// `read` is true).
    pub fn may(self, area: Area, read: bool) -> bool {
        match (self, area) {
            (Role::Owner, _) | (_, Area::Identity) => true,
            (Role::Reader, Area::Reports) => read,
            (Role::Reader, _) => false,
            (_, Area::SiteRead) => true,
            (Role::Editor, Area::Content | Area::Reports | Area::Answers) => true,
            (Role::Agent, Area::Inbox | Area::Answers) => true,
            _ => false,
        }
    }
}

/// What an operators' endpoint is for, as far as who may use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Area {
    /// "Who am I": every valid token, API keys too.
    Identity,
    /// The site list, one site's settings, "who am I", availability: every operator.
    SiteRead,
    /// Questions, threads, replies, resolutions, saved replies: agents.
    Inbox,
    /// Knowledge-base answers written from questions: agents and editors.
    Answers,
    /// Stories, sessions, polls, the knowledge base's story entries, media: editors.
    Content,
    /// Poll results, reports, roll-ups, exports: editors; API keys (`GET` only).
    Reports,
    /// Site settings, operators, API keys, webhooks, the audit log, visitors' data: owners.
    Owner,
}

impl Area {
    /// Who may use it, in words (for the 403 message).
    pub fn who(self) -> &'static str {
        match self {
            Area::Identity => "every token",
            Area::SiteRead => "every operator",
            Area::Inbox => "agents and owners",
            Area::Answers => "agents, editors and owners",
            Area::Content => "editors and owners",
            Area::Reports => "editors, owners and read-only API keys",
            Area::Owner => "owners",
        }
    }
}

/// The site scope meaning every site, present and future.
pub const ALL_SITES: &str = "*";
/// Most sites one operator or key lists (beyond that: [`ALL_SITES`]).
pub const SITES_MAX: usize = 100;

/// Who is making an operators' request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The operator's or key's id; `owner` for the `ADMIN_TOKEN` bootstrap owner.
    pub id: String,
    /// Display name, shown on replies and in the audit log.
    pub name: String,
    pub role: Role,
    /// Site ids, or `["*"]` for every site.
    pub sites: Vec<String>,
}

impl Actor {
    /// The id of the `ADMIN_TOKEN` bootstrap owner.
    pub const BOOTSTRAP_ID: &'static str = "owner";

    /// The bootstrap owner: the holder of the `ADMIN_TOKEN` secret.
    pub fn bootstrap() -> Self {
        Self {
            id: Self::BOOTSTRAP_ID.into(),
            name: "Owner (admin token)".into(),
            role: Role::Owner,
            sites: vec![ALL_SITES.into()],
        }
    }

    pub fn is_bootstrap(&self) -> bool {
        self.id == Self::BOOTSTRAP_ID
    }

    /// Whether the actor may act on `site`.
    pub fn has_site(&self, site: &str) -> bool {
        self.sites.iter().any(|s| s == ALL_SITES || s == site)
    }

    /// Whether the actor may act on every site (and so on the site list's writes).
    pub fn all_sites(&self) -> bool {
        self.sites.iter().any(|s| s == ALL_SITES)
    }

    /// Why the actor may not use an endpoint of `area` on `site` (`None` for endpoints not
    /// about one site), or `Ok` if they may. The error text names who may.
    pub fn may(&self, area: Area, read: bool, site: Option<&str>) -> Result<(), Denied> {
        if !self.role.may(area, read) {
            return Err(Denied::Role {
                role: self.role,
                area,
            });
        }
        match site {
            Some(s) if !self.has_site(s) => Err(Denied::Site(s.to_string())),
            _ => Ok(()),
        }
    }
}

/// Why an actor is refused (403).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    Role { role: Role, area: Area },
    Site(String),
}

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Denied::Role {
                role: Role::Reader,
                area,
            } => write!(
                f,
                "a read-only API key may only read reports and exports; this is for {}",
                area.who()
            ),
            Denied::Role { role, area } => write!(
                f,
                "your role ({}) may not do this: it is for {}",
                role.as_str(),
                area.who()
            ),
            Denied::Site(site) => write!(f, "your token is not for site {site}"),
        }
    }
}

/// An operator as the owners' API shows them (never with the token or its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operator {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub sites: Vec<String>,
    pub created_at: Millis,
    /// Who created them (an actor id).
    pub created_by: String,
    /// When their token was revoked; a revoked operator can do nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Millis>,
}

/// What an owner sends to create or change an operator (`POST /v1/admin/operators`,
/// `PUT /v1/admin/operators/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewOperator {
    pub name: String,
    pub role: Role,
    pub sites: Vec<String>,
}

/// The longest display name.
pub const NAME_MAX: usize = 60;

/// A display name: one line of 1–[`NAME_MAX`] characters.
fn name(p: &mut Problems, name: &str) {
    if name.contains('\n') {
        p.push("name", "one line of text");
    } else {
        p.text("name", name, NAME_MAX);
        p.no_bidi("name", name);
    }
}

fn check_sites(p: &mut Problems, sites: &[String]) {
    if sites.is_empty() {
        p.push(
            "sites",
            "list at least one site id, or \"*\" for every site",
        );
    } else if sites.len() > SITES_MAX {
        p.push(
            "sites",
            format!("at most {SITES_MAX} sites; use \"*\" for every site"),
        );
    } else if sites.iter().any(|s| s == ALL_SITES) && sites.len() > 1 {
        p.push("sites", "\"*\" means every site: list it alone");
    }
    for (i, s) in sites.iter().enumerate() {
        if s != ALL_SITES && !is_slug(s) {
            p.push(
                format!("sites[{i}]"),
                "a site id ([a-z0-9][a-z0-9-]{0,62}) or \"*\"",
            );
        }
    }
}

impl NewOperator {
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Problems::default();
        name(&mut p, &self.name);
        if self.role == Role::Reader {
            p.push(
                "role",
                "owner, editor or agent (read-only access is an API key)",
            );
        }
        check_sites(&mut p, &self.sites);
        p.into_vec()
    }
}

/// A read-only API key as the owners' API shows it (never with the key or its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub sites: Vec<String>,
    pub created_at: Millis,
    pub created_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Millis>,
}

/// What an owner sends to create an API key (`POST /v1/admin/keys`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiKey {
    pub name: String,
    pub sites: Vec<String>,
}

impl NewApiKey {
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Problems::default();
        name(&mut p, &self.name);
        check_sites(&mut p, &self.sites);
        p.into_vec()
    }
}

/// The answer to creating an operator or a key: the token, shown this once (only its hash
/// is stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issued<T> {
    #[serde(flatten)]
    pub item: T,
    pub token: String,
}

/// Prefix of operators' personal tokens.
pub const OPERATOR_TOKEN_PREFIX: &str = "glop_";
/// Prefix of read-only API keys.
pub const API_KEY_PREFIX: &str = "glak_";

/// Which kind of credential a bearer token is, by its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Operator,
    ApiKey,
    /// Anything else: only the `ADMIN_TOKEN` can be such a token.
    Other,
}

pub fn token_kind(token: &str) -> TokenKind {
    if token.starts_with(OPERATOR_TOKEN_PREFIX) {
        TokenKind::Operator
    } else if token.starts_with(API_KEY_PREFIX) {
        TokenKind::ApiKey
    } else {
        TokenKind::Other
    }
}

/// One audit log entry: who wrote what, when, with what outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: Millis,
    /// The actor's id and display name at the time.
    pub actor: String,
    pub actor_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// `METHOD /path` of the write.
    pub action: String,
    /// The HTTP status it was answered with.
    pub status: u16,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_reach_their_areas_only() {
        use Area::*;
        let areas = [Identity, SiteRead, Inbox, Answers, Content, Reports, Owner];
        let may = |role: Role, read| {
            areas
                .iter()
                .filter(|a| role.may(**a, read))
                .copied()
                .collect::<Vec<_>>()
        };
        assert_eq!(may(Role::Owner, false), areas);
        assert_eq!(
            may(Role::Editor, false),
            [Identity, SiteRead, Answers, Content, Reports]
        );
        assert_eq!(
            may(Role::Agent, false),
            [Identity, SiteRead, Inbox, Answers]
        );
        assert_eq!(may(Role::Reader, true), [Identity, Reports]);
        assert_eq!(may(Role::Reader, false), [Identity]);
    }

    #[test]
    fn sites_scope_an_actor() {
        let agent = Actor {
            id: "a1".into(),
            name: "Ada".into(),
            role: Role::Agent,
            sites: vec!["demo".into()],
        };
        assert_eq!(agent.may(Area::Inbox, false, Some("demo")), Ok(()));
        assert_eq!(
            agent.may(Area::Inbox, false, Some("other")),
            Err(Denied::Site("other".into()))
        );
        let denied = agent.may(Area::Content, false, Some("demo"));
        assert_eq!(
            denied.map_err(|d| d.to_string()),
            Err("your role (agent) may not do this: it is for editors and owners".to_string())
        );
        assert!(
            Actor::bootstrap()
                .may(Area::Owner, false, Some("any"))
                .is_ok()
        );
        assert!(Actor::bootstrap().all_sites());
        assert!(!agent.all_sites());
    }

    #[test]
    fn new_operators_are_validated() {
        let ok = NewOperator {
            name: "Ada Lovelace".into(),
            role: Role::Agent,
            sites: vec!["demo".into()],
        };
        assert_eq!(ok.validate(), vec![]);
        let fields = |o: NewOperator| {
            o.validate()
                .into_iter()
                .map(|p| p.field)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            fields(NewOperator {
                name: String::new(),
                role: Role::Reader,
                sites: vec![],
            }),
            ["name", "role", "sites"]
        );
        assert_eq!(
            fields(NewOperator {
                sites: vec!["*".into(), "demo".into()],
                ..ok.clone()
            }),
            ["sites"]
        );
        assert_eq!(
            fields(NewOperator {
                sites: vec!["Demo".into()],
                ..ok.clone()
            }),
            ["sites[0]"]
        );
        assert_eq!(
            fields(NewOperator {
                name: "x".repeat(61),
                ..ok
            }),
            ["name"]
        );
    }

    #[test]
    fn tokens_are_told_apart_by_prefix() {
        assert_eq!(token_kind("glop_abc"), TokenKind::Operator);
        assert_eq!(token_kind("glak_abc"), TokenKind::ApiKey);
        assert_eq!(
            token_kind("0123456789abcdef0123456789abcdef"),
            TokenKind::Other
        );
    }
}
