//! The navigation sidebar: the screens a signed-in person can go to. Screens
//! plug in by adding a [`NavItem`]; the role decides which ones are shown.

use leptos::prelude::*;

/// One entry of the sidebar: its `label`, the route `key` it selects, and
/// whether it is `shown` (for example, "Team review" only for managers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NavItem {
    pub key: &'static str,
    pub label: &'static str,
    pub shown: bool,
}

/// The sidebar: the shown `items` in order, the one whose key is `current`
/// marked as the current page; choosing one calls `on_select` with its key.
#[component]
pub fn Sidebar(
    #[prop(into)] items: Signal<Vec<NavItem>>,
    #[prop(into)] current: Signal<&'static str>,
    #[prop(into)] on_select: Callback<&'static str>,
) -> impl IntoView {
    let entry = move |item: NavItem| {
        let key = item.key;
        view! {
            <li>
                <button
                    type="button"
                    class="nav-item"
                    data-testid=format!("nav-{key}")
                    aria-current=move || (current.get() == key).then_some("page")
                    on:click=move |_| on_select.run(key)
                >
                    {item.label}
                </button>
            </li>
        }
    };
    view! {
        <nav class="sidebar" aria-label="Main" data-testid="sidebar">
            <ul class="nav-list">
                {move || {
                    items
                        .get()
                        .into_iter()
                        .filter(|item| item.shown)
                        .map(entry)
                        .collect_view()
                }}
            </ul>
        </nav>
    }
}
