//! Running commands with a printed trace and timing.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Result;

/// Prints what a step does, runs it, and prints how long it took.
pub fn step<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    println!("==> {what}");
    let started = Instant::now();
    let out = f();
    let took = started.elapsed().as_secs_f32();
    match &out {
        Ok(_) => println!("    {what}: done in {took:.1}s"),
        Err(e) => println!("    {what}: FAILED after {took:.1}s: {e}"),
    }
    out
}

/// A command line rendered for humans.
pub fn show(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Runs `cmd`, inheriting stdio; fails on a non-zero exit.
pub fn run(cmd: &mut Command) -> Result {
    println!("    $ {}", show(cmd));
    let status = cmd
        .status()
        .map_err(|e| format!("could not start {}: {e}", show(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", show(cmd)))
    }
}

/// Runs `cmd` and returns its stdout, or `None` if it could not run or failed.
pub fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.stderr(Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// A `cargo` command from the toolchain that runs xtask.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Copies `from` to `to`, creating `to`'s directory.
pub fn copy(from: &Path, to: &Path) -> Result {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
    }
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("copy {} -> {}: {e}", from.display(), to.display()))
}

/// Stops a child started with `process_group(0)` and everything in its group.
pub fn stop_group(child: &mut Child) {
    let group = format!("-{}", child.id());
    let kill = |sig: &str| {
        let _ = Command::new("kill")
            .args([sig, "--", &group])
            .stderr(Stdio::null())
            .status();
    };
    kill("-TERM");
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            // wrangler is gone; make sure workerd is too.
            kill("-KILL");
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    kill("-KILL");
    let _ = child.wait();
}
