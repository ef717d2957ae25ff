//! Commission runs on PostgreSQL: the run's bulk reads (every member, the period's orders,
//! the lines of orders refunded after close) and its one-transaction replacement of a
//! period. Mirrors sqlite/commissions.rs.
//!
//! The bulk reads go through a portal ([`fetch_all`]), a few thousand rows per round trip,
//! so a million members never sit in the driver's buffers at once; the bulk writes send
//! whole columns as arrays through `unnest`, one round trip per [`CHUNK`] rows.

use std::collections::HashMap;

use canopy_core::comp::{PeriodOrder, TreeMember};
use canopy_core::{
    AccountId, BasisPoints, Currency, EarningsLine, EarningsLineId, EarningsSource, Gv, MemberId,
    Money, OrderId, Period, Pv, RankLevel,
};
use serde_json::json;
use time::OffsetDateTime;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::audit;
use super::convert::{ORDER_STATUSES, member_status, order_status, order_status_key, unix};
use crate::storage::keys::{kind_key, kind_of};
use crate::storage::{
    CommissionInput, CommissionPeriodRecord, CommissionRunRecord, NewAuditEvent, NewCommissionRun,
    PeriodResultRecord, PlanRecord, Result, StatementRecord, StorageError, StoredLine,
};

/// A period's lines are ids `[base, base + PERIOD_ID_SPAN)`.
use crate::commissions::ids::{PERIOD_SPAN as PERIOD_ID_SPAN, base as id_base};

use super::Transaction;

/// Rows a bulk read fetches per round trip.
const FETCH_ROWS: i32 = 20_000;

/// Rows a bulk insert sends per statement.
const CHUNK: usize = 10_000;

/// As in the SQLite backend, a stored value that does not read back is `Invalid`.
fn bad(what: &'static str) -> StorageError {
    StorageError::Invalid(what)
}

fn period_of(text: &str) -> Result<Period> {
    Period::parse(text).map_err(|_| bad("a stored period"))
}

fn rank_of(level: i64) -> Result<RankLevel> {
    u16::try_from(level)
        .map(RankLevel::new)
        .map_err(|_| bad("a rank level"))
}

/// The keys of the order statuses whose orders count for volume.
fn counted_statuses() -> Vec<&'static str> {
    ORDER_STATUSES
        .into_iter()
        .filter(|s| s.counts_for_volume())
        .map(order_status_key)
        .collect()
}

/// Runs `sql` and hands every row to `each`, [`FETCH_ROWS`] at a time through a portal
/// (the transaction's cursor), so a bulk read holds one batch of rows at a time.
async fn fetch_all(
    tx: &Transaction<'_>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    mut each: impl FnMut(&Row) -> Result<()>,
) -> Result<()> {
    let stmt = tx.prepare_cached(sql).await?;
    let portal = tx.bind(&stmt, params).await?;
    loop {
        let rows = tx.query_portal(&portal, FETCH_ROWS).await?;
        for row in &rows {
            each(row)?;
        }
        if rows.len() < usize::try_from(FETCH_ROWS).unwrap_or(usize::MAX) {
            return Ok(());
        }
    }
}

pub(super) async fn input(tx: &Transaction<'_>, period: Period) -> Result<CommissionInput> {
    // The read transaction is REPEATABLE READ: the three reads see one snapshot.
    Ok(CommissionInput {
        members: members(tx, period).await?,
        orders: orders(tx, period).await?,
        refunded_after_close: refunded_after_close(tx, period).await?,
    })
}

