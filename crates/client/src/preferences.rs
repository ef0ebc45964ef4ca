//! The device's settings as the app's Settings screen shows them: everything a person can
//! change, with defaults filled in (read by [`crate::Device::preferences`]).

use quire_core::settings::ConflictPolicy;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Preferences {
    /// The sync server, if one is set.
    pub server: Option<String>,
    /// The account this device is signed in as, if it is.
    pub account: Option<String>,
    /// Whether that account's notes are end-to-end encrypted.
    pub end_to_end: bool,
    /// Whether this device holds the account's recovery key (it can show it again).
    pub has_recovery_key: bool,
    pub conflict_policy: ConflictPolicy,
    /// Seconds between background syncs.
    pub sync_interval: u32,
    /// Days deleted notes stay in the trash (0: until deleted forever by hand).
    pub trash_days: u32,
    /// The folder notes are mirrored into, if any.
    pub vault_dir: Option<String>,
    /// Whether closing the window keeps Quire syncing in the tray.
    pub keep_in_tray: bool,
    /// Whether Quire starts (in the tray) when the person logs in, on this data folder.
    pub start_at_login: bool,
}
