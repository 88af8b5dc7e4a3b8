//! The live Q&A load tool (`cargo xtask bench --live [--viewers N]`): opens `N` WebSocket
//! viewers on one session's room through the visitors' worker (the path a widget takes: the
//! visitors' worker, its service binding, the operators' worker, the room's Durable Object),
//! then has the host change the room's status line `rounds` times and times how long each
//! change takes to reach every viewer, from just before the host's request is sent to the
//! moment a viewer's thread has read the frame. workerd's resident memory is sampled before
//! the viewers connect, once they all have, and after the broadcasts.
//!
//! One OS thread per viewer (blocking `tungstenite` reads with a short timeout): simple and
//! faithful to "N independent clients", and 2,000 threads are cheap on Linux. Everything runs
//! on the same machine as workerd, so the figures include the load generator's own cost.

use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tungstenite::Message;

use crate::Result;
use crate::stack::Stack;

/// What one run measures.
#[derive(Debug, Clone)]
pub struct Plan {
    pub site: String,
    pub session: String,
    pub viewers: usize,
    /// Host changes broadcast, one after the other.
    pub rounds: usize,
    /// Pause between two changes.
    pub gap: Duration,
}

/// Viewers connecting at once: more would only queue in the kernel's accept backlog.
const CONNECT_BATCH: usize = 100;
/// How long all viewers may take to connect and read the room.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(180);
/// A viewer's read timeout (how often it checks whether the run is over).
const READ_POLL: Duration = Duration::from_millis(250);
/// How long after the last change the viewers keep reading.
const DRAIN: Duration = Duration::from_secs(3);

/// One viewer's outcome: the versions it received and when.
type Received = Vec<(u64, Instant)>;

/// Opens one viewer, reads the room's state, counts itself `ready`, then records every
/// change's version until `stop`.
fn viewer(port: u16, path: &str, ready: &AtomicUsize, stop: &AtomicBool) -> Result<Received> {
    let stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let (mut ws, _) = tungstenite::client(format!("ws://127.0.0.1:{port}{path}"), stream)
        .map_err(|e| format!("handshake: {e}"))?;
    // The first frame is the whole room.
    loop {
        match ws.read() {
            Ok(Message::Text(text)) => {
                let v: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
                if v["type"] == "state" {
                    break;
                }
            }
            Ok(_) => {}
            Err(e) => return Err(format!("reading the room's state: {e}")),
        }
    }
    ready.fetch_add(1, Ordering::SeqCst);
    ws.get_ref()
        .set_read_timeout(Some(READ_POLL))
        .map_err(|e| e.to_string())?;
    let mut got = Vec::new();
    loop {
        match ws.read() {
            Ok(Message::Text(text)) => {
                let at = Instant::now();
                if let Ok(v) = serde_json::from_str::<Value>(&text)
                    && let Some(version) = v["version"].as_u64()
                {
                    got.push((version, at));
                }
            }
            Ok(Message::Close(_)) => return Err("the room closed the socket".into()),
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if stop.load(Ordering::SeqCst) {
                    let _ = ws.close(None);
                    return Ok(got);
                }
            }
            Err(e) => return Err(format!("reading: {e}")),
        }
    }
}

/// The resident memory of every `workerd` process, in KiB (Linux `/proc`; 0 elsewhere).
pub fn workerd_rss_kib() -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(std::result::Result::ok)
        .filter(|e| {
            std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim() == "workerd")
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("status")).ok())
        .filter_map(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .sum()
}

