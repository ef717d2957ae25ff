//! The manager's team review: the team by leg, who joined this period, and who is not
//! active now, from the open cache; and the same as CSV files for a spreadsheet. The
//! server decides what the cache holds (a manager's scope); the role check here only
//! keeps the screen to the people it is for.

use std::path::Path;

use canopy_core::ipc::{
    CommandError, DownlineFilterView, DownlineRequest, LegView, MemberRowView, SortKey,
    TeamExportView, TeamSection, TeamView,
};
use canopy_core::{MemberStatus, Period, Role};
use canopy_store::Store;
use tauri::State;

use super::blocking;
use super::csv_export::{self, write};
use crate::commands::genealogy::{downline, row_view};
use crate::state::AppState;

/// Members listed per section on the screen; the CSV has them all.
pub const SHOWN: u32 = 50;
/// Rows read per page while exporting.
const EXPORT_PAGE: u32 = 1_000;

/// The team review for this period.
#[tauri::command]
pub async fn team_overview(state: State<'_, AppState>) -> Result<TeamView, CommandError> {
    let store = state
        .session()
        .await?
        .store()
        .ok_or(CommandError::Locked)?
        .clone();
    blocking(move || overview(&store, today())).await
}

/// Writes one section of the team review, in full, as a CSV file in the Downloads
/// folder; answers where it went.
#[tauri::command]
pub async fn export_team_csv(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    section: TeamSection,
) -> Result<TeamExportView, CommandError> {
    let store = state
        .session()
        .await?
        .store()
        .ok_or(CommandError::Locked)?
        .clone();
    let folder = csv_export::folder(&app)?;
    blocking(move || export(&store, section, &folder, today())).await
}

fn may_review(store: &Store) -> Result<(), CommandError> {
    match store.account_role().map_err(internal)? {
        Some(Role::Manager | Role::Admin) => Ok(()),
        _ => Err(CommandError::Refused(
            "The team review is for managers. Ask your company if you need it.".into(),
        )),
    }
}

/// [`team_overview`]'s work without Tauri.
pub fn overview(store: &Store, today: time::Date) -> Result<TeamView, CommandError> {
    may_review(store)?;
    let period = Period::containing(today).map_err(|e| CommandError::Invalid(e.to_string()))?;
    let root = store
        .scope_root()
        .map_err(internal)?
        .ok_or_else(|| CommandError::Invalid("Nothing is in this device's cache yet".into()))?;
    let summary = store.subtree(root, period).map_err(internal)?;
    let base = store.depth_of(root).map_err(internal)?.unwrap_or(0);
    let legs = summary
        .legs
        .into_iter()
        .map(|leg| LegView {
            member: row_view(leg.member, base, false),
            members: leg.members,
            gv: leg.gv,
        })
        .collect();
    let (new_enrollees, more_new) = first_rows(store, new_request(period), today)?;
    let (not_active, more_not_active) = first_rows(store, not_active_request(), today)?;
    Ok(TeamView {
        period: period.to_string(),
        team_size: summary.team_size,
        gv: summary.gv,
        legs,
        new_enrollees,
        more_new,
        not_active,
        more_not_active,
    })
}

/// Everyone below who joined in `period`, newest first.
fn new_request(period: Period) -> DownlineRequest {
    DownlineRequest {
        filter: DownlineFilterView {
            joined_from: Some(period.first_day().to_string()),
            ..Default::default()
        },
        sort: SortKey::JoinDate,
        descending: true,
        ..Default::default()
    }
}

/// Everyone below who is not active now (inactive or suspended), nearest levels first.
fn not_active_request() -> DownlineRequest {
    DownlineRequest {
        filter: DownlineFilterView {
            statuses: vec![MemberStatus::Inactive, MemberStatus::Suspended],
            ..Default::default()
        },
        sort: SortKey::Level,
        ..Default::default()
    }
}

/// The first [`SHOWN`] rows of `request`, and whether there are more.
fn first_rows(
    store: &Store,
    mut request: DownlineRequest,
    today: time::Date,
) -> Result<(Vec<MemberRowView>, bool), CommandError> {
    request.limit = SHOWN;
    let page = downline(store, &request, today)?;
    Ok((page.rows, page.next.is_some()))
}

/// [`export_team_csv`]'s work without Tauri: every row of the section, written to a new
/// file in `folder` (a number is added rather than overwriting an earlier export).
pub fn export(
    store: &Store,
    section: TeamSection,
    folder: &Path,
    today: time::Date,
) -> Result<TeamExportView, CommandError> {
    may_review(store)?;
    let period = Period::containing(today).map_err(|e| CommandError::Invalid(e.to_string()))?;
    let mut out = csv_export::sheet();
    let mut rows = 0_u64;
    match section {
        TeamSection::Legs => {
            let team = overview(store, today)?;
            write(
                &mut out,
                &[
                    "Member number",
                    "Name",
                    "Rank",
                    "Status",
                    "Members",
                    "Group volume",
                ],
            )?;
            for leg in team.legs {
                let m = &leg.member;
                write(
                    &mut out,
                    &[
                        &m.number,
                        &m.display_name,
                        &m.rank_name,
                        status(m.status),
                        &leg.members.to_string(),
                        &points(leg.gv),
                    ],
                )?;
                rows += 1;
            }
        }
        TeamSection::NewEnrollees | TeamSection::NotActive => {
            let mut request = match section {
                TeamSection::NewEnrollees => new_request(period),
                _ => not_active_request(),
            };
            request.limit = EXPORT_PAGE;
            write(
                &mut out,
                &[
                    "Member number",
                    "Name",
                    "Level",
                    "Rank",
                    "Status",
                    "Joined",
                    "Country",
                    "Personal volume",
                    "Group volume",
                ],
            )?;
            loop {
                let page = downline(store, &request, today)?;
                for m in &page.rows {
                    write(
                        &mut out,
                        &[
                            &m.number,
                            &m.display_name,
                            &m.level.to_string(),
                            &m.rank_name,
                            status(m.status),
                            &m.joined_on,
                            &m.country,
                            &points(m.pv),
                            &points(m.gv),
                        ],
                    )?;
                    rows += 1;
                }
                match page.next {
                    Some(next) => request.after = Some(next),
                    None => break,
                }
            }
        }
    }
    let path = csv_export::save(
        out,
        folder,
        &format!("canopy-team-{}-{period}", section.slug()),
    )?;
    Ok(TeamExportView {
        path: path.display().to_string(),
        rows,
    })
}

/// Hundredths of a point as "1234.50".
fn points(hundredths: i64) -> String {
    let sign = if hundredths < 0 { "-" } else { "" };
    let abs = hundredths.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

fn status(s: MemberStatus) -> &'static str {
    match s {
        MemberStatus::Active => "Active",
        MemberStatus::Inactive => "Inactive",
        MemberStatus::Suspended => "Suspended",
        MemberStatus::Terminated => "Terminated",
        MemberStatus::Erased => "Erased",
    }
}

fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

fn internal(e: impl std::fmt::Display) -> CommandError {
    CommandError::Internal(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_have_two_decimals() {
        assert_eq!(points(123_456), "1234.56");
        assert_eq!(points(-5), "-0.05");
        assert_eq!(points(0), "0.00");
    }
}
