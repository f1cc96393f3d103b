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
/// it does both several times faster than the system allocator. Built without transparent huge pages (the
/// workspace's `no_thp` feature: faster and smaller here, see Cargo.toml).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Lets a closed pipe end the process quietly, as Unix tools do (`citytwin info x.twin | head -1`): Rust ignores
/// SIGPIPE, so a write to a closed pipe fails and `println!` panics. With the default action the kernel ends the
/// process at that write. Only output to a pipe is affected; scene files are written atomically, so nothing is
/// left half-written.
#[cfg(unix)]
#[allow(unsafe_code)]
fn die_quietly_on_closed_pipe() {
    // SAFETY: `signal` with a valid signal number and SIG_DFL only resets a disposition; it is called at the start
    // of `main`, before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn die_quietly_on_closed_pipe() {}

fn main() -> ExitCode {
    die_quietly_on_closed_pipe();
    // PROJ prints its own diagnostics ("utm: Invalid latitude") to stderr beside the error citytwin reports
    // with the file and coordinate; `PROJ_DEBUG` set by the user still wins. Set before any thread exists.
    if std::env::var_os("PROJ_DEBUG").is_none() {
        std::env::set_var("PROJ_DEBUG", "0");
    }
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
