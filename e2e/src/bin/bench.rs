//! `cargo xtask bench`: what Glimpse weighs and how fast it answers, measured beside a
//! baseline in the same run. Prints a table and writes `target/bench/results.json`.
//! Numbers are reported, never asserted (see BENCHMARKS.md for how to read them).

use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::Duration;

use glimpse_e2e::Result;
use glimpse_e2e::bench::{
    Blocking, Load, blocking, busy_ms, main_thread_tasks, median, parse_upload, parse_wrk,
    requests_to,
};
use glimpse_e2e::cdp::{Browser, Page, deep};
use glimpse_e2e::stack::Stack;
use serde_json::{Value, json};
use xtask::wrangler::DevServer;

/// How long each load runs, after a warm-up of a quarter of it.
const LOAD_SECS: u64 = 8;
/// Concurrent connections wrk keeps open.
const CONNECTIONS: u32 = 16;
/// Page loads per browser measurement; the median is reported.
const RUNS: usize = 5;
/// How long one slide stays open while its main-thread cost is traced (shorter than the
/// demo video, so the video slide does not end inside the window).
const SLIDE_WINDOW: Duration = Duration::from_millis(3_500);
/// Rounds of text → image → video slides; the median is reported.
const SLIDE_RUNS: usize = 5;

fn main() -> ExitCode {
    match bench() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn bench() -> Result {
    let out = xtask::at("target/bench");
    std::fs::create_dir_all(&out).map_err(|e| format!("mkdir {}: {e}", out.display()))?;
    let machine = machine();
    println!("machine: {}", machine["summary"].as_str().unwrap_or("?"));
    if std::env::args().any(|a| a == "--slides") {
        // Only the per-slide rows (`cargo xtask bench --slides`): no wrk, no baseline worker.
        let stack = Stack::start_demo()?;
        let results = json!({ "machine": machine, "slides": slide_costs(&stack)? });
        print_slides(&results);
        let path = out.join("slides.json");
        let text = serde_json::to_string_pretty(&results).map_err(|e| e.to_string())?;
        std::fs::write(&path, text).map_err(|e| format!("write {}: {e}", path.display()))?;
        println!("\nwritten: {}", path.display());
        return Ok(());
    }

    let sizes = xtask::size::measure_widget(&xtask::size::current_bundle_dir()?)?;
    let bundles = json!({
        "glimpse": worker_upload(&xtask::at("worker"))?,
        "trivial": worker_upload(&xtask::at("bench/trivial"))?,
    });
    // One seeded worker for the loads and the browser (the loads write only votes and
    // events, which neither the demo page nor the feed depend on).
    let stack = Stack::start_demo_with(&[("RATE_LIMIT_PER_MINUTE", "0")])?;
    let throughput = throughput(&stack)?;
    let browser = browser_timings(&stack)?;
    let slides = slide_costs(&stack)?;
    // The same page without its live session: nothing but the first chunk loads before a
    // click, so opening a story fetches the app's chunk too.
    stack.without_demo_session()?;
    let browser_quiet = browser_timings(&stack)?;

    let results = json!({
        "machine": machine,
        "widget_sizes": sizes.first.iter().map(|s| ("first", s))
            .chain(sizes.chunks.iter().map(|s| ("chunk", s)))
            .map(|(part, s)| json!({
                "part": part, "file": s.name, "raw": s.raw, "gzip": s.gzip, "brotli": s.brotli,
            })).collect::<Vec<_>>(),
        "worker_upload_kib": bundles,
        "throughput": throughput,
        "browser": browser,
        "browser_without_session": browser_quiet,
        "slides": slides,
    });
    print_table(&results);
    let path = out.join("results.json");
    let text = serde_json::to_string_pretty(&results).map_err(|e| e.to_string())?;
    std::fs::write(&path, text).map_err(|e| format!("write {}: {e}", path.display()))?;
    println!("\nwritten: {}", path.display());
    Ok(())
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

/// The upload `wrangler deploy --dry-run` would make for the worker in `dir` (KiB).
fn worker_upload(dir: &Path) -> Result<Value> {
    let outdir = xtask::at("target/bench/dry-run").join(
        dir.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    );
    let tools = xtask::tools::locate()?;
    let out = xtask::wrangler::command_in(&tools, dir)
        .args(["deploy", "--dry-run", "--outdir"])
        .arg(&outdir)
        .output()
        .map_err(|e| format!("wrangler deploy --dry-run: {e}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let (raw, gzip) = parse_upload(&text)
        .ok_or_else(|| format!("no upload size in `wrangler deploy --dry-run`:\n{text}"))?;
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

/// Feed GET, vote POST and event POST on Glimpse's worker, the same loads on the trivial
/// handler, one after the other in this run.
fn throughput(stack: &Stack) -> Result<Value> {
    let state = xtask::at("target/bench/trivial-state");
    let trivial = DevServer::start_in(&stack.tools, &xtask::at("bench/trivial"), &state, &[])?;
    let vote = post_script(
        "vote",
        r#"'{"id":"' .. token() .. '","visitor":"' .. token() .. '","answer":{"choice":' .. (n % 3) .. '}}'"#,
    )?;
    let events = post_script(
        "events",
        r#"'{"id":"' .. token() .. '","visitor":"' .. token() .. '","events":[{"kind":"story_view","story":"track-order"},{"kind":"slide_view","story":"track-order","slide":0}]}'"#,
    )?;
    let cases: [(&str, String, Option<&Path>); 3] = [
        ("feed GET", stack.url("/v1/sites/demo/feed"), None),
        (
            "vote POST",
            stack.url("/v1/sites/demo/polls/story-helpful/responses"),
            Some(&vote),
        ),
        (
            "events POST",
            stack.url("/v1/sites/demo/events"),
            Some(&events),
        ),
    ];
    let mut rows = Vec::new();
    for (name, url, script) in cases {
        println!("load: {name} on Glimpse, then the same on the trivial handler");
        let glimpse = wrk(&url, script)?;
        // What the queue still had to apply when the load stopped, and how fast it did.
        let drain = match name {
            "vote POST" => Some(drain(|| applied_votes(stack))?),
            "events POST" => Some(drain(|| applied_batches(stack))?),
            _ => None,
        };
        let baseline = wrk(&format!("{}/", trivial.url()), script)?;
        rows.push(json!({
            "case": name,
            "glimpse": glimpse,
            "trivial": baseline,
            "ratio": glimpse.rps / baseline.rps,
            "drain": drain,
        }));
    }
    drop(trivial);
    let _ = std::fs::remove_dir_all(&state);
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

fn print_table(r: &Value) {
    print_main_table(r);
    print_slides(r);
}

fn print_slides(r: &Value) {
    let f = |v: &Value| v.as_f64().map_or("-".to_string(), |x| format!("{x:.1}"));
    println!(
        "\n== browser: one slide open for {:.1} s, main-thread busy time (median of {SLIDE_RUNS}; \
         goal: image and video ≤ 1.2× text, one request each)",
        SLIDE_WINDOW.as_secs_f64()
    );
    println!(
        "{:<7} {:>9} {:>7} {:>8} {:>14} {:>6}",
        "slide", "busy ms", "busy %", "× text", "requests/run", "shown"
    );
    for row in r["slides"].as_array().into_iter().flatten() {
        println!(
            "{:<7} {:>9} {:>6.1}% {:>7.2}x {:>14} {:>6}",
            row["slide"].as_str().unwrap_or("?"),
            f(&row["busy_ms"]),
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

fn print_main_table(r: &Value) {
    let f = |v: &Value| v.as_f64().map_or("-".to_string(), |x| format!("{x:.1}"));
    println!(
        "\n== widget (bytes; budgets: first download ≤ 61440 brotli, goal 51200; whole widget goal ≤ 174080)"
    );
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

    println!("\n== worker upload (wrangler deploy --dry-run; goal ≤ 250 KiB gzip)");
    for name in ["glimpse", "trivial"] {
        let b = &r["worker_upload_kib"][name];
        println!(
            "{name:<10} {:>10} KiB raw {:>10} KiB gzip",
            f(&b["raw"]),
            f(&b["gzip"])
        );
    }

    println!(
        "\n== worker throughput (wrk -t1 -c{CONNECTIONS} -d{LOAD_SECS}s, wrangler dev; goal: feed ≥ 0.8× trivial)"
    );
    println!(
        "{:<12} {:>10} {:>8} {:>8} {:>10} {:>8} {:>8} {:>7} {:>6}",
        "case", "req/s", "p50 ms", "p99 ms", "trivial/s", "p50 ms", "p99 ms", "ratio", "errors"
    );
    for row in r["throughput"].as_array().into_iter().flatten() {
        let (g, t) = (&row["glimpse"], &row["trivial"]);
        let errors = g["non_2xx"].as_u64().unwrap_or(0) + g["socket_errors"].as_u64().unwrap_or(0);
        println!(
            "{:<12} {:>10} {:>8} {:>8} {:>10} {:>8} {:>8} {:>6.2}x {:>6}",
            row["case"].as_str().unwrap_or("?"),
            f(&g["rps"]),
            f(&g["p50_ms"]),
            f(&g["p99_ms"]),
            f(&t["rps"]),
            f(&t["p50_ms"]),
            f(&t["p99_ms"]),
            row["ratio"].as_f64().unwrap_or(f64::NAN),
            errors
        );
    }
    println!("\n== ingestion queue after each write load (local Queues + D1 in wrangler dev)");
    println!(
        "{:<12} {:>18} {:>12} {:>10} {:>12}",
        "case", "backlog at stop", "applied", "drain s", "messages/s"
    );
    for row in r["throughput"].as_array().into_iter().flatten() {
        let d = &row["drain"];
        if d.is_null() {
            continue;
        }
        println!(
            "{:<12} {:>18} {:>12} {:>10} {:>12}",
            row["case"].as_str().unwrap_or("?"),
            d["backlog"].as_u64().unwrap_or(0),
            d["applied"].as_u64().unwrap_or(0),
            f(&d["seconds"]),
            f(&d["per_second"])
        );
    }

    for (key, title) in [
        (
            "browser",
            "with its live session (banners start the app at load)",
        ),
        (
            "browser_without_session",
            "without a live session (only the first chunk at load)",
        ),
    ] {
        print_browser(r, key, title);
    }
}

fn print_browser(r: &Value, key: &str, title: &str) {
    let f = |v: &Value| v.as_f64().map_or("-".to_string(), |x| format!("{x:.1}"));
    println!("\n== browser: demo page {title}, medians of {RUNS} cold loads (long task = > 50 ms)");
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
            f(&row["long_tasks"]),
            f(&row["longest_ms"]),
            f(&row["tbt_ms"]),
            f(&row["click_to_slide_ms"]),
            f(&row["open_cold_ms"]),
            f(&row["open_warm_ms"])
        );
    }
}
