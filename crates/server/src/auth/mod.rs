//! Authentication primitives: password policy and hashing, TOTP, recovery
//! codes, opaque tokens and the sealing of secrets at rest. Pure functions
//! over bytes and strings: no database, no HTTP.
//!
//! Randomness is always passed in as `&dyn ring::rand::SecureRandom`; the
//! server holds one `ring::rand::SystemRandom` and lends it out.

pub mod password;
pub mod recovery;
pub mod sealed;
pub mod token;
pub mod totp;

pub use password::{
    HashError, HashParams, Identifiers, PasswordHasher, PasswordPolicy, PolicyError, Verification,
};
pub use recovery::RecoveryError;
pub use sealed::{SealError, SealingKey, SealingKeys};
pub use token::{Token, TokenError, TokenHash, TokenKind};
pub use totp::{TotpError, TotpSecret};
