//! The toolchain Glimpse builds with, installed only from package registries (crates.io,
//! npm, Debian). `setup` is idempotent: it checks each tool and installs only what is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::run::{cargo, output, run, step};
use crate::{Result, at};

/// worker-build version the worker is built with.
pub const WORKER_BUILD_VERSION: &str = "0.8.7";

/// Where every tool lives once set up.
#[derive(Debug, Clone)]
pub struct Tools {
    pub wasm_bindgen: PathBuf,
    pub wasm_bindgen_test_runner: PathBuf,
    pub worker_build: PathBuf,
    pub wasm_opt: PathBuf,
    pub esbuild: PathBuf,
    pub wrangler: PathBuf,
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

/// Project-local cargo install root, so Glimpse's pinned tools never clash with others.
fn tools_root() -> PathBuf {
    at(".tools")
}

fn tools_bin(name: &str) -> PathBuf {
    tools_root().join("bin").join(name)
}

/// The wasm-bindgen version in Cargo.lock: the CLI must match it exactly.
pub fn locked_wasm_bindgen_version() -> Result<String> {
    let lock =
        std::fs::read_to_string(at("Cargo.lock")).map_err(|e| format!("read Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == r#"name = "wasm-bindgen""#
            && let Some(v) = lines
                .next()
                .and_then(|l| l.strip_prefix(r#"version = ""#))
                .and_then(|l| l.strip_suffix('"'))
        {
            return Ok(v.to_string());
        }
    }
    Err("Cargo.lock has no wasm-bindgen package".into())
}

/// `prog --version` contains `want`.
fn has_version(prog: &Path, want: &str) -> bool {
    output(Command::new(prog).arg("--version")).is_some_and(|v| v.contains(want))
}

/// The first of the project-local install and `PATH` that has version `want`.
fn find_versioned(name: &str, want: &str) -> Option<PathBuf> {
    let local = tools_bin(name);
    if has_version(&local, want) {
        return Some(local);
    }
    let on_path = PathBuf::from(name);
    has_version(&on_path, want).then_some(on_path)
}

/// How a tool is compiled by `cargo install`: what it costs a fresh machine's setup, which
/// waits for it, against how fast the tool then runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Optimise {
    /// `--debug`: for a tool that only starts others (worker-build): it compiles in a
    /// fraction of the time and is no slower at its job.
    Not,
    /// The release profile at `opt-level = 1`: for a tool that does real work on every build
    /// (wasm-bindgen), most of the speed for much less compile time.
    Lightly,
}

fn cargo_install(krate: &str, version: &str, locked: bool, optimise: Optimise) -> Result {
    let mut cmd = cargo();
    cmd.args([
        "install",
        krate,
        "--version",
        &format!("={version}"),
        "--root",
    ])
    .arg(tools_root());
    if locked {
        cmd.arg("--locked");
    }
    match optimise {
        Optimise::Not => {
            cmd.arg("--debug");
        }
        Optimise::Lightly => {
            cmd.env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "1");
        }
    }
    run(&mut cmd)
}

fn is_root() -> bool {
    output(Command::new("id").arg("-u")).as_deref() == Some("0")
}

/// What a command needs installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Building and serving (`cargo xtask dev`, `build`): the wasm tools, the npm packages
    /// and the demo media's converters.
    Build,
    /// Everything, for tests and benchmarks: also Chromium with chromedriver and Schemathesis.
    Everything,
}

/// Installs whatever tests and benchmarks need ([`Need::Everything`]).
pub fn setup() -> Result<Tools> {
    setup_for(Need::Everything)
}

/// Installs whatever is missing for `need`, printing each step and its duration. The two
/// `cargo install`s (minutes on a fresh machine) run side by side, and the downloads (npm,
/// Debian, PyPI), which hardly need the CPU, run meanwhile; their output interleaves.
pub fn setup_for(need: Need) -> Result<Tools> {
    step("rust target wasm32-unknown-unknown", || {
        let installed = output(Command::new("rustup").args(["target", "list", "--installed"]))
            .unwrap_or_default();
        if installed.lines().any(|l| l == "wasm32-unknown-unknown") {
            println!("    already installed");
            Ok(())
        } else {
            run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
        }
    })?;
    let bindgen_version = locked_wasm_bindgen_version()?;
    let bindgen = || {
        step(&format!("wasm-bindgen-cli {bindgen_version}"), || {
            if find_versioned("wasm-bindgen", &bindgen_version).is_some() {
                println!("    already installed");
                return Ok(());
            }
            // Not --locked: one of its locked dependencies is missing from the registry mirror.
            cargo_install(
                "wasm-bindgen-cli",
                &bindgen_version,
                false,
                Optimise::Lightly,
            )
        })
    };
    let worker_build = || {
        step(&format!("worker-build {WORKER_BUILD_VERSION}"), || {
            if find_versioned("worker-build", WORKER_BUILD_VERSION).is_some() {
                println!("    already installed");
                return Ok(());
            }
            cargo_install("worker-build", WORKER_BUILD_VERSION, true, Optimise::Not)
        })
    };
    let downloads = || -> Result {
        step(
            "npm packages (wrangler, binaryen, axe-core) from package-lock.json",
            npm_ci,
        )?;
        step(
            "ffmpeg, ImageMagick and librsvg (Debian), for the demo media",
            || {
                use crate::media::{CONVERT, FFMPEG, RSVG};
                if [FFMPEG, CONVERT, RSVG]
                    .iter()
                    .all(|p| Path::new(p).exists())
                {
                    println!("    already installed");
                    return Ok(());
                }
                apt_install(&["ffmpeg", "imagemagick", "librsvg2-bin"])
            },
        )?;
        if need == Need::Everything {
            step("chromium and chromium-driver (Debian)", || {
                if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
                    println!("    already installed");
                    return Ok(());
                }
                apt_install(&["chromium", "chromium-driver"])
            })?;
            step(
                &format!("schemathesis {SCHEMATHESIS_VERSION} (PyPI, in a venv under .tools/)"),
                || schemathesis().map(|_| ()),
            )?;
        }
        Ok(())
    };
    let joined = |r: std::thread::Result<Result>| {
        r.unwrap_or_else(|_| Err("a setup step panicked".to_string()))
    };
    let (compiled, fetched) = std::thread::scope(|s| {
        let fetching = s.spawn(downloads);
        let building = s.spawn(worker_build);
        let bindgen = bindgen();
        (
            bindgen.and(joined(building.join())),
            joined(fetching.join()),
        )
    });
    compiled.and(fetched)?;
    locate_for(need)
}

