//! The HTTP client for one provisioned server: reqwest over the pinned rustls
//! configuration, HTTPS only, with failures sorted into [`SyncError`]s.

use std::time::Duration;

use canopy_core::provisioning::Provisioning;
use canopy_core::sync::codec::MAX_COMPRESSED;

use crate::error::SyncError;
use crate::tls;

/// A client bound to the provisioned server.
#[derive(Debug, Clone)]
pub struct ServerClient {
    http: reqwest::Client,
    base: String,
}

impl ServerClient {
    pub fn new(provisioning: &Provisioning) -> Result<Self, SyncError> {
        let config = tls::client_config(provisioning)?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(config)
            .https_only(true)
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| SyncError::Config(e.to_string()))?;
        Ok(Self {
            http,
            base: provisioning.server_url.trim_end_matches('/').to_owned(),
        })
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The full URL of an API path (`/v1/…`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POSTs `body` to a sync endpoint and reads its binary answer: `None` for a 404 (the
    /// caller knows what an unknown checkpoint or cursor means), an error answer sorted
    /// into a [`SyncError`], and a body larger than the codec accepts refused before it is
    /// read. `what` names the message in that refusal.
    pub(crate) async fn post_sync(
        &self,
        path: &str,
        access_token: &str,
        body: &serde_json::Value,
        what: &str,
    ) -> Result<Option<Vec<u8>>, SyncError> {
        let response = self
            .http
            .post(self.url(path))
            .bearer_auth(access_token)
            .json(body)
            .send()
            .await
            .map_err(SyncError::from_request)?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(SyncError::from_response(response).await);
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_COMPRESSED as u64)
        {
            return Err(SyncError::Protocol(format!("{what} larger than allowed")));
        }
        let body = response.bytes().await.map_err(SyncError::from_request)?;
        Ok(Some(body.to_vec()))
    }

    /// Checks that the server is reachable and genuine (`GET /v1/health`).
    pub async fn health(&self) -> Result<(), SyncError> {
        let response = self
            .http
            .get(self.url("/v1/health"))
            .send()
            .await
            .map_err(SyncError::from_request)?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(SyncError::from_response(response).await)
        }
    }
}
