//! "What do I still need for the next rank": per-requirement progress from the member's
//! current volumes and legs, checked by the same code as the run.

use super::plan::Plan;
use super::qualify::{MemberFacts, RankCheck, check_rank};
use super::run::{PeriodOrder, RunError, RunOutput, run_period};
use super::tree::Tree;
use crate::ids::{EarningsLineId, MemberId};
use crate::period::Period;
use crate::rank::RankLevel;

/// Progress towards the rank right above `current` (`None` at the top of the ladder):
/// each requirement with current, required, fraction, missing amount and a summary such as
/// "340.00 PV more" or "1 more leg at Silver".
pub fn progress_to_next(
    plan: &Plan,
    current: RankLevel,
    facts: &MemberFacts<'_>,
) -> Option<RankCheck> {
    plan.ranks()
        .iter()
        .find(|r| r.rank.level > current)
        .map(|r| check_rank(plan, r, facts))
}

/// [`progress_to_next`] for a member of a run (`tree` must be the run's tree).
pub fn progress_in_run(
    plan: &Plan,
    tree: &Tree,
    run: &RunOutput,
    member: MemberId,
) -> Option<RankCheck> {
    let result = run.member(member)?;
    let legs = run.legs(tree, member);
    let facts = MemberFacts {
        pv: result.pv,
        gv: result.gv,
        active: result.active,
        legs: &legs,
    };
    progress_to_next(plan, result.rank, &facts)
}

/// Projected earnings for the **open** period: exactly the run over the orders so far.
/// Orders still to come, refunds and rank changes later in the month will move it, so a
/// projection is a floor for volume-based lines, not a promise.
pub fn project_open_period(
    plan: &Plan,
    tree: &Tree,
    period: Period,
    orders_so_far: &[PeriodOrder],
) -> Result<RunOutput, RunError> {
    run_period(plan, tree, period, orders_so_far, EarningsLineId::new(1))
}
