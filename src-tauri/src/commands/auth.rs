//! Commands of the sign-in, unlock and lock screens, over [`crate::session::Session`].
//! Every answer is the session's new [`SessionView`], so the UI shows what the shell
//! decided, never what it guessed.

use canopy_core::ipc::{CommandError, SessionView, SetUpDone};
use canopy_store::StoreError;
use canopy_sync::SyncError;
use canopy_sync::auth::SecondFactor;
use tauri::State;

use crate::session::SessionError;
use crate::state::AppState;

/// Where the session stands (the screen to show).
#[tauri::command]
pub async fn session_status(state: State<'_, AppState>) -> Result<SessionView, CommandError> {
    let session = state.session().await?;
    Ok(session.view())
}

/// The password step; on a device with a cache, its password too.
#[tauri::command]
pub async fn sign_in(
    state: State<'_, AppState>,
    email: String,
    password: String,
    device_password: Option<String>,
) -> Result<SessionView, CommandError> {
    let mut session = state.session().await?;
    session
        .sign_in(&email, &password, device_password.as_deref())
        .await
        .map_err(to_command_error)?;
    Ok(session.view())
}

/// The code from the authenticator, or a recovery code.
#[tauri::command]
pub async fn submit_code(
    state: State<'_, AppState>,
    code: String,
    recovery: bool,
) -> Result<SessionView, CommandError> {
    let factor = if recovery {
        SecondFactor::RecoveryCode(code)
    } else {
        SecondFactor::Code(code)
    };
    let mut session = state.session().await?;
    session
        .second_factor(&factor)
        .await
        .map_err(to_command_error)?;
    Ok(session.view())
}

/// Confirms a new authenticator: the recovery codes, to show once.
#[tauri::command]
pub async fn confirm_set_up(
    state: State<'_, AppState>,
    code: String,
) -> Result<SetUpDone, CommandError> {
    let mut session = state.session().await?;
    let (email, recovery_codes) = session
        .confirm_set_up(&code)
        .await
        .map_err(to_command_error)?;
    Ok(SetUpDone {
        email,
        recovery_codes,
    })
}

/// After a first sign-in: the device's password, which creates the cache.
#[tauri::command]
pub async fn open_cache(
    state: State<'_, AppState>,
    password: String,
    remember: bool,
) -> Result<SessionView, CommandError> {
    let mut session = state.session().await?;
    session
        .open_cache(&password, remember)
        .await
        .map_err(to_command_error)?;
    Ok(session.view())
}

/// Offline unlock with the device's password.
#[tauri::command]
pub async fn unlock(
    state: State<'_, AppState>,
    password: String,
) -> Result<SessionView, CommandError> {
    let mut session = state.session().await?;
    session.unlock(&password).await.map_err(to_command_error)?;
    Ok(session.view())
}

/// Closes the cache (the menu, the shortcut, or the idle timer).
#[tauri::command]
pub async fn lock(state: State<'_, AppState>) -> Result<SessionView, CommandError> {
    let mut session = state.session().await?;
    session.lock().await;
    Ok(session.view())
}

/// The person did something in the window: the idle lock starts counting again. The UI
/// calls it at most every few seconds while there is input.
#[tauri::command]
pub async fn touch(state: State<'_, AppState>) -> Result<(), CommandError> {
    let mut session = state.session().await?;
    session.touch(std::time::Instant::now());
    Ok(())
}

/// Back to the start of the sign-in.
#[tauri::command]
pub async fn cancel_sign_in(state: State<'_, AppState>) -> Result<SessionView, CommandError> {
    let mut session = state.session().await?;
    session.cancel();
    Ok(session.view())
}

/// Sorts a session failure into what the UI does with it: a pin mismatch is a security
/// warning, never a generic error; a wait is a wait; a refusal keeps the server's words.
pub fn to_command_error(error: SessionError) -> CommandError {
    let text = error.to_string();
    match error {
        SessionError::Sync(SyncError::PinMismatch) => CommandError::Security(
            "The server did not present the keys this device was given, so nothing was sent. \
             Someone may be intercepting the connection."
                .into(),
        ),
        SessionError::Sync(SyncError::Certificate(detail)) => CommandError::Security(format!(
            "The server's certificate was not accepted ({detail}), so nothing was sent."
        )),
        SessionError::Sync(SyncError::Unreachable(_)) => CommandError::Offline(
            "The company's server can't be reached. Check the connection, or unlock \
             offline if this device has been used before."
                .into(),
        ),
        SessionError::Sync(SyncError::Throttled { .. })
        | SessionError::Store(StoreError::Throttled { .. }) => CommandError::Throttled(text),
        SessionError::Sync(SyncError::Server {
            status: 400..=499,
            message,
        }) => CommandError::Refused(message),
        SessionError::Store(StoreError::WrongPassword) => {
            CommandError::Refused("That is not this device's password".into())
        }
        SessionError::Store(StoreError::OnlineSignInRequired { .. }) => CommandError::Refused(text),
        SessionError::OutOfOrder(_) | SessionError::Invalid(_) => CommandError::Invalid(text),
        SessionError::Sync(_) | SessionError::Store(_) => CommandError::Internal(text),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn failures_become_what_the_ui_acts_on() {
        let cases = [
            (SessionError::Sync(SyncError::PinMismatch), "security"),
            (
                SessionError::Sync(SyncError::Certificate("expired".into())),
                "security",
            ),
            (
                SessionError::Sync(SyncError::Unreachable("refused".into())),
                "offline",
            ),
            (
                SessionError::Sync(SyncError::Throttled {
                    wait: Duration::from_secs(60),
                    message: "Too many attempts. Try again in 1 minute.".into(),
                }),
                "throttled",
            ),
            (
                SessionError::Store(StoreError::Throttled {
                    retry_after: Duration::from_secs(5),
                }),
                "throttled",
            ),
            (
                SessionError::Sync(SyncError::Server {
                    status: 401,
                    message: "Wrong email or password".into(),
                }),
                "refused",
            ),
            (SessionError::Store(StoreError::WrongPassword), "refused"),
            (SessionError::Invalid("too short".into()), "invalid"),
            (
                SessionError::Sync(SyncError::Server {
                    status: 500,
                    message: "oops".into(),
                }),
                "internal",
            ),
        ];
        for (error, code) in cases {
            let shown = format!("{error}");
            let json = serde_json::to_value(to_command_error(error)).unwrap();
            assert_eq!(json["code"], code, "{shown}");
        }
        let refused = to_command_error(SessionError::Sync(SyncError::Server {
            status: 401,
            message: "Wrong email or password".into(),
        }));
        assert_eq!(refused.to_string(), "Wrong email or password");
    }
}
