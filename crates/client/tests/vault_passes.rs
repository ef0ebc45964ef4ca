//! What a vault pass costs and what it may skip: a pass reads only the files that may have
//! changed, takes many new files in together, never writes a note over a file edited
//! outside that it did not look at, and picks up after a pass that stopped halfway.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::device;
use quire_client::store::NoteEdit;
use quire_client::vault::{self, sync_folder, Scope, VaultProgress, VaultReport};
use quire_core::NoteFields;

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

/// A folder of `count` Markdown files another program made (no front matter), written a
/// moment ago (their stamps settled).
async fn folder_of(count: usize) -> tempfile::TempDir {
    let folder = tempfile::tempdir().unwrap();
    for i in 0..count {
        std::fs::write(
            folder.path().join(format!("Note {i:04}.md")),
            format!("# Note {i}\n\nwords of note {i}\n"),
        )
        .unwrap();
    }
    let_stamps_settle().await;
    folder
}

/// Waits past the clock tick of the last writes, so their stamps can settle.
async fn let_stamps_settle() {
    tokio::time::sleep(Duration::from_millis(100)).await;
}

fn names(list: &[&str]) -> Scope {
    Scope::Names(list.iter().map(|n| (*n).to_owned()).collect())
}

#[tokio::test]
async fn a_folder_is_taken_in_whole_and_then_only_changed_files_are_read() {
    let d = device().await;
    let folder = folder_of(300).await;
    let first = sync_folder(&d.store, folder.path()).await.unwrap();
    assert_eq!(first.created, 300);
    assert_eq!(first.written, 0, "the person's files are left as they were");
    assert_eq!(first.files_read, 300);
    assert!(first.problems.is_empty(), "{:?}", first.problems);
    assert_eq!(d.store.list_notes().await.unwrap().len(), 300);
    assert_eq!(
        read(folder.path(), "Note 0042.md"),
        "# Note 42\n\nwords of note 42\n"
    );

    let idle = sync_folder(&d.store, folder.path()).await.unwrap();
    assert_eq!(
        idle,
        VaultReport::default(),
        "nothing read, nothing written"
    );

    let text = read(folder.path(), "Note 0042.md");
    std::fs::write(
        folder.path().join("Note 0042.md"),
        text.replace("words of note 42", "words of note 42, edited"),
    )
    .unwrap();
    let full = sync_folder(&d.store, folder.path()).await.unwrap();
    assert_eq!(full.updated, 1);
    assert_eq!(
        full.files_read, 1,
        "a full pass reads only the changed file"
    );

    // The file edited above was read within its write's clock tick: read again once.
    let_stamps_settle().await;
    assert_eq!(
        sync_folder(&d.store, folder.path()).await.unwrap(),
        VaultReport {
            files_read: 1,
            ..VaultReport::default()
        }
    );
    let text = read(folder.path(), "Note 0007.md");
    std::fs::write(folder.path().join("Note 0007.md"), text + "more\n").unwrap();
    let scoped = vault::pass(&d.store, folder.path(), &names(&["Note 0007.md"]), &|_| {})
        .await
        .unwrap();
    assert_eq!(scoped.updated, 1);
    assert_eq!(scoped.files_read, 1);
    let note = d
        .store
        .list_notes()
        .await
        .unwrap()
        .into_iter()
        .find(|n| n.title == "Note 0007")
        .unwrap();
    assert!(d
        .store
        .note(note.id)
        .await
        .unwrap()
        .body
        .ends_with("more\n"));
}

#[tokio::test]
async fn a_touched_or_copied_back_file_is_read_but_changes_nothing() {
    let d = device().await;
    let folder = folder_of(3).await;
    sync_folder(&d.store, folder.path()).await.unwrap();
    let pending = d.store.pending_count().await.unwrap();

    // The same bytes written again: a new stamp, the same hash.
    let path = folder.path().join("Note 0001.md");
    let text = read(folder.path(), "Note 0001.md");
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, &text).unwrap();
    let report = sync_folder(&d.store, folder.path()).await.unwrap();
    assert_eq!(
        report,
        VaultReport {
            files_read: 1,
            ..VaultReport::default()
        }
    );
    assert_eq!(d.store.pending_count().await.unwrap(), pending, "no op");
}

