//! Request extractors with problem-document rejections: strict JSON bodies and the Bearer
//! access token (checked against the database on every request, so revocation is instant).

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use super::problem::Problem;
use crate::app::{AppState, token_hash};
use crate::auth::{Token, TokenKind};
use crate::storage::AccessGrant;

/// A JSON body whose problems come back as problem documents: 415 without a JSON content
/// type, 400 for broken JSON, 422 for the wrong shape (unknown fields included), 413 when
/// too large. The target types use `#[serde(deny_unknown_fields)]`.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::rejection::JsonRejection;
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => {
                let status = rejection.status();
                let (kind, detail) = match &rejection {
                    JsonRejection::JsonDataError(e) => (
                        "invalid-body",
                        format!(
                            "The request body has the wrong shape: {}",
                            serde_detail(&e.body_text())
                        ),
                    ),
                    JsonRejection::JsonSyntaxError(e) => (
                        "invalid-json",
                        format!(
                            "The request body is not valid JSON: {}",
                            serde_detail(&e.body_text())
                        ),
                    ),
                    JsonRejection::MissingJsonContentType(_) => (
                        "unsupported-media-type",
                        "Send the request body as JSON, with Content-Type: application/json"
                            .to_owned(),
                    ),
                    _ if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                        ("body-too-large", "The request body is too large".to_owned())
                    }
                    _ => (
                        "bad-request",
                        "The request body could not be read".to_owned(),
                    ),
                };
                Err(Problem::new(status, kind, detail).into_response())
            }
        }
    }
}

/// serde's own message without axum's preamble, e.g. "unknown field `colour`, expected
/// one of `email`, `password` at line 1 column 9".
fn serde_detail(text: &str) -> String {
    let text = text.split_once(": ").map_or(text, |(_, rest)| rest).trim();
    // A message this long is not helping anyone; keep the answer small.
    text.chars().take(300).collect()
}

/// The caller of an authenticated endpoint: a live access token (unexpired, in a live
/// session, on a live device, of an enabled account), re-checked on every request.
pub struct Authenticated(pub AccessGrant);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let text = bearer(parts).ok_or_else(|| {
            ApiError::unauthorized("Sign in first: this endpoint needs an access token")
        })?;
        let token = Token::parse(text, TokenKind::Access)
            .map_err(|e| ApiError::unauthorized(e.to_string()))?;
        let hash = token_hash(&token);
        match state.storage.find_access_token(hash, state.now()).await? {
            Some(grant) => Ok(Self(grant)),
            None if state.storage.token_device_revoked(hash).await? => Err(ApiError::DeviceRevoked),
            None => Err(ApiError::session_ended()),
        }
    }
}

/// The token of an `Authorization: Bearer …` header.
pub fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}
