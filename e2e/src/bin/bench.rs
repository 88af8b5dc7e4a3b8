//! `cargo xtask bench`: what Glimpse weighs and how fast it answers, measured beside a
//! baseline in the same run. Prints a table and writes `target/bench/results.json`.
//! Numbers are reported, never asserted (see BENCHMARKS.md for how to read them).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use glimpse_e2e::Result;
use glimpse_e2e::bench::{
    Blocking, Load, assets_differences, blocking, busy_ms, combine, error_of, failures,
    main_thread_tasks, median, merge, outcome, parse_wrk, ratio, requests_to, round_order, verdict,
};
use glimpse_e2e::cdp::{Browser, Page, deep};
use glimpse_e2e::stack::Stack;
use serde_json::{Value, json};
use xtask::content::KvEntries;
use xtask::wrangler::DevServer;

/// How long each load runs, after a warm-up of a quarter of it.
const LOAD_SECS: u64 = 4;
/// Concurrent connections wrk keeps open.
const CONNECTIONS: u32 = 16;
/// Page loads per browser measurement; the median is reported.
const RUNS: usize = 5;
/// How long one slide stays open while its main-thread cost is traced (shorter than the
/// demo video, so the video slide does not end inside the window).
const SLIDE_WINDOW: Duration = Duration::from_millis(3_500);
/// Rounds of text → image → video slides; the median is reported.
const SLIDE_RUNS: usize = 5;

/// WebSocket viewers of `cargo xtask bench --live` unless `--viewers N` says otherwise.
const LIVE_VIEWERS: usize = 2_000;
/// Host changes broadcast to them, one every [`LIVE_GAP`].
const LIVE_ROUNDS: usize = 20;
const LIVE_GAP: Duration = Duration::from_millis(500);

/// The live room's fan-out: `viewers` sockets on the demo's session, made live now.
fn live_fanout(stack: &Stack, viewers: usize) -> Result<Value> {
    stack.publish_session("bench-live", "Bench: live fan-out", -1_000, 3_600_000)?;
    Stack::await_visitors();
    glimpse_e2e::live_load::measure(
        stack,
        &glimpse_e2e::live_load::Plan {
            site: "demo".into(),
            session: "bench-live".into(),
            viewers,
            rounds: LIVE_ROUNDS,
            gap: LIVE_GAP,
        },
    )
}

fn print_live(r: &Value) {
    if !heading(
        r,
        "live",
        "live Q&A: one host change broadcast to every WebSocket viewer (goal: p99 ≤ 250 ms at 2,000)",
    ) {
        return;
    }
    let l = &r["live"];
    let ms = &l["broadcast_ms"];
    let rss = &l["workerd_rss_kib"];
    println!(
        "  viewers {} connected {} in {:.1} s (host sees {} watching); {} rounds, {} deliveries, {} missing",
        l["viewers"],
        l["connected"],
        l["connect_s"].as_f64().unwrap_or(0.0),
        l["watching_seen_by_host"],
        l["rounds"],
        l["deliveries"],
        l["missing"]
    );
    println!(
        "  broadcast ms: p50 {:.1}  p95 {:.1}  p99 {:.1}  max {:.1}; host request p50 {:.1} ms",
        ms["p50"].as_f64().unwrap_or(0.0),
        ms["p95"].as_f64().unwrap_or(0.0),
        ms["p99"].as_f64().unwrap_or(0.0),
        ms["max"].as_f64().unwrap_or(0.0),
        l["host_request_ms_p50"].as_f64().unwrap_or(0.0)
    );
    println!(
        "  workerd RSS KiB: before {} connected {} after {} ({:.1} KiB per viewer)",
        rss["before"],
        rss["connected"],
        rss["after_broadcasts"],
        rss["per_viewer"].as_f64().unwrap_or(0.0)
    );
}

fn main() -> ExitCode {
    let out = xtask::at("target/bench");
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("bench: mkdir {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    let slides_only = std::env::args().any(|a| a == "--slides");
    let args: Vec<String> = std::env::args().collect();
    let live = args.iter().any(|a| a == "--live");
    let viewers = args
        .iter()
        .position(|a| a == "--viewers")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(LIVE_VIEWERS);
    let mut run = Run::new(out.join(if slides_only {
        "slides.json"
    } else if live {
        "live.json"
    } else {
        "results.json"
    }));
    if live {
        // Only the live room's fan-out (`cargo xtask bench --live [--viewers N]`).
        let stack = start_stack(&mut run, &[]);
        run.part("live", print_live, || {
            live_fanout(started(&stack)?, viewers)
        });
    } else if slides_only {
        // Only the per-slide rows (`cargo xtask bench --slides`): no wrk, no baseline worker.
        let stack = start_stack(&mut run, &[]);
        run.part("slides", print_slides, || slide_costs(started(&stack)?));
    } else {
        bench(&mut run);
    }
    run.finish()
}

/// The results of this run, kept in memory and rewritten to their file after every part,
/// so a later part that fails (or a bench stopped half-way) loses nothing measured before.
struct Run {
    results: Value,
    path: PathBuf,
}

impl Run {
    /// A run whose file starts with the machine it runs on (any earlier run's file is
    /// replaced).
    fn new(path: PathBuf) -> Self {
        let machine = machine();
        println!("machine: {}", machine["summary"].as_str().unwrap_or("?"));
        let mut run = Self {
            results: json!({}),
            path,
        };
        merge(&mut run.results, "machine", Ok(machine));
        run.write();
        run
    }

    /// Measures one part, records its outcome (its error if it failed), writes the file and
    /// prints the part.
    fn part(&mut self, key: &str, print: fn(&Value), measure: impl FnOnce() -> Result<Value>) {
        let outcome = measure();
        self.record(key, outcome);
        print(&self.results);
    }

    /// Records a part's outcome and writes the file.
    fn record(&mut self, key: &str, outcome: Result<Value>) {
        merge(&mut self.results, key, outcome);
        self.write();
    }

    fn write(&self) {
        let written = serde_json::to_string_pretty(&self.results)
            .map_err(|e| e.to_string())
            .and_then(|text| {
                std::fs::write(&self.path, text)
                    .map_err(|e| format!("write {}: {e}", self.path.display()))
            });
        if let Err(e) = written {
            eprintln!("bench: {e}");
        }
    }

    /// Says what failed, if anything: the command fails when a part did.
    fn finish(self) -> ExitCode {
        println!("\nwritten: {}", self.path.display());
        let failed = failures(&self.results);
        if failed.is_empty() {
            return ExitCode::SUCCESS;
        }
        eprintln!(
            "\nbench: {} measurement(s) failed (in full above and in {}):",
            failed.len(),
            self.path.display()
        );
        for (at, e) in failed {
            eprintln!("  {at}: {}", e.lines().next().unwrap_or(""));
        }
        ExitCode::FAILURE
    }
}

/// Starts the seeded stack and records it as the part `stack` (its error in full there).
fn start_stack(run: &mut Run, vars: &[(&str, &str)]) -> Result<Stack> {
    let stack = Stack::start_demo_with(vars);
    run.part("stack", print_stack, || {
        stack
            .as_ref()
            .map(|s| json!({ "url": s.server.url() }))
            .map_err(Clone::clone)
    });
    stack
}

/// The seeded stack, or that it did not start (for every part that needs it).
fn started(stack: &Result<Stack>) -> Result<&Stack> {
    stack
        .as_ref()
        .map_err(|_| "the seeded worker did not start (see \"stack\")".to_string())
}

/// The earlier revision `cargo xtask bench --before REV` built, from its environment.
#[derive(Debug)]
struct Before {
    rev: String,
    commit: String,
    worker_dir: PathBuf,
}

/// `Ok(None)` without `--before`; its error if xtask could not build it.
fn before_from_env() -> Result<Option<Before>> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let rev = var("GLIMPSE_BENCH_BEFORE_REV");
    if let Some(e) = var("GLIMPSE_BENCH_BEFORE_ERROR") {
        return Err(format!(
            "the worker of {} was not built: {e}",
            rev.unwrap_or_default()
        ));
    }
    Ok(var("GLIMPSE_BENCH_BEFORE").map(|dir| Before {
        rev: rev.unwrap_or_default(),
        commit: var("GLIMPSE_BENCH_BEFORE_COMMIT").unwrap_or_default(),
        worker_dir: PathBuf::from(dir),
    }))
}

