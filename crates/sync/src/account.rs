//! The signed-in person's own security calls: their devices (and revoking one), their
//! recent sign-ins and alerts, proving the second factor again (step-up), new recovery
//! codes and a new account password. Errors keep the server's words, like [`crate::auth`].
//!
//! Every call goes through the pinned [`ServerClient`]; a 401 is a [`SyncError::Server`]
//! (the session ended) or [`SyncError::DeviceRevoked`], as everywhere else.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::auth::SecondFactor;
use crate::client::ServerClient;
use crate::error::SyncError;

/// One of the person's devices, as the server lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Device {
    pub id: i64,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_seen_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    /// The device the request came from.
    pub current: bool,
}

/// One attempt to sign in to the person's account.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SignIn {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub ip: String,
    pub device_id: Option<i64>,
    /// `success`, `wrong_password`, `wrong_second_factor`, `throttled`, …
    pub outcome: String,
}

impl SignIn {
    pub fn succeeded(&self) -> bool {
        self.outcome == "success"
    }

    /// Whether this sign-in registered its device: the server registers a new device in
    /// the very sign-in it records, so both carry the same instant.
    pub fn registered(&self, device: &Device) -> bool {
        self.succeeded() && self.device_id == Some(device.id) && self.at == device.created_at
    }
}

/// A security alert about the person's account.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Alert {
    pub id: i64,
    /// `new_device_sign_in`, `new_ip_sign_in`, …
    pub kind: String,
    /// What the alert says, in the server's words.
    pub title: String,
    /// `info`, `warning` or `critical`.
    pub severity: String,
    /// `open`, `acknowledged` or `resolved`.
    pub state: String,
    /// Addresses, device ids and names behind the alert (never secrets).
    #[serde(default)]
    pub evidence: Value,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// New recovery codes, to show once.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct RecoveryCodes {
    #[serde(rename = "recovery_codes")]
    pub codes: Vec<String>,
    /// What the server asks the person to do with them.
    pub detail: String,
}

/// The codes are secrets: never printed.
impl std::fmt::Debug for RecoveryCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecoveryCodes")
            .field("count", &self.codes.len())
            .finish_non_exhaustive()
    }
}

/// After the account's password changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct PasswordChanged {
    /// Sessions on other devices that were ended.
    pub sessions_ended: u64,
}

impl SecondFactor {
    /// The factor as the server's `code` / `recovery_code` fields.
    fn fields(&self) -> Value {
        match self {
            SecondFactor::Code(code) => json!({ "code": code.trim() }),
            SecondFactor::RecoveryCode(code) => json!({ "recovery_code": code.trim() }),
        }
    }
}

impl ServerClient {
    /// The person's devices, newest first, revoked ones included.
    pub async fn my_devices(&self, access_token: &str) -> Result<Vec<Device>, SyncError> {
        #[derive(Deserialize)]
        struct Devices {
            devices: Vec<Device>,
        }
        let request = self.http().get(self.url("/v1/me/devices"));
        let answer: Devices = self.send(request, access_token).await?;
        Ok(answer.devices)
    }

    /// Revokes one of the person's devices: its sessions end at once and it wipes its
    /// cache when it next calls. Another person's device, or no such device: a 404.
    pub async fn revoke_my_device(&self, access_token: &str, id: i64) -> Result<(), SyncError> {
        let request = self
            .http()
            .delete(self.url(&format!("/v1/me/devices/{id}")));
        let _: Value = self.send(request, access_token).await?;
        Ok(())
    }

    /// The person's last sign-in attempts, newest first.
    pub async fn my_sign_ins(&self, access_token: &str) -> Result<Vec<SignIn>, SyncError> {
        #[derive(Deserialize)]
        struct SignIns {
            sign_ins: Vec<SignIn>,
        }
        let request = self.http().get(self.url("/v1/me/sign-ins"));
        let answer: SignIns = self.send(request, access_token).await?;
        Ok(answer.sign_ins)
    }

    /// The person's last alerts, newest first.
    pub async fn my_alerts(&self, access_token: &str) -> Result<Vec<Alert>, SyncError> {
        #[derive(Deserialize)]
        struct Alerts {
            alerts: Vec<Alert>,
        }
        let request = self.http().get(self.url("/v1/me/alerts"));
        let answer: Alerts = self.send(request, access_token).await?;
        Ok(answer.alerts)
    }

    /// Proves the second factor again in this session: for ten minutes from the answer
    /// (returned), the session may change two-step sign-in.
    pub async fn step_up(
        &self,
        access_token: &str,
        factor: &SecondFactor,
    ) -> Result<OffsetDateTime, SyncError> {
        #[derive(Deserialize)]
        struct SteppedUp {
            #[serde(with = "time::serde::rfc3339")]
            mfa_verified_at: OffsetDateTime,
        }
        let request = self
            .http()
            .post(self.url("/v1/auth/step-up"))
            .json(&factor.fields());
        let answer: SteppedUp = self.send(request, access_token).await?;
        Ok(answer.mfa_verified_at)
    }

    /// Ten new recovery codes; the old ones stop working. Needs a second factor proven in
    /// the last ten minutes ([`ServerClient::step_up`]), or the server answers 403.
    pub async fn regenerate_recovery_codes(
        &self,
        access_token: &str,
    ) -> Result<RecoveryCodes, SyncError> {
        let request = self
            .http()
            .post(self.url("/v1/auth/recovery-codes"))
            .json(&json!({}));
        self.send(request, access_token).await
    }

    /// Changes the account's password, proven by the current one and a second factor;
    /// the server ends the account's other sessions.
    pub async fn change_account_password(
        &self,
        access_token: &str,
        current: &str,
        new: &str,
        factor: &SecondFactor,
    ) -> Result<PasswordChanged, SyncError> {
        let mut body = factor.fields();
        body["current_password"] = json!(current);
        body["new_password"] = json!(new);
        let request = self.http().post(self.url("/v1/auth/password")).json(&body);
        self.send(request, access_token).await
    }

    /// Sends `request` with the bearer token and reads its JSON answer (an empty success
    /// reads as JSON null).
    pub(crate) async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        access_token: &str,
    ) -> Result<T, SyncError> {
        let response = request
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(SyncError::from_request)?;
        if !response.status().is_success() {
            return Err(SyncError::from_response(response).await);
        }
        let path = response.url().path().to_owned();
        let text = response.text().await.map_err(SyncError::from_request)?;
        let text = if text.trim().is_empty() {
            "null"
        } else {
            &text
        };
        serde_json::from_str(text)
            .map_err(|e| SyncError::Protocol(format!("an answer from {path} is not readable: {e}")))
    }
}
