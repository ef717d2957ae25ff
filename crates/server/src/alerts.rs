//! Security alerts (SECURITY.md #15): which sign-in events raise one, for whom, and what
//! evidence it keeps. The decisions are pure functions; the handlers call [`after_sign_in`]
//! and [`after_wrong_password`], which apply them through storage. Unusual transactions
//! raise the admin alerts of the kinds below through the transaction watch (`watch`).

use std::net::IpAddr;

use canopy_core::AccountId;
use serde_json::json;
use time::OffsetDateTime;

use crate::storage::{
    self, AlertAudience, AlertRecord, AlertSeverity, DeviceId, FailureSummary, FamilyId, NewAlert,
    Storage, ThrottlePolicy,
};

/// Wrong passwords for one account inside the throttle window that raise an admin alert.
pub const FAILURE_THRESHOLD: u32 = 10;
/// Failed passwords from one network address inside the throttle window, across accounts,
/// that raise an admin alert: credential stuffing tries many emails from one machine, which
/// the per-account count never sees. Twenty is more than an office of people mistyping in
/// a quarter of an hour …
pub const IP_FAILURE_THRESHOLD: u32 = 20;
/// … and they must name at least this many different emails (one person retrying their own
/// account is the per-account rule's business).
pub const IP_FAILURE_EMAILS: u32 = 3;

pub const NEW_DEVICE_SIGN_IN: &str = "new_device_sign_in";
pub const NEW_IP_SIGN_IN: &str = "new_ip_sign_in";
pub const REPEATED_FAILURES: &str = "repeated_failures";
/// Many failed passwords from one address, for several emails.
pub const FAILURES_FROM_IP: &str = "failures_from_ip";
/// One of the person's devices was revoked (by them or an admin).
pub const DEVICE_REVOKED: &str = "device_revoked";
/// A person asks for erasure (GDPR art. 17): admins process it (`routes::gdpr`).
pub const ERASURE_REQUEST: &str = "gdpr_erasure_request";
/// An order far above the member's earlier orders (`watch`).
pub const LARGE_ORDER: &str = "large_order";
/// Many enrollments from one device or one network address in a few minutes.
pub const ENROLLMENT_BURST: &str = "enrollment_burst";
/// One account's burst of orders just before a period closes.
pub const CLOSE_BURST: &str = "close_burst";
/// Accounts ordering for each other's members in a loop.
pub const ORDER_LOOP: &str = "order_loop";

/// What a person (or an admin) reads for an alert of this kind.
pub fn title(kind: &str) -> &'static str {
    match kind {
        NEW_DEVICE_SIGN_IN => "New sign-in to your account from a new device",
        NEW_IP_SIGN_IN => "New sign-in to your account from a new network",
        REPEATED_FAILURES => "Repeated wrong passwords for one account",
        FAILURES_FROM_IP => "Many wrong passwords from one network address",
        DEVICE_REVOKED => "A device was removed from your account",
        LARGE_ORDER => "An order far above the member's usual orders",
        ENROLLMENT_BURST => "Many enrollments from one device or network address",
        CLOSE_BURST => "A burst of orders just before the period closes",
        ORDER_LOOP => "Accounts ordering for each other's members in a loop",
        ERASURE_REQUEST => "A person asks for their personal data to be erased",
        _ => "Security alert",
    }
}

/// What was known about a completed sign-in, read before it was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInFacts {
    /// The account had completed a sign-in before this one.
    pub signed_in_before: bool,
    /// The device was registered in this sign-in.
    pub new_device: bool,
    /// A sign-in from this address had completed before.
    pub known_ip: bool,
}

/// The user alert a completed sign-in raises: none for the account's very first sign-in
/// (every device and address is new then); a new device outranks a new address, so one
/// sign-in raises at most one alert.
pub fn sign_in_alert(facts: SignInFacts) -> Option<(&'static str, AlertSeverity)> {
    if !facts.signed_in_before {
        None
    } else if facts.new_device {
        Some((NEW_DEVICE_SIGN_IN, AlertSeverity::Warning))
    } else if !facts.known_ip {
        Some((NEW_IP_SIGN_IN, AlertSeverity::Info))
    } else {
        None
    }
}

