//! The ways into the cache on a real directory (SECURITY.md #4, #18, #19): the password,
//! throttled; a weakened envelope refused; the keychain as an optional shortcut that falls
//! back to the password whatever happens to it; changing the password; and the wipe.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use canopy_core::MemberId;
use canopy_store::{
    CacheKey, KdfParams, Keychain, NoKeychain, Store, StoreError, UnlockThrottle, Vault,
};
use common::{member, period};

const PASSWORD: &str = "correct horse battery staple";
const OTHER: &str = "Tr0ub4dor&3";
/// The member every cache here holds, to show the data survived.
const MEMBER: i64 = 7;

fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// A vault in a temp dir (the cache directory itself is `<temp>/cache`, so the wipe may
/// remove it) with one member written, and the cache left open.
fn vault_with_data(keychain: Box<dyn Keychain>) -> (tempfile::TempDir, Vault, Store) {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::new(dir.path().join("cache"), keychain);
    let store = vault.create(PASSWORD, KdfParams::DEFAULT, t0()).unwrap();
    store
        .write(|w| w.put_member(&member(MEMBER, None, 1)))
        .unwrap();
    (dir, vault, store)
}

/// The member's name as the member panel shows it.
fn shown_name(store: &Store) -> String {
    store
        .member(MemberId::new(MEMBER), period(11))
        .unwrap()
        .row
        .display_name
}

fn expected_name() -> String {
    member(MEMBER, None, 1).display_name.as_str().to_owned()
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn envelope_path(vault: &Vault) -> PathBuf {
    vault.dir().join("envelope.json")
}

#[test]
fn the_right_password_opens_the_cache_and_a_wrong_one_changes_nothing() {
    let (_dir, vault, store) = vault_with_data(Box::new(NoKeychain));
    store.lock();
    let db = read(&vault.db_path());
    let envelope = read(&envelope_path(&vault));

    let err = vault
        .unlock("correct horse battery stapler", t0())
        .unwrap_err();
    assert!(matches!(err, StoreError::WrongPassword), "{err:?}");
    assert_eq!(err.to_string(), "wrong password");
    assert!(
        read(&vault.db_path()) == db,
        "a wrong password changed cache.db"
    );
    assert!(read(&envelope_path(&vault)) == envelope);

    let store = vault.unlock(PASSWORD, t0()).unwrap();
    assert_eq!(shown_name(&store), expected_name());
}

/// Three wrong passwords in a row cost nothing but Argon2; the fourth makes the next
/// attempt wait 5 s, right password or not, and a restart does not reset the count.
#[test]
fn wrong_passwords_make_the_next_attempt_wait() {
    let (dir, vault, store) = vault_with_data(Box::new(NoKeychain));
    store.lock();
    for attempt in 1..=4 {
        let err = vault.unlock(OTHER, t0()).unwrap_err();
        assert!(
            matches!(err, StoreError::WrongPassword),
            "attempt {attempt}: {err:?}"
        );
    }
    // The app restarted: a new vault over the same directory.
    let vault = Vault::new(dir.path().join("cache"), Box::new(NoKeychain));
    let cases = [(0, Some(5)), (4, Some(1)), (5, None)];
    for (later, wait) in cases {
        match (vault.unlock(PASSWORD, t0() + secs(later)), wait) {
            (Err(StoreError::Throttled { retry_after }), Some(wait)) => {
                assert_eq!(retry_after, secs(wait), "{later} s later");
                let err = StoreError::Throttled { retry_after };
                assert_eq!(
                    err.to_string(),
                    format!("too many wrong passwords: try again in {wait} s")
                );
            }
            (Ok(store), None) => assert_eq!(shown_name(&store), expected_name()),
            (other, _) => panic!("{later} s later: expected a wait of {wait:?} s, got {other:?}"),
        }
    }
    // The right password reset the count: a wrong one is free again.
    let err = vault.unlock(OTHER, t0() + secs(6)).unwrap_err();
    assert!(matches!(err, StoreError::WrongPassword), "{err:?}");
    vault.unlock(PASSWORD, t0() + secs(6)).unwrap();
}

/// Someone lowers the Argon2 cost in `envelope.json` to make guessing cheaper: the app
/// refuses the envelope, even with the right password, and says why.
#[test]
fn a_weakened_envelope_is_refused() {
    let (_dir, vault, store) = vault_with_data(Box::new(NoKeychain));
    store.lock();
    let path = envelope_path(&vault);
    let original = read(&path);
    let cases = [
        ("memory_kib", 32 * 1024, "m=32768 KiB, t=3, p=4"),
        ("iterations", 2, "m=65536 KiB, t=2, p=4"),
        ("parallelism", 1, "m=65536 KiB, t=3, p=1"),
    ];
    for (field, value, found) in cases {
        let mut json: serde_json::Value = serde_json::from_slice(&original).unwrap();
        json["kdf"][field] = value.into();
        std::fs::write(&path, serde_json::to_vec_pretty(&json).unwrap()).unwrap();

        let err = vault.unlock(PASSWORD, t0()).unwrap_err();
        assert!(
            matches!(err, StoreError::WeakKdf { .. }),
            "{field}: {err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "this device's key envelope uses weaker key derivation ({found}) than allowed \
                 (m=65536 KiB, t=3, p=4); sign in online to set the cache up again"
            ),
            "{field}"
        );
    }
    // The refusals were not counted as wrong passwords, and the untouched envelope opens.
    let throttle = UnlockThrottle::load(vault.dir().join("unlock-throttle.json"));
    assert_eq!(throttle.failures(), 0);
    std::fs::write(&path, &original).unwrap();
    let store = vault.unlock(PASSWORD, t0()).unwrap();
    assert_eq!(shown_name(&store), expected_name());
}

