//! The demo's media, made by the project at build time: step illustrations (a phone showing
//! the screen of each step, drawn here as SVG, rendered by librsvg's `rsvg-convert` and
//! encoded to WebP by ImageMagick) and one short video (a finger tapping "Forgot password?",
//! composed and encoded to WebM/VP9 by Debian's ffmpeg).
//!
//! Deterministic and cached: everything is rendered into `target/media/demo/` with a stamp
//! of its inputs (these drawings, the ffmpeg arguments and the tools' versions); a build
//! whose stamp matches only copies the files into `worker/assets/media/demo/`, which
//! wrangler serves at `/media/demo/…` (`_headers` gives them a week of caching).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::run::{copy, output, run};
use crate::tools::fnv1a64;
use crate::{Result, at};

/// Bump when the way the media is made changes in a way the stamp cannot see.
const RECIPE: &str = "demo-media v1";

/// ImageMagick (Debian's, not whatever `convert` comes first on `PATH`).
pub const CONVERT: &str = "/usr/bin/convert";
/// librsvg's SVG renderer (Debian's librsvg2-bin).
pub const RSVG: &str = "/usr/bin/rsvg-convert";
/// Debian's ffmpeg.
pub const FFMPEG: &str = "/usr/bin/ffmpeg";

/// Illustration size in pixels (9:16, the story viewer's shape).
const W: u32 = 540;
const H: u32 = 960;
/// The video's size and length.
const VIDEO_W: u32 = 432;
const VIDEO_H: u32 = 768;
pub const VIDEO_SECONDS: u32 = 4;

/// Where wrangler serves the demo media from.
pub fn assets_media_dir() -> PathBuf {
    crate::build::assets_dir().join("media/demo")
}

/// The phone screen's top-left corner and size inside an illustration.
const SX: u32 = 135;
const SY: u32 = 60;
const SW: u32 = 270;
const SH: u32 = 540;

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn label(x: u32, y: u32, size: u32, weight: u32, fill: &str, text: &str) -> String {
    format!(
        r#"<text x="{x}" y="{y}" font-size="{size}" font-weight="{weight}" fill="{fill}">{}</text>"#,
        esc(text)
    )
}

fn rect(x: u32, y: u32, w: u32, h: u32, rx: u32, fill: &str) -> String {
    format!(r#"<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="{rx}" fill="{fill}"/>"#)
}

/// A text field: label above a rounded box holding `value`.
fn field(y: u32, name: &str, value: &str) -> String {
    let boxed = format!(
        r##"<rect x="20" y="{}" width="230" height="38" rx="8" fill="#fff" stroke="#d8d2e0" stroke-width="1.5"/>"##,
        y + 8
    );
    format!(
        "{}{boxed}{}",
        label(20, y, 12, 600, "#6b6478", name),
        label(32, y + 33, 15, 400, "#2a2233", value)
    )
}

fn button(y: u32, text: &str, fill: &str) -> String {
    format!(
        r##"{}<text x="135" y="{}" font-size="16" font-weight="700" fill="#fff" text-anchor="middle">{}</text>"##,
        rect(20, y, 230, 44, 22, fill),
        y + 28,
        esc(text)
    )
}

/// The app's top bar with a title.
fn top_bar(title: &str) -> String {
    format!(
        r##"{}{}<circle cx="238" cy="38" r="11" fill="#f4e6d8"/>"##,
        rect(0, 0, SW, 64, 0, "#6b3fa0"),
        label(20, 44, 17, 700, "#fff", title)
    )
}

/// A ring drawn where the visitor should tap.
fn tap_ring(cx: u32, cy: u32) -> String {
    format!(
        r##"<circle cx="{cx}" cy="{cy}" r="26" fill="#ffd166" fill-opacity="0.35" stroke="#ffb703" stroke-width="4"/>"##
    )
}

/// A whole illustration: a soft backdrop, a phone, and `screen` drawn on its display
/// (coordinates inside the screen, 270×540).
fn phone(screen: &str, accent: &str) -> String {
    let (fx, fy, fw, fh) = (SX - 14, SY - 16, SW + 28, SH + 60);
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="DejaVu Sans, sans-serif">
<defs>
<linearGradient id="bg" x1="0" y1="0" x2="0.4" y2="1"><stop offset="0" stop-color="{accent}"/><stop offset="0.62" stop-color="#2b1d3d"/><stop offset="1" stop-color="#120d18"/></linearGradient>
<clipPath id="screen"><rect x="0" y="0" width="{SW}" height="{SH}" rx="18"/></clipPath>
</defs>
<rect width="{W}" height="{H}" fill="url(#bg)"/>
<circle cx="70" cy="120" r="90" fill="#fff" fill-opacity="0.06"/>
<circle cx="480" cy="520" r="130" fill="#fff" fill-opacity="0.05"/>
<rect x="{}" y="{}" width="{fw}" height="{fh}" rx="38" fill="#0d0a12" transform="translate(0 10)" fill-opacity="0.45"/>
<rect x="{fx}" y="{fy}" width="{fw}" height="{fh}" rx="38" fill="#1c1722" stroke="#4a4356" stroke-width="3"/>
<rect x="{}" y="{}" width="60" height="8" rx="4" fill="#4a4356"/>
<g transform="translate({SX} {SY})" clip-path="url(#screen)">
<rect width="{SW}" height="{SH}" fill="#faf7fc"/>
{screen}
</g>
<rect x="{}" y="{}" width="90" height="6" rx="3" fill="#6d6578"/>
</svg>
"##,
        fx + 4,
        fy,
        SX + SW / 2 - 30,
        fy + 6,
        SX + SW / 2 - 45,
        SY + SH + 20,
    )
}

