//! Signed updates end to end (SECURITY.md 21): the real server serves releases from its
//! releases folder over pinned TLS, and the app's updater — the Tauri plugin's own check,
//! download and minisign verification, in a mock app built with the app's `tauri.conf.json`
//! updater section — accepts only a release signed by the key in its config for the
//! version announced. A tampered artifact, another key's signature, a signature that is
//! not one, an older release re-announced as new, a downgrade and a server that is not
//! the pinned one are all refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::Path;

use canopy_app::commands::updates::{self, BAD_SIGNATURE};
use canopy_core::ipc::{CommandError, UpdateCheck};
use canopy_core::provisioning::Provisioning;
use canopy_server::demo;
use canopy_server::server::{self, RunningServer};
use data_encoding::BASE64;
use minisign::KeyPair;
use serde_json::json;
use tauri::test::MockRuntime;

/// The running app's version in these tests.
const CURRENT: &str = "0.1.0";

/// The updater's platform key, as the plugin computes it (`{os}-{arch}`).
fn platform() -> String {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    format!("{os}-{}", std::env::consts::ARCH)
}

/// The base64 of a minisign public key file, as `plugins.updater.pubkey` holds it.
fn pubkey_b64(keys: &KeyPair) -> String {
    BASE64.encode(keys.pk.to_box().unwrap().to_string().as_bytes())
}

/// A minisign signature of `bytes` with the trusted comment `cargo xtask release` writes
/// (the version the artifact is for), as the text of a `.sig` file.
fn sign(keys: &KeyPair, bytes: &[u8], file: &str, version: &str) -> String {
    let trusted = format!("timestamp:1800000000\tfile:{file}\tversion:{version}");
    minisign::sign(
        Some(&keys.pk),
        &keys.sk,
        bytes,
        Some(&trusted),
        Some("signature from canopy release key"),
    )
    .unwrap()
    .to_string()
}

/// Puts a release into the server's releases folder: `latest.json`, the artifact and,
/// when given, its `.sig`.
fn publish(dir: &Path, version: &str, artifact: &[u8], signature: Option<&str>) -> String {
    std::fs::create_dir_all(dir).unwrap();
    let file = format!("canopy-app_{version}_{}", platform());
    std::fs::write(dir.join(&file), artifact).unwrap();
    let sig = dir.join(format!("{file}.sig"));
    match signature {
        Some(text) => std::fs::write(&sig, text).unwrap(),
        None => {
            let _ = std::fs::remove_file(&sig);
        }
    }
    let manifest = json!({
        "version": version,
        "notes": format!("Canopy {version}: faster sync"),
        "pub_date": "2027-01-15T08:00:00Z",
        "platforms": {platform(): {"file": file}},
    });
    std::fs::write(dir.join("latest.json"), manifest.to_string()).unwrap();
    file
}

/// A mock app whose updater config is the app's own `tauri.conf.json` section, with
/// `pubkey` set to the test's release key (a release build gets it the same way, from
/// `cargo xtask release`).
fn app(pubkey: &str) -> tauri::App<MockRuntime> {
    app_at(pubkey, CURRENT)
}

/// The same, running `version`.
fn app_at(pubkey: &str, version: &str) -> tauri::App<MockRuntime> {
    let conf: serde_json::Value =
        serde_json::from_str(include_str!("../../tauri.conf.json")).unwrap();
    let mut updater = conf["plugins"]["updater"].clone();
    assert_eq!(
        updater["requireSignedVersion"], true,
        "the app must require the signed version"
    );
    updater["pubkey"] = json!(pubkey);
    let mut context = tauri::test::mock_context(tauri::test::noop_assets());
    context
        .config_mut()
        .plugins
        .0
        .insert("updater".into(), updater);
    context.package_info_mut().version = version.parse().unwrap();
    tauri::test::mock_builder()
        .plugin(updates::plugin())
        .build(context)
        .unwrap()
}

struct Served {
    _dir: tempfile::TempDir,
    releases: std::path::PathBuf,
    running: RunningServer,
    provisioning: Provisioning,
}

/// The real server over TLS with the demo CA and pins, serving `DIR/releases`.
async fn serve() -> Served {
    let dir = tempfile::tempdir().unwrap();
    let files = demo::ensure_files(dir.path()).unwrap();
    let config = files.config(SocketAddr::from(([127, 0, 0, 1], 0)));
    let releases = config.updates.as_ref().unwrap().dir.clone();
    std::fs::create_dir_all(&releases).unwrap();
    let running = server::start(&config).await.unwrap();
    let url = format!("https://localhost:{}", running.addr.port());
    let provisioning = demo::write_provisioning(&files, &url).unwrap();
    Served {
        _dir: dir,
        releases,
        running,
        provisioning,
    }
}

