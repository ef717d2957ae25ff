//! Why a storage call failed, in terms a handler can act on (not found, conflict, invalid,
//! disk full, backend). Messages never carry SQL or data; the backend's own error is only
//! a `source`.

use std::error::Error as StdError;
use std::fmt;

/// A storage failure. `Display` is safe to show a person; a backend failure's detail is
/// only reachable through [`std::error::Error::source`], for the server log.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Conflict(#[from] Conflict),
    /// The call itself is wrong (e.g. a reference to a row that does not exist).
    #[error("{0}")]
    Invalid(&'static str),
    /// The database URL names a backend this build can't use.
    #[error("{0}")]
    Unsupported(String),
    /// The disk holding the database is full. The write was refused whole (its
    /// transaction rolled back, nothing of it kept); reads go on, and writes work again
    /// once there is space.
    #[error("the server's disk is full: nothing was saved")]
    Full,
    /// The database can't be reached now (restarting, connections dropped, none free in
    /// time). Nothing of the call was kept unless it had committed; trying again shortly
    /// is the remedy, and a command's idempotency key makes that safe.
    #[error("the database can't be reached right now; try again shortly")]
    Unavailable(#[source] BackendError),
    #[error("the database failed; the server log has the details")]
    Backend(#[source] BackendError),
}

/// Which uniqueness rule a write broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    #[error("an account with this email address already exists")]
    EmailTaken,
    #[error("this member already has an account")]
    MemberHasAccount,
    #[error("a member with this number already exists")]
    MemberNumberTaken,
    #[error("this placement position is already taken")]
    PlacementTaken,
    #[error("this device key is already registered")]
    DeviceKeyTaken,
    #[error("this token is already in use")]
    TokenTaken,
    #[error("a record with this id already exists")]
    DuplicateId,
    #[error("the record conflicts with an existing one")]
    Other,
}

/// The backend's own error, kept for the server log.
pub struct BackendError(Box<dyn StdError + Send + Sync + 'static>);

impl fmt::Debug for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl StdError for BackendError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0.source()
    }
}

impl StorageError {
    pub fn backend(error: impl Into<Box<dyn StdError + Send + Sync + 'static>>) -> Self {
        Self::Backend(BackendError(error.into()))
    }

    /// [`StorageError::Unavailable`] around the backend's own error.
    pub fn unavailable(error: impl Into<Box<dyn StdError + Send + Sync + 'static>>) -> Self {
        Self::Unavailable(BackendError(error.into()))
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, StorageError::NotFound)
    }

    /// Whether the write failed because the database's disk is full.
    pub fn is_full(&self) -> bool {
        matches!(self, StorageError::Full)
    }
}
