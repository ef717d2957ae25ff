//! Property tests of the run on random small trees and orders, against a naive reference
//! (hash maps, walking up the tree per order): totals, determinism, sources, corrections.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "comp_support.rs"]
mod support;

use std::collections::HashMap;

use canopy_core::comp::{
    Correction, PeriodOrder, Plan, RunOutput, Tree, TreeMember, correct_after_close, run_period,
};
use canopy_core::{
    EarningsKind, EarningsLine, EarningsLineId, MemberId, MemberStatus, Money, OrderId,
    OrderStatus, Pv, RankLevel,
};
use proptest::prelude::*;
use support::*;

#[derive(Debug, Clone)]
struct Case {
    demo: bool,
    members: Vec<TreeMember>,
    orders: Vec<PeriodOrder>,
}

fn case() -> impl Strategy<Value = Case> {
    let member = (0u32..1000, 0u8..4, any::<bool>(), 0u16..4);
    // The last field picks the currency: the plan's own, or one of its first two rates.
    let order = (0u32..1000, 0i64..400, 0i64..50_000, 0u8..5, 0usize..3);
    (
        any::<bool>(),
        prop::collection::vec(member, 1..14),
        prop::collection::vec(order, 0..25),
    )
        .prop_map(|(demo, ms, os)| {
            let id = |i: usize| i64::try_from(i).unwrap() * 3 + 5;
            let members: Vec<TreeMember> = ms
                .iter()
                .enumerate()
                .map(|(i, &(r, status, new, highest))| TreeMember {
                    id: MemberId::new(id(i)),
                    sponsor: (i > 0 && r % 9 != 0).then(|| MemberId::new(id(r as usize % i))),
                    status: match status {
                        0 | 1 => MemberStatus::Active,
                        2 => MemberStatus::Inactive,
                        _ => MemberStatus::Suspended,
                    },
                    joined: period(if new { "2026-11" } else { "2026-01" }),
                    highest_rank: RankLevel::new(highest),
                })
                .collect();
            let plan = if demo { demo_plan() } else { compact() };
            let currencies = [
                plan.currency(),
                plan.exchange_rates()[0].currency(),
                plan.exchange_rates()[1].currency(),
            ];
            let orders = os
                .iter()
                .enumerate()
                .map(|(k, &(b, pv, amount, status, currency))| PeriodOrder {
                    id: OrderId::new(1_000 + i64::try_from(k).unwrap()),
                    buyer: MemberId::new(id(b as usize % ms.len())),
                    pv: Pv::from_points(pv).unwrap(),
                    amount: Money::new(amount, currencies[currency]),
                    status: if status == 0 {
                        OrderStatus::Refunded
                    } else {
                        OrderStatus::Paid
                    },
                })
                .collect();
            Case {
                demo,
                members,
                orders,
            }
        })
}

fn demo_plan() -> Plan {
    demo()
}

fn plan_of(c: &Case) -> Plan {
    if c.demo { demo() } else { compact() }
}

fn run_case(c: &Case) -> (Plan, Tree, RunOutput) {
    let plan = plan_of(c);
    let tree = Tree::new(c.members.clone()).unwrap();
    let out = run_period(
        &plan,
        &tree,
        period("2026-11"),
        &c.orders,
        EarningsLineId::new(1),
    )
    .unwrap();
    (plan, tree, out)
}

/// Expected per-kind totals and volumes, computed the slow, obvious way.
struct Reference {
    pv: HashMap<MemberId, i64>,
    gv: HashMap<MemberId, i64>,
    unilevel: i64,
    fast_start: i64,
    advancement: i64,
}

