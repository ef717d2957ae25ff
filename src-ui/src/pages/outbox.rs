//! The outbox as people see it: what was done on this device and where each item is on
//! its way to the company (saved, sent, applied, refused with the reason). Refreshes
//! itself while shown, since the sync works in the background. Also moving the items not
//! yet applied to another device of the same account, through an encrypted file.

use canopy_core::ipc::{OutboxItemView, OutboxStateView};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::action::submit;
use crate::api::{self, ApiError};
use crate::components::badge::{Badge, Tone};
use crate::components::button::{Button, ButtonVariant};
use crate::components::callout::Callout;
use crate::components::card::Card;
use crate::components::problem::{Problem, maybe_problem};
use crate::components::states::{EmptyState, ErrorState};
use crate::components::text_field::TextField;
use crate::format::local_time;
use canopy_core::ipc::{OutboxExportView, OutboxFileView, OutboxImportView};

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

/// The shortest passphrase an export takes (the shell's rule; checked here first so the
/// field says so at once).
const MIN_PASSPHRASE: usize = 12;

/// Moving the outbox to another device: export what is not applied yet to an encrypted
/// file, or import such a file from another device of the same account.
#[component]
pub fn OutboxTransfer() -> impl IntoView {
    view! {
        <div class="transfer-grid" data-testid="outbox-transfer">
            <ExportCard />
            <ImportCard />
        </div>
    }
}

/// "Export pending items": a passphrase twice, then where the file went.
#[component]
fn ExportCard() -> impl IntoView {
    let passphrase = RwSignal::new(String::new());
    let repeat = RwSignal::new(String::new());
    let short = RwSignal::new(None::<String>);
    let mismatch = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let done = RwSignal::new(None::<OutboxExportView>);
    let on_submit = move |event: SubmitEvent| {
        event.prevent_default();
        done.set(None);
        let (p, r) = (passphrase.get(), repeat.get());
        short.set(
            (p.chars().count() < MIN_PASSPHRASE)
                .then(|| format!("Use at least {MIN_PASSPHRASE} characters.")),
        );
        mismatch.set((p != r).then(|| "The two passphrases are not the same.".to_owned()));
        if short.get_untracked().is_some() || mismatch.get_untracked().is_some() {
            return;
        }
        submit(
            busy,
            error,
            move || async move { api::outbox::export_outbox(&p, &r).await },
            move |view| {
                passphrase.set(String::new());
                repeat.set(String::new());
                done.set(Some(view));
            },
        );
    };
    view! {
        <Card
            title="Export pending items"
            subtitle="For when this device can't sync: what the company hasn't confirmed yet, in a file only your passphrase opens."
            test_id="outbox-export"
        >
            <form class="form" on:submit=on_submit novalidate>
                <TextField
                    id="outbox-export-passphrase"
                    label="Passphrase for the file"
                    value=passphrase
                    input_type="password"
                    autocomplete="new-password"
                    hint=format!("At least {MIN_PASSPHRASE} characters. You type it again on the other device; nobody can recover it.")
                    error=Signal::derive(move || short.get())
                    required=true
                />
                <TextField
                    id="outbox-export-repeat"
                    label="The passphrase again"
                    value=repeat
                    input_type="password"
                    autocomplete="new-password"
                    error=Signal::derive(move || mismatch.get())
                    required=true
                />
                {move || maybe_problem(error.get())}
                {move || done.get().map(|d| view! {
                    <Callout title=format!("{} exported", items_text(d.items)) test_id="outbox-export-done">
                        <p>"Saved to "<span class="mono transfer-path" data-testid="outbox-export-path">{d.path}</span></p>
                        <p>"Copy it to the Downloads folder of your other device, and import it there with this passphrase. The items stay here too: the company applies each one once."</p>
                    </Callout>
                })}
                <div class="form-actions">
                    <Button submit=true loading=busy test_id="outbox-export-submit">"Export pending items"</Button>
                </div>
            </form>
        </Card>
    }
}

