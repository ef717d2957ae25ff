//! Wrappers of `src-tauri/src/commands/team.rs`: the manager's team review.

use canopy_core::ipc::{TeamExportView, TeamSection, TeamView};
use serde::Serialize;

use super::{ApiError, invoke::call};

/// The team review for this period.
pub async fn team_overview() -> Result<TeamView, ApiError> {
    call("team_overview", &()).await
}

#[derive(Serialize)]
struct Export {
    section: TeamSection,
}

/// Saves one section as a CSV file in the Downloads folder.
pub async fn export_team_csv(section: TeamSection) -> Result<TeamExportView, ApiError> {
    call("export_team_csv", &Export { section }).await
}
