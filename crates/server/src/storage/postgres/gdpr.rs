//! GDPR on PostgreSQL: a person's consent and notes for their export, the erasure (one
//! transaction with its audit event), and the retention purge. Mirrors sqlite/gdpr.rs.

use canopy_core::{AccountId, MemberId};
use serde_json::json;
use time::OffsetDateTime;

use super::convert::{time_at, unix};
use super::{audit, sessions};
use crate::storage::gdpr::{
    ConsentRecord, ERASED_NAME, Erasure, ErasureRecord, NoteRecord, PurgeCounts, PushRecord,
    erased_email,
};
use crate::storage::{DeviceId, NewAuditEvent, Result, RevokeReason, StorageError};

use super::Transaction;

pub(super) async fn consent_of(
    tx: &Transaction<'_>,
    member: MemberId,
) -> Result<Option<ConsentRecord>> {
    let stmt = tx
        .prepare_cached(
            "SELECT text_version, purposes, given_at, given_offline, enrolled_by \
             FROM enrollment_consents WHERE member_id = $1",
        )
        .await?;
    let Some(row) = tx.query_opt(&stmt, &[&member.get()]).await? else {
        return Ok(None);
    };
    let purposes: &str = row.try_get(1)?;
    Ok(Some(ConsentRecord {
        member,
        text_version: row.try_get(0)?,
        purposes: purposes
            .split(',')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect(),
        given_at: time_at(&row, 2)?,
        given_offline: row.try_get(3)?,
        enrolled_by: AccountId::new(row.try_get(4)?),
    }))
}

pub(super) async fn notes_by(tx: &Transaction<'_>, account: AccountId) -> Result<Vec<NoteRecord>> {
    let stmt = tx
        .prepare_cached(
            "SELECT id, member_id, body, created_at FROM member_notes \
             WHERE account_id = $1 ORDER BY created_at, id",
        )
        .await?;
    tx.query(&stmt, &[&account.get()])
        .await?
        .iter()
        .map(|row| {
            Ok(NoteRecord {
                id: row.try_get(0)?,
                member: MemberId::new(row.try_get(1)?),
                body: row.try_get(2)?,
                created_at: time_at(row, 3)?,
            })
        })
        .collect()
}

pub(super) async fn pushes_by(tx: &Transaction<'_>, account: AccountId) -> Result<Vec<PushRecord>> {
    let stmt = tx
        .prepare_cached(
            "SELECT at, kind, device_id, ip, member_id, order_id FROM push_events \
             WHERE account_id = $1 ORDER BY at, id",
        )
        .await?;
    tx.query(&stmt, &[&account.get()])
        .await?
        .iter()
        .map(|row| {
            Ok(PushRecord {
                at: time_at(row, 0)?,
                kind: row.try_get(1)?,
                device: DeviceId::new(row.try_get(2)?),
                ip: row.try_get(3)?,
                member: MemberId::new(row.try_get(4)?),
                order: row.try_get(5)?,
            })
        })
        .collect()
}

/// Runs one statement whose only parameter, `$1`, is a BIGINT (an id or an instant);
/// the rows it changed.
async fn exec_one(tx: &Transaction<'_>, sql: &str, value: i64) -> Result<u64> {
    let stmt = tx.prepare_cached(sql).await?;
    Ok(tx.execute(&stmt, &[&value]).await?)
}

