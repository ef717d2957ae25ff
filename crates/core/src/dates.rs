//! Calendar dates as people type them (`YYYY-MM-DD`), the date-of-birth rules, and the serde
//! format dates use on the wire. "Today" is always an argument: core never reads a clock.

use time::{Date, Month};

/// Minimum age to enroll, in whole years.
pub const MIN_AGE: i32 = 18;
/// Oldest plausible age; anything older is almost certainly a typo in the year.
pub const MAX_AGE: i32 = 130;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("Enter a date like 1990-04-25")]
    Format,
    #[error("That date doesn't exist; check the day and month")]
    NoSuchDate,
    #[error("Date of birth must be in the past")]
    NotInPast,
    #[error("Enrollees must be at least 18")]
    Underage,
    #[error("Check the year of birth")]
    TooOld,
}

/// Parses exactly `YYYY-MM-DD` (surrounding spaces allowed): `2026-02-28`.
/// A well-formed but impossible date (`2026-02-30`) is [`DateError::NoSuchDate`].
pub fn parse_date(input: &str) -> Result<Date, DateError> {
    let s = input.trim().as_bytes();
    let shape_ok = s.len() == 10
        && s[4] == b'-'
        && s[7] == b'-'
        && s.iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !shape_ok {
        return Err(DateError::Format);
    }
    let number = |range: std::ops::Range<usize>| {
        s[range]
            .iter()
            .fold(0u16, |acc, b| acc * 10 + u16::from(b - b'0'))
    };
    let year = i32::from(number(0..4));
    let month = u8::try_from(number(5..7)).map_err(|_| DateError::NoSuchDate)?;
    let day = u8::try_from(number(8..10)).map_err(|_| DateError::NoSuchDate)?;
    let month = Month::try_from(month).map_err(|_| DateError::NoSuchDate)?;
    Date::from_calendar_date(year, month, day).map_err(|_| DateError::NoSuchDate)
}

/// Formats as `YYYY-MM-DD`, the inverse of [`parse_date`] for years 0–9999.
pub fn format_date(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// Age in whole years on `today`. Someone born on 29 February turns a year older on
/// 1 March in non-leap years.
pub fn age_on(date_of_birth: Date, today: Date) -> i32 {
    let mut age = today.year() - date_of_birth.year();
    let birthday_not_reached = (u8::from(today.month()), today.day())
        < (u8::from(date_of_birth.month()), date_of_birth.day());
    if birthday_not_reached {
        age -= 1;
    }
    age
}

/// Parses a date of birth and checks it: before `today`, at least [`MIN_AGE`], at most
/// [`MAX_AGE`].
pub fn parse_date_of_birth(input: &str, today: Date) -> Result<Date, DateError> {
    let dob = parse_date(input)?;
    check_date_of_birth(dob, today)?;
    Ok(dob)
}

/// The date-of-birth rules of [`parse_date_of_birth`] for an already parsed date.
pub fn check_date_of_birth(dob: Date, today: Date) -> Result<(), DateError> {
    if dob >= today {
        return Err(DateError::NotInPast);
    }
    let age = age_on(dob, today);
    if age < MIN_AGE {
        Err(DateError::Underage)
    } else if age > MAX_AGE {
        Err(DateError::TooOld)
    } else {
        Ok(())
    }
}

/// Serde as `"YYYY-MM-DD"` for `time::Date` fields: `#[serde(with = "crate::dates::iso_date")]`.
/// (`time`'s own serde format for `Date` is a tuple, which is unreadable in IPC payloads.)
pub mod iso_date {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Date;

    pub fn serialize<S: Serializer>(date: &Date, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&super::format_date(*date))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Date, D::Error> {
        let raw = String::deserialize(deserializer)?;
        super::parse_date(&raw).map_err(serde::de::Error::custom)
    }

    /// The same for `Option<Date>` (`null` when absent).
    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer};
        use time::Date;

        pub fn serialize<S: Serializer>(
            date: &Option<Date>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match date {
                Some(d) => serializer.serialize_some(&super::super::format_date(*d)),
                None => serializer.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<Date>, D::Error> {
            Option::<String>::deserialize(deserializer)?
                .map(|raw| super::super::parse_date(&raw).map_err(serde::de::Error::custom))
                .transpose()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn parses_iso_dates() {
        let cases: &[(&str, Result<Date, &str>)] = &[
            ("1990-04-25", Ok(date!(1990 - 04 - 25))),
            (" 2024-02-29 ", Ok(date!(2024 - 02 - 29))),
            (
                "2023-02-29",
                Err("That date doesn't exist; check the day and month"),
            ),
            (
                "2023-13-01",
                Err("That date doesn't exist; check the day and month"),
            ),
            (
                "2023-00-10",
                Err("That date doesn't exist; check the day and month"),
            ),
            (
                "2023-04-31",
                Err("That date doesn't exist; check the day and month"),
            ),
            ("25/04/1990", Err("Enter a date like 1990-04-25")),
            ("1990-4-25", Err("Enter a date like 1990-04-25")),
            ("+1990-04-25", Err("Enter a date like 1990-04-25")),
            ("1990-04-25T00:00", Err("Enter a date like 1990-04-25")),
            ("", Err("Enter a date like 1990-04-25")),
            ("１９９０-04-25", Err("Enter a date like 1990-04-25")),
        ];
        for (input, expected) in cases {
            let got = parse_date(input).map_err(|e| e.to_string());
            assert_eq!(got, expected.map_err(str::to_owned), "{input:?}");
        }
        assert_eq!(format_date(date!(0987 - 01 - 02)), "0987-01-02");
    }

    #[test]
    fn date_of_birth_rules_relative_to_today() {
        let today = date!(2026 - 03 - 15);
        let cases: &[(&str, Result<Date, &str>)] = &[
            ("1990-04-25", Ok(date!(1990 - 04 - 25))),
            ("2008-03-15", Ok(date!(2008 - 03 - 15))), // 18th birthday today
            ("2008-03-16", Err("Enrollees must be at least 18")), // 18 tomorrow
            ("2026-03-14", Err("Enrollees must be at least 18")),
            ("2026-03-15", Err("Date of birth must be in the past")),
            ("2030-01-01", Err("Date of birth must be in the past")),
            ("1896-03-15", Ok(date!(1896 - 03 - 15))), // exactly 130
            ("1895-03-14", Err("Check the year of birth")),
        ];
        for (input, expected) in cases {
            let got = parse_date_of_birth(input, today).map_err(|e| e.to_string());
            assert_eq!(got, expected.map_err(str::to_owned), "{input:?}");
        }
    }

    #[test]
    fn leap_day_birthdays() {
        let dob = date!(2008 - 02 - 29);
        assert_eq!(age_on(dob, date!(2026 - 02 - 28)), 17);
        assert_eq!(age_on(dob, date!(2026 - 03 - 01)), 18);
        assert_eq!(age_on(dob, date!(2028 - 02 - 29)), 20);
    }
}
