//! quire-client: everything a Quire device does that touches the outside world.
//!
//! # Layout
//! - [`device`]: [`Device`], how a device fits together: the one façade the desktop app
//!   and the `quire` CLI call. Everything below is wired together there.
//! - [`paths`]: where a device keeps its data (`--data-dir`, `QUIRE_DATA_DIR`, or the
//!   platform data dir), shared by the CLI and the desktop app so both open the same store.
//! - [`credentials`]: secrets (the database key and the auth token) in the OS keyring, or
//!   in a 0600 file when a person chose that explicitly.
//! - [`store`]: the encrypted SQLite store: notes, the outbox, bases, conflicts, the
//!   "needs attention" list, settings, the vault index.
//! - [`autostart`]: start at login, as an XDG autostart entry.
//! - [`api`]: the sync protocol over HTTP, with typed errors.
//! - [`account`]: signing a device in and out of a sync server.
//! - [`engine`]: one sync round (push the queue, pull changes, reconcile), its report and
//!   the notices the person must hear.
//! - [`preferences`]: every setting a person can change, as the Settings screen shows them.
//! - [`service`]: the background sync task: when rounds run (timer, changes, network,
//!   "Sync now", pause), backoff after failures, and the status it publishes.
//! - [`vault`]: the vault folder: notes mirrored as Markdown files, outside edits taken in.
//! - [`instance`]: one app per data directory; a second launch shows the first's window.
//! - [`clock`]: wall-clock time and fresh ids, the only non-determinism the store uses.
//! - [`error`]: the crate's one error type.

pub mod account;
pub mod api;
pub mod autostart;
pub mod clock;
pub mod credentials;
pub mod device;
pub mod engine;
pub mod error;
pub mod history;
#[cfg(unix)]
pub mod instance;
pub mod keys;
pub mod paths;
pub mod preferences;
pub mod sealing;
pub mod service;
pub mod store;
pub mod vault;

pub use device::{Device, DeviceEvent};
pub use error::{Error, ErrorCode, Result};
pub use store::Store;
