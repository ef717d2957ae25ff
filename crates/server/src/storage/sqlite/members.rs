//! The genealogy (members, their personal details, downline walks) and orders with their
//! lines, on SQLite. Downline queries walk the sponsor / placement-parent indexes.

use std::num::NonZeroU32;

use canopy_core::{
    AddressLine, CountryCode, CurrencyError, Email, MemberId, MemberNumber, Money, Order, OrderId,
    OrderLine, PersonName, PersonalDetails, Phone, PostalAddress, PostalCode, Pv, RankLevel, Sku,
    TaxId, parse_date,
};
use canopy_core::{Currency, CustomerId, format_date};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::convert::{
    BadValue, member_status, member_status_key, opt_parsed, order_status, order_status_key, parsed,
    placement_at, position_columns, time_at, unix,
};
use crate::storage::{MemberRecord, NewMember, Result, StorageError, Tree};

pub(super) const MEMBER_COLUMNS: &str = "id, member_number, sponsor_id, placement_parent_id, placement_leg, \
     placement_index, rank_level, status, joined_on, country, display_name";

pub(super) fn member_from_row(row: &Row<'_>) -> rusqlite::Result<MemberRecord> {
    Ok(MemberRecord {
        id: MemberId::new(row.get(0)?),
        number: parsed(row, 1, "member number", MemberNumber::parse)?,
        sponsor: row.get::<_, Option<i64>>(2)?.map(MemberId::new),
        placement: placement_at(row, 3)?,
        rank: RankLevel::new(row.get(6)?),
        status: parsed(row, 7, "member status", member_status)?,
        joined_on: parsed(row, 8, "join date", parse_date)?,
        country: parsed(row, 9, "country", CountryCode::parse)?,
        display_name: parsed(row, 10, "display name", PersonName::parse)?,
    })
}

pub(super) fn insert_members(tx: &Connection, members: &[NewMember]) -> Result<u64> {
    let mut member_stmt = tx.prepare_cached(
        "INSERT INTO members (id, member_number, sponsor_id, placement_parent_id, placement_leg, \
             placement_index, rank_level, status, joined_on, country, display_name) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    let mut personal_stmt = tx.prepare_cached(
        "INSERT INTO member_personal (member_id, legal_name, email, phone, date_of_birth, \
             address_line1, address_line2, address_city, address_region, postal_code, tax_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for new in members {
        let m = &new.member;
        let (leg, index) = match m.placement {
            Some(p) => {
                let (leg, index) = position_columns(p.position);
                (Some(leg), index)
            }
            None => (None, 0),
        };
        member_stmt.execute(params![
            m.id.get(),
            m.number.as_str(),
            m.sponsor.map(MemberId::get),
            m.placement.map(|p| p.parent.get()),
            leg,
            index,
            m.rank.get(),
            member_status_key(m.status),
            format_date(m.joined_on),
            m.country.as_str(),
            m.display_name.as_str(),
        ])?;
        if let Some(p) = &new.personal {
            let address = p.address.as_ref();
            personal_stmt.execute(params![
                m.id.get(),
                p.legal_name.as_str(),
                p.email.as_ref().map(Email::as_str),
                p.phone.as_ref().map(Phone::as_str),
                p.date_of_birth.map(format_date),
                address.map(|a| a.line1.as_str()),
                address.and_then(|a| a.line2.as_ref().map(AddressLine::as_str)),
                address.map(|a| a.city.as_str()),
                address.and_then(|a| a.region.as_ref().map(AddressLine::as_str)),
                address.and_then(|a| a.postal_code.as_ref().map(PostalCode::as_str)),
                p.tax_id.as_ref().map(TaxId::as_str),
            ])?;
        }
    }
    Ok(members.len() as u64)
}

pub(super) fn find_member(conn: &Connection, id: MemberId) -> Result<Option<MemberRecord>> {
    let sql = format!("SELECT {MEMBER_COLUMNS} FROM members WHERE id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id.get()], member_from_row)
        .optional()?)
}

