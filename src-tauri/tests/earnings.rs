//! The earnings screen over a real cache bootstrapped from the real server, with
//! statements written in as the sync will write them once the server runs commissions:
//! the periods newest first with their totals, each line traced to a real order and
//! member of the cache, subtotals that add up, a CSV with one row per line, and an empty
//! state (not an error) while the company has run no commissions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../crates/sync/tests/common/mod.rs"]
mod common;

use canopy_app::commands::earnings::{SHOWN, export, overview, statement_of};
use canopy_core::ipc::CommandError;
use canopy_core::{
    BasisPoints, Currency, EarningsKind, EarningsLine, EarningsLineId, EarningsSource, MemberId,
    Money, OrderId, Period, Role,
};
use canopy_store::StatementStatus;
use common::{cached, company, fresh_store, member_of, serve};

/// One line of the user's statement for `period`.
#[allow(clippy::too_many_arguments)]
fn line(
    id: i64,
    period: Period,
    me: MemberId,
    cents: i64,
    kind: EarningsKind,
    order: Option<OrderId>,
    member: Option<MemberId>,
    rule: &str,
) -> EarningsLine {
    EarningsLine {
        id: EarningsLineId::new(id),
        period,
        member: me,
        amount: Money::new(cents, Currency::USD),
        kind,
        source: EarningsSource {
            order,
            member,
            level: member.map(|_| 1),
            rule: rule.to_owned(),
            rate: matches!(kind, EarningsKind::Unilevel).then(|| BasisPoints::new(500)),
        },
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn statements_trace_every_line_and_export_it() {
    let c = company().await;
    let (running, p) = serve(&c).await;
    let (store, _token) = cached(&c, &p, Role::Manager, "earnings.db").await;
    running.shutdown().await.unwrap();
    let me = member_of(&c, Role::Manager).await;

    // No commissions run yet: an empty list, not an error; the same on an empty cache.
    assert!(overview(&store).unwrap().periods.is_empty());
    let empty = fresh_store(c.dir.path(), "empty.db");
    assert!(overview(&empty).unwrap().periods.is_empty());

    // Two periods, sourced from the user's real orders and enrollees.
    let october = Period::parse("2026-10").unwrap();
    let november = Period::parse("2026-11").unwrap();
    let orders: Vec<OrderId> = store.orders_of(me).unwrap().iter().map(|o| o.id).collect();
    let team = store.children(me, october).unwrap();
    assert!(orders.len() >= 2, "the manager has orders in the cache");
    assert!(team.len() >= 2, "the manager has enrollees in the cache");
    let (a, b) = (team[0].id, team[1].id);
    let lines = [
        line(
            1,
            october,
            me,
            1_250,
            EarningsKind::RetailProfit,
            Some(orders[0]),
            None,
            "Retail margin",
        ),
        line(
            2,
            october,
            me,
            2_000,
            EarningsKind::Unilevel,
            Some(orders[1]),
            Some(a),
            "Unilevel L1",
        ),
        line(
            3,
            october,
            me,
            5_000,
            EarningsKind::FastStart,
            None,
            Some(b),
            "=HYPERLINK(\"http://x\")",
        ),
        line(
            4,
            october,
            me,
            -750,
            EarningsKind::Clawback,
            Some(orders[1]),
            Some(a),
            "Return",
        ),
        line(
            5,
            october,
            me,
            1_500,
            EarningsKind::Unilevel,
            None,
            Some(b),
            "Unilevel L1",
        ),
        line(
            6,
            november,
            me,
            300,
            EarningsKind::Unilevel,
            None,
            Some(a),
            "Unilevel L1",
        ),
        line(
            7,
            november,
            me,
            200,
            EarningsKind::Unilevel,
            None,
            Some(b),
            "Unilevel L1",
        ),
    ];
    store
        .write(|w| {
            for l in &lines {
                w.put_earnings_line(l)?;
            }
            w.put_statement(
                october,
                StatementStatus::Final,
                Money::new(9_000, Currency::USD),
            )?;
            w.put_statement(
                november,
                StatementStatus::Open,
                Money::new(500, Currency::USD),
            )
        })
        .unwrap();

    // The list: newest first, final or projected, with totals and line counts.
    let shown: Vec<(String, String, bool, String, u32)> = overview(&store)
        .unwrap()
        .periods
        .into_iter()
        .map(|s| (s.period, s.label, s.closed, s.total, s.lines))
        .collect();
    assert_eq!(
        shown,
        [
            (
                "2026-11".into(),
                "November 2026".into(),
                false,
                "USD 5.00".into(),
                2
            ),
            (
                "2026-10".into(),
                "October 2026".into(),
                true,
                "USD 90.00".into(),
                5
            ),
        ]
    );

    // October's statement: the lines add up to the total, and each names its source.
    let s = statement_of(&store, "2026-10").unwrap();
    assert!(s.closed);
    assert_eq!(s.total, "USD 90.00");
    assert_eq!(s.lines.len(), 5);
    assert_eq!(s.more_lines, 0);
    let sum: i64 = s.lines.iter().map(|l| l.amount_minor).sum();
    assert_eq!(sum, s.total_minor);
    for (shown, written) in s.lines.iter().zip(&lines) {
        assert_eq!(shown.order, written.source.order.map(|o| o.get()));
        if let Some(order) = shown.order {
            assert!(orders.iter().any(|o| o.get() == order), "a real order");
        }
        let expected = written.source.member.map(|id| {
            let row = &team.iter().find(|m| m.id == id).unwrap();
            (
                id.get(),
                Some(row.number.clone()),
                Some(row.display_name.clone()),
            )
        });
        let member = shown
            .member
            .as_ref()
            .map(|m| (m.id, m.number.clone(), m.name.clone()));
        assert_eq!(member, expected, "line {}", shown.id);
    }
    assert_eq!(s.lines[1].description, "Unilevel commission");
    assert_eq!(s.lines[1].rate.as_deref(), Some("5.00%"));
    assert_eq!(s.lines[3].amount, "-USD 7.50");

    // Subtotals by kind, in the plan's order, add up to the total.
    let kinds: Vec<(&str, &str, u32)> = s
        .by_kind
        .iter()
        .map(|k| (k.label.as_str(), k.total.as_str(), k.lines))
        .collect();
    assert_eq!(
        kinds,
        [
            ("Retail profit", "USD 12.50", 1),
            ("Fast start bonus", "USD 50.00", 1),
            ("Unilevel commission", "USD 35.00", 2),
            ("Clawback", "-USD 7.50", 1),
        ]
    );
    assert_eq!(
        s.by_kind.iter().map(|k| k.total_minor).sum::<i64>(),
        s.total_minor
    );

    // The CSV: a header and one row per line, plain decimals, formulas defused.
    let dir = tempfile::tempdir().unwrap();
    let saved = export(&store, "2026-10", dir.path()).unwrap();
    assert_eq!(saved.rows, 5);
    let text = std::fs::read_to_string(&saved.path).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 5);
    let amounts: Vec<&str> = rows.iter().map(|r| &r[column("Amount")]).collect();
    assert_eq!(amounts, ["12.50", "20.00", "50.00", "-7.50", "15.00"]);
    assert_eq!(&rows[2][column("Rule")], "'=HYPERLINK(\"http://x\")");
    assert_eq!(&rows[1][column("Member")], team[0].display_name);
    assert_eq!(&rows[1][column("Member number")], team[0].number);
    assert_eq!(&rows[1][column("Order")], orders[1].get().to_string());
    assert_eq!(&rows[1][column("Rate (%)")], "5.00");
    assert_eq!(&rows[0][column("Status")], "Final");
    let again = export(&store, "2026-10", dir.path()).unwrap();
    assert_ne!(
        again.path, saved.path,
        "an earlier export is never overwritten"
    );

    // A long statement: the screen lists the first lines, the subtotals and the CSV
    // cover them all.
    let september = Period::parse("2026-09").unwrap();
    let long = 1_203_i64;
    store
        .write(|w| {
            for id in 0..long {
                let (kind, member) = if id % 3 == 0 {
                    (EarningsKind::Matching, b)
                } else {
                    (EarningsKind::Unilevel, a)
                };
                let order = orders[id as usize % orders.len()];
                w.put_earnings_line(&line(
                    100 + id,
                    september,
                    me,
                    100,
                    kind,
                    Some(order),
                    Some(member),
                    "Plan",
                ))?;
            }
            w.put_statement(
                september,
                StatementStatus::Final,
                Money::new(100 * long, Currency::USD),
            )
        })
        .unwrap();
    let s = statement_of(&store, "2026-09").unwrap();
    assert_eq!(s.lines.len(), SHOWN as usize);
    assert_eq!(s.lines.len() as u32 + s.more_lines, long as u32);
    let kinds: Vec<(&str, i64, u32)> = s
        .by_kind
        .iter()
        .map(|k| (k.label.as_str(), k.total_minor, k.lines))
        .collect();
    assert_eq!(
        kinds,
        [
            ("Unilevel commission", 80_200, 802),
            ("Matching bonus", 40_100, 401)
        ]
    );
    let saved = export(&store, "2026-09", dir.path()).unwrap();
    assert_eq!(saved.rows, long as u64);
    let text = std::fs::read_to_string(&saved.path).unwrap();
    assert_eq!(
        csv::Reader::from_reader(text.as_bytes()).records().count(),
        long as usize
    );

    // A period that is not one, or has no statement: a message saying so.
    let cases = [
        ("Nov 2026", "like 2026-11"),
        ("2026-13", "like 2026-11"),
        ("2026-01", "There is no statement for January 2026"),
    ];
    for (period, message) in cases {
        match statement_of(&store, period) {
            Err(CommandError::Invalid(text)) => assert!(text.contains(message), "{text}"),
            other => panic!("{period}: {other:?}"),
        }
    }
    assert!(matches!(
        export(&store, "bad", dir.path()),
        Err(CommandError::Invalid(_))
    ));
}
