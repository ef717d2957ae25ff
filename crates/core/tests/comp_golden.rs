//! Hand-computed golden runs on small trees, one per plan: compression, the max-leg rule,
//! ranks unlocking levels, refunds, fast start and rank advancement, with the arithmetic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "comp_support.rs"]
mod support;

use canopy_core::comp::{Correction, correct_after_close};
use canopy_core::{
    Currency, EarningsKind::*, EarningsLine, EarningsLineId, MemberId, MemberStatus, Money,
    OrderId, RankLevel,
};
use support::*;

const USD: Currency = Currency::USD;
const EUR: Currency = Currency::EUR;

#[test]
fn demo_plan_golden_run() {
    let (members, orders) = demo_case();
    let (_, out) = run(&demo(), members, &orders);

    // PV; GV bottom-up: Gus 100, Fay 60+100=160, Eve 0+160=160, Dan 900,
    // Ben 100+900+160=1160, Hal 200, Ivy 300 (order 110 refunded), Cal 100+200+300=600,
    // Ana 100+1160+600=1860.
    // Ranks: Ben has GV 1160 ≥ 1000 but Silver caps a leg at 50% × 1000 = 500, so Dan's 900
    // counts 500: 100 + 500 + 160 = 760 < 1000 → Bronze. Ana: 100 + min(1160,500) +
    // min(600,500) = 1100 ≥ 1000 → Silver; Gold needs 3000 → stays Silver. Fay PV 60 < 100
    // → Member; Eve inactive → Member; Dan 900 with no legs < 1000 → Bronze.
    check_members(
        &out,
        &[
            (1, 100, 1860, 2),
            (2, 100, 1160, 1),
            (3, 100, 600, 1),
            (4, 900, 900, 1),
            (5, 0, 160, 0),
            (6, 60, 160, 0),
            (7, 100, 100, 1),
            (8, 200, 200, 1),
            (9, 300, 300, 1),
        ],
    );
    assert!(!out.member(MemberId::new(5)).unwrap().active);
    // Dan drops to Bronze but keeps Silver as his highest ever.
    assert_eq!(
        out.member(MemberId::new(4)).unwrap().highest_rank,
        RankLevel::new(2)
    );

    // Depths: Ana (Silver) 3, Ben/Cal/Dan (Bronze) 2, Fay (Member) 1. Eve is skipped.
    check_lines(
        &out,
        &[
            (1, Unilevel, "Unilevel L1", Some(102), 500), // 5% × 100.00
            (1, Unilevel, "Unilevel L1", Some(103), 500), // 5% × 100.00
            (1, Unilevel, "Unilevel L2", Some(104), 3_600), // 4% × 900.00
            (1, Unilevel, "Unilevel L2", Some(106), 242), // 4% × 60.50 = 2.42
            (1, Unilevel, "Unilevel L3", Some(107), 300), // Gus→Fay L1, Eve skipped, Ben L2, Ana L3: 3% × 100
            (1, Unilevel, "Unilevel L2", Some(108), 800), // 4% × 200.00
            (1, Unilevel, "Unilevel L2", Some(109), 1_200), // 4% × 300.00
            (1, RankAdvancement, "Rank advancement: Silver", None, 10_000), // first Silver
            (2, Unilevel, "Unilevel L1", Some(104), 4_500), // 5% × 900.00
            (2, Unilevel, "Unilevel L1", Some(106), 302), // Fay→(Eve skipped)→Ben L1: 5% × 60.50 = 3.025 → 3.02 (half to even)
            (2, Unilevel, "Unilevel L2", Some(107), 400), // 4% × 100.00
            (3, Unilevel, "Unilevel L1", Some(108), 1_000),
            (3, Unilevel, "Unilevel L1", Some(109), 1_500),
            (6, FastStart, "Fast Start", Some(107), 2_000), // 20% × 100.00, Gus joined this period
            (6, Unilevel, "Unilevel L1", Some(107), 500),   // Member depth 1: L1 only
            (7, RankAdvancement, "Rank advancement: Bronze", None, 5_000),
        ],
    );
    let totals = out.totals_by_kind().unwrap();
    // Unilevel 7142 (Ana) + 5202 (Ben) + 2500 (Cal) + 500 (Fay) = 15344.
    assert_eq!(
        totals,
        vec![
            (FastStart, Money::new(2_000, USD)),
            (Unilevel, Money::new(15_344, USD)),
            (RankAdvancement, Money::new(15_000, USD)),
        ]
    );
    assert_eq!(
        EarningsLine::total(USD, &out.lines).unwrap(),
        Money::new(32_344, USD)
    );
    let ids: Vec<i64> = out.lines.iter().map(|l| l.id.get()).collect();
    assert_eq!(ids, (1..=16).collect::<Vec<_>>());
}

