//! The dashboard's command: this period's volumes, rank and the next one, the last twelve
//! periods' earnings, new enrollees, alerts and where the sync stands, all from the open
//! cache and the running sync's status. The store does the reading; this module shapes it.

use canopy_core::ipc::{
    CommandError, DashboardAlertView, DashboardMember, DashboardView, EarningsBarView,
    NewEnrolleeView, NewEnrolleesView, RankProgressView, RankStepView, SyncSummaryView,
};
use canopy_core::{MemberId, Period};
use canopy_store::{StatementStatus, Store};
use canopy_sync::runner::SyncStatus;
use tauri::State;
use time::format_description::well_known::Rfc3339;

use super::blocking;
use crate::state::AppState;

/// How many periods the earnings chart shows.
pub const CHART_PERIODS: usize = 12;
/// How many new enrollees the dashboard lists (the count covers them all).
pub const RECENT_ENROLLEES: u32 = 5;
/// How many alerts the dashboard lists.
pub const ALERTS: usize = 5;

/// The dashboard.
#[tauri::command]
pub async fn dashboard(state: State<'_, AppState>) -> Result<DashboardView, CommandError> {
    let session = state.session().await?;
    let store = session.store().ok_or(CommandError::Locked)?.clone();
    let status = session.sync().map(|s| s.status()).unwrap_or_default();
    drop(session);
    let today = time::OffsetDateTime::now_utc().date();
    blocking(move || view(&store, today, &status)).await
}

/// [`dashboard`]'s work without Tauri (the tests call it): the dashboard of the top of the
/// cached scope (the user) as of `today`.
pub fn view(
    store: &Store,
    today: time::Date,
    status: &SyncStatus,
) -> Result<DashboardView, CommandError> {
    if store.bootstrap_progress().map_err(internal)?.is_some() {
        return Err(CommandError::Invalid(
            "Your team's figures are still downloading: the dashboard appears when they are in"
                .into(),
        ));
    }
    let me = store
        .scope_root()
        .map_err(internal)?
        .ok_or_else(|| CommandError::Invalid("Nothing is in this device's cache yet".into()))?;
    let period = Period::containing(today).map_err(|e| CommandError::Invalid(e.to_string()))?;
    let previous = period.previous().unwrap_or(period);
    let now = store.subtree(me, period).map_err(internal)?;
    let before = store.member(me, previous).map_err(internal)?.row;
    let row = store.member(me, period).map_err(internal)?.row;
    Ok(DashboardView {
        period: period.to_string(),
        period_label: format!("{} {}", period.month(), period.year()),
        member: DashboardMember {
            id: me.get(),
            number: row.number.clone(),
            display_name: row.display_name.clone(),
        },
        pv: now.pv,
        gv: now.gv,
        previous_pv: before.pv,
        previous_gv: before.gv,
        team_size: now.team_size,
        rank: rank_progress(store, row.rank, row.rank_name)?,
        earnings: earnings(store, period)?,
        new_enrollees: new_enrollees(store, me, row.depth, period)?,
        alerts: store
            .alerts()
            .map_err(internal)?
            .into_iter()
            .take(ALERTS)
            .map(|a| DashboardAlertView {
                id: a.id,
                severity: a.severity,
                message: a.message,
                created_at: a.created_at,
            })
            .collect(),
        sync: sync_summary(store, status)?,
    })
}

/// The user's rank and the next one up the ladder the cache knows. No requirements: the
/// compensation plan that sets them isn't there yet, and none are made up here.
fn rank_progress(
    store: &Store,
    rank: canopy_core::RankLevel,
    name: String,
) -> Result<RankProgressView, CommandError> {
    let next = store
        .rank_ladder()
        .map_err(internal)?
        .into_iter()
        .find(|(level, _)| *level > rank)
        .map(|(level, name)| RankStepView {
            level: level.get(),
            name,
        });
    Ok(RankProgressView {
        current: RankStepView {
            level: rank.get(),
            name,
        },
        next,
        requirements: Vec::new(),
    })
}

/// The twelve periods ending with `period`, each with its statement's total if the cache
/// has one; nothing at all when it has no statement (the chart's empty state).
fn earnings(store: &Store, period: Period) -> Result<Vec<EarningsBarView>, CommandError> {
    let statements = store.earnings_by_period().map_err(internal)?;
    if statements.is_empty() {
        return Ok(Vec::new());
    }
    let mut periods = vec![period];
    while periods.len() < CHART_PERIODS {
        match periods.last().and_then(|p| p.previous()) {
            Some(p) => periods.push(p),
            None => break,
        }
    }
    periods.reverse();
    Ok(periods
        .into_iter()
        .map(|p| {
            let statement = statements.iter().find(|s| s.period == p);
            let month = p.month().to_string();
            EarningsBarView {
                period: p.to_string(),
                label: month.chars().take(3).collect(),
                total_minor: statement.map(|s| s.total.minor()),
                total: statement.map(|s| s.total.to_string()).unwrap_or_default(),
                closed: statement.is_some_and(|s| s.status == StatementStatus::Final),
            }
        })
        .collect())
}

/// Who joined `me`'s downline this period; `base` is `me`'s depth, so levels count from 1.
fn new_enrollees(
    store: &Store,
    me: MemberId,
    base: u32,
    period: Period,
) -> Result<NewEnrolleesView, CommandError> {
    let found = store
        .new_enrollees(me, period.first_day(), period, RECENT_ENROLLEES)
        .map_err(internal)?;
    Ok(NewEnrolleesView {
        count: found.count,
        recent: found
            .recent
            .into_iter()
            .map(|r| NewEnrolleeView {
                id: r.id.get(),
                number: r.number,
                display_name: r.display_name,
                level: r.depth.saturating_sub(base),
                joined_on: canopy_core::format_date(r.joined_on),
            })
            .collect(),
    })
}

/// The running sync's view; before its first pass, the last sync the cache recorded.
fn sync_summary(store: &Store, status: &SyncStatus) -> Result<SyncSummaryView, CommandError> {
    let last_sync_at = match status.last_success {
        Some(at) => at.format(&Rfc3339).ok(),
        None => store.sync_state().map_err(internal)?.last_sync_at,
    };
    Ok(SyncSummaryView {
        last_sync_at,
        offline: status.offline,
        running: status.running,
        pending: status.pending,
    })
}

fn internal(e: canopy_store::StoreError) -> CommandError {
    CommandError::Internal(e.to_string())
}
