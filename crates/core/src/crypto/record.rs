//! What a sealed note text holds, as the bytes sealed: a snapshot (the whole title and
//! body), a patch (the title, the edit of the body, and the hash of the text it applies
//! to), or a delete. Compressed (zstd) before sealing, since ciphertext does not compress;
//! opened with a bound on what decompression may make, so no sealed value can make a device
//! build more than a note's limit.

use serde::{Deserialize, Serialize};

use super::seal::{open, seal, SealContext, SealKind, NONCE_BYTES};
use super::{CryptoError, Secret32};
use crate::patch::Patch;
use crate::{NoteFields, NoteId, OpId, TextHash, Version};

/// zstd's level for records: its fastest ordinary level. On note-sized text it compresses
/// about a third faster than the default (3) and within 2% as small (`zstd -b1e3 -B1024` on
/// 1 KB notes: 80 against 56-67 MB/s, x2.13 against x2.15).
const ZSTD_LEVEL: i32 = 1;

// A zstd context is made once per thread and kept: making one for each note cost more than
// compressing a note of a few KB (about 11 µs of 20 to seal one; 6 of 11 to open one).
thread_local! {
    static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { std::cell::RefCell::new(None) };
    static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

fn compress(data: &[u8]) -> std::io::Result<Vec<u8>> {
    COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let compressor = match slot.as_mut() {
            Some(compressor) => compressor,
            None => slot.insert(zstd::bulk::Compressor::new(ZSTD_LEVEL)?),
        };
        compressor.compress(data)
    })
}

/// Decompresses `data`, refusing more than `capacity` bytes.
fn decompress(data: &[u8], capacity: usize) -> std::io::Result<Vec<u8>> {
    DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let decompressor = match slot.as_mut() {
            Some(decompressor) => decompressor,
            None => slot.insert(zstd::bulk::Decompressor::new()?),
        };
        decompressor.decompress(data, capacity)
    })
}

/// A note's text as one op carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum NoteRecord {
    Snapshot {
        title: String,
        body: String,
    },
    Patch {
        title: String,
        patch: Patch,
        /// The text it applies to: checked by the device that applies it.
        base: TextHash,
    },
    Delete,
    /// The note was deleted forever: sealed, so that a server cannot make devices delete
    /// a note (text and all) by saying so.
    Purge,
}

impl NoteRecord {
    fn kind(&self) -> SealKind {
        match self {
            NoteRecord::Snapshot { .. } => SealKind::Snapshot,
            NoteRecord::Patch { .. } => SealKind::Patch,
            NoteRecord::Delete => SealKind::Delete,
            NoteRecord::Purge => SealKind::Purge,
        }
    }

    /// The text this record makes of `base` (the text this device holds as the note's
    /// version the record was made on): a snapshot is its own text; a patch must be made
    /// on exactly that text.
    pub fn apply(self, base: Option<&NoteFields>) -> Result<Option<NoteFields>, CryptoError> {
        match self {
            NoteRecord::Snapshot { title, body } => Ok(Some(NoteFields { title, body })),
            NoteRecord::Delete => Ok(None),
            NoteRecord::Purge => Err(CryptoError::BadRecord(
                "a note deleted forever has no text".to_owned(),
            )),
            NoteRecord::Patch {
                title,
                patch,
                base: made_on,
            } => {
                let base = base.ok_or(CryptoError::BaseMismatch)?;
                if TextHash::of(&base.title, &base.body) != made_on {
                    return Err(CryptoError::BaseMismatch);
                }
                let body = patch
                    .apply(&base.body)
                    .map_err(|err| CryptoError::BadRecord(err.to_string()))?;
                Ok(Some(NoteFields { title, body }))
            }
        }
    }
}

/// Where a note text belongs: everything its seal is bound to but its kind, which the
/// record gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoteTextContext<'a> {
    pub account: &'a str,
    pub note: NoteId,
    pub op: OpId,
    pub base_version: Option<Version>,
}

impl NoteTextContext<'_> {
    fn seal_context(&self, kind: SealKind) -> SealContext<'_> {
        SealContext::note_text(kind, self.account, self.note, self.op, self.base_version)
    }
}

/// Compresses and seals `record`. `nonce`: fresh from the OS for every call (see [`seal`]).
pub fn seal_record(
    key: &Secret32,
    context: &NoteTextContext<'_>,
    record: &NoteRecord,
    nonce: [u8; NONCE_BYTES],
) -> Result<Vec<u8>, CryptoError> {
    let json = serde_json::to_vec(record).map_err(|err| CryptoError::BadRecord(err.to_string()))?;
    let compressed = compress(&json).map_err(|err| CryptoError::BadRecord(err.to_string()))?;
    seal(
        key,
        &context.seal_context(record.kind()),
        &compressed,
        nonce,
    )
}

