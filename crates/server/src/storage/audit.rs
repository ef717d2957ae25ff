//! The audit log's hash chain, shared by every backend: canonical event bytes, the
//! SHA-256 link `hash = SHA-256(prev_hash ‖ event)`, and verification of a whole chain.

use ring::digest;
use serde_json::Value;
use time::OffsetDateTime;

use super::records::AuditRecord;
use canopy_core::AccountId;

/// The `prev_hash` of the first event.
pub const GENESIS: [u8; 32] = [0; 32];

/// Domain separation, and a version in case the encoding ever has to change.
const TAG: &[u8] = b"canopy-audit-v1\0";

/// Where and how a chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditChainError {
    #[error("audit event {seq} is out of sequence (expected {expected})")]
    Gap { seq: i64, expected: i64 },
    #[error("audit event {seq} does not link to the event before it")]
    BrokenLink { seq: i64 },
    #[error("audit event {seq} was altered (its hash does not match)")]
    Altered { seq: i64 },
}

/// JSON with object keys sorted at every level and no insignificant whitespace, so the
/// same details always hash the same whatever map order serde_json was built with.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(item, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// The fields of one event, as hashed.
#[derive(Debug, Clone, Copy)]
pub struct EventFields<'a> {
    pub seq: i64,
    pub at: OffsetDateTime,
    pub actor: Option<AccountId>,
    pub action: &'a str,
    pub target: Option<&'a str>,
    /// Canonical JSON text.
    pub details: &'a str,
}

impl EventFields<'_> {
    /// Fixed-width integers and length-prefixed strings: no two different events
    /// encode to the same bytes.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        fn text(out: &mut Vec<u8>, s: &str) {
            out.extend_from_slice(&(s.len() as u64).to_be_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        let mut out = Vec::with_capacity(TAG.len() + 64 + self.action.len() + self.details.len());
        out.extend_from_slice(TAG);
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.at.unix_timestamp().to_be_bytes());
        match self.actor {
            Some(actor) => {
                out.push(1);
                out.extend_from_slice(&actor.get().to_be_bytes());
            }
            None => out.push(0),
        }
        text(&mut out, self.action);
        match self.target {
            Some(target) => {
                out.push(1);
                text(&mut out, target);
            }
            None => out.push(0),
        }
        text(&mut out, self.details);
        out
    }

    /// `SHA-256(prev_hash ‖ canonical bytes)`.
    pub fn hash(&self, prev_hash: &[u8; 32]) -> [u8; 32] {
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(prev_hash);
        ctx.update(&self.canonical_bytes());
        let mut hash = [0u8; 32];
        hash.copy_from_slice(ctx.finish().as_ref());
        hash
    }
}

impl<'a> From<&'a AuditRecord> for EventFields<'a> {
    fn from(record: &'a AuditRecord) -> Self {
        Self {
            seq: record.seq,
            at: record.at,
            actor: record.actor,
            action: &record.action,
            target: record.target.as_deref(),
            details: &record.details,
        }
    }
}

/// Checks a run of consecutive events. A run starting at seq 1 must link to
/// [`GENESIS`]; a later run is checked from its first event's `prev_hash`.
pub fn verify_chain(events: &[AuditRecord]) -> Result<(), AuditChainError> {
    let Some(first) = events.first() else {
        return Ok(());
    };
    let mut prev = if first.seq == 1 {
        GENESIS
    } else {
        first.prev_hash
    };
    for (expected, event) in (first.seq..).zip(events) {
        if event.seq != expected {
            return Err(AuditChainError::Gap {
                seq: event.seq,
                expected,
            });
        }
        if event.prev_hash != prev {
            return Err(AuditChainError::BrokenLink { seq: event.seq });
        }
        if EventFields::from(event).hash(&prev) != event.hash {
            return Err(AuditChainError::Altered { seq: event.seq });
        }
        prev = event.hash;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chain(actions: &[&str]) -> Vec<AuditRecord> {
        let mut prev = GENESIS;
        let mut out = Vec::new();
        for (i, action) in actions.iter().enumerate() {
            let seq = i as i64 + 1;
            let at = OffsetDateTime::from_unix_timestamp(1_700_000_000 + seq).unwrap();
            let details = canonical_json(&json!({"n": seq}));
            let fields = EventFields {
                seq,
                at,
                actor: Some(AccountId::new(1)),
                action,
                target: None,
                details: &details,
            };
            let hash = fields.hash(&prev);
            out.push(AuditRecord {
                seq,
                at,
                actor: Some(AccountId::new(1)),
                action: (*action).to_owned(),
                target: None,
                details,
                prev_hash: prev,
                hash,
            });
            prev = hash;
        }
        out
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let value = json!({"b": 1, "a": {"z": [true, null], "y": "é\"x"}});
        assert_eq!(
            canonical_json(&value),
            r#"{"a":{"y":"é\"x","z":[true,null]},"b":1}"#
        );
    }

    #[test]
    fn a_good_chain_verifies_and_any_change_is_found() {
        let good = chain(&["a", "b", "c"]);
        assert_eq!(verify_chain(&good), Ok(()));
        assert_eq!(verify_chain(&good[1..]), Ok(()));

        let mut altered = good.clone();
        altered[1].action = "x".to_owned();
        assert_eq!(
            verify_chain(&altered),
            Err(AuditChainError::Altered { seq: 2 })
        );

        let mut dropped = good.clone();
        dropped.remove(1);
        assert_eq!(
            verify_chain(&dropped),
            Err(AuditChainError::Gap {
                seq: 3,
                expected: 2
            })
        );

        let mut relinked = good;
        relinked[2].prev_hash = [9; 32];
        assert_eq!(
            verify_chain(&relinked),
            Err(AuditChainError::BrokenLink { seq: 3 })
        );
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        let a = EventFields {
            seq: 1,
            at: OffsetDateTime::UNIX_EPOCH,
            actor: None,
            action: "ab",
            target: Some("c"),
            details: "{}",
        };
        let b = EventFields {
            action: "a",
            target: Some("bc"),
            ..a
        };
        assert_ne!(a.hash(&GENESIS), b.hash(&GENESIS));
    }
}
