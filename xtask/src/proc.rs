//! Running child processes: every step says what it does before doing it, and
//! every command runs with the tools folder on PATH and the shared target dir.

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use anyhow::{Context, Result, bail};

use crate::paths;

/// Print a step heading, so a newcomer sees what is happening and why.
pub fn step(what: &str) {
    println!("\n==> {what}");
}

pub fn info(what: &str) {
    println!("    {what}");
}

/// PATH with the pinned tools first.
pub fn path_with_tools() -> OsString {
    let mut dirs = vec![paths::tools_bin()];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap_or_else(|_| std::env::var_os("PATH").unwrap_or_default())
}

/// A command with the environment every xtask child gets.
pub fn command(program: &str) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(paths::root())
        .env("PATH", path_with_tools())
        .env("CARGO_TARGET_DIR", paths::target_dir());
    cmd
}

pub fn cargo() -> Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    command(&cargo)
}

fn describe(cmd: &Command) -> String {
    let mut text = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// Run to completion with output shown; fail with the command line on error.
pub fn run(cmd: &mut Command) -> Result<()> {
    let line = describe(cmd);
    info(&format!("$ {line}"));
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{line}`"))?;
    if !status.success() {
        bail!("`{line}` failed ({status})");
    }
    Ok(())
}

/// Run to completion, showing output live, and return what it printed
/// (stdout and stderr interleaved) so the caller can read summary lines.
pub fn run_captured(cmd: &mut Command) -> Result<(bool, String)> {
    let line = describe(cmd);
    info(&format!("$ {line}"));
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start `{line}`"))?;
    let (tx, rx) = mpsc::channel::<(bool, String)>();
    let mut readers = Vec::new();
    if let Some(out) = child.stdout.take() {
        readers.push(forward(out, true, tx.clone()));
    }
    if let Some(err) = child.stderr.take() {
        readers.push(forward(err, false, tx.clone()));
    }
    drop(tx);
    let mut captured = String::new();
    for (_, text) in rx {
        captured.push_str(&text);
        captured.push('\n');
    }
    for reader in readers {
        let _ = reader.join();
    }
    let status = child
        .wait()
        .with_context(|| format!("`{line}` did not finish"))?;
    Ok((status.success(), captured))
}

fn forward<R: std::io::Read + Send + 'static>(
    stream: R,
    to_stdout: bool,
    tx: mpsc::Sender<(bool, String)>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if to_stdout {
                println!("{line}");
            } else {
                eprintln!("{line}");
            }
            if tx.send((to_stdout, line)).is_err() {
                break;
            }
        }
    })
}

/// Standard output of a quick query command, or `None` if it cannot run.
pub fn output_of(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .env("PATH", path_with_tools())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether `program` can be found on PATH (tools folder included).
pub fn on_path(program: &str) -> bool {
    let path = path_with_tools();
    std::env::split_paths(&path).any(|dir| {
        let candidate = dir.join(program);
        candidate.is_file() || (cfg!(windows) && candidate.with_extension("exe").is_file())
    })
}

/// A child process killed when dropped, so no server, display or driver
/// outlives the command that started it.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
