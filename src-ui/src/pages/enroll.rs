//! Enroll someone, with or without a network: the form checks every field the way the
//! server will (each problem shown next to its field), records the consent with the
//! version of the text shown, and saves to the outbox at once. Below it, the enrollments
//! made on this device and where each one is (pending, applied, refused).

use canopy_core::ipc::{CommandError, EnrollRequest, OutboxItemView};
use canopy_core::{CountryCode, EnrollmentKind, Field, FieldMessage};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::components::button::Button;
use crate::components::callout::Callout;
use crate::components::card::Card;
use crate::components::member_picker::{MemberPicker, Picked};
use crate::components::problem::maybe_problem;
use crate::components::text_field::TextField;
use crate::pages::outbox::OutboxList;

/// One text input of the form: its field, label and the request's slot.
struct Input {
    field: Field,
    id: &'static str,
    label: &'static str,
    input_type: &'static str,
    autocomplete: &'static str,
    hint: Option<&'static str>,
    value: RwSignal<String>,
}

#[component]
pub fn Enroll() -> impl IntoView {
    let consent = LocalResource::new(api::outbox::consent_text);
    let kind = RwSignal::new(EnrollmentKind::Distributor);
    let sponsor = RwSignal::new(None::<Picked>);
    let text = || RwSignal::new(String::new());
    let (legal_name, display_name, email, phone, birth) = (text(), text(), text(), text(), text());
    let (line1, line2, city, region, postal, tax_id) =
        (text(), text(), text(), text(), text(), text());
    let country = RwSignal::new(String::new());
    let accepted = RwSignal::new(false);
    let marketing_email = RwSignal::new(false);
    let marketing_sms = RwSignal::new(false);
    let field_errors = RwSignal::new(Vec::<FieldMessage>::new());
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let saved = RwSignal::new(None::<String>);
    // The refused enrollment being fixed, by its outbox number.
    let editing = RwSignal::new(None::<i64>);
    let refresh = RwSignal::new(0_u32);

    let error_of = move |field: Field| {
        Signal::derive(move || {
            field_errors.with(|errors| {
                errors
                    .iter()
                    .find(|e| e.field == field)
                    .map(|e| e.message.clone())
            })
        })
    };
    let person = [
        Input {
            field: Field::LegalName,
            id: "enroll-legal-name",
            label: "Full legal name",
            input_type: "text",
            autocomplete: "off",
            hint: Some("As on their ID: it goes on contracts and payments."),
            value: legal_name,
        },
        Input {
            field: Field::DisplayName,
            id: "enroll-display-name",
            label: "Name shown to the team (optional)",
            input_type: "text",
            autocomplete: "off",
            hint: Some("Left blank: first name and initial, like “Ana L.”"),
            value: display_name,
        },
        Input {
            field: Field::Email,
            id: "enroll-email",
            label: "Email",
            input_type: "email",
            autocomplete: "off",
            hint: None,
            value: email,
        },
        Input {
            field: Field::Phone,
            id: "enroll-phone",
            label: "Phone (optional)",
            input_type: "tel",
            autocomplete: "off",
            hint: Some("With the country code, like +351 912 345 678."),
            value: phone,
        },
        Input {
            field: Field::DateOfBirth,
            id: "enroll-birth",
            label: "Date of birth",
            input_type: "date",
            autocomplete: "off",
            hint: Some("Distributors must be 18 or older."),
            value: birth,
        },
    ];
    let address = [
        Input {
            field: Field::AddressLine1,
            id: "enroll-line1",
            label: "Street address",
            input_type: "text",
            autocomplete: "off",
            hint: None,
            value: line1,
        },
        Input {
            field: Field::AddressLine2,
            id: "enroll-line2",
            label: "Address line 2 (optional)",
            input_type: "text",
            autocomplete: "off",
            hint: None,
            value: line2,
        },
        Input {
            field: Field::City,
            id: "enroll-city",
            label: "City or town",
            input_type: "text",
            autocomplete: "off",
            hint: None,
            value: city,
        },
        Input {
            field: Field::Region,
            id: "enroll-region",
            label: "State or region (optional)",
            input_type: "text",
            autocomplete: "off",
            hint: None,
            value: region,
        },
        Input {
            field: Field::PostalCode,
            id: "enroll-postal",
            label: "Postal code",
            input_type: "text",
            autocomplete: "off",
            hint: None,
            value: postal,
        },
        Input {
            field: Field::TaxId,
            id: "enroll-tax-id",
            label: "Tax id (optional)",
            input_type: "text",
            autocomplete: "off",
            hint: None,
            value: tax_id,
        },
    ];
    let render = move |input: Input| {
        let error = error_of(input.field);
        match input.hint {
            Some(hint) => view! {
                <TextField id=input.id label=input.label value=input.value input_type=input.input_type autocomplete=input.autocomplete error=error hint=hint />
            }
            .into_any(),
            None => view! {
                <TextField id=input.id label=input.label value=input.value input_type=input.input_type autocomplete=input.autocomplete error=error />
            }
            .into_any(),
        }
    };

    let on_submit = move |event: SubmitEvent| {
        event.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let version = consent
            .get_untracked()
            .and_then(Result::ok)
            .map(|c| c.version)
            .unwrap_or_default();
        let request = EnrollRequest {
            kind: kind.get_untracked(),
            sponsor: sponsor.get_untracked().map(|p| p.id),
            legal_name: legal_name.get_untracked(),
            display_name: display_name.get_untracked(),
            email: email.get_untracked(),
            phone: phone.get_untracked(),
            date_of_birth: birth.get_untracked(),
            address_line1: line1.get_untracked(),
            address_line2: line2.get_untracked(),
            city: city.get_untracked(),
            region: region.get_untracked(),
            postal_code: postal.get_untracked(),
            country: country.get_untracked(),
            tax_id: tax_id.get_untracked(),
            consent_version: version,
            accepted: accepted.get_untracked(),
            marketing_email: marketing_email.get_untracked(),
            marketing_sms: marketing_sms.get_untracked(),
        };
        busy.set(true);
        error.set(None);
        saved.set(None);
        let fixing = editing.get_untracked();
        spawn_local(async move {
            let result = match fixing {
                Some(seq) => api::outbox::resend_enrollment(seq, &request)
                    .await
                    .map(|()| {
                        format!(
                            "The enrollment of {} is queued again with your fixes; it is pending until the company's server confirms it.",
                            request.legal_name.trim()
                        )
                    }),
                None => api::outbox::enroll(&request).await.map(|item: OutboxItemView| {
                    format!("{}. It is pending until the company's server confirms it.", item.summary)
                }),
            };
            busy.set(false);
            match result {
                Ok(message) => {
                    editing.set(None);
                    sponsor.set(None);
                    field_errors.set(Vec::new());
                    for signal in [
                        legal_name,
                        display_name,
                        email,
                        phone,
                        birth,
                        line1,
                        line2,
                        city,
                        region,
                        postal,
                        tax_id,
                    ] {
                        signal.set(String::new());
                    }
                    accepted.set(false);
                    marketing_email.set(false);
                    marketing_sms.set(false);
                    saved.set(Some(message));
                    // The confirmation is at the top of the page: bring it into view.
                    scroll_to_top();
                    refresh.update(|n| *n += 1);
                }
                Err(ApiError::Command(CommandError::Fields(problems))) => {
                    field_errors.set(problems);
                }
                Err(other) => error.set(Some(other)),
            }
        });
    };

    // A refused enrollment back into the form, as it was sent.
    let on_fix = Callback::new(move |seq: i64| {
        spawn_local(async move {
            match api::outbox::refused_enrollment(seq).await {
                Ok(r) => {
                    kind.set(r.kind);
                    for (signal, value) in [
                        (legal_name, r.legal_name),
                        (display_name, r.display_name),
                        (email, r.email),
                        (phone, r.phone),
                        (birth, r.date_of_birth),
                        (line1, r.address_line1),
                        (line2, r.address_line2),
                        (city, r.city),
                        (region, r.region),
                        (postal, r.postal_code),
                        (tax_id, r.tax_id),
                        (country, r.country),
                    ] {
                        signal.set(value);
                    }
                    accepted.set(r.accepted);
                    marketing_email.set(r.marketing_email);
                    marketing_sms.set(r.marketing_sms);
                    sponsor.set(None);
                    if let Some(id) = r.sponsor
                        && let Ok(detail) = api::genealogy::member_detail(id, None).await
                    {
                        sponsor.set(Some(Picked {
                            id,
                            label: format!(
                                "{} (#{})",
                                detail.member.display_name, detail.member.number
                            ),
                        }));
                    }
                    field_errors.set(Vec::new());
                    saved.set(None);
                    editing.set(Some(seq));
                    scroll_to_top();
                }
                Err(problem) => error.set(Some(problem)),
            }
        });
    });

    let mut countries: Vec<(CountryCode, &'static str)> = CountryCode::all().collect();
    countries.sort_by_key(|(_, name)| *name);
    let country_error = error_of(Field::Country);
    let consent_error = error_of(Field::Consent);
    let sponsor_error = error_of(Field::Sponsor);

    view! {
        <section class="page" data-testid="enroll">
            <header class="page-head">
                <h1>"Enroll someone"</h1>
                <p class="lead">
                    "Works without a network: the enrollment is saved on this device at once \
                     and sent to the company as soon as Canopy is online."
                </p>
            </header>
            {move || saved.get().map(|message| view! {
                <Callout title="Enrollment saved on this device" test_id="enroll-saved">{message}</Callout>
            })}
            {move || editing.get().map(|_| view! {
                <Callout title="Fixing a refused enrollment" test_id="enroll-fixing">
                    "Correct what the company refused, then save: it is sent again. "
                    <button type="button" class="link-button" on:click=move |_| editing.set(None)>"Stop fixing"</button>
                </Callout>
            })}
            <Card>
                <form class="form enroll-form" on:submit=on_submit novalidate>
                    <fieldset class="fieldset">
                        <legend>"They join as"</legend>
                        <div class="segmented" role="radiogroup">
                            {[EnrollmentKind::Distributor, EnrollmentKind::Customer].into_iter().map(|k| view! {
                                <label class="segment">
                                    <input
                                        type="radio"
                                        name="enroll-kind"
                                        data-testid=format!("enroll-kind-{}", k.label().to_lowercase())
                                        prop:checked=move || kind.get() == k
                                        on:change=move |_| kind.set(k)
                                    />
                                    <span>{k.label()}</span>
                                </label>
                            }).collect_view()}
                        </div>
                        <MemberPicker id="enroll-sponsor" label="Sponsor" chosen=sponsor error=sponsor_error />
                        <p class="field-hint">"Their sponsor enrolls them and they are placed under the sponsor."</p>
                    </fieldset>
                    <fieldset class="fieldset">
                        <legend>"Person"</legend>
                        <div class="form-grid">{person.into_iter().map(render).collect_view()}</div>
                    </fieldset>
                    <fieldset class="fieldset">
                        <legend>"Address"</legend>
                        <div class="form-grid">
                            {address.into_iter().map(render).collect_view()}
                            <div class="field">
                                <label class="field-label" for="enroll-country">"Country"</label>
                                <select
                                    id="enroll-country"
                                    class="field-input"
                                    aria-invalid=move || if country_error.with(Option::is_some) { "true" } else { "false" }
                                    on:change=move |event| country.set(event_target_value(&event))
                                    prop:value=move || country.get()
                                >
                                    <option value="">"Choose a country"</option>
                                    {countries.into_iter().map(|(code, name)| {
                                        let code = code.as_str().to_owned();
                                        view! { <option value=code.clone()>{name}</option> }
                                    }).collect_view()}
                                </select>
                                {move || country_error.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                            </div>
                        </div>
                    </fieldset>
                    <fieldset class="fieldset">
                        <legend>"Consent"</legend>
                        {move || consent.get().map(|c| match c {
                            Ok(text) => view! {
                                <div class="consent-text" data-testid="consent-text">
                                    <p>{text.terms}</p>
                                    <p>{text.privacy}</p>
                                    <p class="field-hint">{format!("Consent text version {}", text.version)}</p>
                                </div>
                            }.into_any(),
                            Err(problem) => view! { <p class="field-error">{problem.to_string()}</p> }.into_any(),
                        })}
                        <label class="check">
                            <input
                                type="checkbox"
                                data-testid="enroll-consent"
                                aria-invalid=move || if consent_error.with(Option::is_some) { "true" } else { "false" }
                                prop:checked=move || accepted.get()
                                on:change=move |event| accepted.set(event_target_checked(&event))
                            />
                            "They have read and accept the terms and the privacy notice above."
                        </label>
                        {move || consent_error.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                        <label class="check">
                            <input type="checkbox" prop:checked=move || marketing_email.get() on:change=move |event| marketing_email.set(event_target_checked(&event)) />
                            "News and offers by email (optional)"
                        </label>
                        <label class="check">
                            <input type="checkbox" prop:checked=move || marketing_sms.get() on:change=move |event| marketing_sms.set(event_target_checked(&event)) />
                            "News and offers by text message (optional)"
                        </label>
                    </fieldset>
                    {move || (!field_errors.with(Vec::is_empty)).then(|| view! {
                        <p class="field-error" role="alert" data-testid="enroll-field-errors">
                            "Some fields need attention: see the messages above."
                        </p>
                    })}
                    {move || maybe_problem(error.get())}
                    <div class="form-actions">
                        <Button submit=true loading=busy test_id="enroll-submit">"Save enrollment"</Button>
                    </div>
                </form>
            </Card>
            <OutboxList kind="Enrollment" title="Enrollments from this device" refresh=refresh on_fix=on_fix />
        </section>
    }
}

/// Brings the top of the page into view: the form after loading a refused enrollment
/// into it, the confirmation after saving.
fn scroll_to_top() {
    if let Some(content) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector(".content").ok().flatten())
    {
        content.set_scroll_top(0);
    }
}
