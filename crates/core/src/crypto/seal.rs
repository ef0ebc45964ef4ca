//! Sealing: XChaCha20-Poly1305, whose 192-bit nonces may be drawn at random for as many
//! values as an account will ever seal, with associated data that names what was sealed:
//! opened as anything else (another account, note, op or base version, or another kind of
//! value), a sealed value fails its check instead of passing for that thing.
//!
//! Format: one byte of format (1), the 24-byte nonce, then the ciphertext and its 16-byte
//! tag.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use zeroize::Zeroizing;

use super::{CryptoError, DataKey, Secret32, KEY_BYTES};
use crate::{NoteId, OpId, Version};

/// Bytes of a nonce, drawn at random by the caller for every value sealed.
pub const NONCE_BYTES: usize = 24;
const FORMAT_V1: u8 = 1;
const TAG_BYTES: usize = 16;
/// Bytes a sealed value adds to what it seals.
pub const OVERHEAD: usize = 1 + NONCE_BYTES + TAG_BYTES;

/// What kind of value was sealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealKind {
    /// The data key, wrapped under the password's wrap secret.
    DataKey,
    /// The data key, wrapped under the recovery key's.
    RecoveryDataKey,
    /// A note's whole text.
    Snapshot,
    /// A patch from one version of a note's text to the next.
    Patch,
    /// A note's delete: sealed too, so that a server cannot delete (or bring back) a note
    /// on every device by flipping a flag.
    Delete,
    /// The recovery key itself, should it be kept sealed under the data key.
    RecoveryKey,
    /// What the server held in the clear when the account was upgraded.
    UpgradeManifest,
    /// A note's purge (deleted forever): see [`SealKind::Delete`].
    Purge,
}

impl SealKind {
    fn tag(self) -> u8 {
        match self {
            SealKind::DataKey => 1,
            SealKind::RecoveryDataKey => 2,
            SealKind::Snapshot => 3,
            SealKind::Patch => 4,
            SealKind::Delete => 5,
            SealKind::RecoveryKey => 6,
            SealKind::UpgradeManifest => 7,
            SealKind::Purge => 8,
        }
    }
}

/// Everything a sealed value is bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealContext<'a> {
    pub kind: SealKind,
    /// The account, as the server names it.
    pub account: &'a str,
    pub note: Option<NoteId>,
    /// The op that carried it (made by the device that sealed it).
    pub op: Option<OpId>,
    /// The version of the note it was made on (none for a new note).
    pub base_version: Option<Version>,
}

impl<'a> SealContext<'a> {
    /// The data key wrapped under a password (`recovery`: under the recovery key).
    pub fn data_key(account: &'a str, recovery: bool) -> Self {
        Self {
            kind: match recovery {
                true => SealKind::RecoveryDataKey,
                false => SealKind::DataKey,
            },
            account,
            note: None,
            op: None,
            base_version: None,
        }
    }

    /// A note's text or a patch of it, as one op carries it.
    pub fn note_text(
        kind: SealKind,
        account: &'a str,
        note: NoteId,
        op: OpId,
        base_version: Option<Version>,
    ) -> Self {
        Self {
            kind,
            account,
            note: Some(note),
            op: Some(op),
            base_version,
        }
    }

    /// The associated data: a fixed layout, each part either fixed in size or prefixed
    /// with its length, so no two contexts give the same bytes.
    fn associated_data(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(96 + self.account.len());
        out.extend_from_slice(b"quire/v1/seal");
        // The format too: a later format's value can never open as this one's.
        out.push(FORMAT_V1);
        out.push(self.kind.tag());
        let account_len = u32::try_from(self.account.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&account_len.to_be_bytes());
        out.extend_from_slice(self.account.as_bytes());
        for id in [self.note.map(|n| n.0), self.op.map(|o| o.0)] {
            match id {
                Some(id) => {
                    out.push(1);
                    out.extend_from_slice(id.as_bytes());
                }
                None => out.push(0),
            }
        }
        match self.base_version {
            Some(version) => {
                out.push(1);
                out.extend_from_slice(&version.0.to_be_bytes());
            }
            None => out.push(0),
        }
        out
    }
}

