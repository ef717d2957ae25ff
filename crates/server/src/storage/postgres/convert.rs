//! Conversions between PostgreSQL values and the storage records: unix-second instants,
//! validated text re-parsed on the way out, and driver errors mapped to ours by SQLSTATE
//! and constraint name.

use canopy_core::{Placement, Position};
use time::OffsetDateTime;
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;

pub(super) use crate::storage::keys::{
    BadValue, ORDER_STATUSES, member_status, member_status_key, order_status, order_status_key,
    position_columns, unix,
};
use crate::storage::{Conflict, StorageError};

pub(super) fn bad(what: &'static str) -> StorageError {
    StorageError::backend(BadValue(what))
}

pub(super) fn instant(secs: i64) -> Result<OffsetDateTime, StorageError> {
    OffsetDateTime::from_unix_timestamp(secs).map_err(|_| bad("instant"))
}

pub(super) fn time_at(row: &Row, idx: usize) -> Result<OffsetDateTime, StorageError> {
    instant(row.try_get(idx)?)
}

pub(super) fn opt_time_at(row: &Row, idx: usize) -> Result<Option<OffsetDateTime>, StorageError> {
    row.try_get::<_, Option<i64>>(idx)?.map(instant).transpose()
}

/// Reads text and runs it through the domain type's own parser, so a value that breaks the
/// rules never leaves storage as if it were valid.
pub(super) fn parsed<T, E>(
    row: &Row,
    idx: usize,
    what: &'static str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, StorageError> {
    let text: &str = row.try_get(idx)?;
    parse(text).map_err(|_| bad(what))
}

pub(super) fn opt_parsed<T, E>(
    row: &Row,
    idx: usize,
    what: &'static str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<Option<T>, StorageError> {
    match row.try_get::<_, Option<&str>>(idx)? {
        None => Ok(None),
        Some(text) => parse(text).map(Some).map_err(|_| bad(what)),
    }
}

/// Reads `(parent, leg, index)` at `idx..idx + 3`.
pub(super) fn placement_at(row: &Row, idx: usize) -> Result<Option<Placement>, StorageError> {
    let parent: Option<i64> = row.try_get(idx)?;
    let leg: Option<&str> = row.try_get(idx + 1)?;
    let index: i64 = row.try_get(idx + 2)?;
    let (Some(parent), Some(leg)) = (parent, leg) else {
        return Ok(None);
    };
    let position = match leg {
        "left" => Position::Left,
        "right" => Position::Right,
        "unilevel" => Position::Unilevel(u32::try_from(index).map_err(|_| bad("placement index"))?),
        _ => return Err(bad("placement leg")),
    };
    Ok(Some(Placement {
        parent: canopy_core::MemberId::new(parent),
        position,
    }))
}

/// A count or size read as `BIGINT`, as the unsigned type the records use.
pub(super) fn count<T: TryFrom<i64>>(value: i64) -> Result<T, StorageError> {
    T::try_from(value).map_err(|_| bad("count"))
}

/// `Ok(())` if a statement changed a row, [`StorageError::NotFound`] if it changed none.
pub(super) fn changed_one(changes: u64) -> Result<(), StorageError> {
    if changes == 0 {
        Err(StorageError::NotFound)
    } else {
        Ok(())
    }
}

impl From<tokio_postgres::Error> for StorageError {
    fn from(error: tokio_postgres::Error) -> Self {
        // The connection closed, or the network failed under it (refused, reset): not a
        // certificate that doesn't verify, which reaches here as an io error too.
        let io = std::error::Error::source(&error)
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .is_some_and(|e| {
                use std::io::ErrorKind::*;
                matches!(
                    e.kind(),
                    ConnectionRefused
                        | ConnectionReset
                        | ConnectionAborted
                        | NotConnected
                        | BrokenPipe
                        | UnexpectedEof
                        | TimedOut
                )
            });
        if error.is_closed() || io {
            return StorageError::unavailable(error);
        }
        if let Some(db) = error.as_db_error() {
            // Class 08 (connection exceptions) and 57P (the server shutting down, crashed,
            // or not accepting connections yet): a restart, not a fault of the call.
            let class = db.code().code();
            if class.starts_with("08") || class.starts_with("57P") {
                return StorageError::unavailable(error);
            }
            let code = db.code();
            if *code == SqlState::UNIQUE_VIOLATION {
                return StorageError::Conflict(conflict_from(db.constraint().unwrap_or("")));
            }
            if *code == SqlState::FOREIGN_KEY_VIOLATION {
                return StorageError::Invalid(
                    "a member, account or device it refers to does not exist",
                );
            }
            if *code == SqlState::CHECK_VIOLATION || *code == SqlState::NOT_NULL_VIOLATION {
                return StorageError::Invalid("a value is out of the allowed range");
            }
            if *code == SqlState::RESTRICT_VIOLATION {
                return StorageError::Invalid("the database refused the change");
            }
            // 53100: the server's disk is full; PostgreSQL aborted the transaction.
            if *code == SqlState::DISK_FULL {
                return StorageError::Full;
            }
        }
        StorageError::backend(error)
    }
}

/// Which unique constraint or index was broken (names from migrations/0001_schema.sql).
fn conflict_from(constraint: &str) -> Conflict {
    const RULES: [(&str, Conflict); 7] = [
        ("accounts_email_key_unique", Conflict::EmailTaken),
        ("accounts_member_unique", Conflict::MemberHasAccount),
        ("members_number_unique", Conflict::MemberNumberTaken),
        ("members_by_placement", Conflict::PlacementTaken),
        ("devices_key_unique", Conflict::DeviceKeyTaken),
        ("refresh_tokens_hash_unique", Conflict::TokenTaken),
        ("access_tokens_hash_unique", Conflict::TokenTaken),
    ];
    // Tables keyed by a single `id` column: a second row with the same id.
    const ID_KEYS: [&str; 16] = [
        "members_pkey",
        "orders_pkey",
        "accounts_pkey",
        "recovery_codes_pkey",
        "devices_pkey",
        "session_families_pkey",
        "refresh_tokens_pkey",
        "access_tokens_pkey",
        "sign_ins_pkey",
        "alerts_pkey",
        "sync_snapshots_pkey",
        "member_notes_pkey",
        "commission_runs_pkey",
        "earnings_lines_pkey",
        "push_events_pkey",
        "audit_events_pkey",
    ];
    if let Some((_, conflict)) = RULES.iter().find(|(name, _)| *name == constraint) {
        return *conflict;
    }
    if ID_KEYS.contains(&constraint) {
        return Conflict::DuplicateId;
    }
    Conflict::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_violations_name_the_conflict() {
        let cases = [
            ("accounts_email_key_unique", Conflict::EmailTaken),
            ("members_by_placement", Conflict::PlacementTaken),
            ("members_pkey", Conflict::DuplicateId),
            ("order_lines_pkey", Conflict::Other),
            ("", Conflict::Other),
        ];
        for (constraint, expected) in cases {
            assert_eq!(conflict_from(constraint), expected, "{constraint}");
        }
    }
}