/// Step 1 of "Reset your password": the promise.
fn forgot() -> String {
    phone(
        &format!(
            r##"{}<circle cx="135" cy="170" r="56" fill="#efe6f7"/>
<rect x="107" y="160" width="56" height="44" rx="8" fill="#6b3fa0"/>
<path d="M117 160 v-14 a18 18 0 0 1 36 0 v14" fill="none" stroke="#6b3fa0" stroke-width="8"/>
<circle cx="135" cy="180" r="6" fill="#fff"/><rect x="132" y="182" width="6" height="12" rx="3" fill="#fff"/>
<text x="135" y="272" font-size="19" font-weight="700" fill="#2a2233" text-anchor="middle">Forgot your password?</text>
<text x="135" y="298" font-size="13" fill="#6b6478" text-anchor="middle">New one in under a minute</text>
<circle cx="135" cy="350" r="24" fill="none" stroke="#d8d2e0" stroke-width="5"/>
<path d="M135 350 L135 334 M135 350 L147 356" stroke="#6b3fa0" stroke-width="4" stroke-linecap="round"/>
{}"##,
            top_bar("Northwind"),
            button(410, "Reset password", "#6b3fa0")
        ),
        "#8a5cc2",
    )
}

/// The sign-in screen; with `ring`, a tap ring on "Forgot password?".
fn sign_in(ring: bool) -> String {
    phone(
        &format!(
            r##"{}{}{}<text x="250" y="226" font-size="13" font-weight="700" fill="#6b3fa0" text-anchor="end">Forgot password?</text>
<rect x="142" y="230" width="108" height="2" fill="#6b3fa0"/>
{}{}"##,
            top_bar("Sign in"),
            field(100, "Email", "anna@example.com"),
            field(160, "Password", "••••••••"),
            button(270, "Sign in", "#6b3fa0"),
            if ring {
                tap_ring(196, 222)
            } else {
                String::new()
            }
        ),
        "#8a5cc2",
    )
}

/// Where "Forgot password?" sits in the illustration (for the video's finger).
const FORGOT_LINK: (u32, u32) = (SX + 196, SY + 222);

