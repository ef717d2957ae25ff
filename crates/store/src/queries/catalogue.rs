//! The product catalogue (written from the sync, read by the order form) and the user's
//! orders.

use canopy_core::{Currency, CustomerId, Money, Order, OrderId, Product, Pv, Sku};
use canopy_core::{MemberId, OrderLine};
use rusqlite::params;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::StoreError;
use crate::store::Store;
use crate::write::Writer;

impl Writer<'_> {
    /// Inserts or replaces a product (by SKU).
    pub fn put_product(&self, p: &Product) -> Result<(), StoreError> {
        self.tx()
            .prepare_cached(
                "INSERT OR REPLACE INTO products (sku, name, price_minor, currency, pv, active)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                p.sku.as_str(),
                p.name,
                p.price.minor(),
                p.price.currency().as_str(),
                p.pv.hundredths(),
                p.active,
            ])?;
        Ok(())
    }
}

impl Store {
    /// The products on sale, by name (withdrawn ones are kept for past orders, not offered).
    pub fn products(&self) -> Result<Vec<Product>, StoreError> {
        self.database().read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT sku, name, price_minor, currency, pv, active FROM products
                 WHERE active = 1 ORDER BY name, sku",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, bool>(5)?,
                ))
            })?;
            let mut products = Vec::new();
            for row in rows {
                let (sku, name, price, currency, pv, active) = row?;
                let bad = |what: &str| StoreError::Invalid(format!("cached product {sku}: {what}"));
                products.push(Product {
                    sku: Sku::parse(&sku).map_err(|_| bad("sku"))?,
                    name: name.clone(),
                    price: Money::new(
                        price,
                        Currency::parse(&currency).map_err(|_| bad("currency"))?,
                    ),
                    pv: Pv::from_hundredths(pv),
                    active,
                });
            }
            Ok(products)
        })
    }
}

impl Store {
    /// `member`'s cached orders (the user's own, as the server sent them), newest first.
    pub fn orders_of(&self, member: MemberId) -> Result<Vec<Order>, StoreError> {
        self.database().read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, customer_id, placed_at, status, currency, lines FROM orders
                 WHERE member_id = ?1 ORDER BY placed_at DESC, id DESC",
            )?;
            let rows = stmt.query_map([member.get()], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })?;
            let mut orders = Vec::new();
            for row in rows {
                let (id, customer, placed_at, status, currency, lines) = row?;
                let bad = |what: &str| StoreError::Invalid(format!("cached order {id}: {what}"));
                orders.push(Order {
                    id: OrderId::new(id),
                    buyer: member,
                    customer: customer.map(CustomerId::new),
                    placed_at: OffsetDateTime::parse(&placed_at, &Rfc3339)
                        .map_err(|_| bad("time"))?,
                    status: crate::codes::parse("order status", &status)?,
                    currency: Currency::parse(&currency).map_err(|_| bad("currency"))?,
                    lines: serde_json::from_str::<Vec<OrderLine>>(&lines)
                        .map_err(|_| bad("lines"))?,
                });
            }
            Ok(orders)
        })
    }
}