fn reference(c: &Case, plan: &Plan, out: &RunOutput) -> Reference {
    let by_id: HashMap<MemberId, &TreeMember> = c.members.iter().map(|m| (m.id, m)).collect();
    let mut pv: HashMap<MemberId, i64> = c.members.iter().map(|m| (m.id, 0)).collect();
    let mut gv = pv.clone();
    let counted: Vec<&PeriodOrder> = c
        .orders
        .iter()
        .filter(|o| o.status == OrderStatus::Paid)
        .collect();
    for o in &counted {
        *pv.get_mut(&o.buyer).unwrap() += o.pv.hundredths();
        let mut cur = Some(o.buyer);
        while let Some(m) = cur {
            *gv.get_mut(&m).unwrap() += o.pv.hundredths();
            cur = by_id[&m].sponsor;
        }
    }
    let active = |m: MemberId| {
        by_id[&m].status == MemberStatus::Active && pv[&m] >= plan.activity_min_pv().hundredths()
    };
    let depth = |m: MemberId| {
        plan.rank(out.member(m).unwrap().rank)
            .unwrap()
            .unilevel_depth
    };
    // Converted order by order with the rate itself, not the run's precomputed factors.
    let base = |o: &PeriodOrder| match plan.exchange_rate(o.amount.currency()) {
        None => o.amount,
        Some(rate) => rate.convert(o.amount, plan.currency()).unwrap(),
    };
    let (mut unilevel, mut fast_start) = (0, 0);
    for o in &counted {
        let mut level = 0u16;
        let mut cur = by_id[&o.buyer].sponsor;
        while let Some(m) = cur {
            if active(m) {
                level += 1;
                if let Some(rate) = plan.unilevel_rate(level).filter(|_| level <= depth(m)) {
                    unilevel += base(o).checked_mul_bps(rate).unwrap().minor();
                }
            }
            cur = by_id[&m].sponsor;
        }
        let buyer = by_id[&o.buyer];
        if let (Some(fs), Some(sponsor)) = (plan.fast_start(), buyer.sponsor)
            && buyer.joined == period("2026-11")
            && active(sponsor)
        {
            fast_start += base(o).checked_mul_bps(fs.rate).unwrap().minor();
        }
    }
    let mut advancement = 0;
    for m in &c.members {
        let now = out.member(m.id).unwrap().rank;
        if m.status == MemberStatus::Active {
            for r in plan.ranks() {
                if r.rank.level > m.highest_rank && r.rank.level <= now {
                    advancement += r.advancement_bonus.map_or(0, Money::minor);
                }
            }
        }
    }
    Reference {
        pv,
        gv,
        unilevel,
        fast_start,
        advancement,
    }
}

