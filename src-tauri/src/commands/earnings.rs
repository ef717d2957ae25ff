//! The user's earnings: the statements per period the company's commission runs sent,
//! one period's statement with each line traced to its order and member, and the same as
//! a CSV file for a spreadsheet. Nothing is computed here: the server's figures are shown.

use std::path::Path;

use canopy_core::ipc::{
    CommandError, EarningsLineView, EarningsOverview, KindSubtotalView, SourceMemberView,
    StatementExportView, StatementSummaryView, StatementView,
};
use canopy_core::{EarningsKind, Money, Period};
use canopy_store::{EarningsLineRow, Statement, StatementStatus, Store, StoreError};
use tauri::State;

use super::csv_export::{self, write};
use super::{blocking, open_store};
use crate::state::AppState;

/// Lines listed on the screen; the CSV has them all.
pub const SHOWN: u32 = 500;
/// Lines read per page of the cache while exporting.
const PAGE: u32 = 1_000;

/// The plan's order of kinds, for the subtotals.
const KINDS: [EarningsKind; 9] = EarningsKind::ALL;

/// Every statement in the cache, newest period first.
#[tauri::command]
pub async fn earnings_overview(
    state: State<'_, AppState>,
) -> Result<EarningsOverview, CommandError> {
    let store = open_store(&state).await?;
    blocking(move || overview(&store)).await
}

/// One period's statement ("2026-11").
#[tauri::command]
pub async fn statement(
    state: State<'_, AppState>,
    period: String,
) -> Result<StatementView, CommandError> {
    let store = open_store(&state).await?;
    blocking(move || statement_of(&store, &period)).await
}

/// Writes one period's statement, every line, as a CSV file in the Downloads folder;
/// answers where it went.
#[tauri::command]
pub async fn export_statement_csv(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    period: String,
) -> Result<StatementExportView, CommandError> {
    let store = open_store(&state).await?;
    let folder = csv_export::folder(&app)?;
    blocking(move || export(&store, &period, &folder)).await
}

/// [`earnings_overview`]'s work without Tauri.
pub fn overview(store: &Store) -> Result<EarningsOverview, CommandError> {
    let periods = store
        .earnings_by_period()
        .map_err(internal)?
        .into_iter()
        .map(|s| StatementSummaryView {
            period: s.period.to_string(),
            label: label(s.period),
            closed: s.status == StatementStatus::Final,
            total: s.total.to_string(),
            total_minor: s.total.minor(),
            currency: s.total.currency().as_str().to_owned(),
            lines: s.lines,
        })
        .collect();
    Ok(EarningsOverview { periods })
}

/// [`statement`]'s work without Tauri: the first [`SHOWN`] lines, and subtotals over all.
pub fn statement_of(store: &Store, period: &str) -> Result<StatementView, CommandError> {
    let period = parse(period)?;
    let page = first_page(store, period, SHOWN)?;
    let summary = page.summary;
    let mut by_kind: Vec<(EarningsKind, Money, u32)> = Vec::new();
    for (kind, amount, n) in store.statement_by_kind(period).map_err(internal)? {
        match by_kind.iter_mut().find(|(k, ..)| *k == kind) {
            Some((_, total, lines)) => {
                *total = total.checked_add(amount).map_err(internal)?;
                *lines += n;
            }
            None => by_kind.push((kind, amount, n)),
        }
    }
    by_kind.sort_by_key(|(kind, ..)| KINDS.iter().position(|k| k == kind));
    let shown = u32::try_from(page.lines.len()).unwrap_or(u32::MAX);
    Ok(StatementView {
        period: summary.period.to_string(),
        label: label(summary.period),
        closed: summary.status == StatementStatus::Final,
        total: summary.total.to_string(),
        total_minor: summary.total.minor(),
        currency: summary.total.currency().as_str().to_owned(),
        by_kind: by_kind
            .into_iter()
            .map(|(kind, total, lines)| KindSubtotalView {
                kind,
                label: kind.label().to_owned(),
                total: total.to_string(),
                total_minor: total.minor(),
                lines,
            })
            .collect(),
        lines: page.lines.into_iter().map(line_view).collect(),
        more_lines: summary.lines.saturating_sub(shown),
    })
}

