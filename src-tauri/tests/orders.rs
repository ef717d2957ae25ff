//! The order form's work over a real cache and the real server: the catalogue is what
//! the server sells; a bad order (no lines, a product twice, an unknown product, a buyer
//! outside the downline) is refused and saves nothing; a good one is pending at once,
//! then applied, priced by the server, and comes back among the user's orders.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../crates/sync/tests/common/mod.rs"]
mod common;

use std::ops::ControlFlow;

use canopy_app::commands::orders::{orders, products, save_order};
use canopy_app::commands::outbox::list;
use canopy_core::Role;
use canopy_core::ipc::{CommandError, OrderLineRequest, OrderRequest, OutboxStateView};
use canopy_sync::ServerClient;
use common::{NOW, account, company, fresh_store, serve, sign_in};
use time::OffsetDateTime;

fn line(sku: &str, quantity: u32) -> OrderLineRequest {
    OrderLineRequest {
        sku: sku.into(),
        quantity,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_order_is_checked_saved_then_priced_by_the_server() {
    let c = company().await;
    let (running, p) = serve(&c).await;
    let token = sign_in(&p, account(&c, Role::Distributor)).await;
    let store = fresh_store(c.dir.path(), "orders.db");
    let client = ServerClient::new(&p).unwrap();
    client
        .bootstrap(&store, &token, NOW, |_| ControlFlow::Continue(()))
        .await
        .unwrap();
    let now = OffsetDateTime::now_utc();

    let catalogue = products(&store).unwrap();
    let server_products = c.storage.products().await.unwrap();
    let on_sale: Vec<_> = server_products.iter().filter(|p| p.active).collect();
    assert_eq!(
        catalogue.len(),
        on_sale.len(),
        "the catalogue is the server's"
    );
    assert!(catalogue.len() >= 2);
    let (a, b) = (&catalogue[0], &catalogue[1]);
    let before = orders(&store).unwrap().len();

    // Refused, each with its reason, and nothing saved.
    for (request, words) in [
        (OrderRequest::default(), "at least one product"),
        (
            OrderRequest {
                member: None,
                lines: vec![line(&a.sku, 1), line(&a.sku, 2)],
            },
            "twice",
        ),
        (
            OrderRequest {
                member: None,
                lines: vec![line("NO-SUCH-SKU", 1)],
            },
            "not in the catalogue",
        ),
        (
            OrderRequest {
                member: Some(999_999_999),
                lines: vec![line(&a.sku, 1)],
            },
            "downline",
        ),
    ] {
        let refused = save_order(&store, &request, now).unwrap_err();
        let CommandError::Invalid(message) = &refused else {
            panic!("{refused:?}");
        };
        assert!(message.contains(words), "{message:?} should say {words:?}");
    }
    assert!(list(&store).unwrap().is_empty());

    // A good order: pending at once; sent, applied; the server's price comes back.
    let saved = save_order(
        &store,
        &OrderRequest {
            member: None,
            lines: vec![line(&a.sku, 2), line(&b.sku, 1)],
        },
        now,
    )
    .unwrap();
    assert_eq!(saved.state, OutboxStateView::Pending);
    assert_eq!(saved.kind, "Order");
    let summary = client.push_outbox(&store, &token, now).await.unwrap();
    assert_eq!(summary.applied, 1, "{summary:?}");
    client
        .pull_changes(&store, &token, "2026-11-21T12:00:00Z")
        .await
        .unwrap();
    let mine = orders(&store).unwrap();
    assert_eq!(mine.len(), before + 1, "the new order is among the user's");
    let newest = &mine[0];
    assert_eq!(newest.status, "Pending");
    assert_eq!(newest.pv, 2 * a.pv + b.pv);
    let total = 2 * a.price_minor + b.price_minor;
    let digits = format!("{}.{:02}", total / 100, total % 100);
    assert!(
        newest.total.replace(',', "").ends_with(&digits),
        "{} for {digits}",
        newest.total
    );
    assert!(
        newest.items.contains(&format!("2 × {}", a.name)),
        "{}",
        newest.items
    );
    running.shutdown().await.unwrap();
}
