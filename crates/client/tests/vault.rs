//! The vault folder with real files in temp dirs: passes in both directions, outside edits
//! as ops, no echoes, merges and conflicts, bad files, and the notify watcher.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::device;
use quire_client::store::NoteEdit;
use quire_client::vault::{self, sync_folder};
use quire_core::{Note, NoteFields};

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name != ".quire-vault")
        .collect();
    names.sort();
    names
}

/// A device with one note, mirrored into a new folder.
async fn note_in_folder(title: &str, body: &str) -> (common::Device, tempfile::TempDir, Note) {
    let d = device().await;
    let folder = tempfile::tempdir().unwrap();
    let note = d
        .store
        .create_note(NoteFields::new(title, body))
        .await
        .unwrap();
    sync_folder(&d.store, folder.path()).await.unwrap();
    (d, folder, note)
}

#[tokio::test]
async fn notes_become_files_and_a_second_pass_changes_nothing() {
    let d = device().await;
    let folder = tempfile::tempdir().unwrap();
    let plan = d
        .store
        .create_note(NoteFields::new("Plan", "step one\n"))
        .await
        .unwrap();
    d.store
        .create_note(NoteFields::new("../../etc/x", "not a path\n"))
        .await
        .unwrap();
    d.store
        .create_note(NoteFields::new("plan", "same name, other case\n"))
        .await
        .unwrap();

    let report = sync_folder(&d.store, folder.path()).await.unwrap();
    assert_eq!(report.written, 3);
    assert_eq!(names(folder.path()), ["Plan.md", "etc x.md", "plan (2).md"]);
    let text = read(folder.path(), "Plan.md");
    assert!(
        text.starts_with(&format!(
            "---\nquire-id: {}\ntitle: \"Plan\"\n---\n",
            plan.id
        )),
        "{text}"
    );
    assert!(text.ends_with("step one\n"));

    let pending = d.store.pending_count().await.unwrap();
    // A file's stamp tells later writes apart once a clock tick has passed since it was
    // written (50 ms allowed for); read then, it is not read again until it changes.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let again = sync_folder(&d.store, folder.path()).await.unwrap();
    assert_eq!(
        again,
        vault::VaultReport {
            files_read: 3,
            ..vault::VaultReport::default()
        },
        "our own files are not changes (read once more, as they were just written)"
    );
    let settled = sync_folder(&d.store, folder.path()).await.unwrap();
    assert_eq!(
        settled,
        vault::VaultReport::default(),
        "files unchanged since they were read are not read again"
    );
    assert_eq!(
        d.store.pending_count().await.unwrap(),
        pending,
        "no echo ops"
    );
}

#[tokio::test]
async fn outside_creates_edits_renames_and_deletes_become_ops() {
    let (d, folder, note) = note_in_folder("Plan", "one\n").await;
    let before = d.store.pending_ops(1000).await.unwrap().len();

    // Another editor: a new file, an edit, a rename.
    std::fs::write(folder.path().join("Ideas.md"), "written elsewhere\n").unwrap();
    let edited = read(folder.path(), "Plan.md").replace("one\n", "one\ntwo\n");
    std::fs::write(folder.path().join("Plan.md"), edited).unwrap();
    let report = sync_folder(&d.store, folder.path()).await.unwrap();
    assert_eq!((report.created, report.updated), (1, 1), "{report:?}");
    assert_eq!(d.store.note(note.id).await.unwrap().body, "one\ntwo\n");
    let ideas = d
        .store
        .list_notes()
        .await
        .unwrap()
        .into_iter()
        .find(|n| n.title == "Ideas")
        .unwrap();
    assert_eq!(
        read(folder.path(), "Ideas.md"),
        "written elsewhere\n",
        "a file taken in is left as it was"
    );
    assert_eq!(
        d.store.note(ideas.id).await.unwrap().body,
        "written elsewhere\n"
    );
    assert!(
        d.store.pending_ops(1000).await.unwrap().len() > before,
        "outside changes are queued ops"
    );

    std::fs::rename(
        folder.path().join("Plan.md"),
        folder.path().join("Plan for May.md"),
    )
    .unwrap();
    let report = sync_folder(&d.store, folder.path()).await.unwrap();
    assert_eq!(report.updated, 1, "{report:?}");
    let renamed = d.store.note(note.id).await.unwrap();
    assert_eq!(
        (renamed.title.as_str(), renamed.body.as_str()),
        ("Plan for May", "one\ntwo\n"),
        "same note, new title"
    );

    std::fs::remove_file(folder.path().join("Plan for May.md")).unwrap();
    let report = sync_folder(&d.store, folder.path()).await.unwrap();
    assert_eq!(report.deleted, 1);
    assert!(d.store.note(note.id).await.unwrap().deleted);
}

