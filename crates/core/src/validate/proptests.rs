//! Property tests for validation: no input makes a parser panic, parsing is idempotent
//! (a valid value parses to itself), and values generated from each grammar are accepted.

use proptest::prelude::*;
use time::Date;
use time::macros::{date, datetime};

use super::*;
use crate::country::CountryCode;
use crate::dates::{format_date, parse_date, parse_date_of_birth};
use crate::enrollment::{ConsentPurpose, EnrollmentKind};
use crate::ids::MemberId;

const TODAY: Date = date!(2026 - 03 - 15);

/// Arbitrary text, biased towards the characters that matter to these parsers.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "\\PC{0,120}",
        "[\\p{L}\\p{M} '.\u{2019}\u{a0}\t\n-]{0,120}",
        "[a-zA-Z0-9.@+() -]{0,40}",
    ]
}

/// `parse(parse(s)) == parse(s)` whenever `parse(s)` succeeds.
fn idempotent<T, E>(s: &str, parse: impl Fn(&str) -> Result<T, E>) -> Result<(), TestCaseError>
where
    T: AsRef<str> + PartialEq + std::fmt::Debug,
    E: PartialEq + std::fmt::Debug,
{
    if let Ok(v) = parse(s) {
        let again = parse(v.as_ref());
        prop_assert_eq!(
            again.as_ref().ok(),
            Some(&v),
            "{:?} did not parse to itself",
            v
        );
    }
    Ok(())
}

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Z][a-z]{0,12}",
        "[ÀÉÎÕÜÑ][àéîõüñçøåæœß]{1,8}",
        "[李王张刘陈杨黄赵小龙]{1,4}",
        "[А-Я][а-я]{1,10}",
        "[α-ω]{2,10}",
        "[ء-ي]{2,8}",
        "O'[A-Z][a-z]{2,8}",
    ]
}

fn valid_name() -> impl Strategy<Value = String> {
    (
        word(),
        prop::collection::vec((prop::sample::select(vec![" ", "-"]), word()), 0..4),
    )
        .prop_map(|(first, rest)| {
            let mut name = first;
            for (sep, w) in rest {
                name.push_str(sep);
                name.push_str(&w);
            }
            name
        })
        .prop_filter("at most 100 characters", |n| n.chars().count() <= 100)
}

fn valid_email() -> impl Strategy<Value = (String, String)> {
    let local = "[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]{1,20}(\\.[a-zA-Z0-9_+-]{1,10}){0,3}";
    let label = "[a-zA-Z0-9]([a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?";
    (local, prop::collection::vec(label, 1..4), "[a-zA-Z]{2,10}").prop_map(
        |(local, labels, tld)| {
            let domain = format!("{}.{tld}", labels.join("."));
            let expected = format!("{local}@{}", domain.to_lowercase());
            (format!("{local}@{domain}"), expected)
        },
    )
}

fn valid_phone() -> impl Strategy<Value = (String, String)> {
    let sep = prop::sample::select(vec!["", "", " ", "-", ".", "(", ")", "\u{a0}"]);
    (any::<bool>(), prop::collection::vec(("[0-9]", sep), 7..=15)).prop_map(|(plus, parts)| {
        let mut typed = String::from(if plus { "+" } else { "" });
        let mut stored = typed.clone();
        for (digit, sep) in parts {
            typed.push_str(&digit);
            typed.push_str(sep);
            stored.push_str(&digit);
        }
        (typed, stored)
    })
}

fn any_date() -> impl Strategy<Value = Date> {
    (0i32..=9999, 1u16..=365).prop_map(|(y, d)| Date::from_ordinal_date(y, d).unwrap())
}

fn form(parts: [String; 12], purposes: Vec<ConsentPurpose>, distributor: bool) -> EnrollmentForm {
    let [
        legal_name,
        display_name,
        email,
        phone,
        date_of_birth,
        address_line1,
        address_line2,
        city,
        region,
        postal_code,
        country,
        tax_id,
    ] = parts;
    EnrollmentForm {
        kind: if distributor {
            EnrollmentKind::Distributor
        } else {
            EnrollmentKind::Customer
        },
        sponsor: Some(MemberId::new(1)),
        legal_name,
        display_name,
        email,
        phone,
        date_of_birth,
        address_line1,
        address_line2,
        city,
        region,
        postal_code,
        country,
        tax_id,
        consent_version: "v1".to_owned(),
        consent_purposes: purposes,
        consent_given_at: datetime!(2026-03-15 10:00 UTC),
        consent_given_offline: false,
    }
}

