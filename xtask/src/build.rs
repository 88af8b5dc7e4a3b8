//! Building the widget bundle into the worker's static assets, and the worker itself.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::cache::{Built, Cache, Inputs};
use crate::run::{cargo, copy, output, run, step};
use crate::tools::{Tools, fnv1a64};
use crate::{Result, at};

/// The worker's static assets directory (wrangler.toml `[assets] directory`).
pub fn assets_dir() -> PathBuf {
    at("worker/assets")
}

/// One widget build in the assets: `glimpse/{id}/` holds the glue (`glimpse.js`), the main
/// wasm (`glimpse.wasm`), the split loader (`__wasm_split.js`) and every lazy chunk
/// (`*.wasm`), all referring to each other by relative names. The directory name is a hash
/// of the contents, so the files can be cached forever and a page opened before a deploy
/// still finds the chunks of its build (see [`crate::keep`]).
#[derive(Debug, Clone)]
pub struct WidgetBundle {
    /// `glimpse/{id}`, relative to the assets directory.
    pub dir: String,
    /// Glue and main wasm, relative to the assets directory.
    pub glue: String,
    pub wasm: String,
}

impl WidgetBundle {
    /// The build `glimpse/{id}`.
    pub fn new(id: &str) -> Self {
        Self {
            dir: format!("glimpse/{id}"),
            glue: format!("glimpse/{id}/glimpse.js"),
            wasm: format!("glimpse/{id}/glimpse.wasm"),
        }
    }

    /// The build's id (its directory's name).
    pub fn id(&self) -> &str {
        self.dir.trim_start_matches("glimpse/")
    }
}

/// The split loader's module name, as the main wasm imports it.
const SPLIT_LINK: &str = "./__wasm_split.js";

/// Builds everything `wrangler dev` / `wrangler deploy` serve, skipping each step whose
/// inputs have not changed since it last succeeded (see [`crate::cache`]; `--rebuild` on the
/// command line runs them all).
pub fn build_all(tools: &Tools) -> Result {
    // Two pipelines side by side: the browser bundles in `target/`, the workers in their own
    // target directory (`worker_target_dir`), so neither waits for the other's cargo lock and
    // one's single-threaded phases (LTO, wasm-bindgen, wasm-opt) run while the other
    // compiles. Their output interleaves; each step still says when it ends.
    let (browser, workers) = std::thread::scope(|s| {
        let workers = s.spawn(|| worker(tools));
        let browser = (|| {
            let bundle = widget(tools)?;
            loader(tools, &bundle)?;
            step(
                "demo media (illustrations: rsvg-convert + ImageMagick; video: ffmpeg)",
                crate::media::build_demo_media,
            )?;
            admin(tools)
        })();
        let workers = workers
            .join()
            .unwrap_or_else(|_| Err("the worker build panicked".to_string()));
        (browser, workers)
    });
    browser.and(workers)
}

/// The cargo target directory worker builds use: `target/worker` of the workspace holding
/// `dir` (the nearest ancestor with a Cargo.lock), apart from the browser bundles' so the
/// two can build at once ([`build_all`]).
pub fn worker_target_dir(dir: &Path) -> PathBuf {
    dir.ancestors()
        .find(|d| d.join("Cargo.lock").exists())
        .unwrap_or(dir)
        .join("target")
        .join("worker")
}

/// The workspace files every cargo build reads.
const WORKSPACE_FILES: [&str; 4] = [
    "Cargo.toml",
    "Cargo.lock",
    "rust-toolchain.toml",
    ".cargo/config.toml",
];

/// Environment variables cargo and rustc read that change what they build.
fn build_env() -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = std::env::vars()
        .filter(|(name, _)| {
            matches!(
                name.as_str(),
                "RUSTFLAGS"
                    | "CARGO_ENCODED_RUSTFLAGS"
                    | "RUSTC"
                    | "RUSTC_WRAPPER"
                    | "RUSTC_WORKSPACE_WRAPPER"
                    | "RUSTUP_TOOLCHAIN"
            ) || ["CARGO_PROFILE_", "CARGO_BUILD_", "CARGO_TARGET_"]
                .iter()
                .any(|prefix| name.starts_with(prefix))
        })
        .collect();
    vars.sort();
    vars
}

