//! The admin's screen: accounts (searched by email, a page at a time; one account's devices,
//! role, access and sessions) and the security alerts raised for admins. Every change asks
//! for the admin's authenticator code and says what it will do first.

use canopy_core::Role;
use canopy_core::ipc::{
    AdminAccountPage, AdminAccountView, AdminAlertFilter, AdminAlertView, AdminDeviceView,
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
use crate::components::problem::{Problem, maybe_problem};
use crate::components::states::{EmptyState, Skeleton};
use crate::components::text_field::TextField;
use crate::format::{count, local_time};

/// Which part of the screen is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    Accounts,
    Alerts,
}

#[component]
pub fn Admin() -> impl IntoView {
    let tab = RwSignal::new(Tab::Accounts);
    let tab_button = move |which: Tab, label: &'static str, id: &'static str| {
        view! {
            <button
                type="button"
                role="tab"
                class="admin-tab"
                class:selected=move || tab.get() == which
                aria-selected=move || (tab.get() == which).to_string()
                data-testid=id
                on:click=move |_| tab.set(which)
            >
                {label}
            </button>
        }
    };
    view! {
        <section class="page admin" data-testid="admin">
            <header class="page-head">
                <h1>"Administration"</h1>
                <p class="lead">
                    "Accounts, their devices and roles, and the security alerts raised for \
                     admins. Changes ask for a code from your authenticator app."
                </p>
            </header>
            <div class="admin-tabs" role="tablist" aria-label="Administration">
                {tab_button(Tab::Accounts, "Accounts", "admin-tab-accounts")}
                {tab_button(Tab::Alerts, "Alerts", "admin-tab-alerts")}
            </div>
            {move || match tab.get() {
                Tab::Accounts => view! { <AccountsSection /> }.into_any(),
                Tab::Alerts => view! { <AlertsSection /> }.into_any(),
            }}
        </section>
    }
}

/// A change waiting for the admin's confirmation (and code).
#[derive(Debug, Clone, PartialEq)]
enum Pending {
    Role(AdminAccountView, Role),
    Disable(AdminAccountView),
    Enable(AdminAccountView),
    EndSessions(AdminAccountView),
    Revoke(AdminAccountView, AdminDeviceView),
    Acknowledge(AdminAlertView),
    Resolve(AdminAlertView),
    /// A person's erasure request: erase the member, then close the request.
    Erase(AdminAlertView, i64),
}

impl Pending {
    fn heading(&self) -> String {
        match self {
            Pending::Role(a, role) => format!("Make {} {}?", a.email, article(*role)),
            Pending::Disable(a) => format!("Disable {}?", a.email),
            Pending::Enable(a) => format!("Enable {}?", a.email),
            Pending::EndSessions(a) => format!("Sign {} out everywhere?", a.email),
            Pending::Revoke(_, d) => format!("Revoke “{}”?", d.name),
            Pending::Acknowledge(alert) => format!("Acknowledge “{}”?", alert.title),
            Pending::Resolve(alert) => format!("Resolve “{}”?", alert.title),
            Pending::Erase(_, member) => format!("Erase the personal data of member {member}?"),
        }
    }

    fn explain(&self) -> String {
        match self {
            Pending::Role(a, role) => format!(
                "{} can use what a {} may use from their very next request; their menus \
                 follow when their app next hears from the server.",
                a.email,
                role.label().to_lowercase()
            ),
            Pending::Disable(a) => format!(
                "{} is signed out on every device at once and can't sign in until an admin \
                 enables the account again.",
                a.email
            ),
            Pending::Enable(a) => format!(
                "{} can sign in again, with their password and a code.",
                a.email
            ),
            Pending::EndSessions(a) => format!(
                "Every session of {} ends at once; the account stays enabled, so they can \
                 sign in again with their password and a code.",
                a.email
            ),
            Pending::Revoke(a, d) => format!(
                "“{}” of {} is signed out at once, and Canopy's data on it is removed the \
                 next time it connects.",
                d.name, a.email
            ),
            Pending::Acknowledge(_) => {
                "Other admins see that someone is looking into it. It stays on the list until \
                 it is resolved."
                    .to_owned()
            }
            Pending::Resolve(_) => {
                "The alert is closed. If the same thing happens again, a new alert is raised."
                    .to_owned()
            }
            Pending::Erase(..) => "Their name and contact details are removed from the server \
                 and from every device at its next sync, and their account is closed for good: \
                 this can't be undone. Their place in the tree, orders and earnings stay, \
                 without their name. The request is then resolved."
                .to_owned(),
        }
    }

