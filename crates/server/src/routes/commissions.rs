//! Commission runs over HTTP: an admin runs and closes a period (behind a step-up) and reads
//! its state and totals; every member reads their own lines and rank explanation.

use std::sync::OnceLock;

use axum::Json;
use axum::extract::{Path, State};
use canopy_core::comp::{MemberResult, RunOutput, Tree, TreeMember, describe_line, explain_rank};
use canopy_core::{EarningsKind, MemberStatus, Period};
use serde::Serialize;
use time::OffsetDateTime;

use super::admin::{Admin, AdminReader};
use super::error::ApiError;
use super::extract::Authenticated;
use super::problem::Problem;
use crate::app::AppState;
use crate::commissions::{self, CommissionError, CommissionPlan};
use crate::storage::{CommissionPeriodRecord, CommissionRunRecord, PeriodResultRecord};

/// The plan runs pay with, loaded once (the server validates it at start-up too).
pub(crate) fn current_plan() -> Result<&'static CommissionPlan, ApiError> {
    static PLAN: OnceLock<Result<CommissionPlan, String>> = OnceLock::new();
    PLAN.get_or_init(|| CommissionPlan::load(None).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| ApiError::internal(format!("commissions: {e}")))
}

fn period_of(text: &str) -> Result<Period, ApiError> {
    Period::parse(text).map_err(|_| ApiError::not_found("There is no such period: use YYYY-MM"))
}

impl From<CommissionError> for ApiError {
    fn from(error: CommissionError) -> Self {
        match error {
            CommissionError::Closed(_) => ApiError::Conflict(error.to_string()),
            CommissionError::NeverRun(_) | CommissionError::Busy(_) => {
                ApiError::Conflict(error.to_string())
            }
            CommissionError::Storage(e) => e.into(),
            other => ApiError::internal(format!("commissions: {other}")),
        }
    }
}

/// One run, as the audit keeps it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RunView {
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub finished_at: OffsetDateTime,
    pub by_account_id: Option<i64>,
    pub plan_hash: String,
    pub members: u64,
    pub orders: u64,
    pub lines: u64,
    pub total_minor: i64,
    pub currency: String,
    pub result_hash: String,
}

impl From<CommissionRunRecord> for RunView {
    fn from(r: CommissionRunRecord) -> Self {
        Self {
            id: r.id,
            started_at: r.started_at,
            finished_at: r.finished_at,
            by_account_id: r.by.map(canopy_core::AccountId::get),
            plan_hash: r.plan_hash,
            members: r.input_members,
            orders: r.input_orders,
            lines: r.lines,
            total_minor: r.total_minor,
            currency: r.currency,
            result_hash: r.result_hash,
        }
    }
}

/// What one kind of line adds up to.
#[derive(Serialize, utoipa::ToSchema)]
pub struct KindTotal {
    /// e.g. `unilevel`, `fast_start`, `clawback`.
    #[schema(value_type = String)]
    pub kind: EarningsKind,
    pub amount_minor: i64,
    pub lines: u64,
}

/// A period's state, its last run and its totals by kind.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PeriodView {
    pub period: String,
    /// `open` or `closed`.
    pub state: &'static str,
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
    pub plan_hash: String,
    pub last_run: Option<RunView>,
    pub totals: Vec<KindTotal>,
    pub total_minor: i64,
}

impl From<CommissionPeriodRecord> for PeriodView {
    fn from(p: CommissionPeriodRecord) -> Self {
        Self {
            period: p.period.to_string(),
            state: if p.closed { "closed" } else { "open" },
            closed_at: p.closed_at,
            plan_hash: p.plan_hash,
            last_run: p.last_run.map(RunView::from),
            total_minor: p.totals.iter().map(|(_, sum, _)| sum).sum(),
            totals: p
                .totals
                .into_iter()
                .map(|(kind, amount_minor, lines)| KindTotal {
                    kind,
                    amount_minor,
                    lines,
                })
                .collect(),
        }
    }
}

/// What a run did.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RunDone {
    pub run: RunView,
    /// Clawbacks of orders refunded after their period closed.
    pub corrections: usize,
    pub totals: Vec<KindTotal>,
    pub duration_ms: u128,
}

