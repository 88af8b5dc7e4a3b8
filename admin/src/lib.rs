//! The operators' console, served by the worker at `/admin`: sign in with a personal token
//! or the admin token (kept in sessionStorage only; the pages shown follow the role), author stories, live sessions and polls with the shared
//! validation and lint as you type, targeting rules with a tester, translations side by side, and a preview in the
//! real widget player, answer the
//! questions inbox, read the effectiveness report as plots (SVG) with CSV export, and
//! export or erase a visitor's data, manage the team (operators, API keys, audit log) and the site's webhooks. Everything goes through the worker's admin API.

pub mod api;
pub mod app;
pub mod content;
pub mod inbox;
pub mod kb;
pub mod live;
pub mod media;
pub mod plots;
pub mod privacy;
pub mod report;
pub mod sites;
pub mod targeting;
pub mod team;
pub mod time;
pub mod translations;
pub mod webhooks;

use wasm_bindgen::prelude::*;

/// Mounts the console into `<body>`.
#[wasm_bindgen(start)]
pub fn start() {
    leptos::mount::mount_to_body(app::App);
}
