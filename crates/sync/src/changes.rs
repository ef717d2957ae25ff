//! The delta loop: ask for what changed since the cache's cursor, apply each batch in one
//! transaction with its new cursor, until the server has no more.

use canopy_core::sync::codec::{self, MAX_COMPRESSED};
use canopy_store::Store;
use serde_json::json;

use crate::apply::apply_delta;
use crate::client::ServerClient;
use crate::error::SyncError;

/// Batches asked for in one pull at the most (then the next pull goes on).
const MAX_BATCHES: u32 = 1_000;

impl ServerClient {
    /// Brings a bootstrapped cache up to date; returns how many changes were applied. An
    /// unknown cursor is [`SyncError::Restart`]: bootstrap again.
    pub async fn pull_changes(
        &self,
        store: &Store,
        access_token: &str,
        now_rfc3339: &str,
    ) -> Result<u64, SyncError> {
        self.pull(store, access_token, now_rfc3339, false).await
    }

    /// [`pull_changes`](Self::pull_changes), then compares the cache with the server's
    /// checksum of the scope at the new cursor. A difference is [`SyncError::Restart`]
    /// (the cache drifted, or the scope changed with the user's role: bootstrap again); a
    /// match is recorded in the sync state. The server reads the whole scope for it, so
    /// the app verifies at unlock and now and then, not on every sync.
    pub async fn pull_and_verify(
        &self,
        store: &Store,
        access_token: &str,
        now_rfc3339: &str,
    ) -> Result<u64, SyncError> {
        self.pull(store, access_token, now_rfc3339, true).await
    }

    async fn pull(
        &self,
        store: &Store,
        access_token: &str,
        now_rfc3339: &str,
        verify: bool,
    ) -> Result<u64, SyncError> {
        let mut applied = 0u64;
        for _ in 0..MAX_BATCHES {
            let cursor = store.sync_state()?.cursor.ok_or_else(|| {
                SyncError::Restart("the cache has no cursor yet: bootstrap first".into())
            })?;
            let response = self
                .http()
                .post(self.url("/v1/sync/changes"))
                .bearer_auth(access_token)
                .json(&json!({ "cursor": cursor, "verify": verify }))
                .send()
                .await
                .map_err(SyncError::from_request)?;
            let status = response.status();
            if status == reqwest::StatusCode::NOT_FOUND {
                return Err(SyncError::Restart(
                    "the server doesn't know this cache's cursor: bootstrap again".into(),
                ));
            }
            if !status.is_success() {
                return Err(SyncError::from_response(response).await);
            }
            if response
                .content_length()
                .is_some_and(|n| n > MAX_COMPRESSED as u64)
            {
                return Err(SyncError::Protocol(
                    "a delta batch larger than allowed".into(),
                ));
            }
            let body = response.bytes().await.map_err(SyncError::from_request)?;
            let batch =
                codec::decode_delta(&body).map_err(|e| SyncError::Protocol(e.to_string()))?;
            applied += batch.ops.len() as u64;
            apply_delta(store, &batch, now_rfc3339)?;
            if !batch.more {
                if let Some(theirs) = &batch.checksum {
                    let ours = store.scope_checksum()?;
                    if &ours != theirs {
                        tracing::warn!(%ours, %theirs, "the cache's scope drifted from the server's");
                        return Err(SyncError::Restart(
                            "the cache no longer matches what the server holds for you: \
                             loading it again"
                                .into(),
                        ));
                    }
                    let mut state = store.sync_state()?;
                    state.checksum = Some(ours);
                    store.write(|w| w.set_sync_state(&state))?;
                }
                break;
            }
        }
        Ok(applied)
    }
}
