//! One member: detail with the personal fields the server sent, children for the lazy tree,
//! the path up to the user for breadcrumbs, and subtree aggregates read from the tree index.

use canopy_core::{MemberId, Period, PostalAddress, RankLevel};
use rusqlite::{Connection, OptionalExtension, named_params};

use super::{MemberRow, ROW_COLUMNS, ROW_JOINS, member_row, period_param, read_rows};
use crate::error::StoreError;
use crate::store::Store;
use crate::tree;

/// Contact and identity fields, present only where the server sent them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalFields {
    pub legal_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub date_of_birth: Option<String>,
    pub address: Option<PostalAddress>,
    pub tax_id: Option<String>,
}

/// The member panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberDetail {
    pub row: MemberRow,
    pub placement: Option<MemberId>,
    pub personal: Option<PersonalFields>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankCount {
    pub rank: RankLevel,
    pub name: String,
    pub members: u32,
}

/// A direct enrollee and the size and volume of their part of the team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leg {
    pub member: MemberRow,
    /// The enrollee and everyone below them.
    pub members: u64,
    pub gv: i64,
}

/// A direct enrollee's leg as rank qualification sees it: its group volume and the best
/// rank anyone in it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegStanding {
    pub member: MemberId,
    /// The enrollee's PV plus everyone's below, in hundredths.
    pub gv: i64,
    pub best_rank: RankLevel,
}

/// A member of a team as the compensation plan's qualification reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamMember {
    pub id: MemberId,
    /// `None` for the team's head.
    pub sponsor: Option<MemberId>,
    pub status: canopy_core::MemberStatus,
    pub joined_on: time::Date,
    /// The rank on file.
    pub rank: RankLevel,
    /// Personal volume in the period asked for, in hundredths.
    pub pv: i64,
}

/// Everything about a member's downline, at any size, from a handful of index reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubtreeSummary {
    pub member: MemberId,
    pub period: Period,
    /// Everyone below, at any depth.
    pub team_size: u64,
    pub pv: i64,
    /// The member's own PV plus everyone's below in `period`.
    pub gv: i64,
    /// Members below holding each rank (ranks nobody below holds left out).
    pub by_rank: Vec<RankCount>,
    /// `by_level[k]`: members `k + 1` levels below.
    pub by_level: Vec<u32>,
    pub legs: Vec<Leg>,
}

/// A member's volumes in one period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VolumeEntry {
    pub period: Period,
    pub pv: i64,
    pub gv: i64,
}

