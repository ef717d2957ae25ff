//! The task that runs the sync for one unlocked cache: [`Schedule`] decides when, this task
//! waits for that moment (or a trigger, a new token, the lock) and runs one pass — push the
//! outbox, then bootstrap or pull — reporting each step as events and as a status snapshot.
//! The first pull after unlock, and one a day after, also verifies the cache against the
//! server's checksum of the scope (a drifted cache, or a role change, bootstraps again).
//!
//! Cancellation: [`SyncHandle::stop`] drops the pass at its next await point. Every store
//! write is its own transaction, so the cache is consistent wherever that is, and a
//! bootstrap cut between pages resumes at the next page on the next run.

use std::future::pending;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use canopy_store::{OutboxState, Store};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;

use crate::client::ServerClient;
use crate::error::SyncError;
use crate::schedule::{Policy, Schedule, State, Trigger};

mod report;

pub use report::{SyncEvent, SyncStatus};

/// Events kept for a subscriber that falls behind (a bootstrap sends one per page).
const EVENTS: usize = 1_024;
/// How often the cache is compared with the server's checksum of the scope (besides the
/// first pull after unlock): it costs the server a read of the whole scope.
const VERIFY_EVERY: Duration = Duration::from_secs(24 * 60 * 60);

/// The app's handle on a running sync task. Dropping it stops the task too (without
/// waiting); [`SyncHandle::stop`] also waits for the end.
#[derive(Debug)]
pub struct SyncHandle {
    triggers: mpsc::UnboundedSender<Trigger>,
    stop: watch::Sender<bool>,
    events: broadcast::Sender<SyncEvent>,
    /// Subscribed before the task started, for [`SyncHandle::take_events_from_start`].
    first: Option<broadcast::Receiver<SyncEvent>>,
    status: watch::Receiver<SyncStatus>,
    task: JoinHandle<()>,
}

impl SyncHandle {
    /// Asks for a sync (a local write, "sync now", the network back). A halted sync only
    /// restarts on [`Trigger::Requested`].
    pub fn trigger(&self, trigger: Trigger) {
        if self.triggers.send(trigger).is_err() {
            tracing::debug!(?trigger, "sync task already ended; trigger ignored");
        }
    }

    /// The events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<SyncEvent> {
        self.events.subscribe()
    }

    /// The events from the task's very start (once; `None` after the first call). Read
    /// them promptly: a receiver more than 1,024 events behind skips the oldest.
    pub fn take_events_from_start(&mut self) -> Option<broadcast::Receiver<SyncEvent>> {
        self.first.take()
    }

    /// The current status.
    pub fn status(&self) -> SyncStatus {
        self.status.borrow().clone()
    }

    /// The status, to wait for changes.
    pub fn watch_status(&self) -> watch::Receiver<SyncStatus> {
        self.status.clone()
    }

    /// Whether the task has ended (stopped, or the device was revoked).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Cancels the sync (the cache is being locked) and returns once the task has ended and
    /// released its store.
    pub async fn stop(self) {
        // Fails only if the task already ended, which is what we want anyway.
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "the sync task ended abnormally");
        }
    }
}

/// Starts syncing `store` with `client`: a first pass at once, then as `policy` says. The
/// access token comes through `token`, which the app updates on each refresh; `None` means
/// not signed in: nothing is synced until a token arrives.
pub fn spawn(
    client: ServerClient,
    store: Arc<Store>,
    token: watch::Receiver<Option<String>>,
    policy: Policy,
) -> SyncHandle {
    let (triggers, trigger_rx) = mpsc::unbounded_channel();
    let (stop, stop_rx) = watch::channel(false);
    let (events, first) = broadcast::channel(EVENTS);
    let (status_tx, status) = watch::channel(SyncStatus::default());
    let runner = Runner {
        client,
        store,
        token,
        token_open: true,
        triggers: trigger_rx,
        triggers_open: true,
        stop: stop_rx,
        events: events.clone(),
        status: status_tx,
        schedule: Schedule::new(policy, Instant::now()),
        sign_in_needed: false,
        verified_at: None,
    };
    let task = tokio::spawn(runner.run());
    SyncHandle {
        triggers,
        stop,
        events,
        first: Some(first),
        status,
        task,
    }
}

/// The task's state.
struct Runner {
    client: ServerClient,
    store: Arc<Store>,
    token: watch::Receiver<Option<String>>,
    /// The app still holds the token's sender.
    token_open: bool,
    triggers: mpsc::UnboundedReceiver<Trigger>,
    triggers_open: bool,
    stop: watch::Receiver<bool>,
    events: broadcast::Sender<SyncEvent>,
    status: watch::Sender<SyncStatus>,
    schedule: Schedule,
    /// The token was refused: wait for another before trying again.
    sign_in_needed: bool,
    /// When a pull last verified the cache against the server (or a bootstrap loaded it).
    verified_at: Option<Instant>,
}

