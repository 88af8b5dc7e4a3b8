//! Running the worker locally with wrangler (workerd + local KV), seeding its KV, and
//! stopping everything it started.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::content::Seed;
use crate::run::{run, show, stop_group};
use crate::tools::Tools;
use crate::{Result, at};

/// A wrangler command run from `worker/` (where wrangler.toml is), offline and quiet.
pub fn command(tools: &Tools) -> Command {
    command_in(tools, &at("worker"))
}

/// A wrangler command run from `dir` (a directory with a wrangler.toml).
pub fn command_in(tools: &Tools, dir: &Path) -> Command {
    let mut cmd = Command::new(&tools.wrangler);
    cmd.current_dir(dir)
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
        .env("WRANGLER_LOG_PATH", at("target/wrangler-logs"))
        .env("NO_UPDATE_NOTIFIER", "1");
    cmd
}

/// The D1 binding name in wrangler.toml.
pub const D1_BINDING: &str = "DB";

/// Applies every migration in `worker/migrations/` to the local D1 kept under `persist_to`
/// (`wrangler d1 migrations apply --local`; already applied ones are skipped).
pub fn migrate(tools: &Tools, persist_to: &Path) -> Result {
    migrate_in(tools, &at("worker"), persist_to)
}

/// [`migrate`] for the worker whose wrangler.toml (and migrations) are in `dir`.
fn migrate_in(tools: &Tools, dir: &Path, persist_to: &Path) -> Result {
    run(command_in(tools, dir)
        .args([
            "d1",
            "migrations",
            "apply",
            D1_BINDING,
            "--local",
            "--persist-to",
        ])
        .arg(persist_to)
        // Never ask for confirmation: this is the local database.
        .env("CI", "true")
        .stdout(Stdio::null()))
}

/// Migrates the local D1 under `persist_to`, then writes `seed` into it and into the local
/// KV.
pub fn seed(tools: &Tools, persist_to: &Path, seed: &Seed) -> Result {
    seed_in(tools, &at("worker"), persist_to, seed)
}

/// [`seed`] for the worker whose wrangler.toml (and migrations) are in `dir`: an earlier
/// revision's worker gets the same content through its own migrations.
pub fn seed_in(tools: &Tools, dir: &Path, persist_to: &Path, seed: &Seed) -> Result {
    let stem = seed_stem(persist_to)?;
    migrate_in(tools, dir, persist_to)?;
    if !seed.sql.is_empty() {
        let file = stem.with_extension("sql");
        std::fs::write(&file, &seed.sql).map_err(|e| format!("write {}: {e}", file.display()))?;
        run(command_in(tools, dir)
            .args(["d1", "execute", D1_BINDING, "--local", "--persist-to"])
            .arg(persist_to)
            .arg("--file")
            .arg(&file)
            .env("CI", "true")
            .stdout(Stdio::null()))?;
    }
    kv_bulk_put(tools, dir, persist_to, &stem, seed)
}

/// Writes the seed's KV entries into the local KV under `persist_to` with
/// `wrangler kv bulk put` (through `{stem}.json`).
fn kv_bulk_put(tools: &Tools, dir: &Path, persist_to: &Path, stem: &Path, seed: &Seed) -> Result {
    let file = stem.with_extension("json");
    let json = serde_json::to_string(&seed.kv).map_err(|e| e.to_string())?;
    std::fs::write(&file, json).map_err(|e| format!("write {}: {e}", file.display()))?;
    run(command_in(tools, dir)
        .args(["kv", "bulk", "put"])
        .arg(&file)
        .args(["--binding", "GLIMPSE", "--local", "--persist-to"])
        .arg(persist_to)
        .stdout(Stdio::null()))
}

/// `target/seed/{hash of persist_to}`: where a state directory's seed files are written.
fn seed_stem(persist_to: &Path) -> Result<PathBuf> {
    let stem = at("target/seed").join(format!(
        "{:016x}",
        crate::tools::fnv1a64(persist_to.to_string_lossy().as_bytes())
    ));
    if let Some(dir) = stem.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
    }
    Ok(stem)
}

