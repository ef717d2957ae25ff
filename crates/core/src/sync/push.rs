//! The outbox push: commands made offline, each with the client's idempotency key, and the
//! server's answer for each — applied (with what it made), rejected (with a reason a person
//! understands), or "try again later". JSON on the wire: commands are small forms.

use serde::{Deserialize, Serialize};

use crate::ids::IdempotencyKey;
use crate::validate::EnrollmentForm;

/// The most commands one push may carry.
pub const MAX_COMMANDS: usize = 500;

/// What a field rep or distributor did offline: `{"type": "enroll", "form": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "form", rename_all = "snake_case")]
pub enum Command {
    /// Enroll a distributor under a sponsor in the user's downline (or the user).
    Enroll(Box<EnrollmentForm>),
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
