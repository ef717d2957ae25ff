//! Installs what the build and the tests need, each step printed: Debian's
//! packages for Tauri, the wasm32 target, and Trunk, wasm-bindgen, tauri-driver
//! and the SQLCipher 4 shell at pinned versions in a tools folder xtask owns.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::{paths, proc};

/// Trunk at a version that builds with the machine's Rust (0.22 needs a newer rustc).
pub const TRUNK_VERSION: &str = "0.21.14";
/// tauri-driver, the WebDriver server the end-to-end suite talks to.
pub const TAURI_DRIVER_VERSION: &str = "2.1.0";

/// What the setup is for: `Run` needs the build tools; `Test` also needs a
/// virtual display and the WebDriver tools.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Run,
    Test,
}

/// Debian/Ubuntu packages Tauri needs to build and run the app.
const TAURI_PACKAGES: &[&str] = &[
    "libwebkit2gtk-4.1-dev",
    "libsoup-3.0-dev",
    "libjavascriptcoregtk-4.1-dev",
    "librsvg2-dev",
    "libayatana-appindicator3-dev",
    "libssl-dev",
    "build-essential",
    "pkg-config",
];

/// Extra packages for the tests: a virtual X display, WebKit's
/// WebDriver, a font so the window renders text the same everywhere, and
/// curl, openssl and oathtool, peers made elsewhere that check the server's
/// TLS, its pins and its TOTP codes, and the sqlite3 shell, which must fail to
/// read the encrypted cache file.
const E2E_PACKAGES: &[&str] = &[
    "xvfb",
    "webkit2gtk-driver",
    "fonts-dejavu-core",
    "curl",
    "openssl",
    "oathtool",
    "sqlite3",
    // The reference minisign, a peer of the release signatures (src-tauri/tests/updates.rs).
    "minisign",
    // The server and sync suites run a second time on a throwaway PostgreSQL cluster.
    "postgresql",
];

/// The SQLCipher shell the cache tests use as a peer. Debian bookworm's own
/// `sqlcipher` is 3.4.1, which cannot read SQLCipher 4 files, so xtask unpacks
/// bookworm-backports' build into the tools folder instead of installing it.
pub const SQLCIPHER_VERSION: &str = "4.6.1";

/// The two packages of bookworm-backports' SQLCipher shell, with their SHA-256.
const SQLCIPHER_DEBS: &[(&str, &str)] = &[
    (
        "http://deb.debian.org/debian/pool/main/s/sqlcipher/libsqlcipher1_4.6.1-2~bpo12+1_amd64.deb",
        "e8717c531e941902ffe5833486fcb53b999427dc44f2b9d8554ba330cb63221e",
    ),
    (
        "http://deb.debian.org/debian/pool/main/s/sqlcipher/sqlcipher_4.6.1-2~bpo12+1_amd64.deb",
        "ea713577822a418d1b410e50d8819aa7debadb8d270af61307e21cc96223a5ae",
    ),
];

/// What those packages depend on (their `Depends:` besides each other): the
/// unpacked shell needs them from the system.
const SQLCIPHER_RUNTIME_PACKAGES: &[&str] = &["libssl3", "libreadline8", "zlib1g"];

pub fn ensure(purpose: Purpose) -> Result<()> {
    system_packages(purpose)?;
    wasm_target()?;
    std::fs::create_dir_all(paths::tools_dir())
        .with_context(|| format!("cannot create {}", paths::tools_dir().display()))?;
    cargo_tool(
        "trunk",
        TRUNK_VERSION,
        &["--no-default-features", "--features", "rustls"],
    )?;
    let bindgen = wasm_bindgen_version()?;
    cargo_tool("wasm-bindgen-cli", &bindgen, &[])?;
    if purpose == Purpose::Test && cfg!(target_os = "linux") {
        cargo_tool("tauri-driver", TAURI_DRIVER_VERSION, &[])?;
    }
    if purpose == Purpose::Test {
        sqlcipher_shell()?;
    }
    Ok(())
}

/// Whether this machine takes bookworm-backports' SQLCipher packages as they are.
fn wants_sqlcipher_debs() -> bool {
    cfg!(all(target_os = "linux", target_arch = "x86_64")) && is_debian_like()
}

