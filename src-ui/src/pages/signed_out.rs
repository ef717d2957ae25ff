//! The screen shown before anyone has signed in on this device: what Canopy
//! is, which company's server the device is set up for (so the person can
//! check its address and key fingerprints), and how the data is protected.

use canopy_core::ipc::ProvisioningStatus;
use leptos::prelude::*;

use crate::api::{self, ApiError};

#[component]
pub fn SignedOut() -> impl IntoView {
    let provisioning = LocalResource::new(api::app::provisioning_status);
    view! {
        <section class="welcome" data-testid="signed-out">
            <div class="welcome-card">
                <h1>"Welcome to Canopy"</h1>
                <p class="lead">
                    "See your downline, your volumes, your rank progress and your earnings, \
                     and enroll new people and take orders even with no network."
                </p>
                {move || provisioning.get().map(company_server)}
                <ul class="checklist">
                    <li>
                        <span class="check-title">"Encrypted on this device"</span>
                        <span class="check-text">
                            "Everything Canopy keeps is in an encrypted file that only your password unlocks."
                        </span>
                    </li>
                    <li>
                        <span class="check-title">"Two-step sign-in"</span>
                        <span class="check-text">
                            "Your password and a code from your authenticator app protect your account."
                        </span>
                    </li>
                    <li>
                        <span class="check-title">"Works offline"</span>
                        <span class="check-text">
                            "Enrollments and orders you take without a network are kept safe and sent later."
                        </span>
                    </li>
                </ul>
            </div>
        </section>
    }
}

/// The company's server as the provisioning file describes it.
fn company_server(status: Result<ProvisioningStatus, ApiError>) -> AnyView {
    match status {
        Ok(ProvisioningStatus::Loaded {
            company,
            server_url,
            pins,
        }) => view! {
            <div class="notice" data-testid="provisioning">
                <p class="notice-title">
                    "This device is set up for "
                    <strong data-testid="company">{company}</strong>
                    ". You are not signed in yet."
                </p>
                <dl class="facts">
                    <dt>"Server"</dt>
                    <dd><code data-testid="server-url">{server_url}</code></dd>
                    <dt>"Key fingerprints"</dt>
                    <dd>
                        <ul class="pins">
                            {pins
                                .into_iter()
                                .enumerate()
                                .map(|(index, pin)| {
                                    let role = if index == 0 { "current" } else { "backup" };
                                    view! {
                                        <li>
                                            <code class="pin">{pin}</code>
                                            <span class="muted">{format!(" {role}")}</span>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    </dd>
                </dl>
                <p class="notice-foot">
                    "Check these with your company. Canopy refuses to talk to a server \
                     whose key does not match one of them."
                </p>
            </div>
        }
        .into_any(),
        Ok(ProvisioningStatus::Missing) => view! {
            <div class="notice" data-testid="not-provisioned">
                <strong>"You are not signed in."</strong>
                " This device has not been connected to your company's Canopy server yet. \
                 Your company gives you a provisioning file and your sign-in details."
            </div>
        }
        .into_any(),
        Ok(ProvisioningStatus::Invalid { message }) => view! {
            <div class="notice notice-error" data-testid="provisioning-error">
                <strong>"This device's setup file cannot be used."</strong>
                " "
                {message}
            </div>
        }
        .into_any(),
        Err(error) => view! {
            <div class="notice notice-error">{error.to_string()}</div>
        }
        .into_any(),
    }
}
