//! The arithmetic of `cargo xtask bench`: reading wrk's and wrangler's reports, summing
//! long tasks, keeping the results part by part (a failed part is its error, the others
//! stay), and checking the baseline is set up like Glimpse. Pure, so it is tested natively;
//! the runner is `src/bin/bench.rs`.

use std::path::{Component, Path, PathBuf};

use serde::Serialize;
use serde_json::{Value, json};

/// One wrk run, as wrk reported it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Load {
    pub requests: u64,
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Answers that were not 2xx/3xx.
    pub non_2xx: u64,
    /// Connect, read, write errors and timeouts.
    pub socket_errors: u64,
}

/// Several runs of one load as one: requests, non-2xx answers and socket errors summed,
/// req/s and the median latency averaged, the 99th percentile the worst run's. `None` for
/// no runs.
pub fn combine(runs: &[Load]) -> Option<Load> {
    let first = runs.first()?;
    #[allow(clippy::cast_precision_loss)]
    let n = runs.len() as f64;
    let mean = |f: fn(&Load) -> f64| runs.iter().map(f).sum::<f64>() / n;
    Some(Load {
        requests: runs.iter().map(|l| l.requests).sum(),
        rps: mean(|l| l.rps),
        p50_ms: mean(|l| l.p50_ms),
        p99_ms: runs.iter().map(|l| l.p99_ms).fold(first.p99_ms, f64::max),
        non_2xx: runs.iter().map(|l| l.non_2xx).sum(),
        socket_errors: runs.iter().map(|l| l.socket_errors).sum(),
    })
}

/// The order of `targets` workers in round `round` (from 0): as listed in even rounds,
/// reversed in odd ones.
pub fn round_order(targets: usize, round: usize) -> impl Iterator<Item = usize> {
    (0..targets).map(move |i| {
        if round.is_multiple_of(2) {
            i
        } else {
            targets - 1 - i
        }
    })
}

/// A latency as wrk prints it (`850.00us`, `1.23ms`, `2.00s`), in milliseconds.
fn latency_ms(s: &str) -> Option<f64> {
    let s = s.trim();
    let (num, scale) = if let Some(n) = s.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return None;
    };
    num.parse::<f64>().ok().map(|v| v * scale)
}

/// Reads `wrk --latency` output.
pub fn parse_wrk(out: &str) -> Option<Load> {
    let mut load = Load {
        requests: 0,
        rps: 0.0,
        p50_ms: f64::NAN,
        p99_ms: f64::NAN,
        non_2xx: 0,
        socket_errors: 0,
    };
    let mut saw_rps = false;
    for line in out.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["50%", v] => load.p50_ms = latency_ms(v)?,
            ["99%", v] => load.p99_ms = latency_ms(v)?,
            ["Requests/sec:", v] => {
                load.rps = v.parse().ok()?;
                saw_rps = true;
            }
            [n, "requests", "in", ..] => load.requests = n.parse().ok()?,
            ["Non-2xx", "or", "3xx", "responses:", n] => load.non_2xx = n.parse().ok()?,
            ["Socket", "errors:", rest @ ..] => {
                load.socket_errors = rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum();
            }
            _ => {}
        }
    }
    (saw_rps && load.p50_ms.is_finite() && load.p99_ms.is_finite()).then_some(load)
}

pub use xtask::wrangler::parse_upload;

/// Long tasks during a page load, as Lighthouse counts them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Blocking {
    pub long_tasks: usize,
    pub longest_ms: f64,
    /// Total blocking time: every long task's time beyond 50 ms, summed.
    pub tbt_ms: f64,
}

/// Summarises long-task durations (ms).
pub fn blocking(durations: &[f64]) -> Blocking {
    let long: Vec<f64> = durations.iter().copied().filter(|d| *d > 50.0).collect();
    Blocking {
        long_tasks: long.len(),
        longest_ms: long.iter().copied().fold(0.0, f64::max),
        tbt_ms: long.iter().fold(0.0, |sum, d| sum + (d - 50.0)),
    }
}

