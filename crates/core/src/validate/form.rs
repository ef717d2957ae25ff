//! The enrollment form as the UI sends it (raw strings), and its validation into an
//! [`Enrollment`]: every field is checked and every error returned at once, by field.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::{
    AddressLine, Email, Field, FieldError, PersonName, Phone, PostalCode, TaxId, ValidationError,
};
use crate::country::CountryCode;
use crate::dates::{format_date, parse_date_of_birth};
use crate::enrollment::{
    ConsentPurpose, ConsentRecord, ConsentVersion, Enrollment, EnrollmentKind,
};
use crate::ids::MemberId;
use crate::member::{PersonalDetails, PostalAddress};

/// What the enrollment screen collects, exactly as typed. Choices made with a control rather
/// than typed (kind, sponsor, consent boxes) are already typed values.
///
/// Required for everyone: sponsor, legal name, email, country, the consent version, and
/// consent to [`ConsentPurpose::REQUIRED`]. Distributors also need a date of birth and a
/// street address with a city. For customers these are optional, but a date of birth that
/// is given must still be valid (customers sign a contract too, so the 18+ rule applies), and
/// an address that is started must have a street and city. A blank display name becomes
/// the short form of the legal name ("Jane D.").
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollmentForm {
    pub kind: EnrollmentKind,
    pub sponsor: Option<MemberId>,
    #[serde(default)]
    pub legal_name: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub date_of_birth: String,
    #[serde(default)]
    pub address_line1: String,
    #[serde(default)]
    pub address_line2: String,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub postal_code: String,
    #[serde(default)]
    pub country: String,
    #[serde(default)]
    pub tax_id: String,
    #[serde(default)]
    pub consent_version: String,
    #[serde(default)]
    pub consent_purposes: Vec<ConsentPurpose>,
    #[serde(with = "time::serde::rfc3339")]
    pub consent_given_at: OffsetDateTime,
    pub consent_given_offline: bool,
}

/// Gathers field errors so that the person sees all of them at once.
#[derive(Default)]
struct Collector {
    errors: Vec<FieldError>,
}

impl Collector {
    fn push(&mut self, field: Field, error: impl Into<ValidationError>) {
        self.errors.push(FieldError::new(field, error));
    }

    fn parse<T, E: Into<ValidationError>>(
        &mut self,
        field: Field,
        raw: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        parse(raw).map_err(|e| self.push(field, e)).ok()
    }

    /// Blank is an error ([`ValidationError::Required`]).
    fn required<T, E: Into<ValidationError>>(
        &mut self,
        field: Field,
        raw: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        if raw.trim().is_empty() {
            self.push(field, ValidationError::Required(field));
            None
        } else {
            self.parse(field, raw, parse)
        }
    }

    /// Blank is fine and gives `None`.
    fn optional<T, E: Into<ValidationError>>(
        &mut self,
        field: Field,
        raw: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        if raw.trim().is_empty() {
            None
        } else {
            self.parse(field, raw, parse)
        }
    }

    fn field<T, E: Into<ValidationError>>(
        &mut self,
        required: bool,
        field: Field,
        raw: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        if required {
            self.required(field, raw, parse)
        } else {
            self.optional(field, raw, parse)
        }
    }
}

