//! Accessibility checks with axe-core, the standard engine, in the page under test.
//!
//! The engine is the npm package `axe-core` (pinned in package.json / package-lock.json and
//! installed by `cargo xtask setup`). Its `axe.min.js` is read from `node_modules` and
//! evaluated in the page over the DevTools protocol, which no Content-Security-Policy blocks
//! (the console allows no inline script). axe walks open shadow roots, so the widget is
//! checked where it lives, together with the host page around it (landmark rules are about
//! the whole page).
//!
//! A check fails on every violation of impact `serious` or `critical`, and on the rules in
//! [`ALWAYS`] whatever their impact. The failure lists each rule with its help URL and the
//! selectors of every failing element, so it says what to fix.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use crate::Result;
use crate::cdp::Page;

/// The rule sets run: WCAG 2.0/2.1/2.2 level A and AA, plus axe's best practices (landmarks,
/// headings, table headers), whose lesser findings only fail through [`ALWAYS`].
pub const TAGS: &[&str] = &[
    "wcag2a",
    "wcag2aa",
    "wcag21a",
    "wcag21aa",
    "wcag22aa",
    "best-practice",
];

/// Rules that fail the check at any impact: each was found on Glimpse once (issue 13) and
/// must stay fixed. Label in name (WCAG 2.5.3), one `banner` landmark per page, colour
/// contrast, named table headers, a `main` landmark, and all content inside landmarks.
pub const ALWAYS: &[&str] = &[
    "label-content-name-mismatch",
    "landmark-no-duplicate-banner",
    "landmark-banner-is-top-level",
    "color-contrast",
    "empty-table-header",
    "landmark-one-main",
    "region",
];

/// One element a rule failed on.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Node {
    /// axe's selector path: one selector per shadow root crossed, outermost first.
    pub target: Vec<String>,
    /// The element's opening HTML.
    pub html: String,
    /// What axe says is wrong and how to fix it.
    #[serde(rename = "failureSummary", default)]
    pub summary: Option<String>,
}

/// One failed rule, as axe reports it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Violation {
    pub id: String,
    /// `minor`, `moderate`, `serious` or `critical`.
    pub impact: Option<String>,
    pub help: String,
    #[serde(rename = "helpUrl")]
    pub help_url: String,
    pub nodes: Vec<Node>,
}

/// The violations that fail a check: impact serious or critical, or a rule in [`ALWAYS`].
pub fn blocking(violations: Vec<Violation>) -> Vec<Violation> {
    violations
        .into_iter()
        .filter(|v| {
            matches!(v.impact.as_deref(), Some("serious" | "critical"))
                || ALWAYS.contains(&v.id.as_str())
        })
        .collect()
}

/// A report a person can act on: per rule its impact, help text and URL, then each failing
/// element's selector path (` >>> ` enters a shadow root), HTML and axe's advice.
pub fn report(what: &str, violations: &[Violation]) -> String {
    let mut out = format!(
        "axe-core: {} accessibility violation(s) on {what}:\n",
        violations.len()
    );
    for v in violations {
        let _ = writeln!(
            out,
            "- {} ({}): {}\n  {}",
            v.id,
            v.impact.as_deref().unwrap_or("unknown impact"),
            v.help,
            v.help_url
        );
        for n in &v.nodes {
            let _ = writeln!(out, "    at {}", n.target.join(" >>> "));
            let _ = writeln!(out, "       {}", n.html);
            if let Some(s) = &n.summary {
                for line in s.lines() {
                    let _ = writeln!(out, "       {line}");
                }
            }
        }
    }
    out
}

/// The text of `axe.min.js` from the installed npm package.
fn engine() -> Result<String> {
    let path = xtask::at("node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "{}: {e} (axe-core comes from package-lock.json: run `cargo xtask setup`)",
            path.display()
        )
    })
}

