//! The transaction watch's decisions, as pure functions of what storage counted and the
//! `[alerts]` thresholds: no clock, no database, each tested by a table of cases.

use canopy_core::{AccountId, Period};
use time::{Duration, OffsetDateTime, PrimitiveDateTime, Time};

use super::{OrderActivity, OrderLink};
use crate::config::AlertsConfig;

/// The median of `values` (the mean of the two middle ones for an even count, rounded
/// down); `None` for none.
pub fn median(values: &[i64]) -> Option<i64> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        // i128: two large totals never overflow their sum.
        _ => {
            let sum = i128::from(sorted[n / 2 - 1]) + i128::from(sorted[n / 2]);
            i64::try_from(sum.div_euclid(2)).ok()
        }
    }
}

/// Whether an order totalling `total_minor` is far above the member's `earlier` orders
/// (their totals in the same currency): enough history, above the floor, and more than
/// `order_multiple` times their median. Returns that median when it is.
pub fn large_order(total_minor: i64, earlier: &[i64], rules: &AlertsConfig) -> Option<i64> {
    let enough = earlier.len() >= rules.order_min_history as usize;
    let median = median(earlier)?;
    let above = i128::from(total_minor) > i128::from(rules.order_multiple) * i128::from(median);
    (enough && total_minor >= rules.order_min_minor && above).then_some(median)
}

/// What an enrollment burst was counted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BurstSource {
    Device,
    Ip,
}

/// Whether the enrollments from one device or one address in the window make a burst. A
/// device names the burst more precisely than an address (which a whole office or an
/// event's network shares), so it wins when both do: one push raises at most one alert.
pub fn enrollment_burst(by_device: u32, by_ip: u32, rules: &AlertsConfig) -> Option<BurstSource> {
    if by_device >= rules.enroll_burst_count {
        Some(BurstSource::Device)
    } else if by_ip >= rules.enroll_burst_count {
        Some(BurstSource::Ip)
    } else {
        None
    }
}

/// The hours watched before `now`'s period closes: `(period, start, end)` when `now` is in
/// the last `close_hours` of its calendar month (UTC, as orders are counted), else `None`.
pub fn close_window(
    now: OffsetDateTime,
    rules: &AlertsConfig,
) -> Option<(Period, OffsetDateTime, OffsetDateTime)> {
    let now = now.to_offset(time::UtcOffset::UTC);
    let period = Period::containing(now.date()).ok()?;
    let end = PrimitiveDateTime::new(period.next()?.first_day(), Time::MIDNIGHT).assume_utc();
    let start = end - Duration::hours(i64::from(rules.close_hours));
    (start <= now && now < end).then_some((period, start, end))
}

/// Whether an account's orders in the watched hours (`window`) are a burst: at least the
/// minimum count (or volume), and more than `close_multiple` times what its rate over the
/// baseline days (`baseline`) would bring in as many hours. Either measure may trip it.
pub fn close_burst(window: &OrderActivity, baseline: &OrderActivity, rules: &AlertsConfig) -> bool {
    let window_hours = i128::from(rules.close_hours);
    let baseline_hours = i128::from(rules.close_baseline_days) * 24;
    let multiple = i128::from(rules.close_multiple);
    // `seen / window_hours > multiple × usual / baseline_hours`, without dividing.
    let above_usual =
        |seen: i128, usual: i128| seen * baseline_hours > multiple * usual * window_hours;
    let by_count = window.orders >= rules.close_min_orders
        && above_usual(window.orders.into(), baseline.orders.into());
    let by_volume = window.pv_hundredths >= i64::from(rules.close_min_pv) * 100
        && above_usual(window.pv_hundredths.into(), baseline.pv_hundredths.into());
    by_count || by_volume
}

