//! The one error type handlers return, turned into problem documents with clear messages:
//! a server fault is logged (without secrets) and shown as a plain 500, never its internals.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::problem::Problem;
use crate::storage::StorageError;

/// The message for every failed password check, whatever the reason (unknown email, wrong
/// password, disabled account), so the answer does not say which addresses exist.
pub const SIGN_IN_FAILED: &str = "The email or password is not right";

/// What a person sees when a session or token no longer works.
pub const SIGN_IN_AGAIN: &str = "Your session has ended: sign in again";

/// What a person sees when the server's disk is full and a write was refused.
/// The app keeps an unsent command in its outbox and sends it again (any 5xx is retryable).
pub const DISK_FULL: &str = "The server's disk is full, so nothing was saved: try again later";

/// What a person sees when the database can't be reached for a moment.
pub const DATABASE_UNAVAILABLE: &str =
    "The server can't reach its database right now, so nothing was saved: try again shortly";

/// Why a request failed, in terms of what the client should do.
#[derive(Debug)]
pub enum ApiError {
    /// The request itself is malformed (400).
    BadRequest(String),
    /// Well-formed but not acceptable, e.g. a field out of range (422).
    Invalid(String),
    /// Credentials were refused (401); `detail` says what to do.
    Unauthorized(String),
    /// The token belongs to a device an admin or its owner revoked (401, its own problem
    /// type): the app wipes its local cache.
    DeviceRevoked,
    /// Not allowed for this caller (403).
    Forbidden(String),
    NotFound(String),
    Conflict(String),
    /// Too many attempts: wait this many seconds (429 with `Retry-After`).
    Throttled {
        retry_after: u64,
    },
    /// The server's disk is full: the write was refused whole, and trying again once
    /// there is space will work (503).
    StorageFull,
    /// The database can't be reached for now (503 with a short Retry-After).
    Unavailable(String),
    /// A fault on the server; `context` goes to the log only.
    Internal(String),
}

impl ApiError {
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::BadRequest(detail.into())
    }

    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::Invalid(detail.into())
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::Unauthorized(detail.into())
    }

    pub fn sign_in_failed() -> Self {
        Self::Unauthorized(SIGN_IN_FAILED.to_owned())
    }

    pub fn session_ended() -> Self {
        Self::Unauthorized(SIGN_IN_AGAIN.to_owned())
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::NotFound(detail.into())
    }

    /// Logs `context` (which must hold no secrets) and answers a generic 500.
    pub fn internal(context: impl Into<String>) -> Self {
        Self::Internal(context.into())
    }
}

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::NotFound => Self::not_found("Not found."),
            StorageError::Conflict(conflict) => Self::Conflict(capitalise(&conflict.to_string())),
            StorageError::Full => Self::StorageFull,
            StorageError::Unavailable(backend) => Self::Unavailable(backend.to_string()),
            // The backend's Display is the database's message (constraint names, never
            // bound values), which is safe for the server log.
            StorageError::Backend(backend) => Self::internal(format!("storage: {backend}")),
            other => Self::internal(format!("storage: {other}")),
        }
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect::<String>() + "."
    })
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::BadRequest(detail) => {
                Problem::new(StatusCode::BAD_REQUEST, "bad-request", detail).into_response()
            }
            ApiError::Invalid(detail) => {
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", detail).into_response()
            }
            ApiError::DeviceRevoked => {
                let mut response = Problem::new(
                    StatusCode::UNAUTHORIZED,
                    "device-revoked",
                    "This device has been revoked: its local data is removed. \
                     Sign in again to use Canopy here.",
                )
                .into_response();
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                response
            }
            ApiError::Unauthorized(detail) => {
                let mut response =
                    Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", detail).into_response();
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                response
            }
            ApiError::Forbidden(detail) => {
                Problem::new(StatusCode::FORBIDDEN, "forbidden", detail).into_response()
            }
            ApiError::NotFound(detail) => Problem::not_found(detail).into_response(),
            ApiError::Conflict(detail) => {
                Problem::new(StatusCode::CONFLICT, "conflict", detail).into_response()
            }
            ApiError::Throttled { retry_after } => {
                let wait = if retry_after == 1 {
                    "1 second".to_owned()
                } else {
                    format!("{retry_after} seconds")
                };
                let mut problem = Problem::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too-many-attempts",
                    format!("Too many attempts: try again in {wait}"),
                );
                problem.retry_after = Some(retry_after);
                let mut response = problem.into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
                response
            }
            // 503 rather than 507 Insufficient Storage: 507 comes from WebDAV and generic
            // clients and proxies don't know it, while 503 says to everyone "a temporary
            // state of the server: try again later", which is what a device should do (the
            // sync treats any 5xx as retryable and keeps the command in its outbox). The
            // problem type names the cause.
            ApiError::StorageFull => {
                tracing::error!(
                    "a write was refused: the database's disk is full; free some space"
                );
                Problem::new(StatusCode::SERVICE_UNAVAILABLE, "storage-full", DISK_FULL)
                    .into_response()
            }
            ApiError::Unavailable(context) => {
                tracing::warn!(%context, "the database can't be reached");
                let mut response = Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database-unavailable",
                    DATABASE_UNAVAILABLE,
                )
                .into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(5));
                response
            }
            ApiError::Internal(context) => {
                tracing::error!(%context, "request failed on the server");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server-error",
                    "Something went wrong on the server",
                )
                .into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Conflict;

    #[test]
    fn storage_errors_become_safe_answers() {
        let cases = [
            (StorageError::NotFound, StatusCode::NOT_FOUND),
            (
                StorageError::Conflict(Conflict::DeviceKeyTaken),
                StatusCode::CONFLICT,
            ),
            (
                StorageError::backend(std::io::Error::other("disk on fire")),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
            (
                StorageError::Invalid("the device has been revoked"),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
        ];
        for (error, status) in cases {
            assert_eq!(ApiError::from(error).into_response().status(), status);
        }
        let conflict = ApiError::from(StorageError::Conflict(Conflict::DeviceKeyTaken));
        assert!(
            matches!(&conflict, ApiError::Conflict(d) if d == "This device key is already registered.")
        );
    }

    #[tokio::test]
    async fn a_full_disk_is_a_temporary_refusal_with_a_clear_message() {
        let error = ApiError::from(StorageError::Full);
        assert!(matches!(error, ApiError::StorageFull));
        let response = error.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
            .await
            .unwrap();
        let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(problem["status"], 503);
        assert_eq!(
            problem["type"],
            "https://canopy.invalid/problems/storage-full"
        );
        assert_eq!(problem["detail"], DISK_FULL);
    }

    #[test]
    fn an_unreachable_database_is_a_temporary_refusal() {
        let error = ApiError::from(StorageError::unavailable("connection closed"));
        let response = error.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "5");
    }

    #[test]
    fn throttling_says_how_long_to_wait() {
        let response = ApiError::Throttled { retry_after: 8 }.into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "8");
    }
}
