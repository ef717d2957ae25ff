//! Bootstrap snapshots on SQLite: the scope listed once per bootstrap, then read by range.

use canopy_core::{AccountId, MemberId};
use rusqlite::{Connection, OptionalExtension, Row, params};
use time::OffsetDateTime;

use super::convert::{time_at, unix};
use super::members::{self, MEMBER_COLUMNS, member_from_row};
use crate::storage::{MemberWithPersonal, Result, SnapshotRecord, StorageError};

fn snapshot_from_row(row: &Row<'_>) -> rusqlite::Result<SnapshotRecord> {
    Ok(SnapshotRecord {
        id: row.get(0)?,
        account: AccountId::new(row.get(1)?),
        root: row.get::<_, Option<i64>>(2)?.map(MemberId::new),
        rows_total: u64::try_from(row.get::<_, i64>(3)?).unwrap_or(0),
        created_at: time_at(row, 4)?,
        change_seq: row.get(5)?,
    })
}

pub(super) fn create_snapshot(
    tx: &Connection,
    account: AccountId,
    root: Option<MemberId>,
    now: OffsetDateTime,
) -> Result<SnapshotRecord> {
    tx.execute(
        "DELETE FROM sync_snapshot_members WHERE snapshot_id IN \
             (SELECT id FROM sync_snapshots WHERE account_id = ?1)",
        [account.get()],
    )?;
    tx.execute(
        "DELETE FROM sync_snapshots WHERE account_id = ?1",
        [account.get()],
    )?;
    // The log position first: a change after it is in the deltas even if the listing
    // below already saw it (applying it twice is harmless, missing it is not).
    tx.execute(
        "INSERT INTO sync_snapshots (account_id, root_member_id, rows_total, created_at, \
             change_seq) \
         VALUES (?1, ?2, 0, ?3, (SELECT coalesce(max(seq), 0) FROM member_changes))",
        params![account.get(), root.map(MemberId::get), unix(now)],
    )?;
    let id = tx.last_insert_rowid();
    let listed = match root {
        // UNION (not UNION ALL) so a corrupt tree with a cycle still terminates.
        Some(root) => tx.execute(
            "INSERT INTO sync_snapshot_members (snapshot_id, ord, member_id) \
             SELECT ?1, row_number() OVER (ORDER BY id) - 1, id FROM ( \
                 WITH RECURSIVE down(id) AS ( \
                     SELECT id FROM members WHERE id = ?2 \
                     UNION SELECT m.id FROM members m JOIN down ON m.sponsor_id = down.id) \
                 SELECT id FROM down)",
            params![id, root.get()],
        )?,
        None => tx.execute(
            "INSERT INTO sync_snapshot_members (snapshot_id, ord, member_id) \
             SELECT ?1, row_number() OVER (ORDER BY id) - 1, id FROM members",
            [id],
        )?,
    };
    tx.execute(
        "UPDATE sync_snapshots SET rows_total = ?2 WHERE id = ?1",
        params![id, listed as i64],
    )?;
    find_snapshot(tx, id)?.ok_or(crate::storage::StorageError::NotFound)
}

pub(super) fn find_snapshot(conn: &Connection, id: i64) -> Result<Option<SnapshotRecord>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, account_id, root_member_id, rows_total, created_at, change_seq \
             FROM sync_snapshots WHERE id = ?1",
        )?
        .query_row([id], snapshot_from_row)
        .optional()?)
}

