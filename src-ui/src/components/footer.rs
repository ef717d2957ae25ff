//! The footer: the app's version and platform from `app_info`, or why they are
//! unknown (for example when the page is opened outside the app window).

use canopy_core::ipc::AppInfo;
use leptos::prelude::*;

use crate::api::ApiError;

#[component]
pub fn Footer(info: LocalResource<Result<AppInfo, ApiError>>) -> impl IntoView {
    let line = move || match info.get() {
        None => view! { <span class="muted">"Loading…"</span> }.into_any(),
        Some(Ok(info)) => view! {
            <span data-testid="app-version">{format!("{} {}", info.name, info.version)}</span>
            <span class="muted">{format!("{} · {}", info.os, info.arch)}</span>
        }
        .into_any(),
        Some(Err(error)) => view! {
            <span class="error-text" data-testid="app-version-error">{error.to_string()}</span>
        }
        .into_any(),
    };
    view! {
        <footer class="footer">
            {line}
        </footer>
    }
}
