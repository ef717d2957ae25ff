//! Faults during an outbox push, end to end: a device with a real SQLCipher cache pushes
//! hundreds of enrollments made offline to the real server over pinned TLS while
//! something breaks underneath, and keeps pushing (as the app's runner does after a
//! failure) until nothing is left to send. Afterwards nothing is lost and nothing doubled:
//! every command applied exactly once, each to a member of its own, replays answered the
//! same way, and every new member reaches the device with the next delta.
//!
//! - **The database drops every connection** (PostgreSQL only): another task runs
//!   `pg_terminate_backend` on every backend of the test's database, over a connection of
//!   its own, several times during the push. That is what a database restart (or a
//!   failover of a managed database) looks like to the server: every pooled connection
//!   dies at once, each transaction in flight is rolled back, and the pool must replace
//!   the connections instead of failing every later call. SQLite has no connections to
//!   drop, so the test returns early there.
//! - **An instance crashes mid-push** (both backends): two instances on one database
//!   behind a small TCP proxy that fails over like a load balancer (to the second when the
//!   first is marked down or refuses the connection). The first is killed without grace
//!   (`RunningServer::kill`) while a push request is in flight, and the proxy closes the
//!   connections it had open to it; the device's next attempts reach the second.
//!
//! Each test also asserts that the fault really hit (some push attempt failed or was
//! answered "retry later"), so it can't pass with the fault missing its moment.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::io;
use std::net::SocketAddr;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use canopy_core::provisioning::Provisioning;
use canopy_core::sync::push::{Command, Outcome, PushCommand, PushRequest, PushResponse};
use canopy_core::{IdempotencyKey, MemberId, Period, Role};
use canopy_server::demo;
use canopy_server::storage::Tree;
use canopy_server::storage::testing::backend;
use canopy_store::{CommandKind, OutboxItem, OutboxState, Store};
use canopy_sync::push::PushSummary;
use canopy_sync::{ServerClient, SyncError};
use common::{NOW, account, company, enrollment_form, fresh_store, member_of, serve, sign_in};
use time::OffsetDateTime;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinHandle};

/// The most push attempts a device makes before the test calls it a failure.
const ATTEMPTS: u32 = 50;

fn key(test: u8, n: u32) -> IdempotencyKey {
    let mut bytes = [0u8; 16];
    bytes[..4].copy_from_slice(&n.to_be_bytes());
    bytes[14] = test;
    bytes[15] = 0xFA;
    IdempotencyKey::from_random_bytes(bytes)
}

/// A field rep offline: `count` enrollments under `sponsor`, queued in the outbox.
fn enqueue_enrollments(store: &Store, test: u8, sponsor: MemberId, count: u32) {
    let now = OffsetDateTime::now_utc();
    for n in 0..count {
        let payload = serde_json::to_string(&Command::Enroll(Box::new(enrollment_form(
            sponsor.get(),
            n,
        ))))
        .unwrap();
        store
            .enqueue(&key(test, n), CommandKind::Enroll, &payload, now)
            .unwrap();
    }
}

fn waiting(store: &Store) -> usize {
    store.outbox(Some(OutboxState::Pending)).unwrap().len()
        + store.outbox(Some(OutboxState::Sending)).unwrap().len()
}

/// What the device's attempts came to.
#[derive(Debug, Default)]
struct Attempts {
    made: u32,
    /// Failed outright (no answer, or an error status).
    failed: Vec<SyncError>,
    /// Commands answered "retry later".
    retry_later: u64,
}

impl Attempts {
    fn fault_seen(&self) -> bool {
        !self.failed.is_empty() || self.retry_later > 0
    }
}

