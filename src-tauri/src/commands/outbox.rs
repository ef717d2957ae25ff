//! Commands of work done offline: enrolling someone, and the outbox that keeps it until
//! the server answers (list, discard a refused command). A command is on disk before
//! the command returns, then the sync is nudged to send it at once.

use canopy_core::ipc::{
    CommandError, ConsentTextView, EnrollRequest, OutboxItemView, OutboxStateView,
};
use canopy_core::sync::push::Command;
use canopy_core::{
    ConsentPurpose, EnrollmentForm, EnrollmentKind, FieldMessage, IdempotencyKey, MemberId, Period,
};
use canopy_store::{CommandKind, OutboxItem, OutboxState, Store, StoreError};
use canopy_sync::schedule::Trigger;
use ring::rand::{SecureRandom, SystemRandom};
use tauri::State;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{blocking, open_store};
use crate::state::AppState;

/// The version of the consent text below; it is recorded with every enrollment.
pub const CONSENT_VERSION: &str = "2026-01";
const CONSENT_TERMS: &str = "I have read and accept the distributor agreement (or, for a \
    customer, the terms of sale), including the cooling-off period and the refund policy.";
const CONSENT_PRIVACY: &str = "I agree that the company processes my personal data as its \
    privacy notice describes: to run my account, pay commissions and meet legal duties. My \
    sponsor's line sees only my public name, rank and volumes.";

/// The consent text the enrollment form shows, with its version.
#[tauri::command]
pub fn consent_text() -> ConsentTextView {
    ConsentTextView {
        version: CONSENT_VERSION.into(),
        terms: CONSENT_TERMS.into(),
        privacy: CONSENT_PRIVACY.into(),
    }
}

/// Validates an enrollment, saves it to the outbox and asks the sync to send it.
#[tauri::command]
pub async fn enroll(
    state: State<'_, AppState>,
    request: EnrollRequest,
) -> Result<OutboxItemView, CommandError> {
    let session = state.session().await?;
    let store = session.store().ok_or(CommandError::Locked)?.clone();
    let offline = session.sync().is_some_and(|s| s.status().offline);
    drop(session);
    let now = OffsetDateTime::now_utc();
    let item = blocking(move || save_enrollment(&store, &request, now, offline)).await?;
    if let Some(sync) = state.session().await?.sync() {
        sync.trigger(Trigger::LocalWrite);
    }
    Ok(item)
}

/// [`enroll`]'s work without Tauri: the form is checked as the server will check it
/// (every field's problem at once), the sponsor must be in this device's cache, and
/// the command is on disk when this returns.
pub fn save_enrollment(
    store: &Store,
    request: &EnrollRequest,
    now: OffsetDateTime,
    offline: bool,
) -> Result<OutboxItemView, CommandError> {
    let payload = checked_enrollment(store, request, now, offline)?;
    let item = store
        .enqueue(&new_key()?, CommandKind::Enroll, &payload, now)
        .map_err(internal)?;
    Ok(describe(store, &item))
}

/// The enrollment as the outbox keeps it, once every check passed.
fn checked_enrollment(
    store: &Store,
    request: &EnrollRequest,
    now: OffsetDateTime,
    offline: bool,
) -> Result<String, CommandError> {
    // No sponsor chosen: the user, who is the top of this device's scope.
    let sponsor = match request.sponsor {
        Some(id) => Some(MemberId::new(id)),
        None => store.scope_root().map_err(internal)?,
    };
    let form = enrollment_form(request, sponsor, now, offline);
    let mut problems: Vec<FieldMessage> = match form.validate(now.date()) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.iter().map(FieldMessage::from).collect(),
    };
    if let Some(sponsor) = sponsor {
        let known = store.depth_of(sponsor).map_err(internal)?;
        if known.is_none() {
            problems.push(FieldMessage {
                field: canopy_core::Field::Sponsor,
                message: "Choose a sponsor from your downline".into(),
            });
        }
    }
    if !problems.is_empty() {
        return Err(CommandError::Fields(problems));
    }
    serde_json::to_string(&Command::Enroll(Box::new(form)))
        .map_err(|e| CommandError::Internal(e.to_string()))
}

