//! Build script: reads the root `tauri.conf.json`, checks the capabilities and
//! generates permissions for exactly the app's own commands.

fn main() {
    // Every command the UI may call; each gets an `allow-<name>` permission
    // that `capabilities/main.json` grants. A command missing here cannot be
    // invoked from the window at all.
    const COMMANDS: &[&str] = &[
        "app_info",
        "provisioning_status",
        "session_status",
        "sign_in",
        "submit_code",
        "confirm_set_up",
        "open_cache",
        "unlock",
        "lock",
        "cancel_sign_in",
        "touch",
        "downline_page",
        "dashboard",
        "consent_text",
        "enroll",
        "outbox_items",
        "discard_outbox_item",
        "refused_enrollment",
        "resend_enrollment",
        "export_outbox",
        "outbox_files",
        "import_outbox",
        "sync_status",
        "sync_now",
        "team_overview",
        "catalogue",
        "place_order",
        "my_orders",
        "export_team_csv",
        "earnings_overview",
        "statement",
        "export_statement_csv",
        "tree_children",
        "search_members",
        "member_detail",
        "path_to_member",
        "security_overview",
        "revoke_device",
        "regenerate_recovery_codes",
        "change_account_password",
        "change_device_password",
        "set_auto_lock",
        "admin_accounts",
        "admin_account_devices",
        "admin_change_role",
        "admin_set_disabled",
        "admin_end_sessions",
        "admin_revoke_device",
        "admin_alerts",
        "admin_acknowledge_alert",
        "admin_resolve_alert",
        "admin_erase_member",
        "export_my_data",
        "request_erasure",
        "check_for_update",
        "install_update",
    ];

    let attributes = tauri_build::Attributes::new()
        .config_path("../tauri.conf.json")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(error) = tauri_build::try_build(attributes) {
        // A build script reports failure by panicking; say what to do first.
        panic!(
            "tauri-build failed: {error:#}\n\
             (the UI must be built before the app: run `cargo xtask build` or `cargo xtask run`)"
        );
    }
}
