//! Full screens, one module each.

pub mod admin;
pub mod dashboard;
pub mod earnings;
pub mod enroll;
pub mod genealogy;
pub mod order;
pub mod outbox;
pub mod security;
pub mod sign_in;
pub mod signed_out;
pub mod sync_center;
pub mod team;
