//! Building the widget bundle into the worker's static assets, and the worker itself.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::run::{cargo, copy, run, step};
use crate::tools::{Tools, fnv1a64};
use crate::{Result, at};

/// The worker's static assets directory (wrangler.toml `[assets] directory`).
pub fn assets_dir() -> PathBuf {
    at("worker/assets")
}

/// The bundle files the loader refers to, relative to the assets directory.
#[derive(Debug, Clone)]
pub struct WidgetBundle {
    pub glue: String,
    pub wasm: String,
}

/// Builds everything `wrangler dev` / `wrangler deploy` serve.
pub fn build_all(tools: &Tools) -> Result {
    let bundle = step(
        "build widget (wasm32, release, wasm-bindgen, wasm-opt)",
        || build_widget(tools),
    )?;
    step("assemble static assets (loader, _headers)", || {
        write_loader_and_headers(tools, &bundle)
    })?;
    step("build worker (worker-build --release)", || {
        build_worker(tools)
    })
}

/// Compiles the widget, generates the JS glue, optimises the wasm and copies both into
/// `assets/glimpse/` under content-hashed names (so they can be cached forever).
pub fn build_widget(tools: &Tools) -> Result<WidgetBundle> {
    run(cargo().current_dir(crate::root()).args([
        "build",
        "--package",
        "glimpse-widget",
        "--lib",
        "--release",
        "--target",
        "wasm32-unknown-unknown",
    ]))?;
    let out = at("target/widget-bindgen");
    let _ = std::fs::remove_dir_all(&out);
    run(Command::new(&tools.wasm_bindgen)
        .arg(at(
            "target/wasm32-unknown-unknown/release/glimpse_widget.wasm",
        ))
        .args([
            "--target",
            "web",
            "--no-typescript",
            "--remove-name-section",
            "--remove-producers-section",
            "--out-name",
            "glimpse",
            "--out-dir",
        ])
        .arg(&out))?;
    let raw_wasm = out.join("glimpse_bg.wasm");
    let opt_wasm = out.join("glimpse.opt.wasm");
    run(Command::new(&tools.wasm_opt)
        .arg(&raw_wasm)
        .args([
            "-Oz",
            "--enable-bulk-memory",
            "--enable-mutable-globals",
            "--enable-nontrapping-float-to-int",
            "--enable-sign-ext",
            "--enable-reference-types",
            "--enable-multivalue",
            "-o",
        ])
        .arg(&opt_wasm))?;

    let glue = std::fs::read(out.join("glimpse.js")).map_err(|e| format!("read glue: {e}"))?;
    let wasm = std::fs::read(&opt_wasm).map_err(|e| format!("read wasm: {e}"))?;
    let mut both = glue.clone();
    both.extend_from_slice(&wasm);
    let hash = format!("{:016x}", fnv1a64(&both));
    let bundle = WidgetBundle {
        glue: format!("glimpse/glimpse.{}.js", &hash[..12]),
        wasm: format!("glimpse/glimpse.{}.wasm", &hash[..12]),
    };
    let assets = assets_dir();
    let _ = std::fs::remove_dir_all(assets.join("glimpse"));
    copy(&out.join("glimpse.js"), &assets.join(&bundle.glue))?;
    copy(&opt_wasm, &assets.join(&bundle.wasm))?;
    println!(
        "    widget: {} ({} bytes), {} ({} bytes)",
        bundle.glue,
        glue.len(),
        bundle.wasm,
        wasm.len()
    );
    Ok(bundle)
}

/// Writes the minified `widget.js` loader pointing at `bundle`, and the `_headers` file.
pub fn write_loader_and_headers(tools: &Tools, bundle: &WidgetBundle) -> Result {
    let source = std::fs::read_to_string(at("widget/loader/widget.js"))
        .map_err(|e| format!("read loader: {e}"))?
        .replace("__GLIMPSE_GLUE__", &bundle.glue)
        .replace("__GLIMPSE_WASM__", &bundle.wasm);
    let mut esbuild = Command::new(&tools.esbuild)
        .args(["--minify", "--target=es2020", "--legal-comments=none"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("start esbuild: {e}"))?;
    esbuild
        .stdin
        .take()
        .ok_or("esbuild stdin")?
        .write_all(source.as_bytes())
        .map_err(|e| format!("esbuild stdin: {e}"))?;
    let out = esbuild
        .wait_with_output()
        .map_err(|e| format!("esbuild: {e}"))?;
    if !out.status.success() {
        return Err("esbuild could not minify the loader".into());
    }
    let assets = assets_dir();
    std::fs::write(assets.join("widget.js"), &out.stdout)
        .map_err(|e| format!("write widget.js: {e}"))?;
    println!("    loader: widget.js ({} bytes)", out.stdout.len());
    copy(&at("worker/assets_headers"), &assets.join("_headers"))?;
    // Demo pages for the embedding contract: strict CSPs, two sites, hostile host CSS.
    let pages = at("demo/pages");
    for entry in std::fs::read_dir(&pages).map_err(|e| format!("read {}: {e}", pages.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
            copy(&path, &assets.join("demo").join(name))?;
        }
    }
    Ok(())
}

/// Builds the worker with worker-build, using only registry-installed tools.
pub fn build_worker(tools: &Tools) -> Result {
    build_worker_in(tools, &at("worker"))
}

/// Builds the worker crate in `dir` with worker-build (`build/worker/shim.mjs`).
pub fn build_worker_in(tools: &Tools, dir: &std::path::Path) -> Result {
    run(Command::new(&tools.worker_build)
        .arg("--release")
        .current_dir(dir)
        .env("WASM_BINDGEN_BIN", &tools.wasm_bindgen)
        .env("WASM_OPT_BIN", &tools.wasm_opt)
        .env("ESBUILD_BIN", &tools.esbuild)
        .env("XDG_CACHE_HOME", at("target/xdg-cache")))
}
