//! The app's session end to end, without the window: the real server over pinned TLS, a
//! real vault and SQLCipher cache. Password and code, a local password that is too short
//! and then a good one, the first sync, lock, a wrong and a right local password offline
//! (the sync resumes with a refreshed token), and a second online sign-in that names the
//! same device instead of registering another.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../crates/sync/tests/common/mod.rs"]
mod common;

use std::time::Duration;

use canopy_app::session::{AfterPassword, Session, SessionError};
use canopy_core::Role;
use canopy_server::auth::TotpSecret;
use canopy_store::{NoKeychain, StoreError, Vault};
use canopy_sync::ServerClient;
use canopy_sync::auth::SecondFactor;
use canopy_sync::runner::SyncStatus;
use canopy_sync::schedule::Policy;
use common::{account, admin_revokes, cached_ids, company, member_of, scope_of, serve};
use data_encoding::BASE32_NOPAD;

fn code(secret: &str) -> SecondFactor {
    let secret = TotpSecret::from_bytes(&BASE32_NOPAD.decode(secret.as_bytes()).unwrap()).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as u64;
    SecondFactor::Code(secret.code_at(now))
}

/// A session (as after the app starts) over the cache in `dir`, syncing fast.
fn session_in(p: &canopy_core::provisioning::Provisioning, dir: &std::path::Path) -> Session {
    Session::new(
        ServerClient::new(p).unwrap(),
        Vault::new(dir.join("cache"), Box::new(NoKeychain)),
        "Test laptop",
    )
    .with_policy(Policy {
        interval: Duration::from_millis(300),
        first_retry: Duration::from_millis(50),
        max_retry: Duration::from_millis(400),
    })
}

/// Waits until the sync reports a success after `after` (its last success before).
async fn synced_after(session: &Session, after: Option<time::OffsetDateTime>) -> SyncStatus {
    let mut status = session.sync().unwrap().watch_status();
    tokio::time::timeout(
        Duration::from_secs(60),
        status.wait_for(|s| s.last_success.is_some() && s.last_success > after),
    )
    .await
    .expect("the sync succeeds within a minute")
    .unwrap()
    .clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_creates_the_cache_syncs_locks_and_unlocks_offline() {
    let c = company().await;
    let (running, p) = serve(&c).await;
    let who = account(&c, Role::Distributor);
    let dir = tempfile::tempdir().unwrap();
    let new_session = || session_in(&p, dir.path());
    let mut session = new_session();
    assert!(!session.has_cache());

    // Password, then the code.
    let next = session
        .sign_in(&who.email, &who.password, None)
        .await
        .unwrap();
    assert_eq!(next, AfterPassword::Code);
    let unlocked = session
        .second_factor(&code(&who.totp_secret))
        .await
        .unwrap();
    assert!(!unlocked, "a first sign-in asks for a local password next");
    // A local password that is too short is refused before anything is made.
    let short = session.open_cache("short", false).await.unwrap_err();
    assert!(matches!(short, SessionError::Invalid(_)), "{short}");
    assert!(!session.has_cache());
    session
        .open_cache("a long local password", false)
        .await
        .unwrap();
    assert!(session.is_unlocked() && session.has_cache());
    // The server stated the role with the tokens: the menus follow it.
    assert_eq!(
        session.view(),
        canopy_core::ipc::SessionView::Unlocked {
            role: Role::Distributor
        }
    );

    // The first sync bootstraps exactly the distributor's scope.
    let first = synced_after(&session, None).await;
    let me = member_of(&c, Role::Distributor).await;
    let store = session.store().unwrap().clone();
    assert_eq!(cached_ids(&store), scope_of(&*c.storage, Some(me)).await);
    let device = store.credentials().unwrap().unwrap().device_id;
    drop(store);

    // Lock: the cache is closed.
    session.lock().await;
    assert!(!session.is_unlocked() && session.store().is_none());

    // Offline unlock, after a restart of the app: a wrong password opens nothing, the
    // right one opens the cache, and the sync carries on with a refreshed token.
    let mut session = new_session();
    let wrong = session.unlock("not my local password").await.unwrap_err();
    assert!(
        matches!(wrong, SessionError::Store(StoreError::WrongPassword)),
        "{wrong}"
    );
    session.unlock("a long local password").await.unwrap();
    // Offline, the role comes from the cache, where the sign-in kept it.
    assert_eq!(
        session.view(),
        canopy_core::ipc::SessionView::Unlocked {
            role: Role::Distributor
        }
    );
    synced_after(&session, first.last_success).await;
    session.lock().await;

    // Signing in online again on this device: its cache's key signs the sign-in (so the
    // device's password is asked too), and the session opens at once as the same device.
    let missing = session
        .sign_in(&who.email, &who.password, None)
        .await
        .unwrap_err();
    assert!(matches!(missing, SessionError::Invalid(_)), "{missing}");
    let next = session
        .sign_in(&who.email, &who.password, Some("a long local password"))
        .await
        .unwrap();
    assert_eq!(next, AfterPassword::Code);
    let unlocked = session
        .second_factor(&SecondFactor::RecoveryCode(who.recovery_codes[1].clone()))
        .await
        .unwrap();
    assert!(unlocked && session.is_unlocked());
    let store = session.store().unwrap().clone();
    assert_eq!(store.credentials().unwrap().unwrap().device_id, device);
    drop(store);
    session.lock().await;
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_locks_and_a_revoked_device_is_wiped() {
    use std::time::Instant;

    use canopy_app::session::Guarded;
    use canopy_core::ipc::SessionView;

    let c = company().await;
    let (running, p) = serve(&c).await;
    let who = account(&c, Role::Distributor);
    let dir = tempfile::tempdir().unwrap();
    let mut session = session_in(&p, dir.path());
    session
        .sign_in(&who.email, &who.password, None)
        .await
        .unwrap();
    session
        .second_factor(&code(&who.totp_secret))
        .await
        .unwrap();
    session
        .open_cache("a long local password", false)
        .await
        .unwrap();
    synced_after(&session, None).await;

    // Idle: nothing at once, locked once the policy's 15 minutes have passed.
    assert_eq!(session.guard(Instant::now()).await, Guarded::Nothing);
    session.touch(Instant::now());
    let later = Instant::now() + Duration::from_secs(15 * 60 + 1);
    assert_eq!(session.guard(later).await, Guarded::Locked);
    assert_eq!(session.view(), SessionView::Locked);

    // Unlocked again, then the laptop is reported stolen: an admin revokes it. The sync
    // hears it, and the guard wipes the cache.
    session.unlock("a long local password").await.unwrap();
    let device = session
        .store()
        .unwrap()
        .credentials()
        .unwrap()
        .unwrap()
        .device_id;
    admin_revokes(&c, &p, device).await;
    let mut status = session.sync().unwrap().watch_status();
    tokio::time::timeout(Duration::from_secs(60), status.wait_for(|s| s.revoked))
        .await
        .expect("the sync hears of the revocation")
        .unwrap();
    drop(status);
    assert_eq!(session.guard(Instant::now()).await, Guarded::Wiped);
    assert_eq!(session.view(), SessionView::SignedOut { has_cache: false });
    assert!(!dir.path().join("cache").join("cache.db").exists());
    running.shutdown().await.unwrap();
}