/// Pseudonymises the member and everything that names them, in the caller's transaction.
/// The member's node (id, number, sponsor, placement, rank, join date, country), their
/// orders, earnings and consent stay, so the tree and the money stay correct. `None` when
/// the member is erased already.
pub(super) async fn erase_member(
    tx: &Transaction<'_>,
    erasure: &Erasure,
) -> Result<Option<ErasureRecord>> {
    let member = erasure.member.get();
    let stmt = tx
        .prepare_cached("SELECT status FROM members WHERE id = $1")
        .await?;
    let status: Option<String> = tx
        .query_opt(&stmt, &[&member])
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
    match status.as_deref() {
        None => return Err(StorageError::NotFound),
        Some("erased") => return Ok(None),
        Some(_) => {}
    }
    let at = unix(erasure.at);
    let stmt = tx
        .prepare_cached("UPDATE members SET display_name = $2, status = 'erased' WHERE id = $1")
        .await?;
    tx.execute(&stmt, &[&member, &ERASED_NAME]).await?;
    exec_one(
        tx,
        "DELETE FROM member_personal WHERE member_id = $1",
        member,
    )
    .await?;
    // Notes others kept about the person name them; they go with the person.
    let mut notes_deleted =
        exec_one(tx, "DELETE FROM member_notes WHERE member_id = $1", member).await?;

    let stmt = tx
        .prepare_cached("SELECT id FROM accounts WHERE member_id = $1")
        .await?;
    let account: Option<i64> = tx
        .query_opt(&stmt, &[&member])
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
    let mut devices_revoked = Vec::new();
    let mut sessions_ended = 0;
    let mut sign_ins_deleted = 0;
    if let Some(id) = account {
        let account = AccountId::new(id);
        let email = erased_email(account);
        let stmt = tx
            .prepare_cached(
                "UPDATE accounts SET email = $2, email_key = $2, password_hash = $3, \
                     disabled = TRUE, totp_secret_sealed = NULL, mfa_enabled = FALSE, \
                     last_totp_step = NULL, pending_totp_secret = NULL, \
                     pending_totp_created_at = NULL \
                 WHERE id = $1",
            )
            .await?;
        tx.execute(&stmt, &[&id, &email, &erasure.unusable_password_hash])
            .await?;
        exec_one(tx, "DELETE FROM recovery_codes WHERE account_id = $1", id).await?;
        // Revoked devices wipe their cache the next time they reach the server. RETURNING
        // has no order in PostgreSQL: sorted by id, as SQLite returns them.
        let stmt = tx
            .prepare_cached(
                "WITH revoked AS (UPDATE devices SET revoked_at = $2 \
                                  WHERE account_id = $1 AND revoked_at IS NULL RETURNING id) \
                 SELECT id FROM revoked ORDER BY id",
            )
            .await?;
        devices_revoked = tx
            .query(&stmt, &[&id, &at])
            .await?
            .iter()
            .map(|r| r.try_get(0).map(DeviceId::new))
            .collect::<std::result::Result<_, _>>()?;
        // A device's name is often the person's ("Zoë's laptop").
        exec_one(
            tx,
            "UPDATE devices SET name = 'Erased device' WHERE account_id = $1",
            id,
        )
        .await?;
        sessions_ended = sessions::revoke_for_account(
            tx,
            account,
            None,
            RevokeReason::AccountDisabled,
            erasure.at,
        )
        .await?;
        // Sign-ins keep network addresses; the account's go.
        sign_ins_deleted = exec_one(tx, "DELETE FROM sign_ins WHERE account_id = $1", id).await?;
        notes_deleted += exec_one(tx, "DELETE FROM member_notes WHERE account_id = $1", id).await?;
        // What the account pushed, from which network address (the transaction watch).
        exec_one(tx, "DELETE FROM push_events WHERE account_id = $1", id).await?;
        // Answers kept for idempotency may quote what the person typed.
        exec_one(tx, "DELETE FROM applied_commands WHERE account_id = $1", id).await?;
        // Alerts about the account keep their kind and times; their evidence (addresses,
        // device names) goes.
        let stmt = tx
            .prepare_cached("UPDATE alerts SET evidence = $2 WHERE account_id = $1")
            .await?;
        let redacted = json!({"redacted": "erasure"}).to_string();
        tx.execute(&stmt, &[&id, &redacted]).await?;
    }
    // Every device that holds the member gets the pseudonymised record with its next delta.
    let stmt = tx
        .prepare_cached("INSERT INTO member_changes (member_id, at) VALUES ($1, $2)")
        .await?;
    tx.execute(&stmt, &[&member, &at]).await?;
    let record = ErasureRecord {
        member: erasure.member,
        account: account.map(AccountId::new),
        devices_revoked,
        sessions_ended,
        sign_ins_deleted,
        notes_deleted,
        audit_seq: 0,
    };
    let event = audit::append(
        tx,
        &NewAuditEvent {
            at: erasure.at,
            actor: Some(erasure.by),
            action: "gdpr.erasure".to_owned(),
            target: Some(format!("member:{member}")),
            details: json!({
                "account": record.account.map(AccountId::get),
                "devices_revoked": record.devices_revoked.len(),
                "sessions_ended": record.sessions_ended,
                "sign_ins_deleted": record.sign_ins_deleted,
                "notes_deleted": record.notes_deleted,
            }),
        },
    )
    .await?;
    Ok(Some(ErasureRecord {
        audit_seq: event.seq,
        ..record
    }))
}

/// Deletes sign-ins before `sign_ins_before` and alerts resolved before `alerts_before`.
pub(super) async fn purge(
    tx: &Transaction<'_>,
    sign_ins_before: Option<OffsetDateTime>,
    alerts_before: Option<OffsetDateTime>,
) -> Result<PurgeCounts> {
    let mut counts = PurgeCounts::default();
    if let Some(before) = sign_ins_before {
        counts.sign_ins = exec_one(tx, "DELETE FROM sign_ins WHERE at < $1", unix(before)).await?;
    }
    if let Some(before) = alerts_before {
        counts.alerts = exec_one(
            tx,
            "DELETE FROM alerts WHERE resolved_at IS NOT NULL AND resolved_at < $1",
            unix(before),
        )
        .await?;
    }
    Ok(counts)
}
