//! Property tests: validators and parsers never panic on any input, and what they accept
//! really has the properties the rest of the system relies on.

#![allow(clippy::panic)] // test helpers outside #[test] fns report failures by panicking

use glimpse_shared::ids::{is_slug, is_token};
use glimpse_shared::site::is_origin;
use glimpse_shared::validate::is_https_url;
use glimpse_shared::{
    Answer, Banner, EventBatch, LiveSession, Poll, PollKind, PollResponse, Site, Story, Vote,
};
use proptest::prelude::*;
use serde_json::Value;

/// Arbitrary JSON, biased towards the shapes our types use.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,40}".prop_map(Value::String),
        prop_oneof![
            Just("https://x.example/a"),
            Just("demo"),
            Just("choice"),
            Just("rating"),
            Just("text"),
            Just("image"),
            Just("video"),
            Just("email"),
        ]
        .prop_map(|s| Value::String(s.into())),
    ];
    let keys = prop_oneof![
        Just("id"),
        Just("title"),
        Just("topic"),
        Just("slides"),
        Just("text"),
        Just("media"),
        Just("kind"),
        Just("url"),
        Just("alt"),
        Just("cta"),
        Just("label"),
        Just("publish_at"),
        Just("expires_at"),
        Just("question"),
        Just("options"),
        Just("type"),
        Just("answer"),
        Just("visitor"),
        Just("events"),
        Just("story"),
        Just("slide"),
        Just("name"),
        Just("origins"),
        Just("channels"),
        Just("topics"),
        Just("value"),
        Just("starts_at"),
        Just("ends_at"),
        Just("announce_from"),
        Just("host"),
        Just("join_url"),
        Just("choice"),
        Just("rating"),
        Just("duration_ms"),
        Just("max_chars"),
        Just("theme"),
        Just("accent"),
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..10).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

