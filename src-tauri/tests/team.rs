//! The team review over a manager's real cache: the legs add up to the team, the new
//! enrollees all joined this period, the members listed as not active are not, the CSV
//! has one row per member of its section (checked against the cache itself, and with
//! formulas defused), and a distributor is refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../crates/sync/tests/common/mod.rs"]
mod common;

use canopy_app::commands::team::{SHOWN, export, overview};
use canopy_core::ipc::{CommandError, TeamSection};
use canopy_core::{MemberStatus, Period, Role};
use canopy_store::Store;
use common::{cached, company, member_of, serve};

async fn cache_of(
    c: &common::Company,
    p: &canopy_core::provisioning::Provisioning,
    role: Role,
) -> Store {
    let (store, _) = cached(c, p, role, &format!("{role:?}.db")).await;
    store.write(|w| w.put_account_role(role)).unwrap();
    store
}

#[tokio::test(flavor = "multi_thread")]
async fn the_team_review_adds_up_and_exports_every_row() {
    let c = company().await;
    let (running, p) = serve(&c).await;
    let store = cache_of(&c, &p, Role::Manager).await;
    let distributor = cache_of(&c, &p, Role::Distributor).await;
    running.shutdown().await.unwrap();
    let me = member_of(&c, Role::Manager).await;
    let today = time::OffsetDateTime::now_utc().date();
    let period = Period::containing(today).unwrap();

    let team = overview(&store, today).unwrap();
    assert_eq!(team.period, period.to_string());
    assert_eq!(team.team_size, store.subtree(me, period).unwrap().team_size);
    assert!(!team.legs.is_empty(), "the manager has a team");
    let in_legs: u64 = team.legs.iter().map(|l| l.members).sum();
    assert_eq!(
        in_legs, team.team_size,
        "every member is in exactly one leg"
    );
    assert!(team.legs.iter().all(|l| l.member.level == 1));
    let first_day = period.first_day().to_string();
    assert!(team.new_enrollees.iter().all(|m| m.joined_on >= first_day));
    assert!(team.new_enrollees.len() <= SHOWN as usize);
    assert!(
        team.not_active
            .iter()
            .all(|m| matches!(m.status, MemberStatus::Inactive | MemberStatus::Suspended))
    );

    // The legs as CSV: a header and one row per leg, in a new file each time.
    let dir = tempfile::tempdir().unwrap();
    let legs = export(&store, TeamSection::Legs, dir.path(), today).unwrap();
    assert_eq!(legs.rows, team.legs.len() as u64);
    let text = std::fs::read_to_string(&legs.path).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(reader.records().count(), team.legs.len());
    let again = export(&store, TeamSection::Legs, dir.path(), today).unwrap();
    assert_ne!(
        again.path, legs.path,
        "an earlier export is never overwritten"
    );

    // Not active: every such member of the cache, however many pages.
    let not_active = export(&store, TeamSection::NotActive, dir.path(), today).unwrap();
    let expected = store
        .database()
        .read(|conn| {
            Ok(conn.query_row(
                "SELECT count(*) FROM members WHERE id != ?1 AND status IN ('inactive', 'suspended')",
                [me.get()],
                |r| r.get::<_, i64>(0),
            )?)
        })
        .unwrap();
    let expected = u64::try_from(expected).unwrap();
    assert!(expected > 0, "the demo team has members who are not active");
    assert_eq!(not_active.rows, expected);
    assert_eq!(team.more_not_active, expected > u64::from(SHOWN));

    // A distributor's cache: refused, nothing written.
    let refused = overview(&distributor, today).unwrap_err();
    assert!(matches!(refused, CommandError::Refused(_)), "{refused:?}");
    let before = std::fs::read_dir(dir.path()).unwrap().count();
    assert!(export(&distributor, TeamSection::Legs, dir.path(), today).is_err());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), before);
}