/// Every member, with the highest rank held before `period`: the rank on file or the best
/// rank of an earlier run, whichever is higher. One query: the earlier runs' best ranks are
/// joined in by the database instead of gathered into a map first.
async fn members(tx: &Transaction<'_>, period: Period) -> Result<Vec<TreeMember>> {
    let key = period.to_string();
    let mut out = Vec::new();
    // Join dates repeat a lot: parse each month once.
    let mut joined_cache: HashMap<String, Period> = HashMap::new();
    fetch_all(
        tx,
        "SELECT m.id, m.sponsor_id, m.status, m.joined_on, \
                GREATEST(m.rank_level, coalesce(r.best, 0)) \
         FROM members m \
         LEFT JOIN (SELECT member_id, max(rank_level) AS best FROM member_period_results \
                    WHERE period < $1 GROUP BY member_id) r ON r.member_id = m.id \
         ORDER BY m.id",
        &[&key],
        |row| {
            let status = member_status(row.try_get::<_, &str>(2)?).map_err(|_| bad("a status"))?;
            let joined_on: &str = row.try_get(3)?;
            let month = joined_on.get(..7).ok_or(bad("a join date"))?;
            let joined = match joined_cache.get(month) {
                Some(p) => *p,
                None => {
                    let p = period_of(month)?;
                    joined_cache.insert(month.to_owned(), p);
                    p
                }
            };
            out.push(TreeMember {
                id: MemberId::new(row.try_get(0)?),
                sponsor: row.try_get::<_, Option<i64>>(1)?.map(MemberId::new),
                status,
                joined,
                highest_rank: rank_of(row.try_get(4)?)?,
            });
            Ok(())
        },
    )
    .await?;
    Ok(out)
}

/// The period's orders that count for volume, each with the sums of its lines: PV, and
/// the price as the commissionable amount. In the order the SQLite backend reads them
/// (its `orders_by_placed_at` index: placing time, status, id). The database sums each
/// order's lines (as NUMERIC, back to BIGINT), so one row per order crosses the wire.
async fn orders(tx: &Transaction<'_>, period: Period) -> Result<Vec<PeriodOrder>> {
    let (from, to) = bounds(period)?;
    let statuses = counted_statuses();
    let mut out: Vec<PeriodOrder> = Vec::new();
    let mut usd = (String::from("USD"), Currency::USD);
    fetch_all(
        tx,
        "SELECT o.id, o.member_id, o.status, o.currency, \
                sum(l.quantity * l.unit_pv_hundredths)::BIGINT, \
                sum(l.quantity * l.unit_price_minor)::BIGINT \
         FROM orders o JOIN order_lines l ON l.order_id = o.id \
         WHERE o.placed_at >= $1 AND o.placed_at < $2 AND o.status = ANY($3) \
         GROUP BY o.id \
         ORDER BY o.placed_at, o.status, o.id",
        &[&from, &to, &statuses],
        |row| {
            let code: &str = row.try_get(3)?;
            if code != usd.0 {
                usd = (
                    code.to_owned(),
                    Currency::parse(code).map_err(|_| bad("a currency"))?,
                );
            }
            out.push(PeriodOrder {
                id: OrderId::new(row.try_get(0)?),
                buyer: MemberId::new(row.try_get(1)?),
                pv: Pv::from_hundredths(row.try_get(4)?),
                amount: Money::new(row.try_get(5)?, usd.1),
                status: order_status(row.try_get::<_, &str>(2)?).map_err(|_| bad("a status"))?,
            });
            Ok(())
        },
    )
    .await?;
    Ok(out)
}

/// Unix seconds of the period's first instant and the next period's.
fn bounds(period: Period) -> Result<(i64, i64)> {
    let next = period.next().ok_or(bad("the period after the last one"))?;
    let at = |p: Period| p.first_day().midnight().assume_utc().unix_timestamp();
    Ok((at(period), at(next)))
}

const LINE_COLUMNS: &str = "l.id, l.period, l.member_id, l.amount_minor, l.currency, l.kind, \
                            l.order_id, l.source_member_id, l.level, l.rule, l.rate_bps";

/// Every line issued before `period` for orders now returned or refunded that have a line
/// in a closed period: the originals and any corrections already made. Each order's lines
/// are found through `earnings_lines_by_period_order`, once per period the company has run.
async fn refunded_after_close(tx: &Transaction<'_>, period: Period) -> Result<Vec<EarningsLine>> {
    let (start, _) = bounds(period)?;
    let key = period.to_string();
    let sql = format!(
        "SELECT {LINE_COLUMNS} \
         FROM orders o \
         JOIN commission_periods lp ON lp.period < $1 \
         JOIN earnings_lines l ON l.period = lp.period AND l.order_id = o.id \
         WHERE o.placed_at < $2 AND o.status IN ('returned', 'refunded') \
           AND EXISTS (SELECT 1 FROM commission_periods p \
                       JOIN earnings_lines e ON e.period = p.period AND e.order_id = o.id \
                       WHERE p.state = 'closed') \
         ORDER BY l.id"
    );
    let mut out = Vec::new();
    fetch_all(tx, &sql, &[&key, &start], |row| {
        out.push(line_at(row)?.line);
        Ok(())
    })
    .await?;
    Ok(out)
}

