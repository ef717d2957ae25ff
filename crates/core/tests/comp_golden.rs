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

/// Demo plan (USD) with orders in EUR, JPY (no decimals) and GBP, converted at the plan's
/// rates (EUR 1.085, JPY 0.006667, GBP 1.265) to whole cents, half to even, before any
/// line is computed.
///
/// ```text
/// 1 Ana (USD) ── 2 Ben (EUR) ── 3 Cal (JPY, EUR, GBP; joined 2026-11)
/// ```
#[test]
fn demo_plan_converts_orders_at_its_fixed_rates() {
    let was_bronze =
        |id, sponsor| with(member(id, sponsor), |m| m.highest_rank = RankLevel::new(1));
    let members = vec![
        was_bronze(1, None),
        was_bronze(2, Some(1)),
        with(member(3, Some(2)), |m| m.joined = period("2026-11")),
    ];
    let jpy = Currency::JPY;
    let orders = [
        order(301, 1, 100, 10_000, USD),
        // EUR 100.00 × 1.085 = USD 108.50.
        order(302, 2, 100, 10_000, EUR),
        // JPY 5,000 × 0.006667 = USD 33.335: a tie, to the even 33.34.
        order(303, 3, 100, 5_000, jpy),
        // EUR 1.00 × 1.085 = USD 1.085: a tie, to the even 1.08.
        order(304, 3, 0, 100, EUR),
        // GBP 10.00 × 1.265 = USD 12.65.
        order(305, 3, 0, 1_000, Currency::GBP),
    ];
    let (_, out) = run(&demo(), members, &orders);
    // Volumes are untouched by conversion: PV 100 each, GV 300 / 200 / 100, all Bronze.
    check_members(
        &out,
        &[(1, 100, 300, 1), (2, 100, 200, 1), (3, 100, 100, 1)],
    );

    let eur = "Unilevel L1 (EUR at 1.085)";
    check_lines(
        &out,
        &[
            (1, Unilevel, eur, Some(302), 542), // 5% × 108.50 = 5.425 → 5.42 (tie)
            (1, Unilevel, "Unilevel L2 (JPY at 0.006667)", Some(303), 133), // 4% × 33.34 = 1.3336
            (1, Unilevel, "Unilevel L2 (EUR at 1.085)", Some(304), 4), // 4% × 1.08 = 0.0432
            (1, Unilevel, "Unilevel L2 (GBP at 1.265)", Some(305), 51), // 4% × 12.65 = 0.506
            (2, FastStart, "Fast Start (JPY at 0.006667)", Some(303), 667), // 20% × 33.34 = 6.668
            (2, FastStart, "Fast Start (EUR at 1.085)", Some(304), 22), // 20% × 1.08 = 0.216
            (2, FastStart, "Fast Start (GBP at 1.265)", Some(305), 253), // 20% × 12.65
            (2, Unilevel, "Unilevel L1 (JPY at 0.006667)", Some(303), 167), // 5% × 33.34 = 1.667
            (2, Unilevel, eur, Some(304), 5),   // 5% × 1.08 = 0.054
            (2, Unilevel, "Unilevel L1 (GBP at 1.265)", Some(305), 63), // 5% × 12.65 = 0.6325
            (3, RankAdvancement, "Rank advancement: Bronze", None, 5_000),
        ],
    );
    assert!(out.lines.iter().all(|l| l.amount.currency() == USD));
    // The rate of a converted line is still the plan's rate, applied to the converted base.
    let first = &out.lines[0];
    assert_eq!(first.source.rate, Some(canopy_core::BasisPoints::new(500)));
}

/// Compact plan (EUR) with orders in USD and JPY (no decimals), converted at the plan's
/// rates (USD 0.92, JPY 0.0062) to whole cents, half to even; all three are Associates
/// (paid two levels: 10 %, 5 %).
///
/// ```text
/// 10 Root ── 11 Zoe (USD) ── 12 Yan (JPY, JPY, USD)
/// ```
#[test]
fn compact_plan_converts_orders_at_its_fixed_rates() {
    let members = vec![member(10, None), member(11, Some(10)), member(12, Some(11))];
    let jpy = Currency::JPY;
    let orders = [
        order(401, 11, 200, 20_000, USD), // USD 200.00 × 0.92 = EUR 184.00
        order(402, 12, 10, 1_025, jpy),   // JPY 1,025 × 0.0062 = EUR 6.355 → 6.36 (tie, even)
        order(403, 12, 30, 3_075, jpy),   // JPY 3,075 × 0.0062 = EUR 19.065 → 19.06 (tie, even)
        order(404, 12, 10, 1_234, USD),   // USD 12.34 × 0.92 = EUR 11.3528 → 11.35
    ];
    let (_, out) = run(&compact(), members, &orders);
    // Zoe: PV 200, GV 250 < Manager's 500 → Associate; Yan PV 50, GV 50.
    check_members(&out, &[(10, 0, 250, 0), (11, 200, 250, 0), (12, 50, 50, 0)]);
    let (usd1, usd2) = ("Unilevel L1 (USD at 0.92)", "Unilevel L2 (USD at 0.92)");
    let (jpy1, jpy2) = ("Unilevel L1 (JPY at 0.0062)", "Unilevel L2 (JPY at 0.0062)");
    check_lines(
        &out,
        &[
            (10, Unilevel, usd1, Some(401), 1_840), // 10% × 184.00
            (10, Unilevel, jpy2, Some(402), 32),    // 5% × 6.36 = 0.318
            (10, Unilevel, jpy2, Some(403), 95),    // 5% × 19.06 = 0.953
            (10, Unilevel, usd2, Some(404), 57),    // 5% × 11.35 = 0.5675
            (11, Unilevel, jpy1, Some(402), 64),    // 10% × 6.36 = 0.636
            (11, Unilevel, jpy1, Some(403), 191),   // 10% × 19.06 = 1.906
            (11, Unilevel, usd1, Some(404), 114),   // 10% × 11.35 = 1.135 → 1.14 (tie, even)
        ],
    );
    assert_eq!(
        EarningsLine::total(EUR, &out.lines).unwrap(),
        Money::new(2_393, EUR)
    );
}