    fn confirm(&self) -> &'static str {
        match self {
            Pending::Role(..) => "Change role",
            Pending::Disable(_) => "Disable",
            Pending::Enable(_) => "Enable",
            Pending::EndSessions(_) => "Sign out everywhere",
            Pending::Revoke(..) => "Revoke",
            Pending::Acknowledge(_) => "Acknowledge",
            Pending::Resolve(_) => "Resolve",
            Pending::Erase(..) => "Erase for good",
        }
    }

    fn dangerous(&self) -> bool {
        matches!(
            self,
            Pending::Disable(_)
                | Pending::EndSessions(_)
                | Pending::Revoke(..)
                | Pending::Erase(..)
        )
    }

    /// Runs the change: what to tell the admin when it is done.
    async fn run(self, code: String) -> Result<String, ApiError> {
        use api::admin as call;
        Ok(match self {
            Pending::Role(a, role) => {
                call::admin_change_role(a.id, role, &code).await?;
                format!("{} is now {}.", a.email, article(role))
            }
            Pending::Disable(a) => {
                call::admin_set_disabled(a.id, true, &code).await?;
                format!("{} is disabled and signed out everywhere.", a.email)
            }
            Pending::Enable(a) => {
                call::admin_set_disabled(a.id, false, &code).await?;
                format!("{} is enabled again.", a.email)
            }
            Pending::EndSessions(a) => {
                let ended = call::admin_end_sessions(a.id, &code).await?;
                format!(
                    "{} session{} of {} ended.",
                    count(ended),
                    if ended == 1 { "" } else { "s" },
                    a.email
                )
            }
            Pending::Revoke(a, d) => {
                call::admin_revoke_device(d.id, &code).await?;
                format!("“{}” of {} is revoked.", d.name, a.email)
            }
            Pending::Acknowledge(alert) => {
                call::admin_acknowledge_alert(alert.id, &code).await?;
                format!("“{}” is acknowledged.", alert.title)
            }
            Pending::Resolve(alert) => {
                call::admin_resolve_alert(alert.id, &code).await?;
                format!("“{}” is resolved.", alert.title)
            }
            Pending::Erase(alert, member) => {
                let erased = call::admin_erase_member(member, &code).await?;
                // The step-up just made covers closing the request too.
                call::admin_resolve_alert(alert.id, &code).await?;
                format!(
                    "Member {member} is erased: {} device{} revoked, {} sign-in{} deleted.                      The request is resolved.",
                    count(erased.devices_revoked),
                    if erased.devices_revoked == 1 { "" } else { "s" },
                    count(erased.sign_ins_deleted),
                    if erased.sign_ins_deleted == 1 {
                        ""
                    } else {
                        "s"
                    },
                )
            }
        })
    }
}

/// "an admin", "a manager".
fn article(role: Role) -> String {
    let word = role.label().to_lowercase();
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        format!("an {word}")
    } else {
        format!("a {word}")
    }
}

