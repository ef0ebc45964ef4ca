//! Proof that a device holds what the server holds (issue 22): an order-independent digest
//! of an account's notes, kept by the server per bucket of note ids in the same transaction
//! as every write, and made by a device over its own store the same way.
//!
//! Each note that is not deleted forever adds one [`element`]: a hash of its id, version,
//! whether it is in the trash, and the keyed hash of its text (`crypto::chain::text_mac`;
//! the server holds that, never the text). Adding makes the digest independent of order,
//! and lets the server update it by subtracting a note's old element and adding its new one.
//! Each element is summed as two 32-bit halves, so that the exact sums fit a database
//! integer for any account; the digest compares the count and both sums modulo 2^32.
//!
//! A note's bucket comes from a hash of its id, so buckets fill evenly whatever ids a
//! device makes (UUIDv7 ids share their leading time bits). When two digests differ, a
//! device compares ranges of buckets, then buckets, then the notes in the buckets that
//! differ: a handful of requests for a handful of differing notes among 100,000.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::ids::{NoteId, Version};
use crate::text_hash::TextHash;

/// Buckets of note ids: 4,096, so that the server reads at most that many rows to answer
/// any digest, however many notes an account holds.
pub const BUCKETS: u16 = 4096;

/// The bucket a note's id falls in.
pub fn bucket_of(id: NoteId) -> u16 {
    let mut hasher = Sha256::new();
    hasher.update(b"quire-digest-bucket-v1\0");
    hasher.update(id.0.as_bytes());
    let hash = hasher.finalize();
    u16::from_be_bytes([hash[0], hash[1]]) % BUCKETS
}

/// What a digest counts of one note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldNote {
    pub id: NoteId,
    pub version: Version,
    /// In the trash (a tombstone on the server). Its text is not counted: a delete carries
    /// none.
    pub deleted: bool,
    /// The keyed hash of its text, for a note not in the trash.
    pub mac: Option<TextHash>,
}

/// A note's part of the digest. Never zero in practice (a 2^-64 chance), which the server
/// uses to mark a row it counts nothing for (deleted forever).
pub fn element(note: &HeldNote) -> u64 {
    let mut hasher = Sha256::new();
    hasher.update(b"quire-digest-v1\0");
    hasher.update(note.id.0.as_bytes());
    hasher.update(note.version.0.to_le_bytes());
    match (note.deleted, note.mac) {
        (true, _) => hasher.update([1u8]),
        (false, Some(mac)) => {
            hasher.update([0u8]);
            hasher.update(mac.as_bytes());
        }
        (false, None) => hasher.update([2u8]),
    }
    let hash = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash[..8]);
    u64::from_le_bytes(first)
}

/// A set of notes, summed: how many, and their elements' halves. `add` and `remove` are
/// inverse, in any order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Digest {
    pub notes: i64,
    pub low: i64,
    pub high: i64,
}

impl Digest {
    /// The digest of one element.
    pub fn of(element: u64) -> Self {
        Self {
            notes: 1,
            low: i64::from(element as u32),
            high: i64::from((element >> 32) as u32),
        }
    }

    /// Sums as a database keeps them (exact, never above 2^32 times the notes).
    pub fn from_sums(notes: i64, low: i64, high: i64) -> Self {
        Self { notes, low, high }
    }

    pub fn add(&mut self, other: Digest) {
        self.notes = self.notes.wrapping_add(other.notes);
        self.low = self.low.wrapping_add(other.low);
        self.high = self.high.wrapping_add(other.high);
    }

    pub fn remove(&mut self, other: Digest) {
        self.notes = self.notes.wrapping_sub(other.notes);
        self.low = self.low.wrapping_sub(other.low);
        self.high = self.high.wrapping_sub(other.high);
    }

    /// What two devices compare: the count and the 64-bit value.
    pub fn summary(&self) -> DigestSummary {
        DigestSummary {
            notes: u64::try_from(self.notes).unwrap_or(0),
            digest: DigestValue(
                ((self.high as u64 & 0xffff_ffff) << 32) | (self.low as u64 & 0xffff_ffff),
            ),
        }
    }
}

/// A digest as it goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DigestSummary {
    /// Notes counted (those deleted forever are not).
    #[schema(minimum = 0, maximum = 9_223_372_036_854_775_807_i64)]
    pub notes: u64,
    pub digest: DigestValue,
}

/// A digest's 64-bit value, as 16 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, utoipa::ToSchema)]
#[schema(value_type = String, pattern = "^[0-9a-f]{16}$")]
pub struct DigestValue(pub u64);

impl fmt::Debug for DigestValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl fmt::Display for DigestValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a digest is 16 lowercase hex digits")]
pub struct InvalidDigest;

impl FromStr for DigestValue {
    type Err = InvalidDigest;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.len() != 16
            || !text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(InvalidDigest);
        }
        u64::from_str_radix(text, 16)
            .map(Self)
            .map_err(|_| InvalidDigest)
    }
}

