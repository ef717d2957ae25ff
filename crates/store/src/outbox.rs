//! The outbox: commands made offline (enroll, order, update contact, note), each with the
//! idempotency key the server dedupes on, kept until the server has answered. A command is
//! on disk (`synchronous = FULL`) before [`Store::enqueue`] returns, and is never deleted
//! except by the user discarding a rejected one.

use canopy_core::IdempotencyKey;
use rusqlite::{OptionalExtension, Row, params};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::codes;
use crate::error::StoreError;
use crate::store::Store;

/// What a command does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandKind {
    Enroll,
    PlaceOrder,
    UpdateContact,
    AddNote,
}

/// Where a command is on its way to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// Waiting to be sent (or to be sent again).
    Pending,
    /// Handed to the server; the answer hasn't come back yet.
    Sending,
    /// The server applied it.
    Applied,
    /// The server refused it; the reason is in `last_error` for the user to act on.
    Rejected,
}

/// One command in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub seq: i64,
    pub key: IdempotencyKey,
    pub kind: CommandKind,
    /// The command's body as the sync protocol encodes it (JSON).
    pub payload: String,
    pub created_at: OffsetDateTime,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub state: OutboxState,
    /// What the server made of it (e.g. the new member's id), once applied.
    pub server_ref: Option<String>,
}

/// The most a payload may weigh: a command is a form, not a file.
pub const MAX_PAYLOAD: usize = 64 * 1024;

const COLUMNS: &str =
    "seq, idempotency_key, kind, payload, created_at, attempts, last_error, state, server_ref";

fn read_item(r: &Row<'_>) -> Result<OutboxItem, StoreError> {
    let key: String = r.get(1)?;
    let created: String = r.get(4)?;
    Ok(OutboxItem {
        seq: r.get(0)?,
        key: IdempotencyKey::parse(&key)
            .map_err(|_| StoreError::Invalid(format!("idempotency key {key:?}")))?,
        kind: codes::parse("command kind", &r.get::<_, String>(2)?)?,
        payload: r.get(3)?,
        created_at: OffsetDateTime::parse(&created, &Rfc3339)
            .map_err(|_| StoreError::Invalid(format!("outbox time {created:?}")))?,
        attempts: r.get(5)?,
        last_error: r.get(6)?,
        state: codes::parse("outbox state", &r.get::<_, String>(7)?)?,
        server_ref: r.get(8)?,
    })
}

fn now_text(now: OffsetDateTime) -> Result<String, StoreError> {
    now.format(&Rfc3339)
        .map_err(|e| StoreError::Invalid(format!("time: {e}")))
}