/// Whether the wrong passwords in the window call for an admin alert.
pub fn failures_alarming(summary: FailureSummary) -> bool {
    summary.failures >= FAILURE_THRESHOLD
}

/// Reads the facts of a sign-in about to be recorded as a success.
pub async fn sign_in_facts(
    storage: &dyn Storage,
    account: AccountId,
    ip: IpAddr,
    new_device: bool,
) -> storage::Result<SignInFacts> {
    Ok(SignInFacts {
        signed_in_before: storage.has_signed_in(account).await?,
        new_device,
        known_ip: storage.has_signed_in_from(account, ip).await?,
    })
}

/// The device a sign-in completed on, as the alert's evidence names it.
pub struct SignInContext<'a> {
    pub account: AccountId,
    pub ip: IpAddr,
    pub device: DeviceId,
    /// The name the person gave a newly registered device.
    pub device_name: Option<&'a str>,
    pub session: FamilyId,
    pub at: OffsetDateTime,
}

/// Raises the user alert [`sign_in_alert`] decides on, if any.
pub async fn after_sign_in(
    storage: &dyn Storage,
    facts: SignInFacts,
    context: SignInContext<'_>,
) -> storage::Result<Option<AlertRecord>> {
    let Some((kind, severity)) = sign_in_alert(facts) else {
        return Ok(None);
    };
    let mut evidence = json!({
        "ip": context.ip.to_canonical().to_string(),
        "network": storage::network_of(context.ip),
        "device_id": context.device.get(),
        "session": context.session.get(),
    });
    if let Some(name) = context.device_name {
        evidence["device_name"] = json!(name);
    }
    storage
        .create_alert(NewAlert {
            account: Some(context.account),
            audience: AlertAudience::User,
            kind: kind.to_owned(),
            severity,
            evidence,
            at: context.at,
            unless_open: false,
        })
        .await
}

/// After a wrong password for `account` was recorded: raises one admin alert once the
/// failures in the throttle window reach [`FAILURE_THRESHOLD`], and no second one while
/// it is unresolved.
pub async fn after_wrong_password(
    storage: &dyn Storage,
    account: AccountId,
    ip: IpAddr,
    now: OffsetDateTime,
) -> storage::Result<Option<AlertRecord>> {
    let window = ThrottlePolicy::default().window;
    let since = now - window;
    let summary = storage.count_failed_sign_ins(account, since).await?;
    if !failures_alarming(summary) {
        return Ok(None);
    }
    let raised = storage
        .create_alert(NewAlert {
            account: Some(account),
            audience: AlertAudience::Admin,
            kind: REPEATED_FAILURES.to_owned(),
            severity: AlertSeverity::Warning,
            evidence: json!({
                "account_id": account.get(),
                "failures": summary.failures,
                "distinct_ips": summary.distinct_ips,
                "window_secs": window.as_secs(),
                "last_ip": ip.to_canonical().to_string(),
            }),
            at: now,
            unless_open: true,
        })
        .await?;
    if let Some(alert) = &raised {
        tracing::warn!(
            account = %account,
            alert = %alert.id,
            failures = summary.failures,
            "repeated wrong passwords: admin alert raised"
        );
    }
    Ok(raised)
}

/// Whether failures from one address call for an admin alert.
pub fn ip_failures_alarming(summary: FailureSummary) -> bool {
    summary.failures >= IP_FAILURE_THRESHOLD && summary.distinct_ips >= IP_FAILURE_EMAILS
}

/// After a failed password from `ip` was recorded: raises one admin alert per address
/// (while it is unresolved) once [`ip_failures_alarming`].
pub async fn after_failure_from(
    storage: &dyn Storage,
    ip: IpAddr,
    now: OffsetDateTime,
) -> storage::Result<Option<AlertRecord>> {
    let window = ThrottlePolicy::default().window;
    let summary = storage.count_failures_from(ip, now - window).await?;
    if !ip_failures_alarming(summary) {
        return Ok(None);
    }
    let ip = ip.to_canonical().to_string();
    let raised = storage
        .raise_watch_alert(NewAlert {
            account: None,
            audience: AlertAudience::Admin,
            kind: FAILURES_FROM_IP.to_owned(),
            severity: AlertSeverity::Warning,
            evidence: json!({
                "subject": format!("ip:{ip}"),
                "ip": ip,
                "failures": summary.failures,
                // `distinct_ips` counts the emails typed here.
                "distinct_emails": summary.distinct_ips,
                "window_secs": window.as_secs(),
            }),
            at: now,
            unless_open: true,
        })
        .await?;
    if let Some(alert) = &raised {
        tracing::warn!(ip = %ip, alert = %alert.id, failures = summary.failures, "many failed passwords from one address: admin alert raised");
    }
    Ok(raised)
}

