//! The genealogy (members, their personal details, downline walks) and orders with their
//! lines, on PostgreSQL (mirrors sqlite/members.rs). Downline queries walk the sponsor /
//! placement-parent indexes; bulk inserts send whole columns as arrays through `unnest`.

use std::collections::HashMap;
use std::num::NonZeroU32;

use canopy_core::{
    AddressLine, CountryCode, CurrencyError, Email, MemberId, MemberNumber, Money, Order, OrderId,
    OrderLine, PersonName, PersonalDetails, Phone, PostalAddress, PostalCode, Pv, RankLevel, Sku,
    TaxId, parse_date,
};
use canopy_core::{Currency, CustomerId, format_date};
use tokio_postgres::Row;

use super::Transaction;
use super::convert::{
    BadValue, bad, member_status, member_status_key, opt_parsed, order_status, order_status_key,
    parsed, placement_at, position_columns, time_at, unix,
};
use crate::storage::{MemberRecord, NewMember, Result, StorageError, Tree};

pub(super) const MEMBER_COLUMNS: &str = "id, member_number, sponsor_id, placement_parent_id, placement_leg, \
     placement_index, rank_level, status, joined_on, country, display_name";

/// Rows per bulk statement: one round trip carries this many rows' columns as arrays.
const CHUNK: usize = 10_000;

pub(super) fn member_from_row(row: &Row) -> Result<MemberRecord> {
    let rank: i64 = row.try_get(6)?;
    Ok(MemberRecord {
        id: MemberId::new(row.try_get(0)?),
        number: parsed(row, 1, "member number", MemberNumber::parse)?,
        sponsor: row.try_get::<_, Option<i64>>(2)?.map(MemberId::new),
        placement: placement_at(row, 3)?,
        rank: RankLevel::new(u16::try_from(rank).map_err(|_| bad("rank level"))?),
        status: parsed(row, 7, "member status", member_status)?,
        joined_on: parsed(row, 8, "join date", parse_date)?,
        country: parsed(row, 9, "country", CountryCode::parse)?,
        display_name: parsed(row, 10, "display name", PersonName::parse)?,
    })
}

