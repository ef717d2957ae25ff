//! The statements pull end to end: commission runs on the real server (seeded demo
//! company, SQLite) reach a real SQLCipher cache over pinned TLS, each statement exactly as
//! the server holds it: a rerun that drops lines drops them from the cache, a closing makes
//! the statement final, and a pull with nothing new fetches nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use canopy_core::{OrderStatus, Period, Role};
use canopy_server::commissions::{self, CommissionPlan};
use canopy_server::storage::Storage;
use canopy_store::{StatementStatus, Store};
use canopy_sync::ServerClient;
use canopy_sync::statements::StatementsPulled;
use common::{cached, company, member_of, serve};
use time::OffsetDateTime;

/// Lines per page in the founder's pull.
const PAGE: u32 = 100;

/// The demo company's periods.
const PERIODS: u32 = canopy_server::seed::PERIODS;

async fn run(storage: &dyn Storage, plan: &CommissionPlan, period: Period) {
    commissions::run(storage, plan, period, None, OffsetDateTime::now_utc)
        .await
        .unwrap();
}

/// The cache's statement of `period` as (total, status, lines as (id, amount, order)).
type Cached = (i64, StatementStatus, Vec<(i64, i64, Option<i64>)>);

fn cached_statement(store: &Store, period: Period) -> Cached {
    let mut lines = Vec::new();
    let mut after = None;
    let summary = loop {
        let page = store.statement(period, after, 1_000).unwrap();
        lines.extend(
            page.lines
                .iter()
                .map(|l| (l.id, l.amount.minor(), l.order.map(|o| o.get()))),
        );
        match page.next {
            Some(next) => after = Some(next),
            None => break page.summary,
        }
    };
    assert_eq!(summary.lines as usize, lines.len());
    (summary.total.minor(), summary.status, lines)
}

/// The server's statement of `member` in `period`, in the cache's shape.
async fn server_statement(
    storage: &dyn Storage,
    member: canopy_core::MemberId,
    period: Period,
) -> Cached {
    let statement = storage
        .statements_of(member)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.period == period)
        .unwrap();
    let lines: Vec<_> = storage
        .earnings_of(member, period)
        .await
        .unwrap()
        .into_iter()
        .map(|l| {
            (
                l.line.id.get(),
                l.line.amount.minor(),
                l.line.source.order.map(|o| o.get()),
            )
        })
        .collect();
    let status = if statement.closed {
        StatementStatus::Final
    } else {
        StatementStatus::Open
    };
    (statement.total_minor, status, lines)
}

#[tokio::test(flavor = "multi_thread")]
async fn runs_reach_the_cache_statement_by_statement() {
    // The demo company comes with its history paid: every period run, all but this one
    // closed.
    let c = company().await;
    let (running, p) = serve(&c).await;
    let client = ServerClient::new(&p).unwrap();
    let storage = &*c.storage;
    let plan = CommissionPlan::bundled().unwrap();
    let (store, token) = cached(&c, &p, Role::Manager, "manager.db").await;
    let me = member_of(&c, Role::Manager).await;
    let current = Period::containing(OffsetDateTime::now_utc().date()).unwrap();
    let previous = current.previous().unwrap();

    // The first pull: the plan and every statement, each exactly as the server has it.
    assert!(store.earnings_by_period().unwrap().is_empty());
    let pulled = client.pull_statements(&store, &token).await.unwrap();
    assert_eq!((pulled.statements, pulled.plan), (PERIODS, true));
    assert_eq!(
        store.comp_plan().unwrap().unwrap().0,
        plan.record().hash,
        "the plan in force"
    );
    let mut period = current;
    for _ in 0..PERIODS {
        let statement = cached_statement(&store, period);
        assert_eq!(
            statement,
            server_statement(storage, me, period).await,
            "{period}"
        );
        let open = period == current;
        assert_eq!(
            statement.1,
            if open {
                StatementStatus::Open
            } else {
                StatementStatus::Final
            },
            "{period}"
        );
        period = period.previous().unwrap();
    }
    let previous_lines = cached_statement(&store, previous).2;
    assert!(!previous_lines.is_empty(), "the manager earned last period");

    // Nothing new: nothing fetched.
    let pulled = client.pull_statements(&store, &token).await.unwrap();
    assert_eq!(pulled, StatementsPulled::default());

    // A refund in the open period, and its rerun: the order's lines leave the cache too.
    let (_, _, open_lines) = cached_statement(&store, current);
    let order = open_lines
        .iter()
        .find_map(|(_, _, order)| *order)
        .expect("a line of this period from an order");
    storage
        .set_order_status(
            canopy_core::OrderId::new(order),
            OrderStatus::Refunded,
            OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
    run(storage, &plan, current).await;
    let pulled = client.pull_statements(&store, &token).await.unwrap();
    assert_eq!(pulled.statements, 1, "only this period changed");
    let refunded = cached_statement(&store, current);
    assert_eq!(refunded, server_statement(storage, me, current).await);
    assert!(
        refunded.2.iter().all(|(_, _, o)| *o != Some(order)),
        "the refunded order's lines are gone"
    );
    assert_eq!(cached_statement(&store, previous).2, previous_lines);

    // Closing the period makes its statement final on the device.
    commissions::close(storage, current, None, OffsetDateTime::now_utc())
        .await
        .unwrap();
    let pulled = client.pull_statements(&store, &token).await.unwrap();
    assert_eq!(pulled.statements, 1);
    assert_eq!(cached_statement(&store, current).1, StatementStatus::Final);

    // The founder's statements, in pages of 100 lines.
    let (store, token) = cached(&c, &p, Role::Admin, "admin.db").await;
    let founder = member_of(&c, Role::Admin).await;
    let pulled = client
        .pull_statements_by(&store, &token, PAGE)
        .await
        .unwrap();
    assert_eq!(pulled.statements, PERIODS);
    for period in [previous, current] {
        let statement = cached_statement(&store, period);
        assert!(
            statement.2.len() > 3 * PAGE as usize,
            "{period}: {} lines, not several pages",
            statement.2.len()
        );
        assert_eq!(statement, server_statement(storage, founder, period).await);
    }
    running.shutdown().await.unwrap();
}
