//! `cargo xtask size`: the widget's weight as visitors download it (raw, gzip, brotli), checked
//! against the budgets. Measures the built files in `worker/assets/`.

use std::io::Write;
use std::path::Path;

use crate::Result;
use crate::build::assets_dir;

/// The loader must stay tiny: it runs on every page view before anything else.
pub const LOADER_BROTLI_MAX: usize = 1_536;
/// What a visitor downloads before any interaction (loader, glue, split loader, main wasm
/// with the CSS compiled in): the build fails above this.
pub const FIRST_BROTLI_MAX: usize = 60 * 1024;
/// What we aim for before any interaction.
pub const FIRST_BROTLI_GOAL: usize = 50 * 1024;
/// Everything, with every lazy chunk: a goal, reported (not yet met, see BENCHMARKS.md).
pub const TOTAL_BROTLI_GOAL: usize = 170 * 1024;

/// Crates whose code must never reach the widget: the Unicode tables of IDNA (the widget asks
/// the browser's URL parser, `widget::browser::BrowserDomains`) and time-zone data.
pub const NOT_IN_WIDGET: &[&str] = &[
    "idna",
    "idna_adapter",
    "icu_normalizer",
    "icu_properties",
    "icu_collections",
    "chrono_tz",
];

/// The crates of [`NOT_IN_WIDGET`] that the linked widget (`wasm`, with its `name` section)
/// has functions of: a function name's path segment (`idna::domain_to_ascii`,
/// `<idna_adapter::Adapter>::…`, `icu_normalizer[0123abcd]::…`) names its crate.
pub fn forbidden_crates(wasm: &[u8]) -> Result<Vec<&'static str>> {
    let err = |e: wasmparser::BinaryReaderError| format!("read wasm names: {e}");
    let mut found = std::collections::BTreeSet::new();
    let mut named = false;
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let wasmparser::Payload::CustomSection(section) = payload.map_err(err)? else {
            continue;
        };
        let wasmparser::KnownCustom::Name(names) = section.as_known() else {
            continue;
        };
        for name in names {
            let wasmparser::Name::Function(map) = name.map_err(err)? else {
                continue;
            };
            for naming in map {
                named = true;
                let function = naming.map_err(err)?.name;
                for krate in NOT_IN_WIDGET {
                    if names_crate(function, krate) {
                        found.insert(*krate);
                    }
                }
            }
        }
    }
    if !named {
        return Err("the linked widget has no function names to check".into());
    }
    Ok(found.into_iter().collect())
}

/// Whether the demangled `function` name has `krate` as a path segment followed by `::` or
/// by the `[hash]` rustc adds to std's crates.
fn names_crate(function: &str, krate: &str) -> bool {
    function.match_indices(krate).any(|(at, _)| {
        let before = function[..at].chars().next_back();
        let after = &function[at + krate.len()..];
        !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            && (after.starts_with("::") || after.starts_with('['))
    })
}

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

/// The widget as visitors download it: what loads before any interaction, and the lazy
/// chunks that load on use.
#[derive(Debug, Clone)]
pub struct Widget {
    pub first: Vec<Sizes>,
    pub chunks: Vec<Sizes>,
}

/// The build the assets' loader (`widget.js`) points at: `glimpse/{id}`.
pub fn current_bundle_dir() -> Result<String> {
    let loader = std::fs::read_to_string(assets_dir().join("widget.js"))
        .map_err(|e| format!("read widget.js: {e} (run `cargo xtask build`)"))?;
    let at = loader
        .find("glimpse/")
        .ok_or("widget.js names no glimpse/ build")?;
    let id: String = loader[at + "glimpse/".len()..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    if id.is_empty() {
        return Err("widget.js names no glimpse/ build".into());
    }
    Ok(format!("glimpse/{id}"))
}

/// The files before interaction, in the order the loader fetches them.
pub const FIRST_FILES: [&str; 3] = ["glimpse.js", "__wasm_split.js", "glimpse.wasm"];

/// Sizes of the current build (`bundle_dir`, e.g. `glimpse/0123456789ab`, as the loader
/// names it): the loader and [`FIRST_FILES`] first, then every chunk.
pub fn measure_widget(bundle_dir: &str) -> Result<Widget> {
    let assets = assets_dir();
    let mut first = vec![measure(&assets.join("widget.js"), "widget.js".into())?];
    for name in FIRST_FILES {
        first.push(measure(
            &assets.join(bundle_dir).join(name),
            format!("{bundle_dir}/{name}"),
        )?);
    }
    let dir = assets.join(bundle_dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|e| format!("read {}: {e} (run `cargo xtask build`)", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        // The lazy chunks: every other wasm file (not `files.json`, which no visitor fetches).
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !FIRST_FILES.contains(&n) && n.ends_with(".wasm"))
        })
        .collect();
    files.sort();
    let mut chunks = Vec::new();
    for f in files {
        let name = format!(
            "{bundle_dir}/{}",
            f.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        );
        chunks.push(measure(&f, name)?);
    }
    Ok(Widget { first, chunks })
}

