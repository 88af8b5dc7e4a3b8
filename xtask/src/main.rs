//! `cargo xtask <command>`: every build, dev and test step of Glimpse.

use std::io::{BufRead, BufReader};
use std::process::{Command, ExitCode, Stdio};

use xtask::content::KvEntries;
use xtask::run::{cargo, run, show, step};
use xtask::tools::{self, Tools};
use xtask::{Result, at, build, content, now_ms, wrangler};

const HELP: &str = "\
cargo xtask <command>

  setup          install the pinned toolchain (wasm32 target, wasm-bindgen-cli, worker-build,
                 npm packages, Chromium) — only what is missing
  build          build the widget bundle and the worker into worker/assets and worker/build;
                 a step whose inputs (sources, Cargo.lock, tools, by SHA-256) and outputs are
                 as it left them is skipped and says so — `--rebuild` (also with dev, test,
                 size, api-test, bench, screenshots) runs every step
  dev [--fresh]  setup + build + seed the demo content + wrangler dev on http://127.0.0.1:8787
                 (local KV persists across restarts; --fresh wipes it first)
  size           build the widget and print what loads before any interaction and every
                 lazy chunk (raw/gzip/brotli); fails when the first download is over budget
                 (`--built`: measure the current build without building)
  keep-live URL  before a deploy: copy the widget builds the live deployment at URL serves
                 (its /glimpse-builds.json) into worker/assets/glimpse, so pages opened before
                 the deploy still load their lazy chunks (the last 3 builds are kept)
  test           fmt, clippy (host + wasm32), native tests, widget tests in headless Chromium,
                 the end-to-end suite against wrangler dev, then the API contract (api-test)
  api-test       the API contract alone: builds the worker, then Schemathesis (pinned) with
                 every check against wrangler dev seeded with the demo site (also run by test)
  soak [SECS]    the slow suites: every cargo-fuzz target (nightly) for SECS seconds each
                 (default 60); installs cargo-fuzz when missing
  screenshots    build, run the e2e test that photographs the widget and the console
                 (e2e/tests/screenshots.rs) and refresh the README's docs/screenshots/*.png
  bench [--before REV]
                 sizes, worker throughput/latency against a trivial workers-rs handler set
                 up like Glimpse's (wrk: feed, /health, vote and event writes), browser
                 timings and long tasks (Chromium, 1x and 4x CPU throttling), worker upload
                 size, main-thread cost and requests of a text, picture and video slide;
                 prints each part as it ends and writes it to target/bench/results.json
                 (a part that fails is recorded as its error, the rest still run, and the
                 command fails at the end). --before REV also builds REV's worker (once,
                 in a git worktree under target/bench/) and measures it beside today's;
                 without it, no before column
  bench --slides only the per-slide rows (no wrk, no baseline worker)
  bench --live [--viewers N]
                 live Q&A fan-out: N (default 2,000) WebSocket viewers on one session's
                 room, the host's changes timed to every viewer (p50/p95/p99), workerd's
                 memory; written to target/bench/live.json
  rebuild-d1 --api URL --site ID
                 bring a site's data from 0.14 (KV only) into D1: repeats
                 POST URL/v1/admin/sites/ID/rebuild until done (token: $GLIMPSE_ADMIN_TOKEN,
                 else worker/.dev.vars); safe to run again
