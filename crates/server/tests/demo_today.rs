//! The demo company as of the day it is first made: its last period is that month (with
//! orders up to that day, none after), the day is recorded, and a restart on another day
//! keeps the company made first. The generator stays deterministic for the same inputs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use canopy_core::{MemberId, Period};
use canopy_server::demo::{self, DemoCompany};
use canopy_server::seed::{Company, PERIODS, REFERENCE_DATE};
use canopy_server::storage;
use time::macros::date;

#[test]
fn a_company_generated_as_of_a_day_ends_its_last_period_that_day() {
    let today = date!(2026 - 11 - 21);
    let company = Company::generate_at(3_000, 9, today).unwrap();
    assert_eq!(company.reference(), today);
    let orders = company.orders(0..3_000).unwrap();
    let periods: std::collections::BTreeSet<Period> = orders
        .iter()
        .map(|o| Period::containing(o.placed_at.date()).unwrap())
        .collect();
    assert_eq!(periods.len(), PERIODS as usize);
    assert_eq!(periods.last(), Some(&Period::parse("2026-11").unwrap()));
    assert!(orders.iter().all(|o| o.placed_at.date() <= today));
    let members = company.members(0..3_000).unwrap();
    assert!(members.iter().all(|m| m.member.joined_on <= today));
    assert!(
        members
            .iter()
            .any(|m| Period::containing(m.member.joined_on) == Period::containing(today)),
        "people joined this month"
    );

    // The same inputs, the same company; the fixed date is still the default.
    let again = Company::generate_at(3_000, 9, today).unwrap();
    assert_eq!(again.orders(0..3_000).unwrap(), orders);
    assert_eq!(again.members(0..3_000).unwrap(), members);
    let fixed = Company::generate(500, 9).unwrap();
    assert_eq!(fixed.reference(), REFERENCE_DATE);
    assert_eq!(
        fixed,
        Company::generate_at(500, 9, REFERENCE_DATE).unwrap(),
        "generate is generate_at the fixed date"
    );
}

#[tokio::test]
async fn the_demo_is_made_as_of_its_first_run_and_kept_after() {
    let dir = tempfile::tempdir().unwrap();
    let files = demo::ensure_files(dir.path()).unwrap();
    let mut config = files.config(SocketAddr::from(([127, 0, 0, 1], 0)));
    config.database.url = canopy_server::storage::testing::database_url(dir.path(), "demo").await;
    let company = DemoCompany {
        members: 1_500,
        seed: 4,
    };
    let first_day = date!(2027 - 03 - 09);
    let first = demo::prepare_at(&files, &config, company, first_day)
        .await
        .unwrap();
    let saved: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("demo-accounts.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(saved["reference"], "2027-03-09");

    let storage = storage::open(&config.database.url).await.unwrap();
    let expected = Company::generate_at(company.members, company.seed, first_day).unwrap();
    let newest = MemberId::new(company.members as i64);
    let stored = storage.find_member(newest).await.unwrap().unwrap();
    let generated = &expected
        .members(company.members - 1..company.members)
        .unwrap()[0];
    assert_eq!(stored.joined_on, generated.member.joined_on);
    let march = (1..=company.members as i64)
        .map(MemberId::new)
        .collect::<Vec<_>>();
    let volumes = storage
        .volumes_of(march, Period::parse("2027-03").unwrap())
        .await
        .unwrap();
    assert!(!volumes.is_empty(), "the month of the first run has volume");
    drop(storage);

    // A restart weeks later: the same accounts and company, not a new one.
    let later = demo::prepare_at(&files, &config, company, date!(2027 - 05 - 02))
        .await
        .unwrap();
    assert_eq!(later, first);
    let storage = storage::open(&config.database.url).await.unwrap();
    assert_eq!(
        storage
            .find_member(newest)
            .await
            .unwrap()
            .unwrap()
            .joined_on,
        stored.joined_on
    );
}
