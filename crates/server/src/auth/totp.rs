//! Time-based one-time passwords (RFC 6238: HMAC-SHA1, 6 digits, 30 s steps)
//! for two-step sign-in: secrets, `otpauth://` URIs, codes and verification.

use data_encoding::BASE32_NOPAD;
use ring::hmac;
use ring::rand::SecureRandom;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Digits in a code, as every authenticator app expects by default.
pub const DIGITS: u32 = 6;
/// Seconds per time step (RFC 6238's default X).
pub const STEP_SECONDS: u64 = 30;
/// Secret length in bytes: 160 bits, the HMAC-SHA1 output size that
/// RFC 4226 §4 recommends (SECURITY.md #8).
pub const SECRET_LEN: usize = 20;

/// Anything longer than this can't be a code, even with spaces; refusing it
/// early keeps the work per request small.
const MAX_INPUT_LEN: usize = 32;

/// Why a code or secret was refused. `Display` is the message for the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    #[error("Enter the 6-digit code from your authenticator app")]
    Malformed,
    #[error(
        "That code is not right: check that your phone sets its clock automatically, \
         then enter the newest code"
    )]
    Incorrect,
    #[error("That code has already been used: wait for the next one")]
    Replayed,
    #[error("A two-step sign-in secret must be {SECRET_LEN} bytes, not {0}")]
    SecretLength(usize),
    #[error("The system random number generator failed")]
    Random,
}

/// A TOTP shared secret: 160 random bits, wiped from memory on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct TotpSecret([u8; SECRET_LEN]);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

impl TotpSecret {
    /// A fresh random secret, for enrolling a person in two-step sign-in.
    pub fn generate(rng: &dyn SecureRandom) -> Result<Self, TotpError> {
        let mut secret = Self([0; SECRET_LEN]);
        rng.fill(&mut secret.0).map_err(|_| TotpError::Random)?;
        Ok(secret)
    }

    /// Rebuilds a secret from its raw bytes (after unsealing it).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TotpError> {
        let array = <[u8; SECRET_LEN]>::try_from(bytes)
            .map_err(|_| TotpError::SecretLength(bytes.len()))?;
        Ok(Self(array))
    }

    /// The raw bytes, to seal for storage.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Base32 without padding (32 characters), what a person types into an
    /// authenticator app when they can't scan the QR code.
    pub fn to_base32(&self) -> Zeroizing<String> {
        Zeroizing::new(BASE32_NOPAD.encode(&self.0))
    }

    /// The Key URI that authenticator apps read from a QR code:
    /// `otpauth://totp/Issuer:account?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30`.
    /// Issuer and account are percent-encoded, so any text is safe in them.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> Zeroizing<String> {
        let issuer = percent_encode(issuer);
        Zeroizing::new(format!(
            "otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}\
             &algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
            account = percent_encode(account),
            secret = self.to_base32().as_str(),
        ))
    }

    /// The code an authenticator app shows at `unix_time` (seconds).
    pub fn code_at(&self, unix_time: u64) -> String {
        self.code_for_step::<DIGITS>(unix_time / STEP_SECONDS)
    }

    /// Checks a code typed at `now` (Unix seconds). Accepts the previous,
    /// current and next step, to allow for clock drift and typing time
    /// (RFC 6238 §5.2), compares in constant time, and refuses any step not
    /// later than `last_used_step` so that a code works only once (§5.2).
    /// Returns the matched step: store it as the new `last_used_step`.
    pub fn verify(
        &self,
        code: &str,
        now: u64,
        last_used_step: Option<u64>,
    ) -> Result<u64, TotpError> {
        let code = parse_code(code)?;
        let current = now / STEP_SECONDS;
        let mut matched: Option<u64> = None;
        // All three candidates are computed and compared, so the time taken
        // does not depend on which step (if any) matched.
        for step in [
            current.saturating_sub(1),
            current,
            current.saturating_add(1),
        ] {
            let expected = self.code_for_step::<DIGITS>(step);
            if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) {
                matched = matched.max(Some(step));
            }
        }
        let step = matched.ok_or(TotpError::Incorrect)?;
        if last_used_step.is_some_and(|last| step <= last) {
            return Err(TotpError::Replayed);
        }
        Ok(step)
    }

    /// HOTP (RFC 4226 §5.3) over the step counter, `N` digits, zero-padded.
    fn code_for_step<const N: u32>(&self, step: u64) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &self.0);
        let value = truncate(hmac::sign(&key, &step.to_be_bytes()).as_ref()) % 10u32.pow(N);
        format!("{value:0width$}", width = N as usize)
    }
}

/// RFC 4226 §5.3 dynamic truncation: the low nibble of the last byte picks
/// four bytes, whose top bit is dropped. Written here rather than taken from
/// an OTP crate: it is a dozen lines over ring's HMAC, one dependency fewer.
fn truncate(mac: &[u8]) -> u32 {
    let Some(&last) = mac.last() else {
        return 0;
    };
    let offset = usize::from(last & 0x0f);
    match mac.get(offset..offset + 4) {
        Some(&[a, b, c, d]) => u32::from_be_bytes([a & 0x7f, b, c, d]),
        // Unreachable for SHA-1's 20 bytes (offset + 4 <= 19).
        _ => 0,
    }
}

