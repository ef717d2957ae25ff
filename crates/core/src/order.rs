//! Orders and their lines: what was bought, by whom, at what price and volume. Totals are
//! computed with checked arithmetic and refuse a line in another currency.

use std::num::NonZeroU32;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::{CustomerId, MemberId, OrderId};
use crate::money::{Currency, Money, MoneyError};
use crate::volume::{Pv, VolumeError};

/// A product code: 1 to 32 ASCII letters, digits, `-`, `_` or `.`, stored uppercase.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sku(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SkuError {
    #[error("Product codes have 1 to 32 letters, digits, hyphens, underscores or periods")]
    Invalid,
}

impl Sku {
    pub const MAX_LEN: usize = 32;

    pub fn parse(input: &str) -> Result<Self, SkuError> {
        let sku = input.trim().to_ascii_uppercase();
        let ok = (1..=Self::MAX_LEN).contains(&sku.len())
            && sku
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if ok {
            Ok(Self(sku))
        } else {
            Err(SkuError::Invalid)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

validated_string!(Sku, SkuError);

/// Where an order is in its life.
/// A product of the company's catalogue, as the order form offers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub sku: Sku,
    /// As the company names it (1 to [`Product::MAX_NAME`] characters).
    pub name: String,
    /// The price of one, in the catalogue's currency.
    pub price: Money,
    /// The volume one carries.
    pub pv: Pv,
    /// No longer sold: kept so past orders still show its name, never offered.
    pub active: bool,
}

impl Product {
    pub const MAX_NAME: usize = 120;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Pending,
    Paid,
    Shipped,
    Returned,
    Refunded,
    Cancelled,
}

impl OrderStatus {
    pub const fn label(self) -> &'static str {
        match self {
            OrderStatus::Pending => "Pending",
            OrderStatus::Paid => "Paid",
            OrderStatus::Shipped => "Shipped",
            OrderStatus::Returned => "Returned",
            OrderStatus::Refunded => "Refunded",
            OrderStatus::Cancelled => "Cancelled",
        }
    }

    /// Whether the order's PV counts towards volumes and commissions.
    pub const fn counts_for_volume(self) -> bool {
        matches!(self, OrderStatus::Paid | OrderStatus::Shipped)
    }

    /// The transitions the order process allows; anything else is a bug or tampering.
    pub const fn can_become(self, next: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, next),
            (Pending, Paid | Cancelled)
                | (Paid, Shipped | Refunded | Cancelled)
                | (Shipped, Returned | Refunded)
                | (Returned, Refunded)
        )
    }
}

display_from_label!(OrderStatus);

/// One product line of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub sku: Sku,
    /// At least 1 (zero is refused when deserialising, too).
    pub quantity: NonZeroU32,
    pub unit_price: Money,
    pub unit_pv: Pv,
}

impl OrderLine {
    /// `unit_price × quantity`.
    pub fn total(&self) -> Result<Money, MoneyError> {
        self.unit_price.checked_mul(i64::from(self.quantity.get()))
    }

    /// `unit_pv × quantity`.
    pub fn total_pv(&self) -> Result<Pv, VolumeError> {
        self.unit_pv.checked_mul(i64::from(self.quantity.get()))
    }
}

/// An order placed by a member, for themselves or for one of their retail customers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: OrderId,
    /// The member who placed it and whose PV it carries.
    pub buyer: MemberId,
    /// `Some` for a retail order placed on behalf of this customer of the buyer.
    pub customer: Option<CustomerId>,
    #[serde(with = "time::serde::rfc3339")]
    pub placed_at: OffsetDateTime,
    pub status: OrderStatus,
    /// Every line's price must be in this currency.
    pub currency: Currency,
    pub lines: Vec<OrderLine>,
}

impl Order {
    pub fn is_retail(&self) -> bool {
        self.customer.is_some()
    }

    /// Sum of the line totals; an empty order totals zero. A line priced in another
    /// currency is [`MoneyError::CurrencyMismatch`].
    pub fn total(&self) -> Result<Money, MoneyError> {
        self.lines
            .iter()
            .try_fold(Money::zero(self.currency), |acc, line| {
                acc.checked_add(line.total()?)
            })
    }