/// The personal columns, in the order [`personal_from_row`] reads them.
pub(super) const PERSONAL_COLUMNS: &str = "legal_name, email, phone, date_of_birth, \
    address_line1, address_line2, address_city, address_region, postal_code, tax_id";

pub(super) fn find_personal(conn: &Connection, id: MemberId) -> Result<Option<PersonalDetails>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {PERSONAL_COLUMNS} FROM member_personal WHERE member_id = ?1"
    ))?;
    Ok(stmt
        .query_row([id.get()], |row| personal_from_row(row, 0))
        .optional()?
        .flatten())
}

/// Personal details from [`PERSONAL_COLUMNS`] starting at column `at`; `None` where a LEFT
/// JOIN found none (no legal name).
pub(super) fn personal_from_row(
    row: &Row<'_>,
    at: usize,
) -> rusqlite::Result<Option<PersonalDetails>> {
    if row.get_ref(at)?.as_str_or_null()?.is_none() {
        return Ok(None);
    }
    let line1 = opt_parsed(row, at + 4, "address", AddressLine::parse)?;
    let city = opt_parsed(row, at + 6, "city", AddressLine::parse)?;
    let address = match (line1, city) {
        (Some(line1), Some(city)) => Some(PostalAddress {
            line1,
            line2: opt_parsed(row, at + 5, "address", AddressLine::parse)?,
            city,
            region: opt_parsed(row, at + 7, "region", AddressLine::parse)?,
            postal_code: opt_parsed(row, at + 8, "postal code", PostalCode::parse)?,
        }),
        _ => None,
    };
    Ok(Some(PersonalDetails {
        legal_name: parsed(row, at, "legal name", PersonName::parse)?,
        email: opt_parsed(row, at + 1, "email", Email::parse)?,
        phone: opt_parsed(row, at + 2, "phone", Phone::parse)?,
        date_of_birth: opt_parsed(row, at + 3, "date of birth", parse_date)?,
        address,
        tax_id: opt_parsed(row, at + 9, "tax id", TaxId::parse)?,
    }))
}

