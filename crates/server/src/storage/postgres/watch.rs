//! The transaction watch on PostgreSQL: push events recorded once per order or enrollment,
//! the windows its rules count (each one index range of `push_events`), and its alerts.
//! Mirrors sqlite/watch.rs.

use std::net::IpAddr;

use canopy_core::{AccountId, MemberId, OrderId};
use time::OffsetDateTime;
use tokio_postgres::types::ToSql;

use super::alerts;
use super::convert::{count, unix};
use crate::storage::{AlertAudience, AlertRecord, DeviceId, NewAlert, Result};
use crate::watch::{
    Applied, EnrollmentCounts, NewPushEvent, OrderActivity, OrderLink, Recorded, RecordedOrder,
};

use super::Transaction;

/// An order's member, currency, total and volume, from its lines.
async fn order_amounts(tx: &Transaction<'_>, order: OrderId) -> Result<Option<RecordedOrder>> {
    let stmt = tx
        .prepare_cached(
            "SELECT o.member_id, o.currency, \
                    coalesce(sum(l.quantity * l.unit_price_minor), 0)::BIGINT, \
                    coalesce(sum(l.quantity * l.unit_pv_hundredths), 0)::BIGINT \
             FROM orders o LEFT JOIN order_lines l ON l.order_id = o.id \
             WHERE o.id = $1 GROUP BY o.id",
        )
        .await?;
    let Some(r) = tx.query_opt(&stmt, &[&order.get()]).await? else {
        return Ok(None);
    };
    Ok(Some(RecordedOrder {
        order,
        member: MemberId::new(r.try_get(0)?),
        currency: r.try_get(1)?,
        total_minor: r.try_get(2)?,
        pv_hundredths: r.try_get(3)?,
    }))
}

pub(super) async fn record(
    tx: &Transaction<'_>,
    events: &[NewPushEvent],
    forget_before: OffsetDateTime,
) -> Result<Recorded> {
    let stmt = tx
        .prepare_cached("DELETE FROM push_events WHERE at < $1")
        .await?;
    tx.execute(&stmt, &[&unix(forget_before)]).await?;
    // A second event for the same order or enrolled member breaks one of the partial
    // unique indexes and is skipped.
    let insert = tx
        .prepare_cached(
            "INSERT INTO push_events (at, account_id, device_id, ip, kind, member_id, \
                 order_id, amount_minor, currency, pv_hundredths) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
        )
        .await?;
    let mut recorded = Recorded::default();
    for event in events {
        let at = unix(event.at);
        let account = event.account.get();
        let device = event.device.get();
        let ip = event.ip.to_canonical().to_string();
        match event.applied {
            Applied::Enrolled(member) => {
                let added = tx
                    .execute(
                        &insert,
                        &[
                            &at,
                            &account,
                            &device,
                            &ip,
                            &"enroll",
                            &member.get(),
                            &None::<i64>,
                            &None::<i64>,
                            &None::<String>,
                            &None::<i64>,
                        ],
                    )
                    .await?;
                if added > 0 {
                    recorded.enrolled.push(member);
                }
            }
            Applied::Ordered(order) => {
                // An order that is gone (or never was) has nothing to watch.
                let Some(amounts) = order_amounts(tx, order).await? else {
                    continue;
                };
                let added = tx
                    .execute(
                        &insert,
                        &[
                            &at,
                            &account,
                            &device,
                            &ip,
                            &"order",
                            &amounts.member.get(),
                            &Some(order.get()),
                            &Some(amounts.total_minor),
                            &Some(amounts.currency.as_str()),
                            &Some(amounts.pv_hundredths),
                        ],
                    )
                    .await?;
                if added > 0 {
                    recorded.orders.push(amounts);
                }
            }
        }
    }
    Ok(recorded)
}

