//! The questions the screens ask, each a function with a typed answer: members and their
//! details, the downline page, subtree aggregates, search, earnings and rank history.

mod catalogue;
mod dashboard;
pub(crate) mod downline;
mod earnings;
mod member;
mod people;
mod search;

use canopy_core::{CountryCode, MemberId, MemberStatus, Period, RankLevel};
use rusqlite::Row;
use time::Date;

pub use dashboard::NewEnrollees;
pub use downline::{Cursor, DownlineFilter, DownlineQuery, MAX_PAGE, Page, Sort, Tree};
pub use earnings::{EarningsLineRow, PeriodEarnings, RankHistoryEntry, Statement, StatementStatus};
pub use member::{
    ChildCursor, ChildrenPage, Leg, LegStanding, MemberDetail, PersonalFields, RankCount,
    SubtreeSummary, TeamMember, VolumeEntry,
};
pub use people::{AlertRow, CustomerRow, NoteRow};
pub use search::{Match, SearchHit};

use crate::codes;
use crate::error::StoreError;

/// One member as the lists and the tree show them: public fields only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRow {
    pub id: MemberId,
    pub number: String,
    pub display_name: String,
    pub rank: RankLevel,
    pub rank_name: String,
    pub status: MemberStatus,
    pub joined_on: Date,
    pub country: CountryCode,
    pub sponsor: Option<MemberId>,
    /// Depth in the cached tree (the scope's root is 0); subtract the focus's depth for
    /// the level below it.
    pub depth: u32,
    /// The same in the placement tree.
    pub placement_depth: u32,
    /// Everyone below, at any depth.
    pub team_size: u64,
    pub has_children: bool,
    /// Personal and group volume in the query's period, in hundredths of a point.
    pub pv: i64,
    pub gv: i64,
    /// Positions in the trees' pre-order, for paging in tree order.
    pub(crate) pre: i64,
    pub(crate) p_pre: i64,
}

/// The select list that [`member_row`] reads, over `members m` joined to its rank and the
/// volume of period `:period`.
pub(crate) const ROW_COLUMNS: &str = "m.id, m.number, m.display_name, m.rank_level, \
    coalesce(r.name, ''), m.status, m.joined_on, m.country, m.sponsor_id, m.depth, \
    m.team_size, coalesce(v.pv, 0), coalesce(v.gv, 0), m.p_depth, m.pre, m.p_pre";

/// The joins [`ROW_COLUMNS`] needs; `:period` is the volume period.
pub(crate) const ROW_JOINS: &str = "LEFT JOIN ranks r ON r.level = m.rank_level \
    LEFT JOIN volumes v ON v.period = :period AND v.member_id = m.id";

pub(crate) fn member_row(r: &Row<'_>) -> Result<MemberRow, StoreError> {
    let status: String = r.get(5)?;
    let joined: String = r.get(6)?;
    let country: String = r.get(7)?;
    let team_size: i64 = r.get(10)?;
    Ok(MemberRow {
        id: MemberId::new(r.get(0)?),
        number: r.get(1)?,
        display_name: r.get(2)?,
        rank: RankLevel::new(r.get(3)?),
        rank_name: r.get(4)?,
        status: codes::parse("member status", &status)?,
        joined_on: canopy_core::parse_date(&joined)
            .map_err(|_| StoreError::Invalid(format!("join date {joined:?}")))?,
        country: CountryCode::parse(&country)
            .map_err(|_| StoreError::Invalid(format!("country {country:?}")))?,
        sponsor: r.get::<_, Option<i64>>(8)?.map(MemberId::new),
        depth: r.get(9)?,
        team_size: u64::try_from(team_size).unwrap_or(0),
        has_children: team_size > 0,
        pv: r.get(11)?,
        gv: r.get(12)?,
        placement_depth: r.get(13)?,
        pre: r.get(14)?,
        p_pre: r.get(15)?,
    })
}

/// Runs a query over [`ROW_COLUMNS`] and reads every row.
pub(crate) fn read_rows(mut rows: rusqlite::Rows<'_>) -> Result<Vec<MemberRow>, StoreError> {
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(member_row(r)?);
    }
    Ok(out)
}

pub(crate) fn period_param(period: Period) -> i64 {
    i64::from(period.index())
}
