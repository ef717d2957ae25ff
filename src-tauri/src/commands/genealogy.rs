//! Commands of the genealogy: pages of a downline, sorted and filtered; a member's
//! children for the lazy tree; search; the member panel with subtree figures; and the
//! breadcrumbs, all from the open cache. The store does the work (index reads sized to
//! the page); this module only converts between the IPC shapes and the store's.

use canopy_core::ipc::{
    ChildrenRequest, CommandError, ContactView, DownlineFilterView, DownlinePageView,
    DownlineRequest, LegView, MAX_LEGS, MemberDetailView, MemberRowView, PathView, RankCountView,
    SearchMatch, SearchRequest, SearchResultView, SortKey, SubtreeView, TreeKind,
};
use canopy_core::{CountryCode, MemberId, Period, PostalAddress, RankLevel, parse_date};
use canopy_store::{
    Cursor, DownlineFilter, DownlineQuery, Match, MemberRow, PersonalFields, Sort, Store,
    StoreError, Tree,
};
use tauri::State;

use super::{blocking, open_store};
use crate::state::AppState;

/// Rows per page when the UI doesn't say.
const DEFAULT_PAGE: u32 = 200;

/// One page of a downline.
#[tauri::command]
pub async fn downline_page(
    state: State<'_, AppState>,
    request: DownlineRequest,
) -> Result<DownlinePageView, CommandError> {
    let session = state.session().await?;
    let store = session.store().ok_or(CommandError::Locked)?.clone();
    drop(session);
    blocking(move || downline(&store, &request, today())).await
}

/// [`downline_page`]'s work, without Tauri (the benchmark and the tests call it).
pub fn downline(
    store: &Store,
    request: &DownlineRequest,
    today: time::Date,
) -> Result<DownlinePageView, CommandError> {
    let root = match request.root {
        Some(id) => MemberId::new(id),
        None => store
            .scope_root()
            .map_err(internal)?
            .ok_or_else(empty_cache)?,
    };
    let period = period_of(request.period.as_deref(), today)?;
    let limit = match request.limit {
        0 => DEFAULT_PAGE,
        n => n,
    };
    let query = DownlineQuery {
        root,
        tree: match request.tree {
            TreeKind::Sponsor => Tree::Sponsor,
            TreeKind::Placement => Tree::Placement,
        },
        period,
        filter: filter(&request.filter)?,
        sort: sort(request.sort),
        descending: request.descending,
        after: request
            .after
            .as_deref()
            .map(Cursor::from_token)
            .transpose()
            .map_err(|e| CommandError::Invalid(e.to_string()))?,
        limit,
    };
    let base = store
        .depth_of(root)
        .map_err(internal)?
        .ok_or_else(not_cached)?;
    let page = store.downline(&query).map_err(store_error)?;
    let placement = request.tree == TreeKind::Placement;
    Ok(DownlinePageView {
        rows: page
            .rows
            .into_iter()
            .map(|row| row_view(row, base, placement))
            .collect(),
        next: page.next.map(|c| c.token()),
    })
}

/// One page of a member's children, for expanding a node of the tree.
#[tauri::command]
pub async fn tree_children(
    state: State<'_, AppState>,
    request: ChildrenRequest,
) -> Result<DownlinePageView, CommandError> {
    let store = open_store(&state).await?;
    blocking(move || children(&store, &request, today())).await
}

/// Members matching what was typed: names, member numbers, email prefixes.
#[tauri::command]
pub async fn search_members(
    state: State<'_, AppState>,
    request: SearchRequest,
) -> Result<Vec<SearchResultView>, CommandError> {
    let store = open_store(&state).await?;
    blocking(move || search(&store, &request, today())).await
}

/// The member panel: public fields, contact fields the server sent, subtree figures.
#[tauri::command]
pub async fn member_detail(
    state: State<'_, AppState>,
    id: i64,
    period: Option<String>,
) -> Result<MemberDetailView, CommandError> {
    let store = open_store(&state).await?;
    blocking(move || detail(&store, id, period.as_deref(), today())).await
}

/// The breadcrumbs from the user down to a member (`None`: just the user).
#[tauri::command]
pub async fn path_to_member(
    state: State<'_, AppState>,
    id: Option<i64>,
) -> Result<PathView, CommandError> {
    let store = open_store(&state).await?;
    blocking(move || path(&store, id, today())).await
}

