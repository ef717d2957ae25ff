//! `canopy-server loadtest`: many simulated devices against a server of its own on loopback
//! (PERFORMANCE.md P10). Each signs in, bootstraps, then loops delta syncs with a push now
//! and then, timed client-side; the report gives requests/s, percentiles and errors by kind.
//!
//! The clients speak HTTPS with reqwest and `canopy_core::sync`'s messages rather than through
//! `canopy_sync::ServerClient`: `canopy-sync` dev-depends on this crate, and its client
//! writes every batch into an encrypted cache, which would be measured instead of the server.
//! The setup (accounts, sign-ins, bootstraps) happens before the clock starts, so sign-in
//! throttling and Argon2 are not what is measured. It writes accounts, devices, orders and
//! notes into the database it is given: never point it at a production database.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use canopy_core::sync::push::{
    Command, NoteForm, OrderForm, OrderFormLine, Outcome, PushCommand, PushRequest, PushResponse,
};
use canopy_core::sync::{Row, codec};
use canopy_core::{Email, IdempotencyKey, MemberId, Role};
use data_encoding::{BASE64, HEXLOWER};
use ring::rand::SecureRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde::Serialize;
use serde_json::{Value, json};

use crate::app::{AppState, Clock, seal_totp_secret};
use crate::auth::TotpSecret;
use crate::config::Config;
use crate::seed::{self, Company};
use crate::server;
use crate::storage::{NewAccount, Storage, Tree};

/// The most clients one run may simulate (each holds a connection and a task).
pub const MAX_CLIENTS: usize = 1_000;
/// The longest measured phase.
pub const MAX_DURATION: Duration = Duration::from_secs(3_600);
/// One client in this many is a manager linked to a leader near the top of the tree.
const MANAGER_EVERY: usize = 10;
/// Sign-ins and bootstraps under way at once (each sign-in costs the server an Argon2id).
const SETUP_CONCURRENCY: usize = 8;
/// A request that takes longer than this counts as a timeout error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const PASSWORD: &str = "load test password, not a secret";

/// Why a load test could not run (failures of single requests are counted, not raised).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{0}")]
    Invalid(String),
    #[error("cannot prepare the database: {0}")]
    Storage(#[from] crate::storage::StorageError),
    #[error("cannot seed the database: {0}")]
    Seed(#[from] crate::seed::SeedError),
    #[error("cannot start the server: {0}")]
    Serve(#[from] crate::server::ServeError),
    #[error("cannot set up the clients: {0}")]
    Setup(String),
}

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Simulated clients (1 to [`MAX_CLIENTS`]).
    pub clients: usize,
    /// Run this long before the measured phase, the same way but not counted: connections
    /// and prepared statements warm up, as on a server that has been running a while.
    pub warmup: Duration,
    /// Stop the measured phase after this long…
    pub duration: Option<Duration>,
    /// …or after this many requests in all, whichever comes first.
    pub requests: Option<u64>,
    /// Each client pushes one command (an order or a note, in turn) every this many
    /// requests, so changes keep flowing; 0 for delta syncs only.
    pub push_every: u32,
    /// Requests per second in all, spread evenly over the clients (each client sends on a
    /// fixed schedule, whether or not its last answer was slow), or `None` for every client
    /// to send its next request as soon as the last is answered (the server's saturation).
    pub rate: Option<f64>,
    /// Members of the company seeded when the database is empty, and its generator's seed.
    pub members: usize,
    pub seed: u64,
    /// The CA certificate the server's certificate chains to (the demo CA).
    pub ca_cert: std::path::PathBuf,
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

/// The figures of one kind of request.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct KindReport {
    pub requests: u64,
    pub ok: u64,
    pub failed: u64,
    /// Over the successful requests.
    pub latency_ms: Latency,
}

/// The result of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LoadReport {
    /// The database's kind (`sqlite`, later `postgres`); the URL may hold a password.
    pub database: String,
    pub members: u64,
    pub clients: usize,
    pub managers: usize,
    /// Creating the accounts, signing in, bootstrapping every client and one delta each to
    /// catch up with the others' set-ups (not measured).
    pub setup_seconds: f64,
    /// Members received by the bootstraps in all.
    pub bootstrapped_members: u64,
    /// The unmeasured warm-up before the measured phase.
    pub warmup_seconds: f64,
    /// The measured phase.
    pub seconds: f64,
    /// The offered rate when the clients kept a schedule (see [`LoadOptions::rate`]); the
    /// latencies are then counted from each request's scheduled time, so a server that
    /// falls behind shows it in the percentiles instead of hiding it by slowing the clients.
    pub offered_rate: Option<f64>,
    pub requests: u64,
    pub ok: u64,
    pub failed: u64,
    /// Successful requests per second of the measured phase.
    pub requests_per_second: f64,
    /// Over every successful request.
    pub latency_ms: Latency,
    /// `changes` and `push`.
    pub by_kind: BTreeMap<String, KindReport>,
    /// Failures by kind and cause, e.g. `changes: HTTP 500`; they add up to `failed`.
    pub errors: BTreeMap<String, u64>,
    /// Operations the delta batches carried, and the pushed commands applied.
    pub delta_ops: u64,
    pub pushes_applied: u64,
    /// `/proc/loadavg` at the end of the measured phase (1, 5 and 15 minutes), where known:
    /// the clients and the server share the machine's cores.
    pub load_average: Option<[f64; 3]>,
}

