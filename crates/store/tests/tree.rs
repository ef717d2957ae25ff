//! The tree index against a naive recursive computation: random trees, loaded one member
//! at a time or in bulk, then random deltas (new leaves, moves, removals, rank and volume
//! changes); after every batch every member's aggregates and downline must match.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use canopy_core::{MemberId, Pv, RankLevel};
use canopy_store::{DownlineQuery, Sort, Store, Tree};
use common::{fresh_store, member, period};
use proptest::prelude::*;

/// The model: who is in the cache, their sponsor, rank and PV per period.
#[derive(Debug, Clone, Default)]
struct Model {
    sponsor: BTreeMap<i64, Option<i64>>,
    rank: BTreeMap<i64, u16>,
    pv: BTreeMap<(i64, u8), i64>,
}

impl Model {
    fn parent(&self, id: i64) -> Option<i64> {
        self.sponsor[&id].filter(|s| self.sponsor.contains_key(s))
    }

    fn children(&self, id: i64) -> Vec<i64> {
        self.sponsor
            .keys()
            .copied()
            .filter(|&c| self.parent(c) == Some(id))
            .collect()
    }

    /// Everyone below `id` with their level (1 = direct).
    fn below(&self, id: i64) -> Vec<(i64, usize)> {
        let mut out = Vec::new();
        let mut stack: Vec<(i64, usize)> = self.children(id).into_iter().map(|c| (c, 1)).collect();
        while let Some((v, level)) = stack.pop() {
            out.push((v, level));
            stack.extend(self.children(v).into_iter().map(|c| (c, level + 1)));
        }
        out
    }

    fn is_below(&self, id: i64, ancestor: i64) -> bool {
        let mut at = self.parent(id);
        while let Some(a) = at {
            if a == ancestor {
                return true;
            }
            at = self.parent(a);
        }
        false
    }
}

/// Minimal deterministic random source (SplitMix64), so a failing seed replays exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick(&mut self, ids: &[i64]) -> Option<i64> {
        (!ids.is_empty()).then(|| ids[self.below(ids.len() as u64) as usize])
    }
}

fn check(store: &Store, model: &Model) {
    for &id in model.sponsor.keys() {
        for month in [9u8, 10] {
            let s = store.subtree(MemberId::new(id), period(month)).unwrap();
            let below = model.below(id);
            assert_eq!(s.team_size, below.len() as u64, "team size of {id}");
            let mut by_level = vec![0u32; below.iter().map(|b| b.1).max().unwrap_or(0)];
            let mut by_rank = BTreeMap::new();
            let mut gv = model.pv.get(&(id, month)).copied().unwrap_or(0);
            for &(v, level) in &below {
                by_level[level - 1] += 1;
                *by_rank.entry(model.rank[&v]).or_insert(0u32) += 1;
                gv += model.pv.get(&(v, month)).copied().unwrap_or(0);
            }
            assert_eq!(s.by_level, by_level, "levels of {id}");
            let got: BTreeMap<u16, u32> = s
                .by_rank
                .iter()
                .map(|r| (r.rank.get(), r.members))
                .collect();
            assert_eq!(got, by_rank, "ranks of {id}");
            assert_eq!(s.gv, gv, "group volume of {id} in month {month}");
            let legs: Vec<i64> = s.legs.iter().map(|l| l.member.id.get()).collect();
            assert_eq!(legs, model.children(id), "legs of {id}");
        }
        // The pre-order interval holds exactly the downline.
        let page = store
            .downline(&DownlineQuery {
                root: MemberId::new(id),
                tree: Tree::Sponsor,
                period: period(10),
                filter: Default::default(),
                sort: Sort::JoinDate,
                descending: false,
                after: None,
                limit: 1_000,
            })
            .unwrap();
        let got: BTreeSet<i64> = page.rows.iter().map(|r| r.id.get()).collect();
        let want: BTreeSet<i64> = model.below(id).into_iter().map(|b| b.0).collect();
        assert_eq!(got, want, "downline of {id}");
        let root_depth = store
            .member(MemberId::new(id), period(10))
            .unwrap()
            .row
            .depth;
        for r in &page.rows {
            let team = model.below(r.id.get()).len() as u64;
            assert_eq!(r.team_size, team, "team size of {} in the list", r.id);
            let level = model
                .below(id)
                .into_iter()
                .find(|b| b.0 == r.id.get())
                .unwrap()
                .1;
            assert_eq!(
                r.depth - root_depth,
                level as u32,
                "level of {} under {id}",
                r.id
            );
        }
    }
}