/// `rustc -vV` (the compiler cargo runs here: version, commit, LLVM), asked once.
fn rustc_version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        output(Command::new("rustc").arg("-vV").current_dir(crate::root())).unwrap_or_default()
    })
}

/// What every cached step hashes besides its own files: the toolchain, the tools and their
/// versions (wasm-opt and esbuild come from npm: package-lock.json pins them), and the
/// environment cargo reads.
fn tool_inputs(inputs: &mut Inputs, tools: &Tools) -> Result {
    let root = crate::root();
    for file in WORKSPACE_FILES.iter().chain(&["package-lock.json"]) {
        inputs.file(&root, file)?;
    }
    let cargo = std::env::var("CARGO").unwrap_or_default();
    inputs
        .value("rustc -vV", rustc_version())
        .value("cargo", &cargo)
        .value("wasm-bindgen", &tools.wasm_bindgen.to_string_lossy())
        .value(
            "wasm-bindgen version",
            &crate::tools::locked_wasm_bindgen_version()?,
        )
        .value("wasm-opt", &tools.wasm_opt.to_string_lossy())
        .value("esbuild", &tools.esbuild.to_string_lossy())
        .value("worker-build", &tools.worker_build.to_string_lossy())
        .value("worker-build version", crate::tools::WORKER_BUILD_VERSION);
    for (name, value) in build_env() {
        inputs.value(&format!("env {name}"), &value);
    }
    Ok(())
}

/// The inputs of a step building the crate in `krate` (relative to the root): the library
/// sources of it and of every local crate it depends on, the workspace files, the tools, and
/// the xtask code in `xtask_files` that does the step.
fn crate_inputs(step: &str, tools: &Tools, krate: &str, xtask_files: &[&str]) -> Result<Inputs> {
    let root = crate::root();
    let mut inputs = Inputs::new(step);
    let crates = crate::cache::local_crates(&root, krate)?;
    inputs.files(&root, &crate::cache::library_sources(&root, &crates)?)?;
    for file in xtask_files {
        inputs.file(&root, file)?;
    }
    tool_inputs(&mut inputs, tools)?;
    Ok(inputs)
}

/// The widget build (see [`build_widget`]), skipped when its inputs are unchanged; either way
/// the kept builds are pruned and listed with this one first (see [`crate::keep`]).
pub fn widget(tools: &Tools) -> Result<WidgetBundle> {
    let data = Cache::for_this_run().run(
        "widget",
        "build widget (wasm32, release, wasm-bindgen, wasm-opt)",
        || {
            crate_inputs(
                "widget",
                tools,
                "widget",
                &[
                    "xtask/src/build.rs",
                    "xtask/src/imports.rs",
                    "xtask/src/size.rs",
                    "xtask/src/keep.rs",
                ],
            )
        },
        || {
            let bundle = build_widget(tools)?;
            Ok(Built {
                outputs: crate::cache::files_under(&assets_dir().join(&bundle.dir))?,
                data: BTreeMap::from([("id".to_string(), bundle.id().to_string())]),
            })
        },
    )?;
    let id = data
        .get("id")
        .filter(|id| crate::keep::is_build_id(id))
        .ok_or("the widget's stamp names no build: run with --rebuild")?;
    crate::keep::prune(&assets_dir().join("glimpse"), id)?;
    Ok(WidgetBundle::new(id))
}