/// One simulated device after its setup: what its loop needs.
struct Client {
    http: reqwest::Client,
    token: String,
    cursor: String,
    member: MemberId,
    sku: Option<String>,
    tag: String,
}

/// What one client measured.
#[derive(Default)]
struct Tally {
    latencies: BTreeMap<&'static str, Vec<u32>>,
    failed: BTreeMap<&'static str, u64>,
    errors: BTreeMap<String, u64>,
    delta_ops: u64,
    pushes_applied: u64,
}

/// Starts a server for `config` on 127.0.0.1:0 (its database seeded first if empty), sets up
/// `options.clients` clients and runs the measured phase.
pub async fn run(config: &Config, options: &LoadOptions) -> Result<LoadReport, LoadError> {
    check(options)?;
    let mut config = config.clone();
    config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    let state = server::state_for(&config, Clock::system()).await?;
    let members = ensure_company(&*state.storage, options).await?;
    let running = server::start_with(&config, state.clone()).await?;
    let base = format!("https://localhost:{}", running.addr.port());
    let result = drive(&state, &base, members, options).await;
    if let Err(e) = running.shutdown().await {
        tracing::warn!(error = %e, "the load test's server did not stop cleanly");
    }
    let mut report = result?;
    report.database = config
        .database
        .url
        .split_once(':')
        .map_or("unknown", |(scheme, _)| scheme)
        .to_owned();
    Ok(report)
}

fn check(options: &LoadOptions) -> Result<(), LoadError> {
    if !(1..=MAX_CLIENTS).contains(&options.clients) {
        return Err(LoadError::Invalid(format!(
            "--clients must be 1 to {MAX_CLIENTS}"
        )));
    }
    if options.duration.is_none() && options.requests.is_none() {
        return Err(LoadError::Invalid(
            "give --duration or --requests (or both)".into(),
        ));
    }
    if options
        .duration
        .is_some_and(|d| d > MAX_DURATION || d.is_zero())
    {
        return Err(LoadError::Invalid(format!(
            "--duration must be 1 to {} seconds",
            MAX_DURATION.as_secs()
        )));
    }
    if options
        .rate
        .is_some_and(|r| !r.is_finite() || r <= 0.0 || r > 1_000_000.0)
    {
        return Err(LoadError::Invalid(
            "--rate must be a number of requests per second above 0 (at most 1,000,000)".into(),
        ));
    }
    if options.warmup > MAX_DURATION {
        return Err(LoadError::Invalid(format!(
            "--warmup must be at most {} seconds",
            MAX_DURATION.as_secs()
        )));
    }
    if options.requests == Some(0) {
        return Err(LoadError::Invalid("--requests must be at least 1".into()));
    }
    Ok(())
}