#[tokio::test]
async fn app_edits_are_written_out_and_renames_move_the_file() {
    let (d, folder, note) = note_in_folder("Draft", "a\n").await;
    d.store
        .update_note(
            note.id,
            NoteEdit {
                title: Some("Final".into()),
                body: Some("a\nb\n".into()),
            },
        )
        .await
        .unwrap();
    let report = sync_folder(&d.store, folder.path()).await.unwrap();
    assert_eq!((report.written, report.updated), (1, 0));
    assert_eq!(names(folder.path()), ["Final.md"]);
    assert!(read(folder.path(), "Final.md").ends_with("a\nb\n"));
    d.store.delete_note(note.id).await.unwrap();
    sync_folder(&d.store, folder.path()).await.unwrap();
    assert!(
        names(folder.path()).is_empty(),
        "a deleted note's file goes"
    );
}

#[tokio::test]
async fn a_restored_note_gets_its_file_back_and_a_purged_one_stays_gone() {
    let (d, folder, note) = note_in_folder("Diary", "day one\n").await;
    let other = d
        .store
        .create_note(NoteFields::new("Receipts", "none\n"))
        .await
        .unwrap();
    sync_folder(&d.store, folder.path()).await.unwrap();
    assert_eq!(names(folder.path()), ["Diary.md", "Receipts.md"]);
    for id in [note.id, other.id] {
        d.store.delete_note(id).await.unwrap();
    }
    sync_folder(&d.store, folder.path()).await.unwrap();
    assert!(names(folder.path()).is_empty());

    d.store.restore_note(note.id).await.unwrap();
    d.store.purge_note(other.id).await.unwrap();
    let report = sync_folder(&d.store, folder.path()).await.unwrap();
    assert_eq!(report.written, 1, "{report:?}");
    assert_eq!(names(folder.path()), ["Diary.md"]);
    assert!(read(folder.path(), "Diary.md").ends_with("day one\n"));
    // Passes after that leave it so: the purged note's stub writes nothing.
    let again = sync_folder(&d.store, folder.path()).await.unwrap();
    assert_eq!((again.written, again.updated), (0, 0));
    assert_eq!(names(folder.path()), ["Diary.md"]);

    // Purged while its file was still there (never deleted in the folder): the file goes.
    d.store.delete_note(note.id).await.unwrap();
    d.store.purge_note(note.id).await.unwrap();
    sync_folder(&d.store, folder.path()).await.unwrap();
    assert!(names(folder.path()).is_empty());
}

#[tokio::test]
async fn a_file_edit_and_an_app_edit_merge_or_conflict_like_two_devices() {
    let (d, folder, note) = note_in_folder("Plan", "1\n2\n3\n").await;

    // Different lines: merged.
    d.store
        .update_note(note.id, NoteEdit::body("1 app\n2\n3\n"))
        .await
        .unwrap();
    // (Whole lines, so the id in the front matter is never touched.)
    let file = read(folder.path(), "Plan.md").replace("\n3\n", "\n3 file\n");
    std::fs::write(folder.path().join("Plan.md"), file).unwrap();
    let report = sync_folder(&d.store, folder.path()).await.unwrap();
    assert_eq!(report.merged, 1, "{report:?}");
    assert_eq!(
        d.store.note(note.id).await.unwrap().body,
        "1 app\n2\n3 file\n"
    );
    assert!(read(folder.path(), "Plan.md").ends_with("1 app\n2\n3 file\n"));

    // The same line: a conflict; the app's text stays, the file's waits for a decision.
    d.store
        .update_note(note.id, NoteEdit::body("1 app\n2 app\n3 file\n"))
        .await
        .unwrap();
    let file = read(folder.path(), "Plan.md").replace("\n2\n", "\n2 file\n");
    std::fs::write(folder.path().join("Plan.md"), file).unwrap();
    let report = sync_folder(&d.store, folder.path()).await.unwrap();
    assert_eq!(report.conflicts, 1, "{report:?}");
    let conflict = d.store.conflict(note.id).await.unwrap();
    assert_eq!(conflict.mine.body, "1 app\n2 app\n3 file\n");
    assert_eq!(conflict.theirs.body, "1 app\n2 file\n3 file\n");
    assert!(conflict.from_file);
    assert!(
        read(folder.path(), "Plan.md").ends_with("1 app\n2 app\n3 file\n"),
        "the file shows the kept text"
    );

    // Taking the file's side is an edit like any other.
    d.store
        .resolve_conflict(note.id, quire_client::store::Resolution::Theirs)
        .await
        .unwrap();
    assert_eq!(
        d.store.note(note.id).await.unwrap().body,
        "1 app\n2 file\n3 file\n"
    );
    let queued = d.store.pending_ops(100).await.unwrap();
    assert_eq!(queued.len(), 1, "folded into the unsent create");
}

