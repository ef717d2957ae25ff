//! The HTTP API, versioned under `/v1`: the router, its limits, and the one
//! error shape every endpoint answers with (`problem`).

pub mod admin;
pub mod alerts;
pub mod commissions;
pub mod enroll;
pub mod error;
pub mod extract;
pub mod factor;
pub mod gdpr;
pub mod me;
pub mod members;
pub mod openapi;
pub mod pending;
pub mod problem;
pub mod session;
pub mod sign_in;
pub mod statements;
pub mod sync;
pub mod updates;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};
use serde::Serialize;

use crate::app::AppState;
use problem::Problem;

/// The whole API. `max_body_bytes` caps every request body.
pub fn router(state: AppState, max_body_bytes: usize) -> Router {
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/openapi.json", get(openapi::openapi_json))
        .route("/v1/auth/sign-in", post(sign_in::sign_in))
        .route("/v1/auth/mfa", post(sign_in::mfa))
        .route("/v1/auth/mfa/enroll", post(enroll::enroll))
        .route("/v1/auth/mfa/confirm", post(enroll::confirm))
        .route(
            "/v1/auth/recovery-codes",
            post(enroll::regenerate_recovery_codes),
        )
        .route("/v1/auth/refresh", post(session::refresh))
        .route("/v1/auth/sign-out", post(session::sign_out))
        .route("/v1/auth/password", post(session::change_password))
        .route("/v1/auth/step-up", post(session::step_up))
        .route("/v1/me/devices", get(me::list_devices))
        .route("/v1/me/devices/{id}", delete(me::revoke_device))
        .route("/v1/me/sign-ins", get(me::sign_ins))
        .route("/v1/me/alerts", get(alerts::my_alerts))
        .route("/v1/me/export", get(gdpr::export))
        .route("/v1/me/erasure-request", post(gdpr::request_erasure))
        .route("/v1/admin/members/{id}/erase", post(gdpr::erase_member))
        .route("/v1/sync/bootstrap", post(sync::bootstrap))
        .route("/v1/sync/changes", post(sync::changes))
        .route("/v1/sync/push", post(sync::push))
        .route("/v1/sync/statements", post(statements::statements))
        .route("/v1/sync/statements/{period}/lines", get(statements::lines))
        .route("/v1/admin/members/{id}/move", post(admin::move_member))
        .route("/v1/members/{id}", get(members::member))
        .route("/v1/members/{id}/enrollees", get(members::enrollees))
        .route("/v1/admin/accounts", get(admin::list_accounts))
        .route(
            "/v1/admin/accounts/{id}/devices",
            get(admin::account_devices),
        )
        .route(
            "/v1/admin/accounts/{id}/disable",
            post(admin::disable_account),
        )
        .route(
            "/v1/admin/accounts/{id}/enable",
            post(admin::enable_account),
        )
        .route("/v1/admin/accounts/{id}/role", post(admin::change_role))
        .route(
            "/v1/admin/accounts/{id}/sign-out",
            post(admin::end_sessions),
        )
        .route("/v1/admin/devices/{id}", delete(admin::revoke_device))
        .route("/v1/admin/alerts", get(alerts::admin_alerts))
        .route(
            "/v1/admin/alerts/{id}/acknowledge",
            post(alerts::acknowledge),
        )
        .route("/v1/admin/alerts/{id}/resolve", post(alerts::resolve))
        .route("/v1/admin/commissions/{period}", get(commissions::period))
        .route("/v1/admin/commissions/{period}/run", post(commissions::run))
        .route(
            "/v1/admin/commissions/{period}/close",
            post(commissions::close),
        )
        .route(
            "/v1/admin/commissions/{period}/members/{id}",
            get(commissions::member_statement),
        )
        .route("/v1/me/earnings/{period}", get(commissions::my_earnings))
        .route(
            "/v1/updates/{target}/{arch}/{current_version}",
            get(updates::check),
        )
        .route("/v1/releases/{file}", get(updates::artifact))
        .with_state(state)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            max_body_bytes,
        ))
        .layer(axum::middleware::map_response(ensure_problem))
}

/// Every error leaves as a problem document, including those made below the handlers
/// (e.g. the body-limit layer's plain-text 413).
async fn ensure_problem(response: axum::response::Response) -> axum::response::Response {
    use axum::response::IntoResponse;
    let status = response.status();
    let is_problem = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == b"application/problem+json");
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let detail = match status {
        axum::http::StatusCode::PAYLOAD_TOO_LARGE => "The request body is too large",
        s if s.is_server_error() => "Something went wrong on the server",
        _ => "The request could not be handled",
    };
    Problem::new(status, "request-refused", detail).into_response()
}

/// What `/v1/health` answers: enough for a load balancer, nothing secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: &'static str,
    pub version: &'static str,
}

/// Liveness for load balancers.
#[utoipa::path(get, path = "/v1/health", tag = "meta",
    responses((status = 200, description = "The server is up", body = Health)))]
pub async fn health() -> axum::Json<Health> {
    axum::Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

async fn not_found() -> Problem {
    Problem::not_found("There is no such endpoint.")
}

async fn method_not_allowed() -> Problem {
    Problem::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "This endpoint does not take that method.",
    )
}
