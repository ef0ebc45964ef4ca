//! Full-text search in the encrypted store (issue 21), on real stores and a real server: a
//! word in a body is found among 10,000 notes and ranked above a weaker match; what sync, a
//! vault pass and a conflict resolution change is found by its new words and not its old
//! ones; punctuation and operators are words, never errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{device, two_devices};
use quire_client::store::{NoteEdit, Resolution, INDEX_CHUNK};
use quire_client::vault::sync_folder;
use quire_core::NoteFields;

#[tokio::test]
async fn a_body_word_is_found_among_ten_thousand_notes_and_ranked_by_strength() {
    let d = device().await;
    let filler: Vec<NoteFields> = (0..10_000)
        .map(|i| NoteFields::new(format!("Note {i}"), format!("ordinary words number {i}\n")))
        .collect();
    d.store.create_notes(filler).await.unwrap();
    let weak = d
        .store
        .create_note(NoteFields::new(
            "Groceries",
            "buy bread, and maybe a pomegranate\n",
        ))
        .await
        .unwrap();
    let strong = d
        .store
        .create_note(NoteFields::new(
            "Pomegranate syrup",
            "pomegranate, sugar, lemon\n",
        ))
        .await
        .unwrap();
    let hits = d.store.search("pomegranate", 100).await.unwrap();
    let ids: Vec<_> = hits.iter().map(|h| h.id).collect();
    assert_eq!(ids, [strong.id, weak.id], "the title match ranks first");
    let marked: Vec<&str> = hits[1]
        .snippet
        .iter()
        .filter(|run| run.matched)
        .map(|run| run.text.as_str())
        .collect();
    assert_eq!(marked, ["pomegranate"]);
    // The half-typed last word, and diacritics folded both ways.
    assert_eq!(d.store.search("pomegr", 100).await.unwrap().len(), 2);
    d.store
        .create_note(NoteFields::new("Café list", "crème brûlée\n"))
        .await
        .unwrap();
    assert_eq!(d.store.search("creme brulee", 10).await.unwrap().len(), 1);
    assert_eq!(d.store.search("cafe", 10).await.unwrap().len(), 1);
    // Deleted notes are not found.
    d.store.delete_note(weak.id).await.unwrap();
    assert_eq!(d.store.search("pomegranate", 10).await.unwrap().len(), 1);
    // Restored from the trash: found again.
    d.store.restore_note(weak.id).await.unwrap();
    assert_eq!(d.store.search("pomegranate", 10).await.unwrap().len(), 2);
    assert_index_agrees(&d.store).await;
}

#[tokio::test]
async fn punctuation_and_operators_are_words_never_errors() {
    let d = device().await;
    d.store
        .create_note(NoteFields::new(
            "Budget",
            "tax AND rent (not food) \"quoted\" title:x\n",
        ))
        .await
        .unwrap();
    for typed in [
        "\"",
        "\"tax",
        "tax AND",
        "NOT",
        "(rent",
        "title:x",
        "*",
        "x*",
        "NEAR(tax rent)",
        "-rent",
        "^tax",
        "tax OR",
        "'",
        "{}",
        "rent)",
        "\"quoted\"",
        "",
        "   ",
        "🙂",
    ] {
        let result = d.store.search(typed, 10).await;
        assert!(result.is_ok(), "{typed:?}: {result:?}");
    }
    assert_eq!(d.store.search("tax AND rent", 10).await.unwrap().len(), 1);
    assert_eq!(d.store.search("(not food)", 10).await.unwrap().len(), 1);
    assert_eq!(d.store.search("\"quoted\"", 10).await.unwrap().len(), 1);
    assert!(
        d.store
            .search("tax OR missing", 10)
            .await
            .unwrap()
            .is_empty(),
        "every word must match"
    );
}

#[tokio::test]
async fn changes_by_sync_and_by_a_conflict_resolution_are_found_by_their_new_words() {
    let (_server, a, b) = two_devices().await;
    let note = a
        .store
        .create_note(NoteFields::new("Trip", "we fly to lisbon\n"))
        .await
        .unwrap();
    a.sync().await;
    b.sync().await;
    assert_eq!(b.store.search("lisbon", 10).await.unwrap().len(), 1);
    a.store
        .update_note(note.id, NoteEdit::body("we fly to porto\n"))
        .await
        .unwrap();
    a.sync().await;
    b.sync().await;
    assert!(
        b.store.search("lisbon", 10).await.unwrap().is_empty(),
        "old words go"
    );
    assert_eq!(b.store.search("porto", 10).await.unwrap().len(), 1);

    // A conflict, resolved with a text of the person's own.
    a.store
        .update_note(note.id, NoteEdit::body("we fly to madrid\n"))
        .await
        .unwrap();
    a.sync().await;
    b.store
        .update_note(note.id, NoteEdit::body("we fly to seville\n"))
        .await
        .unwrap();
    assert_eq!(b.sync().await.conflicts, 1);
    b.store
        .resolve_conflict(
            note.id,
            Resolution::Text("we take the train to valencia\n".into()),
        )
        .await
        .unwrap();
    for old in ["madrid", "seville", "porto"] {
        assert!(b.store.search(old, 10).await.unwrap().is_empty(), "{old}");
    }
    assert_eq!(b.store.search("valencia", 10).await.unwrap().len(), 1);
    assert_index_agrees(&a.store).await;
    assert_index_agrees(&b.store).await;
}