fn bench(run: &mut Run) {
    let before = before_from_env();
    if !matches!(before, Ok(None)) {
        run.part("before", print_before, || {
            let b = before.as_ref().map_err(Clone::clone)?.as_ref();
            Ok(b.map_or(
                Value::Null,
                |b| json!({ "rev": b.rev, "commit": b.commit, "worker_dir": b.worker_dir }),
            ))
        });
    }
    let before = before.ok().flatten();
    let trivial_dir = xtask::at("bench/trivial");
    run.part("baseline_config", print_baseline_config, || {
        baseline_config(&trivial_dir)
    });
    run.part("widget_sizes", print_sizes, || {
        let sizes = xtask::size::measure_widget(&xtask::size::current_bundle_dir()?)?;
        Ok(json!(
            sizes
                .first
                .iter()
                .map(|s| ("first", s))
                .chain(sizes.chunks.iter().map(|s| ("chunk", s)))
                .map(|(part, s)| json!({
                    "part": part, "file": s.name, "raw": s.raw, "gzip": s.gzip, "brotli": s.brotli,
                }))
                .collect::<Vec<_>>()
        ))
    });
    run.part("worker_upload_kib", print_upload, || {
        let mut bundles = json!({
            "glimpse": outcome(worker_upload(&xtask::at("worker"), "wrangler.toml")),
            "glimpse_operators": outcome(worker_upload(
                &xtask::at("worker"),
                xtask::build::OPERATORS_CONFIG,
            )),
            "trivial": outcome(
                trivial_built().and_then(|()| worker_upload(&trivial_dir, "wrangler.toml")),
            ),
        });
        if let Some(b) = &before {
            bundles["before"] = outcome(worker_upload(&b.worker_dir, "wrangler.toml"));
        }
        Ok(bundles)
    });
    // One seeded worker for the loads and the browser (the loads write only votes and
    // events, which neither the demo page nor the feed depend on).
    let stack = start_stack(run, &[("RATE_LIMIT_PER_MINUTE", "0")]);
    run.part("throughput", print_throughput, || {
        throughput(started(&stack)?, before.as_ref())
    });
    run.part("browser", print_browser_with_session, || {
        browser_timings(started(&stack)?)
    });
    run.part("slides", print_slides, || slide_costs(started(&stack)?));
    // The same page without its live session: nothing but the first chunk loads before a
    // click, so opening a story fetches the app's chunk too.
    run.part(
        "browser_without_session",
        print_browser_without_session,
        || {
            let stack = started(&stack)?;
            stack.without_demo_session()?;
            browser_timings(stack)
        },
    );
}

/// Whether the trivial baseline was built (`cargo xtask bench` says why not).
fn trivial_built() -> Result {
    match std::env::var("GLIMPSE_BENCH_TRIVIAL_ERROR") {
        Ok(e) if !e.is_empty() => Err(format!("the trivial baseline did not build: {e}")),
        _ => Ok(()),
    }
}

/// The baseline is set up like Glimpse's worker: the same `[assets]` block and routing in
/// its wrangler.toml. An error (recorded, the bench goes on) when they differ: the ratios
/// then measure the difference in set-up too.
fn baseline_config(trivial_dir: &Path) -> Result<Value> {
    let read = |p: &Path| {
        std::fs::read_to_string(p.join("wrangler.toml"))
            .map_err(|e| format!("read {}/wrangler.toml: {e}", p.display()))
    };
    let worker_dir = xtask::at("worker");
    let differences = assets_differences(
        &read(&worker_dir)?,
        &worker_dir,
        &read(trivial_dir)?,
        trivial_dir,
    )?;
    if differences.is_empty() {
        Ok(json!({ "same_assets_block": true }))
    } else {
        Err(format!(
            "the baseline is not set up like Glimpse's worker ({}): its ratios measure that too",
            differences.join("; ")
        ))
    }
}

