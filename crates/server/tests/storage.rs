//! The storage layer against a real database: a SQLite file in a temp dir, or a database of
//! its own on the PostgreSQL server `CANOPY_TEST_POSTGRES` names (storage::testing).
//! Migrations, accounts, MFA replay guard, recovery codes, sessions and revocation,
//! throttling, audit, genealogy.

// The helpers outside `#[test]` fns unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::num::NonZeroU32;
use std::sync::Arc;

use canopy_core::{
    AccountId, CountryCode, Currency, CustomerId, Email, MemberId, MemberNumber, MemberStatus,
    Money, Order, OrderId, OrderLine, OrderStatus, PersonName, PersonalDetails, Placement,
    Position, Pv, RankLevel, Role, Sku,
};
use canopy_server::storage::audit::{AuditChainError, verify_chain};
use canopy_server::storage::{
    self, AccountRecord, AlertAudience, AlertId, AlertSeverity, AlertState, Conflict, DeviceId,
    DeviceRecord, FailureSummary, IssuedToken, MemberRecord, NewAccount, NewAlert, NewAuditEvent,
    NewDevice, NewMember, NewSession, RefreshRefusal, RefreshRotation, RevokeReason, RotateOutcome,
    SessionRecord, SignInAttempt, SignInOutcome, Storage, StorageError, ThrottleKey,
    ThrottlePolicy, TokenHash, Tree,
};
use serde_json::json;
use tempfile::TempDir;
use time::{Duration, OffsetDateTime};

const T0: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

/// `T0 + secs`: every test speaks in seconds after T0.
fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(T0 + secs).unwrap()
}

fn hash(n: u8) -> TokenHash {
    TokenHash([n; 32])
}

fn token(n: u8, expires: i64) -> IssuedToken {
    IssuedToken {
        hash: hash(n),
        expires_at: at(expires),
    }
}

/// A storage on a fresh database, plus shortcuts that keep the tests readable.
struct H {
    s: Arc<dyn Storage>,
    url: String,
    _dir: TempDir,
}

