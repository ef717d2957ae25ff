//! Commission run claims: one run of a period at a time (see
//! [`crate::storage::Storage::claim_commission_run`]).

use canopy_core::Period;
use time::OffsetDateTime;

use super::Transaction;
use super::convert::unix;
use crate::storage::Result;

pub(super) async fn claim(
    tx: &Transaction<'_>,
    period: Period,
    holder: &str,
    now: OffsetDateTime,
    until: OffsetDateTime,
) -> Result<bool> {
    let period = period.to_string();
    let expire = tx
        .prepare_cached("DELETE FROM commission_run_claims WHERE period = $1 AND expires_at <= $2")
        .await?;
    tx.execute(&expire, &[&period, &unix(now)]).await?;
    let insert = tx
        .prepare_cached(
            "INSERT INTO commission_run_claims (period, holder, claimed_at, expires_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (period) DO NOTHING",
        )
        .await?;
    let inserted = tx
        .execute(&insert, &[&period, &holder, &unix(now), &unix(until)])
        .await?;
    Ok(inserted == 1)
}

pub(super) async fn release(tx: &Transaction<'_>, period: Period, holder: &str) -> Result<()> {
    let delete = tx
        .prepare_cached("DELETE FROM commission_run_claims WHERE period = $1 AND holder = $2")
        .await?;
    tx.execute(&delete, &[&period.to_string(), &holder]).await?;
    Ok(())
}