/// Pushes until nothing is waiting, as the app's runner does after failures; `failures`
/// counts attempts that failed or were answered "retry later", as they happen.
async fn push_until_done(
    client: &ServerClient,
    store: &Store,
    token: &str,
    failures: &AtomicU32,
) -> Attempts {
    let mut attempts = Attempts::default();
    while waiting(store) > 0 {
        assert!(
            attempts.made < ATTEMPTS,
            "still {} commands waiting after {ATTEMPTS} attempts: {attempts:?}",
            waiting(store)
        );
        attempts.made += 1;
        let now = OffsetDateTime::now_utc();
        let outcome = tokio::time::timeout(
            Duration::from_secs(120),
            client.push_outbox(store, token, now),
        )
        .await
        .expect("a push attempt hung (one attempt sends everything waiting; slow when the machine is busy, but not this slow)");
        match outcome {
            Ok(PushSummary {
                rejected,
                retry_later,
                ..
            }) => {
                assert_eq!(rejected, 0, "nothing here is refused");
                attempts.retry_later += retry_later;
                if retry_later > 0 {
                    failures.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            Err(err) => {
                assert!(err.is_retryable(), "a failure the app retries: {err:?}");
                failures.fetch_add(1, Ordering::SeqCst);
                attempts.failed.push(err);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    attempts
}

/// The member ids the outbox's applied commands were given, checked: every command
/// applied, each to a member of its own. (Not the attempts' summaries: an attempt that
/// fails after some batches were answered reports an error, not what it applied.)
fn applied_members(store: &Store, count: usize) -> Vec<(IdempotencyKey, MemberId)> {
    let all: Vec<OutboxItem> = store.outbox(None).unwrap();
    assert_eq!(all.len(), count);
    let members: Vec<(IdempotencyKey, MemberId)> = all
        .iter()
        .map(|item| {
            assert_eq!(item.state, OutboxState::Applied, "{item:?}");
            let id = item
                .server_ref
                .as_deref()
                .and_then(|r| r.strip_prefix("member:"))
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("applied without a member: {item:?}"));
            (item.key.clone(), MemberId::new(id))
        })
        .collect();
    let distinct: BTreeSet<MemberId> = members.iter().map(|(_, m)| *m).collect();
    assert_eq!(distinct.len(), count, "{count} commands, {count} members");
    members
}

/// The server has each member, under `sponsor`, and exactly `count` more in the team.
async fn on_the_server(
    c: &common::Company,
    sponsor: MemberId,
    members: &[(IdempotencyKey, MemberId)],
    team_before: u64,
) {
    assert_eq!(
        c.storage
            .count_downline(sponsor, Tree::Sponsor)
            .await
            .unwrap(),
        team_before + members.len() as u64,
        "exactly one new member per enrollment"
    );
    for (_, id) in members {
        let member = c.storage.find_member(*id).await.unwrap();
        assert!(member.is_some(), "member {id:?} is on the server");
    }
}

/// The same commands sent again (a device that lost the answers): the same answers.
async fn replay_answers_the_same(
    p: &Provisioning,
    token: &str,
    test: u8,
    sponsor: MemberId,
    members: &[(IdempotencyKey, MemberId)],
) {
    let http = reqwest::Client::builder()
        .use_preconfigured_tls(canopy_sync::tls::client_config(p).unwrap())
        .build()
        .unwrap();
    let all: Vec<u32> = (0..members.len() as u32).collect();
    for chunk in all.chunks(250) {
        let request = PushRequest {
            commands: chunk
                .iter()
                .map(|&n| PushCommand {
                    key: key(test, n),
                    command: Command::Enroll(Box::new(enrollment_form(sponsor.get(), n))),
                })
                .collect(),
        };
        let response = http
            .post(format!("{}/v1/sync/push", p.server_url))
            .bearer_auth(token)
            .json(&request)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        let answers: PushResponse = response.json().await.unwrap();
        assert_eq!(answers.results.len(), chunk.len());
        for (answer, &n) in answers.results.iter().zip(chunk) {
            let (first_key, member) = &members[n as usize];
            assert_eq!(&answer.key, first_key);
            assert_eq!(
                answer.outcome,
                Outcome::Applied {
                    server_ref: format!("member:{}", member.get())
                },
                "enrollment {n} answered again, the same way"
            );
        }
    }
}

/// A delta brings every new member into the device's cache, under the rep.
async fn pulled_into_the_cache(
    client: &ServerClient,
    store: &Store,
    token: &str,
    sponsor: MemberId,
    members: &[(IdempotencyKey, MemberId)],
    cached_team_before: u64,
) {
    client.pull_changes(store, token, NOW).await.unwrap();
    let period = Period::parse("2026-10").unwrap();
    for (_, id) in members {
        assert!(
            store.member(*id, period).is_ok(),
            "member {id:?} reached the cache"
        );
    }
    assert_eq!(
        store.subtree(sponsor, period).unwrap().team_size,
        cached_team_before + members.len() as u64,
        "the cached team counts every enrollment once"
    );
}

/// Every backend of the current database but this one's: what a database restart does to
/// the server's connections.
const TERMINATE_ALL: &str = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
     WHERE datname = current_database() AND pid <> pg_backend_pid()";

/// The same, only at a moment when another backend has a transaction open (not the
/// pool's empty liveness check); no rows (and nothing done) otherwise.
const TERMINATE_WHILE_BUSY: &str = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
     WHERE datname = current_database() AND pid <> pg_backend_pid() \
     AND EXISTS (SELECT 1 FROM pg_stat_activity AS busy \
         WHERE busy.datname = current_database() AND busy.pid <> pg_backend_pid() \
         AND busy.state <> 'idle' AND busy.xact_start IS NOT NULL AND busy.query <> '')";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_database_dropping_every_connection_during_pushes_loses_and_doubles_nothing() {
    if backend() != "postgres" {
        eprintln!(
            "skipped: dropping the server's database connections is a PostgreSQL fault \
             (set CANOPY_TEST_POSTGRES to run it)"
        );
        return;
    }
    const COUNT: u32 = 600;
    const TEST: u8 = 1;
    let c = company().await;
    let (running, p) = serve(&c).await;
    let client = ServerClient::new(&p).unwrap();
    let token = sign_in(&p, account(&c, Role::Distributor)).await;
    let me = member_of(&c, Role::Distributor).await;
    let store = fresh_store(c.dir.path(), "rep.db");
    client
        .bootstrap(&store, &token, NOW, |_| ControlFlow::Continue(()))
        .await
        .unwrap();
    let period = Period::parse("2026-10").unwrap();
    let cached_team_before = store.subtree(me, period).unwrap().team_size;
    let team_before = c.storage.count_downline(me, Tree::Sponsor).await.unwrap();
    enqueue_enrollments(&store, TEST, me, COUNT);

    // The "database restart": every connection of this test's database but the killer's
    // own, terminated. A burst while the first batch is in flight; then, whenever the
    // server has a transaction open, until a push has failed for it; then once more each
    // time another batch has landed, as soon as the server has a transaction open again
    // (so work in flight is rolled back each time, and the push still gets somewhere
    // between restarts), until nothing is left to push.
    // A plain connection of its own (the URL's TLS options are the server's business).
    let plain = c.config.database.url.split('?').next().unwrap();
    let (killer, connection) = tokio_postgres::connect(plain, tokio_postgres::NoTls)
        .await
        .unwrap();
    let connection = tokio::spawn(connection);
    let failures = AtomicU32::new(0);
    let pushing = AtomicBool::new(true);
    let started = Instant::now();
    let (attempts, kills) = tokio::join!(
        async {
            let attempts = push_until_done(&client, &store, &token, &failures).await;
            pushing.store(false, Ordering::SeqCst);
            attempts
        },
        async {
            let mut kills = Vec::new();
            let mut team_at_last_kill = team_before;
            while pushing.load(Ordering::SeqCst) && kills.len() < 60 {
                let burst = kills.len() < 3;
                tokio::time::sleep(Duration::from_millis(if burst { 120 } else { 10 })).await;
                let team = c.storage.count_downline(me, Tree::Sponsor).await.unwrap();
                // A restart between two queries goes unnoticed (the pool replaces the
                // connection): until one has hit a push, keep at it whenever a transaction
                // is open; after that, once per batch landed.
                let none_hit_yet = failures.load(Ordering::SeqCst) == 0;
                if !burst && !none_hit_yet && team == team_at_last_kill {
                    continue;
                }
                let sql = if burst {
                    TERMINATE_ALL
                } else {
                    TERMINATE_WHILE_BUSY
                };
                let rows = killer.query(sql, &[]).await.unwrap();
                if rows.is_empty() {
                    continue; // nothing in flight yet: look again
                }
                team_at_last_kill = team;
                kills.push((started.elapsed(), rows.len(), team - team_before));
            }
            kills
        },
    );
    eprintln!(
        "{} attempts in {:?}: {} failed, {} commands answered retry-later; \
         connections terminated (at, how many, members in by then): {kills:?}; \
         failures: {:?}",
        attempts.made,
        started.elapsed(),
        attempts.failed.len(),
        attempts.retry_later,
        attempts.failed,
    );
    assert!(
        kills.iter().any(|(_, n, _)| *n > 0),
        "the server's connections were terminated"
    );
    assert!(
        attempts.fault_seen(),
        "the fault hit a push in flight: {attempts:?}"
    );

    let members = applied_members(&store, COUNT as usize);
    on_the_server(&c, me, &members, team_before).await;
    replay_answers_the_same(&p, &token, TEST, me, &members).await;

    // The pool replaced the dropped connections: a new push and a pull work as ever.
    let now = OffsetDateTime::now_utc();
    let payload =
        serde_json::to_string(&Command::Enroll(Box::new(enrollment_form(me.get(), COUNT))))
            .unwrap();
    store
        .enqueue(&key(TEST, COUNT), CommandKind::Enroll, &payload, now)
        .unwrap();
    let summary = client.push_outbox(&store, &token, now).await.unwrap();
    assert_eq!(
        (summary.applied, summary.rejected, summary.retry_later),
        (1, 0, 0)
    );
    let members = applied_members(&store, COUNT as usize + 1);
    on_the_server(&c, me, &members, team_before).await;
    pulled_into_the_cache(&client, &store, &token, me, &members, cached_team_before).await;

    drop(killer);
    let _ = connection.await;
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_instance_killed_mid_push_loses_nothing_and_the_device_retries_on_the_other() {
    const COUNT: u32 = 2_000;
    const TEST: u8 = 2;
    let c = company().await;
    let (first, _) = serve(&c).await;
    let (second, _) = serve(&c).await;
    let proxy = Proxy::start(first.addr, second.addr).await;
    let p = demo::write_provisioning(
        &c.files,
        &format!("https://localhost:{}", proxy.addr.port()),
    )
    .unwrap();
    let client = ServerClient::new(&p).unwrap();
    let token = sign_in(&p, account(&c, Role::Distributor)).await;
    let me = member_of(&c, Role::Distributor).await;
    let store = fresh_store(c.dir.path(), "rep.db");
    client
        .bootstrap(&store, &token, NOW, |_| ControlFlow::Continue(()))
        .await
        .unwrap();
    let period = Period::parse("2026-10").unwrap();
    let cached_team_before = store.subtree(me, period).unwrap().team_size;
    let team_before = c.storage.count_downline(me, Tree::Sponsor).await.unwrap();
    enqueue_enrollments(&store, TEST, me, COUNT);

    // The crash: once the first batch is in, as soon as the device starts sending another
    // request to the first instance (so one is in flight), the first instance dies and the
    // proxy drops what it had open to it.
    let failures = AtomicU32::new(0);
    let started = Instant::now();
    let (attempts, killed_at) =
        tokio::join!(push_until_done(&client, &store, &token, &failures), async {
            let deadline = Instant::now() + Duration::from_secs(30);
            while c.storage.count_downline(me, Tree::Sponsor).await.unwrap() == team_before {
                assert!(Instant::now() < deadline, "the first batch never landed");
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            let sent = proxy.sent_to_first();
            while proxy.sent_to_first() == sent {
                assert!(Instant::now() < deadline, "no second request came");
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let landed = c.storage.count_downline(me, Tree::Sponsor).await.unwrap();
            first.kill();
            proxy.fail_over();
            (started.elapsed(), landed - team_before)
        },);
    eprintln!(
        "first instance killed after {:?}, {} members in; {} attempts in {:?}: \
         {} failed ({:?}), {} commands answered retry-later",
        killed_at.0,
        killed_at.1,
        attempts.made,
        started.elapsed(),
        attempts.failed.len(),
        attempts.failed.first(),
        attempts.retry_later,
    );
    assert!(
        attempts.fault_seen(),
        "the crash hit a push in flight: {attempts:?}"
    );
    assert!(
        proxy.connections_to_second() > 0,
        "the device carried on through the second instance"
    );

    let members = applied_members(&store, COUNT as usize);
    on_the_server(&c, me, &members, team_before).await;
    replay_answers_the_same(&p, &token, TEST, me, &members).await;
    pulled_into_the_cache(&client, &store, &token, me, &members, cached_team_before).await;
    drop(proxy);
    second.shutdown().await.unwrap();
}

/// A load balancer in front of two instances: each connection goes to the first unless
/// it is marked down or refuses the connection, else to the second.
struct Proxy {
    addr: SocketAddr,
    first_down: Arc<AtomicBool>,
    /// The forwarding tasks of the connections open to the first instance.
    to_first: Arc<Mutex<Vec<AbortHandle>>>,
    /// Bytes devices sent to the first instance.
    sent_to_first: Arc<AtomicU64>,
    connections_to_second: Arc<AtomicU64>,
    accept: JoinHandle<()>,
}

impl Proxy {
    async fn start(first: SocketAddr, second: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let first_down = Arc::new(AtomicBool::new(false));
        let to_first = Arc::new(Mutex::new(Vec::<AbortHandle>::new()));
        let sent_to_first = Arc::new(AtomicU64::new(0));
        let connections_to_second = Arc::new(AtomicU64::new(0));
        let accept = tokio::spawn({
            let first_down = first_down.clone();
            let to_first = to_first.clone();
            let sent_to_first = sent_to_first.clone();
            let connections_to_second = connections_to_second.clone();
            async move {
                loop {
                    let Ok((mut inbound, _)) = listener.accept().await else {
                        continue;
                    };
                    let upstream = if first_down.load(Ordering::SeqCst) {
                        None
                    } else {
                        TcpStream::connect(first).await.ok()
                    };
                    if let Some(mut upstream) = upstream {
                        let sent = sent_to_first.clone();
                        let task = tokio::spawn(async move {
                            let mut inbound = Counted {
                                inner: inbound,
                                read: sent,
                            };
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut upstream).await;
                        });
                        let mut open = to_first.lock().unwrap();
                        open.retain(|t| !t.is_finished());
                        open.push(task.abort_handle());
                        // Marked down while this one was connecting: not kept open either.
                        if first_down.load(Ordering::SeqCst) {
                            task.abort();
                        }
                        continue;
                    }
                    connections_to_second.fetch_add(1, Ordering::SeqCst);
                    tokio::spawn(async move {
                        if let Ok(mut upstream) = TcpStream::connect(second).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut upstream).await;
                        }
                    });
                }
            }
        });
        Self {
            addr,
            first_down,
            to_first,
            sent_to_first,
            connections_to_second,
            accept,
        }
    }

    /// The first instance is gone: new connections go to the second, and those open to
    /// the first are closed (both ends).
    fn fail_over(&self) {
        self.first_down.store(true, Ordering::SeqCst);
        for task in self.to_first.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    fn sent_to_first(&self) -> u64 {
        self.sent_to_first.load(Ordering::SeqCst)
    }

    fn connections_to_second(&self) -> u64 {
        self.connections_to_second.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        for task in self.to_first.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

/// A stream that counts the bytes read from it.
struct Counted {
    inner: TcpStream,
    read: Arc<AtomicU64>,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            let read = buf.filled().len() - before;
            self.read.fetch_add(read as u64, Ordering::SeqCst);
        }
        polled
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