/// The loader and `_headers` (see [`write_loader_and_headers`]), skipped when unchanged.
pub fn loader(tools: &Tools, bundle: &WidgetBundle) -> Result {
    let root = crate::root();
    Cache::for_this_run().run(
        "loader",
        "assemble static assets (loader, _headers)",
        || {
            let mut inputs = Inputs::new("loader");
            inputs
                .value("glue", &bundle.glue)
                .value("wasm", &bundle.wasm);
            let mut files = crate::cache::git_files(&root, &["demo/pages".into()])?;
            files.extend(["widget/loader/widget.js", "worker/assets_headers"].map(String::from));
            inputs.files(&root, &files)?;
            inputs.file(&root, "xtask/src/build.rs")?;
            tool_inputs(&mut inputs, tools)?;
            Ok(inputs)
        },
        || {
            let outputs = write_loader_and_headers(tools, bundle)?;
            Ok(Built {
                outputs,
                data: BTreeMap::new(),
            })
        },
    )?;
    Ok(())
}

/// The operators' console (see [`build_admin`]), skipped when its inputs are unchanged.
pub fn admin(tools: &Tools) -> Result {
    Cache::for_this_run().run(
        "console",
        "build console (wasm32, release, wasm-bindgen, wasm-opt)",
        || crate_inputs("console", tools, "admin", &["xtask/src/build.rs"]),
        || {
            build_admin(tools)?;
            Ok(Built {
                outputs: crate::cache::files_under(&assets_dir().join("admin"))?,
                data: BTreeMap::new(),
            })
        },
    )?;
    Ok(())
}

/// The worker in `worker/` (see [`build_worker_in`]), skipped when its inputs are unchanged.
pub fn worker(tools: &Tools) -> Result {
    worker_in(tools, "worker", &at("worker"))
}

/// The worker crate in `dir` (see [`build_worker_in`]) as the cached step `step`.
pub fn worker_in(tools: &Tools, step: &str, dir: &Path) -> Result {
    let root = crate::root();
    let krate = dir
        .strip_prefix(&root)
        .map_err(|_| format!("{} is outside the workspace", dir.display()))?
        .to_string_lossy()
        .into_owned();
    Cache::for_this_run().run(
        step,
        &format!("build {krate} (worker-build --release)"),
        || crate_inputs(step, tools, &krate, &["xtask/src/build.rs"]),
        || {
            build_worker_in(tools, dir)?;
            let mut outputs = crate::cache::files_under(&dir.join("build"))?;
            if dir.join(OPERATORS_CONFIG).exists() {
                outputs.extend(crate::cache::files_under(&dir.join("build-operators"))?);
            }
            Ok(Built {
                outputs,
                data: BTreeMap::new(),
            })
        },
    )?;
    Ok(())
}

/// Compiles a wasm crate in release, generates its JS glue (`--target web`) and optimises
/// the wasm. Returns the glue and the optimised wasm under `target/{out_name}-bindgen/`.
fn compile_wasm(
    tools: &Tools,
    package: &str,
    artifact: &str,
    out_name: &str,
) -> Result<(PathBuf, PathBuf)> {
    run(cargo().current_dir(crate::root()).args([
        "build",
        "--package",
        package,
        "--lib",
        "--release",
        "--target",
        "wasm32-unknown-unknown",
    ]))?;
    let out = at(&format!("target/{out_name}-bindgen"));
    let _ = std::fs::remove_dir_all(&out);
    run(Command::new(&tools.wasm_bindgen)
        .arg(at(&format!(
            "target/wasm32-unknown-unknown/release/{artifact}.wasm"
        )))
        .args([
            "--target",
            "web",
            "--no-typescript",
            "--remove-name-section",
            "--remove-producers-section",
            "--out-name",
            out_name,
            "--out-dir",
        ])
        .arg(&out))?;
    let raw_wasm = out.join(format!("{out_name}_bg.wasm"));
    let opt_wasm = out.join(format!("{out_name}.opt.wasm"));
    wasm_opt(tools, &raw_wasm, &opt_wasm)?;
    Ok((out.join(format!("{out_name}.js")), opt_wasm))
}