/// The inbox with Northwind's reset email on top.
fn inbox() -> String {
    let mail = |y: u32, from: &str, subject: &str, unread: bool| {
        let dot = if unread {
            format!(
                r##"<circle cx="26" cy="{}" r="5" fill="#6b3fa0"/>"##,
                y + 22
            )
        } else {
            String::new()
        };
        format!(
            "{}{dot}{}{}",
            rect(10, y, 250, 62, 10, if unread { "#efe6f7" } else { "#fff" }),
            label(
                40,
                y + 26,
                14,
                if unread { 700 } else { 400 },
                "#2a2233",
                from
            ),
            label(40, y + 47, 12, 400, "#6b6478", subject)
        )
    };
    phone(
        &format!(
            "{}{}{}{}{}{}",
            top_bar("Inbox"),
            mail(80, "Northwind", "Reset your password · 30 min", true),
            mail(152, "Mum", "Sunday lunch?", false),
            mail(224, "Cycling club", "Route for Saturday", false),
            tap_ring(135, 111),
            r##"<text x="135" y="350" font-size="12" fill="#6b6478" text-anchor="middle">The link works for 30 minutes</text>"##
        ),
        "#4f7cac",
    )
}

/// Choosing a strong new password.
fn new_password() -> String {
    let segment = |i: u32| rect(20 + i * 59, 176, 53, 6, 3, "#2e9e5b");
    phone(
        &format!(
            r##"{}{}{}{}{}{}
<text x="20" y="204" font-size="12" font-weight="700" fill="#2e9e5b">Strong</text>
<text x="20" y="240" font-size="13" fill="#2a2233">✓ 12 or more characters</text>
<text x="20" y="262" font-size="13" fill="#2a2233">✓ Not used before</text>
{}<circle cx="135" cy="420" r="34" fill="#2e9e5b"/>
<path d="M119 420 l11 11 l22 -24" fill="none" stroke="#fff" stroke-width="7" stroke-linecap="round" stroke-linejoin="round"/>"##,
            top_bar("New password"),
            field(100, "New password", "••••••••••••••"),
            segment(0),
            segment(1),
            segment(2),
            segment(3),
            button(300, "Save", "#2e9e5b")
        ),
        "#3f8f6b",
    )
}

/// A delivery truck at (x, y), about 120×70.
fn truck(x: u32, y: u32) -> String {
    format!(
        r##"<g transform="translate({x} {y})"><rect x="0" y="0" width="78" height="50" rx="6" fill="#c8793a"/>
<path d="M78 14 h26 l16 18 v18 h-42 z" fill="#e0a36a"/><rect x="86" y="19" width="16" height="12" rx="2" fill="#faf7fc"/>
<circle cx="22" cy="54" r="11" fill="#2a2233"/><circle cx="22" cy="54" r="4" fill="#d8d2e0"/>
<circle cx="96" cy="54" r="11" fill="#2a2233"/><circle cx="96" cy="54" r="4" fill="#d8d2e0"/>
<text x="39" y="31" font-size="12" font-weight="700" fill="#fff" text-anchor="middle">NW</text></g>"##
    )
}

/// The "your order has shipped" email with its tracking button.
fn shipped_email() -> String {
    phone(
        &format!(
            r##"{}{}<text x="135" y="230" font-size="18" font-weight="700" fill="#2a2233" text-anchor="middle">Your order has shipped!</text>
<text x="135" y="256" font-size="13" fill="#6b6478" text-anchor="middle">Order NW-48213 · 2 items</text>
<rect x="30" y="284" width="210" height="4" rx="2" fill="#d8d2e0"/><rect x="30" y="284" width="120" height="4" rx="2" fill="#c8793a"/>
{}{}"##,
            top_bar("Northwind"),
            truck(75, 110),
            button(320, "Track parcel", "#c8793a"),
            tap_ring(135, 342)
        ),
        "#c8793a",
    )
}

/// "My orders" with a tracking number next to each parcel.
fn my_orders() -> String {
    let card = |y: u32, order: &str, status: &str, tracking: &str, mark: bool| {
        let parcel = format!(
            r##"<rect x="26" y="{}" width="38" height="30" rx="4" fill="#e0a36a"/><rect x="26" y="{}" width="38" height="6" fill="#c8793a"/>"##,
            y + 18,
            y + 30
        );
        format!(
            "{}{}{}{}{parcel}{}",
            rect(12, y, 246, 96, 12, "#fff"),
            label(76, y + 26, 14, 700, "#2a2233", order),
            label(76, y + 46, 12, 400, "#6b6478", status),
            rect(
                74,
                y + 58,
                170,
                26,
                6,
                if mark { "#fff1c9" } else { "#f2eef6" }
            ),
            label(82, y + 76, 12, 700, "#2a2233", tracking)
        )
    };
    phone(
        &format!(
            "{}{}{}{}",
            top_bar("My orders"),
            card(80, "NW-48213", "On its way", "1Z 999 AA1 0123", true),
            card(
                190,
                "NW-47790",
                "Delivered 12 May",
                "1Z 999 AA1 0098",
                false
            ),
            tap_ring(160, 151)
        ),
        "#c8793a",
    )
}