/// Seeds the company when the database has none; how many members it has.
async fn ensure_company(storage: &dyn Storage, options: &LoadOptions) -> Result<u64, LoadError> {
    let root = MemberId::new(1);
    if storage.find_member(root).await?.is_none() {
        let started = Instant::now();
        let company = Company::generate(options.members, options.seed)?;
        seed::insert(storage, &company, 20_000, |_| {}).await?;
        tracing::info!(
            members = options.members,
            seconds = started.elapsed().as_secs_f64(),
            "seeded the load test's company"
        );
    }
    Ok(storage.count_downline(root, Tree::Sponsor).await? + 1)
}

async fn drive(
    state: &AppState,
    base: &str,
    members: u64,
    options: &LoadOptions,
) -> Result<LoadReport, LoadError> {
    let setup_started = Instant::now();
    let tls = Arc::new(client_tls(&options.ca_cert)?);
    let people = pick_members(&*state.storage, members, options.clients).await?;
    let managers = people
        .iter()
        .filter(|(role, _)| *role == Role::Manager)
        .count();
    let run_tag = random_hex(state, 4)?;
    let hash = state
        .hasher
        .hash(PASSWORD, state.rng.as_ref())
        .map_err(|e| LoadError::Setup(format!("hashing the password: {e}")))?;
    let gate = Arc::new(tokio::sync::Semaphore::new(SETUP_CONCURRENCY));
    let mut setups = tokio::task::JoinSet::new();
    let mut taken = std::collections::HashSet::new();
    for (i, (role, wanted)) in people.into_iter().enumerate() {
        let (email, member, secret) =
            account_for(state, &hash, role, wanted, members, &mut taken).await?;
        let (http, gate, base) = (http_client(&tls)?, gate.clone(), base.to_owned());
        let tag = format!("{run_tag}-{i}");
        setups.spawn(async move {
            let _permit = gate.acquire_owned().await;
            set_up(http, &base, &email, &secret, member, tag).await
        });
    }
    let mut clients = Vec::with_capacity(options.clients);
    let mut bootstrapped_members = 0;
    while let Some(done) = setups.join_next().await {
        let (client, got) = done.map_err(|e| LoadError::Setup(e.to_string()))??;
        bootstrapped_members += got;
        clients.push(client);
    }
    // Each client catches up with what the others' set-ups logged (their accounts), so the
    // measured phase starts from caches as current as a running device's.
    let mut catch_ups = tokio::task::JoinSet::new();
    for mut client in clients {
        let base = base.to_owned();
        catch_ups.spawn(async move {
            changes_once(&mut client, &base)
                .await
                .map(|_| client)
                .map_err(|e| LoadError::Setup(format!("the first delta: {e}")))
        });
    }
    let mut clients = Vec::with_capacity(options.clients);
    while let Some(done) = catch_ups.join_next().await {
        clients.push(done.map_err(|e| LoadError::Setup(e.to_string()))??);
    }
    let setup_seconds = setup_started.elapsed().as_secs_f64();

    let started = Instant::now();
    let measured_from = started + options.warmup;
    let deadline = options.duration.map(|d| measured_from + d);
    let budget = Arc::new(AtomicU64::new(options.requests.unwrap_or(u64::MAX)));
    let mut loops = tokio::task::JoinSet::new();
    let count = clients.len();
    for (i, client) in clients.into_iter().enumerate() {
        let (base, budget) = (base.to_owned(), budget.clone());
        let pace = options.rate.map(|rate| Pace::of(rate, count, i, started));
        // Each client pushes on its own beat (client i on requests i, i + K, …), so the
        // clients' pushes spread out rather than coming all at once every K requests.
        let push = Beat {
            every: u64::from(options.push_every),
            phase: i as u64 % u64::from(options.push_every.max(1)),
        };
        loops.spawn(async move {
            client_loop(
                client,
                &base,
                (measured_from, deadline),
                &budget,
                push,
                pace,
            )
            .await
        });
    }
    let mut tallies = Vec::with_capacity(options.clients);
    while let Some(done) = loops.join_next().await {
        tallies.push(done.map_err(|e| LoadError::Setup(e.to_string()))?);
    }
    let seconds = measured_from.elapsed().as_secs_f64();
    let mut report = summarise(tallies, seconds);
    report.warmup_seconds = options.warmup.as_secs_f64();
    report.offered_rate = options.rate;
    report.members = members;
    report.clients = options.clients;
    report.managers = managers;
    report.setup_seconds = setup_seconds;
    report.bootstrapped_members = bootstrapped_members;
    report.load_average = load_average();
    Ok(report)
}

