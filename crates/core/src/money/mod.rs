//! Money as an integer count of minor units (cents) in one currency, never a float.
//! All arithmetic is checked and returns [`MoneyError`] on overflow or mixed currencies.

mod currency;
#[cfg(test)]
mod proptests;
mod rate;
mod text;

use serde::{Deserialize, Serialize};

pub use currency::{Currency, CurrencyError};
pub use rate::BasisPoints;
pub use text::ParseMoneyError;

/// An amount of money: `minor` units of `currency` (`Money::new(1999, Currency::USD)` is
/// USD 19.99, `Money::new(500, Currency::JPY)` is JPY 500).
///
/// There are deliberately no `+`/`-`/`*` operators: every operation can fail (overflow, two
/// currencies) and says so in its return type. There is no `Ord` either, because comparing
/// amounts in different currencies means nothing; compare [`Money::minor`] after checking
/// [`Money::currency`], or use [`Money::checked_cmp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

/// Why a money calculation could not be done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("Amounts in {left} and {right} can't be combined")]
    CurrencyMismatch { left: Currency, right: Currency },
    #[error("The amount is too large to calculate")]
    Overflow,
    #[error("Can't divide an amount by zero")]
    DivisionByZero,
}

impl Money {
    pub const fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    pub const fn zero(currency: Currency) -> Self {
        Self::new(0, currency)
    }

    /// The amount in minor units (cents for USD, yen for JPY, fils for KWD).
    pub const fn minor(self) -> i64 {
        self.minor
    }

    pub const fn currency(self) -> Currency {
        self.currency
    }

    pub const fn is_zero(self) -> bool {
        self.minor == 0
    }

    pub const fn is_negative(self) -> bool {
        self.minor < 0
    }

