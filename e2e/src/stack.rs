//! A seeded `wrangler dev` of the built worker on a free port, with its own fresh local KV.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use xtask::content::{KvEntries, SiteContent};
use xtask::tools::Tools;
use xtask::wrangler::{DevServer, HttpResponse};

use crate::Result;

/// The running worker plus what it was seeded with.
#[derive(Debug)]
pub struct Stack {
    pub server: DevServer,
    pub tools: Tools,
    /// The demo content as seeded (times resolved at seeding).
    pub demo: SiteContent,
    /// When it was seeded: `demo.seed(seeded_at)` is the seed this worker got.
    pub seeded_at: i64,
    /// The `ADMIN_TOKEN` this worker was started with.
    pub admin_token: String,
    /// Every var the worker was started with (for restarts).
    vars: Vec<(String, String)>,
    /// Declared after `server`, so it is removed after the server has stopped.
    _state: StateDir,
}

/// This stack's local KV directory, removed when the stack is dropped.
#[derive(Debug)]
struct StateDir(PathBuf);

impl Drop for StateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Unix ms now, from the system clock (the harness is a shell, like the edge).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl Stack {
    /// Seeds a fresh local KV with the demo content and starts `wrangler dev` on it.
    /// Needs `cargo xtask build` to have run (`cargo xtask test` does).
    pub fn start_demo() -> Result<Self> {
        Self::start_demo_with(&[])
    }

