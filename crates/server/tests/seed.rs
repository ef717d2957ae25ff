//! The seeded company: its tree shape, its people and orders, its determinism, and a
//! bulk insert into a real SQLite file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};

use canopy_core::{MemberId, MemberStatus, OrderId};
use canopy_server::seed::{self, Company, REFERENCE_DATE, SeedError};
use canopy_server::storage::{NewMember, Tree};

const N: usize = 10_000;

fn depths(members: &[NewMember]) -> Vec<u32> {
    let mut depth = vec![0u32; members.len() + 1];
    for m in members {
        let id = m.member.id.get() as usize;
        if let Some(sponsor) = m.member.sponsor {
            depth[id] = depth[sponsor.get() as usize] + 1;
        }
    }
    depth
}

#[test]
fn the_tree_has_the_shape_of_a_real_company() {
    let company = Company::generate(N, 42).unwrap();
    let members = company.members(0..N).unwrap();
    assert_eq!(members.len(), N);
    assert_eq!(company.len(), N);

    let mut enrollees: HashMap<MemberId, u32> = HashMap::new();
    let mut slots = HashSet::new();
    for (index, new) in members.iter().enumerate() {
        let m = &new.member;
        assert_eq!(
            m.id,
            MemberId::new(index as i64 + 1),
            "ids are in join order"
        );
        match m.sponsor {
            None => assert_eq!(index, 0, "only the root has no sponsor"),
            Some(sponsor) => {
                assert!(sponsor < m.id, "{sponsor} enrolled {} before joining", m.id);
                let s = &members[sponsor.get() as usize - 1].member;
                assert!(s.joined_on <= m.joined_on);
                *enrollees.entry(sponsor).or_default() += 1;
                let placement = m.placement.expect("every enrollee is placed");
                assert_eq!(placement.parent, sponsor, "unilevel under the sponsor");
                assert!(slots.insert((placement.parent, placement.position)));
            }
        }
        assert!(m.joined_on <= REFERENCE_DATE);
        assert_eq!(m.country.to_string().len(), 2);
        assert_eq!(
            canopy_core::CountryCode::parse(m.country.as_str()),
            Ok(m.country)
        );
        assert_eq!(new.personal.is_none(), m.status == MemberStatus::Erased);
    }
    let small = members
        .iter()
        .filter(|m| enrollees.get(&m.member.id).copied().unwrap_or(0) <= 5)
        .count();
    assert!(small * 100 >= N * 95, "{small} of {N} have 0–5 enrollees");
    let leaders = members.len() - small;
    assert!(leaders > 0, "some leaders enroll more than five");

    let depth = depths(&members);
    let deepest = depth.iter().copied().max().unwrap();
    assert!(deepest >= 200, "the longest leg is only {deepest} deep");
    assert_eq!(deepest, company.max_depth());

    let countries: HashSet<_> = members.iter().map(|m| m.member.country).collect();
    assert!(countries.len() >= 8, "{countries:?}");
    let active = members
        .iter()
        .filter(|m| m.member.status == MemberStatus::Active)
        .count();
    assert!(active * 100 >= N * 70, "only {active} active");
    let ranks: HashSet<_> = members.iter().map(|m| m.member.rank).collect();
    assert!(ranks.len() >= 4, "ranks {ranks:?}");
}

#[test]
fn orders_cover_twelve_periods_and_add_up() {
    let company = Company::generate(3_000, 9).unwrap();
    let members = company.members(0..3_000).unwrap();
    let orders = company.orders(0..3_000).unwrap();
    assert!(orders.len() > 3_000, "{} orders", orders.len());
    let mut months = HashSet::new();
    let mut ids = HashSet::new();
    for order in &orders {
        let buyer = &members[order.buyer.get() as usize - 1].member;
        assert!(buyer.joined_on <= order.placed_at.date());
        assert!(order.placed_at.date() <= REFERENCE_DATE);
        assert!(!order.lines.is_empty());
        assert!(
            order
                .lines
                .iter()
                .all(|l| l.unit_price.currency() == order.currency)
        );
        assert!(order.total().is_ok() && order.total_pv().is_ok());
        assert!(ids.insert(order.id));
        months.insert((order.placed_at.year(), order.placed_at.month()));
    }
    assert_eq!(months.len(), seed::PERIODS as usize);
}

