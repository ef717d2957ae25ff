//! Unusual transactions raise admin alerts (SECURITY.md #15), through the real push over
//! TLS with the default `[alerts]` thresholds: an order far above the member's history,
//! an enrollment burst from one device or one address, a burst of orders before the period
//! closes, and a loop of orders between accounts. Each is raised with its evidence when the
//! pattern happens, not just below the threshold, once while open, and admins list,
//! acknowledge and resolve it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use canopy_core::{
    CountryCode, Currency, MemberId, MemberNumber, MemberStatus, Money, Order, OrderId, OrderLine,
    OrderStatus, PersonName, Product, Pv, RankLevel, Role, Sku,
};
use canopy_server::storage::{MemberRecord, NewMember};
use common::{Api, Device, Session, User, expect_json};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// KIT-1: 100.00 and 100 PV; VIT-1: 20.00 and 20 PV.
async fn catalogue(api: &Api) {
    let product = |sku: &str, minor, pv| Product {
        sku: Sku::parse(sku).unwrap(),
        name: format!("Product {sku}"),
        price: Money::new(minor, Currency::USD),
        pv: Pv::from_hundredths(pv),
        active: true,
    };
    api.state
        .storage
        .put_products(
            vec![
                product("KIT-1", 10_000, 10_000),
                product("VIT-1", 2_000, 2_000),
            ],
            api.state.now(),
        )
        .await
        .unwrap();
}

/// Members `(id, sponsor)`, in the genealogy.
async fn members(api: &Api, tree: &[(i64, Option<i64>)]) {
    let members = tree
        .iter()
        .map(|&(id, sponsor)| NewMember {
            member: MemberRecord {
                id: MemberId::new(id),
                number: MemberNumber::parse(&(20_000_000 + id).to_string()).unwrap(),
                sponsor: sponsor.map(MemberId::new),
                placement: None,
                rank: RankLevel::new(0),
                status: MemberStatus::Active,
                joined_on: time::macros::date!(2025 - 03 - 01),
                country: CountryCode::parse("US").unwrap(),
                display_name: PersonName::parse("Pat Member").unwrap(),
            },
            personal: None,
        })
        .collect();
    api.state.storage.insert_members(members).await.unwrap();
}

/// A distributor (or admin) linked to `member`, signed in on a new device.
async fn person(api: &Api, email: &str, role: Role, member: Option<i64>) -> (User, Session) {
    let user = api.user_as(email, role, member.map(MemberId::new)).await;
    let session = api.sign_in(&user, &mut Device::new()).await;
    (user, session)
}

fn key() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("watch-test-key-{:06}", NEXT.fetch_add(1, Ordering::SeqCst))
}

fn order(member: i64, sku: &str, quantity: u32) -> Value {
    json!({"key": key(), "command": {"type": "place_order", "form": {
        "member": member,
        "lines": [{"sku": sku, "quantity": quantity}],
    }}})
}

fn enrollment(sponsor: i64) -> Value {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    json!({"key": key(), "command": {"type": "enroll", "form": {
        "kind": "distributor",
        "sponsor": sponsor,
        "legal_name": "Robin Newcomer",
        "email": format!("newcomer{n}@example.com"),
        "date_of_birth": "1990-04-25",
        "address_line1": "1 Main Street",
        "city": "Springfield",
        "country": "US",
        "consent_version": "2026-03",
        "consent_purposes": ["terms", "privacy_notice"],
        "consent_given_at": "2027-01-15T08:00:00Z",
        "consent_given_offline": false,
    }}})
}

/// Pushes `commands` through `client`; every one must be applied. Returns the ids made.
async fn push(
    api: &Api,
    client: &reqwest::Client,
    session: &Session,
    commands: Vec<Value>,
) -> Vec<i64> {
    let response = client
        .post(api.url("/v1/sync/push"))
        .bearer_auth(&session.access)
        .json(&json!({ "commands": commands }))
        .send()
        .await
        .unwrap();
    let body = expect_json(response, StatusCode::OK).await;
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| {
            assert_eq!(result["outcome"], "applied", "{result}");
            let made = result["server_ref"].as_str().unwrap();
            made.split_once(':').unwrap().1.parse().unwrap()
        })
        .collect()
}

/// Every admin alert of `kind`, newest first within its state (read from storage, as any
/// admin's list would show them).
async fn raised(api: &Api, kind: &str) -> Vec<Value> {
    api.state
        .storage
        .list_admin_alerts(None, 200)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.kind == kind)
        .map(|a| {
            json!({
                "id": a.id.get(),
                "account_id": a.account.map(canopy_core::AccountId::get),
                "severity": a.severity.key(),
                "state": a.state().key(),
                "evidence": a.evidence,
            })
        })
        .collect()
}

