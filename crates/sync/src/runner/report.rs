//! What the sync task tells the app: events in order, and a snapshot of where it stands
//! (the sync center's figures).

use time::OffsetDateTime;

use crate::bootstrap::Progress;
use crate::push::PushSummary;

/// What the sync task reports, in order, to every subscriber.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncEvent {
    /// A pass began.
    Started,
    /// A bootstrap page was applied.
    Bootstrap(Progress),
    /// The outbox was pushed (at the start of every pass, even when it was empty).
    Pushed(PushSummary),
    /// A pass finished well.
    Synced {
        /// When it finished.
        at: OffsetDateTime,
        /// Whether it ran (or finished) a bootstrap rather than pulling changes.
        bootstrapped: bool,
        /// Changes pulled (0 after a bootstrap).
        changes: u64,
        /// When the next pass is due if nothing triggers one sooner.
        next_at: OffsetDateTime,
    },
    /// A pass failed and will be tried again at `retry_at`.
    Failed {
        message: String,
        /// The server could not be reached: the app shows "offline".
        offline: bool,
        /// Consecutive failures so far.
        failures: u32,
        retry_at: OffsetDateTime,
    },
    /// The server did not present the pinned keys: someone may be intercepting. Nothing is
    /// tried again until the user asks ([`Trigger::Requested`]).
    SecurityWarning(String),
    /// A failure retrying can't fix (a bad certificate, a refusal): nothing is tried again
    /// until the user asks ([`Trigger::Requested`]).
    Halted(String),
    /// The access token was refused (expired): the task waits for a new one.
    SignInNeeded,
    /// The server revoked this device. The task has ended; the app wipes the cache
    /// ([`canopy_store::Vault::wipe`]) and asks for a new sign-in.
    DeviceRevoked,
}

/// The sync center's view, kept current by the task.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncStatus {
    /// A pass is under way.
    pub running: bool,
    /// The latest bootstrap page applied, while a bootstrap runs in this pass.
    pub bootstrap: Option<Progress>,
    /// When the last pass succeeded (from the cache at start, then from this task).
    pub last_success: Option<OffsetDateTime>,
    /// Commands in the outbox not yet answered (pending or sending).
    pub pending: usize,
    /// The last pass could not reach the server.
    pub offline: bool,
    /// Consecutive failures (the backoff grows with them).
    pub failures: u32,
    /// The last failure's message, until a pass succeeds.
    pub last_error: Option<String>,
    /// When the next pass is due, unless halted or waiting for a sign-in.
    pub next_at: Option<OffsetDateTime>,
    /// Why syncing stopped until the user asks again.
    pub halted: Option<String>,
    /// The halt is a security warning (a pin mismatch).
    pub security_warning: bool,
    /// No token, or the token was refused: waiting for a sign-in.
    pub sign_in_needed: bool,
    /// The server revoked this device; the task has ended.
    pub revoked: bool,
}
