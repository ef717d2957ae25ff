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

/// P10's run: 100 clients for 20 s against `database` (seeded with `members` members by the
/// first run; the demo certificate kept in `dir`), the JSON report written to `out`.
pub fn p10(database: &str, dir: &Path, members: usize, out: &Path) -> Result<serde_json::Value> {
    let server = server_binary()?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    proc::step(&format!(
        "P10: 100 clients for 20 s (the first run seeds {members} members into {database})"
    ));
    let members = members.to_string();
    let dir_text = dir.to_string_lossy();
    let out_text = out.to_string_lossy();
    proc::run(proc::command(&server.to_string_lossy()).args([
        "loadtest",
        "--database",
        database,
        "--dir",
        &dir_text,
        "--members",
        &members,
        "--clients",
        "100",
        "--duration",
        "20",
        "--json",
        &out_text,
    ]))?;
    let text =
        std::fs::read_to_string(out).with_context(|| format!("cannot read {}", out.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", out.display()))
}
