//! `cargo xtask bench [ID…]`: the benchmarks of shared/PERFORMANCE.md. Prints
//! a table and writes `target/bench/report.json`. A benchmark whose issue has
//! not landed yet is listed as pending, never given a made-up figure.

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::{build, load, paths, postgres, proc};

/// One row of the report, in the shape PERFORMANCE.md fixes.
#[derive(Debug, Serialize)]
struct Row {
    id: &'static str,
    what: &'static str,
    figure: Option<f64>,
    unit: &'static str,
    /// The baseline measured in the same run, where the target is a ratio.
    baseline: Option<f64>,
    /// figure / baseline where there is a baseline, else figure / limit.
    ratio: Option<f64>,
    target: &'static str,
    pass: Option<bool>,
    note: String,
}

/// A benchmark: its id, what it measures, its target, and how to run it.
struct Bench {
    id: &'static str,
    what: &'static str,
    target: &'static str,
    unit: &'static str,
    run: Option<fn(&Bench) -> Result<Row>>,
    /// Which issue adds it, while it is pending.
    pending: &'static str,
}

const BENCHES: &[Bench] = &[
    Bench {
        id: "P1",
        what: "bootstrap 1M members + 5M earnings lines into the encrypted cache",
        target: "<= 2.0x plain bulk insert, < 20 s",
        unit: "s",
        run: Some(sync_bench),
        pending: "",
    },
    Bench {
        id: "P2",
        what: "SQLCipher overhead on the query mix",
        target: "<= 1.15x plain SQLite",
        unit: "x",
        run: Some(store_bench),
        pending: "",
    },
    Bench {
        id: "P3",
        what: "subtree aggregates in the 1M tree, p95",
        target: "<= 5 ms",
        unit: "ms",
        run: Some(store_bench),
        pending: "",
    },
    Bench {
        id: "P4",
        what: "downline search, first 50 hits, p95",
        target: "<= 20 ms",
        unit: "ms",
        run: Some(store_bench),
        pending: "",
    },
    Bench {
        id: "P5",
        what: "incremental sync of 1,000 changed rows",
        target: "<= 150 ms",
        unit: "ms",
        run: Some(sync_bench),
        pending: "",
    },
    Bench {
        id: "P6",
        what: "1,000 offline enrollments pushed after reconnect",
        target: "<= 2 s",
        unit: "s",
        run: Some(sync_bench),
        pending: "",
    },
    Bench {
        id: "P7",
        what: "unlock: cache open after key derivation",
        target: "<= 20 ms",
        unit: "ms",
        run: Some(store_bench),
        pending: "",
    },
    Bench {
        id: "P8",
        what: "genealogy page of 200 rows over IPC, p95",
        target: "<= 15 ms",
        unit: "ms",
        run: Some(app_bench),
        pending: "",
    },
    Bench {
        id: "P9",
        what: "commission run of one period, 1M members",
        target: "<= 10 s",
        unit: "s",
        run: Some(server_bench),
        pending: "",
    },
    Bench {
        id: "P10",
        what: "concurrent delta syncs, 100 clients",
        target: ">= 500 req/s, p99 <= 100 ms",
        unit: "req/s",
        run: Some(delta_syncs),
        pending: "",
    },
    Bench {
        id: "P11",
        what: "release app binary size",
        target: "<= 20 MB",
        unit: "MB",
        run: Some(app_binary_size),
        pending: "",
    },
    Bench {
        id: "P11",
        what: "app memory (PSS) with the 1M cache open, in the window",
        target: "<= 250 MB",
        unit: "MB",
        run: Some(app_memory),
        pending: "",
    },
];

pub fn run(ids: &[String]) -> Result<()> {
    let selected: Vec<&Bench> = if ids.is_empty() {
        BENCHES.iter().collect()
    } else {
        // An id may have several rows (P11: size and memory).
        let mut selected = Vec::new();
        for id in ids {
            let rows: Vec<&Bench> = BENCHES
                .iter()
                .filter(|b| b.id.eq_ignore_ascii_case(id))
                .collect();
            if rows.is_empty() {
                bail!("no benchmark `{id}`; the ids are P1 to P11");
            }
            selected.extend(rows);
        }
        selected
    };
    let mut rows = Vec::new();
    for bench in selected {
        rows.push(match bench.run {
            Some(run) => run(bench)?,
            None => pending(bench),
        });
    }
    print_table(&rows);
    let out = paths::bench_out();
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let report = out.join("report.json");
    std::fs::write(&report, serde_json::to_string_pretty(&rows)?)
        .with_context(|| format!("cannot write {}", report.display()))?;
    println!("\nreport: {}", report.display());
    let failed: Vec<&str> = rows
        .iter()
        .filter(|r| r.pass == Some(false))
        .map(|r| r.id)
        .collect();
    if !failed.is_empty() {
        bail!("benchmarks over target: {}", failed.join(", "));
    }
    Ok(())
}

