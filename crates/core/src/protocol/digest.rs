//! Verification (`crate::digest`): the account's digest with the cursor it belongs to, the
//! digests of ranges of buckets, and the notes of one bucket.

use serde::{Deserialize, Serialize};

use crate::digest::DigestValue;
use crate::ids::{NoteId, Version};
use crate::text_hash::TextHash;

/// Answer of `GET /v1/sync/digest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountDigest {
    /// The account's change counter the digest belongs to: a device compares it with what
    /// it pulled up to that same cursor.
    #[schema(minimum = 0, maximum = 9_223_372_036_854_775_807_i64)]
    pub cursor: u64,
    /// Notes counted (those deleted forever are not).
    #[schema(minimum = 0, maximum = 9_223_372_036_854_775_807_i64)]
    pub notes: u64,
    pub digest: DigestValue,
    /// Notes an upgrade left in the clear: not counted, and not held by end-to-end devices
    /// until they are sealed, so no device can prove it holds the account until then.
    #[schema(minimum = 0, maximum = 9_223_372_036_854_775_807_i64)]
    pub in_the_clear: u64,
}

/// The digest of buckets `from..from + width`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RangeDigest {
    #[schema(minimum = 0, maximum = 4095)]
    pub from: u16,
    #[schema(minimum = 0, maximum = 9_223_372_036_854_775_807_i64)]
    pub notes: u64,
    pub digest: DigestValue,
}

/// Answer of `GET /v1/sync/digest/ranges`: the ranges that hold notes, in order; a range
/// not listed holds none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RangeDigests {
    #[schema(minimum = 0, maximum = 9_223_372_036_854_775_807_i64)]
    pub cursor: u64,
    pub ranges: Vec<RangeDigest>,
}

/// One note as the digest counts it on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DigestNote {
    pub id: NoteId,
    pub version: Version,
    pub deleted: bool,
    /// Deleted forever: not counted, and never to be sent again.
    pub purged: bool,
    /// The keyed hash of its text (absent for a note deleted forever).
    pub mac: Option<TextHash>,
}

/// Answer of `GET /v1/sync/digest/notes`: a bucket's notes, in order of id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BucketNotes {
    #[schema(minimum = 0, maximum = 9_223_372_036_854_775_807_i64)]
    pub cursor: u64,
    pub notes: Vec<DigestNote>,
    /// Whether more follow: ask again with `after` set to the last note's id.
    pub more: bool,
}
