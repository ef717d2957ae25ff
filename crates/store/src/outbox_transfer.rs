//! Moving the outbox to another device: the commands not yet applied, written to a file
//! encrypted under a passphrase the person types, and read back into another cache of the
//! same account (a field rep whose laptop dies before it could sync).
//!
//! The file is an [age] file (scrypt passphrase recipient; ChaCha20-Poly1305, so any
//! changed byte is detected) holding one JSON document:
//!
//! ```json
//! {"format": "canopy-outbox", "version": 1,
//!  "owner": {"member": 345, "number": "10000345"},
//!  "exported_at": "2026-11-21T18:00:00Z",
//!  "items": [{"key": "…", "kind": "enroll", "payload": "{…}",
//!             "created_at": "2026-11-21T17:55:00Z"}]}
//! ```
//!
//! What is exported: every command the server has not applied — pending, sending (the
//! answer never came back) and rejected (so the person can fix it on the other device).
//! Each keeps its idempotency key: the server answers a key once per account, so a command
//! imported and pushed from the new device and pushed again by the old one (if it comes
//! back) is applied at most once, and a rejected one gets its stored refusal back on the
//! first push. Import enqueues them all as pending with their original creation time,
//! skips keys already in this outbox, and writes in one transaction.
//!
//! The owner is the member at the top of the cache's scope, the one the app treats as the
//! user; an administrator's scope is the whole company (its top is the founder, not the
//! person), so an administrator's outbox cannot be moved this way.
//!
//! [age]: https://age-encryption.org/v1

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;

use age::secrecy::SecretString;
use canopy_core::{IdempotencyKey, MemberId, Role};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use crate::codes;
use crate::error::StoreError;
use crate::fsutil;
use crate::outbox::{CommandKind, MAX_PAYLOAD, OutboxState};
use crate::store::Store;

/// The file format this build writes and the only one it reads.
pub const FORMAT_VERSION: u32 = 1;
/// The name inside every file, so another JSON document encrypted the same way is refused.
pub const FORMAT_NAME: &str = "canopy-outbox";
/// The extension of the files the app writes.
pub const FILE_EXTENSION: &str = "canopy-outbox";
/// The shortest passphrase accepted for an export: the file may travel on a USB stick or
/// by email, where anyone who finds it can try passphrases offline.
pub const MIN_PASSPHRASE: usize = 12;
/// The most commands one file may carry (far above any day's offline work).
pub const MAX_ITEMS: usize = 10_000;
/// The largest file read back: every command at its largest would be far more, but a
/// file this size is not an outbox.
pub const MAX_FILE: u64 = 64 * 1024 * 1024;

/// Every way an export or an import can fail, each worded for the person doing it.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error("Use a passphrase of at least {min} characters")]
    WeakPassphrase { min: usize },
    #[error("There is nothing waiting to be sent: nothing to export")]
    NothingToExport,
    #[error(
        "This device has not finished its first download yet, so it can't tell whose \
         outbox this is"
    )]
    NoOwner,
    #[error(
        "An administrator's outbox can't be moved to another device: sync it from this \
         device instead"
    )]
    Administrator,
    #[error("This is not an outbox file exported by Canopy")]
    NotAnOutboxFile,
    #[error("The passphrase does not open this file")]
    WrongPassphrase,
    #[error("The file is damaged or was changed after it was exported: nothing was imported")]
    Damaged,
    #[error(
        "This file was made by a newer version of Canopy (format {found}; this version \
         reads format {known}): update Canopy on this device first"
    )]
    TooNew { found: u32, known: u32 },
    #[error(
        "This file holds the outbox of member {file}, but this device belongs to member \
         {here}: it can only be imported on a device of the same account"
    )]
    OtherAccount { file: String, here: String },
    #[error("The file is too big to be an outbox file")]
    TooBig,
    #[error(
        "The outbox is too big to be exported in one file (at most {MAX_ITEMS} items): \
         sync from this device instead"
    )]
    TooMuchToExport,
    #[error(
        "This file was encrypted with more work than this device may spend to open it \
         (scrypt 2^{required}, this device allows 2^{allowed})"
    )]
    TooMuchWork { required: u8, allowed: u8 },
    #[error("The file holds a command Canopy can't accept ({0}): nothing was imported")]
    BadItem(String),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    pub items: usize,
    pub exported_at: OffsetDateTime,
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    /// Commands added to this outbox as pending.
    pub added: usize,
    /// Commands skipped because their key is already in this outbox.
    pub already_present: usize,
}

