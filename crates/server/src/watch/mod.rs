//! The transaction watch (SECURITY.md #15): orders and enrollments a push applied are
//! recorded with who sent them and from where, and four rules ([`rules`]) raise admin alerts.
//!
//! The rules, each one alert per situation while it is unresolved (deduplicated by the
//! evidence's `subject`):
//! - `large_order`: an order far above the member's earlier orders (subject: the member);
//! - `enrollment_burst`: many enrollments from one device or one address in a few minutes
//!   (subject: the device, or the address);
//! - `close_burst`: one account's burst of orders in the last hours of a calendar-month
//!   period, against its own usual rate (subject: the account and the period);
//! - `order_loop`: two or three accounts ordering for each other's members in one period
//!   (subject: the accounts and the period).
//!
//! Evidence holds ids, amounts, counts and windows (and, for an address burst, the address):
//! never names, emails or other personal details. The watch never fails or holds up a push:
//! [`after_push`] runs it in a task the push waits for at most [`BUDGET`], and a storage
//! error is logged and swallowed.

pub mod rules;

use std::net::IpAddr;
use std::time::Duration;

use canopy_core::sync::push::{Command, Outcome, PushCommand};
use canopy_core::{AccountId, MemberId, OrderId, Period};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::alerts::{CLOSE_BURST, ENROLLMENT_BURST, LARGE_ORDER, ORDER_LOOP};
use crate::app::AppState;
use crate::config::AlertsConfig;
use crate::storage::{
    self, AccessGrant, AlertAudience, AlertRecord, AlertSeverity, DeviceId, NewAlert, Storage,
};
use rules::BurstSource;

/// How long a push waits for the watch before answering; past it, the watch goes on alone.
pub const BUDGET: Duration = Duration::from_secs(2);
/// The most ids an alert's evidence lists (the counts stay exact).
const MAX_IDS: u32 = 50;
/// The most earlier orders a member's habits are read from.
const HISTORY: u32 = 100;
/// Days kept beyond the baseline: the current period (up to 31 days) is always whole.
const KEEP_EXTRA_DAYS: i64 = 40;

/// What a push applied that the watch looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// A new member, enrolled.
    Enrolled(MemberId),
    /// A new order.
    Ordered(OrderId),
}

/// One applied command, as [`Storage::record_push_events`] keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPushEvent {
    pub at: OffsetDateTime,
    pub account: AccountId,
    pub device: DeviceId,
    pub ip: IpAddr,
    pub applied: Applied,
}

/// An order as recorded, with the amounts read from the order itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedOrder {
    pub order: OrderId,
    /// The member it is for.
    pub member: MemberId,
    pub total_minor: i64,
    pub currency: String,
    pub pv_hundredths: i64,
}

/// What [`Storage::record_push_events`] recorded for the first time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    pub enrolled: Vec<MemberId>,
    pub orders: Vec<RecordedOrder>,
}

/// Enrollments recorded in a window from one device and from one address, with the first
/// of their members' ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnrollmentCounts {
    pub by_device: u32,
    pub by_ip: u32,
    pub device_members: Vec<MemberId>,
    pub ip_members: Vec<MemberId>,
}

/// The orders one account placed in a window and the volume they carry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderActivity {
    pub orders: u32,
    pub pv_hundredths: i64,
    /// The first of them, oldest first.
    pub order_ids: Vec<OrderId>,
}

/// One account's orders in a period for another account's member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLink {
    /// The account that placed them.
    pub from: AccountId,
    /// The account whose member they are for.
    pub to: AccountId,
    pub member: MemberId,
    pub orders: u32,
    pub pv_hundredths: i64,
}

/// The enrollments and orders among `commands` that `answers` say were applied.
pub fn applied(commands: &[PushCommand], answers: &[Option<Outcome>]) -> Vec<Applied> {
    commands
        .iter()
        .zip(answers)
        .filter_map(|(command, answer)| {
            let Some(Outcome::Applied { server_ref }) = answer else {
                return None;
            };
            let (what, id) = server_ref.split_once(':')?;
            let id: i64 = id.parse().ok()?;
            match (&command.command, what) {
                (Command::Enroll(_), "member") => Some(Applied::Enrolled(MemberId::new(id))),
                (Command::PlaceOrder(_), "order") => Some(Applied::Ordered(OrderId::new(id))),
                _ => None,
            }
        })
        .collect()
}

/// Who pushed, from where, and when.
#[derive(Debug, Clone, Copy)]
struct Pusher {
    account: AccountId,
    device: DeviceId,
    ip: IpAddr,
    at: OffsetDateTime,
}

/// Runs the watch over what a push applied, in its own task: the push waits for it at most
/// [`BUDGET`], and nothing the watch meets reaches the push's answer.
pub async fn after_push(state: &AppState, grant: &AccessGrant, ip: IpAddr, applied: Vec<Applied>) {
    if !state.alerts.enabled || applied.is_empty() {
        return;
    }
    let storage = state.storage.clone();
    let rules = state.alerts;
    let pusher = Pusher {
        account: grant.account,
        device: grant.device,
        ip: ip.to_canonical(),
        at: state.now(),
    };
    let task = tokio::spawn(async move { watch(&*storage, &rules, pusher, applied).await });
    match tokio::time::timeout(BUDGET, task).await {
        Ok(Ok(())) => {}
        Ok(Err(failed)) => tracing::error!(error = %failed, "the transaction watch failed"),
        Err(_) => tracing::warn!("the transaction watch is slow: the push answered without it"),
    }
}

