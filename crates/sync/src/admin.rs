//! The admin's calls: listing accounts (by email, a page at a time) and an account's
//! devices, changing a role, disabling, ending sessions, revoking a device, and the admin
//! alerts. Errors keep the server's words, like [`crate::account`].
//!
//! The server lets only admins in, and every change needs a second factor proven in the
//! last ten minutes ([`ServerClient::step_up`]); without one it answers 403.

use canopy_core::Role;
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::client::ServerClient;
use crate::error::SyncError;

/// An account as the admin's list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AdminAccount {
    pub id: i64,
    pub email: String,
    /// `distributor`, `manager` or `admin`.
    pub role: String,
    pub member_id: Option<i64>,
    pub member_number: Option<String>,
    pub member_name: Option<String>,
    pub disabled: bool,
    /// Whether an authenticator app is set up.
    pub mfa_enabled: bool,
    /// Devices not revoked.
    pub devices: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_sign_in_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// One page of accounts, in email order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AccountPage {
    pub accounts: Vec<AdminAccount>,
    /// The cursor of the next page; `None` on the last one.
    pub next_after: Option<i64>,
}

/// One of an account's devices.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AdminDevice {
    pub id: i64,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_seen_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

/// An alert raised for the admins (repeated failures, unusual activity).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AdminAlert {
    pub id: i64,
    pub kind: String,
    /// What the alert says, in the server's words.
    pub title: String,
    /// `info`, `warning` or `critical`.
    pub severity: String,
    /// `open`, `acknowledged` or `resolved`.
    pub state: String,
    /// The account the alert is about.
    pub account_id: Option<i64>,
    /// Ids, addresses and device names behind the alert (never secrets).
    #[serde(default)]
    pub evidence: Value,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub acknowledged_at: Option<OffsetDateTime>,
    pub acknowledged_by: Option<i64>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub resolved_at: Option<OffsetDateTime>,
    pub resolved_by: Option<i64>,
}

/// Which admin alerts to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AlertFilter {
    #[default]
    Open,
    Acknowledged,
    Resolved,
    /// Every state: open ones first.
    All,
}

impl AlertFilter {
    /// The server's word for it.
    pub const fn key(self) -> &'static str {
        match self {
            AlertFilter::Open => "open",
            AlertFilter::Acknowledged => "acknowledged",
            AlertFilter::Resolved => "resolved",
            AlertFilter::All => "all",
        }
    }
}

impl ServerClient {
    /// A page of accounts whose email starts with `query` (any case; all when empty),
    /// after the cursor `after` (the previous page's [`AccountPage::next_after`]); the
    /// server's page size when `limit` is `None`.
    pub async fn admin_accounts(
        &self,
        access_token: &str,
        query: &str,
        after: Option<i64>,
        limit: Option<u32>,
    ) -> Result<AccountPage, SyncError> {
        let mut params: Vec<(&str, String)> = Vec::new();
        if !query.trim().is_empty() {
            params.push(("query", query.trim().to_owned()));
        }
        if let Some(after) = after {
            params.push(("after", after.to_string()));
        }
        if let Some(limit) = limit {
            params.push(("limit", limit.to_string()));
        }
        let request = self
            .http()
            .get(self.url("/v1/admin/accounts"))
            .query(&params);
        self.send(request, access_token).await
    }

    /// An account's devices, newest first, revoked ones included.
    pub async fn admin_account_devices(
        &self,
        access_token: &str,
        account: i64,
    ) -> Result<Vec<AdminDevice>, SyncError> {
        #[derive(Deserialize)]
        struct Devices {
            devices: Vec<AdminDevice>,
        }
        let request = self
            .http()
            .get(self.url(&format!("/v1/admin/accounts/{account}/devices")));
        let answer: Devices = self.send(request, access_token).await?;
        Ok(answer.devices)
    }

    /// Gives an account another role (not the caller's own). Needs a step-up.
    pub async fn admin_change_role(
        &self,
        access_token: &str,
        account: i64,
        role: Role,
    ) -> Result<(), SyncError> {
        let request = self
            .http()
            .post(self.url(&format!("/v1/admin/accounts/{account}/role")))
            .json(&json!({ "role": role.key() }));
        let _: Value = self.send(request, access_token).await?;
        Ok(())
    }

    /// Disables an account (its sessions end at once) or enables it again. Needs a step-up.
    pub async fn admin_set_disabled(
        &self,
        access_token: &str,
        account: i64,
        disabled: bool,
    ) -> Result<(), SyncError> {
        let action = if disabled { "disable" } else { "enable" };
        let request = self
            .http()
            .post(self.url(&format!("/v1/admin/accounts/{account}/{action}")))
            .json(&json!({}));
        let _: Value = self.send(request, access_token).await?;
        Ok(())
    }

    /// Ends every session of an account (it stays enabled): how many ended. Needs a step-up.
    pub async fn admin_end_sessions(
        &self,
        access_token: &str,
        account: i64,
    ) -> Result<u64, SyncError> {
        #[derive(Deserialize)]
        struct Ended {
            sessions_ended: u64,
        }
        let request = self
            .http()
            .post(self.url(&format!("/v1/admin/accounts/{account}/sign-out")))
            .json(&json!({}));
        let answer: Ended = self.send(request, access_token).await?;
        Ok(answer.sessions_ended)
    }

    /// Revokes any account's device: its sessions end at once and it wipes its cache when
    /// it next calls. Needs a step-up.
    pub async fn admin_revoke_device(
        &self,
        access_token: &str,
        device: i64,
    ) -> Result<(), SyncError> {
        let request = self
            .http()
            .delete(self.url(&format!("/v1/admin/devices/{device}")));
        let _: Value = self.send(request, access_token).await?;
        Ok(())
    }

    /// The admin alerts in `filter`'s state, newest first (open ones first for `All`).
    pub async fn admin_alerts(
        &self,
        access_token: &str,
        filter: AlertFilter,
    ) -> Result<Vec<AdminAlert>, SyncError> {
        #[derive(Deserialize)]
        struct Alerts {
            alerts: Vec<AdminAlert>,
        }
        let request = self
            .http()
            .get(self.url("/v1/admin/alerts"))
            .query(&[("state", filter.key())]);
        let answer: Alerts = self.send(request, access_token).await?;
        Ok(answer.alerts)
    }

    /// Marks an admin alert as seen and being looked into. Needs a step-up.
    pub async fn admin_acknowledge_alert(
        &self,
        access_token: &str,
        alert: i64,
    ) -> Result<AdminAlert, SyncError> {
        self.change_alert(access_token, alert, "acknowledge").await
    }

    /// Closes an admin alert. Needs a step-up.
    pub async fn admin_resolve_alert(
        &self,
        access_token: &str,
        alert: i64,
    ) -> Result<AdminAlert, SyncError> {
        self.change_alert(access_token, alert, "resolve").await
    }

    async fn change_alert(
        &self,
        access_token: &str,
        alert: i64,
        action: &str,
    ) -> Result<AdminAlert, SyncError> {
        let request = self
            .http()
            .post(self.url(&format!("/v1/admin/alerts/{alert}/{action}")))
            .json(&json!({}));
        self.send(request, access_token).await
    }
}
