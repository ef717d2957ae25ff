//! The sponsor tree's index, which makes every subtree query independent of the tree's
//! size: each member's subtree is the pre-order interval `[pre, last]` (so "everyone below
//! X" is one index range), and each member with a downline has its aggregates (team size,
//! members per rank and per level, group volume per period) stored, not recomputed.
//!
//! Deltas keep both exact without a rebuild: a new leaf takes a number in the gap after its
//! sponsor's interval (numbers start [`GAP`] apart) and adds itself to its ancestors'
//! aggregates; a removal subtracts the member's whole subtree from its ancestors; a move
//! does both and renumbers. Only when a gap runs out (or rows arrive out of order) is the
//! index marked dirty and rebuilt in memory at the end of the transaction.

mod rebuild;
mod stats;

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, Transaction, params};

pub use stats::Stats;

use crate::error::StoreError;

/// Distance between consecutive pre-order numbers after a rebuild.
pub(crate) const GAP: i64 = 1 << 32;
/// How far after its sponsor's interval a new leaf is numbered, gap permitting: appends
/// under one sponsor use the gap 4 KiB at a time, so a million of them fit.
const STEP: i64 = 1 << 12;
/// "No parent" in the compact arrays.
pub(crate) const NONE: u32 = u32::MAX;
/// The `meta` key set while the index needs a rebuild.
const DIRTY: &str = "tree_dirty";

/// The columns of one tree's index: the sponsor tree carries the aggregates, the
/// placement tree only its intervals and depths (for its downline pages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Columns {
    pub parent: &'static str,
    pub pre: &'static str,
    pub last: &'static str,
    pub depth: &'static str,
    /// The index over `pre`.
    pub pre_index: &'static str,
}

pub(crate) const SPONSOR: Columns = Columns {
    parent: "sponsor_id",
    pre: "pre",
    last: "last",
    depth: "depth",
    pre_index: "members_pre",
};

pub(crate) const PLACEMENT: Columns = Columns {
    parent: "placement_id",
    pre: "p_pre",
    last: "p_last",
    depth: "p_depth",
    pre_index: "members_placement_pre",
};

/// Recomputes the whole index now.
pub(crate) fn rebuild(tx: &Transaction<'_>) -> Result<(), StoreError> {
    rebuild::rebuild(tx)?;
    tx.execute("DELETE FROM meta WHERE key = ?1", [DIRTY])?;
    Ok(())
}

/// Work one batch of deltas defers to its end: when many new leaves land under the same
/// ancestors (a thousand enrollments under one rep), each ancestor's aggregates and
/// interval end are written once, not once per leaf. Lives for one transaction.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    /// The dirty flag as last read or set in this transaction.
    dirty: Option<bool>,
    /// Ancestors' aggregates still to add.
    aggregates: HashMap<i64, Contribution>,
    /// Interval ends still to widen, per tree's `last` column.
    lasts: HashMap<(&'static str, i64), i64>,
    /// Ancestor lines already walked in this batch, per tree's parent column and parent.
    /// Only leaves are added between flushes, and adding a leaf changes nobody's line.
    chains: HashMap<(&'static str, i64), Vec<i64>>,
}

/// Marks the index for a rebuild at the end of the transaction.
fn mark_dirty(tx: &Transaction<'_>, p: &mut Pending) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO meta (key, value) VALUES (?1, '1') ON CONFLICT (key) DO NOTHING",
        [DIRTY],
    )?;
    p.dirty = Some(true);
    Ok(())
}

fn is_dirty(tx: &Transaction<'_>, p: &mut Pending) -> Result<bool, StoreError> {
    if let Some(dirty) = p.dirty {
        return Ok(dirty);
    }
    let dirty = tx
        .query_row("SELECT 1 FROM meta WHERE key = ?1", [DIRTY], |_| Ok(()))
        .optional()?
        .is_some();
    p.dirty = Some(dirty);
    Ok(dirty)
}