/// Durations (ms) of the top-level tasks on the renderer's main thread in a Chromium trace
/// (`Tracing.dataCollected` values): `RunTask` complete events on the `CrRendererMain`
/// thread(s).
pub fn main_thread_tasks(trace: &[serde_json::Value]) -> Vec<f64> {
    let main: Vec<(u64, u64)> = trace
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .filter(|e| e["args"]["name"] == "CrRendererMain")
        .filter_map(|e| Some((e["pid"].as_u64()?, e["tid"].as_u64()?)))
        .collect();
    trace
        .iter()
        .filter(|e| e["ph"] == "X" && e["name"] == "RunTask")
        .filter(|e| {
            let at = (e["pid"].as_u64(), e["tid"].as_u64());
            main.iter().any(|(p, t)| at == (Some(*p), Some(*t)))
        })
        .filter_map(|e| e["dur"].as_f64())
        .map(|us| us / 1000.0)
        .collect()
}

/// Time (ms) the main thread was busy: the sum of its top-level task durations.
pub fn busy_ms(tasks: &[f64]) -> f64 {
    tasks.iter().filter(|d| d.is_finite() && **d > 0.0).sum()
}

/// How many requests for `path` (a path with its query, on any origin) the DevTools
/// events show: each `Network.requestWillBeSent` that is not a redirect hop of one.
pub fn requests_to(events: &[serde_json::Value], path: &str) -> u32 {
    let count = events
        .iter()
        .filter(|e| e["method"] == "Network.requestWillBeSent")
        .filter(|e| e["params"].get("redirectResponse").is_none())
        .filter_map(|e| e["params"]["request"]["url"].as_str())
        .filter_map(|url| url.split_once("://").map(|(_, rest)| rest))
        .filter(|rest| rest.find('/').is_some_and(|at| &rest[at..] == path))
        .count();
    u32::try_from(count).unwrap_or(u32::MAX)
}

/// The median of `xs` (NaN when empty).
pub fn median(xs: &[f64]) -> f64 {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        f64::midpoint(v[mid - 1], v[mid])
    }
}

/// A part's outcome as `results.json` keeps it: its value, or `{"error": message}`.
pub fn outcome(part: Result<Value, String>) -> Value {
    part.unwrap_or_else(|e| json!({ "error": e }))
}

/// Sets `results[key]` to a part's [`outcome`], keeping every other part.
pub fn merge(results: &mut Value, key: &str, part: Result<Value, String>) {
    if !results.is_object() {
        *results = json!({});
    }
    if let Some(parts) = results.as_object_mut() {
        parts.insert(key.to_string(), outcome(part));
    }
}

/// The error a part (or one measurement in it) recorded, if it failed.
pub fn error_of(v: &Value) -> Option<&str> {
    v.get("error").and_then(Value::as_str)
}