fn row(name: &str, raw: usize, gzip: usize, brotli: usize) {
    println!("    {name:<44} {raw:>9} {gzip:>9} {brotli:>9}");
}

fn sum(sizes: &[Sizes]) -> Sizes {
    Sizes {
        name: String::new(),
        raw: sizes.iter().map(|s| s.raw).sum(),
        gzip: sizes.iter().map(|s| s.gzip).sum(),
        brotli: sizes.iter().map(|s| s.brotli).sum(),
    }
}

/// Prints the table (bytes) and fails if a budget is exceeded.
pub fn check(widget: &Widget) -> Result {
    println!(
        "    {:<44} {:>9} {:>9} {:>9}",
        "before any interaction", "raw", "gzip", "brotli"
    );
    for s in &widget.first {
        row(&s.name, s.raw, s.gzip, s.brotli);
    }
    let first = sum(&widget.first);
    row("= first download", first.raw, first.gzip, first.brotli);
    println!("    lazy chunks (on use)");
    for s in &widget.chunks {
        row(&s.name, s.raw, s.gzip, s.brotli);
    }
    let chunks = sum(&widget.chunks);
    row("= chunks", chunks.raw, chunks.gzip, chunks.brotli);
    let whole = first.brotli + chunks.brotli;
    row(
        "= whole widget",
        first.raw + chunks.raw,
        first.gzip + chunks.gzip,
        whole,
    );
    let loader = widget.first.first().map(|s| s.brotli).unwrap_or(0);
    let mut over = Vec::new();
    if loader > LOADER_BROTLI_MAX {
        over.push(format!(
            "loader is {loader} B brotli, budget {LOADER_BROTLI_MAX} B"
        ));
    }
    if first.brotli > FIRST_BROTLI_MAX {
        over.push(format!(
            "first download is {} B brotli, budget {FIRST_BROTLI_MAX} B",
            first.brotli
        ));
    }
    if over.is_empty() {
        let goal = if first.brotli <= FIRST_BROTLI_GOAL {
            "first download within the 50 KB goal"
        } else {
            "first download over the 50 KB goal"
        };
        let whole_goal = if whole <= TOTAL_BROTLI_GOAL {
            "whole widget within its 170 KB goal"
        } else {
            "whole widget over its 170 KB goal"
        };
        println!("    within budget ({goal}; {whole_goal})");
        Ok(())
    } else {
        Err(format!("over budget: {}", over.join("; ")))
    }
}

/// The visitors' worker's upload budget (`wrangler deploy --dry-run`, gzip KiB): it is what
/// starts cold on a visitor's request. `cargo xtask size` fails above it.
pub const WORKER_UPLOAD_MAX_KIB: f64 = 250.0;

#[cfg(test)]
mod tests {
    use super::names_crate;

    #[test]
    fn a_crate_is_named_only_as_a_whole_path_segment() {
        assert!(names_crate("idna::domain_to_ascii::h0123", "idna"));
        assert!(names_crate(
            "<idna_adapter::Adapter as core::default::Default>::default",
            "idna_adapter"
        ));
        assert!(names_crate("icu_normalizer[5ae3]::f", "icu_normalizer"));
        assert!(!names_crate("<idna_adapter::Adapter>::f", "idna"));
        assert!(!names_crate("my_idna::f", "idna"));
        assert!(!names_crate("glimpse_widget::idna", "idna"));
        assert!(!names_crate("percent_encoding::after_percent_sign", "idna"));
    }
}