/// What the OS keychain does between two runs of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Hands back what was saved.
    Works,
    /// The entry is gone (the user cleared it, or a new OS profile).
    Vanished,
    /// The service fails (locked, no D-Bus, access denied).
    Broken,
    /// The entry holds another key (another install, or the cache was set up again).
    Changed,
}

#[derive(Debug)]
struct Shelf {
    mode: Mode,
    saved: Option<CacheKey>,
}

/// A test double of the OS keychain: an in-memory entry whose behaviour the test sets. (The
/// real `OsKeychain` has no service in CI; its clean failure is tested in keychain.rs.)
#[derive(Debug, Clone)]
struct TestKeychain(Arc<Mutex<Shelf>>);

impl TestKeychain {
    fn new() -> Self {
        Self(Arc::new(Mutex::new(Shelf {
            mode: Mode::Works,
            saved: None,
        })))
    }

    /// What happens to the keychain between two runs of the app.
    fn set(&self, mode: Mode) {
        let mut shelf = self.shelf();
        shelf.mode = mode;
        if mode == Mode::Changed {
            shelf.saved = Some(CacheKey::generate().unwrap());
        }
    }

    fn shelf(&self) -> std::sync::MutexGuard<'_, Shelf> {
        self.0.lock().unwrap()
    }

    fn broken(&self) -> Result<(), StoreError> {
        match self.shelf().mode {
            Mode::Broken => Err(StoreError::Keychain("the keychain is locked".into())),
            _ => Ok(()),
        }
    }
}

impl Keychain for TestKeychain {
    fn load(&self) -> Result<Option<CacheKey>, StoreError> {
        self.broken()?;
        let shelf = self.shelf();
        Ok(match shelf.mode {
            Mode::Vanished => None,
            Mode::Works | Mode::Broken | Mode::Changed => shelf.saved.clone(),
        })
    }

    fn store(&self, key: &CacheKey) -> Result<(), StoreError> {
        self.broken()?;
        self.shelf().saved = Some(key.clone());
        Ok(())
    }

    fn forget(&self) -> Result<(), StoreError> {
        self.broken()?;
        self.shelf().saved = None;
        Ok(())
    }
}

