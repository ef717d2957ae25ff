//! GDPR (SECURITY.md #23): `GET /v1/me/export`, a person's own data as one machine-readable
//! document (art. 15 and 20); `POST /v1/me/erasure-request`, asking for erasure (art. 17),
//! which raises an admin alert; `POST /v1/admin/members/{id}/erase`, an admin processing it.
//! Each is audited by ids only.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use canopy_core::{AccountId, MemberId};
use ring::rand::SecureRandom;
use serde::Serialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::admin::Admin;
use super::alerts::AlertView;
use super::error::ApiError;
use super::extract::Authenticated;
use super::factor::audit;
use super::me::{DeviceView, SignInView};
use super::problem::Problem;
use crate::alerts::ERASURE_REQUEST;
use crate::app::AppState;
use crate::storage::{AlertAudience, AlertSeverity, Erasure, NewAlert, StorageError};

/// The export's format name and version, so a machine reading it knows what it holds.
pub const EXPORT_FORMAT: &str = "canopy-personal-data";
pub const EXPORT_VERSION: u32 = 1;

fn rfc3339(t: OffsetDateTime) -> Value {
    t.format(&Rfc3339).map_or(Value::Null, Value::String)
}

/// Everything the server keeps about the caller, as one JSON document: the account, the
/// member record with its personal details, the consent given at enrollment, orders,
/// statements with every line, devices, sign-ins, alerts, the notes they wrote, and what
/// their devices pushed from which network address (kept for the transaction watch).
#[utoipa::path(get, path = "/v1/me/export", tag = "me", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's personal data (JSON, served as an attachment)", body = Object),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn export(
    State(state): State<AppState>,
    Authenticated(grant): Authenticated,
) -> Result<Response, ApiError> {
    let storage = state.storage.as_ref();
    let account = storage
        .find_account(grant.account)
        .await?
        .ok_or_else(ApiError::session_ended)?;
    let now = state.now();
    let mut member = Value::Null;
    let mut consent = Value::Null;
    let mut orders = Vec::new();
    let mut statements = Vec::new();
    if let Some(id) = account.member {
        if let Some(m) = storage.find_member(id).await? {
            member = json!({
                "id": m.id.get(),
                "number": m.number.as_str(),
                "sponsor_id": m.sponsor.map(MemberId::get),
                "placement": m.placement,
                "rank_level": m.rank.get(),
                "status": m.status,
                "joined_on": m.joined_on.to_string(),
                "country": m.country.as_str(),
                "display_name": m.display_name.as_str(),
                "personal": storage.find_member_personal(id).await?,
            });
        }
        consent = storage.consent_of(id).await?.map_or(Value::Null, |c| {
            json!({
                "text_version": c.text_version,
                "purposes": c.purposes,
                "given_at": rfc3339(c.given_at),
                "given_offline": c.given_offline,
                "enrolled_by_account": c.enrolled_by.get(),
            })
        });
        orders = storage.orders_of(id).await?;
        for statement in storage.statements_of(id).await? {
            let lines = storage.earnings_of(id, statement.period).await?;
            statements.push(json!({
                "period": statement.period.to_string(),
                "closed": statement.closed,
                "currency": statement.currency,
                "total_minor": statement.total_minor,
                "lines": lines.into_iter().map(|l| {
                    let mut line = serde_json::to_value(&l.line).unwrap_or(Value::Null);
                    if let (Some(reverses), Some(obj)) = (l.reverses, line.as_object_mut()) {
                        obj.insert("reverses_line".into(), json!(reverses.get()));
                    }
                    line
                }).collect::<Vec<_>>(),
            }));
        }
    }
    let devices: Vec<DeviceView> = storage
        .list_devices(grant.account)
        .await?
        .into_iter()
        .map(|d| DeviceView::new(d, grant.device))
        .collect();
    let sign_ins: Vec<SignInView> = storage
        .all_sign_ins(grant.account)
        .await?
        .into_iter()
        .map(SignInView::from)
        .collect();
    let alerts: Vec<AlertView> = storage
        .list_alerts_for_account(grant.account, u32::MAX)
        .await?
        .into_iter()
        .map(AlertView::from)
        .collect();
    let pushes: Vec<Value> = storage
        .pushes_by(grant.account)
        .await?
        .into_iter()
        .map(|p| {
            json!({
                "at": rfc3339(p.at),
                "kind": p.kind,
                "device_id": p.device.get(),
                "ip": p.ip,
                "member_id": p.member.get(),
                "order_id": p.order,
            })
        })
        .collect();
    let notes: Vec<Value> = storage
        .notes_by(grant.account)
        .await?
        .into_iter()
        .map(|n| {
            json!({
                "member_id": n.member.get(),
                "body": n.body,
                "created_at": rfc3339(n.created_at),
            })
        })
        .collect();
    let document = json!({
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "generated_at": rfc3339(now),
        "account": {
            "id": account.id.get(),
            "email": account.email.as_str(),
            "role": account.role.key(),
            "member_id": account.member.map(MemberId::get),
            "created_at": rfc3339(account.created_at),
            "password_changed_at": rfc3339(account.password_changed_at),
            "mfa_enabled": account.mfa.enabled,
        },
        "member": member,
        "consent": consent,
        "orders": orders,
        "statements": statements,
        "devices": devices,
        "sign_ins": sign_ins,
        "alerts": alerts,
        "notes": notes,
        "pushes": pushes,
    });
    audit(
        &state,
        Some(grant.account),
        "gdpr.export",
        Some(format!("account:{}", grant.account)),
        json!({
            "device": grant.device.get(),
            "orders": document["orders"].as_array().map_or(0, Vec::len),
            "statements": document["statements"].as_array().map_or(0, Vec::len),
        }),
    )
    .await?;
    let mut response = Json(document).into_response();
    let name = format!(
        "attachment; filename=\"canopy-personal-data-{}.json\"",
        now.date()
    );
    if let Ok(value) = HeaderValue::from_str(&name) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErasureRequested {
    /// The admin alert that carries the request; a second request while it is open is the
    /// same one.
    pub alert_id: i64,
}

/// Asks the company to erase the caller's personal data: admins get an alert to process.
#[utoipa::path(post, path = "/v1/me/erasure-request", tag = "me", security(("bearer" = [])),
    responses(
        (status = 202, description = "Requested; an admin processes it", body = ErasureRequested),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The account has no member record to erase", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn request_erasure(
    State(state): State<AppState>,
    Authenticated(grant): Authenticated,
) -> Result<(StatusCode, Json<ErasureRequested>), ApiError> {
    let Some(member) = grant.member else {
        return Err(ApiError::Conflict(
            "This account has no member record: ask the company's data protection officer".into(),
        ));
    };
    let now = state.now();
    let raised = state
        .storage
        .create_alert(NewAlert {
            account: Some(grant.account),
            audience: AlertAudience::Admin,
            kind: ERASURE_REQUEST.to_owned(),
            severity: AlertSeverity::Info,
            evidence: json!({"account_id": grant.account.get(), "member_id": member.get()}),
            at: now,
            unless_open: true,
        })
        .await?;
    let alert_id = match raised {
        Some(alert) => {
            audit(
                &state,
                Some(grant.account),
                "gdpr.erasure_request",
                Some(format!("member:{member}")),
                json!({"alert": alert.id.get()}),
            )
            .await?;
            alert.id.get()
        }
        None => open_request(&state, grant.account).await?,
    };
    Ok((StatusCode::ACCEPTED, Json(ErasureRequested { alert_id })))
}

/// The open erasure request of an account (one exists when `unless_open` raised nothing).
async fn open_request(state: &AppState, account: AccountId) -> Result<i64, ApiError> {
    let open = state
        .storage
        .list_admin_alerts(Some(crate::storage::AlertState::Open), u32::MAX)
        .await?;
    let acknowledged = state
        .storage
        .list_admin_alerts(Some(crate::storage::AlertState::Acknowledged), u32::MAX)
        .await?;
    open.into_iter()
        .chain(acknowledged)
        .find(|a| a.kind == ERASURE_REQUEST && a.account == Some(account))
        .map(|a| a.id.get())
        .ok_or_else(|| ApiError::internal("an erasure request is open but can't be found"))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErasureReport {
    pub member_id: i64,
    /// The member's account, now pseudonymised and disabled.
    pub account_id: Option<i64>,
    /// Devices revoked: each wipes its cache when it next reaches the server.
    pub devices_revoked: usize,
    pub sessions_ended: u64,
    pub sign_ins_deleted: u64,
    pub notes_deleted: u64,
    /// The audit event recording the erasure.
    pub audit_seq: i64,
}

/// Erases a member's personal data: the member is pseudonymised on the server (the tree,
/// orders and earnings stay correct), their account can never sign in again, and every
/// device holding them gets the pseudonymised record with its next delta.
#[utoipa::path(post, path = "/v1/admin/members/{id}/erase", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The member to erase")),
    responses(
        (status = 200, description = "Erased", body = ErasureReport),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or no step-up in the last ten minutes", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The caller's own member record, or erased already", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn erase_member(
    State(state): State<AppState>,
    Admin(grant): Admin,
    Path(id): Path<String>,
) -> Result<Json<ErasureReport>, ApiError> {
    let missing = || ApiError::not_found("There is no member with this id");
    let member = MemberId::new(id.parse::<i64>().map_err(|_| missing())?);
    if grant.member == Some(member) {
        return Err(ApiError::Conflict(
            "You can't erase your own member record: another admin must".into(),
        ));
    }
    let unusable_password_hash = unusable_hash(&state).await?;
    let erased = state
        .storage
        .erase_member(Erasure {
            member,
            by: grant.account,
            unusable_password_hash,
            at: state.now(),
        })
        .await
        .map_err(|e| match e {
            StorageError::NotFound => missing(),
            e => e.into(),
        })?;
    let Some(record) = erased else {
        return Err(ApiError::Conflict("This member is erased already".into()));
    };
    tracing::info!(
        admin = grant.account.get(),
        member = member.get(),
        devices_revoked = record.devices_revoked.len(),
        "member erased"
    );
    Ok(Json(ErasureReport {
        member_id: member.get(),
        account_id: record.account.map(AccountId::get),
        devices_revoked: record.devices_revoked.len(),
        sessions_ended: record.sessions_ended,
        sign_ins_deleted: record.sign_ins_deleted,
        notes_deleted: record.notes_deleted,
        audit_seq: record.audit_seq,
    }))
}

/// An Argon2 hash of 32 random bytes that are then forgotten: a well-formed hash no
/// password matches, so the erased account's sign-in fails like any wrong password.
async fn unusable_hash(state: &AppState) -> Result<String, ApiError> {
    let hasher = state.hasher.clone();
    let rng = state.rng.clone();
    tokio::task::spawn_blocking(move || {
        let mut secret = zeroize::Zeroizing::new([0u8; 32]);
        rng.fill(secret.as_mut())
            .map_err(|_| ApiError::internal("no randomness for the erased password"))?;
        let text = zeroize::Zeroizing::new(
            secret
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>(),
        );
        hasher
            .hash(&text, rng.as_ref())
            .map_err(|e| ApiError::internal(format!("erased password hash: {e}")))
    })
    .await
    .map_err(|e| ApiError::internal(format!("erased password task: {e}")))?
}