/// Runs axe-core on the whole page now (after its finite animations end) and returns every
/// violation it reports, whatever the impact.
pub fn run(page: &mut Page<'_>) -> Result<Vec<Violation>> {
    if page.eval("typeof window.axe === 'object' && typeof window.axe.run === 'function'")?
        != json!(true)
    {
        let source = engine()?;
        let res = page.call(
            "Runtime.evaluate",
            json!({ "expression": source, "returnByValue": true }),
        )?;
        if let Some(ex) = res.get("exceptionDetails") {
            return Err(format!("axe-core did not load: {ex}"));
        }
    }
    // Colours are only meaningful once transitions and entry animations are over; endless
    // ones (the live dot's pulse) are left running.
    page.wait_for(
        "(async () => { const roots = [document]; \
         for (let i = 0; i < roots.length; i++) for (const el of roots[i].querySelectorAll('*')) \
           if (el.shadowRoot) roots.push(el.shadowRoot); \
         const finite = roots.flatMap(r => r.getAnimations()).filter(a => a.playState === 'running' \
           && Number.isFinite(a.effect?.getComputedTiming().endTime)); \
         await Promise.all(finite.map(a => a.finished.catch(() => null))); \
         await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))); \
         return true; })()",
        Duration::from_secs(20),
    )?;
    let options = json!({
        "runOnly": { "type": "tag", "values": TAGS },
        "resultTypes": ["violations"],
    });
    let found = page.eval(&format!(
        "axe.run(document, {options}).then(r => r.violations.map(v => ({{ \
           id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl, \
           nodes: v.nodes.map(n => ({{ target: n.target.flat(Infinity).map(String), html: n.html, \
             failureSummary: n.failureSummary }})) }})))"
    ))?;
    serde_json::from_value(found).map_err(|e| format!("axe-core results: {e}"))
}

/// Runs axe-core on the page and fails with [`report`] if anything in [`blocking`] is found.
/// `what` names the page and state in the message (e.g. "the demo page, tray open").
pub fn check(page: &mut Page<'_>, what: &str) -> Result {
    let found = blocking(run(page)?);
    if found.is_empty() {
        Ok(())
    } else {
        Err(report(what, &found))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violation(id: &str, impact: &str) -> Violation {
        Violation {
            id: id.into(),
            impact: Some(impact.into()),
            help: format!("help for {id}"),
            help_url: format!("https://dequeuniversity.com/rules/axe/4.14/{id}"),
            nodes: vec![Node {
                target: vec!["glimpse-widget".into(), ".launcher".into()],
                html: "<button class=\"launcher\">".into(),
                summary: Some("Fix any of the following:\n  Text is not in the name".into()),
            }],
        }
    }

    #[test]
    fn serious_critical_and_always_rules_block_the_rest_do_not() {
        let kept = blocking(vec![
            violation("button-name", "critical"),
            violation("link-name", "serious"),
            violation("heading-order", "moderate"),
            violation("region", "moderate"),
            violation("empty-table-header", "minor"),
            violation("landmark-unique", "moderate"),
        ]);
        let ids: Vec<&str> = kept.iter().map(|v| v.id.as_str()).collect();
        assert_eq!(
            ids,
            ["button-name", "link-name", "region", "empty-table-header"]
        );
    }

    #[test]
    fn the_report_names_rule_impact_help_url_and_the_shadow_path() {
        let text = report(
            "the demo page",
            &[violation("label-content-name-mismatch", "serious")],
        );
        assert_eq!(
            text,
            "axe-core: 1 accessibility violation(s) on the demo page:\n\
             - label-content-name-mismatch (serious): help for label-content-name-mismatch\n  \
             https://dequeuniversity.com/rules/axe/4.14/label-content-name-mismatch\n    \
             at glimpse-widget >>> .launcher\n       \
             <button class=\"launcher\">\n       \
             Fix any of the following:\n         \
             Text is not in the name\n"
        );
    }
}
