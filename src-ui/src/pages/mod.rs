//! Full screens, one module each. Today: the signed-out welcome screen.

pub mod gallery_tmp;
pub mod signed_out;
