//! The person's session on this device, as a state machine the commands drive: signed
//! out → password → code (or setting up an authenticator first) → the local password that
//! creates or opens the encrypted cache → unlocked, with the sync running → locked (the
//! cache closed, the sync stopped) → unlocked again with the local password, offline.
//!
//! Nothing here knows Tauri: the commands wrap it, and the tests drive it directly against
//! the real server, a real vault and a real cache.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use canopy_core::Role;
use canopy_core::ipc::SessionView;
use canopy_store::{Credentials, KdfParams, Store, StoreError, Vault};
use canopy_sync::auth::{self, DeviceKey, DeviceToUse, KnownDevice, SecondFactor, SignInStep};
use canopy_sync::runner::{self, SyncHandle};
use canopy_sync::schedule::Policy;
use canopy_sync::{ServerClient, SyncError};
use tokio::sync::watch;
use zeroize::Zeroizing;

/// The shortest local password accepted for the cache (SECURITY.md: the local password
/// guards the whole cache offline; the Argon2id envelope makes each guess cost ~0.5 s).
pub const MIN_LOCAL_PASSWORD: usize = 10;
/// How long before its expiry an access token is refreshed.
const REFRESH_AHEAD: Duration = Duration::from_secs(60);
/// Waits between refresh attempts while the server can't be reached.
const REFRESH_RETRY: Duration = Duration::from_secs(30);

/// Where the session stands.
enum Stage {
    SignedOut,
    /// The password was right: waiting for the code. On a device with a cache, the cache
    /// is already open (its key signed the sign-in) but shown to no one yet.
    Code {
        mfa_token: String,
        device: Option<(Store, KnownDevice)>,
    },
    /// The account has no second factor: the authenticator being set up.
    SettingUp {
        email: String,
        enrollment_token: String,
        secret: String,
        otpauth_uri: String,
    },
    /// Signed in online for the first time on this device (a device with a cache goes
    /// straight to unlocked): waiting for the local password that creates the cache.
    Online {
        tokens: auth::Session,
        key: DeviceKey,
    },
    Unlocked(Unlocked),
    /// A cache exists and is closed.
    Locked,
}

/// An open cache with its sync and its token keeper running.
struct Unlocked {
    store: Arc<Store>,
    sync: SyncHandle,
    keeper: tokio::task::JoinHandle<()>,
    /// The access token the keeper keeps live (`None` offline or once the session ended).
    tokens: watch::Receiver<Option<String>>,
}

/// What the password step asks for next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterPassword {
    Code,
    /// Set up an authenticator: type `secret` or scan `otpauth_uri`, then confirm a code.
    SetUp {
        secret: String,
        otpauth_uri: String,
    },
}

/// Why a step failed, as the person should hear it.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("{0}")]
    Sync(#[from] SyncError),
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The step doesn't fit where the session is (a stale screen).
    #[error("{0}")]
    OutOfOrder(&'static str),
    #[error("{0}")]
    Invalid(String),
}

pub struct Session {
    client: ServerClient,
    vault: Vault,
    device_name: String,
    policy: Policy,
    stage: Stage,
    /// The person's last input in the window (the idle lock counts from it).
    last_activity: Instant,
    /// Whether the cache's page caches were given back since that input.
    trimmed: bool,
}

/// Idle this long, the open cache gives its page caches' memory back
/// ([`canopy_store::Database::release_memory`]) until the next input.
const TRIM_AFTER: Duration = Duration::from_secs(30);

/// What [`Session::guard`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guarded {
    Nothing,
    /// Idle past the auto-lock time: the cache was closed.
    Locked,
    /// The server revoked this device: the cache was wiped (SECURITY.md #19).
    Wiped,
}

impl Session {
    /// A session over the cache in `vault`, talking to the provisioned server.
    pub fn new(client: ServerClient, vault: Vault, device_name: impl Into<String>) -> Self {
        let stage = if vault.exists() {
            Stage::Locked
        } else {
            Stage::SignedOut
        };
        Self {
            client,
            vault,
            device_name: device_name.into(),
            policy: Policy::default(),
            stage,
            last_activity: Instant::now(),
            trimmed: false,
        }
    }

    /// The person did something in the window.
    pub fn touch(&mut self, now: Instant) {
        self.last_activity = now;
        self.trimmed = false;
    }

