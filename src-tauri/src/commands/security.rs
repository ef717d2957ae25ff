//! The security center's commands: the person's devices (revoke one), sign-ins and alerts
//! from the server; new recovery codes and a new account password, each proven with a
//! second factor; and this device's own password and auto-lock, which work offline.
//!
//! Each command takes what it needs from the session and lets go of it before calling the
//! server, so a slow network never holds up the lock or the other screens. The work itself
//! is in plain functions the tests call without Tauri.

use std::time::{Duration, SystemTime};

use canopy_core::ipc::{
    AUTO_LOCK_CHOICES, AccountActivityView, AccountPasswordChanged, AlertView, AutoLockChoice,
    AutoLockView, CommandError, DeviceView, RecoveryCodesView, SecurityView, SignInView,
};
use canopy_store::{Store, Vault};
use canopy_sync::account::{Alert, Device, SignIn};
use canopy_sync::auth::SecondFactor;
use canopy_sync::runner::SyncStatus;
use canopy_sync::{ServerClient, SyncError};
use tauri::State;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::auth::to_command_error;
use crate::session::{Session, SessionError, check_local_password};
use crate::state::AppState;

/// What the security center says when the server can't be reached.
const OFFLINE: &str = "The company's server can't be reached, so your devices, sign-ins and \
    alerts can't be shown or changed now. This device's password and auto-lock still work \
    offline.";

/// The client, the session's access token (or why there is none) and this device's id,
/// taken from an unlocked session.
struct Online {
    client: ServerClient,
    token: Result<String, CommandError>,
    this_device: Option<i64>,
}

fn online(session: &Session) -> Result<Online, CommandError> {
    let store = session.store().ok_or(CommandError::Locked)?;
    let this_device = store
        .credentials()
        .map_err(|e| CommandError::Internal(e.to_string()))?
        .map(|c| c.device_id);
    let status = session.sync().map(|s| s.status());
    Ok(Online {
        client: session.client().clone(),
        token: usable_token(session.access_token(), status.as_ref()),
        this_device,
    })
}

/// Devices, sign-ins and alerts (or why not), with this device's auto-lock.
#[tauri::command]
pub async fn security_overview(state: State<'_, AppState>) -> Result<SecurityView, CommandError> {
    let session = state.session().await?;
    let store = session.store().ok_or(CommandError::Locked)?.clone();
    let Online { client, token, .. } = online(&session)?;
    drop(session);
    overview(&client, &store, token).await
}

/// Revokes one of the person's other devices.
#[tauri::command]
pub async fn revoke_device(state: State<'_, AppState>, id: i64) -> Result<(), CommandError> {
    let session = state.session().await?;
    let Online {
        client,
        token,
        this_device,
    } = online(&session)?;
    drop(session);
    revoke(&client, &token?, this_device, id).await
}

/// Ten new recovery codes, after proving the second factor with `code` (from the
/// authenticator, or a recovery code).
#[tauri::command]
pub async fn regenerate_recovery_codes(
    state: State<'_, AppState>,
    code: String,
) -> Result<RecoveryCodesView, CommandError> {
    let session = state.session().await?;
    let Online { client, token, .. } = online(&session)?;
    drop(session);
    new_recovery_codes(&client, &token?, &code).await
}

/// A new password for the account, proven by the current one and `code`.
#[tauri::command]
pub async fn change_account_password(
    state: State<'_, AppState>,
    current: String,
    new: String,
    code: String,
) -> Result<AccountPasswordChanged, CommandError> {
    let session = state.session().await?;
    let Online { client, token, .. } = online(&session)?;
    drop(session);
    account_password(&client, &token?, &current, &new, &code).await
}

/// A new password for this device's encrypted data (offline too).
#[tauri::command]
pub async fn change_device_password(
    state: State<'_, AppState>,
    current: String,
    new: String,
) -> Result<(), CommandError> {
    let session = state.session().await?;
    if !session.is_unlocked() {
        return Err(CommandError::Locked);
    }
    // Like unlocking, this holds the session for the key derivation (about a second).
    device_password(session.vault(), &current, &new)
}