/// A line from [`LINE_COLUMNS`], and `reverses_line_id` if the row has a twelfth column.
fn line_at(row: &Row) -> Result<StoredLine> {
    let currency = Currency::parse(row.try_get::<_, &str>(4)?).map_err(|_| bad("a currency"))?;
    let level = row
        .try_get::<_, Option<i64>>(8)?
        .map(u16::try_from)
        .transpose()
        .map_err(|_| bad("a line's level"))?;
    let rate = row
        .try_get::<_, Option<i64>>(10)?
        .map(u32::try_from)
        .transpose()
        .map_err(|_| bad("a line's rate"))?;
    let line = EarningsLine {
        id: EarningsLineId::new(row.try_get(0)?),
        period: period_of(row.try_get(1)?)?,
        member: MemberId::new(row.try_get(2)?),
        amount: Money::new(row.try_get(3)?, currency),
        kind: kind_of(row.try_get(5)?).ok_or(bad("a line's kind"))?,
        source: EarningsSource {
            order: row.try_get::<_, Option<i64>>(6)?.map(OrderId::new),
            member: row.try_get::<_, Option<i64>>(7)?.map(MemberId::new),
            level,
            rule: row.try_get(9)?,
            rate: rate.map(BasisPoints::new),
        },
    };
    let reverses = if row.len() > 11 {
        row.try_get::<_, Option<i64>>(11)?.map(EarningsLineId::new)
    } else {
        None
    };
    Ok(StoredLine { line, reverses })
}

