//! Single-use recovery codes for when the authenticator app is lost: ten
//! random codes shown once, stored only as SHA-256 hashes (SECURITY.md #9).

use data_encoding::HEXLOWER;
use ring::digest::{SHA256, digest};
use ring::rand::SecureRandom;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// How many codes a person gets each time they (re)generate them.
pub const CODE_COUNT: usize = 10;

/// Characters per code. 24 characters from a 32-letter alphabet carry 120
/// bits of entropy. ASVS 5.0 §6.5.2 lets lookup secrets be stored with a
/// plain, unsalted hash only from 112 bits up; below that they would need a
/// salted password hash, which means one Argon2 run per stored code on every
/// attempt. With 120 bits a stolen table of SHA-256 hashes can't be brute
/// forced, and online guessing is hopeless even before throttling.
pub const CODE_CHARS: usize = 24;
/// Characters per group in the displayed form `ABCD-EFGH-…`.
const GROUP_CHARS: usize = 4;

/// Crockford's base32 alphabet: no I, L, O or U, so nothing to confuse with
/// 1, 0 or V when a person copies the code from paper. 32 symbols, so a
/// random byte's low five bits pick one without bias.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Refuse absurd inputs before doing any work on them.
const MAX_INPUT_LEN: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RecoveryError {
    #[error(
        "A recovery code has {CODE_CHARS} letters and digits, like \
         7K2M-QX9D-4HNP-TV3W-8RZB-6CJA"
    )]
    Malformed,
    #[error("The system random number generator failed")]
    Random,
}

/// Makes ten new codes. Returns what to show the person, once, in the
/// grouped form `XXXX-XXXX-XXXX-XXXX-XXXX-XXXX`, and the hashes to store in
/// the same order. Storing new hashes must replace every old one.
pub fn generate(rng: &dyn SecureRandom) -> Result<(Vec<String>, Vec<String>), RecoveryError> {
    let mut shown: Vec<String> = Vec::with_capacity(CODE_COUNT);
    while shown.len() < CODE_COUNT {
        let code = random_code(rng)?;
        // A repeat has odds of about 2^-120: the check costs nothing.
        if !shown.contains(&code) {
            shown.push(code);
        }
    }
    let hashes = shown.iter().map(|code| hash_normalised(code)).collect();
    let shown = shown.iter().map(|code| group(code)).collect();
    Ok((shown, hashes))
}

/// The canonical form of a typed code: dashes and whitespace removed,
/// uppercase, and Crockford's look-alikes read as digits (O → 0, I/L → 1).
pub fn normalise(input: &str) -> Result<Zeroizing<String>, RecoveryError> {
    if input.len() > MAX_INPUT_LEN {
        return Err(RecoveryError::Malformed);
    }
    let mut code = Zeroizing::new(String::with_capacity(CODE_CHARS));
    for c in input.chars() {
        let c = match c.to_ascii_uppercase() {
            '-' => continue,
            c if c.is_whitespace() => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c if c.is_ascii() && ALPHABET.contains(&(c as u8)) => c,
            _ => return Err(RecoveryError::Malformed),
        };
        code.push(c);
    }
    if code.len() != CODE_CHARS {
        return Err(RecoveryError::Malformed);
    }
    Ok(code)
}

/// SHA-256, lowercase hex, of the normalised code: what the database stores.
pub fn hash(code: &str) -> Result<String, RecoveryError> {
    Ok(hash_normalised(&normalise(code)?))
}

/// Whether a typed code is the one behind `stored_hash`, compared in
/// constant time. A malformed input matches nothing.
pub fn matches(input: &str, stored_hash: &str) -> bool {
    hash(input).is_ok_and(|h| bool::from(h.as_bytes().ct_eq(stored_hash.as_bytes())))
}

/// Which of a person's stored hashes a typed code matches, if any. Every
/// hash is compared, so the time taken doesn't tell which one matched.
pub fn find(input: &str, stored_hashes: &[String]) -> Option<usize> {
    let typed = hash(input).ok()?;
    let mut found = None;
    for (index, stored) in stored_hashes.iter().enumerate() {
        if bool::from(typed.as_bytes().ct_eq(stored.as_bytes())) {
            found = Some(index);
        }
    }
    found
}