fn purposes() -> impl Strategy<Value = Vec<ConsentPurpose>> {
    prop::collection::vec(
        prop::sample::select(vec![
            ConsentPurpose::Terms,
            ConsentPurpose::PrivacyNotice,
            ConsentPurpose::MarketingEmail,
            ConsentPurpose::MarketingSms,
        ]),
        0..6,
    )
}

proptest! {
    #[test]
    fn parsers_never_panic_and_are_idempotent(s in text()) {
        idempotent(&s, PersonName::parse)?;
        idempotent(&s, Email::parse)?;
        idempotent(&s, Phone::parse)?;
        idempotent(&s, AddressLine::parse)?;
        idempotent(&s, PostalCode::parse)?;
        idempotent(&s, TaxId::parse)?;
        idempotent(&s, crate::ids::MemberNumber::parse)?;
        idempotent(&s, crate::order::Sku::parse)?;
        if let Ok(c) = CountryCode::parse(&s) {
            prop_assert_eq!(CountryCode::parse(c.as_str()), Ok(c));
        }
        if let Ok(d) = parse_date(&s) {
            prop_assert_eq!(parse_date(&format_date(d)), Ok(d));
        }
        let _ = parse_date_of_birth(&s, TODAY);
    }

    #[test]
    fn names_from_the_grammar_are_accepted_unchanged(name in valid_name()) {
        let parsed = PersonName::parse(&name);
        prop_assert_eq!(parsed.as_ref().map(PersonName::as_str), Ok(name.as_str()));
        let short = parsed.unwrap().short_form();
        prop_assert_eq!(PersonName::parse(short.as_str()), Ok(short.clone()));
    }

    #[test]
    fn names_with_extra_spaces_normalise_to_the_clean_name(name in valid_name(), pad in "[ \u{a0}\u{3000}]{1,3}") {
        let messy = format!("{pad}{}{pad}", name.replace(' ', &pad));
        prop_assert_eq!(PersonName::parse(&messy).map(String::from), Ok(name));
    }

    #[test]
    fn emails_from_the_grammar_are_accepted((typed, stored) in valid_email()) {
        prop_assume!(typed.len() <= Email::MAX_LEN);
        let parsed = Email::parse(&format!("  {typed} "));
        prop_assert_eq!(parsed.as_ref().map(Email::as_str), Ok(stored.as_str()));
    }

    #[test]
    fn phones_from_the_grammar_are_accepted((typed, stored) in valid_phone()) {
        let parsed = Phone::parse(&typed);
        prop_assert_eq!(parsed.as_ref().map(Phone::as_str), Ok(stored.as_str()));
    }

    #[test]
    fn dates_round_trip_through_text(d in any_date()) {
        prop_assert_eq!(parse_date(&format_date(d)), Ok(d));
    }

    #[test]
    fn form_validation_never_panics(
        parts in prop::array::uniform12(text()),
        purposes in purposes(),
        distributor in any::<bool>(),
    ) {
        let _ = form(parts, purposes, distributor).validate(TODAY);
    }

    #[test]
    fn a_validated_form_validates_to_itself(
        name in valid_name(),
        (email, _) in valid_email(),
        (phone, _) in valid_phone(),
        dob in (1900i32..=2007, 1u16..=365).prop_map(|(y, d)| Date::from_ordinal_date(y, d).unwrap()),
        street in "[0-9]{1,4} [A-Z][a-z]{2,10} (Street|Road|Way)",
        city in word(),
        country in prop::sample::select(vec!["us", "DE", "es", "Jp", "br"]),
        tax_id in "[A-Z0-9 -]{0,20}",
        purposes in purposes(),
        distributor in any::<bool>(),
    ) {
        prop_assume!(email.len() <= Email::MAX_LEN);
        let mut purposes = purposes;
        purposes.extend(ConsentPurpose::REQUIRED);
        let parts = [
            name, String::new(), email, phone, format_date(dob), street, String::new(), city,
            String::new(), String::new(), country.to_owned(), tax_id,
        ];
        let first = form(parts, purposes, distributor).validate(TODAY);
        prop_assert!(first.is_ok(), "{:?}", first.as_ref().err());
        let first = first.unwrap();
        prop_assert_eq!(EnrollmentForm::from(&first).validate(TODAY), Ok(first));
    }
}
