//! Typed wrappers of the Tauri commands, one module per command module in
//! `src-tauri/src/commands/`. Components call these, never `invoke` directly.

pub mod app;
mod invoke;

pub use invoke::ApiError;
