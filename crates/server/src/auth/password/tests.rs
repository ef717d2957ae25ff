//! Tests for the password policy and Argon2id hashing: SECURITY.md #1–#3,
//! including the RFC 9106 §5.3 test vector.

use super::*;
use argon2::{AssociatedData, ParamsBuilder};
use ring::rand::SystemRandom;

const MFA: PasswordPolicy = PasswordPolicy { has_mfa: true };
const NO_MFA: PasswordPolicy = PasswordPolicy { has_mfa: false };

const JANE: Identifiers<'static> = Identifiers {
    email: Some("Jane.Doe@Example.com"),
    first_name: Some("Jane"),
    last_name: Some("Okonkwo"),
    member_number: Some("4711"),
};

fn check(policy: PasswordPolicy, password: &str, expected: Result<(), PolicyError>) {
    assert_eq!(
        policy.check(password, &JANE),
        expected,
        "password {password:?} with MFA {}",
        policy.has_mfa
    );
}

#[test]
fn length_is_counted_in_characters_after_normalisation() {
    use PolicyError::*;
    let cases: &[(PasswordPolicy, &str, Result<(), PolicyError>)] = &[
        (MFA, "", Err(TooShortWithMfa)),
        (MFA, "tq8#vmz", Err(TooShortWithMfa)),
        (MFA, "tq8#vmzk", Ok(())),
        (NO_MFA, "tq8#vmzk", Err(TooShort)),
        (NO_MFA, "tq8#vmzk-rw2pla", Ok(())),
        (NO_MFA, "tq8#vmzk-rw2pl", Err(TooShort)),
        // Eight two-byte characters are eight characters, not sixteen.
        (MFA, "éàüöçñøå", Ok(())),
        (MFA, "éàüöçñø", Err(TooShortWithMfa)),
        // e + combining acute, eight times: NFKC composes them to eight "é".
        (MFA, &"e\u{301}".repeat(8), Ok(())),
        (MFA, &"e\u{301}".repeat(7), Err(TooShortWithMfa)),
        // Spaces and anything printable are fine: no composition rules.
        (NO_MFA, "correct horse battery staple", Ok(())),
        (NO_MFA, &"x".repeat(64), Ok(())),
        (NO_MFA, &"x".repeat(MAX_CHARS), Ok(())),
        (NO_MFA, &"x".repeat(MAX_CHARS + 1), Err(TooLong)),
        (MFA, &"é".repeat(MAX_CHARS), Ok(())),
    ];
    for (policy, password, expected) in cases {
        check(*policy, password, *expected);
    }
}

#[test]
fn common_passwords_are_refused_whatever_the_case_or_width() {
    assert!(
        COMMON_PASSWORDS.len() >= 10_000,
        "{}",
        COMMON_PASSWORDS.len()
    );
    for password in [
        "password1",
        "qwerty123",
        "PASSWORD1",
        "QwErTy123",
        "iloveyou",
        "baseball",
        // Full-width letters are NFKC-normalised to "password1".
        "ｐａｓｓｗｏｒｄ１",
        "123456789qwerty",
    ] {
        check(MFA, password, Err(PolicyError::TooCommon));
    }
    // Long enough to be allowed without MFA, and still on the list.
    check(NO_MFA, "123456789QWERTY", Err(PolicyError::TooCommon));
}

#[test]
fn the_shipped_list_is_lowercase_and_deduplicated() {
    let lines: Vec<&str> = COMMON_PASSWORDS_TEXT.lines().collect();
    assert!(lines.len() >= 10_000);
    assert_eq!(
        lines.len(),
        COMMON_PASSWORDS.len(),
        "duplicates in the list"
    );
    assert!(
        lines
            .iter()
            .all(|l| *l == l.to_lowercase() && !l.is_empty())
    );
}

#[test]
fn passwords_built_from_own_identifiers_are_refused() {
    let refused = [
        "jane.doe@example.com",
        "xx-Jane.Doe-2024",
        "my name is JANE ok",
        "okonkwo-rules-8",
        "member4711!",
    ];
    for password in refused {
        check(MFA, password, Err(PolicyError::ContainsIdentifier));
    }
    // Identifiers shorter than three characters are not searched for.
    let short = Identifiers {
        first_name: Some("Al"),
        ..Identifiers::default()
    };
    assert_eq!(MFA.check("always-tq8#vmz", &short), Ok(()));
    // No identifiers at all.
    assert_eq!(MFA.check("jane-tq8#vmz", &Identifiers::default()), Ok(()));
}

#[test]
fn messages_tell_the_person_what_to_do() {
    let cases = [
        (
            PolicyError::TooShort,
            "Use at least 15 characters, or turn on two-step sign-in to use 8 or more",
        ),
        (PolicyError::TooShortWithMfa, "Use at least 8 characters"),
        (PolicyError::TooLong, "Use at most 128 characters"),
        (
            PolicyError::TooCommon,
            "This password is too common: choose one that is harder to guess",
        ),
        (
            PolicyError::ContainsIdentifier,
            "Don't use your name, email or member number in your password",
        ),
    ];
    for (error, message) in cases {
        assert_eq!(error.to_string(), message);
    }
}