/// Check, then download and verify: the verified bytes, or the error the UI would show.
async fn check_and_download(
    app: &tauri::App<MockRuntime>,
    p: &Provisioning,
) -> Result<Option<(String, Vec<u8>)>, CommandError> {
    let updater = updates::updater(app.handle(), p)?;
    let Some(update) = updates::check(&updater, &p.server_url).await? else {
        return Ok(None);
    };
    let bytes = updates::download(&update).await?;
    Ok(Some((update.version.clone(), bytes)))
}

fn is_bad_signature(result: &Result<Option<(String, Vec<u8>)>, CommandError>) -> bool {
    matches!(result, Err(CommandError::Security(m)) if m == BAD_SIGNATURE)
}

#[tokio::test]
async fn only_a_release_signed_for_its_version_is_accepted() {
    let served = serve().await;
    let keys = KeyPair::generate_unencrypted_keypair().unwrap();
    let app = app(&pubkey_b64(&keys));
    let p = &served.provisioning;
    let artifact: Vec<u8> = b"\x7fELF canopy 0.2.0"
        .iter()
        .copied()
        .chain((0..50_000u32).map(|i| (i % 251) as u8))
        .collect();

    // Nothing published: up to date.
    let updater = updates::updater(app.handle(), p).unwrap();
    let nothing = updates::check(&updater, &p.server_url).await.unwrap();
    assert_eq!(
        updates::summary(CURRENT, nothing.as_ref()),
        UpdateCheck::UpToDate {
            current: CURRENT.into()
        }
    );

    // A release signed for 0.2.0: offered, downloaded, verified, byte for byte.
    let file = format!("canopy-app_0.2.0_{}", platform());
    let good_sig = sign(&keys, &artifact, &file, "0.2.0");
    publish(&served.releases, "0.2.0", &artifact, Some(&good_sig));
    let updater = updates::updater(app.handle(), p).unwrap();
    let update = updates::check(&updater, &p.server_url)
        .await
        .unwrap()
        .unwrap();
    match updates::summary(CURRENT, Some(&update)) {
        UpdateCheck::Available {
            version,
            notes,
            date,
            ..
        } => {
            assert_eq!(version, "0.2.0");
            assert_eq!(notes, "Canopy 0.2.0: faster sync");
            assert_eq!(date.as_deref(), Some("2027-01-15T08:00:00Z"));
        }
        other => panic!("expected an update, got {other:?}"),
    }
    assert!(update.download_url.as_str().starts_with(&p.server_url));
    assert_eq!(updates::download(&update).await.unwrap(), artifact);

    // The same artifact with one byte changed: refused by the signature check.
    let mut tampered = artifact.clone();
    tampered[1000] ^= 0x01;
    publish(&served.releases, "0.2.0", &tampered, Some(&good_sig));
    let refused = check_and_download(&app, p).await;
    assert!(is_bad_signature(&refused), "{refused:?}");

    // Signed by another key (an attacker's): refused.
    let other = KeyPair::generate_unencrypted_keypair().unwrap();
    let foreign = sign(&other, &artifact, &file, "0.2.0");
    publish(&served.releases, "0.2.0", &artifact, Some(&foreign));
    let refused = check_and_download(&app, p).await;
    assert!(is_bad_signature(&refused), "{refused:?}");

    // A `.sig` that is no signature at all: refused.
    publish(
        &served.releases,
        "0.2.0",
        &artifact,
        Some("not signed, trust me"),
    );
    let refused = check_and_download(&app, p).await;
    assert!(is_bad_signature(&refused), "{refused:?}");

    // No `.sig` at all: the server offers nothing, so nothing is installed.
    publish(&served.releases, "0.2.0", &artifact, None);
    assert_eq!(check_and_download(&app, p).await.unwrap(), None);

    // A genuine older release (signed for 0.1.5) re-announced as 0.3.0: the signed
    // version does not match, refused.
    let old = sign(
        &keys,
        &artifact,
        &format!("canopy-app_0.1.5_{}", platform()),
        "0.1.5",
    );
    publish(&served.releases, "0.3.0", &artifact, Some(&old));
    let refused = check_and_download(&app, p).await;
    assert!(is_bad_signature(&refused), "{refused:?}");

    // Correctly signed releases of the running version or older: not offered.
    for version in [CURRENT, "0.0.9"] {
        let file = format!("canopy-app_{version}_{}", platform());
        let sig = sign(&keys, &artifact, &file, version);
        publish(&served.releases, version, &artifact, Some(&sig));
        assert_eq!(
            check_and_download(&app, p).await.unwrap(),
            None,
            "{version}"
        );
    }

    served.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_app_refuses_a_downgrade_even_when_the_server_offers_one() {
    let served = serve().await;
    let keys = KeyPair::generate_unencrypted_keypair().unwrap();
    let artifact = b"\x7fELF canopy 0.0.9".to_vec();
    let file = format!("canopy-app_0.0.9_{}", platform());
    let signature = sign(&keys, &artifact, &file, "0.0.9");
    publish(&served.releases, "0.0.9", &artifact, Some(&signature));
    let p = &served.provisioning;
    // A server told that the app runs 0.0.1 offers 0.0.9, validly signed: as a compromised
    // or confused server would offer an old release to a newer app.
    let lying: tauri::Url = format!(
        "{}/v1/updates/{{{{target}}}}/{{{{arch}}}}/0.0.1",
        p.server_url
    )
    .parse()
    .unwrap();
    let offered = |app: tauri::App<MockRuntime>| {
        let lying = lying.clone();
        async move {
            let updater = updates::updater_at(app.handle(), p, lying).unwrap();
            updates::check(&updater, &p.server_url)
                .await
                .unwrap()
                .map(|u| u.version)
        }
    };
    // An app at 0.0.1 takes it; the app at 0.1.0 does not.
    let pubkey = pubkey_b64(&keys);
    assert_eq!(
        offered(app_at(&pubkey, "0.0.1")).await.as_deref(),
        Some("0.0.9")
    );
    assert_eq!(offered(app_at(&pubkey, CURRENT)).await, None);
    assert_eq!(offered(app_at(&pubkey, "0.0.9")).await, None);
    served.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_server_without_the_pinned_key_or_a_build_without_a_key_gets_nothing() {
    let served = serve().await;
    let keys = KeyPair::generate_unencrypted_keypair().unwrap();
    let mut p = served.provisioning.clone();
    p.pins = vec![BASE64.encode(&[7u8; 32]), BASE64.encode(&[8u8; 32])];
    let app_with_key = app(&pubkey_b64(&keys));
    let updater = updates::updater(app_with_key.handle(), &p).unwrap();
    let Err(refused) = updates::check(&updater, &p.server_url).await else {
        panic!("a server without the pinned key was trusted");
    };
    assert!(
        matches!(&refused, CommandError::Security(m) if m.contains("certificate")),
        "{refused:?}"
    );

    // The committed config has no key: such a build takes no update at all.
    let keyless = app("");
    let Err(refused) = updates::updater(keyless.handle(), &served.provisioning) else {
        panic!("a build without a key made an updater");
    };
    assert_eq!(
        refused,
        CommandError::Invalid(
            "This build of Canopy carries no update key, so it cannot take updates.".into()
        )
    );
    served.running.shutdown().await.unwrap();
}

/// Runs the reference `minisign` (Debian package minisign, installed by `cargo xtask test`).
fn minisign_cli(args: &[&str]) -> std::process::Output {
    let output = std::process::Command::new("minisign")
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("minisign is installed by `cargo xtask test` (Debian package minisign)");
    assert!(
        output.status.success(),
        "minisign {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[tokio::test]
async fn releases_signed_by_the_reference_minisign_are_accepted() {
    let served = serve().await;
    let keys = served.releases.parent().unwrap().join("peer-keys");
    std::fs::create_dir_all(&keys).unwrap();
    let (public, secret) = (keys.join("peer.pub"), keys.join("peer.key"));
    let path = |p: &Path| p.to_str().unwrap().to_owned();
    minisign_cli(&["-G", "-W", "-p", &path(&public), "-s", &path(&secret)]);

    let artifact = b"\x7fELF canopy 0.2.0, signed by the reference tool".to_vec();
    let file = format!("canopy-app_0.2.0_{}", platform());
    let staged = keys.join(&file);
    std::fs::write(&staged, &artifact).unwrap();
    let trusted = format!("timestamp:1800000000\tfile:{file}\tversion:0.2.0");
    minisign_cli(&[
        "-S",
        "-W",
        "-s",
        &path(&secret),
        "-t",
        &trusted,
        "-m",
        &path(&staged),
    ]);
    let signature = std::fs::read_to_string(keys.join(format!("{file}.minisig"))).unwrap();
    publish(&served.releases, "0.2.0", &artifact, Some(&signature));

    // The app's config holds base64 of the tool's public key file, as `xtask release` prints.
    let pubkey = BASE64.encode(std::fs::read(&public).unwrap().as_slice());
    let app = app(&pubkey);
    let accepted = check_and_download(&app, &served.provisioning).await;
    assert_eq!(
        accepted.unwrap(),
        Some(("0.2.0".to_owned(), artifact.clone()))
    );

    // And the tool verifies what the crate signs, as `cargo xtask release` signs it.
    let ours = KeyPair::generate_unencrypted_keypair().unwrap();
    let sig_path = keys.join("ours.minisig");
    std::fs::write(&sig_path, sign(&ours, &artifact, &file, "0.2.0")).unwrap();
    let our_public = keys.join("ours.pub");
    std::fs::write(&our_public, ours.pk.to_box().unwrap().to_string()).unwrap();
    let verified = minisign_cli(&[
        "-V",
        "-p",
        &path(&our_public),
        "-x",
        &path(&sig_path),
        "-m",
        &path(&staged),
    ]);
    assert!(
        String::from_utf8_lossy(&verified.stdout).contains("version:0.2.0"),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );
    served.running.shutdown().await.unwrap();
}