/// Writes the deferred work. Every delta that reads the index calls this first.
pub(crate) fn flush(tx: &Transaction<'_>, p: &mut Pending) -> Result<(), StoreError> {
    p.chains.clear();
    let aggregates = std::mem::take(&mut p.aggregates);
    let lasts = std::mem::take(&mut p.lasts);
    if is_dirty(tx, p)? {
        // The rebuild at the end recomputes everything.
        return Ok(());
    }
    for ((last_col, id), last) in lasts {
        tx.prepare_cached(&format!(
            "UPDATE members SET {last_col} = ?2 WHERE id = ?1 AND {last_col} < ?2"
        ))?
        .execute(params![id, last])?;
    }
    for (a, c) in aggregates {
        add_to(tx, a, &c, 0, 1)?;
    }
    Ok(())
}

/// Ends a batch of deltas: the deferred work, then a rebuild if any delta could not keep
/// the index exact.
pub(crate) fn finish(tx: &Transaction<'_>, p: &mut Pending) -> Result<(), StoreError> {
    flush(tx, p)?;
    if is_dirty(tx, p)? {
        rebuild(tx)?;
        p.dirty = Some(false);
    }
    Ok(())
}

/// A subtree's weight in its ancestors' aggregates: its members (the root included) by
/// rank and by level, and its group volume per period.
#[derive(Debug, Default, Clone)]
struct Contribution {
    count: u64,
    ranks: Vec<u32>,
    levels: Vec<u32>,
    gv: Vec<(i64, i64)>,
}

fn contribution(tx: &Transaction<'_>, id: i64) -> Result<Contribution, StoreError> {
    let rank: u16 = tx.query_row("SELECT rank_level FROM members WHERE id = ?1", [id], |r| {
        r.get(0)
    })?;
    let below = read_stats(tx, id)?.unwrap_or_default();
    let mut ranks = Vec::new();
    stats::add_counts(&mut ranks, usize::from(rank), &[1], 1)?;
    stats::add_counts(&mut ranks, 0, &below.ranks, 1)?;
    let mut levels = vec![1];
    stats::add_counts(&mut levels, 1, &below.levels, 1)?;
    let mut stmt = tx.prepare_cached("SELECT period, gv FROM volumes WHERE member_id = ?1")?;
    let gv = stmt
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<Vec<(i64, i64)>, _>>()?;
    Ok(Contribution {
        count: 1 + below.team_size,
        ranks,
        levels,
        gv,
    })
}

/// The member's parent in the tree of `cols`, if that parent is in the cache.
fn parent_in_cache(tx: &Connection, id: i64, cols: Columns) -> Result<Option<i64>, StoreError> {
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT s.id FROM members m JOIN members s ON s.id = m.{} WHERE m.id = ?1",
        cols.parent
    ))?;
    Ok(stmt.query_row([id], |r| r.get(0)).optional()?)
}

/// `from` and its ancestors in the cache, nearest first. A sponsor cycle (impossible from a
/// correct server) is cut where it closes.
fn chain_from(tx: &Connection, from: i64, cols: Columns) -> Result<Vec<i64>, StoreError> {
    let mut chain = vec![from];
    let mut at = from;
    while let Some(up) = parent_in_cache(tx, at, cols)? {
        if chain.contains(&up) {
            return Err(StoreError::Invalid(format!(
                "the sponsor line of member {from} loops back on itself"
            )));
        }
        chain.push(up);
        at = up;
    }
    Ok(chain)
}

/// Everyone above `id` in the cache, nearest first.
pub(crate) fn ancestors(tx: &Connection, id: i64) -> Result<Vec<i64>, StoreError> {
    ancestors_in(tx, id, SPONSOR)
}

fn ancestors_in(tx: &Connection, id: i64, cols: Columns) -> Result<Vec<i64>, StoreError> {
    match parent_in_cache(tx, id, cols)? {
        Some(s) => chain_from(tx, s, cols),
        None => Ok(Vec::new()),
    }
}

pub(crate) fn read_stats(tx: &Connection, id: i64) -> Result<Option<Stats>, StoreError> {
    let mut stmt = tx.prepare_cached(
        "SELECT team_size, ranks, levels FROM subtree_stats WHERE member_id = ?1",
    )?;
    let row = stmt
        .query_row([id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })
        .optional()?;
    row.map(|(team, ranks, levels)| {
        Ok(Stats {
            team_size: u64::try_from(team).unwrap_or(0),
            ranks: stats::decode(&ranks)?,
            levels: stats::decode(&levels)?,
        })
    })
    .transpose()
}