/// [`export_statement_csv`]'s work without Tauri: every line of the period's statement,
/// page by page, amounts as plain decimals, written to a new file in `folder`.
pub fn export(
    store: &Store,
    period: &str,
    folder: &Path,
) -> Result<StatementExportView, CommandError> {
    let period = parse(period)?;
    let mut page = first_page(store, period, PAGE)?;
    let mut out = csv_export::sheet();
    write(
        &mut out,
        &[
            "Period",
            "Status",
            "Line",
            "Kind",
            "Rule",
            "Order",
            "Member number",
            "Member",
            "Level",
            "Rate (%)",
            "Amount",
            "Currency",
        ],
    )?;
    let period_text = period.to_string();
    let status = match page.summary.status {
        StatementStatus::Final => "Final",
        StatementStatus::Open => "Projected",
    };
    let mut rows = 0_u64;
    loop {
        for line in &page.lines {
            let text = |value: Option<String>| value.unwrap_or_default();
            write(
                &mut out,
                &[
                    &period_text,
                    status,
                    &line.id.to_string(),
                    line.kind.label(),
                    &line.rule,
                    &text(line.order.map(|o| o.get().to_string())),
                    line.source_number.as_deref().unwrap_or_default(),
                    line.source_name.as_deref().unwrap_or_default(),
                    &text(line.level.map(|l| l.to_string())),
                    &text(line.rate.map(|r| decimal(i64::from(r.get()), 2))),
                    &plain(line.amount),
                    line.amount.currency().as_str(),
                ],
            )?;
            rows += 1;
        }
        match page.next {
            Some(after) => {
                page = store
                    .statement(period, Some(after), PAGE)
                    .map_err(internal)?;
            }
            None => break,
        }
    }
    let path = csv_export::save(out, folder, &format!("canopy-earnings-{period_text}"))?;
    Ok(StatementExportView {
        path: path.display().to_string(),
        rows,
    })
}

/// "2026-11", or a message saying what a period looks like.
fn parse(period: &str) -> Result<Period, CommandError> {
    Period::parse(period).map_err(|_| {
        CommandError::Invalid(format!(
            "{period:?} is not a period: write it as year and month, like 2026-11"
        ))
    })
}

/// The first `limit` lines of `period`'s statement, or a message saying there is none.
fn first_page(store: &Store, period: Period, limit: u32) -> Result<Statement, CommandError> {
    store.statement(period, None, limit).map_err(|e| match e {
        StoreError::NotFound(_) => CommandError::Invalid(format!(
            "There is no statement for {} on this device",
            label(period)
        )),
        e => internal(e),
    })
}

fn line_view(line: EarningsLineRow) -> EarningsLineView {
    EarningsLineView {
        id: line.id,
        kind: line.kind,
        description: line.kind.label().to_owned(),
        amount: line.amount.to_string(),
        amount_minor: line.amount.minor(),
        order: line.order.map(|o| o.get()),
        member: line.source_member.map(|m| SourceMemberView {
            id: m.get(),
            number: line.source_number,
            name: line.source_name,
        }),
        level: line.level,
        rule: line.rule,
        rate: line.rate.map(|r| r.to_string()),
    }
}

/// "November 2026".
fn label(period: Period) -> String {
    format!("{} {}", period.month(), period.year())
}

/// An amount as a spreadsheet reads it: "-1234.50", no currency or grouping.
fn plain(amount: Money) -> String {
    decimal(amount.minor(), amount.currency().exponent())
}

/// `value` with `places` implied decimals: (12345, 2) → "123.45".
fn decimal(value: i64, places: u8) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let abs = value.unsigned_abs();
    if places == 0 {
        return format!("{sign}{abs}");
    }
    let scale = 10_u64.pow(u32::from(places));
    format!(
        "{sign}{}.{:0width$}",
        abs / scale,
        abs % scale,
        width = usize::from(places)
    )
}

fn internal(e: impl std::fmt::Display) -> CommandError {
    CommandError::Internal(e.to_string())
}

#[cfg(test)]
mod tests {
    use canopy_core::Currency;

    use super::*;

    #[test]
    fn amounts_are_plain_decimals() {
        let cases = [
            (123_456, "USD", "1234.56"),
            (-5, "USD", "-0.05"),
            (0, "EUR", "0.00"),
            (1_500, "JPY", "1500"),
        ];
        for (minor, currency, text) in cases {
            let money = Money::new(minor, Currency::parse(currency).unwrap());
            assert_eq!(plain(money), text, "{minor} {currency}");
        }
    }

    #[test]
    fn a_bad_period_says_what_a_period_looks_like() {
        for text in ["", "November", "2026-13", "26-11"] {
            let Err(CommandError::Invalid(message)) = parse(text) else {
                panic!("{text:?} was accepted");
            };
            assert!(message.contains("like 2026-11"), "{message}");
        }
    }
}