fn total_of(lines: &[EarningsLine], kind: EarningsKind) -> i64 {
    lines
        .iter()
        .filter(|l| l.kind == kind)
        .map(|l| l.amount.minor())
        .sum()
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 200,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn totals_and_volumes_match_the_reference(c in case()) {
        let (plan, _, out) = run_case(&c);
        let r = reference(&c, &plan, &out);
        for m in &out.members {
            prop_assert_eq!(m.pv.hundredths(), r.pv[&m.member]);
            prop_assert_eq!(m.gv.hundredths(), r.gv[&m.member]);
        }
        prop_assert_eq!(total_of(&out.lines, EarningsKind::Unilevel), r.unilevel);
        prop_assert_eq!(total_of(&out.lines, EarningsKind::FastStart), r.fast_start);
        prop_assert_eq!(total_of(&out.lines, EarningsKind::RankAdvancement), r.advancement);
        let by_kind: i64 = out.totals_by_kind().unwrap().iter().map(|(_, m)| m.minor()).sum();
        let all = EarningsLine::total(plan.currency(), &out.lines).unwrap().minor();
        prop_assert_eq!(by_kind, all);
        prop_assert_eq!(all, r.unilevel + r.fast_start + r.advancement);
    }

    #[test]
    fn reruns_and_reordered_input_give_identical_output(c in case()) {
        let (_, _, first) = run_case(&c);
        let (_, _, again) = run_case(&c);
        let mut shuffled = c.clone();
        shuffled.members.reverse();
        shuffled.orders.reverse();
        let (_, _, reordered) = run_case(&shuffled);
        let json = serde_json::to_string(&first).unwrap();
        prop_assert_eq!(&json, &serde_json::to_string(&again).unwrap());
        prop_assert_eq!(&json, &serde_json::to_string(&reordered).unwrap());
    }

    #[test]
    fn every_source_refers_to_real_orders_and_members(c in case()) {
        let (plan, tree, out) = run_case(&c);
        for (k, line) in out.lines.iter().enumerate() {
            prop_assert_eq!(line.id.get(), i64::try_from(k).unwrap() + 1);
            prop_assert!(tree.index_of(line.member).is_some());
            prop_assert!(line.amount.minor() > 0);
            if let Some(order) = line.source.order {
                let o = c.orders.iter().find(|o| o.id == order).unwrap();
                prop_assert!(o.status.counts_for_volume());
                prop_assert_eq!(line.source.member, Some(o.buyer));
            }
            if line.kind == EarningsKind::Unilevel {
                let level = line.source.level.unwrap();
                let rank = out.member(line.member).unwrap().rank;
                prop_assert!(level <= plan.rank(rank).unwrap().unilevel_depth);
                prop_assert_eq!(line.source.rate, plan.unilevel_rate(level));
                prop_assert!(out.member(line.member).unwrap().active);
            }
        }
    }

    #[test]
    fn a_refund_after_close_negates_the_orders_lines(c in case(), pick in 0usize..25, part in 1i64..100) {
        let (_, _, out) = run_case(&c);
        prop_assume!(!c.orders.is_empty());
        let order = &c.orders[pick % c.orders.len()];
        let originals: Vec<&EarningsLine> = out.lines.iter().filter(|l| l.source.order == Some(order.id)).collect();
        let original_sum: i64 = originals.iter().map(|l| l.amount.minor()).sum();
        let dec = period("2026-12");
        let full = correct_after_close(&out.lines, order.id, Correction::Refund, dec, EarningsLineId::new(900)).unwrap();
        prop_assert_eq!(full.iter().map(|c| c.line.amount.minor()).sum::<i64>(), -original_sum);
        prop_assert_eq!(full.len(), originals.len());
        for corr in &full {
            let orig = out.lines.iter().find(|l| l.id == corr.reverses).unwrap();
            prop_assert_eq!(corr.line.kind, EarningsKind::Clawback);
            prop_assert_eq!(corr.line.period, dec);
            prop_assert_eq!(corr.line.member, orig.member);
            prop_assert_eq!(&corr.line.source, &orig.source);
        }
        // Refunding the rest after a partial refund still nets the order to zero.
        prop_assume!(order.amount.minor() > 0);
        let refunded = Money::new(order.amount.minor() * part / 100, order.amount.currency());
        prop_assume!(refunded.minor() > 0);
        let partial = Correction::PartialRefund { refunded, order_amount: order.amount };
        let adj = correct_after_close(&out.lines, order.id, partial, dec, EarningsLineId::new(900)).unwrap();
        for a in &adj {
            let orig = out.lines.iter().find(|l| l.id == a.reverses).unwrap();
            prop_assert!(a.line.amount.minor() < 0 && -a.line.amount.minor() <= orig.amount.minor());
        }
        let mut issued: Vec<EarningsLine> = out.lines.clone();
        issued.extend(adj.iter().map(|a| a.line.clone()));
        let jan = period("2027-01");
        let rest = correct_after_close(&issued, order.id, Correction::Refund, jan, EarningsLineId::new(2_000)).unwrap();
        let net: i64 = issued.iter().filter(|l| l.source.order == Some(order.id)).map(|l| l.amount.minor()).sum::<i64>()
            + rest.iter().map(|c| c.line.amount.minor()).sum::<i64>();
        prop_assert_eq!(net, 0);
    }
}