/// [`seed`] for test stacks, in a fraction of the time: the migrations are applied once by
/// `wrangler d1 migrations apply` into a template kept under `target/e2e/` (named by a hash
/// of `worker/migrations/`), each state directory starts from a copy of it, and the seed's
/// SQL is written into the copy's SQLite file directly (the local D1 is a SQLite file that
/// workerd opens only when it runs). The KV part goes through `wrangler kv bulk put`.
pub fn seed_test(tools: &Tools, persist_to: &Path, seed: &Seed) -> Result {
    let template = d1_template(tools)?;
    copy_tree(&template.join("v3/d1"), &persist_to.join("v3/d1"))?;
    if !seed.sql.is_empty() {
        let db = local_d1_file(persist_to)?;
        glimpse_worker::sqlite::Sqlite::execute_file(&db, &seed.sql)
            .map_err(|e| format!("seed {}: {e}", db.display()))?;
    }
    kv_bulk_put(
        tools,
        &at("worker"),
        persist_to,
        &seed_stem(persist_to)?,
        seed,
    )
}

/// Copies the directory `from` to `to`, recursively.
pub fn copy_tree(from: &Path, to: &Path) -> Result {
    std::fs::create_dir_all(to).map_err(|e| format!("mkdir {}: {e}", to.display()))?;
    let entries = std::fs::read_dir(from).map_err(|e| format!("read {}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("read {}: {e}", from.display()))?;
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_tree(&path, &target)?;
        } else {
            crate::run::copy(&path, &target)?;
        }
    }
    Ok(())
}

/// A local state directory whose D1 has every migration applied (made once per set of
/// migrations, by wrangler).
fn d1_template(tools: &Tools) -> Result<PathBuf> {
    let mut all = Vec::new();
    for (name, sql) in glimpse_worker::sqlite::MIGRATIONS {
        all.extend_from_slice(name.as_bytes());
        all.extend_from_slice(sql.as_bytes());
    }
    let dir = at("target/e2e").join(format!("d1-template-{:016x}", crate::tools::fnv1a64(&all)));
    let done = dir.join("migrated");
    if !done.exists() {
        // Another test process may be making it too: each makes its own, then one rename wins.
        let tmp = at("target/e2e").join(format!("d1-template-tmp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        migrate(tools, &tmp)?;
        std::fs::write(tmp.join("migrated"), "").map_err(|e| format!("stamp: {e}"))?;
        if std::fs::rename(&tmp, &dir).is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        if !done.exists() {
            return Err(format!("no migrated D1 template at {}", dir.display()));
        }
    }
    Ok(dir)
}

/// The SQLite file of the local D1 under `persist_to` (the one database wrangler.toml binds).
fn local_d1_file(persist_to: &Path) -> Result<PathBuf> {
    let dir = persist_to.join("v3/d1/miniflare-D1DatabaseObject");
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("read {}: {e}", dir.display()))?;
    entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.extension().is_some_and(|x| x == "sqlite")
                && p.file_name().is_some_and(|n| n != "metadata.sqlite")
        })
        .ok_or_else(|| format!("no D1 database file in {}", dir.display()))
}

/// An unused TCP port on 127.0.0.1.
pub fn free_port() -> Result<u16> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// The arguments of `wrangler dev` serving on `port` with local state in `persist_to`.
pub fn dev_args(port: u16, inspector_port: u16, persist_to: &Path) -> Vec<String> {
    vec![
        "dev".into(),
        "--ip".into(),
        "127.0.0.1".into(),
        "--port".into(),
        port.to_string(),
        "--inspector-port".into(),
        inspector_port.to_string(),
        "--persist-to".into(),
        persist_to.to_string_lossy().into_owned(),
        "--show-interactive-dev-session=false".into(),
        // `GET /__scheduled?cron=…` runs the cron trigger on demand (local only).
        "--test-scheduled".into(),
    ]
}

