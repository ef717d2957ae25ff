//! Outbox commands on PostgreSQL (mirrors sqlite/commands.rs): answers kept by idempotency
//! key, and enrollments applied with their answer in one transaction. Every write holds
//! the global write lock, so the read-then-write steps (a free email, the next member id,
//! number and unilevel slot, the next order id) see every write committed before them.

use canopy_core::sync::push::{Contact, Outcome};
use canopy_core::{
    AccountId, Enrollment, MemberId, MemberNumber, MemberStatus, OrderLine, Placement, Position,
    RankLevel,
};
use time::OffsetDateTime;

use super::Transaction;
use super::convert::{bad, unix};
use super::{members, products};
use crate::storage::NewOrder;
use crate::storage::keys::price_lines;
use crate::storage::{MemberRecord, NewMember, Result, StorageError};

pub(super) async fn find_outcome(
    tx: &Transaction<'_>,
    account: AccountId,
    key: &str,
) -> Result<Option<Outcome>> {
    let stmt = tx
        .prepare_cached(
            "SELECT outcome FROM applied_commands WHERE account_id = $1 AND idempotency_key = $2",
        )
        .await?;
    let Some(row) = tx.query_opt(&stmt, &[&account.get(), &key]).await? else {
        return Ok(None);
    };
    let text: &str = row.try_get(0)?;
    serde_json::from_str(text)
        .map(Some)
        .map_err(|_| StorageError::Invalid("a stored command answer is damaged"))
}

pub(super) async fn record_outcome(
    tx: &Transaction<'_>,
    account: AccountId,
    key: &str,
    outcome: &Outcome,
    now: OffsetDateTime,
) -> Result<Outcome> {
    if let Some(first) = find_outcome(tx, account, key).await? {
        return Ok(first);
    }
    let text = serde_json::to_string(outcome)
        .map_err(|_| StorageError::Invalid("a command answer can't be stored"))?;
    let stmt = tx
        .prepare_cached(
            "INSERT INTO applied_commands (account_id, idempotency_key, outcome, applied_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .await?;
    tx.execute(&stmt, &[&account.get(), &key, &text, &unix(now)])
        .await?;
    Ok(outcome.clone())
}

async fn log_change(tx: &Transaction<'_>, member: i64, now: OffsetDateTime) -> Result<()> {
    let stmt = tx
        .prepare_cached("INSERT INTO member_changes (member_id, at) VALUES ($1, $2)")
        .await?;
    tx.execute(&stmt, &[&member, &unix(now)]).await?;
    Ok(())
}

pub(super) async fn enroll_member(
    tx: &Transaction<'_>,
    account: AccountId,
    key: &str,
    enrollment: Enrollment,
    now: OffsetDateTime,
) -> Result<Outcome> {
    if let Some(first) = find_outcome(tx, account, key).await? {
        return Ok(first);
    }
    if let Some(email) = &enrollment.personal.email {
        let stmt = tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM member_personal WHERE lower(email) = lower($1))",
            )
            .await?;
        let taken: bool = tx.query_one(&stmt, &[&email.as_str()]).await?.try_get(0)?;
        if taken {
            let rejected = Outcome::Rejected {
                reason: format!("{email} is already enrolled"),
            };
            return record_outcome(tx, account, key, &rejected, now).await;
        }
    }
    let stmt = tx
        .prepare_cached("SELECT coalesce(max(id), 0) + 1 FROM members")
        .await?;
    let id: i64 = tx.query_one(&stmt, &[]).await?.try_get(0)?;
    let number = next_member_number(tx).await?;
    let stmt = tx
        .prepare_cached("SELECT count(*) FROM members WHERE placement_parent_id = $1")
        .await?;
    let slot: i64 = tx
        .query_one(&stmt, &[&enrollment.sponsor.get()])
        .await?
        .try_get(0)?;
    let slot = u32::try_from(slot).map_err(|_| bad("unilevel slot"))?;
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
    )
    .await?;
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
    let stmt = tx
        .prepare_cached(
            "INSERT INTO enrollment_consents \
                 (member_id, text_version, purposes, given_at, given_offline, enrolled_by) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .await?;
    tx.execute(
        &stmt,
        &[
            &id,
            &consent.text_version.as_str(),
            &purposes.join(","),
            &unix(consent.given_at),
            &consent.given_offline,
            &account.get(),
        ],
    )
    .await?;
    log_change(tx, id, now).await?;
    let applied = Outcome::Applied {
        server_ref: format!("member:{id}"),
    };
    record_outcome(tx, account, key, &applied, now).await
}

