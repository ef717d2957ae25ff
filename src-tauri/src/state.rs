//! The one managed state object every command receives.
//! Later issues add the store handle, the sync client and the lock timer here.

use std::time::Instant;

/// Everything the commands share. Commands never open databases or read
/// configuration themselves; whatever they need lives here.
#[derive(Debug)]
pub struct AppState {
    started_at: Instant,
}

impl AppState {
    pub fn new() -> Self {
        Self {
            started_at: Instant::now(),
        }
    }

    /// How long the app has been running, for the about box and diagnostics.
    pub fn uptime_secs(&self) -> u64 {
        self.started_at.elapsed().as_secs()
    }
}

impl Default for AppState {
    fn default() -> Self {
        Self::new()
    }
}
