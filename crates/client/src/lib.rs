//! quire-client: everything a Quire device does that touches the outside world.
//!
//! # Layout
//! - [`paths`]: where a device keeps its data (`--data-dir`, `QUIRE_DATA_DIR`, or the
//!   platform data dir), shared by the CLI and the desktop app so both open the same store.
//! - [`credentials`]: secrets (the database key, later the auth token) in the OS keyring, or
//!   in a 0600 file when a person chose that explicitly.
//! - [`store`]: the encrypted SQLite store: notes, the outbox, bases, conflicts, settings.
//! - [`api`]: the sync protocol over HTTP, with typed errors.
//! - [`account`]: signing a device in and out of a sync server.
//! - [`engine`]: one sync round: push the queue, pull changes, reconcile.
//! - [`preferences`]: every setting a person can change, read at once for a settings screen.
//! - [`service`]: the background sync task: when rounds run (timer, changes, network,
//!   "Sync now", pause), backoff after failures, and the status and notices it publishes.
//! - [`vault`]: the vault folder: notes mirrored as Markdown files, outside edits taken in.
//! - [`clock`]: wall-clock time and fresh ids, the only non-determinism the store uses.
//! - [`open`]: how every front end opens a device's store (data dir + credentials choice).
//! - [`error`]: the crate's one error type.
//!
//! The sync engine and the vault mirror arrive as their own modules (PRODUCT.md, "Parts").

pub mod account;
pub mod api;
pub mod clock;
pub mod credentials;
pub mod engine;
pub mod error;
pub mod open;
pub mod paths;
pub mod preferences;
pub mod service;
pub mod store;
pub mod vault;

pub use error::{Error, ErrorCode, Result};
pub use open::{open_store, OpenedStore};
pub use store::Store;
