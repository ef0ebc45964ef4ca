//! End-to-end encryption's pure part (issue 19): the keys an account's notes are sealed
//! under, and sealing itself. Randomness comes in from the caller (salts, keys, nonces), so
//! all of it is deterministic and testable here; the client crate draws it from the OS.
//!
//! - [`kdf`]: from a password (and the account's salt) to two unrelated secrets: one the
//!   server authenticates, one that wraps the data key and never leaves the device.
//! - [`seal`]: XChaCha20-Poly1305 with associated data that names what was sealed (account,
//!   note, op, base version), so a ciphertext moved anywhere else fails to open.
//! - [`record`]: what a sealed note text holds (snapshot, patch with its base's hash, or
//!   delete), compressed before sealing and bounded when opened.
//! - [`recovery`]: the recovery key, as a person writes it down and types it back.
//! - [`manifest`]: what an upgraded account held in the clear, for another device to check.
//!
//! Key hierarchy: a random 256-bit data key seals the notes. It is stored by the server only
//! wrapped (sealed) twice: under the password's wrap secret and under the recovery key's.

pub mod chain;
pub mod kdf;
pub mod manifest;
pub mod record;
pub mod recovery;
pub mod seal;

use zeroize::Zeroizing;

/// Bytes of every key and secret here (256 bits).
pub const KEY_BYTES: usize = 32;

/// Why a key could not be derived or a sealed value opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The wrapped data key did not open: the password (or recovery key) is not the one it
    /// was wrapped with.
    #[error("the password or recovery key is not the one this account's notes were locked with")]
    WrongKey,
    /// A sealed value did not open under what it claims to be: changed, truncated inside,
    /// or moved from another note, op or account.
    #[error(
        "a sealed value failed its check: it was changed, or it belongs to another note or version"
    )]
    Tampered,
    #[error("a sealed value is too short to hold anything ({len} bytes)")]
    Truncated { len: usize },
    #[error("a value too large to seal")]
    TooLarge,
    #[error("a sealed value of an unknown format ({0}); a newer Quire may have written it")]
    UnknownFormat(u8),
    #[error("the key derivation settings are outside what this Quire accepts: {0}")]
    KdfParams(String),
    /// A patch made on another text than the one this device holds as its base.
    #[error("a change was made on another text of the note than the one this device has")]
    BaseMismatch,
    /// It opened, but what it holds is not a note record this Quire can read.
    #[error("a sealed note text could not be read: {0}")]
    BadRecord(String),
    #[error("that is not a recovery key: {0}")]
    BadRecoveryKey(String),
    /// The sealed entries of a note do not make one unbroken chain to what the server says.
    #[error("a note's sealed changes do not fit together: {0}")]
    BrokenChain(String),
}

/// A 256-bit secret, wiped from memory when dropped, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret32(Zeroizing<[u8; KEY_BYTES]>);

impl Secret32 {
    pub fn from_bytes(bytes: [u8; KEY_BYTES]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    pub fn expose(&self) -> &[u8; KEY_BYTES] {
        &self.0
    }
}

impl std::fmt::Debug for Secret32 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret32(..)")
    }
}

/// The account's data key: what every note's text is sealed under.
pub type DataKey = Secret32;