fn write_stats(tx: &Transaction<'_>, id: i64, s: &Stats) -> Result<(), StoreError> {
    tx.prepare_cached("UPDATE members SET team_size = ?2 WHERE id = ?1")?
        .execute(params![id, s.team_size as i64])?;
    if s.team_size == 0 {
        tx.prepare_cached("DELETE FROM subtree_stats WHERE member_id = ?1")?
            .execute([id])?;
    } else {
        tx.prepare_cached(
            "INSERT INTO subtree_stats (member_id, team_size, ranks, levels)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (member_id) DO UPDATE SET
                team_size = excluded.team_size, ranks = excluded.ranks, levels = excluded.levels",
        )?
        .execute(params![
            id,
            s.team_size as i64,
            stats::encode(&s.ranks),
            stats::encode(&s.levels)
        ])?;
    }
    Ok(())
}

/// Adds (`sign` = 1) or removes (-1) a subtree's weight along `chain` (its sponsor first).
fn apply_along(
    tx: &Transaction<'_>,
    chain: &[i64],
    c: &Contribution,
    sign: i64,
) -> Result<(), StoreError> {
    for (distance, &a) in chain.iter().enumerate() {
        add_to(tx, a, c, distance, sign)?;
    }
    Ok(())
}

/// Adds a weight to one ancestor, its levels shifted by `distance` (0 for the sponsor).
fn add_to(
    tx: &Transaction<'_>,
    a: i64,
    c: &Contribution,
    distance: usize,
    sign: i64,
) -> Result<(), StoreError> {
    let mut s = read_stats(tx, a)?.unwrap_or_default();
    let team = s.team_size as i64 + sign * c.count as i64;
    s.team_size = u64::try_from(team)
        .map_err(|_| StoreError::Invalid(format!("team size of {a} would be {team}")))?;
    stats::add_counts(&mut s.ranks, 0, &c.ranks, sign)?;
    stats::add_counts(&mut s.levels, distance, &c.levels, sign)?;
    write_stats(tx, a, &s)?;
    for &(period, gv) in &c.gv {
        add_group_volume(tx, a, period, sign * gv)?;
    }
    Ok(())
}

/// Defers adding a new leaf's weight along `chain` to [`flush`].
fn defer_along(p: &mut Pending, chain: &[i64], c: &Contribution) -> Result<(), StoreError> {
    for (distance, &a) in chain.iter().enumerate() {
        let acc = p.aggregates.entry(a).or_default();
        acc.count += c.count;
        stats::add_counts(&mut acc.ranks, 0, &c.ranks, 1)?;
        stats::add_counts(&mut acc.levels, distance, &c.levels, 1)?;
        for &(period, gv) in &c.gv {
            match acc.gv.iter_mut().find(|(p, _)| *p == period) {
                Some((_, total)) => *total += gv,
                None => acc.gv.push((period, gv)),
            }
        }
    }
    Ok(())
}

fn add_group_volume(
    tx: &Transaction<'_>,
    id: i64,
    period: i64,
    delta: i64,
) -> Result<(), StoreError> {
    if delta == 0 {
        return Ok(());
    }
    tx.prepare_cached(
        "INSERT INTO volumes (member_id, period, pv, gv) VALUES (?1, ?2, 0, ?3)
         ON CONFLICT (period, member_id) DO UPDATE SET gv = gv + excluded.gv",
    )?
    .execute(params![id, period, delta])?;
    Ok(())
}

