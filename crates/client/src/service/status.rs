//! What the background sync task tells the people and front ends watching it.

use serde::Serialize;

use crate::engine::SyncReport;
use crate::ErrorCode;

/// The state a status line, tray icon and tooltip show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SyncState {
    /// No sync server is set up: notes stay on this device.
    LocalOnly,
    /// Up to date as of the last round; the next comes on a timer or a change.
    Idle,
    Syncing,
    /// The server cannot be reached; retrying with backoff and when the network changes.
    Offline,
    /// Sync is paused by the person.
    Paused,
    /// The session ended: sign in again. The queue is kept.
    SignInNeeded,
    /// The last round failed for another reason; retrying with backoff.
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct StatusError {
    pub code: ErrorCode,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SyncStatus {
    pub state: SyncState,
    /// Changes waiting to go to the server.
    #[ts(type = "number")]
    pub pending: u64,
    #[ts(type = "number")]
    pub conflicts: u64,
    #[ts(type = "number")]
    pub needs_attention: u64,
    /// When the last full round finished (ms since the epoch).
    #[ts(type = "number | null")]
    pub last_sync_at: Option<i64>,
    /// When a check last found this device holding exactly what the server holds (ms since
    /// the epoch).
    #[ts(type = "number | null")]
    pub last_verified_at: Option<i64>,
    /// When the next retry is due after a failure (ms since the epoch).
    #[ts(type = "number | null")]
    pub next_attempt_at: Option<i64>,
    /// Why the last round failed, when it did.
    pub error: Option<StatusError>,
    /// What the last successful round did.
    pub last_report: Option<SyncReport>,
}

impl Default for SyncStatus {
    fn default() -> Self {
        Self {
            state: SyncState::LocalOnly,
            pending: 0,
            conflicts: 0,
            needs_attention: 0,
            last_sync_at: None,
            last_verified_at: None,
            next_attempt_at: None,
            error: None,
            last_report: None,
        }
    }
}

impl SyncStatus {
    /// One line for a tray tooltip: the state and what is waiting.
    pub fn summary(&self) -> String {
        let state = match self.state {
            SyncState::LocalOnly => "Not syncing (no server set up)",
            SyncState::Idle => "Up to date",
            SyncState::Syncing => "Syncing…",
            SyncState::Offline => "Offline",
            SyncState::Paused => "Sync paused",
            SyncState::SignInNeeded => "Sign in to sync",
            SyncState::Error => "Sync failed",
        };
        let mut parts = vec![state.to_owned()];
        if self.pending > 0 {
            parts.push(format!("{} pending", self.pending));
        }
        if self.conflicts > 0 {
            parts.push(format!("{} to decide", self.conflicts));
        }
        if self.needs_attention > 0 {
            parts.push(format!("{} need attention", self.needs_attention));
        }
        parts.join(" · ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tooltip_says_the_state_and_what_waits() {
        let mut status = SyncStatus {
            state: SyncState::Offline,
            pending: 3,
            ..SyncStatus::default()
        };
        assert_eq!(status.summary(), "Offline · 3 pending");
        status.state = SyncState::Idle;
        status.pending = 0;
        assert_eq!(status.summary(), "Up to date");
        status.conflicts = 2;
        status.needs_attention = 1;
        assert_eq!(
            status.summary(),
            "Up to date · 2 to decide · 1 need attention"
        );
    }
}
