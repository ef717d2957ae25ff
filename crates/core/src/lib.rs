//! Canopy's domain vocabulary, shared by the desktop app, the UI, the sync client and the server.
//! Pure data and arithmetic: no I/O, no clock, no randomness, so it also builds for wasm32.
//!
//! Values that come from a person (names, emails, amounts, …) are parsed once into types whose
//! constructors enforce the rules; see [`validate`] for the fields and their messages.

#[macro_use]
mod macros;

pub mod auth;
pub mod comp;
pub mod country;
mod country_table;
pub mod dates;
mod decimal;
pub mod earnings;
pub mod enrollment;
pub mod ids;
/// Types that cross the Tauri IPC boundary (owned by the shell/UI engineers).
pub mod ipc;
pub mod member;
pub mod money;
pub mod order;
pub mod period;
pub mod provisioning;
pub mod rank;
pub mod role;
pub mod sync;
pub mod validate;
pub mod volume;

pub use country::{CountryCode, CountryError};
pub use dates::{DateError, format_date, parse_date, parse_date_of_birth};
pub use earnings::{EarningsKind, EarningsLine, EarningsSource};
pub use enrollment::{
    ConsentPurpose, ConsentRecord, ConsentVersion, ConsentVersionError, Enrollment, EnrollmentKind,
};
pub use ids::{
    AccountId, CustomerId, EarningsLineId, IdempotencyKey, IdempotencyKeyError, MemberId,
    MemberNumber, MemberNumberError, OrderId,
};
pub use member::{Member, MemberStatus, PersonalDetails, Placement, Position, PostalAddress};
pub use money::{BasisPoints, Currency, CurrencyError, Money, MoneyError, ParseMoneyError};
pub use order::{Order, OrderLine, OrderStatus, Product, Sku, SkuError};
pub use period::{Period, PeriodError};
pub use rank::{Rank, RankLadder, RankLadderError, RankLevel};
pub use role::{Role, RoleError};
pub use validate::{
    AddressError, AddressLine, Email, EmailError, EnrollmentForm, Field, FieldError, FieldMessage,
    NameError, PersonName, Phone, PhoneError, PostalCode, PostalCodeError, TaxId, TaxIdError,
    ValidationError,
};
pub use volume::{Gv, Pv, VolumeError};