    fn same_currency(self, other: Self) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }

    fn with_minor(self, minor: Option<i64>) -> Result<Self, MoneyError> {
        minor
            .map(|m| Self::new(m, self.currency))
            .ok_or(MoneyError::Overflow)
    }

    pub fn checked_add(self, other: Self) -> Result<Self, MoneyError> {
        self.same_currency(other)?;
        self.with_minor(self.minor.checked_add(other.minor))
    }

    pub fn checked_sub(self, other: Self) -> Result<Self, MoneyError> {
        self.same_currency(other)?;
        self.with_minor(self.minor.checked_sub(other.minor))
    }

    /// Multiplies by a whole number, e.g. a unit price by a quantity.
    pub fn checked_mul(self, factor: i64) -> Result<Self, MoneyError> {
        self.with_minor(self.minor.checked_mul(factor))
    }

    pub fn checked_neg(self) -> Result<Self, MoneyError> {
        self.with_minor(self.minor.checked_neg())
    }

    /// Compares two amounts of the same currency.
    pub fn checked_cmp(self, other: Self) -> Result<std::cmp::Ordering, MoneyError> {
        self.same_currency(other)?;
        Ok(self.minor.cmp(&other.minor))
    }

    /// Sums `amounts`, all of which must be in `currency`; an empty iterator gives zero.
    /// Stops at the first mismatch or overflow.
    pub fn checked_sum<I>(currency: Currency, amounts: I) -> Result<Self, MoneyError>
    where
        I: IntoIterator<Item = Money>,
    {
        amounts
            .into_iter()
            .try_fold(Self::zero(currency), Self::checked_add)
    }

    /// Applies a rate in basis points (1/100 of a percent): 10 % of USD 12.35 is
    /// `checked_mul_bps(BasisPoints::new(1_000))` = USD 1.24.
    ///
    /// **Rounding: half to even** ("banker's rounding") on the minor unit: the exact result is
    /// rounded to the nearest minor unit, and an exact tie goes to the even neighbour
    /// (USD 0.125 → 0.12, USD 0.135 → 0.14, −USD 0.125 → −0.12). Ties do not drift upwards
    /// when millions of commission lines are summed, and the rule is symmetric around zero, so
    /// a clawback is exactly the negative of the commission it reverses.
    pub fn checked_mul_bps(self, rate: BasisPoints) -> Result<Self, MoneyError> {
        self.checked_mul_ratio(i64::from(rate.get()), 10_000)
    }

    /// Multiplies by `numerator / denominator`, rounding half to even as
    /// [`Money::checked_mul_bps`] does. Used for pro-rata splits.
    pub fn checked_mul_ratio(self, numerator: i64, denominator: i64) -> Result<Self, MoneyError> {
        if denominator == 0 {
            return Err(MoneyError::DivisionByZero);
        }
        self.with_minor(rate::mul_div_half_even(self.minor, numerator, denominator))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(minor: i64) -> Money {
        Money::new(minor, Currency::USD)
    }

    #[test]
    fn adds_and_subtracts_within_one_currency() {
        assert_eq!(usd(150).checked_add(usd(275)), Ok(usd(425)));
        assert_eq!(usd(150).checked_sub(usd(275)), Ok(usd(-125)));
        assert_eq!(usd(150).checked_mul(3), Ok(usd(450)));
        assert_eq!(usd(150).checked_neg(), Ok(usd(-150)));
        assert_eq!(usd(1).checked_cmp(usd(2)), Ok(std::cmp::Ordering::Less));
    }

    #[test]
    fn refuses_to_mix_currencies_with_a_readable_message() {
        let eur = Money::new(100, Currency::EUR);
        let err = usd(100).checked_add(eur).unwrap_err();
        assert_eq!(
            err,
            MoneyError::CurrencyMismatch {
                left: Currency::USD,
                right: Currency::EUR
            }
        );
        assert_eq!(err.to_string(), "Amounts in USD and EUR can't be combined");
        assert!(usd(100).checked_sub(eur).is_err());
        assert!(usd(100).checked_cmp(eur).is_err());
    }

    #[test]
    fn reports_overflow_instead_of_wrapping() {
        let cases = [
            usd(i64::MAX).checked_add(usd(1)),
            usd(i64::MIN).checked_sub(usd(1)),
            usd(i64::MAX).checked_mul(2),
            usd(i64::MIN).checked_neg(),
            usd(i64::MAX).checked_mul_bps(BasisPoints::new(20_000)),
        ];
        for result in cases {
            assert_eq!(result, Err(MoneyError::Overflow));
        }
        assert_eq!(
            MoneyError::Overflow.to_string(),
            "The amount is too large to calculate"
        );
    }

    #[test]
    fn sums_an_iterator_and_checks_every_currency() {
        let lines = [usd(100), usd(250), usd(-50)];
        assert_eq!(Money::checked_sum(Currency::USD, lines), Ok(usd(300)));
        assert_eq!(Money::checked_sum(Currency::USD, []), Ok(usd(0)));
        assert_eq!(
            Money::checked_sum(Currency::EUR, lines),
            Err(MoneyError::CurrencyMismatch {
                left: Currency::EUR,
                right: Currency::USD
            })
        );
    }

    #[test]
    fn basis_points_round_half_to_even() {
        // (amount in cents, rate in bps, expected cents)
        let cases: &[(i64, u32, i64)] = &[
            (1235, 1_000, 124),   // 123.5 → 124 (tie, 124 is even)
            (1225, 1_000, 122),   // 122.5 → 122 (tie, 122 is even)
            (1234, 1_000, 123),   // 123.4 → 123
            (1236, 1_000, 124),   // 123.6 → 124
            (-1235, 1_000, -124), // symmetric around zero
            (-1225, 1_000, -122),
            (125, 1_000, 12), // 12.5 → 12
            (135, 1_000, 14), // 13.5 → 14
            (10_000, 1, 1),
            (4_999, 1, 0),  // 0.4999 → 0
            (5_000, 1, 0),  // 0.5 tie → 0
            (15_000, 1, 2), // 1.5 tie → 2
            (999, 0, 0),
            (999, 10_000, 999),
            (999, 25_000, 2_498), // 2497.5 → 2498
        ];
        for &(amount, bps, expected) in cases {
            assert_eq!(
                usd(amount).checked_mul_bps(BasisPoints::new(bps)),
                Ok(usd(expected)),
                "{amount} × {bps} bps"
            );
        }
    }

    #[test]
    fn ratio_rounds_half_to_even_and_refuses_zero_denominator() {
        assert_eq!(usd(100).checked_mul_ratio(1, 3), Ok(usd(33)));
        assert_eq!(usd(200).checked_mul_ratio(1, 3), Ok(usd(67)));
        assert_eq!(usd(100).checked_mul_ratio(1, -8), Ok(usd(-12))); // −12.5 → −12
        assert_eq!(
            usd(1).checked_mul_ratio(1, 0),
            Err(MoneyError::DivisionByZero)
        );
        assert_eq!(
            MoneyError::DivisionByZero.to_string(),
            "Can't divide an amount by zero"
        );
    }

    #[test]
    fn serialises_minor_units_and_code() {
        let json = serde_json::to_string(&usd(123_456)).unwrap();
        assert_eq!(json, r#"{"minor":123456,"currency":"USD"}"#);
        let back: Money = serde_json::from_str(&json).unwrap();
        assert_eq!(back, usd(123_456));
    }
}
