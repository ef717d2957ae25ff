//! Explanations and projections: why a member holds a rank, what the next rank still needs,
//! and the sentence shown for each earnings line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "comp_support.rs"]
mod support;

use canopy_core::comp::{
    Leg, MemberFacts, RequirementKind, describe_line, explain_rank, progress_in_run,
    progress_to_next, project_open_period,
};
use canopy_core::{BasisPoints, Gv, MemberId, Pv, RankLevel};
use support::*;

fn gv(points: i64) -> Gv {
    Gv::from_points(points).unwrap()
}

/// (summary, current, required, fraction in bps, met) per requirement.
fn summaries(check: &canopy_core::comp::RankCheck) -> Vec<(String, i64, i64, u32, bool)> {
    check
        .requirements
        .iter()
        .map(|r| {
            (
                r.summary.clone(),
                r.current,
                r.required,
                r.fraction.get(),
                r.met,
            )
        })
        .collect()
}

#[test]
fn explains_the_max_leg_rule_that_keeps_ben_at_bronze() {
    let plan = demo();
    let (members, orders) = demo_case();
    let (tree, out) = run(&plan, members, &orders);
    let why = explain_rank(&plan, &tree, &out, MemberId::new(2)).unwrap();
    assert_eq!(why.rank.name, "Bronze");
    let held = why.held.unwrap();
    assert!(held.met);
    assert_eq!(
        summaries(&held),
        vec![
            ("met".to_owned(), 1, 1, 10_000, true),
            ("met".to_owned(), 10_000, 10_000, 10_000, true)
        ]
    );
    let next = why.next.unwrap();
    assert_eq!(next.rank.name, "Silver");
    assert!(!next.met);
    // Counted GV 100 + min(900, 500) + 160 = 760 of 1000: 76.00 %, 240 missing.
    assert_eq!(
        summaries(&next)[2],
        (
            "240.00 GV more (at most 500.00 GV counted from any one leg)".to_owned(),
            76_000,
            100_000,
            7_600,
            false
        )
    );
    assert_eq!(
        next.requirements[2].requirement,
        RequirementKind::GroupVolume {
            leg_cap: Some(gv(500))
        }
    );
    let legs: Vec<_> = next
        .legs
        .iter()
        .map(|l| {
            (
                l.member.get(),
                l.gv.hundredths(),
                l.counted_gv.hundredths(),
                l.capped,
            )
        })
        .collect();
    assert_eq!(
        legs,
        vec![(4, 90_000, 50_000, true), (5, 16_000, 16_000, false)]
    );
    // The run's compact reason agrees with the explanation.
    let blocked = out.member(MemberId::new(2)).unwrap().blocked.unwrap();
    assert_eq!(blocked.rank, RankLevel::new(2));
}

#[test]
fn the_entry_rank_needs_no_reason_and_the_top_has_no_next() {
    let plan = demo();
    let (members, orders) = demo_case();
    let (tree, out) = run(&plan, members, &orders);
    let fay = explain_rank(&plan, &tree, &out, MemberId::new(6)).unwrap();
    assert_eq!(
        (fay.rank.name.as_str(), fay.held.is_none()),
        ("Member", true)
    );
    // Fay: 60 PV of Bronze's 100.
    let progress = progress_in_run(&plan, &tree, &out, MemberId::new(6)).unwrap();
    assert_eq!(
        summaries(&progress)[1],
        ("40.00 PV more".to_owned(), 6_000, 10_000, 6_000, false)
    );
    assert!(explain_rank(&plan, &tree, &out, MemberId::new(99)).is_none());
    let facts = MemberFacts {
        pv: Pv::ZERO,
        gv: Gv::ZERO,
        active: false,
        legs: &[],
    };
    // Diamond's next is Crown, the top of the ladder, which has no next.
    let crown = progress_to_next(&plan, RankLevel::new(5), &facts).unwrap();
    assert_eq!(crown.rank.name, "Crown");
    assert_eq!(
        summaries(&crown),
        vec![
            (
                "be active: status Active and at least 50.00 PV".to_owned(),
                0,
                1,
                0,
                false
            ),
            ("100.00 PV more".to_owned(), 0, 10_000, 0, false),
            // 35 % of 50,000 from any one leg.
            (
                "50,000.00 GV more (at most 17,500.00 GV counted from any one leg)".to_owned(),
                0,
                5_000_000,
                0,
                false
            ),
            ("3 more legs at Platinum".to_owned(), 0, 3, 0, false),
        ]
    );
    assert!(progress_to_next(&plan, RankLevel::new(6), &facts).is_none());
    assert_eq!(
        plan.ranks().last().map(|r| r.rank.level),
        Some(RankLevel::new(6))
    );
}

