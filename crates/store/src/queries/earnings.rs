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
    /// How many lines the statement has in the cache.
    pub lines: u32,
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
    /// The source member's number, when they are in the cache.
    pub source_number: Option<String>,
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
    /// Each cached statement's period and the server's digest of it (`None` for a
    /// statement not taken through the statements sync, or whose last page never came).
    pub fn statement_digests(&self) -> Result<Vec<(Period, Option<String>)>, StoreError> {
        self.database().read(|conn| {
            let mut stmt = conn.prepare_cached("SELECT period, digest FROM statements")?;
            let mut rows = stmt.query([])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push((period_of(r.get(0)?)?, r.get(1)?));
            }
            Ok(out)
        })
    }

    /// The compensation plan the server last sent, as `(hash, toml)`.
    pub fn comp_plan(&self) -> Result<Option<(String, String)>, StoreError> {
        self.database().read(|conn| {
            Ok(conn
                .query_row("SELECT hash, toml FROM comp_plan WHERE id = 1", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?)
        })
    }

    /// Total earnings per period, newest first, from the statements the server sent.
    pub fn earnings_by_period(&self) -> Result<Vec<PeriodEarnings>, StoreError> {
        self.database().read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT s.period, s.status, s.currency, s.total_minor,
                        (SELECT count(*) FROM earnings_lines e WHERE e.period = s.period)
                 FROM statements s ORDER BY s.period DESC",
            )?;
            let mut rows = stmt.query([])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(PeriodEarnings {
                    period: period_of(r.get(0)?)?,
                    status: status(&r.get::<_, String>(1)?),
                    total: Money::new(r.get(3)?, currency(&r.get::<_, String>(2)?)?),
                    lines: r.get(4)?,
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
                    "SELECT status, currency, total_minor,
                        (SELECT count(*) FROM earnings_lines e WHERE e.period = ?1)
                     FROM statements WHERE period = ?1",
                    [period.index()],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, i64>(2)?,
                            r.get::<_, u32>(3)?,
                        ))
                    },
                )
                .optional()?
                .ok_or(StoreError::NotFound("statement"))?;
            let summary = PeriodEarnings {
                period,
                status: status(&summary.0),
                total: Money::new(summary.2, currency(&summary.1)?),
                lines: summary.3,
            };
            let mut stmt = conn.prepare_cached(
                "SELECT e.id, e.kind, e.currency, e.amount_minor, e.order_id, e.source_member_id,
                        m.display_name, e.level, e.rule, e.rate_bp, m.number
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
                    source_number: r.get(10)?,
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

    /// `period`'s lines summed by kind (and currency, should a statement mix them), in no
    /// particular order: one range of the table, however long the statement.
    pub fn statement_by_kind(
        &self,
        period: Period,
    ) -> Result<Vec<(EarningsKind, Money, u32)>, StoreError> {
        self.database().read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT kind, currency, sum(amount_minor), count(*) FROM earnings_lines
                 WHERE period = ?1 GROUP BY kind, currency",
            )?;
            let mut rows = stmt.query([period.index()])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push((
                    codes::parse("earnings kind", &r.get::<_, String>(0)?)?,
                    Money::new(r.get(2)?, currency(&r.get::<_, String>(1)?)?),
                    r.get(3)?,
                ));
            }
            Ok(out)
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

#[cfg(test)]
mod tests {
    use canopy_core::{
        CountryCode, EarningsLine, EarningsLineId, EarningsSource, Member, MemberNumber,
        MemberStatus, PersonName, Rank,
    };
    use time::Month;
    use time::macros::date;

    use super::*;
    use crate::CacheKey;

    fn line(id: i64, cents: i64, source: Option<i64>) -> EarningsLine {
        EarningsLine {
            id: EarningsLineId::new(id),
            period: Period::new(2026, Month::October).unwrap(),
            member: MemberId::new(1),
            amount: Money::new(cents, Currency::USD),
            kind: EarningsKind::Unilevel,
            source: EarningsSource {
                order: None,
                member: source.map(MemberId::new),
                level: Some(1),
                rule: "Unilevel L1".into(),
                rate: Some(BasisPoints::new(500)),
            },
        }
    }

    #[test]
    fn statements_count_their_lines_and_name_their_members() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("c.db"), CacheKey::generate().unwrap()).unwrap();
        let october = Period::new(2026, Month::October).unwrap();
        let november = Period::new(2026, Month::November).unwrap();
        store
            .write(|w| {
                w.put_member(&Member {
                    id: MemberId::new(2),
                    number: MemberNumber::parse("10000002").unwrap(),
                    sponsor: None,
                    placement: None,
                    rank: Rank::new(0, "Member"),
                    status: MemberStatus::Active,
                    joined_on: date!(2025 - 01 - 01),
                    country: CountryCode::parse("DE").unwrap(),
                    display_name: PersonName::parse("Ada Lovelace").unwrap(),
                    personal: None,
                })?;
                w.put_earnings_line(&line(1, 1_000, Some(2)))?;
                w.put_earnings_line(&line(2, 250, Some(99)))?;
                w.put_statement(
                    october,
                    StatementStatus::Final,
                    Money::new(1_250, Currency::USD),
                )?;
                w.put_statement(november, StatementStatus::Open, Money::zero(Currency::USD))
            })
            .unwrap();
        let periods: Vec<(String, u32)> = store
            .earnings_by_period()
            .unwrap()
            .into_iter()
            .map(|p| (p.period.to_string(), p.lines))
            .collect();
        assert_eq!(
            periods,
            [("2026-11".to_owned(), 0), ("2026-10".to_owned(), 2)]
        );
        let statement = store.statement(october, None, 10).unwrap();
        assert_eq!(statement.summary.lines, 2);
        let sources: Vec<(Option<&str>, Option<&str>)> = statement
            .lines
            .iter()
            .map(|l| (l.source_number.as_deref(), l.source_name.as_deref()))
            .collect();
        assert_eq!(
            sources,
            [(Some("10000002"), Some("Ada Lovelace")), (None, None)],
            "a member not in the cache has no number or name"
        );
        assert_eq!(
            store.statement_by_kind(october).unwrap(),
            [(EarningsKind::Unilevel, Money::new(1_250, Currency::USD), 2)]
        );
        assert!(store.statement_by_kind(november).unwrap().is_empty());
    }
}