/// What the numbers were measured on.
fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    let version = |cmd: &str, arg: &str| {
        Command::new(cmd)
            .arg(arg)
            .output()
            .ok()
            .map(|o| {
                String::from_utf8_lossy(if o.stdout.is_empty() {
                    &o.stderr
                } else {
                    &o.stdout
                })
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
            })
            .unwrap_or_default()
    };
    let chromium = version("/usr/bin/chromium", "--version");
    let wrangler = version(
        &xtask::at("node_modules/.bin/wrangler").to_string_lossy(),
        "--version",
    );
    json!({
        "summary": format!("{cpu}, {cores} cores, {mem_gib:.0} GiB; {chromium}; wrangler {wrangler}"),
        "cpu": cpu, "cores": cores, "mem_gib": mem_gib, "chromium": chromium, "wrangler": wrangler,
    })
}

/// The upload of the worker `config` in `dir` (`wrangler deploy --dry-run`): raw and gzip KiB.
fn worker_upload(dir: &Path, config: &str) -> Result<Value> {
    let tools = xtask::tools::locate()?;
    let (raw, gzip) = xtask::wrangler::upload(&tools, dir, config)?;
    Ok(json!({ "raw": raw, "gzip": gzip }))
}

/// A wrk Lua script that sends `body_js` (a Lua expression) as JSON to every request.
fn post_script(name: &str, body_lua: &str) -> Result<std::path::PathBuf> {
    let path = xtask::at("target/bench").join(format!("{name}.lua"));
    let script = format!(
        r#"-- Written by `cargo xtask bench`: a fresh id and visitor for every request.
local chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
local n = 0
math.randomseed(os.time())
local function token()
  local t = {{}}
  for i = 1, 22 do
    local r = math.random(1, #chars)
    t[i] = chars:sub(r, r)
  end
  return table.concat(t)
end
request = function()
  n = n + 1
  local body = {body_lua}
  return wrk.format("POST", nil, {{ ["Content-Type"] = "application/json" }}, body)
end
"#
    );
    std::fs::write(&path, script).map_err(|e| format!("write {}: {e}", path.display()))?;
    Ok(path)
}

/// Runs wrk against `url` (with an optional Lua script) after a warm-up.
fn wrk(url: &str, script: Option<&Path>) -> Result<Load> {
    let bin = std::env::var("GLIMPSE_WRK").unwrap_or_else(|_| "wrk".into());
    let run = |secs: u64| -> Result<String> {
        let mut cmd = Command::new(&bin);
        cmd.args([
            "-t1",
            &format!("-c{CONNECTIONS}"),
            &format!("-d{secs}s"),
            "--latency",
            "--timeout",
            "10s",
        ]);
        if let Some(s) = script {
            cmd.arg("-s").arg(s);
        }
        let out = cmd
            .arg(url)
            .output()
            .map_err(|e| format!("start {bin}: {e}"))?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    run(LOAD_SECS / 4)?;
    let text = run(LOAD_SECS)?;
    parse_wrk(&text).ok_or_else(|| format!("wrk gave no result for {url}:\n{text}"))
}

/// Votes the queue has applied to the demo poll's tally (admin results).
fn applied_votes(stack: &Stack) -> Result<u64> {
    Ok(stack.poll_results("demo", "story-helpful")?["total"]
        .as_u64()
        .unwrap_or(0))
}

/// Event batches the queue has applied (every bench batch is a new visitor viewing
/// track-order: today's report counts its views once per visitor).
fn applied_batches(stack: &Stack) -> Result<u64> {
    let today = glimpse_shared::time::utc_date(glimpse_e2e::stack::now_ms());
    let res = stack.admin(
        "GET",
        &format!("/v1/admin/sites/demo/report?from={today}&to={today}"),
        "",
    )?;
    let report: Value =
        serde_json::from_str(&res.body).map_err(|e| format!("{e}: {}", res.body))?;
    Ok(report["stories"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["id"] == "track-order"))
        .and_then(|s| s["views"].as_u64())
        .unwrap_or(0))
}

/// Right after a load: how many of its messages the queue had yet to apply, and how long
/// until the count stopped moving (3 s unchanged), as messages per second.
fn drain(read: impl Fn() -> Result<u64>) -> Result<Value> {
    let start = std::time::Instant::now();
    let first = read()?;
    let mut last = first;
    let mut last_change = start;
    while last_change.elapsed() < Duration::from_secs(3)
        && start.elapsed() < Duration::from_secs(300)
    {
        std::thread::sleep(Duration::from_millis(100));
        let now = read()?;
        if now != last {
            last = now;
            last_change = std::time::Instant::now();
        }
    }
    let secs = last_change.duration_since(start).as_secs_f64();
    let backlog = last - first;
    #[allow(clippy::cast_precision_loss)]
    let rate = if secs > 0.0 {
        backlog as f64 / secs
    } else {
        0.0
    };
    Ok(json!({ "backlog": backlog, "applied": last, "seconds": secs, "per_second": rate }))
}

/// One load of the throughput table: a path on Glimpse's worker and the baseline's path
/// that stands for it, with the ratio the issue asks of it.
struct Case {
    name: &'static str,
    path: &'static str,
    /// Where the trivial baseline answers it: `ok` at the same path for reads (the same
    /// `run_worker_first` routing), one KV put and one queue send for writes.
    baseline_path: &'static str,
    baseline: &'static str,
    script: Option<PathBuf>,
    /// Glimpse's req/s over the baseline's must reach this.
    goal: f64,
    /// Glimpse's req/s over the earlier revision's must reach this (`--before`), if asked.
    goal_vs_before: Option<f64>,
}

/// Goals (issue 17): feed and `/health` against the trivial handler set up alike, writes
/// against a baseline making the same platform calls, and today's feed against the
/// revision before the work.
const FEED_GOAL: f64 = 0.95;
const HEALTH_GOAL: f64 = 0.98;
const WRITE_GOAL: f64 = 0.8;
const FEED_VS_BEFORE_GOAL: f64 = 1.2;

/// Rounds of every load on every worker: each round after the first runs them in the
/// reverse order of the one before, so a drift in the machine's speed (other work on its
/// two cores) weighs on each alike; ratios are the median of the rounds' own ratios
/// (`bench::ratio`). Two rounds of 8 s gave ratios 0.77–1.00× for the same feed code in
/// runs an hour apart; five of 5 s kept one disturbed round from deciding, but their
/// per-round ratios still spanned 0.88–1.32× for `/health`, so the median of five moved by a
/// few hundredths between runs: nine of 4 s.
const ROUNDS: usize = 9;

/// A worker the loads run on.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Target {
    Glimpse,
    Before,
    Trivial,
}

