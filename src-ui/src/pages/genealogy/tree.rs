//! The tree view: the focused member and, as nodes are expanded, their children a page at
//! a time, flattened into rows so only the visible ones are in the DOM. Nothing below a
//! node is read until it is expanded.

use canopy_core::ipc::{ChildrenRequest, MemberRowView, TreeKind};
use leptos::prelude::*;
use leptos::tachys::html::attribute::custom::custom_attribute;
use leptos::task::spawn_local;

use super::list::status_class;
use super::viewport::{Viewport, moved};
use crate::api::genealogy as api;
use crate::format::{count, points};

/// Children per page.
const PAGE: u32 = 200;
/// Indentation steps drawn (`.gen-indent-0` to `-15` in `styles.css`); deeper levels are
/// drawn at the last step and say their level.
const INDENTS: u32 = 15;

/// One row of the flattened tree.
#[derive(Debug, Clone, PartialEq)]
enum Entry {
    Node {
        row: MemberRowView,
        depth: u32,
        expanded: bool,
        loading: bool,
    },
    /// More children of `parent` to read, after `after`.
    More {
        parent: i64,
        depth: u32,
        after: String,
        loading: bool,
    },
    /// Reading `parent`'s children failed.
    Failed {
        parent: i64,
        depth: u32,
        message: String,
    },
}

impl Entry {
    fn depth(&self) -> u32 {
        match self {
            Entry::Node { depth, .. } | Entry::More { depth, .. } | Entry::Failed { depth, .. } => {
                *depth
            }
        }
    }

    /// What the row's identity is for the keyed list: a change of state re-renders it.
    fn key(&self) -> (i64, u8, bool, bool) {
        match self {
            Entry::Node {
                row,
                expanded,
                loading,
                ..
            } => (row.id, 0, *expanded, *loading),
            Entry::More {
                parent, loading, ..
            } => (*parent, 1, false, *loading),
            Entry::Failed { parent, .. } => (*parent, 2, false, false),
        }
    }
}

