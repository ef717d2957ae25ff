//! The transaction watch on SQLite: push events recorded once per order or enrollment, the
//! windows its rules count (each one index range of `push_events`), and its alerts.

use std::net::IpAddr;

use canopy_core::{AccountId, MemberId, OrderId};
use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;

use super::alerts;
use super::convert::unix;
use crate::storage::{AlertAudience, AlertRecord, DeviceId, NewAlert, Result};
use crate::watch::{
    Applied, EnrollmentCounts, NewPushEvent, OrderActivity, OrderLink, Recorded, RecordedOrder,
};

/// An order's member, currency, total and volume, from its lines.
fn order_amounts(tx: &Connection, order: OrderId) -> Result<Option<RecordedOrder>> {
    Ok(tx
        .prepare_cached(
            "SELECT o.member_id, o.currency, \
                    coalesce(sum(l.quantity * l.unit_price_minor), 0), \
                    coalesce(sum(l.quantity * l.unit_pv_hundredths), 0) \
             FROM orders o LEFT JOIN order_lines l ON l.order_id = o.id \
             WHERE o.id = ?1 GROUP BY o.id",
        )?
        .query_row([order.get()], |r| {
            Ok(RecordedOrder {
                order,
                member: MemberId::new(r.get(0)?),
                currency: r.get(1)?,
                total_minor: r.get(2)?,
                pv_hundredths: r.get(3)?,
            })
        })
        .optional()?)
}

pub(super) fn record(
    tx: &Connection,
    events: &[NewPushEvent],
    forget_before: OffsetDateTime,
) -> Result<Recorded> {
    tx.prepare_cached("DELETE FROM push_events WHERE at < ?1")?
        .execute([unix(forget_before)])?;
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO push_events (at, account_id, device_id, ip, kind, member_id, \
             order_id, amount_minor, currency, pv_hundredths) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    let mut recorded = Recorded::default();
    for event in events {
        let common = (
            unix(event.at),
            event.account.get(),
            event.device.get(),
            event.ip.to_canonical().to_string(),
        );
        match event.applied {
            Applied::Enrolled(member) => {
                let added = insert.execute(params![
                    common.0,
                    common.1,
                    common.2,
                    common.3,
                    "enroll",
                    member.get(),
                    None::<i64>,
                    None::<i64>,
                    None::<String>,
                    None::<i64>,
                ])?;
                if added > 0 {
                    recorded.enrolled.push(member);
                }
            }
            Applied::Ordered(order) => {
                // An order that is gone (or never was) has nothing to watch.
                let Some(amounts) = order_amounts(tx, order)? else {
                    continue;
                };
                let added = insert.execute(params![
                    common.0,
                    common.1,
                    common.2,
                    common.3,
                    "order",
                    amounts.member.get(),
                    order.get(),
                    amounts.total_minor,
                    amounts.currency,
                    amounts.pv_hundredths,
                ])?;
                if added > 0 {
                    recorded.orders.push(amounts);
                }
            }
        }
    }
    Ok(recorded)
}

