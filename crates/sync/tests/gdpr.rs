//! GDPR end to end (SECURITY.md #23) on the real server over TLS with real SQLCipher
//! caches: a distributor exports their data; an admin erases them; the admin's and the
//! manager's caches drop every personal field and the name from search with their next
//! delta, while the tree keeps its shape; the distributor's own laptop is told it is
//! revoked (and wipes itself).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::ops::ControlFlow;

use canopy_core::{MemberId, Role};
use canopy_store::Store;
use canopy_sync::{ServerClient, SyncError};
use common::{NOW, account, cached, cached_ids, company, fresh_store, member_of, serve};
use serde_json::Value;

/// The cached row of `member`: (display name, status, whether personal details are kept).
fn cached_member(store: &Store, member: MemberId) -> Option<(String, String, bool)> {
    store
        .database()
        .read(|c| {
            let row = c
                .query_row(
                    "SELECT display_name, status, \
                        EXISTS (SELECT 1 FROM member_personal WHERE member_id = m.id) \
                     FROM members m WHERE id = ?1",
                    [member.get()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .ok();
            Ok(row)
        })
        .unwrap()
}

/// The members whose indexed name holds `word`.
fn found_by_name(store: &Store, word: &str) -> Vec<i64> {
    store
        .database()
        .read(|c| {
            let mut stmt =
                c.prepare("SELECT rowid FROM member_search WHERE member_search MATCH ?1")?;
            let ids = stmt
                .query_map([format!("\"{word}\"")], |r| r.get(0))?
                .collect::<Result<Vec<i64>, _>>()?;
            Ok(ids)
        })
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_erased_member_leaves_every_cache_and_their_laptop_is_revoked() {
    let c = company().await;
    let (running, p) = serve(&c).await;
    let client = ServerClient::new(&p).unwrap();
    let http = reqwest::Client::builder()
        .use_preconfigured_tls(canopy_sync::tls::client_config(&p).unwrap())
        .build()
        .unwrap();
    let distributor = member_of(&c, Role::Distributor).await;
    let legal_name = c
        .storage
        .find_member_personal(distributor)
        .await
        .unwrap()
        .expect("the demo distributor's details are on file")
        .legal_name
        .as_str()
        .to_owned();
    let surname = legal_name.split_whitespace().last().unwrap().to_owned();

    // The distributor's laptop, and the admin's and the manager's caches.
    let laptop_token = common::sign_in(&p, account(&c, Role::Distributor)).await;
    let laptop = fresh_store(c.dir.path(), "laptop.db");
    client
        .bootstrap(&laptop, &laptop_token, NOW, |_| ControlFlow::Continue(()))
        .await
        .unwrap();
    let (admin_cache, admin_token) = cached(&c, &p, Role::Admin, "admin.db").await;
    let (manager_cache, manager_token) = cached(&c, &p, Role::Manager, "manager.db").await;
    let manager_sees = cached_member(&manager_cache, distributor).is_some();
    let (_, _, personal) = cached_member(&admin_cache, distributor).unwrap();
    assert!(
        personal,
        "the admin's cache holds the distributor's details"
    );
    assert!(found_by_name(&admin_cache, &surname).contains(&distributor.get()));

    // Their export holds what the server keeps about them.
    let export: Value = http
        .get(format!("{}/v1/me/export", p.server_url))
        .bearer_auth(&laptop_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        export["member"]["personal"]["legal_name"],
        legal_name.as_str()
    );
    let orders = c.storage.orders_of(distributor).await.unwrap();
    assert_eq!(export["orders"].as_array().unwrap().len(), orders.len());
    let statements = c.storage.statements_of(distributor).await.unwrap();
    assert_eq!(
        export["statements"].as_array().unwrap().len(),
        statements.len()
    );
    assert!(!statements.is_empty(), "the demo pays its history");
    let lines: usize = export["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["lines"].as_array().unwrap().len())
        .sum();
    let expected: u64 = statements.iter().map(|s| s.lines).sum();
    assert_eq!(lines as u64, expected);

    // The admin erases them (signed in just now: the step-up is fresh).
    let response = http
        .post(format!(
            "{}/v1/admin/members/{distributor}/erase",
            p.server_url
        ))
        .bearer_auth(&admin_token)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);

    let ids_before = cached_ids(&admin_cache);
    client
        .pull_changes(&admin_cache, &admin_token, NOW)
        .await
        .unwrap();
    client
        .pull_changes(&manager_cache, &manager_token, NOW)
        .await
        .unwrap();
    let erased = Some(("Erased member".to_owned(), "erased".to_owned(), false));
    assert_eq!(cached_member(&admin_cache, distributor), erased);
    assert_eq!(
        cached_ids(&admin_cache),
        ids_before,
        "the tree keeps its shape"
    );
    // Someone else may share the surname; the erased member is no longer among them.
    assert!(!found_by_name(&admin_cache, &surname).contains(&distributor.get()));
    assert!(found_by_name(&admin_cache, "Erased").contains(&distributor.get()));
    if manager_sees {
        assert_eq!(cached_member(&manager_cache, distributor), erased);
        assert!(!found_by_name(&manager_cache, &surname).contains(&distributor.get()));
    }
    // Their orders and earnings are still the company's books.
    assert_eq!(c.storage.orders_of(distributor).await.unwrap(), orders);
    assert_eq!(
        c.storage.statements_of(distributor).await.unwrap(),
        statements
    );

    // The laptop learns it is revoked: the app wipes its cache on this answer.
    let refused = client
        .pull_changes(&laptop, &laptop_token, NOW)
        .await
        .unwrap_err();
    assert!(matches!(refused, SyncError::DeviceRevoked), "{refused:?}");
    running.shutdown().await.unwrap();
}
