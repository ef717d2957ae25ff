//! The app's memory as Linux reports it: every process whose executable is the app under
//! test, and every process below them (WebKitGTK's web and network processes), summed by
//! their proportional set size from `/proc/PID/smaps_rollup`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, ensure};

use crate::env;

/// One process's share.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Process {
    pub pid: u32,
    pub name: String,
    pub pss_kib: u64,
    pub rss_kib: u64,
    /// Where the PSS is, largest first: see [`breakdown`].
    pub parts: Vec<Part>,
}

/// One kind of mapping's share of a process's PSS.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Part {
    pub what: String,
    pub pss_kib: u64,
    /// How many mappings it sums.
    pub mappings: u32,
}

#[derive(Debug, Clone)]
pub struct Memory {
    pub processes: Vec<Process>,
}

impl Memory {
    /// The processes' PSS together, in MiB.
    pub fn pss_mib(&self) -> f64 {
        let kib: u64 = self.processes.iter().map(|p| p.pss_kib).sum();
        // Precision loss only far beyond any machine's memory.
        #[allow(clippy::cast_precision_loss)]
        let mib = kib as f64 / 1024.0;
        mib
    }
}

/// The memory of the app under test (`CANOPY_E2E_APP`) and its child processes.
pub fn of_app() -> Result<Memory> {
    let app = PathBuf::from(env("CANOPY_E2E_APP")?);
    let app = app.canonicalize().unwrap_or(app);
    let all = processes()?;
    let mut chosen: Vec<u32> = all
        .iter()
        .filter(|(pid, _)| exe(**pid).is_some_and(|e| e == app))
        .map(|(pid, _)| *pid)
        .collect();
    ensure!(!chosen.is_empty(), "no process runs {}", app.display());
    // Their descendants, level by level.
    let mut i = 0;
    while i < chosen.len() {
        let parent = chosen[i];
        for (pid, ppid) in &all {
            if *ppid == parent && !chosen.contains(pid) {
                chosen.push(*pid);
            }
        }
        i += 1;
    }
    let mut out = Vec::new();
    for pid in chosen {
        // A process may end while it is read; it then holds no memory.
        let Ok(rollup) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) else {
            continue;
        };
        let name = std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .unwrap_or_default()
            .trim()
            .to_owned();
        out.push(Process {
            pid,
            name,
            pss_kib: field(&rollup, "Pss:"),
            rss_kib: field(&rollup, "Rss:"),
            parts: std::fs::read_to_string(format!("/proc/{pid}/smaps"))
                .map(|smaps| breakdown(&smaps))
                .unwrap_or_default(),
        });
    }
    Ok(Memory { processes: out })
}

/// Every process and its parent.
fn processes() -> Result<BTreeMap<u32, u32>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir("/proc").context("cannot list /proc")? {
        let entry = entry?;
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid …": the name may hold spaces and parentheses.
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        if let Some(ppid) = after.split_whitespace().nth(1).and_then(|p| p.parse().ok()) {
            out.insert(pid, ppid);
        }
    }
    Ok(out)
}

fn exe(pid: u32) -> Option<PathBuf> {
    std::fs::read_link(Path::new("/proc").join(pid.to_string()).join("exe")).ok()
}

/// A `Name:   1234 kB` line's number.
fn field(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// How many parts a process's breakdown keeps (the rest are summed as "other").
const PARTS: usize = 14;

/// A process's PSS by kind of mapping, from `/proc/PID/smaps`: the `[heap]` (glibc's main
/// arena), anonymous mappings by size (glibc's thread arenas reserve 64 MiB each; big
/// allocations get a mapping of their own), and files by name (the libraries' code and
/// data, SQLite's WAL index). Measuring before changing: this says what to change.
fn breakdown(smaps: &str) -> Vec<Part> {
    let mut parts: BTreeMap<String, (u64, u32)> = BTreeMap::new();
    let mut what: Option<String> = None;
    for line in smaps.lines() {
        let mut words = line.split_whitespace();
        let Some(first) = words.next() else { continue };
        if first.contains('-') && !first.ends_with(':') {
            // A mapping's header: range, perms, offset, device, inode, [path].
            let path = line.split_whitespace().nth(5).map(str::to_owned);
            let (start, end) = first.split_once('-').unwrap_or(("0", "0"));
            let size_kib = (u64::from_str_radix(end, 16).unwrap_or(0)
                - u64::from_str_radix(start, 16).unwrap_or(0))
                / 1024;
            what = Some(match path {
                Some(p) if p.starts_with('[') => p,
                Some(p) => {
                    let name = p.rsplit('/').next().unwrap_or(&p).to_owned();
                    format!("file {name}")
                }
                None if size_kib >= 60 * 1024 => "anon >= 60 MiB mappings".to_owned(),
                None if size_kib >= 1024 => "anon 1-60 MiB mappings".to_owned(),
                None => "anon < 1 MiB mappings".to_owned(),
            });
            continue;
        }
        if first == "Pss:"
            && let (Some(w), Some(kib)) = (&what, words.next().and_then(|n| n.parse::<u64>().ok()))
        {
            let entry = parts.entry(w.clone()).or_default();
            entry.0 += kib;
            entry.1 += 1;
        }
    }
    let mut all: Vec<Part> = parts
        .into_iter()
        .map(|(what, (pss_kib, mappings))| Part {
            what,
            pss_kib,
            mappings,
        })
        .collect();
    all.sort_by_key(|m| std::cmp::Reverse(m.pss_kib));
    if all.len() > PARTS {
        let rest = all.split_off(PARTS - 1);
        all.push(Part {
            what: format!("other ({} kinds)", rest.len()),
            pss_kib: rest.iter().map(|p| p.pss_kib).sum(),
            mappings: rest.iter().map(|p| p.mappings).sum(),
        });
    }
    all
}