/// Tells the person that one of their devices was revoked: by them from another device
/// (a record of it), or by an admin (which they should know of).
pub async fn after_device_revoked(
    storage: &dyn Storage,
    device: &storage::DeviceRecord,
    by_admin: bool,
    now: OffsetDateTime,
) -> storage::Result<Option<AlertRecord>> {
    storage
        .create_alert(NewAlert {
            account: Some(device.account),
            audience: AlertAudience::User,
            kind: DEVICE_REVOKED.to_owned(),
            severity: if by_admin {
                AlertSeverity::Warning
            } else {
                AlertSeverity::Info
            },
            evidence: json!({
                "device_id": device.id.get(),
                "device_name": device.name,
                "revoked_by": if by_admin { "an administrator" } else { "you" },
            }),
            at: now,
            unless_open: false,
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_sign_ins_notify_the_user() {
        let facts = |signed_in_before, new_device, known_ip| SignInFacts {
            signed_in_before,
            new_device,
            known_ip,
        };
        let cases = [
            // The very first sign-in: everything is new, nothing to tell.
            (facts(false, true, false), None),
            (facts(false, false, false), None),
            (
                facts(true, true, true),
                Some((NEW_DEVICE_SIGN_IN, AlertSeverity::Warning)),
            ),
            // A new device from a new address is one alert, about the device.
            (
                facts(true, true, false),
                Some((NEW_DEVICE_SIGN_IN, AlertSeverity::Warning)),
            ),
            (
                facts(true, false, false),
                Some((NEW_IP_SIGN_IN, AlertSeverity::Info)),
            ),
            (facts(true, false, true), None),
        ];
        for (facts, expected) in cases {
            assert_eq!(sign_in_alert(facts), expected, "{facts:?}");
        }
    }

    #[test]
    fn ten_wrong_passwords_in_the_window_alarm() {
        let cases = [(0, false), (1, false), (9, false), (10, true), (500, true)];
        for (failures, alarming) in cases {
            let summary = FailureSummary {
                failures,
                distinct_ips: 1,
            };
            assert_eq!(failures_alarming(summary), alarming, "{failures}");
        }
    }

    #[test]
    fn many_failures_for_several_emails_from_one_address_alarm() {
        let cases = [
            ((19, 19), false),
            ((20, 2), false),
            ((20, 3), true),
            ((500, 400), true),
        ];
        for ((failures, distinct_ips), alarming) in cases {
            let summary = FailureSummary {
                failures,
                distinct_ips,
            };
            assert_eq!(ip_failures_alarming(summary), alarming, "{summary:?}");
        }
    }

    #[test]
    fn networks_are_the_24_or_the_48() {
        let cases = [
            ("192.0.2.77", "192.0.2.0/24"),
            ("::ffff:192.0.2.1", "192.0.2.0/24"),
            ("2001:db8:1:2:3::9", "2001:db8:1::/48"),
        ];
        for (ip, network) in cases {
            assert_eq!(storage::network_of(ip.parse().unwrap()), network, "{ip}");
        }
    }

    #[test]
    fn every_kind_has_a_title() {
        let kinds = [
            NEW_DEVICE_SIGN_IN,
            NEW_IP_SIGN_IN,
            REPEATED_FAILURES,
            LARGE_ORDER,
            ENROLLMENT_BURST,
            CLOSE_BURST,
            ORDER_LOOP,
            ERASURE_REQUEST,
            FAILURES_FROM_IP,
            DEVICE_REVOKED,
        ];
        for kind in kinds {
            assert_ne!(title(kind), title("something_else"), "{kind}");
        }
        let titles: std::collections::BTreeSet<_> = kinds.iter().map(|k| title(k)).collect();
        assert_eq!(titles.len(), kinds.len(), "every title is its own");
    }
}
