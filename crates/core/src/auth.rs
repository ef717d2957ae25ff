//! What a device signs with its key to prove itself at sign-in and at token refresh, and
//! the form of an email that identifies an account: shared so the server that checks and
//! the app that signs build exactly the same bytes.

use unicode_normalization::UnicodeNormalization;

/// An email as accounts are keyed: trimmed, lowercased, NFC.
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase().nfc().collect()
}

/// What a sign-in's device key signs: `canopy-sign-in\n{device_id}\n{timestamp}\n
/// {email_key(email)}`.
pub fn sign_in_message(device_id: i64, timestamp: i64, email: &str) -> String {
    format!(
        "canopy-sign-in\n{device_id}\n{timestamp}\n{}",
        email_key(email)
    )
}

/// What a refresh's device key signs: `canopy-refresh\n{device_id}\n{timestamp}\n
/// {SHA-256 of the refresh token, lowercase hex}` (the caller hashes: `core` has no crypto).
pub fn refresh_message(device_id: i64, timestamp: i64, refresh_sha256_hex: &str) -> String {
    format!("canopy-refresh\n{device_id}\n{timestamp}\n{refresh_sha256_hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_have_their_documented_form() {
        assert_eq!(email_key("  Ana.Lima@Example.PT "), "ana.lima@example.pt");
        assert_eq!(
            sign_in_message(7, 1_700_000_000, " Ana@Example.pt"),
            "canopy-sign-in\n7\n1700000000\nana@example.pt"
        );
        assert_eq!(
            refresh_message(7, 1_700_000_000, "ab01"),
            "canopy-refresh\n7\n1700000000\nab01"
        );
    }
}
