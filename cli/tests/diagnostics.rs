//! `glimpse check` and `glimpse publish` on broken content files, run as a marketer runs
//! them: every problem of every file comes at once, each with its file, line, column and
//! field, and nothing is sent.
#![allow(clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// A fresh content directory with `files` (relative path, text) in it.
fn content(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("glimpse-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("mkdir: {e}"));
        }
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write: {e}"));
    }
    dir
}

/// Runs the CLI; `(succeeded, stdout, stderr)`.
fn glimpse(args: &[&str], token: Option<&str>) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_glimpse"));
    cmd.args(args).env_remove("GLIMPSE_ADMIN_TOKEN");
    if let Some(t) = token {
        cmd.env("GLIMPSE_ADMIN_TOKEN", t);
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("run glimpse: {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const SITE: &str = "\
id = 'shop'
name = 'Shop'
origins = ['https://shop.example']

[[topics]]
id = 'orders'
label = 'Orders'

[[topics]]
id = 'account'
label = 'Account'
";

/// The story: `txt` for `text` in the second slide.
const MISSPELT: &str = "\
id = 'track'
title = 'Track your order'
topic = 'orders'
expires_in_hours = 24

[[slides]]
text = 'Open Orders'

[[slides]]
txt = 'Tap the parcel'
";

fn at(dir: &Path, file: &str, line: usize, column: usize) -> String {
    format!("{}:{line}:{column}", dir.join(file).display())
}

#[test]
fn a_misspelt_key_is_named_where_it_is_with_the_key_it_should_be() {
    let dir = content(
        "misspelt",
        &[("site.toml", SITE), ("stories/track.toml", MISSPELT)],
    );
    let (ok, _, err) = glimpse(&["check", dir.to_str().unwrap_or_default()], None);
    assert!(!ok, "{err}");
    assert!(err.contains("slides[1].txt: unknown key `txt`"), "{err}");
    assert!(err.contains("did you mean `text`?"), "{err}");
    assert!(
        err.contains(&at(&dir, "stories/track.toml", 10, 1)),
        "{err}"
    );
    // What serde alone said, now with the slide it is about.
    assert!(err.contains("slides[1]: missing field `text`"), "{err}");
    assert!(
        err.contains("2 problems in 1 file; nothing was sent"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_problem_of_every_file_comes_at_once_each_on_its_own() {
    let dir = content(
        "every",
        &[
            ("site.toml", SITE),
            ("stories/track.toml", MISSPELT),
            (
                // Fixed keys, wrong values: each problem its own diagnostic, on its line.
                "stories/reset.toml",
                "id = 'Reset Password'\ntitle = 'Reset'\ntopic = 'acount'\nexpires_in_hours = 2\n\n[[slides]]\ntext = 'Open settings'\ncta = { label = 'Go', url = 'http://shop.example/reset' }\n",
            ),
            (
                "stories/yaml.yaml",
                "id: yaml-story\ntitle: From YAML\ntopic: orders\nexpires_in_hours: soon\nslides:\n  - text: One\n    duraton_ms: 4000\n",
            ),
            (
                "polls/csat.toml",
                "id = 'csat'\nquestoin = 'How did we do?'\nexpires_in_hours = 24\n[kind]\ntype = 'rating'\n",
            ),
            ("sessions/broken.toml", "id = 'live'\ntitle = 'Q&A\n"),
        ],
    );
    let (ok, out, err) = glimpse(&["check", dir.to_str().unwrap_or_default()], None);
    assert!(!ok, "{out}{err}");
    for (file, line, column, says) in [
        ("stories/track.toml", 10, 1, "unknown key `txt`"),
        ("stories/reset.toml", 1, 6, "id: "),
        (
            "stories/reset.toml",
            3,
            9,
            "`acount` is not one of the site's topics",
        ),
        (
            "stories/reset.toml",
            8,
            29,
            "slides[0].cta.url: must be an https URL",
        ),
        (
            "stories/yaml.yaml",
            4,
            19,
            "expires_in_hours: must be a number of hours",
        ),
        (
            "stories/yaml.yaml",
            7,
            5,
            "slides[0].duraton_ms: unknown key",
        ),
        ("polls/csat.toml", 2, 1, "questoin: unknown key"),
        ("sessions/broken.toml", 2, 13, "invalid literal string"),
    ] {
        let place = at(&dir, file, line, column);
        let found = err
            .split("\n\n")
            .any(|d| d.contains(&place) && d.contains(says));
        assert!(found, "{file}:{line}:{column} {says:?} in:\n{err}");
    }
    assert!(err.contains("did you mean `account`?"), "{err}");
    assert!(err.contains("did you mean `duration_ms`?"), "{err}");
    assert!(err.contains("did you mean `question`?"), "{err}");
    assert!(err.contains("in 5 files; nothing was sent"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn publish_reports_the_files_before_asking_for_a_token_and_sends_nothing() {
    let dir = content(
        "publish",
        &[("site.toml", SITE), ("stories/track.toml", MISSPELT)],
    );
    // Port 9 (discard): were anything sent, the error would be a connection failure.
    let (ok, out, err) = glimpse(
        &[
            "publish",
            dir.to_str().unwrap_or_default(),
            "--api",
            "http://127.0.0.1:9",
        ],
        None,
    );
    assert!(!ok);
    assert!(err.contains("unknown key `txt`"), "{out}{err}");
    assert!(!err.contains("GLIMPSE_ADMIN_TOKEN"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn good_content_passes_the_check() {
    let (ok, out, err) = glimpse(
        &[
            "check",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../demo/content"),
        ],
        None,
    );
    assert!(ok, "{out}{err}");
    assert!(out.contains("no problems (site \"demo\": "), "{out}");
}

#[test]
fn the_demos_translations_are_complete_and_current() {
    let (ok, out, err) = glimpse(
        &[
            "check",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../demo/content"),
        ],
        None,
    );
    assert!(ok, "{out}{err}");
    assert!(
        !out.contains("translations."),
        "the demo ships every item in es and nb, made from today's English: {out}"
    );
}

#[test]
fn translations_are_checked_against_the_sites_languages_and_their_source() {
    let site = "id = \"s\"\nname = \"S\"\nlanguage = \"en\"\nlanguages = [\"es\"]\n\n[[topics]]\nid = \"orders\"\nlabel = \"Orders\"\n";
    let story = |translations: &str| {
        format!(
            "id = \"a\"\ntitle = \"Track it\"\ntopic = \"orders\"\nexpires_in_hours = 24\n\n[[slides]]\ntext = \"Open My orders\"\n{translations}"
        )
    };
    // A language the site does not offer: refused where it is written.
    let dir = content(
        "unoffered",
        &[
            ("site.toml", site),
            (
                "stories/a.toml",
                &story("\n[translations.de]\ntitle = \"Verfolgen\"\n"),
            ),
        ],
    );
    let (ok, _, err) = glimpse(&["check", &dir.to_string_lossy()], None);
    assert!(!ok);
    assert!(
        err.contains("translations.de") && err.contains("does not offer de"),
        "{err}"
    );
    assert!(err.contains(&at(&dir, "stories/a.toml", 9, 15)), "{err}");

    // A translation made from other English: a warning, not a refusal.
    let dir = content(
        "stale",
        &[
            ("site.toml", site),
            (
                "stories/a.toml",
                &story(
                    "\n[translations.es]\ntitle = \"Síguelo\"\nsource = \"00000000\"\n\n[[translations.es.slides]]\ntext = \"Abre Mis pedidos\"\n",
                ),
            ),
        ],
    );
    let (ok, out, err) = glimpse(&["check", &dir.to_string_lossy()], None);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("warning: story a: translations.es: older than its source"),
        "{out}"
    );
    // A translation key misspelt inside a language is named with the key it should be.
    let dir = content(
        "misspelt",
        &[
            ("site.toml", site),
            (
                "stories/a.toml",
                &story("\n[translations.es]\ntitel = \"Síguelo\"\n"),
            ),
        ],
    );
    let (ok, _, err) = glimpse(&["check", &dir.to_string_lossy()], None);
    assert!(!ok);
    assert!(
        err.contains("unknown key `titel`") && err.contains("did you mean `title`?"),
        "{err}"
    );
}
