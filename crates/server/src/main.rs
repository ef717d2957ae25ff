//! `canopy-server`: `serve` a real deployment from its TOML configuration,
//! run the `demo` installation, or print the `pin` of a key before rotating it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use canopy_server::config::Config;
use canopy_server::{demo, server, tls};
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
    /// Make (or reuse) a demo CA, certificate and pins in DIR, write DIR/demo.json, and serve.
    Demo {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: SocketAddr,
    },
    /// Print the SPKI SHA-256 pin of a PEM private key (publish it before deploying the key).
    Pin {
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
    },
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
            runtime()?.block_on(async { server::start(&config).await?.wait().await })?;
            Ok(())
        }
        Command::Demo { dir, listen } => {
            let files = demo::ensure_files(&dir)?;
            let config = files.config(listen);
            runtime()?.block_on(async {
                let running = server::start(&config).await?;
                let url = format!("https://{}", running.addr);
                demo::write_provisioning(&files, &url)?;
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
                running.wait().await?;
                anyhow::Ok(())
            })
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new().context("cannot start the async runtime")
}
