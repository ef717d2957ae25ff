//! Moving the outbox to another device: a file exported from one real SQLCipher cache and
//! imported into another of the same account, and every way an import is refused (wrong
//! passphrase, a changed byte, another account, a newer format, a bad command) with
//! nothing half-imported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use age::secrecy::SecretString;
use canopy_core::{IdempotencyKey, Role};
use canopy_store::outbox_transfer::{FORMAT_VERSION, MIN_PASSPHRASE};
use canopy_store::{
    CommandKind, ImportSummary, OutboxAnswer, OutboxItem, OutboxState, Store, TransferError,
};
use common::{fresh_store, member};
use time::OffsetDateTime;
use time::macros::datetime;

const MADE: OffsetDateTime = datetime!(2026-11-21 17:55 UTC);
const EXPORTED: OffsetDateTime = datetime!(2026-11-21 18:00 UTC);
const IMPORTED: OffsetDateTime = datetime!(2026-11-22 09:00 UTC);
const PASSPHRASE: &str = "correct horse battery";

fn key(n: u8) -> IdempotencyKey {
    IdempotencyKey::from_random_bytes([n; 16])
}

/// A cache whose scope is member `root`'s (what a bootstrap of that account leaves).
fn cache_of(root: i64) -> (tempfile::TempDir, Store) {
    let (dir, store) = fresh_store();
    store
        .write(|w| {
            w.put_member(&member(root, None, 2))?;
            w.put_member(&member(root + 1, Some(root), 0))
        })
        .unwrap();
    (dir, store)
}

/// Four commands made offline on `store`: one still pending, one whose answer was lost
/// (sending), one the server refused, one it applied.
fn offline_work(store: &Store) -> Vec<OutboxItem> {
    let payloads = [
        (CommandKind::Enroll, r#"{"type":"enroll","form":{"n":1}}"#),
        (
            CommandKind::PlaceOrder,
            r#"{"type":"place_order","form":{"n":2}}"#,
        ),
        (
            CommandKind::AddNote,
            r#"{"type":"add_note","form":{"n":3}}"#,
        ),
        (
            CommandKind::UpdateContact,
            r#"{"type":"update_contact","form":{}}"#,
        ),
    ];
    let items: Vec<OutboxItem> = payloads
        .iter()
        .enumerate()
        .map(|(n, (kind, payload))| {
            let at = MADE + time::Duration::minutes(n as i64);
            store
                .enqueue(&key(n as u8 + 1), *kind, payload, at)
                .unwrap()
        })
        .collect();
    store
        .outbox_answers(
            &[
                (items[1].seq, OutboxAnswer::Sending),
                (
                    items[2].seq,
                    OutboxAnswer::Rejected("Unknown member".into()),
                ),
                (items[3].seq, OutboxAnswer::Applied(Some("contact".into()))),
            ],
            EXPORTED,
        )
        .unwrap();
    items
}

fn export(store: &Store, dir: &Path) -> PathBuf {
    let path = dir.join("outbox.canopy-outbox");
    let summary = store.export_outbox(&path, PASSPHRASE, EXPORTED).unwrap();
    assert_eq!(summary.items, 3, "everything but the applied command");
    path
}

fn import(store: &Store, path: &Path, passphrase: &str) -> Result<ImportSummary, TransferError> {
    store.import_outbox(path, passphrase, IMPORTED)
}

#[test]
fn a_round_trip_moves_what_was_not_applied_with_its_keys_and_times() {
    let (dir_a, a) = cache_of(345);
    let made = offline_work(&a);
    let path = export(&a, dir_a.path());

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "only its owner may read the file");
    }
    assert!(!dir_a.path().join("outbox.canopy-outbox.tmp").exists());
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1\n"));
    assert!(
        !bytes.windows(6).any(|w| w == b"enroll"),
        "the commands are not readable in the file"
    );
    // Exporting changes nothing here: the commands still go from this device too.
    assert_eq!(a.outbox(None).unwrap(), {
        let mut now = made.clone();
        now[1].state = OutboxState::Sending;
        now[1].attempts = 1;
        now[2].state = OutboxState::Rejected;
        now[2].last_error = Some("Unknown member".into());
        now[3].state = OutboxState::Applied;
        now[3].server_ref = Some("contact".into());
        now
    });

    let (_dir_b, b) = cache_of(345);
    let added = import(&b, &path, PASSPHRASE).unwrap();
    assert_eq!(
        added,
        ImportSummary {
            added: 3,
            already_present: 0
        }
    );
    let moved = b.outbox(None).unwrap();
    let seen: Vec<_> = moved
        .iter()
        .map(|i| {
            (
                i.key.clone(),
                i.kind,
                i.payload.as_str(),
                i.created_at,
                i.state,
                i.attempts,
                i.last_error.clone(),
            )
        })
        .collect();
    let expected: Vec<_> = made[..3]
        .iter()
        .map(|i| {
            (
                i.key.clone(),
                i.kind,
                i.payload.as_str(),
                i.created_at,
                OutboxState::Pending,
                0,
                None,
            )
        })
        .collect();
    assert_eq!(
        seen, expected,
        "same keys, kinds, payloads and times, all pending"
    );

    // Importing the same file again (or into the old device) adds nothing.
    assert_eq!(
        import(&b, &path, PASSPHRASE).unwrap(),
        ImportSummary {
            added: 0,
            already_present: 3
        }
    );
    assert_eq!(
        import(&a, &path, PASSPHRASE).unwrap(),
        ImportSummary {
            added: 0,
            already_present: 3
        }
    );
    assert_eq!(b.outbox(None).unwrap().len(), 3);
    assert_eq!(a.outbox(None).unwrap().len(), 4);
}

