//! The user's earnings: the statements per period (final once the company closes a
//! period, projected until then), the chosen period's subtotals by kind and its lines,
//! each traced to the order and member it came from, and a CSV export for a spreadsheet.

use canopy_core::ipc::{
    EarningsLineView, EarningsOverview, KindSubtotalView, StatementSummaryView, StatementView,
};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::components::badge::{Badge, Tone};
use crate::components::button::{Button, ButtonVariant};
use crate::components::callout::Callout;
use crate::components::card::Card;
use crate::components::problem::maybe_problem;
use crate::components::states::{EmptyState, ErrorState, LoadingState};
use crate::format::count;

#[component]
pub fn Earnings() -> impl IntoView {
    let overview = LocalResource::new(api::earnings::earnings_overview);
    let chosen = RwSignal::new(None::<String>);
    // The period shown: the one chosen, else the newest.
    let current = Memo::new(move |_| {
        chosen.get().or_else(|| {
            overview
                .get()
                .and_then(Result::ok)
                .and_then(|o| o.periods.first().map(|p| p.period.clone()))
        })
    });
    let statement = LocalResource::new(move || {
        let period = current.get();
        async move {
            match period {
                Some(period) => api::earnings::statement(period).await.map(Some),
                None => Ok(None),
            }
        }
    });
    let saved = RwSignal::new(None::<String>);
    let export_error = RwSignal::new(None::<ApiError>);
    let exporting = RwSignal::new(false);
    let export = Callback::new(move |()| {
        let Some(period) = current.get_untracked() else {
            return;
        };
        exporting.set(true);
        spawn_local(async move {
            match api::earnings::export_statement_csv(period).await {
                Ok(done) => {
                    export_error.set(None);
                    saved.set(Some(format!(
                        "Saved {} lines to {}",
                        count(done.rows),
                        done.path
                    )));
                }
                Err(problem) => export_error.set(Some(problem)),
            }
            exporting.set(false);
        });
    });
    let choose = Callback::new(move |period: String| {
        saved.set(None);
        export_error.set(None);
        chosen.set(Some(period));
    });
    let retry = Callback::new(move |()| overview.refetch());
    view! {
        <section class="page" data-testid="earnings">
            <header class="page-head">
                <h1>"Earnings"</h1>
                <p class="lead">"Your statement for each period, every line traced to the order and member it came from."</p>
            </header>
            {move || saved.get().map(|text| view! { <Callout title="Export saved" test_id="earnings-export-saved">{text}</Callout> })}
            {move || maybe_problem(export_error.get())}
            {move || match overview.get() {
                None => view! { <LoadingState label="Reading your statements…" /> }.into_any(),
                Some(Err(problem)) => view! {
                    <ErrorState title="Your earnings can't be shown" message=problem.to_string() on_retry=retry />
                }.into_any(),
                Some(Ok(EarningsOverview { periods })) if periods.is_empty() => view! {
                    <EmptyState
                        title="No statements yet"
                        text="Your statements appear here once your company runs commissions for a period."
                    />
                }.into_any(),
                Some(Ok(EarningsOverview { periods })) => view! {
                    <nav class="earnings-periods" aria-label="Periods">
                        {periods.into_iter().map(|p| period_button(p, current, choose)).collect_view()}
                    </nav>
                    {move || match statement.get() {
                        None => view! { <LoadingState label="Reading the statement…" /> }.into_any(),
                        Some(Err(problem)) => view! {
                            <ErrorState title="This statement can't be shown" message=problem.to_string() />
                        }.into_any(),
                        Some(Ok(None)) => ().into_any(),
                        Some(Ok(Some(s))) => statement_view(s, export, exporting).into_any(),
                    }}
                }.into_any(),
            }}
        </section>
    }
}

/// One period in the list: its month, final or projected, and its total.
fn period_button(
    p: StatementSummaryView,
    current: Memo<Option<String>>,
    choose: Callback<String>,
) -> impl IntoView {
    let period = p.period.clone();
    let selected = Memo::new(move |_| current.get().as_deref() == Some(period.as_str()));
    let period = p.period;
    view! {
        <button
            type="button"
            class="earnings-period"
            class:selected=move || selected.get()
            aria-pressed=move || if selected.get() { "true" } else { "false" }
            data-testid="earnings-period"
            on:click=move |_| choose.run(period.clone())
        >
            <span class="earnings-period-head">
                <span class="cell-name">{p.label}</span>
                {status_badge(p.closed)}
            </span>
            <span class="earnings-period-total">{p.total}</span>
            <span class="cell-sub">{format!("{} lines", count(u64::from(p.lines)))}</span>
        </button>
    }
}

