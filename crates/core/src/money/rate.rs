//! Rates in basis points and the one rounding rule money uses: half to even.
//! Kept apart from `Money` so commission math has a single, tested place to round.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A rate in basis points: 1 bp = 0.01 %, so 10 % is `BasisPoints::new(1_000)`.
/// Rates above 100 % are allowed (a 150 % matching bonus is `15_000`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BasisPoints(u32);

impl BasisPoints {
    pub const ZERO: Self = Self(0);
    pub const ONE_HUNDRED_PERCENT: Self = Self(10_000);

    pub const fn new(bps: u32) -> Self {
        Self(bps)
    }

    pub const fn get(self) -> u32 {
        self.0
    }
}

/// `12.50%` for 1 250 bp.
impl fmt::Display for BasisPoints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}%",
            crate::decimal::format_unsigned(i64::from(self.0), 2)
        )
    }
}

/// `value × numerator / denominator`, rounded to the nearest integer with ties to even.
/// `None` when the result does not fit in `i64` or `denominator` is zero.
pub(crate) fn mul_div_half_even(value: i64, numerator: i64, denominator: i64) -> Option<i64> {
    if denominator == 0 {
        return None;
    }
    // i64 × i64 always fits in i128, so only the final narrowing can overflow.
    let product = i128::from(value) * i128::from(numerator);
    let den = i128::from(denominator);
    let mut quotient = product / den;
    let remainder = product % den;
    if remainder != 0 {
        // Direction of the exact result away from the truncated quotient.
        let away = if (product < 0) == (den < 0) { 1 } else { -1 };
        let twice = remainder.abs() * 2;
        let den_abs = den.abs();
        if twice > den_abs || (twice == den_abs && quotient % 2 != 0) {
            quotient += away;
        }
    }
    i64::try_from(quotient).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_as_a_percentage() {
        let cases = [
            (0, "0.00%"),
            (1, "0.01%"),
            (1_250, "12.50%"),
            (10_000, "100.00%"),
            (15_000, "150.00%"),
        ];
        for (bps, shown) in cases {
            assert_eq!(BasisPoints::new(bps).to_string(), shown);
        }
    }

    #[test]
    fn rounds_half_to_even_for_every_sign_combination() {
        let cases: &[(i64, i64, i64, Option<i64>)] = &[
            (5, 1, 2, Some(2)),   // 2.5 → 2
            (7, 1, 2, Some(4)),   // 3.5 → 4
            (-5, 1, 2, Some(-2)), // −2.5 → −2
            (5, -1, 2, Some(-2)),
            (5, 1, -2, Some(-2)),
            (-7, 1, -2, Some(4)),
            (10, 1, 3, Some(3)),
            (11, 1, 3, Some(4)), // 3.67 → 4
            (i64::MAX, 1, 1, Some(i64::MAX)),
            (i64::MIN, 1, 1, Some(i64::MIN)),
            (i64::MIN, -1, 1, None),
            (i64::MAX, 2, 1, None),
            (i64::MAX, 3, 4, Some(6_917_529_027_641_081_855)), // …855.25 → …855
            (1, 1, 0, None),
        ];
        for &(v, n, d, expected) in cases {
            assert_eq!(mul_div_half_even(v, n, d), expected, "{v} × {n} / {d}");
        }
    }
}