/// A chat where the support team promises to chase the courier.
fn chat() -> String {
    let bubble = |y: u32, right: bool, lines: &[&str]| {
        let h = 14 + 20 * lines.len() as u32;
        let (x, fill, ink) = if right {
            (70, "#6b3fa0", "#fff")
        } else {
            (14, "#ece6f2", "#2a2233")
        };
        let mut s = rect(x, y, 186, h, 14, fill);
        for (i, l) in lines.iter().enumerate() {
            s.push_str(&label(x + 12, y + 24 + 20 * i as u32, 13, 400, ink, l));
        }
        s
    };
    phone(
        &format!(
            r##"{}{}{}{}{}<text x="20" y="356" font-size="11" fill="#6b6478">Northwind support · replies in minutes</text>
{}<circle cx="236" cy="500" r="17" fill="#6b3fa0"/><path d="M229 500 h14 m-6 -6 l6 6 l-6 6" stroke="#fff" stroke-width="3" fill="none" stroke-linecap="round"/>"##,
            top_bar("Message us"),
            bubble(84, true, &["My parcel has not", "moved in 5 days."]),
            bubble(150, false, &["Sorry! We are chasing", "the courier now."]),
            bubble(216, false, &["You will hear back", "by tomorrow noon."]),
            truck(70, 270),
            rect(12, 482, 200, 36, 18, "#fff")
        ),
        "#6b3fa0",
    )
}

/// A fingertip for the video: a soft disc with a ring.
fn finger() -> String {
    r##"<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">
<circle cx="32" cy="32" r="28" fill="#fff" fill-opacity="0.55" stroke="#ffb703" stroke-width="4"/>
<circle cx="32" cy="32" r="10" fill="#ffb703"/>
</svg>
"##
    .to_string()
}

/// Every illustration shipped: file stem → SVG.
pub fn illustrations() -> Vec<(&'static str, String)> {
    vec![
        ("reset-1-forgot", forgot()),
        ("reset-2-sign-in", sign_in(true)),
        ("reset-3-inbox", inbox()),
        ("reset-4-new-password", new_password()),
        ("order-1-shipped", shipped_email()),
        ("order-2-my-orders", my_orders()),
        ("order-3-chat", chat()),
    ]
}

/// The name of the demo video (WebM, VP9).
pub const VIDEO: &str = "reset-tap.webm";

/// ffmpeg arguments that compose the video from `bg` (sign-in screen), `finger` and `next`
/// (the screen the tap opens): the finger glides to "Forgot password?" (0–1.6 s), presses
/// (a highlight, 1.6–2.4 s), and the reset screen follows.
fn video_args(bg: &Path, finger: &Path, next: &Path, out: &Path) -> Vec<String> {
    let (lx, ly) = FORGOT_LINK;
    let (x0, y0) = (430.0, 860.0);
    let (x1, y1) = (f64::from(lx) - 32.0, f64::from(ly) - 32.0);
    // Ease-out glide, then rest on the link.
    let ease = "(1-pow(1-min(t/1.6,1),3))";
    let filter = format!(
        "[0:v]drawbox=x={}:y={}:w=116:h=26:color=0xffd166@0.55:t=fill:enable='between(t,1.6,2.5)'[b];\
         [b][1:v]overlay=x='{x0}+({x1}-{x0})*{ease}':y='{y0}+({y1}-{y0})*{ease}':enable='lt(t,2.5)'[f];\
         [f][2:v]overlay=enable='gte(t,2.5)',scale={VIDEO_W}:{VIDEO_H}:flags=bicubic,format=yuv420p[v]",
        lx - 58,
        ly - 16,
    );
    let secs = VIDEO_SECONDS.to_string();
    let mut args: Vec<String> = vec!["-hide_banner", "-loglevel", "error", "-y"]
        .into_iter()
        .map(String::from)
        .collect();
    for input in [bg, finger, next] {
        args.extend(["-loop", "1", "-framerate", "24", "-t", &secs, "-i"].map(String::from));
        args.push(input.display().to_string());
    }
    args.extend(
        [
            "-filter_complex",
            &filter,
            "-map",
            "[v]",
            "-t",
            &secs,
            "-c:v",
            "libvpx-vp9",
            "-b:v",
            "0",
            "-crf",
            "38",
            "-deadline",
            "good",
            "-cpu-used",
            "4",
            "-row-mt",
            "0",
            "-threads",
            "1",
            "-g",
            "48",
            "-an",
            "-map_metadata",
            "-1",
            "-fflags",
            "+bitexact",
            "-flags",
            "+bitexact",
        ]
        .map(String::from),
    );
    args.push(out.display().to_string());
    args
}

