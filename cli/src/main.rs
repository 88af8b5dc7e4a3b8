//! `glimpse publish DIR --api URL [--dry-run] [--delete-missing]`; the admin token comes
//! from the `GLIMPSE_ADMIN_TOKEN` environment variable.

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use glimpse_cli::content::{Result, SiteContent, read_dir};
use glimpse_cli::plan::{Action, Live, plan};
use serde_json::Value;

const USAGE: &str = "\
glimpse check DIR
glimpse publish DIR --api URL [--dry-run] [--delete-missing]

  check             read and check every file in DIR, send nothing: every problem of every
                    file is listed with its file, line, column and field
  DIR               a site directory: site.toml, stories/*.toml, sessions/*.toml, polls/*.toml
                    (any file may be YAML instead: .yaml or .yml)
  --api URL         the Glimpse worker, e.g. https://glimpse.example.workers.dev
                    (plain http only to 127.0.0.1, ::1 or localhost)
  --dry-run         show the plan, change nothing
  --delete-missing  also delete live items that are not in DIR

publish checks DIR the same way first and sends nothing if anything is wrong.
The admin token is read from GLIMPSE_ADMIN_TOKEN.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("glimpse: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result {
    let mut it = args.iter();
    let command = it.next().map(String::as_str);
    if let Some("check") = command {
        let dir = match (it.next(), it.next()) {
            (Some(dir), None) if !dir.starts_with('-') => dir,
            _ => return Err(format!("check takes one DIR\n\n{USAGE}")),
        };
        let content = read(dir, now_ms())?;
        lint(&content);
        println!("{dir}: no problems ({})", content.summary());
        return Ok(());
    }
    if command != Some("publish") {
        return Err(format!("unknown command\n\n{USAGE}"));
    }
    let mut dir = None;
    let mut api = None;
    let (mut dry_run, mut delete_missing) = (false, false);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--api" => api = it.next().cloned(),
            "--dry-run" => dry_run = true,
            "--delete-missing" => delete_missing = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other if dir.is_none() && !other.starts_with('-') => dir = Some(other.to_string()),
            other => return Err(format!("unexpected argument {other:?}\n\n{USAGE}")),
        }
    }
    let dir = dir.ok_or(format!("DIR is missing\n\n{USAGE}"))?;
    let api = api.ok_or(format!("--api is missing\n\n{USAGE}"))?;
    let api = api.trim_end_matches('/').to_string();
    glimpse_cli::api_url::check(&api)?;
    // The files first: what is wrong in them is worth knowing before any credentials.
    let content = read(&dir, now_ms())?;
    lint(&content);
    let token = std::env::var("GLIMPSE_ADMIN_TOKEN")
        .map_err(|_| "set GLIMPSE_ADMIN_TOKEN to the worker's ADMIN_TOKEN".to_string())?;
    let client = Client { api, token };
    let live = client.live(&content.site.id)?;
    let changes = plan(&content, &live);
    for c in &changes {
        println!("{}", c.line());
    }
    if dry_run {
        println!("dry run: nothing changed");
        return Ok(());
    }
    let site = &content.site.id;
    let mut applied = 0;
    for c in &changes {
        let path = if c.kind == "site" {
            format!("/v1/admin/sites/{site}")
        } else {
            format!("/v1/admin/sites/{site}/{}/{}", c.kind, c.id)
        };
        match (c.action, &c.body) {
            (Action::Create | Action::Update, Some(body)) => {
                client.send("PUT", &path, Some(body))?;
                applied += 1;
            }
            (Action::Delete, _) if delete_missing => {
                client.send("DELETE", &path, None)?;
                applied += 1;
            }
            (Action::Delete, _) => println!(
                "  kept {} {} (use --delete-missing to remove it)",
                c.kind, c.id
            ),
            _ => {}
        }
    }
    println!("applied {applied} change(s)");
    Ok(())
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The content of `dir`; else every problem in it is printed to stderr (in colour when it
/// is a terminal) and the error is the summary.
fn read(dir: &str, now: i64) -> Result<SiteContent> {
    use std::io::IsTerminal;
    read_dir(std::path::Path::new(dir), now).map_err(|report| {
        eprint!("{}", report.render(std::io::stderr().is_terminal()));
        report.summary()
    })
}

/// Prints the authoring lint's warnings; they never block publishing.
fn lint(content: &SiteContent) {
    let print = |what: String, warnings: Vec<glimpse_shared::Problem>| {
        for w in warnings {
            println!("warning: {what}: {}: {}", w.field, w.message);
        }
    };
    print(format!("site {}", content.site.id), content.site.lint());
    let site = &content.site;
    for s in &content.stories {
        let mut w = s.lint();
        w.extend(s.lint_translations(site));
        print(format!("story {}", s.id), w);
    }
    for s in &content.sessions {
        let mut w = s.lint();
        w.extend(s.lint_translations(site));
        print(format!("session {}", s.id), w);
    }
    for p in &content.polls {
        let mut w = p.lint();
        w.extend(p.lint_translations(site));
        print(format!("poll {}", p.id), w);
    }
}

struct Client {
    api: String,
    token: String,
}

impl Client {
    /// `Ok(None)` for 404.
    fn get(&self, path: &str) -> Result<Option<Value>> {
        let res = ureq::get(format!("{}{path}", self.api))
            .header("authorization", &format!("Bearer {}", self.token))
            .config()
            .http_status_as_error(false)
            .build()
            .call()
            .map_err(|e| format!("GET {path}: {e}"))?;
        let status = res.status().as_u16();
        let text = res
            .into_body()
            .read_to_string()
            .map_err(|e| e.to_string())?;
        match status {
            200 => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| format!("GET {path}: {e}")),
            404 => Ok(None),
            s => Err(format!("GET {path}: {s} {text}")),
        }
    }

    fn live(&self, site: &str) -> Result<Live> {
        let Some(site_value) = self.get(&format!("/v1/admin/sites/{site}"))? else {
            return Ok(Live::default());
        };
        let list = |kind: &str| -> Result<Vec<Value>> {
            Ok(self
                .get(&format!("/v1/admin/sites/{site}/{kind}"))?
                .and_then(|v| v[kind].as_array().cloned())
                .unwrap_or_default())
        };
        Ok(Live {
            site: Some(site_value),
            stories: list("stories")?,
            sessions: list("sessions")?,
            polls: list("polls")?,
        })
    }

    fn send(&self, method: &str, path: &str, body: Option<&str>) -> Result {
        let url = format!("{}{path}", self.api);
        let auth = format!("Bearer {}", self.token);
        let res = match (method, body) {
            ("PUT", Some(b)) => ureq::put(&url)
                .header("authorization", &auth)
                .header("content-type", "application/json")
                .config()
                .http_status_as_error(false)
                .build()
                .send(b.as_bytes()),
            _ => ureq::delete(&url)
                .header("authorization", &auth)
                .config()
                .http_status_as_error(false)
                .build()
                .call(),
        }
        .map_err(|e| format!("{method} {path}: {e}"))?;
        let status = res.status().as_u16();
        if (200..300).contains(&status) {
            Ok(())
        } else {
            let text = res.into_body().read_to_string().unwrap_or_default();
            Err(format!("{method} {path}: {status} {text}"))
        }
    }
}
