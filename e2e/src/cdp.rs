//! A small, synchronous Chrome DevTools Protocol client: launch headless Chromium, open a
//! page, evaluate JavaScript, click like a user (real mouse events at the element's centre),
//! press keys and take screenshots. Selectors pierce open shadow roots, where the widget
//! lives.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};
use tungstenite::{Message, WebSocket};

use crate::Result;

/// Chromium flags that work on these machines: headless, no sandbox (root), and no
/// background traffic to a network that is not there.
const FLAGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--remote-debugging-port=0",
];

/// A headless Chromium; dropping it stops every Chromium process and removes its profile.
pub struct Browser {
    child: Child,
    ws: WebSocket<TcpStream>,
    next_id: u64,
    /// Events received while waiting for replies, oldest first.
    events: Vec<Value>,
    profile: PathBuf,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser")
            .field("pid", &self.child.id())
            .finish()
    }
}

impl Browser {
    /// Launches `chromium` with a fresh profile and connects to it.
    pub fn launch(chromium: &Path) -> Result<Self> {
        let profile = xtask::at("target/e2e").join(format!(
            "chromium-profile-{}-{}",
            std::process::id(),
            crate::stack::now_ms()
        ));
        std::fs::create_dir_all(&profile).map_err(|e| format!("profile dir: {e}"))?;
        let mut child = Command::new(chromium)
            .args(FLAGS)
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(|e| format!("start {}: {e}", chromium.display()))?;
        // Chromium prints the DevTools address on stderr; keep draining it afterwards.
        let stderr = child.stderr.take().ok_or("no chromium stderr")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr)
                .lines()
                .map_while(std::io::Result::ok)
            {
                if let Some(at) = line.find("ws://") {
                    let _ = tx.send(line[at..].trim().to_string());
                }
            }
        });
        let ws_url = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(url) => url,
            Err(_) => {
                xtask::run::stop_group(&mut child);
                return Err("chromium did not print its DevTools address".into());
            }
        };
        let ws = connect(&ws_url)?;
        Ok(Self {
            child,
            ws,
            next_id: 0,
            events: Vec::new(),
            profile,
        })
    }

    /// Sends a command (to a page session, or the browser) and waits for its result.
    pub fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Result<Value> {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        self.ws
            .send(Message::text(msg.to_string()))
            .map_err(|e| format!("{method}: send: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if Instant::now() > deadline {
                return Err(format!("{method}: no reply within 60s"));
            }
            let text = match self.ws.read() {
                Ok(Message::Text(t)) => t.to_string(),
                Ok(_) => continue,
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    continue;
                }
                Err(e) => return Err(format!("{method}: read: {e}")),
            };
            let v: Value = serde_json::from_str(&text).map_err(|e| format!("cdp json: {e}"))?;
            if v["id"].as_u64() == Some(id) {
                if let Some(err) = v.get("error") {
                    return Err(format!("{method}: {err}"));
                }
                return Ok(v["result"].clone());
            }
            if v.get("method").is_some() {
                self.events.push(v);
            }
        }
    }

    /// Opens a new tab in front with a 1280×800 viewport and returns it.
    pub fn new_page(&mut self) -> Result<Page<'_>> {
        let target = self.call(None, "Target.createTarget", json!({ "url": "about:blank" }))?;
        let target_id = target["targetId"]
            .as_str()
            .ok_or("no targetId")?
            .to_string();
        let attached = self.call(
            None,
            "Target.attachToTarget",
            json!({ "targetId": target_id, "flatten": true }),
        )?;
        let session = attached["sessionId"]
            .as_str()
            .ok_or("no sessionId")?
            .to_string();
        let mut page = Page {
            browser: self,
            session,
        };
        page.call("Page.enable", json!({}))?;
        page.call("Runtime.enable", json!({}))?;
        page.set_viewport(1280, 800)?;
        // The tab the test drives is the one in front, as the page a visitor uses is: a
        // background tab's animation frames (and the widget's work that waits on them) do
        // not run until it is shown.
        page.call("Page.bringToFront", json!({}))?;
        Ok(page)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.ws.close(None);
        xtask::run::stop_group(&mut self.child);
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn connect(url: &str) -> Result<WebSocket<TcpStream>> {
    let addr = url
        .strip_prefix("ws://")
        .and_then(|r| r.split('/').next())
        .ok_or_else(|| format!("bad DevTools url {url}"))?;
    let stream = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    // A busy machine may take a while to answer the upgrade: give the handshake time, and
    // only then switch to the short read timeout the event loop polls with (a short one
    // here made the handshake fail with WouldBlock now and then).
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let (ws, _) = tungstenite::client(url, stream).map_err(|e| format!("websocket {url}: {e}"))?;
    ws.get_ref()
        .set_read_timeout(Some(Duration::from_millis(500)))
        .map_err(|e| e.to_string())?;
    Ok(ws)
}

