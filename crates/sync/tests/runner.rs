//! The sync task end to end: the real server over pinned TLS and a real SQLCipher cache,
//! driven only through the handle the app holds (triggers, events, status, stop). It
//! bootstraps at start, pushes a local write at once, rides out an outage, stops cleanly
//! mid-bootstrap and resumes, halts on a pin mismatch, and ends on a revoked device.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use canopy_core::sync::push::Command;
use canopy_core::{IdempotencyKey, MemberId, Role};
use canopy_server::server;
use canopy_store::{CommandKind, OutboxState, Store};
use canopy_sync::ServerClient;
use canopy_sync::runner::{self, SyncEvent, SyncHandle, SyncStatus};
use canopy_sync::schedule::{Policy, Trigger};
use common::{
    MEMBERS, account, admin_revokes, cached_ids, company, enrollment_form, fresh_store, member_of,
    scope_of, serve, sign_in, sign_in_with_device,
};
use time::OffsetDateTime;
use tokio::sync::{broadcast, watch};

/// Long enough for a loaded machine; no assertion is about how long anything took.
const PATIENCE: Duration = Duration::from_secs(60);

/// Quick retries, so an outage test doesn't take minutes.
fn fast() -> Policy {
    Policy {
        interval: Duration::from_millis(300),
        first_retry: Duration::from_millis(50),
        max_retry: Duration::from_millis(400),
    }
}

fn key(n: u32) -> IdempotencyKey {
    let mut bytes = [0u8; 16];
    bytes[..4].copy_from_slice(&n.to_be_bytes());
    bytes[15] = 0xCB;
    IdempotencyKey::from_random_bytes(bytes)
}

/// The next event that `wanted` accepts (skipping the others).
async fn next_event(
    events: &mut broadcast::Receiver<SyncEvent>,
    what: &str,
    wanted: impl Fn(&SyncEvent) -> bool,
) -> SyncEvent {
    let wait = async {
        loop {
            match events.recv().await {
                Ok(event) if wanted(&event) => return event,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => panic!("events closed before {what}"),
            }
        }
    };
    tokio::time::timeout(PATIENCE, wait)
        .await
        .unwrap_or_else(|_| panic!("no {what} event"))
}

/// Waits until the status satisfies `wanted`.
async fn status_until(
    sync: &SyncHandle,
    what: &str,
    wanted: impl FnMut(&SyncStatus) -> bool,
) -> SyncStatus {
    let mut status = sync.watch_status();
    tokio::time::timeout(PATIENCE, status.wait_for(wanted))
        .await
        .unwrap_or_else(|_| panic!("status never became {what}: {:?}", sync.status()))
        .unwrap()
        .clone()
}

fn is_synced(e: &SyncEvent) -> bool {
    matches!(e, SyncEvent::Synced { .. })
}

/// An enrollment under `sponsor` typed offline into the cache's outbox.
fn enqueue_enrollment(store: &Store, sponsor: MemberId, n: u32) {
    let payload = serde_json::to_string(&Command::Enroll(Box::new(enrollment_form(
        sponsor.get(),
        n,
    ))))
    .unwrap();
    store
        .enqueue(
            &key(n),
            CommandKind::Enroll,
            &payload,
            OffsetDateTime::now_utc(),
        )
        .unwrap();
}

/// The new member the server made of the only applied command.
fn applied_member(store: &Store) -> i64 {
    let applied = store.outbox(Some(OutboxState::Applied)).unwrap();
    assert_eq!(applied.len(), 1, "{applied:?}");
    applied[0]
        .server_ref
        .as_deref()
        .and_then(|r| r.strip_prefix("member:"))
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("{:?}", applied[0].server_ref))
}

