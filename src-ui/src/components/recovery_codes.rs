//! Recovery codes shown once: the list, and a button that stays off until the person
//! confirms they saved them somewhere safe.

use leptos::prelude::*;

use super::button::Button;

/// `codes` in a list, the "I have saved them" check, and a `done_label` button that
/// runs `on_done` once the check is ticked.
#[component]
pub fn RecoveryCodeList(
    codes: Vec<String>,
    done_label: &'static str,
    done_test_id: &'static str,
    on_done: Callback<()>,
) -> impl IntoView {
    let saved = RwSignal::new(false);
    view! {
        <ol class="recovery-codes">
            {codes
                .into_iter()
                .map(|code| view! { <li><code data-testid="recovery-code">{code}</code></li> })
                .collect_view()}
        </ol>
        <label class="check">
            <input
                type="checkbox"
                data-testid="recovery-saved"
                prop:checked=move || saved.get()
                on:change=move |event| saved.set(event_target_checked(&event))
            />
            "I have saved these codes somewhere safe, away from this computer."
        </label>
        <div class="form-actions">
            <Button
                disabled=Signal::derive(move || !saved.get())
                on_click=on_done
                test_id=done_test_id
            >
                {done_label}
            </Button>
        </div>
    }
}
