//! The screen shown before anyone has signed in on this device: what Canopy
//! is, what signing in will need, and how the data is protected.

use leptos::prelude::*;

#[component]
pub fn SignedOut() -> impl IntoView {
    view! {
        <section class="welcome" data-testid="signed-out">
            <div class="welcome-card">
                <h1>"Welcome to Canopy"</h1>
                <p class="lead">
                    "See your downline, your volumes, your rank progress and your earnings, \
                     and enroll new people and take orders even with no network."
                </p>
                <div class="notice">
                    <strong>"You are not signed in."</strong>
                    " This device has not been connected to your company's Canopy server yet. \
                     Your company gives you a provisioning file and your sign-in details."
                </div>
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
