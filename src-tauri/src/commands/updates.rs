//! Signed updates (SECURITY.md 21): the Tauri updater plugin, driven from Rust, asks the
//! company's server (the provisioning file's, HTTPS with the pinned certificate) for a newer
//! release, and downloads it only if its minisign signature verifies with the public key in
//! the app's config and was made for the announced version. Older or equal versions are
//! never offered. The window cannot call the plugin: only these two commands.

use std::time::Duration;

use canopy_core::ipc::{CommandError, UpdateCheck, UpdateInstalled};
use canopy_core::provisioning::Provisioning;
use tauri::{AppHandle, Runtime, State, Url};
use tauri_plugin_updater::{Error as UpdaterError, Update, Updater, UpdaterExt};

use crate::state::AppState;

/// The whole download may take this long (an artifact is tens of MB).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(600);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What a person reads when a signature does not hold.
pub const BAD_SIGNATURE: &str = "This update is not signed by the company's release key, or \
     it was changed after signing. Canopy refused it and nothing was installed. Tell your \
     company's support: someone may be tampering with updates.";

/// The plugin, registered by `lib.rs`. Its JavaScript commands stay unreachable: the
/// window's capability grants none of them.
pub fn plugin<R: Runtime>() -> tauri::plugin::TauriPlugin<R, tauri_plugin_updater::Config> {
    tauri_plugin_updater::Builder::new().build()
}

/// The updater's address on the company's server, HTTPS only; the plugin fills in the
/// platform and the running version.
pub fn endpoint(provisioning: &Provisioning) -> Result<Url, CommandError> {
    let base = provisioning.server_url.trim_end_matches('/');
    let url: Url = format!("{base}/v1/updates/{{{{target}}}}/{{{{arch}}}}/{{{{current_version}}}}")
        .parse()
        .map_err(|_| CommandError::Invalid("The server address is not valid".into()))?;
    if url.scheme() != "https" {
        return Err(CommandError::Security(
            "Canopy takes updates over HTTPS only, and this server address is not HTTPS.".into(),
        ));
    }
    Ok(url)
}

/// The public key in the app's config (`plugins.updater.pubkey`, base64 of the minisign
/// public key file); an empty one means this build accepts no update.
fn has_release_key<R: Runtime>(app: &AppHandle<R>) -> bool {
    app.config()
        .plugins
        .0
        .get("updater")
        .and_then(|c| c.get("pubkey"))
        .and_then(|k| k.as_str())
        .is_some_and(|k| !k.trim().is_empty())
}

/// The updater for `provisioning`'s server at `endpoint` ([`endpoint`] in the app; tests
/// may name another path on the same server).
pub fn updater_at<R: Runtime>(
    app: &AppHandle<R>,
    provisioning: &Provisioning,
    endpoint: Url,
) -> Result<Updater, CommandError> {
    if !has_release_key(app) {
        return Err(CommandError::Invalid(
            "This build of Canopy carries no update key, so it cannot take updates.".into(),
        ));
    }
    if endpoint.scheme() != "https" {
        return Err(CommandError::Security(
            "Canopy takes updates over HTTPS only.".into(),
        ));
    }
    let tls = canopy_sync::tls::client_config(provisioning)
        .map_err(|e| CommandError::Invalid(e.to_string()))?;
    app.updater_builder()
        .endpoints(vec![endpoint])
        .map_err(into_command_error)?
        // Stated here, whatever the config says about downgrades: only a newer version.
        .version_comparator(|current, release| release.version > current)
        .timeout(REQUEST_TIMEOUT)
        // The check and the download both go through the sync's pinned TLS, HTTPS only.
        .configure_client(move |client| {
            client
                .tls_backend_preconfigured(tls.clone())
                .https_only(true)
                .connect_timeout(CONNECT_TIMEOUT)
        })
        .build()
        .map_err(into_command_error)
}

/// The updater for the provisioned server.
pub fn updater<R: Runtime>(
    app: &AppHandle<R>,
    provisioning: &Provisioning,
) -> Result<Updater, CommandError> {
    updater_at(app, provisioning, endpoint(provisioning)?)
}

