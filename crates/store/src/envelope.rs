//! The key envelope: the cache's raw key wrapped with AES-256-GCM under a key that
//! Argon2id derives from the user's password, stored as a small JSON file beside the cache.
//!
//! The GCM associated data binds the whole header (format, KDF parameters, salt, cipher),
//! so weakening the parameters in the file makes unwrapping fail; and parameters below
//! [`KdfParams::MINIMUM`] are refused before any derivation (SECURITY.md #4).

use std::fmt;
use std::path::Path;

use argon2::{Algorithm, Argon2, Params, Version};
use data_encoding::BASE64;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use crate::error::StoreError;
use crate::fsutil;
use crate::key::{CacheKey, KEY_LEN};

/// The only envelope format this code reads and writes.
const FORMAT_VERSION: u32 = 1;
const KDF_ALGORITHM: &str = "argon2id";
/// Argon2 version 1.3.
const KDF_VERSION: u32 = 0x13;
const CIPHER: &str = "aes-256-gcm";
/// Salt length written by [`Envelope::seal`]; RFC 9106 recommends 16 bytes.
const SALT_LEN: usize = 16;
/// Longest salt accepted when reading, so a damaged file cannot make us hash megabytes.
const MAX_SALT_LEN: usize = 64;
/// The GCM tag appended to the wrapped key.
const TAG_LEN: usize = 16;
/// Upper bounds on parameters read from a file: a damaged or hostile envelope must not
/// make the app allocate gigabytes (an allocation failure aborts) or spin for minutes.
const MAX_MEMORY_KIB: u32 = 1024 * 1024;
const MAX_ITERATIONS: u32 = 64;
const MAX_PARALLELISM: u32 = 64;

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
}

impl KdfParams {
    /// The weakest parameters ever accepted: 64 MiB, 3 passes, 4 lanes. The local
    /// envelope can be attacked offline, so it costs more than the server's hash.
    pub const MINIMUM: KdfParams = KdfParams::new(64 * 1024, 3, 4);
    /// What new envelopes use.
    pub const DEFAULT: KdfParams = KdfParams::MINIMUM;

    pub const fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Self {
        Self {
            memory_kib,
            iterations,
            parallelism,
        }
    }

    pub const fn memory_kib(&self) -> u32 {
        self.memory_kib
    }

    pub const fn iterations(&self) -> u32 {
        self.iterations
    }

    pub const fn parallelism(&self) -> u32 {
        self.parallelism
    }

    /// Weaker than `other` in any one dimension: more of another cost does not make up
    /// for less memory, which is what resists GPUs.
    pub const fn is_weaker_than(&self, other: &KdfParams) -> bool {
        self.memory_kib < other.memory_kib
            || self.iterations < other.iterations
            || self.parallelism < other.parallelism
    }

    /// The stronger of the two in each dimension.
    fn max(self, other: KdfParams) -> KdfParams {
        KdfParams::new(
            self.memory_kib.max(other.memory_kib),
            self.iterations.max(other.iterations),
            self.parallelism.max(other.parallelism),
        )
    }

    fn refuse_weak(&self) -> Result<(), StoreError> {
        if self.is_weaker_than(&Self::MINIMUM) {
            return Err(StoreError::WeakKdf {
                found: self.to_string(),
                minimum: Self::MINIMUM.to_string(),
            });
        }
        if self.memory_kib > MAX_MEMORY_KIB
            || self.iterations > MAX_ITERATIONS
            || self.parallelism > MAX_PARALLELISM
        {
            return Err(StoreError::BadEnvelope(format!(
                "key derivation parameters out of range ({self})"
            )));
        }
        Ok(())
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Display for KdfParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "m={} KiB, t={}, p={}",
            self.memory_kib, self.iterations, self.parallelism
        )
    }
}

/// Where [`Envelope::write_atomic_with`] aborts the process, for the crash tests.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    /// Half of the new contents written to the temp file.
    AfterTempWrite,
    /// Temp file complete and synced, not yet renamed.
    BeforeRename,
    /// Renamed, directory not yet synced.
    AfterRename,
}

