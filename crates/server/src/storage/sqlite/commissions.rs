//! Commission runs on SQLite: the run's bulk reads (every member, the period's orders, the
//! lines of orders refunded after close) and its one-transaction replacement of a period.

use std::collections::HashMap;

use canopy_core::comp::{PeriodOrder, TreeMember};
use canopy_core::{
    AccountId, BasisPoints, Currency, EarningsLine, EarningsLineId, EarningsSource, Gv, MemberId,
    Money, OrderId, Period, Pv, RankLevel,
};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::json;
use time::OffsetDateTime;

use super::audit;
use super::convert::{ORDER_STATUSES, member_status, order_status, order_status_key, unix};
use crate::storage::keys::{kind_key, kind_of};
use crate::storage::{
    CommissionInput, CommissionPeriodRecord, CommissionRunRecord, NewAuditEvent, NewCommissionRun,
    PeriodResultRecord, PlanRecord, Result, StatementRecord, StorageError, StoredLine,
};

/// A period's lines are ids `[base, base + PERIOD_ID_SPAN)`.
use crate::commissions::ids::{PERIOD_SPAN as PERIOD_ID_SPAN, base as id_base};

/// Borrowed text of a column, without a copy per row.
fn text<'a>(row: &'a Row<'_>, idx: usize) -> rusqlite::Result<&'a str> {
    row.get_ref(idx)?.as_str().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn bad(what: &'static str) -> StorageError {
    StorageError::Invalid(what)
}

fn period_of(text: &str) -> Result<Period> {
    Period::parse(text).map_err(|_| bad("a stored period"))
}

fn counted_statuses() -> String {
    ORDER_STATUSES
        .into_iter()
        .filter(|s| s.counts_for_volume())
        .map(|s| format!("'{}'", order_status_key(s)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Bytes of the database a run's read may map into memory: reading pages straight from
/// the mapping instead of copying each through the small page cache halves the read.
const RUN_MMAP_BYTES: i64 = 4 << 30;

pub(super) fn input(conn: &Connection, period: Period) -> Result<CommissionInput> {
    conn.pragma_update(None, "mmap_size", RUN_MMAP_BYTES)?;
    let read = (|| {
        Ok(CommissionInput {
            members: members(conn, period)?,
            orders: orders(conn, period)?,
            refunded_after_close: refunded_after_close(conn, period)?,
        })
    })();
    // The connection serves small reads next: back to SQLite's default.
    conn.pragma_update(None, "mmap_size", 0)?;
    read
}

/// Every member, with the highest rank held before `period`: the rank on file or the best
/// rank of an earlier run, whichever is higher.
fn members(conn: &Connection, period: Period) -> Result<Vec<TreeMember>> {
    let mut earlier: HashMap<i64, u16> = HashMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT member_id, max(rank_level) FROM member_period_results \
         WHERE period < ?1 GROUP BY member_id",
    )?;
    let mut rows = stmt.query([period.to_string()])?;
    while let Some(row) = rows.next()? {
        earlier.insert(row.get(0)?, row.get(1)?);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT id, sponsor_id, status, joined_on, rank_level FROM members ORDER BY id",
    )?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    // Join dates repeat a lot: parse each month once.
    let mut joined_cache: HashMap<String, Period> = HashMap::new();
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let status = member_status(text(row, 2)?).map_err(|_| bad("a status"))?;
        let joined_on = text(row, 3)?;
        let month = joined_on.get(..7).ok_or(bad("a join date"))?;
        let joined = match joined_cache.get(month) {
            Some(p) => *p,
            None => {
                let p = period_of(month)?;
                joined_cache.insert(month.to_owned(), p);
                p
            }
        };
        let on_file: u16 = row.get(4)?;
        let highest = earlier.get(&id).map_or(on_file, |&r| r.max(on_file));
        out.push(TreeMember {
            id: MemberId::new(id),
            sponsor: row.get::<_, Option<i64>>(1)?.map(MemberId::new),
            status,
            joined,
            highest_rank: RankLevel::new(highest),
        });
    }
    Ok(out)
}

/// The period's orders that count for volume, each with the sums of its lines: PV, and
/// the price as the commissionable amount. Read in placing order through
/// `orders_by_placed_at`, with each order's lines next to it, so no sort is needed.
fn orders(conn: &Connection, period: Period) -> Result<Vec<PeriodOrder>> {
    let (from, to) = bounds(period)?;
    let sql = format!(
        "SELECT o.id, o.member_id, o.status, o.currency, \
                l.quantity * l.unit_pv_hundredths, l.quantity * l.unit_price_minor \
         FROM orders o INDEXED BY orders_by_placed_at \
         JOIN order_lines l ON l.order_id = o.id \
         WHERE o.placed_at >= ?1 AND o.placed_at < ?2 AND o.status IN ({})",
        counted_statuses()
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![from, to])?;
    let mut out: Vec<PeriodOrder> = Vec::new();
    let mut usd = (String::from("USD"), Currency::USD);
    while let Some(row) = rows.next()? {
        let id = OrderId::new(row.get(0)?);
        let pv: i64 = row.get(4)?;
        let price: i64 = row.get(5)?;
        if let Some(last) = out.last_mut().filter(|o| o.id == id) {
            last.pv = last
                .pv
                .checked_add(Pv::from_hundredths(pv))
                .map_err(|_| bad("an order's volume"))?;
            last.amount = last
                .amount
                .checked_add(Money::new(price, last.amount.currency()))
                .map_err(|_| bad("an order's amount"))?;
            continue;
        }
        let code = text(row, 3)?;
        if code != usd.0 {
            usd = (
                code.to_owned(),
                Currency::parse(code).map_err(|_| bad("a currency"))?,
            );
        }
        out.push(PeriodOrder {
            id,
            buyer: MemberId::new(row.get(1)?),
            pv: Pv::from_hundredths(pv),
            amount: Money::new(price, usd.1),
            status: order_status(text(row, 2)?).map_err(|_| bad("a status"))?,
        });
    }
    Ok(out)
}

/// Unix seconds of the period's first instant and the next period's.
fn bounds(period: Period) -> Result<(i64, i64)> {
    let next = period.next().ok_or(bad("the period after the last one"))?;
    let at = |p: Period| p.first_day().midnight().assume_utc().unix_timestamp();
    Ok((at(period), at(next)))
}

/// Every line issued before `period` for orders now returned or refunded that have a line
/// in a closed period: the originals and any corrections already made. Driven by the
/// orders placed before the period (the covering time index); each order's lines are
/// sought through `earnings_lines_by_period_order`, once per period the company has run.
/// `CROSS JOIN` fixes that loop order: with the periods outside, the planner would scan
/// a period's every line and look its order up in an index that can't find it by id.
fn refunded_after_close(conn: &Connection, period: Period) -> Result<Vec<EarningsLine>> {
    let (start, _) = bounds(period)?;
    let mut stmt = conn.prepare_cached(
        "SELECT l.id, l.period, l.member_id, l.amount_minor, l.currency, l.kind, l.order_id, \
                l.source_member_id, l.level, l.rule, l.rate_bps \
         FROM orders o INDEXED BY orders_by_placed_at \
         CROSS JOIN commission_periods lp \
         CROSS JOIN earnings_lines l INDEXED BY earnings_lines_by_period_order \
         WHERE o.placed_at < ?2 AND o.status IN ('returned', 'refunded') \
           AND lp.period < ?1 AND l.period = lp.period AND l.order_id = o.id \
           AND EXISTS (SELECT 1 FROM commission_periods p \
                       CROSS JOIN earnings_lines e INDEXED BY earnings_lines_by_period_order \
                       WHERE p.state = 'closed' AND e.period = p.period \
                         AND e.order_id = o.id) \
         ORDER BY l.id",
    )?;
    let rows = stmt.query_map(params![period.to_string(), start], line_at)?;
    rows.map(|r| r?.map(|s| s.line)).collect()
}

type LineRow = Result<StoredLine>;

fn line_at(row: &Row<'_>) -> rusqlite::Result<LineRow> {
    let build = || -> Result<StoredLine> {
        let currency = Currency::parse(text(row, 4)?).map_err(|_| bad("a currency"))?;
        let rate: Option<u32> = row.get(10)?;
        let line = EarningsLine {
            id: EarningsLineId::new(row.get(0)?),
            period: period_of(text(row, 1)?)?,
            member: MemberId::new(row.get(2)?),
            amount: Money::new(row.get(3)?, currency),
            kind: kind_of(text(row, 5)?).ok_or(bad("a line's kind"))?,
            source: EarningsSource {
                order: row.get::<_, Option<i64>>(6)?.map(OrderId::new),
                member: row.get::<_, Option<i64>>(7)?.map(MemberId::new),
                level: row.get(8)?,
                rule: row.get(9)?,
                rate: rate.map(BasisPoints::new),
            },
        };
        let reverses = match row.as_ref().column_count() {
            n if n > 11 => row.get::<_, Option<i64>>(11)?.map(EarningsLineId::new),
            _ => None,
        };
        Ok(StoredLine { line, reverses })
    };
    Ok(build())
}

/// The writer's page cache while a run replaces a period (KiB, SQLite's negative
/// `cache_size`): the period's range of each earnings index, about 30 MB for a million
/// lines, stays in memory while the lines go in. Set back to the default after.
const RUN_CACHE_KIB: i64 = 128 * 1024;

pub(super) fn record_run(
    tx: &Connection,
    run: &NewCommissionRun,
) -> Result<Option<CommissionRunRecord>> {
    let before: i64 = tx.pragma_query_value(None, "cache_size", |r| r.get(0))?;
    tx.pragma_update(None, "cache_size", -RUN_CACHE_KIB)?;
    let recorded = replace_period(tx, run);
    tx.pragma_update(None, "cache_size", before)?;
    recorded
}

fn replace_period(tx: &Connection, run: &NewCommissionRun) -> Result<Option<CommissionRunRecord>> {
    let period = run.period.to_string();
    let state: Option<String> = tx
        .prepare_cached("SELECT state FROM commission_periods WHERE period = ?1")?
        .query_row([&period], |r| r.get(0))
        .optional()?;
    if state.as_deref() == Some("closed") {
        return Ok(None);
    }
    tx.prepare_cached(
        "INSERT INTO commission_plans (hash, version, name, toml) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (hash) DO NOTHING",
    )?
    .execute(params![
        run.plan.hash,
        run.plan.version,
        run.plan.name,
        run.plan.toml
    ])?;
    tx.prepare_cached(
        "INSERT INTO commission_runs (period, started_at, finished_at, by_account_id, plan_hash, \
             input_members, input_orders, lines, total_minor, currency, result_hash) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        period,
        unix(run.started_at),
        unix(run.finished_at),
        run.by.map(AccountId::get),
        run.plan.hash,
        count(run.input_members),
        count(run.input_orders),
        count(run.lines.len() as u64),
        run.total_minor,
        run.currency.as_str(),
        run.result_hash,
    ])?;
    let run_id = tx.last_insert_rowid();
    tx.prepare_cached(
        "INSERT INTO commission_periods (period, state, plan_hash, last_run_id) \
         VALUES (?1, 'open', ?2, ?3) \
         ON CONFLICT (period) DO UPDATE SET plan_hash = ?2, last_run_id = ?3",
    )?
    .execute(params![period, run.plan.hash, run_id])?;

    let base = id_base(run.period);
    tx.prepare_cached("DELETE FROM earnings_lines WHERE id >= ?1 AND id < ?2")?
        .execute(params![base, base + PERIOD_ID_SPAN])?;
    tx.prepare_cached("DELETE FROM member_period_results WHERE period = ?1")?
        .execute([&period])?;

    let mut insert = tx.prepare_cached(
        "INSERT INTO earnings_lines (id, period, member_id, amount_minor, currency, kind, \
             order_id, source_member_id, level, rule, rate_bps, run_id, reverses_line_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?;
    for stored in &run.lines {
        let l = &stored.line;
        let id = l.id.get();
        if l.period != run.period || !(base..base + PERIOD_ID_SPAN).contains(&id) {
            return Err(bad("a line outside the run's period"));
        }
        insert.execute(params![
            id,
            period,
            l.member.get(),
            l.amount.minor(),
            l.amount.currency().as_str(),
            kind_key(l.kind),
            l.source.order.map(OrderId::get),
            l.source.member.map(MemberId::get),
            l.source.level,
            l.source.rule,
            l.source.rate.map(BasisPoints::get),
            run_id,
            stored.reverses.map(EarningsLineId::get),
        ])?;
    }
    let mut insert = tx.prepare_cached(
        "INSERT INTO member_period_results (period, member_id, pv_hundredths, gv_hundredths, \
             rank_level, best_rank, active) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for m in &run.results {
        insert.execute(params![
            period,
            m.member.get(),
            m.pv.hundredths(),
            m.gv.hundredths(),
            m.rank.get(),
            m.best_rank_in_group.get(),
            m.active,
        ])?;
    }
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
    )?;
    find_run(tx, run_id)
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn find_run(conn: &Connection, id: i64) -> Result<Option<CommissionRunRecord>> {
    let row = conn
        .prepare_cached(
            "SELECT id, period, started_at, finished_at, by_account_id, plan_hash, \
                 input_members, input_orders, lines, total_minor, currency, result_hash \
             FROM commission_runs WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok((
                (r.get::<_, i64>(0)?, r.get::<_, String>(1)?),
                (r.get::<_, i64>(2)?, r.get::<_, i64>(3)?),
                r.get::<_, Option<i64>>(4)?,
                r.get::<_, String>(5)?,
                (
                    r.get::<_, i64>(6)?,
                    r.get::<_, i64>(7)?,
                    r.get::<_, i64>(8)?,
                ),
                r.get::<_, i64>(9)?,
                r.get::<_, String>(10)?,
                r.get::<_, String>(11)?,
            ))
        })
        .optional()?;
    let Some(((id, period), (started, finished), by, plan_hash, (m, o, l), total, cur, hash)) = row
    else {
        return Ok(None);
    };
    Ok(Some(CommissionRunRecord {
        id,
        period: period_of(&period)?,
        started_at: instant(started)?,
        finished_at: instant(finished)?,
        by: by.map(AccountId::new),
        plan_hash,
        input_members: u64::try_from(m).unwrap_or(0),
        input_orders: u64::try_from(o).unwrap_or(0),
        lines: u64::try_from(l).unwrap_or(0),
        total_minor: total,
        currency: cur,
        result_hash: hash,
    }))
}