#[test]
fn the_same_seed_gives_the_same_company_in_any_batches() {
    let a = Company::generate(4_000, 1234).unwrap();
    let b = Company::generate(4_000, 1234).unwrap();
    assert_eq!(a, b);
    let whole = a.members(0..4_000).unwrap();
    let mut batched = b.members(0..1_500).unwrap();
    batched.extend(b.members(1_500..4_000).unwrap());
    assert_eq!(whole, batched);
    let rendered = |members: &[NewMember]| {
        members
            .iter()
            .map(|m| {
                format!(
                    "{:?}|{}",
                    m.member,
                    serde_json::to_string(&m.personal).unwrap()
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(rendered(&whole), rendered(&batched), "byte for byte");
    assert_eq!(a.orders(0..4_000).unwrap(), b.orders(0..4_000).unwrap());

    let other = Company::generate(4_000, 1235).unwrap();
    assert_ne!(other.members(0..4_000).unwrap(), whole);
    assert_ne!(
        a.demo_members().unwrap(),
        Company::generate(4_000, 99)
            .unwrap()
            .demo_members()
            .unwrap()
    );
}

#[test]
fn tiny_and_empty_companies() {
    assert_eq!(
        Company::generate(0, 1).unwrap_err().to_string(),
        "a company needs at least one member"
    );
    let one = Company::generate(1, 1).unwrap();
    assert_eq!(one.members(0..10).unwrap().len(), 1);
    assert!(matches!(
        one.demo_members(),
        Err(SeedError::NoDemoMember(_))
    ));
}

#[tokio::test]
async fn inserts_in_batches() {
    let dir = tempfile::tempdir().unwrap();
    let url = canopy_server::storage::testing::database_url(dir.path(), "seed").await;
    let storage = canopy_server::storage::open(&url).await.unwrap();
    let company = Company::generate(3_000, 5).unwrap();
    let mut reports = 0;
    let done = seed::insert(&*storage, &company, 700, |_| reports += 1)
        .await
        .unwrap();
    assert_eq!(done.members, 3_000);
    assert!(reports >= 5);
    assert_eq!(
        done.orders as usize,
        company.orders(0..3_000).unwrap().len()
    );

    let root = MemberId::new(1);
    assert_eq!(
        storage.count_downline(root, Tree::Sponsor).await.unwrap(),
        2_999
    );
    assert_eq!(
        storage.count_downline(root, Tree::Placement).await.unwrap(),
        2_999
    );
    let picks = company.demo_members().unwrap();
    for id in [picks.manager, picks.distributor] {
        let (enrolled, downline) = company.team(id).unwrap();
        assert!(downline > 0);
        assert_eq!(
            storage.count_downline(id, Tree::Sponsor).await.unwrap(),
            u64::from(downline)
        );
        let listed = storage.list_enrollees(id, None, 100).await.unwrap();
        assert_eq!(listed.len() as u32, enrolled);
    }
    let stored = storage
        .find_member(picks.distributor)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored,
        company
            .members(picks.distributor.get() as usize - 1..picks.distributor.get() as usize)
            .unwrap()[0]
            .member
    );
    let first_order = company.orders(0..1).unwrap().remove(0);
    assert_eq!(
        storage.find_order(first_order.id).await.unwrap(),
        Some(first_order)
    );
    assert_eq!(storage.find_order(OrderId::new(1)).await.unwrap(), None);

    let again = seed::insert(&*storage, &company, 700, |_| {})
        .await
        .unwrap_err();
    assert!(
        again
            .to_string()
            .starts_with("the database already has members"),
        "{again}"
    );
}
