//! The callout: a tinted note inside a screen, for information the person
//! should read (info) or a problem that stops them (danger).

use leptos::prelude::*;

/// What a callout is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CalloutTone {
    #[default]
    Info,
    Danger,
}

/// A callout with a bold `title` and its children as the text. A danger
/// callout is announced (`role="alert"`), an info one politely (`status`).
#[component]
pub fn Callout(
    #[prop(optional)] tone: CalloutTone,
    #[prop(into)] title: String,
    #[prop(optional)] test_id: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    let (class, role) = match tone {
        CalloutTone::Info => ("callout callout-info", "status"),
        CalloutTone::Danger => ("callout callout-danger", "alert"),
    };
    view! {
        <div class=class role=role data-testid=test_id>
            <p class="callout-title">{title}</p>
            <div>{children()}</div>
        </div>
    }
}
