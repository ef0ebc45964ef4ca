//! One module per command group; each opens the store and makes a few quire-client calls.

mod account;
mod config;
mod conflicts;
mod note;
mod state;
mod sync;
mod vault;

use quire_client::credentials::SecretStore;
use quire_client::{open_store, Store};

use crate::cli::{Cli, Command};
use crate::error::CliError;
use crate::output::Output;

pub async fn run(cli: Cli, out: &Output) -> Result<(), CliError> {
    let opened = open_store(cli.data_dir.as_deref()).await?;
    if let Some(warning) = &opened.warning {
        out.warn(warning);
    }
    let store = std::sync::Arc::new(opened.store);
    let changes_notes = cli.command.changes_notes();
    let mut result = dispatch(cli.command, &store, opened.secrets.as_ref(), out).await;
    if result.is_ok() && changes_notes {
        result = vault::follow(&store, out).await;
    }
    if let Ok(store) = std::sync::Arc::try_unwrap(store) {
        store.close().await;
    }
    result
}

async fn dispatch(
    command: Command,
    store: &std::sync::Arc<Store>,
    secrets: &dyn SecretStore,
    out: &Output,
) -> Result<(), CliError> {
    match command {
        Command::Vault(command) => vault::run(command, std::sync::Arc::clone(store), out).await,
        Command::Account(command) => account::run(command, store, secrets, out).await,
        Command::Note(command) => note::run(command, store, out).await,
        Command::Sync => sync::run(store, secrets, out).await,
        Command::Conflicts(command) => conflicts::run(command, store, out).await,
        Command::Queue => state::queue(store, out).await,
        Command::Status => state::status(store, secrets, out).await,
        Command::Config(command) => config::run(command, store, out).await,
    }
}
