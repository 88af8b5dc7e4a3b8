//! Effectiveness: the worker's report for a period and topic, drawn as plots with the
//! numbers behind each one as a table and a CSV download. Nothing is aggregated here: the
//! roll-up (cron, or "Roll up now") and the report are computed by the worker.

use glimpse_shared::report::Report;
use leptos::prelude::*;

use crate::api;
use crate::app::{console, topic_options};
use crate::plots::{BarChart, DataTable, LineChart, Series, count, minutes, percent, stars};
use crate::time::{duration, now, utc_day};

/// Most days "Roll up now" recomputes (the most recent of the period).
const ROLLUP_DAYS_MAX: i64 = 31;

fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{:.0}%", v * 100.0))
        .unwrap_or_else(|| "–".into())
}

fn dur(v: Option<i64>) -> String {
    v.map(duration).unwrap_or_else(|| "–".into())
}

#[component]
fn Kpi(label: &'static str, id: &'static str, value: String) -> impl IntoView {
    view! {
        <div class="kpi" data-kpi=id>
            <span class="sub">{label}</span>
            <strong>{value}</strong>
        </div>
    }
}

/// The days of `[from, to]`, most recent first, at most `max`.
fn days_back(from: &str, to: &str, max: i64) -> Vec<String> {
    let mut out = Vec::new();
    let today = utc_day(now(), 0);
    let last = if to > today.as_str() {
        today
    } else {
        to.to_string()
    };
    for i in 0..max {
        let d = glimpse_shared::time::utc_date(day_ms(&last) - i * 86_400_000);
        if d.as_str() < from {
            break;
        }
        out.push(d);
    }
    out
}

fn day_ms(day: &str) -> i64 {
    js_sys::Date::parse(&format!("{day}T00:00:00Z")) as i64
}

