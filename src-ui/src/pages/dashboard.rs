//! The dashboard: this period's personal and group volume, the rank held and the next one,
//! the last twelve periods' earnings, who joined the team this period, alerts, and when
//! the device last synced (with an offline badge). Read again every few seconds, so the
//! figures follow the sync without a flicker.

use canopy_core::ipc::{
    DashboardAlertView, DashboardView, EarningsBarView, NewEnrolleesView, RankProgressView,
    SyncSummaryView,
};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::components::badge::{Badge, Tone};
use crate::components::callout::{Callout, CalloutTone};
use crate::components::card::Card;
use crate::components::progress::ProgressBar;
use crate::components::states::{EmptyState, ErrorState, LoadingState};
use crate::format::{count, local_time, points};

/// How often the figures are read again while the dashboard is shown (milliseconds).
const POLL_MS: u64 = 5_000;

#[component]
pub fn Dashboard() -> impl IntoView {
    let data = RwSignal::new(None::<Result<DashboardView, ApiError>>);
    let load = move || {
        spawn_local(async move {
            let fresh = api::dashboard::dashboard().await;
            if data.get_untracked().as_ref() != Some(&fresh) {
                data.set(Some(fresh));
            }
        });
    };
    load();
    if let Ok(handle) = set_interval_with_handle(load, std::time::Duration::from_millis(POLL_MS)) {
        on_cleanup(move || handle.clear());
    }
    let retry = Callback::new(move |()| {
        data.set(None);
        load();
    });
    view! {
        <section class="dashboard" data-testid="dashboard">
            {move || match data.get() {
                None => view! { <LoadingState label="Reading your figures…" /> }.into_any(),
                Some(Err(error)) => view! {
                    <ErrorState
                        title="The dashboard could not be shown"
                        message=error.to_string()
                        on_retry=retry
                    />
                }
                .into_any(),
                Some(Ok(view)) => figures(view),
            }}
        </section>
    }
}

/// The whole dashboard for one reading of the figures.
fn figures(d: DashboardView) -> AnyView {
    let who = format!("{} · {}", d.member.display_name, d.member.number);
    let attention = alerts_callout(&d.alerts);
    view! {
        <header class="dash-head">
            <div>
                <h1>"Dashboard"</h1>
                <p class="dash-sub">
                    <span data-testid="dashboard-period">{d.period_label.clone()}</span>
                    " · "
                    {who}
                </p>
            </div>
            {sync_line(d.sync)}
        </header>
        {attention}
        <dl class="dash-tiles">
            <div class="dash-tile">
                <dt>"Personal volume"</dt>
                <dd>
                    <span class="dash-figure" data-testid="dashboard-pv">{points(d.pv)}</span>
                    " "
                    <span class="dash-unit">"PV"</span>
                </dd>
                <dd class="dash-note">{format!("{} PV last period", points(d.previous_pv))}</dd>
            </div>
            <div class="dash-tile">
                <dt>"Group volume"</dt>
                <dd>
                    <span class="dash-figure" data-testid="dashboard-gv">{points(d.gv)}</span>
                    " "
                    <span class="dash-unit">"GV"</span>
                </dd>
                <dd class="dash-note">{format!("{} GV last period", points(d.previous_gv))}</dd>
            </div>
            <div class="dash-tile">
                <dt>"Rank"</dt>
                <dd>
                    <span class="dash-figure" data-testid="dashboard-rank">
                        {d.rank.current.name.clone()}
                    </span>
                </dd>
                <dd class="dash-note">{format!("Team of {}", count(d.team_size))}</dd>
            </div>
            <div class="dash-tile">
                <dt>"New enrollees"</dt>
                <dd>
                    <span class="dash-figure" data-testid="dashboard-new-enrollees">
                        {count(d.new_enrollees.count)}
                    </span>
                </dd>
                <dd class="dash-note">{format!("Joined in {}", d.period_label)}</dd>
            </div>
        </dl>
        <div class="dash-grid">
            {rank_card(d.rank)}
            {earnings_card(d.earnings)}
            {enrollees_card(d.new_enrollees, d.period_label)}
            {alerts_card(d.alerts)}
        </div>
    }
    .into_any()
}

