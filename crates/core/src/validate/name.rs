//! Person names (legal and display names) in any script: "José", "Zoë", "李小龙", "O'Brien".
//! Letters, combining marks, spaces, apostrophes, hyphens and periods; 1 to 100 characters.

use unicode_normalization::char::is_combining_mark;

use super::normalise_text;

/// A person's name after normalisation (NFC, single spaces, trimmed).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonName(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("Enter a name")]
    Empty,
    #[error("Names can be at most 100 characters")]
    TooLong,
    #[error("Names can only contain letters, spaces, apostrophes, hyphens and periods")]
    InvalidCharacter,
    #[error("Names must contain at least one letter")]
    NoLetters,
}

impl PersonName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(input: &str) -> Result<Self, NameError> {
        let name = normalise_text(input);
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if !name.chars().all(is_name_char) {
            return Err(NameError::InvalidCharacter);
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(NameError::TooLong);
        }
        if !name.chars().any(char::is_alphabetic) {
            return Err(NameError::NoLetters);
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A short public form: first word plus the initial of the last word ("Jane D." for
    /// "Jane Mary Doe"); a one-word name ("李小龙") is returned as is.
    pub fn short_form(&self) -> PersonName {
        let words: Vec<&str> = self.0.split(' ').collect();
        let (Some(first), Some(last)) = (words.first(), words.last()) else {
            return self.clone();
        };
        if words.len() < 2 {
            return self.clone();
        }
        // The initial is the first letter with any combining marks that follow it.
        let mut chars = last.chars().skip_while(|c| !c.is_alphabetic());
        let Some(initial) = chars.next() else {
            return self.clone();
        };
        let marks: String = chars.take_while(|&c| is_combining_mark(c)).collect();
        Self::parse(&format!("{first} {initial}{marks}.")).unwrap_or_else(|_| self.clone())
    }
}

fn is_name_char(c: char) -> bool {
    c.is_alphabetic() || is_combining_mark(c) || matches!(c, ' ' | '\'' | '\u{2019}' | '-' | '.')
}

validated_string!(PersonName, NameError);

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<&str, &str>) {
        let got = PersonName::parse(input)
            .map(|n| n.to_string())
            .map_err(|e| e.to_string());
        let expected = expected.map(str::to_owned).map_err(str::to_owned);
        assert_eq!(got, expected, "input {input:?}");
    }

    #[test]
    fn accepts_names_from_many_scripts() {
        check("José", Ok("José"));
        check("Jose\u{301}", Ok("José")); // decomposed input is composed (NFC)
        check("Zoë", Ok("Zoë"));
        check("李小龙", Ok("李小龙"));
        check("O'Brien", Ok("O'Brien"));
        check("O’Brien", Ok("O’Brien"));
        check("Jean-Luc Picard", Ok("Jean-Luc Picard"));
        check("Martin Luther King Jr.", Ok("Martin Luther King Jr."));
        check("  Ana   María  ", Ok("Ana María"));
        check("Σωκράτης", Ok("Σωκράτης"));
        check("Владимир", Ok("Владимир"));
        check("محمد", Ok("محمد"));
        check("देवनागरी", Ok("देवनागरी")); // vowel signs are combining marks
        check("Nguyễn Thị Minh Khai", Ok("Nguyễn Thị Minh Khai"));
        check("A", Ok("A"));
    }

    #[test]
    fn refuses_with_messages_a_person_understands() {
        let invalid = "Names can only contain letters, spaces, apostrophes, hyphens and periods";
        check("", Err("Enter a name"));
        check("   ", Err("Enter a name"));
        check("R2-D2", Err(invalid));
        check("Jane\u{0}Doe", Err(invalid));
        check("Jane\nDoe", Err(invalid));
        check("Jane\u{202e}Doe", Err(invalid)); // bidi override
        check("<script>", Err(invalid));
        check("jane@example.com", Err(invalid));
        check("😀", Err(invalid));
        check("- . '", Err("Names must contain at least one letter"));
        check(&"a".repeat(101), Err("Names can be at most 100 characters"));
        check(&"a".repeat(100), Ok(&"a".repeat(100)));
        check(&"é".repeat(100), Ok(&"é".repeat(100))); // counted in characters, not bytes
    }

    #[test]
    fn short_form_keeps_the_last_name_private() {
        let cases = [
            ("Jane Mary Doe", "Jane D."),
            ("José Ñúñez", "José Ñ."),
            ("Sean O'Brien", "Sean O."),
            ("Sean 'Brien", "Sean B."),
            ("李小龙", "李小龙"),
            ("Madonna", "Madonna"),
        ];
        for (full, short) in cases {
            assert_eq!(
                PersonName::parse(full).unwrap().short_form().as_str(),
                short
            );
        }
    }
}