impl Target {
    fn label(self) -> &'static str {
        match self {
            Self::Glimpse => "Glimpse",
            Self::Before => "the earlier revision",
            Self::Trivial => "the baseline",
        }
    }
}

/// One worker's loads of one case as results.json keeps them: the rounds combined
/// ([`combine`]) with each round's req/s, or the first round's error.
fn load_cell(rounds: &[Result<Load>]) -> Value {
    let measured: Result<Vec<Load>> = rounds.iter().cloned().collect();
    outcome(measured.and_then(|loads| {
        let all = combine(&loads).ok_or("no load ran")?;
        let mut cell = serde_json::to_value(all).map_err(|e| e.to_string())?;
        cell["rounds_rps"] = json!(loads.iter().map(|l| l.rps).collect::<Vec<_>>());
        Ok(cell)
    }))
}

/// An earlier revision's worker served beside today's: its own local state, seeded with the
/// seed Glimpse's stack was seeded with, through its own migrations.
struct BeforeServer {
    server: DevServer,
    state: PathBuf,
}

impl Drop for BeforeServer {
    fn drop(&mut self) {
        self.server.stop();
        let _ = std::fs::remove_dir_all(&self.state);
    }
}

fn start_before(stack: &Stack, before: &Before) -> Result<BeforeServer> {
    let state = xtask::at("target/bench/before-state");
    let _ = std::fs::remove_dir_all(&state);
    let seed = stack.demo.seed(stack.seeded_at)?;
    xtask::wrangler::seed_in(&stack.tools, &before.worker_dir, &state, &seed)?;
    let token = xtask::random_token(24)?;
    let server = DevServer::start_in(
        &stack.tools,
        &before.worker_dir,
        &state,
        &[("ADMIN_TOKEN", &token), ("RATE_LIMIT_PER_MINUTE", "0")],
    )?;
    Ok(BeforeServer { server, state })
}

/// Feed GET, `/health`, vote POST and event POST on Glimpse's worker, (with `--before`) on
/// the earlier revision's and on the trivial baseline, one after the other in this run, in
/// [`ROUNDS`] alternating rounds. A measurement that fails is recorded as its error in its
/// row.
fn throughput(stack: &Stack, before: Option<&Before>) -> Result<Value> {
    let trivial_state = xtask::at("target/bench/trivial-state");
    let _ = std::fs::remove_dir_all(&trivial_state);
    let trivial = trivial_built().and_then(|()| {
        DevServer::start_in(
            &stack.tools,
            &xtask::at("bench/trivial"),
            &trivial_state,
            &[],
        )
    });
    let before_server = before.map(|b| start_before(stack, b));
    let vote = post_script(
        "vote",
        r#"'{"id":"' .. token() .. '","visitor":"' .. token() .. '","answer":{"choice":' .. (n % 3) .. '}}'"#,
    )?;
    let events = post_script(
        "events",
        r#"'{"id":"' .. token() .. '","visitor":"' .. token() .. '","events":[{"kind":"story_view","story":"track-order"},{"kind":"slide_view","story":"track-order","slide":0}]}'"#,
    )?;
    let write_baseline = "POST /v1/write: one KV put and one queue send, 202";
    let cases = [
        Case {
            name: "feed GET",
            path: "/v1/sites/demo/feed",
            baseline_path: "/v1/sites/demo/feed",
            baseline: "GET at the same path: ok",
            script: None,
            goal: FEED_GOAL,
            goal_vs_before: Some(FEED_VS_BEFORE_GOAL),
        },
        Case {
            name: "/health GET",
            path: "/health",
            baseline_path: "/health",
            baseline: "GET at the same path: ok",
            script: None,
            goal: HEALTH_GOAL,
            goal_vs_before: None,
        },
        Case {
            name: "vote POST",
            path: "/v1/sites/demo/polls/story-helpful/responses",
            baseline_path: "/v1/write",
            baseline: write_baseline,
            script: Some(vote),
            goal: WRITE_GOAL,
            goal_vs_before: None,
        },
        Case {
            name: "events POST",
            path: "/v1/sites/demo/events",
            baseline_path: "/v1/write",
            baseline: write_baseline,
            script: Some(events),
            goal: WRITE_GOAL,
            goal_vs_before: None,
        },
    ];
    let trivial_server = trivial
        .as_ref()
        .map_err(|e| format!("the trivial baseline did not start: {e}"));
    let before_server = before_server.as_ref().map(|b| {
        b.as_ref()
            .map(|b| &b.server)
            .map_err(|e| format!("the earlier revision's worker did not start: {e}"))
    });
    let mut rows = Vec::new();
    for case in &cases {
        let script = case.script.as_deref();
        // Glimpse's worker, the earlier revision's and the baseline; every round after the
        // first in the reverse order of the one before.
        let mut targets: Vec<(Target, Result<&DevServer>, &str)> =
            vec![(Target::Glimpse, Ok(&stack.server), case.path)];
        if let Some(server) = &before_server {
            targets.push((Target::Before, server.clone(), case.path));
        }
        targets.push((Target::Trivial, trivial_server.clone(), case.baseline_path));
        let mut loads: Vec<Vec<Result<Load>>> = targets.iter().map(|_| Vec::new()).collect();
        let mut drained = None;
        for round in 0..ROUNDS {
            println!(
                "load: {} (round {} of {ROUNDS}): {}",
                case.name,
                round + 1,
                round_order(targets.len(), round)
                    .map(|i| targets[i].0.label())
                    .collect::<Vec<_>>()
                    .join(", then ")
            );
            for i in round_order(targets.len(), round) {
                let (target, server, path) = &targets[i];
                let load = server
                    .as_ref()
                    .map_err(Clone::clone)
                    .and_then(|s| wrk(&format!("{}{path}", s.url()), script));
                loads[i].push(load);
                if script.is_none() {
                    continue;
                }
                // Let the worker's queue consumer apply what the load sent before the next
                // load starts; on Glimpse's, measure how far behind it was and how fast it
                // caught up (the first round's figures are kept).
                match target {
                    Target::Glimpse => {
                        let d = match case.name {
                            "vote POST" => drain(|| applied_votes(stack)),
                            _ => drain(|| applied_batches(stack)),
                        };
                        drained.get_or_insert(d);
                    }
                    Target::Before => std::thread::sleep(Duration::from_secs(3)),
                    Target::Trivial => {}
                }
            }
        }
        let cell = |t: Target| -> Value {
            let i = targets.iter().position(|(x, _, _)| *x == t);
            i.map_or(Value::Null, |i| load_cell(&loads[i]))
        };
        let (glimpse, baseline) = (cell(Target::Glimpse), cell(Target::Trivial));
        let mut row = json!({
            "case": case.name,
            "path": case.path,
            "glimpse": glimpse,
            "baseline": case.baseline,
            "trivial": baseline,
            "ratio": ratio(&glimpse, &baseline),
            "goal": case.goal,
            "drain": drained.map(outcome),
        });
        if before_server.is_some() {
            let earlier = cell(Target::Before);
            row["before_ratio"] = json!(ratio(&earlier, &baseline));
            row["vs_before"] = json!(ratio(&glimpse, &earlier));
            row["goal_vs_before"] = json!(case.goal_vs_before);
            row["before"] = earlier;
        }
        rows.push(row);
    }
    drop(trivial);
    let _ = std::fs::remove_dir_all(&trivial_state);
    Ok(Value::Array(rows))
}

