//! Starting and stopping the HTTPS server: binds first (so port 0 works and
//! the caller learns the real port), then serves the router over rustls.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::routes;
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
}

/// A server accepting connections on `addr` until it is shut down.
pub struct RunningServer {
    pub addr: SocketAddr,
    handle: Handle<SocketAddr>,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// Stop accepting, give open requests a moment to finish, and wait.
    pub async fn shutdown(self) -> Result<(), ServeError> {
        self.handle.graceful_shutdown(Some(Duration::from_secs(5)));
        self.task.await??;
        Ok(())
    }

    /// Serve until the process is stopped.
    pub async fn wait(self) -> Result<(), ServeError> {
        self.task.await??;
        Ok(())
    }
}

/// Bind `config.listen` and serve the API over TLS in a background task.
pub async fn start(config: &Config) -> Result<RunningServer, ServeError> {
    let tls = tls::server_config(&config.tls.cert, &config.tls.key)?;
    let listener = std::net::TcpListener::bind(config.listen)
        .and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
        .map_err(|source| ServeError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr()?;
    let handle = Handle::new();
    let app = routes::router(config.limits.max_body_bytes)
        .into_make_service_with_connect_info::<SocketAddr>();
    let server = axum_server::from_tcp_rustls(listener, RustlsConfig::from_config(Arc::new(tls)))?
        .handle(handle.clone());
    let task = tokio::spawn(server.serve(app));
    tracing::info!(%addr, "canopy-server listening (TLS)");
    Ok(RunningServer { addr, handle, task })
}
