//! Bootstrap snapshots on PostgreSQL (mirrors sqlite/sync.rs): the scope listed once per
//! bootstrap, then read by range; the change log the deltas read.

use std::collections::{HashMap, HashSet};

use canopy_core::{AccountId, MemberId};
use time::OffsetDateTime;
use tokio_postgres::Row;

use deadpool_postgres::GenericClient;

use super::Transaction;
use super::convert::{time_at, unix};
use super::members::{self, MEMBER_COLUMNS, member_from_row};
use crate::storage::{MemberWithPersonal, Result, SnapshotRecord, StorageError};

/// How deep a visibility walk up the sponsor line goes (as SQLite's backend).
const MAX_DEPTH: i64 = 100_000;

/// Rows fetched per round trip when a whole scope is read.
const FETCH: i32 = 50_000;

fn snapshot_from_row(row: &Row) -> Result<SnapshotRecord> {
    Ok(SnapshotRecord {
        id: row.try_get(0)?,
        account: AccountId::new(row.try_get(1)?),
        root: row.try_get::<_, Option<i64>>(2)?.map(MemberId::new),
        rows_total: u64::try_from(row.try_get::<_, i64>(3)?).unwrap_or(0),
        created_at: time_at(row, 4)?,
        change_seq: row.try_get(5)?,
    })
}

/// Lists the scope into `sync_snapshot_members` in one `INSERT … SELECT` (a million ids
/// for an admin never leave the database).
pub(super) async fn create_snapshot(
    tx: &Transaction<'_>,
    account: AccountId,
    root: Option<MemberId>,
    now: OffsetDateTime,
) -> Result<SnapshotRecord> {
    let stmt = tx
        .prepare_cached(
            "DELETE FROM sync_snapshot_members WHERE snapshot_id IN \
                 (SELECT id FROM sync_snapshots WHERE account_id = $1)",
        )
        .await?;
    tx.execute(&stmt, &[&account.get()]).await?;
    let stmt = tx
        .prepare_cached("DELETE FROM sync_snapshots WHERE account_id = $1")
        .await?;
    tx.execute(&stmt, &[&account.get()]).await?;
    // The log position first: a change after it is in the deltas even if the listing
    // below already saw it (applying it twice is harmless, missing it is not).
    let stmt = tx
        .prepare_cached(
            "INSERT INTO sync_snapshots (account_id, root_member_id, rows_total, created_at, \
                 change_seq) \
             VALUES ($1, $2, 0, $3, (SELECT coalesce(max(seq), 0) FROM member_changes)) \
             RETURNING id",
        )
        .await?;
    let id: i64 = tx
        .query_one(
            &stmt,
            &[&account.get(), &root.map(MemberId::get), &unix(now)],
        )
        .await?
        .try_get(0)?;
    let listed = match root {
        // UNION (not UNION ALL) so a corrupt tree with a cycle still terminates.
        Some(root) => {
            let stmt = tx
                .prepare_cached(
                    "WITH RECURSIVE down(id) AS ( \
                         SELECT id FROM members WHERE id = $2 \
                         UNION SELECT m.id FROM members m JOIN down ON m.sponsor_id = down.id) \
                     INSERT INTO sync_snapshot_members (snapshot_id, ord, member_id) \
                     SELECT $1::BIGINT, row_number() OVER (ORDER BY id) - 1, id FROM down",
                )
                .await?;
            tx.execute(&stmt, &[&id, &root.get()]).await?
        }
        None => {
            let stmt = tx
                .prepare_cached(
                    "INSERT INTO sync_snapshot_members (snapshot_id, ord, member_id) \
                     SELECT $1::BIGINT, row_number() OVER (ORDER BY id) - 1, id FROM members",
                )
                .await?;
            tx.execute(&stmt, &[&id]).await?
        }
    };
    let stmt = tx
        .prepare_cached("UPDATE sync_snapshots SET rows_total = $2 WHERE id = $1")
        .await?;
    let listed = i64::try_from(listed).unwrap_or(i64::MAX);
    tx.execute(&stmt, &[&id, &listed]).await?;
    find_snapshot(tx, id).await?.ok_or(StorageError::NotFound)
}

pub(super) async fn find_snapshot(tx: &Transaction<'_>, id: i64) -> Result<Option<SnapshotRecord>> {
    let stmt = tx
        .prepare_cached(
            "SELECT id, account_id, root_member_id, rows_total, created_at, change_seq \
             FROM sync_snapshots WHERE id = $1",
        )
        .await?;
    tx.query_opt(&stmt, &[&id])
        .await?
        .map(|row| snapshot_from_row(&row))
        .transpose()
}

