//! The manager's team review.

use serde::{Deserialize, Serialize};

use super::genealogy::{LegView, MemberRowView};

/// The team at a glance for one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamView {
    /// `YYYY-MM`.
    pub period: String,
    /// Everyone below the user.
    pub team_size: u64,
    /// The user's group volume in the period, in hundredths of a point.
    pub gv: i64,
    /// Each personally enrolled member's part of the team, largest group volume first.
    pub legs: Vec<LegView>,
    /// The newest members who joined this period (the first few).
    pub new_enrollees: Vec<MemberRowView>,
    /// More joined than are listed.
    pub more_new: bool,
    /// Members who are not active now (inactive or suspended), nearest levels first.
    pub not_active: Vec<MemberRowView>,
    pub more_not_active: bool,
}

/// A part of the team review, exported as CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TeamSection {
    Legs,
    NewEnrollees,
    NotActive,
}

impl TeamSection {
    /// The file name's part for this section.
    pub const fn slug(self) -> &'static str {
        match self {
            Self::Legs => "legs",
            Self::NewEnrollees => "new-enrollees",
            Self::NotActive => "not-active",
        }
    }
}

/// Where an export was saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamExportView {
    pub path: String,
    pub rows: u64,
}
