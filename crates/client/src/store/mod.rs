//! The device's store: one SQLCipher-encrypted SQLite file, `quire.db`, in the data dir.
//!
//! Every note change and its outbox op are written in one `BEGIN IMMEDIATE` transaction, so
//! nothing is saved without its op and no op exists without its change. The database runs in
//! WAL mode with `synchronous = FULL`: once a call returns, its transaction is on disk and
//! survives a crash of the process or of the machine.
//!
//! The key is 256 random bits made on first open and kept in the credentials store under
//! `db-key/<store id>`; the store id is in `store.json` beside the database (not a secret).
//! A database whose key is missing or wrong is never replaced: opening fails, clearly.

mod attention;
mod bulk;
mod conflicts;
mod digest_parts;
mod held;
mod import;
mod meta;
mod notes;
mod outbox;
mod preview;
mod purge;
mod remote;
mod reseal;
mod search;
mod settings;
mod unreadable;
pub use unreadable::UnreadableNote;
mod vault_index;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use quire_core::validate::Limits;
use quire_core::Version;
use rand::RngCore;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, SqlitePool};

use crate::credentials::{Secret, SecretStore};
use crate::{Error, Result};

pub use attention::SetAside;
pub use conflicts::{Conflict, ConflictView, Resolution};
pub(crate) use digest_parts::Part;
pub(crate) use held::{HeldHere, Repaired};
pub use notes::{NoteEdit, NoteSummary};
pub use outbox::QueuedOp;
pub(crate) use remote::{PushOutcome, RemoteOutcome};
pub use search::{SearchHit, INDEX_CHUNK, MAX_RESULTS};
pub use settings::StoreStatus;
pub use vault_index::{FileRecord, IndexedFile, VaultEntry};

/// File name of the database inside the data dir.
pub const DATABASE_FILE: &str = "quire.db";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// How long a write waits for another process (the app, a `quire` command) to finish its
/// own. Writes are single short transactions, so this is only ever exceeded by a stuck one.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Store {
    pub(crate) pool: SqlitePool,
    store_id: uuid::Uuid,
    limits: Limits,
    path: PathBuf,
    /// The account's keyed text hash, once a round has named it: notes a pull brings and
    /// ops the server applied get their part of the digest in the same transaction, while
    /// their text is in memory (`digest_parts`), instead of from the store at the next check.
    text_macs: std::sync::Mutex<Option<quire_core::crypto::chain::TextMacKey>>,
}

impl Store {
    /// Opens the store in `data_dir`, creating the directory, key and database on first use.
    pub async fn open(data_dir: &Path, secrets: &dyn SecretStore) -> Result<Self> {
        create_private_dir(data_dir)?;
        let path = data_dir.join(DATABASE_FILE);
        let exists = path.try_exists().map_err(|source| Error::DataDirIo {
            path: path.clone(),
            source,
        })?;
        let meta = meta::load_or_create(data_dir, exists)?;
        let key_name = format!("db-key/{}", meta.store_id);
        let key = match secrets.get(&key_name)? {
            Some(key) => key,
            None if exists => {
                return Err(Error::MissingDatabaseKey {
                    path,
                    store: secrets.describe(),
                })
            }
            None => {
                let key = new_database_key();
                secrets.set(&key_name, &key)?;
                tracing::info!(store = secrets.describe(), "made a new database key");
                key
            }
        };

        let options = connect_options(&path, &key, !exists)?;
        // One connection: every write is serialised anyway, and a single connection means a
        // second process waits on the busy timeout instead of racing us inside this one.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(|err| open_error(err, &path))?;
        MIGRATOR.run(&pool).await?;
        let device_id = settings::ensure_device(&pool).await?;
        tracing::debug!(path = %path.display(), %device_id, "store open");
        Ok(Self {
            pool,
            store_id: meta.store_id,
            limits: Limits::default(),
            path,
            text_macs: std::sync::Mutex::new(None),
        })
    }

    /// Names this store's secrets in the credentials store.
    pub(crate) fn store_id(&self) -> uuid::Uuid {
        self.store_id
    }

    /// The database itself, for tests that look at or change what no method offers (the
    /// text left after a purge, a note's age). Nothing in the app or the CLI uses it.
    #[doc(hidden)]
    pub fn raw_pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes the database cleanly (checkpointing the WAL).
    pub async fn close(self) {
        self.pool.close().await;
    }
}

fn new_database_key() -> Secret {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    Secret::new(hex::encode(bytes))
}

fn connect_options(path: &Path, key: &Secret, create: bool) -> Result<SqliteConnectOptions> {
    let hex_key = key.expose();
    if hex_key.len() != 64 || !hex_key.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::WrongKeyOrNotADatabase {
            path: path.to_path_buf(),
        });
    }
    let options = SqliteConnectOptions::from_str("sqlite:")?
        .filename(path)
        // sqlx sends `key` before any other pragma, as SQLCipher requires. A raw hex key
        // skips SQLCipher's passphrase derivation: the key already is 256 random bits.
        .pragma("key", format!("\"x'{hex_key}'\""))
        .create_if_missing(create)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT)
        // sqlx logs each statement at debug level, and the first one carries the key.
        .disable_statement_logging();
    Ok(options)
}

/// SQLite's "file is not a database" (26) is what SQLCipher answers for a wrong key.
fn open_error(err: sqlx::Error, path: &Path) -> Error {
    if let sqlx::Error::Database(db) = &err {
        if db.code().as_deref() == Some("26") {
            return Error::WrongKeyOrNotADatabase {
                path: path.to_path_buf(),
            };
        }
    }
    Error::from(err)
}

pub(crate) fn create_private_dir(dir: &Path) -> Result<()> {
    let io = |source| Error::DataDirIo {
        path: dir.to_path_buf(),
        source,
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(io)
}

/// Maps a SQLite value back to a typed one, or reports the database as corrupt.
fn decode<T: FromStr>(text: &str, what: &str) -> Result<T> {
    text.parse()
        .map_err(|_| Error::Corrupt(format!("{what} {text:?}")))
}

/// Versions and clocks are `u64` in Quire and signed INTEGERs in SQLite.
fn to_db(value: u64, what: &str) -> Result<i64> {
    i64::try_from(value).map_err(|_| Error::Corrupt(format!("{what} {value}")))
}

fn from_db(value: i64, what: &str) -> Result<u64> {
    u64::try_from(value).map_err(|_| Error::Corrupt(format!("{what} {value}")))
}

fn version_to_db(version: Version) -> Result<i64> {
    to_db(version.0, "version")
}

fn version_from_db(value: i64) -> Result<Version> {
    from_db(value, "version").map(Version)
}

#[cfg(test)]
mod tests;