/// Whose outbox a file is: the member at the top of the exporting cache's scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Owner {
    member: i64,
    /// The member number people see, for the error message.
    number: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Item {
    key: String,
    kind: CommandKind,
    /// The command's body exactly as the outbox keeps it.
    payload: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

/// Only the header, read first so a newer format is named as such rather than as damage.
#[derive(Deserialize)]
struct Header {
    format: String,
    version: u32,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    format: String,
    version: u32,
    owner: Owner,
    #[serde(with = "time::serde::rfc3339")]
    exported_at: OffsetDateTime,
    items: Vec<Item>,
}

impl Store {
    /// Writes every command not yet applied to `path`, encrypted under `passphrase`
    /// (crash-safely, readable by its owner only). Nothing in the outbox changes: the
    /// commands stay here too, and the server applies each key once.
    pub fn export_outbox(
        &self,
        path: &Path,
        passphrase: &str,
        now: OffsetDateTime,
    ) -> Result<ExportSummary, TransferError> {
        let passphrase = checked_passphrase(passphrase)?;
        let owner = self.transfer_owner()?;
        let items: Vec<Item> = self
            .outbox(None)?
            .into_iter()
            .filter(|item| item.state != OutboxState::Applied)
            .map(|item| Item {
                key: item.key.as_str().to_owned(),
                kind: item.kind,
                payload: item.payload,
                created_at: item.created_at,
            })
            .collect();
        if items.is_empty() {
            return Err(TransferError::NothingToExport);
        }
        if items.len() > MAX_ITEMS {
            return Err(TransferError::TooMuchToExport);
        }
        let count = items.len();
        let exported_at = now.replace_nanosecond(0).unwrap_or(now);
        let document = Document {
            format: FORMAT_NAME.to_owned(),
            version: FORMAT_VERSION,
            owner,
            exported_at,
            items,
        };
        // The plaintext holds personal data (enrollments): wiped from memory once sealed.
        let plain = Zeroizing::new(
            serde_json::to_vec(&document)
                .map_err(|e| StoreError::Invalid(format!("the outbox can't be written: {e}")))?,
        );
        let recipient = age::scrypt::Recipient::new(passphrase);
        let sealed = age::encrypt(&recipient, &plain)
            .map_err(|e| StoreError::Invalid(format!("the file can't be encrypted: {e}")))?;
        // Never write a file that an import would refuse.
        if sealed.len() as u64 > MAX_FILE {
            return Err(TransferError::TooMuchToExport);
        }
        fsutil::write_atomic(path, &sealed)?;
        Ok(ExportSummary {
            items: count,
            exported_at,
        })
    }

    /// Reads a file [`Store::export_outbox`] wrote and adds its commands to this outbox as
    /// pending, keeping their keys and creation times; keys already here are skipped, so
    /// importing twice adds nothing. Every command is checked before anything is written,
    /// and all are written in one transaction: a file is imported whole or not at all.
    pub fn import_outbox(
        &self,
        path: &Path,
        passphrase: &str,
        now: OffsetDateTime,
    ) -> Result<ImportSummary, TransferError> {
        let sealed = read_bounded(path)?;
        let document = open(&sealed, passphrase)?;
        let here = self.transfer_owner()?;
        if document.owner.member != here.member {
            return Err(TransferError::OtherAccount {
                file: document.owner.number,
                here: here.number,
            });
        }
        let items = checked_items(document.items)?;
        let now = now
            .format(&Rfc3339)
            .map_err(|e| StoreError::Invalid(format!("time: {e}")))?;
        let summary = self.database().write(|tx| {
            let mut summary = ImportSummary {
                added: 0,
                already_present: 0,
            };
            for (key, item, created_at) in &items {
                let taken: bool = tx
                    .prepare_cached(
                        "SELECT EXISTS (SELECT 1 FROM outbox WHERE idempotency_key = ?1)",
                    )?
                    .query_row([key.as_str()], |r| r.get(0))?;
                if taken {
                    summary.already_present += 1;
                    continue;
                }
                tx.prepare_cached(
                    "INSERT INTO outbox (idempotency_key, kind, payload, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![
                    key.as_str(),
                    codes::code(item.kind),
                    item.payload,
                    created_at,
                    now
                ])?;
                summary.added += 1;
            }
            Ok(summary)
        })?;
        Ok(summary)
    }

    /// The member whose outbox this cache holds (see the module's comment).
    fn transfer_owner(&self) -> Result<Owner, TransferError> {
        if self.account_role()? == Some(Role::Admin) {
            return Err(TransferError::Administrator);
        }
        let root: Option<MemberId> = self.scope_root()?;
        let Some(root) = root else {
            return Err(TransferError::NoOwner);
        };
        let number: Option<String> = self.database().read(|conn| {
            Ok(conn
                .query_row(
                    "SELECT number FROM members WHERE id = ?1",
                    [root.get()],
                    |r| r.get(0),
                )
                .optional()?)
        })?;
        Ok(Owner {
            member: root.get(),
            number: number.ok_or(TransferError::NoOwner)?,
        })
    }
}