/// A newer release, if the server offers one; its download must come from the same
/// server as the check.
pub async fn check(updater: &Updater, server_url: &str) -> Result<Option<Update>, CommandError> {
    let update = updater.check().await.map_err(into_command_error)?;
    if let Some(update) = &update {
        let server: Url = server_url
            .parse()
            .map_err(|_| CommandError::Invalid("The server address is not valid".into()))?;
        if !same_origin(&update.download_url, &server) {
            tracing::warn!(url = %update.download_url, "update offered from another server: refused");
            return Err(CommandError::Security(
                "The update is offered from a server other than the company's. Canopy refused it."
                    .into(),
            ));
        }
    }
    Ok(update)
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == "https"
        && a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Downloads the release and verifies its signature (the plugin's own check, before any
/// byte is kept): the verified artifact, or a security error.
pub async fn download(update: &Update) -> Result<Vec<u8>, CommandError> {
    update.download(|_, _| {}, || {}).await.map_err(|error| {
        let error = into_command_error(error);
        if matches!(error, CommandError::Security(_)) {
            tracing::warn!(version = %update.version, "update refused: its signature does not hold");
        }
        error
    })
}

/// What the UI shows for a check.
pub fn summary(current: &str, update: Option<&Update>) -> UpdateCheck {
    match update {
        None => UpdateCheck::UpToDate {
            current: current.to_owned(),
        },
        Some(update) => UpdateCheck::Available {
            current: current.to_owned(),
            version: update.version.clone(),
            notes: update.body.clone().unwrap_or_default(),
            date: update.date.and_then(|d| {
                d.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            }),
        },
    }
}

/// Sorts the plugin's errors into what the UI shows: a signature that does not hold, a
/// certificate that is not the pinned one and plain HTTP are security errors.
pub fn into_command_error(error: UpdaterError) -> CommandError {
    match &error {
        UpdaterError::Minisign(_)
        | UpdaterError::Base64(_)
        | UpdaterError::SignatureUtf8(_)
        | UpdaterError::SignedVersionMismatch { .. }
        | UpdaterError::MissingSignedVersion => CommandError::Security(BAD_SIGNATURE.into()),
        UpdaterError::InsecureTransportProtocol => {
            CommandError::Security("Canopy takes updates over HTTPS only.".into())
        }
        UpdaterError::Reqwest(e) if canopy_sync::tls::is_pin_mismatch(e) => CommandError::Security(
            "The server did not prove it is your company's (its certificate is not the one \
             this app was given). Canopy did not check for updates."
                .into(),
        ),
        UpdaterError::Reqwest(_) | UpdaterError::Network(_) | UpdaterError::ReleaseNotFound => {
            tracing::info!(%error, "update check failed");
            CommandError::Offline(
                "Canopy could not reach the company's server to check for updates.".into(),
            )
        }
        UpdaterError::Serialization(_)
        | UpdaterError::TargetNotFound(_)
        | UpdaterError::TargetsNotFound(_) => {
            CommandError::Refused(format!("The server's update answer is not usable: {error}"))
        }
        _ => CommandError::Internal(error.to_string()),
    }
}

fn provisioning(state: &AppState) -> Result<Provisioning, CommandError> {
    state.provisioning_file().cloned().ok_or_else(|| {
        CommandError::Invalid(
            "This device has no usable provisioning file from the company yet".into(),
        )
    })
}

/// Asks the company's server whether a newer Canopy is published.
#[tauri::command]
pub async fn check_for_update(
    app: AppHandle,
    state: State<'_, AppState>,
) -> Result<UpdateCheck, CommandError> {
    let provisioning = provisioning(&state)?;
    let updater = updater(&app, &provisioning)?;
    let update = check(&updater, &provisioning.server_url).await?;
    Ok(summary(
        &app.package_info().version.to_string(),
        update.as_ref(),
    ))
}

/// Downloads the newer release, verifies its signature and installs it; the new version
/// runs after a restart. A release that does not verify is refused and nothing changes.
#[tauri::command]
pub async fn install_update(
    app: AppHandle,
    state: State<'_, AppState>,
) -> Result<UpdateInstalled, CommandError> {
    let provisioning = provisioning(&state)?;
    let updater = updater(&app, &provisioning)?;
    let Some(update) = check(&updater, &provisioning.server_url).await? else {
        return Err(CommandError::Refused(
            "There is no newer version of Canopy to install.".into(),
        ));
    };
    let bytes = download(&update).await?;
    // `install` verifies the bytes again before it replaces anything.
    update.install(&bytes).map_err(into_command_error)?;
    tracing::info!(version = %update.version, "update installed");
    Ok(UpdateInstalled {
        version: update.version.clone(),
        restart_needed: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provisioning(url: &str) -> Provisioning {
        Provisioning {
            company: "Acme".into(),
            server_url: url.into(),
            pins: Vec::new(),
            ca_pem: None,
            demo_accounts: Vec::new(),
        }
    }

    #[test]
    fn the_endpoint_is_the_company_server_over_https_only() {
        let url = endpoint(&provisioning("https://canopy.example:8443/")).unwrap();
        assert_eq!(
            url.as_str(),
            "https://canopy.example:8443/v1/updates/%7B%7Btarget%7D%7D/%7B%7Barch%7D%7D/%7B%7Bcurrent_version%7D%7D"
        );
        let refused = endpoint(&provisioning("http://canopy.example")).unwrap_err();
        assert!(matches!(refused, CommandError::Security(_)), "{refused:?}");
    }

    #[test]
    fn downloads_come_from_the_checked_server_only() {
        let url = |s: &str| s.parse::<Url>().unwrap();
        let server = url("https://canopy.example:8443");
        let cases = [
            ("https://canopy.example:8443/v1/releases/a", true),
            ("https://evil.example:8443/v1/releases/a", false),
            ("https://canopy.example/v1/releases/a", false),
            ("http://canopy.example:8443/v1/releases/a", false),
        ];
        for (download, ok) in cases {
            assert_eq!(same_origin(&url(download), &server), ok, "{download}");
        }
    }
}
