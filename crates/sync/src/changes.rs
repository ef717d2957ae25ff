//! The delta loop: ask for what changed since the cache's cursor, apply each batch in one
//! transaction with its new cursor, until the server has no more.

use canopy_core::sync::codec;
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
            let request = json!({ "cursor": cursor, "verify": verify });
            let body = self
                .post_sync("/v1/sync/changes", access_token, &request, "a delta batch")
                .await?
                .ok_or_else(|| {
                    SyncError::Restart(
                        "the server doesn't know this cache's cursor: bootstrap again".into(),
                    )
                })?;
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
