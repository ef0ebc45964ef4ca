//! From an op to the sealed text it carries, and from a note's sealed chain back to its
//! text (docs/e2e-design.md, "What a device checks"). Each entry opens only under its own
//! context (account, note, op, base version, kind); each must be made on the version before
//! it; the last must be the version and the deleted state the server claims. Anything else
//! is an error, and the device that gets one keeps what it has.

use hkdf::Hkdf;
use sha2::Sha256;

use super::record::{open_record, seal_record, NoteRecord, NoteTextContext};
use super::seal::{SealKind, NONCE_BYTES};
use super::{CryptoError, DataKey};
use crate::ids::{NoteId, Version};
use crate::note::NoteFields;
use crate::op::OpKind;
use crate::protocol::{PushOp, SealedBytes, SealedEntry, SealedForm, SealedText};
use crate::text_hash::TextHash;

/// A keyed hash of a note's text: what the server compares to bind an op to its exact
/// base, as it did with the plain hash, without learning anything of the text. Keyed by the
/// data key and bound to the account and note, so not even equal texts in two notes match.
pub fn text_mac(key: &DataKey, account: &str, note: NoteId, fields: &NoteFields) -> TextHash {
    TextMacKey::new(key, account).mac(note, fields)
}

/// [`text_mac`]'s key, derived once: a device that hashes every note it holds (a check of
/// the account's digest) derives it once, not per note.
#[derive(Clone)]
pub struct TextMacKey {
    hmac: hmac::Hmac<Sha256>,
    account: Vec<u8>,
}

