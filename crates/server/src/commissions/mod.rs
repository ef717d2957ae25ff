//! The server side of the compensation engine: a period's run read from storage, paid with
//! `canopy_core::comp`, and stored in one transaction; closing; corrections after close.
//!
//! A run is idempotent: it replaces the period's lines and results, and numbers its lines
//! from the period's own id range ([`ids`]), so running twice leaves one identical set.

pub mod ids;
mod plan;

use std::time::{Duration, Instant};

use canopy_core::comp::{
    Correction, CorrectionError, PeriodOrder, Plan, RunError, Tree, TreeError, correct_after_close,
    run_period,
};
use canopy_core::{AccountId, EarningsKind, EarningsLine, Money, MoneyError, OrderId, Period};
use ring::digest::{Context, SHA256};
use time::OffsetDateTime;

pub use plan::{CommissionPlan, PLAN_ENV, PlanLoadError};

use crate::storage::{
    CommissionPeriodRecord, CommissionRunRecord, NewCommissionRun, Storage, StorageError,
    StoredLine,
};

/// Why a run or a close did not happen; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum CommissionError {
    #[error("period {0} is closed: corrections go into the next period as adjustments")]
    Closed(Period),
    #[error("period {0} has not been run yet: run it before closing it")]
    NeverRun(Period),
    #[error(
        "a run of period {0} is in progress (on this or another server instance); try again when it has finished"
    )]
    Busy(Period),
    #[error(transparent)]
    Tree(#[from] TreeError),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(transparent)]
    Correction(#[from] CorrectionError),
    #[error(transparent)]
    Money(#[from] MoneyError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// What a run did, for the CLI, the admin API and the benchmark.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub run: CommissionRunRecord,
    pub members: usize,
    pub orders: usize,
    /// Orders in a currency the plan has no exchange rate for: counted for volume and
    /// ranks, paid nothing. (Orders in a currency it has a rate for are converted and paid.)
    pub other_currency: usize,
    /// Lines of the run itself and corrections of orders refunded after close.
    pub lines: usize,
    pub corrections: usize,
    /// (kind, total, lines) in kind order.
    pub totals: Vec<(EarningsKind, Money, u64)>,
    pub read: Duration,
    pub compute: Duration,
    pub write: Duration,
}

/// How long a run's claim on its period lasts: far longer than a run of a million members
/// takes (P9: 10 s), short enough that a run whose process died frees the period soon.
const RUN_CLAIM: time::Duration = time::Duration::minutes(30);

/// Runs `period`: reads every member and the period's orders, pays them with `plan`, adds
/// clawbacks for orders refunded after their period closed, and replaces the period's
/// lines and results in one transaction (with the run's audit row and event). `now` is
/// asked at the start and at the end.
///
/// The period is claimed in storage first, so two instances (or an admin's run and the
/// projection) never run one period at once: the second gets [`CommissionError::Busy`].
pub async fn run(
    storage: &dyn Storage,
    plan: &CommissionPlan,
    period: Period,
    by: Option<AccountId>,
    now: impl Fn() -> OffsetDateTime,
) -> Result<RunSummary, CommissionError> {
    let holder = claim_holder()?;
    let at = now();
    if !storage
        .claim_commission_run(period, holder.clone(), at, at + RUN_CLAIM)
        .await?
    {
        return Err(CommissionError::Busy(period));
    }
    let result = run_claimed(storage, plan, period, by, now).await;
    if let Err(e) = storage.release_commission_run(period, holder).await {
        // The claim lapses on its own; the run's own outcome is what the caller needs.
        tracing::warn!(error = %e, %period, "could not release the commission run's claim");
    }
    result
}

/// A random name for one run's claim: 128 bits, hex.
fn claim_holder() -> Result<String, CommissionError> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| StorageError::Invalid("the system's random number generator failed"))?;
    Ok(data_encoding::HEXLOWER.encode(&bytes))
}

