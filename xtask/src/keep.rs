//! Earlier widget builds, kept so pages opened before a deploy still find their lazy chunks.
//!
//! Each build lives in `assets/glimpse/<id>/` with a `files.json` listing its files, and
//! `assets/glimpse-builds.json` lists the builds the assets hold, newest first
//! ([`KEEP_BUILDS`] at most; outside `glimpse/`, whose files are cached as immutable). `cargo xtask build` keeps the newest builds of the working copy;
//! `cargo xtask keep-live https://…` first copies the builds a live deployment serves (its
//! `builds.json`), so a deploy from a fresh checkout keeps them too.

use std::path::Path;

use crate::Result;

/// How many widget builds the assets keep (the current one and the previous ones).
pub const KEEP_BUILDS: usize = 3;

/// The index of kept builds, next to `assets/glimpse/`.
pub const BUILDS_FILE: &str = "glimpse-builds.json";

/// A build's file list, in its directory.
pub const FILES_FILE: &str = "files.json";

/// Whether `id` names a build directory: 12 lowercase hex digits.
pub fn is_build_id(id: &str) -> bool {
    id.len() == 12
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Whether `name` is a plain file name a build may hold (`glimpse.js`, `split_app.wasm`):
/// ASCII letters, digits, `_`, `-` and `.`, not starting with a dot. Nothing from a remote
/// `files.json` is written unless it passes this.
pub fn is_build_file(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// Writes `dir/files.json` listing `files`.
pub fn write_files(dir: &Path, files: &[String]) -> Result {
    let json = serde_json::to_string(files).map_err(|e| e.to_string())?;
    std::fs::write(dir.join(FILES_FILE), json).map_err(|e| format!("write files.json: {e}"))
}

/// Keeps the [`KEEP_BUILDS`] most recently written builds in `glimpse` (`current` always
/// first), removes the others and anything else there, and writes [`BUILDS_FILE`] next to
/// `glimpse`.
pub fn prune(glimpse: &Path, current: &str) -> Result {
    let mut builds = Vec::new();
    for entry in
        std::fs::read_dir(glimpse).map_err(|e| format!("read {}: {e}", glimpse.display()))?
    {
        let entry = entry.map_err(|e| e.to_string())?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if !path.is_dir() || !is_build_id(&name) {
            if path.is_dir() {
                let _ = std::fs::remove_dir_all(&path);
            } else {
                let _ = std::fs::remove_file(&path);
            }
            continue;
        }
        let modified = entry
            .metadata()
            .and_then(|m| m.modified())
            .unwrap_or(std::time::SystemTime::UNIX_EPOCH);
        builds.push((name == current, modified, name, path));
    }
    builds.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    let mut kept = Vec::new();
    for (i, (_, _, name, path)) in builds.into_iter().enumerate() {
        if i < KEEP_BUILDS {
            kept.push(name);
        } else {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
    let json = serde_json::to_string(&kept).map_err(|e| e.to_string())?;
    let index = glimpse.parent().unwrap_or(glimpse).join(BUILDS_FILE);
    std::fs::write(&index, json).map_err(|e| format!("write {}: {e}", index.display()))
}

fn get(url: &str) -> Result<Vec<u8>> {
    let res = ureq::get(url)
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .map_err(|e| format!("GET {url}: {e}"))?;
    let status = res.status().as_u16();
    if status != 200 {
        return Err(format!("GET {url}: {status}"));
    }
    res.into_body()
        .read_to_vec()
        .map_err(|e| format!("GET {url}: {e}"))
}

fn list(url: &str) -> Result<Vec<String>> {
    serde_json::from_slice(&get(url)?).map_err(|e| format!("{url}: {e}"))
}

/// Copies the builds the deployment at `base` (`https://host`, where `widget.js` is served)
/// lists in its [`BUILDS_FILE`] into `glimpse` (the assets' `glimpse/`), skipping any
/// already there, and returns their ids. A deployment from before that index existed
/// yields nothing.
pub fn fetch_live(base: &str, glimpse: &Path) -> Result<Vec<String>> {
    let base = base.trim_end_matches('/');
    if !base.starts_with("https://") && !base.starts_with("http://127.0.0.1") {
        return Err(format!(
            "{base}: expected the https origin serving widget.js"
        ));
    }
    let ids = match list(&format!("{base}/{BUILDS_FILE}")) {
        Ok(ids) => ids,
        Err(e) if e.ends_with(": 404") => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut copied = Vec::new();
    for id in ids.into_iter().take(KEEP_BUILDS) {
        if !is_build_id(&id) {
            return Err(format!("{base}/{BUILDS_FILE} names {id:?}, not a build"));
        }
        let dir = glimpse.join(&id);
        if dir.exists() {
            continue;
        }
        let files = match list(&format!("{base}/glimpse/{id}/{FILES_FILE}")) {
            Ok(files) => files,
            // A build from before files.json existed: it cannot be listed, so it is left.
            Err(e) if e.ends_with(": 404") => continue,
            Err(e) => return Err(e),
        };
        if let Some(bad) = files.iter().find(|f| !is_build_file(f)) {
            return Err(format!("{base}/glimpse/{id}/{FILES_FILE} names {bad:?}"));
        }
        let partial = glimpse.join(format!("{id}.partial"));
        let _ = std::fs::remove_dir_all(&partial);
        std::fs::create_dir_all(&partial).map_err(|e| format!("mkdir: {e}"))?;
        for file in &files {
            let bytes = get(&format!("{base}/glimpse/{id}/{file}"))?;
            std::fs::write(partial.join(file), bytes).map_err(|e| format!("write {file}: {e}"))?;
        }
        write_files(&partial, &files)?;
        std::fs::rename(&partial, &dir).map_err(|e| format!("rename: {e}"))?;
        copied.push(id);
    }
    Ok(copied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_pass() {
        assert!(is_build_id("0123456789ab"));
        assert!(!is_build_id("0123456789AB"));
        assert!(!is_build_id("../../etc/x"));
        assert!(!is_build_id("0123456789a"));
        for ok in [
            "glimpse.js",
            "__wasm_split.js",
            "split_app.wasm",
            "chunk_7.wasm",
        ] {
            assert!(is_build_file(ok), "{ok}");
        }
        for bad in [
            "",
            "..",
            ".hidden",
            "a/b.wasm",
            "..\\x",
            "a b",
            "x\u{0}y",
            &"a".repeat(65),
        ] {
            assert!(!is_build_file(bad), "{bad:?}");
        }
    }

    #[test]
    fn prune_keeps_the_current_and_newest_builds_and_lists_them() {
        let top = std::env::temp_dir().join(format!("glimpse-keep-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&top);
        let root = top.join("glimpse");
        let ids = [
            "aaaaaaaaaaa1",
            "aaaaaaaaaaa2",
            "aaaaaaaaaaa3",
            "aaaaaaaaaaa4",
        ];
        for id in ids {
            std::fs::create_dir_all(root.join(id)).unwrap_or_else(|e| panic!("{e}"));
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        std::fs::write(root.join("glimpse.0123.js"), "old layout")
            .unwrap_or_else(|e| panic!("{e}"));
        prune(&root, "aaaaaaaaaaa1").unwrap_or_else(|e| panic!("{e}"));
        let listed: Vec<String> = serde_json::from_slice(
            &std::fs::read(top.join(BUILDS_FILE)).unwrap_or_else(|e| panic!("{e}")),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(listed, ["aaaaaaaaaaa1", "aaaaaaaaaaa4", "aaaaaaaaaaa3"]);
        assert!(!root.join("aaaaaaaaaaa2").exists());
        assert!(!root.join("glimpse.0123.js").exists());
        let _ = std::fs::remove_dir_all(&top);
    }
}
