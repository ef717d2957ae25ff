//! Crash safety of the key envelope file: a child process changes the password and is
//! killed (`abort`) at each step of the atomic write; the envelope left on disk must
//! still open, with exactly one of the two passwords.

// Helpers outside `#[test]` functions are test code too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use canopy_store::envelope::CrashPoint;
use canopy_store::{CacheKey, Envelope, KdfParams, StoreError};

const OLD: &str = "old password";
const NEW: &str = "new password";
/// Tells the child which crash point to hit and where: `<point>:<envelope path>`.
const CHILD_ENV: &str = "CANOPY_ENVELOPE_CRASH_CHILD";
const CHILD_TEST: &str = "crash_child";

fn crash_point(name: &str) -> Option<CrashPoint> {
    match name {
        "after-temp-write" => Some(CrashPoint::AfterTempWrite),
        "before-rename" => Some(CrashPoint::BeforeRename),
        "after-rename" => Some(CrashPoint::AfterRename),
        _ => None,
    }
}

/// Runs only as the child of `a_crash_while_changing_the_password_loses_nothing`.
#[test]
#[ignore = "run by the crash test as its child process"]
fn crash_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (point, path) = spec.split_once(':').unwrap();
    let point = crash_point(point).unwrap();
    let path = Path::new(path);
    let key = CacheKey::generate().unwrap();
    let old = Envelope::seal(&key, OLD, KdfParams::DEFAULT).unwrap();
    old.write_atomic(path).unwrap();
    let new = old.rewrap(OLD, NEW).unwrap();
    new.write_atomic_with(path, Some(point)).unwrap();
    unreachable!("write_atomic_with returned instead of crashing at {point:?}");
}

#[test]
fn a_crash_while_changing_the_password_loses_nothing() {
    let cases = [
        ("after-temp-write", OLD),
        ("before-rename", OLD),
        ("after-rename", NEW),
    ];
    for (point, expected) in cases {
        check(point, expected);
    }
}

fn check(point: &str, expected: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key-envelope.json");
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", CHILD_TEST, "--ignored", "--nocapture"])
        .env(CHILD_ENV, format!("{point}:{}", path.display()))
        .status()
        .unwrap();
    assert!(!status.success(), "{point}: the child did not crash");
    #[cfg(unix)]
    {
        // SIGABRT, not a panic (exit code 101) somewhere before the crash point.
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            status.signal(),
            Some(6),
            "{point}: the child ended with {status}"
        );
    }
    // The crash happened where it was meant to: the temp file tells.
    let tmp = dir.path().join("key-envelope.json.tmp");
    match point {
        "after-temp-write" => {
            let partial = std::fs::read(&tmp).unwrap();
            assert!(serde_json::from_slice::<Envelope>(&partial).is_err());
        }
        "before-rename" => {
            let complete = std::fs::read(&tmp).unwrap();
            serde_json::from_slice::<Envelope>(&complete).unwrap();
        }
        _ => assert!(!tmp.exists(), "{point}: the temp file is still there"),
    }

    let envelope = Envelope::read(&path)
        .unwrap_or_else(|e| panic!("{point}: the envelope is unreadable after a crash: {e}"));
    let other = if expected == OLD { NEW } else { OLD };
    envelope
        .open(expected)
        .unwrap_or_else(|e| panic!("{point}: {expected:?} does not open it: {e}"));
    let err = envelope.open(other).unwrap_err();
    assert!(
        matches!(err, StoreError::WrongPassword),
        "{point}: {other:?} gave {err:?}"
    );

    // The next ordinary write ignores whatever temp file the crash left.
    envelope.write_atomic(&path).unwrap();
    assert_eq!(Envelope::read(&path).unwrap(), envelope);
    assert!(!dir.path().join("key-envelope.json.tmp").exists());
}