/// The members and their personal details, a chunk of rows per statement: each column
/// travels as one array, so seeding a million members takes a few hundred round trips
/// rather than two million. The sponsor and placement-parent keys are checked at commit,
/// so a batch may name a member before inserting them.
pub(super) async fn insert_members(tx: &Transaction<'_>, members: &[NewMember]) -> Result<u64> {
    let member_stmt = tx
        .prepare_cached(
            "INSERT INTO members (id, member_number, sponsor_id, placement_parent_id, \
                 placement_leg, placement_index, rank_level, status, joined_on, country, \
                 display_name) \
             SELECT * FROM unnest($1::BIGINT[], $2::TEXT[], $3::BIGINT[], $4::BIGINT[], \
                 $5::TEXT[], $6::BIGINT[], $7::BIGINT[], $8::TEXT[], $9::TEXT[], $10::TEXT[], \
                 $11::TEXT[])",
        )
        .await?;
    let personal_stmt = tx
        .prepare_cached(
            "INSERT INTO member_personal (member_id, legal_name, email, phone, date_of_birth, \
                 address_line1, address_line2, address_city, address_region, postal_code, \
                 tax_id) \
             SELECT * FROM unnest($1::BIGINT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], \
                 $5::TEXT[], $6::TEXT[], $7::TEXT[], $8::TEXT[], $9::TEXT[], $10::TEXT[], \
                 $11::TEXT[])",
        )
        .await?;
    for chunk in members.chunks(CHUNK) {
        let mut ids = Vec::with_capacity(chunk.len());
        let mut numbers = Vec::with_capacity(chunk.len());
        let mut sponsors = Vec::with_capacity(chunk.len());
        let mut parents = Vec::with_capacity(chunk.len());
        let mut legs = Vec::with_capacity(chunk.len());
        let mut indexes = Vec::with_capacity(chunk.len());
        let mut ranks = Vec::with_capacity(chunk.len());
        let mut statuses = Vec::with_capacity(chunk.len());
        let mut joined = Vec::with_capacity(chunk.len());
        let mut countries = Vec::with_capacity(chunk.len());
        let mut names = Vec::with_capacity(chunk.len());
        let mut personal = PersonalColumns::default();
        for new in chunk {
            let m = &new.member;
            let (leg, index) = match m.placement {
                Some(p) => {
                    let (leg, index) = position_columns(p.position);
                    (Some(leg), index)
                }
                None => (None, 0),
            };
            ids.push(m.id.get());
            numbers.push(m.number.as_str());
            sponsors.push(m.sponsor.map(MemberId::get));
            parents.push(m.placement.map(|p| p.parent.get()));
            legs.push(leg);
            indexes.push(index);
            ranks.push(i64::from(m.rank.get()));
            statuses.push(member_status_key(m.status));
            joined.push(format_date(m.joined_on));
            countries.push(m.country.as_str());
            names.push(m.display_name.as_str());
            if let Some(p) = &new.personal {
                personal.push(m.id, p);
            }
        }
        tx.execute(
            &member_stmt,
            &[
                &ids, &numbers, &sponsors, &parents, &legs, &indexes, &ranks, &statuses, &joined,
                &countries, &names,
            ],
        )
        .await?;
        if !personal.member_id.is_empty() {
            let p = &personal;
            tx.execute(
                &personal_stmt,
                &[
                    &p.member_id,
                    &p.legal_name,
                    &p.email,
                    &p.phone,
                    &p.date_of_birth,
                    &p.line1,
                    &p.line2,
                    &p.city,
                    &p.region,
                    &p.postal_code,
                    &p.tax_id,
                ],
            )
            .await?;
        }
    }
    Ok(u64::try_from(members.len()).unwrap_or(u64::MAX))
}

/// The `member_personal` columns of a chunk, one vector per column.
#[derive(Default)]
struct PersonalColumns<'a> {
    member_id: Vec<i64>,
    legal_name: Vec<&'a str>,
    email: Vec<Option<&'a str>>,
    phone: Vec<Option<&'a str>>,
    date_of_birth: Vec<Option<String>>,
    line1: Vec<Option<&'a str>>,
    line2: Vec<Option<&'a str>>,
    city: Vec<Option<&'a str>>,
    region: Vec<Option<&'a str>>,
    postal_code: Vec<Option<&'a str>>,
    tax_id: Vec<Option<&'a str>>,
}

impl<'a> PersonalColumns<'a> {
    fn push(&mut self, id: MemberId, p: &'a PersonalDetails) {
        let address = p.address.as_ref();
        self.member_id.push(id.get());
        self.legal_name.push(p.legal_name.as_str());
        self.email.push(p.email.as_ref().map(Email::as_str));
        self.phone.push(p.phone.as_ref().map(Phone::as_str));
        self.date_of_birth.push(p.date_of_birth.map(format_date));
        self.line1.push(address.map(|a| a.line1.as_str()));
        self.line2
            .push(address.and_then(|a| a.line2.as_ref().map(AddressLine::as_str)));
        self.city.push(address.map(|a| a.city.as_str()));
        self.region
            .push(address.and_then(|a| a.region.as_ref().map(AddressLine::as_str)));
        self.postal_code
            .push(address.and_then(|a| a.postal_code.as_ref().map(PostalCode::as_str)));
        self.tax_id.push(p.tax_id.as_ref().map(TaxId::as_str));
    }
}

pub(super) async fn find_member(
    tx: &Transaction<'_>,
    id: MemberId,
) -> Result<Option<MemberRecord>> {
    let sql = format!("SELECT {MEMBER_COLUMNS} FROM members WHERE id = $1");
    let stmt = tx.prepare_cached(&sql).await?;
    tx.query_opt(&stmt, &[&id.get()])
        .await?
        .map(|row| member_from_row(&row))
        .transpose()
}

