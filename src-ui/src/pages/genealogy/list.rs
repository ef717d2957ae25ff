//! The list view: the focused member's whole downline, sorted by a column and filtered,
//! read a page at a time by cursor as it scrolls, with only the visible rows in the DOM.

use canopy_core::MemberStatus;
use canopy_core::ipc::{DownlineFilterView, DownlineRequest, MemberRowView, SortKey, TreeKind};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::viewport::{Viewport, moved};
use crate::api::genealogy as api;
use crate::components::states::{EmptyState, ErrorState, LoadingState};
use crate::format::points;

/// Rows per page: what the P8 benchmark measures.
const PAGE: u32 = 200;
/// Load the next page when the visible rows come this close to the loaded end.
const AHEAD: usize = 60;

const STATUSES: [MemberStatus; 5] = [
    MemberStatus::Active,
    MemberStatus::Inactive,
    MemberStatus::Suspended,
    MemberStatus::Terminated,
    MemberStatus::Erased,
];

/// The columns: header, sort key, CSS class. Volumes sort biggest first on a first click.
const COLUMNS: [(&str, SortKey, &str); 8] = [
    ("Name", SortKey::Name, "gen-col-name"),
    ("Rank", SortKey::Rank, "gen-col-rank"),
    ("Status", SortKey::Status, "gen-col-status"),
    ("Level", SortKey::Level, "gen-col-level"),
    ("Country", SortKey::Country, "gen-col-country"),
    ("Joined", SortKey::JoinDate, "gen-col-joined"),
    ("PV", SortKey::PersonalVolume, "gen-col-num gen-col-pv"),
    ("GV", SortKey::GroupVolume, "gen-col-num gen-col-gv"),
];

#[derive(Debug, Clone, PartialEq)]
enum Load {
    Loading,
    Ready,
    Failed(String),
}

/// The list of `root`'s downline in `tree`; `on_open` opens a member's panel.
#[component]
pub fn DownlineList(
    root: i64,
    tree: TreeKind,
    /// Ranks held below the root, for the rank filter: level and name.
    ranks: Signal<Vec<(u16, String)>>,
    on_open: Callback<i64>,
) -> impl IntoView {
    let sort = RwSignal::new((SortKey::Name, false));
    let filter = RwSignal::new(DownlineFilterView::default());
    let rows: RwSignal<Vec<MemberRowView>> = RwSignal::new(Vec::new());
    let next: RwSignal<Option<String>> = RwSignal::new(None);
    let status = RwSignal::new(Load::Loading);
    let fetching = RwSignal::new(false);
    let active = RwSignal::new(0usize);
    // Bumped on every new sort or filter, so a page that arrives late is dropped.
    let generation = StoredValue::new(0u64);
    let total = Signal::derive(move || rows.with(Vec::len));
    let viewport = Viewport::new(total);

    let request = move |after: Option<String>| {
        let (key, descending) = sort.get_untracked();
        DownlineRequest {
            root: Some(root),
            tree,
            period: None,
            filter: filter.get_untracked(),
            sort: key,
            descending,
            after,
            limit: PAGE,
        }
    };
    let fetch = move |after: Option<String>| {
        let asked = generation.get_value();
        fetching.set(true);
        let request = request(after);
        spawn_local(async move {
            let answer = api::downline_page(request).await;
            if generation.get_value() != asked {
                return;
            }
            fetching.set(false);
            match answer {
                Ok(page) => {
                    rows.update(|rows| rows.extend(page.rows));
                    next.set(page.next);
                    status.set(Load::Ready);
                }
                Err(error) => status.set(Load::Failed(error.to_string())),
            }
        });
    };
    // A new sort or filter starts again from the top.
    Effect::new(move || {
        sort.track();
        filter.track();
        generation.update_value(|g| *g += 1);
        rows.set(Vec::new());
        next.set(None);
        active.set(0);
        status.set(Load::Loading);
        viewport.scroll_to_top();
        fetch(None);
    });
    // The next page as the visible rows near the end of the loaded ones.
    Effect::new(move || {
        let end = viewport.range(total.get()).end;
        if status.get() == Load::Ready
            && !fetching.get()
            && end + AHEAD >= total.get()
            && let Some(after) = next.get()
        {
            fetch(Some(after));
        }
    });

    let set_sort = move |key: SortKey| {
        sort.update(|(current, descending)| {
            if *current == key {
                *descending = !*descending;
            } else {
                *current = key;
                *descending = matches!(key, SortKey::PersonalVolume | SortKey::GroupVolume);
            }
        });
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let key = ev.key();
        let count = total.get_untracked();
        if key == "Enter" {
            if let Some(row) = rows.with_untracked(|r| r.get(active.get_untracked()).cloned()) {
                ev.prevent_default();
                on_open.run(row.id);
            }
        } else if let Some(to) = moved(&key, active.get_untracked(), count, viewport.page()) {
            ev.prevent_default();
            active.set(to);
            viewport.reveal(to);
        }
    };
    let visible = move || {
        let range = viewport.range(total.get());
        rows.with(|rows| {
            rows.get(range.clone())
                .unwrap_or_default()
                .iter()
                .cloned()
                .zip(range)
                .collect::<Vec<_>>()
        })
    };
    let header = COLUMNS
        .into_iter()
        .map(|(label, key, class)| {
            let aria_sort = move || {
                let (current, descending) = sort.get();
                Some(match (current == key, descending) {
                    (false, _) => "none",
                    (true, false) => "ascending",
                    (true, true) => "descending",
                })
            };
            view! {
                <div role="columnheader" class=format!("gen-cell {class}") aria-sort=aria_sort>
                    <button class="gen-sort" type="button" on:click=move |_| set_sort(key)>
                        {label}
                        <span class="gen-sort-mark" aria-hidden="true"></span>
                    </button>
                </div>
            }
        })
        .collect_view();

    view! {
        <div class="gen-list">
            <Filters filter=filter ranks=ranks />
            <div
                class="gen-grid"
                role="grid"
                aria-label="Downline"
                aria-rowcount=move || {
                    if next.with(Option::is_some) { -1 } else { total.get() as i64 + 1 }
                }
            >
                <div class="gen-row gen-head" role="row" aria-rowindex="1">{header}</div>
                <div
                    class="gen-viewport"
                    node_ref=viewport.node
                    tabindex="0"
                    role="rowgroup"
                    aria-activedescendant=move || {
                        rows.with(|r| r.get(active.get()).map(|row| format!("gen-row-{}", row.id)))
                    }
                    on:scroll=move |_| viewport.measure()
                    on:keydown=on_key
                >
                    <div class="gen-spacer" node_ref=viewport.top></div>
                    <For
                        each=visible
                        key=|(row, index)| (row.id, *index)
                        children=move |(row, index)| {
                            let id = row.id;
                            view! {
                                <div
                                    class="gen-row"
                                    class:gen-active=move || active.get() == index
                                    role="row"
                                    id=format!("gen-row-{id}")
                                    aria-rowindex=index + 2
                                    aria-selected=move || (active.get() == index).to_string()
                                    data-testid="genealogy-row"
                                    data-member-id=id.to_string()
                                    on:click=move |_| {
                                        active.set(index);
                                        on_open.run(id);
                                    }
                                >
                                    <ListCells row=row />
                                </div>
                            }
                        }
                    />
                    <div class="gen-spacer" node_ref=viewport.bottom></div>
                    <Show when=move || { fetching.get() && total.get() > 0 }>
                        <p class="gen-more" role="status">"Loading more…"</p>
                    </Show>
                </div>
                {move || match status.get() {
                    Load::Loading if total.get() == 0 => {
                        view! { <LoadingState label="Loading the downline…" /> }.into_any()
                    }
                    Load::Failed(message) => {
                        view! {
                            <ErrorState
                                title="The downline could not be read"
                                message=message
                                on_retry=Callback::new(move |()| filter.notify())
                            />
                        }
                            .into_any()
                    }
                    Load::Ready if total.get() == 0 => {
                        view! {
                            <EmptyState
                                title="No one here"
                                text="Nobody in this downline matches. Try other filters."
                            />
                        }
                            .into_any()
                    }
                    _ => ().into_any(),
                }}
            </div>
        </div>
    }
}

