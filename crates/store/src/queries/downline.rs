//! A page of a member's downline: everyone in the member's pre-order interval, filtered,
//! sorted, and paged by keyset (the last row's sort value and a tie-breaker), so page 5,000
//! costs what page 1 does.
//!
//! The plan is chosen here, from the tree index's exact counts, not left to SQLite's
//! estimates: a small team (or a level filter that leaves few rows) is read through its
//! interval and sorted; a big one is read in sort order through the sort's index, which
//! carries `pre` and `depth` so rows outside the team are skipped without touching the
//! table. Either way a page reads about as many rows as it shows, or as the team holds.
//!
//! A rank filter that leaves few of a big team (counted, up to a bound, in the facets
//! index: rank, country, status, join date, depth, pre) is read exactly from that index
//! and sorted instead: a walk in sort order would read on until it met a page of them, and
//! when the sort follows seniority as ranks do (join date, member id) that is most of the
//! tree.
//!
//! Volumes live in their own table, one row per member with a volume in the period, so a
//! volume sort of a big team reads three runs in order: the negative volumes and the
//! positive ones through the period's (period, volume, member) index, and between them the
//! members at zero (no row, or a zero one) in id order, each run only when the page
//! reaches it.

use canopy_core::{CountryCode, MemberId, MemberStatus, Period, RankLevel};
use rusqlite::types::Value;
use std::sync::Mutex;

use rusqlite::{OptionalExtension, params_from_iter};
use time::Date;

use super::{MemberRow, ROW_COLUMNS, ROW_JOINS, period_param, read_rows};
use crate::codes;
use crate::error::StoreError;
use crate::store::Store;

/// Which tree "downline" follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tree {
    /// Who enrolled whom (the genealogy the aggregates follow).
    #[default]
    Sponsor,
    /// Where each member was placed (binary or unilevel positions).
    Placement,
}

impl Tree {
    fn columns(self) -> crate::tree::Columns {
        match self {
            Tree::Sponsor => crate::tree::SPONSOR,
            Tree::Placement => crate::tree::PLACEMENT,
        }
    }
}

/// What the list can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
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

impl Sort {
    /// The SQL expression sorted on; every one is a column or a column with a default.
    fn expr(self, tree: Tree) -> &'static str {
        match self {
            Sort::JoinDate => "m.joined_on",
            Sort::Name => "m.display_name COLLATE NOCASE",
            Sort::Rank => "m.rank_level",
            Sort::Level => match tree {
                Tree::Sponsor => "m.depth",
                Tree::Placement => "m.p_depth",
            },
            Sort::Country => "m.country",
            Sort::Status => "m.status",
            Sort::PersonalVolume => "coalesce(v.pv, 0)",
            Sort::GroupVolume => "coalesce(v.gv, 0)",
        }
    }

    /// The column that orders rows with equal sort values: the tree order within a level
    /// (so a level lists branch by branch), the member id otherwise.
    fn tiebreak(self, tree: Tree) -> &'static str {
        match (self, tree) {
            (Sort::Level, Tree::Sponsor) => "m.pre",
            (Sort::Level, Tree::Placement) => "m.p_pre",
            _ => "m.id",
        }
    }

    fn tie_of(self, row: &MemberRow, tree: Tree) -> i64 {
        match (self, tree) {
            (Sort::Level, Tree::Sponsor) => row.pre,
            (Sort::Level, Tree::Placement) => row.p_pre,
            _ => row.id.get(),
        }
    }

    /// The index that reads the sponsor tree's members in this order, if there is one.
    fn index(self) -> Option<&'static str> {
        match self {
            Sort::JoinDate => Some("members_joined"),
            Sort::Name => Some("members_name"),
            Sort::Rank => Some("members_rank"),
            Sort::Level => Some("members_depth"),
            Sort::Country => Some("members_country"),
            Sort::Status => Some("members_status"),
            Sort::PersonalVolume | Sort::GroupVolume => None,
        }
    }

    /// The volume column and its (period, volume, member) index, for the volume sorts.
    fn volume(self) -> Option<(&'static str, &'static str)> {
        match self {
            Sort::PersonalVolume => Some(("pv", "volumes_pv")),
            Sort::GroupVolume => Some(("gv", "volumes_gv")),
            _ => None,
        }
    }

    fn value_of(self, row: &MemberRow, tree: Tree) -> Value {
        match self {
            Sort::JoinDate => Value::Text(canopy_core::format_date(row.joined_on)),
            Sort::Name => Value::Text(row.display_name.clone()),
            Sort::Rank => Value::Integer(i64::from(row.rank.get())),
            Sort::Level => Value::Integer(i64::from(match tree {
                Tree::Sponsor => row.depth,
                Tree::Placement => row.placement_depth,
            })),
            Sort::Country => Value::Text(row.country.as_str().to_owned()),
            Sort::Status => Value::Text(codes::code(row.status)),
            Sort::PersonalVolume => Value::Integer(row.pv),
            Sort::GroupVolume => Value::Integer(row.gv),
        }
    }
}