/// The confirmation dialog every change goes through: what it does, then the admin's
/// code. `on_done` gets the words to show once it worked.
#[component]
fn ConfirmChange(
    open: RwSignal<bool>,
    pending: RwSignal<Option<Pending>>,
    on_done: Callback<String>,
) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    // A fresh dialog every time it opens.
    Effect::new(move || {
        if open.get() {
            code.set(String::new());
            error.set(None);
        }
    });
    let run = move || {
        let Some(change) = pending.get_untracked() else {
            return;
        };
        let typed = code.get_untracked();
        submit(
            busy,
            error,
            move || change.run(typed),
            move |done| {
                open.set(false);
                on_done.run(done);
            },
        );
    };
    let on_submit = move |event: SubmitEvent| {
        event.prevent_default();
        run();
    };
    let actions = ViewFn::from(move || {
        let variant = if pending.with(|p| p.as_ref().is_some_and(Pending::dangerous)) {
            ButtonVariant::Danger
        } else {
            ButtonVariant::Primary
        };
        view! {
            <Button variant=ButtonVariant::Secondary on_click=Callback::new(move |()| open.set(false))>
                "Cancel"
            </Button>
            <Button variant=variant loading=busy on_click=Callback::new(move |()| run()) test_id="admin-confirm">
                {move || pending.with(|p| p.as_ref().map_or("Confirm", Pending::confirm))}
            </Button>
        }
    });
    view! {
        <Modal open=open title="Confirm this change" actions=actions>
            <form class="form" on:submit=on_submit novalidate data-testid="admin-confirm-form">
                <p class="admin-confirm-heading">{move || pending.with(|p| p.as_ref().map(Pending::heading))}</p>
                <p>{move || pending.with(|p| p.as_ref().map(Pending::explain))}</p>
                <TextField
                    id="admin-step-up-code"
                    label="Code from your authenticator app"
                    value=code
                    autocomplete="one-time-code"
                    hint="Asked for when you haven't confirmed it's you in the last ten minutes."
                />
                {move || maybe_problem(error.get())}
            </form>
        </Modal>
    }
}

#[component]
fn AccountsSection() -> impl IntoView {
    let typed = RwSignal::new(String::new());
    let query = RwSignal::new(String::new());
    // The cursors of the pages shown so far: the last is this page's.
    let cursors = RwSignal::new(vec![None::<i64>]);
    let page = RwSignal::new(None::<Result<AdminAccountPage, ApiError>>);
    let selected = RwSignal::new(None::<AdminAccountView>);
    let notice = RwSignal::new(None::<String>);
    let open = RwSignal::new(false);
    let pending = RwSignal::new(None::<Pending>);
    let devices_version = RwSignal::new(0_u32);

    let load = move || {
        let q = query.get_untracked();
        let after = cursors.with_untracked(|c| c.last().copied().flatten());
        page.set(None);
        spawn_local(async move {
            let result = api::admin::admin_accounts(&q, after).await;
            // Keep the selection up to date with what the server says now.
            if let Ok(fresh) = &result {
                selected.update(|s| {
                    let now = s
                        .as_ref()
                        .and_then(|current| fresh.accounts.iter().find(|a| a.id == current.id));
                    if let Some(now) = now {
                        *s = Some(now.clone());
                    }
                });
            }
            page.set(Some(result));
        });
    };
    load();
    let on_search = move |event: SubmitEvent| {
        event.prevent_default();
        query.set(typed.get_untracked().trim().to_owned());
        cursors.set(vec![None]);
        selected.set(None);
        load();
    };
    let next = Signal::derive(move || {
        page.with(|p| match p {
            Some(Ok(page)) => page.next_after,
            _ => None,
        })
    });
    let go_next = Callback::new(move |()| {
        if let Some(after) = next.get_untracked() {
            cursors.update(|c| c.push(Some(after)));
            load();
        }
    });
    let go_back = Callback::new(move |()| {
        cursors.update(|c| {
            if c.len() > 1 {
                c.pop();
            }
        });
        load();
    });
    let ask = Callback::new(move |change: Pending| {
        notice.set(None);
        pending.set(Some(change));
        open.set(true);
    });
    let on_done = Callback::new(move |done: String| {
        notice.set(Some(done));
        devices_version.update(|v| *v += 1);
        load();
    });
    let page_number = move || cursors.with(Vec::len);
    view! {
        <div class="admin-section" data-testid="admin-accounts" role="tabpanel">
            <Card title="Accounts" subtitle="Everyone who can sign in, in email order. Select one to see its devices and change it.">
                <form class="admin-search" on:submit=on_search novalidate role="search">
                    <TextField
                        id="admin-search"
                        label="Email starts with"
                        value=typed
                        input_type="search"
                        autocomplete="off"
                    />
                    <Button submit=true test_id="admin-search-submit">"Search"</Button>
                </form>
                {move || notice.get().map(|text| view! {
                    <Callout title="Done" test_id="admin-notice">{text}</Callout>
                })}
                {move || match page.get() {
                    None => view! { <Skeleton lines=5 /> }.into_any(),
                    Some(Err(problem)) => view! { <Problem error=problem /> }.into_any(),
                    Some(Ok(page)) => accounts_table(page.accounts, selected, query.get_untracked()).into_any(),
                }}
                <div class="admin-pager">
                    <Button
                        variant=ButtonVariant::Secondary
                        disabled=Signal::derive(move || page_number() <= 1)
                        on_click=go_back
                        test_id="admin-accounts-previous"
                    >
                        "Previous"
                    </Button>
                    <span class="muted">{move || format!("Page {}", count(page_number() as u64))}</span>
                    <Button
                        variant=ButtonVariant::Secondary
                        disabled=Signal::derive(move || next.get().is_none())
                        on_click=go_next
                        test_id="admin-accounts-next"
                    >
                        "Next"
                    </Button>
                </div>
            </Card>
            {move || selected.get().map(|account| view! {
                <AccountDetail account=account ask=ask devices_version=devices_version />
            })}
            <ConfirmChange open=open pending=pending on_done=on_done />
        </div>
    }
}

