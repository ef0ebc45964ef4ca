//! The upgrade manifest (docs/e2e-design.md, "Upgrade"): what the server held in the clear
//! when a device upgraded the account, sealed under the data key by that device. Should it
//! be lost before sealing every note, another device takes the rest from the server in the
//! clear, and takes only what this lists: a server cannot slip a note in, change one, or
//! roll one back by calling it "still in the clear".
//!
//! Layout (then sealed): per note, its 16-byte id, its version (8 bytes, big-endian), its
//! deleted state (0 no, 1 yes, 2 unknown to the device: a change of it was queued) and the
//! SHA-256 of its text ([`TextHash`]).

use std::collections::HashMap;

use super::seal::{open, seal, SealContext, SealKind, NONCE_BYTES, OVERHEAD};
use super::{CryptoError, DataKey};
use crate::protocol::NoteState;
use crate::text_hash::TextHash;
use crate::{NoteId, Version};

/// Bytes one note takes in a manifest.
pub const ENTRY_BYTES: usize = 16 + 8 + 1 + 32;

/// The most bytes a sealed manifest of `notes` notes takes.
pub fn max_sealed_bytes(notes: u64) -> u64 {
    notes
        .saturating_mul(ENTRY_BYTES as u64)
        .saturating_add(OVERHEAD as u64)
}

/// One note as the server held it at the upgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManifestEntry {
    pub note: NoteId,
    pub version: Version,
    /// `None`: the device had a change of it queued, so it knew the text but not whether
    /// the server's copy was deleted.
    pub deleted: Option<bool>,
    pub text: TextHash,
}

impl ManifestEntry {
    /// Whether `note`, as a server hands it over in the clear, is this entry.
    pub fn matches(&self, note: &NoteState) -> bool {
        note.id == self.note
            && note.version == self.version
            && self.deleted.is_none_or(|deleted| deleted == note.deleted)
            && TextHash::of(&note.title, &note.body) == self.text
    }
}

fn context(account: &str) -> SealContext<'_> {
    SealContext {
        kind: SealKind::UpgradeManifest,
        account,
        note: None,
        op: None,
        base_version: None,
    }
}

/// Seals `entries` for `account`.
pub fn seal_manifest(
    key: &DataKey,
    account: &str,
    entries: &[ManifestEntry],
    nonce: [u8; NONCE_BYTES],
) -> Result<Vec<u8>, CryptoError> {
    let mut plain = Vec::with_capacity(entries.len() * ENTRY_BYTES);
    for entry in entries {
        plain.extend_from_slice(entry.note.0.as_bytes());
        plain.extend_from_slice(&entry.version.0.to_be_bytes());
        plain.push(match entry.deleted {
            Some(false) => 0,
            Some(true) => 1,
            None => 2,
        });
        plain.extend_from_slice(entry.text.as_bytes());
    }
    seal(key, &context(account), &plain, nonce)
}

/// Opens a manifest [`seal_manifest`] made for `account`, by note.
pub fn open_manifest(
    key: &DataKey,
    account: &str,
    sealed: &[u8],
) -> Result<HashMap<NoteId, ManifestEntry>, CryptoError> {
    let plain = open(key, &context(account), sealed)?;
    if plain.len() % ENTRY_BYTES != 0 {
        return Err(CryptoError::BadRecord(format!(
            "an upgrade manifest of {} bytes",
            plain.len()
        )));
    }
    let mut entries = HashMap::with_capacity(plain.len() / ENTRY_BYTES);
    for chunk in plain.chunks_exact(ENTRY_BYTES) {
        let (id, rest) = chunk.split_at(16);
        let (version, rest) = rest.split_at(8);
        let (deleted, text) = rest.split_at(1);
        let bad = || CryptoError::BadRecord("an upgrade manifest's entry".to_owned());
        let note = NoteId(uuid::Uuid::from_slice(id).map_err(|_| bad())?);
        let version = Version(u64::from_be_bytes(version.try_into().map_err(|_| bad())?));
        let deleted = match deleted.first() {
            Some(0) => Some(false),
            Some(1) => Some(true),
            Some(2) => None,
            _ => return Err(bad()),
        };
        let text = TextHash::from_bytes(text.try_into().map_err(|_| bad())?);
        entries.insert(
            note,
            ManifestEntry {
                note,
                version,
                deleted,
                text,
            },
        );
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::Millis;

    fn state(id: NoteId, version: u64, body: &str, deleted: bool) -> NoteState {
        NoteState {
            id,
            title: "t".to_owned(),
            body: body.to_owned(),
            version: Version(version),
            deleted,
            updated_at: Millis(1),
            sealed: None,
            purged: false,
        }
    }

    #[test]
    fn a_manifest_lists_exactly_the_notes_as_they_were() {
        let key = DataKey::from_bytes([7; 32]);
        let (a, b) = (
            NoteId(uuid::Uuid::from_u128(1)),
            NoteId(uuid::Uuid::from_u128(2)),
        );
        let entries = [
            ManifestEntry {
                note: a,
                version: Version(3),
                deleted: Some(false),
                text: TextHash::of("t", "kept"),
            },
            ManifestEntry {
                note: b,
                version: Version(1),
                deleted: None,
                text: TextHash::of("t", "gone"),
            },
        ];
        let sealed = seal_manifest(&key, "acct", &entries, [1; NONCE_BYTES]).unwrap();
        assert!(sealed.len() as u64 <= max_sealed_bytes(2));
        let opened = open_manifest(&key, "acct", &sealed).unwrap();
        assert_eq!(opened.len(), 2);
        assert!(opened[&a].matches(&state(a, 3, "kept", false)));
        // Changed, rolled back, undeleted, or another note's: none of these is it.
        assert!(!opened[&a].matches(&state(a, 3, "forged", false)));
        assert!(!opened[&a].matches(&state(a, 2, "kept", false)));
        assert!(!opened[&a].matches(&state(a, 3, "kept", true)));
        assert!(!opened[&a].matches(&state(b, 3, "kept", false)));
        // Deleted or not, when the device did not know.
        assert!(opened[&b].matches(&state(b, 1, "gone", true)));
        assert!(opened[&b].matches(&state(b, 1, "gone", false)));
        // Another account's, or another key's, does not open.
        assert_eq!(
            open_manifest(&key, "other", &sealed),
            Err(CryptoError::Tampered)
        );
        let wrong = DataKey::from_bytes([8; 32]);
        assert_eq!(
            open_manifest(&wrong, "acct", &sealed),
            Err(CryptoError::Tampered)
        );
    }
}
