//! The sync protocol's messages: what the server streams into a device's cache. A bootstrap
//! is a numbered series of pages of rows at a checkpoint; deltas are ordered puts and
//! removals since a cursor. Both travel in the binary form of [`codec`] (feature `codec`).

#[cfg(feature = "codec")]
pub mod codec;
pub mod push;
pub mod statements;

use serde::{Deserialize, Serialize};

use crate::earnings::EarningsLine;
use crate::ids::MemberId;
use crate::member::Member;
use crate::money::Money;
use crate::order::{Order, Product};
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
    /// A product of the catalogue (all of it comes with a bootstrap, and again with a
    /// delta whenever it changed).
    Product(Product),
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

/// The checksum of a scope: which members it holds and under whom each sits, as
/// `v1:<count>:<digest>`. The server sends it with the last delta batch when asked, the
/// client computes it over its cache after applying that batch, and a difference (a missed
/// removal, a role change that shrank the scope, a cache edited behind the app's back)
/// means the cache has drifted: bootstrap again. The digest is a wrapping sum of a 64-bit
/// mix of each `(member, sponsor)` pair, so the order rows are read in doesn't matter and
/// both sides fold rows in one pass without sorting. Not a defence against an attacker
/// (the cache is encrypted and the server authoritative), a detector of accidents.
pub fn scope_checksum(members: impl IntoIterator<Item = (i64, Option<i64>)>) -> String {
    let (mut count, mut digest) = (0u64, 0u64);
    for (id, sponsor) in members {
        count += 1;
        let sponsor = sponsor.map_or(u64::MAX, |s| s as u64);
        digest = digest.wrapping_add(mix(mix(id as u64) ^ sponsor));
    }
    format!("v1:{count}:{digest:016x}")
}

/// SplitMix64's finaliser: every input bit flips about half of the output bits.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_checksum_ignores_order_and_sees_any_difference() {
        let scope = [(1, None), (2, Some(1)), (3, Some(1)), (4, Some(2))];
        let sum = scope_checksum(scope);
        assert!(sum.starts_with("v1:4:"), "{sum}");
        let mut reversed = scope;
        reversed.reverse();
        assert_eq!(scope_checksum(reversed), sum, "order doesn't matter");
        assert_ne!(
            scope_checksum(scope[..3].iter().copied()),
            sum,
            "one missing"
        );
        let moved = [(1, None), (2, Some(1)), (3, Some(2)), (4, Some(2))];
        assert_ne!(scope_checksum(moved), sum, "one moved");
        let swapped = [(1, None), (2, Some(1)), (3, Some(1)), (5, Some(2))];
        assert_ne!(scope_checksum(swapped), sum, "another member, same count");
        assert_eq!(scope_checksum([]), "v1:0:0000000000000000");
    }
}