#[tokio::test(flavor = "multi_thread")]
async fn it_bootstraps_at_start_and_pushes_a_local_write_at_once() {
    let c = company().await;
    let (running, p) = serve(&c).await;
    let token = sign_in(&p, account(&c, Role::Distributor)).await;
    let me = member_of(&c, Role::Distributor).await;
    let store = Arc::new(fresh_store(c.dir.path(), "rep.db"));
    let (_token, token_rx) = watch::channel(Some(token));
    // An interval of an hour: anything after the first pass happens because of a trigger.
    let policy = Policy {
        interval: Duration::from_secs(3_600),
        ..fast()
    };
    let mut sync = runner::spawn(
        ServerClient::new(&p).unwrap(),
        store.clone(),
        token_rx,
        policy,
    );
    let mut events = sync.take_events_from_start().unwrap();

    let first = next_event(&mut events, "first sync", is_synced).await;
    assert!(
        matches!(
            first,
            SyncEvent::Synced {
                bootstrapped: true,
                ..
            }
        ),
        "{first:?}"
    );
    assert_eq!(cached_ids(&store), scope_of(&*c.storage, Some(me)).await);
    assert!(store.bootstrap_progress().unwrap().is_none());
    let status = sync.status();
    assert!(
        status.last_success.is_some() && !status.offline,
        "{status:?}"
    );

    // The rep enrolls someone: the app writes the outbox and says so.
    enqueue_enrollment(&store, me, 1);
    assert_eq!(store.outbox(Some(OutboxState::Pending)).unwrap().len(), 1);
    sync.trigger(Trigger::LocalWrite);
    let pushed = next_event(&mut events, "push", |e| matches!(e, SyncEvent::Pushed(_))).await;
    assert!(
        matches!(pushed, SyncEvent::Pushed(summary) if summary.applied == 1),
        "{pushed:?}"
    );
    let second = next_event(&mut events, "second sync", is_synced).await;
    assert!(
        matches!(
            second,
            SyncEvent::Synced {
                bootstrapped: false,
                changes: 1..,
                ..
            }
        ),
        "{second:?}"
    );
    // Applied on the server, and back in the cache with the pull that followed.
    let new = applied_member(&store);
    assert!(cached_ids(&store).contains(&new), "member {new} cached");
    assert_eq!(sync.status().pending, 0);

    sync.stop().await;
    assert_eq!(Arc::strong_count(&store), 1, "the task let go of the cache");
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn offline_it_backs_off_and_when_the_server_is_back_it_syncs_on_its_own() {
    let c = company().await;
    let (running, p) = serve(&c).await;
    let port = running.addr.port();
    let token = sign_in(&p, account(&c, Role::Distributor)).await;
    let me = member_of(&c, Role::Distributor).await;
    let store = Arc::new(fresh_store(c.dir.path(), "rep.db"));
    let (_token, token_rx) = watch::channel(Some(token));
    let mut sync = runner::spawn(
        ServerClient::new(&p).unwrap(),
        store.clone(),
        token_rx,
        fast(),
    );
    let mut events = sync.take_events_from_start().unwrap();
    next_event(&mut events, "first sync", is_synced).await;

    // The server goes away; meanwhile the rep enrolls someone.
    running.shutdown().await.unwrap();
    enqueue_enrollment(&store, me, 2);
    sync.trigger(Trigger::LocalWrite);
    let failed = next_event(&mut events, "third failure in a row", |e| {
        matches!(e, SyncEvent::Failed { failures: 3.., .. })
    })
    .await;
    assert!(
        matches!(failed, SyncEvent::Failed { offline: true, .. }),
        "{failed:?}"
    );
    let status = sync.status();
    assert!(status.offline && status.failures >= 3, "{status:?}");
    assert!(status.halted.is_none(), "{status:?}");
    assert_eq!(status.pending, 1, "the write waits in the outbox");
    assert!(store.outbox(Some(OutboxState::Applied)).unwrap().is_empty());

    // The server comes back at the same address; nobody triggers anything.
    let mut config = c.config.clone();
    config.listen = SocketAddr::from(([127, 0, 0, 1], port));
    let running = server::start(&config).await.unwrap();
    let back = next_event(&mut events, "sync after the outage", is_synced).await;
    assert!(
        matches!(
            back,
            SyncEvent::Synced {
                bootstrapped: false,
                ..
            }
        ),
        "{back:?}"
    );
    let new = applied_member(&store);
    assert!(cached_ids(&store).contains(&new), "member {new} cached");
    let status = status_until(&sync, "online", |s| !s.offline && s.failures == 0).await;
    assert_eq!(status.pending, 0, "{status:?}");

    sync.stop().await;
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn stopped_mid_bootstrap_it_leaves_a_consistent_cache_that_the_next_run_resumes() {
    let c = company().await;
    let (running, p) = serve(&c).await;
    let token = sign_in(&p, account(&c, Role::Admin)).await;
    let store = Arc::new(fresh_store(c.dir.path(), "admin.db"));
    let client = ServerClient::new(&p).unwrap();
    let (_token, token_rx) = watch::channel(Some(token));
    let mut sync = runner::spawn(client.clone(), store.clone(), token_rx.clone(), fast());
    let mut events = sync.take_events_from_start().unwrap();
    next_event(&mut events, "first page", |e| {
        matches!(e, SyncEvent::Bootstrap(_))
    })
    .await;

    // The app locks.
    tokio::time::timeout(PATIENCE, sync.stop())
        .await
        .expect("stop returns");
    assert_eq!(Arc::strong_count(&store), 1, "the task let go of the cache");
    let progress = store
        .bootstrap_progress()
        .unwrap()
        .expect("the bootstrap is recorded as under way");
    assert!(progress.next_page >= 1, "{progress:?}");
    let cached = cached_ids(&store);
    assert_eq!(cached.len() as u64, progress.rows_done, "{progress:?}");
    assert!(cached.len() < MEMBERS, "stopped before the end");
    assert!(store.sync_state().unwrap().cursor.is_none());

    // Unlocked again: the next run goes on from the next page.
    let mut sync = runner::spawn(client, store.clone(), token_rx, fast());
    let mut events = sync.take_events_from_start().unwrap();
    let resumed = next_event(&mut events, "resumed page", |e| {
        matches!(e, SyncEvent::Bootstrap(_))
    })
    .await;
    assert!(
        matches!(resumed, SyncEvent::Bootstrap(p) if p.page == progress.next_page),
        "{resumed:?} after {progress:?}"
    );
    let done = next_event(&mut events, "sync", is_synced).await;
    assert!(
        matches!(
            done,
            SyncEvent::Synced {
                bootstrapped: true,
                ..
            }
        ),
        "{done:?}"
    );
    assert_eq!(
        cached_ids(&store),
        (1..=MEMBERS as i64).collect::<BTreeSet<_>>()
    );
    assert!(store.bootstrap_progress().unwrap().is_none());
    assert!(store.sync_state().unwrap().cursor.is_some());

    sync.stop().await;
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pin_mismatch_halts_with_a_security_warning_until_the_user_asks() {
    let c = company().await;
    let (running, p) = serve(&c).await;
    let token = sign_in(&p, account(&c, Role::Distributor)).await;
    let mut intercepted = p.clone();
    intercepted.pins = vec![
        data_encoding::BASE64.encode(&[4; 32]),
        data_encoding::BASE64.encode(&[5; 32]),
    ];
    let store = Arc::new(fresh_store(c.dir.path(), "rep.db"));
    let (_token, token_rx) = watch::channel(Some(token));
    let mut sync = runner::spawn(
        ServerClient::new(&intercepted).unwrap(),
        store.clone(),
        token_rx,
        fast(),
    );
    let mut events = sync.take_events_from_start().unwrap();
    let warning = next_event(&mut events, "security warning", |e| {
        matches!(e, SyncEvent::SecurityWarning(_))
    })
    .await;
    assert!(
        matches!(&warning, SyncEvent::SecurityWarning(why) if why.starts_with("security warning")),
        "{warning:?}"
    );
    let status = sync.status();
    assert!(status.security_warning, "{status:?}");
    assert!(
        status.halted.is_some() && status.next_at.is_none(),
        "{status:?}"
    );

    // Local writes and the network coming back don't restart it; many backoffs pass.
    sync.trigger(Trigger::LocalWrite);
    sync.trigger(Trigger::Online);
    tokio::time::sleep(fast().max_retry * 5).await;
    let mut since = Vec::new();
    while let Ok(event) = events.try_recv() {
        since.push(event);
    }
    assert!(since.is_empty(), "nothing was tried: {since:?}");
    assert!(cached_ids(&store).is_empty());

    // The user presses "sync now": one more try, and the same warning.
    sync.trigger(Trigger::Requested);
    let started = next_event(&mut events, "a new try", |_| true).await;
    assert_eq!(started, SyncEvent::Started);
    next_event(&mut events, "security warning again", |e| {
        matches!(e, SyncEvent::SecurityWarning(_))
    })
    .await;
    assert!(sync.status().security_warning);

    sync.stop().await;
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_device_is_reported_and_the_task_ends_so_the_cache_can_be_wiped() {
    use canopy_store::{KdfParams, NoKeychain, Vault};
    let c = company().await;
    let (running, p) = serve(&c).await;
    let (token, device) = sign_in_with_device(&p, account(&c, Role::Distributor)).await;
    let vault = Vault::new(c.dir.path().join("laptop"), Box::new(NoKeychain));
    let store = vault
        .create(
            "a device password",
            KdfParams::DEFAULT,
            std::time::SystemTime::now(),
        )
        .unwrap();
    let store = Arc::new(store);
    let (_token, token_rx) = watch::channel(Some(token));
    let mut sync = runner::spawn(
        ServerClient::new(&p).unwrap(),
        store.clone(),
        token_rx,
        fast(),
    );
    let mut events = sync.take_events_from_start().unwrap();
    next_event(&mut events, "first sync", is_synced).await;
    assert!(!cached_ids(&store).is_empty());

    // The laptop is reported stolen: an admin revokes it.
    admin_revokes(&c, &p, device).await;

    next_event(&mut events, "device revoked", |e| {
        matches!(e, SyncEvent::DeviceRevoked)
    })
    .await;
    let status = status_until(&sync, "revoked", |s| s.revoked).await;
    assert!(!status.running, "{status:?}");
    // The task ends by itself and lets go of the cache, which the app then wipes.
    let store = tokio::time::timeout(PATIENCE, async {
        let mut store = store;
        loop {
            match Arc::try_unwrap(store) {
                Ok(store) => return store,
                Err(shared) => store = shared,
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the task released the cache");
    // Its last steps after letting go of the store may still be running: it ends soon.
    tokio::time::timeout(PATIENCE, async {
        while !sync.is_finished() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the task ended");
    vault.wipe(Some(store)).unwrap();
    assert!(!vault.exists());
    sync.trigger(Trigger::Requested); // ignored: nothing left to run
    sync.stop().await;
    running.shutdown().await.unwrap();
}