/// The number after the newest member's (member numbers are issued in order), skipping any
/// already taken. Index lookups only: no scan of the members table.
async fn next_member_number(tx: &Transaction<'_>) -> Result<MemberNumber> {
    let stmt = tx
        .prepare_cached("SELECT member_number FROM members ORDER BY id DESC LIMIT 1")
        .await?;
    let newest: Option<String> = match tx.query_opt(&stmt, &[]).await? {
        Some(row) => Some(row.try_get(0)?),
        None => None,
    };
    let first = newest
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(10_000_000)
        + 1;
    let taken = tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM members WHERE member_number = $1)")
        .await?;
    for candidate in first..first + 10_000 {
        let text = candidate.to_string();
        let used: bool = tx.query_one(&taken, &[&text]).await?.try_get(0)?;
        if !used {
            return MemberNumber::parse(&text)
                .map_err(|_| StorageError::Invalid("member numbers ran out of digits"));
        }
    }
    Err(StorageError::Invalid(
        "no free member number near the newest one",
    ))
}

pub(super) async fn enroll_members(
    tx: &Transaction<'_>,
    account: AccountId,
    batch: Vec<(String, Enrollment)>,
    now: OffsetDateTime,
) -> Result<Vec<Outcome>> {
    let mut outcomes = Vec::with_capacity(batch.len());
    for (key, enrollment) in batch {
        // A savepoint per enrollment: one that fails leaves the others standing, and
        // unanswered, so the device sends it again.
        tx.batch_execute("SAVEPOINT enrollment").await?;
        match enroll_member(tx, account, &key, enrollment, now).await {
            Ok(outcome) => {
                tx.batch_execute("RELEASE enrollment").await?;
                outcomes.push(outcome);
            }
            Err(err) => {
                tx.batch_execute("ROLLBACK TO enrollment; RELEASE enrollment")
                    .await?;
                tracing::error!(error = %err, "an enrollment could not be stored");
                outcomes.push(Outcome::RetryLater {
                    reason: "The server could not save this just now; it will be sent again".into(),
                });
            }
        }
    }
    Ok(outcomes)
}

pub(super) async fn add_note(
    tx: &Transaction<'_>,
    account: AccountId,
    key: &str,
    member: MemberId,
    body: &str,
    now: OffsetDateTime,
) -> Result<Outcome> {
    if let Some(first) = find_outcome(tx, account, key).await? {
        return Ok(first);
    }
    let stmt = tx
        .prepare_cached(
            "INSERT INTO member_notes (account_id, member_id, body, created_at) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .await?;
    let id: i64 = tx
        .query_one(&stmt, &[&account.get(), &member.get(), &body, &unix(now)])
        .await?
        .try_get(0)?;
    let applied = Outcome::Applied {
        server_ref: format!("note:{id}"),
    };
    record_outcome(tx, account, key, &applied, now).await
}

pub(super) async fn update_contact(
    tx: &Transaction<'_>,
    account: AccountId,
    key: &str,
    member: MemberId,
    contact: &Contact,
    now: OffsetDateTime,
) -> Result<Outcome> {
    if let Some(first) = find_outcome(tx, account, key).await? {
        return Ok(first);
    }
    let stmt = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM member_personal \
             WHERE lower(email) = lower($1) AND member_id <> $2)",
        )
        .await?;
    let taken: bool = tx
        .query_one(&stmt, &[&contact.email.as_str(), &member.get()])
        .await?
        .try_get(0)?;
    let refusal = if taken {
        Some(format!(
            "{} is already used by another member",
            contact.email
        ))
    } else {
        let address = contact.address.as_ref();
        let stmt = tx
            .prepare_cached(
                "UPDATE member_personal SET email = $2, phone = $3, address_line1 = $4, \
                     address_line2 = $5, address_city = $6, address_region = $7, \
                     postal_code = $8 \
                 WHERE member_id = $1",
            )
            .await?;
        let changed = tx
            .execute(
                &stmt,
                &[
                    &member.get(),
                    &contact.email.as_str(),
                    &contact.phone.as_ref().map(|p| p.as_str()),
                    &address.map(|a| a.line1.as_str()),
                    &address.and_then(|a| a.line2.as_ref().map(|l| l.as_str())),
                    &address.map(|a| a.city.as_str()),
                    &address.and_then(|a| a.region.as_ref().map(|r| r.as_str())),
                    &address.and_then(|a| a.postal_code.as_ref().map(|p| p.as_str())),
                ],
            )
            .await?;
        (changed == 0).then(|| {
            "Your personal details aren't on file yet: ask the company to add them".to_owned()
        })
    };
    let outcome = match refusal {
        Some(reason) => Outcome::Rejected { reason },
        None => {
            log_change(tx, member.get(), now).await?;
            Outcome::Applied {
                server_ref: format!("member:{}", member.get()),
            }
        }
    };
    record_outcome(tx, account, key, &outcome, now).await
}