/// Every failure recorded anywhere in `results`, in order: the path to each
/// `{"error": message}` (`throughput[2].before`) and its message.
pub fn failures(results: &Value) -> Vec<(String, String)> {
    fn walk(v: &Value, path: &str, out: &mut Vec<(String, String)>) {
        if let Some(e) = error_of(v) {
            out.push((path.to_string(), e.to_string()));
            return;
        }
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    walk(v, &p, out);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, &format!("{path}[{i}]"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(results, "", &mut out);
    out
}

/// `a`'s requests per second over `b`'s, when both are measurements (a [`Load`] as JSON).
/// When both hold `rounds_rps` (one figure per round, the two measured in the same round),
/// the median of the per-round ratios: a round slowed by other work on the machine weighs
/// on both sides of its own ratio, and one such round does not move the median.
pub fn ratio(a: &Value, b: &Value) -> Option<f64> {
    if let (Some(ra), Some(rb)) = (a["rounds_rps"].as_array(), b["rounds_rps"].as_array()) {
        let per_round: Vec<f64> = ra
            .iter()
            .zip(rb)
            .filter_map(|(x, y)| {
                let (x, y) = (x.as_f64()?, y.as_f64()?);
                (y > 0.0).then_some(x / y)
            })
            .collect();
        if !per_round.is_empty() {
            return Some(median(&per_round));
        }
    }
    let (a, b) = (a["rps"].as_f64()?, b["rps"].as_f64()?);
    (b > 0.0).then_some(a / b)
}

/// `✓` when `ratio` meets `goal`, `✗` when it misses, nothing without a ratio.
pub fn verdict(ratio: Option<f64>, goal: f64) -> &'static str {
    match ratio {
        Some(r) if r >= goal => "✓",
        Some(_) => "✗",
        None => "",
    }
}

/// `path` with `.` and `..` resolved lexically (no file system access).
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// How the `[assets]` block of the baseline's wrangler.toml (`baseline`, in the directory
/// `baseline_dir`) differs from Glimpse's (`glimpse` in `glimpse_dir`): one line per
/// difference, none when they agree. `directory` is compared as the directory it names, so
/// the baseline may point at Glimpse's built assets from elsewhere.
pub fn assets_differences(
    glimpse: &str,
    glimpse_dir: &Path,
    baseline: &str,
    baseline_dir: &Path,
) -> Result<Vec<String>, String> {
    let assets = |text: &str, dir: &Path, who: &str| -> Result<toml::Table, String> {
        let doc: toml::Table = text
            .parse()
            .map_err(|e| format!("{who}'s wrangler.toml: {e}"))?;
        let mut assets = match doc.get("assets") {
            Some(toml::Value::Table(t)) => t.clone(),
            Some(_) => return Err(format!("{who}'s wrangler.toml: [assets] is not a table")),
            None => toml::Table::new(),
        };
        if let Some(toml::Value::String(d)) = assets.get("directory") {
            let resolved = lexical(&dir.join(d)).to_string_lossy().into_owned();
            assets.insert("directory".into(), toml::Value::String(resolved));
        }
        Ok(assets)
    };
    let g = assets(glimpse, glimpse_dir, "Glimpse")?;
    let b = assets(baseline, baseline_dir, "the baseline")?;
    let mut keys: Vec<&String> = g.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    let show =
        |v: Option<&toml::Value>| v.map_or_else(|| "(absent)".to_string(), ToString::to_string);
    Ok(keys
        .into_iter()
        .filter(|k| g.get(*k) != b.get(*k))
        .map(|k| {
            format!(
                "[assets] {k}: Glimpse {} but the baseline {}",
                show(g.get(k)),
                show(b.get(k))
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const WRK: &str = "Running 8s test @ http://127.0.0.1:40000/v1/sites/demo/feed
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     9.10ms    2.02ms  41.50ms   88.00%
    Req/Sec     1.76k   120.33     1.90k    81.25%
  Latency Distribution
     50%  850.00us
     75%    9.80ms
     90%   11.02ms
     99%    1.20s
  14052 requests in 8.00s, 31.34MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:   1756.12
Transfer/sec:      3.92MB
";

    #[test]
    fn reads_wrk_reports_in_every_unit() {
        let load = parse_wrk(WRK).expect("a complete report");
        assert_eq!(load.requests, 14_052);
        assert!((load.rps - 1756.12).abs() < 1e-9);
        assert!((load.p50_ms - 0.85).abs() < 1e-9);
        assert!((load.p99_ms - 1200.0).abs() < 1e-9);
        assert_eq!(load.non_2xx, 7);
        assert_eq!(load.socket_errors, 5);
    }

    #[test]
    fn an_incomplete_wrk_report_is_not_a_result() {
        assert_eq!(
            parse_wrk("unable to connect to 127.0.0.1:1 Connection refused"),
            None
        );
        let no_latency: String = WRK.lines().filter(|l| !l.contains("99%")).collect();
        assert_eq!(parse_wrk(&no_latency), None);
    }

    #[test]
    fn reads_the_upload_size_of_a_dry_run() {
        let out = "Your Worker has access to the following bindings:\n\
                   Total Upload: 812.34 KiB / gzip: 301.20 KiB\n--dry-run: exiting now.";
        assert_eq!(parse_upload(out), Some((812.34, 301.2)));
        assert_eq!(parse_upload("Total Upload: lots"), None);
    }

    #[test]
    fn blocking_time_counts_only_the_part_beyond_50ms() {
        let b = blocking(&[30.0, 50.0, 51.0, 120.0]);
        assert_eq!(b.long_tasks, 2);
        assert!((b.longest_ms - 120.0).abs() < 1e-9);
        assert!((b.tbt_ms - 71.0).abs() < 1e-9);
        assert_eq!(
            blocking(&[]).tbt_ms.to_bits(),
            0.0f64.to_bits(),
            "+0, not -0"
        );
    }

    #[test]
    fn only_main_thread_tasks_count() {
        let trace = serde_json::json!([
            {"ph": "M", "name": "thread_name", "pid": 1, "tid": 7, "args": {"name": "CrRendererMain"}},
            {"ph": "M", "name": "thread_name", "pid": 1, "tid": 8, "args": {"name": "Compositor"}},
            {"ph": "X", "name": "RunTask", "pid": 1, "tid": 7, "dur": 80000},
            {"ph": "X", "name": "RunTask", "pid": 1, "tid": 8, "dur": 90000},
            {"ph": "X", "name": "FunctionCall", "pid": 1, "tid": 7, "dur": 70000},
            {"ph": "X", "name": "RunTask", "pid": 2, "tid": 7, "dur": 60000}
        ]);
        let tasks = main_thread_tasks(trace.as_array().map(Vec::as_slice).unwrap_or_default());
        assert_eq!(tasks, vec![80.0]);
    }

    #[test]
    fn busy_time_and_requests_per_slide() {
        assert!((busy_ms(&[1.5, 2.5, f64::NAN, -1.0]) - 4.0).abs() < 1e-9);
        let ev = |url: &str, redirect: bool| {
            let mut e = serde_json::json!({"method": "Network.requestWillBeSent",
                "params": {"request": {"url": url}}});
            if redirect {
                e["params"]["redirectResponse"] = serde_json::json!({"status": 302});
            }
            e
        };
        let events = vec![
            ev("http://127.0.0.1:9/media/a.webp?bench=0", false),
            ev("http://127.0.0.1:9/media/a.webp?bench=0", true),
            ev("http://127.0.0.1:9/media/a.webp?bench=1", false),
            serde_json::json!({"method": "Network.responseReceived",
                "params": {"request": {"url": "http://127.0.0.1:9/media/a.webp?bench=0"}}}),
        ];
        assert_eq!(requests_to(&events, "/media/a.webp?bench=0"), 1);
        assert_eq!(requests_to(&events, "/media/a.webp"), 0);
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn a_failed_part_is_its_error_and_the_others_stay() {
        let mut results = json!({ "machine": { "cores": 2 } });
        merge(
            &mut results,
            "throughput",
            Ok(json!([{ "case": "feed GET" }])),
        );
        merge(
            &mut results,
            "browser",
            Err("the trace shows no 120 ms task".into()),
        );
        assert_eq!(results["machine"]["cores"], 2);
        assert_eq!(results["throughput"][0]["case"], "feed GET");
        assert_eq!(
            results["browser"],
            json!({ "error": "the trace shows no 120 ms task" })
        );
        assert_eq!(
            error_of(&results["browser"]),
            Some("the trace shows no 120 ms task")
        );
        assert_eq!(error_of(&results["throughput"]), None);
        // A part measured again replaces its earlier outcome.
        merge(&mut results, "browser", Ok(json!([])));
        assert_eq!(results["browser"], json!([]));
        let mut not_an_object = Value::Null;
        merge(&mut not_an_object, "slides", Ok(json!(1)));
        assert_eq!(not_an_object, json!({ "slides": 1 }));
    }

    #[test]
    fn every_failure_is_found_with_its_path() {
        let results = json!({
            "machine": {},
            "worker_upload_kib": { "glimpse": { "raw": 1.0 }, "before": { "error": "no build" } },
            "throughput": [
                { "case": "feed GET", "glimpse": { "rps": 1.0 } },
                { "case": "vote POST", "trivial": { "error": "wrk gave no result" } }
            ],
            "browser": { "error": "no Chromium" },
        });
        assert_eq!(
            failures(&results),
            vec![
                ("browser".to_string(), "no Chromium".to_string()),
                (
                    "throughput[1].trivial".to_string(),
                    "wrk gave no result".to_string()
                ),
                (
                    "worker_upload_kib.before".to_string(),
                    "no build".to_string()
                ),
            ]
        );
        assert!(failures(&json!({ "machine": {}, "slides": [] })).is_empty());
    }

    #[test]
    fn ratios_need_two_measurements() {
        let a = json!({ "rps": 900.0 });
        let b = json!({ "rps": 1000.0 });
        assert_eq!(ratio(&a, &b), Some(0.9));
        assert_eq!(ratio(&a, &json!({ "error": "x" })), None);
        assert_eq!(ratio(&a, &json!({ "rps": 0.0 })), None);
        // Per round: the median of the rounds' ratios, not the ratio of the means; a round
        // where both sides were slowed alike (the third) does not pull it.
        let a = json!({ "rps": 600.0, "rounds_rps": [500.0, 520.0, 250.0, 510.0, 490.0] });
        let b = json!({ "rps": 700.0, "rounds_rps": [500.0, 500.0, 300.0, 600.0, 500.0] });
        assert_eq!(ratio(&a, &b), Some(0.98));
        assert_eq!(
            ratio(&a, &json!({ "rps": 700.0, "rounds_rps": [0.0] })),
            Some(600.0 / 700.0)
        );
        assert_eq!(verdict(Some(0.95), 0.95), "✓");
        assert_eq!(verdict(Some(0.9), 0.95), "✗");
        assert_eq!(verdict(None, 0.95), "");
    }

    const GLIMPSE_TOML: &str = r#"
name = "glimpse"
[assets]
directory = "assets"
run_worker_first = ["/v1/*", "/kb/*", "/health", "/"]
[vars]
X = "1"
"#;

    #[test]
    fn the_baseline_assets_block_is_compared_with_glimpses() {
        let worker = Path::new("/repo/worker");
        let trivial = Path::new("/repo/bench/trivial");
        let same = r#"
[assets]
directory = "../../worker/assets"
run_worker_first = ["/v1/*", "/kb/*", "/health", "/"]
"#;
        assert_eq!(
            assets_differences(GLIMPSE_TOML, worker, same, trivial),
            Ok(vec![])
        );
        let unrouted = "[assets]\ndirectory = \"./assets\"\n";
        assert_eq!(
            assets_differences(GLIMPSE_TOML, worker, unrouted, trivial),
            Ok(vec![
                "[assets] directory: Glimpse \"/repo/worker/assets\" but the baseline \
                 \"/repo/bench/trivial/assets\""
                    .to_string(),
                "[assets] run_worker_first: Glimpse [\"/v1/*\", \"/kb/*\", \"/health\", \"/\"] \
                 but the baseline (absent)"
                    .to_string(),
            ])
        );
        assert_eq!(
            assets_differences("", worker, "", trivial),
            Ok(vec![]),
            "neither has assets"
        );
        assert!(assets_differences("[assets", worker, same, trivial).is_err());
    }

    #[test]
    fn rounds_alternate_and_combine() {
        assert_eq!(round_order(3, 0).collect::<Vec<_>>(), vec![0, 1, 2]);
        assert_eq!(round_order(3, 1).collect::<Vec<_>>(), vec![2, 1, 0]);
        assert_eq!(round_order(2, 2).collect::<Vec<_>>(), vec![0, 1]);
        assert_eq!(round_order(0, 1).count(), 0);
        let run = |requests, rps, p50_ms, p99_ms, non_2xx| Load {
            requests,
            rps,
            p50_ms,
            p99_ms,
            non_2xx,
            socket_errors: 1,
        };
        let mut both = run(1800, 112.5, 9.0, 70.0, 2);
        both.socket_errors = 2;
        assert_eq!(
            combine(&[
                run(800, 100.0, 10.0, 50.0, 0),
                run(1000, 125.0, 8.0, 70.0, 2)
            ]),
            Some(both)
        );
        assert_eq!(combine(&[]), None);
    }
}
