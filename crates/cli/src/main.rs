//! `quire`: the headless Quire client. It drives the same engine as the desktop app
//! (quire-client), for scripts, tests, benchmarks and machines without a desktop.
//!
//! # Layout
//! - [`cli`]: the command line as clap parses it (PRODUCT.md, "Command line").
//! - [`commands`]: one module per command group, each a few calls on `quire_client::Device`.
//! - [`output`]: text for people, `--json` for machines.
//! - [`error`]: every failure as one line on stderr and an exit code.

mod cli;
mod commands;
mod error;
mod output;

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::cli::Cli;
use crate::output::Output;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("QUIRE_LOG").unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let out = Output::new(cli.json);

    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            out.error(&error::CliError::Io(err));
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli, &out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            out.error(&err);
            ExitCode::FAILURE
        }
    }
}
