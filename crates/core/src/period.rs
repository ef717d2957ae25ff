//! Commission periods: a calendar month, written `2026-11`. Earnings, volumes and rank
//! qualifications are all reckoned per period.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Date, Month};

/// A year and month, ordered chronologically. Years 1000–9999, so the text form is
/// always `YYYY-MM`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period(u32); // months since year 0: year * 12 + (month - 1)

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("Enter a period like 2026-11")]
    Invalid,
}

const MIN_YEAR: u32 = 1000;
const MAX_YEAR: u32 = 9999;

impl Period {
    pub fn new(year: i32, month: Month) -> Result<Self, PeriodError> {
        let year = u32::try_from(year).map_err(|_| PeriodError::Invalid)?;
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err(PeriodError::Invalid);
        }
        Ok(Self(year * 12 + u32::from(u8::from(month)) - 1))
    }

    /// Months since year 0: a compact, ordered number for storage.
    pub const fn index(self) -> u32 {
        self.0
    }

    /// The period with [`Period::index`] `index`, if its year is in range.
    pub fn from_index(index: u32) -> Result<Self, PeriodError> {
        if (MIN_YEAR * 12..(MAX_YEAR + 1) * 12).contains(&index) {
            Ok(Self(index))
        } else {
            Err(PeriodError::Invalid)
        }
    }

    /// The period a date falls in.
    pub fn containing(date: Date) -> Result<Self, PeriodError> {
        Self::new(date.year(), date.month())
    }

    pub fn year(self) -> i32 {
        // At most 9999, so it always fits.
        i32::try_from(self.0 / 12).unwrap_or(i32::MAX)
    }

    pub fn month(self) -> Month {
        // `self.0 % 12 + 1` is in 1..=12, which is always a month.
        u8::try_from(self.0 % 12 + 1)
            .ok()
            .and_then(|m| Month::try_from(m).ok())
            .unwrap_or(Month::January)
    }

    pub fn first_day(self) -> Date {
        // Day 1 exists in every month of a year in range.
        Date::from_calendar_date(self.year(), self.month(), 1).unwrap_or(Date::MIN)
    }

    /// The following month, `None` after 9999-12.
    pub fn next(self) -> Option<Self> {
        (self.0 / 12 < MAX_YEAR || self.0 % 12 < 11).then_some(Self(self.0 + 1))
    }

    /// The previous month, `None` before 1000-01.
    pub fn previous(self) -> Option<Self> {
        (self.0 > MIN_YEAR * 12).then(|| Self(self.0 - 1))
    }

    /// Parses exactly `YYYY-MM` (surrounding spaces allowed).
    pub fn parse(input: &str) -> Result<Self, PeriodError> {
        let s = input.trim().as_bytes();
        let shape_ok = s.len() == 7
            && s[4] == b'-'
            && s.iter()
                .enumerate()
                .all(|(i, b)| i == 4 || b.is_ascii_digit());
        if !shape_ok {
            return Err(PeriodError::Invalid);
        }
        let number = |r: std::ops::Range<usize>| {
            s[r].iter()
                .fold(0i32, |acc, b| acc * 10 + i32::from(b - b'0'))
        };
        let month = u8::try_from(number(5..7)).map_err(|_| PeriodError::Invalid)?;
        let month = Month::try_from(month).map_err(|_| PeriodError::Invalid)?;
        Self::new(number(0..4), month)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), u8::from(self.month()))
    }
}

impl fmt::Debug for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Period({self})")
    }
}

impl std::str::FromStr for Period {
    type Err = PeriodError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Period {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn parse_and_display() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("2026-11", Ok("2026-11")),
            (" 2026-01 ", Ok("2026-01")),
            ("9999-12", Ok("9999-12")),
            ("1000-01", Ok("1000-01")),
            ("2026-13", Err("Enter a period like 2026-11")),
            ("2026-00", Err("Enter a period like 2026-11")),
            ("2026-1", Err("Enter a period like 2026-11")),
            ("0999-12", Err("Enter a period like 2026-11")),
            ("2026/11", Err("Enter a period like 2026-11")),
            ("", Err("Enter a period like 2026-11")),
        ];
        for (input, expected) in cases {
            let got = Period::parse(input)
                .map(|p| p.to_string())
                .map_err(|e| e.to_string());
            let expected = expected.map(str::to_owned).map_err(str::to_owned);
            assert_eq!(got, expected, "{input:?}");
        }
    }

    #[test]
    fn arithmetic_and_order() {
        let nov = Period::new(2026, Month::November).unwrap();
        let dec = nov.next().unwrap();
        let jan = dec.next().unwrap();
        assert_eq!(jan.to_string(), "2027-01");
        assert_eq!(jan.previous(), Some(dec));
        assert!(nov < dec && dec < jan);
        assert_eq!(jan.year(), 2027);
        assert_eq!(jan.month(), Month::January);
        assert_eq!(nov.first_day(), date!(2026 - 11 - 01));
        assert_eq!(Period::containing(date!(2026 - 11 - 30)), Ok(nov));
        assert_eq!(Period::parse("9999-12").unwrap().next(), None);
        assert_eq!(Period::parse("1000-01").unwrap().previous(), None);
    }

    #[test]
    fn index_round_trips_and_is_bounded() {
        let nov = Period::new(2026, Month::November).unwrap();
        assert_eq!(Period::from_index(nov.index()), Ok(nov));
        assert_eq!(nov.next().unwrap().index(), nov.index() + 1);
        assert_eq!(Period::from_index(999 * 12 + 11), Err(PeriodError::Invalid));
        assert_eq!(Period::from_index(10_000 * 12), Err(PeriodError::Invalid));
        assert!(Period::from_index(9999 * 12 + 11).is_ok());
    }

    #[test]
    fn serde_as_text() {
        let p = Period::parse("2026-11").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"2026-11\"");
        assert_eq!(serde_json::from_str::<Period>("\"2026-11\"").unwrap(), p);
        assert!(serde_json::from_str::<Period>("\"2026-13\"").is_err());
    }
}
