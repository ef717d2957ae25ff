//! The order form's types: the catalogue, an order as typed, and past orders.

use serde::{Deserialize, Serialize};

/// A product on sale, as the order form lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductView {
    pub sku: String,
    pub name: String,
    /// For people: "USD 39.90".
    pub price: String,
    /// The price in minor units, and its currency, for totals.
    pub price_minor: i64,
    pub currency: String,
    /// Volume of one, in hundredths of a point.
    pub pv: i64,
}

/// One product and how many.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLineRequest {
    pub sku: String,
    pub quantity: u32,
}

/// An order as the form sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrderRequest {
    /// Whose order (their PV); `None`: the user's own.
    pub member: Option<i64>,
    pub lines: Vec<OrderLineRequest>,
}

/// A past order of the user's, as the server last sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderView {
    pub id: i64,
    /// RFC 3339.
    pub placed_at: String,
    /// "Pending", "Paid", …
    pub status: String,
    /// "USD 79.80".
    pub total: String,
    /// In hundredths of a point.
    pub pv: i64,
    /// "2 × Vitality Shake, 1 × Omega Caps".
    pub items: String,
}