/// JavaScript that finds the first element matching `selector` in the document or any open
/// shadow root below it, or `null`.
pub fn deep(selector: &str) -> String {
    format!(
        "(function find(root, sel) {{ const hit = root.querySelector(sel); if (hit) return hit; \
         for (const el of root.querySelectorAll('*')) {{ if (el.shadowRoot) {{ \
         const inner = find(el.shadowRoot, sel); if (inner) return inner; }} }} return null; }})\
         (document, {})",
        json!(selector)
    )
}

/// Writes base64 PNG data to `target/e2e/screenshots/{name}.png`.
fn save_png(name: &str, data: &str) -> Result<PathBuf> {
    let png = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|e| format!("screenshot: {e}"))?;
    let path = xtask::at("target/e2e/screenshots").join(format!("{name}.png"));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("mkdir: {e}"))?;
    }
    std::fs::write(&path, png).map_err(|e| format!("write {}: {e}", path.display()))?;
    Ok(path)
}

/// JavaScript that finds the first element matching `selector` in the document or any open
/// shadow root below it whose text contains `text`, or `undefined`.
pub fn deep_with_text(selector: &str, text: &str) -> String {
    format!(
        "[...(function all(r) {{ let out = [...r.querySelectorAll({})]; \
         for (const e of r.querySelectorAll('*')) if (e.shadowRoot) out = out.concat(all(e.shadowRoot)); \
         return out; }})(document)].find(e => e.innerText.includes({}))",
        json!(selector),
        json!(text)
    )
}

/// One tab.
pub struct Page<'b> {
    browser: &'b mut Browser,
    session: String,
}

impl std::fmt::Debug for Page<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Page")
            .field("session", &self.session)
            .finish()
    }
}

/// Counts, before any script of the page runs, every error and unhandled promise
/// rejection that reaches the host page (install with `Page.addScriptToEvaluateOnNewDocument`,
/// check with [`Page::assert_host_page_clean`]).
pub const HOST_GUARD: &str = "window.__hostSaw = { errors: [], rejections: [] }; \
    addEventListener('error', e => __hostSaw.errors.push(String(e.message || e.error || e.type))); \
    addEventListener('unhandledrejection', e => __hostSaw.rejections.push(String(e.reason && (e.reason.message || e.reason)))); ";

