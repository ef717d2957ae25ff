//! The screen shown before anyone has signed in on this device: what Canopy
//! is, which company's server the device is set up for (so the person can
//! check its address and key fingerprints), how the data is protected, and
//! beside it the sign-in form the shell passes as children.

use canopy_core::ipc::ProvisioningStatus;
use leptos::prelude::*;

use crate::api::{self, ApiError};
use crate::components::badge::{Badge, Tone};
use crate::components::callout::{Callout, CalloutTone};
use crate::components::card::Card;

/// What Canopy promises, shown under the company's server.
const FEATURES: [(&str, &str); 3] = [
    (
        "Encrypted on this device",
        "Everything Canopy keeps is in an encrypted file that only your password unlocks.",
    ),
    (
        "Two-step sign-in",
        "Your password and a code from your authenticator app protect your account.",
    ),
    (
        "Works offline",
        "Enrollments and orders you take without a network are kept safe and sent later.",
    ),
];

#[component]
pub fn SignedOut(children: Children) -> impl IntoView {
    let provisioning = LocalResource::new(api::app::provisioning_status);
    view! {
        <div class="welcome-layout">
        <section class="welcome" data-testid="signed-out">
            <header class="welcome-head">
                <h1>"Welcome to Canopy"</h1>
                <p class="lead">
                    "See your downline, your volumes, your rank progress and your earnings, \
                     and enroll new people and take orders even with no network."
                </p>
            </header>
            {move || provisioning.get().map(company_server)}
            <ul class="features">
                {FEATURES
                    .into_iter()
                    .map(|(title, text)| {
                        view! {
                            <li class="feature">
                                <span class="feature-title">{title}</span>
                                <span class="feature-text">{text}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
        <div class="welcome-form">{children()}</div>
        </div>
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
            <Card
                title="Your company's server"
                subtitle="This device is set up to connect only to this server. You are not signed in yet."
                test_id="provisioning"
            >
                <dl class="facts">
                    <dt>"Company"</dt>
                    <dd><strong class="fact-company" data-testid="company">{company}</strong></dd>
                    <dt>"Server address"</dt>
                    <dd><code class="fact-value" data-testid="server-url">{server_url}</code></dd>
                    <dt>"Key fingerprints"</dt>
                    <dd>
                        <ul class="pins">
                            {pins
                                .into_iter()
                                .enumerate()
                                .map(|(index, pin)| pin_row(index, pin))
                                .collect_view()}
                        </ul>
                    </dd>
                </dl>
                <p class="check-note">
                    "Check these with your company. Canopy refuses to talk to a server \
                     whose key does not match one of these fingerprints."
                </p>
            </Card>
        }
        .into_any(),
        Ok(ProvisioningStatus::Missing) => view! {
            <Callout title="This device is not connected to your company yet" test_id="not-provisioned">
                "You are not signed in. Your company gives you a provisioning file \
                 and your sign-in details; Canopy needs both before you can sign in."
            </Callout>
        }
        .into_any(),
        Ok(ProvisioningStatus::Invalid { message }) => view! {
            <Callout
                tone=CalloutTone::Danger
                title="This device's setup file cannot be used"
                test_id="provisioning-error"
            >
                {message}
            </Callout>
        }
        .into_any(),
        Err(error) => view! {
            <Callout tone=CalloutTone::Danger title="Canopy could not read its setup">
                {error.to_string()}
            </Callout>
        }
        .into_any(),
    }
}

/// One fingerprint; the file lists the current key first, then the backups.
fn pin_row(index: usize, pin: String) -> impl IntoView {
    let (tone, role) = if index == 0 {
        (Tone::Success, "Current")
    } else {
        (Tone::Neutral, "Backup")
    };
    view! {
        <li class="pin-row">
            <code class="fact-value pin">{pin}</code>
            <Badge tone=tone>{role}</Badge>
        </li>
    }
}
