//! The benchmarks' cache: the server's seed generator's company (1,000,000 members by
//! default) bootstrapped through the store's bulk load into a real encrypted cache, with the
//! founder as the user, plus an unencrypted twin for P2. Built once, kept under
//! `target/bench/`, and rebuilt only when its parameters change.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use canopy_core::{
    BasisPoints, EarningsKind, EarningsLine, EarningsLineId, EarningsSource, Member, MemberId,
    Money, Period, Pv, Rank,
};
use canopy_server::seed::{Company, RANKS};
use canopy_store::{KdfParams, NoKeychain, StatementStatus, Store, SyncState, Vault};

pub const PASSWORD: &str = "canopy benchmark cache";
/// The generator's seed: the same company on every machine.
const SEED: u64 = 2026;
const PAGE: usize = 10_000;

pub struct Data {
    pub dir: PathBuf,
    pub members: usize,
    pub vault: Vault,
}

impl Data {
    pub fn plain_path(&self) -> PathBuf {
        self.dir.join("plain.db")
    }

    pub fn unlock(&self) -> Result<Store, String> {
        // As after an online sign-in: the data may be older than the offline allowance.
        self.vault
            .unlock_online(PASSWORD, std::time::SystemTime::now())
            .map_err(|e| e.to_string())
    }
}

