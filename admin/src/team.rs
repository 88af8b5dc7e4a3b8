//! The team page (owners): operators with their roles and sites, read-only API keys, and the
//! audit log of every operators' write. A new operator's token or API key is shown once, with
//! a copy button; only its hash is stored.

use glimpse_shared::team::{ALL_SITES, ApiKey, AuditEntry, NewApiKey, NewOperator, Operator, Role};
use leptos::prelude::*;
use serde::Deserialize;
use serde_json::Value;

use crate::api;
use crate::app::console;
use crate::time::show;

#[derive(Debug, Deserialize)]
struct Operators {
    operators: Vec<Operator>,
}

#[derive(Debug, Deserialize)]
struct Keys {
    keys: Vec<ApiKey>,
}

#[derive(Debug, Deserialize)]
struct Audit {
    entries: Vec<AuditEntry>,
    #[serde(default)]
    next: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct IssuedToken {
    name: String,
    token: String,
}

fn sites_text(sites: &[String]) -> String {
    if sites.iter().any(|s| s == ALL_SITES) {
        "every site".into()
    } else {
        sites.join(", ")
    }
}

/// Sites as chosen in a form: every site, or the ticked ones.
#[component]
fn SitesPicker(all: RwSignal<bool>, picked: RwSignal<Vec<String>>) -> impl IntoView {
    let c = console();
    let me_all = move || c.me.with(|m| m.as_ref().is_some_and(|m| m.all_sites()));
    view! {
        <fieldset class="field" data-testid="sites-picker">
            <legend>"Sites"</legend>
            <Show when=me_all>
                <label class="check"><input type="checkbox" data-testid="all-sites" prop:checked=move || all.get()
                    on:change=move |ev| all.set(event_target_checked(&ev))/>" Every site, present and future"</label>
            </Show>
            <Show when=move || !all.get()>
                {move || c.sites.get().into_iter().map(|s| {
                    let id = s.id.clone();
                    let id2 = s.id.clone();
                    view! {
                        <label class="check"><input type="checkbox" data-testid=format!("site-{}", s.id)
                            prop:checked=move || picked.with(|p| p.contains(&id))
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                picked.update(|p| {
                                    p.retain(|x| x != &id2);
                                    if on { p.push(id2.clone()); }
                                });
                            }/>{format!(" {} ({})", s.name, s.id)}</label>
                    }
                }).collect_view()}
            </Show>
        </fieldset>
    }
}

/// The token just issued, shown once.
#[component]
fn ShownOnce(issued: RwSignal<Option<IssuedToken>>) -> impl IntoView {
    move || {
        issued.get().map(|t| {
            let token = t.token.clone();
            let copied = RwSignal::new(None::<String>);
            let copy = move |_| {
                let token = token.clone();
                leptos::task::spawn_local(async move {
                    copied.set(Some(match api::copy(&token).await {
                        Ok(()) => "Copied.".into(),
                        Err(e) => e,
                    }));
                });
            };
            view! {
                <div class="notice" role="status" data-testid="issued">
                    <p>{format!("The token for {} — shown this once: copy it now and hand it over privately.", t.name)}</p>
                    <code data-testid="issued-token">{t.token.clone()}</code>
                    " "<button type="button" on:click=copy>"Copy"</button>
                    " "<button type="button" class="link" on:click=move |_| issued.set(None)>"Done"</button>
                    " "<span class="sub" role="status">{move || copied.get()}</span>
                </div>
            }
        })
    }
}

