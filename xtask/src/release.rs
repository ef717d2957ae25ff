//! `cargo xtask release`: signed app updates (SECURITY.md 21). Makes the release key pair,
//! builds the app with the public key in its config, signs the artifact with minisign (as
//! the Tauri updater verifies it) and publishes it into a releases folder the server serves.
//!
//! A release folder holds `latest.json` (version, notes, date, and per platform the file
//! name), the artifact and its `.sig` — the format `canopy-server`'s `routes/updates.rs`
//! reads. On Linux the updater replaces the running executable (or AppImage) with the
//! artifact, so the artifact is the release binary itself: a real AppImage needs
//! linuxdeploy, which is downloaded at bundle time and can't be here.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use minisign::{KeyPair, PublicKey, PublicKeyBox, SecretKey, SecretKeyBox};
use serde::{Deserialize, Serialize};

use crate::{build, demo, paths, proc};

const USAGE: &str = "\
cargo xtask release --keygen DIR
    make a release key pair in DIR (outside the checkout): canopy-update.key, protected by
    the password in CANOPY_UPDATE_KEY_PASSWORD (asked for when unset), and canopy-update.pub

cargo xtask release --key DIR --out RELEASES [--version V] [--notes TEXT] [--artifact FILE]
    build the app (profile app-release) with DIR's public key in its config, sign it and
    publish it into RELEASES (the server's [updates] dir). --artifact signs a file already
    built with that key instead; --version defaults to tauri.conf.json's

cargo xtask release --demo [--version V] [--notes TEXT] [--artifact FILE]
    the same with a throwaway key under the target dir (made on first use, no password),
    published into the demo server's releases folder; the version defaults to the next patch.
    `cargo xtask run` builds the app with that key once it exists.
";

/// The secret key's file; never inside the checkout, never committed.
const SECRET_KEY: &str = "canopy-update.key";
const PUBLIC_KEY: &str = "canopy-update.pub";
const PASSWORD_ENV: &str = "CANOPY_UPDATE_KEY_PASSWORD";

/// `latest.json`, as the server reads it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    version: String,
    #[serde(default)]
    notes: String,
    pub_date: String,
    platforms: BTreeMap<String, ReleaseFile>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleaseFile {
    file: String,
}

#[derive(Debug, Default)]
struct Options {
    keygen: Option<PathBuf>,
    key: Option<PathBuf>,
    out: Option<PathBuf>,
    version: Option<String>,
    notes: Option<String>,
    artifact: Option<PathBuf>,
    demo: bool,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut options = Options::default();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .cloned()
                .with_context(|| format!("{name} needs a value\n\n{USAGE}"))
        };
        match arg.as_str() {
            "--keygen" => options.keygen = Some(value("--keygen")?.into()),
            "--key" => options.key = Some(value("--key")?.into()),
            "--out" => options.out = Some(value("--out")?.into()),
            "--version" => options.version = Some(value("--version")?),
            "--notes" => options.notes = Some(value("--notes")?),
            "--artifact" => options.artifact = Some(value("--artifact")?.into()),
            "--demo" => options.demo = true,
            "-h" | "--help" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown option `{other}`\n\n{USAGE}"),
        }
    }
    Ok(options)
}

/// `cargo xtask release …`.
pub fn run(args: &[String]) -> Result<()> {
    let options = parse(args)?;
    if let Some(dir) = &options.keygen {
        return keygen(dir, false).map(|_| ());
    }
    let (key_dir, out) = if options.demo {
        let dir = demo_key_dir();
        if !dir.join(SECRET_KEY).is_file() {
            keygen(&dir, true)?;
        }
        (dir, demo::dir().join("releases"))
    } else {
        match (&options.key, &options.out) {
            (Some(key), Some(out)) => (key.clone(), out.clone()),
            _ => bail!("say which key and where to publish\n\n{USAGE}"),
        }
    };
    let keys = load_keys(&key_dir)?;
    let base = app_version()?;
    let version = match &options.version {
        Some(v) => v.clone(),
        None if options.demo => next_patch(&base)?,
        None => base,
    };
    semver::Version::parse(&version).with_context(|| format!("{version} is not a version"))?;
    if !options.demo && cargo_version()?.as_deref() != Some(version.as_str()) {
        // The updater compares tauri.conf.json's version; the about box shows Cargo's.
        bail!("set version = \"{version}\" in the root Cargo.toml too, so the app reports it");
    }
    refuse_older_than_published(&out, &version)?;
    let artifact = match &options.artifact {
        Some(file) => file.clone(),
        None => build_release(&keys.pk, &version, options.demo)?,
    };
    let notes = options
        .notes
        .clone()
        .unwrap_or_else(|| format!("Canopy {version}"));
    publish(&keys, &artifact, &out, &version, &notes)
}