pub(super) async fn earlier_order_totals(
    tx: &Transaction<'_>,
    member: MemberId,
    order: OrderId,
    currency: &str,
    limit: u32,
) -> Result<Vec<i64>> {
    let stmt = tx
        .prepare_cached("SELECT placed_at FROM orders WHERE id = $1")
        .await?;
    let Some(placed_at) = tx
        .query_opt(&stmt, &[&order.get()])
        .await?
        .map(|r| r.try_get::<_, i64>(0))
        .transpose()?
    else {
        return Ok(Vec::new());
    };
    // The newest orders first, by the (member_id, placed_at) index; totals from their lines.
    let stmt = tx
        .prepare_cached(
            "SELECT coalesce(sum(l.quantity * l.unit_price_minor), 0)::BIGINT \
             FROM (SELECT id, placed_at FROM orders \
                   WHERE member_id = $1 AND currency = $2 AND status <> 'cancelled' \
                     AND (placed_at < $3 OR (placed_at = $3 AND id < $4)) \
                   ORDER BY placed_at DESC, id DESC LIMIT $5) o \
             LEFT JOIN order_lines l ON l.order_id = o.id \
             GROUP BY o.id, o.placed_at ORDER BY o.placed_at DESC, o.id DESC",
        )
        .await?;
    tx.query(
        &stmt,
        &[
            &member.get(),
            &currency,
            &placed_at,
            &order.get(),
            &i64::from(limit),
        ],
    )
    .await?
    .iter()
    .map(|r| Ok(r.try_get(0)?))
    .collect()
}

/// How many enrollments `column` = `value` recorded after `since`, and the first members.
async fn enrollments_by(
    tx: &Transaction<'_>,
    column: &str,
    value: &(dyn ToSql + Sync),
    since: OffsetDateTime,
    max_ids: u32,
) -> Result<(u32, Vec<MemberId>)> {
    let filter = format!("{column} = $1 AND kind = 'enroll' AND at > $2");
    let since = unix(since);
    let stmt = tx
        .prepare_cached(&format!("SELECT count(*) FROM push_events WHERE {filter}"))
        .await?;
    let total: i64 = tx.query_one(&stmt, &[value, &since]).await?.try_get(0)?;
    let stmt = tx
        .prepare_cached(&format!(
            "SELECT member_id FROM push_events WHERE {filter} ORDER BY at, id LIMIT $3"
        ))
        .await?;
    let members = tx
        .query(&stmt, &[value, &since, &i64::from(max_ids)])
        .await?
        .iter()
        .map(|r| Ok(MemberId::new(r.try_get(0)?)))
        .collect::<Result<_>>()?;
    Ok((count(total)?, members))
}

pub(super) async fn count_enrollments_since(
    tx: &Transaction<'_>,
    device: DeviceId,
    ip: IpAddr,
    since: OffsetDateTime,
    max_ids: u32,
) -> Result<EnrollmentCounts> {
    let (by_device, device_members) =
        enrollments_by(tx, "device_id", &device.get(), since, max_ids).await?;
    let ip = ip.to_canonical().to_string();
    let (by_ip, ip_members) = enrollments_by(tx, "ip", &ip, since, max_ids).await?;
    Ok(EnrollmentCounts {
        by_device,
        by_ip,
        device_members,
        ip_members,
    })
}

pub(super) async fn orders_placed_by(
    tx: &Transaction<'_>,
    account: AccountId,
    from: OffsetDateTime,
    to: OffsetDateTime,
    max_ids: u32,
) -> Result<OrderActivity> {
    let (account, from, to) = (account.get(), unix(from), unix(to));
    let stmt = tx
        .prepare_cached(
            "SELECT count(*), coalesce(sum(pv_hundredths), 0)::BIGINT FROM push_events \
             WHERE account_id = $1 AND kind = 'order' AND at >= $2 AND at < $3",
        )
        .await?;
    let row = tx.query_one(&stmt, &[&account, &from, &to]).await?;
    let orders = count(row.try_get(0)?)?;
    let pv_hundredths: i64 = row.try_get(1)?;
    let order_ids = if max_ids == 0 {
        Vec::new()
    } else {
        let stmt = tx
            .prepare_cached(
                "SELECT order_id FROM push_events \
                 WHERE account_id = $1 AND kind = 'order' AND at >= $2 AND at < $3 \
                 ORDER BY at, id LIMIT $4",
            )
            .await?;
        tx.query(&stmt, &[&account, &from, &to, &i64::from(max_ids)])
            .await?
            .iter()
            .map(|r| Ok(OrderId::new(r.try_get(0)?)))
            .collect::<Result<_>>()?
    };
    Ok(OrderActivity {
        orders,
        pv_hundredths,
        order_ids,
    })
}