/// [`tree_children`]'s work, without Tauri. Rows' `level` is 1 (one below the parent);
/// `has_children` follows the tree asked for.
pub fn children(
    store: &Store,
    request: &ChildrenRequest,
    today: time::Date,
) -> Result<DownlinePageView, CommandError> {
    let period = period_of(request.period.as_deref(), today)?;
    let limit = match request.limit {
        0 => DEFAULT_PAGE,
        n => n,
    };
    let parent = store
        .member(MemberId::new(request.parent), period)
        .map_err(store_error)?
        .row;
    let placement = request.tree == TreeKind::Placement;
    let base = if placement {
        parent.placement_depth
    } else {
        parent.depth
    };
    let after = request.after.as_deref().map(child_cursor).transpose()?;
    let tree = if placement {
        Tree::Placement
    } else {
        Tree::Sponsor
    };
    let page = store
        .children_page(parent.id, tree, period, after, limit)
        .map_err(store_error)?;
    Ok(DownlinePageView {
        rows: page
            .rows
            .into_iter()
            .map(|row| row_view(row, base, placement))
            .collect(),
        next: page.next.map(|(slot, id)| format!("{slot}:{id}")),
    })
}

/// A [`children`] page's `next`, read back.
fn child_cursor(token: &str) -> Result<(i64, i64), CommandError> {
    let bad = || CommandError::Invalid("This list's position is not readable: start again".into());
    let (slot, id) = token.split_once(':').ok_or_else(bad)?;
    Ok((
        slot.parse().map_err(|_| bad())?,
        id.parse().map_err(|_| bad())?,
    ))
}

/// The most search results one call returns.
const MAX_RESULTS: u32 = 100;
/// Results when the UI doesn't say.
const DEFAULT_RESULTS: u32 = 20;

/// [`search_members`]'s work, without Tauri. Only members in this device's cache can be
/// found; levels count from the user.
pub fn search(
    store: &Store,
    request: &SearchRequest,
    today: time::Date,
) -> Result<Vec<SearchResultView>, CommandError> {
    let period = period_of(request.period.as_deref(), today)?;
    let limit = match request.limit {
        0 => DEFAULT_RESULTS,
        n => n.min(MAX_RESULTS),
    };
    let hits = store
        .search(&request.query, period, limit)
        .map_err(store_error)?;
    Ok(hits
        .into_iter()
        .map(|hit| SearchResultView {
            member: row_view(hit.member, 0, false),
            matched: match hit.matched {
                Match::Number => SearchMatch::Number,
                Match::Email => SearchMatch::Email,
                Match::Name => SearchMatch::Name,
            },
        })
        .collect())
}

/// [`member_detail`]'s work, without Tauri.
pub fn detail(
    store: &Store,
    id: i64,
    period: Option<&str>,
    today: time::Date,
) -> Result<MemberDetailView, CommandError> {
    let period = period_of(period, today)?;
    let member = store
        .member(MemberId::new(id), period)
        .map_err(store_error)?;
    let subtree = store.subtree(member.row.id, period).map_err(store_error)?;
    // The sponsor and the placement parent of the user are outside the cache: no row.
    let neighbour = |id: Option<MemberId>| -> Result<Option<MemberRowView>, CommandError> {
        match id.map(|id| store.member(id, period)) {
            None | Some(Err(StoreError::NotFound(_))) => Ok(None),
            Some(Err(e)) => Err(internal(e)),
            Some(Ok(found)) => Ok(Some(row_view(found.row, 0, false))),
        }
    };
    let sponsor = neighbour(member.row.sponsor)?;
    let placement = neighbour(member.placement)?;
    let legs_total = subtree.legs.len() as u64;
    let mut legs: Vec<LegView> = subtree
        .legs
        .into_iter()
        .map(|leg| LegView {
            member: row_view(leg.member, member.row.depth, false),
            members: leg.members,
            gv: leg.gv,
        })
        .collect();
    legs.sort_by(|a, b| b.gv.cmp(&a.gv).then(b.members.cmp(&a.members)));
    legs.truncate(MAX_LEGS);
    Ok(MemberDetailView {
        contact: member.personal.map(contact_view),
        member: row_view(member.row, 0, false),
        sponsor,
        placement,
        subtree: SubtreeView {
            period: period.to_string(),
            team_size: subtree.team_size,
            pv: subtree.pv,
            gv: subtree.gv,
            by_rank: subtree
                .by_rank
                .into_iter()
                .map(|r| RankCountView {
                    rank: r.rank.get(),
                    name: r.name,
                    members: r.members,
                })
                .collect(),
            by_level: subtree.by_level,
            legs,
            legs_total,
        },
    })
}

