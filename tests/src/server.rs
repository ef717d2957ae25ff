//! A `canopy-server demo` of a test's own, on a loopback port it keeps across restarts,
//! so a test can take the server away (the app goes offline) and bring it back.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use canopy_core::provisioning::Provisioning;

use crate::env;

/// A running (or stopped) demo server in `dir`.
pub struct DemoServer {
    binary: String,
    dir: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl DemoServer {
    /// A new demo company in a fresh `dir` (anything there before is removed), served on
    /// a free loopback port.
    pub fn start_fresh(dir: &Path) -> Result<Self> {
        if dir.exists() {
            std::fs::remove_dir_all(dir)
                .with_context(|| format!("cannot clear {}", dir.display()))?;
        }
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let port = TcpListener::bind(("127.0.0.1", 0))
            .and_then(|l| l.local_addr())
            .context("cannot find a free loopback port")?
            .port();
        let mut server = Self {
            binary: env("CANOPY_E2E_SERVER")?,
            dir: dir.to_owned(),
            port,
            child: None,
        };
        server.start()?;
        Ok(server)
    }

    /// The provisioning file the server wrote (its address, pins and demo accounts).
    pub fn provisioning_path(&self) -> PathBuf {
        self.dir.join("demo.json")
    }

    pub fn provisioning(&self) -> Result<Provisioning> {
        let path = self.provisioning_path();
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not a provisioning file", path.display()))
    }

    /// The server's SQLite database (a test may read it while the server runs).
    pub fn database(&self) -> PathBuf {
        self.dir.join("canopy.db")
    }

    /// Starts the server again on the same port, over the same database.
    pub fn start(&mut self) -> Result<()> {
        if self.child.is_some() {
            return Ok(());
        }
        let file = self.provisioning_path();
        if file.exists() {
            std::fs::remove_file(&file)
                .with_context(|| format!("cannot remove {}", file.display()))?;
        }
        let child = Command::new(&self.binary)
            .args([
                "demo",
                "--listen",
                &format!("127.0.0.1:{}", self.port),
                "--dir",
            ])
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", self.binary))?;
        self.child = Some(child);
        let started = Instant::now();
        while !file.is_file() {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                self.child = None;
                bail!("canopy-server demo exited before it was ready ({status})");
            }
            if started.elapsed() > Duration::from_secs(180) {
                bail!("canopy-server demo was not ready within 180 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }

    /// Takes the server away at once, as a lost network would.
    pub fn stop(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill().context("cannot stop canopy-server")?;
            child.wait().context("canopy-server did not stop")?;
        }
        Ok(())
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}