pub(super) fn earlier_order_totals(
    conn: &Connection,
    member: MemberId,
    order: OrderId,
    currency: &str,
    limit: u32,
) -> Result<Vec<i64>> {
    let Some(placed_at): Option<i64> = conn
        .prepare_cached("SELECT placed_at FROM orders WHERE id = ?1")?
        .query_row([order.get()], |r| r.get(0))
        .optional()?
    else {
        return Ok(Vec::new());
    };
    // The newest orders first, by the (member_id, placed_at) index; totals from their lines.
    let mut stmt = conn.prepare_cached(
        "SELECT coalesce(sum(l.quantity * l.unit_price_minor), 0) \
         FROM (SELECT id, placed_at FROM orders \
               WHERE member_id = ?1 AND currency = ?2 AND status <> 'cancelled' \
                 AND (placed_at < ?3 OR (placed_at = ?3 AND id < ?4)) \
               ORDER BY placed_at DESC, id DESC LIMIT ?5) o \
         LEFT JOIN order_lines l ON l.order_id = o.id \
         GROUP BY o.id ORDER BY o.placed_at DESC, o.id DESC",
    )?;
    let rows = stmt.query_map(
        params![
            member.get(),
            currency,
            placed_at,
            order.get(),
            i64::from(limit)
        ],
        |r| r.get(0),
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// How many enrollments `column` = `value` recorded after `since`, and the first members.
fn enrollments_by(
    conn: &Connection,
    column: &str,
    value: &dyn rusqlite::ToSql,
    since: OffsetDateTime,
    max_ids: u32,
) -> Result<(u32, Vec<MemberId>)> {
    let filter = format!("{column} = ?1 AND kind = 'enroll' AND at > ?2");
    let count: u32 = conn
        .prepare_cached(&format!("SELECT count(*) FROM push_events WHERE {filter}"))?
        .query_row(params![value, unix(since)], |r| r.get(0))?;
    let members = conn
        .prepare_cached(&format!(
            "SELECT member_id FROM push_events WHERE {filter} ORDER BY at, id LIMIT ?3"
        ))?
        .query_map(params![value, unix(since), i64::from(max_ids)], |r| {
            Ok(MemberId::new(r.get(0)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok((count, members))
}

pub(super) fn count_enrollments_since(
    conn: &Connection,
    device: DeviceId,
    ip: IpAddr,
    since: OffsetDateTime,
    max_ids: u32,
) -> Result<EnrollmentCounts> {
    let (by_device, device_members) =
        enrollments_by(conn, "device_id", &device.get(), since, max_ids)?;
    let ip = ip.to_canonical().to_string();
    let (by_ip, ip_members) = enrollments_by(conn, "ip", &ip, since, max_ids)?;
    Ok(EnrollmentCounts {
        by_device,
        by_ip,
        device_members,
        ip_members,
    })
}

pub(super) fn orders_placed_by(
    conn: &Connection,
    account: AccountId,
    from: OffsetDateTime,
    to: OffsetDateTime,
    max_ids: u32,
) -> Result<OrderActivity> {
    let range = params![account.get(), unix(from), unix(to)];
    let (orders, pv_hundredths): (u32, i64) = conn
        .prepare_cached(
            "SELECT count(*), coalesce(sum(pv_hundredths), 0) FROM push_events \
             WHERE account_id = ?1 AND kind = 'order' AND at >= ?2 AND at < ?3",
        )?
        .query_row(range, |r| Ok((r.get(0)?, r.get(1)?)))?;
    let order_ids = if max_ids == 0 {
        Vec::new()
    } else {
        conn.prepare_cached(
            "SELECT order_id FROM push_events \
             WHERE account_id = ?1 AND kind = 'order' AND at >= ?2 AND at < ?3 \
             ORDER BY at, id LIMIT ?4",
        )?
        .query_map(
            params![account.get(), unix(from), unix(to), i64::from(max_ids)],
            |r| Ok(OrderId::new(r.get(0)?)),
        )?
        .collect::<rusqlite::Result<_>>()?
    };
    Ok(OrderActivity {
        orders,
        pv_hundredths,
        order_ids,
    })
}

/// Links grouped by (placing account, account ordered for), from `push_events` rows that
/// `filter` (on `e`) selects, with `?1`..`?3` its parameters (`?2`, `?3` the time range).
fn links(
    conn: &Connection,
    filter: &str,
    key: i64,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<Vec<OrderLink>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT e.account_id, a.id, e.member_id, count(*), coalesce(sum(e.pv_hundredths), 0) \
         FROM push_events e JOIN accounts a ON a.member_id = e.member_id \
         WHERE {filter} AND e.kind = 'order' AND e.at >= ?2 AND e.at < ?3 \
           AND a.id <> e.account_id \
         GROUP BY e.account_id, a.id"
    ))?;
    let rows = stmt.query_map(params![key, unix(from), unix(to)], |r| {
        Ok(OrderLink {
            from: AccountId::new(r.get(0)?),
            to: AccountId::new(r.get(1)?),
            member: MemberId::new(r.get(2)?),
            orders: r.get(3)?,
            pv_hundredths: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn order_links_around(
    conn: &Connection,
    account: AccountId,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<Vec<OrderLink>> {
    let outgoing = links(conn, "e.account_id = ?1", account.get(), from, to)?;
    let member: Option<i64> = conn
        .prepare_cached("SELECT member_id FROM accounts WHERE id = ?1")?
        .query_row([account.get()], |r| r.get(0))
        .optional()?
        .flatten();
    let incoming = match member {
        Some(member) => links(conn, "e.member_id = ?1", member, from, to)?,
        None => Vec::new(),
    };
    let mut found = Vec::new();
    if !incoming.is_empty() {
        // A loop of three also needs the links from those `account` ordered for.
        for first in &outgoing {
            found.extend(
                links(conn, "e.account_id = ?1", first.to.get(), from, to)?
                    .into_iter()
                    .filter(|l| incoming.iter().any(|i| i.from == l.to)),
            );
        }
    }
    found.extend(outgoing);
    found.extend(incoming);
    Ok(found)
}

pub(super) fn raise(tx: &Connection, alert: &NewAlert) -> Result<Option<AlertRecord>> {
    let subject = alert.evidence.get("subject").and_then(|s| s.as_str());
    if let (true, Some(subject)) = (alert.unless_open, subject) {
        let open: bool = tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM alerts WHERE audience = ?1 AND kind = ?2 \
                 AND resolved_at IS NULL AND json_extract(evidence, '$.subject') = ?3)",
            )?
            .query_row(
                params![AlertAudience::Admin.key(), alert.kind, subject],
                |r| r.get(0),
            )?;
        if open {
            return Ok(None);
        }
    }
    // Checked above by situation; the account-wide check would hide other situations.
    let alert = NewAlert {
        audience: AlertAudience::Admin,
        unless_open: alert.unless_open && subject.is_none(),
        ..alert.clone()
    };
    alerts::create(tx, &alert)
}
