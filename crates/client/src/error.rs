use std::path::PathBuf;

use quire_core::crypto::CryptoError;
use quire_core::settings::SettingError;
use quire_core::validate::ValidationError;
use quire_core::NoteId;

/// Every failure quire-client can report. Messages are written for the person reading
/// them: they say what went wrong and, where there is one, how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "no data directory could be found for this user; set QUIRE_DATA_DIR or pass --data-dir"
    )]
    NoDataDir,
    #[error("the data directory {0} must be an absolute path")]
    RelativeDataDir(PathBuf),
    #[error("cannot use the data directory {path}: {source}")]
    DataDirIo {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error(
        "no OS keyring is reachable ({detail}). Start a Secret Service such as gnome-keyring \
         in this session, or set QUIRE_CREDENTIALS=file to keep secrets in a 0600 file in the \
         data directory instead"
    )]
    KeyringUnavailable { detail: String },
    #[error("the OS keyring refused the request: {0}")]
    Keyring(String),
    #[error("QUIRE_CREDENTIALS is {0:?}; use \"keyring\" (the default) or \"file\"")]
    UnknownCredentialsStore(String),
    #[error("cannot use the credentials file {path}: {detail}")]
    CredentialsFile { path: PathBuf, detail: String },

    #[error(
        "the notes database {path} exists but its key is not in the {store}; \
         nothing was opened or changed. Restore the key (or the keyring it was in) to open it"
    )]
    MissingDatabaseKey { path: PathBuf, store: &'static str },
    #[error(
        "cannot open the notes database {path}: the key does not match it, or it is not a \
         Quire database; nothing was changed"
    )]
    WrongKeyOrNotADatabase { path: PathBuf },
    #[error(
        "the notes database is busy in another Quire process (the app or another quire \
         command); nothing was changed, try again when it is done"
    )]
    DatabaseLocked,
    #[error(
        "{path} is damaged or unreadable ({detail}); the notes database next to it was not touched"
    )]
    StoreMeta { path: PathBuf, detail: String },
    #[error("the notes database could not be updated to this version of Quire: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("the notes database failed: {0}")]
    Database(sqlx::Error),

    #[error("no note has the id {0}")]
    NoteNotFound(NoteId),
    #[error("the note {0} is deleted")]
    NoteDeleted(NoteId),
    #[error("the note {0} is not in the trash: delete it first, then delete it forever")]
    NoteNotInTrash(NoteId),
    #[error("the note {0} has no open conflict")]
    NoConflict(NoteId),
    #[error("no refused change has the id {0}")]
    NothingToDismiss(quire_core::OpId),
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    Setting(#[from] SettingError),
    #[error("the notes database holds a value it cannot read back ({0}); please report this")]
    Corrupt(String),
    /// End-to-end encryption: a key that does not open, a sealed text that fails its check.
    #[error(transparent)]
    Crypto(CryptoError),
    #[error(
        "the account's encryption key kept in the {store} is damaged; sign in again to fetch it (quire account login)"
    )]
    DamagedDataKey { store: &'static str },
    #[error(
        "this device has no key to the account's notes (it was removed from the keyring); sign in again to fetch it (quire account login)"
    )]
    MissingDataKey,
    #[error(
        "{server} says the account {username} is not end-to-end encrypted (it was made before \
         Quire 0.2), so signing in sends it the password itself. If you expected that, sign in \
         again allowing it (quire account login --legacy): this device then encrypts the \
         account's notes end to end"
    )]
    LegacyAccount { server: String, username: String },
    #[error(
        "this device began encrypting the account end to end and did not finish, so it sends \
         nothing until it has: finish it with the password (quire account upgrade, or the \
         app's Settings)"
    )]
    UpgradeUnfinished,
    #[error(
        "{server} now says the account {username} is not end-to-end encrypted, but this device \
         has signed in to it encrypted before; the password was not sent. The server may not be \
         the one you think it is"
    )]
    DowngradeRefused { server: String, username: String },
    #[error("the account is not end-to-end encrypted, so it has no keys to change")]
    NotEndToEnd,
    #[error(
        "this device does not hold the account's recovery key: it is kept only on the device \
         that made the account or last used it. Look for it where you wrote it down"
    )]
    NoRecoveryKey,

    #[error("the work was stopped before it ended: the program is closing")]
    Stopped,

    #[error("cannot use the vault folder {path}: {detail}")]
    VaultDir { path: PathBuf, detail: String },

    #[error("cannot reach the sync server {server}: {detail}")]
    ServerUnreachable { server: String, detail: String },
    #[error("the sync server {server} refused the request ({status}): {detail}")]
    ServerRefused {
        server: String,
        status: u16,
        detail: String,
    },
    #[error("the sync server {server} is not available right now ({status}): {detail}")]
    ServerBusy {
        server: String,
        status: u16,
        detail: String,
        /// How long the server asked us to wait, if it said.
        retry_after: Option<std::time::Duration>,
    },
    #[error("the sync server {server} refused a request as too large: {detail}")]
    TooLarge { server: String, detail: String },
    #[error("your account on {server} is full, so nothing more was synced (your changes stay queued here): {detail}")]
    StorageFull { server: String, detail: String },
    #[error("sign in again: {0} (quire account login)")]
    SignInNeeded(String),
    #[error("not signed in to a sync server; run: quire account login --server URL --user NAME")]
    NotSignedIn,
    #[error("the sync server {server} answered something Quire cannot read: {detail}")]
    ServerProtocol { server: String, detail: String },
    #[error("{0}")]
    Password(String),
    #[error("this device is signed in to {0}: sign out first (quire account logout)")]
    SignOutFirst(String),
    #[error("cannot change the start-at-login entry {path}: {detail}")]
    Autostart { path: PathBuf, detail: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A stable name for each kind of failure. Front ends switch on this (the UI, `--json`
/// errors), never on message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ErrorCode {
    /// The data directory cannot be found or used.
    DataDir,
    /// The keyring or credentials file cannot be used.
    Credentials,
    /// The database key is missing or does not fit the database.
    DatabaseKey,
    /// Another process holds the database.
    DatabaseLocked,
    /// No such note.
    NotFound,
    /// The note is deleted.
    Deleted,
    /// A value a person gave is not acceptable.
    Invalid,
    /// The local store failed or holds something unreadable.
    Store,
    /// The sync server cannot be reached.
    Offline,
    /// The server said no, or answered nonsense.
    Server,
    /// The person must sign in (again).
    SignIn,
    /// The account was made before end-to-end encryption: signing in sends the password,
    /// which the person must allow (and the device then encrypts the account).
    LegacyAccount,
    /// The vault folder cannot be read or written.
    Vault,
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::NoDataDir
            | Self::RelativeDataDir(_)
            | Self::DataDirIo { .. }
            | Self::Autostart { .. } => ErrorCode::DataDir,
            Self::VaultDir { .. } => ErrorCode::Vault,
            Self::KeyringUnavailable { .. }
            | Self::Keyring(_)
            | Self::UnknownCredentialsStore(_)
            | Self::CredentialsFile { .. } => ErrorCode::Credentials,
            Self::MissingDatabaseKey { .. } | Self::WrongKeyOrNotADatabase { .. } => {
                ErrorCode::DatabaseKey
            }
            Self::DatabaseLocked => ErrorCode::DatabaseLocked,
            Self::NoteNotFound(_) | Self::NoConflict(_) | Self::NothingToDismiss(_) => {
                ErrorCode::NotFound
            }
            Self::NoteDeleted(_) => ErrorCode::Deleted,
            Self::Invalid(_) | Self::Setting(_) | Self::Password(_) | Self::SignOutFirst(_) => {
                ErrorCode::Invalid
            }
            Self::StoreMeta { .. }
            | Self::Migration(_)
            | Self::Database(_)
            | Self::Corrupt(_)
            | Self::Stopped => ErrorCode::Store,
            Self::ServerUnreachable { .. } => ErrorCode::Offline,
            Self::ServerRefused { .. }
            | Self::ServerBusy { .. }
            | Self::TooLarge { .. }
            | Self::StorageFull { .. }
            | Self::ServerProtocol { .. }
            | Self::DowngradeRefused { .. } => ErrorCode::Server,
            Self::SignInNeeded(_)
            | Self::NotSignedIn
            | Self::DamagedDataKey { .. }
            | Self::MissingDataKey
            | Self::UpgradeUnfinished => ErrorCode::SignIn,
            Self::LegacyAccount { .. } => ErrorCode::LegacyAccount,
            Self::NotEndToEnd | Self::NoteNotInTrash(_) => ErrorCode::Invalid,
            Self::NoRecoveryKey => ErrorCode::NotFound,
            Self::Crypto(err) => match err {
                CryptoError::WrongKey => ErrorCode::SignIn,
                CryptoError::BadRecoveryKey(_) | CryptoError::TooLarge => ErrorCode::Invalid,
                // What the server keeps or sends did not pass a check made here.
                CryptoError::Tampered
                | CryptoError::Truncated { .. }
                | CryptoError::UnknownFormat(_)
                | CryptoError::KdfParams(_)
                | CryptoError::BaseMismatch
                | CryptoError::BadRecord(_)
                | CryptoError::BrokenChain(_) => ErrorCode::Server,
            },
        }
    }
}

impl Error {
    /// Whether trying again later may work without anyone doing anything: the network or
    /// the server is down or overloaded.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::ServerUnreachable { .. } | Self::ServerBusy { .. } | Self::Stopped
        )
    }

    /// The wait the server asked for, if it did.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Self::ServerBusy { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// Work handed to a blocking thread that did not come back: a panic there is a bug and goes
/// on as one; otherwise the runtime is shutting down.
impl From<tokio::task::JoinError> for Error {
    fn from(err: tokio::task::JoinError) -> Self {
        match err.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(_) => Self::Stopped,
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        // SQLITE_BUSY (5) and SQLITE_LOCKED (6), after the busy timeout ran out: another
        // process holds the write lock. Say so instead of "database failed".
        if let sqlx::Error::Database(db) = &err {
            if matches!(db.code().as_deref(), Some("5" | "6")) {
                return Self::DatabaseLocked;
            }
        }
        Self::Database(err)
    }
}
