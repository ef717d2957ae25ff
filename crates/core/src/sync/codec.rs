//! The binary form of sync messages: a 5-byte header (`CNPY` and the protocol version),
//! then MessagePack with field names, compressed with zstd. Decoding is bounded at every
//! step — compressed size, decompressed size, then the message's own validation — so a
//! corrupt, truncated or hostile body is an error, never a panic or a huge allocation.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{BootstrapPage, DeltaBatch, MessageError, PROTOCOL};

const MAGIC: &[u8; 4] = b"CNPY";
/// The largest compressed body accepted.
pub const MAX_COMPRESSED: usize = 16 * 1024 * 1024;
/// The largest decompressed body accepted (about 50,000 members with personal details).
pub const MAX_DECOMPRESSED: usize = 64 * 1024 * 1024;
/// zstd's level: fast to make on the server, and most of the gain of higher levels.
const LEVEL: i32 = 3;

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("a sync message of {0} bytes is larger than allowed")]
    TooLarge(usize),
    #[error("not a sync message (wrong header)")]
    NotAMessage,
    #[error("the sync message is damaged: {0}")]
    Damaged(String),
    #[error(transparent)]
    Invalid(#[from] MessageError),
    #[error("cannot encode a sync message: {0}")]
    Encode(String),
}

fn encode<T: Serialize>(message: &T) -> Result<Vec<u8>, CodecError> {
    let plain = rmp_serde::to_vec_named(message).map_err(|e| CodecError::Encode(e.to_string()))?;
    if plain.len() > MAX_DECOMPRESSED {
        return Err(CodecError::TooLarge(plain.len()));
    }
    let packed =
        zstd::bulk::compress(&plain, LEVEL).map_err(|e| CodecError::Encode(e.to_string()))?;
    let mut out = Vec::with_capacity(5 + packed.len());
    out.extend_from_slice(MAGIC);
    out.push(u8::try_from(PROTOCOL).unwrap_or(u8::MAX));
    out.extend_from_slice(&packed);
    Ok(out)
}

fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, CodecError> {
    if body.len() > MAX_COMPRESSED {
        return Err(CodecError::TooLarge(body.len()));
    }
    let Some((header, packed)) = body.split_at_checked(5) else {
        return Err(CodecError::NotAMessage);
    };
    if &header[..4] != MAGIC {
        return Err(CodecError::NotAMessage);
    }
    if u32::from(header[4]) != PROTOCOL {
        return Err(MessageError::Protocol(u32::from(header[4])).into());
    }
    // `bulk::decompress` refuses to produce more than the capacity: a zip bomb stops here.
    let plain = zstd::bulk::decompress(packed, MAX_DECOMPRESSED)
        .map_err(|e| CodecError::Damaged(e.to_string()))?;
    rmp_serde::from_slice(&plain).map_err(|e| CodecError::Damaged(e.to_string()))
}

pub fn encode_page(page: &BootstrapPage) -> Result<Vec<u8>, CodecError> {
    page.validate()?;
    encode(page)
}

/// Reads and validates a bootstrap page.
pub fn decode_page(body: &[u8]) -> Result<BootstrapPage, CodecError> {
    let page: BootstrapPage = decode(body)?;
    page.validate()?;
    Ok(page)
}

pub fn encode_delta(batch: &DeltaBatch) -> Result<Vec<u8>, CodecError> {
    batch.validate()?;
    encode(batch)
}

/// Reads and validates a delta batch.
pub fn decode_delta(body: &[u8]) -> Result<DeltaBatch, CodecError> {
    let batch: DeltaBatch = decode(body)?;
    batch.validate()?;
    Ok(batch)
}