/// Narrows the downline; empty lists and `None` mean "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DownlineFilter {
    pub ranks: Vec<RankLevel>,
    pub statuses: Vec<MemberStatus>,
    pub countries: Vec<CountryCode>,
    /// Levels below the root, inclusive (1 = direct enrollees).
    pub levels: Option<(u32, u32)>,
    pub joined_from: Option<Date>,
    pub joined_to: Option<Date>,
}

/// Where the next page starts: the last row's sort value and tie-breaker.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    value: Value,
    tie: i64,
}

impl Cursor {
    /// The cursor as text, for a UI to hand back for the next page (`i`, `r`, `t` or `n`
    /// for the sort value's type, the value, then the tie-breaker).
    pub fn token(&self) -> String {
        match &self.value {
            Value::Integer(i) => format!("i:{i}:{}", self.tie),
            Value::Real(r) => format!("r:{r}:{}", self.tie),
            Value::Text(t) => format!("t:{t}:{}", self.tie),
            Value::Null | Value::Blob(_) => format!("n::{}", self.tie),
        }
    }

    /// A cursor from [`Cursor::token`]; anything else is refused.
    pub fn from_token(token: &str) -> Result<Self, StoreError> {
        let bad = unreadable;
        let (kind, rest) = token.split_once(':').ok_or_else(bad)?;
        let (value, tie) = rest.rsplit_once(':').ok_or_else(bad)?;
        let tie: i64 = tie.parse().map_err(|_| bad())?;
        let value = match kind {
            "i" => Value::Integer(value.parse().map_err(|_| bad())?),
            "r" => Value::Real(value.parse().map_err(|_| bad())?),
            "t" => Value::Text(value.to_owned()),
            "n" if value.is_empty() => Value::Null,
            _ => return Err(bad()),
        };
        Ok(Self { value, tie })
    }
}

/// A team (or the rows a level filter leaves) up to this size is read whole and sorted;
/// a bigger one is read in sort order through an index.
const SMALL: u64 = 5_000;

/// How a page is read (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// The team's interval, then sort.
    Interval,
    /// The levels asked for, each a range of the (depth, pre) index, then sort.
    Levels,
    /// The sort's own index, skipping rows outside the team.
    Ordered(&'static str),
    /// The members that pass the filters, read exactly from the facets index, then sorted:
    /// for a rank filter that leaves a few thousand of a big team.
    Candidates,
    /// A volume sort's runs (see the module doc): the volume column and its index.
    Volumes(&'static str, &'static str),
}

#[derive(Debug, Clone, PartialEq)]
pub struct DownlineQuery {
    /// Whose downline (not included in it).
    pub root: MemberId,
    pub tree: Tree,
    /// The period whose volumes are shown and sorted on.
    pub period: Period,
    pub filter: DownlineFilter,
    pub sort: Sort,
    pub descending: bool,
    pub after: Option<Cursor>,
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub rows: Vec<MemberRow>,
    /// `None` on the last page.
    pub next: Option<Cursor>,
}

/// The most rows one page may ask for.
pub const MAX_PAGE: u32 = 1_000;