/// The idle minutes after which this device locks (offline too).
#[tauri::command]
pub async fn set_auto_lock(
    state: State<'_, AppState>,
    minutes: u32,
) -> Result<AutoLockView, CommandError> {
    let session = state.session().await?;
    let store = session.store().ok_or(CommandError::Locked)?.clone();
    drop(session);
    auto_lock(&store, minutes)
}

/// The access token to call the server with, or why there is none: the sync's state tells
/// a revoked device and an ended session from a server not reached yet.
pub fn usable_token(
    token: Option<String>,
    status: Option<&SyncStatus>,
) -> Result<String, CommandError> {
    if let Some(token) = token {
        return Ok(token);
    }
    match status {
        Some(s) if s.revoked => Err(CommandError::Refused(SyncError::DeviceRevoked.to_string())),
        Some(s) if s.security_warning => Err(CommandError::Security(
            s.halted
                .clone()
                .unwrap_or_else(|| SyncError::PinMismatch.to_string()),
        )),
        Some(s) if s.sign_in_needed => Err(CommandError::Refused(
            "Your session with the company has ended. Lock Canopy and sign in online again \
             to see and change your account's security."
                .into(),
        )),
        _ => Err(CommandError::Offline(OFFLINE.into())),
    }
}

/// Sorts a failed call: offline reads as offline (the local settings still work), a
/// revoked device or an ended session as a refusal in the server's words, a pin mismatch
/// as a security warning.
pub fn sync_error(error: SyncError) -> CommandError {
    match error {
        SyncError::Unreachable(_) => CommandError::Offline(OFFLINE.into()),
        SyncError::DeviceRevoked => CommandError::Refused(error.to_string()),
        other => to_command_error(SessionError::Sync(other)),
    }
}

/// [`security_overview`]'s work: the local parts always, the server's when `token` is.
pub async fn overview(
    client: &ServerClient,
    store: &Store,
    token: Result<String, CommandError>,
) -> Result<SecurityView, CommandError> {
    let this_device_id = store.credentials().map_err(internal)?.map(|c| c.device_id);
    let auto_lock = auto_lock_view(store)?;
    let activity = match token {
        Ok(token) => activity(client, &token, this_device_id).await,
        Err(problem) => Err(problem),
    };
    Ok(SecurityView {
        this_device_id,
        auto_lock,
        activity,
    })
}

async fn activity(
    client: &ServerClient,
    token: &str,
    this_device: Option<i64>,
) -> Result<AccountActivityView, CommandError> {
    let (devices, sign_ins, alerts) = tokio::try_join!(
        client.my_devices(token),
        client.my_sign_ins(token),
        client.my_alerts(token),
    )
    .map_err(sync_error)?;
    Ok(AccountActivityView {
        sign_ins: sign_ins
            .iter()
            .map(|s| sign_in_view(s, &devices, this_device))
            .collect(),
        alerts: alerts.iter().map(|a| alert_view(a, &devices)).collect(),
        devices: devices
            .iter()
            .map(|d| DeviceView {
                id: d.id,
                name: d.name.clone(),
                created_at: rfc3339(d.created_at),
                last_seen_at: d.last_seen_at.map(rfc3339),
                revoked_at: d.revoked_at.map(rfc3339),
                this_device: Some(d.id) == this_device,
            })
            .collect(),
    })
}

fn sign_in_view(s: &SignIn, devices: &[Device], this_device: Option<i64>) -> SignInView {
    let device = devices.iter().find(|d| Some(d.id) == s.device_id);
    SignInView {
        at: rfc3339(s.at),
        ip: s.ip.clone(),
        device_id: s.device_id,
        device_name: device.map(|d| d.name.clone()),
        outcome_text: outcome_text(&s.outcome),
        outcome: s.outcome.clone(),
        succeeded: s.succeeded(),
        new_device: device.is_some_and(|d| s.registered(d)),
        this_device: s.device_id.is_some() && s.device_id == this_device,
    }
}

