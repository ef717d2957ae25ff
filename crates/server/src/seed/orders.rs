//! Twelve monthly periods of orders for the seeded company: who buys in which month, what,
//! at what local price and PV. Each member's orders come from a random stream of its own.

use std::num::NonZeroU32;

use canopy_core::{
    Currency, MemberStatus, Money, Order, OrderId, OrderLine, OrderStatus, Product, Pv, Sku,
};
use time::{Date, Month, OffsetDateTime, Time};

use super::SeedError;
use super::people::{joined_on, locale, member_id, standing};
use super::rng::Rng;
use super::tree::Skeleton;

const STREAM_ORDERS: u64 = 4;
/// How many monthly periods end at the reference date.
pub const PERIODS: u32 = 12;
/// Order ids are `member id × 16 + period`, so they never depend on batching.
const IDS_PER_MEMBER: i64 = 16;

/// The demo catalogue: SKU, price in US cents, PV in hundredths.
const CATALOGUE: [(&str, i64, i64); 10] = [
    ("VIT-100", 2_999, 2_500),
    ("VIT-200", 4_499, 3_800),
    ("PRO-SHAKE-VAN", 5_499, 4_500),
    ("PRO-SHAKE-CHO", 5_499, 4_500),
    ("TEA-GREEN", 1_250, 1_000),
    ("OMEGA-3", 3_299, 2_700),
    ("SKIN-SERUM", 6_900, 5_000),
    ("SKIN-CREAM", 3_900, 3_000),
    ("BAR-BOX-12", 2_400, 1_800),
    ("STARTER-KIT", 9_900, 8_000),
];

/// A leader's monthly order reaches at least this volume (hundredths): 100 PV.
const AUTOSHIP_PV: i64 = 10_000;

/// The demo catalogue's names, in [`CATALOGUE`]'s order.
const NAMES: [&str; 10] = [
    "Daily Vitamins (100)",
    "Daily Vitamins Plus (200)",
    "Protein Shake, Vanilla",
    "Protein Shake, Chocolate",
    "Green Tea (30 bags)",
    "Omega-3 Softgels",
    "Renewal Serum",
    "Hydrating Cream",
    "Protein Bars (box of 12)",
    "Starter Kit",
];

/// The products the demo company sells (the order form's catalogue), in US dollars.
pub fn catalogue() -> Result<Vec<Product>, SeedError> {
    let usd = Currency::parse("USD").map_err(|_| SeedError::Generated("currency"))?;
    CATALOGUE
        .iter()
        .zip(NAMES)
        .map(|(&(sku, cents, pv), name)| {
            Ok(Product {
                sku: Sku::parse(sku).map_err(|_| SeedError::Generated("sku"))?,
                name: name.to_owned(),
                price: Money::new(cents, usd),
                pv: Pv::from_hundredths(pv),
                active: true,
            })
        })
        .collect()
}

/// The first day of each period, oldest first, the last one containing `reference`.
pub(crate) fn period_starts(reference: Date) -> Vec<Date> {
    let mut starts = Vec::with_capacity(PERIODS as usize);
    let (mut year, mut month) = (reference.year(), reference.month());
    for _ in 0..PERIODS {
        if let Ok(date) = Date::from_calendar_date(year, month, 1) {
            starts.push(date);
        }
        if month == Month::January {
            year -= 1;
        }
        month = month.previous();
    }
    starts.reverse();
    starts
}

