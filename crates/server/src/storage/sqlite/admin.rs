//! The admin's account list on SQLite: one range of the unique `email_key` index per page
//! (prefix search and keyset paging together), with each account's member, live devices and
//! last sign-in read through their own indexes.

use canopy_core::{AccountId, Email, MemberId, MemberNumber, PersonName, Role};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::convert::{opt_parsed, opt_time_at, parsed, time_at};
use crate::storage::keys::prefix_end;
use crate::storage::{AccountSummary, Result, StorageError};

const SELECT: &str = "SELECT a.id, a.email, a.role, a.member_id, m.member_number, \
         m.display_name, a.disabled, a.mfa_enabled, \
         (SELECT count(*) FROM devices d WHERE d.account_id = a.id AND d.revoked_at IS NULL), \
         (SELECT s.at FROM sign_ins s WHERE s.account_id = a.id AND s.outcome = 'success' \
          ORDER BY s.at DESC LIMIT 1), \
         a.created_at \
     FROM accounts a LEFT JOIN members m ON m.id = a.member_id";

fn summary_from_row(row: &Row<'_>) -> rusqlite::Result<AccountSummary> {
    let member_id = row.get::<_, Option<i64>>(3)?.map(MemberId::new);
    let number = opt_parsed(row, 4, "member number", MemberNumber::parse)?;
    let name = opt_parsed(row, 5, "display name", PersonName::parse)?;
    let member = match (member_id, number, name) {
        (Some(id), Some(number), Some(name)) => Some((id, number, name)),
        _ => None,
    };
    Ok(AccountSummary {
        id: AccountId::new(row.get(0)?),
        email: parsed(row, 1, "account email", Email::parse)?,
        role: parsed(row, 2, "account role", str::parse::<Role>)?,
        member,
        disabled: row.get(6)?,
        mfa_enabled: row.get(7)?,
        live_devices: row.get(8)?,
        last_sign_in: opt_time_at(row, 9)?,
        created_at: time_at(row, 10)?,
    })
}

pub(super) fn list_accounts(
    conn: &Connection,
    prefix: &str,
    after: Option<AccountId>,
    limit: u32,
) -> Result<Vec<AccountSummary>> {
    let after_key: String = match after {
        None => String::new(),
        Some(id) => conn
            .prepare_cached("SELECT email_key FROM accounts WHERE id = ?1")?
            .query_row([id.get()], |row| row.get(0))
            .optional()?
            .ok_or(StorageError::NotFound)?,
    };
    let end = prefix_end(prefix);
    let upper = if end.is_some() {
        "AND a.email_key < ?3"
    } else {
        "AND ?3 IS NULL"
    };
    let sql = format!(
        "{SELECT} WHERE a.email_key >= ?1 AND a.email_key > ?2 {upper} \
         ORDER BY a.email_key LIMIT ?4"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![prefix, after_key, end, limit], summary_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
