//! Turns one node of the skeleton into a member record: number, name, rank, status, join
//! date and personal details, from a random stream of its own (independent of batching).

use canopy_core::{
    AddressLine, CountryCode, Email, MemberId, MemberNumber, MemberStatus, PersonName,
    PersonalDetails, Phone, Placement, Position, PostalAddress, PostalCode, RankLevel, TaxId,
};
use time::{Date, Duration};

use super::SeedError;
use super::locales::{LOCALES, Locale, ascii_slug};
use super::rng::Rng;
use super::tree::{NONE, SPAN_DAYS, Skeleton};
use crate::storage::{MemberRecord, NewMember};

const STREAM_PERSON: u64 = 2;
const STREAM_STANDING: u64 = 3;

/// The ranks of the demo plan, lowest first: name, then the downline and the personal
/// enrollees that qualify for it.
pub const RANKS: [(&str, u32, u32); 7] = [
    ("Member", 0, 0),
    ("Bronze", 3, 2),
    ("Silver", 10, 3),
    ("Gold", 50, 4),
    ("Platinum", 250, 5),
    ("Diamond", 1_000, 6),
    ("Crown", 10_000, 8),
];

/// Status and rank of member `index`: derived only from its own stream and downline, so the
/// demo can pick active leaders before the members are materialised.
pub(crate) fn standing(sk: &Skeleton, seed: u64, index: usize) -> (MemberStatus, RankLevel) {
    let mut rng = Rng::derive(seed, STREAM_STANDING, index as u64);
    let (downline, enrollees) = (sk.downline[index], sk.enrollees[index]);
    let qualified = RANKS
        .iter()
        .rposition(|&(_, team, personal)| downline >= team && enrollees >= personal)
        .unwrap_or(0);
    if index == 0 {
        return (MemberStatus::Active, RankLevel::new(qualified as u16));
    }
    // Leaders (a real downline) rarely leave; newcomers often go quiet.
    let weights: [u64; 5] = if downline >= 10 {
        [920, 70, 5, 5, 0]
    } else {
        [780, 160, 25, 30, 5]
    };
    let status = [
        MemberStatus::Active,
        MemberStatus::Inactive,
        MemberStatus::Suspended,
        MemberStatus::Terminated,
        MemberStatus::Erased,
    ][rng.weighted(&weights)];
    // Not everyone who could qualify did this period: one in five sits a rank lower.
    let level = if qualified > 0 && rng.chance(200) {
        qualified - 1
    } else {
        qualified
    };
    (status, RankLevel::new(level as u16))
}

pub(crate) fn member_id(index: usize) -> MemberId {
    MemberId::new(index as i64 + 1)
}

/// The number on a member's card: 8 digits from 10000001 up (more beyond 90 million).
pub(crate) fn member_number(index: usize) -> Result<MemberNumber, SeedError> {
    MemberNumber::parse(&(10_000_001 + index as u64).to_string())
        .map_err(|_| SeedError::Generated("member number"))
}

/// The day member `index` joined, counted back from the company's `reference` day.
pub(crate) fn joined_on(sk: &Skeleton, index: usize, reference: Date) -> Date {
    let before = SPAN_DAYS - u64::from(sk.joined_day[index]);
    reference - Duration::days(before as i64)
}

pub(crate) fn locale(sk: &Skeleton, index: usize) -> &'static Locale {
    &LOCALES[usize::from(sk.country[index]) % LOCALES.len()]
}

