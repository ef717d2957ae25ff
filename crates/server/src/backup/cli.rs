//! The `backup` (with `verify` and `keygen`) and `restore` commands of `canopy-server`:
//! arguments and what they print, a thin layer over [`super`].

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::{BackupOptions, Identities, Manifest};
use crate::config::Config;

/// `canopy-server backup …`: make a backup, or `verify` one, or make a key (`keygen`).
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BackupCommand {
    #[command(subcommand)]
    action: Option<BackupAction>,
    #[command(flatten)]
    make: MakeArgs,
}

#[derive(clap::Subcommand)]
enum BackupAction {
    /// Restore a backup into a scratch directory and check it: integrity, migrations, and
    /// the audit hash chain.
    Verify {
        #[arg(long = "in", value_name = "FILE")]
        input: PathBuf,
        /// The age identity file (private key) the backup was encrypted for.
        #[arg(long, value_name = "AGE_IDENTITY_FILE")]
        identity: PathBuf,
    },
    /// Make an age key pair: the identity (private key) goes to FILE, owner-only; the public
    /// key to give `--recipient` is printed.
    Keygen {
        #[arg(long, value_name = "IDENTITY_FILE")]
        out: PathBuf,
    },
}

#[derive(clap::Args)]
struct MakeArgs {
    /// The database, e.g. sqlite:///var/lib/canopy/canopy.db
    #[arg(long, value_name = "URL", conflicts_with = "config")]
    database: Option<String>,
    /// The server's configuration file (its database is backed up).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The encrypted archive to write (replaced atomically if it exists).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// An age public key (age1…) to encrypt to; repeat for several.
    #[arg(long = "recipient", value_name = "AGE_PUBLIC_KEY")]
    recipients: Vec<String>,
    /// A file of age public keys, one a line (# comments allowed); repeatable.
    #[arg(long = "recipients-file", value_name = "FILE")]
    recipients_files: Vec<PathBuf>,
}

/// `canopy-server restore …`
#[derive(clap::Args)]
pub struct RestoreArgs {
    /// The encrypted backup.
    #[arg(long = "in", value_name = "FILE")]
    input: PathBuf,
    /// The age identity file (private key) the backup was encrypted for.
    #[arg(long, value_name = "AGE_IDENTITY_FILE")]
    identity: PathBuf,
    /// Where to restore, e.g. sqlite:///var/lib/canopy/canopy.db
    #[arg(long, value_name = "URL", required_unless_present = "config")]
    database: Option<String>,
    /// The server's configuration file (its database is the target).
    #[arg(long, value_name = "FILE", conflicts_with = "database")]
    config: Option<PathBuf>,
    /// Replace an existing database (stop the server first).
    #[arg(long)]
    force: bool,
}

fn database_path(database: Option<&str>, config: Option<&Path>) -> Result<PathBuf> {
    let url = match (database, config) {
        (Some(url), _) => url.to_owned(),
        (None, Some(path)) => Config::load(path)?.database.url,
        (None, None) => anyhow::bail!("give --database URL or --config FILE"),
    };
    Ok(super::sqlite_path(&url)?)
}

/// Runs `canopy-server backup …`.
pub fn backup(command: BackupCommand) -> Result<()> {
    match command.action {
        Some(BackupAction::Keygen { out }) => {
            let recipient = super::keygen(&out)?;
            eprintln!(
                "wrote the identity (private key) to {}: keep it offline, away from the \
                 server and its backups",
                out.display()
            );
            println!("{recipient}");
            Ok(())
        }
        Some(BackupAction::Verify { input, identity }) => {
            let identities = Identities::from_file(&identity)?;
            let verified = tokio::runtime::Runtime::new()
                .context("cannot start the async runtime")?
                .block_on(super::verify(&input, &identities))?;
            println!(
                "{} is good: {}; integrity ok, migrates to schema {}, audit chain of {} \
                 events verified ({:.2} s)",
                input.display(),
                describe(&verified.manifest),
                verified.schema_version,
                verified.audit_events,
                verified.elapsed.as_secs_f64()
            );
            Ok(())
        }
        None => make(command.make),
    }
}

fn make(args: MakeArgs) -> Result<()> {
    let database = database_path(args.database.as_deref(), args.config.as_deref())?;
    let out = args.out.context("give --out FILE")?;
    let mut recipients = args
        .recipients
        .iter()
        .map(|text| super::parse_recipient(text))
        .collect::<Result<Vec<_>, _>>()?;
    for file in &args.recipients_files {
        recipients.extend(super::read_recipients_file(file)?);
    }
    let report = super::backup(&database, &out, &recipients, &BackupOptions::default())?;
    println!(
        "backed up {} to {} ({} bytes encrypted to {} key{}): {} ({:.2} s)",
        database.display(),
        out.display(),
        report.archive_bytes,
        recipients.len(),
        if recipients.len() == 1 { "" } else { "s" },
        describe(&report.manifest),
        report.elapsed.as_secs_f64()
    );
    Ok(())
}

/// Runs `canopy-server restore …`.
pub fn restore(args: RestoreArgs) -> Result<()> {
    let target = database_path(args.database.as_deref(), args.config.as_deref())?;
    let identities = Identities::from_file(&args.identity)?;
    let restored = super::restore(&args.input, &identities, &target, args.force)?;
    println!(
        "restored {} into {}: {} ({:.2} s)",
        args.input.display(),
        target.display(),
        describe(&restored.manifest),
        restored.elapsed.as_secs_f64()
    );
    Ok(())
}

fn describe(manifest: &Manifest) -> String {
    format!(
        "taken {}, schema {}, {} bytes of database, audit {}",
        manifest.created_at,
        manifest.schema_version,
        manifest.database_bytes,
        manifest
            .audit
            .as_ref()
            .map_or_else(|| "empty".to_owned(), |head| format!("up to {head}"))
    )
}
