//! Commission runs against the real server (TLS, SQLite file): a small company paid for
//! October, run twice (the same lines under the same ids), closed, a refund after close
//! clawed back in November, and who may call what.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::num::NonZeroU32;

use canopy_core::{
    CountryCode, Currency, MemberId, MemberNumber, MemberStatus, Money, Order, OrderId, OrderLine,
    OrderStatus, Period, PersonName, Pv, RankLevel, Role, Sku,
};
use canopy_server::storage::{MemberRecord, NewMember, StoredLine};
use common::{Api, Device, Session, expect_json, expect_problem};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// 1 the top; 2 under 1; 3 (the distributor) under 2; 4 under 3; 5 under 4; 6 under 1.
const SPONSORS: [Option<i64>; 6] = [None, Some(1), Some(2), Some(3), Some(4), Some(1)];

const NAMES: [&str; 6] = [
    "Ada Top",
    "Bea Second",
    "Cid Third",
    "Dov Fourth",
    "Eli Fifth",
    "Fay Side",
];

fn members() -> Vec<NewMember> {
    (1..=6)
        .zip(SPONSORS)
        .map(|(id, sponsor)| NewMember {
            member: MemberRecord {
                id: MemberId::new(id),
                number: MemberNumber::parse(&(20_000_000 + id).to_string()).unwrap(),
                sponsor: sponsor.map(MemberId::new),
                placement: None,
                rank: RankLevel::new(0),
                status: MemberStatus::Active,
                joined_on: time::macros::date!(2025 - 03 - 01),
                country: CountryCode::parse("US").unwrap(),
                display_name: PersonName::parse(NAMES[id as usize - 1]).unwrap(),
            },
            personal: None,
        })
        .collect()
}

/// Order `100 + m` by member `m` on 5 October: 150 PV for $100.00.
fn orders() -> Vec<Order> {
    (1..=6)
        .map(|m| Order {
            id: OrderId::new(100 + m),
            buyer: MemberId::new(m),
            customer: None,
            placed_at: time::macros::datetime!(2026-10-05 10:00 UTC),
            status: OrderStatus::Paid,
            currency: Currency::USD,
            lines: vec![OrderLine {
                sku: Sku::parse("KIT-1").unwrap(),
                quantity: NonZeroU32::new(1).unwrap(),
                unit_price: Money::new(10_000, Currency::USD),
                unit_pv: Pv::from_hundredths(15_000),
            }],
        })
        .collect()
}

struct Company {
    api: Api,
    admin: Session,
    distributor: Session,
}

async fn company() -> Company {
    let api = Api::start().await;
    api.state.storage.insert_members(members()).await.unwrap();
    api.state.storage.insert_orders(orders()).await.unwrap();
    let admin = api.user_as("admin@example.com", Role::Admin, None).await;
    let admin = api.sign_in(&admin, &mut Device::new()).await;
    let dist = api
        .user_as(
            "dist@example.com",
            Role::Distributor,
            Some(MemberId::new(3)),
        )
        .await;
    let distributor = api.sign_in(&dist, &mut Device::new()).await;
    Company {
        api,
        admin,
        distributor,
    }
}

fn period(text: &str) -> Period {
    Period::parse(text).unwrap()
}

impl Company {
    async fn run(&self, period: &str) -> reqwest::Response {
        let path = format!("/v1/admin/commissions/{period}/run");
        self.api
            .post_auth(&path, &self.admin.access, json!({}))
            .await
    }

    /// Every line of the period, member by member, as stored.
    async fn lines(&self, period_text: &str) -> Vec<StoredLine> {
        let mut all = Vec::new();
        for m in 1..=6 {
            let mine = self
                .api
                .state
                .storage
                .earnings_of(MemberId::new(m), period(period_text))
                .await
                .unwrap();
            all.extend(mine);
        }
        all.sort_by_key(|l| l.line.id);
        all
    }

    async fn summary(&self, period: &str) -> Value {
        let path = format!("/v1/admin/commissions/{period}");
        expect_json(
            self.api.get_auth(&path, &self.admin.access).await,
            StatusCode::OK,
        )
        .await
    }
}

/// (id, member, kind, order, level, amount) of a line, for comparing runs.
type Shape = (i64, i64, String, Option<i64>, Option<u16>, i64);

