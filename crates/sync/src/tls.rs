//! The client's TLS: TLS 1.3 or 1.2 only, the normal chain and host-name verification
//! first (the company's private CA from the provisioning file, or the operating system's
//! verifier), then certificate pinning: the SHA-256 of the SubjectPublicKeyInfo of a
//! certificate in the chain must equal one of the configured pins (RFC 7469 §2.5).
//!
//! The pin check runs inside the handshake, so on a mismatch the connection is closed before
//! a single byte of the request — not even its path — is sent.

use std::sync::Arc;

use canopy_core::provisioning::Provisioning;
use data_encoding::BASE64;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use subtle::ConstantTimeEq;

use crate::error::SyncError;

/// A pin: the SHA-256 of a certificate's DER SubjectPublicKeyInfo.
pub type Pin = [u8; 32];

/// The crypto the client uses: ring, named explicitly (the server does the same), so
/// nothing depends on a process-wide default provider.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads the provisioning file's pins (standard base64 of 32 bytes, as `canopy-server pin`
/// and `curl --pinnedpubkey sha256//…` write them).
pub fn parse_pins(pins: &[String]) -> Result<Vec<Pin>, SyncError> {
    if pins.len() < 2 {
        return Err(SyncError::Config(
            "the provisioning file needs at least two pins: the current key and a backup".into(),
        ));
    }
    pins.iter()
        .enumerate()
        .map(|(i, pin)| {
            BASE64
                .decode(pin.trim().as_bytes())
                .ok()
                .and_then(|bytes| Pin::try_from(bytes.as_slice()).ok())
                .ok_or_else(|| {
                    SyncError::Config(format!("pin {} is not a base64 SHA-256 fingerprint", i + 1))
                })
        })
        .collect()
}

/// The pin of a DER certificate, if it parses.
pub fn spki_pin(cert: &CertificateDer<'_>) -> Option<Pin> {
    let parsed = webpki::EndEntityCert::try_from(cert).ok()?;
    let digest = ring::digest::digest(&ring::digest::SHA256, &parsed.subject_public_key_info());
    Pin::try_from(digest.as_ref()).ok()
}

/// Chain and name verification by `inner`, then the pins.
#[derive(Debug)]
struct PinningVerifier {
    inner: Arc<dyn ServerCertVerifier>,
    pins: Vec<Pin>,
}

impl PinningVerifier {
    fn pinned(&self, cert: &CertificateDer<'_>) -> bool {
        spki_pin(cert).is_some_and(|seen| {
            // Every pin is compared, in constant time, whatever matched before.
            self.pins
                .iter()
                .fold(subtle::Choice::from(0), |any, pin| any | pin.ct_eq(&seen))
                .into()
        })
    }
}

impl ServerCertVerifier for PinningVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )?;
        if std::iter::once(end_entity)
            .chain(intermediates)
            .any(|cert| self.pinned(cert))
        {
            return Ok(verified);
        }
        let presented: Vec<String> = std::iter::once(end_entity)
            .chain(intermediates)
            .filter_map(spki_pin)
            .map(|pin| BASE64.encode(&pin))
            .collect();
        tracing::warn!(
            server = ?server_name,
            ?presented,
            "certificate pin mismatch: the server's keys are not the ones this app was given"
        );
        Err(rustls::Error::InvalidCertificate(
            CertificateError::ApplicationVerificationFailure,
        ))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The rustls configuration for the provisioned server: TLS 1.3 and 1.2, the company's CA
/// (if the file carries one) or the operating system's verifier, and the pins.
pub fn client_config(provisioning: &Provisioning) -> Result<rustls::ClientConfig, SyncError> {
    provisioning
        .validate()
        .map_err(|e| SyncError::Config(e.to_string()))?;
    let pins = parse_pins(&provisioning.pins)?;
    let provider = provider();
    let inner: Arc<dyn ServerCertVerifier> = match &provisioning.ca_pem {
        Some(pem) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                let cert =
                    cert.map_err(|e| SyncError::Config(format!("the CA certificate: {e}")))?;
                roots
                    .add(cert)
                    .map_err(|e| SyncError::Config(format!("the CA certificate: {e}")))?;
            }
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| SyncError::Config(format!("the CA certificate: {e}")))?
        }
        None => Arc::new(
            rustls_platform_verifier::Verifier::new(provider.clone())
                .map_err(|e| SyncError::Config(format!("the system's certificates: {e}")))?,
        ),
    };
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| SyncError::Config(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinningVerifier { inner, pins }))
        .with_no_client_auth())
}

/// Whether `err` (from reqwest, any depth) is a pin mismatch of [`PinningVerifier`].
pub fn is_pin_mismatch(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut at: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = at {
        if let Some(rustls::Error::InvalidCertificate(
            CertificateError::ApplicationVerificationFailure,
        )) = e.downcast_ref::<rustls::Error>()
        {
            return true;
        }
        // io::Error hides its inner error from `source()`: look inside.
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            && is_pin_mismatch(inner)
        {
            return true;
        }
        at = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_must_be_two_sha256_fingerprints() {
        let good = BASE64.encode(&[7u8; 32]);
        assert_eq!(parse_pins(&[good.clone(), good.clone()]).unwrap().len(), 2);
        let cases = [
            (vec![good.clone()], "at least two pins"),
            (vec![good.clone(), "abc".into()], "pin 2 is not"),
            (vec![BASE64.encode(&[1u8; 31]), good], "pin 1 is not"),
        ];
        for (pins, expected) in cases {
            let err = parse_pins(&pins).unwrap_err().to_string();
            assert!(err.contains(expected), "{err}");
        }
    }
}
