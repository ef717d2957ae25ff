//! How a failed command is shown: each kind of failure has its own look and words, so a
//! pin mismatch reads as a security warning, a throttle says how long to wait, and being
//! offline is not mistaken for a wrong password.

use canopy_core::ipc::CommandError;
use leptos::prelude::*;

use super::callout::{Callout, CalloutTone};
use super::security_banner::SecurityBanner;
use crate::api::ApiError;

/// The failure `error`, shown in the way its kind asks for.
#[component]
pub fn Problem(error: ApiError) -> impl IntoView {
    match error {
        ApiError::Command(CommandError::Security(message)) => view! {
            <SecurityBanner
                title="Stopped: this server could not prove it is your company's"
                test_id="security-warning"
            >
                <p>{message}</p>
                <p>
                    "Don't sign in on this network. Tell your company's support, who can \
                     check the server's key fingerprints with you."
                </p>
            </SecurityBanner>
        }
        .into_any(),
        ApiError::Command(CommandError::Throttled(message)) => view! {
            <Callout tone=CalloutTone::Danger title="Too many attempts" test_id="throttled">
                {message}
            </Callout>
        }
        .into_any(),
        ApiError::Command(CommandError::Offline(message)) => view! {
            <Callout title="Can't reach your company's server" test_id="offline">
                {message}
            </Callout>
        }
        .into_any(),
        ApiError::Command(CommandError::Refused(message) | CommandError::Invalid(message)) => {
            view! {
                <Callout tone=CalloutTone::Danger title="That didn't work" test_id="form-error">
                    {message}
                </Callout>
            }
            .into_any()
        }
        ApiError::Command(CommandError::Locked) => view! {
            <Callout title="Canopy is locked" test_id="locked">
                "Unlock it with this device's password to go on."
            </Callout>
        }
        .into_any(),
        other => view! {
            <Callout tone=CalloutTone::Danger title="Something went wrong" test_id="form-error">
                {other.to_string()}
            </Callout>
        }
        .into_any(),
    }
}

/// The problem in `error`, if any (for a form's slot under its fields).
pub fn maybe_problem(error: Option<ApiError>) -> Option<impl IntoView> {
    error.map(|error| view! { <Problem error=error /> })
}