/// Compiles the widget with its split points (`--features split`, linked with
/// `--emit-relocs`), cuts it into the main module and lazy chunks with
/// `wasm_split_cli_support` (as cargo-leptos does), generates the JS glue for the main module
/// (`--keep-lld-exports`: the chunks import from it), optimises every wasm file with
/// wasm-opt, minifies the glue and the split loader with esbuild, and writes the build into
/// `assets/glimpse/{id}/`. [`widget`] then prunes the builds beyond
/// [`crate::keep::KEEP_BUILDS`].
pub fn build_widget(tools: &Tools) -> Result<WidgetBundle> {
    run(cargo().current_dir(crate::root()).args([
        "rustc",
        "--package",
        "glimpse-widget",
        "--lib",
        "--release",
        "--target",
        "wasm32-unknown-unknown",
        "--features",
        "split",
        "--",
        "-Clink-arg=--emit-relocs",
    ]))?;
    let linked = at("target/wasm32-unknown-unknown/release/glimpse_widget.wasm");
    let input = std::fs::read(&linked).map_err(|e| format!("read {}: {e}", linked.display()))?;
    let forbidden = crate::size::forbidden_crates(&input)?;
    if !forbidden.is_empty() {
        return Err(format!(
            "the widget links {} (see size::NOT_IN_WIDGET): every visitor would download it",
            forbidden.join(", ")
        ));
    }
    let work = at("target/glimpse-split");
    let _ = std::fs::remove_dir_all(&work);
    let split_dir = work.join("split");
    std::fs::create_dir_all(&split_dir)
        .map_err(|e| format!("mkdir {}: {e}", split_dir.display()))?;
    let main_wasm = work.join("main.wasm");
    let split = wasm_split_cli_support::transform({
        let mut opts = wasm_split_cli_support::Options::new(&input);
        opts.output_dir = &split_dir;
        opts.main_out_path = &main_wasm;
        opts.link_name = SPLIT_LINK;
        opts.main_module = "./glimpse.js";
        opts
    })
    .map_err(|e| format!("wasm split: {e:?}"))?;
    let out = work.join("out");
    run(Command::new(&tools.wasm_bindgen)
        .arg(&main_wasm)
        .args([
            "--target",
            "web",
            "--no-typescript",
            "--keep-lld-exports",
            "--remove-name-section",
            "--remove-producers-section",
            "--out-name",
            "glimpse",
            "--out-dir",
        ])
        .arg(&out))?;
    // Short import names in the first chunk and its glue, without the stream classes
    // nothing uses (imports.rs).
    let glue =
        String::from_utf8(read(&out.join("glimpse.js"))?).map_err(|e| format!("glue: {e}"))?;
    let glue = crate::imports::one_split_import(&glue, SPLIT_LINK);
    let (glue, unused) = crate::imports::without_stream_classes(&glue)?;
    let (short_wasm, glue) = crate::imports::shorten(
        &read(&out.join("glimpse_bg.wasm"))?,
        &glue,
        "./glimpse_bg.js",
        &unused,
    )?;
    let short = out.join("glimpse_short.wasm");
    std::fs::write(&short, short_wasm).map_err(|e| format!("write {}: {e}", short.display()))?;
    // The built files by name inside the build directory.
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    wasm_opt(tools, &short, &out.join("glimpse.wasm"))?;
    files.push(("glimpse.wasm".into(), read(&out.join("glimpse.wasm"))?));
    files.push(("glimpse.js".into(), minify_module(tools, glue.as_bytes())?));
    let link = String::from_utf8(read(&split_dir.join("__wasm_split.js"))?)
        .map_err(|e| format!("split loader: {e}"))?;
    files.push((
        "__wasm_split.js".into(),
        minify_module(
            tools,
            compiling_early(&without_array_methods(&link)?)?.as_bytes(),
        )?,
    ));
    let mut chunks = split.split_modules;
    chunks.sort();
    // wasm-opt every chunk, two at a time (it is single-threaded on small modules).
    let optimised = std::sync::Mutex::new(Vec::new());
    let queue = std::sync::Mutex::new(chunks.into_iter());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                // The lock is released before the work: `next` returns an owned path.
                let next = || queue.lock().ok().and_then(|mut q| q.next());
                while let Some(chunk) = next() {
                    let done = (|| -> Result<(String, Vec<u8>)> {
                        let name = chunk
                            .file_name()
                            .and_then(|n| n.to_str())
                            .ok_or_else(|| format!("chunk name {}", chunk.display()))?
                            .to_string();
                        let opt = work.join(format!("opt-{name}"));
                        wasm_opt(tools, &chunk, &opt)?;
                        Ok((name, read(&opt)?))
                    })();
                    if let Ok(mut o) = optimised.lock() {
                        o.push(done);
                    }
                }
            });
        }
    });
    let mut optimised = optimised.into_inner().map_err(|e| e.to_string())?;
    optimised.sort_by(|a, b| match (a, b) {
        (Ok(a), Ok(b)) => a.0.cmp(&b.0),
        _ => std::cmp::Ordering::Equal,
    });
    for chunk in optimised {
        files.push(chunk?);
    }
    let mut all = Vec::new();
    for (name, bytes) in &files {
        all.extend_from_slice(name.as_bytes());
        all.extend_from_slice(bytes);
    }
    let id = format!("{:016x}", fnv1a64(&all))[..12].to_string();
    let glimpse = assets_dir().join("glimpse");
    let dir = glimpse.join(&id);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
    for (name, bytes) in &files {
        std::fs::write(dir.join(name), bytes).map_err(|e| format!("write {name}: {e}"))?;
        println!("    widget: glimpse/{id}/{name} ({} bytes)", bytes.len());
    }
    let names: Vec<String> = files.iter().map(|(name, _)| name.clone()).collect();
    crate::keep::write_files(&dir, &names)?;
    Ok(WidgetBundle::new(&id))
}