fn keys(value: &Value) -> BTreeSet<&str> {
    value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

/// No names, emails or addresses of people in the evidence.
fn assert_no_personal_data(evidence: &Value) {
    let text = evidence.to_string();
    for personal in ["example.com", "Robin", "Pat Member", "Main Street", "1990"] {
        assert!(!text.contains(personal), "{personal} in {text}");
    }
}

/// An admin (signed in just now, so no step-up is due) finds the open alert `id` of `kind`
/// in `GET /v1/admin/alerts` with its title, acknowledges it, then resolves it.
async fn admin_handles(api: &Api, admin: &Session, id: i64, kind: &str, title: &str) {
    let open = expect_json(
        api.get_auth("/v1/admin/alerts", &admin.access).await,
        StatusCode::OK,
    )
    .await;
    let listed = open["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .unwrap_or_else(|| panic!("alert {id} not in {open}"))
        .clone();
    assert_eq!(listed["kind"], kind);
    assert_eq!(listed["title"], title);
    assert_eq!(listed["state"], "open");
    for (action, state) in [("acknowledge", "acknowledged"), ("resolve", "resolved")] {
        let path = format!("/v1/admin/alerts/{id}/{action}");
        let changed = expect_json(
            api.post_auth(&path, &admin.access, json!({})).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(changed["state"], state, "{changed}");
    }
}

/// `member`'s earlier order `id` in December: `minor` in USD, 50 PV.
fn earlier_order(id: i64, member: i64, minor: i64) -> Order {
    Order {
        id: OrderId::new(id),
        buyer: MemberId::new(member),
        customer: None,
        placed_at: time::macros::datetime!(2026-12-10 10:00 UTC) + time::Duration::days(id % 10),
        status: OrderStatus::Paid,
        currency: Currency::USD,
        lines: vec![OrderLine {
            sku: Sku::parse("VIT-1").unwrap(),
            quantity: NonZeroU32::new(1).unwrap(),
            unit_price: Money::new(minor, Currency::USD),
            unit_pv: Pv::from_hundredths(5_000),
        }],
    }
}

#[tokio::test]
async fn an_order_far_above_the_members_history_alerts_admins_once() {
    let api = Api::start().await;
    catalogue(&api).await;
    members(&api, &[(1, None), (2, Some(1))]).await;
    // Three earlier orders of 60.00, and a cancelled 5.00 one that does not count.
    api.state
        .storage
        .insert_orders(vec![
            earlier_order(901, 2, 6_000),
            earlier_order(902, 2, 6_000),
            earlier_order(903, 2, 6_000),
            Order {
                status: OrderStatus::Cancelled,
                ..earlier_order(904, 2, 500)
            },
        ])
        .await
        .unwrap();
    let (ana, session) = person(&api, "ana@example.com", Role::Distributor, Some(2)).await;

    // 300.00 is five times the median of 60.00: not more than five times.
    push(&api, &api.http, &session, vec![order(2, "KIT-1", 3)]).await;
    assert_eq!(raised(&api, "large_order").await, Vec::<Value>::new());
    // 400.00 against a median still 60.00 (of 60, 60, 60 and 300).
    let big = push(&api, &api.http, &session, vec![order(2, "KIT-1", 4)]).await[0];
    let alerts = raised(&api, "large_order").await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let alert = &alerts[0];
    assert_eq!(alert["severity"], "warning");
    assert_eq!(alert["state"], "open");
    assert_eq!(alert["account_id"], ana.account.id.get());
    let evidence = &alert["evidence"];
    assert_eq!(
        keys(evidence),
        BTreeSet::from([
            "account_id",
            "currency",
            "device_id",
            "earlier_orders",
            "median_minor",
            "member_id",
            "order_id",
            "order_min_minor",
            "order_multiple",
            "pv_hundredths",
            "subject",
            "total_minor",
        ])
    );
    assert_eq!(evidence["order_id"], big);
    assert_eq!(evidence["member_id"], 2);
    assert_eq!(evidence["account_id"], ana.account.id.get());
    assert_eq!(evidence["device_id"], session.device_id);
    assert_eq!(evidence["total_minor"], 40_000);
    assert_eq!(evidence["currency"], "USD");
    assert_eq!(evidence["pv_hundredths"], 40_000);
    assert_eq!(evidence["median_minor"], 6_000);
    assert_eq!(evidence["earlier_orders"], 4);
    assert_eq!(evidence["order_multiple"], 5);
    assert_no_personal_data(evidence);

    // Bigger still while the alert is open: nothing new.
    push(&api, &api.http, &session, vec![order(2, "KIT-1", 5)]).await;
    assert_eq!(raised(&api, "large_order").await.len(), 1);

    let (_, admin) = person(&api, "root@example.com", Role::Admin, None).await;
    let id = alert["id"].as_i64().unwrap();
    admin_handles(
        &api,
        &admin,
        id,
        "large_order",
        "An order far above the member's usual orders",
    )
    .await;
    // Resolved, the way is open for the next one. The median is now 180.00 (of 60, 60,
    // 60, 300, 400, 500): 900.00 is not above five times it. With that order it is 300.00,
    // and 1,600.00 is.
    push(&api, &api.http, &session, vec![order(2, "KIT-1", 9)]).await;
    assert_eq!(raised(&api, "large_order").await.len(), 1);
    let bigger = push(&api, &api.http, &session, vec![order(2, "KIT-1", 16)]).await[0];
    let alerts = raised(&api, "large_order").await;
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    assert_eq!(alerts[0]["state"], "open");
    assert_eq!(alerts[0]["evidence"]["order_id"], bigger);
    assert_eq!(alerts[0]["evidence"]["median_minor"], 30_000);
    assert_eq!(alerts[0]["evidence"]["earlier_orders"], 7);
    assert_eq!(alerts[1]["state"], "resolved");
    api.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn many_enrollments_from_one_device_or_one_address_alert_admins_once() {
    let api = Api::start().await;
    members(&api, &[(1, None), (2, Some(1)), (3, Some(1)), (4, Some(1))]).await;
    let cai = api
        .user_as("cai@example.com", Role::Distributor, Some(MemberId::new(2)))
        .await;
    let mut tablet = Device::new();
    let session = api.sign_in(&cai, &mut tablet).await;

    // Seven at once, then (past the 15 minutes) seven more: never eight in the window.
    push(
        &api,
        &api.http,
        &session,
        (0..7).map(|_| enrollment(2)).collect(),
    )
    .await;
    api.clock.advance(16 * 60);
    let session = api.sign_in(&cai, &mut tablet).await;
    let mut made = push(
        &api,
        &api.http,
        &session,
        (0..7).map(|_| enrollment(2)).collect(),
    )
    .await;
    assert_eq!(raised(&api, "enrollment_burst").await, Vec::<Value>::new());
    // The eighth in the window.
    made.extend(push(&api, &api.http, &session, vec![enrollment(2)]).await);
    let alerts = raised(&api, "enrollment_burst").await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let alert = &alerts[0];
    assert_eq!(alert["severity"], "warning");
    assert_eq!(alert["account_id"], cai.account.id.get());
    let evidence = &alert["evidence"];
    assert_eq!(
        keys(evidence),
        BTreeSet::from([
            "account_id",
            "device_id",
            "enrollments",
            "member_ids",
            "source",
            "subject",
            "window_secs",
        ])
    );
    assert_eq!(evidence["source"], "device");
    assert_eq!(evidence["device_id"], session.device_id);
    assert_eq!(evidence["enrollments"], 8);
    assert_eq!(evidence["member_ids"], json!(made));
    assert_eq!(evidence["window_secs"], 900);
    assert_no_personal_data(evidence);
    // More from the same device while it is open: nothing new.
    push(
        &api,
        &api.http,
        &session,
        vec![enrollment(2), enrollment(2)],
    )
    .await;
    assert_eq!(raised(&api, "enrollment_burst").await.len(), 1);

    // Two people on two devices behind one address: four each is not a device burst, but
    // eight from the address is.
    let venue = api.client_from(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 9)));
    let (_, dan) = person(&api, "dan@example.com", Role::Distributor, Some(3)).await;
    let (eve, eve_session) = person(&api, "eve@example.com", Role::Distributor, Some(4)).await;
    let mut from_venue = push(&api, &venue, &dan, (0..4).map(|_| enrollment(3)).collect()).await;
    assert_eq!(raised(&api, "enrollment_burst").await.len(), 1);
    from_venue.extend(
        push(
            &api,
            &venue,
            &eve_session,
            (0..4).map(|_| enrollment(4)).collect(),
        )
        .await,
    );
    let alerts = raised(&api, "enrollment_burst").await;
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    let by_ip = &alerts[0]["evidence"];
    assert_eq!(by_ip["source"], "ip");
    assert_eq!(by_ip["ip"], "127.0.0.9");
    assert_eq!(by_ip["enrollments"], 8);
    assert_eq!(by_ip["member_ids"], json!(from_venue));
    assert_eq!(by_ip["account_id"], eve.account.id.get());
    assert_eq!(by_ip["device_id"], eve_session.device_id);
    push(&api, &venue, &eve_session, vec![enrollment(4)]).await;
    assert_eq!(raised(&api, "enrollment_burst").await.len(), 2);

    let (_, admin) = person(&api, "root@example.com", Role::Admin, None).await;
    let id = alerts[0]["id"].as_i64().unwrap();
    admin_handles(
        &api,
        &admin,
        id,
        "enrollment_burst",
        "Many enrollments from one device or network address",
    )
    .await;
    // Resolved: the address's next burst is a new situation.
    push(&api, &venue, &eve_session, vec![enrollment(4)]).await;
    let alerts = raised(&api, "enrollment_burst").await;
    assert_eq!(alerts.len(), 3, "{alerts:?}");
    assert_eq!(alerts[0]["evidence"]["enrollments"], 10);
    api.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_burst_of_orders_before_the_period_closes_alerts_admins_once() {
    let api = Api::start().await;
    catalogue(&api).await;
    members(&api, &[(1, None), (2, Some(1))]).await;
    let fay = api
        .user_as("fay@example.com", Role::Distributor, Some(MemberId::new(2)))
        .await;
    let mut phone = Device::new();
    let session = api.sign_in(&fay, &mut phone).await;
    // Mid-January: ninety small orders, the account's usual rate (two per 48 hours over
    // the 90 days before the watched hours). Mid-month, no burst is watched for.
    let baseline = push(
        &api,
        &api.http,
        &session,
        (0..90).map(|_| order(2, "VIT-1", 1)).collect(),
    )
    .await;
    assert_eq!(baseline.len(), 90);
    assert_eq!(raised(&api, "close_burst").await, Vec::<Value>::new());

    // January 30, 01:00 UTC: the last 48 hours of the period.
    api.clock
        .set(time::macros::datetime!(2027-01-30 01:00 UTC).unix_timestamp());
    let session = api.sign_in(&fay, &mut phone).await;
    // Six is three times the usual two: not more than three times.
    let six: Vec<Value> = (0..6).map(|_| order(2, "VIT-1", 1)).collect();
    let mut burst = push(&api, &api.http, &session, six.clone()).await;
    assert_eq!(raised(&api, "close_burst").await, Vec::<Value>::new());
    // The same push again (its answer was lost): the same orders, not six more.
    assert_eq!(push(&api, &api.http, &session, six).await, burst);
    assert_eq!(raised(&api, "close_burst").await, Vec::<Value>::new());
    burst.extend(push(&api, &api.http, &session, vec![order(2, "VIT-1", 1)]).await);
    let alerts = raised(&api, "close_burst").await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let alert = &alerts[0];
    assert_eq!(alert["severity"], "info");
    assert_eq!(alert["account_id"], fay.account.id.get());
    let evidence = &alert["evidence"];
    assert_eq!(
        keys(evidence),
        BTreeSet::from([
            "account_id",
            "baseline_days",
            "baseline_orders",
            "baseline_pv_hundredths",
            "close_multiple",
            "order_ids",
            "orders",
            "period",
            "pv_hundredths",
            "subject",
            "window_hours",
        ])
    );
    assert_eq!(evidence["period"], "2027-01");
    assert_eq!(evidence["window_hours"], 48);
    assert_eq!(evidence["orders"], 7);
    assert_eq!(evidence["order_ids"], json!(burst));
    assert_eq!(evidence["pv_hundredths"], 7 * 2_000);
    assert_eq!(evidence["baseline_days"], 90);
    assert_eq!(evidence["baseline_orders"], 90);
    assert_eq!(evidence["baseline_pv_hundredths"], 90 * 2_000);
    assert_eq!(evidence["close_multiple"], 3);
    assert_no_personal_data(evidence);
    push(&api, &api.http, &session, vec![order(2, "VIT-1", 1)]).await;
    assert_eq!(raised(&api, "close_burst").await.len(), 1);

    let (_, admin) = person(&api, "root@example.com", Role::Admin, None).await;
    let id = alert["id"].as_i64().unwrap();
    admin_handles(
        &api,
        &admin,
        id,
        "close_burst",
        "A burst of orders just before the period closes",
    )
    .await;
    // February 1: a new period, far from its close; nothing is watched.
    api.clock
        .set(time::macros::datetime!(2027-02-01 00:30 UTC).unix_timestamp());
    let session = api.sign_in(&fay, &mut phone).await;
    push(
        &api,
        &api.http,
        &session,
        (0..10).map(|_| order(2, "VIT-1", 1)).collect(),
    )
    .await;
    assert_eq!(raised(&api, "close_burst").await.len(), 1);
    api.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_loop_of_orders_between_accounts_alerts_admins_once() {
    let api = Api::start().await;
    catalogue(&api).await;
    // Gus (member 2) sponsors Hal (3), who sponsors member 4: Ida, staff with an admin
    // account who is also a distributor, and so may order for anyone.
    members(&api, &[(1, None), (2, Some(1)), (3, Some(2)), (4, Some(3))]).await;
    let (ida, ida_session) = person(&api, "ida@example.com", Role::Admin, Some(4)).await;
    let (gus, gus_session) = person(&api, "gus@example.com", Role::Distributor, Some(2)).await;
    let (hal, hal_session) = person(&api, "hal@example.com", Role::Distributor, Some(3)).await;

    // Ida orders 80 PV for Gus, Gus 100 PV for Ida: one link under the 100 PV minimum.
    push(&api, &api.http, &ida_session, vec![order(2, "VIT-1", 4)]).await;
    push(&api, &api.http, &gus_session, vec![order(4, "KIT-1", 1)]).await;
    assert_eq!(raised(&api, "order_loop").await, Vec::<Value>::new());
    // 20 PV more closes the loop.
    push(&api, &api.http, &ida_session, vec![order(2, "VIT-1", 1)]).await;
    let alerts = raised(&api, "order_loop").await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let alert = &alerts[0];
    assert_eq!(alert["severity"], "critical");
    assert_eq!(alert["account_id"], ida.account.id.get());
    let evidence = &alert["evidence"];
    assert_eq!(
        keys(evidence),
        BTreeSet::from([
            "account_ids",
            "links",
            "loop_min_pv_hundredths",
            "period",
            "subject"
        ])
    );
    let (ida_id, gus_id, hal_id) = (
        ida.account.id.get(),
        gus.account.id.get(),
        hal.account.id.get(),
    );
    assert_eq!(evidence["period"], "2027-01");
    assert_eq!(evidence["account_ids"], json!([ida_id, gus_id]));
    assert_eq!(
        evidence["links"],
        json!([
            {"from_account_id": ida_id, "to_account_id": gus_id, "to_member_id": 2,
             "orders": 2, "pv_hundredths": 10_000},
            {"from_account_id": gus_id, "to_account_id": ida_id, "to_member_id": 4,
             "orders": 1, "pv_hundredths": 10_000},
        ])
    );
    assert_eq!(evidence["loop_min_pv_hundredths"], 10_000);
    assert_no_personal_data(evidence);
    // The same loop again, from either side, while it is open: nothing new.
    push(&api, &api.http, &gus_session, vec![order(4, "KIT-1", 1)]).await;
    push(&api, &api.http, &gus_session, vec![order(3, "KIT-1", 1)]).await;
    assert_eq!(raised(&api, "order_loop").await.len(), 1);

    // Hal orders for Ida: Ida → Gus → Hal → Ida is a loop of three.
    push(&api, &api.http, &hal_session, vec![order(4, "KIT-1", 1)]).await;
    let alerts = raised(&api, "order_loop").await;
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    let three = &alerts[0]["evidence"];
    assert_eq!(three["account_ids"], json!([hal_id, ida_id, gus_id]));
    assert_eq!(alerts[0]["account_id"], hal_id);

    let (_, admin) = person(&api, "root@example.com", Role::Admin, None).await;
    let id = alert["id"].as_i64().unwrap();
    admin_handles(
        &api,
        &admin,
        id,
        "order_loop",
        "Accounts ordering for each other's members in a loop",
    )
    .await;
    // Resolved, the two-account loop is raised again when it goes on.
    push(&api, &api.http, &ida_session, vec![order(2, "KIT-1", 1)]).await;
    let alerts = raised(&api, "order_loop").await;
    assert_eq!(alerts.len(), 3, "{alerts:?}");
    assert_eq!(
        alerts[0]["evidence"]["account_ids"],
        json!([ida_id, gus_id])
    );
    api.running.shutdown().await.unwrap();
}
