//! Changes to the cache, as the sync applies them: each method is one put or remove of one
//! row, inside the caller's transaction, keeping the tree index and the search exact.

use std::cell::RefCell;

use canopy_core::{
    EarningsLine, Member, MemberId, MemberStatus, Money, Order, Period, Position, Pv, RankLevel,
};
use rusqlite::{OptionalExtension, Transaction, params};

use crate::error::StoreError;
use crate::tree;

/// Writes inside one transaction (see [`crate::Store::write`]).
pub struct Writer<'a> {
    tx: &'a Transaction<'a>,
    /// The tree index's deferred work (see [`tree::Pending`]), written by `finish`.
    pending: RefCell<tree::Pending>,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(tx: &'a Transaction<'a>) -> Self {
        Self {
            tx,
            pending: RefCell::new(tree::Pending::default()),
        }
    }

    /// Writes the deferred index work and rebuilds the index if a delta needs it: the
    /// index is exact when this returns. [`crate::Store::write`] calls it before committing.
    pub(crate) fn finish(&self) -> Result<(), StoreError> {
        tree::finish(self.tx, &mut self.pending.borrow_mut())
    }

    /// The transaction itself, for the writes other modules add to `Writer`.
    pub(crate) fn tx(&self) -> &Transaction<'a> {
        self.tx
    }

    /// Inserts or replaces a member. A new sponsor moves the member's whole downline with
    /// it; personal details the server no longer sends are deleted here too.
    pub fn put_member(&self, m: &Member) -> Result<(), StoreError> {
        let tx = self.tx;
        let id = m.id.get();
        let sponsor = m.sponsor.map(MemberId::get);
        let before: Option<(Option<i64>, u16, Option<i64>)> = tx
            .prepare_cached(
                "SELECT sponsor_id, rank_level, placement_id FROM members WHERE id = ?1",
            )?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let placement = m.placement.map(|p| p.parent.get());
        let rank = m.rank.level.get();
        tx.prepare_cached(
            "INSERT INTO ranks (level, name) VALUES (?1, ?2)
             ON CONFLICT (level) DO UPDATE SET name = excluded.name",
        )?
        .execute(params![rank, m.rank.name])?;
        match before {
            None => {
                upsert_member_row(tx, m)?;
                tree::on_insert(tx, id, rank, &mut self.pending.borrow_mut())?;
            }
            Some((old_sponsor, old_rank, old_placement)) => {
                // The index follows the old sponsor line, so it moves before the row does.
                if old_sponsor != sponsor {
                    tree::on_move(tx, id, sponsor, &mut self.pending.borrow_mut())?;
                }
                if old_placement != placement {
                    tree::on_placement_change(tx, &mut self.pending.borrow_mut())?;
                }
                tree::on_rank_change(tx, id, old_rank, rank, &mut self.pending.borrow_mut())?;
                upsert_member_row(tx, m)?;
            }
        }
        self.put_personal(m)?;
        let mut name = m.display_name.as_str().to_owned();
        if let Some(p) = &m.personal {
            name.push(' ');
            name.push_str(p.legal_name.as_str());
        }
        if before.is_some() {
            tx.prepare_cached("DELETE FROM member_search WHERE rowid = ?1")?
                .execute([id])?;
        }
        tx.prepare_cached("INSERT INTO member_search (rowid, name) VALUES (?1, ?2)")?
            .execute(params![id, name])?;
        Ok(())
    }

    pub(crate) fn put_personal(&self, m: &Member) -> Result<(), StoreError> {
        let id = m.id.get();
        let Some(p) = &m.personal else {
            self.tx
                .prepare_cached("DELETE FROM member_personal WHERE member_id = ?1")?
                .execute([id])?;
            return Ok(());
        };
        let address = p
            .address
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| StoreError::Invalid(format!("address: {e}")))?;
        self.tx
            .prepare_cached(
                "INSERT OR REPLACE INTO member_personal
                    (member_id, legal_name, email, phone, date_of_birth, address, tax_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                id,
                p.legal_name.as_str(),
                p.email.as_ref().map(|e| e.as_str()),
                p.phone.as_ref().map(|e| e.as_str()),
                p.date_of_birth.map(canopy_core::format_date),
                address,
                p.tax_id.as_ref().map(|e| e.as_str()),
            ])?;
        Ok(())
    }

    /// Removes a member who left the user's scope, with everything cached about them.
    /// Their enrollees, if still in scope, stay as roots of their own subtrees.
    pub fn remove_member(&self, id: MemberId) -> Result<(), StoreError> {
        let tx = self.tx;
        let id = id.get();
        let known: bool = tx
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM members WHERE id = ?1)")?
            .query_row([id], |r| r.get(0))?;
        if known {
            tree::on_remove(tx, id, &mut self.pending.borrow_mut())?;
        }
        for sql in [
            "DELETE FROM members WHERE id = ?1",
            "DELETE FROM member_personal WHERE member_id = ?1",
            "DELETE FROM volumes WHERE member_id = ?1",
            "DELETE FROM rank_history WHERE member_id = ?1",
            "DELETE FROM subtree_stats WHERE member_id = ?1",
            "DELETE FROM member_search WHERE rowid = ?1",
            "DELETE FROM notes WHERE member_id = ?1",
        ] {
            tx.prepare_cached(sql)?.execute([id])?;
        }
        Ok(())
    }

    /// Sets a member's personal volume in a period (group volumes follow).
    pub fn put_volume(&self, member: MemberId, period: Period, pv: Pv) -> Result<(), StoreError> {
        let old: i64 = self
            .tx
            .prepare_cached("SELECT pv FROM volumes WHERE member_id = ?1 AND period = ?2")?
            .query_row(params![member.get(), period.index()], |r| r.get(0))
            .optional()?
            .unwrap_or(0);
        tree::add_personal_volume(
            self.tx,
            member.get(),
            i64::from(period.index()),
            pv.hundredths() - old,
            &mut self.pending.borrow_mut(),
        )
    }

    /// Records the rank a member held in a closed period.
    pub fn put_rank_history(
        &self,
        member: MemberId,
        period: Period,
        rank: RankLevel,
    ) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT OR REPLACE INTO rank_history (member_id, period, rank_level)
                 VALUES (?1, ?2, ?3)",
            )?
            .execute(params![member.get(), period.index(), rank.get()])?;
        Ok(())
    }

    /// Inserts or replaces one of the user's earnings lines.
    pub fn put_earnings_line(&self, line: &EarningsLine) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT OR REPLACE INTO earnings_lines (id, period, kind, currency, amount_minor,
                    order_id, source_member_id, level, rule, rate_bp)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                line.id.get(),
                line.period.index(),
                crate::codes::code(line.kind),
                line.amount.currency().as_str(),
                line.amount.minor(),
                line.source.order.map(|o| o.get()),
                line.source.member.map(MemberId::get),
                line.source.level,
                line.source.rule,
                line.source.rate.map(|r| r.get()),
            ])?;
        Ok(())
    }

    /// Inserts or replaces one of the user's orders.
    pub fn put_order(&self, order: &Order) -> Result<(), StoreError> {
        let lines = serde_json::to_string(&order.lines)
            .map_err(|e| StoreError::Invalid(format!("order lines: {e}")))?;
        let total = order
            .total()
            .map_err(|e| StoreError::Invalid(format!("order total: {e}")))?;
        let pv = order
            .total_pv()
            .map_err(|e| StoreError::Invalid(format!("order volume: {e}")))?;
        let period = Period::containing(order.placed_at.date())
            .map_err(|e| StoreError::Invalid(format!("order date: {e}")))?;
        self.tx
            .prepare_cached(
                "INSERT OR REPLACE INTO orders (id, member_id, customer_id, period, placed_at,
                    status, currency, total_minor, pv, lines)
                 VALUES (?1, ?2, ?10, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                order.id.get(),
                order.buyer.get(),
                period.index(),
                order
                    .placed_at
                    .format(&time::format_description::well_known::Rfc3339)
                    .map_err(|e| StoreError::Invalid(format!("order time: {e}")))?,
                crate::codes::code(order.status),
                order.currency.as_str(),
                total.minor(),
                pv.hundredths(),
                lines,
                order.customer.map(|c| c.get()),
            ])?;
        Ok(())
    }

    /// Inserts or replaces the user's statement total for a period.
    pub fn put_statement(
        &self,
        period: Period,
        status: crate::StatementStatus,
        total: Money,
    ) -> Result<(), StoreError> {
        let status = match status {
            crate::StatementStatus::Open => "open",
            crate::StatementStatus::Final => "final",
        };
        self.tx
            .prepare_cached(
                "INSERT OR REPLACE INTO statements (period, status, currency, total_minor)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                period.index(),
                status,
                total.currency().as_str(),
                total.minor()
            ])?;
        Ok(())
    }

    /// Replaces the cached lines of `period` that a page of its statement covers: those
    /// after `after` up to the page's last line, or to the end when `last` (so lines a
    /// new run no longer has go away), then inserts the page's lines.
    pub fn put_statement_lines(
        &self,
        period: Period,
        after: Option<i64>,
        lines: &[EarningsLine],
        last: bool,
    ) -> Result<(), StoreError> {
        if let Some(bad) = lines.iter().find(|l| l.period != period) {
            return Err(StoreError::Invalid(format!(
                "line {} belongs to {}, not to the statement of {period}",
                bad.id.get(),
                bad.period
            )));
        }
        let upto = match (last, lines.last()) {
            (false, Some(line)) => line.id.get(),
            _ => i64::MAX,
        };
        self.tx
            .prepare_cached(
                "DELETE FROM earnings_lines WHERE period = ?1 AND id > ?2 AND id <= ?3",
            )?
            .execute(params![period.index(), after.unwrap_or(i64::MIN), upto])?;
        for line in lines {
            self.put_earnings_line(line)?;
        }
        Ok(())
    }

    /// Records a statement's total and the server's digest of it (after its last page).
    pub fn put_statement_with_digest(
        &self,
        period: Period,
        status: crate::StatementStatus,
        total: Money,
        digest: &str,
    ) -> Result<(), StoreError> {
        self.put_statement(period, status, total)?;
        self.tx
            .prepare_cached("UPDATE statements SET digest = ?2 WHERE period = ?1")?
            .execute(params![period.index(), digest])?;
        Ok(())
    }

    /// Drops every statement (and its lines) of a period not in `keep`: the server no
    /// longer has it for this user.
    pub fn keep_only_statements(&self, keep: &[Period]) -> Result<(), StoreError> {
        let keep: Vec<i64> = keep.iter().map(|p| i64::from(p.index())).collect();
        let keep = serde_json::to_string(&keep)
            .map_err(|e| StoreError::Invalid(format!("periods: {e}")))?;
        for table in ["statements", "earnings_lines"] {
            self.tx.execute(
                &format!(
                    "DELETE FROM {table} WHERE period NOT IN (SELECT value FROM json_each(?1))"
                ),
                [&keep],
            )?;
        }
        Ok(())
    }

    /// Keeps the compensation plan in force (its TOML and that text's SHA-256).
    pub fn set_comp_plan(&self, hash: &str, toml: &str) -> Result<(), StoreError> {
        self.tx
            .prepare_cached("INSERT OR REPLACE INTO comp_plan (id, hash, toml) VALUES (1, ?1, ?2)")?
            .execute(params![hash, toml])?;
        Ok(())
    }

    /// Records where the sync stands, in the same transaction as the rows it brought.
    pub fn set_sync_state(&self, state: &crate::SyncState) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "UPDATE sync_state SET cursor = ?1, checkpoint = ?2, checksum = ?3,
                    last_sync_at = ?4 WHERE id = 1",
            )?
            .execute(params![
                state.cursor,
                state.checkpoint,
                state.checksum,
                state.last_sync_at
            ])?;
        Ok(())
    }
}

