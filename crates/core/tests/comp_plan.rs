//! Plan loading and validation (each refusal with its exact message), and the input errors
//! of the tree and the run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "comp_support.rs"]
mod support;

use canopy_core::comp::{Plan, RunError, Tree, TreeError, run_period};
use canopy_core::{Currency, EarningsLineId, MemberId, OrderId, RankLevel};
use support::*;

/// A small valid plan; each case edits one line of it.
const BASE: &str = r#"
version = 1
name = "Base"
currency = "USD"
period = "monthly"

[[rank]]
level = 0
name = "Member"
unilevel_depth = 1

[[rank]]
level = 1
name = "Silver"
unilevel_depth = 2
requires = { min_pv = "100" }

[[rank]]
level = 3
name = "Gold"
unilevel_depth = 3
advancement_bonus = "250.00"
requires = { min_gv = "3000", max_leg_share_bps = 5000, legs = { count = 2, min_rank = 1 } }

[[unilevel]]
level = 1
rate_bps = 500

[[unilevel]]
level = 2
rate_bps = 300

[[unilevel]]
level = 3
rate_bps = 200
"#;

fn check(from: &str, to: &str, expected: &str) {
    assert!(BASE.contains(from), "case edits nothing: {from}");
    let text = BASE.replacen(from, to, 1);
    let got = Plan::from_toml(&text)
        .map(|_| ())
        .map_err(|e| e.to_string());
    assert_eq!(got, Err(expected.to_owned()), "{from} → {to}");
}

#[test]
fn the_shipped_plans_and_the_base_load() {
    let demo = demo();
    assert_eq!((demo.version(), demo.name()), (1, "Canopy Demo Plan"));
    let names: Vec<&str> = demo.ranks().iter().map(|r| r.rank.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Member", "Bronze", "Silver", "Gold", "Platinum", "Diamond", "Crown"
        ]
    );
    assert_eq!(demo.unilevel_levels(), 7);
    let crown = demo.rank(RankLevel::new(6)).unwrap();
    assert_eq!(crown.unilevel_depth, 7);
    assert_eq!(
        demo.unilevel_rate(7),
        Some(canopy_core::BasisPoints::new(100))
    );
    // Every currency the demo company's seed sells in besides USD has a rate.
    let rates: Vec<String> = demo
        .exchange_rates()
        .iter()
        .map(|r| format!("{} {r}", r.currency()))
        .collect();
    assert_eq!(
        rates,
        [
            "BRL 0.2",
            "EUR 1.085",
            "GBP 1.265",
            "JPY 0.006667",
            "MXN 0.0588",
            "PLN 0.25"
        ]
    );
    assert_eq!(
        demo.exchange_rate(Currency::JPY).map(|r| r.millionths()),
        Some(6_667)
    );
    assert!(demo.exchange_rate(Currency::USD).is_none());
    assert!(demo.exchange_rate(Currency::CHF).is_none());
    assert!(demo.fast_start().is_some());
    let compact = compact();
    assert_eq!(compact.currency(), Currency::EUR);
    assert_eq!(compact.ranks().len(), 4);
    let rates: Vec<String> = compact
        .exchange_rates()
        .iter()
        .map(|r| format!("{} {r}", r.currency()))
        .collect();
    assert_eq!(rates, ["JPY 0.0062", "USD 0.92"]);
    assert!(compact.fast_start().is_none());
    let base = Plan::from_toml(BASE).unwrap();
    assert!(base.exchange_rates().is_empty());
    let gold = base.rank(RankLevel::new(3)).unwrap();
    let cap = gold.requirements.min_gv.unwrap().leg_cap().unwrap();
    assert_eq!(cap.to_string(), "1,500.00 GV");
}