/// The splitter's loader with its one `Array.prototype` call (`deps.map`) written as a loop:
/// host pages replace array methods with ones that throw (see e2e `hostile_hosts`), and
/// the widget must load anyway. Fails if the splitter's output changed shape, so the
/// patch is looked at again rather than silently skipped.
fn without_array_methods(link: &str) -> Result<String> {
    const MAP: &str = "const parallelStuff = deps.map(d => d());";
    if !link.contains(MAP) || link.matches(".map(").count() != 1 {
        return Err("the splitter's __wasm_split.js changed: review without_array_methods".into());
    }
    Ok(link.replace(
        MAP,
        "const parallelStuff = []; for (let i = 0; i < deps.length; i++) parallelStuff[i] = deps[i]();",
    ))
}

/// The splitter's loader compiling each chunk while it downloads, not after the chunks it
/// depends on are instantiated: `instantiateStreaming` only starts once the dependencies'
/// promises settle, so a click with every chunk cold waited for the shared chunk's
/// instantiation before the app's chunk began compiling. `compileStreaming` starts at once;
/// instantiation still waits for the dependencies (the chunks import the shared one's
/// exports through the main module). The loader ignores what the promise resolves to. Fails
/// if the splitter's output changed shape.
fn compiling_early(link: &str) -> Result<String> {
    const INSTANTIATE: &str =
        "return async (imports) => (WebAssembly.instantiateStreaming(src, imports));";
    const FETCH: &str = "src.catch(() => {});";
    let chunks = link.matches(INSTANTIATE).count();
    if chunks == 0 || link.matches(FETCH).count() != chunks {
        return Err("the splitter's __wasm_split.js changed: review compiling_early".into());
    }
    Ok(link.replace(FETCH, "src.catch(() => {});\n    const compiled = WebAssembly.compileStreaming(src);\n    compiled.catch(() => {});").replace(
        INSTANTIATE,
        "return async (imports) => WebAssembly.instantiate(await compiled, imports);",
    ))
}

fn read(path: &std::path::Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| format!("read {}: {e}", path.display()))
}

/// Optimises one wasm file for size.
fn wasm_opt(tools: &Tools, from: &std::path::Path, to: &std::path::Path) -> Result {
    run(Command::new(&tools.wasm_opt)
        .arg(from)
        .args([
            "-Oz",
            "--enable-bulk-memory",
            "--enable-mutable-globals",
            "--enable-nontrapping-float-to-int",
            "--enable-sign-ext",
            "--enable-reference-types",
            "--enable-multivalue",
            "--strip-debug",
            "--strip-producers",
            "--strip-target-features",
            "-o",
        ])
        .arg(to))
}

