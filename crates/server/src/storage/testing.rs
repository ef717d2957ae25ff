//! For the test suites (this crate's, the sync's and the app's): a fresh, empty database
//! for one test, on the backend the run is for. `cargo xtask test` runs the server and sync
//! suites twice: once on SQLite files, once with [`POSTGRES_ENV`] naming a throwaway
//! PostgreSQL cluster it started, on which every test gets a database of its own.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

/// `postgres://USER@HOST:PORT` (no database name) of a server where USER may create
/// databases. Unset: tests use SQLite files.
pub const POSTGRES_ENV: &str = "CANOPY_TEST_POSTGRES";

/// With [`POSTGRES_ENV`]: a PEM file of the CA that signed that server's certificate. Set,
/// every test database URL asks for TLS (`sslmode=require`) verified against it.
pub const POSTGRES_CA_ENV: &str = "CANOPY_TEST_POSTGRES_CA";

/// Which backend this test run is for: `"postgres"` or `"sqlite"`.
pub fn backend() -> &'static str {
    if postgres_base().is_some() {
        "postgres"
    } else {
        "sqlite"
    }
}

fn postgres_base() -> Option<String> {
    std::env::var(POSTGRES_ENV)
        .ok()
        .map(|base| base.trim().trim_end_matches('/').to_owned())
        .filter(|base| !base.is_empty())
}

/// A database URL for a new, empty database: a PostgreSQL database made now (named after
/// `name`, the process and a counter, so parallel tests never share one) or the SQLite
/// file `dir/name.db`.
///
/// # Panics
/// When the PostgreSQL server can't be reached or refuses to create the database: a test
/// run that asked for PostgreSQL must not quietly test SQLite instead.
pub async fn database_url(dir: &Path, name: &str) -> String {
    let Some(base) = postgres_base() else {
        return format!("sqlite://{}", dir.join(format!("{name}.db")).display());
    };
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(30)
        .collect();
    let database = format!(
        "t_{safe}_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        time::OffsetDateTime::now_utc().unix_timestamp_nanos() % 1_000_000
    );
    let admin = format!("{base}/postgres");
    let (client, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("{POSTGRES_ENV}: can't connect to {admin}: {e}"));
    let task = tokio::spawn(connection);
    client
        .batch_execute(&format!("CREATE DATABASE \"{database}\""))
        .await
        .unwrap_or_else(|e| panic!("{POSTGRES_ENV}: can't create database {database}: {e}"));
    drop(client);
    let _ = task.await;
    match std::env::var(POSTGRES_CA_ENV) {
        Ok(ca) if !ca.trim().is_empty() => {
            let ca = percent_encoding::utf8_percent_encode(
                ca.trim(),
                percent_encoding::NON_ALPHANUMERIC,
            );
            format!("{base}/{database}?sslmode=require&sslrootcert={ca}")
        }
        _ => format!("{base}/{database}"),
    }
}
