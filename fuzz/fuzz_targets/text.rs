//! Free text from visitors and URLs: the sensitive-data guard, knowledge-base search,
//! routing and percent-decoding must never panic on any string.
#![no_main]

use glimpse_shared::kb::{KbEntry, KbSource, search, words};
use glimpse_worker::http::percent_decode;
use glimpse_worker::route::{Method, route};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = glimpse_shared::guard::scan(text);
    let _ = words(text);
    let entries = [KbEntry {
        id: "story-reset".into(),
        source: KbSource::Story,
        topic: "account".into(),
        title: "Reset your password".into(),
        body: "Open Settings, then Security. Tilbakestill passordet. Contraseña olvidada.".into(),
        created_at: 0,
        views: 3,
        helped: 2,
    }];
    let _ = search(&entries, text, None, 10);
    let _ = search(&entries, text, Some(text), 10);
    let _ = percent_decode(text);
    for m in [
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Delete,
        Method::Options,
    ] {
        let _ = route(m, text);
    }
});
