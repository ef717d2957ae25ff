//! `cargo xtask`: the only entry points a newcomer needs. `run` sets up the
//! machine and opens the app; `test` runs every check CI runs; `e2e` and
//! `bench` run the end-to-end suite and the benchmarks on their own.

mod bench;
mod build;
mod demo;
mod e2e;
mod load;
mod paths;
mod postgres;
mod proc;
mod release;
mod setup;
mod test;

use std::process::ExitCode;

const USAGE: &str = "\
cargo xtask <command>

Commands:
  run            install what is missing, build the UI and the app, open the app
  test           the same setup, then fmt, clippy, every test and the end-to-end suite
  e2e [NAME…]    only the end-to-end suite (the real window under Xvfb, over WebDriver);
                 NAMEs narrow it to the tests whose names contain one
  bench [ID...]  the benchmarks of shared/PERFORMANCE.md (all, or the ids named)
  load [ARGS…]   canopy-server loadtest, built optimised (--help lists ARGS)
  build          install what is missing and build the UI and the app, nothing else
  release ...    signed updates: make the release key, sign and publish a release (--help)
  setup          only install what is missing

Environment:
  CANOPY_CACHE_DIR   where tools and build output are kept (default: ~/.cache/canopy)
  CANOPY_TARGET_DIR  cargo's target directory (default: $CANOPY_CACHE_DIR/target)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = match args.split_first() {
        Some((command, rest)) => (command.as_str(), rest),
        None => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match command {
        "run" => build::run(),
        "test" => test::run(),
        "e2e" => e2e::run_suite_only(rest),
        "bench" => bench::run(rest),
        "load" => load::run(rest),
        "build" => build::build_all().map(|_| ()),
        "release" => release::run(rest),
        "setup" => setup::ensure(setup::Purpose::Test),
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            Ok(())
        }
        other => {
            eprintln!("unknown command `{other}`\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("\nxtask {command} failed: {error:#}");
            ExitCode::FAILURE
        }
    }
}
