//! The compensation-plan engine: a plan described in TOML, volumes over the sponsor tree,
//! rank qualification, the period's commission run, corrections after close, projections
//! and explanations. Pure and deterministic (no I/O, clock or randomness), so the server
//! pays with it and the wasm UI projects offline with the very same code.
//!
//! Money rule: every line is `amount × rate` rounded **half to even at the minor unit**,
//! line by line ([`crate::Money::checked_mul_bps`]); totals are sums of rounded lines.
//! An order in another currency is first converted at the plan's fixed rate, rounded the
//! same way ([`ExchangeRate::convert`]), and its lines are then computed as any other's.

mod correction;
mod exchange;
mod explain;
mod lines;
mod plan;
mod plan_toml;
mod projection;
mod qualify;
mod run;
mod tree;

pub use correction::{Correction, CorrectionError, CorrectionLine, correct_after_close};
pub use exchange::{ExchangeRate, MAX_RATE, RATE_DECIMALS};
pub use explain::{RankExplanation, describe_line, explain_rank};
pub use plan::{FastStart, GvRule, LegRule, PLAN_VERSION, Plan, PlanError, PlanRank, Requirements};
pub use projection::{progress_in_run, progress_to_next, project_open_period};
pub use qualify::{
    Blocked, Leg, LegDetail, MemberFacts, RankCheck, RequirementCheck, RequirementKind, Unmet,
    check_rank, qualify,
};
pub use run::{MemberResult, PeriodOrder, RunError, RunOutput, kind_order, run_period};
pub use tree::{Tree, TreeError, TreeMember};