#[test]
fn a_wrong_passphrase_a_changed_byte_and_another_file_are_each_named() {
    let (dir_a, a) = cache_of(345);
    offline_work(&a);
    let path = export(&a, dir_a.path());
    let bytes = std::fs::read(&path).unwrap();
    let (_dir_b, b) = cache_of(345);

    let write = |name: &str, contents: &[u8]| {
        let p = dir_a.path().join(name);
        std::fs::write(&p, contents).unwrap();
        p
    };
    let flip = |at: usize| {
        let mut changed = bytes.clone();
        changed[at] ^= 0x01;
        changed
    };
    let damaged = "The file is damaged or was changed after it was exported: nothing was imported";
    // (file, passphrase, what the person reads)
    let cases: Vec<(PathBuf, &str, &str)> = vec![
        (
            path.clone(),
            "correct horse battery!",
            "The passphrase does not open this file",
        ),
        (
            write("last.canopy-outbox", &flip(bytes.len() - 1)),
            PASSPHRASE,
            damaged,
        ),
        (
            write("middle.canopy-outbox", &flip(bytes.len() - 40)),
            PASSPHRASE,
            damaged,
        ),
        (
            write("cut.canopy-outbox", &bytes[..bytes.len() - 10]),
            PASSPHRASE,
            damaged,
        ),
        (
            write("notes.txt", b"name,amount\nAda,12\n"),
            PASSPHRASE,
            "This is not an outbox file exported by Canopy",
        ),
    ];
    for (file, passphrase, message) in cases {
        let error = import(&b, &file, passphrase).unwrap_err();
        assert_eq!(error.to_string(), message, "{}", file.display());
        assert!(b.outbox(None).unwrap().is_empty(), "{}", file.display());
    }
    assert!(matches!(
        import(&b, &path, "correct horse battery!").unwrap_err(),
        TransferError::WrongPassphrase
    ));
}

#[test]
fn another_accounts_cache_refuses_the_file() {
    let (dir_a, a) = cache_of(345);
    offline_work(&a);
    let path = export(&a, dir_a.path());
    let (_dir_c, other) = cache_of(500);
    let error = import(&other, &path, PASSPHRASE).unwrap_err();
    assert_eq!(
        error.to_string(),
        "This file holds the outbox of member 10000345, but this device belongs to member \
         10000500: it can only be imported on a device of the same account"
    );
    assert!(other.outbox(None).unwrap().is_empty());
}