/// When the device last synced, and an offline badge when the server can't be reached.
fn sync_line(sync: SyncSummaryView) -> impl IntoView {
    let last = sync
        .last_sync_at
        .as_deref()
        .map_or_else(|| "never".to_owned(), local_time);
    let state = if sync.offline {
        Some(
            view! { <Badge tone=Tone::Warning test_id="dashboard-offline">"Offline"</Badge> }
                .into_any(),
        )
    } else if sync.running {
        Some(view! { <Badge tone=Tone::Info>"Syncing"</Badge> }.into_any())
    } else {
        None
    };
    let pending = (sync.pending > 0).then(|| {
        let n = sync.pending;
        let text = if n == 1 {
            "1 change to send".to_owned()
        } else {
            format!("{} changes to send", count(n as u64))
        };
        view! { <Badge tone=Tone::Neutral>{text}</Badge> }
    });
    view! {
        <div class="dash-sync">
            {state}
            {pending}
            <span class="dash-sync-time">
                "Last synced "
                <time data-testid="dashboard-last-sync" datetime=sync.last_sync_at.clone()>
                    {last}
                </time>
            </span>
        </div>
    }
}

/// The open alerts, above everything, when there are any that need attention.
fn alerts_callout(alerts: &[DashboardAlertView]) -> Option<AnyView> {
    let serious = alerts
        .iter()
        .filter(|a| a.severity == "critical" || a.severity == "warning")
        .count();
    (serious > 0).then(|| {
        let title = if serious == 1 {
            "An alert needs your attention".to_owned()
        } else {
            format!("{serious} alerts need your attention")
        };
        view! {
            <Callout tone=CalloutTone::Danger title=title>
                "Read them under Alerts below."
            </Callout>
        }
        .into_any()
    })
}

fn rank_card(rank: RankProgressView) -> impl IntoView {
    // With the plan on the device: the rank this period qualifies for, then what the rank
    // above it still needs. Without it: the next rank on the ladder the cache knows.
    let next = match (rank.qualifies_for, rank.next) {
        (Some(qualifies), next) => view! {
            <p class="dash-rank-line">
                "This period's figures so far qualify you as "
                <strong data-testid="dashboard-qualifies-for">{qualifies.name}</strong>
                "."
            </p>
            {next.map(|next| view! {
                <p class="dash-rank-line">
                    "To qualify as "
                    <strong data-testid="dashboard-next-rank">{next.name}</strong>
                    " this period:"
                </p>
            })}
        }
        .into_any(),
        (None, Some(next)) => view! {
            <p class="dash-rank-line">
                "Next on the ladder: "
                <strong data-testid="dashboard-next-rank">{next.name}</strong>
            </p>
        }
        .into_any(),
        (None, None) => view! {
            <p class="dash-rank-line">"You hold the top rank of the ladder."</p>
        }
        .into_any(),
    };
    let requirements = if rank.requirements.is_empty() {
        view! {
            <p class="dash-note">
                "What each rank requires comes with your company's compensation plan at the \
                 next sync; your progress towards it will show here."
            </p>
        }
        .into_any()
    } else {
        rank.requirements
            .into_iter()
            .map(|r| {
                let value = Signal::derive(move || Some(r.value as f64));
                let missing = (!r.met).then(|| {
                    view! { <p class="dash-requirement-missing">{r.missing.clone()}</p> }
                });
                view! {
                    <div
                        class="dash-requirement"
                        class:met=r.met
                        data-testid="dashboard-requirement"
                    >
                        <ProgressBar
                            label=r.label
                            value=value
                            max=r.target.max(1) as f64
                            value_text=Signal::derive(move || r.text.clone())
                        />
                        {missing}
                    </div>
                }
            })
            .collect_view()
            .into_any()
    };
    view! {
        <Card title="Rank" subtitle="Where you stand on the ladder" test_id="dashboard-rank-card">
            <p class="dash-rank-current">
                <Badge tone=Tone::Success>{rank.current.name}</Badge>
            </p>
            {next}
            <div class="stack">{requirements}</div>
        </Card>
    }
}

fn earnings_card(bars: Vec<EarningsBarView>) -> impl IntoView {
    let body = if bars.is_empty() {
        view! {
            <EmptyState
                title="No statements yet"
                text="Your earnings appear here once your company issues statements."
            />
        }
        .into_any()
    } else {
        earnings_chart(bars).into_any()
    };
    view! {
        <Card title="Earnings" subtitle="The last twelve periods" test_id="dashboard-earnings">
            {body}
        </Card>
    }
}

/// Chart geometry, in SVG user units (the SVG scales to its box).
const CHART_W: f64 = 360.0;
const CHART_H: f64 = 150.0;
const AXIS_H: f64 = 18.0;
const TOP: f64 = 6.0;

