//! TLS to PostgreSQL, for a database on another host. Whether a connection uses TLS is the
//! URL's `sslmode` (tokio-postgres: `disable`, `prefer`, the default, or `require`); when it
//! does, the server's certificate is always verified, name included (rustls has no
//! unverified mode here), against libpq's `sslrootcert` file from the URL if given, else
//! the operating system's trusted roots. So `prefer` takes TLS when the database offers it
//! and fails rather than talk to a server it can't verify, and `require` refuses plain TCP.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::storage::StorageError;

/// libpq's name for the CA file, which tokio-postgres doesn't know.
const ROOT_CERT: &str = "sslrootcert";

/// A `postgres://` URL without its `sslrootcert` parameter, and that parameter's value
/// (percent-decoded). The key-value form (`host=… sslrootcert=…`) is passed on untouched.
pub(super) fn split_root_cert(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), None);
    };
    let mut root_cert = None;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if key == ROOT_CERT {
                root_cert = Some(
                    percent_encoding::percent_decode_str(value)
                        .decode_utf8_lossy()
                        .into_owned(),
                );
                false
            } else {
                !pair.is_empty()
            }
        })
        .collect();
    let url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (url, root_cert)
}

/// The TLS connector: TLS 1.3 and 1.2 with the server's ring provider, verifying against
/// the CA certificates in `root_cert` (PEM) or the system's roots.
pub(super) fn connector(root_cert: Option<&Path>) -> Result<MakeRustlsConnect, StorageError> {
    let provider = crate::tls::provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(StorageError::backend)?;
    let config = match root_cert {
        Some(path) => {
            let unreadable = || {
                StorageError::Unsupported(format!(
                    "the database URL's sslrootcert {} is not a readable PEM file of CA \
                     certificates",
                    path.display()
                ))
            };
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_file_iter(path).map_err(|_| unreadable())? {
                roots
                    .add(cert.map_err(|_| unreadable())?)
                    .map_err(|_| unreadable())?;
            }
            if roots.is_empty() {
                return Err(unreadable());
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        None => {
            let verifier =
                rustls_platform_verifier::Verifier::new(provider).map_err(StorageError::backend)?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth()
        }
    };
    Ok(MakeRustlsConnect::new(config))
}

#[cfg(test)]
mod tests {
    use super::split_root_cert;

    #[test]
    fn the_root_cert_is_taken_out_of_the_url() {
        let cases = [
            ("postgres://db/canopy", ("postgres://db/canopy", None)),
            (
                "postgres://db/canopy?sslmode=require&sslrootcert=%2Fetc%2Fcanopy%2Fdb%20ca.pem",
                (
                    "postgres://db/canopy?sslmode=require",
                    Some("/etc/canopy/db ca.pem"),
                ),
            ),
            (
                "postgres://db/canopy?sslrootcert=/ca.pem",
                ("postgres://db/canopy", Some("/ca.pem")),
            ),
            (
                "postgres://db/canopy?application_name=x&sslrootcert=ca.pem&sslmode=prefer",
                (
                    "postgres://db/canopy?application_name=x&sslmode=prefer",
                    Some("ca.pem"),
                ),
            ),
        ];
        for (url, (rest, root)) in cases {
            let (got, got_root) = split_root_cert(url);
            assert_eq!((got.as_str(), got_root.as_deref()), (rest, root), "{url}");
        }
    }
}
