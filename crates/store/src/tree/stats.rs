//! A member's subtree aggregates (team size, members per rank, members per level below)
//! and their compact on-disk form: little-endian `u32` arrays in one BLOB each.
//!
//! Hand-written rather than a serialisation crate: the format is two flat arrays that the
//! hot path reads with one row fetch, and a fixed-width encoding keeps decode trivial.

use crate::error::StoreError;

/// Aggregates of everyone *below* a member (the member excluded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub team_size: u64,
    /// `ranks[r]`: members below holding rank level `r`.
    pub ranks: Vec<u32>,
    /// `levels[k]`: members exactly `k + 1` levels below.
    pub levels: Vec<u32>,
}

/// Adds `sign × counts` into `into` starting at `offset`, growing it as needed, then drops
/// trailing zeros so equal aggregates always encode the same.
pub(crate) fn add_counts(
    into: &mut Vec<u32>,
    offset: usize,
    counts: &[u32],
    sign: i64,
) -> Result<(), StoreError> {
    if into.len() < offset + counts.len() {
        into.resize(offset + counts.len(), 0);
    }
    for (slot, &c) in into[offset..].iter_mut().zip(counts) {
        let next = i64::from(*slot) + sign * i64::from(c);
        *slot = u32::try_from(next)
            .map_err(|_| StoreError::Invalid(format!("subtree count out of range: {next}")))?;
    }
    while into.last() == Some(&0) {
        into.pop();
    }
    Ok(())
}

pub(crate) fn encode(counts: &[u32]) -> Vec<u8> {
    counts.iter().flat_map(|c| c.to_le_bytes()).collect()
}

pub(crate) fn decode(blob: &[u8]) -> Result<Vec<u32>, StoreError> {
    if !blob.len().is_multiple_of(4) {
        return Err(StoreError::Invalid(
            "a subtree aggregate is damaged (length not a multiple of 4)".into(),
        ));
    }
    Ok(blob
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_round_trip_and_trim() {
        let mut v = vec![];
        add_counts(&mut v, 2, &[1, 3], 1).unwrap();
        assert_eq!(v, [0, 0, 1, 3]);
        assert_eq!(decode(&encode(&v)).unwrap(), v);
        add_counts(&mut v, 3, &[3], -1).unwrap();
        assert_eq!(v, [0, 0, 1]);
        assert!(add_counts(&mut v, 0, &[1], -1).is_err());
        assert!(decode(&[1, 2, 3]).is_err());
    }
}