/// Indexes a member just inserted into `members` (its `sponsor_id` set): numbers it after
/// its sponsor's interval and adds it to its ancestors. A member whose own downline arrived
/// first, or with no gap left, marks the index for a rebuild instead.
pub(crate) fn on_insert(
    tx: &Transaction<'_>,
    id: i64,
    rank: u16,
    p: &mut Pending,
) -> Result<(), StoreError> {
    let has_children: bool = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM members WHERE sponsor_id = ?1) \
                 OR EXISTS (SELECT 1 FROM members WHERE placement_id = ?1)",
        )?
        .query_row([id], |r| r.get(0))?;
    if has_children {
        return mark_dirty(tx, p);
    }
    // Once dirty, the rebuild at the end recomputes everything: don't update on top of it.
    if is_dirty(tx, p)? {
        return Ok(());
    }
    let chain = cached_ancestors(tx, id, SPONSOR, p)?;
    number_leaf(tx, id, &chain, SPONSOR, p)?;
    let placement_chain = cached_ancestors(tx, id, PLACEMENT, p)?;
    number_leaf(tx, id, &placement_chain, PLACEMENT, p)?;
    if is_dirty(tx, p)? {
        return Ok(());
    }
    // A leaf: itself, at its rank, and whatever volume arrived for it before it did.
    let mut ranks = Vec::new();
    stats::add_counts(&mut ranks, usize::from(rank), &[1], 1)?;
    let gv = tx
        .prepare_cached("SELECT period, gv FROM volumes WHERE member_id = ?1")?
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<Vec<(i64, i64)>, _>>()?;
    let c = Contribution {
        count: 1,
        ranks,
        levels: vec![1],
        gv,
    };
    defer_along(p, &chain, &c)
}

/// A new leaf's ancestors: its parent's line, walked once per parent and batch.
fn cached_ancestors(
    tx: &Transaction<'_>,
    id: i64,
    cols: Columns,
    p: &mut Pending,
) -> Result<Vec<i64>, StoreError> {
    let Some(parent) = parent_in_cache(tx, id, cols)? else {
        return Ok(Vec::new());
    };
    if let Some(chain) = p.chains.get(&(cols.parent, parent)) {
        return Ok(chain.clone());
    }
    let chain = chain_from(tx, parent, cols)?;
    p.chains.insert((cols.parent, parent), chain.clone());
    Ok(chain)
}

