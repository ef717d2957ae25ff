//! A compensation plan as validated data: ranks with their qualifications, unilevel rates
//! by level, fast start and rank-advancement bonuses. Built only by [`Plan::from_toml`].

use serde::Serialize;

use super::exchange::ExchangeRate;

use crate::money::{BasisPoints, Currency, Money};
use crate::rank::{Rank, RankLadder, RankLevel};
use crate::volume::{Gv, Pv};

/// The only plan format version this engine reads.
pub const PLAN_VERSION: u32 = 1;

/// A validated plan. Every invariant [`PlanError`] lists holds, so the run never re-checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub(super) version: u32,
    pub(super) name: String,
    pub(super) currency: Currency,
    pub(super) ladder: RankLadder,
    /// Same order and length as `ladder`.
    pub(super) ranks: Vec<PlanRank>,
    /// `unilevel[k - 1]` is the rate of level `k`; levels run 1..=len without gaps.
    pub(super) unilevel: Vec<BasisPoints>,
    pub(super) activity_min_pv: Pv,
    pub(super) fast_start: Option<FastStart>,
    /// Fixed rates into `currency`, sorted by the currency converted from.
    pub(super) exchange_rates: Vec<ExchangeRate>,
}

/// One rung of the ladder with what it takes and what it pays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanRank {
    pub rank: Rank,
    pub requirements: Requirements,
    /// Unilevel levels this rank is paid on (1 = personally enrolled, after compression).
    pub unilevel_depth: u16,
    /// Paid once, the first period the member reaches this rank.
    pub advancement_bonus: Option<Money>,
}

/// What a member must show in the period to hold a rank. Absent parts are not required.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Requirements {
    /// The member must be active (see [`Plan::activity_min_pv`]).
    pub active: bool,
    pub min_pv: Option<Pv>,
    pub min_gv: Option<GvRule>,
    pub legs: Option<LegRule>,
}

/// A group-volume requirement, optionally with the max-leg rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GvRule {
    pub min: Gv,
    /// At most this share of `min` is counted from any one leg.
    pub max_leg_share: Option<BasisPoints>,
}

impl GvRule {
    /// The most GV one leg may contribute: `min × share`, rounded down to the hundredth so
    /// that the cap never lets through more than the plan says.
    pub fn leg_cap(self) -> Option<Gv> {
        self.max_leg_share.map(|share| {
            let cap = i128::from(self.min.hundredths()) * i128::from(share.get()) / 10_000;
            // share ≤ 100 % (validated), so the cap is at most `min` and fits.
            Gv::from_hundredths(i64::try_from(cap).unwrap_or(i64::MAX))
        })
    }
}

/// "`count` direct legs each holding someone at `min_rank` or above".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LegRule {
    pub count: u16,
    pub min_rank: RankLevel,
}

/// The fast-start bonus: `rate` of each counted order placed by a member in the period they
/// joined, paid to their sponsor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FastStart {
    pub name: String,
    pub rate: BasisPoints,
}

/// Why a plan was refused, worded for the admin who wrote it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("the plan is not valid: {0}")]
    Toml(String),
    #[error("plan version {0} is not supported: this engine reads version {PLAN_VERSION}")]
    UnsupportedVersion(u32),
    #[error("the plan needs a name")]
    BlankName,
    #[error("currency \"{0}\" is not a three-letter code like USD")]
    Currency(String),
    #[error("rank ladder: {0}")]
    Ladder(#[from] crate::rank::RankLadderError),
    #[error("rank {level} '{name}': {field} \"{value}\" is not valid: {reason}")]
    BadNumber {
        level: u16,
        name: String,
        field: &'static str,
        value: String,
        reason: String,
    },
    #[error("activity min_pv \"{value}\" is not valid: {reason}")]
    BadActivity { value: String, reason: String },
    #[error("rank {level} '{name}': {field} must not be negative")]
    Negative {
        level: u16,
        name: String,
        field: &'static str,
    },
    #[error("the lowest rank '{0}' must have no requirements: every member holds it")]
    LowestRankRequirements(String),
    #[error("rank {level} '{name}' requires a qualified leg rank {leg_rank} that is not below it")]
    LegRankNotBelow {
        level: u16,
        name: String,
        leg_rank: u16,
    },
    #[error(
        "rank {level} '{name}' requires a qualified leg rank {leg_rank}, which is not on the ladder"
    )]
    LegRankUnknown {
        level: u16,
        name: String,
        leg_rank: u16,
    },
    #[error(
        "rank {level} '{name}' requires 0 qualified legs: remove the rule or ask for at least 1"
    )]
    ZeroLegs { level: u16, name: String },
    #[error(
        "rank {level} '{name}' sets max_leg_share_bps without min_gv: the cap is a share of the GV requirement"
    )]
    LegShareWithoutGv { level: u16, name: String },
    #[error(
        "rank {level} '{name}' counts at most {share} of its GV from one leg: the share must be between 0.01% and 100%"
    )]
    LegShareOutOfRange {
        level: u16,
        name: String,
        share: BasisPoints,
    },
    #[error("the plan needs at least one unilevel level")]
    NoUnilevel,
    #[error("unilevel level {level} rate is {rate}: rates must be at most 100%")]
    RateTooHigh { level: u16, rate: BasisPoints },
    #[error("unilevel level {0} is listed twice")]
    DuplicateLevel(u16),
    #[error("unilevel levels must run 1, 2, 3, … without gaps: level {0} is missing")]
    MissingLevel(u16),
    #[error(
        "unilevel level {level} is not unlocked by any rank (the deepest rank is paid {deepest} levels)"
    )]
    LevelNotUnlocked { level: u16, deepest: u16 },
    #[error("rank {level} '{name}' is paid {depth} unilevel levels but the plan has only {levels}")]
    DepthBeyondTable {
        level: u16,
        name: String,
        depth: u16,
        levels: u16,
    },
    #[error("fast start rate is {0}: rates must be at most 100%")]
    FastStartRateTooHigh(BasisPoints),
    #[error("fast start needs a name")]
    FastStartBlankName,
    #[error("exchange_rates: \"{0}\" is not the ISO 4217 code of a currency in circulation")]
    RateCurrency(String),
    #[error("exchange_rates: {0} is the plan's own currency, which needs no rate (it is always 1)")]
    RateForPlanCurrency(Currency),
    #[error("exchange_rates: the rate for {currency} ({value}) is not valid: {reason}")]
    BadRate {
        currency: Currency,
        value: String,
        reason: String,
    },
}

