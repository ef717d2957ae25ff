//! The encrypted local cache of the desktop app (SQLCipher through rusqlite).
//! Empty until the "encrypted local cache" issue fills it; see ARCHITECTURE.md.
