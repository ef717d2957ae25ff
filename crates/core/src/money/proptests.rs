//! Property tests for money: arithmetic never panics, round-trips hold, and the half-to-even
//! rounding rule behaves as documented for every input proptest can find.

use proptest::prelude::*;

use super::{BasisPoints, Currency, Money, MoneyError};

fn currency() -> impl Strategy<Value = Currency> {
    prop_oneof![
        Just(Currency::USD),
        Just(Currency::EUR),
        Just(Currency::JPY),
        Just(Currency::KWD),
        "[A-Z]{3}".prop_map(|c| Currency::parse(&c).unwrap()),
    ]
}

fn money() -> impl Strategy<Value = Money> {
    (any::<i64>(), currency()).prop_map(|(m, c)| Money::new(m, c))
}

/// Amounts small enough that sums of a few of them cannot overflow.
fn modest(c: Currency) -> impl Strategy<Value = Money> {
    (-1_000_000_000_000i64..1_000_000_000_000).prop_map(move |m| Money::new(m, c))
}

proptest! {
    #[test]
    fn arithmetic_never_panics(a in money(), b in money(), k in any::<i64>(), bps in any::<u32>(), d in any::<i64>()) {
        let _ = a.checked_add(b);
        let _ = a.checked_sub(b);
        let _ = a.checked_mul(k);
        let _ = a.checked_neg();
        let _ = a.checked_mul_bps(BasisPoints::new(bps));
        let _ = a.checked_mul_ratio(k, d);
        let _ = a.to_string();
    }

    #[test]
    fn add_then_sub_gives_back_the_original(a in money(), b in any::<i64>()) {
        let b = Money::new(b, a.currency());
        if let Ok(sum) = a.checked_add(b) {
            prop_assert_eq!(sum.checked_sub(b), Ok(a));
        } else {
            prop_assert_eq!(a.checked_add(b), Err(MoneyError::Overflow));
        }
    }

    #[test]
    fn add_matches_wide_integer_addition(a in money(), b in any::<i64>()) {
        let b = Money::new(b, a.currency());
        let wide = i128::from(a.minor()) + i128::from(b.minor());
        match a.checked_add(b) {
            Ok(sum) => prop_assert_eq!(i128::from(sum.minor()), wide),
            Err(e) => {
                prop_assert_eq!(e, MoneyError::Overflow);
                prop_assert!(i64::try_from(wide).is_err());
            }
        }
    }

    #[test]
    fn mismatched_currencies_always_error(a in money(), b in money()) {
        prop_assume!(a.currency() != b.currency());
        let mismatch = MoneyError::CurrencyMismatch { left: a.currency(), right: b.currency() };
        prop_assert_eq!(a.checked_add(b), Err(mismatch));
        prop_assert_eq!(a.checked_sub(b), Err(mismatch));
        prop_assert_eq!(a.checked_cmp(b), Err(mismatch));
    }

    #[test]
    fn sum_equals_fold(c in currency(), items in prop::collection::vec(any::<i64>(), 0..20)) {
        let amounts: Vec<Money> = items.iter().map(|&m| Money::new(m, c)).collect();
        let folded = amounts.iter().try_fold(Money::zero(c), |acc, &m| acc.checked_add(m));
        prop_assert_eq!(Money::checked_sum(c, amounts.iter().copied()), folded);
    }

    #[test]
    fn sum_of_modest_amounts_is_the_integer_sum(
        items in prop::collection::vec(modest(Currency::EUR), 0..50)
    ) {
        let expected: i64 = items.iter().map(|m| m.minor()).sum();
        prop_assert_eq!(Money::checked_sum(Currency::EUR, items), Ok(Money::new(expected, Currency::EUR)));
    }

    #[test]
    fn sum_with_a_foreign_amount_errors(
        items in prop::collection::vec(modest(Currency::USD), 0..10),
        foreign in modest(Currency::EUR),
        at in any::<prop::sample::Index>(),
    ) {
        let mut items = items;
        let i = at.index(items.len() + 1);
        items.insert(i, foreign);
        let result = Money::checked_sum(Currency::USD, items);
        let is_mismatch = matches!(result, Err(MoneyError::CurrencyMismatch { .. }));
        prop_assert!(is_mismatch);
    }

    #[test]
    fn display_then_parse_round_trips(m in money()) {
        let shown = m.to_string();
        prop_assert_eq!(shown.parse::<Money>(), Ok(m));
    }

    #[test]
    fn typed_amount_round_trips_without_code(m in money()) {
        // What the UI pre-fills in an edit field: the display form without the code.
        let shown = m.to_string();
        let amount = shown.replacen(&format!("{} ", m.currency()), "", 1);
        prop_assert_eq!(Money::parse_amount(&amount, m.currency()), Ok(m));
    }

    #[test]
    fn parse_amount_never_panics(s in "\\PC*", c in currency()) {
        let _ = Money::parse_amount(&s, c);
        let _ = s.parse::<Money>();
    }

    #[test]
    fn bps_result_is_within_half_a_minor_unit(m in money(), bps in any::<u32>()) {
        if let Ok(r) = m.checked_mul_bps(BasisPoints::new(bps)) {
            let exact_x10000 = i128::from(m.minor()) * i128::from(bps);
            let error = (i128::from(r.minor()) * 10_000 - exact_x10000).abs();
            prop_assert!(error * 2 <= 10_000, "error {error} for {m} × {bps}");
            if error * 2 == 10_000 {
                prop_assert_eq!(r.minor() % 2, 0, "a tie must go to the even neighbour");
            }
        }
    }

    #[test]
    fn bps_is_symmetric_around_zero(m in modest(Currency::USD), bps in any::<u32>()) {
        let neg = m.checked_neg().unwrap();
        let a = m.checked_mul_bps(BasisPoints::new(bps)).unwrap();
        let b = neg.checked_mul_bps(BasisPoints::new(bps)).unwrap();
        prop_assert_eq!(b, a.checked_neg().unwrap());
    }

    #[test]
    fn bps_is_monotonic_in_the_amount(a in modest(Currency::USD), b in modest(Currency::USD), bps in 0u32..100_000) {
        let (lo, hi) = if a.minor() <= b.minor() { (a, b) } else { (b, a) };
        let rate = BasisPoints::new(bps);
        prop_assert!(lo.checked_mul_bps(rate).unwrap().minor() <= hi.checked_mul_bps(rate).unwrap().minor());
    }

    #[test]
    fn hundred_percent_is_identity_and_zero_is_zero(m in money()) {
        prop_assert_eq!(m.checked_mul_bps(BasisPoints::ONE_HUNDRED_PERCENT), Ok(m));
        prop_assert_eq!(m.checked_mul_bps(BasisPoints::ZERO), Ok(Money::zero(m.currency())));
    }
}