impl Plan {
    /// Parses and validates a plan written in TOML (see `crates/core/plans/demo.toml`).
    pub fn from_toml(text: &str) -> Result<Self, PlanError> {
        super::plan_toml::parse(text)
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Every amount the plan pays is in this currency; an order in another currency is
    /// converted at [`Plan::exchange_rate`], and refused by the run if there is none.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The fixed rates into [`Plan::currency`] (`[exchange_rates]`), sorted by currency.
    pub fn exchange_rates(&self) -> &[ExchangeRate] {
        &self.exchange_rates
    }

    /// The rate from `currency` into the plan's, if the plan states one.
    pub fn exchange_rate(&self, currency: Currency) -> Option<&ExchangeRate> {
        self.exchange_rates
            .binary_search_by_key(&currency, ExchangeRate::currency)
            .ok()
            .map(|i| &self.exchange_rates[i])
    }

    pub fn ladder(&self) -> &RankLadder {
        &self.ladder
    }

    /// The ranks lowest first, with their qualifications.
    pub fn ranks(&self) -> &[PlanRank] {
        &self.ranks
    }

    pub fn rank(&self, level: RankLevel) -> Option<&PlanRank> {
        self.ranks
            .binary_search_by_key(&level, |r| r.rank.level)
            .ok()
            .map(|i| &self.ranks[i])
    }

    /// The entry rank every member holds (a valid plan has at least one rank).
    pub fn lowest_level(&self) -> RankLevel {
        self.ranks
            .first()
            .map_or(RankLevel::new(0), |r| r.rank.level)
    }

    /// Rate of unilevel level `level` (1-based), if the plan pays it.
    pub fn unilevel_rate(&self, level: u16) -> Option<BasisPoints> {
        usize::from(level)
            .checked_sub(1)
            .and_then(|i| self.unilevel.get(i).copied())
    }

    /// Number of unilevel levels in the plan (the deepest any rank can be paid).
    pub fn unilevel_levels(&self) -> u16 {
        u16::try_from(self.unilevel.len()).unwrap_or(u16::MAX)
    }

    /// A member is *active* in a period when their status can earn
    /// ([`crate::MemberStatus::can_earn`]) and their PV in the period is at least this.
    pub fn activity_min_pv(&self) -> Pv {
        self.activity_min_pv
    }

    pub fn fast_start(&self) -> Option<&FastStart> {
        self.fast_start.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leg_cap_rounds_down_to_the_hundredth() {
        let rule = |min, share| GvRule {
            min: Gv::from_hundredths(min),
            max_leg_share: Some(BasisPoints::new(share)),
        };
        // 333.33 × 50 % = 166.665 → 166.66; 1000 × 40 % = 400 exactly.
        assert_eq!(
            rule(33_333, 5_000).leg_cap(),
            Some(Gv::from_hundredths(16_666))
        );
        assert_eq!(
            rule(100_000, 4_000).leg_cap(),
            Some(Gv::from_hundredths(40_000))
        );
        let uncapped = GvRule {
            min: Gv::from_hundredths(100),
            max_leg_share: None,
        };
        assert_eq!(uncapped.leg_cap(), None);
    }
}
