//! Signed app updates (SECURITY.md 21): the Tauri updater's dynamic-server manifest for the
//! release in the `[updates]` folder, and that release's artifact. No sign-in: the updater
//! runs before anyone signs in. Read-only, and only the files `latest.json` names are read.
//!
//! The folder is what `cargo xtask release` writes:
//!
//! ```text
//! releases/
//!   latest.json                           {"version", "notes", "pub_date", "platforms":
//!                                          {"linux-x86_64": {"file": "canopy-app_0.2.0_linux-x86_64"}}}
//!   canopy-app_0.2.0_linux-x86_64         the artifact the updater installs
//!   canopy-app_0.2.0_linux-x86_64.sig     its minisign signature (the whole .sig text)
//! ```
//!
//! The server does not verify signatures — the app does, with the public key it was built
//! with — but it never offers a release whose `.sig` is missing.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use data_encoding::BASE64;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::problem::Problem;
use crate::app::AppState;
use crate::config::UpdatesConfig;

/// The manifest's file name in the releases folder.
pub const MANIFEST: &str = "latest.json";
/// The largest `latest.json` read.
const MAX_MANIFEST_BYTES: u64 = 64 * 1024;
/// The largest `.sig` read (a minisign signature file is about 300 bytes).
const MAX_SIGNATURE_BYTES: u64 = 4 * 1024;
/// The longest release notes sent.
const MAX_NOTES_CHARS: usize = 4_000;

/// `latest.json`: the one release offered, by platform (`{os}-{arch}`, as the Tauri
/// updater names them: `linux-x86_64`, `windows-x86_64`, `darwin-aarch64`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseManifest {
    /// Semantic version, without a leading `v`.
    pub version: String,
    #[serde(default)]
    pub notes: String,
    /// RFC 3339.
    pub pub_date: String,
    pub platforms: BTreeMap<String, ReleaseFile>,
}

/// One platform's artifact: a plain file name in the releases folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseFile {
    pub file: String,
}

/// The Tauri updater's "dynamic server" answer for one platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UpdateManifest {
    pub version: String,
    pub notes: String,
    /// RFC 3339.
    pub pub_date: String,
    /// Where the artifact is downloaded from: this server, `/v1/releases/{file}`.
    pub url: String,
    /// Base64 of the artifact's whole minisign `.sig` file, as the updater expects.
    pub signature: String,
}

/// Why the releases folder could not be used. Logged for the operator; the client only
/// hears that updates are unavailable.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is larger than {limit} bytes")]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("{path} is not a regular file")]
    NotAFile { path: PathBuf },
    #[error("{MANIFEST} is not valid: {0}")]
    Manifest(String),
}

impl ReleaseManifest {
    /// Checks what a person could get wrong writing the file by hand.
    pub fn validate(&self) -> Result<(), ReleaseError> {
        let bad = |m: String| Err(ReleaseError::Manifest(m));
        if parse_version(&self.version).is_none() {
            return bad(format!(
                "version {:?} is not a semantic version",
                self.version
            ));
        }
        if OffsetDateTime::parse(&self.pub_date, &Rfc3339).is_err() {
            return bad(format!("pub_date {:?} is not RFC 3339", self.pub_date));
        }
        if self.notes.chars().count() > MAX_NOTES_CHARS {
            return bad(format!(
                "notes are longer than {MAX_NOTES_CHARS} characters"
            ));
        }
        for (platform, release) in &self.platforms {
            if !is_platform(platform) {
                return bad(format!("platform {platform:?} is not like linux-x86_64"));
            }
            if !is_file_name(&release.file) {
                return bad(format!("file {:?} is not a plain file name", release.file));
            }
        }
        Ok(())
    }

    /// Whether `file` is an artifact this manifest offers.
    pub fn offers(&self, file: &str) -> bool {
        self.platforms.values().any(|r| r.file == file)
    }
}

/// A semantic version (`1.2.3`, `1.2.3-rc.1`), a leading `v` allowed as the updater does.
pub fn parse_version(text: &str) -> Option<semver::Version> {
    semver::Version::parse(text.trim_start_matches('v')).ok()
}

/// `linux`, `x86_64`, `linux-x86_64`: lowercase letters, digits, `_` and `-` only.
fn is_segment(text: &str) -> bool {
    (1..=32).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn is_platform(text: &str) -> bool {
    is_segment(text) && text.contains('-')
}

/// A file name that cannot leave the folder: letters, digits, `.`, `_`, `-`, not starting
/// with a dot, no separators, at most 128 bytes.
pub fn is_file_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
}

