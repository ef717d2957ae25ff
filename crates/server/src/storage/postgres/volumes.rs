//! Personal volumes on PostgreSQL (mirrors sqlite/volumes.rs), summed from the orders when
//! asked (the server keeps no volume table: an order is the one fact, and a period's volume
//! follows from it).

use canopy_core::sync::VolumeRow;
use canopy_core::{MemberId, Period, Pv};
use tokio_postgres::types::ToSql;

use deadpool_postgres::GenericClient;

use super::Transaction;
use super::convert::{ORDER_STATUSES, order_status_key};
use crate::storage::{Result, StorageError};

/// `members`' volumes; the ids travel as one `BIGINT[]`.
pub(super) async fn volumes_of(
    tx: &impl GenericClient,
    members: &[MemberId],
    since: Period,
) -> Result<Vec<VolumeRow>> {
    if members.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = members.iter().map(|m| m.get()).collect();
    summed(tx, "SELECT unnest($2::BIGINT[]) AS id", &[&ids], since).await
}

/// The volumes of the members at positions `from..from + limit` of a snapshot.
pub(super) async fn snapshot_volumes(
    tx: &Transaction<'_>,
    snapshot: i64,
    from: u64,
    limit: u32,
    since: Period,
) -> Result<Vec<VolumeRow>> {
    let from = i64::try_from(from).unwrap_or(i64::MAX);
    let to = from.saturating_add(i64::from(limit));
    summed(
        tx,
        "SELECT member_id AS id FROM sync_snapshot_members \
         WHERE snapshot_id = $2 AND ord >= $3 AND ord < $4",
        &[&snapshot, &from, &to],
        since,
    )
    .await
}

/// The volumes from `since` on of the members `ids` (a query naming them `id`, its
/// parameters from `$2`) lists: a row for each member and period with an order, the sum of
/// the orders that count (zero if none does). Each member is a range of the
/// `orders_by_member (member_id, placed_at)` index from the first day of `since`. The
/// period is the placing time's UTC month, as SQLite's `strftime('%Y-%m', …, 'unixepoch')`.
async fn summed(
    tx: &impl GenericClient,
    ids: &str,
    args: &[&(dyn ToSql + Sync)],
    since: Period,
) -> Result<Vec<VolumeRow>> {
    let counted: Vec<String> = ORDER_STATUSES
        .into_iter()
        .filter(|s| s.counts_for_volume())
        .map(|s| format!("'{}'", order_status_key(s)))
        .collect();
    let sql = format!(
        "SELECT o.member_id, \
                to_char(to_timestamp(o.placed_at) AT TIME ZONE 'UTC', 'YYYY-MM') AS period, \
                sum(CASE WHEN o.status IN ({}) THEN l.quantity * l.unit_pv_hundredths \
                    ELSE 0 END)::BIGINT \
         FROM ({ids}) AS ids \
         JOIN orders o ON o.member_id = ids.id AND o.placed_at >= $1 \
         JOIN order_lines l ON l.order_id = o.id \
         GROUP BY o.member_id, period ORDER BY o.member_id, period",
        counted.join(", ")
    );
    let from = since.first_day().midnight().assume_utc().unix_timestamp();
    let mut params: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(args.len() + 1);
    params.push(&from);
    params.extend_from_slice(args);
    let stmt = tx.prepare_cached(&sql).await?;
    tx.query(&stmt, &params)
        .await?
        .iter()
        .map(|row| {
            let period: &str = row.try_get(1)?;
            Ok(VolumeRow {
                member: MemberId::new(row.try_get(0)?),
                period: Period::parse(period)
                    .map_err(|_| StorageError::Invalid("an order's period"))?,
                pv: Pv::from_hundredths(row.try_get(2)?),
            })
        })
        .collect()
}
