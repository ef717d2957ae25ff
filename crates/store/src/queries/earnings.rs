//! The user's earnings: totals per period, one period's statement page by page with each
//! line traced to its order and member, and a member's rank history.

use canopy_core::{
    BasisPoints, Currency, EarningsKind, MemberId, Money, OrderId, Period, RankLevel,
};
use rusqlite::{OptionalExtension, params};

use crate::codes;
use crate::error::StoreError;
use crate::store::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementStatus {
    /// The period is still running: the lines are a projection.
    Open,
    /// Closed by the company: the figures are final.
    Final,
}

/// One period's total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodEarnings {
    pub period: Period,
    pub status: StatementStatus,
    pub total: Money,
}

/// One line of a statement with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarningsLineRow {
    pub id: i64,
    pub kind: EarningsKind,
    pub amount: Money,
    pub order: Option<OrderId>,
    pub source_member: Option<MemberId>,
    /// The source member's name, when they are in the cache.
    pub source_name: Option<String>,
    pub level: Option<u16>,
    pub rule: String,
    pub rate: Option<BasisPoints>,
}

/// A page of a period's statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub summary: PeriodEarnings,
    pub lines: Vec<EarningsLineRow>,
    /// Pass as `after` for the next page; `None` on the last.
    pub next: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankHistoryEntry {
    pub period: Period,
    pub rank: RankLevel,
    pub name: String,
}

fn period_of(index: i64) -> Result<Period, StoreError> {
    u32::try_from(index)
        .ok()
        .and_then(|i| Period::from_index(i).ok())
        .ok_or_else(|| StoreError::Invalid(format!("period number {index}")))
}

fn currency(code: &str) -> Result<Currency, StoreError> {
    Currency::parse(code).map_err(|_| StoreError::Invalid(format!("currency {code:?}")))
}

fn status(text: &str) -> StatementStatus {
    if text == "final" {
        StatementStatus::Final
    } else {
        StatementStatus::Open
    }
}

impl Store {
    /// Total earnings per period, newest first, from the statements the server sent.
    pub fn earnings_by_period(&self) -> Result<Vec<PeriodEarnings>, StoreError> {
        self.database().read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT period, status, currency, total_minor FROM statements ORDER BY period DESC",
            )?;
            let mut rows = stmt.query([])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(PeriodEarnings {
                    period: period_of(r.get(0)?)?,
                    status: status(&r.get::<_, String>(1)?),
                    total: Money::new(r.get(3)?, currency(&r.get::<_, String>(2)?)?),
                });
            }
            Ok(out)
        })
    }

    /// A page of `period`'s statement, in line order, starting after line `after`.
    pub fn statement(
        &self,
        period: Period,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Statement, StoreError> {
        let limit = limit.clamp(1, 1_000);
        self.database().read(|conn| {
            let summary = conn
                .query_row(
                    "SELECT status, currency, total_minor FROM statements WHERE period = ?1",
                    [period.index()],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, i64>(2)?,
                        ))
                    },
                )
                .optional()?
                .ok_or(StoreError::NotFound("statement"))?;
            let summary = PeriodEarnings {
                period,
                status: status(&summary.0),
                total: Money::new(summary.2, currency(&summary.1)?),
            };
            let mut stmt = conn.prepare_cached(
                "SELECT e.id, e.kind, e.currency, e.amount_minor, e.order_id, e.source_member_id,
                        m.display_name, e.level, e.rule, e.rate_bp
                 FROM earnings_lines e LEFT JOIN members m ON m.id = e.source_member_id
                 WHERE e.period = ?1 AND e.id > ?2 ORDER BY e.id LIMIT ?3",
            )?;
            let mut rows = stmt.query(params![
                period.index(),
                after.unwrap_or(i64::MIN),
                limit + 1
            ])?;
            let mut lines = Vec::new();
            while let Some(r) = rows.next()? {
                lines.push(EarningsLineRow {
                    id: r.get(0)?,
                    kind: codes::parse("earnings kind", &r.get::<_, String>(1)?)?,
                    amount: Money::new(r.get(3)?, currency(&r.get::<_, String>(2)?)?),
                    order: r.get::<_, Option<i64>>(4)?.map(OrderId::new),
                    source_member: r.get::<_, Option<i64>>(5)?.map(MemberId::new),
                    source_name: r.get(6)?,
                    level: r.get(7)?,
                    rule: r.get(8)?,
                    rate: r.get::<_, Option<u32>>(9)?.map(BasisPoints::new),
                });
            }
            let next = if lines.len() > limit as usize {
                lines.truncate(limit as usize);
                lines.last().map(|l| l.id)
            } else {
                None
            };
            Ok(Statement {
                summary,
                lines,
                next,
            })
        })
    }

    /// The ranks a member held in closed periods, oldest first.
    pub fn rank_history(&self, id: MemberId) -> Result<Vec<RankHistoryEntry>, StoreError> {
        self.database().read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT h.period, h.rank_level, coalesce(r.name, '')
                 FROM rank_history h LEFT JOIN ranks r ON r.level = h.rank_level
                 WHERE h.member_id = ?1 ORDER BY h.period",
            )?;
            let mut rows = stmt.query([id.get()])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(RankHistoryEntry {
                    period: period_of(r.get(0)?)?,
                    rank: RankLevel::new(r.get(1)?),
                    name: r.get(2)?,
                });
            }
            Ok(out)
        })
    }
}
