//! Money as text: the one display format (`USD 1,234.56`, `-USD 12.00`) and parsing of what a
//! person typed into an amount field, with errors they can act on.

use std::fmt;
use std::str::FromStr;

use super::{Currency, Money};
use crate::decimal::{self, DecimalError};

/// Why an amount someone typed was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseMoneyError {
    #[error("Enter an amount")]
    Empty,
    #[error("Enter an amount like 1234.56")]
    NotANumber,
    #[error("{}", too_many_decimals(*.currency))]
    TooManyDecimals { currency: Currency },
    #[error("That amount is too large")]
    Overflow,
    #[error("Enter a three-letter currency code like USD or EUR")]
    Currency,
}

fn too_many_decimals(currency: Currency) -> String {
    match currency.exponent() {
        0 => format!("{currency} amounts can't have decimal places"),
        1 => format!("{currency} amounts have at most 1 decimal place"),
        n => format!("{currency} amounts have at most {n} decimal places"),
    }
}

impl ParseMoneyError {
    fn from_decimal(err: DecimalError, currency: Currency) -> Self {
        match err {
            DecimalError::Empty => Self::Empty,
            DecimalError::NotANumber => Self::NotANumber,
            DecimalError::TooManyDecimals => Self::TooManyDecimals { currency },
            DecimalError::Overflow => Self::Overflow,
        }
    }
}

impl Money {
    /// Parses an amount typed into a field whose currency is already known (the order's or
    /// the country's): `"1234.5"`, `"1,234.50"`, `"-12"`, `" 0.99 "`.
    ///
    /// Accepted: surrounding spaces, a leading `-`/`+`, `,` thousands separators in groups of
    /// three, and up to [`Currency::exponent`] decimals (extra trailing zeros are fine, a
    /// non-zero extra digit is [`ParseMoneyError::TooManyDecimals`]; nothing is rounded).
    pub fn parse_amount(input: &str, currency: Currency) -> Result<Self, ParseMoneyError> {
        decimal::parse_signed(input, currency.exponent())
            .map(|minor| Self::new(minor, currency))
            .map_err(|e| ParseMoneyError::from_decimal(e, currency))
    }
}

/// The one display format: currency code, a space, the amount with `,` thousands separators
/// and exactly [`Currency::exponent`] decimals, and a leading `-` for negatives:
/// `USD 1,234.56`, `-USD 12.00`, `JPY 1,500`, `KWD 0.250`. Codes, not symbols (`$` is
/// ambiguous across USD/CAD/AUD/MXN, and distributors are paid in several of them).
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.minor < 0 { "-" } else { "" };
        let amount = decimal::format_unsigned(self.minor, self.currency.exponent());
        write!(f, "{sign}{} {amount}", self.currency)
    }
}

/// Parses the display format back (`USD 1,234.56`, `-USD 12.00`); `parse(format(x)) == x`.
impl FromStr for Money {
    type Err = ParseMoneyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ParseMoneyError::Empty);
        }
        let (negative, rest) = decimal::split_sign(s);
        let (code, amount) = rest.split_once(' ').ok_or(ParseMoneyError::NotANumber)?;
        let currency = Currency::parse(code).map_err(|_| ParseMoneyError::Currency)?;
        let magnitude = decimal::parse_unsigned(amount.trim_start(), currency.exponent())
            .map_err(|e| ParseMoneyError::from_decimal(e, currency))?;
        decimal::apply_sign(negative, magnitude)
            .map(|minor| Self::new(minor, currency))
            .map_err(|e| ParseMoneyError::from_decimal(e, currency))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_code_grouping_and_fixed_decimals() {
        let cases = [
            (Money::new(123_456, Currency::USD), "USD 1,234.56"),
            (Money::new(-1_200, Currency::USD), "-USD 12.00"),
            (Money::new(0, Currency::EUR), "EUR 0.00"),
            (Money::new(5, Currency::GBP), "GBP 0.05"),
            (Money::new(1_500, Currency::JPY), "JPY 1,500"),
            (Money::new(-7, Currency::KRW), "-KRW 7"),
            (Money::new(250, Currency::KWD), "KWD 0.250"),
            (Money::new(1_234_567, Currency::BHD), "BHD 1,234.567"),
            (
                Money::new(i64::MIN, Currency::USD),
                "-USD 92,233,720,368,547,758.08",
            ),
        ];
        for (money, shown) in cases {
            assert_eq!(money.to_string(), shown);
            assert_eq!(shown.parse::<Money>(), Ok(money), "{shown}");
        }
    }

    fn check(input: &str, currency: Currency, expected: Result<i64, &str>) {
        let got = Money::parse_amount(input, currency)
            .map(Money::minor)
            .map_err(|e| e.to_string());
        assert_eq!(got, expected.map_err(str::to_owned), "input {input:?}");
    }

    #[test]
    fn parses_typed_amounts_with_messages_a_person_understands() {
        let usd = Currency::USD;
        check("1234.56", usd, Ok(123_456));
        check("1,234.5", usd, Ok(123_450));
        check(" -12 ", usd, Ok(-1_200));
        check("0.10", usd, Ok(10));
        check(
            "12.345",
            usd,
            Err("USD amounts have at most 2 decimal places"),
        );
        check(
            "12.5",
            Currency::JPY,
            Err("JPY amounts can't have decimal places"),
        );
        check(
            "1.2345",
            Currency::KWD,
            Err("KWD amounts have at most 3 decimal places"),
        );
        check("1.234", Currency::KWD, Ok(1_234));
        check("", usd, Err("Enter an amount"));
        check("twelve", usd, Err("Enter an amount like 1234.56"));
        check("$12", usd, Err("Enter an amount like 1234.56"));
        check("12,34", usd, Err("Enter an amount like 1234.56"));
        check("100000000000000000", usd, Err("That amount is too large"));
    }

    #[test]
    fn display_format_parse_errors() {
        let cases = [
            ("", ParseMoneyError::Empty),
            ("USD", ParseMoneyError::NotANumber),
            ("usd 1.00", ParseMoneyError::Currency),
            ("USD -1.00", ParseMoneyError::NotANumber),
            (
                "USD 1.001",
                ParseMoneyError::TooManyDecimals {
                    currency: Currency::USD,
                },
            ),
            ("USD 92,233,720,368,547,758.08", ParseMoneyError::Overflow),
        ];
        for (input, err) in cases {
            assert_eq!(input.parse::<Money>(), Err(err), "{input:?}");
        }
    }
}
