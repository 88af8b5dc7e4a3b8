//! Skipping build steps whose inputs have not changed.
//!
//! Each cached step (widget, loader, console, worker) hashes what it reads — the source files
//! of its crates and of their local path dependencies as git lists them (tracked, plus
//! untracked files that are not ignored), the workspace's Cargo.toml, Cargo.lock,
//! rust-toolchain.toml and .cargo/config.toml, the xtask code that builds it, the compiler's
//! and tools' versions and the environment cargo reads — with SHA-256. After a step succeeds,
//! `target/xtask-cache/<step>.json` records that hash and every file the step wrote, with its
//! size and SHA-256. The next run skips the step when the hash is the same and every output
//! is still there, byte for byte. The stamp is removed before a step runs and written only
//! after it succeeded, so a failed or interrupted build never leaves one; `--rebuild` ignores
//! the stamps.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Result;

/// The command-line flag that runs every cached step.
pub const REBUILD: &str = "--rebuild";

/// Bump when what a stamp means changes in a way the hashed inputs cannot show.
const FORMAT: &str = "xtask-cache v1";

/// The SHA-256 of `bytes`, as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The inputs of one step, hashed as they are added. Every entry is framed (its kind, its
/// name and its length go in before its bytes), so no two different sets of inputs hash alike
/// by shifting bytes from one entry into the next.
#[derive(Debug, Clone)]
pub struct Inputs {
    hasher: Sha256,
    files: usize,
    /// Each entry's own hash by its name, to say which inputs changed.
    parts: BTreeMap<String, String>,
}

impl Inputs {
    /// The inputs of the step `step` (its name is hashed too).
    pub fn new(step: &str) -> Self {
        let mut inputs = Self {
            hasher: Sha256::new(),
            files: 0,
            parts: BTreeMap::new(),
        };
        inputs.entry(b'v', FORMAT, step.as_bytes());
        inputs
    }

    fn entry(&mut self, kind: u8, name: &str, bytes: &[u8]) {
        self.hasher.update([kind]);
        self.hasher.update((name.len() as u64).to_le_bytes());
        self.hasher.update(name.as_bytes());
        self.hasher.update((bytes.len() as u64).to_le_bytes());
        self.hasher.update(bytes);
        let kind = if kind == b'=' { "value " } else { "" };
        self.parts
            .insert(format!("{kind}{name}"), sha256_hex(bytes));
    }

    /// A named value: a tool's version or path, a setting, what an earlier step produced.
    pub fn value(&mut self, name: &str, value: &str) -> &mut Self {
        self.entry(b'=', name, value.as_bytes());
        self
    }