pub(super) fn list_enrollees(
    conn: &Connection,
    sponsor: MemberId,
    after: Option<MemberId>,
    limit: u32,
) -> Result<Vec<MemberRecord>> {
    let sql = format!(
        "SELECT {MEMBER_COLUMNS} FROM members WHERE sponsor_id = ?1 AND id > ?2 \
         ORDER BY id LIMIT ?3"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let after = after.map_or(i64::MIN, MemberId::get);
    let rows = stmt.query_map(
        params![sponsor.get(), after, i64::from(limit)],
        member_from_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn count_downline(conn: &Connection, root: MemberId, tree: Tree) -> Result<u64> {
    // UNION (not UNION ALL) so a corrupt tree with a cycle still terminates.
    let sql = match tree {
        Tree::Sponsor => {
            "WITH RECURSIVE down(id) AS ( \
                 SELECT id FROM members WHERE sponsor_id = ?1 \
                 UNION SELECT m.id FROM members m JOIN down ON m.sponsor_id = down.id) \
             SELECT COUNT(*) FROM down"
        }
        Tree::Placement => {
            "WITH RECURSIVE down(id) AS ( \
                 SELECT id FROM members WHERE placement_parent_id = ?1 \
                 UNION SELECT m.id FROM members m JOIN down ON m.placement_parent_id = down.id) \
             SELECT COUNT(*) FROM down"
        }
    };
    let count: i64 = conn
        .prepare_cached(sql)?
        .query_row([root.get()], |row| row.get(0))?;
    Ok(u64::try_from(count).unwrap_or(0))
}

pub(super) fn is_in_sponsor_line(
    conn: &Connection,
    member: MemberId,
    ancestor: MemberId,
    max_depth: u32,
) -> Result<bool> {
    // Walks up one primary-key lookup per level inside SQLite; the depth bound also ends
    // the walk on a corrupt tree with a cycle.
    let found: bool = conn
        .prepare_cached(
            "WITH RECURSIVE up(id, depth) AS ( \
                 SELECT sponsor_id, 1 FROM members WHERE id = ?1 \
                 UNION ALL SELECT m.sponsor_id, up.depth + 1 FROM members m \
                     JOIN up ON m.id = up.id WHERE up.depth < ?3) \
             SELECT EXISTS (SELECT 1 FROM up WHERE id = ?2)",
        )?
        .query_row(
            rusqlite::params![member.get(), ancestor.get(), max_depth],
            |row| row.get(0),
        )?;
    Ok(found)
}

pub(super) fn insert_orders(tx: &Connection, orders: &[Order]) -> Result<u64> {
    let mut order_stmt = tx.prepare_cached(
        "INSERT INTO orders (id, member_id, customer_id, placed_at, status, currency) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut line_stmt = tx.prepare_cached(
        "INSERT INTO order_lines \
             (order_id, line_no, sku, quantity, unit_price_minor, unit_pv_hundredths) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for order in orders {
        order_stmt.execute(params![
            order.id.get(),
            order.buyer.get(),
            order.customer.map(CustomerId::get),
            unix(order.placed_at),
            order_status_key(order.status),
            order.currency.as_str(),
        ])?;
        for (line_no, line) in order.lines.iter().enumerate() {
            if line.unit_price.currency() != order.currency {
                return Err(StorageError::Invalid(
                    "every line of an order must be in the order's currency",
                ));
            }
            line_stmt.execute(params![
                order.id.get(),
                line_no as i64,
                line.sku.as_str(),
                i64::from(line.quantity.get()),
                line.unit_price.minor(),
                line.unit_pv.hundredths(),
            ])?;
        }
    }
    Ok(orders.len() as u64)
}

/// `member`'s own orders, oldest first.
pub(super) fn orders_of(conn: &Connection, member: MemberId) -> Result<Vec<Order>> {
    let ids: Vec<i64> = conn
        .prepare_cached("SELECT id FROM orders WHERE member_id = ?1 ORDER BY placed_at, id")?
        .query_map([member.get()], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut orders = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(order) = find_order(conn, OrderId::new(id))? {
            orders.push(order);
        }
    }
    Ok(orders)
}

pub(super) fn find_order(conn: &Connection, id: OrderId) -> Result<Option<Order>> {
    let head = conn
        .prepare_cached(
            "SELECT member_id, customer_id, placed_at, status, currency FROM orders WHERE id = ?1",
        )?
        .query_row([id.get()], |row| {
            Ok(Order {
                id,
                buyer: MemberId::new(row.get(0)?),
                customer: row.get::<_, Option<i64>>(1)?.map(CustomerId::new),
                placed_at: time_at(row, 2)?,
                status: parsed(row, 3, "order status", order_status)?,
                currency: parsed(row, 4, "currency", |c| {
                    Currency::parse(c).map_err(|_: CurrencyError| BadValue("currency"))
                })?,
                lines: Vec::new(),
            })
        })
        .optional()?;
    let Some(mut order) = head else {
        return Ok(None);
    };
    let currency = order.currency;
    let mut stmt = conn.prepare_cached(
        "SELECT sku, quantity, unit_price_minor, unit_pv_hundredths FROM order_lines \
         WHERE order_id = ?1 ORDER BY line_no",
    )?;
    let lines = stmt.query_map([id.get()], |row| {
        Ok(OrderLine {
            sku: parsed(row, 0, "sku", Sku::parse)?,
            quantity: {
                let q: u32 = row.get(1)?;
                NonZeroU32::new(q).ok_or_else(|| {
                    rusqlite::Error::FromSqlConversionFailure(
                        1,
                        rusqlite::types::Type::Integer,
                        Box::new(BadValue("quantity")),
                    )
                })?
            },
            unit_price: Money::new(row.get(2)?, currency),
            unit_pv: Pv::from_hundredths(row.get(3)?),
        })
    })?;
    order.lines = lines.collect::<rusqlite::Result<_>>()?;
    Ok(Some(order))
}
