//! Starting and stopping the HTTPS server: binds first (so port 0 works and
//! the caller learns the real port), then serves the router over rustls.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;
use tokio::task::JoinHandle;

use crate::app::{AppState, Clock};
use crate::config::Config;
use crate::routes;
use crate::secrets::{self, SecretsError};
use crate::storage::{self, StorageError};
use crate::tls::{self, TlsError};

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the server stopped: {0}")]
    Io(#[from] std::io::Error),
    #[error("the server task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("cannot open the database: {0}")]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    #[error("cannot set up password hashing: {0}")]
    Hasher(#[from] crate::auth::HashError),
}

/// A server accepting connections on `addr` until it is shut down.
pub struct RunningServer {
    pub addr: SocketAddr,
    handle: Handle<SocketAddr>,
    task: JoinHandle<std::io::Result<()>>,
    /// The open period's projection (`None` when turned off); ends with the server.
    projector: Option<JoinHandle<()>>,
    /// The retention purge (`None` when everything is kept); ends with the server.
    retention: Option<JoinHandle<()>>,
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(projector) = &self.projector {
            projector.abort();
        }
        if let Some(retention) = &self.retention {
            retention.abort();
        }
    }
}

impl RunningServer {
    /// Stop accepting, give open requests a moment to finish, and wait.
    pub async fn shutdown(mut self) -> Result<(), ServeError> {
        if let Some(projector) = self.projector.take() {
            projector.abort();
        }
        if let Some(retention) = self.retention.take() {
            retention.abort();
        }
        self.handle.graceful_shutdown(Some(Duration::from_secs(5)));
        (&mut self.task).await??;
        Ok(())
    }

    /// Stop at once, without grace: stands for a crashed process (the fault tests use it).
    /// The listener closes and every open connection is dropped; requests in flight get no
    /// answer and their handlers are dropped where they stand, so a transaction they had
    /// open rolls back.
    pub fn kill(self) {
        self.handle.shutdown();
        self.task.abort();
        // Dropping `self` stops the background tasks as well.
    }

    /// Serve until the process is stopped.
    pub async fn wait(mut self) -> Result<(), ServeError> {
        (&mut self.task).await??;
        Ok(())
    }
}

/// Open the database named by `config.database.url`, load the sealing keys, and serve.
pub async fn start(config: &Config) -> Result<RunningServer, ServeError> {
    let state = state_for(config, Clock::system()).await?;
    start_with(config, state).await
}

/// The handlers' shared state for `config`: its database, its sealing keys, and the email
/// hashing key derived from the current TOTP key file (see [`email_secret`]).
pub async fn state_for(config: &Config, clock: Clock) -> Result<AppState, ServeError> {
    let storage = storage::open(&config.database.url).await?;
    let keys = secrets::totp_sealing_keys(&config.secrets)?;
    let secret = email_secret(&config.secrets.totp_key_file)?;
    let mut state = AppState::new(storage, keys, secret.as_ref(), clock)?;
    state.max_order_minor = config.limits.max_order_minor;
    state.updates = config.updates.clone().map(Arc::new);
    state.alerts = config.alerts;
    Ok(state)
}

/// A key for hashing typed emails, derived (HMAC-SHA256 with a fixed label) from the TOTP
/// key file, so it is as secret as that key and needs no configuration of its own.
fn email_secret(path: &std::path::Path) -> Result<zeroize::Zeroizing<Vec<u8>>, ServeError> {
    let text = zeroize::Zeroizing::new(std::fs::read_to_string(path).map_err(|source| {
        SecretsError::Read {
            path: path.display().to_string(),
            source,
        }
    })?);
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, text.trim().as_bytes());
    let tag = ring::hmac::sign(&key, b"canopy-email-hash-v1");
    Ok(zeroize::Zeroizing::new(tag.as_ref().to_vec()))
}

/// Bind `config.listen` and serve the API over TLS in a background task, with a given
/// state (tests pass one with a manual clock).
pub async fn start_with(config: &Config, state: AppState) -> Result<RunningServer, ServeError> {
    let tls = tls::server_config(&config.tls.cert, &config.tls.key)?;
    let listener = std::net::TcpListener::bind(config.listen)
        .and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
        .map_err(|source| ServeError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr()?;
    let handle = Handle::new();
    let projector = (config.commissions.projection_minutes > 0).then(|| {
        let every = Duration::from_secs(u64::from(config.commissions.projection_minutes) * 60);
        crate::projection::spawn(state.clone(), every)
    });
    let retention = crate::retention::spawn(state.clone(), config.retention);
    let app = routes::router(state, config.limits.max_body_bytes)
        .into_make_service_with_connect_info::<SocketAddr>();
    let server = axum_server::from_tcp_rustls(listener, RustlsConfig::from_config(Arc::new(tls)))?
        .handle(handle.clone());
    let task = tokio::spawn(server.serve(app));
    tracing::info!(%addr, "canopy-server listening (TLS)");
    Ok(RunningServer {
        addr,
        handle,
        task,
        projector,
        retention,
    })
}
