//! The root component: follows the session (the shell's `session` events and each
//! command's answer) and shows the screen its stage asks for. Signed in, the frame gains
//! the sidebar of the screens the role may use, a lock button and the lock shortcut.

use canopy_core::Role;
use canopy_core::ipc::{SessionView, SetUpDone, SyncStatusView};
use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::button::{Button, ButtonVariant};
use crate::components::frame::Frame;
use crate::components::sidebar::{NavItem, Sidebar};
use crate::components::states::LoadingState;
use crate::pages::admin::Admin;
use crate::pages::dashboard::Dashboard;
use crate::pages::earnings::Earnings;
use crate::pages::enroll::Enroll;
use crate::pages::genealogy::Genealogy;
use crate::pages::order::PlaceOrder;
use crate::pages::security::SecurityCenter;
use crate::pages::sign_in::{
    CodeCard, LocalPasswordCard, RecoveryCodesCard, SetUpCard, SignInCard, UnlockCard,
};
use crate::pages::signed_out::SignedOut;
use crate::pages::sync_center::{FirstSync, SyncCenter};
use crate::pages::team::Team;

/// How often the first download's progress is read (milliseconds).
const FIRST_SYNC_POLL_MS: u64 = 1_000;

/// Activity is reported to the shell's idle lock at most this often (milliseconds).
const TOUCH_EVERY_MS: f64 = 10_000.0;

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    let info = LocalResource::new(api::app::app_info);
    let session = RwSignal::new(None::<SessionView>);
    let set_up_done = RwSignal::new(None::<SetUpDone>);
    let email = RwSignal::new(String::new());
    let page = RwSignal::new("dashboard");
    // Whether the device can sign in at all (it has a usable provisioning file).
    let usable = RwSignal::new(true);
    // On the locked screen: the person chose to sign in online rather than unlock.
    let online_sign_in = RwSignal::new(false);
    let on_session = Callback::new(move |view: SessionView| {
        let before = session.get_untracked();
        if before.as_ref() == Some(&view) {
            return;
        }
        if view != SessionView::Locked {
            online_sign_in.set(false);
        }
        // Each time the cache opens, the person starts on the dashboard.
        let opened = matches!(view, SessionView::Unlocked { .. })
            && !matches!(before, Some(SessionView::Unlocked { .. }));
        if opened {
            page.set("dashboard");
        }
        session.set(Some(view));
    });
    spawn_local(async move {
        match api::auth::session_status().await {
            Ok(view) => on_session.run(view),
            // No session: the device has no usable provisioning file. The signed-out
            // screen says why, and offers no sign-in.
            Err(_) => {
                usable.set(false);
                on_session.run(SessionView::SignedOut { has_cache: false });
            }
        }
        if let Err(error) = api::events::listen("session", move |view| on_session.run(view)).await {
            web_sys::console::warn_1(&format!("no session events: {error}").into());
        }
    });
    let role = Memo::new(move |_| match session.get() {
        Some(SessionView::Unlocked { role }) => Some(role),
        _ => None,
    });
    shortcuts_and_activity(role, on_session);

    let status = Signal::derive(move || status_text(session.get().as_ref()));
    let sidebar = move || {
        move || {
            role.get().map(|role| {
                view! {
                    <Sidebar
                        items=nav_items(role)
                        current=Signal::derive(move || page.get())
                        on_select=Callback::new(move |key| page.set(key))
                    />
                }
            })
        }
    };
    let topbar_end = move || {
        move || {
            role.get().map(|_| {
                view! {
                    <Button
                        variant=ButtonVariant::Secondary
                        on_click=Callback::new(move |()| lock(on_session))
                        test_id="lock"
                    >
                        "Lock"
                    </Button>
                }
            })
        }
    };
    let on_recovery_saved = Callback::new(move |address: String| {
        email.set(address);
        set_up_done.set(None);
    });
    let screen = move || {
        match session.get() {
        None => view! { <LoadingState label="Starting Canopy…" /> }.into_any(),
        Some(SessionView::SignedOut { has_cache }) => match set_up_done.get() {
            Some(done) => view! {
                <div class="auth-single">
                    <RecoveryCodesCard done=done on_continue=on_recovery_saved />
                </div>
            }
            .into_any(),
            None if usable.get() => view! {
                <SignedOut>
                    <SignInCard has_cache=has_cache email=email on_session=on_session />
                </SignedOut>
            }
            .into_any(),
            None => view! { <SignedOut>""</SignedOut> }.into_any(),
        },
        Some(SessionView::Code) => {
            view! { <div class="auth-single"><CodeCard on_session=on_session /></div> }.into_any()
        }
        Some(SessionView::SetUp {
            secret,
            otpauth_uri,
        }) => view! {
            <div class="auth-single">
                <SetUpCard
                    secret=secret
                    otpauth_uri=otpauth_uri
                    on_done=Callback::new(move |done: SetUpDone| {
                        set_up_done.set(Some(done));
                        spawn_local(async move {
                            if let Ok(view) = api::auth::session_status().await {
                                on_session.run(view);
                            }
                        });
                    })
                    on_session=on_session
                />
            </div>
        }
        .into_any(),
        Some(SessionView::LocalPassword { min_length }) => view! {
            <div class="auth-single">
                <LocalPasswordCard min_length=min_length on_session=on_session />
            </div>
        }
        .into_any(),
        Some(SessionView::Locked) if online_sign_in.get() => view! {
            <div class="auth-single">
                <SignInCard has_cache=true email=email on_session=on_session />
                <p class="auth-alt">
                    <button type="button" class="link-button" on:click=move |_| online_sign_in.set(false)>
                        "Unlock offline instead"
                    </button>
                </p>
            </div>
        }
        .into_any(),
        Some(SessionView::Locked) => view! {
            <div class="auth-single">
                <UnlockCard
                    on_session=on_session
                    on_sign_in_online=Callback::new(move |()| online_sign_in.set(true))
                />
            </div>
        }
        .into_any(),
        Some(SessionView::Unlocked { .. }) => view! { <SignedInPage page=page /> }.into_any(),
    }
    };
    view! {
        <Frame info=info session=status sidebar=sidebar topbar_end=topbar_end>
            {screen}
        </Frame>
    }
}