impl Store {
    /// One page of `q.root`'s downline (sponsor tree).
    pub fn downline(&self, q: &DownlineQuery) -> Result<Page, StoreError> {
        if q.limit == 0 || q.limit > MAX_PAGE {
            return Err(StoreError::Invalid(format!(
                "a page holds 1 to {MAX_PAGE} rows, not {}",
                q.limit
            )));
        }
        self.database().read(|conn| {
            let cols = q.tree.columns();
            let (pre, last, depth): (i64, i64, i64) = conn
                .query_row(
                    &format!(
                        "SELECT {}, {}, {} FROM members WHERE id = ?1",
                        cols.pre, cols.last, cols.depth
                    ),
                    [q.root.get()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?
                .ok_or(StoreError::NotFound("member"))?;
            let levels = q
                .filter
                .levels
                .map(|(from, to)| (depth + i64::from(from.max(1)), depth + i64::from(to)));
            // The filters, each " AND …" on `m`; ?1–?3 are the team's interval and the
            // period, the rest positional.
            let mut filters = String::new();
            let mut args: Vec<Value> = vec![
                Value::Integer(pre),
                Value::Integer(last),
                Value::Integer(period_param(q.period)),
            ];
            let f = &q.filter;
            push_in(
                &mut filters,
                &mut args,
                "m.rank_level",
                f.ranks.iter().map(|r| Value::Integer(i64::from(r.get()))),
            );
            push_in(
                &mut filters,
                &mut args,
                "m.status",
                f.statuses.iter().map(|s| Value::Text(codes::code(*s))),
            );
            push_in(
                &mut filters,
                &mut args,
                "m.country",
                f.countries
                    .iter()
                    .map(|c| Value::Text(c.as_str().to_owned())),
            );
            if let Some((lo, hi)) = levels {
                push_cmp(
                    &mut filters,
                    &mut args,
                    &format!("m.{}", cols.depth),
                    ">=",
                    Value::Integer(lo),
                );
                push_cmp(
                    &mut filters,
                    &mut args,
                    &format!("m.{}", cols.depth),
                    "<=",
                    Value::Integer(hi),
                );
            }
            if let Some(d) = f.joined_from {
                push_cmp(
                    &mut filters,
                    &mut args,
                    "m.joined_on",
                    ">=",
                    Value::Text(canopy_core::format_date(d)),
                );
            }
            if let Some(d) = f.joined_to {
                push_cmp(
                    &mut filters,
                    &mut args,
                    "m.joined_on",
                    "<=",
                    Value::Text(canopy_core::format_date(d)),
                );
            }
            let plan = plan(conn, q, &filters, &args)?;
            let (from, predicate) = match plan {
                Plan::Interval => (
                    format!("members m INDEXED BY {}", cols.pre_index),
                    format!("m.{pre_col} > ?1 AND m.{pre_col} <= ?2", pre_col = cols.pre),
                ),
                Plan::Levels => {
                    let (lo, hi) = levels.unwrap_or((depth + 1, depth + 1));
                    let list: Vec<String> = (lo..=hi).map(|d| d.to_string()).collect();
                    (
                        "members m INDEXED BY members_depth".to_owned(),
                        format!(
                            "m.depth IN ({}) AND m.pre > ?1 AND m.pre <= ?2",
                            list.join(", ")
                        ),
                    )
                }
                Plan::Ordered(index) => (
                    format!("members m INDEXED BY {index}"),
                    "m.pre > ?1 AND m.pre <= ?2".to_owned(),
                ),
                Plan::Candidates => (
                    "members m INDEXED BY members_facets".to_owned(),
                    "m.pre > ?1 AND m.pre <= ?2".to_owned(),
                ),
                Plan::Volumes(column, index) => {
                    let rows = volume_page(conn, q, column, index, &filters, args)?;
                    return Ok(page(q, rows));
                }
            };
            let expr = q.sort.expr(q.tree);
            let tie = q.sort.tiebreak(q.tree);
            let (cmp, dir) = if q.descending {
                ("<", "DESC")
            } else {
                (">", "ASC")
            };
            let order = format!(" ORDER BY {expr} {dir}, {tie} {dir}");
            if plan == Plan::Candidates {
                // Only the ids and sort keys are read and sorted (with the volume sorted on,
                // if any); the page's rows are read from the table after.
                let volume = if q.sort.volume().is_some() {
                    "LEFT JOIN volumes v ON v.period = ?3 AND v.member_id = m.id"
                } else {
                    ""
                };
                let sql = format!(
                    "SELECT m.id, {expr}, {tie} FROM {from} {volume} WHERE {predicate}{filters}"
                );
                let rows = self
                    .ahead
                    .page(conn, q, &sql, args, (expr, tie, cmp), &order)?;
                return Ok(page(q, rows));
            }
            let mut sql =
                format!("SELECT {ROW_COLUMNS} FROM {from} {ROW_JOINS} WHERE {predicate}{filters}");
            let want = q.limit as usize + 1;
            if let (Plan::Ordered(_), Some(after)) = (plan, &q.after) {
                // SQLite seeks a row value `(expr, tie) > (v, i)` on its first column only,
                // so the page after one inside a long run of equal values (rank 0: most of
                // the tree) would read that run from its start. Instead: the rest of the
                // cursor's run, then what follows it, each found by a seek.
                let mut same = args.clone();
                same.push(after.value.clone());
                same.push(Value::Integer(after.tie));
                let run = format!(
                    "{sql} AND {expr} = ?{} AND {tie} {cmp} ?{} ORDER BY {tie} {dir} LIMIT {want}",
                    same.len() - 1,
                    same.len()
                );
                let mut stmt = conn.prepare_cached(&run.replace(":period", "?3"))?;
                let mut rows = read_rows(stmt.query(params_from_iter(same))?)?;
                if rows.len() < want {
                    args.push(after.value.clone());
                    let rest = format!(
                        "{sql} AND {expr} {cmp} ?{}{order} LIMIT {}",
                        args.len(),
                        want - rows.len()
                    );
                    let mut stmt = conn.prepare_cached(&rest.replace(":period", "?3"))?;
                    rows.extend(read_rows(stmt.query(params_from_iter(args))?)?);
                }
                return Ok(page(q, rows));
            }
            if let Some(after) = &q.after {
                args.push(after.value.clone());
                let v = args.len();
                args.push(Value::Integer(after.tie));
                let i = args.len();
                sql.push_str(&format!(" AND ({expr}, {tie}) {cmp} (?{v}, ?{i})"));
            }
            sql.push_str(&format!("{order} LIMIT {want}"));
            let sql = sql.replace(":period", "?3");
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = read_rows(stmt.query(params_from_iter(args))?)?;
            Ok(page(q, rows))
        })
    }
}

/// The page of up to `q.limit + 1` rows read: the first `q.limit`, and the cursor after
/// them if there was one more.
fn page(q: &DownlineQuery, mut rows: Vec<MemberRow>) -> Page {
    let next = if rows.len() > q.limit as usize {
        rows.truncate(q.limit as usize);
        rows.last().map(|r| Cursor {
            value: q.sort.value_of(r, q.tree),
            tie: q.sort.tie_of(r, q.tree),
        })
    } else {
        None
    };
    Page { rows, next }
}

/// How many places of a [`Plan::Candidates`] list one read keeps, for the pages after it.
const AHEAD: usize = 500;

/// The order of the last [`Plan::Candidates`] list read, a few pages ahead: sorting the
/// candidates costs the same for every page, and scrolling asks for the next one.
#[derive(Debug, Default)]
pub(crate) struct ReadAhead(Mutex<Option<Box<Ahead>>>);

#[derive(Debug)]
struct Ahead {
    /// The reader connection and its `PRAGMA data_version` when read (any commit since
    /// changes it: only the writer writes).
    conn: usize,
    version: i64,
    /// The list's query (without cursor and limit) and its arguments.
    key: String,
    args: Vec<Value>,
    /// The cursor the read began after, then each place's member, sort value and tie.
    after: Option<(Value, i64)>,
    order: Vec<(i64, Value, i64)>,
    /// Whether `order` runs to the end of the list.
    complete: bool,
}

impl ReadAhead {
    /// Up to `q.limit + 1` rows of the candidates `sql` reads, in `order`: from the places
    /// kept, if they hold this page, or from a new read that keeps the next ones.
    fn page(
        &self,
        conn: &rusqlite::Connection,
        q: &DownlineQuery,
        sql: &str,
        mut args: Vec<Value>,
        (expr, tie, cmp): (&str, &str, &str),
        order: &str,
    ) -> Result<Vec<MemberRow>, StoreError> {
        let want = q.limit as usize + 1;
        let id = std::ptr::from_ref(conn) as usize;
        let version: i64 = conn.query_row("PRAGMA data_version", [], |r| r.get(0))?;
        let after = q.after.as_ref().map(|c| (c.value.clone(), c.tie));
        let key = format!("{sql}{order}");
        let kept = {
            let guard = self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            guard.as_ref().and_then(|a| {
                if (a.conn, a.version, &a.key, &a.args) != (id, version, &key, &args) {
                    return None;
                }
                let from = if a.after == after {
                    0
                } else {
                    let (v, t) = after.as_ref()?;
                    a.order.iter().position(|(_, av, at)| av == v && at == t)? + 1
                };
                let rest = &a.order[from..];
                (rest.len() >= want || a.complete)
                    .then(|| rest.iter().take(want).map(|(m, ..)| *m).collect::<Vec<_>>())
            })
        };
        let ids = match kept {
            Some(ids) => ids,
            None => {
                let base = args.clone();
                let mut read = sql.to_owned();
                if let Some((v, t)) = &after {
                    args.push(v.clone());
                    args.push(Value::Integer(*t));
                    read.push_str(&format!(
                        " AND ({expr}, {tie}) {cmp} (?{}, ?{})",
                        args.len() - 1,
                        args.len()
                    ));
                }
                let ahead = AHEAD.max(want);
                read.push_str(&format!("{order} LIMIT {ahead}"));
                let mut stmt = conn.prepare_cached(&read.replace(":period", "?3"))?;
                let places: Vec<(i64, Value, i64)> = stmt
                    .query_map(params_from_iter(args), |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })?
                    .collect::<Result<_, _>>()?;
                let ids = places.iter().take(want).map(|(m, ..)| *m).collect();
                let mut guard = self
                    .0
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                *guard = Some(Box::new(Ahead {
                    conn: id,
                    version,
                    key,
                    args: base,
                    after,
                    complete: places.len() < ahead,
                    order: places,
                }));
                ids
            }
        };
        rows_in_order(conn, q, &ids)
    }
}

/// The rows of `ids`, in that order.
fn rows_in_order(
    conn: &rusqlite::Connection,
    q: &DownlineQuery,
    ids: &[i64],
) -> Result<Vec<MemberRow>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (2..ids.len() + 2).map(|i| format!("?{i}")).collect();
    let sql = format!(
        "SELECT {ROW_COLUMNS} FROM members m {ROW_JOINS} WHERE m.id IN ({})",
        marks.join(", ")
    )
    .replace(":period", "?1");
    let mut args = vec![Value::Integer(period_param(q.period))];
    args.extend(ids.iter().map(|&i| Value::Integer(i)));
    let mut stmt = conn.prepare(&sql)?;
    let mut by_id: std::collections::HashMap<i64, MemberRow> =
        read_rows(stmt.query(params_from_iter(args))?)?
            .into_iter()
            .map(|r| (r.id.get(), r))
            .collect();
    Ok(ids.iter().filter_map(|i| by_id.remove(i)).collect())
}