#[test]
fn what_cannot_be_exported_is_refused_with_its_reason() {
    let (dir, a) = cache_of(345);
    let path = dir.path().join("x.canopy-outbox");
    // Nothing waiting.
    let error = a.export_outbox(&path, PASSPHRASE, EXPORTED).unwrap_err();
    assert_eq!(
        error.to_string(),
        "There is nothing waiting to be sent: nothing to export"
    );
    offline_work(&a);
    let short = "a".repeat(MIN_PASSPHRASE - 1);
    let error = a.export_outbox(&path, &short, EXPORTED).unwrap_err();
    assert_eq!(
        error.to_string(),
        "Use a passphrase of at least 12 characters"
    );
    assert!(!path.exists());

    // An administrator's scope starts at the founder, not at the person.
    a.write(|w| w.put_account_role(Role::Admin)).unwrap();
    assert!(matches!(
        a.export_outbox(&path, PASSPHRASE, EXPORTED).unwrap_err(),
        TransferError::Administrator
    ));

    // Before the first download the cache can't tell whose it is.
    let (_d, empty) = fresh_store();
    empty
        .enqueue(&key(9), CommandKind::AddNote, "{}", MADE)
        .unwrap();
    assert!(matches!(
        empty
            .export_outbox(&path, PASSPHRASE, EXPORTED)
            .unwrap_err(),
        TransferError::NoOwner
    ));
    assert!(!path.exists());
}

/// A file as another build (or someone with the passphrase) could write it.
fn seal(dir: &Path, name: &str, document: &serde_json::Value) -> PathBuf {
    let recipient = age::scrypt::Recipient::new(SecretString::from(PASSPHRASE.to_owned()));
    let sealed = age::encrypt(&recipient, document.to_string().as_bytes()).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, sealed).unwrap();
    path
}

fn document(version: u32, items: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "format": "canopy-outbox",
        "version": version,
        "owner": {"member": 345, "number": "10000345"},
        "exported_at": "2026-11-21T18:00:00Z",
        "items": items,
    })
}

fn item(n: u8, payload: &str) -> serde_json::Value {
    serde_json::json!({
        "key": key(n).as_str(),
        "kind": "add_note",
        "payload": payload,
        "created_at": "2026-11-21T17:55:00Z",
    })
}

#[test]
fn a_newer_format_or_one_bad_command_imports_nothing() {
    let (dir, b) = cache_of(345);
    b.enqueue(&key(1), CommandKind::AddNote, r#"{"n":1}"#, MADE)
        .unwrap();
    let good = |n| item(n, r#"{"n":2}"#);
    let cases = [
        (
            seal(
                dir.path(),
                "v2",
                &document(FORMAT_VERSION + 1, serde_json::json!([good(2)])),
            ),
            "This file was made by a newer version of Canopy (format 2; this version reads \
             format 1): update Canopy on this device first",
        ),
        (
            // The first is already here, the second is new, the third is broken: none is
            // written, not even the new one.
            seal(
                dir.path(),
                "bad-json",
                &document(
                    1,
                    serde_json::json!([good(1), good(2), item(3, "{not json")]),
                ),
            ),
            "The file holds a command Canopy can't accept (command 3 is not valid JSON): \
             nothing was imported",
        ),
        (
            seal(
                dir.path(),
                "twice",
                &document(1, serde_json::json!([good(2), good(3), good(2)])),
            ),
            "The file holds a command Canopy can't accept (command 3 repeats the key of an \
             earlier one): nothing was imported",
        ),
        (
            seal(
                dir.path(),
                "bad-key",
                &document(
                    1,
                    serde_json::json!([good(2), {
                        "key": "short", "kind": "add_note", "payload": "{}",
                        "created_at": "2026-11-21T17:55:00Z"
                    }]),
                ),
            ),
            "The file holds a command Canopy can't accept (command 2 has an invalid key): \
             nothing was imported",
        ),
        (
            seal(
                dir.path(),
                "other-json",
                &serde_json::json!({"format": "something-else", "version": 1}),
            ),
            "This is not an outbox file exported by Canopy",
        ),
    ];
    for (path, message) in cases {
        let error = import(&b, &path, PASSPHRASE).unwrap_err();
        assert_eq!(error.to_string(), message, "{}", path.display());
        let keys: Vec<_> = b.outbox(None).unwrap().into_iter().map(|i| i.key).collect();
        assert_eq!(keys, [key(1)], "{}: nothing was added", path.display());
    }
    // The same file without the broken command goes in whole, skipping what is here.
    let fine = seal(
        dir.path(),
        "fine",
        &document(1, serde_json::json!([good(1), good(2), good(3)])),
    );
    assert_eq!(
        import(&b, &fine, PASSPHRASE).unwrap(),
        ImportSummary {
            added: 2,
            already_present: 1
        }
    );
}
