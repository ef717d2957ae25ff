//! The cache file seen from outside the app (SECURITY.md #17): no plaintext header or names
//! on disk, SQLite's own shell cannot read it, SQLCipher's shell reads it with the raw key
//! and with nothing else, and a wrong key through the API fails without touching the file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use canopy_core::{MemberId, PersonName};
use canopy_store::{CacheKey, KdfParams, NoKeychain, Store, StoreError, Vault};
use common::{key_pragma, member, run_shell, sqlcipher_shell, sqlite3_shell};

const PASSWORD: &str = "correct horse battery staple";
/// A name that occurs nowhere by chance, so finding its bytes means it leaked.
const NAME: &str = "Zephyrine Quillfeather";
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// A locked cache holding one member called [`NAME`], and its raw key (read back by
/// unlocking with the password, as the app does).
struct Cache {
    _dir: tempfile::TempDir,
    db: PathBuf,
    key: CacheKey,
}

fn locked_cache() -> Cache {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::new(dir.path().join("cache"), Box::new(NoKeychain));
    let store = vault
        .create(PASSWORD, KdfParams::DEFAULT, std::time::SystemTime::now())
        .unwrap();
    let mut m = member(1, None, 2);
    m.display_name = PersonName::parse(NAME).unwrap();
    store.write(|w| w.put_member(&m)).unwrap();
    store.lock();
    let store = vault
        .unlock(PASSWORD, std::time::SystemTime::now())
        .unwrap();
    let key = store.key().expect("an encrypted cache has a key").clone();
    let shown = store.member(MemberId::new(1), common::period(11)).unwrap();
    assert_eq!(shown.row.display_name, NAME);
    store.lock();
    Cache {
        db: vault.db_path(),
        key,
        _dir: dir,
    }
}

/// The same data decrypted, beside the cache (SQLCipher's export): what the checks find
/// if the data is not encrypted, so they cannot pass by looking for the wrong bytes.
fn plaintext_export(cache: &Cache) -> PathBuf {
    let plain = cache.db.with_file_name("plain.db");
    Store::open(&cache.db, cache.key.clone())
        .unwrap()
        .database()
        .export_plaintext(&plain)
        .unwrap();
    plain
}

/// `db` and, if SQLite left one, its write-ahead log.
fn files_of(db: &Path) -> Vec<PathBuf> {
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    [db.to_path_buf(), wal]
        .into_iter()
        .filter(|p| p.exists())
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn the_file_has_no_sqlite_header_and_no_plaintext_names() {
    let cache = locked_cache();
    let plain = plaintext_export(&cache);
    let plain_bytes = std::fs::read(&plain).unwrap();
    assert_eq!(&plain_bytes[..16], SQLITE_HEADER);
    assert!(contains(&plain_bytes, NAME.as_bytes()));

    let files = files_of(&cache.db);
    assert_eq!(files[0], cache.db);
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            bytes.len() >= 4096,
            "{}: {} bytes",
            file.display(),
            bytes.len()
        );
        assert_ne!(&bytes[..16], SQLITE_HEADER, "{}", file.display());
        for secret in [NAME, "Zephyrine", "CREATE TABLE", "display_name"] {
            assert!(
                !contains(&bytes, secret.as_bytes()),
                "{} holds {secret:?} in plain text",
                file.display()
            );
        }
    }
}

/// What a shell prints: the member's name, or the start of its error.
type Expected = Result<&'static str, &'static str>;

/// Who reads the file, with which key, and what they get: the name, or the shell's error.
#[test]
fn only_the_raw_key_opens_the_file_in_a_peer_shell() {
    let cache = locked_cache();
    let plain = plaintext_export(&cache);
    let sqlite3 = sqlite3_shell();
    let sqlcipher = sqlcipher_shell();
    let other_key = key_pragma(&CacheKey::generate().unwrap());
    let password_as_key = format!("PRAGMA key = '{PASSWORD}';");
    let not_a_db = Err("file is not a database");
    let query = "SELECT display_name FROM members;";
    let cases: [(&str, &Path, &Path, String, Expected); 6] = [
        (
            "sqlite3, no key",
            &sqlite3,
            &cache.db,
            String::new(),
            not_a_db,
        ),
        // The control: the same shell reads the same data when it is not encrypted.
        (
            "sqlite3, plaintext export",
            &sqlite3,
            &plain,
            String::new(),
            Ok(NAME),
        ),
        (
            "sqlcipher, the raw key",
            &sqlcipher,
            &cache.db,
            key_pragma(&cache.key),
            Ok(NAME),
        ),
        (
            "sqlcipher, another key",
            &sqlcipher,
            &cache.db,
            other_key,
            not_a_db,
        ),
        (
            "sqlcipher, no key",
            &sqlcipher,
            &cache.db,
            String::new(),
            not_a_db,
        ),
        // The password is not the database key: it only unwraps it, in the envelope.
        (
            "sqlcipher, the password as passphrase",
            &sqlcipher,
            &cache.db,
            password_as_key,
            not_a_db,
        ),
    ];
    for (what, shell, db, key, expected) in cases {
        let out = run_shell(shell, db, &format!("{key}\n{query}\n"));
        match expected {
            Ok(name) => {
                assert!(out.success, "{what}: {out:?}");
                // SQLCipher 4.6 answers the key pragma with "ok" first.
                assert_eq!(out.stdout.lines().last(), Some(name), "{what}: {out:?}");
            }
            Err(message) => {
                assert!(!out.success, "{what}: the shell succeeded: {out:?}");
                assert!(out.stderr.contains(message), "{what}: {out:?}");
                assert!(!out.stdout.contains(NAME), "{what}: {out:?}");
            }
        }
    }
}

#[test]
fn a_wrong_key_fails_cleanly_and_leaves_the_file_as_it_was() {
    let cache = locked_cache();
    let dir = cache.db.parent().unwrap();
    let snapshot = || {
        let mut files: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .map(|p| {
                let bytes = std::fs::read(&p).unwrap();
                (p, bytes)
            })
            .collect();
        files.sort();
        files
    };
    let before = snapshot();
    let err = Store::open(&cache.db, CacheKey::generate().unwrap()).unwrap_err();
    assert!(matches!(err, StoreError::WrongKey), "{err:?}");
    assert_eq!(err.to_string(), "the key does not open this cache");
    assert!(
        before == snapshot(),
        "a wrong key changed the cache's files"
    );

    // And the right key still opens it.
    let store = Store::open(&cache.db, cache.key.clone()).unwrap();
    let shown = store.member(MemberId::new(1), common::period(11)).unwrap();
    assert_eq!(shown.row.display_name, NAME);
}