/// A refused enrollment, back in the form's shape so the person can fix it.
#[tauri::command]
pub async fn refused_enrollment(
    state: State<'_, AppState>,
    seq: i64,
) -> Result<EnrollRequest, CommandError> {
    let store = open_store(&state).await?;
    blocking(move || refused(&store, seq)).await
}

/// [`refused_enrollment`]'s work without Tauri.
pub fn refused(store: &Store, seq: i64) -> Result<EnrollRequest, CommandError> {
    let item = store
        .outbox(Some(OutboxState::Rejected))
        .map_err(internal)?
        .into_iter()
        .find(|item| item.seq == seq)
        .ok_or_else(|| {
            CommandError::Invalid("That enrollment is not waiting to be fixed".into())
        })?;
    let Ok(Command::Enroll(form)) = serde_json::from_str::<Command>(&item.payload) else {
        return Err(CommandError::Invalid(
            "That command is not an enrollment".into(),
        ));
    };
    let has = |p: ConsentPurpose| form.consent_purposes.contains(&p);
    Ok(EnrollRequest {
        kind: form.kind,
        sponsor: form.sponsor.map(|s| s.get()),
        legal_name: form.legal_name,
        display_name: form.display_name,
        email: form.email,
        phone: form.phone,
        date_of_birth: form.date_of_birth,
        address_line1: form.address_line1,
        address_line2: form.address_line2,
        city: form.city,
        region: form.region,
        postal_code: form.postal_code,
        country: form.country,
        tax_id: form.tax_id,
        consent_version: form.consent_version,
        accepted: ConsentPurpose::REQUIRED.into_iter().all(has),
        marketing_email: has(ConsentPurpose::MarketingEmail),
        marketing_sms: has(ConsentPurpose::MarketingSms),
    })
}

/// Replaces a refused enrollment with its fixed form and queues it again (same
/// idempotency key: the server never applied it).
#[tauri::command]
pub async fn resend_enrollment(
    state: State<'_, AppState>,
    seq: i64,
    request: EnrollRequest,
) -> Result<(), CommandError> {
    let session = state.session().await?;
    let store = session.store().ok_or(CommandError::Locked)?.clone();
    let offline = session.sync().is_some_and(|s| s.status().offline);
    drop(session);
    let now = OffsetDateTime::now_utc();
    blocking(move || resend(&store, seq, &request, now, offline)).await?;
    if let Some(sync) = state.session().await?.sync() {
        sync.trigger(Trigger::LocalWrite);
    }
    Ok(())
}

/// [`resend_enrollment`]'s work without Tauri: the fixed form passes the same checks as
/// a new one.
pub fn resend(
    store: &Store,
    seq: i64,
    request: &EnrollRequest,
    now: OffsetDateTime,
    offline: bool,
) -> Result<(), CommandError> {
    refused(store, seq)?;
    let payload = checked_enrollment(store, request, now, offline)?;
    store
        .outbox_resubmit(seq, &new_key()?, &payload, now)
        .map_err(|e| match e {
            StoreError::Invalid(message) => CommandError::Invalid(message),
            other => internal(other),
        })
}

/// The form as the sync protocol carries it. The consent is recorded as given now, with
/// the version of the text the form showed and whether the device was offline.
fn enrollment_form(
    request: &EnrollRequest,
    sponsor: Option<MemberId>,
    now: OffsetDateTime,
    offline: bool,
) -> EnrollmentForm {
    let mut purposes = Vec::new();
    if request.accepted {
        purposes.extend(ConsentPurpose::REQUIRED);
    }
    if request.marketing_email {
        purposes.push(ConsentPurpose::MarketingEmail);
    }
    if request.marketing_sms {
        purposes.push(ConsentPurpose::MarketingSms);
    }
    EnrollmentForm {
        kind: request.kind,
        sponsor,
        legal_name: request.legal_name.clone(),
        display_name: request.display_name.clone(),
        email: request.email.clone(),
        phone: request.phone.clone(),
        date_of_birth: request.date_of_birth.clone(),
        address_line1: request.address_line1.clone(),
        address_line2: request.address_line2.clone(),
        city: request.city.clone(),
        region: request.region.clone(),
        postal_code: request.postal_code.clone(),
        country: request.country.trim().to_ascii_uppercase(),
        tax_id: request.tax_id.clone(),
        consent_version: request.consent_version.clone(),
        consent_purposes: purposes,
        consent_given_at: now,
        consent_given_offline: offline,
    }
}

