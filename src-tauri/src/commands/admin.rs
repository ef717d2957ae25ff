//! The admin screens' commands: accounts (searched, a page at a time) and their devices,
//! role changes, disabling, ending sessions, revoking a device, and the admin alerts.
//!
//! The server is the authority: it lets only admins in and wants a second factor from the
//! last ten minutes for every change. The commands refuse early when the cached role is not
//! admin, and prove the admin's code only when the server asks for it (a code is good for
//! one step-up, and one step-up for ten minutes of changes). The work is in plain functions
//! the tests call without Tauri.

use std::future::Future;

use canopy_core::Role;
use canopy_core::ipc::{
    AdminAccountPage, AdminAccountView, AdminAlertFilter, AdminAlertView, AdminDeviceView,
    CommandError, ErasureView, EvidenceItem,
};
use canopy_store::Store;
use canopy_sync::admin::{AdminAccount, AdminAlert, AdminDevice, AlertFilter};
use canopy_sync::{ServerClient, SyncError};
use serde_json::Value;
use tauri::State;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::security::{second_factor, sync_error, usable_token};
use crate::session::Session;
use crate::state::AppState;

/// What the admin screens say when the server can't be reached.
const OFFLINE: &str = "The company's server can't be reached, so accounts and alerts can't \
    be shown or changed now. Try again when this device is online.";

/// The client and the access token, taken from an unlocked session whose cached role is
/// admin.
fn admin_online(session: &Session) -> Result<(ServerClient, String), CommandError> {
    let store = session.store().ok_or(CommandError::Locked)?;
    require_admin(store)?;
    let status = session.sync().map(|s| s.status());
    let token = usable_token(session.access_token(), status.as_ref())?;
    Ok((session.client().clone(), token))
}

/// Takes what the call needs from the session and lets go of it before the network.
async fn online(state: &AppState) -> Result<(ServerClient, String), CommandError> {
    let session = state.session().await?;
    admin_online(&session)
}

/// A page of accounts whose email starts with `query` (all when empty), after `after`.
#[tauri::command]
pub async fn admin_accounts(
    state: State<'_, AppState>,
    query: String,
    after: Option<i64>,
) -> Result<AdminAccountPage, CommandError> {
    let (client, token) = online(&state).await?;
    accounts(&client, &token, &query, after).await
}

/// One account's devices, newest first, revoked ones included.
#[tauri::command]
pub async fn admin_account_devices(
    state: State<'_, AppState>,
    id: i64,
) -> Result<Vec<AdminDeviceView>, CommandError> {
    let (client, token) = online(&state).await?;
    account_devices(&client, &token, id).await
}

/// Gives an account another role; `code` proves the admin's second factor if needed.
#[tauri::command]
pub async fn admin_change_role(
    state: State<'_, AppState>,
    id: i64,
    role: Role,
    code: String,
) -> Result<(), CommandError> {
    let (client, token) = online(&state).await?;
    change_role(&client, &token, id, role, &code).await
}

/// Disables an account (its sessions end at once) or enables it again.
#[tauri::command]
pub async fn admin_set_disabled(
    state: State<'_, AppState>,
    id: i64,
    disabled: bool,
    code: String,
) -> Result<(), CommandError> {
    let (client, token) = online(&state).await?;
    set_disabled(&client, &token, id, disabled, &code).await
}

/// Ends every session of an account: how many ended.
#[tauri::command]
pub async fn admin_end_sessions(
    state: State<'_, AppState>,
    id: i64,
    code: String,
) -> Result<u64, CommandError> {
    let (client, token) = online(&state).await?;
    end_sessions(&client, &token, id, &code).await
}

/// Revokes any account's device.
#[tauri::command]
pub async fn admin_revoke_device(
    state: State<'_, AppState>,
    id: i64,
    code: String,
) -> Result<(), CommandError> {
    let (client, token) = online(&state).await?;
    revoke_device(&client, &token, id, &code).await
}

/// The admin alerts in `filter`'s state.
#[tauri::command]
pub async fn admin_alerts(
    state: State<'_, AppState>,
    filter: AdminAlertFilter,
) -> Result<Vec<AdminAlertView>, CommandError> {
    let (client, token) = online(&state).await?;
    alerts(&client, &token, filter).await
}

/// Marks an admin alert as seen and being looked into.
#[tauri::command]
pub async fn admin_acknowledge_alert(
    state: State<'_, AppState>,
    id: i64,
    code: String,
) -> Result<AdminAlertView, CommandError> {
    let (client, token) = online(&state).await?;
    acknowledge_alert(&client, &token, id, &code).await
}

/// Closes an admin alert.
#[tauri::command]
pub async fn admin_resolve_alert(
    state: State<'_, AppState>,
    id: i64,
    code: String,
) -> Result<AdminAlertView, CommandError> {
    let (client, token) = online(&state).await?;
    resolve_alert(&client, &token, id, &code).await
}