#[tokio::test]
async fn bad_files_are_reported_and_hold_nothing_up() {
    let d = device().await;
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("Latin1.md"), b"caf\xe9\n").unwrap();
    std::fs::write(folder.path().join("Huge.md"), vec![b'x'; 9 * 1024 * 1024]).unwrap();
    std::fs::write(folder.path().join(".Plan.md.swp"), b"swap").unwrap();
    std::fs::write(folder.path().join("Plan.md~"), b"backup").unwrap();
    std::fs::write(folder.path().join("Good.md"), "fine\n").unwrap();

    let report = sync_folder(&d.store, folder.path()).await.unwrap();
    assert_eq!(report.created, 1);
    let mut problems: Vec<(String, String)> = report
        .problems
        .into_iter()
        .map(|p| (p.file, p.reason))
        .collect();
    problems.sort();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert_eq!(problems[0].0, "Huge.md");
    assert!(problems[0].1.contains("at most"), "{problems:?}");
    assert_eq!(problems[1].0, "Latin1.md");
    assert!(
        problems[1].1.contains("not UTF-8 text (at byte 3)"),
        "{problems:?}"
    );
    assert_eq!(
        std::fs::read(folder.path().join("Latin1.md")).unwrap(),
        b"caf\xe9\n",
        "left as it was"
    );
    assert_eq!(
        d.store.list_notes().await.unwrap().len(),
        1,
        "only the good file became a note"
    );
}

/// Edits the note in the app, runs a pass, and a second one that must change nothing: no
/// file written, no op queued, the same problems told. Returns the first pass's report.
async fn edit_and_pass_twice(d: &common::Device, folder: &Path, note: &Note) -> vault::VaultReport {
    d.store
        .update_note(note.id, NoteEdit::body("edited in the app\n"))
        .await
        .unwrap();
    let report = sync_folder(&d.store, folder).await.unwrap();
    let files = names(folder);
    let pending = d.store.pending_count().await.unwrap();
    let again = sync_folder(&d.store, folder).await.unwrap();
    assert_eq!(
        again,
        vault::VaultReport {
            problems: report.problems.clone(),
            files_read: again.files_read,
            ..vault::VaultReport::default()
        },
        "the second pass changes nothing and says the same"
    );
    assert_eq!(names(folder), files, "no new file on the second pass");
    assert_eq!(
        d.store.pending_count().await.unwrap(),
        pending,
        "no echo ops"
    );
    let kept = d.store.note(note.id).await.unwrap();
    assert!(!kept.deleted, "the note stays");
    assert_eq!(kept.body, "edited in the app\n");
    report
}

/// The one problem in `report`, about `file`, says the note's text went to `beside`.
fn assert_told_beside(report: &vault::VaultReport, file: &str, why: &str, beside: &str) {
    assert_eq!(report.problems.len(), 1, "{report:?}");
    let problem = &report.problems[0];
    assert_eq!(problem.file, file);
    for words in [
        why,
        "left it as it is",
        &format!("'{beside}'"),
        "both texts are kept",
    ] {
        assert!(problem.reason.contains(words), "{words:?} in {problem:?}");
    }
}

/// The note's text, with its id, is in `name`.
fn assert_note_in(folder: &Path, name: &str, note: &Note) {
    let text = read(folder, name);
    assert!(text.contains(&format!("quire-id: {}", note.id)), "{text}");
    assert!(text.ends_with("edited in the app\n"), "{text}");
}