impl Store {
    /// Saves a command made offline. When this returns `Ok`, the command is on disk. The
    /// same idempotency key twice is refused (the first command stays as it was).
    pub fn enqueue(
        &self,
        key: &IdempotencyKey,
        kind: CommandKind,
        payload: &str,
        now: OffsetDateTime,
    ) -> Result<OutboxItem, StoreError> {
        if payload.len() > MAX_PAYLOAD {
            return Err(StoreError::Invalid(format!(
                "a command may hold at most {} KiB",
                MAX_PAYLOAD / 1024
            )));
        }
        serde_json::from_str::<serde_json::Value>(payload)
            .map_err(|e| StoreError::Invalid(format!("the command is not valid JSON: {e}")))?;
        let now = now_text(now)?;
        self.database().write(|tx| {
            let taken: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM outbox WHERE idempotency_key = ?1)",
                [key.as_str()],
                |r| r.get(0),
            )?;
            if taken {
                return Err(StoreError::Invalid(
                    "this command is already in the outbox".into(),
                ));
            }
            tx.execute(
                "INSERT INTO outbox (idempotency_key, kind, payload, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?4)",
                params![key.as_str(), codes::code(kind), payload, now],
            )?;
            let seq = tx.last_insert_rowid();
            let sql = format!("SELECT {COLUMNS} FROM outbox WHERE seq = ?1");
            let mut stmt = tx.prepare(&sql)?;
            let mut rows = stmt.query([seq])?;
            match rows.next()? {
                Some(r) => read_item(r),
                None => Err(StoreError::NotFound("outbox command")),
            }
        })
    }

    /// The outbox in the order the commands were made, optionally only one state.
    pub fn outbox(&self, state: Option<OutboxState>) -> Result<Vec<OutboxItem>, StoreError> {
        self.database().read(|conn| {
            let sql =
                format!("SELECT {COLUMNS} FROM outbox WHERE ?1 IS NULL OR state = ?1 ORDER BY seq");
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut rows = stmt.query([state.map(codes::code)])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(read_item(r)?);
            }
            Ok(out)
        })
    }

    /// Marks a command as handed to the server (one more attempt).
    pub fn outbox_sending(&self, seq: i64, now: OffsetDateTime) -> Result<(), StoreError> {
        // ?3 is bound to NULL here: `coalesce` keeps the stored reference.
        self.outbox_update(
            seq,
            now,
            "state = 'sending', attempts = attempts + 1, server_ref = coalesce(?3, server_ref)",
            None,
        )
    }

    /// The server applied the command; `server_ref` says what it made.
    pub fn outbox_applied(
        &self,
        seq: i64,
        server_ref: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.outbox_update(
            seq,
            now,
            "state = 'applied', last_error = NULL, server_ref = ?3",
            server_ref,
        )
    }

    /// The server refused the command, for `reason` (shown to the user as it is).
    pub fn outbox_rejected(
        &self,
        seq: i64,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.outbox_update(
            seq,
            now,
            "state = 'rejected', last_error = ?3",
            Some(reason),
        )
    }

    /// Sending failed for a reason worth retrying (offline, server busy): back to pending.
    pub fn outbox_retry(
        &self,
        seq: i64,
        error: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.outbox_update(seq, now, "state = 'pending', last_error = ?3", Some(error))
    }

    /// Replaces a rejected command's payload after the user fixed it, and queues it again
    /// under `key`, a new idempotency key: the server keeps its refusal under the old one,
    /// and the fixed command is a new one to it.
    pub fn outbox_resubmit(
        &self,
        seq: i64,
        key: &IdempotencyKey,
        payload: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        serde_json::from_str::<serde_json::Value>(payload)
            .map_err(|e| StoreError::Invalid(format!("the command is not valid JSON: {e}")))?;
        let now = now_text(now)?;
        self.database().write(|tx| {
            let taken: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM outbox WHERE idempotency_key = ?1)",
                [key.as_str()],
                |r| r.get(0),
            )?;
            if taken {
                return Err(StoreError::Invalid(
                    "a fixed command needs a new idempotency key".into(),
                ));
            }
            let changed = tx.execute(
                "UPDATE outbox SET payload = ?2, idempotency_key = ?4, state = 'pending',
                        last_error = NULL, updated_at = ?3
                 WHERE seq = ?1 AND state = 'rejected'",
                params![seq, payload, now, key.as_str()],
            )?;
            if changed == 0 {
                return Err(StoreError::Invalid(
                    "only a rejected command can be fixed and resent".into(),
                ));
            }
            Ok(())
        })
    }

    /// Deletes a rejected command the user chose to give up.
    pub fn outbox_discard(&self, seq: i64) -> Result<(), StoreError> {
        self.database().write(|tx| {
            let state: Option<String> = tx
                .query_row("SELECT state FROM outbox WHERE seq = ?1", [seq], |r| {
                    r.get(0)
                })
                .optional()?;
            match state.as_deref() {
                None => Err(StoreError::NotFound("outbox command")),
                Some("rejected") => {
                    tx.execute("DELETE FROM outbox WHERE seq = ?1", [seq])?;
                    Ok(())
                }
                Some(_) => Err(StoreError::Invalid(
                    "only a rejected command can be discarded".into(),
                )),
            }
        })
    }

    fn outbox_update(
        &self,
        seq: i64,
        now: OffsetDateTime,
        set: &str,
        text: Option<&str>,
    ) -> Result<(), StoreError> {
        let now = now_text(now)?;
        self.database().write(|tx| update(tx, seq, &now, set, text))
    }

    /// Files a whole push in one transaction (one disk sync, not one per command): each
    /// `(seq, answer)` as [`Store::outbox_applied`], [`Store::outbox_rejected`] or
    /// [`Store::outbox_retry`] would.
    pub fn outbox_answers(
        &self,
        answers: &[(i64, OutboxAnswer)],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let now = now_text(now)?;
        self.database().write(|tx| {
            for (seq, answer) in answers {
                match answer {
                    OutboxAnswer::Sending => update(
                        tx,
                        *seq,
                        &now,
                        "state = 'sending', attempts = attempts + 1, \
                         server_ref = coalesce(?3, server_ref)",
                        None,
                    )?,
                    OutboxAnswer::Applied(server_ref) => update(
                        tx,
                        *seq,
                        &now,
                        "state = 'applied', last_error = NULL, server_ref = ?3",
                        server_ref.as_deref(),
                    )?,
                    OutboxAnswer::Rejected(reason) => update(
                        tx,
                        *seq,
                        &now,
                        "state = 'rejected', last_error = ?3",
                        Some(reason),
                    )?,
                    OutboxAnswer::Retry(error) => update(
                        tx,
                        *seq,
                        &now,
                        "state = 'pending', last_error = ?3",
                        Some(error),
                    )?,
                }
            }
            Ok(())
        })
    }
}

/// What happened to a command, for [`Store::outbox_answers`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxAnswer {
    /// Handed to the server (one more attempt).
    Sending,
    Applied(Option<String>),
    Rejected(String),
    Retry(String),
}

fn update(
    tx: &rusqlite::Transaction<'_>,
    seq: i64,
    now: &str,
    set: &str,
    text: Option<&str>,
) -> Result<(), StoreError> {
    let sql = format!("UPDATE outbox SET {set}, updated_at = ?2 WHERE seq = ?1");
    let changed = tx.prepare_cached(&sql)?.execute(params![seq, now, text])?;
    if changed == 0 {
        return Err(StoreError::NotFound("outbox command"));
    }
    Ok(())
}