/// The member record (and personal details unless erased) of member `index`.
pub(crate) fn new_member(
    sk: &Skeleton,
    seed: u64,
    index: usize,
    reference: Date,
) -> Result<NewMember, SeedError> {
    let mut rng = Rng::derive(seed, STREAM_PERSON, index as u64);
    let locale = locale(sk, index);
    let (status, rank) = standing(sk, seed, index);
    let sponsor = sk.sponsor[index];
    let placement = (sponsor != NONE).then(|| Placement {
        parent: member_id(sponsor as usize),
        position: Position::Unilevel(sk.slot[index]),
    });
    let first = *rng.pick(locale.first);
    let last = *rng.pick(locale.last);
    let legal =
        PersonName::parse(&format!("{first} {last}")).map_err(|_| SeedError::Generated("name"))?;
    let (display_name, personal) = if status == MemberStatus::Erased {
        let name = PersonName::parse("Erased member").map_err(|_| SeedError::Generated("name"))?;
        (name, None)
    } else {
        (
            legal.short_form(),
            Some(personal(&mut rng, locale, legal, index)?),
        )
    };
    Ok(NewMember {
        member: MemberRecord {
            id: member_id(index),
            number: member_number(index)?,
            sponsor: (sponsor != NONE).then(|| member_id(sponsor as usize)),
            placement,
            rank,
            status,
            joined_on: joined_on(sk, index, reference),
            country: CountryCode::parse(locale.country)
                .map_err(|_| SeedError::Generated("country"))?,
            display_name,
        },
        personal,
    })
}

fn personal(
    rng: &mut Rng,
    locale: &Locale,
    legal_name: PersonName,
    index: usize,
) -> Result<PersonalDetails, SeedError> {
    let mut local = String::with_capacity(32);
    ascii_slug(legal_name.as_str(), &mut local);
    let email = Email::parse(&format!("{local}{}@{}", index % 100, locale.domain))
        .map_err(|_| SeedError::Generated("email"))?;
    let digits = pattern(rng, "999 999 9999");
    let phone = Phone::parse(&format!("{} {digits}", locale.phone_code))
        .map_err(|_| SeedError::Generated("phone"))?;
    // Born between 1955 and 2004.
    let born = Date::from_calendar_date(1955, time::Month::January, 1)
        .map_err(|_| SeedError::Generated("date of birth"))?
        + Duration::days(rng.below(50 * 365) as i64);
    let street = *rng.pick(locale.streets);
    let city = *rng.pick(locale.cities);
    let number = rng.range(1, 240);
    let line1 = if locale.number_first {
        format!("{number} {street}")
    } else {
        format!("{street} {number}")
    };
    let address = PostalAddress {
        line1: AddressLine::parse(&line1).map_err(|_| SeedError::Generated("address"))?,
        line2: None,
        city: AddressLine::parse(city).map_err(|_| SeedError::Generated("city"))?,
        region: None,
        postal_code: Some(
            PostalCode::parse(&pattern(rng, locale.postal))
                .map_err(|_| SeedError::Generated("postal code"))?,
        ),
    };
    let tax_id = if rng.chance(600) {
        Some(
            TaxId::parse(&format!("{}{}", locale.country, pattern(rng, "999999999")))
                .map_err(|_| SeedError::Generated("tax id"))?,
        )
    } else {
        None
    };
    Ok(PersonalDetails {
        legal_name,
        email: Some(email),
        phone: Some(phone),
        date_of_birth: Some(born),
        address: Some(address),
        tax_id,
    })
}

/// `9` → a random digit, `A` → a random capital letter, anything else kept.
fn pattern(rng: &mut Rng, shape: &str) -> String {
    shape
        .chars()
        .map(|c| match c {
            '9' => char::from(b'0' + rng.below(10) as u8),
            'A' => char::from(b'A' + rng.below(26) as u8),
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_fill_digits_and_letters() {
        let mut rng = Rng::derive(1, 1, 1);
        let code = pattern(&mut rng, "AA9 9AA");
        assert_eq!(code.len(), 7);
        assert!(code.chars().nth(2).is_some_and(|c| c.is_ascii_digit()));
        assert!(code.chars().next().is_some_and(|c| c.is_ascii_uppercase()));
    }

    #[test]
    fn member_numbers_are_eight_digits() {
        assert_eq!(member_number(0).unwrap().as_str(), "10000001");
        assert_eq!(member_number(999_999).unwrap().as_str(), "11000000");
    }
}
