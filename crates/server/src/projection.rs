//! Keeps the open period's statements current: every so often, when anything in the
//! change log moved since the last look (an order placed or refunded, a member enrolled or
//! moved), the current period is run again with the plan in force. Distributors then see a
//! projection of this month's earnings and rank that follows the orders, and the statement
//! sync brings it to their devices. A closed period is left alone; closing stays an
//! admin's decision.

use std::time::Duration;

use canopy_core::Period;
use tokio::task::JoinHandle;

use crate::app::AppState;
use crate::commissions::{self, CommissionPlan};

/// Starts the projection task; it runs until the handle is aborted (the server's shutdown
/// does). The first look comes `every` after the start, not at once, so a restart doesn't
/// rerun a large company's period.
pub fn spawn(state: AppState, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let plan = match CommissionPlan::load(None) {
            Ok(plan) => plan,
            Err(e) => {
                tracing::error!(error = %e, "no projections: the commission plan can't be loaded");
                return;
            }
        };
        let mut seen = match state.storage.latest_change().await {
            Ok(at) => at,
            Err(e) => {
                tracing::error!(error = %e, "no projections: the change log can't be read");
                return;
            }
        };
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match project(&state, &plan, seen).await {
                Ok(Some(at)) => seen = at,
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "projecting the open period failed"),
            }
        }
    })
}

/// Runs the current period if the change log moved past `seen` and the period is open;
/// the change log's position it ran at, or `None` when there was nothing to do.
pub async fn project(
    state: &AppState,
    plan: &CommissionPlan,
    seen: i64,
) -> Result<Option<i64>, commissions::CommissionError> {
    let at = state.storage.latest_change().await?;
    if at == seen {
        return Ok(None);
    }
    let Ok(period) = Period::containing(state.now().date()) else {
        return Ok(None);
    };
    if state
        .storage
        .commission_period(period)
        .await?
        .is_some_and(|p| p.closed)
    {
        return Ok(Some(at));
    }
    let clock = state.clock.clone();
    let summary =
        match commissions::run(state.storage.as_ref(), plan, period, None, || clock.now()).await {
            Ok(summary) => summary,
            // Another instance (or an admin) is running the period: look again next time.
            Err(commissions::CommissionError::Busy(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
    tracing::info!(
        %period,
        lines = summary.run.lines,
        total_minor = summary.run.total_minor,
        "projected the open period"
    );
    Ok(Some(at))
}