fn pending(bench: &Bench) -> Row {
    Row {
        id: bench.id,
        what: bench.what,
        figure: None,
        unit: bench.unit,
        baseline: None,
        ratio: None,
        target: bench.target,
        pass: None,
        note: format!("pending: measured once the {} lands", bench.pending),
    }
}

fn print_table(rows: &[Row]) {
    let num = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.3}"));
    println!(
        "\n{:<5} {:<62} {:>10} {:>10} {:>7} {:<28} result",
        "id", "what", "figure", "baseline", "ratio", "target"
    );
    for row in rows {
        let result = match row.pass {
            Some(true) => "pass".to_owned(),
            Some(false) => "FAIL".to_owned(),
            None => row.note.clone(),
        };
        println!(
            "{:<5} {:<62} {:>10} {:>10} {:>7} {:<28} {}",
            row.id,
            row.what,
            row.figure
                .map_or_else(|| "-".to_owned(), |f| format!("{f:.2} {}", row.unit)),
            num(row.baseline),
            num(row.ratio),
            row.target,
            result
        );
    }
}

/// P2, P3, P4, P7: the store's benchmark binary (`crates/store/benches/cache.rs`), built
/// optimised, on the generated 1M-member cache it keeps under `target/bench/`.
fn store_bench(bench: &Bench) -> Result<Row> {
    crate_bench(bench, "canopy-store", "cache", "the 1M-member cache")
}

/// P1, P5, P6: the sync's benchmark binary (`crates/sync/benches/sync.rs`): the real server
/// with the seeded 1M-member company (kept under `target/bench/`) over pinned TLS.
fn sync_bench(bench: &Bench) -> Result<Row> {
    crate_bench(
        bench,
        "canopy-sync",
        "sync",
        "the server's 1M-member company",
    )
}

/// P9: the server's benchmark binary (`crates/server/benches/commissions.rs`), one period's
/// commission run over a fresh copy of the sync's seeded 1M-member company.
fn server_bench(bench: &Bench) -> Result<Row> {
    crate_bench(
        bench,
        "canopy-server",
        "commissions",
        "the server's 1M-member company",
    )
}

fn app_bench(bench: &Bench) -> Result<Row> {
    crate_bench(bench, "canopy-app", "app", "the store's 1M-member cache")
}

/// Runs one benchmark of a crate's optimised bench binary and reads its JSON line.
fn crate_bench(bench: &Bench, package: &str, binary: &str, data: &str) -> Result<Row> {
    proc::step(&format!(
        "{}: {} (the first run generates {data})",
        bench.id, bench.what
    ));
    let out = paths::bench_out();
    let out = out.to_string_lossy();
    let mut cmd = proc::cargo();
    cmd.args([
        "bench",
        "--quiet",
        "--package",
        package,
        "--bench",
        binary,
        "--",
    ])
    .args(["--out", &out, bench.id]);
    let (ok, output) = proc::run_captured(&mut cmd)?;
    if !ok {
        bail!("the benchmark {} failed", bench.id);
    }
    let line = output
        .lines()
        .find(|l| l.trim_start().starts_with('{') && l.contains(&format!("\"{}\"", bench.id)))
        .with_context(|| format!("the benchmark printed no result for {}", bench.id))?;
    let v: serde_json::Value = serde_json::from_str(line.trim())?;
    Ok(Row {
        id: bench.id,
        what: bench.what,
        figure: v["figure"].as_f64(),
        unit: bench.unit,
        baseline: v["baseline"].as_f64(),
        ratio: v["ratio"].as_f64(),
        target: bench.target,
        pass: v["pass"].as_bool(),
        note: v["note"].as_str().unwrap_or_default().to_owned(),
    })
}

/// The profile of the app's release build (the root `Cargo.toml` says why it isn't
/// `release`).
const APP_PROFILE: &str = "app-release";

/// Builds the release app; its binary's path.
fn release_app() -> Result<std::path::PathBuf> {
    crate::setup::ensure(crate::setup::Purpose::Run)?;
    build::build_ui()?;
    proc::step("P11: building the release app");
    proc::run(proc::cargo().args(["build", "--profile", APP_PROFILE, "--package", "canopy-app"]))?;
    let name = if cfg!(windows) {
        "canopy-app.exe"
    } else {
        "canopy-app"
    };
    Ok(paths::target_dir().join(APP_PROFILE).join(name))
}

