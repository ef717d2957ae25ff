//! The member panel: public fields, contact fields only when the server sent them, the
//! subtree's figures (team size, group volume, ranks, legs) and "Focus on this member".

use canopy_core::ipc::{ContactView, MemberDetailView, MemberRowView};
use leptos::prelude::*;

use super::list::status_class;
use crate::api::genealogy as api;
use crate::components::button::{Button, ButtonVariant};
use crate::components::states::{ErrorState, Skeleton};
use crate::format::{count, points};

/// The panel for member `id`.
#[component]
pub fn MemberPanel(
    id: i64,
    on_close: Callback<()>,
    /// Re-roots the list and the tree at a member.
    on_focus: Callback<i64>,
    /// Opens another member's panel (a sponsor, a leg).
    on_open: Callback<i64>,
) -> impl IntoView {
    let detail = LocalResource::new(move || api::member_detail(id, None));
    view! {
        <aside class="member-panel" data-testid="member-panel" aria-label="Member details">
            <button
                class="gen-close"
                type="button"
                aria-label="Close the member panel"
                on:click=move |_| on_close.run(())
            ></button>
            {move || match detail.get() {
                None => view! {
                    <div class="member-panel-body" role="status" aria-live="polite">
                        <span class="visually-hidden">"Loading the member…"</span>
                        <Skeleton lines=6 />
                    </div>
                }
                    .into_any(),
                Some(Err(error)) => view! {
                    <ErrorState
                        title="This member could not be read"
                        message=error.to_string()
                        on_retry=Callback::new(move |()| detail.refetch())
                    />
                }
                    .into_any(),
                Some(Ok(detail)) => body(detail, on_focus, on_open).into_any(),
            }}
        </aside>
    }
}

fn body(d: MemberDetailView, on_focus: Callback<i64>, on_open: Callback<i64>) -> impl IntoView {
    let m = d.member;
    let id = m.id;
    let s = d.subtree;
    let link = move |row: Option<MemberRowView>| match row {
        Some(row) => {
            let id = row.id;
            view! {
                <button class="gen-link" type="button" on:click=move |_| on_open.run(id)>
                    {row.display_name}
                </button>
            }
            .into_any()
        }
        None => view! { <span class="muted">"Not in your team"</span> }.into_any(),
    };
    view! {
        <div class="member-panel-body">
            <header class="member-panel-head">
                <h2 data-testid="member-panel-name">{m.display_name}</h2>
                <p class="mono muted" data-testid="member-panel-number">{m.number}</p>
                <p class="row">
                    <span class="badge badge-info">{m.rank_name}</span>
                    <span class=format!("gen-status gen-status-{}", status_class(m.status))>
                        {m.status.label()}
                    </span>
                </p>
            </header>
            <Button variant=ButtonVariant::Secondary on_click=Callback::new(move |()| on_focus.run(id))>
                "Focus on this member"
            </Button>
            <dl class="gen-facts">
                <dt>"Joined"</dt>
                <dd>{m.joined_on}</dd>
                <dt>"Country"</dt>
                <dd>{m.country}</dd>
                <dt>"Level"</dt>
                <dd>{if m.level == 0 { "You".to_owned() } else { m.level.to_string() }}</dd>
                <dt>"Sponsor"</dt>
                <dd>{link(d.sponsor)}</dd>
                <dt>"Placed under"</dt>
                <dd>{link(d.placement)}</dd>
            </dl>
            {d.contact.map(contact)}
            <section class="gen-section" aria-labelledby="gen-team-title">
                <h3 id="gen-team-title">{format!("Team in {}", s.period)}</h3>
                <dl class="gen-stats">
                    <div><dt>"Team size"</dt><dd>{count(s.team_size)}</dd></div>
                    <div><dt>"Personal volume"</dt><dd>{points(s.pv)}</dd></div>
                    <div><dt>"Group volume"</dt><dd>{points(s.gv)}</dd></div>
                    <div><dt>"Legs"</dt><dd>{count(s.legs_total)}</dd></div>
                </dl>
                {(!s.by_rank.is_empty()).then(|| view! {
                    <h4>"Ranks below"</h4>
                    <ul class="gen-ranks">
                        {s.by_rank.into_iter().map(|r| view! {
                            <li><span>{r.name}</span><span class="mono">{count(u64::from(r.members))}</span></li>
                        }).collect_view()}
                    </ul>
                })}
                {(!s.legs.is_empty()).then(|| {
                    let shown = s.legs.len() as u64;
                    view! {
                        <h4>"Legs by group volume"</h4>
                        <table class="gen-legs">
                            <thead>
                                <tr>
                                    <th scope="col">"Leg"</th>
                                    <th scope="col" class="gen-num">"Members"</th>
                                    <th scope="col" class="gen-num">"GV"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {s.legs.into_iter().map(|leg| {
                                    let id = leg.member.id;
                                    view! {
                                        <tr>
                                            <td>
                                                <button class="gen-link" type="button" on:click=move |_| on_open.run(id)>
                                                    {leg.member.display_name}
                                                </button>
                                            </td>
                                            <td class="gen-num">{count(leg.members)}</td>
                                            <td class="gen-num">{points(leg.gv)}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        {(s.legs_total > shown).then(|| view! {
                            <p class="muted">{format!("The {shown} biggest of {} legs.", count(s.legs_total))}</p>
                        })}
                    }
                })}
            </section>
        </div>
    }
}

/// The contact fields the server sent; absent ones are left out, not shown empty.
fn contact(c: ContactView) -> impl IntoView {
    let field = |label: &'static str, value: Option<String>| {
        value.map(|value| view! { <dt>{label}</dt><dd>{value}</dd> })
    };
    let address = (!c.address.is_empty()).then(|| {
        view! {
            <dt>"Address"</dt>
            <dd>{c.address.into_iter().map(|line| view! { <span class="gen-line">{line}</span> }).collect_view()}</dd>
        }
    });
    view! {
        <section class="gen-section" aria-labelledby="gen-contact-title">
            <h3 id="gen-contact-title">"Contact"</h3>
            <dl class="gen-facts">
                <dt>"Legal name"</dt>
                <dd>{c.legal_name}</dd>
                {field("Email", c.email)}
                {field("Phone", c.phone)}
                {address}
                {field("Date of birth", c.date_of_birth)}
                {field("Tax id", c.tax_id)}
            </dl>
        </section>
    }
}
