//! GDPR on the real server over TLS (SECURITY.md #16, #23): a person exports their data and
//! asks for erasure, an admin erases them (the account can't come back, the node and the
//! money stay), the audit chain names ids only, and the retention purge removes old
//! sign-ins and resolved alerts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use canopy_core::{
    AccountId, CountryCode, Email, MemberId, MemberNumber, MemberStatus, PersonName,
    PersonalDetails, Phone, RankLevel, Role,
};
use canopy_server::config::{Config, RetentionConfig};
use canopy_server::retention;
use canopy_server::storage::{
    AlertAudience, AlertSeverity, MemberRecord, NewAlert, NewMember, PurgeCounts, SignInAttempt,
    SignInOutcome, Storage,
};
use common::{Api, Device, T0, expect_json, expect_problem};
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::OffsetDateTime;

const DAY: i64 = 24 * 60 * 60;

fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap()
}

/// Member 1 (the root) and member 2, Zoë Müller, enrolled under them with her contact
/// details on file.
async fn add_members(api: &Api) {
    let member = |id: i64, sponsor: Option<i64>, name: &str| MemberRecord {
        id: MemberId::new(id),
        number: MemberNumber::parse(&(10_000_000 + id).to_string()).unwrap(),
        sponsor: sponsor.map(MemberId::new),
        placement: None,
        rank: RankLevel::new(1),
        status: MemberStatus::Active,
        joined_on: time::macros::date!(2025 - 03 - 01),
        country: CountryCode::parse("DE").unwrap(),
        display_name: PersonName::parse(name).unwrap(),
    };
    let zoe = PersonalDetails {
        email: Some(Email::parse("zoe@example.de").unwrap()),
        phone: Some(Phone::parse("+49 30 1234567").unwrap()),
        ..PersonalDetails::with_name(PersonName::parse("Zoë Müller").unwrap())
    };
    api.state
        .storage
        .insert_members(vec![
            NewMember {
                member: member(1, None, "Root R."),
                personal: None,
            },
            NewMember {
                member: member(2, Some(1), "Zoë M."),
                personal: Some(zoe),
            },
        ])
        .await
        .unwrap();
}

async fn audit_actions(storage: &dyn Storage) -> Vec<(String, Option<String>, String)> {
    storage
        .list_audit(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.target, e.details))
        .collect()
}