/// What woke the task.
enum Wake {
    Sync,
    Stop,
}

/// What one pass did.
struct Passed {
    bootstrapped: bool,
    changes: u64,
    /// The cache matches the server's checksum (or was just loaded).
    verified: bool,
}

/// What the task does after a failure.
enum Next {
    Continue,
    End,
}

impl Runner {
    async fn run(mut self) {
        let last = self.store.sync_state().map(|s| s.last_sync_at);
        match last {
            Ok(last) => {
                let last = last.and_then(|at| OffsetDateTime::parse(&at, &Rfc3339).ok());
                self.status.send_modify(|s| s.last_success = last);
            }
            Err(e) => tracing::warn!(error = %e, "could not read the sync state"),
        }
        self.refresh_pending();
        loop {
            if let Wake::Stop = self.wait().await {
                break;
            }
            let token = self.token.borrow_and_update().clone();
            let Some(token) = token else {
                self.status.send_modify(|s| s.sign_in_needed = true);
                continue;
            };
            self.status.send_modify(|s| {
                s.running = true;
                s.bootstrap = None;
            });
            self.emit(SyncEvent::Started);
            let mut stop = self.stop.clone();
            let verify = self
                .verified_at
                .is_none_or(|at| at.elapsed() >= VERIFY_EVERY);
            let result = tokio::select! {
                biased;
                _ = stop.wait_for(|stopped| *stopped) => None,
                result = pass(
                    &self.client,
                    &self.store,
                    &token,
                    &self.stop,
                    &self.events,
                    &self.status,
                    verify,
                ) => Some(result),
            };
            self.status.send_modify(|s| s.running = false);
            self.refresh_pending();
            let Some(result) = result else { break };
            if *self.stop.borrow() {
                // Stopped between two bootstrap pages: not a success, not a failure.
                break;
            }
            match result {
                Ok(passed) => self.succeeded(passed),
                Err(err) => {
                    if let Next::End = self.failed(err) {
                        break;
                    }
                }
            }
        }
        self.status.send_modify(|s| {
            s.running = false;
            s.next_at = None;
        });
        tracing::debug!("sync task ended");
    }

    /// Waits until a pass is due (or a trigger makes one due), or the task must stop.
    async fn wait(&mut self) -> Wake {
        loop {
            if *self.stop.borrow() {
                return Wake::Stop;
            }
            let has_token = self.token.borrow().is_some();
            let due = match self.schedule.state() {
                State::Due(at) if has_token && !self.sign_in_needed => Some(*at),
                _ => None,
            };
            let sign_in_needed = !has_token || self.sign_in_needed;
            let next_at = due.map(wall_clock);
            // Only a real change wakes the app's status watchers.
            self.status.send_if_modified(|s| {
                let changed = s.sign_in_needed != sign_in_needed
                    || s.next_at.map(OffsetDateTime::unix_timestamp)
                        != next_at.map(OffsetDateTime::unix_timestamp);
                s.sign_in_needed = sign_in_needed;
                s.next_at = next_at;
                changed
            });
            let now = Instant::now();
            if due.is_some_and(|at| at <= now) {
                return Wake::Sync;
            }
            let sleep = async move {
                match due {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => pending::<()>().await,
                }
            };
            let woke = tokio::select! {
                biased;
                _ = self.stop.wait_for(|stopped| *stopped) => Woke::Stop,
                trigger = self.triggers.recv(), if self.triggers_open => Woke::Trigger(trigger),
                changed = self.token.changed(), if self.token_open => Woke::Token(changed.is_ok()),
                () = sleep => Woke::Due,
            };
            match woke {
                // Stop asked for, or the handle dropped.
                Woke::Stop => return Wake::Stop,
                Woke::Due => return Wake::Sync,
                Woke::Trigger(None) => self.triggers_open = false,
                Woke::Trigger(Some(trigger)) => self.trigger(trigger),
                Woke::Token(false) => self.token_open = false,
                Woke::Token(true) => {
                    // A routine refresh needs no sync; a token after a refusal (or after
                    // none) syncs at once.
                    if self.sign_in_needed || !has_token {
                        self.sign_in_needed = false;
                        self.schedule.trigger(Trigger::Unlocked, Instant::now());
                    }
                }
            }
        }
    }

