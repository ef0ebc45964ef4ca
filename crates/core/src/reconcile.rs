//! What a device does when the server's version of a note meets its own (PRODUCT.md,
//! "Conflicts"). Pure: the sync engine gathers the three texts and applies the decision.
//!
//! Terms: *base* is the last text this device knows the server had; *local* is the note
//! here now, with `pending` changes not yet on the server or not; *remote* is the server's.

use crate::merge::{merge3, Hunk};
use crate::note::NoteFields;
use crate::protocol::NoteState;
use crate::settings::ConflictPolicy;
use crate::Version;

/// The device's side of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalNote {
    pub fields: NoteFields,
    pub deleted: bool,
    /// Whether changes to it wait in the outbox.
    pub pending: bool,
}

/// The last text both sides agreed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base {
    pub fields: NoteFields,
    pub version: Version,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Nothing changed here: the note becomes the server's (including a deletion).
    TakeRemote,
    /// The server has nothing newer than what this device built on: nothing to do.
    KeepLocal,
    /// Both changed it and the changes merge: the note becomes `fields`, pushed as an
    /// update on top of the remote version.
    Merged { fields: NoteFields },
    /// Both changed it and the changes overlap: the local text stays, a conflict is
    /// recorded for the person, whose resolution is pushed on top of the remote version.
    Conflict {
        title: TitleConflict,
        body: Vec<Hunk>,
    },
    /// Last write wins: push the local text with the LWW flag; the server's time decides
    /// and keeps the text it replaces in its history.
    PushLastWriteWins,
    /// Edited here, deleted there: the edit wins and the note comes back, pushed as an
    /// update on top of the tombstone. The person is told.
    ReviveLocalEdit,
    /// Deleted here, edited there: the edit wins, the note becomes the server's again and
    /// the local delete is dropped. The person is told.
    UndoLocalDelete,
}

/// How the titles relate when the bodies conflict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TitleConflict {
    /// One title both sides can live with.
    Agreed(String),
    Differs {
        ours: String,
        theirs: String,
    },
}

/// Three-way choice for a single-line value: one side's change, the shared change, or none.
fn merge_title(base: &str, ours: &str, theirs: &str) -> Option<String> {
    if ours == theirs || theirs == base {
        Some(ours.to_owned())
    } else if ours == base {
        Some(theirs.to_owned())
    } else {
        None
    }
}

