//! The security banner: the one warning that must not blend in, for when
//! Canopy has refused something to protect the person (the server's key did
//! not match its pins). It has no close button: it goes when the cause does.

use leptos::prelude::*;

/// A security warning with a `title`, its children as the explanation, and
/// optional `actions` (buttons) under it. Announced at once (`role="alert"`).
#[component]
pub fn SecurityBanner(
    #[prop(into)] title: String,
    #[prop(optional, into)] actions: Option<ViewFn>,
    #[prop(optional)] test_id: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    view! {
        <section class="security-banner" role="alert" data-testid=test_id>
            <span class="security-banner-icon" aria-hidden="true"></span>
            <h2 class="security-banner-title">{title}</h2>
            <div class="security-banner-body">
                {children()}
                {actions.map(|actions| view! { <div class="security-banner-actions">{actions.run()}</div> })}
            </div>
        </section>
    }
}
