//! The security center: where the account is signed in (revoke a device), recent sign-ins
//! and alerts, new recovery codes and a new account password (each behind a code from the
//! authenticator), and this device's own password and auto-lock, which work offline.

use canopy_core::ipc::{
    AccountActivityView, AlertView, AutoLockView, DeviceView, MIN_DEVICE_PASSWORD,
    RecoveryCodesView, SecurityView, SignInView,
};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::action::submit;
use crate::api::{self, ApiError};
use crate::components::badge::{Badge, Tone};
use crate::components::button::{Button, ButtonVariant};
use crate::components::callout::Callout;
use crate::components::card::Card;
use crate::components::modal::Modal;
use crate::components::privacy::PrivacyCard;
use crate::components::problem::{Problem, maybe_problem};
use crate::components::recovery_codes::RecoveryCodeList;
use crate::components::states::{EmptyState, Skeleton};
use crate::components::text_field::TextField;
use crate::format::{count, local_time};

/// The server's part of the page: not there yet, or the activity, or why not.
type Activity = Option<Result<AccountActivityView, ApiError>>;

#[component]
pub fn SecurityCenter() -> impl IntoView {
    let overview = RwSignal::new(None::<Result<SecurityView, ApiError>>);
    let load = move || {
        spawn_local(async move {
            overview.set(Some(api::security::security_overview().await));
        });
    };
    load();
    let reload = Callback::new(move |()| load());
    let activity = Signal::derive(move || {
        overview.with(|o| match o {
            None => None,
            Some(Err(problem)) => Some(Err(problem.clone())),
            Some(Ok(view)) => Some(view.activity.clone().map_err(ApiError::Command)),
        })
    });
    let online = Signal::derive(move || {
        overview.with(|o| {
            matches!(
                o,
                Some(Ok(SecurityView {
                    activity: Ok(_),
                    ..
                }))
            )
        })
    });
    let auto_lock = Signal::derive(move || {
        overview.with(|o| match o {
            Some(Ok(view)) => Some(view.auto_lock.clone()),
            _ => None,
        })
    });
    let on_auto_lock = Callback::new(move |fresh: AutoLockView| {
        overview.update(|o| {
            if let Some(Ok(view)) = o {
                view.auto_lock = fresh;
            }
        });
    });
    view! {
        <section class="page security" data-testid="security">
            <header class="page-head page-head-row">
                <div>
                    <h1>"Security"</h1>
                    <p class="lead">
                        "Where your account is signed in, what happened lately, and how Canopy \
                         protects your data on this computer."
                    </p>
                </div>
                <Button variant=ButtonVariant::Secondary on_click=reload test_id="security-refresh">
                    "Refresh"
                </Button>
            </header>
            <DevicesCard activity=activity reload=reload />
            <SignInsCard activity=activity />
            <AlertsCard activity=activity />
            <PrivacyCard online=online />
            <div class="security-grid">
                <RecoveryCard online=online />
                <AccountPasswordCard online=online />
                <DevicePasswordCard />
                <AutoLockCard auto_lock=auto_lock on_saved=on_auto_lock />
                <crate::components::updates::UpdatesCard />
            </div>
        </section>
    }
}

/// What a card of the server's part shows while it loads or when it can't.
fn not_loaded(activity: &Activity) -> Option<AnyView> {
    match activity {
        None => Some(view! { <Skeleton lines=3 /> }.into_any()),
        Some(Err(problem)) => Some(view! { <Problem error=problem.clone() /> }.into_any()),
        Some(Ok(_)) => None,
    }
}