/// The personal columns, in the order [`personal_from_row`] reads them.
pub(super) const PERSONAL_COLUMNS: &str = "legal_name, email, phone, date_of_birth, \
    address_line1, address_line2, address_city, address_region, postal_code, tax_id";

pub(super) async fn find_personal(
    tx: &Transaction<'_>,
    id: MemberId,
) -> Result<Option<PersonalDetails>> {
    let sql = format!("SELECT {PERSONAL_COLUMNS} FROM member_personal WHERE member_id = $1");
    let stmt = tx.prepare_cached(&sql).await?;
    match tx.query_opt(&stmt, &[&id.get()]).await? {
        None => Ok(None),
        Some(row) => personal_from_row(&row, 0),
    }
}

/// Personal details from [`PERSONAL_COLUMNS`] starting at column `at`; `None` where a LEFT
/// JOIN found none (no legal name).
pub(super) fn personal_from_row(row: &Row, at: usize) -> Result<Option<PersonalDetails>> {
    if row.try_get::<_, Option<&str>>(at)?.is_none() {
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

pub(super) async fn list_enrollees(
    tx: &Transaction<'_>,
    sponsor: MemberId,
    after: Option<MemberId>,
    limit: u32,
) -> Result<Vec<MemberRecord>> {
    let sql = format!(
        "SELECT {MEMBER_COLUMNS} FROM members WHERE sponsor_id = $1 AND id > $2 \
         ORDER BY id LIMIT $3"
    );
    let stmt = tx.prepare_cached(&sql).await?;
    let after = after.map_or(i64::MIN, MemberId::get);
    tx.query(&stmt, &[&sponsor.get(), &after, &i64::from(limit)])
        .await?
        .iter()
        .map(member_from_row)
        .collect()
}

pub(super) async fn count_downline(
    tx: &Transaction<'_>,
    root: MemberId,
    tree: Tree,
) -> Result<u64> {
    // UNION (not UNION ALL) so a corrupt tree with a cycle still terminates.
    let sql = match tree {
        Tree::Sponsor => {
            "WITH RECURSIVE down(id) AS ( \
                 SELECT id FROM members WHERE sponsor_id = $1 \
                 UNION SELECT m.id FROM members m JOIN down ON m.sponsor_id = down.id) \
             SELECT COUNT(*) FROM down"
        }
        Tree::Placement => {
            "WITH RECURSIVE down(id) AS ( \
                 SELECT id FROM members WHERE placement_parent_id = $1 \
                 UNION SELECT m.id FROM members m JOIN down ON m.placement_parent_id = down.id) \
             SELECT COUNT(*) FROM down"
        }
    };
    let stmt = tx.prepare_cached(sql).await?;
    let count: i64 = tx.query_one(&stmt, &[&root.get()]).await?.try_get(0)?;
    Ok(u64::try_from(count).unwrap_or(0))
}

pub(super) async fn is_in_sponsor_line(
    tx: &Transaction<'_>,
    member: MemberId,
    ancestor: MemberId,
    max_depth: u32,
) -> Result<bool> {
    // Walks up one primary-key lookup per level; the depth bound also ends the walk on a
    // corrupt tree with a cycle.
    let stmt = tx
        .prepare_cached(
            "WITH RECURSIVE up(id, depth) AS ( \
                 SELECT sponsor_id, 1::BIGINT FROM members WHERE id = $1 \
                 UNION ALL SELECT m.sponsor_id, up.depth + 1 FROM members m \
                     JOIN up ON m.id = up.id WHERE up.depth < $3::BIGINT) \
             SELECT EXISTS (SELECT 1 FROM up WHERE id = $2)",
        )
        .await?;
    let found: bool = tx
        .query_one(
            &stmt,
            &[&member.get(), &ancestor.get(), &i64::from(max_depth)],
        )
        .await?
        .try_get(0)?;
    Ok(found)
}

/// The order and line columns of a chunk of orders, one vector per column.
#[derive(Default)]
struct OrderColumns<'a> {
    id: Vec<i64>,
    member_id: Vec<i64>,
    customer_id: Vec<Option<i64>>,
    placed_at: Vec<i64>,
    status: Vec<&'static str>,
    currency: Vec<&'a str>,
    line_order: Vec<i64>,
    line_no: Vec<i64>,
    sku: Vec<&'a str>,
    quantity: Vec<i64>,
    unit_price: Vec<i64>,
    unit_pv: Vec<i64>,
}

impl OrderColumns<'_> {
    /// Inserts the orders, then their lines, and empties the columns.
    async fn flush(&mut self, tx: &Transaction<'_>) -> Result<()> {
        if !self.id.is_empty() {
            let stmt = tx
                .prepare_cached(
                    "INSERT INTO orders (id, member_id, customer_id, placed_at, status, currency) \
                     SELECT * FROM unnest($1::BIGINT[], $2::BIGINT[], $3::BIGINT[], \
                         $4::BIGINT[], $5::TEXT[], $6::TEXT[])",
                )
                .await?;
            tx.execute(
                &stmt,
                &[
                    &self.id,
                    &self.member_id,
                    &self.customer_id,
                    &self.placed_at,
                    &self.status,
                    &self.currency,
                ],
            )
            .await?;
        }
        if !self.line_order.is_empty() {
            let stmt = tx
                .prepare_cached(
                    "INSERT INTO order_lines \
                         (order_id, line_no, sku, quantity, unit_price_minor, unit_pv_hundredths) \
                     SELECT * FROM unnest($1::BIGINT[], $2::BIGINT[], $3::TEXT[], \
                         $4::BIGINT[], $5::BIGINT[], $6::BIGINT[])",
                )
                .await?;
            tx.execute(
                &stmt,
                &[
                    &self.line_order,
                    &self.line_no,
                    &self.sku,
                    &self.quantity,
                    &self.unit_price,
                    &self.unit_pv,
                ],
            )
            .await?;
        }
        *self = Self::default();
        Ok(())
    }
}

