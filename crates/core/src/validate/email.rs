//! Email addresses: checked with the `email_address` crate (no display names, no IP
//! literals, a dot in the domain), with the domain lowercased; at most 254 characters.

use email_address::{EmailAddress, Options};
use unicode_normalization::UnicodeNormalization;

/// An email address as it will be stored and used: trimmed, NFC, domain in lowercase.
/// The local part keeps its case, since some mail servers treat it as significant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("Enter an email address like name@example.com")]
    Invalid,
    #[error("Email addresses can be at most 254 characters")]
    TooLong,
}

impl Email {
    /// The SMTP limit on an address, in bytes.
    pub const MAX_LEN: usize = 254;

    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let trimmed: String = input.trim().nfc().collect();
        let (local, domain) = trimmed.rsplit_once('@').ok_or(EmailError::Invalid)?;
        let domain: String = domain.to_lowercase().nfc().collect();
        let email = format!("{local}@{domain}");
        if email.len() > Self::MAX_LEN {
            return Err(EmailError::TooLong);
        }
        // Quoted local parts may hold spaces and odd characters; nobody types those into a
        // sign-up form, and they break the mail tools downstream.
        if email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"')
        {
            return Err(EmailError::Invalid);
        }
        let options = Options {
            minimum_sub_domains: 2,
            allow_domain_literal: false,
            allow_display_text: false,
        };
        EmailAddress::parse_with_options(&email, options).map_err(|_| EmailError::Invalid)?;
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after the `@`, lowercase.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }
}

validated_string!(Email, EmailError);

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<&str, &str>) {
        let got = Email::parse(input)
            .map(|e| e.to_string())
            .map_err(|e| e.to_string());
        let expected = expected.map(str::to_owned).map_err(str::to_owned);
        assert_eq!(got, expected, "input {input:?}");
    }

    #[test]
    fn accepts_and_normalises_addresses() {
        check("name@example.com", Ok("name@example.com"));
        check("  Jane.Doe@Example.COM ", Ok("Jane.Doe@example.com"));
        check(
            "first+tag@mail.example.co.uk",
            Ok("first+tag@mail.example.co.uk"),
        );
        check("o'brien@example.ie", Ok("o'brien@example.ie"));
        check("josé@bücher.DE", Ok("josé@bücher.de"));
        assert_eq!(
            Email::parse("a@Example.com").unwrap().domain(),
            "example.com"
        );
    }

    #[test]
    fn refuses_what_is_not_an_address() {
        let invalid = "Enter an email address like name@example.com";
        for input in [
            "",
            "name",
            "name@",
            "@example.com",
            "name@localhost",
            "name@example..com",
            "name@-example.com",
            "na me@example.com",
            "Jane <jane@example.com>",
            "name@[127.0.0.1]",
            "\"john doe\"@example.com",
            "name@exa\u{0}mple.com",
            "a@b@example.com",
        ] {
            check(input, Err(invalid));
        }
        let long = format!("{}@{}.com", "a".repeat(64), "b".repeat(186)); // 255 bytes
        check(&long, Err("Email addresses can be at most 254 characters"));
    }
}
