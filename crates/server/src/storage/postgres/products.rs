//! The product catalogue on PostgreSQL (mirrors sqlite/products.rs): what the order form
//! offers and what orders are priced by. Every change is logged for the sync (subject
//! `catalogue`), so devices read the catalogue again.

use canopy_core::{Currency, CurrencyError, Money, Product, Pv, Sku};
use time::OffsetDateTime;
use tokio_postgres::Row;

use super::Transaction;
use super::convert::{BadValue, parsed, unix};
use crate::storage::Result;

const COLUMNS: &str = "sku, name, price_minor, currency, pv_hundredths, active";

fn product_from_row(row: &Row) -> Result<Product> {
    let currency = parsed(row, 3, "currency", |c| {
        Currency::parse(c).map_err(|_: CurrencyError| BadValue("currency"))
    })?;
    Ok(Product {
        sku: parsed(row, 0, "sku", Sku::parse)?,
        name: row.try_get(1)?,
        price: Money::new(row.try_get(2)?, currency),
        pv: Pv::from_hundredths(row.try_get(4)?),
        active: row.try_get(5)?,
    })
}

/// Adds or replaces products (by SKU) and logs one catalogue change.
pub(super) async fn put(
    tx: &Transaction<'_>,
    products: &[Product],
    now: OffsetDateTime,
) -> Result<()> {
    let stmt = tx
        .prepare_cached(&format!(
            "INSERT INTO products ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (sku) DO UPDATE SET name = excluded.name, \
                 price_minor = excluded.price_minor, currency = excluded.currency, \
                 pv_hundredths = excluded.pv_hundredths, active = excluded.active"
        ))
        .await?;
    for p in products {
        tx.execute(
            &stmt,
            &[
                &p.sku.as_str(),
                &p.name,
                &p.price.minor(),
                &p.price.currency().as_str(),
                &p.pv.hundredths(),
                &p.active,
            ],
        )
        .await?;
    }
    let stmt = tx
        .prepare_cached(
            "INSERT INTO member_changes (member_id, at, subject) VALUES (0, $1, 'catalogue')",
        )
        .await?;
    tx.execute(&stmt, &[&unix(now)]).await?;
    Ok(())
}

/// The whole catalogue, by SKU (bytewise, as SQLite orders text, whatever the database's
/// collation).
pub(super) async fn all(tx: &Transaction<'_>) -> Result<Vec<Product>> {
    let stmt = tx
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM products ORDER BY sku COLLATE \"C\""
        ))
        .await?;
    tx.query(&stmt, &[])
        .await?
        .iter()
        .map(product_from_row)
        .collect()
}

pub(super) async fn find(tx: &Transaction<'_>, sku: &Sku) -> Result<Option<Product>> {
    let stmt = tx
        .prepare_cached(&format!("SELECT {COLUMNS} FROM products WHERE sku = $1"))
        .await?;
    tx.query_opt(&stmt, &[&sku.as_str()])
        .await?
        .map(|row| product_from_row(&row))
        .transpose()
}
