//! Applying what the server sent to the cache: bootstrap pages through the store's bulk
//! load (resumable page by page), delta batches in one transaction together with their
//! cursor. A page or batch is decoded and validated in full before anything is written, and
//! a failure mid-way rolls its transaction back: the cache is never half-updated.

use canopy_core::sync::{BootstrapPage, DeltaBatch, DeltaOp, Row};
use canopy_store::{BootstrapProgress, StatementStatus, Store, SyncState, Writer};

use crate::error::SyncError;

/// Applies one bootstrap page. Page 0 starts the bootstrap (or resumes one at the same
/// checkpoint); a later page must belong to the bootstrap under way; any page of the
/// snapshot already loaded is skipped. The last page builds the indexes and sets the
/// delta cursor to the checkpoint.
pub fn apply_page(
    store: &Store,
    page: &BootstrapPage,
    now_rfc3339: &str,
) -> Result<BootstrapProgress, SyncError> {
    page.validate()
        .map_err(|e| SyncError::Protocol(e.to_string()))?;
    let under_way = store.bootstrap_progress()?;
    let loaded = store.sync_state()?.checkpoint;
    if under_way.is_none() && loaded.as_deref() == Some(page.checkpoint.as_str()) {
        // A resend of a page of the snapshot already loaded: nothing to do.
        return Ok(BootstrapProgress {
            checkpoint: page.checkpoint.clone(),
            next_page: page.page + 1,
            rows_done: page.rows_total,
            rows_total: Some(page.rows_total),
        });
    }
    if page.page == 0 {
        store.bootstrap_begin(&page.checkpoint, Some(page.rows_total), now_rfc3339)?;
    } else if under_way.as_ref().map(|p| p.checkpoint.as_str()) != Some(page.checkpoint.as_str()) {
        return Err(SyncError::Restart(
            "this page belongs to another snapshot than the one under way".into(),
        ));
    }
    let progress = store.bootstrap_page(page.page, |b| {
        for row in &page.rows {
            match row {
                Row::Member(m) => b.member(m)?,
                Row::Volume(v) => b.volume(v.member, v.period, v.pv)?,
                Row::RankHistory(h) => b.rank_history(h.member, h.period, h.rank)?,
                Row::EarningsLine(line) => b.earnings_line(line)?,
                other => put_other(&b.writer(), other)?,
            }
        }
        Ok(())
    })?;
    if page.last {
        store.bootstrap_finish(&SyncState {
            cursor: Some(page.checkpoint.clone()),
            checkpoint: Some(page.checkpoint.clone()),
            checksum: None,
            last_sync_at: Some(now_rfc3339.to_owned()),
        })?;
    }
    Ok(progress)
}

/// Rows the bulk path has no special form for.
fn put_other(w: &Writer<'_>, row: &Row) -> Result<(), canopy_store::StoreError> {
    match row {
        Row::Member(m) => w.put_member(m),
        Row::Volume(v) => w.put_volume(v.member, v.period, v.pv),
        Row::RankHistory(h) => w.put_rank_history(h.member, h.period, h.rank),
        Row::EarningsLine(line) => w.put_earnings_line(line),
        Row::Statement(s) => w.put_statement(
            s.period,
            if s.closed {
                StatementStatus::Final
            } else {
                StatementStatus::Open
            },
            s.total,
        ),
        Row::Order(o) => w.put_order(o),
        Row::Product(p) => w.put_product(p),
    }
}

/// Applies a delta batch and moves the cursor to `batch.to`, in one transaction. A batch
/// that doesn't start at the cache's cursor is refused (the caller asks again from the
/// right cursor, or bootstraps anew).
pub fn apply_delta(store: &Store, batch: &DeltaBatch, now_rfc3339: &str) -> Result<(), SyncError> {
    batch
        .validate()
        .map_err(|e| SyncError::Protocol(e.to_string()))?;
    let state = store.sync_state()?;
    if state.cursor.as_deref() != Some(batch.from.as_str()) {
        return Err(SyncError::Restart(format!(
            "the changes start at {:?} but the cache is at {:?}",
            batch.from, state.cursor
        )));
    }
    let ops = ordered(store, &batch.ops)?;
    // A member erased on the server (GDPR) arrives as their pseudonymised record; the
    // personal data it replaces must leave no trace in the cache file.
    let erasing = batch.ops.iter().any(|op| {
        matches!(op, DeltaOp::Put(Row::Member(m)) if m.status == canopy_core::MemberStatus::Erased)
    });
    let apply = |w: &Writer<'_>| {
        for op in ops {
            match op {
                DeltaOp::Put(row) => put_other(w, row)?,
                DeltaOp::RemoveMember(id) => w.remove_member(*id)?,
            }
        }
        w.set_sync_state(&SyncState {
            cursor: Some(batch.to.clone()),
            checkpoint: state.checkpoint.clone(),
            checksum: batch.checksum.clone().or(state.checksum.clone()),
            last_sync_at: Some(now_rfc3339.to_owned()),
        })
    };
    if erasing {
        store.write_erasing(apply)?;
    } else {
        store.write(apply)?;
    }
    Ok(())
}

/// The ops in their order, except that each run of consecutive removals is applied
/// deepest first: a team leaving the scope then never leaves orphans behind, which would
/// cost the store a full renumbering of the tree.
fn ordered<'a>(store: &Store, ops: &'a [DeltaOp]) -> Result<Vec<&'a DeltaOp>, SyncError> {
    let mut out: Vec<&DeltaOp> = Vec::with_capacity(ops.len());
    let mut run: Vec<(u32, &DeltaOp)> = Vec::new();
    let flush = |run: &mut Vec<(u32, &'a DeltaOp)>, out: &mut Vec<&'a DeltaOp>| {
        run.sort_by_key(|(depth, _)| std::cmp::Reverse(*depth));
        out.extend(run.drain(..).map(|(_, op)| op));
    };
    for op in ops {
        match op {
            DeltaOp::RemoveMember(id) => {
                let depth = store.depth_of(*id)?.unwrap_or(0);
                run.push((depth, op));
            }
            DeltaOp::Put(_) => {
                flush(&mut run, &mut out);
                out.push(op);
            }
        }
    }
    flush(&mut run, &mut out);
    Ok(out)
}