/// Which run of a volume sort a value falls in (ascending order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Run {
    Negative,
    Zero,
    Positive,
}

impl Run {
    fn of(volume: i64) -> Self {
        match volume.cmp(&0) {
            std::cmp::Ordering::Less => Run::Negative,
            std::cmp::Ordering::Equal => Run::Zero,
            std::cmp::Ordering::Greater => Run::Positive,
        }
    }
}

/// Up to `q.limit + 1` rows of a volume sort, run after run (see the module doc), each read
/// in order with the page's remaining size as its limit. `filters` and `args` are the
/// shared " AND …" terms on `m` and their values (?1–?3: the team's interval, the period).
fn volume_page(
    conn: &rusqlite::Connection,
    q: &DownlineQuery,
    column: &str,
    index: &str,
    filters: &str,
    args: Vec<Value>,
) -> Result<Vec<MemberRow>, StoreError> {
    // The cursor's run, volume and tie-breaker.
    let at = match &q.after {
        None => None,
        Some(Cursor {
            value: Value::Integer(v),
            tie,
        }) => Some((Run::of(*v), *v, *tie)),
        Some(_) => return Err(unreadable()),
    };
    let (cmp, dir) = if q.descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    let mut runs = [Run::Negative, Run::Zero, Run::Positive];
    if q.descending {
        runs.reverse();
    }
    let want = q.limit as usize + 1;
    let mut rows = Vec::with_capacity(want);
    for run in runs {
        if rows.len() >= want {
            break;
        }
        // A run before the cursor's is done; the cursor's own run resumes after it.
        if at.is_some_and(|(r, ..)| if q.descending { run > r } else { run < r }) {
            continue;
        }
        let resume = at.filter(|(r, ..)| *r == run);
        let mut args = args.clone();
        let sql = if run == Run::Zero {
            let mut resume_at = String::new();
            if let Some((_, _, tie)) = resume {
                args.push(Value::Integer(tie));
                resume_at = format!(" AND m.id {cmp} ?{}", args.len());
            }
            // Members in id order (NOT INDEXED: the rowid), whatever the period holds
            // for them, so those without a row are read too.
            format!(
                "SELECT {ROW_COLUMNS} FROM members m NOT INDEXED {ROW_JOINS}
                 WHERE m.pre > ?1 AND m.pre <= ?2{filters} AND coalesce(v.{column}, 0) = 0
                 {resume_at} ORDER BY m.id {dir} LIMIT {}",
                want - rows.len()
            )
            .replace(":period", "?3")
        } else {
            let sign = if run == Run::Negative { "<" } else { ">" };
            let mut resume_at = String::new();
            if let Some((_, value, tie)) = resume {
                args.push(Value::Integer(value));
                args.push(Value::Integer(tie));
                resume_at = format!(
                    " AND (v.{column}, v.member_id) {cmp} (?{}, ?{})",
                    args.len() - 1,
                    args.len()
                );
            }
            // `<> 0` repeats the partial index's condition, so the planner may use it.
            format!(
                "SELECT {ROW_COLUMNS} FROM volumes v INDEXED BY {index}
                 CROSS JOIN members m ON m.id = v.member_id
                 LEFT JOIN ranks r ON r.level = m.rank_level
                 WHERE v.period = ?3 AND v.{column} <> 0 AND v.{column} {sign} 0
                 AND m.pre > ?1 AND m.pre <= ?2{filters}{resume_at}
                 ORDER BY v.{column} {dir}, v.member_id {dir} LIMIT {}",
                want - rows.len()
            )
        };
        let mut stmt = conn.prepare_cached(&sql)?;
        rows.extend(read_rows(stmt.query(params_from_iter(args))?)?);
    }
    Ok(rows)
}