/// A fresh idempotency key: 128 bits from the operating system's random source.
pub(crate) fn new_key() -> Result<IdempotencyKey, CommandError> {
    let mut bytes = [0_u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| CommandError::Internal("the system random number generator failed".into()))?;
    Ok(IdempotencyKey::from_random_bytes(bytes))
}

/// Every command in the outbox, oldest first (applied ones too, so a rep sees what went
/// through).
#[tauri::command]
pub async fn outbox_items(state: State<'_, AppState>) -> Result<Vec<OutboxItemView>, CommandError> {
    let session = state.session().await?;
    let store = session.store().ok_or(CommandError::Locked)?.clone();
    drop(session);
    blocking(move || list(&store)).await
}

/// [`outbox_items`]'s work without Tauri.
pub fn list(store: &Store) -> Result<Vec<OutboxItemView>, CommandError> {
    let items = store.outbox(None).map_err(internal)?;
    Ok(items.iter().map(|item| describe(store, item)).collect())
}

/// Gives up a command the server refused (only a refused one: the rest are on their way).
#[tauri::command]
pub async fn discard_outbox_item(state: State<'_, AppState>, seq: i64) -> Result<(), CommandError> {
    let session = state.session().await?;
    let store = session.store().ok_or(CommandError::Locked)?.clone();
    drop(session);
    store.outbox_discard(seq).map_err(|e| match e {
        StoreError::Invalid(message) => CommandError::Invalid(message),
        StoreError::NotFound(_) => {
            CommandError::Invalid("That command is not in the outbox".into())
        }
        other => internal(other),
    })
}

/// An outbox command in words: what it does, for whom.
pub(crate) fn describe(store: &Store, item: &OutboxItem) -> OutboxItemView {
    let (kind, summary) = match serde_json::from_str::<Command>(&item.payload) {
        Ok(Command::Enroll(form)) => {
            let role = match form.kind {
                EnrollmentKind::Distributor => "a distributor",
                EnrollmentKind::Customer => "a customer",
            };
            let under = form
                .sponsor
                .and_then(|id| member_name(store, id))
                .unwrap_or_else(|| "you".to_owned());
            (
                "Enrollment",
                format!("Enroll {} as {role} under {under}", form.legal_name.trim()),
            )
        }
        Ok(Command::PlaceOrder(order)) => {
            let units: u32 = order.lines.iter().map(|l| l.quantity).sum();
            let who = member_name(store, order.member).unwrap_or_else(|| "a member".into());
            ("Order", format!("Order of {units} item(s) for {who}"))
        }
        Ok(Command::UpdateContact(_)) => ("Contact details", "Update your contact details".into()),
        Ok(Command::AddNote(note)) => {
            let who = member_name(store, note.member).unwrap_or_else(|| "a member".into());
            ("Note", format!("Note on {who}"))
        }
        Err(_) => (
            "Command",
            "A command this version of Canopy can't read".into(),
        ),
    };
    OutboxItemView {
        seq: item.seq,
        kind: kind.into(),
        summary,
        state: match item.state {
            OutboxState::Pending => OutboxStateView::Pending,
            OutboxState::Sending => OutboxStateView::Sending,
            OutboxState::Applied => OutboxStateView::Applied,
            OutboxState::Rejected => OutboxStateView::Rejected,
        },
        created_at: item.created_at.format(&Rfc3339).unwrap_or_default(),
        attempts: item.attempts,
        last_error: item.last_error.clone(),
        server_ref: item.server_ref.clone(),
    }
}

/// A member's public name and number, if the cache has them.
fn member_name(store: &Store, id: MemberId) -> Option<String> {
    let period = Period::containing(OffsetDateTime::now_utc().date()).ok()?;
    let member = store.member(id, period).ok()?;
    Some(format!(
        "{} (#{})",
        member.row.display_name, member.row.number
    ))
}

fn internal(error: impl std::fmt::Display) -> CommandError {
    CommandError::Internal(error.to_string())
}
