//! The Canopy desktop shell: builds the Tauri app, registers the managed state
//! and the commands the UI may call (one module per domain under `commands/`).

pub mod commands;
pub mod session;
pub mod state;

use state::AppState;
use tauri::{Emitter, Manager};

/// How often the idle lock and the revocation wipe are checked.
const GUARD_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Locks the cache after the idle time and wipes it when the device was revoked, and
/// tells the window (event `session`, the new `SessionView`) so it changes screen.
async fn guard(app: tauri::AppHandle) {
    loop {
        tokio::time::sleep(GUARD_EVERY).await;
        let state = app.state::<AppState>();
        let Ok(mut session) = state.session().await else {
            continue;
        };
        let done = session.guard(std::time::Instant::now()).await;
        if done != session::Guarded::Nothing {
            tracing::info!(?done, "the session guard acted");
            if let Err(error) = app.emit("session", session.view()) {
                tracing::warn!(%error, "could not tell the window");
            }
        }
    }
}

/// Initialise `tracing` from `CANOPY_LOG` (default `info`). Never logs secrets:
/// commands log ids and outcomes, not payloads.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CANOPY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A second initialisation (in tests) is harmless, so its error is ignored.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// WebKitGTK as a one-page app needs it (P11: the web processes' memory). Its default
/// cache model is a web browser's, which keeps decoded resources and whole pages for the
/// back button in memory; the app shows one page that never navigates.
#[cfg(target_os = "linux")]
fn lighten_webview(app: &tauri::App) {
    use webkit2gtk::{CacheModel, SettingsExt, WebContextExt, WebViewExt};
    let Some(window) = app.get_webview_window("main") else {
        return;
    };
    let done = window.with_webview(|webview| {
        let view = webview.inner();
        if let Some(context) = view.context() {
            context.set_cache_model(CacheModel::DocumentViewer);
        }
        if let Some(settings) = WebViewExt::settings(&view) {
            settings.set_enable_page_cache(false);
        }
    });
    if let Err(error) = done {
        tracing::warn!(%error, "could not configure the web view");
    }
}

/// Build and run the app until its last window closes.
pub fn run() -> Result<(), tauri::Error> {
    tauri::Builder::default()
        .manage(AppState::from_env())
        .plugin(commands::updates::plugin())
        .setup(|app| {
            let data_dir = match std::env::var_os(state::DATA_DIR_ENV) {
                Some(dir) => std::path::PathBuf::from(dir),
                None => app.path().app_data_dir()?,
            };
            let state = app.state::<AppState>();
            if let Err(error) = tauri::async_runtime::block_on(state.start_session(&data_dir)) {
                // The signed-out screen still opens; signing in reports the same problem.
                tracing::error!(%error, "the session could not start");
            }
            tauri::async_runtime::spawn(guard(app.handle().clone()));
            #[cfg(target_os = "linux")]
            lighten_webview(app);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app::app_info,
            commands::app::provisioning_status,
            commands::auth::session_status,
            commands::auth::sign_in,
            commands::auth::submit_code,
            commands::auth::confirm_set_up,
            commands::auth::open_cache,
            commands::auth::unlock,
            commands::auth::lock,
            commands::auth::cancel_sign_in,
            commands::auth::touch,
            commands::genealogy::downline_page,
            commands::dashboard::dashboard,
            commands::outbox::consent_text,
            commands::outbox::enroll,
            commands::outbox::outbox_items,
            commands::outbox::discard_outbox_item,
            commands::outbox::refused_enrollment,
            commands::outbox::resend_enrollment,
            commands::outbox_transfer::export_outbox,
            commands::outbox_transfer::outbox_files,
            commands::outbox_transfer::import_outbox,
            commands::sync::sync_status,
            commands::sync::sync_now,
            commands::team::team_overview,
            commands::orders::catalogue,
            commands::orders::place_order,
            commands::orders::my_orders,
            commands::team::export_team_csv,
            commands::earnings::earnings_overview,
            commands::earnings::statement,
            commands::earnings::export_statement_csv,
            commands::genealogy::tree_children,
            commands::genealogy::search_members,
            commands::genealogy::member_detail,
            commands::genealogy::path_to_member,
            commands::security::security_overview,
            commands::security::revoke_device,
            commands::security::regenerate_recovery_codes,
            commands::security::change_account_password,
            commands::security::change_device_password,
            commands::security::set_auto_lock,
            commands::admin::admin_accounts,
            commands::admin::admin_account_devices,
            commands::admin::admin_change_role,
            commands::admin::admin_set_disabled,
            commands::admin::admin_end_sessions,
            commands::admin::admin_revoke_device,
            commands::admin::admin_alerts,
            commands::admin::admin_acknowledge_alert,
            commands::admin::admin_resolve_alert,
            commands::admin::admin_erase_member,
            commands::privacy::export_my_data,
            commands::privacy::request_erasure,
            commands::updates::check_for_update,
            commands::updates::install_update,
        ])
        .run(tauri::generate_context!("../tauri.conf.json"))
}
