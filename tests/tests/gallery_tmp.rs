use anyhow::Result;
use canopy_e2e::AppWindow;
#[tokio::test(flavor = "multi_thread")]
#[ignore = "tmp"]
async fn gallery() -> Result<()> {
    let window = AppWindow::open().await?;
    window.check("gallery", async |window| {
        window.find("[data-testid=app-version]").await?;
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        window.screenshot("gallery-modal").await?;
        window.driver.execute("document.querySelector('.modal-scrim').click();", vec![]).await?;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        window.screenshot("gallery-top").await?;
        window.driver.execute("document.querySelector('.content').scrollTop = 600;", vec![]).await?;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        window.screenshot("gallery-mid").await?;
        window.driver.execute("document.querySelector('#email').focus(); document.querySelector('.content').scrollTop = 5000;", vec![]).await?;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        window.screenshot("gallery-bottom").await?;
        Ok(())
    }).await
}
