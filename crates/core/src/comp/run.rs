//! The commission run for one period: volumes, ranks and earnings lines from the plan, the
//! tree and the period's orders. Pure and deterministic; O(members + orders × levels).

use serde::{Deserialize, Serialize};

use super::lines::{LineBook, NO_ORDER, Pending};
use super::plan::Plan;
use super::qualify::{self, Blocked, Leg, MemberFacts};
use super::tree::Tree;
use crate::earnings::{EarningsKind, EarningsLine};
use crate::ids::{EarningsLineId, MemberId, OrderId};
use crate::money::{Currency, Money, MoneyError};
use crate::order::OrderStatus;
use crate::period::Period;
use crate::rank::RankLevel;
use crate::volume::{Gv, Pv, VolumeError};

/// An order of the period as the run sees it.
///
/// Commissions are a rate of `amount`, the order's **commissionable amount** (money, set
/// by the company per product, often below the price), in the plan's currency or one the
/// plan has an exchange rate for; PV only drives volumes and ranks.
/// Only [`OrderStatus::counts_for_volume`] orders count: an order refunded or returned
/// within the period reverses its own volume and commissions simply by not counting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodOrder {
    pub id: OrderId,
    /// The member whose PV it is.
    pub buyer: MemberId,
    pub pv: Pv,
    pub amount: Money,
    pub status: OrderStatus,
}

/// Why a run could not be done; nothing is half-computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    #[error("order #{order} was placed by member {buyer}, who is not in the tree")]
    UnknownBuyer { order: OrderId, buyer: MemberId },
    #[error(
        "order #{order} is in {order_currency} but the plan pays in {plan_currency} and has no exchange rate for {order_currency}"
    )]
    Currency {
        order: OrderId,
        order_currency: Currency,
        plan_currency: Currency,
    },
    #[error(
        "order #{0} has a negative volume or amount: a refund is a status, not a negative order"
    )]
    NegativeOrder(OrderId),
    #[error("order #{0} is listed twice")]
    DuplicateOrder(OrderId),
    #[error(transparent)]
    Money(#[from] MoneyError),
    #[error(transparent)]
    Volume(#[from] VolumeError),
}

/// One member's outcome for the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberResult {
    pub member: MemberId,
    pub pv: Pv,
    /// Own PV plus the whole downline's.
    pub gv: Gv,
    /// Status can earn and PV ≥ the plan's activity minimum.
    pub active: bool,
    /// The rank qualified for this period.
    pub rank: RankLevel,
    /// Why not the next rank up (`None` at the top of the ladder).
    pub blocked: Option<Blocked>,
    /// Best rank held by anyone in the member's group (themselves included): what the
    /// member counts as when they are someone's leg.
    pub best_rank_in_group: RankLevel,
    /// Highest rank ever reached, this period included (the caller stores it for the next run).
    pub highest_rank: RankLevel,
}

/// Everything a run produces. `members` is in ascending id order; `lines` are sorted by
/// (earner, kind, order, source member, level, rule) and numbered from the run's first id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunOutput {
    pub period: Period,
    pub currency: Currency,
    pub members: Vec<MemberResult>,
    pub lines: Vec<EarningsLine>,
}

impl RunOutput {
    pub fn member(&self, id: MemberId) -> Option<&MemberResult> {
        self.members
            .binary_search_by_key(&id, |m| m.member)
            .ok()
            .map(|i| &self.members[i])
    }

    /// The lines `member` earned (a contiguous slice, since lines are sorted by earner).
    pub fn lines_of(&self, member: MemberId) -> &[EarningsLine] {
        let start = self.lines.partition_point(|l| l.member < member);
        let end = self.lines.partition_point(|l| l.member <= member);
        &self.lines[start..end]
    }

    /// The legs of `member` as qualification saw them (`tree` must be the run's tree).
    pub fn legs(&self, tree: &Tree, member: MemberId) -> Vec<Leg> {
        let Some(i) = tree.index_of(member) else {
            return Vec::new();
        };
        tree.children(i)
            .map(|c| Leg {
                member: tree.id(c),
                gv: self.members[c].gv,
                best_rank: self.members[c].best_rank_in_group,
            })
            .collect()
    }

    /// Total paid per kind, in [`kind_order`] order, kinds with no line left out.
    pub fn totals_by_kind(&self) -> Result<Vec<(EarningsKind, Money)>, MoneyError> {
        let mut totals: Vec<(EarningsKind, Money)> = Vec::new();
        for line in &self.lines {
            match totals.iter_mut().find(|(k, _)| *k == line.kind) {
                Some((_, total)) => *total = total.checked_add(line.amount)?,
                None => totals.push((line.kind, line.amount)),
            }
        }
        totals.sort_by_key(|(k, _)| kind_order(*k));
        Ok(totals)
    }
}

