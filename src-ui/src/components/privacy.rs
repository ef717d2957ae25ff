//! The security center's privacy card (GDPR, SECURITY.md #23): download everything the
//! company keeps about me, and ask for it to be erased (confirmed first: an erasure ends
//! the account for good).

use canopy_core::ipc::{DataExportView, ErasureRequestView};
use leptos::prelude::*;

use crate::api::action::submit;
use crate::api::{self, ApiError};
use crate::components::button::{Button, ButtonVariant};
use crate::components::callout::Callout;
use crate::components::card::Card;
use crate::components::modal::Modal;
use crate::components::problem::maybe_problem;
use crate::format::count;

#[component]
pub fn PrivacyCard(online: Signal<bool>) -> impl IntoView {
    let exporting = RwSignal::new(false);
    let export_error = RwSignal::new(None::<ApiError>);
    let exported = RwSignal::new(None::<DataExportView>);
    let export = Callback::new(move |()| {
        submit(
            exporting,
            export_error,
            || async { api::privacy::export_my_data().await },
            move |view| exported.set(Some(view)),
        );
    });

    let confirm = RwSignal::new(false);
    let requesting = RwSignal::new(false);
    let request_error = RwSignal::new(None::<ApiError>);
    let requested = RwSignal::new(None::<ErasureRequestView>);
    let request = Callback::new(move |()| {
        submit(
            requesting,
            request_error,
            || async { api::privacy::request_erasure().await },
            move |view| {
                confirm.set(false);
                requested.set(Some(view));
            },
        );
    });
    let actions = ViewFn::from(move || {
        view! {
            <Button variant=ButtonVariant::Secondary on_click=Callback::new(move |()| confirm.set(false))>
                "Cancel"
            </Button>
            <Button variant=ButtonVariant::Danger loading=requesting on_click=request test_id="erasure-request-confirm">
                "Ask for erasure"
            </Button>
        }
    });
    let offline = Signal::derive(move || !online.get());
    view! {
        <Card
            title="Your data"
            subtitle="Download everything the company keeps about you, or ask for it to be erased."
            test_id="privacy"
        >
            <div class="privacy-actions">
                <div class="privacy-action">
                    <p>
                        "One file with your account, your member record and contact details, the \
                         consent you gave, your orders, every statement line, your devices, \
                         sign-ins, alerts and notes, in JSON that any program can read."
                    </p>
                    <Button variant=ButtonVariant::Secondary loading=exporting disabled=offline on_click=export test_id="export-my-data">
                        "Download my data"
                    </Button>
                    {move || exported.get().map(|e| view! {
                        <Callout title="Your data is saved" test_id="export-my-data-done">
                            <p>{format!(
                                "{} orders, {} statements and {} sign-ins, in",
                                count(e.orders), count(e.statements), count(e.sign_ins)
                            )}</p>
                            <p><code class="privacy-path" data-testid="export-my-data-path">{e.path.clone()}</code></p>
                            <p>"It holds your personal details: keep it somewhere safe, and delete it when you no longer need it."</p>
                        </Callout>
                    })}
                    {move || maybe_problem(export_error.get())}
                </div>
                <div class="privacy-action">
                    <p>
                        "An erasure removes your name and contact details from the company's \
                         systems and from every device, and closes your account for good. The \
                         company keeps your place in the tree and the amounts it paid, without \
                         your name, as the law on accounts requires."
                    </p>
                    {move || match requested.get() {
                        Some(r) => view! {
                            <Callout title="Your request is with the company" test_id="erasure-requested">
                                {format!(
                                    "An administrator processes it (request {}). You can go on using Canopy until then.",
                                    r.alert_id
                                )}
                            </Callout>
                        }.into_any(),
                        None => view! {
                            <Button variant=ButtonVariant::Danger disabled=offline on_click=Callback::new(move |()| confirm.set(true)) test_id="erasure-request">
                                "Ask for my data to be erased"
                            </Button>
                        }.into_any(),
                    }}
                    {move || maybe_problem(request_error.get())}
                </div>
            </div>
            {move || offline.get().then(|| view! {
                <p class="security-note" data-testid="needs-server">
                    "This needs a connection to your company's server."
                </p>
            })}
            <Modal open=confirm title="Ask for your data to be erased?" actions=actions>
                <p>
                    "Once an administrator processes it, your account is closed for good and \
                     Canopy's data is removed from your devices. Download your data first if you \
                     want to keep a copy."
                </p>
                {move || maybe_problem(request_error.get())}
            </Modal>
        </Card>
    }
}