    /// Run every few seconds: locks the cache after the idle time the company's policy
    /// allows (the user's choice, capped), and wipes it when the sync learned that the
    /// server revoked this device.
    pub async fn guard(&mut self, now: Instant) -> Guarded {
        let Stage::Unlocked(u) = &self.stage else {
            return Guarded::Nothing;
        };
        if u.sync.status().revoked {
            let Stage::Unlocked(u) = std::mem::replace(&mut self.stage, Stage::SignedOut) else {
                return Guarded::Nothing;
            };
            u.keeper.abort();
            let _ = u.keeper.await;
            u.sync.stop().await;
            let store = Arc::try_unwrap(u.store).ok();
            if let Err(e) = self.vault.wipe(store) {
                tracing::error!(error = %e, "the revoked device's cache could not be wiped");
            }
            return Guarded::Wiped;
        }
        let policy = u.store.lock_policy().unwrap_or_default();
        let chosen = u.store.auto_lock().ok().flatten();
        let idle = now.saturating_duration_since(self.last_activity);
        if idle >= policy.auto_lock_after(chosen) {
            self.lock().await;
            return Guarded::Locked;
        }
        if idle >= TRIM_AFTER && !self.trimmed {
            if let Err(e) = u.store.database().release_memory() {
                tracing::warn!(error = %e, "the cache's page caches could not be released");
            }
            self.trimmed = true;
        }
        Guarded::Nothing
    }

    /// The sync's timing (the tests make it fast).
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Which screen the UI shows.
    pub fn view(&self) -> SessionView {
        match &self.stage {
            Stage::SignedOut => SessionView::SignedOut {
                has_cache: self.vault.exists(),
            },
            Stage::Code { .. } => SessionView::Code,
            Stage::SettingUp {
                secret,
                otpauth_uri,
                ..
            } => SessionView::SetUp {
                secret: secret.clone(),
                otpauth_uri: otpauth_uri.clone(),
            },
            Stage::Online { .. } => SessionView::LocalPassword {
                min_length: MIN_LOCAL_PASSWORD,
            },
            Stage::Unlocked(u) => SessionView::Unlocked {
                // A cache from before roles were kept shows the fewest menus until the
                // next refresh states the role.
                role: u
                    .store
                    .account_role()
                    .ok()
                    .flatten()
                    .unwrap_or(Role::Distributor),
            },
            Stage::Locked => SessionView::Locked,
        }
    }

    /// Back to the start of the sign-in (the person pressed "cancel"); an open cache stays
    /// open.
    pub fn cancel(&mut self) {
        if !self.is_unlocked() {
            self.stage = if self.vault.exists() {
                Stage::Locked
            } else {
                Stage::SignedOut
            };
        }
    }

    /// Whether a cache exists on this device (so "unlock" is possible offline).
    pub fn has_cache(&self) -> bool {
        self.vault.exists()
    }

    pub fn is_unlocked(&self) -> bool {
        matches!(self.stage, Stage::Unlocked(_))
    }

    /// The open cache, if unlocked.
    pub fn store(&self) -> Option<&Arc<Store>> {
        match &self.stage {
            Stage::Unlocked(u) => Some(&u.store),
            _ => None,
        }
    }

    /// The session's current access token, if unlocked and the server gave one.
    pub fn access_token(&self) -> Option<String> {
        match &self.stage {
            Stage::Unlocked(u) => u.tokens.borrow().clone(),
            _ => None,
        }
    }

    /// The client of the provisioned server.
    pub fn client(&self) -> &ServerClient {
        &self.client
    }

    /// The vault holding this device's cache.
    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    /// The running sync, if unlocked.
    pub fn sync(&self) -> Option<&SyncHandle> {
        match &self.stage {
            Stage::Unlocked(u) => Some(&u.sync),
            _ => None,
        }
    }

