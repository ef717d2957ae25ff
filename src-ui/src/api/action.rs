//! Running a command from a form: one call at a time, its failure kept for the form to
//! show, its answer handed on.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::ApiError;

/// Runs `call` once (ignoring submits while it is in flight), then `on_ok` with its
/// answer or puts its failure in `error`.
pub fn submit<T, Fut>(
    busy: RwSignal<bool>,
    error: RwSignal<Option<ApiError>>,
    call: impl FnOnce() -> Fut + 'static,
    on_ok: impl FnOnce(T) + 'static,
) where
    Fut: Future<Output = Result<T, ApiError>> + 'static,
    T: 'static,
{
    if busy.get_untracked() {
        return;
    }
    busy.set(true);
    error.set(None);
    spawn_local(async move {
        let result = call().await;
        busy.set(false);
        match result {
            Ok(value) => on_ok(value),
            Err(problem) => error.set(Some(problem)),
        }
    });
}
