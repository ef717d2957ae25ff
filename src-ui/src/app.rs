//! The root component: the window's frame (header, main area, footer) and the
//! screen shown inside it. Today only the signed-out screen exists.

use leptos::prelude::*;

use crate::api;
use crate::components::{brand::Brand, footer::Footer};
use crate::pages::signed_out::SignedOut;

/// The whole app. Loads the app's facts once and hands them to the frame.
#[component]
pub fn App() -> impl IntoView {
    let info = LocalResource::new(api::app::app_info);
    view! {
        <div class="shell">
            <header class="topbar">
                <Brand />
                <span class="status-pill" data-testid="session-status">
                    <span class="dot"></span>
                    "Not signed in"
                </span>
            </header>
            <main class="content">
                <SignedOut />
            </main>
            <Footer info=info />
        </div>
    }
}
