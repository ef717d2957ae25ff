//! Wrappers of `src-tauri/src/commands/security.rs`: the security center's overview,
//! revoking a device, new recovery codes, the account's and this device's passwords, and
//! the auto-lock time.

use canopy_core::ipc::{AccountPasswordChanged, AutoLockView, RecoveryCodesView, SecurityView};
use serde::Serialize;

use super::{ApiError, invoke::call};

/// Devices, sign-ins and alerts (or why they can't be shown), with the auto-lock.
pub async fn security_overview() -> Result<SecurityView, ApiError> {
    call("security_overview", &()).await
}

#[derive(Serialize)]
struct Id {
    id: i64,
}

/// Revokes one of the person's other devices.
pub async fn revoke_device(id: i64) -> Result<(), ApiError> {
    call("revoke_device", &Id { id }).await
}

#[derive(Serialize)]
struct Code<'a> {
    code: &'a str,
}

/// Ten new recovery codes, after `code` (the authenticator's, or a recovery code).
pub async fn regenerate_recovery_codes(code: &str) -> Result<RecoveryCodesView, ApiError> {
    call("regenerate_recovery_codes", &Code { code }).await
}

#[derive(Serialize)]
struct AccountPassword<'a> {
    current: &'a str,
    new: &'a str,
    code: &'a str,
}

/// A new password for the account, proven by the current one and `code`.
pub async fn change_account_password(
    current: &str,
    new: &str,
    code: &str,
) -> Result<AccountPasswordChanged, ApiError> {
    call(
        "change_account_password",
        &AccountPassword { current, new, code },
    )
    .await
}

#[derive(Serialize)]
struct DevicePassword<'a> {
    current: &'a str,
    new: &'a str,
}

/// A new password for this device's encrypted data.
pub async fn change_device_password(current: &str, new: &str) -> Result<(), ApiError> {
    call("change_device_password", &DevicePassword { current, new }).await
}

#[derive(Serialize)]
struct Minutes {
    minutes: u32,
}

/// The idle minutes after which this device locks.
pub async fn set_auto_lock(minutes: u32) -> Result<AutoLockView, ApiError> {
    call("set_auto_lock", &Minutes { minutes }).await
}
