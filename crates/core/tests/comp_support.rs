//! Shared builders for the compensation-engine tests (included by each `comp_*` test with
//! `#[path]`; compiled alone it is an empty test crate).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use canopy_core::comp::{PeriodOrder, Plan, RunOutput, Tree, TreeMember, run_period};
use canopy_core::{
    Currency, EarningsKind, EarningsLineId, MemberId, MemberStatus, Money, OrderId, OrderStatus,
    Period, Pv, RankLevel,
};

pub const DEMO: &str = include_str!("../plans/demo.toml");
pub const COMPACT: &str = include_str!("../plans/compact.toml");

pub fn demo() -> Plan {
    Plan::from_toml(DEMO).expect("demo plan is valid")
}

pub fn compact() -> Plan {
    Plan::from_toml(COMPACT).expect("compact plan is valid")
}

pub fn period(s: &str) -> Period {
    Period::parse(s).unwrap()
}

/// A member who joined long ago, Active, with no rank history beyond `highest`.
pub fn member(id: i64, sponsor: Option<i64>) -> TreeMember {
    TreeMember {
        id: MemberId::new(id),
        sponsor: sponsor.map(MemberId::new),
        status: MemberStatus::Active,
        joined: period("2026-01"),
        highest_rank: RankLevel::new(0),
    }
}

pub fn with(mut m: TreeMember, f: impl FnOnce(&mut TreeMember)) -> TreeMember {
    f(&mut m);
    m
}

/// An order of `points` PV and `minor` commissionable minor units.
pub fn order(id: i64, buyer: i64, points: i64, minor: i64, currency: Currency) -> PeriodOrder {
    PeriodOrder {
        id: OrderId::new(id),
        buyer: MemberId::new(buyer),
        pv: Pv::from_points(points).unwrap(),
        amount: Money::new(minor, currency),
        status: OrderStatus::Paid,
    }
}

pub fn refunded(mut o: PeriodOrder) -> PeriodOrder {
    o.status = OrderStatus::Refunded;
    o
}

pub fn run(plan: &Plan, members: Vec<TreeMember>, orders: &[PeriodOrder]) -> (Tree, RunOutput) {
    let tree = Tree::new(members).unwrap();
    let out = run_period(
        plan,
        &tree,
        period("2026-11"),
        orders,
        EarningsLineId::new(1),
    )
    .unwrap();
    (tree, out)
}

/// A line as a golden table row: (earner, kind, rule, order, minor units).
pub type Row = (i64, EarningsKind, &'static str, Option<i64>, i64);

pub fn rows(out: &RunOutput) -> Vec<(i64, EarningsKind, String, Option<i64>, i64)> {
    out.lines
        .iter()
        .map(|l| {
            (
                l.member.get(),
                l.kind,
                l.source.rule.clone(),
                l.source.order.map(OrderId::get),
                l.amount.minor(),
            )
        })
        .collect()
}

/// Asserts the run's lines are exactly `expected`, in order.
pub fn check_lines(out: &RunOutput, expected: &[Row]) {
    let expected: Vec<_> = expected
        .iter()
        .map(|&(m, k, r, o, a)| (m, k, r.to_owned(), o, a))
        .collect();
    assert_eq!(rows(out), expected);
}

/// (member, PV points, GV points, rank level) for each member listed.
pub fn check_members(out: &RunOutput, expected: &[(i64, i64, i64, u16)]) {
    for &(id, pv, gv, rank) in expected {
        let r = out.member(MemberId::new(id)).unwrap();
        assert_eq!(
            (r.pv.hundredths(), r.gv.hundredths(), r.rank.get()),
            (pv * 100, gv * 100, rank),
            "member {id}"
        );
    }
}

/// Demo plan (USD; active = status Active and PV ≥ 50; Bronze: PV 100, depth 2; Silver:
/// + GV 1000 with ≤ 50 % from one leg, depth 3; Gold: GV 3000, 2 legs at Bronze).
///
/// ```text
/// 1 Ana ─┬─ 2 Ben ─┬─ 4 Dan (PV 900)
///        │         └─ 5 Eve (no orders: inactive) ── 6 Fay (PV 60) ── 7 Gus (joined 2026-11)
///        └─ 3 Cal ─┬─ 8 Hal
///                  └─ 9 Ivy (one order refunded)
/// ```
pub fn demo_case() -> (Vec<TreeMember>, Vec<PeriodOrder>) {
    let was = |id, sponsor, level| {
        with(member(id, sponsor), |m| {
            m.highest_rank = RankLevel::new(level)
        })
    };
    let members = vec![
        was(1, None, 1),
        was(2, Some(1), 1),
        was(3, Some(1), 1),
        was(4, Some(2), 2), // was Silver once: no bonus for Bronze now
        was(5, Some(2), 1),
        was(6, Some(5), 1),
        with(member(7, Some(6)), |m| m.joined = period("2026-11")),
        was(8, Some(3), 1),
        was(9, Some(3), 1),
    ];
    let orders = vec![
        order(101, 1, 100, 10_000, Currency::USD),
        order(102, 2, 100, 10_000, Currency::USD),
        order(103, 3, 100, 10_000, Currency::USD),
        order(104, 4, 900, 90_000, Currency::USD),
        order(106, 6, 60, 6_050, Currency::USD),
        order(107, 7, 100, 10_000, Currency::USD),
        order(108, 8, 200, 20_000, Currency::USD),
        order(109, 9, 300, 30_000, Currency::USD),
        refunded(order(110, 9, 100, 10_000, Currency::USD)),
    ];
    (members, orders)
}
