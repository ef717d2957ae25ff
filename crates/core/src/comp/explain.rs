//! Explainability: why a member holds their rank (each requirement, each leg and its cap)
//! and a plain sentence for every earnings line, from the line's own source.

use serde::Serialize;

use super::plan::Plan;
use super::projection::progress_to_next;
use super::qualify::{MemberFacts, RankCheck, check_rank};
use super::run::RunOutput;
use super::tree::Tree;
use crate::earnings::{EarningsKind, EarningsLine};
use crate::ids::MemberId;
use crate::period::Period;
use crate::rank::Rank;
use crate::volume::{Gv, Pv};

/// Why `member` holds `rank` in `period`, and what stood in the way of the next one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RankExplanation {
    pub member: MemberId,
    pub period: Period,
    pub pv: Pv,
    pub gv: Gv,
    pub active: bool,
    pub rank: Rank,
    /// The held rank's requirements, all met; `None` for the entry rank, which has none.
    pub held: Option<RankCheck>,
    /// The next rank's requirements, some unmet; `None` at the top of the ladder.
    pub next: Option<RankCheck>,
}

/// Explains a member's rank from a run (`tree` must be the run's tree); `None` if the member
/// is not in it.
pub fn explain_rank(
    plan: &Plan,
    tree: &Tree,
    run: &RunOutput,
    member: MemberId,
) -> Option<RankExplanation> {
    let result = run.member(member)?;
    let legs = run.legs(tree, member);
    let facts = MemberFacts {
        pv: result.pv,
        gv: result.gv,
        active: result.active,
        legs: &legs,
    };
    let held_rank = plan.rank(result.rank)?;
    let held = (result.rank != plan.lowest_level()).then(|| check_rank(plan, held_rank, &facts));
    let next = progress_to_next(plan, result.rank, &facts);
    Some(RankExplanation {
        member,
        period: run.period,
        pv: result.pv,
        gv: result.gv,
        active: result.active,
        rank: held_rank.rank.clone(),
        held,
        next,
    })
}

/// One sentence saying what made `line`, e.g.
/// "5.00% of order #123 by Ana Silva (level 2), Unilevel L2". `name_of` supplies display
/// names (the engine holds no personal data); unknown members are shown as "member 17".
pub fn describe_line(line: &EarningsLine, name_of: impl Fn(MemberId) -> Option<String>) -> String {
    let src = &line.source;
    let who = src
        .member
        .map(|m| name_of(m).unwrap_or_else(|| format!("member {m}")));
    let order = match (src.order, who) {
        (Some(o), Some(w)) => format!("order #{o} by {w}"),
        (Some(o), None) => format!("order #{o}"),
        (None, Some(w)) => format!("the volume of {w}"),
        (None, None) => "the plan".to_owned(),
    };
    let rate = src.rate.map(|r| r.to_string()).unwrap_or_default();
    match line.kind {
        EarningsKind::Unilevel => match src.level {
            Some(level) => format!("{rate} of {order} (level {level}), {}", src.rule),
            None => format!("{rate} of {order}, {}", src.rule),
        },
        EarningsKind::FastStart => {
            format!(
                "{rate} of {order}, enrolled by you and in their first period, {}",
                src.rule
            )
        }
        EarningsKind::RankAdvancement => {
            format!(
                "{} paid once for reaching a new rank, {}",
                line.amount, src.rule
            )
        }
        EarningsKind::Clawback => format!(
            "Reversal of {} on {order}: the order was refunded after its period closed",
            src.rule
        ),
        EarningsKind::Adjustment => format!(
            "Partial reversal of {} on {order}: part of the order was refunded after its period closed",
            src.rule
        ),
        other => format!("{}: {}", other.label(), src.rule),
    }
}