/// Which member each client is: one in [`MANAGER_EVERY`] a manager over a leader near the top
/// (the root's enrollees, then theirs), the rest distributors spread evenly over the join
/// order, which spreads them over the tree's depths (most are leaves or have a small team).
async fn pick_members(
    storage: &dyn Storage,
    members: u64,
    clients: usize,
) -> Result<Vec<(Role, MemberId)>, LoadError> {
    let root = MemberId::new(1);
    let mut leaders = Vec::new();
    let mut level = vec![root];
    while leaders.len() < 200 && !level.is_empty() {
        let mut next = Vec::new();
        for parent in level {
            let mut after = None;
            loop {
                let page = storage.list_enrollees(parent, after, 200).await?;
                let Some(last) = page.last() else { break };
                after = Some(last.id);
                next.extend(page.iter().map(|m| m.id));
            }
        }
        leaders.extend(next.iter().copied());
        level = next;
    }
    leaders.truncate(200);
    let managers = if leaders.is_empty() {
        0
    } else {
        clients.div_ceil(MANAGER_EVERY).min(leaders.len())
    };
    let mut picked = Vec::with_capacity(clients);
    for k in 0..managers {
        picked.push((Role::Manager, leaders[k * leaders.len() / managers]));
    }
    let distributors = (clients - managers) as u64;
    for k in 0..distributors {
        // Members 2..=members, evenly; a member picked twice is fine (two devices).
        let id = 2 + k * members.saturating_sub(1) / distributors.max(1);
        let id = i64::try_from(id.min(members)).map_err(|e| LoadError::Setup(e.to_string()))?;
        picked.push((Role::Distributor, MemberId::new(id)));
    }
    Ok(picked)
}

/// An account with MFA on for `wanted` or, when that member is taken (by another client of
/// this run, or by an account that isn't the load tool's), the next free member after it.
/// The account is `load-m<member>@load.canopy.example`, kept between runs on the same
/// database: a later run gives it this run's password hash, role and a new TOTP secret, so
/// runs with the same clients sign in as the same members. Its email, member and secret.
async fn account_for(
    state: &AppState,
    hash: &str,
    role: Role,
    wanted: MemberId,
    members: u64,
    taken: &mut std::collections::HashSet<MemberId>,
) -> Result<(String, MemberId, TotpSecret), LoadError> {
    let last = i64::try_from(members).map_err(|e| LoadError::Setup(e.to_string()))?;
    let mut member = wanted;
    for _ in 0..members {
        if taken.insert(member) {
            let email = format!("load-m{}@load.canopy.example", member.get());
            if let Some(secret) = make_account(state, &email, hash, role, member).await? {
                return Ok((email, member, secret));
            }
        }
        // Past the last member, back to the first below the root.
        member = MemberId::new(if member.get() >= last {
            2.min(last)
        } else {
            member.get() + 1
        });
    }
    Err(LoadError::Setup(
        "no member left without an account: use fewer clients".into(),
    ))
}

/// Makes (or takes over) the load account `email` for `member`; `None` when the member
/// already has an account of someone else's.
async fn make_account(
    state: &AppState,
    email: &str,
    hash: &str,
    role: Role,
    member: MemberId,
) -> Result<Option<TotpSecret>, LoadError> {
    let account = match state.storage.find_account_by_email(email).await? {
        Some(account) if account.member == Some(member) => {
            state
                .storage
                .update_password_hash(account.id, hash.to_owned())
                .await?;
            state.storage.set_role(account.id, role).await?;
            account
        }
        Some(_) => return Ok(None),
        None => {
            let new = NewAccount {
                email: Email::parse(email).map_err(|e| LoadError::Setup(e.to_string()))?,
                password_hash: hash.to_owned(),
                role,
                member: Some(member),
            };
            match state.storage.create_account(new, state.now()).await {
                Ok(account) => account,
                Err(crate::storage::StorageError::Conflict(_)) => return Ok(None),
                Err(e) => return Err(e.into()),
            }
        }
    };
    let secret = TotpSecret::generate(state.rng.as_ref())
        .map_err(|e| LoadError::Setup(format!("a TOTP secret: {e}")))?;
    let sealed = seal_totp_secret(&state.keys, account.id, &secret, &state.rng)
        .map_err(|e| LoadError::Setup(format!("sealing a TOTP secret: {e}")))?;
    state
        .storage
        .set_mfa(account.id, Some(sealed), true)
        .await?;
    Ok(Some(secret))
}

