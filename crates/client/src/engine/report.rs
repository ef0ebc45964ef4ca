//! What a round did ([`SyncReport`]) and what of it the person must hear ([`Notice`]).
//! Notices live here, beside the report they come from, so the background task and the
//! CLI both read them from the engine.

use serde::Serialize;

use super::verify::{CheckOutcome, Verification};
use crate::store::RemoteOutcome;

/// What a round did, for `quire sync` and the status line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SyncReport {
    /// Ops the server applied.
    #[ts(type = "number")]
    pub pushed: u64,
    /// Changes from the server that changed a note here.
    #[ts(type = "number")]
    pub pulled: u64,
    /// Notes changed on both sides whose changes merged cleanly.
    #[ts(type = "number")]
    pub merged: u64,
    /// Notes changed on both sides that now wait for a decision.
    #[ts(type = "number")]
    pub conflicts: u64,
    /// Deleted here but edited elsewhere, or the other way round: the edit won and the
    /// note is back. People are told.
    #[ts(type = "number")]
    pub revived: u64,
    /// Ops the server refused, now in the "needs attention" list.
    #[ts(type = "number")]
    pub set_aside: u64,
    /// Push requests sent.
    #[ts(type = "number")]
    pub batches: u64,
    /// Ops still queued after the round that could have gone (0 when fully pushed).
    #[ts(type = "number")]
    pub pending: u64,
    /// Changes to notes in conflict, kept here until the person decides.
    #[ts(type = "number")]
    pub held: u64,
    /// Request body bytes sent, as they went on the wire (compressed).
    #[ts(type = "number")]
    pub bytes_sent: u64,
    /// Response body bytes received, as they came over the wire (compressed).
    #[ts(type = "number")]
    pub bytes_received: u64,
    /// The server or this store was restored from a backup (or the store copied): the
    /// round pulled everything again and reconciled it with what is here.
    pub caught_up: bool,
    /// Notes whose changes the server could not take because the account is full; they
    /// stay queued here.
    #[ts(type = "number")]
    pub deferred: u64,
    /// Notes whose text from the server failed its encryption check: not applied, kept
    /// apart, fetched again next round.
    #[ts(type = "number")]
    pub unreadable: u64,
    /// Notes the server still held in the clear, left so by a device that upgraded the
    /// account to end-to-end encryption and stopped before sealing them: queued here to go
    /// again, sealed.
    #[ts(type = "number")]
    pub sealed_for_upgrade: u64,
    /// Notes the server handed over in the clear for that, refused: not as the upgrading
    /// device recorded them, or older than this device's copy. Nothing of them was taken.
    #[ts(type = "number")]
    pub unsealed_refused: u64,
    /// Notes deleted forever: by this device (the server told), or by another one (gone
    /// here too).
    #[ts(type = "number")]
    pub purged: u64,
    /// Notes deleted forever on another device while this one had changes to them not yet
    /// sent: those were kept, each as a new note.
    #[ts(type = "number")]
    pub kept_from_purge: u64,
    /// The check of this device against the server after the round, when one ran.
    pub verification: Option<Verification>,
}

impl SyncReport {
    /// What the person must hear about this round, one sentence each; empty for a routine
    /// round. The CLI prints these and the app shows them as notifications.
    pub fn notices(&self) -> Vec<Notice> {
        let notes = |n: u64| {
            if n == 1 {
                "1 note".to_owned()
            } else {
                format!("{n} notes")
            }
        };
        let mut notices = Vec::new();
        if self.conflicts > 0 {
            let verb = if self.conflicts == 1 { "needs" } else { "need" };
            notices.push(Notice {
                kind: NoticeKind::Conflicts,
                text: format!(
                    "{} {verb} your decision: edited on two devices",
                    notes(self.conflicts)
                ),
            });
        }
        if self.revived > 0 {
            notices.push(Notice {
                kind: NoticeKind::Revived,
                text: format!(
                    "{} deleted on one device but edited on another {} back: the edit won",
                    notes(self.revived),
                    if self.revived == 1 { "is" } else { "are" }
                ),
            });
        }
        if self.kept_from_purge > 0 {
            notices.push(Notice {
                kind: NoticeKind::Revived,
                text: if self.kept_from_purge == 1 {
                    "1 note deleted forever on another device had changes here not yet synced: \
                     they are kept as a new note"
                        .to_owned()
                } else {
                    format!(
                        "{} notes deleted forever on another device had changes here not yet \
                         synced: they are kept as new notes",
                        self.kept_from_purge
                    )
                },
            });
        }
        if self.caught_up {
            notices.push(Notice {
                kind: NoticeKind::CaughtUp,
                text: "This device or the server was restored from a backup (or this data \
                       folder was copied): Quire fetched every note again and kept what \
                       only this device had"
                    .to_owned(),
            });
        }
        if self.deferred > 0 {
            notices.push(Notice {
                kind: NoticeKind::Failing,
                text: format!(
                    "Your account on the server is full: changes to {} wait on this device \
                     until notes are shortened or the server allows more",
                    notes(self.deferred)
                ),
            });
        }
        if self.unreadable > 0 {
            notices.push(Notice {
                kind: NoticeKind::NeedsAttention,
                text: format!(
                    "{} from the server failed {} encryption check: changed, or not made on \
                     the text this device has. Nothing of {} was applied; this device keeps \
                     its copy and tries again next sync",
                    notes(self.unreadable),
                    if self.unreadable == 1 { "its" } else { "their" },
                    if self.unreadable == 1 { "it" } else { "them" },
                ),
            });
        }
        if self.unsealed_refused > 0 {
            notices.push(Notice {
                kind: NoticeKind::NeedsAttention,
                text: format!(
                    "{} the server still held unencrypted from before this account's upgrade \
                     did not match what the upgrading device recorded, or is older than this \
                     device's copy: not taken. This device's notes are unchanged",
                    notes(self.unsealed_refused)
                ),
            });
        }
        if let Some(check) = &self.verification {
            notices.extend(check_notices(check, notes));
        }
        if self.set_aside > 0 {
            notices.push(Notice {
                kind: NoticeKind::NeedsAttention,
                text: format!(
                    "{} the server refused {} waiting in \"needs attention\"",
                    if self.set_aside == 1 {
                        "1 change"
                    } else {
                        "changes"
                    },
                    if self.set_aside == 1 { "is" } else { "are" }
                ),
            });
        }
        notices
    }