/// The orders and their lines, a chunk of orders per pair of statements (the columns as
/// arrays). A line in another currency than its order's is refused as SQLite's backend
/// refuses it: after what came before it was written (so an earlier conflict wins).
pub(super) async fn insert_orders(tx: &Transaction<'_>, orders: &[Order]) -> Result<u64> {
    let mut columns = OrderColumns::default();
    for order in orders {
        columns.id.push(order.id.get());
        columns.member_id.push(order.buyer.get());
        columns
            .customer_id
            .push(order.customer.map(CustomerId::get));
        columns.placed_at.push(unix(order.placed_at));
        columns.status.push(order_status_key(order.status));
        columns.currency.push(order.currency.as_str());
        for (line_no, line) in (0_i64..).zip(&order.lines) {
            if line.unit_price.currency() != order.currency {
                columns.flush(tx).await?;
                return Err(StorageError::Invalid(
                    "every line of an order must be in the order's currency",
                ));
            }
            columns.line_order.push(order.id.get());
            columns.line_no.push(line_no);
            columns.sku.push(line.sku.as_str());
            columns.quantity.push(i64::from(line.quantity.get()));
            columns.unit_price.push(line.unit_price.minor());
            columns.unit_pv.push(line.unit_pv.hundredths());
        }
        if columns.id.len() >= CHUNK || columns.line_order.len() >= CHUNK {
            columns.flush(tx).await?;
        }
    }
    columns.flush(tx).await?;
    Ok(u64::try_from(orders.len()).unwrap_or(u64::MAX))
}

const ORDER_HEAD_COLUMNS: &str = "id, member_id, customer_id, placed_at, status, currency";

