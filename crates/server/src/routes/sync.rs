//! `POST /v1/sync/bootstrap`: a device's cache filled page by page with exactly what its
//! user may see — an admin the whole company, anyone else themselves and their sponsor
//! downline — with personal fields minimised by `rbac`, in the binary form of
//! `canopy_core::sync::codec`. The first page lists the scope once under a checkpoint;
//! every later page of that checkpoint reads the next range of the list, so a bootstrap
//! cut by either side (a lost connection, a server restart) resumes at the same rows.
//!
//! The rows are read when their page is, so a change after the checkpoint may already show;
//! the deltas since the checkpoint bring everything else.
//!
//! Volumes ride with their members: each member's personal volume in this period and the
//! previous one (what the dashboard and the lists show; a bootstrap at a million members
//! can't afford a year of every member's), and the user's own in every period they ordered
//! in. A member a delta sends again comes with those periods' volumes again, a zero where
//! their orders no longer count (a cancelled one), so that volume leaves the cache too;
//! a period without any order has nothing to correct and sends nothing.
//!
//! `POST /v1/sync/changes`: what changed since a cursor, from the change log: a changed
//! member in the caller's scope now is sent whole (minimised), one outside it as a removal,
//! so a member moved out of a team, or a team moved away, vanishes from the caches of
//! those who may no longer see it. Asked to `verify`, the last batch carries the checksum
//! of the caller's scope at its cursor; a cache that differs bootstraps again (this is how
//! a role change that shrinks the scope reaches the cache).

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use canopy_core::EnrollmentKind;
use canopy_core::sync::push::{
    Command, ContactForm, MAX_COMMANDS, NoteForm, OrderForm, Outcome, PushCommand, PushRequest,
    PushResponse, PushResult,
};
use canopy_core::sync::{BootstrapPage, DeltaBatch, DeltaOp, PROTOCOL, Row, VolumeRow, codec};
use canopy_core::{Member, MemberId, Order, Period, Pv, Rank, RankLevel};
use serde::Deserialize;

use super::error::ApiError;
use super::extract::{ApiJson, Authenticated};
use super::problem::Problem;
use crate::app::AppState;
use crate::rbac::{self, Relation};
use crate::storage::{AccessGrant, MemberRecord, NewOrder, SnapshotRecord};

/// Members per page: a page stays well under a megabyte compressed.
pub const PAGE_ROWS: u32 = 5_000;
/// The media type of sync bodies.
pub const CONTENT_TYPE: &str = "application/vnd.canopy.sync";
/// The checkpoint of a scope with nobody in it (an account not linked to a member).
const EMPTY: &str = "empty";

/// What a device's checkpoints and cursors were issued for: the role and the member whose
/// scope the cache holds. Every token carries it (`s12.manager-345`), and a token whose tag
/// is not the caller's now is unknown, so a role change (which changes what the user may
/// see, even when no member changed) makes the cache bootstrap again at its next sync.
/// Tokens are opaque to the client; the server never reads the scope from them, only
/// compares.
fn scope_tag(grant: &AccessGrant) -> String {
    format!(
        "{}-{}",
        grant.role.key(),
        grant.member.map_or(0, canopy_core::MemberId::get)
    )
}

/// `token` without its scope tag, if the tag is the caller's.
fn untagged<'t>(token: &'t str, grant: &AccessGrant) -> Option<&'t str> {
    let (base, tag) = token.rsplit_once('.')?;
    (tag == scope_tag(grant)).then_some(base)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BootstrapRequest {
    /// The checkpoint of the bootstrap under way; absent to start one (page 0).
    #[serde(default)]
    pub checkpoint: Option<String>,
    /// From 0.
    #[serde(default)]
    pub page: u64,
}

