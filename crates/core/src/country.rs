//! Countries as ISO 3166-1 alpha-2 codes, checked against the real list of assigned codes.
//! Case-insensitive in (`de`, ` De `), uppercase out (`DE`).

use std::fmt;

use crate::country_table::COUNTRIES;

/// An officially assigned ISO 3166-1 alpha-2 code such as `US`, `DE` or `JP`.
/// User-assigned codes (`XK` for Kosovo, `EU`) are not in the standard list and are refused.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode([u8; 2]);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CountryError {
    #[error("Choose a country from the list")]
    Unknown,
}

impl CountryCode {
    /// Trims, uppercases ASCII, then looks the code up in the ISO list.
    pub fn parse(input: &str) -> Result<Self, CountryError> {
        let code = input.trim().to_ascii_uppercase();
        let bytes: [u8; 2] = code
            .as_bytes()
            .try_into()
            .map_err(|_| CountryError::Unknown)?;
        COUNTRIES
            .binary_search_by(|(c, _)| c.as_bytes().cmp(&bytes[..]))
            .map(|_| Self(bytes))
            .map_err(|_| CountryError::Unknown)
    }

    pub fn as_str(&self) -> &str {
        // Only codes found in the ASCII table are constructed, so this never fails.
        std::str::from_utf8(&self.0).unwrap_or("ZZ")
    }

    /// Short English name, for pickers and exports: `"Germany"` for `DE`.
    pub fn name(self) -> &'static str {
        COUNTRIES
            .binary_search_by(|(c, _)| c.as_bytes().cmp(&self.0[..]))
            .map_or("", |i| COUNTRIES[i].1)
    }

    /// Every assigned code with its name, sorted by code.
    pub fn all() -> impl Iterator<Item = (CountryCode, &'static str)> {
        COUNTRIES.iter().filter_map(|&(code, name)| {
            let bytes: [u8; 2] = code.as_bytes().try_into().ok()?;
            Some((CountryCode(bytes), name))
        })
    }
}

text_value!(CountryCode, CountryError);

impl fmt::Debug for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CountryCode({})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_the_full_sorted_iso_list() {
        assert_eq!(COUNTRIES.len(), 249);
        assert!(COUNTRIES.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(COUNTRIES.iter().all(|(c, n)| c.len() == 2
            && c.bytes().all(|b| b.is_ascii_uppercase())
            && !n.is_empty()));
        assert_eq!(CountryCode::all().count(), 249);
    }

    fn check(input: &str, expected: Result<(&str, &str), &str>) {
        let got = CountryCode::parse(input)
            .map(|c| (c.to_string(), c.name().to_owned()))
            .map_err(|e| e.to_string());
        let expected = expected
            .map(|(c, n)| (c.to_owned(), n.to_owned()))
            .map_err(str::to_owned);
        assert_eq!(got, expected, "input {input:?}");
    }

    #[test]
    fn parses_codes_case_insensitively() {
        check("US", Ok(("US", "United States of America")));
        check("de", Ok(("DE", "Germany")));
        check(" gb ", Ok(("GB", "United Kingdom")));
        check("Jp", Ok(("JP", "Japan")));
        check("ax", Ok(("AX", "Åland Islands")));
        check("zw", Ok(("ZW", "Zimbabwe")));
        check("ad", Ok(("AD", "Andorra")));
        for bad in ["", "U", "USA", "XX", "XK", "EU", "UK", "ÜS", "1A"] {
            check(bad, Err("Choose a country from the list"));
        }
    }

    #[test]
    fn serde_uses_the_code_and_validates() {
        let de = CountryCode::parse("de").unwrap();
        assert_eq!(serde_json::to_string(&de).unwrap(), "\"DE\"");
        assert_eq!(serde_json::from_str::<CountryCode>("\"DE\"").unwrap(), de);
        assert!(serde_json::from_str::<CountryCode>("\"XX\"").is_err());
    }
}
