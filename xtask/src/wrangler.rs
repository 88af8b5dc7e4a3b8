//! Running the worker locally with wrangler (workerd + local KV), seeding its KV, and
//! stopping everything it started.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
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
    run(command(tools)
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
    let stem = seed_stem(persist_to)?;
    migrate(tools, persist_to)?;
    if !seed.sql.is_empty() {
        let file = stem.with_extension("sql");
        std::fs::write(&file, &seed.sql).map_err(|e| format!("write {}: {e}", file.display()))?;
        run(command(tools)
            .args(["d1", "execute", D1_BINDING, "--local", "--persist-to"])
            .arg(persist_to)
            .arg("--file")
            .arg(&file)
            .env("CI", "true")
            .stdout(Stdio::null()))?;
    }
    kv_bulk_put(tools, persist_to, &stem, seed)
}

/// Writes the seed's KV entries into the local KV under `persist_to` with
/// `wrangler kv bulk put` (through `{stem}.json`).
fn kv_bulk_put(tools: &Tools, persist_to: &Path, stem: &Path, seed: &Seed) -> Result {
    let file = stem.with_extension("json");
    let json = serde_json::to_string(&seed.kv).map_err(|e| e.to_string())?;
    std::fs::write(&file, json).map_err(|e| format!("write {}: {e}", file.display()))?;
    run(command(tools)
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
    kv_bulk_put(tools, persist_to, &seed_stem(persist_to)?, seed)
}

/// Copies the directory `from` to `to`, recursively.
fn copy_tree(from: &Path, to: &Path) -> Result {
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

/// A `wrangler dev` started in the background; dropping it stops wrangler and workerd.
#[derive(Debug)]
pub struct DevServer {
    child: Child,
    pub port: u16,
    pub log: PathBuf,
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
        let mut cmd = command_in(tools, dir);
        cmd.args(dev_args(port, inspector, persist_to));
        for (name, value) in vars {
            cmd.arg("--var").arg(format!("{name}:{value}"));
        }
        cmd.stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            // Own process group, so stopping it also stops workerd.
            .process_group(0);
        println!("    $ {}  (log: {})", show(&cmd), log.display());
        let child = cmd.spawn().map_err(|e| format!("start wrangler: {e}"))?;
        let server = Self { child, port, log };
        server.wait_healthy(Duration::from_secs(60))?;
        Ok(server)
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn wait_healthy(&self, timeout: Duration) -> Result {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if http_get(self.port, "/health").is_some_and(|(status, _)| status == 200) {
                return Ok(());
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
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        stop_group(&mut self.child);
    }
}

/// An HTTP answer: status, headers (names lowercase) and body.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What wrangler dev's own proxy answers when the connection it reused to reach the worker
/// had been closed: the worker never saw the request. Workerd closes that connection after
/// the worker answers without reading a whole request body (a 413 from `Content-Length`),
/// and the proxy retries only GET and HEAD by itself.
const WRANGLER_PROXY_RETRY: &str = "Your worker restarted mid-request.";

/// A minimal HTTP/1.1 request on loopback, or `None` if nothing answered. A request wrangler
/// dev's proxy could not deliver ([`WRANGLER_PROXY_RETRY`]) is sent once more.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Option<HttpResponse> {
    let res = http_once(port, method, path, headers, body)?;
    if res.status == 503 && res.body.starts_with(WRANGLER_PROXY_RETRY) {
        return http_once(port, method, path, headers, body);
    }
    Some(res)
}

fn http_once(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Option<HttpResponse> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body.as_bytes()).ok()?;
    // Read the head, then exactly the body it announces: a server may keep the connection
    // open after a 204 or 304, so reading to the end would wait for a timeout.
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let mut lines = head.lines();
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let chunked = find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let length: Option<usize> = if status == 204 || status == 304 || method == "HEAD" {
        Some(0)
    } else {
        find("content-length").and_then(|v| v.parse().ok())
    };
    let mut body_raw = raw[head_end + 4..].to_vec();
    loop {
        let done = match length {
            Some(n) => body_raw.len() >= n,
            None if chunked => body_raw.ends_with(b"0\r\n\r\n"),
            None => false,
        };
        if done {
            break;
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => body_raw.extend_from_slice(&buf[..n]),
        }
    }
    if let Some(n) = length {
        body_raw.truncate(n);
    }
    let text = String::from_utf8_lossy(&body_raw);
    let body = if chunked {
        dechunk(&text)?
    } else {
        text.into_owned()
    };
    Some(HttpResponse {
        status,
        headers,
        body,
    })
}

/// A minimal HTTP/1.1 GET on loopback: `(status, body)`, or `None` if nothing answered.
pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    http(port, "GET", path, &[], "").map(|r| (r.status, r.body))
}

/// Decodes a chunked HTTP/1.1 body.
fn dechunk(mut rest: &str) -> Option<String> {
    let mut out = String::new();
    loop {
        let (size, after) = rest.split_once("\r\n")?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            return Some(out);
        }
        out.push_str(after.get(..size)?);
        rest = after.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dechunks_bodies() {
        assert_eq!(
            dechunk("4\r\nWiki\r\n6;x=y\r\npedia \r\n0\r\n\r\n").as_deref(),
            Some("Wikipedia ")
        );
        assert_eq!(dechunk("zz\r\n"), None);
    }
}
