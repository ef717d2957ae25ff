//! The updates card of the security center: the running version, "Check for updates",
//! and the answer — up to date, a newer version to install, or a plain security warning
//! when a release's signature does not hold (nothing is installed then).

use canopy_core::ipc::{CommandError, UpdateCheck, UpdateInstalled};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::components::button::{Button, ButtonVariant};
use crate::components::callout::{Callout, CalloutTone};
use crate::components::card::Card;
use crate::components::problem::Problem;
use crate::components::security_banner::SecurityBanner;

/// What the card last heard.
#[derive(Debug, Clone)]
enum Outcome {
    Checked(UpdateCheck),
    Installed(UpdateInstalled),
    Failed(ApiError),
}

#[component]
pub fn UpdatesCard() -> impl IntoView {
    let version = RwSignal::new(None::<String>);
    spawn_local(async move {
        if let Ok(info) = api::app::app_info().await {
            version.set(Some(info.version));
        }
    });
    let outcome = RwSignal::new(None::<Outcome>);
    let busy = RwSignal::new(false);
    let check = Callback::new(move |()| {
        busy.set(true);
        spawn_local(async move {
            let result = api::updates::check_for_update().await;
            busy.set(false);
            outcome.set(Some(match result {
                Ok(check) => Outcome::Checked(check),
                Err(problem) => Outcome::Failed(problem),
            }));
        });
    });
    let install = Callback::new(move |()| {
        busy.set(true);
        spawn_local(async move {
            let result = api::updates::install_update().await;
            busy.set(false);
            outcome.set(Some(match result {
                Ok(done) => Outcome::Installed(done),
                Err(problem) => Outcome::Failed(problem),
            }));
        });
    });
    view! {
        <Card
            title="Updates"
            subtitle="Canopy installs only releases signed by your company's release key."
            test_id="updates"
        >
            <div class="stack">
                <p data-testid="updates-current">
                    "This is Canopy "
                    {move || version.get().unwrap_or_else(|| "…".into())}
                    "."
                </p>
                <div class="row">
                    <Button
                        variant=ButtonVariant::Secondary
                        loading=busy
                        on_click=check
                        test_id="updates-check"
                    >
                        "Check for updates"
                    </Button>
                </div>
                {move || outcome.get().map(|o| answer(o, busy, install))}
            </div>
        </Card>
    }
}

fn answer(outcome: Outcome, busy: RwSignal<bool>, install: Callback<()>) -> AnyView {
    match outcome {
        Outcome::Checked(UpdateCheck::UpToDate { current }) => view! {
            <Callout title="Canopy is up to date" test_id="updates-up-to-date">
                <p>{format!("Version {current} is the newest your company has published.")}</p>
            </Callout>
        }
        .into_any(),
        Outcome::Checked(UpdateCheck::Available {
            version, notes, ..
        }) => view! {
            <Callout title=format!("Canopy {version} is available") test_id="updates-available">
                {(!notes.is_empty()).then(|| view! { <p>{notes}</p> })}
                <p>"Its signature is checked before anything is installed."</p>
                <div class="row">
                    <Button loading=busy on_click=install test_id="updates-install">
                        "Install and restart later"
                    </Button>
                </div>
            </Callout>
        }
        .into_any(),
        Outcome::Installed(done) => view! {
            <Callout title=format!("Canopy {} is installed", done.version) test_id="updates-installed">
                <p>"Its signature was verified. Restart Canopy to use the new version."</p>
            </Callout>
        }
        .into_any(),
        Outcome::Failed(ApiError::Command(CommandError::Security(message))) => view! {
            <SecurityBanner title="Update refused to protect you" test_id="updates-security">
                <p>{message}</p>
            </SecurityBanner>
        }
        .into_any(),
        Outcome::Failed(ApiError::Command(CommandError::Invalid(message))) => view! {
            <Callout tone=CalloutTone::Info title="Updates are not available" test_id="updates-unavailable">
                <p>{message}</p>
            </Callout>
        }
        .into_any(),
        Outcome::Failed(problem) => view! { <Problem error=problem /> }.into_any(),
    }
}
