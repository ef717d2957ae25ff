//! The dashboard command's work over a real cache bootstrapped from the real server (the
//! demo company seeded as of today): this period's PV and GV, the rank and the next one,
//! the new enrollees and the sync's time are what the server's own data says, computed
//! here from its storage; the earnings chart is empty without statements and draws the
//! last twelve periods once the cache has some; the cache's alerts are listed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../crates/sync/tests/common/mod.rs"]
mod common;

use std::collections::BTreeSet;

use canopy_app::commands::dashboard::{RECENT_ENROLLEES, view};
use canopy_core::{Currency, Money, Period, Role};
use canopy_server::storage::Storage;
use canopy_store::{AlertRow, StatementStatus};
use canopy_sync::runner::SyncStatus;
use common::{NOW, cached, company, member_of, scope_of, serve};
use time::OffsetDateTime;

/// `member`'s personal volume in `period`, from their orders on the server.
async fn pv_on_server(storage: &dyn Storage, member: i64, period: Period) -> i64 {
    storage
        .orders_of(canopy_core::MemberId::new(member))
        .await
        .unwrap()
        .into_iter()
        .filter(|o| o.status.counts_for_volume())
        .filter(|o| Period::containing(o.placed_at.date()).unwrap() == period)
        .map(|o| o.total_pv().unwrap().hundredths())
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_shows_what_the_servers_data_says() {
    let c = company().await;
    let (running, p) = serve(&c).await;
    let (store, _token) = cached(&c, &p, Role::Manager, "manager.db").await;
    running.shutdown().await.unwrap();
    let me = member_of(&c, Role::Manager).await;
    let today = OffsetDateTime::now_utc().date();
    let period = Period::containing(today).unwrap();
    let previous = period.previous().unwrap();

    let got = view(&store, today, &SyncStatus::default()).unwrap();

    // Volumes: the user's own orders, and the whole team's.
    let scope = scope_of(&*c.storage, Some(me)).await;
    let mut gv = 0;
    let mut previous_gv = 0;
    for &id in &scope {
        gv += pv_on_server(&*c.storage, id, period).await;
        previous_gv += pv_on_server(&*c.storage, id, previous).await;
    }
    assert_eq!(got.member.id, me.get());
    assert_eq!(got.period, period.to_string());
    assert_eq!(
        got.period_label,
        format!("{} {}", period.month(), period.year())
    );
    assert_eq!(got.pv, pv_on_server(&*c.storage, me.get(), period).await);
    assert_eq!(
        got.previous_pv,
        pv_on_server(&*c.storage, me.get(), previous).await
    );
    assert_eq!((got.gv, got.previous_gv), (gv, previous_gv));
    assert!(got.gv > 0, "the demo has this month's orders");
    assert_eq!(got.team_size, scope.len() as u64 - 1);

    // Rank: the server's, and the next one up that anyone in the team holds.
    let mut ranks = BTreeSet::new();
    for &id in &scope {
        let m = c
            .storage
            .find_member(canopy_core::MemberId::new(id))
            .await
            .unwrap()
            .unwrap();
        ranks.insert(m.rank.get());
    }
    let mine = c.storage.find_member(me).await.unwrap().unwrap().rank.get();
    let name = |level: u16| canopy_server::seed::RANKS[usize::from(level)].0.to_owned();
    assert_eq!(
        (got.rank.current.level, got.rank.current.name.clone()),
        (mine, name(mine))
    );
    let next = ranks.range(mine + 1..).next().copied();
    assert_eq!(
        got.rank.next.as_ref().map(|r| (r.level, r.name.clone())),
        next.map(|l| (l, name(l)))
    );
    assert!(got.rank.requirements.is_empty(), "no plan, no requirements");

    // New enrollees: the team's members who joined since the first of the month.
    let mut joined = Vec::new();
    for &id in scope.iter().filter(|&&id| id != me.get()) {
        let m = c
            .storage
            .find_member(canopy_core::MemberId::new(id))
            .await
            .unwrap()
            .unwrap();
        if m.joined_on >= period.first_day() {
            joined.push((m.joined_on, id));
        }
    }
    joined.sort_unstable_by(|a, b| b.cmp(a));
    assert!(!joined.is_empty(), "people joined the team this month");
    assert_eq!(got.new_enrollees.count, joined.len() as u64);
    let recent: Vec<i64> = got.new_enrollees.recent.iter().map(|r| r.id).collect();
    let newest: Vec<i64> = joined
        .iter()
        .take(RECENT_ENROLLEES as usize)
        .map(|(_, id)| *id)
        .collect();
    assert_eq!(recent, newest);
    assert!(got.new_enrollees.recent.iter().all(|r| r.level >= 1));

    // The sync: the cache's last sync until the runner reports, then the runner's.
    assert_eq!(got.sync.last_sync_at.as_deref(), Some(NOW));
    assert!(!got.sync.offline);
    let status = SyncStatus {
        last_success: Some(time::macros::datetime!(2026-11-21 12:30 UTC)),
        offline: true,
        pending: 2,
        ..Default::default()
    };
    let offline = view(&store, today, &status).unwrap();
    assert_eq!(
        offline.sync.last_sync_at.as_deref(),
        Some("2026-11-21T12:30:00Z")
    );
    assert!(offline.sync.offline);
    assert_eq!(offline.sync.pending, 2);

    // No statements yet: no chart. With some: twelve periods ending with this one.
    assert!(got.earnings.is_empty());
    let usd = Currency::parse("USD").unwrap();
    store
        .write(|w| {
            w.put_statement(period, StatementStatus::Open, Money::new(12_345, usd))?;
            w.put_statement(previous, StatementStatus::Final, Money::new(9_900, usd))?;
            w.put_alert(&AlertRow {
                id: 7,
                kind: "new_device".into(),
                severity: "warning".into(),
                created_at: "2026-11-20T08:00:00Z".into(),
                message: "A new device signed in to your account".into(),
                state: "open".into(),
                evidence: None,
            })
        })
        .unwrap();
    let with = view(&store, today, &SyncStatus::default()).unwrap();
    assert_eq!(with.earnings.len(), 12);
    let last = with.earnings.last().unwrap();
    assert_eq!(last.period, period.to_string());
    assert_eq!(
        (last.total_minor, last.total.as_str(), last.closed),
        (Some(12_345), "USD 123.45", false)
    );
    let before = &with.earnings[10];
    assert_eq!(
        (before.period.clone(), before.total_minor, before.closed),
        (previous.to_string(), Some(9_900), true)
    );
    assert!(with.earnings[..10].iter().all(|b| b.total_minor.is_none()));
    assert_eq!(with.alerts.len(), 1);
    assert_eq!(
        with.alerts[0].message,
        "A new device signed in to your account"
    );
}

/// With the plan on the device, the rank card is the plan's check of the next rank: the
/// same figures the server's run of this period found, from the cached team alone.
#[tokio::test(flavor = "multi_thread")]
async fn rank_progress_matches_the_servers_run() {
    use canopy_core::comp::{Leg, MemberFacts, check_rank};
    use canopy_server::commissions::{self, CommissionPlan};

    let c = company().await;
    let (running, p) = serve(&c).await;
    let (store, token) = cached(&c, &p, Role::Manager, "manager.db").await;
    let today = OffsetDateTime::now_utc().date();
    let period = Period::containing(today).unwrap();

    // Before the plan reaches the device: the ladder, no requirements.
    let before = view(&store, today, &SyncStatus::default()).unwrap();
    assert!(
        before.rank.requirements.is_empty(),
        "no plan, no requirements"
    );
    assert!(before.rank.qualifies_for.is_none());

    let plan = CommissionPlan::bundled().unwrap();
    commissions::run(&*c.storage, &plan, period, None, OffsetDateTime::now_utc)
        .await
        .unwrap();
    canopy_sync::ServerClient::new(&p)
        .unwrap()
        .pull_statements(&store, &token)
        .await
        .unwrap();
    running.shutdown().await.unwrap();
    let got = view(&store, today, &SyncStatus::default()).unwrap();

    // The server's run: the manager's result and their legs', checked against the rank
    // above the one they reached, by the plan's own code.
    let me = member_of(&c, Role::Manager).await;
    let (own, legs) = c
        .storage
        .period_result_with_legs(me, period)
        .await
        .unwrap()
        .unwrap();
    let legs: Vec<Leg> = legs
        .iter()
        .map(|l| Leg {
            member: l.member,
            gv: l.gv,
            best_rank: l.best_rank_in_group,
        })
        .collect();
    let facts = MemberFacts {
        pv: own.pv,
        gv: own.gv,
        active: own.active,
        legs: &legs,
    };
    assert_eq!(
        got.rank.qualifies_for.as_ref().map(|r| r.level),
        Some(own.rank.get()),
        "the device projects the rank the server's run found"
    );
    let next = plan
        .plan()
        .ranks()
        .iter()
        .find(|r| r.rank.level > own.rank)
        .expect("the demo manager is below the top rank");
    let expected = check_rank(plan.plan(), next, &facts);
    assert_eq!(
        got.rank.next.as_ref().map(|r| (r.level, r.name.clone())),
        Some((next.rank.level.get(), next.rank.name.clone()))
    );
    let shown: Vec<(i64, i64, bool, String)> = got
        .rank
        .requirements
        .iter()
        .map(|r| (r.value, r.target, r.met, r.missing.clone()))
        .collect();
    let wanted: Vec<(i64, i64, bool, String)> = expected
        .requirements
        .iter()
        .map(|r| {
            (
                r.current.min(r.required),
                r.required,
                r.met,
                r.summary.clone(),
            )
        })
        .collect();
    assert!(!wanted.is_empty());
    assert_eq!(shown, wanted);
}
