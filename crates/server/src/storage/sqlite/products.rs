//! The product catalogue on SQLite: what the order form offers and what orders are priced
//! by. Every change is logged for the sync (subject `catalogue`), so devices read the
//! catalogue again.

use canopy_core::{Currency, CurrencyError, Money, Product, Pv, Sku};
use rusqlite::{Connection, OptionalExtension, Row, params};
use time::OffsetDateTime;

use super::convert::{BadValue, parsed, unix};
use crate::storage::Result;

const COLUMNS: &str = "sku, name, price_minor, currency, pv_hundredths, active";

fn product_from_row(row: &Row<'_>) -> rusqlite::Result<Product> {
    let currency = parsed(row, 3, "currency", |c| {
        Currency::parse(c).map_err(|_: CurrencyError| BadValue("currency"))
    })?;
    Ok(Product {
        sku: parsed(row, 0, "sku", Sku::parse)?,
        name: row.get(1)?,
        price: Money::new(row.get(2)?, currency),
        pv: Pv::from_hundredths(row.get(4)?),
        active: row.get(5)?,
    })
}

/// Adds or replaces products (by SKU) and logs one catalogue change.
pub(super) fn put(tx: &Connection, products: &[Product], now: OffsetDateTime) -> Result<()> {
    let mut stmt = tx.prepare_cached(&format!(
        "INSERT OR REPLACE INTO products ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
    ))?;
    for p in products {
        stmt.execute(params![
            p.sku.as_str(),
            p.name,
            p.price.minor(),
            p.price.currency().as_str(),
            p.pv.hundredths(),
            p.active,
        ])?;
    }
    tx.prepare_cached(
        "INSERT INTO member_changes (member_id, at, subject) VALUES (0, ?1, 'catalogue')",
    )?
    .execute([unix(now)])?;
    Ok(())
}

/// The whole catalogue, by SKU.
pub(super) fn all(conn: &Connection) -> Result<Vec<Product>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM products ORDER BY sku"))?
        .query_map([], product_from_row)?
        .collect::<rusqlite::Result<_>>()?)
}

pub(super) fn find(conn: &Connection, sku: &Sku) -> Result<Option<Product>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM products WHERE sku = ?1"))?
        .query_row([sku.as_str()], product_from_row)
        .optional()?)
}
