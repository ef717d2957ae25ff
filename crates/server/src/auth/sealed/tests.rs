//! Tests for sealing secrets at rest: round trip, binding to the row,
//! tampering, wrong keys, key parsing and rotation.

use super::*;
use ring::rand::SystemRandom;

const HEX_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const SECRET: &[u8] = b"12345678901234567890";

fn key(id: u8, fill: u8) -> SealingKey {
    SealingKey::new(id, &[fill; KEY_LEN]).unwrap()
}

#[test]
fn seal_then_open_with_the_same_row() {
    let key = key(1, 7);
    let sealed = key
        .seal(SECRET, b"account:42", &SystemRandom::new())
        .unwrap();
    assert_eq!(sealed.len(), 1 + 12 + SECRET.len() + 16);
    assert_eq!(sealed[0], 1);
    assert!(!sealed.windows(SECRET.len()).any(|w| w == SECRET));
    assert_eq!(key.open(&sealed, b"account:42").unwrap().as_slice(), SECRET);
    // Fresh nonce each time.
    let again = key
        .seal(SECRET, b"account:42", &SystemRandom::new())
        .unwrap();
    assert_ne!(sealed, again);
    // Empty plaintext works too.
    let empty = key.seal(b"", b"", &SystemRandom::new()).unwrap();
    assert!(key.open(&empty, b"").unwrap().is_empty());
}

#[test]
fn a_secret_copied_to_another_account_does_not_open() {
    let key = key(1, 7);
    let sealed = key
        .seal(SECRET, b"account:42", &SystemRandom::new())
        .unwrap();
    assert_eq!(key.open(&sealed, b"account:43"), Err(SealError::Failed));
    assert_eq!(key.open(&sealed, b""), Err(SealError::Failed));
}

#[test]
fn changing_any_byte_makes_opening_fail() {
    let key = key(3, 7);
    let sealed = key
        .seal(SECRET, b"account:42", &SystemRandom::new())
        .unwrap();
    for index in 0..sealed.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut tampered = sealed.clone();
            tampered[index] ^= flip;
            let error = key.open(&tampered, b"account:42").unwrap_err();
            let expected = if index == 0 {
                SealError::WrongKeyId {
                    expected: 3,
                    found: 3 ^ flip,
                }
            } else {
                SealError::Failed
            };
            assert_eq!(error, expected, "byte {index} ^ {flip:#x}");
        }
    }
    for len in [0, 1, 13, 28] {
        assert_eq!(
            key.open(&sealed[..len], b"account:42"),
            Err(SealError::Truncated)
        );
    }
    assert_eq!(
        key.open(&sealed[..29], b"account:42"),
        Err(SealError::Failed)
    );
    let mut longer = sealed.clone();
    longer.push(0);
    assert_eq!(key.open(&longer, b"account:42"), Err(SealError::Failed));
}

#[test]
fn a_wrong_key_fails() {
    let sealed = key(1, 7).seal(SECRET, b"a", &SystemRandom::new()).unwrap();
    assert_eq!(key(1, 8).open(&sealed, b"a"), Err(SealError::Failed));
    assert_eq!(
        key(2, 7).open(&sealed, b"a"),
        Err(SealError::WrongKeyId {
            expected: 2,
            found: 1
        })
    );
}

#[test]
fn keys_parse_from_hex_and_base64_and_refuse_wrong_lengths() {
    let raw: Vec<u8> = (0u8..32).collect();
    let reference = SealingKey::new(0, &raw).unwrap();
    let sealed = reference.seal(SECRET, b"x", &SystemRandom::new()).unwrap();
    let base64 = data_encoding::BASE64.encode(&raw);
    let base64url = data_encoding::BASE64URL.encode(&[0xfb; 32]);
    for parsed in [
        SealingKey::from_hex(0, HEX_KEY).unwrap(),
        SealingKey::from_hex(0, &format!(" {}\n", HEX_KEY.to_uppercase())).unwrap(),
        SealingKey::from_base64(0, &base64).unwrap(),
    ] {
        assert_eq!(parsed.open(&sealed, b"x").unwrap().as_slice(), SECRET);
    }
    assert!(SealingKey::from_base64(0, &base64url).is_ok());

    let cases = [
        (
            SealingKey::from_hex(0, &HEX_KEY[..62]),
            SealError::KeyLength(31),
        ),
        (
            SealingKey::from_hex(0, &format!("{HEX_KEY}00")),
            SealError::KeyLength(33),
        ),
        (
            SealingKey::from_hex(0, "xyz"),
            SealError::KeyEncoding("hex"),
        ),
        (SealingKey::from_base64(0, "AAAA"), SealError::KeyLength(3)),
        (
            SealingKey::from_base64(0, "not base64!"),
            SealError::KeyEncoding("base64"),
        ),
        (SealingKey::new(0, &[0; 16]), SealError::KeyLength(16)),
    ];
    for (result, expected) in cases {
        assert_eq!(result.unwrap_err(), expected);
    }
    assert_eq!(
        SealError::KeyLength(16).to_string(),
        "A sealing key must be 32 bytes (64 hex or 44 base64 characters), not 16 bytes"
    );
    assert_eq!(format!("{reference:?}"), "SealingKey(id 0, <redacted>)");
}

#[test]
fn rotation_opens_old_values_and_reseals_with_the_new_key() {
    let rng = SystemRandom::new();
    let old_sealed = key(1, 7).seal(SECRET, b"account:42", &rng).unwrap();
    let keys = SealingKeys::new(key(2, 9), vec![key(1, 7)]).unwrap();
    assert!(keys.needs_reseal(&old_sealed));
    let opened = keys.open(&old_sealed, b"account:42").unwrap();
    let resealed = keys.seal(&opened, b"account:42", &rng).unwrap();
    assert_eq!(resealed[0], 2);
    assert!(!keys.needs_reseal(&resealed));
    assert_eq!(
        keys.open(&resealed, b"account:42").unwrap().as_slice(),
        SECRET
    );

    let unknown = key(5, 7).seal(SECRET, b"account:42", &rng).unwrap();
    assert_eq!(
        keys.open(&unknown, b"account:42"),
        Err(SealError::UnknownKey(5))
    );
    assert_eq!(
        SealingKeys::new(key(1, 1), vec![key(1, 2)]).unwrap_err(),
        SealError::DuplicateKeyId(1)
    );
}
