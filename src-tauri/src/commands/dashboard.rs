//! The dashboard's command: this period's volumes, rank and the next one, the last twelve
//! periods' earnings, new enrollees, alerts and where the sync stands, all from the open
//! cache and the running sync's status. The store does the reading; this module shapes it.

use canopy_core::comp::{
    Leg, MemberFacts, PeriodOrder, Plan, RankCheck, RequirementCheck, RequirementKind, Tree,
    TreeMember, progress_in_run, progress_to_next, project_open_period, qualify,
};
use canopy_core::ipc::{
    CommandError, DashboardAlertView, DashboardMember, DashboardView, EarningsBarView,
    NewEnrolleeView, NewEnrolleesView, RankProgressView, RankStepView, RequirementView,
    SyncSummaryView,
};
use canopy_core::{Gv, MemberId, Money, OrderId, OrderStatus, Period, Pv, RankLevel};
use canopy_store::{MemberRow, StatementStatus, Store, TeamMember};
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
/// Teams up to this size get this period's ranks projected by the plan's run on the
/// device; larger ones count their legs' ranks on file (see [`on_file`]).
pub const PROJECTED_TEAM: u64 = 100_000;

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
        rank: rank_progress(store, &row, period)?,
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

/// The user's rank on file, the rank this period's figures so far qualify for, and the
/// rank above that with each of its requirements checked by the plan's own code (the
/// server's runs use the same). Without a plan on the device (before the first statements
/// sync) the ladder the cache knows gives the next rank, and no requirement is made up.
fn rank_progress(
    store: &Store,
    row: &MemberRow,
    period: Period,
) -> Result<RankProgressView, CommandError> {
    let current = RankStepView {
        level: row.rank.get(),
        name: row.rank_name.clone(),
    };
    let plan = match store.comp_plan().map_err(internal)? {
        Some((_, toml)) => match Plan::from_toml(&toml) {
            Ok(plan) => Some(plan),
            Err(e) => {
                tracing::warn!(error = %e, "the cached compensation plan is not readable");
                None
            }
        },
        None => None,
    };
    let Some(plan) = plan else {
        let next = store
            .rank_ladder()
            .map_err(internal)?
            .into_iter()
            .find(|(level, _)| *level > row.rank)
            .map(|(level, name)| RankStepView {
                level: level.get(),
                name,
            });
        return Ok(RankProgressView {
            current,
            next,
            qualifies_for: None,
            requirements: Vec::new(),
        });
    };
    let step = |level: RankLevel| RankStepView {
        level: level.get(),
        name: plan
            .rank(level)
            .map_or_else(|| format!("Rank {}", level.get()), |r| r.rank.name.clone()),
    };
    let (qualifies, check) = match store
        .team_for_projection(row.id, period, PROJECTED_TEAM)
        .map_err(internal)?
    {
        Some(team) => project(&plan, row.id, period, &team)?,
        None => on_file(&plan, store, row, period)?,
    };
    Ok(RankProgressView {
        current,
        next: check.as_ref().map(|c| step(c.rank.level)),
        qualifies_for: Some(step(qualifies)),
        requirements: check
            .map(|c| {
                c.requirements
                    .iter()
                    .map(|r| requirement(r, |level| step(level).name))
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// The period's ranks exactly as the server's run will find them from the orders so far:
/// the plan's own run over the cached team, each member's PV as one order (amounts play no
/// part in ranks). Returns the user's rank and the check of the rank above it.
fn project(
    plan: &Plan,
    me: MemberId,
    period: Period,
    team: &[TeamMember],
) -> Result<(RankLevel, Option<RankCheck>), CommandError> {
    let invalid = |e: String| CommandError::Internal(format!("projecting this period's rank: {e}"));
    let members = team
        .iter()
        .map(|m| {
            Ok(TreeMember {
                id: m.id,
                sponsor: m.sponsor,
                status: m.status,
                joined: Period::containing(m.joined_on).map_err(|e| invalid(e.to_string()))?,
                highest_rank: m.rank,
            })
        })
        .collect::<Result<Vec<_>, CommandError>>()?;
    let orders: Vec<PeriodOrder> = team
        .iter()
        .filter(|m| m.pv != 0)
        .map(|m| PeriodOrder {
            id: OrderId::new(m.id.get()),
            buyer: m.id,
            pv: Pv::from_hundredths(m.pv),
            amount: Money::new(0, plan.currency()),
            status: OrderStatus::Paid,
        })
        .collect();
    let tree = Tree::new(members).map_err(|e| invalid(e.to_string()))?;
    let run =
        project_open_period(plan, &tree, period, &orders).map_err(|e| invalid(e.to_string()))?;
    let rank = run
        .member(me)
        .map(|r| r.rank)
        .ok_or_else(|| invalid("the user is not in their own team".into()))?;
    Ok((rank, progress_in_run(plan, &tree, &run, me)))
}

/// For a team too large to project on the device: the user's own volumes, with each leg's
/// best rank taken from the ranks on file (which the company's last run set).
fn on_file(
    plan: &Plan,
    store: &Store,
    row: &MemberRow,
    period: Period,
) -> Result<(RankLevel, Option<RankCheck>), CommandError> {
    let legs: Vec<Leg> = store
        .leg_standings(row.id, period)
        .map_err(internal)?
        .into_iter()
        .map(|l| Leg {
            member: l.member,
            gv: Gv::from_hundredths(l.gv),
            best_rank: l.best_rank,
        })
        .collect();
    let pv = Pv::from_hundredths(row.pv);
    let facts = MemberFacts {
        pv,
        gv: Gv::from_hundredths(row.gv),
        active: row.status.can_earn() && pv >= plan.activity_min_pv(),
        legs: &legs,
    };
    let (rank, _) = qualify(plan, &facts);
    Ok((rank, progress_to_next(plan, rank, &facts)))
}

/// One requirement for people: its label, the bar's figures and the fraction.
fn requirement(
    r: &RequirementCheck,
    rank_name: impl Fn(canopy_core::RankLevel) -> String,
) -> RequirementView {
    let volume = |h: i64| Pv::from_hundredths(h).to_string();
    let group = |h: i64| Gv::from_hundredths(h).to_string();
    let (label, text) = match r.requirement {
        RequirementKind::Active => (
            "Active this period".to_owned(),
            if r.met { "Active" } else { "Not active yet" }.to_owned(),
        ),
        RequirementKind::PersonalVolume => (
            "Personal volume".to_owned(),
            format!("{} of {}", volume(r.current), volume(r.required)),
        ),
        RequirementKind::GroupVolume { leg_cap } => (
            match leg_cap {
                Some(cap) => format!("Group volume (at most {cap} from one leg)"),
                None => "Group volume".to_owned(),
            },
            format!("{} of {}", group(r.current), group(r.required)),
        ),
        RequirementKind::QualifiedLegs { min_rank } => (
            format!("Legs with a {} or higher", rank_name(min_rank)),
            format!("{} of {}", r.current, r.required),
        ),
    };
    RequirementView {
        label,
        value: r.current.min(r.required),
        target: r.required,
        text,
        met: r.met,
        missing: r.summary.clone(),
    }
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
