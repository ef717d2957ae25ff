//! The sponsor tree as flat arrays over a dense index (members sorted by id), with the
//! children in one CSR array and a parents-first order, so a run is loops, never recursion.

use serde::{Deserialize, Serialize};

use crate::ids::MemberId;
use crate::member::MemberStatus;
use crate::period::Period;
use crate::rank::RankLevel;

/// One member as the run needs them. Personal data stays out: sentences get names from the
/// caller (see [`super::describe_line`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeMember {
    pub id: MemberId,
    /// The enroller; `None` for the company's root member(s).
    pub sponsor: Option<MemberId>,
    pub status: MemberStatus,
    /// The period the member joined, for the fast-start bonus.
    pub joined: Period,
    /// Highest rank ever reached *before* the period being run, for the
    /// rank-advancement bonus (the lowest level if never ranked).
    pub highest_rank: RankLevel,
}

/// Why a tree could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    #[error("member {0} appears twice in the tree")]
    DuplicateMember(MemberId),
    #[error("member {member}'s sponsor {sponsor} is not in the tree")]
    UnknownSponsor { member: MemberId, sponsor: MemberId },
    #[error("member {0} is its own upline (the sponsor chain loops)")]
    Cycle(MemberId),
    #[error("the tree has more members than a run can index")]
    TooLarge,
}

const NONE: u32 = u32::MAX;

/// The sponsor tree. Index `i` is the `i`-th member by ascending [`MemberId`]; every
/// per-member array of a run is indexed the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    ids: Vec<MemberId>,
    parent: Vec<u32>,
    status: Vec<MemberStatus>,
    joined: Vec<Period>,
    highest: Vec<RankLevel>,
    /// Children of `i` are `children[child_start[i]..child_start[i + 1]]`, ascending.
    child_start: Vec<u32>,
    children: Vec<u32>,
    /// Every member after its sponsor (breadth first from the roots).
    top_down: Vec<u32>,
}

impl Tree {
    /// Builds the tree in O(n log n): a sort by id, a binary search per sponsor, a counting
    /// sort for the children and one breadth-first pass, which also finds sponsor loops.
    pub fn new(mut members: Vec<TreeMember>) -> Result<Self, TreeError> {
        let n = members.len();
        if u32::try_from(n).map_or(true, |n| n == NONE) {
            return Err(TreeError::TooLarge);
        }
        members.sort_unstable_by_key(|m| m.id);
        if let Some(pair) = members.windows(2).find(|w| w[0].id == w[1].id) {
            return Err(TreeError::DuplicateMember(pair[0].id));
        }
        let ids: Vec<MemberId> = members.iter().map(|m| m.id).collect();
        let mut parent = Vec::with_capacity(n);
        for m in &members {
            parent.push(match m.sponsor {
                None => NONE,
                Some(s) => match ids.binary_search(&s) {
                    Ok(i) => to_u32(i),
                    Err(_) => {
                        return Err(TreeError::UnknownSponsor {
                            member: m.id,
                            sponsor: s,
                        });
                    }
                },
            });
        }
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
                let slot = &mut fill[p as usize];
                children[*slot as usize] = to_u32(i);
                *slot += 1;
            }
        }
        let mut top_down: Vec<u32> = Vec::with_capacity(n);
        top_down.extend((0..n).filter(|&i| parent[i] == NONE).map(to_u32));
        let mut head = 0;
        while head < top_down.len() {
            let i = top_down[head] as usize;
            head += 1;
            top_down
                .extend_from_slice(&children[child_start[i] as usize..child_start[i + 1] as usize]);
        }
        if top_down.len() < n {
            // Members never reached from a root sit on (or under) a sponsor loop.
            let mut seen = vec![false; n];
            for &i in &top_down {
                seen[i as usize] = true;
            }
            let looped = seen.iter().position(|s| !s).unwrap_or(0);
            return Err(TreeError::Cycle(ids[looped]));
        }
        Ok(Self {
            ids,
            parent,
            status: members.iter().map(|m| m.status).collect(),
            joined: members.iter().map(|m| m.joined).collect(),
            highest: members.iter().map(|m| m.highest_rank).collect(),
            child_start,
            children,
            top_down,
        })
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The dense index of `id` (O(log n)).
    pub fn index_of(&self, id: MemberId) -> Option<usize> {
        self.ids.binary_search(&id).ok()
    }

    /// All member ids, ascending: position = dense index.
    pub fn ids(&self) -> &[MemberId] {
        &self.ids
    }

    pub fn id(&self, i: usize) -> MemberId {
        self.ids[i]
    }

    pub fn parent(&self, i: usize) -> Option<usize> {
        let p = self.parent[i];
        (p != NONE).then_some(p as usize)
    }

    /// Direct enrollees of `i` (the heads of its legs), ascending by id.
    pub fn children(&self, i: usize) -> impl ExactSizeIterator<Item = usize> + '_ {
        self.children[self.child_start[i] as usize..self.child_start[i + 1] as usize]
            .iter()
            .map(|&c| c as usize)
    }

    /// Every member after its sponsor.
    pub fn top_down(&self) -> impl DoubleEndedIterator<Item = usize> + '_ {
        self.top_down.iter().map(|&i| i as usize)
    }

    /// Every member before its sponsor (children first), for summing up the tree.
    pub fn bottom_up(&self) -> impl Iterator<Item = usize> + '_ {
        self.top_down().rev()
    }

    pub fn status(&self, i: usize) -> MemberStatus {
        self.status[i]
    }

    pub fn joined(&self, i: usize) -> Period {
        self.joined[i]
    }

    pub fn highest_rank(&self, i: usize) -> RankLevel {
        self.highest[i]
    }
}

/// Indices fit in `u32`: [`Tree::new`] refuses larger trees first.
fn to_u32(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(NONE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: i64, sponsor: Option<i64>) -> TreeMember {
        TreeMember {
            id: MemberId::new(id),
            sponsor: sponsor.map(MemberId::new),
            status: MemberStatus::Active,
            joined: Period::parse("2026-01").unwrap(),
            highest_rank: RankLevel::new(0),
        }
    }

    #[test]
    fn indexes_by_id_and_orders_children_before_parents() {
        // Given out of order, with a second root: 40 ← 10 ← {30, 20}, 50.
        let tree = Tree::new(vec![
            m(30, Some(10)),
            m(10, Some(40)),
            m(50, None),
            m(20, Some(10)),
            m(40, None),
        ])
        .unwrap();
        let ids: Vec<i64> = tree.ids().iter().map(|i| i.get()).collect();
        assert_eq!(ids, [10, 20, 30, 40, 50]);
        assert_eq!(tree.children(0).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(tree.parent(0), Some(3));
        let mut seen = vec![false; tree.len()];
        for i in tree.bottom_up() {
            assert!(tree.children(i).all(|c| seen[c]), "children of {i} first");
            seen[i] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }
}