/// The tree below `root` in `tree`; `on_open` opens a member's panel.
#[component]
pub fn TreeView(root: MemberRowView, tree: TreeKind, on_open: Callback<i64>) -> impl IntoView {
    let items = RwSignal::new(vec![Entry::Node {
        row: root,
        depth: 0,
        expanded: false,
        loading: false,
    }]);
    let active = RwSignal::new(0usize);
    let total = Signal::derive(move || items.with(Vec::len));
    let viewport = Viewport::new(total);

    // Reads a page of `parent`'s children and puts it after the parent's loaded ones
    // (where the "more" row stood), if the parent is still expanded.
    let load = move |parent: i64, after: Option<String>| {
        let request = ChildrenRequest {
            parent,
            tree,
            period: None,
            after: after.clone(),
            limit: PAGE,
        };
        spawn_local(async move {
            let answer = api::tree_children(request).await;
            items.update(|items| {
                let Some(at) = items.iter().position(
                    |e| matches!(e, Entry::Node { row, expanded: true, .. } if row.id == parent),
                ) else {
                    return;
                };
                let depth = items[at].depth() + 1;
                if let Entry::Node { loading, .. } = &mut items[at] {
                    *loading = false;
                }
                // Where the page goes: the "more" row it continues, or right after the parent.
                let slot = match &after {
                    Some(token) => items.iter().position(|e| {
                        matches!(e, Entry::More { parent: p, after: a, .. } if *p == parent && a == token)
                    }),
                    None => Some(at + 1),
                };
                let Some(slot) = slot else { return };
                if after.is_some() {
                    items.remove(slot);
                }
                let page: Vec<Entry> = match answer {
                    Ok(page) => {
                        let mut rows: Vec<Entry> = page
                            .rows
                            .into_iter()
                            .map(|row| Entry::Node {
                                row,
                                depth,
                                expanded: false,
                                loading: false,
                            })
                            .collect();
                        if let Some(after) = page.next {
                            rows.push(Entry::More {
                                parent,
                                depth,
                                after,
                                loading: false,
                            });
                        }
                        rows
                    }
                    Err(error) => vec![Entry::Failed {
                        parent,
                        depth,
                        message: error.to_string(),
                    }],
                };
                items.splice(slot..slot, page);
            });
        });
    };
    let expand = move |index: usize| {
        let mut parent = None;
        items.update(|items| {
            if let Some(Entry::Node {
                row,
                expanded: expanded @ false,
                loading,
                ..
            }) = items.get_mut(index)
            {
                *expanded = true;
                *loading = true;
                parent = Some(row.id);
            }
        });
        if let Some(parent) = parent {
            load(parent, None);
        }
    };
    let collapse = move |index: usize| {
        items.update(|items| {
            let Some(Entry::Node {
                expanded: expanded @ true,
                loading,
                depth,
                ..
            }) = items.get_mut(index)
            else {
                return;
            };
            *expanded = false;
            *loading = false;
            let depth = *depth;
            let end = items[index + 1..]
                .iter()
                .position(|e| e.depth() <= depth)
                .map_or(items.len(), |n| index + 1 + n);
            items.drain(index + 1..end);
        });
        if active.get_untracked() > index {
            active.set(index);
        }
    };
    let toggle = move |index: usize| {
        let expanded = items.with_untracked(|items| {
            matches!(items.get(index), Some(Entry::Node { expanded: true, .. }))
        });
        if expanded {
            collapse(index);
        } else {
            expand(index);
        }
    };
    let more = move |index: usize| {
        let mut wanted = None;
        items.update(|items| {
            if let Some(Entry::More {
                parent,
                after,
                loading: loading @ false,
                ..
            }) = items.get_mut(index)
            {
                *loading = true;
                wanted = Some((*parent, after.clone()));
            }
        });
        if let Some((parent, after)) = wanted {
            load(parent, Some(after));
        }
    };

    // The focused member opens expanded.
    expand(0);
    // A "more" row that scrolls into sight reads the next page by itself.
    Effect::new(move || {
        let range = viewport.range(total.get());
        let waiting: Vec<usize> = items.with(|items| {
            range
                .filter(|&i| matches!(items.get(i), Some(Entry::More { loading: false, .. })))
                .collect()
        });
        for index in waiting {
            more(index);
        }
    });

    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let key = ev.key();
        let at = active.get_untracked();
        let entry = items.with_untracked(|items| items.get(at).cloned());
        let go = |to: usize| {
            active.set(to);
            viewport.reveal(to);
        };
        match (key.as_str(), entry) {
            ("Enter", Some(Entry::Node { row, .. })) => on_open.run(row.id),
            ("Enter" | " ", Some(Entry::More { .. })) => more(at),
            ("Enter" | " ", Some(Entry::Failed { parent, .. })) => {
                if let Some(i) = items.with_untracked(|items| {
                    items
                        .iter()
                        .position(|e| matches!(e, Entry::Node { row, .. } if row.id == parent))
                }) {
                    collapse(i);
                    expand(i);
                }
            }
            (" ", Some(Entry::Node { .. })) => toggle(at),
            (
                "ArrowRight",
                Some(Entry::Node {
                    expanded: false,
                    row,
                    ..
                }),
            ) if row.has_children || at == 0 => expand(at),
            ("ArrowRight", Some(Entry::Node { expanded: true, .. })) => {
                go((at + 1).min(total.get_untracked().saturating_sub(1)))
            }
            ("ArrowLeft", Some(Entry::Node { expanded: true, .. })) => collapse(at),
            ("ArrowLeft", Some(entry)) => {
                let depth = entry.depth();
                if let Some(parent) = items
                    .with_untracked(|items| items[..at].iter().rposition(|e| e.depth() < depth))
                {
                    go(parent);
                }
            }
            (key, _) => match moved(key, at, total.get_untracked(), viewport.page()) {
                Some(to) => go(to),
                None => return,
            },
        }
        ev.prevent_default();
    };

    let visible = move || {
        let range = viewport.range(total.get());
        items.with(|items| {
            items
                .get(range.clone())
                .unwrap_or_default()
                .iter()
                .cloned()
                .zip(range)
                .collect::<Vec<_>>()
        })
    };
    let root_label = move || {
        items.with(|items| match items.first() {
            Some(Entry::Node { row, .. }) => format!("Team of {}", row.display_name),
            _ => "Team".to_owned(),
        })
    };
    view! {
        <div class="gen-tree">
            <div
                class="gen-viewport"
                node_ref=viewport.node
                tabindex="0"
                role="tree"
                aria-label=root_label
                aria-activedescendant=move || format!("gen-item-{}", active.get())
                on:scroll=move |_| viewport.measure()
                on:keydown=on_key
            >
                <div class="gen-spacer" node_ref=viewport.top></div>
                <For
                    each=visible
                    key=|(entry, index)| (entry.key(), *index)
                    children=move |(entry, index)| {
                        let is_active = move || active.get() == index;
                        let indent = format!("gen-indent-{}", entry.depth().min(INDENTS));
                        match entry {
                            Entry::Node { row, depth, expanded, loading } => {
                                let id = row.id;
                                let can_expand = row.has_children || index == 0;
                                view! {
                                    <div
                                        class=format!("gen-row gen-node {indent}")
                                        class:gen-active=is_active
                                        role="treeitem"
                                        id=format!("gen-item-{index}")
                                        aria-expanded=can_expand.then(|| expanded.to_string())
                                        aria-selected=move || is_active().to_string()
                                        aria-busy=loading.then_some("true")
                                        data-testid="genealogy-row"
                                        data-member-id=id.to_string()
                                        on:click=move |_| {
                                            active.set(index);
                                            on_open.run(id);
                                        }
                                    >
                                        <button
                                            class="gen-twisty"
                                            class:gen-twisty-open=expanded
                                            type="button"
                                            tabindex="-1"
                                            aria-hidden="true"
                                            disabled=!can_expand
                                            on:click=move |ev| {
                                                ev.stop_propagation();
                                                active.set(index);
                                                toggle(index);
                                            }
                                        ></button>
                                        <span class="gen-name">{row.display_name}</span>
                                        <span class="gen-number mono">{row.number}</span>
                                        <span class="gen-rank">{row.rank_name}</span>
                                        <span class=format!("gen-status gen-status-{}", status_class(row.status))>
                                            {row.status.label()}
                                        </span>
                                        {(depth > INDENTS).then(|| view! {
                                            <span class="gen-deep">{format!("Level {depth}")}</span>
                                        })}
                                        <span class="gen-figures">
                                            <span title="Team size">{count(row.team_size)}</span>
                                            <span class="mono">{points(row.gv)}" GV"</span>
                                        </span>
                                        <Show when=move || loading>
                                            <span class="spinner" aria-hidden="true"></span>
                                        </Show>
                                    </div>
                                }
                                    // `aria-level` has no typed attribute in the view macro.
                                    .add_any_attr(custom_attribute("aria-level", (depth + 1).to_string()))
                                    .into_any()
                            }
                            Entry::More { loading, .. } => view! {
                                <div
                                    class=format!("gen-row gen-node gen-more-row {indent}")
                                    class:gen-active=is_active
                                    role="treeitem"
                                    id=format!("gen-item-{index}")
                                    on:click=move |_| more(index)
                                >
                                    {if loading { "Loading more…" } else { "Show more" }}
                                </div>
                            }
                                .into_any(),
                            Entry::Failed { message, .. } => view! {
                                <div
                                    class=format!("gen-row gen-node gen-failed-row {indent}")
                                    class:gen-active=is_active
                                    role="treeitem"
                                    id=format!("gen-item-{index}")
                                >
                                    {format!("Could not read this team: {message}")}
                                </div>
                            }
                                .into_any(),
                        }
                    }
                />
                <div class="gen-spacer" node_ref=viewport.bottom></div>
            </div>
        </div>
    }
}
