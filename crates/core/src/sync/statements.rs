//! The user's statements for the device's cache. Commission runs don't go through the
//! member change log (a run touches every member's lines at once): the device sends the
//! digest of each statement it holds, the server lists the user's statements with theirs,
//! and the device fetches, page by page, the lines of each statement whose digest differs.
//! The compensation plan rides along when the device's copy is not the current one, so the
//! app can show "what do I still need for the next rank" offline. JSON on the wire: these
//! are small, and a statement's lines come in pages of [`MAX_LINES`].

use serde::{Deserialize, Serialize};

use crate::earnings::EarningsLine;
use crate::ids::{EarningsLineId, MemberId};
use crate::period::Period;

/// The most lines one page of a statement carries.
pub const MAX_LINES: u32 = 2_000;

/// `POST /v1/sync/statements`: what the device already has of the plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementsRequest {
    /// The SHA-256 of the plan the device holds, if any.
    #[serde(default)]
    pub plan_hash: Option<String>,
}

/// One of the user's statements, as the server holds it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementSummary {
    pub period: Period,
    /// Closed by the company: final. Otherwise the latest run of the open period.
    pub closed: bool,
    /// ISO 4217 code of the plan's currency.
    pub currency: String,
    pub total_minor: i64,
    pub lines: u64,
    /// Changes whenever the statement may have: a new run of its period, or its closing.
    pub digest: String,
}

/// The compensation plan in force: its TOML text and that text's SHA-256 (hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanText {
    pub hash: String,
    pub toml: String,
}

/// The answer to a [`StatementsRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementsAnswer {
    /// The caller's member, whose lines these are (`None`: an account that is no member,
    /// with no statements).
    pub member: Option<MemberId>,
    /// Every period the company has run, oldest first (a period the user earned nothing in
    /// has a statement of zero).
    pub statements: Vec<StatementSummary>,
    /// The plan, when the device's hash is not the current plan's.
    #[serde(default)]
    pub plan: Option<PlanText>,
}

/// `GET /v1/sync/statements/{period}/lines?after=ID`: one page of a statement's lines, in
/// line-id order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinesPage {
    /// The statement's digest when the page was read: a page of another digest than the
    /// statement's summary means a run happened in between, and the device starts over.
    pub digest: String,
    pub lines: Vec<EarningsLine>,
    /// Ask again after this line; `None` on the last page.
    pub next: Option<EarningsLineId>,
}
