//! ISO 4217 currency codes and how many minor units (decimal places) each one has.
//! The code is only checked for shape; the exponent table covers the currencies we sell in.

use std::fmt;

/// A three-letter ISO 4217 currency code such as `USD`.
///
/// Any three uppercase ASCII letters are accepted, so a currency the company adds later does
/// not need a release. [`Currency::exponent`] knows the common ones; **an unknown code is
/// assumed to have 2 decimal places**, which is right for most of the world's currencies.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

/// Why a currency code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CurrencyError {
    #[error("Enter a three-letter currency code like USD or EUR")]
    Invalid,
}

/// Currencies whose exponent is not 2: `(code, decimal places)`.
const EXPONENTS: &[(&str, u8)] = &[
    ("BHD", 3),
    ("CLP", 0),
    ("IQD", 3),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("LYD", 3),
    ("OMR", 3),
    ("PYG", 0),
    ("TND", 3),
    ("UGX", 0),
    ("VND", 0),
    ("XAF", 0),
    ("XOF", 0),
];

impl Currency {
    pub const USD: Self = Self(*b"USD");
    pub const EUR: Self = Self(*b"EUR");
    pub const GBP: Self = Self(*b"GBP");
    pub const CAD: Self = Self(*b"CAD");
    pub const AUD: Self = Self(*b"AUD");
    pub const JPY: Self = Self(*b"JPY");
    pub const KRW: Self = Self(*b"KRW");
    pub const CHF: Self = Self(*b"CHF");
    pub const SEK: Self = Self(*b"SEK");
    pub const NOK: Self = Self(*b"NOK");
    pub const DKK: Self = Self(*b"DKK");
    pub const MXN: Self = Self(*b"MXN");
    pub const BRL: Self = Self(*b"BRL");
    pub const INR: Self = Self(*b"INR");
    pub const ZAR: Self = Self(*b"ZAR");
    pub const NZD: Self = Self(*b"NZD");
    pub const PLN: Self = Self(*b"PLN");
    pub const BHD: Self = Self(*b"BHD");
    pub const KWD: Self = Self(*b"KWD");

    /// Accepts exactly three uppercase ASCII letters (`"USD"`); anything else is refused,
    /// including lowercase, so that stored codes have one spelling.
    pub fn parse(code: &str) -> Result<Self, CurrencyError> {
        match code.as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_uppercase) => Ok(Self([a, b, c])),
            _ => Err(CurrencyError::Invalid),
        }
    }

    pub fn as_str(&self) -> &str {
        // The bytes are three ASCII uppercase letters by construction, so this never fails.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Number of decimal places of the minor unit: 2 for USD (cents), 0 for JPY, 3 for KWD.
    /// Codes not in the table get 2 (see the type's documentation).
    pub fn exponent(self) -> u8 {
        EXPONENTS
            .iter()
            .find(|(code, _)| code.as_bytes() == self.0)
            .map_or(2, |&(_, e)| e)
    }
}

text_value!(Currency, CurrencyError);

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponents_of_common_and_unknown_currencies() {
        let cases = [
            ("USD", 2),
            ("EUR", 2),
            ("GBP", 2),
            ("CAD", 2),
            ("AUD", 2),
            ("JPY", 0),
            ("KRW", 0),
            ("CHF", 2),
            ("SEK", 2),
            ("NOK", 2),
            ("DKK", 2),
            ("MXN", 2),
            ("BRL", 2),
            ("INR", 2),
            ("ZAR", 2),
            ("NZD", 2),
            ("PLN", 2),
            ("BHD", 3),
            ("KWD", 3),
            ("XYZ", 2),
        ];
        for (code, exponent) in cases {
            let currency = Currency::parse(code).unwrap();
            assert_eq!(currency.exponent(), exponent, "{code}");
            assert_eq!(currency.to_string(), code);
        }
    }

    #[test]
    fn exponent_table_is_sorted_valid_codes() {
        assert!(EXPONENTS.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(EXPONENTS.iter().all(|(c, _)| Currency::parse(c).is_ok()));
    }

    #[test]
    fn refuses_codes_that_are_not_three_uppercase_letters() {
        for code in ["", "US", "usd", "Usd", "USDD", "US1", " USD", "ÜSD", "€"] {
            let err = Currency::parse(code).unwrap_err();
            assert_eq!(
                err.to_string(),
                "Enter a three-letter currency code like USD or EUR"
            );
        }
    }

    #[test]
    fn serialises_as_the_code() {
        assert_eq!(serde_json::to_string(&Currency::EUR).unwrap(), "\"EUR\"");
        let back: Currency = serde_json::from_str("\"JPY\"").unwrap();
        assert_eq!(back, Currency::JPY);
        assert!(serde_json::from_str::<Currency>("\"jpy\"").is_err());
    }
}
