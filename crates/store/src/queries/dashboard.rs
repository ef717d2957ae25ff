//! What the dashboard asks beyond the member queries: who joined a team since a day (a
//! count and the newest few), and the rank ladder as far as the cache knows it.

use canopy_core::{MemberId, Period, RankLevel};
use rusqlite::{OptionalExtension, named_params};
use time::Date;

use super::{MemberRow, ROW_COLUMNS, ROW_JOINS, period_param, read_rows};
use crate::error::StoreError;
use crate::store::Store;

/// Members of a team who joined since a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEnrollees {
    pub count: u64,
    /// The newest first (latest join date, then latest id), at most the limit asked for.
    pub recent: Vec<MemberRow>,
}

impl Store {
    /// Members of `root`'s downline (sponsor tree, `root` excluded) who joined on or after
    /// `since`: how many, and the newest `limit` with their volumes in `period`. Read
    /// through the join-date index, which carries `pre`: a period's newcomers are a thin
    /// slice of it, whatever the team's size.
    pub fn new_enrollees(
        &self,
        root: MemberId,
        since: Date,
        period: Period,
        limit: u32,
    ) -> Result<NewEnrollees, StoreError> {
        self.database().read(|conn| {
            let (pre, last): (i64, i64) = conn
                .query_row(
                    "SELECT pre, last FROM members WHERE id = ?1",
                    [root.get()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?
                .ok_or(StoreError::NotFound("member"))?;
            let since = canopy_core::format_date(since);
            let count: i64 = conn
                .prepare_cached(
                    "SELECT count(*) FROM members m INDEXED BY members_joined
                     WHERE m.joined_on >= :since AND m.pre > :pre AND m.pre <= :last",
                )?
                .query_row(
                    named_params! {":since": since, ":pre": pre, ":last": last},
                    |r| r.get(0),
                )?;
            let sql = format!(
                "SELECT {ROW_COLUMNS} FROM members m INDEXED BY members_joined {ROW_JOINS}
                 WHERE m.joined_on >= :since AND m.pre > :pre AND m.pre <= :last
                 ORDER BY m.joined_on DESC, m.id DESC LIMIT :limit"
            );
            let recent = read_rows(conn.prepare_cached(&sql)?.query(named_params! {
                ":since": since,
                ":pre": pre,
                ":last": last,
                ":period": period_param(period),
                ":limit": i64::from(limit),
            })?)?;
            Ok(NewEnrollees {
                count: u64::try_from(count).unwrap_or(0),
                recent,
            })
        })
    }

    /// The ranks the cache knows (those someone in the scope holds or held), lowest first.
    pub fn rank_ladder(&self) -> Result<Vec<(RankLevel, String)>, StoreError> {
        self.database().read(|conn| {
            let mut stmt = conn.prepare_cached("SELECT level, name FROM ranks ORDER BY level")?;
            let rows = stmt
                .query_map([], |r| Ok((RankLevel::new(r.get(0)?), r.get(1)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }
}
