//! Sales volumes: personal volume (PV, from a member's own orders) and group volume (GV,
//! summed over a downline), in hundredths of a point so that a 12.5 PV product is exact.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::decimal::{self, DecimalError};

/// Why a volume calculation or entry was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VolumeError {
    #[error("The volume is too large to calculate")]
    Overflow,
    #[error("Enter a volume like 12.5")]
    NotANumber,
    #[error("Volumes have at most 2 decimal places")]
    TooManyDecimals,
}

impl From<DecimalError> for VolumeError {
    fn from(err: DecimalError) -> Self {
        match err {
            DecimalError::Empty | DecimalError::NotANumber => Self::NotANumber,
            DecimalError::TooManyDecimals => Self::TooManyDecimals,
            DecimalError::Overflow => Self::Overflow,
        }
    }
}

macro_rules! volume {
    ($(#[$doc:meta])* $name:ident, $suffix:literal) => {
        $(#[$doc])*
        ///
        /// Stored as an `i64` count of **hundredths of a point** (`from_hundredths(1250)` is
        /// 12.50). Signed, because returns and refunds produce negative volume. Displayed as
        #[doc = concat!("`1,234.50 ", $suffix, "`.")]
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            pub const ZERO: Self = Self(0);

            pub const fn from_hundredths(hundredths: i64) -> Self {
                Self(hundredths)
            }

            /// Whole points; `None` if `points × 100` does not fit.
            pub const fn from_points(points: i64) -> Option<Self> {
                match points.checked_mul(100) {
                    Some(h) => Some(Self(h)),
                    None => None,
                }
            }

            pub const fn hundredths(self) -> i64 {
                self.0
            }

            pub fn checked_add(self, other: Self) -> Result<Self, VolumeError> {
                self.0.checked_add(other.0).map(Self).ok_or(VolumeError::Overflow)
            }

            pub fn checked_sub(self, other: Self) -> Result<Self, VolumeError> {
                self.0.checked_sub(other.0).map(Self).ok_or(VolumeError::Overflow)
            }

            /// Multiplies by a whole number, e.g. unit PV by a quantity.
            pub fn checked_mul(self, factor: i64) -> Result<Self, VolumeError> {
                self.0.checked_mul(factor).map(Self).ok_or(VolumeError::Overflow)
            }

            pub fn checked_sum<I: IntoIterator<Item = Self>>(items: I) -> Result<Self, VolumeError> {
                items.into_iter().try_fold(Self::ZERO, Self::checked_add)
            }

            /// Parses a typed volume such as `12.5` or `1,200` (up to 2 decimals).
            pub fn parse(input: &str) -> Result<Self, VolumeError> {
                Ok(Self(decimal::parse_signed(input, 2)?))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let sign = if self.0 < 0 { "-" } else { "" };
                write!(f, "{sign}{} {}", decimal::format_unsigned(self.0, 2), $suffix)
            }
        }
    };
}

volume!(
    /// Personal volume: the points of a member's own (and their retail customers') orders.
    Pv,
    "PV"
);
volume!(
    /// Group volume: PV summed over a set of members (a leg, a team, a whole downline).
    Gv,
    "GV"
);

impl From<Pv> for Gv {
    /// A member's PV counts one-for-one towards the GV of every group it belongs to.
    fn from(pv: Pv) -> Self {
        Gv(pv.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_hundredths_with_suffix() {
        assert_eq!(Pv::from_hundredths(1250).to_string(), "12.50 PV");
        assert_eq!(Pv::from_hundredths(-5).to_string(), "-0.05 PV");
        assert_eq!(
            Gv::from_hundredths(123_456_789).to_string(),
            "1,234,567.89 GV"
        );
        assert_eq!(Pv::from_points(3), Some(Pv::from_hundredths(300)));
        assert_eq!(Pv::from_points(i64::MAX), None);
    }

    #[test]
    fn checked_arithmetic() {
        let a = Pv::from_hundredths(1250);
        assert_eq!(a.checked_add(a), Ok(Pv::from_hundredths(2500)));
        assert_eq!(a.checked_sub(a), Ok(Pv::ZERO));
        assert_eq!(a.checked_mul(4), Ok(Pv::from_hundredths(5000)));
        assert_eq!(
            Pv::from_hundredths(i64::MAX).checked_add(a),
            Err(VolumeError::Overflow)
        );
        assert_eq!(
            Pv::from_hundredths(i64::MIN).checked_sub(a),
            Err(VolumeError::Overflow)
        );
        assert_eq!(Pv::checked_sum([a, a, a]), Ok(Pv::from_hundredths(3750)));
        assert_eq!(
            Gv::from(a).checked_add(Gv::from_hundredths(50)),
            Ok(Gv::from_hundredths(1300))
        );
        assert_eq!(
            VolumeError::Overflow.to_string(),
            "The volume is too large to calculate"
        );
    }

    #[test]
    fn parses_typed_volumes() {
        let cases: &[(&str, Result<i64, &str>)] = &[
            ("12.5", Ok(1250)),
            ("1,200", Ok(120_000)),
            ("-3", Ok(-300)),
            ("1.255", Err("Volumes have at most 2 decimal places")),
            ("abc", Err("Enter a volume like 12.5")),
            ("", Err("Enter a volume like 12.5")),
        ];
        for (input, expected) in cases {
            let got = Pv::parse(input)
                .map(Pv::hundredths)
                .map_err(|e| e.to_string());
            assert_eq!(got, expected.map_err(str::to_owned), "{input:?}");
        }
    }

    #[test]
    fn serialises_as_hundredths() {
        assert_eq!(
            serde_json::to_string(&Pv::from_hundredths(1250)).unwrap(),
            "1250"
        );
    }
}
