//! The component kit and the window's frame: every screen is built from these,
//! and styled only through `styles.css` (its tokens and classes).
//! Components never call Tauri directly; they take data from `api/` wrappers.
//!
//! The kit is ahead of the screens that use it (sign-in, the dashboard, the
//! team and the sync center come next), so the parts no screen uses yet are
//! allowed to be unused until then.

pub mod badge;
pub mod brand;
#[allow(dead_code, reason = "the kit's parts for screens that come next")]
pub mod button;
pub mod callout;
pub mod card;
pub mod footer;
pub mod frame;
#[allow(dead_code, reason = "the kit's parts for screens that come next")]
pub mod modal;
#[allow(dead_code, reason = "the kit's parts for screens that come next")]
pub mod progress;
#[allow(dead_code, reason = "the kit's parts for screens that come next")]
pub mod security_banner;
#[allow(dead_code, reason = "the kit's parts for screens that come next")]
pub mod sidebar;
#[allow(dead_code, reason = "the kit's parts for screens that come next")]
pub mod states;
#[allow(dead_code, reason = "the kit's parts for screens that come next")]
pub mod text_field;