fn row_by_id(
    conn: &Connection,
    id: MemberId,
    period: Period,
) -> Result<Option<MemberRow>, StoreError> {
    let sql = format!("SELECT {ROW_COLUMNS} FROM members m {ROW_JOINS} WHERE m.id = :id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(named_params! {":id": id.get(), ":period": period_param(period)})?;
    rows.next()?.map(member_row).transpose()
}

impl Store {
    /// The member panel: public fields, and contact fields where the server sent them.
    pub fn member(&self, id: MemberId, period: Period) -> Result<MemberDetail, StoreError> {
        self.database().read(|conn| {
            let row = row_by_id(conn, id, period)?.ok_or(StoreError::NotFound("member"))?;
            let placement: Option<i64> = conn.query_row(
                "SELECT placement_id FROM members WHERE id = ?1",
                [id.get()],
                |r| r.get(0),
            )?;
            let personal = conn
                .query_row(
                    "SELECT legal_name, email, phone, date_of_birth, address, tax_id
                     FROM member_personal WHERE member_id = ?1",
                    [id.get()],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, Option<String>>(1)?,
                            r.get::<_, Option<String>>(2)?,
                            r.get::<_, Option<String>>(3)?,
                            r.get::<_, Option<String>>(4)?,
                            r.get::<_, Option<String>>(5)?,
                        ))
                    },
                )
                .optional()?
                .map(
                    |(legal_name, email, phone, date_of_birth, address, tax_id)| {
                        let address = address
                            .map(|a| serde_json::from_str(&a))
                            .transpose()
                            .map_err(|e| StoreError::Invalid(format!("address: {e}")))?;
                        Ok::<_, StoreError>(PersonalFields {
                            legal_name,
                            email,
                            phone,
                            date_of_birth,
                            address,
                            tax_id,
                        })
                    },
                )
                .transpose()?;
            Ok(MemberDetail {
                row,
                placement: placement.map(MemberId::new),
                personal,
            })
        })
    }

    /// A member's direct enrollees (sponsor tree) in join order: one level of the lazy tree.
    pub fn children(&self, id: MemberId, period: Period) -> Result<Vec<MemberRow>, StoreError> {
        self.database()
            .read(|conn| self.children_on(conn, id, period))
    }

    /// A member's placement children (binary or unilevel positions), in position order.
    pub fn placement_children(
        &self,
        id: MemberId,
        period: Period,
    ) -> Result<Vec<MemberRow>, StoreError> {
        self.database().read(|conn| {
            let sql = format!(
                "SELECT {ROW_COLUMNS} FROM members m {ROW_JOINS}
                 WHERE m.placement_id = :id ORDER BY m.placement_slot, m.id"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            read_rows(stmt.query(named_params! {":id": id.get(), ":period": period_param(period)})?)
        })
    }

    /// The breadcrumbs: from the top of the cached tree down to `id` (included).
    pub fn path_to(&self, id: MemberId, period: Period) -> Result<Vec<MemberRow>, StoreError> {
        self.database().read(|conn| {
            let mut ids = tree::ancestors(conn, id.get())?;
            ids.reverse();
            ids.push(id.get());
            ids.into_iter()
                .map(|a| {
                    row_by_id(conn, MemberId::new(a), period)?.ok_or(StoreError::NotFound("member"))
                })
                .collect()
        })
    }

    /// Team size, group volume, members per rank and per level, and the legs, for any
    /// member: stored aggregates, so the same few reads for a leaf or for the whole tree.
    pub fn subtree(&self, id: MemberId, period: Period) -> Result<SubtreeSummary, StoreError> {
        self.database().read(|conn| {
            let row = row_by_id(conn, id, period)?.ok_or(StoreError::NotFound("member"))?;
            let stats = tree::read_stats(conn, id.get())?.unwrap_or_default();
            let mut names = conn.prepare_cached("SELECT level, name FROM ranks")?;
            let names: std::collections::HashMap<u16, String> = names
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            let by_rank = stats
                .ranks
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(level, &members)| {
                    let level = u16::try_from(level).unwrap_or(u16::MAX);
                    RankCount {
                        rank: RankLevel::new(level),
                        name: names.get(&level).cloned().unwrap_or_default(),
                        members,
                    }
                })
                .collect();
            let legs = self
                .children_on(conn, id, period)?
                .into_iter()
                .map(|member| Leg {
                    members: member.team_size + 1,
                    gv: member.gv,
                    member,
                })
                .collect();
            Ok(SubtreeSummary {
                member: id,
                period,
                team_size: stats.team_size,
                pv: row.pv,
                gv: row.gv,
                by_rank,
                by_level: stats.levels,
                legs,
            })
        })
    }

    /// Each of `id`'s direct enrollees' legs in `period`: GV and best rank (from the
    /// subtree aggregates, so a leg of any size costs two index reads).
    pub fn leg_standings(
        &self,
        id: MemberId,
        period: Period,
    ) -> Result<Vec<LegStanding>, StoreError> {
        self.database().read(|conn| {
            self.children_on(conn, id, period)?
                .into_iter()
                .map(|child| {
                    let below = tree::read_stats(conn, child.id.get())?
                        .and_then(|stats| stats.ranks.iter().rposition(|&n| n > 0))
                        .map(|level| RankLevel::new(u16::try_from(level).unwrap_or(u16::MAX)));
                    Ok(LegStanding {
                        member: child.id,
                        gv: child.gv,
                        best_rank: below.map_or(child.rank, |b| b.max(child.rank)),
                    })
                })
                .collect()
        })
    }

    /// `id` and everyone below, with their volumes in `period`, when the team has at most
    /// `max` members below `id` (`None` when it has more): what a projection of the
    /// period's ranks reads. One range of the pre-order index.
    pub fn team_for_projection(
        &self,
        id: MemberId,
        period: Period,
        max: u64,
    ) -> Result<Option<Vec<TeamMember>>, StoreError> {
        self.database().read(|conn| {
            let (pre, last, size): (i64, i64, i64) = conn
                .query_row(
                    "SELECT pre, last, team_size FROM members WHERE id = ?1",
                    [id.get()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?
                .ok_or(StoreError::NotFound("member"))?;
            if u64::try_from(size).unwrap_or(u64::MAX) > max {
                return Ok(None);
            }
            let mut stmt = conn.prepare_cached(
                "SELECT m.id, m.sponsor_id, m.status, m.joined_on, m.rank_level, coalesce(v.pv, 0)
                 FROM members m
                 LEFT JOIN volumes v ON v.period = :period AND v.member_id = m.id
                 WHERE m.pre >= :pre AND m.pre <= :last",
            )?;
            let mut rows = stmt.query(named_params! {
                ":period": period_param(period),
                ":pre": pre,
                ":last": last,
            })?;
            let mut team = Vec::with_capacity(usize::try_from(size).unwrap_or(0) + 1);
            while let Some(r) = rows.next()? {
                let member = MemberId::new(r.get(0)?);
                let joined: String = r.get(3)?;
                team.push(TeamMember {
                    id: member,
                    sponsor: if member == id {
                        None
                    } else {
                        r.get::<_, Option<i64>>(1)?.map(MemberId::new)
                    },
                    status: crate::codes::parse("member status", &r.get::<_, String>(2)?)?,
                    joined_on: canopy_core::parse_date(&joined)
                        .map_err(|_| StoreError::Invalid(format!("join date {joined:?}")))?,
                    rank: RankLevel::new(r.get(4)?),
                    pv: r.get(5)?,
                });
            }
            Ok(Some(team))
        })
    }

    fn children_on(
        &self,
        conn: &Connection,
        id: MemberId,
        period: Period,
    ) -> Result<Vec<MemberRow>, StoreError> {
        let sql = format!(
            "SELECT {ROW_COLUMNS} FROM members m {ROW_JOINS}
             WHERE m.sponsor_id = :id ORDER BY m.id"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        read_rows(stmt.query(named_params! {":id": id.get(), ":period": period_param(period)})?)
    }

    /// The top of the cached scope (the user, or the founder for an admin): the member
    /// at depth 0 of the sponsor tree, first by id if there are several.
    pub fn scope_root(&self) -> Result<Option<MemberId>, StoreError> {
        self.database().read(|conn| {
            Ok(conn
                .query_row(
                    "SELECT id FROM members WHERE depth = 0 ORDER BY id LIMIT 1",
                    [],
                    |r| r.get::<_, i64>(0),
                )
                .optional()?
                .map(MemberId::new))
        })
    }

    /// A member's depth in the cached sponsor tree, if the member is in the cache.
    pub fn depth_of(&self, id: MemberId) -> Result<Option<u32>, StoreError> {
        self.database().read(|conn| {
            Ok(conn
                .query_row("SELECT depth FROM members WHERE id = ?1", [id.get()], |r| {
                    r.get(0)
                })
                .optional()?)
        })
    }

    /// A member's personal and group volume in every cached period, oldest first.
    pub fn volume_history(&self, id: MemberId) -> Result<Vec<VolumeEntry>, StoreError> {
        self.database().read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT period, pv, gv FROM volumes WHERE member_id = ?1 ORDER BY period",
            )?;
            let mut rows = stmt.query([id.get()])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(VolumeEntry {
                    period: Period::from_index(r.get(0)?)
                        .map_err(|_| StoreError::Invalid("a volume's period".into()))?,
                    pv: r.get(1)?,
                    gv: r.get(2)?,
                });
            }
            Ok(out)
        })
    }
}