#[component]
fn DevicesCard(activity: Signal<Activity>, reload: Callback<()>) -> impl IntoView {
    let confirm = RwSignal::new(false);
    let target = RwSignal::new(None::<DeviceView>);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let ask = Callback::new(move |device: DeviceView| {
        error.set(None);
        target.set(Some(device));
        confirm.set(true);
    });
    let revoke = Callback::new(move |()| {
        let Some(device) = target.get_untracked() else {
            return;
        };
        busy.set(true);
        spawn_local(async move {
            let result = api::security::revoke_device(device.id).await;
            busy.set(false);
            confirm.set(false);
            match result {
                Ok(()) => reload.run(()),
                Err(problem) => error.set(Some(problem)),
            }
        });
    });
    let actions = ViewFn::from(move || {
        view! {
            <Button variant=ButtonVariant::Secondary on_click=Callback::new(move |()| confirm.set(false))>
                "Keep it"
            </Button>
            <Button variant=ButtonVariant::Danger loading=busy on_click=revoke test_id="device-revoke-confirm">
                "Revoke"
            </Button>
        }
    });
    view! {
        <Card
            title="Your devices"
            subtitle="Where your account is signed in. Revoke one you lost or no longer use: it is signed out at once, and Canopy's data on it is removed when it next connects."
            test_id="security-devices"
        >
            {move || maybe_problem(error.get())}
            {move || {
                let activity = activity.get();
                not_loaded(&activity).unwrap_or_else(|| {
                    let devices = activity.and_then(Result::ok).map(|a| a.devices).unwrap_or_default();
                    devices_table(devices, ask).into_any()
                })
            }}
            <Modal open=confirm title="Revoke this device?" actions=actions>
                <p>
                    {move || target.get().map(|d| format!(
                        "“{}” is signed out at once. Canopy's data on it is removed the next \
                         time it connects, and using it again needs your password and a code.",
                        d.name
                    ))}
                </p>
            </Modal>
        </Card>
    }
}

fn devices_table(devices: Vec<DeviceView>, ask: Callback<DeviceView>) -> impl IntoView {
    if devices.is_empty() {
        return view! {
            <EmptyState title="No devices" text="The devices your account signs in on appear here." />
        }
        .into_any();
    }
    let row = move |d: DeviceView| {
        let (tone, word) = if d.revoked_at.is_some() {
            (Tone::Neutral, "Revoked")
        } else if d.this_device {
            (Tone::Info, "This device")
        } else {
            (Tone::Success, "Active")
        };
        let action = if d.this_device {
            view! {
                <span class="security-note">"To stop using Canopy here, lock it from the menu."</span>
            }
            .into_any()
        } else if let Some(at) = &d.revoked_at {
            view! { <span class="security-note">{format!("Revoked {}", local_time(at))}</span> }
                .into_any()
        } else {
            let device = d.clone();
            view! {
                <Button variant=ButtonVariant::Danger on_click=Callback::new(move |()| ask.run(device.clone())) test_id="device-revoke">
                    "Revoke"
                </Button>
            }
            .into_any()
        };
        view! {
            <tr data-testid="device-row" data-this-device=d.this_device.to_string() data-revoked=d.revoked_at.is_some().to_string()>
                <td>
                    <span class="cell-name">{d.name.clone()}</span>
                    <span class="cell-sub">{format!("Device {}", d.id)}</span>
                </td>
                <td><Badge tone=tone>{word}</Badge></td>
                <td>{local_time(&d.created_at)}</td>
                <td>{d.last_seen_at.as_deref().map_or_else(|| "—".to_owned(), local_time)}</td>
                <td class="security-action">{action}</td>
            </tr>
        }
    };
    view! {
        <table class="table security-table">
            <thead>
                <tr>
                    <th scope="col">"Device"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"First signed in"</th>
                    <th scope="col">"Last seen"</th>
                    <th scope="col"><span class="visually-hidden">"Action"</span></th>
                </tr>
            </thead>
            <tbody>{devices.into_iter().map(row).collect_view()}</tbody>
        </table>
    }
    .into_any()
}

#[component]
fn SignInsCard(activity: Signal<Activity>) -> impl IntoView {
    view! {
        <Card
            title="Recent sign-ins"
            subtitle="Every attempt to sign in to your account, newest first. If one is not yours, change your password and revoke the device."
            test_id="security-sign-ins"
        >
            {move || {
                let activity = activity.get();
                not_loaded(&activity).unwrap_or_else(|| {
                    let sign_ins = activity.and_then(Result::ok).map(|a| a.sign_ins).unwrap_or_default();
                    sign_ins_table(sign_ins).into_any()
                })
            }}
        </Card>
    }
}