#[tokio::test]
async fn a_file_that_is_not_utf8_is_never_written_over_and_the_note_goes_beside_it() {
    let (d, folder, note) = note_in_folder("Groceries", "milk\n").await;
    // Saved in Latin-1 by another editor: the front matter (and the id) is still there.
    let mut bytes = read(folder.path(), "Groceries.md")
        .replace("milk\n", "")
        .into_bytes();
    bytes.extend_from_slice(b"caf\xe9\n");
    std::fs::write(folder.path().join("Groceries.md"), &bytes).unwrap();

    let report = edit_and_pass_twice(&d, folder.path(), &note).await;
    assert_eq!(
        std::fs::read(folder.path().join("Groceries.md")).unwrap(),
        bytes,
        "byte for byte as it was"
    );
    assert_eq!(names(folder.path()), ["Groceries (2).md", "Groceries.md"]);
    assert_note_in(folder.path(), "Groceries (2).md", &note);
    assert_told_beside(
        &report,
        "Groceries.md",
        "not UTF-8 text",
        "Groceries (2).md",
    );
}

#[tokio::test]
async fn a_file_over_the_size_limit_is_never_written_over_and_the_note_goes_beside_it() {
    let (d, folder, note) = note_in_folder("Log", "short\n").await;
    // No front matter at all: it is the note's file by its name.
    let huge = vec![b'x'; 9 * 1024 * 1024];
    std::fs::write(folder.path().join("Log.md"), &huge).unwrap();

    let report = edit_and_pass_twice(&d, folder.path(), &note).await;
    assert!(
        std::fs::read(folder.path().join("Log.md")).unwrap() == huge,
        "the large file was changed"
    );
    assert_eq!(names(folder.path()), ["Log (2).md", "Log.md"]);
    assert_note_in(folder.path(), "Log (2).md", &note);
    assert_told_beside(&report, "Log.md", "notes are at most", "Log (2).md");
}

#[cfg(unix)]
fn assert_link(path: &Path, target: &Path) {
    let meta = std::fs::symlink_metadata(path).unwrap();
    assert!(
        meta.file_type().is_symlink(),
        "{} is still a link",
        path.display()
    );
    assert_eq!(std::fs::read_link(path).unwrap(), target);
}

#[cfg(unix)]
#[tokio::test]
async fn a_symlink_named_like_a_note_is_never_replaced_or_written_through() {
    let (d, folder, note) = note_in_folder("Plan", "one\n").await;
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("shared.md");
    std::fs::write(&target, "kept outside\n").unwrap();
    let link = folder.path().join("Plan.md");
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink(&target, &link).unwrap();

    let report = edit_and_pass_twice(&d, folder.path(), &note).await;
    assert_link(&link, &target);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "kept outside\n");
    assert_eq!(names(folder.path()), ["Plan (2).md", "Plan.md"]);
    assert_note_in(folder.path(), "Plan (2).md", &note);
    assert_told_beside(&report, "Plan.md", "symbolic link", "Plan (2).md");
    assert_eq!(
        d.store.list_notes().await.unwrap().len(),
        1,
        "the link was not read as a note"
    );

    // Deleting the note removes its own file, never the link.
    d.store.delete_note(note.id).await.unwrap();
    sync_folder(&d.store, folder.path()).await.unwrap();
    assert_eq!(names(folder.path()), ["Plan.md"]);
    assert_link(&link, &target);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "kept outside\n");
}

#[cfg(unix)]
#[tokio::test]
async fn a_dangling_symlink_named_like_a_note_is_never_replaced_or_written_through() {
    let (d, folder, note) = note_in_folder("Plan", "one\n").await;
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("not yet.md");
    let link = folder.path().join("Plan.md");
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink(&target, &link).unwrap();

    let report = edit_and_pass_twice(&d, folder.path(), &note).await;
    assert_link(&link, &target);
    assert!(!target.exists(), "nothing was written through the link");
    assert_note_in(folder.path(), "Plan (2).md", &note);
    assert_told_beside(&report, "Plan.md", "symbolic link", "Plan (2).md");
}

