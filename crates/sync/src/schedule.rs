//! When to sync: at unlock, right after a local write, every few minutes while online;
//! after a failure, again with exponential backoff and jitter; never again on its own
//! after a failure that retrying can't fix (a pin mismatch, a bad certificate). Pure
//! policy over an injected clock and random source, so the app's scheduler task and the
//! tests see exactly the same decisions.

use std::time::{Duration, Instant};

use crate::error::SyncError;

/// Why a sync is wanted now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The cache was just unlocked.
    Unlocked,
    /// Something was written to the outbox.
    LocalWrite,
    /// The user pressed "sync now".
    Requested,
    /// The operating system reports the network is back.
    Online,
}

/// The scheduler's tuning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Between syncs while all is well.
    pub interval: Duration,
    /// The first retry after a failure; each further failure doubles it.
    pub first_retry: Duration,
    /// The longest wait between retries.
    pub max_retry: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(5 * 60),
            first_retry: Duration::from_secs(2),
            max_retry: Duration::from_secs(5 * 60),
        }
    }
}

/// Where the scheduler stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// The next sync is due at this instant.
    Due(Instant),
    /// Stopped until the user acts (a security warning or a certificate problem).
    Halted(String),
}

/// The sync schedule of one unlocked cache.
#[derive(Debug, Clone)]
pub struct Schedule {
    policy: Policy,
    failures: u32,
    state: State,
}

impl Schedule {
    /// A schedule whose first sync is due at `now` (syncing at unlock).
    pub fn new(policy: Policy, now: Instant) -> Self {
        Self {
            policy,
            failures: 0,
            state: State::Due(now),
        }
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// Consecutive failures so far (shown as "offline" by the app once above zero).
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Something asks for a sync now. A local write or the user's request goes at once
    /// even during a backoff (the user is waiting on it); a halted schedule only restarts
    /// on the user's explicit request.
    pub fn trigger(&mut self, trigger: Trigger, now: Instant) -> &State {
        match (&self.state, trigger) {
            (State::Halted(_), Trigger::Requested) => {
                self.failures = 0;
                self.state = State::Due(now);
            }
            (State::Halted(_), _) => {}
            (State::Due(_), _) => self.state = State::Due(now),
        }
        &self.state
    }

    /// A sync finished well: the next one after the interval.
    pub fn succeeded(&mut self, now: Instant) -> &State {
        self.failures = 0;
        self.state = State::Due(now + self.policy.interval);
        &self.state
    }

    /// A sync failed with `error`. `unit` is a random number in `[0, 1)` for the jitter
    /// (the app passes a fresh one each time, the tests a fixed one): the wait is drawn
    /// from the upper half of the backoff, so clients that failed together spread out
    /// without ever retrying sooner than half the backoff.
    pub fn failed(&mut self, error: &SyncError, now: Instant, unit: f64) -> &State {
        if !error.is_retryable() {
            self.state = State::Halted(error.to_string());
            return &self.state;
        }
        self.failures = self.failures.saturating_add(1);
        let backoff = self.backoff();
        let unit = if unit.is_finite() {
            unit.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let wait = backoff.mul_f64(0.5 + 0.5 * unit);
        self.state = State::Due(now + wait);
        &self.state
    }

    /// The backoff after the current number of failures: `first_retry × 2^(failures-1)`,
    /// capped at `max_retry`.
    pub fn backoff(&self) -> Duration {
        let doublings = self.failures.saturating_sub(1).min(30);
        self.policy
            .first_retry
            .saturating_mul(1u32 << doublings)
            .min(self.policy.max_retry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offline() -> SyncError {
        SyncError::Unreachable("no route to host".into())
    }

    #[test]
    fn failures_back_off_exponentially_with_jitter_up_to_the_cap() {
        let t0 = Instant::now();
        let mut s = Schedule::new(Policy::default(), t0);
        assert_eq!(s.state(), &State::Due(t0), "syncs at unlock");
        // unit 1.0: the whole backoff; unit 0.0: half of it.
        let cases = [
            (1.0, 2),
            (1.0, 4),
            (0.0, 4),
            (1.0, 16),
            (1.0, 32),
            (1.0, 64),
            (1.0, 128),
            (1.0, 256),
            (1.0, 300),
            (0.0, 150),
        ];
        for (i, (unit, secs)) in cases.into_iter().enumerate() {
            let state = s.failed(&offline(), t0, unit).clone();
            assert_eq!(
                state,
                State::Due(t0 + Duration::from_secs(secs)),
                "failure {}",
                i + 1
            );
        }
        assert_eq!(s.failures(), 10);
        assert_eq!(s.succeeded(t0), &State::Due(t0 + Duration::from_secs(300)));
        assert_eq!(s.failures(), 0);
    }

    #[test]
    fn a_local_write_goes_at_once_even_while_backing_off() {
        let t0 = Instant::now();
        let mut s = Schedule::new(Policy::default(), t0);
        for _ in 0..5 {
            s.failed(&offline(), t0, 0.5);
        }
        let later = t0 + Duration::from_secs(1);
        for trigger in [
            Trigger::LocalWrite,
            Trigger::Requested,
            Trigger::Online,
            Trigger::Unlocked,
        ] {
            assert_eq!(s.trigger(trigger, later), &State::Due(later), "{trigger:?}");
        }
    }

    #[test]
    fn a_pin_mismatch_halts_until_the_user_asks() {
        let t0 = Instant::now();
        let mut s = Schedule::new(Policy::default(), t0);
        let state = s.failed(&SyncError::PinMismatch, t0, 0.5).clone();
        assert!(matches!(&state, State::Halted(why) if why.starts_with("security warning")));
        for trigger in [Trigger::LocalWrite, Trigger::Online, Trigger::Unlocked] {
            assert!(
                matches!(s.trigger(trigger, t0), State::Halted(_)),
                "{trigger:?}"
            );
        }
        assert_eq!(s.trigger(Trigger::Requested, t0), &State::Due(t0));
        let server_busy = SyncError::Server {
            status: 503,
            message: "busy".into(),
        };
        assert!(matches!(s.failed(&server_busy, t0, 0.5), State::Due(_)));
        let refused = SyncError::Server {
            status: 403,
            message: "no".into(),
        };
        assert!(matches!(s.failed(&refused, t0, 0.5), State::Halted(_)));
    }
}
