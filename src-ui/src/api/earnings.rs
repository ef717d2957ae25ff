//! Wrappers of `src-tauri/src/commands/earnings.rs`: the user's statements per period.

use canopy_core::ipc::{EarningsOverview, StatementExportView, StatementView};
use serde::Serialize;

use super::{ApiError, invoke::call};

/// Every statement in the cache, newest period first.
pub async fn earnings_overview() -> Result<EarningsOverview, ApiError> {
    call("earnings_overview", &()).await
}

#[derive(Serialize)]
struct Period {
    period: String,
}

/// One period's statement ("2026-11").
pub async fn statement(period: String) -> Result<StatementView, ApiError> {
    call("statement", &Period { period }).await
}

/// Saves one period's statement as a CSV file in the Downloads folder.
pub async fn export_statement_csv(period: String) -> Result<StatementExportView, ApiError> {
    call("export_statement_csv", &Period { period }).await
}
