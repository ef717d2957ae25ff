//! The outbox push: the cache's pending commands (and any sent whose answer was lost) go to
//! the server in the order they were made, in batches; each answer lands on its command —
//! applied, rejected with the server's reason for the user to fix or discard, or back to
//! pending. Nothing is dropped: a command the server never answered is sent again.

use canopy_core::sync::push::{
    Command, MAX_COMMANDS, Outcome, PushCommand, PushRequest, PushResponse,
};
use canopy_store::{NoteRow, OutboxAnswer, OutboxState, Store};
use time::OffsetDateTime;

use crate::client::ServerClient;
use crate::error::SyncError;

/// Commands per request.
const BATCH: usize = 200;

/// What one push did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PushSummary {
    pub applied: u64,
    pub rejected: u64,
    pub retry_later: u64,
}

impl ServerClient {
    /// Pushes the outbox until nothing is left to send (or the server asks to wait).
    pub async fn push_outbox(
        &self,
        store: &Store,
        access_token: &str,
        now: OffsetDateTime,
    ) -> Result<PushSummary, SyncError> {
        let mut summary = PushSummary::default();
        loop {
            let mut waiting = store.outbox(Some(OutboxState::Sending))?;
            waiting.extend(store.outbox(Some(OutboxState::Pending))?);
            waiting.sort_by_key(|item| item.seq);
            waiting.truncate(BATCH.min(MAX_COMMANDS));
            if waiting.is_empty() {
                return Ok(summary);
            }
            let mut commands = Vec::with_capacity(waiting.len());
            let mut sending = Vec::with_capacity(waiting.len());
            let mut unreadable = Vec::new();
            for item in &waiting {
                match serde_json::from_str::<Command>(&item.payload) {
                    Ok(command) => {
                        commands.push(PushCommand {
                            key: item.key.clone(),
                            command,
                        });
                        sending.push((item.seq, OutboxAnswer::Sending));
                    }
                    // Kept for the user to see, never silently dropped.
                    Err(e) => unreadable.push((
                        item.seq,
                        OutboxAnswer::Rejected(format!(
                            "This app can't read this command any more: {e}"
                        )),
                    )),
                }
            }
            summary.rejected += unreadable.len() as u64;
            sending.extend(unreadable);
            store.outbox_answers(&sending, now)?;
            if commands.is_empty() {
                continue;
            }
            let sent: Vec<i64> = sending
                .iter()
                .filter(|(_, a)| *a == OutboxAnswer::Sending)
                .map(|(seq, _)| *seq)
                .collect();
            let request = PushRequest { commands };
            let response = self
                .http()
                .post(self.url("/v1/sync/push"))
                .bearer_auth(access_token)
                .json(&request)
                .send()
                .await
                .map_err(SyncError::from_request)?;
            let status = response.status();
            if !status.is_success() {
                return Err(SyncError::from_response(response).await);
            }
            let answers: PushResponse = response.json().await.map_err(SyncError::from_request)?;
            let mut progressed = false;
            let mut filed = Vec::with_capacity(sent.len());
            for (seq, item) in sent
                .iter()
                .zip(waiting.iter().filter(|i| sent.contains(&i.seq)))
            {
                let Some(answer) = answers.results.iter().find(|r| r.key == item.key) else {
                    // No answer: it stays "sending" and goes again next time.
                    continue;
                };
                filed.push((
                    *seq,
                    match &answer.outcome {
                        Outcome::Applied { server_ref } => {
                            summary.applied += 1;
                            progressed = true;
                            OutboxAnswer::Applied(Some(server_ref.clone()))
                        }
                        Outcome::Rejected { reason } => {
                            summary.rejected += 1;
                            progressed = true;
                            OutboxAnswer::Rejected(reason.clone())
                        }
                        Outcome::RetryLater { reason } => {
                            summary.retry_later += 1;
                            OutboxAnswer::Retry(reason.clone())
                        }
                    },
                ));
            }
            store.outbox_answers(&filed, now)?;
            keep_applied_notes(store, &request.commands, &waiting, &filed)?;
            if !progressed {
                // The server answered nothing final: try again at the next scheduled sync.
                return Ok(summary);
            }
        }
    }
}

/// A note the server applied is the user's own data: it goes into the cache at once, under
/// the id the server gave it (`note:<id>`), instead of waiting for a sync to bring it.
fn keep_applied_notes(
    store: &Store,
    commands: &[PushCommand],
    waiting: &[canopy_store::OutboxItem],
    filed: &[(i64, OutboxAnswer)],
) -> Result<(), SyncError> {
    let mut notes = Vec::new();
    for (seq, answer) in filed {
        let OutboxAnswer::Applied(Some(server_ref)) = answer else {
            continue;
        };
        let Some(item) = waiting.iter().find(|i| i.seq == *seq) else {
            continue;
        };
        let Some(Command::AddNote(form)) = commands
            .iter()
            .find(|c| c.key == item.key)
            .map(|c| &c.command)
        else {
            continue;
        };
        let Some(id) = server_ref
            .strip_prefix("note:")
            .and_then(|n| n.parse::<i64>().ok())
        else {
            continue;
        };
        notes.push(NoteRow {
            id,
            member: form.member,
            body: form.body.trim().to_owned(),
            created_at: item
                .created_at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        });
    }
    if !notes.is_empty() {
        store.write(|w| notes.iter().try_for_each(|n| w.put_note(n)))?;
    }
    Ok(())
}
