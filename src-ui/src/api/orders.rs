//! Wrappers of `src-tauri/src/commands/orders.rs`: the catalogue, placing an order, and
//! the user's orders.

use canopy_core::ipc::{OrderRequest, OrderView, OutboxItemView, ProductView};
use serde::Serialize;

use super::{ApiError, invoke::call};

/// The products on sale.
pub async fn catalogue() -> Result<Vec<ProductView>, ApiError> {
    call("catalogue", &()).await
}

#[derive(Serialize)]
struct Place<'a> {
    request: &'a OrderRequest,
}

/// Saves an order to the outbox.
pub async fn place_order(request: &OrderRequest) -> Result<OutboxItemView, ApiError> {
    call("place_order", &Place { request }).await
}

/// The user's own orders, newest first.
pub async fn my_orders() -> Result<Vec<OrderView>, ApiError> {
    call("my_orders", &()).await
}