fn unreadable() -> StoreError {
    StoreError::Invalid("this list's position is not readable: start again".into())
}

/// Picks the plan from the exact counts of the tree index (see the module doc).
///
/// `filters` and `args` are the page's " AND …" terms on `m` and their values (?1–?3: the
/// team's interval and the period), for counting the candidates.
fn plan(
    conn: &rusqlite::Connection,
    q: &DownlineQuery,
    filters: &str,
    args: &[Value],
) -> Result<Plan, StoreError> {
    if q.tree == Tree::Placement {
        // The placement tree has intervals but no stored counts or sort indexes.
        return Ok(Plan::Interval);
    }
    let stats = crate::tree::read_stats(conn, q.root.get())?.unwrap_or_default();
    // The members in the levels asked for, if the levels are few enough to read as ranges.
    let mut in_levels = None;
    if let Some((from, to)) = q.filter.levels {
        let from = usize::try_from(from.max(1)).unwrap_or(usize::MAX);
        let to = usize::try_from(to).unwrap_or(usize::MAX);
        let n: u64 = stats
            .levels
            .iter()
            .enumerate()
            .filter(|(k, _)| (from..=to).contains(&(k + 1)))
            .map(|(_, &n)| u64::from(n))
            .sum();
        if n < stats.team_size && to - from < 1_000 {
            if n <= SMALL {
                return Ok(Plan::Levels);
            }
            in_levels = Some(n);
        }
    }
    if stats.team_size <= SMALL {
        return Ok(Plan::Interval);
    }
    if few_candidates(conn, q, filters, args)? {
        return Ok(Plan::Candidates);
    }
    if let Some((column, index)) = q.sort.volume() {
        // A run is read in the order of all members (ids, or the period's volumes), keeping
        // the team's rows: a page reads about `want × span / rows` of them, where sorting
        // reads `rows` (the levels' ranges, or the whole team). A run's row costs about
        // what a sorted one does.
        let span: i64 = conn.query_row(
            // Two subqueries: each is then one step down the rowid b-tree.
            "SELECT coalesce((SELECT max(id) FROM members) - (SELECT min(id) FROM members) \
             + 1, 0)",
            [],
            |r| r.get(0),
        )?;
        let want = u128::from(q.limit) + 1;
        let rows = u128::from(in_levels.unwrap_or(stats.team_size));
        let span = u128::try_from(span).unwrap_or(0);
        return Ok(if rows * rows >= want * span {
            Plan::Volumes(column, index)
        } else if in_levels.is_some() {
            Plan::Levels
        } else {
            Plan::Interval
        });
    }
    Ok(q.sort.index().map_or(Plan::Interval, Plan::Ordered))
}

