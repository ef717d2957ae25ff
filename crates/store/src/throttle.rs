//! Growing delays between wrong local passwords, remembered across restarts in a small
//! JSON file (`unlock-throttle.json` in the cache directory).
//!
//! Policy: the first [`FREE_FAILURES`] consecutive failures cost nothing beyond Argon2;
//! from the 4th on, the next attempt waits 5 s, then 10 s, 20 s, … doubling up to
//! 15 minutes. A right password resets the count.
//!
//! This only slows someone using the app itself: whoever can copy the files can delete
//! this one or attack the envelope directly. The real barrier is the Argon2 cost of every
//! guess (SECURITY.md #4, #18), which is why a missing or unreadable file simply counts as
//! no failures rather than locking the user out.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::fsutil;

/// Failures in a row that cost no extra delay.
pub const FREE_FAILURES: u32 = 3;
/// The delay after the first failure beyond [`FREE_FAILURES`].
pub const FIRST_DELAY: Duration = Duration::from_secs(5);
/// The longest delay, however many failures.
pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);

/// The name of the throttle file in the cache directory.
pub const FILE_NAME: &str = "unlock-throttle.json";

/// The delay that must pass after the `failures`-th consecutive failure before the next
/// attempt.
pub fn delay_after(failures: u32) -> Duration {
    let Some(doublings) = failures.checked_sub(FREE_FAILURES + 1) else {
        return Duration::ZERO;
    };
    // 5 s · 2^8 already exceeds the cap; stopping there keeps the shift from overflowing.
    let factor = 1u32 << doublings.min(8);
    (FIRST_DELAY * factor).min(MAX_DELAY)
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct State {
    /// Consecutive wrong passwords.
    failures: u32,
    /// When the last one was entered, in unix seconds.
    last_failure: u64,
}

/// The throttle for one cache, loaded from and saved to its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnlockThrottle {
    path: PathBuf,
    state: State,
}

impl UnlockThrottle {
    /// Loads the throttle from `path`. A missing file is no failures; so is an unreadable
    /// one, with a warning in the log (see the module doc for why that is safe).
    pub fn load(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let state = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(path = %path.display(), error = %e, "ignoring a damaged unlock throttle file");
                State::default()
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State::default(),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot read the unlock throttle file");
                State::default()
            }
        };
        Self { path, state }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Consecutive wrong passwords so far.
    pub fn failures(&self) -> u32 {
        self.state.failures
    }

    /// `Ok` if a password may be tried at `now`, else how long to wait. A clock set back
    /// never makes the wait longer than the current delay.
    pub fn check(&self, now: SystemTime) -> Result<(), StoreError> {
        let delay = delay_after(self.state.failures);
        if delay.is_zero() {
            return Ok(());
        }
        let last = UNIX_EPOCH + Duration::from_secs(self.state.last_failure);
        let elapsed = now.duration_since(last).unwrap_or(Duration::ZERO);
        match delay.checked_sub(elapsed) {
            Some(retry_after) if !retry_after.is_zero() => {
                Err(StoreError::Throttled { retry_after })
            }
            _ => Ok(()),
        }
    }

    /// Counts a wrong password entered at `now` and saves the count. The count in memory
    /// goes up even if saving fails.
    pub fn record_failure(&mut self, now: SystemTime) -> Result<(), StoreError> {
        self.state.failures = self.state.failures.saturating_add(1);
        self.state.last_failure = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        self.save()
    }

    /// A right password: back to no failures.
    pub fn record_success(&mut self) -> Result<(), StoreError> {
        if self.state == State::default() {
            return Ok(());
        }
        self.state = State::default();
        self.save()
    }

    fn save(&self) -> Result<(), StoreError> {
        let json = serde_json::to_vec(&self.state)
            .map_err(|e| StoreError::Invalid(format!("cannot encode the unlock throttle: {e}")))?;
        fsutil::write_atomic(&self.path, &json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_800_000_000;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn throttle() -> (tempfile::TempDir, UnlockThrottle) {
        let dir = tempfile::tempdir().unwrap();
        let throttle = UnlockThrottle::load(dir.path().join(FILE_NAME));
        (dir, throttle)
    }

    #[test]
    fn the_schedule_doubles_after_three_free_failures() {
        let cases = [
            (0, 0),
            (1, 0),
            (2, 0),
            (3, 0),
            (4, 5),
            (5, 10),
            (6, 20),
            (7, 40),
            (8, 80),
            (9, 160),
            (10, 320),
            (11, 640),
            (12, 900),
            (13, 900),
            (40, 900),
            (u32::MAX, 900),
        ];
        for (failures, secs) in cases {
            assert_eq!(
                delay_after(failures),
                Duration::from_secs(secs),
                "{failures}"
            );
        }
    }

    #[test]
    fn attempts_wait_out_the_delay() {
        // (failures so far, seconds since the last one, seconds still to wait)
        let cases = [
            (3, 0, None),
            (4, 0, Some(5)),
            (4, 4, Some(1)),
            (4, 5, None),
            (5, 3, Some(7)),
            (12, 0, Some(900)),
            (12, 899, Some(1)),
            (12, 900, None),
        ];
        for (failures, since, wait) in cases {
            let (_dir, mut throttle) = throttle();
            for _ in 0..failures {
                throttle.record_failure(at(T0)).unwrap();
            }
            let got = match throttle.check(at(T0 + since)) {
                Ok(()) => None,
                Err(StoreError::Throttled { retry_after }) => Some(retry_after.as_secs()),
                Err(other) => panic!("{other:?}"),
            };
            assert_eq!(got, wait, "{failures} failures, {since} s later");
        }
    }

    #[test]
    fn the_user_sees_how_long_to_wait() {
        let (_dir, mut throttle) = throttle();
        for _ in 0..4 {
            throttle.record_failure(at(T0)).unwrap();
        }
        let err = throttle.check(at(T0 + 2)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "too many wrong passwords: try again in 3 s"
        );
    }

    #[test]
    fn a_clock_set_back_never_waits_longer_than_the_delay() {
        let (_dir, mut throttle) = throttle();
        for _ in 0..4 {
            throttle.record_failure(at(T0)).unwrap();
        }
        let err = throttle.check(at(T0 - 86_400)).unwrap_err();
        assert!(
            matches!(err, StoreError::Throttled { retry_after } if retry_after == FIRST_DELAY),
            "{err:?}"
        );
    }

    #[test]
    fn failures_survive_a_restart_and_success_resets_them() {
        let (dir, mut throttle) = throttle();
        for _ in 0..5 {
            throttle.record_failure(at(T0)).unwrap();
        }
        let mut reloaded = UnlockThrottle::load(dir.path().join(FILE_NAME));
        assert_eq!(reloaded, throttle);
        assert!(reloaded.check(at(T0 + 1)).is_err());

        reloaded.record_success().unwrap();
        let reloaded = UnlockThrottle::load(dir.path().join(FILE_NAME));
        assert_eq!(reloaded.failures(), 0);
        assert!(reloaded.check(at(T0 + 1)).is_ok());
    }

    #[test]
    fn a_missing_or_damaged_file_counts_as_no_failures() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        assert_eq!(UnlockThrottle::load(&path).failures(), 0);
        for damaged in [&b""[..], b"{\"failures\": \"many\"}", b"\xff\xfe"] {
            std::fs::write(&path, damaged).unwrap();
            assert_eq!(UnlockThrottle::load(&path).failures(), 0);
        }
    }
}