/// The `p`-th percentile (0–100, nearest rank) of `xs`; NaN when empty.
pub fn percentile(xs: &[f64], p: f64) -> f64 {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

/// Each delivery's latency in ms: for every viewer and every change it received that the
/// host sent (`sent`: version → when its request started), the time between. Returns the
/// latencies and how many (viewer, change) pairs were never delivered.
pub fn latencies(sent: &[(u64, Instant)], received: &[Received]) -> (Vec<f64>, usize) {
    let mut out = Vec::with_capacity(sent.len() * received.len());
    let mut missing = 0;
    for got in received {
        for (version, t0) in sent {
            match got.iter().find(|(v, _)| v == version) {
                Some((_, at)) => out.push(at.saturating_duration_since(*t0).as_secs_f64() * 1e3),
                None => missing += 1,
            }
        }
    }
    (out, missing)
}

/// Runs `plan` against `stack`: the results as JSON (see BENCHMARKS.md, "Live Q&A").
pub fn measure(stack: &Stack, plan: &Plan) -> Result<Value> {
    let port = stack.server.port;
    let room = format!("/v1/sites/{}/live/{}", plan.site, plan.session);
    let first = stack.request("GET", &room, &[], "")?;
    if first.status != 200 {
        return Err(format!(
            "GET {room}: {} {} (is the session live?)",
            first.status, first.body
        ));
    }
    let rss_before = workerd_rss_kib();
    let ready = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let failed = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut threads = Vec::with_capacity(plan.viewers);
    for i in 0..plan.viewers {
        let (ready_, stop_, failed_, path) = (
            Arc::clone(&ready),
            Arc::clone(&stop),
            Arc::clone(&failed),
            room.clone(),
        );
        let spawned = std::thread::Builder::new()
            .name(format!("viewer-{i}"))
            .stack_size(256 * 1024)
            .spawn(move || {
                let out = viewer(port, &path, &ready_, &stop_);
                if out.is_err() {
                    failed_.fetch_add(1, Ordering::SeqCst);
                }
                out
            })
            .map_err(|e| format!("spawning viewer {i}: {e}"))?;
        threads.push(spawned);
        // Let each batch connect before the next starts.
        if (i + 1) % CONNECT_BATCH == 0 {
            while ready.load(Ordering::SeqCst) + failed.load(Ordering::SeqCst) < i + 1 {
                if started.elapsed() > CONNECT_TIMEOUT {
                    stop.store(true, Ordering::SeqCst);
                    return Err(format!(
                        "only {} of {} viewers connected in {CONNECT_TIMEOUT:?}",
                        ready.load(Ordering::SeqCst),
                        i + 1
                    ));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
    while ready.load(Ordering::SeqCst) + failed.load(Ordering::SeqCst) < plan.viewers {
        if started.elapsed() > CONNECT_TIMEOUT {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let connect_s = started.elapsed().as_secs_f64();
    let connected = ready.load(Ordering::SeqCst);
    // Let the sockets settle (the room counts them) before measuring memory.
    std::thread::sleep(Duration::from_secs(1));
    let rss_connected = workerd_rss_kib();
    let host = stack.host_view(&plan.site, &plan.session)?;
    let watching = host["watching"].as_u64().unwrap_or(0);
    let auth = format!("Bearer {}", stack.admin_token);
    let mut sent = Vec::with_capacity(plan.rounds);
    let mut host_ms = Vec::with_capacity(plan.rounds);
    for round in 0..plan.rounds {
        let body = json!({ "status": format!("Load round {round}") }).to_string();
        let t0 = Instant::now();
        let res = stack.request(
            "PUT",
            &format!("/v1/admin/sites/{}/live/{}/status", plan.site, plan.session),
            &[
                ("authorization", auth.as_str()),
                ("content-type", "application/json"),
            ],
            &body,
        )?;
        host_ms.push(t0.elapsed().as_secs_f64() * 1e3);
        if res.status != 200 {
            stop.store(true, Ordering::SeqCst);
            return Err(format!("host status change: {} {}", res.status, res.body));
        }
        let version = serde_json::from_str::<Value>(&res.body)
            .ok()
            .and_then(|v| v["version"].as_u64())
            .ok_or_else(|| format!("no version in the host's answer: {}", res.body))?;
        sent.push((version, t0));
        std::thread::sleep(plan.gap);
    }
    std::thread::sleep(DRAIN);
    let rss_after = workerd_rss_kib();
    stop.store(true, Ordering::SeqCst);
    let mut received = Vec::with_capacity(threads.len());
    let mut errors: Vec<String> = Vec::new();
    for t in threads {
        match t.join() {
            Ok(Ok(got)) => received.push(got),
            Ok(Err(e)) => errors.push(e),
            Err(_) => errors.push("a viewer thread panicked".into()),
        }
    }
    let (ms, missing) = latencies(&sent, &received);
    errors.sort();
    errors.dedup();
    let per_viewer_kib =
        (rss_connected.saturating_sub(rss_before)) as f64 / connected.max(1) as f64;
    Ok(json!({
        "viewers": plan.viewers,
        "connected": connected,
        "failed": plan.viewers - connected,
        "errors": errors.into_iter().take(5).collect::<Vec<_>>(),
        "connect_s": connect_s,
        "watching_seen_by_host": watching,
        "rounds": plan.rounds,
        "deliveries": ms.len(),
        "missing": missing,
        "broadcast_ms": {
            "p50": percentile(&ms, 50.0),
            "p95": percentile(&ms, 95.0),
            "p99": percentile(&ms, 99.0),
            "max": percentile(&ms, 100.0),
        },
        "host_request_ms_p50": percentile(&host_ms, 50.0),
        "workerd_rss_kib": {
            "before": rss_before,
            "connected": rss_connected,
            "after_broadcasts": rss_after,
            "per_viewer": per_viewer_kib,
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let xs: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&xs, 50.0), 50.0);
        assert_eq!(percentile(&xs, 99.0), 99.0);
        assert_eq!(percentile(&xs, 100.0), 100.0);
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
        assert!(percentile(&[], 50.0).is_nan());
    }

    #[test]
    fn latencies_pair_each_viewer_with_each_change_and_count_what_never_came() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let sent = [(5, t0), (6, at(100))];
        let received = vec![vec![(5, at(10)), (6, at(130))], vec![(6, at(120))]];
        let (ms, missing) = latencies(&sent, &received);
        assert_eq!(
            ms.iter().map(|m| m.round() as i64).collect::<Vec<_>>(),
            [10, 30, 20]
        );
        assert_eq!(missing, 1);
    }
}
