//! Recomputes the whole sponsor-tree index in memory and writes it back: pre-order
//! intervals, depths, subtree aggregates and group volumes. Run after a bulk load, and after
//! a delta the incremental path cannot number (a moved subtree with no room left).

use std::collections::HashMap;

use rusqlite::{Transaction, params};

use super::stats::{add_counts, encode};
use super::{Columns, GAP, NONE, PLACEMENT, SPONSOR};
use crate::error::StoreError;

/// The tree as compact arrays: members in id order, parents as indexes.
struct Forest {
    ids: Vec<i64>,
    parent: Vec<u32>,
    rank: Vec<u16>,
    /// Children in CSR form, each member's children in id (join) order.
    child_start: Vec<u32>,
    children: Vec<u32>,
}

impl Forest {
    fn load(tx: &Transaction<'_>, cols: Columns) -> Result<Self, StoreError> {
        let mut stmt = tx.prepare(&format!(
            "SELECT id, {}, rank_level FROM members ORDER BY id",
            cols.parent
        ))?;
        let mut ids = Vec::new();
        let mut sponsors = Vec::new();
        let mut rank = Vec::new();
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            ids.push(r.get::<_, i64>(0)?);
            sponsors.push(r.get::<_, Option<i64>>(1)?);
            rank.push(r.get::<_, u16>(2)?);
        }
        let index: HashMap<i64, u32> = ids
            .iter()
            .enumerate()
            .map(|(i, &id)| (id, i as u32))
            .collect();
        let parent: Vec<u32> = sponsors
            .iter()
            .enumerate()
            .map(|(i, s)| match s.and_then(|s| index.get(&s)) {
                // A member can't be its own sponsor; such a row is treated as a root.
                Some(&p) if p as usize != i => p,
                _ => NONE,
            })
            .collect();
        let n = ids.len();
        let mut child_start = vec![0u32; n + 1];
        for &p in &parent {
            if p != NONE {
                child_start[p as usize + 1] += 1;
            }
        }
        for i in 0..n {
            child_start[i + 1] += child_start[i];
        }
        let mut fill = child_start.clone();
        let mut children = vec![0u32; child_start[n] as usize];
        for (i, &p) in parent.iter().enumerate() {
            if p != NONE {
                children[fill[p as usize] as usize] = i as u32;
                fill[p as usize] += 1;
            }
        }
        Ok(Self {
            ids,
            parent,
            rank,
            child_start,
            children,
        })
    }

    fn children(&self, i: usize) -> &[u32] {
        &self.children[self.child_start[i] as usize..self.child_start[i + 1] as usize]
    }

    /// Members in pre-order (roots in id order, children in id order), with depths.
    /// A sponsor cycle (bad data from outside) leaves its members unvisited: they are
    /// numbered afterwards as roots of their own, so every row still gets an interval.
    fn preorder(&self) -> (Vec<u32>, Vec<u32>) {
        let n = self.ids.len();
        let mut order = Vec::with_capacity(n);
        let mut depth = vec![0u32; n];
        let mut seen = vec![false; n];
        let mut stack: Vec<u32> = Vec::new();
        let roots = (0..n).filter(|&i| self.parent[i] == NONE);
        let stragglers = (0..n).map(|i| i as u32);
        for start in roots.map(|i| i as u32).chain(stragglers) {
            if seen[start as usize] {
                continue;
            }
            if self.parent[start as usize] != NONE {
                depth[start as usize] = 0;
            }
            stack.push(start);
            while let Some(v) = stack.pop() {
                if seen[v as usize] {
                    continue;
                }
                seen[v as usize] = true;
                order.push(v);
                for &c in self.children(v as usize).iter().rev() {
                    if !seen[c as usize] {
                        depth[c as usize] = depth[v as usize] + 1;
                        stack.push(c);
                    }
                }
            }
        }
        (order, depth)
    }
}

/// A forest's pre-order numbering, by member index.
struct Numbering {
    order: Vec<u32>,
    /// Where each member comes in `order`.
    position: Vec<usize>,
    pre: Vec<i64>,
    last: Vec<i64>,
    depth: Vec<u32>,
}

impl Numbering {
    /// Pre-order numbers [`GAP`] apart, so leaves that arrive later fit between them.
    fn of(forest: &Forest) -> Self {
        let n = forest.ids.len();
        let (order, depth) = forest.preorder();
        let mut position = vec![0usize; n];
        let mut pre = vec![0i64; n];
        for (p, &v) in order.iter().enumerate() {
            position[v as usize] = p;
            pre[v as usize] = (p as i64 + 1) * GAP;
        }
        let mut last = pre.clone();
        for &v in order.iter().rev() {
            if let Some(p) = forest.merges_into(v, &position) {
                last[p] = last[p].max(last[v as usize]);
            }
        }
        Self {
            order,
            position,
            pre,
            last,
            depth,
        }
    }
}