pub(super) async fn record_run(
    tx: &Transaction<'_>,
    run: &NewCommissionRun,
) -> Result<Option<CommissionRunRecord>> {
    let period = run.period.to_string();
    let stmt = tx
        .prepare_cached("SELECT state FROM commission_periods WHERE period = $1")
        .await?;
    let state: Option<String> = tx
        .query_opt(&stmt, &[&period])
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
    if state.as_deref() == Some("closed") {
        return Ok(None);
    }
    let base = id_base(run.period);
    // Checked before anything is written (the SQLite backend checks as it inserts; either
    // way the transaction writes nothing).
    for stored in &run.lines {
        let l = &stored.line;
        if l.period != run.period || !(base..base + PERIOD_ID_SPAN).contains(&l.id.get()) {
            return Err(bad("a line outside the run's period"));
        }
    }
    let stmt = tx
        .prepare_cached(
            "INSERT INTO commission_plans (hash, version, name, toml) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (hash) DO NOTHING",
        )
        .await?;
    tx.execute(
        &stmt,
        &[
            &run.plan.hash,
            &i64::from(run.plan.version),
            &run.plan.name,
            &run.plan.toml,
        ],
    )
    .await?;
    let stmt = tx
        .prepare_cached(
            "INSERT INTO commission_runs (period, started_at, finished_at, by_account_id, \
                 plan_hash, input_members, input_orders, lines, total_minor, currency, \
                 result_hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .await?;
    let run_id: i64 = tx
        .query_one(
            &stmt,
            &[
                &period,
                &unix(run.started_at),
                &unix(run.finished_at),
                &run.by.map(AccountId::get),
                &run.plan.hash,
                &count(run.input_members),
                &count(run.input_orders),
                &count(u64::try_from(run.lines.len()).unwrap_or(u64::MAX)),
                &run.total_minor,
                &run.currency.as_str(),
                &run.result_hash,
            ],
        )
        .await?
        .try_get(0)?;
    let stmt = tx
        .prepare_cached(
            "INSERT INTO commission_periods (period, state, plan_hash, last_run_id) \
             VALUES ($1, 'open', $2, $3) \
             ON CONFLICT (period) DO UPDATE \
             SET plan_hash = excluded.plan_hash, last_run_id = excluded.last_run_id",
        )
        .await?;
    tx.execute(&stmt, &[&period, &run.plan.hash, &run_id])
        .await?;

    let stmt = tx
        .prepare_cached("DELETE FROM earnings_lines WHERE id >= $1 AND id < $2")
        .await?;
    tx.execute(&stmt, &[&base, &(base + PERIOD_ID_SPAN)])
        .await?;
    let stmt = tx
        .prepare_cached("DELETE FROM member_period_results WHERE period = $1")
        .await?;
    tx.execute(&stmt, &[&period]).await?;

    insert_lines(tx, &period, run_id, &run.lines).await?;
    insert_results(tx, &period, &run.results).await?;

    audit::append(
        tx,
        &NewAuditEvent {
            at: run.finished_at,
            actor: run.by,
            action: "commissions.run".to_owned(),
            target: Some(format!("period:{period}")),
            details: json!({
                "run": run_id,
                "members": run.input_members,
                "orders": run.input_orders,
                "lines": run.lines.len(),
                "plan_hash": run.plan.hash,
                "result_hash": run.result_hash,
            }),
        },
    )
    .await?;
    find_run(tx, run_id).await
}

/// The run's lines, [`CHUNK`] at a time, each chunk's columns sent as arrays.
async fn insert_lines(
    tx: &Transaction<'_>,
    period: &str,
    run_id: i64,
    lines: &[StoredLine],
) -> Result<()> {
    let stmt = tx
        .prepare_cached(
            "INSERT INTO earnings_lines (id, period, member_id, amount_minor, currency, kind, \
                 order_id, source_member_id, level, rule, rate_bps, run_id, reverses_line_id) \
             SELECT u.id, $1, u.member_id, u.amount_minor, u.currency, u.kind, u.order_id, \
                    u.source_member_id, u.level, u.rule, u.rate_bps, $2, u.reverses_line_id \
             FROM unnest($3::BIGINT[], $4::BIGINT[], $5::BIGINT[], $6::TEXT[], $7::TEXT[], \
                         $8::BIGINT[], $9::BIGINT[], $10::BIGINT[], $11::TEXT[], \
                         $12::BIGINT[], $13::BIGINT[]) \
                  AS u(id, member_id, amount_minor, currency, kind, order_id, \
                       source_member_id, level, rule, rate_bps, reverses_line_id)",
        )
        .await?;
    for chunk in lines.chunks(CHUNK) {
        let n = chunk.len();
        let mut ids = Vec::with_capacity(n);
        let mut members = Vec::with_capacity(n);
        let mut amounts = Vec::with_capacity(n);
        let mut currencies = Vec::with_capacity(n);
        let mut kinds = Vec::with_capacity(n);
        let mut orders = Vec::with_capacity(n);
        let mut sources = Vec::with_capacity(n);
        let mut levels = Vec::with_capacity(n);
        let mut rules = Vec::with_capacity(n);
        let mut rates = Vec::with_capacity(n);
        let mut reverses = Vec::with_capacity(n);
        for stored in chunk {
            let l = &stored.line;
            ids.push(l.id.get());
            members.push(l.member.get());
            amounts.push(l.amount.minor());
            currencies.push(l.amount.currency());
            kinds.push(kind_key(l.kind));
            orders.push(l.source.order.map(OrderId::get));
            sources.push(l.source.member.map(MemberId::get));
            levels.push(l.source.level.map(i64::from));
            rules.push(l.source.rule.as_str());
            rates.push(l.source.rate.map(|r| i64::from(r.get())));
            reverses.push(stored.reverses.map(EarningsLineId::get));
        }
        let currencies: Vec<&str> = currencies.iter().map(Currency::as_str).collect();
        tx.execute(
            &stmt,
            &[
                &period,
                &run_id,
                &ids,
                &members,
                &amounts,
                &currencies,
                &kinds,
                &orders,
                &sources,
                &levels,
                &rules,
                &rates,
                &reverses,
            ],
        )
        .await?;
    }
    Ok(())
}

/// Every member's result, [`CHUNK`] at a time, each chunk's columns sent as arrays.
async fn insert_results(
    tx: &Transaction<'_>,
    period: &str,
    results: &[canopy_core::comp::MemberResult],
) -> Result<()> {
    let stmt = tx
        .prepare_cached(
            "INSERT INTO member_period_results (period, member_id, pv_hundredths, \
                 gv_hundredths, rank_level, best_rank, active) \
             SELECT $1, u.member_id, u.pv, u.gv, u.rank_level, u.best_rank, u.active \
             FROM unnest($2::BIGINT[], $3::BIGINT[], $4::BIGINT[], $5::BIGINT[], \
                         $6::BIGINT[], $7::BOOLEAN[]) \
                  AS u(member_id, pv, gv, rank_level, best_rank, active)",
        )
        .await?;
    for chunk in results.chunks(CHUNK) {
        let n = chunk.len();
        let mut members = Vec::with_capacity(n);
        let mut pvs = Vec::with_capacity(n);
        let mut gvs = Vec::with_capacity(n);
        let mut ranks = Vec::with_capacity(n);
        let mut bests = Vec::with_capacity(n);
        let mut actives = Vec::with_capacity(n);
        for m in chunk {
            members.push(m.member.get());
            pvs.push(m.pv.hundredths());
            gvs.push(m.gv.hundredths());
            ranks.push(i64::from(m.rank.get()));
            bests.push(i64::from(m.best_rank_in_group.get()));
            actives.push(m.active);
        }
        tx.execute(
            &stmt,
            &[&period, &members, &pvs, &gvs, &ranks, &bests, &actives],
        )
        .await?;
    }
    Ok(())
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

async fn find_run(tx: &Transaction<'_>, id: i64) -> Result<Option<CommissionRunRecord>> {
    let stmt = tx
        .prepare_cached(
            "SELECT id, period, started_at, finished_at, by_account_id, plan_hash, \
                 input_members, input_orders, lines, total_minor, currency, result_hash \
             FROM commission_runs WHERE id = $1",
        )
        .await?;
    let Some(r) = tx.query_opt(&stmt, &[&id]).await? else {
        return Ok(None);
    };
    Ok(Some(CommissionRunRecord {
        id: r.try_get(0)?,
        period: period_of(r.try_get(1)?)?,
        started_at: instant(r.try_get(2)?)?,
        finished_at: instant(r.try_get(3)?)?,
        by: r.try_get::<_, Option<i64>>(4)?.map(AccountId::new),
        plan_hash: r.try_get(5)?,
        input_members: u64::try_from(r.try_get::<_, i64>(6)?).unwrap_or(0),
        input_orders: u64::try_from(r.try_get::<_, i64>(7)?).unwrap_or(0),
        lines: u64::try_from(r.try_get::<_, i64>(8)?).unwrap_or(0),
        total_minor: r.try_get(9)?,
        currency: r.try_get(10)?,
        result_hash: r.try_get(11)?,
    }))
}

fn instant(unix: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(unix).map_err(|_| bad("an instant"))
}

pub(super) async fn close(
    tx: &Transaction<'_>,
    period: Period,
    by: Option<AccountId>,
    now: OffsetDateTime,
) -> Result<Option<CommissionPeriodRecord>> {
    let key = period.to_string();
    let stmt = tx
        .prepare_cached("SELECT state FROM commission_periods WHERE period = $1")
        .await?;
    let state: Option<String> = tx
        .query_opt(&stmt, &[&key])
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
    match state.as_deref() {
        None => return Err(StorageError::NotFound),
        Some("closed") => return Ok(None),
        Some(_) => {}
    }
    let stmt = tx
        .prepare_cached(
            "UPDATE commission_periods SET state = 'closed', closed_at = $2, closed_by = $3 \
             WHERE period = $1",
        )
        .await?;
    tx.execute(&stmt, &[&key, &unix(now), &by.map(AccountId::get)])
        .await?;
    audit::append(
        tx,
        &NewAuditEvent {
            at: now,
            actor: by,
            action: "commissions.close".to_owned(),
            target: Some(format!("period:{key}")),
            details: json!({}),
        },
    )
    .await?;
    find_period(tx, period).await
}

pub(super) async fn find_period(
    tx: &Transaction<'_>,
    period: Period,
) -> Result<Option<CommissionPeriodRecord>> {
    let key = period.to_string();
    let stmt = tx
        .prepare_cached(
            "SELECT state, closed_at, closed_by, plan_hash, last_run_id \
             FROM commission_periods WHERE period = $1",
        )
        .await?;
    let Some(row) = tx.query_opt(&stmt, &[&key]).await? else {
        return Ok(None);
    };
    let state: String = row.try_get(0)?;
    let closed_at: Option<i64> = row.try_get(1)?;
    let closed_by: Option<i64> = row.try_get(2)?;
    let plan_hash: String = row.try_get(3)?;
    let last_run = match row.try_get::<_, Option<i64>>(4)? {
        Some(id) => find_run(tx, id).await?,
        None => None,
    };
    let base = id_base(period);
    let stmt = tx
        .prepare_cached(
            "SELECT kind, sum(amount_minor)::BIGINT, count(*) FROM earnings_lines \
             WHERE id >= $1 AND id < $2 GROUP BY kind",
        )
        .await?;
    let mut totals = tx
        .query(&stmt, &[&base, &(base + PERIOD_ID_SPAN)])
        .await?
        .iter()
        .map(|r| {
            let kind = kind_of(r.try_get(0)?).ok_or(bad("a line's kind"))?;
            let sum: i64 = r.try_get(1)?;
            let n: i64 = r.try_get(2)?;
            Ok((kind, sum, u64::try_from(n).unwrap_or(0)))
        })
        .collect::<Result<Vec<_>>>()?;
    totals.sort_by_key(|(k, _, _)| canopy_core::comp::kind_order(*k));
    Ok(Some(CommissionPeriodRecord {
        period,
        closed: state == "closed",
        closed_at: closed_at.map(instant).transpose()?,
        closed_by: closed_by.map(AccountId::new),
        plan_hash,
        last_run,
        totals,
    }))
}

pub(super) async fn earnings_of(
    tx: &Transaction<'_>,
    member: MemberId,
    period: Period,
) -> Result<Vec<StoredLine>> {
    let stmt = tx
        .prepare_cached(&format!(
            "SELECT {LINE_COLUMNS}, l.reverses_line_id \
             FROM earnings_lines l WHERE l.member_id = $1 AND l.period = $2 ORDER BY l.id"
        ))
        .await?;
    tx.query(&stmt, &[&member.get(), &period.to_string()])
        .await?
        .iter()
        .map(line_at)
        .collect()
}

pub(super) async fn earnings_page(
    tx: &Transaction<'_>,
    member: MemberId,
    period: Period,
    after: Option<EarningsLineId>,
    limit: u32,
) -> Result<Vec<StoredLine>> {
    // The index (period, member_id): one seek, then the member's lines sorted by id.
    let stmt = tx
        .prepare_cached(&format!(
            "SELECT {LINE_COLUMNS}, l.reverses_line_id \
             FROM earnings_lines l WHERE l.member_id = $1 AND l.period = $2 AND l.id > $3 \
             ORDER BY l.id LIMIT $4"
        ))
        .await?;
    tx.query(
        &stmt,
        &[
            &member.get(),
            &period.to_string(),
            &after.map_or(i64::MIN, EarningsLineId::get),
            &i64::from(limit),
        ],
    )
    .await?
    .iter()
    .map(line_at)
    .collect()
}

pub(super) async fn statements_of(
    tx: &Transaction<'_>,
    member: MemberId,
) -> Result<Vec<StatementRecord>> {
    // A handful of periods, each summed over one range of (period, member_id).
    let stmt = tx
        .prepare_cached(
            "SELECT p.period, p.state, p.last_run_id, r.currency, \
                    (SELECT coalesce(sum(e.amount_minor), 0)::BIGINT FROM earnings_lines e \
                      WHERE e.member_id = $1 AND e.period = p.period), \
                    (SELECT count(*) FROM earnings_lines e \
                      WHERE e.member_id = $1 AND e.period = p.period) \
             FROM commission_periods p JOIN commission_runs r ON r.id = p.last_run_id \
             ORDER BY p.period",
        )
        .await?;
    tx.query(&stmt, &[&member.get()])
        .await?
        .iter()
        .map(|row| {
            Ok(StatementRecord {
                period: period_of(row.try_get(0)?)?,
                closed: row.try_get::<_, &str>(1)? == "closed",
                last_run: row.try_get(2)?,
                currency: row.try_get(3)?,
                total_minor: row.try_get(4)?,
                lines: row.try_get::<_, i64>(5)?.unsigned_abs(),
            })
        })
        .collect()
}

const RESULT_COLUMNS: &str = "SELECT member_id, pv_hundredths, gv_hundredths, rank_level, best_rank, active \
     FROM member_period_results";

pub(super) async fn result_with_legs(
    tx: &Transaction<'_>,
    member: MemberId,
    period: Period,
) -> Result<Option<(PeriodResultRecord, Vec<PeriodResultRecord>)>> {
    let key = period.to_string();
    let stmt = tx
        .prepare_cached(&format!(
            "{RESULT_COLUMNS} WHERE period = $1 AND member_id = $2"
        ))
        .await?;
    let Some(own) = tx.query_opt(&stmt, &[&key, &member.get()]).await? else {
        return Ok(None);
    };
    let own = result_at(&own)?;
    let stmt = tx
        .prepare_cached(&format!(
            "{RESULT_COLUMNS} WHERE period = $1 AND member_id IN \
             (SELECT id FROM members WHERE sponsor_id = $2) ORDER BY member_id"
        ))
        .await?;
    let legs = tx
        .query(&stmt, &[&key, &member.get()])
        .await?
        .iter()
        .map(result_at)
        .collect::<Result<Vec<_>>>()?;
    Ok(Some((own, legs)))
}

fn result_at(r: &Row) -> Result<PeriodResultRecord> {
    Ok(PeriodResultRecord {
        member: MemberId::new(r.try_get(0)?),
        pv: Pv::from_hundredths(r.try_get(1)?),
        gv: Gv::from_hundredths(r.try_get(2)?),
        rank: rank_of(r.try_get(3)?)?,
        best_rank_in_group: rank_of(r.try_get(4)?)?,
        active: r.try_get(5)?,
    })
}

pub(super) async fn plan(tx: &Transaction<'_>, hash: &str) -> Result<Option<PlanRecord>> {
    let stmt = tx
        .prepare_cached("SELECT hash, version, name, toml FROM commission_plans WHERE hash = $1")
        .await?;
    let Some(r) = tx.query_opt(&stmt, &[&hash]).await? else {
        return Ok(None);
    };
    Ok(Some(PlanRecord {
        hash: r.try_get(0)?,
        version: u32::try_from(r.try_get::<_, i64>(1)?).map_err(|_| bad("a plan version"))?,
        name: r.try_get(2)?,
        toml: r.try_get(3)?,
    }))
}

pub(super) async fn set_order_status(
    tx: &Transaction<'_>,
    order: OrderId,
    status: canopy_core::OrderStatus,
    now: OffsetDateTime,
) -> Result<()> {
    let stmt = tx
        .prepare_cached("SELECT status, member_id FROM orders WHERE id = $1")
        .await?;
    let row = tx
        .query_opt(&stmt, &[&order.get()])
        .await?
        .ok_or(StorageError::NotFound)?;
    let from = order_status(row.try_get::<_, &str>(0)?).map_err(|_| bad("a status"))?;
    let buyer: i64 = row.try_get(1)?;
    if !from.can_become(status) {
        return Err(bad("that order status change is not allowed"));
    }
    let stmt = tx
        .prepare_cached("UPDATE orders SET status = $2 WHERE id = $1")
        .await?;
    tx.execute(&stmt, &[&order.get(), &order_status_key(status)])
        .await?;
    let stmt = tx
        .prepare_cached("INSERT INTO member_changes (member_id, at) VALUES ($1, $2)")
        .await?;
    tx.execute(&stmt, &[&buyer, &unix(now)]).await?;
    Ok(())
}