impl Serialize for DigestValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for DigestValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Digests per bucket, for a whole account: what a device builds over its store.
#[derive(Debug, Clone)]
pub struct BucketDigests {
    buckets: Vec<Digest>,
}

impl Default for BucketDigests {
    fn default() -> Self {
        Self {
            buckets: vec![Digest::default(); usize::from(BUCKETS)],
        }
    }
}

impl BucketDigests {
    pub fn add(&mut self, note: &HeldNote) {
        self.add_at(bucket_of(note.id), Digest::of(element(note)));
    }

    /// Adds sums to bucket `bucket` (ignored past the last bucket).
    pub fn add_at(&mut self, bucket: u16, digest: Digest) {
        if let Some(sum) = self.buckets.get_mut(usize::from(bucket)) {
            sum.add(digest);
        }
    }

    /// Takes sums out of bucket `bucket` (ignored past the last bucket).
    pub fn remove_at(&mut self, bucket: u16, digest: Digest) {
        if let Some(sum) = self.buckets.get_mut(usize::from(bucket)) {
            sum.remove(digest);
        }
    }

    /// The digest over buckets `from..to` (clamped to the buckets there are).
    pub fn range(&self, from: u16, to: u16) -> Digest {
        let to = usize::from(to.min(BUCKETS));
        let from = usize::from(from).min(to);
        let mut sum = Digest::default();
        for bucket in &self.buckets[from..to] {
            sum.add(*bucket);
        }
        sum
    }

    pub fn total(&self) -> Digest {
        self.range(0, BUCKETS)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use proptest::prelude::*;
    use uuid::Uuid;

    use super::*;

    fn note(n: u128, version: u64, deleted: bool, mac: u8) -> HeldNote {
        HeldNote {
            id: NoteId(Uuid::from_u128(n)),
            version: Version(version),
            deleted,
            mac: Some(TextHash::from_bytes([mac; 32])),
        }
    }

    #[test]
    fn every_field_a_device_must_agree_on_changes_the_element() {
        let base = note(1, 3, false, 7);
        let same = element(&base);
        assert_eq!(same, element(&note(1, 3, false, 7)));
        for other in [
            note(2, 3, false, 7),
            note(1, 4, false, 7),
            note(1, 3, true, 7),
            note(1, 3, false, 8),
        ] {
            assert_ne!(same, element(&other), "{other:?}");
        }
        // A note in the trash is counted without its text: a delete carries none.
        assert_eq!(element(&note(1, 3, true, 7)), element(&note(1, 3, true, 9)));
    }

    #[test]
    fn digest_values_round_trip_as_hex_and_refuse_anything_else() {
        let value = DigestValue(0x0123_4567_89ab_cdef);
        assert_eq!(value.to_string(), "0123456789abcdef");
        assert_eq!("0123456789abcdef".parse::<DigestValue>().unwrap(), value);
        for bad in [
            "",
            "0123456789ABCDEF",
            "0123456789abcde",
            "0123456789abcdefa",
            "+123456789abcdef",
            "0123456789abcdeg",
        ] {
            assert!(bad.parse::<DigestValue>().is_err(), "{bad}");
        }
    }

    #[test]
    fn buckets_fill_evenly_for_ids_made_one_after_another() {
        let mut counts = vec![0u32; usize::from(BUCKETS)];
        for n in 0..(u128::from(BUCKETS) * 16) {
            // UUIDv7-like: the same leading time bits, a counter behind them.
            counts[usize::from(bucket_of(NoteId(Uuid::from_u128(
                (0x0190_0000_0000_7000 << 64) | n,
            ))))] += 1;
        }
        assert!(
            counts.iter().all(|&c| c < 48),
            "max {:?}",
            counts.iter().max()
        );
    }

    proptest! {
        /// The server's way (add each note's new element, remove its old one, in any order)
        /// and a device's way (sum what it holds) agree.
        #[test]
        fn updates_in_any_order_give_the_digest_of_what_is_held(
            writes in proptest::collection::vec((0u128..20, 1u64..5, any::<bool>(), 0u8..4), 0..60)
        ) {
            let mut held = std::collections::BTreeMap::new();
            let mut kept = Digest::default();
            for (id, version, deleted, mac) in writes {
                let new = note(id, version, deleted, mac);
                if let Some(old) = held.insert(id, new) {
                    kept.remove(Digest::of(element(&old)));
                }
                kept.add(Digest::of(element(&new)));
            }
            let mut made = BucketDigests::default();
            for note in held.values() {
                made.add(note);
            }
            prop_assert_eq!(kept.summary(), made.total().summary());
            prop_assert_eq!(made.total().notes, held.len() as i64);
        }

        #[test]
        fn ranges_add_up_to_the_whole(cut in 0u16..=BUCKETS, ids in proptest::collection::vec(any::<u128>(), 0..40)) {
            let mut made = BucketDigests::default();
            for id in ids {
                made.add(&note(id, 1, false, 1));
            }
            let mut parts = made.range(0, cut);
            parts.add(made.range(cut, BUCKETS));
            prop_assert_eq!(parts.summary(), made.total().summary());
        }
    }
}