#[cfg(unix)]
#[tokio::test]
async fn a_new_note_never_takes_a_symlinks_name_and_linked_files_are_not_read() {
    let d = device().await;
    let folder = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.md"), "private\n").unwrap();
    let link = folder.path().join("Ideas.md");
    std::os::unix::fs::symlink(outside.path().join("secret.md"), &link).unwrap();
    let dir_link = folder.path().join("Shelf.md");
    std::os::unix::fs::symlink(outside.path(), &dir_link).unwrap();
    d.store
        .create_note(NoteFields::new("Ideas", "mine\n"))
        .await
        .unwrap();

    let report = sync_folder(&d.store, folder.path()).await.unwrap();
    assert_eq!(report.created, 0, "a link is not taken in: {report:?}");
    assert_link(&link, &outside.path().join("secret.md"));
    assert_link(&dir_link, outside.path());
    assert_eq!(
        std::fs::read_to_string(outside.path().join("secret.md")).unwrap(),
        "private\n"
    );
    assert!(read(folder.path(), "Ideas (2).md").ends_with("mine\n"));
    let told: Vec<&str> = report.problems.iter().map(|p| p.file.as_str()).collect();
    assert_eq!(
        told,
        ["Ideas.md", "Shelf.md"],
        "each link told once: {report:?}"
    );
    let again = sync_folder(&d.store, folder.path()).await.unwrap();
    assert_eq!((again.written, again.problems), (0, report.problems));
}

#[tokio::test]
async fn a_folder_that_disappears_is_an_error_and_deletes_nothing() {
    let (d, folder, note) = note_in_folder("Keep", "me\n").await;
    let path = folder.path().to_path_buf();
    drop(folder);
    let err = sync_folder(&d.store, &path).await.unwrap_err();
    assert!(
        err.to_string().starts_with("cannot use the vault folder"),
        "{err}"
    );
    assert!(!d.store.note(note.id).await.unwrap().deleted);
}

/// Waits up to 10 s for `check` to hold.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn the_watcher_takes_in_editor_saves_and_never_echoes_its_own_writes() {
    let common::Device {
        dir: _dir,
        store,
        secrets: _secrets,
    } = device().await;
    let store = Arc::new(store);
    let folder = tempfile::tempdir().unwrap();
    let note = store
        .create_note(NoteFields::new("Plan", "one\n"))
        .await
        .unwrap();
    let passes = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = Arc::clone(&passes);
    let (watcher, _task) = vault::watch::spawn(
        Arc::clone(&store),
        folder.path().to_path_buf(),
        move |pass| {
            seen.lock().unwrap().push(match pass {
                Ok(report) => Ok(report.clone()),
                Err(err) => Err(err.to_string()),
            });
        },
        |_| {},
    );
    eventually("the first pass", async || {
        folder.path().join("Plan.md").exists()
    })
    .await;

    // An editor's atomic save: write a temp file, rename it over the note's file.
    let edited = read(folder.path(), "Plan.md").replace("one\n", "one\nfrom vim\n");
    std::fs::write(folder.path().join(".Plan.md.tmp"), edited).unwrap();
    std::fs::rename(
        folder.path().join(".Plan.md.tmp"),
        folder.path().join("Plan.md"),
    )
    .unwrap();
    eventually("the edit", async || {
        store.note(note.id).await.unwrap().body == "one\nfrom vim\n"
    })
    .await;

    // A file made by another program.
    std::fs::write(folder.path().join("New.md"), "hello\n").unwrap();
    eventually("the new note", async || {
        store.list_notes().await.unwrap().len() == 2
    })
    .await;

    // An app edit goes out on a nudge; the write it makes comes back as no change.
    store
        .update_note(note.id, NoteEdit::body("app text\n"))
        .await
        .unwrap();
    watcher.nudge();
    eventually("the file to follow", async || {
        read(folder.path(), "Plan.md").ends_with("app text\n")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let ops = store.pending_ops(100).await.unwrap();
    let plan_ops: Vec<_> = ops.iter().filter(|q| q.op.note_id == note.id).collect();
    assert_eq!(
        plan_ops.len(),
        1,
        "edits fold into the one unsent create; no echo: {plan_ops:?}"
    );
    assert_eq!(store.note(note.id).await.unwrap().body, "app text\n");
    let passes = passes.lock().unwrap();
    assert!(passes.iter().all(Result::is_ok), "{passes:?}");
    let last = passes.last().unwrap().as_ref().unwrap();
    assert!(
        !last.took_changes(),
        "the last pass found nothing new: {last:?}"
    );
}

#[tokio::test]
async fn the_watcher_keeps_going_when_the_folder_goes_away_and_comes_back() {
    let common::Device {
        dir: _dir,
        store,
        secrets: _secrets,
    } = device().await;
    let store = Arc::new(store);
    let root = tempfile::tempdir().unwrap();
    let folder = root.path().join("Notes");
    std::fs::create_dir(&folder).unwrap();
    store
        .create_note(NoteFields::new("Kept", "safe\n"))
        .await
        .unwrap();
    let errors = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = Arc::clone(&errors);
    let (_watcher, _task) = vault::watch::spawn(
        Arc::clone(&store),
        folder.clone(),
        move |pass| {
            if let Err(err) = pass {
                seen.lock().unwrap().push(err.to_string());
            }
        },
        |_| {},
    );
    eventually("the first pass", async || folder.join("Kept.md").exists()).await;

    std::fs::remove_dir_all(&folder).unwrap();
    eventually("the error", async || !errors.lock().unwrap().is_empty()).await;
    assert!(
        errors.lock().unwrap()[0].starts_with("cannot use the vault folder"),
        "{errors:?}"
    );
    assert_eq!(
        store.list_notes().await.unwrap().len(),
        1,
        "nothing was deleted"
    );

    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("Back.md"), "the folder is back\n").unwrap();
    for _ in 0..150 {
        if store.list_notes().await.unwrap().len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        store.list_notes().await.unwrap().len(),
        2,
        "watched again: {:?}",
        errors.lock().unwrap()
    );
    // Written out after the new file was taken in, in the same pass.
    eventually("the kept note written again", async || {
        folder.join("Kept.md").exists()
    })
    .await;
}

