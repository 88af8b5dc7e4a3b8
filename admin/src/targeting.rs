//! The "Where and when it shows" part of the story, poll and session editors: page URL
//! patterns, page labels, a delay, a frequency cap and device classes, with a tester that
//! answers "on this URL with these labels, on this device, does it show?" by the same pure
//! code the widget runs ([`glimpse_shared::targeting`]), saying which rule keeps it off.

use glimpse_shared::targeting::{Device, Frequency, Page, Targeting, split_url};
use leptos::prelude::*;

/// The non-empty lines of a textarea, trimmed.
fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The comma-separated entries of an input, trimmed (malformed ones are kept, so the
/// checks beside the form say what is wrong with them).
fn commas(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// A whole number typed into an input: `None` when empty or not a number.
fn number(text: &str) -> Option<u32> {
    text.trim().parse().ok()
}

/// The editor of a draft's targeting (`get`, `set`), with its tester. `one` prefixes the
/// test ids (`story`, `session`, `poll`).
#[component]
pub fn TargetingEditor(
    get: Signal<Targeting>,
    set: Callback<Targeting>,
    one: &'static str,
) -> impl IntoView {
    let update = move |f: &dyn Fn(&mut Targeting)| {
        let mut t = get.get_untracked();
        f(&mut t);
        set.run(t);
    };
    let id = move |part: &str| format!("{one}-{part}");
    // Lists are taken when the field loses focus (`change`), so typing a new line or a
    // comma is never undone by the value being written back.
    let list_area = move |label: &'static str,
                          part: &'static str,
                          read: fn(&Targeting) -> &Vec<String>,
                          write: fn(&mut Targeting) -> &mut Vec<String>| {
        view! {
            <label class="field">
                <span>{label}</span>
                <textarea
                    rows="3"
                    data-testid=id(part)
                    prop:value=move || get.with(|t| read(t).join("\n"))
                    on:change=move |ev| {
                        let v = lines(&event_target_value(&ev));
                        update(&|t| *write(t) = v.clone());
                    }
                ></textarea>
            </label>
        }
    };
    let label_input = move |label: &'static str,
                            part: &'static str,
                            read: fn(&Targeting) -> &Vec<String>,
                            write: fn(&mut Targeting) -> &mut Vec<String>| {
        view! {
            <label class="field">
                <span>{label}</span>
                <input
                    type="text"
                    data-testid=id(part)
                    prop:value=move || get.with(|t| read(t).join(", "))
                    on:change=move |ev| {
                        let v = commas(&event_target_value(&ev));
                        update(&|t| *write(t) = v.clone());
                    }
                />
            </label>
        }
    };
    let devices = Device::ALL
        .into_iter()
        .map(|d| {
            view! {
                <label class="check">
                    <input
                        type="checkbox"
                        data-testid=id(&format!("device-{}", d.as_str()))
                        prop:checked=move || get.with(|t| t.devices.contains(&d))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            update(&|t| {
                                t.devices.retain(|x| *x != d);
                                if on {
                                    t.devices.push(d);
                                }
                            });
                        }
                    />
                    {d.as_str()}
                </label>
            }
        })
        .collect_view();
    view! {
        <fieldset class="targeting" data-testid=id("targeting")>
            <legend>"Where and when it shows"</legend>
            <p class="hint">
                "Left empty it shows on every page, to everyone, at once. Page patterns: "
                <code>"/pricing"</code>" (that page), "<code>"/docs/*"</code>" (everything under it), "
                <code>"/help/*/billing"</code>", or a whole URL "<code>"https://shop.example/checkout*"</code>
                ". Labels come from the snippet's "<code>"data-labels"</code>" or "
                <code>"Glimpse('page', {labels})"</code>"."
            </p>
            <div class="row">
                {list_area("Only on pages (one pattern per line)", "pages", |t| &t.pages, |t| &mut t.pages)}
                {list_area("Never on pages", "exclude-pages", |t| &t.exclude_pages, |t| &mut t.exclude_pages)}
            </div>
            <div class="row">
                {label_input("Only on pages labelled (comma-separated)", "labels", |t| &t.labels, |t| &mut t.labels)}
                {label_input("Never on pages labelled", "exclude-labels", |t| &t.exclude_labels, |t| &mut t.exclude_labels)}
            </div>
            <div class="row">
                <label class="field">
                    <span>"Delay (seconds on the page)"</span>
                    <input
                        type="number"
                        min="0"
                        max=Targeting::DELAY_MAX_S
                        data-testid=id("delay")
                        prop:value=move || get.with(|t| t.delay_seconds.to_string())
                        on:change=move |ev| {
                            let v = number(&event_target_value(&ev)).unwrap_or(0);
                            update(&|t| t.delay_seconds = v);
                        }
                    />
                </label>
                <label class="field">
                    <span>"At most, page views per visitor (empty: always)"</span>
                    <input
                        type="number"
                        min="1"
                        max="100"
                        data-testid=id("times")
                        prop:value=move || get.with(|t| t.frequency.map(|f| f.times.to_string()).unwrap_or_default())
                        on:change=move |ev| {
                            let v = number(&event_target_value(&ev));
                            update(&|t| {
                                t.frequency = v.map(|times| Frequency {
                                    times,
                                    per_hours: t.frequency.and_then(|f| f.per_hours),
                                });
                            });
                        }
                    />
                </label>
                <label class="field">
                    <span>"…within hours (empty: ever)"</span>
                    <input
                        type="number"
                        min="1"
                        max="8760"
                        data-testid=id("per-hours")
                        disabled=move || get.with(|t| t.frequency.is_none())
                        prop:value=move || get.with(|t| t.frequency.and_then(|f| f.per_hours).map(|h| h.to_string()).unwrap_or_default())
                        on:change=move |ev| {
                            let v = number(&event_target_value(&ev));
                            update(&|t| {
                                if let Some(f) = t.frequency.as_mut() {
                                    f.per_hours = v;
                                }
                            });
                        }
                    />
                </label>
            </div>
            <div class="row devices" role="group" aria-label="Devices (none ticked: all)">
                <span class="hint">"Devices (none ticked: all)"</span>
                {devices}
            </div>
            <Tester get=get one=one/>
        </fieldset>
    }
}

/// "Test a page": a URL, labels and a device in, the verdict out, as the widget decides.
#[component]
fn Tester(get: Signal<Targeting>, one: &'static str) -> impl IntoView {
    let url = RwSignal::new(String::new());
    let labels = RwSignal::new(String::new());
    let device = RwSignal::new(Device::Desktop);
    let verdict = Memo::new(move |_| {
        let typed = url.get();
        let typed = typed.trim();
        if typed.is_empty() {
            return None;
        }
        let Some((origin, path, query)) = split_url(typed) else {
            return Some((
                false,
                "Type a page URL (https://…) or a path (/…).".to_string(),
            ));
        };
        let labels = commas(&labels.get());
        let page = Page {
            origin,
            path,
            query,
            labels: &labels,
            device: device.get(),
            since: 0,
        };
        Some(get.with(|t| match t.why_not(&page) {
            None => {
                let mut says = "Shows on this page".to_string();
                if t.delay_seconds > 0 {
                    says.push_str(&format!(", after {} s on it", t.delay_seconds));
                }
                if let Some(f) = t.frequency {
                    let window = f
                        .per_hours
                        .map(|h| format!(" per {h} h"))
                        .unwrap_or_default();
                    says.push_str(&format!(
                        ", on at most {} page views{window} per visitor",
                        f.times
                    ));
                }
                (true, format!("{says}."))
            }
            Some(why) => (false, format!("Does not show: {why}.")),
        }))
    });
    let device_options = Device::ALL
        .into_iter()
        .map(|d| view! { <option value=d.as_str()>{d.as_str()}</option> })
        .collect_view();
    view! {
        <div class="tester" data-testid=format!("{one}-tester")>
            <h3>"Test a page"</h3>
            <div class="row">
                <label class="field grow">
                    <span>"Page URL"</span>
                    <input
                        type="url"
                        placeholder="https://shop.example/pricing"
                        data-testid=format!("{one}-test-url")
                        prop:value=move || url.get()
                        on:input=move |ev| url.set(event_target_value(&ev))
                    />
                </label>
                <label class="field">
                    <span>"Its labels"</span>
                    <input
                        type="text"
                        placeholder="checkout, pro"
                        data-testid=format!("{one}-test-labels")
                        prop:value=move || labels.get()
                        on:input=move |ev| labels.set(event_target_value(&ev))
                    />
                </label>
                <label class="field">
                    <span>"Device"</span>
                    <select
                        data-testid=format!("{one}-test-device")
                        prop:value=move || device.get().as_str()
                        on:change=move |ev| {
                            if let Some(d) = Device::parse(&event_target_value(&ev)) {
                                device.set(d);
                            }
                        }
                    >
                        {device_options}
                    </select>
                </label>
            </div>
            <p
                role="status"
                class="verdict"
                class:shows=move || verdict.with(|v| v.as_ref().is_some_and(|(shows, _)| *shows))
                data-testid=format!("{one}-test-verdict")
            >
                {move || verdict.get().map(|(_, says)| says)}
            </p>
        </div>
    }
}
