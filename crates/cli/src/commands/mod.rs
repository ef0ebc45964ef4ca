//! One module per command group; each makes a few calls on the device.

mod account;
mod config;
mod conflicts;
mod note;
mod state;
mod sync;
mod vault;

use quire_client::Device;

use crate::cli::{Cli, Command};
use crate::error::CliError;
use crate::output::Output;

pub async fn run(cli: Cli, out: &Output) -> Result<(), CliError> {
    let device = Device::open(cli.data_dir.as_deref()).await?;
    if let Some(warning) = device.warning() {
        out.warn(warning);
    }
    let result = dispatch(cli.command, &device, out).await;
    // What the command changed reaches the vault folder now; files it cannot take in are
    // warned about, and the command itself still succeeded.
    vault::warn_about(device.close().await, out);
    result
}

async fn dispatch(command: Command, device: &Device, out: &Output) -> Result<(), CliError> {
    match command {
        Command::Vault(command) => vault::run(command, device, out).await,
        Command::Account(command) => account::run(command, device, out).await,
        Command::Note(command) => note::run(command, device, out).await,
        Command::Sync(args) => sync::run(args, device, out).await,
        Command::Conflicts(command) => conflicts::run(command, device, out).await,
        Command::Queue => state::queue(device, out).await,
        Command::Status => state::status(device, out).await,
        Command::Config(command) => config::run(command, device, out).await,
    }
}
