//! Earnings line ids derived from the period: period `p` owns ids
//! `[p.index() × 10¹⁰, (p.index() + 1) × 10¹⁰)`, run lines first, corrections from the middle.
//!
//! So a rerun numbers every line as before (the engine sorts lines deterministically), and
//! replacing a period is deleting one range of the primary key. The storage backends use
//! the same span (`PERIOD_ID_SPAN`).

use canopy_core::{EarningsLineId, Period};

/// Ids one period owns.
pub const PERIOD_SPAN: i64 = 10_000_000_000;
/// Where a period's corrections start: 5 × 10⁹ run lines is beyond any company.
pub const CORRECTIONS_OFFSET: i64 = 5_000_000_000;

/// The first id of `period`'s range.
pub fn base(period: Period) -> i64 {
    i64::from(period.index()) * PERIOD_SPAN
}

/// The id of the run's first line.
pub fn first_run_line(period: Period) -> EarningsLineId {
    EarningsLineId::new(base(period) + 1)
}

/// The id of a correction after `already` corrections of the same run.
pub fn first_correction_line(period: Period, already: usize) -> EarningsLineId {
    let already = i64::try_from(already).unwrap_or(CORRECTIONS_OFFSET - 1);
    EarningsLineId::new(base(period) + CORRECTIONS_OFFSET + 1 + already)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_own_disjoint_ranges() {
        let oct = Period::parse("2026-10").unwrap();
        let nov = Period::parse("2026-11").unwrap();
        assert_eq!(base(nov) - base(oct), PERIOD_SPAN);
        assert!(first_correction_line(oct, 0).get() < base(nov));
        assert!(first_run_line(oct).get() < first_correction_line(oct, 0).get());
    }
}
