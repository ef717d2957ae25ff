//! GDPR in the real window (SECURITY.md #23), against a `canopy-server demo` of the test's
//! own: a distributor downloads their data from the security center (the file is read back
//! and is the server's document about them) and asks for erasure; the admin, on another
//! device, finds the request among the alerts and erases the member, and the server then
//! holds the member pseudonymised, with the orders still there. Each step saves a
//! screenshot.

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use canopy_core::{MemberStatus, Role};
use canopy_e2e::server::DemoServer;
use canopy_e2e::steps::{account, fits, sign_in};
use canopy_e2e::{AppWindow, scratch, totp_now};

/// How long a server call behind a button may take.
const SERVER_WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the real window: run through `cargo xtask e2e`"]
async fn a_distributor_downloads_their_data_and_an_admin_erases_them() -> Result<()> {
    let server = DemoServer::start_fresh(&scratch("privacy-server")?)?;
    let p = server.provisioning()?;
    let distributor = account(&p, Role::Distributor)?;
    let admin = account(&p, Role::Admin)?;
    let storage =
        canopy_server::storage::open(&format!("sqlite://{}", server.database().display())).await?;
    let member = storage
        .find_account_by_email(&distributor.email)
        .await?
        .and_then(|a| a.member)
        .context("the demo distributor has a member record")?;
    let orders = storage.orders_of(member).await?;

    let window = AppWindow::open_with(&server.provisioning_path(), true).await?;
    let email = distributor.email.clone();
    window
        .check("privacy", async |w| {
            let rect = w.driver.get_window_rect().await?;
            w.driver.set_window_rect(rect.x, rect.y, 1024, 768).await?;
            sign_in(w, &distributor, None).await?;
            w.click("[data-testid=nav-security]").await?;
            w.find("[data-testid=privacy]").await?;
            w.wait_until("the server's part of the page", SERVER_WAIT, async |w| {
                Ok(!w
                    .has("[data-testid=privacy] [data-testid=needs-server]")
                    .await?)
            })
            .await?;

            // The download: the path shown is a file holding the server's document.
            w.click("[data-testid=export-my-data]").await?;
            w.find("[data-testid=export-my-data-done]").await?;
            let path = w.text_of("[data-testid=export-my-data-path]").await?;
            let document: serde_json::Value = serde_json::from_slice(
                &std::fs::read(&path).with_context(|| format!("the export at {path}"))?,
            )?;
            ensure!(
                document["format"] == "canopy-personal-data",
                "{path} is not a data export"
            );
            ensure!(
                document["account"]["email"] == email.as_str(),
                "the export is not the distributor's"
            );
            ensure!(
                document["orders"].as_array().map(Vec::len) == Some(orders.len()),
                "the export's orders are not the server's"
            );
            // It holds personal data: not left behind on the test machine.
            std::fs::remove_file(&path)?;
            w.find("[data-testid=privacy]")
                .await?
                .scroll_into_view()
                .await?;
            w.screenshot("privacy-01-export").await?;
            fits(w).await?;

            // The request, confirmed first.
            w.click("[data-testid=erasure-request]").await?;
            w.find("[data-testid=erasure-request-confirm]").await?;
            w.screenshot("privacy-02-confirm").await?;
            w.click("[data-testid=erasure-request-confirm]").await?;
            w.find("[data-testid=erasure-requested]").await?;
            w.screenshot("privacy-03-requested").await?;

            // The updates card beside it: this demo build carries no update key, so it
            // says updates are not available rather than offering anything.
            w.find("[data-testid=updates-check]")
                .await?
                .scroll_into_view()
                .await?;
            w.click("[data-testid=updates-check]").await?;
            w.wait_until("the update check's answer", SERVER_WAIT, async |w| {
                Ok(w.has("[data-testid=updates-unavailable]").await?
                    || w.has("[data-testid=updates-up-to-date]").await?)
            })
            .await?;
            w.screenshot("privacy-04-updates").await?;
            Ok(())
        })
        .await?;

    let window = AppWindow::open_with(&server.provisioning_path(), true).await?;
    window
        .check("privacy-admin", async |w| {
            let rect = w.driver.get_window_rect().await?;
            w.driver.set_window_rect(rect.x, rect.y, 1024, 768).await?;
            sign_in(w, &admin, None).await?;
            w.click("[data-testid=nav-admin]").await?;
            w.click("[data-testid=admin-tab-alerts]").await?;
            let request = "[data-testid=alert-row][data-kind=gdpr_erasure_request]";
            w.find(request).await?;
            w.find(&format!("{request} [data-testid=admin-alert-erase]"))
                .await?
                .scroll_into_view()
                .await?;
            w.screenshot("privacy-05-admin-request").await?;
            w.click(&format!("{request} [data-testid=admin-alert-erase]"))
                .await?;
            w.type_into("#admin-step-up-code", &totp_now(&admin.totp_secret)?)
                .await?;
            w.screenshot("privacy-06-admin-confirm").await?;
            w.click("[data-testid=admin-confirm]").await?;
            let notice = w.find("[data-testid=admin-notice]").await?.text().await?;
            ensure!(notice.contains("is erased"), "the admin was told: {notice}");
            w.screenshot("privacy-07-admin-erased").await?;
            fits(w).await?;
            Ok(())
        })
        .await?;

    let erased = storage
        .find_member(member)
        .await?
        .context("the member's node stays")?;
    ensure!(erased.status == MemberStatus::Erased, "{:?}", erased.status);
    ensure!(
        storage.find_member_personal(member).await?.is_none(),
        "the member's personal details are still on the server"
    );
    ensure!(
        storage.orders_of(member).await? == orders,
        "the orders changed"
    );
    ensure!(
        storage
            .find_account_by_email(&distributor.email)
            .await?
            .is_none(),
        "the distributor's email still finds an account"
    );
    Ok(())
}
