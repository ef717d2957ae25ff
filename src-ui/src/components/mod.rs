//! Reusable pieces of the window: the brand mark, the footer.
//! Components never call Tauri directly; they take data from `api/` wrappers.

pub mod brand;
pub mod footer;