/// Signs in as a new device (password, then the TOTP code, registering an Ed25519 key) and
/// bootstraps every page; the client ready for its loop and the members it received.
async fn set_up(
    http: reqwest::Client,
    base: &str,
    email: &str,
    secret: &TotpSecret,
    member: MemberId,
    tag: String,
) -> Result<(Client, u64), LoadError> {
    let setup =
        |what: &str, e: &dyn std::fmt::Display| LoadError::Setup(format!("{email}: {what}: {e}"));
    let first = post_json(
        &http,
        base,
        "/v1/auth/sign-in",
        None,
        &json!({"email": email, "password": PASSWORD}),
    )
    .await
    .map_err(|e| setup("sign-in", &e))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| setup("the clock", &e))?
        .as_secs();
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|e| setup("a device key", &e))?;
    let key = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|e| setup("a device key", &e))?;
    let body = json!({
        "mfa_token": first["mfa_token"],
        "code": secret.code_at(now),
        "device": {"name": "Load test device", "public_key": BASE64.encode(key.public_key().as_ref())},
    });
    let second = post_json(&http, base, "/v1/auth/mfa", None, &body)
        .await
        .map_err(|e| setup("second factor", &e))?;
    let token = second["access_token"]
        .as_str()
        .ok_or_else(|| setup("second factor", &"no access token in the answer"))?
        .to_owned();

    let mut checkpoint: Option<String> = None;
    let mut sku = None;
    let mut received = 0_u64;
    for page in 0_u64.. {
        let body = match &checkpoint {
            None => json!({}),
            Some(cp) => json!({"checkpoint": cp, "page": page}),
        };
        let bytes = post_bytes(&http, base, "/v1/sync/bootstrap", &token, &body)
            .await
            .map_err(|e| setup("bootstrap", &e))?;
        let decoded = codec::decode_page(&bytes).map_err(|e| setup("bootstrap page", &e))?;
        for row in &decoded.rows {
            match row {
                Row::Member(_) => received += 1,
                Row::Product(p) if p.active && sku.is_none() => {
                    sku = Some(p.sku.as_str().to_owned());
                }
                _ => {}
            }
        }
        checkpoint = Some(decoded.checkpoint);
        if decoded.last {
            break;
        }
    }
    let cursor = checkpoint.ok_or_else(|| setup("bootstrap", &"no checkpoint"))?;
    let client = Client {
        http,
        token,
        cursor,
        member,
        sku,
        tag,
    };
    Ok((client, received))
}

/// Which of a client's requests are pushes: those `n` (from 1) with `n + phase` a multiple
/// of `every`; none when `every` is 0.
#[derive(Debug, Clone, Copy)]
struct Beat {
    every: u64,
    phase: u64,
}

impl Beat {
    fn push(self, n: u64) -> bool {
        self.every > 0 && (n + self.phase).is_multiple_of(self.every)
    }
}

/// One client's schedule under an offered rate: its `n`th request is due at
/// `first + n × every`, the clients' first requests spread over one interval.
#[derive(Debug, Clone, Copy)]
struct Pace {
    first: Instant,
    every: Duration,
}

impl Pace {
    fn of(rate: f64, clients: usize, index: usize, started: Instant) -> Self {
        let every = Duration::from_secs_f64(clients as f64 / rate);
        let first = started + every.mul_f64(index as f64 / clients as f64);
        Self { first, every }
    }

    /// When request `n` (from 0) is due.
    fn due(&self, n: u64) -> Instant {
        self.first + self.every.mul_f64(n as f64)
    }
}