    pub fn total_pv(&self) -> Result<Pv, VolumeError> {
        self.lines
            .iter()
            .try_fold(Pv::ZERO, |acc, line| acc.checked_add(line.total_pv()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn line(sku: &str, qty: u32, cents: i64, currency: Currency, pv: i64) -> OrderLine {
        OrderLine {
            sku: Sku::parse(sku).unwrap(),
            quantity: NonZeroU32::new(qty).unwrap(),
            unit_price: Money::new(cents, currency),
            unit_pv: Pv::from_hundredths(pv),
        }
    }

    fn order(lines: Vec<OrderLine>) -> Order {
        Order {
            id: OrderId::new(1),
            buyer: MemberId::new(7),
            customer: None,
            placed_at: datetime!(2026-11-03 14:05:00 +01:00),
            status: OrderStatus::Paid,
            currency: Currency::USD,
            lines,
        }
    }

    #[test]
    fn totals_add_up_lines() {
        let o = order(vec![
            line("VIT-100", 2, 2_999, Currency::USD, 2_500),
            line("tea-green", 1, 1_250, Currency::USD, 1_000),
        ]);
        assert_eq!(o.total(), Ok(Money::new(7_248, Currency::USD)));
        assert_eq!(o.total().unwrap().to_string(), "USD 72.48");
        assert_eq!(o.total_pv(), Ok(Pv::from_hundredths(6_000)));
        assert_eq!(order(vec![]).total(), Ok(Money::zero(Currency::USD)));
    }

    #[test]
    fn totals_refuse_mixed_currencies_and_overflow() {
        let mixed = order(vec![
            line("A", 1, 100, Currency::USD, 0),
            line("B", 1, 100, Currency::EUR, 0),
        ]);
        assert_eq!(
            mixed.total().unwrap_err().to_string(),
            "Amounts in USD and EUR can't be combined"
        );
        let wrong_order_currency = order(vec![line("A", 1, 100, Currency::EUR, 0)]);
        assert!(wrong_order_currency.total().is_err());
        let huge = order(vec![line(
            "A",
            u32::MAX,
            i64::MAX / 2,
            Currency::USD,
            i64::MAX,
        )]);
        assert_eq!(huge.total(), Err(MoneyError::Overflow));
        assert_eq!(huge.total_pv(), Err(VolumeError::Overflow));
    }

    #[test]
    fn skus() {
        let cases: &[(&str, Result<&str, ()>)] = &[
            ("vit-100", Ok("VIT-100")),
            (" SKU_1.2 ", Ok("SKU_1.2")),
            ("", Err(())),
            ("has space", Err(())),
            ("ÄBC", Err(())),
            (&"A".repeat(33), Err(())),
        ];
        for (input, expected) in cases {
            let got = Sku::parse(input);
            match expected {
                Ok(s) => assert_eq!(got.unwrap().as_str(), *s),
                Err(()) => assert_eq!(
                    got.unwrap_err().to_string(),
                    "Product codes have 1 to 32 letters, digits, hyphens, underscores or periods"
                ),
            }
        }
    }

    #[test]
    fn status_rules() {
        use OrderStatus::*;
        assert!(Pending.can_become(Paid));
        assert!(Paid.can_become(Shipped));
        assert!(Shipped.can_become(Returned));
        assert!(Returned.can_become(Refunded));
        assert!(!Shipped.can_become(Pending));
        assert!(!Cancelled.can_become(Paid));
        assert!(!Refunded.can_become(Paid));
        let counts: Vec<_> = [Pending, Paid, Shipped, Returned, Refunded, Cancelled]
            .into_iter()
            .filter(|s| s.counts_for_volume())
            .collect();
        assert_eq!(counts, [Paid, Shipped]);
        assert_eq!(Cancelled.to_string(), "Cancelled");
    }

    #[test]
    fn serde_round_trip_with_rfc3339_and_quantity_check() {
        let o = order(vec![line("A", 3, 100, Currency::USD, 50)]);
        let json = serde_json::to_value(&o).unwrap();
        assert_eq!(json["placed_at"], "2026-11-03T14:05:00+01:00");
        assert_eq!(json["status"], "paid");
        assert_eq!(serde_json::from_value::<Order>(json.clone()).unwrap(), o);
        let mut zero_qty = json;
        zero_qty["lines"][0]["quantity"] = 0.into();
        assert!(serde_json::from_value::<Order>(zero_qty).is_err());
    }
}
