//! Opaque bearer tokens: 256 random bits, base64url, with a readable type
//! prefix; the server keeps only their SHA-256 hash (SECURITY.md #11).

use data_encoding::{BASE64URL_NOPAD, HEXLOWER};
use ring::digest::{SHA256, digest};
use ring::rand::SecureRandom;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Random bytes per token: 256 bits, twice ASVS's 128-bit minimum.
pub const TOKEN_BYTES: usize = 32;
/// Length of the base64url text after the prefix (no padding).
const BODY_LEN: usize = 43;
/// Length of a hex SHA-256 hash.
const HASH_HEX_LEN: usize = 64;

/// What a token is for. The prefix makes a leaked token recognisable (for
/// people and secret scanners) and stops one kind being used as another.
/// Prefixes: `cat_` is a Canopy access token, `crt_` a Canopy refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    pub const ALL: [Self; 2] = [Self::Access, Self::Refresh];

    pub fn prefix(self) -> &'static str {
        match self {
            Self::Access => "cat_",
            Self::Refresh => "crt_",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Access => "an access token",
            Self::Refresh => "a refresh token",
        }
    }
}

impl std::fmt::Display for TokenKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("Expected {expected}, but this is {found}")]
    WrongKind {
        expected: TokenKind,
        found: TokenKind,
    },
    #[error("This is not {expected}: it should be {prefix} followed by 43 base64url characters",
        prefix = expected.prefix())]
    Malformed { expected: TokenKind },
    #[error("A stored token hash must be 64 lowercase hex characters")]
    MalformedHash,
    #[error("The system random number generator failed")]
    Random,
}

/// A bearer token as the client holds it: `<prefix><43 base64url chars>`.
/// Wiped from memory on drop; `Debug` does not show it.
#[derive(Clone)]
pub struct Token {
    kind: TokenKind,
    text: Zeroizing<String>,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Token({}<redacted>)", self.kind.prefix())
    }
}

impl Token {
    /// A new random token of the given kind.
    pub fn generate(kind: TokenKind, rng: &dyn SecureRandom) -> Result<Self, TokenError> {
        let mut bytes = Zeroizing::new([0u8; TOKEN_BYTES]);
        rng.fill(bytes.as_mut()).map_err(|_| TokenError::Random)?;
        let mut text = Zeroizing::new(String::with_capacity(4 + BODY_LEN));
        text.push_str(kind.prefix());
        text.push_str(&BASE64URL_NOPAD.encode(bytes.as_ref()));
        Ok(Self { kind, text })
    }

    /// Reads a token presented by a client, which must be of the `expected`
    /// kind: right prefix, exactly 43 base64url characters, canonical.
    pub fn parse(text: &str, expected: TokenKind) -> Result<Self, TokenError> {
        let malformed = TokenError::Malformed { expected };
        let Some(body) = text.strip_prefix(expected.prefix()) else {
            return Err(TokenKind::ALL
                .into_iter()
                .find(|kind| text.starts_with(kind.prefix()))
                .map_or(malformed, |found| TokenError::WrongKind { expected, found }));
        };
        if body.len() != BODY_LEN {
            return Err(malformed);
        }
        // Decoding also refuses non-canonical trailing bits, so each token
        // has exactly one text form and therefore one hash.
        let decoded = Zeroizing::new(
            BASE64URL_NOPAD
                .decode(body.as_bytes())
                .map_err(|_| malformed)?,
        );
        if decoded.len() != TOKEN_BYTES {
            return Err(malformed);
        }
        Ok(Self {
            kind: expected,
            text: Zeroizing::new(text.to_owned()),
        })
    }

    pub fn kind(&self) -> TokenKind {
        self.kind
    }

    /// The text to hand to the client. Never log it.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The hash to store or look up.
    pub fn hash(&self) -> TokenHash {
        TokenHash(HEXLOWER.encode(digest(&SHA256, self.text.as_bytes()).as_ref()))
    }
}

/// SHA-256 of the token text, lowercase hex: what the database stores, so a
/// database leak does not leak usable tokens. A fast hash is enough because
/// the token has 256 random bits: there is nothing to guess.
///
/// Looking a hash up through a database index is fine (it reveals nothing
/// about a token); comparing a presented token's hash with one already
/// loaded should use [`TokenHash::matches`], which runs in constant time.
#[derive(Debug, Clone, Eq)]
pub struct TokenHash(String);

