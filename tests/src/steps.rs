//! Steps the window suites share: finding a demo account, signing in from the sign-in
//! screen to the open app, and checking a screen fits the smallest window.

use anyhow::{Context, Result, ensure};
use canopy_core::Role;
use canopy_core::provisioning::{DemoAccount, Provisioning};

use crate::{AppWindow, totp_now};

/// The device password the walk chooses.
pub const DEVICE_PASSWORD: &str = "correct horse battery staple";

pub fn account(p: &Provisioning, role: Role) -> Result<DemoAccount> {
    p.demo_accounts
        .iter()
        .find(|a| a.role == role)
        .cloned()
        .with_context(|| format!("the demo has no {role:?} account"))
}

/// Password, code, device password: from the sign-in screen to the open app.
pub async fn sign_in(w: &AppWindow, who: &DemoAccount, shots: Option<&str>) -> Result<()> {
    w.find("[data-testid=sign-in]").await?;
    w.type_into("#sign-in-email", &who.email).await?;
    w.type_into("#sign-in-password", &who.password).await?;
    if let Some(prefix) = shots {
        w.screenshot(&format!("{prefix}-01-sign-in")).await?;
    }
    w.click("[data-testid=sign-in-submit]").await?;
    w.find("[data-testid=code]").await?;
    w.type_into("#code-input", &totp_now(&who.totp_secret)?)
        .await?;
    if let Some(prefix) = shots {
        w.screenshot(&format!("{prefix}-02-code")).await?;
    }
    w.click("[data-testid=code-submit]").await?;
    w.find("[data-testid=local-password]").await?;
    w.type_into("#local-password", DEVICE_PASSWORD).await?;
    w.type_into("#local-password-repeat", DEVICE_PASSWORD)
        .await?;
    if let Some(prefix) = shots {
        w.screenshot(&format!("{prefix}-03-device-password"))
            .await?;
    }
    w.click("[data-testid=local-password-submit]").await?;
    w.find("[data-testid=sidebar]").await?;
    Ok(())
}

/// The smallest window Canopy is designed for: neither the window nor the scrolling
/// content area may spill sideways (a wide table scrolls inside its own box).
pub async fn fits(w: &AppWindow) -> Result<()> {
    let spill = w
        .driver
        .execute(
            "const c = document.querySelector('.content'); \
             return Math.max(document.documentElement.scrollWidth - window.innerWidth, \
                             c ? c.scrollWidth - c.clientWidth : 0);",
            vec![],
        )
        .await?
        .convert::<i64>()?;
    ensure!(spill <= 0, "at 1024×768 the screen is {spill} px too wide");
    Ok(())
}

/// Sets an input's value as a picker would (date and select inputs), firing the events
/// the UI listens to.
pub async fn set_value(w: &AppWindow, css: &str, value: &str, event: &str) -> Result<()> {
    let element = w.find(css).await?;
    w.driver
        .execute(
            "arguments[0].value = arguments[1]; \
             arguments[0].dispatchEvent(new Event(arguments[2], { bubbles: true }));",
            vec![
                element.to_json()?,
                serde_json::json!(value),
                serde_json::json!(event),
            ],
        )
        .await?;
    Ok(())
}