/// "Import from another device": one of the outbox files in the Downloads folder, its
/// passphrase, then how many items were added.
#[component]
fn ImportCard() -> impl IntoView {
    let files = RwSignal::new(None::<Result<Vec<OutboxFileView>, ApiError>>);
    let chosen = RwSignal::new(String::new());
    let passphrase = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let done = RwSignal::new(None::<OutboxImportView>);
    let reload = move || {
        spawn_local(async move {
            let fresh = api::outbox::outbox_files().await;
            if let Ok(list) = &fresh
                && !list.iter().any(|f| f.name == chosen.get_untracked())
            {
                chosen.set(list.first().map(|f| f.name.clone()).unwrap_or_default());
            }
            files.set(Some(fresh));
        });
    };
    reload();
    let on_submit = move |event: SubmitEvent| {
        event.prevent_default();
        done.set(None);
        let (name, p) = (chosen.get(), passphrase.get());
        if name.is_empty() {
            return;
        }
        submit(
            busy,
            error,
            move || async move { api::outbox::import_outbox(&name, &p).await },
            move |view| {
                passphrase.set(String::new());
                done.set(Some(view));
            },
        );
    };
    let picker = move || {
        match files.get() {
        None => view! { <p class="muted">"Looking in your Downloads folder…"</p> }.into_any(),
        Some(Err(problem)) => view! { <Problem error=problem /> }.into_any(),
        Some(Ok(list)) if list.is_empty() => view! {
            <p class="muted" data-testid="outbox-import-none">
                "No outbox file in your Downloads folder. Copy the file exported on your other device (its name ends in .canopy-outbox) there, then refresh the list."
            </p>
        }
        .into_any(),
        // Radio buttons rather than a select: a file name is long, and a select can't wrap
        // it (nor stay within a narrow card); arrow keys move between them.
        Some(Ok(list)) => view! {
            <fieldset class="transfer-files">
                <legend class="field-label">"File"</legend>
                {list
                    .into_iter()
                    .map(|f| {
                        let name = f.name.clone();
                        let checked = f.name == chosen.get_untracked();
                        view! {
                            <label class="transfer-file">
                                <input
                                    type="radio"
                                    name="outbox-import-file"
                                    value=f.name.clone()
                                    checked=checked
                                    data-testid="outbox-import-file"
                                    on:change=move |_| chosen.set(name.clone())
                                />
                                <span class="transfer-file-text">
                                    <span class="transfer-file-name">{f.name}</span>
                                    {f.modified.map(|at| view! { <span class="muted">{local_time(&at)}</span> })}
                                </span>
                            </label>
                        }
                    })
                    .collect_view()}
            </fieldset>
        }
        .into_any(),
    }
    };
    let no_file = Signal::derive(move || chosen.with(String::is_empty));
    view! {
        <Card
            title="Import from another device"
            subtitle="Items exported on another of your devices, sent from this one. Items already here are skipped."
            test_id="outbox-import"
        >
            <form class="form" on:submit=on_submit novalidate>
                {picker}
                <TextField
                    id="outbox-import-passphrase"
                    label="The file's passphrase"
                    value=passphrase
                    input_type="password"
                    autocomplete="off"
                    required=true
                />
                {move || maybe_problem(error.get())}
                {move || done.get().map(|d| view! {
                    <Callout title=format!("{} added", items_text(d.added)) test_id="outbox-import-done">
                        {if d.already_present == 0 {
                            "They are sent to the company at the next sync.".to_owned()
                        } else {
                            format!("{} already here, not added again.", items_text(d.already_present))
                        }}
                    </Callout>
                })}
                <div class="form-actions">
                    <Button submit=true loading=busy disabled=no_file test_id="outbox-import-submit">"Import"</Button>
                    <Button variant=ButtonVariant::Secondary on_click=Callback::new(move |()| reload()) test_id="outbox-import-refresh">"Refresh the list"</Button>
                </div>
            </form>
        </Card>
    }
}

/// "1 item", "3 items".
fn items_text(n: u64) -> String {
    if n == 1 {
        "1 item".to_owned()
    } else {
        format!("{n} items")
    }
}
