//! Personal volumes on SQLite, summed from the orders when asked (the server keeps no
//! volume table: an order is the one fact, and a period's volume follows from it).

use canopy_core::sync::VolumeRow;
use canopy_core::{MemberId, Period, Pv};
use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};

use super::convert::{ORDER_STATUSES, order_status_key};
use crate::storage::{Result, StorageError};

/// `members`' volumes; the ids travel as one JSON array.
pub(super) fn volumes_of(
    conn: &Connection,
    members: &[MemberId],
    since: Period,
) -> Result<Vec<VolumeRow>> {
    if members.is_empty() {
        return Ok(Vec::new());
    }
    let ids = format!(
        "[{}]",
        members
            .iter()
            .map(|m| m.get().to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    summed(
        conn,
        "SELECT value AS id FROM json_each(?2)",
        vec![Value::Text(ids)],
        since,
    )
}

/// The volumes of the members at positions `from..from + limit` of a snapshot.
pub(super) fn snapshot_volumes(
    conn: &Connection,
    snapshot: i64,
    from: u64,
    limit: u32,
    since: Period,
) -> Result<Vec<VolumeRow>> {
    let from = i64::try_from(from).unwrap_or(i64::MAX);
    summed(
        conn,
        "SELECT member_id AS id FROM sync_snapshot_members \
         WHERE snapshot_id = ?2 AND ord >= ?3 AND ord < ?4",
        vec![
            Value::Integer(snapshot),
            Value::Integer(from),
            Value::Integer(from.saturating_add(i64::from(limit))),
        ],
        since,
    )
}

/// The volumes from `since` on of the members `ids` (a query naming them `id`, its
/// parameters from `?2`) lists: a row for each member and period with an order, the sum of
/// the orders that count (zero if none does). Each member is a range of the
/// `orders_by_member (member_id, placed_at)` index from the first day of `since`.
fn summed(
    conn: &Connection,
    ids: &str,
    mut args: Vec<Value>,
    since: Period,
) -> Result<Vec<VolumeRow>> {
    let counted: Vec<String> = ORDER_STATUSES
        .into_iter()
        .filter(|s| s.counts_for_volume())
        .map(|s| format!("'{}'", order_status_key(s)))
        .collect();
    let sql = format!(
        "SELECT o.member_id, strftime('%Y-%m', o.placed_at, 'unixepoch') AS period, \
                sum(CASE WHEN o.status IN ({}) THEN l.quantity * l.unit_pv_hundredths \
                    ELSE 0 END) \
         FROM ({ids}) AS ids \
         JOIN orders o ON o.member_id = ids.id AND o.placed_at >= ?1 \
         JOIN order_lines l ON l.order_id = o.id \
         GROUP BY o.member_id, period ORDER BY o.member_id, period",
        counted.join(", ")
    );
    let from = since.first_day().midnight().assume_utc().unix_timestamp();
    args.insert(0, Value::Integer(from));
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(params_from_iter(args), |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(member, period, pv)| {
            Ok(VolumeRow {
                member: MemberId::new(member),
                period: Period::parse(&period)
                    .map_err(|_| StorageError::Invalid("an order's period"))?,
                pv: Pv::from_hundredths(pv),
            })
        })
        .collect()
}
