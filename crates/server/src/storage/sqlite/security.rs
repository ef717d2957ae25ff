//! Sign-in history and throttling state on SQLite: every counter and next-allowed time is a
//! row, so all server instances on the database see the same state.

use std::net::IpAddr;

use canopy_core::AccountId;
use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;

use super::convert::{BadValue, parsed, time_at, unix};
use crate::storage::{
    DeviceId, FailureSummary, Result, SignInAttempt, SignInOutcome, SignInRecord, ThrottleKey,
    ThrottlePolicy, ThrottleState, ThrottleStatus, TokenHash,
};

pub(super) fn record_sign_in(tx: &Connection, attempt: &SignInAttempt) -> Result<SignInRecord> {
    tx.prepare_cached(
        "INSERT INTO sign_ins (at, account_id, email_hash, ip, device_id, outcome) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        unix(attempt.at),
        attempt.account.map(AccountId::get),
        attempt.email_hash.map(|h| h.0),
        attempt.ip.to_string(),
        attempt.device.map(DeviceId::get),
        attempt.outcome.key(),
    ])?;
    Ok(SignInRecord {
        id: tx.last_insert_rowid(),
        attempt: *attempt,
    })
}

pub(super) fn recent_sign_ins(
    conn: &Connection,
    account: AccountId,
    limit: u32,
) -> Result<Vec<SignInRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, at, account_id, email_hash, ip, device_id, outcome FROM sign_ins \
         WHERE account_id = ?1 ORDER BY at DESC, id DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![account.get(), i64::from(limit)], |row| {
        Ok(SignInRecord {
            id: row.get(0)?,
            attempt: SignInAttempt {
                at: time_at(row, 1)?,
                account: row.get::<_, Option<i64>>(2)?.map(AccountId::new),
                email_hash: row.get::<_, Option<[u8; 32]>>(3)?.map(TokenHash),
                ip: parsed(row, 4, "sign-in ip", str::parse::<IpAddr>)?,
                device: row.get::<_, Option<i64>>(5)?.map(DeviceId::new),
                outcome: parsed(row, 6, "sign-in outcome", |key| {
                    SignInOutcome::from_key(key).ok_or(BadValue("sign-in outcome"))
                })?,
            },
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn has_signed_in_from(
    conn: &Connection,
    account: AccountId,
    ip: IpAddr,
) -> Result<bool> {
    let network = crate::storage::network_of(ip);
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT ip FROM sign_ins WHERE account_id = ?1 AND outcome = ?2",
    )?;
    let mut rows = stmt.query(params![account.get(), SignInOutcome::Success.key()])?;
    while let Some(row) = rows.next()? {
        let known: String = row.get(0)?;
        if known
            .parse::<IpAddr>()
            .is_ok_and(|known| crate::storage::network_of(known) == network)
        {
            return Ok(true);
        }
    }
    Ok(false)
}

pub(super) fn count_failures_from(
    conn: &Connection,
    ip: IpAddr,
    since: OffsetDateTime,
) -> Result<FailureSummary> {
    Ok(conn
        .prepare_cached(
            "SELECT COUNT(*), COUNT(DISTINCT email_hash) FROM sign_ins \
             WHERE ip = ?1 AND at > ?2 AND outcome IN (?3, ?4, ?5)",
        )?
        .query_row(
            params![
                ip.to_string(),
                unix(since),
                SignInOutcome::WrongPassword.key(),
                SignInOutcome::UnknownAccount.key(),
                SignInOutcome::Throttled.key()
            ],
            |row| {
                Ok(FailureSummary {
                    failures: row.get(0)?,
                    distinct_ips: row.get(1)?,
                })
            },
        )?)
}

/// Failures of `key` inside the window, and the oldest of them.
fn window_counts(conn: &Connection, key: &str, since: i64) -> Result<(u32, Option<i64>)> {
    Ok(conn
        .prepare_cached(
            "SELECT COUNT(*), MIN(at) FROM throttle_failures WHERE throttle_key = ?1 AND at > ?2",
        )?
        .query_row(params![key, since], |row| Ok((row.get(0)?, row.get(1)?)))?)
}

fn state_of(
    conn: &Connection,
    key: ThrottleKey,
    policy: &ThrottlePolicy,
    now: i64,
) -> Result<ThrottleState> {
    let text = key.to_string();
    let (failures, _) = window_counts(conn, &text, policy.window_start(now))?;
    let next_allowed_at = conn
        .prepare_cached("SELECT next_allowed_at FROM throttle_state WHERE throttle_key = ?1")?
        .query_row([&text], |row| time_at(row, 0))
        .optional()?;
    Ok(ThrottleState {
        key,
        failures,
        next_allowed_at,
    })
}

pub(super) fn record_failure(
    tx: &Connection,
    keys: &[ThrottleKey],
    policy: &ThrottlePolicy,
    now: OffsetDateTime,
) -> Result<ThrottleStatus> {
    let now = unix(now);
    let since = policy.window_start(now);
    let mut status = ThrottleStatus::default();
    for &key in keys {
        let text = key.to_string();
        // Failures that left the window no longer count; drop them so rows can't pile up.
        tx.prepare_cached("DELETE FROM throttle_failures WHERE throttle_key = ?1 AND at <= ?2")?
            .execute(params![text, since])?;
        tx.prepare_cached("INSERT INTO throttle_failures (throttle_key, at) VALUES (?1, ?2)")?
            .execute(params![text, now])?;
        let (failures, oldest) = window_counts(tx, &text, since)?;
        let next = policy.next_allowed_at(failures, oldest.unwrap_or(now), now);
        tx.prepare_cached(
            "INSERT INTO throttle_state (throttle_key, next_allowed_at, last_failure_at) \
             VALUES (?1, ?2, ?3) \
             ON CONFLICT (throttle_key) DO UPDATE SET \
                 next_allowed_at = MAX(next_allowed_at, excluded.next_allowed_at), \
                 last_failure_at = excluded.last_failure_at",
        )?
        .execute(params![text, next, now])?;
        status.keys.push(state_of(tx, key, policy, now)?);
    }
    Ok(status)
}

pub(super) fn record_success(tx: &Connection, keys: &[ThrottleKey]) -> Result<()> {
    for key in keys {
        let text = key.to_string();
        tx.prepare_cached("DELETE FROM throttle_failures WHERE throttle_key = ?1")?
            .execute([&text])?;
        tx.prepare_cached("DELETE FROM throttle_state WHERE throttle_key = ?1")?
            .execute([&text])?;
    }
    Ok(())
}

pub(super) fn throttle_status(
    conn: &Connection,
    keys: &[ThrottleKey],
    policy: &ThrottlePolicy,
    now: OffsetDateTime,
) -> Result<ThrottleStatus> {
    let now = unix(now);
    let keys = keys
        .iter()
        .map(|&key| state_of(conn, key, policy, now))
        .collect::<Result<_>>()?;
    Ok(ThrottleStatus { keys })
}

pub(super) fn has_signed_in(conn: &Connection, account: AccountId) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM sign_ins WHERE account_id = ?1 AND outcome = ?2)",
        )?
        .query_row(
            params![account.get(), SignInOutcome::Success.key()],
            |row| row.get(0),
        )?)
}

pub(super) fn count_failed_sign_ins(
    conn: &Connection,
    account: AccountId,
    since: OffsetDateTime,
) -> Result<FailureSummary> {
    Ok(conn
        .prepare_cached(
            "SELECT COUNT(*), COUNT(DISTINCT ip) FROM sign_ins \
             WHERE account_id = ?1 AND at > ?2 AND outcome = ?3",
        )?
        .query_row(
            params![
                account.get(),
                unix(since),
                SignInOutcome::WrongPassword.key()
            ],
            |row| {
                Ok(FailureSummary {
                    failures: row.get(0)?,
                    distinct_ips: row.get(1)?,
                })
            },
        )?)
}