#[test]
fn refuses_invalid_plans_with_specific_messages() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "version = 1",
            "version = 2",
            "plan version 2 is not supported: this engine reads version 1",
        ),
        (r#"name = "Base""#, r#"name = " ""#, "the plan needs a name"),
        (
            r#"currency = "USD""#,
            r#"currency = "usd""#,
            "currency \"usd\" is not a three-letter code like USD",
        ),
        (
            "level = 3\nname = \"Gold\"",
            "level = 1\nname = \"Gold\"",
            "rank ladder: Rank levels must go up one rank at a time; level 1 is out of order",
        ),
        (
            r#"name = "Gold""#,
            r#"name = "Silver""#,
            "rank ladder: Two ranks are called \"Silver\"",
        ),
        (
            "min_rank = 1",
            "min_rank = 5",
            "rank 3 'Gold' requires a qualified leg rank 5 that is not below it",
        ),
        (
            "min_rank = 1",
            "min_rank = 3",
            "rank 3 'Gold' requires a qualified leg rank 3 that is not below it",
        ),
        (
            "min_rank = 1",
            "min_rank = 2",
            "rank 3 'Gold' requires a qualified leg rank 2, which is not on the ladder",
        ),
        (
            "count = 2",
            "count = 0",
            "rank 3 'Gold' requires 0 qualified legs: remove the rule or ask for at least 1",
        ),
        (
            "max_leg_share_bps = 5000",
            "max_leg_share_bps = 12000",
            "rank 3 'Gold' counts at most 120.00% of its GV from one leg: the share must be between 0.01% and 100%",
        ),
        (
            "max_leg_share_bps = 5000",
            "max_leg_share_bps = 0",
            "rank 3 'Gold' counts at most 0.00% of its GV from one leg: the share must be between 0.01% and 100%",
        ),
        (
            r#"min_gv = "3000", "#,
            "",
            "rank 3 'Gold' sets max_leg_share_bps without min_gv: the cap is a share of the GV requirement",
        ),
        (
            r#"min_pv = "100""#,
            r#"min_pv = "1.234""#,
            "rank 1 'Silver': min_pv \"1.234\" is not valid: Volumes have at most 2 decimal places",
        ),
        (
            r#"min_pv = "100""#,
            r#"min_pv = "-5""#,
            "rank 1 'Silver': min_pv must not be negative",
        ),
        (
            r#"advancement_bonus = "250.00""#,
            r#"advancement_bonus = "2.505""#,
            "rank 3 'Gold': advancement_bonus \"2.505\" is not valid: USD amounts have at most 2 decimal places",
        ),
        (
            "unilevel_depth = 1\n",
            "unilevel_depth = 1\nrequires = { active = true }\n",
            "the lowest rank 'Member' must have no requirements: every member holds it",
        ),
        (
            "rate_bps = 200",
            "rate_bps = 12000",
            "unilevel level 3 rate is 120.00%: rates must be at most 100%",
        ),
        (
            "level = 3\nrate_bps",
            "level = 2\nrate_bps",
            "unilevel level 2 is listed twice",
        ),
        (
            "level = 2\nrate_bps",
            "level = 4\nrate_bps",
            "unilevel levels must run 1, 2, 3, … without gaps: level 2 is missing",
        ),
        (
            "unilevel_depth = 3",
            "unilevel_depth = 2",
            "unilevel level 3 is not unlocked by any rank (the deepest rank is paid 2 levels)",
        ),
        (
            "unilevel_depth = 3",
            "unilevel_depth = 7",
            "rank 3 'Gold' is paid 7 unilevel levels but the plan has only 3",
        ),
    ];
    for (from, to, expected) in cases {
        check(from, to, expected);
    }
}

#[test]
fn refuses_bad_exchange_rates_naming_the_currency() {
    let cases: &[(&str, &str)] = &[
        (
            r#"EUD = "1.1""#,
            r#"exchange_rates: "EUD" is not the ISO 4217 code of a currency in circulation"#,
        ),
        (
            r#"eur = "1.1""#,
            r#"exchange_rates: "eur" is not the ISO 4217 code of a currency in circulation"#,
        ),
        (
            r#"XAU = "2650""#,
            r#"exchange_rates: "XAU" is not the ISO 4217 code of a currency in circulation"#,
        ),
        (
            r#"USD = "1""#,
            "exchange_rates: USD is the plan's own currency, which needs no rate (it is always 1)",
        ),
        (
            r#"EUR = "0""#,
            r#"exchange_rates: the rate for EUR ("0") is not valid: a rate must be greater than zero"#,
        ),
        (
            r#"EUR = "-1.085""#,
            r#"exchange_rates: the rate for EUR ("-1.085") is not valid: a rate must be greater than zero"#,
        ),
        (
            r#"JPY = "0.0066667""#,
            r#"exchange_rates: the rate for JPY ("0.0066667") is not valid: a rate has at most 6 decimal places"#,
        ),
        (
            r#"EUR = "1.08.5""#,
            r#"exchange_rates: the rate for EUR ("1.08.5") is not valid: write it as a decimal string like "1.0850""#,
        ),
        (
            r#"EUR = "2000000""#,
            r#"exchange_rates: the rate for EUR ("2000000") is not valid: a rate is at most 1,000,000"#,
        ),
        (
            "EUR = 1.085",
            r#"exchange_rates: the rate for EUR (1.085) is not valid: write it in quotes, as a decimal string like "1.0850", so no float gets in"#,
        ),
        (
            "GBP = 2",
            r#"exchange_rates: the rate for GBP (2) is not valid: write it in quotes, as a decimal string like "1.0850", so no float gets in"#,
        ),
    ];
    for (rate, expected) in cases {
        // A valid rate first: the bad one is reported by name, not just the first one.
        let text = format!("{BASE}\n[exchange_rates]\nCAD = \"0.73\"\n{rate}\n");
        let got = Plan::from_toml(&text)
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert_eq!(got, Err((*expected).to_owned()), "{rate}");
    }
    let text = format!("{BASE}\n[exchange_rates]\nJPY = \"0.0066\"\nCAD = \"0.7300\"\n");
    let plan = Plan::from_toml(&text).unwrap();
    let codes: Vec<Currency> = plan.exchange_rates().iter().map(|r| r.currency()).collect();
    assert_eq!(codes, [Currency::CAD, Currency::JPY]);
}