async fn run_claimed(
    storage: &dyn Storage,
    plan: &CommissionPlan,
    period: Period,
    by: Option<AccountId>,
    now: impl Fn() -> OffsetDateTime,
) -> Result<RunSummary, CommissionError> {
    let started_at = now();
    if storage
        .commission_period(period)
        .await?
        .is_some_and(|p| p.closed)
    {
        return Err(CommissionError::Closed(period));
    }
    let clock = Instant::now();
    let input = storage.commission_input(period).await?;
    let read = clock.elapsed();

    let clock = Instant::now();
    let (members, n_orders) = (input.members.len(), input.orders.len());
    let currency = plan.plan().currency();
    let mut orders = input.orders;
    let other_currency = zero_orders_without_rate(plan.plan(), &mut orders);
    let tree = Tree::new(input.members)?;
    let output = run_period(
        plan.plan(),
        &tree,
        period,
        &orders,
        ids::first_run_line(period),
    )?;
    drop((tree, orders));
    let corrections = corrections(&input.refunded_after_close, period)?;
    let mut lines: Vec<StoredLine> = Vec::with_capacity(output.lines.len() + corrections.len());
    lines.extend(output.lines.into_iter().map(|line| StoredLine {
        line,
        reverses: None,
    }));
    let n_corrections = corrections.len();
    lines.extend(corrections);
    let total = Money::checked_sum(currency, lines.iter().map(|l| l.line.amount))?;
    let totals = totals(&lines, currency)?;
    let result_hash = result_hash(&output.members, &lines);
    let compute = clock.elapsed();

    let clock = Instant::now();
    let n_lines = lines.len();
    let stored = storage
        .record_commission_run(NewCommissionRun {
            period,
            started_at,
            finished_at: now(),
            by,
            plan: plan.record().clone(),
            input_members: members as u64,
            input_orders: n_orders as u64,
            currency,
            results: output.members,
            lines,
            total_minor: total.minor(),
            result_hash,
        })
        .await?
        .ok_or(CommissionError::Closed(period))?;
    let write = clock.elapsed();
    tracing::info!(
        %period, members, orders = n_orders, other_currency, lines = n_lines, run = stored.id,
        "commission run stored"
    );
    Ok(RunSummary {
        run: stored,
        members,
        orders: n_orders,
        other_currency,
        lines: n_lines,
        corrections: n_corrections,
        totals,
        read,
        compute,
        write,
    })
}

/// Zeroes the amount of every order in a currency `plan` has no exchange rate for, so that
/// it counts for volume and ranks but pays nothing (its lines round to zero and are not
/// issued) instead of failing the whole run; returns how many there were. Orders in a
/// currency with a rate are left alone: the run converts them.
fn zero_orders_without_rate(plan: &Plan, orders: &mut [PeriodOrder]) -> usize {
    let currency = plan.currency();
    let mut zeroed = 0;
    for order in orders.iter_mut().filter(|o| {
        o.amount.currency() != currency && plan.exchange_rate(o.amount.currency()).is_none()
    }) {
        order.amount = Money::new(0, currency);
        zeroed += 1;
    }
    zeroed
}

/// Marks `period` final: later runs of it are refused.
pub async fn close(
    storage: &dyn Storage,
    period: Period,
    by: Option<AccountId>,
    now: OffsetDateTime,
) -> Result<CommissionPeriodRecord, CommissionError> {
    match storage.close_commission_period(period, by, now).await {
        Ok(Some(closed)) => Ok(closed),
        Ok(None) => Err(CommissionError::Closed(period)),
        Err(StorageError::NotFound) => Err(CommissionError::NeverRun(period)),
        Err(e) => Err(e.into()),
    }
}

/// Clawbacks in `period` for every order refunded after its period closed whose lines do
/// not already add up to zero (an earlier period may have reversed them), in order-id
/// order and numbered from the period's correction range, so a rerun gives the same ids.
pub fn corrections(
    issued: &[EarningsLine],
    period: Period,
) -> Result<Vec<StoredLine>, CommissionError> {
    let mut by_order: Vec<&EarningsLine> = issued.iter().filter(|l| l.period < period).collect();
    by_order.sort_by_key(|l| (l.source.order, l.id));
    let mut out: Vec<StoredLine> = Vec::new();
    let mut start = 0;
    while start < by_order.len() {
        let order: Option<OrderId> = by_order[start].source.order;
        let end = start
            + by_order[start..]
                .iter()
                .take_while(|l| l.source.order == order)
                .count();
        let group: Vec<EarningsLine> = by_order[start..end].iter().map(|l| (*l).clone()).collect();
        start = end;
        let Some(order) = order else { continue };
        let sum: i64 = group.iter().map(|l| l.amount.minor()).sum();
        if sum == 0 {
            continue;
        }
        let first = ids::first_correction_line(period, out.len());
        for c in correct_after_close(&group, order, Correction::Refund, period, first)? {
            out.push(StoredLine {
                line: c.line,
                reverses: Some(c.reverses),
            });
        }
    }
    Ok(out)
}

fn totals(
    lines: &[StoredLine],
    currency: canopy_core::Currency,
) -> Result<Vec<(EarningsKind, Money, u64)>, MoneyError> {
    let mut totals: Vec<(EarningsKind, Money, u64)> = Vec::new();
    for l in lines {
        match totals.iter_mut().find(|(k, _, _)| *k == l.line.kind) {
            Some((_, sum, n)) => {
                *sum = sum.checked_add(l.line.amount)?;
                *n += 1;
            }
            None => totals.push((
                l.line.kind,
                Money::new(0, currency).checked_add(l.line.amount)?,
                1,
            )),
        }
    }
    totals.sort_by_key(|(k, _, _)| canopy_core::comp::kind_order(*k));
    Ok(totals)
}

