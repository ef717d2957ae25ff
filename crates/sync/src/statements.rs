//! The statements pull (`canopy_core::sync::statements`): the user's statements whose
//! digest differs from the cache's are fetched again, page by page, each page one cache
//! transaction, the statement's total and digest written with its last page, so a cut
//! pull leaves the old digest and the next pull starts that statement over. The plan in
//! force comes along when the cache's is not current.

use std::collections::HashMap;

use canopy_core::comp::Plan;
use canopy_core::sync::statements::{
    LinesPage, MAX_LINES, StatementSummary, StatementsAnswer, StatementsRequest,
};
use canopy_core::{Currency, EarningsLine, MemberId, Money, Period};
use canopy_store::{StatementStatus, Store};

use crate::client::ServerClient;
use crate::error::SyncError;

/// How often one statement is started over when runs keep landing while it is read.
const ATTEMPTS: u32 = 3;
/// Pages of one statement at the most (2,000 lines each): a bound on a broken server.
const MAX_PAGES: u32 = 10_000;

/// What a pull changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatementsPulled {
    /// Statements fetched again.
    pub statements: u32,
    pub lines: u64,
    /// A new plan was taken.
    pub plan: bool,
}

impl ServerClient {
    /// Brings the cache's statements and plan up to the server's.
    pub async fn pull_statements(
        &self,
        store: &Store,
        access_token: &str,
    ) -> Result<StatementsPulled, SyncError> {
        self.pull_statements_by(store, access_token, MAX_LINES)
            .await
    }

    /// [`pull_statements`](Self::pull_statements) asking for `per_page` lines a page (at
    /// most [`MAX_LINES`]).
    pub async fn pull_statements_by(
        &self,
        store: &Store,
        access_token: &str,
        per_page: u32,
    ) -> Result<StatementsPulled, SyncError> {
        let per_page = per_page.clamp(1, MAX_LINES);
        let request = StatementsRequest {
            plan_hash: store.comp_plan()?.map(|(hash, _)| hash),
        };
        let answer: StatementsAnswer = self
            .send(
                self.http()
                    .post(self.url("/v1/sync/statements"))
                    .json(&request),
                access_token,
            )
            .await?;
        let mut pulled = StatementsPulled::default();
        if let Some(plan) = answer.plan {
            // A plan this build can't read (a newer plan format) is not taken: the old one
            // stays in use, the statements still come, and an app update brings it.
            match Plan::from_toml(&plan.toml) {
                Ok(_) => {
                    store.write(|w| w.set_comp_plan(&plan.hash, &plan.toml))?;
                    pulled.plan = true;
                }
                Err(e) => tracing::warn!(error = %e, "the company's plan is not readable here"),
            }
        }
        let ours: HashMap<Period, Option<String>> =
            store.statement_digests()?.into_iter().collect();
        for summary in &answer.statements {
            if ours.get(&summary.period).and_then(Option::as_deref) == Some(&summary.digest) {
                continue;
            }
            let Some(me) = answer.member else {
                return Err(SyncError::Protocol(
                    "the server lists statements for an account that is no member".into(),
                ));
            };
            pulled.lines += self
                .pull_statement(store, access_token, me, summary, per_page)
                .await?;
            pulled.statements += 1;
        }
        let periods: Vec<Period> = answer.statements.iter().map(|s| s.period).collect();
        if ours.keys().any(|p| !periods.contains(p)) {
            store.write(|w| w.keep_only_statements(&periods))?;
        }
        Ok(pulled)
    }

    /// Fetches one statement's lines from the start; returns how many were written.
    async fn pull_statement(
        &self,
        store: &Store,
        access_token: &str,
        me: MemberId,
        summary: &StatementSummary,
        per_page: u32,
    ) -> Result<u64, SyncError> {
        let currency = Currency::parse(&summary.currency).map_err(|_| {
            SyncError::Protocol(format!("a statement in currency {:?}", summary.currency))
        })?;
        let status = if summary.closed {
            StatementStatus::Final
        } else {
            StatementStatus::Open
        };
        let total = Money::new(summary.total_minor, currency);
        'attempt: for _ in 0..ATTEMPTS {
            let mut after = None;
            let mut written = 0u64;
            for _ in 0..MAX_PAGES {
                let mut url = self.url(&format!(
                    "/v1/sync/statements/{}/lines?limit={per_page}",
                    summary.period
                ));
                if let Some(after) = after {
                    url.push_str(&format!("&after={after}"));
                }
                let page: LinesPage = self.send(self.http().get(url), access_token).await?;
                if page.digest != summary.digest {
                    // A run landed since the list was read: this statement, from the start.
                    continue 'attempt;
                }
                check_page(&page, me, summary.period, after, per_page)?;
                let last = page.next.is_none();
                store.write(|w| {
                    w.put_statement_lines(summary.period, after, &page.lines, last)?;
                    if last {
                        w.put_statement_with_digest(
                            summary.period,
                            status,
                            total,
                            &summary.digest,
                        )?;
                    }
                    Ok(())
                })?;
                written += page.lines.len() as u64;
                match page.next {
                    None => return Ok(written),
                    Some(next) => after = Some(next.get()),
                }
            }
            return Err(SyncError::Protocol(format!(
                "the statement of {} has no end",
                summary.period
            )));
        }
        Err(SyncError::Restart(format!(
            "the statement of {} kept changing while it was read",
            summary.period
        )))
    }
}

/// A page must hold the user's lines of that period, in id order after `after`, and no
/// more than `per_page`.
fn check_page(
    page: &LinesPage,
    me: MemberId,
    period: Period,
    after: Option<i64>,
    per_page: u32,
) -> Result<(), SyncError> {
    if page.lines.len() > per_page as usize {
        return Err(SyncError::Protocol(format!(
            "a page of a statement holds {} lines, more than the {per_page} asked for",
            page.lines.len()
        )));
    }
    let mut previous = after.unwrap_or(i64::MIN);
    for line in &page.lines {
        if !belongs(line, me, period) || line.id.get() <= previous {
            return Err(SyncError::Protocol(format!(
                "line {} of the statement of {period} is not the user's or out of order",
                line.id.get()
            )));
        }
        previous = line.id.get();
    }
    if page
        .next
        .is_some_and(|n| Some(n.get()) != page.lines.last().map(|l| l.id.get()))
    {
        return Err(SyncError::Protocol(
            "a page of a statement points past its last line".into(),
        ));
    }
    Ok(())
}

fn belongs(line: &EarningsLine, me: MemberId, period: Period) -> bool {
    line.member == me && line.period == period
}
