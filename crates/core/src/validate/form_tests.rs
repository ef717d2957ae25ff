//! Tests of the enrollment form: one valid form, then a table of edits and the exact
//! messages a person would see next to each field.

use time::macros::{date, datetime};

use super::*;

const TODAY: Date = date!(2026 - 03 - 15);

fn valid_form() -> EnrollmentForm {
    EnrollmentForm {
        kind: EnrollmentKind::Distributor,
        sponsor: Some(MemberId::new(42)),
        legal_name: "  José  Ñúñez O'Brien ".to_owned(),
        display_name: String::new(),
        email: "Jose@Example.COM".to_owned(),
        phone: "+34 (91) 123-4567".to_owned(),
        date_of_birth: "1990-04-25".to_owned(),
        address_line1: "Calle de Alcalá 3".to_owned(),
        address_line2: String::new(),
        city: "Madrid".to_owned(),
        region: String::new(),
        postal_code: "28014".to_owned(),
        country: "es".to_owned(),
        tax_id: " X1234567L ".to_owned(),
        consent_version: "2026-03".to_owned(),
        consent_purposes: vec![
            ConsentPurpose::PrivacyNotice,
            ConsentPurpose::Terms,
            ConsentPurpose::MarketingEmail,
            ConsentPurpose::Terms,
        ],
        consent_given_at: datetime!(2026-03-15 10:30:00 +01:00),
        consent_given_offline: true,
    }
}

#[test]
fn a_valid_form_becomes_a_normalised_enrollment() {
    let e = valid_form().validate(TODAY).unwrap();
    assert_eq!(e.kind, EnrollmentKind::Distributor);
    assert_eq!(e.sponsor, MemberId::new(42));
    assert_eq!(e.display_name.as_str(), "José O.");
    let p = &e.personal;
    assert_eq!(p.legal_name.as_str(), "José Ñúñez O'Brien");
    assert_eq!(
        p.email.as_ref().map(Email::as_str),
        Some("Jose@example.com")
    );
    assert_eq!(p.phone.as_ref().map(Phone::as_str), Some("+34911234567"));
    assert_eq!(p.date_of_birth, Some(date!(1990 - 04 - 25)));
    let address = p.address.as_ref().unwrap();
    assert_eq!(address.line1.as_str(), "Calle de Alcalá 3");
    assert_eq!(address.line2, None);
    assert_eq!(address.city.as_str(), "Madrid");
    assert_eq!(
        address.postal_code.as_ref().map(PostalCode::as_str),
        Some("28014")
    );
    assert_eq!(p.tax_id.as_ref().map(TaxId::as_str), Some("X1234567L"));
    assert_eq!(e.country.as_str(), "ES");
    assert_eq!(e.consent.text_version.as_str(), "2026-03");
    assert_eq!(
        e.consent.purposes,
        [
            ConsentPurpose::Terms,
            ConsentPurpose::PrivacyNotice,
            ConsentPurpose::MarketingEmail
        ]
    );
    assert!(e.consent.given_offline);
}

