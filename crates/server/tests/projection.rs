//! The open period's projection: the current period is run again when the change log moved
//! since the last look, and not otherwise; a closed period is never run again.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::num::NonZeroU32;

use canopy_core::{
    CountryCode, Currency, MemberId, MemberNumber, MemberStatus, Money, Order, OrderId, OrderLine,
    OrderStatus, Period, PersonName, Pv, RankLevel, Sku,
};
use canopy_server::commissions::{self, CommissionPlan};
use canopy_server::projection::project;
use canopy_server::storage::{MemberRecord, NewMember};
use common::Api;

fn member(id: i64, sponsor: Option<i64>) -> NewMember {
    NewMember {
        member: MemberRecord {
            id: MemberId::new(id),
            number: MemberNumber::parse(&(30_000_000 + id).to_string()).unwrap(),
            sponsor: sponsor.map(MemberId::new),
            placement: None,
            rank: RankLevel::new(0),
            status: MemberStatus::Active,
            joined_on: time::macros::date!(2025 - 03 - 01),
            country: CountryCode::parse("US").unwrap(),
            display_name: PersonName::parse(["Ada Top", "Bea Second"][id as usize - 1]).unwrap(),
        },
        personal: None,
    }
}

/// `buyer`'s order `id`, this month (the clock's: January 2027), 150 PV for $100.00.
fn order(id: i64, buyer: i64) -> Order {
    Order {
        id: OrderId::new(id),
        buyer: MemberId::new(buyer),
        customer: None,
        placed_at: time::macros::datetime!(2027-01-10 10:00 UTC),
        status: OrderStatus::Paid,
        currency: Currency::USD,
        lines: vec![OrderLine {
            sku: Sku::parse("KIT-1").unwrap(),
            quantity: NonZeroU32::new(1).unwrap(),
            unit_price: Money::new(10_000, Currency::USD),
            unit_pv: Pv::from_hundredths(15_000),
        }],
    }
}

#[tokio::test]
async fn the_open_period_is_run_again_only_when_something_moved() {
    let api = Api::start().await;
    let storage = api.state.storage.clone();
    storage
        .insert_members(vec![member(1, None), member(2, Some(1))])
        .await
        .unwrap();
    // Member 1 orders too, to be active and so earn on member 2's orders.
    storage
        .insert_orders(vec![order(9, 1), order(10, 2), order(11, 2)])
        .await
        .unwrap();
    let plan = CommissionPlan::bundled().unwrap();
    let january = Period::parse("2027-01").unwrap();
    let last_run = || async {
        storage
            .commission_period(january)
            .await
            .unwrap()
            .and_then(|p| p.last_run)
            .map(|r| r.id)
    };

    // Nothing moved since the last look: no run.
    let seen = storage.latest_change().await.unwrap();
    assert_eq!(project(&api.state, &plan, seen).await.unwrap(), None);
    assert_eq!(last_run().await, None);

    // An order shipped: the period is run, and member 1 earns on it.
    storage
        .set_order_status(OrderId::new(10), OrderStatus::Shipped, api.state.now())
        .await
        .unwrap();
    let seen = project(&api.state, &plan, seen)
        .await
        .unwrap()
        .expect("the change log moved");
    let first = last_run().await.expect("a run of January");
    let lines = storage
        .earnings_of(MemberId::new(1), january)
        .await
        .unwrap();
    assert!(!lines.is_empty(), "the sponsor earns on the orders");
    assert_eq!(project(&api.state, &plan, seen).await.unwrap(), None);
    assert_eq!(last_run().await, Some(first), "nothing moved, no new run");

    // A refund moves the log again: a new run, without the refunded order's lines.
    storage
        .set_order_status(OrderId::new(11), OrderStatus::Refunded, api.state.now())
        .await
        .unwrap();
    let seen = project(&api.state, &plan, seen).await.unwrap().unwrap();
    let second = last_run().await.unwrap();
    assert_ne!(second, first);
    let after = storage
        .earnings_of(MemberId::new(1), january)
        .await
        .unwrap();
    assert!(
        after
            .iter()
            .all(|l| l.line.source.order != Some(OrderId::new(11)))
    );
    assert!(after.len() < lines.len());

    // Once closed, the period is never run again by the projection.
    commissions::close(&*storage, january, None, api.state.now())
        .await
        .unwrap();
    storage
        .set_order_status(OrderId::new(10), OrderStatus::Refunded, api.state.now())
        .await
        .unwrap();
    assert!(project(&api.state, &plan, seen).await.unwrap().is_some());
    assert_eq!(last_run().await, Some(second));
}
