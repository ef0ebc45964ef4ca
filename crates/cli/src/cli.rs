use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use quire_core::settings::SettingKey;
use quire_core::NoteId;

/// Quire: offline-first notes that sync in the background.
#[derive(Debug, Parser)]
#[command(name = "quire", version, arg_required_else_help = true)]
pub struct Cli {
    /// Where this device keeps its data [default: QUIRE_DATA_DIR, else the platform data dir]
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, read, change and delete notes.
    #[command(subcommand)]
    Note(NoteCommand),
    /// List the changes waiting to be sent to the server, in order.
    Queue,
    /// Show this device's state: notes, pending changes, conflicts, last sync.
    Status,
    /// Read and change settings.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Debug, Subcommand)]
pub enum NoteCommand {
    /// Create a note; prints its id.
    Add {
        #[arg(long)]
        title: String,
        /// Read the text from this file ("-" for stdin) [default: stdin]
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
    },
    /// Change a note's title and/or text.
    Edit {
        id: NoteId,
        #[arg(long)]
        title: Option<String>,
        /// Read the new text from this file ("-" for stdin).
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
    },
    /// Print a note.
    Show { id: NoteId },
    /// List the notes, most recently changed first.
    List,
    /// Delete a note (the deletion syncs to your other devices).
    Delete { id: NoteId },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print a setting's value.
    Get(KeyArg),
    /// Change a setting.
    Set {
        #[command(flatten)]
        key: KeyArg,
        value: String,
    },
}

#[derive(Debug, Args)]
pub struct KeyArg {
    /// server, conflict-policy, sync-interval, batch-size or vault-dir
    pub key: SettingKey,
}
