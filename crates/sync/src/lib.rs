//! The sync client: pinned TLS, bootstrap, deltas, outbox push.
//! Empty until the "sync over pinned TLS" issue fills it; see ARCHITECTURE.md.
