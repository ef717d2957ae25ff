//! `cargo xtask load [ARGS…]`: `canopy-server loadtest` built optimised, with ARGS passed
//! through (`--help` lists them); and the P10 benchmark's run of it (`bench.rs`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::{paths, proc};

/// Builds `canopy-server` in release; its binary's path.
pub fn server_binary() -> Result<PathBuf> {
    proc::step("building canopy-server (release)");
    proc::run(proc::cargo().args(["build", "--release", "--package", "canopy-server"]))?;
    let name = if cfg!(windows) {
        "canopy-server.exe"
    } else {
        "canopy-server"
    };
    Ok(paths::target_dir().join("release").join(name))
}

pub fn run(args: &[String]) -> Result<()> {
    let server = server_binary()?;
    proc::step("canopy-server loadtest");
    proc::run(
        proc::command(&server.to_string_lossy())
            .arg("loadtest")
            .args(args),
    )
}

/// P10's runs against `database` (seeded with `members` members by the first; the demo
/// certificate kept in `dir`), 100 clients each, their JSON reports written into `out`:
/// - `saturation`: each client sends as soon as its last answer came, for 20 s: the most
///   the server does;
/// - `paced`: 500 requests/s offered in all, each client on a schedule, latency counted
///   from each request's scheduled time, for 20 s after 5 s of warm-up: the latency at the
///   target's rate.
///
/// The two reports, in that order.
pub fn p10(
    database: &str,
    dir: &Path,
    members: usize,
    out: &Path,
) -> Result<(serde_json::Value, serde_json::Value)> {
    let server = server_binary()?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let members = members.to_string();
    let run = |name: &str, extra: &[&str]| -> Result<serde_json::Value> {
        proc::step(&format!(
            "P10 ({name}): 100 clients for 20 s (the first run seeds {members} members into \
             {database})"
        ));
        let json = out.join(format!("{name}.json"));
        proc::run(
            proc::command(&server.to_string_lossy())
                .args(["loadtest", "--database", database, "--dir"])
                .arg(dir)
                .args([
                    "--members",
                    &members,
                    "--clients",
                    "100",
                    "--duration",
                    "20",
                ])
                .args(extra)
                .arg("--json")
                .arg(&json),
        )?;
        let text = std::fs::read_to_string(&json)
            .with_context(|| format!("cannot read {}", json.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", json.display()))
    };
    let saturation = run("saturation", &[])?;
    let paced = run("paced", &["--rate", "500", "--warmup", "5"])?;
    Ok((saturation, paced))
}