impl H {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = storage::testing::database_url(dir.path(), "canopy").await;
        let s = storage::open(&url).await.unwrap();
        Self { s, url, _dir: dir }
    }

    async fn reopen(&mut self) {
        self.s = storage::open(&self.url).await.unwrap();
    }

    fn postgres(&self) -> bool {
        self.url.starts_with("postgres")
    }

    async fn account(&self, email: &str) -> AccountRecord {
        let new = NewAccount {
            email: Email::parse(email).unwrap(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
            role: Role::Distributor,
            member: None,
        };
        self.s.create_account(new, at(0)).await.unwrap()
    }

    async fn device(&self, account: AccountId, key: u8) -> DeviceRecord {
        let name = format!("Laptop {key}");
        let new = NewDevice {
            account,
            name,
            public_key: [key; 32],
        };
        self.s.register_device(new, at(0)).await.unwrap()
    }

    /// A session on `device` whose refresh token is `hash(refresh)` and access `hash(access)`.
    async fn session(&self, device: &DeviceRecord, refresh: u8, access: u8) -> SessionRecord {
        let new = NewSession {
            account: device.account,
            device: device.id,
            mfa_verified: true,
            refresh: token(refresh, 86_400),
            access: token(access, 900),
        };
        self.s.create_session(new, at(0)).await.unwrap()
    }

    /// Whether each access token `hash(n)` is live at `secs`.
    async fn live(&self, access: &[u8], secs: i64) -> Vec<bool> {
        let mut out = Vec::new();
        for &n in access {
            let grant = self.s.find_access_token(hash(n), at(secs)).await;
            out.push(grant.unwrap().is_some());
        }
        out
    }

    async fn rotate(&self, presented: u8, refresh: u8, access: u8, secs: i64) -> RotateOutcome {
        let rotation = RefreshRotation {
            presented: hash(presented),
            refresh: token(refresh, 2 * 86_400),
            access: token(access, 1_000),
        };
        self.s
            .rotate_refresh_token(rotation, at(secs))
            .await
            .unwrap()
    }

    /// Runs SQL on the database directly, as someone holding the file or a database login
    /// would: each statement's error text, or what its first row's first column reads as
    /// text (`""` for none).
    async fn raw(&self, statements: &[&str]) -> Vec<Result<String, String>> {
        let mut out = Vec::new();
        if self.postgres() {
            // A plain connection: the URL's TLS options are the server's business.
            let plain = self.url.split('?').next().unwrap();
            let (client, connection) = tokio_postgres::connect(plain, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(connection);
            for sql in statements {
                let result = client.simple_query(sql).await;
                out.push(result.map_err(|e| format!("{e:?}")).map(|messages| {
                    messages
                        .iter()
                        .find_map(|m| match m {
                            tokio_postgres::SimpleQueryMessage::Row(row) => {
                                Some(row.get(0).unwrap_or("").to_owned())
                            }
                            _ => None,
                        })
                        .unwrap_or_default()
                }));
            }
        } else {
            let path = storage::sqlite_file(&self.url).unwrap().unwrap();
            let conn = rusqlite::Connection::open(path).unwrap();
            for sql in statements {
                let result = conn
                    .prepare(sql)
                    .and_then(|mut stmt| {
                        let mut rows = stmt.query([])?;
                        Ok(match rows.next()? {
                            Some(row) => match row.get_ref(0)? {
                                rusqlite::types::ValueRef::Text(t) => {
                                    String::from_utf8_lossy(t).into_owned()
                                }
                                rusqlite::types::ValueRef::Integer(i) => i.to_string(),
                                _ => String::new(),
                            },
                            None => String::new(),
                        })
                    })
                    .map_err(|e| e.to_string());
                out.push(result);
            }
        }
        out
    }
}

#[tokio::test]
async fn migrates_an_empty_database_once() {
    let mut h = H::new().await;
    h.reopen().await;
    let (versions, tables, mode) = if h.postgres() {
        (
            "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations",
            "SELECT string_agg(tablename, ',') FROM pg_tables WHERE schemaname = 'public' \
             AND tablename IN ('members', 'member_personal', 'accounts', 'audit_events')",
            "SHOW default_transaction_isolation",
        )
    } else {
        (
            "SELECT group_concat(version) FROM schema_migrations",
            "SELECT group_concat(name) FROM sqlite_schema WHERE type = 'table' \
             AND name IN ('members', 'member_personal', 'accounts', 'audit_events')",
            "PRAGMA journal_mode",
        )
    };
    let got = h.raw(&[versions, tables, mode]).await;
    let got: Vec<String> = got.into_iter().map(Result::unwrap).collect();
    let expected = if h.postgres() {
        // PostgreSQL's history starts at the SQLite schema's version 14, as one migration.
        ["1,2", "read committed"]
    } else {
        ["1,2,3,4,5,6,7,8,9,10,11,12,13,14,15", "wal"]
    };
    assert_eq!(got[0], expected[0], "each migration applied once");
    assert_eq!(got[1].split(',').count(), 4, "{}", got[1]);
    assert_eq!(got[2], expected[1]);
}

#[tokio::test]
async fn database_urls_pick_the_backend() {
    let memory = storage::open("sqlite::memory:").await.unwrap();
    let nobody = memory.find_account(AccountId::new(1)).await.unwrap();
    assert!(nobody.is_none());
    let error = storage::open("mysql://canopy:secret@db/canopy").await;
    let error = error.err().unwrap().to_string();
    assert!(error.starts_with("unknown database URL"), "{error}");
    assert!(!error.contains("secret"), "{error}");
    // Nothing listens on port 1: a clear failure, and the password is not in it.
    let error = storage::open("postgres://canopy:secret@127.0.0.1:1/canopy").await;
    let error = error.err().unwrap().to_string();
    assert_eq!(
        error,
        "the database can't be reached right now; try again shortly"
    );
}

#[tokio::test]
async fn accounts_are_found_by_email_ignoring_case_and_emails_are_unique() {
    let h = H::new().await;
    let (s, created) = (&h.s, h.account("Zoë.Müller@Example.com").await);
    assert_eq!(created.email.as_str(), "Zoë.Müller@example.com");
    assert_eq!(created.password_changed_at, at(0));
    assert!(!created.mfa.enabled);

    let cases = [
        ("Zoë.Müller@example.com", true),
        ("zoë.müller@EXAMPLE.COM", true),
        (" ZOË.MÜLLER@example.com ", true),
        ("ZOE\u{308}.MU\u{308}LLER@example.com", true),
        ("zoe.muller@example.com", false),
    ];
    for (lookup, found) in cases {
        let account = s.find_account_by_email(lookup).await.unwrap();
        let expected = found.then_some(created.id);
        assert_eq!(account.map(|a| a.id), expected, "{lookup}");
    }

    let duplicate = NewAccount {
        email: Email::parse("ZOË.müller@example.COM").unwrap(),
        password_hash: "x".to_owned(),
        role: Role::Admin,
        member: None,
    };
    let error = s.create_account(duplicate, at(1)).await.unwrap_err();
    assert!(matches!(
        error,
        StorageError::Conflict(Conflict::EmailTaken)
    ));
    assert_eq!(
        error.to_string(),
        "an account with this email address already exists"
    );

    s.set_role(created.id, Role::Manager).await.unwrap();
    let found = s.find_account(created.id).await.unwrap().unwrap();
    assert_eq!(found.role, Role::Manager);
    let missing = s.set_role(AccountId::new(999), Role::Admin).await;
    assert!(missing.unwrap_err().is_not_found());
}

#[tokio::test]
async fn totp_steps_are_accepted_once_and_only_forwards() {
    let h = H::new().await;
    let (s, id) = (&h.s, h.account("totp@example.com").await.id);
    let error = s.set_mfa(id, None, true).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "two-step sign-in can't be on without a secret"
    );
    s.set_mfa(id, Some(vec![1; 48]), true).await.unwrap();

    let cases = [
        (100, true),
        (100, false),
        (99, false),
        (101, true),
        (103, true),
        (102, false),
    ];
    for (step, accepted) in cases {
        let got = s.accept_totp_step(id, step).await.unwrap();
        assert_eq!(got, accepted, "step {step}");
    }
    let mfa = s.find_account(id).await.unwrap().unwrap().mfa;
    assert_eq!((mfa.enabled, mfa.last_step), (true, Some(103)));

    // The same secret keeps its replay guard; a new secret starts over.
    s.set_mfa(id, Some(vec![1; 48]), true).await.unwrap();
    assert!(!s.accept_totp_step(id, 103).await.unwrap());
    s.set_mfa(id, Some(vec![2; 48]), false).await.unwrap();
    assert!(s.accept_totp_step(id, 50).await.unwrap());
    let missing = s.accept_totp_step(AccountId::new(999), 1).await;
    assert!(missing.unwrap_err().is_not_found());
}