/// Where `--demo` keeps its throwaway key: in the target dir, never the checkout.
pub fn demo_key_dir() -> PathBuf {
    paths::target_dir().join("canopy-demo-update-key")
}

/// The `TAURI_CONFIG` that puts the demo key into the app's config, once `release --demo`
/// made one; `None` before (the app then takes no updates, as the committed config says).
pub fn demo_tauri_config() -> Result<Option<String>> {
    let dir = demo_key_dir();
    if !dir.join(PUBLIC_KEY).is_file() {
        return Ok(None);
    }
    let pk = read_public_key(&dir)?;
    Ok(Some(tauri_config(&pk, None)?))
}

/// Merged by tauri-build and `generate_context!` into `tauri.conf.json` (the mechanism
/// `tauri build --config` uses): the updater's public key, and the version when releasing.
fn tauri_config(pk: &PublicKey, version: Option<&str>) -> Result<String> {
    let mut config = serde_json::json!({
        "plugins": {"updater": {"pubkey": config_pubkey(pk)?}},
    });
    if let Some(version) = version {
        config["version"] = serde_json::json!(version);
    }
    Ok(config.to_string())
}

/// `plugins.updater.pubkey`: base64 of the whole minisign public key file, which is what
/// tauri-plugin-updater decodes (`base64_to_string`, then `PublicKey::decode`).
fn config_pubkey(pk: &PublicKey) -> Result<String> {
    let text = pk.to_box()?.to_string();
    Ok(base64(text.as_bytes()))
}

/// Standard base64 with padding (kept here so xtask needs no encoding crate).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Writes a new key pair into `dir`. The secret key is encrypted with a password unless
/// `throwaway` (the demo's and the tests' keys).
fn keygen(dir: &Path, throwaway: bool) -> Result<KeyPair> {
    refuse_checkout(dir)?;
    if dir.join(SECRET_KEY).exists() {
        bail!(
            "{} already exists: a new key would orphan every installed app",
            dir.join(SECRET_KEY).display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let keys = if throwaway {
        KeyPair::generate_unencrypted_keypair()?
    } else {
        match std::env::var(PASSWORD_ENV) {
            Ok(password) if !password.is_empty() => {
                KeyPair::generate_encrypted_keypair(Some(password))?
            }
            _ if std::io::stdin().is_terminal() => KeyPair::generate_encrypted_keypair(None)?,
            _ => bail!("set {PASSWORD_ENV}: a release key is always protected by a password"),
        }
    };
    let secret = keys
        .sk
        .to_box(Some("canopy release secret key"))?
        .to_string();
    write_private(&dir.join(SECRET_KEY), secret.as_bytes())?;
    std::fs::write(dir.join(PUBLIC_KEY), keys.pk.to_box()?.to_string())?;
    proc::step("Release key pair made");
    proc::info(&format!(
        "secret key: {} (keep it offline, never commit it)",
        dir.join(SECRET_KEY).display()
    ));
    proc::info(&format!(
        "the app's plugins.updater.pubkey: {}",
        config_pubkey(&keys.pk)?
    ));
    Ok(keys)
}

/// A secret key inside the checkout would be one `git add` away from being published.
fn refuse_checkout(dir: &Path) -> Result<()> {
    let dir = absolute(dir)?;
    let root = absolute(&paths::root())?;
    let target = absolute(&paths::target_dir())?;
    if dir.starts_with(&root) && !dir.starts_with(&target) {
        bail!(
            "{} is inside the checkout: keep release keys outside it",
            dir.display()
        );
    }
    Ok(())
}

fn absolute(path: &Path) -> Result<PathBuf> {
    Ok(std::path::absolute(path)?)
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes)?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("creating {}", path.display()))
}