/// Opens a sealed record of `kind` made for `context`, refusing one whose record would be
/// larger than `max_bytes` once decompressed.
pub fn open_record(
    key: &Secret32,
    context: &NoteTextContext<'_>,
    kind: SealKind,
    sealed: &[u8],
    max_bytes: usize,
) -> Result<NoteRecord, CryptoError> {
    let compressed = open(key, &context.seal_context(kind), sealed)?;
    let json = decompress(&compressed, max_bytes).map_err(|_| {
        CryptoError::BadRecord(format!(
            "it does not decompress to at most {max_bytes} bytes"
        ))
    })?;
    let record: NoteRecord =
        serde_json::from_slice(&json).map_err(|err| CryptoError::BadRecord(err.to_string()))?;
    // Sealed as one kind, the record inside says another: only a faulty writer does that.
    if record.kind() != kind {
        return Err(CryptoError::BadRecord(
            "its record is not of the kind it was sealed as".to_owned(),
        ));
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use uuid::Uuid;

    use super::super::KEY_BYTES;
    use super::*;

    const MAX: usize = 16 * 1024 * 1024;

    fn key() -> Secret32 {
        Secret32::from_bytes([3; KEY_BYTES])
    }

    fn context(base: Option<u64>) -> NoteTextContext<'static> {
        NoteTextContext {
            account: "01936d4c-0000-7000-8000-0000000000aa",
            note: NoteId(Uuid::from_u128(1)),
            op: OpId(Uuid::from_u128(2)),
            base_version: base.map(Version),
        }
    }

    /// A long note of distinct lines, as people write.
    fn long_body(bytes: usize) -> String {
        let mut body = String::with_capacity(bytes + 64);
        let mut line = 0u64;
        while body.len() < bytes {
            body.push_str(&format!(
                "line {line}: some words of a note, {}\n",
                line * 7919
            ));
            line += 1;
        }
        body
    }

    #[test]
    fn a_snapshot_seals_and_opens_to_its_text() {
        let record = NoteRecord::Snapshot {
            title: "Plan".to_owned(),
            body: "sentinel body".to_owned(),
        };
        let sealed = seal_record(&key(), &context(None), &record, [1; NONCE_BYTES]).unwrap();
        assert!(!sealed.windows(8).any(|w| w == b"sentinel"));
        let opened = open_record(&key(), &context(None), SealKind::Snapshot, &sealed, MAX).unwrap();
        assert_eq!(opened, record);
        assert_eq!(
            opened.apply(None).unwrap(),
            Some(NoteFields::new("Plan", "sentinel body"))
        );
    }

    /// The figure: a one-line edit of a 1 MB note stays a few hundred bytes sealed.
    #[test]
    fn a_one_line_edit_of_a_long_note_seals_small_and_applies_only_to_its_base() {
        let base = NoteFields::new("Long", long_body(1024 * 1024));
        let edited = base.body.replacen("line 5000:", "line 5000 (edited):", 1);
        let record = NoteRecord::Patch {
            title: base.title.clone(),
            patch: Patch::between(&base.body, &edited),
            base: TextHash::of(&base.title, &base.body),
        };
        let sealed = seal_record(&key(), &context(Some(4)), &record, [2; NONCE_BYTES]).unwrap();
        assert!(sealed.len() < 512, "{} bytes", sealed.len());

        let opened = open_record(&key(), &context(Some(4)), SealKind::Patch, &sealed, MAX).unwrap();
        assert_eq!(
            opened.clone().apply(Some(&base)).unwrap(),
            Some(NoteFields::new("Long", edited.clone()))
        );
        // On any other text, or none, it is refused rather than making a text nobody wrote.
        let other = NoteFields::new("Long", edited);
        assert_eq!(
            opened.clone().apply(Some(&other)),
            Err(CryptoError::BaseMismatch)
        );
        assert_eq!(opened.apply(None), Err(CryptoError::BaseMismatch));
    }

    #[test]
    fn a_record_opened_as_another_kind_or_for_another_version_fails() {
        let record = NoteRecord::Delete;
        let sealed = seal_record(&key(), &context(Some(1)), &record, [3; NONCE_BYTES]).unwrap();
        for (kind, base) in [
            (SealKind::Snapshot, Some(1)),
            (SealKind::Patch, Some(1)),
            (SealKind::Delete, Some(2)),
            (SealKind::Delete, None),
        ] {
            assert_eq!(
                open_record(&key(), &context(base), kind, &sealed, MAX),
                Err(CryptoError::Tampered),
                "{kind:?} {base:?}"
            );
        }
        assert_eq!(
            open_record(&key(), &context(Some(1)), SealKind::Delete, &sealed, MAX).unwrap(),
            NoteRecord::Delete
        );
    }

    /// Ten megabytes of one letter compress to a few hundred bytes: opened with a 1 MB
    /// bound, it is refused before it is built.
    #[test]
    fn a_record_that_would_decompress_past_the_bound_is_refused() {
        let record = NoteRecord::Snapshot {
            title: "bomb".to_owned(),
            body: "a".repeat(10 * 1024 * 1024),
        };
        let sealed = seal_record(&key(), &context(None), &record, [4; NONCE_BYTES]).unwrap();
        assert!(sealed.len() < 4096, "{}", sealed.len());
        let err = open_record(
            &key(),
            &context(None),
            SealKind::Snapshot,
            &sealed,
            1024 * 1024,
        )
        .unwrap_err();
        assert!(matches!(err, CryptoError::BadRecord(_)), "{err}");
    }

    /// A writer that sealed garbage, or a record of one kind as another: a clear error.
    #[test]
    fn a_sealed_value_that_is_not_a_record_is_a_clear_error() {
        let text_context = context(None);
        let ctx = text_context.seal_context(SealKind::Snapshot);
        let not_zstd = seal(&key(), &ctx, b"plain bytes", [5; NONCE_BYTES]).unwrap();
        let json = serde_json::to_vec(&NoteRecord::Delete).unwrap();
        let wrong_kind = seal(
            &key(),
            &ctx,
            &zstd::bulk::compress(&json, ZSTD_LEVEL).unwrap(),
            [6; NONCE_BYTES],
        )
        .unwrap();
        for sealed in [not_zstd, wrong_kind] {
            let err =
                open_record(&key(), &context(None), SealKind::Snapshot, &sealed, MAX).unwrap_err();
            assert!(matches!(err, CryptoError::BadRecord(_)), "{err}");
        }
    }
}