/// The team page.
#[component]
pub fn TeamPage() -> impl IntoView {
    let c = console();
    let operators = RwSignal::new(Vec::<Operator>::new());
    let keys = RwSignal::new(Vec::<ApiKey>::new());
    let error = RwSignal::new(None::<String>);
    let issued = RwSignal::new(None::<IssuedToken>);
    let reload = move || {
        leptos::task::spawn_local(async move {
            match api::get::<Operators>("/v1/admin/operators").await {
                Ok(o) => operators.set(o.operators),
                Err(f) => error.set(Some(c.fail(&f))),
            }
            match api::get::<Keys>("/v1/admin/keys").await {
                Ok(k) => keys.set(k.keys),
                Err(f) => error.set(Some(c.fail(&f))),
            }
        });
    };
    reload();

    // A new operator.
    let name = RwSignal::new(String::new());
    let role = RwSignal::new("agent".to_string());
    let all = RwSignal::new(false);
    let picked = RwSignal::new(vec![c.site.get_untracked()]);
    let chosen = move |all: bool, picked: Vec<String>| {
        if all {
            vec![ALL_SITES.to_string()]
        } else {
            picked
        }
    };
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let role = match role.get_untracked().as_str() {
            "owner" => Role::Owner,
            "editor" => Role::Editor,
            _ => Role::Agent,
        };
        let body = NewOperator {
            name: name.get_untracked(),
            role,
            sites: chosen(all.get_untracked(), picked.get_untracked()),
        };
        leptos::task::spawn_local(async move {
            match api::call::<IssuedToken>("POST", "/v1/admin/operators", Some(&body)).await {
                Ok(t) => {
                    issued.set(Some(t));
                    name.set(String::new());
                    error.set(None);
                    reload();
                }
                Err(f) => error.set(Some(c.fail(&f))),
            }
        });
    };
    let revoke = move |path: String| {
        leptos::task::spawn_local(async move {
            match api::call::<Value>("DELETE", &path, None::<&()>).await {
                Ok(_) => reload(),
                Err(f) => error.set(Some(c.fail(&f))),
            }
        });
    };
    let operator_rows = move || {
        operators
            .get()
            .into_iter()
            .map(|o| {
                let path = format!("/v1/admin/operators/{}", o.id);
                let revoked = o.revoked_at;
                view! {
                    <tr data-testid=format!("operator-{}", o.id) class:revoked=revoked.is_some()>
                        <td data-testid="operator-name">{o.name.clone()}</td>
                        <td>{o.role.as_str()}</td>
                        <td>{sites_text(&o.sites)}</td>
                        <td>{show(o.created_at)}</td>
                        <td>{match revoked {
                            Some(at) => view! { <span class="sub">{format!("revoked {}", show(at))}</span> }.into_any(),
                            None => view! { <button data-testid="revoke" on:click=move |_| revoke(path.clone())>"Revoke"</button> }.into_any(),
                        }}</td>
                    </tr>
                }
            })
            .collect_view()
    };

    // A new API key.
    let key_name = RwSignal::new(String::new());
    let key_all = RwSignal::new(false);
    let key_picked = RwSignal::new(vec![c.site.get_untracked()]);
    let add_key = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = NewApiKey {
            name: key_name.get_untracked(),
            sites: chosen(key_all.get_untracked(), key_picked.get_untracked()),
        };
        leptos::task::spawn_local(async move {
            match api::call::<IssuedToken>("POST", "/v1/admin/keys", Some(&body)).await {
                Ok(t) => {
                    issued.set(Some(t));
                    key_name.set(String::new());
                    error.set(None);
                    reload();
                }
                Err(f) => error.set(Some(c.fail(&f))),
            }
        });
    };
    let key_rows = move || {
        keys.get()
            .into_iter()
            .map(|k| {
                let path = format!("/v1/admin/keys/{}", k.id);
                view! {
                    <tr data-testid=format!("key-{}", k.id)>
                        <td>{k.name.clone()}</td>
                        <td>{sites_text(&k.sites)}</td>
                        <td>{show(k.created_at)}</td>
                        <td>{match k.revoked_at {
                            Some(at) => view! { <span class="sub">{format!("revoked {}", show(at))}</span> }.into_any(),
                            None => view! { <button on:click=move |_| revoke(path.clone())>"Revoke"</button> }.into_any(),
                        }}</td>
                    </tr>
                }
            })
            .collect_view()
    };

    view! {
        <div class="bar"><h1>"Team"</h1></div>
        <Show when=move || error.get().is_some()><p class="error" role="alert" data-testid="team-error">{move || error.get()}</p></Show>
        <ShownOnce issued=issued/>
        <section>
            <h2>"Operators"</h2>
            <p class="sub">"Owners do everything; editors write content and read reports; agents answer questions. Each operator signs in with their own token; replies show their name."</p>
            <table class="list" data-testid="operators">
                <thead><tr><th>"Name"</th><th>"Role"</th><th>"Sites"</th><th>"Added"</th><th></th></tr></thead>
                <tbody>{operator_rows}</tbody>
            </table>
            <form on:submit=add data-testid="add-operator">
                <div class="row">
                    <label class="field"><span>"Display name"</span>
                        <input data-testid="operator-name-input" maxlength="60" bind:value=name/></label>
                    <label class="field"><span>"Role"</span>
                        <select data-testid="operator-role" prop:value=move || role.get()
                            on:change=move |ev| role.set(event_target_value(&ev))>
                            <option value="agent">"Agent"</option>
                            <option value="editor">"Editor"</option>
                            <option value="owner">"Owner"</option>
                        </select></label>
                </div>
                <SitesPicker all=all picked=picked/>
                <button class="primary" type="submit" data-testid="add-operator-submit"
                    disabled=move || name.with(|n| n.trim().is_empty())>"Add operator"</button>
            </form>
        </section>
        <section>
            <h2>"API keys"</h2>
            <p class="sub">"Read-only keys for integrations: reports and the export of raw responses of their sites, nothing else."</p>
            <table class="list" data-testid="keys">
                <thead><tr><th>"Name"</th><th>"Sites"</th><th>"Added"</th><th></th></tr></thead>
                <tbody>{key_rows}</tbody>
            </table>
            <form on:submit=add_key data-testid="add-key">
                <label class="field"><span>"Name"</span>
                    <input data-testid="key-name-input" maxlength="60" bind:value=key_name/></label>
                <SitesPicker all=key_all picked=key_picked/>
                <button type="submit" data-testid="add-key-submit"
                    disabled=move || key_name.with(|n| n.trim().is_empty())>"Create API key"</button>
            </form>
        </section>
        <AuditLog/>
    }
}