/// The loop of one client: delta syncs from its cursor, a push on each `beat`, until the
/// deadline or the shared request budget runs out; requests started before `measured_from`
/// are the warm-up, neither counted nor timed (a failure is still reported). Under a [`Pace`] each
/// request waits for its due time and its latency counts from then (a late client sends at
/// once, and the wait it had shows), as `wrk2` does against coordinated omission.
async fn client_loop(
    mut client: Client,
    base: &str,
    (measured_from, deadline): (Instant, Option<Instant>),
    budget: &AtomicU64,
    beat: Beat,
    pace: Option<Pace>,
) -> Tally {
    let mut tally = Tally::default();
    let mut n: u64 = 0;
    loop {
        let due = pace.map(|p| p.due(n));
        if let Some(due) = due {
            if deadline.is_some_and(|d| due >= d) {
                break;
            }
            tokio::time::sleep_until(due.into()).await;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let started = due.unwrap_or_else(Instant::now);
        let measured = started >= measured_from;
        // Take one request from the budget; none left, stop.
        if measured
            && budget
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| b.checked_sub(1))
                .is_err()
        {
            break;
        }
        n += 1;
        let push = beat.push(n);
        let kind = match (measured, push) {
            (false, _) => "warm-up",
            (true, true) => "push",
            (true, false) => "changes",
        };
        let result = if push {
            push_one(
                &client,
                base,
                n,
                !((n + beat.phase) / beat.every.max(1)).is_multiple_of(2),
            )
            .await
        } else {
            changes_once(&mut client, base).await
        };
        let micros = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
        match result {
            Ok(_) if !measured => continue,
            Ok(Done::Delta(ops)) => tally.delta_ops += ops,
            Ok(Done::Applied) => tally.pushes_applied += 1,
            Err(cause) => {
                *tally.failed.entry(kind).or_default() += 1;
                *tally.errors.entry(format!("{kind}: {cause}")).or_default() += 1;
                continue;
            }
        }
        tally.latencies.entry(kind).or_default().push(micros);
    }
    tally
}

enum Done {
    Delta(u64),
    Applied,
}

async fn changes_once(client: &mut Client, base: &str) -> Result<Done, String> {
    let body = json!({"cursor": client.cursor});
    let bytes = post_bytes(&client.http, base, "/v1/sync/changes", &client.token, &body).await?;
    let batch = codec::decode_delta(&bytes).map_err(|e| format!("undecodable batch: {e}"))?;
    client.cursor = batch.to;
    Ok(Done::Delta(batch.ops.len() as u64))
}

/// One command: an order of one of the catalogue's first product for the client's own
/// member when `order` (every other push), else a private note on them.
async fn push_one(client: &Client, base: &str, n: u64, order: bool) -> Result<Done, String> {
    let key = IdempotencyKey::parse(&format!("load-{}-{n}", client.tag))
        .map_err(|e| format!("idempotency key: {e}"))?;
    let command = match &client.sku {
        Some(sku) if order => Command::PlaceOrder(OrderForm {
            member: client.member,
            lines: vec![OrderFormLine {
                sku: sku.clone(),
                quantity: 1,
            }],
        }),
        _ => Command::AddNote(NoteForm {
            member: client.member,
            body: format!("Load test note {n}"),
        }),
    };
    let request = PushRequest {
        commands: vec![PushCommand { key, command }],
    };
    let body = serde_json::to_value(&request).map_err(|e| e.to_string())?;
    let answer = post_json(
        &client.http,
        base,
        "/v1/sync/push",
        Some(&client.token),
        &body,
    )
    .await?;
    let answer: PushResponse =
        serde_json::from_value(answer).map_err(|_| "an undecodable answer".to_owned())?;
    match answer.results.first().map(|r| &r.outcome) {
        Some(Outcome::Applied { .. }) => Ok(Done::Applied),
        Some(Outcome::Rejected { .. }) => Err("rejected".into()),
        Some(Outcome::RetryLater { .. }) => Err("retry later".into()),
        None => Err("no answer".into()),
    }
}

async fn post_json(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> Result<Value, String> {
    let mut request = http.post(format!("{base}{path}")).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.map_err(|e| cause(&e))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("HTTP {}", status.as_u16()));
    }
    response.json().await.map_err(|e| cause(&e))
}

