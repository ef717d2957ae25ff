//! Sign-in history and throttling state on PostgreSQL: every counter and next-allowed time
//! is a row, so all server instances on the database see the same state.

use std::net::IpAddr;

use canopy_core::AccountId;
use time::OffsetDateTime;
use tokio_postgres::Row;

use super::Transaction;
use super::convert::{BadValue, bad, count, parsed, time_at, unix};
use crate::storage::{
    DeviceId, FailureSummary, Result, SignInAttempt, SignInOutcome, SignInRecord, ThrottleKey,
    ThrottlePolicy, ThrottleState, ThrottleStatus, TokenHash,
};

pub(super) async fn record_sign_in(
    tx: &Transaction<'_>,
    attempt: &SignInAttempt,
) -> Result<SignInRecord> {
    let stmt = tx
        .prepare_cached(
            "INSERT INTO sign_ins (at, account_id, email_hash, ip, device_id, outcome) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .await?;
    let email_hash = attempt.email_hash.as_ref().map(|h| &h.0[..]);
    let row = tx
        .query_one(
            &stmt,
            &[
                &unix(attempt.at),
                &attempt.account.map(AccountId::get),
                &email_hash,
                &attempt.ip.to_string(),
                &attempt.device.map(DeviceId::get),
                &attempt.outcome.key(),
            ],
        )
        .await?;
    Ok(SignInRecord {
        id: row.try_get(0)?,
        attempt: *attempt,
    })
}

fn sign_in_from_row(row: &Row) -> Result<SignInRecord> {
    let email_hash = match row.try_get::<_, Option<&[u8]>>(3)? {
        None => None,
        Some(bytes) => Some(TokenHash(
            bytes.try_into().map_err(|_| bad("sign-in email hash"))?,
        )),
    };
    Ok(SignInRecord {
        id: row.try_get(0)?,
        attempt: SignInAttempt {
            at: time_at(row, 1)?,
            account: row.try_get::<_, Option<i64>>(2)?.map(AccountId::new),
            email_hash,
            ip: parsed(row, 4, "sign-in ip", str::parse::<IpAddr>)?,
            device: row.try_get::<_, Option<i64>>(5)?.map(DeviceId::new),
            outcome: parsed(row, 6, "sign-in outcome", |key| {
                SignInOutcome::from_key(key).ok_or(BadValue("sign-in outcome"))
            })?,
        },
    })
}

pub(super) async fn recent_sign_ins(
    tx: &Transaction<'_>,
    account: AccountId,
    limit: u32,
) -> Result<Vec<SignInRecord>> {
    let stmt = tx
        .prepare_cached(
            "SELECT id, at, account_id, email_hash, ip, device_id, outcome FROM sign_ins \
             WHERE account_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
        )
        .await?;
    tx.query(&stmt, &[&account.get(), &i64::from(limit)])
        .await?
        .iter()
        .map(sign_in_from_row)
        .collect()
}

pub(super) async fn has_signed_in_from(
    tx: &Transaction<'_>,
    account: AccountId,
    ip: IpAddr,
) -> Result<bool> {
    let network = crate::storage::network_of(ip);
    let stmt = tx
        .prepare_cached("SELECT DISTINCT ip FROM sign_ins WHERE account_id = $1 AND outcome = $2")
        .await?;
    let rows = tx
        .query(&stmt, &[&account.get(), &SignInOutcome::Success.key()])
        .await?;
    for row in &rows {
        let known: &str = row.try_get(0)?;
        if known
            .parse::<IpAddr>()
            .is_ok_and(|known| crate::storage::network_of(known) == network)
        {
            return Ok(true);
        }
    }
    Ok(false)
}

fn failure_summary(row: &Row) -> Result<FailureSummary> {
    Ok(FailureSummary {
        failures: count(row.try_get(0)?)?,
        distinct_ips: count(row.try_get(1)?)?,
    })
}

pub(super) async fn count_failures_from(
    tx: &Transaction<'_>,
    ip: IpAddr,
    since: OffsetDateTime,
) -> Result<FailureSummary> {
    let stmt = tx
        .prepare_cached(
            "SELECT COUNT(*), COUNT(DISTINCT email_hash) FROM sign_ins \
             WHERE ip = $1 AND at > $2 AND outcome IN ($3, $4, $5)",
        )
        .await?;
    let row = tx
        .query_one(
            &stmt,
            &[
                &ip.to_string(),
                &unix(since),
                &SignInOutcome::WrongPassword.key(),
                &SignInOutcome::UnknownAccount.key(),
                &SignInOutcome::Throttled.key(),
            ],
        )
        .await?;
    failure_summary(&row)
}

/// Failures of `key` inside the window, and the oldest of them.
async fn window_counts(tx: &Transaction<'_>, key: &str, since: i64) -> Result<(u32, Option<i64>)> {
    let stmt = tx
        .prepare_cached(
            "SELECT COUNT(*), MIN(at) FROM throttle_failures WHERE throttle_key = $1 AND at > $2",
        )
        .await?;
    let row = tx.query_one(&stmt, &[&key, &since]).await?;
    Ok((count(row.try_get(0)?)?, row.try_get(1)?))
}

async fn state_of(
    tx: &Transaction<'_>,
    key: ThrottleKey,
    policy: &ThrottlePolicy,
    now: i64,
) -> Result<ThrottleState> {
    let text = key.to_string();
    let (failures, _) = window_counts(tx, &text, policy.window_start(now)).await?;
    let stmt = tx
        .prepare_cached("SELECT next_allowed_at FROM throttle_state WHERE throttle_key = $1")
        .await?;
    let next_allowed_at = match tx.query_opt(&stmt, &[&text]).await? {
        None => None,
        Some(row) => Some(time_at(&row, 0)?),
    };
    Ok(ThrottleState {
        key,
        failures,
        next_allowed_at,
    })
}

pub(super) async fn record_failure(
    tx: &Transaction<'_>,
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
        let stmt = tx
            .prepare_cached("DELETE FROM throttle_failures WHERE throttle_key = $1 AND at <= $2")
            .await?;
        tx.execute(&stmt, &[&text, &since]).await?;
        let stmt = tx
            .prepare_cached("INSERT INTO throttle_failures (throttle_key, at) VALUES ($1, $2)")
            .await?;
        tx.execute(&stmt, &[&text, &now]).await?;
        let (failures, oldest) = window_counts(tx, &text, since).await?;
        let next = policy.next_allowed_at(failures, oldest.unwrap_or(now), now);
        let stmt = tx
            .prepare_cached(
                "INSERT INTO throttle_state (throttle_key, next_allowed_at, last_failure_at) \
                 VALUES ($1, $2, $3) \
                 ON CONFLICT (throttle_key) DO UPDATE SET \
                     next_allowed_at = GREATEST(throttle_state.next_allowed_at, \
                                                excluded.next_allowed_at), \
                     last_failure_at = excluded.last_failure_at",
            )
            .await?;
        tx.execute(&stmt, &[&text, &next, &now]).await?;
        status.keys.push(state_of(tx, key, policy, now).await?);
    }
    Ok(status)
}

