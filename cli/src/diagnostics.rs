//! Problems in content files, each placed where it is written: the file, the line and column
//! (from the byte ranges the TOML and YAML parsers report) and the field path the shared
//! `validate()` uses (`slides[0].cta.url`). Rendered by `annotate-snippets`, as rustc and
//! cargo render theirs.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};
use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};

/// One problem: in `file`, at byte range `span` of its text (1-based `line` and `column`,
/// the column counted in characters), about `field` (empty for the file as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub field: String,
    pub message: String,
    /// A suggestion ("did you mean `text`?"), if there is one.
    pub help: Option<String>,
    pub span: Range<usize>,
    pub line: usize,
    pub column: usize,
}

/// Every problem found in a content directory, with the text of each file they are in.
#[derive(Debug, Default)]
pub struct Report {
    pub diagnostics: Vec<Diagnostic>,
    sources: HashMap<PathBuf, String>,
}

impl Report {
    /// Records `text` as the content of `file`, for placing and showing its problems.
    pub fn source(&mut self, file: &Path, text: &str) {
        self.sources.insert(file.to_path_buf(), text.to_string());
    }

    /// Adds a problem about `field` of `file` at byte range `span` of its text.
    pub fn push(
        &mut self,
        file: &Path,
        field: &str,
        span: Range<usize>,
        message: impl Into<String>,
        help: Option<String>,
    ) {
        let text = self.sources.get(file).map_or("", String::as_str);
        // A range that runs over several lines (a whole table) is shown by its first line.
        let first_line_end = text
            .get(span.start..)
            .and_then(|rest| rest.find('\n'))
            .map_or(span.end, |i| span.start + i);
        let span = span.start..span.end.min(first_line_end).max(span.start);
        let (line, column) = line_column(text, span.start);
        self.diagnostics.push(Diagnostic {
            file: file.to_path_buf(),
            field: field.to_string(),
            message: message.into(),
            help,
            span,
            line,
            column,
        });
    }

    pub fn is_empty(&self) -> bool {
        self.diagnostics.is_empty()
    }

    /// Every problem with its file, line, column and a snippet of the file, each followed by
    /// a blank line; `styled` adds terminal colours.
    pub fn render(&self, styled: bool) -> String {
        let renderer = if styled {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        let mut out = String::new();
        for d in &self.diagnostics {
            let title = if d.field.is_empty() {
                d.message.clone()
            } else {
                format!("{}: {}", d.field, d.message)
            };
            let path = d.file.display().to_string();
            let text = self.sources.get(&d.file).map_or("", String::as_str);
            let span = clamp(text, d.span.clone());
            let title = Level::ERROR.primary_title(title);
            let mut group: Group<'_> = if text.is_empty() {
                // A folder, or a file that could not be read: its name is the place.
                title.element(Origin::path(path))
            } else {
                title.element(
                    Snippet::source(text)
                        .path(path)
                        .fold(true)
                        .annotation(AnnotationKind::Primary.span(span)),
                )
            };
            if let Some(help) = &d.help {
                group = group.element(Level::HELP.message(help.as_str()));
            }
            out.push_str(&renderer.render(&[group]));
            out.push_str("\n\n");
        }
        out
    }

    /// `N problems in M files; nothing was sent`.
    pub fn summary(&self) -> String {
        let files = {
            let mut f: Vec<&PathBuf> = self.diagnostics.iter().map(|d| &d.file).collect();
            f.sort();
            f.dedup();
            f.len()
        };
        let n = self.diagnostics.len();
        format!(
            "{n} problem{} in {files} file{}; nothing was sent",
            if n == 1 { "" } else { "s" },
            if files == 1 { "" } else { "s" },
        )
    }
}

/// Every problem ([`Report::render`], plain) and the summary.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.render(false), self.summary())
    }
}

/// `span` inside `text` and on character boundaries (a parser's range is trusted, not
/// assumed).
fn clamp(text: &str, span: Range<usize>) -> Range<usize> {
    let mut start = span.start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = span.end.clamp(start, text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    start..end
}

/// The 1-based line and character column of byte `offset` in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = clamp(text, offset..offset).start;
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// The byte offset of 1-based `line` and character `column` in `text` (the end of the text
/// if it has no such place).
pub fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    text[start..]
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(text.len(), |(i, _)| start + i)
}

/// Where a field is written: its key (absent for the whole document and for list items) and
/// its value, as byte ranges.
#[derive(Debug, Clone)]
struct Written {
    key: Option<Range<usize>>,
    value: Range<usize>,
}

