//! The modal dialog: a question that must be answered before going on
//! ("Discard this enrollment?"). Escape or a click outside closes it.

use leptos::html;
use leptos::prelude::*;

/// A dialog shown while `open` is true, titled `title`, with its children as
/// the body and `actions` (buttons) at the bottom. It takes focus when it
/// opens so the keyboard and screen readers land inside it; closing sets
/// `open` to false.
#[component]
pub fn Modal(
    open: RwSignal<bool>,
    #[prop(into)] title: String,
    #[prop(optional, into)] actions: Option<ViewFn>,
    children: ChildrenFn,
) -> impl IntoView {
    let dialog = NodeRef::<html::Div>::new();
    Effect::new(move || {
        if let Some(dialog) = dialog.get() {
            // Focus can only fail on a detached element; nothing to do then.
            let _ = dialog.focus();
        }
    });
    let title = StoredValue::new(title);
    let actions = StoredValue::new(actions);
    let children = StoredValue::new(children);
    view! {
        <Show when=move || open.get()>
            <div
                class="modal-scrim"
                on:click=move |_| open.set(false)
            >
                <div
                    class="modal"
                    role="dialog"
                    aria-modal="true"
                    aria-labelledby="modal-title"
                    tabindex="-1"
                    node_ref=dialog
                    on:click=|event| event.stop_propagation()
                    on:keydown=move |event| {
                        if event.key() == "Escape" {
                            open.set(false);
                        }
                    }
                >
                    <header class="modal-header">
                        <h2 id="modal-title">{title.get_value()}</h2>
                    </header>
                    <div class="modal-body">{children.with_value(|children| children())}</div>
                    {actions.with_value(|actions| {
                        actions.clone().map(|actions| view! { <footer class="modal-actions">{actions.run()}</footer> })
                    })}
                </div>
            </div>
        </Show>
    }
}