fn sign_ins_table(sign_ins: Vec<SignInView>) -> impl IntoView {
    if sign_ins.is_empty() {
        return view! { <EmptyState title="No sign-ins yet" text="Sign-ins to your account appear here." /> }.into_any();
    }
    let total = sign_ins.len() as u64;
    let row = |s: SignInView| {
        let tone = if s.succeeded {
            Tone::Success
        } else {
            Tone::Danger
        };
        let device = s.device_name.clone().unwrap_or_else(|| match s.device_id {
            Some(id) => format!("Device {id}"),
            None => "Unknown device".to_owned(),
        });
        view! {
            <tr data-testid="sign-in-row" data-outcome=s.outcome.clone() data-new-device=s.new_device.to_string()>
                <td>{local_time(&s.at)}</td>
                <td><Badge tone=tone>{s.outcome_text.clone()}</Badge></td>
                <td><code class="security-ip">{s.ip.clone()}</code></td>
                <td>
                    <span class="security-device">
                        {device}
                        {s.new_device.then(|| view! { <Badge tone=Tone::Warning test_id="sign-in-new-device">"New device"</Badge> })}
                        {s.this_device.then(|| view! { <Badge tone=Tone::Info>"This device"</Badge> })}
                    </span>
                </td>
            </tr>
        }
    };
    view! {
        <p class="security-count muted">{format!("{} attempt{}", count(total), if total == 1 { "" } else { "s" })}</p>
        <table class="table security-table">
            <thead>
                <tr>
                    <th scope="col">"When"</th>
                    <th scope="col">"Result"</th>
                    <th scope="col">"Network address"</th>
                    <th scope="col">"Device"</th>
                </tr>
            </thead>
            <tbody>{sign_ins.into_iter().map(row).collect_view()}</tbody>
        </table>
    }
    .into_any()
}

#[component]
fn AlertsCard(activity: Signal<Activity>) -> impl IntoView {
    view! {
        <Card
            title="Alerts"
            subtitle="What your company's server noticed about your account: sign-ins from a new device or network."
            test_id="security-alerts"
        >
            {move || {
                let activity = activity.get();
                not_loaded(&activity).unwrap_or_else(|| {
                    let alerts = activity.and_then(Result::ok).map(|a| a.alerts).unwrap_or_default();
                    alerts_list(alerts).into_any()
                })
            }}
        </Card>
    }
}

fn alerts_list(alerts: Vec<AlertView>) -> impl IntoView {
    if alerts.is_empty() {
        return view! {
            <EmptyState title="No alerts" text="Canopy tells you here when your account is used from a new device or network." />
        }
        .into_any();
    }
    let row = |a: AlertView| {
        let (tone, word) = match a.severity.as_str() {
            "critical" => (Tone::Danger, "Critical"),
            "warning" => (Tone::Warning, "Warning"),
            _ => (Tone::Info, "Info"),
        };
        let state = match a.state.as_str() {
            "acknowledged" => Some("Being looked into"),
            "resolved" => Some("Resolved"),
            _ => None,
        };
        view! {
            <li class="security-alert" data-testid="alert-row" data-kind=a.kind.clone()>
                <Badge tone=tone>{word}</Badge>
                <div class="security-alert-text">
                    <span class="cell-name">{a.title.clone()}</span>
                    {a.details.clone().map(|d| view! { <span class="cell-sub">{d}</span> })}
                </div>
                <div class="security-alert-end">
                    {state.map(|s| view! { <Badge tone=Tone::Neutral>{s}</Badge> })}
                    <span class="security-note">{local_time(&a.created_at)}</span>
                </div>
            </li>
        }
    };
    view! { <ul class="security-alerts">{alerts.into_iter().map(row).collect_view()}</ul> }
        .into_any()
}

/// A hint under the server's forms when the server can't be reached.
fn needs_server(online: Signal<bool>) -> impl IntoView {
    move || {
        (!online.get()).then(|| {
            view! {
                <p class="security-note" data-testid="needs-server">
                    "This needs a connection to your company's server."
                </p>
            }
        })
    }
}

