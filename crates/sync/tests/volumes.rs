//! Volumes end to end: the real server (the demo company seeded as of today) over real TLS
//! into real SQLCipher caches. After a bootstrap, every member in scope has this period's
//! and the previous one's personal volume as the server's orders add up, the user every
//! period's, and group volumes are the sums over the team; an order that counts, once its
//! buyer changes, reaches the buyer's and their upline's volumes through a delta.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;

use canopy_core::{MemberId, Order, OrderId, OrderLine, OrderStatus, Period, Role};
use canopy_server::storage::{NewOrder, Storage};
use canopy_store::Store;
use canopy_sync::ServerClient;
use common::{NOW, account, company, fresh_store, member_of, scope_of, serve, sign_in};
use time::OffsetDateTime;

/// The server's volumes of `members`, from their orders alone: `(member, period) → PV`.
async fn volumes_from_orders(
    storage: &dyn Storage,
    members: &BTreeSet<i64>,
) -> BTreeMap<(i64, Period), i64> {
    let mut out = BTreeMap::new();
    for &id in members {
        for order in storage.orders_of(MemberId::new(id)).await.unwrap() {
            if order.status.counts_for_volume() {
                let period = Period::containing(order.placed_at.date()).unwrap();
                *out.entry((id, period)).or_default() += order.total_pv().unwrap().hundredths();
            }
        }
    }
    out
}

/// The cache's `(pv, gv)` of every member in `period`.
fn cached(store: &Store, members: &BTreeSet<i64>, period: Period) -> BTreeMap<i64, (i64, i64)> {
    members
        .iter()
        .map(|&id| {
            let row = store.member(MemberId::new(id), period).unwrap().row;
            (id, (row.pv, row.gv))
        })
        .collect()
}

fn this_and_previous_period() -> (Period, Period) {
    let current = Period::containing(OffsetDateTime::now_utc().date()).unwrap();
    (current.previous().unwrap(), current)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bootstrap_brings_each_members_recent_volumes_and_a_delta_keeps_them_current() {
    let c = company().await;
    let (running, p) = serve(&c).await;
    let client = ServerClient::new(&p).unwrap();
    let (previous, current) = this_and_previous_period();
    // The distributor's cache stays for the delta below (a TOTP code signs in only once).
    let mut kept = None;
    for role in [Role::Manager, Role::Distributor] {
        let token = sign_in(&p, account(&c, role)).await;
        let store = fresh_store(c.dir.path(), &format!("{role:?}.db"));
        client
            .bootstrap(&store, &token, NOW, |_| ControlFlow::Continue(()))
            .await
            .unwrap();
        let me = member_of(&c, role).await;
        let scope = scope_of(&*c.storage, Some(me)).await;
        let expected = volumes_from_orders(&*c.storage, &scope).await;

        for period in [previous, current] {
            let got = cached(&store, &scope, period);
            let pv = |id: i64| expected.get(&(id, period)).copied().unwrap_or(0);
            for (&id, &(cached_pv, _)) in &got {
                assert_eq!(cached_pv, pv(id), "{role:?}: member {id}'s PV in {period}");
            }
            let team_pv: i64 = scope.iter().map(|&id| pv(id)).sum();
            assert_eq!(
                got[&me.get()].1,
                team_pv,
                "{role:?}: the user's GV in {period}"
            );
        }
        let this_month: i64 = scope
            .iter()
            .filter_map(|&id| expected.get(&(id, current)))
            .sum();
        assert!(this_month > 0, "the demo company has this month's orders");

        // The user's own volume in every period they ordered in.
        let history: BTreeMap<Period, i64> = store
            .volume_history(me)
            .unwrap()
            .into_iter()
            .map(|v| (v.period, v.pv))
            .filter(|(_, pv)| *pv != 0)
            .collect();
        let own: BTreeMap<Period, i64> = expected
            .iter()
            .filter(|((id, _), pv)| *id == me.get() && **pv != 0)
            .map(|((_, period), pv)| (*period, *pv))
            .collect();
        assert_eq!(history, own, "{role:?}: the user's own volumes");
        kept = Some((token, store));
    }

    // A paid order for a member of the distributor's team, recorded by the order system,
    // then an order from a device for the same member (which logs the member's change).
    let me = member_of(&c, Role::Distributor).await;
    let (token, store) = kept.unwrap();
    let scope = scope_of(&*c.storage, Some(me)).await;
    let buyer = MemberId::new(*scope.iter().rfind(|&&id| id != me.get()).unwrap());
    let before = cached(&store, &scope, current);
    let template = c
        .storage
        .orders_of(me)
        .await
        .unwrap()
        .into_iter()
        .next()
        .unwrap();
    let line = OrderLine {
        quantity: 3.try_into().unwrap(),
        ..template.lines[0].clone()
    };
    let added = line.total_pv().unwrap().hundredths();
    c.storage
        .insert_orders(vec![Order {
            id: OrderId::new(900_000_000),
            buyer,
            customer: None,
            placed_at: OffsetDateTime::now_utc(),
            status: OrderStatus::Paid,
            currency: template.currency,
            lines: vec![line.clone()],
        }])
        .await
        .unwrap();
    let account_id = c
        .storage
        .find_account_by_email(&account(&c, Role::Distributor).email)
        .await
        .unwrap()
        .unwrap()
        .id;
    c.storage
        .place_order(
            NewOrder {
                account: account_id,
                key: "volume-test-order-0001".into(),
                member: buyer,
                lines: vec![(line.sku.clone(), 1.try_into().unwrap())],
                max_total_minor: i64::MAX,
            },
            OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
    client.pull_changes(&store, &token, NOW).await.unwrap();
    let after = cached(&store, &scope, current);
    assert_eq!(after[&buyer.get()].0, before[&buyer.get()].0 + added);
    assert_eq!(
        after[&me.get()].1,
        before[&me.get()].1 + added,
        "the user's GV"
    );
    let ancestors: BTreeSet<i64> = store
        .path_to(buyer, current)
        .unwrap()
        .into_iter()
        .map(|r| r.id.get())
        .collect();
    for (id, (pv, gv)) in &after {
        let (old_pv, old_gv) = before[id];
        let gained = if ancestors.contains(id) { added } else { 0 };
        assert_eq!(*gv, old_gv + gained, "member {id}'s GV");
        if *id != buyer.get() {
            assert_eq!(*pv, old_pv, "member {id}'s PV");
        }
    }
    running.shutdown().await.unwrap();
}
