//! A tiny deterministic random generator (SplitMix64) for the seeded demo company, written
//! out here so that the same seed gives the same company on every build and platform.

/// SplitMix64 (Steele, Lea, Flood 2014): fast, well mixed, and fixed forever, unlike a
/// library generator whose stream may change between releases.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// An independent stream for one purpose (`stream`) and one item (`index`), so that a
    /// member's details do not depend on how many members were made before them.
    pub(crate) fn derive(seed: u64, stream: u64, index: u64) -> Self {
        Self(mix(seed ^ mix(stream.wrapping_mul(GOLDEN) ^ mix(index))))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        mix(self.0)
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; the bias is below 2^-40 for our sizes).
    /// `n == 0` gives 0.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    /// True with probability `per_mille / 1000`.
    pub(crate) fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    /// One item of a non-empty slice (the first for an empty one would be out of bounds,
    /// so callers pass only constant, non-empty tables).
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// An index into `weights`, chosen in proportion to them.
    pub(crate) fn weighted(&mut self, weights: &[u64]) -> usize {
        let total: u64 = weights.iter().sum();
        let mut roll = self.below(total);
        for (index, &weight) in weights.iter().enumerate() {
            if roll < weight {
                return index;
            }
            roll -= weight;
        }
        weights.len().saturating_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_fixed_and_independent() {
        let mut a = Rng::derive(7, 1, 42);
        let mut b = Rng::derive(7, 1, 42);
        let first: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        assert_eq!(first, (0..4).map(|_| b.next_u64()).collect::<Vec<_>>());
        assert_ne!(Rng::derive(7, 1, 43).next_u64(), first[0]);
        assert_ne!(Rng::derive(8, 1, 42).next_u64(), first[0]);
        assert_ne!(Rng::derive(7, 2, 42).next_u64(), first[0]);
    }

    #[test]
    fn helpers_stay_in_range() {
        let mut rng = Rng::derive(1, 2, 3);
        for _ in 0..1000 {
            assert!(rng.below(10) < 10);
            assert!((5..=9).contains(&rng.range(5, 9)));
            assert!(rng.weighted(&[1, 0, 3]) != 1);
        }
        assert_eq!(rng.below(0), 0);
    }
}
