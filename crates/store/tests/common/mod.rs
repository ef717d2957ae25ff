//! Shared helpers of the store's integration tests: members built from a few numbers, and a
//! fresh encrypted cache in a temp dir.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use canopy_core::{
    CountryCode, Member, MemberId, MemberNumber, MemberStatus, Period, PersonName, Placement,
    Position, Rank,
};
use canopy_store::{CacheKey, Store};
use time::Month;
use time::macros::date;

pub const RANK_NAMES: [&str; 5] = ["Member", "Bronze", "Silver", "Gold", "Diamond"];

pub fn period(month: u8) -> Period {
    Period::new(2026, Month::try_from(month).unwrap()).unwrap()
}

/// A member with id `id`, enrolled (and placed) by `sponsor`.
pub fn member(id: i64, sponsor: Option<i64>, rank: u16) -> Member {
    let first = ["Anna", "Zoë", "Liam", "Mia", "Noah", "Ada", "Omar", "Yuki"][id as usize % 8];
    Member {
        id: MemberId::new(id),
        number: MemberNumber::parse(&format!("{:08}", 10_000_000 + id)).unwrap(),
        sponsor: sponsor.map(MemberId::new),
        placement: sponsor.map(|s| Placement {
            parent: MemberId::new(s),
            position: Position::Unilevel(0),
        }),
        rank: Rank::new(rank, RANK_NAMES[usize::from(rank) % RANK_NAMES.len()]),
        status: if id % 5 == 0 {
            MemberStatus::Inactive
        } else {
            MemberStatus::Active
        },
        joined_on: date!(2024 - 01 - 01) + time::Duration::days(id % 700),
        country: CountryCode::parse(["DE", "FR", "US", "JP"][id as usize % 4]).unwrap(),
        display_name: PersonName::parse(&format!("{first} {}", letters(id))).unwrap(),
        personal: None,
    }
}

/// A new, empty, encrypted cache in its own temp dir (kept alive by the returned guard).
pub fn fresh_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("cache.db"), CacheKey::generate().unwrap()).unwrap();
    (dir, store)
}

/// `id` in letters (names may not hold digits): 1 → "B", 27 → "BB".
pub fn letters(mut id: i64) -> String {
    let mut out = String::new();
    loop {
        out.insert(0, char::from(b'A' + (id % 26) as u8));
        id /= 26;
        if id == 0 {
            break;
        }
    }
    out
}
