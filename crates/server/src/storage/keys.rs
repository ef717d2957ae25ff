//! What every storage backend writes the same way: instants as unix seconds, and the text
//! keys of statuses and placement legs (the schemas' CHECK constraints list the same keys).

use std::fmt;

use canopy_core::{EarningsKind, MemberStatus, OrderLine, OrderStatus, Position, Product};
use time::OffsetDateTime;

/// A stored value that does not read back as what was written (hand-edited database,
/// or a bug): reported as a backend failure, naming the column but not the value.
#[derive(Debug)]
pub(in crate::storage) struct BadValue(pub &'static str);

impl fmt::Display for BadValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unreadable stored value: {}", self.0)
    }
}

impl std::error::Error for BadValue {}

pub(in crate::storage) fn unix(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

pub(in crate::storage) const fn member_status_key(status: MemberStatus) -> &'static str {
    match status {
        MemberStatus::Active => "active",
        MemberStatus::Inactive => "inactive",
        MemberStatus::Suspended => "suspended",
        MemberStatus::Terminated => "terminated",
        MemberStatus::Erased => "erased",
    }
}

pub(in crate::storage) fn member_status(key: &str) -> Result<MemberStatus, BadValue> {
    [
        MemberStatus::Active,
        MemberStatus::Inactive,
        MemberStatus::Suspended,
        MemberStatus::Terminated,
        MemberStatus::Erased,
    ]
    .into_iter()
    .find(|s| member_status_key(*s) == key)
    .ok_or(BadValue("member status"))
}

pub(in crate::storage) const ORDER_STATUSES: [OrderStatus; 6] = [
    OrderStatus::Pending,
    OrderStatus::Paid,
    OrderStatus::Shipped,
    OrderStatus::Returned,
    OrderStatus::Refunded,
    OrderStatus::Cancelled,
];

pub(in crate::storage) const fn order_status_key(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Pending => "pending",
        OrderStatus::Paid => "paid",
        OrderStatus::Shipped => "shipped",
        OrderStatus::Returned => "returned",
        OrderStatus::Refunded => "refunded",
        OrderStatus::Cancelled => "cancelled",
    }
}

pub(in crate::storage) fn order_status(key: &str) -> Result<OrderStatus, BadValue> {
    ORDER_STATUSES
        .into_iter()
        .find(|s| order_status_key(*s) == key)
        .ok_or(BadValue("order status"))
}

/// `(leg, index)` columns of a placement.
pub(in crate::storage) fn position_columns(position: Position) -> (&'static str, i64) {
    match position {
        Position::Left => ("left", 0),
        Position::Right => ("right", 0),
        Position::Unilevel(i) => ("unilevel", i64::from(i)),
    }
}

pub(in crate::storage) const fn kind_key(kind: EarningsKind) -> &'static str {
    match kind {
        EarningsKind::RetailProfit => "retail_profit",
        EarningsKind::FastStart => "fast_start",
        EarningsKind::Unilevel => "unilevel",
        EarningsKind::Binary => "binary",
        EarningsKind::Matching => "matching",
        EarningsKind::RankAdvancement => "rank_advancement",
        EarningsKind::Leadership => "leadership",
        EarningsKind::Adjustment => "adjustment",
        EarningsKind::Clawback => "clawback",
    }
}

pub(in crate::storage) fn kind_of(key: &str) -> Option<EarningsKind> {
    EarningsKind::ALL.into_iter().find(|k| kind_key(*k) == key)
}

/// An order's lines at the catalogue's prices, or why it can't be placed: `catalogue` holds
/// what the backend found for each of `order.lines`' SKUs, in the same order.
pub(in crate::storage) fn price_lines(
    order: &crate::storage::NewOrder,
    catalogue: Vec<Option<Product>>,
) -> Result<Vec<OrderLine>, String> {
    let mut lines = Vec::with_capacity(order.lines.len());
    for ((sku, quantity), product) in order.lines.iter().zip(catalogue) {
        let Some(product) = product else {
            return Err(format!("{} is not in the catalogue", sku.as_str()));
        };
        if !product.active {
            return Err(format!(
                "{} ({}) is no longer sold",
                product.name,
                sku.as_str()
            ));
        }
        lines.push(OrderLine {
            sku: product.sku,
            quantity: *quantity,
            unit_price: product.price,
            unit_pv: product.pv,
        });
    }
    let Some(first) = lines.first() else {
        return Err("An order needs at least one product".into());
    };
    let currency = first.unit_price.currency();
    if lines.iter().any(|l| l.unit_price.currency() != currency) {
        return Err(
            "These products are priced in different currencies: order them separately".into(),
        );
    }
    let total = lines
        .iter()
        .try_fold(canopy_core::Money::zero(currency), |sum, l| {
            sum.checked_add(l.total()?)
        });
    let limit = canopy_core::Money::new(order.max_total_minor, currency);
    match total {
        Ok(total) if total.minor() <= limit.minor() => Ok(lines),
        Ok(total) => Err(format!(
            "This order comes to {total}, over the {limit} limit for one order: \
             split it, or order through the company"
        )),
        Err(_) => {
            Err("This order is too large to total: split it, or order through the company".into())
        }
    }
}

/// The smallest string greater than every string that starts with `prefix`: its last
/// character moved on by one (UTF-8 byte order is code-point order). `None` when there is
/// none (an empty prefix, or one ending in U+10FFFF): no upper bound then.
pub(in crate::storage) fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Why an unused refresh token can't be rotated, checked in this order (a revoked session
/// first, then its device, its account, its own expiry); `None` when it can.
pub(in crate::storage) fn refresh_refusal(
    record: &crate::storage::RefreshTokenRecord,
    device_revoked: bool,
    account_disabled: bool,
    now: OffsetDateTime,
) -> Option<crate::storage::RefreshRefusal> {
    use crate::storage::RefreshRefusal;
    if record.session.revoked_at.is_some() {
        Some(RefreshRefusal::SessionRevoked)
    } else if device_revoked {
        Some(RefreshRefusal::DeviceRevoked)
    } else if account_disabled {
        Some(RefreshRefusal::AccountDisabled)
    } else if record.expires_at <= now {
        Some(RefreshRefusal::Expired)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn prefix_ends() {
        let cases = [
            ("", None),
            ("ana", Some("anb")),
            ("zoë", Some("zoì")),
            ("a\u{10FFFF}", Some("b")),
            ("\u{10FFFF}", None),
            ("a\u{D7FF}", Some("a\u{E000}")),
        ];
        for (prefix, end) in cases {
            assert_eq!(prefix_end(prefix).as_deref(), end, "{prefix:?}");
        }
    }
}
