//! Fixed-point decimal text shared by money and volumes: parse what a person typed into an
//! integer count of the smallest unit, and format it back with thousands separators.

use std::fmt::Write as _;

/// Why a decimal string was refused; callers map this to their own user-facing error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecimalError {
    Empty,
    NotANumber,
    TooManyDecimals,
    Overflow,
}

/// `10^scale` for the scales we support (0..=3 for money, 2 for volumes).
pub(crate) const fn pow10(scale: u8) -> i128 {
    let mut p: i128 = 1;
    let mut i = 0;
    while i < scale {
        p *= 10;
        i += 1;
    }
    p
}

/// Parses an unsigned decimal like `1,234.50` into `123450` at scale 2.
///
/// Rules: ASCII digits; an optional `.` then fraction digits; `,` thousands separators are
/// accepted only in well-formed groups of three (`1,234,567`); at least one digit. Fraction
/// digits beyond `scale` are accepted only when they are zeros (`12.500` at scale 2), because
/// that is the same amount; a non-zero extra digit is `TooManyDecimals`, never rounded away.
/// Returns the magnitude as `i128` so that callers can negate into the full `i64` range.
pub(crate) fn parse_unsigned(body: &str, scale: u8) -> Result<i128, DecimalError> {
    if body.is_empty() {
        return Err(DecimalError::Empty);
    }
    let (int_part, frac_part) = match body.split_once('.') {
        Some((i, f)) => (i, f),
        None => (body, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(DecimalError::NotANumber);
    }
    if !frac_part.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DecimalError::NotANumber);
    }
    let digits = ungroup(int_part)?;
    let unit = pow10(scale);
    let mut whole: i128 = 0;
    for b in digits.bytes() {
        whole = whole
            .checked_mul(10)
            .and_then(|w| w.checked_add(i128::from(b - b'0')))
            .ok_or(DecimalError::Overflow)?;
        // Anything past i64 at scale 0 is already too large; stop before i128 overflows.
        if whole > i128::from(u64::MAX) {
            return Err(DecimalError::Overflow);
        }
    }
    let kept = usize::from(scale).min(frac_part.len());
    let (frac_kept, frac_extra) = frac_part.split_at(kept);
    if frac_extra.bytes().any(|b| b != b'0') {
        return Err(DecimalError::TooManyDecimals);
    }
    let mut frac: i128 = 0;
    for b in frac_kept.bytes() {
        frac = frac * 10 + i128::from(b - b'0');
    }
    frac *= pow10(scale - kept as u8);
    whole
        .checked_mul(unit)
        .and_then(|w| w.checked_add(frac))
        .ok_or(DecimalError::Overflow)
}

/// Parses an optionally signed decimal (`-`, `+` or the Unicode minus `−`) into an `i64`.
pub(crate) fn parse_signed(input: &str, scale: u8) -> Result<i64, DecimalError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(DecimalError::Empty);
    }
    let (negative, body) = split_sign(s);
    let magnitude = parse_unsigned(body.trim_start(), scale).map_err(|e| match e {
        DecimalError::Empty => DecimalError::NotANumber,
        other => other,
    })?;
    apply_sign(negative, magnitude)
}

pub(crate) fn split_sign(s: &str) -> (bool, &str) {
    if let Some(rest) = s.strip_prefix('-').or_else(|| s.strip_prefix('\u{2212}')) {
        (true, rest)
    } else if let Some(rest) = s.strip_prefix('+') {
        (false, rest)
    } else {
        (false, s)
    }
}

pub(crate) fn apply_sign(negative: bool, magnitude: i128) -> Result<i64, DecimalError> {
    let signed = if negative { -magnitude } else { magnitude };
    i64::try_from(signed).map_err(|_| DecimalError::Overflow)
}

