//! Typed wrappers of the Tauri commands, one module per command module in
//! `src-tauri/src/commands/`. Components call these, never `invoke` directly.

pub mod action;
pub mod admin;
pub mod app;
pub mod auth;
pub mod dashboard;
pub mod earnings;
pub mod events;
pub mod genealogy;
mod invoke;
pub mod orders;
pub mod outbox;
pub mod privacy;
pub mod security;
pub mod team;
pub mod updates;

pub use invoke::ApiError;
