//! Helpers for the end-to-end suites: open the real Canopy window through
//! tauri-driver (started by `cargo xtask e2e`), find elements, save screenshots.
//!
//! The suites read the variables that xtask sets: `CANOPY_E2E_APP` (the app
//! binary), `CANOPY_E2E_WEBDRIVER` (tauri-driver's URL), `CANOPY_E2E_OUT`
//! (where screenshots go), `CANOPY_E2E_PROVISIONING` (the shared demo server's
//! `demo.json`), `CANOPY_E2E_APP_PROVISIONING` and `CANOPY_E2E_APP_DATA` (the
//! provisioning file and the data folder the app is started with: each test
//! writes the one and clears the other before it opens the window),
//! `CANOPY_E2E_SERVER` (the `canopy-server` binary, for tests that run their
//! own server) and `CANOPY_E2E_SCRATCH` (a folder for such servers).

#[cfg(target_os = "linux")]
#[cfg(target_os = "linux")]
pub mod memory;
pub mod screen;
pub mod server;
pub mod steps;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use thirtyfour::prelude::*;

/// The demo server's provisioning file the app was started with.
pub fn demo_provisioning() -> Result<canopy_core::provisioning::Provisioning> {
    let path = env("CANOPY_E2E_PROVISIONING")?;
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    serde_json::from_str(&text).with_context(|| format!("{path} is not a provisioning file"))
}

/// How long a screen may take to show what a test waits for.
pub const SCREEN_TIMEOUT: Duration = Duration::from_secs(20);

/// One running app window under WebDriver. Call [`AppWindow::close`] at the end;
/// dropping it without closing leaves the app to tauri-driver's clean-up.
pub struct AppWindow {
    pub driver: WebDriver,
    out_dir: PathBuf,
}

/// The current code of the authenticator whose base32 `secret` is given, as a person
/// would read it off their phone.
pub fn totp_now(secret: &str) -> Result<String> {
    let bytes = data_encoding::BASE32_NOPAD
        .decode(secret.as_bytes())
        .context("the TOTP secret is not base32")?;
    let secret = canopy_server::auth::TotpSecret::from_bytes(&bytes)
        .map_err(|e| anyhow::anyhow!("a bad TOTP secret: {e}"))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    Ok(secret.code_at(now))
}

/// A folder under the suite's scratch space, for a test's own server.
pub fn scratch(name: &str) -> Result<PathBuf> {
    Ok(PathBuf::from(env("CANOPY_E2E_SCRATCH")?).join(name))
}

fn env(name: &str) -> Result<String> {
    std::env::var(name).with_context(|| {
        format!("{name} is not set: the end-to-end suite runs through `cargo xtask e2e`")
    })
}

impl AppWindow {
    /// Start the app, as on a new device, provisioned for the shared demo server.
    pub async fn open() -> Result<Self> {
        Self::open_with(Path::new(&env("CANOPY_E2E_PROVISIONING")?), true).await
    }

    /// Start the app provisioned by the file at `provisioning`; `fresh`: as on a new
    /// device (no cache), else over the cache the last window left.
    pub async fn open_with(provisioning: &Path, fresh: bool) -> Result<Self> {
        let target = PathBuf::from(env("CANOPY_E2E_APP_PROVISIONING")?);
        std::fs::copy(provisioning, &target).with_context(|| {
            format!(
                "cannot copy {} to {}",
                provisioning.display(),
                target.display()
            )
        })?;
        let data = PathBuf::from(env("CANOPY_E2E_APP_DATA")?);
        if fresh && data.exists() {
            std::fs::remove_dir_all(&data)
                .with_context(|| format!("cannot clear {}", data.display()))?;
        }
        Self::start().await
    }

    /// Start the app through tauri-driver and wait for its window.
    async fn start() -> Result<Self> {
        let app = env("CANOPY_E2E_APP")?;
        let webdriver = env("CANOPY_E2E_WEBDRIVER")?;
        let out_dir = PathBuf::from(env("CANOPY_E2E_OUT")?);
        std::fs::create_dir_all(&out_dir)
            .with_context(|| format!("cannot create {}", out_dir.display()))?;

        let mut caps = Capabilities::new();
        caps.set("browserName", "wry")?;
        caps.set("tauri:options", serde_json::json!({ "application": app }))?;
        let driver = WebDriver::new(&webdriver, caps)
            .await
            .with_context(|| format!("cannot start the app through tauri-driver at {webdriver}"))?;
        Ok(Self { driver, out_dir })
    }