#[test]
fn a_refund_in_the_period_reverses_its_volume_and_commission() {
    let (members, mut orders) = demo_case();
    let (_, refunded_run) = run(&demo(), members.clone(), &orders);
    orders[8].status = canopy_core::OrderStatus::Paid; // order 110 counted after all
    let (_, counted_run) = run(&demo(), members, &orders);
    for (id, delta) in [(9, 100), (3, 100), (1, 100)] {
        let a = counted_run
            .member(MemberId::new(id))
            .unwrap()
            .gv
            .hundredths();
        let b = refunded_run
            .member(MemberId::new(id))
            .unwrap()
            .gv
            .hundredths();
        assert_eq!(a - b, delta * 100, "GV of {id}");
    }
    let of_110 = |out: &canopy_core::comp::RunOutput| {
        out.lines
            .iter()
            .filter(|l| l.source.order == Some(OrderId::new(110)))
            .map(|l| (l.member.get(), l.amount.minor()))
            .collect::<Vec<_>>()
    };
    // Counted: Cal L1 5% × 100 = 5.00, Ana L2 4% × 100 = 4.00; refunded: nothing.
    assert_eq!(of_110(&counted_run), vec![(1, 400), (3, 500)]);
    assert_eq!(of_110(&refunded_run), vec![]);
}

