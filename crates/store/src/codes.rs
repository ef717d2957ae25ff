//! How the core's enums are written in the cache: their serde names (`active`, `unilevel`,
//! …), the same words the server and the sync protocol use.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::StoreError;

/// The serde name of a unit variant.
pub(crate) fn code<T: Serialize>(value: T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        // Only unit enums reach here, and serde writes those as strings.
        other => format!("{other:?}"),
    }
}

/// Reads back a value written by [`code`].
pub(crate) fn parse<T: DeserializeOwned>(what: &'static str, text: &str) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|_| StoreError::Invalid(format!("unknown {what} {text:?} in the cache")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use canopy_core::{EarningsKind, MemberStatus, OrderStatus};

    #[test]
    fn codes_round_trip() {
        assert_eq!(code(MemberStatus::Active), "active");
        assert_eq!(code(EarningsKind::FastStart), "fast_start");
        assert_eq!(
            parse::<OrderStatus>("order status", &code(OrderStatus::Paid)).ok(),
            Some(OrderStatus::Paid)
        );
        assert!(parse::<MemberStatus>("status", "nope").is_err());
    }
}
