//! The server's TOTP against a peer made elsewhere: `oathtool --totp` (the
//! Debian package oathtool, installed by `cargo xtask test`) computes the same
//! codes from the base32 secret a person types into an authenticator app.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use canopy_server::auth::totp::{self, TotpSecret};

fn oathtool(secret_base32: &str, unix_time: u64) -> String {
    let output = std::process::Command::new("oathtool")
        .args(["--totp", "--base32", "--now"])
        .arg(format!("@{unix_time}"))
        .arg(secret_base32)
        .output()
        .expect("oathtool is installed by `cargo xtask test` (Debian package oathtool)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[test]
fn oathtool_codes_are_accepted() {
    let rng = ring::rand::SystemRandom::new();
    for _ in 0..5 {
        let secret = TotpSecret::generate(&rng).unwrap();
        let base32 = secret.to_base32().to_string();
        for now in [59_u64, 1_111_111_109, 1_763_700_000, 2_000_000_000] {
            let code = oathtool(&base32, now);
            assert_eq!(secret.code_at(now), code, "secret {base32} at {now}");
            let step = secret.verify(&code, now, None).unwrap();
            assert_eq!(step, now / totp::STEP_SECONDS);
        }
    }
}
