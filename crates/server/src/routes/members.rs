//! The genealogy as a caller may see it: `GET /v1/members/{id}` and `…/{id}/enrollees`,
//! scoped and minimised by `rbac` (out of scope is a 404, like a member that does not exist).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use canopy_core::{MemberId, MemberStatus, PersonalDetails, PostalAddress, RankLevel};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::extract::Authenticated;
use super::problem::Problem;
use crate::app::AppState;
use crate::rbac::{self, Relation, Visibility};
use crate::storage::{AccessGrant, MemberRecord};

/// Enrollees per page unless the caller asks for fewer; never more than [`MAX_PAGE`].
const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 200;

/// A member, with only the fields the caller's role and relation allow.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MemberView {
    pub id: i64,
    pub number: String,
    pub display_name: String,
    pub sponsor_id: Option<i64>,
    #[schema(value_type = u16)]
    pub rank: RankLevel,
    #[schema(value_type = String)]
    pub status: MemberStatus,
    /// `YYYY-MM-DD`.
    pub joined_on: String,
    pub country: String,
    /// Absent when the caller may not see personal fields (or none are on file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub personal: Option<PersonalView>,
}

/// Personal fields; each is left out unless the caller's visibility reaches it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PersonalView {
    pub legal_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub address: Option<PostalAddress>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_id: Option<String>,
}

impl PersonalView {
    /// `None` below [`Visibility::Contact`]; the field rules are [`rbac::minimise`]'s.
    fn new(details: PersonalDetails, visibility: Visibility) -> Option<Self> {
        let details = rbac::minimise(details, visibility)?;
        Some(Self {
            legal_name: details.legal_name.to_string(),
            email: details.email.map(|e| e.to_string()),
            phone: details.phone.map(|p| p.to_string()),
            address: details.address,
            date_of_birth: details.date_of_birth.map(|d| d.to_string()),
            tax_id: details.tax_id.map(|t| t.to_string()),
        })
    }
}

impl MemberView {
    fn new(member: MemberRecord, personal: Option<PersonalView>) -> Self {
        Self {
            id: member.id.get(),
            number: member.number.to_string(),
            display_name: member.display_name.to_string(),
            sponsor_id: member.sponsor.map(MemberId::get),
            rank: member.rank,
            status: member.status,
            joined_on: member.joined_on.to_string(),
            country: member.country.to_string(),
            personal,
        }
    }
}

/// One member, if the caller may see them.
#[utoipa::path(get, path = "/v1/members/{id}", tag = "genealogy", security(("bearer" = [])),
    params(("id" = i64, Path, description = "A member in the caller's scope")),
    responses(
        (status = 200, description = "The member, minimised for the caller", body = MemberView),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn member(
    State(state): State<AppState>,
    Authenticated(grant): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<MemberView>, ApiError> {
    let (member, relation) = visible_member(&state, &grant, &id).await?;
    let visibility = rbac::visibility(grant.role, relation);
    let personal = personal_view(&state, &member, visibility).await?;
    Ok(Json(MemberView::new(member, personal)))
}

fn missing() -> ApiError {
    ApiError::not_found("There is no member with this id that you can see")
}

/// The member named in the path and the caller's relation to them; 404 when the member
/// does not exist or is out of the caller's scope.
async fn visible_member(
    state: &AppState,
    grant: &AccessGrant,
    id: &str,
) -> Result<(MemberRecord, Relation), ApiError> {
    let id = MemberId::new(id.parse::<i64>().map_err(|_| missing())?);
    let member = state.storage.find_member(id).await?.ok_or_else(missing)?;
    let relation = rbac::relation(state.storage.as_ref(), grant.member, &member).await?;
    if rbac::visibility(grant.role, relation) == Visibility::Hidden {
        return Err(missing());
    }
    Ok((member, relation))
}

async fn personal_view(
    state: &AppState,
    member: &MemberRecord,
    visibility: Visibility,
) -> Result<Option<PersonalView>, ApiError> {
    if visibility < Visibility::Contact {
        return Ok(None);
    }
    Ok(state
        .storage
        .find_member_personal(member.id)
        .await?
        .and_then(|details| PersonalView::new(details, visibility)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// The last member id of the previous page.
    pub after: Option<i64>,
    /// At most 200; 50 if left out.
    pub limit: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MemberPage {
    pub members: Vec<MemberView>,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_after: Option<i64>,
}

/// The members a visible member enrolled, by id, a page at a time.
#[utoipa::path(get, path = "/v1/members/{id}/enrollees", tag = "genealogy", security(("bearer" = [])),
    params(("id" = i64, Path, description = "A member in the caller's scope"), Page),
    responses(
        (status = 200, description = "The enrollees, minimised for the caller", body = MemberPage),
        (status = 400, description = "Bad paging parameters", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn enrollees(
    State(state): State<AppState>,
    Authenticated(grant): Authenticated,
    Path(id): Path<String>,
    page: Result<Query<Page>, QueryRejection>,
) -> Result<Json<MemberPage>, ApiError> {
    let Query(page) = page.map_err(|e| {
        ApiError::bad_request(format!(
            "The paging parameters are not right: use `after` (a member id) and `limit` \
             (1 to {MAX_PAGE}) ({})",
            e.body_text().rsplit(": ").next().unwrap_or_default()
        ))
    })?;
    let limit = page.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "`limit` must be between 1 and {MAX_PAGE}"
        )));
    }
    let (parent, relation) = visible_member(&state, &grant, &id).await?;
    // Whom the parent enrolled stands one step further from the caller.
    let child_relation = match relation {
        Relation::Own => Relation::PersonallyEnrolled,
        _ => Relation::Downline,
    };
    let visibility = rbac::visibility(grant.role, child_relation);
    let children = state
        .storage
        .list_enrollees(parent.id, page.after.map(MemberId::new), limit)
        .await?;
    let next_after = (u32::try_from(children.len()).ok() == Some(limit))
        .then(|| children.last().map(|m| m.id.get()))
        .flatten();
    let mut members = Vec::with_capacity(children.len());
    for child in children {
        let personal = personal_view(&state, &child, visibility).await?;
        members.push(MemberView::new(child, personal));
    }
    Ok(Json(MemberPage {
        members,
        next_after,
    }))
}