";

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    // Read by every build step (xtask::cache::Cache::for_this_run), whatever the command.
    args.retain(|a| a != xtask::cache::REBUILD);
    let result = match args.first().map(String::as_str) {
        Some("setup") => tools::setup().map(|_| ()),
        Some("build") => tools::setup_for(tools::Need::Build).and_then(|t| build::build_all(&t)),
        Some("dev") => dev(args.iter().any(|a| a == "--fresh")),
        Some("test") => test(),
        Some("api-test") => api_test(),
        Some("size") => size(args.iter().any(|a| a == "--built")),
        Some("bench") => bench(&args[1..]),
        Some("screenshots") => screenshots(),
        Some("soak") => soak(args.get(1).map(String::as_str)),
        Some("rebuild-d1") => rebuild_d1(&args[1..]),
        Some("keep-live") => keep_live(args.get(1).map(String::as_str)),
        Some("help" | "--help" | "-h") | None => {
            print!("{HELP}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command {other:?}\n\n{HELP}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nerror: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Builds everything, seeds the demo site and serves it on http://127.0.0.1:8787.
fn dev(fresh: bool) -> Result {
    // Seeding writes the local D1's file directly: nothing may be serving from it.
    if std::net::TcpListener::bind(("127.0.0.1", DEV_PORT)).is_err() {
        return Err(format!(
            "127.0.0.1:{DEV_PORT} is in use (another `cargo xtask dev`?): stop it first"
        ));
    }
    let tools = tools::setup_for(tools::Need::Build)?;
    build::build_all(&tools)?;
    let persist = at("worker/.wrangler/state");
    if fresh {
        step(
            "wipe local KV state (--fresh)",
            || match std::fs::remove_dir_all(&persist) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(format!("remove {}: {e}", persist.display())),
            },
        )?;
    }
    step(
        "migrate the local D1, seed demo content (demo/content) into local KV and D1",
        || {
            let now = now_ms();
            let demo = content::load_dir(&at("demo/content"), now)?;
            println!("    {}", demo.summary());
            xtask::local::seed(&tools, &persist, &demo.seed(now)?)
        },
    )?;
    let token = xtask::local_admin_token()?;
    let inspector = wrangler::free_port()?;
    let url = format!("http://127.0.0.1:{DEV_PORT}");
    println!("\n==> Glimpse is starting on {url} (demo site; Ctrl-C stops it)");
    println!("    health: {url}/health");
    println!("    operators' console: {url}/admin/ (sign in with the token below)");
    println!("    admin API token (worker/.dev.vars): {token}");
    println!("    try: curl -H 'Authorization: Bearer {token}' {url}/v1/admin/sites/demo\n");
    // Both workers in one session: the visitors' serves, the operators' answers /v1/admin
    // through its service binding and consumes the queue (worker/.dev.vars serves both).
    run(wrangler::command(&tools)
        .args(["-c", "wrangler.toml", "-c", build::OPERATORS_CONFIG])
        .args(wrangler::dev_args(DEV_PORT, inspector, &persist)))
}

/// Where `cargo xtask dev` serves.
const DEV_PORT: u16 = 8787;

/// `cargo xtask rebuild-d1 --api URL --site ID`: runs the KV → D1 rebuild of one site
/// (`POST /v1/admin/sites/{site}/rebuild`) step by step until it answers `done`, waiting a
/// moment whenever a step waits for the queue. Uses `curl`; the token is sent on its
/// standard input, never on the command line.
fn rebuild_d1(args: &[String]) -> Result {
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
            .ok_or_else(|| format!("{name} is required\n\n{HELP}"))
    };
    let api = flag("--api")?.trim_end_matches('/').to_string();
    let site = flag("--site")?;
    if !glimpse_shared::ids::is_slug(&site) {
        return Err(format!("--site {site:?} is not a site id"));
    }
    let token = match std::env::var("GLIMPSE_ADMIN_TOKEN") {
        Ok(t) if !t.is_empty() => t,
        _ => xtask::local_admin_token()?,
    };
    let mut cursor: Option<String> = None;
    let (mut steps, mut waits, mut sent, mut rows) = (0u64, 0u32, 0u64, 0u64);
    loop {
        let url = match &cursor {
            Some(c) => format!("{api}/v1/admin/sites/{site}/rebuild?cursor={}", encode(c)),
            None => format!("{api}/v1/admin/sites/{site}/rebuild"),
        };
        let mut child = Command::new("curl")
            .args(["-sS", "--fail-with-body", "-X", "POST", "-H", "@-", &url])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("curl: {e}"))?;
        if let Some(mut stdin) = child.stdin.take() {
            use std::io::Write;
            writeln!(stdin, "Authorization: Bearer {token}").map_err(|e| format!("curl: {e}"))?;
        }
        let out = child.wait_with_output().map_err(|e| format!("curl: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        if !out.status.success() {
            return Err(format!("rebuild step {steps} failed: {text}"));
        }
        let step: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("not JSON ({e}): {text}"))?;
        steps += 1;
        sent += step["sent"].as_u64().unwrap_or(0);
        rows += step["rows"].as_u64().unwrap_or(0);
        if step["done"] == true {
            println!(
                "rebuild of {site}: done in {steps} steps ({sent} messages queued, {rows} rows written)"
            );
            return Ok(());
        }
        if step["waiting"] == true {
            waits += 1;
            if waits > 150 {
                return Err("replies have waited 5 minutes for their questions: is the queue consumer running?".into());
            }
            std::thread::sleep(std::time::Duration::from_secs(2));
        } else {
            waits = 0;
        }
        cursor = step["cursor"].as_str().map(String::from);
        if cursor.is_none() {
            return Err(format!("a step without a cursor: {text}"));
        }
    }
}

