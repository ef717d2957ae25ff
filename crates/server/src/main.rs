//! `canopy-server`: `serve` a real deployment from its TOML configuration, run the `demo`
//! installation, `seed` a database with a generated company, run and close a period's
//! `commissions`, drive a `loadtest` against a server of its own, or print a key's `pin`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use canopy_server::commissions::{self, CommissionPlan};
use canopy_server::config::Config;
use canopy_server::seed::{self, Company};
use canopy_server::{demo, server, storage, tls};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "canopy-server", version, about = "Canopy's central server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve a deployment described by a TOML configuration file.
    Serve {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Make (or reuse) a demo CA, certificate and pins in DIR, a demo company with a
    /// distributor, a manager and an admin account, write DIR/demo.json, and serve.
    Demo {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: SocketAddr,
        /// Members of the demo company (first run only; later runs reuse the database).
        #[arg(long, default_value_t = 5_000)]
        members: usize,
        /// Seed of the demo company's generator (first run only).
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Fill an empty database with a generated company: the same N and seed always give
    /// the same company.
    Seed {
        /// e.g. sqlite:///var/lib/canopy/canopy.db or postgres://canopy@db/canopy
        #[arg(long, value_name = "URL")]
        database: String,
        #[arg(long, value_name = "N")]
        members: usize,
        #[arg(long, value_name = "S", default_value_t = 1)]
        seed: u64,
        /// Members per transaction.
        #[arg(long, default_value_t = 20_000)]
        batch: usize,
    },
    /// Run or close a period's commissions on the database a configuration names.
    Commissions {
        #[command(subcommand)]
        action: CommissionsAction,
    },
    /// Verify the audit log's hash chain, or export it as JSON lines.
    Audit {
        #[command(subcommand)]
        action: canopy_server::audit_log::AuditCommand,
    },
    /// Back up the database (online, encrypted to age keys), or `verify` a backup, or make
    /// a key with `keygen`.
    Backup(canopy_server::backup::cli::BackupCommand),
    /// Restore an encrypted backup into a database file.
    Restore(canopy_server::backup::cli::RestoreArgs),
    /// Drive simulated clients (sign-in, bootstrap, then delta syncs with some pushes)
    /// against a server of its own on 127.0.0.1 over TLS, and report requests/s and latency
    /// percentiles (PERFORMANCE.md P10). It writes accounts, orders and notes into the
    /// database: never a production one.
    Loadtest {
        /// A server configuration: its database, secrets and limits are used (TLS is the
        /// demo certificate in --dir, for loopback).
        #[arg(long, value_name = "FILE", required_unless_present = "database")]
        config: Option<PathBuf>,
        /// A database URL instead, e.g. sqlite:///tmp/load.db or postgres://canopy@db/load
        /// (seeded when empty).
        #[arg(long, value_name = "URL", conflicts_with = "config")]
        database: Option<String>,
        /// The demo CA, certificate and TOTP key (made if missing); default: a temporary
        /// directory.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        #[arg(long, default_value_t = 100)]
        clients: usize,
        /// Run this long first, not counted (connections and prepared statements warm up).
        #[arg(long, value_name = "SECS", default_value_t = 0)]
        warmup: u64,
        /// Length of the measured phase (20 s unless --requests is given).
        #[arg(long, value_name = "SECS")]
        duration: Option<u64>,
        /// Stop after this many requests in all.
        #[arg(long, value_name = "M")]
        requests: Option<u64>,
        /// Each client pushes an order or a note every K requests (0: delta syncs only).
        #[arg(long, value_name = "K", default_value_t = 10)]
        push_every: u32,
        /// Offer this many requests per second in all, each client on a fixed schedule,
        /// latency counted from each request's scheduled time; without it each client sends
        /// as soon as its last answer came (the server's saturation).
        #[arg(long, value_name = "PER_SEC")]
        rate: Option<f64>,
        /// Members of the company seeded into an empty database.
        #[arg(long, default_value_t = 100_000)]
        members: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Also write the report as JSON here.
        #[arg(long, value_name = "OUT")]
        json: Option<PathBuf>,
    },
    /// Print the SPKI SHA-256 pin of a PEM private key (publish it before deploying the key).
    Pin {
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
    },
}

#[derive(Subcommand)]
enum CommissionsAction {
    /// Pay a period (again): its lines and results are replaced in one transaction.
    Run {
        #[command(flatten)]
        target: CommissionsTarget,
        /// The compensation plan (TOML); else $CANOPY_SERVER_COMMISSIONS_PLAN, else the
        /// bundled demo plan.
        #[arg(long, value_name = "FILE")]
        plan: Option<PathBuf>,
    },
    /// Make a period final: later runs of it are refused.
    Close {
        #[command(flatten)]
        target: CommissionsTarget,
    },
}

#[derive(clap::Args)]
struct CommissionsTarget {
    /// YYYY-MM
    #[arg(long)]
    period: String,
    /// The server's configuration file (its database is used).
    #[arg(long, value_name = "FILE", required_unless_present = "database")]
    config: Option<PathBuf>,
    /// A database URL instead of a configuration, e.g. sqlite:///var/lib/canopy/canopy.db
    /// or postgres://canopy@db/canopy
    #[arg(long, value_name = "URL", conflicts_with = "config")]
    database: Option<String>,
}

impl CommissionsTarget {
    fn period(&self) -> Result<canopy_core::Period> {
        canopy_core::Period::parse(&self.period)
            .with_context(|| format!("--period {:?} is not a period: use YYYY-MM", self.period))
    }

    fn database_url(&self) -> Result<String> {
        match (&self.database, &self.config) {
            (Some(url), _) => Ok(url.clone()),
            (None, Some(path)) => Ok(Config::load(path)?.database.url),
            (None, None) => anyhow::bail!("give --config or --database"),
        }
    }
}

fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CANOPY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("canopy-server: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Pin { key } => {
            println!("{}", tls::spki_pin_of_key_file(&key)?);
            Ok(())
        }
        Command::Serve { config } => {
            let config = Config::load(&config)?;
            // Refuse to start with a plan that would fail the first run.
            CommissionPlan::load(None)?;
            runtime()?.block_on(async { server::start(&config).await?.wait().await })?;
            Ok(())
        }
        Command::Seed {
            database,
            members,
            seed,
            batch,
        } => runtime()?.block_on(seed_database(&database, members, seed, batch)),
        Command::Commissions { action } => runtime()?.block_on(commissions_command(action)),
        Command::Backup(command) => canopy_server::backup::cli::backup(command),
        Command::Restore(args) => canopy_server::backup::cli::restore(args),
        Command::Audit { action } => {
            println!(
                "{}",
                runtime()?.block_on(canopy_server::audit_log::run(action))?
            );
            Ok(())
        }
        Command::Loadtest {
            config,
            database,
            dir,
            clients,
            warmup,
            duration,
            requests,
            push_every,
            rate,
            members,
            seed,
            json,
        } => {
            let temp;
            let dir = match dir {
                Some(dir) => dir,
                None => {
                    temp = tempfile::tempdir().context("cannot make a temporary directory")?;
                    temp.path().to_owned()
                }
            };
            let files = demo::ensure_files(&dir)?;
            let mut server_config = files.config(SocketAddr::from(([127, 0, 0, 1], 0)));
            match (config, database) {
                (Some(path), _) => {
                    let loaded = Config::load(&path)?;
                    server_config = Config {
                        tls: server_config.tls,
                        ..loaded
                    };
                }
                (None, Some(url)) => server_config.database.url = url,
                (None, None) => anyhow::bail!("give --config or --database"),
            }
            let duration = match (duration, requests) {
                (Some(secs), _) => Some(std::time::Duration::from_secs(secs)),
                (None, Some(_)) => Some(canopy_server::loadtest::MAX_DURATION),
                (None, None) => Some(std::time::Duration::from_secs(20)),
            };
            let options = canopy_server::loadtest::LoadOptions {
                clients,
                warmup: std::time::Duration::from_secs(warmup),
                duration,
                requests,
                push_every,
                rate,
                members,
                seed,
                ca_cert: files.ca_cert.clone(),
            };
            let report =
                runtime()?.block_on(canopy_server::loadtest::run(&server_config, &options))?;
            print!("{}", report.text());
            if let Some(out) = json {
                std::fs::write(&out, serde_json::to_string_pretty(&report)?)
                    .with_context(|| format!("cannot write {}", out.display()))?;
            }
            Ok(())
        }
        Command::Demo {
            dir,
            listen,
            members,
            seed,
        } => {
            let files = demo::ensure_files(&dir)?;
            let config = files.config(listen);
            runtime()?.block_on(async {
                let accounts =
                    demo::prepare(&files, &config, demo::DemoCompany { members, seed }).await?;
                let running = server::start(&config).await?;
                let url = format!("https://{}", running.addr);
                demo::write_provisioning_with_accounts(&files, &url, &accounts)?;
                println!("Canopy demo server at {url}");
                println!(
                    "  provisioning file: {}",
                    files.dir.join("demo.json").display()
                );
                println!("  CA certificate:    {}", files.ca_cert.display());
                println!(
                    "  pins (current, backup): {} {}",
                    files.pins[0], files.pins[1]
                );
                for account in &accounts {
                    println!(
                        "  {} account: {} (password and TOTP secret in demo.json)",
                        account.role.key(),
                        account.email
                    );
                }
                running.wait().await?;
                anyhow::Ok(())
            })
        }
    }
}

