//! The bootstrap loop: ask the server for the next page of the snapshot under way (or start
//! one), apply it, report progress, until the last page. Everything it needs to resume is
//! in the cache (the store's bootstrap progress), so a loop cut anywhere — the network, the
//! app, the server — picks up at the next page.

use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use canopy_core::sync::BootstrapPage;
use canopy_core::sync::codec;
use canopy_store::Store;
use serde_json::json;
use tokio::runtime::RuntimeFlavor;
use tokio::task::JoinHandle;

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

/// A page as fetched: decoded and checked, or gone (the server lost the snapshot).
enum Fetched {
    Page(Box<BootstrapPage>, u64),
    Gone,
}

/// Pages asked for while the one before them is applied: two, so the server makes one
/// while the client decodes the other.
const AHEAD: u64 = 2;

/// A page asked for ahead; dropped unused (the loop ended, failed or was itself dropped
/// by a lock), its fetch is stopped.
struct Prefetch {
    checkpoint: String,
    page: u64,
    task: JoinHandle<Result<Fetched, SyncError>>,
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ServerClient {
    /// Bootstraps `store` (or resumes the bootstrap under way) with the caller's scope.
    /// `progress` hears each page and may stop the loop (the app locking); what was applied
    /// stays, and the next run resumes after it.
    ///
    /// The next page is fetched and decoded on another task while a page is written, so
    /// the network, the server and the cache work at the same time. On a multi-threaded
    /// runtime the writes run in place of the task (`block_in_place`), not on a worker
    /// other tasks wait for.
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
        let mut ahead: VecDeque<Prefetch> = VecDeque::new();
        loop {
            let (checkpoint, page) = match store.bootstrap_progress()? {
                Some(p) => (Some(p.checkpoint), p.next_page),
                None => (None, 0),
            };
            let fetched = match ahead.pop_front() {
                Some(mut next)
                    if checkpoint.as_deref() == Some(next.checkpoint.as_str())
                        && next.page == page =>
                {
                    (&mut next.task)
                        .await
                        .map_err(|e| SyncError::Protocol(format!("a page fetch failed: {e}")))??
                }
                _ => {
                    // Not the page the store expects (a restart): what was fetched ahead
                    // is dropped, and so stopped.
                    ahead.clear();
                    self.fetch_page(access_token, checkpoint.clone(), page)
                        .await?
                }
            };
            let (decoded, size) = match fetched {
                Fetched::Page(decoded, size) => (decoded, size),
                Fetched::Gone => {
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
            };
            bytes += size;
            if !decoded.last {
                // The pages after this one, up to the last (known from this page's size in
                // members: `rows_total` counts members, and their volume rows ride along).
                let members = decoded
                    .rows
                    .iter()
                    .filter(|r| matches!(r, canopy_core::sync::Row::Member(_)))
                    .count();
                let per_page = members.max(1) as u64;
                let pages = decoded.rows_total.div_ceil(per_page);
                let from = ahead.back().map_or(decoded.page + 1, |p| p.page + 1);
                for next in from..(decoded.page + 1 + AHEAD).min(pages) {
                    let client = self.clone();
                    let token = access_token.to_owned();
                    let at = decoded.checkpoint.clone();
                    ahead.push_back(Prefetch {
                        checkpoint: at.clone(),
                        page: next,
                        task: tokio::spawn(async move {
                            client.fetch_page(&token, Some(at), next).await
                        }),
                    });
                }
            }
            // An error or a stop returns, which drops (and so stops) the fetches ahead.
            let applied = blocking(|| apply_page(store, &decoded, now_rfc3339))?;
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

    /// Asks for one page and decodes it; a vanished snapshot is [`Fetched::Gone`].
    async fn fetch_page(
        &self,
        access_token: &str,
        checkpoint: Option<String>,
        page: u64,
    ) -> Result<Fetched, SyncError> {
        let resuming = checkpoint.is_some();
        let request = json!({ "checkpoint": checkpoint, "page": page });
        let answer = self
            .post_sync(
                "/v1/sync/bootstrap",
                access_token,
                &request,
                "a bootstrap page",
            )
            .await?;
        let body = match answer {
            Some(body) => body,
            None if resuming => return Ok(Fetched::Gone),
            None => {
                return Err(SyncError::Server {
                    status: 404,
                    message: "the server has no bootstrap to start".into(),
                });
            }
        };
        let decoded = codec::decode_page(&body).map_err(|e| SyncError::Protocol(e.to_string()))?;
        Ok(Fetched::Page(Box::new(decoded), body.len() as u64))
    }
}

/// Runs blocking work (writing to the cache) without holding up other tasks on a
/// multi-threaded runtime; on a current-thread runtime (tests) it simply runs.
fn blocking<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}