/// Percent-encodes a query value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The API contract test alone (`worker/openapi.json` vs the worker): builds what it
/// serves, then runs [`xtask::contract::api_test`].
fn api_test() -> Result {
    let tools = tools::setup()?;
    if xtask::at("worker/assets/widget.js").exists() {
        // The API is the worker's: its static assets need not be rebuilt for this.
        build::worker(&tools)?;
    } else {
        build::build_all(&tools)?;
    }
    xtask::contract::api_test(&tools)
}

/// Builds the widget bundle and checks its weight against the budgets.
fn size(built: bool) -> Result {
    let dir = if built {
        xtask::size::current_bundle_dir()?
    } else {
        let tools = tools::setup()?;
        let bundle = build::widget(&tools)?;
        build::loader(&tools, &bundle)?;
        bundle.dir
    };
    step("widget size (raw / gzip / brotli q11)", || {
        xtask::size::check(&xtask::size::measure_widget(&dir)?)
    })?;
    step("worker upload (wrangler deploy --dry-run)", || {
        let tools = tools::setup()?;
        build::worker(&tools)?;
        let worker = at("worker");
        for (config, what) in [
            ("wrangler.toml", "glimpse (visitors' worker)"),
            (build::OPERATORS_CONFIG, "glimpse-operators"),
        ] {
            let (raw, gzip) = xtask::wrangler::upload(&tools, &worker, config)?;
            println!("    {what:<28} {raw:>9.2} KiB raw {gzip:>9.2} KiB gzip");
            // The visitors' worker starts on visitors' requests: it keeps the budget.
            if config == "wrangler.toml" && gzip > xtask::size::WORKER_UPLOAD_MAX_KIB {
                return Err(format!(
                    "the visitors' worker uploads {gzip:.2} KiB gzip, over its {} KiB budget",
                    xtask::size::WORKER_UPLOAD_MAX_KIB
                ));
            }
        }
        Ok(())
    })
}

/// Copies the live deployment's widget builds into the assets (see `xtask::keep`).
fn keep_live(url: Option<&str>) -> Result {
    let url = url.ok_or("usage: cargo xtask keep-live https://YOUR-WORKER.example")?;
    let glimpse = build::assets_dir().join("glimpse");
    std::fs::create_dir_all(&glimpse).map_err(|e| format!("mkdir {}: {e}", glimpse.display()))?;
    let copied = step(&format!("copy the widget builds {url} serves"), || {
        xtask::keep::fetch_live(url, &glimpse)
    })?;
    if copied.is_empty() {
        println!("    nothing to copy (already here, or a deployment without glimpse-builds.json)");
    } else {
        println!("    kept: {}", copied.join(", "));
    }
    Ok(())
}

/// `cargo xtask bench [--slides] [--before REV]`, as parsed.
#[derive(Debug, PartialEq)]
struct BenchArgs {
    slides_only: bool,
    before: Option<String>,
    /// `--live`: only the live room's fan-out, with this many viewers.
    live: Option<usize>,
}

fn bench_args(args: &[String]) -> Result<BenchArgs> {
    let mut parsed = BenchArgs {
        slides_only: false,
        before: None,
        live: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--slides" => parsed.slides_only = true,
            "--live" => parsed.live = Some(parsed.live.unwrap_or(2_000)),
            "--viewers" => match it.next().and_then(|n| n.parse::<usize>().ok()) {
                Some(n) if n > 0 => parsed.live = Some(n),
                _ => return Err(format!("--viewers takes a positive number\n\n{HELP}")),
            },
            "--before" => match it.next() {
                Some(rev) if !rev.starts_with('-') => parsed.before = Some(rev.clone()),
                _ => return Err(format!("--before takes a git revision\n\n{HELP}")),
            },
            other => return Err(format!("bench: unknown argument {other:?}\n\n{HELP}")),
        }
    }
    if parsed.slides_only && parsed.before.is_some() {
        return Err("--slides measures no worker: it takes no --before".into());
    }
    if parsed.live.is_some() && (parsed.slides_only || parsed.before.is_some()) {
        return Err("--live runs alone: no --slides, no --before".into());
    }
    Ok(parsed)
}

