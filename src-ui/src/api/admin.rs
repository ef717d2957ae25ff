//! Wrappers of `src-tauri/src/commands/admin.rs`: accounts and their devices, role changes,
//! disabling, ending sessions, revoking a device, and the admin alerts. Each change takes
//! the admin's authenticator code, which the app proves only if the server asks for it.

use canopy_core::Role;
use canopy_core::ipc::{
    AdminAccountPage, AdminAlertFilter, AdminAlertView, AdminDeviceView, ErasureView,
};
use serde::Serialize;

use super::{ApiError, invoke::call};

#[derive(Serialize)]
struct Accounts<'a> {
    query: &'a str,
    after: Option<i64>,
}

/// A page of accounts whose email starts with `query` (all when empty), after `after`.
pub async fn admin_accounts(query: &str, after: Option<i64>) -> Result<AdminAccountPage, ApiError> {
    call("admin_accounts", &Accounts { query, after }).await
}

#[derive(Serialize)]
struct Id {
    id: i64,
}

/// One account's devices, newest first, revoked ones included.
pub async fn admin_account_devices(id: i64) -> Result<Vec<AdminDeviceView>, ApiError> {
    call("admin_account_devices", &Id { id }).await
}

#[derive(Serialize)]
struct RoleChange<'a> {
    id: i64,
    role: Role,
    code: &'a str,
}

/// Gives an account another role.
pub async fn admin_change_role(id: i64, role: Role, code: &str) -> Result<(), ApiError> {
    call("admin_change_role", &RoleChange { id, role, code }).await
}

#[derive(Serialize)]
struct Disabled<'a> {
    id: i64,
    disabled: bool,
    code: &'a str,
}

/// Disables an account (its sessions end at once) or enables it again.
pub async fn admin_set_disabled(id: i64, disabled: bool, code: &str) -> Result<(), ApiError> {
    call("admin_set_disabled", &Disabled { id, disabled, code }).await
}

#[derive(Serialize)]
struct IdCode<'a> {
    id: i64,
    code: &'a str,
}

/// Ends every session of an account: how many ended.
pub async fn admin_end_sessions(id: i64, code: &str) -> Result<u64, ApiError> {
    call("admin_end_sessions", &IdCode { id, code }).await
}

/// Revokes any account's device.
pub async fn admin_revoke_device(id: i64, code: &str) -> Result<(), ApiError> {
    call("admin_revoke_device", &IdCode { id, code }).await
}

#[derive(Serialize)]
struct Filter {
    filter: AdminAlertFilter,
}

/// The admin alerts in `filter`'s state.
pub async fn admin_alerts(filter: AdminAlertFilter) -> Result<Vec<AdminAlertView>, ApiError> {
    call("admin_alerts", &Filter { filter }).await
}

/// Marks an admin alert as seen and being looked into.
pub async fn admin_acknowledge_alert(id: i64, code: &str) -> Result<AdminAlertView, ApiError> {
    call("admin_acknowledge_alert", &IdCode { id, code }).await
}

/// Closes an admin alert.
pub async fn admin_resolve_alert(id: i64, code: &str) -> Result<AdminAlertView, ApiError> {
    call("admin_resolve_alert", &IdCode { id, code }).await
}

/// Erases a member's personal data (a person's erasure request).
pub async fn admin_erase_member(id: i64, code: &str) -> Result<ErasureView, ApiError> {
    call("admin_erase_member", &IdCode { id, code }).await
}
