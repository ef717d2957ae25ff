//! The rest of what the user sees about people and events: their retail customers, the
//! alerts the server raised for them, and the private notes they keep on members.

use canopy_core::{CustomerId, MemberId};
use rusqlite::params;

use crate::error::StoreError;
use crate::store::Store;
use crate::write::Writer;

/// A retail customer of the user's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRow {
    pub id: CustomerId,
    /// The distributor the customer buys through.
    pub member: MemberId,
    pub display_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// `YYYY-MM-DD`.
    pub joined_on: String,
}

/// An alert as the server sent it (wording, severity and state are the server's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRow {
    pub id: i64,
    pub kind: String,
    pub severity: String,
    /// RFC 3339.
    pub created_at: String,
    pub message: String,
    pub state: String,
    pub evidence: Option<String>,
}

/// A private note on a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteRow {
    pub id: i64,
    pub member: MemberId,
    pub body: String,
    pub created_at: String,
}

impl Writer<'_> {
    pub fn put_customer(&self, c: &CustomerRow) -> Result<(), StoreError> {
        self.tx()
            .prepare_cached(
                "INSERT OR REPLACE INTO customers (id, member_id, display_name, email, phone, joined_on)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                c.id.get(),
                c.member.get(),
                c.display_name,
                c.email,
                c.phone,
                c.joined_on
            ])?;
        Ok(())
    }

    pub fn remove_customer(&self, id: CustomerId) -> Result<(), StoreError> {
        self.tx()
            .prepare_cached("DELETE FROM customers WHERE id = ?1")?
            .execute([id.get()])?;
        Ok(())
    }

    pub fn put_alert(&self, a: &AlertRow) -> Result<(), StoreError> {
        self.tx()
            .prepare_cached(
                "INSERT OR REPLACE INTO alerts (id, kind, severity, created_at, message, state, evidence)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                a.id, a.kind, a.severity, a.created_at, a.message, a.state, a.evidence
            ])?;
        Ok(())
    }

    pub fn remove_alert(&self, id: i64) -> Result<(), StoreError> {
        self.tx()
            .prepare_cached("DELETE FROM alerts WHERE id = ?1")?
            .execute([id])?;
        Ok(())
    }

    /// A note as the server confirmed it (notes typed offline travel through the outbox).
    pub fn put_note(&self, n: &NoteRow) -> Result<(), StoreError> {
        self.tx()
            .prepare_cached(
                "INSERT OR REPLACE INTO notes (id, member_id, body, created_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![n.id, n.member.get(), n.body, n.created_at])?;
        Ok(())
    }
}

impl Store {
    /// The user's customers, by name.
    pub fn customers(&self) -> Result<Vec<CustomerRow>, StoreError> {
        self.database().read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, member_id, display_name, email, phone, joined_on
                 FROM customers ORDER BY display_name COLLATE NOCASE, id",
            )?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(CustomerRow {
                        id: CustomerId::new(r.get(0)?),
                        member: MemberId::new(r.get(1)?),
                        display_name: r.get(2)?,
                        email: r.get(3)?,
                        phone: r.get(4)?,
                        joined_on: r.get(5)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    /// Alerts, newest first.
    pub fn alerts(&self) -> Result<Vec<AlertRow>, StoreError> {
        self.database().read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, kind, severity, created_at, message, state, evidence
                 FROM alerts ORDER BY created_at DESC, id DESC",
            )?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(AlertRow {
                        id: r.get(0)?,
                        kind: r.get(1)?,
                        severity: r.get(2)?,
                        created_at: r.get(3)?,
                        message: r.get(4)?,
                        state: r.get(5)?,
                        evidence: r.get(6)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    /// The notes on a member, oldest first.
    pub fn notes(&self, member: MemberId) -> Result<Vec<NoteRow>, StoreError> {
        self.database().read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, member_id, body, created_at FROM notes
                 WHERE member_id = ?1 ORDER BY created_at, id",
            )?;
            let rows = stmt
                .query_map([member.get()], |r| {
                    Ok(NoteRow {
                        id: r.get(0)?,
                        member: MemberId::new(r.get(1)?),
                        body: r.get(2)?,
                        created_at: r.get(3)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }
}