/// Builds everything plus the trivial baseline worker (and with `--before REV` that
/// revision's worker), then runs the measurements (`e2e/src/bin/bench.rs`). Not part of
/// `test`: numbers are reported, never asserted. A baseline or earlier worker that fails to
/// build is reported by the bench in its place (the other parts still run), and the
/// command then fails.
fn bench(args: &[String]) -> Result {
    let args = bench_args(args)?;
    let tools = tools::setup()?;
    build::build_all(&tools)?;
    if let Some(viewers) = args.live {
        let viewers = viewers.to_string();
        return step("measure the live room's fan-out", || {
            run(cargo().args([
                "run",
                "--quiet",
                "--release",
                "--package",
                "glimpse-e2e",
                "--bin",
                "bench",
                "--",
                "--live",
                "--viewers",
                &viewers,
            ]))
        });
    }
    if args.slides_only {
        return step("measure one text, picture and video slide", || {
            run(cargo().args([
                "run",
                "--quiet",
                "--package",
                "glimpse-e2e",
                "--bin",
                "bench",
                "--",
                "--slides",
            ]))
        });
    }
    let wrk = tools::wrk()?;
    let mut measure = cargo();
    measure
        .args([
            "run",
            "--quiet",
            "--package",
            "glimpse-e2e",
            "--bin",
            "bench",
        ])
        .env("GLIMPSE_WRK", wrk);
    // The trivial baseline worker, skipped like Glimpse's when its inputs are unchanged.
    if let Err(e) = build::worker_in(&tools, "trivial", &at("bench/trivial")) {
        measure.env("GLIMPSE_BENCH_TRIVIAL_ERROR", e);
    }
    if let Some(rev) = &args.before {
        match step(
            &format!("the worker of {rev}, measured beside today's (--before)"),
            || xtask::before::prepare(&tools, rev),
        ) {
            Ok(before) => {
                measure
                    .env("GLIMPSE_BENCH_BEFORE", &before.worker_dir)
                    .env("GLIMPSE_BENCH_BEFORE_REV", &before.rev)
                    .env("GLIMPSE_BENCH_BEFORE_COMMIT", &before.commit);
            }
            Err(e) => {
                measure
                    .env("GLIMPSE_BENCH_BEFORE_REV", rev)
                    .env("GLIMPSE_BENCH_BEFORE_ERROR", e);
            }
        }
    }
    step("measure", || run(&mut measure))
}

/// Refreshes the README's screenshots from a real e2e run.
fn screenshots() -> Result {
    let tools = tools::setup()?;
    build::build_all(&tools)?;
    step(
        "photograph the widget and the console (e2e/tests/screenshots.rs)",
        || {
            run(cargo().args([
                "test",
                "--package",
                "glimpse-e2e",
                "--test",
                "screenshots",
                "--",
                "--ignored",
                "--test-threads",
                "1",
            ]))
        },
    )?;
    step(
        "optimise into docs/screenshots/",
        xtask::media::optimise_screenshots,
    )
}

/// Runs every fuzz target in `fuzz/` for a bounded time (nightly + cargo-fuzz); a crash
/// fails the step and libFuzzer leaves the input under `fuzz/artifacts/`.
fn soak(secs: Option<&str>) -> Result {
    let secs: u32 = secs
        .unwrap_or("60")
        .parse()
        .map_err(|_| "soak takes the seconds per target, e.g. `cargo xtask soak 300`")?;
    let cargo_fuzz = tools::cargo_fuzz()?;
    for target in ["content", "text", "request"] {
        step(&format!("fuzz {target} for {secs}s"), || {
            run(Command::new(&cargo_fuzz)
                .args(["fuzz", "run", target, "--"])
                .arg(format!("-max_total_time={secs}"))
                .current_dir(xtask::root())
                .env("RUSTUP_TOOLCHAIN", "nightly")
                .env_remove("CARGO")
                .env_remove("RUSTC"))
        })?;
    }
    Ok(())
}

