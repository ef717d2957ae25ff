//! The outbox as people see it: what was done on this device and where each item is on
//! its way to the company (saved, sent, applied, refused with the reason). Refreshes
//! itself while shown, since the sync works in the background.

use canopy_core::ipc::{OutboxItemView, OutboxStateView};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::components::badge::{Badge, Tone};
use crate::components::button::{Button, ButtonVariant};
use crate::components::card::Card;
use crate::components::problem::maybe_problem;
use crate::components::states::{EmptyState, ErrorState};
use crate::format::local_time;

/// How often the list asks again while it is on screen (milliseconds).
const POLL_MS: u64 = 2_000;

/// The outbox's items of `kind` ("Enrollment"), or all of them; `refresh` changing
/// reloads it at once (after the page saved something).
#[component]
pub fn OutboxList(
    #[prop(optional)] kind: Option<&'static str>,
    title: &'static str,
    #[prop(optional, into)] refresh: Signal<u32>,
    /// Offered on a refused item: open it in the form to fix and resend.
    #[prop(optional, into)]
    on_fix: Option<Callback<i64>>,
) -> impl IntoView {
    let items = RwSignal::new(None::<Result<Vec<OutboxItemView>, ApiError>>);
    let load = move || {
        spawn_local(async move {
            let result = api::outbox::outbox_items().await.map(|all| {
                all.into_iter()
                    .filter(|item| kind.is_none_or(|k| item.kind == k))
                    .rev()
                    .collect::<Vec<_>>()
            });
            if items.get_untracked().as_ref() != Some(&result) {
                items.set(Some(result));
            }
        });
    };
    Effect::new(move |_| {
        refresh.track();
        load();
    });
    if let Ok(handle) = set_interval_with_handle(load, std::time::Duration::from_millis(POLL_MS)) {
        on_cleanup(move || handle.clear());
    }
    let action_error = RwSignal::new(None::<ApiError>);
    let discard = move |seq: i64| {
        spawn_local(async move {
            match api::outbox::discard_outbox_item(seq).await {
                Ok(()) => {
                    action_error.set(None);
                    load();
                }
                Err(problem) => action_error.set(Some(problem)),
            }
        });
    };
    let row = move |item: OutboxItemView| {
        let (tone, word) = match item.state {
            OutboxStateView::Pending => (Tone::Warning, "Pending"),
            // Sent, but the answer never came back (the network went): still pending
            // for the person; it is sent again, and the server applies it once.
            OutboxStateView::Sending => (Tone::Warning, "Pending"),
            OutboxStateView::Applied => (Tone::Success, "Applied"),
            OutboxStateView::Rejected => (Tone::Danger, "Refused"),
        };
        let seq = item.seq;
        let rejected = item.state == OutboxStateView::Rejected;
        let detail = match item.state {
            OutboxStateView::Rejected => item.last_error.clone(),
            OutboxStateView::Applied => item
                .server_ref
                .clone()
                .map(|r| format!("Confirmed by the company: {r}")),
            OutboxStateView::Sending => {
                Some("Sent; waiting for the company to confirm it.".to_owned())
            }
            OutboxStateView::Pending => item
                .last_error
                .clone()
                .map(|e| format!("Will try again: {e}")),
        };
        view! {
            <li class="outbox-item" data-testid="outbox-item" data-state=format!("{:?}", item.state).to_lowercase()>
                <div class="outbox-main">
                    <span class="outbox-summary">{item.summary}</span>
                    <span class="outbox-meta">{format!("{} · saved {}", item.kind, local_time(&item.created_at))}</span>
                    {detail.map(|d| view! {
                        <span class=if rejected { "outbox-reason outbox-reason-refused" } else { "outbox-reason" }>{d}</span>
                    })}
                </div>
                <div class="outbox-end">
                    <Badge tone=tone test_id="outbox-state">{word}</Badge>
                    {(rejected && on_fix.is_some()).then(|| view! {
                        <Button
                            variant=ButtonVariant::Secondary
                            on_click=Callback::new(move |()| { if let Some(fix) = on_fix { fix.run(seq) } })
                            test_id="outbox-fix"
                        >
                            "Fix and resend"
                        </Button>
                    })}
                    {rejected.then(|| view! {
                        <Button variant=ButtonVariant::Danger on_click=Callback::new(move |()| discard(seq))>"Discard"</Button>
                    })}
                </div>
            </li>
        }
    };
    view! {
        <Card title=title test_id="outbox">
            {move || maybe_problem(action_error.get())}
            {move || match items.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(problem)) => view! {
                    <ErrorState title="The outbox can't be read" message=problem.to_string() />
                }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! {
                    <EmptyState title="Nothing here yet" text="What you do on this device appears here until the company confirms it." />
                }.into_any(),
                Some(Ok(list)) => view! {
                    <ul class="outbox-list">{list.into_iter().map(row).collect_view()}</ul>
                }.into_any(),
            }}
        </Card>
    }
}
