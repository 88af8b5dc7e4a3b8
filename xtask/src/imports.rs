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
/// `glue` (wasm-bindgen's JS, before minification), and leaves out the exports named in
/// `drop`. An import whose name is not a key (`name:`) exactly once in the glue keeps its
/// name. Returns the new wasm and glue.
pub fn shorten(
    wasm: &[u8],
    glue: &str,
    module: &str,
    drop: &[String],
) -> Result<(Vec<u8>, String)> {
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
            Payload::ExportSection(reader) => {
                let mut section = wasm_encoder::ExportSection::new();
                for export in reader {
                    let export = export.map_err(err)?;
                    if drop.iter().any(|d| d == export.name) {
                        continue;
                    }
                    section.export(
                        export.name,
                        RoundtripReencoder
                            .export_kind(export.kind)
                            .map_err(|e| format!("export kind: {e:?}"))?,
                        export.index,
                    );
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

/// Removes the stream adapter classes wasm-streams exports (`IntoUnderlyingSource`,
/// `IntoUnderlyingSink`, `IntoUnderlyingByteSource`: Leptos's `csr` feature links
/// server_fn's browser client, which the widget never uses) from `glue` and returns the
/// export names to drop from the wasm, so wasm-opt removes their code. Nothing in the glue
/// or the wasm creates these objects (no `__wrap`), which is checked; a glue of another
/// shape is an error, so a wasm-bindgen upgrade gets this looked at again.
pub fn without_stream_classes(glue: &str) -> Result<(String, Vec<String>)> {
    const CLASSES: [&str; 3] = [
        "IntoUnderlyingByteSource",
        "IntoUnderlyingSink",
        "IntoUnderlyingSource",
    ];
    let mut glue = glue.to_string();
    let mut exports = Vec::new();
    for class in CLASSES {
        let start_marker = format!("export class {class} {{");
        let end_marker = format!(
            "if (Symbol.dispose) {class}.prototype[Symbol.dispose] = {class}.prototype.free;\n"
        );
        let start = glue.find(&start_marker).ok_or_else(|| {
            format!("glue: no `{start_marker}`; review imports::without_stream_classes")
        })?;
        let end = glue[start..]
            .find(&end_marker)
            .map(|at| start + at + end_marker.len())
            .ok_or_else(|| format!("glue: no end of class {class}"))?;
        let body = glue[start..end].to_string();
        for name in body.split("wasm.").skip(1) {
            let name: String = name
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            // Only the classes' own exports: helpers such as `__wbindgen_malloc` stay.
            if name.contains("intounderlying") && !exports.contains(&name) {
                exports.push(name);
            }
        }
        glue.replace_range(start..end, "");
        let registry =
            format!("const {class}Finalization = (typeof FinalizationRegistry === 'undefined')");
        if let Some(at) = glue.find(&registry) {
            let end = glue[at..]
                .find(";\n")
                .map(|e| at + e + 2)
                .ok_or_else(|| format!("glue: no end of {class}Finalization"))?;
            glue.replace_range(at..end, "");
        }
        if glue.contains(class) {
            return Err(format!("glue still uses {class} after removing it"));
        }
    }
    Ok((glue, exports))
}

/// wasm-bindgen imports the split loader once per function the main module imports from it
/// (`import * as import1 from "./__wasm_split.js"`, `import2`, …) and lists each under the
/// same key of the import object, which esbuild warns about. One import and one key are
/// kept (every one is the same module namespace).
pub fn one_split_import(glue: &str, link: &str) -> String {
    let mut seen_import = false;
    let mut seen_key = false;
    let key = format!("\"{link}\": ");
    let from = format!(" from \"{link}\"");
    let mut first = None;
    let mut out = String::with_capacity(glue.len());
    for line in glue.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with("import * as ") && trimmed.ends_with(&from) {
            if seen_import {
                continue;
            }
            seen_import = true;
            first = trimmed
                .strip_prefix("import * as ")
                .and_then(|r| r.split(' ').next())
                .map(str::to_string);
        } else if trimmed.starts_with(&key) {
            if seen_key {
                continue;
            }
            seen_key = true;
            if let Some(name) = &first {
                let indent = &line[..line.len() - line.trim_start().len()];
                out.push_str(&format!("{indent}{key}{name},\n"));
                continue;
            }
        }
        out.push_str(line);
    }
    out
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
        let (wasm, glue) =
            shorten(&module(), glue, "./x_bg.js", &[]).unwrap_or_else(|e| panic!("{e}"));
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

    #[test]
    fn drops_named_exports() {
        let (wasm, _) = shorten(&module(), "", "./x_bg.js", &["run".to_string()])
            .unwrap_or_else(|e| panic!("{e}"));
        let mut exports = Vec::new();
        for p in Parser::new(0).parse_all(&wasm) {
            if let Ok(Payload::ExportSection(r)) = p {
                exports.extend(r.into_iter().flatten().map(|e| e.name.to_string()));
            }
        }
        assert!(exports.is_empty(), "{exports:?}");
    }

    #[test]
    fn stream_classes_leave_the_glue_and_name_their_exports() {
        let glue = "import x from './a.js';\n\
export class IntoUnderlyingByteSource {\n    free() { wasm.__wbg_intounderlyingbytesource_free(1, 0); }\n    pull(c) { return wasm.intounderlyingbytesource_pull(this.__wbg_ptr, c); }\n    start(c) { wasm.__wbindgen_malloc(1, 1); }\n}\n\
if (Symbol.dispose) IntoUnderlyingByteSource.prototype[Symbol.dispose] = IntoUnderlyingByteSource.prototype.free;\n\
export class IntoUnderlyingSink {\n    write(c) { return wasm.intounderlyingsink_write(this.__wbg_ptr, c); }\n}\n\
if (Symbol.dispose) IntoUnderlyingSink.prototype[Symbol.dispose] = IntoUnderlyingSink.prototype.free;\n\
export class IntoUnderlyingSource {\n    pull(c) { return wasm.intounderlyingsource_pull(this.__wbg_ptr, c); }\n}\n\
if (Symbol.dispose) IntoUnderlyingSource.prototype[Symbol.dispose] = IntoUnderlyingSource.prototype.free;\n\
export function mount(config) { wasm.mount(config); }\n\
const IntoUnderlyingSinkFinalization = (typeof FinalizationRegistry === 'undefined')\n    ? { register: () => {}, unregister: () => {} }\n    : new FinalizationRegistry(ptr => wasm.__wbg_intounderlyingsink_free(ptr, 1));\n";
        let (out, exports) = without_stream_classes(glue).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            out,
            "import x from './a.js';\nexport function mount(config) { wasm.mount(config); }\n"
        );
        assert_eq!(
            exports,
            [
                "__wbg_intounderlyingbytesource_free",
                "intounderlyingbytesource_pull",
                "intounderlyingsink_write",
                "intounderlyingsource_pull"
            ]
        );
        assert!(without_stream_classes("export function mount() {}").is_err());
    }

    #[test]
    fn one_import_of_the_split_loader() {
        let glue = "import * as import1 from \"./__wasm_split.js\"\nimport * as import2 from \"./__wasm_split.js\"\nconst imports = {\n        \"./__wasm_split.js\": import1,\n        \"./__wasm_split.js\": import2,\n};\n";
        assert_eq!(
            one_split_import(glue, "./__wasm_split.js"),
            "import * as import1 from \"./__wasm_split.js\"\nconst imports = {\n        \"./__wasm_split.js\": import1,\n};\n"
        );
    }
}
