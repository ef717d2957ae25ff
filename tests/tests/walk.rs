//! The walk through the product a distributor takes, in the real window against a real
//! `canopy-server demo` of the test's own: sign in with the password and a code computed
//! here from the demo account's secret, choose the device's password, read the
//! dashboard, search the downline and open a member, lock and unlock (button and
//! shortcut), lose the server and enroll someone offline (pending), get the server back
//! and see the enrollment applied and the new member in the genealogy. Then a manager
//! sees the team views a distributor does not, and a server whose key does not match
//! the pins gets a security warning, not a sign-in. Each step saves a screenshot.

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use canopy_core::provisioning::Provisioning;
use canopy_core::{Period, Role};
use canopy_e2e::server::DemoServer;
use canopy_e2e::steps::{DEVICE_PASSWORD, account, fits, set_value, sign_in};
use canopy_e2e::{AppWindow, scratch};
use thirtyfour::Key;

/// How long the sync may take to deliver something after the server is back.
const SYNC_WAIT: Duration = Duration::from_secs(90);

/// Fills the enrollment form with a distributor in Portugal, consent given.
async fn fill_enrollment(w: &AppWindow, legal: &str, email: &str) -> Result<()> {
    w.type_into("#enroll-legal-name", legal).await?;
    w.type_into("#enroll-email", email).await?;
    set_value(w, "#enroll-birth", "1990-05-17", "input").await?;
    w.type_into("#enroll-line1", "Rua das Flores 12").await?;
    w.type_into("#enroll-city", "Braga").await?;
    w.type_into("#enroll-postal", "4700-001").await?;
    set_value(w, "#enroll-country", "PT", "change").await?;
    w.click("[data-testid=enroll-consent]").await
}

/// How many outbox items on screen are in `state`.
async fn items_in(w: &AppWindow, state: &str) -> Result<i64> {
    Ok(w.driver
        .execute(
            "return document.querySelectorAll(`[data-testid=outbox-item][data-state=${arguments[0]}]`).length;",
            vec![serde_json::json!(state)],
        )
        .await?
        .convert::<i64>()?)
}

/// Unlocks the locked app with the device's password.
async fn unlock(w: &AppWindow) -> Result<()> {
    w.type_into("#unlock-password", DEVICE_PASSWORD).await?;
    w.click("[data-testid=unlock-submit]").await?;
    w.find("[data-testid=sidebar]").await?;
    Ok(())
}

/// The demo server's storage, read directly, and the member of the account `email`.
async fn member_on_server(
    server: &DemoServer,
    email: &str,
) -> Result<(
    std::sync::Arc<dyn canopy_server::storage::Storage>,
    canopy_core::MemberId,
)> {
    let storage =
        canopy_server::storage::open(&format!("sqlite://{}", server.database().display())).await?;
    let member = storage
        .find_account_by_email(email)
        .await?
        .and_then(|a| a.member)
        .context("the demo account has no member")?;
    Ok((storage, member))
}

/// This period's personal volume of the account `email`'s member, in hundredths of a
/// point, summed from the orders in the server's own database.
async fn personal_volume(server: &DemoServer, email: &str) -> Result<i64> {
    let (storage, member) = member_on_server(server, email).await?;
    let period = Period::containing(time::OffsetDateTime::now_utc().date())?;
    let mut total = 0;
    for order in storage.orders_of(member).await? {
        if order.status.counts_for_volume() && Period::containing(order.placed_at.date())? == period
        {
            total += order.total_pv()?.hundredths();
        }
    }
    Ok(total)
}

/// The account's statement this period on the server: its total in minor units (cents)
/// and its number of lines.
async fn statement_total(server: &DemoServer, email: &str) -> Result<(i64, u64)> {
    let (storage, member) = member_on_server(server, email).await?;
    let period = Period::containing(time::OffsetDateTime::now_utc().date())?;
    storage
        .statements_of(member)
        .await?
        .into_iter()
        .find(|s| s.period == period)
        .map(|s| (s.total_minor, s.lines))
        .context("the demo company has run this period")
}

