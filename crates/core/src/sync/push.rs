//! The outbox push: commands made offline, each with the client's idempotency key, and the
//! server's answer for each — applied (with what it made), rejected (with a reason a person
//! understands), or "try again later". JSON on the wire: commands are small forms.

use serde::{Deserialize, Serialize};

use std::num::NonZeroU32;

use crate::ids::{IdempotencyKey, MemberId};
use crate::member::PostalAddress;
use crate::order::Sku;
use crate::validate::EnrollmentForm;
use crate::validate::{AddressLine, Email, Phone, PostalCode};

/// The most commands one push may carry.
pub const MAX_COMMANDS: usize = 500;

/// What a field rep or distributor did offline: `{"type": "enroll", "form": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "form", rename_all = "snake_case")]
pub enum Command {
    /// Enroll a distributor under a sponsor in the user's downline (or the user).
    Enroll(Box<EnrollmentForm>),
    /// Keep a private note on a member of the user's downline (or on the user).
    AddNote(NoteForm),
    /// Change the user's own email, phone or postal address.
    UpdateContact(ContactForm),
    /// Order products of the catalogue for the user or a member of their downline.
    PlaceOrder(OrderForm),
}

/// The most lines one order may have.
pub const MAX_ORDER_LINES: usize = 50;
/// The most of one product one order may hold.
pub const MAX_QUANTITY: u32 = 99;

/// An order as typed: for whom, and how many of which products. Prices and volumes are
/// the server's (from its catalogue when it applies the order), never the form's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderForm {
    pub member: MemberId,
    pub lines: Vec<OrderFormLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderFormLine {
    pub sku: String,
    pub quantity: u32,
}

impl OrderForm {
    /// The lines checked: 1 to [`MAX_ORDER_LINES`] products, each once, 1 to
    /// [`MAX_QUANTITY`] of each.
    pub fn validate(&self) -> Result<Vec<(Sku, NonZeroU32)>, String> {
        if self.lines.is_empty() {
            return Err("An order needs at least one product".into());
        }
        if self.lines.len() > MAX_ORDER_LINES {
            return Err(format!(
                "An order holds at most {MAX_ORDER_LINES} different products"
            ));
        }
        let mut checked: Vec<(Sku, NonZeroU32)> = Vec::with_capacity(self.lines.len());
        for line in &self.lines {
            let sku = Sku::parse(&line.sku).map_err(|e| e.to_string())?;
            let quantity = NonZeroU32::new(line.quantity)
                .filter(|q| q.get() <= MAX_QUANTITY)
                .ok_or_else(|| format!("Order 1 to {MAX_QUANTITY} of {}", sku.as_str()))?;
            if checked.iter().any(|(s, _)| *s == sku) {
                return Err(format!("{} is listed twice", sku.as_str()));
            }
            checked.push((sku, quantity));
        }
        Ok(checked)
    }
}

/// The user's own contact details as typed; empty optional fields are removed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ContactForm {
    pub email: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub address_line1: String,
    #[serde(default)]
    pub address_line2: String,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub postal_code: String,
}

/// A [`ContactForm`] checked field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub email: Email,
    pub phone: Option<Phone>,
    pub address: Option<PostalAddress>,
}

impl ContactForm {
    /// Every field checked; the messages are the ones the enrollment form shows.
    pub fn validate(&self) -> Result<Contact, String> {
        fn optional(text: &str) -> Option<&str> {
            let t = text.trim();
            (!t.is_empty()).then_some(t)
        }
        let email = Email::parse(&self.email).map_err(|e| e.to_string())?;
        let phone = optional(&self.phone)
            .map(Phone::parse)
            .transpose()
            .map_err(|e| e.to_string())?;
        let address = match (optional(&self.address_line1), optional(&self.city)) {
            (None, None) if optional(&self.postal_code).is_none() => None,
            (Some(line1), Some(city)) => Some(PostalAddress {
                line1: AddressLine::parse(line1).map_err(|e| e.to_string())?,
                line2: optional(&self.address_line2)
                    .map(AddressLine::parse)
                    .transpose()
                    .map_err(|e| e.to_string())?,
                city: AddressLine::parse(city).map_err(|e| e.to_string())?,
                region: optional(&self.region)
                    .map(AddressLine::parse)
                    .transpose()
                    .map_err(|e| e.to_string())?,
                postal_code: optional(&self.postal_code)
                    .map(PostalCode::parse)
                    .transpose()
                    .map_err(|e| e.to_string())?,
            }),
            _ => return Err("An address needs a street and a city".to_owned()),
        };
        Ok(Contact {
            email,
            phone,
            address,
        })
    }
}

