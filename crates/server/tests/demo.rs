//! The demo installation's first and later runs: one company, three accounts made once,
//! and a demo.json whose credentials really open those accounts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use canopy_core::provisioning::Provisioning;
use canopy_core::{MemberId, Role};
use canopy_server::app::open_totp_secret;
use canopy_server::auth::{HashParams, PasswordHasher, TotpSecret, recovery};
use canopy_server::demo::{self, DemoCompany};
use canopy_server::secrets::totp_sealing_keys;
use canopy_server::storage::{self, Tree};

#[tokio::test]
async fn first_run_makes_the_accounts_and_later_runs_reuse_them() {
    let dir = tempfile::tempdir().unwrap();
    let files = demo::ensure_files(dir.path()).unwrap();
    let mut config = files.config(SocketAddr::from(([127, 0, 0, 1], 0)));
    config.database.url = storage::testing::database_url(dir.path(), "demo").await;
    let company = DemoCompany {
        members: 2_000,
        seed: 3,
    };
    let first = demo::prepare(&files, &config, company).await.unwrap();
    let second = demo::prepare(&files, &config, company).await.unwrap();
    assert_eq!(first, second, "later runs reuse the accounts unchanged");
    let roles: Vec<Role> = first.iter().map(|a| a.role).collect();
    assert_eq!(roles, [Role::Distributor, Role::Manager, Role::Admin]);

    demo::write_provisioning_with_accounts(&files, "https://127.0.0.1:8443", &first).unwrap();
    let path = dir.path().join("demo.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "demo.json holds passwords");
        for private in ["demo-accounts.json", "canopy.db"] {
            let mode = std::fs::metadata(dir.path().join(private))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{private}");
        }
    }
    let provisioning: Provisioning =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    provisioning.validate().unwrap();
    assert_eq!(provisioning.demo_accounts, first);

    let store = storage::open(&config.database.url).await.unwrap();
    let keys = totp_sealing_keys(&config.secrets).unwrap();
    let hasher = PasswordHasher::new(HashParams::default()).unwrap();
    let mut downlines = Vec::new();
    for account in &provisioning.demo_accounts {
        let stored = store
            .find_account_by_email(&account.email)
            .await
            .unwrap()
            .expect("the account exists");
        assert_eq!(stored.role, account.role);
        assert!(
            hasher
                .verify(&account.password, &stored.password_hash)
                .unwrap()
                .is_match()
        );
        assert!(
            !hasher
                .verify("wrong password", &stored.password_hash)
                .unwrap()
                .is_match()
        );

        assert!(stored.mfa.enabled);
        let sealed = stored.mfa.sealed_secret.as_deref().unwrap();
        // Opened the way the sign-in handler opens it.
        let from_db = open_totp_secret(&keys, stored.id, sealed).unwrap();
        let decoded = data_encoding::BASE32_NOPAD
            .decode(account.totp_secret.as_bytes())
            .unwrap();
        let from_file = TotpSecret::from_bytes(&decoded).unwrap();
        for t in [59, 1_111_111_109, 2_000_000_000] {
            assert_eq!(from_file.code_at(t), from_db.code_at(t));
        }

        assert_eq!(account.recovery_codes.len(), recovery::CODE_COUNT);
        assert_eq!(
            store.count_unused_recovery_codes(stored.id).await.unwrap(),
            10
        );

        let member = stored.member.expect("linked to a member");
        downlines.push((
            member,
            store.count_downline(member, Tree::Sponsor).await.unwrap(),
        ));
    }
    let [(distributor, d), (manager, m), (admin, a)] = downlines[..] else {
        panic!("three accounts");
    };
    assert_eq!(admin, MemberId::new(1));
    assert_eq!(a, 1_999);
    assert!(d > 0, "the distributor has a real downline");
    assert!(m > d && a > m);
    // The distributor is in the manager's team.
    let mut at = store
        .find_member(distributor)
        .await
        .unwrap()
        .unwrap()
        .sponsor;
    let mut found = false;
    while let Some(id) = at {
        found |= id == manager;
        at = store.find_member(id).await.unwrap().unwrap().sponsor;
    }
    assert!(found);
}

#[tokio::test]
async fn a_company_without_its_saved_accounts_is_not_reseeded() {
    let dir = tempfile::tempdir().unwrap();
    let files = demo::ensure_files(dir.path()).unwrap();
    let mut config = files.config(SocketAddr::from(([127, 0, 0, 1], 0)));
    config.database.url = storage::testing::database_url(dir.path(), "demo").await;
    let company = DemoCompany {
        members: 300,
        seed: 1,
    };
    demo::prepare(&files, &config, company).await.unwrap();
    std::fs::remove_file(dir.path().join("demo-accounts.json")).unwrap();
    let error = demo::prepare(&files, &config, company).await.unwrap_err();
    assert!(
        error.to_string().contains("already holds a company"),
        "{error}"
    );
}
