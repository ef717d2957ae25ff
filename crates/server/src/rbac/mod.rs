//! Who may see which member, and how much of them (SECURITY.md #13, #14): the caller's role
//! and their relation to the member in the sponsor tree decide a [`Visibility`].
//!
//! Rules: an admin sees the whole company with every field; a manager sees their whole
//! downline with contact fields; a distributor sees their downline, with personal fields
//! only for members they enrolled themselves; everyone sees themselves in full. Anyone
//! else is invisible, and handlers answer 404 for them exactly as for a missing member.

use canopy_core::{MemberId, PersonalDetails, Role};
use time::OffsetDateTime;

use crate::storage::{AccessGrant, MemberRecord, Storage, StorageError};

/// Admin actions need a second factor proven this recently in the session (step-up).
pub const STEP_UP_SECS: i64 = 10 * 60;

/// Why an action was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// The caller's role may not do this at all.
    Role,
    /// Allowed, but only after proving the second factor again (`/v1/auth/step-up`).
    StepUp,
}

/// An admin action: the admin role and a second factor within [`STEP_UP_SECS`].
pub fn admin_action(grant: &AccessGrant, now: OffsetDateTime) -> Result<(), Denied> {
    if grant.role != Role::Admin {
        return Err(Denied::Role);
    }
    let fresh = grant
        .mfa_verified_at
        .is_some_and(|at| (now - at).whole_seconds() <= STEP_UP_SECS);
    if fresh { Ok(()) } else { Err(Denied::StepUp) }
}

/// Reading admin-only data (e.g. the admin alerts): the admin role, no step-up needed.
pub fn admin_view(grant: &AccessGrant) -> Result<(), Denied> {
    if grant.role == Role::Admin {
        Ok(())
    } else {
        Err(Denied::Role)
    }
}

/// Where a member stands relative to the caller, in the sponsor (enrollment) tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    Own,
    /// Enrolled by the caller.
    PersonallyEnrolled,
    /// Further down the caller's sponsor tree.
    Downline,
    Outside,
}

/// How much of a member the caller may see, from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Visibility {
    /// Nothing: the member is not in scope (answer 404).
    Hidden,
    /// The genealogy record only (number, display name, rank, status, sponsor, country).
    Basic,
    /// Plus legal name, email and phone.
    Contact,
    /// Plus the postal address.
    Personal,
    /// Plus date of birth and tax id.
    Full,
}

/// The rule table: one line per role and relation, no default.
pub fn visibility(role: Role, relation: Relation) -> Visibility {
    match (role, relation) {
        (Role::Admin, _) | (_, Relation::Own) => Visibility::Full,
        (_, Relation::Outside) => Visibility::Hidden,
        (Role::Manager, Relation::PersonallyEnrolled | Relation::Downline) => Visibility::Contact,
        (Role::Distributor, Relation::PersonallyEnrolled) => Visibility::Personal,
        (Role::Distributor, Relation::Downline) => Visibility::Basic,
    }
}

/// Sponsor links followed before giving up: deeper than any real company's longest leg,
/// and a guard against a cycle in bad data.
/// The personal details a caller with `visibility` may receive: none below `Contact`;
/// name, email and phone at `Contact`; the address too at `Personal`; date of birth and
/// tax id only at `Full`. The one place these field rules live.
pub fn minimise(details: PersonalDetails, visibility: Visibility) -> Option<PersonalDetails> {
    if visibility < Visibility::Contact {
        return None;
    }
    Some(PersonalDetails {
        legal_name: details.legal_name,
        email: details.email,
        phone: details.phone,
        address: details
            .address
            .filter(|_| visibility >= Visibility::Personal),
        date_of_birth: details
            .date_of_birth
            .filter(|_| visibility >= Visibility::Full),
        tax_id: details.tax_id.filter(|_| visibility >= Visibility::Full),
    })
}

const MAX_DEPTH: u32 = 10_000;

/// The caller's relation to `target`, found by walking up `target`'s sponsor chain.
/// A caller who is not a member (company staff) has no downline.
pub async fn relation(
    storage: &dyn Storage,
    caller: Option<MemberId>,
    target: &MemberRecord,
) -> Result<Relation, StorageError> {
    let Some(caller) = caller else {
        return Ok(Relation::Outside);
    };
    if target.id == caller {
        return Ok(Relation::Own);
    }
    if target.sponsor == Some(caller) {
        return Ok(Relation::PersonallyEnrolled);
    }
    if storage
        .is_in_sponsor_line(target.id, caller, MAX_DEPTH)
        .await?
    {
        Ok(Relation::Downline)
    } else {
        Ok(Relation::Outside)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_table() {
        use Relation::*;
        use Visibility::*;
        let cases = [
            (Role::Distributor, [Full, Personal, Basic, Hidden]),
            (Role::Manager, [Full, Contact, Contact, Hidden]),
            (Role::Admin, [Full, Full, Full, Full]),
        ];
        for (role, expected) in cases {
            let got = [Own, PersonallyEnrolled, Downline, Outside].map(|r| visibility(role, r));
            assert_eq!(got, expected, "{role:?}");
        }
    }
}