/// Where each field of one content file is written, by field path.
#[derive(Debug, Default)]
pub struct Spans {
    fields: HashMap<String, Written>,
}

impl Spans {
    /// The fields of a TOML document (none if it does not parse: its syntax error is
    /// reported on its own).
    pub fn toml(text: &str) -> Self {
        let mut spans = Spans::default();
        if let Ok(root) = toml::de::DeTable::parse(text) {
            spans.fields.insert(
                String::new(),
                Written {
                    key: None,
                    value: 0..text.len(),
                },
            );
            spans.toml_table("", root.get_ref());
        }
        spans
    }

    fn toml_table(&mut self, path: &str, table: &toml::de::DeTable<'_>) {
        for (key, value) in table {
            let field = join_key(path, key.get_ref());
            self.record(field.clone(), Some(key.span()), value.span());
            self.toml_value(&field, value.get_ref());
        }
    }

    fn toml_value(&mut self, path: &str, value: &toml::de::DeValue<'_>) {
        match value {
            toml::de::DeValue::Table(t) => self.toml_table(path, t),
            toml::de::DeValue::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let field = format!("{path}[{i}]");
                    self.record(field.clone(), None, item.span());
                    self.toml_value(&field, item.get_ref());
                }
            }
            _ => {}
        }
    }

    /// The fields of a YAML document (none if it does not parse).
    pub fn yaml(text: &str) -> Self {
        let mut spans = Spans::default();
        if let Ok(root) = serde_saphyr::from_str::<serde_saphyr::Spanned<Tree>>(text) {
            spans.fields.insert(
                String::new(),
                Written {
                    key: None,
                    value: 0..text.len(),
                },
            );
            spans.yaml_tree(text, "", &root.value);
        }
        spans
    }

    fn yaml_tree(&mut self, text: &str, path: &str, tree: &Tree) {
        match tree {
            Tree::Map(entries) => {
                for (key, value) in entries {
                    let field = join_key(path, &key.value.0);
                    self.record(
                        field.clone(),
                        Some(yaml_range(text, &key.referenced)),
                        yaml_range(text, &value.referenced),
                    );
                    self.yaml_tree(text, &field, &value.value);
                }
            }
            Tree::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    let field = format!("{path}[{i}]");
                    self.record(field.clone(), None, yaml_range(text, &item.referenced));
                    self.yaml_tree(text, &field, &item.value);
                }
            }
            Tree::Leaf => {}
        }
    }

    fn record(&mut self, field: String, key: Option<Range<usize>>, value: Range<usize>) {
        self.fields.insert(field, Written { key, value });
    }

    /// Where to point for a problem with `field`: its key if it is written, else its value,
    /// else the nearest enclosing field that is written (a missing field points at the table
    /// that lacks it), else the start of the file.
    pub fn locate(&self, field: &str) -> Range<usize> {
        let mut at = field;
        loop {
            if let Some(w) = self.fields.get(at) {
                return w.key.clone().unwrap_or_else(|| w.value.clone());
            }
            match parent(at) {
                Some(p) => at = p,
                None => return 0..0,
            }
        }
    }

    /// Where `field`'s value is written, or where [`Spans::locate`] points.
    pub fn value(&self, field: &str) -> Range<usize> {
        self.fields
            .get(field)
            .map_or_else(|| self.locate(field), |w| w.value.clone())
    }

    /// Whether `field` is written in the file.
    pub fn has(&self, field: &str) -> bool {
        self.fields.contains_key(field)
    }
}