/// Where Debian installs Chromium and its driver.
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Schemathesis version `cargo xtask api-test` (and `test`) runs.
pub const SCHEMATHESIS_VERSION: &str = "4.32.5";

/// The Schemathesis CLI (`st`) of the pinned version, installed from PyPI into a venv under
/// `.tools/schemathesis` when missing (Debian's `python3-venv` first, if `venv` needs it).
pub fn schemathesis() -> Result<PathBuf> {
    let venv = tools_root().join("schemathesis");
    let st = venv.join("bin").join("st");
    if has_version(&st, SCHEMATHESIS_VERSION) {
        println!("    schemathesis {SCHEMATHESIS_VERSION} already installed");
        return Ok(st);
    }
    let python = venv.join("bin").join("python3");
    if !python.exists() {
        let make_venv = || {
            run(Command::new("python3")
                .args(["-m", "venv", "--clear"])
                .arg(&venv))
        };
        if make_venv().is_err() {
            apt_install(&["python3-venv"])?;
            make_venv()?;
        }
    }
    run(Command::new(&python).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        &format!("schemathesis=={SCHEMATHESIS_VERSION}"),
    ]))?;
    if has_version(&st, SCHEMATHESIS_VERSION) {
        Ok(st)
    } else {
        Err(format!(
            "{} does not report version {SCHEMATHESIS_VERSION} after installing it",
            st.display()
        ))
    }
}