    /// [`Stack::start_demo`] with extra worker vars (e.g. `RATE_LIMIT_PER_MINUTE`).
    pub fn start_demo_with(vars: &[(&str, &str)]) -> Result<Self> {
        static N: AtomicU32 = AtomicU32::new(0);
        for built in ["worker/build/worker/shim.mjs", "worker/assets/widget.js"] {
            if !xtask::at(built).exists() {
                return Err(format!("{built} is missing: run `cargo xtask build` first"));
            }
        }
        let tools = xtask::tools::locate()?;
        let state = xtask::at("target/e2e").join(format!(
            "state-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&state);
        let now = now_ms();
        let demo = xtask::content::load_dir(&xtask::at("demo/content"), now)?;
        xtask::wrangler::seed_test(&tools, &state, &demo.seed(now)?)?;
        // 48 characters: the worker refuses admin tokens under 32.
        let admin_token = xtask::random_token(24)?;
        let mut all = vec![("ADMIN_TOKEN", admin_token.as_str())];
        all.extend_from_slice(vars);
        let server = DevServer::start(&tools, &state, &all)?;
        let vars = all
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect();
        Ok(Self {
            server,
            tools,
            demo,
            seeded_at: now,
            admin_token,
            vars,
            _state: StateDir(state),
        })
    }

    /// The demo's stories a visitor sees on `path` of the worker's origin (a desktop browser,
    /// no page labels): what the widget's targeting lets through, in the content's order.
    pub fn demo_stories_on(&self, path: &str) -> Vec<&glimpse_shared::Story> {
        let origin = self.server.url();
        let page = glimpse_shared::targeting::Page {
            origin: &origin,
            path,
            query: "",
            labels: &[],
            device: glimpse_shared::targeting::Device::Desktop,
            since: 0,
        };
        self.demo
            .stories
            .iter()
            .filter(|s| s.targeting.matches(&page))
            .collect()
    }

    /// Stops the worker, as an outage would; its KV state stays.
    pub fn stop_worker(&mut self) {
        self.server.stop();
    }

    /// Starts the worker again on the same port with the same KV state and vars.
    pub fn restart_worker(&mut self) -> Result {
        self.server.stop();
        let vars: Vec<(&str, &str)> = self
            .vars
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.server = DevServer::start_at(
            &self.tools,
            &xtask::at("worker"),
            &self._state.0,
            &vars,
            self.server.port,
        )?;
        Ok(())
    }

    /// An absolute URL on the worker.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    /// Any request on the worker.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Result<HttpResponse> {
        xtask::wrangler::http(self.server.port, method, path, headers, body)
    }

    /// A new tab of `browser` signed in to the operators' console (1280×900), once its
    /// navigation shows.
    pub fn console<'b>(
        &self,
        browser: &'b mut crate::cdp::Browser,
    ) -> Result<crate::cdp::Page<'b>> {
        let token = self.admin_token.clone();
        self.console_as(browser, &token)
    }

    /// [`Stack::console`] signed in with `token` (an operator's own), once the header has
    /// settled: the navigation for the token's role, the site list and who is signed in
    /// (they arrive one after another and move the navigation links as they do).
    pub fn console_as<'b>(
        &self,
        browser: &'b mut crate::cdp::Browser,
        token: &str,
    ) -> Result<crate::cdp::Page<'b>> {
        let mut page = browser.new_page()?;
        page.set_viewport(1280, 900)?;
        page.goto(&self.url("/admin/"))?;
        page.fill("[data-testid=token]", token)?;
        page.click("[data-testid=signin] button[type=submit]")?;
        page.wait_for(
            "(() => { const s = document.querySelector('[data-testid=site]'); \
             const me = document.querySelector('[data-testid=me]'); \
             const nav = [...document.querySelectorAll('nav a')].filter(a => !a.hidden); \
             return !!s && s.options.length > 0 && !!me && me.textContent.trim().length > 0 \
               && nav.length > 0 && !document.querySelector('main.page p.sub')?.textContent.includes('Loading the site'); })()",
            std::time::Duration::from_secs(20),
        )?;
        Ok(page)
    }

    /// [`Stack::request`] sent once: a 503 from wrangler dev's own proxy is returned, not
    /// retried (for the tests that show the worker never causes one).
    pub fn request_once(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Result<HttpResponse> {
        xtask::wrangler::http_once(self.server.port, method, path, headers, body)
    }

    /// Deletes the demo site's live session (`billing-qa`; a session starts the widget's app
    /// and banners at load) and waits until the feed no longer has it.
    pub fn without_demo_session(&self) -> Result {
        let res = self.admin("DELETE", "/v1/admin/sites/demo/sessions/billing-qa", "")?;
        if res.status >= 300 {
            return Err(format!("delete the session: {} {}", res.status, res.body));
        }
        self.eventually(
            "a feed without sessions",
            true,
            std::time::Duration::from_secs(30),
            || {
                let feed = self.request("GET", "/v1/sites/demo/feed", &[], "")?;
                let feed: serde_json::Value =
                    serde_json::from_str(&feed.body).map_err(|e| e.to_string())?;
                Ok(feed["sessions"].as_array().is_some_and(Vec::is_empty))
            },
        )
    }

    /// An admin API request with this worker's bearer token and a JSON body. A successful
    /// write to a site or its content returns only once the visitors' worker can see it
    /// ([`Stack::await_visitors`]): the operators' worker wrote it, the visitors' worker may
    /// answer from its in-memory copy of the snapshot until then, as in production.
    pub fn admin(&self, method: &str, path: &str, body: &str) -> Result<HttpResponse> {
        let auth = format!("Bearer {}", self.admin_token);
        let res = self.request(
            method,
            path,
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            body,
        )?;
        // `/v1/admin/sites/{site}` or `…/{stories|sessions|polls}/{id}`: what the snapshot holds.
        let parts: Vec<&str> = path.split('?').next().unwrap_or("").split('/').collect();
        let snapshot_write = matches!(method, "PUT" | "DELETE")
            && parts.get(1..4) == Some(&["v1", "admin", "sites"][..])
            && (parts.len() == 5
                || (parts.len() == 7 && ["stories", "sessions", "polls"].contains(&parts[5])));
        if snapshot_write && (200..300).contains(&res.status) {
            Self::await_visitors();
        }
        Ok(res)
    }

    /// Waits until a write made just now through the operators' worker is what the visitors'
    /// worker serves: its in-memory snapshot copy lives `SNAPSHOT_TTL_MS`.
    pub fn await_visitors() {
        let ttl = u64::try_from(glimpse_worker::store::SNAPSHOT_TTL_MS).unwrap_or(2_000);
        std::thread::sleep(std::time::Duration::from_millis(ttl + 100));
    }

    /// Publishes a live session on the demo site through the admin API, announced from now,
    /// starting and ending `starts_in` / `ends_in` ms from now.
    pub fn publish_session(&self, id: &str, title: &str, starts_in: i64, ends_in: i64) -> Result {
        let now = now_ms();
        let session = serde_json::json!({
            "id": id, "title": title, "topic": "orders", "host": "Sam",
            "announce_from": now - 1_000, "starts_at": now + starts_in, "ends_at": now + ends_in,
            "join_url": format!("https://northwind.example/live/{id}")
        });
        let res = self.admin(
            "PUT",
            &format!("/v1/admin/sites/demo/sessions/{id}"),
            &session.to_string(),
        )?;
        if res.status != 201 {
            return Err(format!("publish session {id}: {} {}", res.status, res.body));
        }
        Ok(())
    }

    /// The host's view of live session `session`'s room (`GET
    /// /v1/admin/sites/{site}/live/{session}`: questions with hidden ones' text, `watching`).
    pub fn host_view(&self, site: &str, session: &str) -> Result<serde_json::Value> {
        let res = self.admin("GET", &format!("/v1/admin/sites/{site}/live/{session}"), "")?;
        if res.status != 200 {
            return Err(format!("live room {session}: {} {}", res.status, res.body));
        }
        serde_json::from_str(&res.body).map_err(|e| format!("{e}: {}", res.body))
    }

    /// A poll's exact results through the admin API.
    pub fn poll_results(&self, site: &str, poll: &str) -> Result<serde_json::Value> {
        let res = self.admin(
            "GET",
            &format!("/v1/admin/sites/{site}/polls/{poll}/results"),
            "",
        )?;
        if res.status != 200 {
            return Err(format!("results of {poll}: {} {}", res.status, res.body));
        }
        serde_json::from_str(&res.body).map_err(|e| format!("{e}: {}", res.body))
    }

    /// Waits until `read` gives `expected`, then checks it still does a moment later: what
    /// visitors write reaches D1 through the ingestion queue (batches of up to 100, waiting
    /// at most 1 s for one to fill), so operators' reads are eventually consistent. Fails
    /// with the last value read after `timeout`, or if the value moves on past `expected`
    /// (something counted twice).
    pub fn eventually<T: PartialEq + std::fmt::Debug>(
        &self,
        what: &str,
        expected: T,
        timeout: std::time::Duration,
        mut read: impl FnMut() -> Result<T>,
    ) -> Result {
        let start = std::time::Instant::now();
        loop {
            let got = read()?;
            if got == expected {
                break;
            }
            if start.elapsed() > timeout {
                return Err(format!(
                    "{what}: still {got:?} after {timeout:?}, expected {expected:?}"
                ));
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        std::thread::sleep(std::time::Duration::from_millis(1_500));
        let again = read()?;
        if again != expected {
            return Err(format!(
                "{what}: reached {expected:?}, then became {again:?}"
            ));
        }
        Ok(())
    }

    /// [`Stack::poll_results`] once the queue has applied `total` responses (see
    /// [`Stack::eventually`]).
    pub fn poll_results_when(
        &self,
        site: &str,
        poll: &str,
        total: u64,
    ) -> Result<serde_json::Value> {
        self.eventually(
            &format!("responses to {poll}"),
            total,
            std::time::Duration::from_secs(20),
            || {
                Ok(self.poll_results(site, poll)?["total"]
                    .as_u64()
                    .unwrap_or(0))
            },
        )?;
        self.poll_results(site, poll)
    }

    /// Waits until the operators' inbox lists question `id` (it arrives through the
    /// ingestion queue).
    pub fn wait_question(&self, site: &str, id: &str) -> Result {
        self.eventually(
            &format!("question {id} in the inbox"),
            true,
            std::time::Duration::from_secs(20),
            || {
                let res = self.admin("GET", &format!("/v1/admin/sites/{site}/questions"), "")?;
                Ok(res.status == 200 && res.body.contains(id))
            },
        )
    }

    /// `GET path` on the worker: `(status, body)`.
    pub fn get(&self, path: &str) -> Result<(u16, String)> {
        xtask::wrangler::http_get(self.server.port, path)
    }
}