fn status_badge(closed: bool) -> impl IntoView {
    if closed {
        view! { <Badge tone=Tone::Success>"Final"</Badge> }.into_any()
    } else {
        view! { <Badge tone=Tone::Info>"Projected"</Badge> }.into_any()
    }
}

fn statement_view(
    s: StatementView,
    export: Callback<()>,
    exporting: RwSignal<bool>,
) -> impl IntoView {
    let StatementView {
        label,
        closed,
        total,
        by_kind,
        lines,
        more_lines,
        ..
    } = s;
    let shown = lines.len();
    let all = shown + more_lines as usize;
    let subtitle = if more_lines > 0 {
        format!(
            "The first {} of {} lines are listed; the CSV has them all.",
            count(shown as u64),
            count(all as u64)
        )
    } else if closed {
        "Final: your company closed this period.".to_owned()
    } else {
        "Projected: the period is still open, so these figures can change.".to_owned()
    };
    let export_button = ViewFn::from(move || {
        view! {
            <Button variant=ButtonVariant::Secondary loading=exporting on_click=export test_id="earnings-export">"Export CSV"</Button>
        }
    });
    view! {
        <div class="stat-row earnings-stats">
            <div class="stat"><span class="stat-label">"Period"</span><span class="stat-value">{label.clone()}</span></div>
            <div class="stat"><span class="stat-label">"Total"</span><span class="stat-value" data-testid="earnings-total">{total}</span></div>
            <div class="stat"><span class="stat-label">"Status"</span><span class="stat-value">{status_badge(closed)}</span></div>
            <div class="stat"><span class="stat-label">"Lines"</span><span class="stat-value">{count(all as u64)}</span></div>
        </div>
        <Card title="By kind" subtitle="What each part of the plan paid you this period." test_id="earnings-kinds">
            {kinds_table(by_kind)}
        </Card>
        <Card title=format!("Lines of {label}") subtitle=subtitle header_end=export_button test_id="earnings-lines">
            {lines_table(lines)}
        </Card>
    }
}

fn kinds_table(kinds: Vec<KindSubtotalView>) -> AnyView {
    if kinds.is_empty() {
        return view! { <p class="muted">"This statement has no lines."</p> }.into_any();
    }
    view! {
        <table class="table earnings-kinds">
            <thead><tr><th scope="col">"Kind"</th><th scope="col" class="num">"Lines"</th><th scope="col" class="num">"Amount"</th></tr></thead>
            <tbody>
                {kinds.into_iter().map(|k| view! {
                    <tr>
                        <td>{k.label}</td>
                        <td class="num">{count(u64::from(k.lines))}</td>
                        <td class="num" class:earnings-negative=k.total_minor < 0>{k.total}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }.into_any()
}

fn lines_table(lines: Vec<EarningsLineView>) -> AnyView {
    if lines.is_empty() {
        return view! { <p class="muted">"This statement has no lines."</p> }.into_any();
    }
    view! {
        <div class="earnings-scroll">
            <table class="table earnings-table">
                <thead><tr>
                    <th scope="col">"Kind"</th>
                    <th scope="col">"From"</th>
                    <th scope="col">"Order"</th>
                    <th scope="col" class="num">"Level"</th>
                    <th scope="col" class="num">"Rate"</th>
                    <th scope="col" class="num">"Amount"</th>
                </tr></thead>
                <tbody>{lines.into_iter().map(line_row).collect_view()}</tbody>
            </table>
        </div>
    }
    .into_any()
}

fn line_row(l: EarningsLineView) -> impl IntoView {
    let from = match l.member {
        Some(m) => {
            let name = m.name.unwrap_or_else(|| "Not in your team now".to_owned());
            let number = m
                .number
                .map_or_else(|| format!("Member {}", m.id), |n| format!("#{n}"));
            view! { <span class="cell-name">{name}</span><span class="cell-sub">{number}</span> }
                .into_any()
        }
        None => view! { <span class="muted">"—"</span> }.into_any(),
    };
    let dash = || "—".to_owned();
    view! {
        <tr data-testid="earnings-line">
            <td><span class="cell-name">{l.description}</span><span class="cell-sub">{l.rule}</span></td>
            <td>{from}</td>
            <td>{l.order.map_or_else(dash, |o| format!("#{o}"))}</td>
            <td class="num">{l.level.map_or_else(dash, |n| n.to_string())}</td>
            <td class="num">{l.rate.unwrap_or_else(dash)}</td>
            <td class="num" class:earnings-negative=l.amount_minor < 0>{l.amount}</td>
        </tr>
    }
}
