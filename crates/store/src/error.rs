//! Every way the local cache can fail, worded for the person at the keyboard: the app shows
//! these messages as they are.

use std::path::PathBuf;
use std::time::Duration;

/// What went wrong in the local cache.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the system's secure random source failed")]
    Random,
    #[error("wrong password")]
    WrongPassword,
    #[error("too many wrong passwords: try again in {} s", retry_after.as_secs().max(1))]
    Throttled { retry_after: Duration },
    #[error(
        "this device's key envelope uses weaker key derivation ({found}) than allowed \
         ({minimum}); sign in online to set the cache up again"
    )]
    WeakKdf { found: String, minimum: String },
    #[error("the key envelope on this device is damaged or unreadable: {0}")]
    BadEnvelope(String),
    #[error("there is no local cache on this device yet")]
    NoCache,
    #[error("a local cache already exists on this device")]
    CacheExists,
    #[error("the key does not open this cache")]
    WrongKey,
    #[error("the OS keychain failed: {0}")]
    Keychain(String),
    #[error("cannot read or write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the cache database failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the cache was made by a newer Canopy (schema {found}, this app knows {known})")]
    TooNew { found: i64, known: i64 },
    #[error("invalid data for the cache: {0}")]
    Invalid(String),
    #[error("{0} not found in the cache")]
    NotFound(&'static str),
    #[error("the cache is locked")]
    Locked,
    #[error("this device has been offline for more than {days} days: sign in online to go on")]
    OnlineSignInRequired { days: u32 },
}

impl StoreError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| StoreError::Io { path, source }
    }
}
