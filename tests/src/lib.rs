//! Helpers for the end-to-end suites: open the real Canopy window through
//! tauri-driver (started by `cargo xtask e2e`), find elements, save screenshots.
//!
//! The suites read the variables that xtask sets: `CANOPY_E2E_APP` (the app
//! binary), `CANOPY_E2E_WEBDRIVER` (tauri-driver's URL), `CANOPY_E2E_OUT`
//! (where screenshots go) and `CANOPY_E2E_PROVISIONING` (the demo server's
//! `demo.json`, which the app was started with).

#[cfg(target_os = "linux")]
pub mod screen;

use std::path::PathBuf;
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

fn env(name: &str) -> Result<String> {
    std::env::var(name).with_context(|| {
        format!("{name} is not set: the end-to-end suite runs through `cargo xtask e2e`")
    })
}

impl AppWindow {
    /// Start the app through tauri-driver and wait for its window.
    pub async fn open() -> Result<Self> {
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