/// P11 (memory half): the release app in the real window with the 1M-member cache open,
/// its processes' memory read by the window test (see `e2e::million_memory`), which also
/// breaks each process's PSS down by mapping (`p11-memory.json`, after the first sync and
/// at the end).
///
/// What dominated (22 Nov): 665 MiB, of which the app 483 MiB, almost all of it glibc
/// thread arenas (anonymous 64 MiB heaps) still holding the bootstrap's index build (a
/// 256 MiB page cache plus sorter memory on the writer, freed by SQLite, kept by glibc).
/// The build now runs on its own connection and thread (`canopy_store::load`), and the
/// app fell to 183 MiB (366 MiB in all): then the rest of the bootstrap in the sync's
/// arenas (~89 MiB: the writer's cache and the pages' decoding), Mesa's software GL
/// (libLLVM, ~20 MiB in the app and again in the web process, under Xvfb), the web
/// process (~155 MiB: WebKit and JavaScriptCore ~58 MiB, the page's heap ~50 MiB) and the
/// network process (27 MiB). Browsing the genealogy added ~1 MiB.
///
/// Later (22 Nov): the app's total swung from 284 to 605 MiB between runs of the same build,
/// the app alone from 101 to 432 MiB, 305 MiB of it glibc's main heap: SQLCipher's page
/// caches are C `malloc`s, and which glibc arena the index build's thread drew decided what
/// stayed. jemalloc as the `malloc` of the whole process (`src-tauri/src/main.rs`) gives it
/// back; the connections' page caches are given back after 30 s without input; the UI's wasm built
/// with fat LTO for size is 2.96 MB instead of 3.73. Now 297 to 305 MiB in use, 273 to
/// 280 MiB idle (app 124-127 / 101-104, web process 147-151, network 27). The floor under that, measured at the
/// first-run screen with no cache at all, is 253 to 256 MiB (app 98, web process 127,
/// network 27): WebKitGTK 2.50's three processes, of which libwebkit2gtk alone is 65 MiB
/// and Mesa's software GL (libLLVM, loaded by WebKit's EGL display in the app and the web
/// process whatever the hardware-acceleration policy) 35 MiB.
fn app_memory(bench: &Bench) -> Result<Row> {
    const LIMIT_MB: f64 = 250.0;
    if !cfg!(target_os = "linux") {
        bail!("P11's memory run drives the window with tauri-driver under Xvfb: Linux only");
    }
    crate::setup::ensure(crate::setup::Purpose::Test)?;
    let app = release_app()?;
    let report = crate::e2e::million_memory(&app)?;
    let mib = report["pss_mib"]
        .as_f64()
        .context("the memory report has no pss_mib")?;
    // MB as PERFORMANCE.md writes it: MiB, the unit memory is counted in.
    let processes = |report: &serde_json::Value| -> String {
        report["processes"]
            .as_array()
            .map(|all| {
                all.iter()
                    .map(|p| {
                        format!(
                            "{} {:.0} MiB",
                            p["name"].as_str().unwrap_or("?"),
                            p["pss_kib"].as_f64().unwrap_or(0.0) / 1024.0
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };
    let idle = &report["idle"];
    Ok(Row {
        id: bench.id,
        what: bench.what,
        figure: Some(mib),
        unit: "MiB",
        baseline: None,
        ratio: Some(mib / LIMIT_MB),
        target: bench.target,
        pass: Some(mib <= LIMIT_MB),
        note: format!(
            "PSS of the app and the processes it started ({}), after signing in as the \
             1M-member demo's admin, the first sync ({:.0} s), scrolling the genealogy list \
             deep, sorting it by group volume and opening the tree; then 50 s idle (the \
             page caches given back): {:.0} MiB ({})",
            processes(&report),
            report["first_sync_s"].as_f64().unwrap_or(0.0),
            idle["pss_mib"].as_f64().unwrap_or(f64::NAN),
            processes(idle),
        ),
    })
}

/// P11 (size half): build the release app and weigh its binary.
fn app_binary_size(bench: &Bench) -> Result<Row> {
    const LIMIT_MB: f64 = 20.0;
    let binary = release_app()?;
    let bytes = std::fs::metadata(&binary)
        .with_context(|| format!("{} is missing after the build", binary.display()))?
        .len();
    // Precision loss only above 2^52 bytes, far beyond any binary.
    #[allow(clippy::cast_precision_loss)]
    let mb = bytes as f64 / 1_000_000.0;
    Ok(Row {
        id: bench.id,
        what: bench.what,
        figure: Some(mb),
        unit: bench.unit,
        baseline: None,
        ratio: Some(mb / LIMIT_MB),
        target: bench.target,
        pass: Some(mb <= LIMIT_MB),
        note: "the release binary, stripped".to_owned(),
    })
}

/// P10: `canopy-server loadtest` (built in release), 100 clients, against a PostgreSQL
/// database in a durable throwaway cluster seeded with 100,000 members. Each client signs
/// in, bootstraps and catches up before the clock starts, then syncs deltas from its cursor
/// and pushes (an order or a note) every tenth request, on a beat of its own. Two runs
/// (`load::p10`): at saturation, for the throughput (the row's figure), and at 500
/// requests/s offered, for the latency at the target's rate. A closed loop's latency at
/// saturation is its queue (Little's law: 100 clients / throughput), not the server's
/// speed; a fixed rate with latency from each request's scheduled time is how `wrk2`
/// measures it. Clients, server and PostgreSQL share the machine's cores; the note gives the
/// load average.
///
/// What dominated (22 Nov, 2 cores; pg_stat_statements, perf, pg_stat_activity): at first
/// 530 requests/s with p99 1.4 s. PostgreSQL took 70% of the CPU, nearly all of it the
/// delta's scope check walking from each changed member up its sponsor line to the top,
/// one index lookup a level (the tree is 688 levels deep, 38 on average): 15 ms a delta.
/// Reading a small team whole and walking the lines together (`postgres/sync.rs`) cut it
/// to 0.3 ms; single-statement reads without BEGIN/COMMIT cut a third of the round trips.
/// Pushes waiting for the write lock each held a pooled connection, so a burst of them
/// left none for reads and every request stalled: writes now queue for a quarter of the
/// pool. After that (this bench, 22 Nov): 853 requests/s at saturation; at 500/s p50
/// 3.3 ms, p99 28 ms, pushes p99 43 ms. On a long-used development cluster (thousands of
/// test databases to checkpoint, pg_stat_statements on) p99 ranged 35 to 290 ms from run
/// to run, the slow runs' tails in bursts of a second or two.
fn delta_syncs(bench: &Bench) -> Result<Row> {
    const MIN_RPS: f64 = 500.0;
    const MAX_P99_MS: f64 = 100.0;
    let out = paths::bench_out();
    // A durable cluster of its own, seeded afresh: the production database.
    let cluster = postgres::Cluster::start(true)?;
    let database = cluster.create_database("p10")?;
    let (saturation, paced) = load::p10(
        &database,
        &out.join("p10"),
        100_000,
        &out.join("p10-reports"),
    )?;
    drop(cluster);
    let rps = saturation["requests_per_second"]
        .as_f64()
        .context("the load report has no requests_per_second")?;
    let paced_rps = paced["requests_per_second"].as_f64().unwrap_or(0.0);
    let latency = &paced["latency_ms"];
    let ms = |p: &str| latency[p].as_f64().unwrap_or(f64::NAN);
    let p99 = latency["p99"]
        .as_f64()
        .context("the load report has no p99")?;
    let failed = saturation["failed"].as_u64().unwrap_or(0) + paced["failed"].as_u64().unwrap_or(0);
    let load = paced["load_average"]
        .as_array()
        .map(|l| {
            l.iter()
                .map(|v| format!("{:.2}", v.as_f64().unwrap_or(0.0)))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| "unknown".to_owned());
    // The paced run kept up with its schedule (a server that can't shows a lower rate).
    let kept_up = paced_rps >= MIN_RPS * 0.98;
    Ok(Row {
        id: bench.id,
        what: bench.what,
        figure: Some(rps),
        unit: bench.unit,
        baseline: None,
        ratio: Some(rps / MIN_RPS),
        target: bench.target,
        pass: Some(rps >= MIN_RPS && kept_up && p99 <= MAX_P99_MS && failed == 0),
        note: format!(
            "saturation: {} requests in {:.1} s, p99 {:.1} ms; at 500 req/s offered \
             ({paced_rps:.0} kept): latency p50 {:.1} ms, p95 {:.1} ms, p99 {p99:.1} ms, \
             max {:.1} ms (pushes p99 {:.1} ms); {failed} failed; {} database with {} \
             members; load average {load} (clients, server and database share the cores)",
            saturation["requests"].as_u64().unwrap_or(0),
            saturation["seconds"].as_f64().unwrap_or(0.0),
            saturation["latency_ms"]["p99"].as_f64().unwrap_or(f64::NAN),
            ms("p50"),
            ms("p95"),
            ms("max"),
            paced["by_kind"]["push"]["latency_ms"]["p99"]
                .as_f64()
                .unwrap_or(f64::NAN),
            paced["database"].as_str().unwrap_or("?"),
            paced["members"].as_u64().unwrap_or(0),
        ),
    })
}
