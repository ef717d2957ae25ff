//! The steps between "not signed in" and an open cache: the password, the second factor,
//! setting up an authenticator (with its recovery codes, shown once), choosing this
//! device's password, and the offline unlock. Each card calls one command and hands the
//! session's next stage to `on_session`; the shell decides the order.

use canopy_core::ipc::{SessionView, SetUpDone};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::action::submit;
use crate::api::{self, ApiError};
use crate::components::button::Button;
use crate::components::card::Card;
use crate::components::problem::maybe_problem;
use crate::components::qr::QrCodeImage;
use crate::components::recovery_codes::RecoveryCodeList;
use crate::components::text_field::TextField;

/// Back to the start of the sign-in, whatever step it was at.
fn cancel(on_session: Callback<SessionView>) {
    spawn_local(async move {
        if let Ok(view) = api::auth::cancel_sign_in().await {
            on_session.run(view);
        }
    });
}

/// Email and password (and, on a device with a cache, this device's password, whose key
/// signs the sign-in).
#[component]
pub fn SignInCard(
    has_cache: bool,
    email: RwSignal<String>,
    on_session: Callback<SessionView>,
) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let device_password = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let on_submit = move |event: SubmitEvent| {
        event.prevent_default();
        let (e, p, d) = (email.get(), password.get(), device_password.get());
        submit(
            busy,
            error,
            move || async move {
                let device = has_cache.then_some(d.as_str());
                api::auth::sign_in(e.trim(), &p, device).await
            },
            move |view| {
                password.set(String::new());
                device_password.set(String::new());
                on_session.run(view);
            },
        );
    };
    view! {
        <Card title="Sign in" subtitle="With the email and password your company gave you." test_id="sign-in">
            <form class="form" on:submit=on_submit novalidate>
                <TextField id="sign-in-email" label="Email" value=email input_type="email" autocomplete="username" required=true />
                <TextField id="sign-in-password" label="Password" value=password input_type="password" autocomplete="current-password" required=true />
                {has_cache.then(|| view! {
                    <TextField
                        id="sign-in-device-password"
                        label="This device's password"
                        value=device_password
                        input_type="password"
                        autocomplete="off"
                        hint="The password you chose for Canopy's encrypted data on this computer."
                        required=true
                    />
                })}
                {move || maybe_problem(error.get())}
                <div class="form-actions">
                    <Button submit=true loading=busy test_id="sign-in-submit">"Continue"</Button>
                </div>
            </form>
        </Card>
    }
}

/// The second step: the authenticator's 6-digit code, or one of the recovery codes.
#[component]
pub fn CodeCard(on_session: Callback<SessionView>) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let recovery = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let on_submit = move |event: SubmitEvent| {
        event.prevent_default();
        let (c, r) = (code.get(), recovery.get());
        submit(
            busy,
            error,
            move || async move { api::auth::submit_code(c.trim(), r).await },
            move |view| {
                code.set(String::new());
                on_session.run(view);
            },
        );
    };
    let label = move || {
        if recovery.get() {
            "Recovery code"
        } else {
            "Code from your authenticator app"
        }
    };
    view! {
        <Card
            title="Two-step sign-in"
            subtitle="Open your authenticator app and type the 6-digit code it shows for Canopy."
            test_id="code"
        >
            <form class="form" on:submit=on_submit novalidate>
                {move || view! {
                    <TextField id="code-input" label=label() value=code autocomplete="one-time-code" required=true />
                }}
                {move || maybe_problem(error.get())}
                <div class="form-actions">
                    <Button submit=true loading=busy test_id="code-submit">"Sign in"</Button>
                    <button
                        type="button"
                        class="link-button"
                        data-testid="code-use-recovery"
                        on:click=move |_| {
                            recovery.update(|r| *r = !*r);
                            error.set(None);
                        }
                    >
                        {move || if recovery.get() { "Use the authenticator app" } else { "Use a recovery code" }}
                    </button>
                    <button type="button" class="link-button" on:click=move |_| cancel(on_session)>
                        "Start again"
                    </button>
                </div>
            </form>
        </Card>
    }
}

/// The account has no second factor yet: add Canopy to an authenticator app (scan the
/// code or type the key), then confirm with a code it shows.
#[component]
pub fn SetUpCard(
    secret: String,
    otpauth_uri: String,
    on_done: Callback<SetUpDone>,
    on_session: Callback<SessionView>,
) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let on_submit = move |event: SubmitEvent| {
        event.prevent_default();
        let c = code.get();
        submit(
            busy,
            error,
            move || async move { api::auth::confirm_set_up(c.trim()).await },
            move |done| on_done.run(done),
        );
    };
    view! {
        <Card
            title="Set up two-step sign-in"
            subtitle="Your account needs a second step. Add Canopy to an authenticator app on your phone."
            test_id="set-up"
        >
            <div class="set-up">
                <QrCodeImage text=otpauth_uri label="QR code to add Canopy to an authenticator app" />
                <div class="set-up-steps">
                    <ol class="steps">
                        <li>"Open your authenticator app and add an account."</li>
                        <li>"Scan this QR code, or type the key below."</li>
                        <li>"Type the 6-digit code the app shows."</li>
                    </ol>
                    <p class="field-label">"Key"</p>
                    <code class="secret" data-testid="set-up-secret">{group(&secret)}</code>
                </div>
            </div>
            <form class="form" on:submit=on_submit novalidate>
                <TextField id="set-up-code" label="Code from your authenticator app" value=code autocomplete="one-time-code" required=true />
                {move || maybe_problem(error.get())}
                <div class="form-actions">
                    <Button submit=true loading=busy test_id="set-up-submit">"Confirm"</Button>
                    <button type="button" class="link-button" on:click=move |_| cancel(on_session)>
                        "Cancel"
                    </button>
                </div>
            </form>
        </Card>
    }
}

