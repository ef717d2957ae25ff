//! Password policy (NIST SP 800-63B: length, common passwords, own identifiers)
//! and Argon2id hashing to PHC strings, with rehash detection and dummy timing.

use std::collections::HashSet;
use std::sync::LazyLock;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Params, Version};
use ring::rand::SecureRandom;
use subtle::ConstantTimeEq;
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

/// Shortest password allowed when the account has two-step sign-in.
pub const MIN_CHARS_WITH_MFA: usize = 8;
/// Shortest password allowed when the password is the only factor.
pub const MIN_CHARS_WITHOUT_MFA: usize = 15;
/// Longest password allowed. NIST asks for at least 64; more than 128 is
/// almost certainly a paste mistake, and Argon2 cost grows with length.
pub const MAX_CHARS: usize = 128;

/// Identifiers shorter than this are not searched for in passwords: a
/// two-letter first name would refuse far too many good passwords.
const MIN_IDENTIFIER_CHARS: usize = 3;

/// Argon2 output length in bytes (256 bits).
const OUTPUT_LEN: usize = 32;
/// Salt length in bytes, as recommended by RFC 9106.
const SALT_LEN: usize = 16;

/// The zxcvbn list of common passwords, one lowercase entry per line
/// (see `crates/server/data/README.md`).
const COMMON_PASSWORDS_TEXT: &str = include_str!("../../data/common-passwords.txt");

static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    COMMON_PASSWORDS_TEXT
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect()
});

/// Why a new password was refused. `Display` is the message for the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error(
        "Use at least {without} characters, or turn on two-step sign-in to use {with} or more",
        without = MIN_CHARS_WITHOUT_MFA,
        with = MIN_CHARS_WITH_MFA
    )]
    TooShort,
    #[error("Use at least {min} characters", min = MIN_CHARS_WITH_MFA)]
    TooShortWithMfa,
    #[error("Use at most {max} characters", max = MAX_CHARS)]
    TooLong,
    #[error("This password is too common: choose one that is harder to guess")]
    TooCommon,
    #[error("Don't use your name, email or member number in your password")]
    ContainsIdentifier,
}

/// What we know about the person, to refuse passwords built from it.
/// Empty or absent fields are skipped.
#[derive(Debug, Clone, Copy, Default)]
pub struct Identifiers<'a> {
    pub email: Option<&'a str>,
    pub first_name: Option<&'a str>,
    pub last_name: Option<&'a str>,
    pub member_number: Option<&'a str>,
}

impl Identifiers<'_> {
    /// Each identifier normalised like a password and lowercased; for the
    /// email both the whole address and its local part.
    fn lowercase_forms(&self) -> Vec<String> {
        let local_part = self
            .email
            .map(|email| email.rsplit_once('@').map_or(email, |(local, _)| local));
        [
            self.email,
            local_part,
            self.first_name,
            self.last_name,
            self.member_number,
        ]
        .into_iter()
        .flatten()
        .map(|id| id.trim().nfkc().collect::<String>().to_lowercase())
        .filter(|id| id.chars().count() >= MIN_IDENTIFIER_CHARS)
        .collect()
    }
}

/// The rules for choosing a new password on one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Whether the account has two-step sign-in, which lowers the minimum.
    pub has_mfa: bool,
}

impl PasswordPolicy {
    /// Checks a new password. No composition rules (NIST 800-63B §3.1.1.2):
    /// only length, the common-password list and the person's identifiers.
    pub fn check(&self, password: &str, ids: &Identifiers<'_>) -> Result<(), PolicyError> {
        let normalised = normalise(password);
        let chars = normalised.chars().count();
        if chars > MAX_CHARS {
            return Err(PolicyError::TooLong);
        }
        match (self.has_mfa, chars) {
            (true, n) if n < MIN_CHARS_WITH_MFA => return Err(PolicyError::TooShortWithMfa),
            (false, n) if n < MIN_CHARS_WITHOUT_MFA => return Err(PolicyError::TooShort),
            _ => {}
        }
        let lowercase = Zeroizing::new(normalised.to_lowercase());
        if is_common(&lowercase) {
            return Err(PolicyError::TooCommon);
        }
        if ids
            .lowercase_forms()
            .iter()
            .any(|id| lowercase.contains(id.as_str()))
        {
            return Err(PolicyError::ContainsIdentifier);
        }
        Ok(())
    }
}

