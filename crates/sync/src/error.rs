//! What can go wrong talking to the server, sorted by what the app should do about it:
//! warn of an attack, ask the user, or try again later.

/// A sync failure.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The server's certificate chain is valid but none of its keys is pinned: someone may
    /// be intercepting the connection. Never retried; the app shows a security warning.
    #[error(
        "security warning: the server did not present the keys this app was given, \
         so nothing was sent. Someone may be intercepting the connection."
    )]
    PinMismatch,
    /// The certificate itself failed (expired, wrong name, unknown issuer). Not retried.
    #[error("the server's certificate is not valid: {0}")]
    Certificate(String),
    /// No connection (offline, server down, timeout): retried later.
    #[error("the server can't be reached: {0}")]
    Unreachable(String),
    #[error("the provisioning file is not usable: {0}")]
    Config(String),
    #[error("the server answered {status}: {message}")]
    Server { status: u16, message: String },
    /// Too many attempts (a sign-in, a code): the server's words, and how long it asks to
    /// wait (`Retry-After`).
    #[error("{message}")]
    Throttled {
        wait: std::time::Duration,
        message: String,
    },
    /// The server revoked this device: the app wipes the cache ([`canopy_store::Vault::wipe`])
    /// and asks for a new sign-in.
    #[error("this device has been revoked: its local data is removed; sign in again")]
    DeviceRevoked,
    /// The server's message breaks the protocol (version, size, tokens).
    #[error("the server sent a message this app can't use: {0}")]
    Protocol(String),
    /// The cache and the server disagree on where the sync stands: start that step again.
    #[error("the sync must start again: {0}")]
    Restart(String),
    #[error(transparent)]
    Store(#[from] canopy_store::StoreError),
}

impl SyncError {
    /// Reads an error answer: a problem document's detail, and the device-revoked type.
    pub async fn from_response(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let text = response.text().await.unwrap_or_default();
        let problem: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        if status == 401
            && problem["type"]
                .as_str()
                .is_some_and(|t| t.ends_with("/device-revoked"))
        {
            return SyncError::DeviceRevoked;
        }
        let message = problem["detail"]
            .as_str()
            .map_or(text.clone(), str::to_owned);
        if let (429, Some(secs)) = (status, retry_after) {
            return SyncError::Throttled {
                wait: std::time::Duration::from_secs(secs),
                message,
            };
        }
        SyncError::Server { status, message }
    }

    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            // Also a restart the loop couldn't finish (the server kept losing the
            // snapshot): the next attempt starts afresh.
            SyncError::Unreachable(_) | SyncError::Restart(_) | SyncError::Throttled { .. } => true,
            SyncError::Server { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }

    /// Sorts a reqwest failure: a pin mismatch or a bad certificate is not a network error.
    pub fn from_request(err: reqwest::Error) -> Self {
        if crate::tls::is_pin_mismatch(&err) {
            return SyncError::PinMismatch;
        }
        let text = full_message(&err);
        if text.contains("invalid peer certificate")
            || text.contains("certificate") && err.is_connect()
        {
            return SyncError::Certificate(text);
        }
        SyncError::Unreachable(text)
    }
}

/// The error and its causes in one line.
fn full_message(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut at = err.source();
    while let Some(e) = at {
        text.push_str(": ");
        text.push_str(&e.to_string());
        at = e.source();
    }
    text
}
