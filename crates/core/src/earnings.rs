//! Earnings statement lines: what a member earned in a period, how much, and which rule of
//! the compensation plan produced it from which order or downline member.

use serde::{Deserialize, Serialize};

use crate::ids::{EarningsLineId, MemberId, OrderId};
use crate::money::{BasisPoints, Currency, Money, MoneyError};
use crate::period::Period;

/// The family of plan rule a line comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EarningsKind {
    /// Margin on sales to the member's own retail customers.
    RetailProfit,
    /// Bonus on a newly enrolled member's first orders.
    FastStart,
    /// Percentage of downline volume by level.
    Unilevel,
    /// Percentage of the weaker leg's volume in a binary plan.
    Binary,
    /// Percentage of what the member's enrollees earned.
    Matching,
    /// One-off bonus for reaching a rank.
    RankAdvancement,
    /// Pool or leadership bonus.
    Leadership,
    /// Manual correction by the company (may be negative).
    Adjustment,
    /// Reversal of an earlier line after a return or refund (negative).
    Clawback,
}

impl EarningsKind {
    /// Every kind, in the order statements list their subtotals.
    pub const ALL: [EarningsKind; 9] = [
        EarningsKind::RetailProfit,
        EarningsKind::FastStart,
        EarningsKind::Unilevel,
        EarningsKind::Binary,
        EarningsKind::Matching,
        EarningsKind::RankAdvancement,
        EarningsKind::Leadership,
        EarningsKind::Adjustment,
        EarningsKind::Clawback,
    ];

    pub const fn label(self) -> &'static str {
        match self {
            EarningsKind::RetailProfit => "Retail profit",
            EarningsKind::FastStart => "Fast start bonus",
            EarningsKind::Unilevel => "Unilevel commission",
            EarningsKind::Binary => "Binary commission",
            EarningsKind::Matching => "Matching bonus",
            EarningsKind::RankAdvancement => "Rank advancement bonus",
            EarningsKind::Leadership => "Leadership bonus",
            EarningsKind::Adjustment => "Adjustment",
            EarningsKind::Clawback => "Clawback",
        }
    }
}

display_from_label!(EarningsKind);

/// Why a line exists: the answer to "where did this amount come from?".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarningsSource {
    /// The order whose volume paid this, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<OrderId>,
    /// The downline member whose order or earnings paid this, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<MemberId>,
    /// Depth of `member` below the earner (1 = personally enrolled), if level-based.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<u16>,
    /// Name of the plan rule, as the plan defines it ("Unilevel L3", "Fast Start").
    pub rule: String,
    /// The rate applied, if the rule is a percentage (fixed bonuses have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<BasisPoints>,
}

/// One line of a member's earnings statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarningsLine {
    pub id: EarningsLineId,
    pub period: Period,
    /// Who earned it.
    pub member: MemberId,
    /// Negative for clawbacks and negative adjustments.
    pub amount: Money,
    pub kind: EarningsKind,
    pub source: EarningsSource,
}

impl EarningsLine {
    /// Total of a statement's lines, all of which must be in `currency`.
    pub fn total<'a, I>(currency: Currency, lines: I) -> Result<Money, MoneyError>
    where
        I: IntoIterator<Item = &'a EarningsLine>,
    {
        Money::checked_sum(currency, lines.into_iter().map(|l| l.amount))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: i64, cents: i64, kind: EarningsKind) -> EarningsLine {
        EarningsLine {
            id: EarningsLineId::new(id),
            period: Period::parse("2026-11").unwrap(),
            member: MemberId::new(7),
            amount: Money::new(cents, Currency::USD),
            kind,
            source: EarningsSource {
                order: Some(OrderId::new(99)),
                member: Some(MemberId::new(12)),
                level: Some(3),
                rule: "Unilevel L3".to_owned(),
                rate: Some(BasisPoints::new(500)),
            },
        }
    }

    #[test]
    fn statement_total_and_labels() {
        let lines = [
            line(1, 1_250, EarningsKind::Unilevel),
            line(2, 5_000, EarningsKind::FastStart),
            line(3, -1_250, EarningsKind::Clawback),
        ];
        let total = EarningsLine::total(Currency::USD, &lines).unwrap();
        assert_eq!(total.to_string(), "USD 50.00");
        assert!(EarningsLine::total(Currency::EUR, &lines).is_err());
        assert_eq!(EarningsKind::FastStart.to_string(), "Fast start bonus");
        assert_eq!(
            lines[0].source.rate.map(|r| r.to_string()),
            Some("5.00%".to_owned())
        );
    }

    #[test]
    fn serde_shape() {
        let l = line(1, 1_250, EarningsKind::Unilevel);
        let json = serde_json::to_value(&l).unwrap();
        assert_eq!(json["period"], "2026-11");
        assert_eq!(json["kind"], "unilevel");
        assert_eq!(json["source"]["rate"], 500);
        assert_eq!(json["amount"]["minor"], 1_250);
        assert_eq!(serde_json::from_value::<EarningsLine>(json).unwrap(), l);
    }
}