/// A fixed order of kinds for sorting lines (`EarningsKind` has no `Ord` of its own).
pub fn kind_order(kind: EarningsKind) -> u8 {
    match kind {
        EarningsKind::RetailProfit => 0,
        EarningsKind::FastStart => 1,
        EarningsKind::Unilevel => 2,
        EarningsKind::Binary => 3,
        EarningsKind::Matching => 4,
        EarningsKind::RankAdvancement => 5,
        EarningsKind::Leadership => 6,
        EarningsKind::Adjustment => 7,
        EarningsKind::Clawback => 8,
    }
}

/// The stable line order: earner, kind, order, source member, level, rule.
pub(super) fn line_cmp(a: &EarningsLine, b: &EarningsLine) -> std::cmp::Ordering {
    (
        a.member,
        kind_order(a.kind),
        a.source.order,
        a.source.member,
    )
        .cmp(&(
            b.member,
            kind_order(b.kind),
            b.source.order,
            b.source.member,
        ))
        .then_with(|| a.source.level.cmp(&b.source.level))
        .then_with(|| a.source.rule.cmp(&b.source.rule))
}

const NONE: u32 = u32::MAX;

/// Runs `period`. Rules, precisely:
///
/// - **Active**: status can earn and PV ≥ [`Plan::activity_min_pv`]. Only active members
///   earn unilevel and fast start.
/// - **Unilevel with compression**: from each counted order, walk up the sponsor chain;
///   inactive members are skipped and do not use up a level, so level `k` is the `k`-th
///   *active* upline member. That member is paid `rate(k) × amount` if their rank's
///   `unilevel_depth ≥ k`; a member too shallow for `k` still uses up level `k`.
/// - **Fast start**: for each counted order of a member who joined in `period`, the
///   sponsor (no compression) is paid `rate × amount` if active.
/// - **Rank advancement**: for every rank above the member's previous highest rank up to
///   the rank qualified now, its bonus, if the member's status can earn.
/// - **Currency**: an order in another currency is converted first, at the plan's fixed
///   rate ([`Plan::exchange_rate`]), to a whole number of the plan currency's minor units,
///   rounded half to even ([`super::ExchangeRate::convert`]); its lines are then rates of
///   that converted amount, and their rule names the conversion ("Unilevel L1 (EUR at
///   1.085)"). An order in a currency the plan has no rate for is [`RunError::Currency`].
/// - **Rounding**: each line separately, half to even at the minor unit
///   ([`Money::checked_mul_bps`]); lines that round to zero are not issued.
pub fn run_period(
    plan: &Plan,
    tree: &Tree,
    period: Period,
    orders: &[PeriodOrder],
    first_line_id: EarningsLineId,
) -> Result<RunOutput, RunError> {
    let n = tree.len();
    let Resolved {
        buyers,
        by_id,
        amounts,
        via,
    } = resolve_orders(plan, tree, orders)?;
    let currency = plan.currency();

    let mut pv = vec![Pv::ZERO; n];
    for (order, &b) in orders.iter().zip(&buyers) {
        if b != NONE {
            pv[b as usize] = pv[b as usize].checked_add(order.pv)?;
        }
    }
    let mut gv: Vec<Gv> = pv.iter().map(|&p| Gv::from(p)).collect();
    for i in tree.bottom_up() {
        if let Some(p) = tree.parent(i) {
            gv[p] = gv[p].checked_add(gv[i])?;
        }
    }
    let active: Vec<bool> = (0..n)
        .map(|i| tree.status(i).can_earn() && pv[i] >= plan.activity_min_pv())
        .collect();

    let mut rank = vec![plan.lowest_level(); n];
    let mut best = vec![plan.lowest_level(); n];
    let mut blocked = vec![None; n];
    let mut legs: Vec<Leg> = Vec::new();
    for i in tree.bottom_up() {
        legs.clear();
        legs.extend(tree.children(i).map(|c| Leg {
            member: tree.id(c),
            gv: gv[c],
            best_rank: best[c],
        }));
        let facts = MemberFacts {
            pv: pv[i],
            gv: gv[i],
            active: active[i],
            legs: &legs,
        };
        let (held, why) = qualify::qualify(plan, &facts);
        rank[i] = held;
        blocked[i] = why;
        best[i] = legs.iter().map(|l| l.best_rank).fold(held, RankLevel::max);
    }

    // Nearest active strict ancestor: compression makes each unilevel step O(1).
    let mut up = vec![NONE; n];
    for i in tree.top_down() {
        if let Some(p) = tree.parent(i) {
            up[i] = if active[p] { to_u32(p) } else { up[p] };
        }
    }
    let depth: Vec<u16> = rank
        .iter()
        .map(|&r| plan.rank(r).map_or(0, |pr| pr.unilevel_depth))
        .collect();

    let mut book = LineBook::new(plan, orders, &via);
    let levels = plan.unilevel_levels();
    // In order-id order, so that each earner's lines leave the counting sort nearly in
    // their final order and the per-earner sort has little to do (see `LineBook::finish`).
    for (seq, &k) in (0u32..).zip(&by_id) {
        let (amount, b) = (
            Money::new(amounts[k as usize], currency),
            buyers[k as usize],
        );
        if b == NONE {
            continue;
        }
        let b = b as usize;
        let mut cur = up[b];
        let mut level: u16 = 1;
        while cur != NONE && level <= levels {
            let earner = cur as usize;
            if let (true, Some(rate)) = (level <= depth[earner], plan.unilevel_rate(level)) {
                book.push(Pending {
                    earner: cur,
                    kind: EarningsKind::Unilevel,
                    order: k,
                    seq,
                    level,
                    amount: amount.checked_mul_bps(rate)?.minor(),
                });
            }
            cur = up[earner];
            level += 1;
        }
        if let (Some(fs), Some(sponsor)) = (plan.fast_start(), tree.parent(b))
            && tree.joined(b) == period
            && active[sponsor]
        {
            book.push(Pending {
                earner: to_u32(sponsor),
                kind: EarningsKind::FastStart,
                order: k,
                seq,
                level: 1,
                amount: amount.checked_mul_bps(fs.rate)?.minor(),
            });
        }
    }

    let mut members = Vec::with_capacity(n);
    for i in 0..n {
        let before = tree.highest_rank(i);
        if tree.status(i).can_earn() {
            for (k, r) in plan.ranks().iter().enumerate() {
                if let (true, Some(bonus)) = (
                    r.rank.level > before && r.rank.level <= rank[i],
                    r.advancement_bonus,
                ) {
                    book.push(Pending {
                        earner: to_u32(i),
                        kind: EarningsKind::RankAdvancement,
                        order: NO_ORDER,
                        seq: NO_ORDER,
                        level: u16::try_from(k).unwrap_or(u16::MAX),
                        amount: bonus.minor(),
                    });
                }
            }
        }
        members.push(MemberResult {
            member: tree.id(i),
            pv: pv[i],
            gv: gv[i],
            active: active[i],
            rank: rank[i],
            blocked: blocked[i],
            best_rank_in_group: best[i],
            highest_rank: before.max(rank[i]),
        });
    }
    let lines = book.finish(tree, period, first_line_id);
    Ok(RunOutput {
        period,
        currency,
        members,
        lines,
    })
}