/// One page of the caller's scope.
#[utoipa::path(post, path = "/v1/sync/bootstrap", tag = "sync", security(("bearer" = [])),
    request_body = BootstrapRequest,
    responses(
        (status = 200, description = "A bootstrap page (MessagePack + zstd, see canopy_core::sync::codec)",
            content_type = "application/vnd.canopy.sync", body = Vec<u8>),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such checkpoint or page: start the bootstrap again", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bootstrap starts at page 0", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn bootstrap(
    State(state): State<AppState>,
    Authenticated(grant): Authenticated,
    ApiJson(req): ApiJson<BootstrapRequest>,
) -> Result<Response, ApiError> {
    let scope_root = match (grant.role, grant.member) {
        (canopy_core::Role::Admin, _) => None,
        (_, Some(member)) => Some(member),
        (_, None) => return respond(&empty_page(&grant)),
    };
    let snapshot = match &req.checkpoint {
        None if req.page == 0 => {
            state
                .storage
                .create_snapshot(grant.account, scope_root, state.now())
                .await?
        }
        None => return Err(ApiError::Invalid("A bootstrap starts at page 0".into())),
        Some(token) => find_snapshot(&state, &grant, token).await?,
    };
    let from = req.page.saturating_mul(u64::from(PAGE_ROWS));
    if from > 0 && from >= snapshot.rows_total {
        return Err(ApiError::not_found(
            "There is no such page in this bootstrap",
        ));
    }
    let (previous, _) = recent_periods(&state)?;
    // The members and their volumes, read side by side (the storage has several readers).
    let (members, volumes) = tokio::join!(
        state.storage.snapshot_members(snapshot.id, from, PAGE_ROWS),
        state
            .storage
            .snapshot_volumes(snapshot.id, from, PAGE_ROWS, previous)
    );
    let (members, mut volumes) = (members?, volumes?);
    let listed = members.len() as u64;
    let mut rows = Vec::new();
    if req.page == 0 {
        // The catalogue and the user's own orders and volumes ride on the first page (a
        // few dozen rows beside the members it holds); `rows_total` counts members.
        rows.extend(catalogue_and_orders(&state, &grant).await?);
    }
    // The user's own volumes came with their orders; an empty cache needs no zeros.
    volumes.retain(|v| Some(v.member) != grant.member && v.pv != Pv::ZERO);
    rows.extend(
        members
            .into_iter()
            .map(|(member, personal)| Row::Member(Box::new(minimised(&grant, member, personal)))),
    );
    rows.extend(volumes.into_iter().map(Row::Volume));
    let page = BootstrapPage {
        protocol: PROTOCOL,
        checkpoint: format!("s{}.{}", snapshot.id, scope_tag(&grant)),
        page: req.page,
        rows_total: snapshot.rows_total,
        last: from + listed >= snapshot.rows_total,
        rows,
    };
    respond(&page)
}

/// The whole catalogue and the caller's own orders and volumes, as rows.
async fn catalogue_and_orders(state: &AppState, grant: &AccessGrant) -> Result<Vec<Row>, ApiError> {
    let mut rows: Vec<Row> = state
        .storage
        .products()
        .await?
        .into_iter()
        .map(Row::Product)
        .collect();
    if let Some(me) = grant.member {
        let orders = state.storage.orders_of(me).await?;
        let volumes = own_volumes(me, &orders, recent_periods(state)?)?;
        rows.extend(orders.into_iter().map(Row::Order));
        rows.extend(volumes.into_iter().map(Row::Volume));
    }
    Ok(rows)
}

/// The previous period and this one, by the server's clock.
fn recent_periods(state: &AppState) -> Result<(Period, Period), ApiError> {
    let current = Period::containing(state.now().date())
        .map_err(|e| ApiError::Internal(format!("the current period: {e}")))?;
    Ok((current.previous().unwrap_or(current), current))
}

/// `me`'s personal volume in every period they ordered in (zero where nothing counts) and
/// in the `recent` two, from their orders: the same sums as `Storage::volumes_of`.
fn own_volumes(
    me: MemberId,
    orders: &[Order],
    recent: (Period, Period),
) -> Result<Vec<VolumeRow>, ApiError> {
    let mut by_period: std::collections::BTreeMap<Period, i64> =
        std::collections::BTreeMap::from([(recent.0, 0), (recent.1, 0)]);
    for order in orders {
        let period = Period::containing(order.placed_at.date())
            .map_err(|e| ApiError::Internal(format!("an order's period: {e}")))?;
        let pv = if order.status.counts_for_volume() {
            order
                .total_pv()
                .map_err(|e| ApiError::Internal(format!("an order's volume: {e}")))?
                .hundredths()
        } else {
            0
        };
        let sum = by_period.entry(period).or_insert(0);
        *sum = (*sum)
            .checked_add(pv)
            .ok_or_else(|| ApiError::Internal("a period's volume overflowed".into()))?;
    }
    Ok(by_period
        .into_iter()
        .map(|(period, pv)| VolumeRow {
            member: me,
            period,
            pv: Pv::from_hundredths(pv),
        })
        .collect())
}

fn empty_page(grant: &AccessGrant) -> BootstrapPage {
    BootstrapPage {
        protocol: PROTOCOL,
        checkpoint: format!("{EMPTY}.{}", scope_tag(grant)),
        page: 0,
        rows_total: 0,
        last: true,
        rows: Vec::new(),
    }
}

/// The caller's own snapshot named by `token`; anyone else's is as unknown as a deleted one.
async fn find_snapshot(
    state: &AppState,
    grant: &AccessGrant,
    token: &str,
) -> Result<SnapshotRecord, ApiError> {
    let gone = || ApiError::not_found("This bootstrap is no longer available: start again");
    let id: i64 = untagged(token, grant)
        .and_then(|t| t.strip_prefix('s'))
        .and_then(|n| n.parse().ok())
        .ok_or_else(gone)?;
    let snapshot = state.storage.find_snapshot(id).await?.ok_or_else(gone)?;
    if snapshot.account != grant.account {
        return Err(gone());
    }
    Ok(snapshot)
}

/// A member as the caller may see them. Everyone in a snapshot is the caller, one of their
/// enrollees or further down their line (or anyone, for an admin).
fn minimised(
    grant: &AccessGrant,
    member: MemberRecord,
    personal: Option<canopy_core::PersonalDetails>,
) -> Member {
    let relation = if Some(member.id) == grant.member {
        Relation::Own
    } else if member.sponsor.is_some() && member.sponsor == grant.member {
        Relation::PersonallyEnrolled
    } else {
        Relation::Downline
    };
    let visibility = rbac::visibility(grant.role, relation);
    Member {
        id: member.id,
        number: member.number,
        sponsor: member.sponsor,
        placement: member.placement,
        rank: rank(member.rank),
        status: member.status,
        joined_on: member.joined_on,
        country: member.country,
        display_name: member.display_name,
        personal: personal.and_then(|p| rbac::minimise(p, visibility)),
    }
}

/// A rank with its name. Until the compensation plan names the ladder, the demo company's
/// names are used.
fn rank(level: RankLevel) -> Rank {
    let name = crate::seed::RANKS
        .get(usize::from(level.get()))
        .map_or_else(|| format!("Rank {}", level.get()), |r| r.0.to_owned());
    Rank::new(level.get(), name)
}

/// Changes per answer; `more` tells the client to ask again.
pub const CHANGES_PER_BATCH: u32 = 1_000;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangesRequest {
    /// The cache's cursor: the checkpoint after a bootstrap, then each batch's `to`.
    pub cursor: String,
    /// Send the scope's checksum with the last batch, for the client to compare with its
    /// cache (it costs a read of the whole scope, so clients ask now and then).
    #[serde(default)]
    pub verify: bool,
}

/// The changes to the caller's scope since a cursor.
#[utoipa::path(post, path = "/v1/sync/changes", tag = "sync", security(("bearer" = [])),
    request_body = ChangesRequest,
    responses(
        (status = 200, description = "A delta batch (MessagePack + zstd, see canopy_core::sync::codec)",
            content_type = "application/vnd.canopy.sync", body = Vec<u8>),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown cursor: bootstrap again", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn changes(
    State(state): State<AppState>,
    Authenticated(grant): Authenticated,
    ApiJson(req): ApiJson<ChangesRequest>,
) -> Result<Response, ApiError> {
    let unknown = || ApiError::not_found("Unknown sync cursor: bootstrap again");
    let after = match untagged(&req.cursor, &grant).ok_or_else(unknown)? {
        EMPTY => 0,
        base if base.starts_with('s') => {
            find_snapshot(&state, &grant, &req.cursor).await?.change_seq
        }
        base => base
            .strip_prefix('c')
            .and_then(|n| n.parse::<i64>().ok())
            .filter(|n| *n >= 0)
            .ok_or_else(unknown)?,
    };
    let changed = state
        .storage
        .changes_since(after, CHANGES_PER_BATCH)
        .await?;
    let to = changed.last().map_or(after, |(seq, _)| *seq);
    let catalogue_changed = changed.iter().any(|(_, id)| id.is_none());
    let mut seen = std::collections::HashSet::new();
    let ids: Vec<canopy_core::MemberId> = changed
        .iter()
        .filter_map(|(_, id)| *id)
        .filter(|id| seen.insert(*id))
        .collect();
    let own_changed = grant.member.is_some_and(|me| seen.contains(&me));
    let found = match (grant.role, grant.member) {
        (canopy_core::Role::Admin, _) => state.storage.members_in_scope(ids.clone(), None).await?,
        (_, Some(me)) => {
            state
                .storage
                .members_in_scope(ids.clone(), Some(me))
                .await?
        }
        (_, None) => vec![None; ids.len()],
    };
    let mut in_scope = Vec::new();
    let mut ops: Vec<DeltaOp> = ids
        .into_iter()
        .zip(found)
        .map(|(id, member)| match member {
            Some((member, personal)) => {
                if Some(id) != grant.member {
                    in_scope.push(id);
                }
                DeltaOp::Put(Row::Member(Box::new(minimised(&grant, member, personal))))
            }
            None => DeltaOp::RemoveMember(id),
        })
        .collect();
    // After the members, so a member new to the cache is there when its volume arrives.
    let recent = recent_periods(&state)?;
    let volumes = state.storage.volumes_of(in_scope, recent.0).await?;
    ops.extend(volumes.into_iter().map(|v| DeltaOp::Put(Row::Volume(v))));
    if catalogue_changed {
        let products = state.storage.products().await?;
        ops.extend(products.into_iter().map(|p| DeltaOp::Put(Row::Product(p))));
    }
    if let (true, Some(me)) = (own_changed, grant.member) {
        // The user's own orders (an order placed from a device logs its buyer), and the
        // volumes they make.
        let orders = state.storage.orders_of(me).await?;
        let volumes = own_volumes(me, &orders, recent)?;
        ops.extend(orders.into_iter().map(|o| DeltaOp::Put(Row::Order(o))));
        ops.extend(volumes.into_iter().map(|v| DeltaOp::Put(Row::Volume(v))));
    }
    let more = changed.len() == CHANGES_PER_BATCH as usize;
    let checksum = if req.verify && !more {
        let root = match (grant.role, grant.member) {
            (canopy_core::Role::Admin, _) => Some(None),
            (_, Some(me)) => Some(Some(me)),
            (_, None) => None,
        };
        match root {
            Some(root) => {
                let (at, checksum) = state.storage.scope_checksum(root).await?;
                // A change since the batch was read: no checksum this time (it would
                // describe a scope the batch doesn't bring the cache to).
                (at == to).then_some(checksum)
            }
            None => Some(canopy_core::sync::scope_checksum([])),
        }
    } else {
        None
    };
    let batch = DeltaBatch {
        protocol: PROTOCOL,
        from: req.cursor.clone(),
        to: format!("c{to}.{}", scope_tag(&grant)),
        ops,
        more,
        checksum,
    };
    let body = codec::encode_delta(&batch)
        .map_err(|e| ApiError::Internal(format!("encoding a delta batch: {e}")))?;
    Ok(binary(body))
}

fn binary(body: Vec<u8>) -> Response {
    let mut response = Bytes::from(body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    response
}

fn respond(page: &BootstrapPage) -> Result<Response, ApiError> {
    let body = codec::encode_page(page)
        .map_err(|e| ApiError::Internal(format!("encoding a bootstrap page: {e}")))?;
    Ok(binary(body))
}

/// The documented shape of [`PushRequest`] (the core types carry no OpenAPI schema).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct PushRequestDoc {
    /// At most 500, applied in order.
    pub commands: Vec<PushCommandDoc>,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct PushCommandDoc {
    /// The device's idempotency key: 16 to 64 of `A-Z a-z 0-9 - _`.
    pub key: String,
    /// `{"type": "enroll", "form": {…the enrollment form…}}`,
    /// `{"type": "add_note", "form": {"member": 42, "body": "…"}}` or
    /// `{"type": "update_contact", "form": {"email": "…", "phone": "…", …}}`.
    #[schema(value_type = Object)]
    pub command: serde_json::Value,
}

/// The documented shape of [`PushResponse`].
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct PushResponseDoc {
    /// One per command, in order: `{"key", "outcome": "applied" | "rejected" |
    /// "retry_later", "server_ref" | "reason"}`.
    #[schema(value_type = Vec<Object>)]
    pub results: Vec<serde_json::Value>,
}

/// Applies a device's outbox, in order, each command at most once: a key answered before
/// gets the same answer again (a push repeated after a lost response changes nothing).
#[utoipa::path(post, path = "/v1/sync/push", tag = "sync", security(("bearer" = [])),
    request_body = PushRequestDoc,
    responses(
        (status = 200, description = "One answer per command, in order", body = PushResponseDoc),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Too many commands in one push", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn push(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    Authenticated(grant): Authenticated,
    ApiJson(req): ApiJson<PushRequest>,
) -> Result<axum::Json<PushResponse>, ApiError> {
    if req.commands.len() > MAX_COMMANDS {
        return Err(ApiError::Invalid(format!(
            "Send at most {MAX_COMMANDS} commands at a time"
        )));
    }
    let now = state.now();
    let mut answers: Vec<Option<Outcome>> = vec![None; req.commands.len()];
    let mut batch: Vec<(usize, String, canopy_core::Enrollment)> = Vec::new();
    for (i, PushCommand { key, command }) in req.commands.iter().enumerate() {
        if let Some(answered) = state
            .storage
            .find_outcome(grant.account, key.as_str())
            .await?
        {
            answers[i] = Some(answered);
            continue;
        }
        match command {
            Command::Enroll(form) => match check_enrollment(&state, &grant, form).await {
                Ok(enrollment) => batch.push((i, key.as_str().to_owned(), enrollment)),
                // Not recorded: the device asks again.
                Err(later @ Outcome::RetryLater { .. }) => answers[i] = Some(later),
                Err(rejected) => {
                    answers[i] = Some(answer(&state, &grant, key.as_str(), rejected, now).await);
                }
            },
            Command::AddNote(form) => {
                answers[i] = Some(add_note(&state, &grant, key.as_str(), form, now).await);
            }
            Command::UpdateContact(form) => {
                answers[i] = Some(update_contact(&state, &grant, key.as_str(), form, now).await);
            }
            Command::PlaceOrder(form) => {
                answers[i] = Some(place_order(&state, &grant, key.as_str(), form, now).await);
            }
        }
    }
    if !batch.is_empty() {
        let places: Vec<usize> = batch.iter().map(|(i, _, _)| *i).collect();
        let items = batch.into_iter().map(|(_, k, e)| (k, e)).collect();
        match state
            .storage
            .enroll_members(grant.account, items, now)
            .await
        {
            Ok(outcomes) => {
                for (i, outcome) in places.into_iter().zip(outcomes) {
                    answers[i] = Some(outcome);
                }
            }
            Err(err) => {
                let later = retry_later(&err);
                for i in places {
                    answers[i] = Some(later.clone());
                }
            }
        }
    }
    // Unusual orders and enrollments raise admin alerts; never a reason to fail the push.
    let applied = crate::watch::applied(&req.commands, &answers);
    crate::watch::after_push(&state, &grant, peer.ip(), applied).await;
    let results = req
        .commands
        .into_iter()
        .zip(answers)
        .map(|(command, outcome)| PushResult {
            key: command.key,
            outcome: outcome.unwrap_or_else(|| Outcome::RetryLater {
                reason: "Not answered: it will be sent again".into(),
            }),
        })
        .collect();
    Ok(axum::Json(PushResponse { results }))
}

/// One enrollment checked again here (the app's validation is a convenience): every field,
/// then the sponsor against the caller's scope. `Err` is the answer instead: a rejection
/// with the reason shown to the user, or "retry later" when the check itself failed.
async fn check_enrollment(
    state: &AppState,
    grant: &AccessGrant,
    form: &canopy_core::EnrollmentForm,
) -> Result<canopy_core::Enrollment, Outcome> {
    let rejected = |reason: String| Outcome::Rejected { reason };
    let enrollment = form.validate(state.now().date()).map_err(|errors| {
        rejected(
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" "),
        )
    })?;
    if enrollment.kind == EnrollmentKind::Customer {
        return Err(rejected(
            "Retail customers can't be enrolled through the app yet: enroll them at the \
             company's site, or as a distributor"
                .to_owned(),
        ));
    }
    match may_sponsor(state, grant, enrollment.sponsor).await {
        Ok(true) => Ok(enrollment),
        Ok(false) => Err(rejected("The sponsor is not in your downline".to_owned())),
        Err(err) => Err(retry_later(&err)),
    }
}

/// A private note, on a member the caller may see (their own line).
async fn add_note(
    state: &AppState,
    grant: &AccessGrant,
    key: &str,
    form: &NoteForm,
    now: time::OffsetDateTime,
) -> Outcome {
    let reason = match form.text() {
        Err(reason) => reason.to_owned(),
        Ok(body) => match may_sponsor(state, grant, form.member).await {
            Ok(true) => {
                return state
                    .storage
                    .add_note(grant.account, key, form.member, body.to_owned(), now)
                    .await
                    .unwrap_or_else(|err| retry_later(&err));
            }
            Ok(false) => "You can only keep notes on members of your downline".to_owned(),
            Err(err) => return retry_later(&err),
        },
    };
    answer(state, grant, key, Outcome::Rejected { reason }, now).await
}

/// An order for the caller or a member of their downline, priced by the catalogue.
async fn place_order(
    state: &AppState,
    grant: &AccessGrant,
    key: &str,
    form: &OrderForm,
    now: time::OffsetDateTime,
) -> Outcome {
    let reason = match form.validate() {
        Err(reason) => reason,
        Ok(lines) => match may_sponsor(state, grant, form.member).await {
            Ok(true) => {
                let order = NewOrder {
                    account: grant.account,
                    key: key.to_owned(),
                    member: form.member,
                    lines,
                    max_total_minor: state.max_order_minor,
                };
                return state
                    .storage
                    .place_order(order, now)
                    .await
                    .unwrap_or_else(|err| retry_later(&err));
            }
            Ok(false) => "You can only order for yourself or a member of your downline".to_owned(),
            Err(err) => return retry_later(&err),
        },
    };
    answer(state, grant, key, Outcome::Rejected { reason }, now).await
}

/// The caller's own contact details.
async fn update_contact(
    state: &AppState,
    grant: &AccessGrant,
    key: &str,
    form: &ContactForm,
    now: time::OffsetDateTime,
) -> Outcome {
    let result = match (form.validate(), grant.member) {
        (Err(reason), _) => Err(reason),
        (Ok(_), None) => Err("This account has no member record to update".to_owned()),
        (Ok(contact), Some(me)) => Ok((contact, me)),
    };
    match result {
        Ok((contact, me)) => state
            .storage
            .update_contact(grant.account, key, me, contact, now)
            .await
            .unwrap_or_else(|err| retry_later(&err)),
        Err(reason) => answer(state, grant, key, Outcome::Rejected { reason }, now).await,
    }
}

/// Keeps `outcome` as the answer to the command `key` (the first answer kept wins), so a
/// resend gets it again; if it can't be kept, the device is asked to send it again.
async fn answer(
    state: &AppState,
    grant: &AccessGrant,
    key: &str,
    outcome: Outcome,
    now: time::OffsetDateTime,
) -> Outcome {
    state
        .storage
        .record_outcome(grant.account, key, &outcome, now)
        .await
        .unwrap_or_else(|err| retry_later(&err))
}

/// Whether the caller may enroll under `sponsor`: an admin under anyone, anyone else under
/// themselves or a member of their downline.
async fn may_sponsor(
    state: &AppState,
    grant: &AccessGrant,
    sponsor: canopy_core::MemberId,
) -> Result<bool, crate::storage::StorageError> {
    if state.storage.find_member(sponsor).await?.is_none() {
        return Ok(false);
    }
    if grant.role == canopy_core::Role::Admin {
        return Ok(true);
    }
    let Some(me) = grant.member else {
        return Ok(false);
    };
    Ok(sponsor == me
        || state
            .storage
            .is_in_sponsor_line(sponsor, me, 100_000)
            .await?)
}

/// A failure of the server's own: not answered, so the device sends the command again.
fn retry_later(err: &crate::storage::StorageError) -> Outcome {
    tracing::error!(error = %err, "an outbox command could not be applied");
    Outcome::RetryLater {
        reason: "The server could not save this just now; it will be sent again".into(),
    }
}
