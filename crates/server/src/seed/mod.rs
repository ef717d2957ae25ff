//! A deterministic generator of a realistic demo company (genealogy, people, ranks, twelve
//! periods of orders) and its bulk insertion through [`Storage`], batch by batch.
//!
//! The tree model: members join one at a time (member id = join order); each is enrolled by
//! a random earlier member who still has room (most members will enroll 0–5 people, about 3%
//! are leaders with up to 25), and a handful of long legs, hundreds deep in large companies,
//! grow alongside. The placement parent is the sponsor: unilevel, the n-th enrollee in
//! position n. Same `(members, seed, reference date)` → the same company, byte for byte, on
//! any machine.

pub mod accounts;
mod locales;
mod orders;
mod people;
mod rng;
mod tree;

use std::ops::Range;

use canopy_core::{MemberId, MemberStatus, Order};
use time::macros::date;
use time::{Date, OffsetDateTime};

use crate::storage::{NewMember, Storage, StorageError};

pub use orders::PERIODS;
pub use people::RANKS;

/// The fixed "today" of [`Company::generate`]: the last day of its last period. The
/// generator never reads the clock; the demo passes the day it first seeds
/// ([`Company::generate_at`]) so its last period is the month it runs in.
pub const REFERENCE_DATE: Date = date!(2026 - 10 - 31);

/// Why a company could not be generated or stored.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("a company needs at least one member")]
    Empty,
    #[error("the generator made an invalid {0} (a bug in the seed data)")]
    Generated(&'static str),
    #[error("cannot store the company: {0}")]
    Storage(#[from] StorageError),
    #[error(
        "the database already has members; seed an empty database \
         (or delete this one to start over)"
    )]
    NotEmpty,
    #[error("the company is too small to pick {0} demo member")]
    NoDemoMember(&'static str),
}

/// A generated company: its tree in compact form; members and orders are made on demand,
/// batch by batch, so a 1,000,000-member company never sits in memory as records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Company {
    seed: u64,
    tree: tree::Skeleton,
    periods: Vec<Date>,
    /// The company's "today": nobody joins and no order is placed after it.
    reference: Date,
}

/// The members the demo accounts are linked to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoMembers {
    /// The founder at the root.
    pub admin: MemberId,
    /// A leader near the top with the largest team there.
    pub manager: MemberId,
    /// An active member mid-tree in the manager's team, with a downline of their own.
    pub distributor: MemberId,
}

/// What [`insert`] stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Inserted {
    pub members: u64,
    pub orders: u64,
}

impl Company {
    /// Grows the tree of `members` members from `seed` (fast: the records come later),
    /// as of [`REFERENCE_DATE`].
    pub fn generate(members: usize, seed: u64) -> Result<Self, SeedError> {
        Self::generate_at(members, seed, REFERENCE_DATE)
    }

    /// [`Company::generate`] as of `reference`: the twelve periods end with the month
    /// holding it, the last one only up to that day. Members join and order on the same
    /// days relative to `reference` whatever it is.
    pub fn generate_at(members: usize, seed: u64, reference: Date) -> Result<Self, SeedError> {
        if members == 0 {
            return Err(SeedError::Empty);
        }
        Ok(Self {
            seed,
            tree: tree::Skeleton::generate(members, seed, locales::LOCALES.len()),
            periods: orders::period_starts(reference),
            reference,
        })
    }

    /// The company's "today": the last day anyone joined or ordered on.
    pub fn reference(&self) -> Date {
        self.reference
    }

    pub fn len(&self) -> usize {
        self.tree.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tree.len() == 0
    }

    /// The member records (with personal details) of the members at `range` in join order
    /// (member ids `range.start + 1 ..= range.end`).
    pub fn members(&self, range: Range<usize>) -> Result<Vec<NewMember>, SeedError> {
        let range = range.start.min(self.len())..range.end.min(self.len());
        range
            .map(|index| people::new_member(&self.tree, self.seed, index, self.reference))
            .collect()
    }

