//! Fixed exchange rates that a plan states as data, and the conversion of an order's
//! commissionable amount into the plan currency: integers only, rounded half to even.
//!
//! Rates live in the plan, not in a feed, so a run stays deterministic and reproducible
//! from the plan's text (and its hash) alone.

use std::fmt;

use serde::Serialize;

use crate::decimal::{self, DecimalError};
use crate::money::{Currency, Money, MoneyError};

/// Decimal places a rate may have: 1 JPY = 0.006667 USD needs six.
pub const RATE_DECIMALS: u8 = 6;

/// Millionths in one unit (`10^RATE_DECIMALS`).
const RATE_UNIT: i64 = 1_000_000;

/// The largest rate accepted, in plan-currency units per unit: far above any real pair
/// (1 KWD ≈ 80,000 VND), and low enough that a conversion's factors fit in `i64`.
pub const MAX_RATE: i64 = 1_000_000;

/// "One `from` is worth `rate` of the plan currency", e.g. 1 EUR = 1.085 USD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ExchangeRate {
    from: Currency,
    /// The rate × 10^6 (1.085 is 1 085 000): exact for the six decimals a plan may write.
    millionths: i64,
}

/// Why a rate was refused; [`super::PlanError::BadRate`] words it for the plan's author.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RateError {
    NotANumber,
    NotPositive,
    TooManyDecimals,
    TooLarge,
}

impl fmt::Display for RateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotANumber => f.write_str("write it as a decimal string like \"1.0850\""),
            Self::NotPositive => f.write_str("a rate must be greater than zero"),
            Self::TooManyDecimals => write!(f, "a rate has at most {RATE_DECIMALS} decimal places"),
            Self::TooLarge => write!(
                f,
                "a rate is at most {}",
                decimal::format_unsigned(MAX_RATE, 0)
            ),
        }
    }
}

impl ExchangeRate {
    /// Parses a rate written as a decimal string (`"1.0850"`, `"0.006667"`, `"20"`).
    pub(super) fn parse(from: Currency, text: &str) -> Result<Self, RateError> {
        let (negative, body) = decimal::split_sign(text.trim());
        let millionths = decimal::parse_unsigned(body, RATE_DECIMALS).map_err(|e| match e {
            DecimalError::Empty | DecimalError::NotANumber => RateError::NotANumber,
            DecimalError::TooManyDecimals => RateError::TooManyDecimals,
            DecimalError::Overflow => RateError::TooLarge,
        })?;
        if negative || millionths == 0 {
            return Err(RateError::NotPositive);
        }
        if millionths > i128::from(MAX_RATE) * i128::from(RATE_UNIT) {
            return Err(RateError::TooLarge);
        }
        // At most MAX_RATE × 10^6 = 10^12 (checked just above), so it fits.
        let millionths = i64::try_from(millionths).map_err(|_| RateError::TooLarge)?;
        Ok(Self { from, millionths })
    }

    /// The currency this rate converts from.
    pub fn currency(&self) -> Currency {
        self.from
    }

    /// The rate × 1,000,000, exactly.
    pub fn millionths(&self) -> i64 {
        self.millionths
    }

    /// `to_minor = from_minor × numerator / denominator`, with both currencies' minor-unit
    /// exponents folded in (reduced, so the run multiplies the smallest numbers it can).
    pub(super) fn factor(&self, to: Currency) -> (i64, i64) {
        // millionths ≤ 10^12 and exponents ≤ 3, so both stay below 10^16.
        let numerator = self.millionths * pow10(to.exponent());
        let denominator = RATE_UNIT * pow10(self.from.exponent());
        let g = gcd(numerator, denominator);
        (numerator / g, denominator / g)
    }

    /// Converts `amount` (in [`Self::currency`]) into `to`.
    ///
    /// **Rounding: half to even at `to`'s minor unit**, as every earnings line is
    /// ([`Money::checked_mul_bps`]): the exact `amount × rate` is rounded once to the
    /// nearest minor unit of `to`, an exact tie going to the even neighbour. Minor-unit
    /// exponents are respected: JPY 1,000 at 0.006667 is USD 6.667 → USD 6.67.
    pub fn convert(&self, amount: Money, to: Currency) -> Result<Money, MoneyError> {
        if amount.currency() != self.from {
            return Err(MoneyError::CurrencyMismatch {
                left: amount.currency(),
                right: self.from,
            });
        }
        let (numerator, denominator) = self.factor(to);
        let converted = amount.checked_mul_ratio(numerator, denominator)?;
        Ok(Money::new(converted.minor(), to))
    }
}

/// The rate as a plan would write it, without trailing zeros: `1.085`, `0.006667`, `20`.
impl fmt::Display for ExchangeRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = decimal::format_unsigned(self.millionths, RATE_DECIMALS);
        f.write_str(text.trim_end_matches('0').trim_end_matches('.'))
    }
}

fn pow10(exponent: u8) -> i64 {
    10_i64.pow(u32::from(exponent))
}