/// Erases a member's personal data (a GDPR erasure request): the member is pseudonymised
/// on the server and leaves every device's cache with its next sync.
#[tauri::command]
pub async fn admin_erase_member(
    state: State<'_, AppState>,
    id: i64,
    code: String,
) -> Result<ErasureView, CommandError> {
    let (client, token) = online(&state).await?;
    erase_member(&client, &token, id, &code).await
}

/// [`admin_erase_member`]'s work.
pub async fn erase_member(
    client: &ServerClient,
    token: &str,
    id: i64,
    code: &str,
) -> Result<ErasureView, CommandError> {
    let report = stepped(client, token, code, || client.admin_erase_member(token, id)).await?;
    Ok(ErasureView {
        member_id: report.member_id,
        account_id: report.account_id,
        devices_revoked: report.devices_revoked,
        sessions_ended: report.sessions_ended,
        sign_ins_deleted: report.sign_ins_deleted,
    })
}

/// Refuses before any call when the cache says this account is not an admin (the server
/// refuses anyway; this only saves the trip and says it plainly).
pub fn require_admin(store: &Store) -> Result<(), CommandError> {
    match store.account_role() {
        Ok(Some(Role::Admin)) => Ok(()),
        Ok(_) => Err(CommandError::Refused(
            "Only an admin can see and change accounts and security alerts.".into(),
        )),
        Err(e) => Err(CommandError::Internal(e.to_string())),
    }
}

/// A failed call in the admin's words: offline says what can't be done now; the rest as
/// the security center sorts them (the server's refusals keep its words).
fn admin_error(error: SyncError) -> CommandError {
    match error {
        SyncError::Unreachable(_) => CommandError::Offline(OFFLINE.into()),
        other => sync_error(other),
    }
}

/// Whether a refusal is the server asking for a recent second factor (its 403 names the
/// step-up endpoint), rather than for another role.
fn needs_step_up(error: &SyncError) -> bool {
    matches!(error, SyncError::Server { status: 403, message } if message.contains("step-up"))
}

/// Runs a change; if the server wants a fresh second factor, proves `code` and runs it
/// once more.
async fn stepped<T, F, Fut>(
    client: &ServerClient,
    token: &str,
    code: &str,
    action: F,
) -> Result<T, CommandError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, SyncError>>,
{
    match action().await {
        Err(error) if needs_step_up(&error) => {
            let factor = second_factor(code).map_err(|_| {
                CommandError::Invalid(
                    "Confirm it's you: type the 6-digit code from your authenticator app".into(),
                )
            })?;
            client.step_up(token, &factor).await.map_err(admin_error)?;
            action().await.map_err(admin_error)
        }
        other => other.map_err(admin_error),
    }
}

/// [`admin_accounts`]'s work.
pub async fn accounts(
    client: &ServerClient,
    token: &str,
    query: &str,
    after: Option<i64>,
) -> Result<AdminAccountPage, CommandError> {
    let page = client
        .admin_accounts(token, query, after, None)
        .await
        .map_err(admin_error)?;
    Ok(AdminAccountPage {
        accounts: page
            .accounts
            .iter()
            .map(account_view)
            .collect::<Result<_, _>>()?,
        next_after: page.next_after,
    })
}

fn account_view(a: &AdminAccount) -> Result<AdminAccountView, CommandError> {
    let role = a.role.parse::<Role>().map_err(|_| {
        CommandError::Internal(format!("the server sent an unknown role “{}”", a.role))
    })?;
    Ok(AdminAccountView {
        id: a.id,
        email: a.email.clone(),
        role,
        member_number: a.member_number.clone(),
        member_name: a.member_name.clone(),
        disabled: a.disabled,
        mfa_enabled: a.mfa_enabled,
        devices: a.devices,
        last_sign_in_at: a.last_sign_in_at.map(rfc3339),
        created_at: rfc3339(a.created_at),
    })
}

/// [`admin_account_devices`]'s work.
pub async fn account_devices(
    client: &ServerClient,
    token: &str,
    id: i64,
) -> Result<Vec<AdminDeviceView>, CommandError> {
    let devices = client
        .admin_account_devices(token, id)
        .await
        .map_err(admin_error)?;
    Ok(devices.iter().map(device_view).collect())
}

fn device_view(d: &AdminDevice) -> AdminDeviceView {
    AdminDeviceView {
        id: d.id,
        name: d.name.clone(),
        created_at: rfc3339(d.created_at),
        last_seen_at: d.last_seen_at.map(rfc3339),
        revoked_at: d.revoked_at.map(rfc3339),
    }
}

/// [`admin_change_role`]'s work.
pub async fn change_role(
    client: &ServerClient,
    token: &str,
    id: i64,
    role: Role,
    code: &str,
) -> Result<(), CommandError> {
    stepped(client, token, code, || {
        client.admin_change_role(token, id, role)
    })
    .await
}

/// [`admin_set_disabled`]'s work.
pub async fn set_disabled(
    client: &ServerClient,
    token: &str,
    id: i64,
    disabled: bool,
    code: &str,
) -> Result<(), CommandError> {
    stepped(client, token, code, || {
        client.admin_set_disabled(token, id, disabled)
    })
    .await
}