async fn post_bytes(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    token: &str,
    body: &Value,
) -> Result<Vec<u8>, String> {
    let response = http
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .map_err(|e| cause(&e))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("HTTP {}", status.as_u16()));
    }
    Ok(response.bytes().await.map_err(|e| cause(&e))?.to_vec())
}

/// A request's failure as a short kind (the full error may name the URL, never a secret).
fn cause(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_connect() {
        "connect".into()
    } else if e.is_decode() || e.is_body() {
        "body".into()
    } else {
        "request".into()
    }
}

/// Trusts the demo CA only; each client keeps its one connection (HTTP/1.1 keep-alive), so
/// the measured phase has no TLS handshakes.
fn client_tls(ca: &std::path::Path) -> Result<rustls::ClientConfig, LoadError> {
    let bad = |e: &dyn std::fmt::Display| LoadError::Setup(format!("{}: {e}", ca.display()));
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).map_err(|e| bad(&e))? {
        roots.add(cert.map_err(|e| bad(&e))?).map_err(|e| bad(&e))?;
    }
    Ok(
        rustls::ClientConfig::builder_with_provider(crate::tls::provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| bad(&e))?
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

fn http_client(tls: &rustls::ClientConfig) -> Result<reqwest::Client, LoadError> {
    reqwest::Client::builder()
        .use_preconfigured_tls(tls.clone())
        .timeout(REQUEST_TIMEOUT)
        .pool_max_idle_per_host(1)
        .build()
        .map_err(|e| LoadError::Setup(format!("an HTTP client: {e}")))
}

fn random_hex(state: &AppState, bytes: usize) -> Result<String, LoadError> {
    let mut buf = vec![0_u8; bytes];
    state
        .rng
        .fill(&mut buf)
        .map_err(|_| LoadError::Setup("the system random number generator failed".into()))?;
    Ok(HEXLOWER.encode(&buf))
}

fn summarise(tallies: Vec<Tally>, seconds: f64) -> LoadReport {
    let mut report = LoadReport {
        seconds,
        ..LoadReport::default()
    };
    let mut all = Vec::new();
    let mut kinds: BTreeMap<&'static str, (Vec<u32>, u64)> = BTreeMap::new();
    for tally in tallies {
        for (kind, latencies) in tally.latencies {
            all.extend_from_slice(&latencies);
            kinds.entry(kind).or_default().0.extend(latencies);
        }
        for (kind, failed) in tally.failed {
            kinds.entry(kind).or_default().1 += failed;
            report.failed += failed;
        }
        for (error, count) in tally.errors {
            *report.errors.entry(error).or_default() += count;
        }
        report.delta_ops += tally.delta_ops;
        report.pushes_applied += tally.pushes_applied;
    }
    report.ok = all.len() as u64;
    report.requests = report.ok + report.failed;
    report.latency_ms = latency(&mut all);
    for (kind, (mut latencies, failed)) in kinds {
        let ok = latencies.len() as u64;
        report.by_kind.insert(
            kind.to_owned(),
            KindReport {
                requests: ok + failed,
                ok,
                failed,
                latency_ms: latency(&mut latencies),
            },
        );
    }
    if seconds > 0.0 {
        report.requests_per_second = report.ok as f64 / seconds;
    }
    report
}

/// Percentiles by rank over the sorted sample (nearest rank: the smallest value with at
/// least p% of the sample at or below it).
fn latency(micros: &mut [u32]) -> Latency {
    if micros.is_empty() {
        return Latency::default();
    }
    micros.sort_unstable();
    let ms = |v: u32| f64::from(v) / 1000.0;
    let at = |p: f64| {
        let rank = (p * micros.len() as f64).ceil() as usize;
        ms(micros[rank.clamp(1, micros.len()) - 1])
    };
    let sum: u64 = micros.iter().map(|&v| u64::from(v)).sum();
    Latency {
        p50: at(0.50),
        p95: at(0.95),
        p99: at(0.99),
        max: ms(micros[micros.len() - 1]),
        mean: sum as f64 / micros.len() as f64 / 1000.0,
    }
}

fn load_average() -> Option<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut parts = text.split_whitespace().map(str::parse::<f64>);
    Some([
        parts.next()?.ok()?,
        parts.next()?.ok()?,
        parts.next()?.ok()?,
    ])
}