/// "Remember on this device", then the keychain changes under the app: every way it can
/// go wrong ends at the password prompt (`None`), never at an error or a crash, and the
/// password still opens the cache.
#[test]
fn a_keychain_that_vanished_broke_or_changed_falls_back_to_the_password() {
    // (mode, opens without a password, what the entry holds afterwards)
    let cases = [
        (Mode::Works, true, "the key"),
        (Mode::Vanished, false, "the key"),
        // Not forgotten: the keychain may come back (unlocked) later.
        (Mode::Broken, false, "the key"),
        // A key that no longer opens this cache is forgotten.
        (Mode::Changed, false, "nothing"),
    ];
    for (mode, opens, left) in cases {
        let keychain = TestKeychain::new();
        let (_dir, vault, store) = vault_with_data(Box::new(keychain.clone()));
        let key = store.key().unwrap().clone();
        vault.remember(&store).unwrap();
        assert_eq!(keychain.shelf().saved.as_ref(), Some(&key), "{mode:?}");
        store.lock();

        keychain.set(mode);
        let remembered = vault.unlock_remembered(t0()).unwrap();
        assert_eq!(remembered.is_some(), opens, "{mode:?}");
        if let Some(store) = remembered {
            assert_eq!(shown_name(&store), expected_name(), "{mode:?}");
        }

        let mut shelf = keychain.shelf();
        shelf.mode = Mode::Works;
        let holds = match &shelf.saved {
            Some(saved) if *saved == key => "the key",
            Some(_) => "another key",
            None => "nothing",
        };
        assert_eq!(holds, left, "{mode:?}");
        drop(shelf);

        let store = vault.unlock(PASSWORD, t0()).unwrap();
        assert_eq!(shown_name(&store), expected_name(), "{mode:?}");
    }
}

#[test]
fn without_a_keychain_nothing_is_remembered_and_the_password_works() {
    let (_dir, vault, store) = vault_with_data(Box::new(NoKeychain));
    let err = vault.remember(&store).unwrap_err();
    assert_eq!(err.to_string(), "the OS keychain failed: not available");
    store.lock();
    assert!(
        vault
            .unlock_remembered(SystemTime::now())
            .unwrap()
            .is_none()
    );
    let store = vault.unlock(PASSWORD, t0()).unwrap();
    assert_eq!(shown_name(&store), expected_name());
}

#[test]
fn changing_the_password_keeps_the_data_and_the_remembered_key() {
    let keychain = TestKeychain::new();
    let (_dir, vault, store) = vault_with_data(Box::new(keychain.clone()));
    vault.remember(&store).unwrap();
    let key = store.key().unwrap().clone();
    store.lock();

    // A wrong old password changes nothing on disk.
    let envelope = read(&envelope_path(&vault));
    let err = vault
        .change_password(OTHER, "new password", t0())
        .unwrap_err();
    assert!(matches!(err, StoreError::WrongPassword), "{err:?}");
    assert!(read(&envelope_path(&vault)) == envelope);
    let err = vault.change_password(PASSWORD, "", t0()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid data for the cache: choose a password for this device"
    );
    assert!(read(&envelope_path(&vault)) == envelope);

    vault
        .change_password(PASSWORD, "new password", t0())
        .unwrap();
    let err = vault.unlock(PASSWORD, t0()).unwrap_err();
    assert!(matches!(err, StoreError::WrongPassword), "{err:?}");
    let store = vault.unlock("new password", t0()).unwrap();
    assert_eq!(shown_name(&store), expected_name());
    // Same key underneath: the keychain entry still opens the cache.
    assert_eq!(store.key(), Some(&key));
    store.lock();
    let store = vault.unlock_remembered(t0()).unwrap().unwrap();
    assert_eq!(shown_name(&store), expected_name());
}