#[test]
fn rfc_9106_argon2id_test_vector() {
    let secret = [0x03u8; 8];
    let params = ParamsBuilder::new()
        .m_cost(32)
        .t_cost(3)
        .p_cost(4)
        .data(AssociatedData::new(&[0x04; 12]).unwrap())
        .output_len(32)
        .build()
        .unwrap();
    let argon2 =
        Argon2::new_with_secret(&secret, Algorithm::Argon2id, Version::V0x13, params).unwrap();
    let mut out = [0u8; 32];
    argon2
        .hash_password_into(&[0x01; 32], &[0x02; 16], &mut out)
        .unwrap();
    assert_eq!(
        data_encoding::HEXLOWER.encode(&out),
        "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"
    );
}

fn hasher() -> PasswordHasher {
    PasswordHasher::new(HashParams::default()).unwrap()
}

#[test]
fn hash_then_verify_with_the_minimum_parameters() {
    let hasher = hasher();
    let phc = hasher
        .hash("tq8#vmzk-rw2pla", &SystemRandom::new())
        .unwrap();
    assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
    assert_eq!(
        hasher.verify("tq8#vmzk-rw2pla", &phc).unwrap(),
        Verification::Match
    );
    assert_eq!(
        hasher.verify("tq8#vmzk-rw2plb", &phc).unwrap(),
        Verification::Mismatch
    );
    // A fresh salt each time.
    let again = hasher
        .hash("tq8#vmzk-rw2pla", &SystemRandom::new())
        .unwrap();
    assert_ne!(phc, again);
}

#[test]
fn both_unicode_forms_of_a_password_verify() {
    let hasher = hasher();
    let precomposed = "caf\u{e9} au lait, s'il vous pla\u{ee}t";
    let decomposed = "cafe\u{301} au lait, s'il vous plai\u{302}t";
    assert_ne!(precomposed, decomposed);
    let phc = hasher.hash(precomposed, &SystemRandom::new()).unwrap();
    assert!(hasher.verify(decomposed, &phc).unwrap().is_match());
}

#[test]
fn long_passwords_are_not_truncated() {
    let hasher = hasher();
    let password: String = "abcdefghij".repeat(10);
    let mut changed: Vec<char> = password.chars().collect();
    changed[89] = 'Z';
    let changed: String = changed.into_iter().collect();
    let phc = hasher.hash(&password, &SystemRandom::new()).unwrap();
    assert!(hasher.verify(&password, &phc).unwrap().is_match());
    assert_eq!(
        hasher.verify(&changed, &phc).unwrap(),
        Verification::Mismatch
    );
}

#[test]
fn weaker_stored_hashes_ask_for_a_rehash() {
    let weak = HashParams {
        memory_kib: 4096,
        iterations: 1,
        parallelism: 1,
    };
    let salt = [7u8; SALT_LEN];
    let mut output = [0u8; OUTPUT_LEN];
    argon2id(weak.to_argon2(Some(OUTPUT_LEN)).unwrap())
        .hash_password_into(b"tq8#vmzk-rw2pla", &salt, &mut output)
        .unwrap();
    let phc = phc_string(weak, &salt, &output).unwrap();
    let hasher = hasher();
    assert_eq!(
        hasher.verify("tq8#vmzk-rw2pla", &phc).unwrap(),
        Verification::MatchNeedsRehash
    );
    assert_eq!(
        hasher.verify("wrong", &phc).unwrap(),
        Verification::Mismatch
    );
}

#[test]
fn parameters_below_the_minimum_are_refused() {
    for (m, t, p) in [(19_455, 2, 1), (19_456, 1, 1), (19_456, 2, 0), (0, 0, 0)] {
        let error = HashParams::new(m, t, p).unwrap_err();
        assert!(matches!(error, HashError::WeakParams { .. }), "{error}");
        assert!(error.to_string().contains("weaker than the minimum"));
    }
    let stronger = HashParams::new(65_536, 3, 4).unwrap();
    assert_eq!(
        (
            stronger.memory_kib(),
            stronger.iterations(),
            stronger.parallelism()
        ),
        (65_536, 3, 4)
    );
    assert_eq!(HashParams::default(), HashParams::MINIMUM);
}

#[test]
fn other_algorithms_and_garbage_are_errors_not_mismatches() {
    let hasher = hasher();
    let argon2i = "$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$\
                   AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    assert!(matches!(
        hasher.verify("x", argon2i),
        Err(HashError::Unsupported(_))
    ));
    for garbage in [
        "",
        "password",
        "$argon2id$v=19$m=19456$",
        "$argon2id$v=19$m=abc,t=2,p=1$c29tZXNhbHQ$AAAA",
    ] {
        assert!(
            matches!(
                hasher.verify("x", garbage),
                Err(HashError::Malformed(_) | HashError::Unsupported(_))
            ),
            "{garbage:?}"
        );
    }
}

#[test]
fn the_dummy_hash_uses_current_parameters_and_matches_nothing() {
    let hasher = hasher();
    assert!(hasher.dummy.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    assert_eq!(
        hasher.verify("", &hasher.dummy).unwrap(),
        Verification::Mismatch
    );
    hasher.dummy_verify("anything at all");
}
