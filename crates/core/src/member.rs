//! A member of the genealogy as the client caches it: public fields every viewer in scope
//! gets, and [`PersonalDetails`], which the server sends only where the viewer may see them.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::Date;

use crate::country::CountryCode;
use crate::ids::{MemberId, MemberNumber};
use crate::rank::Rank;
use crate::validate::{AddressLine, Email, PersonName, Phone, PostalCode, TaxId};

/// Where a member's account stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberStatus {
    /// In good standing and qualified this period.
    Active,
    /// In good standing but not (yet) qualified, e.g. no orders this period.
    Inactive,
    /// Temporarily blocked by compliance; keeps their place in the tree.
    Suspended,
    /// Left or was removed; kept for history and commissions already earned.
    Terminated,
    /// Personal data erased under GDPR; only the anonymous node remains.
    Erased,
}

impl MemberStatus {
    pub const fn label(self) -> &'static str {
        match self {
            MemberStatus::Active => "Active",
            MemberStatus::Inactive => "Inactive",
            MemberStatus::Suspended => "Suspended",
            MemberStatus::Terminated => "Terminated",
            MemberStatus::Erased => "Erased",
        }
    }

    /// Whether new orders may be placed for this member.
    pub const fn can_order(self) -> bool {
        matches!(self, MemberStatus::Active | MemberStatus::Inactive)
    }

    /// Whether commissions are paid to this member.
    pub const fn can_earn(self) -> bool {
        matches!(self, MemberStatus::Active)
    }
}

display_from_label!(MemberStatus);

/// The slot under the placement parent: a leg of a binary tree, or the n-th position
/// (from 0) under a unilevel parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    Left,
    Right,
    Unilevel(u32),
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Left => f.write_str("Left"),
            Position::Right => f.write_str("Right"),
            Position::Unilevel(i) => write!(f, "Position {}", u64::from(*i) + 1),
        }
    }
}

/// Where a member sits in the placement tree (which may differ from who enrolled them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Placement {
    pub parent: MemberId,
    pub position: Position,
}

/// A postal address. The country is the member's [`Member::country`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostalAddress {
    pub line1: AddressLine,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<AddressLine>,
    pub city: AddressLine,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<AddressLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<PostalCode>,
}

/// Classified personal data. The server includes each optional field only where the
/// viewer's role and relation to the member allow it; absent means "not yours to see" or
/// "not on file", never "empty".
///
/// `Debug` prints which fields are present, never their values, so a stray `{:?}` in a log
/// leaks nothing.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonalDetails {
    pub legal_name: PersonName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Phone>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::dates::iso_date::option"
    )]
    pub date_of_birth: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<PostalAddress>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_id: Option<TaxId>,
}

impl PersonalDetails {
    /// Only the legal name; every other field absent.
    pub fn with_name(legal_name: PersonName) -> Self {
        Self {
            legal_name,
            email: None,
            phone: None,
            date_of_birth: None,
            address: None,
            tax_id: None,
        }
    }
}

impl fmt::Debug for PersonalDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn shown<T>(v: &Option<T>) -> &'static str {
            if v.is_some() { "<redacted>" } else { "None" }
        }
        f.debug_struct("PersonalDetails")
            .field("legal_name", &format_args!("<redacted>"))
            .field("email", &format_args!("{}", shown(&self.email)))
            .field("phone", &format_args!("{}", shown(&self.phone)))
            .field(
                "date_of_birth",
                &format_args!("{}", shown(&self.date_of_birth)),
            )
            .field("address", &format_args!("{}", shown(&self.address)))
            .field("tax_id", &format_args!("{}", shown(&self.tax_id)))
            .finish()
    }
}

/// A member of the genealogy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: MemberId,
    /// The number people see and quote; never the internal id.
    pub number: MemberNumber,
    /// Who enrolled them; `None` only for the root of the company's tree.
    pub sponsor: Option<MemberId>,
    /// `None` for the root, and for members not yet placed.
    pub placement: Option<Placement>,
    pub rank: Rank,
    pub status: MemberStatus,
    #[serde(with = "crate::dates::iso_date")]
    pub joined_on: Date,
    pub country: CountryCode,
    /// The public name shown in the tree and on leaderboards.
    pub display_name: PersonName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personal: Option<PersonalDetails>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn member() -> Member {
        Member {
            id: MemberId::new(7),
            number: MemberNumber::parse("10045821").unwrap(),
            sponsor: Some(MemberId::new(3)),
            placement: Some(Placement {
                parent: MemberId::new(5),
                position: Position::Left,
            }),
            rank: Rank::new(2, "Gold"),
            status: MemberStatus::Active,
            joined_on: date!(2024 - 05 - 01),
            country: CountryCode::parse("DE").unwrap(),
            display_name: PersonName::parse("Zoë M.").unwrap(),
            personal: Some(PersonalDetails {
                email: Some(Email::parse("zoe@example.de").unwrap()),
                date_of_birth: Some(date!(1990 - 04 - 25)),
                tax_id: Some(TaxId::parse("DE123456789").unwrap()),
                ..PersonalDetails::with_name(PersonName::parse("Zoë Müller").unwrap())
            }),
        }
    }

    #[test]
    fn serialises_readably_and_round_trips() {
        let m = member();
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["number"], "10045821");
        assert_eq!(json["joined_on"], "2024-05-01");
        assert_eq!(json["placement"]["position"], "left");
        assert_eq!(json["status"], "active");
        assert_eq!(json["personal"]["date_of_birth"], "1990-04-25");
        assert!(json["personal"].get("phone").is_none());
        let back: Member = serde_json::from_value(json).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn personal_details_are_optional_on_the_wire() {
        let mut m = member();
        m.personal = None;
        let json = serde_json::to_string(&m).unwrap();
        assert!(!json.contains("personal"));
        assert_eq!(serde_json::from_str::<Member>(&json).unwrap(), m);
    }

    #[test]
    fn debug_never_shows_personal_data() {
        let shown = format!("{:?}", member());
        for secret in ["Müller", "zoe@example.de", "1990", "DE123456789"] {
            assert!(!shown.contains(secret), "{secret} leaked in {shown}");
        }
        assert!(shown.contains("phone: None"));
    }

    #[test]
    fn statuses_and_positions_read_well() {
        let cases = [
            (MemberStatus::Active, "Active", true, true),
            (MemberStatus::Inactive, "Inactive", true, false),
            (MemberStatus::Suspended, "Suspended", false, false),
            (MemberStatus::Terminated, "Terminated", false, false),
            (MemberStatus::Erased, "Erased", false, false),
        ];
        for (status, label, can_order, can_earn) in cases {
            assert_eq!(status.to_string(), label);
            assert_eq!(status.can_order(), can_order);
            assert_eq!(status.can_earn(), can_earn);
        }
        assert_eq!(Position::Unilevel(0).to_string(), "Position 1");
        assert_eq!(
            serde_json::to_string(&Position::Unilevel(3)).unwrap(),
            r#"{"unilevel":3}"#
        );
    }
}