/// Runs a period's commissions again from scratch: its lines and results are replaced in
/// one transaction, so a rerun gives the same lines under the same ids.
#[utoipa::path(post, path = "/v1/admin/commissions/{period}/run", tag = "admin", security(("bearer" = [])),
    params(("period" = String, Path, description = "YYYY-MM")),
    responses(
        (status = 200, description = "The run is stored", body = RunDone),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or no step-up in the last ten minutes", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not a period", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The period is closed", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn run(
    State(state): State<AppState>,
    Admin(grant): Admin,
    Path(period): Path<String>,
) -> Result<Json<RunDone>, ApiError> {
    let period = period_of(&period)?;
    let plan = current_plan()?;
    let clock = state.clock.clone();
    let summary = commissions::run(
        state.storage.as_ref(),
        plan,
        period,
        Some(grant.account),
        || clock.now(),
    )
    .await?;
    Ok(Json(RunDone {
        duration_ms: (summary.read + summary.compute + summary.write).as_millis(),
        corrections: summary.corrections,
        totals: summary
            .totals
            .into_iter()
            .map(|(kind, amount, lines)| KindTotal {
                kind,
                amount_minor: amount.minor(),
                lines,
            })
            .collect(),
        run: summary.run.into(),
    }))
}

/// Makes a period final: later runs of it are refused, and refunds of its orders become
/// clawbacks in the next run of an open period.
#[utoipa::path(post, path = "/v1/admin/commissions/{period}/close", tag = "admin", security(("bearer" = [])),
    params(("period" = String, Path, description = "YYYY-MM")),
    responses(
        (status = 200, description = "The period is closed", body = PeriodView),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or no step-up in the last ten minutes", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not a period", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already closed, or never run", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn close(
    State(state): State<AppState>,
    Admin(grant): Admin,
    Path(period): Path<String>,
) -> Result<Json<PeriodView>, ApiError> {
    let period = period_of(&period)?;
    let closed = commissions::close(
        state.storage.as_ref(),
        period,
        Some(grant.account),
        state.now(),
    )
    .await?;
    Ok(Json(closed.into()))
}

/// A period's state, last run and totals by kind.
#[utoipa::path(get, path = "/v1/admin/commissions/{period}", tag = "admin", security(("bearer" = [])),
    params(("period" = String, Path, description = "YYYY-MM")),
    responses(
        (status = 200, description = "The period", body = PeriodView),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not a period, or never run", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn period(
    State(state): State<AppState>,
    AdminReader(_grant): AdminReader,
    Path(period): Path<String>,
) -> Result<Json<PeriodView>, ApiError> {
    let period = period_of(&period)?;
    let found = state
        .storage
        .commission_period(period)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Period {period} has not been run")))?;
    Ok(Json(found.into()))
}

/// One of the caller's lines, with the sentence that explains it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LineView {
    pub id: i64,
    #[schema(value_type = String)]
    pub kind: EarningsKind,
    pub amount_minor: i64,
    pub currency: String,
    pub order_id: Option<i64>,
    pub source_member_id: Option<i64>,
    pub level: Option<u16>,
    pub rule: String,
    pub rate_bps: Option<u32>,
    /// The line a clawback or adjustment reverses.
    pub reverses_line_id: Option<i64>,
    pub description: String,
}

/// The caller's statement for a period.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MyEarnings {
    pub period: String,
    /// `open`, `closed`, or `not_run`.
    pub state: &'static str,
    pub lines: Vec<LineView>,
    pub total_minor: i64,
    /// Why the caller holds their rank and what the next one needs (`null` before a run).
    #[schema(value_type = Object)]
    pub rank: Option<serde_json::Value>,
}

/// The caller's own lines and rank explanation for a period; nobody else's.
#[utoipa::path(get, path = "/v1/me/earnings/{period}", tag = "me", security(("bearer" = [])),
    params(("period" = String, Path, description = "YYYY-MM")),
    responses(
        (status = 200, description = "The caller's lines and rank", body = MyEarnings),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not a period, or the account is no member", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn my_earnings(
    State(state): State<AppState>,
    Authenticated(grant): Authenticated,
    Path(period): Path<String>,
) -> Result<Json<MyEarnings>, ApiError> {
    let period = period_of(&period)?;
    let member = grant
        .member
        .ok_or_else(|| ApiError::not_found("Your account is not a member: it earns nothing"))?;
    statement_of(&state, member, period).await.map(Json)
}