/// An order's head from [`ORDER_HEAD_COLUMNS`], without its lines.
fn order_head_from_row(row: &Row) -> Result<Order> {
    Ok(Order {
        id: OrderId::new(row.try_get(0)?),
        buyer: MemberId::new(row.try_get(1)?),
        customer: row.try_get::<_, Option<i64>>(2)?.map(CustomerId::new),
        placed_at: time_at(row, 3)?,
        status: parsed(row, 4, "order status", order_status)?,
        currency: parsed(row, 5, "currency", |c| {
            Currency::parse(c).map_err(|_: CurrencyError| BadValue("currency"))
        })?,
        lines: Vec::new(),
    })
}

/// A line from `sku, quantity, unit_price_minor, unit_pv_hundredths` at `at..at + 4`.
fn line_from_row(row: &Row, at: usize, currency: Currency) -> Result<OrderLine> {
    let quantity: i64 = row.try_get(at + 1)?;
    Ok(OrderLine {
        sku: parsed(row, at, "sku", Sku::parse)?,
        quantity: u32::try_from(quantity)
            .ok()
            .and_then(NonZeroU32::new)
            .ok_or_else(|| bad("quantity"))?,
        unit_price: Money::new(row.try_get(at + 2)?, currency),
        unit_pv: Pv::from_hundredths(row.try_get(at + 3)?),
    })
}

/// `member`'s own orders, oldest first. Two statements (the heads, then every line of
/// them) instead of SQLite's one lookup per order: each is a round trip here.
pub(super) async fn orders_of(tx: &Transaction<'_>, member: MemberId) -> Result<Vec<Order>> {
    let sql = format!(
        "SELECT {ORDER_HEAD_COLUMNS} FROM orders WHERE member_id = $1 ORDER BY placed_at, id"
    );
    let stmt = tx.prepare_cached(&sql).await?;
    let mut orders = tx
        .query(&stmt, &[&member.get()])
        .await?
        .iter()
        .map(order_head_from_row)
        .collect::<Result<Vec<_>>>()?;
    if orders.is_empty() {
        return Ok(orders);
    }
    let at: HashMap<i64, usize> = orders
        .iter()
        .enumerate()
        .map(|(i, o)| (o.id.get(), i))
        .collect();
    let stmt = tx
        .prepare_cached(
            "SELECT l.order_id, l.sku, l.quantity, l.unit_price_minor, l.unit_pv_hundredths \
             FROM orders o JOIN order_lines l ON l.order_id = o.id \
             WHERE o.member_id = $1 ORDER BY l.order_id, l.line_no",
        )
        .await?;
    for row in tx.query(&stmt, &[&member.get()]).await? {
        let order_id: i64 = row.try_get(0)?;
        let Some(order) = at.get(&order_id).and_then(|&i| orders.get_mut(i)) else {
            continue;
        };
        let line = line_from_row(&row, 1, order.currency)?;
        order.lines.push(line);
    }
    Ok(orders)
}

pub(super) async fn find_order(tx: &Transaction<'_>, id: OrderId) -> Result<Option<Order>> {
    let sql = format!("SELECT {ORDER_HEAD_COLUMNS} FROM orders WHERE id = $1");
    let stmt = tx.prepare_cached(&sql).await?;
    let Some(row) = tx.query_opt(&stmt, &[&id.get()]).await? else {
        return Ok(None);
    };
    let mut order = order_head_from_row(&row)?;
    let stmt = tx
        .prepare_cached(
            "SELECT sku, quantity, unit_price_minor, unit_pv_hundredths FROM order_lines \
             WHERE order_id = $1 ORDER BY line_no",
        )
        .await?;
    order.lines = tx
        .query(&stmt, &[&id.get()])
        .await?
        .iter()
        .map(|row| line_from_row(row, 0, order.currency))
        .collect::<Result<_>>()?;
    Ok(Some(order))
}