/// A sign-in's outcome in words.
fn outcome_text(key: &str) -> String {
    match key {
        "success" => "Signed in",
        "wrong_password" => "Wrong password",
        "wrong_second_factor" => "Wrong code",
        "unknown_account" => "Unknown account",
        "account_disabled" => "Account disabled",
        "device_revoked" => "From a revoked device",
        "throttled" => "Held back: too many attempts",
        other => other,
    }
    .to_owned()
}

fn alert_view(a: &Alert, devices: &[Device]) -> AlertView {
    let ip = a.evidence["ip"].as_str();
    let device = a.evidence["device_name"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| {
            let id = a.evidence["device_id"].as_i64()?;
            devices.iter().find(|d| d.id == id).map(|d| d.name.clone())
        });
    let details = match (ip, device) {
        (Some(ip), Some(device)) => Some(format!("From {ip} on “{device}”")),
        (Some(ip), None) => Some(format!("From {ip}")),
        (None, Some(device)) => Some(format!("On “{device}”")),
        (None, None) => None,
    };
    AlertView {
        id: a.id,
        kind: a.kind.clone(),
        title: a.title.clone(),
        severity: a.severity.clone(),
        state: a.state.clone(),
        created_at: rfc3339(a.created_at),
        details,
    }
}

/// [`revoke_device`]'s work. This very device is refused: revoking it would wipe the
/// cache the person is looking at.
pub async fn revoke(
    client: &ServerClient,
    token: &str,
    this_device: Option<i64>,
    id: i64,
) -> Result<(), CommandError> {
    if this_device == Some(id) {
        return Err(CommandError::Invalid(
            "This is the device you are using, so it can't be revoked from here. To stop \
             using Canopy on it, lock it; to remove it for good, revoke it from another of \
             your devices or ask your company's support."
                .into(),
        ));
    }
    client.revoke_my_device(token, id).await.map_err(sync_error)
}

/// Reads a typed second factor: six digits are the authenticator's code, anything else a
/// recovery code.
pub fn second_factor(code: &str) -> Result<SecondFactor, CommandError> {
    let compact: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return Err(CommandError::Invalid(
            "Type the 6-digit code from your authenticator app, or one of your recovery codes"
                .into(),
        ));
    }
    if compact.len() == 6 && compact.bytes().all(|b| b.is_ascii_digit()) {
        Ok(SecondFactor::Code(compact))
    } else {
        Ok(SecondFactor::RecoveryCode(code.trim().to_owned()))
    }
}

/// [`regenerate_recovery_codes`]'s work: the second factor first (the server wants one
/// from the last ten minutes), then ten new codes.
pub async fn new_recovery_codes(
    client: &ServerClient,
    token: &str,
    code: &str,
) -> Result<RecoveryCodesView, CommandError> {
    let factor = second_factor(code)?;
    client.step_up(token, &factor).await.map_err(sync_error)?;
    let fresh = client
        .regenerate_recovery_codes(token)
        .await
        .map_err(sync_error)?;
    Ok(RecoveryCodesView {
        codes: fresh.codes,
        detail: fresh.detail,
    })
}

/// [`change_account_password`]'s work; the server checks the new password's policy.
pub async fn account_password(
    client: &ServerClient,
    token: &str,
    current: &str,
    new: &str,
    code: &str,
) -> Result<AccountPasswordChanged, CommandError> {
    if current.is_empty() || new.is_empty() {
        return Err(CommandError::Invalid(
            "Type your current password and the new one".into(),
        ));
    }
    let factor = second_factor(code)?;
    let changed = client
        .change_account_password(token, current, new, &factor)
        .await
        .map_err(sync_error)?;
    Ok(AccountPasswordChanged {
        sessions_ended: changed.sessions_ended,
    })
}

