//! The bootstrap loop: ask the server for the next page of the snapshot under way (or start
//! one), apply it, report progress, until the last page. Everything it needs to resume is
//! in the cache (the store's bootstrap progress), so a loop cut anywhere — the network, the
//! app, the server — picks up at the next page.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use canopy_core::sync::codec::{self, MAX_COMPRESSED};
use canopy_store::Store;
use serde_json::json;

use crate::apply::apply_page;
use crate::client::ServerClient;
use crate::error::SyncError;

/// Where a bootstrap stands, after each page (for the progress bar).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    pub page: u64,
    pub rows_done: u64,
    pub rows_total: u64,
    /// Compressed bytes received in this run.
    pub bytes: u64,
    /// Since this run started.
    pub elapsed: Duration,
}

impl Progress {
    /// Rows per second in this run.
    pub fn rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.rows_done as f64 / secs
        } else {
            0.0
        }
    }
}

/// How often a vanished snapshot may be started over in one run before giving up.
const MAX_RESTARTS: u32 = 2;

impl ServerClient {
    /// Bootstraps `store` (or resumes the bootstrap under way) with the caller's scope.
    /// `progress` hears each page and may stop the loop (the app locking); what was applied
    /// stays, and the next run resumes after it.
    pub async fn bootstrap(
        &self,
        store: &Store,
        access_token: &str,
        now_rfc3339: &str,
        mut progress: impl FnMut(Progress) -> ControlFlow<()>,
    ) -> Result<(), SyncError> {
        let started = Instant::now();
        let mut bytes = 0u64;
        let mut restarts = 0;
        loop {
            let (checkpoint, page) = match store.bootstrap_progress()? {
                Some(p) => (Some(p.checkpoint), p.next_page),
                None => (None, 0),
            };
            let response = self
                .http()
                .post(self.url("/v1/sync/bootstrap"))
                .bearer_auth(access_token)
                .json(&json!({ "checkpoint": checkpoint, "page": page }))
                .send()
                .await
                .map_err(SyncError::from_request)?;
            let status = response.status();
            if status == reqwest::StatusCode::NOT_FOUND && checkpoint.is_some() {
                // The server no longer has this snapshot: start a new one (the store
                // replaces the partial one when page 0 of another checkpoint arrives).
                restarts += 1;
                if restarts > MAX_RESTARTS {
                    return Err(SyncError::Restart(
                        "the server keeps losing the snapshot".into(),
                    ));
                }
                store.bootstrap_abandon()?;
                continue;
            }
            if !status.is_success() {
                return Err(SyncError::from_response(response).await);
            }
            if response
                .content_length()
                .is_some_and(|n| n > MAX_COMPRESSED as u64)
            {
                return Err(SyncError::Protocol(
                    "a bootstrap page larger than allowed".into(),
                ));
            }
            let body = response.bytes().await.map_err(SyncError::from_request)?;
            bytes += body.len() as u64;
            let decoded =
                codec::decode_page(&body).map_err(|e| SyncError::Protocol(e.to_string()))?;
            let applied = apply_page(store, &decoded, now_rfc3339)?;
            let event = Progress {
                page: decoded.page,
                rows_done: applied.rows_done,
                rows_total: decoded.rows_total,
                bytes,
                elapsed: started.elapsed(),
            };
            if decoded.last {
                let _ = progress(event);
                return Ok(());
            }
            if progress(event).is_break() {
                return Ok(());
            }
        }
    }
}
