//! Tauri commands, one module per domain (auth, genealogy, earnings, outbox,
//! security, settings as they arrive). Each returns `Result<_, CommandError>`.

pub mod app;
pub mod auth;
pub mod genealogy;
