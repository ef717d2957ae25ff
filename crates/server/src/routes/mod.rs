//! The HTTP API, versioned under `/v1`: the router, its limits, and the one
//! error shape every endpoint answers with (`problem`).

pub mod problem;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use serde::Serialize;

use problem::Problem;

/// The whole API. `max_body_bytes` caps every request body.
pub fn router(max_body_bytes: usize) -> Router {
    Router::new()
        .route("/v1/health", get(health))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            max_body_bytes,
        ))
}

/// What `/v1/health` answers: enough for a load balancer, nothing secret.
#[derive(Debug, Serialize)]
pub struct Health {
    pub status: &'static str,
    pub version: &'static str,
}

async fn health() -> axum::Json<Health> {
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
