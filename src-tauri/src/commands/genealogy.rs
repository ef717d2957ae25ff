//! Commands of the genealogy: pages of a downline, sorted and filtered, from the open
//! cache. The store does the work (index reads sized to the page); this module only
//! converts between the IPC shapes and the store's.

use canopy_core::ipc::{
    CommandError, DownlineFilterView, DownlinePageView, DownlineRequest, MemberRowView, SortKey,
    TreeKind,
};
use canopy_core::{CountryCode, MemberId, Period, RankLevel, parse_date};
use canopy_store::{Cursor, DownlineFilter, DownlineQuery, MemberRow, Sort, Store, Tree};
use tauri::State;

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
    tauri::async_runtime::spawn_blocking(move || downline(&store, &request, today()))
        .await
        .map_err(|e| CommandError::Internal(e.to_string()))?
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
            .ok_or_else(|| CommandError::Invalid("Nothing is in this device's cache yet".into()))?,
    };
    let period = match &request.period {
        Some(text) => Period::parse(text).map_err(|e| CommandError::Invalid(e.to_string()))?,
        None => Period::containing(today).map_err(|e| CommandError::Invalid(e.to_string()))?,
    };
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
        .ok_or_else(|| CommandError::Invalid("That member is not in this device's cache".into()))?;
    let page = store.downline(&query).map_err(|e| match e {
        canopy_store::StoreError::Invalid(message) => CommandError::Invalid(message),
        other => internal(other),
    })?;
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

fn internal(e: canopy_store::StoreError) -> CommandError {
    CommandError::Internal(e.to_string())
}