impl TextMacKey {
    pub fn new(key: &DataKey, account: &str) -> Self {
        let mut mac_key = zeroize::Zeroizing::new([0u8; 32]);
        // 32 bytes is far inside what HKDF-SHA256 can expand to: this cannot fail.
        let _ = Hkdf::<Sha256>::new(None, key.expose()).expand(b"quire/v1/text-mac", &mut *mac_key);
        // HKDF's extract step is HMAC-SHA256 keyed by its salt; any key length is taken.
        let hmac = <hmac::Hmac<Sha256> as hmac::Mac>::new_from_slice(&*mac_key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        Self {
            hmac,
            account: account.as_bytes().to_vec(),
        }
    }

    pub fn mac(&self, note: NoteId, fields: &NoteFields) -> TextHash {
        use hmac::Mac;
        let mut hmac = self.hmac.clone();
        hmac.update(
            &u32::try_from(self.account.len())
                .unwrap_or(u32::MAX)
                .to_be_bytes(),
        );
        hmac.update(&self.account);
        hmac.update(note.0.as_bytes());
        hmac.update(TextHash::of(&fields.title, &fields.body).as_bytes());
        TextHash::from_bytes(hmac.finalize().into_bytes().into())
    }
}

fn kind_of(form: SealedForm) -> SealKind {
    match form {
        SealedForm::Snapshot => SealKind::Snapshot,
        SealedForm::Patch => SealKind::Patch,
        SealedForm::Delete => SealKind::Delete,
        SealedForm::Purge => SealKind::Purge,
    }
}

/// Seals what a plain push op carries (a title and a body or a patch, bound to `base`, the
/// text it was made on) and clears it from the op: nothing of the text stays in the clear.
/// The op's `base_hash` becomes the keyed [`text_mac`] of its base, and the sealed text
/// carries that of the text it leaves. `nonce`: fresh from the OS for every call.
pub fn seal_op(
    key: &DataKey,
    account: &str,
    op: &mut PushOp,
    base: Option<&NoteFields>,
    nonce: [u8; NONCE_BYTES],
) -> Result<(), CryptoError> {
    let title = op.title.take();
    let body = op.body.take();
    let patch = op.patch.take();
    op.base_hash = base.map(|base| text_mac(key, account, op.note_id, base));
    let mac = |fields: &NoteFields| text_mac(key, account, op.note_id, fields);
    let (record, text_mac) = match (op.kind, title, body, patch) {
        (OpKind::Delete, ..) => (NoteRecord::Delete, None),
        (_, Some(title), Some(body), None) => {
            let fields = NoteFields { title, body };
            let left = mac(&fields);
            let NoteFields { title, body } = fields;
            (NoteRecord::Snapshot { title, body }, Some(left))
        }
        (OpKind::Update, Some(title), None, Some(patch)) => {
            let base = base.ok_or(CryptoError::BaseMismatch)?;
            // The text it leaves, hashed for the next op's base.
            let body = patch
                .apply(&base.body)
                .map_err(|err| CryptoError::BadRecord(err.to_string()))?;
            let left = mac(&NoteFields {
                title: title.clone(),
                body,
            });
            let made_on = TextHash::of(&base.title, &base.body);
            let record = NoteRecord::Patch {
                title,
                patch,
                base: made_on,
            };
            (record, Some(left))
        }
        _ => {
            return Err(CryptoError::BadRecord(
                "an op with neither a whole text nor a patch".to_owned(),
            ))
        }
    };
    let form = match &record {
        NoteRecord::Snapshot { .. } => SealedForm::Snapshot,
        NoteRecord::Patch { .. } => SealedForm::Patch,
        NoteRecord::Delete => SealedForm::Delete,
        NoteRecord::Purge => SealedForm::Purge,
    };
    let context = NoteTextContext {
        account,
        note: op.note_id,
        op: op.op_id,
        base_version: op.base_version,
    };
    op.sealed = Some(SealedText {
        form,
        data: SealedBytes(seal_record(key, &context, &record, nonce)?),
        text_mac,
    });
    Ok(())
}

/// The marker a device seals when it deletes a note forever, made on `seen`, the version it
/// last saw: the server keeps it as the purged note's only entry, and other devices delete
/// their copy only once it opens (see [`open_purge`]).
pub fn seal_purge(
    key: &DataKey,
    account: &str,
    note: NoteId,
    op: crate::ids::OpId,
    seen: Option<Version>,
    nonce: [u8; NONCE_BYTES],
) -> Result<Vec<u8>, CryptoError> {
    let context = NoteTextContext {
        account,
        note,
        op,
        base_version: seen,
    };
    seal_record(key, &context, &NoteRecord::Purge, nonce)
}

/// Checks a purged note's marker: sealed by a holder of the data key for this account and
/// this note. Its `base_version` (bound in it) is the version its maker last saw.
pub fn open_purge(
    key: &DataKey,
    account: &str,
    note: NoteId,
    entry: &SealedEntry,
) -> Result<(), CryptoError> {
    if entry.form != SealedForm::Purge {
        return Err(CryptoError::BrokenChain(
            "a note said to be deleted forever carries no purge".to_owned(),
        ));
    }
    let context = NoteTextContext {
        account,
        note,
        op: entry.op_id,
        base_version: entry.base_version,
    };
    match open_record(key, &context, SealKind::Purge, &entry.data.0, 4096)? {
        NoteRecord::Purge => Ok(()),
        _ => Err(CryptoError::BadRecord("not a purge".to_owned())),
    }
}

/// A note's text as a sealed chain leaves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedNote {
    pub fields: NoteFields,
    pub deleted: bool,
}

