//! Fields a person types, each parsed into a type that keeps its rules (names, email, phone,
//! address, tax id), and [`FieldError`]: which field is wrong and what to tell the person.
//!
//! Every parser normalises first (trim, Unicode NFC, collapse spaces) and checks after, so
//! parsing an already valid value gives it back unchanged.

mod address;
mod email;
mod form;
mod name;
mod phone;
#[cfg(test)]
mod proptests;

use std::fmt;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

pub use address::{AddressError, AddressLine, PostalCode, PostalCodeError, TaxId, TaxIdError};
pub use email::{Email, EmailError};
pub use form::EnrollmentForm;
pub use name::{NameError, PersonName};
pub use phone::{Phone, PhoneError};

use crate::country::CountryError;
use crate::dates::DateError;
use crate::enrollment::ConsentVersionError;

/// NFC, then every run of (non-control) whitespace becomes one space, then trim.
/// Control characters are kept so that the caller can refuse them with a clear message.
pub(crate) fn normalise_text(input: &str) -> String {
    if is_normalised(input) {
        return input.to_owned();
    }
    compose_and_collapse(input)
}

/// [`normalise_text`] without the shortcut.
fn compose_and_collapse(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut pending_space = false;
    for c in input.nfc() {
        if c.is_whitespace() && !c.is_control() {
            pending_space = true;
        } else {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c);
        }
    }
    out.trim().to_owned()
}

/// Whether `normalise_text` would give `input` back unchanged, decided without building
/// the NFC form — most text is already normal (every value read back from a database or a
/// sync page), and composing it again costs more than all the other checks together.
fn is_normalised(input: &str) -> bool {
    input.trim().len() == input.len()
        && !input.contains("  ")
        && input
            .chars()
            .all(|c| c == ' ' || !c.is_whitespace() || c.is_control())
        && (input.is_ascii()
            || unicode_normalization::is_nfc_quick(input.chars())
                == unicode_normalization::IsNormalized::Yes)
}

/// A field of a form, named the same on both sides of IPC (serde `snake_case`), so the UI
/// can put each message next to its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Sponsor,
    LegalName,
    DisplayName,
    Email,
    Phone,
    DateOfBirth,
    AddressLine1,
    AddressLine2,
    City,
    Region,
    PostalCode,
    Country,
    TaxId,
    Consent,
    ConsentVersion,
}

impl Field {
    /// The message when a required field is left blank.
    pub const fn required_message(self) -> &'static str {
        match self {
            Field::Sponsor => "Choose a sponsor",
            Field::LegalName => "Enter the full legal name",
            Field::DisplayName => "Enter the name to show to the team",
            Field::Email => "Enter an email address",
            Field::Phone => "Enter a phone number",
            Field::DateOfBirth => "Enter the date of birth",
            Field::AddressLine1 => "Enter the street address",
            Field::AddressLine2 => "Enter the second address line",
            Field::City => "Enter the city or town",
            Field::Region => "Enter the state, province or region",
            Field::PostalCode => "Enter the postal code",
            Field::Country => "Choose a country",
            Field::TaxId => "Enter the tax id",
            Field::Consent => "Accept the terms and the privacy notice to continue",
            Field::ConsentVersion => "The consent text is missing; update the app and try again",
        }
    }
}

/// What is wrong with one field's value; `Display` is the message for the person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    #[error("{}", .0.required_message())]
    Required(Field),
    #[error(transparent)]
    Name(#[from] NameError),
    #[error(transparent)]
    Email(#[from] EmailError),
    #[error(transparent)]
    Phone(#[from] PhoneError),
    #[error(transparent)]
    Date(#[from] DateError),
    #[error(transparent)]
    Address(#[from] AddressError),
    #[error(transparent)]
    PostalCode(#[from] PostalCodeError),
    #[error(transparent)]
    TaxId(#[from] TaxIdError),
    #[error(transparent)]
    Country(#[from] CountryError),
    #[error(transparent)]
    ConsentVersion(#[from] ConsentVersionError),
}

/// One field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: Field,
    pub error: ValidationError,
}

impl FieldError {
    pub fn new(field: Field, error: impl Into<ValidationError>) -> Self {
        Self {
            field,
            error: error.into(),
        }
    }
}

impl fmt::Display for FieldError {
    /// Just the message: the UI already shows it next to the field.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl std::error::Error for FieldError {}

/// The serialisable form of a [`FieldError`] for IPC: `{"field":"email","message":"…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldMessage {
    pub field: Field,
    pub message: String,
}

impl From<&FieldError> for FieldMessage {
    fn from(err: &FieldError) -> Self {
        Self {
            field: err.field,
            message: err.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_text_trims_composes_and_collapses() {
        let cases = [
            ("  Jane   Doe  ", "Jane Doe"),
            ("Jose\u{301}", "José"),
            ("a\u{a0}\u{3000}b", "a b"),
            ("a\tb", "a\tb"),
            ("\n a \n", "a"),
            ("", ""),
        ];
        for (input, expected) in cases {
            assert_eq!(normalise_text(input), expected, "{input:?}");
        }
    }

    #[test]
    fn the_shortcut_for_normal_text_agrees_with_normalising() {
        let cases = [
            "Jane Doe",
            " Jane",
            "Jane ",
            "Jane  Doe",
            "a\u{a0}b",
            "a\tb",
            "a \tb",
            "\ta",
            "José",
            "Jose\u{301}",
            "Ｊａｎｅ",
            "李 小龍",
            "e\u{301}\u{301}",
            "",
            " ",
            "\n",
            "a\u{3000}",
            "Ω",
            "\u{2126}",
        ];
        for input in cases {
            let slow = compose_and_collapse(input);
            assert_eq!(normalise_text(input), slow, "{input:?}");
            assert_eq!(is_normalised(input), slow == input, "{input:?}");
        }
    }

    #[test]
    fn field_messages_serialise_for_the_ui() {
        let err = FieldError::new(Field::DateOfBirth, DateError::Underage);
        assert_eq!(err.to_string(), "Enrollees must be at least 18");
        let json = serde_json::to_string(&FieldMessage::from(&err)).unwrap();
        assert_eq!(
            json,
            r#"{"field":"date_of_birth","message":"Enrollees must be at least 18"}"#
        );
        let required = FieldError::new(Field::Email, ValidationError::Required(Field::Email));
        assert_eq!(required.to_string(), "Enter an email address");
    }
}