impl Page<'_> {
    /// Nothing from the widget reached the host page: no error event, no unhandled
    /// rejection (counted by [`HOST_GUARD`]), no uncaught exception. Panics otherwise, with
    /// the page's console.
    #[allow(clippy::panic)]
    pub fn assert_host_page_clean(&mut self) -> Result {
        let saw = self.eval("__hostSaw")?;
        let console = self.console().join("\n");
        assert_eq!(
            saw["errors"],
            json!([]),
            "errors reached the host page; console:\n{console}"
        );
        assert_eq!(
            saw["rejections"],
            json!([]),
            "unhandled rejections reached the host page; console:\n{console}"
        );
        assert_eq!(self.exceptions(), Vec::<String>::new());
        Ok(())
    }

    /// Sends a command to this page.
    pub fn call(&mut self, method: &str, params: Value) -> Result<Value> {
        let session = self.session.clone();
        self.browser.call(Some(&session), method, params)
    }

    pub fn set_viewport(&mut self, width: u32, height: u32) -> Result {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false }),
        )
        .map(|_| ())
    }

    /// Navigates and waits until the document has loaded.
    pub fn goto(&mut self, url: &str) -> Result {
        let nav = self.call("Page.navigate", json!({ "url": url }))?;
        if let Some(err) = nav.get("errorText").and_then(Value::as_str) {
            return Err(format!("navigate {url}: {err}"));
        }
        self.wait_for(
            "document.readyState === 'complete'",
            Duration::from_secs(30),
        )
        .map(|_| ())
    }

    /// Evaluates `expression` (awaiting promises) and returns its JSON value.
    pub fn eval(&mut self, expression: &str) -> Result<Value> {
        let res = self.call(
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
        )?;
        if let Some(ex) = res.get("exceptionDetails") {
            return Err(format!("{expression}: threw {ex}"));
        }
        Ok(res["result"]["value"].clone())
    }

    /// Polls `expression` until it is truthy; returns its value.
    pub fn wait_for(&mut self, expression: &str, timeout: Duration) -> Result<Value> {
        let deadline = Instant::now() + timeout;
        let mut last = Value::Null;
        while Instant::now() < deadline {
            last = self.eval(expression)?;
            let truthy = match &last {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if truthy {
                return Ok(last);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!(
            "waited {timeout:?} for `{expression}`; last value {last}; page console:\n{}",
            self.console().join("\n")
        ))
    }

    /// Waits until the element matching `selector` (piercing shadow roots) is rendered with
    /// a non-empty box.
    pub fn wait_visible(&mut self, selector: &str) -> Result {
        let js = format!(
            "(() => {{ const el = {}; if (!el) return false; const r = el.getBoundingClientRect(); \
             const s = getComputedStyle(el); return r.width > 0 && r.height > 0 && \
             s.visibility !== 'hidden' && s.display !== 'none'; }})()",
            deep(selector)
        );
        self.wait_for(&js, Duration::from_secs(20)).map(|_| ())
    }

    /// Waits until the element matching `selector` contains `text` (`innerText`).
    pub fn wait_text(&mut self, selector: &str, text: &str) -> Result {
        self.wait_for(
            &format!(
                "(() => {{ const el = {}; return el && el.innerText.includes({}); }})()",
                deep(selector),
                json!(text)
            ),
            Duration::from_secs(20),
        )
        .map(|_| ())
    }

    /// Waits until nothing matches `selector`.
    pub fn wait_gone(&mut self, selector: &str) -> Result {
        self.wait_for(
            &format!("{} === null", deep(selector)),
            Duration::from_secs(20),
        )
        .map(|_| ())
    }

    /// Whether an element matches `selector` now.
    pub fn exists(&mut self, selector: &str) -> Result<bool> {
        Ok(self.eval(&format!("{} !== null", deep(selector)))? == Value::Bool(true))
    }

    /// The element's visible text (`innerText`).
    pub fn text(&mut self, selector: &str) -> Result<String> {
        let v = self.eval(&format!(
            "(() => {{ const el = {}; return el && el.innerText; }})()",
            deep(selector)
        ))?;
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("no element {selector}"))
    }

    /// Clicks the element like a user: a real left-button press and release at its centre.
    /// Fails if another element covers that point.
    pub fn click(&mut self, selector: &str) -> Result {
        self.wait_visible(selector)?;
        // The element's box must hold still first: content that arrives after a page shows
        // (lists loaded from the API) moves what is below it, and a click aimed before that
        // lands on whatever moved into its place. Measured from here, not with timers in the
        // page, which a page without JavaScript does not run.
        let boxed = format!(
            "(() => {{ const el = {}; el.scrollIntoView({{block: 'center', inline: 'center'}}); \
             const b = el.getBoundingClientRect(); return [b.left, b.top, b.width, b.height].join(); }})()",
            deep(selector)
        );
        let mut prev = self.eval(&boxed)?;
        for _ in 0..30 {
            std::thread::sleep(Duration::from_millis(50));
            let now = self.eval(&boxed)?;
            if now == prev {
                break;
            }
            prev = now;
        }
        let js = format!(
            "(() => {{ const el = {}; el.scrollIntoView({{block: 'center', inline: 'center'}}); \
             const r = el.getBoundingClientRect(); const x = r.left + r.width / 2, y = r.top + r.height / 2; \
             let hit = document.elementFromPoint(x, y); \
             while (hit && hit.shadowRoot) {{ const inner = hit.shadowRoot.elementFromPoint(x, y); if (!inner || inner === hit) break; hit = inner; }} \
             return {{ x, y, covered: !(hit === el || el.contains(hit)) }}; }})()",
            deep(selector)
        );
        // Something passing over it (a reflow, a status line appearing) is waited out for
        // a moment; still covered then is an error.
        let mut at = self.eval(&js)?;
        for _ in 0..10 {
            if at["covered"] != Value::Bool(true) {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
            at = self.eval(&js)?;
        }
        if at["covered"] == Value::Bool(true) {
            return Err(format!("{selector} is covered by another element"));
        }
        let (x, y) = (at["x"].clone(), at["y"].clone());
        for kind in ["mouseMoved", "mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({ "type": kind, "x": x, "y": y, "button": "left", "clickCount": 1 }),
            )?;
        }
        Ok(())
    }

    /// Swipes a finger across the element: a real touch that starts at its centre and moves
    /// `(dx, dy)` CSS pixels in ten steps before lifting, as a thumb on a phone would.
    pub fn swipe(&mut self, selector: &str, dx: f64, dy: f64) -> Result {
        self.wait_visible(selector)?;
        let at = self.eval(&format!(
            "(() => {{ const r = {}.getBoundingClientRect(); \
             return {{ x: r.left + r.width / 2, y: r.top + r.height / 2 }}; }})()",
            deep(selector)
        ))?;
        let (x, y) = (
            at["x"].as_f64().ok_or("no x")?,
            at["y"].as_f64().ok_or("no y")?,
        );
        let point = |f: f64| json!([{ "x": x + dx * f, "y": y + dy * f, "id": 1 }]);
        self.call(
            "Input.dispatchTouchEvent",
            json!({ "type": "touchStart", "touchPoints": point(0.0) }),
        )?;
        for step in 1..=10 {
            self.call(
                "Input.dispatchTouchEvent",
                json!({ "type": "touchMove", "touchPoints": point(f64::from(step) / 10.0) }),
            )?;
        }
        self.call(
            "Input.dispatchTouchEvent",
            json!({ "type": "touchEnd", "touchPoints": [] }),
        )?;
        Ok(())
    }

    /// Presses and releases a key (`"Escape"`, `"ArrowRight"`, `"Tab"`, `"Enter"`, `" "`, …)
    /// on the focused element, with the browser's default actions (focus moves, activation).
    pub fn press(&mut self, key: &str) -> Result {
        self.press_with(key, 0)
    }

    /// [`Page::press`] with modifiers (8 = Shift).
    pub fn press_with(&mut self, key: &str, modifiers: u32) -> Result {
        let (code, name, text) = match key {
            "Escape" => (27, "Escape", ""),
            "ArrowLeft" => (37, "ArrowLeft", ""),
            "ArrowRight" => (39, "ArrowRight", ""),
            " " => (32, "Space", " "),
            "Enter" => (13, "Enter", "\r"),
            "Tab" => (9, "Tab", ""),
            _ => (0, key, ""),
        };
        let down = if text.is_empty() {
            "rawKeyDown"
        } else {
            "keyDown"
        };
        self.call(
            "Input.dispatchKeyEvent",
            json!({ "type": down, "key": key, "code": name, "windowsVirtualKeyCode": code,
                    "text": text, "modifiers": modifiers }),
        )?;
        self.call(
            "Input.dispatchKeyEvent",
            json!({ "type": "keyUp", "key": key, "code": name, "windowsVirtualKeyCode": code,
                    "modifiers": modifiers }),
        )?;
        Ok(())
    }

    /// Emulates `prefers-color-scheme` (`"light"` or `"dark"`).
    pub fn color_scheme(&mut self, scheme: &str) -> Result {
        self.call(
            "Emulation.setEmulatedMedia",
            json!({ "features": [{ "name": "prefers-color-scheme", "value": scheme }] }),
        )
        .map(|_| ())
    }

    /// Takes the page offline (or back online), as a network drop would.
    pub fn offline(&mut self, offline: bool) -> Result {
        self.call("Network.enable", json!({}))?;
        self.call(
            "Network.emulateNetworkConditions",
            json!({ "offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 }),
        )
        .map(|_| ())
    }

    /// PNG bytes of the viewport region `(x, y, width, height)` in CSS pixels.
    pub fn capture(&mut self, clip: (f64, f64, f64, f64)) -> Result<Vec<u8>> {
        let (x, y, width, height) = clip;
        let shot = self.call(
            "Page.captureScreenshot",
            json!({ "format": "png", "clip": { "x": x, "y": y, "width": width, "height": height, "scale": 1 } }),
        )?;
        base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().ok_or("no screenshot data")?)
            .map_err(|e| format!("screenshot: {e}"))
    }

    /// Sets a form control's value as typing and leaving it would (`input`, then `change`).
    pub fn fill(&mut self, selector: &str, value: &str) -> Result {
        self.wait_for(&format!("!!{}", deep(selector)), Duration::from_secs(20))?;
        self.eval(&format!(
            "(() => {{ const el = {}; if (!el) throw new Error('no ' + {}); el.value = {}; \
             for (const t of ['input', 'change']) el.dispatchEvent(new Event(t, {{ bubbles: true }})); \
             return true; }})()",
            deep(selector),
            json!(selector),
            json!(value)
        ))
        .map(|_| ())
    }

    /// Saves a PNG of the whole page (not only the viewport) to
    /// `target/e2e/screenshots/{name}.png`.
    pub fn screenshot_full(&mut self, name: &str) -> Result<PathBuf> {
        let shot = self.call(
            "Page.captureScreenshot",
            json!({ "format": "png", "captureBeyondViewport": true }),
        )?;
        save_png(name, shot["data"].as_str().ok_or("no screenshot data")?)
    }

    /// Saves a PNG of the viewport to `target/e2e/screenshots/{name}.png`.
    pub fn screenshot(&mut self, name: &str) -> Result<PathBuf> {
        let shot = self.call("Page.captureScreenshot", json!({ "format": "png" }))?;
        save_png(name, shot["data"].as_str().ok_or("no screenshot data")?)
    }

    /// Console messages and uncaught exceptions so far, one line each.
    pub fn console(&self) -> Vec<String> {
        self.browser
            .events
            .iter()
            .filter_map(|e| match e["method"].as_str() {
                Some("Runtime.consoleAPICalled") => Some(format!(
                    "console.{}: {}",
                    e["params"]["type"].as_str().unwrap_or("log"),
                    e["params"]["args"]
                        .as_array()
                        .map(|a| a
                            .iter()
                            .map(|v| v.get("value").unwrap_or(&v["description"]).to_string())
                            .collect::<Vec<_>>()
                            .join(" "))
                        .unwrap_or_default()
                )),
                Some("Runtime.exceptionThrown") => {
                    Some(format!("uncaught: {}", e["params"]["exceptionDetails"]))
                }
                _ => None,
            })
            .collect()
    }

    /// Waits for the event `method`, then returns (and forgets) every event received so far.
    pub fn drain_events_until(&mut self, method: &str, timeout: Duration) -> Result<Vec<Value>> {
        let deadline = Instant::now() + timeout;
        while !self.browser.events.iter().any(|e| e["method"] == method) {
            if Instant::now() > deadline {
                return Err(format!("no {method} within {timeout:?}"));
            }
            // Any round trip reads the events that arrived meanwhile.
            let _ = self.eval("0");
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(std::mem::take(&mut self.browser.events))
    }

    /// Console lines that mention Glimpse (the widget prefixes everything it logs).
    pub fn glimpse_console(&self) -> Vec<String> {
        self.console()
            .into_iter()
            .filter(|l| l.contains("Glimpse"))
            .collect()
    }

    /// Waits until keyboard focus is on the widget's launcher (after a dialog closes).
    /// The open story's progress through its current slide (0–1), read from the current
    /// bar's `scaleX` fill; -1 when no viewer is open.
    pub fn story_progress(&mut self) -> Result<f64> {
        let v = self.eval(&format!(
            "(() => {{ const v = {}; if (!v) return -1; const fills = [...v.querySelectorAll('.fill')]; \
             const cur = fills.find(f => !/scaleX\\(1(\\.0+)?\\)/.test(f.style.transform)) || fills[fills.length-1]; \
             const m = cur && /scaleX\\(([0-9.]+)\\)/.exec(cur.style.transform); return m ? parseFloat(m[1]) : -1; }})()",
            deep("[data-testid=glimpse-viewer]")
        ))?;
        v.as_f64().ok_or_else(|| "no progress".to_string())
    }

    pub fn wait_focus_on_launcher(&mut self) -> Result {
        self.wait_for(
            "document.activeElement?.shadowRoot?.activeElement?.dataset.testid === 'glimpse-launcher'",
            Duration::from_secs(20),
        )
        .map(|_| ())
    }

    /// Every event named `method` received so far (they stay recorded).
    pub fn events(&mut self, method: &str) -> Vec<Value> {
        let _ = self.eval("0");
        self.browser
            .events
            .iter()
            .filter(|e| e["method"] == method)
            .cloned()
            .collect()
    }

    /// Removes and returns the events named `method` received so far (e.g. paused requests
    /// to answer once).
    pub fn take_events(&mut self, method: &str) -> Vec<Value> {
        let _ = self.eval("0");
        let (hit, rest) = std::mem::take(&mut self.browser.events)
            .into_iter()
            .partition(|e| e["method"] == method);
        self.browser.events = rest;
        hit
    }

    /// Uncaught exceptions the page has thrown so far.
    pub fn exceptions(&mut self) -> Vec<String> {
        // Drain pending events with a cheap round trip.
        let _ = self.eval("0");
        self.browser
            .events
            .iter()
            .filter(|e| e["method"] == "Runtime.exceptionThrown")
            .map(|e| e["params"]["exceptionDetails"].to_string())
            .collect()
    }
}

/// Phones, touch, wheel and layout probes (host-page and phone tests).
impl Page<'_> {
    /// Emulates a phone: a `width × height` CSS-pixel screen at `scale` device pixels per
    /// CSS pixel, mobile viewport rules (meta viewport, overlay scrollbars) and a touch
    /// screen.
    pub fn phone(&mut self, width: u32, height: u32, scale: f64) -> Result {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": scale, "mobile": true,
                    "screenWidth": width, "screenHeight": height }),
        )?;
        self.call(
            "Emulation.setTouchEmulationEnabled",
            json!({ "enabled": true, "maxTouchPoints": 5 }),
        )
        .map(|_| ())
    }

    /// Taps the element like a finger: a touch that starts and ends at its centre. Fails
    /// if the centre is outside the visual viewport or another element covers it.
    pub fn tap(&mut self, selector: &str) -> Result {
        self.wait_visible(selector)?;
        let js = format!(
            "(() => {{ const el = {}; const r = el.getBoundingClientRect(); \
             const x = r.left + r.width / 2, y = r.top + r.height / 2; \
             const v = window.visualViewport; \
             let hit = document.elementFromPoint(x, y); \
             while (hit && hit.shadowRoot) {{ const inner = hit.shadowRoot.elementFromPoint(x, y); if (!inner || inner === hit) break; hit = inner; }} \
             return {{ x: (x - v.offsetLeft) * v.scale, y: (y - v.offsetTop) * v.scale, \
                       outside: x < v.offsetLeft || y < v.offsetTop || x > v.offsetLeft + v.width || y > v.offsetTop + v.height, \
                       covered: !(hit === el || el.contains(hit)) }}; }})()",
            deep(selector)
        );
        let at = self.eval(&js)?;
        if at["outside"] == Value::Bool(true) {
            return Err(format!("{selector} is outside the visible screen: {at}"));
        }
        if at["covered"] == Value::Bool(true) {
            return Err(format!("{selector} is covered by another element"));
        }
        let point = json!([{ "x": at["x"], "y": at["y"], "id": 1 }]);
        self.call(
            "Input.dispatchTouchEvent",
            json!({ "type": "touchStart", "touchPoints": point }),
        )?;
        self.call(
            "Input.dispatchTouchEvent",
            json!({ "type": "touchEnd", "touchPoints": [] }),
        )
        .map(|_| ())
    }

    /// Turns the mouse wheel by `(dx, dy)` pixels with the pointer at `(x, y)`.
    pub fn wheel(&mut self, x: f64, y: f64, dx: f64, dy: f64) -> Result {
        self.call(
            "Input.dispatchMouseEvent",
            json!({ "type": "mouseWheel", "x": x, "y": y, "deltaX": dx, "deltaY": dy }),
        )
        .map(|_| ())
    }

    /// Drags a finger from `(x, y)` by `(dx, dy)` (viewport pixels) in ten steps: on a page,
    /// a touch scroll.
    pub fn touch_drag(&mut self, x: f64, y: f64, dx: f64, dy: f64) -> Result {
        let point = |f: f64| json!([{ "x": x + dx * f, "y": y + dy * f, "id": 7 }]);
        self.call(
            "Input.dispatchTouchEvent",
            json!({ "type": "touchStart", "touchPoints": point(0.0) }),
        )?;
        for step in 1..=10 {
            self.call(
                "Input.dispatchTouchEvent",
                json!({ "type": "touchMove", "touchPoints": point(f64::from(step) / 10.0) }),
            )?;
        }
        self.call(
            "Input.dispatchTouchEvent",
            json!({ "type": "touchEnd", "touchPoints": [] }),
        )
        .map(|_| ())
    }

    /// Presses and releases a key the browser acts on by its key code (`"PageDown"`,
    /// `"PageUp"`, `"End"`, `"Home"`, `"ArrowDown"`, `"ArrowUp"`, `" "`), as
    /// [`Page::press`] does for the keys it knows.
    pub fn press_scroll_key(&mut self, key: &str) -> Result {
        let (code, name, text) = match key {
            "PageUp" => (33, "PageUp", ""),
            "PageDown" => (34, "PageDown", ""),
            "End" => (35, "End", ""),
            "Home" => (36, "Home", ""),
            "ArrowUp" => (38, "ArrowUp", ""),
            "ArrowDown" => (40, "ArrowDown", ""),
            " " => (32, "Space", " "),
            other => return Err(format!("press_scroll_key: unknown key {other:?}")),
        };
        let down = if text.is_empty() {
            "rawKeyDown"
        } else {
            "keyDown"
        };
        self.call(
            "Input.dispatchKeyEvent",
            json!({ "type": down, "key": key, "code": name, "windowsVirtualKeyCode": code,
                    "nativeVirtualKeyCode": code, "text": text }),
        )?;
        self.call(
            "Input.dispatchKeyEvent",
            json!({ "type": "keyUp", "key": key, "code": name, "windowsVirtualKeyCode": code,
                    "nativeVirtualKeyCode": code }),
        )
        .map(|_| ())
    }

    /// The element's box `[left, top, width, height]` in CSS pixels of the layout
    /// viewport (piercing shadow roots), or an error if nothing matches.
    pub fn rect(&mut self, selector: &str) -> Result<[f64; 4]> {
        let v = self.eval(&format!(
            "(() => {{ const el = {}; if (!el) return null; const r = el.getBoundingClientRect(); \
             return [r.left, r.top, r.width, r.height]; }})()",
            deep(selector)
        ))?;
        rect_of(&v).ok_or_else(|| format!("no element {selector}"))
    }

    /// What the visitor sees, `[left, top, width, height]` in CSS pixels of the layout
    /// viewport (`window.visualViewport`).
    pub fn visual_viewport(&mut self) -> Result<[f64; 4]> {
        let v = self.eval(
            "(() => { const v = window.visualViewport; \
             return [v.offsetLeft, v.offsetTop, v.width, v.height]; })()",
        )?;
        rect_of(&v).ok_or_else(|| "no visualViewport".to_string())
    }

    /// DevTools events of kind `method` received so far (kept, not drained), e.g.
    /// `Network.requestWillBeSent` after `Network.enable`.
    pub fn events_of(&mut self, method: &str) -> Vec<Value> {
        // Any round trip reads the events that arrived meanwhile.
        let _ = self.eval("0");
        self.browser
            .events
            .iter()
            .filter(|e| e["method"] == method)
            .cloned()
            .collect()
    }
}

fn rect_of(v: &Value) -> Option<[f64; 4]> {
    let a = v.as_array()?;
    Some([
        a.first()?.as_f64()?,
        a.get(1)?.as_f64()?,
        a.get(2)?.as_f64()?,
        a.get(3)?.as_f64()?,
    ])
}
