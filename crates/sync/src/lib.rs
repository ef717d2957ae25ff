//! The sync client: pinned TLS to the company's server, then (as the sync issue lands)
//! bootstrap, deltas and the outbox push into the store.

pub mod account;
pub mod admin;
pub mod apply;
pub mod auth;
pub mod bootstrap;
pub mod changes;
pub mod client;
pub mod error;
pub mod gdpr;
pub mod push;
pub mod runner;
pub mod schedule;
pub mod statements;
pub mod tls;

pub use client::ServerClient;
pub use error::SyncError;
