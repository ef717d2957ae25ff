//! The cache's raw 256-bit SQLCipher key: made from the OS's secure random source, held
//! only in zeroized memory, and turned into SQLCipher's `x'…'` key literal only on demand.

use std::fmt;

use ring::rand::{SecureRandom, SystemRandom};
use zeroize::{Zeroize, Zeroizing};

use crate::error::StoreError;

/// Length of the raw key in bytes (AES-256).
pub const KEY_LEN: usize = 32;

/// The raw SQLCipher key. Zeroized when dropped; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct CacheKey(Zeroizing<[u8; KEY_LEN]>);

impl CacheKey {
    /// A fresh key from the operating system's secure random source.
    pub fn generate() -> Result<Self, StoreError> {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        SystemRandom::new()
            .fill(bytes.as_mut())
            .map_err(|_| StoreError::Random)?;
        Ok(Self(bytes))
    }

    /// Takes ownership of raw key bytes (from an unwrapped envelope or the keychain); the
    /// caller's copy is zeroized.
    pub fn from_bytes(bytes: &mut [u8; KEY_LEN]) -> Self {
        let key = Self(Zeroizing::new(*bytes));
        bytes.zeroize();
        key
    }

    /// Reads a key from a byte slice of exactly [`KEY_LEN`] bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let mut raw: [u8; KEY_LEN] = bytes.try_into().ok()?;
        Some(Self::from_bytes(&mut raw))
    }

    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The SQL that keys a connection with this raw key: `PRAGMA key = "x'…'"` (no
    /// SQLCipher KDF on open, see DESIGN.md § Local security).
    pub(crate) fn pragma(&self) -> Zeroizing<String> {
        let mut sql = Zeroizing::new(String::with_capacity(20 + 2 * KEY_LEN));
        sql.push_str("PRAGMA key = \"x'");
        let hex = Zeroizing::new(data_encoding::HEXUPPER.encode(self.0.as_ref()));
        sql.push_str(&hex);
        sql.push_str("'\"");
        sql
    }
}

impl fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CacheKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_and_never_printed() {
        let a = CacheKey::generate().unwrap();
        let b = CacheKey::generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(format!("{a:?}"), "CacheKey(<redacted>)");
    }

    #[test]
    fn the_pragma_is_a_raw_hex_key() {
        let key = CacheKey::from_slice(&[0xAB; KEY_LEN]).unwrap();
        let sql = key.pragma();
        assert_eq!(sql.len(), 16 + 64 + 2);
        assert!(sql.starts_with("PRAGMA key = \"x'ABAB"));
        assert!(sql.ends_with("AB'\""));
        assert!(CacheKey::from_slice(&[1; 31]).is_none());
    }

    #[test]
    fn from_bytes_wipes_the_callers_copy() {
        let mut raw = [7u8; KEY_LEN];
        let key = CacheKey::from_bytes(&mut raw);
        assert_eq!(raw, [0; KEY_LEN]);
        assert_eq!(key.as_bytes(), &[7; KEY_LEN]);
    }
}