fn accounts_table(
    accounts: Vec<AdminAccountView>,
    selected: RwSignal<Option<AdminAccountView>>,
    query: String,
) -> impl IntoView {
    if accounts.is_empty() {
        let text = if query.is_empty() {
            "Accounts appear here once people can sign in.".to_owned()
        } else {
            format!("No account's email starts with “{query}”.")
        };
        return view! { <EmptyState title="No accounts" text=text /> }.into_any();
    }
    let row = move |a: AdminAccountView| {
        let id = a.id;
        let is_selected = move || selected.with(|s| s.as_ref().is_some_and(|s| s.id == id));
        let member = match (&a.member_number, &a.member_name) {
            (Some(number), Some(name)) => view! {
                <span class="cell-name">{name.clone()}</span>
                <span class="cell-sub">{format!("No. {number}")}</span>
            }
            .into_any(),
            _ => view! { <span class="muted">"—"</span> }.into_any(),
        };
        let (status_tone, status) = if a.disabled {
            (Tone::Danger, "Disabled")
        } else {
            (Tone::Success, "Active")
        };
        let (mfa_tone, mfa) = if a.mfa_enabled {
            (Tone::Success, "Set up")
        } else {
            (Tone::Warning, "Not set up")
        };
        let account = a.clone();
        view! {
            <tr
                data-testid="account-row"
                data-account-id=a.id.to_string()
                data-disabled=a.disabled.to_string()
                class=("admin-selected", is_selected)
            >
                <td>
                    <button
                        type="button"
                        class="admin-link"
                        aria-pressed=move || is_selected().to_string()
                        on:click=move |_| selected.set(Some(account.clone()))
                    >
                        {a.email.clone()}
                    </button>
                </td>
                <td><Badge tone=role_tone(a.role)>{a.role.label()}</Badge></td>
                <td>{member}</td>
                <td><Badge tone=status_tone>{status}</Badge></td>
                <td><Badge tone=mfa_tone>{mfa}</Badge></td>
                <td class="num">{count(u64::from(a.devices))}</td>
                <td>{a.last_sign_in_at.as_deref().map_or_else(|| "Never".to_owned(), local_time)}</td>
            </tr>
        }
    };
    view! {
        <div class="admin-scroll">
            <table class="table admin-table">
                <thead>
                    <tr>
                        <th scope="col">"Email"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Member"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Two-step"</th>
                        <th scope="col" class="num">"Devices"</th>
                        <th scope="col">"Last sign-in"</th>
                    </tr>
                </thead>
                <tbody>{accounts.into_iter().map(row).collect_view()}</tbody>
            </table>
        </div>
    }
    .into_any()
}

