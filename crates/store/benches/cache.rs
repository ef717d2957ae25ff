//! The store's benchmarks of shared/PERFORMANCE.md — P2 (SQLCipher overhead), P3 (subtree
//! aggregates), P4 (search), P7 (unlock) — on the generated 1M-member cache. Run optimised
//! by `cargo xtask bench` (`cargo bench -p canopy-store --bench cache -- P3 …`); prints one
//! JSON object per benchmark on stdout, progress on stderr.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

mod data;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use canopy_core::{MemberId, Period};
use canopy_store::{
    CacheKey, Database, DownlineFilter, DownlineQuery, Envelope, Sort, Store, Tree,
};
use rusqlite::Connection;
use serde_json::json;

/// The period the screens show by default: the generated company's last.
fn period() -> Period {
    Period::parse("2026-10").unwrap()
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
        ids = ["P2", "P3", "P4", "P7"].map(String::from).to_vec();
    }
    let data = match data::ensure(&out, members) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("bench: cannot build the benchmark cache: {e}");
            std::process::exit(2);
        }
    };
    for id in ids {
        let row = match id.as_str() {
            "P2" => p2(&data),
            "P3" => p3(&data),
            "P4" => p4(&data),
            "P7" => p7(&data),
            other => {
                eprintln!("bench: the store has no benchmark {other}");
                continue;
            }
        };
        println!("{row}");
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

fn percentile(mut samples: Vec<f64>, p: f64) -> f64 {
    samples.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}

/// A deterministic sample of members: the founder, everyone in the first two levels, and
/// `random` members spread over the whole tree (most of them small teams, as in life).
fn sample(store: &Store, members: usize, random: usize) -> Vec<MemberId> {
    let mut ids = vec![MemberId::new(1)];
    for child in store.children(MemberId::new(1), period()).unwrap() {
        ids.push(child.id);
        ids.extend(
            store
                .children(child.id, period())
                .unwrap()
                .iter()
                .map(|c| c.id),
        );
    }
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for _ in 0..random {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        ids.push(MemberId::new(1 + (x % members as u64) as i64));
    }
    ids
}

/// P3: team size, group volume, members per rank and per level for any member.
fn p3(data: &data::Data) -> serde_json::Value {
    let store = data.unlock().unwrap();
    let ids = sample(&store, data.members, 2_000);
    for &id in ids.iter().take(50) {
        store.subtree(id, period()).unwrap();
    }
    let mut ours = Vec::with_capacity(ids.len());
    let mut biggest = (0u64, 0.0f64);
    for &id in &ids {
        let t = Instant::now();
        let s = store.subtree(id, period()).unwrap();
        let took = ms(t.elapsed());
        ours.push(took);
        if s.team_size > biggest.0 {
            biggest = (s.team_size, took);
        }
    }
    // The baseline: a recursive CTE computing the same aggregates, on the founder and the
    // first 19 of the sample's top members (all of them big teams).
    let conn = store.database();
    let mut cte = Vec::new();
    let mut ours_same = Vec::new();
    for &id in ids.iter().take(20) {
        let t = Instant::now();
        let (team, gv) = conn.read(|c| Ok(recursive_cte(c, id))).unwrap();
        cte.push(ms(t.elapsed()));
        let t = Instant::now();
        let s = store.subtree(id, period()).unwrap();
        ours_same.push(ms(t.elapsed()));
        assert_eq!(
            (s.team_size, s.gv),
            (team, gv),
            "the CTE and the index disagree on {id}"
        );
    }
    let p95 = percentile(ours, 95.0);
    let base = percentile(cte, 95.0);
    json!({
        "id": "P3", "figure": p95, "unit": "ms", "baseline": base, "ratio": p95 / base,
        "pass": p95 <= 5.0,
        "note": format!(
            "p95 over {} members (founder, levels 1-2, 2,000 random); the founder's {} members: {:.3} ms; \
             recursive CTE p95 {:.0} ms vs ours {:.3} ms on the same 20 largest",
            ids.len(), biggest.0, biggest.1, base, percentile(ours_same, 95.0)
        ),
    })
}

/// The naive way: walk the subtree with a recursive CTE and sum it.
fn recursive_cte(c: &Connection, id: MemberId) -> (u64, i64) {
    let mut stmt = c
        .prepare_cached(
            "WITH RECURSIVE sub(id, lvl) AS (
                SELECT id, 0 FROM members WHERE id = ?1
                UNION ALL SELECT m.id, sub.lvl + 1 FROM members m JOIN sub ON m.sponsor_id = sub.id)
             SELECT sub.lvl, m.rank_level, coalesce(v.pv, 0) FROM sub
             JOIN members m ON m.id = sub.id
             LEFT JOIN volumes v ON v.member_id = sub.id AND v.period = ?2",
        )
        .unwrap();
    let mut rows = stmt
        .query(rusqlite::params![id.get(), period().index()])
        .unwrap();
    let (mut team, mut gv) = (0u64, 0i64);
    let mut by_level: Vec<u64> = Vec::new();
    let mut by_rank = [0u64; 16];
    while let Some(r) = rows.next().unwrap() {
        let lvl = r.get::<_, i64>(0).unwrap() as usize;
        let rank = r.get::<_, i64>(1).unwrap() as usize;
        gv += r.get::<_, i64>(2).unwrap();
        if lvl > 0 {
            team += 1;
            if by_level.len() < lvl {
                by_level.resize(lvl, 0);
            }
            by_level[lvl - 1] += 1;
            by_rank[rank.min(15)] += 1;
        }
    }
    (team, gv)
}