fn number_leaf(
    tx: &Transaction<'_>,
    id: i64,
    chain: &[i64],
    cols: Columns,
    p: &mut Pending,
) -> Result<(), StoreError> {
    let Columns {
        pre: pre_col,
        last: last_col,
        depth: depth_col,
        ..
    } = cols;
    // The new row's own numbers are still 0, below every real one: the lookups below
    // never see it.
    let Some(&parent) = chain.first() else {
        // A new root of the scope: after everything else (the largest `last` is always
        // the largest `pre`, which has an index).
        let end: i64 = tx
            .prepare_cached(&format!("SELECT coalesce(max({pre_col}), 0) FROM members"))?
            .query_row([], |r| r.get(0))?;
        tx.prepare_cached(&format!(
            "UPDATE members SET {pre_col} = ?2, {last_col} = ?2, {depth_col} = 0 WHERE id = ?1"
        ))?
        .execute(params![id, end + GAP])?;
        return Ok(());
    };
    let (stored_end, depth): (i64, i64) = tx
        .prepare_cached(&format!(
            "SELECT {last_col}, {depth_col} FROM members WHERE id = ?1"
        ))?
        .query_row([parent], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let end = p
        .lasts
        .get(&(last_col, parent))
        .map_or(stored_end, |&pending| pending.max(stored_end));
    let next: Option<i64> = tx
        .prepare_cached(&format!(
            "SELECT min({pre_col}) FROM members WHERE {pre_col} > ?1"
        ))?
        .query_row([end], |r| r.get(0))?;
    let room = next.map_or(2 * STEP, |next| next - end);
    if room < 2 {
        return mark_dirty(tx, p);
    }
    let pre = end + STEP.min(room / 2);
    tx.prepare_cached(&format!(
        "UPDATE members SET {pre_col} = ?2, {last_col} = ?2, {depth_col} = ?3 WHERE id = ?1"
    ))?
    .execute(params![id, pre, depth + 1])?;
    for &a in chain {
        let last = p.lasts.entry((last_col, a)).or_insert(pre);
        *last = (*last).max(pre);
    }
    Ok(())
}

/// Takes a member (and its whole downline) out of its ancestors' aggregates, before its row
/// is deleted. Its enrollees stay in the cache as roots of their own subtrees.
pub(crate) fn on_remove(tx: &Transaction<'_>, id: i64, p: &mut Pending) -> Result<(), StoreError> {
    flush(tx, p)?;
    if is_dirty(tx, p)? {
        return Ok(());
    }
    let chain = ancestors(tx, id)?;
    let c = contribution(tx, id)?;
    apply_along(tx, &chain, &c, -1)?;
    tx.prepare_cached("DELETE FROM subtree_stats WHERE member_id = ?1")?
        .execute([id])?;
    // The enrollees' intervals still lie inside the old ancestors' intervals: renumber.
    if has_children(tx, id, SPONSOR)? || has_children(tx, id, PLACEMENT)? {
        mark_dirty(tx, p)
    } else {
        Ok(())
    }
}

fn has_children(tx: &Transaction<'_>, id: i64, cols: Columns) -> Result<bool, StoreError> {
    Ok(tx
        .prepare_cached(&format!(
            "SELECT EXISTS (SELECT 1 FROM members WHERE {} = ?1)",
            cols.parent
        ))?
        .query_row([id], |r| r.get(0))?)
}

/// A member's placement changed: the placement intervals must be renumbered.
pub(crate) fn on_placement_change(tx: &Transaction<'_>, p: &mut Pending) -> Result<(), StoreError> {
    mark_dirty(tx, p)
}

/// Moves a member and its downline under `new_sponsor` (`sponsor_id` not yet changed).
/// Refuses a move under the member's own downline.
pub(crate) fn on_move(
    tx: &Transaction<'_>,
    id: i64,
    new_sponsor: Option<i64>,
    p: &mut Pending,
) -> Result<(), StoreError> {
    flush(tx, p)?;
    let new_chain = match new_sponsor {
        Some(s) if exists(tx, s)? => chain_from(tx, s, SPONSOR)?,
        _ => Vec::new(),
    };
    if new_chain.contains(&id) {
        return Err(StoreError::Invalid(format!(
            "member {id} can't move under their own downline"
        )));
    }
    let dirty = is_dirty(tx, p)?;
    let c = if dirty {
        None
    } else {
        Some(contribution(tx, id)?)
    };
    if let Some(c) = &c {
        apply_along(tx, &ancestors(tx, id)?, c, -1)?;
    }
    tx.execute(
        "UPDATE members SET sponsor_id = ?2 WHERE id = ?1",
        params![id, new_sponsor],
    )?;
    if let Some(c) = &c {
        apply_along(tx, &new_chain, c, 1)?;
    }
    // The interval must move inside the new sponsor's: renumber.
    mark_dirty(tx, p)
}

/// A member's rank changed from `old` to `new`: every ancestor's rank counts follow.
pub(crate) fn on_rank_change(
    tx: &Transaction<'_>,
    id: i64,
    old: u16,
    new: u16,
    p: &mut Pending,
) -> Result<(), StoreError> {
    flush(tx, p)?;
    if old == new || is_dirty(tx, p)? {
        return Ok(());
    }
    for a in ancestors(tx, id)? {
        let mut s = read_stats(tx, a)?.unwrap_or_default();
        stats::add_counts(&mut s.ranks, usize::from(old), &[1], -1)?;
        stats::add_counts(&mut s.ranks, usize::from(new), &[1], 1)?;
        write_stats(tx, a, &s)?;
    }
    Ok(())
}

/// Adds `delta` to a member's personal volume in `period`, and so to its own and every
/// ancestor's group volume.
pub(crate) fn add_personal_volume(
    tx: &Transaction<'_>,
    id: i64,
    period: i64,
    delta: i64,
    p: &mut Pending,
) -> Result<(), StoreError> {
    flush(tx, p)?;
    tx.prepare_cached(
        "INSERT INTO volumes (member_id, period, pv, gv) VALUES (?1, ?2, ?3, ?3)
         ON CONFLICT (period, member_id) DO UPDATE SET pv = pv + ?3, gv = gv + ?3",
    )?
    .execute(params![id, period, delta])?;
    if exists(tx, id)? && !is_dirty(tx, p)? {
        for a in ancestors(tx, id)? {
            add_group_volume(tx, a, period, delta)?;
        }
    }
    Ok(())
}

fn exists(tx: &Transaction<'_>, id: i64) -> Result<bool, StoreError> {
    Ok(tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM members WHERE id = ?1)")?
        .query_row([id], |r| r.get(0))?)
}
