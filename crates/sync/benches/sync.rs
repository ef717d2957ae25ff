//! The sync's benchmarks of shared/PERFORMANCE.md — P1 (bootstrap), P5 (incremental sync),
//! P6 (outbox push) — against the real server over pinned TLS on loopback, into real
//! SQLCipher caches. Run optimised by `cargo xtask bench` (`cargo bench -p canopy-sync
//! --bench sync -- P1 …`); one JSON object per benchmark on stdout, progress on stderr.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

// The end-to-end tests' helpers (sign-in with the demo accounts' TOTP codes, the forms).
#[path = "../tests/common/mod.rs"]
mod common;

use std::net::SocketAddr;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use canopy_core::provisioning::{DemoAccount, Provisioning};
use canopy_core::sync::push::Command;
use canopy_core::{IdempotencyKey, Role};
use canopy_server::config::Config;
use canopy_server::demo::{self, DemoCompany, DemoFiles};
use canopy_server::server::{self, RunningServer};
use canopy_server::storage;
use canopy_store::{CacheKey, CommandKind, Store};
use canopy_sync::ServerClient;
use common::{enrollment_form, sign_in};
use rusqlite::params;
use serde_json::{Value, json};
use time::OffsetDateTime;

const NOW: &str = "2026-11-21T10:00:00Z";

struct Bench {
    files: DemoFiles,
    config: Config,
    accounts: Vec<DemoAccount>,
    work: PathBuf,
}

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
        ids = ["P1", "P5", "P6"].map(String::from).to_vec();
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let bench = prepare(&out, members).await;
        for id in ids {
            let row = match id.as_str() {
                "P1" => p1(&bench).await,
                "P5" => p5(&bench).await,
                "P6" => p6(&bench).await,
                other => {
                    eprintln!("bench: the sync has no benchmark {other}");
                    continue;
                }
            };
            println!("{row}");
        }
    });
}

/// The seeded server database, made once per size and kept (a copy is served each run,
/// so a benchmark's writes never leak into the next).
async fn prepare(out: &Path, members: usize) -> Bench {
    let dir = out.join(format!("server-{members}"));
    let files = demo::ensure_files(&dir).unwrap();
    let config = files.config(SocketAddr::from(([127, 0, 0, 1], 0)));
    let started = Instant::now();
    let accounts = demo::prepare(
        &files,
        &config,
        DemoCompany {
            members,
            seed: 2026,
        },
    )
    .await
    .unwrap();
    eprintln!(
        "bench: server company ready in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let work = out.join(format!("sync-work-{members}"));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    Bench {
        files,
        config,
        accounts,
        work,
    }
}

/// A fresh copy of the seeded database, served on a loopback port.
async fn serve(b: &Bench, name: &str) -> (RunningServer, Provisioning, Config) {
    let db = b.work.join(format!("{name}.db"));
    let source = b
        .config
        .database
        .url
        .trim_start_matches("sqlite://")
        .to_owned();
    {
        let from = rusqlite::Connection::open(&source).unwrap();
        let _ = std::fs::remove_file(&db);
        from.execute("VACUUM INTO ?1", params![db.to_str().unwrap()])
            .unwrap();
    }
    let mut config = b.config.clone();
    config.database.url = format!("sqlite://{}", db.display());
    let running = server::start(&config).await.unwrap();
    let url = format!("https://localhost:{}", running.addr.port());
    let provisioning = demo::write_provisioning(&b.files, &url).unwrap();
    (running, provisioning, config)
}

/// Removes a benchmark's copy of the database and its cache (they are large at 1M).
fn cleanup(b: &Bench, name: &str) {
    for file in std::fs::read_dir(&b.work).into_iter().flatten().flatten() {
        if file.file_name().to_string_lossy().starts_with(name) {
            let _ = std::fs::remove_file(file.path());
        }
    }
}

fn account(b: &Bench, role: Role) -> &DemoAccount {
    b.accounts.iter().find(|a| a.role == role).unwrap()
}

fn store(b: &Bench, name: &str) -> Store {
    let path = b.work.join(name);
    let _ = std::fs::remove_file(&path);
    Store::open(&path, CacheKey::generate().unwrap()).unwrap()
}