/// Removes `,` separators after checking they sit between groups of exactly three digits.
fn ungroup(int_part: &str) -> Result<String, DecimalError> {
    if !int_part.bytes().all(|b| b.is_ascii_digit() || b == b',') {
        return Err(DecimalError::NotANumber);
    }
    if !int_part.contains(',') {
        return Ok(int_part.to_owned());
    }
    let mut groups = int_part.split(',');
    let first_ok = groups.next().is_some_and(|g| (1..=3).contains(&g.len()));
    if !first_ok || !groups.all(|g| g.len() == 3) {
        return Err(DecimalError::NotANumber);
    }
    Ok(int_part.replace(',', ""))
}

/// Formats the magnitude of `value` at `scale` with `,` thousands separators: `1,234.50`.
/// The sign is left to the caller, which decides where it goes (`-USD 1.00`, `-1.00 PV`).
pub(crate) fn format_unsigned(value: i64, scale: u8) -> String {
    let magnitude = u128::from(value.unsigned_abs());
    // pow10 of a supported scale is small and positive, so the cast is exact.
    let unit = pow10(scale) as u128;
    let whole = (magnitude / unit).to_string();
    let frac = magnitude % unit;
    let mut out = String::with_capacity(whole.len() * 4 / 3 + 8);
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if scale > 0 {
        // Writing to a String cannot fail.
        let _ = write!(out, ".{frac:0width$}", width = usize::from(scale));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, scale: u8, expected: Result<i64, DecimalError>) {
        assert_eq!(
            parse_signed(input, scale),
            expected,
            "input {input:?} at scale {scale}"
        );
    }

    #[test]
    fn parses_the_amounts_people_type() {
        use DecimalError::*;
        let cases: &[(&str, u8, Result<i64, DecimalError>)] = &[
            ("0", 2, Ok(0)),
            ("12", 2, Ok(1200)),
            ("12.5", 2, Ok(1250)),
            ("12.50", 2, Ok(1250)),
            ("12.500", 2, Ok(1250)),
            (".5", 2, Ok(50)),
            ("5.", 2, Ok(500)),
            ("  1,234.56 ", 2, Ok(123_456)),
            ("1,234,567", 0, Ok(1_234_567)),
            ("-3.10", 2, Ok(-310)),
            ("\u{2212}3.10", 2, Ok(-310)),
            ("+3.10", 2, Ok(310)),
            ("1.234", 3, Ok(1234)),
            ("92233720368547758.07", 2, Ok(i64::MAX)),
            ("-92233720368547758.08", 2, Ok(i64::MIN)),
            ("92233720368547758.08", 2, Err(Overflow)),
            (
                "99999999999999999999999999999999999999999",
                0,
                Err(Overflow),
            ),
            ("12.345", 2, Err(TooManyDecimals)),
            ("12.5", 0, Err(TooManyDecimals)),
            ("", 2, Err(Empty)),
            ("   ", 2, Err(Empty)),
            ("-", 2, Err(NotANumber)),
            (".", 2, Err(NotANumber)),
            ("1.2.3", 2, Err(NotANumber)),
            ("12a", 2, Err(NotANumber)),
            ("1,23.00", 2, Err(NotANumber)),
            ("1234,567", 2, Err(NotANumber)),
            (",123", 2, Err(NotANumber)),
            ("1e5", 2, Err(NotANumber)),
            ("--1", 2, Err(NotANumber)),
            ("١٢", 2, Err(NotANumber)),
        ];
        for (input, scale, expected) in cases {
            check(input, *scale, *expected);
        }
    }

    #[test]
    fn formats_with_grouping_and_fixed_decimals() {
        let cases: &[(i64, u8, &str)] = &[
            (0, 2, "0.00"),
            (5, 2, "0.05"),
            (123_456, 2, "1,234.56"),
            (-123_456, 2, "1,234.56"),
            (100_000_000, 0, "100,000,000"),
            (1234, 3, "1.234"),
            (i64::MIN, 2, "92,233,720,368,547,758.08"),
            (i64::MAX, 0, "9,223,372,036,854,775,807"),
        ];
        for (value, scale, expected) in cases {
            assert_eq!(format_unsigned(*value, *scale), *expected);
        }
    }
}
