//! How figures and times are written for people, the same on every screen.

use wasm_bindgen::JsValue;

/// An RFC 3339 time in the person's own time zone and locale ("21 Nov 2026, 23:40").
pub fn local_time(rfc3339: &str) -> String {
    let date = js_sys::Date::new(&JsValue::from_str(rfc3339));
    if date.get_time().is_nan() {
        return rfc3339.to_owned();
    }
    let options = js_sys::Object::new();
    for (key, value) in [
        ("day", "numeric"),
        ("month", "short"),
        ("year", "numeric"),
        ("hour", "2-digit"),
        ("minute", "2-digit"),
    ] {
        let _ = js_sys::Reflect::set(&options, &key.into(), &value.into());
    }
    String::from(date.to_locale_string("default", &options))
}

/// A duration in whole seconds as "3 min 20 s", "45 s", "1 h 5 min".
pub fn duration(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min {} s", secs / 60, secs % 60),
        _ => format!("{} h {} min", secs / 3600, (secs % 3600) / 60),
    }
}

/// A count with thousands separators ("1,000,000").
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Hundredths of a point as "1,234.50".
pub fn points(hundredths: i64) -> String {
    let sign = if hundredths < 0 { "-" } else { "" };
    let abs = hundredths.unsigned_abs();
    format!("{sign}{}.{:02}", count(abs / 100), abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_as_people_write_them() {
        for (hundredths, text) in [
            (0, "0.00"),
            (5, "0.05"),
            (123_456, "1,234.56"),
            (-100_000_001, "-1,000,000.01"),
        ] {
            assert_eq!(points(hundredths), text);
        }
        assert_eq!(count(1_000_000), "1,000,000");
        assert_eq!(duration(200), "3 min 20 s");
    }
}
