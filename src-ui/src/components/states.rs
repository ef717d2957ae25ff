//! What a screen shows instead of its data: nothing there yet (empty), not
//! there yet (loading: a spinner or skeleton lines), or could not get it
//! (error, with a way to try again).

use leptos::prelude::*;

use super::button::{Button, ButtonVariant};

/// Nothing to show, and why; `action` is an optional way forward (a button).
#[component]
pub fn EmptyState(
    #[prop(into)] title: String,
    #[prop(into)] text: String,
    #[prop(optional, into)] action: Option<ViewFn>,
) -> impl IntoView {
    view! {
        <div class="state state-empty">
            <span class="state-icon" aria-hidden="true"></span>
            <p class="state-title">{title}</p>
            <p class="state-text">{text}</p>
            {action.map(|action| view! { <div class="state-actions">{action.run()}</div> })}
        </div>
    }
}

/// Waiting for something named by `label` ("Loading your team…"): a spinner
/// and the label, announced politely.
#[component]
pub fn LoadingState(#[prop(into)] label: String) -> impl IntoView {
    view! {
        <div class="state state-loading" role="status" aria-live="polite">
            <span class="spinner spinner-lg" aria-hidden="true"></span>
            <p class="state-text">{label}</p>
        </div>
    }
}

/// Grey lines standing in for `lines` lines of text while they load, for
/// places where a spinner would make the layout jump. Hidden from screen
/// readers; pair it with a visually hidden "Loading…" where it matters.
#[component]
pub fn Skeleton(#[prop(default = 3)] lines: usize) -> impl IntoView {
    let class = |index: usize| match index % 3 {
        0 => "skeleton",
        1 => "skeleton skeleton-medium",
        _ => "skeleton skeleton-short",
    };
    view! {
        <div aria-hidden="true">
            {(0..lines).map(|index| view! { <span class=class(index)></span> }).collect_view()}
        </div>
    }
}

/// Something failed: a `title`, the error's `message` (already readable), and
/// a "Try again" button running `on_retry` when given.
#[component]
pub fn ErrorState(
    #[prop(into)] title: String,
    #[prop(into)] message: String,
    #[prop(optional, into)] on_retry: Option<Callback<()>>,
) -> impl IntoView {
    view! {
        <div class="state state-error" role="alert">
            <span class="state-icon" aria-hidden="true"></span>
            <p class="state-title">{title}</p>
            <p class="state-text">{message}</p>
            {on_retry.map(|retry| {
                view! {
                    <div class="state-actions">
                        <Button variant=ButtonVariant::Secondary on_click=retry>"Try again"</Button>
                    </div>
                }
            })}
        </div>
    }
}