fn role_tone(role: Role) -> Tone {
    match role {
        Role::Admin => Tone::Warning,
        Role::Manager => Tone::Info,
        Role::Distributor => Tone::Neutral,
    }
}

/// The selected account: what it is, its devices, and what an admin can change.
#[component]
fn AccountDetail(
    account: AdminAccountView,
    ask: Callback<Pending>,
    devices_version: RwSignal<u32>,
) -> impl IntoView {
    let devices = RwSignal::new(None::<Result<Vec<AdminDeviceView>, ApiError>>);
    let id = account.id;
    Effect::new(move || {
        devices_version.track();
        devices.set(None);
        spawn_local(async move {
            devices.set(Some(api::admin::admin_account_devices(id).await));
        });
    });
    let role = RwSignal::new(account.role);
    let current_role = account.role;
    let stored = StoredValue::new(account.clone());
    let change_role = Callback::new(move |()| {
        ask.run(Pending::Role(stored.get_value(), role.get_untracked()));
    });
    let toggle = Callback::new(move |()| {
        let a = stored.get_value();
        ask.run(if a.disabled {
            Pending::Enable(a)
        } else {
            Pending::Disable(a)
        });
    });
    let end = Callback::new(move |()| ask.run(Pending::EndSessions(stored.get_value())));
    let revoke = Callback::new(move |device: AdminDeviceView| {
        ask.run(Pending::Revoke(stored.get_value(), device));
    });
    let member = match (&account.member_number, &account.member_name) {
        (Some(number), Some(name)) => format!("{name} (No. {number})"),
        _ => "Not a member (company staff)".to_owned(),
    };
    view! {
        <Card title=account.email.clone() subtitle="Devices, role and access of this account." test_id="admin-account">
            <dl class="facts">
                <dt>"Member"</dt>
                <dd>{member}</dd>
                <dt>"Status"</dt>
                <dd>{if account.disabled { "Disabled: can't sign in" } else { "Active" }}</dd>
                <dt>"Two-step sign-in"</dt>
                <dd>{if account.mfa_enabled { "Authenticator app set up" } else { "Not set up yet" }}</dd>
                <dt>"Last sign-in"</dt>
                <dd>{account.last_sign_in_at.as_deref().map_or_else(|| "Never".to_owned(), local_time)}</dd>
                <dt>"Account since"</dt>
                <dd>{local_time(&account.created_at)}</dd>
            </dl>
            <div class="admin-actions">
                <label class="field-label" for="admin-role">"Role"</label>
                <select
                    id="admin-role"
                    class="field-input admin-role"
                    data-testid="admin-role"
                    on:change=move |event| {
                        if let Some(chosen) = Role::ALL.into_iter().find(|r| r.key() == event_target_value(&event)) {
                            role.set(chosen);
                        }
                    }
                >
                    {Role::ALL.into_iter().map(|r| view! {
                        <option value=r.key() selected={r == current_role}>{r.label()}</option>
                    }).collect_view()}
                </select>
                <Button
                    variant=ButtonVariant::Secondary
                    disabled=Signal::derive(move || role.get() == current_role)
                    on_click=change_role
                    test_id="admin-change-role"
                >
                    "Change role"
                </Button>
                <Button
                    variant=if account.disabled { ButtonVariant::Secondary } else { ButtonVariant::Danger }
                    on_click=toggle
                    test_id="admin-toggle-disabled"
                >
                    {if account.disabled { "Enable" } else { "Disable" }}
                </Button>
                <Button variant=ButtonVariant::Danger on_click=end test_id="admin-end-sessions">
                    "End sessions"
                </Button>
            </div>
            <h3 class="admin-subhead">"Devices"</h3>
            {move || match devices.get() {
                None => view! { <Skeleton lines=2 /> }.into_any(),
                Some(Err(problem)) => view! { <Problem error=problem /> }.into_any(),
                Some(Ok(list)) => devices_table(list, revoke).into_any(),
            }}
        </Card>
    }
}