/// Writes a member's public fields (the tree index columns are left to `tree`).
pub(crate) fn upsert_member_row(tx: &Transaction<'_>, m: &Member) -> Result<(), StoreError> {
    let (placement, slot) = match &m.placement {
        Some(p) => (Some(p.parent.get()), Some(slot_of(p.position))),
        None => (None, None),
    };
    tx.prepare_cached(
        "INSERT INTO members (id, number, sponsor_id, placement_id, placement_slot,
            rank_level, status, joined_on, country, display_name)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (id) DO UPDATE SET number = excluded.number,
            sponsor_id = excluded.sponsor_id, placement_id = excluded.placement_id,
            placement_slot = excluded.placement_slot, rank_level = excluded.rank_level,
            status = excluded.status, joined_on = excluded.joined_on,
            country = excluded.country, display_name = excluded.display_name",
    )?
    .execute(params![
        m.id.get(),
        m.number.as_str(),
        m.sponsor.map(MemberId::get),
        placement,
        slot,
        m.rank.level.get(),
        status_code(m.status),
        canopy_core::format_date(m.joined_on),
        m.country.as_str(),
        m.display_name.as_str(),
    ])?;
    Ok(())
}

/// Placement slot as stored: binary legs first (left -2, right -1), then unilevel 0, 1, ….
pub(crate) fn slot_of(p: Position) -> i64 {
    match p {
        Position::Left => -2,
        Position::Right => -1,
        Position::Unilevel(i) => i64::from(i),
    }
}

pub(crate) fn status_code(s: MemberStatus) -> String {
    crate::codes::code(s)
}
