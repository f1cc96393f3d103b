//! `citytwin`: the command-line front of the city digital twin. Glue only: arguments are parsed here
//! ([`cli`]), and each subcommand ([`commands`]) calls the engine and importers.
//!
//! Exit codes: 0 success; 1 the command failed (the message names the file and the problem); 2 the command
//! line is invalid.

mod cli;
mod commands;

use clap::Parser;
use std::process::ExitCode;

/// mimalloc: loading a city of a million buildings allocates millions of small vectors, and frees them on exit;
/// it does both several times faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let filter = match cli.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter)),
        )
        .with_writer(std::io::stderr)
        .init();
    match commands::run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
