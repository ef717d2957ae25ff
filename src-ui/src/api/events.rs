//! Events the shell pushes to the window (Tauri's event system), for state the UI did
//! not ask about: the session locking itself after idle, the cache wiped on revocation.

use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `window.__TAURI__.event.listen`, present because `withGlobalTauri` is on.
    #[wasm_bindgen(catch, js_namespace = ["window", "__TAURI__", "event"], js_name = listen)]
    async fn tauri_listen(
        event: &str,
        handler: &Closure<dyn FnMut(JsValue)>,
    ) -> Result<JsValue, JsValue>;
}

/// Calls `on_event` with each `event`'s payload for the rest of the app's life. A payload
/// of another shape is skipped (logged to the console), never a crash.
pub async fn listen<T, F>(event: &'static str, mut on_event: F) -> Result<(), String>
where
    T: DeserializeOwned + 'static,
    F: FnMut(T) + 'static,
{
    let handler = Closure::<dyn FnMut(JsValue)>::new(move |raw: JsValue| {
        let payload =
            js_sys::Reflect::get(&raw, &JsValue::from_str("payload")).unwrap_or(JsValue::UNDEFINED);
        match serde_wasm_bindgen::from_value::<T>(payload) {
            Ok(value) => on_event(value),
            Err(error) => web_sys_log(&format!("ignored a malformed `{event}` event: {error}")),
        }
    });
    tauri_listen(event, &handler)
        .await
        .map_err(|e| e.as_string().unwrap_or_else(|| "no details".into()))?;
    // The listener lives as long as the window: its closure must too.
    handler.forget();
    Ok(())
}

fn web_sys_log(text: &str) {
    web_sys::console::warn_1(&JsValue::from_str(text));
}