/// The wrapped cache key as stored on disk. Holds nothing secret: the key inside is
/// useless without the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    version: u32,
    kdf: KdfHeader,
    cipher: String,
    /// Base64 of the 12-byte GCM nonce.
    nonce: String,
    /// Base64 of the encrypted key followed by the GCM tag.
    wrapped_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KdfHeader {
    algorithm: String,
    version: u32,
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
    /// Base64 of the random salt.
    salt: String,
}

impl Envelope {
    /// Wraps `key` under `password` with a fresh salt and nonce. Refuses parameters
    /// below [`KdfParams::MINIMUM`].
    pub fn seal(key: &CacheKey, password: &str, params: KdfParams) -> Result<Envelope, StoreError> {
        params.refuse_weak()?;
        let rng = SystemRandom::new();
        let mut salt = [0u8; SALT_LEN];
        rng.fill(&mut salt).map_err(|_| StoreError::Random)?;
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut nonce).map_err(|_| StoreError::Random)?;

        let mut envelope = Envelope {
            version: FORMAT_VERSION,
            kdf: KdfHeader {
                algorithm: KDF_ALGORITHM.to_owned(),
                version: KDF_VERSION,
                memory_kib: params.memory_kib,
                iterations: params.iterations,
                parallelism: params.parallelism,
                salt: BASE64.encode(&salt),
            },
            cipher: CIPHER.to_owned(),
            nonce: BASE64.encode(&nonce),
            wrapped_key: String::new(),
        };
        let wrapping_key = derive(password, &salt, params)
            .map_err(|e| StoreError::Invalid(format!("key derivation failed: {e}")))?;
        let mut in_out = Zeroizing::new(Vec::with_capacity(KEY_LEN + TAG_LEN));
        in_out.extend_from_slice(key.as_bytes());
        aead_key(&wrapping_key)?
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(envelope.aad(&salt)),
                &mut *in_out,
            )
            .map_err(|_| StoreError::Invalid("cannot wrap the cache key".into()))?;
        envelope.wrapped_key = BASE64.encode(&in_out);
        Ok(envelope)
    }

    /// Unwraps the cache key. Weak or unknown parameters are refused before deriving
    /// anything; a wrong password (or any edit to the file) is [`StoreError::WrongPassword`].
    pub fn open(&self, password: &str) -> Result<CacheKey, StoreError> {
        let params = self.checked_header()?;
        let salt = decode("salt", &self.kdf.salt)?;
        if !(SALT_LEN..=MAX_SALT_LEN).contains(&salt.len()) {
            return Err(bad(format!("the salt is {} bytes", salt.len())));
        }
        let nonce: [u8; NONCE_LEN] = decode("nonce", &self.nonce)?
            .try_into()
            .map_err(|v: Vec<u8>| bad(format!("the nonce is {} bytes, not 12", v.len())))?;
        let mut in_out = Zeroizing::new(decode("wrapped key", &self.wrapped_key)?);
        if in_out.len() != KEY_LEN + TAG_LEN {
            return Err(bad(format!(
                "the wrapped key is {} bytes, not {}",
                in_out.len(),
                KEY_LEN + TAG_LEN
            )));
        }

        let wrapping_key = derive(password, &salt, params)
            .map_err(|e| bad(format!("key derivation failed: {e}")))?;
        let plain = aead_key(&wrapping_key)?
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(self.aad(&salt)),
                in_out.as_mut_slice(),
            )
            .map_err(|_| StoreError::WrongPassword)?;
        CacheKey::from_slice(plain).ok_or_else(|| bad("the unwrapped key has the wrong length"))
    }

    /// Changes the password: the same key under `new_password`, with a fresh salt and
    /// nonce, and parameters raised to at least [`KdfParams::DEFAULT`].
    pub fn rewrap(&self, old_password: &str, new_password: &str) -> Result<Envelope, StoreError> {
        let key = self.open(old_password)?;
        Envelope::seal(
            &key,
            new_password,
            self.kdf_params().max(KdfParams::DEFAULT),
        )
    }

    /// The KDF parameters written in the file (not yet checked).
    pub fn kdf_params(&self) -> KdfParams {
        KdfParams::new(
            self.kdf.memory_kib,
            self.kdf.iterations,
            self.kdf.parallelism,
        )
    }

    /// Reads an envelope file. A missing file is [`StoreError::NoCache`]; one that is
    /// not an envelope is [`StoreError::BadEnvelope`].
    pub fn read(path: &Path) -> Result<Envelope, StoreError> {
        let bytes = std::fs::read(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => StoreError::NoCache,
            _ => StoreError::io(path)(e),
        })?;
        serde_json::from_slice(&bytes).map_err(|e| bad(format!("not a key envelope ({e})")))
    }

    /// Writes the envelope so that a crash at any point leaves either the old or the new
    /// one at `path` (see `fsutil`).
    pub fn write_atomic(&self, path: &Path) -> Result<(), StoreError> {
        self.write_atomic_with(path, None)
    }

    /// [`Envelope::write_atomic`] that aborts the process at `crash_at`: for crash tests.
    #[doc(hidden)]
    pub fn write_atomic_with(
        &self,
        path: &Path,
        crash_at: Option<CrashPoint>,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_vec_pretty(self)
            .map_err(|e| StoreError::Invalid(format!("cannot encode the key envelope: {e}")))?;
        fsutil::write_atomic_with(path, &json, crash_at)
    }

    /// Checks format, algorithm, cipher and cost, in that order, before anything is
    /// derived, and returns the cost.
    fn checked_header(&self) -> Result<KdfParams, StoreError> {
        if self.version != FORMAT_VERSION {
            return Err(bad(format!(
                "unknown envelope format version {}",
                self.version
            )));
        }
        if self.kdf.algorithm != KDF_ALGORITHM || self.kdf.version != KDF_VERSION {
            return Err(bad(format!(
                "unknown key derivation {} version {:#x}",
                self.kdf.algorithm, self.kdf.version
            )));
        }
        if self.cipher != CIPHER {
            return Err(bad(format!("unknown cipher {}", self.cipher)));
        }
        let params = self.kdf_params();
        params.refuse_weak()?;
        Ok(params)
    }

    /// The GCM associated data: every header field, each length-prefixed so that no two
    /// different headers give the same bytes.
    fn aad(&self, salt: &[u8]) -> Vec<u8> {
        let mut aad = Vec::with_capacity(96);
        let mut field = |bytes: &[u8]| {
            aad.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
            aad.extend_from_slice(bytes);
        };
        field(b"canopy key envelope");
        field(&self.version.to_be_bytes());
        field(self.kdf.algorithm.as_bytes());
        field(&self.kdf.version.to_be_bytes());
        field(&self.kdf.memory_kib.to_be_bytes());
        field(&self.kdf.iterations.to_be_bytes());
        field(&self.kdf.parallelism.to_be_bytes());
        field(salt);
        field(self.cipher.as_bytes());
        aad
    }
}

