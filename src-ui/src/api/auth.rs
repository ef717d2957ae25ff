//! Wrappers of `src-tauri/src/commands/auth.rs`: signing in, the device's password,
//! unlocking and locking. Each answers the screen the shell decided on.

use canopy_core::ipc::{SessionView, SetUpDone};
use serde::Serialize;

use super::{ApiError, invoke::call};

/// Where the session stands.
pub async fn session_status() -> Result<SessionView, ApiError> {
    call("session_status", &()).await
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SignIn<'a> {
    email: &'a str,
    password: &'a str,
    device_password: Option<&'a str>,
}

/// The password step; `device_password` on a device that holds a cache.
pub async fn sign_in(
    email: &str,
    password: &str,
    device_password: Option<&str>,
) -> Result<SessionView, ApiError> {
    call(
        "sign_in",
        &SignIn {
            email,
            password,
            device_password,
        },
    )
    .await
}

#[derive(Serialize)]
struct Code<'a> {
    code: &'a str,
    recovery: bool,
}

/// The authenticator's code, or a recovery code.
pub async fn submit_code(code: &str, recovery: bool) -> Result<SessionView, ApiError> {
    call("submit_code", &Code { code, recovery }).await
}

#[derive(Serialize)]
struct Confirm<'a> {
    code: &'a str,
}

/// Confirms a new authenticator: the recovery codes, shown once.
pub async fn confirm_set_up(code: &str) -> Result<SetUpDone, ApiError> {
    call("confirm_set_up", &Confirm { code }).await
}

#[derive(Serialize)]
struct OpenCache<'a> {
    password: &'a str,
    remember: bool,
}

/// The device's password after a first sign-in: creates the encrypted cache.
pub async fn open_cache(password: &str, remember: bool) -> Result<SessionView, ApiError> {
    call("open_cache", &OpenCache { password, remember }).await
}

#[derive(Serialize)]
struct Unlock<'a> {
    password: &'a str,
}

/// Offline unlock with the device's password.
pub async fn unlock(password: &str) -> Result<SessionView, ApiError> {
    call("unlock", &Unlock { password }).await
}

/// Closes the cache.
pub async fn lock() -> Result<SessionView, ApiError> {
    call("lock", &()).await
}

/// Back to the start of the sign-in.
pub async fn cancel_sign_in() -> Result<SessionView, ApiError> {
    call("cancel_sign_in", &()).await
}

/// Tells the shell the person is active, so the idle lock starts counting again.
pub async fn touch() -> Result<(), ApiError> {
    call("touch", &()).await
}