/// The first line of `tool -version`, part of the stamp (a new encoder may encode anew).
fn version(tool: &str, flag: &str) -> String {
    output(Command::new(tool).arg(flag))
        .and_then(|v| v.lines().next().map(str::to_string))
        .unwrap_or_default()
}

/// Renders `svg` to a PNG with librsvg.
fn render_png(svg: &str, dir: &Path, stem: &str) -> Result<PathBuf> {
    let src = dir.join(format!("{stem}.svg"));
    let png = dir.join(format!("{stem}.png"));
    std::fs::write(&src, svg).map_err(|e| format!("write {}: {e}", src.display()))?;
    run(Command::new(RSVG).arg(&src).arg("-o").arg(&png))?;
    Ok(png)
}

/// Makes the demo media when its inputs changed and copies it into the worker's assets.
/// Returns the served file names.
pub fn build_demo_media() -> Result<Vec<String>> {
    let work = at("target/media/demo");
    let out = work.join("out");
    let pictures = illustrations();
    let dummy = Path::new("_");
    let mut stamp_input = format!(
        "{RECIPE}\n{}\n{}\n{}\n{:?}\n",
        version(CONVERT, "-version"),
        version(RSVG, "--version"),
        version(FFMPEG, "-version"),
        video_args(dummy, dummy, dummy, dummy)
    );
    for (name, svg) in &pictures {
        stamp_input.push_str(name);
        stamp_input.push_str(svg);
    }
    stamp_input.push_str(&finger());
    let stamp = format!("{:016x}", fnv1a64(stamp_input.as_bytes()));
    let mut names: Vec<String> = pictures
        .iter()
        .map(|(name, _)| format!("{name}.webp"))
        .collect();
    names.push(VIDEO.to_string());
    let stamp_path = work.join("stamp");
    let fresh = std::fs::read_to_string(&stamp_path).ok().as_deref() == Some(stamp.as_str())
        && names.iter().all(|n| out.join(n).exists());
    if fresh {
        println!("    demo media is up to date (stamp {stamp})");
    } else {
        let _ = std::fs::remove_dir_all(&work);
        let src = work.join("src");
        std::fs::create_dir_all(&src).map_err(|e| format!("mkdir {}: {e}", src.display()))?;
        std::fs::create_dir_all(&out).map_err(|e| format!("mkdir {}: {e}", out.display()))?;
        for (name, svg) in &pictures {
            let png = render_png(svg, &src, name)?;
            run(Command::new(CONVERT)
                .arg(&png)
                .args(["-strip", "-quality", "78", "-define", "webp:method=6"])
                .arg(out.join(format!("{name}.webp"))))?;
        }
        let bg = render_png(&sign_in(false), &src, "video-bg")?;
        let finger = render_png(&finger(), &src, "video-finger")?;
        let next = src.join("reset-1-forgot.png");
        run(Command::new(FFMPEG).args(video_args(&bg, &finger, &next, &out.join(VIDEO))))?;
        std::fs::write(&stamp_path, &stamp).map_err(|e| format!("write stamp: {e}"))?;
    }
    let dest = assets_media_dir();
    let _ = std::fs::remove_dir_all(&dest);
    let mut total = 0;
    for name in &names {
        copy(&out.join(name), &dest.join(name))?;
        total += std::fs::metadata(dest.join(name)).map_or(0, |m| m.len());
    }
    println!(
        "    media/demo: {} files, {} KB",
        names.len(),
        total.div_ceil(1024)
    );
    Ok(names)
}

