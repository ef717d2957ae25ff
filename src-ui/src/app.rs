use crate::api;
use crate::components::frame::Frame;
use crate::components::sidebar::{NavItem, Sidebar};
use crate::pages::gallery_tmp::Gallery;
use leptos::prelude::*;

#[component]
pub fn App() -> impl IntoView {
    let info = LocalResource::new(api::app::app_info);
    let items = vec![
        NavItem {
            key: "home",
            label: "Home",
            shown: true,
        },
        NavItem {
            key: "team",
            label: "My team",
            shown: true,
        },
        NavItem {
            key: "orders",
            label: "Orders",
            shown: true,
        },
        NavItem {
            key: "review",
            label: "Team review",
            shown: false,
        },
        NavItem {
            key: "sync",
            label: "Sync center",
            shown: true,
        },
    ];
    let current = RwSignal::new("team");
    view! {
        <Frame info=info session="Signed in" sidebar=move || view!{ <Sidebar items=items.clone() current=current on_select=move |k| current.set(k) /> }>
            <Gallery />
        </Frame>
    }
}
