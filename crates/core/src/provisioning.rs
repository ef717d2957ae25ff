//! The provisioning file a company hands to a device (`demo.json` for the demo
//! server): where the server is and which public keys it may present.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::role::Role;

/// What a device needs to trust its company's server before the first sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provisioning {
    /// The company's name, shown before the user trusts the file.
    pub company: String,
    /// The server's base URL; always `https://`.
    pub server_url: String,
    /// SPKI SHA-256 pins, standard base64: the current key first, then at
    /// least one backup key that is not yet deployed (RFC 7469 §2.5).
    pub pins: Vec<String>,
    /// A private CA to trust for this server (PEM), for companies and demos
    /// whose certificates are not issued by a public CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_pem: Option<String>,
    /// Demo only: ready-made accounts to try the demo company with. A real company's file
    /// never has this field; its people get their credentials another way.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub demo_accounts: Vec<DemoAccount>,
}

/// Demo only: the sign-in details of one account of the demo company, secrets in clear so a
/// person can type them (the demo server writes its file readable by its owner only).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoAccount {
    pub role: Role,
    pub email: String,
    pub password: String,
    /// The TOTP secret in base32 (RFC 4648, no padding), as authenticator apps take it.
    pub totp_secret: String,
    /// Single-use recovery codes, for trying the lost-authenticator path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recovery_codes: Vec<String>,
}

/// Shows who the account is, never its secrets.
impl fmt::Debug for DemoAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DemoAccount")
            .field("role", &self.role)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// Why a provisioning file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProvisioningError {
    #[error("The server address must start with https://")]
    NotHttps,
    #[error("The provisioning file needs at least two pins: the current key and a backup")]
    TooFewPins,
    #[error("Pin {0} is not a SHA-256 fingerprint in base64 (44 characters ending in '=')")]
    BadPin(usize),
    #[error("The company name is missing")]
    NoCompany,
}

impl Provisioning {
    /// Check the file's shape; the pins' meaning is checked at connection time.
    pub fn validate(&self) -> Result<(), ProvisioningError> {
        if self.company.trim().is_empty() {
            return Err(ProvisioningError::NoCompany);
        }
        let rest = self
            .server_url
            .strip_prefix("https://")
            .ok_or(ProvisioningError::NotHttps)?;
        if rest.is_empty() {
            return Err(ProvisioningError::NotHttps);
        }
        if self.pins.len() < 2 {
            return Err(ProvisioningError::TooFewPins);
        }
        for (index, pin) in self.pins.iter().enumerate() {
            if !is_sha256_base64(pin) {
                return Err(ProvisioningError::BadPin(index + 1));
            }
        }
        Ok(())
    }
}

/// 32 bytes in padded standard base64: 43 alphabet characters and one `=`,
/// the last character carrying only 4 bits (so one of `AEIMQUYcgkosw048`).
fn is_sha256_base64(pin: &str) -> bool {
    let bytes = pin.as_bytes();
    bytes.len() == 44
        && bytes[43] == b'='
        && bytes[..43]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
        && b"AEIMQUYcgkosw048".contains(&bytes[42])
}

#[cfg(test)]
mod tests {
    use super::*;

    const PIN: &str = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    const BACKUP: &str = "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=";

    fn file() -> Provisioning {
        Provisioning {
            company: "Demo Co.".to_owned(),
            server_url: "https://127.0.0.1:8443".to_owned(),
            pins: vec![PIN.to_owned(), BACKUP.to_owned()],
            ca_pem: None,
            demo_accounts: Vec::new(),
        }
    }

    #[test]
    fn a_good_file_passes() {
        assert_eq!(file().validate(), Ok(()));
    }

    /// Makes one mistake in a good file.
    type Spoil = fn(&mut Provisioning);

    #[test]
    fn each_mistake_has_its_message() {
        let cases: [(Spoil, &str); 5] = [
            (
                |p| p.server_url = "http://127.0.0.1:8443".to_owned(),
                "The server address must start with https://",
            ),
            (
                |p| p.server_url = "https://".to_owned(),
                "The server address must start with https://",
            ),
            (
                |p| p.pins.truncate(1),
                "The provisioning file needs at least two pins: the current key and a backup",
            ),
            (
                |p| p.pins[1] = "sha256//abc".to_owned(),
                "Pin 2 is not a SHA-256 fingerprint in base64 (44 characters ending in '=')",
            ),
            (
                |p| p.company = "  ".to_owned(),
                "The company name is missing",
            ),
        ];
        for (spoil, message) in cases {
            let mut p = file();
            spoil(&mut p);
            assert_eq!(p.validate().unwrap_err().to_string(), message);
        }
    }

    #[test]
    fn unknown_fields_are_refused() {
        let json = format!(
            r#"{{"company":"x","server_url":"https://a","pins":["{PIN}","{BACKUP}"],"extra":1}}"#
        );
        assert!(serde_json::from_str::<Provisioning>(&json).is_err());
    }

    #[test]
    fn demo_accounts_round_trip_and_stay_out_of_real_files() {
        let plain = serde_json::to_string(&file()).unwrap();
        assert!(!plain.contains("demo_accounts"));
        let mut demo = file();
        demo.demo_accounts = vec![DemoAccount {
            role: Role::Manager,
            email: "manager@demo.example".to_owned(),
            password: "quiet-otter-4821".to_owned(),
            totp_secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP".to_owned(),
            recovery_codes: vec![],
        }];
        let json = serde_json::to_value(&demo).unwrap();
        assert_eq!(json["demo_accounts"][0]["role"], "manager");
        assert!(json["demo_accounts"][0].get("recovery_codes").is_none());
        let back: Provisioning = serde_json::from_value(json).unwrap();
        assert_eq!(back, demo);
        assert_eq!(back.validate(), Ok(()));
        let shown = format!("{demo:?}");
        assert!(shown.contains("manager@demo.example"));
        assert!(!shown.contains("quiet-otter") && !shown.contains("JBSWY3DP"));
        let unknown =
            r#"{"role":"admin","email":"a@b.example","password":"p","totp_secret":"s","pin":1}"#;
        assert!(serde_json::from_str::<DemoAccount>(unknown).is_err());
    }
}
