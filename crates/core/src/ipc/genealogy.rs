//! The genealogy screens' types: downline pages, members, search.

use serde::{Deserialize, Serialize};

/// One member as the genealogy's lists and tree show them: public fields only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRowView {
    pub id: i64,
    pub number: String,
    pub display_name: String,
    pub rank: u16,
    pub rank_name: String,
    pub status: crate::MemberStatus,
    /// `YYYY-MM-DD`.
    pub joined_on: String,
    pub country: String,
    /// Levels below the list's root (1: enrolled by them).
    pub level: u32,
    pub team_size: u64,
    pub has_children: bool,
    /// Personal and group volume in the list's period, in hundredths of a point.
    pub pv: i64,
    pub gv: i64,
}

/// Which tree a list follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TreeKind {
    #[default]
    Sponsor,
    Placement,
}

/// What a downline list is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    #[default]
    JoinDate,
    Name,
    Rank,
    Level,
    Country,
    Status,
    PersonalVolume,
    GroupVolume,
}

/// Narrows a downline list; empty lists and `None` mean "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DownlineFilterView {
    pub ranks: Vec<u16>,
    pub statuses: Vec<crate::MemberStatus>,
    /// ISO 3166 alpha-2 codes.
    pub countries: Vec<String>,
    /// Levels below the root, inclusive.
    pub levels: Option<(u32, u32)>,
    /// `YYYY-MM-DD`, inclusive.
    pub joined_from: Option<String>,
    pub joined_to: Option<String>,
}

/// One page of a downline list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DownlineRequest {
    /// Whose downline; `None`: the top of this device's scope (the user).
    pub root: Option<i64>,
    pub tree: TreeKind,
    /// `YYYY-MM` for the volumes shown; `None`: this month.
    pub period: Option<String>,
    pub filter: DownlineFilterView,
    pub sort: SortKey,
    pub descending: bool,
    /// The previous page's `next`.
    pub after: Option<String>,
    /// Rows per page (1 to 1,000; 0 means 200).
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownlinePageView {
    pub rows: Vec<MemberRowView>,
    /// Hand back as `after` for the next page; `None` on the last.
    pub next: Option<String>,
}