fn gcd(mut a: i64, mut b: i64) -> i64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

/// ISO 4217 codes of currencies in circulation (no funds, metals or test codes), sorted:
/// a rate for anything else is a typo, and would silently never apply.
const ISO_4217: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
    "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD",
    "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ",
    "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD",
    "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR",
    "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN",
    "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR",
    "SDG", "SEK", "SGD", "SHP", "SLE", "SLL", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL",
    "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU",
    "UZS", "VED", "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR",
    "ZMW", "ZWG", "ZWL",
];

/// The currency named by an `[exchange_rates]` key, if it is a circulating ISO 4217 code.
pub(super) fn iso_currency(code: &str) -> Option<Currency> {
    ISO_4217
        .binary_search(&code)
        .ok()
        .and_then(|_| Currency::parse(code).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(code: &str, text: &str) -> ExchangeRate {
        ExchangeRate::parse(Currency::parse(code).unwrap(), text).unwrap()
    }

    #[test]
    fn iso_table_is_sorted_and_knows_the_common_codes() {
        assert!(ISO_4217.windows(2).all(|w| w[0] < w[1]));
        for code in [
            "USD", "EUR", "GBP", "JPY", "MXN", "BRL", "PLN", "KWD", "XOF",
        ] {
            assert!(iso_currency(code).is_some(), "{code}");
        }
        for code in ["EUD", "usd", "XAU", "XTS", "US"] {
            assert!(iso_currency(code).is_none(), "{code}");
        }
    }

    #[test]
    fn parses_and_shows_rates_without_trailing_zeros() {
        let cases = [
            ("1.0850", 1_085_000, "1.085"),
            ("0.006667", 6_667, "0.006667"),
            ("20", 20_000_000, "20"),
            (" 1,000.5 ", 1_000_500_000, "1,000.5"),
            ("1.2500000", 1_250_000, "1.25"),
        ];
        for (text, millionths, shown) in cases {
            let r = rate("EUR", text);
            assert_eq!(r.millionths(), millionths, "{text}");
            assert_eq!(r.to_string(), shown, "{text}");
        }
        let refused = [
            ("0", RateError::NotPositive),
            ("0.000000", RateError::NotPositive),
            ("-1.2", RateError::NotPositive),
            ("1.0000001", RateError::TooManyDecimals),
            ("1000000.000001", RateError::TooLarge),
            ("99999999999999999999999", RateError::TooLarge),
            ("", RateError::NotANumber),
            ("1,08", RateError::NotANumber),
            ("1e3", RateError::NotANumber),
        ];
        for (text, err) in refused {
            assert_eq!(ExchangeRate::parse(Currency::EUR, text), Err(err), "{text}");
        }
    }

    #[test]
    fn converts_across_exponents_rounding_half_to_even() {
        let usd = Currency::USD;
        // (from, rate, from minor, to, to minor)
        let cases: &[(&str, &str, i64, Currency, i64)] = &[
            ("EUR", "1.085", 10_000, usd, 10_850), // EUR 100.00 → USD 108.50
            ("EUR", "1.085", 1_234, usd, 1_339),   // 13.3889 → 13.39
            ("EUR", "1.085", 10, usd, 11),         // 0.1085 → 0.11
            ("JPY", "0.006667", 1_000, usd, 667),  // JPY 1,000 → 6.667 → 6.67
            ("JPY", "0.0065", 1_000, usd, 650),    // exact
            ("JPY", "0.0125", 100, usd, 125),      // exact
            ("JPY", "0.005", 1, usd, 0),           // 0.005 → 0.00 (tie, 0 even)
            ("JPY", "0.005", 3, usd, 2),           // 0.015 → 0.02 (tie, 2 even)
            ("GBP", "1.25", 2, usd, 2),            // 0.025 → 0.02 (tie)
            ("GBP", "1.25", 6, usd, 8),            // 0.075 → 0.08 (tie)
            ("USD", "150.5", 101, Currency::JPY, 152), // 152.005 → 152
            ("USD", "150", 1, Currency::JPY, 2),   // 1.5 → 2 (tie)
            ("USD", "150", 3, Currency::JPY, 4),   // 4.5 → 4 (tie)
            ("KWD", "3.25", 1, usd, 0),            // 0.00325 → 0.00
            ("KWD", "3.25", 1_000, usd, 325),      // KWD 1.000 → 3.25
            ("EUR", "0.29", 100, Currency::KWD, 290), // EUR 1.00 → KWD 0.290
        ];
        for &(code, text, minor, to, expected) in cases {
            let r = rate(code, text);
            let from = Money::new(minor, r.currency());
            assert_eq!(
                r.convert(from, to),
                Ok(Money::new(expected, to)),
                "{from} at {text}"
            );
        }
        let err = rate("EUR", "1.085").convert(Money::new(1, Currency::GBP), usd);
        assert_eq!(
            err,
            Err(MoneyError::CurrencyMismatch {
                left: Currency::GBP,
                right: Currency::EUR
            })
        );
    }
}
