//! Rank qualification: the one piece of code that decides whether a member meets a rank,
//! used by the run, the explanation and the next-rank projection alike.

use serde::Serialize;

use super::plan::{Plan, PlanRank, Requirements};
use crate::ids::MemberId;
use crate::money::BasisPoints;
use crate::rank::{Rank, RankLevel};
use crate::volume::{Gv, Pv};

/// A leg: a direct enrollee's whole group, with the best rank held anywhere in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Leg {
    /// The direct enrollee heading the leg.
    pub member: MemberId,
    pub gv: Gv,
    pub best_rank: RankLevel,
}

/// What qualification looks at for one member in one period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberFacts<'a> {
    pub pv: Pv,
    /// Own PV plus every leg's GV.
    pub gv: Gv,
    pub active: bool,
    pub legs: &'a [Leg],
}

/// The numbers a rank's requirements are compared with, computed without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measures {
    pub active: bool,
    pub pv: Pv,
    /// GV after the max-leg rule of the rank measured (plain GV when it has none).
    pub counted_gv: Gv,
    /// Legs whose best rank reaches the rank's leg rule (0 when it has none).
    pub qualified_legs: u32,
}

/// The first requirement of a rank that a member misses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "requirement")]
pub enum Unmet {
    Active,
    PersonalVolume {
        have: Pv,
        need: Pv,
    },
    GroupVolume {
        have: Gv,
        need: Gv,
    },
    QualifiedLegs {
        have: u32,
        need: u32,
        rank: RankLevel,
    },
}

/// Why a member stopped where they did: the next rank and the first requirement missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Blocked {
    pub rank: RankLevel,
    pub unmet: Unmet,
}

/// GV counted towards `req`: each leg contributes at most the rule's cap.
fn counted_gv(req: &Requirements, facts: &MemberFacts<'_>) -> Gv {
    let Some(cap) = req.min_gv.and_then(|r| r.leg_cap()) else {
        return facts.gv;
    };
    let excess: i64 = facts
        .legs
        .iter()
        .map(|l| (l.gv.hundredths() - cap.hundredths()).max(0))
        .fold(0i64, i64::saturating_add);
    Gv::from_hundredths(facts.gv.hundredths().saturating_sub(excess))
}

pub fn measure(req: &Requirements, facts: &MemberFacts<'_>) -> Measures {
    let qualified_legs = req.legs.map_or(0, |rule| {
        let n = facts
            .legs
            .iter()
            .filter(|l| l.best_rank >= rule.min_rank)
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    });
    Measures {
        active: facts.active,
        pv: facts.pv,
        counted_gv: counted_gv(req, facts),
        qualified_legs,
    }
}

/// The first requirement missed, in a fixed order (active, PV, GV, legs), or `None`.
pub fn first_unmet(req: &Requirements, m: &Measures) -> Option<Unmet> {
    if req.active && !m.active {
        return Some(Unmet::Active);
    }
    if let Some(need) = req.min_pv
        && m.pv < need
    {
        return Some(Unmet::PersonalVolume { have: m.pv, need });
    }
    if let Some(rule) = req.min_gv
        && m.counted_gv < rule.min
    {
        return Some(Unmet::GroupVolume {
            have: m.counted_gv,
            need: rule.min,
        });
    }
    if let Some(rule) = req.legs
        && m.qualified_legs < u32::from(rule.count)
    {
        return Some(Unmet::QualifiedLegs {
            have: m.qualified_legs,
            need: u32::from(rule.count),
            rank: rule.min_rank,
        });
    }
    None
}

/// The rank a member holds: the ladder is climbed from the bottom and the member holds the
/// last rank before the first one whose requirements they miss (so holding Gold implies
/// meeting Silver's requirements too). The lowest rank has none and is always held.
pub fn qualify(plan: &Plan, facts: &MemberFacts<'_>) -> (RankLevel, Option<Blocked>) {
    let mut held = plan.lowest_level();
    for r in plan.ranks().iter().skip(1) {
        if let Some(unmet) = first_unmet(&r.requirements, &measure(&r.requirements, facts)) {
            return (
                held,
                Some(Blocked {
                    rank: r.rank.level,
                    unmet,
                }),
            );
        }
        held = r.rank.level;
    }
    (held, None)
}

/// One requirement compared with the member's value, for explanations and progress bars.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequirementCheck {
    pub requirement: RequirementKind,
    /// In the requirement's unit: hundredths of PV/GV, a count of legs, 0/1 for active.
    pub current: i64,
    pub required: i64,
    pub met: bool,
    /// `current / required`, capped at 100 % (100 % when nothing is required).
    pub fraction: BasisPoints,
    /// `required - current`, never negative.
    pub missing: i64,
    /// What is still needed, for people: "340.00 PV more", "1 more leg at Silver", "met".
    pub summary: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequirementKind {
    Active,
    PersonalVolume,
    GroupVolume {
        /// The most one leg may contribute, if the rank has the max-leg rule.
        leg_cap: Option<Gv>,
    },
    QualifiedLegs {
        min_rank: RankLevel,
    },
}

