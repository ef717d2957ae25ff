//! The earnings screen's types: the statements per period, one period's statement with
//! each line traced to its order and member, and where an exported CSV was saved.

use serde::{Deserialize, Serialize};

use crate::EarningsKind;

/// Every statement in the cache, newest period first. Empty until the company runs
/// commissions for a period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarningsOverview {
    pub periods: Vec<StatementSummaryView>,
}

/// One period's statement in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementSummaryView {
    /// "2026-11": pass to `statement` and `export_statement_csv`.
    pub period: String,
    /// "November 2026".
    pub label: String,
    /// Closed by the company: final figures; otherwise a projection.
    pub closed: bool,
    /// For people: "USD 1,234.56".
    pub total: String,
    pub total_minor: i64,
    pub currency: String,
    pub lines: u32,
}

/// One period's statement: its total, subtotals by kind, and its lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementView {
    pub period: String,
    pub label: String,
    pub closed: bool,
    pub total: String,
    pub total_minor: i64,
    pub currency: String,
    /// One per kind present, in the plan's order.
    pub by_kind: Vec<KindSubtotalView>,
    /// The first lines, in statement order; the CSV has them all.
    pub lines: Vec<EarningsLineView>,
    /// Lines of the statement not in `lines`.
    pub more_lines: u32,
}

/// The sum of a statement's lines of one kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindSubtotalView {
    pub kind: EarningsKind,
    /// "Unilevel commission".
    pub label: String,
    pub total: String,
    pub total_minor: i64,
    pub lines: u32,
}

/// One line of a statement and where its amount came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarningsLineView {
    pub id: i64,
    pub kind: EarningsKind,
    /// The kind for people: "Fast start bonus".
    pub description: String,
    /// "USD 12.50"; negative for clawbacks.
    pub amount: String,
    pub amount_minor: i64,
    /// The order whose volume paid this, if any.
    pub order: Option<i64>,
    /// The downline member whose order or earnings paid this, if any.
    pub member: Option<SourceMemberView>,
    /// Depth of the member below the user (1 = personally enrolled).
    pub level: Option<u16>,
    /// The plan rule's name ("Unilevel L3").
    pub rule: String,
    /// "5.00%", for percentage rules.
    pub rate: Option<String>,
}

/// The member a line comes from; number and name are `None` when the member is not in
/// this device's cache (outside the user's downline now).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceMemberView {
    pub id: i64,
    pub number: Option<String>,
    pub name: Option<String>,
}

/// Where an exported statement was saved, and how many lines it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementExportView {
    pub path: String,
    pub rows: u64,
}