/// The admin's whole company, against a plain rusqlite bulk insert of the same rows into
/// an unencrypted file with the cache's own schema: its tables, its secondary indexes
/// (dropped for the load and created after, the textbook bulk load) and its name search.
/// What the baseline leaves out is what Canopy adds: TLS, the server's paging, the codec,
/// encryption, and the tree index.
async fn p1(b: &Bench) -> Value {
    let (running, p, config) = serve(b, "p1").await;
    let token = sign_in(&p, account(b, Role::Admin)).await;
    let cache = store(b, "p1-cache.db");
    let client = ServerClient::new(&p).unwrap();
    let started = Instant::now();
    let mut last = None;
    client
        .bootstrap(&cache, &token, NOW, |progress| {
            last = Some(progress);
            ControlFlow::Continue(())
        })
        .await
        .unwrap();
    let ours = started.elapsed().as_secs_f64();
    let progress = last.unwrap();
    running.shutdown().await.unwrap();
    drop(cache);

    let rows = read_members(config.database.url.trim_start_matches("sqlite://"));
    let plain_path = b.work.join("p1-plain.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", plain_path.display()));
    }
    drop(canopy_store::Database::open_plain(&plain_path).unwrap());
    let started = Instant::now();
    plain_bulk_insert(&plain_path, &rows);
    let baseline = started.elapsed().as_secs_f64();
    cleanup(b, "p1");
    let ratio = ours / baseline;
    json!({
        "id": "P1", "figure": ours, "unit": "s", "baseline": baseline, "ratio": ratio,
        "pass": ratio <= 2.0 && ours < 20.0,
        "note": format!(
            "{} members (the server has no earnings lines before the commission issue #7) in {} \
             pages, {:.1} MB over pinned TLS, {:.0} rows/s, tree index + search + 13 indexes \
             built; baseline: the same rows bulk inserted into a plain file of the cache's \
             schema, its indexes and search built after",
            progress.rows_total, progress.page + 1, progress.bytes as f64 / 1e6, progress.rate()
        ),
    })
}

