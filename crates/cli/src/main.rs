//! `quire`: the headless Quire client. It drives the same engine as the desktop app
//! (quire-client), for scripts, tests, benchmarks and machines without a desktop.
//!
//! The note, account, sync and vault commands of PRODUCT.md arrive with the engine parts
//! they drive; until then `quire` answers `--help` and `--version`.

use clap::Parser;

/// Quire: offline-first notes that sync in the background.
#[derive(Debug, Parser)]
#[command(name = "quire", version, arg_required_else_help = true)]
struct Cli {}

fn main() {
    Cli::parse();
}
