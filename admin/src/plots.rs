//! Small SVG plots (no chart library): a line chart over days and a horizontal bar chart.
//! Every mark carries `data-label` and `data-value`, so what is drawn can be checked against
//! the report's JSON; every plot has a `<title>`/caption for screen readers.

use glimpse_shared::report::Table;
use leptos::prelude::*;

use crate::api;

/// One line of a line chart.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: &'static str,
    pub values: Vec<Option<f64>>,
}

const W: f64 = 640.0;
const H: f64 = 200.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 26.0;

fn nice_max(max: f64) -> f64 {
    if max <= 1.0 {
        return if max > 0.0 && max < 0.5 {
            max * 2.0
        } else {
            2.0
        };
    }
    let mag = 10f64.powf(max.log10().floor());
    let n = max / mag;
    // Even steps, so the middle grid line is a whole number for counts.
    let step = [2.0, 4.0, 6.0, 8.0, 10.0]
        .into_iter()
        .find(|s| n <= *s)
        .unwrap_or(10.0);
    step * mag
}

/// A captioned plot, or a note that the period has nothing to draw.
fn figure(id: &'static str, caption: String, drawing: Option<AnyView>) -> impl IntoView {
    view! {
        <figure class="plot" data-plot=id>
            <figcaption>{caption}</figcaption>
            {drawing.unwrap_or_else(|| view! { <p class="sub">"No data in this period."</p> }.into_any())}
        </figure>
    }
}

/// Values over days; gaps (`None`) break the line.
#[component]
pub fn LineChart(
    id: &'static str,
    caption: String,
    labels: Vec<String>,
    series: Vec<Series>,
    #[prop(optional)] y_max: Option<f64>,
    format: fn(f64) -> String,
) -> impl IntoView {
    let n = labels.len();
    let top = y_max.unwrap_or_else(|| {
        nice_max(
            series
                .iter()
                .flat_map(|s| s.values.iter().flatten())
                .copied()
                .fold(0.0, f64::max),
        )
    });
    let pw = W - LEFT - RIGHT;
    let ph = H - TOP - BOTTOM;
    let x = move |i: usize| {
        if n <= 1 {
            LEFT + pw / 2.0
        } else {
            LEFT + pw * i as f64 / (n - 1) as f64
        }
    };
    let y = move |v: f64| TOP + ph * (1.0 - (v / top).clamp(0.0, 1.0));
    let grid = [0.0, 0.5, 1.0]
        .into_iter()
        .map(|f| {
            let v = top * f;
            view! {
                <line class="grid" x1=LEFT x2=W - RIGHT y1=y(v) y2=y(v)></line>
                <text class="tick" x=LEFT - 6.0 y=y(v) + 4.0 text-anchor="end">{format(v)}</text>
            }
        })
        .collect_view();
    let xlabels = [0, n / 2, n.saturating_sub(1)]
        .into_iter()
        .filter(|&i| i < n)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|i| {
            let anchor = if n <= 1 {
                "middle"
            } else if i == 0 {
                "start"
            } else if i + 1 == n {
                "end"
            } else {
                "middle"
            };
            view! { <text class="tick" x=x(i) y=H - 8.0 text-anchor=anchor>{labels.get(i).cloned().unwrap_or_default()}</text> }
        })
        .collect_view();
    let lines = series
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let mut segments: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
            for (i, v) in s.values.iter().enumerate() {
                match (v, segments.last_mut()) {
                    (Some(v), Some(seg)) => seg.push((x(i), y(*v))),
                    _ => segments.push(Vec::new()),
                }
            }
            let paths = segments
                .into_iter()
                .filter(|seg| seg.len() > 1)
                .map(|seg| {
                    let pts = seg
                        .iter()
                        .map(|(a, b)| format!("{a:.1},{b:.1}"))
                        .collect::<Vec<_>>()
                        .join(" ");
                    view! { <polyline class=format!("line s{k}") points=pts></polyline> }
                })
                .collect_view();
            let dots = s
                .values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.map(|v| (i, v)))
                .map(|(i, v)| {
                    let label = labels.get(i).cloned().unwrap_or_default();
                    view! {
                        <circle class=format!("dot s{k}") cx=x(i) cy=y(v) r="3"
                            data-series=s.name data-label=label.clone() data-value=v.to_string()>
                            <title>{format!("{} {label}: {}", s.name, format(v))}</title>
                        </circle>
                    }
                })
                .collect_view();
            view! { <g>{paths}{dots}</g> }
        })
        .collect_view();
    let legend = series
        .iter()
        .enumerate()
        .map(|(k, s)| view! { <li><span class=format!("swatch s{k}")></span>{s.name}</li> })
        .collect_view();
    let drawing = (n > 0).then(|| {
        view! {
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-label=caption.clone()>
                {grid}{xlabels}{lines}
            </svg>
            <ul class="legend">{legend}</ul>
        }
        .into_any()
    });
    figure(id, caption, drawing)
}