/// How long a trace runs before the traced work starts (see [`traced_with_events`]).
const TRACE_SETTLE: Duration = Duration::from_millis(300);

/// Runs `f` under a Chromium performance trace and returns the durations (ms) of the
/// renderer main thread's tasks meanwhile.
fn traced(page: &mut Page<'_>, f: impl FnOnce(&mut Page<'_>) -> Result) -> Result<Vec<f64>> {
    traced_with_events(page, f).map(|(tasks, _)| tasks)
}

/// [`traced`], also returning every other DevTools event received meanwhile (network…).
fn traced_with_events(
    page: &mut Page<'_>,
    f: impl FnOnce(&mut Page<'_>) -> Result,
) -> Result<(Vec<f64>, Vec<Value>)> {
    page.call(
        "Tracing.start",
        json!({ "categories": "disabled-by-default-devtools.timeline,devtools.timeline", "transferMode": "ReportEvents" }),
    )?;
    // `Tracing.start` answers once the browser process records; the renderer starts a
    // moment later (an IPC away). Work begun at once may fall before its trace does.
    std::thread::sleep(TRACE_SETTLE);
    let ran = f(page);
    page.call("Tracing.end", json!({}))?;
    let events = page.drain_events_until("Tracing.tracingComplete", Duration::from_secs(30))?;
    ran?;
    let trace: Vec<Value> = events
        .iter()
        .filter(|e| e["method"] == "Tracing.dataCollected")
        .filter_map(|e| e["params"]["value"].as_array())
        .flatten()
        .cloned()
        .collect();
    Ok((main_thread_tasks(&trace), events))
}

/// Main-thread cost of one open slide: a text slide, a picture slide and a video slide
/// (the demo's own media), each shown alone in the real player (`Glimpse('preview')`) on
/// the demo page and traced for [`SLIDE_WINDOW`] from the command on, in rounds, each round
/// under fresh media URLs so every picture and video comes from the network once. Busy
/// time is the sum of the renderer main thread's tasks in the trace (the window, and the
/// [`TRACE_SETTLE`] before the command, when nothing is open); requests are the media
/// URL's `Network.requestWillBeSent` events.
fn slide_costs(stack: &Stack) -> Result<Value> {
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = browser.new_page()?;
    page.call("Network.enable", json!({}))?;
    page.goto(&stack.url("/"))?;
    page.wait_visible("[data-testid=glimpse-launcher]")?;
    let now = glimpse_e2e::stack::now_ms();
    let kinds: [(&str, Option<(&str, &str)>); 3] = [
        ("text", None),
        ("image", Some(("image", "/media/demo/order-1-shipped.webp"))),
        ("video", Some(("video", "/media/demo/reset-tap.webm"))),
    ];
    let mut samples: Vec<(&str, f64, u32, bool)> = Vec::new();
    for round in 0..SLIDE_RUNS {
        for (kind, media) in kinds {
            let url = media.map(|(_, path)| format!("{path}?bench={round}"));
            let mut slide = json!({ "text": format!("A {kind} slide"), "duration_ms": 60_000 });
            if let (Some((k, _)), Some(u)) = (media, &url) {
                slide["media"] = json!({ "kind": k, "url": u, "alt": "Bench media" });
            }
            let story = json!({
                "id": format!("bench-{kind}"), "title": format!("Bench {kind}"), "topic": "account",
                "slides": [slide], "publish_at": now - 1_000, "expires_at": now + 3_600_000
            });
            // Whether the media is really on screen at the end of the window (checked
            // inside it: the 4 s video slide ends soon after).
            let check = format!(
                "(() => {{ const t = {}; const m = {}; if (!t) return false; \
                 if (!{has_media}) return true; if (!m) return false; \
                 return m.tagName === 'IMG' ? m.complete && m.naturalWidth > 0 : m.currentTime > 0; }})()",
                deep("[data-testid=glimpse-slide-text]"),
                deep("[data-testid=glimpse-viewer] .media"),
                has_media = media.is_some()
            );
            let mut shown = false;
            let (tasks, events) = traced_with_events(&mut page, |page| {
                page.eval(&format!("Glimpse('preview', {{ story: {story} }}), true"))?;
                std::thread::sleep(SLIDE_WINDOW);
                shown = page.eval(&check)? == json!(true);
                Ok(())
            })?;
            let requests = url.as_deref().map_or(0, |u| requests_to(&events, u));
            samples.push((kind, busy_ms(&tasks), requests, shown));
            page.eval("Glimpse('close'), true")?;
            page.wait_gone("[data-testid=glimpse-viewer]")?;
            std::thread::sleep(Duration::from_millis(300));
        }
    }
    let of = |kind: &str| -> Vec<(f64, u32, bool)> {
        samples
            .iter()
            .filter(|s| s.0 == kind)
            .map(|s| (s.1, s.2, s.3))
            .collect()
    };
    let text_busy = median(&of("text").iter().map(|s| s.0).collect::<Vec<_>>());
    let window_ms = SLIDE_WINDOW.as_secs_f64() * 1000.0;
    let rows = kinds
        .iter()
        .map(|(kind, _)| {
            let runs = of(kind);
            let busy = median(&runs.iter().map(|s| s.0).collect::<Vec<_>>());
            json!({
                "slide": kind,
                "window_ms": window_ms,
                "busy_ms": busy,
                "busy_share": busy / window_ms,
                "vs_text": busy / text_busy,
                "requests": runs.iter().map(|s| s.1).collect::<Vec<_>>(),
                "shown": runs.iter().all(|s| s.2),
                "runs": runs.len(),
            })
        })
        .collect();
    Ok(Value::Array(rows))
}

/// Loads the demo page `RUNS` times with and without the widget, at 1× and 4× CPU slowdown:
/// long tasks and total blocking time until the page has settled, and the time from a
/// click on a story to its first slide on screen.
fn browser_timings(stack: &Stack) -> Result<Value> {
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = browser.new_page()?;
    page.call("Network.enable", json!({}))?;
    page.call("Network.setCacheDisabled", json!({ "cacheDisabled": true }))?;
    // The trace must see a long task the page makes on purpose, or its zeros mean nothing.
    page.goto(&stack.url("/health"))?;
    let mut seen = Vec::new();
    for _ in 0..3 {
        let probe = traced(&mut page, |page| {
            page.eval("(() => { const t = performance.now(); while (performance.now() - t < 120) {} return true; })()")
                .map(|_| ())
        })?;
        let found = probe.iter().any(|d| *d >= 100.0);
        seen.push(probe);
        if found {
            break;
        }
    }
    if !seen.last().is_some_and(|p| p.iter().any(|d| *d >= 100.0)) {
        return Err(format!(
            "the trace shows no 120 ms task in 3 tries: {seen:?}"
        ));
    }
    let mut rows = Vec::new();
    for throttle in [1u32, 4] {
        page.call(
            "Emulation.setCPUThrottlingRate",
            json!({ "rate": throttle }),
        )?;
        for with_widget in [false, true] {
            let blocked: Vec<&str> = if with_widget {
                vec![]
            } else {
                vec!["*/widget.js"]
            };
            page.call("Network.setBlockedURLs", json!({ "urls": blocked }))?;
            let mut loads: Vec<Blocking> = Vec::new();
            let mut clicks = Vec::new();
            let mut cold = Vec::new();
            let mut warm = Vec::new();
            for _ in 0..RUNS {
                let (b, click) = load_once(&mut page, stack, with_widget)?;
                loads.push(b);
                if let Some([c, w, m]) = click {
                    cold.push(c);
                    warm.push(w);
                    clicks.push(m);
                }
            }
            let pick = |f: fn(&Blocking) -> f64| median(&loads.iter().map(f).collect::<Vec<_>>());
            rows.push(json!({
                "cpu_slowdown": throttle,
                "widget": with_widget,
                "long_tasks": pick(|b| b.long_tasks as f64),
                "longest_ms": pick(|b| b.longest_ms),
                "tbt_ms": pick(|b| b.tbt_ms),
                "click_to_slide_ms": if with_widget { json!(median(&clicks)) } else { Value::Null },
                "open_cold_ms": if with_widget { json!(median(&cold)) } else { Value::Null },
                "open_warm_ms": if with_widget { json!(median(&warm)) } else { Value::Null },
                "runs": RUNS,
            }));
        }
    }
    page.call("Emulation.setCPUThrottlingRate", json!({ "rate": 1 }))?;
    Ok(Value::Array(rows))
}

/// One cold load of the demo page: its long tasks, and (with the widget) click → slide.
fn load_once(
    page: &mut Page<'_>,
    stack: &Stack,
    with_widget: bool,
) -> Result<(Blocking, Option<[f64; 3]>)> {
    let url = stack.url("/");
    let tasks = traced(page, |page| {
        page.goto(&url)?;
        if with_widget {
            page.wait_visible("[data-testid=glimpse-launcher]")?;
        }
        // Let the page settle: anything the widget does after its launcher shows counts too.
        std::thread::sleep(Duration::from_millis(1500));
        Ok(())
    })?;
    let blocking = blocking(&tasks);
    if !with_widget {
        return Ok((blocking, None));
    }
    // A host page's "show me how" button: `Glimpse('open', {story})` with the app's chunk
    // (the viewer is in it) not fetched yet (cold), then again once it is (warm), to the frame
    // after the first slide's text is laid out.
    let story = stack.request("GET", "/v1/sites/demo/feed", &[], "")?;
    let story: Value = serde_json::from_str(&story.body).map_err(|e| e.to_string())?;
    let story = story["stories"][0]["id"].clone();
    let open = format!(
        "new Promise(done => {{ const t0 = performance.now(); Glimpse('open', {{ story: {story} }}); \
         const check = () => {{ const t = {text}; \
           if (t && t.getBoundingClientRect().height > 0) \
             requestAnimationFrame(() => done(performance.now() - t0)); \
           else requestAnimationFrame(check); }}; \
         check(); }})",
        text = deep("[data-testid=glimpse-slide-text]"),
    );
    let cold = page.eval(&open)?.as_f64();
    page.eval("Glimpse('close'), true")?;
    page.wait_gone("[data-testid=glimpse-viewer]")?;
    let warm = page.eval(&open)?.as_f64();
    page.eval("Glimpse('close'), true")?;
    page.wait_gone("[data-testid=glimpse-viewer]")?;
    page.click("[data-testid=glimpse-launcher]")?;
    page.wait_visible("[data-testid=glimpse-story-item]")?;
    // From the click to the frame after the first slide's text is in the DOM and laid out.
    let ms = page.eval(&format!(
        "new Promise(done => {{ const item = {item}; const t0 = performance.now(); item.click(); \
         const check = () => {{ const t = {text}; \
           if (t && t.getBoundingClientRect().height > 0) \
             requestAnimationFrame(() => done(performance.now() - t0)); \
           else requestAnimationFrame(check); }}; \
         check(); }})",
        item = deep("[data-testid=glimpse-story-item]"),
        text = deep("[data-testid=glimpse-slide-text]"),
    ))?;
    Ok((
        blocking,
        ms.as_f64()
            .map(|m| [cold.unwrap_or(f64::NAN), warm.unwrap_or(f64::NAN), m]),
    ))
}

/// A number as the tables print it: one decimal, `-` when missing.
fn num(v: &Value) -> String {
    v.as_f64().map_or("-".to_string(), |x| format!("{x:.1}"))
}

/// Prints the section's heading; when the part failed, its error instead of its table
/// (then `false`: nothing more to print).
fn heading(r: &Value, key: &str, title: &str) -> bool {
    println!("\n== {title}");
    match error_of(&r[key]) {
        Some(e) => {
            println!("FAILED: {e}");
            false
        }
        None => true,
    }
}

fn print_stack(r: &Value) {
    if heading(
        r,
        "stack",
        "Glimpse's workers in wrangler dev, seeded with the demo content",
    ) {
        println!("serving on {}", r["stack"]["url"].as_str().unwrap_or("?"));
    }
}

fn print_before(r: &Value) {
    if heading(r, "before", "the earlier revision (--before)") {
        let b = &r["before"];
        println!(
            "{} = {}, built in {}",
            b["rev"].as_str().unwrap_or("?"),
            b["commit"].as_str().unwrap_or("?"),
            b["worker_dir"].as_str().unwrap_or("?")
        );
    }
}

fn print_baseline_config(r: &Value) {
    if heading(
        r,
        "baseline_config",
        "baseline set-up (bench/trivial/wrangler.toml against worker/wrangler.toml)",
    ) {
        println!("the same [assets] block and routing as Glimpse's worker");
    }
}

fn print_slides(r: &Value) {
    if !heading(
        r,
        "slides",
        &format!(
            "browser: one slide open for {:.1} s, main-thread busy time (median of {SLIDE_RUNS}; \
             goal: image and video ≤ 1.2× text, one request each)",
            SLIDE_WINDOW.as_secs_f64()
        ),
    ) {
        return;
    }
    println!(
        "{:<7} {:>9} {:>7} {:>8} {:>14} {:>6}",
        "slide", "busy ms", "busy %", "× text", "requests/run", "shown"
    );
    for row in r["slides"].as_array().into_iter().flatten() {
        println!(
            "{:<7} {:>9} {:>6.1}% {:>7.2}x {:>14} {:>6}",
            row["slide"].as_str().unwrap_or("?"),
            num(&row["busy_ms"]),
            row["busy_share"].as_f64().unwrap_or(f64::NAN) * 100.0,
            row["vs_text"].as_f64().unwrap_or(f64::NAN),
            row["requests"]
                .as_array()
                .map(|a| a.iter().map(Value::to_string).collect::<Vec<_>>().join(","))
                .unwrap_or_default(),
            if row["shown"] == json!(true) {
                "yes"
            } else {
                "NO"
            }
        );
    }
}

fn print_sizes(r: &Value) {
    if !heading(
        r,
        "widget_sizes",
        "widget (bytes; budgets: first download ≤ 61440 brotli, goal 51200; whole widget goal ≤ 174080)",
    ) {
        return;
    }
    println!("{:<44} {:>9} {:>9} {:>9}", "file", "raw", "gzip", "brotli");
    let mut whole = [0u64; 3];
    for part in ["first", "chunk"] {
        let mut total = [0u64; 3];
        for s in r["widget_sizes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["part"] == part)
        {
            let n = |k: &str| s[k].as_u64().unwrap_or(0);
            println!(
                "{:<44} {:>9} {:>9} {:>9}",
                s["file"].as_str().unwrap_or("?"),
                n("raw"),
                n("gzip"),
                n("brotli")
            );
            for (t, k) in total.iter_mut().zip(["raw", "gzip", "brotli"]) {
                *t += n(k);
            }
        }
        let label = if part == "first" {
            "= before any interaction"
        } else {
            "= lazy chunks (on use)"
        };
        println!(
            "{label:<44} {:>9} {:>9} {:>9}",
            total[0], total[1], total[2]
        );
        for (w, t) in whole.iter_mut().zip(total) {
            *w += t;
        }
    }
    println!(
        "{:<44} {:>9} {:>9} {:>9}",
        "= whole widget", whole[0], whole[1], whole[2]
    );
}

/// The label of the earlier revision's column or row.
fn before_label(r: &Value) -> String {
    format!("before ({})", r["before"]["rev"].as_str().unwrap_or("?"))
}

fn print_upload(r: &Value) {
    if !heading(
        r,
        "worker_upload_kib",
        "worker upload (wrangler deploy --dry-run; goal ≤ 250 KiB gzip)",
    ) {
        return;
    }
    let before = before_label(r);
    for (name, label) in [
        ("before", before.as_str()),
        ("glimpse", "glimpse (visitors)"),
        ("glimpse_operators", "glimpse-operators"),
        ("trivial", "trivial"),
    ] {
        let b = &r["worker_upload_kib"][name];
        if b.is_null() {
            continue;
        }
        match error_of(b) {
            Some(e) => println!("{label:<18} FAILED: {e}"),
            None => println!(
                "{label:<18} {:>10} KiB raw {:>10} KiB gzip",
                num(&b["raw"]),
                num(&b["gzip"])
            ),
        }
    }
}

/// A ratio with its goal's verdict, e.g. `0.97x ✓`; `-` without one.
fn against(ratio: &Value, goal: &Value) -> String {
    match (ratio.as_f64(), goal.as_f64()) {
        (Some(x), Some(g)) => format!("{x:.2}x {}", verdict(Some(x), g)),
        (Some(x), None) => format!("{x:.2}x"),
        _ => "-".to_string(),
    }
}

/// req/s, p50 and p99 of one measurement (or its error), and its error count.
fn load_cells(l: &Value) -> (String, u64) {
    if let Some(e) = error_of(l) {
        return (
            format!(
                "{:>28}",
                format!("FAILED ({})", e.lines().next().unwrap_or(""))
            ),
            0,
        );
    }
    let errors = l["non_2xx"].as_u64().unwrap_or(0) + l["socket_errors"].as_u64().unwrap_or(0);
    (
        format!(
            "{:>10} {:>8} {:>8}",
            num(&l["rps"]),
            num(&l["p50_ms"]),
            num(&l["p99_ms"])
        ),
        errors,
    )
}

fn print_throughput(r: &Value) {
    if !heading(
        r,
        "throughput",
        &format!(
            "worker throughput (wrk -t1 -c{CONNECTIONS} -d{LOAD_SECS}s × {ROUNDS}, wrangler dev; goals against \
             the baseline: feed ≥ {FEED_GOAL}×, /health ≥ {HEALTH_GOAL}×, writes ≥ {WRITE_GOAL}×)"
        ),
    ) {
        return;
    }
    let rows: Vec<&Value> = r["throughput"].as_array().into_iter().flatten().collect();
    let with_before = rows.iter().any(|row| !row["before"].is_null());
    let mut head = format!(
        "{:<12} {:>10} {:>8} {:>8}",
        "case", "req/s", "p50 ms", "p99 ms"
    );
    if with_before {
        head.push_str(&format!(
            " | {:>10} {:>8} {:>8}",
            "before/s", "p50 ms", "p99 ms"
        ));
    }
    head.push_str(&format!(
        " | {:>10} {:>8} {:>8} | {:>10}",
        "baseline/s", "p50 ms", "p99 ms", "ratio"
    ));
    if with_before {
        head.push_str(&format!(" {:>12} {:>12}", "before ratio", "vs before"));
    }
    head.push_str(&format!(" {:>7}", "errors"));
    println!("{head}");
    for row in &rows {
        let (g, g_err) = load_cells(&row["glimpse"]);
        let (t, t_err) = load_cells(&row["trivial"]);
        let mut line = format!("{:<12} {g}", row["case"].as_str().unwrap_or("?"));
        let mut errors = g_err + t_err;
        if with_before {
            let (b, b_err) = load_cells(&row["before"]);
            line.push_str(&format!(" | {b}"));
            errors += b_err;
        }
        line.push_str(&format!(
            " | {t} | {:>10}",
            against(&row["ratio"], &row["goal"])
        ));
        if with_before {
            line.push_str(&format!(
                " {:>12} {:>12}",
                against(&row["before_ratio"], &row["goal"]),
                against(&row["vs_before"], &row["goal_vs_before"])
            ));
        }
        line.push_str(&format!(" {errors:>7}"));
        println!("{line}");
    }
    if with_before {
        println!(
            "before: {}; vs before: Glimpse's req/s over the earlier revision's (goal: feed ≥ {FEED_VS_BEFORE_GOAL}×)",
            before_label(r)
        );
    }
    // Each baseline once, with the cases measured against it.
    let mut baselines: Vec<(&str, Vec<&str>)> = Vec::new();
    for row in &rows {
        let (Some(case), Some(b)) = (row["case"].as_str(), row["baseline"].as_str()) else {
            continue;
        };
        match baselines.iter_mut().find(|(x, _)| *x == b) {
            Some((_, cases)) => cases.push(case),
            None => baselines.push((b, vec![case])),
        }
    }
    println!(
        "baseline: the trivial worker (bench/trivial), set up like Glimpse's; {}",
        baselines
            .iter()
            .map(|(b, cases)| format!("{}: {b}", cases.join(", ")))
            .collect::<Vec<_>>()
            .join("; ")
    );
    println!(
        "each figure: {ROUNDS} rounds of wrk, the workers in alternating order (req/s and p50 \
         averaged, p99 the worst round's); each ratio is the median of the rounds' own ratios"
    );

    println!("\n== ingestion queue after each write load (local Queues + D1 in wrangler dev)");
    println!(
        "{:<12} {:>18} {:>12} {:>10} {:>12}",
        "case", "backlog at stop", "applied", "drain s", "messages/s"
    );
    for row in rows {
        let d = &row["drain"];
        if d.is_null() {
            continue;
        }
        if let Some(e) = error_of(d) {
            println!("{:<12} FAILED: {e}", row["case"].as_str().unwrap_or("?"));
            continue;
        }
        println!(
            "{:<12} {:>18} {:>12} {:>10} {:>12}",
            row["case"].as_str().unwrap_or("?"),
            d["backlog"].as_u64().unwrap_or(0),
            d["applied"].as_u64().unwrap_or(0),
            num(&d["seconds"]),
            num(&d["per_second"])
        );
    }
}

fn print_browser_with_session(r: &Value) {
    print_browser(
        r,
        "browser",
        "with its live session (banners start the app at load)",
    );
}

fn print_browser_without_session(r: &Value) {
    print_browser(
        r,
        "browser_without_session",
        "without a live session (only the first chunk at load)",
    );
}

fn print_browser(r: &Value, key: &str, title: &str) {
    if !heading(
        r,
        key,
        &format!("browser: demo page {title}, medians of {RUNS} cold loads (long task = > 50 ms)"),
    ) {
        return;
    }
    println!(
        "{:<6} {:<8} {:>11} {:>12} {:>9} {:>16} {:>14} {:>14}",
        "cpu",
        "widget",
        "long tasks",
        "longest ms",
        "TBT ms",
        "click→slide ms",
        "open cold ms",
        "open warm ms"
    );
    for row in r[key].as_array().into_iter().flatten() {
        println!(
            "{:<6} {:<8} {:>11} {:>12} {:>9} {:>16} {:>14} {:>14}",
            format!("{}x", row["cpu_slowdown"]),
            if row["widget"] == json!(true) {
                "with"
            } else {
                "without"
            },
            num(&row["long_tasks"]),
            num(&row["longest_ms"]),
            num(&row["tbt_ms"]),
            num(&row["click_to_slide_ms"]),
            num(&row["open_cold_ms"]),
            num(&row["open_warm_ms"])
        );
    }
}