/// SHA-256 (hex) over every result and line in a fixed binary layout.
fn result_hash(members: &[canopy_core::comp::MemberResult], lines: &[StoredLine]) -> String {
    let mut ctx = Context::new(&SHA256);
    ctx.update(b"canopy-commission-run-v1\0");
    for m in members {
        ctx.update(&m.member.get().to_le_bytes());
        ctx.update(&m.pv.hundredths().to_le_bytes());
        ctx.update(&m.gv.hundredths().to_le_bytes());
        ctx.update(&m.rank.get().to_le_bytes());
        ctx.update(&[u8::from(m.active)]);
    }
    for StoredLine { line, reverses } in lines {
        ctx.update(&line.id.get().to_le_bytes());
        ctx.update(&line.member.get().to_le_bytes());
        ctx.update(&line.amount.minor().to_le_bytes());
        ctx.update(&[canopy_core::comp::kind_order(line.kind)]);
        ctx.update(&line.source.order.map_or(0, OrderId::get).to_le_bytes());
        ctx.update(&line.source.member.map_or(0, |m| m.get()).to_le_bytes());
        ctx.update(&line.source.level.unwrap_or(0).to_le_bytes());
        ctx.update(&reverses.map_or(0, |r| r.get()).to_le_bytes());
    }
    data_encoding::HEXLOWER.encode(ctx.finish().as_ref())
}

#[cfg(test)]
mod tests {
    use canopy_core::{
        BasisPoints, Currency, EarningsLineId, EarningsSource, MemberId, OrderId, Period,
    };

    use super::*;

    fn line(id: i64, period: &str, cents: i64, kind: EarningsKind) -> EarningsLine {
        EarningsLine {
            id: EarningsLineId::new(id),
            period: Period::parse(period).unwrap(),
            member: MemberId::new(4),
            amount: Money::new(cents, Currency::USD),
            kind,
            source: EarningsSource {
                order: Some(OrderId::new(7)),
                member: Some(MemberId::new(5)),
                level: Some(1),
                rule: "Unilevel L1".to_owned(),
                rate: Some(BasisPoints::new(500)),
            },
        }
    }

    #[test]
    fn only_orders_without_a_rate_are_zeroed() {
        let plan = CommissionPlan::bundled().unwrap();
        let order = |id: i64, minor: i64, currency: Currency| PeriodOrder {
            id: OrderId::new(id),
            buyer: MemberId::new(1),
            pv: canopy_core::Pv::from_hundredths(10_000),
            amount: Money::new(minor, currency),
            status: canopy_core::OrderStatus::Paid,
        };
        let mut orders = vec![
            order(1, 10_000, Currency::USD),
            order(2, 10_000, Currency::EUR),
            order(3, 5_000, Currency::JPY),
            order(4, 10_000, Currency::CHF),
            order(5, 10_000, Currency::SEK),
        ];
        assert_eq!(zero_orders_without_rate(plan.plan(), &mut orders), 2);
        let amounts: Vec<String> = orders.iter().map(|o| o.amount.to_string()).collect();
        assert_eq!(
            amounts,
            [
                "USD 100.00",
                "EUR 100.00",
                "JPY 5,000",
                "USD 0.00",
                "USD 0.00"
            ]
        );
        assert!(orders.iter().all(|o| o.pv.hundredths() == 10_000));
    }

    #[test]
    fn a_refund_is_clawed_back_once() {
        let nov = Period::parse("2026-11").unwrap();
        let original = line(1, "2026-09", 500, EarningsKind::Unilevel);
        let reversed = line(2, "2026-10", -500, EarningsKind::Clawback);
        let cases: [(&[EarningsLine], Vec<i64>); 3] = [
            (&[], vec![]),
            (std::slice::from_ref(&original), vec![-500]),
            (&[original.clone(), reversed], vec![]),
        ];
        for (issued, amounts) in cases {
            let out = corrections(issued, nov).unwrap();
            let got: Vec<i64> = out.iter().map(|l| l.line.amount.minor()).collect();
            assert_eq!(got, amounts, "{issued:?}");
            for l in &out {
                assert_eq!(l.reverses, Some(original.id));
                assert_eq!(l.line.id, ids::first_correction_line(nov, 0));
                assert_eq!(l.line.kind, EarningsKind::Clawback);
            }
        }
    }
}