/// The cache for `members` members under `root`, built if missing.
pub fn ensure(root: &Path, members: usize) -> Result<Data, String> {
    let dir = root.join(format!("cache-{members}"));
    let marker = dir.join("ready");
    let vault = Vault::new(dir.join("vault"), Box::new(NoKeychain));
    let data = Data {
        dir: dir.clone(),
        members,
        vault,
    };
    // The cache is reused only if it was made for this schema.
    let schema = canopy_store::migrations::schema_fingerprint();
    let made_for = std::fs::read_to_string(&marker).unwrap_or_default();
    if made_for.lines().next() == Some(schema.as_str()) {
        return Ok(data);
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    eprintln!(
        "bench: generating a {members}-member cache in {} (once)",
        dir.display()
    );
    let started = Instant::now();
    let store = data
        .vault
        .create(PASSWORD, KdfParams::DEFAULT, std::time::SystemTime::now())
        .map_err(|e| e.to_string())?;
    let rows = load(&store, members)?;
    let loaded = started.elapsed();
    // The plaintext twin is written compactly (like VACUUM): compact the encrypted file
    // too, so P2 compares encryption and nothing else.
    store.database().vacuum().map_err(|e| e.to_string())?;
    store
        .database()
        .export_plaintext(&data.plain_path())
        .map_err(|e| e.to_string())?;
    drop(store);
    std::fs::write(
        &marker,
        format!(
            "{schema}\n{rows} rows loaded in {:.1} s\n",
            loaded.as_secs_f64()
        ),
    )
    .map_err(|e| e.to_string())?;
    eprintln!(
        "bench: {rows} rows in {:.1} s (bulk load incl. indexes), plaintext twin in {:.1} s",
        loaded.as_secs_f64(),
        (started.elapsed() - loaded).as_secs_f64()
    );
    Ok(data)
}

/// Bootstraps the company into `store`: members with personal details (the founder sees
/// everyone's), PV per member and period from their orders, and one earnings line of the
/// founder's per counted order below them (synthetic until the commission engine lands,
/// but the row shape and count of the real thing: about 5,000,000 lines at 1M members).
fn load(store: &Store, members: usize) -> Result<u64, String> {
    let err = |e: canopy_store::StoreError| e.to_string();
    let company = Company::generate(members, SEED).map_err(|e| e.to_string())?;
    // Depth below the founder; sponsors always have lower ids, so pages fill it in order.
    let mut depth = vec![0u32; members];
    store
        .bootstrap_begin("bench", None, "2026-10-31T00:00:00Z")
        .map_err(err)?;
    let mut totals: HashMap<Period, i64> = HashMap::new();
    let mut page = 0u64;
    let pages_started = Instant::now();
    let mut generating = std::time::Duration::ZERO;
    let mut line_id = 0i64;
    for start in (0..members).step_by(PAGE) {
        let end = (start + PAGE).min(members);
        let made = Instant::now();
        let new_members = company.members(start..end).map_err(|e| e.to_string())?;
        let orders = company.orders(start..end).map_err(|e| e.to_string())?;
        generating += made.elapsed();
        for n in &new_members {
            if let Some(s) = n.member.sponsor {
                depth[(n.member.id.get() - 1) as usize] = depth[(s.get() - 1) as usize] + 1;
            }
        }
        store
            .bootstrap_page(page, |b| {
                for n in &new_members {
                    let r = &n.member;
                    let level = usize::from(r.rank.get());
                    b.member(&Member {
                        id: r.id,
                        number: r.number.clone(),
                        sponsor: r.sponsor,
                        placement: r.placement,
                        rank: Rank::new(r.rank.get(), RANKS.get(level).map_or("Rank", |r| r.0)),
                        status: r.status,
                        joined_on: r.joined_on,
                        country: r.country,
                        display_name: r.display_name.clone(),
                        personal: n.personal.clone(),
                    })?;
                }
                let mut pv: HashMap<(MemberId, Period), i64> = HashMap::new();
                for o in &orders {
                    if !o.status.counts_for_volume() {
                        continue;
                    }
                    let period = Period::containing(o.placed_at.date())
                        .map_err(|e| canopy_store::StoreError::Invalid(e.to_string()))?;
                    let order_pv = o.total_pv().map(|p| p.hundredths()).unwrap_or(0);
                    *pv.entry((o.buyer, period)).or_default() += order_pv;
                    if o.buyer.get() == 1 {
                        continue;
                    }
                    let level = depth[(o.buyer.get() - 1) as usize];
                    let rate = if level <= 7 { 500 } else { 100 };
                    let total = o
                        .total()
                        .map_err(|e| canopy_store::StoreError::Invalid(e.to_string()))?;
                    let amount = Money::new(total.minor() * rate / 10_000, total.currency());
                    line_id += 1;
                    *totals.entry(period).or_default() += amount.minor();
                    b.earnings_line(&EarningsLine {
                        id: EarningsLineId::new(line_id),
                        period,
                        member: MemberId::new(1),
                        amount,
                        kind: EarningsKind::Unilevel,
                        source: EarningsSource {
                            order: Some(o.id),
                            member: Some(o.buyer),
                            level: Some(u16::try_from(level).unwrap_or(u16::MAX)),
                            rule: "unilevel".into(),
                            rate: Some(BasisPoints::new(rate as u32)),
                        },
                    })?;
                }
                for ((member, period), points) in pv {
                    b.volume(member, period, Pv::from_hundredths(points))?;
                }
                Ok(())
            })
            .map_err(err)?;
        page += 1;
    }
    let currency = canopy_core::Currency::parse("USD").map_err(|e| e.to_string())?;
    store
        .bootstrap_page(page, |b| {
            for (&period, &total) in &totals {
                b.writer().put_statement(
                    period,
                    StatementStatus::Final,
                    Money::new(total, currency),
                )?;
            }
            Ok(())
        })
        .map_err(err)?;
    eprintln!(
        "bench: {page} pages appended in {:.1} s (of which generating the company {:.1} s)",
        pages_started.elapsed().as_secs_f64(),
        generating.as_secs_f64()
    );
    let finishing = Instant::now();
    store.bootstrap_finish(&SyncState::default()).map_err(err)?;
    eprintln!(
        "bench: tree index, search and secondary indexes built in {:.1} s",
        finishing.elapsed().as_secs_f64()
    );
    let done = store.bootstrap_progress().map_err(err)?;
    debug_assert!(done.is_none());
    Ok(u64::try_from(line_id).unwrap_or(0) + members as u64)
}
