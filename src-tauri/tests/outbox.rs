//! The enrollment command's work over a real cache and the real server: a form with
//! mistakes is refused with every field's problem and saves nothing; a good one is on
//! disk as pending at once (as when offline), describes itself in words, and once
//! pushed it is applied, the server made the member, and the next pull brings them into
//! the cache. A sponsor outside the cache is refused before anything is saved.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../crates/sync/tests/common/mod.rs"]
mod common;

use std::ops::ControlFlow;

use canopy_app::commands::outbox::{CONSENT_VERSION, list, refused, resend, save_enrollment};
use canopy_app::commands::sync::view;
use canopy_core::ipc::{CommandError, EnrollRequest, OutboxStateView};
use canopy_core::{EnrollmentKind, Field, MemberId, Period, Role};
use canopy_sync::ServerClient;
use canopy_sync::runner::SyncStatus;
use common::{NOW, account, company, fresh_store, member_of, serve, sign_in};
use time::OffsetDateTime;

fn good_request(email: &str) -> EnrollRequest {
    EnrollRequest {
        kind: EnrollmentKind::Distributor,
        sponsor: None,
        legal_name: "Beatriz Costa".into(),
        email: email.into(),
        date_of_birth: "1991-02-14".into(),
        address_line1: "Rua do Ouro 10".into(),
        city: "Porto".into(),
        postal_code: "4000-001".into(),
        country: "pt".into(),
        consent_version: CONSENT_VERSION.into(),
        accepted: true,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_enrollment_is_checked_saved_pending_then_applied_and_cached() {
    let c = company().await;
    let (running, p) = serve(&c).await;
    let token = sign_in(&p, account(&c, Role::Distributor)).await;
    let store = fresh_store(c.dir.path(), "rep.db");
    let client = ServerClient::new(&p).unwrap();
    client
        .bootstrap(&store, &token, NOW, |_| ControlFlow::Continue(()))
        .await
        .unwrap();
    let me = member_of(&c, Role::Distributor).await;
    let now = OffsetDateTime::now_utc();

    // Mistakes: every one reported at once, next to its field, and nothing saved.
    let mut bad = good_request("not an email");
    bad.date_of_birth = "2015-01-01".into();
    bad.accepted = false;
    bad.country = String::new();
    let Err(CommandError::Fields(problems)) = save_enrollment(&store, &bad, now, true) else {
        panic!("a form with mistakes was accepted");
    };
    let fields: Vec<Field> = problems.iter().map(|p| p.field).collect();
    for field in [
        Field::Email,
        Field::DateOfBirth,
        Field::Consent,
        Field::Country,
    ] {
        assert!(
            fields.contains(&field),
            "{field:?} not reported: {problems:?}"
        );
    }
    assert!(problems.iter().all(|p| !p.message.is_empty()));
    assert!(
        list(&store).unwrap().is_empty(),
        "a refused form saved something"
    );

    // A sponsor this device doesn't have: refused, nothing saved.
    let mut stranger = good_request("someone@example.pt");
    stranger.sponsor = Some(999_999_999);
    let Err(CommandError::Fields(problems)) = save_enrollment(&store, &stranger, now, true) else {
        panic!("a sponsor outside the cache was accepted");
    };
    assert_eq!(problems[0].field, Field::Sponsor);
    assert!(list(&store).unwrap().is_empty());

    // A good one: pending at once, described in words.
    let email = "beatriz.costa@example.pt";
    let saved = save_enrollment(&store, &good_request(email), now, true).unwrap();
    assert_eq!(saved.state, OutboxStateView::Pending);
    assert_eq!(saved.kind, "Enrollment");
    assert!(
        saved
            .summary
            .starts_with("Enroll Beatriz Costa as a distributor under"),
        "{}",
        saved.summary
    );
    let status = view(&store, &SyncStatus::default()).unwrap();
    assert_eq!(status.rejected, 0);

    // Sent: applied by the server, which made the member under the rep.
    let summary = client.push_outbox(&store, &token, now).await.unwrap();
    assert_eq!(summary.applied, 1, "{summary:?}");
    let items = list(&store).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].state, OutboxStateView::Applied);
    assert!(items[0].server_ref.is_some());
    client
        .pull_changes(&store, &token, "2026-11-21T12:00:00Z")
        .await
        .unwrap();
    let period = Period::containing(now.date()).unwrap();
    let children = store.children(me, period).unwrap();
    let new = children
        .iter()
        .find(|r| r.display_name == "Beatriz C.")
        .expect("the new member is in the cache under the rep");
    assert_ne!(new.id, MemberId::new(0));

    // The same email again: the server refuses it, with its reason. Fixed in the form and
    // resent under the same key, it is applied once.
    let twin = save_enrollment(&store, &good_request(email), now, true).unwrap();
    let summary = client.push_outbox(&store, &token, now).await.unwrap();
    assert_eq!(summary.rejected, 1, "{summary:?}");
    let refused_item = list(&store)
        .unwrap()
        .into_iter()
        .find(|i| i.seq == twin.seq)
        .unwrap();
    assert_eq!(refused_item.state, OutboxStateView::Rejected);
    assert!(refused_item.last_error.is_some_and(|e| !e.is_empty()));
    let mut fixed = refused(&store, twin.seq).unwrap();
    assert_eq!(fixed.email, email, "the form comes back as it was sent");
    assert!(fixed.accepted);
    assert!(
        refused(&store, saved.seq).is_err(),
        "an applied one is not to fix"
    );
    fixed.email = "not an email".into();
    assert!(matches!(
        resend(&store, twin.seq, &fixed, now, true),
        Err(CommandError::Fields(_))
    ));
    fixed.email = "beatriz.costa.2@example.pt".into();
    resend(&store, twin.seq, &fixed, now, true).unwrap();
    let summary = client.push_outbox(&store, &token, now).await.unwrap();
    assert_eq!(summary.applied, 1, "{summary:?}");
    assert!(
        list(&store)
            .unwrap()
            .iter()
            .all(|i| i.state == OutboxStateView::Applied)
    );
    running.shutdown().await.unwrap();
}
