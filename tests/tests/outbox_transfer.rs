//! Moving the outbox to another device, in the real window: a distributor loses the
//! server, enrolls someone (pending), exports the pending items from the sync center
//! under a passphrase, and sees where the file went and how many items it holds; the file
//! is there, readable by its owner only. Importing it back on the same device adds
//! nothing (every item is already here), and a wrong passphrase is refused. Screenshots
//! at 1024×768.

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use canopy_core::Role;
use canopy_e2e::server::DemoServer;
use canopy_e2e::steps::{fits, set_value, sign_in};
use canopy_e2e::{AppWindow, scratch};

const PASSPHRASE: &str = "the rep's laptop died at the fair";

/// Scrolls the element matching `css` into view, for the screenshot.
async fn show(w: &AppWindow, css: &str) -> Result<()> {
    let element = w.find(css).await?;
    w.driver
        .execute(
            "arguments[0].scrollIntoView({ block: 'center' });",
            vec![element.to_json()?],
        )
        .await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    Ok(())
}

/// Scrolls the element matching `css` into view (the sync center is taller than the
/// window), then clicks it.
async fn click_shown(w: &AppWindow, css: &str) -> Result<()> {
    show(w, css).await?;
    w.click(css).await
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the real window: run through `cargo xtask e2e`"]
async fn pending_items_are_exported_to_an_encrypted_file() -> Result<()> {
    let mut server = DemoServer::start_fresh(&scratch("outbox-transfer-server")?)?;
    let p = server.provisioning()?;
    let who = p
        .demo_accounts
        .iter()
        .find(|a| a.role == Role::Distributor)
        .cloned()
        .context("the demo has no distributor")?;
    let window = AppWindow::open_with(&server.provisioning_path(), true).await?;
    let mut exported = None;
    let result = window
        .check("outbox-transfer", async |w| {
            let rect = w.driver.get_window_rect().await?;
            w.driver.set_window_rect(rect.x, rect.y, 1024, 768).await?;
            sign_in(w, &who, None).await?;
            // The first download done (the screens open only then).
            w.click("[data-testid=nav-sync]").await?;
            w.wait_until("the first sync", Duration::from_secs(120), async |w| {
                Ok(!w.has("[data-testid=first-sync]").await?
                    && w.has("[data-testid=sync-center]").await?
                    && w.text_of("[data-testid=sync-last-success]").await? != "Never")
            })
            .await?;

            // Offline: an enrollment is saved and pending.
            server.stop()?;
            w.click("[data-testid=nav-enroll]").await?;
            w.find("[data-testid=enroll]").await?;
            w.type_into("#enroll-legal-name", "Rita Feira Santos")
                .await?;
            w.type_into("#enroll-email", "rita.feira@example.pt")
                .await?;
            set_value(w, "#enroll-birth", "1992-03-08", "input").await?;
            w.type_into("#enroll-line1", "Avenida da Liberdade 3")
                .await?;
            w.type_into("#enroll-city", "Lisboa").await?;
            w.type_into("#enroll-postal", "1250-001").await?;
            set_value(w, "#enroll-country", "PT", "change").await?;
            w.click("[data-testid=enroll-consent]").await?;
            w.click("[data-testid=enroll-submit]").await?;
            w.find("[data-testid=enroll-saved]").await?;

            // The sync center: export, with the passphrase's rules checked first.
            w.click("[data-testid=nav-sync]").await?;
            w.find("[data-testid=outbox-export]").await?;
            w.type_into("#outbox-export-passphrase", "too short")
                .await?;
            w.type_into("#outbox-export-repeat", "too short").await?;
            click_shown(w, "[data-testid=outbox-export-submit]").await?;
            w.wait_for_text(
                "#outbox-export-passphrase-error",
                "Use at least 12 characters.",
            )
            .await?;
            w.type_into("#outbox-export-passphrase", PASSPHRASE).await?;
            w.type_into("#outbox-export-repeat", PASSPHRASE).await?;
            click_shown(w, "[data-testid=outbox-export-submit]").await?;
            w.find("[data-testid=outbox-export-done]").await?;
            let title = w
                .text_of("[data-testid=outbox-export-done] .callout-title")
                .await?;
            ensure!(title == "1 item exported", "the export says {title:?}");
            let path = w.text_of("[data-testid=outbox-export-path]").await?;
            let path = std::path::PathBuf::from(path);
            exported = Some(path.clone());
            let bytes = std::fs::read(&path)
                .with_context(|| format!("the export names {}", path.display()))?;
            ensure!(
                bytes.starts_with(b"age-encryption.org/v1\n"),
                "not an age file"
            );
            ensure!(
                !bytes.windows(4).any(|chunk| chunk == b"Rita"),
                "the enrollment is readable in the file"
            );
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(&path)?.permissions().mode() & 0o777;
                ensure!(mode == 0o600, "the file's mode is {mode:o}");
            }
            show(w, "[data-testid=outbox-export-done]").await?;
            w.screenshot("outbox-transfer-01-exported").await?;
            fits(w).await?;

            // Imported back here: found in the list, a wrong passphrase refused, then
            // nothing added (the item is already in this outbox).
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .context("the export's file name")?
                .to_owned();
            click_shown(w, "[data-testid=outbox-import-refresh]").await?;
            click_shown(
                w,
                &format!("[data-testid=outbox-import-file][value=\"{name}\"]"),
            )
            .await?;
            w.type_into("#outbox-import-passphrase", "not the passphrase at all")
                .await?;
            click_shown(w, "[data-testid=outbox-import-submit]").await?;
            w.wait_until(
                "the wrong passphrase refused",
                Duration::from_secs(30),
                async |w| {
                    Ok(w.driver
                        .execute(
                            "const c = document.querySelector('[data-testid=outbox-import]'); \
                         return c ? c.textContent : '';",
                            vec![],
                        )
                        .await?
                        .convert::<String>()?
                        .contains("The passphrase does not open this file"))
                },
            )
            .await?;
            w.type_into("#outbox-import-passphrase", PASSPHRASE).await?;
            click_shown(w, "[data-testid=outbox-import-submit]").await?;
            w.find("[data-testid=outbox-import-done]").await?;
            let done = w.text_of("[data-testid=outbox-import-done]").await?;
            ensure!(
                done.contains("0 items added") && done.contains("1 item already here"),
                "the import says {done:?}"
            );
            show(w, "[data-testid=outbox-import-done]").await?;
            w.screenshot("outbox-transfer-02-imported").await?;
            fits(w).await?;
            Ok(())
        })
        .await;
    // The file went to the user's real Downloads folder: not left behind.
    if let Some(path) = exported {
        let _ = std::fs::remove_file(path);
    }
    result
}
