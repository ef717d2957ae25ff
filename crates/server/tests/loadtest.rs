//! The load tool (`canopy-server loadtest`, PERFORMANCE.md P10) with tiny numbers: a real
//! server over TLS on a loopback port, a SQLite file in a temp dir seeded on the way, a few
//! clients that sign in, bootstrap, sync deltas and push.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::Duration;

use canopy_server::demo;
use canopy_server::loadtest::{self, LoadOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_run_makes_requests_that_all_succeed_and_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let files = demo::ensure_files(dir.path()).unwrap();
    let mut config = files.config(SocketAddr::from(([127, 0, 0, 1], 0)));
    config.database.url = canopy_server::storage::testing::database_url(dir.path(), "load").await;
    let options = LoadOptions {
        clients: 5,
        warmup: Duration::ZERO,
        duration: Some(Duration::from_secs(20)),
        requests: Some(200),
        push_every: 5,
        rate: None,
        members: 2_000,
        seed: 3,
        ca_cert: files.ca_cert.clone(),
    };
    let report = loadtest::run(&config, &options).await.unwrap();

    assert_eq!(report.database, canopy_server::storage::testing::backend());
    assert_eq!(report.members, 2_000);
    assert_eq!((report.clients, report.managers), (5, 1));
    assert!(report.bootstrapped_members >= 5, "{report:?}");
    assert_eq!(report.requests, 200, "the budget is spent exactly");
    assert_eq!(report.failed, 0, "errors: {:?}", report.errors);
    assert!(report.errors.is_empty());
    assert_eq!(report.ok, report.requests);
    let kinds: Vec<&str> = report.by_kind.keys().map(String::as_str).collect();
    assert_eq!(kinds, ["changes", "push"]);
    assert_eq!(
        report.by_kind.values().map(|k| k.requests).sum::<u64>(),
        report.requests
    );
    for kind in report.by_kind.values() {
        assert_eq!(kind.ok + kind.failed, kind.requests);
    }
    // One push in five requests per client, each on a beat of its own: about 40, each
    // applied, and the orders they place come back to their own clients as deltas.
    let pushes = report.by_kind["push"].requests;
    assert!((35..=45).contains(&pushes), "{pushes} pushes");
    assert_eq!(report.pushes_applied, pushes);
    assert!(report.delta_ops > 0, "{report:?}");
    let l = report.latency_ms;
    assert!(0.0 < l.p50 && l.p50 <= l.p95 && l.p95 <= l.p99 && l.p99 <= l.max);
    assert!(report.requests_per_second > 0.0);
    assert!(report.text().contains("200 requests"));

    assert_eq!(report.offered_rate, None);

    // The database is kept: a second run reuses the company and makes new accounts. This
    // one keeps a schedule: after a warm-up that isn't counted, 2 clients offering 40
    // requests/s in all send 20 requests in about half a second, not as fast as they can.
    let again = loadtest::run(
        &config,
        &LoadOptions {
            clients: 2,
            requests: Some(20),
            rate: Some(40.0),
            warmup: Duration::from_millis(500),
            ..options
        },
    )
    .await
    .unwrap();
    assert_eq!(
        (again.members, again.requests, again.failed),
        (2_000, 20, 0)
    );
    assert_eq!(again.offered_rate, Some(40.0));
    assert_eq!(again.warmup_seconds, 0.5);
    assert!(!again.by_kind.contains_key("warm-up"), "{again:?}");
    assert!(again.seconds >= 0.45, "{again:?}");
    assert!(again.requests_per_second <= 45.0, "{again:?}");
    assert!(
        again.text().contains("offered 40 requests/s"),
        "{}",
        again.text()
    );
}

#[tokio::test]
async fn limits_are_checked_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let files = demo::ensure_files(dir.path()).unwrap();
    let config = files.config(SocketAddr::from(([127, 0, 0, 1], 0)));
    let options = LoadOptions {
        clients: loadtest::MAX_CLIENTS + 1,
        warmup: Duration::ZERO,
        duration: Some(Duration::from_secs(1)),
        requests: None,
        push_every: 0,
        rate: None,
        members: 10,
        seed: 1,
        ca_cert: files.ca_cert.clone(),
    };
    let error = loadtest::run(&config, &options).await.unwrap_err();
    assert_eq!(error.to_string(), "--clients must be 1 to 1000");
    assert!(!files.database.exists(), "nothing was opened");
}
