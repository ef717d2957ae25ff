//! Encryption of secrets at rest (the TOTP secrets, SECURITY.md #8) with
//! AES-256-GCM, bound to their row by associated data, with rotatable keys.

use data_encoding::{BASE64, BASE64URL, HEXLOWER_PERMISSIVE};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::SecureRandom;
use zeroize::Zeroizing;

/// AES-256 key length in bytes.
pub const KEY_LEN: usize = 32;
/// GCM tag length in bytes.
const TAG_LEN: usize = 16;
/// Key id byte, then the nonce.
const HEADER_LEN: usize = 1 + NONCE_LEN;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error(
        "A sealing key must be {KEY_LEN} bytes (64 hex or 44 base64 characters), \
         not {0} bytes"
    )]
    KeyLength(usize),
    #[error("The sealing key is not valid {0} text")]
    KeyEncoding(&'static str),
    #[error("This secret was sealed with key {found}, but the key given is key {expected}")]
    WrongKeyId { expected: u8, found: u8 },
    #[error("This secret was sealed with key {0}, which is not configured")]
    UnknownKey(u8),
    #[error("Two sealing keys have the same id {0}")]
    DuplicateKeyId(u8),
    #[error("The sealed secret is too short to be valid")]
    Truncated,
    #[error(
        "The sealed secret could not be opened: the key is wrong, it belongs to another \
         record, or it was altered"
    )]
    Failed,
    #[error("The system random number generator failed")]
    Random,
}

/// An AES-256-GCM key with a one-byte id. The id is written in front of
/// every sealed value so that, after a key rotation, old values can still be
/// opened with the old key (see [`SealingKeys`]) and resealed with the new.
pub struct SealingKey {
    id: u8,
    key: LessSafeKey,
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SealingKey(id {}, <redacted>)", self.id)
    }
}

impl SealingKey {
    /// A key from 32 raw bytes. The caller should zeroize its own copy; ring
    /// keeps the expanded key schedule.
    pub fn new(id: u8, bytes: &[u8]) -> Result<Self, SealError> {
        if bytes.len() != KEY_LEN {
            return Err(SealError::KeyLength(bytes.len()));
        }
        let unbound =
            UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| SealError::KeyLength(bytes.len()))?;
        Ok(Self {
            id,
            key: LessSafeKey::new(unbound),
        })
    }

    /// A key from 64 hex characters (either case), as kept in configuration.
    pub fn from_hex(id: u8, text: &str) -> Result<Self, SealError> {
        let bytes = Zeroizing::new(
            HEXLOWER_PERMISSIVE
                .decode(text.trim().as_bytes())
                .map_err(|_| SealError::KeyEncoding("hex"))?,
        );
        Self::new(id, &bytes)
    }

    /// A key from base64 text, standard or URL-safe alphabet, with padding.
    pub fn from_base64(id: u8, text: &str) -> Result<Self, SealError> {
        let text = text.trim().as_bytes();
        let bytes = Zeroizing::new(
            BASE64
                .decode(text)
                .or_else(|_| BASE64URL.decode(text))
                .map_err(|_| SealError::KeyEncoding("base64"))?,
        );
        Self::new(id, &bytes)
    }

    pub fn id(&self) -> u8 {
        self.id
    }

    /// Encrypts `plaintext`, binding it to `associated_data` (say, the
    /// account id), which must be given again to open it. Output:
    /// key id ‖ 96-bit random nonce ‖ ciphertext ‖ 128-bit tag.
    ///
    /// Random nonces are safe here: the birthday bound for 96 bits allows
    /// about 2^32 seals per key, far more secrets than we will ever store.
    pub fn seal(
        &self,
        plaintext: &[u8],
        associated_data: &[u8],
        rng: &dyn SecureRandom,
    ) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut nonce).map_err(|_| SealError::Random)?;
        let mut sealed = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
        sealed.push(self.id);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(plaintext);
        let tag = self
            .key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(self.aad(associated_data)),
                &mut sealed[HEADER_LEN..],
            )
            .map_err(|_| SealError::Failed)?;
        sealed.extend_from_slice(tag.as_ref());
        Ok(sealed)
    }

    /// Decrypts what [`SealingKey::seal`] produced with the same associated
    /// data. Any change to any byte, another key or other associated data
    /// makes it fail.
    pub fn open(
        &self,
        sealed: &[u8],
        associated_data: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, SealError> {
        let (id, nonce, body) = split(sealed)?;
        if id != self.id {
            return Err(SealError::WrongKeyId {
                expected: self.id,
                found: id,
            });
        }
        let mut buffer = Zeroizing::new(body.to_vec());
        let plaintext_len = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(self.aad(associated_data)),
                &mut buffer,
            )
            .map_err(|_| SealError::Failed)?
            .len();
        // Zeroizing<Vec> wipes the whole capacity on drop, tag bytes included.
        buffer.truncate(plaintext_len);
        Ok(buffer)
    }

    /// The key id is authenticated too, so it can't be swapped unnoticed.
    fn aad(&self, associated_data: &[u8]) -> Vec<u8> {
        let mut aad = Vec::with_capacity(1 + associated_data.len());
        aad.push(self.id);
        aad.extend_from_slice(associated_data);
        aad
    }
}

/// Splits a sealed value into key id, nonce and ciphertext-with-tag.
fn split(sealed: &[u8]) -> Result<(u8, [u8; NONCE_LEN], &[u8]), SealError> {
    if sealed.len() < HEADER_LEN + TAG_LEN {
        return Err(SealError::Truncated);
    }
    let (header, body) = sealed.split_at(HEADER_LEN);
    let (&id, nonce) = header.split_first().ok_or(SealError::Truncated)?;
    let nonce = <[u8; NONCE_LEN]>::try_from(nonce).map_err(|_| SealError::Truncated)?;
    Ok((id, nonce, body))
}

/// The current key, which seals, and older keys kept only to open values
/// sealed before a rotation.
#[derive(Debug)]
pub struct SealingKeys {
    current: SealingKey,
    older: Vec<SealingKey>,
}

impl SealingKeys {
    /// Refuses two keys with the same id, which would make opening ambiguous.
    pub fn new(current: SealingKey, older: Vec<SealingKey>) -> Result<Self, SealError> {
        let mut seen = vec![current.id];
        for key in &older {
            if seen.contains(&key.id) {
                return Err(SealError::DuplicateKeyId(key.id));
            }
            seen.push(key.id);
        }
        Ok(Self { current, older })
    }

    pub fn current(&self) -> &SealingKey {
        &self.current
    }

    /// Seals with the current key.
    pub fn seal(
        &self,
        plaintext: &[u8],
        associated_data: &[u8],
        rng: &dyn SecureRandom,
    ) -> Result<Vec<u8>, SealError> {
        self.current.seal(plaintext, associated_data, rng)
    }

    /// Opens with whichever configured key the value names.
    pub fn open(
        &self,
        sealed: &[u8],
        associated_data: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, SealError> {
        let (id, _, _) = split(sealed)?;
        std::iter::once(&self.current)
            .chain(&self.older)
            .find(|key| key.id == id)
            .ok_or(SealError::UnknownKey(id))?
            .open(sealed, associated_data)
    }

    /// Whether a value was sealed with an older key and should be resealed.
    pub fn needs_reseal(&self, sealed: &[u8]) -> bool {
        sealed.first() != Some(&self.current.id)
    }
}

#[cfg(test)]
mod tests;
