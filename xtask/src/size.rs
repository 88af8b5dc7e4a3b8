//! `cargo xtask size`: the widget's weight as visitors download it (raw, gzip, brotli), checked
//! against the budgets. Measures the built files in `worker/assets/`.

use std::io::Write;
use std::path::Path;

use crate::Result;
use crate::build::assets_dir;

/// The loader must stay tiny: it runs on every page view before anything else.
pub const LOADER_BROTLI_MAX: usize = 1_536;
/// Everything a visitor downloads for the widget.
pub const TOTAL_BROTLI_MAX: usize = 60 * 1024;
/// What we aim for.
pub const TOTAL_BROTLI_GOAL: usize = 50 * 1024;

/// One file's sizes in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sizes {
    pub name: String,
    pub raw: usize,
    pub gzip: usize,
    pub brotli: usize,
}

pub fn gzip(bytes: &[u8]) -> Result<usize> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).map_err(|e| e.to_string())?;
    enc.finish().map(|v| v.len()).map_err(|e| e.to_string())
}

pub fn brotli(bytes: &[u8]) -> Result<usize> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).map_err(|e| e.to_string())?;
    Ok(out.len())
}

fn measure(path: &Path, name: String) -> Result<Sizes> {
    let bytes = std::fs::read(path).map_err(|e| format!("read {}: {e}", path.display()))?;
    Ok(Sizes {
        name,
        raw: bytes.len(),
        gzip: gzip(&bytes)?,
        brotli: brotli(&bytes)?,
    })
}

/// Sizes of the loader and of every bundle file (the CSS is compiled into the wasm).
pub fn measure_widget() -> Result<Vec<Sizes>> {
    let assets = assets_dir();
    let mut out = vec![measure(&assets.join("widget.js"), "widget.js".into())?];
    let dir = assets.join("glimpse");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|e| format!("read {}: {e} (run `cargo xtask build`)", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    for f in files {
        let name = format!(
            "glimpse/{}",
            f.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        );
        out.push(measure(&f, name)?);
    }
    Ok(out)
}

/// Prints the table and fails if a budget is exceeded.
pub fn check(sizes: &[Sizes]) -> Result {
    println!(
        "    {:<36} {:>9} {:>9} {:>9}",
        "file", "raw", "gzip", "brotli"
    );
    for s in sizes {
        println!(
            "    {:<36} {:>9} {:>9} {:>9}",
            s.name, s.raw, s.gzip, s.brotli
        );
    }
    let total = |f: fn(&Sizes) -> usize| sizes.iter().map(f).sum::<usize>();
    let brotli_total = total(|s| s.brotli);
    println!(
        "    {:<36} {:>9} {:>9} {:>9}",
        "total",
        total(|s| s.raw),
        total(|s| s.gzip),
        brotli_total
    );
    let loader = sizes.first().map(|s| s.brotli).unwrap_or(0);
    let mut over = Vec::new();
    if loader > LOADER_BROTLI_MAX {
        over.push(format!(
            "loader is {loader} B brotli, budget {LOADER_BROTLI_MAX} B"
        ));
    }
    if brotli_total > TOTAL_BROTLI_MAX {
        over.push(format!(
            "widget is {brotli_total} B brotli, budget {TOTAL_BROTLI_MAX} B"
        ));
    }
    if over.is_empty() {
        let goal = if brotli_total <= TOTAL_BROTLI_GOAL {
            "within the 50 KB goal"
        } else {
            "over the 50 KB goal"
        };
        println!("    within budget ({goal})");
        Ok(())
    } else {
        Err(format!("over budget: {}", over.join("; ")))
    }
}
