//! Signing in from the app: password, then the second factor (a TOTP code or a recovery
//! code), or setting up two-step sign-in for an account that has none; refreshing the
//! session with the device's key; signing out. Each failure keeps the server's words (a
//! wrong password, a wait after too many attempts) so the app can show them as they are.
//!
//! The device key is Ed25519 (ring). The app registers it at its first sign-in on a device
//! and keeps it in the encrypted cache; later sign-ins and every refresh are signed with it.

use canopy_core::auth::{refresh_message, sign_in_message};
use data_encoding::{BASE64, HEXLOWER};
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::client::ServerClient;
use crate::error::SyncError;

/// This device's signing key (PKCS#8, kept secret: wiped from memory when dropped).
pub struct DeviceKey {
    pkcs8: Zeroizing<Vec<u8>>,
    pair: Ed25519KeyPair,
}

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceKey")
            .field("public_key", &self.public_key_base64())
            .finish_non_exhaustive()
    }
}

impl DeviceKey {
    /// A new random key.
    pub fn generate() -> Result<Self, SyncError> {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map_err(|_| SyncError::Config("the system could not make a device key".into()))?;
        Self::from_pkcs8(pkcs8.as_ref())
    }

    /// A key kept earlier ([`DeviceKey::pkcs8`]).
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, SyncError> {
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8)
            .map_err(|_| SyncError::Config("the stored device key is damaged".into()))?;
        Ok(Self {
            pkcs8: Zeroizing::new(pkcs8.to_vec()),
            pair,
        })
    }

    /// The secret form, to keep in the encrypted cache.
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    pub fn public_key_base64(&self) -> String {
        BASE64.encode(self.pair.public_key().as_ref())
    }

    fn sign(&self, message: &str) -> String {
        BASE64.encode(self.pair.sign(message.as_bytes()).as_ref())
    }
}

/// A device the server knows: its id and its key.
#[derive(Debug)]
pub struct KnownDevice {
    pub id: i64,
    pub key: DeviceKey,
}

/// What the password step leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInStep {
    /// Send a code from the authenticator (or a recovery code) with this token.
    SecondFactor {
        mfa_token: String,
        expires_at: OffsetDateTime,
    },
    /// The account has no second factor yet: set one up with this token first.
    SetUpSecondFactor {
        enrollment_token: String,
        expires_at: OffsetDateTime,
    },
}

/// The second factor as the person typed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecondFactor {
    Code(String),
    RecoveryCode(String),
}

/// A signed-in session's tokens.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct Session {
    pub access_token: String,
    #[serde(with = "time::serde::rfc3339")]
    pub access_expires_at: OffsetDateTime,
    pub refresh_token: String,
    #[serde(with = "time::serde::rfc3339")]
    pub refresh_expires_at: OffsetDateTime,
    pub device_id: i64,
    /// The account's role now: the app shows only the menus it may use.
    pub role: canopy_core::Role,
    /// The member the account is linked to.
    pub member: Option<i64>,
}

/// Tokens are secrets: never printed.
impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("access_expires_at", &self.access_expires_at)
            .field("refresh_expires_at", &self.refresh_expires_at)
            .field("device_id", &self.device_id)
            .finish_non_exhaustive()
    }
}

/// A new authenticator to add: the secret to type, and the `otpauth://` URI for a QR code.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MfaSetup {
    pub secret: String,
    pub otpauth_uri: String,
}