/// NFKC-normalises a password, so that the same characters typed on
/// different keyboards or systems hash the same (NIST 800-63B §5.1.1.2).
pub fn normalise(password: &str) -> Zeroizing<String> {
    Zeroizing::new(password.nfkc().collect())
}

/// Whether the lowercase password is on the shipped common-password list.
fn is_common(lowercase: &str) -> bool {
    COMMON_PASSWORDS.contains(lowercase)
}

/// Why hashing or verifying failed. These are server faults, not the
/// person's: a wrong password is `Verification::Mismatch`, not an error.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error(
        "Argon2id parameters m={memory_kib} KiB, t={iterations}, p={parallelism} are weaker \
         than the minimum m=19456 KiB, t=2, p=1"
    )]
    WeakParams {
        memory_kib: u32,
        iterations: u32,
        parallelism: u32,
    },
    #[error("Argon2id parameters are invalid: {0}")]
    InvalidParams(#[source] argon2::Error),
    #[error("The stored password hash is not a valid Argon2 PHC string: {0}")]
    Malformed(#[source] argon2::password_hash::Error),
    #[error("The stored password hash uses {0}, but only Argon2id version 19 is accepted")]
    Unsupported(String),
    #[error("The system random number generator failed")]
    Random,
    #[error("Argon2id hashing failed: {0}")]
    Argon2(#[source] argon2::Error),
    #[error("Could not write the Argon2id PHC string: {0}")]
    Encoding(#[source] argon2::password_hash::Error),
}

/// Argon2id cost parameters. Never weaker than [`HashParams::MINIMUM`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
}

impl HashParams {
    /// OWASP's Argon2id minimum, required by SECURITY.md #3; also the default.
    pub const MINIMUM: Self = Self {
        memory_kib: 19_456,
        iterations: 2,
        parallelism: 1,
    };

    /// Checked constructor: refuses anything below [`HashParams::MINIMUM`].
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<Self, HashError> {
        let params = Self {
            memory_kib,
            iterations,
            parallelism,
        };
        if params.is_weaker_than(&Self::MINIMUM) {
            return Err(HashError::WeakParams {
                memory_kib,
                iterations,
                parallelism,
            });
        }
        params.to_argon2(None).map_err(HashError::InvalidParams)?;
        Ok(params)
    }

    pub fn memory_kib(&self) -> u32 {
        self.memory_kib
    }

    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    pub fn parallelism(&self) -> u32 {
        self.parallelism
    }

    /// True when any cost is lower than `other`'s.
    fn is_weaker_than(&self, other: &Self) -> bool {
        self.memory_kib < other.memory_kib
            || self.iterations < other.iterations
            || self.parallelism < other.parallelism
    }

    fn to_argon2(self, output_len: Option<usize>) -> Result<Params, argon2::Error> {
        Params::new(
            self.memory_kib,
            self.iterations,
            self.parallelism,
            output_len,
        )
    }
}

impl Default for HashParams {
    fn default() -> Self {
        Self::MINIMUM
    }
}

/// The outcome of checking a password against a stored hash.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// Wrong password.
    Mismatch,
    /// Right password, and the stored hash is as strong as current policy.
    Match,
    /// Right password, but the stored hash is weaker than current policy:
    /// hash it again now, while the plaintext is at hand.
    MatchNeedsRehash,
}

impl Verification {
    pub fn is_match(self) -> bool {
        !matches!(self, Self::Mismatch)
    }
}

/// Hashes and verifies passwords with Argon2id at fixed parameters.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    params: HashParams,
    /// A hash with the current parameters that no password is known to
    /// match (its output is all zeros), for [`PasswordHasher::dummy_verify`].
    dummy: String,
}

