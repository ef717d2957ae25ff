//! The user's statements for the device's cache (see `canopy_core::sync::statements`): the
//! list with a digest per statement and, when the device's copy is stale, the plan; then a
//! statement's lines page by page. A member sees only their own; an account that is no
//! member has no statements.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use canopy_core::sync::statements::{
    LinesPage, MAX_LINES, PlanText, StatementSummary, StatementsAnswer, StatementsRequest,
};
use canopy_core::{EarningsLineId, Period};
use serde::Deserialize;

use super::commissions::current_plan;
use super::error::ApiError;
use super::extract::{ApiJson, Authenticated};
use super::problem::Problem;
use crate::app::AppState;
use crate::storage::StatementRecord;

/// What identifies a statement's state: the period's latest run and whether it is closed.
fn digest(s: &StatementRecord) -> String {
    format!(
        "r{}.{}",
        s.last_run,
        if s.closed { "closed" } else { "open" }
    )
}

/// The caller's statements, each with its digest, and the plan if theirs is not current.
#[utoipa::path(post, path = "/v1/sync/statements", tag = "sync", security(("bearer" = [])),
    request_body = StatementsRequestDoc,
    responses(
        (status = 200, description = "The caller's statements", body = StatementsAnswerDoc),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn statements(
    State(state): State<AppState>,
    Authenticated(grant): Authenticated,
    ApiJson(req): ApiJson<StatementsRequest>,
) -> Result<Json<StatementsAnswer>, ApiError> {
    let statements = match grant.member {
        Some(me) => state
            .storage
            .statements_of(me)
            .await?
            .into_iter()
            .map(|s| StatementSummary {
                digest: digest(&s),
                period: s.period,
                closed: s.closed,
                currency: s.currency,
                total_minor: s.total_minor,
                lines: s.lines,
            })
            .collect(),
        None => Vec::new(),
    };
    let plan = current_plan()?.record();
    let plan = (req.plan_hash.as_deref() != Some(plan.hash.as_str())).then(|| PlanText {
        hash: plan.hash.clone(),
        toml: plan.toml.clone(),
    });
    Ok(Json(StatementsAnswer {
        member: grant.member,
        statements,
        plan,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LinesQuery {
    /// The last line id of the previous page.
    pub after: Option<i64>,
    /// Lines per page, 1 to `MAX_LINES` (the default).
    pub limit: Option<u32>,
}

/// A page of the caller's statement for `period`, with the statement's digest.
#[utoipa::path(get, path = "/v1/sync/statements/{period}/lines", tag = "sync", security(("bearer" = [])),
    params(("period" = String, Path, description = "YYYY-MM"), LinesQuery),
    responses(
        (status = 200, description = "A page of lines", body = LinesPageDoc),
        (status = 400, description = "A bad `after` or `limit`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not a period the company has run, or the account is no member", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn lines(
    State(state): State<AppState>,
    Authenticated(grant): Authenticated,
    Path(period): Path<String>,
    query: Result<Query<LinesQuery>, QueryRejection>,
) -> Result<Json<LinesPage>, ApiError> {
    let Query(query) = query
        .ok()
        .filter(|q| q.0.limit.is_none_or(|n| (1..=MAX_LINES).contains(&n)))
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "Use `after` (the `next` of the page before) and `limit` (1 to {MAX_LINES})"
            ))
        })?;
    let limit = query.limit.unwrap_or(MAX_LINES);
    let none = || ApiError::not_found("You have no statement for this period");
    let period = Period::parse(&period).map_err(|_| none())?;
    let me = grant.member.ok_or_else(none)?;
    // The digest first: a run that lands between the two reads makes the page newer than
    // the digest, and the device, seeing a digest unlike the summary's, starts over.
    let statement = state
        .storage
        .statements_of(me)
        .await?
        .into_iter()
        .find(|s| s.period == period)
        .ok_or_else(none)?;
    let mut lines = state
        .storage
        .earnings_page(me, period, query.after.map(EarningsLineId::new), limit + 1)
        .await?;
    let next = if lines.len() > limit as usize {
        lines.truncate(limit as usize);
        lines.last().map(|l| l.line.id)
    } else {
        None
    };
    Ok(Json(LinesPage {
        digest: digest(&statement),
        lines: lines.into_iter().map(|l| l.line).collect(),
        next,
    }))
}

/// The documented shape of [`StatementsRequest`] (the core types carry no OpenAPI schema).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct StatementsRequestDoc {
    /// The SHA-256 of the plan the device holds; the answer carries the plan when it
    /// is not the current one.
    pub plan_hash: Option<String>,
}

/// The documented shape of [`StatementsAnswer`].
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct StatementsAnswerDoc {
    /// The caller's member (`null`: an account that is no member).
    pub member: Option<i64>,
    /// Every period run, oldest first: `{"period": "YYYY-MM", "closed", "currency",
    /// "total_minor", "lines", "digest"}`.
    #[schema(value_type = Vec<Object>)]
    pub statements: Vec<()>,
    /// `{"hash", "toml"}` when the device's plan is not the current one.
    #[schema(value_type = Option<Object>)]
    pub plan: Option<()>,
}

/// The documented shape of [`LinesPage`].
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct LinesPageDoc {
    /// The statement's digest when the page was read.
    pub digest: String,
    /// The caller's earnings lines in id order (`canopy_core::EarningsLine` as JSON: id,
    /// period, member, amount, kind, and the source: order, member, level, rule, rate).
    #[schema(value_type = Vec<Object>)]
    pub lines: Vec<()>,
    /// The `after` of the next page; `null` on the last.
    pub next: Option<i64>,
}
