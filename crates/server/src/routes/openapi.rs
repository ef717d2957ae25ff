//! The API's OpenAPI 3.1 document, served at `/v1/openapi.json`: generated from the handlers'
//! annotations and the request and response types, so it can't drift from the code.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{
    admin, alerts, commissions, enroll, gdpr, me, members, session, sign_in, statements, sync,
    updates,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Canopy server API",
        description = "Accounts, two-step sign-in, sessions, devices and security alerts. \
                       Every error is an RFC 9457 problem document \
                       (`application/problem+json`)."
    ),
    paths(
        super::health,
        openapi_json,
        sign_in::sign_in,
        sign_in::mfa,
        enroll::enroll,
        enroll::confirm,
        enroll::regenerate_recovery_codes,
        session::refresh,
        session::sign_out,
        session::change_password,
        session::step_up,
        me::list_devices,
        me::revoke_device,
        me::sign_ins,
        alerts::my_alerts,
        gdpr::export,
        gdpr::request_erasure,
        gdpr::erase_member,
        members::member,
        members::enrollees,
        sync::bootstrap,
        sync::changes,
        sync::push,
        statements::statements,
        statements::lines,
        admin::move_member,
        admin::list_accounts,
        admin::account_devices,
        admin::disable_account,
        admin::enable_account,
        admin::change_role,
        admin::end_sessions,
        admin::revoke_device,
        alerts::admin_alerts,
        alerts::acknowledge,
        alerts::resolve,
        commissions::run,
        commissions::close,
        commissions::period,
        commissions::my_earnings,
        commissions::member_statement,
        updates::check,
        updates::artifact,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign-in, second factor, sessions"),
        (name = "me", description = "The signed-in person's devices, sign-ins and alerts"),
        (name = "genealogy", description = "Members, scoped by role and downline"),
        (name = "sync", description = "Filling and updating a device's cache (binary bodies)"),
        (name = "updates", description = "Signed app updates for the Tauri updater (no sign-in)"),
        (name = "admin", description = "Account administration and security alerts (admin role; \
                                        changes need a recent step-up)"),
    )
)]
pub struct ApiDoc;

/// Access tokens (`cat_…`), enrollment tokens (`cet_…`) travel as `Authorization: Bearer`.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// This document.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json")))]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
