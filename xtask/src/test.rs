//! `cargo xtask test`: every check CI runs, in the order that fails fastest:
//! formatting, the UI's wasm build, clippy, the workspace's tests, then the
//! end-to-end suite in the real window. Ends with one summary line.

use anyhow::{Result, bail};

use crate::{build, e2e, postgres, proc, setup};

pub fn run() -> Result<()> {
    setup::ensure(setup::Purpose::Test)?;

    proc::step("Formatting (cargo fmt --check)");
    proc::run(proc::cargo().args(["fmt", "--all", "--check"]))?;

    // The app embeds the UI at compile time, so the UI comes before clippy.
    build::build_ui()?;

    proc::step("Lints (cargo clippy, warnings are errors)");
    proc::run(proc::cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;

    let mut tally = Tally::default();
    let unit = unit_and_integration_tests(&mut tally).and_then(|()| on_postgres(&mut tally));
    let end_to_end = unit.as_ref().ok().map(|()| {
        let app = build::build_app()?;
        e2e::run_suite(&app, &mut tally)
    });
    tally.print();
    unit?;
    end_to_end.transpose()?;
    if tally.failed > 0 {
        bail!("{} tests failed", tally.failed);
    }
    Ok(())
}

/// The workspace's unit and integration tests (the end-to-end crate's tests
/// are `#[ignore]`d there and run by the e2e step instead).
fn unit_and_integration_tests(tally: &mut Tally) -> Result<()> {
    proc::step("Unit and integration tests");
    let mut cmd = proc::cargo();
    if proc::on_path("cargo-nextest") {
        cmd.args(["nextest", "run", "--workspace", "--no-fail-fast"]);
    } else {
        proc::info("cargo-nextest not installed: using cargo test");
        cmd.args(["test", "--workspace", "--no-fail-fast"]);
    }
    let (ok, output) = proc::run_captured(&mut cmd)?;
    tally.add_output(&output);
    if !ok {
        bail!("unit and integration tests failed");
    }
    Ok(())
}

/// The server's and the sync's integration tests again, each test on a database of its own
/// in a throwaway PostgreSQL cluster (or the server `CANOPY_TEST_POSTGRES` already names).
/// Left out: the binaries about SQLite files themselves (online backups of the file, the
/// audit chain edited through the file), which the first run covers.
fn on_postgres(tally: &mut Tally) -> Result<()> {
    const ENV: &str = "CANOPY_TEST_POSTGRES";
    let given = std::env::var(ENV).ok().filter(|url| !url.trim().is_empty());
    let cluster = match given {
        Some(_) => None,
        None => Some(postgres::Cluster::start(false)?),
    };
    let url = match (&cluster, std::env::var(ENV)) {
        (Some(cluster), _) => cluster.url.clone(),
        (None, Ok(url)) => url,
        (None, Err(_)) => bail!("{ENV} is not set"),
    };
    proc::step("The server and sync integration tests on PostgreSQL");
    let mut cmd = proc::cargo();
    cmd.env(ENV, &url);
    // Over TLS, verified against the cluster's own CA, when it has one.
    if let Some(ca) = cluster.as_ref().and_then(|c| c.ca.as_ref()) {
        cmd.env("CANOPY_TEST_POSTGRES_CA", ca);
    }
    let filter = "kind(test) & !binary(backup) & !binary(audit_chain)";
    if proc::on_path("cargo-nextest") {
        cmd.args(["nextest", "run", "--no-fail-fast", "-E", filter]);
    } else {
        cmd.args(["test", "--tests", "--no-fail-fast"]);
    }
    cmd.args(["-p", "canopy-server", "-p", "canopy-sync"]);
    let (ok, output) = proc::run_captured(&mut cmd)?;
    tally.add_output(&output);
    drop(cluster);
    if !ok {
        bail!("integration tests on PostgreSQL failed");
    }
    Ok(())
}

/// Passed and failed counts read from the test runners' own summary lines.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub passed: u64,
    pub failed: u64,
    pub skipped: u64,
}

impl Tally {
    /// Add the counts of every summary line in a runner's output: nextest's
    /// `Summary [..] N tests run: N passed, N failed, N skipped` and
    /// cargo test's `test result: ok. N passed; N failed; N ignored; ...`.
    pub fn add_output(&mut self, output: &str) {
        for line in output.lines() {
            let line = line.trim();
            if let Some(rest) = line.strip_prefix("test result:") {
                self.passed += count_before(rest, "passed");
                self.failed += count_before(rest, "failed");
                self.skipped += count_before(rest, "ignored");
            } else if line.starts_with("Summary [") && line.contains("tests run:") {
                self.passed += count_before(line, "passed");
                self.failed += count_before(line, "failed");
                self.skipped += count_before(line, "skipped");
            }
        }
    }

    pub fn print(&self) {
        println!();
        println!(
            "xtask: {} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        );
    }
}

/// The number written just before `word` (e.g. `12 passed` → 12), or 0.
fn count_before(text: &str, word: &str) -> u64 {
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';' || c == '.')
        .filter(|w| !w.is_empty())
        .collect();
    words
        .windows(2)
        .find(|pair| pair[1] == word)
        .and_then(|pair| pair[0].parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::Tally;

    #[test]
    fn reads_nextest_and_cargo_test_summaries() {
        let output = "\
     Summary [   1.234s] 42 tests run: 40 passed, 2 failed, 3 skipped
test result: ok. 2 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 3.2s
test result: FAILED. 1 passed; 4 failed; 0 ignored; 0 measured; 0 filtered out
running 3 tests
";
        let mut tally = Tally::default();
        tally.add_output(output);
        assert_eq!(
            tally,
            Tally {
                passed: 43,
                failed: 6,
                skipped: 4
            }
        );
    }

    #[test]
    fn a_nextest_run_with_only_passes_counts_no_failures() {
        let mut tally = Tally::default();
        tally.add_output("     Summary [   0.5s] 7 tests run: 7 passed, 0 skipped\n");
        assert_eq!(
            tally,
            Tally {
                passed: 7,
                failed: 0,
                skipped: 0
            }
        );
    }
}