    /// Adds a later round of the same sync (one that sent what a check queued).
    pub(super) fn then(&mut self, later: &SyncReport) {
        self.pushed += later.pushed;
        self.pulled += later.pulled;
        self.merged += later.merged;
        self.conflicts += later.conflicts;
        self.revived += later.revived;
        self.set_aside += later.set_aside;
        self.batches += later.batches;
        self.pending = later.pending;
        self.held = later.held;
        self.bytes_sent += later.bytes_sent;
        self.bytes_received += later.bytes_received;
        self.caught_up |= later.caught_up;
        self.deferred = later.deferred;
        self.unreadable = later.unreadable;
        self.sealed_for_upgrade += later.sealed_for_upgrade;
        self.unsealed_refused += later.unsealed_refused;
        self.purged += later.purged;
        self.kept_from_purge += later.kept_from_purge;
    }

    pub(super) fn count(&mut self, outcome: RemoteOutcome) {
        match outcome {
            RemoteOutcome::Updated => self.pulled += 1,
            RemoteOutcome::DeleteUndone => {
                self.pulled += 1;
                self.revived += 1;
            }
            RemoteOutcome::Revived => self.revived += 1,
            RemoteOutcome::Merged => self.merged += 1,
            RemoteOutcome::Conflict => self.conflicts += 1,
            RemoteOutcome::Purged => self.purged += 1,
            RemoteOutcome::PurgedKeptCopy => {
                self.purged += 1;
                self.kept_from_purge += 1;
            }
            RemoteOutcome::KeptBeforePurge => self.kept_from_purge += 1,
            // Nothing new here, or a local change that goes out again (counted when applied).
            RemoteOutcome::Unchanged | RemoteOutcome::Overwrite => {}
        }
    }
}

/// What a check that repaired something says, once (the round that made the repair).
fn check_notices(check: &Verification, notes: impl Fn(u64) -> String) -> Vec<Notice> {
    let mut notices = Vec::new();
    if check.repaired > 0 {
        let mut text = format!(
            "{} repaired after a check: this device now holds what the server holds",
            notes(check.repaired)
        );
        if check.kept_copies > 0 {
            text.push_str(&format!(
                "; the text {} had here, which the server never had, is kept as {}",
                if check.repaired == 1 { "it" } else { "they" },
                if check.kept_copies == 1 {
                    "a new note".to_owned()
                } else {
                    format!("{} new notes", check.kept_copies)
                }
            ));
        }
        notices.push(Notice {
            kind: NoticeKind::Repaired,
            text,
        });
    }
    if check.sent_again > 0 {
        notices.push(Notice {
            kind: NoticeKind::Repaired,
            text: format!(
                "The server lacked {} this device holds: sent again",
                notes(check.sent_again)
            ),
        });
    }
    if check.outcome == CheckOutcome::Differs && check.waiting == 0 && check.server_behind > 0 {
        notices.push(Notice {
            kind: NoticeKind::NeedsAttention,
            text: format!(
                "The server holds {} at an older version than this device: it may have been \
                 restored from a backup. This device keeps its copies",
                notes(check.server_behind)
            ),
        });
    }
    notices
}

/// Something the person must hear about (a desktop notification), not routine progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Notice {
    pub kind: NoticeKind,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum NoticeKind {
    /// Notes wait for a decision in the conflict center.
    Conflicts,
    /// A deleted note came back because it was edited elsewhere.
    Revived,
    /// The server refused changes; they wait in "needs attention".
    NeedsAttention,
    /// The session ended.
    SignIn,
    /// Sync fails for a reason that will not pass by itself.
    Failing,
    /// A restored or copied store, or a restored server, was caught up in full.
    CaughtUp,
    /// Closing the window left Quire syncing in the tray (told once).
    InTray,
    /// A check found this device's copy differing from the server's, and repaired it.
    Repaired,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routine_rounds_say_nothing_and_the_rest_is_told_in_plain_words() {
        let routine = SyncReport {
            pushed: 3,
            pulled: 2,
            merged: 1,
            ..SyncReport::default()
        };
        assert!(routine.notices().is_empty());
        let texts = |report: &SyncReport| -> Vec<String> {
            report.notices().into_iter().map(|n| n.text).collect()
        };
        let one_each = SyncReport {
            conflicts: 1,
            revived: 1,
            set_aside: 1,
            ..SyncReport::default()
        };
        assert_eq!(
            texts(&one_each),
            [
                "1 note needs your decision: edited on two devices",
                "1 note deleted on one device but edited on another is back: the edit won",
                "1 change the server refused is waiting in \"needs attention\"",
            ]
        );
        let two = SyncReport {
            conflicts: 2,
            revived: 2,
            set_aside: 2,
            ..SyncReport::default()
        };
        assert_eq!(
            texts(&two),
            [
                "2 notes need your decision: edited on two devices",
                "2 notes deleted on one device but edited on another are back: the edit won",
                "changes the server refused are waiting in \"needs attention\"",
            ]
        );
    }
}
