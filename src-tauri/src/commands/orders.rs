//! Commands of the order form: the catalogue the server last sent, placing an order
//! (offline too: it goes to the outbox, and the server prices it from its own catalogue
//! when it arrives), and the user's past orders.

use canopy_core::ipc::{CommandError, OrderRequest, OrderView, OutboxItemView, ProductView};
use canopy_core::sync::push::{Command, OrderForm, OrderFormLine};
use canopy_core::{MemberId, Order};
use canopy_store::{CommandKind, Store};
use canopy_sync::schedule::Trigger;
use tauri::State;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::blocking;
use crate::commands::outbox::{describe, new_key};
use crate::state::AppState;

/// The products on sale, by name.
#[tauri::command]
pub async fn catalogue(state: State<'_, AppState>) -> Result<Vec<ProductView>, CommandError> {
    let store = state
        .session()
        .await?
        .store()
        .ok_or(CommandError::Locked)?
        .clone();
    blocking(move || products(&store)).await
}

/// [`catalogue`]'s work without Tauri.
pub fn products(store: &Store) -> Result<Vec<ProductView>, CommandError> {
    Ok(store
        .products()
        .map_err(internal)?
        .into_iter()
        .filter(|p| p.active)
        .map(|p| ProductView {
            sku: p.sku.as_str().to_owned(),
            name: p.name,
            price: p.price.to_string(),
            price_minor: p.price.minor(),
            currency: p.price.currency().as_str().to_owned(),
            pv: p.pv.hundredths(),
        })
        .collect())
}

/// Saves an order to the outbox and asks the sync to send it.
#[tauri::command]
pub async fn place_order(
    state: State<'_, AppState>,
    request: OrderRequest,
) -> Result<OutboxItemView, CommandError> {
    let store = state
        .session()
        .await?
        .store()
        .ok_or(CommandError::Locked)?
        .clone();
    let now = OffsetDateTime::now_utc();
    let item = blocking(move || save_order(&store, &request, now)).await?;
    if let Some(sync) = state.session().await?.sync() {
        sync.trigger(Trigger::LocalWrite);
    }
    Ok(item)
}

/// [`place_order`]'s work without Tauri: the lines are checked as the server checks them,
/// every product must be on sale in this device's catalogue, and the buyer must be the
/// user or in their downline. On disk when this returns.
pub fn save_order(
    store: &Store,
    request: &OrderRequest,
    now: OffsetDateTime,
) -> Result<OutboxItemView, CommandError> {
    let member = match request.member {
        Some(id) => MemberId::new(id),
        None => store
            .scope_root()
            .map_err(internal)?
            .ok_or_else(|| CommandError::Invalid("Nothing is in this device's cache yet".into()))?,
    };
    if store.depth_of(member).map_err(internal)?.is_none() {
        return Err(CommandError::Invalid(
            "Order for yourself or for someone in your downline".into(),
        ));
    }
    let form = OrderForm {
        member,
        lines: request
            .lines
            .iter()
            .filter(|l| l.quantity > 0)
            .map(|l| OrderFormLine {
                sku: l.sku.clone(),
                quantity: l.quantity,
            })
            .collect(),
    };
    let lines = form.validate().map_err(CommandError::Invalid)?;
    let on_sale = products(store)?;
    for (sku, _) in &lines {
        if !on_sale.iter().any(|p| p.sku == sku.as_str()) {
            return Err(CommandError::Invalid(format!(
                "{} is not in the catalogue any more; remove it and try again",
                sku.as_str()
            )));
        }
    }
    let payload = serde_json::to_string(&Command::PlaceOrder(form))
        .map_err(|e| CommandError::Internal(e.to_string()))?;
    let item = store
        .enqueue(&new_key()?, CommandKind::PlaceOrder, &payload, now)
        .map_err(internal)?;
    Ok(describe(store, &item))
}

/// The user's own orders, newest first, as the server last sent them.
#[tauri::command]
pub async fn my_orders(state: State<'_, AppState>) -> Result<Vec<OrderView>, CommandError> {
    let store = state
        .session()
        .await?
        .store()
        .ok_or(CommandError::Locked)?
        .clone();
    blocking(move || orders(&store)).await
}

/// [`my_orders`]'s work without Tauri.
pub fn orders(store: &Store) -> Result<Vec<OrderView>, CommandError> {
    let Some(me) = store.scope_root().map_err(internal)? else {
        return Ok(Vec::new());
    };
    let names = store.products().map_err(internal)?;
    let name_of = |sku: &str| {
        names
            .iter()
            .find(|p| p.sku.as_str() == sku)
            .map_or_else(|| sku.to_owned(), |p| p.name.clone())
    };
    store
        .orders_of(me)
        .map_err(internal)?
        .into_iter()
        .map(|order| order_view(&order, &name_of))
        .collect()
}

fn order_view(order: &Order, name_of: &dyn Fn(&str) -> String) -> Result<OrderView, CommandError> {
    let total = canopy_core::Money::checked_sum(
        order.currency,
        order
            .lines
            .iter()
            .map(|l| l.total())
            .collect::<Result<Vec<_>, _>>()
            .map_err(internal)?,
    )
    .map_err(internal)?;
    let pv = order
        .lines
        .iter()
        .map(|l| l.total_pv().map(|v| v.hundredths()))
        .sum::<Result<i64, _>>()
        .map_err(internal)?;
    Ok(OrderView {
        id: order.id.get(),
        placed_at: order.placed_at.format(&Rfc3339).unwrap_or_default(),
        status: order.status.label().to_owned(),
        total: total.to_string(),
        pv,
        items: order
            .lines
            .iter()
            .map(|l| format!("{} × {}", l.quantity, name_of(l.sku.as_str())))
            .collect::<Vec<_>>()
            .join(", "),
    })
}

fn internal(e: impl std::fmt::Display) -> CommandError {
    CommandError::Internal(e.to_string())
}
