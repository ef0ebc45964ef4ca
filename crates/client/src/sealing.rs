//! End-to-end encryption in a sync round (docs/e2e-design.md): an end-to-end account's ops
//! leave sealed under its data key, and the notes the server sends come back as sealed
//! chains, opened here against the base this device holds. The checks themselves are the
//! core's (`quire_core::crypto::chain`); this module brings the keys and the randomness.

use quire_core::crypto::chain::{open_chain, seal_op};
use quire_core::crypto::{CryptoError, DataKey};
use quire_core::protocol::{NoteState, PushOp};
use quire_core::validate::Limits;
use quire_core::{NoteFields, Version};

use crate::keys::fresh_nonce;
use crate::Result;

/// What one sealed entry may open to at most: a note at the size limit, with room for the
/// record's own fields. Anything larger is refused before it is built.
fn max_opened_bytes() -> usize {
    let limits = Limits::default();
    limits.max_title_bytes + 2 * limits.max_body_bytes + 64 * 1024
}

/// The keys a device seals and opens an account's notes with (cloned to open a page on
/// another thread).
#[derive(Clone)]
pub struct Sealing {
    account_id: String,
    data_key: DataKey,
}

impl Sealing {
    pub(crate) fn new(account_id: String, data_key: DataKey) -> Self {
        Self {
            account_id,
            data_key,
        }
    }

    /// The key of the keyed text hash, derived once for a check of the whole store.
    pub(crate) fn text_macs(&self) -> quire_core::crypto::chain::TextMacKey {
        quire_core::crypto::chain::TextMacKey::new(&self.data_key, &self.account_id)
    }

    /// Opens an upgrade's manifest (`crypto::manifest`) sealed for this account.
    pub(crate) fn open_manifest(
        &self,
        sealed: &[u8],
    ) -> Result<
        std::collections::HashMap<quire_core::NoteId, quire_core::crypto::manifest::ManifestEntry>,
    > {
        Ok(quire_core::crypto::manifest::open_manifest(
            &self.data_key,
            &self.account_id,
            sealed,
        )?)
    }

    /// Seals the text `op` carries (made on `base`), leaving nothing of it in the clear.
    pub(crate) fn seal(&self, op: &mut PushOp, base: Option<&NoteFields>) -> Result<()> {
        Ok(seal_op(
            &self.data_key,
            &self.account_id,
            op,
            base,
            fresh_nonce(),
        )?)
    }

    /// Opens a note the server sent as a sealed chain onto `base` (the version and text this
    /// device holds, when the chain does not start over with a snapshot). A note that comes
    /// in the clear is refused: an end-to-end account has none, so only a server that
    /// forges one could send it.
    /// The sealed marker of a purge of `note` made here on `seen` (the version this device
    /// last saw), for `DELETE /v1/notes/{id}`.
    pub(crate) fn seal_purge(
        &self,
        note: quire_core::NoteId,
        seen: Option<Version>,
        device_id: quire_core::DeviceId,
    ) -> Result<quire_core::protocol::PurgeRequest> {
        let op_id = crate::clock::new_op_id();
        let marker = quire_core::crypto::chain::seal_purge(
            &self.data_key,
            &self.account_id,
            note,
            op_id,
            seen,
            fresh_nonce(),
        )?;
        Ok(quire_core::protocol::PurgeRequest {
            device_id,
            op_id,
            marker: quire_core::protocol::SealedBytes(marker),
        })
    }

    /// Whether a purge the server hands over was sealed by a device of this account for
    /// this note, and made on `held` (the version this device holds) or later: an older
    /// one (replayed by the server after the note was edited since) does not count.
    pub(crate) fn purge_holds(
        &self,
        note: quire_core::NoteId,
        marker: Option<&quire_core::protocol::SealedEntry>,
        held: Option<Version>,
    ) -> Result<(), CryptoError> {
        let Some(marker) = marker else {
            return Err(CryptoError::BrokenChain(
                "the server says this note was deleted forever, but sent no proof of it".to_owned(),
            ));
        };
        quire_core::crypto::chain::open_purge(&self.data_key, &self.account_id, note, marker)?;
        if held.is_some_and(|held| marker.base_version.is_none_or(|seen| seen < held)) {
            return Err(CryptoError::BrokenChain(
                "the server says this note was deleted forever, but by a device that had not \
                 seen its latest version"
                    .to_owned(),
            ));
        }
        Ok(())
    }

    /// Opens one version of a note from the entries the server keeps for it (its history):
    /// from a snapshot up to `version`, which the last entry must be. Its text, and whether
    /// that version is the note deleted.
    pub(crate) fn open_version(
        &self,
        note: quire_core::NoteId,
        entries: &[quire_core::protocol::SealedEntry],
        version: Version,
    ) -> Result<(NoteFields, bool), CryptoError> {
        let deleted = entries
            .last()
            .is_some_and(|entry| entry.form == quire_core::protocol::SealedForm::Delete);
        let opened = open_chain(
            &self.data_key,
            &self.account_id,
            note,
            entries,
            None,
            (version, deleted),
            max_opened_bytes(),
        )?;
        Ok((opened.fields, deleted))
    }

    pub(crate) fn open(
        &self,
        note: &mut NoteState,
        base: Option<(Version, &NoteFields)>,
    ) -> Result<(), CryptoError> {
        let Some(entries) = note.sealed.take() else {
            return Err(CryptoError::BrokenChain(
                "the server sent an end-to-end encrypted note in the clear".to_owned(),
            ));
        };
        let opened = open_chain(
            &self.data_key,
            &self.account_id,
            note.id,
            &entries,
            base,
            (note.version, note.deleted),
            max_opened_bytes(),
        )?;
        note.title = opened.fields.title;
        note.body = opened.fields.body;
        Ok(())
    }
}