/// An order of catalogue products for `member`, priced by the catalogue now, refused with
/// a reason a person can act on (an unknown or withdrawn product, a total over the limit).
/// `orders.id` has no identity (seeded orders come with theirs): a placed order takes
/// max(id) + 1, as SQLite's rowid would, safe under the write lock.
pub(super) async fn place_order(
    tx: &Transaction<'_>,
    order: &NewOrder,
    now: OffsetDateTime,
) -> Result<Outcome> {
    if let Some(first) = find_outcome(tx, order.account, &order.key).await? {
        return Ok(first);
    }
    let outcome = match price_order(tx, order).await? {
        Err(reason) => Outcome::Rejected { reason },
        Ok(lines) => {
            let Some(currency) = lines.first().map(|l| l.unit_price.currency()) else {
                return Err(StorageError::Invalid("an order needs at least one product"));
            };
            let stmt = tx
                .prepare_cached(
                    "INSERT INTO orders (id, member_id, placed_at, status, currency) \
                     SELECT coalesce(max(id), 0) + 1, $1::BIGINT, $2::BIGINT, 'pending', \
                         $3::TEXT FROM orders \
                     RETURNING id",
                )
                .await?;
            let id: i64 = tx
                .query_one(
                    &stmt,
                    &[&order.member.get(), &unix(now), &currency.as_str()],
                )
                .await?
                .try_get(0)?;
            let mut line_no = Vec::with_capacity(lines.len());
            let mut sku = Vec::with_capacity(lines.len());
            let mut quantity = Vec::with_capacity(lines.len());
            let mut price = Vec::with_capacity(lines.len());
            let mut pv = Vec::with_capacity(lines.len());
            for (no, line) in (0_i64..).zip(&lines) {
                line_no.push(no);
                sku.push(line.sku.as_str());
                quantity.push(i64::from(line.quantity.get()));
                price.push(line.unit_price.minor());
                pv.push(line.unit_pv.hundredths());
            }
            let stmt = tx
                .prepare_cached(
                    "INSERT INTO order_lines \
                         (order_id, line_no, sku, quantity, unit_price_minor, unit_pv_hundredths) \
                     SELECT $1::BIGINT, * FROM unnest($2::BIGINT[], $3::TEXT[], $4::BIGINT[], \
                         $5::BIGINT[], $6::BIGINT[])",
                )
                .await?;
            tx.execute(&stmt, &[&id, &line_no, &sku, &quantity, &price, &pv])
                .await?;
            // The buyer's devices get the order with their next delta.
            log_change(tx, order.member.get(), now).await?;
            Outcome::Applied {
                server_ref: format!("order:{id}"),
            }
        }
    };
    record_outcome(tx, order.account, &order.key, &outcome, now).await
}

/// The order's lines at the catalogue's prices, or why it can't be placed.
async fn price_order(
    tx: &Transaction<'_>,
    order: &NewOrder,
) -> Result<std::result::Result<Vec<OrderLine>, String>> {
    let mut catalogue = Vec::with_capacity(order.lines.len());
    for (sku, _) in &order.lines {
        catalogue.push(products::find(tx, sku).await?);
    }
    Ok(price_lines(order, catalogue))
}
