//! The search box: finds members in this device's cache by name, member number or email
//! as the user types (debounced); choosing a result opens its panel.

use std::time::Duration;

use canopy_core::ipc::{SearchMatch, SearchRequest, SearchResultView};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::genealogy as api;

/// Quiet time after a keystroke before searching.
const DEBOUNCE: Duration = Duration::from_millis(250);
const RESULTS: u32 = 20;

#[derive(Debug, Clone, PartialEq)]
enum Found {
    Idle,
    Searching,
    Results(Vec<SearchResultView>),
    Failed(String),
}

#[component]
pub fn Search(on_open: Callback<i64>) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let found = RwSignal::new(Found::Idle);
    let open = RwSignal::new(false);
    let active = RwSignal::new(0usize);
    let timer: StoredValue<Option<TimeoutHandle>> = StoredValue::new(None);
    // Bumped on every keystroke, so only the latest search's answer is shown.
    let generation = StoredValue::new(0u64);

    let run = move |query: String| {
        let asked = generation.get_value();
        spawn_local(async move {
            let answer = api::search_members(SearchRequest {
                query,
                limit: RESULTS,
                period: None,
            })
            .await;
            if generation.get_value() == asked {
                active.set(0);
                found.set(match answer {
                    Ok(results) => Found::Results(results),
                    Err(error) => Found::Failed(error.to_string()),
                });
            }
        });
    };
    let on_input = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        text.set(value.clone());
        generation.update_value(|g| *g += 1);
        if let Some(handle) = timer.get_value() {
            handle.clear();
        }
        if value.trim().is_empty() {
            found.set(Found::Idle);
            open.set(false);
            return;
        }
        found.set(Found::Searching);
        open.set(true);
        let handle = set_timeout_with_handle(move || run(value), DEBOUNCE).ok();
        timer.set_value(handle);
    };
    let choose = move |id: i64| {
        open.set(false);
        on_open.run(id);
    };
    let results_len = move || match &*found.read() {
        Found::Results(r) => r.len(),
        _ => 0,
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let count = results_len();
        match ev.key().as_str() {
            "ArrowDown" if count > 0 => {
                open.set(true);
                active.update(|a| *a = (*a + 1).min(count - 1));
            }
            "ArrowUp" if count > 0 => active.update(|a| *a = a.saturating_sub(1)),
            "Enter" => {
                let id = found.with_untracked(|f| match f {
                    Found::Results(r) => r.get(active.get_untracked()).map(|r| r.member.id),
                    _ => None,
                });
                match id {
                    Some(id) => choose(id),
                    None => return,
                }
            }
            "Escape" if open.get_untracked() => {
                // Closes the results only, not the member panel behind them.
                ev.stop_propagation();
                open.set(false);
            }
            _ => return,
        }
        ev.prevent_default();
    };

    view! {
        <div class="gen-search">
            <label class="visually-hidden" for="genealogy-search">"Search your team"</label>
            <input
                id="genealogy-search"
                class="field-input"
                type="search"
                placeholder="Search by name or member number"
                autocomplete="off"
                spellcheck="false"
                role="combobox"
                aria-autocomplete="list"
                aria-controls="genealogy-search-results"
                aria-expanded=move || open.get().to_string()
                aria-activedescendant=move || {
                    (open.get() && results_len() > 0)
                        .then(|| format!("gen-result-{}", active.get()))
                }
                data-testid="genealogy-search"
                prop:value=move || text.get()
                on:input=on_input
                on:keydown=on_key
                on:blur=move |_| open.set(false)
                on:focus=move |_| {
                    if !text.with(|t| t.trim().is_empty()) {
                        open.set(true);
                    }
                }
            />
            <Show when=move || open.get()>
                <div class="gen-results" id="genealogy-search-results-box">
                    {move || match found.get() {
                        Found::Idle => ().into_any(),
                        Found::Searching => view! {
                            <p class="gen-results-note" role="status">"Searching…"</p>
                        }
                            .into_any(),
                        Found::Failed(message) => view! {
                            <p class="gen-results-note error-text" role="alert">{message}</p>
                        }
                            .into_any(),
                        Found::Results(results) if results.is_empty() => view! {
                            <p class="gen-results-note" role="status">"No one in your team matches."</p>
                        }
                            .into_any(),
                        Found::Results(results) => view! {
                            <ul class="gen-results-list" role="listbox" id="genealogy-search-results" aria-label="Members found">
                                {results
                                    .into_iter()
                                    .enumerate()
                                    .map(|(index, hit)| {
                                        let id = hit.member.id;
                                        view! {
                                            <li
                                                class="gen-result"
                                                class:gen-active=move || active.get() == index
                                                role="option"
                                                id=format!("gen-result-{index}")
                                                aria-selected=move || (active.get() == index).to_string()
                                                data-testid="genealogy-search-result"
                                                data-member-id=id.to_string()
                                                on:mousedown=move |ev| ev.prevent_default()
                                                on:click=move |_| choose(id)
                                            >
                                                <span class="gen-name">{hit.member.display_name}</span>
                                                <span class="gen-number mono">{hit.member.number}</span>
                                                <span class="muted">{hit.member.rank_name}</span>
                                                <span class="muted">{matched(hit.matched)}</span>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        }
                            .into_any(),
                    }}
                </div>
            </Show>
        </div>
    }
}

fn matched(m: SearchMatch) -> &'static str {
    match m {
        SearchMatch::Number => "by number",
        SearchMatch::Email => "by email",
        SearchMatch::Name => "by name",
    }
}
