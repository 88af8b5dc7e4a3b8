//! Writes the widget's stylesheets, compacted (`css.rs`), to `OUT_DIR` for `include_str!`.

use std::path::Path;

#[path = "css.rs"]
mod css;

fn main() -> Result<(), String> {
    let out = std::env::var("OUT_DIR").map_err(|e| format!("OUT_DIR: {e}"))?;
    println!("cargo::rerun-if-changed=css.rs");
    for name in ["launcher.css", "widget.css"] {
        let src = Path::new("src").join(name);
        println!("cargo::rerun-if-changed={}", src.display());
        let text =
            std::fs::read_to_string(&src).map_err(|e| format!("read {}: {e}", src.display()))?;
        std::fs::write(Path::new(&out).join(name), css::compact(&text))
            .map_err(|e| format!("write {name}: {e}"))?;
    }
    Ok(())
}