/// The whole test suite, in order, stopping at the first failure.
fn test() -> Result {
    let started = std::time::Instant::now();
    let tools = tools::setup()?;
    let mut summary: Vec<String> = Vec::new();
    step("cargo fmt --check", || {
        run(cargo().args(["fmt", "--all", "--", "--check"]))
    })?;
    step("clippy (host)", || {
        run(cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))
    })?;
    step("clippy (wasm32)", || {
        // The widget with its browser tests; the shared and worker libraries as they ship
        // to the edge (their tests are native: proptest, in-memory KV).
        run(cargo().args([
            "clippy",
            "--target",
            "wasm32-unknown-unknown",
            "--package",
            "glimpse-widget",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))?;
        run(cargo().args([
            "clippy",
            "--target",
            "wasm32-unknown-unknown",
            "--package",
            "glimpse-shared",
            "--package",
            "glimpse-worker",
            "--lib",
            "--",
            "-D",
            "warnings",
        ]))
    })?;
    step("native tests (cargo test --workspace)", || {
        run_tests(cargo().args(["test", "--workspace"]), &mut summary)
    })?;
    step(
        "widget tests in headless Chromium (wasm-bindgen-test)",
        || {
            run_tests(
                widget_browser_tests(&tools).args([
                    "test",
                    "--package",
                    "glimpse-widget",
                    "--target",
                    "wasm32-unknown-unknown",
                ]),
                &mut summary,
            )
        },
    )?;
    build::build_all(&tools)?;
    step("widget size: the first download's budget", || {
        xtask::size::check(&xtask::size::measure_widget(
            &xtask::size::current_bundle_dir()?,
        )?)
    })?;
    step(
        "end-to-end tests (wrangler dev + headless Chromium)",
        || {
            run_tests(
                cargo().args([
                    "test",
                    "--package",
                    "glimpse-e2e",
                    "--",
                    "--ignored",
                    "--test-threads",
                    "1",
                ]),
                &mut summary,
            )
        },
    )?;
    step(
        "API contract (Schemathesis, every check, against wrangler dev)",
        || xtask::contract::api_test(&tools),
    )?;
    println!(
        "\n==> all tests passed in {:.0}s; cargo test summary:",
        started.elapsed().as_secs_f32()
    );
    for line in &summary {
        println!("{line}");
    }
    Ok(())
}

/// `cargo` set up to run wasm tests through wasm-bindgen-test-runner in headless Chromium.
fn widget_browser_tests(tools: &Tools) -> Command {
    let mut cmd = cargo();
    cmd.env(
        "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
        &tools.wasm_bindgen_test_runner,
    )
    .env("CHROMEDRIVER", &tools.chromedriver)
    .env("WASM_BINDGEN_TEST_TIMEOUT", "60")
    // widget/webdriver.json passes Chromium its headless flags.
    .current_dir(at("widget"));
    cmd
}

/// Runs a `cargo test`, echoing its output and collecting its `test result:` lines.
fn run_tests(cmd: &mut Command, summary: &mut Vec<String>) -> Result {
    println!("    $ {}", show(cmd));
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("start {}: {e}", show(cmd)))?;
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(std::io::Result::ok) {
            println!("{line}");
            if line.trim_start().starts_with("test result:") {
                summary.push(line);
            }
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", show(cmd)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn bench_arguments() {
        assert_eq!(
            bench_args(&args(&[])),
            Ok(BenchArgs {
                slides_only: false,
                before: None,
                live: None
            })
        );
        assert_eq!(
            bench_args(&args(&["--before", "8fe43ea"])),
            Ok(BenchArgs {
                slides_only: false,
                before: Some("8fe43ea".into()),
                live: None
            })
        );
        assert_eq!(
            bench_args(&args(&["--slides"])).map(|a| a.slides_only),
            Ok(true)
        );
        assert!(bench_args(&args(&["--before"])).is_err());
        assert!(bench_args(&args(&["--before", "--slides"])).is_err());
        assert!(bench_args(&args(&["--slides", "--before", "main"])).is_err());
        assert!(bench_args(&args(&["--fast"])).is_err());
        assert_eq!(
            bench_args(&args(&["--live"])).map(|a| a.live),
            Ok(Some(2_000))
        );
        assert_eq!(
            bench_args(&args(&["--live", "--viewers", "300"])).map(|a| a.live),
            Ok(Some(300))
        );
        assert!(bench_args(&args(&["--live", "--viewers", "0"])).is_err());
        assert!(bench_args(&args(&["--live", "--slides"])).is_err());
    }
}