fn cipher(key: &Secret32) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(key.expose().into())
}

/// Seals `plaintext` under `key`, bound to `context`. `nonce` must be drawn fresh from the
/// operating system's random source for every call (the data key is long-lived and shared
/// by every device of the account, so a nonce used twice would let its two values be
/// forged); only tests pass fixed ones.
pub fn seal(
    key: &Secret32,
    context: &SealContext<'_>,
    plaintext: &[u8],
    nonce: [u8; NONCE_BYTES],
) -> Result<Vec<u8>, CryptoError> {
    let aad = context.associated_data();
    let sealed = cipher(key)
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: &aad,
            },
        )
        // Only a plaintext beyond 256 GiB makes this fail.
        .map_err(|_| CryptoError::TooLarge)?;
    let mut out = Vec::with_capacity(OVERHEAD + plaintext.len());
    out.push(FORMAT_V1);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Opens a value [`seal`] made, checking that it is what `context` says.
pub fn open(
    key: &Secret32,
    context: &SealContext<'_>,
    sealed: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let Some((&format, rest)) = sealed.split_first() else {
        return Err(CryptoError::Truncated { len: 0 });
    };
    if format != FORMAT_V1 {
        return Err(CryptoError::UnknownFormat(format));
    }
    if rest.len() < NONCE_BYTES + TAG_BYTES {
        return Err(CryptoError::Truncated { len: sealed.len() });
    }
    let (nonce, ciphertext) = rest.split_at(NONCE_BYTES);
    let aad = context.associated_data();
    cipher(key)
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: &aad,
            },
        )
        .map_err(|_| CryptoError::Tampered)
}

/// The data key wrapped under `wrap` (a password's or the recovery key's wrap secret).
pub fn wrap_data_key(
    data_key: &DataKey,
    wrap: &Secret32,
    account: &str,
    recovery: bool,
    nonce: [u8; NONCE_BYTES],
) -> Result<Vec<u8>, CryptoError> {
    let context = SealContext::data_key(account, recovery);
    seal(wrap, &context, data_key.expose(), nonce)
}