/// Reads a regular file (not a symlink) of at most `limit` bytes.
fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, ReleaseError> {
    let read = |source| ReleaseError::Read {
        path: path.to_owned(),
        source,
    };
    let meta = std::fs::symlink_metadata(path).map_err(read)?;
    if !meta.file_type().is_file() {
        return Err(ReleaseError::NotAFile {
            path: path.to_owned(),
        });
    }
    if meta.len() > limit {
        return Err(ReleaseError::TooLarge {
            path: path.to_owned(),
            limit,
        });
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(read)?
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(read)?;
    if bytes.len() as u64 > limit {
        return Err(ReleaseError::TooLarge {
            path: path.to_owned(),
            limit,
        });
    }
    Ok(bytes)
}

/// The folder's manifest: `None` while nothing is published.
pub fn read_manifest(dir: &Path) -> Result<Option<ReleaseManifest>, ReleaseError> {
    let path = dir.join(MANIFEST);
    let bytes = match read_bounded(&path, MAX_MANIFEST_BYTES) {
        Ok(bytes) => bytes,
        Err(ReleaseError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let manifest: ReleaseManifest =
        serde_json::from_slice(&bytes).map_err(|e| ReleaseError::Manifest(e.to_string()))?;
    manifest.validate()?;
    Ok(Some(manifest))
}

/// What the check route answers.
#[derive(Debug)]
enum Offer {
    UpToDate,
    Update(UpdateManifest),
}

/// The release for `platform` if it is newer than `current` and complete (artifact within
/// the size limit, signature present).
fn offer(
    config: &UpdatesConfig,
    platform: &str,
    current: &semver::Version,
    origin: &str,
) -> Result<Offer, ReleaseError> {
    let Some(manifest) = read_manifest(&config.dir)? else {
        return Ok(Offer::UpToDate);
    };
    // `validate` checked it parses.
    let Some(version) = parse_version(&manifest.version) else {
        return Ok(Offer::UpToDate);
    };
    // Never a downgrade nor the same version again (the app refuses them too).
    if version <= *current {
        return Ok(Offer::UpToDate);
    }
    let Some(release) = manifest.platforms.get(platform) else {
        return Ok(Offer::UpToDate);
    };
    let artifact = config.dir.join(&release.file);
    let meta = std::fs::symlink_metadata(&artifact).map_err(|source| ReleaseError::Read {
        path: artifact.clone(),
        source,
    })?;
    if !meta.file_type().is_file() {
        return Err(ReleaseError::NotAFile { path: artifact });
    }
    if meta.len() > config.max_artifact_bytes() {
        return Err(ReleaseError::TooLarge {
            path: artifact,
            limit: config.max_artifact_bytes(),
        });
    }
    let sig_path = config.dir.join(format!("{}.sig", release.file));
    let signature = match read_bounded(&sig_path, MAX_SIGNATURE_BYTES) {
        Ok(bytes) => bytes,
        Err(ReleaseError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            tracing::warn!(
                version = %manifest.version,
                file = %release.file,
                "release has no signature: not offered"
            );
            return Ok(Offer::UpToDate);
        }
        Err(e) => return Err(e),
    };
    Ok(Offer::Update(UpdateManifest {
        version: manifest.version.clone(),
        notes: manifest.notes.clone(),
        pub_date: manifest.pub_date.clone(),
        url: format!("{origin}/v1/releases/{}", release.file),
        signature: BASE64.encode(&signature),
    }))
}

/// `https://host[:port]` as the client reached this server (HTTP/2's authority or
/// HTTP/1.1's Host), so the download goes to the same pinned server.
fn origin(uri: &Uri, headers: &HeaderMap) -> Option<String> {
    let host = uri.authority().map(|a| a.as_str().to_owned()).or_else(|| {
        headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned)
    })?;
    let ok = (1..=255).contains(&host.len())
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    ok.then(|| format!("https://{host}"))
}

fn unavailable(error: &ReleaseError) -> Response {
    tracing::error!(%error, "the releases folder cannot be used");
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "updates-unavailable",
        "Updates are unavailable at the moment.",
    )
    .into_response()
}

/// The Tauri updater's check: 204 when there is nothing newer for this platform, else the
/// release with its download address and signature.
#[utoipa::path(get, path = "/v1/updates/{target}/{arch}/{current_version}", tag = "updates",
    params(
        ("target" = String, Path, description = "Operating system: linux, windows, darwin"),
        ("arch" = String, Path, description = "CPU: x86_64, aarch64, …"),
        ("current_version" = String, Path, description = "The running app's version"),
    ),
    responses(
        (status = 200, description = "A newer signed release", body = UpdateManifest),
        (status = 204, description = "Nothing newer for this platform"),
        (status = 400, description = "Not a platform or a version", body = Problem,
            content_type = "application/problem+json"),
        (status = 503, description = "The releases folder cannot be read", body = Problem,
            content_type = "application/problem+json"),
    ))]