/// How one leg counted towards a rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LegDetail {
    pub member: MemberId,
    pub gv: Gv,
    /// The leg's GV after the max-leg cap (equal to `gv` when not capped).
    pub counted_gv: Gv,
    pub capped: bool,
    pub best_rank: RankLevel,
    /// Whether this leg counts towards the rank's qualified-legs rule.
    pub qualifies: bool,
}

/// A rank's requirements checked one by one against a member's facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RankCheck {
    pub rank: Rank,
    pub met: bool,
    pub requirements: Vec<RequirementCheck>,
    pub legs: Vec<LegDetail>,
}

/// Checks every requirement of `rank` (not only the first missed), with the legs' details.
/// `met` agrees with [`qualify`]'s verdict for that rank by construction: both compare the
/// same measures.
pub fn check_rank(plan: &Plan, rank: &PlanRank, facts: &MemberFacts<'_>) -> RankCheck {
    let req = &rank.requirements;
    let m = measure(req, facts);
    let mut out = Vec::new();
    if req.active {
        let current = i64::from(m.active);
        let summary = if m.active {
            "met".to_owned()
        } else {
            format!(
                "be active: status Active and at least {}",
                plan.activity_min_pv()
            )
        };
        out.push(requirement(RequirementKind::Active, current, 1, summary));
    }
    if let Some(need) = req.min_pv {
        let missing = (need.hundredths() - m.pv.hundredths()).max(0);
        let summary = more(missing, |h| Pv::from_hundredths(h).to_string());
        out.push(requirement(
            RequirementKind::PersonalVolume,
            m.pv.hundredths(),
            need.hundredths(),
            summary,
        ));
    }
    let cap = req.min_gv.and_then(|r| r.leg_cap());
    if let Some(rule) = req.min_gv {
        let missing = (rule.min.hundredths() - m.counted_gv.hundredths()).max(0);
        let mut summary = more(missing, |h| Gv::from_hundredths(h).to_string());
        if let (Some(cap), true) = (cap, missing > 0) {
            summary.push_str(&format!(" (at most {cap} counted from any one leg)"));
        }
        out.push(requirement(
            RequirementKind::GroupVolume { leg_cap: cap },
            m.counted_gv.hundredths(),
            rule.min.hundredths(),
            summary,
        ));
    }
    if let Some(rule) = req.legs {
        let need = i64::from(rule.count);
        let have = i64::from(m.qualified_legs);
        let missing = (need - have).max(0);
        let name = plan
            .rank(rule.min_rank)
            .map_or_else(|| rule.min_rank.to_string(), |r| r.rank.name.clone());
        let summary = match missing {
            0 => "met".to_owned(),
            1 => format!("1 more leg at {name}"),
            n => format!("{n} more legs at {name}"),
        };
        out.push(requirement(
            RequirementKind::QualifiedLegs {
                min_rank: rule.min_rank,
            },
            have,
            need,
            summary,
        ));
    }
    let legs = facts
        .legs
        .iter()
        .map(|l| {
            let counted = cap.map_or(l.gv, |c| l.gv.min(c));
            LegDetail {
                member: l.member,
                gv: l.gv,
                counted_gv: counted,
                capped: counted != l.gv,
                best_rank: l.best_rank,
                qualifies: req.legs.is_some_and(|r| l.best_rank >= r.min_rank),
            }
        })
        .collect();
    RankCheck {
        rank: rank.rank.clone(),
        met: first_unmet(req, &m).is_none(),
        requirements: out,
        legs,
    }
}

fn more(missing: i64, show: impl Fn(i64) -> String) -> String {
    if missing == 0 {
        "met".to_owned()
    } else {
        format!("{} more", show(missing))
    }
}

fn requirement(
    kind: RequirementKind,
    current: i64,
    required: i64,
    summary: String,
) -> RequirementCheck {
    let missing = (required - current).max(0);
    let fraction = if required <= 0 || current >= required {
        BasisPoints::ONE_HUNDRED_PERCENT
    } else {
        // 0 ≤ current < required here, so the quotient is in 0..10_000 (rounded down, so a
        // bar never shows 100 % before the requirement is met).
        let bps = i128::from(current.max(0)) * 10_000 / i128::from(required);
        BasisPoints::new(u32::try_from(bps).unwrap_or(0))
    };
    RequirementCheck {
        requirement: kind,
        current,
        required,
        met: missing == 0,
        fraction,
        missing,
        summary,
    }
}