/// Minifies an ES module with esbuild (exports and `import.meta.url` kept; top-level
/// declarations nothing uses are dropped).
fn minify_module(tools: &Tools, source: &[u8]) -> Result<Vec<u8>> {
    esbuild(
        tools,
        source,
        &[
            "--minify",
            "--format=esm",
            "--tree-shaking=true",
            "--target=es2020",
            "--legal-comments=none",
        ],
    )
}

fn esbuild(tools: &Tools, source: &[u8], args: &[&str]) -> Result<Vec<u8>> {
    let mut child = Command::new(&tools.esbuild)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("start esbuild: {e}"))?;
    child
        .stdin
        .take()
        .ok_or("esbuild stdin")?
        .write_all(source)
        .map_err(|e| format!("esbuild stdin: {e}"))?;
    let out = child
        .wait_with_output()
        .map_err(|e| format!("esbuild: {e}"))?;
    if !out.status.success() {
        return Err("esbuild failed".into());
    }
    Ok(out.stdout)
}

/// Builds the operators' console into `assets/admin/`: `index.html` (served at `/admin/`),
/// and content-hashed boot script, glue, wasm and stylesheet.
pub fn build_admin(tools: &Tools) -> Result {
    let (glue_path, wasm_path) = compile_wasm(tools, "glimpse-admin", "glimpse_admin", "admin")?;
    let read =
        |p: &std::path::Path| std::fs::read(p).map_err(|e| format!("read {}: {e}", p.display()));
    let hashed = |stem: &str, ext: &str, bytes: &[u8]| {
        format!("{stem}.{}.{ext}", &format!("{:016x}", fnv1a64(bytes))[..12])
    };
    let glue = read(&glue_path)?;
    let wasm = read(&wasm_path)?;
    let css = read(&at("admin/admin.css"))?;
    let glue_name = hashed("admin", "js", &glue);
    let wasm_name = hashed("admin", "wasm", &wasm);
    let css_name = hashed("admin", "css", &css);
    let boot = String::from_utf8(read(&at("admin/boot.js"))?)
        .map_err(|e| format!("admin/boot.js: {e}"))?
        .replace("__ADMIN_GLUE__", &glue_name)
        .replace("__ADMIN_WASM__", &wasm_name);
    let boot_name = hashed("boot", "js", boot.as_bytes());
    let index = String::from_utf8(read(&at("admin/index.html"))?)
        .map_err(|e| format!("admin/index.html: {e}"))?
        .replace("__ADMIN_CSS__", &css_name)
        .replace("__ADMIN_BOOT__", &boot_name);
    let dir = assets_dir().join("admin");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    for (name, bytes) in [
        (glue_name.as_str(), glue.as_slice()),
        (wasm_name.as_str(), wasm.as_slice()),
        (css_name.as_str(), css.as_slice()),
        (boot_name.as_str(), boot.as_bytes()),
        ("index.html", index.as_bytes()),
    ] {
        std::fs::write(dir.join(name), bytes).map_err(|e| format!("write admin/{name}: {e}"))?;
    }
    println!(
        "    console: admin/ ({} bytes wasm, {} bytes glue)",
        wasm.len(),
        glue.len()
    );
    Ok(())
}

