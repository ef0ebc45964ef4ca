//! quire-client: everything a Quire device does that touches the outside world.
//!
//! # Layout
//! - [`paths`]: where a device keeps its data (`--data-dir`, `QUIRE_DATA_DIR`, or the
//!   platform data dir), shared by the CLI and the desktop app so both open the same store.
//! - [`error`]: the crate's one error type.
//!
//! The local store, outbox, sync engine, credentials and vault mirror arrive as their own
//! modules (see PRODUCT.md, "Parts and names").

pub mod error;
pub mod paths;

pub use error::{Error, Result};