#[tokio::test]
async fn every_file_gone_at_once_or_a_strange_folder_deletes_nothing() {
    let d = device().await;
    let folder = tempfile::tempdir().unwrap();
    for title in ["One", "Two", "Three"] {
        d.store
            .create_note(NoteFields::new(title, "text\n"))
            .await
            .unwrap();
    }
    sync_folder(&d.store, folder.path()).await.unwrap();
    assert!(
        folder.path().join(".quire-vault").exists(),
        "the folder is marked as ours"
    );

    // `rm *.md`: more likely a mistake than three deletes.
    for name in names(folder.path()) {
        std::fs::remove_file(folder.path().join(name)).unwrap();
    }
    let report = sync_folder(&d.store, folder.path()).await.unwrap();
    assert_eq!(report.deleted, 0);
    assert!(
        report.problems[0].reason.contains("no note was deleted"),
        "{report:?}"
    );
    assert_eq!(d.store.list_notes().await.unwrap().len(), 3);
    assert_eq!(names(folder.path()).len(), 3, "written again");

    // An old copy of the folder (no marker, older text): both kept, the person decides.
    let copy = tempfile::tempdir().unwrap();
    let one = std::fs::read_to_string(folder.path().join("One.md")).unwrap();
    std::fs::write(
        copy.path().join("One.md"),
        one.replace("text\n", "older text\n"),
    )
    .unwrap();
    let report = sync_folder(&d.store, copy.path()).await.unwrap();
    assert_eq!(
        (report.conflicts, report.deleted, report.updated),
        (1, 0, 0),
        "{report:?}"
    );
    assert_eq!(d.store.list_notes().await.unwrap().len(), 3);
}

/// A folder that was cleared from the settings is not Quire's any more: files removed from
/// it meanwhile delete no notes when the same folder is set again.
#[tokio::test]
async fn a_folder_set_again_after_being_cleared_deletes_nothing() {
    use quire_core::settings::SettingKey;
    let (d, folder, note) = note_in_folder("Kept", "still wanted\n").await;
    let dir = folder.path().to_str().unwrap();
    d.store
        .set_setting(SettingKey::VaultDir, dir)
        .await
        .unwrap();
    sync_folder(&d.store, folder.path()).await.unwrap();

    d.store.unset_setting(SettingKey::VaultDir).await.unwrap();
    assert_eq!(vault::vault_dir(&d.store).await.unwrap(), None);
    std::fs::remove_file(folder.path().join("Kept.md")).unwrap();

    d.store
        .set_setting(SettingKey::VaultDir, dir)
        .await
        .unwrap();
    let report = sync_folder(&d.store, folder.path()).await.unwrap();
    assert_eq!(report.deleted, 0, "{report:?}");
    assert!(!d.store.note(note.id).await.unwrap().deleted);
    assert!(
        read(folder.path(), "Kept.md").contains("still wanted"),
        "the note is written out again"
    );
}
