//! The genealogy's skeleton: who enrolled whom, in join order, with a few long legs.
//! Compact arrays (a few bytes a member), so a 1,000,000-member tree builds in well under a second.

use super::rng::Rng;

/// Random stream of the tree (see [`Rng::derive`]).
const STREAM_TREE: u64 = 1;
/// No sponsor: the root.
pub(crate) const NONE: u32 = u32::MAX;
/// How many days before the reference date the company was founded.
pub(crate) const SPAN_DAYS: u64 = 4 * 365;

/// Enrollee capacities (how many people a member will ever enroll) for ordinary members,
/// with their weights in per mille; the remaining 30‰ are leaders (6 to 25).
const CAPACITY_WEIGHTS: [u64; 7] = [450, 150, 130, 100, 70, 70, 30];
const LEADER_CAPACITY: (u64, u64) = (6, 25);
/// The founder enrolls a first circle of leaders.
const ROOT_CAPACITY: u8 = 12;
/// A long-leg member enrolls at most this many besides the next member of the leg.
const CHAIN_SIDE_CAPACITY: u8 = 4;

/// Member `i` (index) has member id `i + 1`; sponsors always have a lower index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Skeleton {
    pub(crate) sponsor: Vec<u32>,
    /// Position among the sponsor's enrollees, from 0 (the unilevel placement slot).
    pub(crate) slot: Vec<u32>,
    pub(crate) enrollees: Vec<u32>,
    /// Everyone below, at any depth (not counting the member).
    pub(crate) downline: Vec<u32>,
    pub(crate) depth: Vec<u32>,
    /// Days after the founding; never earlier than the sponsor's.
    pub(crate) joined_day: Vec<u16>,
    /// Index into the country table.
    pub(crate) country: Vec<u8>,
}

struct Leg {
    tip: Option<u32>,
    left: u64,
}

impl Skeleton {
    pub(crate) fn len(&self) -> usize {
        self.sponsor.len()
    }

    /// Grows a tree of `n` members. Each newcomer is enrolled by a random member who still
    /// has room (capacities: mostly 0–5, a few leaders up to 25), except that a handful of
    /// long legs (hundreds deep for large companies) take their next member at a rate that
    /// spreads them over the company's whole history.
    pub(crate) fn generate(n: usize, seed: u64, countries: usize) -> Self {
        let mut rng = Rng::derive(seed, STREAM_TREE, 0);
        let mut sk = Skeleton {
            sponsor: Vec::with_capacity(n),
            slot: Vec::with_capacity(n),
            enrollees: vec![0; n],
            downline: vec![0; n],
            depth: Vec::with_capacity(n),
            joined_day: Vec::with_capacity(n),
            country: Vec::with_capacity(n),
        };
        if n == 0 {
            return sk;
        }
        let mut legs = long_legs(n, &mut rng);
        let mut legs_left: u64 = legs.iter().map(|l| l.left).sum();
        let mut remaining: Vec<u8> = Vec::with_capacity(n);
        let mut open: Vec<u32> = Vec::new();
        let countries = countries.max(1) as u64;

        sk.sponsor.push(NONE);
        sk.slot.push(0);
        sk.depth.push(0);
        sk.joined_day.push(0);
        sk.country.push(0);
        remaining.push(ROOT_CAPACITY);
        open.push(0);

        for i in 1..n {
            let index = i as u32;
            let steps_left = (n - i) as u64;
            let on_leg = legs_left > 0 && rng.below(steps_left) < legs_left;
            let sponsor = if on_leg {
                let start = rng.below(legs.len() as u64) as usize;
                let mut chosen = None;
                for k in 0..legs.len() {
                    let j = (start + k) % legs.len();
                    if legs[j].left > 0 {
                        chosen = Some(j);
                        break;
                    }
                }
                match chosen {
                    Some(j) => {
                        let leg = &mut legs[j];
                        let sponsor = match leg.tip {
                            Some(tip) => tip,
                            None => pick_open(&mut rng, &mut open, &mut remaining),
                        };
                        leg.tip = Some(index);
                        leg.left -= 1;
                        legs_left -= 1;
                        sponsor
                    }
                    None => pick_open(&mut rng, &mut open, &mut remaining),
                }
            } else {
                pick_open(&mut rng, &mut open, &mut remaining)
            };
            let s = sponsor as usize;
            sk.sponsor.push(sponsor);
            sk.slot.push(sk.enrollees[s]);
            sk.enrollees[s] += 1;
            sk.depth.push(sk.depth[s] + 1);
            // More people join as the company grows: the share joined by day d grows as d².
            let day = ((i as u64 * SPAN_DAYS * SPAN_DAYS) / n as u64).isqrt();
            sk.joined_day
                .push(u16::try_from(day.min(SPAN_DAYS)).unwrap_or(u16::MAX));
            // Most people enroll in their own country; some recruit abroad.
            let country = if rng.chance(800) {
                sk.country[s]
            } else {
                rng.below(countries) as u8
            };
            sk.country.push(country);

            let mut capacity = match rng.weighted(&CAPACITY_WEIGHTS) {
                6 => rng.range(LEADER_CAPACITY.0, LEADER_CAPACITY.1) as u8,
                c => c as u8,
            };
            if on_leg {
                capacity = capacity.min(CHAIN_SIDE_CAPACITY);
            }
            remaining.push(capacity);
            if capacity > 0 {
                open.push(index);
            }
        }
        for i in (1..n).rev() {
            let s = sk.sponsor[i] as usize;
            sk.downline[s] += sk.downline[i] + 1;
        }
        sk
    }

    /// Whether `ancestor` is above `index` in the sponsor tree.
    pub(crate) fn is_below(&self, index: usize, ancestor: usize) -> bool {
        let mut at = self.sponsor[index];
        while at != NONE {
            if at as usize == ancestor {
                return true;
            }
            at = self.sponsor[at as usize];
        }
        false
    }
}

/// A handful of long legs: none for tiny companies, then 2 to 6 legs of `n / 40` members,
/// at most 300 to 700 each.
fn long_legs(n: usize, rng: &mut Rng) -> Vec<Leg> {
    let count = match n {
        0..200 => 0,
        200..2_000 => 1,
        _ => (n / 2_000).clamp(2, 6),
    };
    (0..count)
        .map(|_| Leg {
            tip: None,
            left: ((n / 40) as u64).min(rng.range(300, 700)),
        })
        .collect()
}

/// A random member with room for another enrollee; the founder if nobody has room.
fn pick_open(rng: &mut Rng, open: &mut Vec<u32>, remaining: &mut [u8]) -> u32 {
    if open.is_empty() {
        return 0;
    }
    let j = rng.below(open.len() as u64) as usize;
    let member = open[j];
    let left = &mut remaining[member as usize];
    *left = left.saturating_sub(1);
    if *left == 0 {
        open.swap_remove(j);
    }
    member
}