/// The data key back from its wrapped form: [`CryptoError::WrongKey`] when `wrap` is not
/// the secret it was wrapped under (the password or recovery key is wrong).
pub fn unwrap_data_key(
    wrapped: &[u8],
    wrap: &Secret32,
    account: &str,
    recovery: bool,
) -> Result<DataKey, CryptoError> {
    let context = SealContext::data_key(account, recovery);
    let opened = Zeroizing::new(open(wrap, &context, wrapped).map_err(|err| match err {
        CryptoError::Tampered => CryptoError::WrongKey,
        other => other,
    })?);
    let bytes: [u8; KEY_BYTES] = opened
        .as_slice()
        .try_into()
        .map_err(|_| CryptoError::Tampered)?;
    Ok(DataKey::from_bytes(bytes))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use proptest::prelude::*;
    use uuid::Uuid;

    use super::*;

    fn key(byte: u8) -> Secret32 {
        Secret32::from_bytes([byte; KEY_BYTES])
    }

    fn note(n: u128) -> NoteId {
        NoteId(Uuid::from_u128(n))
    }

    fn op(n: u128) -> OpId {
        OpId(Uuid::from_u128(n))
    }

    fn snapshot<'a>(account: &'a str, n: u128, o: u128, base: Option<u64>) -> SealContext<'a> {
        SealContext::note_text(
            SealKind::Snapshot,
            account,
            note(n),
            op(o),
            base.map(Version),
        )
    }

    #[test]
    fn a_sealed_text_opens_under_its_key_and_context_and_hides_the_text() {
        let context = snapshot("acct", 1, 2, Some(3));
        let sealed = seal(&key(9), &context, b"sentinel-text", [5; NONCE_BYTES]).unwrap();
        assert_eq!(sealed.len(), OVERHEAD + b"sentinel-text".len());
        assert!(!sealed.windows(8).any(|w| w == b"sentinel"));
        assert_eq!(open(&key(9), &context, &sealed).unwrap(), b"sentinel-text");
    }

    /// What a server that swaps, replays or moves ciphertexts would do: each is caught.
    #[test]
    fn a_sealed_text_opened_as_anything_else_fails_its_check() {
        let context = snapshot("acct", 1, 2, Some(3));
        let sealed = seal(&key(9), &context, b"text", [5; NONCE_BYTES]).unwrap();
        let elsewhere = [
            snapshot("other", 1, 2, Some(3)),
            snapshot("acct", 9, 2, Some(3)),
            snapshot("acct", 1, 9, Some(3)),
            snapshot("acct", 1, 2, Some(4)),
            snapshot("acct", 1, 2, None),
            SealContext {
                kind: SealKind::Patch,
                ..context
            },
        ];
        for other in elsewhere {
            assert_eq!(
                open(&key(9), &other, &sealed),
                Err(CryptoError::Tampered),
                "{other:?}"
            );
        }
        assert_eq!(open(&key(8), &context, &sealed), Err(CryptoError::Tampered));
    }

    #[test]
    fn a_changed_or_cut_sealed_value_fails_with_a_clear_error() {
        let context = snapshot("acct", 1, 2, None);
        let sealed = seal(&key(1), &context, b"some text", [0; NONCE_BYTES]).unwrap();
        for at in 1..sealed.len() {
            let mut changed = sealed.clone();
            changed[at] ^= 0x01;
            assert_eq!(
                open(&key(1), &context, &changed),
                Err(CryptoError::Tampered)
            );
        }
        let mut newer = sealed.clone();
        newer[0] = 2;
        assert_eq!(
            open(&key(1), &context, &newer),
            Err(CryptoError::UnknownFormat(2))
        );
        assert_eq!(
            open(&key(1), &context, &sealed[..OVERHEAD - 1]),
            Err(CryptoError::Truncated { len: OVERHEAD - 1 })
        );
        assert_eq!(
            open(&key(1), &context, &[]),
            Err(CryptoError::Truncated { len: 0 })
        );
        // An empty text is sealed too, and opens to nothing.
        let empty = seal(&key(1), &context, b"", [0; NONCE_BYTES]).unwrap();
        assert_eq!(open(&key(1), &context, &empty).unwrap(), b"");
    }

    /// Account names of different lengths cannot run into the ids after them.
    #[test]
    fn contexts_that_differ_give_different_associated_data() {
        let a = SealContext::data_key("ab", false).associated_data();
        let b = SealContext::data_key("a", false).associated_data();
        assert_ne!(a, b);
        assert_ne!(
            SealContext::data_key("a", false).associated_data(),
            SealContext::data_key("a", true).associated_data()
        );
    }

    #[test]
    fn the_data_key_unwraps_only_with_its_wrap_secret_and_account() {
        let data_key = key(42);
        let wrapped = wrap_data_key(&data_key, &key(1), "acct", false, [3; NONCE_BYTES]).unwrap();
        assert_eq!(
            unwrap_data_key(&wrapped, &key(1), "acct", false).unwrap(),
            data_key
        );
        assert_eq!(
            unwrap_data_key(&wrapped, &key(2), "acct", false),
            Err(CryptoError::WrongKey)
        );
        assert_eq!(
            unwrap_data_key(&wrapped, &key(1), "other", false),
            Err(CryptoError::WrongKey)
        );
        assert_eq!(
            unwrap_data_key(&wrapped, &key(1), "acct", true),
            Err(CryptoError::WrongKey)
        );
    }

    proptest! {
        #[test]
        fn whatever_is_sealed_opens_to_itself(
            text in proptest::collection::vec(any::<u8>(), 0..2048),
            nonce in any::<[u8; NONCE_BYTES]>(),
            key_byte in any::<u8>(),
            base in proptest::option::of(any::<u64>()),
        ) {
            let context = snapshot("acct", 7, 8, base);
            let sealed = seal(&key(key_byte), &context, &text, nonce).unwrap();
            prop_assert_eq!(open(&key(key_byte), &context, &sealed).unwrap(), text);
        }
    }
}
