//! Compacts a stylesheet: comments out, runs of whitespace to one space, no space around
//! `{`, `}` and `;`. Nothing else changes: selectors keep their spaces (`.a :focus` is not
//! `.a:focus`) and values theirs (`0 6px 20px`, `calc(100% - 40px)`). Used by `build.rs`
//! on the widget's stylesheets, which every visitor downloads inside the wasm.

/// `css` compacted (see the module docs).
pub fn compact(css: &str) -> String {
    let mut text = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(at) = rest.find("/*") {
        text.push_str(&rest[..at]);
        rest = rest[at + 2..]
            .find("*/")
            .map_or("", |end| &rest[at + 2 + end + 2..]);
    }
    text.push_str(rest);
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    for token in ["{", "}", ";"] {
        out = out
            .replace(&format!(" {token}"), token)
            .replace(&format!("{token} "), token);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::compact;

    #[test]
    fn keeps_what_css_means() {
        let css = "/* theme */\n.root {\n  color: red; /* why */\n  box-shadow: 0 6px 20px rgb(0 0 0 / 0.25);\n}\n.a :focus,\n.b > .c {\n  width: calc(100% - 40px);\n}\n@media (prefers-color-scheme: dark) {\n  .root[data-theme=\"auto\"] { color: blue; }\n}\n";
        assert_eq!(
            compact(css),
            ".root{color: red;box-shadow: 0 6px 20px rgb(0 0 0 / 0.25);}.a :focus, .b > .c{width: calc(100% - 40px);}@media (prefers-color-scheme: dark){.root[data-theme=\"auto\"]{color: blue;}}"
        );
        assert_eq!(compact("a { b: c } /* unterminated"), "a{b: c}");
    }

    #[test]
    fn the_shipped_stylesheets_shrink_and_keep_every_rule() {
        for css in [
            include_str!("src/launcher.css"),
            include_str!("src/widget.css"),
        ] {
            let small = compact(css);
            assert!(
                small.len() < css.len() * 9 / 10,
                "{} -> {}",
                css.len(),
                small.len()
            );
            // No comment holds a brace, so every rule is still there.
            assert_eq!(small.matches('{').count(), css.matches('{').count());
            assert_eq!(small.matches('}').count(), css.matches('}').count());
            assert!(!small.contains("/*"));
        }
    }
}