/// One transaction of prepared inserts with the secondary indexes dropped, then the
/// indexes and the name search built, as any bulk load into SQLite is done.
fn plain_bulk_insert(path: &Path, rows: &[PlainRow]) {
    let mut conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
        .unwrap();
    let indexes: Vec<(String, String)> = conn
        .prepare(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
             AND tbl_name IN ('members', 'member_personal')",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let tx = conn.transaction().unwrap();
    for (name, _) in &indexes {
        tx.execute_batch(&format!("DROP INDEX {name}")).unwrap();
    }
    {
        let mut member = tx
            .prepare(
                "INSERT INTO members (id, number, sponsor_id, placement_id, placement_slot, \
                     rank_level, status, joined_on, country, display_name) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .unwrap();
        let mut personal = tx
            .prepare(
                "INSERT INTO member_personal (member_id, legal_name, email, phone, \
                     date_of_birth, address, tax_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .unwrap();
        for r in rows {
            member
                .execute(params![
                    r.id,
                    r.number,
                    r.sponsor,
                    r.placement,
                    r.slot,
                    r.rank,
                    r.status,
                    r.joined_on,
                    r.country,
                    r.display_name
                ])
                .unwrap();
            if let Some(legal_name) = &r.legal_name {
                personal
                    .execute(params![
                        r.id,
                        legal_name,
                        r.email,
                        r.phone,
                        r.date_of_birth,
                        r.address,
                        r.tax_id
                    ])
                    .unwrap();
            }
        }
    }
    for (_, sql) in &indexes {
        tx.execute_batch(sql).unwrap();
    }
    tx.execute_batch(
        "INSERT INTO member_search (rowid, name) \
         SELECT m.id, m.display_name || coalesce(' ' || p.legal_name, '') \
         FROM members m NOT INDEXED LEFT JOIN member_personal p ON p.member_id = m.id",
    )
    .unwrap();
    tx.commit().unwrap();
}

/// A member as the server stores it, the columns the cache keeps.
struct PlainRow {
    id: i64,
    number: String,
    sponsor: Option<i64>,
    placement: Option<i64>,
    slot: Option<i64>,
    rank: i64,
    status: String,
    joined_on: String,
    country: String,
    display_name: String,
    legal_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    date_of_birth: Option<String>,
    address: Option<String>,
    tax_id: Option<String>,
}

fn read_members(db: &str) -> Vec<PlainRow> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT m.id, m.member_number, m.sponsor_id, m.placement_parent_id, \
                    m.placement_index, m.rank_level, m.status, m.joined_on, m.country, \
                    m.display_name, p.legal_name, p.email, p.phone, p.date_of_birth, \
                    json_object('line1', p.address_line1, 'line2', p.address_line2, \
                        'city', p.address_city, 'region', p.address_region, \
                        'postal_code', p.postal_code), \
                    p.tax_id \
             FROM members m LEFT JOIN member_personal p ON p.member_id = m.id ORDER BY m.id",
        )
        .unwrap();
    stmt.query_map([], |r| {
        Ok(PlainRow {
            id: r.get(0)?,
            number: r.get(1)?,
            sponsor: r.get(2)?,
            placement: r.get(3)?,
            slot: r.get(4)?,
            rank: r.get(5)?,
            status: r.get(6)?,
            joined_on: r.get(7)?,
            country: r.get(8)?,
            display_name: r.get(9)?,
            legal_name: r.get(10)?,
            email: r.get(11)?,
            phone: r.get(12)?,
            date_of_birth: r.get(13)?,
            address: r.get(14)?,
            tax_id: r.get(15)?,
        })
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// The manager's team on a device, their 1,000 offline enrollments queued.
async fn manager_with_outbox(
    b: &Bench,
    name: &str,
) -> (RunningServer, ServerClient, String, Store) {
    let (running, p, config) = serve(b, name).await;
    let demo = account(b, Role::Manager);
    let token = sign_in(&p, demo).await;
    let storage = storage::open(&config.database.url).await.unwrap();
    let me = storage
        .find_account_by_email(&demo.email)
        .await
        .unwrap()
        .unwrap()
        .member
        .unwrap();
    let cache = store(b, &format!("{name}-cache.db"));
    let client = ServerClient::new(&p).unwrap();
    client
        .bootstrap(&cache, &token, NOW, |_| ControlFlow::Continue(()))
        .await
        .unwrap();
    let now = OffsetDateTime::now_utc();
    for n in 0..1_000u32 {
        let mut bytes = [0u8; 16];
        bytes[..4].copy_from_slice(&n.to_be_bytes());
        let payload =
            serde_json::to_string(&Command::Enroll(Box::new(enrollment_form(me.get(), n))))
                .unwrap();
        cache
            .enqueue(
                &IdempotencyKey::from_random_bytes(bytes),
                CommandKind::Enroll,
                &payload,
                now,
            )
            .unwrap();
    }
    (running, client, token, cache)
}

/// 1,000 offline enrollments pushed after reconnect, each applied exactly once.
async fn p6(b: &Bench) -> Value {
    let (running, client, token, cache) = manager_with_outbox(b, "p6").await;
    let started = Instant::now();
    let summary = client
        .push_outbox(&cache, &token, OffsetDateTime::now_utc())
        .await
        .unwrap();
    let took = started.elapsed().as_secs_f64();
    running.shutdown().await.unwrap();
    drop(cache);
    cleanup(b, "p6");
    assert_eq!(summary.applied, 1_000, "{summary:?}");
    json!({
        "id": "P6", "figure": took, "unit": "s", "baseline": null, "ratio": took / 2.0,
        "pass": took <= 2.0,
        "note": format!(
            "{} applied, {} rejected, {} to retry; 5 requests of 200 over pinned TLS, each request's \
             enrollments validated, scoped, then stored with their consent in one transaction",
            summary.applied, summary.rejected, summary.retry_later
        ),
    })
}

/// 1,000 changed rows (the enrollments above, now on the server) pulled and applied with
/// the cursor, into the manager's bootstrapped cache.
async fn p5(b: &Bench) -> Value {
    let (running, client, token, cache) = manager_with_outbox(b, "p5").await;
    client
        .push_outbox(&cache, &token, OffsetDateTime::now_utc())
        .await
        .unwrap();
    let team = cache
        .database()
        .read(|c| Ok(c.query_row("SELECT count(*) FROM members", [], |r| r.get::<_, i64>(0))?))
        .unwrap();
    let started = Instant::now();
    let applied = client.pull_changes(&cache, &token, NOW).await.unwrap();
    let took = started.elapsed().as_secs_f64() * 1_000.0;
    running.shutdown().await.unwrap();
    drop(cache);
    cleanup(b, "p5");
    assert_eq!(applied, 1_000);
    json!({
        "id": "P5", "figure": took, "unit": "ms", "baseline": null, "ratio": took / 150.0,
        "pass": took <= 150.0,
        "note": format!(
            "1,000 new members under the manager, pulled as one delta over pinned TLS and \
             applied with the cursor in one transaction into a {team}-member cache \
             (tree index and aggregates kept exact along each new member's sponsor line)"
        ),
    })
}
