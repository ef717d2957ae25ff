//! The root component: the window's frame and the screen shown inside it.
//! Today only the signed-out screen exists, so the frame has no sidebar.

use leptos::prelude::*;

use crate::api;
use crate::components::frame::Frame;
use crate::pages::signed_out::SignedOut;

/// The whole app. Loads the app's facts once and hands them to the frame.
#[component]
pub fn App() -> impl IntoView {
    let info = LocalResource::new(api::app::app_info);
    view! {
        <Frame info=info session="Not signed in">
            <SignedOut />
        </Frame>
    }
}