    /// The password step. On a device that has a cache, `local_password` opens it first,
    /// so its key can sign the sign-in as this device (the server won't let a known device
    /// sign in unproven, and registering another device each time would clutter the
    /// person's device list).
    pub async fn sign_in(
        &mut self,
        email: &str,
        password: &str,
        local_password: Option<&str>,
    ) -> Result<AfterPassword, SessionError> {
        if self.is_unlocked() {
            return Err(SessionError::OutOfOrder("You are already signed in"));
        }
        let device = if self.vault.exists() {
            let local = local_password
                .ok_or_else(|| SessionError::Invalid("Enter this device's password too".into()))?;
            let store = self.vault.open_for_sign_in(local, SystemTime::now())?;
            let c = store.credentials()?.ok_or(SessionError::OutOfOrder(
                "This cache holds no device key: remove it and sign in again",
            ))?;
            let key = DeviceKey::from_pkcs8(&c.device_key)?;
            Some((
                store,
                KnownDevice {
                    id: c.device_id,
                    key,
                },
            ))
        } else {
            None
        };
        let proof = device.as_ref().map(|(_, d)| d);
        match self.client.sign_in(email, password, proof).await? {
            SignInStep::SecondFactor { mfa_token, .. } => {
                self.stage = Stage::Code { mfa_token, device };
                Ok(AfterPassword::Code)
            }
            SignInStep::SetUpSecondFactor {
                enrollment_token, ..
            } => {
                let setup = self.client.set_up_mfa(&enrollment_token).await?;
                self.stage = Stage::SettingUp {
                    email: email.trim().to_owned(),
                    enrollment_token,
                    secret: setup.secret.clone(),
                    otpauth_uri: setup.otpauth_uri.clone(),
                };
                Ok(AfterPassword::SetUp {
                    secret: setup.secret,
                    otpauth_uri: setup.otpauth_uri,
                })
            }
        }
    }

    /// Confirms the new authenticator with a code from it: the recovery codes, to show
    /// once. The person then signs in again with a code (returns the email to prefill).
    pub async fn confirm_set_up(
        &mut self,
        code: &str,
    ) -> Result<(String, Vec<String>), SessionError> {
        let Stage::SettingUp {
            email,
            enrollment_token,
            ..
        } = &self.stage
        else {
            return Err(SessionError::OutOfOrder("Start again from the sign-in"));
        };
        let codes = self.client.confirm_mfa(enrollment_token, code).await?;
        let email = email.clone();
        self.stage = Stage::SignedOut;
        Ok((email, codes))
    }

    /// The code step. On a first sign-in the local password that creates the cache comes
    /// next ([`Session::open_cache`]); on a device with a cache, it is open already and the
    /// session is unlocked at once (returns `true`).
    pub async fn second_factor(&mut self, factor: &SecondFactor) -> Result<bool, SessionError> {
        let Stage::Code { mfa_token, device } = &self.stage else {
            return Err(SessionError::OutOfOrder("Start again from the sign-in"));
        };
        let (tokens, key) = match device {
            Some((_, known)) => {
                let tokens = self
                    .client
                    .second_factor(mfa_token, factor, DeviceToUse::Known(known.id))
                    .await?;
                let Stage::Code {
                    device: Some((store, known)),
                    ..
                } = std::mem::replace(&mut self.stage, Stage::Locked)
                else {
                    return Err(SessionError::OutOfOrder("Start again from the sign-in"));
                };
                store.write(|w| {
                    w.put_online_sign_in(SystemTime::now())?;
                    w.put_account_role(tokens.role)?;
                    w.put_refresh_token(&tokens.refresh_token)
                })?;
                self.start(store, known, Some(tokens));
                return Ok(true);
            }
            None => {
                let key = DeviceKey::generate()?;
                let tokens = self
                    .client
                    .second_factor(
                        mfa_token,
                        factor,
                        DeviceToUse::New {
                            name: &self.device_name,
                            key: &key,
                        },
                    )
                    .await?;
                (tokens, key)
            }
        };
        self.stage = Stage::Online { tokens, key };
        Ok(false)
    }

    /// After a first online sign-in: creates the cache under `password`, keeps the
    /// device's credentials in it and starts the sync.
    pub async fn open_cache(&mut self, password: &str, remember: bool) -> Result<(), SessionError> {
        let Stage::Online { .. } = &self.stage else {
            return Err(SessionError::OutOfOrder("Sign in first"));
        };
        check_local_password(password)?;
        let store = self
            .vault
            .create(password, KdfParams::DEFAULT, SystemTime::now())?;
        let Stage::Online { tokens, key } = std::mem::replace(&mut self.stage, Stage::Locked)
        else {
            return Err(SessionError::OutOfOrder("Sign in first"));
        };
        store.write(|w| {
            w.put_credentials(&Credentials {
                device_id: tokens.device_id,
                device_key: Zeroizing::new(key.pkcs8().to_vec()),
                refresh_token: Zeroizing::new(tokens.refresh_token.clone()),
            })?;
            w.put_account_role(tokens.role)
        })?;
        if remember {
            self.vault.remember(&store)?;
        }
        let device = KnownDevice {
            id: tokens.device_id,
            key,
        };
        self.start(store, device, Some(tokens));
        Ok(())
    }