/// The most candidates [`Plan::Candidates`] sorts: about 10 ms of sorting on these machines.
const CANDIDATES: u64 = 15_000;

/// Whether the rank filter (with the country and status filters behind it in the facets
/// index) leaves at most [`CANDIDATES`] members, and the sort's key is in that index too.
///
/// Walking a sort's index is cheap when the filters pass many members, but not when they
/// pass few, or when the sort follows what they filter on: members' ids and join dates
/// follow seniority, and so do ranks, so a walk in join order from the newest can read
/// most of the tree before it meets ten members of rank 3. Counting reads the candidates
/// once more (index-only, stopping after the limit) and costs a fraction of sorting them.
fn few_candidates(
    conn: &rusqlite::Connection,
    q: &DownlineQuery,
    filters: &str,
    args: &[Value],
) -> Result<bool, StoreError> {
    // The facets index begins with the rank: without a rank filter it can't be sought.
    // A name isn't in it: sorting on one would read the table for every candidate.
    if q.filter.ranks.is_empty() || q.sort == Sort::Name {
        return Ok(false);
    }
    let sql = format!(
        "SELECT count(*) FROM (SELECT 1 FROM members m INDEXED BY members_facets \
         WHERE m.pre > ?1 AND m.pre <= ?2{filters} LIMIT {})",
        CANDIDATES + 1
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let n: i64 = stmt.query_row(params_from_iter(args), |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(u64::MAX) <= CANDIDATES)
}

fn push_in(
    sql: &mut String,
    args: &mut Vec<Value>,
    column: &str,
    values: impl Iterator<Item = Value>,
) {
    let start = args.len();
    args.extend(values);
    if args.len() == start {
        return;
    }
    let marks: Vec<String> = (start + 1..=args.len()).map(|i| format!("?{i}")).collect();
    sql.push_str(&format!(" AND {column} IN ({})", marks.join(", ")));
}

fn push_cmp(sql: &mut String, args: &mut Vec<Value>, column: &str, op: &str, value: Value) {
    args.push(value);
    sql.push_str(&format!(" AND {column} {op} ?{}", args.len()));
}

#[cfg(test)]
mod cursor_tests {
    use super::*;

    #[test]
    fn cursor_tokens_round_trip_and_refuse_junk() {
        let cases = [
            Value::Integer(-42),
            Value::Real(1.5),
            Value::Text("Ana: the 2nd".into()),
            Value::Null,
        ];
        for value in cases {
            let cursor = Cursor { value, tie: 77 };
            assert_eq!(Cursor::from_token(&cursor.token()).unwrap(), cursor);
        }
        for junk in ["", "x:1:2", "i:one:2", "i:1", "n:3:4", "t:a:b"] {
            assert!(Cursor::from_token(junk).is_err(), "{junk:?}");
        }
    }
}
