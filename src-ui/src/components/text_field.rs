//! A labelled text input with an optional hint and an inline error, wired for
//! screen readers: the label names the input, the hint and error describe it.

use leptos::prelude::*;

/// A text field bound to `value`. `id` must be unique on the screen: the
/// label's `for`, the hint's and the error's ids derive from it. When `error`
/// holds a message the input is `aria-invalid` and the message is announced.
#[component]
pub fn TextField(
    id: &'static str,
    #[prop(into)] label: String,
    value: RwSignal<String>,
    #[prop(optional, into)] error: Signal<Option<String>>,
    #[prop(optional, into)] hint: Option<String>,
    /// The input's `type`: "text" unless given ("password", "email", …).
    #[prop(default = "text")]
    input_type: &'static str,
    /// The `autocomplete` hint ("username", "current-password", "off", …).
    #[prop(optional)]
    autocomplete: Option<&'static str>,
    #[prop(optional)] required: bool,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let has_hint = hint.is_some();
    let described_by = {
        let (hint_id, error_id) = (hint_id.clone(), error_id.clone());
        move || {
            let ids: Vec<&str> = [
                has_hint.then_some(hint_id.as_str()),
                error.with(Option::is_some).then_some(error_id.as_str()),
            ]
            .into_iter()
            .flatten()
            .collect();
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field">
            <label class="field-label" for=id>{label}</label>
            <input
                class="field-input"
                id=id
                type=input_type
                autocomplete=autocomplete
                required=required
                aria-invalid=move || if error.with(Option::is_some) { "true" } else { "false" }
                aria-describedby=described_by
                prop:value=move || value.get()
                on:input=move |event| value.set(event_target_value(&event))
            />
            {hint.map(|hint| view! { <p class="field-hint" id=hint_id>{hint}</p> })}
            {move || {
                error
                    .get()
                    .map(|message| {
                        view! {
                            <p class="field-error" id=error_id.clone() role="alert">{message}</p>
                        }
                    })
            }}
        </div>
    }
}
