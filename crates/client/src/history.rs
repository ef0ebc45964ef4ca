//! A note's history as the person sees it (docs/history-design.md): the versions the
//! server keeps, any of them opened on this device, and a restore, which is an ordinary
//! edit (it syncs, merges and conflicts like any other, and is a version itself).

use quire_core::protocol::SealedForm;
use quire_core::side_by_side::{self, Part};
use quire_core::{Millis, Note, NoteFields, NoteId, Version};
use serde::Serialize;

use crate::account;
use crate::api::ApiClient;
use crate::credentials::{Secret, SecretStore};
use crate::sealing::Sealing;
use crate::{Error, Result, Store};

/// Versions asked for per request, and listed at most: a note edited every minute for the
/// 90 days history is kept holds fewer.
const PAGE: u32 = 1000;
const MAX_LISTED: usize = 20_000;

/// What a version was made by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum VersionKind {
    /// The whole note was written (a new note, a large change, a restore).
    Whole,
    /// A change to the version before.
    Edit,
    /// The note was moved to the trash.
    Deleted,
}

/// One line of a note's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct VersionInfo {
    #[ts(type = "number")]
    pub version: u64,
    /// When the server took it.
    pub at: Millis,
    /// The device that made it.
    pub device: String,
    /// Whether that device is this one.
    pub this_device: bool,
    /// What the server holds for it (sealed, compressed): not the note's length.
    #[ts(type = "number")]
    pub bytes: u64,
    pub kind: VersionKind,
}

/// One version of a note, opened here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct OldVersion {
    #[ts(type = "number")]
    pub version: u64,
    pub title: String,
    pub body: String,
    /// The version is the note moved to the trash (its text is the one it had then).
    pub deleted: bool,
}

/// The session and keys history needs: an end-to-end account's.
async fn session(store: &Store, secrets: &dyn SecretStore) -> Result<(ApiClient, Secret, Sealing)> {
    let (api, token) = account::session(store, secrets).await?;
    let sealing = account::sealing(store, secrets)
        .await?
        .ok_or(Error::NotEndToEnd)?;
    Ok((api, token, sealing))
}

/// The versions the server keeps of a note, newest first.
pub async fn versions(
    store: &Store,
    secrets: &dyn SecretStore,
    id: NoteId,
) -> Result<Vec<VersionInfo>> {
    // Never on the server yet: no history there.
    if store.note(id).await?.version.is_none() {
        return Ok(Vec::new());
    }
    let (api, token, _) = session(store, secrets).await?;
    let this_device = store.device_id().await?.to_string();
    let mut listed = Vec::new();
    let mut before = None;
    loop {
        let page = api.versions(&token, id, before, PAGE).await?;
        before = page.versions.last().map(|v| v.version);
        listed.extend(page.versions.into_iter().map(|v| VersionInfo {
            version: v.version.0,
            at: v.at,
            this_device: v.device.to_string() == this_device,
            device: v.device.to_string(),
            bytes: v.bytes,
            kind: match v.form {
                SealedForm::Snapshot => VersionKind::Whole,
                SealedForm::Patch => VersionKind::Edit,
                SealedForm::Delete | SealedForm::Purge => VersionKind::Deleted,
            },
        }));
        if !page.more || before.is_none() || listed.len() >= MAX_LISTED {
            return Ok(listed);
        }
    }
}

/// Version `version` of a note, fetched and opened (checked as a pulled chain is: a
/// server that hands over another note's or another version's entries is caught).
pub async fn version(
    store: &Store,
    secrets: &dyn SecretStore,
    id: NoteId,
    version: Version,
) -> Result<OldVersion> {
    let (api, token, sealing) = session(store, secrets).await?;
    let entries = api.version(&token, id, version).await?;
    let (fields, deleted): (NoteFields, bool) = sealing
        .open_version(id, &entries.entries, version)
        .map_err(Error::Crypto)?;
    Ok(OldVersion {
        version: version.0,
        title: fields.title,
        body: fields.body,
        deleted,
    })
}

/// Gives a note the text of one of its versions back, as an edit that syncs like any
/// other (and brings the note out of the trash).
pub async fn restore(
    store: &Store,
    secrets: &dyn SecretStore,
    id: NoteId,
    version_wanted: Version,
) -> Result<Note> {
    let old = version(store, secrets, id, version_wanted).await?;
    store
        .restore_text(id, NoteFields::new(old.title, old.body))
        .await
}

/// A version beside the note as it is here now, for History's side-by-side view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct VersionComparison {
    pub old: OldVersion,
    /// The note's title here now.
    pub current_title: String,
    /// The version's body (left) against the note's body now (right).
    pub parts: Vec<Part>,
}

/// Version `version` of a note beside its text here now.
pub async fn compare(
    store: &Store,
    secrets: &dyn SecretStore,
    id: NoteId,
    version_wanted: Version,
) -> Result<VersionComparison> {
    let now = store.note(id).await?;
    let old = version(store, secrets, id, version_wanted).await?;
    Ok(VersionComparison {
        parts: side_by_side::compare(&old.body, &now.body),
        current_title: now.title,
        old,
    })
}