impl PasswordHasher {
    pub fn new(params: HashParams) -> Result<Self, HashError> {
        let dummy = phc_string(params, &[0x5a; SALT_LEN], &[0; OUTPUT_LEN])?;
        Ok(Self { params, dummy })
    }

    pub fn params(&self) -> HashParams {
        self.params
    }

    /// Hashes the NFKC-normalised password, whole (never truncated), with a
    /// fresh 16-byte salt. Returns a PHC string such as
    /// `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`.
    pub fn hash(&self, password: &str, rng: &dyn SecureRandom) -> Result<String, HashError> {
        let normalised = normalise(password);
        let mut salt = [0u8; SALT_LEN];
        rng.fill(&mut salt).map_err(|_| HashError::Random)?;
        let mut output = Zeroizing::new([0u8; OUTPUT_LEN]);
        let params = self
            .params
            .to_argon2(Some(OUTPUT_LEN))
            .map_err(HashError::InvalidParams)?;
        argon2id(params)
            .hash_password_into(normalised.as_bytes(), &salt, output.as_mut())
            .map_err(HashError::Argon2)?;
        phc_string(self.params, &salt, output.as_ref())
    }

    /// Checks a password against a stored PHC string, comparing in constant
    /// time, and says whether the stored hash should be replaced.
    pub fn verify(&self, password: &str, stored: &str) -> Result<Verification, HashError> {
        let normalised = normalise(password);
        let parsed = PasswordHash::new(stored).map_err(|e| HashError::Malformed(e.into()))?;
        if parsed.algorithm != ARGON2ID_IDENT || parsed.version.is_some_and(|v| v != 0x13) {
            return Err(HashError::Unsupported(format!(
                "{} version {}",
                parsed.algorithm,
                parsed.version.unwrap_or(0x13)
            )));
        }
        let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
            return Err(HashError::Unsupported(
                "a hash without salt or output".into(),
            ));
        };
        let params = Params::try_from(&parsed.params).map_err(HashError::Malformed)?;
        let stored_params = HashParams {
            memory_kib: params.m_cost(),
            iterations: params.t_cost(),
            parallelism: params.p_cost(),
        };
        let mut computed = Zeroizing::new(vec![0u8; expected.len()]);
        argon2id(params)
            .hash_password_into(normalised.as_bytes(), salt, &mut computed)
            .map_err(HashError::Argon2)?;
        if !bool::from(computed.ct_eq(expected.as_bytes())) {
            return Ok(Verification::Mismatch);
        }
        let weaker = stored_params.is_weaker_than(&self.params)
            || expected.len() < OUTPUT_LEN
            || salt.len() < SALT_LEN;
        Ok(if weaker {
            Verification::MatchNeedsRehash
        } else {
            Verification::Match
        })
    }

    /// Does the work of a [`PasswordHasher::verify`] with the current
    /// parameters and throws the result away. Call it when the account does
    /// not exist, so that the response takes as long as for a real account
    /// and timing does not reveal which emails are registered.
    pub fn dummy_verify(&self, password: &str) {
        // The outcome is always a failed sign-in, so neither a result nor an
        // error changes anything; only the time spent matters.
        let _ = std::hint::black_box(self.verify(password, &self.dummy));
    }
}

fn argon2id(params: Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn phc_string(params: HashParams, salt: &[u8], output: &[u8]) -> Result<String, HashError> {
    let argon2_params = params
        .to_argon2(Some(output.len()))
        .map_err(HashError::InvalidParams)?;
    let encoding = |e: argon2::password_hash::phc::Error| HashError::Encoding(e.into());
    let hash = PasswordHash {
        algorithm: ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&argon2_params).map_err(HashError::Encoding)?,
        salt: Some(Salt::new(salt).map_err(encoding)?),
        hash: Some(Output::new(output).map_err(encoding)?),
    };
    Ok(hash.to_string())
}

#[cfg(test)]
mod tests;
