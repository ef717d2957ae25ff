//! A throwaway PostgreSQL cluster for the tests and the load benchmark: made with Debian's
//! `initdb` in a new folder, started on a free loopback port with `pg_ctl`, and stopped
//! and deleted when dropped. No password (trust on loopback, the folder's socket only).
//! The tests' cluster skips durability (`fsync=off`: nothing in it outlives the run); the
//! benchmark's keeps PostgreSQL's defaults, so its figures are what a server would see.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::proc;

/// The cluster's superuser, and the user the tests connect as.
const USER: &str = "canopy";

pub struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    /// `postgres://canopy@127.0.0.1:PORT`, no database: what `CANOPY_TEST_POSTGRES` takes.
    pub url: String,
    /// The CA that signed the cluster's TLS certificate (for 127.0.0.1), when `openssl`
    /// could make one: what `CANOPY_TEST_POSTGRES_CA` takes, so tests connect over TLS.
    pub ca: Option<PathBuf>,
}

impl Cluster {
    /// Makes and starts a cluster, durable (PostgreSQL's defaults) or not. PostgreSQL
    /// refuses to run as root, so under root the cluster belongs to the `postgres` user
    /// Debian's package creates.
    pub fn start(durable: bool) -> Result<Self> {
        proc::step("A throwaway PostgreSQL cluster (initdb, pg_ctl start)");
        let bin = bin_dir()?;
        // Under the system's temporary folder, which the `postgres` user can reach (a
        // home folder usually isn't).
        let dir = std::env::temp_dir().join(format!("canopy-postgres-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).ok();
        }
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let ca = certificates(&dir);
        let as_root = proc::output_of("id", &["-u"]).is_some_and(|uid| uid.trim() == "0");
        if as_root {
            proc::run(proc::command("chown").args(["-R", "postgres:"]).arg(&dir))?;
        }
        let port = free_port()?;
        let cluster = Self {
            url: format!("postgres://{USER}@127.0.0.1:{port}"),
            ca,
            dir,
            bin,
        };
        let data = cluster.dir.join("data");
        let mut initdb = cluster.pg_command("initdb", as_root);
        initdb
            .arg("-D")
            .arg(&data)
            .args(["-U", USER, "--auth=trust", "-E", "UTF8", "--no-locale"]);
        proc::run_captured(&mut initdb)
            .and_then(|(ok, output)| {
                if ok {
                    Ok(())
                } else {
                    bail!("initdb failed:\n{output}")
                }
            })
            .context("cannot make the PostgreSQL cluster")?;
        let mut options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=400",
            cluster.dir.display()
        );
        if !durable {
            options.push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
        if cluster.ca.is_some() {
            options.push_str(&format!(
                " -c ssl=on -c ssl_cert_file={0}/server.pem -c ssl_key_file={0}/server.key",
                cluster.dir.display()
            ));
        }
        let mut start = cluster.pg_command("pg_ctl", as_root);
        start
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(cluster.dir.join("server.log"))
            .args(["-w", "-t", "60", "-o", &options, "start"]);
        proc::run(&mut start).context("cannot start the PostgreSQL cluster")?;
        proc::info(&format!("PostgreSQL listening at {}", cluster.url));
        Ok(cluster)
    }

    /// Creates an empty database; its URL (over TLS verified against the cluster's CA, when
    /// it has one).
    pub fn create_database(&self, name: &str) -> Result<String> {
        let url = match &self.ca {
            Some(ca) => format!(
                "{}/{name}?sslmode=require&sslrootcert={}",
                self.url,
                ca.display()
            ),
            None => format!("{}/{name}", self.url),
        };
        let mut psql = Command::new(self.bin.join("psql"));
        psql.args([&format!("{}/postgres", self.url), "-q", "-c"])
            .arg(format!("CREATE DATABASE \"{name}\""));
        proc::run(&mut psql).with_context(|| format!("cannot create the database {name}"))?;
        Ok(url)
    }

    fn pg_command(&self, tool: &str, as_root: bool) -> Command {
        let program = self.bin.join(tool);
        if as_root {
            let mut cmd = proc::command("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(program);
            cmd.current_dir(&self.dir);
            cmd
        } else {
            let mut cmd = Command::new(program);
            cmd.current_dir(&self.dir);
            cmd
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let as_root = proc::output_of("id", &["-u"]).is_some_and(|uid| uid.trim() == "0");
        let mut stop = self.pg_command("pg_ctl", as_root);
        stop.arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "-w", "stop"]);
        let _ = proc::run_captured(&mut stop);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A CA and a certificate for 127.0.0.1 signed by it (P-256, valid for three days), made
/// with `openssl` in `dir`; the CA's path, or `None` (the cluster then runs without TLS)
/// when `openssl` is missing or fails.
fn certificates(dir: &Path) -> Option<PathBuf> {
    if !proc::on_path("openssl") {
        proc::info("openssl is missing: the cluster runs without TLS");
        return None;
    }
    let ext = dir.join("server.ext");
    std::fs::write(&ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\n").ok()?;
    let steps: [&[&str]; 3] = [
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "3",
            "-subj",
            "/CN=Canopy test database CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "3",
            "-extfile",
            "server.ext",
            "-out",
            "server.pem",
        ],
    ];
    for args in steps {
        let mut openssl = Command::new("openssl");
        openssl.args(args).current_dir(dir);
        match proc::run_captured(&mut openssl) {
            Ok((true, _)) => {}
            Ok((false, output)) => {
                proc::info(&format!(
                    "openssl failed, the cluster runs without TLS:\n{output}"
                ));
                return None;
            }
            Err(e) => {
                proc::info(&format!(
                    "openssl failed, the cluster runs without TLS: {e}"
                ));
                return None;
            }
        }
    }
    restrict(&dir.join("server.key"));
    Some(dir.join("ca.pem"))
}

/// PostgreSQL refuses a key file others can read.
#[cfg(unix)]
fn restrict(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
}

#[cfg(not(unix))]
fn restrict(_path: &Path) {}

/// The folder of the newest PostgreSQL server programs: `pg_config --bindir`, else
/// Debian's `/usr/lib/postgresql/N/bin`, else wherever `initdb` is on PATH.
fn bin_dir() -> Result<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut versions: Vec<(u32, PathBuf)> = entries
            .flatten()
            .filter_map(|e| {
                let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
                Some((version, e.path().join("bin")))
            })
            .collect();
        versions.sort();
        candidates.extend(versions.into_iter().rev().map(|(_, bin)| bin));
    }
    if let Some(bindir) = proc::output_of("pg_config", &["--bindir"]) {
        candidates.push(PathBuf::from(bindir.trim()));
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path));
    }
    candidates
        .into_iter()
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
        .context(
            "PostgreSQL's server programs (initdb, pg_ctl) are not installed: \
             apt-get install postgresql",
        )
}

/// A loopback port nobody listens on now.
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot find a free port")?;
    Ok(listener.local_addr()?.port())
}