/// One row's cells, in the order of [`COLUMNS`].
#[component]
fn ListCells(row: MemberRowView) -> impl IntoView {
    view! {
        <div role="gridcell" class="gen-cell gen-col-name">
            <span class="gen-name">{row.display_name}</span>
            <span class="gen-number mono">{row.number}</span>
        </div>
        <div role="gridcell" class="gen-cell gen-col-rank">{row.rank_name}</div>
        <div role="gridcell" class="gen-cell gen-col-status">
            <span class=format!("gen-status gen-status-{}", status_class(row.status))>
                {row.status.label()}
            </span>
        </div>
        <div role="gridcell" class="gen-cell gen-col-level">{row.level}</div>
        <div role="gridcell" class="gen-cell gen-col-country">{row.country}</div>
        <div role="gridcell" class="gen-cell gen-col-joined">{row.joined_on}</div>
        <div role="gridcell" class="gen-cell gen-col-num gen-col-pv">{points(row.pv)}</div>
        <div role="gridcell" class="gen-cell gen-col-num gen-col-gv">{points(row.gv)}</div>
    }
}

/// The status's class suffix (its colour only repeats the word).
pub fn status_class(status: MemberStatus) -> &'static str {
    match status {
        MemberStatus::Active => "active",
        MemberStatus::Inactive => "inactive",
        MemberStatus::Suspended => "suspended",
        MemberStatus::Terminated | MemberStatus::Erased => "ended",
    }
}

/// How many filters are set.
fn active_filters(f: &DownlineFilterView) -> usize {
    [
        !f.ranks.is_empty(),
        !f.statuses.is_empty(),
        !f.countries.is_empty(),
        f.levels.is_some(),
        f.joined_from.is_some(),
        f.joined_to.is_some(),
    ]
    .into_iter()
    .filter(|set| *set)
    .count()
}

