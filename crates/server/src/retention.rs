//! The retention purge (GDPR art. 5(1)(e)): sign-in history and resolved alerts older than
//! `[retention]` says are deleted, shortly after start-up and then daily. Each purge that removed
//! anything is audited with its counts.

use std::time::Duration;

use serde_json::json;
use time::OffsetDateTime;
use tokio::task::JoinHandle;

use crate::app::AppState;
use crate::config::RetentionConfig;
use crate::storage::{self, NewAuditEvent, PurgeCounts, Storage};

/// How often the purge runs after the first one.
pub const EVERY: Duration = Duration::from_secs(24 * 60 * 60);

/// How long after start-up the first purge runs: not in the rush of a (re)start, when
/// several instances may be coming up at once.
pub const FIRST_AFTER: Duration = Duration::from_secs(5 * 60);

/// The instants before which history goes: `None` keeps that kind for ever (0 days).
pub fn cutoffs(
    config: RetentionConfig,
    now: OffsetDateTime,
) -> (Option<OffsetDateTime>, Option<OffsetDateTime>) {
    let before = |days: u32| (days > 0).then(|| now - time::Duration::days(i64::from(days)));
    (
        before(config.sign_in_days),
        before(config.closed_alert_days),
    )
}

/// Purges what `config` no longer keeps at `now`, and audits it when anything went.
pub async fn purge(
    storage: &dyn Storage,
    config: RetentionConfig,
    now: OffsetDateTime,
) -> storage::Result<PurgeCounts> {
    let (sign_ins_before, alerts_before) = cutoffs(config, now);
    if sign_ins_before.is_none() && alerts_before.is_none() {
        return Ok(PurgeCounts::default());
    }
    let counts = storage
        .purge_history(sign_ins_before, alerts_before)
        .await?;
    if counts != PurgeCounts::default() {
        storage
            .append_audit(NewAuditEvent {
                at: now,
                actor: None,
                action: "retention.purge".to_owned(),
                target: None,
                details: json!({
                    "sign_ins": counts.sign_ins,
                    "alerts": counts.alerts,
                    "sign_in_days": config.sign_in_days,
                    "closed_alert_days": config.closed_alert_days,
                }),
            })
            .await?;
        tracing::info!(
            sign_ins = counts.sign_ins,
            alerts = counts.alerts,
            "retention purge removed old history"
        );
    }
    Ok(counts)
}

/// Starts the purge task: [`FIRST_AFTER`] start-up, then every [`EVERY`], until the handle is
/// aborted (the server's shutdown does). `None` when the configuration keeps everything.
pub fn spawn(state: AppState, config: RetentionConfig) -> Option<JoinHandle<()>> {
    if config.sign_in_days == 0 && config.closed_alert_days == 0 {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + FIRST_AFTER, EVERY);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Err(e) = purge(state.storage.as_ref(), config, state.now()).await {
                tracing::warn!(error = %e, "the retention purge failed; it runs again tomorrow");
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn zero_days_keeps_history_for_ever() {
        let now = datetime!(2026-11-22 08:00 UTC);
        let keep = |sign_in_days, closed_alert_days| RetentionConfig {
            sign_in_days,
            closed_alert_days,
        };
        assert_eq!(cutoffs(keep(0, 0), now), (None, None));
        assert_eq!(
            cutoffs(keep(30, 0), now),
            (Some(datetime!(2026-10-23 08:00 UTC)), None)
        );
        assert_eq!(
            cutoffs(keep(0, 365), now),
            (None, Some(datetime!(2025-11-22 08:00 UTC)))
        );
    }
}
