//! Corrections after close: a refund of an order from a closed period never edits its lines;
//! it issues new negative lines in the current period, each pointing at the line it reverses.

use serde::Serialize;

use super::run::line_cmp;
use crate::earnings::{EarningsKind, EarningsLine};
use crate::ids::{EarningsLineId, OrderId};
use crate::money::{Money, MoneyError};
use crate::period::Period;

/// What happened to the order after its period closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Correction {
    /// Refunded or returned in full: every line for the order is reversed exactly
    /// ([`EarningsKind::Clawback`]).
    Refund,
    /// `refunded` of the order's commissionable `order_amount` was refunded: each original
    /// line is reversed by `line × refunded / order_amount`, rounded half to even
    /// ([`EarningsKind::Adjustment`]).
    PartialRefund {
        refunded: Money,
        order_amount: Money,
    },
}

/// A correcting line and the line it reverses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CorrectionLine {
    pub line: EarningsLine,
    pub reverses: EarningsLineId,
    pub original_period: Period,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CorrectionError {
    #[error(
        "line #{line} is from {original}, which is not before {period}: rerun an open period instead of correcting it"
    )]
    PeriodNotClosed {
        line: EarningsLineId,
        original: Period,
        period: Period,
    },
    #[error("the refund of {refunded} is more than the order's {order_amount}")]
    RefundTooLarge {
        refunded: Money,
        order_amount: Money,
    },
    #[error("a partial refund needs a positive order amount and refund")]
    NotPositive,
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// Produces the lines, in `period`, that correct `order` after its period closed.
///
/// `issued` may hold any lines; those whose source is `order` are corrected. For a full
/// [`Correction::Refund`], pass every line ever issued for the order (originals and earlier
/// corrections): each is negated, so afterwards the order's lines sum to exactly zero. A
/// [`Correction::PartialRefund`] scales only original lines (not earlier corrections).
/// Lines are numbered from `first_line_id` in the run's sort order.
pub fn correct_after_close(
    issued: &[EarningsLine],
    order: OrderId,
    correction: Correction,
    period: Period,
    first_line_id: EarningsLineId,
) -> Result<Vec<CorrectionLine>, CorrectionError> {
    if let Correction::PartialRefund {
        refunded,
        order_amount,
    } = correction
    {
        if refunded.minor() <= 0 || order_amount.minor() <= 0 {
            return Err(CorrectionError::NotPositive);
        }
        if refunded.checked_cmp(order_amount)?.is_gt() {
            return Err(CorrectionError::RefundTooLarge {
                refunded,
                order_amount,
            });
        }
    }
    let mut out = Vec::new();
    for line in issued.iter().filter(|l| l.source.order == Some(order)) {
        if line.period >= period {
            return Err(CorrectionError::PeriodNotClosed {
                line: line.id,
                original: line.period,
                period,
            });
        }
        let (amount, kind) = match correction {
            Correction::Refund => (line.amount.checked_neg()?, EarningsKind::Clawback),
            Correction::PartialRefund {
                refunded,
                order_amount,
            } => {
                if is_correction(line.kind) {
                    continue;
                }
                let share = line
                    .amount
                    .checked_mul_ratio(refunded.minor(), order_amount.minor())?;
                (share.checked_neg()?, EarningsKind::Adjustment)
            }
        };
        if amount.is_zero() {
            continue;
        }
        out.push(CorrectionLine {
            line: EarningsLine {
                id: line.id,
                period,
                member: line.member,
                amount,
                kind,
                // The same source (order, member, level, rule, rate) keeps the reversal next
                // to what it reverses on a statement; `reverses` names the exact line.
                source: line.source.clone(),
            },
            reverses: line.id,
            original_period: line.period,
        });
    }
    // The run's line order; the same rule reversed twice is ordered by the reversed line.
    out.sort_by(|a, b| line_cmp(&a.line, &b.line).then(a.reverses.cmp(&b.reverses)));
    for (k, c) in (0i64..).zip(out.iter_mut()) {
        c.line.id = EarningsLineId::new(first_line_id.get().saturating_add(k));
    }
    Ok(out)
}

fn is_correction(kind: EarningsKind) -> bool {
    matches!(kind, EarningsKind::Clawback | EarningsKind::Adjustment)
}