#[test]
fn refuses_unknown_keys_and_fast_start_over_100_percent() {
    let text = BASE.replacen("unilevel_depth = 2", "unilevel_depth = 2\nbinary = true", 1);
    let err = Plan::from_toml(&text).unwrap_err().to_string();
    assert!(err.starts_with("the plan is not valid: "), "{err}");
    assert!(err.contains("unknown field `binary`"), "{err}");

    let text = BASE.replacen(r#"period = "monthly""#, r#"period = "weekly""#, 1);
    let err = Plan::from_toml(&text).unwrap_err().to_string();
    assert!(err.contains("unknown variant `weekly`"), "{err}");

    let text = format!("{BASE}\n[fast_start]\nrate_bps = 15000\n");
    let err = Plan::from_toml(&text).unwrap_err().to_string();
    assert_eq!(
        err,
        "fast start rate is 150.00%: rates must be at most 100%"
    );
}

#[test]
fn tree_input_errors() {
    let cases = [
        (
            vec![member(1, None), member(1, None)],
            TreeError::DuplicateMember(MemberId::new(1)),
            "member 1 appears twice in the tree",
        ),
        (
            vec![member(1, None), member(2, Some(9))],
            TreeError::UnknownSponsor {
                member: MemberId::new(2),
                sponsor: MemberId::new(9),
            },
            "member 2's sponsor 9 is not in the tree",
        ),
        (
            vec![member(1, None), member(2, Some(3)), member(3, Some(2))],
            TreeError::Cycle(MemberId::new(2)),
            "member 2 is its own upline (the sponsor chain loops)",
        ),
    ];
    for (members, err, message) in cases {
        let got = Tree::new(members).unwrap_err();
        assert_eq!(got, err);
        assert_eq!(got.to_string(), message);
    }
}

#[test]
fn run_input_errors() {
    let plan = demo();
    let tree = Tree::new(vec![member(1, None), member(2, Some(1))]).unwrap();
    let usd = Currency::USD;
    let mut negative = order(3, 2, 1, 100, usd);
    negative.pv = canopy_core::Pv::from_hundredths(-1);
    let cases = [
        (
            vec![order(1, 7, 1, 100, usd)],
            "order #1 was placed by member 7, who is not in the tree",
        ),
        (
            vec![order(1, 2, 1, 100, Currency::CHF)],
            "order #1 is in CHF but the plan pays in USD and has no exchange rate for CHF",
        ),
        (
            vec![negative],
            "order #3 has a negative volume or amount: a refund is a status, not a negative order",
        ),
        (
            vec![order(4, 2, 1, 100, usd), order(4, 1, 1, 100, usd)],
            "order #4 is listed twice",
        ),
    ];
    for (orders, message) in cases {
        let err = run_period(
            &plan,
            &tree,
            period("2026-11"),
            &orders,
            EarningsLineId::new(1),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), message);
    }
    assert!(matches!(
        run_period(&plan, &tree, period("2026-11"), &[order(4, 2, 1, 100, usd), order(4, 1, 1, 100, usd)], EarningsLineId::new(1)),
        Err(RunError::DuplicateOrder(o)) if o == OrderId::new(4)
    ));
}
