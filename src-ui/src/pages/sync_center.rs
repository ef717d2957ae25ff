//! The sync center: whether this device is up to date with the company, the progress of
//! a first download (rows, rate, time left), what waits in the outbox and what the
//! company refused, a "sync now" button, and moving the outbox to another device.

use canopy_core::ipc::SyncStatusView;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::components::badge::{Badge, Tone};
use crate::components::button::Button;
use crate::components::card::Card;
use crate::components::problem::maybe_problem;
use crate::components::progress::ProgressBar;
use crate::components::security_banner::SecurityBanner;
use crate::components::states::LoadingState;
use crate::format::{count, duration, local_time};
use crate::pages::outbox::{OutboxList, OutboxTransfer};

/// How often the figures are read again while the page is shown (milliseconds).
const POLL_MS: u64 = 1_000;

#[component]
pub fn SyncCenter() -> impl IntoView {
    let status = RwSignal::new(None::<Result<SyncStatusView, ApiError>>);
    let load = move || {
        spawn_local(async move {
            let fresh = api::outbox::sync_status().await;
            if status.get_untracked().as_ref() != Some(&fresh) {
                status.set(Some(fresh));
            }
        });
    };
    load();
    if let Ok(handle) = set_interval_with_handle(load, std::time::Duration::from_millis(POLL_MS)) {
        on_cleanup(move || handle.clear());
    }
    let action_error = RwSignal::new(None::<ApiError>);
    let asked = RwSignal::new(false);
    let sync_now = Callback::new(move |()| {
        asked.set(true);
        spawn_local(async move {
            let result = api::outbox::sync_now().await;
            asked.set(false);
            action_error.set(result.err());
            load();
        });
    });
    view! {
        <section class="page" data-testid="sync-center">
            <header class="page-head page-head-row">
                <div>
                    <h1>"Sync center"</h1>
                    <p class="lead">"What this device has sent to your company, and what it is waiting for."</p>
                </div>
                <Button on_click=sync_now loading=asked test_id="sync-now">"Sync now"</Button>
            </header>
            {move || maybe_problem(action_error.get())}
            {move || match status.get() {
                None => view! { <LoadingState label="Reading the sync's state…" /> }.into_any(),
                Some(Err(problem)) => view! { <p class="field-error">{problem.to_string()}</p> }.into_any(),
                Some(Ok(s)) => summary(s).into_any(),
            }}
            <OutboxList title="Outbox" />
            <OutboxTransfer />
        </section>
    }
}

/// The state in one word and tone.
fn state_word(s: &SyncStatusView) -> (Tone, &'static str) {
    if s.security_warning {
        (Tone::Danger, "Stopped: security warning")
    } else if s.revoked {
        (Tone::Danger, "This device was revoked")
    } else if s.halted.is_some() {
        (Tone::Danger, "Stopped")
    } else if s.sign_in_needed {
        (Tone::Warning, "Sign-in needed")
    } else if s.running {
        (Tone::Info, "Syncing…")
    } else if s.offline {
        (Tone::Warning, "Offline")
    } else if s.last_success.is_some() {
        (Tone::Success, "Up to date")
    } else {
        (Tone::Neutral, "Not synced yet")
    }
}

fn summary(s: SyncStatusView) -> impl IntoView {
    let (tone, word) = state_word(&s);
    let halted = s.halted.clone().unwrap_or_default();
    let security = s.security_warning.then(move || {
        view! {
            <SecurityBanner title="Sync stopped: the server could not prove it is your company's" test_id="security-warning">
                <p>{halted}</p>
                <p>"Nothing was sent. Tell your company's support before you sync again."</p>
            </SecurityBanner>
        }
    });
    let bootstrap = s.bootstrap.clone().map(|b| {
        let value = Signal::derive(move || Some(b.rows_done as f64));
        let text = format!(
            "{} of {} members · {} a second{}",
            count(b.rows_done),
            count(b.rows_total),
            count(b.rate.round() as u64),
            b.remaining_secs
                .map(|r| format!(" · about {} left", duration(r)))
                .unwrap_or_default()
        );
        view! {
            <ProgressBar
                label="Downloading your team"
                value=value
                max=b.rows_total.max(1) as f64
                value_text=Signal::derive(move || text.clone())
            />
        }
    });
    let offline = s.offline && s.halted.is_none() && !s.security_warning;
    let problem = if s.security_warning {
        None
    } else {
        s.halted.clone().or(s.last_error.clone())
    };
    view! {
        {security}
        <Card title="Status" test_id="sync-status">
            <div class="sync-state">
                <Badge tone=tone test_id="sync-state">{word}</Badge>
                {offline.then(|| view! {
                    <span class="muted">
                        "Canopy can't reach your company's server. Your work is kept on this \
                         device and sent as soon as the connection is back."
                    </span>
                })}
            </div>
            {problem.map(|p| view! {
                <details class="sync-details">
                    <summary>"Technical details"</summary>
                    <p class="mono" data-testid="sync-problem">{p}</p>
                </details>
            })}
            {bootstrap}
            <dl class="facts sync-facts">
                <dt>"Last successful sync"</dt>
                <dd data-testid="sync-last-success">{s.last_success.as_deref().map_or_else(|| "Never".to_owned(), local_time)}</dd>
                <dt>"Next sync"</dt>
                <dd>{s.next_at.as_deref().map_or_else(|| "When you ask".to_owned(), local_time)}</dd>
                <dt>"Waiting to be sent"</dt>
                <dd data-testid="sync-pending">{s.pending}</dd>
                <dt>"Refused by the company"</dt>
                <dd data-testid="sync-rejected">{s.rejected}</dd>
            </dl>
        </Card>
    }
}

/// A first sign-in on this device: the team is downloading. Shows how far it is, how
/// fast, and what went wrong if it stopped; the screens open when it is done.
#[component]
pub fn FirstSync(#[prop(into)] status: Signal<Option<SyncStatusView>>) -> impl IntoView {
    let retry = Callback::new(move |()| {
        spawn_local(async move {
            let _ = api::outbox::sync_now().await;
        });
    });
    view! {
        <section class="page first-sync" data-testid="first-sync">
            <header class="page-head">
                <h1>"Setting up this device"</h1>
                <p class="lead">
                    "Canopy is downloading your team into its encrypted store, so it works \
                     offline from now on. This happens once."
                </p>
            </header>
            {move || match status.get() {
                None => view! { <LoadingState label="Connecting to your company…" /> }.into_any(),
                Some(s) => {
                    let stuck = s.halted.is_some() || (s.offline && !s.running);
                    view! {
                        {summary(s)}
                        {stuck.then(|| view! {
                            <div class="form-actions"><Button on_click=retry>"Try again"</Button></div>
                        })}
                    }
                    .into_any()
                }
            }}
        </section>
    }
}
