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
    step(
        "demo media (illustrations: rsvg-convert + ImageMagick; video: ffmpeg)",
        crate::media::build_demo_media,
    )?;
    step(
        "build console (wasm32, release, wasm-bindgen, wasm-opt)",
        || build_admin(tools),
    )?;
    step("build worker (worker-build --release)", || {
        build_worker(tools)
    })
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
    Ok((out.join(format!("{out_name}.js")), opt_wasm))
}

/// Compiles the widget, generates the JS glue, optimises the wasm and copies both into
/// `assets/glimpse/` under content-hashed names (so they can be cached forever).
pub fn build_widget(tools: &Tools) -> Result<WidgetBundle> {
    let (glue_path, opt_wasm) = compile_wasm(tools, "glimpse-widget", "glimpse_widget", "glimpse")?;
    let glue = std::fs::read(&glue_path).map_err(|e| format!("read glue: {e}"))?;
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
    copy(&glue_path, &assets.join(&bundle.glue))?;
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