/// The audit log of the chosen site (all sites' for owners of every site), newest first.
#[component]
fn AuditLog() -> impl IntoView {
    let c = console();
    let entries = RwSignal::new(Vec::<AuditEntry>::new());
    let next = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let whole = RwSignal::new(false);
    let load = move |before: Option<String>| {
        let mut path = String::from("/v1/admin/audit?limit=50");
        if !whole.get_untracked() {
            path.push_str(&format!("&site={}", c.site.get_untracked()));
        }
        if let Some(b) = &before {
            path.push_str(&format!("&before={b}"));
        }
        leptos::task::spawn_local(async move {
            match api::get::<Audit>(&path).await {
                Ok(a) => {
                    next.set(a.next);
                    if before.is_some() {
                        entries.update(|e| e.extend(a.entries));
                    } else {
                        entries.set(a.entries);
                    }
                }
                Err(f) => error.set(Some(c.fail(&f))),
            }
        });
    };
    Effect::new(move |_| {
        c.site.track();
        whole.track();
        load(None);
    });
    let me_all = move || c.me.with(|m| m.as_ref().is_some_and(|m| m.all_sites()));
    view! {
        <section>
            <div class="bar"><h2>"Audit log"</h2>
                <Show when=me_all>
                    <label class="check"><input type="checkbox" prop:checked=move || whole.get()
                        on:change=move |ev| whole.set(event_target_checked(&ev))/>" Every site (and team changes)"</label>
                </Show>
                <button on:click=move |_| load(None)>"Refresh"</button>
            </div>
            <Show when=move || error.get().is_some()><p class="error">{move || error.get()}</p></Show>
            <table class="list" data-testid="audit">
                <thead><tr><th>"When"</th><th>"Who"</th><th>"What"</th><th>"Answer"</th></tr></thead>
                <tbody>
                    {move || entries.get().into_iter().map(|e| view! {
                        <tr data-testid="audit-entry">
                            <td>{show(e.at)}</td>
                            <td>{e.actor_name}</td>
                            <td><code>{e.action}</code></td>
                            <td>{e.status}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <Show when=move || next.get().is_some()>
                <button on:click=move |_| load(next.get_untracked())>"Show older"</button>
            </Show>
        </section>
    }
}
