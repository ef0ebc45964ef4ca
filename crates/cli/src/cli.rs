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
    /// Create an account on a sync server, sign in, or sign out.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Create, read, change and delete notes.
    #[command(subcommand)]
    Note(NoteCommand),
    /// One full sync round now: push the queue, pull changes, merge, then check this device
    /// against the server when due. Exit 0 only when everything was pushed and pulled.
    Sync(SyncArgs),
    /// Notes both this device and another changed, waiting for your decision.
    #[command(subcommand)]
    Conflicts(ConflictsCommand),
    /// List the changes waiting to be sent to the server, in order.
    Queue,
    /// Show this device's state: notes, pending changes, conflicts, last sync.
    Status,
    /// Read and change settings.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// The vault folder (config vault-dir): notes as Markdown files any editor can change.
    #[command(subcommand)]
    Vault(VaultCommand),
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Check that this device holds exactly what the server holds, even when the round
    /// changed nothing, and repair what differs. Exit 0 only when they are equal.
    #[arg(long, conflicts_with = "dry_run")]
    pub verify: bool,
    /// Show what the next round would send, note by note, and how many notes the server
    /// has for this device, without sending or changing anything.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Subcommand)]
pub enum VaultCommand {
    /// One pass: take in what changed in the folder (also while nothing was running) and
    /// write out what changed in the notes.
    Scan,
    /// Watch the folder in the foreground until Ctrl+C.
    Run,
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Create an account on a sync server and sign this device in to it.
    Register(SignInArgs),
    /// Sign this device in to an existing account.
    Login(LoginArgs),
    /// Sign this device out (the server forgets the session, this device the token and keys).
    Logout,
    /// Change the account's password; every other device must sign in again. The current
    /// password comes from QUIRE_PASSWORD, the new one from QUIRE_NEW_PASSWORD, else prompts.
    Password,
    /// Show the account's recovery key (kept only on the device that made the account).
    RecoveryKey,
    /// Set a new password with the recovery key and sign this device in. The key comes from
    /// QUIRE_RECOVERY_KEY, the new password from QUIRE_NEW_PASSWORD, else prompts.
    Recover(RecoverArgs),
    /// Encrypt an account made before end-to-end encryption (Quire 0.1) end to end: every
    /// note goes to the server again, sealed, and the server drops the plain text. The
    /// password comes from QUIRE_PASSWORD, else a prompt.
    Upgrade,
}

#[derive(Debug, Args)]
pub struct RecoverArgs {
    /// The sync server, e.g. https://sync.example.com
    #[arg(long, value_name = "URL")]
    pub server: String,
    #[arg(long, value_name = "NAME")]
    pub user: String,
    /// Allow plain http:// to a machine other than this one.
    #[arg(long)]
    pub insecure_http: bool,
}

/// The password comes from QUIRE_PASSWORD, else a prompt.
#[derive(Debug, Args)]
pub struct SignInArgs {
    /// The sync server, e.g. https://sync.example.com
    #[arg(long, value_name = "URL")]
    pub server: String,
    #[arg(long, value_name = "NAME")]
    pub user: String,
    /// Allow plain http:// to a machine other than this one (password and notes unencrypted).
    #[arg(long)]
    pub insecure_http: bool,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    #[command(flatten)]
    pub account: SignInArgs,
    /// Sign in to an account made before end-to-end encryption (Quire 0.1), which sends
    /// the server the password itself.
    #[arg(long)]
    pub legacy: bool,
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
    /// Find notes by the words in their titles and bodies, best first (the last word may
    /// be half typed).
    Search { query: String },
    /// Delete a note: it goes to Trash (the deletion syncs to your other devices).
    Delete { id: NoteId },
    /// List the deleted notes (Trash), most recently deleted first.
    Trash,
    /// Bring a deleted note back from Trash with the text it had, or give a note the text
    /// of one of its versions (see `note history`); either syncs as an edit.
    Restore {
        id: NoteId,
        /// The version to restore [default: the note as it was deleted]
        #[arg(long, value_name = "N")]
        version: Option<u64>,
    },
    /// The versions the server keeps of a note, newest first.
    History { id: NoteId },
    /// Delete a note in Trash forever: its text and history go from this device, the
    /// server and (when they next sync) your other devices.
    Purge { id: NoteId },
}

#[derive(Debug, Subcommand)]
pub enum ConflictsCommand {
    /// The notes in conflict.
    List,
    /// Both sides of a note's conflict, with the differing lines marked.
    Show { id: NoteId },
    /// Settle a conflict: keep your text, take the other device's, or give the text.
    Resolve {
        id: NoteId,
        #[arg(
            long,
            value_enum,
            conflicts_with = "file",
            required_unless_present = "file"
        )]
        take: Option<Take>,
        /// The resolved text ("-" for stdin).
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Take {
    Mine,
    Theirs,
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
    /// Forget a setting, so its default applies again (no vault folder, say).
    Unset(KeyArg),
}

#[derive(Debug, Args)]
pub struct KeyArg {
    /// server, conflict-policy, sync-interval, batch-size or vault-dir
    pub key: SettingKey,
}
