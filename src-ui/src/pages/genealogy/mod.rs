//! The genealogy screen: the user's team as a sortable, filterable list or a lazily
//! expanding tree (both virtualised), search, breadcrumbs, and the member panel.
//! Nothing here reads a whole downline: lists page by cursor, the tree reads on expand.

mod list;
mod panel;
mod search;
mod tree;
mod viewport;

use canopy_core::ipc::{MemberRowView, PathView, TreeKind};
use leptos::prelude::*;

use crate::api::genealogy as api;
use crate::components::states::{ErrorState, LoadingState};
use list::DownlineList;
use panel::MemberPanel;
use search::Search;
use tree::TreeView;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    List,
    Tree,
}

/// The screen.
#[component]
pub fn Genealogy() -> impl IntoView {
    let mode = RwSignal::new(Mode::List);
    let tree = RwSignal::new(TreeKind::Sponsor);
    // The member the list and the tree are rooted at; `None`: the user.
    let root: RwSignal<Option<i64>> = RwSignal::new(None);
    let selected: RwSignal<Option<i64>> = RwSignal::new(None);
    let crumbs = LocalResource::new(move || api::path_to_member(root.get()));
    let ranks = LocalResource::new(move || {
        let root = root.get();
        async move {
            let path = api::path_to_member(root).await.ok()?;
            let id = path.members.last()?.id;
            let detail = api::member_detail(id, None).await.ok()?;
            Some(
                detail
                    .subtree
                    .by_rank
                    .into_iter()
                    .map(|r| (r.rank, r.name))
                    .collect::<Vec<_>>(),
            )
        }
    });
    let ranks = Signal::derive(move || ranks.get().flatten().unwrap_or_default());

    let open = Callback::new(move |id: i64| selected.set(Some(id)));
    let close = Callback::new(move |()| selected.set(None));
    let focus = Callback::new(move |id: i64| root.set(Some(id)));
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" && selected.get_untracked().is_some() {
            ev.prevent_default();
            selected.set(None);
        }
    };
    let switch = move |to: Mode, label: &'static str, test_id: &'static str| {
        view! {
            <button
                class="gen-switch-button"
                type="button"
                aria-pressed=move || (mode.get() == to).to_string()
                data-testid=test_id
                on:click=move |_| mode.set(to)
            >
                {label}
            </button>
        }
    };

    view! {
        <section class="genealogy" data-testid="genealogy" on:keydown=on_key>
            <header class="gen-toolbar">
                <h1 class="gen-title">"Genealogy"</h1>
                <div class="gen-switch" role="group" aria-label="Show the team as">
                    {switch(Mode::List, "List", "view-list")}
                    {switch(Mode::Tree, "Tree", "view-tree")}
                </div>
                <label class="gen-tree-kind">
                    <span class="visually-hidden">"Which tree"</span>
                    <select
                        class="field-input"
                        on:change=move |ev| {
                            tree.set(if event_target_value(&ev) == "placement" {
                                TreeKind::Placement
                            } else {
                                TreeKind::Sponsor
                            })
                        }
                    >
                        <option value="sponsor">"Sponsor tree"</option>
                        <option value="placement">"Placement tree"</option>
                    </select>
                </label>
                <Search on_open=open />
            </header>
            {move || crumbs.get().map(|path| breadcrumbs(path, root))}
            <div class="gen-body" class:gen-body-panel=move || selected.get().is_some()>
                <div class="gen-main">
                    {move || match crumbs.get() {
                        None => view! { <LoadingState label="Loading your team…" /> }.into_any(),
                        Some(Err(error)) => view! {
                            <ErrorState
                                title="Your team could not be read"
                                message=error.to_string()
                                on_retry=Callback::new(move |()| crumbs.refetch())
                            />
                        }
                            .into_any(),
                        Some(Ok(path)) => match path.members.last().cloned() {
                            None => view! {
                                <ErrorState title="Your team could not be read" message="Nothing is in this device's cache yet." />
                            }
                                .into_any(),
                            Some(top) => body(top, mode, tree, ranks, open).into_any(),
                        },
                    }}
                </div>
                {move || {
                    selected.get().map(|id| view! {
                        <MemberPanel id=id on_close=close on_focus=focus on_open=open />
                    })
                }}
            </div>
        </section>
    }
}

/// The list or the tree rooted at `top`, rebuilt when the mode or the tree changes.
fn body(
    top: MemberRowView,
    mode: RwSignal<Mode>,
    tree: RwSignal<TreeKind>,
    ranks: Signal<Vec<(u16, String)>>,
    open: Callback<i64>,
) -> impl IntoView {
    move || {
        let (kind, top) = (tree.get(), top.clone());
        match mode.get() {
            Mode::List => {
                view! { <DownlineList root=top.id tree=kind ranks=ranks on_open=open /> }.into_any()
            }
            Mode::Tree => view! { <TreeView root=top tree=kind on_open=open /> }.into_any(),
        }
    }
}

/// From the user down to the member the view is rooted at; each crumb re-roots there.
fn breadcrumbs(
    path: Result<PathView, crate::api::ApiError>,
    root: RwSignal<Option<i64>>,
) -> impl IntoView {
    let members = path.map(|p| p.members).unwrap_or_default();
    let last = members.len().saturating_sub(1);
    view! {
        <nav class="gen-crumbs" aria-label="Breadcrumbs" data-testid="breadcrumbs">
            <ol>
                {members
                    .into_iter()
                    .enumerate()
                    .map(|(index, m)| {
                        let target = (index > 0).then_some(m.id);
                        let name = if index == 0 { format!("You ({})", m.display_name) } else { m.display_name };
                        if index == last {
                            view! { <li><span aria-current="location">{name}</span></li> }.into_any()
                        } else {
                            view! {
                                <li>
                                    <button class="gen-link" type="button" on:click=move |_| root.set(target)>
                                        {name}
                                    </button>
                                </li>
                            }
                                .into_any()
                        }
                    })
                    .collect_view()}
            </ol>
        </nav>
    }
}