fn read_public_key(dir: &Path) -> Result<PublicKey> {
    let path = dir.join(PUBLIC_KEY);
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok(PublicKeyBox::from_string(&text)?.into_public_key()?)
}

/// The key pair in `dir`: the secret key opened with `CANOPY_UPDATE_KEY_PASSWORD` (or a
/// prompt on a terminal); a key without password only in the target dir (the demo's).
fn load_keys(dir: &Path) -> Result<KeyPair> {
    let path = dir.join(SECRET_KEY);
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let sk_box = SecretKeyBox::from_string(&text)?;
    let sk = match SecretKey::from_unencrypted_box(sk_box.clone()) {
        Ok(sk) => {
            if !absolute(dir)?.starts_with(absolute(&paths::target_dir())?) {
                bail!(
                    "{} has no password: only the demo's throwaway key may",
                    path.display()
                );
            }
            sk
        }
        Err(_) => match std::env::var(PASSWORD_ENV) {
            Ok(password) => SecretKey::from_box(sk_box, Some(password))?,
            Err(_) if std::io::stdin().is_terminal() => SecretKey::from_box(sk_box, None)?,
            Err(_) => bail!("set {PASSWORD_ENV} to open {}", path.display()),
        },
    };
    let pk = read_public_key(dir)?;
    Ok(KeyPair { pk, sk })
}

/// The app's version, from `tauri.conf.json`.
fn app_version() -> Result<String> {
    let path = paths::root().join("tauri.conf.json");
    let conf: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path)?)
        .with_context(|| format!("reading {}", path.display()))?;
    conf["version"]
        .as_str()
        .map(str::to_owned)
        .context("tauri.conf.json has no version")
}

/// `[workspace.package] version` from the root `Cargo.toml`.
fn cargo_version() -> Result<Option<String>> {
    let text = std::fs::read_to_string(paths::root().join("Cargo.toml"))?;
    let mut in_package = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[workspace.package]";
        } else if in_package && let Some(value) = line.strip_prefix("version") {
            let value = value.trim_start().trim_start_matches('=').trim();
            return Ok(Some(value.trim_matches('"').to_owned()));
        }
    }
    Ok(None)
}

fn next_patch(version: &str) -> Result<String> {
    let mut v = semver::Version::parse(version)?;
    v.patch += 1;
    v.pre = semver::Prerelease::EMPTY;
    Ok(v.to_string())
}

/// A release never replaces a newer or equal one: installed apps would not take it, and
/// the same version with other bytes would be two different releases under one name.
fn refuse_older_than_published(out: &Path, version: &str) -> Result<()> {
    let Some(published) = read_manifest(out)? else {
        return Ok(());
    };
    if semver::Version::parse(&published.version)? >= semver::Version::parse(version)? {
        bail!(
            "{} already offers {}: release a higher version",
            out.display(),
            published.version
        );
    }
    Ok(())
}