/// Opens `entries` (the server's chain of note `note`, in order) on top of `base`, the
/// version and text this device holds (needed unless the chain starts with a snapshot), and
/// checks that it ends at `version`, deleted or not as `deleted` says. `max_bytes` bounds
/// what any one entry may decompress to.
pub fn open_chain(
    key: &DataKey,
    account: &str,
    note: NoteId,
    entries: &[SealedEntry],
    base: Option<(Version, &NoteFields)>,
    end: (Version, bool),
    max_bytes: usize,
) -> Result<OpenedNote, CryptoError> {
    let broken = |why: String| Err(CryptoError::BrokenChain(why));
    let Some(first) = entries.first() else {
        return broken("the server sent no text for a changed note".to_owned());
    };
    let (mut at, mut fields) = match (first.form, base) {
        (SealedForm::Snapshot, _) => (None, None),
        (_, Some((version, fields))) => (Some(version), Some(fields.clone())),
        // A note upgraded from the clear may start with its delete: to a device that never
        // had it, it is an empty tombstone.
        (SealedForm::Delete, None) => (None, Some(NoteFields::new("", ""))),
        (_, None) => return broken("a change to a note this device does not have".to_owned()),
    };
    let mut deleted = false;
    for (n, entry) in entries.iter().enumerate() {
        let starts_over = n == 0 && (entry.form == SealedForm::Snapshot || base.is_none());
        if !starts_over && entry.base_version != at {
            return broken(format!(
                "version {} was made on {:?}, not on {:?}",
                entry.version.0,
                entry.base_version.map(|v| v.0),
                at.map(|v| v.0)
            ));
        }
        if at.is_some_and(|at| entry.version.0 <= at.0) {
            return broken(format!("version {} comes after itself", entry.version.0));
        }
        let context = NoteTextContext {
            account,
            note,
            op: entry.op_id,
            base_version: entry.base_version,
        };
        let record = open_record(key, &context, kind_of(entry.form), &entry.data.0, max_bytes)?;
        deleted = matches!(record, NoteRecord::Delete);
        if let Some(next) = record.apply(fields.as_ref())? {
            fields = Some(next);
        }
        at = Some(entry.version);
    }
    let (version, claimed_deleted) = end;
    if at != Some(version) || deleted != claimed_deleted {
        return broken(format!(
            "the chain ends at version {:?} ({}), not at {} ({}) as the server says",
            at.map(|v| v.0),
            if deleted { "deleted" } else { "not deleted" },
            version.0,
            if claimed_deleted {
                "deleted"
            } else {
                "not deleted"
            },
        ));
    }
    let fields = fields.ok_or(CryptoError::BaseMismatch)?;
    Ok(OpenedNote { fields, deleted })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use uuid::Uuid;

    use super::*;
    use crate::crypto::KEY_BYTES;
    use crate::ids::{DeviceId, OpId};
    use crate::patch::Patch;

    const ACCOUNT: &str = "01936d4c-0000-7000-8000-0000000000aa";
    const MAX: usize = 1 << 20;

    fn key() -> DataKey {
        DataKey::from_bytes([5; KEY_BYTES])
    }

    fn note() -> NoteId {
        NoteId(Uuid::from_u128(9))
    }

    fn fields(title: &str, body: &str) -> NoteFields {
        NoteFields::new(title, body)
    }

    /// A plain op as a device's queue makes it.
    fn plain(op: u128, kind: OpKind, base: Option<u64>, text: Option<(&str, &str)>) -> PushOp {
        PushOp {
            op_id: OpId(Uuid::from_u128(op)),
            note_id: note(),
            kind,
            title: text.map(|(t, _)| t.to_owned()),
            body: text.map(|(_, b)| b.to_owned()),
            patch: None,
            base_version: base.map(Version),
            base_hash: None,
            device_id: DeviceId(Uuid::from_u128(1)),
            clock: 1,
            lww: false,
            sealed: None,
        }
    }

    /// The entry the server would store for `op` at `version`.
    fn entry(op: &PushOp, version: u64) -> SealedEntry {
        let sealed = op.sealed.clone().unwrap();
        SealedEntry {
            version: Version(version),
            op_id: op.op_id,
            base_version: op.base_version,
            form: sealed.form,
            data: sealed.data,
        }
    }

    fn sealed(mut op: PushOp, base: Option<&NoteFields>, nonce: u8) -> PushOp {
        seal_op(&key(), ACCOUNT, &mut op, base, [nonce; NONCE_BYTES]).unwrap();
        op
    }

    /// A chain of three: created, patched, deleted; and the texts along it.
    fn chain() -> (Vec<SealedEntry>, NoteFields, NoteFields) {
        let first = fields("Groceries", "milk\neggs\n");
        let second = fields("Groceries", "milk\neggs\nbread\n");
        let create = sealed(
            plain(1, OpKind::Create, None, Some(("Groceries", "milk\neggs\n"))),
            None,
            1,
        );
        let mut update = plain(2, OpKind::Update, Some(1), None);
        update.title = Some(second.title.clone());
        update.patch = Some(Patch::between(&first.body, &second.body));
        let update = sealed(update, Some(&first), 2);
        let delete = sealed(plain(3, OpKind::Delete, Some(2), None), Some(&second), 3);
        (
            vec![entry(&create, 1), entry(&update, 2), entry(&delete, 3)],
            first,
            second,
        )
    }

    #[test]
    fn a_sealed_op_keeps_nothing_in_the_clear_and_its_chain_opens_back() {
        let (entries, first, second) = chain();
        for one in &entries {
            let bytes = &one.data.0;
            assert!(
                !bytes.windows(4).any(|w| w == b"milk"),
                "no text in the clear"
            );
        }
        let whole = open_chain(
            &key(),
            ACCOUNT,
            note(),
            &entries,
            None,
            (Version(3), true),
            MAX,
        )
        .unwrap();
        assert_eq!(
            whole,
            OpenedNote {
                fields: second.clone(),
                deleted: true
            }
        );
        // From the first version on: only the patch and the delete.
        let rest = open_chain(
            &key(),
            ACCOUNT,
            note(),
            &entries[1..2],
            Some((Version(1), &first)),
            (Version(2), false),
            MAX,
        )
        .unwrap();
        assert_eq!(rest.fields, second);
    }

    #[test]
    fn a_chain_that_starts_with_its_delete_is_a_tombstone() {
        // A note upgraded from the clear by its delete: the entry alone.
        let (entries, _, second) = chain();
        let end = (Version(3), true);
        let never_had = open_chain(&key(), ACCOUNT, note(), &entries[2..], None, end, MAX);
        assert_eq!(
            never_had.unwrap(),
            OpenedNote {
                fields: fields("", ""),
                deleted: true
            }
        );
        let had = open_chain(
            &key(),
            ACCOUNT,
            note(),
            &entries[2..],
            Some((Version(2), &second)),
            end,
            MAX,
        );
        assert_eq!(had.unwrap().fields, second);
        // Still sealed to its own place: not as another note's, nor as a live note.
        let elsewhere = NoteId(Uuid::from_u128(10));
        assert!(open_chain(&key(), ACCOUNT, elsewhere, &entries[2..], None, end, MAX).is_err());
        let alive = (Version(3), false);
        assert!(open_chain(&key(), ACCOUNT, note(), &entries[2..], None, alive, MAX).is_err());
    }

    #[test]
    fn a_patch_on_another_base_a_gap_or_a_false_end_is_refused() {
        let (entries, first, _) = chain();
        let other_base = fields("Groceries", "milk\nflour\n");
        let wrong_text = open_chain(
            &key(),
            ACCOUNT,
            note(),
            &entries[1..2],
            Some((Version(1), &other_base)),
            (Version(2), false),
            MAX,
        );
        assert_eq!(wrong_text, Err(CryptoError::BaseMismatch));
        let gap = open_chain(
            &key(),
            ACCOUNT,
            note(),
            &entries[2..],
            Some((Version(1), &first)),
            (Version(3), true),
            MAX,
        );
        assert!(matches!(gap, Err(CryptoError::BrokenChain(_))), "{gap:?}");
        // A server that hides the delete, or claims one that is not there.
        for end in [(Version(3), false), (Version(2), false), (Version(4), true)] {
            let lie = open_chain(&key(), ACCOUNT, note(), &entries, None, end, MAX);
            assert!(
                matches!(lie, Err(CryptoError::BrokenChain(_))),
                "{end:?}: {lie:?}"
            );
        }
        let none = open_chain(&key(), ACCOUNT, note(), &[], None, (Version(1), false), MAX);
        assert!(matches!(none, Err(CryptoError::BrokenChain(_))));
    }

    #[test]
    fn an_entry_moved_to_another_op_note_account_or_kind_does_not_open() {
        let (entries, first, _) = chain();
        let open = |entries: &[SealedEntry], account: &str, note_id: NoteId| {
            open_chain(
                &key(),
                account,
                note_id,
                entries,
                Some((Version(1), &first)),
                (Version(2), false),
                MAX,
            )
        };
        let mut other_op = entries[1].clone();
        other_op.op_id = OpId(Uuid::from_u128(77));
        assert_eq!(
            open(&[other_op], ACCOUNT, note()),
            Err(CryptoError::Tampered)
        );
        assert_eq!(
            open(&entries[1..2], ACCOUNT, NoteId(Uuid::from_u128(8))),
            Err(CryptoError::Tampered)
        );
        assert_eq!(
            open(&entries[1..2], "another account", note()),
            Err(CryptoError::Tampered)
        );
        let mut as_snapshot = entries[1].clone();
        as_snapshot.form = SealedForm::Snapshot;
        assert_eq!(
            open(&[as_snapshot], ACCOUNT, note()),
            Err(CryptoError::Tampered)
        );
        let mut flipped = entries[1].clone();
        let last = flipped.data.0.len() - 1;
        flipped.data.0[last] ^= 1;
        assert_eq!(
            open(&[flipped], ACCOUNT, note()),
            Err(CryptoError::Tampered)
        );
        let wrong_key = open_chain(
            &DataKey::from_bytes([6; KEY_BYTES]),
            ACCOUNT,
            note(),
            &entries,
            None,
            (Version(3), true),
            MAX,
        );
        assert_eq!(wrong_key, Err(CryptoError::Tampered));
    }

    /// The key kept for a whole check gives what every push has sent since end-to-end
    /// encryption: HKDF's extract keyed by the expanded key, over account, note and hash.
    #[test]
    fn the_kept_key_hashes_as_each_op_always_has() {
        let text = fields("Groceries", "milk\n");
        let mut mac_key = [0u8; 32];
        Hkdf::<Sha256>::new(None, key().expose())
            .expand(b"quire/v1/text-mac", &mut mac_key)
            .unwrap();
        let mut message = Vec::new();
        message.extend_from_slice(&(ACCOUNT.len() as u32).to_be_bytes());
        message.extend_from_slice(ACCOUNT.as_bytes());
        message.extend_from_slice(note().0.as_bytes());
        message.extend_from_slice(TextHash::of(&text.title, &text.body).as_bytes());
        let (expected, _) = Hkdf::<Sha256>::extract(Some(&mac_key), &message);
        assert_eq!(
            TextMacKey::new(&key(), ACCOUNT).mac(note(), &text),
            TextHash::from_bytes(expected.into())
        );
    }

    #[test]
    fn the_keyed_text_hash_binds_an_op_to_its_base_and_tells_nothing_across_notes() {
        let text = fields("Groceries", "milk\n");
        let here = text_mac(&key(), ACCOUNT, note(), &text);
        assert_eq!(
            here,
            text_mac(&key(), ACCOUNT, note(), &text),
            "the same each time"
        );
        for other in [
            text_mac(&key(), ACCOUNT, NoteId(Uuid::from_u128(10)), &text),
            text_mac(&key(), "another account", note(), &text),
            text_mac(&DataKey::from_bytes([6; KEY_BYTES]), ACCOUNT, note(), &text),
            text_mac(&key(), ACCOUNT, note(), &fields("Groceries", "milk\n\n")),
        ] {
            assert_ne!(here, other);
        }
        assert_ne!(
            here,
            TextHash::of("Groceries", "milk\n"),
            "not the plain hash"
        );
        // A sealed op names its base by it, and the text it leaves.
        let mut update = plain(2, OpKind::Update, Some(1), None);
        update.title = Some("Groceries".to_owned());
        update.patch = Some(Patch::between("milk\n", "milk\neggs\n"));
        let sealed = sealed(update, Some(&text), 4);
        assert_eq!(sealed.base_hash, Some(here));
        let left = text_mac(
            &key(),
            ACCOUNT,
            note(),
            &fields("Groceries", "milk\neggs\n"),
        );
        assert_eq!(sealed.sealed.unwrap().text_mac, Some(left));
    }

    #[test]
    fn a_patch_needs_the_text_it_was_made_on() {
        let mut update = plain(2, OpKind::Update, Some(1), None);
        update.title = Some("t".to_owned());
        update.patch = Some(Patch::between("a", "b"));
        let err = seal_op(&key(), ACCOUNT, &mut update, None, [1; NONCE_BYTES]);
        assert_eq!(err, Err(CryptoError::BaseMismatch));
    }
}
