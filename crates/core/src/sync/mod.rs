//! The sync protocol's messages: what the server streams into a device's cache. A bootstrap
//! is a numbered series of pages of rows at a checkpoint; deltas are ordered puts and
//! removals since a cursor. Both travel in the binary form of [`codec`] (feature `codec`).

#[cfg(feature = "codec")]
pub mod codec;
pub mod push;

use serde::{Deserialize, Serialize};

use crate::earnings::EarningsLine;
use crate::ids::MemberId;
use crate::member::Member;
use crate::money::Money;
use crate::order::Order;
use crate::period::Period;
use crate::rank::RankLevel;
use crate::volume::Pv;

/// The protocol version; a client refuses pages of another.
pub const PROTOCOL: u32 = 1;
/// The most rows one page or delta batch may carry.
pub const MAX_ROWS: usize = 50_000;
/// The longest checkpoint or cursor token.
pub const MAX_TOKEN: usize = 128;

/// A member's personal volume in a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeRow {
    pub member: MemberId,
    pub period: Period,
    pub pv: Pv,
}

/// The rank a member held in a closed period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankHistoryRow {
    pub member: MemberId,
    pub period: Period,
    pub rank: RankLevel,
}

/// The user's statement total for a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementRow {
    pub period: Period,
    /// Closed by the company: final; otherwise a projection.
    pub closed: bool,
    pub total: Money,
}

/// One row of the user's scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Row {
    Member(Box<Member>),
    Volume(VolumeRow),
    RankHistory(RankHistoryRow),
    EarningsLine(EarningsLine),
    Statement(StatementRow),
    Order(Order),
}

/// One page of a bootstrap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootstrapPage {
    pub protocol: u32,
    /// The snapshot this page belongs to; deltas continue from it.
    pub checkpoint: String,
    /// From 0.
    pub page: u64,
    /// How many rows the whole snapshot holds (for the progress bar).
    pub rows_total: u64,
    /// No page follows.
    pub last: bool,
    pub rows: Vec<Row>,
}

/// One change since a cursor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeltaOp {
    Put(Row),
    /// The member left the user's scope (moved away, erased, a role downgraded).
    RemoveMember(MemberId),
}

/// The changes since `from`, to be applied in one transaction together with `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeltaBatch {
    pub protocol: u32,
    pub from: String,
    pub to: String,
    pub ops: Vec<DeltaOp>,
    /// More changes wait after `to`.
    pub more: bool,
    /// The scope's checksum at `to`, when the server computed one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
}

/// Why a message from the server is refused (the cache is left untouched).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("the server speaks sync protocol {0}, this app {PROTOCOL}: update the app")]
    Protocol(u32),
    #[error("a sync message holds {0} rows, more than the {MAX_ROWS} allowed")]
    TooManyRows(usize),
    #[error("a sync token is empty or longer than {MAX_TOKEN} characters")]
    BadToken,
}

fn check_token(token: &str) -> Result<(), MessageError> {
    if token.is_empty() || token.len() > MAX_TOKEN {
        Err(MessageError::BadToken)
    } else {
        Ok(())
    }
}

impl BootstrapPage {
    /// What decoding can't check: the version, the size and the token.
    pub fn validate(&self) -> Result<(), MessageError> {
        if self.protocol != PROTOCOL {
            return Err(MessageError::Protocol(self.protocol));
        }
        if self.rows.len() > MAX_ROWS {
            return Err(MessageError::TooManyRows(self.rows.len()));
        }
        check_token(&self.checkpoint)
    }
}

impl DeltaBatch {
    pub fn validate(&self) -> Result<(), MessageError> {
        if self.protocol != PROTOCOL {
            return Err(MessageError::Protocol(self.protocol));
        }
        if self.ops.len() > MAX_ROWS {
            return Err(MessageError::TooManyRows(self.ops.len()));
        }
        check_token(&self.from)?;
        check_token(&self.to)
    }
}
