//! Every JSON document the API or `glimpse publish` accepts: parsing, validation, lint and
//! the pure decisions made on what parsed must never panic, whatever the bytes.
#![no_main]

use glimpse_shared::events::EventBatch;
use glimpse_shared::question::{NewQuestion, Reply, Resolution};
use glimpse_shared::{LiveSession, Poll, PollResponse, Site, Story};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(site) = serde_json::from_slice::<Site>(data) {
        let _ = (site.validate(), site.lint());
    }
    if let Ok(story) = serde_json::from_slice::<Story>(data) {
        let _ = (story.validate(), story.lint());
    }
    if let Ok(poll) = serde_json::from_slice::<Poll>(data) {
        let _ = (poll.validate(), poll.lint());
    }
    if let Ok(session) = serde_json::from_slice::<LiveSession>(data) {
        let _ = (session.validate(), session.lint());
        for now in [
            i64::MIN,
            -1,
            0,
            session.starts_at,
            session.ends_at,
            i64::MAX,
        ] {
            let _ = session.banner_at(now);
            let _ = glimpse_shared::ics::session_ics("demo", &session, now);
        }
    }
    if let Ok(response) = serde_json::from_slice::<PollResponse>(data) {
        let _ = response.validate();
    }
    if let Ok(batch) = serde_json::from_slice::<EventBatch>(data) {
        let _ = batch.validate();
    }
    if let Ok(q) = serde_json::from_slice::<NewQuestion>(data) {
        let _ = q.validate();
    }
    if let Ok(r) = serde_json::from_slice::<Reply>(data) {
        let _ = r.validate();
    }
    if let Ok(r) = serde_json::from_slice::<Resolution>(data) {
        let _ = r.validate();
    }
});