    /// The file at `root/rel`, by its path and contents; a missing file counts as missing
    /// (a file that appears later changes the hash).
    pub fn file(&mut self, root: &Path, rel: &str) -> Result<&mut Self> {
        match std::fs::read(root.join(rel)) {
            Ok(bytes) => self.entry(b'f', rel, &bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => self.entry(b'-', rel, &[]),
            Err(e) => return Err(format!("read {rel}: {e}")),
        }
        self.files += 1;
        Ok(self)
    }

    /// Every file in `rels` (paths relative to `root`), in sorted order.
    pub fn files(&mut self, root: &Path, rels: &[String]) -> Result<&mut Self> {
        let mut sorted: Vec<&String> = rels.iter().collect();
        sorted.sort();
        sorted.dedup();
        for rel in sorted {
            self.file(root, rel)?;
        }
        Ok(self)
    }

    /// Each input's own hash by its name (a file's path, `value NAME`).
    pub fn parts(&self) -> &BTreeMap<String, String> {
        &self.parts
    }

    /// How many files were hashed.
    pub fn file_count(&self) -> usize {
        self.files
    }

    /// The hash of everything added, as lowercase hex.
    pub fn digest(&self) -> String {
        hex(&self.hasher.clone().finalize())
    }
}

/// The files under `dirs` (relative to `root`) that git would see: tracked ones (even if
/// deleted from the working tree since) and untracked ones that no `.gitignore` excludes.
/// Build outputs (`target/`, `worker/build/`, `worker/assets/`, local state) are ignored,
/// so they are never inputs. Fails outside a git checkout: then nothing can be skipped.
pub fn git_files(root: &Path, dirs: &[String]) -> Result<Vec<String>> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
            "--",
        ])
        .args(dirs)
        .output()
        .map_err(|e| format!("git ls-files: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "git ls-files: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let mut files: Vec<String> = out
        .stdout
        .split(|b| *b == 0)
        .filter(|f| !f.is_empty())
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    files.sort();
    files.dedup();
    Ok(files)
}

/// The directories (relative to `root`) of the crate in `krate` and of every local crate it
/// depends on to build (`[dependencies]` and `[build-dependencies]`, also per target; a
/// `path` or a `workspace = true` whose workspace entry has a `path`), transitively.
/// Dev-dependencies are left out: a release build of the library does not compile them.
pub fn local_crates(root: &Path, krate: &str) -> Result<Vec<String>> {
    let workspace = read_toml(&root.join("Cargo.toml"))?;
    let workspace_deps = workspace
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(toml::Value::as_table)
        .cloned()
        .unwrap_or_default();
    let mut found: Vec<String> = Vec::new();
    let mut todo = vec![normalise(Path::new(krate))];
    while let Some(dir) = todo.pop() {
        if found.contains(&dir) {
            continue;
        }
        let manifest = read_toml(&root.join(&dir).join("Cargo.toml"))?;
        let mut tables: Vec<&toml::Table> = Vec::new();
        for section in ["dependencies", "build-dependencies"] {
            if let Some(t) = manifest.get(section).and_then(toml::Value::as_table) {
                tables.push(t);
            }
        }
        if let Some(targets) = manifest.get("target").and_then(toml::Value::as_table) {
            for target in targets.values() {
                for section in ["dependencies", "build-dependencies"] {
                    if let Some(t) = target.get(section).and_then(toml::Value::as_table) {
                        tables.push(t);
                    }
                }
            }
        }
        for (name, spec) in tables.into_iter().flatten() {
            let path = if let Some(path) = spec.get("path").and_then(toml::Value::as_str) {
                Some(Path::new(&dir).join(path))
            } else if spec.get("workspace").and_then(toml::Value::as_bool) == Some(true) {
                workspace_deps
                    .get(name)
                    .and_then(|d| d.get("path"))
                    .and_then(toml::Value::as_str)
                    .map(PathBuf::from)
            } else {
                None
            };
            if let Some(path) = path {
                todo.push(normalise(&path));
            }
        }
        found.push(dir);
    }
    found.sort();
    Ok(found)
}

fn read_toml(path: &Path) -> Result<toml::Table> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("read {}: {e}", path.display()))?;
    text.parse()
        .map_err(|e| format!("parse {}: {e}", path.display()))
}

/// `a/./b/../c` → `a/c`, with `/` separators (paths inside the workspace only).
fn normalise(path: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                parts.pop();
            }
            other => parts.push(other.as_os_str().to_string_lossy().into_owned()),
        }
    }
    parts.join("/")
}

/// The source files of the crates in `dirs` without their `tests/`, `benches/` and
/// `examples/` (a library build never reads them).
pub fn library_sources(root: &Path, dirs: &[String]) -> Result<Vec<String>> {
    let files = git_files(root, dirs)?;
    Ok(files
        .into_iter()
        .filter(|f| {
            !dirs.iter().any(|d| {
                ["tests", "benches", "examples"]
                    .iter()
                    .any(|skip| f.starts_with(&format!("{d}/{skip}/")))
            })
        })
        .collect())
}

/// Every file under `dir`, recursively, sorted.
pub fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).map_err(|e| format!("read {}: {e}", d.display()))? {
            let path = entry
                .map_err(|e| format!("read {}: {e}", d.display()))?
                .path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// One file a step wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Output {
    /// Relative to the workspace root, `/`-separated.
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// What `target/xtask-cache/<step>.json` holds: the inputs' hash a step succeeded with, when,
/// every file it wrote, and what later steps need from it (the widget's build id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub step: String,
    pub inputs: String,
    pub input_files: usize,
    /// Each input's hash, to say which changed.
    #[serde(default)]
    pub input_parts: BTreeMap<String, String>,
    pub built_at_ms: i64,
    pub outputs: Vec<Output>,
    pub data: BTreeMap<String, String>,
}

/// What a step that ran reports: the files it wrote and what later steps need from it.
#[derive(Debug, Clone, Default)]
pub struct Built {
    pub outputs: Vec<PathBuf>,
    pub data: BTreeMap<String, String>,
}