/// `MEMBER_COLUMNS` then `PERSONAL_COLUMNS`, qualified `m.` and `p.`, and where the
/// personal ones start.
fn member_and_personal_columns() -> (String, usize) {
    let qualify = |columns: &str, table: &str| {
        columns
            .split(", ")
            .map(|c| format!("{table}.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    (
        format!(
            "{}, {}",
            qualify(MEMBER_COLUMNS, "m"),
            qualify(members::PERSONAL_COLUMNS, "p")
        ),
        MEMBER_COLUMNS.split(", ").count(),
    )
}

pub(super) async fn snapshot_members(
    tx: &Transaction<'_>,
    snapshot: i64,
    from: u64,
    limit: u32,
) -> Result<Vec<MemberWithPersonal>> {
    let (columns, at) = member_and_personal_columns();
    let sql = format!(
        "SELECT {columns} FROM sync_snapshot_members s \
         JOIN members m ON m.id = s.member_id \
         LEFT JOIN member_personal p ON p.member_id = m.id \
         WHERE s.snapshot_id = $1 AND s.ord >= $2 ORDER BY s.ord LIMIT $3"
    );
    let from = i64::try_from(from).unwrap_or(i64::MAX);
    let stmt = tx.prepare_cached(&sql).await?;
    tx.query(&stmt, &[&snapshot, &from, &i64::from(limit)])
        .await?
        .iter()
        .map(|row| Ok((member_from_row(row)?, members::personal_from_row(row, at)?)))
        .collect()
}

pub(super) async fn move_member(
    tx: &Transaction<'_>,
    id: MemberId,
    sponsor: MemberId,
    now: OffsetDateTime,
) -> Result<u64> {
    if members::find_member(tx, id).await?.is_none()
        || members::find_member(tx, sponsor).await?.is_none()
    {
        return Err(StorageError::NotFound);
    }
    if sponsor == id || members::is_in_sponsor_line(tx, sponsor, id, 100_000).await? {
        return Err(StorageError::Invalid(
            "a member can't move under their own downline",
        ));
    }
    let stmt = tx
        .prepare_cached("UPDATE members SET sponsor_id = $2 WHERE id = $1")
        .await?;
    tx.execute(&stmt, &[&id.get(), &sponsor.get()]).await?;
    let stmt = tx
        .prepare_cached(
            "WITH RECURSIVE down(id, depth) AS ( \
                 SELECT $1::BIGINT, 0 \
                 UNION SELECT m.id, down.depth + 1 FROM members m \
                     JOIN down ON m.sponsor_id = down.id) \
             INSERT INTO member_changes (member_id, at) \
             SELECT id, $2::BIGINT FROM down ORDER BY depth, id",
        )
        .await?;
    let logged = tx.execute(&stmt, &[&id.get(), &unix(now)]).await?;
    Ok(logged)
}

pub(super) async fn latest_change(tx: &impl GenericClient) -> Result<i64> {
    let stmt = tx
        .prepare_cached("SELECT coalesce(max(seq), 0) FROM member_changes")
        .await?;
    Ok(tx.query_one(&stmt, &[]).await?.try_get(0)?)
}

pub(super) async fn changes_since(
    tx: &impl GenericClient,
    after: i64,
    limit: u32,
) -> Result<Vec<(i64, Option<MemberId>)>> {
    let stmt = tx
        .prepare_cached(
            "SELECT seq, member_id, subject FROM member_changes WHERE seq > $1 \
             ORDER BY seq LIMIT $2",
        )
        .await?;
    tx.query(&stmt, &[&after, &i64::from(limit)])
        .await?
        .iter()
        .map(|r| {
            let subject: &str = r.try_get(2)?;
            let member = if subject == "member" {
                Some(MemberId::new(r.try_get(1)?))
            } else {
                None
            };
            Ok((r.try_get(0)?, member))
        })
        .collect()
}

/// The same value as SQLite's backend: the `(id, sponsor)` pairs of the scope are read
/// here and folded by [`canopy_core::sync::scope_checksum`] (its 64-bit wrapping mix has no
/// cheap SQL form). They come through a portal, [`FETCH`] rows per round trip, so a
/// million-member scope never sits in memory as driver rows.
pub(super) async fn scope_checksum(
    tx: &Transaction<'_>,
    root: Option<MemberId>,
) -> Result<(i64, String)> {
    let seq = latest_change(tx).await?;
    // The same scope as a snapshot's listing (`create_snapshot`).
    let portal = match root {
        None => {
            let stmt = tx
                .prepare_cached("SELECT id, sponsor_id FROM members")
                .await?;
            tx.bind(&stmt, &[]).await?
        }
        Some(root) => {
            let stmt = tx
                .prepare_cached(
                    "WITH RECURSIVE down(id) AS ( \
                         SELECT id FROM members WHERE id = $1 \
                         UNION SELECT m.id FROM members m JOIN down ON m.sponsor_id = down.id) \
                     SELECT m.id, m.sponsor_id FROM down JOIN members m ON m.id = down.id",
                )
                .await?;
            tx.bind(&stmt, &[&root.get()]).await?
        }
    };
    let mut pairs: Vec<(i64, Option<i64>)> = Vec::new();
    loop {
        let rows = tx.query_portal(&portal, FETCH).await?;
        for row in &rows {
            pairs.push((row.try_get(0)?, row.try_get(1)?));
        }
        if rows.len() < usize::try_from(FETCH).unwrap_or(usize::MAX) {
            break;
        }
    }
    Ok((seq, canopy_core::sync::scope_checksum(pairs)))
}

/// Each of `ids` with its personal details, or `None` where it doesn't exist or isn't in
/// `root`'s downline. Two statements for the whole list (which of them `root` may see, then
/// the rows) instead of SQLite's three lookups per id.
pub(super) async fn members_in_scope(
    tx: &Transaction<'_>,
    ids: &[MemberId],
    root: Option<MemberId>,
) -> Result<Vec<Option<MemberWithPersonal>>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let raw: Vec<i64> = ids.iter().map(|id| id.get()).collect();
    let visible = match root {
        None => None,
        Some(root) => Some(in_downline(tx, &raw, root.get()).await?),
    };
    let (columns, at) = member_and_personal_columns();
    let sql = format!(
        "SELECT {columns} FROM members m \
         LEFT JOIN member_personal p ON p.member_id = m.id \
         WHERE m.id = ANY($1::BIGINT[])"
    );
    let stmt = tx.prepare_cached(&sql).await?;
    let mut found: HashMap<i64, MemberWithPersonal> = HashMap::new();
    for row in tx.query(&stmt, &[&raw]).await? {
        let member = member_from_row(&row)?;
        let personal = members::personal_from_row(&row, at)?;
        found.insert(member.id.get(), (member, personal));
    }
    Ok(raw
        .iter()
        .map(|id| {
            let in_scope = visible.as_ref().is_none_or(|set| set.contains(id));
            if in_scope {
                found.get(id).cloned()
            } else {
                None
            }
        })
        .collect())
}

/// A team this small is read whole, downwards, to check ids against (most distributors'
/// are); a bigger one is checked by walking up from the ids instead.
const SMALL_TEAM: i64 = 500;

/// Which of `ids` are `root` or in its downline, as `is_in_sponsor_line(id, root, MAX_DEPTH)`
/// would say of each. Every delta batch asks this of every change for every client, and the
/// sponsor tree is deep (hundreds of levels in a big company), so a walk up from each id to
/// the top, one index lookup a level, cost more than all else the server does. Instead:
/// - `root`'s team, when it has at most [`SMALL_TEAM`] members, is read downwards in one
///   statement (it stops reading past that many), and the ids are looked up in it;
/// - else the ids' sponsor lines are walked up together, each member read once however many
///   lines pass through it (they merge towards the top), and not past `root`; each id's line
///   is then followed here.
async fn in_downline(tx: &Transaction<'_>, ids: &[i64], root: i64) -> Result<HashSet<i64>> {
    let stmt = tx
        .prepare_cached(
            "WITH RECURSIVE down(id, depth) AS ( \
                 SELECT $1::BIGINT, 0::BIGINT \
                 UNION ALL SELECT m.id, down.depth + 1 FROM members m \
                     JOIN down ON m.sponsor_id = down.id WHERE down.depth < $2::BIGINT) \
             SELECT id FROM down LIMIT $3",
        )
        .await?;
    let team = tx
        .query(&stmt, &[&root, &MAX_DEPTH, &(SMALL_TEAM + 2)])
        .await?
        .iter()
        .map(|r| r.try_get::<_, i64>(0))
        .collect::<std::result::Result<HashSet<i64>, _>>()?;
    // The root and at most SMALL_TEAM others: the whole team.
    if i64::try_from(team.len()).unwrap_or(i64::MAX) <= SMALL_TEAM + 1 {
        return Ok(ids.iter().copied().filter(|id| team.contains(id)).collect());
    }
    // `UNION` drops a row met twice, which also ends a walk round a cycle.
    let stmt = tx
        .prepare_cached(
            "WITH RECURSIVE up(id, sponsor) AS ( \
                 SELECT id, sponsor_id FROM members WHERE id = ANY($1::BIGINT[]) \
                 UNION SELECT m.id, m.sponsor_id FROM members m \
                     JOIN up ON m.id = up.sponsor WHERE up.id <> $2::BIGINT) \
             SELECT id, sponsor FROM up",
        )
        .await?;
    let mut sponsor_of: HashMap<i64, Option<i64>> = HashMap::new();
    for row in tx.query(&stmt, &[&ids, &root]).await? {
        sponsor_of.insert(row.try_get(0)?, row.try_get(1)?);
    }
    Ok(ids
        .iter()
        .copied()
        .filter(|&id| reaches(&sponsor_of, id, root))
        .collect())
}

/// Whether `root` is `id` or one of its first [`MAX_DEPTH`] sponsors in `sponsor_of`.
fn reaches(sponsor_of: &HashMap<i64, Option<i64>>, id: i64, root: i64) -> bool {
    let mut at = id;
    for _ in 0..=MAX_DEPTH {
        if at == root {
            return true;
        }
        match sponsor_of.get(&at) {
            Some(Some(sponsor)) => at = *sponsor,
            _ => return false,
        }
    }
    false
}