fn try_all(v: &Value) {
    if let Ok(s) = serde_json::from_value::<Story>(v.clone()) {
        let _ = (s.validate(), s.lint());
    }
    if let Ok(s) = serde_json::from_value::<Site>(v.clone()) {
        let _ = (s.validate(), s.lint());
    }
    if let Ok(s) = serde_json::from_value::<LiveSession>(v.clone()) {
        let _ = (s.validate(), s.lint(), s.banner_at(0));
    }
    if let Ok(p) = serde_json::from_value::<Poll>(v.clone()) {
        let _ = (p.validate(), p.lint());
        if let Ok(r) = serde_json::from_value::<PollResponse>(v.clone()) {
            let _ = (r.validate(), p.check_answer(&r.answer));
        }
    }
    if let Ok(b) = serde_json::from_value::<EventBatch>(v.clone()) {
        let _ = b.validate();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn validators_never_panic_on_any_json(v in json()) {
        try_all(&v);
    }

    #[test]
    fn string_checks_never_panic_and_agree_with_their_grammar(s in "\\PC{0,80}") {
        if is_slug(&s) {
            prop_assert!(s.len() <= 63);
            prop_assert!(s.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-'));
            prop_assert!(!s.starts_with('-'));
        }
        if is_token(&s) {
            prop_assert!((16..=64).contains(&s.len()));
        }
        if is_https_url(&s) {
            prop_assert!(s.starts_with("https://"));
            prop_assert!(!s.chars().any(|c| c.is_whitespace() || c.is_control()));
            prop_assert!(!s[8..].split(['/', '?', '#']).next().unwrap_or("").is_empty());
        }
        let _ = is_origin(&s);
        let _ = glimpse_shared::guard::scan(&s);
    }

    #[test]
    fn media_never_leaves_https_or_the_glimpse_origin(
        url in prop_oneof![
            "/[a-z./%2eEfF\\\\ ]{0,20}",
            "\\PC{0,40}",
            Just("//evil.example/x".to_string()),
        ],
    ) {
        let origin = "http://127.0.0.1:8787";
        match glimpse_shared::validate::media_url(origin, &url) {
            Some(abs) if abs.starts_with("https://") => prop_assert!(is_https_url(&abs)),
            Some(abs) => {
                let path = abs.strip_prefix(origin).unwrap_or("");
                prop_assert!(path.starts_with('/') && !path.starts_with("//"), "{abs}");
                prop_assert!(!path.split('/').any(|seg| seg == ".."), "{abs}");
                prop_assert!(!path.contains(char::is_whitespace) && !path.contains('\\'), "{abs}");
            }
            None => prop_assert!(!glimpse_shared::validate::is_media_url(&url)),
        }
    }

    #[test]
    fn the_guard_never_panics_near_its_patterns(
        parts in prop::collection::vec(prop_oneof![
            Just("4111 1111 1111 1111".to_string()),
            Just("GB82 WEST 1234 5698 7654 32".to_string()),
            Just("password: ".to_string()),
            Just("passordet mitt er ".to_string()),
            Just("contraseña es ".to_string()),
            "\\PC{0,8}",
        ], 0..8)
    ) {
        let _ = glimpse_shared::guard::scan(&parts.concat());
    }

    #[test]
    fn a_valid_story_only_links_to_https(
        id in "[a-z0-9-]{0,70}",
        url in prop_oneof![Just("https://a.example/x".to_string()), ".{0,30}"],
        slides in 0usize..40,
        publish_at in any::<i64>(),
        expires_at in any::<i64>(),
        duration_ms in any::<u32>(),
    ) {
        let slide = glimpse_shared::Slide {
            text: "Step".into(),
            media: Some(glimpse_shared::Media::Image { url: url.clone(), alt: "alt".into() }),
            duration_ms,
            cta: Some(glimpse_shared::Cta { label: "Go".into(), url: url.clone() }),
        };
        let story = Story {
            translations: Default::default(),
            targeting: Default::default(),
            id, title: "t".into(), topic: "t".into(), slides: vec![slide; slides], publish_at, expires_at,
        };
        if story.validate().is_empty() {
            prop_assert!(is_https_url(&url));
            prop_assert!(is_slug(&story.id));
            prop_assert!((1..=30).contains(&story.slides.len()));
            prop_assert!(story.expires_at > story.publish_at);
            prop_assert!((1_000..=60_000).contains(&duration_ms));
        }
    }

    #[test]
    fn a_banner_only_moves_forward(
        announce in -1_000_000i64..1_000_000,
        lead in 0i64..1_000_000,
        length in 1i64..1_000_000,
        kept in prop::option::of(0i64..1_000_000),
        mut times in prop::collection::vec(-3_000_000i64..4_000_000, 1..50),
    ) {
        let s = LiveSession {
            translations: Default::default(),
            targeting: Default::default(),
            id: "qa".into(), title: "Q&A".into(), topic: "t".into(), host: "h".into(),
            announce_from: announce, answers_until: kept.map(|k| announce + lead + length + k), starts_at: announce + lead, ends_at: announce + lead + length,
            join_url: "https://m.example".into(),
        };
        times.sort();
        let rank = |b: Banner| match b {
            Banner::Hidden => 0, Banner::Upcoming { .. } => 1, Banner::Live { .. } => 2, Banner::Ended => 3, Banner::Gone => 4,
        };
        let mut last = 0;
        for t in times {
            let b = s.banner_at(t);
            prop_assert!(rank(b) >= last);
            last = rank(b);
            match b {
                Banner::Upcoming { starts_in_s } => prop_assert!(starts_in_s >= 1),
                Banner::Live { ends_in_s } => prop_assert!(ends_in_s >= 1),
                _ => {}
            }
            prop_assert_eq!(s.is_listed(t), matches!(b, Banner::Upcoming { .. } | Banner::Live { .. } | Banner::Ended));
            // Over means no more asking: `Ended` only after the end, and only while answers stay.
            if b == Banner::Ended {
                prop_assert!(t >= s.ends_at && kept.is_some());
            }
        }
    }

    #[test]
    fn a_tally_accounts_for_every_vote(
        options in 2usize..=6,
        answers in prop::collection::vec((0u8..4, any::<u8>(), ".{0,10}"), 0..200),
    ) {
        let kinds = [
            PollKind::Choice { options: (0..options).map(|i| format!("o{i}")).collect() },
            PollKind::Rating,
            PollKind::Text { max_chars: 200 },
        ];
        let votes: Vec<Vote> = answers
            .iter()
            .map(|(k, n, t)| Vote {
                id: "x".repeat(16),
                answer: match k {
                    0 => Answer::Choice(*n),
                    1 => Answer::Rating(*n),
                    _ => Answer::Text(t.clone()),
                },
                at: i64::from(*n),
            })
            .collect();
        for kind in kinds {
            let poll = Poll {
                translations: Default::default(),
                targeting: Default::default(),
                id: "p".into(), question: "q".into(), kind, publish_at: 0, expires_at: 1, show_results: true,
            };
            let r = poll.tally(&votes);
            prop_assert_eq!(r.total + r.ignored, votes.len() as u64);
            if !r.counts.is_empty() {
                prop_assert_eq!(r.counts.iter().sum::<u64>(), r.total);
            }
            if let Some(mean) = r.mean {
                prop_assert!((1.0..=5.0).contains(&mean));
            }
        }
    }
}

mod player {
    use glimpse_shared::player::{Effect, Input, Phase, Player};
    use glimpse_shared::{Media, Slide, Story};
    use proptest::prelude::*;

    fn stories() -> impl Strategy<Value = Vec<Story>> {
        prop::collection::vec(
            prop::collection::vec((1_000u32..8_000, any::<bool>()), 1..5),
            1..4,
        )
        .prop_map(|stories| {
            stories
                .into_iter()
                .enumerate()
                .map(|(i, slides)| Story {
                    translations: Default::default(),
                    targeting: Default::default(),
                    id: format!("s{i}"),
                    title: "t".into(),
                    topic: "t".into(),
                    slides: slides
                        .into_iter()
                        .enumerate()
                        .map(|(j, (d, media))| Slide {
                            text: "x".into(),
                            media: media.then(|| Media::Video {
                                url: format!("https://cdn.example/{i}/{j}.mp4"),
                                alt: None,
                                poster: None,
                                captions: None,
                            }),
                            duration_ms: d,
                            cta: None,
                        })
                        .collect(),
                    publish_at: 0,
                    expires_at: 1,
                })
                .collect()
        })
    }

    fn input() -> impl Strategy<Value = Input> {
        prop_oneof![
            6 => (0u32..3_000).prop_map(|dt_ms| Input::Tick { dt_ms }),
            2 => Just(Input::Next),
            1 => Just(Input::Prev),
            1 => Just(Input::NextStory),
            1 => Just(Input::PrevStory),
            1 => Just(Input::HoldStart),
            1 => Just(Input::HoldEnd),
            1 => Just(Input::TogglePause),
            2 => Just(Input::MediaReady),
            1 => Just(Input::MediaStalled),
            1 => Just(Input::MediaFailed),
            1 => (1u32..20_000).prop_map(|ms| Input::MediaDuration { ms }),
            1 => any::<bool>().prop_map(Input::Visible),
            1 => any::<bool>().prop_map(Input::ReducedMotion),
            1 => Just(Input::Close),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        #[test]
        fn the_player_keeps_its_invariants(
            stories in stories(),
            start in 0usize..5,
            inputs in prop::collection::vec(input(), 0..120),
        ) {
            let Some((mut p, _)) = Player::open(&stories, start, false) else {
                return Err(TestCaseError::fail("stories are never empty here"));
            };
            let mut all_completed = 0;
            let mut retries = 0;
            for input in inputs {
                let before = p.view();
                let tick = matches!(input, Input::Tick { .. });
                let fx = p.handle(input);
                let after = p.view();
                // The cursor is always in bounds.
                prop_assert!(after.cursor.story < stories.len());
                prop_assert!(after.cursor.slide < stories[after.cursor.story].slides.len());
                prop_assert!((0.0..=1.0).contains(&after.progress));
                let restarted = fx.iter().any(|f| matches!(f, Effect::SlideStarted(_)));
                // Progress is monotone within a slide.
                if after.cursor == before.cursor && after.phase == before.phase && !restarted {
                    prop_assert!(after.progress >= before.progress, "{before:?} -> {after:?}");
                }
                // Nothing advances while any pause reason holds (waiting media may only
                // time out into its one retry or its "couldn't load" state).
                if tick && before.pauses.any() {
                    prop_assert_eq!(
                        (before.cursor, before.phase, before.progress),
                        (after.cursor, after.phase, after.progress)
                    );
                    prop_assert!(fx.iter().all(|f| matches!(f, Effect::RetryMedia(_))));
                }
                // A slide's media is retried at most once.
                if restarted {
                    retries = 0;
                }
                retries += fx.iter().filter(|f| matches!(f, Effect::RetryMedia(_))).count();
                prop_assert!(retries <= 1, "more than one retry on one slide");
                // A slide whose media failed still plays.
                if after.media_failed {
                    prop_assert!(!after.pauses.buffering);
                }
                if tick && before.phase == Phase::EndCard {
                    prop_assert_eq!(before, after);
                }
                all_completed += fx.iter().filter(|f| **f == Effect::AllCompleted).count();
                prop_assert!(all_completed <= 1);
                if before.phase == Phase::Closed {
                    prop_assert!(fx.is_empty());
                }
            }
        }
    }
}