#[tokio::test]
async fn a_note_changed_in_the_app_never_overwrites_an_outside_edit_the_pass_was_not_told_of() {
    let d = device().await;
    let folder = folder_of(1).await;
    sync_folder(&d.store, folder.path()).await.unwrap();
    let_stamps_settle().await;
    sync_folder(&d.store, folder.path()).await.unwrap();
    let note = d.store.list_notes().await.unwrap().remove(0);

    // Edited in another editor (the watcher's event lost), and in the app.
    let text = read(folder.path(), "Note 0000.md");
    std::fs::write(
        folder.path().join("Note 0000.md"),
        text.replace("# Note 0", "# Note 0, retitled outside"),
    )
    .unwrap();
    let here = d.store.note(note.id).await.unwrap().body + "added in the app\n";
    d.store
        .update_note(note.id, NoteEdit::body(here))
        .await
        .unwrap();
    // A pass for the store's changes only (as after a nudge).
    let report = vault::pass(&d.store, folder.path(), &Scope::store_changes(), &|_| {})
        .await
        .unwrap();
    assert_eq!(report.merged, 1, "{report:?}");
    let body = d.store.note(note.id).await.unwrap().body;
    assert!(body.contains("retitled outside") && body.ends_with("added in the app\n"));
    let file = read(folder.path(), "Note 0000.md");
    assert!(file.contains("retitled outside") && file.ends_with("added in the app\n"));
}

#[tokio::test]
async fn one_bad_file_among_many_new_ones_holds_up_nothing() {
    let d = device().await;
    let folder = folder_of(20).await;
    // A title longer than a note may have, from a front matter with an id no note has.
    let long = "x".repeat(2_000);
    std::fs::write(
        folder.path().join(format!("{}.md", "x".repeat(120))),
        format!(
            "---\nquire-id: 0190f0f0-0000-7000-8000-000000000001\ntitle: \"{long}\"\n---\nbody\n"
        ),
    )
    .unwrap();
    let report = sync_folder(&d.store, folder.path()).await.unwrap();
    assert_eq!(report.created, 20);
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert!(report.problems[0].reason.contains("title"), "{report:?}");
    assert_eq!(d.store.list_notes().await.unwrap().len(), 20);
    let again = sync_folder(&d.store, folder.path()).await.unwrap();
    assert_eq!(again.created, 0, "nothing is taken in twice");
    assert_eq!(again.problems.len(), 1, "the bad file is told about again");
}

#[tokio::test]
async fn a_short_pass_tells_no_progress_and_many_notes_go_out_in_batches() {
    let d = device().await;
    let folder = folder_of(3).await;
    let heard = std::sync::Mutex::new(Vec::<VaultProgress>::new());
    let listen = |p: VaultProgress| heard.lock().unwrap().push(p);
    vault::pass(&d.store, folder.path(), &Scope::Everything, &listen)
        .await
        .unwrap();
    assert_eq!(
        *heard.lock().unwrap(),
        [],
        "over before a person would look"
    );
    let_stamps_settle().await;
    sync_folder(&d.store, folder.path()).await.unwrap();

    // Many notes from sync since: written out (in batches of a few hundred).
    let many: Vec<NoteFields> = (0..1_200)
        .map(|i| NoteFields::new(format!("Pulled {i}"), "text\n"))
        .collect();
    d.store.create_notes(many).await.unwrap();
    let report = vault::pass(&d.store, folder.path(), &Scope::store_changes(), &listen)
        .await
        .unwrap();
    assert_eq!(report.written, 1_200);
    assert_eq!(report.files_read, 0, "notes going out read no file");
    assert!(read(folder.path(), "Pulled 1199.md").ends_with("text\n"));
    let again = vault::pass(&d.store, folder.path(), &Scope::store_changes(), &listen)
        .await
        .unwrap();
    assert_eq!(
        again,
        VaultReport {
            files_read: 1_200,
            ..VaultReport::default()
        },
        "written once; read once more, as they were just written"
    );
}

#[tokio::test]
async fn a_file_taken_in_as_it_was_keeps_its_note_when_renamed() {
    let d = device().await;
    let folder = folder_of(2).await;
    sync_folder(&d.store, folder.path()).await.unwrap();
    let before = d.store.list_notes().await.unwrap();
    let note = before.iter().find(|n| n.title == "Note 0001").unwrap().id;

    std::fs::rename(
        folder.path().join("Note 0001.md"),
        folder.path().join("Shopping.md"),
    )
    .unwrap();
    let report = sync_folder(&d.store, folder.path()).await.unwrap();
    assert_eq!(
        (report.created, report.updated, report.deleted),
        (0, 1, 0),
        "{report:?}"
    );
    let renamed = d.store.note(note).await.unwrap();
    assert_eq!(renamed.title, "Shopping");
    assert!(!renamed.deleted);
    assert_eq!(d.store.list_notes().await.unwrap().len(), 2);

    // Edited in the app: written out with its id from now on, under the same name.
    d.store
        .update_note(note, NoteEdit::body("milk\n"))
        .await
        .unwrap();
    sync_folder(&d.store, folder.path()).await.unwrap();
    let text = read(folder.path(), "Shopping.md");
    assert!(
        text.starts_with(&format!("---\nquire-id: {note}\n")) && text.ends_with("milk\n"),
        "{text}"
    );
}

