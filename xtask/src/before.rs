//! `cargo xtask bench --before REV`: an earlier revision's worker, built once from a git
//! worktree and measured beside today's in the same run.
//!
//! The worktree lives under `target/bench/before-{commit}` (the first 12 hex digits of the
//! commit REV names, so `main~3` and its hash share one), with its own cargo target
//! directory inside it. Only the worker is built — with the same worker-build invocation as
//! today's ([`crate::build::build_worker_in`]) and the same tools — and a stamp records the
//! commit it was built from, so a second bench of the same revision does not build again.
//! Its `[assets]` directory gets a fresh copy of today's built assets on every run: the
//! asset routing in front of the worker then sees the same files in both.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::run::{output, run, step};
use crate::tools::Tools;
use crate::{Result, at};

/// An earlier revision's worker, built and ready for `wrangler dev`.
#[derive(Debug, Clone)]
pub struct Before {
    /// The revision as given (`8fe43ea`, `main~3`).
    pub rev: String,
    /// The full commit hash it names.
    pub commit: String,
    /// `{worktree}/worker`: where its wrangler.toml and build are.
    pub worker_dir: PathBuf,
}

/// The stamp, in the worktree, naming the commit whose worker is built there.
const STAMP: &str = ".glimpse-bench-built";

/// The worktree's directory name for `commit`: `before-` and its first 12 hex digits.
pub fn dir_name(commit: &str) -> String {
    format!("before-{}", commit.get(..12).unwrap_or(commit))
}

/// Whether the worktree at `dir` holds a finished build of `commit`: its stamp names the
/// commit and the worker's entry exists.
pub fn is_built(dir: &Path, commit: &str) -> bool {
    std::fs::read_to_string(dir.join(STAMP)).is_ok_and(|s| s.trim() == commit)
        && dir.join("worker/build/worker/shim.mjs").exists()
}

fn git() -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(crate::root());
    cmd
}

/// The full hash of the commit `rev` names.
pub fn resolve(rev: &str) -> Result<String> {
    if rev.is_empty() || rev.starts_with('-') {
        return Err(format!("--before takes a git revision, not {rev:?}"));
    }
    output(git().args([
        "rev-parse",
        "--verify",
        "--quiet",
        &format!("{rev}^{{commit}}"),
    ]))
    .filter(|c| c.len() == 40 && c.bytes().all(|b| b.is_ascii_hexdigit()))
    .ok_or_else(|| format!("{rev:?} names no commit in this repository"))
}

/// Resolves `rev`, makes its worktree (or reuses it), builds its worker unless already
/// built, and copies today's assets into it.
pub fn prepare(tools: &Tools, rev: &str) -> Result<Before> {
    let commit = resolve(rev)?;
    let dir = at("target/bench").join(dir_name(&commit));
    let worker_dir = dir.join("worker");
    if is_built(&dir, &commit) {
        println!(
            "    {rev} ({}) already built in {}",
            &commit[..12],
            dir.display()
        );
    } else {
        let head = output(
            Command::new("git")
                .arg("-C")
                .arg(&dir)
                .args(["rev-parse", "HEAD"]),
        );
        if head.as_deref() != Some(commit.as_str()) {
            // Missing, or left half-made by an interrupted run: start over.
            let _ = git()
                .args(["worktree", "remove", "--force"])
                .arg(&dir)
                .output();
            if dir.exists() {
                std::fs::remove_dir_all(&dir)
                    .map_err(|e| format!("remove {}: {e}", dir.display()))?;
            }
            run(git().args(["worktree", "prune"]))?;
            run(git()
                .args(["worktree", "add", "--detach"])
                .arg(&dir)
                .arg(&commit))?;
        }
        let _ = std::fs::remove_file(dir.join(STAMP));
        step(
            &format!("build the worker of {rev} (worker-build --release, its own target/)"),
            || crate::build::build_worker_in(tools, &worker_dir),
        )?;
        std::fs::write(dir.join(STAMP), &commit)
            .map_err(|e| format!("write {}: {e}", dir.join(STAMP).display()))?;
    }
    copy_assets(&crate::build::assets_dir(), &worker_dir.join("assets"))?;
    Ok(Before {
        rev: rev.to_string(),
        commit,
        worker_dir,
    })
}

/// Replaces `to` with a copy of the directory `from`.
fn copy_assets(from: &Path, to: &Path) -> Result {
    if to.exists() {
        std::fs::remove_dir_all(to).map_err(|e| format!("remove {}: {e}", to.display()))?;
    }
    crate::wrangler::copy_tree(from, to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worktree_is_named_by_its_commit() {
        assert_eq!(
            dir_name("8fe43ea0123456789abcdef0123456789abcdef0"),
            "before-8fe43ea01234"
        );
        assert_eq!(dir_name("abc"), "before-abc");
    }

    #[test]
    fn a_build_counts_only_with_its_stamp_and_its_entry() {
        let dir = at("target/test-before").join(format!("{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("worker/build/worker")).expect("mkdir");
        let commit = "8fe43ea0123456789abcdef0123456789abcdef0";
        assert!(!is_built(&dir, commit), "no stamp yet");
        std::fs::write(dir.join(STAMP), format!("{commit}\n")).expect("stamp");
        assert!(!is_built(&dir, commit), "no entry yet");
        std::fs::write(dir.join("worker/build/worker/shim.mjs"), "").expect("entry");
        assert!(is_built(&dir, commit));
        assert!(!is_built(&dir, "0123456789abcdef0123456789abcdef01234567"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_revision_that_looks_like_a_flag_is_refused() {
        assert!(resolve("--slides").is_err());
        assert!(resolve("").is_err());
    }
}