/// Records the events, then applies each rule; a rule that fails is logged and the others
/// still run.
async fn watch(storage: &dyn Storage, rules: &AlertsConfig, pusher: Pusher, applied: Vec<Applied>) {
    let events = applied
        .into_iter()
        .map(|applied| NewPushEvent {
            at: pusher.at,
            account: pusher.account,
            device: pusher.device,
            ip: pusher.ip,
            applied,
        })
        .collect();
    let keep_days = i64::from(rules.close_baseline_days) + KEEP_EXTRA_DAYS;
    let forget_before = pusher.at - time::Duration::days(keep_days);
    let recorded = match storage.record_push_events(events, forget_before).await {
        Ok(recorded) => recorded,
        Err(err) => {
            tracing::error!(error = %err, "the transaction watch could not record a push");
            return;
        }
    };
    let mut outcomes = Vec::new();
    for order in &recorded.orders {
        outcomes.push(check_large_order(storage, rules, pusher, order).await);
    }
    if !recorded.enrolled.is_empty() {
        outcomes.push(check_enrollment_burst(storage, rules, pusher).await);
    }
    if !recorded.orders.is_empty() {
        outcomes.push(check_close_burst(storage, rules, pusher).await);
        outcomes.push(check_order_loop(storage, rules, pusher).await);
    }
    for outcome in outcomes {
        match outcome {
            Ok(Some(alert)) => tracing::warn!(
                alert = %alert.id,
                kind = %alert.kind,
                account = ?alert.account.map(AccountId::get),
                "unusual transactions: admin alert raised"
            ),
            Ok(None) => {}
            Err(err) => {
                tracing::error!(error = %err, "the transaction watch could not check a rule")
            }
        }
    }
}

async fn raise(
    storage: &dyn Storage,
    pusher: Pusher,
    kind: &str,
    severity: AlertSeverity,
    evidence: Value,
) -> storage::Result<Option<AlertRecord>> {
    storage
        .raise_watch_alert(NewAlert {
            account: Some(pusher.account),
            audience: AlertAudience::Admin,
            kind: kind.to_owned(),
            severity,
            evidence,
            at: pusher.at,
            unless_open: true,
        })
        .await
}

fn ids<T: Copy>(ids: &[T], get: impl Fn(T) -> i64) -> Vec<i64> {
    ids.iter().map(|id| get(*id)).collect()
}

/// Rule 1: an order far above the member's earlier orders in its currency.
async fn check_large_order(
    storage: &dyn Storage,
    rules: &AlertsConfig,
    pusher: Pusher,
    order: &RecordedOrder,
) -> storage::Result<Option<AlertRecord>> {
    let earlier = storage
        .earlier_order_totals(order.member, order.order, order.currency.clone(), HISTORY)
        .await?;
    let Some(median) = rules::large_order(order.total_minor, &earlier, rules) else {
        return Ok(None);
    };
    let evidence = json!({
        "subject": format!("member:{}", order.member),
        "account_id": pusher.account.get(),
        "device_id": pusher.device.get(),
        "member_id": order.member.get(),
        "order_id": order.order.get(),
        "total_minor": order.total_minor,
        "currency": order.currency,
        "pv_hundredths": order.pv_hundredths,
        "median_minor": median,
        "earlier_orders": earlier.len(),
        "order_multiple": rules.order_multiple,
        "order_min_minor": rules.order_min_minor,
    });
    raise(
        storage,
        pusher,
        LARGE_ORDER,
        AlertSeverity::Warning,
        evidence,
    )
    .await
}

/// Rule 2: many enrollments from the pushing device, or from its address, in a few minutes.
async fn check_enrollment_burst(
    storage: &dyn Storage,
    rules: &AlertsConfig,
    pusher: Pusher,
) -> storage::Result<Option<AlertRecord>> {
    let window = time::Duration::minutes(i64::from(rules.enroll_burst_minutes));
    let counts = storage
        .count_enrollments_since(pusher.device, pusher.ip, pusher.at - window, MAX_IDS)
        .await?;
    let evidence = match rules::enrollment_burst(counts.by_device, counts.by_ip, rules) {
        None => return Ok(None),
        Some(BurstSource::Device) => json!({
            "subject": format!("device:{}", pusher.device),
            "source": "device",
            "device_id": pusher.device.get(),
            "account_id": pusher.account.get(),
            "enrollments": counts.by_device,
            "member_ids": ids(&counts.device_members, MemberId::get),
            "window_secs": window.whole_seconds(),
        }),
        Some(BurstSource::Ip) => json!({
            "subject": format!("ip:{}", pusher.ip),
            "source": "ip",
            "ip": pusher.ip.to_string(),
            "account_id": pusher.account.get(),
            "device_id": pusher.device.get(),
            "enrollments": counts.by_ip,
            "member_ids": ids(&counts.ip_members, MemberId::get),
            "window_secs": window.whole_seconds(),
        }),
    };
    raise(
        storage,
        pusher,
        ENROLLMENT_BURST,
        AlertSeverity::Warning,
        evidence,
    )
    .await
}