/// Writes the minified `widget.js` loader pointing at `bundle`, the `_headers` file and the
/// demo pages; returns the files written.
pub fn write_loader_and_headers(tools: &Tools, bundle: &WidgetBundle) -> Result<Vec<PathBuf>> {
    let source = std::fs::read_to_string(at("widget/loader/widget.js"))
        .map_err(|e| format!("read loader: {e}"))?
        .replace("__GLIMPSE_GLUE__", &bundle.glue)
        .replace("__GLIMPSE_WASM__", &bundle.wasm);
    let out = esbuild(
        tools,
        source.as_bytes(),
        &["--minify", "--target=es2020", "--legal-comments=none"],
    )?;
    let assets = assets_dir();
    std::fs::write(assets.join("widget.js"), &out).map_err(|e| format!("write widget.js: {e}"))?;
    println!("    loader: widget.js ({} bytes)", out.len());
    copy(&at("worker/assets_headers"), &assets.join("_headers"))?;
    let mut written = vec![assets.join("widget.js"), assets.join("_headers")];
    // Demo pages for the embedding contract: strict CSPs, two sites, hostile host CSS.
    let pages = at("demo/pages");
    for entry in std::fs::read_dir(&pages).map_err(|e| format!("read {}: {e}", pages.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
            let to = assets.join("demo").join(name);
            copy(&path, &to)?;
            written.push(to);
        }
    }
    Ok(written)
}

/// The operators' worker's wrangler config, next to the visitors' `wrangler.toml`: a worker
/// crate with it is built twice (see [`build_worker_in`]).
pub const OPERATORS_CONFIG: &str = "wrangler.operators.toml";

/// Builds the worker crate in `dir` with worker-build (`build/worker/shim.mjs`), then drops
/// the custom sections nobody needs at the edge from `build/index_bg.wasm`: worker-build
/// keeps the `name` section (it runs wasm-opt with `--debuginfo`), ≈ 400 KB of the upload.
/// A crate with an [`OPERATORS_CONFIG`] (Glimpse's) is built twice: with its default features
/// (the operators' worker, into `build-operators/`) and without them (the visitors' worker,
/// into `build/`), each uploaded on its own.
pub fn build_worker_in(tools: &Tools, dir: &std::path::Path) -> Result {
    let variants: &[(&str, &[&str])] = if dir.join(OPERATORS_CONFIG).exists() {
        &[
            ("build-operators", &[]),
            ("build", &["--no-default-features"]),
        ]
    } else {
        &[("build", &[])]
    };
    for (out_dir, cargo_args) in variants {
        run(Command::new(&tools.worker_build)
            .args(["--release", "--out-dir", out_dir])
            .args(*cargo_args)
            .current_dir(dir)
            .env("WASM_BINDGEN_BIN", &tools.wasm_bindgen)
            .env("WASM_OPT_BIN", &tools.wasm_opt)
            .env("ESBUILD_BIN", &tools.esbuild)
            .env("XDG_CACHE_HOME", at("target/xdg-cache"))
            .env("CARGO_TARGET_DIR", worker_target_dir(dir)))?;
        let wasm = dir.join(out_dir).join("index_bg.wasm");
        let stripped = without_custom_sections(&read(&wasm)?, UNSHIPPED_SECTIONS)?;
        std::fs::write(&wasm, stripped).map_err(|e| format!("write {}: {e}", wasm.display()))?;
    }
    Ok(())
}

/// Custom sections a deployed worker does without: function names (a panic's stack trace in
/// `wrangler tail` shows wasm offsets instead) and the toolchain's `producers` record.
pub const UNSHIPPED_SECTIONS: &[&str] = &["name", "producers"];