/// Applies `edit` to a valid form and expects exactly `expected` (field, message) errors.
fn check(edit: impl FnOnce(&mut EnrollmentForm), expected: &[(Field, &str)]) {
    let mut form = valid_form();
    edit(&mut form);
    let got: Vec<(Field, String)> = match form.validate(TODAY) {
        Ok(_) => vec![],
        Err(errors) => errors.iter().map(|e| (e.field, e.to_string())).collect(),
    };
    let expected: Vec<(Field, String)> = expected
        .iter()
        .map(|(f, m)| (*f, (*m).to_owned()))
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn each_field_reports_its_own_message() {
    check(
        |f| f.sponsor = None,
        &[(Field::Sponsor, "Choose a sponsor")],
    );
    check(
        |f| f.legal_name = " ".into(),
        &[(Field::LegalName, "Enter the full legal name")],
    );
    check(
        |f| f.legal_name = "J0sé".into(),
        &[(
            Field::LegalName,
            "Names can only contain letters, spaces, apostrophes, hyphens and periods",
        )],
    );
    check(
        |f| f.display_name = "!!".into(),
        &[(
            Field::DisplayName,
            "Names can only contain letters, spaces, apostrophes, hyphens and periods",
        )],
    );
    check(
        |f| f.email = String::new(),
        &[(Field::Email, "Enter an email address")],
    );
    check(
        |f| f.email = "jose@".into(),
        &[(Field::Email, "Enter an email address like name@example.com")],
    );
    check(|f| f.phone = String::new(), &[]);
    check(
        |f| f.phone = "12345".into(),
        &[(Field::Phone, "Phone numbers have 7 to 15 digits")],
    );
    check(
        |f| f.date_of_birth = String::new(),
        &[(Field::DateOfBirth, "Enter the date of birth")],
    );
    check(
        |f| f.date_of_birth = "25/04/1990".into(),
        &[(Field::DateOfBirth, "Enter a date like 1990-04-25")],
    );
    check(
        |f| f.date_of_birth = "2027-01-01".into(),
        &[(Field::DateOfBirth, "Date of birth must be in the past")],
    );
    check(
        |f| f.date_of_birth = "2010-01-01".into(),
        &[(Field::DateOfBirth, "Enrollees must be at least 18")],
    );
    check(
        |f| f.address_line1 = String::new(),
        &[(Field::AddressLine1, "Enter the street address")],
    );
    check(
        |f| f.city = "\t".into(),
        &[(Field::City, "Enter the city or town")],
    );
    check(
        |f| f.address_line2 = "Flat 2\nBack door".into(),
        &[(
            Field::AddressLine2,
            "Remove tabs, line breaks and other control characters",
        )],
    );
    check(
        |f| f.postal_code = "#1".into(),
        &[(
            Field::PostalCode,
            "Postal codes can only contain letters, digits, spaces and hyphens",
        )],
    );
    check(
        |f| f.country = String::new(),
        &[(Field::Country, "Choose a country")],
    );
    check(
        |f| f.country = "XX".into(),
        &[(Field::Country, "Choose a country from the list")],
    );
    check(|f| f.tax_id = String::new(), &[]);
    check(
        |f| f.tax_id = "1".repeat(40),
        &[(Field::TaxId, "Tax ids can be at most 32 characters")],
    );
    check(
        |f| f.consent_purposes = vec![ConsentPurpose::Terms],
        &[(
            Field::Consent,
            "Accept the terms and the privacy notice to continue",
        )],
    );
    check(
        |f| f.consent_version = String::new(),
        &[(
            Field::ConsentVersion,
            "The consent text is missing; update the app and try again",
        )],
    );
}

#[test]
fn all_errors_come_back_at_once_in_form_order() {
    check(
        |f| {
            f.consent_purposes.clear();
            f.email = "nope".into();
            f.sponsor = None;
            f.date_of_birth = "2010-01-01".into();
            f.country = "Narnia".into();
        },
        &[
            (Field::Sponsor, "Choose a sponsor"),
            (Field::Email, "Enter an email address like name@example.com"),
            (Field::DateOfBirth, "Enrollees must be at least 18"),
            (Field::Country, "Choose a country from the list"),
            (
                Field::Consent,
                "Accept the terms and the privacy notice to continue",
            ),
        ],
    );
}

#[test]
fn customers_need_less_but_what_they_give_must_be_valid() {
    let customer = |f: &mut EnrollmentForm| {
        f.kind = EnrollmentKind::Customer;
        f.date_of_birth = String::new();
        f.address_line1 = String::new();
        f.city = String::new();
        f.postal_code = String::new();
    };
    check(customer, &[]);
    let mut form = valid_form();
    customer(&mut form);
    let e = form.validate(TODAY).unwrap();
    assert_eq!(e.personal.date_of_birth, None);
    assert_eq!(e.personal.address, None);

    check(
        |f| {
            customer(f);
            f.postal_code = "28014".into();
        },
        &[
            (Field::AddressLine1, "Enter the street address"),
            (Field::City, "Enter the city or town"),
        ],
    );
    check(
        |f| {
            customer(f);
            f.date_of_birth = "2012-06-01".into();
        },
        &[(Field::DateOfBirth, "Enrollees must be at least 18")],
    );
}

#[test]
fn a_given_display_name_is_kept() {
    let mut form = valid_form();
    form.display_name = "Pepe".into();
    assert_eq!(form.validate(TODAY).unwrap().display_name.as_str(), "Pepe");
}

#[test]
fn reopening_an_enrollment_gives_the_same_enrollment() {
    let e = valid_form().validate(TODAY).unwrap();
    let again = EnrollmentForm::from(&e).validate(TODAY).unwrap();
    assert_eq!(again, e);
}

#[test]
fn debug_hides_what_was_typed() {
    let shown = format!("{:?}", valid_form());
    for secret in ["Ñúñez", "Example", "1990", "X1234567L", "Alcalá", "4567"] {
        assert!(!shown.contains(secret), "{secret} leaked in {shown}");
    }
}

#[test]
fn form_and_enrollment_cross_ipc_as_json() {
    let form = valid_form();
    let json = serde_json::to_value(&form).unwrap();
    assert_eq!(json["consent_given_at"], "2026-03-15T10:30:00+01:00");
    assert_eq!(json["kind"], "distributor");
    assert_eq!(
        serde_json::from_value::<EnrollmentForm>(json).unwrap(),
        form
    );

    let e = form.validate(TODAY).unwrap();
    let json = serde_json::to_string(&e).unwrap();
    assert_eq!(serde_json::from_str::<Enrollment>(&json).unwrap(), e);
}
