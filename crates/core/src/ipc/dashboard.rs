//! The dashboard's types: this period's volumes, rank and the next one, the last twelve
//! periods' earnings, new enrollees, alerts and where the sync stands.

use serde::{Deserialize, Serialize};

/// Everything the dashboard shows, read from the cache in one go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardView {
    /// This period, `YYYY-MM`.
    pub period: String,
    /// This period for people: "November 2026".
    pub period_label: String,
    /// Who the dashboard is about: the user (the founder for an admin).
    pub member: DashboardMember,
    /// Personal and group volume this period and the previous one, in hundredths of a
    /// point.
    pub pv: i64,
    pub gv: i64,
    pub previous_pv: i64,
    pub previous_gv: i64,
    /// Everyone below the user, at any depth.
    pub team_size: u64,
    pub rank: RankProgressView,
    /// The last twelve periods' earnings, oldest first, ending with this one; empty when
    /// the cache holds no statement at all.
    pub earnings: Vec<EarningsBarView>,
    pub new_enrollees: NewEnrolleesView,
    /// Newest first.
    pub alerts: Vec<DashboardAlertView>,
    pub sync: SyncSummaryView,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardMember {
    pub id: i64,
    pub number: String,
    pub display_name: String,
}

/// A rank on the ladder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankStepView {
    pub level: u16,
    pub name: String,
}

/// The current rank and the next one up, with what the next one still needs this period,
/// checked on the device by the compensation plan's own code (`canopy_core::comp`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankProgressView {
    pub current: RankStepView,
    /// `None` when no higher rank is known on this device.
    pub next: Option<RankStepView>,
    /// The rank this period's figures so far qualify for (`None` without the plan).
    #[serde(default)]
    pub qualifies_for: Option<RankStepView>,
    /// Each requirement of `next`, with how far along the user is (empty without the plan).
    pub requirements: Vec<RequirementView>,
}

/// One requirement of a rank: `value` of `target` (in the requirement's unit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementView {
    pub label: String,
    pub value: i64,
    pub target: i64,
    /// The fraction for people ("1,240.00 of 2,000.00 PV").
    pub text: String,
    #[serde(default)]
    pub met: bool,
    /// What is still needed, for people ("340.00 PV more", "1 more leg at Silver").
    #[serde(default)]
    pub missing: String,
}

/// One period of the earnings chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarningsBarView {
    /// `YYYY-MM`.
    pub period: String,
    /// Short, for the axis: "Nov".
    pub label: String,
    /// `None`: no statement for this period.
    pub total_minor: Option<i64>,
    /// The total for people ("USD 1,234.56"); empty without a statement.
    pub total: String,
    /// Closed by the company (final), or a projection.
    pub closed: bool,
}

/// Members of the user's downline who joined this period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewEnrolleesView {
    pub count: u64,
    /// The most recent few, newest first.
    pub recent: Vec<NewEnrolleeView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewEnrolleeView {
    pub id: i64,
    pub number: String,
    pub display_name: String,
    /// Levels below the user (1: enrolled by them).
    pub level: u32,
    /// `YYYY-MM-DD`.
    pub joined_on: String,
}

/// An alert as the server raised it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardAlertView {
    pub id: i64,
    /// `info`, `warning` or `critical`, as the server sent it.
    pub severity: String,
    pub message: String,
    /// RFC 3339.
    pub created_at: String,
}

/// Where the sync stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncSummaryView {
    /// When the cache was last brought up to date (RFC 3339); `None`: never.
    pub last_sync_at: Option<String>,
    /// The last attempt could not reach the server.
    pub offline: bool,
    /// A sync is under way.
    pub running: bool,
    /// Local changes waiting to be sent.
    pub pending: usize,
}