    fn trigger(&mut self, trigger: Trigger) {
        if trigger == Trigger::Requested {
            // The user asks: try again even with the token that was refused.
            self.sign_in_needed = false;
        }
        if trigger == Trigger::LocalWrite {
            self.refresh_pending();
        }
        if let State::Due(_) = self.schedule.trigger(trigger, Instant::now()) {
            self.status.send_modify(|s| {
                s.halted = None;
                s.security_warning = false;
            });
        }
    }

    fn succeeded(&mut self, passed: Passed) {
        if passed.verified {
            self.verified_at = Some(Instant::now());
        }
        let at = OffsetDateTime::now_utc();
        let next = match self.schedule.succeeded(Instant::now()) {
            State::Due(next) => *next,
            // `succeeded` always schedules the next pass.
            State::Halted(_) => Instant::now(),
        };
        let next_at = wall_clock(next);
        self.status.send_modify(|s| {
            s.last_success = Some(at);
            s.offline = false;
            s.failures = 0;
            s.last_error = None;
            s.next_at = Some(next_at);
        });
        tracing::info!(
            bootstrapped = passed.bootstrapped,
            changes = passed.changes,
            "sync finished"
        );
        self.emit(SyncEvent::Synced {
            at,
            bootstrapped: passed.bootstrapped,
            changes: passed.changes,
            next_at,
        });
    }

    fn failed(&mut self, err: SyncError) -> Next {
        let message = err.to_string();
        match &err {
            SyncError::DeviceRevoked => {
                tracing::warn!("the server revoked this device; sync ends");
                self.status.send_modify(|s| {
                    s.revoked = true;
                    s.last_error = Some(message);
                });
                self.emit(SyncEvent::DeviceRevoked);
                return Next::End;
            }
            SyncError::Server { status: 401, .. } => {
                tracing::info!("the access token was refused; waiting for a new sign-in");
                self.sign_in_needed = true;
                self.status.send_modify(|s| {
                    s.sign_in_needed = true;
                    s.last_error = Some(message);
                });
                self.emit(SyncEvent::SignInNeeded);
                return Next::Continue;
            }
            _ => {}
        }
        let offline = matches!(err, SyncError::Unreachable(_));
        let state = self
            .schedule
            .failed(&err, Instant::now(), random_unit())
            .clone();
        let failures = self.schedule.failures();
        match state {
            State::Due(at) => {
                tracing::warn!(error = %err, failures, "sync failed; will retry");
                let retry_at = wall_clock(at);
                self.status.send_modify(|s| {
                    s.offline = offline;
                    s.failures = failures;
                    s.last_error = Some(message.clone());
                    s.next_at = Some(retry_at);
                });
                self.emit(SyncEvent::Failed {
                    message,
                    offline,
                    failures,
                    retry_at,
                });
            }
            State::Halted(why) => {
                let security = matches!(err, SyncError::PinMismatch);
                tracing::error!(error = %err, security, "sync halted until the user asks");
                self.status.send_modify(|s| {
                    s.offline = false;
                    s.last_error = Some(message);
                    s.halted = Some(why.clone());
                    s.security_warning = security;
                    s.next_at = None;
                });
                self.emit(if security {
                    SyncEvent::SecurityWarning(why)
                } else {
                    SyncEvent::Halted(why)
                });
            }
        }
        Next::Continue
    }

    fn emit(&self, event: SyncEvent) {
        emit(&self.events, event);
    }

    fn refresh_pending(&self) {
        match pending_count(&self.store) {
            Ok(pending) => self.status.send_modify(|s| s.pending = pending),
            Err(e) => tracing::warn!(error = %e, "could not count the outbox"),
        }
    }
}

/// What woke [`Runner::wait`]'s select.
enum Woke {
    Stop,
    Due,
    Trigger(Option<Trigger>),
    /// `false`: the app dropped the token's sender.
    Token(bool),
}

/// One pass: the outbox first (the user's writes matter most), then the bootstrap under
/// way or needed, else the changes since the cursor; then the statements and the plan,
/// which commission runs change outside the member change log.
async fn pass(
    client: &ServerClient,
    store: &Store,
    token: &str,
    stop: &watch::Receiver<bool>,
    events: &broadcast::Sender<SyncEvent>,
    status: &watch::Sender<SyncStatus>,
    verify: bool,
) -> Result<Passed, SyncError> {
    let mut passed = members_pass(client, store, token, stop, events, status, verify).await?;
    if store.bootstrap_progress()?.is_some() {
        // Stopped between bootstrap pages: the statements wait for the next pass.
        return Ok(passed);
    }
    match client.pull_statements(store, token).await {
        Ok(pulled) => {
            passed.changes += pulled.lines + u64::from(pulled.statements) + u64::from(pulled.plan);
        }
        // Runs kept landing while a statement was read: its old copy stays until the
        // next pass, and the members' sync that just worked is not undone for it.
        Err(SyncError::Restart(why)) => tracing::warn!(%why, "statements left for the next pass"),
        Err(e) => return Err(e),
    }
    Ok(passed)
}