#[tokio::test]
async fn a_recovery_code_works_once() {
    let h = H::new().await;
    let (s, id) = (&h.s, h.account("codes@example.com").await.id);
    let codes = (1..=10).map(hash).collect();
    s.replace_recovery_codes(id, codes).await.unwrap();
    assert_eq!(s.count_unused_recovery_codes(id).await.unwrap(), 10);

    let cases = [(3, true), (3, false), (11, false), (4, true)];
    for (code, accepted) in cases {
        let got = s.consume_recovery_code(id, hash(code), at(5)).await;
        assert_eq!(got.unwrap(), accepted, "code {code}");
    }
    assert_eq!(s.count_unused_recovery_codes(id).await.unwrap(), 8);

    s.replace_recovery_codes(id, vec![hash(20)]).await.unwrap();
    let old = s.consume_recovery_code(id, hash(5), at(6)).await;
    assert!(!old.unwrap(), "replaced codes are gone");
    assert_eq!(s.count_unused_recovery_codes(id).await.unwrap(), 1);
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_the_family() {
    let h = H::new().await;
    let acc = h.account("rotate@example.com").await;
    let dev = h.device(acc.id, 1).await;
    let first = h.session(&dev, 10, 11).await;
    assert_eq!(first.mfa_verified_at, Some(at(0)));

    let grant = h.s.find_access_token(hash(11), at(60)).await.unwrap();
    let grant = grant.unwrap();
    assert_eq!(
        (grant.account, grant.device, grant.family, grant.role),
        (acc.id, dev.id, first.family, Role::Distributor)
    );
    assert_eq!(h.live(&[11], 900).await, [false], "expired");

    assert_eq!(
        h.rotate(10, 20, 21, 100).await,
        RotateOutcome::Rotated(first)
    );
    let used = h.s.find_refresh_token(hash(10)).await.unwrap().unwrap();
    assert_eq!(used.used_at, Some(at(100)));
    assert_eq!(h.live(&[11, 21], 101).await, [true, true]);

    // The old token comes back (a thief, or the real client after a thief): end it all.
    let outcome = h.rotate(10, 30, 31, 200).await;
    let RotateOutcome::ReuseDetected(revoked) = outcome else {
        panic!("expected reuse, got {outcome:?}");
    };
    assert_eq!(revoked.revoked_at, Some(at(200)));
    assert_eq!(revoked.revoked_reason, Some(RevokeReason::RefreshReuse));
    assert_eq!(h.live(&[11, 21, 31], 201).await, [false, false, false]);
    let refused = RotateOutcome::Refused(RefreshRefusal::SessionRevoked);
    assert_eq!(h.rotate(20, 40, 41, 300).await, refused, "the newest too");

    let other = h.session(&dev, 50, 51).await;
    let cases = [
        (99, 300, RotateOutcome::Refused(RefreshRefusal::Unknown)),
        (50, 86_400, RotateOutcome::Refused(RefreshRefusal::Expired)),
        (50, 300, RotateOutcome::Rotated(other)),
    ];
    for (presented, secs, expected) in cases {
        assert_eq!(h.rotate(presented, 60, 61, secs).await, expected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_racing_refreshes_of_one_token_end_the_session() {
    let h = H::new().await;
    let acc = h.account("race@example.com").await;
    let first = h.session(&h.device(acc.id, 1).await, 10, 11).await;
    let (a, b) = tokio::join!(h.rotate(10, 20, 21, 5), h.rotate(10, 30, 31, 5));
    let mut outcomes = [a, b].map(|o| matches!(o, RotateOutcome::Rotated(_)));
    outcomes.sort_unstable();
    assert_eq!(outcomes, [false, true], "exactly one rotation wins");
    let session = h.s.find_refresh_token(hash(10)).await.unwrap().unwrap();
    assert_eq!(session.session.family, first.family);
    assert_eq!(
        session.session.revoked_reason,
        Some(RevokeReason::RefreshReuse)
    );
}

#[tokio::test]
async fn revoking_a_device_or_disabling_an_account_ends_access_at_once() {
    let h = H::new().await;
    let acc = h.account("devices@example.com").await;
    let (laptop, phone) = (h.device(acc.id, 1).await, h.device(acc.id, 2).await);
    h.session(&laptop, 10, 11).await;
    h.session(&phone, 20, 21).await;
    let listed = h.s.list_devices(acc.id).await.unwrap();
    let ids: Vec<DeviceId> = listed.iter().map(|d| d.id).collect();
    assert_eq!(ids, [phone.id, laptop.id], "newest first");
    let copy = NewDevice {
        account: acc.id,
        name: "Copy".to_owned(),
        public_key: [1; 32],
    };
    let error = h.s.register_device(copy, at(0)).await.unwrap_err();
    assert!(matches!(
        error,
        StorageError::Conflict(Conflict::DeviceKeyTaken)
    ));

    assert!(h.s.revoke_device(laptop.id, at(10)).await.unwrap());
    assert!(!h.s.revoke_device(laptop.id, at(11)).await.unwrap());
    assert_eq!(h.live(&[11, 21], 12).await, [false, true]);
    let refused = RotateOutcome::Refused(RefreshRefusal::SessionRevoked);
    assert_eq!(h.rotate(10, 12, 13, 12).await, refused);
    let again = NewSession {
        account: acc.id,
        device: laptop.id,
        mfa_verified: false,
        refresh: token(14, 999),
        access: token(15, 999),
    };
    let error = h.s.create_session(again, at(13)).await.unwrap_err();
    assert_eq!(error.to_string(), "the device has been revoked");
    let found = h.s.find_device(laptop.id).await.unwrap().unwrap();
    assert_eq!(found.revoked_at, Some(at(10)));

    h.s.set_account_disabled(acc.id, true, at(20))
        .await
        .unwrap();
    assert_eq!(h.live(&[21], 21).await, [false]);
    let found = h.s.find_account(acc.id).await.unwrap().unwrap();
    assert!(found.disabled);
}

#[tokio::test]
async fn changing_the_password_keeps_only_the_current_session() {
    let h = H::new().await;
    let acc = h.account("pw@example.com").await;
    let dev = h.device(acc.id, 1).await;
    let current = h.session(&dev, 10, 11).await;
    h.session(&dev, 20, 21).await;
    h.session(&dev, 30, 31).await;

    let new_hash = "$argon2id$new".to_owned();
    let keep = Some(current.family);
    let revoked = h.s.change_password(acc.id, new_hash, keep, at(50)).await;
    assert_eq!(revoked.unwrap(), 2);
    let found = h.s.find_account(acc.id).await.unwrap().unwrap();
    assert_eq!(found.password_hash, "$argon2id$new");
    assert_eq!(found.password_changed_at, at(50));
    assert_eq!(h.live(&[11, 21, 31], 51).await, [true, false, false]);

    let stronger = "$argon2id$stronger".to_owned();
    h.s.update_password_hash(acc.id, stronger).await.unwrap();
    let found = h.s.find_account(acc.id).await.unwrap().unwrap();
    assert_eq!(found.password_changed_at, at(50), "a re-hash is no change");

    let reason = RevokeReason::SignOut;
    let out = h.s.revoke_session(current.family, reason, at(60)).await;
    assert!(out.unwrap());
    assert_eq!(h.live(&[11], 61).await, [false]);
}

#[tokio::test]
async fn throttling_state_lives_in_the_database_across_reopening() {
    let mut h = H::new().await;
    let acc = h.account("throttle@example.com").await;
    let policy = ThrottlePolicy::default();
    let ip = ThrottleKey::Ip("198.51.100.7".parse().unwrap());
    let own_device = ThrottleKey::AccountDevice(acc.id, DeviceId::new(1));
    let account = ThrottleKey::Account(acc.id);

    // (seconds after T0, failures counted, delay owed in seconds)
    let cases = [
        (0, 1, 0),
        (1, 2, 0),
        (2, 3, 0),
        (3, 4, 1),
        (5, 5, 2),
        (10, 6, 4),
    ];
    for (secs, failures, delay) in cases {
        let status = h.s.record_failure(vec![account, ip], policy, at(secs));
        let status = status.await.unwrap();
        for key in [account, ip] {
            let state = status.get(key).unwrap();
            assert_eq!(state.failures, failures, "{key} at {secs}");
            let next = Some(at(secs + delay));
            assert_eq!(state.next_allowed_at, next, "{key} at {secs}");
        }
    }

    h.reopen().await;
    let keys = vec![account, ip, own_device];
    let status = h.s.throttle_status(keys, policy, at(11)).await.unwrap();
    assert_eq!(status.get(account).unwrap().failures, 6);
    assert_eq!(status.blocked_until(at(11)), Some(at(14)));
    let untouched = status.get(own_device).unwrap();
    assert_eq!(untouched.failures, 0, "the owner's own device");

    // An hour later the window has slid past every failure.
    let later = h.s.throttle_status(vec![account], policy, at(3_700));
    let later = later.await.unwrap();
    assert_eq!(later.keys[0].failures, 0);
    assert_eq!(later.blocked_until(at(3_700)), None);

    h.s.record_success(vec![account]).await.unwrap();
    let keys = vec![account, ip];
    let status = h.s.throttle_status(keys, policy, at(12)).await.unwrap();
    assert_eq!(status.get(account).unwrap().failures, 0);
    let ip_failures = status.get(ip).unwrap().failures;
    assert_eq!(ip_failures, 6, "a success never resets the IP");
}

#[tokio::test]
async fn the_hundredth_failure_in_an_hour_blocks_until_the_first_leaves_the_window() {
    let h = H::new().await;
    let key = ThrottleKey::Ip("203.0.113.9".parse().unwrap());
    let policy = ThrottlePolicy {
        max_delay: std::time::Duration::ZERO,
        ..ThrottlePolicy::default()
    };
    let mut last = None;
    for i in 0..100 {
        let status = h.s.record_failure(vec![key], policy, at(i * 10)).await;
        last = Some(status.unwrap());
    }
    let blocked = last.unwrap().blocked_until(at(991));
    assert_eq!(blocked, Some(at(3_600)));
}

#[tokio::test]
async fn sign_ins_are_listed_newest_first_and_known_ips_remembered() {
    let h = H::new().await;
    let acc = h.account("history@example.com").await;
    let home = "192.0.2.1".parse().unwrap();
    let cafe = "2001:db8::7".parse().unwrap();
    let cases = [
        (home, SignInOutcome::Success, 1),
        (cafe, SignInOutcome::WrongPassword, 2),
        (home, SignInOutcome::Success, 3),
    ];
    for (ip, outcome, secs) in cases {
        let attempt = SignInAttempt {
            account: Some(acc.id),
            email_hash: None,
            ip,
            device: None,
            outcome,
            at: at(secs),
        };
        h.s.record_sign_in(attempt).await.unwrap();
    }
    let recent = h.s.recent_sign_ins(acc.id, 2).await.unwrap();
    let seen: Vec<_> = recent
        .iter()
        .map(|r| (r.attempt.at, r.attempt.outcome, r.attempt.ip))
        .collect();
    let expected = [
        (at(3), SignInOutcome::Success, home),
        (at(2), SignInOutcome::WrongPassword, cafe),
    ];
    assert_eq!(seen, expected);
    assert!(h.s.has_signed_in_from(acc.id, home).await.unwrap());
    let from_cafe = h.s.has_signed_in_from(acc.id, cafe).await.unwrap();
    assert!(!from_cafe, "only failures from there");
    assert!(h.s.has_signed_in(acc.id).await.unwrap());
    let never = h.account("never@example.com").await;
    assert!(!h.s.has_signed_in(never.id).await.unwrap());
    let failed = |since| h.s.count_failed_sign_ins(acc.id, at(since));
    let summary = failed(0).await.unwrap();
    assert_eq!((summary.failures, summary.distinct_ips), (1, 1));
    assert_eq!(failed(2).await.unwrap(), FailureSummary::default());
}

fn alert(account: Option<AccountId>, audience: AlertAudience, kind: &str, secs: i64) -> NewAlert {
    NewAlert {
        account,
        audience,
        kind: kind.to_owned(),
        severity: AlertSeverity::Warning,
        evidence: json!({"ip": "192.0.2.1"}),
        at: at(secs),
        unless_open: true,
    }
}

#[tokio::test]
async fn alerts_are_deduplicated_listed_acknowledged_and_resolved() {
    let h = H::new().await;
    let kim = h.account("kim@example.com").await;
    let admin = h.account("admin@example.com").await;
    let raised =
        h.s.create_alert(alert(
            Some(kim.id),
            AlertAudience::Admin,
            "repeated_failures",
            1,
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(raised.state(), AlertState::Open);
    assert_eq!(raised.evidence, json!({"ip": "192.0.2.1"}));
    // A twin while it is open is not raised; another account's is.
    let twin = alert(Some(kim.id), AlertAudience::Admin, "repeated_failures", 2);
    assert_eq!(h.s.create_alert(twin.clone()).await.unwrap(), None);
    let other = alert(Some(admin.id), AlertAudience::Admin, "repeated_failures", 3);
    let other = h.s.create_alert(other).await.unwrap().unwrap();
    for secs in [4, 5] {
        let new = NewAlert {
            unless_open: false,
            ..alert(
                Some(kim.id),
                AlertAudience::User,
                "new_device_sign_in",
                secs,
            )
        };
        h.s.create_alert(new).await.unwrap().unwrap();
    }
    let mine = h.s.list_alerts_for_account(kim.id, 10).await.unwrap();
    let seen: Vec<_> = mine.iter().map(|a| (a.created_at, a.audience)).collect();
    assert_eq!(
        seen,
        [(at(5), AlertAudience::User), (at(4), AlertAudience::User)]
    );

    let acked = h.s.acknowledge_alert(raised.id, admin.id, at(6)).await;
    let acked = acked.unwrap();
    assert_eq!(acked.state(), AlertState::Acknowledged);
    assert_eq!(
        (acked.acknowledged_at, acked.acknowledged_by),
        (Some(at(6)), Some(admin.id))
    );
    // Open ones come first when listing every state.
    let all = h.s.list_admin_alerts(None, 10).await.unwrap();
    let ids: Vec<_> = all.iter().map(|a| a.id).collect();
    assert_eq!(ids, [other.id, raised.id]);
    let open = h.s.list_admin_alerts(Some(AlertState::Open), 10).await;
    assert_eq!(open.unwrap().len(), 1);

    let resolved = h.s.resolve_alert(raised.id, kim.id, at(7)).await.unwrap();
    assert_eq!(resolved.state(), AlertState::Resolved);
    assert_eq!(resolved.acknowledged_by, Some(admin.id), "first one kept");
    assert_eq!(resolved.resolved_by, Some(kim.id));
    // Once resolved, the same kind may be raised again.
    assert!(h.s.create_alert(twin).await.unwrap().is_some());

    let user_alert = mine[0].id;
    for id in [AlertId::new(999), user_alert] {
        let err =
            h.s.acknowledge_alert(id, admin.id, at(8))
                .await
                .unwrap_err();
        assert!(err.is_not_found(), "{err}");
        let err = h.s.resolve_alert(id, admin.id, at(8)).await.unwrap_err();
        assert!(err.is_not_found(), "{err}");
    }
}

#[tokio::test]
async fn the_audit_log_is_chained_and_the_database_refuses_changes() {
    let h = H::new().await;
    let actions = ["sign_in.success", "mfa.enable", "device.revoke"];
    for (i, action) in (0..).zip(actions) {
        let event = NewAuditEvent {
            at: at(i) + Duration::milliseconds(250),
            actor: Some(AccountId::new(1)),
            action: action.to_owned(),
            target: Some("account:1".to_owned()),
            details: json!({"ip": "192.0.2.1", "attempt": i}),
        };
        let appended = h.s.append_audit(event).await.unwrap();
        assert_eq!((appended.seq, appended.at), (i + 1, at(i)));
    }
    let events = h.s.list_audit(0, 100).await.unwrap();
    assert_eq!(events.len(), 3);
    assert_eq!(events[1].details, r#"{"attempt":1,"ip":"192.0.2.1"}"#);
    assert_eq!(verify_chain(&events), Ok(()));
    assert_eq!(h.s.list_audit(2, 100).await.unwrap().len(), 1);

    let tampering = [
        "UPDATE audit_events SET action = 'nothing' WHERE seq = 2",
        "DELETE FROM audit_events WHERE seq = 3",
    ];
    for result in h.raw(&tampering).await {
        let error = result.unwrap_err();
        assert!(error.contains("audit events are append-only"), "{error}");
    }
    // Someone with the file (or the database's owner login) who drops the trigger still
    // can't hide an edit.
    let drop_trigger = if h.postgres() {
        "DROP TRIGGER audit_events_no_update ON audit_events"
    } else {
        "DROP TRIGGER audit_events_no_update"
    };
    for result in h.raw(&[drop_trigger, tampering[0]]).await {
        result.unwrap();
    }
    let events = h.s.list_audit(0, 100).await.unwrap();
    let broken = Err(AuditChainError::Altered { seq: 2 });
    assert_eq!(verify_chain(&events), broken);
}

/// Names have no digits: 307 → "dah".
fn letters(n: i64) -> String {
    let digits = n.to_string().into_bytes();
    digits.iter().map(|b| char::from(b - b'0' + b'a')).collect()
}

fn member(id: i64, sponsor: Option<i64>, placement: Option<(i64, Position)>) -> MemberRecord {
    let placement = placement.map(|(parent, position)| Placement {
        parent: MemberId::new(parent),
        position,
    });
    MemberRecord {
        id: MemberId::new(id),
        number: MemberNumber::parse(&(10_000_000 + id).to_string()).unwrap(),
        sponsor: sponsor.map(MemberId::new),
        placement,
        rank: RankLevel::new(u16::try_from(id % 5).unwrap()),
        status: MemberStatus::Active,
        joined_on: time::macros::date!(2025 - 03 - 01),
        country: CountryCode::parse("DE").unwrap(),
        display_name: PersonName::parse(&format!("Member {}", letters(id))).unwrap(),
    }
}

fn personal(i: i64) -> PersonalDetails {
    let name = PersonName::parse(&format!("Legal {}", letters(i))).unwrap();
    PersonalDetails {
        email: Some(Email::parse(&format!("m{i}@example.de")).unwrap()),
        ..PersonalDetails::with_name(name)
    }
}

#[tokio::test]
async fn ten_thousand_members_in_one_batch_and_their_downlines() {
    const N: i64 = 10_000;
    let h = H::new().await;
    // Four enrollees each (sponsor tree); binary placement under i / 2.
    let sponsor_of = |i: i64| (i > 1).then_some((i - 2) / 4 + 1);
    let leg = |i: i64| [Position::Left, Position::Right][(i % 2) as usize];
    let placement_of = |i: i64| (i > 1).then_some((i / 2, leg(i)));
    // Children before parents: the deferred foreign keys accept any order in one batch.
    let batch: Vec<NewMember> = (1..=N)
        .rev()
        .map(|i| NewMember {
            member: member(i, sponsor_of(i), placement_of(i)),
            personal: (i % 100 == 0).then(|| personal(i)),
        })
        .collect();
    assert_eq!(h.s.insert_members(batch).await.unwrap(), 10_000);

    let below = |root: i64, i: i64| {
        std::iter::successors(sponsor_of(i), |&p| sponsor_of(p)).any(|p| p == root)
    };
    let naive = |root: i64| (1..=N).filter(|&i| below(root, i)).count() as u64;
    let cases = [
        (1, Tree::Sponsor, 9_999),
        (2, Tree::Sponsor, naive(2)),
        (1, Tree::Placement, 9_999),
        (N, Tree::Sponsor, 0),
    ];
    for (root, tree, expected) in cases {
        let got = h.s.count_downline(MemberId::new(root), tree).await;
        assert_eq!(got.unwrap(), expected, "{root} {tree:?}");
    }

    // The sponsor-line check (what RBAC asks for every member it shows) agrees with the
    // naive walk, stops at its depth bound, and a member is not in its own line.
    for member in [2, 7, 29, 300, 4_321, N] {
        for root in [1, 2, 3, 5, 8, 300] {
            let got =
                h.s.is_in_sponsor_line(MemberId::new(member), MemberId::new(root), 100);
            assert_eq!(
                got.await.unwrap(),
                below(root, member),
                "{member} under {root}"
            );
        }
    }
    let depth = std::iter::successors(sponsor_of(N), |&p| sponsor_of(p)).count();
    let bounded = |max| {
        h.s.is_in_sponsor_line(MemberId::new(N), MemberId::new(1), max)
    };
    assert!(bounded(u32::try_from(depth).unwrap()).await.unwrap());
    assert!(!bounded(u32::try_from(depth - 1).unwrap()).await.unwrap());
    let own =
        h.s.is_in_sponsor_line(MemberId::new(5), MemberId::new(5), 100);
    assert!(!own.await.unwrap());

    // Which changed members a client may see (every delta batch asks, for every change):
    // the same answer as the sponsor-line walk, under roots with a team small enough to read
    // whole (300, N) and ones with big teams (1, 2); an unknown id is nobody's.
    let ids: Vec<MemberId> = [1, 2, 5, 7, 29, 300, 1_201, 4_321, N, N + 50]
        .map(MemberId::new)
        .to_vec();
    for root in [1, 2, 300, 1_201, N] {
        let got = h.s.members_in_scope(ids.clone(), Some(MemberId::new(root)));
        let got = got.await.unwrap();
        let seen: Vec<bool> = got.iter().map(Option::is_some).collect();
        let expected: Vec<bool> = ids
            .iter()
            .map(|id| id.get() <= N && (id.get() == root || below(root, id.get())))
            .collect();
        assert_eq!(seen, expected, "under {root}");
        for (id, found) in ids.iter().zip(&got) {
            if let Some((member, _)) = found {
                assert_eq!(member.id, *id);
            }
        }
    }
    let everyone = h.s.members_in_scope(ids.clone(), None).await.unwrap();
    assert_eq!(everyone.iter().flatten().count(), ids.len() - 1);

    let found = h.s.find_member(MemberId::new(7)).await.unwrap();
    assert_eq!(found, Some(member(7, Some(2), Some((3, Position::Right)))));
    let on_file = h.s.find_member_personal(MemberId::new(300)).await;
    assert_eq!(on_file.unwrap(), Some(personal(300)));
    let none = h.s.find_member_personal(MemberId::new(301)).await;
    assert_eq!(none.unwrap(), None);

    let root = MemberId::new(1);
    let page1 = h.s.list_enrollees(root, None, 3).await.unwrap();
    let page2 = h.s.list_enrollees(root, Some(page1[2].id), 3).await;
    let page2 = page2.unwrap();
    let ids: Vec<i64> = page1.iter().chain(&page2).map(|m| m.id.get()).collect();
    assert_eq!(ids, [2, 3, 4, 5]);

    let taken = member(N + 1, Some(1), Some((2, Position::Left)));
    let orphan = member(N + 2, Some(N + 99), None);
    let cases = [
        (taken, "this placement position is already taken"),
        (
            orphan,
            "a member, account or device it refers to does not exist",
        ),
    ];
    for (member, message) in cases {
        let personal = None;
        let error = h.s.insert_members(vec![NewMember { member, personal }]);
        assert_eq!(error.await.unwrap_err().to_string(), message);
    }
}

#[tokio::test]
async fn orders_are_stored_with_their_lines() {
    let h = H::new().await;
    let buyer = NewMember {
        member: member(1, None, None),
        personal: None,
    };
    h.s.insert_members(vec![buyer]).await.unwrap();
    let line = |sku: &str, qty: u32, cents: i64, currency: Currency| OrderLine {
        sku: Sku::parse(sku).unwrap(),
        quantity: NonZeroU32::new(qty).unwrap(),
        unit_price: Money::new(cents, currency),
        unit_pv: Pv::from_hundredths(cents / 2),
    };
    let order = Order {
        id: OrderId::new(5),
        buyer: MemberId::new(1),
        customer: Some(CustomerId::new(9)),
        placed_at: at(3_600),
        status: OrderStatus::Paid,
        currency: Currency::EUR,
        lines: vec![
            line("VIT-100", 2, 2_999, Currency::EUR),
            line("TEA", 1, 1_250, Currency::EUR),
        ],
    };
    assert_eq!(h.s.insert_orders(vec![order.clone()]).await.unwrap(), 1);
    let found = h.s.find_order(order.id).await.unwrap();
    assert_eq!(found, Some(order.clone()));

    let mixed = Order {
        id: OrderId::new(6),
        lines: vec![line("A", 1, 100, Currency::USD)],
        ..order
    };
    let error = h.s.insert_orders(vec![mixed]).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "every line of an order must be in the order's currency"
    );
    let none = h.s.find_order(OrderId::new(6)).await.unwrap();
    assert!(none.is_none(), "the whole batch rolled back");
}

#[tokio::test]
async fn one_commission_run_of_a_period_at_a_time() {
    use canopy_core::Period;
    use canopy_server::commissions::{self, CommissionError, CommissionPlan};
    let h = H::new().await;
    let period = Period::parse("2026-10").unwrap();
    let other = Period::parse("2026-11").unwrap();
    let claim = |holder: &str, period: Period, now: i64, until: i64| {
        h.s.claim_commission_run(period, holder.to_owned(), at(now), at(until))
    };
    assert!(claim("a", period, 0, 1_800).await.unwrap());
    assert!(!claim("b", period, 10, 1_810).await.unwrap(), "a holds it");
    assert!(
        claim("b", other, 10, 1_810).await.unwrap(),
        "another period is free"
    );
    h.s.release_commission_run(period, "b".to_owned())
        .await
        .unwrap();
    assert!(
        !claim("c", period, 20, 1_820).await.unwrap(),
        "only its holder gives a claim up"
    );
    h.s.release_commission_run(period, "a".to_owned())
        .await
        .unwrap();
    assert!(claim("c", period, 30, 60).await.unwrap());
    // c's process died mid-run: its claim lapses at 60.
    assert!(!claim("d", period, 59, 100).await.unwrap());
    assert!(claim("d", period, 60, 100).await.unwrap());

    // A run (an admin's, or another instance's projection) meets the claimed period.
    let plan = CommissionPlan::load(None).unwrap();
    let error = commissions::run(&*h.s, &plan, period, None, || at(70))
        .await
        .unwrap_err();
    assert!(matches!(error, CommissionError::Busy(p) if p == period));
    assert_eq!(
        error.to_string(),
        "a run of period 2026-10 is in progress (on this or another server instance); \
         try again when it has finished"
    );
    assert!(
        h.s.commission_period(period).await.unwrap().is_none(),
        "nothing ran"
    );
    // Once the claim lapses the run goes ahead, and gives its own claim up after.
    commissions::run(&*h.s, &plan, period, None, || at(100))
        .await
        .unwrap();
    assert!(claim("e", period, 101, 200).await.unwrap());
}

#[tokio::test]
async fn postgres_connections_use_tls_verified_against_the_given_ca() {
    let h = H::new().await;
    if !h.postgres() || !h.url.contains("sslrootcert=") {
        eprintln!("PostgreSQL over TLS only: CANOPY_TEST_POSTGRES_CA is not set");
        return;
    }
    // The storage's own connections (application_name canopy-server) are encrypted.
    h.s.find_account(AccountId::new(1)).await.unwrap();
    let got = h
        .raw(&[
            "SELECT count(*) FILTER (WHERE s.ssl)::text || '/' || count(*)::text \
                FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
                WHERE a.datname = current_database() AND a.application_name = 'canopy-server'",
        ])
        .await;
    let got = got[0].clone().unwrap();
    let (encrypted, all) = got.split_once('/').unwrap();
    assert_eq!(encrypted, all, "every connection encrypted: {got}");
    assert_ne!(all, "0");

    // A CA that didn't sign the server's certificate, or none (the system's roots): the
    // server can't be verified, so no connection, and the URL's password isn't echoed.
    let dir = tempfile::tempdir().unwrap();
    let other_ca = dir.path().join("other-ca.pem");
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    std::fs::write(&other_ca, cert.cert.pem()).unwrap();
    let base = h.url.split('?').next().unwrap();
    for url in [
        format!("{base}?sslmode=require&sslrootcert={}", other_ca.display()),
        format!("{base}?sslmode=require"),
    ] {
        let error = storage::open(&url).await.err().unwrap().to_string();
        assert_eq!(error, "the database failed; the server log has the details");
    }
    let missing = format!("{base}?sslmode=require&sslrootcert=/nonexistent/ca.pem");
    let error = storage::open(&missing).await.err().unwrap().to_string();
    assert!(error.contains("/nonexistent/ca.pem"), "{error}");
}
