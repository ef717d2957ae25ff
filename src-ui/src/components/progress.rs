//! A progress bar: how far along something is (rank progress, the first
//! download of the team's data), as a native `<progress>` so assistive
//! technology reads it without help.

use leptos::prelude::*;

/// `value` out of `max`, named by `label` (shown above the bar and used as
/// its accessible name). `value_text` replaces the default "n %" read-out,
/// for example "1,240 of 2,000 PV". With `value` unknown (`None`) the bar is
/// indeterminate.
#[component]
pub fn ProgressBar(
    #[prop(into)] label: String,
    #[prop(into)] value: Signal<Option<f64>>,
    max: f64,
    #[prop(optional, into)] value_text: Option<Signal<String>>,
) -> impl IntoView {
    let percent = move || {
        value
            .get()
            .filter(|_| max > 0.0)
            .map(|v| format!("{:.0} %", (v / max * 100.0).clamp(0.0, 100.0)))
            .unwrap_or_default()
    };
    let read_out = move || match value_text {
        Some(text) => text.get(),
        None => percent(),
    };
    view! {
        <div class="progress">
            <div class="progress-head">
                <span class="progress-label">{label.clone()}</span>
                <span class="progress-value">{read_out}</span>
            </div>
            <progress
                class="progress-bar"
                max=max
                value=move || value.get().map(|v| v.clamp(0.0, max))
                aria-label=label
                aria-valuetext=move || value_text.map(|text| text.get())
            ></progress>
        </div>
    }
}