/// Links grouped by (placing account, account ordered for), from `push_events` rows that
/// `filter` (on `e`) selects, with `$1`..`$3` its parameters (`$2`, `$3` the time range).
/// An account has at most one member, so the member is the linked account's; the groups
/// come sorted by their keys, as SQLite's grouping returns them.
async fn links(
    tx: &Transaction<'_>,
    filter: &str,
    key: i64,
    from: i64,
    to: i64,
) -> Result<Vec<OrderLink>> {
    let stmt = tx
        .prepare_cached(&format!(
            "SELECT e.account_id, a.id, a.member_id, count(*), \
                    coalesce(sum(e.pv_hundredths), 0)::BIGINT \
             FROM push_events e JOIN accounts a ON a.member_id = e.member_id \
             WHERE {filter} AND e.kind = 'order' AND e.at >= $2 AND e.at < $3 \
               AND a.id <> e.account_id \
             GROUP BY e.account_id, a.id, a.member_id \
             ORDER BY e.account_id, a.id"
        ))
        .await?;
    tx.query(&stmt, &[&key, &from, &to])
        .await?
        .iter()
        .map(|r| {
            Ok(OrderLink {
                from: AccountId::new(r.try_get(0)?),
                to: AccountId::new(r.try_get(1)?),
                member: MemberId::new(r.try_get(2)?),
                orders: count(r.try_get(3)?)?,
                pv_hundredths: r.try_get(4)?,
            })
        })
        .collect()
}

pub(super) async fn order_links_around(
    tx: &Transaction<'_>,
    account: AccountId,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<Vec<OrderLink>> {
    let (from, to) = (unix(from), unix(to));
    let outgoing = links(tx, "e.account_id = $1", account.get(), from, to).await?;
    let stmt = tx
        .prepare_cached("SELECT member_id FROM accounts WHERE id = $1")
        .await?;
    let member: Option<i64> = tx
        .query_opt(&stmt, &[&account.get()])
        .await?
        .map(|r| r.try_get::<_, Option<i64>>(0))
        .transpose()?
        .flatten();
    let incoming = match member {
        Some(member) => links(tx, "e.member_id = $1", member, from, to).await?,
        None => Vec::new(),
    };
    let mut found = Vec::new();
    if !incoming.is_empty() {
        // A loop of three also needs the links from those `account` ordered for.
        for first in &outgoing {
            found.extend(
                links(tx, "e.account_id = $1", first.to.get(), from, to)
                    .await?
                    .into_iter()
                    .filter(|l| incoming.iter().any(|i| i.from == l.to)),
            );
        }
    }
    found.extend(outgoing);
    found.extend(incoming);
    Ok(found)
}

pub(super) async fn raise(tx: &Transaction<'_>, alert: &NewAlert) -> Result<Option<AlertRecord>> {
    let subject = alert.evidence.get("subject").and_then(|s| s.as_str());
    if let (true, Some(subject)) = (alert.unless_open, subject) {
        // `evidence` is JSON text: `->>` reads the subject as text, as SQLite's
        // `json_extract` reads a string.
        let stmt = tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM alerts WHERE audience = $1 AND kind = $2 \
                 AND resolved_at IS NULL AND evidence::jsonb ->> 'subject' = $3)",
            )
            .await?;
        let open: bool = tx
            .query_one(&stmt, &[&AlertAudience::Admin.key(), &alert.kind, &subject])
            .await?
            .try_get(0)?;
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
    alerts::create(tx, &alert).await
}