fn instant(unix: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(unix).map_err(|_| bad("an instant"))
}

pub(super) fn close(
    tx: &Connection,
    period: Period,
    by: Option<AccountId>,
    now: OffsetDateTime,
) -> Result<Option<CommissionPeriodRecord>> {
    let key = period.to_string();
    let state: Option<String> = tx
        .prepare_cached("SELECT state FROM commission_periods WHERE period = ?1")?
        .query_row([&key], |r| r.get(0))
        .optional()?;
    match state.as_deref() {
        None => return Err(StorageError::NotFound),
        Some("closed") => return Ok(None),
        Some(_) => {}
    }
    tx.prepare_cached(
        "UPDATE commission_periods SET state = 'closed', closed_at = ?2, closed_by = ?3 \
         WHERE period = ?1",
    )?
    .execute(params![key, unix(now), by.map(AccountId::get)])?;
    audit::append(
        tx,
        &NewAuditEvent {
            at: now,
            actor: by,
            action: "commissions.close".to_owned(),
            target: Some(format!("period:{key}")),
            details: json!({}),
        },
    )?;
    find_period(tx, period)
}

pub(super) fn find_period(
    conn: &Connection,
    period: Period,
) -> Result<Option<CommissionPeriodRecord>> {
    let key = period.to_string();
    let row = conn
        .prepare_cached(
            "SELECT state, closed_at, closed_by, plan_hash, last_run_id \
             FROM commission_periods WHERE period = ?1",
        )?
        .query_row([&key], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<i64>>(4)?,
            ))
        })
        .optional()?;
    let Some((state, closed_at, closed_by, plan_hash, last_run)) = row else {
        return Ok(None);
    };
    let last_run = match last_run {
        Some(id) => find_run(conn, id)?,
        None => None,
    };
    let base = id_base(period);
    let mut stmt = conn.prepare_cached(
        "SELECT kind, sum(amount_minor), count(*) FROM earnings_lines \
         WHERE id >= ?1 AND id < ?2 GROUP BY kind",
    )?;
    let mut totals = stmt
        .query_map(params![base, base + PERIOD_ID_SPAN], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?
        .map(|r| {
            let (kind, sum, n) = r?;
            let kind = kind_of(&kind).ok_or(bad("a line's kind"))?;
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

pub(super) fn earnings_of(
    conn: &Connection,
    member: MemberId,
    period: Period,
) -> Result<Vec<StoredLine>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, period, member_id, amount_minor, currency, kind, order_id, \
                source_member_id, level, rule, rate_bps, reverses_line_id \
         FROM earnings_lines WHERE member_id = ?1 AND period = ?2 ORDER BY id",
    )?;
    let rows = stmt.query_map(params![member.get(), period.to_string()], line_at)?;
    rows.map(|r| r?).collect()
}

pub(super) fn earnings_page(
    conn: &Connection,
    member: MemberId,
    period: Period,
    after: Option<EarningsLineId>,
    limit: u32,
) -> Result<Vec<StoredLine>> {
    // The index (member_id, period) carries the id: one seek, then `limit` entries.
    let mut stmt = conn.prepare_cached(
        "SELECT id, period, member_id, amount_minor, currency, kind, order_id, \
                source_member_id, level, rule, rate_bps, reverses_line_id \
         FROM earnings_lines WHERE member_id = ?1 AND period = ?2 AND id > ?3 \
         ORDER BY id LIMIT ?4",
    )?;
    let rows = stmt.query_map(
        params![
            member.get(),
            period.to_string(),
            after.map_or(i64::MIN, EarningsLineId::get),
            limit
        ],
        line_at,
    )?;
    rows.map(|r| r?).collect()
}

pub(super) fn statements_of(conn: &Connection, member: MemberId) -> Result<Vec<StatementRecord>> {
    // A handful of periods, each summed over one range of (member_id, period).
    let mut stmt = conn.prepare_cached(
        "SELECT p.period, p.state, p.last_run_id, r.currency, \
                (SELECT coalesce(sum(e.amount_minor), 0) FROM earnings_lines e \
                  WHERE e.member_id = ?1 AND e.period = p.period), \
                (SELECT count(*) FROM earnings_lines e \
                  WHERE e.member_id = ?1 AND e.period = p.period) \
         FROM commission_periods p JOIN commission_runs r ON r.id = p.last_run_id \
         ORDER BY p.period",
    )?;
    let rows = stmt.query_map([member.get()], |row| {
        Ok((|| -> Result<StatementRecord> {
            Ok(StatementRecord {
                period: period_of(text(row, 0)?)?,
                closed: text(row, 1)? == "closed",
                last_run: row.get(2)?,
                currency: row.get(3)?,
                total_minor: row.get(4)?,
                lines: row.get::<_, i64>(5)?.unsigned_abs(),
            })
        })())
    })?;
    rows.map(|r| r?).collect()
}

pub(super) fn result_with_legs(
    conn: &Connection,
    member: MemberId,
    period: Period,
) -> Result<Option<(PeriodResultRecord, Vec<PeriodResultRecord>)>> {
    let key = period.to_string();
    let select = "SELECT member_id, pv_hundredths, gv_hundredths, rank_level, best_rank, active \
                  FROM member_period_results";
    let own = conn
        .prepare_cached(&format!("{select} WHERE period = ?1 AND member_id = ?2"))?
        .query_row(params![key, member.get()], result_at)
        .optional()?;
    let Some(own) = own else {
        return Ok(None);
    };
    let legs = conn
        .prepare_cached(&format!(
            "{select} WHERE period = ?1 AND member_id IN \
             (SELECT id FROM members WHERE sponsor_id = ?2) ORDER BY member_id"
        ))?
        .query_map(params![key, member.get()], result_at)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Some((own, legs)))
}