/// New recovery codes behind a code from the authenticator, shown once.
#[component]
fn RecoveryCard(online: Signal<bool>) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let fresh = RwSignal::new(None::<RecoveryCodesView>);
    let on_submit = move |event: SubmitEvent| {
        event.prevent_default();
        let c = code.get();
        submit(
            busy,
            error,
            move || async move { api::security::regenerate_recovery_codes(&c).await },
            move |codes| {
                code.set(String::new());
                fresh.set(Some(codes));
            },
        );
    };
    let form = move || {
        view! {
            <form class="form" on:submit=on_submit novalidate>
                <TextField
                    id="recovery-regenerate-code"
                    label="Code from your authenticator app"
                    value=code
                    autocomplete="one-time-code"
                    hint="Or one of your current recovery codes. New codes replace all the old ones."
                    required=true
                />
                {needs_server(online)}
                {move || maybe_problem(error.get())}
                <div class="form-actions">
                    <Button submit=true loading=busy test_id="recovery-regenerate-submit">"Make new codes"</Button>
                </div>
            </form>
        }
    };
    let shown = move |codes: RecoveryCodesView| {
        view! {
            <Callout title="Save your new recovery codes">{codes.detail.clone()}</Callout>
            <RecoveryCodeList
                codes=codes.codes
                done_label="Done"
                done_test_id="recovery-done"
                on_done=Callback::new(move |()| fresh.set(None))
            />
        }
    };
    view! {
        <Card
            title="Recovery codes"
            subtitle="Each recovery code signs you in once if you lose your phone. Make new ones if you used some or think someone saw them."
            test_id="recovery-regenerate"
        >
            {move || match fresh.get() {
                Some(codes) => shown(codes).into_any(),
                None => form().into_any(),
            }}
        </Card>
    }
}

/// The two password fields agree and are long enough; otherwise what to fix.
fn check_new(new: &str, repeat: &str, min: usize) -> Option<String> {
    if new.chars().count() < min {
        Some(format!("Use at least {min} characters."))
    } else if new != repeat {
        Some("The two passwords are not the same.".into())
    } else {
        None
    }
}

/// The account's password (the one for every device), with a code from the authenticator.
#[component]
fn AccountPasswordCard(online: Signal<bool>) -> impl IntoView {
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let repeat = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let mismatch = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let on_submit = move |event: SubmitEvent| {
        event.prevent_default();
        done.set(None);
        let (c, n, r, k) = (current.get(), new.get(), repeat.get(), code.get());
        mismatch.set(check_new(&n, &r, 8));
        if mismatch.get_untracked().is_some() {
            return;
        }
        submit(
            busy,
            error,
            move || async move { api::security::change_account_password(&c, &n, &k).await },
            move |changed| {
                for field in [current, new, repeat, code] {
                    field.set(String::new());
                }
                done.set(Some(match changed.sessions_ended {
                    0 => "Your password is changed. Use it the next time you sign in.".to_owned(),
                    1 => "Your password is changed, and 1 other session was signed out.".to_owned(),
                    n => {
                        format!("Your password is changed, and {n} other sessions were signed out.")
                    }
                }));
            },
        );
    };
    view! {
        <Card
            title="Account password"
            subtitle="The password you sign in with on every device. Changing it signs your other devices out."
            test_id="account-password"
        >
            <form class="form" on:submit=on_submit novalidate>
                <TextField id="account-password-current" label="Current password" value=current input_type="password" autocomplete="current-password" required=true />
                <TextField
                    id="account-password-new"
                    label="New password"
                    value=new
                    input_type="password"
                    autocomplete="new-password"
                    hint="At least 8 characters; a passphrase of a few words is best. Common passwords are refused."
                    required=true
                />
                <TextField
                    id="account-password-repeat"
                    label="The new password again"
                    value=repeat
                    input_type="password"
                    autocomplete="new-password"
                    error=Signal::derive(move || mismatch.get())
                    required=true
                />
                <TextField
                    id="account-password-code"
                    label="Code from your authenticator app"
                    value=code
                    autocomplete="one-time-code"
                    hint="Or one of your recovery codes."
                    required=true
                />
                {needs_server(online)}
                {move || maybe_problem(error.get())}
                {move || done.get().map(|text| view! { <Callout title="Password changed" test_id="account-password-done">{text}</Callout> })}
                <div class="form-actions">
                    <Button submit=true loading=busy test_id="account-password-submit">"Change password"</Button>
                </div>
            </form>
        </Card>
    }
}