#[component]
pub fn ReportPage() -> impl IntoView {
    let c = console();
    let to = RwSignal::new(utc_day(now(), 0));
    let from = RwSignal::new(utc_day(now(), 29));
    let topic = RwSignal::new(String::new());
    let report = RwSignal::new(None::<Report>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let load = move || {
        let mut path = c.path(&format!(
            "/report?from={}&to={}",
            from.get_untracked(),
            to.get_untracked()
        ));
        let t = topic.get_untracked();
        if !t.is_empty() {
            path.push_str(&format!("&topic={t}"));
        }
        leptos::task::spawn_local(async move {
            match api::get::<Report>(&path).await {
                Ok(r) => {
                    error.set(None);
                    report.set(Some(r));
                }
                Err(f) => error.set(Some(c.fail(&f))),
            }
        });
    };
    Effect::new(move |_| {
        from.track();
        to.track();
        topic.track();
        load();
    });
    let roll_up = move |_| {
        busy.set(true);
        let days = days_back(&from.get_untracked(), &to.get_untracked(), ROLLUP_DAYS_MAX);
        leptos::task::spawn_local(async move {
            for d in days {
                let path = c.path(&format!("/rollups/{d}"));
                if let Err(f) = api::call::<serde_json::Value>("POST", &path, None::<&()>).await {
                    error.set(Some(c.fail(&f)));
                    break;
                }
            }
            busy.set(false);
            load();
        });
    };
    let topics = topic_options(c);
    view! {
        <div class="bar">
            <h1>"Effectiveness"</h1>
            <label class="field"><span>"From"</span><input type="date" data-testid="from" bind:value=from/></label>
            <label class="field"><span>"To"</span><input type="date" data-testid="to" bind:value=to/></label>
            <label class="field">
                <span>"Topic"</span>
                <select data-testid="topic" prop:value=move || topic.get() on:change=move |ev| topic.set(event_target_value(&ev))>
                    <option value="">"All topics"</option>
                    {topics}
                </select>
            </label>
            <button data-testid="rollup" disabled=move || busy.get() on:click=roll_up
                title="Recomputes the daily summaries of this period now (the worker also does it every hour)">
                {move || if busy.get() { "Rolling up…" } else { "Roll up now" }}
            </button>
        </div>
        <Show when=move || error.get().is_some()><p class="error" role="alert">{move || error.get()}</p></Show>
        {move || report.get().map(|r| view! { <ReportView report=r/> })}
    }
}

#[component]
fn ReportView(report: Report) -> impl IntoView {
    let c = console();
    let t = report.totals.clone();
    let labels: Vec<String> = report
        .days
        .iter()
        .map(|d| d.day.get(5..).unwrap_or(&d.day).to_string())
        .collect();
    let col = |f: fn(&glimpse_shared::report::DayLine) -> Option<f64>| {
        report.days.iter().map(f).collect::<Vec<_>>()
    };
    let views = col(|d| Some(f64::from(d.story_views)));
    let completions = col(|d| Some(f64::from(d.completions)));
    let csat_mean = col(|d| d.csat_mean);
    let csat_sat = col(|d| d.csat_satisfied.map(|v| v * 100.0));
    let asked = col(|d| Some(f64::from(d.questions_asked)));
    let joins = col(|d| Some(f64::from(d.session_joins)));
    let story_name = |s: &glimpse_shared::report::StoryLine| {
        if s.title.is_empty() {
            s.id.clone()
        } else {
            s.title.clone()
        }
    };
    let per_story = |f: fn(&glimpse_shared::report::StoryLine) -> Option<f64>| {
        report
            .stories
            .iter()
            .filter_map(|s| f(s).map(|v| (story_name(s), v)))
            .collect::<Vec<_>>()
    };
    let story_views = per_story(|s| Some(f64::from(s.views)));
    let completion = per_story(|s| s.completion_rate.map(|v| v * 100.0));
    let cta = per_story(|s| Some(f64::from(s.cta_clicks)));
    let not_helpful = per_story(|s| s.not_helpful_rate.map(|v| v * 100.0));
    let funnel_story = RwSignal::new(report.stories.first().map(|s| s.id.clone()));
    let stories = StoredValue::new(report.stories.clone());
    let funnel = move || {
        let id = funnel_story.get()?;
        let s = stories.with_value(|all| all.iter().find(|s| s.id == id).cloned())?;
        let bars = s
            .slide_views
            .iter()
            .enumerate()
            .map(|(i, n)| (format!("Slide {}", i + 1), f64::from(*n)))
            .collect();
        Some(view! {
            <BarChart id="funnel" caption=format!("Drop-off per slide: {} (visitors reaching each slide)", story_name(&s)) bars=bars format=count/>
        })
    };
    let funnel_options = report
        .stories
        .iter()
        .map(|s| view! { <option value=s.id.clone()>{story_name(s)}</option> })
        .collect_view();
    let escalations: Vec<(String, f64)> = report
        .escalations
        .iter()
        .map(|(k, v)| (k.clone(), f64::from(*v)))
        .collect();
    let csat_dist: Vec<(String, f64)> = t
        .csat_counts
        .iter()
        .zip(1..)
        .map(|(n, s)| (format!("{s}★"), f64::from(*n)))
        .collect();
    let polls = report
        .polls
        .iter()
        .map(|p| {
            let bars = p.answers.iter().map(|(l, n)| (l.clone(), f64::from(*n))).collect();
            let caption = format!(
                "{} ({} responses)",
                if p.question.is_empty() { &p.id } else { &p.question },
                p.responses
            );
            view! { <div data-poll=p.id.clone()><BarChart id="poll" caption=caption bars=bars format=count/></div> }
        })
        .collect_view();
    let to_min = |v: Option<i64>| v.map(|ms| ms as f64 / 60_000.0);
    let times: Vec<(String, f64)> = [
        ("First reply, median", to_min(t.first_reply.median_ms)),
        ("First reply, p90", to_min(t.first_reply.p90_ms)),
        ("Resolution, median", to_min(t.resolution.median_ms)),
        ("Resolution, p90", to_min(t.resolution.p90_ms)),
    ]
    .into_iter()
    .filter_map(|(l, v)| v.map(|v| (l.to_string(), v)))
    .collect();
    let sessions: Vec<(String, f64)> = report
        .sessions
        .iter()
        .map(|s| {
            (
                if s.title.is_empty() {
                    s.id.clone()
                } else {
                    s.title.clone()
                },
                f64::from(s.joins),
            )
        })
        .collect();
    let site = c.site.get_untracked();
    let tables = report
        .tables()
        .into_iter()
        .map(|table| {
            let filename = format!(
                "glimpse-{site}-{}-{}-{}.csv",
                table.name, report.from, report.to
            );
            view! { <DataTable table=table filename=filename/> }
        })
        .collect_view();
    let site_wide = report.topic.is_none();
    let csat_labels = labels.clone();
    view! {
        <section class="kpis" data-testid="kpis">
            <Kpi label="Story views" id="story_views" value=t.story_views.to_string()/>
            <Kpi label="Completion" id="completion_rate" value=pct(t.completion_rate)/>
            <Kpi label="CTA clicks" id="cta_clicks" value=t.cta_clicks.to_string()/>
            <Kpi label="Didn't help" id="not_helpful_rate" value=pct(t.not_helpful_rate)/>
            <Kpi label="Escalations / visitor-day" id="escalation_rate" value=pct(t.escalation_rate)/>
            <Kpi label="CSAT (mean of 5)" id="csat_mean" value=t.csat_mean.map(|v| format!("{v:.2}")).unwrap_or_else(|| "–".into())/>
            <Kpi label="Satisfied (4-5★)" id="csat_satisfied" value=pct(t.csat_satisfied)/>
            <Kpi label="Questions" id="questions_asked" value=t.questions_asked.to_string()/>
            <Kpi label="First reply (median / p90)" id="first_reply" value=format!("{} / {}", dur(t.first_reply.median_ms), dur(t.first_reply.p90_ms))/>
            <Kpi label="Resolution (median / p90)" id="resolution" value=format!("{} / {}", dur(t.resolution.median_ms), dur(t.resolution.p90_ms))/>
            <Kpi label="Live-session joins" id="session_joins" value=t.session_joins.to_string()/>
        </section>
        <h2>"Stories"</h2>
        <div class="grid">
            <LineChart id="views-per-day" caption="Story views and completions per day".into() labels=labels.clone()
                series=vec![Series { name: "views", values: views }, Series { name: "completions", values: completions }] format=count/>
            <BarChart id="story-views" caption="Views per story".into() bars=story_views format=count/>
            <BarChart id="completion" caption="Completion rate per story".into() bars=completion format=percent full=100.0/>
            <div>
                <label class="field">
                    <span>"Funnel of"</span>
                    <select data-testid="funnel-story" prop:value=move || funnel_story.get().unwrap_or_default()
                        on:change=move |ev| funnel_story.set(Some(event_target_value(&ev)))>{funnel_options}</select>
                </label>
                {funnel}
            </div>
            <BarChart id="cta" caption="CTA clicks per story".into() bars=cta format=count/>
            <BarChart id="not-helpful" caption="\"Didn't help\" rate per story".into() bars=not_helpful format=percent full=100.0/>
        </div>
        <h2>"Escalations and live sessions"</h2>
        <div class="grid">
            <Show when=move || site_wide fallback=|| view! { <p class="sub">"Escalations per channel are shown for all topics."</p> }>
                <BarChart id="escalations" caption="Escalations to traditional channels".into() bars=escalations.clone() format=count/>
            </Show>
            <BarChart id="session-joins" caption="Live-session joins".into() bars=sessions format=count/>
            <LineChart id="joins-per-day" caption="Live-session joins per day".into() labels=labels.clone()
                series=vec![Series { name: "joins", values: joins }] format=count/>
        </div>
        <h2>"Satisfaction and polls"</h2>
        <Show when=move || site_wide fallback=|| view! { <p class="sub" data-testid="site-wide-note">"Polls and CSAT are site-wide: choose \"All topics\" to see them."</p> }>
            <div class="grid">
                <LineChart id="csat-mean" caption="CSAT mean per day (1-5)".into() labels=csat_labels.clone()
                    series=vec![Series { name: "mean", values: csat_mean.clone() }] y_max=5.0 format=stars/>
                <LineChart id="csat-satisfied" caption="Satisfied (4-5★) per day".into() labels=csat_labels.clone()
                    series=vec![Series { name: "satisfied %", values: csat_sat.clone() }] y_max=100.0 format=percent/>
                <BarChart id="csat-distribution" caption="CSAT answers".into() bars=csat_dist.clone() format=count/>
            </div>
        </Show>
        <div class="grid">{polls}</div>
        <h2>"Questions"</h2>
        <div class="grid">
            <LineChart id="questions-per-day" caption="Questions asked per day".into() labels=labels
                series=vec![Series { name: "questions", values: asked }] format=count/>
            <BarChart id="question-times" caption="Time to first reply and to resolution".into() bars=times format=minutes/>
        </div>
        <h2>"Tables"</h2>
        {tables}
    }
}