pub async fn check(
    State(state): State<AppState>,
    UrlPath((target, arch, current_version)): UrlPath<(String, String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let (Some(current), true, true) = (
        parse_version(&current_version),
        is_segment(&target),
        is_segment(&arch),
    ) else {
        return Problem::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "Give a platform and a semantic version, like /v1/updates/linux/x86_64/1.2.3.",
        )
        .into_response();
    };
    let Some(config) = state.updates.clone() else {
        return StatusCode::NO_CONTENT.into_response();
    };
    let Some(origin) = origin(&uri, &headers) else {
        return Problem::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "The request names no valid host.",
        )
        .into_response();
    };
    let platform = format!("{target}-{arch}");
    let found =
        tokio::task::spawn_blocking(move || offer(&config, &platform, &current, &origin)).await;
    match found {
        Ok(Ok(Offer::UpToDate)) => StatusCode::NO_CONTENT.into_response(),
        Ok(Ok(Offer::Update(manifest))) => {
            tracing::info!(version = %manifest.version, %target, %arch, "update offered");
            axum::Json(manifest).into_response()
        }
        Ok(Err(error)) => unavailable(&error),
        Err(join) => unavailable(&ReleaseError::Manifest(join.to_string())),
    }
}

/// The artifact of the published release, streamed; only files `latest.json` names.
#[utoipa::path(get, path = "/v1/releases/{file}", tag = "updates",
    params(("file" = String, Path, description = "The artifact's file name from the manifest")),
    responses(
        (status = 200, description = "The artifact", content_type = "application/octet-stream"),
        (status = 404, description = "Not an artifact of the published release", body = Problem,
            content_type = "application/problem+json"),
        (status = 503, description = "The releases folder cannot be read", body = Problem,
            content_type = "application/problem+json"),
    ))]
pub async fn artifact(State(state): State<AppState>, UrlPath(file): UrlPath<String>) -> Response {
    let not_found = || Problem::not_found("There is no such release file.").into_response();
    let Some(config) = state.updates.clone() else {
        return not_found();
    };
    if !is_file_name(&file) {
        return not_found();
    }
    let manifest = {
        let dir = config.dir.clone();
        match tokio::task::spawn_blocking(move || read_manifest(&dir)).await {
            Ok(Ok(manifest)) => manifest,
            Ok(Err(error)) => return unavailable(&error),
            Err(join) => return unavailable(&ReleaseError::Manifest(join.to_string())),
        }
    };
    if !manifest.is_some_and(|m| m.offers(&file)) {
        return not_found();
    }
    let path = config.dir.join(&file);
    let opened = match tokio::fs::symlink_metadata(&path).await {
        Ok(meta) if meta.file_type().is_file() => {
            tokio::fs::File::open(&path).await.map(|f| (f, meta.len()))
        }
        Ok(_) => return unavailable(&ReleaseError::NotAFile { path }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return not_found(),
        Err(error) => Err(error),
    };
    let (handle, len) = match opened {
        Ok(opened) => opened,
        Err(source) => return unavailable(&ReleaseError::Read { path, source }),
    };
    if len > config.max_artifact_bytes() {
        return unavailable(&ReleaseError::TooLarge {
            path,
            limit: config.max_artifact_bytes(),
        });
    }
    // `take`: a file that grows while it is sent is cut at the length announced.
    let stream = tokio_util::io::ReaderStream::new(tokio::io::AsyncReadExt::take(handle, len));
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_leave_the_folder_are_refused() {
        let cases = [
            ("canopy-app_0.2.0_linux-x86_64", true),
            ("canopy-app_0.2.0.AppImage.tar.gz", true),
            ("../latest.json", false),
            ("..", false),
            (".sig", false),
            ("a/b", false),
            ("a\\b", false),
            ("%2e%2e", false),
            ("", false),
        ];
        for (name, ok) in cases {
            assert_eq!(is_file_name(name), ok, "{name}");
        }
        assert!(is_file_name(&"a".repeat(128)));
        assert!(!is_file_name(&"a".repeat(129)));
    }

    #[test]
    fn versions_compare_as_semver() {
        let v = |s| parse_version(s).unwrap();
        assert!(v("0.10.0") > v("0.9.9"));
        assert!(v("1.0.0") > v("1.0.0-rc.1"));
        assert!(v("v1.2.3") == v("1.2.3"));
        assert!(parse_version("1.2").is_none());
    }

    #[test]
    fn a_manifest_is_checked_field_by_field() {
        let good = ReleaseManifest {
            version: "0.2.0".into(),
            notes: "Faster sync".into(),
            pub_date: "2026-11-22T08:00:00Z".into(),
            platforms: BTreeMap::from([(
                "linux-x86_64".into(),
                ReleaseFile {
                    file: "canopy-app_0.2.0_linux-x86_64".into(),
                },
            )]),
        };
        assert!(good.validate().is_ok());
        let broken = [
            ReleaseManifest {
                version: "two".into(),
                ..good.clone()
            },
            ReleaseManifest {
                pub_date: "yesterday".into(),
                ..good.clone()
            },
            ReleaseManifest {
                platforms: BTreeMap::from([(
                    "linux-x86_64".into(),
                    ReleaseFile {
                        file: "../../etc/passwd".into(),
                    },
                )]),
                ..good.clone()
            },
        ];
        for manifest in broken {
            assert!(manifest.validate().is_err(), "{manifest:?}");
        }
    }
}