/// The filter bar, folded under "Filters": rank, status, levels, country and join
/// dates. Each applies as it changes; "Clear filters" resets them all. The inputs show
/// the filter's values, so clearing empties them too.
#[component]
fn Filters(
    filter: RwSignal<DownlineFilterView>,
    ranks: Signal<Vec<(u16, String)>>,
) -> impl IntoView {
    let summary = move || match filter.with(active_filters) {
        0 => "Filters".to_owned(),
        n => format!("Filters ({n})"),
    };
    let level = move |text: String| text.trim().parse::<u32>().ok();
    let date = move |text: String| (!text.is_empty()).then_some(text);
    let set_levels = move |from: Option<u32>, to: Option<u32>| {
        filter.update(|f| {
            let (old_from, old_to) = f.levels.unwrap_or((1, u32::MAX));
            let (from, to) = (from.unwrap_or(old_from), to.unwrap_or(old_to));
            f.levels = (from > 1 || to < u32::MAX).then_some((from.max(1), to));
        });
    };
    let shown_level = move |pick: fn((u32, u32)) -> u32, unset: u32| {
        move || {
            filter
                .with(|f| f.levels.map(pick))
                .filter(|n| *n != unset)
                .map(|n| n.to_string())
                .unwrap_or_default()
        }
    };
    view! {
        <details class="gen-filters-box">
            <summary>{summary}</summary>
            <div class="gen-filters" role="group" aria-label="Filters">
                <label class="gen-filter">
                    <span>"Rank"</span>
                    <select
                        class="field-input"
                        prop:value=move || {
                            filter.with(|f| f.ranks.first().map(u16::to_string).unwrap_or_default())
                        }
                        on:change=move |ev| {
                            let value = event_target_value(&ev);
                            filter.update(|f| f.ranks = value.parse().map(|r| vec![r]).unwrap_or_default());
                        }
                    >
                        <option value="">"Any"</option>
                        {move || {
                            ranks
                                .get()
                                .into_iter()
                                .map(|(level, name)| view! { <option value=level.to_string()>{name}</option> })
                                .collect_view()
                        }}
                    </select>
                </label>
                <label class="gen-filter">
                    <span>"Status"</span>
                    <select
                        class="field-input"
                        prop:value=move || {
                            filter.with(|f| f.statuses.first().map(|s| s.label()).unwrap_or_default())
                        }
                        on:change=move |ev| {
                            let value = event_target_value(&ev);
                            filter.update(|f| {
                                f.statuses = STATUSES
                                    .into_iter()
                                    .filter(|s| s.label() == value)
                                    .collect();
                            });
                        }
                    >
                        <option value="">"Any"</option>
                        {STATUSES
                            .into_iter()
                            .map(|s| view! { <option value=s.label()>{s.label()}</option> })
                            .collect_view()}
                    </select>
                </label>
                <label class="gen-filter gen-filter-narrow">
                    <span>"Levels from"</span>
                    <input
                        class="field-input"
                        type="number"
                        min="1"
                        inputmode="numeric"
                        prop:value=shown_level(|(from, _)| from, 1)
                        on:change=move |ev| {
                            set_levels(Some(level(event_target_value(&ev)).unwrap_or(1)), None)
                        }
                    />
                </label>
                <label class="gen-filter gen-filter-narrow">
                    <span>"to"</span>
                    <input
                        class="field-input"
                        type="number"
                        min="1"
                        inputmode="numeric"
                        prop:value=shown_level(|(_, to)| to, u32::MAX)
                        on:change=move |ev| {
                            set_levels(None, Some(level(event_target_value(&ev)).unwrap_or(u32::MAX)))
                        }
                    />
                </label>
                <label class="gen-filter gen-filter-narrow">
                    <span>"Country"</span>
                    <input
                        class="field-input"
                        type="text"
                        maxlength="2"
                        placeholder="PT"
                        autocomplete="off"
                        prop:value=move || filter.with(|f| f.countries.first().cloned().unwrap_or_default())
                        on:change=move |ev| {
                            let code = event_target_value(&ev).trim().to_uppercase();
                            filter.update(|f| {
                                f.countries = if code.is_empty() { Vec::new() } else { vec![code] }
                            });
                        }
                    />
                </label>
                <label class="gen-filter">
                    <span>"Joined from"</span>
                    <input
                        class="field-input"
                        type="date"
                        prop:value=move || filter.with(|f| f.joined_from.clone().unwrap_or_default())
                        on:change=move |ev| filter.update(|f| f.joined_from = date(event_target_value(&ev)))
                    />
                </label>
                <label class="gen-filter">
                    <span>"to"</span>
                    <input
                        class="field-input"
                        type="date"
                        prop:value=move || filter.with(|f| f.joined_to.clone().unwrap_or_default())
                        on:change=move |ev| filter.update(|f| f.joined_to = date(event_target_value(&ev)))
                    />
                </label>
            </div>
            <Show when=move || { filter.with(active_filters) > 0 }>
                <div class="gen-filters-clear">
                    <button
                        class="gen-link"
                        type="button"
                        on:click=move |_| filter.set(DownlineFilterView::default())
                    >
                        "Clear filters"
                    </button>
                </div>
            </Show>
        </details>
    }
}