impl TokenHash {
    /// Wraps a hash read back from the database, checking its form.
    pub fn from_stored(hex: &str) -> Result<Self, TokenError> {
        let well_formed = hex.len() == HASH_HEX_LEN
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !well_formed {
            return Err(TokenError::MalformedHash);
        }
        Ok(Self(hex.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Constant-time equality.
    pub fn matches(&self, other: &TokenHash) -> bool {
        bool::from(self.0.as_bytes().ct_eq(other.0.as_bytes()))
    }
}

impl PartialEq for TokenHash {
    /// Constant time too, so `==` is never the weak spot.
    fn eq(&self, other: &Self) -> bool {
        self.matches(other)
    }
}

impl std::hash::Hash for TokenHash {
    /// Same bytes as `eq` compares, so the two agree.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    const ACCESS: &str = "cat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    #[test]
    fn generated_tokens_are_256_bit_prefixed_and_parse_back() {
        let rng = SystemRandom::new();
        for kind in TokenKind::ALL {
            let token = Token::generate(kind, &rng).unwrap();
            assert!(token.as_str().starts_with(kind.prefix()));
            assert_eq!(token.as_str().len(), 4 + 43);
            let parsed = Token::parse(token.as_str(), kind).unwrap();
            assert_eq!(parsed.kind(), kind);
            assert_eq!(parsed.hash(), token.hash());
            assert_ne!(Token::generate(kind, &rng).unwrap().hash(), token.hash());
        }
    }

    #[test]
    fn the_hash_is_sha256_hex_of_the_whole_token() {
        let token = Token::parse(ACCESS, TokenKind::Access).unwrap();
        assert_eq!(
            token.hash().as_str(),
            "f36c594344b845807f0300a4012ba72e405133161be4a99e33798c731fce1f18"
        );
        assert_eq!(
            TokenHash::from_stored(token.hash().as_str()).unwrap(),
            token.hash()
        );
        assert!(token.hash().matches(&token.hash()));
    }

    #[test]
    fn parsing_refuses_wrong_kind_length_or_alphabet() {
        use TokenKind::*;
        let refresh = ACCESS.replacen("cat_", "crt_", 1);
        let body = &ACCESS[4..];
        let cases: Vec<(String, TokenKind, TokenError)> = vec![
            (
                refresh.clone(),
                Access,
                TokenError::WrongKind {
                    expected: Access,
                    found: Refresh,
                },
            ),
            (
                ACCESS.into(),
                Refresh,
                TokenError::WrongKind {
                    expected: Refresh,
                    found: Access,
                },
            ),
            (
                body.into(),
                Access,
                TokenError::Malformed { expected: Access },
            ),
            (
                format!("xyz_{body}"),
                Access,
                TokenError::Malformed { expected: Access },
            ),
            (
                format!("CAT_{body}"),
                Access,
                TokenError::Malformed { expected: Access },
            ),
            (
                ACCESS[..46].into(),
                Access,
                TokenError::Malformed { expected: Access },
            ),
            (
                format!("{ACCESS}A"),
                Access,
                TokenError::Malformed { expected: Access },
            ),
            // Standard base64's + and / are not base64url.
            (
                format!("cat_+{}", &body[1..]),
                Access,
                TokenError::Malformed { expected: Access },
            ),
            (
                format!("cat_/{}", &body[1..]),
                Access,
                TokenError::Malformed { expected: Access },
            ),
            (
                format!("cat_{}=", &body[1..]),
                Access,
                TokenError::Malformed { expected: Access },
            ),
            // Non-canonical: the last character carries bits beyond 256.
            (
                format!("cat_{}B", &body[..42]),
                Access,
                TokenError::Malformed { expected: Access },
            ),
            (
                format!("cat_{}é", &body[..41]),
                Access,
                TokenError::Malformed { expected: Access },
            ),
            (
                String::new(),
                Access,
                TokenError::Malformed { expected: Access },
            ),
        ];
        for (text, expected, error) in cases {
            assert_eq!(
                Token::parse(&text, expected).unwrap_err(),
                error,
                "{text:?}"
            );
        }
        assert!(Token::parse(&refresh, Refresh).is_ok());
    }

    #[test]
    fn errors_and_debug_say_what_is_wrong_without_the_secret() {
        let error = Token::parse("crt_x", TokenKind::Access).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Expected an access token, but this is a refresh token"
        );
        let error = Token::parse("nonsense", TokenKind::Refresh).unwrap_err();
        assert_eq!(
            error.to_string(),
            "This is not a refresh token: it should be crt_ followed by 43 base64url characters"
        );
        let token = Token::parse(ACCESS, TokenKind::Access).unwrap();
        assert_eq!(format!("{token:?}"), "Token(cat_<redacted>)");
    }

    #[test]
    fn stored_hashes_are_checked() {
        for bad in ["", "abc", &"A".repeat(64), &"g".repeat(64), &"a".repeat(65)] {
            assert_eq!(
                TokenHash::from_stored(bad),
                Err(TokenError::MalformedHash),
                "{bad:?}"
            );
        }
        assert!(TokenHash::from_stored(&"0f".repeat(32)).is_ok());
    }
}
