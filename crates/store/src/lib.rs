//! The encrypted local cache of the desktop app: a SQLCipher database keyed with a random
//! 256-bit key, that key wrapped under the user's password (and optionally kept in the OS
//! keychain), the schema and its migrations, and the queries the screens need.

mod codes;
pub mod credentials;
pub mod db;
pub mod envelope;
pub mod error;
mod fsutil;
pub mod key;
pub mod keychain;
pub mod load;
pub mod migrations;
pub mod outbox;
pub mod outbox_transfer;
pub mod policy;
pub mod queries;
mod store;
pub mod throttle;
mod tree;
pub mod vault;
pub mod write;

pub use credentials::Credentials;
pub use db::Database;
pub use envelope::{Envelope, KdfParams};
pub use error::StoreError;
pub use key::CacheKey;
pub use keychain::{Keychain, NoKeychain, OsKeychain};
pub use load::{BootstrapProgress, BulkWriter};
pub use outbox::{CommandKind, OutboxAnswer, OutboxItem, OutboxState};
pub use outbox_transfer::{ExportSummary, ImportSummary, TransferError};
pub use policy::LockPolicy;
pub use queries::*;
pub use store::{Store, SyncState};
pub use throttle::UnlockThrottle;
pub use tree::Stats;
pub use vault::Vault;
pub use write::Writer;
