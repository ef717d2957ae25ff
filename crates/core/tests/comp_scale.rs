//! Shape-of-input sanity: a 100,000-deep sponsor chain (no recursion anywhere) and, ignored
//! by default, a 1,000,000-member company (`cargo test --release -- --ignored`; timing it
//! is a benchmark's job, this only proves it runs).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "comp_support.rs"]
mod support;

use canopy_core::comp::TreeMember;
use canopy_core::{Currency, MemberId};
use support::*;

#[test]
fn a_very_deep_chain_runs_without_recursion() {
    let n = 100_000;
    let members: Vec<TreeMember> = (1..=n).map(|i| member(i, (i > 1).then(|| i - 1))).collect();
    let orders: Vec<_> = (1..=n)
        .step_by(1_000)
        .map(|i| order(i, i, 100, 10_000, Currency::USD))
        .collect();
    let (_, out) = run(&demo(), members, &orders);
    // Every member at or above an order's buyer carries its PV: member 1 has them all.
    let root = out.member(MemberId::new(1)).unwrap();
    assert_eq!(root.gv.hundredths(), 100 * 100 * 100);
    assert!(!out.lines.is_empty());
}

#[test]
#[ignore = "a million members: run in release with --ignored"]
fn one_million_members() {
    let n: i64 = 1_000_000;
    // A deterministic, bushy tree: each member's sponsor is an earlier member chosen by a
    // linear congruential step, biased towards recent members so that lines get deep.
    let mut x: u64 = 0x9E37_79B9;
    let mut next = || {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        x >> 33
    };
    let members: Vec<TreeMember> = (1..=n)
        .map(|i| {
            let back = i64::try_from(next() % 50).unwrap() + 1;
            member(i, (i > 1).then(|| (i - back).max(1)))
        })
        .collect();
    let orders: Vec<_> = (1..=n * 2)
        .map(|k| {
            let buyer = i64::try_from(next() % 1_000_000).unwrap() + 1;
            order(k, buyer, 50, 5_000, Currency::USD)
        })
        .collect();
    let (_, out) = run(&demo(), members, &orders);
    assert_eq!(out.members.len(), 1_000_000);
    assert!(out.lines.len() > 2_000_000);
}
