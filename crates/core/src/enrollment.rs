//! An enrollment as a field rep submits it, possibly offline: who is joining, under which
//! sponsor, and the record of what they consented to. Built by [`crate::EnrollmentForm`].

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::country::CountryCode;
use crate::ids::MemberId;
use crate::member::PersonalDetails;
use crate::validate::PersonName;

/// Whether the person joins as a distributor (can earn, has a downline) or as a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnrollmentKind {
    Distributor,
    Customer,
}

impl EnrollmentKind {
    pub const fn label(self) -> &'static str {
        match self {
            EnrollmentKind::Distributor => "Distributor",
            EnrollmentKind::Customer => "Customer",
        }
    }
}

display_from_label!(EnrollmentKind);

/// Something a person can consent to. Terms and the privacy notice are required to enroll;
/// marketing is optional and off unless ticked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentPurpose {
    /// The distributor agreement or customer terms of sale.
    Terms,
    /// Processing of personal data as the privacy notice describes.
    PrivacyNotice,
    MarketingEmail,
    MarketingSms,
}

impl ConsentPurpose {
    /// Purposes without which an enrollment is refused.
    pub const REQUIRED: [ConsentPurpose; 2] =
        [ConsentPurpose::Terms, ConsentPurpose::PrivacyNotice];
}

/// The version of the consent text the person was shown (`2026-03`, `v4.1`), so that what
/// they agreed to can be reproduced later: 1 to 32 ASCII letters, digits, `.`, `-`, `_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConsentVersion(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConsentVersionError {
    #[error("The consent text version is not recognised; update the app and try again")]
    Invalid,
}

impl ConsentVersion {
    pub fn parse(input: &str) -> Result<Self, ConsentVersionError> {
        let v = input.trim();
        let ok = (1..=32).contains(&v.len())
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
        if ok {
            Ok(Self(v.to_owned()))
        } else {
            Err(ConsentVersionError::Invalid)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

validated_string!(ConsentVersion, ConsentVersionError);

/// Proof of consent, kept with the enrollment and sent to the server with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRecord {
    pub text_version: ConsentVersion,
    /// Sorted and without duplicates; always includes [`ConsentPurpose::REQUIRED`].
    pub purposes: Vec<ConsentPurpose>,
    /// When the person ticked the boxes, by the device's clock.
    #[serde(with = "time::serde::rfc3339")]
    pub given_at: OffsetDateTime,
    /// True when given with no network: `given_at` is then the device clock, unverified.
    pub given_offline: bool,
}

impl ConsentRecord {
    pub fn covers(&self, purpose: ConsentPurpose) -> bool {
        self.purposes.contains(&purpose)
    }
}

/// A validated enrollment, ready for the outbox (which adds the idempotency key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrollment {
    pub kind: EnrollmentKind,
    pub sponsor: MemberId,
    /// The public name; defaults to the short form of the legal name ("Jane D.").
    pub display_name: PersonName,
    /// Legal name and email always; date of birth and address always for distributors.
    pub personal: PersonalDetails,
    pub country: CountryCode,
    pub consent: ConsentRecord,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consent_versions() {
        for ok in ["2026-03", "v4.1", "terms_v2"] {
            assert_eq!(ConsentVersion::parse(ok).unwrap().as_str(), ok);
        }
        for bad in ["", "v 4", "ü1", &"v".repeat(33)] {
            assert_eq!(
                ConsentVersion::parse(bad).unwrap_err().to_string(),
                "The consent text version is not recognised; update the app and try again"
            );
        }
    }

    #[test]
    fn kinds_and_purposes_serialise_snake_case() {
        assert_eq!(
            serde_json::to_string(&EnrollmentKind::Distributor).unwrap(),
            "\"distributor\""
        );
        assert_eq!(
            serde_json::to_string(&ConsentPurpose::PrivacyNotice).unwrap(),
            "\"privacy_notice\""
        );
        assert_eq!(EnrollmentKind::Customer.to_string(), "Customer");
    }
}