fn system_packages(purpose: Purpose) -> Result<()> {
    proc::step("System libraries for Tauri");
    if cfg!(target_os = "macos") {
        proc::info(
            "macOS: install Xcode's command line tools (`xcode-select --install`); nothing else is needed.",
        );
        return Ok(());
    }
    if cfg!(windows) {
        proc::info(
            "Windows: install the Visual Studio C++ build tools and the WebView2 runtime (preinstalled on Windows 11).",
        );
        return Ok(());
    }
    let mut wanted: Vec<&str> = TAURI_PACKAGES.to_vec();
    if purpose == Purpose::Test {
        wanted.extend_from_slice(E2E_PACKAGES);
        if wants_sqlcipher_debs() {
            wanted.extend_from_slice(SQLCIPHER_RUNTIME_PACKAGES);
        }
    }
    if !is_debian_like() {
        proc::info(&format!(
            "Not a Debian/Ubuntu system: install the equivalents of these packages yourself: {}",
            wanted.join(" ")
        ));
        return Ok(());
    }
    let missing: Vec<&str> = wanted.into_iter().filter(|p| !dpkg_installed(p)).collect();
    if missing.is_empty() {
        proc::info("all present");
        return Ok(());
    }
    let install = format!(
        "apt-get install -y --no-install-recommends {}",
        missing.join(" ")
    );
    proc::info(&format!("missing: {}", missing.join(" ")));
    let prefix: Option<&[&str]> = if is_root() {
        Some(&[])
    } else if has_passwordless_sudo() {
        Some(&["sudo", "-n"])
    } else {
        None
    };
    let Some(prefix) = prefix else {
        bail!(
            "these packages are missing and xtask is not root and has no password-less sudo.\n\
             Install them with:\n    sudo apt-get update && sudo {install}"
        );
    };
    for args in [
        vec!["apt-get", "update"],
        install.split(' ').collect::<Vec<_>>(),
    ] {
        let mut argv: Vec<&str> = prefix.to_vec();
        argv.extend(args);
        let mut cmd = proc::command(argv[0]);
        cmd.args(&argv[1..])
            .env("DEBIAN_FRONTEND", "noninteractive");
        proc::run(&mut cmd)?;
    }
    Ok(())
}

fn is_debian_like() -> bool {
    let Ok(release) = std::fs::read_to_string("/etc/os-release") else {
        return false;
    };
    release.lines().any(|line| {
        (line.starts_with("ID=") || line.starts_with("ID_LIKE="))
            && (line.contains("debian") || line.contains("ubuntu"))
    }) && proc::on_path("dpkg-query")
}

fn dpkg_installed(package: &str) -> bool {
    proc::output_of("dpkg-query", &["-W", "-f=${Status}", package])
        .is_some_and(|status| status.contains("install ok installed"))
}

fn is_root() -> bool {
    proc::output_of("id", &["-u"]).is_some_and(|uid| uid.trim() == "0")
}

fn has_passwordless_sudo() -> bool {
    proc::output_of("sudo", &["-n", "true"]).is_some()
}

