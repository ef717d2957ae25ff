//! Ranks: ordered levels on a ladder that the compensation plan defines as data, so that a
//! new rank is a plan change, not a release. Level 0 is the entry rank; higher is better.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Position on the rank ladder; ordering is by level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RankLevel(u16);

impl RankLevel {
    pub const fn new(level: u16) -> Self {
        Self(level)
    }

    pub const fn get(self) -> u16 {
        self.0
    }
}

impl fmt::Display for RankLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A rank as members see it: its level and the plan's display name ("Gold", "Diamond").
/// Ordered by level first (then name, which a valid ladder never needs).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Rank {
    pub level: RankLevel,
    pub name: String,
}

impl Rank {
    pub fn new(level: u16, name: impl Into<String>) -> Self {
        Self {
            level: RankLevel(level),
            name: name.into(),
        }
    }
}

impl fmt::Display for Rank {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// Why a plan's rank ladder was refused (shown to the admin editing the plan).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RankLadderError {
    #[error("A rank ladder needs at least one rank")]
    Empty,
    #[error("Rank levels must go up one rank at a time; level {0} is out of order")]
    OutOfOrder(RankLevel),
    #[error("Every rank needs a name (level {0} has none)")]
    BlankName(RankLevel),
    #[error("Two ranks are called \"{0}\"")]
    DuplicateName(String),
}

/// The plan's ranks, lowest first, with strictly increasing levels and distinct names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Rank>", into = "Vec<Rank>")]
pub struct RankLadder(Vec<Rank>);

impl RankLadder {
    pub fn new(ranks: Vec<Rank>) -> Result<Self, RankLadderError> {
        if ranks.is_empty() {
            return Err(RankLadderError::Empty);
        }
        for (i, rank) in ranks.iter().enumerate() {
            if rank.name.trim().is_empty() {
                return Err(RankLadderError::BlankName(rank.level));
            }
            if i > 0 && ranks[i - 1].level >= rank.level {
                return Err(RankLadderError::OutOfOrder(rank.level));
            }
            if ranks[..i].iter().any(|r| r.name == rank.name) {
                return Err(RankLadderError::DuplicateName(rank.name.clone()));
            }
        }
        Ok(Self(ranks))
    }

    pub fn ranks(&self) -> &[Rank] {
        &self.0
    }

    /// The entry rank (a ladder is never empty, but this stays total anyway).
    pub fn lowest(&self) -> Option<&Rank> {
        self.0.first()
    }

    pub fn get(&self, level: RankLevel) -> Option<&Rank> {
        self.0
            .binary_search_by_key(&level, |r| r.level)
            .ok()
            .map(|i| &self.0[i])
    }

    /// The next rank to reach from `level`, for "progress to next rank" displays.
    pub fn next_above(&self, level: RankLevel) -> Option<&Rank> {
        self.0.iter().find(|r| r.level > level)
    }
}

impl TryFrom<Vec<Rank>> for RankLadder {
    type Error = RankLadderError;
    fn try_from(ranks: Vec<Rank>) -> Result<Self, Self::Error> {
        Self::new(ranks)
    }
}

impl From<RankLadder> for Vec<Rank> {
    fn from(ladder: RankLadder) -> Self {
        ladder.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ladder() -> RankLadder {
        RankLadder::new(vec![
            Rank::new(0, "Member"),
            Rank::new(1, "Silver"),
            Rank::new(2, "Gold"),
            Rank::new(5, "Diamond"),
        ])
        .unwrap()
    }

    #[test]
    fn ranks_order_by_level() {
        assert!(Rank::new(1, "Silver") < Rank::new(2, "Gold"));
        assert!(RankLevel::new(5) > RankLevel::new(2));
        assert_eq!(Rank::new(2, "Gold").to_string(), "Gold");
    }

    #[test]
    fn ladder_lookups() {
        let l = ladder();
        assert_eq!(l.lowest().map(|r| r.name.as_str()), Some("Member"));
        assert_eq!(
            l.get(RankLevel::new(5)).map(|r| r.name.as_str()),
            Some("Diamond")
        );
        assert_eq!(l.get(RankLevel::new(3)), None);
        assert_eq!(
            l.next_above(RankLevel::new(2)).map(|r| r.name.as_str()),
            Some("Diamond")
        );
        assert_eq!(l.next_above(RankLevel::new(5)), None);
    }

    #[test]
    fn refuses_malformed_ladders_with_reasons() {
        let cases = [
            (vec![], "A rank ladder needs at least one rank"),
            (
                vec![Rank::new(1, "Silver"), Rank::new(1, "Gold")],
                "Rank levels must go up one rank at a time; level 1 is out of order",
            ),
            (
                vec![Rank::new(0, "Member"), Rank::new(1, "  ")],
                "Every rank needs a name (level 1 has none)",
            ),
            (
                vec![Rank::new(0, "Gold"), Rank::new(1, "Gold")],
                "Two ranks are called \"Gold\"",
            ),
        ];
        for (ranks, message) in cases {
            assert_eq!(RankLadder::new(ranks).unwrap_err().to_string(), message);
        }
    }

    #[test]
    fn ladder_serde_validates() {
        let json = serde_json::to_string(&ladder()).unwrap();
        assert!(json.starts_with(r#"[{"level":0,"name":"Member"}"#));
        assert_eq!(serde_json::from_str::<RankLadder>(&json).unwrap(), ladder());
        assert!(serde_json::from_str::<RankLadder>("[]").is_err());
    }
}