pub fn reconcile(
    base: Option<&Base>,
    local: &LocalNote,
    remote: &NoteState,
    policy: ConflictPolicy,
) -> Decision {
    if base.is_some_and(|b| b.version >= remote.version) {
        return Decision::KeepLocal;
    }
    if !local.pending {
        return Decision::TakeRemote;
    }
    match (local.deleted, remote.deleted) {
        (true, true) => return Decision::TakeRemote,
        (false, true) => return Decision::ReviveLocalEdit,
        (true, false) => return Decision::UndoLocalDelete,
        (false, false) => {}
    }
    if policy == ConflictPolicy::Lww {
        return Decision::PushLastWriteWins;
    }
    // A note created on two devices with one id has no base: merge against nothing.
    let empty = NoteFields::new("", "");
    let base_fields = base.map_or(&empty, |b| &b.fields);
    let title = merge_title(&base_fields.title, &local.fields.title, &remote.title);
    let body = merge3(&base_fields.body, &local.fields.body, &remote.body);
    match (title, body.clean()) {
        (Some(title), Some(body)) => Decision::Merged {
            fields: NoteFields { title, body },
        },
        (title, _) => Decision::Conflict {
            title: title.map_or_else(
                || TitleConflict::Differs {
                    ours: local.fields.title.clone(),
                    theirs: remote.title.clone(),
                },
                TitleConflict::Agreed,
            ),
            body: body.hunks,
        },
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::{Millis, NoteId};

    fn base(title: &str, body: &str, version: u64) -> Base {
        Base {
            fields: NoteFields::new(title, body),
            version: Version(version),
        }
    }

    fn local(title: &str, body: &str, pending: bool) -> LocalNote {
        LocalNote {
            fields: NoteFields::new(title, body),
            deleted: false,
            pending,
        }
    }

    fn remote(title: &str, body: &str, version: u64) -> NoteState {
        NoteState {
            id: NoteId(Uuid::nil()),
            title: title.to_owned(),
            body: body.to_owned(),
            version: Version(version),
            deleted: false,
            updated_at: Millis(0),
        }
    }

    const MERGE: ConflictPolicy = ConflictPolicy::Merge;

    #[test]
    fn an_untouched_note_takes_the_servers_text() {
        let d = reconcile(
            Some(&base("t", "a\n", 1)),
            &local("t", "a\n", false),
            &remote("t", "b\n", 2),
            MERGE,
        );
        assert_eq!(d, Decision::TakeRemote);
    }

    #[test]
    fn an_old_change_from_the_server_is_ignored() {
        let d = reconcile(
            Some(&base("t", "a\n", 3)),
            &local("t", "mine\n", true),
            &remote("t", "old\n", 3),
            MERGE,
        );
        assert_eq!(d, Decision::KeepLocal);
    }

    #[test]
    fn edits_on_different_lines_merge() {
        let d = reconcile(
            Some(&base("t", "1\n2\n3\n", 1)),
            &local("t", "one\n2\n3\n", true),
            &remote("T", "1\n2\nthree\n", 2),
            MERGE,
        );
        assert_eq!(
            d,
            Decision::Merged {
                fields: NoteFields::new("T", "one\n2\nthree\n")
            }
        );
    }

    #[test]
    fn overlapping_edits_conflict_and_keep_both_texts() {
        let d = reconcile(
            Some(&base("t", "1\n2\n", 1)),
            &local("mine", "1\nours\n", true),
            &remote("theirs", "1\ntheirs\n", 2),
            MERGE,
        );
        let Decision::Conflict { title, body } = d else {
            panic!("expected a conflict: {d:?}")
        };
        assert_eq!(
            title,
            TitleConflict::Differs {
                ours: "mine".into(),
                theirs: "theirs".into()
            }
        );
        assert!(body.contains(&Hunk::Conflict {
            base: "2\n".into(),
            ours: "ours\n".into(),
            theirs: "theirs\n".into()
        }));
    }

    #[test]
    fn a_title_change_on_one_side_survives_a_body_conflict() {
        let d = reconcile(
            Some(&base("t", "x\n", 1)),
            &local("renamed", "ours\n", true),
            &remote("t", "theirs\n", 2),
            MERGE,
        );
        let Decision::Conflict { title, .. } = d else {
            panic!("expected a conflict: {d:?}")
        };
        assert_eq!(title, TitleConflict::Agreed("renamed".into()));
    }

    #[test]
    fn edit_versus_delete_keeps_the_edit_either_way() {
        let mut deleted_remote = remote("t", "a\n", 2);
        deleted_remote.deleted = true;
        let d = reconcile(
            Some(&base("t", "a\n", 1)),
            &local("t", "edited\n", true),
            &deleted_remote,
            MERGE,
        );
        assert_eq!(d, Decision::ReviveLocalEdit);

        let mut deleted_here = local("t", "a\n", true);
        deleted_here.deleted = true;
        let d = reconcile(
            Some(&base("t", "a\n", 1)),
            &deleted_here,
            &remote("t", "edited\n", 2),
            MERGE,
        );
        assert_eq!(d, Decision::UndoLocalDelete);

        // Deleted on both sides: nothing to argue about.
        let d = reconcile(
            Some(&base("t", "a\n", 1)),
            &deleted_here,
            &deleted_remote,
            MERGE,
        );
        assert_eq!(d, Decision::TakeRemote);
    }

    #[test]
    fn last_write_wins_pushes_instead_of_merging() {
        let d = reconcile(
            Some(&base("t", "1\n", 1)),
            &local("t", "ours\n", true),
            &remote("t", "theirs\n", 2),
            ConflictPolicy::Lww,
        );
        assert_eq!(d, Decision::PushLastWriteWins);
    }

    #[test]
    fn a_note_made_on_two_devices_with_one_id_merges_against_nothing() {
        let same = reconcile(
            None,
            &local("t", "same\n", true),
            &remote("t", "same\n", 1),
            MERGE,
        );
        assert_eq!(
            same,
            Decision::Merged {
                fields: NoteFields::new("t", "same\n")
            }
        );
        let differs = reconcile(
            None,
            &local("a", "x\n", true),
            &remote("b", "y\n", 1),
            MERGE,
        );
        assert!(matches!(differs, Decision::Conflict { .. }));
    }
}