fn bad(reason: impl Into<String>) -> StoreError {
    StoreError::BadEnvelope(reason.into())
}

fn decode(what: &str, text: &str) -> Result<Vec<u8>, StoreError> {
    BASE64
        .decode(text.as_bytes())
        .map_err(|_| bad(format!("the {what} is not valid base64")))
}

/// Argon2id of the NFKC-normalised (as the server does) password, so the same password typed through a
/// different keyboard or input method (composed or decomposed accents) opens the cache.
fn derive(
    password: &str,
    salt: &[u8],
    params: KdfParams,
) -> Result<Zeroizing<[u8; KEY_LEN]>, argon2::Error> {
    #[cfg(test)]
    tests::DERIVATIONS.with(|n| n.set(n.get() + 1));
    let mut normalised = Zeroizing::new(String::with_capacity(password.len() * 2));
    normalised.extend(password.nfkc());
    let argon2 = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            Some(KEY_LEN),
        )?,
    );
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    argon2.hash_password_into(normalised.as_bytes(), salt, out.as_mut())?;
    Ok(out)
}

fn aead_key(raw: &[u8; KEY_LEN]) -> Result<LessSafeKey, StoreError> {
    // A 32-byte key always fits AES-256; ring only refuses other lengths.
    UnboundKey::new(&AES_256_GCM, raw)
        .map(LessSafeKey::new)
        .map_err(|_| StoreError::Invalid("cannot build the wrapping key".into()))
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::sync::LazyLock;

    use super::*;

    thread_local! {
        /// Argon2 derivations run on this thread, to show refusals come before any.
        pub(super) static DERIVATIONS: Cell<usize> = const { Cell::new(0) };
    }

    const PASSWORD: &str = "correct horse battery staple";

    /// One sealed envelope shared by the tests that only read it: each real derivation
    /// costs most of a second.
    static SEALED: LazyLock<(CacheKey, Envelope)> = LazyLock::new(|| {
        let key = CacheKey::generate().unwrap();
        let envelope = Envelope::seal(&key, PASSWORD, KdfParams::DEFAULT).unwrap();
        (key, envelope)
    });

    fn derivations() -> usize {
        DERIVATIONS.with(Cell::get)
    }

    #[test]
    fn the_key_comes_back_with_the_right_password() {
        let (key, envelope) = &*SEALED;
        assert_eq!(&envelope.open(PASSWORD).unwrap(), key);
        assert_eq!(envelope.kdf_params(), KdfParams::DEFAULT);
    }

    #[test]
    fn a_wrong_password_is_refused_in_plain_words() {
        let (_, envelope) = &*SEALED;
        let err = envelope.open("correct horse battery stapler").unwrap_err();
        assert!(matches!(err, StoreError::WrongPassword), "{err:?}");
        assert_eq!(err.to_string(), "wrong password");
    }

    #[test]
    fn weak_parameters_are_refused_before_deriving() {
        let (_, envelope) = &*SEALED;
        let cases = [
            (32768, 3, 4, "m=32768 KiB, t=3, p=4"),
            (65536, 2, 4, "m=65536 KiB, t=2, p=4"),
            (65536, 3, 1, "m=65536 KiB, t=3, p=1"),
            (19456, 2, 1, "m=19456 KiB, t=2, p=1"),
        ];
        for (m, t, p, found) in cases {
            let mut weak = envelope.clone();
            (
                weak.kdf.memory_kib,
                weak.kdf.iterations,
                weak.kdf.parallelism,
            ) = (m, t, p);
            let before = derivations();
            let err = weak.open(PASSWORD).unwrap_err();
            assert_eq!(derivations(), before, "derived a key for {found}");
            let StoreError::WeakKdf { found: f, minimum } = &err else {
                panic!("{found}: expected WeakKdf, got {err:?}");
            };
            assert_eq!(f, found);
            assert_eq!(minimum, "m=65536 KiB, t=3, p=4");
            assert!(err.to_string().contains(found), "{err}");

            let weak_params = KdfParams::new(m, t, p);
            let key = CacheKey::generate().unwrap();
            let err = Envelope::seal(&key, PASSWORD, weak_params).unwrap_err();
            assert!(matches!(err, StoreError::WeakKdf { .. }), "{err:?}");
            assert_eq!(derivations(), before, "sealing derived a key for {found}");
        }
    }

    #[test]
    fn edits_to_the_file_never_give_a_key() {
        let (_, envelope) = &*SEALED;
        let flip = |text: &str| {
            let mut bytes = BASE64.decode(text.as_bytes()).unwrap();
            bytes[0] ^= 1;
            BASE64.encode(&bytes)
        };
        type Edit = fn(&mut Envelope, &dyn Fn(&str) -> String);
        let cases: [(&str, Edit); 4] = [
            ("salt", |e, flip| e.kdf.salt = flip(&e.kdf.salt)),
            // Stronger, so it passes the minimum and must be caught by the AAD.
            ("memory", |e, _| e.kdf.memory_kib += 1),
            ("nonce", |e, flip| e.nonce = flip(&e.nonce)),
            ("ciphertext", |e, flip| e.wrapped_key = flip(&e.wrapped_key)),
        ];
        for (what, edit) in cases {
            let mut edited = envelope.clone();
            edit(&mut edited, &flip);
            let err = edited.open(PASSWORD).unwrap_err();
            assert!(matches!(err, StoreError::WrongPassword), "{what}: {err:?}");
        }
    }

    #[test]
    fn malformed_envelopes_say_what_is_wrong() {
        let (_, envelope) = &*SEALED;
        type Edit = fn(&mut Envelope);
        let cases: [(Edit, &str); 9] = [
            (|e| e.version = 2, "unknown envelope format version 2"),
            (
                |e| e.kdf.algorithm = "argon2i".into(),
                "unknown key derivation argon2i",
            ),
            (|e| e.kdf.version = 0x10, "version 0x10"),
            (|e| e.cipher = "chacha20-poly1305".into(), "unknown cipher"),
            (
                |e| e.kdf.salt = "not base64!".into(),
                "the salt is not valid base64",
            ),
            (
                |e| e.kdf.salt = BASE64.encode(&[0; 8]),
                "the salt is 8 bytes",
            ),
            (
                |e| e.nonce = BASE64.encode(&[0; 16]),
                "the nonce is 16 bytes, not 12",
            ),
            (
                |e| e.wrapped_key = BASE64.encode(&[0; 32]),
                "the wrapped key is 32 bytes",
            ),
            (|e| e.kdf.memory_kib = 64 * 1024 * 1024, "out of range"),
        ];
        let before = derivations();
        for (edit, reason) in cases {
            let mut edited = envelope.clone();
            edit(&mut edited);
            let err = edited.open(PASSWORD).unwrap_err();
            let StoreError::BadEnvelope(text) = &err else {
                panic!("{reason}: expected BadEnvelope, got {err:?}");
            };
            assert!(text.contains(reason), "{text:?} lacks {reason:?}");
        }
        assert_eq!(derivations(), before);
    }

    #[test]
    fn composed_and_decomposed_accents_are_the_same_password() {
        let key = CacheKey::generate().unwrap();
        let composed = "caf\u{e9} cr\u{e8}me br\u{fb}l\u{e9}e";
        let decomposed = "cafe\u{301} cre\u{300}me bru\u{302}le\u{301}e";
        assert_ne!(composed, decomposed);
        let envelope = Envelope::seal(&key, composed, KdfParams::DEFAULT).unwrap();
        assert_eq!(envelope.open(decomposed).unwrap(), key);
    }

    #[test]
    fn the_json_holds_no_trace_of_the_key() {
        let (key, envelope) = &*SEALED;
        let json = serde_json::to_string(envelope).unwrap();
        let raw = key.as_bytes();
        for encoded in [
            BASE64.encode(raw),
            data_encoding::HEXLOWER.encode(raw),
            data_encoding::HEXUPPER.encode(raw),
        ] {
            assert!(!json.contains(&encoded));
        }
        let fields: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(fields["version"], 1);
        assert_eq!(fields["kdf"]["algorithm"], "argon2id");
        assert_eq!(fields["kdf"]["version"], 0x13);
        assert_eq!(fields["cipher"], "aes-256-gcm");
        assert_eq!(
            BASE64
                .decode(fields["nonce"].as_str().unwrap().as_bytes())
                .unwrap()
                .len(),
            12
        );
    }

    #[test]
    fn rewrap_changes_the_password_and_keeps_the_key() {
        let (key, envelope) = &*SEALED;
        let rewrapped = envelope.rewrap(PASSWORD, "a new passphrase").unwrap();
        assert_ne!(rewrapped.kdf.salt, envelope.kdf.salt);
        assert_ne!(rewrapped.nonce, envelope.nonce);
        assert_eq!(&rewrapped.open("a new passphrase").unwrap(), key);
        let err = rewrapped.open(PASSWORD).unwrap_err();
        assert!(matches!(err, StoreError::WrongPassword), "{err:?}");
    }

    #[test]
    fn files_round_trip_and_a_missing_one_means_no_cache() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key-envelope.json");
        assert!(matches!(Envelope::read(&path), Err(StoreError::NoCache)));
        let (_, envelope) = &*SEALED;
        envelope.write_atomic(&path).unwrap();
        assert_eq!(&Envelope::read(&path).unwrap(), envelope);

        std::fs::write(&path, b"{\"version\": 1}").unwrap();
        let err = Envelope::read(&path).unwrap_err();
        assert!(matches!(err, StoreError::BadEnvelope(_)), "{err:?}");
    }
}
