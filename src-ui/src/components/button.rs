//! The button: primary, secondary or danger, with a loading state that keeps
//! its label, shows a spinner and refuses further clicks until it is done.

use leptos::prelude::*;

/// How much a button stands out: one primary action per screen, secondary for
/// the rest, danger for what destroys or cannot be undone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ButtonVariant {
    #[default]
    Primary,
    Secondary,
    Danger,
}

impl ButtonVariant {
    fn class(self) -> &'static str {
        match self {
            Self::Primary => "btn btn-primary",
            Self::Secondary => "btn btn-secondary",
            Self::Danger => "btn btn-danger",
        }
    }
}

/// A button. `on_click` runs on activation unless the button is `disabled` or
/// `loading`; `submit` makes it the submit button of its form instead.
/// While `loading`, it is busy (`aria-busy`) and shows a spinner.
#[component]
pub fn Button(
    #[prop(optional)] variant: ButtonVariant,
    #[prop(optional, into)] loading: Signal<bool>,
    #[prop(optional, into)] disabled: Signal<bool>,
    #[prop(optional)] submit: bool,
    #[prop(optional, into)] on_click: Option<Callback<()>>,
    #[prop(optional, into)] test_id: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    let click = move |_| {
        if let Some(on_click) = on_click
            && !loading.get_untracked()
        {
            on_click.run(());
        }
    };
    view! {
        <button
            class=variant.class()
            type=if submit { "submit" } else { "button" }
            disabled=move || disabled.get() || loading.get()
            aria-busy=move || loading.get().then_some("true")
            data-testid=test_id
            on:click=click
        >
            <Show when=move || loading.get()>
                <span class="spinner" aria-hidden="true"></span>
            </Show>
            {children()}
        </button>
    }
}