/// Rule 3: the pushing account's orders in the last hours of the period, against its rate.
async fn check_close_burst(
    storage: &dyn Storage,
    rules: &AlertsConfig,
    pusher: Pusher,
) -> storage::Result<Option<AlertRecord>> {
    let Some((period, start, end)) = rules::close_window(pusher.at, rules) else {
        return Ok(None);
    };
    let baseline_from = start - time::Duration::days(i64::from(rules.close_baseline_days));
    let window = storage
        .orders_placed_by(pusher.account, start, end, MAX_IDS)
        .await?;
    let baseline = storage
        .orders_placed_by(pusher.account, baseline_from, start, 0)
        .await?;
    if !rules::close_burst(&window, &baseline, rules) {
        return Ok(None);
    }
    let evidence = json!({
        "subject": format!("account:{}:period:{period}", pusher.account),
        "account_id": pusher.account.get(),
        "period": period.to_string(),
        "window_hours": rules.close_hours,
        "orders": window.orders,
        "pv_hundredths": window.pv_hundredths,
        "order_ids": ids(&window.order_ids, OrderId::get),
        "baseline_days": rules.close_baseline_days,
        "baseline_orders": baseline.orders,
        "baseline_pv_hundredths": baseline.pv_hundredths,
        "close_multiple": rules.close_multiple,
    });
    raise(storage, pusher, CLOSE_BURST, AlertSeverity::Info, evidence).await
}

/// Rule 4: a loop of orders through the pushing account in the current period.
async fn check_order_loop(
    storage: &dyn Storage,
    rules: &AlertsConfig,
    pusher: Pusher,
) -> storage::Result<Option<AlertRecord>> {
    let Some((period, from, to)) = period_bounds(pusher.at) else {
        return Ok(None);
    };
    let links = storage.order_links_around(pusher.account, from, to).await?;
    let min_pv = i64::from(rules.loop_min_pv) * 100;
    let Some(cycle) = rules::find_loop(pusher.account, &links, min_pv) else {
        return Ok(None);
    };
    let mut members: Vec<i64> = cycle.iter().map(|l| l.from.get()).collect();
    members.sort_unstable();
    let subject = members
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let links: Vec<Value> = cycle
        .iter()
        .map(|l| {
            json!({
                "from_account_id": l.from.get(),
                "to_account_id": l.to.get(),
                "to_member_id": l.member.get(),
                "orders": l.orders,
                "pv_hundredths": l.pv_hundredths,
            })
        })
        .collect();
    let evidence = json!({
        "subject": format!("loop:{subject}:period:{period}"),
        "period": period.to_string(),
        "account_ids": cycle.iter().map(|l| l.from.get()).collect::<Vec<_>>(),
        "links": links,
        "loop_min_pv_hundredths": min_pv,
    });
    raise(
        storage,
        pusher,
        ORDER_LOOP,
        AlertSeverity::Critical,
        evidence,
    )
    .await
}

/// `now`'s calendar-month period (UTC) and its first and next period's first instants.
fn period_bounds(now: OffsetDateTime) -> Option<(Period, OffsetDateTime, OffsetDateTime)> {
    let period = Period::containing(now.to_offset(time::UtcOffset::UTC).date()).ok()?;
    let start = |p: Period| p.first_day().midnight().assume_utc();
    Some((period, start(period), start(period.next()?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(kind: &str, form: Value) -> PushCommand {
        serde_json::from_value(json!({
            "key": "unit-test-key-0001",
            "command": {"type": kind, "form": form},
        }))
        .unwrap()
    }

    #[test]
    fn only_new_enrollments_and_orders_that_were_applied_are_watched() {
        let order = command("place_order", json!({"member": 7, "lines": []}));
        let note = command("add_note", json!({"member": 7, "body": "hi"}));
        let applied_as = |r: &str| {
            Some(Outcome::Applied {
                server_ref: r.to_owned(),
            })
        };
        let commands = [order.clone(), order.clone(), order.clone(), note, order];
        let answers = [
            applied_as("order:41"),
            Some(Outcome::Rejected {
                reason: "no".into(),
            }),
            None,
            applied_as("note:3"),
            // A reference of the wrong kind is not taken for an order.
            applied_as("member:5"),
        ];
        assert_eq!(
            applied(&commands, &answers),
            vec![Applied::Ordered(OrderId::new(41))]
        );
    }

    #[test]
    fn a_period_runs_from_its_first_instant_to_the_next_ones() {
        let (period, from, to) =
            period_bounds(time::macros::datetime!(2026-12-31 23:59:59 UTC)).unwrap();
        assert_eq!(period.to_string(), "2026-12");
        assert_eq!(from, time::macros::datetime!(2026-12-01 00:00 UTC));
        assert_eq!(to, time::macros::datetime!(2027-01-01 00:00 UTC));
    }
}