async fn seed_database(url: &str, members: usize, seed: u64, batch: usize) -> Result<()> {
    let storage = storage::open(url)
        .await
        .context("cannot open the database")?;
    let started = Instant::now();
    let company = Company::generate(members, seed)?;
    eprintln!(
        "generated a tree of {} members (longest leg {} deep) in {:.2} s",
        company.len(),
        company.max_depth(),
        started.elapsed().as_secs_f64()
    );
    let mut last_report = Instant::now();
    let done = seed::insert(&*storage, &company, batch, |progress| {
        if last_report.elapsed().as_secs() >= 5 {
            last_report = Instant::now();
            eprintln!(
                "  {} members, {} orders stored so far",
                progress.members, progress.orders
            );
        }
    })
    .await?;
    println!(
        "seeded {} members and {} orders (seed {seed}) in {:.1} s",
        done.members,
        done.orders,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn commissions_command(action: CommissionsAction) -> Result<()> {
    let now = time::OffsetDateTime::now_utc;
    match action {
        CommissionsAction::Run { target, plan } => {
            let period = target.period()?;
            let plan = CommissionPlan::load(plan.as_deref())?;
            let storage = storage::open(&target.database_url()?)
                .await
                .context("cannot open the database")?;
            let started = Instant::now();
            let done = commissions::run(&*storage, &plan, period, None, now).await?;
            println!(
                "period {period}: run {} paid {} members and {} orders ({} with no exchange rate, \
                 volume only) with {} ({}): {} lines ({} corrections) in {:.2} s (read {:.2} s, compute {:.2} s, write {:.2} s)",
                done.run.id,
                done.members,
                done.orders,
                done.other_currency,
                plan.record().name,
                &plan.record().hash[..12],
                done.lines,
                done.corrections,
                started.elapsed().as_secs_f64(),
                done.read.as_secs_f64(),
                done.compute.as_secs_f64(),
                done.write.as_secs_f64(),
            );
            for (kind, total, lines) in &done.totals {
                println!(
                    "  {:<24} {:>16} {:>10} lines",
                    kind.label(),
                    total.to_string(),
                    lines
                );
            }
            println!("  result hash {}", done.run.result_hash);
        }
        CommissionsAction::Close { target } => {
            let period = target.period()?;
            let storage = storage::open(&target.database_url()?)
                .await
                .context("cannot open the database")?;
            let closed = commissions::close(&*storage, period, None, now()).await?;
            let total: i64 = closed.totals.iter().map(|(_, sum, _)| sum).sum();
            println!(
                "period {period} is closed: {} lines, {total} in minor units",
                closed.totals.iter().map(|(_, _, n)| n).sum::<u64>()
            );
        }
    }
    Ok(())
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new().context("cannot start the async runtime")
}