/// Strips spaces (apps show "123 456") and requires exactly six ASCII digits.
fn parse_code(input: &str) -> Result<String, TotpError> {
    if input.len() > MAX_INPUT_LEN {
        return Err(TotpError::Malformed);
    }
    let code: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TotpError::Malformed);
    }
    Ok(code)
}

/// RFC 3986 percent-encoding of everything but the unreserved characters,
/// so that `:`, `@`, `&`, `?`, spaces and non-ASCII can't break the URI.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use ring::rand::SystemRandom;

    /// RFC 6238 appendix B's SHA-1 seed.
    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890").unwrap()
    }

    #[test]
    fn rfc_6238_appendix_b_sha1_vectors() {
        let secret = rfc_secret();
        for (time, code) in [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(
                secret.code_for_step::<8>(time / STEP_SECONDS),
                code,
                "T={time}"
            );
            // The 6-digit code is the same value modulo 10^6.
            assert_eq!(secret.code_at(time), code[2..], "T={time}");
        }
    }

    #[test]
    fn one_step_either_side_is_accepted_two_are_not() {
        let secret = rfc_secret();
        let now = 1_234_567_890;
        let step = now / STEP_SECONDS;
        for offset in [-1i64, 0, 1] {
            let at = now.checked_add_signed(offset * 30).unwrap();
            assert_eq!(secret.verify(&secret.code_at(at), now, None), Ok(at / 30));
        }
        for offset in [-2i64, 2, 10] {
            let at = now.checked_add_signed(offset * 30).unwrap();
            assert_eq!(
                secret.verify(&secret.code_at(at), now, None),
                Err(TotpError::Incorrect),
                "offset {offset}"
            );
        }
        assert_eq!(
            secret.verify(&secret.code_at(now), now, Some(step - 1)),
            Ok(step)
        );
    }

    #[test]
    fn a_code_works_only_once() {
        let secret = rfc_secret();
        let now = 1_700_000_000;
        let code = secret.code_at(now);
        let step = secret.verify(&code, now, None).unwrap();
        assert_eq!(
            secret.verify(&code, now, Some(step)),
            Err(TotpError::Replayed)
        );
        assert_eq!(
            secret.verify(&code, now + 20, Some(step)),
            Err(TotpError::Replayed)
        );
        // Nor does an older code once a newer one was used.
        let previous = secret.code_at(now - 30);
        assert_eq!(
            secret.verify(&previous, now, Some(step)),
            Err(TotpError::Replayed)
        );
        assert_eq!(
            TotpError::Replayed.to_string(),
            "That code has already been used: wait for the next one"
        );
    }

    #[test]
    fn codes_with_spaces_are_accepted_anything_else_is_malformed() {
        let secret = rfc_secret();
        let now = 59;
        let code = secret.code_at(now);
        let spaced = format!(" {} {} ", &code[..3], &code[3..]);
        assert_eq!(secret.verify(&spaced, now, None), Ok(1));
        for bad in [
            "",
            "12345",
            "1234567",
            "12345a",
            "١٢٣٤٥٦",
            "123-456",
            "+12345",
        ] {
            assert_eq!(
                secret.verify(bad, now, None),
                Err(TotpError::Malformed),
                "{bad:?}"
            );
        }
        assert_eq!(
            TotpError::Malformed.to_string(),
            "Enter the 6-digit code from your authenticator app"
        );
    }

    #[test]
    fn secrets_are_160_random_bits_shown_in_base32() {
        let rng = SystemRandom::new();
        let a = TotpSecret::generate(&rng).unwrap();
        let b = TotpSecret::generate(&rng).unwrap();
        assert_eq!(a.as_bytes().len(), 20);
        assert_ne!(a.as_bytes(), b.as_bytes());
        assert_eq!(
            rfc_secret().to_base32().as_str(),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        );
        assert_eq!(format!("{a:?}"), "TotpSecret(<redacted>)");
        assert_eq!(
            TotpSecret::from_bytes(&[0; 16]).unwrap_err(),
            TotpError::SecretLength(16)
        );
    }

    #[test]
    fn otpauth_uri_is_percent_encoded() {
        let uri = rfc_secret().otpauth_uri("Canopy", "jane.doe@example.com");
        assert_eq!(
            uri.as_str(),
            "otpauth://totp/Canopy:jane.doe%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=Canopy&algorithm=SHA1&digits=6&period=30"
        );
        let uri = rfc_secret().otpauth_uri("Acme & Co: Ré", "a b?c=d#e/f");
        assert!(
            uri.starts_with(
                "otpauth://totp/Acme%20%26%20Co%3A%20R%C3%A9:a%20b%3Fc%3Dd%23e%2Ff?secret="
            ),
            "{}",
            uri.as_str()
        );
        assert!(uri.contains("&issuer=Acme%20%26%20Co%3A%20R%C3%A9&"));
    }

    proptest! {
        #[test]
        fn verify_never_panics(code in ".*", now: u64, last: Option<u64>) {
            let _ = rfc_secret().verify(&code, now, last);
        }

        #[test]
        fn verify_accepts_its_own_code(now in 30u64..u64::MAX / 2) {
            let secret = rfc_secret();
            // The next step's code could coincide (one chance in a million),
            // and the later step wins.
            let step = secret.verify(&secret.code_at(now), now, None);
            prop_assert!(step == Ok(now / 30) || step == Ok(now / 30 + 1), "{:?}", step);
        }
    }
}