fn read_manifest(out: &Path) -> Result<Option<Manifest>> {
    let path = out.join("latest.json");
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(
            serde_json::from_str(&text).with_context(|| format!("reading {}", path.display()))?,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Builds the UI and the app at `version` with `pk` in its updater config: the release
/// profile for a real release, the dev profile (fast) for the demo.
fn build_release(pk: &PublicKey, version: &str, demo: bool) -> Result<PathBuf> {
    build::build_ui()?;
    proc::step(&format!("Building Canopy {version} for release"));
    let profile = if demo { "dev" } else { "app-release" };
    let mut cargo = proc::cargo();
    cargo
        .args(["build", "--package", "canopy-app", "--profile", profile])
        .env("TAURI_CONFIG", tauri_config(pk, Some(version))?);
    proc::run(&mut cargo)?;
    let dir = if demo { "debug" } else { profile };
    let name = if cfg!(windows) {
        "canopy-app.exe"
    } else {
        "canopy-app"
    };
    Ok(paths::target_dir().join(dir).join(name))
}

/// The platform key the Tauri updater looks up: `{os}-{arch}`.
fn platform() -> String {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    format!("{os}-{}", std::env::consts::ARCH)
}

/// Copies the artifact into `out`, signs it (the trusted comment names the version, which
/// the app checks against the one announced), and writes `latest.json` last, atomically.
fn publish(keys: &KeyPair, artifact: &Path, out: &Path, version: &str, notes: &str) -> Result<()> {
    proc::step(&format!("Signing and publishing Canopy {version}"));
    std::fs::create_dir_all(out)?;
    let file = format!("canopy-app_{version}_{}", platform());
    let bytes =
        std::fs::read(artifact).with_context(|| format!("reading {}", artifact.display()))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let trusted = format!("timestamp:{now}\tfile:{file}\tversion:{version}");
    let signature = minisign::sign(
        Some(&keys.pk),
        &keys.sk,
        bytes.as_slice(),
        Some(&trusted),
        Some("signature from canopy release key"),
    )?;
    // Verified again before anything is published.
    minisign::verify(
        &keys.pk,
        &signature,
        std::io::Cursor::new(&bytes),
        true,
        false,
        false,
    )?;
    std::fs::write(out.join(&file), &bytes)?;
    std::fs::write(out.join(format!("{file}.sig")), signature.to_string())?;
    let manifest = Manifest {
        version: version.to_owned(),
        notes: notes.to_owned(),
        pub_date: rfc3339(now),
        platforms: BTreeMap::from([(platform(), ReleaseFile { file: file.clone() })]),
    };
    let tmp = out.join("latest.json.tmp");
    std::fs::write(&tmp, serde_json::to_string_pretty(&manifest)?)?;
    std::fs::rename(&tmp, out.join("latest.json"))?;
    proc::info(&format!(
        "{} ({} bytes) and its signature are in {}",
        file,
        bytes.len(),
        out.display()
    ));
    Ok(())
}

/// `YYYY-MM-DDTHH:MM:SSZ` from unix seconds (civil-from-days, Howard Hinnant's method).
fn rfc3339(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3_600,
        secs % 3_600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_dates_match_their_references() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_800_000_000), "2027-01-15T08:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn versions_only_go_up() {
        assert_eq!(next_patch("0.1.0").unwrap(), "0.1.1");
        assert_eq!(cargo_version().unwrap(), Some(app_version().unwrap()));
        let dir = tempfile_dir();
        let manifest = Manifest {
            version: "0.2.0".into(),
            notes: String::new(),
            pub_date: rfc3339(0),
            platforms: BTreeMap::new(),
        };
        std::fs::write(
            dir.join("latest.json"),
            serde_json::to_string(&manifest).unwrap(),
        )
        .unwrap();
        assert!(refuse_older_than_published(&dir, "0.2.0").is_err());
        assert!(refuse_older_than_published(&dir, "0.1.9").is_err());
        assert!(refuse_older_than_published(&dir, "0.2.1").is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_signature_verifies_as_the_updater_reads_it() {
        let keys = KeyPair::generate_unencrypted_keypair().unwrap();
        let artifact = b"\x7fELF canopy";
        let signature = minisign::sign(
            Some(&keys.pk),
            &keys.sk,
            &artifact[..],
            Some("timestamp:0\tfile:a\tversion:0.2.0"),
            None,
        )
        .unwrap();
        // The config holds base64 of the .pub text; the manifest base64 of the .sig text.
        let pubkey = config_pubkey(&keys.pk).unwrap();
        assert!(pubkey.starts_with("dW50cnVzdGVkIGNvbW1lbnQ6")); // "untrusted comment:"
        let again = minisign::SignatureBox::from_string(&signature.to_string()).unwrap();
        assert_eq!(
            again.trusted_comment().unwrap(),
            "timestamp:0\tfile:a\tversion:0.2.0"
        );
        minisign::verify(
            &keys.pk,
            &again,
            std::io::Cursor::new(&artifact[..]),
            true,
            false,
            false,
        )
        .unwrap();
        let tampered = std::io::Cursor::new(&b"\x7fELF canopz"[..]);
        assert!(minisign::verify(&keys.pk, &again, tampered, true, false, false).is_err());
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("canopy-release-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
