//! History of an end-to-end account's notes (docs/history-design.md): the versions the
//! server keeps of a note, each a sealed entry, and the entries that rebuild one.

use serde::{Deserialize, Serialize};

use super::{SealedBytes, SealedEntry, SealedForm};
use crate::ids::{DeviceId, OpId, Version};
use crate::note::Millis;

/// One version of a note as the server keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryVersion {
    pub version: Version,
    /// When the server took the change that made it.
    pub at: Millis,
    /// The device that made it.
    pub device: DeviceId,
    /// What the server holds for it: the sealed change, not the note's length.
    #[schema(value_type = u64, minimum = 0)]
    pub bytes: u64,
    /// A whole note, a change to the version before, or a delete (a version in the trash).
    pub form: SealedForm,
}

/// Answer of `GET /v1/notes/{id}/versions`: newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionsPage {
    pub versions: Vec<HistoryVersion>,
    /// Older versions follow: ask again with `before` the last version listed.
    pub more: bool,
}

/// Answer of `GET /v1/notes/{id}/versions/{v}`: the entries from the latest snapshot at
/// or below `v` up to `v`, in order, which the device opens as it opens a pulled chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionEntries {
    pub entries: Vec<SealedEntry>,
}

/// Body of `DELETE /v1/notes/{id}`: the purge as the device sealed it (see
/// `crypto::chain::seal_purge`), made on the version in the request's `version`. The server
/// keeps it as the note's only entry; devices delete their copy only once it opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PurgeRequest {
    pub device_id: DeviceId,
    pub op_id: OpId,
    /// Base64 of 1 to 1023 bytes (a sealed record is a few dozen).
    #[schema(value_type = String, format = Byte, min_length = 4, max_length = 1364)]
    pub marker: SealedBytes,
}