#[tokio::test]
async fn a_person_exports_their_data_asks_for_erasure_and_an_admin_erases_them() {
    let api = Api::start().await;
    add_members(&api).await;
    let zoe = api
        .user_as("zoe@example.de", Role::Distributor, Some(MemberId::new(2)))
        .await;
    let admin = api.user_as("admin@example.com", Role::Admin, None).await;
    let mut zoe_laptop = Device::new();
    let zoe_session = api.sign_in(&zoe, &mut zoe_laptop).await;

    // The export: everything about her, machine-readable.
    let response = api.get_auth("/v1/me/export", &zoe_session.access).await;
    let disposition = response
        .headers()
        .get("content-disposition")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"canopy-personal-data-"),
        "{disposition}"
    );
    let export = expect_json(response, StatusCode::OK).await;
    assert_eq!(export["format"], "canopy-personal-data");
    assert_eq!(export["version"], 1);
    assert_eq!(export["account"]["email"], "zoe@example.de");
    assert_eq!(export["account"]["member_id"], 2);
    assert_eq!(export["member"]["number"], "10000002");
    assert_eq!(export["member"]["personal"]["legal_name"], "Zoë Müller");
    assert_eq!(export["member"]["personal"]["phone"], "+49301234567");
    let devices = export["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0]["current"], true);
    let sign_ins = export["sign_ins"].as_array().unwrap();
    assert_eq!(sign_ins.len(), 1, "{sign_ins:?}");
    assert_eq!(sign_ins[0]["outcome"], "success");
    for key in ["orders", "statements", "alerts", "notes", "pushes"] {
        assert!(export[key].is_array(), "{key}: {}", export[key]);
    }
    assert!(export["consent"].is_null());

    // The request raises one admin alert, however often she asks.
    let first = expect_json(
        api.post_auth("/v1/me/erasure-request", &zoe_session.access, json!({}))
            .await,
        StatusCode::ACCEPTED,
    )
    .await;
    let again = expect_json(
        api.post_auth("/v1/me/erasure-request", &zoe_session.access, json!({}))
            .await,
        StatusCode::ACCEPTED,
    )
    .await;
    assert_eq!(first["alert_id"], again["alert_id"]);
    let admin_session = api.sign_in(&admin, &mut Device::new()).await;
    let alerts = expect_json(
        api.get_auth("/v1/admin/alerts", &admin_session.access)
            .await,
        StatusCode::OK,
    )
    .await;
    let requests: Vec<&Value> = alerts["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "gdpr_erasure_request")
        .collect();
    assert_eq!(requests.len(), 1, "{alerts}");
    assert_eq!(requests[0]["id"], first["alert_id"]);
    assert_eq!(requests[0]["account_id"], zoe.account.id.get());

    // Only an admin erases; not one's own record; not a member who isn't there.
    expect_problem(
        api.post_auth("/v1/admin/members/2/erase", &zoe_session.access, json!({}))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    expect_problem(
        api.post_auth(
            "/v1/admin/members/77/erase",
            &admin_session.access,
            json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;

    let orders_before = api.state.storage.orders_of(MemberId::new(2)).await.unwrap();
    let report = expect_json(
        api.post_auth(
            "/v1/admin/members/2/erase",
            &admin_session.access,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(report["member_id"], 2);
    assert_eq!(report["account_id"], zoe.account.id.get());
    assert_eq!(report["devices_revoked"], 1);
    assert_eq!(report["sessions_ended"], 1);
    assert_eq!(report["sign_ins_deleted"], 1);
    // A second erasure changes nothing.
    expect_problem(
        api.post_auth(
            "/v1/admin/members/2/erase",
            &admin_session.access,
            json!({}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;

    // Her session ended at once, and her old email and password find nothing.
    expect_problem(
        api.get_auth("/v1/me/devices", &zoe_session.access).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let body = api.sign_in_body(&zoe.email, &zoe.password, Some(&zoe_laptop));
    expect_problem(
        api.post("/v1/auth/sign-in", body).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let storage = api.state.storage.as_ref();
    assert!(
        storage
            .find_account_by_email("zoe@example.de")
            .await
            .unwrap()
            .is_none()
    );
    let account = storage.find_account(zoe.account.id).await.unwrap().unwrap();
    assert_eq!(
        account.email.as_str(),
        format!("erased-{}@erased.invalid", zoe.account.id)
    );
    assert!(account.disabled);
    assert!(!account.mfa.enabled && account.mfa.sealed_secret.is_none());
    assert_ne!(account.password_hash, zoe.account.password_hash);
    assert_eq!(
        storage
            .count_unused_recovery_codes(account.id)
            .await
            .unwrap(),
        0
    );
    let devices = storage.list_devices(account.id).await.unwrap();
    assert!(
        devices
            .iter()
            .all(|d| d.revoked_at.is_some() && d.name == "Erased device")
    );
    assert!(storage.all_sign_ins(account.id).await.unwrap().is_empty());
    // The node and the money stay; the person is gone.
    let member = storage
        .find_member(MemberId::new(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(member.status, MemberStatus::Erased);
    assert_eq!(member.display_name.as_str(), "Erased member");
    assert_eq!(member.sponsor, Some(MemberId::new(1)));
    assert_eq!(member.number.as_str(), "10000002");
    assert!(
        storage
            .find_member_personal(MemberId::new(2))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        storage.orders_of(MemberId::new(2)).await.unwrap(),
        orders_before
    );
    // The alert carrying the request keeps its kind and account, not its evidence.
    let request = storage
        .list_admin_alerts(None, 100)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.kind == "gdpr_erasure_request")
        .unwrap();
    assert_eq!(request.account, Some(zoe.account.id));
    assert_eq!(request.evidence, json!({"redacted": "erasure"}));

    // Audited, by ids only.
    let actions = audit_actions(storage).await;
    let erasure = actions
        .iter()
        .find(|(action, ..)| action == "gdpr.erasure")
        .unwrap();
    assert_eq!(erasure.1.as_deref(), Some("member:2"));
    for (action, _, details) in &actions {
        for personal in ["Zoë", "zoe@example.de", "Müller", "127.0.0.1"] {
            assert!(!details.contains(personal), "{action}: {details}");
        }
    }
    for action in ["gdpr.export", "gdpr.erasure_request", "gdpr.erasure"] {
        assert!(actions.iter().any(|(a, ..)| a == action), "{action}");
    }
    api.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_admin_cannot_erase_their_own_member_record() {
    let api = Api::start().await;
    add_members(&api).await;
    let admin = api
        .user_as("root@example.com", Role::Admin, Some(MemberId::new(1)))
        .await;
    let session = api.sign_in(&admin, &mut Device::new()).await;
    let detail = expect_problem(
        api.post_auth("/v1/admin/members/1/erase", &session.access, json!({}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(detail.contains("another admin"), "{detail}");
    // A staff account with no member record has nothing to ask erasure of here.
    let staff = api.user_as("staff@example.com", Role::Admin, None).await;
    let session = api.sign_in(&staff, &mut Device::new()).await;
    expect_problem(
        api.post_auth("/v1/me/erasure-request", &session.access, json!({}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    api.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn sign_in_events_in_the_audit_chain_point_at_the_sign_in_not_the_address() {
    let api = Api::start().await;
    let user = api.user("kim@example.com").await;
    let wrong = api.sign_in_body(&user.email, "not the password", None);
    expect_problem(
        api.post("/v1/auth/sign-in", wrong).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    api.sign_in(&user, &mut Device::new()).await;
    let storage = api.state.storage.as_ref();
    let sign_ins = storage.all_sign_ins(user.account.id).await.unwrap();
    assert_eq!(sign_ins.len(), 2);
    let events = storage.list_audit(0, 100).await.unwrap();
    let mut pointed = Vec::new();
    for event in &events {
        assert!(!event.details.contains("127.0.0.1"), "{event:?}");
        let details: Value = serde_json::from_str(&event.details).unwrap();
        if let Some(id) = details["sign_in"].as_i64() {
            pointed.push((event.action.clone(), id));
        }
    }
    let ids: Vec<i64> = sign_ins.iter().map(|s| s.id).collect();
    assert_eq!(pointed.len(), 2, "{pointed:?}");
    for (action, id) in pointed {
        assert!(
            ids.contains(&id),
            "{action} points at {id}, not one of {ids:?}"
        );
    }
    api.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn retention_purges_old_sign_ins_and_resolved_alerts_only() {
    let api = Api::start().await;
    let storage = api.state.storage.as_ref();
    let kim = api.account("kim@example.com", common::PASSWORD).await;
    let admin = api.account("admin@example.com", common::PASSWORD).await;
    let now = at(T0);
    for age_days in [400, 366, 364, 10] {
        storage
            .record_sign_in(SignInAttempt {
                account: Some(kim.id),
                email_hash: None,
                ip: "192.0.2.1".parse().unwrap(),
                device: None,
                outcome: SignInOutcome::WrongPassword,
                at: at(T0 - age_days * DAY),
            })
            .await
            .unwrap();
    }
    // (raised days ago, resolved days ago): old resolved, old open, recently resolved.
    let mut ids = Vec::new();
    for (n, (raised, resolved)) in [(500, Some(400)), (500, None), (500, Some(30))]
        .into_iter()
        .enumerate()
    {
        let alert = storage
            .create_alert(NewAlert {
                account: Some(kim.id),
                audience: AlertAudience::Admin,
                kind: format!("kind_{n}"),
                severity: AlertSeverity::Warning,
                evidence: json!({}),
                at: at(T0 - raised * DAY),
                unless_open: false,
            })
            .await
            .unwrap()
            .unwrap();
        if let Some(days) = resolved {
            storage
                .resolve_alert(alert.id, admin.id, at(T0 - days * DAY))
                .await
                .unwrap();
        }
        ids.push(alert.id);
    }

    // Keeping everything (0 days) removes nothing.
    let keep = RetentionConfig {
        sign_in_days: 0,
        closed_alert_days: 0,
    };
    assert_eq!(
        retention::purge(storage, keep, now).await.unwrap(),
        PurgeCounts::default()
    );

    let config = RetentionConfig::default();
    let counts = retention::purge(storage, config, now).await.unwrap();
    assert_eq!(
        counts,
        PurgeCounts {
            sign_ins: 2,
            alerts: 1
        }
    );
    let left: Vec<i64> = storage
        .all_sign_ins(kim.id)
        .await
        .unwrap()
        .iter()
        .map(|s| (T0 - s.attempt.at.unix_timestamp()) / DAY)
        .collect();
    assert_eq!(left, [10, 364]);
    let alerts: Vec<_> = storage
        .list_admin_alerts(None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert!(!alerts.contains(&ids[0]));
    assert!(alerts.contains(&ids[1]) && alerts.contains(&ids[2]));

    // Audited once, with the counts; a purge with nothing to do adds no event.
    assert_eq!(
        retention::purge(storage, config, now).await.unwrap(),
        PurgeCounts::default()
    );
    let purges: Vec<String> = audit_actions(storage)
        .await
        .into_iter()
        .filter(|(a, ..)| a == "retention.purge")
        .map(|(.., details)| details)
        .collect();
    assert_eq!(purges.len(), 1);
    let details: Value = serde_json::from_str(&purges[0]).unwrap();
    assert_eq!(details["sign_ins"], 2);
    assert_eq!(details["alerts"], 1);
    let _: AccountId = kim.id;
    api.running.shutdown().await.unwrap();
}

#[test]
fn retention_settings_are_checked() {
    let path = std::path::Path::new("canopy.toml");
    let base = "listen = \"127.0.0.1:0\"\n\
                [tls]\ncert = \"c\"\nkey = \"k\"\n\
                [database]\nurl = \"sqlite::memory:\"\n\
                [secrets]\ntotp_key_file = \"t\"\n";
    let config = Config::parse(base, path).unwrap();
    assert_eq!(config.retention, RetentionConfig::default());
    let config = Config::parse(
        &format!("{base}[retention]\nsign_in_days = 90\nclosed_alert_days = 0\n"),
        path,
    )
    .unwrap();
    assert_eq!(config.retention.sign_in_days, 90);
    assert_eq!(config.retention.closed_alert_days, 0);
    let typo = Config::parse(&format!("{base}[retention]\nsign_ins_days = 90\n"), path);
    assert!(typo.is_err());
    let mut too_long = config.clone();
    too_long.retention.sign_in_days = 40_000;
    let message = too_long.validate().unwrap_err().to_string();
    assert!(
        message.contains("retention.sign_in_days must be at most 36500"),
        "{message}"
    );
}