/// The README's screenshots: `(shot taken by e2e/tests/screenshots.rs, committed file,
/// width in pixels)`.
pub const README_SHOTS: &[(&str, &str, u32)] = &[
    ("readme-1-banner", "visitor-banner.png", 420),
    ("readme-2-tray", "visitor-tray.png", 420),
    ("readme-3-story", "visitor-story.png", 420),
    ("readme-4-poll", "visitor-poll.png", 420),
    ("readme-5-console", "operator-console.png", 960),
];

/// Copies the README's screenshots from `target/e2e/screenshots/` into `docs/screenshots/`,
/// scaled to their width, stripped and reduced to a 256-colour palette without dithering
/// (ImageMagick).
pub fn optimise_screenshots() -> Result {
    let from = at("target/e2e/screenshots");
    let to = at("docs/screenshots");
    std::fs::create_dir_all(&to).map_err(|e| format!("mkdir {}: {e}", to.display()))?;
    for (shot, name, width) in README_SHOTS {
        let src = from.join(format!("{shot}.png"));
        if !src.exists() {
            return Err(format!(
                "{} is missing: the e2e run did not take it",
                src.display()
            ));
        }
        let dest = to.join(name);
        run(Command::new(CONVERT)
            .arg(&src)
            // No dithering: flat UI colours compress far better (a third of the bytes).
            .args([
                "-resize",
                &format!("{width}x>"),
                "-strip",
                "+dither",
                "-colors",
                "256",
            ])
            .args([
                "-define",
                "png:compression-level=9",
                "-define",
                "png:exclude-chunks=date,time",
            ])
            .arg(format!("png8:{}", dest.display())))?;
        println!(
            "    {name}: {} KB",
            std::fs::metadata(&dest)
                .map_or(0, |m| m.len())
                .div_ceil(1024)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use glimpse_shared::Media;

    #[test]
    fn the_demo_stories_show_the_media_the_build_makes() {
        let content =
            crate::content::load_dir(&at("demo/content"), 0).unwrap_or_else(|e| panic!("{e}"));
        let made: Vec<String> = illustrations()
            .iter()
            .map(|(name, _)| format!("/media/demo/{name}.webp"))
            .chain([format!("/media/demo/{VIDEO}")])
            .collect();
        let slides: Vec<_> = content.stories.iter().flat_map(|s| &s.slides).collect();
        let mut pictures = 0;
        let mut videos = 0;
        for slide in &slides {
            match &slide.media {
                Some(Media::Image { url, .. }) => {
                    assert!(made.contains(url), "{url} is not made by the build");
                    pictures += 1;
                }
                Some(Media::Video { url, .. }) => {
                    assert!(made.contains(url), "{url} is not made by the build");
                    videos += 1;
                }
                None => {}
            }
        }
        assert_eq!(videos, 1, "one slide shows the video");
        assert!(
            pictures * 2 > slides.len(),
            "most slides have a picture: {pictures} of {}",
            slides.len()
        );
    }

    #[test]
    fn illustrations_are_whole_svg_documents_of_the_viewer_shape() {
        for (name, svg) in illustrations() {
            assert!(svg.starts_with("<svg "), "{name}");
            assert!(svg.trim_end().ends_with("</svg>"), "{name}");
            assert!(svg.contains(r#"width="540" height="960""#), "{name}");
            // Every `&` is an entity: the text is escaped.
            assert!(
                svg.match_indices('&')
                    .all(|(i, _)| svg[i..].starts_with("&amp;")
                        || svg[i..].starts_with("&lt;")
                        || svg[i..].starts_with("&gt;")),
                "{name}"
            );
        }
    }
}