fn run(seed: u64, bulk: bool) {
    let (_dir, store) = fresh_store();
    let mut rng = Rng(seed);
    let mut model = Model::default();
    let n = 2 + rng.below(30) as i64;
    let mut next_id = 1;
    let mut initial = Vec::new();
    for id in 1..=n {
        // Mostly one tree; now and then a second root (a manager's scope can have several).
        let sponsor = (id > 1 && rng.below(10) > 0).then(|| 1 + rng.below(id as u64 - 1) as i64);
        let rank = rng.below(5) as u16;
        initial.push(member(id, sponsor, rank));
        model.sponsor.insert(id, sponsor);
        model.rank.insert(id, rank);
        next_id = id + 1;
    }
    let mut volumes = Vec::new();
    for id in 1..=n {
        for month in [9u8, 10] {
            if rng.below(3) > 0 {
                let pv = rng.below(10_000) as i64;
                volumes.push((id, month, pv));
                model.pv.insert((id, month), pv);
            }
        }
    }
    if bulk {
        // The bootstrap path: pages of plain inserts (children before their sponsors, to
        // show order doesn't matter), then one rebuild.
        initial.reverse();
        store
            .bootstrap_begin("checkpoint-1", None, "2026-11-01T00:00:00Z")
            .unwrap();
        for (page, chunk) in initial.chunks(7).enumerate() {
            store
                .bootstrap_page(page as u64, |b| {
                    for m in chunk {
                        b.member(m)?;
                    }
                    Ok(())
                })
                .unwrap();
        }
        store
            .bootstrap_page(initial.chunks(7).count() as u64, |b| {
                for &(id, month, pv) in &volumes {
                    b.volume(MemberId::new(id), period(month), Pv::from_hundredths(pv))?;
                }
                Ok(())
            })
            .unwrap();
        store.bootstrap_finish(&Default::default()).unwrap();
    } else {
        store
            .write(|w| {
                for m in &initial {
                    w.put_member(m)?;
                }
                for &(id, month, pv) in &volumes {
                    w.put_volume(MemberId::new(id), period(month), Pv::from_hundredths(pv))?;
                }
                Ok(())
            })
            .unwrap();
    }
    check(&store, &model);

    for _batch in 0..6 {
        let ops = 1 + rng.below(4);
        let before = model.clone();
        store
            .write(|w| {
                for _ in 0..ops {
                    let ids: Vec<i64> = model.sponsor.keys().copied().collect();
                    match rng.below(6) {
                        0 | 1 => {
                            let id = next_id;
                            next_id += 1;
                            let sponsor = rng.pick(&ids);
                            let rank = rng.below(5) as u16;
                            w.put_member(&member(id, sponsor, rank))?;
                            model.sponsor.insert(id, sponsor);
                            model.rank.insert(id, rank);
                        }
                        2 => {
                            let Some(id) = rng.pick(&ids) else { continue };
                            let candidates: Vec<i64> = ids
                                .iter()
                                .copied()
                                .filter(|&s| s != id && !model.is_below(s, id))
                                .collect();
                            let Some(to) = rng.pick(&candidates) else {
                                continue;
                            };
                            let mut m = member(id, Some(to), model.rank[&id]);
                            m.sponsor = Some(MemberId::new(to));
                            w.put_member(&m)?;
                            model.sponsor.insert(id, Some(to));
                        }
                        3 => {
                            let Some(id) = rng.pick(&ids) else { continue };
                            w.remove_member(MemberId::new(id))?;
                            model.sponsor.remove(&id);
                            model.rank.remove(&id);
                            model.pv.retain(|k, _| k.0 != id);
                        }
                        4 => {
                            let Some(id) = rng.pick(&ids) else { continue };
                            let rank = rng.below(5) as u16;
                            w.put_member(&member(id, model.sponsor[&id], rank))?;
                            model.rank.insert(id, rank);
                        }
                        _ => {
                            let Some(id) = rng.pick(&ids) else { continue };
                            let month = 9 + rng.below(2) as u8;
                            let pv = rng.below(10_000) as i64;
                            w.put_volume(
                                MemberId::new(id),
                                period(month),
                                Pv::from_hundredths(pv),
                            )?;
                            model.pv.insert((id, month), pv);
                        }
                    }
                }
                Ok(())
            })
            .unwrap_or_else(|e| panic!("batch after {before:?} failed: {e}"));
        check(&store, &model);
    }
    let _ = RankLevel::new(0);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn aggregates_match_a_naive_walk_after_deltas(seed in any::<u64>(), bulk in any::<bool>()) {
        run(seed, bulk);
    }
}

#[test]
fn many_leaves_appended_under_one_sponsor_keep_intervals_exact() {
    // Each new leaf is numbered in the gap after its sponsor, before the next root.
    let (_dir, store) = fresh_store();
    let mut model = Model::default();
    store
        .write(|w| {
            w.put_member(&member(1, None, 0))?;
            w.put_member(&member(2, Some(1), 0))?;
            w.put_member(&member(3, None, 0))
        })
        .unwrap();
    for id in [1, 2, 3] {
        model
            .sponsor
            .insert(id, if id == 2 { Some(1) } else { None });
        model.rank.insert(id, 0);
    }
    for id in 4..80 {
        store
            .write(|w| w.put_member(&member(id, Some(2), 1)))
            .unwrap();
        model.sponsor.insert(id, Some(2));
        model.rank.insert(id, 1);
    }
    check(&store, &model);
}