/// The orders of member `index`, at most one a period, none after `reference`.
pub(crate) fn orders_of(
    sk: &Skeleton,
    seed: u64,
    index: usize,
    periods: &[Date],
    reference: Date,
) -> Result<Vec<Order>, SeedError> {
    let (status, _) = standing(sk, seed, index);
    let per_mille = match status {
        MemberStatus::Active => 700,
        MemberStatus::Inactive => 80,
        MemberStatus::Suspended | MemberStatus::Terminated => 150,
        MemberStatus::Erased => 0,
    };
    if per_mille == 0 {
        return Ok(Vec::new());
    }
    // Leaders (active members with a team of their own) keep a monthly autoship of at
    // least AUTOSHIP_PV, as a compensation plan asks of anyone who earns on a team.
    let leader = status == MemberStatus::Active && sk.downline[index] > 0;
    let mut rng = Rng::derive(seed, STREAM_ORDERS, index as u64);
    let locale = locale(sk, index);
    let joined = joined_on(sk, index, reference);
    // The last period runs up to the reference day (the whole month when it is the last).
    let until = reference.next_day().unwrap_or(reference);
    let mut orders = Vec::new();
    for (period, &start) in periods.iter().enumerate() {
        let end = periods
            .get(period + 1)
            .copied()
            .unwrap_or_else(|| {
                start + time::Duration::days(i64::from(start.month().length(start.year())))
            })
            .min(until);
        // Drawn for everyone, so a leader's other draws stay those of any member.
        let ordered = rng.chance(per_mille);
        if joined >= end || !(ordered || leader) {
            continue;
        }
        let first_day = joined.max(start);
        let days = (end - first_day).whole_days().max(1);
        let day = first_day + time::Duration::days(rng.below(days as u64) as i64);
        let seconds = rng.below(86_400) as u32;
        let at = Time::from_hms(
            (seconds / 3_600) as u8,
            (seconds / 60 % 60) as u8,
            (seconds % 60) as u8,
        )
        .map_err(|_| SeedError::Generated("order time"))?;
        let last = period + 1 == periods.len();
        let status = if last {
            [
                OrderStatus::Pending,
                OrderStatus::Paid,
                OrderStatus::Shipped,
                OrderStatus::Cancelled,
            ][rng.weighted(&[150, 450, 380, 20])]
        } else {
            [
                OrderStatus::Shipped,
                OrderStatus::Refunded,
                OrderStatus::Returned,
                OrderStatus::Cancelled,
            ][rng.weighted(&[900, 30, 20, 50])]
        };
        let line_count = 1 + rng.weighted(&[600, 300, 100]);
        let mut lines = Vec::with_capacity(line_count);
        let first = rng.below(CATALOGUE.len() as u64) as usize;
        for k in 0..line_count {
            let (sku, cents, pv) = CATALOGUE[(first + k * 3) % CATALOGUE.len()];
            let quantity = 1 + rng.weighted(&[750, 200, 50]) as u32;
            lines.push(OrderLine {
                sku: Sku::parse(sku).map_err(|_| SeedError::Generated("sku"))?,
                quantity: NonZeroU32::new(quantity).ok_or(SeedError::Generated("quantity"))?,
                unit_price: Money::new((cents * locale.per_100_cents + 50) / 100, locale.currency),
                unit_pv: Pv::from_hundredths(pv),
            });
        }
        let mut next = first + line_count * 3;
        while leader
            && lines
                .iter()
                .map(|l| l.unit_pv.hundredths() * i64::from(l.quantity.get()))
                .sum::<i64>()
                < AUTOSHIP_PV
        {
            let (sku, cents, pv) = CATALOGUE[next % CATALOGUE.len()];
            next += 3;
            if lines.iter().any(|l| l.sku.as_str() == sku) {
                continue;
            }
            lines.push(OrderLine {
                sku: Sku::parse(sku).map_err(|_| SeedError::Generated("sku"))?,
                quantity: NonZeroU32::MIN,
                unit_price: Money::new((cents * locale.per_100_cents + 50) / 100, locale.currency),
                unit_pv: Pv::from_hundredths(pv),
            });
        }
        orders.push(Order {
            id: OrderId::new(member_id(index).get() * IDS_PER_MEMBER + period as i64),
            buyer: member_id(index),
            customer: None,
            placed_at: OffsetDateTime::new_utc(day, at),
            status,
            currency: locale.currency,
            lines,
        });
    }
    Ok(orders)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn twelve_periods_end_with_the_reference_month() {
        let starts = period_starts(date!(2026 - 10 - 31));
        assert_eq!(starts.len(), 12);
        assert_eq!(starts[0], date!(2025 - 11 - 01));
        assert_eq!(starts[11], date!(2026 - 10 - 01));
    }
}
