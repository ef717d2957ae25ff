//! GDPR calls (SECURITY.md #23): the person's own data export and erasure request, and the
//! admin's erasure of a member. Errors keep the server's words, like [`crate::account`].

use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::ServerClient;
use crate::error::SyncError;

/// What the server erased, as its answer reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ErasureReport {
    pub member_id: i64,
    pub account_id: Option<i64>,
    pub devices_revoked: u64,
    pub sessions_ended: u64,
    pub sign_ins_deleted: u64,
    pub notes_deleted: u64,
    pub audit_seq: i64,
}

impl ServerClient {
    /// Everything the server keeps about the person, as its JSON document
    /// (`canopy-personal-data`, version 1).
    pub async fn my_data(&self, access_token: &str) -> Result<Value, SyncError> {
        let request = self.http().get(self.url("/v1/me/export"));
        let document: Value = self.send(request, access_token).await?;
        if document["format"] != "canopy-personal-data" {
            return Err(SyncError::Protocol(
                "the server's data export is not in a format this app knows".into(),
            ));
        }
        Ok(document)
    }

    /// Asks the company to erase the person's data; the admins get an alert. Returns that
    /// alert's id (the same one while the request is open).
    pub async fn request_erasure(&self, access_token: &str) -> Result<i64, SyncError> {
        #[derive(Deserialize)]
        struct Requested {
            alert_id: i64,
        }
        let request = self
            .http()
            .post(self.url("/v1/me/erasure-request"))
            .json(&json!({}));
        let answer: Requested = self.send(request, access_token).await?;
        Ok(answer.alert_id)
    }

    /// Erases a member's personal data (admin; needs a step-up).
    pub async fn admin_erase_member(
        &self,
        access_token: &str,
        member: i64,
    ) -> Result<ErasureReport, SyncError> {
        let request = self
            .http()
            .post(self.url(&format!("/v1/admin/members/{member}/erase")))
            .json(&json!({}));
        self.send(request, access_token).await
    }
}
