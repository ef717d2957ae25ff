//! Shared helpers of the store's integration tests: members built from a few numbers, and a
//! fresh encrypted cache in a temp dir.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use canopy_core::{
    CountryCode, Member, MemberId, MemberNumber, MemberStatus, Period, PersonName, Placement,
    Position, Rank,
};
use canopy_store::{CacheKey, Store};
use time::Month;
use time::macros::date;

pub const RANK_NAMES: [&str; 5] = ["Member", "Bronze", "Silver", "Gold", "Diamond"];

pub fn period(month: u8) -> Period {
    Period::new(2026, Month::try_from(month).unwrap()).unwrap()
}

/// A member with id `id`, enrolled (and placed) by `sponsor`.
pub fn member(id: i64, sponsor: Option<i64>, rank: u16) -> Member {
    let first = ["Anna", "Zoë", "Liam", "Mia", "Noah", "Ada", "Omar", "Yuki"][id as usize % 8];
    Member {
        id: MemberId::new(id),
        number: MemberNumber::parse(&format!("{:08}", 10_000_000 + id)).unwrap(),
        sponsor: sponsor.map(MemberId::new),
        placement: sponsor.map(|s| Placement {
            parent: MemberId::new(s),
            position: Position::Unilevel(0),
        }),
        rank: Rank::new(rank, RANK_NAMES[usize::from(rank) % RANK_NAMES.len()]),
        status: if id % 5 == 0 {
            MemberStatus::Inactive
        } else {
            MemberStatus::Active
        },
        joined_on: date!(2024 - 01 - 01) + time::Duration::days(id % 700),
        country: CountryCode::parse(["DE", "FR", "US", "JP"][id as usize % 4]).unwrap(),
        display_name: PersonName::parse(&format!("{first} {}", letters(id))).unwrap(),
        personal: None,
    }
}

/// A new, empty, encrypted cache in its own temp dir (kept alive by the returned guard).
pub fn fresh_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("cache.db"), CacheKey::generate().unwrap()).unwrap();
    (dir, store)
}

/// `id` in letters (names may not hold digits): 1 → "B", 27 → "BB".
pub fn letters(mut id: i64) -> String {
    let mut out = String::new();
    loop {
        out.insert(0, char::from(b'A' + (id % 26) as u8));
        id /= 26;
        if id == 0 {
            break;
        }
    }
    out
}

/// The raw key as SQLCipher's key pragma, the way any peer keys a connection to the cache:
/// `PRAGMA key = "x'…'";`.
pub fn key_pragma(key: &CacheKey) -> String {
    format!(
        "PRAGMA key = \"x'{}'\";",
        data_encoding::HEXUPPER.encode(key.as_bytes())
    )
}

/// What a shell printed and whether it succeeded.
#[derive(Debug)]
pub struct ShellOutput {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

/// The `sqlcipher` shell (SQLCipher 4): `$CANOPY_SQLCIPHER`, else on PATH, else where
/// `cargo xtask setup` puts it. Missing or too old is a failed test, never a skipped one.
pub fn sqlcipher_shell() -> std::path::PathBuf {
    let tools = std::env::var_os("CANOPY_CACHE_DIR")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|home| std::path::Path::new(&home).join(".cache").join("canopy"))
        })
        .map(|cache| cache.join("tools").join("bin").join("sqlcipher"));
    let shell = std::env::var_os("CANOPY_SQLCIPHER")
        .map(std::path::PathBuf::from)
        .or_else(|| on_path("sqlcipher"))
        .or(tools.filter(|p| p.is_file()))
        .unwrap_or_else(|| {
            panic!(
                "the `sqlcipher` shell (SQLCipher 4) is missing: run `cargo xtask setup`, \
                 or set CANOPY_SQLCIPHER to one"
            )
        });
    let version = std::process::Command::new(&shell)
        .arg("-version")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {}: {e}; run `cargo xtask setup`",
                shell.display()
            )
        });
    let version = String::from_utf8_lossy(&version.stdout);
    assert!(
        version.contains("SQLCipher 4"),
        "{} is not SQLCipher 4 ({}): run `cargo xtask setup`, or set CANOPY_SQLCIPHER",
        shell.display(),
        version.trim()
    );
    shell
}

/// SQLite's own `sqlite3` shell, on PATH. Missing is a failed test.
pub fn sqlite3_shell() -> std::path::PathBuf {
    on_path("sqlite3").unwrap_or_else(|| {
        panic!("the `sqlite3` shell is missing: run `cargo xtask setup` (Debian package sqlite3)")
    })
}

fn on_path(program: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// Runs `shell` on the database `db` with `sql` on its standard input, stopping at the
/// first error (`-bail`).
pub fn run_shell(shell: &std::path::Path, db: &std::path::Path, sql: &str) -> ShellOutput {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(shell)
        .arg("-bail")
        .arg(db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", shell.display()));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(sql.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    ShellOutput {
        success: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