/// The password of this device's encrypted data: local, so it works offline.
#[component]
fn DevicePasswordCard() -> impl IntoView {
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let repeat = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let mismatch = RwSignal::new(None::<String>);
    let done = RwSignal::new(false);
    let on_submit = move |event: SubmitEvent| {
        event.prevent_default();
        done.set(false);
        let (c, n, r) = (current.get(), new.get(), repeat.get());
        mismatch.set(check_new(&n, &r, MIN_DEVICE_PASSWORD));
        if mismatch.get_untracked().is_some() {
            return;
        }
        submit(
            busy,
            error,
            move || async move { api::security::change_device_password(&c, &n).await },
            move |()| {
                for field in [current, new, repeat] {
                    field.set(String::new());
                }
                done.set(true);
            },
        );
    };
    view! {
        <Card
            title="This device's password"
            subtitle="Unlocks Canopy's encrypted data on this computer only. Works offline."
            test_id="device-password"
        >
            <form class="form" on:submit=on_submit novalidate>
                <TextField id="device-password-current" label="Current password for this device" value=current input_type="password" autocomplete="current-password" required=true />
                <TextField
                    id="device-password-new"
                    label="New password for this device"
                    value=new
                    input_type="password"
                    autocomplete="new-password"
                    hint=format!("At least {MIN_DEVICE_PASSWORD} characters.")
                    required=true
                />
                <TextField
                    id="device-password-repeat"
                    label="The new password again"
                    value=repeat
                    input_type="password"
                    autocomplete="new-password"
                    error=Signal::derive(move || mismatch.get())
                    required=true
                />
                {move || maybe_problem(error.get())}
                {move || done.get().then(|| view! {
                    <Callout title="Password changed" test_id="device-password-done">
                        "Use the new password the next time you unlock Canopy on this computer."
                    </Callout>
                })}
                <div class="form-actions">
                    <Button submit=true loading=busy test_id="device-password-submit">"Change this device's password"</Button>
                </div>
            </form>
        </Card>
    }
}

fn minutes_text(minutes: u32) -> String {
    match minutes {
        1 => "1 minute".to_owned(),
        60 => "1 hour".to_owned(),
        m => format!("{m} minutes"),
    }
}

/// After how long idle Canopy locks, within the company's limit.
#[component]
fn AutoLockCard(
    auto_lock: Signal<Option<AutoLockView>>,
    on_saved: Callback<AutoLockView>,
) -> impl IntoView {
    let error = RwSignal::new(None::<ApiError>);
    let saved = RwSignal::new(false);
    let choose = move |minutes: u32| {
        error.set(None);
        saved.set(false);
        spawn_local(async move {
            match api::security::set_auto_lock(minutes).await {
                Ok(fresh) => {
                    saved.set(true);
                    on_saved.run(fresh);
                }
                Err(problem) => error.set(Some(problem)),
            }
        });
    };
    let body = move |a: AutoLockView| {
        let mut options: Vec<(u32, bool, String)> = a
            .choices
            .iter()
            .map(|c| {
                let mut text = minutes_text(c.minutes);
                if !c.allowed {
                    text.push_str(" (above your company's limit)");
                }
                (c.minutes, c.allowed, text)
            })
            .collect();
        // The company's limit may fall between the offered times: it is what applies then.
        if !options.iter().any(|(m, _, _)| *m == a.minutes) {
            let text = format!("{} (your company's limit)", minutes_text(a.minutes));
            options.push((a.minutes, true, text));
            options.sort_by_key(|(m, _, _)| *m);
        }
        let current = a.minutes;
        view! {
            <div class="field">
                <label class="field-label" for="auto-lock-select">"Lock Canopy after"</label>
                <select
                    id="auto-lock-select"
                    class="field-input security-select"
                    data-testid="auto-lock-select"
                    aria-describedby="auto-lock-hint"
                    on:change=move |event| {
                        if let Ok(minutes) = event_target_value(&event).parse() {
                            choose(minutes);
                        }
                    }
                >
                    {options
                        .into_iter()
                        .map(|(minutes, allowed, text)| view! {
                            <option value=minutes.to_string() disabled=!allowed selected=minutes == current>
                                {text}
                            </option>
                        })
                        .collect_view()}
                </select>
                <p class="field-hint" id="auto-lock-hint">
                    {format!(
                        "without use. Your company allows at most {}, so longer times are not offered.",
                        minutes_text(a.max_minutes)
                    )}
                </p>
            </div>
        }
    };
    view! {
        <Card
            title="Auto-lock"
            subtitle="Canopy locks itself when you leave it alone, so nobody else can open your data on this computer. Works offline."
            test_id="auto-lock"
        >
            {move || match auto_lock.get() {
                None => view! { <Skeleton lines=2 /> }.into_any(),
                Some(a) => body(a).into_any(),
            }}
            {move || maybe_problem(error.get())}
            {move || saved.get().then(|| view! { <p class="security-note" role="status">"Saved."</p> })}
        </Card>
    }
}
