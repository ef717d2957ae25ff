//! Typed wrappers of the Tauri commands, one module per command module in
//! `src-tauri/src/commands/`. Components call these, never `invoke` directly.

pub mod app;
#[allow(
    dead_code,
    reason = "the sign-in, unlock and lock screens call these next"
)]
pub mod auth;
mod invoke;

pub use invoke::ApiError;
