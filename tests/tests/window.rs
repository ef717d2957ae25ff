//! The first end-to-end suite: the real Canopy window starts, shows its
//! version from the `app_info` command, and enforces its hardening.
//! Run with `cargo xtask e2e` (it starts Xvfb and tauri-driver).

use anyhow::{Context, Result, ensure};
use canopy_e2e::AppWindow;
use thirtyfour::By;

/// The window shows the signed-out screen and the version the shell reports.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the real window: run through `cargo xtask e2e`"]
async fn window_shows_version_and_signed_out_screen() -> Result<()> {
    let window = AppWindow::open().await?;
    window
        .check("signed-out", async |window| {
            let expected = format!("Canopy {}", env!("CARGO_PKG_VERSION"));
            window
                .wait_for_text("[data-testid=app-version]", &expected)
                .await?;
            let status = window
                .find("[data-testid=session-status]")
                .await?
                .text()
                .await?;
            ensure!(
                status == "Not signed in",
                "the session status reads {status:?}"
            );
            let heading = window
                .find("[data-testid=signed-out] h1")
                .await?
                .text()
                .await?;
            ensure!(
                heading == "Welcome to Canopy",
                "the heading reads {heading:?}"
            );
            let title = window.driver.title().await?;
            ensure!(title == "Canopy", "the window title is {title:?}");
            shows_the_company_server(window).await?;
            ensure!(
                window
                    .driver
                    .find_all(By::Css("[data-testid=sidebar]"))
                    .await?
                    .is_empty(),
                "the signed-out screen shows a navigation sidebar"
            );
            // The theme follows the system's: name the screenshot after it.
            let dark = window
                .driver
                .execute(
                    "return window.matchMedia('(prefers-color-scheme: dark)').matches;",
                    vec![],
                )
                .await?
                .convert::<bool>()?;
            let theme = if dark { "dark" } else { "light" };
            saved_screenshot(window, &format!("signed-out-{theme}")).await?;
            // The smallest screen Canopy is designed for: nothing may spill sideways.
            let rect = window.driver.get_window_rect().await?;
            window
                .driver
                .set_window_rect(rect.x, rect.y, 1024, 768)
                .await?;
            let spill = window
                .driver
                .execute(
                    "return document.documentElement.scrollWidth - window.innerWidth;",
                    vec![],
                )
                .await?
                .convert::<i64>()?;
            ensure!(spill <= 0, "at 1024×768 the page is {spill} px too wide");
            saved_screenshot(window, &format!("signed-out-{theme}-1024x768")).await?;
            Ok(())
        })
        .await
}

/// The window may call the app's own listed commands only: a core command it
/// was not granted is refused, and `eval` is blocked by the CSP.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the real window: run through `cargo xtask e2e`"]
async fn window_is_locked_down() -> Result<()> {
    let window = AppWindow::open().await?;
    window
        .check("locked-down", async |window| {
            window.find("[data-testid=app-version]").await?;
            let allowed = invoke_outcome(window, "app_info").await?;
            ensure!(
                allowed.starts_with("ok:"),
                "app_info was refused: {allowed}"
            );
            let refused = invoke_outcome(window, "plugin:app|version").await?;
            ensure!(
                refused.starts_with("error:"),
                "a core command the window was not granted ran: {refused}"
            );
            let eval = window
                .driver
                .execute(
                    "try { return 'ran ' + window.eval('6 * 7'); } catch (e) { return 'blocked'; }",
                    vec![],
                )
                .await?
                .convert::<String>()?;
            ensure!(eval == "blocked", "eval was not blocked by the CSP: {eval}");
            Ok(())
        })
        .await
}

/// The provisioning card shows the demo server's company, address and pins,
/// the current key first, so the person can check them.
async fn shows_the_company_server(window: &AppWindow) -> Result<()> {
    let expected = canopy_e2e::demo_provisioning()?;
    window
        .wait_for_text("[data-testid=company]", &expected.company)
        .await?;
    window
        .wait_for_text("[data-testid=server-url]", &expected.server_url)
        .await?;
    let mut shown = Vec::new();
    for row in window
        .driver
        .find_all(By::Css("[data-testid=provisioning] .pin-row"))
        .await?
    {
        let pin = row.find(By::Css(".pin")).await?.text().await?;
        let role = row.find(By::Css(".badge")).await?.text().await?;
        shown.push(format!("{pin} ({role})"));
    }
    let wanted: Vec<String> = expected
        .pins
        .iter()
        .enumerate()
        .map(|(index, pin)| {
            let role = if index == 0 { "Current" } else { "Backup" };
            format!("{pin} ({role})")
        })
        .collect();
    ensure!(
        shown == wanted,
        "the key fingerprints read {shown:?}, not {wanted:?}"
    );
    Ok(())
}

/// Save a screenshot and check it holds a picture, not an empty window.
async fn saved_screenshot(window: &AppWindow, name: &str) -> Result<()> {
    let shot = window.screenshot(name).await?;
    let size = std::fs::metadata(&shot)?.len();
    ensure!(
        size > 10_000,
        "the screenshot {} is only {size} bytes",
        shot.display()
    );
    Ok(())
}

/// Call a command from inside the page; `ok:<json>` or `error:<text>`.
async fn invoke_outcome(window: &AppWindow, command: &str) -> Result<String> {
    let script = "const [cmd, done] = arguments; \
                  window.__TAURI__.core.invoke(cmd) \
                    .then(v => done('ok:' + JSON.stringify(v))) \
                    .catch(e => done('error:' + String(e)));";
    window
        .driver
        .execute_async(script, vec![serde_json::json!(command)])
        .await
        .with_context(|| format!("could not call {command} from the page"))?
        .convert::<String>()
        .context("the page answered with something other than text")
}
