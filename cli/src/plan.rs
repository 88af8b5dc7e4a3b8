//! What `glimpse publish` would change: local content compared with what is live, item by
//! item. Pure, so the diff is tested natively.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::content::SiteContent;

/// What happens to one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    /// Live but not in the files: removed only with `--delete-missing`.
    Delete,
    Unchanged,
}

/// One line of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// `site`, `stories`, `sessions` or `polls`.
    pub kind: &'static str,
    pub id: String,
    pub action: Action,
    /// The local item as JSON (none for deletions).
    pub body: Option<String>,
}

impl Change {
    pub fn line(&self) -> String {
        let (sign, verb) = match self.action {
            Action::Create => ('+', "create"),
            Action::Update => ('~', "update"),
            Action::Delete => ('-', "delete"),
            Action::Unchanged => ('=', "unchanged"),
        };
        format!("{sign} {} {} ({verb})", self.kind, self.id)
    }
}

/// What is live, as the admin API returned it.
#[derive(Debug, Clone, Default)]
pub struct Live {
    pub site: Option<Value>,
    pub stories: Vec<Value>,
    pub sessions: Vec<Value>,
    pub polls: Vec<Value>,
}

/// A value through the shared type and back, so defaults and field order compare equal.
fn normal<T: DeserializeOwned + Serialize>(v: &Value) -> Option<Value> {
    serde_json::from_value::<T>(v.clone())
        .ok()
        .and_then(|t| serde_json::to_value(t).ok())
}

fn diff_kind<T: DeserializeOwned + Serialize>(
    kind: &'static str,
    local: Vec<(String, Value)>,
    live: &[Value],
    out: &mut Vec<Change>,
) {
    for (id, value) in &local {
        let live_item = live.iter().find(|v| v["id"].as_str() == Some(id.as_str()));
        let action = match live_item {
            None => Action::Create,
            Some(l) if normal::<T>(l) == normal::<T>(value) => Action::Unchanged,
            Some(_) => Action::Update,
        };
        out.push(Change {
            kind,
            id: id.clone(),
            action,
            body: Some(value.to_string()),
        });
    }
    for l in live {
        if let Some(id) = l["id"].as_str()
            && !local.iter().any(|(i, _)| i == id)
        {
            out.push(Change {
                kind,
                id: id.to_string(),
                action: Action::Delete,
                body: None,
            });
        }
    }
}

fn items<T: Serialize>(list: &[T], id: impl Fn(&T) -> &str) -> Vec<(String, Value)> {
    list.iter()
        .filter_map(|t| serde_json::to_value(t).ok().map(|v| (id(t).to_string(), v)))
        .collect()
}

/// The changes that make what is live equal the files.
pub fn plan(local: &SiteContent, live: &Live) -> Vec<Change> {
    let mut out = Vec::new();
    let site = serde_json::to_value(&local.site).unwrap_or_default();
    let site_action = match &live.site {
        None => Action::Create,
        Some(l) if normal::<glimpse_shared::Site>(l) == normal::<glimpse_shared::Site>(&site) => {
            Action::Unchanged
        }
        Some(_) => Action::Update,
    };
    out.push(Change {
        kind: "site",
        id: local.site.id.clone(),
        action: site_action,
        body: Some(site.to_string()),
    });
    diff_kind::<glimpse_shared::Story>(
        "stories",
        items(&local.stories, |s| &s.id),
        &live.stories,
        &mut out,
    );
    diff_kind::<glimpse_shared::LiveSession>(
        "sessions",
        items(&local.sessions, |s| &s.id),
        &live.sessions,
        &mut out,
    );
    diff_kind::<glimpse_shared::Poll>(
        "polls",
        items(&local.polls, |p| &p.id),
        &live.polls,
        &mut out,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn local() -> SiteContent {
        let site = serde_json::from_value(json!({"id": "demo", "name": "Demo"}))
            .unwrap_or_else(|e| panic!("{e}"));
        let story = |id: &str, title: &str| {
            serde_json::from_value(json!({
                "id": id, "title": title, "topic": "t",
                "slides": [{"text": "x"}], "publish_at": 0, "expires_at": 10
            }))
            .unwrap_or_else(|e| panic!("{e}"))
        };
        SiteContent {
            site,
            stories: vec![
                story("same", "Same"),
                story("changed", "New title"),
                story("new", "New"),
            ],
            sessions: vec![],
            polls: vec![],
        }
    }

    #[test]
    fn a_plan_creates_updates_keeps_and_deletes() {
        let live = Live {
            // Defaults written out by the API compare equal to omitted ones in the files.
            site: Some(
                json!({"id": "demo", "name": "Demo", "origins": [], "language": "en", "timezone": "UTC", "retention_days": 90}),
            ),
            stories: vec![
                json!({"id": "same", "title": "Same", "topic": "t", "slides": [{"text": "x", "duration_ms": 6000}], "publish_at": 0, "expires_at": 10}),
                json!({"id": "changed", "title": "Old title", "topic": "t", "slides": [{"text": "x"}], "publish_at": 0, "expires_at": 10}),
                json!({"id": "gone", "title": "Gone", "topic": "t", "slides": [{"text": "x"}], "publish_at": 0, "expires_at": 10}),
            ],
            ..Live::default()
        };
        let lines: Vec<String> = plan(&local(), &live).iter().map(Change::line).collect();
        assert_eq!(
            lines,
            [
                "= site demo (unchanged)",
                "= stories same (unchanged)",
                "~ stories changed (update)",
                "+ stories new (create)",
                "- stories gone (delete)",
            ]
        );
    }

    #[test]
    fn nothing_live_means_create_everything() {
        let changes = plan(&local(), &Live::default());
        assert!(changes.iter().all(|c| c.action == Action::Create));
        assert_eq!(changes.len(), 4);
    }
}