/// Installs Debian packages with apt-get (as root, or through `sudo -n`).
pub fn apt_install(packages: &[&str]) -> Result {
    let sudo: &[&str] = if is_root() { &[] } else { &["sudo", "-n"] };
    let apt = |args: &[&str]| {
        let all: Vec<&str> = sudo
            .iter()
            .chain(["apt-get"].iter())
            .chain(args)
            .copied()
            .collect();
        run(Command::new(all[0])
            .args(&all[1..])
            .env("DEBIAN_FRONTEND", "noninteractive"))
    };
    apt(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
    install.extend_from_slice(packages);
    apt(&install)
}

/// cargo-fuzz version `cargo xtask soak` installs.
pub const CARGO_FUZZ_VERSION: &str = "0.13.1";

/// cargo-fuzz, installed into `.tools/` when missing; needs the nightly toolchain.
pub fn cargo_fuzz() -> Result<PathBuf> {
    let toolchains = output(Command::new("rustup").args(["toolchain", "list"])).unwrap_or_default();
    if !toolchains.lines().any(|l| l.starts_with("nightly")) {
        return Err(
            "fuzzing needs the nightly toolchain (`rustup toolchain install nightly`)".into(),
        );
    }
    if let Some(found) = find_versioned("cargo-fuzz", CARGO_FUZZ_VERSION) {
        return Ok(found);
    }
    step(&format!("cargo-fuzz {CARGO_FUZZ_VERSION}"), || {
        cargo_install("cargo-fuzz", CARGO_FUZZ_VERSION, true, Optimise::Not)
    })?;
    Ok(tools_bin("cargo-fuzz"))
}

/// The HTTP load generator of `cargo xtask bench` (Debian's wrk), installed when missing.
pub fn wrk() -> Result<PathBuf> {
    let path = PathBuf::from("/usr/bin/wrk");
    if !path.exists() {
        step("wrk (Debian), the load generator", || apt_install(&["wrk"]))?;
    }
    Ok(path)
}

/// `npm ci` when node_modules does not match package-lock.json.
fn npm_ci() -> Result {
    let lock = std::fs::read(at("package-lock.json"))
        .map_err(|e| format!("read package-lock.json: {e}"))?;
    let stamp_path = at("node_modules/.glimpse-lock-stamp");
    let stamp = format!("{:016x}", fnv1a64(&lock));
    if std::fs::read_to_string(&stamp_path).ok().as_deref() == Some(stamp.as_str())
        && at("node_modules/.bin/wrangler").exists()
    {
        println!("    node_modules matches package-lock.json");
        return Ok(());
    }
    run(Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(crate::root()))?;
    std::fs::write(&stamp_path, stamp).map_err(|e| format!("write stamp: {e}"))
}

/// FNV-1a, 64 bit: a small, stable content hash for stamps and asset names.
pub use glimpse_shared::hash::fnv1a64;

/// Finds every tool, or says to run `cargo xtask setup`.
pub fn locate() -> Result<Tools> {
    locate_for(Need::Everything)
}

/// Finds the tools `need` asks for, or says to run `cargo xtask setup` (the browser's
/// paths are Debian's either way; only [`Need::Everything`] requires them to exist).
pub fn locate_for(need: Need) -> Result<Tools> {
    let missing = |what: &str| format!("{what} is missing: run `cargo xtask setup`");
    let bindgen_version = locked_wasm_bindgen_version()?;
    let wasm_bindgen = find_versioned("wasm-bindgen", &bindgen_version)
        .ok_or_else(|| missing(&format!("wasm-bindgen {bindgen_version}")))?;
    let wasm_bindgen_test_runner = wasm_bindgen.with_file_name("wasm-bindgen-test-runner");
    let worker_build = find_versioned("worker-build", WORKER_BUILD_VERSION)
        .ok_or_else(|| missing(&format!("worker-build {WORKER_BUILD_VERSION}")))?;
    let existing = |p: PathBuf, what: &str| {
        if p.exists() {
            Ok(p)
        } else {
            Err(missing(what))
        }
    };
    Ok(Tools {
        wasm_bindgen,
        wasm_bindgen_test_runner,
        worker_build,
        wasm_opt: existing(at("node_modules/.bin/wasm-opt"), "wasm-opt (npm binaryen)")?,
        esbuild: existing(
            at("node_modules/.bin/esbuild"),
            "esbuild (npm, via wrangler)",
        )?,
        wrangler: existing(at("node_modules/.bin/wrangler"), "wrangler (npm)")?,
        chromium: match need {
            Need::Everything => existing(PathBuf::from(CHROMIUM), "chromium")?,
            Need::Build => PathBuf::from(CHROMIUM),
        },
        chromedriver: match need {
            Need::Everything => existing(PathBuf::from(CHROMEDRIVER), "chromedriver")?,
            Need::Build => PathBuf::from(CHROMEDRIVER),
        },
    })
}
