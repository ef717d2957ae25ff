//! The component kit and the window's frame: every screen is built from these,
//! and styled only through `styles.css` (its tokens and classes).
//! Components never call Tauri directly; they take data from `api/` wrappers.
//!
//! The kit is ahead of the screens that use it (sign-in, the dashboard, the
//! team and the sync center come next), so the parts no screen uses yet are
//! allowed to be unused until then.

pub mod badge;
pub mod brand;
pub mod button;
pub mod callout;
pub mod card;
pub mod footer;
pub mod frame;
pub mod member_picker;
#[allow(dead_code, reason = "the kit's parts for screens that come next")]
pub mod modal;
pub mod privacy;
pub mod problem;
#[allow(dead_code, reason = "the kit's parts for screens that come next")]
pub mod progress;
pub mod qr;
pub mod recovery_codes;
pub mod security_banner;
pub mod sidebar;
pub mod states;
pub mod text_field;
pub mod updates;