/// [`change_device_password`]'s work: the new password's rule, then the key re-wrapped
/// under it (a wrong current password counts towards the unlock throttle).
pub fn device_password(vault: &Vault, current: &str, new: &str) -> Result<(), CommandError> {
    check_local_password(new).map_err(to_command_error)?;
    vault
        .change_password(current, new, SystemTime::now())
        .map_err(|e| to_command_error(SessionError::Store(e)))
}

/// [`set_auto_lock`]'s work: one of the offered times, within the company's limit.
pub fn auto_lock(store: &Store, minutes: u32) -> Result<AutoLockView, CommandError> {
    if !AUTO_LOCK_CHOICES.contains(&minutes) {
        return Err(CommandError::Invalid(format!(
            "Choose one of {AUTO_LOCK_CHOICES:?} minutes"
        )));
    }
    let max = store.lock_policy().map_err(internal)?.max_idle;
    let chosen = Duration::from_secs(u64::from(minutes) * 60);
    if chosen > max {
        return Err(CommandError::Invalid(format!(
            "Your company allows at most {} minutes before Canopy locks",
            max.as_secs() / 60
        )));
    }
    store.write(|w| w.put_auto_lock(chosen)).map_err(internal)?;
    auto_lock_view(store)
}

/// This device's auto-lock as the person chose it and the company caps it.
pub fn auto_lock_view(store: &Store) -> Result<AutoLockView, CommandError> {
    let policy = store.lock_policy().map_err(internal)?;
    let chosen = store.auto_lock().map_err(internal)?;
    let minutes = |d: Duration| u32::try_from(d.as_secs() / 60).unwrap_or(u32::MAX);
    let max_minutes = minutes(policy.max_idle);
    Ok(AutoLockView {
        minutes: minutes(policy.auto_lock_after(chosen)),
        chosen_minutes: chosen.map(minutes),
        max_minutes,
        choices: AUTO_LOCK_CHOICES
            .iter()
            .map(|&m| AutoLockChoice {
                minutes: m,
                allowed: m <= max_minutes,
            })
            .collect(),
    })
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

fn internal(error: impl std::fmt::Display) -> CommandError {
    CommandError::Internal(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_digits_are_a_code_and_the_rest_a_recovery_code() {
        let cases = [
            ("123456", Some(SecondFactor::Code("123456".into()))),
            (" 123 456 ", Some(SecondFactor::Code("123456".into()))),
            (
                "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01",
                Some(SecondFactor::RecoveryCode(
                    "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01".into(),
                )),
            ),
            (
                "1234567",
                Some(SecondFactor::RecoveryCode("1234567".into())),
            ),
            ("  ", None),
        ];
        for (typed, expected) in cases {
            assert_eq!(second_factor(typed).ok(), expected, "{typed:?}");
        }
    }

    #[test]
    fn failures_read_as_what_the_person_can_do() {
        let cases = [
            (SyncError::Unreachable("refused".into()), "offline"),
            (SyncError::DeviceRevoked, "refused"),
            (SyncError::PinMismatch, "security"),
            (
                SyncError::Server {
                    status: 401,
                    message: "Your session has ended: sign in again".into(),
                },
                "refused",
            ),
            (
                SyncError::Throttled {
                    wait: Duration::from_secs(2),
                    message: "Too many attempts".into(),
                },
                "throttled",
            ),
        ];
        for (error, code) in cases {
            let shown = error.to_string();
            let json = serde_json::to_value(sync_error(error)).unwrap();
            assert_eq!(json["code"], code, "{shown}");
        }
        let revoked = SyncStatus {
            revoked: true,
            ..SyncStatus::default()
        };
        let ended = SyncStatus {
            sign_in_needed: true,
            ..SyncStatus::default()
        };
        let cases = [
            (None, "offline"),
            (Some(&revoked), "refused"),
            (Some(&ended), "refused"),
            (Some(&SyncStatus::default()), "offline"),
        ];
        for (status, code) in cases {
            let json = serde_json::to_value(usable_token(None, status).unwrap_err()).unwrap();
            assert_eq!(json["code"], code, "{status:?}");
        }
        assert_eq!(usable_token(Some("t".into()), None), Ok("t".into()));
    }
}