#[test]
fn a_wipe_leaves_nothing_behind() {
    let keychain = TestKeychain::new();
    let (dir, vault, store) = vault_with_data(Box::new(keychain.clone()));
    vault.remember(&store).unwrap();
    store.lock();
    // A wrong password first, so the throttle file exists too.
    vault.unlock(OTHER, t0()).unwrap_err();
    let store = vault.unlock(PASSWORD, t0()).unwrap();
    store
        .write(|w| w.put_member(&member(8, Some(MEMBER), 0)))
        .unwrap();

    let files: Vec<PathBuf> = [
        "cache.db",
        "cache.db-wal",
        "cache.db-shm",
        "envelope.json",
        "unlock-throttle.json",
    ]
    .iter()
    .map(|name| vault.dir().join(name))
    .collect();
    for file in &files {
        assert!(
            file.exists(),
            "{} is not there before the wipe",
            file.display()
        );
    }

    vault.wipe(Some(store)).unwrap();
    for file in &files {
        assert!(!file.exists(), "{} survived the wipe", file.display());
    }
    assert!(
        !vault.dir().exists(),
        "the emptied cache directory survived"
    );
    assert!(
        keychain.shelf().saved.is_none(),
        "the keychain entry survived"
    );
    assert!(!vault.exists());
    for result in [
        vault.unlock(PASSWORD, t0()).map(drop),
        vault.unlock_remembered(t0()).map(drop),
    ] {
        let err = result.unwrap_err();
        assert!(matches!(err, StoreError::NoCache), "{err:?}");
        assert_eq!(
            err.to_string(),
            "there is no local cache on this device yet"
        );
    }

    // The device can be set up again, and starts empty.
    let vault = Vault::new(dir.path().join("cache"), Box::new(keychain));
    let store = vault.create(OTHER, KdfParams::DEFAULT, t0()).unwrap();
    let err = store.member(MemberId::new(MEMBER), period(11)).unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    assert!(vault.exists());
}

#[test]
fn create_refuses_an_existing_cache_and_an_empty_password() {
    let (dir, vault, store) = vault_with_data(Box::new(NoKeychain));
    store.lock();
    let err = vault.create(OTHER, KdfParams::DEFAULT, t0()).unwrap_err();
    assert!(matches!(err, StoreError::CacheExists), "{err:?}");
    assert_eq!(
        err.to_string(),
        "a local cache already exists on this device"
    );
    // Nothing was replaced: the first password still opens the first cache.
    let store = vault.unlock(PASSWORD, t0()).unwrap();
    assert_eq!(shown_name(&store), expected_name());

    let fresh = Vault::new(dir.path().join("another"), Box::new(NoKeychain));
    let err = fresh.create("", KdfParams::DEFAULT, t0()).unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "invalid data for the cache: choose a password for this device"
    );
    assert!(!fresh.exists());
    assert!(!fresh.db_path().exists());
}

#[test]
fn past_the_offline_allowance_only_an_online_sign_in_opens_the_cache() {
    use canopy_store::LockPolicy;
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::new(dir.path().join("cache"), Box::new(NoKeychain));
    let signed_in = UNIX_EPOCH + Duration::from_secs(1_790_000_000);
    let store = vault
        .create(PASSWORD, KdfParams::DEFAULT, signed_in)
        .unwrap();
    store
        .write(|w| {
            w.put_lock_policy(&LockPolicy {
                max_idle: Duration::from_secs(600),
                max_offline_days: 7,
            })?;
            w.put_online_sign_in(signed_in)
        })
        .unwrap();
    drop(store);
    let day = Duration::from_secs(86_400);
    let cases = [(6, true), (7, true), (8, false), (30, false)];
    for (days, opens) in cases {
        let got = vault.unlock(PASSWORD, signed_in + day * days);
        match (opens, got) {
            (true, Ok(store)) => assert_eq!(store.lock_policy().unwrap().max_offline_days, 7),
            (false, Err(e)) => assert_eq!(
                e.to_string(),
                "this device has been offline for more than 7 days: sign in online to go on"
            ),
            (_, other) => panic!("after {days} days: {:?}", other.map(drop)),
        }
    }
    // After an online sign-in the allowance starts again.
    drop(vault.unlock_online(PASSWORD, signed_in + day * 30).unwrap());
    assert!(vault.unlock(PASSWORD, signed_in + day * 36).is_ok());
    assert!(vault.unlock(PASSWORD, signed_in + day * 38).is_err());
}