/// Hundredths of a point as the dashboard writes them ("1,234.50").
fn points(hundredths: i64) -> String {
    let whole = (hundredths / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{grouped}.{:02}", hundredths % 100)
}

/// The text content of the first element matching `css`, read by the page itself (an
/// element being re-rendered can't go stale under us); empty when there is none.
async fn first_text(w: &AppWindow, css: &str) -> Result<String> {
    Ok(w.driver
        .execute(
            "const e = document.querySelector(arguments[0]); return e ? e.textContent.trim() : '';",
            vec![serde_json::json!(css)],
        )
        .await?
        .convert::<String>()?)
}

/// Searches the genealogy for `text` and opens the first result; the panel's name.
async fn open_from_search(w: &AppWindow, text: &str) -> Result<String> {
    w.click("[data-testid=nav-genealogy]").await?;
    w.find("[data-testid=genealogy]").await?;
    w.type_into("[data-testid=genealogy-search]", text).await?;
    w.click("[data-testid=genealogy-search-result]").await?;
    w.text_of("[data-testid=member-panel-name]").await
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the real window: run through `cargo xtask e2e`"]
async fn a_distributor_works_online_then_offline() -> Result<()> {
    let mut server = DemoServer::start_fresh(&scratch("walk-server")?)?;
    let p = server.provisioning()?;
    let who = account(&p, Role::Distributor)?;
    let window = AppWindow::open_with(&server.provisioning_path(), true).await?;
    window
        .check("walk", async move |w| {
            // The whole walk at the smallest size the screens are designed for.
            let rect = w.driver.get_window_rect().await?;
            w.driver.set_window_rect(rect.x, rect.y, 1024, 768).await?;
            sign_in(w, &who, Some("walk")).await?;
            ensure!(
                !w.has("[data-testid=nav-team]").await?,
                "a distributor's menu offers the manager's team review"
            );
            ensure!(
                !w.has("[data-testid=nav-admin]").await?,
                "a distributor's menu offers the administration"
            );

            // The dashboard shows this period's personal volume as the server's orders
            // make it (paid and shipped orders count).
            w.click("[data-testid=nav-dashboard]").await?;
            let expected = points(personal_volume(&server, &who.email).await?);
            w.wait_until("the seeded personal volume", SYNC_WAIT, async |w| {
                Ok(first_text(w, "[data-testid=dashboard-pv]").await? == expected)
            })
            .await?;
            // The plan reaches the device with the statements: the rank card checks the
            // next rank's requirements one by one.
            w.wait_until("the rank's requirements", SYNC_WAIT, async |w| {
                w.has("[data-testid=dashboard-requirement]").await
            })
            .await?;
            w.find("[data-testid=dashboard-qualifies-for]").await?;
            w.screenshot("walk-04-dashboard").await?;
            fits(w).await?;

            // The genealogy: the first member listed, found again by name and opened.
            w.click("[data-testid=nav-genealogy]").await?;
            w.find("[data-testid=genealogy-row]").await?;
            let mut name = String::new();
            w.wait_until("a named member in the list", SYNC_WAIT, async |w| {
                name = first_text(w, "[data-testid=genealogy-row] .gen-name").await?;
                Ok(!name.is_empty())
            })
            .await?;
            w.screenshot("walk-05-genealogy").await?;
            fits(w).await?;
            let opened = open_from_search(w, &name).await?;
            ensure!(
                opened == name,
                "searched {name:?}, the panel shows {opened:?}"
            );
            w.screenshot("walk-06-member").await?;
            fits(w).await?;

            // An order from the catalogue, online: saved, then confirmed by the company.
            w.click("[data-testid=nav-order]").await?;
            w.find("[data-testid=product-row]").await?;
            let first_qty = "[data-testid=product-row] input";
            w.type_into(first_qty, "2").await?;
            let total = w.text_of("[data-testid=order-total]").await?;
            ensure!(!total.ends_with(" 0.00"), "two products cost {total:?}");
            w.click("[data-testid=order-submit]").await?;
            w.find("[data-testid=order-saved]").await?;
            w.wait_until("the order confirmed", SYNC_WAIT, async |w| {
                w.has("[data-testid=outbox-item][data-state=applied]").await
            })
            .await?;
            w.screenshot("walk-07-order").await?;
            fits(w).await?;

            // Earnings: this period's statement, its total as the server's run made it, and
            // its lines.
            let (total, lines) = statement_total(&server, &who.email).await?;
            let total = points(total);
            w.click("[data-testid=nav-earnings]").await?;
            w.find("[data-testid=earnings]").await?;
            let shown = w.text_of("[data-testid=earnings-total]").await?;
            // Early in the month the open period may have paid nothing yet.
            if lines > 0 {
                w.find("[data-testid=earnings-line]").await?;
            }
            ensure!(
                shown.ends_with(&total),
                "the statement's total shows {shown:?}, the server has {total}"
            );
            w.screenshot("walk-08b-earnings").await?;
            fits(w).await?;

            // The security center: this device among the account's devices.
            w.click("[data-testid=nav-security]").await?;
            w.find("[data-testid=security-devices] [data-testid=device-row]")
                .await?;
            w.screenshot("walk-08-security").await?;
            fits(w).await?;

            // Lock with the button, unlock; lock with Ctrl+L, unlock.
            w.click("[data-testid=lock]").await?;
            w.find("[data-testid=unlock]").await?;
            ensure!(
                !w.has("[data-testid=sidebar]").await?,
                "the locked app still shows its menu"
            );
            w.screenshot("walk-09-locked").await?;
            fits(w).await?;
            unlock(w).await?;
            w.find("body").await?.send_keys(Key::Control + "l").await?;
            w.find("[data-testid=unlock]").await?;
            unlock(w).await?;

            // The server goes away: an enrollment is saved and pending.
            server.stop()?;
            w.click("[data-testid=nav-enroll]").await?;
            w.find("[data-testid=enroll]").await?;
            w.click("[data-testid=enroll-submit]").await?;
            w.find("[data-testid=enroll-field-errors]").await?;
            w.screenshot("walk-10-enroll-errors").await?;
            fits(w).await?;
            let stamp = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_secs();
            let joana = format!("joana.{stamp}@example.pt");
            fill_enrollment(w, "Joana Offline Ferreira", &joana).await?;
            w.click("[data-testid=enroll-submit]").await?;
            w.find("[data-testid=enroll-saved]").await?;
            let state = w
                .text_of("[data-testid=outbox-item] [data-testid=outbox-state]")
                .await?;
            ensure!(state == "Pending", "the offline enrollment reads {state:?}");
            w.screenshot("walk-11-enrolled-offline").await?;
            fits(w).await?;
            w.click("[data-testid=nav-sync]").await?;
            w.find("[data-testid=sync-center]").await?;
            w.screenshot("walk-12-sync-offline").await?;
            fits(w).await?;

            // The server is back: "sync now" sends it; it is applied and in the tree.
            server.start()?;
            w.click("[data-testid=sync-now]").await?;
            w.click("[data-testid=nav-enroll]").await?;
            w.wait_until("the enrollment applied", SYNC_WAIT, async |w| {
                w.has("[data-testid=outbox-item][data-state=applied]").await
            })
            .await?;
            w.screenshot("walk-13-applied").await?;
            fits(w).await?;
            let shown = "Joana F.";
            w.wait_until("the new member in the genealogy", SYNC_WAIT, async |w| {
                Ok(open_from_search(w, shown)
                    .await
                    .is_ok_and(|name| name == shown))
            })
            .await?;
            w.screenshot("walk-14-new-member").await?;
            fits(w).await?;

            // The same email again: the company refuses it and says why; fixed in the
            // form, it is sent again and applied.
            w.click("[data-testid=nav-enroll]").await?;
            w.find("[data-testid=enroll]").await?;
            fill_enrollment(w, "Joana Twice Ferreira", &joana).await?;
            w.click("[data-testid=enroll-submit]").await?;
            w.find("[data-testid=enroll-saved]").await?;
            w.wait_until("the second enrollment refused", SYNC_WAIT, async |w| {
                Ok(items_in(w, "rejected").await? == 1)
            })
            .await?;
            w.screenshot("walk-15-refused").await?;
            fits(w).await?;
            w.click("[data-testid=outbox-fix]").await?;
            w.find("[data-testid=enroll-fixing]").await?;
            w.type_into("#enroll-email", &format!("joana.twice.{stamp}@example.pt"))
                .await?;
            w.click("[data-testid=enroll-submit]").await?;
            w.wait_until("the fixed enrollment applied", SYNC_WAIT, async |w| {
                Ok(items_in(w, "applied").await? == 2 && items_in(w, "rejected").await? == 0)
            })
            .await?;
            w.screenshot("walk-16-fixed").await?;
            fits(w).await?;
            Ok(())
        })
        .await
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the real window: run through `cargo xtask e2e`"]
async fn a_manager_sees_the_team_views() -> Result<()> {
    let p = canopy_e2e::demo_provisioning()?;
    let who = account(&p, Role::Manager)?;
    let path = std::env::var("CANOPY_E2E_PROVISIONING")?;
    let window = AppWindow::open_with(std::path::Path::new(&path), true).await?;
    window
        .check("manager", async |w| {
            let rect = w.driver.get_window_rect().await?;
            w.driver.set_window_rect(rect.x, rect.y, 1024, 768).await?;
            sign_in(w, &who, None).await?;
            w.click("[data-testid=nav-team]").await?;
            w.find("[data-testid=team]").await?;
            let size = w.text_of("[data-testid=team-size]").await?;
            ensure!(
                size.replace(',', "").parse::<u64>().is_ok_and(|n| n > 0),
                "the team review shows a team of {size:?}"
            );
            ensure!(
                w.has("[data-testid=team-legs] tbody tr").await?,
                "the team review lists no legs"
            );
            w.screenshot("manager-01-team").await?;
            fits(w).await?;
            Ok(())
        })
        .await
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the real window: run through `cargo xtask e2e`"]
async fn a_server_without_the_pinned_key_gets_a_security_warning() -> Result<()> {
    let mut p = canopy_e2e::demo_provisioning()?;
    let who = account(&p, Role::Distributor)?;
    // Two well-formed fingerprints of keys the server does not have.
    p.pins = vec![
        format!("{}=", "A".repeat(43)),
        format!("{}A=", "B".repeat(42)),
    ];
    let path = scratch("wrong-pins.json")?;
    std::fs::create_dir_all(path.parent().context("no parent")?)?;
    std::fs::write(&path, serde_json::to_string_pretty(&p)?)?;
    let window = AppWindow::open_with(&path, true).await?;
    window
        .check("pin-mismatch", async |w| {
            w.find("[data-testid=sign-in]").await?;
            w.type_into("#sign-in-email", &who.email).await?;
            w.type_into("#sign-in-password", &who.password).await?;
            w.click("[data-testid=sign-in-submit]").await?;
            let warning = w.text_of("[data-testid=security-warning]").await?;
            ensure!(
                warning.contains("could not prove"),
                "the warning reads {warning:?}"
            );
            ensure!(
                !w.has("[data-testid=code]").await?,
                "the sign-in went on to the code step"
            );
            w.screenshot("pin-mismatch").await?;
            Ok(())
        })
        .await
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the real window: run through `cargo xtask e2e`"]
async fn an_admin_sees_accounts_and_alerts() -> Result<()> {
    let p = canopy_e2e::demo_provisioning()?;
    let who = account(&p, Role::Admin)?;
    let path = std::env::var("CANOPY_E2E_PROVISIONING")?;
    let window = AppWindow::open_with(std::path::Path::new(&path), true).await?;
    window
        .check("admin", async |w| {
            let rect = w.driver.get_window_rect().await?;
            w.driver.set_window_rect(rect.x, rect.y, 1024, 768).await?;
            sign_in(w, &who, None).await?;
            ensure!(
                w.has("[data-testid=nav-team]").await?,
                "an admin's menu has no team review"
            );
            w.click("[data-testid=nav-admin]").await?;
            w.find("[data-testid=admin]").await?;
            // The three demo accounts, the admin's own among them.
            w.wait_until("the accounts listed", SYNC_WAIT, async |w| {
                Ok(w.driver
                    .execute(
                        "return document.querySelectorAll('[data-testid=account-row]').length;",
                        vec![],
                    )
                    .await?
                    .convert::<i64>()?
                    >= 3)
            })
            .await?;
            w.screenshot("admin-01-accounts").await?;
            fits(w).await?;
            Ok(())
        })
        .await
}

/// Waits for the genealogy to show rows. Counted in the page, not found as an element:
/// the virtualised rows are replaced as they scroll, so an element found may be gone
/// before it is looked at.
async fn rows_shown(w: &AppWindow) -> Result<()> {
    w.wait_until("the genealogy's rows", Duration::from_secs(20), async |w| {
        Ok(w.driver
            .execute(
                "return document.querySelectorAll('[data-testid=genealogy-row]').length;",
                vec![],
            )
            .await?
            .convert::<i64>()?
            > 0)
    })
    .await
}

/// P11's memory half (shared/PERFORMANCE.md): the admin of a 1,000,000-member demo signs
/// in, the first sync fills the cache, the genealogy list is scrolled deep, sorted by
/// group volume and shown as a tree; then the app's memory is read from `/proc`: the
/// proportional set size (PSS, so pages shared between the processes count once) of the
/// app and the WebKit processes it started. `cargo xtask bench P11` starts that demo and
/// runs this alone; the suite skips it.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a 1,000,000-member demo: run through `cargo xtask bench P11`"]
async fn a_million_members_in_the_window() -> Result<()> {
    let path = std::env::var("CANOPY_E2E_MILLION").context(
        "CANOPY_E2E_MILLION (the 1M demo's provisioning file) is not set: run `cargo xtask bench P11`",
    )?;
    let path = std::path::PathBuf::from(path);
    let text = std::fs::read_to_string(&path)?;
    let p: Provisioning = serde_json::from_str(&text)?;
    let who = account(&p, Role::Admin)?;
    let window = AppWindow::open_with(&path, true).await?;
    window
        .check("million", async |w| {
            sign_in(w, &who, None).await?;
            let started = std::time::Instant::now();
            w.wait_until(
                "the first sync of 1M members",
                Duration::from_secs(900),
                // The dashboard stands in for the first download's screen once it is done.
                async |w| Ok(w.has("[data-testid=dashboard]").await?),
            )
            .await?;
            let first_sync = started.elapsed();
            // Once the sync has settled, before any browsing: what the bootstrap leaves.
            tokio::time::sleep(Duration::from_secs(5)).await;
            let after_sync = canopy_e2e::memory::of_app()?;
            w.click("[data-testid=nav-genealogy]").await?;
            rows_shown(w).await?;
            // Deep into the list, page after page, as a person holding the scroll bar.
            for _ in 0..20 {
                w.driver
                    .execute(
                        "const v = document.querySelector('.gen-viewport'); v.scrollTop += 4000;",
                        vec![],
                    )
                    .await?;
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            rows_shown(w).await?;
            w.click(".gen-head .gen-col-gv .gen-sort").await?;
            tokio::time::sleep(Duration::from_secs(2)).await;
            rows_shown(w).await?;
            w.click("[data-testid=view-tree]").await?;
            tokio::time::sleep(Duration::from_secs(2)).await;
            rows_shown(w).await?;
            w.screenshot("million-01-genealogy").await?;
            let memory = canopy_e2e::memory::of_app()?;
            // Then the window left alone: past the app's idle trim (30 s, checked every
            // 5 s) and jemalloc's giving freed pages back (10 s).
            tokio::time::sleep(Duration::from_secs(50)).await;
            let idle = canopy_e2e::memory::of_app()?;
            let report = serde_json::json!({
                "pss_mib": memory.pss_mib(),
                "processes": memory.processes,
                "first_sync_s": first_sync.as_secs_f64(),
                "after_sync": {
                    "pss_mib": after_sync.pss_mib(),
                    "processes": after_sync.processes,
                },
                "idle": {
                    "pss_mib": idle.pss_mib(),
                    "processes": idle.processes,
                },
            });
            let out = std::path::PathBuf::from(std::env::var("CANOPY_E2E_OUT")?);
            std::fs::write(out.join("p11-memory.json"), report.to_string())?;
            Ok(())
        })
        .await
}