/// Where a page of [`Store::children_page`] resumes: the last child's placement slot
/// (placement tree; 0 in the sponsor tree) and id.
pub type ChildCursor = (i64, i64);

/// One page of a member's children in either tree, for a lazy tree view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildrenPage {
    /// In the placement tree, `has_children` says whether the child has placement
    /// children (the row's `team_size` stays the sponsor tree's).
    pub rows: Vec<MemberRow>,
    /// `None` on the last page.
    pub next: Option<ChildCursor>,
}

impl Store {
    /// Up to `limit` (1 to [`super::MAX_PAGE`]) children of `id` after `after`: direct
    /// enrollees by id (sponsor tree) or placement children by slot (placement tree). An
    /// index range on the parent, so a member with 100,000 enrollees costs one page.
    pub fn children_page(
        &self,
        id: MemberId,
        tree: super::Tree,
        period: Period,
        after: Option<ChildCursor>,
        limit: u32,
    ) -> Result<ChildrenPage, StoreError> {
        if limit == 0 || limit > super::MAX_PAGE {
            return Err(StoreError::Invalid(format!(
                "a page holds 1 to {} rows, not {limit}",
                super::MAX_PAGE
            )));
        }
        let (slot, last) = after.unwrap_or((i64::MIN, i64::MIN));
        // Columns 16 and 17 follow ROW_COLUMNS: "has children in this tree", and the slot.
        let sql = match tree {
            super::Tree::Sponsor => format!(
                "SELECT {ROW_COLUMNS}, m.team_size > 0, 0 FROM members m {ROW_JOINS}
                 WHERE m.sponsor_id = :id AND m.id > :last
                 ORDER BY m.id LIMIT :limit"
            ),
            super::Tree::Placement => format!(
                "SELECT {ROW_COLUMNS},
                     EXISTS (SELECT 1 FROM members c WHERE c.placement_id = m.id),
                     coalesce(m.placement_slot, -1)
                 FROM members m {ROW_JOINS}
                 WHERE m.placement_id = :id
                   AND (coalesce(m.placement_slot, -1), m.id) > (:slot, :last)
                 ORDER BY coalesce(m.placement_slot, -1), m.id LIMIT :limit"
            ),
        };
        self.database().read(|conn| {
            let mut stmt = conn.prepare_cached(&sql)?;
            let limit_param = i64::from(limit) + 1;
            let period = period_param(period);
            let mut rows = match tree {
                super::Tree::Sponsor => stmt.query(named_params! {
                    ":id": id.get(), ":period": period, ":last": last, ":limit": limit_param,
                })?,
                super::Tree::Placement => stmt.query(named_params! {
                    ":id": id.get(), ":period": period, ":slot": slot, ":last": last,
                    ":limit": limit_param,
                })?,
            };
            let mut out: Vec<(MemberRow, i64)> = Vec::new();
            while let Some(r) = rows.next()? {
                let mut row = member_row(r)?;
                row.has_children = r.get(16)?;
                out.push((row, r.get(17)?));
            }
            let next = if out.len() > limit as usize {
                out.truncate(limit as usize);
                out.last().map(|(m, slot)| (*slot, m.id.get()))
            } else {
                None
            };
            Ok(ChildrenPage {
                rows: out.into_iter().map(|(m, _)| m).collect(),
                next,
            })
        })
    }
}