/// Why a step runs, or that it may be skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// Same inputs, every output as written.
    Fresh(Stamp),
    /// It must run; the reason, for the log.
    Stale(String),
}

/// The stamps of one workspace.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
    dir: PathBuf,
    force: bool,
}

impl Cache {
    /// The workspace's cache in `target/xtask-cache/`; `force` (`--rebuild`) runs every step.
    pub fn new(force: bool) -> Self {
        Self::in_dir(&crate::root(), &crate::at("target/xtask-cache"), force)
    }

    /// [`Cache::new`], forced when this process was given `--rebuild`.
    pub fn for_this_run() -> Self {
        Self::new(std::env::args().any(|a| a == REBUILD))
    }

    /// A cache for the workspace at `root` with its stamps in `dir`.
    pub fn in_dir(root: &Path, dir: &Path, force: bool) -> Self {
        Self {
            root: root.to_path_buf(),
            dir: dir.to_path_buf(),
            force,
        }
    }

    /// The workspace root the cache's paths are relative to.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn stamp_path(&self, step: &str) -> PathBuf {
        self.dir.join(format!("{step}.json"))
    }

    /// The stamp of `step`, if there is a readable one.
    pub fn stamp(&self, step: &str) -> Option<Stamp> {
        let bytes = std::fs::read(self.stamp_path(step)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Whether `step` with `inputs` may be skipped.
    pub fn check(&self, step: &str, inputs: &Inputs) -> Check {
        if self.force {
            return Check::Stale("--rebuild".into());
        }
        let Some(stamp) = self.stamp(step) else {
            return Check::Stale("no earlier build recorded".into());
        };
        if stamp.inputs != inputs.digest() {
            return Check::Stale(format!(
                "inputs changed since the build of {}: {}",
                utc_minute(stamp.built_at_ms),
                changed(&stamp.input_parts, inputs.parts())
            ));
        }
        for out in &stamp.outputs {
            let path = self.root.join(&out.path);
            let same = std::fs::metadata(&path).is_ok_and(|m| m.len() == out.size)
                && std::fs::read(&path).is_ok_and(|b| sha256_hex(&b) == out.sha256);
            if !same {
                return Check::Stale(format!("{} is not as that step wrote it", out.path));
            }
        }
        Check::Fresh(stamp)
    }

    /// Removes `step`'s stamp (before the step runs: its outputs are about to change).
    pub fn forget(&self, step: &str) -> Result {
        match std::fs::remove_file(self.stamp_path(step)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(format!("remove the stamp of {step}: {e}")),
        }
    }

    /// Records that `step` succeeded with inputs hashing to `inputs` at `now_ms`, writing
    /// `built` (sizes and hashes of its outputs). Written to a temporary file and renamed, so
    /// a stamp is whole or absent.
    pub fn record(&self, step: &str, inputs: &Inputs, built: &Built, now_ms: i64) -> Result<Stamp> {
        let mut outputs = Vec::new();
        for path in &built.outputs {
            let bytes = std::fs::read(path).map_err(|e| format!("read {}: {e}", path.display()))?;
            let rel = path.strip_prefix(&self.root).map_err(|_| {
                format!(
                    "{} is outside the workspace {}",
                    path.display(),
                    self.root.display()
                )
            })?;
            outputs.push(Output {
                path: normalise(rel),
                size: bytes.len() as u64,
                sha256: sha256_hex(&bytes),
            });
        }
        outputs.sort_by(|a, b| a.path.cmp(&b.path));
        let stamp = Stamp {
            step: step.to_string(),
            inputs: inputs.digest(),
            input_files: inputs.file_count(),
            input_parts: inputs.parts().clone(),
            built_at_ms: now_ms,
            outputs,
            data: built.data.clone(),
        };
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| format!("mkdir {}: {e}", self.dir.display()))?;
        let json = serde_json::to_vec_pretty(&stamp).map_err(|e| e.to_string())?;
        let tmp = self.dir.join(format!("{step}.json.tmp"));
        std::fs::write(&tmp, json).map_err(|e| format!("write {}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, self.stamp_path(step))
            .map_err(|e| format!("write the stamp of {step}: {e}"))?;
        Ok(stamp)
    }

    /// Runs the step `step` (described as `what`) unless its stamp shows the same inputs and
    /// untouched outputs; either way returns what the step reported (`Built::data`). `inputs`
    /// hashes what the step reads; if it fails (no git), the step runs and leaves no stamp.
    pub fn run(
        &self,
        step: &str,
        what: &str,
        inputs: impl FnOnce() -> Result<Inputs>,
        build: impl FnOnce() -> Result<Built>,
    ) -> Result<BTreeMap<String, String>> {
        let started = Instant::now();
        let inputs = match inputs() {
            Ok(inputs) => Some(inputs),
            Err(e) => {
                println!("==> {step}: cannot hash its inputs ({e}), so it is built every time");
                None
            }
        };
        let reason = match &inputs {
            Some(inputs) => match self.check(step, inputs) {
                Check::Fresh(stamp) => {
                    println!(
                        "==> {step}: inputs unchanged since {} ({} files, outputs checked in {:.1}s), skipped (--rebuild forces it)",
                        utc_minute(stamp.built_at_ms),
                        stamp.input_files,
                        started.elapsed().as_secs_f32()
                    );
                    return Ok(stamp.data);
                }
                Check::Stale(reason) => reason,
            },
            None => "inputs unknown".into(),
        };
        self.forget(step)?;
        let built = crate::run::step(&format!("{what} [{step}: {reason}]"), build)?;
        if let Some(inputs) = &inputs {
            self.record(step, inputs, &built, crate::now_ms())?;
        }
        Ok(built.data)
    }
}

/// The names of the inputs that differ between `before` and `now` (changed, added or gone),
/// the first three and how many more.
fn changed(before: &BTreeMap<String, String>, now: &BTreeMap<String, String>) -> String {
    let mut names: Vec<&String> = now
        .iter()
        .filter(|(name, hash)| before.get(*name) != Some(*hash))
        .map(|(name, _)| name)
        .chain(before.keys().filter(|name| !now.contains_key(*name)))
        .collect();
    names.sort();
    names.dedup();
    let shown: Vec<&str> = names.iter().take(3).map(|n| n.as_str()).collect();
    match names.len() {
        0 => "how they are hashed".into(),
        n if n > 3 => format!("{} and {} more", shown.join(", "), n - 3),
        _ => shown.join(", "),
    }
}

/// `YYYY-MM-DD HH:MM UTC`.
pub fn utc_minute(ms: i64) -> String {
    let minutes = ms.div_euclid(60_000).rem_euclid(24 * 60);
    format!(
        "{} {:02}:{:02} UTC",
        glimpse_shared::time::utc_date(ms),
        minutes / 60,
        minutes % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch directory for one test, removed first.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("glimpse-cache-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        dir
    }

    fn write(path: &Path, text: &str) {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{e}"));
        }
        std::fs::write(path, text).unwrap_or_else(|e| panic!("{e}"));
    }

    fn hash_of(root: &Path, files: &[&str], values: &[(&str, &str)]) -> String {
        let mut inputs = Inputs::new("step");
        let files: Vec<String> = files.iter().map(|f| f.to_string()).collect();
        inputs.files(root, &files).unwrap_or_else(|e| panic!("{e}"));
        for (name, value) in values {
            inputs.value(name, value);
        }
        inputs.digest()
    }

    #[test]
    fn the_hash_follows_contents_names_and_values() {
        let root = scratch("hash");
        write(&root.join("a.rs"), "fn a() {}");
        write(&root.join("b.rs"), "fn b() {}");
        let base = hash_of(&root, &["a.rs", "b.rs"], &[("tool", "1.0")]);
        // Same inputs, same hash; the order files are listed in does not matter.
        assert_eq!(base, hash_of(&root, &["b.rs", "a.rs"], &[("tool", "1.0")]));
        // A changed file, value, file set or step changes it.
        write(&root.join("a.rs"), "fn a() { }");
        let edited = hash_of(&root, &["a.rs", "b.rs"], &[("tool", "1.0")]);
        assert_ne!(base, edited);
        assert_ne!(
            edited,
            hash_of(&root, &["a.rs", "b.rs"], &[("tool", "1.1")])
        );
        assert_ne!(edited, hash_of(&root, &["a.rs"], &[("tool", "1.0")]));
        let mut other = Inputs::new("other step");
        other
            .files(&root, &["a.rs".into(), "b.rs".into()])
            .unwrap_or_else(|e| panic!("{e}"));
        other.value("tool", "1.0");
        assert_ne!(edited, other.digest());
        // Moving bytes between a name and its contents is a different input.
        write(&root.join("ab"), "c");
        write(&root.join("a"), "bc");
        assert_ne!(hash_of(&root, &["ab"], &[]), hash_of(&root, &["a"], &[]));
        // A missing file is an input too: it appearing (even empty) changes the hash.
        let without = hash_of(&root, &["c.rs"], &[]);
        write(&root.join("c.rs"), "");
        assert_ne!(without, hash_of(&root, &["c.rs"], &[]));
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn a_step_is_skipped_only_with_the_same_inputs_and_untouched_outputs() {
        let root = scratch("stamp");
        let cache = Cache::in_dir(&root, &root.join("target/xtask-cache"), false);
        write(&root.join("src/lib.rs"), "1");
        let inputs = || {
            let mut i = Inputs::new("thing");
            i.file(&root, "src/lib.rs")?;
            Ok(i)
        };
        let out = root.join("out/thing.wasm");
        let runs = std::cell::Cell::new(0);
        let build = || {
            runs.set(runs.get() + 1);
            write(&out, &format!("built {}", runs.get()));
            Ok(Built {
                outputs: vec![out.clone()],
                data: BTreeMap::from([("id".to_string(), "abc".to_string())]),
            })
        };
        let run = || cache.run("thing", "build thing", inputs, build);
        assert_eq!(run().unwrap_or_else(|e| panic!("{e}"))["id"], "abc");
        assert_eq!(runs.get(), 1);
        // Nothing changed: skipped, and what the build reported comes from the stamp.
        assert_eq!(run().unwrap_or_else(|e| panic!("{e}"))["id"], "abc");
        assert_eq!(runs.get(), 1);
        let stamp = cache.stamp("thing").unwrap_or_else(|| panic!("no stamp"));
        assert_eq!(stamp.outputs.len(), 1);
        assert_eq!(stamp.outputs[0].path, "out/thing.wasm");
        assert_eq!(stamp.outputs[0].size, "built 1".len() as u64);
        // An input changes: built again, saying which.
        write(&root.join("src/lib.rs"), "2");
        let now = inputs().unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            cache.check("thing", &now),
            Check::Stale(why) if why.starts_with("inputs changed since the build of ")
                && why.ends_with(" UTC: src/lib.rs")
        ));
        run().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(runs.get(), 2);
        // An output is edited (same size) or removed: built again.
        write(&out, "built X");
        let now = inputs().unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            cache.check("thing", &now),
            Check::Stale(why) if why == "out/thing.wasm is not as that step wrote it"
        ));
        run().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(runs.get(), 3);
        std::fs::remove_file(&out).unwrap_or_else(|e| panic!("{e}"));
        run().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(runs.get(), 4);
        run().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(runs.get(), 4);
        // --rebuild runs it whatever the stamp says.
        let forced = Cache::in_dir(&root, &root.join("target/xtask-cache"), true);
        forced
            .run("thing", "build thing", inputs, build)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(runs.get(), 5);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn a_failed_step_leaves_no_stamp() {
        let root = scratch("failed");
        let cache = Cache::in_dir(&root, &root.join("target/xtask-cache"), false);
        write(&root.join("src/lib.rs"), "1");
        let inputs = || {
            let mut i = Inputs::new("thing");
            i.file(&root, "src/lib.rs")?;
            Ok(i)
        };
        let out = root.join("out/thing.wasm");
        let ok = || {
            write(&out, "good");
            Ok(Built {
                outputs: vec![out.clone()],
                data: BTreeMap::new(),
            })
        };
        cache
            .run("thing", "build thing", inputs, ok)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(cache.stamp("thing").is_some());
        // A change, then a build that writes half its output and fails: the old stamp is
        // gone and no new one is written, so the next run builds again.
        write(&root.join("src/lib.rs"), "2");
        let failing = || -> Result<Built> {
            write(&out, "half");
            Err("the compiler said no".into())
        };
        assert!(cache.run("thing", "build thing", inputs, failing).is_err());
        assert!(cache.stamp("thing").is_none());
        // Even if the inputs go back to what the old stamp had.
        write(&root.join("src/lib.rs"), "1");
        let ran = std::cell::Cell::new(false);
        cache
            .run("thing", "build thing", inputs, || {
                ran.set(true);
                ok()
            })
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(ran.get());
        // A step whose inputs cannot be hashed runs and records nothing.
        let _ = cache.forget("thing");
        cache
            .run("thing", "build thing", || Err("no git".into()), ok)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(cache.stamp("thing").is_none());
        // An output outside the workspace cannot be recorded: an error, and no stamp.
        let outside = || {
            Ok(Built {
                outputs: vec![std::env::temp_dir()],
                data: BTreeMap::new(),
            })
        };
        assert!(cache.run("thing", "build thing", inputs, outside).is_err());
        assert!(cache.stamp("thing").is_none());
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn local_crates_follow_path_and_workspace_dependencies() {
        let root = scratch("crates");
        write(
            &root.join("Cargo.toml"),
            r#"[workspace]
members = ["app", "core", "util", "testkit"]
[workspace.dependencies]
core = { path = "core" }
serde = "1"
"#,
        );
        write(
            &root.join("app/Cargo.toml"),
            r#"[package]
name = "app"
[dependencies]
core.workspace = true
serde.workspace = true
[target.'cfg(target_arch = "wasm32")'.build-dependencies]
util = { path = "../util" }
[dev-dependencies]
testkit = { path = "../testkit" }
"#,
        );
        write(
            &root.join("core/Cargo.toml"),
            "[package]\nname = \"core\"\n[dependencies]\nutil = { path = \"./../util\" }\n",
        );
        write(
            &root.join("util/Cargo.toml"),
            "[package]\nname = \"util\"\n",
        );
        write(
            &root.join("testkit/Cargo.toml"),
            "[package]\nname = \"t\"\n",
        );
        assert_eq!(
            local_crates(&root, "app").unwrap_or_else(|e| panic!("{e}")),
            ["app", "core", "util"]
        );
        assert_eq!(
            local_crates(&root, "util").unwrap_or_else(|e| panic!("{e}")),
            ["util"]
        );
        assert!(local_crates(&root, "missing").is_err());
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn sources_are_what_git_sees_without_tests() {
        let root = scratch("git");
        let git = |args: &[&str]| {
            let ok = Command::new("git")
                .arg("-C")
                .arg(&root)
                .args(args)
                .output()
                .is_ok_and(|o| o.status.success());
            assert!(ok, "git {args:?}");
        };
        git(&["init", "-q"]);
        write(&root.join(".gitignore"), "/app/build\n");
        write(&root.join("app/src/lib.rs"), "tracked");
        write(&root.join("app/tests/t.rs"), "a test");
        write(&root.join("app/build/out.wasm"), "ignored output");
        write(&root.join("other/x.rs"), "another crate");
        git(&["add", "."]);
        write(&root.join("app/src/new.rs"), "untracked, not ignored");
        assert_eq!(
            library_sources(&root, &["app".into()]).unwrap_or_else(|e| panic!("{e}")),
            ["app/src/lib.rs", "app/src/new.rs"]
        );
        // A tracked file deleted from the working tree is still listed (hashed as missing).
        std::fs::remove_file(root.join("app/src/lib.rs")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            git_files(&root, &["app".into()]).unwrap_or_else(|e| panic!("{e}")),
            ["app/src/lib.rs", "app/src/new.rs", "app/tests/t.rs"]
        );
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn the_changed_inputs_are_named() {
        let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        let before = map(&[("a.rs", "1"), ("b.rs", "1"), ("value rustc", "1.95")]);
        assert_eq!(
            changed(
                &before,
                &map(&[("a.rs", "2"), ("b.rs", "1"), ("value rustc", "1.95")])
            ),
            "a.rs"
        );
        assert_eq!(
            changed(
                &before,
                &map(&[("a.rs", "1"), ("c.rs", "1"), ("value rustc", "1.96")])
            ),
            "b.rs, c.rs, value rustc"
        );
        assert_eq!(
            changed(&before, &map(&[("d", "1"), ("e", "1")])),
            "a.rs, b.rs, d and 2 more"
        );
        assert_eq!(changed(&before, &before), "how they are hashed");
    }

    #[test]
    fn times_print_to_the_minute_in_utc() {
        assert_eq!(utc_minute(0), "1970-01-01 00:00 UTC");
        assert_eq!(
            utc_minute(1_795_305_600_000 + 61_000),
            "2026-11-22 00:01 UTC"
        );
        assert_eq!(
            utc_minute(1_795_305_600_000 + 23 * 3_600_000 + 59 * 60_000 + 59_999),
            "2026-11-22 23:59 UTC"
        );
    }
}