    /// The orders of the members at `range`, member by member, oldest period first.
    pub fn orders(&self, range: Range<usize>) -> Result<Vec<Order>, SeedError> {
        let range = range.start.min(self.len())..range.end.min(self.len());
        let mut all = Vec::new();
        for index in range {
            all.extend(orders::orders_of(
                &self.tree,
                self.seed,
                index,
                &self.periods,
                self.reference,
            )?);
        }
        Ok(all)
    }

    /// How many members `id` enrolled, and how many are below them at any depth.
    pub fn team(&self, id: MemberId) -> Option<(u32, u32)> {
        let index = usize::try_from(id.get() - 1).ok()?;
        Some((
            *self.tree.enrollees.get(index)?,
            *self.tree.downline.get(index)?,
        ))
    }

    /// The deepest member's depth below the root (the longest leg).
    pub fn max_depth(&self) -> u32 {
        self.tree.depth.iter().copied().max().unwrap_or(0)
    }

    /// Picks the demo accounts' members: the founder; the active leader at depth 1–3 with
    /// the largest team; and in that team an active member at least two levels deeper whose
    /// own downline is closest to 40 (ties: the earliest to join).
    pub fn demo_members(&self) -> Result<DemoMembers, SeedError> {
        let sk = &self.tree;
        let active = |i: usize| people::standing(sk, self.seed, i).0 == MemberStatus::Active;
        let manager = (1..sk.len())
            .filter(|&i| (1..=3).contains(&sk.depth[i]) && sk.downline[i] >= 2 && active(i))
            .max_by_key(|&i| (sk.downline[i], std::cmp::Reverse(i)))
            .ok_or(SeedError::NoDemoMember("a manager"))?;
        let distributor = (1..sk.len())
            .filter(|&i| {
                sk.depth[i] >= sk.depth[manager] + 2
                    && sk.downline[i] >= 1
                    && active(i)
                    && sk.is_below(i, manager)
            })
            .min_by_key(|&i| (sk.downline[i].abs_diff(40), i))
            .ok_or(SeedError::NoDemoMember("a distributor"))?;
        Ok(DemoMembers {
            admin: people::member_id(0),
            manager: people::member_id(manager),
            distributor: people::member_id(distributor),
        })
    }
}

/// Stores `company` through `storage`: members in join order, then orders, `batch` members
/// at a time (one transaction each). Refuses a database that already holds member 1.
/// `progress` hears the running totals after each batch.
pub async fn insert(
    storage: &dyn Storage,
    company: &Company,
    batch: usize,
    mut progress: impl FnMut(Inserted),
) -> Result<Inserted, SeedError> {
    if storage.find_member(MemberId::new(1)).await?.is_some() {
        return Err(SeedError::NotEmpty);
    }
    let batch = batch.max(1);
    let mut done = Inserted::default();
    // Each batch is made while the previous one is being written: the storage works on
    // its blocking pool, so `join!` runs the generator here in parallel with it.
    let mut next = Some(company.members(0..batch)?);
    let mut start = 0;
    while let Some(members) = next.take() {
        start += batch;
        let (stored, upcoming) = tokio::join!(storage.insert_members(members), async {
            (start < company.len())
                .then(|| company.members(start..start + batch))
                .transpose()
        });
        done.members += stored?;
        next = upcoming?;
        progress(done);
    }
    // A member has about six orders of one or two lines: a quarter of a members' batch
    // keeps each transaction a similar size.
    let batch = (batch / 4).max(1);
    let mut next = Some(company.orders(0..batch)?);
    let mut start = 0;
    while let Some(orders) = next.take() {
        start += batch;
        let (stored, upcoming) = tokio::join!(
            async {
                if orders.is_empty() {
                    Ok(0)
                } else {
                    storage.insert_orders(orders).await
                }
            },
            async {
                (start < company.len())
                    .then(|| company.orders(start..start + batch))
                    .transpose()
            }
        );
        done.orders += stored?;
        next = upcoming?;
        progress(done);
    }
    let at = OffsetDateTime::new_utc(company.reference, time::Time::MIDNIGHT);
    storage.put_products(orders::catalogue()?, at).await?;
    Ok(done)
}