/// `path.key`, or `key` at the top.
pub fn join_key(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The field path one level up (`slides[0].text` → `slides[0]` → `slides` → ``), `None` at
/// the top.
pub fn parent(field: &str) -> Option<&str> {
    if field.is_empty() {
        return None;
    }
    let cut = match (field.rfind('.'), field.rfind('[')) {
        (Some(d), Some(b)) => d.max(b),
        (Some(d), None) => d,
        (None, Some(b)) => b,
        (None, None) => 0,
    };
    Some(&field[..cut])
}

/// A YAML location as a byte range of `text`: the parser's byte offset where it gives one,
/// else its line and column.
fn yaml_range(text: &str, at: &serde_saphyr::Location) -> Range<usize> {
    let span = at.span();
    let start = span
        .byte_offset()
        .and_then(|o| usize::try_from(o).ok())
        .unwrap_or_else(|| {
            offset_of(
                text,
                usize::try_from(at.line()).unwrap_or(1),
                usize::try_from(at.column()).unwrap_or(1),
            )
        });
    let len = span
        .byte_len()
        .and_then(|l| usize::try_from(l).ok())
        .unwrap_or(0);
    start..start + len
}

/// A YAML document's shape with the place of every key and value (serde-saphyr's
/// `Spanned`), scalars left out.
enum Tree {
    Map(Vec<(serde_saphyr::Spanned<Key>, serde_saphyr::Spanned<Tree>)>),
    Seq(Vec<serde_saphyr::Spanned<Tree>>),
    Leaf,
}

/// A mapping key of any scalar kind, as text.
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
                Ok(Key(String::new()))
            }
        }
        d.deserialize_any(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TreeVisitor;
        impl<'de> Visitor<'de> for TreeVisitor {
            type Value = Tree;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tree, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key()? {
                    entries.push((key, map.next_value()?));
                }
                Ok(Tree::Map(entries))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tree, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Tree::Seq(items))
            }
            fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Tree, D::Error> {
                Tree::deserialize(d)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Tree, E> {
                Ok(Tree::Leaf)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Tree, E> {
                Ok(Tree::Leaf)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Tree, E> {
                Ok(Tree::Leaf)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Tree, E> {
                Ok(Tree::Leaf)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Tree, E> {
                Ok(Tree::Leaf)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Tree, E> {
                Ok(Tree::Leaf)
            }
            fn visit_none<E: de::Error>(self) -> Result<Tree, E> {
                Ok(Tree::Leaf)
            }
        }
        d.deserialize_any(TreeVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_count_characters() {
        let text = "a = 1\nø = \"é\"\n";
        assert_eq!(line_column(text, 0), (1, 1));
        let e = text.find('é').unwrap_or(0);
        assert_eq!(line_column(text, e), (2, 6));
        assert_eq!(offset_of(text, 2, 6), e);
        assert_eq!(offset_of(text, 9, 1), text.len());
    }

    #[test]
    fn parents_climb_one_level_at_a_time() {
        assert_eq!(parent("slides[0].cta.url"), Some("slides[0].cta"));
        assert_eq!(parent("slides[0]"), Some("slides"));
        assert_eq!(parent("slides"), Some(""));
        assert_eq!(parent(""), None);
    }

    #[test]
    fn toml_and_yaml_fields_are_found_where_they_are_written() {
        let toml = "id = 'a'\n[[slides]]\ntext = 'one'\n[[slides]]\ntxt = 'two'\n[slides.cta]\nurl = 'https://x.example'\n";
        let spans = Spans::toml(toml);
        let at = |f: &str| line_column(toml, spans.locate(f).start);
        assert_eq!(at("id"), (1, 1));
        assert_eq!(at("slides[1].txt"), (5, 1));
        assert_eq!(at("slides[1].cta.url"), (7, 1));
        assert_eq!(&toml[spans.value("slides[0].text")], "'one'");
        // A field that is not written points at the table that lacks it.
        assert_eq!(at("slides[1].text"), at("slides[1]"));

        let yaml =
            "id: a\nslides:\n  - text: one\n  - txt: two\n    cta:\n      url: https://x.example\n";
        let spans = Spans::yaml(yaml);
        let at = |f: &str| line_column(yaml, spans.locate(f).start);
        assert_eq!(at("id"), (1, 1));
        assert_eq!(at("slides[1].txt"), (4, 5));
        assert_eq!(at("slides[1].cta.url"), (6, 7));
        assert_eq!(&yaml[spans.value("slides[0].text")], "one");
    }

    #[test]
    fn a_report_names_file_line_column_and_field() {
        let mut r = Report::default();
        let file = Path::new("stories/a.toml");
        let text = "id = 'a'\ntitle = 'T'\n";
        r.source(file, text);
        r.push(
            file,
            "title",
            9..14,
            "must be longer",
            Some("try again".into()),
        );
        let out = r.render(false);
        assert!(out.contains("error: title: must be longer"), "{out}");
        assert!(out.contains("stories/a.toml:2:1"), "{out}");
        assert!(out.contains("help: try again"), "{out}");
        assert_eq!(r.summary(), "1 problem in 1 file; nothing was sent");
        assert!(
            r.to_string()
                .ends_with("\n\n1 problem in 1 file; nothing was sent")
        );
    }
}