/// `wasm` without the custom sections named in `drop`; every other section byte for byte.
pub fn without_custom_sections(wasm: &[u8], drop: &[&str]) -> Result<Vec<u8>> {
    let err = |e: wasmparser::BinaryReaderError| format!("read wasm: {e}");
    let mut module = wasm_encoder::Module::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(err)?;
        if let wasmparser::Payload::CustomSection(custom) = &payload
            && drop.contains(&custom.name())
        {
            continue;
        }
        // Section-level payloads only: the code section comes whole with its start, so its
        // entries (and the version header and end) are skipped.
        if let Some((id, range)) = payload.as_section() {
            let data = usize::try_from(range.start)
                .ok()
                .zip(usize::try_from(range.end).ok())
                .and_then(|(start, end)| wasm.get(start..end))
                .ok_or("a section runs past the end of the module")?;
            module.section(&wasm_encoder::RawSection { id, data });
        }
    }
    let out = module.finish();
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&out)
        .map_err(|e| format!("the worker without its {drop:?} sections is invalid: {e}"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{compiling_early, without_array_methods, without_custom_sections};

    #[test]
    fn custom_sections_named_are_dropped_and_everything_else_kept() {
        let mut module = wasm_encoder::Module::new();
        let mut types = wasm_encoder::TypeSection::new();
        types.ty().function([], [wasm_encoder::ValType::I32]);
        module.section(&types);
        let mut funcs = wasm_encoder::FunctionSection::new();
        funcs.function(0);
        module.section(&funcs);
        let mut exports = wasm_encoder::ExportSection::new();
        exports.export("answer", wasm_encoder::ExportKind::Func, 0);
        module.section(&exports);
        let mut code = wasm_encoder::CodeSection::new();
        let mut body = wasm_encoder::Function::new([]);
        body.instructions().i32_const(42).end();
        code.function(&body);
        module.section(&code);
        let mut names = wasm_encoder::NameSection::new();
        let mut map = wasm_encoder::NameMap::new();
        map.append(0, "answer_fn");
        names.functions(&map);
        module.section(&names);
        module.section(&wasm_encoder::CustomSection {
            name: "keep.me".into(),
            data: b"data".as_slice().into(),
        });
        let wasm = module.finish();

        let out = without_custom_sections(&wasm, &["name", "producers"]).unwrap();
        let customs: Vec<String> = wasmparser::Parser::new(0)
            .parse_all(&out)
            .filter_map(|p| match p.unwrap() {
                wasmparser::Payload::CustomSection(c) => Some(c.name().to_string()),
                _ => None,
            })
            .collect();
        assert_eq!(customs, ["keep.me"]);
        assert!(!out.windows(9).any(|w| w == b"answer_fn"));
        // The code and export are untouched: the module is the input minus the name section.
        assert!(out.len() < wasm.len());
        assert!(out.windows(6).any(|w| w == b"answer"));
        assert!(without_custom_sections(b"not wasm", &["name"]).is_err());
    }

    /// The shape `wasm_split_cli_support` 0.2.4 writes (one chunk and its dependency).
    const LINK: &str = r#"function makeLoad(fetcher, deps) {
    const loader = async () => {
        const parallelStuff = deps.map(d => d());
        const instantiate = fetcher();
        await Promise.all(parallelStuff);
        const imports = getSharedImports();
        return instantiate(imports);
    };
}
const __chunk_3 = makeLoad(() => {
    const src = fetch(new URL("./chunk_3.wasm", import.meta.url));
    src.catch(() => {});
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, []);
export const __wasm_split_load_app = wrapAsyncCb(makeLoad(() => {
    const src = fetch(new URL("./split_app.wasm", import.meta.url));
    src.catch(() => {});
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, [__chunk_3]));"#;

    #[test]
    fn the_split_loader_compiles_while_it_downloads_and_uses_no_array_methods() {
        let patched = compiling_early(&without_array_methods(LINK).unwrap()).unwrap();
        assert!(!patched.contains("instantiateStreaming"));
        assert!(!patched.contains(".map("));
        assert_eq!(
            patched.matches("WebAssembly.compileStreaming(src)").count(),
            2
        );
        assert_eq!(
            patched
                .matches("WebAssembly.instantiate(await compiled, imports)")
                .count(),
            2
        );
        // Every compile starts right after its fetch, before anything is awaited.
        for chunk in patched.split("makeLoad(() => {").skip(1) {
            let fetch = chunk.find("fetch(").unwrap();
            let compile = chunk.find("compileStreaming").unwrap();
            let wait = chunk.find("await").unwrap();
            assert!(fetch < compile && compile < wait, "{chunk}");
        }
        // A loader of another shape is refused, not passed through unpatched.
        assert!(compiling_early("export const x = 1;").is_err());
        assert!(without_array_methods("export const x = 1;").is_err());
    }
}
