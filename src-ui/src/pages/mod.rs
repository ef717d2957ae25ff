//! Full screens, one module each. Today: the signed-out welcome screen.

pub mod signed_out;