/// The run's view of its orders, each vector indexed like the orders.
struct Resolved {
    /// The buyer's tree index, or `NONE` when the order does not count.
    buyers: Vec<u32>,
    /// Order indices sorted by order id.
    by_id: Vec<u32>,
    /// The commissionable amount in the plan currency's minor units (0 if not counted).
    amounts: Vec<i64>,
    /// How the amount was converted: see [`LineBook::new`].
    via: Vec<u16>,
}

/// Checks every order, maps it to its buyer's index and converts its amount into the plan
/// currency with each rate's factors worked out once per run, not once per order (the
/// same factors and rounding as [`super::ExchangeRate::convert`]).
fn resolve_orders(plan: &Plan, tree: &Tree, orders: &[PeriodOrder]) -> Result<Resolved, RunError> {
    let mut by_id: Vec<u32> = (0..orders.len()).map(to_u32).collect();
    by_id.sort_unstable_by_key(|&k| orders[k as usize].id);
    if let Some(pair) = by_id
        .windows(2)
        .find(|w| orders[w[0] as usize].id == orders[w[1] as usize].id)
    {
        return Err(RunError::DuplicateOrder(orders[pair[0] as usize].id));
    }
    let currency = plan.currency();
    let factors: Vec<(Currency, i64, i64)> = plan
        .exchange_rates()
        .iter()
        .map(|r| {
            let (numerator, denominator) = r.factor(currency);
            (r.currency(), numerator, denominator)
        })
        .collect();
    let mut buyers = Vec::with_capacity(orders.len());
    let mut amounts = Vec::with_capacity(orders.len());
    let mut via = Vec::with_capacity(orders.len());
    for o in orders {
        let buyer = tree.index_of(o.buyer).ok_or(RunError::UnknownBuyer {
            order: o.id,
            buyer: o.buyer,
        })?;
        let rate = if o.amount.currency() == currency {
            None
        } else {
            let found = factors
                .iter()
                .position(|f| f.0 == o.amount.currency())
                .ok_or(RunError::Currency {
                    order: o.id,
                    order_currency: o.amount.currency(),
                    plan_currency: currency,
                })?;
            Some(found)
        };
        if o.pv < Pv::ZERO || o.amount.is_negative() {
            return Err(RunError::NegativeOrder(o.id));
        }
        if !o.status.counts_for_volume() {
            buyers.push(NONE);
            amounts.push(0);
            via.push(0);
            continue;
        }
        let minor = match rate {
            None => o.amount.minor(),
            Some(i) => {
                let (_, numerator, denominator) = factors[i];
                o.amount.checked_mul_ratio(numerator, denominator)?.minor()
            }
        };
        buyers.push(to_u32(buyer));
        amounts.push(minor);
        // A plan has at most one rate per ISO 4217 code (under 200), so the index fits.
        via.push(rate.map_or(0, |i| u16::try_from(i + 1).unwrap_or(u16::MAX)));
    }
    Ok(Resolved {
        buyers,
        by_id,
        amounts,
        via,
    })
}

/// Tree indices fit in `u32` ([`Tree::new`] refuses larger trees).
fn to_u32(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(NONE)
}