impl LoadReport {
    /// The report as people read it.
    pub fn text(&self) -> String {
        let l = &self.latency_ms;
        let mut out = format!(
            "{} clients ({} managers) against {} with {} members; setup {:.1} s \
             ({} members bootstrapped)\n\
             {}{}{} requests in {:.1} s: {:.0} requests/s, {} failed\n\
             latency ms: p50 {:.2}  p95 {:.2}  p99 {:.2}  max {:.2}  mean {:.2}\n",
            self.clients,
            self.managers,
            self.database,
            self.members,
            self.setup_seconds,
            self.bootstrapped_members,
            if self.warmup_seconds > 0.0 {
                format!("after {:.0} s of warm-up, ", self.warmup_seconds)
            } else {
                String::new()
            },
            self.offered_rate.map_or_else(String::new, |r| format!(
                "offered {r:.0} requests/s (latency from each request's scheduled time): "
            )),
            self.requests,
            self.seconds,
            self.requests_per_second,
            self.failed,
            l.p50,
            l.p95,
            l.p99,
            l.max,
            l.mean
        );
        for (kind, k) in &self.by_kind {
            let l = &k.latency_ms;
            out.push_str(&format!(
                "  {kind:<8} {:>8} requests, {:>5} failed; p50 {:.2}  p95 {:.2}  p99 {:.2}  max {:.2}\n",
                k.requests, k.failed, l.p50, l.p95, l.p99, l.max
            ));
        }
        out.push_str(&format!(
            "delta ops received {}, pushes applied {}\n",
            self.delta_ops, self.pushes_applied
        ));
        for (error, count) in &self.errors {
            out.push_str(&format!("  error {error}: {count}\n"));
        }
        if let Some([one, five, fifteen]) = self.load_average {
            out.push_str(&format!(
                "load average {one:.2} {five:.2} {fifteen:.2} (clients and server share the cores)\n"
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let mut v: Vec<u32> = (1..=100).map(|ms| ms * 1000).collect();
        let l = latency(&mut v);
        assert_eq!((l.p50, l.p95, l.p99, l.max), (50.0, 95.0, 99.0, 100.0));
        assert_eq!(latency(&mut []), Latency::default());
        assert_eq!(latency(&mut [7000]).p99, 7.0);
    }

    #[test]
    fn paced_clients_share_the_rate_and_start_spread_out() {
        let started = Instant::now();
        // 500 requests/s over 100 clients: each sends every 200 ms, the first ones 2 ms apart.
        let first = Pace::of(500.0, 100, 0, started);
        let tenth = Pace::of(500.0, 100, 10, started);
        assert_eq!(first.every, Duration::from_millis(200));
        assert_eq!(first.due(0), started);
        assert_eq!(tenth.due(0) - started, Duration::from_millis(20));
        assert_eq!(tenth.due(3) - started, Duration::from_millis(620));
    }

    #[test]
    fn clients_push_on_beats_of_their_own() {
        let pushes = |beat: Beat| (1..=20).filter(|&n| beat.push(n)).collect::<Vec<u64>>();
        assert_eq!(
            pushes(Beat {
                every: 10,
                phase: 0
            }),
            [10, 20]
        );
        assert_eq!(
            pushes(Beat {
                every: 10,
                phase: 3
            }),
            [7, 17]
        );
        assert_eq!(pushes(Beat { every: 0, phase: 0 }), Vec::<u64>::new());
    }

    #[test]
    fn a_rate_must_be_positive_and_finite() {
        let options = |rate| LoadOptions {
            clients: 10,
            warmup: Duration::ZERO,
            duration: Some(Duration::from_secs(1)),
            requests: None,
            push_every: 10,
            rate,
            members: 100,
            seed: 1,
            ca_cert: std::path::PathBuf::new(),
        };
        assert!(check(&options(Some(500.0))).is_ok());
        assert!(check(&options(None)).is_ok());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(
                matches!(check(&options(Some(bad))), Err(LoadError::Invalid(_))),
                "{bad}"
            );
        }
    }
}
