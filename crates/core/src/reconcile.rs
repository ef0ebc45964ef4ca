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

/// Whether `base` can be a version of the server's note: a base at the server's version
/// must be the server's text, and a base newer than the server's note cannot be. When it
/// is not, the server is not where this device left it (it was restored from an older
/// backup, or the base was damaged) and the base proves nothing about who changed what.
pub fn base_in_history(base: &Base, remote: &NoteState) -> bool {
    base.version < remote.version
        || (base.version == remote.version && same_text(&base.fields, remote))
}

/// Whether two texts are the same note text (titles as the server keeps them: trimmed).
pub fn same_text(fields: &NoteFields, remote: &NoteState) -> bool {
    fields.title.trim() == remote.title.trim() && fields.body == remote.body
}

pub fn reconcile(
    base: Option<&Base>,
    local: &LocalNote,
    remote: &NoteState,
    policy: ConflictPolicy,
) -> Decision {
    if let Some(base) = base {
        if !base_in_history(base, remote) {
            return diverged(local, remote);
        }
        if base.version == remote.version {
            return Decision::KeepLocal;
        }
    }
    if !local.pending {
        return Decision::TakeRemote;
    }
    // Nothing here differs from the base but that an op is queued (the text sent again, as
    // an upgrade's sealed copy is, or edits undone): the server's newer text stands under
    // either policy. Last write wins must not put the old text back over it.
    if !local.deleted && !remote.deleted && base.is_some_and(|b| b.fields == local.fields) {
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
    merge_from(base.map(|b| &b.fields), local, remote)
}

/// The device's base is not in the server's history, so it cannot tell whose change is
/// whose: nothing is merged against it and nothing either side wrote is dropped. Equal
/// texts settle it; an edit beats a delete as always; different texts go to the person.
fn diverged(local: &LocalNote, remote: &NoteState) -> Decision {
    match (local.deleted, remote.deleted) {
        (true, false) if local.pending => Decision::UndoLocalDelete,
        (true, _) => Decision::TakeRemote,
        // The text here goes back on top of the server's tombstone.
        (false, true) => Decision::Merged {
            fields: local.fields.clone(),
        },
        (false, false) if same_text(&local.fields, remote) => Decision::TakeRemote,
        // Never settled by last-write-wins: this is no ordinary concurrent edit.
        (false, false) => merge_from(None, local, remote),
    }
}

/// A three-way merge of the local and remote texts from `base` (nothing, when `None`).
fn merge_from(base: Option<&NoteFields>, local: &LocalNote, remote: &NoteState) -> Decision {
    let empty = NoteFields::new("", "");
    let base_fields = base.unwrap_or(&empty);
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
            sealed: None,
            purged: false,
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
    fn a_change_this_device_knows_already_is_ignored() {
        let d = reconcile(
            Some(&base("t", "known\n", 3)),
            &local("t", "mine\n", true),
            &remote("t", "known\n", 3),
            MERGE,
        );
        assert_eq!(d, Decision::KeepLocal);
    }

    /// The case: the server was restored to version 1 and another device made a
    /// new version 2; this device's base is its own, lost, version 2.
    #[test]
    fn a_base_the_server_does_not_have_merges_nothing_and_keeps_both_texts() {
        let lost_base = base("List", "- [ ] milk\n- [ ] eggs\n", 2);
        let theirs = remote("List", "- [x] milk\n- [ ] eggs\n", 2);
        for policy in [MERGE, ConflictPolicy::Lww] {
            let d = reconcile(
                Some(&lost_base),
                &local("List", "- [ ] milk\n- [ ] eggs\n- [ ] tea\n", true),
                &theirs,
                policy,
            );
            assert!(matches!(d, Decision::Conflict { .. }), "{d:?}");
            // Even with nothing queued here, this device's text is not dropped.
            let d = reconcile(
                Some(&lost_base),
                &local("List", "- [ ] milk\n- [ ] eggs\n", false),
                &theirs,
                policy,
            );
            assert!(matches!(d, Decision::Conflict { .. }), "{d:?}");
        }
        assert!(!base_in_history(&lost_base, &theirs));
    }

    #[test]
    fn a_server_behind_this_device_gets_its_text_back_or_a_decision() {
        let ahead = base("t", "v3\n", 3);
        // The server lost versions 2 and 3 and nobody wrote since: same text, nothing to do.
        assert_eq!(
            reconcile(
                Some(&ahead),
                &local("t", "v1\n", false),
                &remote("t", "v1\n", 1),
                MERGE
            ),
            Decision::TakeRemote
        );
        let d = reconcile(
            Some(&ahead),
            &local("t", "v3\n", false),
            &remote("t", "v1\n", 1),
            MERGE,
        );
        assert!(matches!(d, Decision::Conflict { .. }), "{d:?}");
        // Deleted there: the text here goes back.
        let mut tombstone = remote("t", "v1\n", 1);
        tombstone.deleted = true;
        assert_eq!(
            reconcile(Some(&ahead), &local("t", "v3\n", false), &tombstone, MERGE),
            Decision::Merged {
                fields: NoteFields::new("t", "v3\n")
            }
        );
        // Equal texts at the base's version are simply known.
        assert!(base_in_history(&base("t ", "x", 2), &remote("t", "x", 2)));
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

    /// An op that sends the base's text again (an upgrade's sealed copy, or edits undone)
    /// changes nothing: a newer text on the server stands, under last write wins too.
    #[test]
    fn a_queued_op_that_changes_nothing_yields_to_a_newer_text() {
        for policy in [MERGE, ConflictPolicy::Lww] {
            let d = reconcile(
                Some(&base("t", "1\n", 1)),
                &local("t", "1\n", true),
                &remote("t", "edited elsewhere\n", 2),
                policy,
            );
            assert_eq!(d, Decision::TakeRemote, "{policy:?}");
        }
        // A text of its own still goes on top, as before.
        let d = reconcile(
            Some(&base("t", "1\n", 1)),
            &local("t", "1\nmore\n", true),
            &remote("t", "edited elsewhere\n", 2),
            ConflictPolicy::Lww,
        );
        assert_eq!(d, Decision::PushLastWriteWins);
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
