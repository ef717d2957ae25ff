//! The central server: the only authority on who a user is and what they may
//! see. Auth primitives (`auth`), configuration and TLS (`config`, `tls`), the
//! HTTP API (`routes`, `server`), security alerts (`alerts`) and
//! the transaction watch that raises them for unusual orders (`watch`), commission runs
//! (`commissions`) and the demo installation (`demo`).

pub mod alerts;
pub mod app;
pub mod audit_log;
pub mod auth;
pub mod backup;
pub mod commissions;
pub mod config;
pub mod demo;
pub mod loadtest;
pub mod projection;
pub mod rbac;
pub mod retention;
pub mod routes;
pub mod secrets;
pub mod seed;
pub mod server;
pub mod storage;
pub mod tls;
pub mod watch;
