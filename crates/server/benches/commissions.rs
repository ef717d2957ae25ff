//! P9 of shared/PERFORMANCE.md: one period's full commission run for the 1M-member company
//! (read members and orders, run the plan, write lines and results in one transaction).
//! Run optimised by `cargo xtask bench P9` (`cargo bench -p canopy-server --bench
//! commissions -- --out DIR P9`); one JSON object on stdout, progress on stderr.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Instant;

use canopy_core::Period;
use canopy_server::commissions::{self, CommissionPlan};
use canopy_server::demo::{self, DemoCompany};
use canopy_server::storage::sqlite::{Options, SqliteStorage};
use serde_json::json;

/// P9's limit in seconds.
const LIMIT_S: f64 = 10.0;

fn main() {
    let mut ids: Vec<String> = Vec::new();
    let mut members = 1_000_000usize;
    let mut out = PathBuf::from("target/bench");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--bench" => {}
            "--members" => members = args.next().and_then(|n| n.parse().ok()).unwrap_or(members),
            "--out" => out = args.next().map(PathBuf::from).unwrap_or(out),
            id => ids.push(id.to_uppercase()),
        }
    }
    if ids.is_empty() {
        ids.push("P9".to_owned());
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        for id in ids {
            match id.as_str() {
                "P9" => println!("{}", p9(&out, members).await),
                other => eprintln!("bench: the server has no benchmark {other}"),
            }
        }
    });
}

/// The server company the sync's benchmarks keep (`DIR/server-N`, made once by the demo's
/// own preparation with the same seed), copied fresh so every measurement is a first run
/// and the shared database is never written to.
async fn fresh_copy(out: &Path, members: usize) -> PathBuf {
    let dir = out.join(format!("server-{members}"));
    let files = demo::ensure_files(&dir).unwrap();
    if !dir.join("demo-accounts.json").is_file() {
        let started = Instant::now();
        let config = files.config(SocketAddr::from(([127, 0, 0, 1], 0)));
        let company = DemoCompany {
            members,
            seed: 2026,
        };
        demo::prepare(&files, &config, company).await.unwrap();
        eprintln!(
            "bench: server company made in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    let work = out.join(format!("commissions-work-{members}"));
    std::fs::create_dir_all(&work).unwrap();
    let copy = work.join("p9.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", copy.display()));
    }
    let started = Instant::now();
    let from = rusqlite::Connection::open(&files.database).unwrap();
    from.execute("VACUUM INTO ?1", [copy.to_str().unwrap()])
        .unwrap();
    // The demo pays its history when it is made (newer companies than this machine's
    // may have): P9 is a period's first run, so the copy starts with no runs at all.
    let copied = rusqlite::Connection::open(&copy).unwrap();
    let paid: i64 = copied
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'commission_periods'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    if paid > 0 {
        copied
            .execute_batch(
                "DELETE FROM earnings_lines; DELETE FROM member_period_results; \
                 DELETE FROM commission_periods; DELETE FROM commission_runs;",
            )
            .unwrap();
    }
    drop(copied);
    eprintln!(
        "bench: copied the company in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    copy
}

/// The last whole month before the company's newest order.
fn busiest_period(db: &Path) -> Period {
    let conn = rusqlite::Connection::open(db).unwrap();
    let newest: i64 = conn
        .query_row("SELECT max(placed_at) FROM orders", [], |r| r.get(0))
        .unwrap();
    let day = time::OffsetDateTime::from_unix_timestamp(newest)
        .unwrap()
        .date();
    Period::containing(day).unwrap().previous().unwrap()
}

async fn p9(out: &Path, members: usize) -> serde_json::Value {
    let db = fresh_copy(out, members).await;
    let period = busiest_period(&db);
    let started = Instant::now();
    // Opening migrates the copy (the commission tables, the orders' time index): set-up,
    // not part of a run.
    let storage = SqliteStorage::open(&db, Options::default()).await.unwrap();
    eprintln!(
        "bench: opened and migrated in {:.1} s; running {period}",
        started.elapsed().as_secs_f64()
    );
    let plan = CommissionPlan::bundled().unwrap();
    let started = Instant::now();
    let done = commissions::run(&storage, &plan, period, None, time::OffsetDateTime::now_utc)
        .await
        .unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let (read, compute, write) = (
        done.read.as_secs_f64(),
        done.compute.as_secs_f64(),
        done.write.as_secs_f64(),
    );
    let dominant = [("read", read), ("compute", compute), ("write", write)]
        .into_iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or("", |(name, _)| name);
    drop(storage);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    json!({
        "id": "P9",
        "figure": seconds,
        "unit": "s",
        "baseline": null,
        "ratio": seconds / LIMIT_S,
        "pass": seconds <= LIMIT_S,
        "note": format!(
            "{period}: {} members, {} orders, {} lines; {dominant} dominates: read {read:.2} s, \
             compute {compute:.2} s, write {write:.2} s (one transaction)",
            done.members, done.orders, done.lines
        ),
    })
}