/// Reads `Total Upload: 812.34 KiB / gzip: 301.20 KiB` from `wrangler deploy --dry-run`:
/// `(raw KiB, gzip KiB)`.
pub fn parse_upload(out: &str) -> Option<(f64, f64)> {
    let line = out.lines().find(|l| l.contains("Total Upload:"))?;
    let rest = line.split("Total Upload:").nth(1)?;
    let (raw, gzip) = rest.split_once("/ gzip:")?;
    let kib = |s: &str| s.trim().strip_suffix("KiB")?.trim().parse::<f64>().ok();
    Some((kib(raw)?, kib(gzip)?))
}

/// The upload of the worker `config` (a wrangler config file name) in `dir` as
/// `wrangler deploy --dry-run` reports it: (raw KiB, gzip KiB). The bundle goes to
/// `target/dry-run/{config}` and nothing is deployed.
pub fn upload(tools: &Tools, dir: &Path, config: &str) -> Result<(f64, f64)> {
    let outdir = at("target/dry-run").join(config);
    let out = command_in(tools, dir)
        .args(["deploy", "--dry-run", "-c", config, "--outdir"])
        .arg(&outdir)
        .output()
        .map_err(|e| format!("wrangler deploy --dry-run: {e}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    parse_upload(&text)
        .ok_or_else(|| format!("no upload size in `wrangler deploy --dry-run`:\n{text}"))
}

/// Vars every local run of the workers gets (`cargo xtask dev`'s `worker/.dev.vars`, every
/// test server's): `LOCAL_DRAIN_MAX_BYTES` makes the worker read and discard unread request
/// bodies up to 100 MiB (Cloudflare's smallest plan's request limit) instead of cancelling
/// them past 64 KiB, because `wrangler dev`'s proxy cannot reuse its connection after a
/// cancelled body and answers the next write with its own 503 (worker/src/edge.rs
/// `local_drain_max`).
pub const LOCAL_VARS: &[(&str, &str)] = &[("LOCAL_DRAIN_MAX_BYTES", "104857600")];

/// Copies of `dir`'s two wrangler configs under `target/wrangler-configs/{port}/`, their
/// relative paths (`main`, the assets `directory`, `migrations_dir`) made absolute, beside a
/// `.dev.vars` with [`LOCAL_VARS`], `dir`'s own `.dev.vars` (if any) and then `vars`
/// (a later line wins): wrangler reads a
/// `.dev.vars` next to each config, for every worker of the session.
fn instance_configs(dir: &Path, port: u16, vars: &[(&str, &str)]) -> Result<PathBuf> {
    let to = at("target/wrangler-configs").join(port.to_string());
    std::fs::create_dir_all(&to).map_err(|e| format!("mkdir {}: {e}", to.display()))?;
    for name in ["wrangler.toml", crate::build::OPERATORS_CONFIG] {
        let text = std::fs::read_to_string(dir.join(name))
            .map_err(|e| format!("read {}: {e}", dir.join(name).display()))?;
        std::fs::write(to.join(name), absolute_paths(&text, dir)?)
            .map_err(|e| format!("write {}: {e}", to.join(name).display()))?;
    }
    // The local vars first: `dir`'s own `.dev.vars`, then `vars`, may say otherwise.
    let mut dev_vars = dev_vars_lines(LOCAL_VARS)?;
    dev_vars.push_str(&std::fs::read_to_string(dir.join(".dev.vars")).unwrap_or_default());
    if !dev_vars.ends_with('\n') {
        dev_vars.push('\n');
    }
    dev_vars.push_str(&dev_vars_lines(vars)?);
    std::fs::write(to.join(".dev.vars"), dev_vars)
        .map_err(|e| format!("write {}: {e}", to.join(".dev.vars").display()))?;
    Ok(to)
}

/// `text` (a wrangler config) with its relative paths — `main`, `[assets] directory`, every
/// `[[d1_databases]] migrations_dir` — resolved against `dir`, re-serialised by the `toml`
/// crate (comments are not kept: the copy is generated). Errors: `text` is not TOML.
fn absolute_paths(text: &str, dir: &Path) -> Result<String> {
    let mut config: toml::Table = text.parse().map_err(|e| format!("wrangler config: {e}"))?;
    let absolute = |value: &mut toml::Value| {
        if let Some(path) = value.as_str()
            && !Path::new(path).is_absolute()
        {
            *value = toml::Value::String(dir.join(path).to_string_lossy().into_owned());
        }
    };
    if let Some(main) = config.get_mut("main") {
        absolute(main);
    }
    if let Some(directory) = config
        .get_mut("assets")
        .and_then(|a| a.as_table_mut())
        .and_then(|a| a.get_mut("directory"))
    {
        absolute(directory);
    }
    for db in config
        .get_mut("d1_databases")
        .and_then(|d| d.as_array_mut())
        .into_iter()
        .flatten()
    {
        if let Some(migrations) = db.as_table_mut().and_then(|t| t.get_mut("migrations_dir")) {
            absolute(migrations);
        }
    }
    toml::to_string(&config).map_err(|e| format!("wrangler config: {e}"))
}

/// `.dev.vars` lines for `vars`, double-quoted: a value that would need escaping (a quote, a
/// backslash, a line break) is refused rather than guessed at.
fn dev_vars_lines(vars: &[(&str, &str)]) -> Result<String> {
    let mut out = String::new();
    for (name, value) in vars {
        if value.contains(['"', '\\', '\n', '\r']) {
            return Err(format!(
                "{name}: a .dev.vars value may not contain quotes, backslashes or line breaks"
            ));
        }
        out.push_str(&format!("{name}=\"{value}\"\n"));
    }
    Ok(out)
}

/// A `wrangler dev` started in the background; dropping it stops wrangler and workerd.
#[derive(Debug)]
pub struct DevServer {
    child: Child,
    pub port: u16,
    pub log: PathBuf,
    /// This instance's copies of the configs ([`instance_configs`]), removed once it stops.
    configs: Option<PathBuf>,
}

impl DevServer {
    /// Starts `wrangler dev` on a free port with extra `vars` (`ADMIN_TOKEN`, limits) and
    /// waits until `/health` answers.
    pub fn start(tools: &Tools, persist_to: &Path, vars: &[(&str, &str)]) -> Result<Self> {
        Self::start_in(tools, &at("worker"), persist_to, vars)
    }

    /// [`DevServer::start`] for the worker whose wrangler.toml is in `dir`.
    pub fn start_in(
        tools: &Tools,
        dir: &Path,
        persist_to: &Path,
        vars: &[(&str, &str)],
    ) -> Result<Self> {
        Self::start_at(tools, dir, persist_to, vars, free_port()?)
    }

    /// [`DevServer::start_in`] on a given port (to restart a stopped server where its pages
    /// expect it).
    pub fn start_at(
        tools: &Tools,
        dir: &Path,
        persist_to: &Path,
        vars: &[(&str, &str)],
        port: u16,
    ) -> Result<Self> {
        let inspector = free_port()?;
        let log = at("target/e2e").join(format!("wrangler-{port}.log"));
        if let Some(dir) = log.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("mkdir: {e}"))?;
        }
        let out = std::fs::File::create(&log).map_err(|e| format!("create log: {e}"))?;
        let err = out.try_clone().map_err(|e| format!("log: {e}"))?;
        let mut configs = None;
        let mut cmd = if dir.join(crate::build::OPERATORS_CONFIG).exists() {
            // Both workers in one session (the visitors' serves, the operators' answers its
            // service binding and the queue). `--var` reaches only the first, so each instance
            // gets its own copy of the configs with a `.dev.vars` holding `vars`.
            let copies = instance_configs(dir, port, vars)?;
            let mut cmd = command_in(tools, &copies);
            cmd.args(["-c", "wrangler.toml", "-c", crate::build::OPERATORS_CONFIG]);
            configs = Some(copies);
            cmd
        } else {
            let mut cmd = command_in(tools, dir);
            for (name, value) in LOCAL_VARS.iter().chain(vars) {
                cmd.arg("--var").arg(format!("{name}:{value}"));
            }
            cmd
        };
        cmd.args(dev_args(port, inspector, persist_to));
        cmd.stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            // Own process group, so stopping it also stops workerd.
            .process_group(0);
        println!("    $ {}  (log: {})", show(&cmd), log.display());
        let child = match cmd.spawn() {
            Ok(child) => child,
            Err(e) => {
                if let Some(copies) = &configs {
                    let _ = std::fs::remove_dir_all(copies);
                }
                return Err(format!("start wrangler: {e}"));
            }
        };
        let mut server = Self {
            child,
            port,
            log,
            configs,
        };
        server.wait_healthy(Duration::from_secs(60))?;
        Ok(server)
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Waits until `/health` answers 200; fails at once if wrangler exits first (a missing
    /// build, a bad config), with its log.
    fn wait_healthy(&mut self, timeout: Duration) -> Result {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if http_get(self.port, "/health").is_ok_and(|(status, _)| status == 200) {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                return Err(format!(
                    "wrangler dev exited ({status}) before answering /health; its log:\n{log}"
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        Err(format!(
            "wrangler dev did not answer /health within {timeout:?}; its log:\n{log}"
        ))
    }
}

impl DevServer {
    /// Stops wrangler and workerd now (dropping does the same).
    pub fn stop(&mut self) {
        stop_group(&mut self.child);
        if let Some(copies) = self.configs.take() {
            let _ = std::fs::remove_dir_all(copies);
        }
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An HTTP answer as the harness inspects it: any status (4xx and 5xx included), the
/// headers and the body as text.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: ureq::http::HeaderMap,
    pub body: String,
}

impl HttpResponse {
    /// The first value of the header `name` (any case), if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What wrangler dev's own proxy answers when the connection it reused to reach the worker
/// had been closed: the worker never saw the request. Workerd closes that connection after
/// the worker answers without reading a whole request body (a 413 from `Content-Length`),
/// and the proxy retries only GET and HEAD by itself.
const WRANGLER_PROXY_RETRY: &str = "Your worker restarted mid-request.";

/// How long one read or write may wait: a worker that stops answering fails the request.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// The client for requests to a local worker: every status is an answer (callers check
/// 4xx and 5xx themselves), no redirect is followed, no proxy from the environment, any
/// method (the contract tests send `PROPFIND`, `QUERY`…), no `User-Agent` or `Accept` of
/// its own, and [`IO_TIMEOUT`] on each read and write.
fn loopback_agent() -> &'static ureq::Agent {
    static AGENT: std::sync::OnceLock<ureq::Agent> = std::sync::OnceLock::new();
    AGENT.get_or_init(|| {
        ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .proxy(None)
                .allow_non_standard_methods(true)
                .user_agent("")
                .accept("")
                .timeout_connect(Some(IO_TIMEOUT))
                .timeout_per_read(Some(IO_TIMEOUT))
                .timeout_per_write(Some(IO_TIMEOUT))
                .build(),
        )
    })
}

/// `method path` with `headers` and `body` on the worker at `127.0.0.1:port`. Any status is
/// an answer; `Err` says why there was none. A request wrangler dev's proxy could not
/// deliver ([`WRANGLER_PROXY_RETRY`]) is sent again, up to [`PROXY_RETRIES`] times: the proxy
/// may hold more than one such closed connection (CI saw two in a row on a slow machine).
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<HttpResponse> {
    let mut res = http_once(port, method, path, headers, body)?;
    for attempt in 1..=PROXY_RETRIES {
        if !(res.status == 503 && res.body.starts_with(WRANGLER_PROXY_RETRY)) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50 * u64::from(attempt)));
        res = http_once(port, method, path, headers, body)?;
    }
    Ok(res)
}

/// How many times [`http`] sends a request again that wrangler dev's proxy could not deliver.
const PROXY_RETRIES: u32 = 4;

/// [`http`] without its retries: one request, one answer (a 503 of wrangler dev's proxy
/// included).
pub fn http_once(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<HttpResponse> {
    let what = |e: &dyn std::fmt::Display| format!("{method} {path} on port {port}: {e}");
    let mut req = ureq::http::Request::builder()
        .method(method)
        .uri(format!("http://127.0.0.1:{port}{path}"))
        // One connection per request, as before: a restarted worker on the same port never
        // meets a stale pooled connection.
        .header("connection", "close");
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let req = req.body(body).map_err(|e| what(&e))?;
    let res = loopback_agent().run(req).map_err(|e| what(&e))?;
    let (parts, mut res_body) = res.into_parts();
    let bytes = res_body
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()
        .map_err(|e| what(&e))?;
    Ok(HttpResponse {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

/// `GET path` on the worker at `127.0.0.1:port`: `(status, body)`.
pub fn http_get(port: u16, path: &str) -> Result<(u16, String)> {
    http(port, "GET", path, &[], "").map(|r| (r.status, r.body))
}

#[cfg(test)]
mod tests {

    #[test]
    fn instance_configs_point_back_at_the_worker() -> crate::Result {
        let text = "name = \"glimpse\"\nmain = \"build/worker/shim.mjs\"\n# a comment\n[assets]\ndirectory = \"assets\"\nrun_worker_first = [\"/v1/*\"]\n[[d1_databases]]\nbinding = \"DB\"\nmigrations_dir = \"migrations\"\n[[services]]\nservice = \"x\"\n";
        let out: toml::Table = super::absolute_paths(text, std::path::Path::new("/w/worker"))?
            .parse()
            .map_err(|e| format!("{e}"))?;
        assert_eq!(
            out["main"].as_str(),
            Some("/w/worker/build/worker/shim.mjs")
        );
        assert_eq!(
            out["assets"]["directory"].as_str(),
            Some("/w/worker/assets")
        );
        assert_eq!(out["assets"]["run_worker_first"][0].as_str(), Some("/v1/*"));
        assert_eq!(
            out["d1_databases"][0]["migrations_dir"].as_str(),
            Some("/w/worker/migrations")
        );
        assert_eq!(out["services"][0]["service"].as_str(), Some("x"));
        let already = "main = \"/abs/x.mjs\"\n";
        assert!(
            super::absolute_paths(already, std::path::Path::new("/w"))?.contains("\"/abs/x.mjs\"")
        );
        assert!(super::absolute_paths("main = ", std::path::Path::new("/w")).is_err());
        Ok(())
    }

    #[test]
    fn dev_vars_are_quoted_and_unquotable_values_refused() {
        assert_eq!(
            super::dev_vars_lines(&[("ADMIN_TOKEN", "abc123"), ("RATE_LIMIT_PER_MINUTE", "0")])
                .ok()
                .as_deref(),
            Some("ADMIN_TOKEN=\"abc123\"\nRATE_LIMIT_PER_MINUTE=\"0\"\n")
        );
        assert!(super::dev_vars_lines(&[("X", "a\"b")]).is_err());
        assert!(super::dev_vars_lines(&[("X", "a\nb")]).is_err());
    }

    /// The operators' worker reads and writes the visitors' storage: the two configs name the
    /// same KV namespace, D1 database and queue, and the same vars, or a deploy splits the
    /// data in two.
    #[test]
    fn both_workers_share_their_storage_and_vars() -> crate::Result {
        let read = |name: &str| -> crate::Result<toml::Table> {
            std::fs::read_to_string(crate::at("worker").join(name))
                .map_err(|e| format!("{name}: {e}"))?
                .parse()
                .map_err(|e| format!("{name}: {e}"))
        };
        let visitors = read("wrangler.toml")?;
        let operators = read(crate::build::OPERATORS_CONFIG)?;
        for key in ["kv_namespaces", "d1_databases", "vars", "ratelimits"] {
            assert_eq!(visitors.get(key), operators.get(key), "{key}");
        }
        // Every queue the visitors' worker sends to, the operators' worker sends to under the
        // same binding (it also has its own: webhook deliveries).
        let producers = |t: &toml::Table| -> Vec<toml::Value> {
            t["queues"]["producers"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        };
        let theirs = producers(&operators);
        for p in producers(&visitors) {
            assert!(
                theirs.contains(&p),
                "queue producer {p} is not the operators' too"
            );
        }
        assert!(
            theirs
                .iter()
                .any(|p| p["binding"].as_str() == Some("WEBHOOKS")),
            "the operators' worker sends webhook deliveries"
        );
        assert_eq!(
            visitors["services"][0]["service"].as_str(),
            operators["name"].as_str(),
            "the visitors' OPERATORS binding names the operators' worker"
        );
        assert!(operators.get("assets").is_none() && visitors["queues"].get("consumers").is_none());
        Ok(())
    }

    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};

    /// A server on a free port that takes one connection per reply, reads its request (head
    /// and a `Content-Length` body), answers with the reply, keeps the connection open for
    /// `linger`, and returns the requests it read.
    fn serve(
        replies: &'static [&'static str],
        linger: Duration,
    ) -> (u16, std::thread::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let handle = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for reply in replies {
                let (stream, _) = listener.accept().expect("accept");
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut head = String::new();
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).expect("read");
                    head.push_str(&line);
                    if line == "\r\n" || line.is_empty() {
                        break;
                    }
                }
                let length = head
                    .to_ascii_lowercase()
                    .lines()
                    .find_map(|l| {
                        l.strip_prefix("content-length:")
                            .map(|v| v.trim().to_string())
                    })
                    .and_then(|v| v.parse::<usize>().ok())
                    .unwrap_or(0);
                let mut body = vec![0; length];
                reader.read_exact(&mut body).expect("body");
                (&stream).write_all(reply.as_bytes()).expect("reply");
                std::thread::sleep(linger);
                seen.push(head + &String::from_utf8_lossy(&body));
            }
            seen
        });
        (port, handle)
    }

    #[test]
    fn an_error_status_is_an_answer_with_its_headers_and_body() {
        let (port, server) = serve(
            &["HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\n\
               Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n\
               4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n"],
            Duration::ZERO,
        );
        let res = http(
            port,
            "PROPFIND",
            "/v1/x?y=1",
            &[("origin", "http://127.0.0.1:8787")],
            "{}",
        )
        .expect("an answer");
        assert_eq!(res.status, 405);
        assert_eq!(res.header("allow"), Some("GET, HEAD"));
        assert_eq!(res.header("Content-Type"), Some("application/json"));
        assert_eq!(res.body, "{\"a\":1}");
        let sent = server.join().expect("server").concat();
        let lower = sent.to_ascii_lowercase();
        assert!(
            sent.starts_with("PROPFIND /v1/x?y=1 HTTP/1.1\r\n"),
            "{sent}"
        );
        assert!(
            lower.contains("origin: http://127.0.0.1:8787\r\n"),
            "{sent}"
        );
        assert!(lower.contains("content-length: 2\r\n"), "{sent}");
        assert!(!lower.contains("user-agent"), "{sent}");
        assert!(sent.ends_with("\r\n\r\n{}"), "{sent}");
    }

    #[test]
    fn an_answer_ends_with_its_body_not_with_the_connection() {
        let (port, server) = serve(
            &[
                "HTTP/1.1 204 No Content\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            ],
            Duration::from_secs(2),
        );
        let started = Instant::now();
        let res = http(port, "OPTIONS", "/", &[], "").expect("an answer");
        assert_eq!((res.status, res.body.as_str()), (204, ""));
        assert_eq!(http_get(port, "/health"), Ok((200, "ok".to_string())));
        assert!(
            started.elapsed() < Duration::from_millis(3_500),
            "{:?}",
            started.elapsed()
        );
        server.join().expect("server");
    }

    #[test]
    fn a_request_wrangler_could_not_deliver_is_sent_again() {
        let (port, server) = serve(
            &[
                "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 34\r\n\r\n\
                 Your worker restarted mid-request.",
                "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n",
            ],
            Duration::ZERO,
        );
        let res = http(port, "POST", "/v1/sites/demo/events", &[], "{}").expect("an answer");
        assert_eq!(res.status, 202);
        assert_eq!(server.join().expect("server").len(), 2);
    }

    #[test]
    fn nothing_listening_is_an_error_saying_where() {
        let port = free_port().expect("port");
        let err = http_get(port, "/health").expect_err("no server");
        assert!(
            err.starts_with(&format!("GET /health on port {port}: ")),
            "{err}"
        );
    }
}
