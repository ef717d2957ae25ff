//! The outbox of offline commands: what enqueue accepts and refuses, the states a command
//! goes through on its way to the server, and that a command reported saved survives the
//! app being killed mid-write (a child process enqueues in a loop and gets SIGKILL).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use canopy_core::IdempotencyKey;
use canopy_store::outbox::MAX_PAYLOAD;
use canopy_store::{CacheKey, CommandKind, OutboxItem, OutboxState, Store, StoreError};
use common::fresh_store;
use time::OffsetDateTime;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-11-21 18:00 UTC);
const ENROLL: &str = r#"{"display_name":"Ada Lovelace","sponsor":7}"#;

fn key(n: u8) -> IdempotencyKey {
    IdempotencyKey::from_random_bytes([n; 16])
}

fn enqueue(store: &Store, n: u8, payload: &str) -> Result<OutboxItem, StoreError> {
    store.enqueue(&key(n), CommandKind::Enroll, payload, NOW)
}

#[test]
fn enqueue_keeps_commands_in_order_and_refuses_bad_ones() {
    let (_dir, store) = fresh_store();
    let exactly_max = format!("\"{}\"", "a".repeat(MAX_PAYLOAD - 2));
    let one_over = format!("\"{}\"", "a".repeat(MAX_PAYLOAD - 1));
    // (idempotency key, payload, the error the user sees)
    let cases: [(u8, &str, Option<&str>); 6] = [
        (1, ENROLL, None),
        (2, r#"{"note":"call back on Monday"}"#, None),
        (
            1,
            r#"{"display_name":"Someone Else"}"#,
            Some("this command is already in the outbox"),
        ),
        (3, &exactly_max, None),
        (4, &one_over, Some("a command may hold at most 64 KiB")),
        (
            5,
            "{display_name: Ada}",
            Some("the command is not valid JSON: key must be a string"),
        ),
    ];
    let mut accepted = Vec::new();
    for (n, payload, error) in cases {
        match (enqueue(&store, n, payload), error) {
            (Ok(item), None) => {
                assert_eq!(item.key, key(n));
                assert_eq!(item.payload, payload);
                assert_eq!(item.state, OutboxState::Pending);
                assert_eq!(item.created_at, NOW);
                assert_eq!(
                    (item.attempts, &item.last_error, &item.server_ref),
                    (0, &None, &None)
                );
                accepted.push(item);
            }
            (Err(err), Some(text)) => {
                assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
                let shown = err.to_string();
                assert!(
                    shown.starts_with(&format!("invalid data for the cache: {text}")),
                    "key {n}: {shown}"
                );
            }
            (other, _) => panic!("key {n}: expected {error:?}, got {other:?}"),
        }
    }
    // The refused ones left no trace; the first command with key 1 is as it was.
    assert_eq!(store.outbox(None).unwrap(), accepted);
    assert!(accepted.windows(2).all(|w| w[0].seq < w[1].seq));

    store.outbox_sending(accepted[1].seq, NOW).unwrap();
    let pending: Vec<IdempotencyKey> = store
        .outbox(Some(OutboxState::Pending))
        .unwrap()
        .into_iter()
        .map(|i| i.key)
        .collect();
    assert_eq!(pending, [key(1), key(3)]);
}

/// A step the sync (or the user) takes on a command.
#[derive(Debug, Clone, Copy)]
enum Step {
    Send,
    Apply(Option<&'static str>),
    Reject(&'static str),
    Retry(&'static str),
    Resubmit(&'static str),
    Discard,
}

/// How the command looks in the outbox at the end: state, attempts, last error, server
/// reference, payload. `None`: it is gone.
type View<'a> = Option<(OutboxState, u32, Option<&'a str>, Option<&'a str>, &'a str)>;

const FIXED: &str = r#"{"display_name":"Ada Lovelace","sponsor":8}"#;

#[test]
fn commands_move_through_their_states() {
    use OutboxState::{Applied, Pending, Rejected, Sending};
    use Step::*;
    const ONLY_REJECTED_DISCARD: &str = "only a rejected command can be discarded";
    const ONLY_REJECTED_RESEND: &str = "only a rejected command can be fixed and resent";
    // (what, steps, the error of the last step, what the outbox shows afterwards)
    let cases: [(&str, &[Step], Option<&str>, View<'static>); 11] = [
        ("waiting", &[], None, Some((Pending, 0, None, None, ENROLL))),
        (
            "handed to the server",
            &[Send],
            None,
            Some((Sending, 1, None, None, ENROLL)),
        ),
        (
            "applied",
            &[Send, Apply(Some("member 42"))],
            None,
            Some((Applied, 1, None, Some("member 42"), ENROLL)),
        ),
        (
            "offline, then applied on the second attempt",
            &[Send, Retry("offline"), Send, Apply(None)],
            None,
            Some((Applied, 2, None, None, ENROLL)),
        ),
        (
            "offline: back to pending with the reason",
            &[Send, Retry("offline")],
            None,
            Some((Pending, 1, Some("offline"), None, ENROLL)),
        ),
        (
            "rejected",
            &[Send, Reject("sponsor 7 is not in your team")],
            None,
            Some((
                Rejected,
                1,
                Some("sponsor 7 is not in your team"),
                None,
                ENROLL,
            )),
        ),
        (
            "rejected, fixed and resent",
            &[
                Send,
                Reject("sponsor 7 is not in your team"),
                Resubmit(FIXED),
            ],
            None,
            Some((Pending, 1, None, None, FIXED)),
        ),
        (
            "rejected and discarded",
            &[Send, Reject("no"), Discard],
            None,
            None,
        ),
        (
            "a pending command cannot be discarded",
            &[Discard],
            Some(ONLY_REJECTED_DISCARD),
            Some((Pending, 0, None, None, ENROLL)),
        ),
        (
            "an applied command cannot be discarded",
            &[Send, Apply(Some("member 42")), Discard],
            Some(ONLY_REJECTED_DISCARD),
            Some((Applied, 1, None, Some("member 42"), ENROLL)),
        ),
        (
            "a pending command cannot be resent with a new payload",
            &[Resubmit(FIXED)],
            Some(ONLY_REJECTED_RESEND),
            Some((Pending, 0, None, None, ENROLL)),
        ),
    ];
    for (what, steps, error, view) in cases {
        check(what, steps, error, view);
    }
}

fn check(what: &str, steps: &[Step], error: Option<&str>, view: View<'_>) {
    let (_dir, store) = fresh_store();
    let seq = enqueue(&store, 1, ENROLL).unwrap().seq;
    for (i, step) in steps.iter().enumerate() {
        let result = match *step {
            Step::Send => store.outbox_sending(seq, NOW),
            Step::Apply(server_ref) => store.outbox_applied(seq, server_ref, NOW),
            Step::Reject(reason) => store.outbox_rejected(seq, reason, NOW),
            Step::Retry(reason) => store.outbox_retry(seq, reason, NOW),
            Step::Resubmit(payload) => {
                store.outbox_resubmit(seq, &key(200 + i as u8), payload, NOW)
            }
            Step::Discard => store.outbox_discard(seq),
        };
        let last = i + 1 == steps.len();
        match (result, error) {
            (Ok(()), None) => {}
            (Ok(()), Some(_)) if !last => {}
            (Err(err), Some(text)) if last => {
                assert_eq!(
                    err.to_string(),
                    format!("invalid data for the cache: {text}"),
                    "{what}"
                );
            }
            (result, _) => panic!("{what}: step {step:?} gave {result:?}"),
        }
    }
    let outbox = store.outbox(None).unwrap();
    assert!(outbox.len() <= 1, "{what}: {outbox:?}");
    let shown: View<'_> = outbox.first().map(|item| {
        (
            item.state,
            item.attempts,
            item.last_error.as_deref(),
            item.server_ref.as_deref(),
            item.payload.as_str(),
        )
    });
    assert_eq!(shown, view, "{what}");
}

#[test]
fn fixing_a_rejected_command_needs_valid_json() {
    let (_dir, store) = fresh_store();
    let seq = enqueue(&store, 1, ENROLL).unwrap().seq;
    store.outbox_rejected(seq, "sponsor unknown", NOW).unwrap();
    let err = store
        .outbox_resubmit(seq, &key(2), "{oops", NOW)
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("invalid data for the cache: the command is not valid JSON"),
        "{err}"
    );
    let item = &store.outbox(None).unwrap()[0];
    assert_eq!(item.state, OutboxState::Rejected);
    assert_eq!(item.payload, ENROLL);
    assert_eq!(item.last_error.as_deref(), Some("sponsor unknown"));

    let err = store.outbox_discard(seq + 1).unwrap_err();
    assert_eq!(err.to_string(), "outbox command not found in the cache");
}

/// Tells the child where the cache is and its raw key: `<hex key>:<db path>`.
const CHILD_ENV: &str = "CANOPY_OUTBOX_KILL_CHILD";
const CHILD_TEST: &str = "enqueue_forever_child";

/// The `i`-th command the child makes (a deterministic function, so the parent knows
/// what each saved command must hold).
fn nth_command(i: u64) -> (IdempotencyKey, CommandKind, String) {
    let key = IdempotencyKey::parse(&format!("kill-test-{i:016}")).unwrap();
    let kind = [
        CommandKind::Enroll,
        CommandKind::PlaceOrder,
        CommandKind::UpdateContact,
        CommandKind::AddNote,
    ][(i % 4) as usize];
    let payload = serde_json::json!({ "n": i, "note": "x".repeat((i % 7 * 300) as usize) });
    (key, kind, payload.to_string())
}

/// Runs only as the child of `a_command_reported_saved_survives_a_kill`: enqueues commands
/// one after another until it is killed, reporting each once `enqueue` has returned.
#[test]
#[ignore = "run by the kill test as its child process"]
fn enqueue_forever_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (hex, path) = spec.split_once(':').unwrap();
    let raw = data_encoding::HEXUPPER.decode(hex.as_bytes()).unwrap();
    let store = Store::open(Path::new(path), CacheKey::from_slice(&raw).unwrap()).unwrap();
    // Resume after the commands an earlier child saved.
    let mut i = store.outbox(None).unwrap().len() as u64;
    let mut out = std::io::stdout().lock();
    loop {
        let (key, kind, payload) = nth_command(i);
        let item = store
            .enqueue(&key, kind, &payload, OffsetDateTime::now_utc())
            .unwrap();
        writeln!(out, "saved {} {}", item.seq, key.as_str()).unwrap();
        out.flush().unwrap();
        i += 1;
    }
}

/// Kills the child if the test fails before it does.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_command_reported_saved_survives_a_kill() {
    let (dir, store) = fresh_store();
    let key = store.key().unwrap().clone();
    let db = dir.path().join("cache.db");
    store.lock();
    let spec = format!(
        "{}:{}",
        data_encoding::HEXUPPER.encode(key.as_bytes()),
        db.display()
    );
    let mut reported: Vec<(i64, String)> = Vec::new();
    // Three children, each killed after a different number of saved commands.
    for kill_after in [200, 137, 61] {
        let mut child = KillOnDrop(
            Command::new(std::env::current_exe().unwrap())
                .args(["--exact", CHILD_TEST, "--ignored", "--nocapture"])
                .env(CHILD_ENV, &spec)
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap(),
        );
        let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
        let saved = |line: &str| {
            let (seq, key) = line.strip_prefix("saved ")?.split_once(' ')?;
            Some((seq.parse::<i64>().unwrap(), key.to_owned()))
        };
        let mut seen = 0;
        while seen < kill_after {
            let line = lines
                .next()
                .expect("the child stopped before it was killed")
                .unwrap();
            if let Some(entry) = saved(&line) {
                reported.push(entry);
                seen += 1;
            }
        }
        child.0.kill().unwrap();
        let status = child.0.wait().unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(status.signal(), Some(9), "the child ended with {status}");
        }
        #[cfg(not(unix))]
        assert!(!status.success());
        // What the child reported between our last read and its death counts too.
        reported.extend(lines.map_while(Result::ok).filter_map(|l| saved(&l)));

        let store = Store::open(&db, key.clone()).unwrap();
        let integrity: String = store
            .database()
            .read(|c| Ok(c.query_row("PRAGMA integrity_check", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(integrity, "ok");
        let outbox = store.outbox(None).unwrap();
        // Every command reported saved is there, whole; at most the one being written
        // when the kill came is there too, unreported — and whole as well.
        assert!(
            (reported.len()..=reported.len() + 1).contains(&outbox.len()),
            "{} reported, {} in the outbox",
            reported.len(),
            outbox.len()
        );
        for (i, item) in outbox.iter().enumerate() {
            let (key, kind, payload) = nth_command(i as u64);
            assert_eq!(
                (item.key.as_str(), item.kind, item.payload.as_str()),
                (key.as_str(), kind, payload.as_str()),
                "command {i}"
            );
            assert_eq!(item.state, OutboxState::Pending);
            if let Some((seq, reported_key)) = reported.get(i) {
                assert_eq!((item.seq, item.key.as_str()), (*seq, reported_key.as_str()));
            }
        }
        // The next child goes on after the last command in the outbox, reported or not.
        if reported.len() < outbox.len() {
            let item = &outbox[reported.len()];
            reported.push((item.seq, item.key.as_str().to_owned()));
        }
    }
}