impl ServerClient {
    /// The password step. With `device`, the sign-in is signed by a device the server
    /// knows (not slowed by failures elsewhere).
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        device: Option<&KnownDevice>,
    ) -> Result<SignInStep, SyncError> {
        let mut body = json!({ "email": email, "password": password });
        if let Some(device) = device {
            let timestamp = OffsetDateTime::now_utc().unix_timestamp();
            body["device"] = json!({
                "id": device.id,
                "timestamp": timestamp,
                "signature": device.key.sign(&sign_in_message(device.id, timestamp, email)),
            });
        }
        #[derive(Deserialize)]
        struct Answer {
            mfa_required: bool,
            mfa_token: Option<String>,
            enrollment_token: Option<String>,
            #[serde(with = "time::serde::rfc3339")]
            expires_at: OffsetDateTime,
        }
        let answer: Answer = self.post_json("/v1/auth/sign-in", None, &body).await?;
        match (
            answer.mfa_required,
            answer.mfa_token,
            answer.enrollment_token,
        ) {
            (true, Some(mfa_token), _) => Ok(SignInStep::SecondFactor {
                mfa_token,
                expires_at: answer.expires_at,
            }),
            (false, _, Some(enrollment_token)) => Ok(SignInStep::SetUpSecondFactor {
                enrollment_token,
                expires_at: answer.expires_at,
            }),
            _ => Err(SyncError::Protocol(
                "the sign-in answer has neither a code step nor a set-up step".into(),
            )),
        }
    }

    /// The second step. A device signing in for the first time registers its key under
    /// `device_name`; a known device names itself by id.
    pub async fn second_factor(
        &self,
        mfa_token: &str,
        factor: &SecondFactor,
        device: DeviceToUse<'_>,
    ) -> Result<Session, SyncError> {
        let mut body = json!({ "mfa_token": mfa_token });
        match factor {
            SecondFactor::Code(code) => body["code"] = json!(code.trim()),
            SecondFactor::RecoveryCode(code) => body["recovery_code"] = json!(code.trim()),
        }
        match device {
            DeviceToUse::New { name, key } => {
                body["device"] = json!({ "name": name, "public_key": key.public_key_base64() });
            }
            DeviceToUse::Known(id) => body["device_id"] = json!(id),
        }
        self.post_json("/v1/auth/mfa", None, &body).await
    }

    /// Starts setting up an authenticator (`bearer`: the enrollment token of a sign-in, or
    /// a session's access token to replace the authenticator).
    pub async fn set_up_mfa(&self, bearer: &str) -> Result<MfaSetup, SyncError> {
        self.post_json("/v1/auth/mfa/enroll", Some(bearer), &json!({}))
            .await
    }

    /// Confirms the new authenticator with a code from it: the recovery codes, shown once.
    pub async fn confirm_mfa(&self, bearer: &str, code: &str) -> Result<Vec<String>, SyncError> {
        #[derive(Deserialize)]
        struct Confirmed {
            recovery_codes: Vec<String>,
        }
        let confirmed: Confirmed = self
            .post_json(
                "/v1/auth/mfa/confirm",
                Some(bearer),
                &json!({ "code": code.trim() }),
            )
            .await?;
        Ok(confirmed.recovery_codes)
    }

    /// A new token pair for the session, signed with the device's key; the old refresh
    /// token is spent.
    pub async fn refresh(
        &self,
        refresh_token: &str,
        device: &KnownDevice,
    ) -> Result<Session, SyncError> {
        let timestamp = OffsetDateTime::now_utc().unix_timestamp();
        let digest = ring::digest::digest(&ring::digest::SHA256, refresh_token.as_bytes());
        let message = refresh_message(device.id, timestamp, &HEXLOWER.encode(digest.as_ref()));
        let body = json!({
            "refresh_token": refresh_token,
            "device_id": device.id,
            "timestamp": timestamp,
            "signature": device.key.sign(&message),
        });
        self.post_json("/v1/auth/refresh", None, &body).await
    }

    /// Ends the session on the server.
    pub async fn sign_out(&self, access_token: &str) -> Result<(), SyncError> {
        let _: Value = self
            .post_json("/v1/auth/sign-out", Some(access_token), &json!({}))
            .await?;
        Ok(())
    }

    async fn post_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        bearer: Option<&str>,
        body: &Value,
    ) -> Result<T, SyncError> {
        let mut request = self.http().post(self.url(path)).json(body);
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        let response = request.send().await.map_err(SyncError::from_request)?;
        if !response.status().is_success() {
            return Err(SyncError::from_response(response).await);
        }
        let text = response.text().await.map_err(SyncError::from_request)?;
        // An empty success (sign-out) reads as JSON null.
        let text = if text.trim().is_empty() {
            "null"
        } else {
            &text
        };
        serde_json::from_str(text)
            .map_err(|e| SyncError::Protocol(format!("an answer from {path} is not readable: {e}")))
    }
}

/// Which device a second step signs in.
#[derive(Debug, Clone, Copy)]
pub enum DeviceToUse<'a> {
    /// First sign-in on this device: register its key.
    New { name: &'a str, key: &'a DeviceKey },
    /// A device registered before.
    Known(i64),
}
