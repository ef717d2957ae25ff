//! Sign-in throttling shared by every backend: the keys counted (account, account on a
//! device, source IP), the policy, and the pure delay arithmetic the backends apply.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use canopy_core::AccountId;
use time::OffsetDateTime;

use super::records::DeviceId;

/// What a failure is counted against. The auth flow picks the keys: e.g. the IP and the
/// account for an unknown device, the IP and the (account, device) pair for a known one,
/// so an attacker hammering an account can't slow its owner's own device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ThrottleKey {
    Ip(IpAddr),
    Account(AccountId),
    AccountDevice(AccountId, DeviceId),
}

impl fmt::Display for ThrottleKey {
    /// The stable text kept in the database. An IPv4-mapped IPv6 address counts as its IPv4
    /// address, and any other IPv6 address as its /64, since one client usually owns a whole
    /// /64 and could otherwise rotate through it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ThrottleKey::Ip(ip) => match ip.to_canonical() {
                IpAddr::V4(v4) => write!(f, "ip:{v4}"),
                IpAddr::V6(v6) => {
                    let net = Ipv6Addr::from_bits(v6.to_bits() & !u128::from(u64::MAX));
                    write!(f, "ip:{net}/64")
                }
            },
            ThrottleKey::Account(account) => write!(f, "account:{account}"),
            ThrottleKey::AccountDevice(account, device) => {
                write!(f, "account:{account}:device:{device}")
            }
        }
    }
}

/// How failures turn into delays. Defaults follow SECURITY.md #5: exponential from the
/// fourth failure, at most 15 minutes, never more than 100 failures an hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// The sliding window failures are counted in.
    pub window: Duration,
    /// Failures in the window that cost nothing (typos happen).
    pub free_failures: u32,
    /// The delay after the first failure past the free ones; doubles with each further one.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Once this many failures sit in the window, nothing more is allowed until the
    /// oldest of them leaves it.
    pub max_failures_per_window: u32,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(3600),
            free_failures: 3,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(15 * 60),
            max_failures_per_window: 100,
        }
    }
}

impl ThrottlePolicy {
    /// The delay owed after `failures` failures in the window.
    pub fn delay_after(&self, failures: u32) -> Duration {
        let Some(past_free) = failures.checked_sub(self.free_failures) else {
            return Duration::ZERO;
        };
        if past_free == 0 {
            return Duration::ZERO;
        }
        // 2^(past_free - 1), saturating long before it could overflow.
        let factor = 1u32.checked_shl(past_free - 1).unwrap_or(u32::MAX);
        self.base_delay
            .checked_mul(factor)
            .map_or(self.max_delay, |d| d.min(self.max_delay))
    }

    /// When the next attempt is allowed, given the failures in the window and the oldest
    /// of them (as unix seconds).
    pub fn next_allowed_at(&self, failures: u32, oldest: i64, now: i64) -> i64 {
        let delayed = now.saturating_add(secs(self.delay_after(failures)));
        if failures >= self.max_failures_per_window {
            delayed.max(oldest.saturating_add(secs(self.window)))
        } else {
            delayed
        }
    }

    /// Unix seconds before which a failure has left the window.
    pub fn window_start(&self, now: i64) -> i64 {
        now.saturating_sub(secs(self.window))
    }
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// One key's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleState {
    pub key: ThrottleKey,
    /// Failures inside the window.
    pub failures: u32,
    /// `None` when nothing is owed.
    pub next_allowed_at: Option<OffsetDateTime>,
}

/// The state of every key asked about, in the order asked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ThrottleStatus {
    pub keys: Vec<ThrottleState>,
}

impl ThrottleStatus {
    /// The latest `next_allowed_at` across the keys.
    pub fn next_allowed_at(&self) -> Option<OffsetDateTime> {
        self.keys.iter().filter_map(|k| k.next_allowed_at).max()
    }

    /// Whether an attempt at `now` must wait, and until when.
    pub fn blocked_until(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        self.next_allowed_at().filter(|at| *at > now)
    }

    pub fn get(&self, key: ThrottleKey) -> Option<&ThrottleState> {
        self.keys.iter().find(|k| k.key == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_exponentially_and_cap() {
        let policy = ThrottlePolicy::default();
        let cases = [
            (0, 0),
            (3, 0),
            (4, 1),
            (5, 2),
            (6, 4),
            (10, 64),
            (13, 512),
            (14, 900),
            (99, 900),
            (u32::MAX, 900),
        ];
        for (failures, expected) in cases {
            assert_eq!(
                policy.delay_after(failures),
                Duration::from_secs(expected),
                "after {failures} failures"
            );
        }
    }

    #[test]
    fn the_hourly_cap_waits_for_the_oldest_failure_to_leave_the_window() {
        let policy = ThrottlePolicy::default();
        assert_eq!(policy.next_allowed_at(99, 1_000, 2_000), 2_900);
        assert_eq!(policy.next_allowed_at(100, 1_000, 2_000), 4_600);
        assert_eq!(policy.next_allowed_at(4, 1_000, 2_000), 2_001);
    }

    #[test]
    fn keys_have_stable_text() {
        let cases = [
            (
                ThrottleKey::Ip("192.0.2.7".parse().unwrap()),
                "ip:192.0.2.7",
            ),
            (
                ThrottleKey::Ip("2001:db8:0:7:a:b:c:d".parse().unwrap()),
                "ip:2001:db8:0:7::/64",
            ),
            (
                ThrottleKey::Ip("::ffff:192.0.2.7".parse().unwrap()),
                "ip:192.0.2.7",
            ),
            (ThrottleKey::Account(AccountId::new(42)), "account:42"),
            (
                ThrottleKey::AccountDevice(AccountId::new(42), DeviceId::new(7)),
                "account:42:device:7",
            ),
        ];
        for (key, text) in cases {
            assert_eq!(key.to_string(), text);
        }
    }
}