fn devices_table(
    devices: Vec<AdminDeviceView>,
    revoke: Callback<AdminDeviceView>,
) -> impl IntoView {
    if devices.is_empty() {
        return view! {
            <EmptyState title="No devices" text="This account has not signed in on any device yet." />
        }
        .into_any();
    }
    let row = move |d: AdminDeviceView| {
        let action = if let Some(at) = &d.revoked_at {
            view! { <span class="muted">{format!("Revoked {}", local_time(at))}</span> }.into_any()
        } else {
            let device = d.clone();
            view! {
                <Button variant=ButtonVariant::Danger on_click=Callback::new(move |()| revoke.run(device.clone())) test_id="admin-device-revoke">
                    "Revoke"
                </Button>
            }
            .into_any()
        };
        let (tone, word) = if d.revoked_at.is_some() {
            (Tone::Neutral, "Revoked")
        } else {
            (Tone::Success, "Active")
        };
        view! {
            <tr data-testid="admin-device-row" data-revoked=d.revoked_at.is_some().to_string()>
                <td>
                    <span class="cell-name">{d.name.clone()}</span>
                    <span class="cell-sub">{format!("Device {}", d.id)}</span>
                </td>
                <td><Badge tone=tone>{word}</Badge></td>
                <td>{local_time(&d.created_at)}</td>
                <td>{d.last_seen_at.as_deref().map_or_else(|| "—".to_owned(), local_time)}</td>
                <td class="admin-cell-action">{action}</td>
            </tr>
        }
    };
    view! {
        <div class="admin-scroll">
            <table class="table admin-table">
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
        </div>
    }
    .into_any()
}

#[component]
fn AlertsSection() -> impl IntoView {
    let filter = RwSignal::new(AdminAlertFilter::Open);
    let alerts = RwSignal::new(None::<Result<Vec<AdminAlertView>, ApiError>>);
    let notice = RwSignal::new(None::<String>);
    let open = RwSignal::new(false);
    let pending = RwSignal::new(None::<Pending>);
    let load = move || {
        let wanted = filter.get_untracked();
        alerts.set(None);
        spawn_local(async move {
            alerts.set(Some(api::admin::admin_alerts(wanted).await));
        });
    };
    load();
    let ask = Callback::new(move |change: Pending| {
        notice.set(None);
        pending.set(Some(change));
        open.set(true);
    });
    let on_done = Callback::new(move |done: String| {
        notice.set(Some(done));
        load();
    });
    view! {
        <div class="admin-section" data-testid="admin-alerts" role="tabpanel">
            <Card
                title="Security alerts"
                subtitle="What the server noticed that admins should look at: repeated failed sign-ins and unusual activity."
                header_end=ViewFn::from(move || view! {
                    <Button variant=ButtonVariant::Secondary on_click=Callback::new(move |()| load()) test_id="admin-alerts-refresh">
                        "Refresh"
                    </Button>
                })
            >
                <div class="segmented" role="radiogroup" aria-label="Show alerts">
                    {AdminAlertFilter::ALL.into_iter().map(|f| view! {
                        <label class="segment">
                            <input
                                type="radio"
                                name="admin-alert-filter"
                                data-testid=format!("admin-alert-filter-{}", f.label().to_lowercase())
                                prop:checked=move || filter.get() == f
                                on:change=move |_| {
                                    filter.set(f);
                                    load();
                                }
                            />
                            <span>{f.label()}</span>
                        </label>
                    }).collect_view()}
                </div>
                {move || notice.get().map(|text| view! {
                    <Callout title="Done" test_id="admin-notice">{text}</Callout>
                })}
                {move || match alerts.get() {
                    None => view! { <Skeleton lines=4 /> }.into_any(),
                    Some(Err(problem)) => view! { <Problem error=problem /> }.into_any(),
                    Some(Ok(list)) => alerts_list(list, filter.get_untracked(), ask).into_any(),
                }}
            </Card>
            <ConfirmChange open=open pending=pending on_done=on_done />
        </div>
    }
}