/// The passphrase as age uses it: NFKC, like every password in Canopy, so the same
/// passphrase typed on another system (which may compose accents differently) opens it.
fn checked_passphrase(passphrase: &str) -> Result<SecretString, TransferError> {
    if passphrase.chars().count() < MIN_PASSPHRASE {
        return Err(TransferError::WeakPassphrase {
            min: MIN_PASSPHRASE,
        });
    }
    Ok(normalised(passphrase))
}

fn normalised(passphrase: &str) -> SecretString {
    SecretString::from(passphrase.nfkc().collect::<String>())
}

fn read_bounded(path: &Path) -> Result<Vec<u8>, TransferError> {
    let file = std::fs::File::open(path).map_err(StoreError::io(path))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(StoreError::io(path))?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(TransferError::TooBig);
    }
    Ok(bytes)
}

/// The age header every binary age file starts with.
const AGE_MAGIC: &[u8] = b"age-encryption.org/v1\n";

/// Decrypts and parses a file, sorting each failure into the error the person should see.
fn open(sealed: &[u8], passphrase: &str) -> Result<Document, TransferError> {
    if !sealed.starts_with(AGE_MAGIC) {
        return Err(TransferError::NotAnOutboxFile);
    }
    // No length rule here: a file exported under an older, shorter rule still opens.
    let identity = age::scrypt::Identity::new(normalised(passphrase));
    let plain = Zeroizing::new(age::decrypt(&identity, sealed).map_err(|e| match e {
        // The passphrase's key did not open the file key.
        age::DecryptError::DecryptionFailed => TransferError::WrongPassphrase,
        // Not encrypted to a passphrase at all (an age file made for someone's key).
        age::DecryptError::NoMatchingKeys | age::DecryptError::UnknownFormat => {
            TransferError::NotAnOutboxFile
        }
        // Exported on a much faster machine (age sizes the work to ~1 s where it runs).
        age::DecryptError::ExcessiveWork { required, target } => TransferError::TooMuchWork {
            required,
            allowed: target.saturating_add(4),
        },
        // A changed header (its MAC) or a changed body (each chunk's tag), a cut file.
        _ => TransferError::Damaged,
    })?);
    // Authenticated by now: anything unreadable below was written so, not changed later.
    let header: Header =
        serde_json::from_slice(&plain).map_err(|_| TransferError::NotAnOutboxFile)?;
    if header.format != FORMAT_NAME {
        return Err(TransferError::NotAnOutboxFile);
    }
    if header.version != FORMAT_VERSION {
        return Err(TransferError::TooNew {
            found: header.version,
            known: FORMAT_VERSION,
        });
    }
    serde_json::from_slice(&plain).map_err(|e| TransferError::BadItem(e.to_string()))
}

/// Every item checked as [`Store::enqueue`] checks a new command, plus a key that appears
/// twice in the file; answers each with its parsed key and creation time as stored.
fn checked_items(items: Vec<Item>) -> Result<Vec<(IdempotencyKey, Item, String)>, TransferError> {
    if items.len() > MAX_ITEMS {
        return Err(TransferError::TooBig);
    }
    let mut seen = HashSet::with_capacity(items.len());
    let mut out = Vec::with_capacity(items.len());
    for (n, item) in items.into_iter().enumerate() {
        let which = n + 1;
        let key = IdempotencyKey::parse(&item.key)
            .map_err(|_| TransferError::BadItem(format!("command {which} has an invalid key")))?;
        if !seen.insert(key.clone()) {
            return Err(TransferError::BadItem(format!(
                "command {which} repeats the key of an earlier one"
            )));
        }
        if item.payload.len() > MAX_PAYLOAD {
            return Err(TransferError::BadItem(format!(
                "command {which} is over {} KiB",
                MAX_PAYLOAD / 1024
            )));
        }
        if serde_json::from_str::<serde_json::Value>(&item.payload).is_err() {
            return Err(TransferError::BadItem(format!(
                "command {which} is not valid JSON"
            )));
        }
        let created = item
            .created_at
            .format(&Rfc3339)
            .map_err(|_| TransferError::BadItem(format!("command {which} has an invalid time")))?;
        out.push((key, item, created));
    }
    Ok(out)
}
