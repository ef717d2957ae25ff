//! Identifiers: opaque newtypes over the server's integer ids, the member number people see,
//! and the idempotency key that makes an offline command apply exactly once.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! server_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            pub const fn new(raw: i64) -> Self {
                Self(raw)
            }

            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

server_id!(
    /// A member of the genealogy (distributor or customer), as numbered by the server.
    /// Internal: show people the [`MemberNumber`] instead.
    MemberId
);
server_id!(
    /// An order.
    OrderId
);
server_id!(
    /// A sign-in account (a person who uses the app); its role decides what it may see.
    AccountId
);
server_id!(
    /// A retail customer of a distributor.
    CustomerId
);
server_id!(
    /// One line of an earnings statement.
    EarningsLineId
);

/// The member number printed on cards and statements, e.g. `10045821`.
///
/// Kept as text so leading zeros survive. People may type it with spaces or dashes
/// (`1004-5821`); those are removed, and what remains must be 4 to 12 ASCII digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemberNumber(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MemberNumberError {
    #[error("Member numbers have 4 to 12 digits")]
    Invalid,
}

impl MemberNumber {
    pub const MIN_DIGITS: usize = 4;
    pub const MAX_DIGITS: usize = 12;

    pub fn parse(input: &str) -> Result<Self, MemberNumberError> {
        let mut digits = String::with_capacity(Self::MAX_DIGITS);
        for ch in input.trim().chars() {
            match ch {
                '0'..='9' => digits.push(ch),
                ' ' | '-' => {}
                _ => return Err(MemberNumberError::Invalid),
            }
        }
        if (Self::MIN_DIGITS..=Self::MAX_DIGITS).contains(&digits.len()) {
            Ok(Self(digits))
        } else {
            Err(MemberNumberError::Invalid)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

validated_string!(MemberNumber, MemberNumberError);

/// The client-made key of an offline command (enroll, order, …), so that the server applies
/// a command once however many times the outbox pushes it.
///
/// 16 to 64 characters of `A–Z a–z 0–9 - _` (a UUID in text form qualifies). Core has no
/// randomness; callers make one with [`IdempotencyKey::from_random_bytes`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdempotencyKey(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdempotencyKeyError {
    #[error("An idempotency key has 16 to 64 letters, digits, hyphens or underscores")]
    Invalid,
}

impl IdempotencyKey {
    pub const MIN_LEN: usize = 16;
    pub const MAX_LEN: usize = 64;

    /// Accepts the key as is: no trimming or case folding, since it is machine-made and
    /// compared byte for byte.
    pub fn parse(input: &str) -> Result<Self, IdempotencyKeyError> {
        let ok_len = (Self::MIN_LEN..=Self::MAX_LEN).contains(&input.len());
        let ok_chars = input
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok_len && ok_chars {
            Ok(Self(input.to_owned()))
        } else {
            Err(IdempotencyKeyError::Invalid)
        }
    }

    /// A 32-character lowercase hex key from 16 bytes the caller got from a secure random
    /// source (the OS in the app, `crypto.getRandomValues` in the browser).
    pub fn from_random_bytes(bytes: [u8; 16]) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut key = String::with_capacity(32);
        for b in bytes {
            key.push(char::from(HEX[usize::from(b >> 4)]));
            key.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
        Self(key)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

validated_string!(IdempotencyKey, IdempotencyKeyError);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_ids_are_transparent_integers() {
        let id = MemberId::new(42);
        assert_eq!(serde_json::to_string(&id).unwrap(), "42");
        assert_eq!(serde_json::from_str::<MemberId>("42").unwrap(), id);
        assert_eq!(id.to_string(), "42");
        assert_eq!(OrderId::new(7).get(), 7);
    }

    fn check_number(input: &str, expected: Result<&str, &str>) {
        let got = MemberNumber::parse(input)
            .map(|n| n.to_string())
            .map_err(|e| e.to_string());
        let expected = expected.map(str::to_owned).map_err(str::to_owned);
        assert_eq!(got, expected, "input {input:?}");
    }

    #[test]
    fn member_numbers() {
        check_number("10045821", Ok("10045821"));
        check_number(" 1004-5821 ", Ok("10045821"));
        check_number("0042", Ok("0042"));
        check_number("1004 5821 0000", Ok("100458210000"));
        check_number("123", Err("Member numbers have 4 to 12 digits"));
        check_number("1234567890123", Err("Member numbers have 4 to 12 digits"));
        check_number("12a4", Err("Member numbers have 4 to 12 digits"));
        check_number("١٢٣٤", Err("Member numbers have 4 to 12 digits"));
        check_number("", Err("Member numbers have 4 to 12 digits"));
    }

    #[test]
    fn member_number_serde_validates() {
        let n = MemberNumber::parse("0042").unwrap();
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"0042\"");
        assert_eq!(serde_json::from_str::<MemberNumber>("\"0042\"").unwrap(), n);
        assert!(serde_json::from_str::<MemberNumber>("\"42\"").is_err());
    }

    #[test]
    fn idempotency_keys() {
        let ok = [
            "0123456789abcdef",
            "018f3c2e-7b1a-7c3d-9e4f-0a1b2c3d4e5f",
            "A_B-C_D-E_F-G_H-",
            &"x".repeat(64),
        ];
        for key in ok {
            assert_eq!(IdempotencyKey::parse(key).unwrap().as_str(), key);
        }
        let bad = [
            "short",
            "0123456789abcde",
            " 0123456789abcdef",
            "0123456789abcdef!",
            &"x".repeat(65),
            "0123456789abcdéf",
        ];
        for key in bad {
            let err = IdempotencyKey::parse(key).unwrap_err();
            assert_eq!(
                err.to_string(),
                "An idempotency key has 16 to 64 letters, digits, hyphens or underscores"
            );
        }
    }

    #[test]
    fn idempotency_key_from_random_bytes_is_hex_and_valid() {
        let key = IdempotencyKey::from_random_bytes([
            0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x00, 0xff, 0x10, 0x20, 0x30, 0x40,
            0x50, 0x60,
        ]);
        assert_eq!(key.as_str(), "0123456789abcdef00ff102030405060");
        assert_eq!(IdempotencyKey::parse(key.as_str()), Ok(key));
    }
}