/// Labelled values as horizontal bars, longest first as given.
#[component]
pub fn BarChart(
    id: &'static str,
    caption: String,
    bars: Vec<(String, f64)>,
    format: fn(f64) -> String,
    /// The value of a full-width bar (default: the largest value).
    #[prop(optional)]
    full: Option<f64>,
) -> impl IntoView {
    let row = 24.0;
    let label_w = 190.0;
    let value_w = 70.0;
    let max = full.unwrap_or_else(|| bars.iter().map(|b| b.1).fold(0.0, f64::max));
    let max = if max > 0.0 { max } else { 1.0 };
    let height = row * bars.len() as f64 + 4.0;
    let pw = W - label_w - value_w;
    let rows = bars
        .iter()
        .enumerate()
        .map(|(i, (label, v))| {
            let y = 2.0 + row * i as f64;
            let w = (pw * (v / max).clamp(0.0, 1.0)).max(if *v > 0.0 { 2.0 } else { 0.0 });
            let short: String = if label.chars().count() > 30 {
                label.chars().take(29).chain(['…']).collect()
            } else {
                label.clone()
            };
            view! {
                <g class="bar" data-label=label.clone() data-value=v.to_string()>
                    <title>{format!("{label}: {}", format(*v))}</title>
                    <text class="label" x=label_w - 8.0 y=y + 16.0 text-anchor="end">{short}</text>
                    <rect class="track" x=label_w y=y + 3.0 width=pw height=row - 6.0 rx="3"></rect>
                    <rect class="fill" x=label_w y=y + 3.0 width=w height=row - 6.0 rx="3"></rect>
                    <text class="value" x=label_w + w + 6.0 y=y + 16.0>{format(*v)}</text>
                </g>
            }
        })
        .collect_view();
    let drawing = (!bars.is_empty()).then(|| {
        view! {
            <svg viewBox=format!("0 0 {W} {height}") role="img" aria-label=caption.clone()>{rows}</svg>
        }
        .into_any()
    });
    figure(id, caption, drawing)
}

/// A report table with its CSV download.
#[component]
pub fn DataTable(table: Table, filename: String) -> impl IntoView {
    let csv = table.csv();
    let name = table.name;
    let head = table
        .columns
        .iter()
        .map(|c| view! { <th>{*c}</th> })
        .collect_view();
    let rows = table
        .rows
        .into_iter()
        .map(|r| {
            view! { <tr>{r.into_iter().map(|cell| view! { <td>{cell}</td> }).collect_view()}</tr> }
        })
        .collect_view();
    view! {
        <details class="table" data-table=name>
            // The button is not inside <summary>: a control inside a control is announced
            // as one (axe: nested-interactive).
            <summary>{format!("Table: {name}")}</summary>
            <button
                class="link"
                data-testid=format!("csv-{name}")
                on:click=move |_| api::download(&filename, "text/csv", &csv)
            >
                "Download CSV"
            </button>
            <table class="list"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>
        </details>
    }
}

pub fn count(v: f64) -> String {
    format!("{v:.0}")
}

pub fn percent(v: f64) -> String {
    format!("{v:.0}%")
}

pub fn stars(v: f64) -> String {
    format!("{v:.1}")
}

pub fn minutes(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.1} min")
    } else {
        format!("{v:.0} min")
    }
}