/// Search terms drawn from the data: name prefixes, full names, member number and email
/// prefixes, of members spread over the tree.
fn search_terms(store: &Store, members: usize) -> Vec<String> {
    let mut terms = Vec::new();
    for id in sample(store, members, 150)
        .into_iter()
        .skip(1)
        .step_by(3)
        .take(60)
    {
        let d = store.member(id, period()).unwrap();
        let name = d.row.display_name.clone();
        let first: String = name.chars().take(3).collect();
        terms.push(first);
        terms.push(name);
        terms.push(d.row.number.chars().take(6).collect());
        if let Some(email) = d.personal.and_then(|p| p.email) {
            terms.push(
                email
                    .chars()
                    .take(email.find('@').unwrap_or(4) + 2)
                    .collect(),
            );
        }
    }
    terms
}

/// P4: the first 50 hits of a search.
fn p4(data: &data::Data) -> serde_json::Value {
    let store = data.unlock().unwrap();
    let terms = search_terms(&store, data.members);
    for t in &terms {
        store.search(t, period(), 50).unwrap();
    }
    let mut times = Vec::new();
    let mut hits = 0usize;
    for _ in 0..3 {
        for t in &terms {
            let start = Instant::now();
            hits += store.search(t, period(), 50).unwrap().len();
            times.push(ms(start.elapsed()));
        }
    }
    let p95 = percentile(times.clone(), 95.0);
    json!({
        "id": "P4", "figure": p95, "unit": "ms", "baseline": null, "ratio": p95 / 20.0,
        "pass": p95 <= 20.0,
        "note": format!(
            "{} searches (name prefixes, full names, member number and email prefixes), {} hits; \
             median {:.3} ms, max {:.3} ms",
            times.len(), hits, percentile(times.clone(), 50.0), percentile(times, 100.0)
        ),
    })
}

/// The query mix of P2: aggregates and details, searches, sorted and filtered downline
/// pages. Returns the time of each of the three parts, in ms.
fn query_mix(store: &Store, ids: &[MemberId], terms: &[String]) -> [f64; 3] {
    let t = Instant::now();
    for &id in ids {
        store.subtree(id, period()).unwrap();
        store.member(id, period()).unwrap();
    }
    let aggregates = ms(t.elapsed());
    let t = Instant::now();
    for term in terms {
        store.search(term, period(), 50).unwrap();
    }
    let searches = ms(t.elapsed());
    let t = Instant::now();
    let sorts = [Sort::JoinDate, Sort::Name, Sort::Rank, Sort::Country];
    for (i, &id) in ids.iter().take(40).enumerate() {
        let mut q = DownlineQuery {
            root: id,
            tree: Tree::Sponsor,
            period: period(),
            filter: DownlineFilter::default(),
            sort: sorts[i % sorts.len()],
            descending: i % 2 == 0,
            after: None,
            limit: 200,
        };
        if i % 3 == 0 {
            q.filter.levels = Some((1, 3));
        }
        let page = store.downline(&q).unwrap();
        q.after = page.next;
        if q.after.is_some() {
            store.downline(&q).unwrap();
        }
    }
    [aggregates, searches, ms(t.elapsed())]
}