/// The screen the sidebar selected, once this device has its data: on a first sign-in,
/// the first download's progress until it is done (the sync center stays reachable).
#[component]
fn SignedInPage(page: RwSignal<&'static str>) -> impl IntoView {
    let status = RwSignal::new(None::<SyncStatusView>);
    let ready = RwSignal::new(false);
    let poll = move || {
        if ready.get_untracked() {
            return;
        }
        spawn_local(async move {
            if let Ok(fresh) = api::outbox::sync_status().await {
                if fresh.last_success.is_some() {
                    ready.set(true);
                }
                status.set(Some(fresh));
            }
        });
    };
    poll();
    if let Ok(handle) =
        set_interval_with_handle(poll, std::time::Duration::from_millis(FIRST_SYNC_POLL_MS))
    {
        on_cleanup(move || handle.clear());
    }
    move || match page.get() {
        "sync" => view! { <SyncCenter /> }.into_any(),
        _ if !ready.get() => view! { <FirstSync status=status /> }.into_any(),
        "genealogy" => view! { <Genealogy /> }.into_any(),
        "enroll" => view! { <Enroll /> }.into_any(),
        "order" => view! { <PlaceOrder /> }.into_any(),
        "team" => view! { <Team /> }.into_any(),
        "security" => view! { <SecurityCenter /> }.into_any(),
        "earnings" => view! { <Earnings /> }.into_any(),
        "admin" => view! { <Admin /> }.into_any(),
        _ => view! { <Dashboard /> }.into_any(),
    }
}

/// The sidebar for `role`: everyone's screens, then the manager's and the admin's.
fn nav_items(role: Role) -> Vec<NavItem> {
    let manager = matches!(role, Role::Manager | Role::Admin);
    vec![
        NavItem {
            key: "dashboard",
            label: "Dashboard",
            shown: true,
        },
        NavItem {
            key: "genealogy",
            label: "Genealogy",
            shown: true,
        },
        NavItem {
            key: "earnings",
            label: "Earnings",
            shown: true,
        },
        NavItem {
            key: "enroll",
            label: "Enroll",
            shown: true,
        },
        NavItem {
            key: "order",
            label: "Take an order",
            shown: true,
        },
        NavItem {
            key: "sync",
            label: "Sync center",
            shown: true,
        },
        NavItem {
            key: "security",
            label: "Security",
            shown: true,
        },
        NavItem {
            key: "team",
            label: "Team review",
            shown: manager,
        },
        NavItem {
            key: "admin",
            label: "Administration",
            shown: role == Role::Admin,
        },
    ]
}

/// The top bar's words for the session.
fn status_text(session: Option<&SessionView>) -> String {
    match session {
        None => "Starting…".into(),
        Some(SessionView::SignedOut { .. }) => "Not signed in".into(),
        Some(SessionView::Code | SessionView::SetUp { .. } | SessionView::LocalPassword { .. }) => {
            "Signing in…".into()
        }
        Some(SessionView::Locked) => "Locked".into(),
        Some(SessionView::Unlocked { role }) => format!("Signed in · {}", role.label()),
    }
}

/// Closes the cache; the screen follows the answer.
fn lock(on_session: Callback<SessionView>) {
    spawn_local(async move {
        if let Ok(view) = api::auth::lock().await {
            on_session.run(view);
        }
    });
}

/// Ctrl+L (⌘L on macOS) locks; keys and clicks while unlocked tell the idle lock the
/// person is still there (at most every few seconds).
fn shortcuts_and_activity(role: Memo<Option<Role>>, on_session: Callback<SessionView>) {
    let last_touch = StoredValue::new(0.0_f64);
    let active = move || {
        if role.get_untracked().is_none() {
            return;
        }
        let now = js_sys::Date::now();
        if now - last_touch.get_value() >= TOUCH_EVERY_MS {
            last_touch.set_value(now);
            spawn_local(async {
                let _ = api::auth::touch().await;
            });
        }
    };
    let keys = window_event_listener(ev::keydown, move |event| {
        let command = event.ctrl_key() || event.meta_key();
        if command && event.key().eq_ignore_ascii_case("l") && role.get_untracked().is_some() {
            event.prevent_default();
            lock(on_session);
            return;
        }
        active();
    });
    let pointer = window_event_listener(ev::pointerdown, move |_| active());
    on_cleanup(move || {
        keys.remove();
        pointer.remove();
    });
}
