//! Badges: a short status word on a tinted pill ("Offline", "Pending",
//! "Rejected"). The word carries the meaning; the colour only repeats it.

use leptos::prelude::*;

/// The badge's tone, by meaning rather than by colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(dead_code, reason = "tones for screens that come next")]
pub enum Tone {
    #[default]
    Neutral,
    Success,
    Info,
    Warning,
    Danger,
}

impl Tone {
    fn badge_class(self) -> &'static str {
        match self {
            Self::Neutral => "badge badge-neutral",
            Self::Success => "badge badge-success",
            Self::Info => "badge badge-info",
            Self::Warning => "badge badge-warning",
            Self::Danger => "badge badge-danger",
        }
    }
}

/// A badge showing its children in the given `tone`.
#[component]
pub fn Badge(
    #[prop(optional)] tone: Tone,
    #[prop(optional)] test_id: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    view! { <span class=tone.badge_class() data-testid=test_id>{children()}</span> }
}
