//! The central server: auth, RBAC, sync API, commissions, audit, alerts.
//! Empty until the "central server" issue fills it; see ARCHITECTURE.md.