fn wasm_target() -> Result<()> {
    proc::step("Rust target wasm32-unknown-unknown (the UI compiles to WebAssembly)");
    let installed =
        proc::output_of("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if installed
        .lines()
        .any(|t| t.trim() == "wasm32-unknown-unknown")
    {
        proc::info("present");
        return Ok(());
    }
    proc::run(proc::command("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

/// The wasm-bindgen version in Cargo.lock: the CLI must match it exactly.
pub fn wasm_bindgen_version() -> Result<String> {
    let lock = std::fs::read_to_string(paths::root().join("Cargo.lock"))
        .context("cannot read Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\""
            && let Some(version) = lines.next()
            && let Some(v) = version.trim().strip_prefix("version = \"")
        {
            return Ok(v.trim_end_matches('"').to_owned());
        }
    }
    bail!("Cargo.lock has no wasm-bindgen package; is src-ui part of the workspace?")
}

/// Install `krate@version` into the tools folder unless it is there already.
/// Cargo records what it installed in `.crates2.json`; that is the check.
fn cargo_tool(krate: &str, version: &str, extra: &[&str]) -> Result<()> {
    proc::step(&format!(
        "{krate} {version} (in {})",
        paths::tools_dir().display()
    ));
    if installed_version(&paths::tools_dir(), krate).as_deref() == Some(version) {
        proc::info("present");
        return Ok(());
    }
    let spec = format!("{krate}@{version}");
    let root = paths::tools_dir();
    let root = root.to_string_lossy();
    let mut locked = proc::cargo();
    locked
        .args(["install", "--root", &root, "--locked", &spec])
        .args(extra)
        .env_remove("CARGO_TARGET_DIR");
    if proc::run(&mut locked).is_ok() {
        return Ok(());
    }
    // A locked dependency can be missing from the registry mirror; the
    // crate's own semver ranges still resolve to a working set.
    proc::info("the locked install failed; trying again with the newest compatible dependencies");
    let mut unlocked = proc::cargo();
    unlocked
        .args(["install", "--root", &root, &spec])
        .args(extra)
        .env_remove("CARGO_TARGET_DIR");
    proc::run(&mut unlocked)
}

fn installed_version(root: &Path, krate: &str) -> Option<String> {
    let text = std::fs::read_to_string(root.join(".crates2.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    let installs = json.get("installs")?.as_object()?;
    installs.keys().find_map(|key| {
        let mut parts = key.split(' ');
        (parts.next()? == krate).then(|| parts.next().map(str::to_owned))?
    })
}

/// Where the SQLCipher packages are unpacked.
fn sqlcipher_dir() -> PathBuf {
    paths::tools_dir().join(format!("sqlcipher-{SQLCIPHER_VERSION}"))
}

/// Unpacks bookworm-backports' SQLCipher shell into the tools folder (once;
/// the folder only appears complete, by a rename) and puts a `sqlcipher`
/// wrapper on the tools PATH that finds its library there.
fn sqlcipher_shell() -> Result<()> {
    proc::step(&format!(
        "SQLCipher {SQLCIPHER_VERSION} shell (bookworm-backports, in {})",
        sqlcipher_dir().display()
    ));
    if !wants_sqlcipher_debs() {
        proc::info(&format!(
            "Not Debian/Ubuntu on x86_64: install SQLCipher {SQLCIPHER_VERSION}'s `sqlcipher` shell \
             yourself (e.g. `brew install sqlcipher`), or point CANOPY_SQLCIPHER at one; \
             the cache tests need it."
        ));
        return Ok(());
    }
    let dir = sqlcipher_dir();
    let binary = dir.join("usr/bin/sqlcipher");
    let lib = dir.join("usr/lib/x86_64-linux-gnu");
    if binary.is_file() && lib.join("libsqlcipher.so.1").exists() {
        proc::info("present");
    } else {
        unpack_sqlcipher(&dir)?;
    }
    write_sqlcipher_wrapper(&binary, &lib)?;
    let wrapper = paths::tools_bin().join("sqlcipher");
    let version =
        proc::output_of(&wrapper.to_string_lossy(), &["-version"]).with_context(|| {
            format!(
                "{} does not run; it needs these packages: {}",
                wrapper.display(),
                SQLCIPHER_RUNTIME_PACKAGES.join(" ")
            )
        })?;
    if !version.contains(&format!("SQLCipher {SQLCIPHER_VERSION}")) {
        bail!(
            "{} reports `{}`, not SQLCipher {SQLCIPHER_VERSION}",
            wrapper.display(),
            version.trim()
        );
    }
    proc::info(&format!("sqlcipher -version: {}", version.trim()));
    Ok(())
}

/// Downloads the packages into a temp folder beside `dir`, checks their
/// SHA-256, unpacks them and renames the result to `dir`.
fn unpack_sqlcipher(dir: &Path) -> Result<()> {
    let tmp = paths::tools_dir().join(format!(".sqlcipher-{SQLCIPHER_VERSION}.tmp"));
    // Whatever an interrupted earlier run left is started over.
    for leftover in [tmp.as_path(), dir] {
        if leftover.exists() {
            std::fs::remove_dir_all(leftover)
                .with_context(|| format!("cannot remove {}", leftover.display()))?;
        }
    }
    let root = tmp.join("root");
    std::fs::create_dir_all(&root).with_context(|| format!("cannot create {}", root.display()))?;
    for (url, sha256) in SQLCIPHER_DEBS {
        let name = url.rsplit('/').next().unwrap_or(url);
        let deb = tmp.join(name);
        let deb_text = deb.to_string_lossy();
        proc::run(proc::command("curl").args(["-fsSL", "-o", &deb_text, url]))?;
        let found = proc::output_of("sha256sum", &[&deb_text])
            .and_then(|out| out.split_whitespace().next().map(str::to_owned))
            .with_context(|| format!("cannot compute the SHA-256 of {}", deb.display()))?;
        if found != *sha256 {
            bail!(
                "checksum mismatch for {url}:\n    expected {sha256}\n    got      {found}\n\
                 The download is not the package xtask pins; nothing was installed. \
                 Delete {} and try again, or report it if it persists.",
                tmp.display()
            );
        }
        proc::info(&format!("{name}: SHA-256 ok"));
        proc::run(proc::command("dpkg-deb").arg("-x").arg(&deb).arg(&root))?;
    }
    std::fs::rename(&root, dir)
        .with_context(|| format!("cannot move {} to {}", root.display(), dir.display()))?;
    std::fs::remove_dir_all(&tmp).with_context(|| format!("cannot remove {}", tmp.display()))?;
    Ok(())
}

/// `tools/bin/sqlcipher`: runs the unpacked shell with its own library.
fn write_sqlcipher_wrapper(binary: &Path, lib: &Path) -> Result<()> {
    let bin = paths::tools_bin();
    std::fs::create_dir_all(&bin).with_context(|| format!("cannot create {}", bin.display()))?;
    let wrapper = bin.join("sqlcipher");
    let script = format!(
        "#!/bin/sh\n# Written by `cargo xtask setup`: SQLCipher {SQLCIPHER_VERSION} from bookworm-backports.\n\
         LD_LIBRARY_PATH='{}' exec '{}' \"$@\"\n",
        lib.display(),
        binary.display()
    );
    if std::fs::read_to_string(&wrapper).ok().as_deref() != Some(script.as_str()) {
        std::fs::write(&wrapper, &script)
            .with_context(|| format!("cannot write {}", wrapper.display()))?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("cannot make {} executable", wrapper.display()))?;
    }
    Ok(())
}