/// The longest note, in characters.
pub const MAX_NOTE: usize = 2_000;

/// A private note as typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteForm {
    pub member: MemberId,
    pub body: String,
}

impl NoteForm {
    /// The note's text, trimmed, if it is 1 to [`MAX_NOTE`] characters.
    pub fn text(&self) -> Result<&str, &'static str> {
        let body = self.body.trim();
        if body.is_empty() || body.chars().count() > MAX_NOTE {
            Err("A note holds 1 to 2,000 characters")
        } else {
            Ok(body)
        }
    }
}

/// One command on its way to the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushCommand {
    pub key: IdempotencyKey,
    pub command: Command,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRequest {
    pub commands: Vec<PushCommand>,
}

/// The server's answer to one command. The same key always gets the same answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Done; `server_ref` names what it made (e.g. `member:1234`).
    Applied { server_ref: String },
    /// Refused for good; `reason` is shown to the user, who may fix the command or drop it.
    Rejected { reason: String },
    /// Not done now (the server was busy): send it again later.
    RetryLater { reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResult {
    pub key: IdempotencyKey,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// The answers, in the order of the commands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    pub results: Vec<PushResult>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_form_is_checked_line_by_line() {
        let form = |lines: &[(&str, u32)]| OrderForm {
            member: MemberId::new(7),
            lines: lines
                .iter()
                .map(|&(sku, quantity)| OrderFormLine {
                    sku: sku.into(),
                    quantity,
                })
                .collect(),
        };
        let ok = form(&[("vit-100", 2), ("TEA-GREEN", 99)])
            .validate()
            .unwrap();
        assert_eq!(ok[0].0.as_str(), "VIT-100");
        assert_eq!(ok[1].1.get(), 99);
        let cases: [(&[(&str, u32)], &str); 5] = [
            (&[], "at least one product"),
            (&[("VIT-100", 0)], "Order 1 to 99 of VIT-100"),
            (&[("VIT-100", 100)], "Order 1 to 99 of VIT-100"),
            (&[("VIT-100", 1), ("vit-100", 2)], "VIT-100 is listed twice"),
            (&[("no sku!", 1)], "Product codes"),
        ];
        for (lines, message) in cases {
            let err = form(lines).validate().unwrap_err();
            assert!(err.contains(message), "{lines:?}: {err}");
        }
        let many: Vec<(String, u32)> = (0..51).map(|i| (format!("P{i}"), 1)).collect();
        let many: Vec<(&str, u32)> = many.iter().map(|(s, q)| (s.as_str(), *q)).collect();
        assert!(form(&many).validate().unwrap_err().contains("at most 50"));
    }

    #[test]
    fn commands_travel_as_type_and_form() {
        let note = Command::AddNote(NoteForm {
            member: MemberId::new(7),
            body: " call back ".into(),
        });
        let json = serde_json::to_value(&note).unwrap();
        assert_eq!(json["type"], "add_note");
        assert_eq!(json["form"]["member"], 7);
        assert_eq!(serde_json::from_value::<Command>(json).unwrap(), note);
        let Command::AddNote(form) = note else {
            unreachable!()
        };
        assert_eq!(form.text(), Ok("call back"));
        let contact = ContactForm {
            email: "zoe@example.de".into(),
            address_line1: "Hauptstr. 1".into(),
            city: "Berlin".into(),
            ..ContactForm::default()
        };
        assert!(contact.validate().unwrap().address.is_some());
        let street_only = ContactForm {
            city: String::new(),
            ..contact.clone()
        };
        assert_eq!(
            street_only.validate().unwrap_err(),
            "An address needs a street and a city"
        );
        let no_email = ContactForm {
            email: "not an email".into(),
            ..contact
        };
        assert!(no_email.validate().is_err());
        for bad in ["", "   ", &"x".repeat(MAX_NOTE + 1)] {
            let form = NoteForm {
                member: MemberId::new(7),
                body: bad.to_owned(),
            };
            assert!(form.text().is_err(), "{bad:?}");
        }
    }
}
