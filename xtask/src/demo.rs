//! The embedded demo server for `run` and the end-to-end suite: builds
//! `canopy-server`, starts `canopy-server demo` on a free loopback port and
//! waits for the provisioning file it writes.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use canopy_core::provisioning::Provisioning;

use crate::proc::Guard;
use crate::{paths, proc};

/// A running demo server; stopped when dropped.
pub struct DemoServer {
    /// `demo.json`: the server's URL, its pins and its CA, for the app.
    pub provisioning: PathBuf,
    _process: Guard,
}

/// Build and start the demo server with its files in `dir`.
pub fn start(dir: &Path) -> Result<DemoServer> {
    proc::step("Starting the demo server (canopy-server demo)");
    proc::run(proc::cargo().args(["build", "--package", "canopy-server"]))?;
    // The first run seeds the demo company and hashes three passwords first.
    start_with(&server_binary(), dir, &[], Duration::from_secs(120))
}

/// Starts `binary demo` with its files in `dir` and `extra` arguments, waiting up to
/// `ready` for its provisioning file.
pub fn start_with(
    binary: &Path,
    dir: &Path,
    extra: &[&str],
    ready: Duration,
) -> Result<DemoServer> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let provisioning = dir.join("demo.json");
    // The server rewrites it once it listens, with the port it got.
    if provisioning.exists() {
        std::fs::remove_file(&provisioning)
            .with_context(|| format!("cannot remove the old {}", provisioning.display()))?;
    }
    let mut cmd = proc::command(&binary.to_string_lossy());
    cmd.args(["demo", "--listen", "127.0.0.1:0", "--dir"])
        .arg(dir)
        .args(extra)
        .stdout(Stdio::null());
    proc::info(&format!(
        "$ {} demo --listen 127.0.0.1:0 --dir {} {}",
        binary.display(),
        dir.display(),
        extra.join(" ")
    ));
    let mut process = Guard(cmd.spawn().context("cannot start canopy-server")?);
    let start = Instant::now();
    while !provisioning.is_file() {
        if let Some(status) = process.0.try_wait()? {
            bail!("canopy-server demo exited before it was ready ({status})");
        }
        if start.elapsed() > ready {
            bail!(
                "canopy-server demo did not write {} within {} s",
                provisioning.display(),
                ready.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(DemoServer {
        provisioning,
        _process: process,
    })
}

/// The debug `canopy-server` binary `start` builds.
pub fn server_binary() -> PathBuf {
    let name = if cfg!(windows) {
        "canopy-server.exe"
    } else {
        "canopy-server"
    };
    paths::target_dir().join("debug").join(name)
}

/// Where `run` keeps the demo's CA, keys and provisioning file between runs,
/// so the pins a person may have noted stay the same.
pub fn dir() -> PathBuf {
    paths::cache_dir().join("demo")
}

/// Print what a person needs to try the demo.
pub fn print_details(server: &DemoServer) -> Result<()> {
    let text = std::fs::read_to_string(&server.provisioning)
        .with_context(|| format!("cannot read {}", server.provisioning.display()))?;
    let file: Provisioning = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a provisioning file",
            server.provisioning.display()
        )
    })?;
    proc::info(&format!("company:   {}", file.company));
    proc::info(&format!("server:    {}", file.server_url));
    for (index, pin) in file.pins.iter().enumerate() {
        let role = if index == 0 { "current" } else { "backup" };
        proc::info(&format!("pin ({role}): {pin}"));
    }
    proc::info(&format!(
        "provisioning file: {}",
        server.provisioning.display()
    ));
    for account in &file.demo_accounts {
        proc::info(&format!(
            "{:<12} {}  password {}  TOTP secret {}",
            account.role.to_string(),
            account.email,
            account.password,
            account.totp_secret
        ));
    }
    if file.demo_accounts.is_empty() {
        proc::info("no demo accounts in the provisioning file");
    } else {
        proc::info("current sign-in code: oathtool --totp -b <TOTP secret>");
    }
    Ok(())
}
