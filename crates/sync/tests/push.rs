//! The outbox push end to end: enrollments made offline in a real SQLCipher cache go to
//! the real server over pinned TLS, each applied exactly once; a push repeated after a lost
//! response changes nothing; refusals come back with reasons and stay in the outbox; the
//! new members then arrive in the cache with the next delta.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::ops::ControlFlow;

use canopy_core::provisioning::Provisioning;
use canopy_core::sync::push::{
    Command, ContactForm, NoteForm, OrderForm, OrderFormLine, Outcome, PushCommand, PushRequest,
    PushResponse,
};
use canopy_core::{IdempotencyKey, MemberId, Period, Role};
use canopy_store::{CommandKind, OutboxState};
use canopy_sync::ServerClient;
use common::{NOW, account, company, enrollment_form, fresh_store, member_of, serve, sign_in};
use time::OffsetDateTime;

fn key(n: u32) -> IdempotencyKey {
    let mut bytes = [0u8; 16];
    bytes[..4].copy_from_slice(&n.to_be_bytes());
    bytes[15] = 0xCA;
    IdempotencyKey::from_random_bytes(bytes)
}

/// A push sent by hand, as a device does again when the answer to the first was lost.
async fn push_again(p: &Provisioning, token: &str, request: &PushRequest) -> PushResponse {
    reqwest::Client::builder()
        .use_preconfigured_tls(canopy_sync::tls::client_config(p).unwrap())
        .build()
        .unwrap()
        .post(format!("{}/v1/sync/push", p.server_url))
        .bearer_auth(token)
        .json(request)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn offline_enrollments_are_applied_once_and_refusals_come_back_with_reasons() {
    let c = company().await;
    let (running, p) = serve(&c).await;
    let client = ServerClient::new(&p).unwrap();
    let demo = account(&c, Role::Distributor);
    let token = sign_in(&p, demo).await;
    let me = member_of(&c, Role::Distributor).await;
    let store = fresh_store(c.dir.path(), "rep.db");
    client
        .bootstrap(&store, &token, NOW, |_| ControlFlow::Continue(()))
        .await
        .unwrap();
    let period = Period::parse("2026-10").unwrap();
    let team_before = store.subtree(me, period).unwrap().team_size;

    // A field rep at an event, offline: 1,000 enrollments under themselves, then three
    // the server will refuse.
    let now = OffsetDateTime::now_utc();
    for n in 0..1_000 {
        let payload =
            serde_json::to_string(&Command::Enroll(Box::new(enrollment_form(me.get(), n))))
                .unwrap();
        store
            .enqueue(&key(n), CommandKind::Enroll, &payload, now)
            .unwrap();
    }
    let mut outside = enrollment_form(1, 5_000);
    outside.email = "someone.else@example.pt".into();
    let duplicate = enrollment_form(me.get(), 7); // the same email as enrollment 7
    let mut no_consent = enrollment_form(me.get(), 5_001);
    no_consent.consent_purposes.clear();
    for (n, f) in [(5_000, outside), (5_001, duplicate), (5_002, no_consent)] {
        let payload = serde_json::to_string(&Command::Enroll(Box::new(f))).unwrap();
        store
            .enqueue(&key(n), CommandKind::Enroll, &payload, now)
            .unwrap();
    }

    // And two private notes: one on a member of the rep's line, one on the founder.
    let mine = store
        .children(me, period)
        .unwrap()
        .first()
        .map_or(me, |r| r.id);
    for (n, member) in [(6_000, mine), (6_001, MemberId::new(1))] {
        let note = Command::AddNote(NoteForm {
            member,
            body: " Prefers calls after 6 pm ".into(),
        });
        let payload = serde_json::to_string(&note).unwrap();
        store
            .enqueue(&key(n), CommandKind::AddNote, &payload, now)
            .unwrap();
    }

    // The rep's own new email and phone; and an email someone enrolled above already has.
    for (n, email) in [
        (7_000, "rep.new@example.pt"),
        (7_001, "ana.lima.3@example.pt"),
    ] {
        let update = Command::UpdateContact(ContactForm {
            email: email.into(),
            phone: "+351 912 345 678".into(),
            ..ContactForm::default()
        });
        let payload = serde_json::to_string(&update).unwrap();
        store
            .enqueue(&key(n), CommandKind::UpdateContact, &payload, now)
            .unwrap();
    }

    let summary = client.push_outbox(&store, &token, now).await.unwrap();
    assert_eq!(
        (summary.applied, summary.rejected, summary.retry_later),
        (1_002, 5, 0)
    );
    let applied = store.outbox(Some(OutboxState::Applied)).unwrap();
    assert_eq!(applied.len(), 1_002);
    let notes = store.notes(mine).unwrap();
    assert_eq!(notes.len(), 1, "the applied note is in the cache at once");
    assert_eq!(notes[0].body, "Prefers calls after 6 pm");
    assert!(applied.iter().all(|i| {
        i.server_ref
            .as_deref()
            .is_some_and(|r| r.starts_with("member:") || r.starts_with("note:"))
    }));
    let rejected = store.outbox(Some(OutboxState::Rejected)).unwrap();
    let reasons: Vec<&str> = rejected
        .iter()
        .filter_map(|i| i.last_error.as_deref())
        .collect();
    assert_eq!(reasons.len(), 5);
    assert_eq!(reasons[0], "The sponsor is not in your downline");
    assert_eq!(reasons[1], "ana.lima.7@example.pt is already enrolled");
    assert_eq!(
        reasons[2],
        "Accept the terms and the privacy notice to continue"
    );
    assert_eq!(
        reasons[3],
        "You can only keep notes on members of your downline"
    );
    assert_eq!(
        reasons[4],
        "ana.lima.3@example.pt is already used by another member"
    );

    // The response to the first push was lost: the device sends the same commands again.
    let replay = PushRequest {
        commands: (0..5)
            .map(|n| PushCommand {
                key: key(n),
                command: Command::Enroll(Box::new(enrollment_form(me.get(), n))),
            })
            .collect(),
    };
    let answers = push_again(&p, &token, &replay).await;
    for (n, answer) in answers.results.iter().enumerate() {
        let first = applied.iter().find(|i| i.key == key(n as u32)).unwrap();
        assert_eq!(
            answer.outcome,
            Outcome::Applied {
                server_ref: first.server_ref.clone().unwrap()
            },
            "command {n} answered again, the same way"
        );
    }
    // Exactly 1,000 new members on the server: none twice.
    let newest = 12_000 + 1_000;
    assert!(
        c.storage
            .find_member(MemberId::new(newest))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        c.storage
            .find_member(MemberId::new(newest + 1))
            .await
            .unwrap()
            .is_none()
    );
    // Nothing left to send.
    assert_eq!(
        client
            .push_outbox(&store, &token, now)
            .await
            .unwrap()
            .applied,
        0
    );

    // The next delta brings them into the rep's cache, under the rep, with the rep's new
    // contact details.
    // 1,000 new members and the rep, whose own orders and volumes come along (their
    // member changed): a volume row for each period with an order, and for this period
    // and the previous one (zero or not, so a cancelled order's volume is cleared).
    let own_orders = c.storage.orders_of(me).await.unwrap();
    let this = Period::containing(OffsetDateTime::now_utc().date()).unwrap();
    let periods: std::collections::BTreeSet<Period> = own_orders
        .iter()
        .map(|o| Period::containing(o.placed_at.date()).unwrap())
        .chain([this, this.previous().unwrap()])
        .collect();
    let changes = client.pull_changes(&store, &token, NOW).await.unwrap();
    assert_eq!(
        changes,
        1_001 + own_orders.len() as u64 + periods.len() as u64
    );
    let own = store.member(me, period).unwrap().personal.unwrap();
    assert_eq!(own.email.as_deref(), Some("rep.new@example.pt"));
    assert_eq!(own.phone.as_deref(), Some("+351912345678"));
    assert_eq!(
        store.subtree(me, period).unwrap().team_size,
        team_before + 1_000
    );
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn offline_orders_are_priced_by_the_server_placed_once_and_refused_with_reasons() {
    let c = company().await;
    let (running, p) = serve(&c).await;
    let client = ServerClient::new(&p).unwrap();
    let demo = account(&c, Role::Distributor);
    let token = sign_in(&p, demo).await;
    let me = member_of(&c, Role::Distributor).await;
    let upline = member_of(&c, Role::Manager).await;
    let store = fresh_store(c.dir.path(), "orders.db");
    client
        .bootstrap(&store, &token, NOW, |_| ControlFlow::Continue(()))
        .await
        .unwrap();
    // The catalogue came with the bootstrap: the order form works offline.
    let catalogue = store.products().unwrap();
    assert_eq!(catalogue.len(), 10);
    assert!(catalogue.iter().any(|p| p.sku.as_str() == "VIT-100"));
    let orders_before = c.storage.orders_of(me).await.unwrap().len();

    let order = |member: MemberId, lines: &[(&str, u32)]| {
        Command::PlaceOrder(OrderForm {
            member,
            lines: lines
                .iter()
                .map(|&(sku, quantity)| OrderFormLine {
                    sku: sku.into(),
                    quantity,
                })
                .collect(),
        })
    };
    let commands = [
        order(me, &[("VIT-100", 2), ("tea-green", 1)]),
        order(me, &[("STARTER-KIT", 99)]),
        order(me, &[("NOPE-1", 1)]),
        order(upline, &[("VIT-100", 1)]),
        order(me, &[("VIT-100", 1), ("VIT-100", 2)]),
    ];
    let now = OffsetDateTime::now_utc();
    for (n, command) in commands.iter().enumerate() {
        let payload = serde_json::to_string(command).unwrap();
        store
            .enqueue(&key(n as u32), CommandKind::PlaceOrder, &payload, now)
            .unwrap();
    }
    let summary = client.push_outbox(&store, &token, now).await.unwrap();
    assert_eq!((summary.applied, summary.rejected), (1, 4));
    let applied = store.outbox(Some(OutboxState::Applied)).unwrap();
    let server_ref = applied[0].server_ref.clone().unwrap();
    assert!(server_ref.starts_with("order:"), "{server_ref}");
    let reasons: Vec<String> = store
        .outbox(Some(OutboxState::Rejected))
        .unwrap()
        .into_iter()
        .map(|i| i.last_error.unwrap())
        .collect();
    assert!(
        reasons[0].starts_with("This order comes to ")
            && reasons[0].contains("9,801.00")
            && reasons[0].contains("5,000.00 limit"),
        "{}",
        reasons[0]
    );
    assert_eq!(reasons[1], "NOPE-1 is not in the catalogue");
    assert_eq!(
        reasons[2],
        "You can only order for yourself or a member of your downline"
    );
    assert_eq!(reasons[3], "VIT-100 is listed twice");

    // Sent again after a lost answer: the same answer, no second order.
    let replay = PushRequest {
        commands: vec![PushCommand {
            key: key(0),
            command: commands[0].clone(),
        }],
    };
    let answers = push_again(&p, &token, &replay).await;
    assert_eq!(answers.results[0].outcome, Outcome::Applied { server_ref });
    let on_server = c.storage.orders_of(me).await.unwrap();
    assert_eq!(on_server.len(), orders_before + 1, "placed exactly once");

    // The server's prices, and the order in the cache with the next delta, pending.
    let placed = on_server.last().unwrap();
    assert_eq!(placed.total().unwrap().minor(), 2 * 2_999 + 1_250);
    assert_eq!(placed.total_pv().unwrap().hundredths(), 2 * 2_500 + 1_000);
    client.pull_changes(&store, &token, NOW).await.unwrap();
    let cached = store.orders_of(me).unwrap();
    assert_eq!(cached.len(), orders_before + 1);
    assert_eq!(&cached[0], placed, "newest first, as the server has it");
    assert_eq!(placed.status, canopy_core::OrderStatus::Pending);
    running.shutdown().await.unwrap();
}