/// The shortest loop of two or three accounts through `me` in which each one ordered for
/// the next one's member at least `min_pv_hundredths` of volume, as its links starting
/// with `me`'s; `None` if there is none.
pub fn find_loop(
    me: AccountId,
    links: &[OrderLink],
    min_pv_hundredths: i64,
) -> Option<Vec<OrderLink>> {
    let strong: Vec<&OrderLink> = links
        .iter()
        .filter(|l| l.from != l.to && l.pv_hundredths >= min_pv_hundredths)
        .collect();
    let link = |from: AccountId, to: AccountId| {
        strong
            .iter()
            .find(|l| l.from == from && l.to == to)
            .map(|l| (*l).clone())
    };
    let mut outgoing: Vec<&OrderLink> = strong.iter().copied().filter(|l| l.from == me).collect();
    // The same links in any order give the same loop.
    outgoing.sort_by_key(|l| l.to);
    for first in &outgoing {
        if let Some(back) = link(first.to, me) {
            return Some(vec![(*first).clone(), back]);
        }
    }
    for first in &outgoing {
        let mut onward: Vec<&OrderLink> = strong
            .iter()
            .copied()
            .filter(|l| l.from == first.to && l.to != me)
            .collect();
        onward.sort_by_key(|l| l.to);
        for second in onward {
            if let Some(back) = link(second.to, me) {
                return Some(vec![(*first).clone(), second.clone(), back]);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use canopy_core::MemberId;
    use time::macros::datetime;

    use super::*;

    fn rules() -> AlertsConfig {
        AlertsConfig::default()
    }

    #[test]
    fn medians() {
        let cases: [(&[i64], Option<i64>); 5] = [
            (&[], None),
            (&[7], Some(7)),
            (&[9, 1, 5], Some(5)),
            (&[1, 2, 3, 100], Some(2)),
            (&[i64::MAX, i64::MAX], Some(i64::MAX)),
        ];
        for (values, expected) in cases {
            assert_eq!(median(values), expected, "{values:?}");
        }
    }

    #[test]
    fn an_order_far_above_the_members_history() {
        // Defaults: 5 × the median, 3 earlier orders, at least 250.00.
        let usual: &[i64] = &[6_000, 5_000, 7_000];
        let cases: [(i64, &[i64], Option<i64>); 8] = [
            (30_001, usual, Some(6_000)),
            // Exactly five times is not more than five times.
            (30_000, usual, None),
            (29_999, usual, None),
            // Two earlier orders are too few to judge by.
            (90_000, &[6_000, 6_000], None),
            (90_000, &[], None),
            // Far above a tiny history, but under the floor.
            (24_999, &[100, 100, 100], None),
            (25_000, &[100, 100, 100], Some(100)),
            // One earlier big order does not raise the bar: the median ignores it.
            (40_000, &[6_000, 6_000, 400_000, 7_000], Some(6_500)),
        ];
        for (total, earlier, expected) in cases {
            assert_eq!(
                large_order(total, earlier, &rules()),
                expected,
                "{total} after {earlier:?}"
            );
        }
    }

    #[test]
    fn enrollment_bursts_prefer_the_device() {
        let cases = [
            (0, 0, None),
            (7, 7, None),
            (8, 8, Some(BurstSource::Device)),
            (8, 20, Some(BurstSource::Device)),
            (1, 8, Some(BurstSource::Ip)),
            (7, 100, Some(BurstSource::Ip)),
        ];
        for (by_device, by_ip, expected) in cases {
            assert_eq!(
                enrollment_burst(by_device, by_ip, &rules()),
                expected,
                "{by_device} {by_ip}"
            );
        }
    }

    #[test]
    fn the_watched_hours_are_the_last_two_days_of_the_month() {
        let end = datetime!(2027-02-01 00:00 UTC);
        let cases = [
            (datetime!(2027-01-29 23:59:59 UTC), None),
            (
                datetime!(2027-01-30 00:00 UTC),
                Some(("2027-01", datetime!(2027-01-30 00:00 UTC))),
            ),
            (
                datetime!(2027-01-31 23:59:59 UTC),
                Some(("2027-01", datetime!(2027-01-30 00:00 UTC))),
            ),
            (datetime!(2027-02-01 00:00 UTC), None),
            (datetime!(2027-01-15 08:00 UTC), None),
            // Another offset, the same instant: still the last hours of January in UTC.
            (
                datetime!(2027-02-01 00:30 +01:00),
                Some(("2027-01", datetime!(2027-01-30 00:00 UTC))),
            ),
        ];
        for (now, expected) in cases {
            let got = close_window(now, &rules()).map(|(p, start, e)| {
                assert_eq!(e, end);
                (p.to_string(), start)
            });
            let expected = expected.map(|(p, start)| (p.to_owned(), start));
            assert_eq!(got, expected, "{now}");
        }
        // December closes into the next year.
        let (period, _, end) = close_window(datetime!(2026-12-31 12:00 UTC), &rules()).unwrap();
        assert_eq!(period.to_string(), "2026-12");
        assert_eq!(end, datetime!(2027-01-01 00:00 UTC));
    }

    #[test]
    fn a_burst_before_close_against_the_accounts_usual_rate() {
        let activity = |orders, pv: i64| OrderActivity {
            orders,
            pv_hundredths: pv * 100,
            order_ids: Vec::new(),
        };
        // Defaults: 48 hours, 5 orders or 500 PV, 3 × the rate over 90 days. Over 90 days
        // (2,160 hours), 45 orders make 1 order per 48 hours, so 3 are usual-times-three.
        let cases = [
            (activity(5, 50), activity(0, 0), true),
            (activity(4, 50), activity(0, 0), false),
            (activity(5, 50), activity(45, 4_500), true),
            // 5 orders against 90 in 90 days (2 per 48 hours): 5 is not more than 6.
            (activity(5, 50), activity(90, 4_500), false),
            (activity(7, 50), activity(90, 4_500), true),
            // Few orders, but much volume: 500 PV against 100 PV per 48 hours.
            (activity(1, 500), activity(45, 4_500), true),
            (activity(1, 499), activity(0, 0), false),
            (activity(2, 600), activity(90, 9_000), false),
        ];
        for (window, baseline, expected) in cases {
            assert_eq!(
                close_burst(&window, &baseline, &rules()),
                expected,
                "{window:?} against {baseline:?}"
            );
        }
    }

    fn link(from: i64, to: i64, pv: i64) -> OrderLink {
        OrderLink {
            from: AccountId::new(from),
            to: AccountId::new(to),
            member: MemberId::new(to * 100),
            orders: 1,
            pv_hundredths: pv * 100,
        }
    }

    fn accounts(found: Option<Vec<OrderLink>>) -> Option<Vec<i64>> {
        found.map(|links| links.iter().map(|l| l.from.get()).collect())
    }

    #[test]
    fn loops_of_two_or_three_accounts() {
        let me = AccountId::new(1);
        let min = 100 * 100;
        let cases: [(Vec<OrderLink>, Option<Vec<i64>>); 8] = [
            (vec![], None),
            (vec![link(1, 2, 150)], None),
            (vec![link(1, 2, 150), link(2, 1, 150)], Some(vec![1, 2])),
            // One weak link breaks the loop.
            (vec![link(1, 2, 150), link(2, 1, 99)], None),
            (
                vec![link(1, 2, 100), link(2, 3, 100), link(3, 1, 100)],
                Some(vec![1, 2, 3]),
            ),
            // A loop not through the account that pushed is another push's business.
            (
                vec![link(2, 3, 500), link(3, 2, 500), link(1, 2, 500)],
                None,
            ),
            // Four accounts is a chain too long to call a loop.
            (
                vec![
                    link(1, 2, 500),
                    link(2, 3, 500),
                    link(3, 4, 500),
                    link(4, 1, 500),
                ],
                None,
            ),
            // The shortest loop wins.
            (
                vec![
                    link(1, 2, 500),
                    link(2, 3, 500),
                    link(3, 1, 500),
                    link(1, 3, 500),
                ],
                Some(vec![1, 3]),
            ),
        ];
        for (links, expected) in cases {
            assert_eq!(accounts(find_loop(me, &links, min)), expected, "{links:?}");
        }
    }
}