#[tokio::test]
async fn a_copy_of_a_notes_file_is_a_note_of_its_own_however_often_it_is_saved() {
    let d = device().await;
    let folder = tempfile::tempdir().unwrap();
    let plan = d
        .store
        .create_note(NoteFields::new("Plan", "the original\n"))
        .await
        .unwrap();
    sync_folder(&d.store, folder.path()).await.unwrap();
    let original = read(folder.path(), "Plan.md");
    assert!(original.contains(&format!("quire-id: {}", plan.id)));

    // Duplicated in a file manager (it sorts before the original), then saved three times.
    let copy = folder.path().join("Plan - copy.md");
    std::fs::write(&copy, &original).unwrap();
    sync_folder(&d.store, folder.path()).await.unwrap();
    for n in 1..=3 {
        std::fs::write(&copy, format!("{original}edit {n} of the copy\n")).unwrap();
        let report = sync_folder(&d.store, folder.path()).await.unwrap();
        assert_eq!(
            (report.created, report.updated),
            (0, 1),
            "save {n}: {report:?}"
        );
    }
    let notes = d.store.list_notes().await.unwrap();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert_eq!(d.store.note(plan.id).await.unwrap().body, "the original\n");
    assert_eq!(
        read(folder.path(), "Plan.md"),
        original,
        "the original file untouched"
    );
}

#[tokio::test]
async fn a_lost_marker_doubles_nothing() {
    let d = device().await;
    let folder = folder_of(5).await;
    sync_folder(&d.store, folder.path()).await.unwrap();
    d.store
        .create_note(NoteFields::new("Made in the app", "here\n"))
        .await
        .unwrap();
    sync_folder(&d.store, folder.path()).await.unwrap();
    let before = d.store.list_notes().await.unwrap().len();
    let files_before = std::fs::read_dir(folder.path()).unwrap().count();

    // A copy tool that skips dot files, or a person tidying up.
    std::fs::remove_file(folder.path().join(".quire-vault")).unwrap();
    let report = sync_folder(&d.store, folder.path()).await.unwrap();
    assert_eq!(report.created, 0, "{report:?}");
    assert_eq!(d.store.list_notes().await.unwrap().len(), before);
    assert_eq!(
        std::fs::read_dir(folder.path()).unwrap().count(),
        files_before,
        "no file written twice"
    );
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn names_differing_only_in_case_are_two_files() {
    let d = device().await;
    let folder = folder_of(0).await;
    std::fs::write(folder.path().join("Plan.md"), "mine\n").unwrap();
    sync_folder(&d.store, folder.path()).await.unwrap();
    let_stamps_settle().await;
    std::fs::write(folder.path().join("PLAN.md"), "someone else's\n").unwrap();
    let report = sync_folder(&d.store, folder.path()).await.unwrap();
    assert_eq!((report.created, report.updated), (1, 0), "{report:?}");
    let bodies: std::collections::HashSet<String> = {
        let mut bodies = std::collections::HashSet::new();
        for summary in d.store.list_notes().await.unwrap() {
            bodies.insert(d.store.note(summary.id).await.unwrap().body);
        }
        bodies
    };
    assert_eq!(
        bodies,
        ["mine\n".to_owned(), "someone else's\n".to_owned()].into()
    );
    assert_eq!(read(folder.path(), "Plan.md"), "mine\n");
}

#[tokio::test]
async fn a_watched_folder_at_rest_sets_off_no_passes() {
    let common::Device {
        dir: _dir,
        store,
        secrets: _secrets,
    } = device().await;
    let store = std::sync::Arc::new(store);
    let folder = folder_of(20).await;
    let passes = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = std::sync::Arc::clone(&passes);
    let (_watcher, _task) = vault::watch::spawn(
        std::sync::Arc::clone(&store),
        folder.path().to_path_buf(),
        move |_| {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        },
        |_| {},
    );
    // The first pass, and the one its own reads and writes may set off, settle down...
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let settled = passes.load(std::sync::atomic::Ordering::SeqCst);
    assert!(settled >= 1, "the first pass ran");
    // ...and then nothing runs: a pass opening files is not a change.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(
        passes.load(std::sync::atomic::Ordering::SeqCst),
        settled,
        "no pass while nothing changes"
    );
}
