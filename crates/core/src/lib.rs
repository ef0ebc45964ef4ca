//! quire-core: Quire's pure logic. No I/O lives here (no files, network, clock or randomness:
//! callers pass ids and times in), so everything is unit- and property-testable.
//!
//! # Layout
//! - [`backoff`]: when to retry a failed sync round (exponential, full jitter, Retry-After).
//! - [`crypto`]: end-to-end encryption's keys (argon2id, HKDF, the recovery key) and sealing
//!   (XChaCha20-Poly1305 bound to account, note, op and version); randomness comes in.
//! - [`digest`]: the order-independent digest of an account's notes that proves a device
//!   holds what the server holds, by bucket of note ids.
//! - [`ids`]: note, op and device identifiers, the server-assigned note version, and the
//!   range of every count on the wire (0 to `i64::MAX`).
//! - [`note`]: a note as a device keeps it.
//! - [`op`]: an outbox entry, and [`op::coalesce`], the rule for folding unsent edits.
//! - [`validate`]: size and shape limits on what a person types, with clear errors.
//! - [`patch`]: differential sync: an edit script from one text to the next, and applying it.
//! - [`merge`]: three-way line merge (diff3 style) of two edits of one base text.
//! - [`side_by_side`]: the conflict center's view: merged parts, and both sides of each
//!   conflict with the differing words marked.
//! - [`text_hash`]: the hash that binds a change to the exact text it was made on.
//! - [`reconcile`]: what a device does when the server's version of a note meets its own.
//! - [`settings`]: the settings a person can change (`quire config`), and their checks.
//! - [`server_url`]: the sync server's address, parsed and normalised once, and the rule
//!   that plain `http://` goes only to this machine unless the person allowed it.
//! - [`vault`]: the vault folder's file names and file format (front matter with the id).
//! - [`protocol`]: the types client and server exchange over HTTP, versioned under `/v1`.
//! - [`push_judgement`]: the server's judgement of a pushed batch, op by op (applied,
//!   duplicate, conflict, ...), and what it leaves each note as; the server only reads and
//!   writes around it.

pub mod backoff;
pub mod crypto;
pub mod digest;
pub mod ids;
pub mod merge;
pub mod note;
pub mod op;
pub mod patch;
pub mod protocol;
pub mod push_judgement;
pub mod reconcile;
pub mod sealed_judgement;
pub mod search;
pub mod server_url;
pub mod settings;
pub mod side_by_side;
pub mod text_hash;
pub mod validate;
pub mod vault;

pub use ids::{DeviceId, NoteId, OpId, Version};
pub use note::{Millis, Note, NoteFields};
pub use op::{Op, OpKind, OpPayload};
pub use text_hash::TextHash;
