//! The manager's team review: the team by leg (each personally enrolled member's part,
//! with its size and group volume), who joined this period, and who is not active now;
//! each section can be saved as a CSV file for a spreadsheet.

use canopy_core::ipc::{LegView, MemberRowView, TeamSection, TeamView};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::components::button::{Button, ButtonVariant};
use crate::components::callout::Callout;
use crate::components::card::Card;
use crate::components::problem::maybe_problem;
use crate::components::states::{EmptyState, ErrorState, LoadingState};
use crate::format::{count, points};

#[component]
pub fn Team() -> impl IntoView {
    let team = LocalResource::new(api::team::team_overview);
    let saved = RwSignal::new(None::<String>);
    let export_error = RwSignal::new(None::<ApiError>);
    let export = move |section: TeamSection| {
        Callback::new(move |()| {
            spawn_local(async move {
                match api::team::export_team_csv(section).await {
                    Ok(done) => {
                        export_error.set(None);
                        saved.set(Some(format!(
                            "Saved {} rows to {}",
                            count(done.rows),
                            done.path
                        )));
                    }
                    Err(problem) => export_error.set(Some(problem)),
                }
            });
        })
    };
    let export_button = move |section: TeamSection| {
        let on_click = export(section);
        ViewFn::from(move || {
            view! {
                <Button variant=ButtonVariant::Secondary on_click=on_click test_id="team-export">"Export CSV"</Button>
            }
        })
    };
    view! {
        <section class="page" data-testid="team">
            <header class="page-head">
                <h1>"Team review"</h1>
                <p class="lead">"Your team by leg, who joined this month, and who needs a call."</p>
            </header>
            {move || saved.get().map(|text| view! { <Callout title="Export saved" test_id="team-export-saved">{text}</Callout> })}
            {move || maybe_problem(export_error.get())}
            {move || match team.get() {
                None => view! { <LoadingState label="Reading your team…" /> }.into_any(),
                Some(Err(problem)) => view! {
                    <ErrorState title="The team review can't be shown" message=problem.to_string() />
                }.into_any(),
                Some(Ok(t)) => body(t, export_button).into_any(),
            }}
        </section>
    }
}

fn body(t: TeamView, export_button: impl Fn(TeamSection) -> ViewFn) -> impl IntoView {
    let TeamView {
        period,
        team_size,
        gv,
        legs,
        new_enrollees,
        more_new,
        not_active,
        more_not_active,
    } = t;
    let largest = legs.iter().map(|l| l.gv).max().unwrap_or(0).max(1);
    view! {
        <div class="stat-row">
            <div class="stat"><span class="stat-label">"Team"</span><span class="stat-value" data-testid="team-size">{count(team_size)}</span></div>
            <div class="stat"><span class="stat-label">"Group volume"</span><span class="stat-value">{points(gv)}</span></div>
            <div class="stat"><span class="stat-label">"Legs"</span><span class="stat-value">{legs.len()}</span></div>
            <div class="stat"><span class="stat-label">"Period"</span><span class="stat-value">{period}</span></div>
        </div>
        <Card title="Legs" subtitle="Each personally enrolled member and everyone below them." header_end=export_button(TeamSection::Legs) test_id="team-legs">
            {if legs.is_empty() {
                view! { <EmptyState title="No legs yet" text="When you enroll someone, their part of your team appears here." /> }.into_any()
            } else {
                view! {
                    <table class="table">
                        <thead><tr><th scope="col">"Member"</th><th scope="col">"Rank"</th><th scope="col" class="num">"Members"</th><th scope="col" class="num">"Group volume"</th><th scope="col">"Share"</th></tr></thead>
                        <tbody>{legs.into_iter().map(|leg| leg_row(leg, largest)).collect_view()}</tbody>
                    </table>
                }.into_any()
            }}
        </Card>
        <Card title="Joined this period" subtitle=more_text(more_new, "Newest first.") header_end=export_button(TeamSection::NewEnrollees) test_id="team-new">
            {members_table(new_enrollees, "Nobody joined yet this period.")}
        </Card>
        <Card title="Not active" subtitle=more_text(more_not_active, "Inactive or suspended now, nearest levels first.") header_end=export_button(TeamSection::NotActive) test_id="team-not-active">
            {members_table(not_active, "Everyone in your team is active.")}
        </Card>
    }
}

fn more_text(more: bool, text: &str) -> String {
    if more {
        format!("{text} The first 50 are listed; the CSV has them all.")
    } else {
        text.to_owned()
    }
}

fn leg_row(leg: LegView, largest: i64) -> impl IntoView {
    let m = leg.member;
    view! {
        <tr>
            <td><span class="cell-name">{m.display_name}</span><span class="cell-sub">{format!("#{}", m.number)}</span></td>
            <td>{m.rank_name}</td>
            <td class="num">{count(leg.members)}</td>
            <td class="num">{points(leg.gv)}</td>
            <td><meter class="share" min="0" max=largest value=leg.gv.max(0)></meter></td>
        </tr>
    }
}

fn members_table(rows: Vec<MemberRowView>, empty: &'static str) -> AnyView {
    if rows.is_empty() {
        return view! { <p class="muted">{empty}</p> }.into_any();
    }
    view! {
        <table class="table">
            <thead><tr><th scope="col">"Member"</th><th scope="col" class="num">"Level"</th><th scope="col">"Rank"</th><th scope="col">"Joined"</th><th scope="col">"Country"</th><th scope="col" class="num">"PV"</th></tr></thead>
            <tbody>
                {rows.into_iter().map(|m| view! {
                    <tr>
                        <td><span class="cell-name">{m.display_name}</span><span class="cell-sub">{format!("#{}", m.number)}</span></td>
                        <td class="num">{m.level}</td>
                        <td>{m.rank_name}</td>
                        <td>{m.joined_on}</td>
                        <td>{m.country}</td>
                        <td class="num">{points(m.pv)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }.into_any()
}
