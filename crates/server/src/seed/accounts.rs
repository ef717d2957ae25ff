//! The demo company's three sign-in accounts (distributor, manager, admin): random
//! passwords hashed with Argon2id, TOTP on with a sealed secret, and ten recovery codes.

use canopy_core::provisioning::DemoAccount;
use canopy_core::{Email, MemberId, Role};
use data_encoding::HEXLOWER;
use ring::rand::SecureRandom;
use time::OffsetDateTime;

use super::DemoMembers;
use crate::app::totp_aad;
use crate::auth::password::{Identifiers, PasswordPolicy};
use crate::auth::{HashError, HashParams, PasswordHasher, RecoveryError, SealError, SealingKeys};
use crate::auth::{TotpError, TotpSecret, recovery};
use crate::storage::{NewAccount, Storage, StorageError, TokenHash};

/// Why the demo accounts could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error("cannot store a demo account: {0}")]
    Storage(#[from] StorageError),
    #[error("cannot hash a demo password: {0}")]
    Hash(#[from] HashError),
    #[error("cannot make a TOTP secret: {0}")]
    Totp(#[from] TotpError),
    #[error("cannot seal a TOTP secret: {0}")]
    Seal(#[from] SealError),
    #[error("cannot make recovery codes: {0}")]
    Recovery(#[from] RecoveryError),
    #[error("the system random number generator failed")]
    Random,
    #[error("a generated demo password or email was refused (a bug): {0}")]
    Generated(String),
}

/// The address each demo account signs in with.
pub fn demo_email(role: Role) -> String {
    format!("{}@demo.canopy.example", role.key())
}

/// Creates the three accounts, linked to `members`, and returns their details in clear
/// (distributor, manager, admin). Fails with a conflict if one already exists.
pub async fn create_demo_accounts(
    storage: &dyn Storage,
    keys: &SealingKeys,
    members: &DemoMembers,
    rng: &dyn SecureRandom,
    now: OffsetDateTime,
) -> Result<Vec<DemoAccount>, AccountsError> {
    let hasher = PasswordHasher::new(HashParams::default())?;
    let mut made = Vec::with_capacity(3);
    for (role, member) in [
        (Role::Distributor, members.distributor),
        (Role::Manager, members.manager),
        (Role::Admin, members.admin),
    ] {
        made.push(create_one(storage, keys, &hasher, role, member, rng, now).await?);
    }
    Ok(made)
}

async fn create_one(
    storage: &dyn Storage,
    keys: &SealingKeys,
    hasher: &PasswordHasher,
    role: Role,
    member: MemberId,
    rng: &dyn SecureRandom,
    now: OffsetDateTime,
) -> Result<DemoAccount, AccountsError> {
    let email_text = demo_email(role);
    let email = Email::parse(&email_text).map_err(|e| AccountsError::Generated(e.to_string()))?;
    let password = random_password(rng)?;
    PasswordPolicy { has_mfa: true }
        .check(
            &password,
            &Identifiers {
                email: Some(&email_text),
                ..Identifiers::default()
            },
        )
        .map_err(|e| AccountsError::Generated(e.to_string()))?;
    let account = storage
        .create_account(
            NewAccount {
                email,
                password_hash: hasher.hash(&password, rng)?,
                role,
                member: Some(member),
            },
            now,
        )
        .await?;
    let secret = TotpSecret::generate(rng)?;
    // Sealed exactly as the API seals and opens it (`app::totp_aad`: bound to the account).
    let sealed = keys.seal(secret.as_bytes(), &totp_aad(account.id), rng)?;
    storage.set_mfa(account.id, Some(sealed), true).await?;
    let (codes, hashes) = recovery::generate(rng)?;
    let hashes = hashes
        .iter()
        .map(|hex| token_hash(hex))
        .collect::<Result<Vec<_>, _>>()?;
    storage.replace_recovery_codes(account.id, hashes).await?;
    Ok(DemoAccount {
        role,
        email: email_text,
        password,
        totp_secret: secret.to_base32().to_string(),
        recovery_codes: codes,
    })
}

/// Three groups of five lowercase letters and digits (`k3v9q-…`): about 77 bits, easy to type.
fn random_password(rng: &dyn SecureRandom) -> Result<String, AccountsError> {
    const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 15];
    rng.fill(&mut bytes).map_err(|_| AccountsError::Random)?;
    let mut password = String::with_capacity(17);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 && i % 5 == 0 {
            password.push('-');
        }
        password.push(char::from(ALPHABET[usize::from(b & 31)]));
    }
    Ok(password)
}

fn token_hash(hex: &str) -> Result<TokenHash, AccountsError> {
    let bytes = HEXLOWER
        .decode(hex.as_bytes())
        .map_err(|e| AccountsError::Generated(e.to_string()))?;
    let array = <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| AccountsError::Generated("recovery code hash length".to_owned()))?;
    Ok(TokenHash(array))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_pass_the_policy_and_differ() {
        let rng = ring::rand::SystemRandom::new();
        let a = random_password(&rng).unwrap();
        let b = random_password(&rng).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 17);
        assert!(
            PasswordPolicy { has_mfa: true }
                .check(&a, &Identifiers::default())
                .is_ok()
        );
    }
}