#[test]
fn projects_what_a_silver_still_needs_for_gold() {
    // Gold: active, PV 100, GV 3000 with ≤ 1500 from one leg, 2 legs at Bronze.
    let legs = [
        Leg {
            member: MemberId::new(20),
            gv: gv(2_000),
            best_rank: RankLevel::new(1),
        },
        Leg {
            member: MemberId::new(21),
            gv: gv(440),
            best_rank: RankLevel::new(0),
        },
    ];
    let facts = MemberFacts {
        pv: Pv::from_points(60).unwrap(),
        gv: gv(2_500),
        active: true,
        legs: &legs,
    };
    let gold = progress_to_next(&demo(), RankLevel::new(2), &facts).unwrap();
    assert_eq!(gold.rank.name, "Gold");
    assert_eq!(
        summaries(&gold),
        vec![
            ("met".to_owned(), 1, 1, 10_000, true),
            ("40.00 PV more".to_owned(), 6_000, 10_000, 6_000, false),
            // 2500 − (2000 − 1500) = 2000 of 3000: 66.66 % (rounded down), 1000 missing.
            (
                "1,000.00 GV more (at most 1,500.00 GV counted from any one leg)".to_owned(),
                200_000,
                300_000,
                6_666,
                false
            ),
            ("1 more leg at Bronze".to_owned(), 1, 2, 5_000, false),
        ]
    );
    assert_eq!(gold.requirements[1].missing, 4_000);
    // Inactive: the summary says what "active" means in this plan.
    let idle = MemberFacts {
        active: false,
        ..facts
    };
    let check = progress_to_next(&demo(), RankLevel::new(0), &idle).unwrap();
    assert_eq!(
        check.requirements[0].summary,
        "be active: status Active and at least 50.00 PV"
    );
    assert_eq!(check.requirements[0].fraction, BasisPoints::ZERO);
}

#[test]
fn projection_of_the_open_period_is_the_run_over_orders_so_far() {
    let plan = demo();
    let (members, orders) = demo_case();
    let (tree, full) = run(&plan, members, &orders);
    let projected = project_open_period(&plan, &tree, period("2026-11"), &orders).unwrap();
    assert_eq!(projected, full);
}

#[test]
fn every_line_reads_as_a_sentence() {
    let plan = demo();
    let (members, orders) = demo_case();
    let (_, out) = run(&plan, members, &orders);
    let names = |id: MemberId| match id.get() {
        6 => Some("Fay Diaz".to_owned()),
        7 => Some("Gus Obi".to_owned()),
        _ => None,
    };
    let sentences: Vec<String> = out
        .lines_of(MemberId::new(6))
        .iter()
        .chain(out.lines_of(MemberId::new(7)))
        .chain(out.lines_of(MemberId::new(2)).iter().take(1))
        .map(|l| describe_line(l, names))
        .collect();
    assert_eq!(
        sentences,
        vec![
            "20.00% of order #107 by Gus Obi, enrolled by you and in their first period, Fast Start",
            "5.00% of order #107 by Gus Obi (level 1), Unilevel L1",
            "USD 50.00 paid once for reaching a new rank, Rank advancement: Bronze",
            "5.00% of order #104 by member 4 (level 1), Unilevel L1",
        ]
    );
    let clawback = canopy_core::comp::correct_after_close(
        &out.lines,
        canopy_core::OrderId::new(107),
        canopy_core::comp::Correction::Refund,
        period("2026-12"),
        canopy_core::EarningsLineId::new(1),
    )
    .unwrap();
    assert_eq!(
        describe_line(&clawback[0].line, names),
        "Reversal of Unilevel L3 on order #107 by Gus Obi: the order was refunded after its period closed"
    );
}

#[test]
fn a_converted_line_says_at_which_rate() {
    let plan = demo();
    let members = vec![member(1, None), member(2, Some(1))];
    // EUR 80.00 × 1.085 = USD 86.80; Ana's 5% is USD 4.34.
    let orders = [
        order(1, 1, 100, 10_000, canopy_core::Currency::USD),
        order(2, 2, 100, 8_000, canopy_core::Currency::EUR),
    ];
    let (_, out) = run(&plan, members, &orders);
    let line = &out.lines_of(MemberId::new(1))[0];
    assert_eq!(line.amount.to_string(), "USD 4.34");
    assert_eq!(
        describe_line(line, |_| Some("Ben Okafor".to_owned())),
        "5.00% of order #2 by Ben Okafor (level 1), Unilevel L1 (EUR at 1.085)"
    );
}
