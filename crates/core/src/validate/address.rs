//! Postal address parts and the tax id: free text with length limits and no control
//! characters (which break labels, CSV exports and terminals), plus postal code shape.

use std::fmt;

use super::normalise_text;

/// One line of a postal address, or a city or region: 1 to 100 characters, no control
/// characters, normalised like every text field (NFC, single spaces, trimmed).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AddressLine(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("Enter an address")]
    Empty,
    #[error("Use at most 100 characters")]
    TooLong,
    #[error("Remove tabs, line breaks and other control characters")]
    ControlCharacter,
}

impl AddressLine {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(input: &str) -> Result<Self, AddressError> {
        let line = normalise_text(input);
        if line.is_empty() {
            Err(AddressError::Empty)
        } else if has_control(&line) {
            Err(AddressError::ControlCharacter)
        } else if line.chars().count() > Self::MAX_CHARS {
            Err(AddressError::TooLong)
        } else {
            Ok(Self(line))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

validated_string!(AddressLine, AddressError);

fn has_control(s: &str) -> bool {
    // Format characters such as bidi overrides (U+202E) can disguise text, so they are
    // refused along with C0/C1 controls.
    // Zero-width joiners (U+200C/U+200D) stay: Persian and Indic spellings need them.
    s.chars().any(|c| {
        c.is_control()
            || matches!(
                c,
                '\u{200b}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}'
            )
    })
}

/// A postal code: 2 to 12 ASCII letters, digits, spaces or hyphens, stored uppercase
/// (`sw1a 1aa` → `SW1A 1AA`). Its format per country is not checked here.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PostalCode(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PostalCodeError {
    #[error("Postal codes can only contain letters, digits, spaces and hyphens")]
    InvalidCharacter,
    #[error("Postal codes have 2 to 12 characters")]
    WrongLength,
}

impl PostalCode {
    pub fn parse(input: &str) -> Result<Self, PostalCodeError> {
        let code = normalise_text(input).to_ascii_uppercase();
        if !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
        {
            return Err(PostalCodeError::InvalidCharacter);
        }
        if (2..=12).contains(&code.len()) {
            Ok(Self(code))
        } else {
            Err(PostalCodeError::WrongLength)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

validated_string!(PostalCode, PostalCodeError);

/// A tax identification number, kept opaque (its format depends on the country and is
/// checked by the server): 1 to 32 characters, no control characters.
/// `Debug` shows only the last two characters, so it never lands whole in a log.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TaxId(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TaxIdError {
    #[error("Enter the tax id")]
    Empty,
    #[error("Tax ids can be at most 32 characters")]
    TooLong,
    #[error("Remove tabs, line breaks and other control characters")]
    ControlCharacter,
}

impl TaxId {
    pub const MAX_CHARS: usize = 32;

    pub fn parse(input: &str) -> Result<Self, TaxIdError> {
        let id = normalise_text(input);
        if id.is_empty() {
            Err(TaxIdError::Empty)
        } else if has_control(&id) {
            Err(TaxIdError::ControlCharacter)
        } else if id.chars().count() > Self::MAX_CHARS {
            Err(TaxIdError::TooLong)
        } else {
            Ok(Self(id))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TaxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tail: String = {
            let chars: Vec<char> = self.0.chars().collect();
            chars[chars.len().saturating_sub(2)..].iter().collect()
        };
        write!(f, "TaxId(…{tail})")
    }
}

validated_string!(TaxId, TaxIdError);

#[cfg(test)]
mod tests {
    use super::*;

    fn check<T: ToString, E: ToString>(got: Result<T, E>, expected: Result<&str, &str>) {
        let got = got.map(|v| v.to_string()).map_err(|e| e.to_string());
        assert_eq!(got, expected.map(str::to_owned).map_err(str::to_owned));
    }

    #[test]
    fn address_lines() {
        let control = "Remove tabs, line breaks and other control characters";
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("  221B   Baker Street ", Ok("221B Baker Street")),
            ("Calle de Alcalá, 3º 2ª", Ok("Calle de Alcalá, 3º 2ª")),
            ("北京市朝阳区", Ok("北京市朝阳区")),
            ("Apt #4, c/o Smith", Ok("Apt #4, c/o Smith")),
            ("line\none", Err(control)),
            ("tab\there", Err(control)),
            ("evil\u{202e}txt", Err(control)),
            ("", Err("Enter an address")),
        ];
        for (input, expected) in cases {
            check(AddressLine::parse(input), *expected);
        }
        check(
            AddressLine::parse(&"x".repeat(101)),
            Err("Use at most 100 characters"),
        );
        check(AddressLine::parse(&"x".repeat(100)), Ok(&"x".repeat(100)));
    }

    #[test]
    fn postal_codes() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("sw1a 1aa", Ok("SW1A 1AA")),
            ("10115", Ok("10115")),
            ("12345-6789", Ok("12345-6789")),
            (" 100-0001 ", Ok("100-0001")),
            ("1", Err("Postal codes have 2 to 12 characters")),
            ("1234567890123", Err("Postal codes have 2 to 12 characters")),
            (
                "75001 Paris!",
                Err("Postal codes can only contain letters, digits, spaces and hyphens"),
            ),
            (
                "Ö1234",
                Err("Postal codes can only contain letters, digits, spaces and hyphens"),
            ),
        ];
        for (input, expected) in cases {
            check(PostalCode::parse(input), *expected);
        }
    }

    #[test]
    fn tax_ids_are_opaque_and_redacted_in_debug() {
        check(TaxId::parse(" 123-45-6789 "), Ok("123-45-6789"));
        check(TaxId::parse("DE 123 456 789"), Ok("DE 123 456 789"));
        check(TaxId::parse(""), Err("Enter the tax id"));
        check(
            TaxId::parse(&"9".repeat(33)),
            Err("Tax ids can be at most 32 characters"),
        );
        check(
            TaxId::parse("12\r34"),
            Err("Remove tabs, line breaks and other control characters"),
        );
        let id = TaxId::parse("123-45-6789").unwrap();
        assert_eq!(format!("{id:?}"), "TaxId(…89)");
    }
}