    /// Offline unlock with the local password. The sync starts with a fresh access token
    /// once the server can be reached.
    pub async fn unlock(&mut self, password: &str) -> Result<(), SessionError> {
        if !matches!(self.stage, Stage::Locked | Stage::SignedOut) || !self.vault.exists() {
            return Err(SessionError::OutOfOrder("There is nothing to unlock"));
        }
        let store = self.vault.unlock(password, SystemTime::now())?;
        let credentials = store.credentials()?.ok_or(SessionError::OutOfOrder(
            "This cache holds no session: sign in online",
        ))?;
        let device = KnownDevice {
            id: credentials.device_id,
            key: DeviceKey::from_pkcs8(&credentials.device_key)?,
        };
        self.start(store, device, None);
        Ok(())
    }

    /// Closes the cache: the sync stops (cleanly, between two writes), the token keeper
    /// stops, and the key leaves memory with the store.
    pub async fn lock(&mut self) {
        if let Stage::Unlocked(u) = std::mem::replace(&mut self.stage, Stage::Locked) {
            u.keeper.abort();
            let _ = u.keeper.await;
            u.sync.stop().await;
            drop(u.store);
        }
        if !self.vault.exists() {
            self.stage = Stage::SignedOut;
        }
    }

    fn start(&mut self, store: Store, device: KnownDevice, tokens: Option<auth::Session>) {
        self.last_activity = Instant::now();
        let store = Arc::new(store);
        let (token_tx, token_rx) = watch::channel(tokens.as_ref().map(|t| t.access_token.clone()));
        let sync = runner::spawn(
            self.client.clone(),
            store.clone(),
            token_rx.clone(),
            self.policy,
        );
        let keeper = tokio::spawn(keep_tokens(
            self.client.clone(),
            store.clone(),
            device,
            tokens,
            token_tx,
        ));
        self.stage = Stage::Unlocked(Unlocked {
            store,
            sync,
            keeper,
            tokens: token_rx,
        });
    }
}

/// Keeps a live access token in `tokens` for the sync: refreshes it (signed with the
/// device's key) before it expires, keeps each new refresh token in the cache, and waits
/// and tries again while the server can't be reached. A refused refresh (the session
/// ended, the device revoked) clears the token: the sync reports that a sign-in is needed.
async fn keep_tokens(
    client: ServerClient,
    store: Arc<Store>,
    device: KnownDevice,
    mut current: Option<auth::Session>,
    tokens: watch::Sender<Option<String>>,
) {
    loop {
        if let Some(session) = &current {
            let left = session.access_expires_at - time::OffsetDateTime::now_utc();
            let wait = Duration::try_from(left)
                .unwrap_or_default()
                .saturating_sub(REFRESH_AHEAD);
            tokio::time::sleep(wait).await;
        }
        let refresh_token = match &current {
            Some(session) => Zeroizing::new(session.refresh_token.clone()),
            None => match store.credentials() {
                Ok(Some(c)) => c.refresh_token,
                Ok(None) | Err(_) => {
                    let _ = tokens.send(None);
                    return;
                }
            },
        };
        match client.refresh(&refresh_token, &device).await {
            Ok(fresh) => {
                let kept = store.write(|w| {
                    w.put_refresh_token(&fresh.refresh_token)?;
                    w.put_account_role(fresh.role)
                });
                if let Err(e) = kept {
                    tracing::error!(error = %e, "could not keep the new refresh token");
                }
                let _ = tokens.send(Some(fresh.access_token.clone()));
                current = Some(fresh);
            }
            Err(e) if e.is_retryable() => {
                tracing::info!(error = %e, "token refresh postponed");
                tokio::time::sleep(REFRESH_RETRY).await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "the session can't be refreshed: sign in again");
                let _ = tokens.send(None);
                return;
            }
        }
    }
}

/// The local password's rule, checked before a cache is made with it.
pub fn check_local_password(password: &str) -> Result<(), SessionError> {
    if password.chars().count() < MIN_LOCAL_PASSWORD {
        return Err(SessionError::Invalid(format!(
            "Choose a password of at least {MIN_LOCAL_PASSWORD} characters for this device"
        )));
    }
    Ok(())
}