fn result_at(r: &Row<'_>) -> rusqlite::Result<PeriodResultRecord> {
    Ok(PeriodResultRecord {
        member: MemberId::new(r.get(0)?),
        pv: Pv::from_hundredths(r.get(1)?),
        gv: Gv::from_hundredths(r.get(2)?),
        rank: RankLevel::new(r.get(3)?),
        best_rank_in_group: RankLevel::new(r.get(4)?),
        active: r.get(5)?,
    })
}

pub(super) fn plan(conn: &Connection, hash: &str) -> Result<Option<PlanRecord>> {
    Ok(conn
        .prepare_cached("SELECT hash, version, name, toml FROM commission_plans WHERE hash = ?1")?
        .query_row([hash], |r| {
            Ok(PlanRecord {
                hash: r.get(0)?,
                version: r.get(1)?,
                name: r.get(2)?,
                toml: r.get(3)?,
            })
        })
        .optional()?)
}

pub(super) fn set_order_status(
    tx: &Connection,
    order: OrderId,
    status: canopy_core::OrderStatus,
    now: OffsetDateTime,
) -> Result<()> {
    let found: Option<(String, i64)> = tx
        .prepare_cached("SELECT status, member_id FROM orders WHERE id = ?1")?
        .query_row([order.get()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (from, buyer) = found.ok_or(StorageError::NotFound)?;
    let from = order_status(&from).map_err(|_| bad("a status"))?;
    if !from.can_become(status) {
        return Err(bad("that order status change is not allowed"));
    }
    tx.prepare_cached("UPDATE orders SET status = ?2 WHERE id = ?1")?
        .execute(params![order.get(), order_status_key(status)])?;
    tx.prepare_cached("INSERT INTO member_changes (member_id, at) VALUES (?1, ?2)")?
        .execute(params![buyer, unix(now)])?;
    Ok(())
}
