//! Take an order, with or without a network: products from the catalogue the company
//! last sent (price and volume of each), for the user or someone in their downline. It is
//! saved to the outbox at once; the company prices it from its own catalogue when it
//! arrives. Below: the outbox's orders and the user's past orders.

use std::collections::BTreeMap;

use canopy_core::ipc::{OrderLineRequest, OrderRequest, OutboxItemView, ProductView};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::components::button::Button;
use crate::components::callout::Callout;
use crate::components::card::Card;
use crate::components::member_picker::{MemberPicker, Picked};
use crate::components::problem::maybe_problem;
use crate::components::states::{EmptyState, ErrorState, LoadingState};
use crate::format::{local_time, points};
use crate::pages::outbox::OutboxList;

/// The most of one product an order may hold (the server's limit too).
const MAX_QUANTITY: u32 = 99;

#[component]
pub fn PlaceOrder() -> impl IntoView {
    let catalogue = LocalResource::new(api::orders::catalogue);
    let past = LocalResource::new(api::orders::my_orders);
    let quantities = RwSignal::new(BTreeMap::<String, u32>::new());
    let buyer = RwSignal::new(None::<Picked>);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let saved = RwSignal::new(None::<OutboxItemView>);
    let refresh = RwSignal::new(0_u32);

    let totals = move || {
        let products = catalogue.get().and_then(Result::ok).unwrap_or_default();
        quantities.with(|q| {
            let mut minor = 0_i64;
            let mut pv = 0_i64;
            let mut items = 0_u32;
            let mut currency = String::new();
            for p in &products {
                if let Some(&n) = q.get(&p.sku) {
                    minor += p.price_minor * i64::from(n);
                    pv += p.pv * i64::from(n);
                    items += n;
                    currency.clone_from(&p.currency);
                }
            }
            (items, minor, pv, currency)
        })
    };
    let submit = Callback::new(move |()| {
        if busy.get_untracked() {
            return;
        }
        let request = OrderRequest {
            member: buyer.get_untracked().map(|p| p.id),
            lines: quantities
                .get_untracked()
                .into_iter()
                .filter(|(_, n)| *n > 0)
                .map(|(sku, quantity)| OrderLineRequest { sku, quantity })
                .collect(),
        };
        busy.set(true);
        error.set(None);
        saved.set(None);
        spawn_local(async move {
            let result = api::orders::place_order(&request).await;
            busy.set(false);
            match result {
                Ok(item) => {
                    quantities.set(BTreeMap::new());
                    saved.set(Some(item));
                    refresh.update(|n| *n += 1);
                }
                Err(problem) => error.set(Some(problem)),
            }
        });
    });
    let row = move |p: ProductView| {
        let sku = p.sku.clone();
        let input_id = format!("qty-{}", p.sku);
        let value = {
            let sku = sku.clone();
            move || {
                quantities
                    .with(|q| q.get(&sku).copied().unwrap_or(0))
                    .to_string()
            }
        };
        view! {
            <tr data-testid="product-row">
                <td><span class="cell-name">{p.name.clone()}</span><span class="cell-sub">{p.sku.clone()}</span></td>
                <td class="num">{p.price.clone()}</td>
                <td class="num">{points(p.pv)}</td>
                <td class="num">
                    <label class="visually-hidden" for=input_id.clone()>{format!("Quantity of {}", p.name)}</label>
                    <input
                        class="field-input qty"
                        id=input_id
                        type="number"
                        min="0"
                        max=MAX_QUANTITY
                        inputmode="numeric"
                        prop:value=value
                        on:input=move |event| {
                            let n = event_target_value(&event).trim().parse::<u32>().unwrap_or(0).min(MAX_QUANTITY);
                            let sku = sku.clone();
                            quantities.update(|q| {
                                if n == 0 { q.remove(&sku); } else { q.insert(sku, n); }
                            });
                        }
                    />
                </td>
            </tr>
        }
    };
    view! {
        <section class="page" data-testid="order">
            <header class="page-head">
                <h1>"Take an order"</h1>
                <p class="lead">"Works without a network: the order is saved on this device and sent as soon as Canopy is online. The company confirms the price."</p>
            </header>
            {move || saved.get().map(|item| view! {
                <Callout title="Order saved on this device" test_id="order-saved">
                    {format!("{}. It is pending until the company's server confirms it.", item.summary)}
                </Callout>
            })}
            <div class="order-layout">
                <Card title="Catalogue">
                    {move || match catalogue.get() {
                        None => view! { <LoadingState label="Reading the catalogue…" /> }.into_any(),
                        Some(Err(problem)) => view! { <ErrorState title="The catalogue can't be read" message=problem.to_string() /> }.into_any(),
                        Some(Ok(list)) if list.is_empty() => view! {
                            <EmptyState title="No products yet" text="The catalogue arrives with the first sync." />
                        }.into_any(),
                        Some(Ok(list)) => view! {
                            <table class="table">
                                <thead><tr><th scope="col">"Product"</th><th scope="col" class="num">"Price"</th><th scope="col" class="num">"PV"</th><th scope="col" class="num">"Quantity"</th></tr></thead>
                                <tbody>{list.into_iter().map(row).collect_view()}</tbody>
                            </table>
                        }.into_any(),
                    }}
                </Card>
                <Card title="This order" test_id="order-summary">
                    <div class="form">
                        <MemberPicker id="order-buyer" label="For" chosen=buyer />
                        {move || {
                            let (items, minor, pv, currency) = totals();
                            view! {
                                <dl class="facts">
                                    <dt>"Items"</dt><dd data-testid="order-items">{items}</dd>
                                    <dt>"Total"</dt><dd data-testid="order-total">{format!("{currency} {}", points(minor))}</dd>
                                    <dt>"Volume"</dt><dd data-testid="order-pv">{format!("{} PV", points(pv))}</dd>
                                </dl>
                            }
                        }}
                        {move || maybe_problem(error.get())}
                        <div class="form-actions">
                            <Button on_click=submit loading=busy disabled=Signal::derive(move || totals().0 == 0) test_id="order-submit">"Save order"</Button>
                        </div>
                    </div>
                </Card>
            </div>
            <OutboxList kind="Order" title="Orders from this device" refresh=refresh />
            <Card title="Your orders" subtitle="As the company last confirmed them.">
                {move || match past.get() {
                    None => view! { <LoadingState label="Reading your orders…" /> }.into_any(),
                    Some(Err(problem)) => view! { <ErrorState title="Your orders can't be read" message=problem.to_string() /> }.into_any(),
                    Some(Ok(list)) if list.is_empty() => view! { <p class="muted">"No orders yet."</p> }.into_any(),
                    Some(Ok(list)) => view! {
                        <table class="table">
                            <thead><tr><th scope="col">"Placed"</th><th scope="col">"Items"</th><th scope="col">"Status"</th><th scope="col" class="num">"Total"</th><th scope="col" class="num">"PV"</th></tr></thead>
                            <tbody>
                                {list.into_iter().take(20).map(|o| view! {
                                    <tr>
                                        <td>{local_time(&o.placed_at)}</td>
                                        <td>{o.items}</td>
                                        <td>{o.status}</td>
                                        <td class="num">{o.total}</td>
                                        <td class="num">{points(o.pv)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }}
            </Card>
        </section>
    }
}