fn random_code(rng: &dyn SecureRandom) -> Result<String, RecoveryError> {
    let mut bytes = Zeroizing::new([0u8; CODE_CHARS]);
    rng.fill(bytes.as_mut())
        .map_err(|_| RecoveryError::Random)?;
    Ok(bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 0x1f)]))
        .collect())
}

fn hash_normalised(code: &str) -> String {
    HEXLOWER.encode(digest(&SHA256, code.as_bytes()).as_ref())
}

fn group(code: &str) -> String {
    code.as_bytes()
        .chunks(GROUP_CHARS)
        .map(|chunk| chunk.iter().map(|&b| char::from(b)).collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    const CODE: &str = "7K2M-QX9D-4HNP-TV3W-8RZB-6CJA";

    #[test]
    fn ten_distinct_codes_with_matching_hashes() {
        let (shown, hashes) = generate(&SystemRandom::new()).unwrap();
        assert_eq!(shown.len(), CODE_COUNT);
        assert_eq!(hashes.len(), CODE_COUNT);
        let distinct: std::collections::HashSet<_> = shown.iter().collect();
        assert_eq!(distinct.len(), CODE_COUNT);
        for (code, stored) in shown.iter().zip(&hashes) {
            assert_eq!(
                code.len(),
                CODE_CHARS + CODE_CHARS / GROUP_CHARS - 1,
                "{code}"
            );
            assert!(code.split('-').all(|g| g.len() == GROUP_CHARS), "{code}");
            assert!(code.bytes().all(|b| b == b'-' || ALPHABET.contains(&b)));
            assert_eq!(stored.len(), 64);
            assert!(matches(code, stored));
        }
        assert_eq!(find(&shown[7], &hashes), Some(7));
    }

    #[test]
    fn typed_variants_normalise_to_the_same_code() {
        let canonical = "7K2MQX9D4HNPTV3W8RZB6CJA";
        for typed in [
            CODE,
            "7k2m-qx9d-4hnp-tv3w-8rzb-6cja",
            "7K2M QX9D 4HNP TV3W 8RZB 6CJA",
            " 7K2MQX9D4HNPTV3W8RZB6CJA\n",
            "7k2m qx9d-4hnp  tv3w-8rzb-6cja",
        ] {
            assert_eq!(normalise(typed).unwrap().as_str(), canonical, "{typed:?}");
        }
        // Look-alikes are read as the digits they resemble.
        assert_eq!(
            normalise("OIL0-0000-0000-0000-0000-0000").unwrap().as_str(),
            "011000000000000000000000"
        );
        assert_eq!(
            hash(CODE).unwrap(),
            hash("7k2mqx9d4hnptv3w8rzb6cja").unwrap()
        );
    }

    #[test]
    fn wrong_or_malformed_codes_match_nothing() {
        let stored = hash(CODE).unwrap();
        assert!(matches("7k2m-qx9d-4hnp-tv3w-8rzb-6cja", &stored));
        for bad in [
            "",
            "7K2M-QX9D-4HNP-TV3W-8RZB-6CJB",
            "7K2M-QX9D-4HNP-TV3W-8RZB-6CJ",
            "7K2M-QX9D-4HNP-TV3W-8RZB-6CJAA",
            "7K2M-QX9D-4HNP-TV3W-8RZB-6CJU",
            "7K2M-QX9D-4HNP-TV3W-8RZB-6CJ€",
        ] {
            assert!(!matches(bad, &stored), "{bad:?}");
        }
        assert_eq!(find("7K2M-QX9D-4HNP-TV3W-8RZB-6CJB", &[stored]), None);
        assert_eq!(normalise(&"A".repeat(500)), Err(RecoveryError::Malformed));
        assert_eq!(
            RecoveryError::Malformed.to_string(),
            "A recovery code has 24 letters and digits, like 7K2M-QX9D-4HNP-TV3W-8RZB-6CJA"
        );
    }

    #[test]
    fn the_stored_hash_is_sha256_hex_of_the_normalised_code() {
        // sha256("7K2MQX9D4HNPTV3W8RZB6CJA"), computed independently.
        assert_eq!(
            hash(CODE).unwrap(),
            "68765e285e5eb0a111dd83978d9e4470c0a59d8848d0311c9306b08ae127f769"
        );
    }
}