fn contact_view(p: PersonalFields) -> ContactView {
    ContactView {
        legal_name: p.legal_name,
        email: p.email,
        phone: p.phone,
        date_of_birth: p.date_of_birth,
        address: p.address.map(address_lines).unwrap_or_default(),
        tax_id: p.tax_id,
    }
}

/// An address as the lines it is printed on.
fn address_lines(a: PostalAddress) -> Vec<String> {
    let mut lines = vec![a.line1.as_str().to_owned()];
    if let Some(line2) = &a.line2 {
        lines.push(line2.as_str().to_owned());
    }
    let city = [
        a.postal_code.as_ref().map(|p| p.as_str().to_owned()),
        Some(a.city.as_str().to_owned()),
        a.region.as_ref().map(|r| r.as_str().to_owned()),
    ];
    lines.push(city.into_iter().flatten().collect::<Vec<_>>().join(" "));
    lines
}

/// [`path_to_member`]'s work, without Tauri: the user first, the member last (`None`: the
/// top of this device's scope, the user, alone).
pub fn path(store: &Store, id: Option<i64>, today: time::Date) -> Result<PathView, CommandError> {
    let period = period_of(None, today)?;
    let id = match id {
        Some(id) => MemberId::new(id),
        None => store
            .scope_root()
            .map_err(internal)?
            .ok_or_else(empty_cache)?,
    };
    let members = store.path_to(id, period).map_err(store_error)?;
    Ok(PathView {
        members: members
            .into_iter()
            .map(|row| row_view(row, 0, false))
            .collect(),
    })
}

fn filter(view: &DownlineFilterView) -> Result<DownlineFilter, CommandError> {
    let date = |text: &Option<String>| {
        text.as_deref()
            .map(parse_date)
            .transpose()
            .map_err(|e| CommandError::Invalid(e.to_string()))
    };
    Ok(DownlineFilter {
        ranks: view.ranks.iter().copied().map(RankLevel::new).collect(),
        statuses: view.statuses.clone(),
        countries: view
            .countries
            .iter()
            .map(|c| CountryCode::parse(c).map_err(|e| CommandError::Invalid(e.to_string())))
            .collect::<Result<_, _>>()?,
        levels: view.levels,
        joined_from: date(&view.joined_from)?,
        joined_to: date(&view.joined_to)?,
    })
}

fn sort(key: SortKey) -> Sort {
    match key {
        SortKey::JoinDate => Sort::JoinDate,
        SortKey::Name => Sort::Name,
        SortKey::Rank => Sort::Rank,
        SortKey::Level => Sort::Level,
        SortKey::Country => Sort::Country,
        SortKey::Status => Sort::Status,
        SortKey::PersonalVolume => Sort::PersonalVolume,
        SortKey::GroupVolume => Sort::GroupVolume,
    }
}

/// A row for the UI; `base` is the root's depth, so levels count from the root.
pub fn row_view(row: MemberRow, base: u32, placement: bool) -> MemberRowView {
    let depth = if placement {
        row.placement_depth
    } else {
        row.depth
    };
    MemberRowView {
        id: row.id.get(),
        number: row.number,
        display_name: row.display_name,
        rank: row.rank.get(),
        rank_name: row.rank_name,
        status: row.status,
        joined_on: canopy_core::format_date(row.joined_on),
        country: row.country.as_str().to_owned(),
        level: depth.saturating_sub(base),
        team_size: row.team_size,
        has_children: row.has_children,
        pv: row.pv,
        gv: row.gv,
    }
}

fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

fn internal(e: StoreError) -> CommandError {
    CommandError::Internal(e.to_string())
}

/// The store's refusals are the caller's to fix; anything else is ours.
fn store_error(e: StoreError) -> CommandError {
    match e {
        StoreError::Invalid(message) => CommandError::Invalid(message),
        StoreError::NotFound(_) => not_cached(),
        other => internal(other),
    }
}

fn empty_cache() -> CommandError {
    CommandError::Invalid("Nothing is in this device's cache yet".into())
}

fn not_cached() -> CommandError {
    CommandError::Invalid("That member is not in this device's cache".into())
}

/// `YYYY-MM`, or the month of `today`.
fn period_of(text: Option<&str>, today: time::Date) -> Result<Period, CommandError> {
    match text {
        Some(text) => Period::parse(text),
        None => Period::containing(today),
    }
    .map_err(|e| CommandError::Invalid(e.to_string()))
}