/// The key in groups of four, as authenticator apps show and people copy it.
fn group(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The recovery codes, shown once: the person confirms they saved them, then signs in
/// again with a code from the new authenticator.
#[component]
pub fn RecoveryCodesCard(done: SetUpDone, on_continue: Callback<String>) -> impl IntoView {
    let email = done.email.clone();
    view! {
        <Card
            title="Save your recovery codes"
            subtitle="If you lose your phone, each of these codes signs you in once. Canopy shows them only now."
            test_id="recovery-codes"
        >
            <RecoveryCodeList
                codes=done.recovery_codes
                done_label="Continue to sign in"
                done_test_id="recovery-continue"
                on_done=Callback::new(move |()| on_continue.run(email.clone()))
            />
        </Card>
    }
}

/// After a first sign-in on this device: the password that encrypts Canopy's data here.
#[component]
pub fn LocalPasswordCard(min_length: usize, on_session: Callback<SessionView>) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let repeat = RwSignal::new(String::new());
    let remember = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let mismatch = RwSignal::new(None::<String>);
    let on_submit = move |event: SubmitEvent| {
        event.prevent_default();
        let (p, r) = (password.get(), repeat.get());
        if p.chars().count() < min_length {
            mismatch.set(Some(format!("Use at least {min_length} characters.")));
            return;
        }
        if p != r {
            mismatch.set(Some("The two passwords are not the same.".into()));
            return;
        }
        mismatch.set(None);
        let keep = remember.get();
        submit(
            busy,
            error,
            move || async move { api::auth::open_cache(&p, keep).await },
            move |view| {
                password.set(String::new());
                repeat.set(String::new());
                on_session.run(view);
            },
        );
    };
    view! {
        <Card
            title="Protect Canopy on this computer"
            subtitle="Your downline and your orders are kept here encrypted, so you can work offline. Choose the password that unlocks them."
            test_id="local-password"
        >
            <form class="form" on:submit=on_submit novalidate>
                <TextField
                    id="local-password"
                    label="Password for this device"
                    value=password
                    input_type="password"
                    autocomplete="new-password"
                    hint=format!("At least {min_length} characters. A passphrase of a few words is easy to remember and hard to guess.")
                    required=true
                />
                <TextField
                    id="local-password-repeat"
                    label="The same password again"
                    value=repeat
                    input_type="password"
                    autocomplete="new-password"
                    error=Signal::derive(move || mismatch.get())
                    required=true
                />
                <label class="check">
                    <input
                        type="checkbox"
                        data-testid="remember-device"
                        prop:checked=move || remember.get()
                        on:change=move |event| remember.set(event_target_checked(&event))
                    />
                    "Remember on this device: unlock with the system keychain instead of this password."
                </label>
                {move || maybe_problem(error.get())}
                <div class="form-actions">
                    <Button submit=true loading=busy test_id="local-password-submit">"Encrypt and continue"</Button>
                </div>
            </form>
        </Card>
    }
}

/// The cache is closed: this device's password opens it, with or without a network.
#[component]
pub fn UnlockCard(
    on_session: Callback<SessionView>,
    /// The person chose to sign in online instead (needed after the company's offline
    /// allowance ran out, and to pick up a changed role at once).
    on_sign_in_online: Callback<()>,
) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let on_submit = move |event: SubmitEvent| {
        event.prevent_default();
        let p = password.get();
        submit(
            busy,
            error,
            move || async move { api::auth::unlock(&p).await },
            move |view| {
                password.set(String::new());
                on_session.run(view);
            },
        );
    };
    view! {
        <Card
            title="Canopy is locked"
            subtitle="Type this device's password to open your data. No network needed."
            test_id="unlock"
        >
            <form class="form" on:submit=on_submit novalidate>
                <TextField id="unlock-password" label="This device's password" value=password input_type="password" autocomplete="current-password" required=true />
                {move || maybe_problem(error.get())}
                <div class="form-actions">
                    <Button submit=true loading=busy test_id="unlock-submit">"Unlock"</Button>
                    <button
                        type="button"
                        class="link-button"
                        data-testid="unlock-sign-in-online"
                        on:click=move |_| on_sign_in_online.run(())
                    >
                        "Sign in online instead"
                    </button>
                </div>
            </form>
        </Card>
    }
}
