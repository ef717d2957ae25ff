//! The Canopy brand mark: logo and product name, shown in the top bar.

use leptos::prelude::*;

#[component]
pub fn Brand() -> impl IntoView {
    view! {
        <div class="brand">
            <img class="brand-logo" src="/canopy.svg" alt="" width="36" height="36" />
            <div class="brand-text">
                <span class="brand-name">"Canopy"</span>
                <span class="brand-tagline">"Your team, your volumes, your earnings"</span>
            </div>
        </div>
    }
}
