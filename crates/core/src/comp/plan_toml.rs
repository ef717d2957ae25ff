//! The plan's TOML shape (unknown keys refused) and its validation into a [`Plan`].
//! Volumes and money are strings (`"100"`, `"12.5"`, `"250.00"`) so no float ever gets in.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::exchange::{self, ExchangeRate};
use super::plan::{
    FastStart, GvRule, LegRule, PLAN_VERSION, Plan, PlanError, PlanRank, Requirements,
};
use crate::money::{BasisPoints, Currency, Money};
use crate::rank::{Rank, RankLadder, RankLevel};
use crate::volume::{Gv, Pv};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    version: u32,
    name: String,
    currency: String,
    /// Only monthly periods exist today; the key is required so a plan says so explicitly.
    #[allow(dead_code)] // read for validation by serde only
    period: RawPeriod,
    #[serde(default)]
    activity: Option<RawActivity>,
    #[serde(rename = "rank", default)]
    ranks: Vec<RawRank>,
    #[serde(default)]
    unilevel: Vec<RawLevel>,
    #[serde(default)]
    fast_start: Option<RawFastStart>,
    /// `EUR = "1.0850"`: one EUR is worth 1.0850 of the plan currency. Values are read as
    /// any TOML value so that a bare number is refused with a message naming its currency.
    #[serde(default)]
    exchange_rates: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum RawPeriod {
    Monthly,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawActivity {
    min_pv: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRank {
    level: u16,
    name: String,
    #[serde(default)]
    unilevel_depth: u16,
    #[serde(default)]
    advancement_bonus: Option<String>,
    #[serde(default)]
    requires: Option<RawRequires>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRequires {
    #[serde(default)]
    active: bool,
    #[serde(default)]
    min_pv: Option<String>,
    #[serde(default)]
    min_gv: Option<String>,
    #[serde(default)]
    max_leg_share_bps: Option<u32>,
    #[serde(default)]
    legs: Option<RawLegs>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLegs {
    count: u16,
    min_rank: u16,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLevel {
    level: u16,
    rate_bps: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFastStart {
    #[serde(default = "fast_start_name")]
    name: String,
    rate_bps: u32,
}

fn fast_start_name() -> String {
    "Fast Start".to_owned()
}

pub(super) fn parse(text: &str) -> Result<Plan, PlanError> {
    let raw: RawPlan = toml::from_str(text).map_err(|e| PlanError::Toml(e.to_string()))?;
    if raw.version != PLAN_VERSION {
        return Err(PlanError::UnsupportedVersion(raw.version));
    }
    if raw.name.trim().is_empty() {
        return Err(PlanError::BlankName);
    }
    let currency =
        Currency::parse(&raw.currency).map_err(|_| PlanError::Currency(raw.currency.clone()))?;
    let ladder = RankLadder::new(
        raw.ranks
            .iter()
            .map(|r| Rank::new(r.level, r.name.clone()))
            .collect(),
    )?;
    let activity_min_pv = match &raw.activity {
        None => Pv::ZERO,
        Some(a) => {
            let pv = Pv::parse(&a.min_pv).map_err(|e| PlanError::BadActivity {
                value: a.min_pv.clone(),
                reason: e.to_string(),
            })?;
            if pv < Pv::ZERO {
                return Err(PlanError::BadActivity {
                    value: a.min_pv.clone(),
                    reason: "it must not be negative".to_owned(),
                });
            }
            pv
        }
    };
    let ranks = raw
        .ranks
        .iter()
        .enumerate()
        .map(|(i, r)| rank(r, i == 0, &ladder, currency))
        .collect::<Result<Vec<_>, _>>()?;
    let unilevel = unilevel(&raw.unilevel)?;
    check_depths(&ranks, &unilevel)?;
    let fast_start = raw.fast_start.map(fast_start).transpose()?;
    let exchange_rates = exchange_rates(&raw.exchange_rates, currency)?;
    Ok(Plan {
        version: raw.version,
        name: raw.name,
        currency,
        ladder,
        ranks,
        unilevel,
        activity_min_pv,
        fast_start,
        exchange_rates,
    })
}

fn rank(
    raw: &RawRank,
    lowest: bool,
    ladder: &RankLadder,
    currency: Currency,
) -> Result<PlanRank, PlanError> {
    let level = raw.level;
    let name = || raw.name.clone();
    let bad = |field: &'static str, value: &str, reason: String| PlanError::BadNumber {
        level,
        name: name(),
        field,
        value: value.to_owned(),
        reason,
    };
    let negative = |field| PlanError::Negative {
        level,
        name: name(),
        field,
    };
    let req = raw.requires.as_ref();
    let empty = RawRequires::default();
    let req_or_empty = req.unwrap_or(&empty);
    if lowest && req.is_some() {
        return Err(PlanError::LowestRankRequirements(name()));
    }

    let min_pv = match &req_or_empty.min_pv {
        None => None,
        Some(text) => {
            let pv = Pv::parse(text).map_err(|e| bad("min_pv", text, e.to_string()))?;
            if pv < Pv::ZERO {
                return Err(negative("min_pv"));
            }
            Some(pv)
        }
    };
    let min_gv = match &req_or_empty.min_gv {
        None => None,
        Some(text) => {
            let gv = Gv::parse(text).map_err(|e| bad("min_gv", text, e.to_string()))?;
            if gv < Gv::ZERO {
                return Err(negative("min_gv"));
            }
            Some(gv)
        }
    };
    let max_leg_share = req_or_empty.max_leg_share_bps.map(BasisPoints::new);
    if let Some(share) = max_leg_share {
        if min_gv.is_none() {
            return Err(PlanError::LegShareWithoutGv {
                level,
                name: name(),
            });
        }
        if share == BasisPoints::ZERO || share > BasisPoints::ONE_HUNDRED_PERCENT {
            return Err(PlanError::LegShareOutOfRange {
                level,
                name: name(),
                share,
            });
        }
    }
    let legs = match &req_or_empty.legs {
        None => None,
        Some(l) => {
            if l.count == 0 {
                return Err(PlanError::ZeroLegs {
                    level,
                    name: name(),
                });
            }
            if l.min_rank >= level {
                return Err(PlanError::LegRankNotBelow {
                    level,
                    name: name(),
                    leg_rank: l.min_rank,
                });
            }
            if ladder.get(RankLevel::new(l.min_rank)).is_none() {
                return Err(PlanError::LegRankUnknown {
                    level,
                    name: name(),
                    leg_rank: l.min_rank,
                });
            }
            Some(LegRule {
                count: l.count,
                min_rank: RankLevel::new(l.min_rank),
            })
        }
    };
    let advancement_bonus = match &raw.advancement_bonus {
        None => None,
        Some(text) => {
            let amount = Money::parse_amount(text, currency)
                .map_err(|e| bad("advancement_bonus", text, e.to_string()))?;
            if amount.is_negative() {
                return Err(negative("advancement_bonus"));
            }
            Some(amount)
        }
    };
    Ok(PlanRank {
        rank: Rank::new(level, raw.name.clone()),
        requirements: Requirements {
            active: req_or_empty.active,
            min_pv,
            min_gv: min_gv.map(|min| GvRule { min, max_leg_share }),
            legs,
        },
        unilevel_depth: raw.unilevel_depth,
        advancement_bonus,
    })
}

fn unilevel(raw: &[RawLevel]) -> Result<Vec<BasisPoints>, PlanError> {
    if raw.is_empty() {
        return Err(PlanError::NoUnilevel);
    }
    let mut levels: Vec<(u16, BasisPoints)> = Vec::with_capacity(raw.len());
    for l in raw {
        let rate = BasisPoints::new(l.rate_bps);
        if rate > BasisPoints::ONE_HUNDRED_PERCENT {
            return Err(PlanError::RateTooHigh {
                level: l.level,
                rate,
            });
        }
        if levels.iter().any(|&(seen, _)| seen == l.level) {
            return Err(PlanError::DuplicateLevel(l.level));
        }
        levels.push((l.level, rate));
    }
    levels.sort_unstable_by_key(|&(level, _)| level);
    let mut expected = 1u16;
    for &(level, _) in &levels {
        if level != expected {
            return Err(PlanError::MissingLevel(expected));
        }
        expected = expected.saturating_add(1);
    }
    Ok(levels.into_iter().map(|(_, rate)| rate).collect())
}

fn check_depths(ranks: &[PlanRank], unilevel: &[BasisPoints]) -> Result<(), PlanError> {
    let levels = u16::try_from(unilevel.len()).unwrap_or(u16::MAX);
    for r in ranks {
        if r.unilevel_depth > levels {
            return Err(PlanError::DepthBeyondTable {
                level: r.rank.level.get(),
                name: r.rank.name.clone(),
                depth: r.unilevel_depth,
                levels,
            });
        }
    }
    let deepest = ranks.iter().map(|r| r.unilevel_depth).max().unwrap_or(0);
    if deepest < levels {
        return Err(PlanError::LevelNotUnlocked {
            level: deepest + 1,
            deepest,
        });
    }
    Ok(())
}

fn fast_start(raw: RawFastStart) -> Result<FastStart, PlanError> {
    let rate = BasisPoints::new(raw.rate_bps);
    if rate > BasisPoints::ONE_HUNDRED_PERCENT {
        return Err(PlanError::FastStartRateTooHigh(rate));
    }
    if raw.name.trim().is_empty() {
        return Err(PlanError::FastStartBlankName);
    }
    Ok(FastStart {
        name: raw.name,
        rate,
    })
}

/// Rates in currency order (the map is sorted by code, and codes sort as currencies do).
fn exchange_rates(
    raw: &BTreeMap<String, toml::Value>,
    plan_currency: Currency,
) -> Result<Vec<ExchangeRate>, PlanError> {
    raw.iter()
        .map(|(code, value)| {
            let currency = exchange::iso_currency(code)
                .ok_or_else(|| PlanError::RateCurrency(code.clone()))?;
            if currency == plan_currency {
                return Err(PlanError::RateForPlanCurrency(currency));
            }
            let bad = |value: String, reason: String| PlanError::BadRate {
                currency,
                value,
                reason,
            };
            let Some(text) = value.as_str() else {
                let shown = match value {
                    toml::Value::Integer(i) => i.to_string(),
                    toml::Value::Float(f) => f.to_string(),
                    other => other.type_str().to_owned(),
                };
                return Err(bad(
                    shown,
                    "write it in quotes, as a decimal string like \"1.0850\", so no float gets in"
                        .to_owned(),
                ));
            };
            ExchangeRate::parse(currency, text)
                .map_err(|e| bad(format!("\"{text}\""), e.to_string()))
        })
        .collect()
}