pub(super) fn snapshot_members(
    conn: &Connection,
    snapshot: i64,
    from: u64,
    limit: u32,
) -> Result<Vec<MemberWithPersonal>> {
    let columns = MEMBER_COLUMNS
        .split(", ")
        .map(|c| format!("m.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let personal = members::PERSONAL_COLUMNS
        .split(", ")
        .map(|c| format!("p.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let at = MEMBER_COLUMNS.split(", ").count();
    let sql = format!(
        "SELECT {columns}, {personal} FROM sync_snapshot_members s \
         JOIN members m ON m.id = s.member_id \
         LEFT JOIN member_personal p ON p.member_id = m.id \
         WHERE s.snapshot_id = ?1 AND s.ord >= ?2 ORDER BY s.ord LIMIT ?3"
    );
    let from = i64::try_from(from).unwrap_or(i64::MAX);
    Ok(conn
        .prepare_cached(&sql)?
        .query_map(params![snapshot, from, i64::from(limit)], |row| {
            Ok((member_from_row(row)?, members::personal_from_row(row, at)?))
        })?
        .collect::<rusqlite::Result<_>>()?)
}

pub(super) fn move_member(
    tx: &Connection,
    id: MemberId,
    sponsor: MemberId,
    now: OffsetDateTime,
) -> Result<u64> {
    if members::find_member(tx, id)?.is_none() || members::find_member(tx, sponsor)?.is_none() {
        return Err(StorageError::NotFound);
    }
    if sponsor == id || members::is_in_sponsor_line(tx, sponsor, id, 100_000)? {
        return Err(StorageError::Invalid(
            "a member can't move under their own downline",
        ));
    }
    tx.execute(
        "UPDATE members SET sponsor_id = ?2 WHERE id = ?1",
        params![id.get(), sponsor.get()],
    )?;
    let logged = tx.execute(
        "INSERT INTO member_changes (member_id, at) \
         WITH RECURSIVE down(id, depth) AS ( \
             SELECT ?1, 0 \
             UNION SELECT m.id, down.depth + 1 FROM members m JOIN down ON m.sponsor_id = down.id) \
         SELECT id, ?2 FROM down ORDER BY depth, id",
        params![id.get(), unix(now)],
    )?;
    Ok(logged as u64)
}

pub(super) fn latest_change(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT coalesce(max(seq), 0) FROM member_changes",
        [],
        |r| r.get(0),
    )?)
}

pub(super) fn changes_since(
    conn: &Connection,
    after: i64,
    limit: u32,
) -> Result<Vec<(i64, Option<MemberId>)>> {
    let rows = conn
        .prepare_cached(
            "SELECT seq, member_id, subject FROM member_changes WHERE seq > ?1 \
             ORDER BY seq LIMIT ?2",
        )?
        .query_map(params![after, i64::from(limit)], |r| {
            let subject: String = r.get(2)?;
            let member = (subject == "member")
                .then(|| r.get(1).map(MemberId::new))
                .transpose()?;
            Ok((r.get(0)?, member))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

pub(super) fn scope_checksum(conn: &Connection, root: Option<MemberId>) -> Result<(i64, String)> {
    let seq: i64 = conn
        .prepare_cached("SELECT coalesce(max(seq), 0) FROM member_changes")?
        .query_row([], |r| r.get(0))?;
    // The same scope as a snapshot's listing (`create_snapshot`).
    let pairs: Vec<(i64, Option<i64>)> = match root {
        None => conn
            .prepare_cached("SELECT id, sponsor_id FROM members")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?,
        Some(root) => conn
            .prepare_cached(
                "WITH RECURSIVE down(id) AS ( \
                     SELECT id FROM members WHERE id = ?1 \
                     UNION SELECT m.id FROM members m JOIN down ON m.sponsor_id = down.id) \
                 SELECT m.id, m.sponsor_id FROM down JOIN members m ON m.id = down.id",
            )?
            .query_map([root.get()], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?,
    };
    Ok((seq, canopy_core::sync::scope_checksum(pairs)))
}

pub(super) fn members_in_scope(
    conn: &Connection,
    ids: &[MemberId],
    root: Option<MemberId>,
) -> Result<Vec<Option<MemberWithPersonal>>> {
    ids.iter()
        .map(|&id| {
            let Some(member) = members::find_member(conn, id)? else {
                return Ok(None);
            };
            let visible = match root {
                None => true,
                Some(root) => id == root || members::is_in_sponsor_line(conn, id, root, 100_000)?,
            };
            if !visible {
                return Ok(None);
            }
            let personal = members::find_personal(conn, id)?;
            Ok(Some((member, personal)))
        })
        .collect()
}
