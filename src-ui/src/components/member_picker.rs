//! Choosing a member of the downline by typing part of their name or number: the field
//! for a sponsor or a buyer. Starts on "you"; the search runs a moment after typing
//! stops, and a result is chosen with a click or Enter.

use canopy_core::ipc::SearchRequest;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;

/// Milliseconds of quiet typing before a search runs.
const DEBOUNCE_MS: u64 = 250;

/// A member as the picker shows and returns them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picked {
    pub id: i64,
    pub label: String,
}

/// The picker. `chosen` holds the member picked (`None`: the user themself); `label` is
/// the field's label, `id` its input's id.
#[component]
pub fn MemberPicker(
    id: &'static str,
    #[prop(into)] label: String,
    chosen: RwSignal<Option<Picked>>,
    #[prop(optional, into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let query = RwSignal::new(String::new());
    let results = RwSignal::new(Vec::<Picked>::new());
    let searching = RwSignal::new(false);
    let generation = StoredValue::new(0_u64);
    let run = move |text: String| {
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        if text.trim().is_empty() {
            results.set(Vec::new());
            return;
        }
        set_timeout(
            move || {
                if generation.get_value() != mine {
                    return;
                }
                searching.set(true);
                spawn_local(async move {
                    let found = api::genealogy::search_members(SearchRequest {
                        query: text,
                        limit: 8,
                        period: None,
                    })
                    .await;
                    if generation.get_value() == mine {
                        searching.set(false);
                        results.set(
                            found
                                .unwrap_or_default()
                                .into_iter()
                                .map(|r| Picked {
                                    id: r.member.id,
                                    label: format!(
                                        "{} (#{})",
                                        r.member.display_name, r.member.number
                                    ),
                                })
                                .collect(),
                        );
                    }
                });
            },
            std::time::Duration::from_millis(DEBOUNCE_MS),
        );
    };
    let pick = move |picked: Option<Picked>| {
        chosen.set(picked);
        query.set(String::new());
        results.set(Vec::new());
    };
    let list_id = format!("{id}-results");
    view! {
        <div class="field picker">
            <label class="field-label" for=id>{label}</label>
            <div class="picker-chosen">
                <span data-testid=format!("{id}-chosen")>
                    {move || chosen.get().map_or_else(|| "You".to_owned(), |p| p.label)}
                </span>
                {move || chosen.get().is_some().then(|| view! {
                    <button type="button" class="link-button" on:click=move |_| pick(None)>"Back to you"</button>
                })}
            </div>
            <input
                class="field-input"
                id=id
                type="search"
                autocomplete="off"
                placeholder="Someone else: type a name or member number"
                aria-controls=list_id.clone()
                aria-invalid=move || if error.with(Option::is_some) { "true" } else { "false" }
                prop:value=move || query.get()
                on:input=move |event| {
                    let text = event_target_value(&event);
                    query.set(text.clone());
                    run(text);
                }
                on:keydown=move |event| {
                    if event.key() == "Enter" {
                        event.prevent_default();
                        if let Some(first) = results.get_untracked().into_iter().next() {
                            pick(Some(first));
                        }
                    }
                }
            />
            <ul class="picker-results" id=list_id role="listbox">
                {move || results.get().into_iter().map(|p| {
                    let label = p.label.clone();
                    view! {
                        <li role="option">
                            <button type="button" class="picker-result" data-testid="picker-result" on:click=move |_| pick(Some(p.clone()))>
                                {label}
                            </button>
                        </li>
                    }
                }).collect_view()}
            </ul>
            {move || (searching.get() && results.with(Vec::is_empty)).then(|| view! { <p class="field-hint">"Searching…"</p> })}
            {move || error.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
        </div>
    }
}
