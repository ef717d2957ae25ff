//! Commission run claims: one run of a period at a time (see
//! [`crate::storage::Storage::claim_commission_run`]).

use canopy_core::Period;
use rusqlite::{Connection, params};
use time::OffsetDateTime;

use super::convert::unix;
use crate::storage::Result;

pub(super) fn claim(
    tx: &Connection,
    period: Period,
    holder: &str,
    now: OffsetDateTime,
    until: OffsetDateTime,
) -> Result<bool> {
    let period = period.to_string();
    tx.prepare_cached("DELETE FROM commission_run_claims WHERE period = ?1 AND expires_at <= ?2")?
        .execute(params![period, unix(now)])?;
    let inserted = tx
        .prepare_cached(
            "INSERT INTO commission_run_claims (period, holder, claimed_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (period) DO NOTHING",
        )?
        .execute(params![period, holder, unix(now), unix(until)])?;
    Ok(inserted == 1)
}

pub(super) fn release(tx: &Connection, period: Period, holder: &str) -> Result<()> {
    tx.prepare_cached("DELETE FROM commission_run_claims WHERE period = ?1 AND holder = ?2")?
        .execute(params![period.to_string(), holder])?;
    Ok(())
}