impl Forest {
    /// The parent `v` is counted in: its parent, unless a sponsor cycle (bad data from
    /// outside) would count it twice.
    fn merges_into(&self, v: u32, position: &[usize]) -> Option<usize> {
        let p = self.parent[v as usize];
        (p != NONE && position[p as usize] < position[v as usize]).then_some(p as usize)
    }
}

/// Renumbers every member in both trees and recomputes every aggregate. Rows are written
/// in id order, so the writes sweep the tables once instead of seeking at random.
pub(crate) fn rebuild(tx: &Transaction<'_>) -> Result<(), StoreError> {
    let placed = Numbering::of(&Forest::load(tx, PLACEMENT)?);
    let forest = Forest::load(tx, SPONSOR)?;
    let n = forest.ids.len();
    let sponsored = Numbering::of(&forest);

    // Children before parents: reverse pre-order.
    let mut stats: Vec<super::Stats> = (0..n).map(|_| Default::default()).collect();
    for &v in sponsored.order.iter().rev() {
        let Some(p) = forest.merges_into(v, &sponsored.position) else {
            continue;
        };
        let v = v as usize;
        let (own, parent) = if p < v {
            let (head, tail) = stats.split_at_mut(v);
            (&tail[0], &mut head[p])
        } else {
            let (head, tail) = stats.split_at_mut(p);
            (&head[v], &mut tail[0])
        };
        parent.team_size += 1 + own.team_size;
        add_counts(&mut parent.ranks, usize::from(forest.rank[v]), &[1], 1)?;
        add_counts(&mut parent.ranks, 0, &own.ranks, 1)?;
        add_counts(&mut parent.levels, 0, &[1], 1)?;
        add_counts(&mut parent.levels, 1, &own.levels, 1)?;
    }

    tx.execute("DELETE FROM subtree_stats", [])?;
    let mut stats_rows = tx.prepare(
        "INSERT INTO subtree_stats (member_id, team_size, ranks, levels) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut index_rows = tx.prepare(
        "UPDATE members SET pre = ?2, last = ?3, depth = ?4, p_pre = ?5, p_last = ?6,
            p_depth = ?7, team_size = ?8
         WHERE id = ?1",
    )?;
    for (v, own) in stats.iter().enumerate() {
        if own.team_size > 0 {
            stats_rows.execute(params![
                forest.ids[v],
                own.team_size as i64,
                encode(&own.ranks),
                encode(&own.levels)
            ])?;
        }
        index_rows.execute(params![
            forest.ids[v],
            sponsored.pre[v],
            sponsored.last[v],
            sponsored.depth[v],
            placed.pre[v],
            placed.last[v],
            placed.depth[v],
            own.team_size as i64,
        ])?;
    }
    drop(stats_rows);
    drop(index_rows);
    drop(stats);
    rebuild_group_volumes(tx, &forest, &sponsored)?;
    Ok(())
}

/// Group volume of every member in every period: its own PV plus its whole downline's.
fn rebuild_group_volumes(
    tx: &Transaction<'_>,
    forest: &Forest,
    numbering: &Numbering,
) -> Result<(), StoreError> {
    let index: HashMap<i64, u32> = forest
        .ids
        .iter()
        .enumerate()
        .map(|(i, &id)| (id, i as u32))
        .collect();
    let mut periods = Vec::new();
    {
        let mut stmt = tx.prepare("SELECT DISTINCT period FROM volumes ORDER BY period")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            periods.push(r.get::<_, i64>(0)?);
        }
    }
    let n = forest.ids.len();
    let mut pv = vec![0i64; n];
    let mut stored = vec![None::<i64>; n];
    for period in periods {
        pv.fill(0);
        stored.fill(None);
        {
            let mut stmt = tx.prepare("SELECT member_id, pv, gv FROM volumes WHERE period = ?1")?;
            let mut rows = stmt.query([period])?;
            while let Some(r) = rows.next()? {
                if let Some(&i) = index.get(&r.get::<_, i64>(0)?) {
                    pv[i as usize] = r.get(1)?;
                    stored[i as usize] = Some(r.get(2)?);
                }
            }
        }
        let mut gv = pv.clone();
        for &v in numbering.order.iter().rev() {
            if let Some(p) = forest.merges_into(v, &numbering.position) {
                gv[p] += gv[v as usize];
            }
        }
        let mut update =
            tx.prepare("UPDATE volumes SET gv = ?3 WHERE member_id = ?1 AND period = ?2")?;
        let mut insert =
            tx.prepare("INSERT INTO volumes (member_id, period, pv, gv) VALUES (?1, ?2, 0, ?3)")?;
        for i in 0..n {
            if let Some(old) = stored[i] {
                if gv[i] != old {
                    update.execute(params![forest.ids[i], period, gv[i]])?;
                }
            } else if gv[i] != 0 {
                insert.execute(params![forest.ids[i], period, gv[i]])?;
            }
        }
    }
    Ok(())
}