/// Twelve bars drawn with SVG attributes only (the CSP forbids inline styles): final
/// periods solid, projections light; a period without a statement has no bar.
fn earnings_chart(bars: Vec<EarningsBarView>) -> impl IntoView {
    let max = bars
        .iter()
        .filter_map(|b| b.total_minor)
        .map(|v| v.max(0))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let slot = CHART_W / bars.len().max(1) as f64;
    let plot = CHART_H - AXIS_H - TOP;
    let summary = bars
        .iter()
        .filter(|b| b.total_minor.is_some())
        .map(|b| format!("{}: {}", b.period, b.total))
        .collect::<Vec<_>>()
        .join(", ");
    let drawn = bars
        .into_iter()
        .enumerate()
        .map(|(i, b)| {
            let x = i as f64 * slot;
            let height = b
                .total_minor
                .map_or(0.0, |v| (v.max(0) as f64 / max * plot).max(1.0));
            let class = if b.closed {
                "dash-bar"
            } else {
                "dash-bar dash-bar-open"
            };
            let title = if b.total_minor.is_some() {
                format!(
                    "{} {}: {}{}",
                    b.label,
                    b.period.get(..4).unwrap_or_default(),
                    b.total,
                    if b.closed { "" } else { " (projection)" }
                )
            } else {
                format!(
                    "{} {}: no statement",
                    b.label,
                    b.period.get(..4).unwrap_or_default()
                )
            };
            view! {
                <g>
                    <title>{title}</title>
                    {b.total_minor.is_some().then(|| view! {
                        <rect
                            class=class
                            x=format!("{:.1}", x + slot * 0.18)
                            y=format!("{:.1}", TOP + plot - height)
                            width=format!("{:.1}", slot * 0.64)
                            height=format!("{height:.1}")
                            rx="2"
                        />
                    })}
                    <text
                        class="dash-axis"
                        x=format!("{:.1}", x + slot / 2.0)
                        y=format!("{:.1}", CHART_H - 4.0)
                        text-anchor="middle"
                    >
                        {b.label}
                    </text>
                </g>
            }
        })
        .collect_view();
    view! {
        <svg
            class="dash-chart"
            viewBox=format!("0 0 {CHART_W} {CHART_H}")
            role="img"
            aria-label=format!("Earnings per period. {summary}")
            data-testid="dashboard-earnings-chart"
        >
            <line
                class="dash-baseline"
                x1="0"
                x2=format!("{CHART_W}")
                y1=format!("{:.1}", TOP + plot)
                y2=format!("{:.1}", TOP + plot)
            />
            {drawn}
        </svg>
        <p class="dash-legend">
            <span class="dash-key dash-key-final"></span>
            "Final"
            <span class="dash-key dash-key-open"></span>
            "Projection"
        </p>
    }
}

fn enrollees_card(new: NewEnrolleesView, period: String) -> impl IntoView {
    let body = if new.recent.is_empty() {
        view! {
            <EmptyState
                title="Nobody new yet"
                text=format!("Nobody has joined your team in {period} so far.")
            />
        }
        .into_any()
    } else {
        view! {
            <ul class="dash-list">
                {new
                    .recent
                    .into_iter()
                    .map(|m| {
                        let level = if m.level == 1 {
                            "Enrolled by you".to_owned()
                        } else {
                            format!("Level {}", m.level)
                        };
                        view! {
                            <li class="dash-person">
                                <span class="dash-person-name">{m.display_name}</span>
                                <span class="dash-person-meta">
                                    {format!("{} · {level}", m.number)}
                                </span>
                                <time class="dash-person-date" datetime=m.joined_on.clone()>
                                    {m.joined_on.clone()}
                                </time>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    let subtitle = format!("{} joined in {period}", count(new.count));
    view! {
        <Card title="New enrollees" subtitle=subtitle test_id="dashboard-enrollees">
            {body}
        </Card>
    }
}

fn alerts_card(alerts: Vec<DashboardAlertView>) -> impl IntoView {
    let body = if alerts.is_empty() {
        view! { <EmptyState title="No alerts" text="Nothing needs your attention." /> }.into_any()
    } else {
        view! {
            <ul class="dash-list">
                {alerts
                    .into_iter()
                    .map(|a| {
                        let tone = match a.severity.as_str() {
                            "critical" => Tone::Danger,
                            "warning" => Tone::Warning,
                            _ => Tone::Info,
                        };
                        let word = match tone {
                            Tone::Danger => "Critical",
                            Tone::Warning => "Warning",
                            _ => "Info",
                        };
                        view! {
                            <li class="dash-alert">
                                <Badge tone=tone>{word}</Badge>
                                <span class="dash-alert-text">{a.message}</span>
                                <time class="dash-person-date" datetime=a.created_at.clone()>
                                    {local_time(&a.created_at)}
                                </time>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <Card title="Alerts" test_id="dashboard-alerts">
            {body}
        </Card>
    }
}
