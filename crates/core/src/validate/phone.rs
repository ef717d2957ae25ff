//! Phone numbers, E.164-like: an optional leading `+` and 7 to 15 digits. Spaces, dashes,
//! dots and parentheses people type for readability are removed.

/// A phone number stored as `+` (if given) and digits only: `+4915112345678`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Phone(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("Phone numbers can only contain digits, spaces, dashes, parentheses and a leading +")]
    InvalidCharacter,
    #[error("Phone numbers have 7 to 15 digits")]
    WrongLength,
}

impl Phone {
    pub const MIN_DIGITS: usize = 7;
    pub const MAX_DIGITS: usize = 15;

    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let s = input.trim();
        let (plus, rest) = match s.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let mut number = String::with_capacity(Self::MAX_DIGITS + 1);
        if plus {
            number.push('+');
        }
        let mut digits = 0usize;
        for c in rest.chars() {
            match c {
                '0'..='9' => {
                    digits += 1;
                    number.push(c);
                }
                '-' | '(' | ')' | '.' => {}
                // Phones and browsers insert no-break or thin spaces when formatting.
                c if c.is_whitespace() => {}
                _ => return Err(PhoneError::InvalidCharacter),
            }
        }
        if (Self::MIN_DIGITS..=Self::MAX_DIGITS).contains(&digits) {
            Ok(Self(number))
        } else {
            Err(PhoneError::WrongLength)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

validated_string!(Phone, PhoneError);

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<&str, &str>) {
        let got = Phone::parse(input)
            .map(|p| p.to_string())
            .map_err(|e| e.to_string());
        let expected = expected.map(str::to_owned).map_err(str::to_owned);
        assert_eq!(got, expected, "input {input:?}");
    }

    #[test]
    fn strips_formatting_and_keeps_the_plus() {
        check("+1 (555) 123-4567", Ok("+15551234567"));
        check("+49 151 1234 5678", Ok("+4915112345678"));
        check("01.23.45.67.89", Ok("0123456789"));
        check(" 555-0100 ", Ok("5550100"));
        check("+44\u{a0}20\u{202f}7946\u{a0}0958", Ok("+442079460958"));
        check("123456789012345", Ok("123456789012345"));
    }

    #[test]
    fn refuses_with_messages_a_person_understands() {
        let chars =
            "Phone numbers can only contain digits, spaces, dashes, parentheses and a leading +";
        let length = "Phone numbers have 7 to 15 digits";
        check("555-CALL-NOW", Err(chars));
        check("1+5551234567", Err(chars));
        check("++15551234567", Err(chars));
        check("555 1234 ext. 9", Err(chars));
        check("١٢٣٤٥٦٧", Err(chars));
        check("123456", Err(length));
        check("1234567890123456", Err(length));
        check("+", Err(length));
        check("", Err(length));
    }
}
