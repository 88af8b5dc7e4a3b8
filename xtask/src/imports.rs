//! Shorter import names for the widget's first chunk.
//!
//! wasm-bindgen names every import after its function plus a 16-hex-digit hash
//! (`__wbg_firstChild_8ba00f6fe3423297`) and writes each name twice: in the wasm's import
//! section and as a key of the glue's import object. With code splitting every import of
//! the whole widget lives in the first chunk, so ~250 such names (8 KB of nearly random
//! text, twice) are a good part of what every visitor downloads. This renames them to
//! `__g0`, `__g1`, … in both files, consistently, and leaves everything else byte for byte.

use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasmparser::{Parser, Payload};

use crate::Result;

/// Renames the imports from `module` (the glue, e.g. `./glimpse_bg.js`) in `wasm` and
/// `glue` (wasm-bindgen's JS, before minification). An import whose name is not a key
/// (`name:`) exactly once in the glue keeps its name. Returns the new wasm and glue.
pub fn shorten(wasm: &[u8], glue: &str, module: &str) -> Result<(Vec<u8>, String)> {
    let err = |e: wasmparser::BinaryReaderError| format!("read wasm: {e}");
    let mut out = wasm_encoder::Module::new();
    let mut glue = glue.to_string();
    if glue.contains("__g0") {
        return Err("the glue already has __g names".into());
    }
    let mut next = 0;
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(err)? {
            Payload::Version { .. } | Payload::End(_) => {}
            Payload::ImportSection(reader) => {
                let mut section = wasm_encoder::ImportSection::new();
                for import in reader.into_imports() {
                    let import = import.map_err(err)?;
                    let ty = RoundtripReencoder
                        .entity_type(import.ty)
                        .map_err(|e| format!("import type: {e:?}"))?;
                    let key = format!("{}:", import.name);
                    let name = if import.module == module && glue.matches(&key).count() == 1 {
                        let short = format!("__g{next}");
                        next += 1;
                        glue = glue.replace(&key, &format!("{short}:"));
                        short
                    } else {
                        import.name.to_string()
                    };
                    section.import(import.module, &name, ty);
                }
                out.section(&section);
            }
            other => {
                if let Some((id, range)) = other.as_section() {
                    let start = usize::try_from(range.start).map_err(|e| e.to_string())?;
                    let end = usize::try_from(range.end).map_err(|e| e.to_string())?;
                    let data = wasm.get(start..end).ok_or("section out of range")?;
                    out.section(&wasm_encoder::RawSection { id, data });
                }
            }
        }
    }
    Ok((out.finish(), glue))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module() -> Vec<u8> {
        let mut m = wasm_encoder::Module::new();
        let mut types = wasm_encoder::TypeSection::new();
        types.ty().function([], []);
        m.section(&types);
        let mut imports = wasm_encoder::ImportSection::new();
        imports.import(
            "./x_bg.js",
            "__wbg_now_0123456789abcdef",
            wasm_encoder::EntityType::Function(0),
        );
        imports.import(
            "./x_bg.js",
            "__wbg_gone_0123456789abcdef",
            wasm_encoder::EntityType::Function(0),
        );
        imports.import(
            "./other.js",
            "__wbg_now_0123456789abcdef",
            wasm_encoder::EntityType::Function(0),
        );
        m.section(&imports);
        let mut funcs = wasm_encoder::FunctionSection::new();
        funcs.function(0);
        m.section(&funcs);
        let mut exports = wasm_encoder::ExportSection::new();
        exports.export("run", wasm_encoder::ExportKind::Func, 3);
        m.section(&exports);
        let mut code = wasm_encoder::CodeSection::new();
        let mut f = wasm_encoder::Function::new([]);
        f.instruction(&wasm_encoder::Instruction::Call(0));
        f.instruction(&wasm_encoder::Instruction::End);
        code.function(&f);
        m.section(&code);
        m.finish()
    }

    fn imports(wasm: &[u8]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for p in Parser::new(0).parse_all(wasm) {
            if let Ok(Payload::ImportSection(r)) = p {
                for i in r.into_imports().flatten() {
                    out.push((i.module.to_string(), i.name.to_string()));
                }
            }
        }
        out
    }

    #[test]
    fn renames_in_both_files_and_keeps_the_rest() {
        let glue =
            "const imports = { __wbg_now_0123456789abcdef: function() { return Date.now(); } };";
        let (wasm, glue) = shorten(&module(), glue, "./x_bg.js").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            imports(&wasm),
            [
                ("./x_bg.js".to_string(), "__g0".to_string()),
                // Not a key of the glue: left as it was.
                ("./x_bg.js".into(), "__wbg_gone_0123456789abcdef".into()),
                // Another module's import.
                ("./other.js".into(), "__wbg_now_0123456789abcdef".into()),
            ]
        );
        assert_eq!(
            glue,
            "const imports = { __g0: function() { return Date.now(); } };"
        );
        wasmparser::validate(&wasm).unwrap_or_else(|e| panic!("{e}"));
    }
}