/// The outbox, then the bootstrap or the changes since the cursor.
async fn members_pass(
    client: &ServerClient,
    store: &Store,
    token: &str,
    stop: &watch::Receiver<bool>,
    events: &broadcast::Sender<SyncEvent>,
    status: &watch::Sender<SyncStatus>,
    verify: bool,
) -> Result<Passed, SyncError> {
    let pushed = client
        .push_outbox(store, token, OffsetDateTime::now_utc())
        .await?;
    emit(events, SyncEvent::Pushed(pushed));
    if let Ok(pending) = pending_count(store) {
        status.send_modify(|s| s.pending = pending);
    }
    let never_finished = store.sync_state()?.cursor.is_none();
    if never_finished || store.bootstrap_progress()?.is_some() {
        run_bootstrap(client, store, token, stop, events, status).await?;
        return Ok(Passed {
            bootstrapped: true,
            changes: 0,
            verified: true,
        });
    }
    let now = now_rfc3339()?;
    let pulled = if verify {
        client.pull_and_verify(store, token, &now).await
    } else {
        client.pull_changes(store, token, &now).await
    };
    match pulled {
        Ok(changes) => Ok(Passed {
            bootstrapped: false,
            changes,
            verified: verify,
        }),
        Err(SyncError::Restart(why)) => {
            // The server no longer knows the cursor (or the user's role changed), or the
            // cache drifted from the server's scope: a new snapshot replaces the cached
            // one (the outbox and the notes stay).
            tracing::info!(%why, "bootstrapping again");
            run_bootstrap(client, store, token, stop, events, status).await?;
            Ok(Passed {
                bootstrapped: true,
                changes: 0,
                verified: true,
            })
        }
        Err(e) => Err(e),
    }
}

/// Runs (or resumes) the bootstrap, reporting each page, and stops between pages once the
/// task is asked to stop.
async fn run_bootstrap(
    client: &ServerClient,
    store: &Store,
    token: &str,
    stop: &watch::Receiver<bool>,
    events: &broadcast::Sender<SyncEvent>,
    status: &watch::Sender<SyncStatus>,
) -> Result<(), SyncError> {
    client
        .bootstrap(store, token, &now_rfc3339()?, |progress| {
            status.send_modify(|s| s.bootstrap = Some(progress));
            emit(events, SyncEvent::Bootstrap(progress));
            if *stop.borrow() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .await
}

fn emit(events: &broadcast::Sender<SyncEvent>, event: SyncEvent) {
    // No subscriber is fine: the status snapshot holds what the app needs.
    let _ = events.send(event);
}

/// Commands not yet answered by the server.
fn pending_count(store: &Store) -> Result<usize, SyncError> {
    Ok(store.outbox(Some(OutboxState::Pending))?.len()
        + store.outbox(Some(OutboxState::Sending))?.len())
}

fn now_rfc3339() -> Result<String, SyncError> {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .map_err(|e| SyncError::Config(format!("the system clock can't be written: {e}")))
}

/// The wall-clock time of a monotonic instant, for display.
fn wall_clock(at: Instant) -> OffsetDateTime {
    let now = Instant::now();
    let wall = OffsetDateTime::now_utc();
    if at >= now {
        wall + at.duration_since(now)
    } else {
        wall - now.duration_since(at)
    }
}

/// A fresh random number in `[0, 1)` for the backoff's jitter, so devices that failed
/// together don't retry together. Should the system's random source fail, the clock's
/// nanoseconds differ enough between devices to serve.
fn random_unit() -> f64 {
    use ring::rand::{SecureRandom, SystemRandom};
    let mut bytes = [0u8; 8];
    let bits = match SystemRandom::new().fill(&mut bytes) {
        Ok(()) => u64::from_le_bytes(bytes),
        Err(_) => {
            u64::from(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or(Duration::ZERO)
                    .subsec_nanos(),
            ) << 34
        }
    };
    // The top 53 bits: exactly representable, strictly below 1.
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jitter_is_in_the_unit_interval() {
        for _ in 0..1_000 {
            let u = random_unit();
            assert!((0.0..1.0).contains(&u), "{u}");
        }
    }

    #[test]
    fn wall_clock_keeps_the_distance() {
        let now = Instant::now();
        let later = wall_clock(now + Duration::from_secs(60)) - OffsetDateTime::now_utc();
        assert!(later > time::Duration::seconds(30) && later <= time::Duration::seconds(60));
    }
}
