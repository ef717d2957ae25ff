//! Outbox commands on SQLite: answers kept by idempotency key, and enrollments applied with
//! their answer in one transaction.

use canopy_core::sync::push::{Contact, Outcome};
use canopy_core::{
    AccountId, Enrollment, MemberId, MemberNumber, MemberStatus, OrderLine, Placement, Position,
    RankLevel,
};
use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;

use super::convert::unix;
use super::{members, products};
use crate::storage::NewOrder;
use crate::storage::keys::price_lines;
use crate::storage::{MemberRecord, NewMember, Result, StorageError};

pub(super) fn find_outcome(
    conn: &Connection,
    account: AccountId,
    key: &str,
) -> Result<Option<Outcome>> {
    let text: Option<String> = conn
        .prepare_cached(
            "SELECT outcome FROM applied_commands WHERE account_id = ?1 AND idempotency_key = ?2",
        )?
        .query_row(params![account.get(), key], |r| r.get(0))
        .optional()?;
    text.map(|t| {
        serde_json::from_str(&t)
            .map_err(|_| StorageError::Invalid("a stored command answer is damaged"))
    })
    .transpose()
}

pub(super) fn record_outcome(
    conn: &Connection,
    account: AccountId,
    key: &str,
    outcome: &Outcome,
    now: OffsetDateTime,
) -> Result<Outcome> {
    if let Some(first) = find_outcome(conn, account, key)? {
        return Ok(first);
    }
    let text = serde_json::to_string(outcome)
        .map_err(|_| StorageError::Invalid("a command answer can't be stored"))?;
    conn.prepare_cached(
        "INSERT INTO applied_commands (account_id, idempotency_key, outcome, applied_at) \
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![account.get(), key, text, unix(now)])?;
    Ok(outcome.clone())
}

pub(super) fn enroll_member(
    tx: &Connection,
    account: AccountId,
    key: &str,
    enrollment: Enrollment,
    now: OffsetDateTime,
) -> Result<Outcome> {
    if let Some(first) = find_outcome(tx, account, key)? {
        return Ok(first);
    }
    if let Some(email) = &enrollment.personal.email {
        let taken: bool = tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM member_personal WHERE lower(email) = lower(?1))",
            )?
            .query_row([email.as_str()], |r| r.get(0))?;
        if taken {
            let rejected = Outcome::Rejected {
                reason: format!("{email} is already enrolled"),
            };
            return record_outcome(tx, account, key, &rejected, now);
        }
    }
    let id: i64 = tx.query_row("SELECT coalesce(max(id), 0) + 1 FROM members", [], |r| {
        r.get(0)
    })?;
    let number = next_member_number(tx)?;
    let slot: u32 = tx.query_row(
        "SELECT count(*) FROM members WHERE placement_parent_id = ?1",
        [enrollment.sponsor.get()],
        |r| r.get(0),
    )?;
    let member = MemberRecord {
        id: MemberId::new(id),
        number,
        sponsor: Some(enrollment.sponsor),
        placement: Some(Placement {
            parent: enrollment.sponsor,
            position: Position::Unilevel(slot),
        }),
        rank: RankLevel::new(0),
        status: MemberStatus::Active,
        joined_on: now.date(),
        country: enrollment.country,
        display_name: enrollment.display_name,
    };
    members::insert_members(
        tx,
        &[NewMember {
            member,
            personal: Some(enrollment.personal),
        }],
    )?;
    let consent = &enrollment.consent;
    let purposes: Vec<String> = consent
        .purposes
        .iter()
        .map(|p| {
            serde_json::to_value(p)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        })
        .collect();
    tx.prepare_cached(
        "INSERT INTO enrollment_consents \
             (member_id, text_version, purposes, given_at, given_offline, enrolled_by) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        id,
        consent.text_version.as_str(),
        purposes.join(","),
        unix(consent.given_at),
        consent.given_offline,
        account.get()
    ])?;
    tx.prepare_cached("INSERT INTO member_changes (member_id, at) VALUES (?1, ?2)")?
        .execute(params![id, unix(now)])?;
    let applied = Outcome::Applied {
        server_ref: format!("member:{id}"),
    };
    record_outcome(tx, account, key, &applied, now)
}

