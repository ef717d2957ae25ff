//! Wrappers of `src-tauri/src/commands/genealogy.rs`: downline pages, the lazy tree's
//! children, search, the member panel and the breadcrumbs.

use canopy_core::ipc::{
    ChildrenRequest, DownlinePageView, DownlineRequest, MemberDetailView, PathView, SearchRequest,
    SearchResultView,
};
use serde::Serialize;

use super::{ApiError, invoke::call};

#[derive(Serialize)]
struct Request<'a, T> {
    request: &'a T,
}

/// One page of a downline list, sorted and filtered.
pub async fn downline_page(request: DownlineRequest) -> Result<DownlinePageView, ApiError> {
    call("downline_page", &Request { request: &request }).await
}

/// One page of a member's children, for expanding a tree node.
pub async fn tree_children(request: ChildrenRequest) -> Result<DownlinePageView, ApiError> {
    call("tree_children", &Request { request: &request }).await
}

/// Members matching a name, a member number or the start of an email address.
pub async fn search_members(request: SearchRequest) -> Result<Vec<SearchResultView>, ApiError> {
    call("search_members", &Request { request: &request }).await
}

#[derive(Serialize)]
struct Detail<'a> {
    id: i64,
    period: Option<&'a str>,
}

/// The member panel: public fields, contact fields the server sent, subtree figures.
pub async fn member_detail(id: i64, period: Option<&str>) -> Result<MemberDetailView, ApiError> {
    call("member_detail", &Detail { id, period }).await
}

#[derive(Serialize)]
struct Path {
    id: Option<i64>,
}

/// The breadcrumbs from the user down to `id` (`None`: the user alone).
pub async fn path_to_member(id: Option<i64>) -> Result<PathView, ApiError> {
    call("path_to_member", &Path { id }).await
}
