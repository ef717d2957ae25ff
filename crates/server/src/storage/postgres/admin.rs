//! The admin's account list on PostgreSQL: one range of the unique `email_key` index per
//! page (prefix search and keyset paging together), with each account's member, live
//! devices and last sign-in read through their own indexes.
//!
//! `email_key` is declared `COLLATE "C"` in the schema, so its order (and the range the
//! prefix makes) is code-point order, as in SQLite, whatever the database's default
//! collation.

use canopy_core::{AccountId, Email, MemberId, MemberNumber, PersonName, Role};
use tokio_postgres::Row;

use super::Transaction;
use super::convert::{count, opt_parsed, opt_time_at, parsed, time_at};
use crate::storage::keys::prefix_end;
use crate::storage::{AccountSummary, Result, StorageError};

const SELECT: &str = "SELECT a.id, a.email, a.role, a.member_id, m.member_number, \
         m.display_name, a.disabled, a.mfa_enabled, \
         (SELECT count(*) FROM devices d WHERE d.account_id = a.id AND d.revoked_at IS NULL), \
         (SELECT s.at FROM sign_ins s WHERE s.account_id = a.id AND s.outcome = 'success' \
          ORDER BY s.at DESC LIMIT 1), \
         a.created_at \
     FROM accounts a LEFT JOIN members m ON m.id = a.member_id";

fn summary_from_row(row: &Row) -> Result<AccountSummary> {
    let member_id = row.try_get::<_, Option<i64>>(3)?.map(MemberId::new);
    let number = opt_parsed(row, 4, "member number", MemberNumber::parse)?;
    let name = opt_parsed(row, 5, "display name", PersonName::parse)?;
    let member = match (member_id, number, name) {
        (Some(id), Some(number), Some(name)) => Some((id, number, name)),
        _ => None,
    };
    Ok(AccountSummary {
        id: AccountId::new(row.try_get(0)?),
        email: parsed(row, 1, "account email", Email::parse)?,
        role: parsed(row, 2, "account role", str::parse::<Role>)?,
        member,
        disabled: row.try_get(6)?,
        mfa_enabled: row.try_get(7)?,
        live_devices: count(row.try_get(8)?)?,
        last_sign_in: opt_time_at(row, 9)?,
        created_at: time_at(row, 10)?,
    })
}

/// A prefix holding NUL (which PostgreSQL text can't hold, and no email key contains)
/// matches nothing, as it would in SQLite, instead of failing the statement.
pub(super) async fn list_accounts(
    tx: &Transaction<'_>,
    prefix: &str,
    after: Option<AccountId>,
    limit: u32,
) -> Result<Vec<AccountSummary>> {
    let after_key: String = match after {
        None => String::new(),
        Some(id) => {
            let stmt = tx
                .prepare_cached("SELECT email_key FROM accounts WHERE id = $1")
                .await?;
            tx.query_opt(&stmt, &[&id.get()])
                .await?
                .ok_or(StorageError::NotFound)?
                .try_get(0)?
        }
    };
    if prefix.contains('\0') {
        return Ok(Vec::new());
    }
    let end = prefix_end(prefix);
    let upper = if end.is_some() {
        "AND a.email_key < $3"
    } else {
        "AND $3::TEXT IS NULL"
    };
    let sql = format!(
        "{SELECT} WHERE a.email_key >= $1 AND a.email_key > $2 {upper} \
         ORDER BY a.email_key LIMIT $4"
    );
    let stmt = tx.prepare_cached(&sql).await?;
    tx.query(&stmt, &[&prefix, &after_key, &end, &i64::from(limit)])
        .await?
        .iter()
        .map(summary_from_row)
        .collect()
}