impl EnrollmentForm {
    /// Checks every field against the rules above, with `today` as the reference for the
    /// date of birth. Errors come back in form order, at most one per field.
    pub fn validate(&self, today: Date) -> Result<Enrollment, Vec<FieldError>> {
        let mut c = Collector::default();
        let distributor = self.kind == EnrollmentKind::Distributor;

        if self.sponsor.is_none() {
            c.push(Field::Sponsor, ValidationError::Required(Field::Sponsor));
        }
        let legal_name = c.required(Field::LegalName, &self.legal_name, PersonName::parse);
        let display_name = c.optional(Field::DisplayName, &self.display_name, PersonName::parse);
        let email = c.required(Field::Email, &self.email, Email::parse);
        let phone = c.optional(Field::Phone, &self.phone, Phone::parse);
        let date_of_birth = c.field(distributor, Field::DateOfBirth, &self.date_of_birth, |s| {
            parse_date_of_birth(s, today)
        });
        let address = self.address(&mut c, distributor);
        let country = c.required(Field::Country, &self.country, CountryCode::parse);
        let tax_id = c.optional(Field::TaxId, &self.tax_id, TaxId::parse);
        let purposes = self.purposes();
        if !ConsentPurpose::REQUIRED
            .iter()
            .all(|p| purposes.contains(p))
        {
            c.push(Field::Consent, ValidationError::Required(Field::Consent));
        }
        let version = c.required(
            Field::ConsentVersion,
            &self.consent_version,
            ConsentVersion::parse,
        );

        if !c.errors.is_empty() {
            c.errors.sort_by_key(|e| e.field);
            return Err(c.errors);
        }
        // With no errors every required value is present; the `else` is unreachable.
        let (Some(sponsor), Some(legal_name), Some(email), Some(country), Some(version)) =
            (self.sponsor, legal_name, email, country, version)
        else {
            return Err(c.errors);
        };
        Ok(Enrollment {
            kind: self.kind,
            sponsor,
            display_name: display_name.unwrap_or_else(|| legal_name.short_form()),
            personal: PersonalDetails {
                legal_name,
                email: Some(email),
                phone,
                date_of_birth,
                address,
                tax_id,
            },
            country,
            consent: ConsentRecord {
                text_version: version,
                purposes,
                given_at: self.consent_given_at,
                given_offline: self.consent_given_offline,
            },
        })
    }

    fn address(&self, c: &mut Collector, distributor: bool) -> Option<PostalAddress> {
        let parts = [
            &self.address_line1,
            &self.address_line2,
            &self.city,
            &self.region,
            &self.postal_code,
        ];
        let started = parts.iter().any(|p| !p.trim().is_empty());
        if !distributor && !started {
            return None;
        }
        let line1 = c.required(Field::AddressLine1, &self.address_line1, AddressLine::parse);
        let line2 = c.optional(Field::AddressLine2, &self.address_line2, AddressLine::parse);
        let city = c.required(Field::City, &self.city, AddressLine::parse);
        let region = c.optional(Field::Region, &self.region, AddressLine::parse);
        let postal_code = c.optional(Field::PostalCode, &self.postal_code, PostalCode::parse);
        Some(PostalAddress {
            line1: line1?,
            line2,
            city: city?,
            region,
            postal_code,
        })
    }

    fn purposes(&self) -> Vec<ConsentPurpose> {
        let mut purposes = self.consent_purposes.clone();
        purposes.sort_unstable();
        purposes.dedup();
        purposes
    }
}

/// Re-opens a saved enrollment for editing (an outbox item the server sent back).
impl From<&Enrollment> for EnrollmentForm {
    fn from(e: &Enrollment) -> Self {
        let p = &e.personal;
        let text = |v: Option<&str>| v.unwrap_or_default().to_owned();
        let address = p.address.as_ref();
        Self {
            kind: e.kind,
            sponsor: Some(e.sponsor),
            legal_name: p.legal_name.to_string(),
            display_name: e.display_name.to_string(),
            email: text(p.email.as_ref().map(Email::as_str)),
            phone: text(p.phone.as_ref().map(Phone::as_str)),
            date_of_birth: p.date_of_birth.map(format_date).unwrap_or_default(),
            address_line1: text(address.map(|a| a.line1.as_str())),
            address_line2: text(
                address
                    .and_then(|a| a.line2.as_ref())
                    .map(AddressLine::as_str),
            ),
            city: text(address.map(|a| a.city.as_str())),
            region: text(
                address
                    .and_then(|a| a.region.as_ref())
                    .map(AddressLine::as_str),
            ),
            postal_code: text(
                address
                    .and_then(|a| a.postal_code.as_ref())
                    .map(PostalCode::as_str),
            ),
            country: e.country.to_string(),
            tax_id: text(p.tax_id.as_ref().map(TaxId::as_str)),
            consent_version: e.consent.text_version.to_string(),
            consent_purposes: e.consent.purposes.clone(),
            consent_given_at: e.consent.given_at,
            consent_given_offline: e.consent.given_offline,
        }
    }
}

/// Shows the choices but not what was typed: the form is full of personal data.
impl fmt::Debug for EnrollmentForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnrollmentForm")
            .field("kind", &self.kind)
            .field("sponsor", &self.sponsor)
            .field("country", &self.country)
            .field("consent_purposes", &self.consent_purposes)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
#[path = "form_tests.rs"]
mod tests;
