//! The card: a raised surface that groups one subject, with an optional title,
//! subtitle and something at the header's end (a badge, a button).

use leptos::prelude::*;

/// A card. With a `title` it gets a header (an `h2`); `header_end` sits at the
/// header's right. `test_id` names it for the end-to-end suite.
#[component]
pub fn Card(
    #[prop(optional, into)] title: Option<String>,
    #[prop(optional, into)] subtitle: Option<String>,
    #[prop(optional, into)] header_end: Option<ViewFn>,
    #[prop(optional)] test_id: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    let header = title.map(|title| {
        view! {
            <header class="card-header">
                <div>
                    <h2 class="card-title">{title}</h2>
                    {subtitle.map(|text| view! { <p class="card-subtitle">{text}</p> })}
                </div>
                {header_end.map(|end| end.run())}
            </header>
        }
    });
    view! {
        <section class="card" data-testid=test_id>
            {header}
            <div class="card-body">{children()}</div>
        </section>
    }
}
