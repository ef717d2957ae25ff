//! Conversions between SQLite values and the storage records: unix-second instants,
//! enum keys, validated text re-parsed on the way out, and rusqlite errors mapped to ours.

use canopy_core::{Placement, Position};
use rusqlite::Row;
use rusqlite::ffi;
use rusqlite::types::Type;
use time::OffsetDateTime;

pub(super) use crate::storage::keys::{
    BadValue, ORDER_STATUSES, member_status, member_status_key, order_status, order_status_key,
    position_columns, unix,
};
use crate::storage::{Conflict, StorageError};

fn bad(idx: usize, ty: Type, what: &'static str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, ty, Box::new(BadValue(what)))
}

pub(super) fn time_at(row: &Row<'_>, idx: usize) -> rusqlite::Result<OffsetDateTime> {
    let secs: i64 = row.get(idx)?;
    OffsetDateTime::from_unix_timestamp(secs).map_err(|_| bad(idx, Type::Integer, "instant"))
}

pub(super) fn opt_time_at(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<OffsetDateTime>> {
    match row.get::<_, Option<i64>>(idx)? {
        None => Ok(None),
        Some(secs) => OffsetDateTime::from_unix_timestamp(secs)
            .map(Some)
            .map_err(|_| bad(idx, Type::Integer, "instant")),
    }
}

/// Reads text and runs it through the domain type's own parser, so a value that breaks the
/// rules never leaves storage as if it were valid.
pub(super) fn parsed<T, E>(
    row: &Row<'_>,
    idx: usize,
    what: &'static str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> rusqlite::Result<T> {
    let text: String = row.get(idx)?;
    parse(&text).map_err(|_| bad(idx, Type::Text, what))
}

pub(super) fn opt_parsed<T, E>(
    row: &Row<'_>,
    idx: usize,
    what: &'static str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> rusqlite::Result<Option<T>> {
    match row.get::<_, Option<String>>(idx)? {
        None => Ok(None),
        Some(text) => parse(&text)
            .map(Some)
            .map_err(|_| bad(idx, Type::Text, what)),
    }
}

/// Reads `(parent, leg, index)` at `idx..idx + 3`.
pub(super) fn placement_at(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<Placement>> {
    let parent: Option<i64> = row.get(idx)?;
    let leg: Option<String> = row.get(idx + 1)?;
    let index: i64 = row.get(idx + 2)?;
    let (Some(parent), Some(leg)) = (parent, leg) else {
        return Ok(None);
    };
    let position = match leg.as_str() {
        "left" => Position::Left,
        "right" => Position::Right,
        "unilevel" => Position::Unilevel(
            u32::try_from(index).map_err(|_| bad(idx + 2, Type::Integer, "placement index"))?,
        ),
        _ => return Err(bad(idx + 1, Type::Text, "placement leg")),
    };
    Ok(Some(Placement {
        parent: canopy_core::MemberId::new(parent),
        position,
    }))
}

/// `Ok(())` if a statement changed a row, [`StorageError::NotFound`] if it changed none.
pub(super) fn changed_one(changes: usize) -> Result<(), StorageError> {
    if changes == 0 {
        Err(StorageError::NotFound)
    } else {
        Ok(())
    }
}

impl From<rusqlite::Error> for StorageError {
    fn from(error: rusqlite::Error) -> Self {
        // SQLITE_FULL (any extended code): a write needed more room than the disk has.
        // SQLite rolls the statement (or the whole transaction) back, and the caller's
        // transaction is dropped, so nothing of the write is kept.
        if let rusqlite::Error::SqliteFailure(failure, _) = &error
            && failure.code == rusqlite::ErrorCode::DiskFull
        {
            return StorageError::Full;
        }
        if let rusqlite::Error::SqliteFailure(failure, message) = &error
            && failure.code == rusqlite::ErrorCode::ConstraintViolation
        {
            let message = message.as_deref().unwrap_or("");
            match failure.extended_code {
                ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                    return StorageError::Conflict(conflict_from(message));
                }
                ffi::SQLITE_CONSTRAINT_FOREIGNKEY => {
                    return StorageError::Invalid(
                        "a member, account or device it refers to does not exist",
                    );
                }
                ffi::SQLITE_CONSTRAINT_CHECK | ffi::SQLITE_CONSTRAINT_NOTNULL => {
                    return StorageError::Invalid("a value is out of the allowed range");
                }
                ffi::SQLITE_CONSTRAINT_TRIGGER => {
                    return StorageError::Invalid("the database refused the change");
                }
                _ => {}
            }
        }
        StorageError::backend(error)
    }
}

/// Which unique index the message names (`UNIQUE constraint failed: accounts.email_key`).
fn conflict_from(message: &str) -> Conflict {
    const RULES: [(&str, Conflict); 8] = [
        ("accounts.email_key", Conflict::EmailTaken),
        ("accounts.member_id", Conflict::MemberHasAccount),
        ("members.member_number", Conflict::MemberNumberTaken),
        ("members.placement_parent_id", Conflict::PlacementTaken),
        ("devices.public_key", Conflict::DeviceKeyTaken),
        ("refresh_tokens.token_hash", Conflict::TokenTaken),
        ("access_tokens.token_hash", Conflict::TokenTaken),
        (".id", Conflict::DuplicateId),
    ];
    RULES
        .into_iter()
        .find(|(column, _)| message.contains(column))
        .map_or(Conflict::Other, |(_, conflict)| conflict)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_violations_name_the_conflict() {
        let cases = [
            (
                "UNIQUE constraint failed: accounts.email_key",
                Conflict::EmailTaken,
            ),
            (
                "UNIQUE constraint failed: members.placement_parent_id, members.placement_leg, members.placement_index",
                Conflict::PlacementTaken,
            ),
            (
                "UNIQUE constraint failed: members.id",
                Conflict::DuplicateId,
            ),
            (
                "UNIQUE constraint failed: order_lines.order_id, order_lines.line_no",
                Conflict::Other,
            ),
        ];
        for (message, expected) in cases {
            assert_eq!(conflict_from(message), expected, "{message}");
        }
    }

    #[test]
    fn a_full_disk_is_its_own_error() {
        for code in [ffi::SQLITE_FULL, ffi::SQLITE_FULL | (1 << 8)] {
            let error = rusqlite::Error::SqliteFailure(
                ffi::Error::new(code),
                Some("database or disk is full".to_owned()),
            );
            let storage = StorageError::from(error);
            assert!(storage.is_full(), "{code}: {storage:?}");
            assert_eq!(
                storage.to_string(),
                "the server's disk is full: nothing was saved"
            );
        }
        // Other I/O failures stay backend failures (logged, a plain 500).
        let io = rusqlite::Error::SqliteFailure(ffi::Error::new(ffi::SQLITE_IOERR_WRITE), None);
        assert!(matches!(StorageError::from(io), StorageError::Backend(_)));
    }

    #[test]
    fn status_keys_round_trip() {
        for status in ORDER_STATUSES {
            assert_eq!(order_status(order_status_key(status)).unwrap(), status);
        }
        assert!(member_status("gone").is_err());
    }
}