    /// The first element matching `css`, waiting until it is shown.
    pub async fn find(&self, css: &str) -> Result<WebElement> {
        self.driver
            .query(By::Css(css))
            .wait(SCREEN_TIMEOUT, Duration::from_millis(100))
            .and_displayed()
            .first()
            .await
            .with_context(|| format!("nothing matching `{css}` appeared within {SCREEN_TIMEOUT:?}"))
    }

    /// Wait until the element matching `css` shows exactly `text`.
    pub async fn wait_for_text(&self, css: &str, text: &str) -> Result<WebElement> {
        let wanted = text.to_owned();
        self.driver
            .query(By::Css(css))
            .with_text(wanted)
            .wait(SCREEN_TIMEOUT, Duration::from_millis(100))
            .first()
            .await
            .with_context(|| format!("`{css}` did not show `{text}` within {SCREEN_TIMEOUT:?}"))
    }

    /// Type `text` into the input matching `css` (after clearing it).
    pub async fn type_into(&self, css: &str, text: &str) -> Result<()> {
        let input = self.find(css).await?;
        input
            .clear()
            .await
            .with_context(|| format!("cannot clear `{css}`"))?;
        input
            .send_keys(text)
            .await
            .with_context(|| format!("cannot type into `{css}`"))
    }

    /// Click the element matching `css` once it is shown.
    pub async fn click(&self, css: &str) -> Result<()> {
        self.find(css)
            .await?
            .click()
            .await
            .with_context(|| format!("cannot click `{css}`"))
    }

    /// The text of the element matching `css`, once it is shown.
    pub async fn text_of(&self, css: &str) -> Result<String> {
        Ok(self.find(css).await?.text().await?)
    }

    /// Whether anything matches `css` now (no waiting).
    pub async fn has(&self, css: &str) -> Result<bool> {
        Ok(!self.driver.find_all(By::Css(css)).await?.is_empty())
    }

    /// Waits until `ready` holds, asking every 200 ms, for at most `limit`.
    pub async fn wait_until<F>(&self, what: &str, limit: Duration, mut ready: F) -> Result<()>
    where
        F: AsyncFnMut(&Self) -> Result<bool>,
    {
        let start = std::time::Instant::now();
        loop {
            if ready(self).await? {
                return Ok(());
            }
            if start.elapsed() > limit {
                anyhow::bail!("{what}: not within {limit:?}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Save a PNG of the window, as shown on the display, as `<out>/<name>.png`.
    #[cfg(target_os = "linux")]
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let path = self.out_dir.join(format!("{name}.png"));
        let rect = self.driver.get_window_rect().await?;
        let area = screen::Area {
            x: rect.x,
            y: rect.y,
            width: rect.width,
            height: rect.height,
        };
        let target = path.clone();
        tokio::task::spawn_blocking(move || screen::capture(area, &target))
            .await
            .context("the screenshot task stopped")?
            .with_context(|| format!("cannot save a screenshot to {}", path.display()))?;
        Ok(path)
    }

    /// Save a PNG of the window's content as `<out>/<name>.png`.
    #[cfg(not(target_os = "linux"))]
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let path = self.out_dir.join(format!("{name}.png"));
        self.driver
            .screenshot(&path)
            .await
            .with_context(|| format!("cannot save a screenshot to {}", path.display()))?;
        Ok(path)
    }

    /// Keep what a person would need to see why a test failed: a screenshot
    /// and the page's HTML, as `<out>/failed-<name>.{png,html}`.
    pub async fn keep_evidence(&self, name: &str) {
        let _ = self.screenshot(&format!("failed-{name}")).await;
        if let Ok(html) = self.driver.source().await {
            let _ = std::fs::write(self.out_dir.join(format!("failed-{name}.html")), html);
        }
    }

    /// Run `test` against this window, keep evidence if it fails, and close
    /// the window either way.
    pub async fn check<F>(self, name: &str, test: F) -> Result<()>
    where
        F: AsyncFnOnce(&Self) -> Result<()>,
    {
        let result = test(&self).await;
        if result.is_err() {
            self.keep_evidence(name).await;
        }
        self.close().await?;
        result
    }

    pub async fn close(self) -> Result<()> {
        self.driver
            .quit()
            .await
            .context("cannot close the app window")
    }
}
