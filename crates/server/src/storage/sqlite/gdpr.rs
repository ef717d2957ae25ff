//! GDPR on SQLite: a person's consent and notes for their export, the erasure (one
//! transaction with its audit event), and the retention purge.

use canopy_core::{AccountId, MemberId};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;
use time::OffsetDateTime;

use super::convert::{time_at, unix};
use super::{audit, sessions};
use crate::storage::gdpr::{
    ConsentRecord, ERASED_NAME, Erasure, ErasureRecord, NoteRecord, PurgeCounts, PushRecord,
    erased_email,
};
use crate::storage::{DeviceId, NewAuditEvent, Result, RevokeReason, StorageError};

pub(super) fn consent_of(conn: &Connection, member: MemberId) -> Result<Option<ConsentRecord>> {
    Ok(conn
        .prepare_cached(
            "SELECT text_version, purposes, given_at, given_offline, enrolled_by \
             FROM enrollment_consents WHERE member_id = ?1",
        )?
        .query_row([member.get()], |row| {
            let purposes: String = row.get(1)?;
            Ok(ConsentRecord {
                member,
                text_version: row.get(0)?,
                purposes: purposes
                    .split(',')
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect(),
                given_at: time_at(row, 2)?,
                given_offline: row.get(3)?,
                enrolled_by: AccountId::new(row.get(4)?),
            })
        })
        .optional()?)
}

pub(super) fn notes_by(conn: &Connection, account: AccountId) -> Result<Vec<NoteRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, member_id, body, created_at FROM member_notes \
         WHERE account_id = ?1 ORDER BY created_at, id",
    )?;
    let rows = stmt.query_map([account.get()], |row| {
        Ok(NoteRecord {
            id: row.get(0)?,
            member: MemberId::new(row.get(1)?),
            body: row.get(2)?,
            created_at: time_at(row, 3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn pushes_by(conn: &Connection, account: AccountId) -> Result<Vec<PushRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT at, kind, device_id, ip, member_id, order_id FROM push_events \
         WHERE account_id = ?1 ORDER BY at, id",
    )?;
    let rows = stmt.query_map([account.get()], |row| {
        Ok(PushRecord {
            at: time_at(row, 0)?,
            kind: row.get(1)?,
            device: DeviceId::new(row.get(2)?),
            ip: row.get(3)?,
            member: MemberId::new(row.get(4)?),
            order: row.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Pseudonymises the member and everything that names them, in the caller's transaction.
/// The member's node (id, number, sponsor, placement, rank, join date, country), their
/// orders, earnings and consent stay, so the tree and the money stay correct. `None` when
/// the member is erased already.
pub(super) fn erase_member(tx: &Connection, erasure: &Erasure) -> Result<Option<ErasureRecord>> {
    let member = erasure.member.get();
    let status: Option<String> = tx
        .prepare_cached("SELECT status FROM members WHERE id = ?1")?
        .query_row([member], |r| r.get(0))
        .optional()?;
    match status.as_deref() {
        None => return Err(StorageError::NotFound),
        Some("erased") => return Ok(None),
        Some(_) => {}
    }
    let at = unix(erasure.at);
    tx.execute(
        "UPDATE members SET display_name = ?2, status = 'erased' WHERE id = ?1",
        params![member, ERASED_NAME],
    )?;
    tx.execute("DELETE FROM member_personal WHERE member_id = ?1", [member])?;
    // Notes others kept about the person name them; they go with the person.
    let mut notes_deleted =
        tx.execute("DELETE FROM member_notes WHERE member_id = ?1", [member])?;

    let account: Option<i64> = tx
        .prepare_cached("SELECT id FROM accounts WHERE member_id = ?1")?
        .query_row([member], |r| r.get(0))
        .optional()?;
    let mut devices_revoked = Vec::new();
    let mut sessions_ended = 0;
    let mut sign_ins_deleted = 0;
    if let Some(id) = account {
        let account = AccountId::new(id);
        let email = erased_email(account);
        tx.execute(
            "UPDATE accounts SET email = ?2, email_key = ?2, password_hash = ?3, disabled = 1, \
                 totp_secret_sealed = NULL, mfa_enabled = 0, last_totp_step = NULL, \
                 pending_totp_secret = NULL, pending_totp_created_at = NULL \
             WHERE id = ?1",
            params![id, email, erasure.unusable_password_hash],
        )?;
        tx.execute("DELETE FROM recovery_codes WHERE account_id = ?1", [id])?;
        // Revoked devices wipe their cache the next time they reach the server.
        let mut stmt = tx.prepare_cached(
            "UPDATE devices SET revoked_at = ?2 WHERE account_id = ?1 AND revoked_at IS NULL \
             RETURNING id",
        )?;
        devices_revoked = stmt
            .query_map(params![id, at], |r| r.get(0).map(DeviceId::new))?
            .collect::<rusqlite::Result<_>>()?;
        // A device's name is often the person's ("Zoë's laptop").
        tx.execute(
            "UPDATE devices SET name = 'Erased device' WHERE account_id = ?1",
            [id],
        )?;
        sessions_ended = sessions::revoke_for_account(
            tx,
            account,
            None,
            RevokeReason::AccountDisabled,
            erasure.at,
        )?;
        // Sign-ins keep network addresses; the account's go.
        sign_ins_deleted = tx.execute("DELETE FROM sign_ins WHERE account_id = ?1", [id])?;
        notes_deleted += tx.execute("DELETE FROM member_notes WHERE account_id = ?1", [id])?;
        // What the account pushed, from which network address (the transaction watch).
        tx.execute("DELETE FROM push_events WHERE account_id = ?1", [id])?;
        // Answers kept for idempotency may quote what the person typed.
        tx.execute("DELETE FROM applied_commands WHERE account_id = ?1", [id])?;
        // Alerts about the account keep their kind and times; their evidence (addresses,
        // device names) goes.
        tx.execute(
            "UPDATE alerts SET evidence = ?2 WHERE account_id = ?1",
            params![id, json!({"redacted": "erasure"}).to_string()],
        )?;
    }
    // Every device that holds the member gets the pseudonymised record with its next delta.
    tx.prepare_cached("INSERT INTO member_changes (member_id, at) VALUES (?1, ?2)")?
        .execute(params![member, at])?;
    let record = ErasureRecord {
        member: erasure.member,
        account: account.map(AccountId::new),
        devices_revoked,
        sessions_ended,
        sign_ins_deleted: u64::try_from(sign_ins_deleted).unwrap_or(u64::MAX),
        notes_deleted: u64::try_from(notes_deleted).unwrap_or(u64::MAX),
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
    )?;
    Ok(Some(ErasureRecord {
        audit_seq: event.seq,
        ..record
    }))
}

/// Deletes sign-ins before `sign_ins_before` and alerts resolved before `alerts_before`.
pub(super) fn purge(
    tx: &Connection,
    sign_ins_before: Option<OffsetDateTime>,
    alerts_before: Option<OffsetDateTime>,
) -> Result<PurgeCounts> {
    let mut counts = PurgeCounts::default();
    if let Some(before) = sign_ins_before {
        counts.sign_ins = tx.execute("DELETE FROM sign_ins WHERE at < ?1", [unix(before)])? as u64;
    }
    if let Some(before) = alerts_before {
        counts.alerts = tx.execute(
            "DELETE FROM alerts WHERE resolved_at IS NOT NULL AND resolved_at < ?1",
            [unix(before)],
        )? as u64;
    }
    Ok(counts)
}
