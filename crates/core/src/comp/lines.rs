//! Earnings lines of a run, built as small fixed-size records first, put in the stable line
//! order by a counting sort on the earner (then a tiny sort per earner), and only then
//! turned into [`EarningsLine`]s, so a million-member run sorts 32-byte records, not lines.

use super::plan::Plan;
use super::run::{PeriodOrder, kind_order, line_cmp};
use super::tree::Tree;
use crate::earnings::{EarningsKind, EarningsLine, EarningsSource};
use crate::ids::EarningsLineId;
use crate::money::Money;
use crate::period::Period;

/// `order` for a line that no order paid (rank advancement).
pub(super) const NO_ORDER: u32 = u32::MAX;

/// A line before it is materialised.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pending {
    pub earner: u32,
    pub kind: EarningsKind,
    /// Index into the run's orders, or [`NO_ORDER`].
    pub order: u32,
    /// Position of the order in order-id order (the sort key), or [`NO_ORDER`].
    pub seq: u32,
    /// Unilevel level (1 for fast start), or the index of the rank in the plan for
    /// rank advancement.
    pub level: u16,
    pub amount: i64,
}

/// Collects pending lines; the rule names are formatted once per run, not once per line.
pub(super) struct LineBook<'a> {
    plan: &'a Plan,
    orders: &'a [PeriodOrder],
    /// Per order: 0 when it is in the plan currency, `1 + i` when it was converted at
    /// `plan.exchange_rates()[i]`.
    via: &'a [u16],
    pending: Vec<Pending>,
    /// Indexed like `via`'s values: the order-paid rule names for each way in.
    order_rules: Vec<OrderRules>,
    advancement_rules: Vec<String>,
}

/// The names of the rules an order pays: "Unilevel L2", or "Unilevel L2 (EUR at 1.085)"
/// when the order was converted, so that a line says how its base amount was reached.
struct OrderRules {
    unilevel: Vec<String>,
    fast_start: String,
}

impl<'a> LineBook<'a> {
    pub fn new(plan: &'a Plan, orders: &'a [PeriodOrder], via: &'a [u16]) -> Self {
        let rules = |suffix: &str| OrderRules {
            unilevel: (1..=plan.unilevel_levels())
                .map(|l| format!("Unilevel L{l}{suffix}"))
                .collect(),
            fast_start: plan
                .fast_start()
                .map(|f| format!("{}{suffix}", f.name))
                .unwrap_or_default(),
        };
        let order_rules = std::iter::once(rules(""))
            .chain(
                plan.exchange_rates()
                    .iter()
                    .map(|r| rules(&format!(" ({} at {r})", r.currency()))),
            )
            .collect();
        Self {
            plan,
            orders,
            via,
            pending: Vec::with_capacity(orders.len().saturating_mul(2)),
            order_rules,
            advancement_rules: plan
                .ranks()
                .iter()
                .map(|r| format!("Rank advancement: {}", r.rank.name))
                .collect(),
        }
    }

    /// Pays `amount` (already rounded) unless it is zero: a zero line says nothing.
    pub fn push(&mut self, line: Pending) {
        if line.amount != 0 {
            self.pending.push(line);
        }
    }

    fn rule(&self, p: &Pending) -> &str {
        let level = usize::from(p.level);
        let by_order = || {
            let via = self.via.get(p.order as usize).copied().unwrap_or(0);
            self.order_rules.get(usize::from(via))
        };
        match p.kind {
            EarningsKind::Unilevel => {
                by_order().and_then(|r| r.unilevel.get(level.wrapping_sub(1)))
            }
            EarningsKind::RankAdvancement => self.advancement_rules.get(level),
            _ => by_order().map(|r| &r.fast_start),
        }
        .map_or("", String::as_str)
    }

    /// Materialises the lines in [`line_cmp`] order, numbered from `first_id`.
    pub fn finish(
        self,
        tree: &Tree,
        period: Period,
        first_id: EarningsLineId,
    ) -> Vec<EarningsLine> {
        // Counting sort by earner: dense indices ascend with member ids.
        let mut start = vec![0usize; tree.len() + 1];
        for p in &self.pending {
            start[p.earner as usize + 1] += 1;
        }
        for i in 0..tree.len() {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut sorted = self.pending.clone();
        for p in &self.pending {
            let slot = &mut fill[p.earner as usize];
            sorted[*slot] = *p;
            *slot += 1;
        }
        for w in start.windows(2) {
            // The same order as `line_cmp` within one earner: `seq` follows the order id,
            // which also fixes the buyer; the rule breaks ties only between
            // rank-advancement lines, whose names share a prefix. The key is all in the
            // record: no lookups while sorting.
            sorted[w[0]..w[1]].sort_unstable_by(|a, b| {
                let key = |p: &Pending| {
                    let level = (p.kind != EarningsKind::RankAdvancement).then_some(p.level);
                    (kind_order(p.kind), p.seq, level)
                };
                key(a)
                    .cmp(&key(b))
                    .then_with(|| self.rule(a).cmp(self.rule(b)))
            });
        }
        let currency = self.plan.currency();
        let mut lines = Vec::with_capacity(sorted.len());
        for (k, p) in (0i64..).zip(&sorted) {
            let order = self.orders.get(p.order as usize);
            let rate = match p.kind {
                EarningsKind::Unilevel => self.plan.unilevel_rate(p.level),
                EarningsKind::FastStart => self.plan.fast_start().map(|f| f.rate),
                _ => None,
            };
            lines.push(EarningsLine {
                id: EarningsLineId::new(first_id.get().saturating_add(k)),
                period,
                member: tree.id(p.earner as usize),
                amount: Money::new(p.amount, currency),
                kind: p.kind,
                source: EarningsSource {
                    order: order.map(|o| o.id),
                    member: order.map(|o| o.buyer),
                    level: (p.kind != EarningsKind::RankAdvancement).then_some(p.level),
                    rule: self.rule(p).to_owned(),
                    rate,
                },
            });
        }
        debug_assert!(lines.windows(2).all(|w| line_cmp(&w[0], &w[1]).is_lt()));
        lines
    }
}