fn shape(lines: &[StoredLine]) -> Vec<Shape> {
    lines
        .iter()
        .map(|l| {
            (
                l.line.id.get(),
                l.line.member.get(),
                l.line.kind.to_string(),
                l.line.source.order.map(OrderId::get),
                l.line.source.level,
                l.line.amount.minor(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_run_pays_traced_lines_and_a_rerun_replaces_them_under_the_same_ids() {
    let c = company().await;
    let first = expect_json(c.run("2026-10").await, StatusCode::OK).await;
    let lines = c.lines("2026-10").await;
    assert!(!lines.is_empty());
    // Member 5's order pays 4 at level 1 (5%) and 3 at level 2 (4%, Bronze pays 2 levels).
    let from_105: Vec<_> = shape(&lines)
        .into_iter()
        .filter(|l| l.3 == Some(105))
        .map(|(_, member, kind, _, level, amount)| (member, kind, level, amount))
        .collect();
    assert_eq!(
        from_105,
        [
            (3, "Unilevel commission".to_owned(), Some(2), 400),
            (4, "Unilevel commission".to_owned(), Some(1), 500),
        ]
    );
    assert!(
        lines
            .iter()
            .filter(|l| l.line.kind.to_string() == "Unilevel commission")
            .all(|l| l.line.source.member.is_some() && l.line.source.rate.is_some())
    );

    let second = expect_json(c.run("2026-10").await, StatusCode::OK).await;
    assert_eq!(shape(&c.lines("2026-10").await), shape(&lines));
    assert_ne!(
        first["run"]["id"], second["run"]["id"],
        "each run is audited"
    );
    assert_eq!(first["run"]["result_hash"], second["run"]["result_hash"]);
    assert_eq!(second["run"]["lines"], lines.len());

    // Totals by kind are the sums of the lines, and there is one set of them.
    let summary = c.summary("2026-10").await;
    assert_eq!(summary["state"], "open");
    assert_eq!(summary["last_run"]["id"], second["run"]["id"]);
    let mut by_kind: Vec<(String, i64, u64)> = Vec::new();
    for l in &lines {
        let kind = serde_json::to_value(l.line.kind).unwrap();
        let kind = kind.as_str().unwrap().to_owned();
        match by_kind.iter_mut().find(|(k, _, _)| *k == kind) {
            Some((_, sum, n)) => {
                *sum += l.line.amount.minor();
                *n += 1;
            }
            None => by_kind.push((kind, l.line.amount.minor(), 1)),
        }
    }
    let mut reported: Vec<(String, i64, u64)> = summary["totals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["kind"].as_str().unwrap().to_owned(),
                t["amount_minor"].as_i64().unwrap(),
                t["lines"].as_u64().unwrap(),
            )
        })
        .collect();
    by_kind.sort();
    reported.sort();
    assert_eq!(reported, by_kind);
    assert_eq!(
        summary["total_minor"].as_i64().unwrap(),
        lines.iter().map(|l| l.line.amount.minor()).sum::<i64>()
    );

    // The audit log has one event per run, with ids only.
    let audit = c.api.state.storage.list_audit(0, 100).await.unwrap();
    let runs: Vec<_> = audit
        .iter()
        .filter(|e| e.action == "commissions.run")
        .collect();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].target.as_deref(), Some("period:2026-10"));
    assert!(
        NAMES.iter().all(|n| !runs[0].details.contains(n)),
        "{}",
        runs[0].details
    );
}

#[tokio::test]
async fn a_closed_period_refuses_runs_and_a_later_refund_is_clawed_back_next_period() {
    let c = company().await;
    expect_json(c.run("2026-10").await, StatusCode::OK).await;
    let october = c.lines("2026-10").await;
    let closed = expect_json(
        c.api
            .post_auth(
                "/v1/admin/commissions/2026-10/close",
                &c.admin.access,
                json!({}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(closed["state"], "closed");

    let refused = expect_problem(c.run("2026-10").await, StatusCode::CONFLICT).await;
    assert_eq!(
        refused,
        "period 2026-10 is closed: corrections go into the next period as adjustments"
    );
    assert_eq!(shape(&c.lines("2026-10").await), shape(&october));
    let again = c
        .api
        .post_auth(
            "/v1/admin/commissions/2026-10/close",
            &c.admin.access,
            json!({}),
        )
        .await;
    expect_problem(again, StatusCode::CONFLICT).await;

    // Member 5's October order is refunded in November.
    c.api
        .state
        .storage
        .set_order_status(OrderId::new(105), OrderStatus::Refunded, c.api.clock.now())
        .await
        .unwrap();
    let november = expect_json(c.run("2026-11").await, StatusCode::OK).await;
    assert_eq!(november["corrections"], 2);
    let clawbacks = c.lines("2026-11").await;
    let originals: Vec<&StoredLine> = october
        .iter()
        .filter(|l| l.line.source.order == Some(OrderId::new(105)))
        .collect();
    assert_eq!(clawbacks.len(), originals.len());
    for original in &originals {
        let back = clawbacks
            .iter()
            .find(|l| l.reverses == Some(original.line.id))
            .expect("every line of the order is reversed");
        assert_eq!(back.line.kind.to_string(), "Clawback");
        assert_eq!(back.line.member, original.line.member);
        assert_eq!(back.line.amount.minor(), -original.line.amount.minor());
        assert_eq!(back.line.period, period("2026-11"));
    }
    // A rerun of November makes the same clawbacks, once.
    expect_json(c.run("2026-11").await, StatusCode::OK).await;
    assert_eq!(shape(&c.lines("2026-11").await), shape(&clawbacks));
    let summary = c.summary("2026-11").await;
    assert_eq!(summary["totals"][0]["kind"], "clawback");
    assert_eq!(summary["total_minor"], -900);
}

#[tokio::test]
async fn a_distributor_sees_only_their_own_earnings_and_no_admin_endpoint() {
    let c = company().await;
    let token = &c.distributor.access;
    for path in [
        "/v1/admin/commissions/2026-10/run",
        "/v1/admin/commissions/2026-10/close",
    ] {
        let response = c.api.post_auth(path, token, json!({})).await;
        let detail = expect_problem(response, StatusCode::FORBIDDEN).await;
        assert_eq!(detail, "Only an admin can do this");
    }
    let response = c.api.get_auth("/v1/admin/commissions/2026-10", token).await;
    expect_problem(response, StatusCode::FORBIDDEN).await;

    let before = expect_json(
        c.api.get_auth("/v1/me/earnings/2026-10", token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(before["state"], "not_run");
    assert_eq!(before["lines"], json!([]));

    expect_json(c.run("2026-10").await, StatusCode::OK).await;
    let mine = expect_json(
        c.api.get_auth("/v1/me/earnings/2026-10", token).await,
        StatusCode::OK,
    )
    .await;
    let stored = c
        .api
        .state
        .storage
        .earnings_of(MemberId::new(3), period("2026-10"))
        .await
        .unwrap();
    let ids: Vec<i64> = mine["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        stored.iter().map(|l| l.line.id.get()).collect::<Vec<_>>()
    );
    assert!(ids.len() < c.lines("2026-10").await.len());
    assert_eq!(
        mine["total_minor"].as_i64().unwrap(),
        stored.iter().map(|l| l.line.amount.minor()).sum::<i64>()
    );
    let level2 = mine["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["order_id"] == 105)
        .unwrap();
    assert_eq!(
        level2["description"],
        "4.00% of order #105 by member 5 (level 2), Unilevel L2"
    );
    // Member 3: 150 PV, a team of 4 and 5 (450 GV): Bronze, short of Silver's 1,000 GV.
    assert_eq!(mine["rank"]["rank"]["name"], "Bronze");
    assert_eq!(mine["rank"]["gv"], 45_000, "hundredths of a point");
    assert_eq!(mine["rank"]["next"]["rank"]["name"], "Silver");

    // Support staff read the same statement of member 3, and the read is audited; the
    // distributor can't read anyone's through the admin route, not even their own.
    let path = "/v1/admin/commissions/2026-10/members/3";
    let response = c.api.get_auth(path, token).await;
    expect_problem(response, StatusCode::FORBIDDEN).await;
    let theirs = expect_json(c.api.get_auth(path, &c.admin.access).await, StatusCode::OK).await;
    assert_eq!(theirs, mine);
    let audit = c.api.state.storage.list_audit(0, 500).await.unwrap();
    let read = audit
        .iter()
        .find(|e| e.action == "commissions.statement_read")
        .expect("the admin's read is audited");
    assert_eq!(read.target.as_deref(), Some("member:3"));
    assert_eq!(read.details, r#"{"period":"2026-10"}"#);
    let unknown = "/v1/admin/commissions/2026-10/members/99";
    let response = c.api.get_auth(unknown, &c.admin.access).await;
    expect_problem(response, StatusCode::NOT_FOUND).await;
}