/// [`admin_end_sessions`]'s work.
pub async fn end_sessions(
    client: &ServerClient,
    token: &str,
    id: i64,
    code: &str,
) -> Result<u64, CommandError> {
    stepped(client, token, code, || client.admin_end_sessions(token, id)).await
}

/// [`admin_revoke_device`]'s work.
pub async fn revoke_device(
    client: &ServerClient,
    token: &str,
    id: i64,
    code: &str,
) -> Result<(), CommandError> {
    stepped(client, token, code, || {
        client.admin_revoke_device(token, id)
    })
    .await
}

/// [`admin_alerts`]'s work.
pub async fn alerts(
    client: &ServerClient,
    token: &str,
    filter: AdminAlertFilter,
) -> Result<Vec<AdminAlertView>, CommandError> {
    let filter = match filter {
        AdminAlertFilter::Open => AlertFilter::Open,
        AdminAlertFilter::Acknowledged => AlertFilter::Acknowledged,
        AdminAlertFilter::Resolved => AlertFilter::Resolved,
        AdminAlertFilter::All => AlertFilter::All,
    };
    let alerts = client
        .admin_alerts(token, filter)
        .await
        .map_err(admin_error)?;
    Ok(alerts.iter().map(alert_view).collect())
}

/// [`admin_acknowledge_alert`]'s work.
pub async fn acknowledge_alert(
    client: &ServerClient,
    token: &str,
    id: i64,
    code: &str,
) -> Result<AdminAlertView, CommandError> {
    let alert = stepped(client, token, code, || {
        client.admin_acknowledge_alert(token, id)
    })
    .await?;
    Ok(alert_view(&alert))
}

/// [`admin_resolve_alert`]'s work.
pub async fn resolve_alert(
    client: &ServerClient,
    token: &str,
    id: i64,
    code: &str,
) -> Result<AdminAlertView, CommandError> {
    let alert = stepped(client, token, code, || {
        client.admin_resolve_alert(token, id)
    })
    .await?;
    Ok(alert_view(&alert))
}

fn alert_view(a: &AdminAlert) -> AdminAlertView {
    AdminAlertView {
        id: a.id,
        kind: a.kind.clone(),
        title: a.title.clone(),
        severity: a.severity.clone(),
        state: a.state.clone(),
        account_id: a.account_id,
        evidence: evidence(&a.evidence),
        created_at: rfc3339(a.created_at),
        acknowledged_at: a.acknowledged_at.map(rfc3339),
        resolved_at: a.resolved_at.map(rfc3339),
        erasure_member: (a.kind == ERASURE_REQUEST)
            .then(|| a.evidence["member_id"].as_i64())
            .flatten(),
    }
}

/// The alert kind of a person's erasure request (the server's `routes::gdpr`).
const ERASURE_REQUEST: &str = "gdpr_erasure_request";

/// The evidence's fields as label and text ("device_name" → "Device name").
fn evidence(value: &Value) -> Vec<EvidenceItem> {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match value {
        Value::Null => Vec::new(),
        // By key: serde_json keeps a map's order only when some crate in the build
        // turns on `preserve_order`, so the order must not depend on that.
        Value::Object(fields) => {
            let mut keys: Vec<&String> = fields.keys().collect();
            keys.sort();
            keys.into_iter()
                .map(|key| EvidenceItem {
                    label: label(key),
                    value: text(&fields[key]),
                })
                .collect()
        }
        other => vec![EvidenceItem {
            label: "Details".into(),
            value: text(other),
        }],
    }
}

fn label(key: &str) -> String {
    let words = key.replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => words,
    }
}

fn rfc3339(at: OffsetDateTime) -> String {
    // Formatting a valid UTC instant as RFC 3339 only fails for years past 9999.
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn evidence_reads_as_labelled_facts() {
        let cases = [
            (json!(null), vec![]),
            (
                json!({"device_name": "Phone", "failures": 10}),
                vec![("Device name", "Phone"), ("Failures", "10")],
            ),
            (json!("odd"), vec![("Details", "odd")]),
        ];
        for (value, expected) in cases {
            let got: Vec<(String, String)> = evidence(&value)
                .into_iter()
                .map(|i| (i.label, i.value))
                .collect();
            let expected: Vec<(String, String)> = expected
                .into_iter()
                .map(|(l, v)| (l.to_owned(), v.to_owned()))
                .collect();
            assert_eq!(got, expected, "{value}");
        }
    }

    #[test]
    fn only_the_step_up_refusal_asks_for_a_code() {
        let step_up = SyncError::Server {
            status: 403,
            message: "Confirm it's you first: send a code from your authenticator app to \
                      /v1/auth/step-up, then try again"
                .into(),
        };
        let role = SyncError::Server {
            status: 403,
            message: "Only an admin can do this".into(),
        };
        assert!(needs_step_up(&step_up));
        assert!(!needs_step_up(&role));
    }
}