#[test]
fn refund_after_close_claws_back_each_line_in_the_new_period() {
    let (members, orders) = demo_case();
    let (_, nov) = run(&demo(), members, &orders);
    let dec = period("2026-12");
    let order = OrderId::new(107);
    let full = correct_after_close(
        &nov.lines,
        order,
        Correction::Refund,
        dec,
        EarningsLineId::new(500),
    )
    .unwrap();
    // Order 107 paid Ana 3.00 (L3), Ben 4.00 (L2), Fay 20.00 (fast start) and 5.00 (L1).
    let got: Vec<_> = full
        .iter()
        .map(|c| {
            (
                c.line.id.get(),
                c.line.member.get(),
                c.line.kind,
                c.line.amount.minor(),
                c.line.period,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (500, 1, Clawback, -300, dec),
            (501, 2, Clawback, -400, dec),
            (502, 6, Clawback, -2_000, dec),
            (503, 6, Clawback, -500, dec),
        ]
    );
    for c in &full {
        let original = nov.lines.iter().find(|l| l.id == c.reverses).unwrap();
        assert_eq!(original.source, c.line.source);
        assert_eq!(c.original_period, period("2026-11"));
    }

    // 25.00 of 100.00 refunded: each line × 1/4, negated.
    let partial = Correction::PartialRefund {
        refunded: Money::new(2_500, USD),
        order_amount: Money::new(10_000, USD),
    };
    let part =
        correct_after_close(&nov.lines, order, partial, dec, EarningsLineId::new(1)).unwrap();
    let got: Vec<_> = part
        .iter()
        .map(|c| (c.line.kind, c.line.amount.minor()))
        .collect();
    assert_eq!(
        got,
        vec![
            (Adjustment, -75),
            (Adjustment, -100),
            (Adjustment, -500),
            (Adjustment, -125)
        ]
    );

    // A closed period only: correcting November in November is refused.
    let err = correct_after_close(
        &nov.lines,
        order,
        Correction::Refund,
        period("2026-11"),
        EarningsLineId::new(1),
    )
    .unwrap_err();
    assert!(err.to_string().ends_with("is from 2026-11, which is not before 2026-11: rerun an open period instead of correcting it"), "{err}");
}

/// Compact plan (EUR; active = status Active; Associate depth 2; Manager: PV 50, GV 500 with
/// ≤ 60 % (300) from one leg, depth 3; Director: GV 2000 with ≤ 30 % (600) from one leg,
/// 1 leg at Manager, depth 4; rates 10 / 5 / 5 / 2.5 %; no fast start).
///
/// ```text
/// 10 Root (PV 10) ── 11 Zoe (PV 200) ─┬─ 12 Yan (PV 60, one order returned)
///                                     │    └─ 13 Xia (Suspended) ── 14 Wes (PV 50)
///                                     │         └─ 15 Val (PV 800, new) ── 19 Quinn (PV 100, new)
///                                     ├─ 16 Uma (PV 1500) ── 17 Ted (PV 300)
///                                     └─ 18 Sam (PV 700)
/// ```
#[test]
fn compact_plan_golden_run() {
    let new = |id, sponsor| with(member(id, Some(sponsor)), |m| m.joined = period("2026-11"));
    let members = vec![
        member(10, None),
        member(11, Some(10)),
        member(12, Some(11)),
        with(member(13, Some(12)), |m| m.status = MemberStatus::Suspended),
        member(14, Some(13)),
        new(15, 14),
        with(member(16, Some(11)), |m| m.highest_rank = RankLevel::new(2)),
        member(17, Some(16)),
        member(18, Some(11)),
        new(19, 15),
    ];
    let orders = [
        order(201, 11, 200, 20_000, EUR),
        order(202, 12, 60, 6_000, EUR),
        order(203, 14, 50, 5_000, EUR),
        order(204, 15, 800, 80_000, EUR),
        order(205, 16, 1_500, 150_000, EUR),
        order(206, 17, 300, 30_000, EUR),
        order(207, 10, 10, 1_000, EUR),
        {
            let mut o = order(208, 12, 100, 10_000, EUR);
            o.status = canopy_core::OrderStatus::Returned;
            o
        },
        order(209, 18, 700, 70_000, EUR),
        order(210, 19, 100, 10_000, EUR),
    ];
    let (_, out) = run(&compact(), members, &orders);

    // GV: Quinn 100, Val 900, Wes 950, Xia 950, Yan 60+950=1010 (order 208 returned),
    // Ted 300, Uma 1800, Sam 700, Zoe 200+1010+1800+700=3710, Root 3720.
    // Wes: Manager counts Val's 900 as 300 → 50+300 = 350 < 500 → Associate (max-leg rule).
    // Yan: 60 + min(950,300) = 360 < 500 → Associate. Xia: PV 0 < 50 → Associate.
    // Zoe: Director counts 200 + 600 + 600 + 600 = 2000 ≥ 2000, legs at Manager: 3 → Director;
    // Executive caps legs at 1500: 200+1010+1500+700 = 3410 < 5000.
    // Root: PV 10 < 50 → Associate.
    check_members(
        &out,
        &[
            (10, 10, 3720, 0),
            (11, 200, 3710, 2),
            (12, 60, 1010, 0),
            (13, 0, 950, 0),
            (14, 50, 950, 0),
            (15, 800, 900, 1),
            (16, 1_500, 1_800, 1),
            (17, 300, 300, 0),
            (18, 700, 700, 1),
            (19, 100, 100, 0),
        ],
    );
    // Xia (suspended) is skipped; Associates are paid L1–L2, Managers L1–L3, Zoe L1–L4.
    // Val and Quinn joined this period, but this plan has no fast start.
    check_lines(
        &out,
        &[
            (10, Unilevel, "Unilevel L1", Some(201), 2_000), // 10% × 200
            (10, Unilevel, "Unilevel L2", Some(202), 300),   // 5% × 60
            (10, Unilevel, "Unilevel L2", Some(205), 7_500), // 5% × 1500
            (10, Unilevel, "Unilevel L2", Some(209), 3_500), // 5% × 700; Root is L3+ elsewhere: unpaid
            (11, Unilevel, "Unilevel L1", Some(202), 600),
            (11, Unilevel, "Unilevel L2", Some(203), 250), // Wes→(Xia skipped)→Yan L1→Zoe L2
            (11, Unilevel, "Unilevel L3", Some(204), 4_000), // Val→Wes L1→Yan L2→Zoe L3: 5% × 800
            (11, Unilevel, "Unilevel L1", Some(205), 15_000),
            (11, Unilevel, "Unilevel L2", Some(206), 1_500),
            (11, Unilevel, "Unilevel L1", Some(209), 7_000),
            (11, Unilevel, "Unilevel L4", Some(210), 250), // Quinn→Val→Wes→Yan→Zoe L4: 2.5% × 100
            (
                11,
                RankAdvancement,
                "Rank advancement: Director",
                None,
                30_000,
            ),
            (12, Unilevel, "Unilevel L1", Some(203), 500),
            (12, Unilevel, "Unilevel L2", Some(204), 4_000), // Yan is L3 of order 210: depth 2, unpaid
            (14, Unilevel, "Unilevel L1", Some(204), 8_000),
            (14, Unilevel, "Unilevel L2", Some(210), 500),
            (15, Unilevel, "Unilevel L1", Some(210), 1_000),
            (16, Unilevel, "Unilevel L1", Some(206), 3_000),
        ],
    );
    // Uma was Director before: back at Manager, no bonus, highest stays Director.
    assert_eq!(
        out.member(MemberId::new(16)).unwrap().highest_rank,
        RankLevel::new(2)
    );
}