/// P2: the same query mix on the encrypted cache and on its unencrypted twin.
fn p2(data: &data::Data) -> serde_json::Value {
    let enc = data.unlock().unwrap();
    let plain = Store::from_database(Database::open_plain(&data.plain_path()).unwrap());
    let ids = sample(&enc, data.members, 300);
    let terms = search_terms(&enc, data.members);
    // Warm both page caches, then alternate so both see the same machine noise.
    query_mix(&enc, &ids, &terms);
    query_mix(&plain, &ids, &terms);
    let (mut e, mut p) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        e.push(query_mix(&enc, &ids, &terms));
        p.push(query_mix(&plain, &ids, &terms));
    }
    let median = |runs: &[[f64; 3]], part: Option<usize>| {
        percentile(
            runs.iter()
                .map(|r| part.map_or(r.iter().sum(), |i| r[i]))
                .collect(),
            50.0,
        )
    };
    let (te, tp) = (median(&e, None), median(&p, None));
    let parts: Vec<String> = ["aggregates + details", "searches", "pages"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let (a, b) = (median(&e, Some(i)), median(&p, Some(i)));
            format!("{name} {a:.1} / {b:.1} ms ({:.2}x)", a / b)
        })
        .collect();
    json!({
        "id": "P2", "figure": te / tp, "unit": "x", "baseline": 1.0, "ratio": te / tp,
        "pass": te / tp <= 1.15,
        "note": format!(
            "median of 7 runs of the mix ({} members' aggregates + details, {} searches, \
             40-80 pages of 200): encrypted {te:.1} ms, plain {tp:.1} ms; by part, \
             encrypted / plain: {}",
            ids.len(), terms.len(), parts.join(", ")
        ),
    })
}

/// P7: from a derived key to a usable cache (open + first screen's query), against
/// SQLCipher's own passphrase KDF open.
fn p7(data: &data::Data) -> serde_json::Value {
    let envelope =
        Envelope::read(&data.vault.dir().join(canopy_store::vault::ENVELOPE_FILE)).unwrap();
    let t = Instant::now();
    let key = envelope.open(data::PASSWORD).unwrap();
    let derive = ms(t.elapsed());
    let path = data.vault.db_path();
    let mut opens = Vec::new();
    for _ in 0..15 {
        let k = CacheKey::from_slice(key.as_bytes()).unwrap();
        let t = Instant::now();
        let store = Store::open(&path, k).unwrap();
        store.subtree(MemberId::new(1), period()).unwrap();
        opens.push(ms(t.elapsed()));
        drop(store);
    }
    // SQLCipher keyed with a passphrase runs PBKDF2 (256,000 iterations) on every open.
    let dir = tempfile::tempdir().unwrap();
    let pass_db = dir.path().join("passphrase.db");
    {
        let c = Connection::open(&pass_db).unwrap();
        c.execute_batch(
            "PRAGMA key = 'a passphrase'; CREATE TABLE t (x); INSERT INTO t VALUES (1);",
        )
        .unwrap();
    }
    let mut kdf = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let c = Connection::open(&pass_db).unwrap();
        c.execute_batch("PRAGMA key = 'a passphrase'").unwrap();
        let _: i64 = c
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        kdf.push(ms(t.elapsed()));
    }
    let open = percentile(opens.clone(), 50.0);
    let base = percentile(kdf, 50.0);
    json!({
        "id": "P7", "figure": open, "unit": "ms", "baseline": base, "ratio": open / base,
        "pass": open <= 20.0,
        "note": format!(
            "median of 15 opens of the {}-member cache with the raw key + the founder's \
             aggregates (max {:.2} ms); Argon2id m=64MiB t=3 p=4 before it: {derive:.0} ms; \
             baseline: SQLCipher passphrase open (PBKDF2)",
            data.members,
            percentile(opens, 100.0)
        ),
    })
}