fn alerts_list(
    alerts: Vec<AdminAlertView>,
    filter: AdminAlertFilter,
    ask: Callback<Pending>,
) -> impl IntoView {
    if alerts.is_empty() {
        let text = match filter {
            AdminAlertFilter::Open => "Nothing needs looking at now.",
            AdminAlertFilter::Acknowledged => "No alert is being looked into.",
            AdminAlertFilter::Resolved => "No alert has been resolved yet.",
            AdminAlertFilter::All => "No alert has been raised for admins.",
        };
        return view! { <EmptyState title="No alerts" text=text /> }.into_any();
    }
    let row = move |a: AdminAlertView| {
        let (tone, severity) = match a.severity.as_str() {
            "critical" => (Tone::Danger, "Critical"),
            "warning" => (Tone::Warning, "Warning"),
            _ => (Tone::Info, "Info"),
        };
        let (state_tone, state) = match a.state.as_str() {
            "acknowledged" => (Tone::Info, "Being looked into"),
            "resolved" => (Tone::Neutral, "Resolved"),
            _ => (Tone::Warning, "Open"),
        };
        let acknowledge = (a.state == "open").then(|| {
            let alert = a.clone();
            view! {
                <Button variant=ButtonVariant::Secondary on_click=Callback::new(move |()| ask.run(Pending::Acknowledge(alert.clone()))) test_id="admin-alert-acknowledge">
                    "Acknowledge"
                </Button>
            }
        });
        let resolve = (a.state != "resolved").then(|| {
            let alert = a.clone();
            view! {
                <Button on_click=Callback::new(move |()| ask.run(Pending::Resolve(alert.clone()))) test_id="admin-alert-resolve">
                    "Resolve"
                </Button>
            }
        });
        let erase = a
            .erasure_member
            .filter(|_| a.state != "resolved")
            .map(|member| {
                let alert = a.clone();
                view! {
                    <Button variant=ButtonVariant::Danger on_click=Callback::new(move |()| ask.run(Pending::Erase(alert.clone(), member))) test_id="admin-alert-erase">
                        "Erase their data"
                    </Button>
                }
            });
        let evidence = (!a.evidence.is_empty()).then(|| {
            view! {
                <dl class="facts admin-evidence">
                    {a.evidence.iter().map(|item| view! {
                        <dt>{item.label.clone()}</dt>
                        <dd>{item.value.clone()}</dd>
                    }).collect_view()}
                </dl>
            }
        });
        let when = match (&a.resolved_at, &a.acknowledged_at) {
            (Some(at), _) => format!(
                "Raised {}, resolved {}",
                local_time(&a.created_at),
                local_time(at)
            ),
            (None, Some(at)) => format!(
                "Raised {}, acknowledged {}",
                local_time(&a.created_at),
                local_time(at)
            ),
            (None, None) => format!("Raised {}", local_time(&a.created_at)),
        };
        view! {
            <li class="admin-alert" data-testid="alert-row" data-kind=a.kind.clone() data-state=a.state.clone() data-severity=a.severity.clone()>
                <div class="admin-alert-head">
                    <Badge tone=tone>{severity}</Badge>
                    <span class="cell-name">{a.title.clone()}</span>
                    <Badge tone=state_tone>{state}</Badge>
                </div>
                <p class="cell-sub">
                    {when}
                    {a.account_id.map(|id| format!(" · account {id}"))}
                </p>
                {evidence}
                <div class="admin-alert-actions">{erase}{acknowledge}{resolve}</div>
            </li>
        }
    };
    view! { <ul class="admin-alerts">{alerts.into_iter().map(row).collect_view()}</ul> }.into_any()
}