/// Any member's lines and rank explanation for a period, for the company's support staff
/// answering "why am I paid this?" (admins only; each read is audited, since a statement
/// is personal financial data).
#[utoipa::path(get, path = "/v1/admin/commissions/{period}/members/{id}", tag = "admin", security(("bearer" = [])),
    params(
        ("period" = String, Path, description = "YYYY-MM"),
        ("id" = i64, Path, description = "The member"),
    ),
    responses(
        (status = 200, description = "The member's lines and rank", body = MyEarnings),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not a period, or no such member", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn member_statement(
    State(state): State<AppState>,
    AdminReader(grant): AdminReader,
    Path((period, id)): Path<(String, i64)>,
) -> Result<Json<MyEarnings>, ApiError> {
    let period = period_of(&period)?;
    let member = canopy_core::MemberId::new(id);
    if state.storage.find_member(member).await?.is_none() {
        return Err(ApiError::not_found("There is no such member"));
    }
    let statement = statement_of(&state, member, period).await?;
    super::factor::audit(
        &state,
        Some(grant.account),
        "commissions.statement_read",
        Some(format!("member:{id}")),
        serde_json::json!({ "period": period.to_string() }),
    )
    .await?;
    Ok(Json(statement))
}

/// `member`'s statement for `period`: each line described, and their rank explained.
async fn statement_of(
    state: &AppState,
    member: canopy_core::MemberId,
    period: Period,
) -> Result<MyEarnings, ApiError> {
    let found = state.storage.commission_period(period).await?;
    let lines = state.storage.earnings_of(member, period).await?;
    let total_minor = lines.iter().map(|l| l.line.amount.minor()).sum();
    let lines = lines
        .into_iter()
        .map(|s| LineView {
            description: describe_line(&s.line, |_| None),
            id: s.line.id.get(),
            kind: s.line.kind,
            amount_minor: s.line.amount.minor(),
            currency: s.line.amount.currency().as_str().to_owned(),
            order_id: s.line.source.order.map(canopy_core::OrderId::get),
            source_member_id: s.line.source.member.map(canopy_core::MemberId::get),
            level: s.line.source.level,
            rule: s.line.source.rule,
            rate_bps: s.line.source.rate.map(canopy_core::BasisPoints::get),
            reverses_line_id: s.reverses.map(canopy_core::EarningsLineId::get),
        })
        .collect();
    let rank = match &found {
        Some(p) => explanation(state, p, member).await?,
        None => None,
    };
    Ok(MyEarnings {
        period: period.to_string(),
        state: match &found {
            Some(p) if p.closed => "closed",
            Some(_) => "open",
            None => "not_run",
        },
        lines,
        total_minor,
        rank,
    })
}

/// Explains the member's rank with the plan the period was paid with, from their stored
/// result and their legs' (all `explain_rank` reads).
async fn explanation(
    state: &AppState,
    period: &CommissionPeriodRecord,
    member: canopy_core::MemberId,
) -> Result<Option<serde_json::Value>, ApiError> {
    let Some((own, legs)) = state
        .storage
        .period_result_with_legs(member, period.period)
        .await?
    else {
        return Ok(None);
    };
    let Some(record) = state
        .storage
        .commission_plan(period.plan_hash.clone())
        .await?
    else {
        return Ok(None);
    };
    let plan = CommissionPlan::parse(record.toml, "the period's plan")
        .map_err(|e| ApiError::internal(format!("commissions: {e}")))?;
    let node = |r: &PeriodResultRecord, sponsor| TreeMember {
        id: r.member,
        sponsor,
        status: MemberStatus::Active,
        joined: period.period,
        highest_rank: r.rank,
    };
    let mut members = vec![node(&own, None)];
    members.extend(legs.iter().map(|l| node(l, Some(member))));
    let tree = Tree::new(members).map_err(|e| ApiError::internal(format!("commissions: {e}")))?;
    let result = |r: &PeriodResultRecord| MemberResult {
        member: r.member,
        pv: r.pv,
        gv: r.gv,
        active: r.active,
        rank: r.rank,
        blocked: None,
        best_rank_in_group: r.best_rank_in_group,
        highest_rank: r.rank,
    };
    let mut results: Vec<MemberResult> = std::iter::once(&own).chain(&legs).map(result).collect();
    results.sort_by_key(|r| r.member);
    let run = RunOutput {
        period: period.period,
        currency: plan.plan().currency(),
        members: results,
        lines: Vec::new(),
    };
    let explained = explain_rank(plan.plan(), &tree, &run, member);
    explained
        .map(|e| serde_json::to_value(e).map_err(|e| ApiError::internal(format!("json: {e}"))))
        .transpose()
}
