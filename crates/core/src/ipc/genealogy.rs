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

/// One page of a member's children for the lazy tree: direct enrollees (sponsor tree, by
/// id) or placement children (placement tree, by position).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChildrenRequest {
    pub parent: i64,
    pub tree: TreeKind,
    /// `YYYY-MM` for the volumes shown; `None`: this month.
    pub period: Option<String>,
    /// The previous page's `next`.
    pub after: Option<String>,
    /// Rows per page (1 to 1,000; 0 means 200).
    pub limit: u32,
}

/// Finding members in this device's cache by name, member number or email prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchRequest {
    /// What was typed: part of a name (word prefixes), a member number (prefix; spaces
    /// and dashes ignored) or the start of an email address.
    pub query: String,
    /// Results at most (1 to 100; 0 means 20).
    pub limit: u32,
    /// `YYYY-MM` for the volumes shown; `None`: this month.
    pub period: Option<String>,
}

/// What a search result matched on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchMatch {
    Number,
    Email,
    Name,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResultView {
    /// `level` counts from the top of this device's scope (the user is 0).
    pub member: MemberRowView,
    pub matched: SearchMatch,
}

/// Contact and identity fields, exactly those the server sent for this member (none for
/// most of a distributor's downline).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactView {
    pub legal_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// `YYYY-MM-DD`.
    pub date_of_birth: Option<String>,
    /// The postal address's lines, ready to show; empty when not sent.
    pub address: Vec<String>,
    pub tax_id: Option<String>,
}

/// Members below holding one rank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankCountView {
    pub rank: u16,
    pub name: String,
    pub members: u32,
}

/// A leg: a direct enrollee and everyone below them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegView {
    pub member: MemberRowView,
    /// The enrollee and everyone below them.
    pub members: u64,
    /// In hundredths of a point.
    pub gv: i64,
}

/// A member's downline at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubtreeView {
    /// `YYYY-MM` of the volumes.
    pub period: String,
    /// Everyone below, at any depth.
    pub team_size: u64,
    /// In hundredths of a point: the member's own, and theirs plus everyone's below.
    pub pv: i64,
    pub gv: i64,
    /// Members below per rank, lowest rank first (ranks nobody holds left out).
    pub by_rank: Vec<RankCountView>,
    /// `by_level[k]`: members `k + 1` levels below.
    pub by_level: Vec<u32>,
    /// The biggest legs by group volume, at most [`MAX_LEGS`].
    pub legs: Vec<LegView>,
    /// How many legs there are in all (direct enrollees).
    pub legs_total: u64,
}

/// The most legs a [`SubtreeView`] lists.
pub const MAX_LEGS: usize = 50;

/// The member panel: public fields, contact fields only where the server sent them, and
/// the subtree's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberDetailView {
    /// `level` counts from the top of this device's scope (the user is 0).
    pub member: MemberRowView,
    /// The enroller and the placement parent, when they are in this device's cache.
    pub sponsor: Option<MemberRowView>,
    pub placement: Option<MemberRowView>,
    pub contact: Option<ContactView>,
    pub subtree: SubtreeView,
}

/// Breadcrumbs: from the top of this device's scope (the user) down to a member.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathView {
    /// The user first, the member last; `level` counts from the user (0).
    pub members: Vec<MemberRowView>,
}
