//! The one place that talks to Tauri's IPC: calls a command by name with
//! serialisable arguments and turns its answer or error into Rust types.

use canopy_core::ipc::CommandError;
use serde::{Serialize, de::DeserializeOwned};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `window.__TAURI__.core.invoke`, present because `withGlobalTauri` is on.
    #[wasm_bindgen(catch, js_namespace = ["window", "__TAURI__", "core"], js_name = invoke)]
    async fn tauri_invoke(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;
}

/// Why a command call failed, in words the UI can show.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The command ran and refused: its own error, already readable.
    Command(CommandError),
    /// The call never reached a command (not inside the Canopy window, or the
    /// command is not allowed by the window's capabilities).
    Unavailable(String),
    /// The answer did not have the shape this UI expects (a version mismatch).
    Decode(String),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Command(error) => write!(f, "{error}"),
            Self::Unavailable(detail) => {
                write!(f, "Canopy's app services are unavailable ({detail}).")
            }
            Self::Decode(detail) => write!(
                f,
                "Canopy received an answer it did not understand ({detail})."
            ),
        }
    }
}

/// Call `cmd` with `args` (a struct whose fields are the command's arguments).
pub async fn call<A, T>(cmd: &str, args: &A) -> Result<T, ApiError>
where
    A: Serialize + ?Sized,
    T: DeserializeOwned,
{
    let args = serde_wasm_bindgen::to_value(args).map_err(|e| ApiError::Decode(e.to_string()))?;
    match tauri_invoke(cmd, args).await {
        Ok(value) => {
            serde_wasm_bindgen::from_value(value).map_err(|e| ApiError::Decode(e.to_string()))
        }
        Err(error) => Err(
            match serde_wasm_bindgen::from_value::<CommandError>(error.clone()) {
                Ok(command_error) => ApiError::Command(command_error),
                Err(_) => ApiError::Unavailable(js_error_text(&error)),
            },
        ),
    }
}

/// The readable text of a thrown JS value (a string or an `Error`).
fn js_error_text(value: &JsValue) -> String {
    if let Some(text) = value.as_string() {
        return text;
    }
    match value.dyn_ref::<js_sys::Error>() {
        Some(error) => String::from(error.message()),
        None => "no details".to_owned(),
    }
}
