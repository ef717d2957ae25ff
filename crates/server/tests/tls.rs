//! The server over real TLS on a loopback port: the demo CA and pins, the
//! health endpoint through a real HTTPS client, problem documents for unknown
//! routes, and `openssl s_client` checking the minimum TLS version. (The pins
//! against `curl --pinnedpubkey` are in `api_peers.rs`, body limits in `api_input.rs`.)

// Helpers outside #[test] functions unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::Path;

use canopy_server::demo::{self, DemoFiles};
use canopy_server::server::{self, RunningServer};
use canopy_server::tls;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

async fn start(dir: &Path) -> (DemoFiles, RunningServer) {
    let files = demo::ensure_files(dir).unwrap();
    let mut config = files.config(SocketAddr::from(([127, 0, 0, 1], 0)));
    config.database.url = canopy_server::storage::testing::database_url(dir, "tls").await;
    let running = server::start(&config).await.unwrap();
    (files, running)
}

/// An HTTPS client that trusts exactly the demo CA.
fn client(ca: &Path) -> reqwest::Client {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(config)
        .build()
        .unwrap()
}

#[test]
fn demo_files_are_reused_so_pins_stay_stable() {
    let dir = tempfile::tempdir().unwrap();
    let first = demo::ensure_files(dir.path()).unwrap();
    let second = demo::ensure_files(dir.path()).unwrap();
    assert_eq!(first, second);
    assert_ne!(
        first.pins[0], first.pins[1],
        "the backup pin must be a different key"
    );
    assert_eq!(
        tls::spki_pin_of_key_file(&first.server_key).unwrap(),
        first.pins[0]
    );
    assert_eq!(
        tls::spki_pin_of_key_file(&first.backup_key).unwrap(),
        first.pins[1]
    );
    let provisioning = demo::write_provisioning(&first, "https://127.0.0.1:8443").unwrap();
    provisioning.validate().unwrap();
    let written: canopy_core::provisioning::Provisioning =
        serde_json::from_slice(&std::fs::read(dir.path().join("demo.json")).unwrap()).unwrap();
    assert_eq!(written, provisioning);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&first.server_key)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the server key is readable by others: {mode:o}"
        );
    }
}

#[tokio::test]
async fn serves_health_and_problems_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let (files, running) = start(dir.path()).await;
    let base = format!("https://localhost:{}", running.addr.port());
    let http = client(&files.ca_cert);

    let health = http.get(format!("{base}/v1/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let body: serde_json::Value = health.json().await.unwrap();
    assert_eq!(body["status"], "ok");

    let missing = http
        .get(format!("{base}/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.headers()["content-type"],
        "application/problem+json"
    );
    let problem: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(problem["detail"], "There is no such endpoint.");
    assert_eq!(problem["status"], 404);

    let wrong_method = http
        .delete(format!("{base}/v1/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status(), 405);

    // A client that does not trust the demo CA is refused by its own TLS stack.
    let other_dir = tempfile::tempdir().unwrap();
    let other = demo::ensure_files(other_dir.path()).unwrap();
    let stranger = client(&other.ca_cert);
    assert!(
        stranger
            .get(format!("{base}/v1/health"))
            .send()
            .await
            .is_err()
    );

    running.shutdown().await.unwrap();
}

/// TLS 1.2 and 1.3 are accepted; TLS 1.1 is refused (`openssl s_client`).
#[tokio::test]
async fn openssl_sees_tls_1_2_minimum() {
    let dir = tempfile::tempdir().unwrap();
    let (files, running) = start(dir.path()).await;
    let connect = format!("127.0.0.1:{}", running.addr.port());
    let handshake = |version: &'static str| {
        let connect = connect.clone();
        let ca = files.ca_cert.clone();
        async move {
            let output = tokio::process::Command::new("openssl")
                .args([
                    "s_client",
                    version,
                    "-connect",
                    &connect,
                    "-servername",
                    "localhost",
                ])
                .arg("-CAfile")
                .arg(ca)
                // The client's own floor lowered, so a refusal can only come
                // from the server (OpenSSL 3 refuses TLS 1.1 by itself otherwise).
                .args([
                    "-cipher",
                    "DEFAULT:@SECLEVEL=0",
                    "-verify_return_error",
                    "-brief",
                ])
                .stdin(std::process::Stdio::null())
                .output()
                .await
                .expect("openssl is installed by `cargo xtask test` (Debian package openssl)");
            output.status.success()
        }
    };
    assert!(handshake("-tls1_3").await, "a TLS 1.3 handshake failed");
    assert!(handshake("-tls1_2").await, "a TLS 1.2 handshake failed");
    assert!(!handshake("-tls1_1").await, "a TLS 1.1 handshake succeeded");
    running.shutdown().await.unwrap();
}