#[tokio::test]
async fn a_damaged_index_is_rebuilt_and_the_search_still_answers() {
    let d = device().await;
    d.store
        .create_note(NoteFields::new("Kept", "findable words\n"))
        .await
        .unwrap();
    // Damage the index's own tables (not the notes): its data rows go.
    sqlx::query("DELETE FROM notes_search_data WHERE id > 1")
        .execute(d.store.raw_pool())
        .await
        .unwrap();
    // Read directly, the damaged index fails (or finds nothing).
    let direct: Result<Vec<i64>, _> = sqlx::query_scalar(
        "SELECT rowid FROM notes_search WHERE notes_search MATCH '\"findable\"'",
    )
    .fetch_all(d.store.raw_pool())
    .await;
    assert!(direct.as_ref().map_or(true, Vec::is_empty), "{direct:?}");
    let hits = d.store.search("findable", 10).await.unwrap();
    assert_eq!(hits.len(), 1);
}

#[tokio::test]
async fn pulled_notes_are_found_before_and_after_they_are_indexed() {
    let (server, a, b) = two_devices().await;
    let note = a
        .store
        .create_note(NoteFields::new("Recipe", "saffron and rice\n"))
        .await
        .unwrap();
    let other = a
        .store
        .create_note(NoteFields::new("Errand", "post the parcel\n"))
        .await
        .unwrap();
    a.sync().await;
    b.sync().await;
    // New to b, so its pull left them for indexing after the round: a change pulled
    // before any search replaces the text of a row the index never held.
    a.store
        .update_note(note.id, NoteEdit::body("paprika and rice\n"))
        .await
        .unwrap();
    a.sync().await;
    b.sync().await;
    assert!(b.store.search("saffron", 10).await.unwrap().is_empty());
    let hits = b.store.search("paprika", 10).await.unwrap();
    assert_eq!(hits.iter().map(|h| h.id).collect::<Vec<_>>(), [note.id]);
    assert_eq!(b.store.search("parcel", 10).await.unwrap()[0].id, other.id);
    assert_eq!(b.store.index_pending(INDEX_CHUNK).await.unwrap(), 0);

    // Indexed in chunks after a round: everything, once.
    let c = device().await;
    c.login(&server, "owner").await;
    c.sync().await;
    assert_eq!(c.store.index_pending(1).await.unwrap(), 1);
    assert_eq!(c.store.index_pending(INDEX_CHUNK).await.unwrap(), 1);
    assert_eq!(c.store.index_pending(INDEX_CHUNK).await.unwrap(), 0);
    assert_eq!(c.store.search("paprika parcel", 10).await.unwrap().len(), 0);
    assert_eq!(c.store.search("rice", 10).await.unwrap().len(), 1);

    // Deleted on a, and the delete pulled by b (indexed) and by a fresh device d (the
    // pull brings it in the trash: never indexed).
    a.store.delete_note(other.id).await.unwrap();
    a.sync().await;
    b.sync().await;
    let d = device().await;
    d.login(&server, "owner").await;
    d.sync().await;
    for store in [&a.store, &b.store, &c.store, &d.store] {
        assert_index_agrees(store).await;
    }
    assert!(b.store.search("parcel", 10).await.unwrap().is_empty());
    assert!(d.store.search("parcel", 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_vault_pass_is_found_by_its_new_words() {
    let d = device().await;
    let folder = tempfile::tempdir().unwrap();
    d.store
        .create_note(NoteFields::new("Plan", "walk the dog\n"))
        .await
        .unwrap();
    sync_folder(&d.store, folder.path()).await.unwrap();
    std::fs::write(folder.path().join("Plan.md"), "feed the cat\n").unwrap();
    std::fs::write(folder.path().join("Ideas.md"), "a kite festival\n").unwrap();
    let report = sync_folder(&d.store, folder.path()).await.unwrap();
    assert_eq!((report.created, report.updated), (1, 1), "{report:?}");
    assert!(d.store.search("dog", 10).await.unwrap().is_empty());
    assert_eq!(d.store.search("cat", 10).await.unwrap()[0].title, "Plan");
    assert_eq!(d.store.search("kite", 10).await.unwrap()[0].title, "Ideas");
    assert_index_agrees(&d.store).await;
}

/// The index says exactly what the notes do: FTS5's own check passes, and every word of
/// every note (live or not) finds exactly the live notes that hold it.
async fn assert_index_agrees(store: &quire_client::Store) {
    while store.index_pending(INDEX_CHUNK).await.unwrap() > 0 {}
    let pool = store.raw_pool();
    sqlx::query("INSERT INTO notes_search (notes_search) VALUES ('integrity-check')")
        .execute(pool)
        .await
        .unwrap();
    let notes: Vec<(i64, String, String, bool)> =
        sqlx::query_as("SELECT rowid, title, body, deleted = 0 AND purged = 0 FROM notes")
            .fetch_all(pool)
            .await
            .unwrap();
    // Each word, and the live notes that hold it.
    let mut holders: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
    for (rowid, title, body, live) in &notes {
        let words: std::collections::BTreeSet<String> = format!("{title} {body}")
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        for word in words {
            let entry = holders.entry(word).or_default();
            if *live {
                entry.push(*rowid);
            }
        }
    }
    for (word, mut expected) in holders {
        let mut found: Vec<i64> =
            sqlx::query_scalar("SELECT rowid FROM notes_search WHERE notes_search MATCH ?")
                .bind(format!("\"{word}\""))
                .fetch_all(pool)
                .await
                .unwrap();
        found.sort_unstable();
        expected.sort_unstable();
        assert_eq!(found, expected, "{word:?}");
    }
}

#[tokio::test]
async fn the_bundled_sqlcipher_has_fts5() {
    let d = device().await;
    let fts5: i64 = sqlx::query_scalar("SELECT sqlite_compileoption_used('ENABLE_FTS5')")
        .fetch_one(d.store.raw_pool())
        .await
        .unwrap();
    let cipher: Option<String> = sqlx::query_scalar("PRAGMA cipher_version")
        .fetch_optional(d.store.raw_pool())
        .await
        .unwrap();
    assert_eq!(fts5, 1, "the store's SQLite was built without FTS5");
    assert!(cipher.is_some(), "the store is not SQLCipher");
}

#[tokio::test]
async fn a_store_made_before_search_is_indexed_when_it_is_opened() {
    let d = device().await;
    let live = d
        .store
        .create_note(NoteFields::new("Older", "written before search came\n"))
        .await
        .unwrap();
    let gone = d
        .store
        .create_note(NoteFields::new("Trashed", "written and deleted\n"))
        .await
        .unwrap();
    d.store.delete_note(gone.id).await.unwrap();
    // Back to the store as the version before search left it.
    for undo in [
        "DROP TRIGGER notes_search_on_insert",
        "DROP TRIGGER notes_search_on_delete",
        "DROP TRIGGER notes_search_on_update",
        "DROP TABLE notes_search",
        "DROP INDEX notes_unindexed",
        "ALTER TABLE notes DROP COLUMN search_indexed",
        "DELETE FROM _sqlx_migrations WHERE version = 20261203000000",
    ] {
        sqlx::query(undo).execute(d.store.raw_pool()).await.unwrap();
    }
    d.store.raw_pool().close().await;
    let reopened = quire_client::Store::open(d.dir.path(), &d.secrets)
        .await
        .unwrap();
    let hits = reopened.search("written", 10).await.unwrap();
    assert_eq!(hits.iter().map(|h| h.id).collect::<Vec<_>>(), [live.id]);
    assert_index_agrees(&reopened).await;
}

#[tokio::test]
async fn a_snippet_of_a_long_note_is_read_from_its_start_only() {
    let d = device().await;
    let long = format!("{}the needle is here\n", "hay stack words ".repeat(200_000));
    let note = d
        .store
        .create_note(NoteFields::new("Haystack", long))
        .await
        .unwrap();
    let hits = d.store.search("needle", 10).await.unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].id, note.id);
    // Found by the index, but the match lies beyond what a snippet reads: the start.
    let shown: String = hits[0].snippet.iter().map(|r| r.text.as_str()).collect();
    assert!(shown.starts_with("hay stack words"), "{shown}");
    assert!(hits[0].snippet.iter().all(|r| !r.matched));
}
