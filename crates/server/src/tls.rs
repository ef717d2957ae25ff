//! TLS for the server: rustls with the ring provider, TLS 1.3 preferred and
//! 1.2 the minimum, and the SPKI SHA-256 pins that clients check.

use std::path::Path;
use std::sync::Arc;

use data_encoding::BASE64;
use rcgen::PublicKeyData;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Why the TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the certificate chain {path}: {message}")]
    Certs { path: String, message: String },
    #[error("cannot read the private key {path}: {message}")]
    Key { path: String, message: String },
    #[error("the certificate and key cannot be used together: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("cannot compute the pin of {path}: {message}")]
    Pin { path: String, message: String },
}

/// The crypto provider every TLS object of Canopy uses. Named explicitly so a
/// second provider pulled in by another crate can never be picked by accident.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A rustls server configuration from PEM files: TLS 1.3 and 1.2 only, HTTP/2
/// and HTTP/1.1 offered through ALPN.
pub fn server_config(cert_path: &Path, key_path: &Path) -> Result<rustls::ServerConfig, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_path)
        .and_then(|iter| iter.collect())
        .map_err(|e| TlsError::Certs {
            path: cert_path.display().to_string(),
            message: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::Certs {
            path: cert_path.display().to_string(),
            message: "it holds no certificate".to_owned(),
        });
    }
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|e| TlsError::Key {
        path: key_path.display().to_string(),
        message: e.to_string(),
    })?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The pin of a public key as clients configure it: the SHA-256 of its DER
/// SubjectPublicKeyInfo, in standard base64 (what `curl --pinnedpubkey
/// sha256//…` and RFC 7469 use).
pub fn spki_pin(key: &impl PublicKeyData) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, &key.subject_public_key_info());
    BASE64.encode(digest.as_ref())
}

/// The pin of the key in a PEM private-key file: run on a new key before it
/// is deployed, so its pin can ship to clients first (see README, pin rotation).
pub fn spki_pin_of_key_file(key_path: &Path) -> Result<String, TlsError> {
    let pem = std::fs::read_to_string(key_path).map_err(|e| TlsError::Pin {
        path: key_path.display().to_string(),
        message: e.to_string(),
    })?;
    let key = rcgen::KeyPair::from_pem(&pem).map_err(|e| TlsError::Pin {
        path: key_path.display().to_string(),
        message: e.to_string(),
    })?;
    Ok(spki_pin(&key))
}