/// The number after the newest member's (member numbers are issued in order), skipping any
/// already taken. Index lookups only: no scan of the members table.
fn next_member_number(tx: &Connection) -> Result<MemberNumber> {
    let newest: Option<String> = tx
        .query_row(
            "SELECT member_number FROM members ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    let first = newest
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(10_000_000)
        + 1;
    let mut taken =
        tx.prepare_cached("SELECT EXISTS (SELECT 1 FROM members WHERE member_number = ?1)")?;
    for candidate in first..first + 10_000 {
        let text = candidate.to_string();
        if !taken.query_row([&text], |r| r.get::<_, bool>(0))? {
            return MemberNumber::parse(&text)
                .map_err(|_| StorageError::Invalid("member numbers ran out of digits"));
        }
    }
    Err(StorageError::Invalid(
        "no free member number near the newest one",
    ))
}

pub(super) fn enroll_members(
    tx: &Connection,
    account: AccountId,
    batch: Vec<(String, Enrollment)>,
    now: OffsetDateTime,
) -> Result<Vec<Outcome>> {
    batch
        .into_iter()
        .map(|(key, enrollment)| {
            // A savepoint per enrollment: one that fails leaves the others standing, and
            // unanswered, so the device sends it again.
            tx.execute_batch("SAVEPOINT enrollment")?;
            match enroll_member(tx, account, &key, enrollment, now) {
                Ok(outcome) => {
                    tx.execute_batch("RELEASE enrollment")?;
                    Ok(outcome)
                }
                Err(err) => {
                    tx.execute_batch("ROLLBACK TO enrollment; RELEASE enrollment")?;
                    tracing::error!(error = %err, "an enrollment could not be stored");
                    Ok(Outcome::RetryLater {
                        reason: "The server could not save this just now; it will be sent again"
                            .into(),
                    })
                }
            }
        })
        .collect()
}

pub(super) fn add_note(
    tx: &Connection,
    account: AccountId,
    key: &str,
    member: MemberId,
    body: &str,
    now: OffsetDateTime,
) -> Result<Outcome> {
    if let Some(first) = find_outcome(tx, account, key)? {
        return Ok(first);
    }
    tx.prepare_cached(
        "INSERT INTO member_notes (account_id, member_id, body, created_at) \
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![account.get(), member.get(), body, unix(now)])?;
    let applied = Outcome::Applied {
        server_ref: format!("note:{}", tx.last_insert_rowid()),
    };
    record_outcome(tx, account, key, &applied, now)
}

pub(super) fn update_contact(
    tx: &Connection,
    account: AccountId,
    key: &str,
    member: MemberId,
    contact: &Contact,
    now: OffsetDateTime,
) -> Result<Outcome> {
    if let Some(first) = find_outcome(tx, account, key)? {
        return Ok(first);
    }
    let taken: bool = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM member_personal \
             WHERE lower(email) = lower(?1) AND member_id != ?2)",
        )?
        .query_row(params![contact.email.as_str(), member.get()], |r| r.get(0))?;
    let refusal = if taken {
        Some(format!(
            "{} is already used by another member",
            contact.email
        ))
    } else {
        let address = contact.address.as_ref();
        let changed = tx
            .prepare_cached(
                "UPDATE member_personal SET email = ?2, phone = ?3, address_line1 = ?4, \
                     address_line2 = ?5, address_city = ?6, address_region = ?7, \
                     postal_code = ?8 \
                 WHERE member_id = ?1",
            )?
            .execute(params![
                member.get(),
                contact.email.as_str(),
                contact.phone.as_ref().map(|p| p.as_str()),
                address.map(|a| a.line1.as_str()),
                address.and_then(|a| a.line2.as_ref().map(|l| l.as_str())),
                address.map(|a| a.city.as_str()),
                address.and_then(|a| a.region.as_ref().map(|r| r.as_str())),
                address.and_then(|a| a.postal_code.as_ref().map(|p| p.as_str())),
            ])?;
        (changed == 0).then(|| {
            "Your personal details aren't on file yet: ask the company to add them".to_owned()
        })
    };
    let outcome = match refusal {
        Some(reason) => Outcome::Rejected { reason },
        None => {
            tx.prepare_cached("INSERT INTO member_changes (member_id, at) VALUES (?1, ?2)")?
                .execute(params![member.get(), unix(now)])?;
            Outcome::Applied {
                server_ref: format!("member:{}", member.get()),
            }
        }
    };
    record_outcome(tx, account, key, &outcome, now)
}

/// An order of catalogue products for `member`, priced by the catalogue now, refused with
/// a reason a person can act on (an unknown or withdrawn product, a total over the limit).
pub(super) fn place_order(
    tx: &Connection,
    order: &NewOrder,
    now: OffsetDateTime,
) -> Result<Outcome> {
    if let Some(first) = find_outcome(tx, order.account, &order.key)? {
        return Ok(first);
    }
    let outcome = match price_order(tx, order)? {
        Err(reason) => Outcome::Rejected { reason },
        Ok(lines) => {
            let currency = lines[0].unit_price.currency();
            tx.prepare_cached(
                "INSERT INTO orders (member_id, placed_at, status, currency) \
                 VALUES (?1, ?2, 'pending', ?3)",
            )?
            .execute(params![order.member.get(), unix(now), currency.as_str()])?;
            let id = tx.last_insert_rowid();
            let mut line_stmt = tx.prepare_cached(
                "INSERT INTO order_lines \
                     (order_id, line_no, sku, quantity, unit_price_minor, unit_pv_hundredths) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for (line_no, line) in lines.iter().enumerate() {
                line_stmt.execute(params![
                    id,
                    line_no as i64,
                    line.sku.as_str(),
                    i64::from(line.quantity.get()),
                    line.unit_price.minor(),
                    line.unit_pv.hundredths(),
                ])?;
            }
            // The buyer's devices get the order with their next delta.
            tx.prepare_cached("INSERT INTO member_changes (member_id, at) VALUES (?1, ?2)")?
                .execute(params![order.member.get(), unix(now)])?;
            Outcome::Applied {
                server_ref: format!("order:{id}"),
            }
        }
    };
    record_outcome(tx, order.account, &order.key, &outcome, now)
}

/// The order's lines at the catalogue's prices, or why it can't be placed.
fn price_order(
    tx: &Connection,
    order: &NewOrder,
) -> Result<std::result::Result<Vec<OrderLine>, String>> {
    let catalogue = order
        .lines
        .iter()
        .map(|(sku, _)| products::find(tx, sku))
        .collect::<Result<Vec<_>>>()?;
    Ok(price_lines(order, catalogue))
}