pub(super) async fn record_success(tx: &Transaction<'_>, keys: &[ThrottleKey]) -> Result<()> {
    for key in keys {
        let text = key.to_string();
        let stmt = tx
            .prepare_cached("DELETE FROM throttle_failures WHERE throttle_key = $1")
            .await?;
        tx.execute(&stmt, &[&text]).await?;
        let stmt = tx
            .prepare_cached("DELETE FROM throttle_state WHERE throttle_key = $1")
            .await?;
        tx.execute(&stmt, &[&text]).await?;
    }
    Ok(())
}

pub(super) async fn throttle_status(
    tx: &Transaction<'_>,
    keys: &[ThrottleKey],
    policy: &ThrottlePolicy,
    now: OffsetDateTime,
) -> Result<ThrottleStatus> {
    let now = unix(now);
    let mut status = ThrottleStatus::default();
    for &key in keys {
        status.keys.push(state_of(tx, key, policy, now).await?);
    }
    Ok(status)
}

pub(super) async fn has_signed_in(tx: &Transaction<'_>, account: AccountId) -> Result<bool> {
    let stmt = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM sign_ins WHERE account_id = $1 AND outcome = $2)",
        )
        .await?;
    Ok(tx
        .query_one(&stmt, &[&account.get(), &SignInOutcome::Success.key()])
        .await?
        .try_get(0)?)
}

pub(super) async fn count_failed_sign_ins(
    tx: &Transaction<'_>,
    account: AccountId,
    since: OffsetDateTime,
) -> Result<FailureSummary> {
    let stmt = tx
        .prepare_cached(
            "SELECT COUNT(*), COUNT(DISTINCT ip) FROM sign_ins \
             WHERE account_id = $1 AND at > $2 AND outcome = $3",
        )
        .await?;
    let row = tx
        .query_one(
            &stmt,
            &[
                &account.get(),
                &unix(since),
                &SignInOutcome::WrongPassword.key(),
            ],
        )
        .await?;
    failure_summary(&row)
}
